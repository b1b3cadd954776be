"""MonteCarloVisibilityTrigger: polls Monte Carlo's GraphQL API from the triggerer until the
pushed data is visible, so the waiting sensor holds no worker slot for the 15-20+ minutes query
logs take.

The checking logic is :mod:`monte_carlo_push_provider.utils.visibility` (shared with the
sensor's poke mode); this module only supplies an async transport (httpx) and the loop.

Secrets never go into ``serialize()``: the trigger carries the connection id and resolves the
GraphQL key in the triggerer through the hook (in a thread: connection lookup is blocking).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook

CLASSPATH = "monte_carlo_push_provider.triggers.monte_carlo.MonteCarloVisibilityTrigger"


class MonteCarloVisibilityTrigger(BaseTrigger):
    """Poll until every expectation is visible, ``deadline`` passes, or polls keep failing.

    :param expectations: ``Expectations.to_dict()`` (what to look for).
    :param monte_carlo_conn_id: the ``monte_carlo`` connection (GraphQL key and endpoint).
    :param poll_interval: seconds between polls.
    :param deadline: epoch seconds after which a ``timeout`` event is sent with what is missing.
        Absolute, so a triggerer restart does not extend the wait.
    :param max_consecutive_errors: failed polls in a row tolerated before an ``error`` event.
    :param started_at: epoch seconds the wait began (for "waited N min" in messages).

    Events: ``{"status": "success" | "timeout" | "error", "polls": n, "waited_s": s, ...}``;
    success/timeout carry ``"visibility"`` (:meth:`VisibilityStatus.to_dict`), error a
    ``"message"``.
    """

    def __init__(
        self,
        *,
        expectations: dict[str, Any],
        monte_carlo_conn_id: str = MonteCarloHook.default_conn_name,
        poll_interval: float = 60.0,
        deadline: float,
        max_consecutive_errors: int = 5,
        started_at: float | None = None,
    ) -> None:
        super().__init__()
        self.expectations = expectations
        self.monte_carlo_conn_id = monte_carlo_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = float(deadline)
        self.max_consecutive_errors = int(max_consecutive_errors)
        self.started_at = float(started_at if started_at is not None else time.time())

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            CLASSPATH,
            {
                "expectations": self.expectations,
                "monte_carlo_conn_id": self.monte_carlo_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "max_consecutive_errors": self.max_consecutive_errors,
                "started_at": self.started_at,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        import httpx
        from asgiref.sync import sync_to_async

        from monte_carlo_push_provider.utils.errors import MonteCarloConfigError
        from monte_carlo_push_provider.utils.visibility import (
            Expectations,
            GraphQLFatalError,
            GraphQLTransportError,
            VisibilityChecker,
            run_async,
        )

        polls = 0
        try:
            # Connection lookup is blocking (secrets backends, API calls in Airflow 3): not on the loop.
            creds = await sync_to_async(MonteCarloHook(self.monte_carlo_conn_id).get_credentials)()
            key_id, secret = creds.require_graphql_key()
        except MonteCarloConfigError as err:
            yield self._event("error", polls, message=str(err))
            return
        checker = VisibilityChecker(Expectations.from_dict(self.expectations))
        headers = {"x-mcd-id": key_id, "x-mcd-token": secret, "Content-Type": "application/json"}
        errors = 0
        status = None
        async with httpx.AsyncClient(headers=headers, timeout=creds.timeout_s) as client:

            async def call(query: str, variables: dict[str, Any]) -> Any:
                return await _post(client, creds.graphql_endpoint, query, variables)

            while True:
                polls += 1
                try:
                    status = await run_async(checker.check(), call)
                except GraphQLFatalError as err:
                    yield self._event("error", polls, message=str(err))
                    return
                except GraphQLTransportError as err:
                    errors += 1
                    self.log.warning("poll %d failed (%d/%d in a row): %s", polls, errors, self.max_consecutive_errors, err)
                    if errors >= self.max_consecutive_errors:
                        yield self._event(
                            "error", polls,
                            message=f"{errors} polls in a row failed; last error: {err}",
                            visibility=status.to_dict() if status else None,
                        )
                        return
                else:
                    errors = 0
                    if status.done:
                        self.log.info("all pushed data is visible in Monte Carlo: %s", status.summary())
                        yield self._event("success", polls, visibility=status.to_dict())
                        return
                    self.log.info("poll %d: %s", polls, status.summary())
                remaining = self.deadline - time.time()
                if remaining <= 0:
                    yield self._event("timeout", polls, visibility=status.to_dict() if status else None)
                    return
                await asyncio.sleep(min(self.poll_interval, remaining))

    def _event(self, status: str, polls: int, **payload: Any) -> TriggerEvent:
        return TriggerEvent(
            {"status": status, "polls": polls, "waited_s": round(time.time() - self.started_at, 1), **payload}
        )


async def _post(client: Any, endpoint: str, query: str, variables: dict[str, Any]) -> Any:
    import httpx

    from monte_carlo_push_provider.utils.visibility import GraphQLTransportError, graphql_data

    try:
        response = await client.post(endpoint, json={"query": query, "variables": variables})
    except httpx.HTTPError as err:
        raise GraphQLTransportError(f"{type(err).__name__} talking to {endpoint}: {err}") from None
    return graphql_data(endpoint, response.status_code, response.content)
