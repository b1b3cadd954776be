"""Hive operators end to end: collect from the stand-in (metastore, Thrift server) and from
HiveServer2 log files in Hive's log4j2 layout, push to the sandbox, assert on what it stored."""

from __future__ import annotations

import gzip
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from monte_carlo_push_provider.operators.hive import (
    HiveLineageCollectorOperator,
    HiveMetastoreMetadataCollectorOperator,
    HiveMetastoreViewLineageCollectorOperator,
    HiveQueryLogCollectorOperator,
    HiveServer2MetadataCollectorOperator,
    HiveServer2ViewLineageCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from tests.conftest import DAGS_FOLDER, make_context

UTC = timezone.utc
START = datetime(2026, 11, 25, 10, tzinfo=UTC)
END = datetime(2026, 11, 25, 11, tzinfo=UTC)
BG = "HiveServer2-Background-Pool: Thread-{}"


def line(ts: str, msg: str, thread: int = 42, level: str = "INFO") -> str:
    """Apache Hive's default layout ``%d{ISO8601} %5p [%t] %c{2}: %m%n``."""
    return f"{ts} {level:>5} [{BG.format(thread)}] ql.Driver: {msg}\n"


def write_logs(root: Path) -> Path:
    """A day of HiveServer2 logs: yesterday's gzipped rotation, today's live file."""
    root.mkdir(parents=True, exist_ok=True)
    with gzip.open(root / "hive.log.2026-11-24.gz", "wt") as fh:
        fh.write(line("2026-11-24T23:59:00,000", "Executing command(queryId=hive_old): SELECT 1"))
    (root / "hive.log").write_text(
        line("2026-11-25T09:59:59,999", "Executing command(queryId=hive_before): INSERT INTO sales.x SELECT * FROM sales.y")
        + line("2026-11-25T10:01:00,100", "Executing command(queryId=hive_1): CREATE TABLE sales.stage AS")
        + "SELECT id, amount FROM sales.orders WHERE amount > 0\n"
        + line("2026-11-25T10:01:05,100", "Completed executing command(queryId=hive_1); Time taken: 5.0 seconds")
        + line("2026-11-25T10:02:00,000", "Executing command(queryId=hive_2): INSERT OVERWRITE TABLE "
               "sales.order_report PARTITION (ds='2026-11-25') SELECT s.id, s.amount FROM sales.stage s", thread=43)
        + line("2026-11-25T10:02:30,000", "Completed executing command(queryId=hive_2); Time taken: 30.0 seconds", thread=43)
        + line("2026-11-25T10:03:00,000", "Executing command(queryId=hive_3): DROP TABLE sales.stage")
        + line("2026-11-25T10:03:00,500", "Completed executing command(queryId=hive_3); Time taken: 0.5 seconds")
        + line("2026-11-25T10:04:00,000", "Executing command(queryId=hive_4): INSERT INTO clicks_daily "
               "SELECT user_id FROM sales.raw_clicks", thread=44)
        + line("2026-11-25T10:04:01,000", "FAILED: SemanticException [Error 10001]: Table not found clicks_daily",
               thread=44, level="ERROR")
        + line("2026-11-25T10:04:01,001", "Completed executing command(queryId=hive_4); Time taken: 1.0 seconds", thread=44)
        + "garbage that is not a log line\n"
        + line("2026-11-25T11:00:00,000", "Executing command(queryId=hive_after): SELECT 2")
    )
    return root


def push(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    op = MonteCarloPushOperator(task_id="push", manifests=manifests, min_push_interval=None)
    return op.execute(make_context(task_id="push"))


def test_metastore_metadata_operator_pushes_to_sandbox(hive_conns: Any, mc_conn: Any) -> None:
    mc_conn.use("data-lake")
    op = HiveMetastoreMetadataCollectorOperator(
        task_id="metadata", metastore_conn_id="hive_metastore", databases=["sales", "empty_db"],
        exclude_tables=["hostile*"], database_label="hive",
    )
    manifest = op.execute(make_context(task_id="metadata"))
    assert manifest["resource_type"] == "data-lake" and manifest["database"] == "hive"
    result = push([manifest])
    stored = {e["event"]["relational_asset"]["metadata"]["name"]: e["event"]["relational_asset"]
              for e in mc_conn.events("metadata")}
    assert sorted(stored) == ["big_orders", "events", "order_totals_mv", "orders", "raw_clicks"]
    assert {n: s["type"] for n, s in stored.items()} == {
        "big_orders": "VIEW", "events": "TABLE", "order_totals_mv": "VIEW", "orders": "TABLE", "raw_clicks": "TABLE"}
    assert stored["orders"] == next(e for e in manifest["events"] if e["metadata"]["name"] == "orders")
    assert stored["orders"]["volume"]["row_count"] == 3
    assert [p["invocation_id"] for p in mc_conn.pushes("metadata")] == result["invocation_ids"]


def test_hiveserver2_metadata_operator(hive_conns: Any) -> None:
    op = HiveServer2MetadataCollectorOperator(
        task_id="hs2", hiveserver2_conn_id="hiveserver2", databases=["sales"], tables=["orders", "big_orders"],
        only_freshness_and_volume=True,
    )
    manifest = op.execute(make_context(task_id="hs2"))
    events = {e["metadata"]["name"]: e for e in manifest["events"]}
    assert sorted(events) == ["big_orders", "orders"]
    # created_on is sent on freshness-only runs too (one TableRecord -> RelationalAsset mapping)
    view = events["big_orders"]
    assert view["metadata"].pop("created_on").endswith("Z")
    # Monte Carlo's Hive naming by default: database and schema both the Hive database
    assert view == {"type": "VIEW", "metadata": {"name": "big_orders", "database": "sales", "schema": "sales"}}
    assert manifest["databases"] == ["sales"] and manifest["naming"] == "hive_database"
    assert events["orders"]["volume"]["row_count"] == 3 and "fields" not in events["orders"]


def test_query_logs_and_lineage_operators_push_exact_events(tmp_path: Path, mc_conn: Any) -> None:
    mc_conn.use("data-lake")
    logs = write_logs(tmp_path / "logs")
    context = make_context(data_interval_start=START, data_interval_end=END)
    query_logs = HiveQueryLogCollectorOperator(task_id="q", log_path=f"file://{logs}").execute(context)
    lineage = HiveLineageCollectorOperator(task_id="l", log_path=f"file://{logs}").execute(context)
    assert query_logs["log_type"] == "hive-s3"
    assert query_logs["window"] == {"start": "2026-11-25T10:00:00Z", "end": "2026-11-25T11:00:00Z"}
    push([query_logs, lineage])

    stored = [e["event"] for e in mc_conn.events("query_logs")]
    assert [(e["query_id"], e["start_time"], e["end_time"]) for e in stored] == [
        ("hive_1", "2026-11-25T10:01:00.100000Z", "2026-11-25T10:01:05.100000Z"),
        ("hive_2", "2026-11-25T10:02:00Z", "2026-11-25T10:02:30Z"),
        ("hive_3", "2026-11-25T10:03:00Z", "2026-11-25T10:03:00.500000Z"),
        ("hive_4", "2026-11-25T10:04:00Z", "2026-11-25T10:04:01.001000Z"),
    ]
    assert stored[0]["query_text"] == "CREATE TABLE sales.stage AS\nSELECT id, amount FROM sales.orders WHERE amount > 0"
    assert stored[3]["error_text"] == "SemanticException [Error 10001]: Table not found clicks_daily"
    assert stored[3]["error_code"] == 1
    assert mc_conn.pushes("query_logs")[0]["log_type"] == "hive-s3"

    # sales.stage was created and dropped in the window: resolved away. The failed hive_4 is no lineage.
    # Monte Carlo's Hive naming by default: database and schema both the Hive database (asset ids
    # are the engine's local references)
    events = [e["event"] for e in mc_conn.events("lineage")]
    assert events == [{
        "destination": {"type": "TABLE", "name": "order_report", "database": "sales", "schema": "sales",
                        "asset_id": "default.sales.order_report"},
        "sources": [{"type": "TABLE", "name": "orders", "database": "sales", "schema": "sales",
                     "asset_id": "default.sales.orders"}],
        "fields": [
            {"name": "amount", "source_fields": [{"asset_id": "default.sales.orders", "field_name": "amount"}]},
            {"name": "id", "source_fields": [{"asset_id": "default.sales.orders", "field_name": "id"}]},
        ],
    }]
    assert lineage["stats"]["queries"] == 3 and lineage["stats"]["temp_tables_resolved"] == 1


@pytest.mark.parametrize(
    ("label", "orders_mcon_name"),
    [(None, ("sales", "sales", "orders")), ("hive", ("hive", "sales", "orders"))],
    ids=["hive_naming_default", "hive_naming_label"],
)
def test_hive_naming_lineage_names_tables_as_the_metadata_push_does(
    hive_conns: Any, mc_conn: Any, tmp_path: Path, label: str | None, orders_mcon_name: tuple[str, str, str],
) -> None:
    mc_conn.use("data-lake")
    logs = write_logs(tmp_path / "logs")
    context = make_context(data_interval_start=START, data_interval_end=END)
    metadata = HiveMetastoreMetadataCollectorOperator(
        task_id="m", metastore_conn_id="hive_metastore", databases=["sales"], tables=["orders", "raw_clicks"],
        database_label=label, only_freshness_and_volume=True,
    ).execute(make_context(task_id="m"))
    lineage = HiveLineageCollectorOperator(
        task_id="l", log_path=f"file://{logs}", database_label=label
    ).execute(context)
    push([metadata, lineage])

    pushed = {
        (a["metadata"]["database"], a["metadata"]["schema"], a["metadata"]["name"])
        for a in (e["event"]["relational_asset"] for e in mc_conn.events("metadata"))
    }
    assert orders_mcon_name in pushed
    (event,) = [e["event"] for e in mc_conn.events("lineage")]
    # the lineage source sales.orders is the very table the metadata push named
    assert [(s["database"], s["schema"], s["name"]) for s in event["sources"]] == [orders_mcon_name]
    dest = event["destination"]
    assert (dest["database"], dest["schema"], dest["name"]) == (*orders_mcon_name[:2], "order_report")
    # the manifest says which rule named the tables
    assert metadata["naming"] == ("label" if label else "hive_database")


def test_log_timezone_parameter_shifts_the_window(tmp_path: Path) -> None:
    logs = write_logs(tmp_path / "logs")
    # The same local stamps read as America/New_York (UTC-5): 10:01 local is 15:01 UTC.
    context = make_context(data_interval_start=datetime(2026, 11, 25, 15, tzinfo=UTC),
                           data_interval_end=datetime(2026, 11, 25, 16, tzinfo=UTC))
    manifest = HiveQueryLogCollectorOperator(
        task_id="q", log_path=f"file://{logs}", log_timezone="America/New_York").execute(context)
    assert [e["query_id"] for e in manifest["events"]] == ["hive_1", "hive_2", "hive_3", "hive_4"]
    assert manifest["events"][0]["start_time"] == "2026-11-25T15:01:00.100000Z"


def test_operator_module_imports_nothing_heavy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, monte_carlo_push_provider.operators.hive\n"
        # Airflow's provider discovery imports every provider's get_provider_info: not ours to avoid
        "heavy = ('airflow.providers.apache.hive.hooks', 'hmsclient', 'pyhive', 'pyspark', 'pycarlo', 'sqlglot',"
        " 'thrift')\n"
        "print([m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in heavy)])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_bad_batch_size_is_refused() -> None:
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        HiveMetastoreMetadataCollectorOperator(task_id="m", batch_size=0)


def test_dag_runs_hive_collectors_and_pushes(
    hive_conns: Any, mc_conn: Any, airflow_db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    mc_conn.use("data-lake")
    logs = write_logs(tmp_path / "logs")
    monkeypatch.setenv("AIRFLOW_VAR_HIVE_LOG_PATH", f"file://{logs}")
    bag = DagBag(dag_folder=str(DAGS_FOLDER / "hive_push.py"))
    assert bag.import_errors == {}
    dag = bag.get_dag("hive_push_test")
    # Manual run at 11:00: data interval 10:00-11:00.
    run = dag.test(logical_date=END)
    assert run.state == "success", run.state
    assert sorted(p["kind"] for p in mc_conn.pushes()) == ["lineage", "metadata", "query_logs"]
    names = sorted(e["event"]["relational_asset"]["metadata"]["name"] for e in mc_conn.events("metadata"))
    assert names == ["big_orders", "events", "hostile_cols", "order_totals_mv", "orders", "raw_clicks"]
    assert [e["event"]["query_id"] for e in mc_conn.events("query_logs")] == ["hive_1", "hive_2", "hive_3", "hive_4"]
    assert [e["event"]["destination"]["name"] for e in mc_conn.events("lineage")] == ["order_report"]


# --- view lineage from the metastore's view text (issue 18) ---------------------------------------


VIEWS_DB = "default"  # the database every other Hive test filters out


@pytest.fixture
def hive_views(hive_conns: Any) -> Any:
    """Views in ``default``, made once per session: written in mixed case (Hive stores every
    name lower-case, Spark keeps the view's column names as written), a view over a view with
    SELECT *, and a view whose text does not parse (made through the metastore API: Spark would
    refuse it)."""
    import copy

    with hive_conns.metastore_client() as client:
        if "broken" in client.get_all_tables(VIEWS_DB):
            return hive_conns
    hive_conns.execute(
        f"CREATE VIEW {VIEWS_DB}.Mixed_Totals AS SELECT Customer, SUM(Amount) AS Total FROM Sales.Orders GROUP BY Customer",
        f"CREATE VIEW {VIEWS_DB}.everything AS SELECT * FROM {VIEWS_DB.upper()}.mixed_totals",
    )
    with hive_conns.metastore_client() as client:
        broken = copy.deepcopy(client.get_table(VIEWS_DB, "everything"))
        broken.tableName = "broken"
        broken.viewOriginalText = broken.viewExpandedText = "SELECT FROM WHERE ,"
        client.create_table(broken)
    return hive_conns


def test_view_lineage_from_the_metastore_names_tables_as_the_metadata_push(
    hive_views: Any, mc_conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Mixed-case view text comes out under Hive's lower-case names, equal to the metadata push's;
    SELECT * over a view resolves through the metastore's columns; a text that does not parse is
    one warning and a count."""
    mc_conn.use("data-lake")
    selection = {"metastore_conn_id": "hive_metastore", "databases": ["sales", VIEWS_DB],
                 "exclude_tables": ["hostile*"]}
    metadata = HiveMetastoreMetadataCollectorOperator(task_id="metadata", **selection).execute(make_context())
    manifest = HiveMetastoreViewLineageCollectorOperator(task_id="views", **selection).execute(make_context())
    assert manifest["kind"] == "lineage" and manifest["source"] == "view_definitions"
    assert manifest["databases"] == [VIEWS_DB, "sales"] and manifest["naming"] == "hive_database"
    assert manifest["stats"]["views"] == 5
    assert manifest["stats"]["skipped"] == {"unparseable_view_definition": 1}
    assert f"hive.{VIEWS_DB}.broken" in caplog.text
    push([metadata, manifest])
    pushed = {(a["metadata"]["database"], a["metadata"]["schema"], a["metadata"]["name"]): a
              for a in (e["event"]["relational_asset"] for e in mc_conn.events("metadata"))}
    edges = {}
    for event in (e["event"] for e in mc_conn.events("lineage")):
        names = {s["asset_id"]: s for s in event["sources"]}
        dest = event["destination"]
        key = (dest["database"], dest["schema"], dest["name"])
        # every name lineage uses is a name the metadata push sent, columns included (but the
        # stand-in's materialized view, made by copying orders' table object, has orders' columns)
        assert key in pushed
        if dest["name"] != "order_totals_mv":
            assert {f["name"] for f in event["fields"]} <= {f["name"] for f in pushed[key]["fields"]}
        for source in event["sources"]:
            assert (source["database"], source["schema"], source["name"]) in pushed
        edges[f"{dest['schema']}.{dest['name']}"] = {
            f["name"]: sorted(f"{names[sf['asset_id']]['schema']}.{names[sf['asset_id']]['name']}.{sf['field_name']}"
                              for sf in f["source_fields"]) for f in event["fields"]}
    assert edges == {
        "sales.big_orders": {"id": ["sales.orders.id"], "amount": ["sales.orders.amount"]},
        "sales.order_totals_mv": {"customer": ["sales.orders.customer"], "total": ["sales.orders.amount"]},
        f"{VIEWS_DB}.mixed_totals": {"Customer": ["sales.orders.customer"], "Total": ["sales.orders.amount"]},
        f"{VIEWS_DB}.everything": {"Customer": [f"{VIEWS_DB}.mixed_totals.Customer"],
                                   "Total": [f"{VIEWS_DB}.mixed_totals.Total"]},
    }
    everything = next(e["event"] for e in mc_conn.events("lineage") if e["event"]["destination"]["name"] == "everything")
    assert everything["sources"][0]["type"] == "VIEW" and everything["destination"]["database"] == VIEWS_DB


def test_view_lineage_with_a_database_label(hive_conns: Any) -> None:
    manifest = HiveMetastoreViewLineageCollectorOperator(
        task_id="views", metastore_conn_id="hive_metastore", databases=["sales"], database_label="hive",
        column_lineage=False,
    ).execute(make_context())
    assert manifest["database"] == "hive"
    assert sorted((e["destination"]["database"], e["destination"]["schema"], e["destination"]["name"],
                   tuple((s["database"], s["schema"], s["name"]) for s in e["sources"]), "fields" in e)
                  for e in manifest["events"]) == [
        ("hive", "sales", "big_orders", (("hive", "sales", "orders"),), False),
        ("hive", "sales", "order_totals_mv", (("hive", "sales", "orders"),), False),
    ]


def test_view_lineage_through_hiveserver2_equals_the_metastores(hive_views: Any) -> None:
    """DESCRIBE FORMATTED's view text gives the same events as the metastore's (Spark's Thrift
    server cannot describe the Hive materialized view: skipped and counted, as metadata skips it)."""
    selection = {"databases": ["sales", VIEWS_DB], "exclude_tables": ["hostile*"]}
    via_hs2 = HiveServer2ViewLineageCollectorOperator(
        task_id="hs2_views", hiveserver2_conn_id="hiveserver2", **selection).execute(make_context())
    via_metastore = HiveMetastoreViewLineageCollectorOperator(
        task_id="views", metastore_conn_id="hive_metastore", **selection).execute(make_context())
    assert via_hs2["stats"]["skipped"] == {"unparseable_view_definition": 1, "unreadable_object": 1}
    assert via_hs2["stats"]["views"] == 4  # big_orders, mixed_totals, everything, broken
    assert via_hs2["events"] == [e for e in via_metastore["events"]
                                 if e["destination"]["name"] != "order_totals_mv"]
