"""Size-aware batching: split a stream of JSON-encoded events into request bodies whose
gzip-compressed size stays under the gateway's limit, filling each as close to it as is safe.

A fixed event count (Monte Carlo's scripts use 50 assets) either wastes requests on small tables
or overflows on wide ones. Here each batch is sized by compressed bytes: events are fed to a
streaming gzip compressor, its output is measured exactly with a sync flush every
``FLUSH_EVERY`` raw bytes, and the bytes fed since are estimated with the running ratio. The push
operator then measures the real body once more before sending (see ``fit_batch``).

Stdlib only.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from monte_carlo_push_provider.utils.wire import GZIP_LEVEL, MAX_COMPRESSED_BYTES, gzip_size

#: Raw bytes fed between exact measurements (a sync flush costs ~5 bytes of output).
FLUSH_EVERY = 256 * 1024
#: Fill target as a share of the limit: the estimate is conservative, and the final exact check
#: moves events to the next batch if a body still comes out over the limit.
DEFAULT_FILL = 0.985
#: Bytes reserved for the request envelope (event_type, resource) around the events.
ENVELOPE_RESERVE = 512
_SEPARATOR_LEN = 2  # json.dumps joins list items with ", "


class EventTooLargeError(ValueError):
    """One event alone cannot fit in a request under the limit."""

    def __init__(self, index: int, compressed: int, limit: int):
        super().__init__(
            f"this event is {compressed:,} bytes gzip-compressed on its own, over the "
            f"{limit:,}-byte request limit; it cannot be pushed in any batch (trim its "
            "view_query / query_text or split its fields)"
        )
        self.index = index
        self.compressed = compressed


@dataclass(frozen=True)
class BatchPlan:
    """Events ``[start, end)`` of a push unit form one request; ``estimated_gzip`` is the
    planner's conservative estimate of the compressed body."""

    start: int
    end: int
    estimated_gzip: int

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
    ) -> None:
        if limit <= ENVELOPE_RESERVE * 2:
            raise ValueError(f"limit must be larger than {ENVELOPE_RESERVE * 2} bytes, got {limit}")
        self.limit = limit
        self.target = int(limit * fill) - ENVELOPE_RESERVE
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
            self.plans.append(BatchPlan(self._start, end, estimate))
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
        if size > self.target // 2:
            # Large enough that it might not fit alone (incompressible text can come out near
            # its raw size): measure it exactly.
            alone = gzip_size(event) + ENVELOPE_RESERVE
            if alone > self.limit:
                self._close(index)
                error = EventTooLargeError(index, alone - ENVELOPE_RESERVE, self.limit)
                if self.on_too_large is None:
                    raise error
                self.on_too_large(error)
                self.oversized.append(index)
                self._start = index + 1
                return
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
) -> list[BatchPlan]:
    """Plan batches over ``encoded_events`` (each the ``json.dumps`` bytes of one event as it sits
    in the request's ``events`` list). See :class:`BatchPlanner`."""
    planner = BatchPlanner(limit=limit, fill=fill, on_too_large=on_too_large)
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
