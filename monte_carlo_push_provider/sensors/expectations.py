"""What the sensor looks for: built from a push result (the push task's XCom) and/or explicit
arguments. No I/O; JSON-serialisable (the trigger is rebuilt from its ``serialize()`` kwargs).

:func:`read_push_result` is the one place that reads the push result: everything the sensor
relies on from it goes through there (written down in docs/sensor.md, "What the sensor reads").
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from datetime import datetime, timedelta, timezone
from typing import Any

from monte_carlo_push_provider.utils.errors import MonteCarloConfigError

KINDS = ("metadata", "lineage", "query_logs")
#: How far back query logs are looked for when neither the push result nor ``query_window`` says.
DEFAULT_QUERY_LOOKBACK = timedelta(days=7)
#: Volume points older than the push minus this do not count (clock skew between us and MC).
METRICS_SKEW = timedelta(hours=1)
FULL_TABLE_ID = re.compile(r"^[^:]+:[^.]+\..+$")


@dataclass(frozen=True)
class TableExpectation:
    """A pushed table: Monte Carlo knows it (by its fullTableId in ``resource_uuid``), with these
    field names and this row count when given."""

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


@dataclass(frozen=True)
class PushedFlow:
    """One flow (kind) of this push to one warehouse: what ties Monte Carlo's answers to it.

    ``invocation_ids`` in the order the gateway accepted them; ``last_accepted_at`` (ISO, our
    clock) is when the last of them was accepted: a ``pushEvents`` receipt later than that (plus
    the clock-skew margin) is a later push's."""

    kind: str
    resource_uuid: str | None
    invocation_ids: tuple[str, ...]
    last_accepted_at: str | None = None


@dataclass
class Expectations:
    tables: list[TableExpectation] = dc_field(default_factory=list)
    edges: list[EdgeExpectation] = dc_field(default_factory=list)
    query_tables: list[QueryTableExpectation] = dc_field(default_factory=list)
    #: Flows this push sent (from the push result): each is confirmed against pushEvents /
    #: ingestInvocationId, not just by data that an earlier push could have produced.
    flows: list[PushedFlow] = dc_field(default_factory=list)
    #: ISO-8601 (start, end) searched by getAggregatedQueries.
    query_window: tuple[str, str] | None = None
    #: ISO-8601: row-count points older than this do not count.
    metrics_since: str | None = None
    #: kind -> invocation_ids of the push, quoted when something never shows up.
    invocation_ids: dict[str, list[str]] = dc_field(default_factory=dict)
    #: A push result was given and it sent nothing (quiet hour, everything skipped).
    nothing_pushed: bool = False

    def __bool__(self) -> bool:
        return bool(self.tables or self.edges or self.query_tables or self.flows)

    def flow(self, kind: str, resource_uuid: str | None) -> PushedFlow | None:
        for f in self.flows:
            if f.kind == kind and f.resource_uuid == resource_uuid:
                return f
        return None

    def tied(self, kind: str) -> bool:
        """True when this kind came from a push result: it must be tied to that push."""
        return any(f.kind == kind for f in self.flows)

    @property
    def kinds(self) -> list[str]:
        present = {
            "metadata": self.tables or self.tied("metadata"),
            "lineage": self.edges or self.tied("lineage"),
            "query_logs": self.query_tables or self.tied("query_logs"),
        }
        return [k for k in KINDS if present[k]]

    def describe(self) -> str:
        parts = []
        if self.tables:
            parts.append(f"{len(self.tables):,} table(s) of metadata")
        elif self.tied("metadata"):
            parts.append("metadata")
        if self.edges:
            columns = sum(len(e.columns) for e in self.edges)
            parts.append(f"{len(self.edges):,} lineage event(s)" + (f" with {columns:,} column edge(s)" if columns else ""))
        elif self.tied("lineage"):
            parts.append("lineage")
        if self.query_tables:
            parts.append(f"query logs of {len(self.query_tables):,} table(s)")
        elif self.tied("query_logs"):
            parts.append("query logs")
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
                    tuple((dst, src, src_col) for dst, src, src_col in e.get("columns") or ()),
                )
                for e in data.get("edges") or []
            ],
            query_tables=[QueryTableExpectation(q["full_table_id"], q.get("resource_uuid")) for q in data.get("query_tables") or []],
            flows=[
                PushedFlow(f["kind"], f.get("resource_uuid"), tuple(f.get("invocation_ids") or ()), f.get("last_accepted_at"))
                for f in data.get("flows") or []
            ],
            query_window=(window[0], window[1]) if (window := data.get("query_window")) else None,
            metrics_since=data.get("metrics_since"),
            invocation_ids={k: list(v) for k, v in (data.get("invocation_ids") or {}).items()},
            nothing_pushed=bool(data.get("nothing_pushed")),
        )


# ---------------------------------------------------------------------------------------------
# Reading the push result
# ---------------------------------------------------------------------------------------------


