"""Athena and Glue collector operators end to end: the real GlueCatalogHook and AthenaHook (boto3
over HTTP) against moto's server (tests/standins/aws.py), pushes to the Monte Carlo sandbox, and
assertions on what the sandbox stored.

moto runs no query: every execution it holds reports 0 bytes scanned and ends as soon as it is
started (SUCCEEDED, or CANCELLED when stopped; moto has no FAILED), at the wall-clock time it was
started. The windows here are therefore taken around the real time of the test, and the statistics
Athena fills in are covered by tests/collectors/test_athena.py with a recorded AWS answer.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from monte_carlo_push_provider.collectors.base import WarehouseAccessError
from monte_carlo_push_provider.manifest import utc_iso, validate_manifest
from monte_carlo_push_provider.operators.athena import (
    AthenaGlueMetadataCollectorOperator,
    AthenaGlueViewLineageCollectorOperator,
    AthenaLineageCollectorOperator,
    AthenaQueryLogCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_sandbox import SANDBOX_WAREHOUSES
from tests.conftest import DAGS_FOLDER, make_context
from tests.standins.aws import AwsStandIn

LAKE_UUID = SANDBOX_WAREHOUSES["data-lake"]
VIEW_SQL = "SELECT dt, count(*) AS orders FROM sales.orders GROUP BY dt"
PRESTO_VIEW = "/* Presto View: " + base64.b64encode(json.dumps({
    "originalSql": VIEW_SQL, "catalog": "awsdatacatalog", "schema": "sales",
    "columns": [{"name": "dt", "type": "date"}, {"name": "orders", "type": "bigint"}],
}).encode()).decode() + " */"


def _push(*manifests: dict[str, Any]) -> dict[str, Any]:
    return MonteCarloPushOperator(task_id="push", manifests=list(manifests), min_push_interval=None).execute(
        make_context(task_id="push")
    )


def _seed_glue(aws: AwsStandIn) -> None:
    glue = aws.client("glue")
    glue.create_database(DatabaseInput={"Name": "sales", "Description": "Sales lake"})
    glue.create_database(DatabaseInput={"Name": "scratch"})
    # Hive-style Parquet table with Hive statistics and a partition key.
    glue.create_table(DatabaseName="sales", TableInput={
        "Name": "orders", "Description": "One row per order", "TableType": "EXTERNAL_TABLE", "Owner": "etl",
        "Parameters": {"classification": "parquet", "numRows": "3", "totalSize": "4096",
                       "transient_lastDdlTime": "1772359200",  # 2026-03-01T10:00:00Z
                       # set by people (TBLPROPERTIES): tags; a key-only one; an engine key: not
                       "team": "payments", "pii": "", "spark.sql.create.version": "3.5.0"},
        "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint", "Comment": "order id"},
                                          {"Name": "amount", "Type": "decimal(12,2)"}],
                              "Location": "s3://lake/sales/orders/"},
        "PartitionKeys": [{"Name": "dt", "Type": "date", "Comment": "order day"}],
    })
    # Crawled CSV table: the crawler's recordCount / sizeKey; Hive's -1 means unknown.
    glue.create_table(DatabaseName="sales", TableInput={
        "Name": "customers", "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "csv", "recordCount": "7", "sizeKey": "700", "numRows": "-1"},
        "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "name", "Type": "string"}],
                              "Location": "s3://lake/sales/customers/"},
    })
    # Iceberg table created by Athena: no statistics in Glue.
    glue.create_table(DatabaseName="sales", TableInput={
        "Name": "events", "TableType": "EXTERNAL_TABLE",
        "Parameters": {"table_type": "ICEBERG", "metadata_location": "s3://lake/sales/events/metadata/00001.json"},
        "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "at", "Type": "timestamp"}],
                              "Location": "s3://lake/sales/events"},
    })
    # An Athena view: Glue keeps the SQL base64-encoded.
    glue.create_table(DatabaseName="sales", TableInput={
        "Name": "daily_orders", "TableType": "VIRTUAL_VIEW",
        "Parameters": {"presto_view": "true", "comment": "Presto View"},
        "ViewOriginalText": PRESTO_VIEW, "ViewExpandedText": "/* Presto View */",
        "StorageDescriptor": {"Columns": [{"Name": "dt", "Type": "date"}, {"Name": "orders", "Type": "bigint"}]},
    })
    glue.create_table(DatabaseName="scratch", TableInput={
        "Name": "tmp", "StorageDescriptor": {"Columns": [{"Name": "x", "Type": "int"}]},
    })


def _created(aws: AwsStandIn, database: str, table: str) -> str:
    """moto stamps CreateTime with the wall clock; read it back through the real API."""
    created = aws.client("glue").get_table(DatabaseName=database, Name=table)["Table"]["CreateTime"]
    return utc_iso(created)


def _asset(name: str, schema: str, type: str = "TABLE", **rest: Any) -> dict[str, Any]:  # noqa: A002
    metadata = {"name": name, "database": "awsdatacatalog", "schema": schema}
    for key in ("description", "view_query", "created_on"):
        if key in rest:
            metadata[key] = rest.pop(key)
    return {"type": type, "metadata": metadata, **rest}


def _tags(**tags: str) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tags.items()]


def test_glue_metadata_reaches_monte_carlo(aws: AwsStandIn, mc_conn: Any) -> None:
    _seed_glue(aws)
    mc_conn.use("data-lake")
    manifest = AthenaGlueMetadataCollectorOperator(task_id="metadata").execute(make_context(task_id="metadata"))
    validate_manifest(manifest)
    assert (manifest["resource_type"], manifest["database"], manifest["schemas"]) == (
        "data-lake", "awsdatacatalog", ["sales", "scratch"])
    assert manifest["stats"] == {"glue_databases": 2, "iceberg_tables": 1, "skipped": {},
                                 "tags": {"tagged_tables": 1, "sources": 2, "unavailable": []}}
    _push(manifest)
    [push] = mc_conn.pushes("metadata")
    assert (push["resource_type"], push["resource_uuid"], push["event_count"]) == ("data-lake", LAKE_UUID, 5)
    events = {e["event"]["relational_asset"]["metadata"]["name"]: e["event"]["relational_asset"]
              for e in mc_conn.events("metadata")}
    assert events == {
        "orders": _asset(
            "orders", "sales", description="One row per order", created_on=_created(aws, "sales", "orders"),
            fields=[{"name": "id", "type": "bigint", "description": "order id"},
                    {"name": "amount", "type": "decimal(12,2)"},
                    {"name": "dt", "type": "date", "description": "order day"}],
            tags=[{"key": "pii"}, *_tags(team="payments", table_type="EXTERNAL_TABLE", partition_keys="dt",
                                         location="s3://lake/sales/orders/", classification="parquet", owner="etl")],
            volume={"row_count": 3, "byte_count": 4096},
            freshness={"last_update_time": "2026-03-01T10:00:00Z"},
        ),
        "customers": _asset(
            "customers", "sales", created_on=_created(aws, "sales", "customers"),
            fields=[{"name": "id", "type": "bigint"}, {"name": "name", "type": "string"}],
            tags=_tags(table_type="EXTERNAL_TABLE", location="s3://lake/sales/customers/", classification="csv"),
            volume={"row_count": 7, "byte_count": 700},
        ),
        # moto keeps no UpdateTime, so the Iceberg table's freshness cannot show here (see
        # tests/collectors/test_athena.py); Glue holds no Iceberg row counts at all.
        "events": _asset(
            "events", "sales", created_on=_created(aws, "sales", "events"),
            fields=[{"name": "id", "type": "bigint"}, {"name": "at", "type": "timestamp"}],
            tags=_tags(table_type="EXTERNAL_TABLE", table_format="iceberg", location="s3://lake/sales/events"),
        ),
        "daily_orders": _asset(
            "daily_orders", "sales", "VIEW", view_query=VIEW_SQL, created_on=_created(aws, "sales", "daily_orders"),
            fields=[{"name": "dt", "type": "date"}, {"name": "orders", "type": "bigint"}],
            tags=_tags(table_type="VIRTUAL_VIEW"),
        ),
        "tmp": _asset("tmp", "scratch", created_on=_created(aws, "scratch", "tmp"),
                      fields=[{"name": "x", "type": "int"}]),
    }


def test_glue_view_lineage_from_view_text(aws: AwsStandIn, mc_conn: Any) -> None:
    """Athena's base64 Presto view decoded and parsed, a Hive/Spark view's plain text (written in
    mixed case: Glue lower-cases names, as the engine does), a view whose text does not parse
    counted; every name equal to the metadata push's."""
    _seed_glue(aws)
    glue = aws.client("glue")
    glue.create_table(DatabaseName="scratch", TableInput={
        "Name": "big_orders", "TableType": "VIRTUAL_VIEW",
        "ViewOriginalText": "SELECT O.ID, O.Amount AS Total FROM Sales.Orders AS O WHERE O.amount > 10",
        "ViewExpandedText": "SELECT `o`.`id`, `o`.`amount` AS `total` FROM `sales`.`orders` `o` WHERE `o`.`amount` > 10",
        "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "total", "Type": "decimal(12,2)"}]},
    })
    glue.create_table(DatabaseName="scratch", TableInput={
        "Name": "broken", "TableType": "VIRTUAL_VIEW", "ViewOriginalText": "SELECT FROM WHERE ,",
        "StorageDescriptor": {"Columns": [{"Name": "x", "Type": "int"}]},
    })
    mc_conn.use("data-lake")
    metadata = AthenaGlueMetadataCollectorOperator(task_id="metadata").execute(make_context(task_id="metadata"))
    manifest = AthenaGlueViewLineageCollectorOperator(task_id="views").execute(make_context(task_id="views"))
    validate_manifest(manifest)
    assert (manifest["kind"], manifest["source"], manifest["database"]) == (
        "lineage", "view_definitions", "awsdatacatalog")
    assert manifest["stats"]["views"] == 3 and manifest["stats"]["skipped"] == {"unparseable_view_definition": 1}
    _push(metadata, manifest)
    pushed = {(a["metadata"]["schema"], a["metadata"]["name"]): {f["name"] for f in a["fields"]}
              for a in (e["event"]["relational_asset"] for e in mc_conn.events("metadata"))}
    edges = {}
    for event in (e["event"] for e in mc_conn.events("lineage")):
        dest = event["destination"]
        assert dest["database"] == "awsdatacatalog" and dest["type"] == "VIEW"
        names = {s["asset_id"]: f"{s['schema']}.{s['name']}" for s in event["sources"]}
        assert {f["name"] for f in event["fields"]} <= pushed[(dest["schema"], dest["name"])]
        assert all(tuple(n.split(".")) in pushed for n in names.values())
        edges[f"{dest['schema']}.{dest['name']}"] = {
            f["name"]: sorted(f"{names[sf['asset_id']]}.{sf['field_name']}" for sf in f["source_fields"])
            for f in event["fields"]}
    assert edges == {
        "sales.daily_orders": {"dt": ["sales.orders.dt"]},
        "scratch.big_orders": {"id": ["sales.orders.id"], "total": ["sales.orders.amount"]},
    }
