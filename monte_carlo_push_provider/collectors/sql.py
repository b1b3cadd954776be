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

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from monte_carlo_push_provider.collectors.base import Collection, Collector, TableRecord, table_events
from monte_carlo_push_provider.collectors.common import NameFilter, iter_cursor, normalize_table_type

log = logging.getLogger(__name__)

FAMILIES = ("sqlite", "postgres", "information_schema")

SQLITE_CATALOG = """
SELECT m.name, m.type, m.sql, p.name, p.type
FROM sqlite_schema AS m
JOIN pragma_table_info(m.name) AS p
WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY m.name, p.cid
"""
SQLITE_ROW_COUNTS = "SELECT tbl, stat FROM sqlite_stat1 WHERE idx IS NULL OR idx = tbl OR stat IS NOT NULL"
SQLITE_BYTES = "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"
# One object at a time: the fallback when the one-query catalog fails, which one stale view (its
# table dropped: pragma_table_info raises "no such table") is enough to make happen.
SQLITE_OBJECTS = """
SELECT name, type, sql FROM sqlite_schema
WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY name
"""
SQLITE_COLUMNS = "SELECT name, type FROM pragma_table_info(?) ORDER BY cid"

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


#: ``DbApiHook.dialect_name`` (SQLAlchemy dialect names) -> catalog SQL family
_DIALECT_FAMILIES = {"sqlite": "sqlite", "postgresql": "postgres", "postgres": "postgres", "redshift": "postgres"}


def catalog_family(hook: Any) -> str:
    """Which catalog SQL fits this hook, from ``DbApiHook.dialect_name``: ``sqlite``,
    ``postgres`` or ``information_schema`` (ANSI, everything else)."""
    return _DIALECT_FAMILIES.get(str(hook.dialect_name or "").lower(), "information_schema")


