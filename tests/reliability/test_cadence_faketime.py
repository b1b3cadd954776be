"""Cadence by clock hour, end to end: the hourly DAG ``tests/dags/push_cadence.py`` runs with
``airflow dags test`` under libfaketime (the whole process, Airflow included, at a chosen
wall-clock time), at the jittered times the issue measured: a push at 10:00:40 then 11:00:05
used to skip 11:00 ("now >= last + 1 h"). Each run is a new process sharing one state root."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("faketime") is None, reason="needs libfaketime: apt-get install faketime")

# (logical date, wall-clock time the push runs at)
RUNS = [
    ("2026-11-25T10:00:00+00:00", "2026-11-25 10:00:40"),
    ("2026-11-25T11:00:00+00:00", "2026-11-25 11:00:05"),  # 59 min 25 s later: a new hour
    ("2026-11-25T12:00:00+00:00", "2026-11-25 12:01:58"),
    ("2026-11-25T13:00:00+00:00", "2026-11-25 13:00:01"),  # 58 min 3 s later
    ("2026-11-25T14:00:00+00:00", "2026-11-25 14:00:31"),
]
MANUAL = ("2026-11-25T14:20:00+00:00", "2026-11-25 14:20:00")  # a manual run in the same hour


def dags_test(env: dict[str, str], logical: str, wall: str) -> str:
    run = subprocess.run(
        ["faketime", "-f", f"@{wall}", sys.executable, "-m", "airflow", "dags", "test", "push_cadence", logical],
        env=env, capture_output=True, text=True, timeout=300,
    )
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-4000:]
    return log


def test_jittered_hourly_runs_each_push_and_a_manual_run_in_the_hour_is_skipped(mc_sandbox_clean, airflow_db, tmp_path):
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO),
        AIRFLOW_CONN_MONTE_CARLO_DEFAULT=mc_sandbox_clean.connection_uri_json("snowflake"),
        MONTE_CARLO_PUSH_STATE_PATH=str(tmp_path / "state"),
        MONTE_CARLO_PUSH_RESULTS=str(tmp_path / "results"),
    )
    for logical, wall in RUNS:
        dags_test(env, logical, wall)
    pushes = mc_sandbox_clean.pushes("metadata")
    assert len(pushes) == len(RUNS)  # 5 of 5 hours (the old guard pushed 3: 11:00 and 13:00 were skipped)
    # the faked clock really reached the operator: each push's freshness is its run's wall time
    # (collect runs a few seconds after the process starts at the faked time)
    hours = sorted({e["event"]["relational_asset"]["freshness"]["last_update_time"][:13]
                    for e in mc_sandbox_clean.events("metadata")})
    assert hours == [wall.replace(" ", "T")[:13] for _, wall in RUNS]

    log = dags_test(env, *MANUAL)
    assert len(mc_sandbox_clean.pushes("metadata")) == len(RUNS)  # nothing new in 14:00-15:00
    assert "already pushed in the UTC clock bucket 2026-11-25T14:00:00Z" in log
    assert "next push is allowed from 2026-11-25T15:00:00Z" in log
    results = {p.name: json.loads(p.read_text()) for p in Path(tmp_path / "results").iterdir()}
    manual = results["20261125T142000.json"]  # the skip is in the push result, not a silent green
    assert manual["status"] == "skipped" and manual["nothing_pushed"] and manual["skipped"][0]["code"] == "hourly_bucket"
