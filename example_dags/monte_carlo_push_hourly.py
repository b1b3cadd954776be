"""Hourly: collect table metadata from a SQL database and push it to Monte Carlo.

Connections used:
- ``demo_warehouse``: any common.sql database (the demo seeds a SQLite file);
- ``monte_carlo_default``: the Monte Carlo connection (ingestion key as login/password,
  ``resource_uuid`` in the extras).

Every request's invocation_id is in the push task's log, its XCom and the push-result manifest
written to ``MONTE_CARLO_PUSH_RESULTS`` (default ``/tmp/monte_carlo_push_results``).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.sql import SqlMetadataCollectorOperator

RESULTS = os.environ.get("MONTE_CARLO_PUSH_RESULTS", "/tmp/monte_carlo_push_results")

with DAG(
    dag_id="monte_carlo_push_hourly",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["monte_carlo", "example"],
    doc_md=__doc__,
):
    collect = SqlMetadataCollectorOperator(
        task_id="collect_metadata",
        conn_id="demo_warehouse",
        database="demo",
        resource_type="data-lake",
    )
    MonteCarloPushOperator(
        task_id="push_to_monte_carlo",
        manifests=collect.output,
        output_path=RESULTS + "/{{ dag.dag_id }}/{{ ts_nodash }}.json",
    )
