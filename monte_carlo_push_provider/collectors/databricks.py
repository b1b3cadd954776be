"""Databricks (Unity Catalog) SQL and the normalisation of its rows: metadata from each catalog's
``information_schema``, lineage from ``system.access.table_lineage`` / ``column_lineage``, query
logs from ``system.query.history``. Everything runs through a DB-API connection from Airflow's
``DatabricksSqlHook`` (the operators in ``operators/databricks.py`` make the hook).

Queries per run:

==================  =====================================================================
metadata            ``system.information_schema.catalogs`` once (unless catalogs are named
                    exactly), then per catalog one query on ``<catalog>.information_schema.tables``,
                    one on ``.views`` and one on ``.columns`` (views and columns are skipped
                    for freshness/volume-only runs) — never one per table, except:
volume_source       ``"information_schema"`` (default): freshness from ``tables.last_altered``,
                    no extra query, no byte count. ``"describe_detail"``: one
                    ``DESCRIBE DETAIL`` per Delta table (bytes + last data commit) — see
                    :func:`describe_detail_sql` for the cost. ``None``: schema only.
tags                one query per catalog on ``<catalog>.information_schema.table_tags``
                    (full-schema runs, ``collect_tags``)
lineage             one query on ``table_lineage`` and one on ``column_lineage`` for the window
query logs          one query on ``system.query.history`` for the window
==================  =====================================================================

Identifiers reach SQL text only as the catalog of ``<catalog>.information_schema`` and in
``DESCRIBE DETAIL``; both go through ``quote_qualified(..., quote="`")``. Values (window bounds,
workspace id) are ``:named`` bind parameters.

System-table timestamps: the SQL reads them as ``CAST(col AS TIMESTAMP)``. On Databricks the
columns already are TIMESTAMPs and Spark's optimiser removes the redundant cast (SimplifyCasts),
so pruning is unaffected; the local stand-in stores them as STRING, which the cast also reads.

Stdlib only at import (operators import this module lazily, but keep it cheap regardless).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from monte_carlo_push_provider.collectors.base import (
    AccessHints,
    Collection,
    Collector,
    QueryRecord,
    TableRecord,
    TagSources,
    representable,
    table_events,
    to_utc,
)
from monte_carlo_push_provider.collectors.common import (
    NameFilter,
    check_memory,
    iter_dicts,
    normalize_table_type,
    quote_qualified,
)
from monte_carlo_push_provider.manifest import lineage_asset_ref, lineage_event

log = logging.getLogger(__name__)

RESOURCE_TYPE = "databricks"
LOG_TYPES = ("databricks", "databricks-metastore-sql-warehouse")
VOLUME_SOURCES = ("information_schema", "describe_detail", None)

#: Catalogs excluded by default (``exclude_catalogs=None`` collects them): ``system`` is Databricks' own,
#: ``__databricks_internal`` holds pipeline internals, ``hive_metastore`` has no
#: ``information_schema`` (the legacy metastore), ``samples`` is read-only demo data.
DEFAULT_EXCLUDED_CATALOGS = ("system", "__databricks_internal", "hive_metastore", "samples")

#: System tables are filled asynchronously: Databricks documents query-history records as
#: "typically available within one hour", and lineage has the same order of latency. Reading
#: the data interval shifted back by this much means a run reads rows that have landed.
DEFAULT_SYSTEM_TABLE_LAG = timedelta(hours=1)
DEFAULT_CONN_ID = "databricks_default"

BACKTICK = "`"

# ---------------------------------------------------------------------------------------------
# SQL
# ---------------------------------------------------------------------------------------------

CATALOGS_SQL = """
SELECT catalog_name
FROM system.information_schema.catalogs
ORDER BY catalog_name
"""


# ``{relation}`` is filled only with ``_relation(...)``: backtick-quoted, backticks doubled.
TABLES_SQL = """
SELECT table_schema, table_name, table_type, comment, data_source_format,
       CAST(created AS TIMESTAMP) AS created,
       CAST(last_altered AS TIMESTAMP) AS last_altered
