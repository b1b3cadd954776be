"""The real pycarlo client against the sandbox, over HTTP."""

from __future__ import annotations

from datetime import datetime, timezone

import pycarlo.core as pycarlo_core
import pytest
from pycarlo.common.errors import GqlError
from pycarlo.common.retries import ExponentialBackoff
from pycarlo.features.ingestion import IngestionService
from pycarlo.features.ingestion.models import (
    AssetField,
    AssetMetadata,
    ColumnLineageField,
    ColumnLineageSourceField,
    LineageAssetRef,
    LineageEvent,
    QueryLogEntry,
    RelationalAsset,
    build_metadata_payload,
)
from requests import HTTPError

from monte_carlo_sandbox import SANDBOX_WAREHOUSES

SNOWFLAKE = SANDBOX_WAREHOUSES["snowflake"]
NO_RETRY = ExponentialBackoff(0, 0)  # duration 0 -> one immediate retry then stop; keeps tests fast


def ingestion(sb, key_id=None, secret=None) -> IngestionService:
    session = pycarlo_core.Session(
        mcd_id=key_id or sb.ingest_key_id, mcd_token=secret or sb.ingest_key_secret, scope="Ingestion", endpoint=sb.url
    )
    return IngestionService(mc_client=pycarlo_core.Client(session=session))


def graphql_client(sb, key_id=None, secret=None):
    session = pycarlo_core.Session(
        mcd_id=key_id or sb.graphql_key_id, mcd_token=secret or sb.graphql_key_secret, endpoint=sb.graphql_endpoint
    )
    return pycarlo_core.Client(session=session)


def test_send_metadata_lineage_and_query_logs(mc_sandbox_clean):
    svc = ingestion(mc_sandbox_clean)
    response = svc.send_metadata(
        resource_uuid=SNOWFLAKE,
        resource_type="snowflake",
        events=[
            RelationalAsset(
                type="TABLE",
                metadata=AssetMetadata(name="orders", database="analytics", schema="public"),
                fields=[AssetField(name="id", type="INTEGER")],
            )
        ],
    )
    invocation_id = IngestionService.extract_invocation_id(response)
    assert invocation_id and mc_sandbox_clean.pushes("metadata")[0]["invocation_id"] == invocation_id

    lineage = LineageEvent(
        destination=LineageAssetRef(type="TABLE", name="daily", database="analytics", schema="public", asset_id="d"),
        sources=[LineageAssetRef(type="TABLE", name="orders", database="analytics", schema="public", asset_id="s")],
        fields=[ColumnLineageField(name="id", source_fields=[ColumnLineageSourceField(asset_id="s", field_name="id")])],
    )
    assert IngestionService.extract_invocation_id(svc.send_lineage(SNOWFLAKE, "snowflake", [lineage]))
    now = datetime.now(timezone.utc)
    entry = QueryLogEntry(start_time=now, end_time=now, query_text="select 1", extra={"warehouse_name": "WH"})
    assert IngestionService.extract_invocation_id(svc.send_query_logs(SNOWFLAKE, "snowflake", [entry]))
    assert [p["event_type"] for p in mc_sandbox_clean.pushes()] == ["METADATA", "COLUMN_LINEAGE", "QUERY_LOG"]


def test_rejection_reaches_the_client_with_its_message(mc_sandbox_clean):
    # send_* retries every HTTPError with backoff (4xx included), so call make_request as the
    # provider should: the same payload builder, no retry on a 400.
    svc = ingestion(mc_sandbox_clean)
    bad = RelationalAsset(type="BASE TABLE", metadata=AssetMetadata(name="o", database="d", schema="s"))
    with pytest.raises(HTTPError) as info:
        svc._client.make_request(
            path="/ingest/v1/metadata",
            body=build_metadata_payload(SNOWFLAKE, "snowflake", [bad]),
            should_retry=lambda exc: False,
        )
    assert info.value.response.status_code == 400
    assert "events[0].relational_asset.type: must be TABLE or VIEW, got 'BASE TABLE'" in info.value.response.json()["message"]


def test_graphql_get_user(mc_sandbox_clean):
    client = graphql_client(mc_sandbox_clean)
    user = client("query { getUser { email account { uuid warehouses { uuid name connectionType } } } }")
    assert user.get_user.email == "sandbox@example.com"
    by_name = {w.name: w for w in user.get_user.account.warehouses}
    assert by_name["snowflake"].uuid == SNOWFLAKE
    assert by_name["snowflake"].connection_type == "SNOWFLAKE"


def test_graphql_invalid_document_raises_gql_error(mc_sandbox_clean):
    client = graphql_client(mc_sandbox_clean)
    with pytest.raises(GqlError) as info:
        client(
            'query { getMetricsV4(dwId: "x", mcon: "y", metricName: "total_row_count", startTime: "2026-01-01") { metricsJson } }',
            retry_backoff=NO_RETRY,
        )
    assert "Unknown argument 'dwId' on field 'Query.getMetricsV4'" in info.value.message
    assert "metricsFilter" in info.value.message  # the missing required argument is named too


def test_graphql_with_ingestion_key_is_forbidden(mc_sandbox_clean):
    client = graphql_client(mc_sandbox_clean, mc_sandbox_clean.ingest_key_id, mc_sandbox_clean.ingest_key_secret)
    with pytest.raises(GqlError) as info:
        client("query { getUser { email } }", retry_backoff=NO_RETRY)
    # pycarlo reports GraphQL-shaped error bodies with status_code 200 whatever the HTTP status;
    # the message is what reaches the user. It is not retried (retryable is False below 500).
    assert "needs a GraphQL API key" in info.value.message
    assert info.value.retryable is False
