"""Push metadata, lineage and query logs to Monte Carlo, then confirm they arrived.

A 202 from Monte Carlo's gateway means "accepted", not "visible": processing is asynchronous
(metadata: a few minutes; table lineage: seconds to minutes; column lineage: a few minutes;
query logs: 15-20 minutes, up to an hour). ``MonteCarloPushedDataSensor`` waits in the triggerer
(deferrable, no worker slot) until the GraphQL API shows *this* push (by its invocation_ids, not
by data an earlier identical push left), and on timeout names
the missing tables and the invocation_ids to quote to Monte Carlo support. See docs/sensor.md.

Also shows the custom-lineage operators: a permanent edge from a warehouse table to a BI report
(``expire_at`` defaults to 9999-12-31; Monte Carlo's own default deletes it after 7 days).

Connection ``monte_carlo_default``: ingestion key as login/password, GraphQL API key in the
extras ``graphql_key_id`` / ``graphql_key_secret``, warehouse UUID in ``resource_uuid``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, task

from monte_carlo_push_provider.operators.graphql import (
    MonteCarloCreateOrUpdateLineageEdgeOperator,
    MonteCarloCreateOrUpdateLineageNodeOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

ORDERS = "ANALYTICS:PUBLIC.orders"
ORDERS_DAILY = "ANALYTICS:PUBLIC.orders_daily"

with DAG(
    dag_id="monte_carlo_confirm_arrival",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["monte-carlo", "example"],
) as dag:

    @task
    def collect(data_interval_end: datetime | None = None) -> list[dict]:
        """Stand-in for a collector operator: one manifest per kind, built with the manifest builders."""
        from monte_carlo_push_provider.manifest import (
            lineage_asset_ref,
            lineage_event,
            new_manifest,
            query_log_entry,
            relational_asset,
        )

        end = data_interval_end or datetime.now(timezone.utc)
        metadata = new_manifest(
            "metadata",
            [
                relational_asset(type="TABLE", name="orders", database="ANALYTICS", schema="PUBLIC",
                                 fields=[("id", "NUMBER"), ("amount", "NUMBER")], row_count=1000, last_update_time=end),
                relational_asset(type="TABLE", name="orders_daily", database="ANALYTICS", schema="PUBLIC",
                                 fields=[("day", "DATE"), ("total", "NUMBER")], row_count=30, last_update_time=end),
            ],
            resource_type="snowflake",
        )
        src = lineage_asset_ref(name="orders", database="ANALYTICS", schema="PUBLIC", asset_id="src")
        dst = lineage_asset_ref(name="orders_daily", database="ANALYTICS", schema="PUBLIC", asset_id="dst")
        lineage = new_manifest("lineage", [lineage_event(dst, [src], {"total": [("src", "amount")]})],
                               resource_type="snowflake")
        logs = new_manifest(
            "query_logs",
            [query_log_entry(start_time=end - timedelta(minutes=10), end_time=end - timedelta(minutes=9),
                             query_text="insert into analytics.public.orders_daily select sum(amount) from analytics.public.orders",
                             query_id="q-1", user="etl@example.com")],
            log_type="snowflake",
        )
        return [metadata, lineage, logs]

    push = MonteCarloPushOperator(task_id="push", manifests=collect())

    confirm = MonteCarloPushedDataSensor(
        task_id="confirm_arrival",
        push_result=push.output,
        # The push result names metadata tables and lineage destinations; the exact edge, its
        # column mapping and the tables the query logs touch are spelled out here.
        lineage_edges=[{"destination": ORDERS_DAILY, "sources": [ORDERS], "columns": {"total": [(ORDERS, "amount")]}}],
        query_tables=[ORDERS_DAILY],
        query_window=("{{ data_interval_start - macros.timedelta(hours=1) }}", "{{ data_interval_end }}"),
        # Defaults, spelled out: poll every minute, give up after 75 minutes (query logs take
        # 15-20 minutes, up to an hour; metadata and lineage alone default to 20).
        poke_interval=60,
        timeout=timedelta(minutes=75),
    )

    report = MonteCarloCreateOrUpdateLineageNodeOperator(
        task_id="report_node", object_type="report", object_id="finance/weekly_revenue", name="Weekly revenue",
    )
    edge = MonteCarloCreateOrUpdateLineageEdgeOperator(
        task_id="report_edge",
        source=ORDERS_DAILY,
        destination={"object_type": "report", "object_id": "finance/weekly_revenue"},
    )
    confirm >> report >> edge
