"""The CLI: readiness line, loopback only, start-up flags, clean exit on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from monte_carlo_sandbox.testing import SandboxProcess
from tests.sandbox.helpers import metadata_body, post

#: The console script the distribution installs, beside this interpreter, and ``python -m``.
COMMANDS = {
    "console-script": [str(Path(sys.executable).parent / "monte-carlo-sandbox")],
    "python-m": [sys.executable, "-m", "monte_carlo_sandbox"],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_prints_one_ready_line_and_exits_0_on_sigterm(tmp_path, command):
    proc = subprocess.Popen(
        [*command, "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("Monte Carlo sandbox listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[-1].strip()
        assert requests.get(url + "/_sandbox/health", timeout=5).json() == {"status": "ok"}
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(10) == 0
        assert proc.stdout.read() == ""  # exactly one line
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)


def test_refuses_non_loopback_host():
    result = subprocess.run(
        [sys.executable, "-m", "monte_carlo_sandbox", "--port", "0", "--host", "0.0.0.0"],  # noqa: S104
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert "loopback only" in result.stderr


def test_startup_flags_and_sandbox_process(tmp_path):
    with SandboxProcess("--fail-429", "1", "--retry-after-s", "3", "--visibility-delay-s", "metadata=60",
                        workdir=tmp_path) as sb:
        assert sb.running and sb.pid
        r = post(sb, "/ingest/v1/metadata", metadata_body())
        assert r.status_code == 429 and r.headers["Retry-After"] == "3"
        assert sb.set_visibility(lineage=1)["metadata"] == 60.0
        pid = sb.pid
    assert sb.pid is None
    # The process is gone (stopped by pid).
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive


def test_connection_uri_json(mc_sandbox):
    import json

    from monte_carlo_sandbox import SANDBOX_WAREHOUSES

    conn = json.loads(mc_sandbox.connection_uri_json("bigquery", timeout_s=3))
    assert conn["conn_type"] == "monte_carlo"
    assert conn["login"] == "sandbox-ingest-id" and conn["password"] == "sandbox-ingest-secret"
    assert conn["extra"] == {
        "graphql_key_id": "sandbox-graphql-id",
        "graphql_key_secret": "sandbox-graphql-secret",
        "resource_uuid": SANDBOX_WAREHOUSES["bigquery"],
        "ingest_endpoint": mc_sandbox.url,
        "graphql_endpoint": mc_sandbox.url + "/graphql",
        "timeout_s": 3,
    }
