"""Redshift: catalog and query-history SQL, and the normalisation of their rows.

Everything here goes through a ``RedshiftSQLHook`` (``redshift_connector``) passed in by the
operators; nothing here imports the amazon provider or the connector.

Metadata, per database listed by ``svv_redshift_databases`` (local databases only; a Redshift
connection sees one database, so each gets its own connection)::

    svv_table_info                 volume: rows (estimated_visible_rows), size in 1 MB blocks
    svv_tables + pg_views          tables and views, table comments (remarks), view text
    svv_columns                    columns and column comments (remarks)
    svv_external_schemas/_tables/_columns   Spectrum tables (location, formats, partition keys)

Query logs, for the run's window, selected by ``end_time`` so that each finished query belongs to
exactly one window (a running query is picked up by the window it ends in)::

    sys_query_history + sys_query_text      source="sys" (Serverless, current provisioned clusters)
    stl_query + stl_querytext              source="stl" (provisioned clusters without SYS views)

History rows keep only the first 4,000 characters of a statement; the full text is reassembled
here, in Python, from the text rows in ``sequence`` order. The history's own (blank-padded
``character(4000)``) text is selected only for a query without text rows: it would otherwise
travel once per text row, for nothing. Not with ``LISTAGG``: it caps its result
at 65,535 bytes and is one of the Redshift-only forms below.

Redshift-only SQL
-----------------
This module uses none, on purpose: every statement here also runs on the PostgreSQL stand-in the
tests use (``tests/standins/``), so all of it is exercised through the real hook and connector.
These forms were avoided, and must stay out (or be added to :data:`REDSHIFT_ONLY_SQL` with a
Redshift-only test), because PostgreSQL cannot emulate them:

- ``LISTAGG(...) WITHIN GROUP (ORDER BY ...)`` for query text: replaced by Python reassembly
  (which also has no 64 KB cap).
- ``DATEADD(day, ...)`` with an unquoted date part, ``CONVERT_TIMEZONE``, ``GETDATE()`` in the
  window: the window is bound as parameters instead.
- ``LIKE 'pg\\_temp%'`` escapes: Redshift and PostgreSQL read backslashes in literals differently,
  so system-schema prefixes are filtered in Python.
- joins between leader-node catalog tables (``pg_user``) and system tables: Redshift may reject
  them, so user names are read once with a separate query.

Types: Redshift reports system-view timestamps in UTC without a zone; UTC is attached here.
``character(n)`` columns come back blank-padded; they are right-stripped.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from monte_carlo_push_provider.collectors.base import (
    AccessHints,
    Collection,
    Collector,
    QueryRecord,
    TableRecord,
    as_count,
    engine_lineage,
    representable,
    restore_catalog_names,
    table_events,
    to_utc,
    view_lineage,
)
from monte_carlo_push_provider.collectors.common import (
    NameFilter,
    check_memory,
    iter_cursor,
    normalize_table_type,
)

log = logging.getLogger(__name__)

RESOURCE_TYPE = "redshift"
LOG_TYPE = "redshift"
LINEAGE_DIALECT = "redshift"
#: SYS views show a query a few minutes after it ends (STL tables are flushed on a similar
#: cadence); a window that ends this far in the past has all its queries.
DEFAULT_LAG = timedelta(minutes=10)
SOURCES = ("sys", "stl")
DEFAULT_CONN_ID = "redshift_default"
DEFAULT_EXCLUDED_USERS = ("rdsdb",)  # Redshift's internal user
DEFAULT_SCHEMA = "public"  # the head of Redshift's default search_path
BYTES_PER_BLOCK = 1024 * 1024  # svv_table_info.size counts 1 MB blocks
HISTORY_TEXT_CHARS = 4000  # sys_query_history.query_text / stl_query.querytxt keep this much

#: Redshift-only SQL forms this module needs. Empty by design (see the module docstring): every
#: query below runs unchanged on the PostgreSQL stand-in. Add an entry (name -> SQL) only with a
#: test that runs it against a real cluster.
REDSHIFT_ONLY_SQL: dict[str, str] = {}

#: Schemas Redshift lists in svv_tables/svv_columns that hold no user data (TABLES_SQL and
#: COLUMNS_SQL spell the same list out; the Python check also covers the pg_temp_ prefixes).
SYSTEM_SCHEMAS = frozenset(
    {"pg_catalog", "information_schema", "pg_internal", "pg_automv", "pg_auto_copy", "pg_mv", "pg_s3", "catalog_history"}
)
SYSTEM_SCHEMA_PREFIXES = ("pg_temp_", "pg_toast")
#: Databases svv_redshift_databases may list that are Redshift's own.
SYSTEM_DATABASES = frozenset({"padb_harvest", "template0", "template1", "sys:internal"})

# ---------------------------------------------------------------------------------------------
# SQL. Values are bind parameters (%s, redshift_connector's "format" paramstyle); no identifier
# is ever formatted into these strings: a database is chosen by connecting to it.
# ---------------------------------------------------------------------------------------------

DATABASES_SQL = """
SELECT database_name, database_type
FROM svv_redshift_databases
ORDER BY database_name
"""

EXTERNAL_SCHEMAS_SQL = """
SELECT schemaname, databasename
FROM svv_external_schemas
ORDER BY schemaname
"""

TABLES_SQL = """
SELECT t.table_schema, t.table_name, t.table_type, t.remarks, v.definition
FROM svv_tables AS t
LEFT JOIN pg_views AS v ON v.schemaname = t.table_schema AND v.viewname = t.table_name
WHERE t.table_catalog = %s
  AND t.table_type <> 'EXTERNAL TABLE'
  AND t.table_schema NOT IN ('catalog_history', 'information_schema', 'pg_auto_copy', 'pg_automv', 'pg_catalog', 'pg_internal', 'pg_mv', 'pg_s3')
