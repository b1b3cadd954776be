"""Daily full Snowflake schema (columns, view text, comments, volume, freshness), pushed and confirmed.

Pairs with ``snowflake_metadata_hourly``. Two ways to read the catalog:

- per database (default): one query on ``<db>.INFORMATION_SCHEMA.TABLES`` and one on ``COLUMNS``;
  current to the second;
- ``account_usage=True``: one query each on ``SNOWFLAKE.ACCOUNT_USAGE.TABLES`` / ``COLUMNS`` for
  every database at once; cheaper with hundreds of databases, but those views lag up to 90 minutes.

Connections: ``snowflake_default`` and ``monte_carlo_default``. See docs/snowflake.md.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.snowflake import SnowflakeMetadataCollectorOperator
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

with DAG(
    dag_id="snowflake_metadata_daily",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["monte-carlo", "snowflake", "example"],
) as dag:
    collect = SnowflakeMetadataCollectorOperator(
        task_id="collect_full_schema",
        databases=["ANALYTICS*", "RAW"],  # include patterns; SNOWFLAKE itself is never collected
        exclude_databases=["*_DEV"],
    )

    push = MonteCarloPushOperator(
        task_id="push_full_schema",
        manifests=collect.output,
        # its own flow for the once-an-hour guard, so it is not skipped in the hour the hourly
        # freshness/volume DAG has already pushed
        flow="snowflake_full_schema",
    )

    MonteCarloPushedDataSensor(task_id="confirm_full_schema", push_result=push.output, kinds=["metadata"])
