"""Lineage from any Airflow task through Airflow's OpenLineage provider: `airflow dags test` of
tests/dags/listener_openlineage_sql.py (SQLExecuteQueryOperator ``INSERT INTO t2 SELECT a, b FROM
t1`` on the embedded PostgreSQL server) with the listener on, pushing to the sandbox over HTTP.
OpenLineage emission stays disabled (no transport): the listener calls the provider's extraction
itself. Nothing is mocked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monte_carlo_sandbox import SANDBOX_WAREHOUSES
from tests.listeners.conftest import airflow_env, dags_test

pytest.importorskip("airflow.providers.openlineage", reason="the openlineage extra is not installed")

DAG_ID = "listener_openlineage_sql"
DATABASE = "ol_shop"


@pytest.fixture
def warehouse(postgres_server) -> dict[str, str]:
    """``ol_shop`` with t1 (two rows) and an empty t2; env for the ``ol_warehouse`` connection."""
    if not postgres_server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]):
        postgres_server.create_database(DATABASE)
    for statement in (
        "DROP TABLE IF EXISTS t1, t2",
        "CREATE TABLE t1 (a INT, b TEXT)",
        "CREATE TABLE t2 (a INT, b TEXT)",
        "INSERT INTO t1 VALUES (1, 'x'), (2, 'y')",
    ):
        postgres_server.execute(statement, dbname=DATABASE)
    conn = json.dumps({"conn_type": "postgres", "host": postgres_server.host, "port": postgres_server.port,
                       "login": postgres_server.user, "password": postgres_server.password, "schema": DATABASE})
    return {"AIRFLOW_CONN_OL_WAREHOUSE": conn, "namespace": f"postgres://{postgres_server.host}:{postgres_server.port}"}


def _run(sandbox, entry_points, tmp_path: Path, warehouse: dict[str, str], **settings: str):
    env = airflow_env(entry_points, push=True, sandbox=sandbox, state=tmp_path / "state", **settings)
    env["AIRFLOW_CONN_OL_WAREHOUSE"] = warehouse["AIRFLOW_CONN_OL_WAREHOUSE"]
    return dags_test(DAG_ID, env)


def _copy_success(sandbox) -> dict:
    return next(e["event"] for e in sandbox.events("etl_runs")
                if e["event"].get("task_source_id") == "copy" and e["event"]["status"] == "success")


def test_sql_task_reports_inputs_outputs_and_lineage(airflow_db, mc_sandbox_clean, plugin_entry_point, tmp_path,
                                                     warehouse, postgres_server):
    postgres = SANDBOX_WAREHOUSES["postgres"]
    resources = {warehouse["namespace"]: {"uuid": postgres, "resource_type": "postgres"}}
    out = _run(mc_sandbox_clean, plugin_entry_point, tmp_path, warehouse,
               airflow_lineage_resources=json.dumps(resources))
    assert postgres_server.execute("SELECT count(*) FROM t2", dbname=DATABASE) == [(2,)]  # the task really ran

    run = _copy_success(mc_sandbox_clean)
    assert run["inputs"] == [{"asset_type": "TABLE", "role": "INPUT", "fully_qualified_name": "ol_shop:public.t1"}]
    assert run["outputs"] == [{"asset_type": "TABLE", "role": "OUTPUT", "fully_qualified_name": "ol_shop:public.t2"}]

    # The dag run's nested copy of the attempt reports the same run-time inputs/outputs.
    (dag_run,) = [e["event"] for e in mc_sandbox_clean.events("etl_runs") if not e["event"].get("task_source_id")]
    (nested,) = dag_run["task_runs"]
    assert (nested["inputs"], nested["outputs"]) == (run["inputs"], run["outputs"])

    # Table and column lineage t1 -> t2 for the PostgreSQL warehouse the namespace maps to.
    (lineage,) = mc_sandbox_clean.events("lineage")
    assert (lineage["resource_uuid"], lineage["resource_type"], lineage["event_type"]) == (
        postgres, "postgres", "COLUMN_LINEAGE")
    assert lineage["event"] == {
        "destination": {"type": "TABLE", "name": "t2", "database": "ol_shop", "schema": "public"},
        "sources": [{"type": "TABLE", "name": "t1", "database": "ol_shop", "schema": "public", "asset_id": "s0"}],
        "fields": [{"name": "a", "source_fields": [{"asset_id": "s0", "field_name": "a"}]},
                   {"name": "b", "source_fields": [{"asset_id": "s0", "field_name": "b"}]}],
    }
    # Every invocation id (runs, metadata, lineage) is in the log, where a user looks for it.
    logs = out.stdout + out.stderr
    for push in mc_sandbox_clean.pushes():
        assert push["invocation_id"] in logs
    assert f"invocation_id={lineage['invocation_id']}" in logs
    # ...and what OpenLineage reported, with how long reading it took (quoted in the docs).
    (reported,) = [line for line in logs.splitlines() if "OpenLineage reports" in line]
    assert "1 input(s), 1 output(s) for listener_openlineage_sql.copy" in reported
    print(reported)

    # A second run on this host pushes the runs again but not the unchanged lineage (a day's marker).
    _run(mc_sandbox_clean, plugin_entry_point, tmp_path, warehouse, airflow_lineage_resources=json.dumps(resources))
    assert len([e for e in mc_sandbox_clean.events("etl_runs") if e["event"].get("task_source_id") == "copy"]) == 4
    assert len(mc_sandbox_clean.events("lineage")) == 1


def test_mapping_by_connection_id(airflow_db, mc_sandbox_clean, plugin_entry_point, tmp_path, warehouse):
    """A task's ``conn_id`` may stand for its warehouse in the mapping (no host:port to spell)."""
    snowflake = SANDBOX_WAREHOUSES["snowflake"]
    _run(mc_sandbox_clean, plugin_entry_point, tmp_path, warehouse, airflow_lineage_resources=json.dumps(
        {"ol_warehouse": {"uuid": snowflake, "resource_type": "snowflake"}}))
    (lineage,) = mc_sandbox_clean.events("lineage")
    assert lineage["resource_uuid"] == snowflake
    assert lineage["event"]["destination"]["name"] == "t2"


