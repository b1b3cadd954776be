"""``example_dags/bigquery_to_monte_carlo.py`` run for real against bqemulator
(``tests/standins/bigquery.py``) and the sandbox.

The emulator has no ``region-us.INFORMATION_SCHEMA.JOBS_BY_PROJECT``, so the example's
collectors take their documented fallback, ``Client.list_jobs(all_users=True)``: the jobs are
real jobs the emulator ran, here a CTAS and an INSERT run just before the DAG. The DAG run's
logical date is 11 minutes ahead, so its window (the hour before, shifted back 10 minutes)
ends after them. Other jobs of the session (the seed's, the collectors' own catalog queries)
fall in the window too: the assertions name what must be there."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.example_dags.runner import dags_test, lineage_edges, relational_assets
from tests.standins.bigquery import PROJECT, SALES, BigQueryStandIn


def test_bigquery_example(bigquery_conn: BigQueryStandIn, mc_conn: Any, airflow_db: Any, tmp_path: Path) -> None:
    mc_conn.use("bigquery")
    table = f"recent_{uuid.uuid4().hex[:8]}"
    ctas = bigquery_conn.query(f"CREATE TABLE scratch.{table} AS SELECT id, amount FROM {SALES}.orders WHERE amount > 8")
    insert = bigquery_conn.query(f"INSERT INTO scratch.{table} (id, amount) SELECT id, amount FROM {SALES}.orders")
    logical = datetime.now(timezone.utc) + timedelta(minutes=11)
    run = dags_test("bigquery_to_monte_carlo", tmp_path, logical_date=logical)
    print(f"bigquery: {run.seconds:.1f} s")

    assets = {(a["metadata"]["schema"], a["metadata"]["name"]): a for a in relational_assets(mc_conn)}
    assert {(SALES, n) for n in ("orders", "orders_v", "orders_mv", "events_yyyymmdd")} <= set(assets), sorted(assets)
    assert not any(schema == "scratch" for schema, _ in assets)  # EXCLUDE_DATASETS
    orders = assets[(SALES, "orders")]
    assert orders["metadata"]["database"] == PROJECT and orders["volume"]["row_count"] == 3
    assert "customer.addr.city" in [f["name"] for f in orders["fields"]]  # nested fields flattened
    query_ids = {e["event"]["query_id"] for e in mc_conn.events("query_logs")}
    assert {ctas.job_id, insert.job_id} <= query_ids
    assert (f"{PROJECT}.scratch.{table}", (f"{PROJECT}.{SALES}.orders",)) in lineage_edges(mc_conn)
    assert "listing jobs with Client.list_jobs(all_users=True) instead" in run.log
    seen = run.confirmation()
    assert re.match(r"metadata (\d+)/\1 confirmed\. lineage (\d+)/\2 confirmed\. query_logs (\d+)/\3 confirmed$", seen)
