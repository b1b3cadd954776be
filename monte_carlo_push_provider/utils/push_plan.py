"""Pass 1 of a push: validate every manifest, group events into push units, drop what was already
pushed, plan size-aware batches, and apply the hourly cadence, before a single request is sent.

The result is a :class:`PushPlan`; pass 2 (``utils/push_send.py``) reads the manifests again and
follows it without changing it. Only batch boundaries are kept, never event bytes, so a plan over
millions of events stays small.

Dedup rules (docs/push-operator.md, "Exactly once"):

- **metadata**: at most once per UTC clock bucket (default one hour) per (resource, flow); the
  bucket is claimed with a conditional create, so two concurrent runs cannot both push it.
- **query logs**: an entry whose key (its ``query_id``, else a hash of the entry) is in the
  pushed ledger of that resource and log type is not pushed again.
- **lineage**: a manifest whose ``window`` is covered by windows already pushed for that resource
  is not pushed again (lineage events carry no time of their own; manifests without a window are
  always pushed: edges are idempotent and column lineage must be refreshed before it expires).

Entries this task instance pushed in the *current* round count as resumed; entries it pushed in an
*earlier* round (before the task was cleared) are pushed again; ``force=True`` ignores every rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monte_carlo_push_provider.utils.push_result import SKIP_ALREADY_PUSHED, SKIP_HOURLY, SkippedUnit

ASSET_SAMPLE = 1000  # fullTableIds kept per kind in the result, for the sensor and for humans
WINDOWS_DAY = "windows"  # pseudo-day under which lineage windows are recorded


class Prebuilt:
    """Quacks like a pycarlo event dataclass: ``build_*_payload`` only calls ``to_dict()``.

    Manifest events are already exactly ``to_dict()`` of pycarlo's models (validated on read), so
    rebuilding dataclasses through dataclasses-json would only cost time on large pushes.
    """

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]):
        self._data = data

    def to_dict(self, encode_json: bool = False) -> dict[str, Any]:
        return self._data

    @property
    def fields(self) -> Any:  # build_lineage_payload checks ``e.fields`` to pick the event type
        return self._data.get("fields")


class OffsetRuns:
    """A set of unit offsets kept as sorted ``[start, end)`` runs: a re-run over a window whose
    million entries were all pushed excludes one run, not a million integers. Pass 1 adds offsets
    in increasing order (extending the last run); any other order works too."""

    __slots__ = ("count", "ends", "starts")

    def __init__(self) -> None:
        from array import array

        self.starts = array("q")
        self.ends = array("q")
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def __contains__(self, offset: object) -> bool:
        from bisect import bisect_right

        if not isinstance(offset, int):
            return False
        at = bisect_right(self.starts, offset) - 1
        return at >= 0 and offset < self.ends[at]

    def add(self, offset: int) -> None:
        from bisect import bisect_right

        if self.ends and self.ends[-1] == offset:
            self.ends[-1] = offset + 1
        elif not self.ends or offset > self.ends[-1]:
            self.starts.append(offset)
            self.ends.append(offset + 1)
        elif offset in self:
            return
        else:
            at = bisect_right(self.starts, offset)
            self.starts.insert(at, offset)
            self.ends.insert(at, offset + 1)
        self.count += 1


@dataclass
class PushUnit:
    """Events of one request shape: (kind, resource, resource_type / log_type, event type)."""

    key: tuple[str, str, str | None, str]
    kind: str
    resource_uuid: str
    resource_type: str | None
    log_type: str | None
    event_type: str
    event_count: int = 0  # events of this unit in the manifests, excluded ones included
    plans: list[Any] = field(default_factory=list)  # BatchPlan, in planner indices
    excluded: OffsetRuns = field(default_factory=lambda: OffsetRuns())  # unit offsets already pushed: never planned
    resumed_events: int = 0  # of excluded: pushed by an earlier try of this round
    pushed_by: dict[str, int] = field(default_factory=dict)  # other owners' label -> excluded count
    oversized: set[int] = field(default_factory=set)  # unit offsets too large alone: never sent
    trimmed: set[int] = field(default_factory=set)  # unit offsets trimmed to fit (again in pass 2)
    origins: list[tuple[int, int, int]] = field(default_factory=list)  # (manifest, event, unit offset)
    details: list[dict[str, Any]] = field(default_factory=list)
    asset_count: int = 0
    window: list[str] | None = None  # query logs: [min start_time, max end_time] of planned events
    skip: SkippedUnit | None = None  # the whole unit is not pushed (hourly bucket)
    planner: Any = None  # pass 1 only
    cursor: int = 0  # pass 1: position of the event being planned within the current manifest run

    @property
    def label(self) -> str:
        short = self.resource_uuid[:8] + "…" if len(self.resource_uuid) > 9 else self.resource_uuid
        flavour = self.log_type or self.resource_type
        what = self.kind.replace("_", " ")
        if self.kind == "lineage":
            what = "column lineage" if self.event_type == "COLUMN_LINEAGE" else "table lineage"
        return f"{what} ({flavour} {short})"

    @property
    def planned_events(self) -> int:
        return self.event_count - len(self.excluded) - len(self.oversized)

    def origin_of(self, offset: int) -> str:
        for manifest_index, first_event, unit_offset in reversed(self.origins):
            if offset >= unit_offset:
                return f"manifest[{manifest_index}].events[{first_event + offset - unit_offset}]"
        return f"event {offset}"


@dataclass(frozen=True)
class PushPlan:
    """What pass 2 sends. Built once by :func:`plan_push`; pass 2 never changes it."""

    units: dict[tuple, PushUnit]
    manifests: int
    events: int
    requests: int  # planned requests of units that are not skipped


#: Reads one manifest part a collector task pushed: ``pull(index, key)`` (see
#: :mod:`monte_carlo_push_provider.manifest_parts`).
PartPuller = Callable[[Mapping[str, Any], str], Any]


def iter_manifests(value: Any, pull: PartPuller | None = None) -> Iterator[Any]:
    """Flatten what ``manifests`` resolves to: a manifest dict, a list of them, or a (lazy)
    sequence of those from mapped collector tasks. ``None`` entries (a mapped task that returned
    nothing) are skipped. The index a collector returns for a window in several parts is
    resolved part by part with ``pull``: one part is read at a time, and dropped before the next."""
    from monte_carlo_push_provider.manifest_parts import is_parts_index

    if value is None:
        return
    if is_parts_index(value):
        yield from _parts(value, pull)
        return
    if isinstance(value, Mapping):
        yield value
        return
    if isinstance(value, (str, bytes)):
        yield value  # validation reports it
        return
    if hasattr(value, "__len__") and hasattr(value, "__getitem__"):
        # A mapped task's LazyXComSequence: index it rather than iterate, because iterating runs
        # one lookup past the end and Airflow logs that miss as an error.
        items: Iterable[Any] = (value[i] for i in range(len(value)))
    elif isinstance(value, Iterable):
        items = value
    else:
        yield value
        return
    for item in items:
        if item is None:
            continue
        if (isinstance(item, Mapping) and not is_parts_index(item)) or isinstance(item, (str, bytes)):
            yield item
        else:
            yield from iter_manifests(item, pull)


def _parts(index: Mapping[str, Any], pull: PartPuller | None) -> Iterator[Any]:
    from monte_carlo_push_provider.utils.errors import MonteCarloManifestError

    who = f"{index.get('task_id')}" + (f"[{index['map_index']}]" if index.get("map_index", -1) not in (-1, None) else "")
    if pull is None:
        raise MonteCarloManifestError(
            f"the manifests of task {who} came in {len(index['manifest_parts'])} parts (XComs "
            f"{', '.join(index['manifest_parts'][:3])}…), which only a running Airflow task can read; pass "
            "the collector's output (collect.output) to MonteCarloPushOperator inside a DAG"
        )
    for key in index["manifest_parts"]:
        part = pull(index, key)
        if part is None:
            raise MonteCarloManifestError(
                f"manifest part {key} of task {who} (run {index.get('run_id')}) is missing from XCom: it was "
                "cleared or expired. Re-run the collector task, then this push"
            )
        yield part


def groups(
    manifest: Mapping[str, Any], resource_uuid: str
) -> Iterator[tuple[tuple[str, str, str | None, str], list[tuple[int, dict[str, Any]]]]]:
    """A manifest's events split by push unit key, with their index in the manifest. Pass 1 and
    pass 2 both call this, so they walk events in the same order."""
    kind = manifest["kind"]
    events = manifest["events"]
    if not events:
        return
    flavour = manifest.get("log_type") if kind == "query_logs" else manifest.get("resource_type")
    if kind == "lineage":
        # Table-level and column-level events go in separate requests: pycarlo tags a whole
        # batch COLUMN_LINEAGE when any event has fields, and column lineage expires after
        # 10 days while table lineage never does.
        split = [
            ("LINEAGE", [(i, e) for i, e in enumerate(events) if not e.get("fields")]),
            ("COLUMN_LINEAGE", [(i, e) for i, e in enumerate(events) if e.get("fields")]),
        ]
    else:
        split = [(kind.upper(), list(enumerate(events)))]
    for event_type, indexed in split:
        if indexed:
            yield (kind, resource_uuid, flavour, event_type), indexed


def encoded(kind: str, event: dict[str, Any]) -> bytes:
    """An event exactly as it sits in the request body's ``events`` list."""
    return json.dumps({"relational_asset": event} if kind == "metadata" else event).encode()


