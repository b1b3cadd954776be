"""SQLite catalog -> Monte Carlo with dropped-table cleanup, run by
tests/operators/test_push_dropped_tables.py with ``dag.test()``: the test drops a table between
two runs an hour apart and checks Monte Carlo lost it.

Connections come from ``AIRFLOW_CONN_WH`` (a SQLite file) and ``AIRFLOW_CONN_MONTE_CARLO_DEFAULT``
(the sandbox), set by the test; ``MONTE_CARLO_PUSH_RESULTS`` is where push-result files go.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.sql import SqlMetadataCollectorOperator

with DAG(
    dag_id="push_dropped_tables",
    schedule="@hourly",
    start_date=datetime(2026, 11, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["test"],
):
    metadata = SqlMetadataCollectorOperator(task_id="metadata", conn_id="wh", database="shop", resource_type="data-lake")
    MonteCarloPushOperator(
        task_id="push",
        manifests=metadata.output,
        cleanup="delete",
        cleanup_max_fraction=0.5,
        output_path=os.environ.get("MONTE_CARLO_PUSH_RESULTS", "/tmp/push_dropped_tables") + "/{{ ts_nodash }}.json",
    )
