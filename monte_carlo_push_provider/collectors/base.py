"""The collector template: the records a collector yields, the one mapping from a record to a
manifest event, the skipping of what Monte Carlo cannot represent, and the collector interface
the base operator drives.

The flow (``operators/base.py`` runs it, a warehouse module fills it in)::

    window (data interval - lag, or start/end)  ->  source (hook / client / log root)
      -> Collector.collect(source, window)      ->  TableRecord / QueryRecord / lineage events
      -> manifest (kind, resource_type / log_type, info, stats.skipped)  ->  summary log line

A warehouse module (``collectors/<warehouse>.py``) holds that warehouse's SQL *and* its policy
(fallbacks, case folding, column stripping): one :class:`Collector` subclass per kind. The
operator module only declares parameters.

Stdlib and ``airflow.sdk`` only: operator modules import collector modules at DAG-parse time.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar

from airflow.sdk.exceptions import AirflowFailException

from monte_carlo_push_provider.manifest import query_log_entry, relational_asset

log = logging.getLogger(__name__)

Field = tuple[str, str] | tuple[str, str, str | None]


# ---------------------------------------------------------------------------------------------
# Time: one conversion for every warehouse
# ---------------------------------------------------------------------------------------------


def to_utc(value: Any) -> datetime | None:
    """A timezone-aware UTC datetime from what a warehouse client returns, or None.

    Aware values are converted. Naive values are read as UTC: every warehouse this provider
    reads reports system timestamps in UTC (Redshift's SYS/STL views, Databricks' SQL warehouse
    session zone, BigQuery, Snowflake's TIMESTAMP_NTZ copies of ACCOUNT_USAGE made in a UTC
    session), and guessing the worker's local zone instead shifts freshness by hours. ISO-8601
    strings (``Z``, offsets, a space instead of ``T``) are parsed; ``None``, ``""`` and values
    that are no instant at all (a DATE) give None.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "T", 1))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def as_count(value: Any) -> int | None:
    """A non-negative integer count (int, Decimal, numeric string), or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


# ---------------------------------------------------------------------------------------------
# Skipping what cannot be represented
# ---------------------------------------------------------------------------------------------


def _unencodable(text: str | None) -> bool:
    """True for text UTF-8 cannot carry (lone surrogates: a non-UTF-8 name decoded with
    ``surrogateescape``, as SQLite and some drivers hand them over) or that holds a NUL."""
    if text is None:
        return False
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class Skips:
    """Rows and objects a collector skipped, counted per kind of defect.

    The first row of each kind is logged as a warning (with what identifies it); the rest are
    only counted, so a window with 3,000 empty statements costs one log line, not 3,000. The
    counts land in the manifest as ``stats["skipped"]`` (e.g. ``{"empty_query_text": 3}``).
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.counts: Counter[str] = Counter()
        self._log = logger or log

    def skip(self, defect: str, what: str) -> None:
        if not self.counts[defect]:
            self._log.warning(
                "skipped %s (%s); further rows with this defect are counted in the manifest's "
                "stats.skipped, not logged", what, defect.replace("_", " "),
            )
        self.counts[defect] += 1

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))

    def __bool__(self) -> bool:
        return bool(self.counts)


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


