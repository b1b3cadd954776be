"""Issue-9 resolvers: lineage, derived columns, metrics, aggregated queries, custom lineage, deletes."""

from __future__ import annotations

import json

from monte_carlo_sandbox import SANDBOX_ACCOUNT_UUID, SANDBOX_WAREHOUSES
from tests.sandbox.helpers import (
    SNOWFLAKE,
    asset,
    gql,
    lineage_body,
    metadata_body,
    post,
    query_log,
    query_log_body,
    ref,
)


def mcon(name: str, resource: str = SNOWFLAKE, object_type: str = "table") -> str:
    return f"MCON++{SANDBOX_ACCOUNT_UUID}++{resource}++{object_type}++analytics:public.{name}"


def data(sb, query, variables=None):
    r = gql(sb, query, variables)
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, body
    return body["data"]


LINEAGE_Q = """
query L($mcon: String, $direction: String!, $hops: Int) {
  getTableLineage(mcon: $mcon, direction: $direction, hops: $hops) {
    baseNode { mcon objectType }
    connectedNodes { mcon displayName objectType isCustom }
    flattenedEdges { mcon directlyConnectedMcons }
  }
}
"""


def push_chain(sb):
    # orders -> orders_daily -> orders_weekly, with a column mapping on the first hop.
    first = {
        "destination": ref("orders_daily", "dst"),
        "sources": [ref("orders", "src")],
        "fields": [{"name": "total", "source_fields": [{"asset_id": "src", "field_name": "amount"}]}],
    }
    second = {"destination": ref("orders_weekly"), "sources": [ref("orders_daily")]}
    assert post(sb, "/ingest/v1/lineage", lineage_body([first])).status_code == 202
    assert post(sb, "/ingest/v1/lineage", lineage_body([second])).status_code == 202


def test_table_lineage_downstream_and_upstream(mc_sandbox_clean):
    sb = mc_sandbox_clean
    push_chain(sb)
    one_hop = data(sb, LINEAGE_Q, {"mcon": mcon("orders"), "direction": "downstream"})["getTableLineage"]
    assert one_hop["baseNode"] == {"mcon": mcon("orders"), "objectType": "table"}
    assert [n["mcon"] for n in one_hop["connectedNodes"]] == [mcon("orders_daily")]
    assert one_hop["flattenedEdges"] == [{"mcon": mcon("orders"), "directlyConnectedMcons": [mcon("orders_daily")]}]
    two = data(sb, LINEAGE_Q, {"mcon": mcon("orders"), "direction": "downstream", "hops": 2})["getTableLineage"]
    assert {n["mcon"] for n in two["connectedNodes"]} == {mcon("orders_daily"), mcon("orders_weekly")}
    up = data(sb, LINEAGE_Q, {"mcon": mcon("orders_weekly"), "direction": "upstream", "hops": 3})["getTableLineage"]
    assert {n["mcon"] for n in up["connectedNodes"]} == {mcon("orders_daily"), mcon("orders")}
    bad = gql(sb, LINEAGE_Q, {"mcon": mcon("orders"), "direction": "sideways"}).json()
    assert "direction must be 'upstream' or 'downstream'" in bad["errors"][0]["message"]


def test_lineage_visibility_delay(mc_sandbox_clean):
    sb = mc_sandbox_clean
    sb.set_visibility(lineage=60)
    push_chain(sb)
    graph = data(sb, LINEAGE_Q, {"mcon": mcon("orders"), "direction": "downstream"})["getTableLineage"]
    assert graph["connectedNodes"] == [] and graph["flattenedEdges"] == []
    sb.set_visibility(lineage=0)
    graph = data(sb, LINEAGE_Q, {"mcon": mcon("orders"), "direction": "downstream"})["getTableLineage"]
    assert len(graph["connectedNodes"]) == 1


def test_derived_tables_partial_lineage(mc_sandbox_clean):
    sb = mc_sandbox_clean
    push_chain(sb)
    daily = asset("orders_daily", fields=[{"name": "total", "type": "NUMBER"}])
    assert post(sb, "/ingest/v1/metadata", metadata_body(daily)).status_code == 202
    q = """query D($mcon: String, $column: String) { getDerivedTablesPartialLineage(mcon: $mcon, column: $column, pageSize: 10) {
        mcon sourceColumn isLastPage cursor destinations { mcon displayName columns { columnName columnType } } } }"""
    result = data(sb, q, {"mcon": mcon("orders"), "column": "amount"})["getDerivedTablesPartialLineage"]
    assert result["isLastPage"] is True and result["sourceColumn"] == "amount"
    assert result["destinations"] == [
        {"mcon": mcon("orders_daily"), "displayName": "public.orders_daily", "columns": [{"columnName": "total", "columnType": "NUMBER"}]}
    ]
    none = data(sb, q, {"mcon": mcon("orders"), "column": "id"})["getDerivedTablesPartialLineage"]
    assert none["destinations"] == []


