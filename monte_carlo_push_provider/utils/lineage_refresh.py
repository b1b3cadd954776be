"""Column-lineage keep-alive: re-push column lineage that is still current before Monte Carlo
expires it.

Monte Carlo drops column lineage 10 days after it was last pushed (table lineage and metadata
never expire). Lineage parsed from a query that ran once, or from a job that runs every two
weeks, would vanish although the pipeline still exists. So every column-lineage event the push
operator pushes is written to a **keep-alive ledger** of its (resource, resource type), with
when it was last *seen* (collected in a manifest) and last *pushed*. A later push that carries
lineage for that resource re-pushes, as its own unit ("column lineage refresh", own batches and
invocation_ids), every edge last pushed ``refresh_after`` ago or longer (default 7 days, always
under the 10-day expiry) and seen within ``keep_alive`` (default 30 days). Edges not seen for
longer than ``keep_alive`` are let go: dropped from the ledger, logged, not pushed again, so
Monte Carlo expires them 10 days after their last push.

The ledger is one gzipped JSON document per (resource, resource type) under
``<state_path>/lineage_keepalive/``, read and written only while the push holds that resource's
lineage lease (so two runs never interleave their updates), replaced atomically like every state
document. Its size is one entry per distinct column-lineage event (destination table, its
sources and its field mappings: :func:`edge_key`), bounded by ``keep_alive`` and by
:data:`MAX_EDGES`. Its timestamps move in steps of :data:`STAMP_RESOLUTION`, so a push that only
sees and pushes the same edges again (an hourly DAG) rewrites it about once a day, not every time.

Exactly once: the refresh selection of a round is recorded in the task instance's checkpoint,
so a retry of that round re-plans the same events into the same request bodies, and the
checkpoint's fingerprints skip what the gateway already accepted (as for every other unit).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monte_carlo_push_provider.utils.errors import MonteCarloManifestError
from monte_carlo_push_provider.utils.push_state import (
    Unreadable,
    iso,
    move_aside,
    parse_iso,
    read_json,
    safe,
    write_json,
)

log = logging.getLogger(__name__)

#: Monte Carlo expires pushed column lineage this long after its last push.
COLUMN_LINEAGE_EXPIRY = timedelta(days=10)
DEFAULT_REFRESH_AFTER = timedelta(days=7)
DEFAULT_KEEP_ALIVE = timedelta(days=30)
#: Entries kept per (resource, resource type); past it the longest-unseen edges are let go first.
MAX_EDGES = 10_000
#: ``last_seen`` / ``last_pushed`` are only moved forward by at least this much. Recording a
#: push up to a day early only makes its refresh come up to a day early (still before the
#: expiry); recording a sighting up to a day early lets an edge go up to a day early. In return
#: the ledger is not rewritten by every hourly push that sees the same edges again.
STAMP_RESOLUTION = timedelta(days=1)
#: Push-unit event type (4th element of the unit key) and ``BatchRecord.flow`` of refresh batches.
REFRESH_EVENT_TYPE = "COLUMN_LINEAGE_REFRESH"
REFRESH_FLOW = "column_lineage_refresh"
LEDGER_VERSION = 1
#: Marks the manifests the push builds from the ledger (never user input: not validated again).
REFRESH_MARKER = "_column_lineage_refresh"


def as_timedelta(value: timedelta | float | int | None) -> timedelta | None:
    if value is None:
        return None
    return value if isinstance(value, timedelta) else timedelta(seconds=float(value))


@dataclass(frozen=True)
class RefreshPolicy:
    refresh_after: timedelta
    keep_alive: timedelta | None  # None: keep-alive off (no ledger read or written)

    @classmethod
    def of(cls, refresh_after: timedelta | float, keep_alive: timedelta | float | None) -> RefreshPolicy:
        after = as_timedelta(refresh_after)
        alive = as_timedelta(keep_alive)
        if after is None or not timedelta(0) < after < COLUMN_LINEAGE_EXPIRY:
            raise MonteCarloManifestError(
                f"column_lineage_refresh_after={after} must be more than 0 and less than Monte Carlo's "
                f"{COLUMN_LINEAGE_EXPIRY.days}-day column-lineage expiry (default {DEFAULT_REFRESH_AFTER.days} days)"
            )
        if alive is not None and alive <= timedelta(0):
            alive = None  # 0 disables
        if alive is not None and alive < after:
            raise MonteCarloManifestError(
                f"column_lineage_keep_alive={alive} is shorter than column_lineage_refresh_after={after}: no edge "
                "would ever be refreshed. Raise keep_alive, or set it to 0 to turn the keep-alive off"
            )
        return cls(after, alive)

    @property
    def enabled(self) -> bool:
        return self.keep_alive is not None


def _ref(ref: Mapping[str, Any]) -> list[Any]:
    return [ref.get(k) for k in ("type", "resource_uuid", "resource_type", "database", "schema", "name")]


def edge_key(event: Mapping[str, Any]) -> str:
    """Stable key of a column-lineage event: its destination, its sources and its field mappings
    (sources by what they name, not by their local asset_id), whatever the order in the event."""
    refs = {s.get("asset_id"): _ref(s) for s in event.get("sources") or []}
    basis = {
        "destination": _ref(event["destination"]),
        "sources": sorted(refs.values(), key=json.dumps),
        "fields": sorted(
            [f.get("name"), sorted(([refs.get(sf.get("asset_id")), sf.get("field_name")]
                                    for sf in f.get("source_fields") or []), key=json.dumps)]
            for f in event.get("fields") or []
        ),
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()[:24]


def full_table_id(ref: Mapping[str, Any]) -> str:
    return f"{ref.get('database')}:{ref.get('schema')}.{ref.get('name')}"


def ledger_path(state: Any, resource_uuid: str, resource_type: str) -> Any:
    return state.root / "lineage_keepalive" / safe(resource_uuid) / f"{safe(resource_type)}.json.gz"


def _stamp(entry: Mapping[str, Any], field: str) -> datetime | None:
    value = entry.get(field)
    return parse_iso(value) if value else None


def _moved(entry: Mapping[str, Any], field: str, at: datetime) -> bool:
    """True when ``at`` is at least :data:`STAMP_RESOLUTION` past the entry's ``field``."""
    recorded = _stamp(entry, field)
    return recorded is None or at - recorded >= STAMP_RESOLUTION