FROM {relation}
WHERE table_schema <> 'information_schema'
ORDER BY table_schema, table_name
"""
# A separate query, not a LEFT JOIN from tables: the stand-in only runs inner equijoins, and one
# more scan of a small view per catalog costs nothing next to the columns query.
VIEWS_SQL = """
SELECT table_schema, table_name, view_definition
FROM {relation}
WHERE table_schema <> 'information_schema'
"""
# ordinal_position is selected only to order by it (the stand-in cannot order by an unselected column).
COLUMNS_SQL = """
SELECT table_schema, table_name, column_name, full_data_type, comment, ordinal_position
FROM {relation}
WHERE table_schema <> 'information_schema'
ORDER BY table_schema, table_name, ordinal_position
"""

# Unity Catalog table tags (key-only tags have an empty tag_value). One scan per catalog beside
# the columns query; a separate query, not a join, for the same reason as VIEWS_SQL.
TABLE_TAGS_SQL = """
SELECT schema_name, table_name, tag_name, tag_value
FROM {relation}
WHERE schema_name <> 'information_schema'
ORDER BY schema_name, table_name, tag_name
"""
#: What a user needs to read table tags (the warning when it cannot names it).
TAGS_GRANT = (
    "information_schema.table_tags shows the tags of tables the user can see: grant USE CATALOG, "
    "USE SCHEMA and SELECT (or BROWSE) on them"
)


def _relation(*parts: str) -> str:
    return quote_qualified(*parts, quote=BACKTICK)


def tables_sql(catalog: str) -> str:
    """Every relation of one catalog. ``last_altered`` is the cheap freshness signal."""
    return TABLES_SQL.format(relation=_relation(catalog, "information_schema", "tables"))


def views_sql(catalog: str) -> str:
    return VIEWS_SQL.format(relation=_relation(catalog, "information_schema", "views"))


def columns_sql(catalog: str) -> str:
    return COLUMNS_SQL.format(relation=_relation(catalog, "information_schema", "columns"))


def table_tags_sql(catalog: str) -> str:
    return TABLE_TAGS_SQL.format(relation=_relation(catalog, "information_schema", "table_tags"))


def read_table_tags(conn: Any, catalog: str, *, fetch_size: int = 10_000) -> dict[tuple[str, str], dict[str, str | None]]:
    """``(schema, table) -> {tag: value}`` of one catalog; a key-only tag (empty value) has value None.

    Its own cursor: a refused statement must leave the catalog's cursor as it was."""
    tags: dict[tuple[str, str], dict[str, str | None]] = {}
    cur = conn.cursor()
    try:
        cur.execute(table_tags_sql(catalog))
        for row in iter_dicts(cur, fetch_size):
            value = row.get("tag_value")
            tags.setdefault((row["schema_name"], row["table_name"]), {})[row["tag_name"]] = (
                None if value in (None, "") else str(value)
            )
    finally:
        cur.close()
    return tags


# ----- DESCRIBE DETAIL: the one statement the local stand-in cannot run -----------------------
#
# Cost: DESCRIBE DETAIL takes exactly one table, so this source runs one statement per Delta
# table (tens to hundreds of milliseconds each on a running warehouse, plus warehouse uptime):
# about 2-8 minutes per 1,000 tables. That is why ``information_schema`` (no extra statement) is
# the default for hourly freshness/volume runs; use ``describe_detail`` when byte counts and
# data-commit times are worth it, e.g. on a daily run or on a narrowed ``schemas`` selection,
# and cap it with ``describe_detail_max_tables``.
# Only Delta tables are described (views, streaming tables' backing views and non-Delta
# formats have no Delta log and fail the statement).


def describe_detail_sql(catalog: str, schema: str, table: str) -> str:
    return "DESCRIBE DETAIL " + _relation(catalog, schema, table)


