"""What the sensor says: per-flow delays and defaults, the waiting line of each poll, and the
timeout message (what is missing per flow and the invocation_ids to quote to support)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from monte_carlo_push_provider.sensors.expectations import KINDS
from monte_carlo_push_provider.utils.errors import CHECKPOINT_VISIBILITY

if TYPE_CHECKING:
    from monte_carlo_push_provider.sensors.checker import VisibilityStatus
    from monte_carlo_push_provider.sensors.expectations import Expectations

#: Monte Carlo's documented delays between a push and GraphQL showing it (docs/sensor.md).
TYPICAL_DELAY = {
    "metadata": "a few minutes",
    "lineage": "seconds to a few minutes (column lineage: a few minutes)",
    "query_logs": "15-20 minutes, up to an hour",
}
#: Default timeout per flow; the sensor waits as long as the slowest flow it checks needs.
FLOW_TIMEOUT = {
    "metadata": timedelta(minutes=20),
    "lineage": timedelta(minutes=20),
    "query_logs": timedelta(minutes=75),
}

NOTHING_PUSHED = "nothing pushed in this run: nothing to confirm"
NOT_KNOWN = "not known to Monte Carlo: was metadata ever pushed for it?"


def default_timeout(kinds: Iterable[str]) -> timedelta:
    return max((FLOW_TIMEOUT[k] for k in kinds), default=FLOW_TIMEOUT["metadata"])


def waiting_line(status: VisibilityStatus, limit: int = 5) -> str:
    """One log line per poll: per flow how much is confirmed, what it waits for, and how long
    that flow typically takes."""
    parts = []
    counts = status.counts()
    by_kind: dict[str, list[str]] = {}
    for m in status.missing:
        by_kind.setdefault(m.kind, []).append(str(m))
    for kind in KINDS:
        if kind not in counts:
            continue
        c = counts[kind]
        line = f"{kind} {c['visible']:,}/{c['expected']:,} confirmed"
        waiting = by_kind.get(kind) or []
        if waiting:
            shown = "; ".join(waiting[:limit]) + (f"; and {len(waiting) - limit:,} more" if len(waiting) > limit else "")
            line += f" (typically {TYPICAL_DELAY[kind]}), waiting for: {shown}"
        parts.append(line)
    if status.unchecked:
        parts.append(f"{status.unchecked:,} check(s) left for the next poll (call budget)")
    return ". ".join(parts)


def timeout_message(expect: Expectations, status: Mapping[str, Any] | VisibilityStatus | None, waited_s: float) -> str:
    """What a timeout says: what is missing, per kind, and the invocation_ids to quote."""
    from monte_carlo_push_provider.sensors.checker import VisibilityStatus

    data = status.to_dict() if isinstance(status, VisibilityStatus) else (status or {})
    missing_tables: Mapping[str, list[str]] = data.get("missing_tables") or {}
    lines = [
        f"Monte Carlo does not show all of this push after {waited_s / 60:.1f} min ({CHECKPOINT_VISIBILITY})."
    ]
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