class SqlMetadataCollector(Collector):
    """Tables and views (with columns, row and byte counts where the database knows them) of any
    database a common.sql ``DbApiHook`` reaches."""

    kind: ClassVar[str] = "metadata"

    def __init__(
        self,
        *,
        database: str,
        resource_type: str,
        schema_filter: NameFilter | None = None,
        family: str | None = None,
        only_freshness_and_volume: bool = False,
        fetch_size: int = 10_000,
    ) -> None:
        super().__init__(fetch_size=fetch_size)
        self.database = database
        self.flavour = resource_type
        self.schema_filter = schema_filter or NameFilter()
        self.family = family
        self.only_freshness_and_volume = only_freshness_and_volume

    def collect(self, source: Any, window: tuple[datetime, datetime] | None = None) -> Collection:
        family = self.family or catalog_family(source)
        records = self.read_catalog(source, family)
        events = list(table_events(records, self.skips, only_freshness_and_volume=self.only_freshness_and_volume))
        # The whole database through the schema filter: its patterns are part of the scope, so a
        # schema the filter leaves out is another scope, never "dropped".
        scope = {"database": self.database, "schemas": self.schema_filter.include or None,
                 "exclude_schemas": self.schema_filter.exclude or None}
        return Collection(events, info={"database": self.database}, what=f"{self.database} ({family})", scope=scope)

    def read_catalog(self, source: Any, family: str) -> list[TableRecord]:
        """Every table and view (with columns unless ``only_freshness_and_volume``) of one family."""
        log.info("reading the %s catalog of %s through %s", family, self.database, type(source).__name__)
        conn = source.get_conn()
        try:
            if family == "sqlite":
                return list(self._sqlite(conn))
            return list(self._two_query(conn, family))
        finally:
            conn.close()

    # -- SQLite -----------------------------------------------------------------------------

    def _sqlite(self, conn: Any) -> Iterator[TableRecord]:
        schema = "main"
        if not self.schema_filter(schema):
            return
        # A name that is not UTF-8 would fail the whole catalog query in the decoder; read it
        # as text with the bad bytes escaped, so that one table is skipped, not all of them.
        conn.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
        cur = conn.cursor()
        rows: dict[str, int] = {}
        try:
            cur.execute(SQLITE_ROW_COUNTS)
            for table, stat in iter_cursor(cur, self.fetch_size):
                if stat and table not in rows:
                    rows[table] = int(str(stat).split()[0])
        except Exception:  # noqa: BLE001 - sqlite_stat1 exists only after ANALYZE
            pass
        sizes: dict[str, int] = {}
        try:
            cur.execute(SQLITE_BYTES)
            sizes = {name: int(total) for name, total in iter_cursor(cur, self.fetch_size)}
        except Exception:  # noqa: BLE001 - dbstat is a compile-time option
            pass

        def record(name: str, native_type: str | None, ddl: str | None, fields: list[tuple[str, str]]) -> TableRecord:
            table_type = normalize_table_type(native_type)
            return TableRecord(
                database=self.database, schema=schema, name=name, type=table_type,
                view_query=ddl, fields=list(fields), row_count=rows.get(name), byte_count=sizes.get(name),
            )

        try:
            cur.execute(SQLITE_CATALOG)
            catalog = list(iter_cursor(cur, self.fetch_size))
        except Exception as exc:  # noqa: BLE001 - one unreadable object; read them one by one
            log.info("the one-query catalog failed (%s); reading objects one by one", exc)
            yield from self._sqlite_one_by_one(cur, record)
            return
        current: str | None = None
        kind = ddl_prev = None
        fields: list[tuple[str, str]] = []
        for name, native_type, ddl, column, column_type in catalog:
            if name != current:
                if current is not None:
                    yield record(current, kind, ddl_prev, fields)
                current, kind, ddl_prev, fields = name, native_type, ddl, []
            fields.append((column, column_type or "ANY"))
        if current is not None:
            yield record(current, kind, ddl_prev, fields)

    def _sqlite_one_by_one(self, cur: Any, record: Any) -> Iterator[TableRecord]:
        cur.execute(SQLITE_OBJECTS)
        for name, native_type, ddl in list(iter_cursor(cur, self.fetch_size)):
            candidate = record(name, native_type, ddl, [])
            if candidate.defect():
                yield candidate  # skipped (and counted) with its defect by table_events
                continue
            try:
                cur.execute(SQLITE_COLUMNS, (name,))
                candidate.fields = [(c, t or "ANY") for c, t in iter_cursor(cur, self.fetch_size)]
            except Exception as exc:  # noqa: BLE001 - e.g. a view over a dropped table
                self.skips.skip("unreadable_object", f"{native_type} {candidate.label()}: {exc}")
                continue
            yield candidate

    # -- PostgreSQL and information_schema --------------------------------------------------

    def _two_query(self, conn: Any, family: str) -> Iterator[TableRecord]:
        cur = conn.cursor()
        tables: dict[tuple[str, str], TableRecord] = {}
        if family == "postgres":
            cur.execute(POSTGRES_TABLES)
            for schema, name, relkind, view_def, comment, row_count, byte_count in iter_cursor(cur, self.fetch_size):
                if self.schema_filter(schema):
                    tables[(schema, name)] = TableRecord(
                        database=self.database, schema=schema, name=name, type=_POSTGRES_KINDS.get(relkind, "TABLE"),
                        view_query=view_def, description=comment, row_count=row_count, byte_count=byte_count,
                    )
            columns_sql = POSTGRES_COLUMNS
        else:
            cur.execute(INFORMATION_SCHEMA_TABLES)
            for schema, name, table_type, view_def in iter_cursor(cur, self.fetch_size):
                if self.schema_filter(schema):
                    tables[(schema, name)] = TableRecord(
                        database=self.database, schema=schema, name=name, type=normalize_table_type(table_type),
                        view_query=view_def,
                    )
            columns_sql = INFORMATION_SCHEMA_COLUMNS
        if not self.only_freshness_and_volume:
            cur.execute(columns_sql)
            for row in iter_cursor(cur, self.fetch_size):
                entry = tables.get((row[0], row[1]))
                if entry is not None:
                    entry.fields.append((row[2], row[3], row[4] if len(row) > 4 else None))
        cur.close()
        # pop as we go: the raw catalog rows and the events are never both held in full
        for key in list(tables):
            yield tables.pop(key)