def describe_detail_volume(row: Mapping[str, Any]) -> tuple[int | None, datetime | None]:
    """``(byte_count, last_update_time)`` from one DESCRIBE DETAIL row (keys lower-cased).

    DESCRIBE DETAIL answers ``format, id, name, description, location, createdAt, lastModified,
    partitionColumns, numFiles, sizeInBytes, properties, minReaderVersion, minWriterVersion,
    …``; it has no row count. ``numFiles`` is not pushed (the metadata event has no place
    for it).
    """
    size = row.get("sizeinbytes")
    return (int(size) if size is not None else None, to_utc(row.get("lastmodified")))


# ----- system tables ---------------------------------------------------------------------------

# DISTINCT: the lineage tables hold one row per read/write event, so an edge a job writes every
# five minutes appears hundreds of times a day. The separate catalog/schema/name columns are
# used rather than *_full_name, which cannot be split safely when a name contains a dot.
TABLE_LINEAGE_SQL = """
SELECT DISTINCT
       source_table_catalog, source_table_schema, source_table_name, source_type,
       target_table_catalog, target_table_schema, target_table_name, target_type
FROM system.access.table_lineage
WHERE CAST(event_time AS TIMESTAMP) >= :start
  AND CAST(event_time AS TIMESTAMP) < :end
  AND source_table_name IS NOT NULL
  AND target_table_name IS NOT NULL
"""

COLUMN_LINEAGE_SQL = """
SELECT DISTINCT
       source_table_catalog, source_table_schema, source_table_name, source_column_name,
       target_table_catalog, target_table_schema, target_table_name, target_column_name
FROM system.access.column_lineage
WHERE CAST(event_time AS TIMESTAMP) >= :start
  AND CAST(event_time AS TIMESTAMP) < :end
  AND source_table_name IS NOT NULL
  AND target_table_name IS NOT NULL
  AND source_column_name IS NOT NULL
  AND target_column_name IS NOT NULL
"""

# end_time, not start_time: a statement only has a final record once it ended, so windows over
# end_time tile with no gap even for statements that run across a window boundary.
QUERY_HISTORY_SQL = """
SELECT statement_id, statement_text, executed_by, execution_status, error_message,
       statement_type, produced_rows, read_rows, read_bytes, total_duration_ms,
       client_application, workspace_id,
       CAST(start_time AS TIMESTAMP) AS start_time,
       CAST(end_time AS TIMESTAMP) AS end_time
FROM system.query.history
WHERE CAST(end_time AS TIMESTAMP) >= :start
  AND CAST(end_time AS TIMESTAMP) < :end
  AND statement_text IS NOT NULL{workspace_filter}
ORDER BY end_time, statement_id
"""
QUERY_HISTORY_WORKSPACE_FILTER = "\n  AND workspace_id = :workspace_id"


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


# Timestamps go through the template's ``to_utc``: naive values are UTC (a SQL warehouse's session
# time zone unless the connection sets ``TIMEZONE``, which docs/databricks.md says to leave alone);
# aware ones (the SEA JSON path attaches ``tzlocal()`` to ``…Z`` strings) are converted.


def _params(start: datetime, end: datetime, **extra: Any) -> dict[str, Any]:
    return {"start": start, "end": end, **extra}


@dataclass
class _Table:
    """A catalog row with what only the volume source decides (freshness, bytes)."""

    record: TableRecord
    data_source_format: str | None
    last_altered: datetime | None


# ---------------------------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------------------------


def list_catalogs(conn: Any, catalog_filter: NameFilter, *, fetch_size: int = 10_000) -> list[str]:
    """Catalog names from ``system.information_schema.catalogs`` that pass the filter."""
    cur = conn.cursor()
    try:
        cur.execute(CATALOGS_SQL)
        names = [row["catalog_name"] for row in iter_dicts(cur, fetch_size)]
    finally:
        cur.close()
    return catalog_filter.select(names)


