"""GraphQL over HTTP: schema validation, auth, getUser, getTable, visibility delays."""

from __future__ import annotations

import time

import pytest
import requests

from monte_carlo_sandbox import SANDBOX_ACCOUNT_UUID, SANDBOX_WAREHOUSES
from tests.sandbox.helpers import SNOWFLAKE, asset, gql, metadata_body, post

META = "/ingest/v1/metadata"
MCON = f"MCON++{SANDBOX_ACCOUNT_UUID}++{SNOWFLAKE}++table++analytics:public.orders"
TABLE_QUERY = """
query T($fullTableId: String, $dwId: UUID, $mcon: String) {
  getTable(fullTableId: $fullTableId, dwId: $dwId, mcon: $mcon) {
    mcon fullTableId tableType isDeleted lastObserved description
    warehouse { uuid connectionType }
    versions(first: 1) { edges { node { versionId fields { edges { node { name fieldType description } } } } } }
  }
}
"""


def test_invalid_document_rejected_with_schema_messages(mc_sandbox_clean):
    r = gql(
        mc_sandbox_clean,
        'query { getMetricsV4(dwId: "x", mcon: "y", metricName: "total_row_count", startTime: "2026-01-01") { metricsJson } }',
    )
    assert r.status_code == 400
    messages = [e["message"] for e in r.json()["errors"]]
    assert "Unknown argument 'dwId' on field 'Query.getMetricsV4'." in messages
    assert "Unknown argument 'mcon' on field 'Query.getMetricsV4'." in messages
    assert any("getMetricsV4(metricsFilter:)' of type 'MetricsFilter!' is required" in m for m in messages)


@pytest.mark.parametrize(
    "document",
    [
        "query { getAggregatedQueries(mcon: \"m\", startTime: \"2026-01-01\", endTime: \"2026-01-02\", queryType: read, first: 10) { aggregatedQueries { queryHash } } }",
        "query { getDerivedTablesPartialLineage(mcon: \"m\", column: \"c\") { destinations { table { mcon } } } }",
        "query { getUser { emailAddress } }",
        "query { getUser { email ",
    ],
)
def test_other_invalid_documents(mc_sandbox_clean, document):
    r = gql(mc_sandbox_clean, document)
    assert r.status_code == 400 and r.json()["errors"]


@pytest.mark.parametrize(
    ("headers", "status", "fragment"),
    [
        ({}, 401, "Missing x-mcd-id"),
        ({"x-mcd-id": "sandbox-graphql-id", "x-mcd-token": "nope"}, 401, "Invalid token"),
        ({"x-mcd-id": "sandbox-ingest-id", "x-mcd-token": "sandbox-ingest-secret"}, 403, "is an ingestion key; /graphql needs a GraphQL API key"),
    ],
)
def test_graphql_auth(mc_sandbox_clean, headers, status, fragment):
    r = requests.post(mc_sandbox_clean.graphql_endpoint, json={"query": "{ getUser { email } }"}, headers=headers, timeout=10)
    assert r.status_code == status
    assert fragment in r.json()["errors"][0]["message"]


def test_get_user(mc_sandbox_clean):
    r = gql(mc_sandbox_clean, "query { getUser { email account { uuid warehouses { uuid name connectionType } } } }")
    assert r.status_code == 200, r.text
    account = r.json()["data"]["getUser"]["account"]
    assert account["uuid"] == SANDBOX_ACCOUNT_UUID
    assert {w["name"]: w["uuid"] for w in account["warehouses"]} == SANDBOX_WAREHOUSES
    assert {w["connectionType"] for w in account["warehouses"]} == {"SNOWFLAKE", "BIGQUERY", "DATA_LAKE", "REDSHIFT", "TRANSACTIONAL_DB"}


def test_get_table_by_full_id_and_mcon(mc_sandbox_clean):
    sb = mc_sandbox_clean
    assert post(sb, META, metadata_body(asset("orders"))).status_code == 202
    # A later schema-only change: the latest version wins, partial pushes keep the fields.
    newer = asset("orders", fields=[{"name": "id", "type": "INTEGER", "description": "pk"}])
    newer["metadata"]["description"] = "all orders"
    assert post(sb, META, metadata_body(newer)).status_code == 202
    freshness_only = {"type": "TABLE", "metadata": {"name": "orders", "database": "analytics", "schema": "public"},
                      "freshness": {"last_update_time": "2026-03-13T00:00:00Z"}}
    assert post(sb, META, metadata_body(freshness_only)).status_code == 202

    by_id = gql(sb, TABLE_QUERY, {"fullTableId": "analytics:public.orders", "dwId": SNOWFLAKE}).json()["data"]["getTable"]
    by_mcon = gql(sb, TABLE_QUERY, {"mcon": MCON}).json()["data"]["getTable"]
    assert by_id == by_mcon
    assert by_id["mcon"] == MCON and by_id["fullTableId"] == "analytics:public.orders"
    assert by_id["tableType"] == "TABLE" and by_id["isDeleted"] is False
    assert by_id["description"] == "all orders"
    assert by_id["lastObserved"].endswith("Z")
    assert by_id["warehouse"] == {"uuid": SNOWFLAKE, "connectionType": "SNOWFLAKE"}
    [version] = by_id["versions"]["edges"]
    assert [e["node"] for e in version["node"]["fields"]["edges"]] == [{"name": "id", "fieldType": "INTEGER", "description": "pk"}]


def test_get_table_unknown_or_other_warehouse_is_null_with_a_not_found_error(mc_sandbox_clean):
    # A node that does not exist: HTTP 200, the field null, and a field error saying so (the
    # answer of a graphene resolver that raises), not a silent null.
    sb = mc_sandbox_clean
    assert post(sb, META, metadata_body()).status_code == 202
    other = gql(sb, TABLE_QUERY, {"fullTableId": "analytics:public.orders", "dwId": SANDBOX_WAREHOUSES["bigquery"]})
    assert other.status_code == 200 and other.json()["data"]["getTable"] is None
    assert other.json()["errors"][0]["message"] == "Table not found: analytics:public.orders"
    assert other.json()["errors"][0]["path"] == ["getTable"]
    unknown = gql(sb, TABLE_QUERY, {"mcon": MCON + "x"}).json()
    assert unknown["data"]["getTable"] is None and "not found" in unknown["errors"][0]["message"]


def test_get_table_without_arguments_is_a_field_error(mc_sandbox_clean):
    r = gql(mc_sandbox_clean, TABLE_QUERY, {})
    assert r.status_code == 200
    assert r.json()["data"]["getTable"] is None
    assert "Pass mcon, or fullTableId" in r.json()["errors"][0]["message"]


def test_metadata_visibility_delay(mc_sandbox_clean):
    sb = mc_sandbox_clean
    sb.set_visibility(metadata=1.0)
    assert post(sb, META, metadata_body()).status_code == 202
    assert gql(sb, TABLE_QUERY, {"mcon": MCON}).json()["data"]["getTable"] is None
    deadline = time.monotonic() + 5
    while gql(sb, TABLE_QUERY, {"mcon": MCON}).json()["data"]["getTable"] is None:
        assert time.monotonic() < deadline, "table never became visible"
        time.sleep(0.1)
    assert sb.set_visibility(metadata=0) == {"metadata": 0.0, "lineage": 0.0, "query_logs": 0.0}
