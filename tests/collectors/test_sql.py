"""Generic common.sql collector: real SQLite through Airflow's SqliteHook."""

from __future__ import annotations

import json
import sqlite3

import pytest

from monte_carlo_push_provider.manifest import validate_manifest
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.sql import SqlMetadataCollectorOperator
from tests.conftest import make_context


@pytest.fixture
def sqlite_wh(tmp_path, monkeypatch):
    path = tmp_path / "wh.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, amount NUMERIC(12,2), note TEXT);"
        'CREATE TABLE "Weird ""Name""; DROP TABLE orders; --" ("Col ""1""" TEXT, "ünïcode" INT);'
        "CREATE TABLE empty_table (x INT);"
        "CREATE VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > 10;"
    )
    db.executemany("INSERT INTO orders (amount, note) VALUES (?, ?)", [(i, "n") for i in range(30)])
    db.execute("ANALYZE")
    db.commit()
    db.close()
    monkeypatch.setenv("AIRFLOW_CONN_WH", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    return path


def collect(**kwargs):
    op = SqlMetadataCollectorOperator(task_id="collect", conn_id="wh", database="shop", resource_type="data-lake", **kwargs)
    return op.execute(make_context(task_id="collect"))


def test_sqlite_catalog(sqlite_wh):
    manifest = collect()
    validate_manifest(manifest)
    by_name = {e["metadata"]["name"]: e for e in manifest["events"]}
    assert set(by_name) == {"orders", 'Weird "Name"; DROP TABLE orders; --', "empty_table", "big_orders"}
    orders = by_name["orders"]
    assert orders["type"] == "TABLE"
    assert orders["metadata"] == {"name": "orders", "database": "shop", "schema": "main"}
    assert orders["fields"] == [
        {"name": "id", "type": "INTEGER"}, {"name": "amount", "type": "NUMERIC(12,2)"}, {"name": "note", "type": "TEXT"},
    ]
    assert orders["volume"]["row_count"] == 30
    assert orders["volume"]["byte_count"] > 0
    view = by_name["big_orders"]
    assert view["type"] == "VIEW" and "amount > 10" in view["metadata"]["view_query"]
    assert "volume" not in view
    hostile = by_name['Weird "Name"; DROP TABLE orders; --']
    assert [f["name"] for f in hostile["fields"]] == ['Col "1"', "ünïcode"]


def test_only_freshness_and_volume_skips_columns(sqlite_wh):
    manifest = collect(only_freshness_and_volume=True)
    assert all("fields" not in e for e in manifest["events"])
    assert all("view_query" not in e["metadata"] for e in manifest["events"])


def test_schema_filter_excludes(sqlite_wh):
    assert collect(exclude_schemas=["main"])["events"] == []


def test_collect_then_push(sqlite_wh, mc_conn):
    mc_conn.use("data-lake")
    manifest = collect()
    result = MonteCarloPushOperator(task_id="push", manifests=manifest, min_push_interval=None).execute(
        make_context(task_id="push")
    )
    stored = {e["event"]["relational_asset"]["metadata"]["name"] for e in mc_conn.events("metadata")}
    assert 'Weird "Name"; DROP TABLE orders; --' in stored and len(stored) == 4
    assert mc_conn.pushes("metadata")[0]["resource_type"] == "data-lake"
    assert len(result["invocation_ids"]) == 1


# --- One bad object does not take down the catalog (issue 14, item 6) -------------------------


def _two_hundred(path, defect: str) -> None:
    """199 good tables and one object of the given defect, in a real SQLite file."""
    db = sqlite3.connect(path)
    db.executescript("".join(f"CREATE TABLE t{i:03d} (id INT, v TEXT);" for i in range(199)))
    if defect == "empty_name":
        db.execute('CREATE TABLE "" (x INT)')
    elif defect == "unreadable_object":
        # a stale view: its table was dropped, so SQLite cannot say what its columns are
        db.executescript("CREATE TABLE gone (x INT); CREATE VIEW stale AS SELECT x FROM gone; DROP TABLE gone;")
    elif defect == "non_utf8_name":
        db.execute("CREATE TABLE zzmarkzz (x INT)")
    db.commit()
    db.close()
    if defect == "non_utf8_name":
        # SQL text cannot carry bytes that are not UTF-8; write them into the file, same length
        raw = path.read_bytes()
        assert raw.count(b"zzmarkzz") >= 2
        path.write_bytes(raw.replace(b"zzmarkzz", b"zz\xff\xfe\xfd\xfczz"))


@pytest.mark.parametrize("defect", ["empty_name", "unreadable_object", "non_utf8_name"])
def test_one_bad_object_is_skipped_and_counted(tmp_path, monkeypatch, caplog, defect):
    path = tmp_path / "bad.db"
    _two_hundred(path, defect)
    monkeypatch.setenv("AIRFLOW_CONN_WH", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    manifest = collect()
    validate_manifest(manifest)
    names = {e["metadata"]["name"] for e in manifest["events"]}
    assert names == {f"t{i:03d}" for i in range(199)}  # 199 of 200
    assert manifest["stats"]["skipped"] == {defect: 1}
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and defect.replace("_", " ") in r.getMessage()]
    assert len(warnings) == 1


def test_clean_catalog_reports_no_skips(sqlite_wh):
    assert collect()["stats"]["skipped"] == {}


def test_hook_params_reach_the_hook_and_dialect_picks_the_catalog(sqlite_wh):
    op = SqlMetadataCollectorOperator(
        task_id="collect", conn_id="wh", database="shop", resource_type="data-lake", hook_params={"log_sql": False}
    )
    hook = op.get_source()
    assert hook.log_sql is False and hook.dialect_name == "sqlite"
    from monte_carlo_push_provider.collectors.sql import catalog_family

    assert catalog_family(hook) == "sqlite"


# --- View lineage from the catalog's view definitions (issue 18, item 1) -----------------------

from monte_carlo_push_provider.operators.sql import SqlViewLineageCollectorOperator  # noqa: E402


def _edges(manifest):
    """{view: {"sources": {...}, "columns": {column: {(source table, source column), ...}}}}."""
    out = {}
    for event in manifest["events"]:
        names = {s["asset_id"]: f'{s["schema"]}.{s["name"]}' for s in event["sources"]}
        dest = event["destination"]
        out[f'{dest["schema"]}.{dest["name"]}'] = {
            "type": dest["type"],
            "sources": set(names.values()),
            "columns": {f["name"]: {(names[sf["asset_id"]], sf["field_name"]) for sf in f["source_fields"]}
                        for f in event.get("fields") or []},
        }
    return out


def view_lineage(conn_id="wh", database="shop", **kwargs):
    op = SqlViewLineageCollectorOperator(task_id="views", conn_id=conn_id, database=database,
                                         resource_type="data-lake", **kwargs)
    return op.execute(make_context(task_id="views"))


def test_sqlite_view_lineage_keeps_the_catalogs_spelling(sqlite_wh):
    db = sqlite3.connect(sqlite_wh)
    db.executescript(
        'CREATE TABLE "Order Items" (order_id INT, Quantity INT, "Unit Price" REAL);'
        'CREATE VIEW "Order Totals" AS SELECT order_id, SUM(quantity * "unit price") AS Total '
        '  FROM "Order Items" JOIN orders ON orders.id = order_id GROUP BY order_id;'
        "CREATE VIEW everything AS SELECT * FROM big_orders;"
    )
    db.close()
    manifest = view_lineage()
    validate_manifest(manifest)
    assert manifest["kind"] == "lineage" and manifest["resource_type"] == "data-lake"
    edges = _edges(manifest)
    assert edges["main.big_orders"] == {
        "type": "VIEW", "sources": {"main.orders"},
        "columns": {"id": {("main.orders", "id")}, "amount": {("main.orders", "amount")}},
    }
    totals = edges["main.Order Totals"]
    assert totals["sources"] == {"main.Order Items", "main.orders"}
    assert totals["columns"]["Total"] == {("main.Order Items", "Quantity"), ("main.Order Items", "Unit Price")}
    # SELECT * resolves through the catalog's columns; a view reading a view names it as a VIEW
    assert edges["main.everything"]["columns"] == {"id": {("main.big_orders", "id")},
                                                    "amount": {("main.big_orders", "amount")}}
    source = next(e for e in manifest["events"] if e["destination"]["name"] == "everything")["sources"][0]
    assert source["type"] == "VIEW"
    assert manifest["stats"]["views"] == 3 and manifest["stats"]["skipped"] == {}
    assert all(e["destination"]["database"] == "shop" for e in manifest["events"])


def test_view_lineage_without_columns(sqlite_wh):
    manifest = view_lineage(column_lineage=False)
    assert [e["destination"]["name"] for e in manifest["events"]] == ["big_orders"]
    assert "fields" not in manifest["events"][0]


def test_view_lineage_refuses_freshness_only():
    with pytest.raises(ValueError, match="only_freshness_and_volume"):
        SqlViewLineageCollectorOperator(task_id="v", conn_id="wh", database="d", resource_type="data-lake",
                                        only_freshness_and_volume=True)


def test_sqlite_view_lineage_pushed_to_the_sandbox(sqlite_wh, mc_conn):
    mc_conn.use("data-lake")
    result = MonteCarloPushOperator(task_id="push", manifests=[collect(), view_lineage()],
                                    min_push_interval=None).execute(make_context(task_id="push"))
    assert len(result["invocation_ids"]) == 2
    (stored,) = [e["event"] for e in mc_conn.events("lineage")]
    assert stored["destination"]["name"] == "big_orders"
    assert {s["name"] for s in stored["sources"]} == {"orders"}
    assert mc_conn.pushes("lineage")[0]["invocation_id"] in result["invocation_ids"]


@pytest.fixture
def postgres_wh(postgres_server, monkeypatch):
    """A database on the embedded PostgreSQL with tables, a quoted name, views across schemas and a
    materialized view; the ``pg`` connection reaches it through the real PostgresHook."""
    name = "views_shop"
    if not postgres_server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]):
        postgres_server.create_database(name)
        for statement in (
            "CREATE SCHEMA mart",
            "CREATE TABLE public.orders (id INT, customer_id INT, amount NUMERIC(12,2))",
            'CREATE TABLE public."Customers" (id INT, "Country" TEXT)',
            'CREATE VIEW mart.revenue_by_country AS SELECT c."Country", SUM(o.amount) AS revenue '
            'FROM orders o JOIN "Customers" c ON c.id = o.customer_id GROUP BY c."Country"',
            "CREATE VIEW mart.big AS SELECT id, amount * 2 AS doubled FROM public.orders WHERE amount > 10",
            "CREATE MATERIALIZED VIEW mart.top AS SELECT * FROM mart.big",
        ):
            postgres_server.execute(statement, dbname=name)
    monkeypatch.setenv("AIRFLOW_CONN_PG", json.dumps({
        "conn_type": "postgres", "host": postgres_server.host, "port": postgres_server.port,
        "login": postgres_server.user, "password": postgres_server.password, "schema": name,
    }))
    return name


