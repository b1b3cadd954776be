"""``example_dags/hive_to_monte_carlo.py`` run for real: metadata from the Hive stand-in's
metastore (``tests/standins/hive.py``), query logs and lineage from HiveServer2 log files (those
``tests/operators/test_hive.py`` writes) in a directory laid out as EMR ships them, named by the
example's ``hive_log_path`` Variable (``AIRFLOW_VAR_HIVE_LOG_PATH``). Its default, an ``s3://``
bucket, needs s3fs, which cannot be installed next to this environment's botocore."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.example_dags.runner import dags_test, lineage_edges, relational_assets
from tests.operators.test_hive import write_logs

LOGICAL = datetime(2026, 11, 25, 11, tzinfo=timezone.utc)  # reads [10:00, 11:00), the logs' hour


def test_hive_example(
    hive_conns: Any, mc_conn: Any, airflow_db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "j-CLUSTERID" / "node"
    write_logs(root / "i-0standin" / "applications" / "hive")
    monkeypatch.setenv("AIRFLOW_VAR_HIVE_LOG_PATH", f"file://{root}/")
    mc_conn.use("data-lake")
    run = dags_test("hive_to_monte_carlo", tmp_path, logical_date=LOGICAL)
    print(f"hive: {run.seconds:.1f} s")

    assets = {(a["metadata"]["schema"], a["metadata"]["name"]): a for a in relational_assets(mc_conn)}
    assert {("sales", n) for n in ("big_orders", "events", "orders", "raw_clicks")} <= set(assets), sorted(assets)
    assert assets[("sales", "big_orders")]["type"] == "VIEW"
    # the statements of the hour, from the live file under the node's folder (recursive)
    assert [e["event"]["query_id"] for e in mc_conn.events("query_logs")] == ["hive_1", "hive_2", "hive_3", "hive_4"]
    # sales.stage, created and dropped within the hour, is resolved through
    assert lineage_edges(mc_conn) == [("sales.sales.order_report", ("sales.sales.orders",))]
    seen = run.confirmation()
    assert re.match(r"metadata (\d+)/\1 confirmed\. lineage (\d+)/\2 confirmed\. query_logs (\d+)/\3 confirmed$", seen)
