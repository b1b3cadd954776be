"""MonteCarloPushOperator: manifests in, pycarlo pushes out, every invocation_id recorded.

Flow of one task run:

1. resolve and validate the manifests (one, a list, or what mapped collectors returned);
2. group their events by push unit (kind, resource, resource_type / log_type, lineage event
   type), encode each event once and plan size-aware batches under the 1 MB gzip limit, keeping
   only the batch boundaries (pass 1);
3. skip metadata units pushed less than ``min_push_interval`` ago (detectors train on hourly
   buckets), unless this same task run pushed them (a retry);
4. read the manifests again and, as each planned batch fills (pass 2), build its body with
   pycarlo's ``build_*_payload``; if this task run's
   checkpoint says the gateway already accepted exactly this body, skip it; otherwise send it
   through ``Client.make_request`` with our retry policy, log its invocation_id and write the
   checkpoint (and the push-result manifest at ``output_path``) before the next batch.

Two passes keep memory bounded by one manifest plus one batch, whatever the warehouse's size
(a mapped collector's output is a lazy sequence: each pass reads one manifest at a time).

pycarlo is imported in ``execute`` only: DAG files that import this module stay cheap to parse.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
from monte_carlo_push_provider.operators.links import MonteCarloTablesLink
from monte_carlo_push_provider.utils.wire import MAX_COMPRESSED_BYTES

if TYPE_CHECKING:
    from airflow.sdk import Context

PUSH_RESULT_VERSION = 1
PATHS = {"metadata": "/ingest/v1/metadata", "lineage": "/ingest/v1/lineage", "query_logs": "/ingest/v1/querylogs"}
ASSET_SAMPLE = 1000  # fullTableIds kept per kind in the result, for the sensor and for humans


class _Prebuilt:
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


@dataclass
class PushUnit:
    kind: str
    resource_uuid: str
    resource_type: str | None
    log_type: str | None
    planner: Any = None  # utils.batching.BatchPlanner (pass 1)
    event_count: int = 0
    plans: list[Any] = field(default_factory=list)  # BatchPlan boundaries, in unit offsets
    oversized: set[int] = field(default_factory=set)  # unit offsets of events never sent
    next_plan: int = 0  # pass 2: index into plans of the batch being filled
    buffer: list[dict[str, Any]] = field(default_factory=list)  # pass 2: that batch's events
    fed: int = 0  # pass 2: unit offset of the next event
    # (manifest index, event index in that manifest, offset in this unit) at each contiguous run
    origins: list[tuple[int, int, int]] = field(default_factory=list)
    # What the sensor needs to check visibility, for the first ASSET_SAMPLE assets: metadata
    # tables with their columns and row count, lineage edges with sources and column mappings.
    details: list[dict[str, Any]] = field(default_factory=list)
    asset_count: int = 0
    window: list[str] | None = None  # query logs: [min start_time, max end_time]

    @property
    def label(self) -> str:
        return f"{self.kind} ({self.log_type or self.resource_type}, resource {self.resource_uuid})"

    def origin_of(self, offset: int) -> str:
        for manifest_index, first_event, unit_offset in reversed(self.origins):
            if offset >= unit_offset:
                return f"manifest[{manifest_index}].events[{first_event + offset - unit_offset}]"
        return f"event {offset}"


def iter_manifests(value: Any) -> Iterator[Any]:
    """Flatten what ``manifests`` resolves to: a manifest dict, a list of them, or a (lazy)
    sequence of those from mapped collector tasks. ``None`` entries (a mapped task that returned
    nothing) are skipped."""
    if value is None:
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
        if isinstance(item, Mapping) or isinstance(item, (str, bytes)):
            yield item
        else:
            yield from iter_manifests(item)


def _full_table_id(ref: Mapping[str, Any]) -> str:
    """Monte Carlo's fullTableId: ``<database>:<schema>.<table>``."""
    return f"{ref.get('database')}:{ref.get('schema')}.{ref.get('name')}"


def _asset_detail(event: Mapping[str, Any], kind: str, resource_uuid: str) -> dict[str, Any]:
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


