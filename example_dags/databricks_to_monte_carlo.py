"""Databricks (Unity Catalog) → Monte Carlo.

Two DAGs, the cadence Monte Carlo's detectors want (docs/databricks.md):

- ``databricks_monte_carlo_hourly``: freshness from ``information_schema`` (no per-table
  statements), lineage and query logs for the hour that ended one hour ago (system-table lag);
- ``databricks_monte_carlo_daily``: full schema (columns, view text, descriptions) with bytes and
  last data-commit times from ``DESCRIBE DETAIL``, one mapped task per catalog.

Connections: ``databricks_default`` (a SQL warehouse: host, token, ``http_path`` extra) and
``monte_carlo_default``. Both flows push metadata for the same resource: give the daily push a
different ``flow`` so the hourly interval guard does not skip it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG
from airflow.timetables.interval import CronDataIntervalTimetable

from monte_carlo_push_provider.operators.databricks import (
    DatabricksLineageCollectorOperator,
    DatabricksMetadataCollectorOperator,
    DatabricksQueryLogCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

CATALOGS = ["main", "analytics"]  # or None in the operators for every catalog the token sees

with DAG(
    dag_id="databricks_monte_carlo_hourly",
    # data-interval runs: the collectors read [interval start - lag, interval end - lag)
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["monte_carlo", "databricks"],
) as hourly:
    freshness = DatabricksMetadataCollectorOperator(
        task_id="freshness",
        catalogs=CATALOGS,
        volume_source="information_schema",
        only_freshness_and_volume=True,
    )
    lineage = DatabricksLineageCollectorOperator(task_id="lineage", catalogs=CATALOGS, lag=timedelta(hours=1))
    query_logs = DatabricksQueryLogCollectorOperator(
        task_id="query_logs", log_type="databricks", lag=timedelta(hours=1)
    )
    push = MonteCarloPushOperator(
        task_id="push",
        manifests=[freshness.output, lineage.output, query_logs.output],
        output_path="{{ var.value.get('mc_push_results', '/tmp') }}/databricks/{{ run_id }}.json",
    )
    # Confirms this push by its invocation_ids (deferrable: waits in the triggerer, no worker
    # slot); the default timeout is the slowest flow's (query logs: 75 min).
    MonteCarloPushedDataSensor(task_id="confirm_arrival", push_result=push.output)

with DAG(
    dag_id="databricks_monte_carlo_daily",
    schedule=CronDataIntervalTimetable("30 2 * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["monte_carlo", "databricks"],
) as daily:
    metadata = DatabricksMetadataCollectorOperator.partial(
        task_id="metadata",
        volume_source="describe_detail",  # one statement per Delta table: fine once a day
        describe_detail_max_tables=5_000,
    ).expand(catalogs=CATALOGS)
    MonteCarloPushOperator(task_id="push", manifests=metadata.output, flow="metadata-daily")
