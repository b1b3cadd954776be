"""Helpers every warehouse collector shares: type normalisation, identifier quoting, name
filters, streaming fetches, data-interval windows and the start-up memory check.

A warehouse module (``collectors/<warehouse>.py``) holds that warehouse's SQL and the
normalisation of its rows; everything that is the same across warehouses lives here.
Stdlib only: collector modules are imported by operator modules at DAG-parse time.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

log = logging.getLogger(__name__)

# Warehouse-native table types that are views; everything else that holds data is a TABLE.
_VIEW_TYPES = frozenset(
    {
        "VIEW",
        "VIRTUAL_VIEW",
        "MATERIALIZED VIEW",
        "MATERIALIZED_VIEW",
        "MATERIALIZEDVIEW",
        "SECURE VIEW",
        "LATE BINDING VIEW",
    }
)


def normalize_table_type(native_type: str | None) -> str:
    """Map a warehouse's table type to Monte Carlo's TABLE / VIEW.

    ``BASE TABLE``, ``MANAGED``, ``EXTERNAL``, ``DYNAMIC TABLE``, ``EXTERNAL_TABLE``, ``CLONE``,
    ``SNAPSHOT``, ``STREAMING_TABLE``… → TABLE; any kind of view → VIEW.
    """
    if not native_type:
        return "TABLE"
    value = " ".join(str(native_type).upper().replace("-", " ").split())
    if value in _VIEW_TYPES or value.endswith(" VIEW") or value.endswith("_VIEW"):
        return "VIEW"
    return "TABLE"


# ---------------------------------------------------------------------------------------------
# Identifier quoting. Every identifier that reaches SQL text goes through one of these: a hostile
# table name (quotes, semicolons, ``--``, unicode) must never change a query.
# ---------------------------------------------------------------------------------------------


def quote_identifier(name: str, quote: str = '"') -> str:
    """Quote one identifier part, doubling the quote character inside it (ANSI / Snowflake /
    PostgreSQL / Redshift use ``"``; BigQuery, Hive and Databricks use a backtick)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"identifier must be a non-empty string, got {name!r}")
    if "\x00" in name:
        raise ValueError(f"identifier {name!r} contains a NUL byte")
    return f"{quote}{name.replace(quote, quote * 2)}{quote}"


def quote_qualified(*parts: str, quote: str = '"') -> str:
    """Quote each part of a dotted name: ``quote_qualified('my db', 'S')`` → ``"my db"."S"``."""
    return ".".join(quote_identifier(p, quote) for p in parts)


def quote_literal(value: str, *, backslash_escapes: bool = True) -> str:
    """A single-quoted SQL string literal. Prefer bind parameters; use this only where a
    warehouse cannot bind (e.g. some ``SHOW … LIKE`` forms).

    ``backslash_escapes``: Snowflake, MySQL, BigQuery and Databricks read ``\\`` as an escape,
    so backslashes are doubled; PostgreSQL and Redshift (standard_conforming_strings) read it
    literally: pass False there."""
    text = str(value)
    if backslash_escapes:
        text = text.replace("\\", "\\\\")
    return "'" + text.replace("'", "''") + "'"


# ---------------------------------------------------------------------------------------------
# Include / exclude filters on database, schema, dataset and catalog names.
# ---------------------------------------------------------------------------------------------


def _compile(patterns: Iterable[str] | str | None) -> list[re.Pattern[str]]:
    if patterns is None:
        return []
    if isinstance(patterns, str):
        patterns = [patterns]
    compiled = []
    for p in patterns:
        if p.startswith("re:"):
            compiled.append(re.compile(p[3:], re.IGNORECASE))
        else:
            compiled.append(re.compile(fnmatch.translate(p), re.IGNORECASE))
    return compiled


class NameFilter:
    """Include/exclude patterns, case-insensitive. Shell globs (``ANALYTICS_*``) or regular
    expressions prefixed with ``re:``. No include patterns means include everything."""

    def __init__(self, include: Iterable[str] | str | None = None, exclude: Iterable[str] | str | None = None):
        self._include = _compile(include)
        self._exclude = _compile(exclude)
        #: the patterns as given (a manifest's ``scope`` names them: another filter is another scope)
        self.include = [include] if isinstance(include, str) else list(include or [])
        self.exclude = [exclude] if isinstance(exclude, str) else list(exclude or [])

    def __call__(self, name: str) -> bool:
        if self._include and not any(p.fullmatch(name) for p in self._include):
            return False
        return not any(p.fullmatch(name) for p in self._exclude)

    def select(self, names: Iterable[str]) -> list[str]:
        return [n for n in names if self(n)]


# ---------------------------------------------------------------------------------------------
# Streaming fetches
# ---------------------------------------------------------------------------------------------


def iter_cursor(cursor: Any, batch_size: int = 10_000) -> Iterator[tuple[Any, ...]]:
    """Yield rows from a DB-API cursor with ``fetchmany`` so a large catalog never sits in memory
    twice (raw rows and events)."""
    while True:
        rows = cursor.fetchmany(batch_size)
        if not rows:
            return
        yield from rows


def iter_dicts(cursor: Any, batch_size: int = 10_000) -> Iterator[dict[str, Any]]:
    """Like :func:`iter_cursor`, but each row as a dict keyed by lower-cased column name."""
    names = [d[0].lower() for d in cursor.description]
    for row in iter_cursor(cursor, batch_size):
        if isinstance(row, dict):
            yield {k.lower(): v for k, v in row.items()}
        else:
            yield dict(zip(names, row, strict=True))


# ---------------------------------------------------------------------------------------------
# Data-interval windows
# ---------------------------------------------------------------------------------------------


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    # pendulum DateTime is a datetime subclass; normalise to a plain datetime in UTC
    value = value.astimezone(timezone.utc)
    return datetime(
        value.year, value.month, value.day, value.hour, value.minute, value.second,
        value.microsecond, tzinfo=timezone.utc,
    )


def query_window(
    context: Any,
    *,
    lag: timedelta = timedelta(0),
    start: datetime | str | None = None,
    end: datetime | str | None = None,
) -> tuple[datetime, datetime]:
    """The ``[start, end)`` window a query-log or lineage collector reads for this DAG run.

    Defaults to the run's data interval shifted back by ``lag`` (the warehouse view's latency),
    so consecutive runs tile time with no gap and no overlap and backfills read their own
    interval. Explicit ``start`` / ``end`` win. Runs without a data interval (manual, asset
    triggered) fall back to the hour before the logical date.
    """
    if start is not None and end is not None:
        s, e = _as_utc(start), _as_utc(end)
    else:
        ctx = context or {}
        s_raw = ctx.get("data_interval_start")
        e_raw = ctx.get("data_interval_end")
        if s_raw is None or e_raw is None or s_raw == e_raw:
            anchor = e_raw or ctx.get("logical_date") or datetime.now(timezone.utc)
            e = _as_utc(anchor)
            s = e - timedelta(hours=1)
        else:
            s, e = _as_utc(s_raw), _as_utc(e_raw)
        s, e = s - lag, e - lag
        if start is not None:
            s = _as_utc(start)
        if end is not None:
            e = _as_utc(end)
    if e <= s:
        raise ValueError(f"query window is empty: start {s.isoformat()} is not before end {e.isoformat()}")
    return s, e


# ---------------------------------------------------------------------------------------------
# Start-up memory check (in the spirit of Monte Carlo's scripts: warn before a collection that
# will not fit, rather than being OOM-killed half-way).
# ---------------------------------------------------------------------------------------------

# Measured: one metadata event with 30 columns is ~3 KB as Python dicts.
BYTES_PER_TABLE_ESTIMATE = 3_500
BYTES_PER_COLUMN_ESTIMATE = 110


def available_memory_bytes() -> int | None:
    """Memory this process may still use: the cgroup limit when there is one, else MemAvailable."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as fh:
                raw = fh.read().strip()
            if raw and raw != "max" and int(raw) < 1 << 60:
                return int(raw)
        except (OSError, ValueError):
            continue
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check_memory(estimated_tables: int, estimated_columns: int = 0, *, what: str = "collection") -> int:
    """Log a warning when a collection of this size is unlikely to fit in memory. Returns the
    estimate in bytes."""
    estimate = estimated_tables * BYTES_PER_TABLE_ESTIMATE + estimated_columns * BYTES_PER_COLUMN_ESTIMATE
    available = available_memory_bytes()
    if available is not None and estimate > 0.8 * available:
        log.warning(
            "%s of %s tables / %s columns needs about %s MB, but only %s MB is available; "
            "split it (one mapped task per database, or include/exclude patterns) or give the "
            "worker more memory",
            what, f"{estimated_tables:,}", f"{estimated_columns:,}",
            estimate // 2**20, available // 2**20,
        )
    return estimate


def chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