def test_unmapped_namespace_gets_run_inputs_outputs_only(airflow_db, mc_sandbox_clean, plugin_entry_point, tmp_path,
                                                         warehouse):
    postgres = SANDBOX_WAREHOUSES["postgres"]
    _run(mc_sandbox_clean, plugin_entry_point, tmp_path, warehouse, airflow_lineage_resources=json.dumps(
        {"postgres://elsewhere:5432": {"uuid": postgres, "resource_type": "postgres"}}))
    run = _copy_success(mc_sandbox_clean)
    assert [r["fully_qualified_name"] for r in run["inputs"]] == ["ol_shop:public.t1"]
    assert [r["fully_qualified_name"] for r in run["outputs"]] == ["ol_shop:public.t2"]
    assert mc_sandbox_clean.events("lineage") == []


def test_openlineage_setting_off(airflow_db, mc_sandbox_clean, plugin_entry_point, tmp_path, warehouse):
    postgres = SANDBOX_WAREHOUSES["postgres"]
    _run(mc_sandbox_clean, plugin_entry_point, tmp_path, warehouse, airflow_openlineage="False",
         airflow_lineage_resources=json.dumps({warehouse["namespace"]: {"uuid": postgres, "resource_type": "postgres"}}))
    run = _copy_success(mc_sandbox_clean)  # the runs still go out...
    assert "inputs" not in run and "outputs" not in run  # ...without what only OpenLineage knows
    assert mc_sandbox_clean.events("lineage") == []


