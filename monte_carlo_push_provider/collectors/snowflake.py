"""Snowflake's SQL and the normalisation of its rows: metadata, query logs and lineage.

Every function takes a DB-API connection (``SnowflakeHook().get_conn()``) and streams rows with
``fetchmany``. Nothing here imports the Snowflake connector: the operator module imports this one
at DAG-parse time.

Where each kind of event comes from:

=================  ==============================================  ======================
what               source                                          latency
=================  ==============================================  ======================
metadata           ``<db>.INFORMATION_SCHEMA.TABLES`` / ``COLUMNS``  none
                   (one query each per database)
metadata, account  ``SNOWFLAKE.ACCOUNT_USAGE.TABLES`` / ``COLUMNS``  up to 90 minutes
                   (one query each for the whole account)
tags               ``ACCOUNT_USAGE.TAG_REFERENCES``                   up to 2 hours
                   (one query for the whole collection)
query logs         ``ACCOUNT_USAGE.QUERY_HISTORY``                    up to 45 minutes
lineage            ``ACCOUNT_USAGE.ACCESS_HISTORY`` (Enterprise)      up to 3 hours
lineage, Standard  ``ACCOUNT_USAGE.QUERY_HISTORY`` SQL, parsed by      up to 45 minutes
                   :mod:`monte_carlo_push_provider.lineage`
=================  ==============================================  ======================
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from monte_carlo_push_provider.collectors.base import (
    AccessHints,
    Collection,
    Collector,
    QueryRecord,
    TableRecord,
    TagSources,
    as_count,
    engine_lineage,
    representable,
    table_events,
    to_utc,
)
from monte_carlo_push_provider.collectors.common import (
    NameFilter,
    check_memory,
    iter_dicts,
    normalize_table_type,
    quote_identifier,
    quote_qualified,
)
from monte_carlo_push_provider.manifest import lineage_asset_ref, lineage_event

log = logging.getLogger(__name__)

RESOURCE_TYPE = "snowflake"
LOG_TYPE = "snowflake"
DEFAULT_ACCOUNT_USAGE = ("SNOWFLAKE", "ACCOUNT_USAGE")

#: View latencies Snowflake documents; the defaults of the collectors' ``lag``.
QUERY_HISTORY_LATENCY = timedelta(minutes=45)
ACCESS_HISTORY_LATENCY = timedelta(hours=3)
ACCOUNT_USAGE_TABLES_LATENCY = timedelta(minutes=90)

#: Databases never collected unless named explicitly: the shared, read-only system database.
SYSTEM_DATABASES = frozenset({"SNOWFLAKE"})
LINEAGE_SOURCES = ("auto", "access_history", "query_history")
DEFAULT_CONN_ID = "snowflake_default"
#: What a role needs to read object tags (the warning when it cannot names it).
TAGS_GRANT = (
    "TAG_REFERENCES needs GRANT IMPORTED PRIVILEGES ON DATABASE SNOWFLAKE (or the GOVERNANCE_VIEWER "
    "database role) for the connection's role"
)

Name = tuple[str, str, str]

# ---------------------------------------------------------------------------------------------
# SQL. ``{db}`` / ``{au}`` are filled with quote_identifier / quote_qualified output only; every
# value is a bind parameter (pyformat, the connector's default paramstyle).
# ---------------------------------------------------------------------------------------------

SHOW_DATABASES = "SHOW DATABASES"

# Snowflake lists views in TABLES too, so the FULL JOIN equals a LEFT JOIN there; it is written as
# a FULL JOIN so a view that only VIEWS shows (fakesnow, our stand-in, omits views from TABLES)
# is still collected. One query per database, never one per schema or table.
DATABASE_TABLES = """
SELECT COALESCE(t.TABLE_SCHEMA, v.TABLE_SCHEMA) AS TABLE_SCHEMA,
       COALESCE(t.TABLE_NAME, v.TABLE_NAME) AS TABLE_NAME,
       COALESCE(t.TABLE_TYPE, 'VIEW') AS TABLE_TYPE,
       t.ROW_COUNT, t.BYTES, COALESCE(t.CREATED, v.CREATED) AS CREATED, t.LAST_ALTERED,
       COALESCE(t.COMMENT, v.COMMENT) AS COMMENT,
       {view_definition} AS VIEW_DEFINITION
FROM {db}.INFORMATION_SCHEMA.TABLES AS t
FULL OUTER JOIN {db}.INFORMATION_SCHEMA.VIEWS AS v
  ON v.TABLE_SCHEMA = t.TABLE_SCHEMA AND v.TABLE_NAME = t.TABLE_NAME