@dataclass
class TableRecord:
    """One table or view as a collector read it; :meth:`to_event` is the only mapping from a
    warehouse's catalog to a ``RelationalAsset``.

    ``type`` is TABLE or VIEW (see ``collectors.common.normalize_table_type``). Views carry no
    volume or freshness: the mapping drops them, so no collector has to remember, unless
    ``holds_data`` says the view is materialized (Hive's materialized views keep row counts).
    """

    database: str
    schema: str
    name: str
    type: str = "TABLE"
    description: str | None = None
    view_query: str | None = None
    created_on: datetime | None = None
    fields: list[Field] = field(default_factory=list)
    tags: Mapping[str, str | None] | None = None
    row_count: int | None = None
    byte_count: int | None = None
    last_update_time: datetime | None = None
    holds_data: bool | None = None  # None: only a TABLE does

    def defect(self) -> str | None:
        """Why Monte Carlo cannot take this record, or None."""
        for part in (self.database, self.schema, self.name):
            if not isinstance(part, str) or not part.strip():
                return "empty_name"
            if _unencodable(part):
                return "non_utf8_name"
        if any(_unencodable(f[0]) or not f[0] for f in self.fields):
            return "bad_column_name"
        return None

    def label(self) -> str:
        return ".".join(repr(p) if _unencodable(p) or not p else p for p in (self.database, self.schema, self.name))

    def to_event(self, *, only_freshness_and_volume: bool = False, include_volume: bool = True) -> dict[str, Any]:
        """``RelationalAsset.to_dict()``. ``only_freshness_and_volume`` drops what an hourly run
        does not need (columns, descriptions, view text, tags); ``include_volume=False`` drops
        row and byte counts (a daily schema push beside an hourly volume push)."""
        schema_too = not only_freshness_and_volume
        is_table = self.type == "TABLE"
        has_volume = is_table if self.holds_data is None else self.holds_data
        return relational_asset(
            type=self.type,
            name=self.name,
            database=self.database,
            schema=self.schema,
            description=self.description if schema_too else None,
            view_query=self.view_query if schema_too and not is_table else None,
            created_on=self.created_on,
            fields=self.fields if schema_too else None,
            tags=self.tags if schema_too else None,
            row_count=self.row_count if has_volume and include_volume else None,
            byte_count=self.byte_count if has_volume and include_volume else None,
            last_update_time=self.last_update_time if has_volume else None,
        )


@dataclass
class QueryRecord:
    """One finished statement from a warehouse's query history (times in UTC)."""

    query_text: str | None
    start_time: datetime | None
    end_time: datetime | None
    query_id: str | None = None
    user: str | None = None
    error_code: str | int | None = None
    error_text: str | None = None
    returned_rows: int | None = None
    extra: Mapping[str, Any] | None = None
    succeeded: bool = True
    #: the lineage engine's inputs (session for #temp tables, the session's current database)
    session_id: str | None = None
    default_database: str | None = None
    default_schema: str | None = None

    def defect(self) -> str | None:
        if self.query_text is None or not str(self.query_text).strip():
            return "empty_query_text"
        if _unencodable(self.query_text):
            return "non_utf8_query_text"
        if self.start_time is None or self.end_time is None:
            return "missing_time"
        if self.end_time < self.start_time:
            return "end_before_start"
        return None

    def label(self) -> str:
        return f"query {self.query_id or '(no id)'}"

    def to_event(self) -> dict[str, Any]:
        """``QueryLogEntry.to_dict()``."""
        return query_log_entry(
            start_time=self.start_time,  # type: ignore[arg-type]  # defect() checked
            end_time=self.end_time,  # type: ignore[arg-type]
            query_text=str(self.query_text),
            query_id=self.query_id,
            user=self.user,
            error_code=self.error_code,
            error_text=self.error_text,
            returned_rows=self.returned_rows,
            extra=self.extra,
        )

    def lineage_row(self) -> dict[str, Any]:
        """The lineage engine's input for this statement."""
        return {
            "query_text": self.query_text,
            "query_id": self.query_id,
            "start_time": self.start_time,
            "user": self.user,
            "default_database": self.default_database,
            "default_schema": self.default_schema,
            "session_id": self.session_id,
        }


def table_events(
    records: Iterable[TableRecord], skips: Skips, *, only_freshness_and_volume: bool = False,
    include_volume: bool = True,
) -> Iterator[dict[str, Any]]:
    """Metadata events for the records Monte Carlo can take; the others are skipped and counted."""
    for record in records:
        defect = record.defect()
        if defect:
            skips.skip(defect, f"table {record.label()}")
            continue
        yield record.to_event(only_freshness_and_volume=only_freshness_and_volume, include_volume=include_volume)


def representable(queries: Iterable[QueryRecord], skips: Skips) -> Iterator[QueryRecord]:
    """The statements Monte Carlo can take; the others are skipped and counted."""
    for query in queries:
        defect = query.defect()
        if defect:
            skips.skip(defect, query.label())
            continue
        yield query


# ---------------------------------------------------------------------------------------------
# Lineage policy: column stripping and catalog spelling, written once
# ---------------------------------------------------------------------------------------------

