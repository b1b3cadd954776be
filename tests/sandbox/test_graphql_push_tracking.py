"""What ties GraphQL answers to one push: ``WarehouseTable.ingestInvocationId``,
``Warehouse.pushEvents``, ``getTables(mcons: [...])``, and per-push holds (an earlier push stays
visible while a later one is held back), over real HTTP against the sandbox."""

from __future__ import annotations

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
)

META = "/ingest/v1/metadata"


def mcon(name: str) -> str:
    return f"MCON++{SANDBOX_ACCOUNT_UUID}++{SNOWFLAKE}++table++analytics:public.{name}"


TABLES_Q = """
query T($mcons: [String], $first: Int, $after: String) {
  getTables(mcons: $mcons, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { mcon fullTableId ingestType ingestInvocationId isDeleted } }
  }
}
"""
PUSH_EVENTS_Q = """
query P($uuid: UUID) {
  getWarehouse(uuid: $uuid) { uuid pushEvents { eventType status firstReceived lastReceived lastInvocationId } }
}
"""
USER_PUSH_EVENTS_Q = "query { getUser { account { uuid warehouses { uuid pushEvents { eventType lastInvocationId } } } } }"


def ok(sb, query, variables=None):
    r = gql(sb, query, variables)
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, body
    return body["data"]


def push(sb, path, body) -> str:
    r = post(sb, path, body)
    assert r.status_code == 202, r.text
    return r.json()["invocation_id"]


def table_ids(sb, *names) -> dict[str, str | None]:
    edges = ok(sb, TABLES_Q, {"mcons": [mcon(n) for n in names]})["getTables"]["edges"]
    return {e["node"]["fullTableId"]: e["node"]["ingestInvocationId"] for e in edges}


def push_events(sb, uuid=SNOWFLAKE) -> dict[str, dict]:
    events = ok(sb, PUSH_EVENTS_Q, {"uuid": uuid})["getWarehouse"]["pushEvents"]
    return {e["eventType"]: e for e in events}


def test_get_tables_batches_mcons_and_leaves_unknown_ones_out(mc_sandbox_clean):
    sb = mc_sandbox_clean
    inv = push(sb, META, metadata_body(asset("orders"), asset("orders_daily")))
    data = ok(sb, TABLES_Q, {"mcons": [mcon("orders"), mcon("orders_daily"), mcon("never_pushed")]})["getTables"]
    nodes = [e["node"] for e in data["edges"]]
    assert [n["fullTableId"] for n in nodes] == ["analytics:public.orders", "analytics:public.orders_daily"]
    assert {n["ingestInvocationId"] for n in nodes} == {inv} and {n["ingestType"] for n in nodes} == {"push"}
    assert data["pageInfo"]["hasNextPage"] is False
    # Pages: first + after (the endCursor).
    page1 = ok(sb, TABLES_Q, {"mcons": [mcon("orders"), mcon("orders_daily")], "first": 1})["getTables"]
    assert len(page1["edges"]) == 1 and page1["pageInfo"]["hasNextPage"] is True
    page2 = ok(sb, TABLES_Q, {"mcons": [mcon("orders"), mcon("orders_daily")], "first": 1,
                              "after": page1["pageInfo"]["endCursor"]})["getTables"]
    assert [e["node"]["fullTableId"] for e in page2["edges"]] == ["analytics:public.orders_daily"]


def test_ingest_invocation_id_is_the_latest_processed_push(mc_sandbox_clean):
    sb = mc_sandbox_clean
    first = push(sb, META, metadata_body(asset("orders")))
    second = push(sb, META, metadata_body(asset("orders")))  # identical content, a new invocation
    assert first != second
    assert table_ids(sb, "orders") == {"analytics:public.orders": second}


