"""Hive -> Monte Carlo, run by tests/operators/test_hive.py with ``dag.test()``.

Connections come from ``AIRFLOW_CONN_HIVE_METASTORE`` / ``AIRFLOW_CONN_HIVESERVER2`` (the
stand-in) and ``AIRFLOW_CONN_MONTE_CARLO_DEFAULT`` (the sandbox); the log directory from the
Airflow variable ``hive_log_path`` (``AIRFLOW_VAR_HIVE_LOG_PATH``), all set by the test.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.hive import (
    HiveLineageCollectorOperator,
    HiveMetastoreMetadataCollectorOperator,
    HiveQueryLogCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator

with DAG(
    dag_id="hive_push_test",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
):
    metadata = HiveMetastoreMetadataCollectorOperator(
        task_id="metadata", metastore_conn_id="hive_metastore", databases=["sales"],
    )
    query_logs = HiveQueryLogCollectorOperator(task_id="query_logs", log_path="{{ var.value.hive_log_path }}")
    lineage = HiveLineageCollectorOperator(task_id="lineage", log_path="{{ var.value.hive_log_path }}")
    MonteCarloPushOperator(
        task_id="push",
        manifests=[metadata.output, query_logs.output, lineage.output],
        min_push_interval=None,
    )
