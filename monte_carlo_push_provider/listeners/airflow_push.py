"""The listener that pushes Airflow itself to Monte Carlo: DAGs as ETL jobs, dag runs and task
attempts as ETL runs.

Registered by :mod:`monte_carlo_push_provider.plugins.listener` only when
``[monte_carlo] airflow_push = True``. Every hook is a few attribute reads and a non-blocking
``submit`` to the background :class:`~monte_carlo_push_provider.utils.etl_sender.EtlSender`; every
hook swallows its own errors (Airflow logs and ignores a listener exception anyway, but a task log
full of our tracebacks is a cost too). Nothing here changes a task's or a run's outcome.

Where Airflow 3.3 calls which hook (checked by experiment, see docs/airflow-in-monte-carlo.md):

- task processes (Task SDK ``task_runner``): ``on_task_instance_running`` / ``_success`` /
  ``_failed`` (state ``up_for_retry`` or ``failed``) / ``_skipped``, then ``before_stopping`` —
  also after a task deferred or asked to be rescheduled, which no other hook reports;
- the scheduler (``DagRun.update_state``): ``on_dag_run_running`` / ``_success`` / ``_failed``;
  also ``on_task_instance_failed`` for a task it fails itself (heartbeat timeout);
- the API server: ``on_dag_run_success`` / ``_failed`` and ``on_task_instance_*`` when a user
  marks a run or a task in the UI / REST API;
- ``airflow dags test`` / ``dag.test()``: all of the above in one process, except
  ``on_dag_run_running`` (the run is created running).

In task processes a finished attempt's run event also carries what Airflow's OpenLineage
provider knows it read and wrote (:mod:`~monte_carlo_push_provider.listeners.openlineage`), and
a successful one's tables go out as lineage for mapped warehouses.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.listeners import hookimpl

if TYPE_CHECKING:
    from pycarlo.core import Client

    from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloCredentials
    from monte_carlo_push_provider.listeners.settings import ListenerSettings

log = logging.getLogger("monte_carlo_push_provider.listener")

_TERMINAL = frozenset({"success", "failed", "up_for_retry", "skipped", "upstream_failed", "removed"})
_PAUSED_STATES = frozenset({"deferred", "up_for_reschedule"})
#: Nest task runs in the dag-run event up to this many; beyond, send them as their own events.
MAX_NESTED_TASK_RUNS = 100
#: A lineage event this host pushed is pushed again after this long at the earliest.
LINEAGE_REFRESH_S = 24 * 3600.0


def _state(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


class _Runtime:
    """Per-process state: settings, the sender, the DAGs whose metadata this process handled."""

    def __init__(self, settings: ListenerSettings) -> None:
        from monte_carlo_push_provider.listeners.settings import local_state_dir
        from monte_carlo_push_provider.utils.etl_sender import EtlSender

        self.settings = settings
        self.state_dir = Path(local_state_dir(settings.state_path)) / "airflow_etl" / settings.resource_uuid
        self.sender = EtlSender(
            resource_uuid=settings.resource_uuid,
            client_factory=self._client,
            request_timeout_s=settings.request_timeout_s,
            max_queue=settings.queue_size,
            outage_marker=self.state_dir / "outage.json",
        )
        self._lock = threading.Lock()
        self._known: dict[str, dict[str, Any]] = {}  # dag_id -> {"fingerprint", "is_paused"}
        self._open: dict[Any, Any] = {}  # task attempts started in this process, for before_stopping
        # run_source_id -> (inputs, outputs) from OpenLineage, for the dag run's nested task runs
        # when the dag run finishes in this process too (``airflow dags test``)
        self._openlineage_refs: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
        self._lineage_sent: set[str] = set()  # lineage fingerprints this process pushed
        self.resources = self._parse_resources(settings.lineage_resources)
        atexit.register(self.sender.close, settings.flush_timeout_s)

    @staticmethod
    def _parse_resources(text: str) -> dict[str, tuple[str, str]]:
        """``[monte_carlo] airflow_lineage_resources``, parsed once per process."""
        if not text:
            return {}
        from monte_carlo_push_provider.utils.etl_lineage import parse_resource_map

        try:
            return parse_resource_map(text)
        except ValueError as exc:  # json.JSONDecodeError is one
            log.warning("Monte Carlo listener: [monte_carlo] airflow_lineage_resources: %s; no lineage pushed", exc)
            return {}

    def _client(self) -> tuple[Client, MonteCarloCredentials]:
        from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook

        hook = MonteCarloHook(self.settings.conn_id)
        creds = hook.get_credentials()
        return hook.get_ingestion_client(), creds

    # -- metadata -------------------------------------------------------------------------------

    def _fingerprint_file(self, dag_id: str) -> Path:
        return self.state_dir / "dags" / f"{dag_id}.json"

    def _read_fingerprint(self, dag_id: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._fingerprint_file(dag_id).read_text())
        except (OSError, ValueError):
            return None

    def _write_fingerprint(self, dag_id: str, record: dict[str, Any]) -> None:
        path = self._fingerprint_file(dag_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(record, sort_keys=True))
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("Monte Carlo listener: cannot record the metadata fingerprint of %s: %s", dag_id, exc)

    def ensure_metadata(self, dag: Any, is_paused: bool | None = None) -> None:
        """Push the DAG's ETL metadata if this host has not pushed this version of it yet."""
        if dag is None:
            return
        from monte_carlo_push_provider.utils.etl_events import dag_metadata, structure_fingerprint

        asset = dag_metadata(dag, base_url=self.settings.base_url, is_paused=is_paused)
        fingerprint = structure_fingerprint(asset)
        dag_id = asset["job_source_id"]
        with self._lock:
            known = self._known.get(dag_id) or self._read_fingerprint(dag_id) or {}
            same = known.get("fingerprint") == fingerprint
            if same and (is_paused is None or known.get("is_paused") == is_paused):
                self._known[dag_id] = known
                return
            record = {
                "fingerprint": fingerprint,
                "is_paused": is_paused if is_paused is not None else known.get("is_paused"),
            }
            self._known[dag_id] = record  # optimistic: a second hook in this process does not re-send

        def accepted(invocation_id: str) -> None:
            self._write_fingerprint(dag_id, {**record, "invocation_id": invocation_id})

        def failed() -> None:
            with self._lock:
                if self._known.get(dag_id) is record:
                    del self._known[dag_id]  # try again on the next event

        self.sender.submit("metadata", asset, on_accepted=accepted, on_failed=failed)
        self._push_lineage(dag)

    def _push_lineage(self, dag: Any) -> None:
        """Table lineage the DAG's assets declare, for warehouses mapped in
        ``[monte_carlo] airflow_lineage_resources`` — pushed with the metadata, so once per DAG
        version (table lineage never expires in Monte Carlo)."""
        if not self.resources:
            return
        from monte_carlo_push_provider.utils.etl_lineage import table_lineage

        for resource, event in table_lineage(dag, self.resources):
            self._submit_lineage(resource, event)

    # -- OpenLineage: run-time inputs/outputs and lineage of a finished attempt -----------------

    def _lineage_marker(self, fingerprint: str) -> Path:
        return self.state_dir / "lineage" / f"{fingerprint}.json"

    def _lineage_is_fresh(self, fingerprint: str) -> bool:
        if fingerprint in self._lineage_sent:
            return True
        try:
            age = time.time() - self._lineage_marker(fingerprint).stat().st_mtime
        except OSError:
            return False
        return age < LINEAGE_REFRESH_S

    def _push_openlineage(self, task: Any, lineage: Any) -> None:
        """Table and column lineage of a successful attempt, for warehouses mapped in
        ``[monte_carlo] airflow_lineage_resources``. The same event is pushed again at most once
        a day per host (a marker file per event): table lineage never expires in Monte Carlo and
        column lineage lasts 10 days, so a DAG running every minute costs one request a day."""
        from monte_carlo_push_provider.utils.etl_lineage import openlineage_table_lineage

        conn_id = getattr(task, "conn_id", None)
        events = openlineage_table_lineage(lineage, self.resources, conn_id=conn_id if isinstance(conn_id, str) else None)
        for resource, event in events:
            self._submit_lineage(resource, event)

    def _submit_lineage(self, resource: tuple[str, str], event: dict[str, Any]) -> None:
        """One lineage event, unless this host pushed the same one within ``LINEAGE_REFRESH_S``
        (the edges a task's assets declare come back from OpenLineage as the same event)."""
        fingerprint = hashlib.sha256(json.dumps([resource, event], sort_keys=True).encode()).hexdigest()[:32]
        with self._lock:
            if self._lineage_is_fresh(fingerprint):
                return
            self._lineage_sent.add(fingerprint)

        def accepted(invocation_id: str) -> None:
            marker = self._lineage_marker(fingerprint)
            try:
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.write_text(json.dumps({"invocation_id": invocation_id}))
            except OSError as exc:
                log.debug("Monte Carlo listener: lineage marker not written: %s", exc)

        def failed() -> None:
            with self._lock:
                self._lineage_sent.discard(fingerprint)  # try again on the next run

        self.sender.submit("lineage", event, resource=resource, on_accepted=accepted, on_failed=failed)

    def _openlineage(self, ti: Any, status: str | None, event: dict[str, Any]) -> None:
        """Add what OpenLineage knows the attempt read and wrote to its run event; push the
        lineage of a successful one. Only in task processes, for finished attempts (a starting
        one only has OpenLineage preloaded in the background)."""
        if not self.settings.openlineage:
            return
        if status == "running":
            from monte_carlo_push_provider.listeners.openlineage import prewarm

            prewarm(ti)
            return
        if status not in ("success", "failed", "up_for_retry"):
            return
        from monte_carlo_push_provider.listeners.openlineage import is_task_process_instance, task_lineage

        if not is_task_process_instance(ti):
            return
        lineage = task_lineage(ti, failed=status != "success", timeout_s=self.settings.openlineage_timeout_s)
        if lineage is None:
            return
        from monte_carlo_push_provider.utils.etl_lineage import merge_refs, openlineage_refs

        inputs, outputs = openlineage_refs(lineage)
        if inputs:
            event["inputs"] = merge_refs(event.get("inputs") or [], inputs)
        if outputs:
            event["outputs"] = merge_refs(event.get("outputs") or [], outputs)
        with self._lock:
            self._openlineage_refs[event["run_source_id"]] = (inputs, outputs)
        if status == "success" and self.resources:
            self._push_openlineage(getattr(ti, "task", None), lineage)

    # -- task attempts --------------------------------------------------------------------------

    @staticmethod
    def _run_type(ti: Any) -> Any:
        # Task SDK: the dag run is in the (cached) template context. Core: the ORM relationship.
        try:
            if hasattr(ti, "get_template_context"):
                dag_run = ti.get_template_context().get("dag_run")
            else:
                dag_run = getattr(ti, "dag_run", None)
            return getattr(dag_run, "run_type", None)
        except Exception:
            return None

    def task_event(self, ti: Any, *, state: Any = None, error: Any = None) -> None:
        from monte_carlo_push_provider.utils.etl_events import task_run_event

        task = getattr(ti, "task", None)
        self.ensure_metadata(getattr(task, "dag", None))
        event = task_run_event(
            ti, base_url=self.settings.base_url, state=state, run_type=self._run_type(ti), error=error
        )
        status = _state(state if state is not None else ti.state)
        if event is not None:
            self._openlineage(ti, status, event)
            self.sender.submit("runs", event)
        key = (ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1))
        with self._lock:
            if status in _TERMINAL:
                self._open.pop(key, None)
            else:
                self._open[key] = ti

    def task_process_stopping(self) -> None:
        """A task process is about to exit: report a deferral / reschedule (no hook says so),
        then give the sender until the flush deadline."""
        with self._lock:
            open_tis, self._open = list(self._open.values()), {}
        for ti in open_tis:
            if _state(getattr(ti, "state", None)) in _PAUSED_STATES:
                self.task_event(ti)
        self.sender.flush(self.settings.flush_timeout_s)

    # -- dag runs -------------------------------------------------------------------------------

    def dag_run_event(self, dag_run: Any, msg: str | None) -> None:
        from monte_carlo_push_provider.utils.etl_events import (
            dag_run_event,
            task_run_event,
            upstream_failures,
        )

        dag = getattr(dag_run, "dag", None)
        is_paused = None
        try:
            is_paused = bool(dag_run.dag_model.is_paused) if getattr(dag_run, "dag_model", None) is not None else None
        except Exception:  # detached instance: no session to lazy-load the DagModel from
            is_paused = None
        self.ensure_metadata(dag, is_paused=is_paused)
        task_runs: list[dict[str, Any]] = []
        if _state(dag_run.state) in ("success", "failed"):
            tis = _task_instances(dag_run)
            upstream = upstream_failures(tis, dag)
            run_type = getattr(dag_run, "run_type", None)
            for ti in tis:
                event = task_run_event(
                    ti, base_url=self.settings.base_url, run_type=run_type,
                    upstream_failed=upstream.get(ti.task_id, ()),
                )
                if event is not None:
                    self._add_known_openlineage(event)
                    task_runs.append(event)
        nested = task_runs if len(task_runs) <= MAX_NESTED_TASK_RUNS else []
        event = dag_run_event(dag_run, base_url=self.settings.base_url, task_runs=nested, message=msg)
        if event is not None:
            self.sender.submit("runs", event)
        if not nested:
            for task_run in task_runs:
                self.sender.submit("runs", task_run)

    def _add_known_openlineage(self, event: dict[str, Any]) -> None:
        """A nested task run this process already reported with OpenLineage inputs/outputs keeps
        them (the dag run's event must not report the attempt with less than it did)."""
        from monte_carlo_push_provider.utils.etl_lineage import merge_refs

        with self._lock:
            known = self._openlineage_refs.get(event["run_source_id"])
        if known:
            for key, refs in zip(("inputs", "outputs"), known, strict=True):
                if refs:
                    event[key] = merge_refs(event.get(key) or [], refs)


