"""Run an example DAG the way a user tries it: ``airflow dags test <dag_id>`` in a subprocess with
``example_dags/`` as the DAGs folder, the connections the stand-in fixtures put in the
environment (``AIRFLOW_CONN_*``), and push state and results under the test's tmp dir.

The examples are run as they are written: where a stand-in needs something else (a TLS
certificate, an endpoint, a catalog), it comes from the connection in the environment, never
from an edit of the example.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.conftest import REPO

EXAMPLES = REPO / "example_dags"
# the sensor's (or its trigger's) line, without the logger name structlog appends
CONFIRMED = re.compile(r"Monte Carlo shows this push: ([^\[\n]+?)\s*(?:\[|$)", re.M)


@dataclass
class ExampleRun:
    dag_id: str
    log: str
    seconds: float

    def confirmation(self) -> str:
        """What the sensor (or its trigger, when it deferred) logged when Monte Carlo (the
        sandbox) showed this push: ``metadata 3/3 confirmed. lineage 1/1 confirmed. ...``."""
        seen = CONFIRMED.findall(self.log)
        assert seen, f"{self.dag_id}: the sensor logged no confirmation"
        return seen[-1]


def dags_test(
    dag_id: str,
    tmp_path: Path,
    *,
    logical_date: datetime | None = None,
    clock_offset_s: int | None = None,
    timeout_s: float = 600,
) -> ExampleRun:
    """``airflow dags test`` of one example, with the environment the test's fixtures set (the
    stand-in's and the sandbox's ``AIRFLOW_CONN_*``); ``clock_offset_s`` runs the process that
    many seconds ahead of the real clock (libfaketime), to choose the clock hour it pushes in."""
    full_env = dict(os.environ)
    full_env.update(
        AIRFLOW__CORE__DAGS_FOLDER=str(EXAMPLES),
        MONTE_CARLO_PUSH_STATE_PATH=str(tmp_path / "state"),
        MONTE_CARLO_PUSH_RESULTS=str(tmp_path / "results"),
        PYTHONPATH=str(REPO),
    )
    cmd = [sys.executable, "-m", "airflow", "dags", "test", dag_id]
    if logical_date is not None:
        cmd.append(logical_date.isoformat())
    if clock_offset_s is not None:
        cmd = ["faketime", "-f", f"+{clock_offset_s}", *cmd]
    log_path = tmp_path / f"{dag_id}.log"  # kept on a timeout, to read what it waited for
    started = time.monotonic()
    with log_path.open("w") as out:
        returncode = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=full_env, timeout=timeout_s).returncode
    log = log_path.read_text()
    assert returncode == 0, f"airflow dags test {dag_id} failed:\n{log[-6000:]}"
    # `dags test` can report the run a success when a task failed as its state was recorded (a
    # sensor whose asset event Airflow refused did): every task must have ended well
    assert "new_state=failed" not in log, f"airflow dags test {dag_id}: a task failed:\n{log[-6000:]}"
    return ExampleRun(dag_id, log, time.monotonic() - started)


def seconds_to_next_hour(margin_s: int = 30) -> int:
    """An offset that puts a process clock ``margin_s`` into the next UTC clock hour."""
    now = datetime.now(timezone.utc)
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return int((next_hour - now).total_seconds()) + margin_s


def relational_assets(sandbox: Any) -> list[dict[str, Any]]:
    return [e["event"]["relational_asset"] for e in sandbox.events("metadata")]


def lineage_edges(sandbox: Any) -> list[tuple[str, tuple[str, ...]]]:
    """``(destination, sources)`` of every lineage event, names as ``database.schema.name``."""

    def name(ref: dict[str, Any]) -> str:
        return ".".join(str(ref.get(k)) for k in ("database", "schema", "name"))

    return sorted(
        (name(e["event"]["destination"]), tuple(sorted(name(s) for s in e["event"]["sources"])))
        for e in sandbox.events("lineage")
    )
