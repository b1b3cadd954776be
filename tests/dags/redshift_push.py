"""Redshift -> Monte Carlo, run by tests/operators/test_redshift.py with ``dag.test()``.

Connections come from ``AIRFLOW_CONN_REDSHIFT_DEFAULT`` (the stand-in) and
``AIRFLOW_CONN_MONTE_CARLO_DEFAULT`` (the sandbox), set by the test.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.redshift import (
    RedshiftLineageCollectorOperator,
    RedshiftMetadataCollectorOperator,
    RedshiftQueryLogCollectorOperator,
)

with DAG(
    dag_id="redshift_push_test",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
):
    metadata = RedshiftMetadataCollectorOperator(task_id="metadata", databases=["dev"], schemas=["analytics"])
    query_logs = RedshiftQueryLogCollectorOperator(task_id="query_logs")
    lineage = RedshiftLineageCollectorOperator(task_id="lineage", source="stl")
    MonteCarloPushOperator(
        task_id="push",
        manifests=[metadata.output, query_logs.output, lineage.output],
        min_push_interval=None,
    )
