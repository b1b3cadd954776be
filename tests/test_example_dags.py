"""Example DAGs: every file parses, and the hourly demo DAG runs for real with
``airflow dags test`` (collect from SQLite -> push to the sandbox)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

EXAMPLES = REPO / "example_dags"


def test_example_dags_parse_without_errors():
    code = (
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(EXAMPLES)!r})\n"
        "import json; print(json.dumps({'errors': {k: str(v)[:500] for k, v in bag.import_errors.items()}, 'dags': sorted(bag.dag_ids)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert "monte_carlo_push_hourly" in result["dags"]


def test_hourly_example_dag_pushes_to_sandbox(mc_sandbox_clean, airflow_db, tmp_path):
    import sqlite3

    wh = tmp_path / "wh.db"
    db = sqlite3.connect(wh)
    db.executescript("CREATE TABLE a (id INT, name TEXT); CREATE VIEW v AS SELECT id FROM a;")
    db.close()
    env = dict(os.environ)
    env.update(
        AIRFLOW__CORE__DAGS_FOLDER=str(EXAMPLES),
        AIRFLOW_CONN_DEMO_WAREHOUSE=json.dumps({"conn_type": "sqlite", "host": str(wh)}),
        AIRFLOW_CONN_MONTE_CARLO_DEFAULT=mc_sandbox_clean.connection_uri_json("data-lake"),
        MONTE_CARLO_PUSH_RESULTS=str(tmp_path / "results"),
        MONTE_CARLO_PUSH_STATE_PATH=str(tmp_path / "state"),
    )
    run = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", "monte_carlo_push_hourly"],
                         capture_output=True, text=True, env=env, timeout=300)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-4000:]
    pushes = mc_sandbox_clean.pushes("metadata")
    assert len(pushes) == 1
    invocation_id = pushes[0]["invocation_id"]
    assert re.search(rf"batch 1/1: 2 events, .* gzip, invocation_id={invocation_id}", log)
    names = sorted(e["event"]["relational_asset"]["metadata"]["name"] for e in mc_sandbox_clean.events("metadata"))
    assert names == ["a", "v"]
    results = list(Path(tmp_path / "results").rglob("*.json"))
    assert len(results) == 1 and json.loads(results[0].read_text())["invocation_ids"] == [invocation_id]
