"""BigQuery -> Monte Carlo, hourly: metadata, query logs and lineage of the last hour's jobs, one
push, and a sensor that waits until Monte Carlo shows *this* push.

- metadata: tables and views of every dataset of the connection's project (``EXCLUDE_DATASETS``
  left out), with columns (nested STRUCT / ARRAY fields flattened to their paths),
  descriptions, view SQL and labels, and row count, bytes and last modified from ``__TABLES__``;
  date shards (``events_20260101`` ...) become one asset ``events_yyyymmdd``;
- query logs and lineage: the query jobs that ended in the hour before the run's logical date,
  shifted back 10 minutes (JOBS_BY_PROJECT's latency), from
  ``region-us.INFORMATION_SCHEMA.JOBS_BY_PROJECT`` (``Client.list_jobs`` where the view cannot be
  read); lineage parses each job's SQL (dialect ``bigquery``) and adds linked datasets from
  ``SCHEMATA_LINKS``.

With many datasets, split the metadata as ``example_dags/snowflake_to_monte_carlo.py`` does:
hourly ``only_freshness_and_volume=True`` (``__TABLES__`` alone, one query per dataset), a
daily full schema under its own ``flow`` (docs/production.md). BigLake tables for Apache
Iceberg are not in ``__TABLES__``: add ``BigQueryIcebergCollectorOperator`` (docs/bigquery.md).

Connections:

- ``google_cloud_default`` (type ``google_cloud_platform``): a service account (key or workload
  identity) with ``roles/bigquery.metadataViewer`` (catalog) and ``roles/bigquery.resourceViewer``
  (every user's jobs); ``project`` in the extras is the project read.
- ``monte_carlo_default`` (type ``monte_carlo``): the ingestion key as login / password,
  ``resource_uuid`` of the BigQuery warehouse in Monte Carlo, and the GraphQL API key
  (``graphql_key_id`` / ``graphql_key_secret``) the sensor reads with.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.bigquery import (
    BigQueryLineageCollectorOperator,
    BigQueryMetadataCollectorOperator,
    BigQueryQueryLogCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

GCP_CONN_ID = "google_cloud_default"
MONTE_CARLO_CONN_ID = "monte_carlo_default"
REGION = "us"  # where the project's jobs run: JOBS_BY_PROJECT is per region
EXCLUDE_DATASETS = ["tmp_*", "scratch*", "re:^_.*"]  # globs, or "re:" regexes

with DAG(
    dag_id="bigquery_to_monte_carlo",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,  # a run overlapping the next hour's would be skipped by the hourly guard
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["monte-carlo", "bigquery", "example"],
    doc_md=__doc__,
):
    metadata = BigQueryMetadataCollectorOperator(
        task_id="collect_metadata", gcp_conn_id=GCP_CONN_ID, exclude_datasets=EXCLUDE_DATASETS,
    )
    query_logs = BigQueryQueryLogCollectorOperator(task_id="collect_query_logs", gcp_conn_id=GCP_CONN_ID, region=REGION)
    lineage = BigQueryLineageCollectorOperator(task_id="collect_lineage", gcp_conn_id=GCP_CONN_ID, region=REGION)
    push = MonteCarloPushOperator(
        task_id="push",
        manifests=[metadata.output, query_logs.output, lineage.output],
        monte_carlo_conn_id=MONTE_CARLO_CONN_ID,
    )
    # Waits (deferred: in the triggerer, no worker slot) until Monte Carlo shows this push by its
    # invocation_ids; the default timeout is the slowest flow's (query logs: 75 min).
    MonteCarloPushedDataSensor(task_id="confirm_arrival", push_result=push.output, monte_carlo_conn_id=MONTE_CARLO_CONN_ID)
