"""Column-lineage keep-alive across real days: the daily DAG ``tests/dags/lineage_keep_alive.py``
runs with ``airflow dags test`` under libfaketime (the whole process, Airflow included, on the
chosen day), each run a new process sharing one state root, pushing to the sandbox over HTTP.

Day 0 collects column lineage into orders_clean; the query never runs again. Day 8 collects
customers_clean only: orders_clean, last pushed 8 days ago, is re-pushed before Monte Carlo's
10-day expiry with an invocation_id of its own. Day 9 re-pushes nothing. Day 31: orders_clean
was last seen 31 days ago (> the 30-day default keep_alive) and is let go; customers_clean (seen
on day 8, last pushed on day 8) is refreshed."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("faketime") is None, reason="needs libfaketime: apt-get install faketime")


def dags_test(env: dict[str, str], logical: str, wall: str, edges: str) -> str:
    run = subprocess.run(
        ["faketime", "-f", f"@{wall}", sys.executable, "-m", "airflow", "dags", "test", "lineage_keep_alive", logical],
        env={**env, "LINEAGE_EDGES": edges}, capture_output=True, text=True, timeout=300,
    )
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-4000:]
    return log


def new_events(sandbox, seen: int) -> list[tuple[str, str]]:
    return [(e["event"]["destination"]["name"], e["invocation_id"]) for e in sandbox.events("lineage")[seen:]]


def test_column_lineage_keep_alive_across_days(mc_sandbox_clean, airflow_db, tmp_path):
    results = tmp_path / "results"
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO),
        AIRFLOW_CONN_MONTE_CARLO_DEFAULT=mc_sandbox_clean.connection_uri_json("snowflake"),
        MONTE_CARLO_PUSH_STATE_PATH=str(tmp_path / "state"),
        MONTE_CARLO_PUSH_RESULTS=str(results),
    )

    def result(day: str) -> dict:
        return json.loads((results / f"{day}.json").read_text())

    dags_test(env, "2026-11-02T00:00:00+00:00", "2026-11-03 00:10:40", "orders_clean")  # day 0
    day0 = new_events(mc_sandbox_clean, 0)
    assert [d for d, _ in day0] == ["orders_clean"]
    seen = len(day0)

    log = dags_test(env, "2026-11-10T00:00:00+00:00", "2026-11-11 00:09:58", "customers_clean")  # day 8
    day8 = dict(new_events(mc_sandbox_clean, seen))
    assert sorted(day8) == ["customers_clean", "orders_clean"], log[-6000:]
    refresh_id = day8["orders_clean"]
    assert refresh_id != day0[0][1]  # the sandbox received it again, under a new invocation_id
    pushed = result("20261110")
    [batch] = [b for b in pushed["batches"] if b["flow"] == "column_lineage_refresh"]
    assert batch["invocation_id"] == refresh_id
    assert pushed["lineage_refresh"][0]["invocation_ids"] == [refresh_id] and refresh_id in pushed["invocation_ids"]
    assert f"re-pushed 1 edge(s) before they expire; invocation_ids: {refresh_id}" in log
    seen += len(day8)

    dags_test(env, "2026-11-11T00:00:00+00:00", "2026-11-12 00:11:02", "")  # day 9: nothing due
    assert new_events(mc_sandbox_clean, seen) == []
    assert result("20261111")["batches"] == [] and result("20261111")["lineage_refresh"][0]["refreshed"] == 0

    log = dags_test(env, "2026-12-03T00:00:00+00:00", "2026-12-04 00:10:15", "")  # day 31
    assert [d for d, _ in new_events(mc_sandbox_clean, seen)] == ["customers_clean"]
    assert "let go 1 edge(s) not seen for more than 30 days" in log and "D:S.orders_clean" in log
    day31 = result("20261203")["lineage_refresh"][0]
    assert (day31["refreshed"], day31["let_go"], day31["ledger_edges"]) == (1, 1, 1)
    [ledger_file] = Path(tmp_path, "state", "lineage_keepalive").rglob("snowflake.json.gz")
    ledger = json.loads(gzip.decompress(ledger_file.read_bytes()))
    assert [e["destination"] for e in ledger["edges"].values()] == ["D:S.customers_clean"]
