"""The listener end to end: `airflow dags test` of tests/dags/listener_chain_retry.py (extract ->
transform -> load, transform failing once) with the plugin loaded from its entry point, pushing
to the sandbox over HTTP. Nothing is mocked."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from monte_carlo_sandbox import SANDBOX_WAREHOUSES
from tests.listeners.conftest import AIRFLOW_CONTAINER, airflow_env, dags_test

DAG_ID = "listener_chain_retry"
BASE_URL = "http://airflow.example.com:8080"


def _runs(sandbox):
    return [e for e in sandbox.events("etl_runs")]


def test_dags_test_pushes_job_and_runs(airflow_db, mc_sandbox_clean, plugin_entry_point, tmp_path: Path):
    postgres = SANDBOX_WAREHOUSES["postgres"]
    env = airflow_env(plugin_entry_point, push=True, sandbox=mc_sandbox_clean, state=tmp_path / "state",
                      airflow_lineage_resources=json.dumps(
                          {"postgres://warehouse:5432": {"uuid": postgres, "resource_type": "postgres"}}))
    env["MC_LISTENER_FAIL_ONCE"] = str(tmp_path / "failed_once")
    out = dags_test(DAG_ID, env)
    assert (tmp_path / "failed_once").exists()  # transform really failed once

    # -- metadata: the job, its DAG group, three tasks with upstream ids --------------------------
    metadata = mc_sandbox_clean.events("etl_metadata")
    assert len(metadata) == 1, [m["event"] for m in metadata]  # pushed once, not once per task run
    assert metadata[0]["resource_uuid"] == AIRFLOW_CONTAINER and metadata[0]["resource_type"] == "airflow"
    job = metadata[0]["event"]["etl_asset"]
    assert job["job_source_id"] == DAG_ID
    assert job["group"]["group_type"] == "DAG" and job["group"]["source_id"] == DAG_ID
    assert job["job_url"] == f"{BASE_URL}/dags/{DAG_ID}"
    assert job["schedule"]["kind"] == "cron" and job["schedule"]["cron_expression"] == "0 6 * * *"
    assert job["owner"]["primary_name"] == "data-eng"
    assert job["properties"] == [{"key": "listener"}, {"key": "test"}]
    assert job["description"] == "three tasks in a chain; transform fails once"
    tasks = {t["task_source_id"]: t for t in job["tasks"]}
    assert set(tasks) == {"extract", "transform", "load"}
    assert tasks["extract"].get("upstream_task_source_ids", []) == []
    assert tasks["transform"]["upstream_task_source_ids"] == ["extract"]
    assert tasks["load"]["upstream_task_source_ids"] == ["transform"]
    assert {t["task_type"] for t in tasks.values()} == {"_PythonDecoratedOperator"}
    # Airflow assets as declaration-time inputs/outputs.
    assert tasks["transform"]["inputs"] == [{"asset_type": "FILE", "role": "INPUT",
                                             "fully_qualified_name": "s3://raw/orders.csv"}]
    assert tasks["load"]["outputs"] == [{"asset_type": "TABLE", "role": "OUTPUT",
                                         "fully_qualified_name": "analytics:public.orders"}]

    # -- runs: every attempt's transitions from the task process, the run from dags test --------
    events = [e["event"] for e in _runs(mc_sandbox_clean)]
    task_events = defaultdict(list)
    for e in events:
        if e.get("task_source_id"):
            task_events[(e["task_source_id"], e["attempt_number"])].append(e["status"])
    assert task_events == {
        ("extract", 1): ["in_progress", "success"],
        ("transform", 1): ["in_progress", "up_for_retry"],
        ("transform", 2): ["in_progress", "success"],
        ("load", 1): ["in_progress", "success"],
    }
    retry = next(e for e in events if e.get("task_source_id") == "transform" and e["status"] == "up_for_retry")
    # Airflow's own task log shows the exception as raised; what leaves for Monte Carlo is scrubbed.
    assert "hunter2" not in str(events)
    assert retry["error"]["message"] == "RuntimeError: warehouse refused: password=*** for user etl"
    assert retry["error"]["retryable"] is True
    second = next(e for e in events if e.get("task_source_id") == "transform" and e["attempt_number"] == 2)
    assert second["trigger"] == "RETRY"
    assert second["parent_attempt_run_source_id"] == retry["run_source_id"]
    assert second["run_url"].startswith(f"{BASE_URL}/dags/{DAG_ID}/runs/") and second["run_url"].endswith(
        "/tasks/transform?try_number=2"
    )

    # ...and as run-time inputs/outputs of the finished attempts.
    loaded = next(e for e in events if e.get("task_source_id") == "load" and e["status"] == "success")
    assert loaded["outputs"] == [{"asset_type": "TABLE", "role": "OUTPUT", "fully_qualified_name": "analytics:public.orders"}]
    transformed = next(e for e in events if e.get("task_source_id") == "transform" and e["status"] == "success")
    assert [r["fully_qualified_name"] for r in transformed["inputs"]] == ["s3://raw/orders.csv"]
    assert "inputs" not in second  # in_progress: nothing read yet

    # Table lineage the assets declare, pushed once with the metadata to the mapped warehouse.
    (lineage,) = mc_sandbox_clean.events("lineage")
    assert (lineage["resource_uuid"], lineage["resource_type"], lineage["event_type"]) == (postgres, "postgres", "LINEAGE")
    assert lineage["event"]["destination"] == {"type": "TABLE", "name": "orders", "database": "analytics",
                                               "schema": "public"}
    assert [s["name"] for s in lineage["event"]["sources"]] == ["orders_staging"]

    runs = [e for e in events if not e.get("task_source_id")]
    assert len(runs) == 1
    run = runs[0]
    assert run["status"] == "success" and run["trigger"] == "MANUAL"
    assert run["start_time"] <= run["end_time"]
    nested = {t["task_source_id"]: t for t in run["task_runs"]}
    assert {k: (v["status"], v["attempt_number"]) for k, v in nested.items()} == {
        "extract": ("success", 1),
        "transform": ("success", 2),
        "load": ("success", 1),
    }
    # The invocation ids are in the log, where a user looks for them.
    for push in mc_sandbox_clean.pushes():
        assert push["invocation_id"] in out.stdout + out.stderr


def test_second_run_of_an_unchanged_dag_sends_no_metadata(airflow_db, mc_sandbox_clean, plugin_entry_point,
                                                          tmp_path: Path):
    env = airflow_env(plugin_entry_point, push=True, sandbox=mc_sandbox_clean, state=tmp_path / "state")
    dags_test(DAG_ID, env)
    assert len(mc_sandbox_clean.events("etl_metadata")) == 1
    runs_after_first = len(mc_sandbox_clean.events("etl_runs"))
    dags_test(DAG_ID, env)  # a new process: the fingerprint on disk says the job is known
    assert len(mc_sandbox_clean.events("etl_metadata")) == 1
    assert len(mc_sandbox_clean.events("etl_runs")) > runs_after_first


def test_setting_off_sends_nothing(airflow_db, mc_sandbox_clean, plugin_entry_point, tmp_path: Path):
    env = airflow_env(plugin_entry_point, push=False, sandbox=mc_sandbox_clean, state=tmp_path / "state")
    dags_test(DAG_ID, env)
    assert mc_sandbox_clean.pushes() == []
    assert mc_sandbox_clean.stats()["requests"] == {}


def test_monte_carlo_down_leaves_the_run_untouched(airflow_db, mc_sandbox_clean, plugin_entry_point, tmp_path: Path):
    """Every ingest request answered 503: the DAG still succeeds, with the retried task, and the
    listener logs what it dropped."""
    mc_sandbox_clean.set_faults(fail_503=1.0)
    env = airflow_env(plugin_entry_point, push=True, sandbox=mc_sandbox_clean, state=tmp_path / "state",
                      airflow_flush_timeout_s="1")
    env["MC_LISTENER_FAIL_ONCE"] = str(tmp_path / "failed_once")
    out = dags_test(DAG_ID, env)
    assert "DagRun Finished: dag_id=listener_chain_retry" in out.stdout + out.stderr
    assert "state=success" in (out.stdout + out.stderr).split("DagRun Finished")[1][:600]
    assert mc_sandbox_clean.pushes() == []
    assert mc_sandbox_clean.stats()["faults_injected"]["503"] >= 1
    assert "Monte Carlo ETL sender" in out.stdout + out.stderr
