"""The event builders: what the Task SDK side and the scheduler side build for the same DAG must be
the same job (one fingerprint), every Airflow state maps to a status pycarlo accepts, and error
messages leave without secrets."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pycarlo.features.ingestion.etl import (
    ETL_RUN_STATUS_VALUES,
    ETL_RUN_TRIGGER_VALUES,
    EtlAsset,
)

from monte_carlo_push_provider.utils import etl_events
from monte_carlo_push_provider.utils.etl_events import dag_metadata, scrub, structure_fingerprint


def _dag(schedule):
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG, Asset

    with DAG("fp", schedule=schedule, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc), tags=["b", "a"],
             default_args={"owner": "ops"}) as dag:
        a = BashOperator(task_id="a", bash_command="true")
        b = BashOperator(task_id="b", bash_command="true", retries=2)
        c = BashOperator(task_id="c", bash_command="true", owner="finance",
                         inlets=[Asset("s3://bucket/in.csv")],
                         outlets=[Asset("snowflake://acme/ANALYTICS/PUBLIC/ORDERS"), Asset("bigquery://p/ds/t")])
        a >> [b, c]
    return dag


def _serialized(dag):
    from airflow.serialization.serialized_objects import DagSerialization

    return DagSerialization.from_dict(DagSerialization.to_dict(dag))


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("0 6 * * *", {"kind": "cron", "cron_expression": "0 6 * * *", "timezone": "UTC"}),
        (timedelta(hours=2), {"kind": "interval", "interval_seconds": 7200}),
        (None, {"kind": "manual"}),
    ],
)
def test_sdk_and_serialized_dag_give_the_same_job(schedule, expected):
    dag = _dag(schedule)
    sdk = dag_metadata(dag, base_url="http://af")
    core = dag_metadata(_serialized(dag), base_url="http://af", is_paused=True)
    assert structure_fingerprint(sdk) == structure_fingerprint(core)
    assert {k: v for k, v in sdk["schedule"].items() if k != "raw"} == expected
    assert core["is_paused"] is True and "is_paused" not in sdk
    assert sdk["owner"]["raw"]["owners"] == ["finance", "ops"]
    assert [t["upstream_task_source_ids"] for t in sdk["tasks"] if t["task_source_id"] != "a"] == [["a"], ["a"]]
    assert {t["task_type"] for t in sdk["tasks"]} == {"BashOperator"}
    c = next(t for t in sdk["tasks"] if t["task_source_id"] == "c")
    assert [r["fully_qualified_name"] for r in c["outputs"]] == ["ANALYTICS:PUBLIC.ORDERS", "p:ds.t"]
    assert c["inputs"] == [{"asset_type": "FILE", "role": "INPUT", "fully_qualified_name": "s3://bucket/in.csv"}]
    EtlAsset.from_dict(sdk)  # pycarlo's model takes it


def test_a_changed_dag_changes_the_fingerprint():
    dag = _dag("0 6 * * *")
    before = structure_fingerprint(dag_metadata(dag, base_url="http://af"))
    dag.tags = {"c"}
    assert structure_fingerprint(dag_metadata(dag, base_url="http://af")) != before


def test_every_airflow_state_maps_into_pycarlos_sets():
    from airflow.utils.state import DagRunState, TaskInstanceState
    from airflow.utils.types import DagRunType

    assert {s.value for s in TaskInstanceState} == set(etl_events.TASK_STATUS)
    assert set(etl_events.TASK_STATUS.values()) <= ETL_RUN_STATUS_VALUES
    assert {s.value for s in DagRunState} == set(etl_events.DAG_RUN_STATUS)
    assert set(etl_events.DAG_RUN_STATUS.values()) <= ETL_RUN_STATUS_VALUES
    assert {t.value for t in DagRunType} == set(etl_events.RUN_TRIGGER)
    assert set(etl_events.RUN_TRIGGER.values()) | {"RETRY"} <= ETL_RUN_TRIGGER_VALUES


@pytest.mark.parametrize(
    ("raw", "leaked"),
    [
        ("login failed: password=hunter2", "hunter2"),
        ('{"api_key": "abc123xyz"}', "abc123xyz"),
        ("cannot reach postgresql://etl:s3cr3t@db:5432/x", "s3cr3t"),
        ("401 Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi"),
        ("SNOWFLAKE_PRIVATE_KEY: -----BEGIN", "-----BEGIN"),
    ],
)
def test_scrub_removes_secrets(raw, leaked):
    assert leaked not in scrub(raw)


def test_scrub_uses_airflows_masker_and_truncates():
    from airflow.sdk.log import mask_secret

    mask_secret("plain-value-the-masker-knows")
    assert "plain-value-the-masker-knows" not in scrub("boom plain-value-the-masker-knows")
    assert len(scrub("x" * 10_000)) == etl_events.MAX_ERROR_CHARS
    assert scrub(ValueError("bad")) == "ValueError: bad"


def test_lineage_resource_map_and_table_lineage():
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG, Asset

    from monte_carlo_push_provider.utils.etl_lineage import parse_resource_map, table_lineage

    resources = parse_resource_map('{"snowflake://acme/": {"uuid": "u-1", "resource_type": "snowflake"}}')
    assert resources == {"snowflake://acme": ("u-1", "snowflake")}
    with pytest.raises(ValueError, match=r"airflow_lineage_resources\['x'\] must be"):
        parse_resource_map('{"x": {"uuid": "u"}}')
    assert parse_resource_map("  ") == {}

    with DAG("lin", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)) as dag:
        BashOperator(task_id="t", bash_command="true",
                     inlets=[Asset("snowflake://acme/DB/S/SRC"), Asset("postgres://other:5432/d/s/x"),
                             Asset("s3://b/k")],
                     outlets=[Asset("snowflake://acme/DB/S/DST"), Asset("snowflake://unmapped/DB/S/Z")])
    (event,) = table_lineage(dag, resources)
    assert event == (("u-1", "snowflake"), {
        "destination": {"type": "TABLE", "name": "DST", "database": "DB", "schema": "S"},
        "sources": [{"type": "TABLE", "name": "SRC", "database": "DB", "schema": "S"}],
    })
