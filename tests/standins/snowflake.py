"""Snowflake stand-in: fakesnow's server over TLS, which Airflow's ``SnowflakeHook`` really talks to.

``SnowflakeHook`` always speaks https (it cannot set the connector's ``protocol``), so the server
runs under uvicorn with a self-signed certificate for 127.0.0.1 made here, and the connector trusts
it through ``REQUESTS_CA_BUNDLE`` (its vendored ``requests`` reads that; ``SSL_CERT_FILE`` does
not work). ``insecure_mode`` only switches off the OCSP revocation check, which would try to reach
Snowflake's OCSP servers for a certificate no CA issued; the TLS chain is still verified.

Fixtures:

- ``snowflake_standin`` (session): the server, started once on a free port of 127.0.0.1, seeded
  once (see ``SEED`` below), stopped by PID at session end.
- ``snowflake_conn`` (test): sets ``AIRFLOW_CONN_SNOWFLAKE_DEFAULT`` and ``REQUESTS_CA_BUNDLE``
  for one test and returns the stand-in.

fakesnow limits that shape the seed (fakesnow 0.12.1): INFORMATION_SCHEMA reports BYTES 0 and
LAST_ALTERED/CREATED 1970-01-01, it lists views only in INFORMATION_SCHEMA.VIEWS, and it cannot
create a database whose name needs quoting for anything but case or letters (``CREATE DATABASE
"My DB"`` fails inside fakesnow) nor a schema whose name holds a double quote (CREATE SCHEMA hangs
or reports "already exists"). So database names are mixed-case / unicode, schema names carry
spaces, semicolons, ``--`` and unicode, and table and column names carry all of that plus quotes. Realistic
values (bytes, last altered, VARIANT lineage) live in the ``SNOWFLAKE.ACCOUNT_USAGE`` tables the
seed creates.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from monte_carlo_push_provider.collectors.common import quote_literal
from monte_carlo_sandbox.process import ManagedProcess, accepts_connections
from tests.standins.net import free_port, make_self_signed_cert

READY_TIMEOUT_S = 30.0
UTC = dt.timezone.utc

# --- names the tests assert on ------------------------------------------------------------------

DB = "ANALYTICS"
HOSTILE_DB = "Mixed_Ünïcode"
HOSTILE_SCHEMA = "Sch; --ünï"
HOSTILE_TABLE = 'Tåble "q"; DROP --'
HOSTILE_VIEW = "lower view"
HOSTILE_COLUMNS = ('Col "x"', "semi;colon", "naïve -- col")
EMPTY_DB = "EMPTY_DB"
STANDARD_DB = "AU_STANDARD"  # an ACCOUNT_USAGE copy without ACCESS_HISTORY (Standard edition)
STANDARD_ACCOUNT_USAGE = f"{STANDARD_DB}.ACCOUNT_USAGE"


def _q(*parts: str) -> str:
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def ts(hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> dt.datetime:
    """A UTC instant on the seed day, 2026-11-25."""
    return dt.datetime(2026, 11, 25, hour, minute, second, micro, tzinfo=UTC)


def _lit(value: dt.datetime) -> str:
    # fakesnow parses '... +00:00' offsets poorly; seed UTC wall-clock (fakesnow's session is UTC)
    return "'" + value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + "'"


def _json_lit(value: Any) -> str:
    # Snowflake string literals read backslash escapes: JSON's \" must reach PARSE_JSON intact
    return f"PARSE_JSON({quote_literal(json.dumps(value))})"


# --- warehouse contents ------------------------------------------------------------------------

INFORMATION_SCHEMA_SEED = [
    f"CREATE DATABASE {DB}",
    f"CREATE SCHEMA {DB}.PUBLIC",
    f"CREATE SCHEMA {DB}.STAGING",
    f"CREATE TABLE {DB}.PUBLIC.ORDERS (ID NUMBER(38,0), AMOUNT FLOAT, CREATED_AT TIMESTAMP_NTZ)",
    f"INSERT INTO {DB}.PUBLIC.ORDERS VALUES (1, 10.5, '2026-11-25 08:00:00'), "
    "(2, 20.0, '2026-11-25 08:30:00'), (3, 7.25, '2026-11-25 09:00:00')",
    f"COMMENT ON TABLE {DB}.PUBLIC.ORDERS IS 'one row per order'",
    f"CREATE VIEW {DB}.PUBLIC.ORDERS_V AS SELECT ID, AMOUNT FROM {DB}.PUBLIC.ORDERS WHERE AMOUNT > 8",
    f"CREATE TABLE {DB}.STAGING.RAW_ORDERS (ID NUMBER(38,0), PAYLOAD VARIANT)",
    f'CREATE DATABASE "{HOSTILE_DB}"',
    f"CREATE SCHEMA {_q(HOSTILE_DB, HOSTILE_SCHEMA)}",
    f"CREATE TABLE {_q(HOSTILE_DB, HOSTILE_SCHEMA, HOSTILE_TABLE)} "
    f"({_q(HOSTILE_COLUMNS[0])} NUMBER(38,0), {_q(HOSTILE_COLUMNS[1])} VARCHAR, {_q(HOSTILE_COLUMNS[2])} BOOLEAN)",
    f"INSERT INTO {_q(HOSTILE_DB, HOSTILE_SCHEMA, HOSTILE_TABLE)} VALUES (1, 'a', TRUE), (2, 'b', FALSE)",
    f"CREATE VIEW {_q(HOSTILE_DB, HOSTILE_SCHEMA, HOSTILE_VIEW)} AS "
    f"SELECT {_q(HOSTILE_COLUMNS[0])} FROM {_q(HOSTILE_DB, HOSTILE_SCHEMA, HOSTILE_TABLE)}",
    f"CREATE DATABASE {EMPTY_DB}",
]

ACCOUNT_USAGE_TABLES = """CREATE TABLE {au}.TABLES (
    TABLE_ID NUMBER, TABLE_CATALOG VARCHAR, TABLE_SCHEMA VARCHAR, TABLE_NAME VARCHAR,
    TABLE_TYPE VARCHAR, ROW_COUNT NUMBER, BYTES NUMBER, CREATED TIMESTAMP_LTZ,
    LAST_ALTERED TIMESTAMP_LTZ, COMMENT VARCHAR, DELETED TIMESTAMP_LTZ)"""
ACCOUNT_USAGE_COLUMNS = """CREATE TABLE {au}.COLUMNS (
    COLUMN_ID NUMBER, TABLE_CATALOG VARCHAR, TABLE_SCHEMA VARCHAR, TABLE_NAME VARCHAR,
    COLUMN_NAME VARCHAR, ORDINAL_POSITION NUMBER, DATA_TYPE VARCHAR, COMMENT VARCHAR,
    DELETED TIMESTAMP_LTZ)"""
ACCOUNT_USAGE_VIEWS = """CREATE TABLE {au}.VIEWS (
    TABLE_ID NUMBER, TABLE_CATALOG VARCHAR, TABLE_SCHEMA VARCHAR, TABLE_NAME VARCHAR,
    VIEW_DEFINITION VARCHAR, DELETED TIMESTAMP_LTZ)"""
ACCOUNT_USAGE_QUERY_HISTORY = """CREATE TABLE {au}.QUERY_HISTORY (
    QUERY_ID VARCHAR, QUERY_TEXT VARCHAR, DATABASE_NAME VARCHAR, SCHEMA_NAME VARCHAR,
    QUERY_TYPE VARCHAR, SESSION_ID NUMBER, USER_NAME VARCHAR, ROLE_NAME VARCHAR,
    WAREHOUSE_NAME VARCHAR, WAREHOUSE_SIZE VARCHAR, QUERY_TAG VARCHAR, EXECUTION_STATUS VARCHAR,
    ERROR_CODE VARCHAR, ERROR_MESSAGE VARCHAR, START_TIME {ts}, END_TIME {ts},
    BYTES_SCANNED NUMBER, ROWS_PRODUCED NUMBER)"""
# fakesnow has no tags (CREATE TAG / ALTER TABLE ... SET TAG) and no ACCOUNT_USAGE: a table with
# TAG_REFERENCES' columns stands in for the view.
ACCOUNT_USAGE_TAG_REFERENCES = """CREATE TABLE {au}.TAG_REFERENCES (
    TAG_DATABASE VARCHAR, TAG_SCHEMA VARCHAR, TAG_ID NUMBER, TAG_NAME VARCHAR, TAG_VALUE VARCHAR,
    OBJECT_DATABASE VARCHAR, OBJECT_SCHEMA VARCHAR, OBJECT_ID NUMBER, OBJECT_NAME VARCHAR,
    OBJECT_DELETED TIMESTAMP_LTZ, DOMAIN VARCHAR, COLUMN_ID NUMBER, COLUMN_NAME VARCHAR)"""
ACCOUNT_USAGE_ACCESS_HISTORY = """CREATE TABLE {au}.ACCESS_HISTORY (
    QUERY_ID VARCHAR, QUERY_START_TIME TIMESTAMP_LTZ, USER_NAME VARCHAR,
    DIRECT_OBJECTS_ACCESSED ARRAY, BASE_OBJECTS_ACCESSED ARRAY, OBJECTS_MODIFIED ARRAY)"""

# (catalog, schema, name, type, rows, bytes, created, last_altered, comment, deleted)
AU_TABLES: list[tuple[Any, ...]] = [
    (1, DB, "PUBLIC", "ORDERS", "BASE TABLE", 1000, 123_456, ts(1), ts(9, 30, 5), "one row per order", None),
    (2, DB, "PUBLIC", "ORDERS_V", "VIEW", None, None, ts(2), ts(2), None, None),
    (3, DB, "PUBLIC", "DAILY_MV", "MATERIALIZED VIEW", 7, 2048, ts(3), ts(9), None, None),
    (4, DB, "PUBLIC", "OLD_ORDERS", "BASE TABLE", 5, 512, ts(0), ts(0), None, ts(8)),  # dropped
    (5, DB, "STAGING", "EXT_EVENTS", "EXTERNAL TABLE", None, None, ts(4), ts(4), None, None),
    (6, HOSTILE_DB, HOSTILE_SCHEMA, HOSTILE_TABLE, "BASE TABLE", 2, 1024, ts(5), ts(10, 0, 0, 250_000), "ünï", None),
    (7, "OTHER_DB", "PUBLIC", "T", "BASE TABLE", 0, 0, ts(6), ts(6), None, None),
]
# (table id, column name, position, type, comment, deleted)
AU_COLUMNS: list[tuple[Any, ...]] = [
    (1, "ID", 1, "NUMBER", "order id", None),
    (1, "AMOUNT", 2, "FLOAT", None, None),
    (1, "LEGACY", 3, "TEXT", None, ts(8)),  # a dropped column
    (2, "ID", 1, "NUMBER", None, None),
    (3, "DAY", 1, "DATE", None, None),
    (4, "ID", 1, "NUMBER", None, ts(8)),
    (5, "VALUE", 1, "VARIANT", None, None),
    (6, HOSTILE_COLUMNS[0], 1, "NUMBER", None, None),
    (6, HOSTILE_COLUMNS[1], 2, "TEXT", "semi", None),
    (7, "X", 1, "NUMBER", None, None),
]
# (tag db, tag schema, tag id, tag name, value, object db, object schema, object id, object name,
#  object deleted, domain, column id, column name)
AU_TAG_REFERENCES: list[tuple[Any, ...]] = [
    ("GOV", "TAGS", 1, "COST_CENTER", "finance", DB, "PUBLIC", 1, "ORDERS", None, "TABLE", None, None),
    ("GOV", "TAGS", 2, "PII", "", DB, "PUBLIC", 1, "ORDERS", None, "TABLE", None, None),
    ("GOV", "TAGS", 1, "COST_CENTER", "bi", DB, "PUBLIC", 2, "ORDERS_V", None, "TABLE", None, None),
    # the same tag name from two schemas on one table: both kept, qualified
    ("GOV", "TAGS", 3, "OWNER", "data-eng", HOSTILE_DB, HOSTILE_SCHEMA, 6, HOSTILE_TABLE, None, "TABLE", None, None),
    ("GOV", "LEGACY", 4, "OWNER", 'ünï "q"', HOSTILE_DB, HOSTILE_SCHEMA, 6, HOSTILE_TABLE, None, "TABLE", None, None),
    # a column tag, a dropped table's tag and a schema's tag: none is a table tag
    ("GOV", "TAGS", 2, "PII", "email", DB, "PUBLIC", 1, "ORDERS", None, "COLUMN", 11, "AMOUNT"),
    ("GOV", "TAGS", 1, "COST_CENTER", "old", DB, "PUBLIC", 4, "OLD_ORDERS", ts(8), "TABLE", None, None),
    ("GOV", "TAGS", 1, "COST_CENTER", "ops", DB, None, 9, "STAGING", None, "SCHEMA", None, None),
]
AU_VIEWS = [(2, DB, "PUBLIC", "ORDERS_V", "create view ORDERS_V as select ID from ORDERS")]

# Query history of the seed day. The query-log tests read the window a data interval of
# [10:00, 11:00) gives with the default 45-minute lag: [09:15, 10:15).
QUERY_HISTORY: list[dict[str, Any]] = [
    {"id": "q-before", "text": "SELECT 1", "type": "SELECT", "start": ts(9, 14), "end": ts(9, 14, 59, 999_999)},
    {"id": "q-boundary", "text": "SELECT * FROM ANALYTICS.PUBLIC.ORDERS", "type": "SELECT",
     "start": ts(9, 14, 58), "end": ts(9, 15), "rows": 3, "bytes": 4096, "wh": "ANALYTICS_WH", "size": "X-Small",
     "role": "ANALYST", "user": "ALICE", "db": DB, "schema": "PUBLIC"},
    {"id": "q-failed", "text": "SELECT * FROM ANALYTICS.PUBLIC.MISSING", "type": "SELECT", "start": ts(9, 40),
     "end": ts(9, 40, 1), "status": "FAIL", "code": "002003",
     "message": "SQL compilation error: Object 'ANALYTICS.PUBLIC.MISSING' does not exist or not authorized.",
     "user": "BOB", "role": "ANALYST", "wh": "ANALYTICS_WH", "size": "X-Small", "bytes": 0, "rows": 0},
    {"id": "q-long", "text": "CREATE TEMPORARY TABLE TMP_ORDERS AS SELECT ID, AMOUNT FROM ORDERS",
     "type": "CREATE_TABLE_AS_SELECT", "start": ts(7), "end": ts(9, 50), "user": "ETL", "role": "TRANSFORMER",
     "wh": "ETL_WH", "size": "Large", "tag": '{"dag_id": "etl", "task": "load"}', "bytes": 987_654_321,
     "rows": 3, "db": DB, "schema": "PUBLIC", "session": 42},
    {"id": "q-insert", "text": "INSERT INTO ORDERS_SUMMARY (ID, TOTAL) SELECT ID, AMOUNT FROM TMP_ORDERS",
     "type": "INSERT", "start": ts(9, 55), "end": ts(10, 14, 59, 999_999), "user": "ETL", "role": "TRANSFORMER",
     "wh": "ETL_WH", "size": "Large", "bytes": 2048, "rows": 3, "db": DB, "schema": "PUBLIC", "session": 42},
    {"id": "q-empty", "text": "", "type": "UNKNOWN", "start": ts(10), "end": ts(10, 0, 1)},
    {"id": "q-drop", "text": "DROP TABLE TMP_ORDERS", "type": "DROP", "start": ts(10, 14), "end": ts(10, 14, 1),
     "db": DB, "schema": "PUBLIC", "session": 42, "user": "ETL"},
    {"id": "q-after", "text": "SELECT 2", "type": "SELECT", "start": ts(10, 14, 59), "end": ts(10, 15)},
]


def _obj(name: str, domain: str = "Table", columns: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"objectDomain": domain, "objectId": zlib.crc32(name.encode()), "objectName": name}
    if columns is not None:
        obj["columns"] = columns
    return obj


def _src(table: str, column: str, domain: str = "Table") -> dict[str, Any]:
    return {"columnName": column, "objectDomain": domain, "objectId": zlib.crc32(table.encode()), "objectName": table}


HOSTILE_OBJECT_NAME = f'"{HOSTILE_DB}".{_q(HOSTILE_SCHEMA)}.{_q(HOSTILE_TABLE)}'

# ACCESS_HISTORY rows (query id, start, direct objects accessed, objects modified). The lineage
# tests read [09:00, 10:00) (a data interval of [12:00, 13:00) with the default 3-hour lag).
ACCESS_HISTORY: list[tuple[str, dt.datetime, list[Any], list[Any]]] = [
    # INSERT INTO ORDERS_SUMMARY SELECT v.ID, o.AMOUNT FROM ORDERS_V v JOIN ORDERS o …
    ("a-summary", ts(9, 5), [_obj(f"{DB}.PUBLIC.ORDERS"), _obj(f"{DB}.PUBLIC.ORDERS_V", "View")], [
        _obj(f"{DB}.PUBLIC.ORDERS_SUMMARY", columns=[
            {"columnName": "TOTAL", "directSources": [_src(f"{DB}.PUBLIC.ORDERS", "AMOUNT")],
             "baseSources": [_src(f"{DB}.PUBLIC.ORDERS", "AMOUNT")]},
            {"columnName": "ID", "directSources": [_src(f"{DB}.PUBLIC.ORDERS_V", "ID", "View")],
             "baseSources": [_src(f"{DB}.PUBLIC.ORDERS", "ID")]},
        ]),
    ]),
    # a second writer of the same table, merged into the same event
    ("a-summary-2", ts(9, 59, 59, 999_999), [_obj(f"{DB}.STAGING.RAW_ORDERS")], [
        _obj(f"{DB}.PUBLIC.ORDERS_SUMMARY", columns=[
            {"columnName": "TOTAL", "directSources": [_src(f"{DB}.STAGING.RAW_ORDERS", "PAYLOAD")]},
        ]),
    ]),
    # only baseSources recorded, into the hostile table
    ("a-hostile", ts(9, 10), [_obj(f"{DB}.STAGING.RAW_ORDERS")], [
        _obj(HOSTILE_OBJECT_NAME, columns=[
            {"columnName": HOSTILE_COLUMNS[0], "directSources": [],
             "baseSources": [_src(f"{DB}.STAGING.RAW_ORDERS", "ID")]},
        ]),
    ]),
    # COPY INTO from a stage: no table source, no event
    ("a-copy", ts(9, 20), [_obj(f"{DB}.STAGING.MY_STAGE", "Stage")], [
        _obj(f"{DB}.STAGING.RAW_ORDERS", columns=[{"columnName": "ID", "directSources": [], "baseSources": []}]),
    ]),
    # DELETE FROM ORDERS USING RAW_ORDERS: no column record, table-level edge from what was read
    ("a-delete", ts(9, 30), [_obj(f"{DB}.PUBLIC.ORDERS"), _obj(f"{DB}.STAGING.RAW_ORDERS")], [
        _obj(f"{DB}.PUBLIC.ORDERS"),
    ]),
    # a read: OBJECTS_MODIFIED is empty
    ("a-read", ts(9, 40), [_obj(f"{DB}.PUBLIC.ORDERS")], []),
    # outside the window on both sides
    ("a-before", ts(8, 59, 59), [_obj(f"{DB}.PUBLIC.ORDERS")], [
        _obj(f"{DB}.PUBLIC.EARLY", columns=[{"columnName": "A", "directSources": [_src(f"{DB}.PUBLIC.ORDERS", "ID")]}]),
    ]),
    ("a-after", ts(10), [_obj(f"{DB}.PUBLIC.ORDERS")], [
        _obj(f"{DB}.PUBLIC.LATE", columns=[{"columnName": "A", "directSources": [_src(f"{DB}.PUBLIC.ORDERS", "ID")]}]),
    ]),
]


def _sql_value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, dt.datetime):
        return _lit(value)
    if isinstance(value, (int, float)):
        return str(value)
    return quote_literal(str(value))


def _insert(table: str, rows: list[tuple[Any, ...]]) -> str:
    values = ", ".join("(" + ", ".join(_sql_value(v) for v in row) + ")" for row in rows)
    return f"INSERT INTO {table} VALUES {values}"


def _query_history_rows() -> list[tuple[Any, ...]]:
    rows = []
    for q in QUERY_HISTORY:
        rows.append((
            q["id"], q["text"], q.get("db"), q.get("schema"), q["type"], q.get("session", 1), q.get("user", "SYSTEM"),
            q.get("role"), q.get("wh"), q.get("size"), q.get("tag", ""), q.get("status", "SUCCESS"), q.get("code"),
            q.get("message"), q["start"], q["end"], q.get("bytes"), q.get("rows"),
        ))
    return rows


def seed_statements() -> list[str]:
    au = "SNOWFLAKE.ACCOUNT_USAGE"
    std = STANDARD_ACCOUNT_USAGE
    statements = list(INFORMATION_SCHEMA_SEED)
    statements += [
        "CREATE DATABASE SNOWFLAKE",
        f"CREATE SCHEMA {au}",
        ACCOUNT_USAGE_TABLES.format(au=au),
        ACCOUNT_USAGE_COLUMNS.format(au=au),
        ACCOUNT_USAGE_VIEWS.format(au=au),
        ACCOUNT_USAGE_QUERY_HISTORY.format(au=au, ts="TIMESTAMP_LTZ"),
        ACCOUNT_USAGE_ACCESS_HISTORY.format(au=au),
        ACCOUNT_USAGE_TAG_REFERENCES.format(au=au),
        _insert(f"{au}.TAG_REFERENCES", AU_TAG_REFERENCES),
        _insert(f"{au}.TABLES", AU_TABLES),
        _insert(f"{au}.COLUMNS", [
            (i, *next(t[1:4] for t in AU_TABLES if t[0] == c[0]), *c[1:]) for i, c in enumerate(AU_COLUMNS)
        ]),
        _insert(f"{au}.VIEWS", [(*v, None) for v in AU_VIEWS]),
        _insert(f"{au}.QUERY_HISTORY", _query_history_rows()),
        # Standard edition stand-in: QUERY_HISTORY copied as TIMESTAMP_NTZ (UTC wall-clock), no
        # ACCESS_HISTORY
        f"CREATE DATABASE {STANDARD_DB}",
        f"CREATE SCHEMA {std}",
        ACCOUNT_USAGE_QUERY_HISTORY.format(au=std, ts="TIMESTAMP_NTZ"),
        _insert(f"{std}.QUERY_HISTORY", _query_history_rows()),
    ]
    for query_id, start, accessed, modified in ACCESS_HISTORY:
        statements.append(
            f"INSERT INTO {au}.ACCESS_HISTORY SELECT '{query_id}', {_lit(start)}, 'ETL', "
            f"{_json_lit(accessed)}, {_json_lit(accessed)}, {_json_lit(modified)}"
        )
    return statements


# --- the server --------------------------------------------------------------------------------


@dataclass
class SnowflakeStandIn:
    host: str
    port: int
    ca_bundle: Path
    pid: int
    log_path: Path

    def connection_extra(self, **overrides: Any) -> dict[str, Any]:
        extra: dict[str, Any] = {
            "account": "fakesnow",
            "host": self.host,
            "port": self.port,
            "insecure_mode": True,
            # no out-of-band telemetry to Snowflake's servers
            "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
        }
        extra.update(overrides)
        return extra

    def connection_json(self, **overrides: Any) -> str:
        """The ``snowflake`` Airflow connection, for ``AIRFLOW_CONN_<ID>``."""
        return json.dumps(
            {"conn_type": "snowflake", "login": "fake", "password": "snow", "extra": self.connection_extra(**overrides)}
        )

    def env(self, conn_id: str = "snowflake_default") -> dict[str, str]:
        return {f"AIRFLOW_CONN_{conn_id.upper()}": self.connection_json(), "REQUESTS_CA_BUNDLE": str(self.ca_bundle)}

    def execute(self, statements: list[str]) -> None:
        """Run statements through the real SnowflakeHook (used to seed)."""
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        with pytest.MonkeyPatch.context() as mp:
            for k, v in self.env("snowflake_standin_seed").items():
                mp.setenv(k, v)
            conn = SnowflakeHook(snowflake_conn_id="snowflake_standin_seed").get_conn()
            try:
                cur = conn.cursor()
                for sql in statements:
                    cur.execute(sql)
            finally:
                conn.close()


def _fakesnow_python() -> str:
    """fakesnow pins sqlglot~=30.22 (the Databricks stand-in pins 30.24): `make install-test`
    gives it its own venv. Fall back to this interpreter where fakesnow is installed here."""
    own = Path(__file__).resolve().parents[2] / ".venv-standins" / "fakesnow" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


@pytest.fixture(scope="session")
def snowflake_standin() -> Iterator[SnowflakeStandIn]:
    workdir = Path(tempfile.mkdtemp(prefix="fakesnow-"))
    cert, key = make_self_signed_cert(workdir)
    port = free_port()
    log_path = workdir / "server.log"
    proc = ManagedProcess("fakesnow", log_path, stop_timeout_s=10.0).start(
        [_fakesnow_python(), "-m", "uvicorn", "fakesnow.server:app", "--host", "127.0.0.1", "--port", str(port),
         "--ssl-keyfile", str(key), "--ssl-certfile", str(cert), "--log-level", "warning",
         # the connector keeps connections alive; don't wait for them at shutdown
         "--timeout-graceful-shutdown", "1"],
        cwd=workdir,
    )
    try:
        proc.wait_until(lambda: accepts_connections(port), timeout_s=READY_TIMEOUT_S, poll_s=0.1)
        assert proc.pid is not None
        standin = SnowflakeStandIn("127.0.0.1", port, cert, proc.pid, log_path)
        standin.execute(seed_statements())
        yield standin
    finally:
        proc.stop()


@pytest.fixture
def snowflake_conn(snowflake_standin: SnowflakeStandIn, monkeypatch: pytest.MonkeyPatch) -> SnowflakeStandIn:
    """``snowflake_default`` pointing at the stand-in for this test."""
    for k, v in snowflake_standin.env().items():
        monkeypatch.setenv(k, v)
    return snowflake_standin