def test_push_events_per_flow_never_received_then_last_invocation(mc_sandbox_clean):
    sb = mc_sandbox_clean
    before = push_events(sb)
    assert {k: v["status"] for k, v in before.items()} == {
        "METADATA": "NEVER_RECEIVED", "LINEAGE": "NEVER_RECEIVED", "QUERY_LOGS": "NEVER_RECEIVED"}
    assert before["METADATA"]["lastInvocationId"] is None
    meta1 = push(sb, META, metadata_body(asset("orders")))
    meta2 = push(sb, META, metadata_body(asset("orders_daily")))
    lineage = push(sb, "/ingest/v1/lineage", lineage_body())
    logs = push(sb, "/ingest/v1/querylogs", query_log_body(query_log()))
    events = push_events(sb)
    assert events["METADATA"]["status"] == "ACTIVE" and events["METADATA"]["lastInvocationId"] == meta2
    assert events["METADATA"]["firstReceived"] <= events["METADATA"]["lastReceived"]
    assert events["LINEAGE"]["lastInvocationId"] == lineage and events["QUERY_LOGS"]["lastInvocationId"] == logs
    assert meta1 not in {e["lastInvocationId"] for e in events.values()}
    # Per warehouse: the BigQuery warehouse received nothing.
    assert push_events(sb, SANDBOX_WAREHOUSES["bigquery"])["METADATA"]["status"] == "NEVER_RECEIVED"
    # Through getUser too (one call for every warehouse and the account uuid).
    account = ok(sb, USER_PUSH_EVENTS_Q)["getUser"]["account"]
    assert account["uuid"] == SANDBOX_ACCOUNT_UUID
    snowflake = next(w for w in account["warehouses"] if w["uuid"] == SNOWFLAKE)
    assert {e["eventType"]: e["lastInvocationId"] for e in snowflake["pushEvents"]}["METADATA"] == meta2


def test_a_held_push_is_invisible_while_the_earlier_one_stays_visible(mc_sandbox_clean):
    sb = mc_sandbox_clean
    first = push(sb, META, metadata_body(asset("orders")))
    assert sb.hold("metadata") == {"holding_new": ["metadata"], "held": []}
    second = push(sb, META, metadata_body(asset("orders")))  # identical content
    logs = push(sb, "/ingest/v1/querylogs", query_log_body(query_log()))  # another flow: not held
    assert sb.holds()["held"] == [second]
    assert table_ids(sb, "orders") == {"analytics:public.orders": first}
    events = push_events(sb)
    assert events["METADATA"]["lastInvocationId"] == first and events["QUERY_LOGS"]["lastInvocationId"] == logs
    assert [p["held"] for p in sb.pushes("metadata")] == [False, True]
    sb.release([second])
    assert table_ids(sb, "orders") == {"analytics:public.orders": second}
    assert push_events(sb)["METADATA"]["lastInvocationId"] == second
    # Still holding new metadata pushes until a release without ids.
    third = push(sb, META, metadata_body(asset("orders")))
    assert sb.holds() == {"holding_new": ["metadata"], "held": [third]}
    assert sb.release() == {"holding_new": [], "held": []}
    assert table_ids(sb, "orders") == {"analytics:public.orders": third}


def test_hold_by_invocation_id_and_unknown_ids_are_refused(mc_sandbox_clean):
    import pytest

    from monte_carlo_sandbox.testing import SandboxError

    sb = mc_sandbox_clean
    inv = push(sb, META, metadata_body(asset("orders")))
    sb.hold(invocation_ids=[inv])
    r = gql(sb, "query T($m: String) { getTable(mcon: $m) { mcon } }", {"m": mcon("orders")}).json()
    assert r["data"]["getTable"] is None and "not found" in r["errors"][0]["message"]
    assert push_events(sb)["METADATA"]["status"] == "NEVER_RECEIVED"
    with pytest.raises(SandboxError, match="1 of 1 invocation_ids are not pushes"):
        sb.hold(invocation_ids=["00000000-0000-0000-0000-000000000000"])
    sb.reset()
    assert sb.holds() == {"holding_new": [], "held": []}


def test_unknown_warehouse_is_a_not_found_field_error(mc_sandbox_clean):
    r = gql(mc_sandbox_clean, PUSH_EVENTS_Q, {"uuid": "00000000-0000-4000-8000-00000000dead"}).json()
    assert r["data"]["getWarehouse"] is None and "Warehouse not found" in r["errors"][0]["message"]
