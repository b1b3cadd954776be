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
from collections.abc import Mapping, Sequence
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
    :param max_events_per_manifest: events per manifest part (default 25,000). A collection
        bigger than one part is pushed as several XComs ``manifest_part_<i>``, each as soon as it
        is full, and the task returns their index, which the push operator reads part by part:
        the task's memory follows the part size, not the window (docs/production.md).
    :param max_bytes_per_manifest: JSON bytes per manifest part (default 32 MiB).
    """

    ui_color = "#fff4e5"
    template_fields: Sequence[str] = ("resource_uuid",)

    def __init__(
        self, *, resource_uuid: str | None = None, max_events_per_manifest: int = 25_000,
        max_bytes_per_manifest: int = 32 * 2**20, **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from monte_carlo_push_provider.manifest_parts import check_part_limits

        check_part_limits(max_events_per_manifest, max_bytes_per_manifest)
        self.resource_uuid = resource_uuid
        self.max_events_per_manifest = max_events_per_manifest
        self.max_bytes_per_manifest = max_bytes_per_manifest
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
        source: Any = None
        try:
            # Collectors may yield their events lazily: reading the warehouse happens while the
            # manifest parts are written, so refusals are explained here too.
            source = self.get_source()
            collection = collector.collect(source, window)
            manifest = self.build_manifest(collector, collection, window, context=context)
        except Exception as exc:
            # An unknown database, a missing grant or a TLS failure becomes a message naming
            # what was read, the grant and the fix (and fails the task: a retry cannot help).
            explained = collector.explain(exc)
            if explained is None:
                raise
            raise explained from exc
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
        self, collector: Collector, collection: Collection, window: tuple[datetime, datetime] | None,
        context: Context | None = None,
    ) -> dict[str, Any]:
        """One manifest v1, or (a window bigger than one part) the index of the parts pushed as
        XComs ``manifest_part_<i>`` (:mod:`monte_carlo_push_provider.manifest_parts`)."""
        from monte_carlo_push_provider.manifest_parts import PartWriter

        flavour = {"log_type" if collector.kind == "query_logs" else "resource_type": collector.flavour}

        def stats() -> dict[str, Any]:  # read when the last part is written: skips are final then
            return {**collection.stats, "skipped": collector.skips.as_dict()}

        # Not a copy: a streaming collector fills its info while the events are read.
        info = collection.info
        if collector.kind == "metadata" and collection.scope:
            # A skipped row is a table that still exists but was not pushed: the collection does
            # not list the whole scope, so dropped-table cleanup must not compare it. Every part
            # declares the scope; the last part's stats carry the skips, which the cleanup reads.
            scope = collection.scope
            info = {**info, "scope": [dict(s) for s in scope] if isinstance(scope, list) else dict(scope),
                    "complete": not collector.skips}
        ti = (context or {}).get("ti")
        push = getattr(ti, "xcom_push", None)
        writer = PartWriter(
            kind=collector.kind,
            header={"resource_uuid": self.resource_uuid, "window": window, **flavour},
            info=info, push=push if callable(push) else None, stats=stats,
            max_events=self.max_events_per_manifest, max_bytes=self.max_bytes_per_manifest, log=self.log,
        )
        result = writer.write(collection.events)
        if writer.keys:
            result.update(
                dag_id=getattr(ti, "dag_id", None), run_id=getattr(ti, "run_id", None),
                task_id=getattr(ti, "task_id", self.task_id), map_index=getattr(ti, "map_index", -1),
            )
        if collector.skips:
            self.log.warning(
                "skipped %s row(s) Monte Carlo cannot represent: %s",
                f"{sum(collector.skips.counts.values()):,}",
                ", ".join(f"{n:,} {k}" for k, n in collector.skips.as_dict().items()),
            )
        self.log_summary(result, self._described(collection.what), parts=len(writer.keys))
        return result

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

    def log_summary(self, manifest: dict[str, Any], what: str, parts: int = 0) -> None:
        """One line a user can read: how many events of which type, how long it took."""
        events = manifest.get("events")
        count = events if isinstance(events, int) else len(events or [])
        types = Counter(e.get("type") for e in events) if isinstance(events, list) and manifest["kind"] == "metadata" else None
        detail = f" ({', '.join(f'{n:,} {t}' for t, n in sorted(types.items()))})" if types else ""
        in_parts = f" in {parts} manifest parts" if parts else ""
        self.log.info(
            "collected %s %s event(s)%s%s from %s in %.1f s",
            f"{count:,}", manifest["kind"], detail, in_parts, what, time.monotonic() - self._started,
        )


def refuse_metadata_options(kwargs: Mapping[str, Any], *names: str) -> None:
    """A view-lineage operator takes its metadata sibling's parameters, except those that only
    shape a metadata push: naming one of ``names`` is an error that says to remove it."""
    for name in names:
        if name in kwargs:
            raise ValueError(f"{name} does not apply to view lineage; remove it")


class WindowedCollectorMixin(BaseCollectorOperator):
    """The window of lineage and query-log collectors: the DAG run's data interval shifted back
    by ``lag`` (the history view's latency), so consecutive runs tile time with no gap and no
    overlap and backfills read their own interval; ``start`` / ``end`` override it.

    :param lag: how far the window is shifted back (default: the warehouse view's documented
        latency, :attr:`default_lag` of the operator).
    :param start: explicit window start (ISO-8601 or datetime; templated), overrides the interval.
    :param end: explicit window end (templated).
    :param window_part: ``(i, n)`` (also ``[i, n]`` or ``"i/n"``): read only sub-window ``i`` of
        ``n`` of that window, cut at whole microseconds so the ``n`` sub-windows tile it with no
        gap and no overlap. Map it to spread a busy hour over workers:
        ``.partial(...).expand(window_part=[(i, 12) for i in range(12)])``, and push
        ``collect.output`` with one push task (docs/production.md, "Query logs at scale").
    """

    template_fields: Sequence[str] = (*BaseCollectorOperator.template_fields, "start", "end")
    default_lag: ClassVar[timedelta] = timedelta(0)

    def __init__(
        self,
        *,
        lag: timedelta | None = None,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        window_part: tuple[int, int] | list[int] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from monte_carlo_push_provider.manifest_parts import parse_window_part

        self.lag = self.default_lag if lag is None else lag
        self.start = start
        self.end = end
        if isinstance(window_part, (tuple, list, str)):
            parse_window_part(window_part)  # a wrong value fails the DAG at parse time
        self.window_part = window_part

    def window(self, context: Context) -> tuple[datetime, datetime]:
        from monte_carlo_push_provider.collectors.common import query_window
        from monte_carlo_push_provider.manifest_parts import parse_window_part, sub_window

        start, end = query_window(context, lag=self.lag, start=self.start or None, end=self.end or None)
        part = parse_window_part(self.window_part)
        if part is not None:
            whole = (start, end)
            start, end = sub_window(start, end, part)
            self.log.info(
                "window [%s, %s): sub-window %d of %d of [%s, %s) (lag %s)", start.isoformat(), end.isoformat(),
                part[0], part[1], whole[0].isoformat(), whole[1].isoformat(), self.lag,
            )
            return start, end
        self.log.info("window [%s, %s) (lag %s)", start.isoformat(), end.isoformat(), self.lag)
        return start, end