ORDER BY t.table_schema, t.table_name
"""

# The session's schema: where pg_views leaves names on the search_path unqualified.
CURRENT_SCHEMA_SQL = "SELECT current_schema()"

COLUMNS_SQL = """
SELECT table_schema, table_name, column_name, data_type, character_maximum_length,
       numeric_precision, numeric_scale, remarks
FROM svv_columns
WHERE table_catalog = %s
  AND table_schema NOT IN ('catalog_history', 'information_schema', 'pg_auto_copy', 'pg_automv', 'pg_catalog', 'pg_internal', 'pg_mv', 'pg_s3')
ORDER BY table_schema, table_name, ordinal_position
"""

TABLE_INFO_SQL = """
SELECT "schema", "table", size, tbl_rows, estimated_visible_rows, create_time
FROM svv_table_info
WHERE "database" = %s
"""

EXTERNAL_TABLES_SQL = """
SELECT schemaname, tablename, location, input_format, serialization_lib
FROM svv_external_tables
WHERE redshift_database_name = %s
ORDER BY schemaname, tablename
"""

EXTERNAL_COLUMNS_SQL = """
SELECT schemaname, tablename, columnname, external_type, part_key
FROM svv_external_columns
WHERE redshift_database_name = %s
ORDER BY schemaname, tablename, columnnum
"""

USERS_SQL = "SELECT usesysid, usename FROM pg_user"

# The history is read through a server-side cursor: redshift_connector buffers a whole result
# in the client on execute(), so a 1,000,000-row window would sit in memory at once; FETCH
# FORWARD keeps one fetch_size batch. DECLARE needs a transaction (the connector opens one:
# autocommit is off) and is closed and rolled back after (it only reads). Redshift materialises
# a cursor's result on the leader node (its size cap depends on the node type); the window
# bounds it. The cursor name is a constant: never formatted from input.
DECLARE_CURSOR_SQL = "DECLARE mc_query_history CURSOR FOR "
FETCH_CURSOR_SQL = "FETCH FORWARD {count:d} FROM mc_query_history"
CLOSE_CURSOR_SQL = "CLOSE mc_query_history"
#: The catalog's spelling of the tables lineage names, with their columns. Redshift folds
#: identifiers to lower case, quoted ones too, unless ``enable_case_sensitive_identifier`` is on:
#: then a quoted ``"MixedCase"`` keeps its case in the catalog (as on PostgreSQL). Which applied
#: is a setting the statement text does not show, so the names the engine folded are looked up
#: here case-insensitively. Bounded by the referenced tables: ``{schemas}`` and ``{names}`` become
#: one ``%s`` per lower-cased schema and table name (bound values; a name is never formatted in).
LINEAGE_CATALOG_SQL = """
SELECT t.table_schema, t.table_name, t.table_type, c.column_name
FROM svv_tables AS t
LEFT JOIN svv_columns AS c
  ON c.table_catalog = t.table_catalog AND c.table_schema = t.table_schema AND c.table_name = t.table_name
WHERE t.table_catalog = %s
  AND lower(t.table_schema) IN ({schemas})
  AND lower(t.table_name) IN ({names})
ORDER BY t.table_schema, t.table_name, c.ordinal_position
"""
#: Referenced tables per catalog query: a window names a few dozen, one query; a huge window
#: takes more queries rather than one with tens of thousands of parameters.
LINEAGE_TABLES_PER_QUERY = 500

SYS_QUERIES_SQL = """
SELECT h.query_id, h.session_id, h.transaction_id, h.user_id, h.database_name, h.query_type,
       h.status, h.start_time, h.end_time, h.elapsed_time, h.queue_time, h.execution_time,
       h.returned_rows, h.returned_bytes, h.error_message, h.query_label, h.result_cache_hit,
       CASE WHEN t.query_id IS NULL THEN h.query_text END AS query_text, t.sequence, t.text
