"""push -> confirm, for tests/sensors/test_this_push.py (run with dag.test()).

Three DAGs on the sample push (tests/sensors/sample_manifests.py): the sensor of
``this_push_short`` gives up after a few seconds, that of ``this_push_long`` waits up to a
minute, and ``quiet_hour`` pushes empty manifests with ``query_tables`` set (a night without
queries, as the Snowflake example DAG would see it). Sub-second polls keep the suite fast.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG, task

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

DAILY = "ANALYTICS:PUBLIC.orders_daily"  # a table tests/sensors/sample_manifests.py pushes


def build(dag_id: str, *, sensor_timeout: float, quiet: bool = False) -> DAG:
    with DAG(
        dag_id=dag_id,
        schedule=None,
        start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
        catchup=False,
        tags=["test"],
    ) as dag:

        @task
        def collect(quiet: bool) -> list[dict]:
            from tests.sensors.sample_manifests import manifests

            pushed = manifests()
            if quiet:
                for manifest in pushed:
                    manifest["events"] = []
            return pushed

        # force: each run re-sends identical content on purpose (the pushed ledger would otherwise
        # skip query logs an earlier run already pushed: exactly once).
        push = MonteCarloPushOperator(task_id="push", manifests=collect(quiet), min_push_interval=None, force=True)
        MonteCarloPushedDataSensor(
            task_id="confirm",
            push_result=push.output,
            query_tables=[DAILY],
            poke_interval=0.5,
            timeout=sensor_timeout,
            clock_skew=30,
        )
    return dag


short = build("monte_carlo_this_push_short", sensor_timeout=4)
long = build("monte_carlo_this_push_long", sensor_timeout=60)
quiet = build("monte_carlo_this_push_quiet_hour", sensor_timeout=60, quiet=True)
