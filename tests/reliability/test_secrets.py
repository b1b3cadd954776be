"""Secrets never leak: run real DAGs (push + GraphQL sensor + custom lineage, and a run with a
wrong key) with `airflow dags test`, then grep everything the runs left behind — task logs, the
metadata DB (XCom, rendered fields), push results, checkpoints, stdout/stderr — for the secret
values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

WRONG_INGEST_SECRET = "wrong-ingest-secret-7f3a9c"


def leaks(root: Path, secrets: list[str]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {s}" for s in secrets if s.encode() in data]
    return found


def test_no_secret_in_anything_a_run_leaves_behind(mc_sandbox_clean, tmp_path):
    home = tmp_path / "airflow"
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "example_dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW_CONN_MONTE_CARLO_DEFAULT=mc_sandbox_clean.connection_uri_json("snowflake"),
        MONTE_CARLO_PUSH_RESULTS=str(tmp_path / "results"),
        MONTE_CARLO_PUSH_STATE_PATH=str(tmp_path / "state"),
    )
    airflow = [sys.executable, "-m", "airflow"]
    subprocess.run([*airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    ok = subprocess.run([*airflow, "dags", "test", "monte_carlo_confirm_arrival"], env=env,
                        capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0, (ok.stdout + ok.stderr)[-4000:]
    assert mc_sandbox_clean.pushes(), "the run pushed nothing: the test would prove nothing"

    # A push with a wrong ingestion secret: the operator fails with an explained error. Run in
    # its own interpreter (the example DAG's retries would make `dags test` wait them out).
    conn = json.loads(mc_sandbox_clean.connection_uri_json("snowflake"))
    conn["password"] = WRONG_INGEST_SECRET
    env["AIRFLOW_CONN_MONTE_CARLO_DEFAULT"] = json.dumps(conn)
    env["MONTE_CARLO_PUSH_STATE_PATH"] = str(tmp_path / "state-failed")
    env["PYTHONPATH"] = str(REPO)
    code = (
        "from types import SimpleNamespace\n"
        "from benchmarks.fault_run import build_manifest\n"
        "from monte_carlo_push_provider.operators.push import MonteCarloPushOperator\n"
        "ti = SimpleNamespace(dag_id='d', run_id='r', task_id='push', map_index=-1, try_number=1)\n"
        "MonteCarloPushOperator(task_id='push', manifests=build_manifest(3), min_push_interval=None,\n"
        f"                       output_path={str(tmp_path / 'results' / 'failed.json')!r}).execute({{'ti': ti}})\n"
    )
    failed = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert failed.returncode != 0
    assert "checkpoint 1" in failed.stderr and "MonteCarloRejectedError" in failed.stderr  # explained, not retried...

    secrets = [mc_sandbox_clean.ingest_key_secret, mc_sandbox_clean.graphql_key_secret, WRONG_INGEST_SECRET]
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    for name, run in (("ok", ok), ("failed", failed)):
        (outputs / f"{name}.out").write_text(run.stdout + run.stderr)
    assert leaks(tmp_path, secrets) == []  # ...and nothing anywhere holds a secret
