"""A daily lineage collect -> push, for tests/reliability/test_column_lineage_refresh_faketime.py:
run with ``airflow dags test`` under libfaketime days apart. ``LINEAGE_EDGES`` names the
destination tables whose column lineage the day's queries produced (comma-separated, may be
empty); ``MONTE_CARLO_PUSH_RESULTS`` is where the push-result files go."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.sdk import DAG, task

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator

with DAG(
    dag_id="lineage_keep_alive",
    schedule="@daily",
    start_date=datetime(2026, 11, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["test"],
):

    @task
    def collect_lineage() -> dict:
        from airflow.sdk import get_current_context

        from monte_carlo_push_provider.collectors.common import query_window
        from monte_carlo_push_provider.manifest import lineage_asset_ref, lineage_event, new_manifest

        events = []
        for name in filter(None, os.environ.get("LINEAGE_EDGES", "").split(",")):
            src = lineage_asset_ref(name=f"raw_{name}", database="D", schema="S", asset_id="src")
            dst = lineage_asset_ref(name=name, database="D", schema="S", asset_id="dst")
            events.append(lineage_event(dst, [src], {"id": [("src", "id")], "amount": [("src", "amount")]}))
        # the window the lineage collectors stamp (a manual run: the hour before the logical date)
        return new_manifest("lineage", events, resource_type="snowflake", window=query_window(get_current_context()))

    MonteCarloPushOperator(
        task_id="push",
        manifests=collect_lineage(),
        output_path=os.environ.get("MONTE_CARLO_PUSH_RESULTS", "/tmp/lineage_keep_alive") + "/{{ ds_nodash }}.json",
        skip_when_nothing_pushed=False,
    )
