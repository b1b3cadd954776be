"""collect -> push -> confirm, for tests/sensors/test_dag.py (run with dag.test()).

The sensor is deferrable with sub-second polls: with the sandbox's visibility delays set to a
few seconds, its first check fails, it defers, and dag.test() runs the trigger inline until
Monte Carlo (the sandbox) shows everything.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG, task

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

ORDERS = "ANALYTICS:PUBLIC.orders"  # the tables tests/sensors/sample_manifests.py pushes
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
        from tests.sensors.sample_manifests import manifests

        return manifests()

    push = MonteCarloPushOperator(task_id="push", manifests=collect(), min_push_interval=None)
    MonteCarloPushedDataSensor(
        task_id="confirm",
        push_result=push.output,
        lineage_edges=[{"destination": DAILY, "sources": [ORDERS], "columns": {"total": [(ORDERS, "amount")]}}],
        query_tables=[DAILY],
        poke_interval=0.5,
        timeout=60,
    )