def _full_table_id(ref: Mapping[str, Any]) -> str:
    """Monte Carlo's fullTableId: ``<database>:<schema>.<table>``."""
    return f"{ref.get('database')}:{ref.get('schema')}.{ref.get('name')}"


def asset_detail(event: Mapping[str, Any], kind: str, resource_uuid: str) -> dict[str, Any]:
    if kind == "metadata":
        volume = event.get("volume") or {}
        return {
            "full_table_id": _full_table_id(event["metadata"]),
            "resource_uuid": resource_uuid,
            "fields": [f["name"] for f in event.get("fields") or []],
            "row_count": volume.get("row_count"),
        }
    sources = {s.get("asset_id"): _full_table_id(s) for s in event["sources"]}
    return {
        "destination": _full_table_id(event["destination"]),
        "resource_uuid": resource_uuid,
        "sources": sorted(set(sources.values())),
        "columns": [
            [f["name"], sources.get(sf["asset_id"]), sf["field_name"]]
            for f in event.get("fields") or []
            for sf in f["source_fields"]
        ],
    }


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def iso_time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


# -- who pushed what ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Ownership:
    """This task instance and round: decides whether a ledger entry blocks a push."""

    identity: dict[str, Any]
    round: int
    force: bool = False

    def blocks(self, record: Mapping[str, Any]) -> str | None:
        """None if the entry does not stop a push; "resumed" for this round's; else the owner."""
        if self.force:
            return None
        owner = record.get("owner") or {}
        mine = all(owner.get(k) == v for k, v in self.identity.items())
        if mine:
            return "resumed" if record.get("round") == self.round else None
        label = "/".join(str(owner.get(k)) for k in ("dag_id", "run_id", "task_id"))
        if owner.get("map_index", -1) not in (-1, None):
            label += f"[{owner['map_index']}]"
        return label


