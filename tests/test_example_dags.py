"""Example DAGs: every file parses, and every DAG collects, pushes and confirms its push; each is
run for real by the test ``EXAMPLE_RUNS`` names (the warehouse ones under tests/example_dags/,
against their stand-ins). Here: the generic SQL DAG runs with ``airflow dags test`` (collect
metadata and view lineage from SQLite -> push to the sandbox -> the sensor confirms);
``scripts/demo.py`` (``make demo``) prints the invocation_ids and the confirmation."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

EXAMPLES = REPO / "example_dags"


# Every example DAG, and the test that runs it for real against a stand-in and the sandbox.
EXAMPLE_RUNS = {
    "athena_to_monte_carlo": "tests/example_dags/test_athena.py",
    "bigquery_to_monte_carlo": "tests/example_dags/test_bigquery.py",
    "databricks_to_monte_carlo": "tests/example_dags/test_databricks.py",
    "hive_to_monte_carlo": "tests/example_dags/test_hive.py",
    "redshift_to_monte_carlo": "tests/example_dags/test_redshift.py",
    "snowflake_to_monte_carlo_hourly": "tests/example_dags/test_snowflake.py",
    "snowflake_to_monte_carlo_daily_schema": "tests/example_dags/test_snowflake.py",
    "monte_carlo_push_hourly": "tests/test_example_dags.py",
    "monte_carlo_confirm_arrival": "tests/reliability/test_secrets.py",
}
# The warehouse examples: metadata, query logs and lineage collected, pushed, confirmed.
ALL_FLOWS = {
    "athena_to_monte_carlo": ("AthenaGlueMetadataCollectorOperator", "AthenaQueryLogCollectorOperator",
                              "AthenaLineageCollectorOperator"),
    "bigquery_to_monte_carlo": ("BigQueryMetadataCollectorOperator", "BigQueryQueryLogCollectorOperator",
                                "BigQueryLineageCollectorOperator"),
    "databricks_to_monte_carlo": ("DatabricksMetadataCollectorOperator", "DatabricksQueryLogCollectorOperator",
                                  "DatabricksLineageCollectorOperator"),
    "hive_to_monte_carlo": ("HiveMetastoreMetadataCollectorOperator", "HiveQueryLogCollectorOperator",
                            "HiveLineageCollectorOperator"),
    "redshift_to_monte_carlo": ("RedshiftMetadataCollectorOperator", "RedshiftQueryLogCollectorOperator",
                                "RedshiftLineageCollectorOperator", "SqlViewLineageCollectorOperator"),
    "snowflake_to_monte_carlo_hourly": ("SnowflakeMetadataCollectorOperator", "SnowflakeQueryLogCollectorOperator",
                                        "SnowflakeLineageCollectorOperator"),
    # the generic SQL example: no query history to read, lineage from the view definitions
    "monte_carlo_push_hourly": ("SqlMetadataCollectorOperator", "SqlViewLineageCollectorOperator"),
}

_DESCRIBE = """
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=%r)
dags = {}
for dag_id, dag in bag.dags.items():
    tasks = {t.task_id: {"type": t.task_type, "upstream": sorted(t.upstream_task_ids), "retries": t.retries,
                         "flow": getattr(t, "flow", None),
                         "only_freshness_and_volume": getattr(t, "only_freshness_and_volume", None)}
             for t in dag.tasks}
    dags[dag_id] = {"tasks": tasks}