WHERE COALESCE(t.TABLE_SCHEMA, v.TABLE_SCHEMA) <> 'INFORMATION_SCHEMA'
ORDER BY 1, 2
"""
DATABASE_COLUMNS = """
SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COMMENT
FROM {db}.INFORMATION_SCHEMA.COLUMNS
WHERE TABLE_SCHEMA <> 'INFORMATION_SCHEMA'
ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION
"""

# ACCOUNT_USAGE keeps dropped objects (DELETED is set); only live ones are sent.
ACCOUNT_TABLES = """
SELECT t.TABLE_CATALOG, t.TABLE_SCHEMA, t.TABLE_NAME, t.TABLE_TYPE, t.ROW_COUNT, t.BYTES,
       t.CREATED, t.LAST_ALTERED, t.COMMENT, {view_definition} AS VIEW_DEFINITION
FROM {au}.TABLES AS t
LEFT JOIN {au}.VIEWS AS v
  ON v.TABLE_CATALOG = t.TABLE_CATALOG AND v.TABLE_SCHEMA = t.TABLE_SCHEMA
 AND v.TABLE_NAME = t.TABLE_NAME AND v.DELETED IS NULL
WHERE t.DELETED IS NULL AND t.TABLE_SCHEMA <> 'INFORMATION_SCHEMA'{database_clause}
ORDER BY 1, 2, 3
"""
ACCOUNT_COLUMNS = """
SELECT TABLE_CATALOG, TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COMMENT
FROM {au}.COLUMNS
WHERE DELETED IS NULL AND TABLE_SCHEMA <> 'INFORMATION_SCHEMA'{database_clause}
ORDER BY TABLE_CATALOG, TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION
"""

# Object tags set on tables and views (DOMAIN 'TABLE' covers both; column tags carry a
# COLUMN_NAME and are left out). ACCOUNT_USAGE rather than <db>.INFORMATION_SCHEMA.TAG_REFERENCES:
# that one is a table function of a single object (TAG_REFERENCES('<db>.<schema>.<t>', 'table')),
# i.e. one statement per table, where this is one statement per collection. The price is the view's
# latency (up to 2 hours) and that only direct assignments are rows here (a tag set on a schema or
# database and inherited by its tables is not). Dropped objects keep their rows (OBJECT_DELETED).
TAG_REFERENCES = """
SELECT OBJECT_DATABASE, OBJECT_SCHEMA, OBJECT_NAME, TAG_DATABASE, TAG_SCHEMA, TAG_NAME, TAG_VALUE
FROM {au}.TAG_REFERENCES
WHERE DOMAIN = 'TABLE' AND COLUMN_NAME IS NULL AND OBJECT_DELETED IS NULL{database_clause}
ORDER BY 1, 2, 3, 4, 5, 6
"""

# Windowed on END_TIME: a query belongs to the window it finished in. It has then finished before
# the window closed, so after the view's latency its row is final, and consecutive half-open
# windows count every query exactly once. A START_TIME window would read long queries while still
# running (or miss them for good).
QUERY_HISTORY = """
SELECT QUERY_ID, QUERY_TEXT, START_TIME, END_TIME, USER_NAME, ROLE_NAME, WAREHOUSE_NAME,
       WAREHOUSE_SIZE, QUERY_TAG, EXECUTION_STATUS, ERROR_CODE, ERROR_MESSAGE, BYTES_SCANNED,
       ROWS_PRODUCED
FROM {au}.QUERY_HISTORY
WHERE END_TIME >= %(start)s AND END_TIME < %(end)s
ORDER BY END_TIME, QUERY_ID
"""

# Most of ACCESS_HISTORY is reads; only rows that modified something carry lineage.
ACCESS_HISTORY = """
SELECT QUERY_ID, QUERY_START_TIME, OBJECTS_MODIFIED, DIRECT_OBJECTS_ACCESSED
FROM {au}.ACCESS_HISTORY
WHERE QUERY_START_TIME >= %(start)s AND QUERY_START_TIME < %(end)s
  AND ARRAY_SIZE(OBJECTS_MODIFIED) > 0
ORDER BY QUERY_START_TIME, QUERY_ID
"""

# Standard edition: the statements that can write, for the SQL lineage engine. Reads cannot
# produce lineage and are most of the history, so they are left in Snowflake.
QUERY_HISTORY_FOR_LINEAGE = """
SELECT QUERY_ID, QUERY_TEXT, DATABASE_NAME, SCHEMA_NAME, START_TIME, SESSION_ID, USER_NAME
FROM {au}.QUERY_HISTORY
WHERE END_TIME >= %(start)s AND END_TIME < %(end)s
  AND EXECUTION_STATUS = 'SUCCESS'
  AND QUERY_TYPE NOT IN ('SELECT', 'SHOW', 'DESCRIBE', 'USE', 'ALTER_SESSION', 'COMMIT',
                         'BEGIN_TRANSACTION', 'ROLLBACK', 'GRANT', 'REVOKE', 'EXPLAIN',
                         'GET_FILES', 'LIST_FILES', 'PUT_FILES', 'REMOVE_FILES')
