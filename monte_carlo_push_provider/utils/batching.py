"""Size-aware batching: split a stream of JSON-encoded events into request bodies whose
gzip-compressed size stays under the gateway's limit, and whose raw size stays under the raw cap
(pycarlo posts plain JSON), filling each as close to the limits as is safe.

A fixed event count (Monte Carlo's scripts use 50 assets) either wastes requests on small tables
or overflows on wide ones. Here each batch is sized by compressed bytes: events are fed to a
streaming gzip compressor, its output is measured exactly with a sync flush every
``FLUSH_EVERY`` raw bytes, and the bytes fed since are estimated with the running ratio. The push
operator then measures the real body once more before sending (see ``fit_batch``). Raw size needs
no estimate: it is the sum of the encoded events, their separators and the envelope reserve.

An event too large for any request on its own can be trimmed with :func:`trim_event` (column
descriptions first, then long text with a marker).

Stdlib only.
"""

from __future__ import annotations

import copy
import json
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from monte_carlo_push_provider.utils.wire import GZIP_LEVEL, MAX_COMPRESSED_BYTES, MAX_RAW_BYTES, gzip_size

#: Raw bytes fed between exact measurements (a sync flush costs ~5 bytes of output).
FLUSH_EVERY = 256 * 1024
#: Fill target as a share of the limit: the estimate is conservative, and the final exact check
#: moves events to the next batch if a body still comes out over the limit.
DEFAULT_FILL = 0.985
#: Bytes reserved for the request envelope (event_type, resource) around the events.
ENVELOPE_RESERVE = 512
_SEPARATOR_LEN = 2  # json.dumps joins list items with ", "


class EventTooLargeError(ValueError):
    """One event alone cannot fit in a request under the limit (gzip or raw)."""

    def __init__(
        self, index: int, compressed: int, limit: int, *, raw: int | None = None,
        raw_limit: int | None = None, detail: str = "",
    ):
        if raw is not None and raw_limit is not None and raw > raw_limit:
            size = f"{raw:,} bytes of JSON on its own, over the {raw_limit:,}-byte raw request limit"
        else:
            size = f"{compressed:,} bytes gzip-compressed on its own, over the {limit:,}-byte request limit"
        super().__init__(
            f"this event is {size}; it cannot be pushed in any batch "
            f"{detail or '(trim its view_query / query_text or split its fields)'}"
        )
        self.index = index
        self.compressed = compressed
        self.raw = raw


@dataclass(frozen=True)
class BatchPlan:
    """Events ``[start, end)`` of a push unit form one request; ``estimated_gzip`` is the
    planner's conservative estimate of the compressed body."""

    start: int
    end: int
    estimated_gzip: int
    #: upper bound of the raw body (events, separators and the envelope reserve)
    raw_bytes: int = 0

    @property
    def count(self) -> int:
        return self.end - self.start


