"""Catalog SQL for any database Airflow's common.sql reaches: SQLite, PostgreSQL, and the
ANSI ``information_schema`` elsewhere. One query for tables and one for columns per database
(SQLite: one for both), never one per table.

What each family knows:

=================  ==============================  =========================  ==============
family             row count                       bytes                      last modified
=================  ==============================  =========================  ==============
sqlite             ``sqlite_stat1`` (after         ``dbstat`` pages, where    --
                   ``ANALYZE``)                    compiled in
postgres           ``pg_class.reltuples``          ``pg_total_relation_size`` --
                   (estimate; -1 = never analysed)
information_schema --                              --                         --
=================  ==============================  =========================  ==============
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from monte_carlo_push_provider.collectors.common import NameFilter, iter_cursor, normalize_table_type
from monte_carlo_push_provider.manifest import relational_asset

SQLITE_CATALOG = """
SELECT m.name, m.type, m.sql, p.name, p.type
FROM sqlite_schema AS m
JOIN pragma_table_info(m.name) AS p
WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY m.name, p.cid
"""
SQLITE_ROW_COUNTS = "SELECT tbl, stat FROM sqlite_stat1 WHERE idx IS NULL OR idx = tbl OR stat IS NOT NULL"
SQLITE_BYTES = "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"

POSTGRES_TABLES = """
SELECT n.nspname, c.relname, c.relkind,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END,
       obj_description(c.oid, 'pg_class'),
       CASE WHEN c.relkind IN ('r', 'p', 'm') AND c.reltuples >= 0 THEN c.reltuples::bigint END,
       CASE WHEN c.relkind IN ('r', 'p', 'm') THEN pg_total_relation_size(c.oid) END
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%%'
  AND n.nspname NOT LIKE 'pg\\_temp\\_%%'
ORDER BY n.nspname, c.relname
"""
POSTGRES_COLUMNS = """
SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
       col_description(c.oid, a.attnum)
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%%'
  AND n.nspname NOT LIKE 'pg\\_temp\\_%%'
ORDER BY n.nspname, c.relname, a.attnum
"""
_POSTGRES_KINDS = {"r": "TABLE", "p": "TABLE", "f": "TABLE", "v": "VIEW", "m": "VIEW"}

INFORMATION_SCHEMA_TABLES = """
SELECT t.table_schema, t.table_name, t.table_type, v.view_definition
FROM information_schema.tables AS t
LEFT JOIN information_schema.views AS v
  ON v.table_schema = t.table_schema AND v.table_name = t.table_name
