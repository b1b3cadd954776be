"""An hourly collect -> push, for tests/reliability/test_cadence_faketime.py: run with
``airflow dags test`` under libfaketime at jittered wall-clock times (the push's default clock
bucket of one hour applies; ``MONTE_CARLO_PUSH_RESULTS`` is where the push-result files go)."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.sdk import DAG, task

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator

with DAG(
    dag_id="push_cadence",
    schedule="@hourly",
    start_date=datetime(2026, 11, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["test"],
):

    @task
    def collect() -> dict:
        from monte_carlo_push_provider.manifest import new_manifest, relational_asset

        now = datetime.now(timezone.utc)  # the faked wall clock
        events = [relational_asset(type="TABLE", name=f"orders_{i}", database="ANALYTICS", schema="PUBLIC",
                                   row_count=now.hour * 10 + i, last_update_time=now) for i in range(3)]
        return new_manifest("metadata", events, resource_type="snowflake")

    MonteCarloPushOperator(
        task_id="push",
        manifests=collect(),
        output_path=os.environ.get("MONTE_CARLO_PUSH_RESULTS", "/tmp/push_cadence") + "/{{ ts_nodash }}.json",
    )
