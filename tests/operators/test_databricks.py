"""Databricks collectors through the real ``DatabricksSqlHook`` / ``databricks-sql-connector``
against brickhouse (``tests/standins/databricks.py``), pushed to the Monte Carlo sandbox over
HTTP; assertions are on what the sandbox stored.

Operators run with ``execute(make_context(...))``; ``test_dag_*`` runs
``tests/dags/databricks_push.py`` with ``dag.test()``. The seeded rows and why each one is
there: ``tests/standins/databricks.py``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

import pytest

from monte_carlo_push_provider.operators.databricks import (
    DatabricksLineageCollectorOperator,
    DatabricksMetadataCollectorOperator,
    DatabricksQueryLogCollectorOperator,
    DatabricksViewLineageCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from tests.conftest import make_context
from tests.standins.databricks import (
    HOSTILE_STATEMENT,
    QUOTED_TABLE,
    RAW_SCHEMA,
    TAG_KEY,
    TAG_VALUE,
    UNICODE_TABLE,
    WEIRD_COLUMN,
    WEIRD_TABLE,
)

# The data interval 10:00-11:00 minus the default one-hour lag reads 09:00-10:00, the seeded window.
INTERVAL = {
    "data_interval_start": datetime(2026, 11, 25, 10, tzinfo=timezone.utc),
    "data_interval_end": datetime(2026, 11, 25, 11, tzinfo=timezone.utc),
}


@pytest.fixture
def dbx(databricks_conn: str, mc_conn: Any) -> Any:
    mc_conn.use("databricks")
    return mc_conn


def run(op: Any, **context: Any) -> dict[str, Any]:
    return op.execute(make_context(task_id=op.task_id, **{**INTERVAL, **context}))


def push(*manifests: dict[str, Any]) -> dict[str, Any]:
    op = MonteCarloPushOperator(task_id="push", manifests=list(manifests), min_push_interval=None)
    return op.execute(make_context(task_id="push"))


def stored(sandbox: Any, kind: str) -> list[dict[str, Any]]:
    events = [e["event"] for e in sandbox.events(kind)]
    return [e["relational_asset"] for e in events] if kind == "metadata" else events


def by_name(events: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(e["metadata"]["database"], e["metadata"]["schema"], e["metadata"]["name"]): e for e in events}


def ref(catalog: str, schema: str, name: str, type_: str = "TABLE", asset_id: str | None = None) -> dict[str, Any]:
    out = {"type": type_, "name": name, "database": catalog, "schema": schema}
    if asset_id is not None:
        out["asset_id"] = asset_id
    return out


# -- metadata ---------------------------------------------------------------------------------------


def test_metadata_every_catalog_lands_in_sandbox(dbx: Any) -> None:
    manifest = run(DatabricksMetadataCollectorOperator(task_id="meta"))
    assert manifest["catalogs"] == ["empty_cat", "ops", "sales"]  # system etc. excluded by default
    result = push(manifest)
    assert result["status"] == "success"
    events = stored(dbx, "metadata")
    assert events == manifest["events"]  # exactly what was collected, in order
    assert {e["resource_type"] for e in dbx.events("metadata")} == {"databricks"}

    tables = by_name(events)
    assert {k: v["type"] for k, v in tables.items()} == {
        ("ops", "monitoring", "events"): "TABLE",
        ("sales", "core", "orders"): "TABLE",  # MANAGED
        ("sales", "core", "customers"): "TABLE",  # EXTERNAL
        ("sales", "core", "orders_stream"): "TABLE",  # STREAMING_TABLE
        ("sales", "core", "daily_revenue"): "VIEW",  # MATERIALIZED_VIEW
        ("sales", "core", "v_orders"): "VIEW",
        ("sales", RAW_SCHEMA, WEIRD_TABLE): "TABLE",
        ("sales", RAW_SCHEMA, QUOTED_TABLE): "TABLE",
        ("sales", RAW_SCHEMA, UNICODE_TABLE): "TABLE",
        ("sales", "scratch", "tmp_1"): "TABLE",
    }  # sales.information_schema is not collected; empty_cat has nothing
    assert tables[("sales", "core", "orders")] == {
        "type": "TABLE",
        "metadata": {
            "name": "orders", "database": "sales", "schema": "core", "description": "All orders",
            "created_on": "2026-01-05T08:00:00Z",
        },
        "fields": [
            {"name": "id", "type": "bigint", "description": "Order id"},
            {"name": "amount", "type": "decimal(12,2)"},
            {"name": "customer_id", "type": "bigint"},
            {"name": "customer_name", "type": "string"},
            {"name": "order_ts", "type": "timestamp"},
        ],
        "tags": [{"key": "domain", "value": "finance"}, {"key": "pii"}],
        "freshness": {"last_update_time": "2026-11-25T09:15:00.250000Z"},
    }
    assert tables[("sales", RAW_SCHEMA, WEIRD_TABLE)] == {
        "type": "TABLE",
        "metadata": {
            "name": WEIRD_TABLE, "database": "sales", "schema": RAW_SCHEMA,
            "description": "semi;colon -- comment", "created_on": "2026-03-01T00:00:00Z",
        },
        "fields": [
            {"name": WEIRD_COLUMN, "type": "string", "description": "it's \"hostile\""},
            {"name": "MixedCase", "type": "map<string,array<int>>"},
        ],
        "tags": [{"key": TAG_KEY, "value": TAG_VALUE}],
        "freshness": {"last_update_time": "2026-11-25T08:00:00Z"},
    }
    # a naive warehouse timestamp ('2026-11-24 23:59:59') is read as UTC
    assert tables[("sales", "core", "customers")]["freshness"] == {"last_update_time": "2026-11-24T23:59:59Z"}
    # views carry their text and no freshness; a table with no last_altered has none either
    assert tables[("sales", "core", "v_orders")]["metadata"]["view_query"] == (
        "SELECT id, amount FROM sales.core.orders WHERE amount > 0"
    )
    assert "freshness" not in tables[("sales", "core", "daily_revenue")]
    assert "freshness" not in tables[("sales", RAW_SCHEMA, QUOTED_TABLE)]
    assert tables[("sales", RAW_SCHEMA, UNICODE_TABLE)]["fields"] == [{"name": "betrag_€", "type": "double"}]


SALES_TAGS = {
    ("sales", "core", "orders"): [{"key": "domain", "value": "finance"}, {"key": "pii"}],  # pii: key-only
    ("sales", "core", "v_orders"): [{"key": "domain", "value": "bi"}],
    ("sales", RAW_SCHEMA, WEIRD_TABLE): [{"key": TAG_KEY, "value": TAG_VALUE}],
}


def test_metadata_tags_from_table_tags(dbx: Any) -> None:
    # Unity Catalog tags from <catalog>.information_schema.table_tags. brickhouse has no
    # information_schema: the stand-in seeds a table of the view's shape (tests/standins/databricks.py).
    manifest = run(DatabricksMetadataCollectorOperator(task_id="tags", catalogs=["empty_cat", "ops", "sales"]))

    push(manifest)
    tags = {k: e.get("tags") for k, e in by_name(stored(dbx, "metadata")).items() if "tags" in e}
    assert tags == {("ops", "monitoring", "events"): [{"key": "team", "value": "sre"}], **SALES_TAGS}
    # empty_cat has no tables, so its tags are not even asked for
    assert manifest["stats"]["tags"] == {"tagged_tables": 4, "sources": 2, "unavailable": []}


@pytest.fixture
def ops_tags_unreadable(databricks_standin: Any) -> Any:
    """ops.information_schema.table_tags gone for one test: what a user without access to the
    catalog's tags meets (TABLE_OR_VIEW_NOT_FOUND). Re-seeded afterwards."""
    from tests.standins.databricks import TABLE_TAGS, TABLE_TAGS_DDL, insert_rows

    databricks_standin.sql("DROP TABLE ops.information_schema.table_tags")
    try:
        yield
    finally:
        databricks_standin.sql(f"CREATE TABLE ops.information_schema.table_tags ({TABLE_TAGS_DDL}) USING DELTA")
        insert_rows(databricks_standin, "ops.information_schema.table_tags", TABLE_TAGS_DDL, TABLE_TAGS["ops"])


