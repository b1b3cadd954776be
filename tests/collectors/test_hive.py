"""Hive metadata collectors against the real Hive Metastore (Thrift) and Spark's Thrift server
(HiveServer2 protocol), through the hive provider's hooks. See tests/standins/hive.py for what the
stand-in holds."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from monte_carlo_push_provider.collectors import hive
from monte_carlo_push_provider.collectors.common import NameFilter
from monte_carlo_push_provider.manifest import new_manifest, validate_manifest

SALES = ["big_orders", "events", "hostile_cols", "order_totals_mv", "orders", "raw_clicks"]


def _utc(epoch: int | str) -> str:
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def metastore_truth(hive_standin: Any) -> dict[str, Any]:
    """Server-side values (times, sizes) straight from the metastore, to compare events with."""
    with hive_standin.metastore_client() as client:
        tables = {t.tableName: t for t in client.get_table_objects_by_name("sales", SALES)}
        parts = client.get_partitions("sales", "events", 100)
    return {"tables": tables, "partitions": parts}


def _collect(hive_standin: Any, **kwargs: Any) -> tuple[dict[str, dict], hive.MetastoreStats]:
    from airflow.providers.apache.hive.hooks.hive import HiveMetastoreHook

    stats = hive.MetastoreStats()
    hook = HiveMetastoreHook(metastore_conn_id="hive_metastore")
    with hook.metastore as client:
        events = list(hive.collect_metastore_metadata(client, stats=stats, **kwargs))
    validate_manifest(new_manifest("metadata", events, resource_type="data-lake"))
    return {f"{e['metadata']['schema']}.{e['metadata']['name']}": e for e in events}, stats


def test_metastore_metadata_exact_events(hive_conns: Any, metastore_truth: dict[str, Any]) -> None:
    events, stats = _collect(hive_conns, database_label="awsdatacatalog", batch_size=4,
                             database_filter=NameFilter(exclude=["default"]))
    t = metastore_truth["tables"]
    assert sorted(events) == [f"sales.{n}" for n in SALES]  # empty_db adds nothing
    assert events["sales.orders"] == {
        "type": "TABLE",
        "metadata": {"name": "orders", "database": "awsdatacatalog", "schema": "sales",
                     "description": "All orders", "created_on": _utc(t["orders"].createTime)},
        "tags": [{"key": "table_type", "value": "MANAGED_TABLE"}, {"key": "owner", "value": "tester"}],
        "fields": [{"name": "id", "type": "bigint", "description": "order id"},
                   {"name": "amount", "type": "decimal(10,2)"}, {"name": "customer", "type": "string"}],
        # numRows from Spark's ANALYZE key, totalSize from Hive's own
        "volume": {"row_count": 3, "byte_count": int(t["orders"].parameters["totalSize"])},
        "freshness": {"last_update_time": _utc(t["orders"].parameters["transient_lastDdlTime"])},
    }
    parts = metastore_truth["partitions"]
    partitioned = events["sales.events"]
    assert partitioned["fields"][-1] == {"name": "ds", "type": "string"}  # partition key as a column
    assert {"key": "partition_keys", "value": "ds"} in partitioned["tags"]
    assert partitioned["volume"] == {"row_count": 3, "byte_count": sum(int(p.parameters["totalSize"]) for p in parts)}
    assert partitioned["freshness"]["last_update_time"] == _utc(
        max(int(p.parameters["transient_lastDdlTime"]) for p in parts))
    view = events["sales.big_orders"]
    assert view["type"] == "VIEW" and "volume" not in view and "freshness" not in view
    assert view["metadata"]["view_query"] == "SELECT id, amount FROM sales.orders WHERE amount > 10"
    mv = events["sales.order_totals_mv"]
    assert mv["type"] == "VIEW" and {"key": "table_type", "value": "MATERIALIZED_VIEW"} in mv["tags"]
    assert mv["volume"] == {"row_count": 3, "byte_count": 4096}
    assert mv["freshness"] == {"last_update_time": "2026-11-25T09:46:40Z"}  # epoch 1795600000
    assert mv["metadata"]["view_query"].startswith("SELECT customer, SUM(amount)")
    external = events["sales.raw_clicks"]
    assert external["type"] == "TABLE" and {"key": "table_type", "value": "EXTERNAL_TABLE"} in external["tags"]
    assert [f["name"] for f in events["sales.hostile_cols"]["fields"]] == [
        "col with space", "ü_name", "semi;colon--x", "back`tick"]
    # 1 + 2 databases listed + ceil(6 / 4) batches + 1 partitioned table; never one get_table each
    assert stats.calls == {"get_all_databases": 1, "get_all_tables": 2, "get_table_objects_by_name": 2,
                           "get_partitions": 1}
    assert stats.tables == 6 and stats.databases == 2


def test_metastore_freshness_and_volume_only_and_filters(hive_conns: Any) -> None:
    events, stats = _collect(hive_conns, database_filter=NameFilter("sales"),
                             table_filter=NameFilter(["order*", "events"], "orders"),
                             only_freshness_and_volume=True, partition_volume=False)
    assert sorted(events) == ["sales.events", "sales.order_totals_mv"]
    assert set(events["sales.order_totals_mv"]) == {"type", "metadata", "volume", "freshness"}
    # created_on is sent on freshness-only runs too, as by every warehouse's collector (one
    # TableRecord -> RelationalAsset mapping, issue 16); the metastore stamps it at CREATE time
    metadata = dict(events["sales.order_totals_mv"]["metadata"])
    assert datetime.fromisoformat(metadata.pop("created_on").replace("Z", "+00:00")).tzinfo is not None
    # Monte Carlo's Hive naming by default: database and schema both the Hive database
    assert metadata == {"name": "order_totals_mv", "database": "sales", "schema": "sales"}
    assert "volume" not in events["sales.events"]  # partition stats not read: table level is empty
    assert stats.calls == {"get_all_databases": 1, "get_all_tables": 1, "get_table_objects_by_name": 1}


def test_hiveserver2_path_matches_metastore(hive_conns: Any) -> None:
    from airflow.providers.apache.hive.hooks.hive import HiveServer2Hook

    conn = HiveServer2Hook(hiveserver2_conn_id="hiveserver2").get_conn()
    errors: list[str] = []
    try:
        events = {e["metadata"]["name"]: e for e in hive.collect_hiveserver2_metadata(
            conn, database_filter=NameFilter("sales"), errors=errors)}
    finally:
        conn.close()
    via_metastore, _ = _collect(hive_conns, database_filter=NameFilter("sales"))
    # Spark's Thrift server cannot describe a Hive materialized view: skipped, reported
    assert errors == ["sales.order_totals_mv"]
    assert sorted(events) == [n for n in SALES if n != "order_totals_mv"]
    for name, event in events.items():
        expected = via_metastore[f"sales.{name}"]
        assert event["type"] == expected["type"], name
        assert event["fields"] == expected["fields"], name
        assert event["metadata"] == expected["metadata"], name
        assert event.get("freshness") == expected.get("freshness") or name == "events", name
    assert events["orders"]["volume"] == via_metastore["sales.orders"]["volume"]
    assert {"key": "partition_keys", "value": "ds"} in events["events"]["tags"]


HIVE_DESCRIBE = [  # Hive 2.3 HiveServer2's DESCRIBE FORMATTED, padded as it sends it
    ("# col_name            ", "data_type           ", "comment             "),
    ("id                  ", "bigint              ", "order id            "),
    ("amount              ", "decimal(10,2)       ", ""),
    ("", None, None),
    ("# Partition Information", None, None),
    ("# col_name            ", "data_type           ", "comment             "),
    ("ds                  ", "string              ", ""),
    ("", None, None),
    ("# Detailed Table Information", None, None),
    ("Database:           ", "sales               ", None),
    ("Owner:              ", "hive                ", None),
    ("CreateTime:         ", "Wed Nov 25 10:00:00 UTC 2026", None),
    ("Table Type:         ", "EXTERNAL_TABLE      ", None),
    ("Table Parameters:", None, None),
    ("", "EXTERNAL            ", "TRUE                "),
    ("", "comment             ", "Order lines         "),
    ("", "numRows             ", "1200                "),
    ("", "totalSize           ", "65536               "),
    ("", "transient_lastDdlTime", "1795600000          "),
    ("", None, None),
    ("# Storage Information", None, None),
    ("SerDe Library:      ", "org.apache.hadoop.hive.ql.io.orc.OrcSerde", None),
]


def test_parse_hive_describe_formatted() -> None:
    parsed = hive.parse_describe_formatted(HIVE_DESCRIBE)
    event = hive.describe_event("sales", "lines", parsed, database_label="hive", only_freshness_and_volume=False)
    assert event == {
        "type": "TABLE",
        "metadata": {"name": "lines", "database": "hive", "schema": "sales", "description": "Order lines",
                     "created_on": "2026-11-25T10:00:00Z"},
        "tags": [{"key": "table_type", "value": "EXTERNAL_TABLE"}, {"key": "partition_keys", "value": "ds"},
                 {"key": "owner", "value": "hive"}],
        "fields": [{"name": "id", "type": "bigint", "description": "order id"},
                   {"name": "amount", "type": "decimal(10,2)"}, {"name": "ds", "type": "string"}],
        "volume": {"row_count": 1200, "byte_count": 65536},
        "freshness": {"last_update_time": "2026-11-25T09:46:40Z"},
    }


def test_spark_datasource_schema_property_wins_over_placeholder_columns() -> None:
    params = {
        "spark.sql.sources.schema.numParts": "2",
        "spark.sql.sources.schema.part.0": '{"type":"struct","fields":[{"name":"Id","type":"long","nullable":true,'
                                           '"metadata":{"comment":"key"}},',
        "spark.sql.sources.schema.part.1": '{"name":"tags","type":{"type":"array","elementType":"string",'
                                           '"containsNull":true},"nullable":true,"metadata":{}}]}',
    }
    assert hive.spark_schema_fields(params) == [("Id", "bigint", "key"), ("tags", "array<string>", None)]


# --- dropped-table cleanup: the scopes the metadata collectors declare --------------------------


def test_scope_follows_the_hive_naming(hive_conns: Any) -> None:
    """Default naming (database and schema both the Hive database): one scope per Hive database
    read, an empty one included, through the table filter. With a ``database_label``: one scope,
    the label, whose schemas are the Hive databases (through the database filter). HiveServer2
    declares what the metastore path does."""
    from monte_carlo_push_provider.operators.hive import (
        HiveMetastoreMetadataCollectorOperator,
        HiveServer2MetadataCollectorOperator,
    )
    from tests.conftest import make_context

    def collect(op: Any) -> dict[str, Any]:
        return validate_manifest(op.execute(make_context(task_id=op.task_id)))

    default = collect(HiveMetastoreMetadataCollectorOperator(
        task_id="m", metastore_conn_id="hive_metastore", databases=["sales", "empty_db"], exclude_tables=["hostile*"]))
    tables = {"tables": None, "exclude_tables": ["hostile*"]}
    assert default["scope"] == [{"database": "empty_db", **tables}, {"database": "sales", **tables}]
    assert default["complete"] is True and {e["metadata"]["schema"] for e in default["events"]} == {"sales"}
    labelled = collect(HiveMetastoreMetadataCollectorOperator(
        task_id="m", metastore_conn_id="hive_metastore", databases=["sales", "empty_db"], database_label="hive"))
    assert labelled["scope"] == {"database": "hive", "schemas": ["sales", "empty_db"], "exclude_schemas": None,
                                 "tables": None, "exclude_tables": None}
    hs2 = collect(HiveServer2MetadataCollectorOperator(
        task_id="h", hiveserver2_conn_id="hiveserver2", databases=["sales", "empty_db"], exclude_tables=["hostile*"],
        only_freshness_and_volume=True))
    assert hs2["scope"] == default["scope"]
    # Spark's Thrift server cannot describe the Hive materialized view: a table that exists but
    # was not pushed, so the collection is not complete (nothing of it is compared)
    assert hs2["stats"]["skipped"] == {"unreadable_object": 1} and hs2["complete"] is False