def collect_metadata(
    conn: Any,
    catalog: str,
    *,
    schema_filter: NameFilter,
    volume_source: str | None = "information_schema",
    only_freshness_and_volume: bool = False,
    describe_detail_max_tables: int | None = None,
    fetch_size: int = 10_000,
    tag_sources: TagSources | None = None,
) -> Iterator[TableRecord]:
    """Every table and view of one catalog whose schema passes ``schema_filter``; with
    ``tag_sources`` (full-schema runs), their Unity Catalog tags too."""
    if volume_source not in VOLUME_SOURCES:
        raise ValueError(f"volume_source must be one of {VOLUME_SOURCES}, got {volume_source!r}")
    cur = conn.cursor()
    try:
        tables: dict[tuple[str, str], _Table] = {}
        cur.execute(tables_sql(catalog))
        for row in iter_dicts(cur, fetch_size):
            if not schema_filter(row["table_schema"]):
                continue
            record = TableRecord(
                database=catalog, schema=row["table_schema"], name=row["table_name"],
                type=normalize_table_type(row["table_type"]), description=row.get("comment") or None,
                created_on=to_utc(row.get("created")),
            )
            tables[(record.schema, record.name)] = _Table(
                record, row.get("data_source_format"), to_utc(row.get("last_altered"))
            )
        check_memory(len(tables), what=f"metadata of catalog {catalog}")
        if not only_freshness_and_volume and tables:
            cur.execute(views_sql(catalog))
            for row in iter_dicts(cur, fetch_size):
                entry = tables.get((row["table_schema"], row["table_name"]))
                if entry is not None:
                    entry.record.view_query = row.get("view_definition") or None
            cur.execute(columns_sql(catalog))
            for row in iter_dicts(cur, fetch_size):
                entry = tables.get((row["table_schema"], row["table_name"]))
                if entry is not None:
                    entry.record.fields.append(
                        (row["column_name"], row["full_data_type"] or "", row.get("comment") or None)
                    )
            if tag_sources is not None:
                tags = tag_sources.read(
                    f"{catalog}.information_schema.table_tags",
                    lambda: read_table_tags(conn, catalog, fetch_size=fetch_size),
                )
                tag_sources.apply((t.record for t in tables.values()), tags, lambda r: (r.schema, r.name))
        if volume_source == "information_schema":
            for t in tables.values():
                t.record.last_update_time = t.last_altered
        elif volume_source == "describe_detail":
            _describe_detail(cur, catalog, tables, describe_detail_max_tables)
    finally:
        cur.close()
    for t in tables.values():
        yield t.record


def _describe_detail(cur: Any, catalog: str, tables: dict[tuple[str, str], _Table], limit: int | None) -> None:
    """One DESCRIBE DETAIL per Delta table (see the cost note above :func:`describe_detail_sql`).

    A table that fails (dropped since the catalog query, no SELECT grant) keeps no volume and the
    run goes on: one bad table must not cost the whole catalog its freshness.
    """
    targets = [
        key for key, t in tables.items()
        if t.record.type == "TABLE" and (t.data_source_format or "DELTA").upper() == "DELTA"
    ]
    if limit is not None and len(targets) > limit:
        log.warning(
            "catalog %s: %d Delta tables, describing the first %d (describe_detail_max_tables)",
            catalog, len(targets), limit,
        )
        targets = targets[:limit]
    failed = 0
    for i, (schema, name) in enumerate(targets, 1):
        try:
            cur.execute(describe_detail_sql(catalog, schema, name))
            row = next(iter_dicts(cur, 1), None)
        except Exception as exc:  # noqa: BLE001 - isolate one table's failure, reported below
            failed += 1
            log.debug("DESCRIBE DETAIL %s.%s.%s failed: %s", catalog, schema, name, exc)
            continue
        if row is not None:
            t = tables[(schema, name)].record
            t.byte_count, t.last_update_time = describe_detail_volume(row)
        if i % 100 == 0:
            log.info("catalog %s: DESCRIBE DETAIL %d/%d tables", catalog, i, len(targets))
    if failed:
        log.warning("catalog %s: DESCRIBE DETAIL failed for %d of %d tables (no volume for them)",
                    catalog, failed, len(targets))


