"""Airflow objects -> Monte Carlo ETL event dicts (the shapes of pycarlo's ``EtlAsset`` and
``EtlRunEvent`` ``to_dict()``), with no I/O and no pycarlo import.

The listener calls these inside Airflow's hooks, so they only read attributes: the background
sender turns the dicts into pycarlo dataclasses (which validate statuses, triggers and attempt
numbers) off the task's thread. Every function accepts both flavours of Airflow object it meets:
the Task SDK's (``RuntimeTaskInstance``, SDK ``DAG``, in task processes) and the core ones
(``TaskInstance``, ``SerializedDAG``, ``DagRun``, in the scheduler, the API server and
``airflow dags test``) — hence ``getattr`` with fallbacks rather than type checks.

Identifiers (stable, so every process names the same thing the same way):

- job and group: ``dag_id``; task: ``task_id``;
- dag run: ``<dag_id>/<run_id>``;
- task attempt: ``<dag_id>/<run_id>/<task_id>[<map_index>]/<try_number>`` (one ETL run per
  attempt, ``parent_attempt_run_source_id`` pointing at the previous one).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, overload
from urllib.parse import quote

from monte_carlo_push_provider.utils.etl_lineage import task_asset_refs

RESOURCE_TYPE = "airflow"
GROUP_TYPE = "DAG"
#: Longest error message sent (Monte Carlo shows it in the run's detail; tracebacks stay in Airflow).
MAX_ERROR_CHARS = 2000

#: Airflow TaskInstanceState value -> pycarlo ``ETL_RUN_STATUS_VALUES`` (``running`` is not one).
TASK_STATUS: dict[str, str] = {
    "scheduled": "scheduled",
    "queued": "queued",
    "running": "in_progress",
    "restarting": "restarting",
    "success": "success",
    "failed": "failed",
    "up_for_retry": "up_for_retry",
    "up_for_reschedule": "up_for_reschedule",
    "upstream_failed": "upstream_failed",
    "skipped": "skipped",
    "removed": "removed",
    "deferred": "deferred",
    "awaiting_input": "blocked",  # human-in-the-loop operators waiting for a person
}
#: Airflow DagRunState value -> ETL status.
DAG_RUN_STATUS: dict[str, str] = {
    "queued": "queued",
    "running": "in_progress",
    "success": "success",
    "failed": "failed",
}
#: Airflow DagRunType value -> pycarlo ``ETL_RUN_TRIGGER_VALUES``.
RUN_TRIGGER: dict[str, str] = {
    "scheduled": "SCHEDULE",
    "manual": "MANUAL",
    "backfill": "BACKFILL",
    "asset_triggered": "EVENT",
    "asset_materialization": "EVENT",
    "operator_triggered": "UPSTREAM",  # TriggerDagRunOperator
}

# key=value / key: value pairs whose key says "secret"; URL userinfo; bearer tokens.
_SECRET_PAIR = re.compile(
    r"(?i)\b([\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|"
    r"authorization|credentials?)[\w.-]*)([\"']?\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&)}]+)"
)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[a-z0-9._~+/=-]+")


def _value(state: Any) -> str | None:
    if state is None:
        return None
    return str(getattr(state, "value", state))


@overload
def iso(value: datetime) -> str: ...
@overload
def iso(value: datetime | None) -> str | None: ...
def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def now_iso() -> str:
    return iso(datetime.now(timezone.utc))


def scrub(message: Any, limit: int = MAX_ERROR_CHARS) -> str:
    """An error message safe to leave Airflow: masked by Airflow's secrets masker (every
    connection password and ``mask_secret``-ed value this process knows), then pattern-scrubbed
    for secrets the masker never saw (``password=…`` in a driver message, URL userinfo, bearer
    tokens), then truncated."""
    text = message if isinstance(message, str) else f"{type(message).__name__}: {message}"
    for module in ("airflow.sdk._shared.secrets_masker", "airflow._shared.secrets_masker"):
        try:
            redact = __import__(module, fromlist=["redact"]).redact
            text = str(redact(text))
        except Exception:  # noqa: S112 - the masker is best effort; the patterns below still run
            continue
    text = _BEARER.sub(r"\1***", text)  # before the pairs: "Authorization: Bearer <token>"
    text = _SECRET_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    text = _URL_USERINFO.sub(r"\1***@", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------
# Links into the Airflow 3 UI
# --------------------------------------------------------------------------------------------


def dag_url(base_url: str, dag_id: str) -> str:
    return f"{base_url.rstrip('/')}/dags/{quote(dag_id, safe='')}"


def dag_run_url(base_url: str, dag_id: str, run_id: str) -> str:
    return f"{dag_url(base_url, dag_id)}/runs/{quote(run_id, safe='')}"


def task_run_url(base_url: str, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int) -> str:
    url = f"{dag_run_url(base_url, dag_id, run_id)}/tasks/{quote(task_id, safe='')}"
    if map_index >= 0:
        url += f"/mapped/{map_index}"
    return f"{url}?try_number={try_number}"


# --------------------------------------------------------------------------------------------
# Metadata: a DAG as an ETL job in a DAG group
# --------------------------------------------------------------------------------------------


def _attr(obj: Any, name: str) -> Any:
    """Task SDK timetables are attrs classes (``expression``); core ones keep ``_expression``."""
    value = getattr(obj, name, None)
    return value if value is not None else getattr(obj, "_" + name, None)


def _schedule(dag: Any) -> dict[str, Any]:
    # Only what the SDK DAG (task processes) and the SerializedDAG (scheduler) both know, in the
    # same form: the fingerprint compares the two.
    timetable = getattr(dag, "timetable", None)
    name = type(timetable).__name__ if timetable is not None else "NullTimetable"
    expression, delta, tz = _attr(timetable, "expression"), _attr(timetable, "delta"), _attr(timetable, "timezone")
    if "Cron" in name and isinstance(expression, str) and expression:
        schedule: dict[str, Any] = {"kind": "cron", "cron_expression": expression}
        tz_name = getattr(tz, "name", None) or (str(tz) if tz is not None else None)
        if tz_name:
            schedule["timezone"] = tz_name
    elif "Delta" in name and isinstance(delta, timedelta):
        schedule = {"kind": "interval", "interval_seconds": int(delta.total_seconds())}
    elif "Asset" in name:
        schedule = {"kind": "event"}
    else:  # NullTimetable (schedule=None), @once, continuous, custom timetables
        schedule = {"kind": "manual"}
    schedule["raw"] = {"timetable": name}
    return schedule


def _tasks(dag: Any) -> list[dict[str, Any]]:
    out = []
    for task in sorted(getattr(dag, "tasks", []) or [], key=lambda t: t.task_id):
        entry: dict[str, Any] = {
            "task_source_id": task.task_id,
            "name": getattr(task, "task_display_name", None) or task.task_id,
            "task_type": getattr(task, "task_type", None) or type(task).__name__,
        }
        upstream = sorted(getattr(task, "upstream_task_ids", ()) or ())
        if upstream:
            entry["upstream_task_source_ids"] = upstream
        attributes = {
            "operator": getattr(task, "operator_name", None),
            "owner": getattr(task, "owner", None),
            "retries": getattr(task, "retries", None),
            "trigger_rule": _value(getattr(task, "trigger_rule", None)),
        }
        attributes = {k: v for k, v in attributes.items() if v is not None}
        if attributes:
            entry["attributes"] = attributes
        inputs, outputs = task_asset_refs(task)
        if inputs:
            entry["inputs"] = inputs
        if outputs:
            entry["outputs"] = outputs
        out.append(entry)
    return out


def dag_metadata(dag: Any, *, base_url: str, is_paused: bool | None = None) -> dict[str, Any]:
    """``EtlAsset.to_dict()`` for one DAG: the job, its DAG group, its tasks."""
    dag_id = dag.dag_id
    display = getattr(dag, "dag_display_name", None) or dag_id
    schedule = _schedule(dag)
    asset: dict[str, Any] = {
        "job_source_id": dag_id,
        "name": display,
        "group": {"source_id": dag_id, "name": display, "group_type": GROUP_TYPE, "schedule": schedule},
        "job_url": dag_url(base_url, dag_id),
        "schedule": schedule,
    }
    description = getattr(dag, "description", None)
    if description:
        asset["description"] = str(description)
    owners = sorted({str(o) for t in getattr(dag, "tasks", []) or [] for o in [getattr(t, "owner", None)] if o})
    if owners:
        asset["owner"] = {"primary_name": ", ".join(owners), "raw": {"owners": owners}}
    tags = sorted(str(t) for t in (getattr(dag, "tags", None) or ()))
    if tags:
        asset["properties"] = [{"key": tag} for tag in tags]
    if is_paused is not None:
        asset["is_paused"] = bool(is_paused)
    asset["tasks"] = _tasks(dag)
    return asset


def structure_fingerprint(asset: Mapping[str, Any]) -> str:
    """What decides whether a DAG's metadata needs pushing again: everything but ``is_paused``
    (only the scheduler side knows it, so a task process would otherwise see a change each time
    it runs after the scheduler pushed)."""
    body = {k: v for k, v in asset.items() if k != "is_paused"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------


def dag_run_source_id(dag_id: str, run_id: str) -> str:
    return f"{dag_id}/{run_id}"


def task_run_source_id(dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int) -> str:
    task = f"{task_id}[{map_index}]" if map_index is not None and map_index >= 0 else task_id
    return f"{dag_id}/{run_id}/{task}/{try_number}"


def trigger_for(run_type: Any, try_number: int | None = None) -> str | None:
    if try_number is not None and try_number > 1:
        return "RETRY"
    return RUN_TRIGGER.get(_value(run_type) or "")


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v != [] and v != {}}


def task_run_event(
    ti: Any,
    *,
    base_url: str,
    state: Any = None,
    run_type: Any = None,
    error: Any = None,
    upstream_failed: Iterable[str] = (),
    event_time: str | None = None,
) -> dict[str, Any] | None:
    """``EtlRunEvent.to_dict()`` for one task attempt, or None if its state maps to no ETL status
    (a task instance with no state yet)."""
    status = TASK_STATUS.get(_value(state if state is not None else ti.state) or "")
    if status is None:
        return None
    try_number = max(int(getattr(ti, "try_number", 1) or 1), 1)
    map_index = int(getattr(ti, "map_index", -1) if getattr(ti, "map_index", None) is not None else -1)
    dag_id, run_id, task_id = ti.dag_id, ti.run_id, ti.task_id
    event = {
        "job_source_id": dag_id,
        "run_source_id": task_run_source_id(dag_id, run_id, task_id, map_index, try_number),
        "task_source_id": task_id,
        "status": status,
        "event_time": event_time or now_iso(),
        "start_time": iso(getattr(ti, "start_date", None)),
        "end_time": iso(getattr(ti, "end_date", None)) if status != "in_progress" else None,
        "queued_at": iso(getattr(ti, "queued_dttm", None)),
        "trigger": trigger_for(run_type, try_number),
        "attempt_number": try_number,
        "parent_attempt_run_source_id": (
            task_run_source_id(dag_id, run_id, task_id, map_index, try_number - 1) if try_number > 1 else None
        ),
        "run_url": task_run_url(base_url, dag_id, run_id, task_id, map_index, try_number),
        "attributes": _drop_none(
            {"dag_run_source_id": dag_run_source_id(dag_id, run_id), "map_index": map_index if map_index >= 0 else None}
        ),
    }
    task = getattr(ti, "task", None)
    if task is not None and status not in ("in_progress", "queued", "scheduled"):
        event["inputs"], event["outputs"] = task_asset_refs(task)
    upstream = sorted(upstream_failed)
    if error is not None or (status == "upstream_failed" and upstream):
        message = scrub(error) if error is not None else "upstream task failed: " + ", ".join(upstream)
        event["error"] = _drop_none(
            {
                "message": message or "failed",
                "retryable": status == "up_for_retry" or None,
                "failure_type": type(error).__name__ if isinstance(error, BaseException) else None,
                "upstream_failed_task_source_ids": upstream,
            }
        )
    return _drop_none(event)


def dag_run_event(
    dag_run: Any,
    *,
    base_url: str,
    task_runs: Iterable[dict[str, Any]] = (),
    message: str | None = None,
    event_time: str | None = None,
) -> dict[str, Any] | None:
    """``EtlRunEvent.to_dict()`` for a dag run, with its task attempts nested as ``task_runs``."""
    status = DAG_RUN_STATUS.get(_value(dag_run.state) or "")
    if status is None:
        return None
    dag_id, run_id = dag_run.dag_id, dag_run.run_id
    run_type = _value(getattr(dag_run, "run_type", None))
    event = {
        "job_source_id": dag_id,
        "run_source_id": dag_run_source_id(dag_id, run_id),
        "status": status,
        "event_time": event_time or now_iso(),
        "start_time": iso(getattr(dag_run, "start_date", None)),
        "end_time": iso(getattr(dag_run, "end_date", None)) if status in ("success", "failed") else None,
        "queued_at": iso(getattr(dag_run, "queued_at", None)),
        "trigger": trigger_for(run_type),
        "run_url": dag_run_url(base_url, dag_id, run_id),
        "task_runs": list(task_runs),
        "attributes": _drop_none(
            {
                "run_id": run_id,
                "run_type": run_type,
                "logical_date": iso(getattr(dag_run, "logical_date", None)),
            }
        ),
    }
    if status == "failed":
        event["error"] = {"message": scrub(message or "dag run failed")}
    return _drop_none(event)


def upstream_failures(tis: Iterable[Any], dag: Any) -> dict[str, list[str]]:
    """task_id -> upstream task ids that failed, for the upstream_failed tasks of a finished run."""
    failed = {ti.task_id for ti in tis if _value(ti.state) in ("failed", "upstream_failed")}
    out: dict[str, list[str]] = {}
    for ti in tis:
        if _value(ti.state) != "upstream_failed" or dag is None:
            continue
        try:
            task = dag.get_task(ti.task_id)
        except Exception:  # noqa: S112 - a task removed from the DAG since the run started
            continue
        out[ti.task_id] = sorted(set(getattr(task, "upstream_task_ids", ()) or ()) & failed)
    return out