def _task_instances(dag_run: Any) -> list[Any]:
    """The run's task instances, without ever committing the caller's session.

    Never ``dag_run.get_task_instances()`` here: it uses the thread's scoped session and commits
    it, and inside the scheduler loop Airflow's commit guard turns that commit into
    ``UNEXPECTED COMMIT - THIS WILL BREAK HA LOCKS!`` and the scheduler exits (seen in an
    experiment with ``airflow standalone``; tests/listeners/test_scheduler_side.py guards it).
    The scheduler's DagRun is bound to its session, so the ORM relationship loads them with a read
    in that session. A detached DagRun (``airflow dags test``, the API server) is read in a session
    of our own on the same engine, closed without committing anything.
    """
    try:
        loaded = list(dag_run.task_instances or [])
        if loaded:
            return loaded
    except Exception as exc:  # DetachedInstanceError
        log.debug("Monte Carlo listener: task instances of %s not in its session: %s", dag_run.run_id, exc)
    try:
        from airflow import settings
        from airflow.models.taskinstance import TaskInstance
        from sqlalchemy.orm import Session

        with Session(bind=settings.engine) as session:
            tis = (
                session.query(TaskInstance)
                .filter(TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id)
                .all()
            )
            session.expunge_all()
            return tis
    except Exception as exc:
        log.warning("Monte Carlo listener: task instances of %s not readable: %s", dag_run.run_id, exc)
        return []


