"""The read model: what GraphQL sees, derived from the stored pushes on every query.

Derived on read rather than maintained incrementally so visibility delays, deletions and expiry
are all just filters applied at query time (sandbox volumes are test-sized, so this is cheap).
Everything here returns plain dicts shaped like the GraphQL types they feed.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from monte_carlo_sandbox import (
    FLOWS,
    SANDBOX_ACCOUNT_UUID,
    SANDBOX_WAREHOUSES,
    WAREHOUSE_CONNECTION_TYPES,
)
from monte_carlo_sandbox.store import Store

#: Column lineage expires 10 days after it was pushed (table lineage never does).
COLUMN_LINEAGE_TTL_S = 10 * 24 * 3600
#: Warehouse.pushEvents: flow -> PushEventType, and how old the last push may be and stay ACTIVE.
PUSH_EVENT_TYPES = {"metadata": "METADATA", "lineage": "LINEAGE", "query_logs": "QUERY_LOGS"}
PUSH_EVENTS_STALE_AFTER_S = 7 * 24 * 3600


def make_mcon(resource_uuid: str, full_table_id: str, object_type: str = "table") -> str:
    return f"MCON++{SANDBOX_ACCOUNT_UUID}++{resource_uuid}++{object_type}++{full_table_id}"


def full_table_id(database: str, schema: str, name: str) -> str:
    return f"{database}:{schema}.{name}"


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


def parse_time(value: Any) -> float:
    """A GraphQL DateTime argument (ISO datetime or date, naive = UTC) as epoch seconds."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"Invalid DateTime {value!r}; use ISO-8601 like 2026-11-25T10:00:00Z") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


class Visibility:
    """Per-flow delay between acceptance and visibility to GraphQL (thread-safe)."""

    def __init__(self, delays: dict[str, float] | None = None) -> None:
        self._lock = threading.Lock()
        self._delays = dict.fromkeys(FLOWS, 0.0)
        if delays:
            self.update(delays)

    def update(self, delays: dict[str, Any]) -> dict[str, float]:
        unknown = set(delays) - set(FLOWS)
        if unknown:
            raise ValueError(f"unknown flows: {', '.join(sorted(unknown))} (known: {', '.join(FLOWS)})")
        for flow, seconds in delays.items():
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                raise ValueError(f"visibility delay for {flow} must be seconds >= 0, got {seconds!r}")
        with self._lock:
            self._delays.update({k: float(v) for k, v in delays.items()})
            return dict(self._delays)

    def get(self) -> dict[str, float]:
        with self._lock:
            return dict(self._delays)


@dataclass
class Table:
    mcon: str
    resource_uuid: str
    database: str
    schema: str
    name: str
    first_seen: float
    last_observed: float = 0.0
    invocation_id: str = ""
    table_type: str = "TABLE"
    description: str | None = None
    view_query: str | None = None
    created_on: str | None = None
    last_update_time: str | None = None
    tags: list[dict[str, Any]] = field(default_factory=list)
    #: schema versions, oldest first: (timestamp, invocation_id, fields)
    versions: list[tuple[float, str, list[dict[str, Any]]]] = field(default_factory=list)
    #: volume samples, oldest first: (timestamp, row_count, byte_count)
    volume: list[tuple[float, int | None, int | None]] = field(default_factory=list)

    @property
    def full_table_id(self) -> str:
        return full_table_id(self.database, self.schema, self.name)


@dataclass
class Lineage:
    #: (source mcon, destination mcon) -> True if custom
    edges: dict[tuple[str, str], bool]
    #: mcon -> node dict (mcon, displayName, objectType, isCustom, expireAt)
    nodes: dict[str, dict[str, Any]]
    #: (source mcon, source column, destination mcon, destination column)
    columns: list[tuple[str, str, str, str]]


