"""Athena + Glue -> Monte Carlo: hourly query logs, lineage and volume; a full schema push once a day.

Connections:

- ``aws_default`` (type ``aws``): credentials (or a role the worker already has), and extra
  ``{"region_name": "eu-west-1"}``: Glue databases and Athena workgroups are regional. IAM
  permissions the collectors need: ``docs/athena.md``.
- ``monte_carlo_default`` (type ``monte_carlo``): ingestion key, and ``resource_uuid`` of the
  data-lake warehouse in Monte Carlo that holds the Athena / Glue tables.

Monte Carlo's volume detectors train on hourly buckets: the hourly DAG pushes volume and freshness
only, the daily DAG the schema only (columns, descriptions, view text, tags, no counts), so every
hour gets exactly one volume sample.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.athena import (
    AthenaGlueMetadataCollectorOperator,
    AthenaLineageCollectorOperator,
    AthenaQueryLogCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator

START = datetime(2026, 1, 1, tzinfo=timezone.utc)

with DAG(
    dag_id="athena_to_monte_carlo_hourly",
    schedule="@hourly",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    tags=["monte-carlo", "athena"],
):
    volume = AthenaGlueMetadataCollectorOperator(
        task_id="collect_volume", exclude_databases=["scratch_*"], only_freshness_and_volume=True,
    )
    # Both read the run's data interval shifted back 5 minutes, so runs tile time and a backfill
    # reads its own hour (Athena keeps 45 days of history).
    query_logs = AthenaQueryLogCollectorOperator(task_id="collect_query_logs")
    lineage = AthenaLineageCollectorOperator(task_id="collect_lineage")
    MonteCarloPushOperator(task_id="push", manifests=[volume.output, query_logs.output, lineage.output])

with DAG(
    dag_id="athena_to_monte_carlo_daily_schema",
    schedule="@daily",
    start_date=START,
    catchup=False,
    tags=["monte-carlo", "athena"],
):
    schema = AthenaGlueMetadataCollectorOperator(
        task_id="collect_schema", exclude_databases=["scratch_*"], include_volume=False,
    )
    # Its own flow name: the once-an-hour guard of the hourly volume push must not skip it.
    MonteCarloPushOperator(task_id="push", manifests=schema.output, flow="athena_daily_schema")