def owner_record(ownership: Ownership, try_number: int | None) -> dict[str, Any]:
    return {"owner": dict(ownership.identity), "round": ownership.round, "try_number": try_number}


class FolderKeys:
    """The pushed-ledger keys of one ledger folder (a slot, or a legacy day), 10 bytes each.

    A push over a million-query window looks up a million keys; as a dict of strings they would
    cost ~150 bytes each. Keys are :func:`~monte_carlo_push_provider.utils.push_state.pushed_key`
    values (20 hex digits = 80 bits, all kept), held as sorted integer arrays and found by
    bisection; the records they came from are kept without their key lists.
    """

    def __init__(self, records: Iterable[Mapping[str, Any]]) -> None:
        from array import array

        self.records: list[dict[str, Any]] = []
        self.other: dict[str, int] = {}  # keys not of the 20-hex-digit form (none are written so)
        pairs: list[tuple[int, int]] = []
        for record in records:
            index = len(self.records)
            self.records.append({k: v for k, v in record.items() if k != "keys"})
            for key in record.get("keys") or []:
                if len(key) == 20:
                    try:
                        pairs.append((int(key, 16), index))
                        continue
                    except ValueError:
                        pass
                self.other.setdefault(key, index)
        pairs.sort()
        self.high = array("Q", (k >> 16 for k, _ in pairs))
        self.low = array("H", (k & 0xFFFF for k, _ in pairs))
        self.index = array("I", (i for _, i in pairs))

    def __len__(self) -> int:
        return len(self.high) + len(self.other)

    def get(self, key: str) -> dict[str, Any] | None:
        """The (first) record that lists ``key``, or None."""
        from bisect import bisect_left

        if key in self.other:
            return self.records[self.other[key]]
        try:
            value = int(key, 16) if len(key) == 20 else None
        except ValueError:
            value = None
        if value is None:
            return None
        high, low = value >> 16, value & 0xFFFF
        at = bisect_left(self.high, high)
        while at < len(self.high) and self.high[at] == high:
            if self.low[at] == low:
                return self.records[self.index[at]]
            at += 1
        return None


