"""MonteCarloHook against the sandbox: credentials, fallbacks, test_connection, no secret leaks."""

from __future__ import annotations

import json

import pytest

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
from monte_carlo_sandbox import SANDBOX_WAREHOUSES


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


# -- issue 14: secrets pasted with whitespace, control characters, MCD_API_ENDPOINT, resources --


def test_secret_with_trailing_newline_is_stripped_and_push_works(mc_conn, monkeypatch, caplog):
    """Issue 14: a key secret pasted with a trailing newline was printed in clear in the task log
    (requests' InvalidHeader). Stripped, it just works, and nothing prints it."""
    import logging

    from monte_carlo_push_provider.utils.sender import RetryPolicy, send_with_retries
    from tests.sandbox.helpers import metadata_body

    set_conn(monkeypatch, mc_conn, lambda c: c.update(password=c["password"] + "\n", login=" " + c["login"] + "\t"))
    hook = MonteCarloHook()
    creds = hook.get_credentials()
    assert creds.ingest_key_secret == "sandbox-ingest-secret" and creds.ingest_key_id == "sandbox-ingest-id"
    with caplog.at_level(logging.DEBUG):
        sent = send_with_retries(hook.get_ingestion_client(), "/ingest/v1/metadata", metadata_body(), creds=creds,
                                 timeout_s=5, policy=RetryPolicy(2), label="batch 1/1")
    assert [p["invocation_id"] for p in mc_conn.pushes()] == [sent.invocation_id]
    assert "sandbox-ingest-secret" not in caplog.text


def test_graphql_secret_with_trailing_newline_works(mc_conn, monkeypatch):
    set_conn(monkeypatch, mc_conn, lambda c: c["extra"].update(graphql_key_secret="sandbox-graphql-secret\r\n"))
    data = MonteCarloHook().graphql("query { getUser { email } }")
    assert (data.get("getUser") or data.get("get_user"))["email"] == "sandbox@example.com"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: c.update(password="sandbox-ingest\n-secret"), "ingestion key secret (connection password"),
        (lambda c: c["extra"].update(graphql_key_secret="abc\x00def-secret"), "GraphQL key secret"),
        (lambda c: c.update(login="sandbox\u200bingest-id"), "ingestion key id"),
    ],
    ids=["newline inside", "NUL", "zero-width space"],
)
def test_control_characters_inside_a_credential_are_refused_by_name(mc_conn, monkeypatch, mutate, field):
    from airflow.sdk.exceptions import AirflowFailException

    from monte_carlo_push_provider.utils.errors import MonteCarloCredentialsError

    conn = set_conn(monkeypatch, mc_conn, mutate)
    with pytest.raises(MonteCarloCredentialsError) as err:
        MonteCarloHook().get_credentials()
    assert isinstance(err.value, AirflowFailException)  # a retry would find it again
    message = str(err.value)
    assert field in message and "HTTP header" in message
    for value in (conn["password"], conn["login"], conn["extra"]["graphql_key_secret"]):
        assert value.strip() not in message and repr(value)[1:-1] not in message


def test_whitespace_only_field_falls_back_to_the_environment(mc_conn, monkeypatch):
    set_conn(monkeypatch, mc_conn, lambda c: c.update(password="  \n"))
    monkeypatch.setenv("MCD_INGEST_TOKEN", "sandbox-ingest-secret\n")
    creds = MonteCarloHook().get_credentials()
    assert creds.ingest_key_secret == "sandbox-ingest-secret"
    assert creds.sources["ingest_key_secret"] == "MCD_INGEST_TOKEN"


def test_credentials_stay_frozen_and_secret_free_in_repr(mc_conn):
    import dataclasses

    creds = MonteCarloHook().get_credentials()
    with pytest.raises(dataclasses.FrozenInstanceError):
        creds.ingest_key_secret = "x"  # type: ignore[misc]
    assert "sandbox-ingest-secret" not in repr(creds) and "sandbox-graphql-secret" not in repr(creds)
    assert creds.secrets == ("sandbox-ingest-secret", "sandbox-graphql-secret")


