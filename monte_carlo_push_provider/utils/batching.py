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


def plan_batches(
    encoded_events: Iterable[bytes],
    *,
    limit: int = MAX_COMPRESSED_BYTES,
    fill: float = DEFAULT_FILL,
    on_too_large: Callable[[EventTooLargeError], None] | None = None,
) -> list[BatchPlan]:
    """Plan batches over ``encoded_events`` (each the ``json.dumps`` bytes of one event as it sits
    in the request's ``events`` list).

    An event that alone exceeds the limit raises :class:`EventTooLargeError`, or, when
    ``on_too_large`` is given, is reported to it and left out (it gets a batch of its own that
    the caller must not send: the returned plans never include it).
    """
    if limit <= ENVELOPE_RESERVE * 2:
        raise ValueError(f"limit must be larger than {ENVELOPE_RESERVE * 2} bytes, got {limit}")
    target = int(limit * fill) - ENVELOPE_RESERVE
    plans: list[BatchPlan] = []
    ratio = 0.35  # first guess at compressed/raw; replaced by measurement as soon as possible

    start = 0
    count = 0
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    exact = 0  # compressed bytes known exactly (output up to the last sync flush)
    emitted_since_flush = 0
    raw_since_flush = 0
    raw_in_batch = 0

    def close(end: int) -> None:
        nonlocal start, count, compressor, exact, emitted_since_flush, raw_since_flush, raw_in_batch
        if count:
            plans.append(BatchPlan(start, end, exact + emitted_since_flush + int(raw_since_flush * ratio)))
        start, count = end, 0
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
        exact = emitted_since_flush = raw_since_flush = raw_in_batch = 0

    def sync() -> None:
        nonlocal exact, emitted_since_flush, raw_since_flush, ratio
        exact += emitted_since_flush + len(compressor.flush(zlib.Z_SYNC_FLUSH))
        emitted_since_flush = raw_since_flush = 0
        if raw_in_batch > 16 * 1024:
            ratio = max(exact / raw_in_batch, 0.01)

    index = -1
    for index, event in enumerate(encoded_events):
        size = len(event) + _SEPARATOR_LEN
        if size > target // 2:
            # Large enough that it might not fit alone (incompressible text can come out near
            # its raw size): measure it exactly.
            alone = gzip_size(event) + ENVELOPE_RESERVE
            if alone > limit:
                close(index)
                error = EventTooLargeError(index, alone - ENVELOPE_RESERVE, limit)
                if on_too_large is None:
                    raise error
                on_too_large(error)
                start = index + 1
                continue
        estimate = exact + emitted_since_flush + int((raw_since_flush + size) * ratio)
        if count and estimate > target:
            sync()
            if exact + int(size * ratio) > target:
                close(index)
        emitted_since_flush += len(compressor.compress(event))
        raw_since_flush += size
        raw_in_batch += size
        count += 1
        if raw_since_flush >= FLUSH_EVERY:
            sync()
    close(index + 1)
    return plans


def lower_bound_requests(encoded_events: Iterable[bytes], limit: int = MAX_COMPRESSED_BYTES) -> tuple[int, int]:
    """``(total gzip bytes of all events as one stream, ceil(total / limit))``: the fewest requests
    any batching could use. The push benchmark compares the plan against it."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    total = 0
    for event in encoded_events:
        total += len(compressor.compress(event)) + len(compressor.compress(b", "))
    total += len(compressor.flush())
    return total, max(1, -(-total // limit))
