"""Redshift -> Monte Carlo, hourly: metadata, query logs, lineage from the queries and from the view
definitions, one push, and a sensor that waits until Monte Carlo shows *this* push.

- metadata: tables, views and Spectrum tables of every database the user sees, with row counts,
  bytes and freshness (``svv_table_info``, ``svv_tables``, ``svv_columns``: three queries per
  database);
- query logs: ``SYS_QUERY_HISTORY`` + ``SYS_QUERY_TEXT`` (Serverless and current provisioned
  clusters; ``source="stl"`` for clusters without SYS views);
- lineage: the statements that succeeded in the window, parsed (``#temp`` tables resolved per
  session), and the views' definitions (``pg_get_viewdef``), parsed by the same engine.

With many databases, split the metadata as ``example_dags/snowflake_to_monte_carlo.py`` does:
hourly ``only_freshness_and_volume=True``, a daily full schema under its own ``flow``
(docs/production.md).

Connections:

- ``redshift_default`` (type ``redshift``): host, port 5439, database (where the list of
  databases is read), user and password, or extra ``{"iam": true, ...}`` with ``aws_default`` for
  IAM. The user needs ``sys:monitor`` (or superuser) to see other users' queries; grants:
  docs/redshift.md.
- ``monte_carlo_default`` (type ``monte_carlo``): the ingestion key as login / password,
  ``resource_uuid`` of the Redshift warehouse in Monte Carlo, and the GraphQL API key
  (``graphql_key_id`` / ``graphql_key_secret``) the sensor reads with.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.redshift import (
    RedshiftLineageCollectorOperator,
    RedshiftMetadataCollectorOperator,
    RedshiftQueryLogCollectorOperator,
)
from monte_carlo_push_provider.operators.sql import SqlViewLineageCollectorOperator
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

REDSHIFT_CONN_ID = "redshift_default"
MONTE_CARLO_CONN_ID = "monte_carlo_default"
# The database the view-lineage collector reads (its connection's); the metadata collector
# reads every database the user sees.
DATABASE = "dev"
EXCLUDE_SCHEMAS = ["scratch_*", "pg_temp_*"]

with DAG(
    dag_id="redshift_to_monte_carlo",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,  # a run overlapping the next hour's would be skipped by the hourly guard
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["monte-carlo", "redshift", "example"],
    doc_md=__doc__,
):
    metadata = RedshiftMetadataCollectorOperator(
        task_id="collect_metadata", redshift_conn_id=REDSHIFT_CONN_ID, exclude_schemas=EXCLUDE_SCHEMAS,
    )
    # Both read the hour before the run's logical date, shifted back 10 minutes (the SYS views'
    # latency), so runs tile time and a backfill reads its own hours.
    query_logs = RedshiftQueryLogCollectorOperator(task_id="collect_query_logs", redshift_conn_id=REDSHIFT_CONN_ID)
    query_lineage = RedshiftLineageCollectorOperator(
        task_id="collect_query_lineage", redshift_conn_id=REDSHIFT_CONN_ID,
    )
    # Views change rarely and their edges are idempotent: re-sending them every hour costs one
    # catalog query and keeps their column lineage from expiring in Monte Carlo (10 days).
    view_lineage = SqlViewLineageCollectorOperator(
        task_id="collect_view_lineage",
        conn_id=REDSHIFT_CONN_ID,
        database=DATABASE,
        resource_type="redshift",
        exclude_schemas=EXCLUDE_SCHEMAS,
    )
    push = MonteCarloPushOperator(
        task_id="push",
        manifests=[metadata.output, query_logs.output, query_lineage.output, view_lineage.output],
        monte_carlo_conn_id=MONTE_CARLO_CONN_ID,
    )
    # Waits (deferred: in the triggerer, no worker slot) until Monte Carlo shows this push by its
    # invocation_ids; the default timeout is the slowest flow's (query logs: 75 min).
    MonteCarloPushedDataSensor(task_id="confirm_arrival", push_result=push.output, monte_carlo_conn_id=MONTE_CARLO_CONN_ID)
