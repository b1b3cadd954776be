"""Databricks stand-in fixtures: brickhouse behind a loopback TLS proxy, seeded once per session
with Unity Catalog ``information_schema`` tables and the ``system.*`` tables the collectors read.

brickhouse has no built-in information_schema, no system tables and no TIMESTAMP columns, so
they are created here as Delta tables with the real column names (timestamps as STRING; the
collector SQL reads them with ``CAST(... AS TIMESTAMP)``, a no-op on Databricks).

Catalogs: ``sales`` (hostile identifiers live in its schema/table/column *rows*: brickhouse only
creates lower-case regular names as real objects, but information_schema rows may say anything),
``ops``, ``empty_cat`` (information_schema tables with no rows) and ``system``.

The seeded window of interest is 2026-11-25 09:00–10:00 UTC (the data interval 10:00–11:00
minus the default one-hour lag); rows on and just outside its edges test the bounds.

Fixtures:
- ``databricks_standin`` (session): the running, seeded :class:`Brickhouse`.
- ``databricks_conn``: sets ``AIRFLOW_CONN_DATABRICKS_DEFAULT`` for one test, returns the conn id.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    # Imported lazily in the fixture: conftest registers tests/standins/*.py as plugins in name
    # order, and importing the helper here first would stop pytest rewriting its asserts.
    from tests.standins.databricks_brickhouse import Brickhouse

CONN_ID = "databricks_default"

# Hostile names (they reach SQL only as data in these rows; DESCRIBE DETAIL quoting of them is
# covered by tests/collectors/test_databricks.py).
RAW_SCHEMA = "Raw Data"
WEIRD_TABLE = "we`ird; DROP TABLE x; --"
QUOTED_TABLE = "O'Brien \"quoted\""
UNICODE_TABLE = "Umsätze_€_日本"
WEIRD_COLUMN = "col; -- `x`"

# -- <catalog>.information_schema ---------------------------------------------------------------

TABLES_DDL = (
    "table_catalog STRING, table_schema STRING, table_name STRING, table_type STRING, comment STRING, "
    "data_source_format STRING, created STRING, last_altered STRING"
)
VIEWS_DDL = "table_catalog STRING, table_schema STRING, table_name STRING, view_definition STRING"
COLUMNS_DDL = (
    "table_catalog STRING, table_schema STRING, table_name STRING, column_name STRING, "
    "ordinal_position BIGINT, data_type STRING, full_data_type STRING, is_nullable STRING, comment STRING"
)

# information_schema.table_tags, as Unity Catalog has it (a key-only tag has an empty value).
# empty_cat has no tables, so no table_tags either (the collector does not ask for them).
TABLE_TAGS_DDL = "catalog_name STRING, schema_name STRING, table_name STRING, tag_name STRING, tag_value STRING"
TAG_KEY = "owner; -- `x`"
TAG_VALUE = "O'Brien \"q\" ✓"
TABLE_TAGS: dict[str, list[tuple[Any, ...]]] = {
    "sales": [
        ("sales", "core", "orders", "domain", "finance"),
        ("sales", "core", "orders", "pii", ""),
        ("sales", "core", "v_orders", "domain", "bi"),
        ("sales", RAW_SCHEMA, WEIRD_TABLE, TAG_KEY, TAG_VALUE),
        ("sales", "information_schema", "tables", "domain", "system"),  # never collected
        ("sales", "core", "dropped_long_ago", "domain", "old"),  # no such table: ignored
    ],
    "ops": [("ops", "monitoring", "events", "team", "sre")],
}

INFORMATION_SCHEMA: dict[str, dict[str, list[tuple[Any, ...]]]] = {
    "sales": {
        "tables": [
            ("sales", "core", "orders", "MANAGED", "All orders", "DELTA", "2026-01-05T08:00:00Z", "2026-11-25T09:15:00.250Z"),
            ("sales", "core", "customers", "EXTERNAL", None, "DELTA", "2026-01-05 08:00:00", "2026-11-24 23:59:59"),
            ("sales", "core", "orders_stream", "STREAMING_TABLE", None, "DELTA", "2026-02-01T00:00:00Z", "2026-11-25T09:59:00Z"),
            ("sales", "core", "daily_revenue", "MATERIALIZED_VIEW", "Revenue per day", None, "2026-02-01T00:00:00Z", "2026-11-25T09:30:00Z"),
            ("sales", "core", "v_orders", "VIEW", None, None, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"),
            ("sales", RAW_SCHEMA, WEIRD_TABLE, "MANAGED", "semi;colon -- comment", "DELTA", "2026-03-01T00:00:00Z", "2026-11-25T08:00:00Z"),
            ("sales", RAW_SCHEMA, QUOTED_TABLE, "EXTERNAL", None, "PARQUET", "2026-03-01T00:00:00Z", None),
            ("sales", RAW_SCHEMA, UNICODE_TABLE, "MANAGED", "Ümlaut ✓", "DELTA", None, "2026-11-25T07:00:00Z"),
            ("sales", "scratch", "tmp_1", "MANAGED", None, "DELTA", "2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z"),
            # information_schema lists itself on Databricks; the collector must skip it
            ("sales", "information_schema", "tables", "VIEW", None, None, None, None),
        ],
        "views": [
            ("sales", "core", "v_orders", "SELECT id, amount FROM sales.core.orders WHERE amount > 0"),
            ("sales", "core", "daily_revenue", "SELECT order_ts::date AS day, sum(amount) AS revenue FROM sales.core.orders GROUP BY 1"),
            ("sales", "information_schema", "tables", "SELECT * FROM system.information_schema.tables"),
        ],
        "columns": [
            ("sales", "core", "orders", "id", 1, "LONG", "bigint", "NO", "Order id"),
            ("sales", "core", "orders", "amount", 2, "DECIMAL", "decimal(12,2)", "YES", None),
            ("sales", "core", "orders", "customer_id", 3, "LONG", "bigint", "YES", None),
            ("sales", "core", "orders", "customer_name", 4, "STRING", "string", "YES", None),
            ("sales", "core", "orders", "order_ts", 5, "TIMESTAMP", "timestamp", "YES", None),
            ("sales", "core", "customers", "name", 2, "STRING", "string", "YES", None),
            ("sales", "core", "customers", "id", 1, "LONG", "bigint", "NO", None),
            ("sales", "core", "orders_stream", "payload", 1, "STRING", "string", "YES", None),
            ("sales", "core", "daily_revenue", "day", 1, "DATE", "date", "YES", None),
            ("sales", "core", "daily_revenue", "revenue", 2, "DECIMAL", "decimal(22,2)", "YES", None),
            ("sales", "core", "v_orders", "id", 1, "LONG", "bigint", "YES", None),
            ("sales", "core", "v_orders", "amount", 2, "DECIMAL", "decimal(12,2)", "YES", None),
            ("sales", RAW_SCHEMA, WEIRD_TABLE, WEIRD_COLUMN, 1, "STRING", "string", "YES", "it's \"hostile\""),
            ("sales", RAW_SCHEMA, WEIRD_TABLE, "MixedCase", 2, "MAP", "map<string,array<int>>", "YES", None),
            ("sales", RAW_SCHEMA, QUOTED_TABLE, "a'b", 1, "INT", "int", "YES", None),
            ("sales", RAW_SCHEMA, UNICODE_TABLE, "betrag_€", 1, "DOUBLE", "double", "YES", None),
            ("sales", "scratch", "tmp_1", "x", 1, "INT", "int", "YES", None),
            ("sales", "information_schema", "tables", "table_name", 1, "STRING", "string", "YES", None),
        ],
    },
    "ops": {
        "tables": [
            ("ops", "monitoring", "events", "MANAGED", None, "DELTA", "2026-04-01T00:00:00Z", "2026-11-25T09:45:00Z"),
        ],
        "views": [],
        "columns": [
            ("ops", "monitoring", "events", "event_id", 1, "STRING", "string", "NO", None),
        ],
    },
    "empty_cat": {"tables": [], "views": [], "columns": []},
}

# system.information_schema.catalogs: what a real metastore lists (hive_metastore, samples and
# __databricks_internal exist there but are excluded by default; they are not created here).
CATALOG_ROWS = [
    ("system",), ("sales",), ("ops",), ("empty_cat",), ("hive_metastore",), ("samples",), ("__databricks_internal",),
]

# -- system.access.*_lineage ------------------------------------------------------------------------

TABLE_LINEAGE_DDL = (
    "account_id STRING, metastore_id STRING, workspace_id STRING, entity_type STRING, entity_id STRING, "
    "source_table_full_name STRING, source_table_catalog STRING, source_table_schema STRING, "
    "source_table_name STRING, source_path STRING, source_type STRING, "
    "target_table_full_name STRING, target_table_catalog STRING, target_table_schema STRING, "
    "target_table_name STRING, target_path STRING, target_type STRING, created_by STRING, event_time STRING"
)


def _tl(src: tuple[str, str, str] | None, src_type: str | None, tgt: tuple[str, str, str] | None,
        tgt_type: str | None, event_time: str, *, source_path: str | None = None) -> tuple[Any, ...]:
    def full(t: tuple[str, str, str] | None) -> str | None:
        return ".".join(t) if t else None

    s = src or (None, None, None)
    t = tgt or (None, None, None)
    return (
        "acc-1", "ms-1", "1001", "JOB", "job-7",
        full(src), *s, source_path, src_type,
        full(tgt), *t, None, tgt_type, "etl@example.com", event_time,
    )


ORDERS = ("sales", "core", "orders")
CUSTOMERS = ("sales", "core", "customers")
DAILY = ("sales", "core", "daily_revenue")
V_ORDERS = ("sales", "core", "v_orders")
WEIRD = ("sales", RAW_SCHEMA, WEIRD_TABLE)
EVENTS = ("ops", "monitoring", "events")

TABLE_LINEAGE_ROWS = [
    _tl(ORDERS, "TABLE", WEIRD, "TABLE", "2026-11-25T09:00:00Z"),  # on the start bound: in
    _tl(CUSTOMERS, "TABLE", ORDERS, "TABLE", "2026-11-25T09:05:00Z"),
    _tl(CUSTOMERS, "TABLE", ORDERS, "TABLE", "2026-11-25T09:35:00.123Z"),  # same edge again
    _tl(ORDERS, "TABLE", DAILY, "MATERIALIZED_VIEW", "2026-11-25 09:10:00"),
    _tl(None, None, WEIRD, "TABLE", "2026-11-25T09:20:00Z", source_path="s3://bucket/landing/"),  # path
    _tl(ORDERS, "TABLE", None, None, "2026-11-25T09:30:00Z"),  # a read: no target
    _tl(ORDERS, "TABLE", EVENTS, "TABLE", "2026-11-25T09:40:00Z"),  # cross-catalog
    _tl(ORDERS, "TABLE", ORDERS, "TABLE", "2026-11-25T09:45:00Z"),  # MERGE reading its target
    _tl(ORDERS, "TABLE", V_ORDERS, "VIEW", "2026-11-25T09:50:00Z"),
    _tl(ORDERS, "TABLE", ("system", "billing", "usage"), "TABLE", "2026-11-25T09:55:00Z"),  # excluded catalog
    _tl(EVENTS, "TABLE", CUSTOMERS, "TABLE", "2026-11-25T08:59:59.999Z"),  # just before: out
    _tl(EVENTS, "TABLE", CUSTOMERS, "TABLE", "2026-11-25T10:00:00Z"),  # on the end bound: out
]

COLUMN_LINEAGE_DDL = (
    "account_id STRING, metastore_id STRING, workspace_id STRING, entity_type STRING, "
    "source_table_full_name STRING, source_table_catalog STRING, source_table_schema STRING, "
    "source_table_name STRING, source_column_name STRING, source_type STRING, "
    "target_table_full_name STRING, target_table_catalog STRING, target_table_schema STRING, "
    "target_table_name STRING, target_column_name STRING, target_type STRING, event_time STRING"
)


def _cl(src: tuple[str, str, str], src_col: str | None, tgt: tuple[str, str, str], tgt_col: str | None,
        event_time: str) -> tuple[Any, ...]:
    return (
        "acc-1", "ms-1", "1001", "JOB",
        ".".join(src), *src, src_col, "TABLE",
        ".".join(tgt), *tgt, tgt_col, "TABLE", event_time,
    )


COLUMN_LINEAGE_ROWS = [
    _cl(CUSTOMERS, "id", ORDERS, "customer_id", "2026-11-25T09:05:00Z"),
    _cl(CUSTOMERS, "id", ORDERS, "customer_id", "2026-11-25T09:35:00Z"),  # same edge again
    _cl(CUSTOMERS, "name", ORDERS, "customer_name", "2026-11-25T09:05:00Z"),
    _cl(ORDERS, "amount", DAILY, "revenue", "2026-11-25T09:10:00Z"),
    _cl(ORDERS, "order_ts", DAILY, "day", "2026-11-25T09:10:00Z"),
    _cl(ORDERS, "amount", WEIRD, WEIRD_COLUMN, "2026-11-25T09:00:00Z"),
    _cl(CUSTOMERS, "id", WEIRD, WEIRD_COLUMN, "2026-11-25T09:01:00Z"),
    _cl(ORDERS, None, EVENTS, "event_id", "2026-11-25T09:40:00Z"),  # no source column: skipped
    _cl(EVENTS, "event_id", CUSTOMERS, "id", "2026-11-25T10:00:00Z"),  # on the end bound: out
]

# -- system.query.history ----------------------------------------------------------------------------

QUERY_HISTORY_DDL = (
    "account_id STRING, workspace_id STRING, statement_id STRING, session_id STRING, execution_status STRING, "
    "executed_by STRING, executed_by_user_id STRING, statement_text STRING, statement_type STRING, "
    "error_message STRING, client_application STRING, client_driver STRING, total_duration_ms BIGINT, "
    "read_rows BIGINT, read_bytes BIGINT, produced_rows BIGINT, start_time STRING, end_time STRING, "
    "update_time STRING"
)
HOSTILE_STATEMENT = "SELECT '`x`; --' AS \"ü\", 'O''Brien' FROM sales.`Raw Data`.`we``ird; DROP TABLE x; --`;"


def _qh(statement_id: str, status: str, user: str, text: str | None, stype: str, start: str, end: str | None, *,
        workspace: str = "1001", error: str | None = None, rows: int | None = None, read_rows: int | None = None,
        read_bytes: int | None = None, duration: int | None = None, app: str | None = "Databricks SQL") -> tuple[Any, ...]:
    return (
        "acc-1", workspace, statement_id, "sess-1", status, user, "u-1", text, stype, error, app, "python",
        duration, read_rows, read_bytes, rows, start, end, end,
    )


QUERY_HISTORY_ROWS = [
    _qh("01f0-a1", "FINISHED", "alice@example.com", "SELECT * FROM sales.core.orders LIMIT 42", "SELECT",
        "2026-11-25T09:01:00Z", "2026-11-25T09:01:02.500Z", rows=42, read_rows=1000, read_bytes=65536, duration=2500),
    _qh("01f0-a2", "FAILED", "bob@example.com", "SELEC 1", "OTHER",
        "2026-11-25T09:10:00Z", "2026-11-25T09:10:00.100Z",
        error="[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601", duration=100),
    _qh("01f0-a3", "CANCELED", "alice@example.com", "OPTIMIZE sales.core.orders", "OPTIMIZE",
        "2026-11-25T09:20:00Z", "2026-11-25T09:25:00Z", duration=300000, app=None),
    # started before the window, ended in it: belongs to this window (windows are on end_time)
    _qh("01f0-a4", "FINISHED", "etl@example.com", "INSERT INTO sales.core.orders SELECT * FROM sales.core.orders_stream",
        "INSERT", "2026-11-25T08:59:30Z", "2026-11-25T09:00:10Z", rows=7, duration=40000),
    _qh("01f0-a5", "FINISHED", "Ünïcødé User <x@example.com>", HOSTILE_STATEMENT, "SELECT",
        "2026-11-25 09:59:58", "2026-11-25 09:59:59.999", workspace="2002", rows=1, duration=1),
    _qh("01f0-b1", "FINISHED", "alice@example.com", "SELECT 'on the end bound'", "SELECT",
        "2026-11-25T09:59:00Z", "2026-11-25T10:00:00Z", rows=1),
    _qh("01f0-b2", "FINISHED", "alice@example.com", "SELECT 'just before'", "SELECT",
        "2026-11-25T08:59:00Z", "2026-11-25T08:59:59.999Z", rows=1),
    _qh("01f0-b3", "RUNNING", "alice@example.com", "SELECT 'still running'", "SELECT",
        "2026-11-25T09:30:00Z", None),
]

# -- set-up -----------------------------------------------------------------------------------------


def _sql_type(ddl: str, column: str) -> str:
    for part in ddl.split(","):
        name, sql_type = part.split()
        if name == column:
            return sql_type
    raise KeyError(column)


def insert_rows(bh: Brickhouse, table: str, ddl: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """INSERT the rows with bind parameters (never formatted into SQL: the values are hostile)."""
    columns = [part.split()[0] for part in ddl.split(",")]
    types = [_sql_type(ddl, c) for c in columns]
    chunk = max(1, 100 // len(columns))  # brickhouse takes at most 100 parameters a statement
    for offset in range(0, len(rows), chunk):
        values, params = [], []
        for i, row in enumerate(rows[offset : offset + chunk]):
            assert len(row) == len(columns), (table, row)
            names = []
            for j, (value, sql_type) in enumerate(zip(row, types, strict=True)):
                name = f"r{i}c{j}"
                names.append(f":{name}")
                param: dict[str, Any] = {"name": name, "type": sql_type}
                if value is not None:
                    param["value"] = str(value)
                params.append(param)
            values.append(f"({', '.join(names)})")
        bh.sql(f"INSERT INTO {table} VALUES {', '.join(values)}", params)  # noqa: S608 - names are ours


def seed(bh: Brickhouse) -> None:
    for catalog in ("system", *INFORMATION_SCHEMA):
        bh.create_catalog(catalog)
    # brickhouse creates <catalog>.information_schema itself, but no tables in it
    bh.sql("CREATE TABLE system.information_schema.catalogs (catalog_name STRING) USING DELTA")
    insert_rows(bh, "system.information_schema.catalogs", "catalog_name STRING", CATALOG_ROWS)
    for catalog, tables in INFORMATION_SCHEMA.items():
        for name, ddl in (("tables", TABLES_DDL), ("views", VIEWS_DDL), ("columns", COLUMNS_DDL)):
            target = f"{catalog}.information_schema.{name}"
            bh.sql(f"CREATE TABLE {target} ({ddl}) USING DELTA")
            if tables[name]:
                insert_rows(bh, target, ddl, tables[name])
    for catalog, rows in TABLE_TAGS.items():
        bh.sql(f"CREATE TABLE {catalog}.information_schema.table_tags ({TABLE_TAGS_DDL}) USING DELTA")
        insert_rows(bh, f"{catalog}.information_schema.table_tags", TABLE_TAGS_DDL, rows)
    bh.sql("CREATE SCHEMA system.access")
    bh.sql("CREATE SCHEMA system.query")
    for target, ddl, rows in (
        ("system.access.table_lineage", TABLE_LINEAGE_DDL, TABLE_LINEAGE_ROWS),
        ("system.access.column_lineage", COLUMN_LINEAGE_DDL, COLUMN_LINEAGE_ROWS),
        ("system.query.history", QUERY_HISTORY_DDL, QUERY_HISTORY_ROWS),
    ):
        bh.sql(f"CREATE TABLE {target} ({ddl}) USING DELTA")
        insert_rows(bh, target, ddl, rows)


@pytest.fixture(scope="session")
def databricks_standin() -> Iterator[Brickhouse]:
    # No importorskip: a skipped stand-in would let the Databricks suite pass unseen. brickhouse
    # runs as a subprocess from its own venv (`make install-test` builds .venv-standins/brickhouse).
    import airflow.providers.databricks  # noqa: F401 - fail loudly when the extra is missing

    from tests.standins.databricks_brickhouse import Brickhouse

    bh = Brickhouse().start()
    try:
        seed(bh)
        yield bh
    finally:
        bh.stop()


@pytest.fixture
def databricks_conn(databricks_standin: Brickhouse, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", databricks_standin.connection_json())
    return CONN_ID
