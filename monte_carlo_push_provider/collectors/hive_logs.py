"""HiveServer2 log files -> query-log rows (log_type ``hive-s3``) and lineage input.

HiveServer2 logs each statement through ``ql.Driver`` with log4j2's ``%d{ISO8601}`` stamp in the
host's local time; Hive 2+ says ``Executing command``, Hive 1.x ``Starting command``::

    2026-11-25T10:00:01,123  INFO [HiveServer2-Background-Pool: Thread-42] ql.Driver: Executing command(queryId=hive_20261125100001_9f0c…): INSERT INTO …
    2026-11-25T10:00:01,123 INFO  [HiveServer2-Background-Pool: Thread-42]: ql.Driver (:()) - Executing command(queryId=…): …   (HDP/Ambari layout)
    2026-11-25T10:00:04,456  INFO [HiveServer2-Background-Pool: Thread-42] ql.Driver: Completed executing command(queryId=…); Time taken: 3.333 seconds
    2026-11-25T10:00:04,400 ERROR [HiveServer2-Background-Pool: Thread-42] ql.Driver: FAILED: Execution Error, return code 2 from …

A statement's text runs on over the following lines until the next line that starts with a
timestamp. ``start_time`` is the Executing line, ``end_time`` its Completed line (the start when
none was logged: still running, or the log was cut), and a ``FAILED:`` line on the same thread in
between marks it failed.

Files: a directory (or one file) as any ``ObjectStoragePath`` (``file:///var/log/hive``,
``s3://bucket/emr-logs/…``); ``hive.log``, daily rotations ``hive.log.2026-11-25`` and numbered
``hive.log.1`` / ``.gz`` are read oldest first, streamed line by line (gzip too), and files that
cannot hold the window (modified before it, or dated days away from it) are not opened.

Stdlib only at module level.
"""

from __future__ import annotations

import gzip
import heapq
import io
import itertools
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from monte_carlo_push_provider.collectors.base import (
    Collection,
    Collector,
    QueryRecord,
    engine_lineage,
    representable,
)
from monte_carlo_push_provider.collectors.hive import RESOURCE_TYPE, name_like_metadata

log = logging.getLogger(__name__)

LOG_TYPE = "hive-s3"
LINEAGE_DIALECT = "hive"
DEFAULT_PATTERN = "*.log*"

_RECORD = re.compile(
    r"^(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[,.]\d{1,9})?)\s+(?P<level>[A-Z]+)\s+"
    r"\[(?P<thread>[^\]]*)\]:?\s*(?P<rest>.*)$"
)
_STARTING = re.compile(r"\b(?:Executing|Starting) command\(queryId=(?P<qid>[^)\s]*)\):\s?(?P<sql>.*)$")
_COMPLETED = re.compile(r"\bCompleted executing command\(queryId=(?P<qid>[^)\s]*)\)")
_FAILED = re.compile(r"\bFAILED:\s*(?P<text>.*)$")
_RETURN_CODE = re.compile(r"return code (\d+)")
_DATED = re.compile(r"\.(\d{4}-\d{2}-\d{2})(?:[._-]\d+)?(?:\.gz)?$")
_NUMBERED = re.compile(r"\.(\d+)(?:\.gz)?$")


@dataclass
class HiveQuery:
    """One statement HiveServer2 executed."""

    query_id: str
    query_text: str
    start_time: datetime
    end_time: datetime | None = None
    thread: str | None = None
    log_file: str | None = None
    error_code: int | None = None
    error_text: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.error_text is None


@dataclass
class ParseStats:
    files: int = 0
    files_skipped: int = 0
    lines: int = 0
    statements: int = 0  # Executing/Starting lines seen (any time)
    in_window: int = 0
    malformed: int = 0  # Executing lines without a query id or a statement; unparseable stamps
    skipped_files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


def _zone(name: str | tzinfo) -> tzinfo:
    return name if isinstance(name, tzinfo) else (timezone.utc if name.upper() == "UTC" else ZoneInfo(name))


def parse_timestamp(text: str, zone: tzinfo) -> datetime:
    """``2026-11-25T10:00:01,123`` in the HiveServer2 host's zone -> aware UTC datetime."""
    text = text.replace(",", ".").replace(" ", "T")
    naive = datetime.fromisoformat(text[:26])  # fromisoformat takes at most microseconds
    return naive.replace(tzinfo=zone).astimezone(timezone.utc)


