"""``example_dags/databricks_to_monte_carlo.py`` run for real against brickhouse
(``tests/standins/databricks.py``: the Databricks SQL connector over TLS, Unity Catalog's
``information_schema`` and the seeded ``system.access`` / ``system.query`` tables) and the
sandbox, with the expectations ``tests/operators/test_databricks.py`` checks the collectors by."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.example_dags.runner import dags_test, relational_assets
from tests.operators.test_databricks import (
    EXPECTED_COLUMN_LINEAGE,
    EXPECTED_QUERY_LOGS,
    EXPECTED_TABLE_LINEAGE,
)

# Logical date 11:00: the hour before, shifted back the example's one-hour lag, is [09:00, 10:00),
# the seeded window.
LOGICAL = datetime(2026, 11, 25, 11, tzinfo=timezone.utc)


def test_databricks_example(databricks_conn: str, mc_conn: Any, airflow_db: Any, tmp_path: Path) -> None:
    mc_conn.use("databricks")
    run = dags_test("databricks_to_monte_carlo", tmp_path, logical_date=LOGICAL)
    print(f"databricks: {run.seconds:.1f} s")

    assets = {(a["metadata"]["database"], a["metadata"]["schema"], a["metadata"]["name"]): a
              for a in relational_assets(mc_conn)}
    # every catalog the token sees (system excluded), with columns
    assert {c for c, _, _ in assets} == {"ops", "sales"}
    assert {("sales", "core", "orders"), ("sales", "core", "v_orders"), ("ops", "monitoring", "events")} <= set(assets)
    assert assets[("sales", "core", "orders")]["fields"]
    assert [e["event"] for e in mc_conn.events("lineage")] == EXPECTED_TABLE_LINEAGE + EXPECTED_COLUMN_LINEAGE
    assert [e["event"] for e in mc_conn.events("query_logs")] == EXPECTED_QUERY_LOGS
    seen = run.confirmation()
    assert re.match(r"metadata (\d+)/\1 confirmed\. lineage (\d+)/\2 confirmed\. query_logs (\d+)/\3 confirmed$", seen)
