"""Scale benchmark DAG: one mapped collector task per database, then one push.

Driven by ``benchmarks/scale_100k.py`` (its own DAGs folder, so it never shows up next to the
example DAGs). The databases come from ``MCPP_SCALE_CONN_IDS`` (comma-separated Airflow
connection ids, one per SQLite file, set as ``AIRFLOW_CONN_*`` env vars by the driver); each id is
also the database name Monte Carlo shows.

Every task reports its own peak RSS: ``on_execute_callback`` records the process's peak so far and
(when ``MCPP_SCALE_RESET_PEAK=1``, i.e. when several tasks share one process under
``airflow dags test``) resets the kernel's high-water mark through ``/proc/self/clear_refs``;
``on_success_callback`` reads ``VmHWM`` again and writes one JSON record per task instance to
``MCPP_SCALE_REPORT_DIR``. The callbacks run in the task's own process after the return value was
serialised to XCom, so the figure covers execute + XCom write.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.sql import SqlMetadataCollectorOperator

CONN_IDS = [c for c in os.environ.get("MCPP_SCALE_CONN_IDS", "scale_db_00").split(",") if c]
REPORT_DIR = os.environ.get("MCPP_SCALE_REPORT_DIR", "/tmp/mcpp_scale_report")
RESULT_PATH = os.environ.get("MCPP_SCALE_RESULT_PATH", "/tmp/mcpp_scale_report/push_result.json")

_started: dict[str, float] = {}


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _key(context: Any) -> str:
    ti = context["ti"]
    index = getattr(ti, "map_index", -1)
    return f"{ti.task_id}-{index if index is not None else -1}"


def record_start(context: Any) -> None:
    key = _key(context)
    _started[key] = time.monotonic()
    _started[key + ":boot_peak_kb"] = _status_kb("VmHWM")
    _started[key + ":start_rss_kb"] = _status_kb("VmRSS")
    if os.environ.get("MCPP_SCALE_RESET_PEAK") == "1":
        # Several tasks in one process (airflow dags test): start this task's peak from the
        # current RSS instead of the largest earlier task's.
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")


def record_peak(context: Any) -> None:
    key = _key(context)
    ti = context["ti"]
    record = {
        "task_id": ti.task_id,
        "map_index": getattr(ti, "map_index", -1),
        "pid": os.getpid(),
        "task_peak_rss_mb": _status_kb("VmHWM") / 1024,
        "rss_at_start_mb": _started.get(key + ":start_rss_kb", 0) / 1024,
        "peak_before_task_mb": _started.get(key + ":boot_peak_kb", 0) / 1024,
        "execute_s": time.monotonic() - _started.get(key, time.monotonic()),
        "peak_reset": os.environ.get("MCPP_SCALE_RESET_PEAK") == "1",
    }
    Path(REPORT_DIR).mkdir(parents=True, exist_ok=True)
    (Path(REPORT_DIR) / f"{key}.json").write_text(json.dumps(record))
    print(f"PEAK_RSS {json.dumps(record)}")


with DAG(
    dag_id="monte_carlo_scale_100k",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"on_execute_callback": record_start, "on_success_callback": record_peak},
    tags=["monte_carlo", "benchmark"],
):
    collect = SqlMetadataCollectorOperator.partial(
        task_id="collect_metadata",
        # Rendered after conn_id (template_fields order): each mapped instance names its database
        # after its own connection.
        database="{{ task.conn_id }}",
        resource_type="data-lake",
        catalog="sqlite",
    ).expand(conn_id=CONN_IDS)
    MonteCarloPushOperator(
        task_id="push_to_monte_carlo",
        manifests=collect.output,
        output_path=RESULT_PATH,
        min_push_interval=None,  # the benchmark re-runs within the hour
    )
