"""Re-running a logical date with real Airflow: ``airflow dags test`` on a date that already ran
makes a new manual run (Airflow 3.3 names it ``manual__<now>``) of the same logical date. Before
issue 14 it pushed the same query logs again and wrote over the first push-result file at
``{{ ts_nodash }}.json``. Now the entries already pushed for the resource are skipped — the
push task ends *skipped* with the reason — and the second result file sits beside the first.
(A cleared task instance, same run, pushes again: tests/operators/test_push_exactly_once.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

LOGICAL = "2026-11-26T10:00:00+00:00"


def test_rerun_of_a_logical_date_does_not_push_twice_nor_overwrite_results(mc_sandbox_clean, airflow_db, tmp_path):
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO),
        AIRFLOW_CONN_MONTE_CARLO_DEFAULT=mc_sandbox_clean.connection_uri_json("snowflake"),
        AIRFLOW_CONN_X=json.dumps({"conn_type": "generic", "password": "unused"}),
        MONTE_CARLO_PUSH_STATE_PATH=str(tmp_path / "state"),
        MONTE_CARLO_PUSH_RESULTS=str(tmp_path / "results"),
    )
    logs = []
    for _ in range(2):
        run = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", "push_literal_manifest", LOGICAL],
                             env=env, capture_output=True, text=True, timeout=300)
        logs.append(run.stdout + run.stderr)
        assert run.returncode == 0, logs[-1][-4000:]
    pushes = mc_sandbox_clean.pushes("query_logs")
    assert len(pushes) == 1  # the re-run did not push the same query again
    assert "were already pushed for this resource by push_literal_manifest/manual__" in logs[1]
    assert "Skipping task" in logs[1]  # the task ends skipped, not a silent green
    results = {p.name: json.loads(p.read_text()) for p in Path(tmp_path / "results" / "push_literal_manifest").iterdir()}
    assert sorted(results) == ["20261126T100000.json", "20261126T100000.try1.json"]  # nothing overwritten
    assert results["20261126T100000.json"]["invocation_ids"] == [pushes[0]["invocation_id"]]
    second = results["20261126T100000.try1.json"]
    assert second["status"] == "skipped" and second["skipped"][0]["code"] == "already_pushed"
    assert second["run_id"] != results["20261126T100000.json"]["run_id"]