# ---------------------------------------------------------------------------------------------
# View lineage: the catalog's view definitions through the lineage engine
# ---------------------------------------------------------------------------------------------

#: ``DbApiHook.dialect_name`` -> the lineage engine's (sqlglot's) dialect, where they differ
_ENGINE_DIALECTS = {"postgresql": "postgres", "mssql": "tsql", "mariadb": "mysql"}
#: the session's schema: where PostgreSQL's ``pg_get_viewdef`` leaves names unqualified
POSTGRES_CURRENT_SCHEMA = "SELECT current_schema()"


def engine_dialect(hook: Any) -> str:
    """The lineage engine's dialect for a hook's ``dialect_name`` ("" = sqlglot's generic SQL for
    a dialect it does not know). Imports sqlglot: call it inside ``collect``."""
    from sqlglot.dialects.dialect import Dialect

    name = str(hook.dialect_name or "").lower()
    name = _ENGINE_DIALECTS.get(name, name)
    if getattr(hook, "conn_type", None) == "redshift":
        # RedshiftSQLHook reports SQLAlchemy's "postgresql"; Redshift's own SQL (GETDATE,
        # LISTAGG, late-binding views) parses with sqlglot's redshift dialect
        name = "redshift"
    return name if name and Dialect.get(name) is not None else ""


class SqlViewLineageCollector(SqlMetadataCollector):
    """Table and column lineage of every view, parsed from the view's definition in the catalog
    (``sqlite_schema.sql``, PostgreSQL ``pg_get_viewdef``, ``information_schema.views``):
    lineage with no query history, on any database a common.sql hook reaches.

    The catalog is read as the metadata collector reads it (same SQL, same stale-view fallback,
    same schema filter); the tables' columns go to the engine as its schema, so ``SELECT *`` and
    unqualified columns in a join resolve, and the names it reports are given back the catalog's
    spelling (the engine lower-cases; SQLite keeps ``"Order Items"`` as created).
    """

    kind: ClassVar[str] = "lineage"

    def __init__(
        self,
        *,
        database: str,
        resource_type: str,
        schema_filter: NameFilter | None = None,
        family: str | None = None,
        column_lineage: bool = True,
        dialect: str | None = None,
        fetch_size: int = 10_000,
    ) -> None:
        super().__init__(
            database=database, resource_type=resource_type, schema_filter=schema_filter, family=family,
            fetch_size=fetch_size,
        )
        self.column_lineage = column_lineage
        self.dialect = dialect

    def collect(self, source: Any, window: tuple[datetime, datetime] | None = None) -> Collection:
        from monte_carlo_push_provider.collectors.base import view_lineage

        family = self.family or catalog_family(source)
        dialect = self.dialect if self.dialect is not None else engine_dialect(source)
        records = self.read_catalog(source, family)
        session_schema = None
        if family == "postgres" or dialect in ("postgres", "redshift"):
            # PostgreSQL prints a view's query (pg_get_viewdef, and information_schema.views from
            # it) with names visible on the session's search_path unqualified: they resolve in
            # the session's schema, not the view's. Elsewhere they resolve in the view's schema.
            session_schema = (source.get_first(POSTGRES_CURRENT_SCHEMA) or [None])[0]
        events, stats = view_lineage(
            records, self.skips, dialect=dialect, resource_type=self.flavour, column_lineage=self.column_lineage,
            context=lambda view: (view.database, session_schema or view.schema),
        )
        what = f"{self.database} ({family}, {stats['views']:,} view definition(s), dialect {dialect or 'generic'})"
        return Collection(events, info={"database": self.database, "source": "view_definitions"}, stats=stats,
                          what=what)
