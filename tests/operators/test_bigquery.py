"""BigQuery collectors through the real ``BigQueryHook`` against bqemulator, pushed to the sandbox.

The emulator lacks ``__TABLES__``, ``COLUMN_FIELD_PATHS``, ``TABLE_STORAGE``,
``region-*.INFORMATION_SCHEMA.JOBS*`` and ``SCHEMATA_LINKS``: ``tests/standins/bigquery.py`` creates
stand-in tables of the same name (``__TABLES__``) or, where the name cannot be created, of the same
shape in ``mc_standins``, which these tests reach through the collectors' ``*_table`` overrides.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from monte_carlo_push_provider.collectors.bigquery import flatten_column, region_dataset, source_ref
from monte_carlo_push_provider.manifest import validate_manifest
from monte_carlo_push_provider.operators.bigquery import (
    BigQueryIcebergCollectorOperator,
    BigQueryLineageCollectorOperator,
    BigQueryMetadataCollectorOperator,
    BigQueryQueryLogCollectorOperator,
    BigQueryViewLineageCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from tests.conftest import DAGS_FOLDER, make_context
from tests.standins.bigquery import (
    COLUMN_FIELD_PATHS_TABLE,
    HOSTILE_COLUMNS,
    JOBS_TABLE,
    MIXED,
    MIXED_TABLE,
    ORDERS_NESTED,
    PROJECT,
    SCHEMATA_LINKS_TABLE,
    TABLE_STORAGE_TABLE,
    BigQueryStandIn,
    ts,
)

# Data interval [10:10, 11:10) -> [10:00, 11:00) after the default 10-minute lag.
INTERVAL = {"data_interval_start": ts(10, 10), "data_interval_end": ts(11, 10)}
NOT_STANDINS = ["mc_standins", "scratch"]


def ctx(**extra: Any) -> dict[str, Any]:
    return make_context(**{**INTERVAL, **extra})


def push(mc_conn: Any, *manifests: dict[str, Any]) -> dict[str, Any]:
    for m in manifests:
        validate_manifest(m)
    mc_conn.use("bigquery")
    op = MonteCarloPushOperator(task_id="push", manifests=list(manifests), min_push_interval=None)
    return op.execute(make_context(task_id="push"))


def assets(mc_conn: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    out = {}
    for e in mc_conn.events("metadata"):
        a = e["event"]["relational_asset"]
        out[(a["metadata"]["database"], a["metadata"]["schema"], a["metadata"]["name"])] = a
    return out


def test_metadata_full_schema(bigquery_conn: BigQueryStandIn, mc_conn: Any, caplog: pytest.LogCaptureFixture) -> None:
    op = BigQueryMetadataCollectorOperator(task_id="metadata", exclude_datasets=NOT_STANDINS)
    manifest = op.execute(ctx())
    push(mc_conn, manifest)
    stored = assets(mc_conn)
    assert sorted(stored) == sorted([
        (PROJECT, MIXED, MIXED_TABLE),
        (PROJECT, "lake", "ice_orders"),
        (PROJECT, "sales", "events_yyyymmdd"),  # two date shards folded into one asset
        (PROJECT, "sales", "ext"),
        (PROJECT, "sales", "orders"),
        (PROJECT, "sales", "orders_clone"),
        (PROJECT, "sales", "orders_mv"),
        (PROJECT, "sales", "orders_snap"),
        (PROJECT, "sales", "orders_v"),
        (PROJECT, "shared_link", "prices"),
        (PROJECT, "shared_link", "rates_yyyymmdd"),
    ])  # no __TABLES__ stand-in, nothing from empty_ds or the excluded mc_standins
    assert manifest["datasets"][PROJECT] == [MIXED, "empty_ds", "lake", "sales", "shared_link"]
    orders = stored[(PROJECT, "sales", "orders")]
    assert orders == {
        "type": "TABLE",
        "metadata": {"name": "orders", "database": PROJECT, "schema": "sales", "description": "one row per order",
                     "created_on": orders["metadata"]["created_on"]},
        # COLUMN_FIELD_PATHS is missing from the emulator: the nested types of COLUMNS are parsed
        "fields": [{"name": n, "type": t} for n, t in ORDERS_NESTED],
        # labels from TABLE_OPTIONS (key-only "pii" without a value), sorted as the view lists them
        "tags": [{"key": "env", "value": "prod"}, {"key": "pii"}, {"key": "team", "value": "sales-eng"}],
        "volume": {"row_count": 3, "byte_count": 4096},
        "freshness": {"last_update_time": "2026-11-25T09:30:05.123000Z"},
    }
    assert stored[(PROJECT, "sales", "orders_v")]["type"] == "VIEW"
    assert stored[(PROJECT, "sales", "orders_v")]["metadata"]["view_query"] == (
        f"SELECT id, amount FROM `{PROJECT}.sales.orders`")
    assert "volume" not in stored[(PROJECT, "sales", "orders_v")]
    assert stored[(PROJECT, "sales", "orders_mv")]["type"] == "VIEW"  # MATERIALIZED VIEW
    for name in ("orders_snap", "orders_clone", "ext"):  # SNAPSHOT, CLONE, EXTERNAL
        assert stored[(PROJECT, "sales", name)]["type"] == "TABLE"
    assert stored[(PROJECT, "sales", "orders_clone")]["volume"] == {"row_count": 3, "byte_count": 100}
    shards = stored[(PROJECT, "sales", "events_yyyymmdd")]
    assert shards["fields"] == [{"name": "id", "type": "INT64"}, {"name": "extra", "type": "STRING"}]  # newest shard
    assert shards["volume"] == {"row_count": 30, "byte_count": 3000}
    assert shards["freshness"] == {"last_update_time": "2026-11-25T07:00:00Z"}
    assert shards["tags"] == [{"key": "stage", "value": "raw"}]  # the newest shard's labels
    assert manifest["stats"]["tags"] == {"tagged_tables": 2, "sources": 5, "unavailable": []}
    hostile = stored[(PROJECT, MIXED, MIXED_TABLE)]
    assert [f["name"] for f in hostile["fields"]] == list(HOSTILE_COLUMNS)
    assert "volume" not in hostile  # that dataset has no __TABLES__ stand-in: schema only, with a warning
    assert f"{PROJECT}.{MIXED}.__TABLES__ cannot be read" in caplog.text


def test_metadata_tags_from_table_labels_are_pushed(bigquery_conn: BigQueryStandIn, mc_conn: Any) -> None:
    # the emulator keeps labels set through the API and reports them in TABLE_OPTIONS, as BigQuery does
    manifest = BigQueryMetadataCollectorOperator(task_id="labels", dataset="sales").execute(ctx())
    push(mc_conn, manifest)
    assert {k[2]: a["tags"] for k, a in assets(mc_conn).items() if "tags" in a} == {
        "orders": [{"key": "env", "value": "prod"}, {"key": "pii"}, {"key": "team", "value": "sales-eng"}],
        "events_yyyymmdd": [{"key": "stage", "value": "raw"}],
    }
    assert manifest["stats"]["tags"] == {"tagged_tables": 2, "sources": 1, "unavailable": []}


def test_metadata_tags_opt_out_and_hourly_runs_send_no_labels(bigquery_conn: BigQueryStandIn) -> None:
    for op in (
        BigQueryMetadataCollectorOperator(task_id="no_tags", dataset="sales", collect_tags=False),
        BigQueryMetadataCollectorOperator(task_id="hourly", dataset="sales", only_freshness_and_volume=True),
    ):
        manifest = op.execute(ctx())
        assert manifest["events"] and not any("tags" in e for e in manifest["events"]), op.task_id
        assert "tags" not in manifest["stats"]
    # descriptions still come from the same TABLE_OPTIONS query
    assert any(e["metadata"].get("description") for e in BigQueryMetadataCollectorOperator(
        task_id="no_tags", dataset="sales", collect_tags=False).execute(ctx())["events"])


def test_tags_label_literals_of_bigquery_and_the_emulator() -> None:
    from monte_carlo_push_provider.collectors.bigquery import parse_labels

    # real BigQuery's rendering, and the emulator's
    assert parse_labels('[STRUCT("env", "prod"), STRUCT("pii", "")]') == {"env": "prod", "pii": None}
    assert parse_labels('[("team", "a-b_1")]') == {"team": "a-b_1"}
    assert parse_labels(None) == {} and parse_labels("[]") == {}


def test_metadata_column_field_paths_and_project_filters(bigquery_conn: BigQueryStandIn, mc_conn: Any) -> None:
    op = BigQueryMetadataCollectorOperator(
        task_id="metadata", project_ids=[PROJECT, "other-proj"], exclude_projects=["other-*"], dataset="sales",
        field_paths="column_field_paths", column_field_paths_table=COLUMN_FIELD_PATHS_TABLE,
    )
    manifest = op.execute(ctx())
    assert manifest["project"] == PROJECT and manifest["dataset"] == "sales"
    push(mc_conn, manifest)
    orders = assets(mc_conn)[(PROJECT, "sales", "orders")]
    # the same paths as parsed from COLUMNS, in schema order, plus the view's descriptions
    expected = [{"name": n, "type": t} for n, t in ORDERS_NESTED]
    expected[0]["description"] = "order id"
    expected[5]["description"] = "billing city"
    assert orders["fields"] == expected


def test_metadata_only_freshness_and_volume(bigquery_conn: BigQueryStandIn, mc_conn: Any) -> None:
    op = BigQueryMetadataCollectorOperator(task_id="metadata", datasets=["sal*"], only_freshness_and_volume=True)
    push(mc_conn, op.execute(ctx()))
    stored = assets(mc_conn)
    # __TABLES__ alone: views by its type 2, no fields/descriptions/view SQL
    assert {k[2]: (v["type"], v.get("volume"), v.get("freshness")) for k, v in stored.items()} == {
        "orders": ("TABLE", {"row_count": 3, "byte_count": 4096}, {"last_update_time": "2026-11-25T09:30:05.123000Z"}),
        "orders_v": ("VIEW", None, None),
        "orders_snap": ("TABLE", {"row_count": 3, "byte_count": 4096}, {"last_update_time": "2026-11-25T03:00:00Z"}),
        "orders_clone": ("TABLE", {"row_count": 3, "byte_count": 100}, {"last_update_time": "2026-11-25T04:00:00Z"}),
        "ext": ("TABLE", {"row_count": 0, "byte_count": 0}, {"last_update_time": "2026-11-25T05:00:00Z"}),
        "events_yyyymmdd": ("TABLE", {"row_count": 30, "byte_count": 3000}, {"last_update_time": "2026-11-25T07:00:00Z"}),
    }
    assert all("fields" not in v and "description" not in v["metadata"] for v in stored.values())


def test_empty_dataset_gives_empty_manifest(bigquery_conn: BigQueryStandIn) -> None:
    manifest = BigQueryMetadataCollectorOperator(task_id="metadata", dataset="empty_ds").execute(ctx())
    assert validate_manifest(manifest)["events"] == []


def test_iceberg_table_storage(bigquery_conn: BigQueryStandIn, mc_conn: Any) -> None:
    hourly = BigQueryIcebergCollectorOperator(
        task_id="iceberg", region="us", datasets=["lake"], exclude_tables=["tmp_*"],
        table_storage_table=TABLE_STORAGE_TABLE,
    ).execute(ctx())
    full = BigQueryIcebergCollectorOperator(
        task_id="iceberg_full", region="region-us", datasets=["lake"], tables=["ice_*"],
        table_storage_table=TABLE_STORAGE_TABLE, only_freshness_and_volume=False,
    ).execute(ctx())
    assert hourly["events"] == [{
        "type": "TABLE",
        "metadata": {"name": "ice_orders", "database": PROJECT, "schema": "lake", "created_on": "2026-11-25T01:00:00Z"},
        "volume": {"row_count": 1234, "byte_count": 56789},
        "freshness": {"last_update_time": "2026-11-25T09:45:00Z"},
    }]  # deleted, excluded and other-project rows left out
    assert full["events"][0]["fields"] == [
        {"name": "id", "type": "INT64"}, {"name": "payload", "type": "STRUCT<k STRING>"},
        {"name": "payload.k", "type": "STRING"}]
    push(mc_conn, hourly)
    assert list(assets(mc_conn)) == [(PROJECT, "lake", "ice_orders")]


def test_query_logs_from_jobs_by_project(bigquery_conn: BigQueryStandIn, mc_conn: Any) -> None:
    op = BigQueryQueryLogCollectorOperator(task_id="logs", jobs_source="information_schema", jobs_table=JOBS_TABLE)
    manifest = op.execute(ctx())
    assert manifest["source"] == "information_schema"
    assert manifest["window"] == {"start": "2026-11-25T10:00:00Z", "end": "2026-11-25T11:00:00Z"}
    push(mc_conn, manifest)
    events = {e["event"]["query_id"]: e["event"] for e in mc_conn.events("query_logs")}
    # j-before / j-end fall outside [10:00, 11:00); j-own is this collector's; j-load is no query
    assert sorted(events) == ["j-ctas", "j-failed", "j-long", "j-mixed"]
    assert events["j-failed"] == {
        "start_time": "2026-11-25T10:19:56Z", "end_time": "2026-11-25T10:20:00Z",
        "query_text": "SELECT nope FROM sales.orders", "query_id": "j-failed", "user": "analyst@example.com",
        "error_code": "invalidQuery", "error_text": "Unrecognized name: nope",
        "extra": {"total_bytes_billed": 0, "total_bytes_processed": 0, "statement_type": "SELECT",
                  "job_type": "QUERY", "project_id": PROJECT},
    }
    assert events["j-long"]["start_time"] == "2026-11-25T05:00:01Z"  # created 5 h before the window
    assert events["j-ctas"]["extra"]["destination_table"] == f"{PROJECT}.sales.daily"
    assert events["j-ctas"]["extra"]["total_bytes_billed"] == 10_485_760


def test_query_logs_and_lineage_from_list_jobs(bigquery_conn: BigQueryStandIn, mc_conn: Any) -> None:
    """``auto``: the emulator has no region-us JOBS_BY_PROJECT (BadRequest), so jobs come from
    ``Client.list_jobs(all_users=True)`` — with real jobs run here, default dataset included."""
    # The window starts now: earlier tests' catalog queries ended before it. (The emulator drops
    # the labels of successful jobs, so the own-jobs filter is covered by the JOBS test instead.)
    start = datetime.now(timezone.utc)
    time.sleep(0.01)  # the emulator records job times in whole milliseconds
    # Names are dataset-qualified: the emulator does not record a job's default dataset (jobs.list
    # and jobs.get both leave it out), so unqualified names could not be resolved here.
    ctas = bigquery_conn.query("CREATE TABLE scratch.recent AS SELECT id, amount FROM sales.orders WHERE amount > 8")
    insert = bigquery_conn.query(f"INSERT INTO `{PROJECT}.scratch.Mixed` (`{HOSTILE_COLUMNS[0]}`) "
                                 "SELECT id FROM scratch.recent")
    select = bigquery_conn.query("SELECT COUNT(*) FROM orders", default_dataset=f"{PROJECT}.sales")
    time.sleep(0.05)
    end = datetime.now(timezone.utc) + timedelta(seconds=1)
    window = {"start": start.isoformat(), "end": end.isoformat()}
    logs = BigQueryQueryLogCollectorOperator(task_id="logs", **window).execute(ctx())
    lineage = BigQueryLineageCollectorOperator(task_id="lineage", **window, schemata_links=False).execute(ctx())
    assert logs["source"] == lineage["source"] == "list_jobs"
    push(mc_conn, logs, lineage)
    events = {e["event"]["query_id"]: e["event"] for e in mc_conn.events("query_logs")}
    assert sorted(events) == sorted([ctas.job_id, insert.job_id, select.job_id])
    assert events[ctas.job_id]["extra"] == {
        "statement_type": "CREATE_TABLE_AS_SELECT", "job_type": "QUERY",
        "destination_table": f"{PROJECT}.scratch.recent", "project_id": PROJECT,
        "total_bytes_processed": 0,  # the emulator bills nothing (total_bytes_billed None -> left out)
    }
    edges = sorted(
        (e["event"]["destination"]["schema"], e["event"]["destination"]["name"],
         tuple(f"{s['database']}.{s['schema']}.{s['name']}" for s in e["event"]["sources"]))
        for e in mc_conn.events("lineage")
    )
    # two-part names take the job's project; the emulator reports no referenced tables, and the
    # lineage engine keeps BigQuery's case-sensitive names as written: `Mixed`, as created
    assert edges == [
        ("scratch", "Mixed", (f"{PROJECT}.scratch.recent",)),
        ("scratch", "recent", (f"{PROJECT}.sales.orders",)),
    ]


def test_lineage_from_jobs_by_project_and_schemata_links(bigquery_conn: BigQueryStandIn, mc_conn: Any) -> None:
    op = BigQueryLineageCollectorOperator(
        task_id="lineage", jobs_table=JOBS_TABLE, schemata_links_table=SCHEMATA_LINKS_TABLE,
    )
    manifest = op.execute(ctx())
    assert manifest["stats"]["queries"] == 3 and manifest["stats"]["skipped_unqualified"] == 0
    push(mc_conn, manifest)
    stored = [e["event"] for e in mc_conn.events("lineage")]
    by_dest = {(d["database"], d["schema"], d["name"]): e for e in stored for d in [e["destination"]]}
    assert sorted(by_dest) == sorted([
        (PROJECT, MIXED, MIXED_TABLE),  # exact case back from the job's referenced/destination tables
        (PROJECT, "sales", "daily"),
        (PROJECT, "sales", "events_yyyymmdd"),  # INSERT INTO a date shard
        (PROJECT, "shared_link", "prices"),  # SCHEMATA_LINKS: linked dataset <- shared dataset
        (PROJECT, "shared_link", "rates_yyyymmdd"),
    ])
    assert by_dest[(PROJECT, "sales", "daily")]["fields"] == [
        {"name": "amount", "source_fields": [{"asset_id": f"{PROJECT}.sales.orders", "field_name": "amount"}]},
        {"name": "id", "source_fields": [{"asset_id": f"{PROJECT}.sales.orders", "field_name": "id"}]},
    ]
    assert by_dest[(PROJECT, MIXED, MIXED_TABLE)]["fields"] == [
        {"name": HOSTILE_COLUMNS[0], "source_fields": [{"asset_id": f"{PROJECT}.sales.orders", "field_name": "id"}]}]
    assert by_dest[(PROJECT, "shared_link", "prices")]["sources"] == [
        {"type": "TABLE", "name": "prices", "database": "other-proj", "schema": "shared"}]


# --- view lineage from the catalog's view definitions (issue 18) ----------------------------------

VIEWS_PROJECT = "views-proj"  # a project of its own: no other test lists it


@pytest.fixture
def bigquery_views(bigquery_conn: BigQueryStandIn) -> BigQueryStandIn:
    """Mixed-case datasets, tables and columns, and views over them, created once per session."""
    from google.cloud import bigquery
    from google.cloud.bigquery import SchemaField as F

    client = bigquery_conn.client(VIEWS_PROJECT)
    if any(True for _ in client.list_datasets(VIEWS_PROJECT, timeout=30)):
        return bigquery_conn
    for ds in ("Raw", "Mart_Views"):
        client.create_dataset(f"{VIEWS_PROJECT}.{ds}", timeout=30)
    client.create_table(bigquery.Table(f"{VIEWS_PROJECT}.Raw.Orders", schema=[
        F("Id", "INT64"), F("Amount", "NUMERIC"), F(HOSTILE_COLUMNS[0], "STRING")]), timeout=30)
    client.create_table(bigquery.Table(f"{VIEWS_PROJECT}.Raw.events_20240101", schema=[F("id", "INT64")]), timeout=30)
    for sql in (
        # columns written in another case than the catalog's (BigQuery columns are case-insensitive)
        f"CREATE VIEW `{VIEWS_PROJECT}.Mart_Views.Big_Orders` AS "
        f"SELECT id, AMOUNT AS Total, `{HOSTILE_COLUMNS[0]}` FROM `{VIEWS_PROJECT}.Raw.Orders` WHERE amount > 1",
        # a view over a view, two-part names (the view's project), a date shard
        f"CREATE VIEW `{VIEWS_PROJECT}.Mart_Views.everything` AS "
        "SELECT b.Id, e.id AS event_id FROM Mart_Views.Big_Orders AS b JOIN Raw.events_20240101 AS e ON e.id = b.id",
        # another project's table
        f"CREATE VIEW `{VIEWS_PROJECT}.Mart_Views.cross_project` AS SELECT id FROM `{PROJECT}.sales.orders`",
    ):
        bigquery_conn.query(sql, project=VIEWS_PROJECT)
    return bigquery_conn


def test_view_lineage_from_view_definitions(bigquery_views: BigQueryStandIn, mc_conn: Any) -> None:
    """INFORMATION_SCHEMA.VIEWS.view_definition parsed by the engine: case-sensitive dataset and
    table names as created, columns in the catalog's case (the view's own columns as BigQuery
    names them: ``id`` selected from ``Id`` is ``Id``), every name equal to the metadata push's."""
    common = {"project_ids": [VIEWS_PROJECT]}
    metadata = BigQueryMetadataCollectorOperator(task_id="metadata", collect_tags=False, **common).execute(ctx())
    manifest = BigQueryViewLineageCollectorOperator(task_id="views", **common).execute(ctx())
    validate_manifest(manifest)
    assert manifest["kind"] == "lineage" and manifest["source"] == "view_definitions"
    assert manifest["stats"]["views"] == 3 and manifest["stats"]["skipped"] == {}
    edges = {}
    for event in manifest["events"]:
        by_id = {s["asset_id"]: s for s in event["sources"]}
        dest = event["destination"]
        edges[f"{dest['schema']}.{dest['name']}"] = (
            sorted(f"{s['database']}.{s['schema']}.{s['name']}:{s['type']}" for s in event["sources"]),
            {f["name"]: sorted(f"{by_id[sf['asset_id']]['name']}.{sf['field_name']}" for sf in f["source_fields"])
             for f in event.get("fields") or []},
        )
    assert edges == {
        "Mart_Views.Big_Orders": ([f"{VIEWS_PROJECT}.Raw.Orders:TABLE"], {
            "Id": ["Orders.Id"], "Total": ["Orders.Amount"], HOSTILE_COLUMNS[0]: [f"Orders.{HOSTILE_COLUMNS[0]}"]}),
        "Mart_Views.everything": (
            [f"{VIEWS_PROJECT}.Mart_Views.Big_Orders:VIEW", f"{VIEWS_PROJECT}.Raw.events_yyyymmdd:TABLE"],
            {"Id": ["Big_Orders.Id"], "event_id": ["events_yyyymmdd.id"]}),
        "Mart_Views.cross_project": ([f"{PROJECT}.sales.orders:TABLE"], {"id": ["orders.id"]}),
    }
    pushed = {(a["metadata"]["database"], a["metadata"]["schema"], a["metadata"]["name"]): {f["name"] for f in a["fields"]}
              for a in metadata["events"]}
    for event in manifest["events"]:
        dest = event["destination"]
        assert {f["name"] for f in event["fields"]} <= pushed[(dest["database"], dest["schema"], dest["name"])]
        for source in event["sources"]:
            if source["database"] == VIEWS_PROJECT:
                assert (source["database"], source["schema"], source["name"]) in pushed
    push(mc_conn, metadata, manifest)
    stored = {e["event"]["destination"]["name"]: e["event"] for e in mc_conn.events("lineage")}
    assert sorted(stored) == ["Big_Orders", "cross_project", "everything"]
    assert [s["name"] for s in stored["Big_Orders"]["sources"]] == ["Orders"]