METRICS_Q = """query M($name: String!, $filter: MetricsFilter!) {
  getMetricsV4(metricName: $name, startTime: "2020-01-01T00:00:00Z", metricsFilter: $filter) { metricsJson metrics { metric value } } }"""


def test_metrics_from_pushed_volume(mc_sandbox_clean):
    sb = mc_sandbox_clean
    for rows in (10, 10, 25):
        a = asset("orders", volume={"row_count": rows, "byte_count": rows * 100})
        assert post(sb, "/ingest/v1/metadata", metadata_body(a)).status_code == 202
    by_mcon = {"mcon": mcon("orders")}
    by_id = {"fullTableId": "analytics:public.orders", "dwId": SNOWFLAKE}
    rows = data(sb, METRICS_Q, {"name": "total_row_count", "filter": by_mcon})["getMetricsV4"]
    values = [m["value"] for m in json.loads(rows["metricsJson"])]
    assert values == [25.0, 10.0, 10.0]  # newest first
    assert [m["value"] for m in rows["metrics"]] == values
    sizes = data(sb, METRICS_Q, {"name": "total_byte_count", "filter": by_id})["getMetricsV4"]
    assert [m["value"] for m in json.loads(sizes["metricsJson"])] == [2500.0, 1000.0, 1000.0]
    changed = data(sb, METRICS_Q, {"name": "total_row_count_last_changed_on", "filter": by_mcon})["getMetricsV4"]
    assert len(json.loads(changed["metricsJson"])) == 2  # first sample and the change to 25
    bad = gql(sb, METRICS_Q, {"name": "row_count", "filter": by_mcon}).json()
    assert "Unsupported metricName 'row_count'" in bad["errors"][0]["message"]


AGG_Q = """query A($mcon: String!, $type: QueryType!, $cursor: String) {
  getAggregatedQueries(mcon: $mcon, startTime: "2026-03-01T00:00:00Z", endTime: "2026-03-03T00:00:00Z",
                       queryType: $type, limit: 1, endCursor: $cursor) {
    aggregatedQueries { queryHash user count latestQuery latestQueryId averageRunTime }
    pageInfo { hasNextPage endCursor } } }"""


def test_aggregated_queries_from_pushed_logs(mc_sandbox_clean):
    sb = mc_sandbox_clean
    assert post(sb, "/ingest/v1/metadata", metadata_body(asset("orders"))).status_code == 202
    logs = query_log_body(
        query_log("SELECT * FROM analytics.public.orders", query_id="r1"),
        query_log("select *  from ANALYTICS.PUBLIC.ORDERS", query_id="r2"),
        query_log("SELECT id FROM orders JOIN x ON 1=1", query_id="r3", user="b@b.c"),
        query_log("INSERT INTO analytics.public.orders SELECT * FROM staging", query_id="w1"),
        query_log("SELECT * FROM orders_archive", query_id="other"),
        query_log("SELECT * FROM orders", query_id="old", start_time="2026-02-01T00:00:00Z", end_time="2026-02-01T00:00:01Z"),
    )
    assert post(sb, "/ingest/v1/querylogs", logs).status_code == 202
    page1 = data(sb, AGG_Q, {"mcon": mcon("orders"), "type": "read"})["getAggregatedQueries"]
    [top] = page1["aggregatedQueries"]
    assert top["count"] == 2 and top["averageRunTime"] == 5000 and top["user"] == "a@b.c"
    assert page1["pageInfo"]["hasNextPage"] is True
    page2 = data(sb, AGG_Q, {"mcon": mcon("orders"), "type": "read", "cursor": page1["pageInfo"]["endCursor"]})
    [second] = page2["getAggregatedQueries"]["aggregatedQueries"]
    assert second["latestQueryId"] == "r3" and page2["getAggregatedQueries"]["pageInfo"]["hasNextPage"] is False
    writes = data(sb, AGG_Q, {"mcon": mcon("orders"), "type": "write"})["getAggregatedQueries"]["aggregatedQueries"]
    assert [w["latestQueryId"] for w in writes] == ["w1"]


def test_query_logs_visibility_delay(mc_sandbox_clean):
    sb = mc_sandbox_clean
    sb.set_visibility(query_logs=60)
    assert post(sb, "/ingest/v1/metadata", metadata_body(asset("orders"))).status_code == 202
    assert post(sb, "/ingest/v1/querylogs", query_log_body()).status_code == 202
    result = data(sb, AGG_Q, {"mcon": mcon("orders"), "type": "read"})["getAggregatedQueries"]
    assert result["aggregatedQueries"] == []


NODE_M = """mutation N($expireAt: DateTime) { createOrUpdateLineageNode(objectType: "report", objectId: "weekly-kpis",
  resourceId: "WAREHOUSE", name: "Weekly KPIs", expireAt: $expireAt) { node { mcon displayName objectType isCustom expireAt } } }""".replace(
    "WAREHOUSE", SNOWFLAKE
)
EDGE_M = """mutation E($expireAt: DateTime) { createOrUpdateLineageEdge(
  source: {objectType: "table", objectId: "analytics:public.orders", resourceId: "WAREHOUSE"},
  destination: {objectType: "report", objectId: "weekly-kpis", resourceName: "snowflake"}, expireAt: $expireAt) {
  edge { source { mcon } destination { mcon displayName isCustom } isCustom expireAt } } }""".replace("WAREHOUSE", SNOWFLAKE)