def test_extraction_failure_leaves_the_task_untouched(airflow_db, mc_sandbox_clean, plugin_entry_point, tmp_path,
                                                      warehouse):
    """An OpenLineage extractor raises where the provider does not catch it (constructing it), with a
    secret in its message: the task's success stands, its run is reported without OpenLineage
    inputs/outputs, and one scrubbed warning says why."""
    env = airflow_env(plugin_entry_point, push=True, sandbox=mc_sandbox_clean, state=tmp_path / "state")
    env["AIRFLOW_CONN_OL_WAREHOUSE"] = warehouse["AIRFLOW_CONN_OL_WAREHOUSE"]
    env["AIRFLOW__OPENLINEAGE__EXTRACTORS"] = "tests.listeners.failing_extractor.FailingExtractor"
    out = dags_test(DAG_ID, env)
    run = _copy_success(mc_sandbox_clean)
    assert "inputs" not in run
    logs = out.stdout + out.stderr
    assert logs.count("OpenLineage extraction of listener_openlineage_sql.copy failed") == 1
    assert "password=***" in logs.split("OpenLineage extraction of listener_openlineage_sql.copy failed")[1][:300]
    assert "hunter2" not in logs


def test_collector_and_push_operator_report_their_inputs_outputs(airflow_db, mc_sandbox_clean, plugin_entry_point,
                                                                  tmp_path, warehouse):
    """Our own operators answer OpenLineage: the collector read t1 and t2 (in the hook's
    namespace), the push operator pushed them; both wrote the Monte Carlo warehouse's metadata."""
    postgres = SANDBOX_WAREHOUSES["postgres"]
    env = airflow_env(plugin_entry_point, push=True, sandbox=mc_sandbox_clean, state=tmp_path / "state",
                      airflow_lineage_resources=json.dumps(
                          {warehouse["namespace"]: {"uuid": postgres, "resource_type": "postgres"}}))
    env["AIRFLOW_CONN_OL_WAREHOUSE"] = warehouse["AIRFLOW_CONN_OL_WAREHOUSE"]
    env["MC_OL_RESOURCE_UUID"] = postgres
    dags_test("listener_openlineage_collect", env)
    assert len(mc_sandbox_clean.events("metadata")) == 2  # the push really pushed t1 and t2

    runs = {e["event"]["task_source_id"]: e["event"] for e in mc_sandbox_clean.events("etl_runs")
            if e["event"].get("task_source_id") and e["event"]["status"] == "success"}
    tables = [{"asset_type": "TABLE", "role": "INPUT", "fully_qualified_name": f"ol_shop:public.{t}"}
              for t in ("t1", "t2")]
    monte_carlo = [{"asset_type": "DATASET", "role": "OUTPUT", "fully_qualified_name": f"montecarlo/{postgres}/metadata"}]
    assert (runs["collect"]["inputs"], runs["collect"]["outputs"]) == (tables, monte_carlo)
    assert (runs["push"]["inputs"], runs["push"]["outputs"]) == (tables, monte_carlo)
    assert mc_sandbox_clean.events("lineage") == []  # reading a catalog is no table lineage


def test_slow_extraction_is_cut_at_the_bound(airflow_db, mc_sandbox_clean, plugin_entry_point, tmp_path, warehouse):
    """An extractor taking 5 s against a 0.5 s bound: the run goes out without OpenLineage
    inputs/outputs, one warning names the setting, the task stays green."""
    env = airflow_env(plugin_entry_point, push=True, sandbox=mc_sandbox_clean, state=tmp_path / "state",
                      airflow_openlineage_timeout_s="0.5")
    env["AIRFLOW_CONN_OL_WAREHOUSE"] = warehouse["AIRFLOW_CONN_OL_WAREHOUSE"]
    env["AIRFLOW__OPENLINEAGE__EXTRACTORS"] = "tests.listeners.failing_extractor.SlowExtractor"
    out = dags_test(DAG_ID, env)
    run = _copy_success(mc_sandbox_clean)
    assert "inputs" not in run
    logs = out.stdout + out.stderr
    assert "OpenLineage extraction of listener_openlineage_sql.copy took longer than 0.5 s" in logs
    assert "airflow_openlineage_timeout_s" in logs
