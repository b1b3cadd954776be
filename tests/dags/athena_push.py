"""Athena + Glue -> Monte Carlo, run by tests/operators/test_athena.py with ``dag.test()``.

Connections come from ``AIRFLOW_CONN_AWS_DEFAULT`` (the moto stand-in) and
``AIRFLOW_CONN_MONTE_CARLO_DEFAULT`` (the sandbox), set by the test.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.athena import (
    AthenaGlueMetadataCollectorOperator,
    AthenaLineageCollectorOperator,
    AthenaQueryLogCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator

with DAG(
    dag_id="athena_push_test",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
):
    metadata = AthenaGlueMetadataCollectorOperator(task_id="metadata", databases=["sales"])
    query_logs = AthenaQueryLogCollectorOperator(task_id="query_logs")
    lineage = AthenaLineageCollectorOperator(task_id="lineage", work_groups=["primary"])
    MonteCarloPushOperator(
        task_id="push",
        manifests=[metadata.output, query_logs.output, lineage.output],
        min_push_interval=None,
    )
