"""MonteCarloPushedDataSensor: wait until what a push sent is visible in Monte Carlo.

A 202 from the gateway only means "accepted": Monte Carlo processes pushes asynchronously
(metadata a few minutes, lineage seconds to minutes, query logs 15-20+ minutes). This sensor
asks the GraphQL API for exactly what was pushed (docs/sensor.md):

- metadata: ``getTable(fullTableId, dwId)`` with the pushed fields, and the pushed row count via
  ``getMetricsV4(total_row_count)`` when volume was pushed;
- lineage: ``getTableLineage`` shows the pushed upstream edges; column edges via
  ``getDerivedTablesPartialLineage``;
- query logs: ``getAggregatedQueries`` lists queries for the given tables in the pushed window.

Deferrable by default: the wait runs in the triggerer and holds no worker slot.
httpx is imported only when the sensor runs (the GraphQL API is called over plain HTTP in both
modes; pycarlo is not needed here).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowSensorTimeout, AirflowSkipException

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook

if TYPE_CHECKING:
    from airflow.sdk import Context

    from monte_carlo_push_provider.utils.visibility import Expectations, VisibilityChecker, VisibilityStatus

#: Query logs take 15-20+ minutes to show up; 45 minutes leaves room for a slow day.
DEFAULT_TIMEOUT = timedelta(minutes=45)
DEFAULT_POKE_INTERVAL = timedelta(seconds=60)
#: Extra time Airflow's own deferral timeout gets over the trigger's deadline, so the trigger's
#: timeout event (which names what is missing) arrives first.
DEFERRAL_GRACE = timedelta(minutes=5)


class MonteCarloPushedDataSensor(BaseSensorOperator):
    """Wait until pushed metadata, lineage and query logs are visible in Monte Carlo.

    :param push_result: the return value of a ``MonteCarloPushOperator`` task, e.g.
        ``push_result=push.output`` (templated). Metadata tables, lineage destinations, the
        warehouse of each kind and the invocation_ids come from it.
    :param tables: explicit metadata expectations: fullTableIds (``db:schema.table``) or dicts
        ``{"full_table_id", "resource_uuid"?, "fields"?: [names], "row_count"?: int}``. Templated.
    :param lineage_edges: explicit lineage expectations: ``(destination, [sources])`` or dicts
        ``{"destination", "sources", "columns"?: {dst_col: [(src fullTableId, src_col)]}}``. Templated.
    :param query_tables: tables whose pushed query logs to look for with getAggregatedQueries
        (the push result cannot name them: the push does not parse SQL). Templated.
    :param query_window: ``(start, end)`` the pushed queries ran in (datetimes or ISO strings;
        default: the push result's window if it has one, else the 7 days before the push). Templated.
    :param kinds: which of ``metadata``, ``lineage``, ``query_logs`` to check (default: all
        that have something to check).
    :param monte_carlo_conn_id: the ``monte_carlo`` connection (its GraphQL API key is used).
    :param deferrable: wait in the triggerer (default ``True``); ``False`` pokes from the worker
        (``mode="reschedule"`` frees the slot between pokes).
    :param poke_interval: seconds (or timedelta) between checks; default 60 s.
    :param timeout: how long to wait in total; default 45 minutes, which covers query logs'
        15-20+ minutes. On timeout the error names what is missing and the invocation_ids.
    :param max_consecutive_errors: failed checks (5xx, network) in a row tolerated; a refused
        key fails at once.
    """

    template_fields: Sequence[str] = ("push_result", "tables", "lineage_edges", "query_tables", "query_window")
    ui_color = "#e8f0fe"

    def __init__(
        self,
        *,
        push_result: Any = None,
        tables: Any = None,
        lineage_edges: Any = None,
        query_tables: Any = None,
        query_window: Any = None,
        kinds: Sequence[str] | None = None,
        monte_carlo_conn_id: str = MonteCarloHook.default_conn_name,
        # Not conf "operators.default_deferrable": that defaults to False, and holding a worker
        # slot for 20+ minutes of query-log processing is the wrong default here.
        deferrable: bool = True,
        poke_interval: timedelta | float = DEFAULT_POKE_INTERVAL,
        timeout: timedelta | float = DEFAULT_TIMEOUT,
        max_consecutive_errors: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        if push_result is None and tables is None and lineage_edges is None and query_tables is None:
            raise ValueError(
                f"{self.task_id}: pass push_result (e.g. push_task.output) or tables= / lineage_edges= / query_tables="
            )
        if max_consecutive_errors < 1:
            raise ValueError(f"max_consecutive_errors must be >= 1, got {max_consecutive_errors}")
        self.push_result = push_result
        self.tables = tables
        self.lineage_edges = lineage_edges
        self.query_tables = query_tables
        self.query_window = query_window
        self.kinds = list(kinds) if kinds is not None else None
        self.monte_carlo_conn_id = monte_carlo_conn_id
        self.deferrable = deferrable
        self.max_consecutive_errors = max_consecutive_errors
        self._expect: Expectations | None = None
        self._checker: VisibilityChecker | None = None
        self._status: VisibilityStatus | None = None
        self._errors = 0
        self._polls = 0

    # -- expectations --------------------------------------------------------------------------

    def _expectations(self) -> Expectations:
        if self._expect is None:
            from monte_carlo_push_provider.utils.visibility import build_expectations

            creds = MonteCarloHook(self.monte_carlo_conn_id).get_credentials()
            self._expect, notes = build_expectations(
                self.push_result,
                kinds=self.kinds,
                tables=self.tables,
                lineage_edges=self.lineage_edges,
                query_tables=self.query_tables,
                query_window=self.query_window,
                default_resource_uuid=creds.resource_uuid,
            )
            for note in notes:
                self.log.warning("%s", note)
            self.log.info(
                "waiting for %s to be visible in Monte Carlo (invocation_ids: %s)",
                self._expect.describe(), ", ".join(self._expect.all_invocation_ids()) or "none",
            )
        return self._expect

    # -- running -------------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        expect = self._expectations()
        if not expect:
            self.log.info("nothing to check: the push sent nothing this sensor can look up")
            return self._result("nothing_to_check", deferred=False)
        if not self.deferrable:
            try:
                return super().execute(context)
            except AirflowSensorTimeout as err:
                raise AirflowSensorTimeout(f"{err}\n{self._timeout_text()}") from None
            except AirflowSkipException as err:
                if self._status is None or self._status.done:
                    raise
                raise AirflowSkipException(f"{err}\n{self._timeout_text()}") from None
        # Check once here: data pushed a while ago (or a re-run) needs no trigger at all.
        poke = self.poke(context)
        if poke:
            return poke.xcom_value if isinstance(poke, PokeReturnValue) else poke
        from monte_carlo_push_provider.triggers.monte_carlo import MonteCarloVisibilityTrigger

        now = time.time()
        self.log.info("deferring: polling every %ss for up to %.0f min", self.poke_interval, self.timeout / 60)
        self.defer(
            trigger=MonteCarloVisibilityTrigger(
                expectations=expect.to_dict(),
                monte_carlo_conn_id=self.monte_carlo_conn_id,
                poll_interval=self.poke_interval,
                deadline=now + self.timeout,
                max_consecutive_errors=self.max_consecutive_errors,
                started_at=now,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) + DEFERRAL_GRACE,
        )

    def poke(self, context: Context) -> bool | PokeReturnValue:
        import httpx

        from monte_carlo_push_provider.utils.errors import MonteCarloPushError
        from monte_carlo_push_provider.utils.visibility import (
            GraphQLFatalError,
            GraphQLTransportError,
            VisibilityChecker,
            graphql_data,
            run_sync,
        )

        expect = self._expectations()
        if self._checker is None:
            self._checker = VisibilityChecker(expect)
        creds = MonteCarloHook(self.monte_carlo_conn_id).get_credentials()
        key_id, secret = creds.require_graphql_key()
        endpoint = creds.graphql_endpoint
        self._polls += 1
        # The same transport and answer handling as the trigger (httpx + graphql_data), so poke
        # and deferrable modes wait, retry and fail identically.
        with httpx.Client(headers={"x-mcd-id": key_id, "x-mcd-token": secret}, timeout=creds.timeout_s) as client:

            def call(query: str, variables: dict[str, Any]) -> Any:
                try:
                    response = client.post(endpoint, json={"query": query, "variables": variables})
                except httpx.HTTPError as err:
                    raise GraphQLTransportError(f"{type(err).__name__} talking to {endpoint}: {err}") from None
                return graphql_data(endpoint, response.status_code, response.content)

            try:
                status = run_sync(self._checker.check(), call)
            except GraphQLFatalError as err:
                raise MonteCarloPushError(str(err), invocation_ids=expect.all_invocation_ids()) from None
            except GraphQLTransportError as err:
                self._errors += 1
                if self._errors >= self.max_consecutive_errors:
                    raise MonteCarloPushError(
                        f"{self._errors} checks in a row failed; last error: {err}",
                        invocation_ids=expect.all_invocation_ids(),
                    ) from None
                self.log.warning("check failed (%d/%d in a row): %s", self._errors, self.max_consecutive_errors, err)
                return False
        self._errors = 0
        self._status = status
        if status.done:
            self.log.info("all pushed data is visible in Monte Carlo: %s", status.summary())
            return PokeReturnValue(True, self._result("visible", deferred=False, visibility=status.to_dict()))
        self.log.info("not visible yet: %s", status.summary())
        return False

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        from monte_carlo_push_provider.utils.errors import MonteCarloPushError
        from monte_carlo_push_provider.utils.visibility import timeout_message

        expect = self._expectations()
        event = event or {}
        status = event.get("status")
        # A fresh task process: the poll count is the trigger's (plus the one check before deferring).
        self._polls = 1 + int(event.get("polls") or 0)
        if status == "success":
            self.log.info(
                "all pushed data is visible in Monte Carlo after %s poll(s), %.0f s in the triggerer",
                event.get("polls"), event.get("waited_s") or 0,
            )
            return self._result("visible", deferred=True, visibility=event.get("visibility"), waited_s=event.get("waited_s"))
        if status == "timeout":
            raise AirflowSensorTimeout(timeout_message(expect, event.get("visibility"), float(event.get("waited_s") or self.timeout)))
        ids = ", ".join(expect.all_invocation_ids()) or "none"
        raise MonteCarloPushError(
            f"checking visibility in Monte Carlo failed: {event.get('message') or event!r} (invocation_ids: {ids})",
            invocation_ids=expect.all_invocation_ids(),
        )

    # -- helpers -------------------------------------------------------------------------------

    def _timeout_text(self) -> str:
        from monte_carlo_push_provider.utils.visibility import timeout_message

        return timeout_message(self._expectations(), self._status, self.timeout)

    def _result(self, status: str, *, deferred: bool, **extra: Any) -> dict[str, Any]:
        expect = self._expect
        return {
            "status": status,
            "kinds": expect.kinds if expect else [],
            "expected": expect.describe() if expect else "nothing",
            "invocation_ids": expect.all_invocation_ids() if expect else [],
            "polls": self._polls,
            "deferred": deferred,
            **extra,
        }
