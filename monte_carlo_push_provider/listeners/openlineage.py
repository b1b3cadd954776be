"""A finished task's OpenLineage metadata, read in the task process for the Monte Carlo listener.

Airflow's OpenLineage provider (``apache-airflow-providers-openlineage``, the ``openlineage``
extra) knows the tables most operators read and write: SQL operators parse their statements,
transfer operators and hooks report datasets, any operator may implement
``get_openlineage_facets_on_complete``. Its own listener only *emits* that to an OpenLineage
backend when a transport is configured; the extraction itself
(:class:`~airflow.providers.openlineage.extractors.manager.ExtractorManager`) works with
OpenLineage emission disabled, and that is what this module calls (checked on Airflow 3.3 with
provider 2.20: it needs the Task SDK's ``RuntimeTaskInstance`` and its template context, so it
only runs in task processes).

Two deliberate differences from the OpenLineage listener's own call:

- hook-level *SQL* lineage is not parsed here: ``ExtractorManager.get_hook_lineage`` turns it
  into separate per-query OpenLineage events and emits them, which would double what the
  OpenLineage listener emits (or print them to the task log with no transport). The datasets
  hooks report (``add_input_asset`` / ``add_output_asset``) are still read;
- source code is never collected (nothing here forwards it).

The user's ``[openlineage]`` emission policy (``disabled_for_operators``, ``selective_enable``,
``emission_policy``) is honoured: a task OpenLineage would not report is not extracted.

Tasks OpenLineage knows nothing more about than their assets (plain ``@task`` and Bash tasks:
no OpenLineage methods, no custom extractor, no hook-reported datasets) are skipped before
anything of OpenLineage is imported (:func:`worth_extracting`).

Everything runs on a worker thread the hook waits for at most ``timeout_s``: the task's outcome
is recorded before listener hooks run, so a slow extraction (an import, the schema query a SQL
operator makes) only delays the process's exit, and never by more than that bound. An
extraction that fails or times out is logged once per process (warning) and the run is reported
without OpenLineage inputs/outputs.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger("monte_carlo_push_provider.listener")

_warned: set[str] = set()
_manager: Any = None
_manager_lock = threading.Lock()
_unavailable = False


def _warn_once(kind: str, message: str, *args: Any) -> None:
    if kind in _warned:
        log.debug(message, *args)
        return
    _warned.add(kind)
    log.warning(message, *args)


def is_task_process_instance(ti: Any) -> bool:
    """The Task SDK's ``RuntimeTaskInstance`` (a task process), not a core ``TaskInstance``
    (scheduler, API server), which carries no operator to extract from."""
    return type(ti).__name__ == "RuntimeTaskInstance"


_OL_METHODS = (
    "get_openlineage_facets_on_start",
    "get_openlineage_facets_on_complete",
    "get_openlineage_facets_on_failure",
)


def _hook_lineage_collected() -> bool:
    """Whether a hook reported lineage in this process (without creating the collector, which
    would load every provider's asset handlers). Unknown internals count as yes."""
    try:
        from airflow.sdk import lineage

        if lineage.get_hook_lineage_collector.cache_info().currsize == 0:
            return False
        return bool(getattr(lineage.get_hook_lineage_collector(), "has_collected", True))
    except Exception:
        return True


def worth_extracting(task: Any) -> bool:
    """Whether OpenLineage can know more about this task than its assets, which the listener
    already reports: the operator has OpenLineage methods (SQL operators, transfers, ours), custom
    extractors are configured, or a hook reported datasets. A plain ``@task`` / Bash task has
    none of these (OpenLineage would return its inlets/outlets and source code), so it never pays
    the OpenLineage import (seconds on a loaded machine)."""
    if any(callable(getattr(task, name, None)) for name in _OL_METHODS):
        return True
    try:
        from airflow.configuration import conf

        if (conf.get("openlineage", "extractors", fallback="") or "").strip():
            return True
    except Exception:  # noqa: S110 - unreadable config: decided by the hook-lineage check
        pass
    return _hook_lineage_collected()


def _extractor_manager() -> Any:
    global _manager, _unavailable
    with _manager_lock:
        if _manager is None and not _unavailable:
            try:
                from airflow.providers.openlineage.extractors.manager import ExtractorManager
            except ImportError:
                _unavailable = True
                log.debug(
                    "Monte Carlo listener: apache-airflow-providers-openlineage is not installed (the "
                    "openlineage extra); task runs carry only their Airflow assets as inputs/outputs"
                )
                return None
            _manager = ExtractorManager()
    return _manager


def prewarm(ti: Any) -> None:
    """At a task's start: load OpenLineage's extractor manager on a background thread while the
    task executes, so the extraction at its end does not pay the import (seconds on a loaded
    machine). Only for tasks :func:`worth_extracting`; never blocks, never raises."""
    if _manager is not None or _unavailable or not is_task_process_instance(ti):
        return
    if not worth_extracting(getattr(ti, "task", None)):
        return

    def load() -> None:
        try:
            _extractor_manager()
        except Exception as exc:  # the extraction at the end reports a real failure
            log.debug("Monte Carlo listener: OpenLineage not preloaded: %s", exc)

    threading.Thread(target=load, name="monte-carlo-openlineage-preload", daemon=True).start()


def _policy(task: Any, ti: Any) -> Any | None:
    """The task's resolved OpenLineage emission policy, with hook SQL lineage and source code off;
    None if OpenLineage would not report this task at all."""
    from dataclasses import replace

    from airflow.providers.openlineage.utils.emission_policy import EmissionPolicy

    try:
        from airflow.providers.openlineage.utils.emission_policy import resolve_task_emission_policy

        policy = resolve_task_emission_policy(operator=task, dag_id=ti.dag_id, task_id=ti.task_id)
    except Exception as exc:  # an unreadable [openlineage] emission_policy: OpenLineage's defaults
        log.debug("Monte Carlo listener: OpenLineage emission policy not resolved: %s", exc)
        policy = EmissionPolicy.defaults()
    if not policy.emit or not policy.extract_operator_metadata:
        return None
    return replace(policy, hook_lineage=False, include_source_code=False)


def _hook_datasets(manager: Any) -> tuple[list[Any], list[Any]]:
    """Datasets hooks reported to Airflow's hook-lineage collector in this process (never the
    SQL extras, see the module docstring)."""
    from airflow.providers.openlineage.extractors import manager as manager_module

    if not manager_module._is_hook_lineage_collector_created():
        return [], []
    from airflow.providers.common.compat.lineage.hook import get_hook_lineage_collector
    from airflow.providers.common.compat.openlineage.utils.utils import translate_airflow_asset

    collector = get_hook_lineage_collector()
    if not getattr(collector, "has_collected", False):
        return [], []
    collected = collector.collected_assets

    def translate(infos: Any) -> list[Any]:
        return [d for info in infos for d in [translate_airflow_asset(info.asset, info.context)] if d is not None]

    return translate(collected.inputs), translate(collected.outputs)


def _extract(ti: Any, failed: bool) -> Any | None:
    manager = _extractor_manager()
    if manager is None:
        return None
    from airflow.utils.state import TaskInstanceState

    context = ti.get_template_context()
    task, dag_run = context["task"], context["dag_run"]
    policy = _policy(task, ti)
    if policy is None:
        return None
    lineage = manager.extract_metadata(
        dagrun=dag_run,
        task=task,
        task_instance_state=TaskInstanceState.FAILED if failed else TaskInstanceState.SUCCESS,
        task_instance=ti,
        controls=policy,
    )
    if lineage is not None and not lineage.inputs and not lineage.outputs:
        inputs, outputs = _hook_datasets(manager)
        lineage.inputs.extend(inputs)
        lineage.outputs.extend(outputs)
    return lineage


def task_lineage(ti: Any, *, failed: bool, timeout_s: float) -> Any | None:
    """The task attempt's ``OperatorLineage`` (``inputs`` / ``outputs`` OpenLineage datasets), or
    None: not a task process, OpenLineage not installed or not reporting this task, extraction
    failed or took longer than ``timeout_s``."""
    if not is_task_process_instance(ti) or _unavailable or not worth_extracting(getattr(ti, "task", None)):
        return None
    result: dict[str, Any] = {}
    started = time.monotonic()

    def work() -> None:
        try:
            result["lineage"] = _extract(ti, failed)
        except BaseException as exc:  # noqa: BLE001 - anything an operator's extractor raises
            result["error"] = exc

    worker = threading.Thread(target=work, name="monte-carlo-openlineage", daemon=True)
    worker.start()
    worker.join(max(timeout_s, 0.0))
    if worker.is_alive():
        _warn_once(
            "timeout",
            "Monte Carlo listener: OpenLineage extraction of %s.%s took longer than %.1f s "
            "([monte_carlo] airflow_openlineage_timeout_s); its run is reported without OpenLineage "
            "inputs/outputs", ti.dag_id, ti.task_id, timeout_s,
        )
        return None
    if "error" in result:
        from monte_carlo_push_provider.utils.etl_events import scrub

        _warn_once(
            "error",
            "Monte Carlo listener: OpenLineage extraction of %s.%s failed (%s); its run is reported "
            "without OpenLineage inputs/outputs", ti.dag_id, ti.task_id, scrub(result["error"], 500),
        )
        return None
    lineage = result.get("lineage")
    if lineage is not None:
        log.info(
            "Monte Carlo listener: OpenLineage reports %d input(s), %d output(s) for %s.%s (read in %.2f s)",
            len(lineage.inputs or ()), len(lineage.outputs or ()), ti.dag_id, ti.task_id, time.monotonic() - started,
        )
    return lineage
