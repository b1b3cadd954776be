"""Redshift -> Monte Carlo: hourly query logs, lineage and volume; a full schema push once a day.

Connections:

- ``redshift_default`` (type ``redshift``): host, port 5439, database (the one the list of
  databases is read from), user and password, or extra ``{"iam": true, ...}`` with
  ``aws_default`` for IAM. Grants the user needs: ``docs/redshift.md``.
- ``monte_carlo_default`` (type ``monte_carlo``): ingestion key, and ``resource_uuid`` of the
  Redshift warehouse in Monte Carlo.

Monte Carlo's volume detectors train on hourly buckets: the hourly DAG pushes volume only, the
daily DAG the schema only (columns, comments, view text, Spectrum tables, no counts), so every
hour gets exactly one volume sample.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.redshift import (
    RedshiftLineageCollectorOperator,
    RedshiftMetadataCollectorOperator,
    RedshiftQueryLogCollectorOperator,
)
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

START = datetime(2026, 1, 1, tzinfo=timezone.utc)

with DAG(
    dag_id="redshift_to_monte_carlo_hourly",
    schedule="@hourly",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    tags=["monte-carlo", "redshift"],
):
    volume = RedshiftMetadataCollectorOperator(
        task_id="collect_volume",
        exclude_schemas=["scratch_*"],
        only_freshness_and_volume=True,
    )
    # Both read the run's data interval, shifted back 10 minutes (SYS views' latency), so runs
    # tile time and a backfill reads its own hour. Provisioned clusters without SYS views:
    # source="stl".
    query_logs = RedshiftQueryLogCollectorOperator(task_id="collect_query_logs")
    lineage = RedshiftLineageCollectorOperator(task_id="collect_lineage")
    push = MonteCarloPushOperator(task_id="push", manifests=[volume.output, query_logs.output, lineage.output])
    # Confirms this push by its invocation_ids (deferrable: waits in the triggerer, no worker
    # slot); the default timeout is the slowest flow's (query logs: 75 min).
    MonteCarloPushedDataSensor(task_id="confirm_arrival", push_result=push.output)

with DAG(
    dag_id="redshift_to_monte_carlo_daily_schema",
    schedule="@daily",
    start_date=START,
    catchup=False,
    tags=["monte-carlo", "redshift"],
):
    schema = RedshiftMetadataCollectorOperator(
        task_id="collect_schema", exclude_schemas=["scratch_*"], include_volume=False
    )
    # Its own flow name: the once-an-hour guard of the hourly volume push must not skip it.
    MonteCarloPushOperator(task_id="push", manifests=schema.output, flow="redshift_daily_schema")
