"""MonteCarloVisibilityTrigger: checks Monte Carlo's GraphQL API from the triggerer until this
push is visible, so the waiting sensor holds no worker slot for the 15-20+ minutes query logs
take.

The checking logic is :mod:`monte_carlo_push_provider.sensors.checker` (shared with the
sensor's poke mode); GraphQL goes through :meth:`MonteCarloHook.agraphql`. This module is only
the loop.

Secrets never go into ``serialize()``: the trigger carries the connection id and resolves the
GraphQL key in the triggerer through the hook.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook

if TYPE_CHECKING:
    from monte_carlo_push_provider.sensors.checker import GraphQLRequest

CLASSPATH = "monte_carlo_push_provider.triggers.monte_carlo.MonteCarloVisibilityTrigger"


class MonteCarloVisibilityTrigger(BaseTrigger):
    """Check until every expectation is confirmed, ``deadline`` passes, or checks keep failing.

    :param expectations: ``Expectations.to_dict()`` (what to look for).
    :param monte_carlo_conn_id: the ``monte_carlo`` connection (GraphQL key and endpoint).
    :param poll_interval: seconds between checks.
    :param deadline: epoch seconds after which a ``timeout`` event is sent with what is missing.
        Absolute, so a triggerer restart does not extend the wait.
    :param max_consecutive_errors: failed checks in a row tolerated before an ``error`` event.
    :param started_at: epoch seconds the wait began (for "waited N min" in messages).
    :param clock_skew_s: see the sensor's ``clock_skew``.
    :param max_calls: GraphQL calls one check may make.

    Events: ``{"status": "success" | "timeout" | "error", "polls": n, "waited_s": s, ...}``;
    success/timeout carry ``"visibility"`` (:meth:`VisibilityStatus.to_dict`), error a
    ``"message"`` and ``"fatal"`` (a refused key or document: waiting will not fix it).
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
        clock_skew_s: float = 300.0,
        max_calls: int = 50,
    ) -> None:
        super().__init__()
        self.expectations = expectations
        self.monte_carlo_conn_id = monte_carlo_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = float(deadline)
        self.max_consecutive_errors = int(max_consecutive_errors)
        self.started_at = float(started_at if started_at is not None else time.time())
        self.clock_skew_s = float(clock_skew_s)
        self.max_calls = int(max_calls)

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
                "clock_skew_s": self.clock_skew_s,
                "max_calls": self.max_calls,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from monte_carlo_push_provider.sensors.checker import VisibilityChecker, run_async
        from monte_carlo_push_provider.sensors.expectations import Expectations
        from monte_carlo_push_provider.utils.errors import (
            MonteCarloConfigError,
            MonteCarloPushError,
            MonteCarloRejectedError,
        )

        hook = MonteCarloHook(self.monte_carlo_conn_id)
        checker = VisibilityChecker(
            Expectations.from_dict(self.expectations), clock_skew_s=self.clock_skew_s, max_calls=self.max_calls
        )

        async def call(request: GraphQLRequest) -> dict[str, Any]:
            return await hook.agraphql(request.query, request.variables, retry=False, not_found_ok=request.not_found_ok)

        polls = 0
        errors = 0
        status = None
        try:
            while True:
                polls += 1
                try:
                    status = await run_async(checker.check(), call)
                except (MonteCarloConfigError, MonteCarloRejectedError) as err:
                    yield self._event("error", polls, message=str(err), fatal=True)
                    return
                except MonteCarloPushError as err:
                    errors += 1
                    self.log.warning("check %d failed (%d/%d in a row): %s", polls, errors, self.max_consecutive_errors, err)
                    if errors >= self.max_consecutive_errors:
                        yield self._event(
                            "error", polls,
                            message=f"{errors} polls in a row failed; last error: {err}",
                            visibility=status.to_dict() if status else None, fatal=False,
                        )
                        return
                else:
                    errors = 0
                    if status.done:
                        self.log.info("Monte Carlo shows this push: %s", status.summary())
                        yield self._event("success", polls, visibility=status.to_dict())
                        return
                    self.log.info("check %d (%d GraphQL call(s)): %s", polls, status.calls, status.summary())
                remaining = self.deadline - time.time()
                if remaining <= 0:
                    yield self._event("timeout", polls, visibility=status.to_dict() if status else None)
                    return
                await asyncio.sleep(min(self.poll_interval, remaining))
        finally:
            await hook.aclose()

    def _event(self, status: str, polls: int, **payload: Any) -> TriggerEvent:
        return TriggerEvent(
            {"status": status, "polls": polls, "waited_s": round(time.time() - self.started_at, 1), **payload}
        )
