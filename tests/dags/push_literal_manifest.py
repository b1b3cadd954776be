"""A push of a literal manifest whose SQL contains Jinja syntax, for
tests/reliability/test_templates.py: the query text must reach Monte Carlo exactly as written
(never rendered: ``{{ conn.x.password }}`` would otherwise push the password), while
``output_path`` does render."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.sdk import DAG

from monte_carlo_push_provider.manifest import new_manifest, query_log_entry
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator

T0 = datetime(2026, 11, 25, 10, tzinfo=timezone.utc)
SQL = "select '{{ conn.x.password }}' as p, '{{ ds }}' as d -- {% raw %}kept{% endraw %}"

with DAG(
    dag_id="push_literal_manifest",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["test"],
):
    MonteCarloPushOperator(
        task_id="push",
        manifests=[new_manifest("query_logs", [query_log_entry(start_time=T0, end_time=T0, query_text=SQL,
                                                               query_id="jinja-1")], log_type="snowflake")],
        output_path=os.environ.get("MONTE_CARLO_PUSH_RESULTS", "/tmp/push_literal") + "/{{ dag.dag_id }}/{{ ts_nodash }}.json",
        push_bucket=None,
    )
