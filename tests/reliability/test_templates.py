"""Manifest contents are never Jinja-rendered (issue 14 item 5): a literal manifest whose SQL
contains ``{{ conn.x.password }}`` is pushed verbatim by a real DAG run (``airflow dags test``),
the connection's password appears nowhere, and ``output_path`` still renders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.dags.push_literal_manifest import SQL

PASSWORD = "x-conn-password-51f0"


def test_literal_manifest_is_pushed_verbatim(mc_sandbox_clean, airflow_db, tmp_path):
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO),
        AIRFLOW_CONN_MONTE_CARLO_DEFAULT=mc_sandbox_clean.connection_uri_json("snowflake"),
        AIRFLOW_CONN_X=json.dumps({"conn_type": "generic", "login": "u", "password": PASSWORD}),
        MONTE_CARLO_PUSH_STATE_PATH=str(tmp_path / "state"),
        MONTE_CARLO_PUSH_RESULTS=str(tmp_path / "results"),
    )
    run = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", "push_literal_manifest",
                          "2026-11-25T10:00:00+00:00"], env=env, capture_output=True, text=True, timeout=300)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-4000:]
    events = mc_sandbox_clean.events("query_logs")
    assert [e["event"]["query_text"] for e in events] == [SQL]  # braces and all
    assert PASSWORD not in json.dumps(events) and PASSWORD not in log
    written = list(Path(tmp_path / "results" / "push_literal_manifest").glob("*.json"))
    assert [p.name for p in written] == ["20261125T100000.json"]  # the path did render
