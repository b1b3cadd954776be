"""``scripts/standin.py``, which the "try it locally" pages are built on, as a user runs it: start
the Snowflake stand-in and the Monte Carlo sandbox, use the printed connection through the real
SnowflakeHook, stop it with a signal, and find nothing left listening.

Snowflake stands for the five warehouses here (the fastest stand-in to start, ~5 s); each page's
DAG was run end to end against its stand-in when the page was written.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "standin.py"
READY_TIMEOUT_S = 120


def _wait_for(proc: subprocess.Popen[str], marker: str, out: list[str]) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        out.append(line)
        if marker in line:
            return
    stderr = proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
    pytest.fail(f"standin.py did not print {marker!r}: {''.join(out)[-2000:]} {stderr[-2000:]}")


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_standin_script_prints_a_connection_that_works_and_stops_on_sigterm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / "standin.env"
    proc = subprocess.Popen(  # noqa: S603 - our interpreter, our script
        [sys.executable, str(SCRIPT), "snowflake", "--sandbox", "--env-file", str(env_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env=dict(os.environ, AIRFLOW_HOME=str(tmp_path / "airflow")),
    )
    try:
        out: list[str] = []
        _wait_for(proc, "Ctrl-C stops the stand-in", out)
        exports = dict(
            line.removeprefix("export ").split("=", 1) for line in env_file.read_text().splitlines()
        )
        assert set(exports) == {"AIRFLOW_CONN_SNOWFLAKE_DEFAULT", "REQUESTS_CA_BUNDLE", "AIRFLOW_CONN_MONTE_CARLO_DEFAULT"}
        assert "".join(out).count("export ") == 3, "stdout and the env file should say the same"
        # shlex-quoted JSON: strip the single quotes the shell would remove
        conn = json.loads(exports["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"].strip("'"))
        ca_bundle = exports["REQUESTS_CA_BUNDLE"].strip("'")
        assert conn["extra"]["host"] == "127.0.0.1" and Path(ca_bundle).is_file()
        port = conn["extra"]["port"]
        mc = json.loads(exports["AIRFLOW_CONN_MONTE_CARLO_DEFAULT"].strip("'"))
        sandbox_port = int(mc["extra"]["ingest_endpoint"].rsplit(":", 1)[1])
        assert mc["conn_type"] == "monte_carlo" and _listening(sandbox_port)

        # What the docs tell the user to do: export the lines, then use the default connection.
        monkeypatch.setenv("AIRFLOW_CONN_SNOWFLAKE_DEFAULT", json.dumps(conn))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_bundle)
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        rows = SnowflakeHook().get_records("SELECT COUNT(*) FROM ANALYTICS.PUBLIC.ORDERS")
        assert rows[0][0] == 3  # the seed's three orders

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        deadline = time.monotonic() + 15
        while (_listening(port) or _listening(sandbox_port)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _listening(port), f"the stand-in still listens on 127.0.0.1:{port} after the script exited"
        assert not _listening(sandbox_port), f"the sandbox still listens on 127.0.0.1:{sandbox_port}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)