FROM sys_query_history AS h
LEFT JOIN sys_query_text AS t ON t.query_id = h.query_id
WHERE h.end_time >= {start} AND h.end_time < {end}
  AND h.status IN ('success', 'failed', 'canceled')
ORDER BY h.start_time, h.query_id, t.sequence
"""

#: The same rows for lineage: only the statements that succeeded, and only what the engine reads
#: (id, session, user, database, times, text); the query-log columns it does not need are NULL,
#: so a row keeps the shape ``_sys_query`` reads. The driver decodes every value in Python, and
#: NULLs cost nothing to decode: the read of a busy hour is about a third of lineage's time.
SYS_LINEAGE_QUERIES_SQL = """
SELECT h.query_id, h.session_id, NULL, h.user_id, h.database_name, NULL,
       h.status, h.start_time, h.end_time, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL,
       CASE WHEN t.query_id IS NULL THEN h.query_text END AS query_text, t.sequence, t.text
FROM sys_query_history AS h
LEFT JOIN sys_query_text AS t ON t.query_id = h.query_id
WHERE h.end_time >= {start} AND h.end_time < {end}
  AND h.status = 'success'
ORDER BY h.start_time, h.query_id, t.sequence
"""

STL_QUERIES_SQL = """
SELECT q.query, q.pid, q.xid, q.userid, q.database, q.starttime, q.endtime, q.aborted, q.label,
       CASE WHEN t.query IS NULL THEN q.querytxt END AS querytxt, t.sequence, t.text
FROM stl_query AS q
LEFT JOIN stl_querytext AS t ON t.query = q.query
WHERE q.endtime >= {start} AND q.endtime < {end}
ORDER BY q.starttime, q.query, t.sequence
"""


# ---------------------------------------------------------------------------------------------
# Small normalisers
# ---------------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A character(n) value without its blank padding; None stays None."""
    if value is None:
        return None
    return str(value).rstrip()


# Redshift system views store UTC as ``timestamp without time zone``: the template's conversion
# (naive -> UTC, not the worker's local zone) is what keeps freshness and query times right.
_utc = to_utc


def _naive_utc(value: datetime) -> datetime:
    # The SYS/STL columns are UTC without zone; a zone-aware parameter would be converted through
    # the session time zone first, so bind the same instant as a naive UTC value.
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def timestamp_literal(value: datetime) -> str:
    """``TIMESTAMP '2026-03-01 09:50:00.000000'``: the window inside ``DECLARE … CURSOR FOR``.

    A literal, not a bind parameter: Redshift does not take parameters in ``DECLARE``. Safe to
    format: the text is made here from a ``datetime`` (digits, ``-``, ``:``, ``.`` and a space),
    never from user input."""
    if not isinstance(value, datetime):
        raise TypeError(f"window bounds must be datetimes, got {type(value).__name__}")
    return f"TIMESTAMP '{_naive_utc(value).strftime('%Y-%m-%d %H:%M:%S.%f')}'"


def iter_server_side(conn: Any, sql: str, fetch_size: int) -> Iterator[tuple[Any, ...]]:
    """The rows of ``sql`` through a server-side cursor, ``fetch_size`` at a time (see
    :data:`DECLARE_CURSOR_SQL`)."""
    count = max(int(fetch_size), 1)
    cur = conn.cursor()
    restore = getattr(conn, "autocommit", False)
    if restore:
        conn.autocommit = False  # DECLARE … CURSOR lives in a transaction
    try:
        cur.execute(DECLARE_CURSOR_SQL + sql)
        while True:
            cur.execute(FETCH_CURSOR_SQL.format(count=count))
            rows = cur.fetchall()
            if rows:
                yield from rows
            if len(rows) < count:
                break
        cur.execute(CLOSE_CURSOR_SQL)
    finally:
        try:
            conn.rollback()  # read only: ends the transaction (and the cursor, if still open)
        finally:
            if restore:
                conn.autocommit = True
            cur.close()


#: Counts arrive as int, or as Decimal for numeric(38,0) columns (svv_table_info rows).
_int = as_count


def is_system_schema(schema: str) -> bool:
    return schema in SYSTEM_SCHEMAS or schema.startswith(SYSTEM_SCHEMA_PREFIXES)


def column_type(data_type: str | None, char_length: Any = None, precision: Any = None, scale: Any = None) -> str:
    """``svv_columns`` type with its size: ``character varying(256)``, ``numeric(12,2)``."""
    base = (_text(data_type) or "unknown").strip()
    if char_length is not None and base in ("character varying", "character", "varchar", "char", "bpchar"):
        return f"{base}({int(char_length)})"
    if precision is not None and base in ("numeric", "decimal"):
        return f"{base}({int(precision)},{int(scale or 0)})"
    return base


# ---------------------------------------------------------------------------------------------
# Connections: one per database
# ---------------------------------------------------------------------------------------------


