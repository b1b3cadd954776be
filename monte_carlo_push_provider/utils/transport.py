"""One POST to the integration gateway, bounded by a wall-clock deadline.

pycarlo's ``Client.make_request`` calls ``requests.request(json=..., timeout=...)``. requests'
timeout bounds each socket read, not the request: an answer that drips one byte every 0.25 s
holds a request with ``timeout=1`` for as long as the server likes (33 s measured). requests
offers no total timeout, and ``make_request`` takes no session or hooks, so this module sends the
same body with the same headers pycarlo builds (``Client._get_headers()``: key id and token,
session and trace ids) to the same URL, through a ``requests.Session`` whose connections register
their socket: a watchdog timer shuts the socket down when the deadline passes, which ends any
blocked read or write at once.

The outcome is classified for the retry policy in :mod:`monte_carlo_push_provider.utils.sender`:
whether the request body was completely sent matters, because only then may the gateway have
accepted it (a reset, truncated or unreadable answer after that is "possibly accepted").
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

if TYPE_CHECKING:
    from pycarlo.core import Client

_current = threading.local()


@dataclass
class _Attempt:
    """What the watchdog needs to cut one request short, and what happened to it."""

    sockets: list[Any] = field(default_factory=list)
    body_sent: bool = False
    deadline_hit: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, sock: Any) -> None:
        with self.lock:
            if self.deadline_hit:
                _shutdown(sock)  # connected just as the deadline passed
            self.sockets.append(sock)

    def cut(self) -> None:
        with self.lock:
            self.deadline_hit = True
            for sock in self.sockets:
                _shutdown(sock)


def _shutdown(sock: Any) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class _WatchedConnectionMixin:
    """Registers the connected socket with the calling thread's attempt, and notes when the
    request (headers and body) has been written completely."""

    sock: Any

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        attempt = getattr(_current, "attempt", None)
        if attempt is not None:
            attempt.register(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        attempt = getattr(_current, "attempt", None)
        if attempt is not None and self.sock is not None:
            attempt.register(self.sock)  # a kept-alive connection: connect() is not called again
        super().request(*args, **kwargs)  # type: ignore[misc]
        if attempt is not None:
            attempt.body_sent = True


class _WatchedHTTPConnection(_WatchedConnectionMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnectionMixin, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` (no urllib3 retries: the sender owns the policy) whose pools, direct or
    through a proxy, make watched connections."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


class DeadlineExceeded(requests.Timeout):
    """The request was cut at its wall-clock deadline (a ``requests.Timeout``, so code that
    treats timeouts as "maybe accepted" treats this the same). ``body_sent``: whether the
    request had been written completely before the cut."""

    def __init__(self, message: str, *, body_sent: bool = True) -> None:
        super().__init__(message)
        self.body_sent = body_sent


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Any
    content: bytes
    response: requests.Response


class BrokenAnswer(Exception):
    """The request failed below HTTP. ``body_sent``: the request had been written completely,
    so the gateway may have accepted it (a reset, or an answer cut short). ``permanent``: the
    request could not even be built (invalid URL or header value): retrying cannot help. The
    message is the exception's type only; callers scrub ``cause`` before showing its text."""

    def __init__(self, cause: BaseException, *, body_sent: bool, permanent: bool = False) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause
        self.body_sent = body_sent
        self.permanent = permanent


def headers_for(client: Any) -> dict[str, str]:
    """The headers pycarlo sends with ``make_request`` (key id/token, session and trace ids)."""
    get_headers = getattr(client, "_get_headers", None)
    if callable(get_headers):
        headers = dict(get_headers())
    else:  # not a pycarlo Client: a session-like object with id/token
        session = getattr(client, "_session", client)
        headers = {"x-mcd-id": session.id, "x-mcd-token": session.token}
    headers["Content-Type"] = "application/json"
    return headers


def post(
    client: Client,
    path: str,
    body: bytes,
    *,
    read_timeout_s: float,
    deadline_s: float,
    session: requests.Session | None = None,
) -> Answer:
    """POST ``body`` (already-encoded JSON) to ``client``'s endpoint + ``path``.

    Returns the answer, whatever its status, once it has been read completely. Raises
    :class:`DeadlineExceeded` when ``deadline_s`` passed first, ``requests.Timeout`` when one
    read waited ``read_timeout_s``, :class:`BrokenAnswer` for any other transport failure.
    """
    url = urljoin(getattr(client, "session_endpoint", None) or client._session.endpoint, path)
    own = session is None
    http = session or new_session()
    attempt = _Attempt()
    timer = threading.Timer(deadline_s, attempt.cut)
    timer.daemon = True
    _current.attempt = attempt
    connect_timeout = min(read_timeout_s, deadline_s)
    timer.start()
    try:
        response = http.post(url, data=body, headers=headers_for(client), timeout=(connect_timeout, read_timeout_s))
        content = response.content  # stream=False read it already; a cut read raised above
    except requests.RequestException as err:
        if attempt.deadline_hit:
            raise DeadlineExceeded(
                f"no complete answer within the {deadline_s:g} s deadline", body_sent=attempt.body_sent
            ) from None
        if isinstance(err, requests.Timeout) and not isinstance(err, requests.ConnectTimeout):
            raise requests.Timeout(f"no data for {read_timeout_s:g} s") from None
        # requests' InvalidURL / InvalidHeader / MissingSchema ... are ValueErrors raised while
        # preparing the request: nothing was sent, and nothing will be on a retry.
        permanent = isinstance(err, ValueError) and not isinstance(err, requests.ConnectionError)
        raise BrokenAnswer(err, body_sent=attempt.body_sent, permanent=permanent) from None
    finally:
        timer.cancel()
        _current.attempt = None
        if own:
            http.close()
    return Answer(response.status_code, response.headers, content, response)


def new_session() -> requests.Session:
    """A ``requests.Session`` whose connections the deadline watchdog can cut. :func:`post` makes
    one per request by default: a fresh connection each time, so a connection the server closed
    while idle can never turn into a falsely "possibly accepted" request."""
    http = requests.Session()
    adapter = _WatchedAdapter()
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    return http