print(json.dumps({"errors": {k: str(v)[:500] for k, v in bag.import_errors.items()}, "dags": dags}))
"""


@pytest.fixture(scope="module")
def examples() -> dict:
    """Every example DAG's tasks, as a fresh DagBag (its own interpreter) parses example_dags/."""
    out = subprocess.run([sys.executable, "-c", _DESCRIBE % str(EXAMPLES)], capture_output=True, text=True,
                         env=os.environ.copy(), timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_example_dags_parse_and_each_collects_pushes_and_confirms(examples):
    assert examples["errors"] == {}
    dags = examples["dags"]
    assert sorted(dags) == sorted(EXAMPLE_RUNS)
    for dag_id, dag in dags.items():
        tasks = dag["tasks"]
        (push,) = [t for t, d in tasks.items() if d["type"] == "MonteCarloPushOperator"]
        # a sensor confirming this push (its push_result is the push task's output)
        assert any(d["type"] == "MonteCarloPushedDataSensor" and push in d["upstream"] for d in tasks.values()), dag_id
        assert all(d["retries"] >= 1 for d in tasks.values()), f"{dag_id}: default_args retries"
        collectors = {d["type"] for t, d in tasks.items() if t in tasks[push]["upstream"]}
        assert set(ALL_FLOWS.get(dag_id, ())) <= collectors, (dag_id, collectors)
        # the test that runs it names it
        assert f'"{dag_id}"' in (REPO / EXAMPLE_RUNS[dag_id]).read_text(), (dag_id, EXAMPLE_RUNS[dag_id])


def test_the_hourly_and_daily_pair_is_what_docs_production_describes(examples):
    """docs/production.md: hourly freshness + volume under the default flow, the daily full schema
    under ``flow="daily-full-schema"``."""
    dags = examples["dags"]
    hourly = dags["snowflake_to_monte_carlo_hourly"]["tasks"]
    daily = dags["snowflake_to_monte_carlo_daily_schema"]["tasks"]
    assert hourly["collect_freshness_and_volume"]["only_freshness_and_volume"] is True
    assert daily["collect_full_schema"]["only_freshness_and_volume"] is False
    assert (hourly["push"]["flow"], daily["push"]["flow"]) == (None, "daily-full-schema")  # None: "metadata"
    production = (REPO / "docs" / "production.md").read_text()
    assert 'flow="daily-full-schema"' in production and "example_dags/snowflake_to_monte_carlo.py" in production


def test_hourly_example_dag_pushes_to_sandbox(mc_sandbox_clean, airflow_db, tmp_path):
    import sqlite3

    wh = tmp_path / "wh.db"
    db = sqlite3.connect(wh)
    db.executescript("CREATE TABLE a (id INT, name TEXT); CREATE VIEW v AS SELECT id FROM a;")
    db.close()
    env = dict(os.environ)
    env.update(
        AIRFLOW__CORE__DAGS_FOLDER=str(EXAMPLES),
        AIRFLOW_CONN_DEMO_WAREHOUSE=json.dumps({"conn_type": "sqlite", "host": str(wh)}),
        AIRFLOW_CONN_MONTE_CARLO_DEFAULT=mc_sandbox_clean.connection_uri_json("data-lake"),
        MONTE_CARLO_PUSH_RESULTS=str(tmp_path / "results"),
        MONTE_CARLO_PUSH_STATE_PATH=str(tmp_path / "state"),
    )
    run = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", "monte_carlo_push_hourly"],
                         capture_output=True, text=True, env=env, timeout=300)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-4000:]
    pushes = mc_sandbox_clean.pushes("metadata")
    assert len(pushes) == 1
    invocation_id = pushes[0]["invocation_id"]
    assert re.search(rf"metadata .*batch 1/1: 2 events, .* gzip, invocation_id={invocation_id}", log)
    names = sorted(e["event"]["relational_asset"]["metadata"]["name"] for e in mc_sandbox_clean.events("metadata"))
    assert names == ["a", "v"]
    (lineage_push,) = mc_sandbox_clean.pushes("lineage")
    (edge,) = [e["event"] for e in mc_sandbox_clean.events("lineage")]
    assert edge["destination"]["name"] == "v" and [s["name"] for s in edge["sources"]] == ["a"]
    assert [(f["name"], [sf["field_name"] for sf in f["source_fields"]]) for f in edge["fields"]] == [("id", ["id"])]
    results = list(Path(tmp_path / "results").rglob("*.json"))
    assert len(results) == 1
    assert json.loads(results[0].read_text())["invocation_ids"] == [invocation_id, lineage_push["invocation_id"]]
    # the sensor ran after the push and saw both flows (visible at once: no deferral needed)
    assert re.search(r"Monte Carlo shows this push: metadata 2/2 confirmed. lineage 1/1 confirmed", log)


def test_demo_prints_invocation_ids_and_the_sensors_confirmation(tmp_path):
    """``make demo`` as a user runs it (its own sandbox, Airflow home and warehouse)."""
    env = dict(os.environ, MONTE_CARLO_DEMO_DIR=str(tmp_path / "demo"))
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "demo.py")], capture_output=True, text=True,
                         env=env, timeout=300)
    out = run.stdout
    assert run.returncode == 0, (out + run.stderr)[-4000:]
    printed = dict(re.findall(r"^  (metadata|lineage)\s+([0-9a-f-]{36})$", out, re.M))
    assert set(printed) == {"metadata", "lineage"}
    # the ids printed are the ones the push task logged and wrote to its push-result manifest
    log = (tmp_path / "demo" / "dags_test.log").read_text()
    assert re.search(rf"metadata .*batch 1/1: 6 events, .*invocation_id={printed['metadata']}", log)
    assert re.search(rf"column lineage .*batch 1/1: 3 events, .*invocation_id={printed['lineage']}", log)
    (result,) = (tmp_path / "demo" / "results").rglob("*.json")
    assert json.loads(result.read_text())["invocation_ids"] == [printed["metadata"], printed["lineage"]]
    # the sensor deferred (the sandbox shows the push after a few seconds) and its trigger confirmed it
    assert "deferring: checking every 1.0s" in out
    assert re.search(r"^sensor confirmation: Monte Carlo shows this push after \d+ check\(s\), \d+ s in the triggerer$",
                     out, re.M)
    assert "the sandbox stored 2 push(es): 6 table(s) / view(s)" in out
    assert "  customers, orders -> revenue_by_country" in out
    assert "      order_totals.total <- Order Items.quantity, Order Items.Unit Price" in out
    assert "      top_countries.revenue <- revenue_by_country.revenue" in out
    assert re.search(r"^sandbox stopped; demo took \d+ s$", out, re.M)