def test_jobs_source_information_schema_fails_loudly_without_the_view(bigquery_conn: BigQueryStandIn) -> None:
    from google.api_core.exceptions import BadRequest

    op = BigQueryQueryLogCollectorOperator(task_id="logs", jobs_source="information_schema")
    with pytest.raises(BadRequest, match="region-us"):
        op.execute(ctx())


def test_source_refs_quote_every_part() -> None:
    assert source_ref(None, (("my-proj", "region-eu"), "JOBS_BY_PROJECT")) == (
        "`my-proj`.`region-eu`.INFORMATION_SCHEMA.JOBS_BY_PROJECT")
    assert source_ref("{project}.{region}.INFORMATION_SCHEMA.TABLE_STORAGE", ((), ""), project="p",
                      region="region-us") == "`p`.`region-us`.INFORMATION_SCHEMA.TABLE_STORAGE"
    # a value cannot add a part or close the quote
    assert source_ref("{project}.copies.jobs", ((), ""), project="x`.evil") == "`x``.evil`.`copies`.`jobs`"
    for bad in ("us`; DROP", "", "US EAST"):
        with pytest.raises(ValueError):
            region_dataset(bad)
    assert flatten_column("a", "ARRAY<STRUCT<`b c` STRING, d STRUCT<e INT64> NOT NULL>>") == [
        ("a", "ARRAY<STRUCT<`b c` STRING, d STRUCT<e INT64> NOT NULL>>"),
        ("a.b c", "STRING"), ("a.d", "STRUCT<e INT64>"), ("a.d.e", "INT64")]


