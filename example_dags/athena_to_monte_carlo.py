"""Athena + Glue -> Monte Carlo, hourly: Glue Data Catalog metadata, query logs and lineage of the
Athena executions, one push, and a sensor that waits until Monte Carlo shows *this* push.

- metadata: tables, views and Iceberg tables of every Glue database (``EXCLUDE_DATABASES`` left
  out) with columns, descriptions, view SQL, and row counts / bytes where Glue keeps them
  (Hive statistics, crawler counts; docs/athena.md says what Glue does and does not keep);
- query logs: the Athena executions that completed in the hour before the run's logical date,
  shifted back 5 minutes, in every enabled workgroup (Athena keeps 45 days of history);
- lineage: the same executions' SQL that succeeded, parsed (dialect ``athena``; unqualified names
  resolved against each execution's catalog and database).

With many databases, split the metadata as ``example_dags/snowflake_to_monte_carlo.py`` does:
hourly ``only_freshness_and_volume=True``, a daily schema under its own ``flow``
(``include_volume=False`` keeps it to one volume sample per hour; docs/production.md).

Connections:

- ``aws_default`` (type ``aws``): credentials (or a role the worker already has), and extra
  ``{"region_name": "eu-west-1"}``: Glue databases and Athena workgroups are regional. IAM
  permissions the collectors need: docs/athena.md.
- ``monte_carlo_default`` (type ``monte_carlo``): the ingestion key as login / password,
  ``resource_uuid`` of the data-lake warehouse in Monte Carlo that holds the Athena / Glue
  tables, and the GraphQL API key (``graphql_key_id`` / ``graphql_key_secret``) the sensor reads
  with.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.athena import (
    AthenaGlueMetadataCollectorOperator,
    AthenaLineageCollectorOperator,
    AthenaQueryLogCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

AWS_CONN_ID = "aws_default"
MONTE_CARLO_CONN_ID = "monte_carlo_default"
EXCLUDE_DATABASES = ["scratch*", "tmp_*"]  # globs, or "re:" regexes

with DAG(
    dag_id="athena_to_monte_carlo",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,  # a run overlapping the next hour's would be skipped by the hourly guard
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["monte-carlo", "athena", "example"],
    doc_md=__doc__,
):
    metadata = AthenaGlueMetadataCollectorOperator(
        task_id="collect_metadata", aws_conn_id=AWS_CONN_ID, exclude_databases=EXCLUDE_DATABASES,
    )
    query_logs = AthenaQueryLogCollectorOperator(task_id="collect_query_logs", aws_conn_id=AWS_CONN_ID)
    lineage = AthenaLineageCollectorOperator(task_id="collect_lineage", aws_conn_id=AWS_CONN_ID)
    push = MonteCarloPushOperator(
        task_id="push",
        manifests=[metadata.output, query_logs.output, lineage.output],
        monte_carlo_conn_id=MONTE_CARLO_CONN_ID,
    )
    # Waits (deferred: in the triggerer, no worker slot) until Monte Carlo shows this push by its
    # invocation_ids; the default timeout is the slowest flow's (query logs: 75 min).
    MonteCarloPushedDataSensor(task_id="confirm_arrival", push_result=push.output, monte_carlo_conn_id=MONTE_CARLO_CONN_ID)