def _order_key(name: str) -> tuple[int, str, int]:
    """Oldest first: daily rotations by date, numbered ones by descending number, the live file last."""
    if m := _DATED.search(name):
        return (0, m.group(1), 0)
    if m := _NUMBERED.search(name):
        return (1, "", -int(m.group(1)))
    return (2, "", 0)


def _file_date(name: str) -> date | None:
    m = _DATED.search(name)
    if not m:
        return None
    try:
        return date.fromisoformat(m.group(1))
    except ValueError:
        return None


def _modified(path: Any) -> datetime | None:
    try:
        info = path.stat()
    except (OSError, NotImplementedError, ValueError):
        return None
    raw = getattr(info, "st_mtime", None)
    if raw is None and isinstance(info, dict):
        raw = info.get("mtime") or info.get("LastModified") or info.get("last_modified")
    if isinstance(raw, (int, float)):
        return datetime.fromtimestamp(raw, tz=timezone.utc)
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=timezone.utc)
    return None


def list_log_files(
    root: Any, *, pattern: str = DEFAULT_PATTERN, recursive: bool = True,
    window: tuple[datetime, datetime] | None = None, zone: tzinfo = timezone.utc, stats: ParseStats | None = None,
) -> list[Any]:
    """The files under ``root`` (an ``ObjectStoragePath``) that may hold lines in ``window``,
    oldest first within each directory."""
    if root.is_file():
        candidates = [root]
    else:
        candidates = [p for p in (root.rglob(pattern) if recursive else root.glob(pattern)) if p.is_file()]
    chosen = []
    for path in candidates:
        if window is not None:
            day = _file_date(path.name)
            # A dated rotation holds that local day; a day of slack covers zone offsets.
            if day is not None and not (
                window[0].astimezone(zone).date() - timedelta(days=1) <= day
                <= window[1].astimezone(zone).date() + timedelta(days=1)
            ):
                _skip(stats, path)
                continue
            modified = _modified(path)
            # Nothing in a file last written before the window starts can fall in it (an upload
            # time on object storage is later than the last write, so this stays safe there).
            if modified is not None and modified < window[0] - timedelta(minutes=5):
                _skip(stats, path)
                continue
        chosen.append(path)
    return sorted(chosen, key=lambda p: (str(p.parent), _order_key(p.name)))


def _skip(stats: ParseStats | None, path: Any) -> None:
    if stats is not None:
        stats.files_skipped += 1
        stats.skipped_files.append(path.name)


def _lines(path: Any) -> Iterator[str]:
    """Stream a log file's lines (gzip by suffix or magic bytes); undecodable bytes are replaced."""
    with path.open("rb") as raw:
        head = raw.read(2)
        try:
            raw.seek(0)
            stream: Any = raw
        except (OSError, io.UnsupportedOperation):
            stream = io.BufferedReader(_Prefixed(head, raw))  # type: ignore[arg-type]
        if head == b"\x1f\x8b" or path.name.endswith(".gz"):
            stream = gzip.GzipFile(fileobj=stream)
        text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline=None)
        try:
            yield from text
        except (EOFError, gzip.BadGzipFile, OSError) as e:
            # A gzip still being written (or cut by a crash): keep what was readable.
            log.warning("%s: stopped reading at a damaged part (%s)", path.name, e)