def strip_column_lineage(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop column mappings (``column_lineage=False``): table lineage never expires in Monte
    Carlo, column lineage does after 10 days, so some users send tables only."""
    for event in events:
        event.pop("fields", None)
    return events


def restore_catalog_names(
    events: list[dict[str, Any]], records: Iterable[TableRecord], renamed: Mapping[str, TableRecord] | None = None,
) -> list[dict[str, Any]]:
    """Give lineage events the catalog's spelling of tables and columns (the engine folds unquoted
    identifiers by the dialect's rule; a catalog that keeps case, SQLite's ``"Order Items"`` or PostgreSQL's quoted
    names, must match the metadata push). ``renamed`` maps a name the statement used in place of
    a table (view lineage's placeholders) to that table. Names the catalog does not know (another
    database's tables) keep the engine's spelling; asset ids are local references and stay.

    A name the catalog holds exactly is kept; otherwise the one catalog name equal to it but for
    case is used, and where the catalog has several (Snowflake ``"orders"`` beside ``ORDERS``,
    BigQuery's case-sensitive tables) the engine's spelling, which follows the dialect's rules,
    is left alone rather than guessed.
    """
    records = list(records)
    exact = {(r.database, r.schema, r.name): r for r in records}
    folded: dict[tuple[str, str, str], list[TableRecord]] = {}
    for r in records:
        folded.setdefault((r.database.lower(), r.schema.lower(), r.name.lower()), []).append(r)
    placeholders = {k.lower(): r for k, r in (renamed or {}).items()}
    by_asset: dict[str, TableRecord] = {}

    def find(parts: tuple[str, str, str]) -> TableRecord | None:
        record = exact.get(parts)
        if record is None:
            candidates = folded.get((parts[0].lower(), parts[1].lower(), parts[2].lower()), [])
            record = candidates[0] if len(candidates) == 1 else None
        return record

    def ref(r: dict[str, Any], *, destination: bool = False) -> None:
        parts = (str(r.get("database") or ""), str(r.get("schema") or ""), str(r.get("name") or ""))
        record = (placeholders.get(parts[2].lower()) if destination else None) or find(parts)
        if record is None:
            return
        r.update(database=record.database, schema=record.schema, name=record.name, type=record.type)
        if r.get("asset_id"):
            by_asset[r["asset_id"]] = record

    def column(record: TableRecord | None, name: str) -> str:
        if record is None or any(f[0] == name for f in record.fields):
            return name
        same = [f[0] for f in record.fields if f[0].lower() == name.lower()]
        return same[0] if len(same) == 1 else name

    for event in events:
        ref(event["destination"], destination=True)
        for source in event["sources"]:
            ref(source)
        destination = by_asset.get(event["destination"].get("asset_id", ""))
        for f in event.get("fields") or []:
            f["name"] = column(destination, f["name"])
            for sf in f["source_fields"]:
                sf["field_name"] = column(by_asset.get(sf["asset_id"]), sf["field_name"])
    return events


def engine_lineage(
    rows: Iterable[Mapping[str, Any]], *, dialect: str, resource_type: str, column_lineage: bool = True,
    **options: Any,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Lineage events (and the engine's stats) parsed from statements by
    :mod:`monte_carlo_push_provider.lineage` (imports sqlglot: call it inside ``collect``)."""
    try:
        from monte_carlo_push_provider.lineage import build_lineage_manifest
    except ImportError as exc:
        raise RuntimeError(
            "lineage from query history needs the SQL lineage engine (monte_carlo_push_provider.lineage, "
            f"which needs sqlglot), and it cannot be imported ({exc}); install the provider with its "
            "lineage dependencies"
        ) from exc
    manifest, stats = build_lineage_manifest(rows, dialect=dialect, resource_type=resource_type, **options)
    events = manifest["events"]  # the engine spells names by the dialect's case rules
    if not column_lineage:
        strip_column_lineage(events)
    return events, stats.as_dict()


# ---------------------------------------------------------------------------------------------
# View lineage from the catalog: a view's definition parsed like any CREATE VIEW, written once
# ---------------------------------------------------------------------------------------------

# One dotted part of a name: bare, "quoted", `quoted` or [quoted] (quotes doubled inside).
_NAME_PART = r'(?:"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|[^\s."`\[\]();]+)'
# The whole CREATE statement some catalogs keep (SQLite's sqlite_schema.sql, Snowflake's
# VIEW_DEFINITION, SHOW CREATE TABLE output): what comes before the view's name, and the name.
_CREATE_VIEW = re.compile(
    rf"^\s*create\b(?P<head>[^;]*?\bview\s+(?:if\s+not\s+exists\s+)?)"
    rf"(?P<name>{_NAME_PART}(?:\s*\.\s*{_NAME_PART})*)",
    re.IGNORECASE | re.DOTALL,
)
_CREATE = re.compile(r"^\s*create\b", re.IGNORECASE)
#: stats.skipped key of a view the catalog shows no definition of
NO_VIEW_DEFINITION = "no_view_definition"


def view_statement(record: TableRecord, placeholder: str) -> str | None:
    """The statement the lineage engine parses for one view, or None when the catalog has no text.

    The view is always named ``placeholder`` (a plain identifier, so no dialect's quoting or case
    rules matter) and :func:`view_lineage` puts the catalog's name back: the text's own name may be
    stale (Snowflake keeps the ``CREATE`` as written through an ``ALTER VIEW ... RENAME``) or
    spelled otherwise than the catalog. Whole ``CREATE VIEW`` statements get the placeholder in
    place of their name; the bare query most catalogs keep (``information_schema.views``,
    ``pg_get_viewdef``, BigQuery, Unity Catalog, Hive) becomes ``CREATE VIEW <placeholder> AS
    <query>``.
    """
    text = (record.view_query or "").strip().rstrip(";").strip()
    if not text:
        return None
    match = _CREATE_VIEW.match(text)
    if match:
        return f"{text[:match.start('name')]}{placeholder}{text[match.end('name'):]}"
    if _CREATE.match(text):
        return text  # a CREATE that is not recognisably a view's: the engine says what it is
    return f"CREATE VIEW {placeholder} AS {text}"


def view_lineage(
    records: Sequence[TableRecord],
    skips: Skips,
    *,
    dialect: str,
    resource_type: str,
    column_lineage: bool = True,
    context: Callable[[TableRecord], tuple[str | None, str | None]] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Table and column lineage of every view among ``records`` (tables and views of a catalog, as
    a warehouse's metadata collector reads them), parsed from the views' definitions by the
    lineage engine (imports sqlglot: call it inside ``collect``).

    Every record's columns are the engine's schema, so ``SELECT *`` and unqualified columns in a
    join resolve; names come out spelled as the catalog spells them (:func:`restore_catalog_names`),
    so they equal the metadata push's. ``context(view)`` is the (database, schema) unqualified
    names in the view's text resolve in (default: the view's own). A view without text is counted
    as ``no_view_definition``; one the engine cannot parse (or that runs over its size or time
    cap) as ``unparseable_view_definition`` (``too_large_…``, ``timed_out_…``) in the collector's
    skips: one warning per defect, every view counted, the rest still collected. Records Monte
    Carlo cannot take (:meth:`TableRecord.defect`) are skipped and counted as the metadata push
    skips them.
    """
    kept = []
    for record in records:
        defect = record.defect()
        if defect:
            skips.skip(defect, f"{record.type.lower()} {record.label()}")
        else:
            kept.append(record)
    records = kept
    views = [r for r in records if r.type == "VIEW"]
    placeholders: dict[str, TableRecord] = {}
    rows = []
    for number, view in enumerate(views):
        placeholder = f"mcpp_view_{number}"
        statement = view_statement(view, placeholder)
        if statement is None:
            # information_schema.views shows the text only to the view's owner on some databases
            # (PostgreSQL, MySQL); a secure view's text only to its owner role on Snowflake
            skips.skip(NO_VIEW_DEFINITION, f"view {view.label()}")
            continue
        database, schema = context(view) if context is not None else (view.database, view.schema)
        placeholders[placeholder] = view
        rows.append({"query_text": statement, "query_id": placeholder,
                     "default_database": database, "default_schema": schema})

    def skipped(row: Any, defect: str, detail: str) -> None:
        first = (detail.strip().splitlines() or [defect])[0][:300]
        skips.skip(f"{defect}_view_definition", f"view {placeholders[row.query_id].label()}: {first}")

    events: list[dict[str, Any]] = []
    stats: dict[str, Any] = {}
    if rows:
        # names only: lineage needs no types, and a warehouse's type text (STRUCT<...>, Hive's
        # map<string,array<int>>) is not always a type the engine's parser reads
        engine_schema = {f"{r.database}.{r.schema}.{r.name}": dict.fromkeys((f[0] for f in r.fields), "")
                         for r in records if r.fields}
        events, stats = engine_lineage(
            rows, dialect=dialect, resource_type=resource_type, column_lineage=column_lineage,
            schema=engine_schema, on_skip=skipped,
        )
        restore_catalog_names(events, records, placeholders)
        for event in events:
            # the destination's id is the placeholder's; no field refers to it (fields belong to
            # the destination), so it becomes the view's name: the same on every run
            destination = event["destination"]
            if destination.get("asset_id"):
                destination["asset_id"] = ".".join((destination["database"], destination["schema"], destination["name"]))
        events.sort(key=lambda e: (e["destination"]["database"], e["destination"]["schema"], e["destination"]["name"]))
    return events, {**stats, "views": len(views)}


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> None:
    """Refuse a parameter value outside ``allowed``, naming the parameter and the choices (operators
    call this in ``__init__``, so a wrong value fails the DAG at parse time)."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


def check_positive(name: str, value: float, *, minimum: float = 1) -> None:
    """Refuse a count (or size) below ``minimum``, naming the parameter."""
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


# ---------------------------------------------------------------------------------------------
# Tags: an extra that never costs the metadata
# ---------------------------------------------------------------------------------------------

TagMap = dict[str, str | None]


def is_refusal(exc: BaseException) -> bool:
    """True when ``exc`` says the object is not there or not visible, or a privilege is missing
    (the words :func:`explain_access_error` reads); anything else (network, timeouts) is not."""
    lowered = f"{type(exc).__name__} {exc}".lower()
    return any(word in lowered for word in (*_MISSING_WORDS, *_GRANT_WORDS))


class TagSources:
    """The tag sources one metadata collection read, and those it could not.

    Tags are what users filter on in Monte Carlo, but the tables are what monitors need: a tag
    source the role cannot read (a missing grant, a view this edition or stand-in lacks) costs the
    tags only. The first such source is logged as one warning naming the grant (``hint``); every
    one is counted in the manifest's ``stats["tags"]["unavailable"]``. Any other error (network,
    timeout) propagates as it is, like every other read.
    """

    def __init__(self, logger: logging.Logger, hint: str) -> None:
        self._log = logger
        self.hint = hint
        self.read_sources: list[str] = []
        self.unavailable: list[str] = []
        self.tagged_tables = 0

    def read(self, source: str, read: Callable[[], dict[Any, TagMap]]) -> dict[Any, TagMap]:
        """``read()`` (table key -> tags), or ``{}`` when ``source`` refuses us."""
        try:
            tags = read()
        except Exception as exc:
            if not is_refusal(exc):
                raise
            if not self.unavailable:
                self._log.warning(
                    "tags not collected: %s cannot be read (%s); the metadata is pushed without tags "
                    "(counted in the manifest's stats.tags.unavailable). %s, or set collect_tags=False",
                    source, _first_line(exc), self.hint,
                )
            self.unavailable.append(source)
            return {}
        self.read_sources.append(source)
        return tags

    def apply(self, records: Iterable[TableRecord], tags: Mapping[Any, TagMap], key: Callable[[TableRecord], Any]) -> None:
        """Set each record's tags from ``tags`` (records without tags keep theirs)."""
        for record in records:
            found = tags.get(key(record))
            if found:
                record.tags = {**(record.tags or {}), **found}
                self.tagged_tables += 1

    def as_stats(self) -> dict[str, Any]:
        return {"tagged_tables": self.tagged_tables, "sources": len(self.read_sources), "unavailable": self.unavailable}


# ---------------------------------------------------------------------------------------------
# When the warehouse refuses: the collect side's checkpoint
# ---------------------------------------------------------------------------------------------

CHECKPOINT_WAREHOUSE = "checkpoint 0 (warehouse access)"


class WarehouseAccessError(AirflowFailException):
    """The warehouse refused the collector: an object that does not exist, a missing grant, or a
    TLS failure. The message names what was being read, the grant and the fix; a task retry would
    meet the same refusal, so Airflow fails the task at once."""


@dataclass(frozen=True)
class AccessHints:
    """What a warehouse's collector module tells a user when the warehouse refuses it."""

    warehouse: str
    #: the object (database, catalog, view) is not there, or not visible to this user/role
    missing: str
    #: the statement needs a privilege the user/role lacks
    grant: str
    #: the TLS handshake failed
    tls: str
    #: where the grants are documented
    doc: str


# Specific phrases only: "ssl" alone would also match e.g. a connection string's sslmode.
_TLS_WORDS = (
    "sslerror", "ssl error", "[ssl", "ssl:", "ssl routines", "certificate verify", "wrong version number",
    "handshake", "tlsv1", "self signed certificate", "self-signed certificate",
)
_MISSING_WORDS = (
    "does not exist", "not found", "notfound", "no such", "unknown database", "table_or_view_not_found",
    "schema_not_found", "catalog_not_found", "no_such_catalog", "nosuchobjectexception",
)
_GRANT_WORDS = (
    "permission denied", "access denied", "insufficient privileges", "insufficient_permissions",
    "not authorized", "permission_denied", "forbidden", "unauthorized",
)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


def explain_access_error(exc: BaseException, hints: AccessHints, target: str) -> WarehouseAccessError | None:
    """A checkpointed message for a warehouse refusal, or None when ``exc`` is something else
    (which then propagates as it is: a network blip stays retryable)."""
    raw = _first_line(exc)
    lowered = f"{type(exc).__name__} {exc}".lower()
    reading = f" while reading {target}" if target else ""
    if any(word in lowered for word in _TLS_WORDS):
        fix = f"TLS to {hints.warehouse} failed{reading}. {hints.tls}"
    elif any(word in lowered for word in _MISSING_WORDS):
        # Snowflake and Unity Catalog say "does not exist" for objects the role may not see, too.
        fix = (f"{hints.warehouse} says the object does not exist or is not visible to this user{reading}. "
               f"{hints.missing}")
    elif any(word in lowered for word in _GRANT_WORDS):
        fix = f"{hints.warehouse} refused a privilege{reading}. {hints.grant}"
    else:
        return None
    return WarehouseAccessError(f"{CHECKPOINT_WAREHOUSE}: {fix} Grants: {hints.doc}. ({type(exc).__name__}: {raw})")


# ---------------------------------------------------------------------------------------------
# The collector interface
# ---------------------------------------------------------------------------------------------


@dataclass
class Collection:
    """What one ``collect`` call produced: the events, and the manifest's descriptive keys.

    ``events`` may be a generator (query logs, lineage over a window): the operator consumes it
    into manifest parts of bounded size, so the window never sits in memory at once. ``stats``
    may be filled while it is consumed; it is read after."""

    events: Iterable[dict[str, Any]]
    #: extra manifest keys (``database``, ``databases``, ``source``, ``region`` …)
    info: dict[str, Any] = field(default_factory=dict)
    #: counters for the summary line and ``manifest["stats"]`` (besides ``skipped``)
    stats: dict[str, Any] = field(default_factory=dict)
    #: what was read, for the summary log line
    what: str = ""
    #: metadata only: the part of the warehouse this collection read in full (``{"database": …,
    #: "schemas": [patterns] | None, "exclude_schemas": [patterns] | None}``), or a list of them,
    #: one per database read; declared by collectors that read a whole scope; the manifest then
    #: says whether it is ``complete`` (no skipped rows), which the push operator's dropped-table
    #: cleanup requires. ``None`` or ``[]``: nothing declared.
    scope: dict[str, Any] | list[dict[str, Any]] | None = None


class Collector(ABC):
    """One kind of collection (metadata, lineage or query logs) from one warehouse.

    Subclasses hold the warehouse's policy and call its SQL; the base operator makes the source
    (hook, client, log root), the window, the manifest and the summary line.
    """

    kind: ClassVar[str]
    #: ``resource_type`` of metadata / lineage manifests, ``log_type`` of query-log manifests
    flavour: str
    #: how to explain the warehouse's refusals (None: raise its errors as they are)
    access_hints: ClassVar[AccessHints | None] = None

    def __init__(self, *, fetch_size: int = 10_000) -> None:
        # Parameters are validated once, by the operator at DAG-parse time (check_choice).
        self.fetch_size = fetch_size
        self.skips = Skips(logging.getLogger(type(self).__module__))
        #: what is being read right now (``database SALES``), named by access errors
        self.target = ""

    def explain(self, exc: BaseException) -> WarehouseAccessError | None:
        """The checkpointed message for ``exc`` if it is the warehouse refusing us."""
        if self.access_hints is None:
            return None
        return explain_access_error(exc, self.access_hints, self.target)

    @abstractmethod
    def collect(self, source: Any, window: tuple[datetime, datetime] | None) -> Collection:
        """Read the warehouse; ``window`` is ``[start, end)`` for lineage and query logs."""