class KeepAliveLedger:
    """The keep-alive ledger of one (resource, resource type), loaded once per push."""

    def __init__(self, state: Any, resource_uuid: str, resource_type: str, logger: Any = log) -> None:
        self.path = ledger_path(state, resource_uuid, resource_type)
        self.resource_uuid = resource_uuid
        self.resource_type = resource_type
        self.changed = False
        try:
            doc = read_json(self.path)
        except Unreadable as err:
            # A lost ledger costs refreshes (those edges expire unless collected again), never a
            # double push: keep the file for a person and start over rather than fail the push.
            moved = move_aside(self.path, "unreadable")
            logger.warning("column-lineage keep-alive ledger %s is unreadable (%s); kept as %s and started "
                           "afresh: edges it listed are refreshed again once collected again", self.path,
                           err.detail, moved)
            doc = None
        edges = doc.get("edges") if isinstance(doc, dict) else None
        self.edges: dict[str, dict[str, Any]] = dict(edges) if isinstance(edges, dict) else {}

    def seen(self, key: str, event: Mapping[str, Any], at: datetime) -> None:
        entry = self.edges.get(key)
        if entry is None:
            stamp = iso(at)
            self.edges[key] = {
                "destination": full_table_id(event["destination"]), "event": dict(event), "first_seen": stamp,
                "last_seen": stamp, "last_pushed": None, "invocation_id": None, "refreshes": 0,
            }
            self.changed = True
        elif _moved(entry, "last_seen", at):
            entry["last_seen"] = iso(at)
            self.changed = True

    def pushed(self, key: str, event: Mapping[str, Any], at: datetime, invocation_id: str, *, refresh: bool) -> None:
        """Record an accepted push of ``event``. Only edges the ledger keeps alive are recorded:
        one it let go (over :data:`MAX_EDGES`) or never took in (a backfill older than
        ``keep_alive``) is pushed, not kept alive."""
        entry = self.edges.get(key)
        if entry is None:
            return
        if not refresh and entry.get("event") != event:
            entry["event"] = dict(event)  # what Monte Carlo holds now
            self.changed = True
        if refresh or _moved(entry, "last_pushed", at):
            entry["last_pushed"] = iso(at)
            entry["invocation_id"] = invocation_id
            entry["refreshes"] = int(entry.get("refreshes") or 0) + refresh
            self.changed = True

    def let_go(self, now: datetime, keep_alive: timedelta) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Drop the edges not seen for longer than ``keep_alive``, then, past :data:`MAX_EDGES`,
        the longest-unseen of the rest; returns both lists (expired, over the cap)."""
        expired = [k for k, e in self.edges.items() if (_stamp(e, "last_seen") or now) < now - keep_alive]
        over: list[str] = []
        if len(self.edges) - len(expired) > MAX_EDGES:
            going = set(expired)
            rest = sorted((k for k in self.edges if k not in going),
                          key=lambda k: (self.edges[k].get("last_seen") or "", k))
            over = rest[: len(rest) - MAX_EDGES]
        dropped = [self.edges.pop(k) for k in expired], [self.edges.pop(k) for k in over]
        self.changed |= bool(expired or over)
        return dropped

    def due(self, now: datetime, refresh_after: timedelta, exclude: set[str]) -> list[str]:
        """Keys of the edges to re-push now, in a stable order (destination, key)."""
        keys = []
        for key, entry in self.edges.items():
            if key in exclude:
                continue
            last = _stamp(entry, "last_pushed")
            if last is None or now - last >= refresh_after:
                keys.append(key)
        return sorted(keys, key=lambda k: (self.edges[k].get("destination") or "", k))

    def manifest(self, keys: list[str]) -> dict[str, Any]:
        """The refresh unit's events as a manifest pass 1 and pass 2 both walk."""
        return {
            "kind": "lineage", "resource_uuid": self.resource_uuid, "resource_type": self.resource_type,
            "events": [self.edges[k]["event"] for k in keys if k in self.edges], REFRESH_MARKER: True,
        }

    def save(self) -> None:
        """Rewrite the ledger if anything changed since it was loaded or last saved (compact,
        gzipped JSON: benchmarks/lineage_keepalive_ledger.py)."""
        if not self.changed:
            return
        write_json(self.path, {
            "ledger_version": LEDGER_VERSION, "resource_uuid": self.resource_uuid,
            "resource_type": self.resource_type, "edges": self.edges,
        }, compressed=True)
        self.changed = False


def human_span(value: timedelta) -> str:
    """``7 days``, ``36 h``, ``90 min``: the settings as a person wrote them."""
    seconds = int(value.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400} day{'s' if seconds != 86400 else ''}"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def describe(destinations: list[str], limit: int = 5) -> str:
    shown = sorted(set(destinations))
    more = len(shown) - limit
    return ", ".join(shown[:limit]) + (f" and {more} more" if more > 0 else "")