class MonteCarloPushOperator(BaseOperator):
    """Push manifests (v1) to Monte Carlo's ingestion gateway.

    :param manifests: one manifest, a list of them, or an XComArg resolving to either (e.g. the
        output of ``.expand()``-ed collector tasks). Templated.
    :param monte_carlo_conn_id: the ``monte_carlo`` connection.
    :param output_path: where to write the push-result manifest (every batch with its
        invocation_id), as a path or ``ObjectStoragePath`` (``s3://…``, ``gs://…``). Templated.
    :param resource_uuid: warehouse UUID for manifests that do not name one (default: the
        connection's ``resource_uuid``).
    :param max_compressed_bytes: the gzip size each request body stays under (default 1 MB;
        lower it, never raise it).
    :param request_timeout_s: per-request timeout (default: the connection's ``timeout_s``).
    :param max_attempts: attempts per batch for 429 / 5xx / connection errors / timeouts.
    :param min_push_interval: metadata for one (resource, flow) is pushed at most this often;
        ``None`` or ``0`` disables the guard.
    :param flow: name of this metadata flow for the interval guard (default ``"metadata"``).
    :param state_path: root of the checkpoint and ledger documents (default
        ``$MONTE_CARLO_PUSH_STATE_PATH`` or ``$AIRFLOW_HOME/monte_carlo_push_state``). Use shared
        storage on multi-worker deployments so a retry on another worker resumes.
    """

    template_fields = ("manifests", "output_path", "resource_uuid", "flow", "state_path")
    operator_extra_links = (MonteCarloTablesLink(),)
    ui_color = "#e8f0fe"

    def __init__(
        self,
        *,
        manifests: Any,
        monte_carlo_conn_id: str = MonteCarloHook.default_conn_name,
        output_path: Any = None,
        resource_uuid: str | None = None,
        max_compressed_bytes: int = MAX_COMPRESSED_BYTES,
        request_timeout_s: float | None = None,
        max_attempts: int = 8,
        retry_base_delay_s: float = 1.0,
        retry_max_delay_s: float = 60.0,
        min_push_interval: timedelta | float | None = timedelta(hours=1),
        flow: str | None = None,
        state_path: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_compressed_bytes > MAX_COMPRESSED_BYTES:
            raise ValueError(
                f"max_compressed_bytes={max_compressed_bytes:,} is over the gateway's "
                f"{MAX_COMPRESSED_BYTES:,}-byte limit; use a value <= {MAX_COMPRESSED_BYTES:,}"
            )
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        self.manifests = manifests
        self.monte_carlo_conn_id = monte_carlo_conn_id
        self.output_path = output_path
        self.resource_uuid = resource_uuid
        self.max_compressed_bytes = max_compressed_bytes
        self.request_timeout_s = request_timeout_s
        self.max_attempts = max_attempts
        self.retry_base_delay_s = retry_base_delay_s
        self.retry_max_delay_s = retry_max_delay_s
        if isinstance(min_push_interval, (int, float)):
            min_push_interval = timedelta(seconds=min_push_interval)
        self.min_push_interval = min_push_interval
        self.flow = flow
        self.state_path = state_path

    # ------------------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.manifest import validate_manifest
        from monte_carlo_push_provider.utils.push_state import PushState, as_path, read_json
        from monte_carlo_push_provider.utils.sender import RetryPolicy

        hook = MonteCarloHook(self.monte_carlo_conn_id)
        creds = hook.get_credentials()
        creds.require_ingestion_key()

        manifests = self.manifests
        if isinstance(manifests, Iterator):
            manifests = list(manifests)  # read twice below

        ti = context["ti"]
        identity = {
            "dag_id": ti.dag_id,
            "run_id": ti.run_id,
            "task_id": ti.task_id,
            "map_index": getattr(ti, "map_index", -1),
        }
        state = PushState(self.state_path)
        checkpoint_path = state.checkpoint_path(**identity)
        previous = read_json(checkpoint_path) or {}
        accepted = {b["fingerprint"]: b for b in previous.get("batches", []) if b.get("fingerprint")}
        now = datetime.now(timezone.utc)
        result: dict[str, Any] = {
            "push_result_version": PUSH_RESULT_VERSION,
            **identity,
            "try_number": getattr(ti, "try_number", None),
            "status": "running",
            "started_at": previous.get("started_at") or _iso(now),
            "updated_at": _iso(now),
            "manifests": 0,
            "invocation_ids": [],
            "batches": [],
            "skipped": [],
            "oversized_events": [],
            "assets": {},
            "totals": {"events": 0, "requests": 0, "gzip_bytes": 0, "resumed_batches": 0, "retried_attempts": 0},
        }

        # Pass 1: validate everything before anything is sent, and plan the batches.
        units: dict[tuple[str, ...], PushUnit] = {}
        for index, manifest in enumerate(iter_manifests(manifests)):
            result["manifests"] += 1
            validate_manifest(manifest, index=index)
            self._plan_manifest(units, manifest, index, creds, result)
        total = 0
        for unit in units.values():
            unit.plans = unit.planner.finish()
            unit.planner = None
            total += len(unit.plans)
        if not units:
            self.log.info("%d manifest(s) with no events: nothing to push", result["manifests"])
        else:
            self.log.info(
                "%s events from %d manifest(s) planned into %d request(s) of <= %s gzip",
                f"{sum(u.event_count for u in units.values()):,}", result["manifests"], total,
                _size(self.max_compressed_bytes),
            )
        if accepted:
            self.log.info(
                "resuming: %d batch(es) already accepted by earlier tries of this task run (%s)",
                len(accepted),
                ", ".join(b["invocation_id"] for b in accepted.values()),
            )
        output = as_path(self.output_path) if self.output_path else None

        def save() -> None:
            from monte_carlo_push_provider.utils.push_state import write_json

            result["updated_at"] = _iso(datetime.now(timezone.utc))
            write_json(checkpoint_path, result)
            if output is not None:
                write_json(output, result)

        sender = _BatchSender(
            operator=self,
            client=hook.get_ingestion_client() if total else None,
            creds=creds,
            policy=RetryPolicy(self.max_attempts, self.retry_base_delay_s, self.retry_max_delay_s),
            timeout_s=float(self.request_timeout_s or creds.timeout_s),
            state=state,
            identity=identity,
            accepted=accepted,
            result=result,
            total=total,
            save=save,
        )
        # Pass 2: read the manifests again; send each planned batch as soon as it is full.
        try:
            if total:
                for manifest in iter_manifests(manifests):
                    for key, unit, indexed in self._groups(units, manifest, creds):
                        for _, event in indexed:
                            self._feed(sender, key, unit, event)
        except BaseException:
            result["status"] = "failed"
            save()
            self.log.error(
                "push failed after %d accepted batch(es); invocation_ids so far: %s",
                len(result["batches"]), ", ".join(result["invocation_ids"]) or "none",
            )
            raise
        skipped_units = {tuple(s["unit"]) for s in result["skipped"]}
        for key, unit in units.items():
            if key in skipped_units:
                continue  # not pushed: nothing for a sensor to wait for
            self._describe_assets(result["assets"], unit)
        if result["oversized_events"]:
            result["status"] = "partial"
            save()
            listed = "; ".join(e["message"] for e in result["oversized_events"][:10])
            from monte_carlo_push_provider.utils.errors import MonteCarloPushError

            raise MonteCarloPushError(
                f"{len(result['oversized_events'])} event(s) are too large to push on their own and were "
                f"not sent (everything else was: invocation_ids {', '.join(result['invocation_ids']) or 'none'}): "
                f"{listed}",
                invocation_ids=result["invocation_ids"],
            )
        result["status"] = "success"
        save()
        totals = result["totals"]
        self.log.info(
            "pushed %s events in %d request(s), %s gzip; invocation_ids: %s%s",
            f"{totals['events']:,}", totals["requests"], _size(totals["gzip_bytes"]),
            ", ".join(result["invocation_ids"]) or "none",
            f"; push result written to {output}" if output is not None else "",
        )
        if output is not None:
            result["output_path"] = str(output)
        return result

    @staticmethod
    def _describe_assets(assets: dict[str, Any], unit: PushUnit) -> None:
        """Summarise what a unit pushed for the sensor and for humans (merged across units)."""
        entry = assets.setdefault(unit.kind, {"count": 0})
        entry["count"] += unit.asset_count
        if unit.kind == "query_logs":
            if unit.window:
                old = entry.get("window")
                start, end = unit.window
                if old:
                    start = _iso(min(_parse(old["start"]), _parse(start)))
                    end = _iso(max(_parse(old["end"]), _parse(end)))
                entry["window"] = {"start": start, "end": end}
            return
        list_key, id_key = ("tables", "full_table_id") if unit.kind == "metadata" else ("edges", "destination")
        details = entry.setdefault(list_key, [])
        details.extend(unit.details[: max(ASSET_SAMPLE - len(details), 0)])
        entry["sample"] = [d[id_key] for d in details]

    # -- planning ------------------------------------------------------------------------------

    def _groups(
        self, units: dict, manifest: Mapping[str, Any], creds: Any
    ) -> Iterator[tuple[tuple[str, ...], PushUnit | None, list[tuple[int, dict[str, Any]]]]]:
        """A manifest's events split by push unit, with their index in the manifest. Yields the
        existing unit, or None when this manifest opens a new one."""
        kind = manifest["kind"]
        events = manifest["events"]
        if not events:
            return
        resource_uuid = creds.require_resource_uuid(manifest.get("resource_uuid") or self.resource_uuid)
        flavour = manifest.get("log_type") if kind == "query_logs" else manifest.get("resource_type")
        if kind == "lineage":
            # Table-level and column-level events go in separate requests: pycarlo tags a whole
            # batch COLUMN_LINEAGE when any event has fields, and column lineage expires after
            # 10 days while table lineage never does.
            groups = [
                ("LINEAGE", [(i, e) for i, e in enumerate(events) if not e.get("fields")]),
                ("COLUMN_LINEAGE", [(i, e) for i, e in enumerate(events) if e.get("fields")]),
            ]
        else:
            groups = [(kind.upper(), list(enumerate(events)))]
        for event_type, indexed in groups:
            if indexed:
                key = (kind, resource_uuid, flavour, event_type)
                yield key, units.get(key), indexed

    def _plan_manifest(
        self, units: dict, manifest: Mapping[str, Any], index: int, creds: Any, result: dict[str, Any]
    ) -> None:
        from monte_carlo_push_provider.utils.batching import BatchPlanner, EventTooLargeError

        if not manifest["events"]:
            flavour = manifest.get("resource_type") or manifest.get("log_type")
            self.log.info("manifest[%d] (%s %s): no events", index, flavour, manifest["kind"])
            return
        for key, existing, indexed in self._groups(units, manifest, creds):
            unit = existing
            if unit is None:
                kind, resource_uuid, flavour, _ = key
                unit = units[key] = PushUnit(
                    kind=kind,
                    resource_uuid=resource_uuid,
                    resource_type=None if kind == "query_logs" else flavour,
                    log_type=flavour if kind == "query_logs" else None,
                )

                def too_large(err: EventTooLargeError, unit: PushUnit = unit, key: tuple = key) -> None:
                    where = unit.origin_of(err.index)
                    message = f"{where}: {err}"
                    self.log.error("%s %s", unit.label, message)
                    result["oversized_events"].append({"unit": list(key), "event": where, "message": message})
                    unit.oversized.add(err.index)

                unit.planner = BatchPlanner(limit=self.max_compressed_bytes, on_too_large=too_large)
            self._plan_events(unit, index, indexed)

    def _plan_events(self, unit: PushUnit, index: int, indexed: list[tuple[int, dict[str, Any]]]) -> None:
        kind = unit.kind
        for first, (event_index, _) in enumerate(indexed):
            # record where each contiguous run of this manifest's events starts in the unit
            if first == 0 or indexed[first - 1][0] != event_index - 1:
                unit.origins.append((index, event_index, unit.event_count + first))
        # Encode each event exactly as it will sit in the request body's "events" list; only its
        # size reaches the planner, the bytes are dropped at once.
        dumps, add = json.dumps, unit.planner.add
        for _, event in indexed:
            add(dumps({"relational_asset": event} if kind == "metadata" else event).encode())
        unit.event_count += len(indexed)
        events = [e for _, e in indexed]
        unit.asset_count += len(events)
        if kind == "query_logs":
            # compare as datetimes: '…00Z' and '…00.5Z' do not sort as strings
            starts = [_parse(e["start_time"]) for e in events]
            ends = [_parse(e["end_time"]) for e in events]
            if unit.window:
                starts.append(_parse(unit.window[0]))
                ends.append(_parse(unit.window[1]))
            unit.window = [_iso(min(starts)), _iso(max(ends))]
        else:
            room = ASSET_SAMPLE - len(unit.details)
            unit.details.extend(_asset_detail(e, kind, unit.resource_uuid) for e in events[: max(room, 0)])

    def _feed(self, sender: _BatchSender, key: tuple, unit: PushUnit | None, event: dict[str, Any]) -> None:
        """Pass 2: add one event to its unit's open batch; send the batch when it is complete."""
        assert unit is not None  # pass 1 created every unit
        offset = unit.fed
        unit.fed += 1
        if unit.next_plan >= len(unit.plans) or offset in unit.oversized:
            return
        plan = unit.plans[unit.next_plan]
        if offset < plan.start:
            return
        unit.buffer.append(event)
        if offset == plan.end - 1:
            events, unit.buffer = unit.buffer, []
            unit.next_plan += 1
            sender.send(key, unit, events)

    def _fit(self, unit: PushUnit, events: list[dict[str, Any]]) -> Iterator[tuple[list[dict], dict, int, bytes]]:
        """Build the real body for a planned batch and measure it; a body that still comes out
        over the limit (rare: the plan's estimate is conservative) is split."""
        from monte_carlo_push_provider.utils.wire import gzip_size, json_body

        pending = [events]
        while pending:
            chunk = pending.pop(0)
            payload = _build_payload(unit, chunk)
            body = json_body(payload)
            size = gzip_size(body)
            if size > self.max_compressed_bytes and len(chunk) > 1:
                cut = max(1, int(len(chunk) * 0.9))
                pending[:0] = [chunk[:cut], chunk[cut:]]
                continue
            yield chunk, payload, size, body

    def _interval_allows(self, state: Any, unit: PushUnit, identity: dict, result: dict, key: tuple) -> bool:
        interval = self.min_push_interval
        if not interval or interval <= timedelta(0):
            return True
        flow = self.flow or "metadata"
        ledger = state.read_ledger(unit.resource_uuid, flow)
        if not ledger:
            return True
        if ledger.get("owner") == identity:
            return True  # this task run pushed it: a retry resuming, not a second push
        last = datetime.fromisoformat(ledger["last_push_at"].replace("Z", "+00:00"))
        next_allowed = last + interval
        now = datetime.now(timezone.utc)
        if now >= next_allowed:
            return True
        owner = ledger.get("owner") or {}
        reason = (
            f"metadata for resource {unit.resource_uuid} (flow {flow!r}) was pushed at {_iso(last)} by "
            f"{owner.get('dag_id')}/{owner.get('run_id')}/{owner.get('task_id')} "
            f"(invocation_id={ledger.get('invocation_id')}); Monte Carlo's detectors train on hourly "
            f"buckets, so the next push is allowed at {_iso(next_allowed)}. Skipping {unit.event_count:,} "
            "events; set min_push_interval=None (or a different flow=) to push anyway."
        )
        self.log.warning("skipped: %s", reason)
        result["skipped"].append(
            {"unit": list(key), "events": unit.event_count, "reason": reason, "next_allowed_at": _iso(next_allowed)}
        )
        return False

class _BatchSender:
    """Pass 2 of a push: sends complete batches in order, numbers them, records each in the
    result and the checkpoint, and applies the hourly guard at a unit's first batch."""

    def __init__(
        self, *, operator: MonteCarloPushOperator, client: Any, creds: Any, policy: Any, timeout_s: float,
        state: Any, identity: dict[str, Any], accepted: dict[str, dict[str, Any]], result: dict[str, Any],
        total: int, save: Any,
    ) -> None:
        self.op = operator
        self.log = operator.log
        self.client = client
        self.creds = creds
        self.policy = policy
        self.timeout_s = timeout_s
        self.state = state
        self.identity = identity
        self.accepted = accepted
        self.result = result
        self.total = total
        self.save = save
        self.number = 0
        self.started: set[tuple] = set()  # units with a batch sent (or resumed)
        self.skipped: set[tuple] = set()  # units the hourly guard skipped

    def send(self, key: tuple, unit: PushUnit, events: list[dict[str, Any]]) -> None:
        if key in self.skipped:
            return
        if key not in self.started and unit.kind == "metadata" and not self.op._interval_allows(
            self.state, unit, self.identity, self.result, key
        ):
            self.skipped.add(key)
            return
        for chunk, payload, body_gzip, body in self.op._fit(unit, events):
            if self.number >= self.total:
                self.total += 1  # _fit split a body: one more request than planned
            self.number += 1
            self._push(key, unit, chunk, payload, body_gzip, body, first_of_unit=key not in self.started)
            self.started.add(key)

    def _push(
        self, key: tuple, unit: PushUnit, events: list, payload: dict, body_gzip: int, body: bytes,
        *, first_of_unit: bool,
    ) -> None:
        from monte_carlo_push_provider.utils.sender import send_with_retries

        result = self.result
        # The body is deterministic for the same events, so an identical fingerprint in this task
        # run's checkpoint means the gateway already accepted exactly this request.
        fingerprint = hashlib.sha256(body).hexdigest()[:32]
        label = f"batch {self.number}/{self.total}"
        record = {
            "batch": self.number,
            "of": self.total,
            "kind": unit.kind,
            "resource_uuid": unit.resource_uuid,
            "resource_type": unit.resource_type,
            "log_type": unit.log_type,
            "event_type": payload["event_type"],
            "event_count": len(events),
            "gzip_bytes": body_gzip,
            "raw_bytes": len(body),
            "fingerprint": fingerprint,
        }
        earlier = self.accepted.get(fingerprint)
        if earlier:
            record.update(
                invocation_id=earlier["invocation_id"], accepted_at=earlier.get("accepted_at"),
                attempts=0, resumed=True,
            )
            result["totals"]["resumed_batches"] += 1
            self.log.info(
                "%s: %s events, %s gzip, invocation_id=%s (accepted by an earlier try; not sent again)",
                label, f"{len(events):,}", _size(body_gzip), earlier["invocation_id"],
            )
        else:
            sent = send_with_retries(
                self.client, PATHS[unit.kind], payload, creds=self.creds, timeout_s=self.timeout_s,
                policy=self.policy, label=f"{label} ({unit.label})", logger=self.log,
            )
            record.update(
                invocation_id=sent.invocation_id, accepted_at=_iso(datetime.now(timezone.utc)),
                attempts=sent.attempts, timeouts=sent.timeouts,
            )
            result["totals"]["retried_attempts"] += sent.attempts - 1
            self.log.info(
                "%s: %s events, %s gzip, invocation_id=%s",
                label, f"{len(events):,}", _size(body_gzip), sent.invocation_id,
            )
        result["batches"].append(record)
        result["invocation_ids"].append(record["invocation_id"])
        result["totals"]["events"] += len(events)
        result["totals"]["requests"] += 1
        result["totals"]["gzip_bytes"] += body_gzip
        self.save()
        if unit.kind == "metadata" and first_of_unit and not earlier:
            self.state.record_push(
                unit.resource_uuid, self.op.flow or "metadata", owner=self.identity,
                invocation_id=record["invocation_id"],
            )


def _build_payload(unit: PushUnit, events: list[dict[str, Any]]) -> dict[str, Any]:
    from pycarlo.features.ingestion.models import (
        build_lineage_payload,
        build_metadata_payload,
        build_query_log_payload,
    )

    if unit.kind == "metadata":
        return build_metadata_payload(unit.resource_uuid, unit.resource_type, [_Prebuilt(e) for e in events])
    if unit.kind == "lineage":
        return build_lineage_payload(unit.resource_uuid, unit.resource_type, [_Prebuilt(e) for e in events])
    return build_query_log_payload(unit.resource_uuid, unit.log_type, [_Prebuilt(e) for e in events])


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _size(n: int) -> str:
    return f"{n:,} B" if n < 10_000 else f"{n // 1000:,} KB"


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