# ---------------------------------------------------------------------------------------------
# Lineage
# ---------------------------------------------------------------------------------------------

_TableKey = tuple[str, str, str]


def _ref(key: _TableKey, native_type: str | None = None, asset_id: str | None = None) -> dict[str, Any]:
    catalog, schema, name = key
    return lineage_asset_ref(
        type=normalize_table_type(native_type), name=name, database=catalog, schema=schema, asset_id=asset_id
    )


def collect_lineage(
    conn: Any,
    start: datetime,
    end: datetime,
    *,
    catalog_filter: NameFilter,
    column_lineage: bool = True,
    fetch_size: int = 10_000,
) -> list[dict[str, Any]]:
    """Lineage events for edges recorded in ``[start, end)`` whose target catalog passes
    ``catalog_filter``: one table-level event per target (all its sources) and, with
    ``column_lineage``, one column-level event per target. Deterministic order."""
    cur = conn.cursor()
    try:
        # target -> source -> source native type; and native types of targets
        table_edges: dict[_TableKey, dict[_TableKey, str | None]] = defaultdict(dict)
        target_types: dict[_TableKey, str | None] = {}
        cur.execute(TABLE_LINEAGE_SQL, _params(start, end))
        for row in iter_dicts(cur, fetch_size):
            target = (row["target_table_catalog"], row["target_table_schema"], row["target_table_name"])
            source = (row["source_table_catalog"], row["source_table_schema"], row["source_table_name"])
            if source == target or not catalog_filter(target[0]):
                continue  # a MERGE reads its own target: not an edge worth drawing
            # DISTINCT still returns one row per (edge, type) pair: first non-null type wins.
            if table_edges[target].get(source) is None:
                table_edges[target][source] = row.get("source_type")
            if target_types.get(target) is None:
                target_types[target] = row.get("target_type")
        column_edges: dict[_TableKey, dict[str, set[tuple[_TableKey, str]]]] = defaultdict(lambda: defaultdict(set))
        if column_lineage:
            cur.execute(COLUMN_LINEAGE_SQL, _params(start, end))
            for row in iter_dicts(cur, fetch_size):
                target = (row["target_table_catalog"], row["target_table_schema"], row["target_table_name"])
                source = (row["source_table_catalog"], row["source_table_schema"], row["source_table_name"])
                if not catalog_filter(target[0]):
                    continue
                column_edges[target][row["target_column_name"]].add((source, row["source_column_name"]))
    finally:
        cur.close()

    events: list[dict[str, Any]] = []
    for target in sorted(table_edges):
        sources = table_edges[target]
        events.append(
            lineage_event(
                _ref(target, target_types.get(target)),
                [_ref(s, sources[s]) for s in sorted(sources)],
            )
        )
    for target in sorted(column_edges):
        columns = column_edges[target]
        source_keys = sorted({s for pairs in columns.values() for s, _ in pairs})
        # asset ids are local to the event; positional ids keep them short and free of
        # characters a hostile name would carry.
        ids = {s: f"s{i}" for i, s in enumerate(source_keys)}
        source_types = table_edges.get(target, {})
        events.append(
            lineage_event(
                _ref(target, target_types.get(target)),
                [_ref(s, source_types.get(s), ids[s]) for s in source_keys],
                {
                    column: [(ids[s], c) for s, c in sorted(columns[column])]
                    for column in sorted(columns)
                },
            )
        )
    return events


# ---------------------------------------------------------------------------------------------
# Query logs
# ---------------------------------------------------------------------------------------------

_EXTRA_KEYS = ("statement_type", "execution_status", "read_rows", "read_bytes", "total_duration_ms",
               "client_application", "workspace_id")