def test_glue_table_parameters_as_tags_reach_monte_carlo_and_collect_tags_false_drops_them(
    aws: AwsStandIn, mc_conn: Any,
) -> None:
    """The user's Glue table parameters are the tags Monte Carlo users filter on; the engine's and
    crawler's own keys are not; collect_tags=False keeps only the descriptive tags."""
    glue = aws.client("glue")
    glue.create_database(DatabaseInput={"Name": "sales"})
    glue.create_table(DatabaseName="sales", TableInput={
        "Name": "crawled", "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "json", "recordCount": "5", "UPDATED_BY_CRAWLER": "nightly",
                       "CrawlerSchemaSerializerVersion": "1.0", "averageRecordSize": "80", "typeOfData": "file",
                       "projection.enabled": "true", "data_owner": "lake-team", "tier": "gold",
                       "runbook": "x" * 300},  # configuration-sized values are not labels
        "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}], "Location": "s3://lake/crawled/"},
    })
    mc_conn.use("data-lake")
    manifest = AthenaGlueMetadataCollectorOperator(task_id="metadata").execute(make_context(task_id="metadata"))
    validate_manifest(manifest)
    assert manifest["stats"]["tags"] == {"tagged_tables": 1, "sources": 1, "unavailable": []}
    _push(manifest)
    [event] = mc_conn.events("metadata")
    assert event["event"]["relational_asset"]["tags"] == _tags(
        data_owner="lake-team", tier="gold", table_type="EXTERNAL_TABLE", location="s3://lake/crawled/",
        classification="json",
    )
    # what a user sees: the tags on the table in Monte Carlo
    from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook

    table = MonteCarloHook().graphql(
        "query($id: String!, $dw: UUID!) { getTable(fullTableId: $id, dwId: $dw) { tags { edges { node { tag } } } } }",
        {"id": "awsdatacatalog:sales.crawled", "dw": LAKE_UUID},
    )["getTable"]
    assert [e["node"]["tag"] for e in table["tags"]["edges"]][:2] == ["data_owner:lake-team", "tier:gold"]

    untagged = AthenaGlueMetadataCollectorOperator(task_id="metadata", collect_tags=False).execute(
        make_context(task_id="metadata"))
    assert "tags" not in untagged["stats"]
    assert untagged["events"][0]["tags"] == _tags(
        table_type="EXTERNAL_TABLE", location="s3://lake/crawled/", classification="json")


