"""A collector and the push operator, for tests/listeners/test_openlineage.py (run with `airflow
dags test`): the common.sql metadata collector reads ``ol_shop`` on PostgreSQL (connection
``ol_warehouse``) and the push operator pushes its manifest to the Monte Carlo warehouse named by
``$MC_OL_RESOURCE_UUID``. Both report their inputs/outputs through OpenLineage facets."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.sql import SqlMetadataCollectorOperator

RESOURCE_UUID = os.environ.get("MC_OL_RESOURCE_UUID", "00000000-0000-0000-0000-000000000000")

with DAG(
    dag_id="listener_openlineage_collect",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["test", "listener"],
) as dag:
    collect = SqlMetadataCollectorOperator(
        task_id="collect", conn_id="ol_warehouse", database="ol_shop", resource_type="postgres",
        schemas=["public"], resource_uuid=RESOURCE_UUID,
    )
    MonteCarloPushOperator(task_id="push", manifests=collect.output, verify_resources=False)
