"""A Redshift query-log window in manifest parts, run by tests/operators/test_streaming.py with
``airflow dags test`` and the object-storage XCom backend (one object per part).

- ``redshift_parts_test``: one collector task whose window is bigger than one part (the test
  sets the part size with ``MCPP_TEST_PART_EVENTS``), its lineage collector, one push.
- ``redshift_subwindows_test``: the same window in 4 mapped sub-windows (``window_part``), each
  in several parts, pushed by one push task.

The window is explicit (10:00-11:00 on 2026-03-01), so two runs of different logical dates read
the same queries: the second must push none of them again.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.redshift import (
    RedshiftLineageCollectorOperator,
    RedshiftQueryLogCollectorOperator,
)

WINDOW = {"start": "2026-03-01T10:00:00Z", "end": "2026-03-01T11:00:00Z"}
PART_EVENTS = int(os.environ.get("MCPP_TEST_PART_EVENTS", "50000"))
SUB_WINDOWS = 4

with DAG(
    dag_id="redshift_parts_test", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc), catchup=False,
):
    query_logs = RedshiftQueryLogCollectorOperator(
        task_id="query_logs", max_events_per_manifest=PART_EVENTS, fetch_size=97, **WINDOW,
    )
    lineage = RedshiftLineageCollectorOperator(task_id="lineage", fetch_size=97, **WINDOW)
    MonteCarloPushOperator(task_id="push", manifests=[query_logs.output, lineage.output], push_bucket=None)

with DAG(
    dag_id="redshift_subwindows_test", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
):
    mapped = RedshiftQueryLogCollectorOperator.partial(
        task_id="query_logs", max_events_per_manifest=PART_EVENTS, fetch_size=97, **WINDOW,
    ).expand(window_part=[(i, SUB_WINDOWS) for i in range(SUB_WINDOWS)])
    MonteCarloPushOperator(task_id="push", manifests=mapped.output, push_bucket=None)
