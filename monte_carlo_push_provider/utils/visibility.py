"""What "the pushed data is visible in Monte Carlo" means, shared by the sensor and its trigger.

Two halves, both free of I/O:

- **Expectations**: which tables, lineage edges and query-log tables to look for, built from a
  :class:`~monte_carlo_push_provider.operators.push.MonteCarloPushOperator` result (its XCom)
  and/or explicit arguments. JSON-serialisable, because the trigger is rebuilt from its
  ``serialize()`` kwargs in the triggerer.
- **VisibilityChecker.check()**: a generator that *yields* the GraphQL requests it needs and is
  *sent* their ``data`` answers; it returns a :class:`VisibilityStatus` (what is still missing).
  The sensor's poke mode drives it with the hook's pycarlo client (:func:`run_sync`), the
  trigger with an async httpx client (:func:`run_async`): one copy of the logic, two transports.

Answers from pycarlo come back in snake_case (``full_table_id``), raw HTTP answers in camelCase
(``fullTableId``); :func:`field` reads either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping
from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from monte_carlo_push_provider.utils.errors import CHECKPOINT_VISIBILITY, MonteCarloConfigError
from monte_carlo_push_provider.utils.graphql_documents import (
    GET_AGGREGATED_QUERIES,
    GET_DERIVED_TABLES_PARTIAL_LINEAGE,
    GET_METRICS_V4,
    GET_TABLE,
    GET_TABLE_LINEAGE_UPSTREAM,
    GET_TABLE_MCON,
    GET_USER_ACCOUNT,
)

KINDS = ("metadata", "lineage", "query_logs")

#: Monte Carlo's documented delays between a push and GraphQL showing it (docs/sensor.md).
TYPICAL_DELAY = {
    "metadata": "a few minutes",
    "lineage": "seconds to a few minutes (column lineage: a few minutes)",
    "query_logs": "15-20 minutes or more",
}
#: How far back query logs are looked for when neither the push result nor ``query_window`` says.
DEFAULT_QUERY_LOOKBACK = timedelta(days=7)
#: Volume points older than the push minus this do not count (clock skew between us and MC).
METRICS_SKEW = timedelta(hours=1)
#: Pages of getDerivedTablesPartialLineage read per source column before giving up for this poll.
MAX_LINEAGE_PAGES = 20
FULL_TABLE_ID = re.compile(r"^[^:]+:[^.]+\..+$")


# ---------------------------------------------------------------------------------------------
# Expectations
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableExpectation:
    """A pushed table: ``getTable`` finds it, with these field names and this row count."""

    full_table_id: str
    resource_uuid: str | None = None
    fields: tuple[str, ...] = ()
    row_count: int | None = None


@dataclass(frozen=True)
class EdgeExpectation:
    """A pushed lineage event: ``destination`` shows these upstream ``sources`` (any upstream
    edge when empty) and, per ``columns`` entry ``(destination column, source fullTableId,
    source column)``, the column edge."""

    destination: str
    sources: tuple[str, ...] = ()
    resource_uuid: str | None = None
    columns: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class QueryTableExpectation:
    """A table the pushed query logs touch: ``getAggregatedQueries`` lists a query for it."""

    full_table_id: str
    resource_uuid: str | None = None


@dataclass
class Expectations:
    tables: list[TableExpectation] = dc_field(default_factory=list)
    edges: list[EdgeExpectation] = dc_field(default_factory=list)
    query_tables: list[QueryTableExpectation] = dc_field(default_factory=list)
    #: ISO-8601 (start, end) searched by getAggregatedQueries.
    query_window: tuple[str, str] | None = None
    #: ISO-8601: row-count points older than this do not count.
    metrics_since: str | None = None
    #: kind -> invocation_ids of the push, quoted when something never shows up.
    invocation_ids: dict[str, list[str]] = dc_field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.tables or self.edges or self.query_tables)

    @property
    def kinds(self) -> list[str]:
        present = {"metadata": self.tables, "lineage": self.edges, "query_logs": self.query_tables}
        return [k for k in KINDS if present[k]]

    def describe(self) -> str:
        parts = []
        if self.tables:
            parts.append(f"{len(self.tables)} table(s) of metadata")
        if self.edges:
            columns = sum(len(e.columns) for e in self.edges)
            parts.append(f"{len(self.edges)} lineage event(s)" + (f" with {columns} column edge(s)" if columns else ""))
        if self.query_tables:
            parts.append(f"query logs of {len(self.query_tables)} table(s)")
        return ", ".join(parts) or "nothing"

    def all_invocation_ids(self) -> list[str]:
        return list(dict.fromkeys(i for ids in self.invocation_ids.values() for i in ids))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only (the trigger's kwargs go through Airflow's serde)."""
        data = asdict(self)
        data["query_window"] = list(self.query_window) if self.query_window else None
        return json.loads(json.dumps(data))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Expectations:
        return cls(
            tables=[
                TableExpectation(t["full_table_id"], t.get("resource_uuid"), tuple(t.get("fields") or ()), t.get("row_count"))
                for t in data.get("tables") or []
            ],
            edges=[
                EdgeExpectation(
                    e["destination"],
                    tuple(e.get("sources") or ()),
                    e.get("resource_uuid"),
                    tuple(tuple(c) for c in e.get("columns") or ()),  # type: ignore[misc]
                )
                for e in data.get("edges") or []
            ],
            query_tables=[QueryTableExpectation(q["full_table_id"], q.get("resource_uuid")) for q in data.get("query_tables") or []],
            query_window=tuple(data["query_window"]) if data.get("query_window") else None,  # type: ignore[arg-type]
            metrics_since=data.get("metrics_since"),
            invocation_ids={k: list(v) for k, v in (data.get("invocation_ids") or {}).items()},
        )


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _as_iso(value: Any, what: str) -> str:
    if isinstance(value, datetime):
        return _iso(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    if isinstance(value, str) and value.strip():
        try:
            return _as_iso(datetime.fromisoformat(value.strip().replace("Z", "+00:00")), what)
        except ValueError:
            pass
    raise MonteCarloConfigError(f"{what} must be a datetime or an ISO-8601 string, got {value!r}")


def _check_full_table_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not FULL_TABLE_ID.match(value):
        raise MonteCarloConfigError(
            f"{what}: {value!r} is not a Monte Carlo fullTableId; write it as <database>:<schema>.<table>"
        )
    return value


def _names(values: Any, what: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise MonteCarloConfigError(f"{what} must be a list of column names, got {values!r}")
    out = []
    for v in values:
        # Accept (name, type) pairs too: what relational_asset() takes.
        name = v[0] if isinstance(v, (list, tuple)) and v else v.get("name") if isinstance(v, Mapping) else v
        if not isinstance(name, str) or not name:
            raise MonteCarloConfigError(f"{what}: column names must be non-empty strings, got {v!r}")
        out.append(name)
    return tuple(out)


def parse_tables(items: Any, *, resource_uuid: str | None = None) -> list[TableExpectation]:
    """``tables=[...]``: fullTableIds, or dicts ``{full_table_id, resource_uuid?, fields?, row_count?}``."""
    out = []
    for i, item in enumerate(_as_list(items, "tables")):
        where = f"tables[{i}]"
        if isinstance(item, str):
            out.append(TableExpectation(_check_full_table_id(item, where), resource_uuid))
            continue
        if not isinstance(item, Mapping):
            raise MonteCarloConfigError(f"{where} must be a fullTableId string or a dict, got {item!r}")
        ftid = _check_full_table_id(item.get("full_table_id") or item.get("fullTableId"), where)
        row_count = item.get("row_count")
        if row_count is not None and (isinstance(row_count, bool) or not isinstance(row_count, int) or row_count < 0):
            raise MonteCarloConfigError(f"{where}.row_count must be an integer >= 0, got {row_count!r}")
        out.append(
            TableExpectation(ftid, item.get("resource_uuid") or resource_uuid, _names(item.get("fields"), f"{where}.fields"), row_count)
        )
    return out


def parse_edges(items: Any, *, resource_uuid: str | None = None) -> list[EdgeExpectation]:
    """``lineage_edges=[...]``: ``(destination, [sources])`` pairs or dicts
    ``{destination, sources, columns?, resource_uuid?}``; ``columns`` maps a destination column
    to ``[(source fullTableId, source column), ...]`` or is a list of
    ``(destination column, source fullTableId, source column)``."""
    out = []
    for i, item in enumerate(_as_list(items, "lineage_edges")):
        where = f"lineage_edges[{i}]"
        if isinstance(item, (list, tuple)) and len(item) == 2:
            item = {"destination": item[0], "sources": item[1]}
        if not isinstance(item, Mapping):
            raise MonteCarloConfigError(f"{where} must be (destination, [sources]) or a dict, got {item!r}")
        destination = _check_full_table_id(item.get("destination"), f"{where}.destination")
        sources = item.get("sources") or ()
        if isinstance(sources, str):
            sources = [sources]
        sources = tuple(_check_full_table_id(s, f"{where}.sources") for s in sources)
        columns: list[tuple[str, str, str]] = []
        raw = item.get("columns") or ()
        if isinstance(raw, Mapping):
            for dst_col, upstream in raw.items():
                for src, src_col in upstream:
                    columns.append((str(dst_col), _check_full_table_id(src, f"{where}.columns"), str(src_col)))
        else:
            for triple in raw:
                dst_col, src, src_col = triple
                columns.append((str(dst_col), _check_full_table_id(src, f"{where}.columns"), str(src_col)))
        # A column edge implies the table edge: expect its source too.
        sources = tuple(dict.fromkeys([*sources, *(c[1] for c in columns)]))
        out.append(EdgeExpectation(destination, sources, item.get("resource_uuid") or resource_uuid, tuple(columns)))
    return out


def parse_query_tables(items: Any, *, resource_uuid: str | None = None) -> list[QueryTableExpectation]:
    out = []
    for i, item in enumerate(_as_list(items, "query_tables")):
        where = f"query_tables[{i}]"
        if isinstance(item, Mapping):
            out.append(
                QueryTableExpectation(
                    _check_full_table_id(item.get("full_table_id") or item.get("fullTableId"), where),
                    item.get("resource_uuid") or resource_uuid,
                )
            )
        else:
            out.append(QueryTableExpectation(_check_full_table_id(item, where), resource_uuid))
    return out


def _as_list(items: Any, what: str) -> list[Any]:
    if items is None:
        return []
    if isinstance(items, (str, Mapping)):
        return [items]
    if not isinstance(items, Iterable):
        raise MonteCarloConfigError(f"{what} must be a list, got {items!r}")
    return list(items)


def build_expectations(
    push_result: Mapping[str, Any] | None = None,
    *,
    kinds: Iterable[str] | None = None,
    tables: Any = None,
    lineage_edges: Any = None,
    query_tables: Any = None,
    query_window: tuple[Any, Any] | list[Any] | None = None,
    default_resource_uuid: str | None = None,
    now: datetime | None = None,
) -> tuple[Expectations, list[str]]:
    """Expectations from a push result and/or explicit arguments, plus notes worth logging
    (what could not be derived and why). Explicit entries replace push-result entries for the
    same table.

    From the push result: metadata tables and lineage destinations come from ``assets[kind]``
    (``tables`` / ``edges`` details when the push result carries them, else the fullTableId
    ``sample``); the warehouse from the kind's batches; invocation_ids per kind. Query logs
    are not attributable to tables without ``query_tables`` (the push does not parse SQL).
    """
    now = now or datetime.now(timezone.utc)
    notes: list[str] = []
    wanted = set(kinds) if kinds is not None else None
    if wanted is not None:
        unknown = wanted - set(KINDS)
        if unknown:
            raise MonteCarloConfigError(f"kinds: unknown {', '.join(sorted(unknown))} (known: {', '.join(KINDS)})")

    expect = Expectations()
    by_table: dict[tuple[str, str | None], TableExpectation] = {}
    by_edge: dict[tuple[str, str | None], EdgeExpectation] = {}
    by_query: dict[tuple[str, str | None], QueryTableExpectation] = {}
    started_at: str | None = None
    query_resource = default_resource_uuid
    pushed_window: tuple[str, str] | None = None

    if push_result is not None:
        if not isinstance(push_result, Mapping) or "batches" not in push_result:
            raise MonteCarloConfigError(
                "push_result must be the return value (XCom) of a MonteCarloPushOperator task, e.g. "
                f"push_result=push_task.output; got {type(push_result).__name__}"
            )
        if push_result.get("status") not in (None, "success"):
            notes.append(f"the push task ended with status {push_result.get('status')!r}; checking what it pushed")
        started_at = push_result.get("started_at")
        batches = push_result.get("batches") or []
        resources: dict[str, set[str]] = {}
        for b in batches:
            resources.setdefault(b["kind"], set()).add(b["resource_uuid"])
            expect.invocation_ids.setdefault(b["kind"], [])
            if b.get("invocation_id") and b["invocation_id"] not in expect.invocation_ids[b["kind"]]:
                expect.invocation_ids[b["kind"]].append(b["invocation_id"])
        for skipped in push_result.get("skipped") or []:
            notes.append(f"not expected (skipped by the push): {skipped.get('reason', skipped.get('unit'))}")
        assets = push_result.get("assets") or {}

        def kind_resource(kind: str) -> str | None:
            found = resources.get(kind) or set()
            if len(found) > 1:
                notes.append(
                    f"{kind} went to {len(found)} warehouses: tables are looked up by fullTableId without dwId"
                )
                return None
            return next(iter(found), None) or default_resource_uuid

        for kind in ("metadata", "lineage"):
            if kind not in resources or (wanted is not None and kind not in wanted):
                continue
            info = assets.get(kind) or {}
            resource = kind_resource(kind)
            if kind == "metadata":
                detailed = info.get("tables")
                items = parse_tables(detailed if detailed is not None else info.get("sample"), resource_uuid=resource)
                for t in items:
                    by_table[(t.full_table_id, t.resource_uuid)] = t
            else:
                detailed = info.get("edges")
                items_e = parse_edges(
                    detailed if detailed is not None else [{"destination": d} for d in info.get("sample") or []],
                    resource_uuid=resource,
                )
                for e in items_e:
                    by_edge[(e.destination, e.resource_uuid)] = e
                if detailed is None:
                    notes.append(
                        "the push result lists lineage destinations only: any upstream edge of each counts; pass "
                        "lineage_edges=[...] to check exact sources and columns"
                    )
            count, listed = info.get("count") or 0, len(info.get("tables") or info.get("edges") or info.get("sample") or [])
            if count > listed:
                notes.append(f"{kind}: checking {listed:,} of {count:,} pushed assets (the push result keeps a sample)")
        if "query_logs" in resources and (wanted is None or "query_logs" in wanted):
            info = assets.get("query_logs") or {}
            if info.get("window"):
                pushed_window = (info["window"]["start"], info["window"]["end"])
            qres = kind_resource("query_logs")
            for q in parse_query_tables(info.get("tables"), resource_uuid=qres):
                by_query[(q.full_table_id, q.resource_uuid)] = q
            if not info.get("tables") and query_tables is None:
                notes.append(
                    "query logs were pushed but are not checked: Monte Carlo shows them per table, so pass "
                    "query_tables=[...] (the tables those queries read or write)"
                )
            query_resource = qres or default_resource_uuid

    for t in parse_tables(tables, resource_uuid=default_resource_uuid):
        by_table[(t.full_table_id, t.resource_uuid)] = t
    for e in parse_edges(lineage_edges, resource_uuid=default_resource_uuid):
        by_edge[(e.destination, e.resource_uuid)] = e
    for q in parse_query_tables(query_tables, resource_uuid=query_resource):
        by_query[(q.full_table_id, q.resource_uuid)] = q

    expect.tables = list(by_table.values()) if wanted is None or "metadata" in wanted else []
    expect.edges = list(by_edge.values()) if wanted is None or "lineage" in wanted else []
    expect.query_tables = list(by_query.values()) if wanted is None or "query_logs" in wanted else []
    if wanted is not None:
        empty = [k for k in sorted(wanted) if k not in expect.kinds]
        if empty:
            raise MonteCarloConfigError(
                f"kinds asks for {', '.join(empty)} but there is nothing of that kind to check: pass "
                "push_result of a push that sent it, or tables= / lineage_edges= / query_tables="
            )

    if query_window is not None:
        if len(query_window) != 2:
            raise MonteCarloConfigError(f"query_window must be (start, end), got {query_window!r}")
        expect.query_window = (_as_iso(query_window[0], "query_window start"), _as_iso(query_window[1], "query_window end"))
    elif pushed_window is not None:
        expect.query_window = pushed_window
    else:
        anchor = datetime.fromisoformat(started_at.replace("Z", "+00:00")) if started_at else now
        expect.query_window = (_iso(anchor - DEFAULT_QUERY_LOOKBACK), _iso(now + timedelta(days=1)))
    since = datetime.fromisoformat(started_at.replace("Z", "+00:00")) if started_at else now - timedelta(days=1)
    expect.metrics_since = _iso(since - METRICS_SKEW)
    return expect, notes


# ---------------------------------------------------------------------------------------------
# Checking
# ---------------------------------------------------------------------------------------------


class GraphQLRequest(NamedTuple):
    query: str
    variables: dict[str, Any]


_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def field(obj: Any, camel: str) -> Any:
    """``obj[camel]`` whether the answer came raw (camelCase) or through pycarlo (snake_case)."""
    if not isinstance(obj, Mapping):
        return None
    if camel in obj:
        return obj[camel]
    return obj.get(_SNAKE.sub("_", camel).lower())


def object_id(mcon: str) -> str:
    """The last MCON segment (``MCON++<account>++<resource>++table++db:schema.table`` ->
    ``db:schema.table``); lineage answers name nodes by MCON only."""
    parts = mcon.split("++", 4)
    return parts[4] if len(parts) == 5 and parts[0] == "MCON" else mcon


@dataclass(frozen=True)
class Missing:
    kind: str
    item: str
    reason: str
    tables: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.kind} {self.item}: {self.reason}"


@dataclass
class VisibilityStatus:
    missing: list[Missing]
    total: dict[str, int]

    @property
    def done(self) -> bool:
        return not self.missing

    def missing_tables(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for m in self.missing:
            for t in m.tables:
                if t not in out.setdefault(m.kind, []):
                    out[m.kind].append(t)
        return out

    def counts(self) -> dict[str, dict[str, int]]:
        missing: dict[str, int] = {}
        for m in self.missing:
            missing[m.kind] = missing.get(m.kind, 0) + 1
        return {k: {"expected": n, "visible": n - missing.get(k, 0)} for k, n in self.total.items() if n}

    def summary(self, limit: int = 10) -> str:
        """One log line: per kind, how much is visible and the first few things still missing."""
        parts = []
        for kind, c in self.counts().items():
            parts.append(f"{kind} {c['visible']}/{c['expected']} visible")
        text = "; ".join(parts)
        if self.missing:
            shown = "; ".join(str(m) for m in self.missing[:limit])
            more = f"; and {len(self.missing) - limit} more" if len(self.missing) > limit else ""
            text += f". Still waiting for: {shown}{more}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"missing": [str(m) for m in self.missing], "missing_tables": self.missing_tables(), "counts": self.counts()}


Check = Generator[GraphQLRequest, Any, VisibilityStatus]


class VisibilityChecker:
    """Checks expectations against GraphQL answers. Keep one instance across polls: what was
    visible once is not asked again, and resolved MCONs are cached."""

    def __init__(self, expectations: Expectations, *, page_size: int = 100, max_fields: int = 10_000) -> None:
        self.expect = expectations
        self.page_size = page_size
        self.max_fields = max_fields
        self._visible: set[Any] = set()
        self._mcons: dict[tuple[str, str | None], str] = {}
        self._account: str | None = None

    def check(self) -> Check:
        """One poll. ``yield`` GraphQL requests, receive their ``data``, return the status."""
        e = self.expect
        missing: list[Missing] = []
        for t in e.tables:
            key = ("metadata", t)
            if key not in self._visible:
                reason = yield from self._check_table(t)
                if reason:
                    missing.append(Missing("metadata", t.full_table_id, reason, (t.full_table_id,)))
                else:
                    self._visible.add(key)
        for edge in e.edges:
            key = ("lineage", edge)
            if key not in self._visible:
                found = yield from self._check_edge(edge)
                if found:
                    missing.extend(found)
                else:
                    self._visible.add(key)
        for q in e.query_tables:
            key = ("query_logs", q)
            if key not in self._visible:
                reason = yield from self._check_queries(q)
                if reason:
                    missing.append(Missing("query_logs", q.full_table_id, reason, (q.full_table_id,)))
                else:
                    self._visible.add(key)
        total = {"metadata": len(e.tables), "lineage": len(e.edges), "query_logs": len(e.query_tables)}
        return VisibilityStatus(missing, total)

    # -- per kind -------------------------------------------------------------------------------

    def _check_table(self, t: TableExpectation) -> Generator[GraphQLRequest, Any, str | None]:
        data = yield GraphQLRequest(
            GET_TABLE, {"fullTableId": t.full_table_id, "dwId": t.resource_uuid, "maxFields": self.max_fields}
        )
        table = field(data, "getTable")
        if not table or field(table, "isDeleted"):
            return "table not visible yet"
        mcon = field(table, "mcon")
        if mcon:
            self._mcons[(t.full_table_id.lower(), t.resource_uuid)] = mcon
        if t.fields:
            visible = set()
            for version in field(field(table, "versions"), "edges") or []:
                for f in field(field(field(version, "node"), "fields"), "edges") or []:
                    name = field(field(f, "node"), "name")
                    if name:
                        visible.add(name.lower())
            absent = [f for f in t.fields if f.lower() not in visible]
            if absent:
                listed = ", ".join(absent[:10]) + (f" (+{len(absent) - 10})" if len(absent) > 10 else "")
                return f"{len(absent)} of {len(t.fields)} field(s) not visible yet: {listed}"
        if t.row_count is not None:
            if not mcon:
                return "no MCON in getTable's answer to read its row count with"
            data = yield GraphQLRequest(
                GET_METRICS_V4,
                {
                    "metricName": "total_row_count",
                    "startTime": self.expect.metrics_since,
                    "metricsFilter": {"mcon": mcon},
                    "first": 100,
                },
            )
            points = _metric_points(field(field(data, "getMetricsV4"), "metricsJson"))
            if not any(_same_number(p.get("value"), t.row_count) for p in points):
                latest = max(points, key=lambda p: str(p.get("timestamp") or p.get("measurementTimestamp") or ""), default=None)
                seen = f"latest: {latest.get('value')}" if latest else "no row count since the push"
                return f"row count {t.row_count:,} not visible yet ({seen})"
        return None

    def _check_edge(self, e: EdgeExpectation) -> Generator[GraphQLRequest, Any, list[Missing]]:
        item = f"{e.destination} <- {', '.join(e.sources) if e.sources else '(any upstream)'}"
        dst = yield from self._mcon(e.destination, e.resource_uuid)
        if dst is None:
            return [Missing("lineage", item, "destination unknown to Monte Carlo yet", (e.destination,))]
        data = yield GraphQLRequest(GET_TABLE_LINEAGE_UPSTREAM, {"mcon": dst})
        graph = field(data, "getTableLineage") or {}
        upstream: set[str] = set()
        for edge in field(graph, "flattenedEdges") or []:
            if field(edge, "mcon") == dst:
                upstream.update(field(edge, "directlyConnectedMcons") or [])
        # hops=1 upstream: every connected node is a direct upstream of the destination.
        upstream.update(field(n, "mcon") for n in field(graph, "connectedNodes") or [] if field(n, "mcon"))
        upstream_ids = {object_id(m).lower() for m in upstream}
        out = []
        if e.sources:
            absent = [s for s in e.sources if s.lower() not in upstream_ids]
            if absent:
                out.append(
                    Missing(
                        "lineage", f"{e.destination} <- {', '.join(absent)}", "table edge(s) not visible yet",
                        (e.destination, *absent),
                    )
                )
        elif not upstream_ids:
            out.append(Missing("lineage", item, "no upstream edge visible yet", (e.destination,)))
        if out:
            return out  # column lineage arrives with (or after) the table edge: ask later
        by_source: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for dst_col, src, src_col in e.columns:
            by_source.setdefault((src, src_col), set()).add((e.destination.lower(), dst_col.lower()))
        for (src, src_col), needed in by_source.items():
            absent_cols = yield from self._check_columns(src, src_col, e.resource_uuid, needed)
            if absent_cols:
                cols = ", ".join(sorted(c for _, c in absent_cols))
                out.append(
                    Missing(
                        "lineage", f"{e.destination}.{{{cols}}} <- {src}.{src_col}", "column lineage not visible yet",
                        (e.destination, src),
                    )
                )
        return out

    def _check_columns(
        self, src: str, src_col: str, resource_uuid: str | None, needed: set[tuple[str, str]]
    ) -> Generator[GraphQLRequest, Any, set[tuple[str, str]]]:
        src_mcon = yield from self._mcon(src, resource_uuid)
        if src_mcon is None:
            return needed
        remaining = set(needed)
        cursor = None
        for _ in range(MAX_LINEAGE_PAGES):
            data = yield GraphQLRequest(
                GET_DERIVED_TABLES_PARTIAL_LINEAGE,
                {"mcon": src_mcon, "column": src_col, "cursor": cursor, "pageSize": self.page_size},
            )
            result = field(data, "getDerivedTablesPartialLineage") or {}
            for d in field(result, "destinations") or []:
                dest = object_id(field(d, "mcon") or "").lower()
                for c in field(d, "columns") or []:
                    remaining.discard((dest, (field(c, "columnName") or "").lower()))
            cursor = field(result, "cursor")
            if not remaining or field(result, "isLastPage") or not cursor:
                break
        return remaining

    def _check_queries(self, q: QueryTableExpectation) -> Generator[GraphQLRequest, Any, str | None]:
        mcon = yield from self._mcon(q.full_table_id, q.resource_uuid)
        if mcon is None:
            return "table unknown to Monte Carlo yet"
        start, end = self.expect.query_window or ("", "")
        for query_type in ("write", "read"):
            data = yield GraphQLRequest(
                GET_AGGREGATED_QUERIES,
                {"mcon": mcon, "startTime": start, "endTime": end, "queryType": query_type, "limit": 1},
            )
            if field(field(data, "getAggregatedQueries"), "aggregatedQueries"):
                return None
        return f"no query between {start} and {end} visible yet (typically {TYPICAL_DELAY['query_logs']})"

    # -- MCONs ----------------------------------------------------------------------------------

    def _mcon(self, full_table_id: str, resource_uuid: str | None) -> Generator[GraphQLRequest, Any, str | None]:
        """The table's MCON from ``getTable``; for a node lineage knows but metadata does not
        (lineage pushed without metadata), the MCON Monte Carlo gives push tables:
        ``MCON++<account>++<resource>++table++<fullTableId>``."""
        key = (full_table_id.lower(), resource_uuid)
        if key in self._mcons:
            return self._mcons[key]
        data = yield GraphQLRequest(GET_TABLE_MCON, {"fullTableId": full_table_id, "dwId": resource_uuid})
        mcon = field(field(data, "getTable"), "mcon")
        if mcon:
            self._mcons[key] = mcon
            return mcon
        if not resource_uuid:
            return None
        if self._account is None:
            data = yield GraphQLRequest(GET_USER_ACCOUNT, {})
            self._account = field(field(field(data, "getUser"), "account"), "uuid")
            if not self._account:
                return None
        # Not cached: once metadata arrives, getTable's own MCON is preferred.
        return f"MCON++{self._account}++{resource_uuid}++table++{full_table_id}"


def _metric_points(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    return [p for p in raw or [] if isinstance(p, Mapping)]


def _same_number(value: Any, expected: int) -> bool:
    try:
        return float(value) == float(expected)
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------------------------------------
# Drivers and transport
# ---------------------------------------------------------------------------------------------


class GraphQLTransportError(RuntimeError):
    """A poll failed for a reason that may pass (5xx, 429, network, timeout, field errors)."""


class GraphQLFatalError(RuntimeError):
    """A poll failed for a reason waiting will not fix (key refused, document refused)."""


def graphql_data(endpoint: str, status: int, content: bytes) -> Any:
    """The ``data`` of one raw GraphQL HTTP answer, or the error the poll loop acts on.

    Shared by the sensor (httpx.Client) and the trigger (httpx.AsyncClient) so both modes treat
    every answer the same way. Messages carry Monte Carlo's text, never the key secret.
    """
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    errors = body.get("errors") if isinstance(body, dict) else None
    messages = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors or [])
    text = messages or content[:300].decode("utf-8", "replace")
    if status in (401, 403):
        raise GraphQLFatalError(
            f"checkpoint 1 (key and scope): the GraphQL API at {endpoint} refused the key ({status} {text}). "
            "It needs a GraphQL API key (Settings > API Access) in the connection extras graphql_key_id / "
            "graphql_key_secret (or MCD_ID / MCD_TOKEN), not the ingestion key."
        )
    if status == 400:
        # A document Monte Carlo refuses will be refused again: no point waiting.
        raise GraphQLFatalError(f"GraphQL request refused by {endpoint} (400): {text}")
    if status >= 400 or not isinstance(body, dict):
        raise GraphQLTransportError(f"{endpoint} answered {status}: {text}")
    if errors:
        # Field errors (HTTP 200): possibly transient on Monte Carlo's side; counted, not fatal at once.
        raise GraphQLTransportError(f"GraphQL errors from {endpoint}: {text}")
    return body.get("data") or {}



def run_sync(check: Check, call: Callable[[str, dict[str, Any]], Any]) -> VisibilityStatus:
    """Drive one poll with a blocking GraphQL call (``call(query, variables) -> data``)."""
    try:
        request = next(check)
        while True:
            request = check.send(call(request.query, request.variables))
    except StopIteration as stop:
        return stop.value


async def run_async(check: Check, call: Callable[[str, dict[str, Any]], Awaitable[Any]]) -> VisibilityStatus:
    """Drive one poll with an async GraphQL call."""
    try:
        request = next(check)
        while True:
            request = check.send(await call(request.query, request.variables))
    except StopIteration as stop:
        return stop.value


# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------


def timeout_message(expect: Expectations, status: Mapping[str, Any] | VisibilityStatus | None, waited_s: float) -> str:
    """What a timeout says: what is missing, per kind, and the invocation_ids to quote."""
    data = status.to_dict() if isinstance(status, VisibilityStatus) else (status or {})
    missing_tables: Mapping[str, list[str]] = data.get("missing_tables") or {}
    lines = [f"Monte Carlo does not show all of the pushed data after {waited_s / 60:.1f} min ({CHECKPOINT_VISIBILITY})."]
    for kind in KINDS:
        tables = missing_tables.get(kind) or []
        if not tables:
            continue
        shown = ", ".join(tables[:50]) + (f" and {len(tables) - 50} more" if len(tables) > 50 else "")
        ids = expect.invocation_ids.get(kind) or []
        lines.append(
            f"{kind} (typically visible after {TYPICAL_DELAY[kind]}) missing for: {shown}"
            + (f"; invocation_ids: {', '.join(ids)}" if ids else "")
        )
    details = data.get("missing") or []
    if details:
        lines.append("Details: " + "; ".join(details[:20]) + (f"; and {len(details) - 20} more" if len(details) > 20 else ""))
    ids = expect.all_invocation_ids()
    lines.append(
        "Quote these invocation_ids to Monte Carlo support: " + (", ".join(ids) if ids else "(none: explicit tables only)")
    )
    return "\n".join(lines)