class BatchPlanner:
    """Incremental planner: feed events one at a time with :meth:`add`, then :meth:`finish`.

    It keeps no event bytes, only the compressor state of the open batch and the boundaries, so
    a push can plan over millions of events and re-encode each batch when it sends it.

    An event that alone exceeds the limit raises :class:`EventTooLargeError`, or, when
    ``on_too_large`` is given, is reported to it and left out of every plan (its index is in
    :attr:`oversized`).
    """

    def __init__(
        self,
        *,
        limit: int = MAX_COMPRESSED_BYTES,
        fill: float = DEFAULT_FILL,
        on_too_large: Callable[[EventTooLargeError], None] | None = None,
        max_raw_bytes: int | None = MAX_RAW_BYTES,
    ) -> None:
        if limit <= ENVELOPE_RESERVE * 2:
            raise ValueError(f"limit must be larger than {ENVELOPE_RESERVE * 2} bytes, got {limit}")
        if max_raw_bytes is not None and max_raw_bytes <= ENVELOPE_RESERVE * 2:
            raise ValueError(f"max_raw_bytes must be larger than {ENVELOPE_RESERVE * 2} bytes, got {max_raw_bytes}")
        self.limit = limit
        self.target = int(limit * fill) - ENVELOPE_RESERVE
        #: raw bytes the events of one batch may take (exact: no estimate needed); None = no cap
        self.max_raw_bytes = max_raw_bytes
        self.raw_target = None if max_raw_bytes is None else max_raw_bytes - ENVELOPE_RESERVE
        self.on_too_large = on_too_large
        self.plans: list[BatchPlan] = []
        self.oversized: list[int] = []
        self._ratio = 0.35  # first guess at compressed/raw; replaced by measurement asap
        self._index = 0  # index of the next event
        self._start = 0
        self._count = 0
        self._reset_batch()

    def _reset_batch(self) -> None:
        self._compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
        self._exact = 0  # compressed bytes known exactly (output up to the last sync flush)
        self._emitted = 0  # compressed bytes emitted since the last sync flush
        self._raw_since_flush = 0
        self._raw_in_batch = 0

    def _close(self, end: int) -> None:
        if self._count:
            estimate = self._exact + self._emitted + int(self._raw_since_flush * self._ratio)
            self.plans.append(BatchPlan(self._start, end, estimate, self._raw_in_batch + ENVELOPE_RESERVE))
        self._start, self._count = end, 0
        self._reset_batch()

    def _sync(self) -> None:
        self._exact += self._emitted + len(self._compressor.flush(zlib.Z_SYNC_FLUSH))
        self._emitted = self._raw_since_flush = 0
        if self._raw_in_batch > 16 * 1024:
            self._ratio = max(self._exact / self._raw_in_batch, 0.01)

    def add(self, event: bytes) -> None:
        index = self._index
        self._index += 1
        size = len(event) + _SEPARATOR_LEN
        raw_over = self.raw_target is not None and size > self.raw_target
        if size > self.target // 2 or raw_over:
            # Large enough that it might not fit alone (incompressible text can come out near
            # its raw size): measure it exactly.
            alone = gzip_size(event) + ENVELOPE_RESERVE
            if alone > self.limit or raw_over:
                self._close(index)
                error = EventTooLargeError(
                    index, alone - ENVELOPE_RESERVE, self.limit, raw=len(event), raw_limit=self.raw_target,
                )
                if self.on_too_large is None:
                    raise error
                self.on_too_large(error)
                self.oversized.append(index)
                self._start = index + 1
                return
        if self._count and self.raw_target is not None and self._raw_in_batch + size > self.raw_target:
            self._close(index)  # the raw cap is exact: no flush needed to know
        estimate = self._exact + self._emitted + int((self._raw_since_flush + size) * self._ratio)
        if self._count and estimate > self.target:
            self._sync()
            if self._exact + int(size * self._ratio) > self.target:
                self._close(index)
        self._emitted += len(self._compressor.compress(event))
        self._raw_since_flush += size
        self._raw_in_batch += size
        self._count += 1
        if self._raw_since_flush >= FLUSH_EVERY:
            self._sync()

    def finish(self) -> list[BatchPlan]:
        self._close(self._index)
        return self.plans


def plan_batches(
    encoded_events: Iterable[bytes],
    *,
    limit: int = MAX_COMPRESSED_BYTES,
    fill: float = DEFAULT_FILL,
    on_too_large: Callable[[EventTooLargeError], None] | None = None,
    max_raw_bytes: int | None = MAX_RAW_BYTES,
) -> list[BatchPlan]:
    """Plan batches over ``encoded_events`` (each the ``json.dumps`` bytes of one event as it sits
    in the request's ``events`` list). See :class:`BatchPlanner`."""
    planner = BatchPlanner(limit=limit, fill=fill, on_too_large=on_too_large, max_raw_bytes=max_raw_bytes)
    for event in encoded_events:
        planner.add(event)
    return planner.finish()


