"""The sandbox's ETL endpoints: ``POST /ingest/v1/etl/metadata`` and ``POST /ingest/v1/etl/runs``,
validated as strictly as pycarlo 0.15.500's ETL models (``pycarlo/features/ingestion/etl/models.py``)
and ``build_etl_*_payload`` shape them, plus the GraphQL reads over them (``getEtlContainers``,
``getEtlJobsV3``, ``getEtlTasksV3``, ``getEtlJobRunsV3``).

The value sets are written out here rather than imported from pycarlo, like the rest of the
sandbox's checks (it is the second opinion on the code that uses pycarlo);
tests/sandbox/test_etl.py asserts they equal pycarlo's, so an SDK upgrade that changes them fails
a test instead of drifting.

What the gateway stand-in rejects (400 naming the field):

- top-level keys other than ``event_type``, ``resource``, ``events`` (and ``event_time`` on runs);
- ``event_type`` other than ``ETL_METADATA`` / ``ETLRUN``;
- ``resource`` without ``uuid`` and ``resource_type``, a uuid that is not one of the account's ETL
  containers, or a ``resource_type`` other than that container's type (``airflow``);
- fewer than 1 or more than 100 events (pycarlo's ``_check_batch_size``);
- any event key pycarlo's dataclass does not have, a missing required field, a ``status`` /
  ``trigger`` / ``Schedule.kind`` / ``AssetRef`` value outside pycarlo's sets, a non-ISO-8601
  time, an ``attempt_number`` < 1; the same rules for every nested ``task_runs`` entry;
- a metadata batch naming one ``job_source_id`` twice, a task naming an upstream task that is not
  a task of the same job, duplicate ``task_source_id`` values in one job.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from monte_carlo_sandbox import SANDBOX_ACCOUNT_UUID, SANDBOX_NAMESPACE
from monte_carlo_sandbox.contract import MAX_COMPRESSED_BYTES, gzip_size
from monte_carlo_sandbox.validation import (
    IngestRejected,
    ValidatedPush,
    _count,
    _json_object,
    _list_of,
    _obj,
    _one_of,
    _optional_string,
    _reject,
    _string,
    _timestamp,
)

#: URL path -> flow (``kind`` in the store and the admin API).
ETL_PATHS: dict[str, str] = {
    "/ingest/v1/etl/metadata": "etl_metadata",
    "/ingest/v1/etl/runs": "etl_runs",
}
ETL_KINDS = tuple(ETL_PATHS.values())
_EVENT_TYPES = {"etl_metadata": "ETL_METADATA", "etl_runs": "ETLRUN"}
BATCH_MIN, BATCH_MAX = 1, 100

#: ETL container type -> its uuid. One container per type, deterministic like the warehouses.
SANDBOX_ETL_CONTAINERS: dict[str, str] = {
    etl_type: str(uuid.uuid5(SANDBOX_NAMESPACE, f"etl:{etl_type}")) for etl_type in ("airflow", "dbt")
}
#: ``EtlType`` enum value the schema has for each container type.
_ETL_TYPE_ENUM = {"airflow": "AIRFLOW", "dbt": "DBT"}

# pycarlo 0.15.500: ETL_RUN_STATUS_VALUES, ETL_RUN_TRIGGER_VALUES, ETL_SCHEDULE_KIND_VALUES,
# ASSET_REF_ASSET_TYPE_VALUES, ASSET_REF_ROLE_VALUES.
RUN_STATUSES = frozenset(
    {
        "success", "failed", "skipped", "cancelled", "cancelling", "in_progress", "error", "timed_out",
        "queued", "blocked", "inactive", "restarting", "up_for_retry", "up_for_reschedule",
        "upstream_failed", "removed", "scheduled", "deferred", "pass", "fail", "warn",
        "partial_success", "unknown",
    }
)
RUN_TRIGGERS = frozenset({"SCHEDULE", "MANUAL", "API", "UPSTREAM", "EVENT", "CYCLIC", "BACKFILL", "RETRY"})
SCHEDULE_KINDS = frozenset({"cron", "interval", "event", "upstream", "manual"})
ASSET_REF_TYPES = frozenset({"TABLE", "FILE", "VIEW", "TOPIC", "DATASET", "DASHBOARD"})
ASSET_REF_ROLES = frozenset({"INPUT", "OUTPUT"})


def _bool(value: Any, where: str) -> None:
    if not isinstance(value, bool):
        _reject(where, f"must be true or false, got {type(value).__name__}")


def _attempt(value: Any, where: str) -> None:
    _count(value, where)
    if value < 1:
        _reject(where, f"must be >= 1 (attempts count from 1), got {value}")


_STRINGS = _list_of(_string)
_TAG = _obj({"key": (True, _string), "value": (False, _optional_string)})


def _asset_ref(value: Any, where: str) -> None:
    _obj(
        {
            "asset_type": (True, _one_of(ASSET_REF_TYPES, "one of " + ", ".join(sorted(ASSET_REF_TYPES)))),
            "role": (True, _one_of(ASSET_REF_ROLES, "INPUT or OUTPUT")),
            "mcon": (False, _string),
            "fully_qualified_name": (False, _string),
        }
    )(value, where)
    if not value.get("mcon") and not value.get("fully_qualified_name"):
        _reject(where, "needs mcon or fully_qualified_name (pycarlo's AssetRef requires one)")


_ASSET_REFS = _list_of(_asset_ref)
_SCHEDULE = _obj(
    {
        "kind": (True, _one_of(SCHEDULE_KINDS, "one of " + ", ".join(sorted(SCHEDULE_KINDS)))),
        "cron_expression": (False, _string),
        "interval_seconds": (False, _count),
        "timezone": (False, _string),
        "next_run_at": (False, _timestamp),
        "paused": (False, _bool),
        "event_trigger": (False, _json_object),
        "upstream_job_source_ids": (False, _STRINGS),
        "raw": (False, _json_object),
    }
)
_OWNER = _obj(
    {
        "primary_email": (False, _string),
        "primary_name": (False, _string),
        "primary_external_id": (False, _string),
        "run_as_email": (False, _string),
        "notification_emails": (False, _STRINGS),
        "team": (False, _string),
        "raw": (False, _json_object),
    }
)
_GROUP = _obj(
    {
        "source_id": (True, _string),
        "name": (False, _string),
        "group_type": (False, _string),
        "schedule": (False, _SCHEDULE),
        "attributes": (False, _json_object),
    }
)
_TASK = _obj(
    {
        "task_source_id": (True, _string),
        "name": (True, _string),
        "task_type": (False, _string),
        "description": (False, _optional_string),
        "inputs": (False, _ASSET_REFS),
        "outputs": (False, _ASSET_REFS),
        "upstream_task_source_ids": (False, _STRINGS),
        "triggered_job_source_ids": (False, _STRINGS),
        "attributes": (False, _json_object),
    }
)
_ETL_ASSET = _obj(
    {
        "job_source_id": (True, _string),
        "name": (True, _string),
        "group": (False, _GROUP),
        "description": (False, _optional_string),
        "folder": (False, _string),
        "is_paused": (False, _bool),
        "job_url": (False, _string),
        "schedule": (False, _SCHEDULE),
        "owner": (False, _OWNER),
        "properties": (False, _list_of(_TAG)),
        "attributes": (False, _json_object),
        "inputs": (False, _ASSET_REFS),
        "outputs": (False, _ASSET_REFS),
        "tasks": (False, _list_of(_TASK)),
        "triggered_job_source_ids": (False, _STRINGS),
    }
)
_METADATA_EVENT = _obj({"etl_asset": (True, _ETL_ASSET)})
_ERROR = _obj(
    {
        "message": (True, _string),
        "code": (False, _string),
        "retryable": (False, _bool),
        "failure_type": (False, _string),
        "upstream_failed_task_source_ids": (False, _STRINGS),
        "structured_fields": (False, _json_object),
    }
)


def _run_event(value: Any, where: str) -> None:
    _RUN_EVENT(value, where)


_RUN_EVENT = _obj(
    {
        "job_source_id": (True, _string),
        "run_source_id": (True, _string),
        "status": (True, _one_of(RUN_STATUSES, "one of pycarlo's ETL_RUN_STATUS_VALUES (e.g. in_progress, not running)")),
        "event_time": (True, _timestamp),
        "job_run_id": (False, _string),
        "group": (False, _GROUP),
        "task_source_id": (False, _string),
        "start_time": (False, _timestamp),
        "end_time": (False, _timestamp),
        "expected_end_time": (False, _timestamp),
        "queued_at": (False, _timestamp),
        "trigger": (False, _one_of(RUN_TRIGGERS, "one of " + ", ".join(sorted(RUN_TRIGGERS)) + " (uppercase)")),
        "triggered_by_run_source_id": (False, _string),
        "parent_attempt_run_source_id": (False, _string),
        "attempt_number": (False, _attempt),
        "backfill_id": (False, _string),
        "error": (False, _ERROR),
        "run_url": (False, _string),
        "task_runs": (False, _list_of(_run_event)),
        "inputs": (False, _ASSET_REFS),
        "outputs": (False, _ASSET_REFS),
        "properties": (False, _list_of(_TAG)),
        "attributes": (False, _json_object),
    }
)


def _check_job_graph(asset: Mapping[str, Any], where: str) -> None:
    tasks = asset.get("tasks") or []
    ids = [t["task_source_id"] for t in tasks]
    seen: set[str] = set()
    for i, task_id in enumerate(ids):
        if task_id in seen:
            _reject(f"{where}.tasks[{i}].task_source_id", f"{task_id!r} appears twice in job {asset['job_source_id']!r}")
        seen.add(task_id)
    for i, task in enumerate(tasks):
        for j, upstream in enumerate(task.get("upstream_task_source_ids") or []):
            if upstream not in seen:
                _reject(
                    f"{where}.tasks[{i}].upstream_task_source_ids[{j}]",
                    f"{upstream!r} is not a task of job {asset['job_source_id']!r} (tasks: {', '.join(ids)})",
                )


def validate_etl_push(path: str, body: bytes, containers: Mapping[str, str]) -> ValidatedPush:
    """Validate one ETL push. ``containers`` maps ETL container uuid -> its resource type."""
    kind = ETL_PATHS[path]
    compressed = gzip_size(body)
    if compressed > MAX_COMPRESSED_BYTES:
        _reject("", f"Request body is {compressed} bytes gzip-compressed; the limit is {MAX_COMPRESSED_BYTES} bytes")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise IngestRejected(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        _reject("", f"Request body must be a JSON object, got {type(payload).__name__}")
    allowed = ("event_type", "resource", "events") + (("event_time",) if kind == "etl_runs" else ())
    for key in payload:
        if key not in allowed:
            _reject(key, f"unknown top-level field (allowed: {', '.join(sorted(allowed))})")
    expected = _EVENT_TYPES[kind]
    if payload.get("event_type") != expected:
        _reject("event_type", f"must be {expected!r} for {path}, got {payload.get('event_type')!r}")
    if "event_time" in payload:
        _timestamp(payload["event_time"], "event_time")

    resource = payload.get("resource")
    _obj({"uuid": (True, _string), "resource_type": (True, _string)})(resource, "resource")
    container_type = containers.get(resource["uuid"])
    if container_type is None:
        _reject(
            "resource.uuid",
            f"{resource['uuid']} is not an ETL container of this account; list them with "
            "getEtlContainers { uuid name type }",
        )
    if resource["resource_type"] != container_type:
        _reject(
            "resource.resource_type",
            f"is {resource['resource_type']!r} but container {resource['uuid']} is of type {container_type!r}",
        )

    events = payload.get("events")
    if not isinstance(events, list):
        _reject("events", f"must be a list, got {type(events).__name__}")
    if not BATCH_MIN <= len(events) <= BATCH_MAX:
        _reject("events", f"must hold between {BATCH_MIN} and {BATCH_MAX} events (pycarlo's limit), got {len(events)}")
    jobs: set[str] = set()
    for i, event in enumerate(events):
        where = f"events[{i}]"
        if kind == "etl_metadata":
            _METADATA_EVENT(event, where)
            asset = event["etl_asset"]
            if asset["job_source_id"] in jobs:
                _reject(f"{where}.etl_asset.job_source_id", f"{asset['job_source_id']!r} appears twice in this batch")
            jobs.add(asset["job_source_id"])
            _check_job_graph(asset, f"{where}.etl_asset")
        else:
            _RUN_EVENT(event, where)
    return ValidatedPush(
        kind=kind,
        event_type=expected,
        resource_uuid=resource["uuid"],
        resource_type=resource["resource_type"],
        log_type=None,
        events=events,
        raw_bytes=len(body),
        gzip_bytes=compressed,
    )


# --------------------------------------------------------------------------------------------
# GraphQL reads
# --------------------------------------------------------------------------------------------


def _mcon(container: str, kind: str, *parts: str) -> str:
    return f"MCON++{SANDBOX_ACCOUNT_UUID}++{container}++{kind}++{'/'.join(parts)}"


def _global_id(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


class EtlReadModel:
    """What Monte Carlo shows for pushed ETL metadata and runs: the latest version of each job
    (a later push of the same ``job_source_id`` replaces it) and every run event."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def jobs(self, container: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for record in self.store.events("etl_metadata"):
            asset = record["event"]["etl_asset"]
            if container and record["resource_uuid"] != container:
                continue
            out[(record["resource_uuid"], asset["job_source_id"])] = {**asset, "_received_at": record["received_at"]}
        return out

    def runs(self, container: str, job_source_id: str) -> list[dict[str, Any]]:
        return [
            {**r["event"], "_received_at": r["received_at"]}
            for r in self.store.events("etl_runs")
            if r["resource_uuid"] == container and r["event"]["job_source_id"] == job_source_id
        ]


