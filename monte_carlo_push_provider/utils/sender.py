"""Send one request body to the integration gateway with this provider's retry policy.

pycarlo's ``Client.make_request`` retries every ``HTTPError`` (4xx included) and every timeout,
up to 9 times, blind, and bounds each socket read rather than the request. Here one attempt is
one POST through :mod:`monte_carlo_push_provider.utils.transport` (pycarlo's URL and headers, a
wall-clock deadline), and tenacity runs the loop:

- retried, with exponential backoff and full jitter, ``Retry-After`` as a floor: 429, 5xx,
  timeouts, a missed deadline, connection failures, and an answer that broke after the body was
  sent (reset, truncated, or a 2xx whose body is not JSON);
- failed at once: any other 4xx, with the gateway's message and the checkpoint to look at. A 413
  raises :class:`~monte_carlo_push_provider.utils.errors.MonteCarloPayloadTooLargeError`, which
  the push operator catches to split the batch.

An attempt that timed out, or broke after its body was sent, may have been accepted by the
gateway without the answer reaching us: retrying it can duplicate its events. Those attempts are
counted in :attr:`SendResult.possible_duplicates` (timeouts alone also in ``timeouts``).

Everything this module logs or raises about the transport is scrubbed of the credentials
(:func:`monte_carlo_push_provider.utils.redact.scrub`).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monte_carlo_push_provider.utils.errors import (
    CHECKPOINT_DELIVERY,
    MonteCarloPushError,
    MonteCarloRejectedError,
    explain_http_error,
    response_message,
)
from monte_carlo_push_provider.utils.redact import describe_exception, scrub

if TYPE_CHECKING:
    from pycarlo.core import Client

    from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloCredentials

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Full-jitter exponential backoff; a server's Retry-After is a floor."""
        backoff = random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))
        if retry_after is not None:
            return min(max(retry_after, backoff), max(self.max_delay_s, retry_after))
        return backoff


@dataclass(frozen=True)
class SendResult:
    invocation_id: str
    attempts: int
    #: attempts that timed out (per-read timeout or the wall-clock deadline)
    timeouts: int
    #: attempts the gateway may have accepted without the answer reaching us: timeouts, and
    #: resets / truncated / non-JSON 2xx answers after the body was sent. Each may have stored
    #: this batch's events once more.
    possible_duplicates: int = 0


class _Transient(Exception):
    """One attempt failed in a way a later attempt may not."""

    def __init__(self, problem: str, *, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after
        self.status = status


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def send_with_retries(
    client: Client,
    path: str,
    payload: dict[str, Any],
    *,
    creds: MonteCarloCredentials,
    timeout_s: float,
    policy: RetryPolicy,
    label: str,
    sleep: Callable[[float], None] = time.sleep,
    logger: Any = log,
    body: bytes | None = None,
    deadline_s: float | None = None,
) -> SendResult:
    """POST ``payload`` to ``path`` on ``client``'s endpoint (a pycarlo ``Client`` with the
    Ingestion scope); return its invocation_id.

    :param body: the exact bytes to send, when the caller already encoded ``payload`` (the push
        operator measures and fingerprints them); default ``json.dumps(payload)``.
    :param timeout_s: longest wait for any one read.
    :param deadline_s: wall-clock limit of one attempt, connect to last byte of the answer
        (default ``timeout_s``): a slow-drip answer cannot hold a request past it.
    :raises MonteCarloPayloadTooLargeError: on 413 (split the batch and send the halves).
    :raises MonteCarloRejectedError: on other 4xx (but 429), or a request that cannot be built.
    :raises MonteCarloPushError: when retries ran out (retryable by Airflow); its
        ``possible_duplicates`` attribute counts the attempts that may have been accepted.
    """
    import requests
    from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

    from monte_carlo_push_provider.utils import transport
    from monte_carlo_push_provider.utils.wire import json_body

    data = body if body is not None else json_body(payload)
    deadline = float(deadline_s if deadline_s is not None else timeout_s)
    secrets = tuple(getattr(creds, "secrets", ()) or ())
    counts = {"attempts": 0, "timeouts": 0, "possible_duplicates": 0}

    def attempt_once() -> str:
        counts["attempts"] += 1
        try:
            answer = transport.post(client, path, data, read_timeout_s=float(timeout_s), deadline_s=deadline)
        except transport.DeadlineExceeded as err:
            counts["timeouts"] += 1
            counts["possible_duplicates"] += int(err.body_sent)
            raise _Transient(f"{err} (the gateway may still have accepted it)") from None
        except requests.Timeout:
            counts["timeouts"] += 1
            counts["possible_duplicates"] += 1
            raise _Transient(f"no answer within {timeout_s:g} s (the gateway may still have accepted it)") from None
        except transport.BrokenAnswer as err:
            detail = describe_exception(err.cause, secrets, limit=300)
            if err.permanent:
                raise MonteCarloRejectedError(
                    f"{CHECKPOINT_DELIVERY}: {label}: the request to {path} could not be sent ({detail}); "
                    "check the connection's endpoint and keys"
                ) from None
            if err.body_sent:
                counts["possible_duplicates"] += 1
                raise _Transient(
                    f"the connection broke after the body was sent ({detail}): the gateway may have accepted it"
                ) from None
            raise _Transient(f"connection failed before the body was sent ({detail})") from None
        status = answer.status
        if 200 <= status < 300:
            try:
                parsed = json.loads(answer.content)  # an empty 2xx body is as unreadable as HTML
            except ValueError:
                counts["possible_duplicates"] += 1
                raise _Transient(
                    f"gateway answered {status} with a body that is not JSON "
                    f"({scrub(answer.content[:80], secrets)!r}): it may have accepted the request",
                    status=status,
                ) from None
            invocation_id = parsed.get("invocation_id") if isinstance(parsed, dict) else None
            if not isinstance(invocation_id, str) or not invocation_id:
                raise MonteCarloPushError(
                    f"{CHECKPOINT_DELIVERY}: {label} was accepted but the gateway returned no "
                    f"invocation_id (answer: {scrub(str(parsed)[:200], secrets)!r}); nothing to trace it by",
                    status=status,
                )
            return invocation_id
        error = requests.HTTPError(f"{status}", response=answer.response)
        if status == 429 or status >= 500:
            message = scrub(response_message(error)[:200], secrets)
            raise _Transient(f"gateway answered {status}: {message}", retry_after=_retry_after(answer.headers),
                             status=status)
        raise explain_http_error(error, creds, path=path) from None

    def wait(state: Any) -> float:
        failure = state.outcome.exception()
        return policy.delay(state.attempt_number, getattr(failure, "retry_after", None))

    def before_sleep(state: Any) -> None:
        failure = state.outcome.exception()
        logger.warning(
            "%s: %s; retrying in %.1f s (attempt %d/%d)", label, failure.problem, state.next_action.sleep,
            state.attempt_number + 1, policy.max_attempts,
        )

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait,
        retry=retry_if_exception_type(_Transient),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        invocation_id = retrying(attempt_once)
    except _Transient as last:
        maybe = counts["possible_duplicates"]
        error = MonteCarloPushError(
            f"{CHECKPOINT_DELIVERY}: {label} failed after {counts['attempts']} attempts; last: {last.problem}"
            + (f"; {maybe} attempt(s) may have been accepted without an answer (possible duplicates)" if maybe else ""),
            status=last.status,
        )
        error.possible_duplicates = maybe
        raise error from None
    return SendResult(
        invocation_id=invocation_id,
        attempts=counts["attempts"],
        timeouts=counts["timeouts"],
        possible_duplicates=counts["possible_duplicates"],
    )
