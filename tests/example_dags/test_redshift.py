"""``example_dags/redshift_to_monte_carlo.py`` run for real against PostgreSQL playing Redshift
(``tests/standins/redshift.py``: Redshift's system views over PostgreSQL behind pgbouncer) with
the history rows ``tests/operators/test_redshift.py`` seeds, and the sandbox."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.example_dags.runner import dags_test, lineage_edges, relational_assets
from tests.operators.test_redshift import _seed_history
from tests.standins.redshift import HOSTILE_DATABASE, HOSTILE_SCHEMA, HOSTILE_TABLE, RedshiftCatalog

# Logical date 11:00: the hour before, shifted back 10 minutes, is [09:50, 10:50): the seeded
# statements of 10:00-10:00:30 (and not the one ending after 10:50).
LOGICAL = datetime(2026, 3, 1, 11, tzinfo=timezone.utc)


def test_redshift_example(
    redshift_catalog: RedshiftCatalog, mc_conn: Any, airflow_db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rs = redshift_catalog.standin
    rs.reset_logs()
    _seed_history(rs)
    rs.use(monkeypatch)
    mc_conn.use("redshift")
    run = dags_test("redshift_to_monte_carlo", tmp_path, logical_date=LOGICAL)
    print(f"redshift: {run.seconds:.1f} s")

    # metadata of every database the user sees (the datashare consumer database is skipped)
    names = {(a["metadata"]["database"], a["metadata"]["schema"], a["metadata"]["name"]): a
             for a in relational_assets(mc_conn)}
    assert {("dev", "analytics", "orders"), ("dev", "analytics", "big_orders"), ("dev", "analytics", "empty_table"),
            ("dev", HOSTILE_SCHEMA, HOSTILE_TABLE), (HOSTILE_DATABASE, "mart", "daily")} <= set(names), sorted(names)
    orders = names[("dev", "analytics", "orders")]
    assert orders["volume"]["row_count"] == 3 and [f["name"] for f in orders["fields"]][:2] == ["id", "amount"]
    assert not any(db == "shared_sales" for db, _, _ in names)
    # query logs: the window's statements, the failed one included, not Redshift's own user's
    assert sorted(e["event"]["query_id"] for e in mc_conn.events("query_logs")) == [
        "201", "202", "203", "204", "205", "206", "207"]
    edges = dict(lineage_edges(mc_conn))
    # query lineage: #stage resolved per session (orders -> daily_orders, customers -> customer_copy)
    assert edges["dev.mart.daily_orders"] == ("dev.analytics.orders",)
    assert edges["dev.mart.customer_copy"] == ("dev.analytics.customers",)
    # view lineage: the view's definition parsed
    assert edges["dev.analytics.big_orders"] == ("dev.analytics.orders",)
    # the hostile quoted mixed-case table: one node, named as the metadata push names it, so the
    # sensor confirms its edge
    assert edges[f"dev.{HOSTILE_SCHEMA}.{HOSTILE_TABLE}"] == ("dev.analytics.orders",)
    seen = run.confirmation()
    assert re.match(r"metadata (\d+)/\1 confirmed\. lineage (\d+)/\2 confirmed\. query_logs (\d+)/\3 confirmed$", seen)