class PushedLedger:
    """Read side of the pushed ledger (query-log keys, lineage windows), loaded lazily per ledger
    folder (5-minute slot of start time, or a legacy day) while pass 1 holds the (resource, kind)
    lease."""

    def __init__(self, state: Any, ownership: Ownership):
        self.state = state
        self.ownership = ownership
        self._folders: dict[tuple[str, str, str], FolderKeys] = {}
        self._windows: dict[tuple[str, str], list[tuple[datetime, datetime, dict[str, Any]]]] = {}

    def loaded_keys(self) -> int:
        """Keys held in memory (for tests and the benchmark)."""
        return sum(len(f) for f in self._folders.values())

    def query_log_block(self, resource_uuid: str, log_type: str, event: Mapping[str, Any]) -> tuple[str, str | None]:
        from monte_carlo_push_provider.utils.push_state import ledger_slot, pushed_key, read_pushed

        key = pushed_key(dict(event))
        if self.ownership.force:
            return key, None
        # An entry is filed under its start-time slot; versions before slots filed it under its
        # start day. Earlier records win (first pushed), as they always did.
        start = str(event.get("start_time", ""))
        pushed = None
        for folder in (start[:10], ledger_slot(start)):
            slot = (resource_uuid, log_type, folder)
            keys = self._folders.get(slot)
            if keys is None:
                keys = self._folders[slot] = FolderKeys(
                    read_pushed(self.state, resource_uuid, "query_logs", log_type, [folder])
                )
            pushed = keys.get(key)
            if pushed is not None:
                break
        return key, (self.ownership.blocks(pushed) if pushed is not None else None)

    def lineage_window_block(self, resource_uuid: str, resource_type: str, window: Mapping[str, str]) -> str | None:
        """Who already pushed lineage covering ``window`` for this resource, or None."""
        from monte_carlo_push_provider.utils.push_state import read_pushed

        if self.ownership.force:
            return None
        slot = (resource_uuid, resource_type)
        if slot not in self._windows:
            self._windows[slot] = [
                (parse_time(r["window"]["start"]), parse_time(r["window"]["end"]), r)
                for r in read_pushed(self.state, resource_uuid, "lineage", resource_type, [WINDOWS_DAY])
                if isinstance(r.get("window"), dict)
            ]
        start, end = parse_time(window["start"]), parse_time(window["end"])
        blockers = [
            (s, e, who) for s, e, r in self._windows[slot] if (who := self.ownership.blocks(r)) is not None
        ]
        # covered by the union of blocking windows?
        cursor = start
        for s, e, _ in sorted(blockers, key=lambda w: w[0]):
            if s <= cursor < e or (s <= cursor and e >= end):
                cursor = max(cursor, e)
            if cursor >= end:
                break
        if cursor < end or not blockers:
            return None
        owners = sorted({who for s, e, who in blockers if s < end and e > start})
        return ", ".join(owners)


# -- pass 1 ------------------------------------------------------------------------------------