def test_glue_metadata_filters_and_volume_only(aws: AwsStandIn) -> None:
    _seed_glue(aws)
    manifest = AthenaGlueMetadataCollectorOperator(
        task_id="metadata", databases=["SALES"], exclude_tables=["cust*"], only_freshness_and_volume=True,
        page_size=1,  # one table a GetTables page: the paginator has to follow NextToken
    ).execute(make_context(task_id="metadata"))
    validate_manifest(manifest)
    assert manifest["schemas"] == ["sales"]
    assert sorted(e["metadata"]["name"] for e in manifest["events"]) == ["daily_orders", "events", "orders"]
    orders = next(e for e in manifest["events"] if e["metadata"]["name"] == "orders")
    assert "fields" not in orders and "tags" not in orders and "description" not in orders["metadata"]
    assert orders["volume"] == {"row_count": 3, "byte_count": 4096}
    with pytest.raises(ValueError, match="would send nothing"):
        AthenaGlueMetadataCollectorOperator(task_id="m", only_freshness_and_volume=True, include_volume=False)


def test_glue_metadata_names_the_region_when_a_database_is_missing(aws: AwsStandIn) -> None:
    # moto answers GetTables of a database that does not exist with EntityNotFoundException, as AWS.
    from monte_carlo_push_provider.collectors import athena

    glue = aws.client("glue")
    with pytest.raises(Exception) as raised:
        list(athena.iter_glue_tables(glue, "nope"))
    explained = athena.AthenaGlueMetadataCollector().explain(raised.value)
    assert isinstance(explained, WarehouseAccessError)
    assert "region_name" in str(explained) and "docs/athena.md#permissions" in str(explained)


