"""Test session set-up shared by every suite.

Airflow reads its configuration at import, so the environment is set here, before any test
module imports Airflow: a private AIRFLOW_HOME with a SQLite metadata DB (migrated once per
session, only when a test asks for it), no example DAGs, and ``tests/dags`` as the DAGs folder
(``dag.test()`` only runs DAG files that live in the configured folder).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
DAGS_FOLDER = REPO / "tests" / "dags"
_HOME = Path(tempfile.mkdtemp(prefix="mcpp-airflow-home-"))
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)

os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "INFO"
os.environ["MONTE_CARLO_PUSH_STATE_PATH"] = str(_HOME / "push_state")
os.environ.setdefault("PYTHONPATH", str(REPO))

# Stand-in fixtures (one module per warehouse under tests/standins/) register themselves here.
pytest_plugins = ["monte_carlo_sandbox.pytest_plugin"] + sorted(
    f"tests.standins.{p.stem}" for p in (REPO / "tests" / "standins").glob("*.py") if p.stem != "__init__"
)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata DB for tests that run real DAGs (``dag.test()``)."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
        timeout=300,
    )
    return _HOME


@pytest.fixture
def state_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh push-state root (checkpoints and the hourly ledger) for one test."""
    path = tmp_path / "push_state"
    monkeypatch.setenv("MONTE_CARLO_PUSH_STATE_PATH", str(path))
    return path


@pytest.fixture
def mc_conn(mc_sandbox_clean: Any, monkeypatch: pytest.MonkeyPatch, state_path: Path) -> Any:
    """The ``monte_carlo_default`` connection pointing at a clean sandbox (Snowflake resource).

    Use ``mc_conn.use(resource_type)`` to switch the connection to another sandbox warehouse.
    """

    def use(resource_type: str = "snowflake", conn_id: str = "monte_carlo_default", **extra: Any) -> None:
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn_id.upper()}", mc_sandbox_clean.connection_uri_json(resource_type, **extra)
        )

    use()
    mc_sandbox_clean.use = use
    return mc_sandbox_clean


def make_context(task_id: str = "task", dag_id: str = "test_dag", run_id: str = "manual__test",
                 map_index: int = -1, try_number: int = 1, **extra: Any) -> dict[str, Any]:
    """A task context for calling ``operator.execute(context)`` directly.

    The TaskInstance here is a stand-in (identity fields only): tests that need the real thing
    run a DAG with ``dag.test()``. Everything else the operator touches is real.
    """
    ti = SimpleNamespace(task_id=task_id, dag_id=dag_id, run_id=run_id, map_index=map_index, try_number=try_number)
    return {"ti": ti, "run_id": run_id, **extra}
