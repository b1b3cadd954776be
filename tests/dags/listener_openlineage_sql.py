"""One SQL task for tests/listeners/test_openlineage.py (run with `airflow dags test`): a
SQLExecuteQueryOperator on PostgreSQL (connection ``ol_warehouse``, which the test sets) copying
``t1`` into ``t2``; Airflow's OpenLineage provider parses the statement into inputs, outputs and
column lineage."""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG

with DAG(
    dag_id="listener_openlineage_sql",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["test", "listener"],
) as dag:
    SQLExecuteQueryOperator(
        task_id="copy",
        conn_id="ol_warehouse",
        sql="INSERT INTO t2 SELECT a, b FROM t1",
    )
