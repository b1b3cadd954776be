"""AWS stand-in for Glue and Athena: moto's server mode, on 127.0.0.1, a free port.

- ``aws_standin`` (session): one ``moto.server`` process, stopped by PID at the end of the session.
  Airflow's ``GlueCatalogHook`` / ``AthenaHook`` reach it through an ``aws`` connection whose
  extra ``endpoint_url`` points at it (:meth:`AwsStandIn.use`), so boto3 talks to it over HTTP
  exactly as to AWS.
- ``aws`` (function): the same server, reset (``POST /moto-api/reset``) and the connection set.

What moto (5.2) lacks, and what this stand-in does about it:

- ``athena:BatchGetQueryExecution`` is not implemented (HTTP 500). The server is started through a
  small launcher (:data:`LAUNCHER`) that adds it to moto's Athena responses, built from moto's own
  ``GetQueryExecution`` answer for each id (unknown ids come back as
  ``UnprocessedQueryExecutionIds``, as AWS does).
- ``athena:ListQueryExecutions`` returns every id in one page, oldest first. The launcher pages it
  as AWS does: newest first, ``MaxResults`` (<= 50) and ``NextToken``; an unknown workgroup is
  refused with ``InvalidRequestException`` as AWS does (moto would list nothing).
- Query statistics are always 0 (moto runs no query): ``DataScannedInBytes`` cannot be made
  non-zero here; the collector tests cover it with a recorded AWS answer.
- Executions only ever reach SUCCEEDED, or CANCELLED through ``StopQueryExecution``; there is no
  FAILED state and no ``AthenaError``.
- Glue tables have no ``UpdateTime``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.standins.net import free_port

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account

LAUNCHER = r'''
import json, sys
from moto.athena.responses import AthenaResponse

_get_one = AthenaResponse.get_query_execution


def batch_get_query_execution(self):
    ids = self._get_param("QueryExecutionIds") or []
    original = self._get_param
    found, unprocessed = [], []
    try:
        for qid in ids:
            if qid not in self.athena_backend.executions:
                unprocessed.append({"QueryExecutionId": qid, "ErrorCode": "InvalidRequestException",
                                    "ErrorMessage": f"QueryExecution {qid} was not found"})
                continue
            self._get_param = lambda name, default=None, _q=qid: _q if name == "QueryExecutionId" else original(name, default)
            found.append(json.loads(_get_one(self))["QueryExecution"])
    finally:
        self._get_param = original
    return json.dumps({"QueryExecutions": found, "UnprocessedQueryExecutionIds": unprocessed})


def list_query_executions(self):
    workgroup = self._get_param("WorkGroup")
    if workgroup and not self.athena_backend.get_work_group(workgroup):
        # AWS refuses an unknown workgroup (moto would list nothing)
        return self.error(f"WorkGroup {workgroup} is not found.", 400)
    ids = list(self.athena_backend.list_query_executions(workgroup).keys())[::-1]  # newest first, as AWS
    size = min(int(self._get_param("MaxResults") or 50), 50)
    offset = int(self._get_param("NextToken") or 0)
    answer = {"QueryExecutionIds": ids[offset:offset + size]}
    if offset + size < len(ids):
        answer["NextToken"] = str(offset + size)
    return json.dumps(answer)


AthenaResponse.batch_get_query_execution = batch_get_query_execution
AthenaResponse.list_query_executions = list_query_executions

from moto.server import main

main(sys.argv[1:])
'''


@dataclass
class AwsStandIn:
    """A running moto server."""

    host: str
    port: int
    pid: int

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def connection_json(self, region_name: str = REGION) -> str:
        # moto accepts any key pair; these are no real credentials.
        return json.dumps({
            "conn_type": "aws", "login": "standin-key-id", "password": "standin-secret",
            "extra": {"region_name": region_name, "endpoint_url": self.endpoint_url},
        })

    def use(self, monkeypatch: pytest.MonkeyPatch, conn_id: str = "aws_default") -> None:
        """Point the Airflow connection ``conn_id`` at the stand-in (and keep boto3 from looking
        for credentials or a region anywhere else)."""
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", self.connection_json())
        for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    def client(self, service: str) -> Any:
        """A plain boto3 client on the stand-in, for seeding (tests read through the Airflow hooks)."""
        import boto3

        return boto3.client(
            service, region_name=REGION, endpoint_url=self.endpoint_url,
            aws_access_key_id="standin-key-id", aws_secret_access_key="standin-secret",
        )

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the one process we started, by its PID; SIGKILL after a bounded wait."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(STOP_TIMEOUT_S)


@pytest.fixture(scope="session")
def aws_standin() -> Iterator[AwsStandIn]:
    """moto's server on 127.0.0.1, started once per session, stopped by PID."""
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="mcpp-moto-"))
    log_path = workdir / "moto.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )
    try:
        standin = AwsStandIn("127.0.0.1", port, proc.pid)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not _ready(f"{standin.endpoint_url}/moto-api/"):
            if proc.poll() is not None:
                raise RuntimeError(f"moto server exited with {proc.returncode}: {log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto server not ready after {READY_TIMEOUT_S:.0f} s: {log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield standin
    finally:
        _stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def aws(aws_standin: AwsStandIn, monkeypatch: pytest.MonkeyPatch) -> AwsStandIn:
    """The stand-in, emptied, with ``aws_default`` pointing at it."""
    aws_standin.reset()
    aws_standin.use(monkeypatch)
    return aws_standin