@pytest.mark.parametrize("catalog", [None, "information_schema"])
def test_postgres_view_lineage(postgres_wh, catalog):
    manifest = view_lineage(conn_id="pg", database="shop", catalog=catalog)
    validate_manifest(manifest)
    edges = _edges(manifest)
    assert edges["mart.revenue_by_country"]["sources"] == {"public.orders", "public.Customers"}
    assert edges["mart.revenue_by_country"]["columns"] == {
        "Country": {("public.Customers", "Country")}, "revenue": {("public.orders", "amount")},
    }
    assert edges["mart.big"]["columns"] == {"id": {("public.orders", "id")}, "doubled": {("public.orders", "amount")}}
    if catalog is None:
        # pg_get_viewdef sees materialized views too; information_schema.views does not list them
        assert edges["mart.top"]["columns"] == {"id": {("mart.big", "id")}, "doubled": {("mart.big", "doubled")}}
    else:
        assert "mart.top" not in edges
    assert all(e["destination"]["database"] == "shop" for e in manifest["events"])


def test_postgres_engine_dialect(postgres_wh):
    from monte_carlo_push_provider.collectors.sql import engine_dialect

    hook = SqlViewLineageCollectorOperator(task_id="v", conn_id="pg", database="d", resource_type="data-lake").get_source()
    assert hook.dialect_name == "postgresql" and engine_dialect(hook) == "postgres"


