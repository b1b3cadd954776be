"""Helpers for running real Airflow with the listener plugin switched on or off.

The plugin reaches Airflow through the ``airflow.plugins`` entry point declared in
pyproject.toml. The shared test venv's editable install predates that entry point, so each test
session writes a minimal ``*.dist-info`` carrying exactly the entry points pyproject.toml declares
and puts it on the subprocess's PYTHONPATH: importlib.metadata finds it the way it finds what
``pip install`` writes, and Airflow loads the plugin through its ordinary entry-point path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomllib

from monte_carlo_sandbox.etl import SANDBOX_ETL_CONTAINERS
from tests.conftest import REPO

AIRFLOW_CONTAINER = SANDBOX_ETL_CONTAINERS["airflow"]


@pytest.fixture(scope="session")
def plugin_entry_point(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sys.path directory holding a dist-info with pyproject.toml's ``airflow.plugins`` entry points."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["airflow.plugins"]
    root = tmp_path_factory.mktemp("entry_points")
    info = root / "monte_carlo_push_provider_plugin_entry_points-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: monte-carlo-push-provider-plugin-entry-points\nVersion: 0.1.0\n"
    )
    lines = ["[airflow.plugins]"] + [f"{name} = {target}" for name, target in declared.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return root


def airflow_env(entry_points: Path, *, push: bool, sandbox: Any = None, state: Path | None = None,
                **settings: str) -> dict[str, str]:
    """The environment of an Airflow subprocess with the listener on or off."""
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(entry_points)])
    env["AIRFLOW__MONTE_CARLO__AIRFLOW_PUSH"] = "True" if push else "False"
    env["AIRFLOW__MONTE_CARLO__AIRFLOW_RESOURCE_UUID"] = AIRFLOW_CONTAINER
    if sandbox is not None:
        env["AIRFLOW_CONN_MONTE_CARLO_DEFAULT"] = sandbox.connection_uri_json(timeout_s=5)
    if state is not None:
        env["AIRFLOW__MONTE_CARLO__STATE_PATH"] = str(state)
    env["AIRFLOW__API__BASE_URL"] = "http://airflow.example.com:8080"
    for key, value in settings.items():
        env[f"AIRFLOW__MONTE_CARLO__{key.upper()}"] = value
    return env


def dags_test(dag_id: str, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """``airflow dags test <dag_id>`` in a subprocess; fails the test with its output on error."""
    out = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id],
        env=env, capture_output=True, text=True, timeout=timeout,
    )
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    return out