ORDER BY START_TIME, QUERY_ID
"""


# ---------------------------------------------------------------------------------------------
# Names and values
# ---------------------------------------------------------------------------------------------


def split_object_name(name: str, *, parts: int = 3, resolve_unquoted: bool = False) -> tuple[str, ...] | None:
    """Split a Snowflake dotted name into its parts, honouring double quotes.

    ``DB."My ""odd"" schema".T`` → ``('DB', 'My "odd" schema', 'T')``. ACCESS_HISTORY names
    unquoted parts as Snowflake resolved them (already upper-case), so they are kept as they are;
    ``resolve_unquoted=True`` applies Snowflake's rule for names a user typed (unquoted → upper).
    Returns None when the name does not have exactly ``parts`` parts.
    """
    out: list[str] = []
    i, n = 0, len(name)
    while i <= n:
        if i < n and name[i] == '"':
            j, buf = i + 1, []
            while j < n:
                if name[j] == '"':
                    if j + 1 < n and name[j + 1] == '"':
                        buf.append('"')
                        j += 2
                        continue
                    break
                buf.append(name[j])
                j += 1
            else:
                return None  # unterminated quote
            out.append("".join(buf))
            i = j + 1
            if i < n and name[i] != ".":
                return None
        else:
            j = name.find(".", i)
            j = n if j < 0 else j
            raw = name[i:j].strip()
            if not raw:
                return None
            out.append(raw.upper() if resolve_unquoted else raw)
            i = j
        i += 1  # skip the dot (or step past the end)
    return tuple(out) if len(out) == parts else None


def account_usage_parts(value: str | Sequence[str]) -> tuple[str, str]:
    """``"SNOWFLAKE.ACCOUNT_USAGE"`` (Snowflake identifier rules) or ``("DB", "SCHEMA")`` as given."""
    if isinstance(value, str):
        parts = split_object_name(value, parts=2, resolve_unquoted=True)
        if parts is None:
            raise ValueError(
                f"account_usage_schema must be <database>.<schema> like SNOWFLAKE.ACCOUNT_USAGE, got {value!r}"
            )
        return parts[0], parts[1]
    db, schema = value
    return str(db), str(schema)


#: Snowflake returns TIMESTAMP_LTZ / TZ values aware (every ACCOUNT_USAGE and INFORMATION_SCHEMA
#: timestamp is LTZ). A naive value is a TIMESTAMP_NTZ: that only happens when the views are read
#: through a copy or a view of one's own, and Snowflake's guidance for such copies is to make them
#: in a UTC session, so NTZ is read as UTC: the template's one conversion.
as_utc = to_utc


def _json(value: Any) -> Any:
    """VARIANT / ARRAY / OBJECT columns arrive as JSON text from the Python connector."""
    if isinstance(value, (str, bytes, bytearray)):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


# ---------------------------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------------------------


def list_databases(conn: Any, database_filter: NameFilter) -> list[str]:
    """The databases ``SHOW DATABASES`` lists that pass the filter (``SNOWFLAKE`` never does)."""
    cur = conn.cursor()
    try:
        cur.execute(SHOW_DATABASES)
        names = [row["name"] for row in iter_dicts(cur)]
    finally:
        cur.close()
    # sorted: SHOW DATABASES order is not stable, and manifests should be reproducible
    return sorted(n for n in names if n not in SYSTEM_DATABASES and database_filter(n))


def _table_from_row(row: Mapping[str, Any], database: str) -> TableRecord:
    table_type = normalize_table_type(row["table_type"])
    is_table = table_type == "TABLE"
    return TableRecord(
        database=database,
        schema=row["table_schema"],
        name=row["table_name"],
        type=table_type,
        # Views have no row count or bytes; Snowflake reports NULL for them anyway.
        row_count=as_count(row["row_count"]) if is_table else None,
        byte_count=as_count(row["bytes"]) if is_table else None,
        created_on=as_utc(row["created"]),
        last_update_time=as_utc(row["last_altered"]),
        description=row["comment"] or None,
        view_query=row["view_definition"] or None,
    )


def _column(row: Mapping[str, Any]) -> tuple[str, str, str | None]:
    return (row["column_name"], row["data_type"], row["comment"] or None)


def collect_database_metadata(
    conn: Any,
    database: str,
    *,
    schema_filter: NameFilter,
    only_freshness_and_volume: bool = False,
    fetch_size: int = 10_000,
    tables_so_far: int = 0,
) -> Iterator[TableRecord]:
    """Tables and views of one database: one query on its INFORMATION_SCHEMA.TABLES (views
    joined in) and, unless ``only_freshness_and_volume``, one on its INFORMATION_SCHEMA.COLUMNS.

    ``tables_so_far`` (tables already collected into the same manifest) feeds the memory check.
    """
    db = quote_identifier(database)
    view_definition = "NULL" if only_freshness_and_volume else "v.VIEW_DEFINITION"
    tables: dict[tuple[str, str], TableRecord] = {}
    cur = conn.cursor()
    try:
        cur.execute(DATABASE_TABLES.format(db=db, view_definition=view_definition))
        for row in iter_dicts(cur, fetch_size):
            if schema_filter(row["table_schema"]):
                tables[(row["table_schema"], row["table_name"])] = _table_from_row(row, database)
        # Warn before the part that grows with columns (and before events are built) if the whole
        # manifest is unlikely to fit; the estimate is per table with a typical column count.
        check_memory(
            tables_so_far + len(tables), what=f"Snowflake metadata collection (through {database})"
        )
        if not only_freshness_and_volume and tables:
            cur.execute(DATABASE_COLUMNS.format(db=db))
            for row in iter_dicts(cur, fetch_size):
                t = tables.get((row["table_schema"], row["table_name"]))
                if t is not None:
                    t.fields.append(_column(row))
    finally:
        cur.close()
    log.info("%s: %d tables and views", database, len(tables))
    # pop as we go: a table's values and its finished event are never both held for all tables
    for key in list(tables):
        yield tables.pop(key)


def collect_account_metadata(
    conn: Any,
    *,
    account_usage: tuple[str, str] = DEFAULT_ACCOUNT_USAGE,
    database: str | None = None,
    database_filter: NameFilter | None = None,
    schema_filter: NameFilter | None = None,
    only_freshness_and_volume: bool = False,
    fetch_size: int = 10_000,
) -> Iterator[TableRecord]:
    """Tables and views of the whole account from ACCOUNT_USAGE.TABLES and COLUMNS: one query
    each, whatever the number of databases. The views lag up to 90 minutes behind.

    ``database`` narrows both queries in Snowflake (a bind parameter); ``database_filter`` and
    ``schema_filter`` (patterns) are applied to the rows.
    """
    au = quote_qualified(*account_usage)
    params: dict[str, Any] = {}
    database_clause = ""
    if database is not None:
        database_clause = " AND t.TABLE_CATALOG = %(database)s"
        params["database"] = database
    database_filter = database_filter or NameFilter()
    schema_filter = schema_filter or NameFilter()
    view_definition = "NULL" if only_freshness_and_volume else "v.VIEW_DEFINITION"

    def wanted(db: str, schema: str) -> bool:
        if database is None and (db in SYSTEM_DATABASES or not database_filter(db)):
            return False
        return schema_filter(schema)

    tables: dict[tuple[str, str, str], TableRecord] = {}
    cur = conn.cursor()
    try:
        cur.execute(ACCOUNT_TABLES.format(au=au, view_definition=view_definition, database_clause=database_clause), params)
        for row in iter_dicts(cur, fetch_size):
            if wanted(row["table_catalog"], row["table_schema"]):
                key = (row["table_catalog"], row["table_schema"], row["table_name"])
                tables[key] = _table_from_row(row, row["table_catalog"])
        check_memory(len(tables), what="Snowflake account-wide metadata collection")
        if not only_freshness_and_volume and tables:
            cur.execute(
                ACCOUNT_COLUMNS.format(au=au, database_clause=database_clause.replace("t.", "")), params
            )
            for row in iter_dicts(cur, fetch_size):
                t = tables.get((row["table_catalog"], row["table_schema"], row["table_name"]))
                if t is not None:
                    t.fields.append(_column(row))
    finally:
        cur.close()
    log.info("account: %d tables and views", len(tables))
    for key in list(tables):
        yield tables.pop(key)


def read_table_tags(
    conn: Any,
    *,
    account_usage: tuple[str, str] = DEFAULT_ACCOUNT_USAGE,
    database: str | None = None,
    fetch_size: int = 10_000,
) -> dict[Name, dict[str, str | None]]:
    """Tags of tables and views, ``(database, schema, name) -> {tag: value}``, from
    ``ACCOUNT_USAGE.TAG_REFERENCES`` (one query; ``database`` narrows it in Snowflake).

    The key is the tag's name (what Monte Carlo users filter on); a table carrying two tags of the
    same name from different schemas gets both under their qualified names
    (``GOVERNANCE.TAGS.COST_CENTER``) rather than one silently replacing the other.
    """
    au = quote_qualified(*account_usage)
    params: dict[str, Any] = {}
    database_clause = ""
    if database is not None:
        database_clause = " AND OBJECT_DATABASE = %(database)s"
        params["database"] = database
    found: dict[Name, list[tuple[str, str, str, str | None]]] = {}
    cur = conn.cursor()
    try:
        cur.execute(TAG_REFERENCES.format(au=au, database_clause=database_clause), params)
        for row in iter_dicts(cur, fetch_size):
            key = (row["object_database"], row["object_schema"], row["object_name"])
            found.setdefault(key, []).append(
                (row["tag_database"], row["tag_schema"], row["tag_name"], row["tag_value"])
            )
    finally:
        cur.close()
    out: dict[Name, dict[str, str | None]] = {}
    for key, tags in found.items():
        names = [t[2] for t in tags]
        out[key] = {
            (".".join(t[:3]) if names.count(t[2]) > 1 else t[2]): (None if t[3] is None else str(t[3])) for t in tags
        }
    return out


#: What Snowflake's refusals mean (docs/snowflake.md#grants).
ACCESS_HINTS = AccessHints(
    warehouse="Snowflake",
    missing=(
        "Check the database name (unquoted names are upper-case), and that the connection's role can "
        "see it: GRANT USAGE ON DATABASE <db> TO ROLE <role>; GRANT USAGE ON ALL SCHEMAS IN DATABASE <db> "
        "TO ROLE <role>. ACCOUNT_USAGE views (QUERY_HISTORY, ACCESS_HISTORY, TABLES) need "
        "GRANT IMPORTED PRIVILEGES ON DATABASE SNOWFLAKE TO ROLE <role>; ACCESS_HISTORY also needs "
        "Enterprise edition (use source='auto' or 'query_history' on Standard)."
    ),
    grant="GRANT USAGE on the database and its schemas, and IMPORTED PRIVILEGES on SNOWFLAKE for ACCOUNT_USAGE.",
    tls=(
        "Check the connection's account/host; behind a proxy or with a private CA set REQUESTS_CA_BUNDLE "
        "to its certificate (an 'SSL wrong version number' error means the host does not speak TLS)."
    ),
    doc="docs/snowflake.md#grants",
)

class SnowflakeMetadataCollector(Collector):
    """Tables and views of one database, of the databases a filter lets through, or of the whole
    account from ACCOUNT_USAGE (one query each for tables and columns)."""

    access_hints = ACCESS_HINTS
    kind: ClassVar[str] = "metadata"
    flavour = RESOURCE_TYPE

    def __init__(
        self,
        *,
        database: str | None = None,
        database_filter: NameFilter | None = None,
        schema_filter: NameFilter | None = None,
        only_freshness_and_volume: bool = False,
        account_usage: bool = False,
        account_usage_schema: str | Sequence[str] = ".".join(DEFAULT_ACCOUNT_USAGE),
        collect_tags: bool = True,
        fetch_size: int = 10_000,
    ) -> None:
        super().__init__(fetch_size=fetch_size)
        self.collect_tags = collect_tags
        self.tag_sources = TagSources(log, TAGS_GRANT)
        self.tags: dict[Name, dict[str, str | None]] = {}
        self.database = database or None
        self.database_filter = database_filter or NameFilter()
        self.schema_filter = schema_filter or NameFilter()
        self.only_freshness_and_volume = only_freshness_and_volume
        self.account_usage = account_usage
        self.au = account_usage_parts(account_usage_schema)

    def collect(self, source: Any, window: tuple[datetime, datetime] | None = None) -> Collection:
        mode = "freshness and volume" if self.only_freshness_and_volume else "full schema"
        events: list[dict[str, Any]] = []
        conn = source.get_conn()
        try:
            if self.account_usage:
                self._read_tags(conn)
                self.target = "{}.{}.TABLES / COLUMNS".format(*self.au)
                log.info("reading %s.%s TABLES/COLUMNS (%s)", *self.au, mode)
                records = collect_account_metadata(
                    conn, account_usage=self.au, database=self.database, database_filter=self.database_filter,
                    schema_filter=self.schema_filter, only_freshness_and_volume=self.only_freshness_and_volume,
                    fetch_size=self.fetch_size,
                )
                events.extend(self._events(records))
                names = [self.database] if self.database else sorted({e["metadata"]["database"] for e in events})
            else:
                names = [self.database] if self.database else list_databases(conn, self.database_filter)
                log.info("reading the INFORMATION_SCHEMA of %d database(s) (%s): %s", len(names), mode, names)
                if names:
                    self._read_tags(conn)
                for name in names:
                    self.target = f"database {name}"
                    records = collect_database_metadata(
                        conn, name, schema_filter=self.schema_filter,
                        only_freshness_and_volume=self.only_freshness_and_volume,
                        fetch_size=self.fetch_size, tables_so_far=len(events),
                    )
                    events.extend(self._events(records))
        finally:
            conn.close()
        info: dict[str, Any] = {"database": self.database} if self.database else {"databases": names}
        info["only_freshness_and_volume"] = self.only_freshness_and_volume
        stats = {"tags": self.tag_sources.as_stats()} if self.collect_tags and not self.only_freshness_and_volume else {}
        return Collection(events, info=info, stats=stats, what=self.database or f"{len(names)} databases")

    def _read_tags(self, conn: Any) -> None:
        """Tags of every table collected, read once before the tables are (one query); only for
        the full schema (``to_event`` drops tags from freshness/volume runs anyway)."""
        if not self.collect_tags or self.only_freshness_and_volume:
            return
        self.target = "{}.{}.TAG_REFERENCES".format(*self.au)
        log.info("reading %s for object tags", self.target)
        self.tags = self.tag_sources.read(self.target, lambda: read_table_tags(
            conn, account_usage=self.au, database=self.database, fetch_size=self.fetch_size,
        ))

    def _tagged(self, records: Iterator[TableRecord]) -> Iterator[TableRecord]:
        for record in records:
            self.tag_sources.apply([record], self.tags, lambda r: (r.database, r.schema, r.name))
            yield record

    def _events(self, records: Iterator[TableRecord]) -> Iterator[dict[str, Any]]:
        return table_events(self._tagged(records), self.skips, only_freshness_and_volume=self.only_freshness_and_volume)


# ---------------------------------------------------------------------------------------------
# Query logs
# ---------------------------------------------------------------------------------------------


_FAILED_STATUSES = frozenset({"FAIL", "FAILED_WITH_ERROR", "INCIDENT"})


def iter_query_history(
    conn: Any,
    start: datetime,
    end: datetime,
    *,
    account_usage: tuple[str, str] = DEFAULT_ACCOUNT_USAGE,
    fetch_size: int = 10_000,
) -> Iterator[QueryRecord]:
    """The queries that finished in ``[start, end)``, as read (the collector skips what Monte
    Carlo cannot take)."""
    cur = conn.cursor()
    try:
        cur.execute(QUERY_HISTORY.format(au=quote_qualified(*account_usage)), {"start": start, "end": end})
        for row in iter_dicts(cur, fetch_size):
            status = row["execution_status"]
            failed = bool(row["error_code"]) or (status or "").upper() in _FAILED_STATUSES
            yield QueryRecord(
                query_text=None if row["query_text"] is None else str(row["query_text"]),
                start_time=as_utc(row["start_time"]),
                end_time=as_utc(row["end_time"]),
                query_id=row["query_id"],
                user=row["user_name"],
                error_code=str(row["error_code"]) if row["error_code"] not in (None, "") else None,
                error_text=row["error_message"] if failed else None,
                returned_rows=as_count(row["rows_produced"]),
                succeeded=not failed,
                extra={
                    "bytes_scanned": as_count(row["bytes_scanned"]),
                    "warehouse_name": row["warehouse_name"] or None,
                    "warehouse_size": row["warehouse_size"] or None,
                    "role_name": row["role_name"] or None,
                    # QUERY_TAG is '' when unset; an empty tag says nothing
                    "query_tag": row["query_tag"] or None,
                    "execution_status": status,
                },
            )
    finally:
        cur.close()


class SnowflakeQueryLogCollector(Collector):
    """``ACCOUNT_USAGE.QUERY_HISTORY`` of the window, as query logs (``log_type`` snowflake)."""

    access_hints = ACCESS_HINTS
    kind: ClassVar[str] = "query_logs"
    flavour = LOG_TYPE

    def __init__(
        self, *, account_usage_schema: str | Sequence[str] = ".".join(DEFAULT_ACCOUNT_USAGE), fetch_size: int = 10_000
    ) -> None:
        super().__init__(fetch_size=fetch_size)
        self.au = account_usage_parts(account_usage_schema)

    def collect(self, source: Any, window: tuple[datetime, datetime] | None) -> Collection:
        assert window is not None
        start, end = window
        self.target = "{}.{}.QUERY_HISTORY".format(*self.au)
        log.info("reading %s.%s.QUERY_HISTORY for queries that ended in [%s, %s)", *self.au, start, end)
        collection = Collection([], stats={"failed": 0}, what="QUERY_HISTORY")
        collection.events = self._events(source, start, end, collection)  # streamed into manifest parts
        return collection

    def _events(self, source: Any, start: datetime, end: datetime, collection: Collection) -> Iterator[dict[str, Any]]:
        conn = source.get_conn()
        try:
            queries = iter_query_history(conn, start, end, account_usage=self.au, fetch_size=self.fetch_size)
            for query in representable(queries, self.skips):
                collection.stats["failed"] += not query.succeeded
                yield query.to_event()
        finally:
            conn.close()
        collection.what = f"QUERY_HISTORY ({collection.stats['failed']} failed)"


# ---------------------------------------------------------------------------------------------
# Lineage from ACCESS_HISTORY
# ---------------------------------------------------------------------------------------------

# ACCESS_HISTORY objectDomain values that are tables or views in Monte Carlo. Stages, streams,
# functions and procedures are not lineage assets and are dropped.
_TABLE_DOMAINS = frozenset(
    {
        "TABLE",
        "VIEW",
        "SECURE VIEW",
        "MATERIALIZED VIEW",
        "EXTERNAL TABLE",
        "DYNAMIC TABLE",
        "ICEBERG TABLE",
        "EVENT TABLE",
        "HYBRID TABLE",
    }
)

@dataclass
class LineageStats:
    rows: int = 0
    modified_objects: int = 0
    skipped_objects: int = 0  # not a table/view, or a name that does not split into 3 parts
    edges: int = 0
    column_edges: int = 0
    events: int = 0


@dataclass
class _Destination:
    type: str
    sources: dict[Name, str] = field(default_factory=dict)  # name -> TABLE / VIEW
    columns: dict[str, set[tuple[Name, str]]] = field(default_factory=dict)


def _object(obj: Any, stats: LineageStats) -> tuple[Name, str] | None:
    """(name, TABLE/VIEW) of an ACCESS_HISTORY object, or None if it is not a table or view."""
    if not isinstance(obj, Mapping):
        return None
    domain = " ".join(str(obj.get("objectDomain") or "").upper().split())
    name = obj.get("objectName")
    if domain not in _TABLE_DOMAINS or not isinstance(name, str):
        stats.skipped_objects += 1
        return None
    parts = split_object_name(name)
    if parts is None:
        stats.skipped_objects += 1
        log.warning("lineage: skipped %s %r: not a <database>.<schema>.<name> name", domain, name)
        return None
    return (parts[0], parts[1], parts[2]), normalize_table_type(domain)


def _column_sources(column: Mapping[str, Any]) -> list[Any]:
    # directSources name what the statement read (views included, which is the lineage Monte
    # Carlo draws); baseSources only resolve those views to their tables, so they are the
    # fallback for a column whose direct sources Snowflake did not record.
    direct = column.get("directSources")
    if isinstance(direct, list) and direct:
        return direct
    base = column.get("baseSources")
    return base if isinstance(base, list) else []


def collect_access_history_lineage(
    conn: Any,
    start: datetime,
    end: datetime,
    *,
    account_usage: tuple[str, str] = DEFAULT_ACCOUNT_USAGE,
    fetch_size: int = 10_000,
    column_lineage: bool = True,
    stats: LineageStats | None = None,
) -> list[dict[str, Any]]:
    """Lineage events (one per destination table, sources and column mappings merged over all
    queries of the window) from ACCESS_HISTORY.OBJECTS_MODIFIED."""
    stats = stats if stats is not None else LineageStats()
    graph: dict[Name, _Destination] = {}
    cur = conn.cursor()
    try:
        cur.execute(ACCESS_HISTORY.format(au=quote_qualified(*account_usage)), {"start": start, "end": end})
        for row in iter_dicts(cur, fetch_size):
            stats.rows += 1
            _add_access_row(graph, _json(row["objects_modified"]), _json(row["direct_objects_accessed"]), stats)
    finally:
        cur.close()
    return _lineage_events(graph, column_lineage, stats)


def _add_access_row(graph: dict[Name, _Destination], modified: Any, accessed: Any, stats: LineageStats) -> None:
    for obj in modified if isinstance(modified, list) else []:
        stats.modified_objects += 1
        target = _object(obj, stats)
        if target is None:
            continue
        dest_name, dest_type = target
        dest = graph.get(dest_name)
        table_sources: dict[Name, str] = {}
        column_edges: list[tuple[str, Name, str]] = []
        columns = obj.get("columns")
        for column in columns if isinstance(columns, list) else []:
            if not isinstance(column, Mapping) or not column.get("columnName"):
                continue
            for source in _column_sources(column):
                found = _object(source, stats)
                if found is None:
                    continue
                src_name, src_type = found
                table_sources[src_name] = src_type
                if source.get("columnName"):
                    column_edges.append((str(column["columnName"]), src_name, str(source["columnName"])))
        if not table_sources:
            # No column-level record (e.g. a DELETE … USING, or an INSERT Snowflake could not map
            # per column): the objects the statement read are its table-level sources.
            for source in accessed if isinstance(accessed, list) else []:
                found = _object(source, stats)
                if found is not None and found[0] != dest_name:
                    table_sources[found[0]] = found[1]
        table_sources.pop(dest_name, None)  # UPDATE t SET a = b reads itself: no self-edge
        if not table_sources:
            continue
        if dest is None:
            dest = graph[dest_name] = _Destination(type=dest_type)
        dest.sources.update(table_sources)
        for dest_column, src_name, src_column in column_edges:
            if src_name != dest_name:
                dest.columns.setdefault(dest_column, set()).add((src_name, src_column))


def _asset_id(name: Name) -> str:
    # a local id the event's column mappings refer to; quoting makes it unique for any name
    return quote_qualified(*name)


def _lineage_events(graph: dict[Name, _Destination], column_lineage: bool, stats: LineageStats) -> list[dict[str, Any]]:
    events = []
    for dest_name in sorted(graph):
        dest = graph[dest_name]
        sources = [
            lineage_asset_ref(
                type=dest_type, name=src[2], database=src[0], schema=src[1], asset_id=_asset_id(src)
            )
            for src, dest_type in sorted(dest.sources.items())
        ]
        fields = None
        if column_lineage and dest.columns:
            fields = {
                column: [(_asset_id(src), src_column) for src, src_column in sorted(upstream)]
                for column, upstream in sorted(dest.columns.items())
            }
            stats.column_edges += sum(len(v) for v in fields.values())
        stats.edges += len(sources)
        events.append(
            lineage_event(
                lineage_asset_ref(
                    type=dest.type,
                    name=dest_name[2],
                    database=dest_name[0],
                    schema=dest_name[1],
                    asset_id=_asset_id(dest_name),
                ),
                sources,
                fields,
            )
        )
    stats.events = len(events)
    return events


# ---------------------------------------------------------------------------------------------
# Lineage from QUERY_HISTORY (Standard edition)
# ---------------------------------------------------------------------------------------------


def iter_queries_for_lineage(
    conn: Any,
    start: datetime,
    end: datetime,
    *,
    account_usage: tuple[str, str] = DEFAULT_ACCOUNT_USAGE,
    fetch_size: int = 10_000,
) -> Iterator[dict[str, Any]]:
    """QUERY_HISTORY rows of the window, shaped for ``lineage_manifest_from_queries``."""
    cur = conn.cursor()
    try:
        cur.execute(
            QUERY_HISTORY_FOR_LINEAGE.format(au=quote_qualified(*account_usage)), {"start": start, "end": end}
        )
        for row in iter_dicts(cur, fetch_size):
            if not row["query_text"]:
                continue
            yield {
                "query_id": row["query_id"],
                "query_text": row["query_text"],
                "default_database": row["database_name"] or None,
                "default_schema": row["schema_name"] or None,
                "start_time": as_utc(row["start_time"]),
                "session_id": None if row["session_id"] is None else str(row["session_id"]),
                "user": row["user_name"],
            }
    finally:
        cur.close()


def is_missing_object_error(exc: BaseException) -> bool:
    """Snowflake's "does not exist or not authorized" (002003): the view is not there for us."""
    return getattr(exc, "errno", None) == 2003 or "does not exist" in str(exc)