class _Prefixed(io.RawIOBase):
    """A non-seekable stream with its first bytes put back."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n], self._head = self._head[:n], self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


#: How far a log line may trail the latest stamp already read and still be put in order. Threads
#: stamp a line when they log it and log4j appends in call order, so stamps run out of order by
#: milliseconds; a statement is held this long before it is handed on in start order.
REORDER_MARGIN = timedelta(minutes=5)


def iter_log_queries(
    files: Iterable[Any],
    *,
    start: datetime,
    end: datetime,
    zone: str | tzinfo = "UTC",
    stats: ParseStats | None = None,
) -> Iterator[HiveQuery]:
    """Statements whose Executing line falls in ``[start, end)``, from ``files`` read in order.

    Yielded in start-time order (lineage needs it), each once its record is complete (its
    Completed line, or the end of input). Streams: a directory's files are one server's log,
    oldest first, so a statement is handed on once no statement that started before it is still
    open and the log has moved :data:`REORDER_MARGIN` past its start; memory follows the
    statements open at once, not the window. Directories (servers) are read side by side and
    merged.
    """
    stats = stats if stats is not None else ParseStats()
    tz = _zone(zone)
    servers = [list(group) for _, group in itertools.groupby(files, key=lambda p: str(getattr(p, "parent", "")))]
    streams = [_server_queries(group, start=start, end=end, tz=tz, stats=stats) for group in servers]
    yield from heapq.merge(*streams, key=_start_key)


def _start_key(q: HiveQuery) -> tuple[datetime, str]:
    return (q.start_time, q.query_id)


def _server_queries(
    files: list[Any], *, start: datetime, end: datetime, tz: tzinfo, stats: ParseStats,
) -> Iterator[HiveQuery]:
    """One server's statements in start order (see :func:`iter_log_queries`)."""
    pending: dict[str, HiveQuery] = {}  # in-window statements waiting for their Completed line
    by_thread: dict[str, str] = {}  # thread -> query id it is running, to attach FAILED lines
    done: list[tuple[datetime, str, int, HiveQuery]] = []  # completed, not handed on yet (a heap)
    completions = 0  # tie-break: a heap never compares two HiveQuery objects
    opened: list[tuple[datetime, str]] = []  # start keys of pending statements (a heap, lazily pruned)
    latest: datetime | None = None  # the latest stamp read

    current: HiveQuery | None = None  # the statement whose text may continue on the next lines
    text_lines: list[str] = []

    def finish_text() -> None:
        nonlocal current, text_lines
        if current is not None:
            sql = "\n".join(text_lines).strip()
            if sql:
                current.query_text = sql
                pending[current.query_id] = current
                heapq.heappush(opened, _start_key(current))
            else:
                stats.malformed += 1
        current, text_lines = None, []

    def ready() -> Iterator[HiveQuery]:
        """The completed statements no open or later-read statement can precede."""
        while opened and opened[0][1] not in pending:
            heapq.heappop(opened)  # completed since it was pushed
        while done and latest is not None and done[0][0] <= latest - REORDER_MARGIN and (
            not opened or done[0][:2] < opened[0]
        ):
            yield heapq.heappop(done)[3]

    for path in files:
        stats.files += 1
        name = path.name
        for raw_line in _lines(path):
            stats.lines += 1
            line = raw_line.rstrip("\r\n")
            m = _RECORD.match(line)
            if m is None:
                if current is not None:
                    text_lines.append(line)
                continue
            finish_text()
            rest = m.group("rest")
            if "command(queryId=" not in rest and "FAILED:" not in rest:
                continue  # the bulk of a HiveServer2 log: cheap substring gate before regexes
            try:
                ts = parse_timestamp(m.group("ts"), tz)
            except ValueError:
                stats.malformed += 1
                continue
            latest = ts if latest is None or ts > latest else latest
            thread = m.group("thread")
            if s := _STARTING.search(rest):
                stats.statements += 1
                qid = s.group("qid")
                if not qid:
                    stats.malformed += 1
                    continue
                by_thread[thread] = qid
                if start <= ts < end:
                    stats.in_window += 1
                    current = HiveQuery(query_id=qid, query_text="", start_time=ts, thread=thread, log_file=name)
                    text_lines = [s.group("sql")]
            elif c := _COMPLETED.search(rest):
                q = pending.pop(c.group("qid"), None)
                if q is not None:
                    q.end_time = max(ts, q.start_time)
                    completions += 1
                    heapq.heappush(done, (q.start_time, q.query_id, completions, q))
                if by_thread.get(thread) == c.group("qid"):
                    del by_thread[thread]
                yield from ready()
            elif f := _FAILED.search(rest):
                q = pending.get(by_thread.get(thread, ""))
                if q is not None and q.error_text is None:
                    q.error_text = f.group("text").strip()[:2000]
                    code = _RETURN_CODE.search(q.error_text)
                    q.error_code = int(code.group(1)) if code else 1
        finish_text()  # a file ends a record; the next file starts with its own stamp
    rest_of = [entry[3] for entry in done] + list(pending.values())  # pending: still running, or cut off
    yield from sorted(rest_of, key=_start_key)