class ReadModel:
    def __init__(self, store: Store, visibility: Visibility, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.visibility = visibility
        self.clock = clock

    def _visible_events(self, flow: str, now: float) -> list[dict[str, Any]]:
        return self.store.events(flow, visible_before=now - self.visibility.get()[flow])

    # -- warehouses -------------------------------------------------------------------------

    @staticmethod
    def warehouse(resource_uuid: str) -> dict[str, Any] | None:
        for rtype, uuid in SANDBOX_WAREHOUSES.items():
            if uuid == resource_uuid:
                return {
                    "id": uuid,
                    "uuid": uuid,
                    "name": rtype,
                    "connectionType": WAREHOUSE_CONNECTION_TYPES[rtype],
                    "isDeleted": False,
                    "mcon": f"MCON++{SANDBOX_ACCOUNT_UUID}++{uuid}++resource++{uuid}",
                }
        return None

    def warehouses(self) -> list[dict[str, Any]]:
        return [w for w in (self.warehouse(u) for u in SANDBOX_WAREHOUSES.values()) if w]

    # -- tables -----------------------------------------------------------------------------

    def tables(self, *, ignore_visibility: bool = False) -> dict[str, Table]:
        now = self.clock()
        deleted = self.store.deletions()["table"]
        events = (
            self.store.events("metadata") if ignore_visibility else self._visible_events("metadata", now)
        )
        tables: dict[str, Table] = {}
        for row in events:
            asset = row["event"]["relational_asset"]
            md = asset["metadata"]
            mcon = make_mcon(row["resource_uuid"], full_table_id(md["database"], md["schema"], md["name"]))
            at = row["received_at"]
            if mcon in deleted and at <= deleted[mcon]:
                continue
            table = tables.get(mcon)
            if table is None:
                table = tables[mcon] = Table(
                    mcon, row["resource_uuid"], md["database"], md["schema"], md["name"], first_seen=at
                )
            table.last_observed = at
            table.invocation_id = row["invocation_id"]
            table.table_type = asset["type"]
            # Partial pushes (freshness/volume only) keep what earlier pushes said.
            for attr, key in (("description", "description"), ("view_query", "view_query"), ("created_on", "created_on")):
                if md.get(key) is not None:
                    setattr(table, attr, md[key])
            if asset.get("tags"):
                table.tags = asset["tags"]
            if asset.get("fields"):
                if not table.versions or table.versions[-1][2] != asset["fields"]:
                    table.versions.append((at, row["invocation_id"], asset["fields"]))
            volume = asset.get("volume") or {}
            if volume.get("row_count") is not None or volume.get("byte_count") is not None:
                table.volume.append((at, volume.get("row_count"), volume.get("byte_count")))
            freshness = asset.get("freshness") or {}
            if freshness.get("last_update_time"):
                table.last_update_time = freshness["last_update_time"]
        return tables

    def find_table(self, *, mcon: str | None = None, full_id: str | None = None, dw_id: str | None = None) -> Table | None:
        tables = self.tables()
        if mcon:
            return tables.get(mcon)
        if not full_id:
            raise ValueError("Pass mcon, or fullTableId (with dwId)")
        matches = [t for t in tables.values() if t.full_table_id == full_id and (dw_id is None or t.resource_uuid == str(dw_id))]
        if len(matches) > 1:
            raise ValueError(f"fullTableId {full_id} exists in several warehouses; pass dwId")
        return matches[0] if matches else None

    # -- lineage ----------------------------------------------------------------------------

    def lineage(self) -> Lineage:
        now = self.clock()
        dels = self.store.deletions()
        hidden = {**dels["table"]}
        for mcon, at in dels["lineage"].items():
            hidden[mcon] = max(at, hidden.get(mcon, 0.0))
        nodes: dict[str, dict[str, Any]] = {}
        edges: dict[tuple[str, str], bool] = {}
        columns: list[tuple[str, str, str, str]] = []

        def ref_mcon(ref: dict[str, Any], push_resource: str | None) -> str:
            resource = ref.get("resource_uuid") or push_resource or ""
            mcon = make_mcon(resource, full_table_id(ref["database"], ref["schema"], ref["name"]))
            nodes.setdefault(
                mcon,
                {
                    "mcon": mcon,
                    "displayName": f"{ref['schema']}.{ref['name']}",
                    "objectType": ref["type"].lower().replace("_", "-"),
                    "isCustom": False,
                    "expireAt": None,
                },
            )
            return mcon

        for row in self._visible_events("lineage", now):
            at, ev = row["received_at"], row["event"]
            dst = ref_mcon(ev["destination"], row["resource_uuid"])
            by_asset = {}
            for src_ref in ev["sources"]:
                src = ref_mcon(src_ref, row["resource_uuid"])
                if src_ref.get("asset_id") is not None:
                    by_asset[src_ref["asset_id"]] = src
                if any(m in hidden and at <= hidden[m] for m in (src, dst)):
                    continue
                edges[(src, dst)] = False
            if now - at > COLUMN_LINEAGE_TTL_S:
                continue
            for f in ev.get("fields") or []:
                for sf in f["source_fields"]:
                    src = by_asset[sf["asset_id"]]
                    if any(m in hidden and at <= hidden[m] for m in (src, dst)):
                        continue
                    columns.append((src, sf["field_name"], dst, f["name"]))
        for mcon, node in self.store.custom_nodes(now).items():
            nodes[mcon] = {**node["node"], "expireAt": iso(node["expire_at"])}
        for e in self.store.custom_edges(now):
            edges[(e["source"], e["destination"])] = True
            for m in (e["source"], e["destination"]):
                nodes.setdefault(m, self.default_node(m))
        # Nodes that lost every edge to a deletion and are not tables any more stay out.
        used = {m for edge in edges for m in edge}
        nodes = {m: n for m, n in nodes.items() if m in used or n["isCustom"]}
        return Lineage(edges=edges, nodes=nodes, columns=columns)

    def default_node(self, mcon: str) -> dict[str, Any]:
        """A node for an mcon the lineage store has no details for (parsed from the mcon)."""
        parts = mcon.split("++")
        object_type = parts[3] if len(parts) == 5 else "table"
        object_id = parts[4] if len(parts) == 5 else mcon
        display = object_id.split(":", 1)[-1]
        return {"mcon": mcon, "displayName": display, "objectType": object_type, "isCustom": False, "expireAt": None}

    # -- push receipts (Warehouse.pushEvents) -----------------------------------------------

    def push_events(self, resource_uuid: str) -> list[dict[str, Any]]:
        """Per flow, the first and last *processed* push of this warehouse: a push counts once
        it is visible (its flow's delay passed, not held), so ``lastInvocationId`` never names a
        push GraphQL does not show yet. ``lastReceived`` is when the gateway received it."""
        now = self.clock()
        delays = self.visibility.get()
        out = []
        for flow, event_type in PUSH_EVENT_TYPES.items():
            seen = [
                p for p in self.store.pushes(flow)
                if p["resource_uuid"] == resource_uuid and not p["held"] and p["received_at"] <= now - delays[flow]
            ]
            if not seen:
                out.append({"eventType": event_type, "status": "NEVER_RECEIVED", "firstReceived": None,
                            "lastReceived": None, "lastInvocationId": None})
                continue
            last = seen[-1]  # pushes() is ordered by received_at
            out.append({
                "eventType": event_type,
                "status": "ACTIVE" if now - last["received_at"] <= PUSH_EVENTS_STALE_AFTER_S else "STALE",
                "firstReceived": iso(seen[0]["received_at"]),
                "lastReceived": iso(last["received_at"]),
                "lastInvocationId": last["invocation_id"],
            })
        return out

    # -- query logs -------------------------------------------------------------------------

    def query_logs(self, resource_uuid: str) -> list[dict[str, Any]]:
        now = self.clock()
        return [r for r in self._visible_events("query_logs", now) if r["resource_uuid"] == resource_uuid]


# --------------------------------------------------------------------------------------------
# Query-log -> table matching (a deliberately small stand-in for Monte Carlo's SQL parser)
# --------------------------------------------------------------------------------------------

_WRITE_PREFIX = (
    r"^\s*(?:insert\s+(?:overwrite\s+)?(?:into\s+)?(?:table\s+)?|merge\s+into\s+|update\s+|"
    r"delete\s+from\s+|copy\s+into\s+|truncate\s+(?:table\s+)?|"
    r"create\s+(?:or\s+replace\s+)?(?:temporary\s+|transient\s+)?(?:table|view)\s+(?:if\s+not\s+exists\s+)?)"
)


def _name_pattern(table: Table) -> str:
    def part(p: str) -> str:
        return rf"[`\"\[]?{re.escape(p)}[`\"\]]?"

    return rf"(?:{part(table.database)}\.)?(?:{part(table.schema)}\.)?{part(table.name)}(?![\w$])"


def query_category(query_text: str, table: Table) -> str | None:
    """'write' if the statement writes ``table``, 'read' if it reads it, None if unrelated."""
    name = _name_pattern(table)
    if re.search(_WRITE_PREFIX + name, query_text, re.IGNORECASE):
        return "write"
    if re.search(rf"(?<![\w.$]){name}", query_text, re.IGNORECASE):
        return "read"
    return None


def query_hash(query_text: str) -> str:
    normalized = " ".join(query_text.lower().split())
    return hashlib.sha256(normalized.encode()).hexdigest()[:32]