class SnowflakeLineageCollector(Collector):
    """Table and column lineage of the window.

    ``source``: ``access_history`` (Enterprise edition: ``ACCESS_HISTORY.OBJECTS_MODIFIED``),
    ``query_history`` (Standard edition: ``QUERY_HISTORY`` SQL parsed by the lineage engine, names
    folded to Snowflake's upper case), or ``auto``: ACCESS_HISTORY, falling back to QUERY_HISTORY
    when the view cannot be read (it does not exist for this role / edition).
    """

    access_hints = ACCESS_HINTS
    kind: ClassVar[str] = "lineage"
    flavour = RESOURCE_TYPE

    def __init__(
        self,
        *,
        source: str = "auto",
        column_lineage: bool = True,
        account_usage_schema: str | Sequence[str] = ".".join(DEFAULT_ACCOUNT_USAGE),
        fetch_size: int = 10_000,
    ) -> None:
        super().__init__(fetch_size=fetch_size)
        self.source = source
        self.column_lineage = column_lineage
        self.au = account_usage_parts(account_usage_schema)

    def collect(self, source: Any, window: tuple[datetime, datetime] | None) -> Collection:
        assert window is not None
        start, end = window
        conn = source.get_conn()
        try:
            if self.source in ("auto", "access_history"):
                stats = LineageStats()
                self.target = "{}.{}.ACCESS_HISTORY".format(*self.au)
                log.info("reading %s.%s.ACCESS_HISTORY for [%s, %s)", *self.au, start, end)
                try:
                    events = collect_access_history_lineage(
                        conn, start, end, account_usage=self.au, fetch_size=self.fetch_size,
                        column_lineage=self.column_lineage, stats=stats,
                    )
                except Exception as exc:
                    if self.source == "access_history" or not is_missing_object_error(exc):
                        raise
                    log.warning(
                        "ACCESS_HISTORY cannot be read (%s); it needs Enterprise edition and "
                        "IMPORTED PRIVILEGES on the SNOWFLAKE database. Deriving lineage from "
                        "QUERY_HISTORY SQL instead", str(exc).splitlines()[0],
                    )
                else:
                    log.info("lineage from ACCESS_HISTORY: %s", stats)
                    return Collection(
                        events, info={"source": "access_history"}, stats=asdict(stats), what="ACCESS_HISTORY"
                    )
            self.target = "{}.{}.QUERY_HISTORY".format(*self.au)
            log.info("reading %s.%s.QUERY_HISTORY for lineage in [%s, %s)", *self.au, start, end)
            events, engine_stats = engine_lineage(
                iter_queries_for_lineage(conn, start, end, account_usage=self.au, fetch_size=self.fetch_size),
                # No fold: the engine already spells names as Snowflake stores them (unquoted
                # upper-case, quoted kept), as the metadata push does.
                dialect="snowflake", resource_type=RESOURCE_TYPE, column_lineage=self.column_lineage,
            )
        finally:
            conn.close()
        log.info("lineage from QUERY_HISTORY: %s", engine_stats)
        return Collection(events, info={"source": "query_history"}, stats=engine_stats, what="QUERY_HISTORY SQL")
