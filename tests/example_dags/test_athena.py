"""``example_dags/athena_to_monte_carlo.py`` run for real against moto playing Glue and Athena
(``tests/standins/aws.py``) with the catalog and executions ``tests/operators/test_athena.py``
seeds, and the sandbox. moto stamps executions with the wall clock, so the run's logical date is
5 minutes (the lag) and a few seconds after the seeding: its window, the hour before shifted back
by the lag, holds every seeded execution."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.example_dags.runner import dags_test, lineage_edges, relational_assets
from tests.operators.test_athena import _seed_glue, _seed_history
from tests.standins.aws import AwsStandIn


def test_athena_example(aws: AwsStandIn, mc_conn: Any, airflow_db: Any, tmp_path: Path) -> None:
    _seed_glue(aws)
    history = _seed_history(aws)
    logical = datetime.now(timezone.utc) + timedelta(minutes=5, seconds=5)
    mc_conn.use("data-lake")
    run = dags_test("athena_to_monte_carlo", tmp_path, logical_date=logical)
    print(f"athena: {run.seconds:.1f} s")

    assets = {(a["metadata"]["schema"], a["metadata"]["name"]): a for a in relational_assets(mc_conn)}
    # every Glue database but scratch (EXCLUDE_DATABASES)
    assert sorted(assets) == [("sales", "customers"), ("sales", "daily_orders"), ("sales", "events"),
                              ("sales", "orders")]
    assert assets[("sales", "orders")]["volume"]["row_count"] == 3
    assert [f["name"] for f in assets[("sales", "orders")]["fields"]] == ["id", "amount", "dt"]
    # every execution of the hour, of both workgroups, the cancelled one included
    assert sorted(e["event"]["query_id"] for e in mc_conn.events("query_logs")) == sorted(
        [*history["ids"].values(), history["early"], history["late"]])
    assert lineage_edges(mc_conn) == [
        ("awsdatacatalog.sales.daily_orders_t", ("awsdatacatalog.sales.orders",)),
        ("awsdatacatalog.scratch.big_customers", ("awsdatacatalog.sales.customers", "awsdatacatalog.sales.orders")),
    ]
    seen = run.confirmation()
    assert re.match(r"metadata 4/4 confirmed\. lineage (\d+)/\1 confirmed\. query_logs (\d+)/\2 confirmed$", seen)