def _planner_factory(max_compressed_bytes: int, max_raw_bytes: int | None) -> Callable[..., Any]:
    from monte_carlo_push_provider.utils.batching import BatchPlanner

    def make(on_too_large: Callable[[Any], None]) -> Any:
        # max_raw_bytes=None turns the raw cap off (the gzip cap alone), as the operator documents.
        return BatchPlanner(limit=max_compressed_bytes, on_too_large=on_too_large, max_raw_bytes=max_raw_bytes)

    return make


def plan_push(
    manifests: Any,
    *,
    resolve_resource: Callable[[str | None], str],
    ledger: PushedLedger,
    lock: Callable[[str, str], None],
    max_compressed_bytes: int,
    max_raw_bytes: int | None,
    validate: Callable[[Any, int], Any],
    log: Any,
    strict_size: bool = False,
    pull: PartPuller | None = None,
) -> tuple[PushPlan, list[dict[str, Any]]]:
    """Pass 1. Returns the plan (hourly cadence not yet applied: see :func:`apply_cadence`) and
    the oversized-event reports."""
    make_planner = _planner_factory(max_compressed_bytes, max_raw_bytes)
    sizes = SizeRule(max_compressed_bytes, max_raw_bytes, strict_size)
    units: dict[tuple, PushUnit] = {}
    oversized: list[dict[str, Any]] = []
    count = 0
    for index, manifest in enumerate(iter_manifests(manifests, pull)):
        count += 1
        validate(manifest, index)
        if not manifest["events"]:
            flavour = manifest.get("resource_type") or manifest.get("log_type")
            log.info("manifest[%d] (%s %s): no events", index, flavour, manifest["kind"])
            continue
        resource_uuid = resolve_resource(manifest.get("resource_uuid"))
        window_owner = None
        if manifest["kind"] in ("query_logs", "lineage"):
            lock(resource_uuid, manifest["kind"])
        if manifest["kind"] == "lineage" and manifest.get("window"):
            window_owner = ledger.lineage_window_block(resource_uuid, manifest["resource_type"], manifest["window"])
        for key, indexed in groups(manifest, resource_uuid):
            unit = units.get(key)
            if unit is None:
                kind, _, flavour, event_type = key
                unit = units[key] = PushUnit(
                    key=key, kind=kind, resource_uuid=resource_uuid,
                    resource_type=None if kind == "query_logs" else flavour,
                    log_type=flavour if kind == "query_logs" else None, event_type=event_type,
                )
                unit.planner = make_planner(_on_too_large(unit, oversized, log))
            _plan_events(unit, index, indexed, ledger, window_owner, sizes, log)
    requests = 0
    for unit in units.values():
        unit.plans = unit.planner.finish()
        unit.planner = None
        requests += len(unit.plans)
    events = sum(u.event_count for u in units.values())
    return PushPlan(units=units, manifests=count, events=events, requests=requests), oversized


def _on_too_large(unit: PushUnit, reports: list[dict[str, Any]], log: Any) -> Callable[[Any], None]:
    def too_large(err: Any) -> None:
        offset = unit.event_count + unit.cursor
        where = unit.origin_of(offset)
        message = f"{where}: {err}"
        log.error("%s %s", unit.label, message)
        reports.append({"unit": list(unit.key), "event": where, "message": message})
        unit.oversized.add(offset)

    return too_large


@dataclass(frozen=True)
class SizeRule:
    """An event too large for a request on its own is trimmed (column descriptions first, then
    long text with a marker: ``utils.batching.trim_event``) unless ``strict``; one that cannot be
    trimmed enough is reported as oversized. Pass 2 trims the same events the same way."""

    max_gzip: int
    max_raw: int | None
    strict: bool = False

    def needs_trim(self, kind: str, event: dict[str, Any], encoded_len: int) -> bool:
        from monte_carlo_push_provider.utils.batching import ENVELOPE_RESERVE, event_fits

        floor = min(self.max_gzip, self.max_raw or self.max_gzip)
        if self.strict or encoded_len + ENVELOPE_RESERVE <= floor:
            return False  # gzip never exceeds raw by more than its header: fits both caps
        return not event_fits(event, kind, max_gzip=self.max_gzip, max_raw=self.max_raw)

    def trim(self, kind: str, event: dict[str, Any]) -> tuple[dict[str, Any], list[str]] | None:
        from monte_carlo_push_provider.utils.batching import EventTooLargeError, trim_event

        try:
            return trim_event(event, kind, max_gzip=self.max_gzip, max_raw=self.max_raw)
        except EventTooLargeError:
            return None  # the planner reports it as oversized


