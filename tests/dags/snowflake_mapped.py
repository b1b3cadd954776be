"""One mapped Snowflake metadata collector per database, all manifests pushed by one task.

Run by tests/operators/test_snowflake.py with ``dag.test()`` against the fakesnow stand-in
(``snowflake_default``) and the sandbox (``monte_carlo_default``).
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.snowflake import SnowflakeMetadataCollectorOperator

with DAG(
    dag_id="snowflake_mapped",
    schedule="@daily",
    start_date=datetime(2026, 11, 1, tzinfo=timezone.utc),
    catchup=False,
) as dag:
    collect = SnowflakeMetadataCollectorOperator.partial(task_id="collect_metadata").expand(
        database=["ANALYTICS", "Mixed_Ünïcode", "EMPTY_DB"]
    )
    MonteCarloPushOperator(task_id="push_metadata", manifests=collect.output, min_push_interval=None)
