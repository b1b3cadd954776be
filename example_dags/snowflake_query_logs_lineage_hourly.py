"""Hourly Snowflake query logs and lineage from ACCOUNT_USAGE, pushed and confirmed.

Each run reads exactly its data interval, shifted back by the view's latency, so consecutive runs
leave no gap and no overlap, and a backfill (``airflow dags backfill``) re-reads its own hours:

- query logs: ``QUERY_HISTORY``, queries that *ended* in the window, lag 45 minutes;
- lineage: ``ACCESS_HISTORY`` (Enterprise edition), lag 3 hours; on Standard edition
  ``source="auto"`` falls back to parsing ``QUERY_HISTORY`` SQL.

The role needs ``IMPORTED PRIVILEGES`` on the SNOWFLAKE database. See docs/snowflake.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.snowflake import (
    SnowflakeLineageCollectorOperator,
    SnowflakeQueryLogCollectorOperator,
)
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

with DAG(
    dag_id="snowflake_query_logs_lineage_hourly",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=True,  # each hour is collected once, even after downtime
    max_active_runs=2,
    tags=["monte-carlo", "snowflake", "example"],
) as dag:
    query_logs = SnowflakeQueryLogCollectorOperator(task_id="collect_query_logs", lag=timedelta(minutes=45))
    lineage = SnowflakeLineageCollectorOperator(task_id="collect_lineage", source="auto", lag=timedelta(hours=3))

    push = MonteCarloPushOperator(task_id="push", manifests=[query_logs.output, lineage.output])

    MonteCarloPushedDataSensor(
        task_id="confirm",
        push_result=push.output,
        # Confirmed by this push's invocation_ids (pushEvents); naming a table the queries touch
        # also checks getAggregatedQueries for it. A quiet hour (no queries) passes at once.
        query_tables=["ANALYTICS:PUBLIC.ORDERS"],
        # Default timeout for query logs: 75 min (they take 15-20 minutes, up to an hour).
    )