def connect(hook: Any, database: str | None = None) -> Any:
    """A ``redshift_connector`` connection to ``database`` with ``hook``'s credentials.

    A Redshift session is bound to one database (``svv_table_info`` and ``svv_tables`` show only
    the current one), so the metadata collector opens one connection per database. The hook's
    Airflow connection is copied with another database name: host, user, password, IAM settings
    and extras stay those of the connection the user configured.
    """
    if database is None or database == hook.conn.schema:
        return hook.get_conn()
    clone = type(hook)(redshift_conn_id=hook.redshift_conn_id, aws_conn_id=hook.aws_conn_id)
    connection = copy.copy(hook.conn)
    connection.schema = database
    # RedshiftSQLHook.conn is a cached_property: pinning it makes get_conn() use the copy.
    clone.conn = connection
    return clone.get_conn()


def list_databases(conn: Any, database_filter: NameFilter | None = None) -> list[str]:
    """Local databases, without Redshift's own and without datashare consumers (which cannot be
    connected to for their catalog; collect them on the producer)."""
    cur = conn.cursor()
    try:
        cur.execute(DATABASES_SQL)
        names = []
        for name, database_type in iter_cursor(cur):
            name, database_type = _text(name), (_text(database_type) or "local").lower()
            if not name or name in SYSTEM_DATABASES:
                continue
            if database_type != "local":
                log.info("skipping %s database %s (collect it where it is local)", database_type, name)
                continue
            if database_filter is None or database_filter(name):
                names.append(name)
        return names
    finally:
        cur.close()


# ---------------------------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------------------------


def collect_database_metadata(
    conn: Any,
    database: str,
    *,
    schema_filter: NameFilter,
    only_freshness_and_volume: bool = False,
    include_external: bool = True,
    fetch_size: int = 10_000,
) -> Iterator[TableRecord]:
    """Tables, views and (unless ``only_freshness_and_volume``) Spectrum tables of one database,
    through a connection to that database."""
    cur = conn.cursor()
    try:
        cur.execute(EXTERNAL_SCHEMAS_SQL)
        external_schemas = {_text(s): _text(db) for s, db in iter_cursor(cur, fetch_size)}

        volume: dict[tuple[str, str], tuple[int | None, int | None, datetime | None]] = {}
        cur.execute(TABLE_INFO_SQL, (database,))
        for schema, name, size, tbl_rows, visible_rows, create_time in iter_cursor(cur, fetch_size):
            # estimated_visible_rows leaves out deleted rows not yet vacuumed; tbl_rows counts them.
            rows = _int(visible_rows) if visible_rows is not None else _int(tbl_rows)
            size_blocks = _int(size)
            volume[(_text(schema) or "", _text(name) or "")] = (
                rows,
                None if size_blocks is None else size_blocks * BYTES_PER_BLOCK,
                _utc(create_time),
            )

        tables: dict[tuple[str, str], TableRecord] = {}
        cur.execute(TABLES_SQL, (database,))
        for schema, name, table_type, remarks, definition in iter_cursor(cur, fetch_size):
            schema, name = _text(schema) or "", _text(name) or ""
            if is_system_schema(schema) or schema in external_schemas or not schema_filter(schema):
                continue
            rows, size_bytes, created = volume.get((schema, name), (None, None, None))
            tables[(schema, name)] = TableRecord(
                database=database, schema=schema, name=name, type=normalize_table_type(_text(table_type)),
                description=remarks or None, view_query=definition, created_on=created,
                row_count=rows, byte_count=size_bytes,
            )
        check_memory(len(tables), what=f"Redshift metadata of {database}")

        if not only_freshness_and_volume:
            cur.execute(COLUMNS_SQL, (database,))
            for schema, name, column, data_type, length, precision, scale, remarks in iter_cursor(cur, fetch_size):
                table = tables.get((_text(schema) or "", _text(name) or ""))
                if table is not None:
                    table.fields.append((_text(column) or "", column_type(data_type, length, precision, scale),
                                         remarks or None))
        yield from tables.values()

        # Spectrum tables carry no volume in Redshift: only their schema is worth a push.
        if include_external and external_schemas and not only_freshness_and_volume:
            yield from _external_tables(cur, database, external_schemas, schema_filter, fetch_size)
    finally:
        cur.close()


