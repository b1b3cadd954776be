"""HTTP front: routing, authentication, fault injection, stats. Loopback only.

Answers like the real services where the contract says how (202 + invocation_id, 400 + message,
401/403 for keys, 429 + Retry-After, 503) and keeps per-path/status counters for the admin API.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from monte_carlo_sandbox import (
    DEFAULT_GRAPHQL_KEY_ID,
    DEFAULT_GRAPHQL_KEY_SECRET,
    DEFAULT_INGEST_KEY_ID,
    DEFAULT_INGEST_KEY_SECRET,
    FLOWS,
    SANDBOX_WAREHOUSES,
)
from monte_carlo_sandbox.etl import (
    ETL_KINDS,
    ETL_PATHS,
    SANDBOX_ETL_CONTAINERS,
    validate_etl_push,
)
from monte_carlo_sandbox.faults import FaultConfig, Faults
from monte_carlo_sandbox.store import Store
from monte_carlo_sandbox.validation import INGEST_PATHS, IngestRejected, validate_push
from monte_carlo_sandbox.views import ReadModel, Visibility

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: Refuse bodies beyond this before reading them (the 1 MB compressed rule is checked after).
MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 0
    db_path: str = ":memory:"
    ingest_key_id: str = DEFAULT_INGEST_KEY_ID
    ingest_key_secret: str = DEFAULT_INGEST_KEY_SECRET
    graphql_key_id: str = DEFAULT_GRAPHQL_KEY_ID
    graphql_key_secret: str = DEFAULT_GRAPHQL_KEY_SECRET
    faults: FaultConfig = field(default_factory=FaultConfig)
    visibility: dict[str, float] = field(default_factory=dict)


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self.requests: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()
            self.accepted = 0
            self.rejected = 0
            self.dropped_after_accept = 0
            self.broken_after_accept = 0  # stored, then reset / truncated / non-JSON answer

    def request(self, path: str, status: int | str) -> None:
        with self._lock:
            self.requests[f"{path} {status}"] += 1

    def bump(self, name: str, fault: str | None = None) -> None:
        with self._lock:
            if fault:
                self.faults[fault] += 1
            else:
                setattr(self, name, getattr(self, name) + 1)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "accepted": self.accepted,
                "rejected": self.rejected,
                "faults_injected": dict(self.faults),
                "dropped_after_accept": self.dropped_after_accept,
                "broken_after_accept": self.broken_after_accept,
            }


class Sandbox:
    """The application: everything a request handler needs, independent of the socket layer."""

    def __init__(self, config: SandboxConfig, clock: Callable[[], float] = time.time) -> None:
        if config.host not in LOOPBACK_HOSTS:
            raise ValueError(f"the sandbox binds loopback only (127.0.0.1, ::1, localhost), not {config.host!r}")
        self.config = config
        self.clock = clock
        self.store = Store(config.db_path)
        self.faults = Faults(FaultConfig(**asdict(config.faults)))
        self.visibility = Visibility(config.visibility)
        self.model = ReadModel(self.store, self.visibility, clock)
        self.stats = Stats()
        self._graphql: Any = None
        self._graphql_lock = threading.Lock()
        #: resource uuid -> resource_type
        self.warehouses = {u: t for t, u in SANDBOX_WAREHOUSES.items()}
        #: ETL container uuid -> its type (sandbox/etl.py)
        self.etl_containers = {u: t for t, u in SANDBOX_ETL_CONTAINERS.items()}

    @property
    def graphql(self) -> Any:
        # Imported lazily: graphql-core and the 10 MB schema cost ~0.3 s that ingest-only runs skip.
        with self._graphql_lock:
            if self._graphql is None:
                from monte_carlo_sandbox.graphql_api import GraphQLApi

                self._graphql = GraphQLApi(self.store, self.model, self.clock)
            return self._graphql

    def reset(self) -> None:
        self.store.reset()
        self.stats.reset()
        self.faults.reset(self.config.faults)
        self.visibility.update(dict.fromkeys(FLOWS, 0.0))
        self.visibility.update(self.config.visibility)

    def authenticate(self, headers: Any, *, graphql: bool) -> tuple[int, str] | None:
        """None if the key is right for the endpoint, else (status, message)."""
        key_id, token = headers.get("x-mcd-id"), headers.get("x-mcd-token")
        needed = "GraphQL API key" if graphql else "ingestion key (scope Ingestion)"
        if not key_id or not token:
            return 401, f"Missing x-mcd-id / x-mcd-token headers: this endpoint needs an {needed}"
        c = self.config
        mine = (c.graphql_key_id, c.graphql_key_secret) if graphql else (c.ingest_key_id, c.ingest_key_secret)
        other = (c.ingest_key_id, c.ingest_key_secret) if graphql else (c.graphql_key_id, c.graphql_key_secret)
        if key_id == mine[0]:
            return None if token == mine[1] else (401, "Invalid token for key id " + key_id)
        if key_id == other[0]:
            if graphql:
                return 403, (
                    f"Key {key_id} is an ingestion key; /graphql needs a GraphQL API key "
                    "(the ingestion key works only on the integration gateway's /ingest/v1/* endpoints)"
                )
            return 403, (
                f"Key {key_id} is a GraphQL API key; /ingest/v1/* needs an ingestion key "
                "(an integration key with scope Ingestion)"
            )
        return 401, f"Unknown key id {key_id}"

    def accept(self, path: str, body: bytes) -> tuple[int, dict[str, Any], str | None]:
        """Validate and store one push: (status, JSON body, invocation_id if stored)."""
        try:
            if path in ETL_PATHS:
                push = validate_etl_push(path, body, self.etl_containers)
            else:
                push = validate_push(path, body, self.warehouses)
        except IngestRejected as exc:
            self.stats.bump("rejected")
            return exc.status, {"message": exc.message}, None
        invocation_id = str(uuid.uuid4())
        record = {
            "invocation_id": invocation_id,
            "path": path,
            "kind": push.kind,
            "event_type": push.event_type,
            "resource_uuid": push.resource_uuid,
            "resource_type": push.resource_type,
            "log_type": push.log_type,
            "received_at": self.clock(),
            "event_count": len(push.events),
            "raw_bytes": push.raw_bytes,
            "gzip_bytes": push.gzip_bytes,
        }
        self.store.add_push(record, push.events)
        self.stats.bump("accepted")
        return 202, {"invocation_id": invocation_id}, invocation_id


class _Handler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "MonteCarloSandbox/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: tests read stats and pushes, not access logs

    # -- helpers ----------------------------------------------------------------------------

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        # Count before answering: a client that reads the stats right after its answer must see it.
        if not self._path.startswith("/_sandbox/"):  # admin calls would drown the real traffic
            self.server.app.stats.request(self._path, status)
        drip = self.server.app.faults.config.drip_ms if self._path in INGEST_PATHS else 0
        if drip:
            self._drip(status, data, headers or {}, drip / 1000.0)
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _drip(self, status: int, data: bytes, headers: dict[str, str], interval: float) -> None:
        """Write the whole answer, status line included, one byte per ``interval`` seconds."""
        self.server.app.stats.bump("", fault="drip")
        head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}", "Content-Type: application/json",
                f"Content-Length: {len(data)}", *(f"{k}: {v}" for k, v in headers.items())]
        raw = ("\r\n".join(head) + "\r\n\r\n").encode() + data
        self.close_connection = True
        try:
            for i in range(len(raw)):
                if self.server.stopping.is_set():
                    break
                self.wfile.write(raw[i : i + 1])
                time.sleep(interval)
        except OSError:
            pass  # the client gave up: what a deadline is for

    def _broken_answer(self, fault: str, invocation_id: str) -> None:
        """Answer a stored push so the client cannot tell it was accepted."""
        app = self.server.app
        app.store.mark_dropped(invocation_id)
        app.stats.bump("broken_after_accept")
        app.stats.bump("", fault=f"{fault}_after_accept")
        app.stats.request(self._path, fault)
        self.close_connection = True
        sock: socket.socket = self.connection
        if fault == "reset":
            # SO_LINGER 0: close() sends RST instead of FIN ("connection reset by peer").
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            return
        if fault == "truncate":
            data = json.dumps({"invocation_id": invocation_id}).encode()
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
        else:  # non_json: what a proxy in front of the gateway might answer
            data = b"<html><body>Accepted</body></html>"
            self.send_response(202)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        try:
            self.wfile.flush()
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length else b""

    @property
    def _path(self) -> str:
        return urlsplit(self.path).path

    # -- dispatch ---------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802
        if self._path.startswith("/_sandbox/"):
            self._admin("GET")
        else:
            known = self._path in INGEST_PATHS or self._path in ETL_PATHS or self._path == "/graphql"
            self._send(405 if known else 404, {"message": "Not found"})

    def do_POST(self) -> None:  # noqa: N802
        path = self._path
        if path.startswith("/_sandbox/"):
            self._admin("POST")
        elif path in INGEST_PATHS or path in ETL_PATHS:
            self._ingest(path)
        elif path.rstrip("/") == "/graphql":
            self._graphql()
        else:
            self._body()
            self._send(404, {"message": f"No route for POST {path}"})

    def _pre_faults(self, *, graphql: bool) -> bool:
        """Apply 503/429/slow faults; True if the request was answered with a fault."""
        app = self.server.app
        delay = app.faults.slow_seconds(graphql=graphql)
        if delay:
            app.stats.bump("", fault="slow")
            time.sleep(delay)
        fault = app.faults.pre_answer(graphql=graphql, accepted=app.stats.accepted)
        if fault == "503":
            app.stats.bump("", fault="503")
            self._send(503, {"message": "Service Unavailable (sandbox fault injection)"})
            return True
        if fault == "429":
            app.stats.bump("", fault="429")
            retry_after = str(int(app.faults.config.retry_after_s))
            self._send(429, {"message": "Too Many Requests (sandbox fault injection)"}, {"Retry-After": retry_after})
            return True
        return False

    def _ingest(self, path: str) -> None:
        app = self.server.app
        body = self._body()
        if body is None:
            self.close_connection = True
            self._send(413, {"message": f"Request body larger than {MAX_BODY_BYTES} bytes"})
            return
        max_raw = app.faults.config.max_raw_bytes
        if max_raw is not None and len(body) > max_raw:
            # Before anything is looked at, as a gateway in front of Lambda does.
            app.stats.bump("rejected")
            self._send(413, {"message": (
                f"Request Entity Too Large: the body is {len(body)} bytes of JSON; at most {max_raw} bytes "
                "are accepted (sandbox max_raw_bytes). Split the events into smaller batches."
            )})
            return
        denied = app.authenticate(self.headers, graphql=False)
        if denied:
            self._send(denied[0], {"message": denied[1]})
            return
        if self._pre_faults(graphql=False):
            return
        status, payload, invocation_id = app.accept(path, body)
        broken = app.faults.broken_answer() if invocation_id else None
        if invocation_id and broken:
            self._broken_answer(broken, invocation_id)
            return
        if invocation_id and app.faults.drop_after_accept():
            app.store.mark_dropped(invocation_id)
            app.stats.bump("dropped_after_accept")
            app.stats.bump("", fault="drop_after_accept")
            app.stats.request(path, "dropped")
            self._hold_then_close()
            return
        self._send(status, payload)

    def _hold_then_close(self) -> None:
        """Never answer: keep the socket open until the client hangs up or the cap passes."""
        self.close_connection = True
        deadline = time.monotonic() + self.server.app.faults.config.drop_hold_s
        sock: socket.socket = self.connection
        while time.monotonic() < deadline and not self.server.stopping.is_set():
            readable, _, _ = select.select([sock], [], [], 0.1)
            if readable:
                try:
                    if not sock.recv(1, socket.MSG_PEEK):
                        break  # the client gave up (its timeout fired)
                except OSError:
                    break
                time.sleep(0.1)  # pipelined bytes: keep ignoring them until the deadline
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _graphql(self) -> None:
        app = self.server.app
        raw = self._body() or b""
        denied = app.authenticate(self.headers, graphql=True)
        if denied:
            self._send(denied[0], {"errors": [{"message": denied[1], "extensions": {"code": "UNAUTHENTICATED" if denied[0] == 401 else "FORBIDDEN"}}]})
            return
        if self._pre_faults(graphql=True):
            return
        try:
            body = json.loads(raw)
        except ValueError as exc:
            self._send(400, {"errors": [{"message": f"Request body is not valid JSON: {exc}"}]})
            return
        status, payload = app.graphql.execute(body)
        self._send(status, payload)

    def _admin(self, method: str) -> None:
        app = self.server.app
        route = self._path[len("/_sandbox/") :].strip("/")
        query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
        body: Any = None
        if method == "POST":
            raw = self._body() or b""
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError as exc:
                self._send(400, {"message": f"invalid JSON: {exc}"})
                return
        kind = query.get("kind")
        if kind is not None and kind not in FLOWS + ETL_KINDS:
            self._send(400, {"message": f"kind must be one of {', '.join(FLOWS + ETL_KINDS)}, got {kind!r}"})
            return
        try:
            if (method, route) == ("GET", "health"):
                self._send(200, {"status": "ok"})
            elif (method, route) == ("GET", "pushes"):
                self._send(200, app.store.pushes(kind))
            elif (method, route) == ("GET", "events"):
                self._send(200, app.store.events(kind))
            elif (method, route) == ("GET", "stats"):
                self._send(200, app.stats.snapshot())
            elif (method, route) == ("GET", "faults"):
                self._send(200, asdict(app.faults.config))
            elif (method, route) == ("POST", "faults"):
                self._send(200, asdict(app.faults.update(_object(body))))
            elif (method, route) == ("GET", "visibility"):
                self._send(200, app.visibility.get())
            elif (method, route) == ("POST", "visibility"):
                self._send(200, app.visibility.update(_object(body)))
            elif (method, route) == ("GET", "holds"):
                self._send(200, app.store.holds())
            elif (method, route) == ("POST", "hold"):
                self._send(200, app.store.hold(kind=kind, invocation_ids=_object(body).get("invocation_ids")))
            elif (method, route) == ("POST", "release"):
                self._send(200, app.store.release(invocation_ids=_object(body).get("invocation_ids")))
            elif (method, route) == ("POST", "reset"):
                app.reset()
                self._send(200, {"status": "reset"})
            else:
                self._send(404, {"message": f"No admin route {method} /_sandbox/{route}"})
        except (ValueError, TypeError) as exc:
            self._send(400, {"message": str(exc)})


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValueError(f"expected a JSON object, got {type(body).__name__}")
    return body


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Never block shutdown on a connection held open by drop_after_accept.
    block_on_close = False

    def __init__(self, app: Sandbox) -> None:
        family = socket.AF_INET6 if app.config.host == "::1" else socket.AF_INET
        self.address_family = family
        self.app = app
        self.stopping = threading.Event()
        super().__init__((app.config.host, app.config.port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self.app.store.close()


def make_server(config: SandboxConfig | None = None, clock: Callable[[], float] = time.time) -> SandboxHTTPServer:
    """Build (and bind) a server; call ``serve_forever()`` on it, ``stop()`` to end it."""
    return SandboxHTTPServer(Sandbox(config or SandboxConfig(), clock))
