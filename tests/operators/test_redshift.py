"""Redshift collector operators end to end: the real RedshiftSQLHook and redshift_connector
against the stand-in (tests/standins/redshift.py), pushes to the Monte Carlo sandbox, and
assertions on what the sandbox stored."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from monte_carlo_push_provider.collectors.common import quote_qualified
from monte_carlo_push_provider.manifest import validate_manifest
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.redshift import (
    RedshiftLineageCollectorOperator,
    RedshiftMetadataCollectorOperator,
    RedshiftQueryLogCollectorOperator,
    RedshiftViewLineageCollectorOperator,
)
from monte_carlo_sandbox import SANDBOX_WAREHOUSES
from tests.conftest import DAGS_FOLDER, make_context
from tests.standins.redshift import (
    HOSTILE_COLUMN,
    HOSTILE_DATABASE,
    HOSTILE_SCHEMA,
    HOSTILE_TABLE,
    RedshiftCatalog,
    RedshiftStandIn,
)

REDSHIFT_UUID = SANDBOX_WAREHOUSES["redshift"]
CREATED = "2026-01-02T03:04:05Z"
MB = 1024 * 1024
# Data interval 10:00-11:00; with the default 10-minute lag the collectors read 09:50-10:50.
INTERVAL = {
    "data_interval_start": datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc),
    "data_interval_end": datetime(2026, 3, 1, 11, 0, tzinfo=timezone.utc),
}


def _push(*manifests: dict[str, Any]) -> dict[str, Any]:
    return MonteCarloPushOperator(task_id="push", manifests=list(manifests), min_push_interval=None).execute(
        make_context(task_id="push")
    )


def _asset(name: str, database: str, schema: str, type: str = "TABLE", **rest: Any) -> dict[str, Any]:  # noqa: A002
    metadata = {"name": name, "database": database, "schema": schema}
    for key in ("description", "view_query", "created_on"):
        if key in rest:
            metadata[key] = rest.pop(key)
    return {"type": type, "metadata": metadata, **rest}


EXPECTED_METADATA = [
    _asset(
        HOSTILE_TABLE, "dev", HOSTILE_SCHEMA, created_on=CREATED,
        fields=[{"name": HOSTILE_COLUMN, "type": "character varying(10)", "description": "it's -- fine; \"ok\""},
                {"name": "MixedCase", "type": "integer"}],
        volume={"row_count": 2, "byte_count": MB},
    ),
    _asset(
        "big_orders", "dev", "analytics", "VIEW", description="Orders over 100",
        view_query=" SELECT id,\n    amount\n   FROM analytics.orders\n  WHERE (amount > (100)::numeric);",
        fields=[{"name": "id", "type": "integer"}, {"name": "amount", "type": "numeric(12,2)"}],
    ),
    # Empty: svv_table_info leaves it out, so no volume rather than an invented 0.
    _asset("empty_table", "dev", "analytics", fields=[{"name": "x", "type": "integer"}]),
    _asset(
        "orders", "dev", "analytics", description="One row per order", created_on=CREATED,
        fields=[{"name": "id", "type": "integer"},
                {"name": "amount", "type": "numeric(12,2)", "description": "Order total in EUR"},
                {"name": "note", "type": "character varying(256)"},
                {"name": "created_at", "type": "timestamp without time zone"}],
        volume={"row_count": 3, "byte_count": MB},  # estimated_visible_rows: the deleted row is out
    ),
    _asset(
        "clicks", "dev", "spectrum",
        tags=[{"key": "external_database", "value": "glue_db"},
              {"key": "location", "value": "s3://bucket/clicks/"},
              {"key": "input_format", "value": "org.apache.hadoop.mapred.TextInputFormat"},
              {"key": "serialization_lib", "value": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"},
              {"key": "partition_keys", "value": "dt"}],
        fields=[{"name": "user_id", "type": "int"}, {"name": "url", "type": "varchar(2048)"},
                {"name": "dt", "type": "date"}],
    ),
    _asset(
        "daily", HOSTILE_DATABASE, "mart", created_on=CREATED,
        fields=[{"name": "day", "type": "date"}, {"name": "total", "type": "bigint"}],
        volume={"row_count": 2, "byte_count": MB},
    ),
]


def test_metadata_of_every_database_reaches_monte_carlo(
    redshift_catalog: RedshiftCatalog, mc_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    redshift_catalog.standin.use(monkeypatch)
    mc_conn.use("redshift")
    manifest = RedshiftMetadataCollectorOperator(task_id="metadata").execute(make_context(task_id="metadata"))
    assert manifest["resource_type"] == "redshift"
    assert manifest["databases"] == ["dev", HOSTILE_DATABASE]
    _push(manifest)
    [push] = mc_conn.pushes("metadata")
    assert (push["resource_type"], push["resource_uuid"], push["event_count"]) == ("redshift", REDSHIFT_UUID, 6)
    assert [e["event"]["relational_asset"] for e in mc_conn.events("metadata")] == EXPECTED_METADATA


def test_metadata_filters_and_volume_only(redshift_catalog: RedshiftCatalog, monkeypatch: pytest.MonkeyPatch) -> None:
    redshift_catalog.standin.use(monkeypatch)
    manifest = RedshiftMetadataCollectorOperator(
        task_id="metadata", databases=["DEV"], exclude_schemas=["mixed *"], only_freshness_and_volume=True,
    ).execute(make_context(task_id="metadata"))
    validate_manifest(manifest)
    assert manifest["database"] == "dev"
    assert manifest["events"] == [
        _asset("big_orders", "dev", "analytics", "VIEW"),
        _asset("empty_table", "dev", "analytics"),
        _asset("orders", "dev", "analytics", created_on=CREATED, volume={"row_count": 3, "byte_count": MB}),
    ]


def test_schema_only_push_of_one_database(redshift_catalog: RedshiftCatalog, monkeypatch: pytest.MonkeyPatch) -> None:
    redshift_catalog.standin.use(monkeypatch)  # the connection's database is dev
    manifest = RedshiftMetadataCollectorOperator(
        task_id="metadata", databases=[HOSTILE_DATABASE], include_volume=False,
    ).execute(make_context(task_id="metadata"))
    assert (manifest["database"], manifest["events"]) == (HOSTILE_DATABASE, [
        _asset("daily", HOSTILE_DATABASE, "mart", created_on=CREATED,
               fields=[{"name": "day", "type": "date"}, {"name": "total", "type": "bigint"}]),
    ])
    with pytest.raises(ValueError, match="would send nothing"):
        RedshiftMetadataCollectorOperator(task_id="m", only_freshness_and_volume=True, include_volume=False)


LONG_SELECT = (
    "INSERT INTO analytics.order_report\nSELECT o.id,\n"
    + "".join(f"       o.amount * {i} AS m_{i:04d},\n" for i in range(150))
    + "       o.note\nFROM analytics.orders AS o -- ünïcode comment; \"quoted\"\nWHERE o.amount > 0"
)


def _seed_history(rs: RedshiftStandIn) -> None:
    at = datetime(2026, 3, 1, 10, 0)  # naive UTC, as Redshift logs it
    # Redshift's internal user, whose queries the collectors leave out by default.
    rs.execute("DO $$ BEGIN CREATE ROLE rdsdb LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    rdsdb = int(rs.execute("SELECT usesysid FROM pg_user WHERE usename = 'rdsdb'")[0][0])
    # Session 7 stages orders in #stage; session 8 has its own #stage, built from customers.
    rs.log_query("CREATE TABLE #stage AS SELECT id, amount FROM analytics.orders", query_id=201, start=at,
                 session_id=7, query_type="CTAS")
    rs.log_query("CREATE TEMP TABLE #stage AS SELECT id, name AS amount FROM analytics.customers", query_id=202,
                 start=at + timedelta(seconds=5), session_id=8, query_type="CTAS")
    rs.log_query("INSERT INTO mart.daily_orders (id, amount) SELECT id, amount FROM #stage", query_id=203,
                 start=at + timedelta(seconds=10), session_id=7, query_type="INSERT")
    rs.log_query("INSERT INTO mart.customer_copy SELECT id, amount FROM #stage", query_id=204,
                 start=at + timedelta(seconds=15), session_id=8, query_type="INSERT")
    rs.log_query(LONG_SELECT, query_id=205, start=at + timedelta(seconds=20), session_id=9, query_type="INSERT")
    hostile = quote_qualified(HOSTILE_SCHEMA, HOSTILE_TABLE)
    rs.log_query(f"INSERT INTO {hostile} SELECT note, id FROM analytics.orders", query_id=206,
                 start=at + timedelta(seconds=25), session_id=9, query_type="INSERT")
    # Failed: in the query logs with its error, not in lineage.
    rs.log_query("INSERT INTO mart.broken SELECT * FROM analytics.nope", query_id=207,
                 start=at + timedelta(seconds=30), session_id=9, query_type="INSERT", status="failed",
                 error_message='relation "analytics.nope" does not exist', returned_rows=None)
    # Outside the window (ends after 10:50), and Redshift's own user: neither is collected.
    rs.log_query("INSERT INTO mart.late SELECT * FROM analytics.orders", query_id=208,
                 start=datetime(2026, 3, 1, 10, 49, 30), seconds=31, session_id=9)
    rs.log_query("SELECT * FROM stv_inflight", query_id=209, start=at, session_id=1, user_id=rdsdb)


def _log_event(query_id: int, text: str, second: int, session: int, query_type: str, **rest: Any) -> dict[str, Any]:
    start = datetime(2026, 3, 1, 10, 0, second, tzinfo=timezone.utc)
    return {
        "start_time": start.isoformat().replace("+00:00", "Z"),
        "end_time": (start + timedelta(seconds=1)).isoformat().replace("+00:00", "Z"),
        "query_text": text,
        "query_id": str(query_id),
        "user": "mcpp_admin",
        **({"error_text": rest.pop("error_text")} if "error_text" in rest else {}),
        **({"returned_rows": 0} if rest.pop("rows", True) else {}),
        "extra": {
            "database_name": "dev", "session_id": str(session), "transaction_id": query_id * 10,
            "query_type": query_type, "status": rest.pop("status", "success"), "elapsed_time": 1_000_000,
            "queue_time": 0, "execution_time": 1_000_000, **rest, "query_label": "default",
            "result_cache_hit": False,
        },
    }


def test_query_logs_from_sys_views_reach_monte_carlo(
    redshift: RedshiftStandIn, mc_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed_history(redshift)
    redshift.use(monkeypatch)
    mc_conn.use("redshift")
    manifest = RedshiftQueryLogCollectorOperator(task_id="query_logs").execute(make_context(**INTERVAL))
    assert manifest["window"] == {"start": "2026-03-01T09:50:00Z", "end": "2026-03-01T10:50:00Z"}
    _push(manifest)
    [push] = mc_conn.pushes("query_logs")
    assert (push["log_type"], push["resource_uuid"]) == ("redshift", REDSHIFT_UUID)
    hostile = quote_qualified(HOSTILE_SCHEMA, HOSTILE_TABLE)
    assert [e["event"] for e in mc_conn.events("query_logs")] == [
        _log_event(201, "CREATE TABLE #stage AS SELECT id, amount FROM analytics.orders", 0, 7, "CTAS",
                   returned_bytes=0),
        _log_event(202, "CREATE TEMP TABLE #stage AS SELECT id, name AS amount FROM analytics.customers", 5, 8,
                   "CTAS", returned_bytes=0),
        _log_event(203, "INSERT INTO mart.daily_orders (id, amount) SELECT id, amount FROM #stage", 10, 7,
                   "INSERT", returned_bytes=0),
        _log_event(204, "INSERT INTO mart.customer_copy SELECT id, amount FROM #stage", 15, 8, "INSERT",
                   returned_bytes=0),
        _log_event(205, LONG_SELECT, 20, 9, "INSERT", returned_bytes=0),
        _log_event(206, f"INSERT INTO {hostile} SELECT note, id FROM analytics.orders", 25, 9, "INSERT",
                   returned_bytes=0),
        _log_event(207, "INSERT INTO mart.broken SELECT * FROM analytics.nope", 30, 9, "INSERT",
                   error_text='relation "analytics.nope" does not exist', rows=False, status="failed"),
    ]
    assert len(LONG_SELECT) > 4000


def test_query_logs_from_stl_tables(redshift: RedshiftStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    _seed_history(redshift)
    redshift.use(monkeypatch)
    manifest = RedshiftQueryLogCollectorOperator(task_id="query_logs", source="stl").execute(
        make_context(**INTERVAL)
    )
    validate_manifest(manifest)
    events = {e["query_id"]: e for e in manifest["events"]}
    assert sorted(events) == ["201", "202", "203", "204", "205", "206", "207"]
    assert events["205"]["query_text"] == LONG_SELECT  # newlines restored from stl's \n
    assert events["207"]["extra"]["status"] == "canceled"
    assert events["201"] == {
        "start_time": "2026-03-01T10:00:00Z", "end_time": "2026-03-01T10:00:01Z",
        "query_text": "CREATE TABLE #stage AS SELECT id, amount FROM analytics.orders", "query_id": "201",
        "user": "mcpp_admin",
        "extra": {"database_name": "dev", "session_id": "7", "transaction_id": 2010, "status": "success",
                  "elapsed_time": 1_000_000, "query_label": "default"},
    }


def _ref(name: str, schema: str, database: str = "dev") -> dict[str, Any]:
    return {"type": "TABLE", "name": name, "database": database, "schema": schema,
            "asset_id": f"{database}.{schema}.{name}"}


@pytest.mark.parametrize("source", ["sys", "stl"])
def test_lineage_resolves_temp_tables_per_session(
    redshift_catalog: RedshiftCatalog, mc_conn: Any, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    redshift = redshift_catalog.standin
    redshift.reset_logs()
    _seed_history(redshift)
    redshift.use(monkeypatch)
    mc_conn.use("redshift")
    manifest = RedshiftLineageCollectorOperator(task_id="lineage", source=source).execute(make_context(**INTERVAL))
    assert manifest["stats"]["temp_tables_resolved"] == 2  # one #stage per session
    _push(manifest)
    [push] = mc_conn.pushes("lineage")
    assert (push["resource_type"], push["resource_uuid"]) == ("redshift", REDSHIFT_UUID)
    # The engine folds names to lower case; the collector gives them back the catalog's spelling
    # (the stand-in keeps quoted names' case, as Redshift with enable_case_sensitive_identifier).
    table, schema = HOSTILE_TABLE, HOSTILE_SCHEMA
    hostile = {"type": "TABLE", "name": table, "database": "dev", "schema": schema,
               "asset_id": f"dev.{schema.lower()}.{table.lower()}"}  # a local reference: the engine's
    orders, customers = _ref("orders", "analytics"), _ref("customers", "analytics")
    events = {e["event"]["destination"]["name"]: e["event"] for e in mc_conn.events("lineage")}
    assert sorted(events) == sorted(["customer_copy", "daily_orders", "order_report", table])
    assert events["daily_orders"]["sources"] == [orders]  # not customers: session 8's #stage
    assert events["customer_copy"]["sources"] == [customers]
    assert events["customer_copy"]["destination"] == {**_ref("customer_copy", "mart"), "type": "TABLE"}
    # The source of the long statement sits past character 4,000: found only in the full text.
    assert LONG_SELECT.index("FROM analytics.orders") > 4000
    assert events["order_report"]["sources"] == [orders]
    assert events[table]["destination"] == hostile
    assert events[table]["sources"] == [orders]
    assert "#stage" not in json.dumps(manifest)


def _seed_ten_thousand(rs: RedshiftStandIn) -> None:
    """10,000 statements in the window, set-based (one INSERT each for history and text): query
    9001 has empty text, query 9002 ends before it starts (both happen in real SYS history)."""
    user = rs.execute("SELECT usesysid FROM pg_user WHERE usename = current_user")[0][0]
    rs.execute(
        "INSERT INTO redshift_sys.sys_query_history (user_id, query_id, query_label, transaction_id, session_id, "
        "database_name, query_type, status, result_cache_hit, start_time, end_time, elapsed_time, queue_time, "
        "execution_time, returned_rows, returned_bytes, query_text, compute_type) "
        "SELECT %s, 9000 + i, 'default', i, 1, 'dev', 'SELECT', 'success', false, "
        "TIMESTAMP '2026-03-01 10:00:00' + i * INTERVAL '100 milliseconds', "
        "CASE WHEN i = 2 THEN TIMESTAMP '2026-03-01 09:59:00' "
        "     ELSE TIMESTAMP '2026-03-01 10:00:01' + i * INTERVAL '100 milliseconds' END, "
        "1000, 0, 1000, 1, 8, CASE WHEN i = 1 THEN '' ELSE 'SELECT ' || i END, 'primary' "
        "FROM generate_series(1, 10000) AS i",
        [user],
    )
    rs.execute(
        "INSERT INTO redshift_sys.sys_query_text SELECT %s, 9000 + i, i, 1, "
        "TIMESTAMP '2026-03-01 10:00:00', 0, CASE WHEN i = 1 THEN '' ELSE 'SELECT ' || i END "
        "FROM generate_series(1, 10000) AS i",
        [user],
    )


def test_a_bad_statement_does_not_take_down_a_ten_thousand_row_window(
    redshift: RedshiftStandIn, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _seed_ten_thousand(redshift)
    redshift.use(monkeypatch)
    manifest = RedshiftQueryLogCollectorOperator(task_id="query_logs").execute(make_context(**INTERVAL))
    validate_manifest(manifest)
    ids = {e["query_id"] for e in manifest["events"]}
    assert len(ids) == 9_998 and "9001" not in ids and "9002" not in ids
    assert manifest["stats"]["skipped"] == {"empty_query_text": 1, "end_before_start": 1}
    skipped_lines = [r for r in caplog.records if r.getMessage().startswith("skipped query")]
    assert len(skipped_lines) == 2  # one warning per kind of defect, not per row

    lineage = RedshiftLineageCollectorOperator(task_id="lineage").execute(make_context(**INTERVAL))
    validate_manifest(lineage)
    assert lineage["stats"]["skipped"] == {"empty_query_text": 1, "end_before_start": 1}


def test_an_unknown_database_names_the_database_and_the_fix(
    redshift: RedshiftStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monte_carlo_push_provider.collectors.base import WarehouseAccessError

    redshift.use(monkeypatch, database="no_such_db")
    with pytest.raises(WarehouseAccessError) as raised:
        RedshiftMetadataCollectorOperator(task_id="metadata").execute(make_context())
    message = str(raised.value)
    assert message.startswith("checkpoint 0 (warehouse access): Redshift says the object does not exist")
    assert "database no_such_db" in message and "GRANT USAGE ON SCHEMA" in message
    assert "docs/redshift.md#grants" in message and 'database "no_such_db" does not exist' in message
    assert redshift.password not in message


def test_invalid_source_is_refused() -> None:
    with pytest.raises(ValueError, match="source must be 'sys'"):
        RedshiftQueryLogCollectorOperator(task_id="q", source="svl")


def test_dag_runs_redshift_collectors_and_pushes(
    redshift_catalog: RedshiftCatalog, mc_conn: Any, airflow_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    rs = redshift_catalog.standin
    rs.reset_logs()
    _seed_history(rs)
    rs.use(monkeypatch)
    mc_conn.use("redshift")
    bag = DagBag(dag_folder=str(DAGS_FOLDER / "redshift_push.py"))
    assert bag.import_errors == {}
    dag = bag.get_dag("redshift_push_test")
    # Manual run at 11:00: data interval 10:00-11:00, read as 09:50-10:50 after the lag.
    run = dag.test(logical_date=datetime(2026, 3, 1, 11, 0, tzinfo=timezone.utc))
    assert run.state == "success", run.state
    assert sorted(p["kind"] for p in mc_conn.pushes()) == ["lineage", "metadata", "query_logs"]
    metadata = [e["event"]["relational_asset"]["metadata"]["name"] for e in mc_conn.events("metadata")]
    assert metadata == ["big_orders", "empty_table", "orders"]
    assert sorted(e["event"]["query_id"] for e in mc_conn.events("query_logs")) == [
        "201", "202", "203", "204", "205", "206", "207"]
    lineage = sorted(e["event"]["destination"]["name"] for e in mc_conn.events("lineage"))
    assert lineage == sorted(["customer_copy", "daily_orders", "order_report", HOSTILE_TABLE])


def test_lineage_names_tables_as_the_metadata_push_does(
    redshift_catalog: RedshiftCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue #17 item 5: a quoted mixed-case table is one node, in metadata and lineage alike.
    Its own schema, dropped after, so the other tests' catalog stays as they assert it."""
    rs = redshift_catalog.standin
    rs.reset_logs()
    mixed = quote_qualified("Case Test", "MixedOrders")
    rs.execute('CREATE SCHEMA "Case Test"')
    try:
        rs.execute(f'CREATE TABLE {mixed} ("OrderId" integer, amount integer)')
        rs.execute('CREATE TABLE "Case Test".plain (id integer)')
        at = datetime(2026, 3, 1, 10, 0)
        # Quoted mixed case (kept by the stand-in, as by Redshift with
        # enable_case_sensitive_identifier) next to unquoted names in any case, which fold.
        rs.log_query(f'INSERT INTO {mixed} ("OrderId", amount) SELECT o.ID, o.amount FROM ANALYTICS.Orders AS o '
                     'JOIN "Case Test".PLAIN AS p ON p.id = o.id', query_id=301, start=at, session_id=3, query_type="INSERT")
        rs.log_query(f'INSERT INTO "Case Test".Plain SELECT "OrderId" FROM {mixed}', query_id=302,
                     start=at + timedelta(seconds=5), session_id=3, query_type="INSERT")
        rs.use(monkeypatch)
        metadata = RedshiftMetadataCollectorOperator(task_id="metadata", databases=["dev"]).execute(
            make_context(task_id="metadata"))
        lineage = RedshiftLineageCollectorOperator(task_id="lineage").execute(make_context(**INTERVAL))
    finally:
        rs.execute('DROP SCHEMA "Case Test" CASCADE')
    validate_manifest(lineage)
    assets = {(a["metadata"]["database"], a["metadata"]["schema"], a["metadata"]["name"]): a
              for a in metadata["events"]}
    assert ("dev", "Case Test", "MixedOrders") in assets
    named = {(r["database"], r["schema"], r["name"])
             for e in lineage["events"] for r in (e["destination"], *e["sources"])}
    assert named == {("dev", "Case Test", "MixedOrders"), ("dev", "Case Test", "plain"), ("dev", "analytics", "orders")}
    assert named <= set(assets), sorted(named - set(assets))
    # column names too: the catalog's "OrderId", as the metadata push lists it
    (into_mixed,) = [e for e in lineage["events"] if e["destination"]["name"] == "MixedOrders"]
    assert sorted(f["name"] for f in into_mixed["fields"]) == ["OrderId", "amount"]
    assert [f["name"] for f in assets[("dev", "Case Test", "MixedOrders")]["fields"]] == ["OrderId", "amount"]