@dataclass
class PushedRun:
    """What the sensor takes from one push result."""

    status: str | None
    started_at: str | None
    flows: list[PushedFlow]
    #: kind -> the push result's ``assets[kind]`` (count, sample, tables | edges | window)
    assets: dict[str, Mapping[str, Any]]
    #: one line per unit the push skipped (the hourly guard), for the log
    skipped: list[str]

    @property
    def nothing_pushed(self) -> bool:
        return not self.flows


def read_push_result(push_result: Any) -> PushedRun:
    """The push task's result (its XCom dict, or a typed object with ``to_dict()`` /
    a dataclass) as a :class:`PushedRun`. Tolerant of added keys; needs only ``batches``.

    Relied on: ``batches[]`` ``kind``, ``resource_uuid``, ``invocation_id``, ``accepted_at``;
    ``assets[kind]`` ``count`` / ``sample`` / ``tables`` / ``edges`` / ``window``; ``status``,
    ``started_at``, ``skipped[]`` ``reason`` (or ``unit``), ``nothing_pushed`` (if present).
    """
    data = _as_mapping(push_result)
    if data is None or "batches" not in data:
        raise MonteCarloConfigError(
            "push_result must be the return value (XCom) of a MonteCarloPushOperator task, e.g. "
            f"push_result=push_task.output; got {type(push_result).__name__}"
        )
    by_flow: dict[tuple[str, str | None], list[Mapping[str, Any]]] = {}
    for b in data.get("batches") or []:
        b = _as_mapping(b) or {}
        if b.get("kind") in KINDS and b.get("invocation_id"):
            by_flow.setdefault((b["kind"], b.get("resource_uuid")), []).append(b)
    flows = []
    for (kind, resource), batches in by_flow.items():
        batches.sort(key=lambda b: str(b.get("accepted_at") or ""))
        accepted = [str(b["accepted_at"]) for b in batches if b.get("accepted_at")]
        flows.append(
            PushedFlow(
                kind, resource, tuple(dict.fromkeys(str(b["invocation_id"]) for b in batches)),
                max(accepted) if accepted else None,
            )
        )
    if data.get("nothing_pushed") is True:
        flows = []
    skipped = []
    for s in data.get("skipped") or []:
        s = _as_mapping(s) or {}
        skipped.append(str(s.get("reason") or s.get("unit") or s))
    assets = {k: v for k, v in (_as_mapping(data.get("assets")) or {}).items() if isinstance(v, Mapping)}
    return PushedRun(data.get("status"), data.get("started_at"), flows, assets, skipped)


def _as_mapping(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, Mapping):
        return value
    for method in ("to_dict", "model_dump"):
        if callable(getattr(value, method, None)):
            out = getattr(value, method)()
            return out if isinstance(out, Mapping) else None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return None