def test_metadata_tags_a_catalog_whose_tags_cannot_be_read_keeps_its_tables(
    dbx: Any, ops_tags_unreadable: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    manifest = run(DatabricksMetadataCollectorOperator(task_id="tags", catalogs=["ops", "sales"]))

    push(manifest)
    events = by_name(stored(dbx, "metadata"))
    assert ("ops", "monitoring", "events") in events and "tags" not in events[("ops", "monitoring", "events")]
    assert {k: e["tags"] for k, e in events.items() if "tags" in e} == SALES_TAGS
    assert manifest["stats"]["tags"] == {
        "tagged_tables": 3, "sources": 1, "unavailable": ["ops.information_schema.table_tags"],
    }
    warnings = [r.getMessage() for r in caplog.records if "tags not collected" in r.getMessage()]
    assert len(warnings) == 1 and "collect_tags=False" in warnings[0]


def test_metadata_tags_opt_out_and_hourly_runs_send_none(dbx: Any) -> None:
    for op in (
        DatabricksMetadataCollectorOperator(task_id="no_tags", catalogs="sales", collect_tags=False),
        DatabricksMetadataCollectorOperator(task_id="hourly", catalogs="sales", only_freshness_and_volume=True),
    ):
        manifest = run(op)
        assert manifest["events"] and not any("tags" in e for e in manifest["events"]), op.task_id
        assert "tags" not in manifest["stats"]


def test_metadata_hourly_run_named_catalog_freshness_only(dbx: Any) -> None:
    op = DatabricksMetadataCollectorOperator(
        task_id="meta", catalogs="sales", exclude_schemas=["scratch", "raw*"], only_freshness_and_volume=True
    )
    manifest = run(op)
    assert manifest["catalog"] == "sales"
    push(manifest)
    # created_on is sent on hourly runs too, as every other warehouse's collector sends it (one
    # TableRecord -> RelationalAsset mapping; issue 16)
    assert stored(dbx, "metadata") == [
        {"type": "TABLE", "metadata": {"name": "customers", "database": "sales", "schema": "core",
                                       "created_on": "2026-01-05T08:00:00Z"},
         "freshness": {"last_update_time": "2026-11-24T23:59:59Z"}},
        {"type": "VIEW", "metadata": {"name": "daily_revenue", "database": "sales", "schema": "core",
                                      "created_on": "2026-02-01T00:00:00Z"}},
        {"type": "TABLE", "metadata": {"name": "orders", "database": "sales", "schema": "core",
                                       "created_on": "2026-01-05T08:00:00Z"},
         "freshness": {"last_update_time": "2026-11-25T09:15:00.250000Z"}},
        {"type": "TABLE", "metadata": {"name": "orders_stream", "database": "sales", "schema": "core",
                                       "created_on": "2026-02-01T00:00:00Z"},
         "freshness": {"last_update_time": "2026-11-25T09:59:00Z"}},
        {"type": "VIEW", "metadata": {"name": "v_orders", "database": "sales", "schema": "core",
                                      "created_on": "2026-02-01T00:00:00Z"}},
    ]


@pytest.mark.parametrize(
    ("catalogs", "exclude", "expected"),
    [
        (["s*"], None, ["sales", "samples", "system"]),  # listed, then filtered (samples exists in the listing only)
        (["s*"], ["system", "samples"], ["sales"]),
        ("re:^(ops|EMPTY_CAT)$", None, ["empty_cat", "ops"]),  # case-insensitive regex
        (["ops", "sales", "ops"], ["sales"], ["ops"]),  # exact names: no listing, excludes still apply
    ],
)
def test_metadata_catalog_selection(dbx: Any, catalogs: Any, exclude: Any, expected: list[str]) -> None:
    op = DatabricksMetadataCollectorOperator(
        task_id="meta", catalogs=catalogs, exclude_catalogs=exclude, volume_source=None, only_freshness_and_volume=True
    )
    if set(expected) - {"sales", "ops", "empty_cat"}:
        # samples / system have no information_schema tables in the stand-in: the run must fail
        # loudly rather than push a partial catalog list
        with pytest.raises(Exception, match=r"(?i)not found|does not exist|cannot be resolved"):
            run(op)
        return
    manifest = run(op)
    assert manifest.get("catalogs", [manifest.get("catalog")]) == expected
    assert sorted({e["metadata"]["database"] for e in manifest["events"]}) == [c for c in expected if c != "empty_cat"]


def test_metadata_volume_source_none_is_schema_only(dbx: Any) -> None:
    manifest = run(DatabricksMetadataCollectorOperator(task_id="meta", catalogs="ops", volume_source=None))
    assert manifest["events"] == [
        {"type": "TABLE", "metadata": {"name": "events", "database": "ops", "schema": "monitoring",
                                       "created_on": "2026-04-01T00:00:00Z"},
         "fields": [{"name": "event_id", "type": "string"}], "tags": [{"key": "team", "value": "sre"}]},
    ]


def test_metadata_describe_detail_failures_are_isolated(dbx: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The stand-in cannot run DESCRIBE DETAIL, so every statement really fails here: the run
    still returns the catalog (without volume) and says how many tables failed. Only Delta
    TABLEs are described (views and the PARQUET table are not); the cap is honoured."""
    caplog.set_level(logging.INFO, logger="monte_carlo_push_provider.collectors.databricks")
    op = DatabricksMetadataCollectorOperator(
        task_id="meta", catalogs="sales", volume_source="describe_detail", describe_detail_max_tables=4
    )
    manifest = run(op)
    assert len(manifest["events"]) == 9
    assert all("volume" not in e and "freshness" not in e for e in manifest["events"])
    messages = [r.getMessage() for r in caplog.records]
    assert "catalog sales: 6 Delta tables, describing the first 4 (describe_detail_max_tables)" in messages
    assert "catalog sales: DESCRIBE DETAIL failed for 4 of 4 tables (no volume for them)" in messages


# -- lineage ----------------------------------------------------------------------------------------

ORDERS = ref("sales", "core", "orders")
CUSTOMERS = ref("sales", "core", "customers")

EXPECTED_TABLE_LINEAGE = [
    {"destination": ref("ops", "monitoring", "events"), "sources": [ORDERS]},
    {"destination": ref("sales", RAW_SCHEMA, WEIRD_TABLE), "sources": [ORDERS]},
    {"destination": ref("sales", "core", "daily_revenue", "VIEW"), "sources": [ORDERS]},
    {"destination": ORDERS, "sources": [CUSTOMERS]},  # twice in the window, once here; no self-edge
    {"destination": ref("sales", "core", "v_orders", "VIEW"), "sources": [ORDERS]},
]
EXPECTED_COLUMN_LINEAGE = [
    {
        "destination": ref("sales", RAW_SCHEMA, WEIRD_TABLE),
        "sources": [ref("sales", "core", "customers", asset_id="s0"), ref("sales", "core", "orders", asset_id="s1")],
        "fields": [{"name": WEIRD_COLUMN, "source_fields": [
            {"asset_id": "s0", "field_name": "id"}, {"asset_id": "s1", "field_name": "amount"},
        ]}],
    },
    {
        "destination": ref("sales", "core", "daily_revenue", "VIEW"),
        "sources": [ref("sales", "core", "orders", asset_id="s0")],
        "fields": [
            {"name": "day", "source_fields": [{"asset_id": "s0", "field_name": "order_ts"}]},
            {"name": "revenue", "source_fields": [{"asset_id": "s0", "field_name": "amount"}]},
        ],
    },
    {
        "destination": ORDERS,
        "sources": [ref("sales", "core", "customers", asset_id="s0")],
        "fields": [
            {"name": "customer_id", "source_fields": [{"asset_id": "s0", "field_name": "id"}]},
            {"name": "customer_name", "source_fields": [{"asset_id": "s0", "field_name": "name"}]},
        ],
    },
]


def test_lineage_table_and_column_events_for_the_window(dbx: Any) -> None:
    manifest = run(DatabricksLineageCollectorOperator(task_id="lineage"))
    assert manifest["window"] == {"start": "2026-11-25T09:00:00Z", "end": "2026-11-25T10:00:00Z"}
    push(manifest)
    assert stored(dbx, "lineage") == EXPECTED_TABLE_LINEAGE + EXPECTED_COLUMN_LINEAGE
    assert {p["resource_type"] for p in dbx.pushes("lineage")} == {"databricks"}


def test_lineage_table_only_filtered_by_target_catalog(dbx: Any) -> None:
    op = DatabricksLineageCollectorOperator(task_id="lineage", catalogs=["ops"], column_lineage=False)
    push(run(op))
    assert stored(dbx, "lineage") == [EXPECTED_TABLE_LINEAGE[0]]
    assert [p["event_type"] for p in dbx.pushes("lineage")] == ["LINEAGE"]


def test_lineage_explicit_window_and_empty_result(dbx: Any) -> None:
    # [10:00, 11:00): only rows on the end bound of the seeded window, which belong here
    op = DatabricksLineageCollectorOperator(task_id="lineage", start="2026-11-25T10:00:00Z", end="2026-11-25T11:00:00Z")
    manifest = run(op)
    assert manifest["events"] == [
        {"destination": CUSTOMERS, "sources": [ref("ops", "monitoring", "events")]},
        {"destination": CUSTOMERS, "sources": [ref("ops", "monitoring", "events", asset_id="s0")],
         "fields": [{"name": "id", "source_fields": [{"asset_id": "s0", "field_name": "event_id"}]}]},
    ]
    later = DatabricksLineageCollectorOperator(task_id="lineage", start="2026-11-26T00:00:00Z", end="2026-11-26T01:00:00Z")
    assert run(later)["events"] == []


# -- query logs -------------------------------------------------------------------------------------

EXPECTED_QUERY_LOGS = [
    {
        "start_time": "2026-11-25T08:59:30Z", "end_time": "2026-11-25T09:00:10Z",
        "query_text": "INSERT INTO sales.core.orders SELECT * FROM sales.core.orders_stream",
        "query_id": "01f0-a4", "user": "etl@example.com", "returned_rows": 7,
        "extra": {"statement_type": "INSERT", "execution_status": "FINISHED", "total_duration_ms": 40000,
                  "client_application": "Databricks SQL", "workspace_id": "1001"},
    },
    {
        "start_time": "2026-11-25T09:01:00Z", "end_time": "2026-11-25T09:01:02.500000Z",
        "query_text": "SELECT * FROM sales.core.orders LIMIT 42",
        "query_id": "01f0-a1", "user": "alice@example.com", "returned_rows": 42,
        "extra": {"statement_type": "SELECT", "execution_status": "FINISHED", "read_rows": 1000, "read_bytes": 65536,
                  "total_duration_ms": 2500, "client_application": "Databricks SQL", "workspace_id": "1001"},
    },
    {
        "start_time": "2026-11-25T09:10:00Z", "end_time": "2026-11-25T09:10:00.100000Z",
        "query_text": "SELEC 1", "query_id": "01f0-a2", "user": "bob@example.com",
        "error_code": "FAILED",
        "error_text": "[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601",
        "extra": {"statement_type": "OTHER", "execution_status": "FAILED", "total_duration_ms": 100,
                  "client_application": "Databricks SQL", "workspace_id": "1001"},
    },
    {
        "start_time": "2026-11-25T09:20:00Z", "end_time": "2026-11-25T09:25:00Z",
        "query_text": "OPTIMIZE sales.core.orders", "query_id": "01f0-a3", "user": "alice@example.com",
        "error_code": "CANCELED",
        "extra": {"statement_type": "OPTIMIZE", "execution_status": "CANCELED", "total_duration_ms": 300000,
                  "workspace_id": "1001"},
    },
    {
        "start_time": "2026-11-25T09:59:58Z", "end_time": "2026-11-25T09:59:59.999000Z",
        "query_text": HOSTILE_STATEMENT, "query_id": "01f0-a5", "user": "Ünïcødé User <x@example.com>",
        "returned_rows": 1,
        "extra": {"statement_type": "SELECT", "execution_status": "FINISHED", "total_duration_ms": 1,
                  "client_application": "Databricks SQL", "workspace_id": "2002"},
    },
]


def test_query_logs_for_the_window(dbx: Any) -> None:
    manifest = run(DatabricksQueryLogCollectorOperator(task_id="logs"))
    push(manifest)
    assert stored(dbx, "query_logs") == EXPECTED_QUERY_LOGS
    assert {p["log_type"] for p in dbx.pushes("query_logs")} == {"databricks"}


def test_query_logs_metastore_log_type_and_workspace_filter(dbx: Any) -> None:
    op = DatabricksQueryLogCollectorOperator(
        task_id="logs", log_type="databricks-metastore-sql-warehouse", workspace_id=2002
    )
    push(run(op))
    assert stored(dbx, "query_logs") == [EXPECTED_QUERY_LOGS[-1]]
    assert [p["log_type"] for p in dbx.pushes("query_logs")] == ["databricks-metastore-sql-warehouse"]


def test_query_logs_window_values_are_bound_not_formatted(dbx: Any) -> None:
    # A hostile workspace id is a value: bound, it matches nothing (formatted, it would match all).
    op = DatabricksQueryLogCollectorOperator(task_id="logs", workspace_id="1001' OR '1'='1")
    assert run(op)["events"] == []
    # a custom lag: [09:00, 10:00) shifted by zero is the interval itself (10:00-11:00 has the
    # statement that ended exactly on 10:00, and nothing else)
    from datetime import timedelta

    op = DatabricksQueryLogCollectorOperator(task_id="logs", lag=timedelta(0))
    assert [e["query_id"] for e in run(op)["events"]] == ["01f0-b1"]


# -- a real DAG run ---------------------------------------------------------------------------------


def test_dag_mapped_per_catalog_pushes_everything(dbx: Any, airflow_db: Any) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import DAGS_FOLDER

    bag = DagBag(dag_folder=str(DAGS_FOLDER / "databricks_push.py"))
    assert bag.import_errors == {}
    dag = bag.get_dag("databricks_push")
    # a manual run at 11:00 covers the hour that ended then: [10:00, 11:00), read minus the lag
    run_ = dag.test(logical_date=datetime(2026, 11, 25, 11, tzinfo=timezone.utc))
    assert (run_.data_interval_start, run_.data_interval_end) == (INTERVAL["data_interval_start"], INTERVAL["data_interval_end"])
    assert run_.state == "success"
    metadata = stored(dbx, "metadata")
    # three mapped collectors (empty_cat contributes nothing) in one push operator
    assert sorted((e["metadata"]["database"], e["metadata"]["schema"], e["metadata"]["name"]) for e in metadata) == sorted(
        [("ops", "monitoring", "events")]
        + [("sales", "core", n) for n in ("orders", "customers", "orders_stream", "daily_revenue", "v_orders")]
        + [("sales", RAW_SCHEMA, n) for n in (WEIRD_TABLE, QUOTED_TABLE, UNICODE_TABLE)]
        + [("sales", "scratch", "tmp_1")]
    )
    assert all("fields" not in e for e in metadata)  # only_freshness_and_volume
    assert stored(dbx, "lineage") == EXPECTED_TABLE_LINEAGE + EXPECTED_COLUMN_LINEAGE
    assert stored(dbx, "query_logs") == EXPECTED_QUERY_LOGS


# -- one bad row does not take down a window (issue 14, item 6) ------------------------------------


def test_a_bad_statement_does_not_take_down_the_window(
    dbx: Any, databricks_standin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # On a day no other test reads (workspace 3003): eight good statements, one with empty text,
    # one that ends before it starts. (The 10,000-row window of the issue runs on Redshift's
    # stand-in, tests/operators/test_redshift.py: brickhouse takes ~0.4 s per five seeded rows and
    # its SQL slice has no set-based way to make more; the skipping is the template's, shared.)
    from tests.standins.databricks import QUERY_HISTORY_DDL, _qh, insert_rows

    def statement(qid: str, text: str, end: str = "2026-12-02T09:00:01Z") -> tuple[Any, ...]:
        return _qh(qid, "FINISHED", "bulk@example.com", text, "SELECT", "2026-12-02T09:00:00Z", end, workspace="3003")

    insert_rows(databricks_standin, "system.query.history", QUERY_HISTORY_DDL, [
        *(statement(f"bulk-{i}", f"SELECT {i}") for i in range(8)),
        statement("bulk-empty", ""),
        statement("bulk-backwards", "SELECT 2", end="2026-12-02T08:59:00Z"),
        statement("bulk-blank", "   "),
    ])
    op = DatabricksQueryLogCollectorOperator(
        task_id="logs", workspace_id="3003", start="2026-12-02T08:00:00Z", end="2026-12-02T10:00:00Z"
    )
    with caplog.at_level(logging.WARNING):
        manifest = run(op)
    assert sorted(e["query_id"] for e in manifest["events"]) == [f"bulk-{i}" for i in range(8)]
    assert manifest["stats"]["skipped"] == {"empty_query_text": 2, "end_before_start": 1}
    assert len([r for r in caplog.records if r.getMessage().startswith("skipped query")]) == 2  # one per kind
    push(manifest)  # the gateway takes all of it
    assert len(stored(dbx, "query_logs")) == 8


# -- view lineage from the catalog's view definitions (issue 18) --------------------------------------

VIEWS_CATALOG = "views_cat"  # not in system.information_schema.catalogs: no other test lists it
# information_schema rows as Unity Catalog has them: names lower-case except where the catalog
# rows keep a case (the stand-in's rows may say anything), columns case-preserving.
VIEW_CATALOG_ROWS: dict[str, list[tuple[Any, ...]]] = {
    "tables": [
        (VIEWS_CATALOG, "raw", "orders", "MANAGED", None, "DELTA", None, None),
        (VIEWS_CATALOG, RAW_SCHEMA, UNICODE_TABLE, "MANAGED", None, "DELTA", None, None),
        (VIEWS_CATALOG, "mart", "big_orders", "VIEW", None, None, None, None),
        (VIEWS_CATALOG, "mart", "revenue", "MATERIALIZED_VIEW", None, None, None, None),
        (VIEWS_CATALOG, "mart", "broken", "VIEW", None, None, None, None),
    ],
    "views": [
        # written in another case than the catalog's, fully qualified
        (VIEWS_CATALOG, "mart", "big_orders",
         f"SELECT ID, amount AS Total FROM {VIEWS_CATALOG}.RAW.Orders WHERE Amount > 0"),
        # a view over a view and a hostile, mixed-case, unicode schema/table/column (two-part
        # names resolve in the view's catalog)
        (VIEWS_CATALOG, "mart", "revenue",
         f"SELECT b.id, SUM(u.`betrag_€`) AS Revenue FROM mart.big_orders b "
         f"JOIN `{RAW_SCHEMA.lower()}`.`{UNICODE_TABLE.upper()}` u ON u.`Order_Id` = b.id GROUP BY b.id"),
        (VIEWS_CATALOG, "mart", "broken", "SELECT FROM WHERE ,"),
    ],
    "columns": [
        (VIEWS_CATALOG, "raw", "orders", "id", 1, "LONG", "bigint", "NO", None),
        (VIEWS_CATALOG, "raw", "orders", "Amount", 2, "DECIMAL", "decimal(12,2)", "YES", None),
        (VIEWS_CATALOG, RAW_SCHEMA, UNICODE_TABLE, "Order_Id", 1, "LONG", "bigint", "YES", None),
        (VIEWS_CATALOG, RAW_SCHEMA, UNICODE_TABLE, "betrag_€", 2, "DOUBLE", "double", "YES", None),
        (VIEWS_CATALOG, "mart", "big_orders", "id", 1, "LONG", "bigint", "YES", None),
        (VIEWS_CATALOG, "mart", "big_orders", "Total", 2, "DECIMAL", "decimal(12,2)", "YES", None),
        (VIEWS_CATALOG, "mart", "revenue", "id", 1, "LONG", "bigint", "YES", None),
        (VIEWS_CATALOG, "mart", "revenue", "Revenue", 2, "DOUBLE", "double", "YES", None),
    ],
}


@pytest.fixture
def views_catalog(databricks_standin: Any, databricks_conn: str) -> str:
    """A catalog of its own with views, seeded once per session."""
    from tests.standins.databricks import COLUMNS_DDL, TABLES_DDL, VIEWS_DDL, insert_rows

    if getattr(databricks_standin, "views_seeded", False):
        return VIEWS_CATALOG
    databricks_standin.create_catalog(VIEWS_CATALOG)
    for name, ddl in (("tables", TABLES_DDL), ("views", VIEWS_DDL), ("columns", COLUMNS_DDL)):
        target = f"{VIEWS_CATALOG}.information_schema.{name}"
        databricks_standin.sql(f"CREATE TABLE {target} ({ddl}) USING DELTA")
        insert_rows(databricks_standin, target, ddl, VIEW_CATALOG_ROWS[name])
    databricks_standin.views_seeded = True
    return VIEWS_CATALOG


def test_view_lineage_from_view_definitions(dbx: Any, views_catalog: str, caplog: pytest.LogCaptureFixture) -> None:
    """information_schema.views.view_definition parsed by the engine with Databricks' rules: names
    written in any case come out as the catalog spells them (equal to the metadata push's); a
    definition that does not parse is one warning and a count, the other views still collected."""
    caplog.set_level(logging.WARNING)
    metadata = run(DatabricksMetadataCollectorOperator(task_id="meta", catalogs=views_catalog, collect_tags=False))
    manifest = run(DatabricksViewLineageCollectorOperator(task_id="views", catalogs=views_catalog))
    assert manifest["kind"] == "lineage" and manifest["source"] == "view_definitions"
    assert manifest["catalog"] == views_catalog and manifest["stats"]["views"] == 3
    assert manifest["stats"]["skipped"] == {"unparseable_view_definition": 1}
    warnings = [r.getMessage() for r in caplog.records if "unparseable view definition" in r.getMessage()]
    assert len(warnings) == 1 and "mart.broken" in warnings[0]
    push(metadata, manifest)
    pushed = by_name(stored(dbx, "metadata"))
    lineage = {(e["destination"]["schema"], e["destination"]["name"]): e for e in stored(dbx, "lineage")}
    assert sorted(lineage) == [("mart", "big_orders"), ("mart", "revenue")]
    big = lineage[("mart", "big_orders")]
    assert big["destination"]["type"] == "VIEW"
    assert big["sources"] == [ref(views_catalog, "raw", "orders", asset_id=big["sources"][0]["asset_id"])]
    assert {f["name"]: [sf["field_name"] for sf in f["source_fields"]] for f in big["fields"]} == {
        "id": ["id"], "Total": ["Amount"]}
    revenue = lineage[("mart", "revenue")]
    assert sorted((s["schema"], s["name"], s["type"]) for s in revenue["sources"]) == [
        (RAW_SCHEMA, UNICODE_TABLE, "TABLE"), ("mart", "big_orders", "VIEW")]
    names = {s["asset_id"]: s["name"] for s in revenue["sources"]}
    assert {f["name"]: [(names[sf["asset_id"]], sf["field_name"]) for sf in f["source_fields"]]
            for f in revenue["fields"]} == {"id": [("big_orders", "id")], "Revenue": [(UNICODE_TABLE, "betrag_€")]}
    # every name lineage uses is a name the metadata push sent, columns included
    for event in lineage.values():
        for asset in (event["destination"], *event["sources"]):
            assert (asset["database"], asset["schema"], asset["name"]) in pushed
        columns = {f["name"] for f in pushed[tuple(event["destination"][k] for k in ("database", "schema", "name"))]
                   ["fields"]}
        assert {f["name"] for f in event["fields"]} <= columns