def iter_query_history(
    conn: Any,
    start: datetime,
    end: datetime,
    *,
    workspace_id: str | None = None,
    fetch_size: int = 10_000,
) -> Iterator[QueryRecord]:
    """Every statement that ended in ``[start, end)``, as read."""
    sql = QUERY_HISTORY_SQL.format(workspace_filter=QUERY_HISTORY_WORKSPACE_FILTER if workspace_id else "")
    params = _params(start, end, **({"workspace_id": str(workspace_id)} if workspace_id else {}))
    cur = conn.cursor()
    try:
        cur.execute(sql, params)
        for row in iter_dicts(cur, fetch_size):
            yield query_record(row)
    finally:
        cur.close()


def query_record(row: Mapping[str, Any]) -> QueryRecord:
    """One ``system.query.history`` row (lower-cased keys)."""
    status = (row.get("execution_status") or "").upper()
    start_time = to_utc(row["start_time"])
    failed = status not in ("", "FINISHED")
    return QueryRecord(
        query_text=row["statement_text"],
        start_time=start_time,
        end_time=to_utc(row["end_time"]) or start_time,
        query_id=row.get("statement_id"),
        user=row.get("executed_by"),
        # FAILED / CANCELED is the only error code the table has; the message is error_message.
        error_code=status if failed else None,
        error_text=(row.get("error_message") or None) if failed else None,
        returned_rows=row.get("produced_rows"),
        succeeded=not failed,
        extra={k: _json_safe(row.get(k)) for k in _EXTRA_KEYS},
    )


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # Decimal and the like


# ---------------------------------------------------------------------------------------------
# Collectors: one per kind
# ---------------------------------------------------------------------------------------------


def exact_names(patterns: Sequence[str] | str | None) -> list[str] | None:
    """The names when every include pattern is a plain name (no listing query needed)."""
    names = [patterns] if isinstance(patterns, str) else patterns
    if not names or any(n.startswith("re:") or any(c in n for c in "*?[") for n in names):
        return None
    return list(dict.fromkeys(names))


#: What Databricks' refusals mean (docs/databricks.md#grants).
ACCESS_HINTS = AccessHints(
    warehouse="Databricks",
    missing=(
        "Check the catalog names, and that the principal can see them: GRANT USE CATALOG ON CATALOG <c> "
        "TO <principal>; GRANT USE SCHEMA, SELECT ON CATALOG <c> TO <principal>. System tables need "
        "an account admin to enable the schema and GRANT USE SCHEMA, SELECT ON SCHEMA system.access / "
        "system.query TO <principal>."
    ),
    grant="GRANT USE CATALOG / USE SCHEMA / SELECT on the catalogs read, and SELECT on system.access / system.query.",
    tls="Check the connection's host (the workspace URL, without a path) and any proxy CA bundle.",
    doc="docs/databricks.md#grants",
)

