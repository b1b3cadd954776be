"""Benchmark plugin: each task's peak RSS, written by the task's own process.

``benchmarks/query_log_scale.py`` makes this folder Airflow's plugins folder. Airflow 3 runs a
task in a task-runner process that a supervisor forks (on a Celery worker the supervisor is the
worker's pool process), and calls task-instance listeners in the task-runner process when the
task ends. This listener reads the kernel's high-water mark of resident memory there
(``VmHWM`` in ``/proc/self/status``: the most the process ever held, not a sample) and the
supervisor's, and writes one JSON record per task instance to ``MCPP_QLS_REPORT_DIR``.

The task process is forked from the supervisor, so its figure includes the Airflow it was forked
with (pages shared with the supervisor count in both RSS figures). The supervisor is long-lived
(it runs every task of its pool slot), so its high-water mark is the most any of its tasks made it
hold. Without ``MCPP_QLS_REPORT_DIR`` the listener does nothing.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

_started: dict[str, float] = {}


def _status_kb(pid: int | str, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _key(task_instance: Any) -> str:
    index = getattr(task_instance, "map_index", -1)
    index = -1 if index is None else index
    return task_instance.task_id if index < 0 else f"{task_instance.task_id}[{index}]"


def _record(task_instance: Any, state: str) -> None:
    report_dir = os.environ.get("MCPP_QLS_REPORT_DIR")
    if not report_dir:
        return
    key = _key(task_instance)
    record = {
        "task": key,
        "task_id": task_instance.task_id,
        "map_index": getattr(task_instance, "map_index", -1),
        "state": state,
        "pid": os.getpid(),
        "hostname": socket.gethostname(),
        # Which Celery worker ran it: the benchmark starts every worker with its own name here
        # (two workers on one machine share the hostname Airflow records).
        "worker": os.environ.get("MCPP_QLS_WORKER") or socket.gethostname(),
        "peak_rss_mb": _status_kb("self", "VmHWM") / 1024,
        "rss_at_start_mb": _started.get(key + ":rss_kb", 0) / 1024,
        "peak_at_start_mb": _started.get(key + ":hwm_kb", 0) / 1024,
        "supervisor_pid": os.getppid(),
        "supervisor_peak_rss_mb": _status_kb(os.getppid(), "VmHWM") / 1024,
        "seconds": time.monotonic() - _started.get(key, time.monotonic()),
    }
    Path(report_dir).mkdir(parents=True, exist_ok=True)
    (Path(report_dir) / f"{key}.json").write_text(json.dumps(record))


class PeakRssListener:
    @hookimpl
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        key = _key(task_instance)
        _started[key] = time.monotonic()
        _started[key + ":rss_kb"] = _status_kb("self", "VmRSS")
        _started[key + ":hwm_kb"] = _status_kb("self", "VmHWM")

    @hookimpl
    def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
        _record(task_instance, "success")

    @hookimpl
    def on_task_instance_failed(self, previous_state: Any, task_instance: Any, error: Any) -> None:
        _record(task_instance, "failed")


class PeakRssPlugin(AirflowPlugin):
    name = "mcpp_benchmark_peak_rss"
    listeners = [PeakRssListener()]
