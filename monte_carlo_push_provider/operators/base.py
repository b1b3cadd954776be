"""The collector operator template: every collector operator runs the same flow.

    window (data interval - lag, or start/end)  ->  source (hook / client)
      ->  collector.collect(source, window)     ->  manifest v1  ->  one summary log line

A warehouse's operator module only declares parameters: it says how to make the source
(:meth:`BaseCollectorOperator.get_source`) and the collector (:meth:`make_collector`), whose class
lives in ``collectors/<warehouse>.py`` with the warehouse's SQL and policy (see
``collectors/base.py``). Warehouse SDKs and sqlglot are imported inside ``get_source`` /
``collect``, never at module import: operator modules are imported by DAG files at parse time.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from monte_carlo_push_provider.collectors.base import Collection, Collector


class BaseCollectorOperator(BaseOperator):
    """Base for collectors: runs window -> source -> ``collect`` -> manifest -> summary.

    :param resource_uuid: Monte Carlo warehouse UUID to put in the manifest (templated; default
        null, which makes the push operator use its connection's ``resource_uuid``).
    """

    ui_color = "#fff4e5"
    template_fields: Sequence[str] = ("resource_uuid",)

    def __init__(self, *, resource_uuid: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resource_uuid = resource_uuid
        self._started = 0.0
        self._openlineage_summary: dict[str, Any] | None = None  # set by execute
        self._openlineage_source: Any = None

    # -- what a warehouse operator provides ----------------------------------------------------

    def make_collector(self) -> Collector:
        """The collector (from ``collectors/<warehouse>.py``) this operator's parameters describe."""
        raise NotImplementedError(f"{type(self).__name__} must define make_collector()")

    def get_source(self) -> Any:
        """What the collector reads through: an Airflow hook (or a client made by one)."""
        raise NotImplementedError(f"{type(self).__name__} must define get_source()")

    def window(self, context: Context) -> tuple[datetime, datetime] | None:
        """``[start, end)`` for lineage and query logs (:class:`WindowedCollectorMixin`); metadata
        collectors read the catalog as it is now."""
        return None

    # -- the flow --------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        self.start_timer()
        window = self.window(context)
        collector = self.make_collector()
        source = self.get_source()
        try:
            collection = collector.collect(source, window)
        except Exception as exc:
            # An unknown database, a missing grant or a TLS failure becomes a message naming
            # what was read, the grant and the fix (and fails the task: a retry cannot help).
            explained = collector.explain(exc)
            if explained is None:
                raise
            raise explained from exc
        manifest = self.build_manifest(collector, collection, window)
        from monte_carlo_push_provider.utils.openlineage_facets import summarize

        self._openlineage_source = source
        self._openlineage_summary = summarize([manifest])  # reads only validated keys, defensively
        return manifest

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: inputs = the tables the manifest describes (in the hook's OpenLineage
        namespace when it has one), output = the Monte Carlo resource it is for. See
        :mod:`monte_carlo_push_provider.utils.openlineage_facets`."""
        from monte_carlo_push_provider.utils.openlineage_facets import hook_namespace, operator_lineage

        summary = getattr(self, "_openlineage_summary", None)
        source = getattr(self, "_openlineage_source", None)
        namespace = hook_namespace(source) if summary and source is not None else None
        if summary and namespace:
            summary = {**summary, "inputs": [(namespace, name) for _, name in summary["inputs"]]}
        return operator_lineage(summary)

    def build_manifest(
        self, collector: Collector, collection: Collection, window: tuple[datetime, datetime] | None
    ) -> dict[str, Any]:
        from monte_carlo_push_provider.manifest import new_manifest

        flavour = {"log_type" if collector.kind == "query_logs" else "resource_type": collector.flavour}
        stats = {**collection.stats, "skipped": collector.skips.as_dict()}
        info = dict(collection.info)
        if collector.kind == "metadata" and collection.scope:
            # A skipped row is a table that still exists but was not pushed: the collection does
            # not list the whole scope, so dropped-table cleanup must not compare it.
            scope = collection.scope
            info.update(scope=[dict(s) for s in scope] if isinstance(scope, list) else dict(scope),
                        complete=not collector.skips)
        manifest = new_manifest(
            collector.kind, collection.events, resource_uuid=self.resource_uuid, window=window,
            **flavour, **info, stats=stats,
        )
        if collector.skips:
            self.log.warning(
                "skipped %s row(s) Monte Carlo cannot represent: %s",
                f"{sum(collector.skips.counts.values()):,}",
                ", ".join(f"{n:,} {k}" for k, n in collector.skips.as_dict().items()),
            )
        self.log_summary(manifest, self._described(collection.what))
        return manifest

    def _described(self, what: str) -> str:
        """``snowflake_default (database SALES)``: the first connection id the operator has, then
        what the collector read."""
        conn_id = next(
            (value for name in self.template_fields if name.endswith("conn_id") and (value := getattr(self, name, None))),
            None,
        )
        if conn_id and what:
            return f"{conn_id} ({what})"
        return str(conn_id or what or type(self).__name__)

    def start_timer(self) -> None:
        self._started = time.monotonic()

    def log_summary(self, manifest: dict[str, Any], what: str) -> None:
        """One line a user can read: how many events of which type, how long it took."""
        events = manifest["events"]
        types = Counter(e.get("type") for e in events) if manifest["kind"] == "metadata" else None
        detail = f" ({', '.join(f'{n:,} {t}' for t, n in sorted(types.items()))})" if types else ""
        self.log.info(
            "collected %s %s event(s)%s from %s in %.1f s",
            f"{len(events):,}", manifest["kind"], detail, what, time.monotonic() - self._started,
        )


class WindowedCollectorMixin(BaseCollectorOperator):
    """The window of lineage and query-log collectors: the DAG run's data interval shifted back
    by ``lag`` (the history view's latency), so consecutive runs tile time with no gap and no
    overlap and backfills read their own interval; ``start`` / ``end`` override it.

    :param lag: how far the window is shifted back (default: the warehouse view's documented
        latency, :attr:`default_lag` of the operator).
    :param start: explicit window start (ISO-8601 or datetime; templated), overrides the interval.
    :param end: explicit window end (templated).
    """

    template_fields: Sequence[str] = (*BaseCollectorOperator.template_fields, "start", "end")
    default_lag: ClassVar[timedelta] = timedelta(0)

    def __init__(
        self,
        *,
        lag: timedelta | None = None,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lag = self.default_lag if lag is None else lag
        self.start = start
        self.end = end

    def window(self, context: Context) -> tuple[datetime, datetime]:
        from monte_carlo_push_provider.collectors.common import query_window

        start, end = query_window(context, lag=self.lag, start=self.start or None, end=self.end or None)
        self.log.info("window [%s, %s) (lag %s)", start.isoformat(), end.isoformat(), self.lag)
        return start, end
