"""Send one request body through pycarlo with this provider's retry policy.

pycarlo's ``Client.make_request`` retries every ``HTTPError`` (4xx included) and every timeout,
up to 9 times, blind. We call it with ``should_retry`` returning False and do our own loop:
429, 5xx, connection errors and timeouts are retried with exponential backoff and full jitter,
honouring ``Retry-After``; any other 4xx fails at once with the gateway's message.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monte_carlo_push_provider.utils.errors import (
    CHECKPOINT_DELIVERY,
    MonteCarloPushError,
    explain_http_error,
    response_message,
)

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
    timeouts: int  # attempts that timed out: the gateway may have accepted them (possible duplicates)


def _retry_after(response: Any) -> float | None:
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
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
    client: Any,
    path: str,
    payload: dict[str, Any],
    *,
    creds: Any,
    timeout_s: float,
    policy: RetryPolicy,
    label: str,
    sleep: Callable[[float], None] = time.sleep,
    logger: Any = log,
) -> SendResult:
    """POST ``payload`` to ``path`` via ``client.make_request``; return its invocation_id."""
    import requests

    timeouts = 0
    last_problem = ""
    for attempt in range(1, policy.max_attempts + 1):
        try:
            response = client.make_request(
                path,
                method="POST",
                body=payload,
                timeout_in_seconds=timeout_s,
                should_retry=lambda _err: False,
            )
        except requests.HTTPError as err:
            status = getattr(err.response, "status_code", None)
            if status != 429 and (status is None or status < 500):
                raise explain_http_error(err, creds, path=path) from None
            last_problem = f"gateway answered {status}: {response_message(err)[:200]}"
            wait = policy.delay(attempt, _retry_after(err.response))
        except requests.Timeout:
            timeouts += 1
            last_problem = f"no answer within {timeout_s:g} s (the gateway may still have accepted it)"
            wait = policy.delay(attempt)
        except requests.ConnectionError as err:
            last_problem = f"connection failed: {type(err).__name__}"
            wait = policy.delay(attempt)
        else:
            invocation_id = response.get("invocation_id") if isinstance(response, dict) else None
            if not isinstance(invocation_id, str) or not invocation_id:
                raise MonteCarloPushError(
                    f"{CHECKPOINT_DELIVERY}: {label} was accepted but the gateway returned no "
                    f"invocation_id (answer: {str(response)[:200]!r}); nothing to trace it by"
                )
            return SendResult(invocation_id=invocation_id, attempts=attempt, timeouts=timeouts)
        if attempt == policy.max_attempts:
            break
        logger.warning(
            "%s: %s; retrying in %.1f s (attempt %d/%d)", label, last_problem, wait, attempt + 1, policy.max_attempts
        )
        sleep(wait)
    raise MonteCarloPushError(
        f"{CHECKPOINT_DELIVERY}: {label} failed after {policy.max_attempts} attempts; last: {last_problem}"
    )