# ---------------------------------------------------------------------------------------------
# Query logs and lineage
# ---------------------------------------------------------------------------------------------

INSERT = "INSERT INTO daily_orders_t SELECT dt, count(*) AS orders FROM orders GROUP BY dt"
CTAS = ("CREATE TABLE scratch.big_customers AS SELECT c.id, c.name FROM awsdatacatalog.sales.customers AS c "
        "JOIN sales.orders AS o ON o.id = c.id")


def _start(athena: Any, sql: str, work_group: str = "primary", database: str = "sales") -> str:
    return athena.start_query_execution(
        QueryString=sql, WorkGroup=work_group,
        QueryExecutionContext={"Catalog": "AwsDataCatalog", "Database": database},
        ResultConfiguration={"OutputLocation": "s3://athena-results/"},
    )["QueryExecutionId"]


def _seed_history(aws: AwsStandIn) -> dict[str, Any]:
    """Executions before the window (one), in it (five over two workgroups, one cancelled), after it
    (one); returns the ids and the window."""
    athena = aws.client("athena")
    athena.create_work_group(Name="etl", Configuration={"ResultConfiguration": {"OutputLocation": "s3://etl-out/"}})
    early = _start(athena, "SELECT 1 AS before_window")
    time.sleep(0.05)
    start = datetime.now(timezone.utc)
    time.sleep(0.05)
    ids = {
        "insert": _start(athena, INSERT),
        "ctas": _start(athena, CTAS, work_group="etl"),
        "select": _start(athena, "SELECT * FROM sales.orders WHERE dt = DATE '2026-03-01'"),
        "cancelled": _start(athena, "INSERT INTO sales.never SELECT * FROM sales.orders"),
    }
    athena.stop_query_execution(QueryExecutionId=ids["cancelled"])
    time.sleep(0.05)
    end = datetime.now(timezone.utc)
    time.sleep(0.05)
    late = _start(athena, "SELECT 2 AS after_window")
    return {"ids": ids, "early": early, "late": late, "start": start, "end": end}


def _window(history: dict[str, Any]) -> dict[str, str]:
    return {"start": history["start"].isoformat(), "end": history["end"].isoformat()}


