"""Errors this provider raises, and the translation of gateway / GraphQL failures into the
troubleshooting checkpoint a user should look at (docs/troubleshooting.md).

Messages never include a secret: they name key *ids* and endpoints only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from monte_carlo_push_provider.manifest import ManifestError
from monte_carlo_push_provider.utils.redact import scrub

if TYPE_CHECKING:
    from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloCredentials

# The five debugging checkpoints of a push (docs/troubleshooting.md has one section each).
CHECKPOINT_KEY = "checkpoint 1 (key and scope)"
CHECKPOINT_RESOURCE = "checkpoint 2 (resource UUID and type)"
CHECKPOINT_PAYLOAD = "checkpoint 3 (payload shape)"
CHECKPOINT_DELIVERY = "checkpoint 4 (delivery and invocation_id)"
CHECKPOINT_VISIBILITY = "checkpoint 5 (processing and visibility)"


class MonteCarloConfigError(ValueError):
    """The connection or an operator argument is missing or wrong; the message says the fix."""


class MonteCarloPushError(RuntimeError):
    """A push or GraphQL call failed. This base class is *retryable* by Airflow: it is raised as is
    when transient failures (429 / 5xx / timeouts) outlived the operator's own retries, where a
    later task try may well succeed. Failures a retry cannot fix raise
    :class:`MonteCarloRejectedError` instead."""

    def __init__(self, message: str, *, status: int | None = None, invocation_ids: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.invocation_ids = list(invocation_ids or [])
        #: attempts that may have been accepted without an answer (set when retries ran out)
        self.possible_duplicates = 0


class MonteCarloRejectedError(MonteCarloPushError, AirflowFailException):
    """Monte Carlo refused the request for a reason a retry will not fix (400 / 401 / 403 / 404 /
    413 that cannot be split): Airflow fails the task at once instead of retrying it."""


class MonteCarloPayloadTooLargeError(MonteCarloRejectedError):
    """The gateway answered 413 (or its "too large" 400) for one request body. The push operator
    catches it and splits the batch; it reaches Airflow only for a single event that cannot be
    split or trimmed any further."""


class MonteCarloCredentialsError(MonteCarloConfigError, AirflowFailException):
    """A credential in the connection (or its environment fallback) cannot be sent as an HTTP
    header, e.g. a secret pasted with an embedded control character. The message names the
    field, never the value."""


class MonteCarloManifestError(ManifestError, MonteCarloConfigError, AirflowFailException):
    """A manifest (or an operator argument about it) is invalid: found before anything is sent,
    and a task retry would find it again. The message names the manifest, the event, the field
    and the fix. :func:`monte_carlo_push_provider.manifest.validate_manifest` raises it (it is
    also a :class:`~monte_carlo_push_provider.manifest.ManifestError`)."""


def response_message(err: Any) -> str:
    """The gateway's own message from an HTTPError, trimmed."""
    response = getattr(err, "response", None)
    if response is None:
        return str(err)[:500]
    try:
        body = response.json()
        if isinstance(body, dict):
            if "message" in body:
                return str(body["message"])[:2000]
            if "errors" in body:
                return "; ".join(str(e.get("message", e)) for e in body["errors"])[:2000]
        return str(body)[:2000]
    except ValueError:
        return (response.text or response.reason or "")[:2000]


