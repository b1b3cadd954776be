"""The sample push of all three kinds, as plain manifests (no test fixtures imported, so the
dag.test() DAG in tests/dags can build the same push).

Two tables (orders -> orders_daily) with fields and row counts, the lineage edge between them with
one column mapping, and one query log entry that writes orders_daily from orders. Timestamps are
recent so the default query window (the 7 days before the push) covers them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from monte_carlo_push_provider.manifest import (
    lineage_asset_ref,
    lineage_event,
    new_manifest,
    query_log_entry,
    relational_asset,
)

ORDERS = "ANALYTICS:PUBLIC.orders"
DAILY = "ANALYTICS:PUBLIC.orders_daily"


def manifests(now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or datetime.now(timezone.utc)
    metadata = new_manifest(
        "metadata",
        [
            relational_asset(type="TABLE", name="orders", database="ANALYTICS", schema="PUBLIC",
                             fields=[("id", "NUMBER"), ("amount", "NUMBER")], row_count=42, last_update_time=now),
            relational_asset(type="TABLE", name="orders_daily", database="ANALYTICS", schema="PUBLIC",
                             fields=[("day", "DATE"), ("total", "NUMBER")], row_count=7, last_update_time=now),
        ],
        resource_type="snowflake",
    )
    src = lineage_asset_ref(name="orders", database="ANALYTICS", schema="PUBLIC", asset_id="src")
    dst = lineage_asset_ref(name="orders_daily", database="ANALYTICS", schema="PUBLIC", asset_id="dst")
    lineage = new_manifest("lineage", [lineage_event(dst, [src], {"total": [("src", "amount")]})], resource_type="snowflake")
    logs = new_manifest(
        "query_logs",
        [query_log_entry(start_time=now - timedelta(minutes=5), end_time=now - timedelta(minutes=4),
                         query_text="insert into ANALYTICS.PUBLIC.orders_daily select sum(amount) from ANALYTICS.PUBLIC.orders",
                         query_id="q1", user="etl@example.com")],
        log_type="snowflake",
    )
    return [metadata, lineage, logs]
