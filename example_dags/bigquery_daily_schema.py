"""Daily BigQuery -> Monte Carlo: the full schema, one mapped collector task per dataset.

Columns (nested STRUCT/ARRAY fields flattened to their paths), descriptions and view SQL; the
hourly ``bigquery_hourly`` DAG keeps freshness and volume current in between. Needs
``roles/bigquery.metadataViewer`` on the ``google_cloud_default`` connection's principal.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.bigquery import BigQueryMetadataCollectorOperator
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator

DATASETS = ["analytics", "staging", "marts"]

with DAG(
    dag_id="bigquery_daily_schema",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["monte_carlo", "bigquery", "example"],
    doc_md=__doc__,
):
    schema = BigQueryMetadataCollectorOperator.partial(task_id="schema").expand(dataset=DATASETS)
    MonteCarloPushOperator(task_id="push", manifests=schema.output)
