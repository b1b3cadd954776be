"""The dag-run hooks as the scheduler calls them: inside its loop, on a DagRun bound to the
scheduler's session, under Airflow's commit guard (``prohibit_commit``). A listener that commits
there (``dag_run.get_task_instances()`` opens the same scoped session and commits it) makes the
scheduler exit with ``UNEXPECTED COMMIT - THIS WILL BREAK HA LOCKS!`` — seen in an
``airflow standalone`` experiment. Running a whole scheduler is too slow for the suite, so this
replays its call: ``DagRun.notify_dagrun_state_changed`` from ``DagRun.update_state``, with the
SerializedDAG the scheduler attaches, inside ``prohibit_commit``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.listeners.conftest import airflow_env, dags_test

REPLAY = """
from airflow.models.dagbag import DBDagBag
from airflow.models.dagrun import DagRun
from airflow.utils.session import create_session
from airflow.utils.sqlalchemy import prohibit_commit

with create_session() as session:
    with prohibit_commit(session) as guard:
        run = (session.query(DagRun).filter(DagRun.dag_id == "listener_chain_retry")
               .order_by(DagRun.id.desc()).first())
        run.dag = DBDagBag().get_dag_for_run(run, session=session)
        run.notify_dagrun_state_changed(msg="success")
        guard.commit()  # the scheduler's own commit still works: the session was not broken
print("REPLAYED", run.run_id)
"""


def test_dag_run_hooks_do_not_commit_inside_the_scheduler_loop(airflow_db, mc_sandbox_clean, plugin_entry_point,
                                                                tmp_path: Path):
    env = airflow_env(plugin_entry_point, push=False, sandbox=mc_sandbox_clean, state=tmp_path / "state")
    dags_test("listener_chain_retry", env)  # a finished run in the DB, nothing sent (listener off)
    assert mc_sandbox_clean.pushes() == []

    env = airflow_env(plugin_entry_point, push=True, sandbox=mc_sandbox_clean, state=tmp_path / "state")
    out = subprocess.run([sys.executable, "-c", REPLAY], env=env, capture_output=True, text=True, timeout=300)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert "REPLAYED" in log
    assert "UNEXPECTED COMMIT" not in log and "Error while calling listener" not in log, log[-4000:]

    (metadata,) = [e["event"]["etl_asset"] for e in mc_sandbox_clean.events("etl_metadata")]
    assert metadata["is_paused"] in (True, False)  # the scheduler side knows the paused state
    assert len(metadata["tasks"]) == 3
    (run,) = [e["event"] for e in mc_sandbox_clean.events("etl_runs")]
    assert run["status"] == "success"
    assert sorted(t["task_source_id"] for t in run["task_runs"]) == ["extract", "load", "transform"]
