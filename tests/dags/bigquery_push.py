"""BigQuery -> Monte Carlo, run by tests/operators/test_bigquery.py with ``dag.test()``.

Connections come from ``AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT`` (bqemulator, via
``BIGQUERY_EMULATOR_HOST``) and ``AIRFLOW_CONN_MONTE_CARLO_DEFAULT`` (the sandbox), set by the
test. The emulator lacks region-us JOBS_BY_PROJECT and TABLE_STORAGE, so those collectors read
the stand-in tables in ``mc_standins`` through their ``*_table`` overrides.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.bigquery import (
    BigQueryIcebergCollectorOperator,
    BigQueryLineageCollectorOperator,
    BigQueryMetadataCollectorOperator,
    BigQueryQueryLogCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator

JOBS = "{project}.mc_standins.JOBS_BY_PROJECT"

with DAG(
    dag_id="bigquery_push_test",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
):
    metadata = BigQueryMetadataCollectorOperator(task_id="metadata", datasets=["sales"])
    iceberg = BigQueryIcebergCollectorOperator(
        task_id="iceberg", region="us", datasets=["lake"], tables=["ice_*"],
        table_storage_table="{project}.mc_standins.TABLE_STORAGE",
    )
    query_logs = BigQueryQueryLogCollectorOperator(task_id="query_logs", jobs_table=JOBS)
    lineage = BigQueryLineageCollectorOperator(task_id="lineage", jobs_table=JOBS, schemata_links=False)
    MonteCarloPushOperator(
        task_id="push",
        manifests=[metadata.output, iceberg.output, query_logs.output, lineage.output],
        min_push_interval=None,
    )