def test_dag_runs_bigquery_collectors_and_pushes(
    bigquery_conn: BigQueryStandIn, mc_conn: Any, airflow_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    mc_conn.use("bigquery")
    bag = DagBag(dag_folder=str(DAGS_FOLDER / "bigquery_push.py"))
    assert bag.import_errors == {}
    dag = bag.get_dag("bigquery_push_test")
    # logical date 11:10: data interval [10:10, 11:10), read as [10:00, 11:00) after the lag
    run = dag.test(logical_date=datetime(2026, 11, 25, 11, 10, tzinfo=timezone.utc))
    assert run.state == "success", run.state
    # metadata of the two metadata collectors goes out as one push unit
    assert sorted(p["kind"] for p in mc_conn.pushes()) == ["lineage", "metadata", "query_logs"]
    names = sorted(e["event"]["relational_asset"]["metadata"]["name"] for e in mc_conn.events("metadata"))
    assert names == ["events_yyyymmdd", "ext", "ice_orders", "orders", "orders_clone", "orders_mv", "orders_snap",
                     "orders_v"]
    assert sorted(e["event"]["query_id"] for e in mc_conn.events("query_logs")) == [
        "j-ctas", "j-failed", "j-long", "j-mixed"]
    assert sorted(e["event"]["destination"]["name"] for e in mc_conn.events("lineage")) == [
        MIXED_TABLE, "daily", "events_yyyymmdd"]
