"""Pass 2 of a push: read the manifests again and send the planned batches, checkpointing each.

As each planned batch fills, its real body is built with pycarlo's ``build_*_payload`` and
measured once more (a body over the gzip or raw cap is split). A body whose fingerprint this
round's checkpoint already holds was accepted by an earlier try and is not sent again. Otherwise
the leases are renewed (a zombie whose lease was taken over stops here), the body is sent with
the retry policy of ``utils/sender.py``, and before the next batch the accepted record goes into
the checkpoint (with every earlier record of the task instance), the pushed ledger (query logs)
and the hourly claim (metadata). A 413 splits the batch in halves, recursively.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from monte_carlo_push_provider.utils.lineage_refresh import REFRESH_EVENT_TYPE, REFRESH_FLOW
from monte_carlo_push_provider.utils.push_plan import PushPlan, PushUnit, SizeRule, groups, iter_manifests
from monte_carlo_push_provider.utils.push_result import BatchRecord, PushResult

if TYPE_CHECKING:
    from pycarlo.core import Client

    from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloCredentials
    from monte_carlo_push_provider.utils.sender import RetryPolicy, SendResult

PATHS = {"metadata": "/ingest/v1/metadata", "lineage": "/ingest/v1/lineage", "query_logs": "/ingest/v1/querylogs"}


def human_size(n: int) -> str:
    return f"{n:,} B" if n < 10_000 else f"{n // 1000:,} KB" if n < 10_000_000 else f"{n / 1e6:,.1f} MB"


def human_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def build_payload(unit: PushUnit, events: list[dict[str, Any]]) -> dict[str, Any]:
    from pycarlo.features.ingestion.models import (
        build_lineage_payload,
        build_metadata_payload,
        build_query_log_payload,
    )

    from monte_carlo_push_provider.utils.push_plan import Prebuilt

    wrapped = [Prebuilt(e) for e in events]
    if unit.kind == "metadata":
        return build_metadata_payload(unit.resource_uuid, unit.resource_type, wrapped)
    if unit.kind == "lineage":
        return build_lineage_payload(unit.resource_uuid, unit.resource_type, wrapped)
    return build_query_log_payload(unit.resource_uuid, unit.log_type, wrapped)


@dataclass
class _Cursor:
    offset: int = 0  # unit offset of the next event
    planner_index: int = 0  # index the planner gave the next planned event
    next_plan: int = 0
    buffer: list[dict[str, Any]] = field(default_factory=list)
    number: int = 0  # batches of the unit so far (sent or resumed)
    of: int = 0  # planned batches of the unit (+1 per split)
    claimed: bool = False  # hourly claim already carries an invocation_id


class RoundCheckpoint:
    """The checkpoint document of a task instance, with the round this try works in."""

    def __init__(self, path: Any, document: dict[str, Any], round_: dict[str, Any], write: Callable[..., None]):
        self.path = path
        self.document = document
        self.round = round_
        self._write = write

    @property
    def accepted(self) -> dict[str, dict[str, Any]]:
        return {b["fingerprint"]: b for b in self.round["batches"]}

    @property
    def split_fingerprints(self) -> set[str]:
        return set(self.round.setdefault("split_fingerprints", []))

    def add(self, record: BatchRecord) -> None:
        data = asdict(record)
        data["resumed"] = False
        self.round["batches"].append(data)

    def add_split(self, fingerprint: str) -> None:
        self.round.setdefault("split_fingerprints", []).append(fingerprint)

    def save(self, status: str, updated_at: str) -> None:
        self.round["status"] = status
        self.document["updated_at"] = updated_at
        self._write(self.path, self.document)


class Sender:
    """Walks the manifests (pass 2) and sends what the plan says, in order."""

    def __init__(
        self, *, plan: PushPlan, client: Client, creds: MonteCarloCredentials, policy: RetryPolicy, timeout_s: float,
        deadline_s: float | None, result: PushResult, checkpoint: RoundCheckpoint, renew: Callable[[int], None],
        save: Callable[[], None], on_accepted: Callable[[PushUnit, BatchRecord, list[dict[str, Any]], bool], None],
        max_compressed_bytes: int, max_raw_bytes: int | None, log: Any,
    ) -> None:
        self.plan = plan
        self.client = client
        self.creds = creds
        self.policy = policy
        self.timeout_s = timeout_s
        self.deadline_s = deadline_s
        self.result = result
        self.checkpoint = checkpoint
        self.renew = renew
        self.save = save
        self.on_accepted = on_accepted
        self.max_compressed_bytes = max_compressed_bytes
        self.max_raw_bytes = max_raw_bytes
        self.log = log
        self.sizes = SizeRule(max_compressed_bytes, max_raw_bytes)
        self.accepted = checkpoint.accepted
        self.splits = checkpoint.split_fingerprints
        self.cursors = {key: _Cursor(of=len(unit.plans)) for key, unit in plan.units.items()}
        self.request = len(checkpoint.round["batches"])
        self.sent = 0

    def run(self, manifests: Any, resolve_resource: Callable[[str | None], str], pull: Any = None) -> None:
        units = self.plan.units
        for manifest in iter_manifests(manifests, pull):
            if not manifest["events"]:
                continue
            resource = resolve_resource(manifest.get("resource_uuid"))
            for key, indexed in groups(manifest, resource):
                unit, cursor = units[key], self.cursors[key]
                if unit.skip is not None or not unit.plans:
                    continue
                for _, event in indexed:
                    self._feed(unit, cursor, event)

    def _feed(self, unit: PushUnit, c: _Cursor, event: dict[str, Any]) -> None:
        offset = c.offset
        c.offset += 1
        if offset in unit.excluded:
            return
        index = c.planner_index
        c.planner_index += 1
        if offset in unit.oversized or c.next_plan >= len(unit.plans):
            return
        plan = unit.plans[c.next_plan]
        if index < plan.start:
            return
        if offset in unit.trimmed:
            trimmed = self.sizes.trim(unit.kind, event)  # deterministic: same bytes as planned
            if trimmed is None:
                from monte_carlo_push_provider.utils.errors import MonteCarloPushError

                raise MonteCarloPushError(
                    f"a {unit.kind} event (position {offset} of its unit) was trimmed to fit when planned "
                    "but no longer fits when sent: the manifests changed between the two passes; "
                    "re-run the task so it plans again"
                )
            event = trimmed[0]
        c.buffer.append(event)
        if index == plan.end - 1:
            events, c.buffer = c.buffer, []
            c.next_plan += 1
            fitted = self._fit(unit, events)
            c.of += len(fitted) - 1
            for chunk, payload, body, gzip_bytes in fitted:
                self._push(unit, c, chunk, payload, body, gzip_bytes)

    def _fit(
        self, unit: PushUnit, events: list[dict[str, Any]]
    ) -> list[tuple[list[dict[str, Any]], dict, bytes, int]]:
        """Build the real body of a planned batch and measure it; a body that still comes out over
        the gzip or raw cap (rare: the plan's estimate is conservative) is split."""
        from monte_carlo_push_provider.utils.wire import gzip_size, json_body

        out = []
        pending = [events]
        while pending:
            chunk = pending.pop(0)
            payload = build_payload(unit, chunk)
            body = json_body(payload)
            gzip_bytes = gzip_size(body)
            over = gzip_bytes > self.max_compressed_bytes or (
                self.max_raw_bytes is not None and len(body) > self.max_raw_bytes
            )
            if over and len(chunk) > 1:
                cut = max(1, int(len(chunk) * 0.9))
                pending[:0] = [chunk[:cut], chunk[cut:]]
                continue
            out.append((chunk, payload, body, gzip_bytes))
        return out

    def _push(
        self, unit: PushUnit, c: _Cursor, events: list[dict[str, Any]], payload: dict | None = None,
        body: bytes | None = None, gzip_bytes: int | None = None,
    ) -> None:
        from monte_carlo_push_provider.utils.errors import MonteCarloPayloadTooLargeError
        from monte_carlo_push_provider.utils.push_state import iso, utcnow
        from monte_carlo_push_provider.utils.wire import gzip_size, json_body

        if payload is None or body is None:
            payload = build_payload(unit, events)
            body = json_body(payload)
            gzip_bytes = None  # measured below for this rebuilt body
        # The body is deterministic for the same events, so an identical fingerprint in this
        # round's checkpoint means the gateway already accepted exactly this request.
        fingerprint = hashlib.sha256(body).hexdigest()[:32]
        if fingerprint in self.splits and len(events) > 1:
            c.of += 1
            half = len(events) // 2
            self._push(unit, c, events[:half])
            self._push(unit, c, events[half:])
            return
        c.number += 1
        label = f"{unit.label} batch {c.number}/{c.of}"
        size = gzip_bytes if gzip_bytes is not None else gzip_size(body)  # _fit measured it already
        earlier = self.accepted.get(fingerprint)
        if earlier:
            self.log.info(
                "%s: %s events, %s gzip, invocation_id=%s (accepted by try %s; not sent again)",
                label, f"{len(events):,}", human_size(size), earlier["invocation_id"], earlier.get("try_number"),
            )
            return
        self.renew(len(self.result.batches))
        started = time.monotonic()
        try:
            sent = self._send(unit, payload, body, label)
        except MonteCarloPayloadTooLargeError as err:
            if len(events) == 1:
                raise MonteCarloPayloadTooLargeError(
                    f"{label}: the gateway refused a single event of {len(body):,} bytes raw / {size:,} gzip "
                    f"as too large ({err}); it cannot be split further. Trim that event (long view_query / "
                    "query_text, many column descriptions) or lower its size in the collector.",
                    status=err.status, invocation_ids=self.result.invocation_ids,
                ) from None
            half = len(events) // 2
            self.log.warning(
                "%s: the gateway answered 413 for %s raw bytes (%s gzip, %s events); splitting it into %s + %s "
                "events and carrying on", label, f"{len(body):,}", human_size(size), f"{len(events):,}",
                f"{half:,}", f"{len(events) - half:,}",
            )
            self.checkpoint.add_split(fingerprint)
            self.splits.add(fingerprint)
            c.number -= 1
            c.of += 1
            self.save()
            self._push(unit, c, events[:half])
            self._push(unit, c, events[half:])
            return
        elapsed = time.monotonic() - started
        self.request += 1
        self.sent += 1
        record = BatchRecord(
            batch=c.number, of=c.of, kind=unit.kind, resource_uuid=unit.resource_uuid,
            resource_type=unit.resource_type, log_type=unit.log_type, event_type=payload["event_type"],
            event_count=len(events), gzip_bytes=size, raw_bytes=len(body), fingerprint=fingerprint,
            invocation_id=sent.invocation_id, accepted_at=iso(utcnow()), attempts=sent.attempts,
            timeouts=sent.timeouts, possible_duplicates=sent.possible_duplicates,
            try_number=self.result.try_number, request=self.request,
            flow=REFRESH_FLOW if unit.event_type == REFRESH_EVENT_TYPE else None,
        )
        self.result.add_batch(record)
        self.checkpoint.add(record)
        first_of_unit = not c.claimed
        c.claimed = True
        self.on_accepted(unit, record, events, first_of_unit)
        self.save()
        retried = f", {sent.attempts} attempts" if sent.attempts > 1 else ""
        self.log.info(
            "%s: %s events, %s gzip, invocation_id=%s (sent in %s%s)",
            label, f"{len(events):,}", human_size(size), sent.invocation_id, human_duration(elapsed), retried,
        )

    def _send(self, unit: PushUnit, payload: dict[str, Any], body: bytes, label: str) -> SendResult:
        from monte_carlo_push_provider.utils.sender import send_with_retries

        # body: the exact bytes fingerprinted and measured above are what is sent.
        return send_with_retries(
            self.client, PATHS[unit.kind], payload, creds=self.creds, timeout_s=self.timeout_s,
            policy=self.policy, label=label, logger=self.log, body=body, deadline_s=self.deadline_s,
        )
