"""Shared request builders for the sandbox tests."""

from __future__ import annotations

import copy
from typing import Any

import requests

from monte_carlo_sandbox import SANDBOX_WAREHOUSES
from monte_carlo_sandbox.testing import SandboxProcess

SNOWFLAKE = SANDBOX_WAREHOUSES["snowflake"]


def ingest_headers(sb: SandboxProcess) -> dict[str, str]:
    return {"x-mcd-id": sb.ingest_key_id, "x-mcd-token": sb.ingest_key_secret}


def graphql_headers(sb: SandboxProcess) -> dict[str, str]:
    return {"x-mcd-id": sb.graphql_key_id, "x-mcd-token": sb.graphql_key_secret}


def asset(name: str = "orders", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "TABLE",
        "metadata": {"name": name, "database": "analytics", "schema": "public"},
        "fields": [{"name": "id", "type": "INTEGER"}, {"name": "amount", "type": "NUMBER"}],
        "volume": {"row_count": 10, "byte_count": 1000},
        "freshness": {"last_update_time": "2026-03-12T14:30:00Z"},
    }
    body.update(extra)
    return body


def metadata_body(*assets: dict[str, Any], resource: str = SNOWFLAKE, rtype: str = "snowflake") -> dict[str, Any]:
    return {
        "event_type": "METADATA",
        "resource": {"uuid": resource, "resource_type": rtype},
        "events": [{"relational_asset": a} for a in (assets or (asset(),))],
    }


def ref(name: str, asset_id: str | None = None, **extra: Any) -> dict[str, Any]:
    r: dict[str, Any] = {"type": "TABLE", "name": name, "database": "analytics", "schema": "public"}
    if asset_id:
        r["asset_id"] = asset_id
    r.update(extra)
    return r


def lineage_body(events: list[dict[str, Any]] | None = None, *, event_type: str | None = None) -> dict[str, Any]:
    events = events or [{"destination": ref("orders_daily"), "sources": [ref("orders")]}]
    if event_type is None:
        event_type = "COLUMN_LINEAGE" if any(e.get("fields") for e in events) else "LINEAGE"
    return {"event_type": event_type, "resource": {"uuid": SNOWFLAKE, "resource_type": "snowflake"}, "events": events}


def query_log(text: str = "SELECT * FROM analytics.public.orders", **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "start_time": "2026-03-02T12:00:00Z",
        "end_time": "2026-03-02T12:00:05Z",
        "query_text": text,
        "query_id": "q1",
        "user": "a@b.c",
    }
    entry.update(extra)
    return entry


def query_log_body(*entries: dict[str, Any], log_type: str = "snowflake", resource: str = SNOWFLAKE) -> dict[str, Any]:
    return {
        "event_type": "QUERY_LOG",
        "resource": {"uuid": resource, "log_type": log_type},
        "events": list(entries or (query_log(),)),
    }


def post(sb: SandboxProcess, path: str, body: Any, headers: dict[str, str] | None = None, **kw: Any) -> requests.Response:
    return requests.post(sb.url + path, json=body, headers=ingest_headers(sb) if headers is None else headers, timeout=10, **kw)


def gql(sb: SandboxProcess, query: str, variables: dict[str, Any] | None = None) -> requests.Response:
    return requests.post(
        sb.graphql_endpoint, json={"query": query, "variables": variables or {}}, headers=graphql_headers(sb), timeout=10
    )


def mutate(body: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(body)
