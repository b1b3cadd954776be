"""MonteCarloPushedDataSensor: wait until Monte Carlo shows *this* push.

A 202 from the gateway only means "accepted": Monte Carlo processes pushes asynchronously
(metadata a few minutes, lineage seconds to minutes, query logs 15-20 minutes and up to an
hour). The sensor confirms this push by its invocation_ids, not by data an earlier push could
have left (docs/sensor.md): ``Warehouse.pushEvents`` per warehouse and flow, and each sampled
table's ``ingestInvocationId`` through ``getTables(mcons: [...])``; then the pushed lineage
edges and, for ``query_tables``, ``getAggregatedQueries``.

The logic is :mod:`monte_carlo_push_provider.sensors.checker` (no I/O; shared with the
trigger); GraphQL goes through :meth:`MonteCarloHook.graphql`. Deferrable by default: the wait
runs in the triggerer and holds no worker slot. When the push sent nothing (a quiet hour, the
hourly guard skipped everything) the sensor succeeds at once.
"""

from __future__ import annotations

import string
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import AssetAlias, BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowSensorTimeout, AirflowSkipException

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
from monte_carlo_push_provider.operators.links import MonteCarloTablesLink
from monte_carlo_push_provider.sensors.messages import FLOW_TIMEOUT

if TYPE_CHECKING:
    from airflow.sdk import Context

    from monte_carlo_push_provider.sensors.checker import GraphQLRequest, VisibilityChecker, VisibilityStatus
    from monte_carlo_push_provider.sensors.expectations import Expectations

DEFAULT_POKE_INTERVAL = timedelta(seconds=60)
#: The asset alias confirmed tables are emitted through (``None``: no asset events).
DEFAULT_ASSET_ALIAS = "monte_carlo_confirmed"
#: Extra time Airflow's own deferral timeout gets over the trigger's deadline, so the trigger's
#: timeout event (which names what is missing) arrives first.
DEFERRAL_GRACE = timedelta(minutes=5)
#: The timeout until the expectations say which flows are checked (the slowest flow's default).
_LONGEST_FLOW_TIMEOUT = max(FLOW_TIMEOUT.values())


#: What an asset URI keeps as written: every printable ASCII character but ``%``.
_URI_SAFE = string.punctuation.replace("%", "") + " "


def table_asset_uri(resource_uuid: str | None, full_table_id: str) -> str:
    """The Airflow asset URI of a table Monte Carlo confirmed (``x-`` schemes are kept as is).

    Airflow refuses a non-ASCII URI when it records the asset event (and then fails the sensor
    task after it confirmed): non-ASCII characters and ``%`` are percent-encoded (UTF-8), so
    ``Umsätze`` is ``Ums%C3%A4tze``; an ASCII id is the URI as it is.
    """
    from urllib.parse import quote

    return f"x-monte-carlo://{resource_uuid or 'any'}/{quote(full_table_id, safe=_URI_SAFE)}"


