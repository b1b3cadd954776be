"""MonteCarloPushedDataSensor and the visibility logic it shares with its trigger, against the
sandbox over real HTTP (pycarlo in poke mode). Sandbox visibility delays stand in for Monte
Carlo's processing time; poll intervals are fractions of a second so the suite stays fast.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from airflow.sdk.exceptions import AirflowSensorTimeout, AirflowSkipException, TaskDeferred

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
from monte_carlo_push_provider.sensors.checker import VisibilityChecker, run_sync
from monte_carlo_push_provider.sensors.expectations import Expectations, build_expectations, parse_edges
from monte_carlo_push_provider.sensors.monte_carlo import DEFERRAL_GRACE, MonteCarloPushedDataSensor
from monte_carlo_push_provider.triggers.monte_carlo import MonteCarloVisibilityTrigger
from monte_carlo_push_provider.utils.errors import MonteCarloConfigError, MonteCarloPushError
from tests.conftest import make_context
from tests.sensors.pushes import DAILY, EXACT, ORDERS, push_all


def sensor(**kwargs) -> MonteCarloPushedDataSensor:
    kwargs.setdefault("poke_interval", 0.2)
    kwargs.setdefault("timeout", 20)
    return MonteCarloPushedDataSensor(task_id=kwargs.pop("task_id", "confirm"), **kwargs)


def check_once(expect: Expectations):
    hook = MonteCarloHook()
    return run_sync(
        VisibilityChecker(expect).check(),
        lambda r: hook.graphql(r.query, r.variables, retry=False, not_found_ok=r.not_found_ok),
    )


def test_poke_mode_waits_until_everything_pushed_is_visible(mc_conn, capfd):
    mc_conn.set_visibility(metadata=1.0, lineage=1.5, query_logs=2.0)
    result = push_all()
    started = time.monotonic()
    out = sensor(push_result=result, deferrable=False, **EXACT).execute(make_context(task_id="confirm"))
    waited = time.monotonic() - started

    assert out["status"] == "visible" and out["deferred"] is False
    assert out["invocation_ids"] == result["invocation_ids"]
    assert out["visibility"]["counts"] == {
        "metadata": {"expected": 2, "visible": 2},
        "lineage": {"expected": 1, "visible": 1},
        "query_logs": {"expected": 1, "visible": 1},
    }
    assert out["polls"] >= 3 and waited >= 1.5  # it really waited for the slowest flow
    log = capfd.readouterr().out
    # each poll says, per flow, what it is still waiting for and how long that flow takes
    assert f"query_logs {DAILY}: Monte Carlo has not recorded this push yet" in log
    assert "query_logs 0/1 confirmed (typically 15-20 minutes, up to an hour)" in log
    assert "Monte Carlo shows this push" in log


def test_poke_timeout_names_missing_tables_and_invocation_ids(mc_conn):
    mc_conn.set_visibility(query_logs=600)
    result = push_all()
    query_ids = [b["invocation_id"] for b in result["batches"] if b["kind"] == "query_logs"]
    with pytest.raises(AirflowSensorTimeout) as err:
        sensor(push_result=result, query_tables=[DAILY], deferrable=False, timeout=1, poke_interval=0.3).execute(
            make_context(task_id="confirm")
        )
    message = str(err.value)
    assert f"query_logs (typically visible after 15-20 minutes, up to an hour) missing for: {DAILY}" in message
    assert f"invocation_ids: {', '.join(query_ids)}" in message
    for inv in result["invocation_ids"]:  # all of them, to quote to support
        assert inv in message
    assert "metadata" not in message.split("Details:")[0].split("\n", 1)[1]  # metadata was visible: not named
    assert "checkpoint 5" in message


def test_soft_fail_timeout_skips_with_the_same_details(mc_conn):
    mc_conn.set_visibility(metadata=600)
    result = push_all()
    with pytest.raises(AirflowSkipException) as err:
        sensor(push_result=result, kinds=["metadata"], deferrable=False, timeout=0.5, soft_fail=True).execute(
            make_context(task_id="confirm")
        )
    assert ORDERS in str(err.value) and DAILY in str(err.value)


def test_fields_row_count_and_column_lineage_are_checked_not_just_existence(mc_conn):
    push_all()
    expect, _ = build_expectations(
        tables=[{"full_table_id": ORDERS, "fields": ["id", "missing_col"], "row_count": 43}],
        lineage_edges=[{"destination": DAILY, "sources": [ORDERS], "columns": {"day": [(ORDERS, "amount")]}}],
        default_resource_uuid=MonteCarloHook().resource_uuid,
    )
    status = check_once(expect)
    reasons = [str(m) for m in status.missing]
    assert f"metadata {ORDERS}: 1 of 2 field(s) not visible yet: missing_col" in reasons
    assert any("column lineage not visible yet" in r and "{day}" in r for r in reasons), reasons

    expect.tables = [t.__class__(ORDERS, t.resource_uuid, ("id",), 43) for t in expect.tables]
    status = check_once(expect)
    assert f"metadata {ORDERS}: row count 43 not visible yet (latest: 42" in "; ".join(str(m) for m in status.missing)

    exact, _ = build_expectations(**EXACT, default_resource_uuid=MonteCarloHook().resource_uuid)
    assert check_once(exact).done


def test_lineage_without_metadata_uses_push_table_mcons(mc_conn):
    # Lineage pushed alone: getTable knows neither table, the node is found by its push MCON.
    from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
    from tests.sensors.pushes import manifests

    result = MonteCarloPushOperator(task_id="push", manifests=[manifests()[1]], min_push_interval=None).execute(
        make_context(task_id="push")
    )
    expect, notes = build_expectations(result)
    # the push result carries the pushed edges, so the exact sources are checked
    assert [e.destination for e in expect.edges] == [DAILY] and expect.edges[0].sources == (ORDERS,)
    assert not any("lineage destinations only" in n for n in notes)
    assert check_once(expect).done
    wrong, _ = build_expectations(lineage_edges=[(DAILY, ["ANALYTICS:PUBLIC.other"])],
                                  default_resource_uuid=MonteCarloHook().resource_uuid)
    assert [str(m) for m in check_once(wrong).missing] == [
        f"lineage {DAILY} <- ANALYTICS:PUBLIC.other: table edge(s) not visible yet"
    ]


def test_deferrable_by_default_and_trigger_carries_no_secret(mc_conn):
    mc_conn.set_visibility(metadata=600)
    result = push_all()
    task = sensor(push_result=result, timeout=timedelta(minutes=45), poke_interval=60)
    assert task.deferrable is True
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(make_context(task_id="confirm"))
    trigger = deferred.value.trigger
    assert isinstance(trigger, MonteCarloVisibilityTrigger)
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout == timedelta(minutes=45) + DEFERRAL_GRACE
    classpath, kwargs = trigger.serialize()
    assert classpath == "monte_carlo_push_provider.triggers.monte_carlo.MonteCarloVisibilityTrigger"
    assert before + 45 * 60 <= kwargs["deadline"] <= time.time() + 45 * 60
    assert kwargs["poll_interval"] == 60
    text = json.dumps(kwargs)
    assert mc_conn.graphql_key_secret not in text and mc_conn.ingest_key_secret not in text
    assert {t["full_table_id"] for t in kwargs["expectations"]["tables"]} == {ORDERS, DAILY}


def test_deferrable_returns_at_once_when_already_visible(mc_conn):
    result = push_all()
    out = sensor(push_result=result, kinds=["metadata", "lineage"]).execute(make_context(task_id="confirm"))
    assert out["status"] == "visible" and out["kinds"] == ["metadata", "lineage"]


def test_execute_complete_timeout_event_names_missing_and_invocation_ids(mc_conn):
    result = push_all()
    task = sensor(push_result=result, query_tables=[DAILY])
    event = {
        "status": "timeout", "polls": 40, "waited_s": 2700.0,
        "visibility": {"missing": [f"query_logs {DAILY}: no query between a and b visible yet"],
                       "missing_tables": {"query_logs": [DAILY]}, "counts": {}},
    }
    with pytest.raises(AirflowSensorTimeout) as err:
        task.execute_complete(make_context(task_id="confirm"), event)
    message = str(err.value)
    assert "after 45.0 min" in message and f"missing for: {DAILY}" in message
    assert all(inv in message for inv in result["invocation_ids"])

    with pytest.raises(MonteCarloPushError, match="key refused") as err:
        task.execute_complete(make_context(task_id="confirm"), {"status": "error", "message": "key refused"})
    assert err.value.invocation_ids == result["invocation_ids"]
    # A refused key or document from the triggerer fails the task at once (no Airflow retry).
    from monte_carlo_push_provider.utils.errors import MonteCarloRejectedError

    with pytest.raises(MonteCarloRejectedError, match="checkpoint 1"):
        task.execute_complete(make_context(task_id="confirm"), {"status": "error", "message": "checkpoint 1", "fatal": True})
    ok = task.execute_complete(make_context(task_id="confirm"), {"status": "success", "polls": 3, "waited_s": 9.5})
    assert ok["status"] == "visible" and ok["deferred"] is True and ok["polls"] == 4


def test_refused_key_fails_at_once_in_poke_mode(mc_conn):
    mc_conn.use(graphql_key_secret="wrong-secret-xyz")
    with pytest.raises(MonteCarloPushError, match="checkpoint 1") as err:
        sensor(tables=[ORDERS], deferrable=False).execute(make_context(task_id="confirm"))
    assert "wrong-secret-xyz" not in str(err.value)


def test_transient_failures_are_retried_then_fail(mc_conn):
    mc_conn.set_faults(fail_503=1.0, graphql=True, seed=1)
    task = sensor(tables=[ORDERS], deferrable=False, poke_interval=0.05, max_consecutive_errors=3)
    with pytest.raises(MonteCarloPushError, match="3 checks in a row failed.*503"):
        task.execute(make_context(task_id="confirm"))
    assert task._polls == 3


def test_argument_errors_say_the_fix(mc_conn):
    with pytest.raises(ValueError, match="pass push_result"):
        MonteCarloPushedDataSensor(task_id="s")
    with pytest.raises(MonteCarloConfigError, match="<database>:<schema>.<table>"):
        build_expectations(tables=["PUBLIC.orders"])
    with pytest.raises(MonteCarloConfigError, match="query_logs"):
        build_expectations(tables=[ORDERS], kinds=["query_logs"])
    with pytest.raises(MonteCarloConfigError, match="MonteCarloPushOperator"):
        build_expectations({"not": "a push result"})


def test_expectations_use_push_result_details_when_present():
    # The richer push-result shape proposed for MonteCarloPushOperator (see docs/sensor.md).
    push_result = {
        "status": "success", "started_at": "2026-11-25T10:00:00Z", "invocation_ids": ["i1", "i2", "i3"],
        "batches": [
            {"kind": "metadata", "resource_uuid": "r1", "invocation_id": "i1"},
            {"kind": "lineage", "resource_uuid": "r1", "invocation_id": "i2"},
            {"kind": "query_logs", "resource_uuid": "r1", "invocation_id": "i3"},
        ],
        "assets": {
            "metadata": {"count": 1, "sample": [ORDERS],
                         "tables": [{"full_table_id": ORDERS, "fields": ["id"], "row_count": 5}]},
            "lineage": {"count": 1, "sample": [DAILY],
                        "edges": [{"destination": DAILY, "sources": [ORDERS], "columns": [["total", ORDERS, "amount"]]}]},
            "query_logs": {"count": 1, "sample": [], "window": {"start": "2026-11-25T09:00:00Z", "end": "2026-11-25T10:00:00Z"},
                           "tables": [DAILY]},
        },
    }
    expect, notes = build_expectations(push_result, default_resource_uuid="conn")
    assert notes == []
    assert expect.tables[0].fields == ("id",) and expect.tables[0].row_count == 5 and expect.tables[0].resource_uuid == "r1"
    assert expect.edges[0].columns == (("total", ORDERS, "amount"),)
    assert expect.query_window == ("2026-11-25T09:00:00Z", "2026-11-25T10:00:00Z")
    assert expect.metrics_since == "2026-11-25T09:00:00Z"
    assert expect.invocation_ids == {"metadata": ["i1"], "lineage": ["i2"], "query_logs": ["i3"]}
    assert Expectations.from_dict(expect.to_dict()) == expect
    # A column mapping implies its table edge.
    assert parse_edges([{"destination": DAILY, "columns": {"total": [(ORDERS, "amount")]}}])[0].sources == (ORDERS,)


def test_asset_uri_of_a_non_ascii_table_is_percent_encoded():
    """Airflow records asset events only for ASCII URIs: a table named in any other script used to
    fail the sensor task after it had confirmed the push (found running the Databricks example)."""
    from airflow.sdk import Asset

    from monte_carlo_push_provider.sensors.monte_carlo import table_asset_uri

    assert table_asset_uri("u", "ANALYTICS:PUBLIC.orders") == "x-monte-carlo://u/ANALYTICS:PUBLIC.orders"
    assert table_asset_uri(None, 'sales:Raw Data.we`ird; "x"') == 'x-monte-carlo://any/sales:Raw Data.we`ird; "x"'
    uri = table_asset_uri("u", "sales:raw.Umsätze_€_100%")
    assert uri == "x-monte-carlo://u/sales:raw.Ums%C3%A4tze_%E2%82%AC_100%25" and uri.isascii()
    assert Asset(uri=uri).uri == uri