def explain_http_error(err: Any, creds: MonteCarloCredentials, *, path: str) -> MonteCarloPushError:
    """Turn a non-retryable HTTP failure from the ingestion gateway into a checkpoint message."""
    response = getattr(err, "response", None)
    status = getattr(response, "status_code", None)
    message = response_message(err)
    endpoint = f"{creds.ingest_endpoint}{path}"
    if status == 401:
        text = (
            f"{CHECKPOINT_KEY}: {endpoint} answered 401 Unauthorized ({message}). The ingestion key "
            f"id {creds.ingest_key_id!r} or its secret is wrong or revoked. Check the connection's "
            "login/password (or MCD_INGEST_ID / MCD_INGEST_TOKEN); create a new key with "
            "`montecarlo integrations create-key --scope Ingestion`."
        )
    elif status == 403 and ("resource" in message.lower() or "warehouse" in message.lower()):
        # 403 has two meanings at the gateway: this one is "key not authorised for this
        # warehouse UUID" (keys can be scoped to warehouses; an unknown UUID answers the same).
        text = (
            f"{CHECKPOINT_RESOURCE}: {endpoint} answered 403 Forbidden ({message}). The key "
            f"{creds.ingest_key_id!r} is not authorised for this resource UUID: either the UUID is "
            "not a warehouse of this account, or the key is scoped to other warehouses. List the "
            "account's warehouses with `getUser { account { warehouses { uuid name connectionType } } }` "
            "and fix resource_uuid, or create a key for this warehouse with "
            "`montecarlo integrations create-key --scope Ingestion`."
        )
    elif status == 403:
        text = (
            f"{CHECKPOINT_KEY}: {endpoint} answered 403 Forbidden ({message}). Either the key "
            f"{creds.ingest_key_id!r} is not an Ingestion-scoped key — a GraphQL API key does not "
            "work for push — or it is not authorised for this resource UUID (keys can be scoped to "
            "warehouses). Create one with `montecarlo integrations create-key --scope Ingestion` "
            "and put it in the connection's login/password; the GraphQL key goes in the extras "
            "graphql_key_id / graphql_key_secret."
        )
    elif status == 404 or (status == 400 and "resource" in message.lower() and "not found" in message.lower()):
        text = (
            f"{CHECKPOINT_RESOURCE}: {endpoint} answered {status} ({message}). The resource UUID is "
            "not a warehouse of this account, or the resource_type does not match its connection "
            "type. List them with `getUser { account { warehouses { uuid name connectionType } } }`."
        )
    elif status == 413 or (status == 400 and ("1 mb" in message.lower() or "too large" in message.lower())):
        text = f"{CHECKPOINT_PAYLOAD}: {endpoint} refused the body as too large ({message})."
    elif status is not None and 400 <= status < 500:
        text = f"{CHECKPOINT_PAYLOAD}: {endpoint} answered {status}: {message}"
    elif status is not None:
        text = f"{CHECKPOINT_DELIVERY}: {endpoint} answered {status}: {message}"
    else:
        text = f"{CHECKPOINT_DELIVERY}: request to {endpoint} failed: {type(err).__name__}: {message}"
    text = scrub(text, getattr(creds, "secrets", ()))
    if status == 413 or (status == 400 and ("1 mb" in message.lower() or "too large" in message.lower())):
        return MonteCarloPayloadTooLargeError(text, status=status)
    if status is not None and 400 <= status < 500 and status != 429:
        return MonteCarloRejectedError(text, status=status)
    return MonteCarloPushError(text, status=status)


def explain_graphql_error(
    err: Any, creds: MonteCarloCredentials, *, status: int | None = None, message: str | None = None
) -> MonteCarloPushError:
    """A GraphQL failure as the error to raise: from an exception with a ``response``, or from
    the ``status`` and ``message`` of an answer already read (the hook's httpx transport)."""
    response = getattr(err, "response", None)
    if status is None:
        status = getattr(response, "status_code", None)
    if message is None:
        message = response_message(err) if response is not None else str(err)[:2000]
    lowered = message.lower()
    auth_words = ("unauthorized", "forbidden", "invalid token", "not authorized", "authenticat", "api key")
    if status in (401, 403) or any(word in lowered for word in auth_words):
        text = (
            f"{CHECKPOINT_KEY}: the GraphQL API at {creds.graphql_endpoint} refused key "
            f"{creds.graphql_key_id!r} ({status or ''} {message}). GraphQL needs an API key "
            "(Settings > API Access), not the ingestion key; put it in the connection extras "
            "graphql_key_id / graphql_key_secret (or MCD_ID / MCD_TOKEN)."
        )
        return MonteCarloRejectedError(text, status=status)
    if status == 400:
        # The document (or its variables) was refused: sending it again gets the same answer.
        return MonteCarloRejectedError(f"GraphQL request refused by {creds.graphql_endpoint} (400): {message}", status=status)
    return MonteCarloPushError(f"GraphQL call to {creds.graphql_endpoint} failed: {message}", status=status)
