"""The sandbox's ETL endpoints: what pycarlo's real client sends is accepted, what breaks pycarlo's
ETL models is refused with a 400 naming the field, and the GraphQL reads show what was pushed."""

from __future__ import annotations

import copy
from typing import Any

import pycarlo.core as pycarlo_core
import pytest
import requests
from pycarlo.features.ingestion import IngestionService
from pycarlo.features.ingestion import etl as pycarlo_etl
from pycarlo.features.ingestion import models as pycarlo_models

from monte_carlo_sandbox import etl as sandbox_etl
from monte_carlo_sandbox.etl import SANDBOX_ETL_CONTAINERS
from tests.sandbox.helpers import graphql_headers, ingest_headers

AIRFLOW = SANDBOX_ETL_CONTAINERS["airflow"]
T0 = "2026-11-30T10:00:00Z"


def ingestion(sb) -> IngestionService:
    session = pycarlo_core.Session(
        mcd_id=sb.ingest_key_id, mcd_token=sb.ingest_key_secret, scope="Ingestion", endpoint=sb.url
    )
    return IngestionService(mc_client=pycarlo_core.Client(session=session))


def job(job_id: str = "daily", tasks: int = 2) -> pycarlo_etl.EtlAsset:
    ids = [f"t{i}" for i in range(tasks)]
    return pycarlo_etl.EtlAsset(
        job_source_id=job_id,
        name=job_id,
        group=pycarlo_etl.EtlGroup(source_id=job_id, group_type="DAG"),
        schedule=pycarlo_etl.Schedule(kind="cron", cron_expression="0 6 * * *", timezone="UTC"),
        owner=pycarlo_etl.Owner(primary_name="data-eng"),
        is_paused=False,
        job_url=f"http://airflow/dags/{job_id}",
        properties=[pycarlo_models.Tag(key="finance")],
        tasks=[
            pycarlo_etl.EtlTask(
                task_source_id=t, name=t, task_type="BashOperator",
                upstream_task_source_ids=ids[:i],
                outputs=[pycarlo_etl.AssetRef(asset_type="TABLE", role="OUTPUT", fully_qualified_name="db.s.t")],
            )
            for i, t in enumerate(ids)
        ],
    )


def run(job_id: str = "daily", status: str = "success", **extra: Any) -> pycarlo_etl.EtlRunEvent:
    return pycarlo_etl.EtlRunEvent(
        job_source_id=job_id, run_source_id=f"{job_id}/r1", status=status, event_time=T0, start_time=T0,
        trigger="SCHEDULE",
        task_runs=[
            pycarlo_etl.EtlRunEvent(job_source_id=job_id, run_source_id=f"{job_id}/r1/t0/2", task_source_id="t0",
                                    status="success", event_time=T0, attempt_number=2, trigger="RETRY")
        ],
        **extra,
    )


def test_value_sets_are_pycarlos():
    assert sandbox_etl.RUN_STATUSES == pycarlo_etl.ETL_RUN_STATUS_VALUES
    assert sandbox_etl.RUN_TRIGGERS == pycarlo_etl.ETL_RUN_TRIGGER_VALUES
    assert sandbox_etl.SCHEDULE_KINDS == pycarlo_etl.ETL_SCHEDULE_KIND_VALUES
    assert sandbox_etl.ASSET_REF_TYPES == pycarlo_etl.ASSET_REF_ASSET_TYPE_VALUES
    assert sandbox_etl.ASSET_REF_ROLES == pycarlo_etl.ASSET_REF_ROLE_VALUES


