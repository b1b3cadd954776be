"""Manifests in parts: how a collector hands over a window too big for one XCom.

A query-log window of a busy warehouse holds hundreds of thousands to millions of statements. A
collector that built it as one manifest would hold the whole window in memory (and so would the
XCom backend serialising it, and the push task reading it). Instead the collector operator cuts
its event stream into **parts** of bounded size (events and JSON bytes), and pushes each part as
its own XCom the moment it is full::

    ti.xcom_push(key="manifest_part_0", value=<manifest v1>)
    ti.xcom_push(key="manifest_part_1", value=<manifest v1>)
    ...
    return {"manifest_parts": ["manifest_part_0", "manifest_part_1", ...],
            "dag_id": ..., "run_id": ..., "task_id": ..., "map_index": -1,
            "kind": "query_logs", "events": 123456, "window": {...}}

Each part is an ordinary manifest v1 (same kind, log_type / resource_type and window, plus
``"part": {"index": i}``). The task's return value is the small **index** above, which the push
operator (:func:`monte_carlo_push_provider.utils.push_plan.iter_manifests`) resolves part by part
with ``xcom_pull``. A window that fits in one part is returned as one ordinary manifest, exactly
as before.

Also here: :func:`sub_window`, the exact slicing of a window into ``n`` mapped sub-windows.

This module must stay import-light: stdlib only (collector operators use it at run time, the
push operator to recognise an index).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from monte_carlo_push_provider.manifest import new_manifest, utc_iso

#: Events per part. A query-log event is ~0.5-2 KB as JSON and 3-5x that as Python objects, so a
#: part of 25,000 costs the collector ~150 MB while it fills and is written, and the push ~140 MB
#: while it reads it, whatever the window holds (benchmarks/query_log_streaming.py).
DEFAULT_MAX_EVENTS = 25_000
#: JSON bytes per part (long statements fill a part by bytes before they fill it by count).
DEFAULT_MAX_BYTES = 32 * 2**20
PART_KEY = "manifest_part_{}"
INDEX_KEY = "manifest_parts"


def is_parts_index(value: Any) -> bool:
    """True for the index a collector task returns when its window came in several parts."""
    return isinstance(value, Mapping) and isinstance(value.get(INDEX_KEY), list)


def check_part_limits(max_events: int, max_bytes: int) -> None:
    if not isinstance(max_events, int) or isinstance(max_events, bool) or max_events < 1:
        raise ValueError(f"max_events_per_manifest must be a whole number >= 1, got {max_events!r}")
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1024:
        raise ValueError(f"max_bytes_per_manifest must be a whole number >= 1024 (bytes), got {max_bytes!r}")


class PartWriter:
    """Cut a stream of events into manifests of at most ``max_events`` events / ``max_bytes``
    JSON bytes, and hand each full one to ``push(key, manifest)`` at once (it keeps one part).

    ``header`` is what :func:`~monte_carlo_push_provider.manifest.new_manifest` takes besides the
    events (resource_type / log_type, resource_uuid, window). ``info`` (descriptive keys such as
    ``source``) and ``stats`` are read when a part is cut: a collector may fill them while its
    events are consumed, and the last part carries the final counters.
    """

    def __init__(
        self, *, kind: str, header: Mapping[str, Any], push: Callable[[str, dict[str, Any]], None] | None,
        stats: Callable[[], dict[str, Any]], info: Mapping[str, Any] | None = None,
        max_events: int = DEFAULT_MAX_EVENTS,
        max_bytes: int = DEFAULT_MAX_BYTES, log: Any = None,
    ) -> None:
        check_part_limits(max_events, max_bytes)
        self.kind = kind
        self.header = dict(header)
        self.push = push
        self.stats = stats
        self.info = info if info is not None else {}
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.log = log or logging.getLogger(__name__)
        self.keys: list[str] = []
        self.events = 0
        self._buffer: list[dict[str, Any]] = []
        self._bytes = 0
        self._started = time.monotonic()

    def _manifest(self, events: list[dict[str, Any]], part: int | None) -> dict[str, Any]:
        extra: dict[str, Any] = {"part": {"index": part}} if part is not None else {}
        return new_manifest(self.kind, events, **self.header, **self.info, **extra, stats=self.stats())

    def write(self, events: Iterable[dict[str, Any]]) -> dict[str, Any]:
        """Consume ``events``; return the one manifest, or the index of the parts pushed."""
        for event in events:
            size = len(json.dumps(event, separators=(",", ":"), default=str))
            if self._buffer and (len(self._buffer) >= self.max_events or self._bytes + size > self.max_bytes):
                self._flush()
            self._buffer.append(event)
            self._bytes += size
            self.events += 1
        if not self.keys:
            events_, self._buffer = self._buffer, []
            return self._manifest(events_, None)  # one part: an ordinary manifest, as before
        if self._buffer:
            self._flush()
        return self.index()

    def _flush(self) -> None:
        if self.push is None:
            raise RuntimeError(
                f"{self.events:,} events do not fit in one manifest (max_events_per_manifest={self.max_events:,}, "
                f"max_bytes_per_manifest={self.max_bytes:,}) and this task cannot push XComs: run it as an "
                "Airflow task, or raise the limits"
            )
        key = PART_KEY.format(len(self.keys))
        events, self._buffer, size = self._buffer, [], self._bytes
        self._bytes = 0
        self.push(key, self._manifest(events, len(self.keys)))
        self.keys.append(key)
        self.log.info(
            "manifest part %d written: %s events (%s MB); %s events so far in %.1f s",
            len(self.keys) - 1, f"{len(events):,}", f"{size / 2**20:.1f}", f"{self.events:,}",
            time.monotonic() - self._started,
        )

    def index(self) -> dict[str, Any]:
        return {INDEX_KEY: list(self.keys), "kind": self.kind, "events": self.events,
                **({"window": w} if (w := self._window()) else {}), "stats": self.stats()}

    def _window(self) -> dict[str, str] | None:
        window = self.header.get("window")
        if window is None:
            return None
        start, end = (window["start"], window["end"]) if isinstance(window, Mapping) else window
        return {"start": utc_iso(start) or "", "end": utc_iso(end) or ""}


# ---------------------------------------------------------------------------------------------
# Sub-windows
# ---------------------------------------------------------------------------------------------


def parse_window_part(value: Any) -> tuple[int, int] | None:
    """``(i, n)`` from ``(i, n)``, ``[i, n]`` (what ``.expand`` and XCom hand over) or ``"i/n"``."""
    if value is None or value == "":
        return None
    raw = value
    if isinstance(value, str):
        value = value.replace("/", ",").split(",")
    try:
        i, n = (int(str(v).strip()) for v in value)
    except (TypeError, ValueError):
        raise ValueError(
            f"window_part must be (index, count) such as (3, 12) or '3/12' (sub-window 3 of 12), got {raw!r}"
        ) from None
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"window_part {raw!r}: index must be in [0, count) and count >= 1")
    return i, n


def sub_window(start: datetime, end: datetime, part: tuple[int, int]) -> tuple[datetime, datetime]:
    """Sub-window ``i`` of ``n`` of ``[start, end)``, cut at whole microseconds, so the ``n``
    sub-windows tile the window exactly: sub-window i ends where i + 1 starts, 0 starts at
    ``start`` and n - 1 ends at ``end``."""
    i, n = part
    total = (end - start) // timedelta(microseconds=1)
    return (start + timedelta(microseconds=total * i // n), start + timedelta(microseconds=total * (i + 1) // n))