_runtime: _Runtime | None = None
_runtime_failed = False
_runtime_lock = threading.Lock()


def _get_runtime() -> _Runtime | None:
    global _runtime, _runtime_failed
    if _runtime is not None or _runtime_failed:
        return _runtime
    with _runtime_lock:
        if _runtime is None and not _runtime_failed:
            from monte_carlo_push_provider.listeners.settings import load_settings

            settings = load_settings()
            if settings is None:
                _runtime_failed = True
                return None
            _runtime = _Runtime(settings)
    return _runtime


def _reset_after_fork() -> None:
    # A forked child (a task process under the supervisor) must not inherit a sender whose
    # thread does not exist in it, nor its locks.
    global _runtime, _runtime_failed, _runtime_lock
    _runtime, _runtime_failed, _runtime_lock = None, False, threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


def _guard(what: str, fn: Any, *args: Any, **kwargs: Any) -> None:
    try:
        runtime = _get_runtime()
        if runtime is not None:
            fn(runtime, *args, **kwargs)
    except Exception as exc:
        log.warning("Monte Carlo listener: %s not reported: %s", what, exc, exc_info=log.isEnabledFor(logging.DEBUG))


class MonteCarloAirflowListener:
    """Airflow listener hooks (pluggy ``hookimpl``); see the module docstring for who calls them."""

    @hookimpl
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        _guard("task start", _Runtime.task_event, task_instance, state="running")

    @hookimpl
    def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
        _guard("task success", _Runtime.task_event, task_instance, state="success")

    @hookimpl
    def on_task_instance_failed(self, previous_state: Any, task_instance: Any, error: Any) -> None:
        # task_instance.state says whether this attempt will be retried (up_for_retry) or not.
        _guard("task failure", _Runtime.task_event, task_instance, error=error if error is not None else "failed")

    @hookimpl
    def on_task_instance_skipped(self, previous_state: Any, task_instance: Any) -> None:
        _guard("task skip", _Runtime.task_event, task_instance, state="skipped")

    @hookimpl
    def before_stopping(self, component: Any) -> None:
        if type(component).__name__ == "TaskRunnerMarker":
            _guard("task process exit", _Runtime.task_process_stopping)

    @hookimpl
    def on_dag_run_running(self, dag_run: Any, msg: str) -> None:
        _guard("dag run start", _Runtime.dag_run_event, dag_run, msg)

    @hookimpl
    def on_dag_run_success(self, dag_run: Any, msg: str) -> None:
        _guard("dag run success", _Runtime.dag_run_event, dag_run, msg)

    @hookimpl
    def on_dag_run_failed(self, dag_run: Any, msg: str) -> None:
        _guard("dag run failure", _Runtime.dag_run_event, dag_run, msg)


listener = MonteCarloAirflowListener()
