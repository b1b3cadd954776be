"""Athena / Glue collector helpers on answers shaped as AWS sends them: what moto (the stand-in of
tests/operators/test_athena.py) cannot produce — query statistics, FAILED executions with their
AthenaError, Iceberg tables' UpdateTime, unprocessed ids, a history older than the window.

The paging tests use a small in-memory Athena client (``_History``) because moto stamps every
execution with the wall clock and cannot hold one submitted hours ago; it answers exactly the two
calls the collector makes, in AWS's shapes (newest first, 50 a page, NextToken). The scope
dropped-table cleanup compares is tested against moto itself, at the end."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from monte_carlo_push_provider.collectors import athena
from monte_carlo_push_provider.collectors.base import Skips

UTC = timezone.utc
AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)

# A FAILED execution as BatchGetQueryExecution returns it (boto3 parses the times to aware datetimes).
FAILED = {
    "QueryExecutionId": "5b0c5e4e-0000-4000-8000-000000000001",
    "Query": "INSERT INTO mart.daily SELECT * FROM sales.nope",
    "StatementType": "DML",
    "ResultConfiguration": {"OutputLocation": "s3://athena-results/5b0c5e4e-0000-4000-8000-000000000001.csv"},
    "QueryExecutionContext": {"Database": "sales", "Catalog": "AwsDataCatalog"},
    "Status": {
        "State": "FAILED",
        "StateChangeReason": "TABLE_NOT_FOUND: line 1:37: Table 'awsdatacatalog.sales.nope' does not exist",
        "SubmissionDateTime": AT,
        "CompletionDateTime": AT + timedelta(seconds=2, milliseconds=250),
        "AthenaError": {"ErrorCategory": 2, "ErrorType": 1006, "Retryable": False,
                        "ErrorMessage": "TABLE_NOT_FOUND: line 1:37: Table 'awsdatacatalog.sales.nope' does not exist"},
    },
    "Statistics": {"EngineExecutionTimeInMillis": 180, "DataScannedInBytes": 0, "TotalExecutionTimeInMillis": 2250,
                   "QueryQueueTimeInMillis": 90, "ResultReuseInformation": {"ReusedPreviousResult": False}},
    "WorkGroup": "primary",
}


def _succeeded(query_id: str, submitted: datetime, seconds: float = 1.0, **changes: Any) -> dict[str, Any]:
    execution = json.loads(json.dumps(FAILED, default=str))
    execution.update(QueryExecutionId=query_id, Query=f"SELECT '{query_id}'")
    execution["Status"] = {"State": "SUCCEEDED", "SubmissionDateTime": submitted,
                           "CompletionDateTime": submitted + timedelta(seconds=seconds)}
    execution["Statistics"]["DataScannedInBytes"] = 1_048_576
    execution.update(changes)
    return execution


def test_athena_query_record_of_a_failed_execution() -> None:
    record = athena.query_record(FAILED)
    assert not record.succeeded
    assert record.to_event() == {
        "start_time": "2026-03-01T10:00:00Z",
        "end_time": "2026-03-01T10:00:02.250000Z",
        "query_text": "INSERT INTO mart.daily SELECT * FROM sales.nope",
        "query_id": "5b0c5e4e-0000-4000-8000-000000000001",
        "error_code": 1006,
        "error_text": "TABLE_NOT_FOUND: line 1:37: Table 'awsdatacatalog.sales.nope' does not exist",
        "extra": {
            "bytes_scanned": 0, "catalog": "AwsDataCatalog", "database": "sales",
            "output_location": "s3://athena-results/5b0c5e4e-0000-4000-8000-000000000001.csv", "state": "FAILED",
            "state_change_reason": "TABLE_NOT_FOUND: line 1:37: Table 'awsdatacatalog.sales.nope' does not exist",
            "statement_type": "DML", "work_group": "primary", "engine_execution_time_ms": 180,
            "total_execution_time_ms": 2250, "queue_time_ms": 90, "reused_previous_result": False,
        },
    }
    # the lineage engine resolves unqualified names against the execution's catalog and database
    assert (record.default_database, record.default_schema) == ("awsdatacatalog", "sales")


def test_athena_query_record_bytes_scanned() -> None:
    record = athena.query_record(_succeeded("q1", AT))
    assert record.succeeded and record.error_text is None and record.error_code is None
    assert record.to_event()["extra"]["bytes_scanned"] == 1_048_576


class _History:
    """ListQueryExecutions (newest first, <= 50 a page) and BatchGetQueryExecution over a list."""

    def __init__(self, executions: list[dict[str, Any]], unprocessed_once: set[str] = frozenset(),
                 never: set[str] = frozenset()) -> None:
        self.executions = sorted(executions, key=lambda e: e["Status"]["SubmissionDateTime"], reverse=True)
        self.unprocessed_once = set(unprocessed_once)
        self.never = set(never)
        self.pages_read = 0
        self.batches: list[int] = []

    def get_paginator(self, name: str) -> Any:
        assert name == "list_query_executions"
        history = self

        class _Paginator:
            def paginate(self, WorkGroup: str, PaginationConfig: dict[str, int]) -> Any:  # noqa: N803
                size = PaginationConfig["PageSize"]
                assert size <= 50
                for i in range(0, len(history.executions), size):
                    history.pages_read += 1
                    yield {"QueryExecutionIds": [e["QueryExecutionId"] for e in history.executions[i:i + size]]}

        return _Paginator()

    def batch_get_query_execution(self, QueryExecutionIds: list[str]) -> dict[str, Any]:  # noqa: N803
        assert len(QueryExecutionIds) <= 50
        self.batches.append(len(QueryExecutionIds))
        by_id = {e["QueryExecutionId"]: e for e in self.executions}
        held = [i for i in QueryExecutionIds if i in self.never or i in self.unprocessed_once]
        self.unprocessed_once -= set(held)
        return {
            "QueryExecutions": [by_id[i] for i in QueryExecutionIds if i not in held],
            "UnprocessedQueryExecutionIds": [{"QueryExecutionId": i, "ErrorCode": "ThrottlingException"} for i in held],
        }


def test_athena_history_stops_paging_before_the_window() -> None:
    # One execution a minute for ten hours before 10:00; the window is 09:00-10:00.
    executions = [_succeeded(f"q{i:03d}", AT - timedelta(minutes=i)) for i in range(1, 601)]
    client = _History(executions)
    found = list(athena.iter_window_executions(
        client, "primary", AT - timedelta(hours=1), AT, skips=Skips(), max_query_runtime=timedelta(minutes=30),
    ))
    # Completed (1 s after submission) in [09:00, 10:00): submitted 09:00 .. 09:59 -> q001 .. q060.
    assert sorted(e["QueryExecutionId"] for e in found) == [f"q{i:03d}" for i in range(1, 61)]
    # Pages of 50, newest first; the cutoff is 08:30 (window start - max_query_runtime). Page 2
    # (09:09 .. 08:20) is before it only in part; page 3 (08:19 .. 07:30) wholly, so paging stops
    # there rather than reading all 12 pages.
    assert client.pages_read == 3


def test_athena_history_window_is_by_completion_time() -> None:
    # Submitted before the window, completed in it: collected. Completed at the end: next window's.
    long_one = _succeeded("long", AT - timedelta(hours=1, minutes=20), seconds=25 * 60)
    at_end = _succeeded("at_end", AT - timedelta(seconds=1), seconds=1)
    running = _succeeded("running", AT - timedelta(minutes=5))
    running["Status"] = {"State": "RUNNING", "SubmissionDateTime": AT - timedelta(minutes=5)}
    found = list(athena.iter_window_executions(
        _History([long_one, at_end, running]), "primary", AT - timedelta(hours=1), AT, skips=Skips(),
    ))
    assert [e["QueryExecutionId"] for e in found] == ["long"]


def test_athena_unprocessed_ids_are_retried_once_then_skipped() -> None:
    executions = [_succeeded(f"q{i:03d}", AT - timedelta(seconds=i)) for i in range(1, 121)]
    client = _History(executions, unprocessed_once={"q002"}, never={"q003"})
    skips = Skips()
    found = athena.get_executions(client, [e["QueryExecutionId"] for e in client.executions], skips)
    assert sorted(e["QueryExecutionId"] for e in found) == sorted(
        e["QueryExecutionId"] for e in executions if e["QueryExecutionId"] != "q003")
    assert skips.as_dict() == {"unprocessed_query_execution": 1}
    # 120 ids: 50 (two held back) + one retry of those 2 (q003 held again: skipped), 50, 20
    assert client.batches == [50, 2, 50, 20]


# ---------------------------------------------------------------------------------------------
# Glue tables
# ---------------------------------------------------------------------------------------------


def test_glue_iceberg_table_freshness_is_its_update_time() -> None:
    table = {
        "Name": "events", "DatabaseName": "sales", "TableType": "EXTERNAL_TABLE",
        "CreateTime": AT - timedelta(days=3), "UpdateTime": AT,
        "Parameters": {"table_type": "iceberg", "metadata_location": "s3://lake/events/metadata/00042.json",
                       "transient_lastDdlTime": "1700000000"},
        "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}], "Location": "s3://lake/events"},
    }
    event = athena.table_record(table).to_event()
    assert event["freshness"] == {"last_update_time": "2026-03-01T10:00:00Z"}
    assert {"key": "table_format", "value": "iceberg"} in event["tags"]
    assert "volume" not in event  # Glue keeps no Iceberg row counts (they live in S3 metadata)


def test_glue_hive_table_freshness_is_its_last_ddl_time_not_update_time() -> None:
    # UpdateTime of a Hive-style table moves on DDL only (a new column), not on data writes.
    table = {"Name": "orders", "DatabaseName": "sales", "UpdateTime": AT,
             "Parameters": {"transient_lastDdlTime": "1772352000", "numRows": "0", "totalSize": "0"}}
    event = athena.table_record(table, catalog="lake").to_event()
    assert event["metadata"]["database"] == "lake"
    assert event["freshness"] == {"last_update_time": "2026-03-01T08:00:00Z"}
    assert event["volume"] == {"row_count": 0, "byte_count": 0}


def test_glue_view_text() -> None:
    encoded = base64.b64encode(json.dumps({"originalSql": "SELECT 1 AS x"}).encode()).decode()
    assert athena.view_text({"ViewOriginalText": f"/* Presto View: {encoded} */"}) == "SELECT 1 AS x"
    # An encoded view this collector cannot read: no text, rather than the base64 blob.
    assert athena.view_text({"ViewOriginalText": "/* Presto View: not base64! */"}) is None
    # Hive and Spark views keep plain SQL.
    assert athena.view_text({"ViewOriginalText": "SELECT a FROM t"}) == "SELECT a FROM t"
    assert athena.view_text({"ViewExpandedText": "SELECT `t`.`a` FROM `db`.`t`"}) == "SELECT `t`.`a` FROM `db`.`t`"


def test_glue_table_with_a_bad_column_is_skipped_not_fatal() -> None:
    skips = Skips()
    from monte_carlo_push_provider.collectors.base import table_events

    records = [athena.table_record({"Name": "ok", "DatabaseName": "s"}),
               athena.table_record({"Name": "bad", "DatabaseName": "s",
                                    "StorageDescriptor": {"Columns": [{"Type": "int"}]}})]
    assert [e["metadata"]["name"] for e in table_events(records, skips)] == ["ok"]
    assert skips.as_dict() == {"bad_column_name": 1}


# --- dropped-table cleanup: the scope the Glue metadata collector declares (moto stand-in) -----


def test_glue_scope_is_the_catalog_through_both_filters(aws: Any) -> None:
    """One scope: the catalog (Monte Carlo's database), its Glue databases the schemas, through
    the database and table filters; a catalog_id (another account's catalog) is an option."""
    from monte_carlo_push_provider.manifest import validate_manifest
    from monte_carlo_push_provider.operators.athena import AthenaGlueMetadataCollectorOperator
    from tests.conftest import make_context
    from tests.operators.test_athena import _seed_glue

    _seed_glue(aws)
    op = AthenaGlueMetadataCollectorOperator(task_id="m", databases=["sales"], exclude_tables=["cust*"])
    manifest = validate_manifest(op.execute(make_context(task_id="m")))
    assert manifest["scope"] == {"database": "awsdatacatalog", "schemas": ["sales"], "exclude_schemas": None,
                                 "tables": None, "exclude_tables": ["cust*"]}
    assert manifest["complete"] is True
    assert sorted(e["metadata"]["name"] for e in manifest["events"]) == ["daily_orders", "events", "orders"]
    collector = athena.AthenaGlueMetadataCollector(catalog_id="123456789012")
    scope = collector.collect(aws.client("glue")).scope
    assert isinstance(scope, dict) and scope["options"] == {"catalog_id": "123456789012"}
def test_glue_tags_are_user_parameters_not_engine_keys() -> None:
    """Parameters as a Delta table registered by Spark and an Iceberg table by Athena carry them."""
    params = {
        "spark.sql.sources.provider": "delta", "spark.sql.partitionProvider": "catalog", "EXTERNAL": "TRUE",
        "table_type": "ICEBERG", "metadata_location": "s3://l/m/1.json", "previous_metadata_location": "s3://l/m/0.json",
        "write.parquet.compression-codec": "zstd", "format-version": "2", "numRows": "10",
        "transient_lastDdlTime": "1772352000", "COLUMN_STATS_ACCURATE": "{\"BASIC_STATS\":\"true\"}",
        "domain": "finance", "Sensitivity": "", "cost_center": "4711", "notes": "n" * 257,
    }
    assert athena.parameter_tags(params) == {"Sensitivity": None, "cost_center": "4711", "domain": "finance"}
    table = {"Name": "t", "TableType": "EXTERNAL_TABLE", "Owner": "glue", "Parameters": {**params, "owner": "x"}}
    record = athena.table_record(table, schema="s")
    # the descriptive tags win over a parameter of the same name
    assert record.tags == {"Sensitivity": None, "cost_center": "4711", "domain": "finance", "owner": "glue",
                           "table_type": "EXTERNAL_TABLE", "table_format": "iceberg"}
    assert athena.table_record(table, schema="s", collect_tags=False).tags == {
        "table_type": "EXTERNAL_TABLE", "table_format": "iceberg", "owner": "glue"}


def test_glue_parameters_that_carry_credentials_are_never_tags() -> None:
    """Storage handlers and SerDes configured through TBLPROPERTIES keep credentials there; none
    of them is pushed, under any prefix, while ordinary labels still are."""
    secrets = {
        "jdbc.password": "hunter2", "es.net.http.auth.pass": "hunter2", "es.net.http.auth.user": "svc",
        "kafka.sasl.jaas.config": 'org.apache.kafka.common.security.plain.PlainLoginModule username="u" password="hunter2";',
        "mongo.uri": "mongodb://svc:hunter2@mongo:27017/db", "fs.s3a.secret.key": "hunter2",
        "aws.access.key.id": "AKIAEXAMPLE", "api_key": "hunter2", "db_pass": "hunter2", "sas_token": "sv=2020&sig=x",
        "connection_string": "Server=x;Password=hunter2", "notes": "Server=x;Password=hunter2",
        "private.key": "-----BEGIN RSA PRIVATE KEY-----",
    }
    labels = {"tier": "gold", "author": "data-eng", "domain": "finance", "docs": "https://wiki/orders"}
    assert athena.parameter_tags({**secrets, **labels}) == labels
    table = {"Name": "t", "TableType": "EXTERNAL_TABLE", "Parameters": {**secrets, **labels}}
    pushed = json.dumps(athena.table_record(table, schema="s").tags)
    assert "hunter2" not in pushed and "AKIA" not in pushed and "sig=" not in pushed
