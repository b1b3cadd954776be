"""Hourly BigQuery -> Monte Carlo: freshness and volume (``__TABLES__``), BigLake/Iceberg storage
(``TABLE_STORAGE``), query logs and lineage of the last hour's jobs.

Connections used:
- ``google_cloud_default``: a Google Cloud connection whose principal has
  ``roles/bigquery.metadataViewer`` (catalog) and ``roles/bigquery.resourceViewer`` (every user's
  jobs); ``project`` in the extras is the project read;
- ``monte_carlo_default``: the Monte Carlo connection (``resource_uuid`` of the BigQuery warehouse
  in the extras).

The full schema (columns, descriptions, view SQL) is pushed daily by ``bigquery_daily_schema``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.bigquery import (
    BigQueryIcebergCollectorOperator,
    BigQueryLineageCollectorOperator,
    BigQueryMetadataCollectorOperator,
    BigQueryQueryLogCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

with DAG(
    dag_id="bigquery_hourly",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["monte_carlo", "bigquery", "example"],
    doc_md=__doc__,
):
    volume = BigQueryMetadataCollectorOperator(
        task_id="freshness_and_volume", exclude_datasets=["tmp_*", "re:^_.*"], only_freshness_and_volume=True,
    )
    iceberg = BigQueryIcebergCollectorOperator(task_id="iceberg", region="us", datasets=["lakehouse"])
    query_logs = BigQueryQueryLogCollectorOperator(task_id="query_logs", region="us")
    lineage = BigQueryLineageCollectorOperator(task_id="lineage", region="us")
    push = MonteCarloPushOperator(
        task_id="push", manifests=[volume.output, iceberg.output, query_logs.output, lineage.output],
    )
    # Confirms this push by its invocation_ids (deferrable: waits in the triggerer, no worker
    # slot); the default timeout is the slowest flow's (query logs: 75 min).
    MonteCarloPushedDataSensor(task_id="confirm_arrival", push_result=push.output)