def test_pycarlo_send_etl_metadata_and_runs_are_accepted(mc_sandbox_clean):
    svc = ingestion(mc_sandbox_clean)
    meta = svc.send_etl_metadata(resource_uuid=AIRFLOW, resource_type="airflow", events=[job("a"), job("b", 3)])
    runs = svc.send_etl_runs(resource_uuid=AIRFLOW, resource_type="airflow", events=[run("a")], event_time=T0)
    pushes = {p["kind"]: p for p in mc_sandbox_clean.pushes()}
    assert pushes["etl_metadata"]["invocation_id"] == IngestionService.extract_invocation_id(meta)
    assert pushes["etl_runs"]["invocation_id"] == IngestionService.extract_invocation_id(runs)
    assert pushes["etl_metadata"]["event_count"] == 2
    assert [e["event"]["etl_asset"]["job_source_id"] for e in mc_sandbox_clean.events("etl_metadata")] == ["a", "b"]


def _post(sb, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{sb.url}{path}", json=body, headers=ingest_headers(sb), timeout=10)


def _metadata_body(*assets: pycarlo_etl.EtlAsset) -> dict[str, Any]:
    return pycarlo_etl.build_etl_metadata_payload(AIRFLOW, "airflow", list(assets or [job()]))


def _runs_body(*events: pycarlo_etl.EtlRunEvent) -> dict[str, Any]:
    return pycarlo_etl.build_etl_runs_payload(AIRFLOW, "airflow", list(events or [run()]))


def _broken(body: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("kind", "path", "value", "message"),
    [
        ("runs", ["events", 0, "status"], "running", "events[0].status: must be one of pycarlo's"),
        ("runs", ["events", 0, "task_runs", 0, "status"], "RUNNING", "events[0].task_runs[0].status"),
        ("runs", ["events", 0, "trigger"], "schedule", "events[0].trigger: must be one of"),
        ("runs", ["events", 0, "task_runs", 0, "attempt_number"], 0, "attempt_number: must be >= 1"),
        ("runs", ["events", 0, "event_time"], "yesterday", "events[0].event_time: not an ISO-8601"),
        ("runs", ["events", 0, "event_time"], KeyError, "events[0].event_time: is required"),
        ("runs", ["events", 0, "state"], "success", "events[0].state: unknown field"),
        ("runs", ["event_type"], "ETL_RUNS", "event_type: must be 'ETLRUN'"),
        ("metadata", ["events", 0, "etl_asset", "name"], KeyError, "events[0].etl_asset.name: is required"),
        ("metadata", ["events", 0, "etl_asset", "schedule", "kind"], "daily", "schedule.kind: must be one of"),
        ("metadata", ["events", 0, "etl_asset", "tasks", 1, "upstream_task_source_ids"], ["nope"],
         "upstream_task_source_ids[0]: 'nope' is not a task of job 'daily'"),
        ("metadata", ["events", 0, "etl_asset", "tasks", 0, "outputs", 0, "fully_qualified_name"], KeyError,
         "needs mcon or fully_qualified_name"),
        ("metadata", ["events", 0, "etl_asset"], {"job_source_id": "x", "name": "x", "dag": "x"},
         "events[0].etl_asset.dag: unknown field"),
        ("metadata", ["resource", "resource_type"], "dbt", "resource.resource_type: is 'dbt' but container"),
        ("metadata", ["resource", "uuid"], "00000000-0000-0000-0000-000000000000", "is not an ETL container"),
        ("metadata", ["events", 0, "etl_asset", "is_paused"], "no", "is_paused: must be true or false"),
    ],
)
def test_breaking_pycarlos_models_is_a_400_naming_the_field(mc_sandbox_clean, kind, path, value, message):
    body = _broken(_runs_body() if kind == "runs" else _metadata_body(), path, value)
    response = _post(mc_sandbox_clean, f"/ingest/v1/etl/{kind}", body)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]
    assert mc_sandbox_clean.pushes() == []