def _external_tables(
    cur: Any, database: str, external_schemas: Mapping[str | None, str | None], schema_filter: NameFilter,
    fetch_size: int,
) -> Iterator[TableRecord]:
    tables: dict[tuple[str, str], dict[str, Any]] = {}
    cur.execute(EXTERNAL_TABLES_SQL, (database,))
    for schema, name, location, input_format, serde in iter_cursor(cur, fetch_size):
        schema, name = _text(schema) or "", _text(name) or ""
        if not schema_filter(schema):
            continue
        tags = {
            "external_database": external_schemas.get(schema),
            "location": _text(location),
            "input_format": _text(input_format),
            "serialization_lib": _text(serde),
        }
        tables[(schema, name)] = {"tags": {k: v for k, v in tags.items() if v}, "fields": [], "partitions": []}
    cur.execute(EXTERNAL_COLUMNS_SQL, (database,))
    for schema, name, column, external_type, part_key in iter_cursor(cur, fetch_size):
        table = tables.get((_text(schema) or "", _text(name) or ""))
        if table is None:
            continue
        column = _text(column) or ""
        table["fields"].append((column, _text(external_type) or "unknown"))
        if part_key:
            table["partitions"].append((int(part_key), column))
    for (schema, name), table in tables.items():
        tags = dict(table["tags"])
        if table["partitions"]:
            tags["partition_keys"] = ",".join(c for _, c in sorted(table["partitions"]))
        yield TableRecord(
            database=database, schema=schema, name=name,
            type="TABLE",  # Spectrum tables hold data: TABLE for Monte Carlo
            fields=table["fields"], tags=tags or None,
        )


# ---------------------------------------------------------------------------------------------
# Query history
# ---------------------------------------------------------------------------------------------


@dataclass
class RedshiftQuery:
    """One finished statement from the query history, with its full text."""

    query_id: str
    session_id: str | None
    transaction_id: int | None
    user: str | None
    database: str | None
    query_type: str | None
    status: str
    start_time: datetime
    end_time: datetime
    text: str
    elapsed_time: int | None = None
    queue_time: int | None = None
    execution_time: int | None = None
    returned_rows: int | None = None
    returned_bytes: int | None = None
    error_message: str | None = None
    label: str | None = None
    result_cache_hit: bool | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "success"


def reassemble(chunks: Iterable[str | None], *, unescape_newlines: bool = False) -> str:
    """Join text rows (already in ``sequence`` order) into the statement.

    Rows are ``character(n)``: blank padding exists only after the statement's end, so every row
    but the last is kept verbatim (a row may end in a space that belongs to the statement: the
    ``RTRIM`` per row of the usual ``LISTAGG`` recipe turns ``FROM t`` split as ``FROM |t`` into
    ``FROMt``) and only the last is right-stripped. ``stl_querytext`` writes newlines as the two
    characters ``\\n``; ``unescape_newlines`` turns them back.
    """
    parts = [c or "" for c in chunks]
    if not parts:
        return ""
    parts[-1] = parts[-1].rstrip()
    text = "".join(parts)
    if unescape_newlines:
        text = text.replace("\\n", "\n")
    return text


def load_users(conn: Any) -> dict[int, str]:
    cur = conn.cursor()
    try:
        cur.execute(USERS_SQL)
        return {int(uid): _text(name) or "" for uid, name in iter_cursor(cur)}
    finally:
        cur.close()


