"""MonteCarloVisibilityTrigger: serialize() round trip, and real polling against the sandbox with
httpx (success after the sandbox's visibility delay, timeout naming what is missing, errors)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from monte_carlo_push_provider.sensors.expectations import build_expectations
from monte_carlo_push_provider.triggers.monte_carlo import CLASSPATH, MonteCarloVisibilityTrigger
from tests.sensors.pushes import DAILY, EXACT, ORDERS, push_all


def make_trigger(expectations: dict, *, deadline_in: float = 20, **kwargs) -> MonteCarloVisibilityTrigger:
    kwargs.setdefault("poll_interval", 0.2)
    return MonteCarloVisibilityTrigger(expectations=expectations, deadline=time.time() + deadline_in, **kwargs)


def run(trigger: MonteCarloVisibilityTrigger) -> dict:
    async def first_event():
        return await anext(trigger.run())

    return asyncio.run(asyncio.wait_for(first_event(), 30)).payload


def exact_expectations(resource_uuid: str, push_result: dict | None = None) -> dict:
    expect, _ = build_expectations(push_result, **EXACT, default_resource_uuid=resource_uuid)
    return expect.to_dict()


def test_serialize_round_trips_through_airflow_serde():
    from airflow.sdk._shared.module_loading import import_string
    from airflow.sdk.serde import deserialize, serialize

    expect, _ = build_expectations(**EXACT, default_resource_uuid="r1")
    trigger = MonteCarloVisibilityTrigger(
        expectations=expect.to_dict(), monte_carlo_conn_id="mc", poll_interval=30, deadline=1_900_000_000.5,
        max_consecutive_errors=3, started_at=1_899_997_300.0,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == CLASSPATH == "monte_carlo_push_provider.triggers.monte_carlo.MonteCarloVisibilityTrigger"
    # What the task runner and dag.test() do with it: serde encode/decode, import, instantiate.
    rebuilt = import_string(classpath)(**deserialize(serialize(kwargs)))
    assert rebuilt.serialize() == (classpath, kwargs)
    assert rebuilt.deadline == 1_900_000_000.5 and rebuilt.poll_interval == 30.0 and rebuilt.monte_carlo_conn_id == "mc"
    json.dumps(kwargs)  # plain JSON: nothing Airflow-specific inside


def test_polls_until_visible_then_succeeds(mc_conn):
    mc_conn.set_visibility(metadata=1.0, lineage=1.0, query_logs=1.5)
    result = push_all()
    payload = run(make_trigger(exact_expectations(mc_conn_resource(), result)))
    assert payload["status"] == "success", payload
    assert payload["polls"] >= 2 and payload["waited_s"] >= 1.0
    assert payload["visibility"]["missing"] == []
    assert payload["visibility"]["counts"]["query_logs"] == {"expected": 1, "visible": 1}


def test_timeout_event_names_what_is_missing(mc_conn):
    mc_conn.set_visibility(query_logs=600)
    result = push_all()
    payload = run(make_trigger(exact_expectations(mc_conn_resource(), result), deadline_in=0.8))
    assert payload["status"] == "timeout"
    assert payload["visibility"]["missing_tables"] == {"query_logs": [DAILY]}
    assert payload["visibility"]["counts"]["metadata"] == {"expected": 2, "visible": 2}
    assert payload["polls"] >= 2


def test_refused_key_is_an_error_event_without_the_secret(mc_conn):
    mc_conn.use(graphql_key_secret="not-the-secret-xyz")
    payload = run(make_trigger(exact_expectations(mc_conn_resource())))
    assert payload["status"] == "error" and payload["polls"] == 1
    assert "refused key" in payload["message"] and "(401" in payload["message"] and payload["fatal"] is True
    assert "not-the-secret-xyz" not in json.dumps(payload)


def test_repeated_transient_failures_end_in_an_error_event(mc_conn):
    mc_conn.set_faults(fail_503=1.0, graphql=True, seed=1)
    payload = run(make_trigger({"tables": [{"full_table_id": ORDERS}]}, max_consecutive_errors=3, poll_interval=0.05))
    assert payload["status"] == "error" and payload["polls"] == 3
    assert "3 polls in a row failed" in payload["message"] and "503" in payload["message"]


def mc_conn_resource() -> str:
    from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook

    return MonteCarloHook().resource_uuid


@pytest.mark.parametrize("missing_key", ["graphql_key_id"])
def test_missing_graphql_key_is_an_error_event(mc_conn, missing_key, monkeypatch):
    monkeypatch.delenv("MCD_ID", raising=False)
    mc_conn.use(**{missing_key: None})
    payload = run(make_trigger({"tables": [{"full_table_id": ORDERS}]}))
    assert payload["status"] == "error" and "GraphQL key id" in payload["message"]
