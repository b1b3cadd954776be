"""Hourly Snowflake freshness and volume, one mapped task per database, pushed and confirmed.

Freshness and volume detectors train on hourly buckets: this DAG sends row counts, bytes and
last-altered times every hour without columns or view text (``only_freshness_and_volume``), which
keeps the hourly push small. ``snowflake_metadata_daily`` sends the full schema once a day.

Connections: ``snowflake_default`` (SnowflakeHook) and ``monte_carlo_default``. See docs/snowflake.md.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.snowflake import SnowflakeMetadataCollectorOperator
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

DATABASES = ["ANALYTICS", "RAW"]

with DAG(
    dag_id="snowflake_metadata_hourly",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["monte-carlo", "snowflake", "example"],
) as dag:
    # One mapped task per database: a failure or a slow database only retries its own task.
    collect = SnowflakeMetadataCollectorOperator.partial(
        task_id="collect_freshness_volume",
        only_freshness_and_volume=True,
        exclude_schemas=["INFORMATION_SCHEMA", "re:.*_SCRATCH"],
    ).expand(database=DATABASES)

    # The push operator takes the mapped tasks' list of manifests as it is.
    push = MonteCarloPushOperator(task_id="push_freshness_volume", manifests=collect.output)

    MonteCarloPushedDataSensor(task_id="confirm_freshness_volume", push_result=push.output, kinds=["metadata"])
