"""collect -> push -> confirm, for tests/sensors/test_dag.py (run with dag.test()).

The sensor is deferrable with sub-second polls: with the sandbox's visibility delays set to a
few seconds, its first check fails, it defers, and dag.test() runs the trigger inline until
Monte Carlo (the sandbox) shows everything.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, task

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

ORDERS = "ANALYTICS:PUBLIC.orders"
DAILY = "ANALYTICS:PUBLIC.orders_daily"

with DAG(
    dag_id="monte_carlo_sensor_confirm",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["test"],
) as dag:

    @task
    def collect() -> list[dict]:
        from monte_carlo_push_provider.manifest import (
            lineage_asset_ref,
            lineage_event,
            new_manifest,
            query_log_entry,
            relational_asset,
        )

        now = datetime.now(timezone.utc)
        metadata = new_manifest(
            "metadata",
            [
                relational_asset(type="TABLE", name="orders", database="ANALYTICS", schema="PUBLIC",
                                 fields=[("id", "NUMBER"), ("amount", "NUMBER")], row_count=42, last_update_time=now),
                relational_asset(type="TABLE", name="orders_daily", database="ANALYTICS", schema="PUBLIC",
                                 fields=[("day", "DATE"), ("total", "NUMBER")], row_count=7, last_update_time=now),
            ],
            resource_type="snowflake",
        )
        src = lineage_asset_ref(name="orders", database="ANALYTICS", schema="PUBLIC", asset_id="src")
        dst = lineage_asset_ref(name="orders_daily", database="ANALYTICS", schema="PUBLIC", asset_id="dst")
        lineage = new_manifest("lineage", [lineage_event(dst, [src], {"total": [("src", "amount")]})], resource_type="snowflake")
        logs = new_manifest(
            "query_logs",
            [query_log_entry(start_time=now - timedelta(minutes=5), end_time=now - timedelta(minutes=4),
                             query_text="insert into ANALYTICS.PUBLIC.orders_daily select sum(amount) from ANALYTICS.PUBLIC.orders",
                             query_id="q1")],
            log_type="snowflake",
        )
        return [metadata, lineage, logs]

    push = MonteCarloPushOperator(task_id="push", manifests=collect(), min_push_interval=None)
    MonteCarloPushedDataSensor(
        task_id="confirm",
        push_result=push.output,
        lineage_edges=[{"destination": DAILY, "sources": [ORDERS], "columns": {"total": [(ORDERS, "amount")]}}],
        query_tables=[DAILY],
        poke_interval=0.5,
        timeout=60,
    )
