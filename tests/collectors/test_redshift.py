"""Redshift collector functions through the real RedshiftSQLHook and redshift_connector against
the stand-in (PostgreSQL behind pgbouncer, tests/standins/redshift.py)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import pytest

from monte_carlo_push_provider.collectors import redshift as rs
from monte_carlo_push_provider.collectors.common import NameFilter
from tests.standins.redshift import HOSTILE_DATABASE, RedshiftCatalog, RedshiftStandIn

UTC = timezone.utc


def _hook(standin: RedshiftStandIn, monkeypatch: pytest.MonkeyPatch) -> Any:
    from airflow.providers.amazon.aws.hooks.redshift_sql import RedshiftSQLHook

    standin.use(monkeypatch)
    return RedshiftSQLHook(redshift_conn_id="redshift_default")


def test_reassemble_keeps_row_boundary_spaces_and_strips_padding() -> None:
    # "FROM |t" split at a row boundary: the space belongs to the statement.
    assert rs.reassemble(["SELECT * FROM ", "t" + " " * 199]) == "SELECT * FROM t"
    assert rs.reassemble(["SELECT 1\\nFROM", " t   "], unescape_newlines=True) == "SELECT 1\nFROM t"
    assert rs.reassemble([]) == ""


def test_column_type_adds_sizes() -> None:
    assert rs.column_type("character varying", 256) == "character varying(256)"
    assert rs.column_type("numeric", None, 12, 2) == "numeric(12,2)"
    assert rs.column_type("integer", None, 32, 0) == "integer"
    assert rs.column_type(None) == "unknown"


def test_no_redshift_only_sql_in_the_collector() -> None:
    # Everything the collector sends must run on the stand-in (see the module docstring); the
    # forms PostgreSQL cannot emulate stay out of the SQL constants.
    assert rs.REDSHIFT_ONLY_SQL == {}
    statements = {k: v for k, v in vars(rs).items() if k.endswith("_SQL") and isinstance(v, str)}
    assert len(statements) == 16  # a new statement must be added here knowingly
    for name, sql in statements.items():
        assert not re.search(r"LISTAGG|CONVERT_TIMEZONE|DATEADD|GETDATE|\\\\", sql, re.IGNORECASE), name


def test_list_databases_skips_redshift_internal_and_datashares(
    redshift_catalog: RedshiftCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = _hook(redshift_catalog.standin, monkeypatch).get_conn()
    try:
        # The stand-in lists padb_harvest and the datashare consumer shared_sales as well.
        assert rs.list_databases(conn) == ["dev", HOSTILE_DATABASE]
        assert rs.list_databases(conn, NameFilter(exclude=["dev"])) == [HOSTILE_DATABASE]
        assert rs.list_databases(conn, NameFilter(include=["ü*"])) == [HOSTILE_DATABASE]
    finally:
        conn.close()


def test_connect_reaches_another_database_with_the_same_credentials(
    redshift_catalog: RedshiftCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = _hook(redshift_catalog.standin, monkeypatch)
    conn = rs.connect(hook, HOSTILE_DATABASE)
    try:
        cur = conn.cursor()
        cur.execute("SELECT current_database()")
        assert cur.fetchall()[0][0] == HOSTILE_DATABASE
    finally:
        conn.close()
    assert hook.conn.schema == "dev"  # the user's connection is untouched


def test_stand_in_table_info_separates_visible_rows(
    redshift_catalog: RedshiftCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Guards the stand-in: a deleted-but-not-vacuumed row counts in tbl_rows only, so the
    # collector's choice of estimated_visible_rows is actually tested.
    hook = _hook(redshift_catalog.standin, monkeypatch)
    rows = hook.get_records(
        'SELECT tbl_rows, estimated_visible_rows, size FROM svv_table_info WHERE "schema" = %s AND "table" = %s',
        ("analytics", "orders"),
    )
    assert [tuple(int(v) for v in r) for r in rows] == [(4, 3, 1)]


def _seed_history(redshift: RedshiftStandIn) -> str:
    # > 8,000 characters (three SYS text rows), newlines, unicode, and a space that ends the first
    # 200-character STL text row (it must not be trimmed away).
    text = (
        "SELECT " + "x" * 192 + " AS y,\n"
        + "".join(f"       amount AS \"a_{i:04d}\",\n" for i in range(300))
        + "       'ünïcode' AS label\nFROM analytics.orders\nWHERE id > 0"
    )
    assert text[199] == " " and text.replace("\n", "\\n")[199] == " "
    assert len(text) > 8000
    redshift.log_query(text, query_id=101, start=datetime(2026, 3, 1, 10, 0, 0), session_id=7)
    redshift.log_query("SELECT 1", query_id=102, start=datetime(2026, 3, 1, 9, 49, 0), seconds=60)  # ends at start
    redshift.log_query("SELECT 2", query_id=103, start=datetime(2026, 3, 1, 10, 49, 0), seconds=60)  # ends at end
    redshift.log_query("SELECT boom", query_id=104, start=datetime(2026, 3, 1, 10, 5, 0), status="failed",
                       error_message="column \"boom\" does not exist", returned_rows=None)
    return text


@pytest.mark.parametrize("source", ["sys", "stl"])
def test_iter_queries_reassembles_full_text_in_the_window(
    redshift: RedshiftStandIn, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    text = _seed_history(redshift)
    conn = _hook(redshift, monkeypatch).get_conn()
    try:
        queries = list(rs.iter_queries(
            conn, start=datetime(2026, 3, 1, 9, 50, tzinfo=UTC), end=datetime(2026, 3, 1, 10, 50, tzinfo=UTC),
            source=source, fetch_size=3,  # smaller than the long query's text rows: grouping spans fetches
        ))
    finally:
        conn.close()
    assert [q.query_id for q in queries] == ["102", "101", "104"]
    long = queries[1]
    assert long.text == text  # whole, byte for byte, from the text rows
    assert long.start_time == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert long.end_time == datetime(2026, 3, 1, 10, 0, 1, tzinfo=UTC)
    assert (long.user, long.database, long.session_id, long.transaction_id) == (redshift.user, "dev", "7", 1010)
    failed = queries[2]
    assert failed.text == "SELECT boom" and not failed.succeeded
    if source == "sys":
        assert (long.status, long.query_type, long.label, long.returned_rows) == ("success", "SELECT", "default", 0)
        assert (failed.status, failed.error_message) == ("failed", 'column "boom" does not exist')
    else:  # stl_query has neither query_type nor an error message, only "aborted"
        assert (long.status, long.query_type, long.label, long.returned_rows) == ("success", None, "default", None)
        assert (failed.status, failed.error_message) == ("canceled", None)


def test_lineage_read_has_what_lineage_needs_of_the_succeeded_statements(
    redshift: RedshiftStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _seed_history(redshift)
    window = {"start": datetime(2026, 3, 1, 9, 50, tzinfo=UTC), "end": datetime(2026, 3, 1, 10, 50, tzinfo=UTC)}
    conn = _hook(redshift, monkeypatch).get_conn()
    try:
        full = list(rs.iter_queries(conn, **window, fetch_size=3))
        lineage = list(rs.iter_queries(conn, **window, fetch_size=3, for_lineage=True))
    finally:
        conn.close()
    assert [q.query_id for q in lineage] == ["102", "101"]  # the failed 104 is not read at all
    assert lineage[1].text == text
    # the engine's inputs are the query-log read's, value for value
    assert [rs.lineage_row(q) for q in lineage] == [rs.lineage_row(q) for q in full if q.succeeded]
    assert lineage[1].elapsed_time is None and full[1].elapsed_time is not None  # what it leaves out


def test_iter_queries_rejects_unknown_source(redshift: RedshiftStandIn) -> None:
    with pytest.raises(ValueError, match="source must be one of sys, stl"):
        next(rs.iter_queries(object(), start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 1, 2, tzinfo=UTC),
                             source="svl"))


# --- dropped-table cleanup: the scopes the metadata collector declares --------------------------


def test_scope_per_database_with_external_tables_as_an_option(
    redshift_catalog: RedshiftCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One scope per database read, through the schema filter; whether Spectrum tables were read
    (full schema only) is part of the scope, so an hourly freshness run never finds them dropped."""
    from monte_carlo_push_provider.manifest import validate_manifest
    from monte_carlo_push_provider.operators.redshift import RedshiftMetadataCollectorOperator
    from tests.conftest import make_context

    redshift_catalog.standin.use(monkeypatch)

    def collect(**kwargs: Any) -> dict[str, Any]:
        op = RedshiftMetadataCollectorOperator(task_id="m", **kwargs)
        return validate_manifest(op.execute(make_context(task_id="m")))

    full = collect(exclude_schemas=["tmp_*"])
    assert full["scope"] == [
        {"database": db, "schemas": None, "exclude_schemas": ["tmp_*"], "options": {"external_tables": True}}
        for db in ("dev", HOSTILE_DATABASE)
    ]
    assert full["complete"] is True and any(e["metadata"]["schema"] == "spectrum" for e in full["events"])
    hourly = collect(databases=["DEV"], schemas=["analytics"], only_freshness_and_volume=True)
    assert hourly["scope"] == [
        {"database": "dev", "schemas": ["analytics"], "exclude_schemas": None, "options": {"external_tables": False}}
    ]