def iter_queries(
    conn: Any,
    *,
    start: datetime,
    end: datetime,
    source: str = "sys",
    user_filter: NameFilter | None = None,
    fetch_size: int = 10_000,
    for_lineage: bool = False,
) -> Iterator[RedshiftQuery]:
    """Finished statements whose end time is in ``[start, end)``, each with its full text, in
    start-time order. Streams: one history row group in memory at a time. ``for_lineage``: only
    the statements that succeeded, without the columns only query logs use (SYS views)."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    users = load_users(conn)
    window = {"start": timestamp_literal(start), "end": timestamp_literal(end)}
    if source == "sys":
        template = SYS_LINEAGE_QUERIES_SQL if for_lineage else SYS_QUERIES_SQL
        sql, chunk_at, build = template.format(**window), 18, _sys_query
    else:
        sql, chunk_at, build = STL_QUERIES_SQL.format(**window), 10, _stl_query
    for head, chunks in _group(iter_server_side(conn, sql, fetch_size), key=0, chunk_at=chunk_at):
        query = build(head, chunks, users)
        if user_filter is None or user_filter(query.user or ""):
            yield query


def _group(rows: Iterator[tuple[Any, ...]], *, key: int, chunk_at: int) -> Iterator[tuple[tuple[Any, ...], list[str | None]]]:
    """Consecutive rows of one query (the history row joined with each text row) -> the history
    row and the text rows in order. ``chunk_at`` is the index of the sequence column."""
    current: tuple[Any, ...] | None = None
    chunks: list[str | None] = []
    for row in rows:
        if current is None or row[key] != current[key]:
            if current is not None:
                yield current, chunks
            current, chunks = row, []
        if row[chunk_at] is not None:
            chunks.append(row[chunk_at + 1])
    if current is not None:
        yield current, chunks


def _sys_query(row: tuple[Any, ...], chunks: list[str | None], users: Mapping[int, str]) -> RedshiftQuery:
    (query_id, session_id, transaction_id, user_id, database, query_type, status, start_time, end_time,
     elapsed, queue, execution, returned_rows, returned_bytes, error_message, label, cache_hit,
     history_text) = row[:18]
    # No text rows (the view can trail the history by a moment): the truncated text beats none.
    text = reassemble(chunks) if chunks else (_text(history_text) or "")
    return RedshiftQuery(
        query_id=str(query_id),
        session_id=None if session_id is None else str(session_id),
        transaction_id=_int(transaction_id),
        user=users.get(int(user_id)) if user_id is not None else None,
        database=_text(database),
        query_type=_text(query_type),
        status=(_text(status) or "").lower(),
        start_time=_utc(start_time),  # type: ignore[arg-type]
        end_time=_utc(end_time),  # type: ignore[arg-type]
        text=text,
        elapsed_time=_int(elapsed),
        queue_time=_int(queue),
        execution_time=_int(execution),
        returned_rows=_int(returned_rows),
        returned_bytes=_int(returned_bytes),
        error_message=_text(error_message) or None,
        label=_text(label) or None,
        result_cache_hit=cache_hit,
    )


def _stl_query(row: tuple[Any, ...], chunks: list[str | None], users: Mapping[int, str]) -> RedshiftQuery:
    query_id, pid, xid, user_id, database, start_time, end_time, aborted, label, history_text = row[:10]
    text = reassemble(chunks, unescape_newlines=True) if chunks else (_text(history_text) or "")
    return RedshiftQuery(
        query_id=str(query_id),
        session_id=None if pid is None else str(pid),  # stl's pid is the session's process id
        transaction_id=_int(xid),
        user=users.get(int(user_id)) if user_id is not None else None,
        database=_text(database),
        query_type=None,
        status="canceled" if aborted else "success",  # stl_query knows only "aborted"
        start_time=_utc(start_time),  # type: ignore[arg-type]
        end_time=_utc(end_time),  # type: ignore[arg-type]
        text=text,
        elapsed_time=int((end_time - start_time) / timedelta(microseconds=1)) if start_time and end_time else None,
        label=_text(label) or None,
    )


def query_record(query: RedshiftQuery) -> QueryRecord:
    """The template's record of one statement; Redshift's own column names (times in
    microseconds) in extra. The session id lets the lineage engine resolve ``#temp`` tables per
    session (two sessions may each have their own ``#t``)."""
    return QueryRecord(
        query_text=query.text,
        start_time=query.start_time,
        end_time=query.end_time,
        query_id=query.query_id,
        user=query.user,
        error_text=query.error_message if not query.succeeded else None,
        returned_rows=query.returned_rows,
        succeeded=query.succeeded,
        session_id=query.session_id,
        default_database=query.database,
        extra={
            "database_name": query.database,
            "session_id": query.session_id,
            "transaction_id": query.transaction_id,
            "query_type": query.query_type,
            "status": query.status,
            "elapsed_time": query.elapsed_time,
            "queue_time": query.queue_time,
            "execution_time": query.execution_time,
            "returned_bytes": query.returned_bytes,
            "query_label": query.label,
            "result_cache_hit": query.result_cache_hit,
        },
    )


def query_log_event(query: RedshiftQuery) -> dict[str, Any]:
    """A ``QueryLogEntry.to_dict()``."""
    return query_record(query).to_event()


def lineage_row(query: RedshiftQuery) -> dict[str, Any]:
    """The lineage engine's input for one statement."""
    return query_record(query).lineage_row()


# ---------------------------------------------------------------------------------------------
# Collectors: one per kind
# ---------------------------------------------------------------------------------------------


#: What Redshift's refusals mean (docs/redshift.md#grants).
ACCESS_HINTS = AccessHints(
    warehouse="Redshift",
    missing=(
        "Check the connection's database (its 'schema' field) and the databases/schemas patterns; "
        "the user must be able to connect: GRANT USAGE ON SCHEMA <schema> TO <user> for the catalog, "
        "and SYS_QUERY_HISTORY / STL_QUERY exist only on clusters that have them (source='sys' or 'stl')."
    ),
    grant=(
        "The catalog needs GRANT USAGE ON SCHEMA <schema> TO <user>; other users' query history needs "
        "GRANT ROLE sys:monitor TO <user> (or superuser, or SYSLOG ACCESS UNRESTRICTED for STL)."
    ),
    tls="Check the connection extra 'ssl' / 'sslmode' and the cluster's require_ssl parameter.",
    doc="docs/redshift.md#grants",
)

class RedshiftMetadataCollector(Collector):
    """Tables, views and Spectrum tables of every (selected) database: one connection per
    database (a Redshift session sees one database)."""

    access_hints = ACCESS_HINTS
    kind: ClassVar[str] = "metadata"
    flavour = RESOURCE_TYPE

    def __init__(
        self,
        *,
        database_filter: NameFilter | None = None,
        schema_filter: NameFilter | None = None,
        only_freshness_and_volume: bool = False,
        include_external: bool = True,
        include_volume: bool = True,
        fetch_size: int = 10_000,
    ) -> None:
        super().__init__(fetch_size=fetch_size)
        self.database_filter = database_filter or NameFilter()
        self.schema_filter = schema_filter or NameFilter()
        self.only_freshness_and_volume = only_freshness_and_volume
        self.include_external = include_external
        self.include_volume = include_volume
        self.databases_read: list[str] = []

    def collect(self, source: Any, window: tuple[datetime, datetime] | None = None) -> Collection:
        events: list[dict[str, Any]] = []
        for database, conn in self.each_database(source):
            before = len(events)
            records = collect_database_metadata(
                conn, database, schema_filter=self.schema_filter,
                only_freshness_and_volume=self.only_freshness_and_volume,
                include_external=self.include_external, fetch_size=self.fetch_size,
            )
            events.extend(table_events(
                records, self.skips, only_freshness_and_volume=self.only_freshness_and_volume,
                include_volume=self.include_volume,
            ))
            log.info("%s: %d table(s) and view(s)", database, len(events) - before)
        databases = self.databases_read
        info: dict[str, Any] = {"database": databases[0]} if len(databases) == 1 else {"databases": databases}
        # One scope per database through the schema filter (docs/cleanup.md). Spectrum tables are
        # read only with the full schema: whether they are is part of the scope, so a freshness run
        # never finds them "dropped".
        external = self.include_external and not self.only_freshness_and_volume
        scope = [{"database": database, "schemas": self.schema_filter.include or None,
                  "exclude_schemas": self.schema_filter.exclude or None,
                  "options": {"external_tables": external}} for database in databases]
        return Collection(events, info=info, what=f"{len(databases)} database(s)", scope=scope)

    def each_database(self, source: Any) -> Iterator[tuple[str, Any]]:
        """(database, a connection to it) for every selected database; each connection is closed
        when the next is opened. ``databases_read`` lists them."""
        self.target = f"database {source.conn.schema} (the list of databases)"
        entry = source.get_conn()
        try:
            databases = list_databases(entry, self.database_filter)
        finally:
            entry.close()
        self.databases_read = databases
        log.info("reading the catalogs of %d Redshift database(s): %s", len(databases), ", ".join(databases))
        for database in databases:
            self.target = f"database {database}"
            conn = connect(source, database)
            try:
                yield database, conn
            finally:
                conn.close()


class RedshiftViewLineageCollector(RedshiftMetadataCollector):
    """Table and column lineage of every view (late-binding and materialized views included),
    parsed from ``pg_views.definition`` of each database by the lineage engine (dialect
    ``redshift``): lineage with no query history (no ``sys:monitor`` role).

    The catalogs are read as the metadata collector reads them (same SQL and filters); Spectrum
    tables' columns are known to the engine too. ``pg_views`` prints a view's query with names
    visible on the session's search_path unqualified: they resolve in the session's
    ``current_schema()``, as Redshift resolves them.
    """

    kind: ClassVar[str] = "lineage"

    def __init__(self, *, column_lineage: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.column_lineage = column_lineage

    def collect(self, source: Any, window: tuple[datetime, datetime] | None = None) -> Collection:
        records: list[TableRecord] = []
        session_schemas: dict[str, str | None] = {}
        for database, conn in self.each_database(source):
            records.extend(collect_database_metadata(
                conn, database, schema_filter=self.schema_filter, include_external=self.include_external,
                fetch_size=self.fetch_size,
            ))
            cur = conn.cursor()
            try:
                cur.execute(CURRENT_SCHEMA_SQL)
                row = cur.fetchone()
            finally:
                cur.close()
            session_schemas[database] = _text(row[0]) if row else None
        events, stats = view_lineage(
            records, self.skips, dialect=LINEAGE_DIALECT, resource_type=RESOURCE_TYPE,
            column_lineage=self.column_lineage,
            context=lambda view: (view.database, session_schemas.get(view.database) or view.schema),
        )
        databases = self.databases_read
        info: dict[str, Any] = {"database": databases[0]} if len(databases) == 1 else {"databases": databases}
        info["source"] = "view_definitions"
        return Collection(events, info=info, stats=stats,
                          what=f"{len(databases)} database(s), {stats['views']:,} view definition(s)")


class _RedshiftHistoryCollector(Collector):
    """The statements that finished in the window, from the SYS views or the STL tables."""

    def __init__(
        self, *, source: str = "sys", user_filter: NameFilter | None = None, fetch_size: int = 10_000
    ) -> None:
        super().__init__(fetch_size=fetch_size)
        self.source = source
        self.user_filter = user_filter

    def read(self, hook: Any, window: tuple[datetime, datetime] | None) -> Iterator[QueryRecord]:
        """The window's statements, streamed (a generator: the connection is open while it is
        consumed and closed when it is exhausted or closed)."""
        assert window is not None
        self.target = f"{'SYS_QUERY_HISTORY' if self.source == 'sys' else 'STL_QUERY'} in database {hook.conn.schema}"
        log.info("reading %s query history for %s .. %s", self.source, window[0].isoformat(), window[1].isoformat())
        conn = hook.get_conn()
        try:
            queries = iter_queries(
                conn, start=window[0], end=window[1], source=self.source, user_filter=self.user_filter,
                fetch_size=self.fetch_size, for_lineage=self.kind == "lineage",
            )
            yield from representable((query_record(q) for q in queries), self.skips)
        finally:
            conn.close()


class RedshiftQueryLogCollector(_RedshiftHistoryCollector):
    access_hints = ACCESS_HINTS
    kind: ClassVar[str] = "query_logs"
    flavour = LOG_TYPE

    def collect(self, source: Any, window: tuple[datetime, datetime] | None) -> Collection:
        events = (q.to_event() for q in self.read(source, window))  # streamed into manifest parts
        return Collection(events, what=f"{self.source} history")


def catalog_tables(
    conn: Any, database: str, tables: Iterable[tuple[str, str]], fetch_size: int = 10_000
) -> list[TableRecord]:
    """The tables and views ``(schema, name)`` (any case) of the connection's ``database``, as
    the catalog spells them, with their column names: what lineage names are matched against.

    A name the catalog holds in two spellings (``"Orders"`` and ``orders``, possible only with
    ``enable_case_sensitive_identifier``) is left out: the engine's lower-case spelling, what an
    unquoted reference means, stays."""
    wanted = sorted({(s.lower(), n.lower()) for s, n in tables})
    records: dict[tuple[str, str], TableRecord] = {}
    cur = conn.cursor()
    try:
        for i in range(0, len(wanted), LINEAGE_TABLES_PER_QUERY):
            chunk = wanted[i:i + LINEAGE_TABLES_PER_QUERY]
            schemas, names = sorted({s for s, _ in chunk}), sorted({n for _, n in chunk})
            sql = LINEAGE_CATALOG_SQL.format(schemas=", ".join(["%s"] * len(schemas)),
                                             names=", ".join(["%s"] * len(names)))
            cur.execute(sql, (database, *schemas, *names))
            for schema, name, table_type, column in iter_cursor(cur, fetch_size):
                schema, name = _text(schema) or "", _text(name) or ""
                record = records.get((schema, name))
                if record is None:
                    record = records[(schema, name)] = TableRecord(
                        database=database, schema=schema, name=name,
                        type=normalize_table_type(_text(table_type)),
                    )
                if column is not None:
                    record.fields.append((_text(column) or "", "", None))
    finally:
        cur.close()
    folded: dict[tuple[str, str], list[TableRecord]] = {}
    for record in records.values():
        folded.setdefault((record.schema.lower(), record.name.lower()), []).append(record)
    return [r for same in folded.values() if len(same) == 1 for r in same]


def _referenced_tables(events: Iterable[Mapping[str, Any]], database: str) -> set[tuple[str, str]]:
    """``(schema, name)`` of the connection's database's tables that lineage events name."""
    tables = set()
    for event in events:
        for ref in (event["destination"], *event["sources"]):
            if str(ref.get("database") or "").lower() == database.lower() and ref.get("schema") and ref.get("name"):
                tables.add((str(ref["schema"]), str(ref["name"])))
    return tables


class RedshiftLineageCollector(_RedshiftHistoryCollector):
    """Lineage parsed from the statements that succeeded (dialect ``redshift``); ``#temp`` tables
    resolved per session. The engine folds names to lower case; each table of the connection's
    database is then given the catalog's spelling (:func:`catalog_tables`), so lineage names the
    same node as the metadata push whether or not the cluster keeps quoted names' case."""

    kind: ClassVar[str] = "lineage"
    flavour = RESOURCE_TYPE

    def __init__(
        self, *, default_schema: str = DEFAULT_SCHEMA, max_query_chars: int = 200_000,
        parse_timeout_s: float = 5.0, parse_workers: int = 0, **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.default_schema = default_schema
        self.max_query_chars = max_query_chars
        self.parse_timeout_s = parse_timeout_s
        self.parse_workers = parse_workers

    def collect(self, source: Any, window: tuple[datetime, datetime] | None) -> Collection:
        queries = self.read(source, window)
        events, stats = engine_lineage(
            (q.lineage_row() for q in queries if q.succeeded),  # streamed: the engine keeps shapes and edges
            dialect=LINEAGE_DIALECT, resource_type=RESOURCE_TYPE,
            default_database=source.conn.schema, default_schema=self.default_schema,
            max_query_chars=self.max_query_chars, timeout_s=self.parse_timeout_s, parse_workers=self.parse_workers,
        )
        database = source.conn.schema
        tables = _referenced_tables(events, database)
        if tables:
            conn = source.get_conn()
            try:
                restore_catalog_names(events, catalog_tables(conn, database, tables, self.fetch_size))
            finally:
                conn.close()
        log.info("lineage: %s", ", ".join(f"{k}={v}" for k, v in stats.items()))
        return Collection(events, stats=stats, what=f"{self.source} history")
