"""Databricks (Unity Catalog) -> Monte Carlo, hourly: metadata, lineage and query logs, one push,
and a sensor that waits until Monte Carlo shows *this* push.

- metadata: tables, views and columns of every catalog the token sees, freshness from
  ``information_schema`` (``last_altered``: no statement per table);
- lineage: ``system.access.table_lineage`` / ``column_lineage`` (Unity Catalog records it: no SQL
  parsing);
- query logs: ``system.query.history``.

Lineage and query logs read the hour before the run's logical date, shifted back one hour:
Databricks documents system-table records as typically available within an hour. Consecutive
runs still tile time, and a backfill reads its own hours.

Bytes and the last data commit come from ``DESCRIBE DETAIL``, one statement per Delta table:
once a day is enough for that (``volume_source="describe_detail"``, under its own ``flow``; the
hourly / daily pair is ``example_dags/snowflake_to_monte_carlo.py``, docs/databricks.md).

Connections:

- ``databricks_default`` (type ``databricks``): workspace host, a token (or OAuth service
  principal), and the SQL warehouse's ``http_path`` in the extras. The principal needs ``USE
  CATALOG`` / ``USE SCHEMA`` / ``SELECT`` on what is collected and ``SELECT`` on
  ``system.access`` and ``system.query`` (docs/databricks.md).
- ``monte_carlo_default`` (type ``monte_carlo``): the ingestion key as login / password,
  ``resource_uuid`` of the Databricks warehouse in Monte Carlo, and the GraphQL API key
  (``graphql_key_id`` / ``graphql_key_secret``) the sensor reads with.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.databricks import (
    DatabricksLineageCollectorOperator,
    DatabricksMetadataCollectorOperator,
    DatabricksQueryLogCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

DATABRICKS_CONN_ID = "databricks_default"
MONTE_CARLO_CONN_ID = "monte_carlo_default"
# None: every catalog the token sees (system, samples, hive_metastore and
# __databricks_internal are left out); or names / patterns (["main", "analytics_*"]). With many
# catalogs, map one metadata task per catalog, each retried on its own:
# DatabricksMetadataCollectorOperator.partial(task_id=...).expand(catalogs=["main", "analytics"]).
CATALOGS: list[str] | None = None

with DAG(
    dag_id="databricks_to_monte_carlo",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,  # a run overlapping the next hour's would be skipped by the hourly guard
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["monte-carlo", "databricks", "example"],
    doc_md=__doc__,
):
    metadata = DatabricksMetadataCollectorOperator(
        task_id="collect_metadata",
        databricks_conn_id=DATABRICKS_CONN_ID,
        catalogs=CATALOGS,
        volume_source="information_schema",
    )
    lineage = DatabricksLineageCollectorOperator(
        task_id="collect_lineage", databricks_conn_id=DATABRICKS_CONN_ID, catalogs=CATALOGS,
        lag=timedelta(hours=1),
    )
    query_logs = DatabricksQueryLogCollectorOperator(
        task_id="collect_query_logs", databricks_conn_id=DATABRICKS_CONN_ID, lag=timedelta(hours=1),
    )
    push = MonteCarloPushOperator(
        task_id="push",
        manifests=[metadata.output, lineage.output, query_logs.output],
        monte_carlo_conn_id=MONTE_CARLO_CONN_ID,
    )
    # Waits (deferred: in the triggerer, no worker slot) until Monte Carlo shows this push by its
    # invocation_ids; the default timeout is the slowest flow's (query logs: 75 min).
    MonteCarloPushedDataSensor(task_id="confirm_arrival", push_result=push.output, monte_carlo_conn_id=MONTE_CARLO_CONN_ID)
