"""Hourly: collect table metadata and view lineage from a SQL database, push them to Monte
Carlo, and confirm Monte Carlo shows them. This is the DAG ``make demo`` runs.

Tasks: ``collect_metadata`` (tables, views, columns, row and byte counts) and
``collect_view_lineage`` (each view's definition parsed into table and column lineage: no query
history needed) -> ``push_to_monte_carlo`` (one invocation_id per request) ->
``confirm_arrival`` (deferrable: waits in the triggerer until GraphQL shows *this* push).

Connections used:
- ``demo_warehouse``: any common.sql database (the demo seeds a SQLite file);
- ``monte_carlo_default``: the Monte Carlo connection (ingestion key as login/password,
  ``resource_uuid`` and the GraphQL API key ``graphql_key_id`` / ``graphql_key_secret`` in the extras).

Every request's invocation_id is in the push task's log, its XCom and the push-result manifest
written to ``MONTE_CARLO_PUSH_RESULTS`` (default ``/tmp/monte_carlo_push_results``).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.sql import (
    SqlMetadataCollectorOperator,
    SqlViewLineageCollectorOperator,
)
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

RESULTS = os.environ.get("MONTE_CARLO_PUSH_RESULTS", "/tmp/monte_carlo_push_results")
# Monte Carlo shows metadata within minutes: checking once a minute is plenty. The demo's
# sandbox makes the push visible after a few seconds and sets this to 1 s.
POKE_INTERVAL = float(os.environ.get("MONTE_CARLO_SENSOR_POKE_INTERVAL", "60"))

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
    metadata = SqlMetadataCollectorOperator(
        task_id="collect_metadata",
        conn_id="demo_warehouse",
        database="demo",
        resource_type="data-lake",
    )
    # Views change rarely: in production a daily DAG is enough for this one (each run pushes it
    # again, which also keeps column lineage from expiring in Monte Carlo after 10 days).
    view_lineage = SqlViewLineageCollectorOperator(
        task_id="collect_view_lineage",
        conn_id="demo_warehouse",
        database="demo",
        resource_type="data-lake",
    )
    push = MonteCarloPushOperator(
        task_id="push_to_monte_carlo",
        manifests=[metadata.output, view_lineage.output],
        output_path=RESULTS + "/{{ dag.dag_id }}/{{ ts_nodash }}.json",
    )
    MonteCarloPushedDataSensor(
        task_id="confirm_arrival",
        push_result=push.output,
        poke_interval=POKE_INTERVAL,
        timeout=timedelta(minutes=20),
    )