def test_view_definitions_name_the_view_by_a_placeholder():
    """Snowflake's VIEW_DEFINITION (like SQLite's sql) is the whole CREATE statement, whose own name
    may be stale or spelled otherwise: the placeholder takes its place. PostgreSQL's and the ANSI
    view_definition are the query alone, wrapped around the placeholder."""
    from monte_carlo_push_provider.collectors.base import Skips, TableRecord, view_lineage, view_statement

    orders = TableRecord("ANALYTICS", "PUBLIC", "ORDERS", fields=[("ID", "NUMBER"), ("AMOUNT", "NUMBER")])
    whole = TableRecord("ANALYTICS", "PUBLIC", "BIG", type="VIEW",
                        view_query="create or replace secure view OLD_NAME copy grants as select id, amount "
                                   "from orders where amount > 1;")
    quoted = TableRecord("ANALYTICS", "PUBLIC", "Sel", type="VIEW",
                         view_query='CREATE VIEW IF NOT EXISTS "ANALYTICS"."PUBLIC"."Sel" AS SELECT id FROM orders')
    bare = TableRecord("ANALYTICS", "PUBLIC", "Doubled", type="VIEW", view_query=" select id, amount * 2 as x from orders")
    empty = TableRecord("ANALYTICS", "PUBLIC", "HIDDEN", type="VIEW", view_query=None)
    broken = TableRecord("ANALYTICS", "PUBLIC", "BROKEN", type="VIEW", view_query="select from from where")
    assert view_statement(whole, "p0") == (
        "create or replace secure view p0 copy grants as select id, amount from orders where amount > 1")
    assert view_statement(quoted, "p1") == "CREATE VIEW IF NOT EXISTS p1 AS SELECT id FROM orders"
    assert view_statement(bare, "p2") == "CREATE VIEW p2 AS select id, amount * 2 as x from orders"
    assert view_statement(empty, "p3") is None
    skips = Skips()
    events, stats = view_lineage([orders, whole, quoted, bare, empty, broken], skips, dialect="snowflake",
                                 resource_type="snowflake")
    got = {e["destination"]["name"]: ([s["name"] for s in e["sources"]],
                                       {f["name"]: [sf["field_name"] for sf in f["source_fields"]] for f in e["fields"]})
           for e in events}
    assert got == {"BIG": (["ORDERS"], {"ID": ["ID"], "AMOUNT": ["AMOUNT"]}),
                   "Sel": (["ORDERS"], {"ID": ["ID"]}),
                   "Doubled": (["ORDERS"], {"ID": ["ID"], "X": ["AMOUNT"]})}
    assert all(e["destination"]["type"] == "VIEW" for e in events)
    # a view with no text and one that does not parse: skipped, counted, the rest collected
    assert skips.as_dict() == {"no_view_definition": 1, "unparseable_view_definition": 1}
    assert stats["views"] == 5
