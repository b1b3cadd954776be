"""Is *this* push visible? The checking logic, free of I/O.

:meth:`VisibilityChecker.check` is a generator: it *yields* the GraphQL requests it needs and is
*sent* their ``data``; it returns a :class:`VisibilityStatus`. The sensor's poke mode drives it
with :meth:`MonteCarloHook.graphql` (:func:`run_sync`), the trigger with ``agraphql``
(:func:`run_async`): one copy of the logic, one transport, two drivers.

What ties an answer to this push (docs/sensor.md, "What is proven"):

- ``Warehouse.pushEvents`` (one call a poll, every warehouse): per warehouse and flow, the last
  push Monte Carlo recorded. A flow is *proven* when ``lastInvocationId`` is this push's last
  batch of that flow, or a push received after this one was accepted (``lastReceived`` later
  than our ``accepted_at`` plus ``clock_skew_s``) - never by an id an earlier push could have.
- ``WarehouseTable.ingestInvocationId`` (``getTables(mcons: [...])``, 100 tables a call): a
  table is confirmed when it carries one of this push's invocation_ids, or its flow is proven.
  Identical content pushed an hour earlier proves nothing: the row count or field names an
  earlier push left are never taken for this push.
- Lineage and query logs have no per-edge or per-query invocation id in the schema: their flow
  must be proven, then the edges / queries must be there.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import timedelta
from typing import Any, NamedTuple

from monte_carlo_push_provider.sensors.expectations import (
    KINDS,
    EdgeExpectation,
    Expectations,
    PushedFlow,
    QueryTableExpectation,
    TableExpectation,
    parse_iso,
)
from monte_carlo_push_provider.sensors.messages import NOT_KNOWN, TYPICAL_DELAY
from monte_carlo_push_provider.utils.graphql_documents import (
    GET_AGGREGATED_QUERIES,
    GET_DERIVED_TABLES_PARTIAL_LINEAGE,
    GET_METRICS_V4,
    GET_PUSH_STATUS,
    GET_TABLE,
    GET_TABLES,
    GET_TABLES_LINEAGE_UPSTREAM,
    GET_TABLES_WITH_FIELDS,
)
from monte_carlo_push_provider.utils.table_deletion import push_table_mcon

#: Flow -> Monte Carlo's PushEventType.
PUSH_EVENT_TYPE = {"metadata": "METADATA", "lineage": "LINEAGE", "query_logs": "QUERY_LOGS"}
#: GraphQL calls one poll may make; what is left is checked on the next poll.
DEFAULT_MAX_CALLS = 50
#: MCONs per getTables call, destinations per getTableLineage call.
TABLES_PER_CALL = 100
EDGES_PER_CALL = 50
#: getTable(fullTableId) look-ups per poll for tables getTables did not find by their push MCON
#: (until one look-up shows the MCON was built right, after which none are needed).
LOOKUPS_PER_POLL = 5
#: Pages of getDerivedTablesPartialLineage read per source column in one poll.
MAX_LINEAGE_PAGES = 20
#: A pushEvents receipt this long after our accepted_at is a later push's, whatever the clocks.
DEFAULT_CLOCK_SKEW = timedelta(minutes=5)


class GraphQLRequest(NamedTuple):
    query: str
    variables: dict[str, Any]
    #: a "not found" field error means "null" here (getTable of an unknown table)
    not_found_ok: bool = False


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
    #: what is confirmed, with its proof: {kind, item, resource_uuid, proof, invocation_id}
    confirmed: list[dict[str, Any]] = dc_field(default_factory=list)
    #: per pushed flow: {kind, resource_uuid, proven, proof}
    flows: list[dict[str, Any]] = dc_field(default_factory=list)
    #: checks the call budget left for the next poll
    unchecked: int = 0
    #: GraphQL calls this poll made
    calls: int = 0
    unchecked_by_kind: dict[str, int] = dc_field(default_factory=dict)

    @property
    def done(self) -> bool:
        return not self.missing and not self.unchecked

    def missing_tables(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for m in self.missing:
            for t in m.tables:
                if t not in out.setdefault(m.kind, []):
                    out[m.kind].append(t)
        return out

    def counts(self) -> dict[str, dict[str, int]]:
        missing: dict[str, set[str]] = {}
        for m in self.missing:
            missing.setdefault(m.kind, set()).add(m.tables[0] if m.tables else m.item)
        return {
            k: {"expected": n, "visible": max(n - len(missing.get(k, ())) - self.unchecked_by_kind.get(k, 0), 0)}
            for k, n in self.total.items()
            if n
        }

    def summary(self, limit: int = 10) -> str:
        from monte_carlo_push_provider.sensors.messages import waiting_line

        return waiting_line(self, limit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "missing": [str(m) for m in self.missing],
            "missing_tables": self.missing_tables(),
            "counts": self.counts(),
            "flows": self.flows,
            "confirmed": self.confirmed,
            "unchecked": self.unchecked,
            "calls": self.calls,
        }


Check = Generator[GraphQLRequest, Any, VisibilityStatus]


def object_id(mcon: str) -> str:
    """The last MCON segment (``MCON++<account>++<resource>++table++db:schema.table`` ->
    ``db:schema.table``); lineage answers name nodes by MCON only."""
    parts = mcon.split("++", 4)
    return parts[4] if len(parts) == 5 and parts[0] == "MCON" else mcon


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


class VisibilityChecker:
    """Checks expectations against GraphQL answers. Keep one instance across polls: what was
    confirmed once is not asked again, and MCONs and the account are cached."""

    def __init__(
        self,
        expectations: Expectations,
        *,
        clock_skew_s: float = DEFAULT_CLOCK_SKEW.total_seconds(),
        max_calls: int = DEFAULT_MAX_CALLS,
        page_size: int = 100,
        max_fields: int = 10_000,
    ) -> None:
        if max_calls < 2:
            raise ValueError(f"max_calls must be >= 2 (one for pushEvents, one to check anything), got {max_calls}")
        self.expect = expectations
        self.clock_skew = timedelta(seconds=clock_skew_s)
        self.max_calls = max_calls
        self.page_size = page_size
        self.max_fields = max_fields
        self._confirmed: dict[tuple[str, Any], dict[str, Any]] = {}
        self._mcons: dict[tuple[str, str | None], str] = {}
        self._account: str | None = None
        #: does getTables know tables by the MCON built from account/resource/fullTableId?
        self._built_mcons_work: bool | None = None
        self._calls = 0
        #: kind -> checks the call budget left for the next poll
        self._unchecked: dict[str, int] = {}

    # -- one poll -------------------------------------------------------------------------------

    def check(self) -> Check:
        """One poll. ``yield`` GraphQL requests, receive their ``data``, return the status."""
        e = self.expect
        self._calls = 0
        self._unchecked = {}
        missing: list[Missing] = []
        flows = yield from self._push_status()
        proven = {(f["kind"], f["resource_uuid"]): f for f in flows}

        pending_tables = [t for t in e.tables if ("metadata", t) not in self._confirmed]
        missing += yield from self._check_tables(pending_tables, proven)
        pending_edges = [x for x in e.edges if ("lineage", x) not in self._confirmed]
        missing += yield from self._check_edges(pending_edges, proven)
        pending_queries = [q for q in e.query_tables if ("query_logs", q) not in self._confirmed]
        missing += yield from self._check_queries(pending_queries, proven)
        # A flow with nothing item-level to check (query logs without query_tables, lineage
        # without edges): the flow's own proof is the check.
        for f in e.flows:
            if self._items(f.kind):
                continue
            state = proven[(f.kind, f.resource_uuid)]
            key = ("flow", (f.kind, f.resource_uuid))
            if state["proven"]:
                self._confirmed.setdefault(
                    key, {"kind": f.kind, "item": f"warehouse {f.resource_uuid}", "resource_uuid": f.resource_uuid,
                          "proof": state["proof"], "invocation_ids": list(f.invocation_ids)},
                )
            else:
                item = f"warehouse {f.resource_uuid}"
                missing.append(Missing(f.kind, item, state["reason"], (item,)))
        total = {
            k: len(self._items(k)) or sum(1 for f in e.flows if f.kind == k) for k in KINDS
        }
        return VisibilityStatus(
            missing, total, list(self._confirmed.values()), flows, unchecked=sum(self._unchecked.values()),
            calls=self._calls, unchecked_by_kind=dict(self._unchecked),
        )

    def _skip(self, kind: str, n: int = 1) -> None:
        if n:
            self._unchecked[kind] = self._unchecked.get(kind, 0) + n

    def _items(self, kind: str) -> Sequence[object]:
        items: dict[str, Sequence[object]] = {
            "metadata": self.expect.tables, "lineage": self.expect.edges, "query_logs": self.expect.query_tables,
        }
        return items[kind]

    def _budget(self, needed: int = 1) -> bool:
        return self._calls + needed <= self.max_calls

    def _ask(self, request: GraphQLRequest) -> Generator[GraphQLRequest, Any, Any]:
        self._calls += 1
        return (yield request)

    # -- pushEvents -----------------------------------------------------------------------------

    def _push_status(self) -> Generator[GraphQLRequest, Any, list[dict[str, Any]]]:
        e = self.expect
        if not e:
            return []
        data = yield from self._ask(GraphQLRequest(GET_PUSH_STATUS, {}))
        account = _get(data, "getUser", "account") or {}
        self._account = account.get("uuid") or self._account
        events: dict[str | None, dict[str, Any]] = {}
        for w in account.get("warehouses") or []:
            events[w.get("uuid")] = {p.get("eventType"): p for p in w.get("pushEvents") or []}
        return [self._flow_proof(f, events) for f in e.flows]

    def _flow_proof(self, flow: PushedFlow, events: Mapping[str | None, Mapping[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": flow.kind, "resource_uuid": flow.resource_uuid, "proven": False, "proof": None}
        if flow.resource_uuid is None:
            # Cross-warehouse lineage (per-ref resources): no single warehouse to ask.
            out.update(proven=True, proof="not tied: pushed without a top-level resource, edges checked by presence")
            return out
        if flow.resource_uuid not in events:
            out["reason"] = f"warehouse {flow.resource_uuid} is not in this account's getUser warehouses"
            return out
        event = events[flow.resource_uuid].get(PUSH_EVENT_TYPE[flow.kind]) or {}
        last_id, last_received = event.get("lastInvocationId"), event.get("lastReceived")
        ids = flow.invocation_ids
        out.update(last_invocation_id=last_id, last_received=last_received)
        if last_id and ids and last_id == ids[-1]:
            out.update(proven=True, proof=f"pushEvents {PUSH_EVENT_TYPE[flow.kind]}: lastInvocationId is this push's ({last_id})")
        elif last_id in ids:
            out["reason"] = (
                f"Monte Carlo recorded batch {ids.index(last_id) + 1} of {len(ids)} of this push ({last_id}), "
                "not its last one yet"
            )
        elif last_id and self._later(last_received, flow.last_accepted_at):
            out.update(
                proven=True,
                proof=f"pushEvents {PUSH_EVENT_TYPE[flow.kind]}: a later push ({last_id}, received {last_received}) "
                "was recorded after this one",
            )
        else:
            shown = f"{last_id} (received {last_received})" if last_id else "none"
            out["reason"] = (
                f"Monte Carlo has not recorded this push yet: its last {flow.kind} push for warehouse "
                f"{flow.resource_uuid} is {shown}, an earlier one (typically {TYPICAL_DELAY[flow.kind]})"
            )
        return out

    def _later(self, last_received: Any, accepted_at: str | None) -> bool:
        """Received after this push was accepted, by more than the clock-skew margin: an
        earlier push cannot have that receipt time."""
        if not last_received or not accepted_at:
            return False
        try:
            return parse_iso(str(last_received)) > parse_iso(accepted_at) + self.clock_skew
        except ValueError:
            return False

    # -- MCONs ----------------------------------------------------------------------------------

    def _built_mcon(self, full_table_id: str, resource_uuid: str | None) -> str | None:
        """The MCON Monte Carlo gives push tables: ``MCON++<account>++<resource>++table++<id>``."""
        if not self._account or not resource_uuid:
            return None
        return push_table_mcon(self._account, resource_uuid, full_table_id)

    def _mcon(self, full_table_id: str, resource_uuid: str | None) -> str | None:
        return self._mcons.get((full_table_id.lower(), resource_uuid)) or self._built_mcon(full_table_id, resource_uuid)

    def _find_tables(
        self, wanted: list[tuple[str, str | None]], *, fields: bool
    ) -> Generator[GraphQLRequest, Any, tuple[dict[tuple[str, str | None], dict[str, Any] | None], set[tuple[str, str | None]]]]:
        """(fullTableId, resource) -> getTables node (None: not known), and the keys the call
        budget left unchecked. getTables by MCON in batches; a few getTable(fullTableId)
        look-ups for the rest while it is not yet known that the built MCONs are right."""
        found: dict[tuple[str, str | None], dict[str, Any] | None] = {}
        unchecked: set[tuple[str, str | None]] = set()
        by_mcon: dict[str, tuple[str, str | None]] = {}
        no_mcon = []
        for key in wanted:
            mcon = self._mcon(*key)
            if mcon:
                by_mcon[mcon] = key
            else:
                no_mcon.append(key)
        mcons = list(by_mcon)
        for start in range(0, len(mcons), TABLES_PER_CALL):
            chunk = mcons[start : start + TABLES_PER_CALL]
            if not self._budget():
                unchecked.update(by_mcon[m] for m in chunk)
                continue
            query = GET_TABLES_WITH_FIELDS if fields else GET_TABLES
            variables: dict[str, Any] = {"mcons": chunk, "first": len(chunk)}
            if fields:
                variables["maxFields"] = self.max_fields
            data = yield from self._ask(GraphQLRequest(query, variables))
            nodes = {
                _get(edge, "node", "mcon"): edge["node"]
                for edge in _get(data, "getTables", "edges") or []
                if _get(edge, "node", "mcon")
            }
            for m in chunk:
                node = nodes.get(m)
                if node is not None and not node.get("isDeleted"):
                    found[by_mcon[m]] = node
                    self._mcons[(by_mcon[m][0].lower(), by_mcon[m][1])] = m
                    if m == self._built_mcon(*by_mcon[m]):
                        self._built_mcons_work = True
        lookups = 0
        for key in [k for k in wanted if k not in found and k not in unchecked]:
            if self._built_mcons_work and key not in no_mcon:
                found[key] = None  # getTables knows tables by these MCONs: this one is unknown
                continue
            if lookups >= LOOKUPS_PER_POLL or not self._budget():
                found[key] = None
                continue
            lookups += 1
            data = yield from self._ask(
                GraphQLRequest(
                    GET_TABLE, {"fullTableId": key[0], "dwId": key[1], "maxFields": self.max_fields}, not_found_ok=True
                )
            )
            node = _get(data, "getTable")
            if node and node.get("mcon") and not node.get("isDeleted"):
                built = self._built_mcon(*key)
                self._mcons[(key[0].lower(), key[1])] = node["mcon"]
                if built is not None:
                    self._built_mcons_work = node["mcon"] == built
                found[key] = node
            else:
                found[key] = None
        return found, unchecked

    # -- metadata -------------------------------------------------------------------------------

    def _check_tables(
        self, pending: list[TableExpectation], proven: Mapping[tuple[str, str | None], dict[str, Any]]
    ) -> Generator[GraphQLRequest, Any, list[Missing]]:
        if not pending:
            return []
        keys = {(t.full_table_id, t.resource_uuid): t for t in pending}
        tied = self.expect.tied("metadata")
        # A table tied to this push by its ingestInvocationId has this push's fields and volume:
        # fields and row counts are checked only for tables not tied to a push (explicit ones).
        found, unchecked = yield from self._find_tables(list(keys), fields=not tied and any(t.fields for t in pending))
        self._skip("metadata", len(unchecked))
        out: list[Missing] = []
        for key, t in keys.items():
            if key in unchecked:
                continue
            node = found.get(key)
            reason: str | None
            if node is None:
                reason = (
                    "not in Monte Carlo yet: this push's metadata for it is not processed"
                    f" (typically {TYPICAL_DELAY['metadata']})" if tied else NOT_KNOWN
                )
                out.append(Missing("metadata", t.full_table_id, reason, (t.full_table_id,)))
                continue
            reason, proof = self._tie_table(t, node, proven) if tied else (None, "present (not tied to a push)")
            if reason is None and not tied:
                reason = self._fields_reason(t, node)
            if reason is None and not tied and t.row_count is not None:
                if not self._budget():
                    self._skip("metadata")
                    continue
                reason = yield from self._row_count_reason(t, node)
            if reason:
                out.append(Missing("metadata", t.full_table_id, reason, (t.full_table_id,)))
            else:
                self._confirmed[("metadata", t)] = {
                    "kind": "metadata", "item": t.full_table_id,
                    "resource_uuid": t.resource_uuid or _get(node, "warehouse", "uuid"),
                    "mcon": node.get("mcon"), "proof": proof, "invocation_id": node.get("ingestInvocationId"),
                }
        return out

    def _tie_table(
        self, t: TableExpectation, node: Mapping[str, Any], proven: Mapping[tuple[str, str | None], dict[str, Any]]
    ) -> tuple[str | None, str | None]:
        resource = t.resource_uuid or _get(node, "warehouse", "uuid")
        flow = self.expect.flow("metadata", resource)
        ids = flow.invocation_ids if flow else tuple(self.expect.invocation_ids.get("metadata") or ())
        inv = node.get("ingestInvocationId")
        if inv and inv in ids:
            return None, "ingestInvocationId"
        state = proven.get(("metadata", resource)) if flow else None
        if state and state["proven"]:
            return None, state["proof"]
        return (
            f"Monte Carlo shows it from another push (ingestInvocationId {inv or 'none'}), not this one yet"
            f" (typically {TYPICAL_DELAY['metadata']})",
            None,
        )

    @staticmethod
    def _fields_reason(t: TableExpectation, node: Mapping[str, Any]) -> str | None:
        if not t.fields:
            return None
        visible = set()
        for version in _get(node, "versions", "edges") or []:
            for f in _get(version, "node", "fields", "edges") or []:
                name = _get(f, "node", "name")
                if name:
                    visible.add(name.lower())
        absent = [f for f in t.fields if f.lower() not in visible]
        if not absent:
            return None
        listed = ", ".join(absent[:10]) + (f" (+{len(absent) - 10})" if len(absent) > 10 else "")
        return f"{len(absent)} of {len(t.fields)} field(s) not visible yet: {listed}"

    def _row_count_reason(self, t: TableExpectation, node: Mapping[str, Any]) -> Generator[GraphQLRequest, Any, str | None]:
        data = yield from self._ask(
            GraphQLRequest(
                GET_METRICS_V4,
                {"metricName": "total_row_count", "startTime": self.expect.metrics_since,
                 "metricsFilter": {"mcon": node.get("mcon")}, "first": 100},
            )
        )
        points = _metric_points(_get(data, "getMetricsV4", "metricsJson"))
        expected = t.row_count
        if expected is None or any(_same_number(p.get("value"), expected) for p in points):
            return None  # no row count to compare (the caller only asks with one), or a match
        latest = max(points, key=lambda p: str(p.get("timestamp") or p.get("measurementTimestamp") or ""), default=None)
        seen = f"latest: {latest.get('value')}" if latest else "no row count since the push"
        return f"row count {t.row_count:,} not visible yet ({seen})"

    # -- lineage --------------------------------------------------------------------------------

    def _flow_reason(
        self, kind: str, resource: str | None, proven: Mapping[tuple[str, str | None], dict[str, Any]]
    ) -> str | None:
        """Why a tied kind's items cannot count yet (its flow is not proven), else None."""
        if not self.expect.tied(kind):
            return None
        state = proven.get((kind, resource))
        if state is not None:
            return None if state["proven"] else state.get("reason")
        # The item names no warehouse of this push (several warehouses): every one must be proven.
        for f in self.expect.flows:
            other = proven.get((f.kind, f.resource_uuid))
            if f.kind == kind and other is not None and not other["proven"]:
                return other.get("reason")
        return None

    def _check_edges(
        self, pending: list[EdgeExpectation], proven: Mapping[tuple[str, str | None], dict[str, Any]]
    ) -> Generator[GraphQLRequest, Any, list[Missing]]:
        out: list[Missing] = []
        ready = []
        for edge in pending:
            item = f"{edge.destination} <- {', '.join(edge.sources) if edge.sources else '(any upstream)'}"
            reason = self._flow_reason("lineage", edge.resource_uuid, proven)
            if reason:
                out.append(Missing("lineage", item, reason, (edge.destination,)))
            else:
                ready.append(edge)
        if not ready:
            return out
        # Destination MCONs: getTables' (cached) or the push-table MCON; lineage may know nodes
        # metadata does not (lineage pushed alone), so no look-up is needed here.
        dst_mcons: dict[EdgeExpectation, str] = {}
        for edge in ready:
            mcon = self._mcon(edge.destination, edge.resource_uuid)
            if mcon is None:
                found, _ = yield from self._find_tables([(edge.destination, edge.resource_uuid)], fields=False)
                node = found.get((edge.destination, edge.resource_uuid))
                mcon = node.get("mcon") if node else None
            if mcon is None:
                out.append(Missing("lineage", edge.destination, "destination unknown to Monte Carlo yet", (edge.destination,)))
            else:
                dst_mcons[edge] = mcon
        upstream: dict[str, set[str]] = {}
        asked: set[str] = set()
        mcons = list(dict.fromkeys(dst_mcons.values()))
        for start in range(0, len(mcons), EDGES_PER_CALL):
            chunk = mcons[start : start + EDGES_PER_CALL]
            if not self._budget():
                continue
            data = yield from self._ask(GraphQLRequest(GET_TABLES_LINEAGE_UPSTREAM, {"mcons": chunk}))
            asked.update(chunk)
            for entry in _get(data, "getTableLineage", "flattenedEdges") or []:
                if entry.get("mcon") in chunk:
                    upstream.setdefault(entry["mcon"], set()).update(entry.get("directlyConnectedMcons") or [])
        for edge, dst in dst_mcons.items():
            if dst not in asked:
                self._skip("lineage")
                continue
            ids = {object_id(m).lower() for m in upstream.get(dst, ())}
            found_missing = []
            if edge.sources:
                absent = [s for s in edge.sources if s.lower() not in ids]
                if absent:
                    found_missing.append(
                        Missing("lineage", f"{edge.destination} <- {', '.join(absent)}", "table edge(s) not visible yet",
                                (edge.destination, *absent))
                    )
            elif not ids:
                found_missing.append(Missing("lineage", f"{edge.destination} <- (any upstream)", "no upstream edge visible yet",
                                             (edge.destination,)))
            if not found_missing and edge.columns:
                found_missing = yield from self._check_columns(edge)
            if found_missing:
                out.extend(found_missing)
            else:
                state = proven.get(("lineage", edge.resource_uuid)) or {}
                self._confirmed[("lineage", edge)] = {
                    "kind": "lineage", "item": edge.destination, "resource_uuid": edge.resource_uuid, "mcon": dst,
                    "proof": state.get("proof") or "present (not tied to a push)",
                    "invocation_ids": list(self.expect.invocation_ids.get("lineage") or []),
                }
        return out

    def _check_columns(self, e: EdgeExpectation) -> Generator[GraphQLRequest, Any, list[Missing]]:
        by_source: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for dst_col, src, src_col in e.columns:
            by_source.setdefault((src, src_col), set()).add((e.destination.lower(), dst_col.lower()))
        out: list[Missing] = []
        for (src, src_col), needed in by_source.items():
            src_mcon = self._mcon(src, e.resource_uuid)
            remaining = set(needed)
            cursor = None
            for _ in range(MAX_LINEAGE_PAGES):
                if src_mcon is None:
                    break
                if not self._budget():
                    return [*out, Missing("lineage", f"{e.destination} <- {src}.{src_col}",
                                          "column lineage not checked yet (call budget of this poll spent)", (e.destination, src))]
                data = yield from self._ask(
                    GraphQLRequest(
                        GET_DERIVED_TABLES_PARTIAL_LINEAGE,
                        {"mcon": src_mcon, "column": src_col, "cursor": cursor, "pageSize": self.page_size},
                    )
                )
                result = _get(data, "getDerivedTablesPartialLineage") or {}
                for d in result.get("destinations") or []:
                    dest = object_id(d.get("mcon") or "").lower()
                    for c in d.get("columns") or []:
                        remaining.discard((dest, (c.get("columnName") or "").lower()))
                cursor = result.get("cursor")
                if not remaining or result.get("isLastPage") or not cursor:
                    break
            if remaining:
                cols = ", ".join(sorted(c for _, c in remaining))
                out.append(
                    Missing("lineage", f"{e.destination}.{{{cols}}} <- {src}.{src_col}", "column lineage not visible yet",
                            (e.destination, src))
                )
        return out

    # -- query logs -----------------------------------------------------------------------------

    def _check_queries(
        self, pending: list[QueryTableExpectation], proven: Mapping[tuple[str, str | None], dict[str, Any]]
    ) -> Generator[GraphQLRequest, Any, list[Missing]]:
        out: list[Missing] = []
        ready = []
        for q in pending:
            reason = self._flow_reason("query_logs", q.resource_uuid, proven)
            if reason:
                out.append(Missing("query_logs", q.full_table_id, reason, (q.full_table_id,)))
            else:
                ready.append(q)
        if not ready:
            return out
        keys = {(q.full_table_id, q.resource_uuid): q for q in ready}
        found, unchecked = yield from self._find_tables(list(keys), fields=False)
        self._skip("query_logs", len(unchecked))
        start, end = self.expect.query_window or ("", "")
        for key, q in keys.items():
            if key in unchecked:
                continue
            node = found.get(key)
            if node is None:
                out.append(Missing("query_logs", q.full_table_id, NOT_KNOWN, (q.full_table_id,)))
                continue
            seen = False
            for query_type in ("write", "read"):
                if not self._budget():
                    break
                data = yield from self._ask(
                    GraphQLRequest(
                        GET_AGGREGATED_QUERIES,
                        {"mcon": node["mcon"], "startTime": start, "endTime": end, "queryType": query_type, "limit": 1},
                    )
                )
                if _get(data, "getAggregatedQueries", "aggregatedQueries"):
                    seen = True
                    break
            if seen:
                state = proven.get(("query_logs", q.resource_uuid)) or {}
                self._confirmed[("query_logs", q)] = {
                    "kind": "query_logs", "item": q.full_table_id, "resource_uuid": q.resource_uuid,
                    "mcon": node["mcon"], "proof": state.get("proof") or "present (not tied to a push)",
                    "invocation_ids": list(self.expect.invocation_ids.get("query_logs") or []),
                }
            elif not self._budget():
                self._skip("query_logs")
            else:
                out.append(
                    Missing("query_logs", q.full_table_id,
                            f"no query between {start} and {end} visible yet (typically {TYPICAL_DELAY['query_logs']})",
                            (q.full_table_id,))
                )
        return out


def _metric_points(raw: Any) -> list[Mapping[str, Any]]:
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
# Drivers
# ---------------------------------------------------------------------------------------------


def run_sync(check: Check, call: Callable[[GraphQLRequest], Any]) -> VisibilityStatus:
    """Drive one poll with a blocking GraphQL call (``call(request) -> data``)."""
    try:
        request = next(check)
        while True:
            request = check.send(call(request))
    except StopIteration as stop:
        return stop.value


async def run_async(check: Check, call: Callable[[GraphQLRequest], Awaitable[Any]]) -> VisibilityStatus:
    """Drive one poll with an async GraphQL call."""
    try:
        request = next(check)
        while True:
            request = check.send(await call(request))
    except StopIteration as stop:
        return stop.value
