"""``example_dags/snowflake_to_monte_carlo.py`` run for real: the hourly and the daily-schema DAG
against the fakesnow stand-in (TLS, ``REQUESTS_CA_BUNDLE`` and the hand-made
``SNOWFLAKE.ACCOUNT_USAGE`` of ``tests/standins/snowflake.py``) and the sandbox.

Both DAGs push metadata in the same clock hour, which is the point of the pair: the daily push has
its own flow, so the hourly guard does not skip it. The two processes run under libfaketime
30 s into the next clock hour (ahead of the real clock, so the sensor's clock-skew check against the
sandbox's receipts still holds), so the test never straddles an hour."""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from monte_carlo_sandbox import SANDBOX_WAREHOUSES
from tests.example_dags.runner import dags_test, lineage_edges, relational_assets, seconds_to_next_hour
from tests.standins.snowflake import DB, SnowflakeStandIn

pytestmark = pytest.mark.skipif(shutil.which("faketime") is None, reason="needs libfaketime: apt-get install faketime")

# Logical date 12:00 of the seed day: query logs read [10:15, 11:15) (hour before, minus 45 min),
# lineage [08:00, 09:00) (minus 3 h); the seed has one query and one ACCESS_HISTORY row there.
HOURLY = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
DAILY = datetime(2026, 11, 25, tzinfo=timezone.utc)


def test_hourly_freshness_and_daily_schema_pair(
    snowflake_conn: SnowflakeStandIn, mc_conn: Any, airflow_db: Any, tmp_path: Path
) -> None:
    offset = seconds_to_next_hour()
    hourly = dags_test("snowflake_to_monte_carlo_hourly", tmp_path, logical_date=HOURLY, clock_offset_s=offset)
    hourly_assets = relational_assets(mc_conn)
    daily = dags_test("snowflake_to_monte_carlo_daily_schema", tmp_path, logical_date=DAILY, clock_offset_s=offset)
    daily_assets = relational_assets(mc_conn)[len(hourly_assets):]
    print(f"snowflake hourly: {hourly.seconds:.1f} s, daily: {daily.seconds:.1f} s")

    # hourly: freshness and volume of ANALYTICS (RAW* matches nothing), no columns or view text
    assert sorted((a["metadata"]["database"], a["metadata"]["name"]) for a in hourly_assets) == [
        (DB, "ORDERS"), (DB, "ORDERS_V"), (DB, "RAW_ORDERS")]
    assert all("fields" not in a and "view_query" not in a["metadata"] for a in hourly_assets)
    orders = next(a for a in hourly_assets if a["metadata"]["name"] == "ORDERS")
    assert orders["volume"]["row_count"] == 3 and "last_update_time" in orders["freshness"]
    # query logs: the one query that ended in [10:15, 11:15); lineage: ORDERS -> EARLY (08:59:59)
    assert [e["event"]["query_id"] for e in mc_conn.events("query_logs")] == ["q-after"]
    assert lineage_edges(mc_conn) == [(f"{DB}.PUBLIC.EARLY", (f"{DB}.PUBLIC.ORDERS",))]

    # daily: the full schema, in the same clock hour, not skipped
    assert sorted(a["metadata"]["name"] for a in daily_assets) == ["ORDERS", "ORDERS_V", "RAW_ORDERS"]
    by_name = {a["metadata"]["name"]: a for a in daily_assets}
    assert [f["name"] for f in by_name["ORDERS"]["fields"]] == ["ID", "AMOUNT", "CREATED_AT"]
    assert by_name["ORDERS"]["metadata"]["description"] == "one row per order"
    assert by_name["ORDERS_V"]["metadata"]["view_query"]
    assert "skipped:" not in daily.log
    buckets = {p.parent.name: p.name for p in (tmp_path / "state" / "ledger").rglob("*.json")
               if p.parent.parent.name == SANDBOX_WAREHOUSES["snowflake"]}
    assert set(buckets) == {"metadata", "daily-full-schema"}
    assert buckets["metadata"] == buckets["daily-full-schema"]  # one clock hour, two flows
    assert len(mc_conn.pushes("metadata")) == 2

    # each sensor confirmed its own push
    hourly_seen = hourly.confirmation()
    assert re.fullmatch(r"metadata 3/3 confirmed\. lineage 1/1 confirmed\. query_logs (\d+)/\1 confirmed", hourly_seen)
    assert daily.confirmation() == "metadata 3/3 confirmed"
    # every invocation_id the sandbox recorded is in a task log, where a user looks for it
    for push in mc_conn.pushes():
        assert push["invocation_id"] in hourly.log + daily.log