class EtlGraphQL:
    """Root resolvers for the ETL reads; ``GraphQLApi`` merges :meth:`resolvers` into its root."""

    def __init__(self, store: Any, clock: Callable[[], float]) -> None:
        self.model = EtlReadModel(store)
        self.clock = clock

    def resolvers(self) -> dict[str, Callable[..., Any]]:
        return {
            "getEtlContainers": self.getEtlContainers,
            "getEtlJobsV3": self.getEtlJobsV3,
            "getEtlTasksV3": self.getEtlTasksV3,
            "getEtlJobRunsV3": self.getEtlJobRunsV3,
        }

    def getEtlContainers(self, _info: Any) -> list[dict[str, Any]]:  # noqa: N802 - GraphQL field name
        out = []
        for etl_type, container in SANDBOX_ETL_CONTAINERS.items():
            jobs = self.model.jobs(container)
            out.append(
                {
                    "id": container,
                    "uuid": container,
                    "name": f"sandbox {etl_type}",
                    "type": _ETL_TYPE_ENUM[etl_type],
                    "isSynthetic": False,
                    "jobCount": len(jobs),
                    "supportsEtlJobRuns": True,
                    "connections": [],
                }
            )
        return out

    def _job_node(self, container: str, asset: Mapping[str, Any]) -> dict[str, Any]:
        job = asset["job_source_id"]
        runs = [r for r in self.model.runs(container, job) if not r.get("task_source_id")]
        group = asset.get("group")
        return {
            "id": _global_id(container, "job", job),
            "mcon": _mcon(container, "etl-job", job),
            "globalId": _global_id(container, "job", job),
            "sourceId": job,
            "name": asset["name"],
            "description": asset.get("description"),
            "folder": asset.get("folder"),
            "schedule": _json(asset.get("schedule")),
            "owner": _json(asset.get("owner")),
            "jobUrl": asset.get("job_url"),
            "isPaused": asset.get("is_paused"),
            "isStale": False,
            "generatesAlerts": True,
            "deletedAt": None,
            "containerUuid": container,
            "groupGlobalId": _global_id(container, "group", group["source_id"]) if group else None,
            "attributes": json.dumps(asset.get("attributes") or {}),
            "lastRunDate": max((r["event_time"] for r in runs), default=None),
            "recentRunCount": len({r["run_source_id"] for r in runs}),
            "_asset": asset,
        }

    def getEtlJobsV3(  # noqa: N802
        self, _info: Any, containerUuid: Any = None, mcons: list[str] | None = None,  # noqa: N803
        jobNameSubstring: str | None = None, isPaused: bool | None = None,  # noqa: N803
        first: int | None = None, after: str | None = None, **_: Any,
    ) -> dict[str, Any]:
        nodes = []
        for (container, _job), asset in sorted(self.model.jobs(str(containerUuid) if containerUuid else None).items()):
            node = self._job_node(container, asset)
            if mcons is not None and node["mcon"] not in mcons:
                continue
            if jobNameSubstring and jobNameSubstring.lower() not in node["name"].lower():
                continue
            if isPaused is not None and node["isPaused"] is not isPaused:
                continue
            nodes.append(node)
        return _connection(nodes, first, after)

    def _find_job(self, jobMcon: str | None, jobGlobalId: str | None) -> tuple[str, dict[str, Any]] | None:  # noqa: N803
        for (container, _job), asset in self.model.jobs().items():
            node = self._job_node(container, asset)
            if node["mcon"] == jobMcon or node["globalId"] == jobGlobalId:
                return container, node
        return None

    def getEtlTasksV3(  # noqa: N802
        self, _info: Any, jobMcon: str | None = None, jobGlobalId: str | None = None,  # noqa: N803
        first: int | None = None, after: str | None = None, **_: Any,
    ) -> dict[str, Any]:
        found = self._find_job(jobMcon, jobGlobalId)
        nodes = []
        if found:
            container, job = found
            for task in job["_asset"].get("tasks") or []:
                tid = task["task_source_id"]
                nodes.append(
                    {
                        "id": _global_id(container, "task", job["sourceId"], tid),
                        "mcon": _mcon(container, "etl-task", job["sourceId"], tid),
                        "globalId": _global_id(container, "task", job["sourceId"], tid),
                        "sourceId": tid,
                        "jobGlobalId": job["globalId"],
                        "jobMcon": job["mcon"],
                        "name": task["name"],
                        "taskType": task.get("task_type"),
                        "description": task.get("description"),
                        "attributes": json.dumps(
                            {**(task.get("attributes") or {}), "upstream_task_source_ids": task.get("upstream_task_source_ids") or []}
                        ),
                    }
                )
        return _connection(nodes, first, after)

    def getEtlJobRunsV3(  # noqa: N802
        self, _info: Any, jobMcon: str | None = None, jobGlobalId: str | None = None,  # noqa: N803
        statusIn: list[Any] | None = None, first: int | None = None, after: str | None = None, **_: Any,  # noqa: N803
    ) -> dict[str, Any]:
        found = self._find_job(jobMcon, jobGlobalId)
        nodes = []
        if found:
            container, job = found
            latest: dict[str, dict[str, Any]] = {}
            for run in self.model.runs(container, job["sourceId"]):
                if not run.get("task_source_id"):
                    latest[run["run_source_id"]] = run  # the last state transition wins
            wanted = {str(getattr(s, "value", s)) for s in statusIn} if statusIn else None
            for run_id, run in latest.items():
                status = run["status"].upper()
                if wanted is not None and status not in wanted:
                    continue
                nodes.append(
                    {
                        "id": _global_id(container, "run", run_id),
                        "globalId": _global_id(container, "run", run_id),
                        "sourceId": run_id,
                        "jobGlobalId": job["globalId"],
                        "jobMcon": job["mcon"],
                        "status": status,
                        "rawStatus": run["status"],
                        "eventTime": run["event_time"],
                        "startedAt": run.get("start_time") or run["event_time"],
                        "queuedAt": run.get("queued_at"),
                        "endTime": run.get("end_time"),
                        "trigger": run.get("trigger"),
                        "attemptNumber": run.get("attempt_number") or 1,
                        "runUrl": run.get("run_url"),
                        "error": _json(run.get("error")),
                        "attributes": json.dumps(run.get("attributes") or {}),
                        "isFailure": run["status"] in ("failed", "error", "timed_out", "upstream_failed", "fail"),
                        "job": job,
                    }
                )
        return _connection(nodes, first, after)


def _connection(nodes: list[dict[str, Any]], first: int | None, after: str | None) -> dict[str, Any]:
    start = int(after) if after else 0
    end = len(nodes) if first is None else start + max(first, 0)
    page = nodes[start:end]
    return {
        "edges": [{"node": n, "cursor": str(start + i + 1)} for i, n in enumerate(page)],
        "pageInfo": {
            "hasNextPage": end < len(nodes),
            "hasPreviousPage": start > 0,
            "startCursor": str(start + 1) if page else None,
            "endCursor": str(start + len(page)) if page else None,
        },
        "totalCount": len(nodes),
    }