def test_batch_sizes_1_to_100(mc_sandbox_clean):
    hundred = [run(f"j{i}") for i in range(100)]
    assert _post(mc_sandbox_clean, "/ingest/v1/etl/runs", _runs_body(*hundred)).status_code == 202
    too_many = _runs_body(*hundred)
    too_many["events"].append(too_many["events"][0])
    response = _post(mc_sandbox_clean, "/ingest/v1/etl/runs", too_many)
    assert response.status_code == 400 and "between 1 and 100 events" in response.json()["message"]
    empty = {**_runs_body(), "events": []}
    assert _post(mc_sandbox_clean, "/ingest/v1/etl/runs", empty).status_code == 400
    twice = _metadata_body(job("a"), job("a"))
    response = _post(mc_sandbox_clean, "/ingest/v1/etl/metadata", twice)
    assert response.status_code == 400 and "appears twice in this batch" in response.json()["message"]


def test_etl_endpoints_need_the_ingestion_key(mc_sandbox_clean):
    response = requests.post(f"{mc_sandbox_clean.url}/ingest/v1/etl/runs", json=_runs_body(),
                             headers=graphql_headers(mc_sandbox_clean), timeout=10)
    assert response.status_code == 403


JOBS = """
query AirflowJob($container: UUID, $name: String) {
  getEtlContainers { uuid name type jobCount }
  getEtlJobsV3(containerUuid: $container, jobNameSubstring: $name, first: 10) {
    totalCount
    edges { node { mcon sourceId name isPaused jobUrl lastRunDate recentRunCount } }
  }
}
"""
TASKS = """
query Tasks($job: String) {
  getEtlTasksV3(jobMcon: $job) { totalCount edges { node { sourceId taskType attributes } } }
  getEtlJobRunsV3(jobMcon: $job, statusIn: [SUCCESS]) { edges { node { sourceId status trigger attemptNumber } } }
}
"""


def _graphql(sb, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(sb.graphql_endpoint, json={"query": query, "variables": variables},
                             headers=graphql_headers(sb), timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_graphql_shows_the_pushed_job_tasks_and_runs(mc_sandbox_clean):
    svc = ingestion(mc_sandbox_clean)
    svc.send_etl_metadata(resource_uuid=AIRFLOW, resource_type="airflow", events=[job("daily", 3), job("hourly")])
    svc.send_etl_runs(resource_uuid=AIRFLOW, resource_type="airflow", events=[run("daily")])

    data = _graphql(mc_sandbox_clean, JOBS, {"container": AIRFLOW, "name": "dail"})
    airflow = next(c for c in data["getEtlContainers"] if c["uuid"] == AIRFLOW)
    assert airflow["type"] == "AIRFLOW" and airflow["jobCount"] == 2
    jobs = data["getEtlJobsV3"]
    assert jobs["totalCount"] == 1
    node = jobs["edges"][0]["node"]
    assert (node["sourceId"], node["isPaused"], node["recentRunCount"]) == ("daily", False, 1)

    data = _graphql(mc_sandbox_clean, TASKS, {"job": node["mcon"]})
    assert [t["node"]["sourceId"] for t in data["getEtlTasksV3"]["edges"]] == ["t0", "t1", "t2"]
    assert [r["node"]["status"] for r in data["getEtlJobRunsV3"]["edges"]] == ["SUCCESS"]


def test_a_later_push_of_a_job_replaces_it(mc_sandbox_clean):
    svc = ingestion(mc_sandbox_clean)
    svc.send_etl_metadata(resource_uuid=AIRFLOW, resource_type="airflow", events=[job("daily", 3)])
    changed = job("daily", 1)
    changed.is_paused = True
    svc.send_etl_metadata(resource_uuid=AIRFLOW, resource_type="airflow", events=[changed])
    data = _graphql(mc_sandbox_clean, JOBS, {"container": AIRFLOW, "name": None})
    (edge,) = data["getEtlJobsV3"]["edges"]
    assert edge["node"]["isPaused"] is True
    tasks = _graphql(mc_sandbox_clean, TASKS, {"job": edge["node"]["mcon"]})["getEtlTasksV3"]
    assert tasks["totalCount"] == 1