def _plan_events(
    unit: PushUnit, index: int, indexed: list[tuple[int, dict[str, Any]]], ledger: PushedLedger,
    window_owner: str | None, sizes: SizeRule, log: Any,
) -> None:
    kind = unit.kind
    for first, (event_index, _) in enumerate(indexed):
        # record where each contiguous run of this manifest's events starts in the unit
        if first == 0 or indexed[first - 1][0] != event_index - 1:
            unit.origins.append((index, event_index, unit.event_count + first))
    add = unit.planner.add
    planned: list[dict[str, Any]] = []
    for cursor, (_, event) in enumerate(indexed):
        unit.cursor = cursor  # read by the too-large callback
        offset = unit.event_count + cursor
        blocked = window_owner
        key = None
        if kind == "query_logs":
            key, blocked = ledger.query_log_block(unit.resource_uuid, unit.log_type or "", event)
        if blocked is not None:
            unit.excluded.add(offset)
            if blocked == "resumed":
                unit.resumed_events += 1
            else:
                unit.pushed_by[blocked] = unit.pushed_by.get(blocked, 0) + 1
            continue
        body = encoded(kind, event)
        if sizes.needs_trim(kind, event, len(body)):
            trimmed = sizes.trim(kind, event)
            if trimmed is not None:
                event, notes = trimmed
                body = encoded(kind, event)
                unit.trimmed.add(offset)
                log.warning("%s %s is too large for a request on its own: %s (strict_size=True fails instead)",
                            unit.label, unit.origin_of(offset), "; ".join(notes))
        add(body)
        if offset in unit.oversized:
            continue
        planned.append(event)
    unit.event_count += len(indexed)
    unit.asset_count += len(planned)
    if kind == "query_logs":
        if planned:
            # compare as datetimes: '…00Z' and '…00.5Z' do not sort as strings
            starts = [parse_time(e["start_time"]) for e in planned]
            ends = [parse_time(e["end_time"]) for e in planned]
            if unit.window:
                starts.append(parse_time(unit.window[0]))
                ends.append(parse_time(unit.window[1]))
            unit.window = [iso_time(min(starts)), iso_time(max(ends))]
    else:
        room = ASSET_SAMPLE - len(unit.details)
        unit.details.extend(asset_detail(e, kind, unit.resource_uuid) for e in planned[: max(room, 0)])


def already_pushed_skips(plan: PushPlan) -> list[SkippedUnit]:
    """One skip entry per unit with events another run already pushed."""
    skips = []
    for unit in plan.units.values():
        if not unit.pushed_by:
            continue
        n = sum(unit.pushed_by.values())
        owners = ", ".join(f"{who} ({count:,})" for who, count in sorted(unit.pushed_by.items()))
        what = "query-log entries (same query_id)" if unit.kind == "query_logs" else "lineage events (window)"
        skips.append(SkippedUnit(
            unit=list(unit.key), kind=unit.kind, resource_uuid=unit.resource_uuid, events=n,
            code=SKIP_ALREADY_PUSHED,
            reason=(
                f"{unit.label}: {n:,} of {unit.event_count:,} {what} were already pushed for this resource by "
                f"{owners}; not pushed again. Set force=True to push them anyway."
            ),
        ))
    return skips


# -- the hourly cadence ------------------------------------------------------------------------


@dataclass
class Claim:
    path: Any
    unit_key: tuple
    created: bool  # by this try (released again when nothing of the unit was accepted)


