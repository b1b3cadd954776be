"""MonteCarloHook against the sandbox: credentials, fallbacks, test_connection, no secret leaks."""

from __future__ import annotations

import json

import pytest

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
from monte_carlo_push_provider.sandbox import SANDBOX_WAREHOUSES


def set_conn(monkeypatch, mc_conn, mutate=lambda c: None):
    conn = json.loads(mc_conn.connection_uri_json("snowflake"))
    mutate(conn)
    monkeypatch.setenv("AIRFLOW_CONN_MONTE_CARLO_DEFAULT", json.dumps(conn))
    return conn


def test_test_connection_checks_both_keys_and_resource(mc_conn):
    ok, message = MonteCarloHook().test_connection()
    assert ok, message
    assert "ingestion key sandbox-ingest-id accepted" in message
    assert "GraphQL key works" in message
    assert "snowflake" in message.lower()
    assert mc_conn.pushes() == []  # the probe pushes nothing


def test_test_connection_unknown_resource(mc_conn, monkeypatch):
    set_conn(monkeypatch, mc_conn, lambda c: c["extra"].update(resource_uuid="00000000-0000-4000-8000-00000000dead"))
    ok, message = MonteCarloHook().test_connection()
    assert not ok
    assert "00000000-0000-4000-8000-00000000dead is not a warehouse of this account" in message
    assert SANDBOX_WAREHOUSES["redshift"] in message  # lists what exists


def test_test_connection_graphql_key_used_for_push(mc_conn, monkeypatch):
    def swap(c):
        c["login"], c["password"] = c["extra"]["graphql_key_id"], c["extra"]["graphql_key_secret"]

    set_conn(monkeypatch, mc_conn, swap)
    ok, message = MonteCarloHook().test_connection()
    assert not ok
    assert "checkpoint 1" in message and "Ingestion-scoped" in message
    assert "sandbox-graphql-secret" not in message


def test_test_connection_wrong_graphql_secret(mc_conn, monkeypatch):
    set_conn(monkeypatch, mc_conn, lambda c: c["extra"].update(graphql_key_secret="nope-" + "x" * 8))
    ok, message = MonteCarloHook().test_connection()
    assert not ok
    assert "checkpoint 1" in message and "GraphQL" in message
    assert "nope-xxxxxxxx" not in message


def test_env_fallbacks(mc_conn, monkeypatch):
    conn = json.loads(mc_conn.connection_uri_json("snowflake"))
    monkeypatch.setenv("AIRFLOW_CONN_MONTE_CARLO_DEFAULT", json.dumps({"conn_type": "monte_carlo", "extra": {
        "ingest_endpoint": conn["extra"]["ingest_endpoint"], "graphql_endpoint": conn["extra"]["graphql_endpoint"]}}))
    monkeypatch.setenv("MCD_INGEST_ID", conn["login"])
    monkeypatch.setenv("MCD_INGEST_TOKEN", conn["password"])
    monkeypatch.setenv("MCD_ID", conn["extra"]["graphql_key_id"])
    monkeypatch.setenv("MCD_TOKEN", conn["extra"]["graphql_key_secret"])
    monkeypatch.setenv("MCD_RESOURCE_UUID", conn["extra"]["resource_uuid"])
    creds = MonteCarloHook().get_credentials()
    assert creds.sources == {
        "ingest_key_id": "MCD_INGEST_ID", "ingest_key_secret": "MCD_INGEST_TOKEN", "graphql_key_id": "MCD_ID",
        "graphql_key_secret": "MCD_TOKEN", "resource_uuid": "MCD_RESOURCE_UUID",
    }
    ok, message = MonteCarloHook().test_connection()
    assert ok, message


def test_secrets_not_in_repr(mc_conn):
    hook = MonteCarloHook()
    creds = hook.get_credentials()
    for text in (repr(creds), str(creds), repr(hook)):
        assert "sandbox-ingest-secret" not in text and "sandbox-graphql-secret" not in text
    assert "sandbox-ingest-id" in repr(creds)


def test_missing_graphql_key_message(mc_conn, monkeypatch):
    set_conn(monkeypatch, mc_conn, lambda c: [c["extra"].pop("graphql_key_id"), c["extra"].pop("graphql_key_secret")])
    monkeypatch.delenv("MCD_ID", raising=False)
    monkeypatch.delenv("MCD_TOKEN", raising=False)
    from monte_carlo_push_provider.utils.errors import MonteCarloConfigError

    with pytest.raises(MonteCarloConfigError, match="graphql_key_id or MCD_ID"):
        MonteCarloHook().get_graphql_client()


def test_graphql_answers_in_monte_carlos_field_names(mc_conn):
    data = MonteCarloHook().graphql("query { getUser { email account { warehouses { uuid connectionType } } } }")
    uuids = {w["uuid"] for w in data["getUser"]["account"]["warehouses"]}
    assert set(SANDBOX_WAREHOUSES.values()) <= uuids


def test_bad_timeout_names_the_field(mc_conn, monkeypatch):
    from monte_carlo_push_provider.utils.errors import MonteCarloConfigError

    set_conn(monkeypatch, mc_conn, lambda c: c["extra"].update(timeout_s="soon"))
    with pytest.raises(MonteCarloConfigError, match="extra timeout_s must be a number of seconds, got 'soon'"):
        MonteCarloHook().get_credentials()
