"""extract -> transform -> load, for tests/listeners (run with `airflow dags test`).

``transform`` fails on its first try and passes on the retry: it fails while the file named by
``$MC_LISTENER_FAIL_ONCE`` does not exist yet, creating it (no env var: it never fails).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, Asset, task

with DAG(
    dag_id="listener_chain_retry",
    schedule="0 6 * * *",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["test", "listener"],
    default_args={"owner": "data-eng"},
    description="three tasks in a chain; transform fails once",
) as dag:

    @task
    def extract() -> int:
        return 1

    @task(retries=1, retry_delay=timedelta(seconds=0), inlets=[Asset("s3://raw/orders.csv")])
    def transform(value: int) -> int:
        marker = os.environ.get("MC_LISTENER_FAIL_ONCE")
        if marker and not os.path.exists(marker):
            open(marker, "w").close()
            # A secret in an error message: the listener must scrub it before it leaves Airflow.
            raise RuntimeError("warehouse refused: password=hunter2 for user etl")
        return value + 1

    @task(
        inlets=[Asset("postgres://warehouse:5432/analytics/public/orders_staging")],
        outlets=[Asset("postgres://warehouse:5432/analytics/public/orders")],
    )
    def load(value: int) -> None:
        print(f"loaded {value}")

    load(transform(extract()))