def apply_cadence(
    plan: PushPlan,
    *,
    state: Any,
    bucket: timedelta | None,
    flow: str,
    ownership: Ownership,
    try_number: int | None,
    warn: Callable[[str], None],
) -> tuple[list[Claim], list[SkippedUnit]]:
    """Claim the current UTC clock bucket for every metadata unit with something to send, or
    skip the unit when another run holds that bucket. The claim is a conditional create: of two
    concurrent runs exactly one pushes."""
    from monte_carlo_push_provider.utils.push_state import (
        Unreadable,
        bucket_start,
        claim_name,
        create_json,
        ignore_future_claims,
        iso,
        read_json,
    )

    claims: list[Claim] = []
    skips: list[SkippedUnit] = []
    if not bucket or bucket <= timedelta(0) or ownership.force:
        return claims, skips
    now = state.clock()
    current = bucket_start(now, bucket)
    next_at = current + bucket
    done: dict[str, Any] = {}  # claims per resource: several metadata units of one resource share one
    for unit in plan.units.values():
        if unit.kind != "metadata" or not unit.plans:
            continue
        resource = unit.resource_uuid
        if resource not in done:
            ignore_future_claims(state, resource, flow, current, warn)
            path = state.claims_dir(resource, flow) / claim_name(current)
            document = {
                **owner_record(ownership, try_number), "resource_uuid": resource, "flow": flow,
                "bucket_start": iso(current), "bucket_seconds": int(bucket.total_seconds()),
                "claimed_at": iso(now), "invocation_id": None,
            }
            blocker = _legacy_blocker(state, resource, flow, current, next_at, ownership, warn)
            if blocker is not None:
                done[resource] = ("skip", blocker)
            elif create_json(path, document):
                done[resource] = ("claimed", Claim(path, unit.key, True))
            else:
                try:
                    existing = read_json(path) or {}
                except Unreadable:
                    existing = {}
                who = ownership.blocks(existing) if existing.get("owner") else "an unreadable claim"
                if who is None or who == "resumed" or existing.get("owner", {}) == ownership.identity:
                    done[resource] = ("claimed", Claim(path, unit.key, False))  # ours: retry or clear
                else:
                    inv = existing.get("invocation_id")
                    at = existing.get("claimed_at")
                    done[resource] = ("skip", f"{who} at {at}" + (f" (invocation_id={inv})" if inv else ""))
        state_, value = done[resource]
        if state_ == "claimed":
            claims.append(value)
            continue
        n = unit.planned_events
        reason = (
            f"{unit.label}: metadata for this resource (flow {flow!r}) was already pushed in the UTC clock "
            f"bucket {iso(current)}–{iso(next_at)} by {value}. Monte Carlo's detectors train on hourly "
            f"buckets, so one push a bucket; the next push is allowed from {iso(next_at)}. Not pushing "
            f"{n:,} events; set force=True (or another flow=) to push anyway."
        )
        unit.skip = SkippedUnit(
            unit=list(unit.key), kind=unit.kind, resource_uuid=resource, events=n, code=SKIP_HOURLY,
            reason=reason, next_allowed_at=iso(next_at),
        )
        skips.append(unit.skip)
    return claims, skips


def _legacy_blocker(state: Any, resource: str, flow: str, current: datetime, next_at: datetime,
                    ownership: Ownership, warn: Callable[[str], None]) -> str | None:
    """The single-document ledger of provider versions before clock buckets."""
    from monte_carlo_push_provider.utils.push_state import Unreadable, iso, parse_iso, read_json

    try:
        doc = read_json(state.legacy_ledger_path(resource, flow))
    except Unreadable:
        return None
    if not isinstance(doc, dict) or not doc.get("last_push_at"):
        return None
    last = parse_iso(doc["last_push_at"])
    if last >= next_at:
        warn(
            f"hourly ledger entry for resource {resource} (flow {flow!r}) says {iso(last)}, after the current "
            f"bucket ({iso(current)}): written by a clock running ahead. Ignored; check NTP on the workers."
        )
        return None
    if last < current:
        return None
    who = ownership.blocks({"owner": doc.get("owner") or {}, "round": None})
    if who in (None, "resumed"):
        return None
    return f"{who} at {iso(last)} (invocation_id={doc.get('invocation_id')})"