class MonteCarloPushedDataSensor(BaseSensorOperator):
    """Wait until Monte Carlo shows this push's metadata, lineage and query logs.

    :param push_result: the return value of a ``MonteCarloPushOperator`` task, e.g.
        ``push_result=push.output`` (templated). The flows it pushed, their warehouses and
        invocation_ids, and the sampled tables / lineage destinations come from it. A push that
        sent nothing makes the sensor succeed at once ("nothing pushed in this run").
    :param tables: explicit metadata expectations: fullTableIds (``db:schema.table``) or dicts
        ``{"full_table_id", "resource_uuid"?, "fields"?: [names], "row_count"?: int}``. Templated.
    :param lineage_edges: explicit lineage expectations: ``(destination, [sources])`` or dicts
        ``{"destination", "sources", "columns"?: {dst_col: [(src fullTableId, src_col)]}}``. Templated.
    :param query_tables: tables whose pushed query logs to look for with getAggregatedQueries
        (the push does not parse SQL, so it cannot name them). Templated.
    :param query_window: ``(start, end)`` the pushed queries ran in (default: the push result's
        window, else the 7 days before the push). Templated.
    :param kinds: which of ``metadata``, ``lineage``, ``query_logs`` to check (default: all).
    :param monte_carlo_conn_id: the ``monte_carlo`` connection (its GraphQL API key). Templated.
    :param deferrable: wait in the triggerer (default ``True``); ``False`` pokes from the worker.
    :param poke_interval: seconds (or timedelta) between checks; default 60 s.
    :param timeout: how long to wait; default per flow, the slowest checked flow's: metadata
        and lineage 20 min, query logs 75 min (they take 15-20 minutes, up to an hour).
    :param clock_skew: how far our clock and Monte Carlo's may disagree; a ``pushEvents``
        receipt later than this push's acceptance by more than this is a later push's.
    :param max_calls_per_poke: GraphQL calls one check may make (what is left waits for the
        next check); a 1,000-table sample needs 11.
    :param asset_alias: asset alias confirmed tables are emitted through as asset events
        (``x-monte-carlo://<warehouse>/<fullTableId>``, extra: the invocation_ids); ``None``
        emits none.
    :param max_consecutive_errors: failed checks (5xx, network) in a row tolerated; a refused
        key or document fails at once.
    """

    template_fields: Sequence[str] = (
        "push_result", "tables", "lineage_edges", "query_tables", "query_window", "monte_carlo_conn_id",
    )
    operator_extra_links = (MonteCarloTablesLink(),)
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
        timeout: timedelta | float | None = None,
        clock_skew: timedelta | float = timedelta(minutes=5),
        max_calls_per_poke: int = 50,
        asset_alias: str | None = DEFAULT_ASSET_ALIAS,
        max_consecutive_errors: int = 5,
        **kwargs: Any,
    ) -> None:
        if asset_alias:
            kwargs["outlets"] = [*(kwargs.get("outlets") or []), AssetAlias(asset_alias)]
        super().__init__(poke_interval=poke_interval, timeout=_LONGEST_FLOW_TIMEOUT if timeout is None else timeout, **kwargs)
        #: None: per flow, set once the expectations are known (docs/sensor.md, "Defaults")
        self.timeout_per_flow = timeout is None
        if push_result is None and tables is None and lineage_edges is None and query_tables is None:
            raise ValueError(
                f"{self.task_id}: pass push_result (e.g. push_task.output) or tables= / lineage_edges= / query_tables="
            )
        if max_consecutive_errors < 1:
            raise ValueError(f"max_consecutive_errors must be >= 1, got {max_consecutive_errors}")
        if max_calls_per_poke < 2:
            raise ValueError(f"max_calls_per_poke must be >= 2, got {max_calls_per_poke}")
        self.push_result = push_result
        self.tables = tables
        self.lineage_edges = lineage_edges
        self.query_tables = query_tables
        self.query_window = query_window
        self.kinds = list(kinds) if kinds is not None else None
        self.monte_carlo_conn_id = monte_carlo_conn_id
        self.deferrable = deferrable
        self.clock_skew_s = clock_skew.total_seconds() if isinstance(clock_skew, timedelta) else float(clock_skew)
        self.max_calls_per_poke = max_calls_per_poke
        self.asset_alias = asset_alias
        self.max_consecutive_errors = max_consecutive_errors
        self._expect: Expectations | None = None
        self._checker: VisibilityChecker | None = None
        self._status: VisibilityStatus | None = None
        self._errors = 0
        self._polls = 0

    @cached_property
    def hook(self) -> MonteCarloHook:
        return MonteCarloHook(self.monte_carlo_conn_id)

    # -- expectations --------------------------------------------------------------------------

    def _expectations(self) -> Expectations:
        if self._expect is None:
            from monte_carlo_push_provider.sensors.expectations import build_expectations
            from monte_carlo_push_provider.sensors.messages import default_timeout

            self._expect, notes = build_expectations(
                self.push_result,
                kinds=self.kinds,
                tables=self.tables,
                lineage_edges=self.lineage_edges,
                query_tables=self.query_tables,
                query_window=self.query_window,
                default_resource_uuid=self.hook.get_credentials().resource_uuid,
            )
            for note in notes:
                self.log.warning("%s", note)
            if self.timeout_per_flow:
                self.timeout = default_timeout(self._expect.kinds).total_seconds()
            if self._expect:
                self.log.info(
                    "waiting up to %.0f min for Monte Carlo to show this push: %s (invocation_ids: %s)",
                    self.timeout / 60, self._expect.describe(), ", ".join(self._expect.all_invocation_ids()) or "none",
                )
        return self._expect

    # -- running -------------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        from monte_carlo_push_provider.sensors.messages import NOTHING_PUSHED

        expect = self._expectations()
        if expect.nothing_pushed:
            self.log.info("%s", NOTHING_PUSHED)
            return self._result("nothing_pushed", deferred=False, message=NOTHING_PUSHED)
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
        self.log.info("deferring: checking every %ss for up to %.0f min", self.poke_interval, self.timeout / 60)
        self.defer(
            trigger=MonteCarloVisibilityTrigger(
                expectations=expect.to_dict(),
                monte_carlo_conn_id=self.monte_carlo_conn_id,
                poll_interval=self.poke_interval,
                deadline=now + self.timeout,
                max_consecutive_errors=self.max_consecutive_errors,
                started_at=now,
                clock_skew_s=self.clock_skew_s,
                max_calls=self.max_calls_per_poke,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) + DEFERRAL_GRACE,
        )

    def poke(self, context: Context) -> bool | PokeReturnValue:
        from monte_carlo_push_provider.sensors.checker import VisibilityChecker, run_sync
        from monte_carlo_push_provider.utils.errors import MonteCarloPushError, MonteCarloRejectedError

        expect = self._expectations()
        if self._checker is None:
            self._checker = VisibilityChecker(expect, clock_skew_s=self.clock_skew_s, max_calls=self.max_calls_per_poke)
        self._polls += 1
        hook = self.hook

        def call(request: GraphQLRequest) -> dict[str, Any]:
            # The poll loop is the retry: no retries inside one check.
            return hook.graphql(request.query, request.variables, retry=False, not_found_ok=request.not_found_ok)

        try:
            status = run_sync(self._checker.check(), call)
        except MonteCarloRejectedError as err:
            raise MonteCarloRejectedError(str(err), status=err.status, invocation_ids=expect.all_invocation_ids()) from None
        except MonteCarloPushError as err:
            self._errors += 1
            if self._errors >= self.max_consecutive_errors:
                raise MonteCarloPushError(
                    f"{self._errors} checks in a row failed; last error: {err}", invocation_ids=expect.all_invocation_ids()
                ) from None
            self.log.warning("check failed (%d/%d in a row): %s", self._errors, self.max_consecutive_errors, err)
            return False
        self._errors = 0
        self._status = status
        if status.done:
            self.log.info("Monte Carlo shows this push: %s", status.summary())
            self._emit_assets(context, status.to_dict())
            return PokeReturnValue(True, self._result("visible", deferred=False, visibility=status.to_dict()))
        self.log.info("check %d (%d GraphQL call(s)): %s", self._polls, status.calls, status.summary())
        return False

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        from monte_carlo_push_provider.sensors.messages import timeout_message
        from monte_carlo_push_provider.utils.errors import MonteCarloPushError, MonteCarloRejectedError

        expect = self._expectations()
        event = event or {}
        status = event.get("status")
        # A fresh task process: the poll count is the trigger's (plus the one check before deferring).
        self._polls = 1 + int(event.get("polls") or 0)
        if status == "success":
            self.log.info(
                "Monte Carlo shows this push after %s check(s), %.0f s in the triggerer",
                event.get("polls"), event.get("waited_s") or 0,
            )
            self._emit_assets(context, event.get("visibility") or {})
            return self._result("visible", deferred=True, visibility=event.get("visibility"), waited_s=event.get("waited_s"))
        if status == "timeout":
            raise AirflowSensorTimeout(timeout_message(expect, event.get("visibility"), float(event.get("waited_s") or self.timeout)))
        ids = ", ".join(expect.all_invocation_ids()) or "none"
        error = MonteCarloRejectedError if event.get("fatal") else MonteCarloPushError
        raise error(
            f"checking visibility in Monte Carlo failed: {event.get('message') or event!r} (invocation_ids: {ids})",
            invocation_ids=expect.all_invocation_ids(),
        )

    # -- helpers -------------------------------------------------------------------------------

    def _emit_assets(self, context: Context, visibility: Mapping[str, Any]) -> None:
        """One asset event per confirmed table, through ``asset_alias``, carrying this push's
        invocation_ids: downstream DAGs can be scheduled on "Monte Carlo has it"."""
        if not self.asset_alias:
            return
        outlet_events = context.get("outlet_events") if hasattr(context, "get") else None
        if outlet_events is None:
            return
        from airflow.sdk import Asset

        expect = self._expectations()
        accessor = outlet_events[AssetAlias(self.asset_alias)]
        by_table: dict[tuple[str | None, str], dict[str, Any]] = {}
        for c in visibility.get("confirmed") or []:
            item = str(c.get("item") or "")
            if not item or item.startswith("warehouse "):
                continue  # a flow-level confirmation, no table to name
            entry = by_table.setdefault(
                (c.get("resource_uuid"), item),
                {"full_table_id": item, "resource_uuid": c.get("resource_uuid"), "kinds": [], "proof": {}},
            )
            entry["kinds"].append(c["kind"])
            entry["proof"][c["kind"]] = c.get("proof")
            entry["invocation_ids"] = expect.invocation_ids.get(c["kind"]) or entry.get("invocation_ids") or []
            if c.get("invocation_id"):
                entry["ingest_invocation_id"] = c["invocation_id"]
            if c.get("mcon"):
                entry["mcon"] = c["mcon"]
        for (resource, table), extra in by_table.items():
            accessor.add(Asset(uri=table_asset_uri(resource, table), name=f"monte_carlo/{resource}/{table}"), extra=extra)
        if by_table:
            self.log.info("emitted %d asset event(s) through alias %r", len(by_table), self.asset_alias)

    def _timeout_text(self) -> str:
        from monte_carlo_push_provider.sensors.messages import timeout_message

        return timeout_message(self._expectations(), self._status, self.timeout)

    def _result(self, status: str, *, deferred: bool, **extra: Any) -> dict[str, Any]:
        from monte_carlo_push_provider.operators.links import monte_carlo_url

        expect = self._expect
        out = {
            "status": status,
            "kinds": expect.kinds if expect else [],
            "expected": expect.describe() if expect else "nothing",
            "invocation_ids": expect.all_invocation_ids() if expect else [],
            "polls": self._polls,
            "deferred": deferred,
            **extra,
        }
        out["monte_carlo_url"] = monte_carlo_url(out)
        return out
