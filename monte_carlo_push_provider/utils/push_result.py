"""The push result: what one try of a ``MonteCarloPushOperator`` task instance pushed.

One typed shape, three places: the task's XCom return value (``PushResult.to_dict()``), the
push-result file at ``output_path`` and the ``rounds[].result`` of the checkpoint. The deferrable
sensor reads the dict (``batches[].kind / resource_uuid / invocation_id``, ``assets``,
``skipped``, ``started_at``, ``status``). docs/push-operator.md lists every key.

Version history: 1 = the original dict; 2 adds ``round``, ``nothing_pushed``,
``invocation_ids_by_kind``, ``skipped[].code / kind / resource_uuid``, ``batches[].try_number /
request / possible_duplicates`` and ``totals.sent_requests / possible_duplicates /
skipped_events / resumed_events / trimmed_events``; no key was removed or renamed. Added within
version 2 (new keys only): ``batches[].flow`` and ``lineage_refresh`` (the column-lineage
keep-alive), ``cleanup`` (only when the operator's ``cleanup`` is on: docs/cleanup.md).

Stdlib only: the sensor imports it at parse time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

PUSH_RESULT_VERSION = 2

#: ``PushResult.status`` values.
STATUSES = ("running", "success", "partial", "failed", "skipped")
#: ``SkippedUnit.code`` values.
SKIP_HOURLY = "hourly_bucket"  # metadata already pushed in this clock bucket by another run
SKIP_ALREADY_PUSHED = "already_pushed"  # query ids / lineage window already pushed for the resource


@dataclass
class BatchRecord:
    """One request the gateway accepted (or an earlier try of this round did: ``resumed``)."""

    batch: int  # position within its unit (kind, resource, type), 1-based
    of: int  # batches planned for that unit
    kind: str
    resource_uuid: str
    resource_type: str | None
    log_type: str | None
    event_type: str
    event_count: int
    gzip_bytes: int
    raw_bytes: int
    fingerprint: str  # sha256 of the exact body (first 32 hex digits)
    invocation_id: str
    accepted_at: str | None = None
    attempts: int = 1
    timeouts: int = 0
    possible_duplicates: int = 0  # attempts that may have been accepted without an answer
    resumed: bool = False  # accepted by an earlier try of this round: not sent by this try
    try_number: int | None = None  # the try that sent it
    request: int = 0  # position among all requests of the task instance's round, 1-based
    flow: str | None = None  # "column_lineage_refresh" for the keep-alive's re-push; None otherwise

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class SkippedUnit:
    """Events this try deliberately did not push, and why."""

    unit: list[Any]  # [kind, resource_uuid, resource_type | log_type, event_type]
    kind: str
    resource_uuid: str
    events: int
    code: str  # SKIP_HOURLY | SKIP_ALREADY_PUSHED
    reason: str  # one sentence a person can act on
    next_allowed_at: str | None = None  # SKIP_HOURLY: start of the next clock bucket

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SkippedUnit:
        unit = list(data.get("unit") or [])
        return cls(
            unit=unit,
            kind=data.get("kind") or (unit[0] if unit else ""),
            resource_uuid=data.get("resource_uuid") or (unit[1] if len(unit) > 1 else ""),
            events=int(data.get("events") or 0),
            code=data.get("code") or SKIP_HOURLY,
            reason=data.get("reason") or "",
            next_allowed_at=data.get("next_allowed_at"),
        )


@dataclass
class Totals:
    events: int = 0  # events accepted for this round (resumed included)
    requests: int = 0  # accepted requests of this round (resumed included) == len(batches)
    sent_requests: int = 0  # requests this try sent and the gateway accepted
    gzip_bytes: int = 0
    resumed_batches: int = 0
    resumed_events: int = 0
    retried_attempts: int = 0
    possible_duplicates: int = 0
    skipped_events: int = 0
    trimmed_events: int = 0  # too large alone: trimmed to fit (strict_size=False)


@dataclass
class PushResult:
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int | None
    started_at: str
    updated_at: str
    round: int = 1
    status: str = "running"
    manifests: int = 0
    batches: list[BatchRecord] = field(default_factory=list)
    skipped: list[SkippedUnit] = field(default_factory=list)
    oversized_events: list[dict[str, Any]] = field(default_factory=list)
    assets: dict[str, Any] = field(default_factory=dict)
    totals: Totals = field(default_factory=Totals)
    output_path: str | None = None
    #: the column-lineage keep-alive, one entry per (resource, resource type) whose ledger this
    #: push read: ``refreshed`` / ``let_go`` edge counts, ``ledger_edges``, ``invocation_ids``
    lineage_refresh: list[dict[str, Any]] = field(default_factory=list)
    push_result_version: int = PUSH_RESULT_VERSION
    #: dropped-table cleanup (``cleanup="dry_run" | "delete"``): per scope what was compared,
    #: deleted or would be deleted; None when cleanup is off
    cleanup: dict[str, Any] | None = None

    @property
    def identity(self) -> dict[str, Any]:
        return {"dag_id": self.dag_id, "run_id": self.run_id, "task_id": self.task_id, "map_index": self.map_index}

    @property
    def invocation_ids(self) -> list[str]:
        return [b.invocation_id for b in self.batches]

    @property
    def nothing_pushed(self) -> bool:
        return not self.batches

    def add_batch(self, record: BatchRecord) -> None:
        self.batches.append(record)
        t = self.totals
        t.events += record.event_count
        t.requests += 1
        t.gzip_bytes += record.gzip_bytes
        if record.resumed:
            t.resumed_batches += 1
            t.resumed_events += record.event_count
        else:
            t.sent_requests += 1
            t.retried_attempts += max(record.attempts - 1, 0)
            t.possible_duplicates += record.possible_duplicates

    def add_skip(self, skip: SkippedUnit) -> None:
        self.skipped.append(skip)
        self.totals.skipped_events += skip.events

    def to_dict(self) -> dict[str, Any]:
        by_kind: dict[str, list[str]] = {}
        for b in self.batches:
            by_kind.setdefault(b.kind, []).append(b.invocation_id)
        out: dict[str, Any] = {
            "push_result_version": self.push_result_version,
            **self.identity,
            "try_number": self.try_number,
            "round": self.round,
            "status": self.status,
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "manifests": self.manifests,
            "nothing_pushed": self.nothing_pushed,
            "invocation_ids": self.invocation_ids,
            "invocation_ids_by_kind": by_kind,
            "batches": [asdict(b) for b in self.batches],
            "skipped": [asdict(s) for s in self.skipped],
            "oversized_events": list(self.oversized_events),
            "assets": self.assets,
            "totals": asdict(self.totals),
            "lineage_refresh": [dict(r) for r in self.lineage_refresh],
        }
        if self.output_path is not None:
            out["output_path"] = self.output_path
        if self.cleanup is not None:
            out["cleanup"] = self.cleanup
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PushResult:
        """Read a result dict (version 1 or 2) back, e.g. from XCom or a push-result file."""
        totals_known = {f.name for f in fields(Totals)}
        return cls(
            dag_id=data["dag_id"],
            run_id=data["run_id"],
            task_id=data["task_id"],
            map_index=data.get("map_index", -1),
            try_number=data.get("try_number"),
            started_at=data.get("started_at") or "",
            updated_at=data.get("updated_at") or "",
            round=data.get("round", 1),
            status=data.get("status", "running"),
            manifests=data.get("manifests", 0),
            batches=[BatchRecord.from_dict(b) for b in data.get("batches") or []],
            skipped=[SkippedUnit.from_dict(s) for s in data.get("skipped") or []],
            oversized_events=list(data.get("oversized_events") or []),
            assets=dict(data.get("assets") or {}),
            totals=Totals(**{k: v for k, v in (data.get("totals") or {}).items() if k in totals_known}),
            output_path=data.get("output_path"),
            lineage_refresh=list(data.get("lineage_refresh") or []),
            push_result_version=data.get("push_result_version", 1),
            cleanup=data.get("cleanup"),
        )