WHERE t.table_schema NOT IN ('information_schema', 'pg_catalog', 'INFORMATION_SCHEMA', 'sys')
ORDER BY t.table_schema, t.table_name
"""
INFORMATION_SCHEMA_COLUMNS = """
SELECT table_schema, table_name, column_name, data_type
FROM information_schema.columns
WHERE table_schema NOT IN ('information_schema', 'pg_catalog', 'INFORMATION_SCHEMA', 'sys')
ORDER BY table_schema, table_name, ordinal_position
"""


def catalog_family(hook: Any) -> str:
    """Which catalog SQL fits this hook: ``sqlite``, ``postgres`` or ``information_schema``."""
    names = {
        str(getattr(hook, "conn_type", "") or "").lower(),
        str(getattr(hook, "conn_name_attr", "") or "").lower(),
        type(hook).__name__.lower(),
    }
    try:
        names.add(str(hook.dialect_name or "").lower())
    except Exception:  # noqa: BLE001 - dialect_name needs a connection; the class name suffices
        pass
    joined = " ".join(names)
    if "sqlite" in joined:
        return "sqlite"
    if "postgres" in joined:
        return "postgres"
    return "information_schema"


def collect_sql_metadata(
    hook: Any,
    *,
    database: str,
    schema_filter: NameFilter,
    family: str | None = None,
    only_freshness_and_volume: bool = False,
    fetch_size: int = 10_000,
) -> Iterator[dict[str, Any]]:
    """Yield metadata events (``RelationalAsset.to_dict()``) for every table and view."""
    family = family or catalog_family(hook)
    conn = hook.get_conn()
    try:
        if family == "sqlite":
            yield from _sqlite(conn, database, schema_filter, only_freshness_and_volume, fetch_size)
        else:
            yield from _two_query(conn, family, database, schema_filter, only_freshness_and_volume, fetch_size)
    finally:
        conn.close()


def _sqlite(conn: Any, database: str, schema_filter: NameFilter, volume_only: bool, fetch_size: int) -> Iterator[dict]:
    schema = "main"
    if not schema_filter(schema):
        return
    cur = conn.cursor()
    rows: dict[str, int] = {}
    try:
        cur.execute(SQLITE_ROW_COUNTS)
        for table, stat in iter_cursor(cur, fetch_size):
            if stat and table not in rows:
                rows[table] = int(str(stat).split()[0])
    except Exception:  # noqa: BLE001 - sqlite_stat1 exists only after ANALYZE
        pass
    sizes: dict[str, int] = {}
    try:
        cur.execute(SQLITE_BYTES)
        sizes = {name: int(total) for name, total in iter_cursor(cur, fetch_size)}
    except Exception:  # noqa: BLE001 - dbstat is a compile-time option
        pass
    cur.execute(SQLITE_CATALOG)
    current: str | None = None
    kind = ddl_prev = None
    fields: list[tuple[str, str]] = []
    for name, native_type, ddl, column, column_type in iter_cursor(cur, fetch_size):
        if name != current:
            if current is not None:
                yield _asset(current, kind, ddl_prev, fields, database, schema, rows, sizes, volume_only)
            current, kind, ddl_prev, fields = name, native_type, ddl, []
        fields.append((column, column_type or "ANY"))
    if current is not None:
        yield _asset(current, kind, ddl_prev, fields, database, schema, rows, sizes, volume_only)


def _asset(
    name: str, native_type: str, ddl: str | None, fields: list[tuple[str, str]], database: str, schema: str,
    rows: dict[str, int], sizes: dict[str, int], volume_only: bool,
) -> dict[str, Any]:
    table_type = normalize_table_type(native_type)
    return relational_asset(
        type=table_type,
        name=name,
        database=database,
        schema=schema,
        view_query=ddl if table_type == "VIEW" and not volume_only else None,
        fields=None if volume_only else fields,
        row_count=rows.get(name) if table_type == "TABLE" else None,
        byte_count=sizes.get(name) if table_type == "TABLE" else None,
    )


def _two_query(
    conn: Any, family: str, database: str, schema_filter: NameFilter, volume_only: bool, fetch_size: int
) -> Iterator[dict]:
    cur = conn.cursor()
    tables: dict[tuple[str, str], dict[str, Any]] = {}
    if family == "postgres":
        cur.execute(POSTGRES_TABLES)
        for schema, name, relkind, view_def, comment, row_count, byte_count in iter_cursor(cur, fetch_size):
            if schema_filter(schema):
                tables[(schema, name)] = {
                    "type": _POSTGRES_KINDS.get(relkind, "TABLE"),
                    "view_query": view_def,
                    "description": comment,
                    "row_count": row_count,
                    "byte_count": byte_count,
                    "fields": [],
                }
        columns_sql = POSTGRES_COLUMNS
    else:
        cur.execute(INFORMATION_SCHEMA_TABLES)
        for schema, name, table_type, view_def in iter_cursor(cur, fetch_size):
            if schema_filter(schema):
                tables[(schema, name)] = {
                    "type": normalize_table_type(table_type),
                    "view_query": view_def,
                    "description": None,
                    "row_count": None,
                    "byte_count": None,
                    "fields": [],
                }
        columns_sql = INFORMATION_SCHEMA_COLUMNS
    if not volume_only:
        cur.execute(columns_sql)
        for row in iter_cursor(cur, fetch_size):
            entry = tables.get((row[0], row[1]))
            if entry is not None:
                entry["fields"].append((row[2], row[3], row[4] if len(row) > 4 else None))
    cur.close()
    # pop as we go: the raw catalog rows and the events are never both held in full
    for key in list(tables):
        schema, name = key
        t = tables.pop(key)
        yield relational_asset(
            type=t["type"],
            name=name,
            database=database,
            schema=schema,
            description=None if volume_only else t["description"],
            view_query=None if volume_only else t["view_query"],
            fields=t["fields"] or None,
            row_count=t["row_count"],
            byte_count=t["byte_count"],
        )