def test_view_lineage_through_the_redshift_hook(redshift_catalog: RedshiftCatalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """The common.sql view-lineage collector on a ``redshift`` connection: RedshiftSQLHook's
    dialect picks the PostgreSQL catalog (``pg_get_viewdef``) and the engine's redshift dialect."""
    from monte_carlo_push_provider.collectors.sql import engine_dialect
    from monte_carlo_push_provider.operators.sql import SqlViewLineageCollectorOperator

    conn_id = redshift_catalog.standin.use(monkeypatch)
    op = SqlViewLineageCollectorOperator(task_id="views", conn_id=conn_id, database="dev", resource_type="redshift")
    assert engine_dialect(op.get_source()) == "redshift"
    manifest = op.execute(make_context(task_id="views"))
    validate_manifest(manifest)
    (event,) = [e for e in manifest["events"] if e["destination"]["name"] == "big_orders"]
    assert event["destination"]["schema"] == "analytics" and event["destination"]["type"] == "VIEW"
    assert [(s["schema"], s["name"]) for s in event["sources"]] == [("analytics", "orders")]
    assert {f["name"]: [sf["field_name"] for sf in f["source_fields"]] for f in event["fields"]} == {
        "id": ["id"], "amount": ["amount"],
    }


@pytest.fixture
def redshift_views(redshift_catalog: RedshiftCatalog) -> Any:
    """Views for one test (dropped afterwards: the metadata tests count the catalog's objects): a
    quoted mixed-case view over the hostile quoted mixed-case table, a view joining a view, and a
    view in the second database."""
    from monte_carlo_push_provider.collectors.common import quote_identifier

    rs = redshift_catalog.standin
    hostile_view = quote_qualified(HOSTILE_SCHEMA, "Hostile V")
    with rs.connect() as conn:
        conn.execute(
            f"CREATE VIEW {hostile_view} AS SELECT {quote_identifier(HOSTILE_COLUMN)} AS \"Label\", "
            f"\"MixedCase\" * 2 AS doubled FROM {quote_qualified(HOSTILE_SCHEMA, HOSTILE_TABLE)}"
        )
        conn.execute("CREATE VIEW analytics.notes AS SELECT o.id, o.note FROM analytics.orders o "
                     "JOIN analytics.big_orders b ON b.id = o.id")
    with rs.connect(HOSTILE_DATABASE) as conn:
        conn.execute("CREATE VIEW mart.weekly AS SELECT date_trunc('week', day) AS week, SUM(total) AS total "
                     "FROM mart.daily GROUP BY 1")
    try:
        yield redshift_catalog
    finally:
        with rs.connect() as conn:
            conn.execute(f"DROP VIEW {hostile_view}")
            conn.execute("DROP VIEW analytics.notes")
        with rs.connect(HOSTILE_DATABASE) as conn:
            conn.execute("DROP VIEW mart.weekly")


def test_view_lineage_of_every_database(redshift_views: RedshiftCatalog, mc_conn: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """pg_views definitions of both databases parsed with the engine's redshift dialect; the
    hostile quoted mixed-case names come out as the catalog (and the metadata push) spells them."""
    redshift_views.standin.use(monkeypatch)
    mc_conn.use("redshift")
    metadata = RedshiftMetadataCollectorOperator(task_id="metadata").execute(make_context(task_id="metadata"))
    manifest = RedshiftViewLineageCollectorOperator(task_id="views").execute(make_context(task_id="views"))
    validate_manifest(manifest)
    assert manifest["source"] == "view_definitions" and manifest["databases"] == ["dev", HOSTILE_DATABASE]
    assert manifest["stats"]["views"] == 4 and manifest["stats"]["skipped"] == {}
    _push(metadata, manifest)
    pushed = {(a["metadata"]["database"], a["metadata"]["schema"], a["metadata"]["name"]): {f["name"] for f in a["fields"]}
              for a in (e["event"]["relational_asset"] for e in mc_conn.events("metadata"))}
    edges = {}
    for event in (e["event"] for e in mc_conn.events("lineage")):
        dest = event["destination"]
        key = (dest["database"], dest["schema"], dest["name"])
        names = {s["asset_id"]: (s["database"], s["schema"], s["name"]) for s in event["sources"]}
        assert {f["name"] for f in event["fields"]} <= pushed[key]
        assert all(n in pushed for n in names.values())
        edges[key] = {f["name"]: sorted((*names[sf["asset_id"]], sf["field_name"]) for sf in f["source_fields"])
                      for f in event["fields"]}
    orders, big = ("dev", "analytics", "orders"), ("dev", "analytics", "big_orders")
    hostile = ("dev", HOSTILE_SCHEMA, HOSTILE_TABLE)
    assert edges == {
        big: {"id": [(*orders, "id")], "amount": [(*orders, "amount")]},
        ("dev", "analytics", "notes"): {"id": [(*orders, "id")], "note": [(*orders, "note")]},
        ("dev", HOSTILE_SCHEMA, "Hostile V"): {"Label": [(*hostile, HOSTILE_COLUMN)],
                                               "doubled": [(*hostile, "MixedCase")]},
        (HOSTILE_DATABASE, "mart", "weekly"): {"week": [(HOSTILE_DATABASE, "mart", "daily", "day")],
                                               "total": [(HOSTILE_DATABASE, "mart", "daily", "total")]},
    }
