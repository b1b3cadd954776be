"""Databricks → Monte Carlo, hourly: metadata mapped per catalog, lineage and query logs for the
run's data interval, one push. Run by tests/operators/test_databricks.py with ``dag.test()``
against the brickhouse stand-in (connections come from ``AIRFLOW_CONN_*`` env vars).

A data-interval timetable (not the default cron *trigger* timetable, whose runs have an empty
interval) so the collectors read [interval start - lag, interval end - lag).
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG
from airflow.timetables.interval import CronDataIntervalTimetable

from monte_carlo_push_provider.operators.databricks import (
    DatabricksLineageCollectorOperator,
    DatabricksMetadataCollectorOperator,
    DatabricksQueryLogCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator

with DAG(
    dag_id="databricks_push",
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["monte_carlo", "databricks", "test"],
) as dag:
    metadata = DatabricksMetadataCollectorOperator.partial(
        task_id="metadata", databricks_conn_id="databricks_default", only_freshness_and_volume=True
    ).expand(catalogs=["sales", "ops", "empty_cat"])
    lineage = DatabricksLineageCollectorOperator(task_id="lineage", databricks_conn_id="databricks_default")
    query_logs = DatabricksQueryLogCollectorOperator(task_id="query_logs", databricks_conn_id="databricks_default")
    MonteCarloPushOperator(
        task_id="push", manifests=[metadata.output, lineage.output, query_logs.output], min_push_interval=None
    )
