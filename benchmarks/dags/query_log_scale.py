"""Query-log scale benchmark DAG: one hourly window of Redshift query history, collected as query
logs and as lineage, then one push.

Driven by ``benchmarks/query_log_scale.py``, which runs it on CeleryExecutor (each task in its own
process on a Celery worker) against the Redshift stand-in. What the DAG reads comes from the
driver's environment, which the DAG processor and every worker inherit, so all of them build the
same DAG:

- ``MCPP_QLS_WINDOW_START`` / ``MCPP_QLS_WINDOW_END``: the hour (ISO-8601, UTC), passed to the
  collectors as their explicit ``start`` / ``end``;
- ``MCPP_QLS_SUBWINDOWS``: how many sub-windows the query-log collector is mapped over
  (``.expand(window_part=[(i, n), ...])``: task ``i`` reads sub-window ``i`` of ``n``);
- ``MCPP_QLS_LINEAGE_PARTS``: the same for the lineage collector (default 1: one task reads the
  whole hour, so each query shape is parsed once; the shape cache lives in the task's process);
- ``MCPP_QLS_PART_EVENTS``: events per manifest part (``max_events_per_manifest``): a collector
  pushes each full part as its own XCom (one object in object storage) and returns an index;
- ``MCPP_QLS_RESULT_PATH``: where the push writes its push-result file;
- ``MCPP_QLS_MAX_RAW_BYTES``: the push's raw-body cap (unset: the operator's default; ``none``: off);
- ``MCPP_QLS_SECOND_PUSH``: ``1`` adds a second push of the same manifests with the raw cap off
  (``max_raw_bytes=None``), to its own sandbox (connection ``monte_carlo_no_raw_cap``) with its
  own state path (the driver starts that sandbox without a raw cap), so one run measures the
  requests both ways;
- ``MCPP_QLS_PARSE_WORKERS``: the lineage collector's ``parse_workers`` (default 0).

Peak RSS per task is recorded by the listener plugin in ``benchmarks/plugins`` (the driver makes
it Airflow's plugins folder), not by the DAG.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.redshift import (
    RedshiftLineageCollectorOperator,
    RedshiftQueryLogCollectorOperator,
)

WINDOW_START = os.environ.get("MCPP_QLS_WINDOW_START", "2026-11-30T09:00:00+00:00")
WINDOW_END = os.environ.get("MCPP_QLS_WINDOW_END", "2026-11-30T10:00:00+00:00")
SUBWINDOWS = max(1, int(os.environ.get("MCPP_QLS_SUBWINDOWS", "4")))
LINEAGE_PARTS = max(1, int(os.environ.get("MCPP_QLS_LINEAGE_PARTS", "1")))
PART_EVENTS = int(os.environ.get("MCPP_QLS_PART_EVENTS", "50000"))
RESULT_PATH = os.environ.get("MCPP_QLS_RESULT_PATH", "/tmp/mcpp_query_log_scale/push_result.json")
PARSE_WORKERS = int(os.environ.get("MCPP_QLS_PARSE_WORKERS", "0"))
SECOND_PUSH = os.environ.get("MCPP_QLS_SECOND_PUSH") == "1"
_RAW = os.environ.get("MCPP_QLS_MAX_RAW_BYTES")
PUSH_LIMITS = {} if not _RAW else {"max_raw_bytes": None if _RAW == "none" else int(_RAW)}

with DAG(
    dag_id="monte_carlo_query_log_scale",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["monte_carlo", "benchmark"],
    default_args={"retries": 0, "execution_timeout": timedelta(hours=1)},
):
    history = {
        "redshift_conn_id": "redshift_default",
        "aws_conn_id": None,
        "start": WINDOW_START,
        "end": WINDOW_END,
        "max_events_per_manifest": PART_EVENTS,
    }
    query_logs = RedshiftQueryLogCollectorOperator.partial(task_id="collect_query_logs", **history).expand(
        window_part=[(i, SUBWINDOWS) for i in range(SUBWINDOWS)]
    )
    # Lineage is the long pole of the hour: queued first, its sub-windows start on every worker at
    # once and the query-log sub-windows fill in behind them.
    lineage = RedshiftLineageCollectorOperator.partial(
        task_id="collect_lineage", parse_workers=PARSE_WORKERS, priority_weight=10, **history
    ).expand(
        window_part=[(i, LINEAGE_PARTS) for i in range(LINEAGE_PARTS)]
    )
    MonteCarloPushOperator(
        task_id="push_to_monte_carlo",
        manifests=[query_logs.output, lineage.output],
        output_path=RESULT_PATH,
        push_bucket=None,  # the benchmark re-runs within the hour
        **PUSH_LIMITS,
    )
    if SECOND_PUSH:
        MonteCarloPushOperator(
            task_id="push_no_raw_cap",
            manifests=[query_logs.output, lineage.output],
            monte_carlo_conn_id="monte_carlo_no_raw_cap",
            output_path=RESULT_PATH.replace(".json", "_no_raw_cap.json"),
            state_path=os.environ.get("MCPP_QLS_SECOND_STATE_PATH"),
            push_bucket=None,
            max_raw_bytes=None,
        )