def test_custom_nodes_edges_and_expiry(mc_sandbox_clean):
    sb = mc_sandbox_clean
    node = data(sb, NODE_M)["createOrUpdateLineageNode"]["node"]
    report = f"MCON++{SANDBOX_ACCOUNT_UUID}++{SNOWFLAKE}++report++weekly-kpis"
    assert node["mcon"] == report and node["isCustom"] is True and node["displayName"] == "Weekly KPIs"
    assert node["expireAt"] is not None  # default: 7 days
    edge = data(sb, EDGE_M, {"expireAt": "9999-12-31"})["createOrUpdateLineageEdge"]["edge"]
    assert edge["source"]["mcon"] == mcon("orders") and edge["destination"]["mcon"] == report
    assert edge["isCustom"] is True and edge["expireAt"].startswith("9999-12-31")
    graph = data(sb, LINEAGE_Q, {"mcon": mcon("orders"), "direction": "downstream"})["getTableLineage"]
    assert [(n["mcon"], n["isCustom"]) for n in graph["connectedNodes"]] == [(report, True)]
    # An edge that already expired is invisible.
    data(sb, EDGE_M, {"expireAt": "2000-01-01T00:00:00Z"})
    graph = data(sb, LINEAGE_Q, {"mcon": mcon("orders"), "direction": "downstream"})["getTableLineage"]
    assert graph["connectedNodes"] == []


def test_delete_lineage_node(mc_sandbox_clean):
    sb = mc_sandbox_clean
    push_chain(sb)
    result = data(
        sb,
        "mutation D($m: String!) { deleteLineageNode(mcon: $m) { objectsDeleted nodesDeleted edgesDeleted } }",
        {"m": mcon("orders_daily")},
    )
    assert result["deleteLineageNode"] == {"objectsDeleted": 1, "nodesDeleted": 1, "edgesDeleted": 2}
    graph = data(sb, LINEAGE_Q, {"mcon": mcon("orders"), "direction": "downstream"})["getTableLineage"]
    assert graph["connectedNodes"] == []


GET_TABLE_Q = "query T($m: String) { getTable(mcon: $m) { mcon } }"
DELETE_M = "mutation D($mcons: [String!]!) { deletePushIngestedTables(mcons: $mcons) { success deletedCount } }"


def test_delete_push_ingested_tables(mc_sandbox_clean):
    sb = mc_sandbox_clean
    assert post(sb, "/ingest/v1/metadata", metadata_body(asset("orders"), asset("orders_daily"))).status_code == 202
    push_chain(sb)
    result = data(sb, DELETE_M, {"mcons": [mcon("orders"), mcon("missing")]})["deletePushIngestedTables"]
    assert result == {"success": True, "deletedCount": 1}
    gone = gql(sb, GET_TABLE_Q, {"m": mcon("orders")}).json()
    assert gone["data"]["getTable"] is None and "Table not found" in gone["errors"][0]["message"]
    graph = data(sb, LINEAGE_Q, {"mcon": mcon("orders_daily"), "direction": "upstream"})["getTableLineage"]
    assert graph["connectedNodes"] == []
    # A later push brings the table back.
    assert post(sb, "/ingest/v1/metadata", metadata_body(asset("orders"))).status_code == 202
    assert data(sb, GET_TABLE_Q, {"m": mcon("orders")})["getTable"] is not None


def test_delete_push_ingested_tables_limit(mc_sandbox_clean):
    r = gql(mc_sandbox_clean, DELETE_M, {"mcons": [mcon(f"t{i}") for i in range(1001)]}).json()
    assert "At most 1000 MCONs" in r["errors"][0]["message"]
    r = gql(mc_sandbox_clean, DELETE_M, {"mcons": ["orders"]}).json()
    assert "Invalid MCON 'orders'" in r["errors"][0]["message"]


def test_cross_warehouse_lineage_node_mcons(mc_sandbox_clean):
    sb = mc_sandbox_clean
    bq = SANDBOX_WAREHOUSES["bigquery"]
    body = {"event_type": "LINEAGE", "events": [{
        "destination": ref("t", resource_uuid=bq, resource_type="bigquery"),
        "sources": [ref("orders", resource_uuid=SNOWFLAKE, resource_type="snowflake")]}]}
    assert post(sb, "/ingest/v1/lineage", body).status_code == 202
    graph = data(sb, LINEAGE_Q, {"mcon": mcon("orders"), "direction": "downstream"})["getTableLineage"]
    assert [n["mcon"] for n in graph["connectedNodes"]] == [mcon("t", bq)]
