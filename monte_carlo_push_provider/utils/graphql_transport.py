"""The GraphQL transport behind :meth:`MonteCarloHook.graphql` and ``agraphql``: one client
library (httpx, a sync and an async client with the same settings) and one reading of every
answer, so the GraphQL operators, the sensor's poke mode and its trigger fail, retry and report
identically.

Answers keep Monte Carlo's own camelCase field names (``fullTableId``): no case conversion.
Messages carry Monte Carlo's text and the key *id*, never the secret.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Literal, overload

from monte_carlo_push_provider.utils.errors import (
    MonteCarloPushError,
    MonteCarloRejectedError,
    explain_graphql_error,
)

if TYPE_CHECKING:
    import httpx

    from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloCredentials

#: Transient failures retried by ``retry=True`` calls: attempts and backoff bounds (seconds).
RETRY_ATTEMPTS = 3
RETRY_MIN_S = 0.25
RETRY_MAX_S = 2.0
#: A field error that only says "this node does not exist" (the real API's answer for an
#: unknown table or MCON, HTTP 200 with the field null).
NOT_FOUND = re.compile(r"not found|does not exist|doesn't exist|no such|unknown (table|mcon|node)", re.IGNORECASE)


@overload
def make_client(creds: MonteCarloCredentials, *, asynchronous: Literal[False]) -> httpx.Client: ...
@overload
def make_client(creds: MonteCarloCredentials, *, asynchronous: Literal[True]) -> httpx.AsyncClient: ...
def make_client(creds: MonteCarloCredentials, *, asynchronous: bool) -> httpx.Client | httpx.AsyncClient:
    import httpx

    key_id, secret = creds.require_graphql_key()
    headers = {"x-mcd-id": key_id, "x-mcd-token": secret, "Content-Type": "application/json"}
    timeout = httpx.Timeout(creds.timeout_s)
    if asynchronous:
        return httpx.AsyncClient(headers=headers, timeout=timeout)
    return httpx.Client(headers=headers, timeout=timeout)


def _transient(err: BaseException) -> bool:
    return isinstance(err, MonteCarloPushError) and not isinstance(err, MonteCarloRejectedError)


def _retrying(asynchronous: bool) -> Any:
    import tenacity

    cls = tenacity.AsyncRetrying if asynchronous else tenacity.Retrying
    return cls(
        retry=tenacity.retry_if_exception(_transient),
        stop=tenacity.stop_after_attempt(RETRY_ATTEMPTS),
        wait=tenacity.wait_random_exponential(multiplier=RETRY_MIN_S, max=RETRY_MAX_S),
        reraise=True,
    )


def post_sync(
    client: httpx.Client, creds: MonteCarloCredentials, query: str, variables: dict[str, Any] | None, *, retry: bool,
    not_found_ok: bool,
) -> dict[str, Any]:
    import httpx

    body = {"query": query, "variables": variables or {}}

    def once() -> dict[str, Any]:
        try:
            response = client.post(creds.graphql_endpoint, json=body)
        except httpx.HTTPError as err:
            raise _network_error(err, creds) from None
        return read_answer(creds, response.status_code, response.content, not_found_ok=not_found_ok)

    if not retry:
        return once()
    for attempt in _retrying(False):
        with attempt:
            return once()
    raise AssertionError("unreachable")  # pragma: no cover - reraise=True


async def post_async(
    client: httpx.AsyncClient, creds: MonteCarloCredentials, query: str, variables: dict[str, Any] | None, *, retry: bool,
    not_found_ok: bool,
) -> dict[str, Any]:
    import httpx

    body = {"query": query, "variables": variables or {}}

    async def once() -> dict[str, Any]:
        try:
            response = await client.post(creds.graphql_endpoint, json=body)
        except httpx.HTTPError as err:
            raise _network_error(err, creds) from None
        return read_answer(creds, response.status_code, response.content, not_found_ok=not_found_ok)

    if not retry:
        return await once()
    async for attempt in _retrying(True):
        with attempt:
            return await once()
    raise AssertionError("unreachable")  # pragma: no cover - reraise=True


def _network_error(err: BaseException, creds: MonteCarloCredentials) -> MonteCarloPushError:
    from monte_carlo_push_provider.utils.redact import scrub

    # httpx quotes an invalid header value in its message (a secret pasted with a newline, shown
    # as bytes with the newline escaped): the push side's scrubber knows every form, and headers.
    text = scrub(err, creds.secrets)[:500]
    return MonteCarloPushError(f"{type(err).__name__} talking to {creds.graphql_endpoint}: {text}")


def read_answer(creds: MonteCarloCredentials, status: int, content: bytes, *, not_found_ok: bool = False) -> dict[str, Any]:
    """The ``data`` of one GraphQL HTTP answer, or the error it means."""
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    errors = body.get("errors") if isinstance(body, dict) else None
    messages = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors or [])
    text = messages or content[:300].decode("utf-8", "replace")
    if status in (400, 401, 403):
        # 401/403: the key; 400: a document Monte Carlo refuses will be refused again.
        return _raise(explain_graphql_error(None, creds, status=status, message=text))
    if status >= 400 or not isinstance(body, dict):
        raise MonteCarloPushError(f"GraphQL call to {creds.graphql_endpoint} answered {status}: {text}", status=status)
    data = body.get("data")
    if errors:
        if not_found_ok and isinstance(data, dict) and all(_is_not_found(e) for e in errors):
            return data
        # Field errors (HTTP 200): auth words mean the key; anything else may pass.
        error = explain_graphql_error(None, creds, status=status, message=text)
        if isinstance(error, MonteCarloRejectedError):
            raise error
        raise MonteCarloPushError(f"GraphQL errors from {creds.graphql_endpoint}: {text}", status=status)
    return data or {}


def _is_not_found(error: Any) -> bool:
    if not isinstance(error, dict):
        return False
    code = str((error.get("extensions") or {}).get("code") or "")
    return code == "NOT_FOUND" or bool(NOT_FOUND.search(str(error.get("message") or "")))


def _raise(error: MonteCarloPushError) -> dict[str, Any]:
    raise error
