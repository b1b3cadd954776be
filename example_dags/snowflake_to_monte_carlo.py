"""Snowflake -> Monte Carlo: hourly freshness, volume, query logs and lineage; the full schema daily.

The production pattern (docs/production.md, "schedules"), as a pair of DAGs:

- ``snowflake_to_monte_carlo_hourly``: row counts, bytes and last-altered times without columns or
  view text (``only_freshness_and_volume``: one ``INFORMATION_SCHEMA.TABLES`` query per
  database), query logs from ``ACCOUNT_USAGE.QUERY_HISTORY`` and table + column lineage from
  ``ACCOUNT_USAGE.ACCESS_HISTORY`` (Standard edition: the QUERY_HISTORY SQL parsed instead), one
  push, and a sensor that waits until Monte Carlo shows *this* push;
- ``snowflake_to_monte_carlo_daily_schema``: the full schema (columns, view text, comments, object
  tags) under its own ``flow``, so the once-per-clock-hour guard of the hourly metadata push does
  not skip it in the hour both run.

Monte Carlo's freshness and volume detectors train on hourly buckets: one metadata push per hour
per flow is what they expect, and the push operator enforces it.

Connections:

- ``snowflake_default`` (type ``snowflake``): account, user and password or key pair, warehouse
  and role in the extras. The role needs USAGE / REFERENCES on the databases collected and
  ``IMPORTED PRIVILEGES`` on the SNOWFLAKE database for ACCOUNT_USAGE (grants: docs/snowflake.md).
- ``monte_carlo_default`` (type ``monte_carlo``): the ingestion key as login / password,
  ``resource_uuid`` of the Snowflake warehouse in Monte Carlo, and the GraphQL API key
  (``graphql_key_id`` / ``graphql_key_secret``) the sensor reads with.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.snowflake import (
    SnowflakeLineageCollectorOperator,
    SnowflakeMetadataCollectorOperator,
    SnowflakeQueryLogCollectorOperator,
)
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

SNOWFLAKE_CONN_ID = "snowflake_default"
MONTE_CARLO_CONN_ID = "monte_carlo_default"
# Include / exclude patterns (globs, or "re:" regexes) for SHOW DATABASES: a pattern that matches
# nothing is not an error. The shared SNOWFLAKE database is never collected.
DATABASES = ["ANALYTICS*", "RAW*"]
EXCLUDE_DATABASES = ["*_DEV", "*_SCRATCH"]
# The flow name of the daily push (docs/production.md): its own once-an-hour bucket.
DAILY_FLOW = "daily-full-schema"

DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(minutes=2)}

with DAG(
    dag_id="snowflake_to_monte_carlo_hourly",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,  # a run overlapping the next hour's would be skipped by the hourly guard
    default_args=DEFAULT_ARGS,
    tags=["monte-carlo", "snowflake", "example"],
    doc_md=__doc__,
):
    freshness_and_volume = SnowflakeMetadataCollectorOperator(
        task_id="collect_freshness_and_volume",
        snowflake_conn_id=SNOWFLAKE_CONN_ID,
        databases=DATABASES,
        exclude_databases=EXCLUDE_DATABASES,
        only_freshness_and_volume=True,
    )
    # Each run reads the hour before its logical date, shifted back by the view's latency, so
    # consecutive runs leave no gap and no overlap, and a backfill reads its own hours.
    query_logs = SnowflakeQueryLogCollectorOperator(
        task_id="collect_query_logs",
        snowflake_conn_id=SNOWFLAKE_CONN_ID,
        lag=timedelta(minutes=45),  # QUERY_HISTORY's latency
    )
    lineage = SnowflakeLineageCollectorOperator(
        task_id="collect_lineage",
        snowflake_conn_id=SNOWFLAKE_CONN_ID,
        source="auto",  # ACCESS_HISTORY (Enterprise), else QUERY_HISTORY parsed (Standard)
        lag=timedelta(hours=3),  # ACCESS_HISTORY's latency
    )
    push = MonteCarloPushOperator(
        task_id="push",
        manifests=[freshness_and_volume.output, query_logs.output, lineage.output],
        monte_carlo_conn_id=MONTE_CARLO_CONN_ID,
    )
    # Waits (deferred: in the triggerer, no worker slot) until Monte Carlo shows this push by its
    # invocation_ids; the default timeout is the slowest flow's (query logs: 75 min).
    MonteCarloPushedDataSensor(
        task_id="confirm_arrival", push_result=push.output, monte_carlo_conn_id=MONTE_CARLO_CONN_ID,
    )

with DAG(
    dag_id="snowflake_to_monte_carlo_daily_schema",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["monte-carlo", "snowflake", "example"],
    doc_md=__doc__,
):
    # Full schema: one query on INFORMATION_SCHEMA.TABLES and one on COLUMNS per database, and one
    # on ACCOUNT_USAGE.TAG_REFERENCES for the tags. With hundreds of databases,
    # account_usage=True reads ACCOUNT_USAGE.TABLES / COLUMNS once for all of them (up to 90
    # minutes behind: fine once a day).
    schema = SnowflakeMetadataCollectorOperator(
        task_id="collect_full_schema",
        snowflake_conn_id=SNOWFLAKE_CONN_ID,
        databases=DATABASES,
        exclude_databases=EXCLUDE_DATABASES,
    )
    push = MonteCarloPushOperator(
        task_id="push", manifests=schema.output, flow=DAILY_FLOW, monte_carlo_conn_id=MONTE_CARLO_CONN_ID,
    )
    MonteCarloPushedDataSensor(
        task_id="confirm_arrival", push_result=push.output, monte_carlo_conn_id=MONTE_CARLO_CONN_ID,
    )