def test_athena_query_logs_reach_monte_carlo(aws: AwsStandIn, mc_conn: Any) -> None:
    history = _seed_history(aws)
    mc_conn.use("data-lake")
    manifest = AthenaQueryLogCollectorOperator(task_id="query_logs", **_window(history)).execute(
        make_context(task_id="query_logs")
    )
    validate_manifest(manifest)
    assert manifest["log_type"] == "athena"
    assert manifest["work_groups"] == ["etl", "primary"]
    _push(manifest)
    [push] = mc_conn.pushes("query_logs")
    assert (push["log_type"], push["resource_uuid"]) == ("athena", LAKE_UUID)
    events = {e["event"]["query_id"]: e["event"] for e in mc_conn.events("query_logs")}
    ids = history["ids"]
    # Only what completed in the window: not the execution before it, nor the one after it.
    assert sorted(events) == sorted(ids.values())
    insert = events[ids["insert"]]
    assert insert["query_text"] == INSERT
    assert history["start"] <= datetime.fromisoformat(insert["end_time"].replace("Z", "+00:00")) < history["end"]
    assert insert["extra"] == {
        "bytes_scanned": 0,  # moto scans nothing
        "catalog": "AwsDataCatalog", "database": "sales",
        "output_location": f"s3://athena-results/{ids['insert']}.csv",
        "state": "SUCCEEDED", "statement_type": "DML", "work_group": "primary",
        "engine_execution_time_ms": 0, "total_execution_time_ms": 0, "queue_time_ms": 0,
        "reused_previous_result": False,
    }
    assert "user" not in insert  # Athena keeps no principal on an execution
    assert events[ids["ctas"]]["extra"]["work_group"] == "etl"
    cancelled = events[ids["cancelled"]]
    assert cancelled["extra"]["state"] == "CANCELLED" and "error_text" not in cancelled


def test_athena_query_logs_page_through_history(aws: AwsStandIn) -> None:
    """120 executions: three ListQueryExecutions pages and three BatchGetQueryExecution calls of at
    most 50 ids, each execution collected once."""
    athena = aws.client("athena")
    start = datetime.now(timezone.utc) - timedelta(seconds=1)
    ids = {_start(athena, f"SELECT {i} AS n") for i in range(120)}
    manifest = AthenaQueryLogCollectorOperator(
        task_id="query_logs", work_groups="primary", start=start.isoformat(),
        end=(datetime.now(timezone.utc) + timedelta(seconds=1)).isoformat(),
    ).execute(make_context(task_id="query_logs"))
    assert manifest["work_groups"] == ["primary"]
    assert [e["query_id"] for e in manifest["events"]] and {e["query_id"] for e in manifest["events"]} == ids
    assert len(manifest["events"]) == 120


def test_athena_query_logs_of_a_data_interval(aws: AwsStandIn) -> None:
    """The default window: the run's data interval shifted back by the 5-minute lag."""
    history = _seed_history(aws)
    lag = timedelta(minutes=5)
    context = make_context(
        task_id="query_logs", data_interval_start=history["start"] + lag, data_interval_end=history["end"] + lag,
    )
    manifest = AthenaQueryLogCollectorOperator(task_id="query_logs", exclude_work_groups=["etl"]).execute(context)
    assert manifest["work_groups"] == ["primary"]
    assert sorted(e["query_id"] for e in manifest["events"]) == sorted(
        v for k, v in history["ids"].items() if k != "ctas")


def test_athena_unknown_work_group_fails_with_the_fix(aws: AwsStandIn) -> None:
    now = datetime.now(timezone.utc)
    operator = AthenaQueryLogCollectorOperator(
        task_id="query_logs", work_groups=["nope"], start=(now - timedelta(hours=1)).isoformat(), end=now.isoformat(),
    )
    with pytest.raises(WarehouseAccessError) as raised:
        operator.execute(make_context(task_id="query_logs"))
    message = str(raised.value)
    assert message.startswith("checkpoint 0 (warehouse access): AWS Glue / Athena says the object does not exist")
    assert "Athena workgroup nope (athena:ListQueryExecutions)" in message
    assert "work_groups" in message and "docs/athena.md#permissions" in message
    assert "WorkGroup nope is not found" in message
    assert "standin-secret" not in message


def _ref(name: str, schema: str) -> dict[str, Any]:
    return {"type": "TABLE", "name": name, "database": "awsdatacatalog", "schema": schema,
            "asset_id": f"awsdatacatalog.{schema}.{name}"}