def test_mcd_api_endpoint_cannot_redirect_pushes(mc_conn, tmp_path):
    """Issue 14: MCD_API_ENDPOINT in the environment silently overrode the connection's endpoint
    inside pycarlo (read at import), sending pushes to the GraphQL host. A fresh process with the
    variable set, as a worker would have it."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    script = (
        "import logging; logging.basicConfig(level=logging.WARNING)\n"
        "from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook\n"
        "from monte_carlo_push_provider.utils.sender import RetryPolicy, send_with_retries\n"
        "from tests.sandbox.helpers import metadata_body\n"
        "hook = MonteCarloHook()\n"
        "client = hook.get_ingestion_client(); hook.get_ingestion_client()\n"
        "print('ENDPOINT', client.session_endpoint)\n"
        "print('ID', send_with_retries(client, '/ingest/v1/metadata', metadata_body(), creds=hook.get_credentials(),"
        " timeout_s=5, policy=RetryPolicy(1), label='b').invocation_id)\n"
    )
    # Another host (nothing listens on the discard port): pycarlo alone would push there and fail.
    env = dict(os.environ, MCD_API_ENDPOINT="http://127.0.0.1:9/graphql", PYTHONPATH=str(REPO),
               AIRFLOW_CONN_MONTE_CARLO_DEFAULT=mc_conn.connection_uri_json("snowflake"))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                         cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"ENDPOINT {mc_conn.ingest_endpoint}" in out.stdout
    [push] = mc_conn.pushes()
    assert f"ID {push['invocation_id']}" in out.stdout
    logs = out.stdout + out.stderr  # the hook logs through Airflow's structlog
    assert logs.count("MCD_API_ENDPOINT=") == 1  # warned once, not per client
    assert "Ignoring it" in logs


def test_verify_resources_against_getuser(mc_conn):
    hook = MonteCarloHook()
    snowflake, lake = SANDBOX_WAREHOUSES["snowflake"], SANDBOX_WAREHOUSES["data-lake"]
    assert hook.verify_resources([(snowflake, "snowflake"), (SANDBOX_WAREHOUSES["databricks"], "databricks")],
                                 log_types=[(snowflake, "snowflake"), (lake, "hive-s3")]) is True
    graphql_calls = mc_conn.stats()["requests"]["/graphql 200"]
    hook.verify_resources([(lake, "data-lake")])
    assert mc_conn.stats()["requests"]["/graphql 200"] == graphql_calls  # cached per hook (per task)


@pytest.mark.parametrize(
    ("pairs", "log_types", "expected"),
    [
        ([("00000000-0000-4000-8000-00000000dead", "snowflake")], [],
         "resource UUID 00000000-0000-4000-8000-00000000dead (pushed with resource_type 'snowflake') is not a warehouse"),
        ([(SANDBOX_WAREHOUSES["snowflake"], "bigquery")], [], "is a SNOWFLAKE warehouse in Monte Carlo, but the push "
         "names resource_type 'bigquery', which needs a BIGQUERY warehouse"),
        ([], [(SANDBOX_WAREHOUSES["redshift"], "hive-s3")], "is a REDSHIFT warehouse in Monte Carlo, but the push "
         "names log_type 'hive-s3', which needs a DATA_LAKE warehouse"),
    ],
    ids=["unknown uuid", "resource_type mismatch", "log_type mismatch"],
)
def test_verify_resources_refuses_before_anything_is_pushed(mc_conn, pairs, log_types, expected):
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException) as err:
        MonteCarloHook().verify_resources(pairs, log_types=log_types)
    assert expected in str(err.value) and "checkpoint 2" in str(err.value)
    assert mc_conn.pushes() == []


def test_verify_resources_is_a_no_op_without_a_graphql_key(mc_conn, monkeypatch):
    set_conn(monkeypatch, mc_conn, lambda c: [c["extra"].pop("graphql_key_id"), c["extra"].pop("graphql_key_secret")])
    monkeypatch.delenv("MCD_ID", raising=False)
    monkeypatch.delenv("MCD_TOKEN", raising=False)
    assert MonteCarloHook().verify_resources([("00000000-0000-4000-8000-00000000dead", "snowflake")]) is False
    assert "/graphql 200" not in mc_conn.stats()["requests"]