# ---------------------------------------------------------------------------------------------
# Explicit arguments
# ---------------------------------------------------------------------------------------------


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _as_iso(value: Any, what: str) -> str:
    if isinstance(value, datetime):
        return _iso(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    if isinstance(value, str) and value.strip():
        try:
            return _iso(parse_iso(value))
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


def _as_list(items: Any, what: str) -> list[Any]:
    if items is None:
        return []
    if isinstance(items, (str, Mapping)):
        return [items]
    if not isinstance(items, Iterable):
        raise MonteCarloConfigError(f"{what} must be a list, got {items!r}")
    return list(items)


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


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------


def build_expectations(
    push_result: Any = None,
    *,
    kinds: Iterable[str] | None = None,
    tables: Any = None,
    lineage_edges: Any = None,
    query_tables: Any = None,
    query_window: tuple[Any, Any] | list[Any] | None = None,
    default_resource_uuid: str | None = None,
    now: datetime | None = None,
) -> tuple[Expectations, list[str]]:
    """Expectations from a push result and/or explicit arguments, plus notes worth logging.

    With a push result, only what *this run* pushed is expected: a kind it sent nothing of (the
    hourly guard skipped it, the manifest was empty) is not checked, explicit entries of that
    kind included, and a run that pushed nothing at all gives ``nothing_pushed`` (the sensor
    succeeds at once). Explicit entries replace push-result entries for the same table.
    """
    now = now or datetime.now(timezone.utc)
    notes: list[str] = []
    wanted = set(kinds) if kinds is not None else None
    if wanted is not None:
        unknown = wanted - set(KINDS)
        if unknown:
            raise MonteCarloConfigError(f"kinds: unknown {', '.join(sorted(unknown))} (known: {', '.join(KINDS)})")

    def wants(kind: str) -> bool:
        return wanted is None or kind in wanted

    expect = Expectations()
    run = read_push_result(push_result) if push_result is not None else None
    by_table: dict[tuple[str, str | None], TableExpectation] = {}
    by_edge: dict[tuple[str, str | None], EdgeExpectation] = {}
    by_query: dict[tuple[str, str | None], QueryTableExpectation] = {}
    query_resource = default_resource_uuid
    pushed_window: tuple[str, str] | None = None

    if run is not None:
        if run.status not in (None, "success"):
            notes.append(f"the push task ended with status {run.status!r}; checking what it pushed")
        for line in run.skipped:
            notes.append(f"not expected (skipped by the push): {line}")
        if run.nothing_pushed:
            expect.nothing_pushed = True
            return expect, notes
        expect.flows = [f for f in run.flows if wants(f.kind)]
        for f in run.flows:
            expect.invocation_ids.setdefault(f.kind, []).extend(i for i in f.invocation_ids if i not in expect.invocation_ids[f.kind])

        def kind_resource(kind: str) -> str | None:
            found = {f.resource_uuid for f in run.flows if f.kind == kind}
            if len(found) > 1:
                notes.append(f"{kind} went to {len(found)} warehouses: tables are looked up by fullTableId without dwId")
                return None
            return next(iter(found), None) or default_resource_uuid

        pushed = {f.kind for f in run.flows}
        for kind in ("metadata", "lineage"):
            if kind not in pushed or not wants(kind):
                continue
            info = run.assets.get(kind) or {}
            resource = kind_resource(kind)
            if kind == "metadata":
                detailed = info.get("tables")
                for t in parse_tables(detailed if detailed is not None else info.get("sample"), resource_uuid=resource):
                    by_table[(t.full_table_id, t.resource_uuid)] = t
            else:
                detailed = info.get("edges")
                for e in parse_edges(
                    detailed if detailed is not None else [{"destination": d} for d in info.get("sample") or []],
                    resource_uuid=resource,
                ):
                    by_edge[(e.destination, e.resource_uuid)] = e
                if detailed is None:
                    notes.append(
                        "the push result lists lineage destinations only: any upstream edge of each counts; pass "
                        "lineage_edges=[...] to check exact sources and columns"
                    )
            count = info.get("count") or 0
            listed = len(info.get("tables") or info.get("edges") or info.get("sample") or [])
            if count > listed:
                notes.append(f"{kind}: checking {listed:,} of {count:,} pushed assets (the push result keeps a sample)")
        if "query_logs" in pushed and wants("query_logs"):
            info = run.assets.get("query_logs") or {}
            window = info.get("window")
            if isinstance(window, Mapping) and window.get("start") and window.get("end"):
                pushed_window = (str(window["start"]), str(window["end"]))
            query_resource = kind_resource("query_logs")
            for q in parse_query_tables(info.get("tables"), resource_uuid=query_resource):
                by_query[(q.full_table_id, q.resource_uuid)] = q
        # Explicit entries of a kind this run did not push: nothing of this run to confirm.
        for kind, given in (("metadata", tables), ("lineage", lineage_edges), ("query_logs", query_tables)):
            if given and kind not in pushed:
                notes.append(f"{kind}: nothing pushed in this run, so the {kind} arguments are not checked")
        if "metadata" not in pushed:
            tables = None
        if "lineage" not in pushed:
            lineage_edges = None
        if "query_logs" not in pushed:
            query_tables = None

    for t in parse_tables(tables, resource_uuid=default_resource_uuid):
        by_table[(t.full_table_id, t.resource_uuid)] = t
    for e in parse_edges(lineage_edges, resource_uuid=default_resource_uuid):
        by_edge[(e.destination, e.resource_uuid)] = e
    for q in parse_query_tables(query_tables, resource_uuid=query_resource):
        by_query[(q.full_table_id, q.resource_uuid)] = q

    expect.tables = list(by_table.values()) if wants("metadata") else []
    expect.edges = list(by_edge.values()) if wants("lineage") else []
    expect.query_tables = list(by_query.values()) if wants("query_logs") else []
    if wanted is not None and run is None:
        empty = [k for k in sorted(wanted) if k not in expect.kinds]
        if empty:
            raise MonteCarloConfigError(
                f"kinds asks for {', '.join(empty)} but there is nothing of that kind to check: pass "
                "push_result of a push that sent it, or tables= / lineage_edges= / query_tables="
            )

    started_at = run.started_at if run is not None else None
    if query_window is not None:
        if len(query_window) != 2:
            raise MonteCarloConfigError(f"query_window must be (start, end), got {query_window!r}")
        expect.query_window = (_as_iso(query_window[0], "query_window start"), _as_iso(query_window[1], "query_window end"))
    elif pushed_window is not None:
        expect.query_window = pushed_window
    else:
        anchor = parse_iso(started_at) if started_at else now
        expect.query_window = (_iso(anchor - DEFAULT_QUERY_LOOKBACK), _iso(now + timedelta(days=1)))
    since = parse_iso(started_at) if started_at else now - timedelta(days=1)
    expect.metrics_since = _iso(since - METRICS_SKEW)
    return expect, notes
