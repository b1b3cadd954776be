"""Run the sandbox as a subprocess from tests: ``with SandboxProcess() as mc: ...``.

A subprocess (not a thread) so the code under test talks to it exactly as to Monte Carlo: over
real sockets, with its own process lifetime, and a hang in the sandbox cannot wedge the tests.
Stdlib only (urllib), so importing this costs nothing.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from monte_carlo_sandbox import (
    DEFAULT_GRAPHQL_KEY_ID,
    DEFAULT_GRAPHQL_KEY_SECRET,
    DEFAULT_INGEST_KEY_ID,
    DEFAULT_INGEST_KEY_SECRET,
    SANDBOX_WAREHOUSES,
)
from monte_carlo_sandbox.process import ManagedProcess

READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0


class SandboxError(RuntimeError):
    pass


class SandboxProcess:
    """A sandbox subprocess on a free loopback port, with helpers for the admin API."""

    ingest_key_id = DEFAULT_INGEST_KEY_ID
    ingest_key_secret = DEFAULT_INGEST_KEY_SECRET
    graphql_key_id = DEFAULT_GRAPHQL_KEY_ID
    graphql_key_secret = DEFAULT_GRAPHQL_KEY_SECRET

    def __init__(self, *extra_args: str, workdir: str | os.PathLike[str] | None = None, start: bool = True) -> None:
        """``extra_args`` go to the CLI (e.g. ``"--fail-503", "0.5"``)."""
        self._extra_args = list(extra_args)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="mc-sandbox-")
            workdir = self._tmp.name
        self.workdir = Path(workdir)
        self.db_path = self.workdir / "sandbox.sqlite3"
        self.log_path = self.workdir / "sandbox.log"
        self._proc = ManagedProcess("sandbox", self.log_path, stop_timeout_s=STOP_TIMEOUT_S, error=SandboxError)
        self.url = ""
        if start:
            self.start()

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> SandboxProcess:
        if self._proc.pid is not None:
            raise SandboxError("already started")
        ready = self.workdir / "ready.url"
        ready.unlink(missing_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "monte_carlo_sandbox",
            "--port",
            "0",
            "--db",
            str(self.db_path),
            "--ready-file",
            str(ready),
            *self._extra_args,
        ]
        self._proc.start(cmd)
        try:
            self.url = self._proc.wait_until(
                lambda: ready.read_text(encoding="utf-8").strip() if ready.exists() else None,
                timeout_s=READY_TIMEOUT_S,
                poll_s=0.02,
            )
        except SandboxError:
            self.stop()
            raise
        return self

    def stop(self) -> int | None:
        """SIGTERM by pid, SIGKILL after a bounded wait; returns the exit code."""
        code = self._proc.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        return code

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _log_tail(self) -> str:
        return self._proc.log_tail()

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc.running

    # -- endpoints --------------------------------------------------------------------------

    @property
    def ingest_endpoint(self) -> str:
        return self.url

    @property
    def graphql_endpoint(self) -> str:
        return self.url + "/graphql"

    def connection_uri_json(self, resource_type: str = "snowflake", **overrides: Any) -> str:
        """The provider's ``monte_carlo`` Airflow connection as JSON; ``overrides`` replace extras."""
        extra: dict[str, Any] = {
            "graphql_key_id": self.graphql_key_id,
            "graphql_key_secret": self.graphql_key_secret,
            "resource_uuid": SANDBOX_WAREHOUSES[resource_type],
            "ingest_endpoint": self.ingest_endpoint,
            "graphql_endpoint": self.graphql_endpoint,
            "timeout_s": 10,
        }
        extra.update(overrides)
        return json.dumps(
            {
                "conn_type": "monte_carlo",
                "login": self.ingest_key_id,
                "password": self.ingest_key_secret,
                "extra": extra,
            }
        )

    # -- admin API --------------------------------------------------------------------------

    def _admin(self, method: str, route: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/_sandbox/{route}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback URL we started
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise SandboxError(f"{method} /_sandbox/{route}: {exc.code} {exc.read().decode(errors='replace')}") from None

    @staticmethod
    def _kind_query(kind: str | None) -> str:
        return f"?kind={kind}" if kind else ""

    def pushes(self, kind: str | None = None) -> list[dict[str, Any]]:
        return self._admin("GET", "pushes" + self._kind_query(kind))

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        return self._admin("GET", "events" + self._kind_query(kind))

    def stats(self) -> dict[str, Any]:
        return self._admin("GET", "stats")

    def health(self) -> dict[str, Any]:
        return self._admin("GET", "health")

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """e.g. ``set_faults(fail_503=0.5, fail_429=0, slow_ms=200, seed=1)``."""
        return self._admin("POST", "faults", settings)

    def set_visibility(self, **delays: float) -> dict[str, float]:
        """e.g. ``set_visibility(metadata=2, lineage=0, query_logs=5)`` (seconds)."""
        return self._admin("POST", "visibility", delays)

    def hold(self, kind: str | None = None, invocation_ids: list[str] | None = None) -> dict[str, Any]:
        """Hold pushes back: the listed ones, or every push of ``kind`` (all kinds if None)
        accepted from now on. Held pushes are stored (they have invocation_ids) but GraphQL,
        pushEvents included, shows nothing of them until :meth:`release`."""
        return self._admin("POST", "hold" + self._kind_query(kind), {"invocation_ids": invocation_ids or []})

    def release(self, invocation_ids: list[str] | None = None) -> dict[str, Any]:
        """Release the listed held pushes, or every one (and stop holding new pushes)."""
        return self._admin("POST", "release", {"invocation_ids": invocation_ids or []})

    def holds(self) -> dict[str, Any]:
        return self._admin("GET", "holds")

    def reset(self) -> None:
        """Clear data, stats, faults and visibility delays (back to the start-up config)."""
        self._admin("POST", "reset", {})