def lower_bound_requests(encoded_events: Iterable[bytes], limit: int = MAX_COMPRESSED_BYTES) -> tuple[int, int]:
    """``(total gzip bytes of all events as one stream, ceil(total / limit))``: the fewest requests
    any batching could use. The push benchmark compares the plan against it."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    total = 0
    for event in encoded_events:
        total += len(compressor.compress(event)) + len(compressor.compress(b", "))
    total += len(compressor.flush())
    return total, max(1, -(-total // limit))


# ---------------------------------------------------------------------------------------------
# Trimming an event too large on its own
# ---------------------------------------------------------------------------------------------

#: Appended to text cut short, so a reader in Monte Carlo sees it was trimmed, and by whom.
TRUNCATION_MARKER = " /* [truncated by monte-carlo-push-provider: {kept:,} of {total:,} characters kept] */"
#: Text shorter than this is never cut (it cannot be what makes an event too large).
_MIN_TRIM_CHARS = 1024


def event_size(event: Mapping[str, Any], kind: str | None = None) -> tuple[int, int]:
    """``(raw bytes, gzip bytes)`` of one manifest event as it sits in a request's ``events``
    list (metadata events wrapped in ``relational_asset``), envelope reserve included."""
    wire = {"relational_asset": event} if _kind_of(event, kind) == "metadata" else event
    encoded = json.dumps(wire).encode("utf-8")
    return len(encoded) + ENVELOPE_RESERVE, gzip_size(encoded) + ENVELOPE_RESERVE


def event_fits(
    event: Mapping[str, Any], kind: str | None = None, *, max_gzip: int = MAX_COMPRESSED_BYTES,
    max_raw: int | None = MAX_RAW_BYTES,
) -> bool:
    """Whether one event fits in a request on its own under both limits."""
    raw, compressed = event_size(event, kind)
    return compressed <= max_gzip and (max_raw is None or raw <= max_raw)


def trim_event(
    event: Mapping[str, Any],
    kind: str | None = None,
    *,
    max_gzip: int = MAX_COMPRESSED_BYTES,
    max_raw: int | None = MAX_RAW_BYTES,
    index: int = -1,
) -> tuple[dict[str, Any], list[str]]:
    """Make one event fit in a request on its own: return ``(event, notes)``.

    The event is returned unchanged (the same object, no notes) when it already fits. Otherwise a
    trimmed deep copy is returned, the input is never modified, and ``notes`` says what was cut,
    for the warning the caller logs. Order, least valuable first:

    1. metadata: every column description (``fields[].description``);
    2. long text, longest first, cut with :data:`TRUNCATION_MARKER`: a table's ``view_query`` and
       ``description``; a query log's ``query_text``, ``error_text`` and long strings in ``extra``.
       (A cut ``query_text`` no longer parses as SQL, and hashes differently in Monte Carlo.)

    Raises :class:`EventTooLargeError` (``index`` is passed through) when the event still does
    not fit, e.g. a table with so many columns that their names alone exceed the limit, or a
    lineage event (nothing in it is optional). Trimming is deterministic: the same event always
    trims to the same bytes, so a retry's request bodies match the first try's.
    """
    kind = _kind_of(event, kind)
    if event_fits(event, kind, max_gzip=max_gzip, max_raw=max_raw):
        return event, []  # type: ignore[return-value]
    trimmed: dict[str, Any] = copy.deepcopy(dict(event))
    notes: list[str] = []
    if kind == "metadata":
        described = [f for f in trimmed.get("fields") or [] if f.get("description")]
        if described:
            for f in described:
                del f["description"]
            notes.append(f"dropped the descriptions of {len(described):,} column(s)")
            if event_fits(trimmed, kind, max_gzip=max_gzip, max_raw=max_raw):
                return trimmed, notes
    for holder, key, label in _long_texts(trimmed, kind):
        _cut_text(trimmed, kind, holder, key, label, notes, max_gzip=max_gzip, max_raw=max_raw)
        if event_fits(trimmed, kind, max_gzip=max_gzip, max_raw=max_raw):
            return trimmed, notes
    raw, compressed = event_size(trimmed, kind)
    done = f"after trimming ({'; '.join(notes)})" if notes else "(nothing in it can be trimmed)"
    raise EventTooLargeError(
        index, compressed - ENVELOPE_RESERVE, max_gzip, raw=raw - ENVELOPE_RESERVE,
        raw_limit=None if max_raw is None else max_raw - ENVELOPE_RESERVE,
        detail=f"even {done}; split it (fewer columns per table, shorter text) in the collector",
    )


def _kind_of(event: Mapping[str, Any], kind: str | None) -> str:
    if kind:
        return kind
    if "metadata" in event:
        return "metadata"
    if "query_text" in event:
        return "query_logs"
    return "lineage"


def _long_texts(event: dict[str, Any], kind: str) -> list[tuple[dict[str, Any], str, str]]:
    """(holder, key, label) of every string worth cutting, longest first."""
    found: list[tuple[dict[str, Any], str, str]] = []
    if kind == "metadata":
        metadata = event.get("metadata") or {}
        found += [(metadata, k, f"metadata.{k}") for k in ("view_query", "description")]
    elif kind == "query_logs":
        found += [(event, k, k) for k in ("query_text", "error_text")]
        extra = event.get("extra")
        if isinstance(extra, dict):
            found += [(extra, k, f"extra.{k}") for k in sorted(extra)]
    found = [t for t in found if isinstance(t[0].get(t[1]), str) and len(t[0][t[1]]) > _MIN_TRIM_CHARS]
    return sorted(found, key=lambda t: -len(t[0][t[1]]))


def _cut_text(
    event: dict[str, Any], kind: str, holder: dict[str, Any], key: str, label: str, notes: list[str],
    *, max_gzip: int, max_raw: int | None,
) -> None:
    """Cut ``holder[key]`` until the event fits or the text is down to ``_MIN_TRIM_CHARS``."""
    original: str = holder[key]
    total = len(original)
    raw, compressed = event_size(event, kind)
    # First guess from the raw excess (exact for ASCII), then shrink geometrically: gzip size is
    # not linear in length, and a few measurements of one event are cheap next to a push.
    excess = max(raw - max_raw if max_raw is not None else 0, 0)
    keep = max(_MIN_TRIM_CHARS, total - excess - 256) if excess else int(total * 0.8)
    if compressed > max_gzip:
        keep = min(keep, max(_MIN_TRIM_CHARS, int(total * max_gzip / compressed * 0.9)))
    while True:
        holder[key] = original[:keep] + TRUNCATION_MARKER.format(kept=keep, total=total)
        if keep <= _MIN_TRIM_CHARS or event_fits(event, kind, max_gzip=max_gzip, max_raw=max_raw):
            break
        keep = max(_MIN_TRIM_CHARS, int(keep * 0.7))
    notes.append(f"cut {label} from {total:,} to {keep:,} characters")
