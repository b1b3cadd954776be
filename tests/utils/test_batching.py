"""Raw-size cap and trimming (issue 14, "Requests the real gateway may refuse").

pycarlo posts plain JSON: bodies of 8.7 MB raw (5,065 tables, 984 KB gzip) went out in one
request. Every planned body now stays under both caps; an event too large alone is trimmed.
"""

from __future__ import annotations

import json
import os

import pytest

from monte_carlo_push_provider.manifest import new_manifest, query_log_entry, relational_asset
from monte_carlo_push_provider.utils.batching import (
    ENVELOPE_RESERVE,
    TRUNCATION_MARKER,
    BatchPlanner,
    EventTooLargeError,
    event_fits,
    event_size,
    plan_batches,
    trim_event,
)
from monte_carlo_push_provider.utils.wire import MAX_COMPRESSED_BYTES, MAX_RAW_BYTES, gzip_size, json_body


def _wide_tables(count: int, columns: int = 40) -> list[dict]:
    return [
        relational_asset(
            type="TABLE", name=f"table_{i:05d}", database="ANALYTICS", schema="PUBLIC",
            fields=[(f"column_{j:03d}", "VARCHAR(16777216)", "repeated description " * 3) for j in range(columns)],
            row_count=i,
        )
        for i in range(count)
    ]


def _encoded(events: list[dict]) -> list[bytes]:
    return [json.dumps({"relational_asset": e}).encode() for e in events]


def test_raw_cap_splits_bodies_that_compress_well():
    events = _wide_tables(3000)  # ~28 MB raw, ~1 MB gzip: the gzip cap alone would send 2 requests
    encoded = _encoded(events)
    gzip_only = plan_batches(encoded, max_raw_bytes=None)
    plans = plan_batches(encoded)
    assert len(plans) > len(gzip_only)
    assert plans[0].start == 0 and plans[-1].end == len(events)
    assert all(a.end == b.start for a, b in zip(plans, plans[1:], strict=False))
    for plan in plans:
        body = json_body({"event_type": "METADATA",
                          "resource": {"uuid": "6d6f6e74-6563-6172-6c6f-73616e64626f", "resource_type": "snowflake"},
                          "events": [{"relational_asset": e} for e in events[plan.start:plan.end]]})
        assert len(body) <= MAX_RAW_BYTES, plan
        assert len(body) <= plan.raw_bytes  # the planner's bound is exact-or-above
        assert plan.raw_bytes - len(body) <= ENVELOPE_RESERVE
        assert gzip_size(body) <= MAX_COMPRESSED_BYTES
    # filled close to the raw cap, not in fixed counts
    assert min(p.raw_bytes for p in plans[:-1]) > 0.97 * MAX_RAW_BYTES


def test_custom_raw_cap_and_oversized_event():
    small = BatchPlanner(max_raw_bytes=50_000)
    for e in _encoded(_wide_tables(20, columns=10)):
        small.add(e)
    assert all(p.raw_bytes <= 50_000 for p in small.finish())

    reported = []
    planner = BatchPlanner(max_raw_bytes=10_000, on_too_large=reported.append)
    planner.add(b'{"query_text": "' + b"x" * 20_000 + b'"}')  # gzips to nothing, raw over the cap
    planner.add(b'{"query_text": "select 1"}')
    assert [p.count for p in planner.finish()] == [1] and planner.oversized == [0]
    [error] = reported
    assert "raw request limit" in str(error) and error.raw > 10_000
    with pytest.raises(EventTooLargeError):
        BatchPlanner(max_raw_bytes=10_000).add(b'"' + b"x" * 20_000 + b'"')


def test_trim_drops_column_descriptions_first():
    event = relational_asset(type="TABLE", name="wide", database="d", schema="s",
                             view_query="select 1", fields=[(f"c{i}", "INT", os.urandom(200).hex()) for i in range(4000)])
    raw, _ = event_size(event)
    assert raw > 1_600_000
    trimmed, notes = trim_event(event, max_gzip=MAX_COMPRESSED_BYTES, max_raw=1_000_000)
    assert notes == ["dropped the descriptions of 4,000 column(s)"]
    assert [f["name"] for f in trimmed["fields"]] == [f["name"] for f in event["fields"]]
    assert trimmed["metadata"]["view_query"] == "select 1"
    assert "description" in event["fields"][0]  # the input is not modified
    assert event_fits(trimmed, max_raw=1_000_000)


def test_trim_cuts_long_query_text_with_a_marker():
    text = "SELECT '" + os.urandom(1_500_000).hex() + "'"  # 3 MB of text that gzip cannot shrink much
    entry = query_log_entry(start_time="2026-03-02T12:00:00Z", end_time="2026-03-02T12:00:05Z", query_text=text,
                            query_id="q1")
    trimmed, notes = trim_event(entry)
    assert len(notes) == 1 and notes[0].startswith("cut query_text from 3,000,009 to ")
    kept = int(notes[0].rsplit(" to ", 1)[1].split()[0].replace(",", ""))
    assert trimmed["query_text"] == text[:kept] + TRUNCATION_MARKER.format(kept=kept, total=len(text))
    assert event_fits(trimmed) and trimmed["query_id"] == "q1"
    assert trim_event(entry) == (trimmed, notes)  # deterministic: a retry builds the same body


def test_trim_returns_a_fitting_event_untouched():
    entry = query_log_entry(start_time="2026-03-02T12:00:00Z", end_time="2026-03-02T12:00:05Z", query_text="select 1")
    same, notes = trim_event(entry)
    assert same is entry and notes == []


def test_trim_gives_up_with_a_clear_error():
    columns = [(f"column_with_a_long_name_{i:06d}", "VARCHAR") for i in range(200_000)]
    event = relational_asset(type="TABLE", name="huge", database="d", schema="s", fields=columns)
    with pytest.raises(EventTooLargeError, match=r"nothing in it can be trimmed.*split it") as err:
        trim_event(event, index=7)
    assert err.value.index == 7


def test_operator_keeps_every_request_under_the_raw_cap(mc_conn):
    """End to end through the push operator and a sandbox that refuses > 6 MiB raw with 413:
    5,000 wide tables (the issue measured 8.7 MB in one request) go out in bodies <= 5 MB."""
    from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
    from tests.conftest import make_context

    events = _wide_tables(5000, columns=20)
    manifest = new_manifest("metadata", events, resource_type="snowflake")
    result = MonteCarloPushOperator(task_id="push", manifests=manifest, min_push_interval=None).execute(make_context())
    pushes = mc_conn.pushes("metadata")
    assert sum(p["event_count"] for p in pushes) == 5000
    assert len(pushes) >= 2 and max(p["raw_bytes"] for p in pushes) <= MAX_RAW_BYTES
    assert not any(k.endswith(" 413") for k in mc_conn.stats()["requests"])
    assert len(result["invocation_ids"]) == len(pushes)