def query_record(q: HiveQuery) -> QueryRecord:
    """The template's record of one statement (a statement still running ends when it started)."""
    return QueryRecord(
        query_text=q.query_text,
        start_time=q.start_time,
        end_time=q.end_time or q.start_time,
        query_id=q.query_id,
        error_code=q.error_code,
        error_text=q.error_text,
        succeeded=q.succeeded,
        extra={"thread": q.thread, "log_file": q.log_file, "completed": q.end_time is not None},
    )


def query_log_event(q: HiveQuery) -> dict[str, Any]:
    """A ``QueryLogEntry.to_dict()`` for one statement."""
    return query_record(q).to_event()


def lineage_row(q: HiveQuery) -> dict[str, Any]:
    return {"query_text": q.query_text, "query_id": q.query_id, "start_time": q.start_time}


# ---------------------------------------------------------------------------------------------
# Collectors: query logs and lineage from the same log files
# ---------------------------------------------------------------------------------------------


class _HiveLogCollector(Collector):
    """Reads the statements HiveServer2 started in the window from the log files under a root
    (an ``ObjectStoragePath``: the operator's source)."""

    def __init__(self, *, pattern: str = DEFAULT_PATTERN, recursive: bool = True, log_timezone: str = "UTC") -> None:
        super().__init__()
        self.pattern = pattern
        self.recursive = recursive
        self.log_timezone = log_timezone

    def read(self, root: Any, window: tuple[datetime, datetime] | None) -> Iterator[QueryRecord]:
        """The window's statements (a generator the operator streams into manifest parts; the log
        parser itself orders a window's statements by start time, so it holds them: slice a
        busy window with ``window_part``)."""
        assert window is not None
        zone = _zone(self.log_timezone)
        stats = ParseStats()
        files = list_log_files(root, pattern=self.pattern, recursive=self.recursive, window=window, zone=zone,
                               stats=stats)
        log.info(
            "reading %d HiveServer2 log file(s) under %s for %s .. %s (log time zone %s); %d file(s) "
            "cannot hold the window and were not opened", len(files), root, window[0].isoformat(),
            window[1].isoformat(), self.log_timezone, stats.files_skipped,
        )
        queries = (query_record(q) for q in iter_log_queries(files, start=window[0], end=window[1], zone=zone,
                                                             stats=stats))
        yield from representable(queries, self.skips)
        log.info("log parse: %s", ", ".join(f"{k}={v}" for k, v in stats.as_dict().items()))


class HiveQueryLogCollector(_HiveLogCollector):
    kind: ClassVar[str] = "query_logs"
    flavour = LOG_TYPE

    def collect(self, source: Any, window: tuple[datetime, datetime] | None) -> Collection:
        events = (q.to_event() for q in self.read(source, window))  # streamed into manifest parts
        return Collection(events, what=f"HiveServer2 logs at {source}")


class HiveLineageCollector(_HiveLogCollector):
    """Lineage parsed from the statements that succeeded (dialect ``hive``). Hive names are
    database.table; Monte Carlo's are database:schema.table, named as the metadata collectors
    name them (:func:`name_like_metadata`): the Hive database for both by default, or the
    constant ``database_label`` and the Hive database."""

    kind: ClassVar[str] = "lineage"
    flavour = RESOURCE_TYPE

    def __init__(
        self, *, database_label: str | None = None, default_database: str = "default",
        max_query_chars: int = 200_000, parse_timeout_s: float = 5.0, **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.database_label = database_label or None
        self.default_database = default_database
        self.max_query_chars = max_query_chars
        self.parse_timeout_s = parse_timeout_s

    def collect(self, source: Any, window: tuple[datetime, datetime] | None) -> Collection:
        queries = self.read(source, window)
        events, stats = engine_lineage(
            (q.lineage_row() for q in queries if q.succeeded), dialect=LINEAGE_DIALECT, resource_type=self.flavour,
            # without a label the engine's "database" is replaced by name_like_metadata below
            default_database=self.database_label or self.default_database, default_schema=self.default_database,
            max_query_chars=self.max_query_chars, timeout_s=self.parse_timeout_s,
        )
        name_like_metadata(events, self.database_label)
        log.info("lineage: %s", ", ".join(f"{k}={v}" for k, v in stats.items()))
        return Collection(events, stats=stats, what=f"HiveServer2 logs at {source}")
