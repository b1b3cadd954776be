"""Hive -> Monte Carlo, hourly: metadata from the Hive Metastore, query logs and lineage from the
HiveServer2 log files (here on S3, as EMR ships them), one push, and a sensor that waits until
Monte Carlo shows *this* push.

- metadata: tables and views of every database (``EXCLUDE_DATABASES`` left out) through the
  metastore's Thrift API, with columns, comments, view text, and row counts / bytes / last DDL
  time from the table parameters;
- query logs: the ``Executing command`` / ``Completed executing command`` pairs of the
  HiveServer2 logs (rotated and gzipped files included) in the hour before the run's logical
  date;
- lineage: the same statements that succeeded, parsed (dialect ``hive``).

With many databases, split the metadata as ``example_dags/snowflake_to_monte_carlo.py`` does:
hourly ``only_freshness_and_volume=True``, a daily full schema under its own ``flow``
(docs/production.md). Names, call counts and the log format: docs/hive.md.

Connections:

- ``hive_metastore`` (type ``hive_metastore``): the metastore's host and Thrift port (9083);
  extra ``{"auth_mechanism": "NOSASL"}`` for an unsecured metastore, Kerberos otherwise.
- ``aws_default`` (type ``aws``): reads the log bucket (``s3:GetObject`` and ``s3:ListBucket`` on
  ``LOGS``; ``s3://`` paths need ``s3fs`` installed). Any ``ObjectStoragePath`` URL works:
  ``file:///var/log/hive`` on the HiveServer2 host itself needs no connection.
- ``monte_carlo_default`` (type ``monte_carlo``): the ingestion key as login / password,
  ``resource_uuid`` of your data-lake warehouse in Monte Carlo, and the GraphQL API key
  (``graphql_key_id`` / ``graphql_key_secret``) the sensor reads with.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.hive import (
    HiveLineageCollectorOperator,
    HiveMetastoreMetadataCollectorOperator,
    HiveQueryLogCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

METASTORE_CONN_ID = "hive_metastore"
LOGS_CONN_ID = "aws_default"
MONTE_CARLO_CONN_ID = "monte_carlo_default"
# HiveServer2 logs of every node, rotated and gzipped. An Airflow Variable, so each environment
# (a test cluster's bucket, file:///var/log/hive on the HiveServer2 host) sets its own without
# an edit of the DAG.
LOGS = "{{ var.value.get('hive_log_path', 's3://my-emr-logs/j-CLUSTERID/node/') }}"
LOG_PATTERN = "hive*.log*"
EXCLUDE_DATABASES = ["information_schema", "sys", "tmp_*"]
# None: Monte Carlo's own Hive naming (database and schema both the Hive database). "hive" keeps
# the provider's earlier names (hive:<db>.<table>); metadata and lineage must use the same value.
DATABASE_LABEL = None

with DAG(
    dag_id="hive_to_monte_carlo",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,  # a run overlapping the next hour's would be skipped by the hourly guard
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["monte-carlo", "hive", "example"],
    doc_md=__doc__,
):
    metadata = HiveMetastoreMetadataCollectorOperator(
        task_id="collect_metadata",
        metastore_conn_id=METASTORE_CONN_ID,
        database_label=DATABASE_LABEL,
        exclude_databases=EXCLUDE_DATABASES,
    )
    query_logs = HiveQueryLogCollectorOperator(
        task_id="collect_query_logs",
        log_path=LOGS,
        conn_id=LOGS_CONN_ID,
        pattern=LOG_PATTERN,
        recursive=True,  # EMR keeps one folder per node
        log_timezone="UTC",  # EMR hosts log in UTC; set the host's zone otherwise
    )
    lineage = HiveLineageCollectorOperator(
        task_id="collect_lineage",
        log_path=LOGS,
        conn_id=LOGS_CONN_ID,
        pattern=LOG_PATTERN,
        recursive=True,
        log_timezone="UTC",
        database_label=DATABASE_LABEL,
    )
    push = MonteCarloPushOperator(
        task_id="push",
        manifests=[metadata.output, query_logs.output, lineage.output],
        monte_carlo_conn_id=MONTE_CARLO_CONN_ID,
    )
    # Waits (deferred: in the triggerer, no worker slot) until Monte Carlo shows this push by its
    # invocation_ids; the default timeout is the slowest flow's (query logs: 75 min).
    MonteCarloPushedDataSensor(task_id="confirm_arrival", push_result=push.output, monte_carlo_conn_id=MONTE_CARLO_CONN_ID)
