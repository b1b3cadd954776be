"""The sensor confirms *this* push, with real Airflow (dag.test(): the deferrable sensor's trigger
runs inline) against the sandbox over HTTP.

Push 1 is visible; push 2 sends identical content (same tables, fields, row counts, lineage and
query) while the sandbox holds it back. Everything push 2 would show is already there from push
1, so a sensor that looks at data alone goes green at once: this one must wait for push 2's own
invocation_ids, time out while it is held, and succeed once it is released. A quiet hour (the
push sent nothing) passes at once even with ``query_tables`` set.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time

from tests.conftest import DAGS_FOLDER
from tests.sensors.pushes import DAILY, ORDERS, push_all


def load(dag_id: str):
    path = DAGS_FOLDER / "monte_carlo_sensor_this_push.py"
    spec = importlib.util.spec_from_file_location("monte_carlo_sensor_this_push", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return next(d for d in (module.short, module.long, module.quiet) if d.dag_id == dag_id)


def xcoms(dag, run) -> dict[str, dict]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter(
            XComModel.dag_id == dag.dag_id, XComModel.run_id == run.run_id, XComModel.key == "return_value"
        )
        return {x.task_id: json.loads(x.value) if isinstance(x.value, str) else x.value for x in rows}


def states(run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def asset_events(dag, run) -> list:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = session.query(AssetEvent).filter(AssetEvent.source_dag_id == dag.dag_id,
                                                  AssetEvent.source_run_id == run.run_id).all()
        return [(e.asset.uri, e.extra) for e in events]


def test_identical_push_held_back_is_not_confirmed_until_released(airflow_db, mc_conn, capfd):
    first = push_all()  # push 1: visible (no delay)
    assert {p["invocation_id"] for p in mc_conn.pushes()} == set(first["invocation_ids"])

    # Push 2 of identical content, held back: the sensor must not succeed within its timeout.
    mc_conn.hold()
    short = load("monte_carlo_this_push_short")
    run = short.test()
    assert states(run) == {"collect": "success", "push": "success", "confirm": "failed"}
    held = mc_conn.holds()["held"]
    second_ids = xcoms(short, run)["push"]["invocation_ids"]
    assert sorted(held) == sorted(second_ids) and len(second_ids) == 3
    log = capfd.readouterr().out
    assert "Monte Carlo does not show all of this push" in log
    assert f"metadata {ORDERS}: Monte Carlo shows it from another push (ingestInvocationId {first['batches'][0]['invocation_id']})" in log
    assert all(inv in log for inv in second_ids)  # the handles to quote to support
    assert asset_events(short, run) == []

    # Push 3, identical again and held; released while its sensor waits: confirmed then.
    long = load("monte_carlo_this_push_long")

    def release_when_held() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(mc_conn.holds()["held"]) < len(held) + 3:
            time.sleep(0.2)
        time.sleep(3)  # the sensor polls (and waits) meanwhile
        mc_conn.release()

    releaser = threading.Thread(target=release_when_held, daemon=True)
    releaser.start()
    started = time.monotonic()
    run = long.test()
    releaser.join(5)
    assert states(run) == {"collect": "success", "push": "success", "confirm": "success"}
    values = xcoms(long, run)
    confirm, push = values["confirm"], values["push"]
    assert confirm["status"] == "visible" and confirm["deferred"] is True and confirm["polls"] >= 3
    assert time.monotonic() - started >= 3
    assert confirm["invocation_ids"] == push["invocation_ids"]
    metadata_id = next(b["invocation_id"] for b in push["batches"] if b["kind"] == "metadata")
    proofs = {(c["kind"], c["item"]): c for c in confirm["visibility"]["confirmed"]}
    assert proofs[("metadata", ORDERS)]["proof"] == "ingestInvocationId"
    assert proofs[("metadata", ORDERS)]["invocation_id"] == metadata_id
    assert proofs[("query_logs", DAILY)]["proof"].startswith("pushEvents QUERY_LOGS: lastInvocationId is this push's")
    flows = {f["kind"]: f for f in confirm["visibility"]["flows"]}
    assert all(f["proven"] for f in flows.values()) and set(flows) == {"metadata", "lineage", "query_logs"}

    # Airflow-native: one asset event per confirmed table, carrying this push's invocation_ids.
    events = dict(asset_events(long, run))
    resource = push["batches"][0]["resource_uuid"]
    assert set(events) == {f"x-monte-carlo://{resource}/{ORDERS}", f"x-monte-carlo://{resource}/{DAILY}"}
    orders = events[f"x-monte-carlo://{resource}/{ORDERS}"]
    assert orders["invocation_ids"] == [metadata_id] and orders["ingest_invocation_id"] == metadata_id
    assert sorted(events[f"x-monte-carlo://{resource}/{DAILY}"]["kinds"]) == ["lineage", "metadata", "query_logs"]
    # The extra link opens the confirmed tables in Monte Carlo.
    assert confirm["monte_carlo_url"] == "https://getmontecarlo.com/assets?search=ANALYTICS%3APUBLIC"


def test_quiet_hour_with_query_tables_succeeds_at_once(airflow_db, mc_conn, capfd):
    mc_conn.set_visibility(metadata=600, lineage=600, query_logs=600)  # nothing would ever show
    dag = load("monte_carlo_this_push_quiet_hour")
    started = time.monotonic()
    run = dag.test()
    assert states(run) == {"collect": "success", "push": "success", "confirm": "success"}
    confirm = xcoms(dag, run)["confirm"]
    assert confirm["status"] == "nothing_pushed" and confirm["polls"] == 0 and confirm["deferred"] is False
    assert "nothing pushed in this run: nothing to confirm" in capfd.readouterr().out
    assert mc_conn.pushes() == [] and mc_conn.stats()["requests"] == {}  # not one GraphQL call
    assert time.monotonic() - started < 45