def test_athena_lineage_reaches_monte_carlo(aws: AwsStandIn, mc_conn: Any) -> None:
    history = _seed_history(aws)
    mc_conn.use("data-lake")
    manifest = AthenaLineageCollectorOperator(task_id="lineage", **_window(history)).execute(
        make_context(task_id="lineage")
    )
    validate_manifest(manifest)
    assert manifest["resource_type"] == "data-lake"
    _push(manifest)
    [push] = mc_conn.pushes("lineage")
    assert (push["resource_type"], push["resource_uuid"]) == ("data-lake", LAKE_UUID)
    events = {e["event"]["destination"]["name"]: e["event"] for e in mc_conn.events("lineage")}
    # The cancelled INSERT INTO sales.never is in the query logs, not in lineage.
    assert sorted(events) == ["big_customers", "daily_orders_t"]
    # Unqualified names resolve against the execution's catalog and database.
    assert events["daily_orders_t"]["destination"] == _ref("daily_orders_t", "sales")
    assert events["daily_orders_t"]["sources"] == [_ref("orders", "sales")]
    # count(*) reads no column: only dt has a source column.
    assert events["daily_orders_t"]["fields"] == [
        {"name": "dt", "source_fields": [{"asset_id": "awsdatacatalog.sales.orders", "field_name": "dt"}]}]
    assert events["big_customers"]["destination"] == _ref("big_customers", "scratch")
    assert sorted(s["name"] for s in events["big_customers"]["sources"]) == ["customers", "orders"]
    # The fully qualified awsdatacatalog.sales.customers and the two-part sales.orders meet as the
    # same catalog's tables, and as the metadata collector names them.
    assert events["big_customers"]["fields"] == [
        {"name": "id", "source_fields": [{"asset_id": "awsdatacatalog.sales.customers", "field_name": "id"}]},
        {"name": "name", "source_fields": [{"asset_id": "awsdatacatalog.sales.customers", "field_name": "name"}]},
    ]


def test_athena_lineage_tables_only(aws: AwsStandIn) -> None:
    history = _seed_history(aws)
    manifest = AthenaLineageCollectorOperator(task_id="lineage", column_lineage=False, **_window(history)).execute(
        make_context(task_id="lineage")
    )
    assert manifest["events"] and all("fields" not in e for e in manifest["events"])


def test_dag_runs_athena_and_glue_collectors_and_pushes(aws: AwsStandIn, mc_conn: Any, airflow_db: Any) -> None:
    from airflow.dag_processing.dagbag import DagBag

    _seed_glue(aws)
    # moto stamps executions with the wall clock: the run whose hour, shifted back by the 5-minute
    # lag, holds the seeding is the hourly run at floor_hour(now + 5 min) + 1 hour. Seeding takes
    # well under a second; not within 5 s of a window boundary (minute 55), so it all lands in one.
    lag = timedelta(minutes=5)
    if (datetime.now(timezone.utc) + lag).minute == 59 and (datetime.now(timezone.utc) + lag).second >= 55:
        time.sleep(6)
    seeded_at = datetime.now(timezone.utc)
    history = _seed_history(aws)
    logical = (seeded_at + lag).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert logical - timedelta(hours=1) - lag <= seeded_at and datetime.now(timezone.utc) < logical - lag
    mc_conn.use("data-lake")
    bag = DagBag(dag_folder=str(DAGS_FOLDER / "athena_push.py"))
    assert bag.import_errors == {}
    dag = bag.get_dag("athena_push_test")
    run = dag.test(logical_date=logical)
    assert run.state == "success", run.state
    assert sorted(p["kind"] for p in mc_conn.pushes()) == ["lineage", "metadata", "query_logs"]
    metadata = sorted(e["event"]["relational_asset"]["metadata"]["name"] for e in mc_conn.events("metadata"))
    assert metadata == ["customers", "daily_orders", "events", "orders"]
    # The whole hour: every seeded execution, of both workgroups.
    assert sorted(e["event"]["query_id"] for e in mc_conn.events("query_logs")) == sorted(
        [*history["ids"].values(), history["early"], history["late"]])
    # Lineage reads only the primary workgroup: the etl workgroup's CTAS is not there.
    assert [e["event"]["destination"]["name"] for e in mc_conn.events("lineage")] == ["daily_orders_t"]
