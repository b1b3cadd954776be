"""brickhouse (a local Databricks emulator) behind a loopback TLS proxy, for the real
``databricks-sql-connector`` and Airflow's ``DatabricksSqlHook``.

Why a proxy: the connector always speaks https, brickhouse serves plain http. A small asyncio
TLS terminator with a self-signed certificate for ``IP:127.0.0.1`` sits in front; the connector
trusts it through ``_tls_trusted_ca_file``.

Recipe (``../shared/docs/warehouse-stand-ins.md``, Databricks): the connector must be told
``use_sea=True`` (brickhouse speaks the Statement Execution API, not Thrift),
``use_cloud_fetch=False`` (results inline, no presigned URLs) and
``enable_query_result_lz4_compression=False`` — each one is required.

This module is a helper (it has no fixtures or hooks, so being auto-loaded as a pytest plugin by
``tests/conftest.py`` is harmless); ``tests/standins/databricks.py`` owns the fixtures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from monte_carlo_sandbox.process import ManagedProcess
from tests.standins.net import free_port, make_self_signed_cert

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
#: Token the connection carries. brickhouse does not check it; the hook refuses to connect without one.
TOKEN = "dapi-standin-token"  # noqa: S105 - a placeholder for a local emulator, not a secret


class BrickhouseError(RuntimeError):
    pass


class TlsProxy:
    """TLS on 127.0.0.1:<free port> → plain TCP to 127.0.0.1:<upstream>, in its own event-loop
    thread. Stopped by cancelling its tasks and closing the server (no stray threads)."""

    def __init__(self, upstream_port: int, cert: Path, key: Path) -> None:
        self.upstream_port = upstream_port
        self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ssl.load_cert_chain(cert, key)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="databricks-tls-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    def start(self) -> TlsProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        self.port = future.result(timeout=10)
        return self

    async def _start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self._ssl)
        return int(self._server.sockets[0].getsockname()[1])

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_w.close()
            self._tasks.discard(task)
            return
        try:
            await asyncio.gather(self._pipe(client_r, up_w), self._pipe(up_r, client_w))
        finally:
            for w in (up_w, client_w):
                w.close()
            self._tasks.discard(task)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            with contextlib.suppress(Exception):
                if writer.can_write_eof():
                    writer.write_eof()

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=STOP_TIMEOUT_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STOP_TIMEOUT_S)
        self._loop.close()


class Brickhouse:
    """A brickhouse workspace served on a free loopback port, a SQL warehouse in it, and the TLS
    proxy the connector talks to. ``with Brickhouse() as bh: ...`` or ``start()`` / ``stop()``."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="brickhouse-")
        self.dir = Path(self._tmp.name)
        self.workspace = self.dir / "ws"
        self.log_path = self.dir / "brickhouse.log"
        self.port = 0
        self.warehouse_id = ""
        self.cert = self.key = Path()
        self._proc = ManagedProcess("brickhouse", self.log_path, stop_timeout_s=STOP_TIMEOUT_S, error=BrickhouseError)
        self._proxy: TlsProxy | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Brickhouse:
        env = {**os.environ, "HOME": str(self.dir)}  # keep anything it caches out of the real HOME
        # brickhouse pins an exact sqlglot the Snowflake stand-in cannot share: `make install-test`
        # gives it its own venv; fall back to this interpreter when that venv is absent.
        own = Path(__file__).resolve().parents[2] / ".venv-standins" / "brickhouse" / "bin" / "python"
        cli = [str(own) if own.exists() else sys.executable, "-m", "brickhouse"]
        subprocess.run(
            [*cli, "init", "--workspace", str(self.workspace)],
            check=True, capture_output=True, env=env, timeout=60,
        )
        self.port = free_port()
        self._proc.start(
            [*cli, "serve", "--workspace", str(self.workspace), "--host", "127.0.0.1", "--port", str(self.port)], env=env
        )
        try:
            self._proc.wait_until(self._healthy, timeout_s=READY_TIMEOUT_S, poll_s=0.1)
            self.cert, self.key = make_self_signed_cert(self.dir)
            self._proxy = TlsProxy(self.port, self.cert, self.key).start()
            self.warehouse_id = str(self.api("POST", "/api/2.0/sql/warehouses", {"name": "wh1", "warehouse_type": "PRO", "cluster_size": "2X-Small"})["id"])
        except BaseException:
            self.stop()
            raise
        return self

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2):  # noqa: S310 - loopback
                return True
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        """Proxy first (its tasks are cancelled), then the server by PID: SIGTERM, SIGKILL after a
        bounded wait."""
        if self._proxy is not None:
            self._proxy.stop()
            self._proxy = None
        self._proc.stop()
        self._tmp.cleanup()

    def __enter__(self) -> Brickhouse:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def log_tail(self) -> str:
        return self._proc.log_tail()

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    # -- access -------------------------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call brickhouse's REST API directly (plain http on loopback; set-up only)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback URL we started
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise BrickhouseError(f"{method} {path}: {exc.code} {exc.read().decode(errors='replace')}") from None

    def sql(self, statement: str, parameters: list[dict[str, Any]] | None = None) -> Any:
        """Run one statement through brickhouse's Statement Execution REST API (seeding only).

        DDL and DML go this way because brickhouse answers them without a result manifest, which
        the connector's SEA backend rejects ("Invalid result format") after the statement ran.
        """
        response = self.api(
            "POST", "/api/2.0/sql/statements",
            {
                "statement": statement, "warehouse_id": self.warehouse_id, "wait_timeout": "50s",
                **({"parameters": parameters} if parameters else {}),
            },
        )
        state = response.get("status", {}).get("state")
        if state != "SUCCEEDED":
            raise BrickhouseError(f"{statement[:200]!r}: {state} {response.get('status')}")
        return response

    def create_catalog(self, name: str) -> None:
        self.api("POST", "/api/2.1/unity-catalog/catalogs", {"name": name})

    @property
    def http_path(self) -> str:
        return f"/sql/1.0/warehouses/{self.warehouse_id}"

    @property
    def proxy_port(self) -> int:
        assert self._proxy is not None
        return self._proxy.port

    def connector_params(self) -> dict[str, Any]:
        """The connector flags the recipe requires (each one is needed)."""
        return {
            "use_sea": True,
            "use_cloud_fetch": False,
            "enable_query_result_lz4_compression": False,
            "_tls_trusted_ca_file": str(self.cert),
            "_port": self.proxy_port,
            # Otherwise the connector first asks https://<host>:443 for feature flags (ignoring
            # _port), which waits out its retries on a refused loopback connection.
            "enable_telemetry": False,
        }

    def connection_json(self) -> str:
        """An Airflow ``databricks`` connection (for ``AIRFLOW_CONN_<ID>``): the hook passes
        every extra except ``http_path`` straight to ``databricks.sql.connect``."""
        return json.dumps(
            {
                "conn_type": "databricks",
                "host": "127.0.0.1",
                "password": TOKEN,
                "extra": {"http_path": self.http_path, **self.connector_params()},
            }
        )

    def connect(self) -> Any:
        """A raw connector connection (fixture seeding)."""
        from databricks import sql

        return sql.connect(
            server_hostname="127.0.0.1", http_path=self.http_path, access_token=TOKEN, **self.connector_params()
        )