class DatabricksMetadataCollector(Collector):
    """Tables, views and columns (with freshness, and bytes where selected) of Unity Catalog
    catalogs. Plain catalog names skip the listing query (and its grant on
    ``system.information_schema``); exclude patterns still apply to them."""

    access_hints = ACCESS_HINTS
    kind: ClassVar[str] = "metadata"
    flavour = RESOURCE_TYPE

    def __init__(
        self,
        *,
        catalogs: Sequence[str] | str | None = None,
        exclude_catalogs: Sequence[str] | str | None = DEFAULT_EXCLUDED_CATALOGS,
        schema_filter: NameFilter | None = None,
        volume_source: str | None = "information_schema",
        describe_detail_max_tables: int | None = None,
        only_freshness_and_volume: bool = False,
        collect_tags: bool = True,
        fetch_size: int = 10_000,
    ) -> None:
        super().__init__(fetch_size=fetch_size)
        # tags go with the full schema only (to_event drops them from freshness/volume runs)
        self.tag_sources = TagSources(log, TAGS_GRANT) if collect_tags and not only_freshness_and_volume else None
        self.catalogs = catalogs
        self.catalog_filter = NameFilter(catalogs, exclude_catalogs)
        self.schema_filter = schema_filter or NameFilter()
        self.volume_source = volume_source
        self.describe_detail_max_tables = describe_detail_max_tables
        self.only_freshness_and_volume = only_freshness_and_volume

    def collect(self, source: Any, window: tuple[datetime, datetime] | None = None) -> Collection:
        self.target = "system.information_schema.catalogs"
        conn = source.get_conn()
        try:
            exact = exact_names(self.catalogs)
            if exact is not None:
                catalogs = self.catalog_filter.select(exact)
            else:
                catalogs = list_catalogs(conn, self.catalog_filter, fetch_size=self.fetch_size)
            log.info("collecting metadata of %d catalog(s): %s", len(catalogs), ", ".join(catalogs))
            events: list[dict[str, Any]] = []
            for catalog in catalogs:
                self.target = f"catalog {catalog}"
                before = len(events)
                records = collect_metadata(
                    conn, catalog, schema_filter=self.schema_filter, volume_source=self.volume_source,
                    only_freshness_and_volume=self.only_freshness_and_volume,
                    describe_detail_max_tables=self.describe_detail_max_tables, fetch_size=self.fetch_size,
                    tag_sources=self.tag_sources,
                )
                events.extend(
                    table_events(records, self.skips, only_freshness_and_volume=self.only_freshness_and_volume)
                )
                log.info("catalog %s: %d relation(s)", catalog, len(events) - before)
        finally:
            conn.close()
        info: dict[str, Any] = {"catalog": catalogs[0]} if len(catalogs) == 1 else {"catalogs": catalogs}
        stats = {"tags": self.tag_sources.as_stats()} if self.tag_sources is not None else {}
        return Collection(events, info=info, stats=stats, what=", ".join(catalogs) or "no catalogs")


class DatabricksLineageCollector(Collector):
    """Table and column lineage from ``system.access.table_lineage`` / ``column_lineage``: Unity
    Catalog records it, nothing is parsed. Filters apply to the *target* table's catalog."""

    access_hints = ACCESS_HINTS
    kind: ClassVar[str] = "lineage"
    flavour = RESOURCE_TYPE

    def __init__(self, *, catalog_filter: NameFilter | None = None, column_lineage: bool = True,
                 fetch_size: int = 10_000) -> None:
        super().__init__(fetch_size=fetch_size)
        self.catalog_filter = catalog_filter or NameFilter()
        self.column_lineage = column_lineage

    def collect(self, source: Any, window: tuple[datetime, datetime] | None) -> Collection:
        assert window is not None
        self.target = "system.access.table_lineage / column_lineage"
        log.info("reading Unity Catalog lineage recorded in [%s, %s)", window[0].isoformat(), window[1].isoformat())
        conn = source.get_conn()
        try:
            events = collect_lineage(
                conn, *window, catalog_filter=self.catalog_filter, column_lineage=self.column_lineage,
                fetch_size=self.fetch_size,
            )
        finally:
            conn.close()
        return Collection(events, what="system.access lineage")


class DatabricksQueryLogCollector(Collector):
    """Statements from ``system.query.history`` that ended in the window."""

    access_hints = ACCESS_HINTS
    kind: ClassVar[str] = "query_logs"

    def __init__(self, *, log_type: str = "databricks", workspace_id: str | int | None = None,
                 fetch_size: int = 10_000) -> None:
        super().__init__(fetch_size=fetch_size)
        self.flavour = log_type
        self.workspace_id = str(workspace_id) if workspace_id else None

    def collect(self, source: Any, window: tuple[datetime, datetime] | None) -> Collection:
        assert window is not None
        self.target = "system.query.history"
        log.info("reading system.query.history for statements ended in [%s, %s)",
                 window[0].isoformat(), window[1].isoformat())
        return Collection(self._events(source, window), what="system.query.history")  # streamed into parts

    def _events(self, source: Any, window: tuple[datetime, datetime]) -> Iterator[dict[str, Any]]:
        conn = source.get_conn()
        try:
            queries = iter_query_history(conn, *window, workspace_id=self.workspace_id, fetch_size=self.fetch_size)
            for query in representable(queries, self.skips):
                yield query.to_event()
        finally:
            conn.close()
