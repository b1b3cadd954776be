"""Exactly once across tries, re-runs and time (issue 14, items 1 and 2), in process.

Real operator, real pycarlo client, the sandbox over HTTP. The TaskInstance is the identity
stand-in of ``make_context``; tests that need real Airflow, real processes or the real wall clock
are in tests/reliability/. Where hours must pass in a few seconds, the one clock the push reads
(``push_state.utcnow``) is replaced: the end-to-end version of the cadence test moves the whole
process with libfaketime instead (tests/reliability/test_cadence_faketime.py).
"""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta, timezone

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from monte_carlo_push_provider.manifest import lineage_asset_ref, lineage_event, new_manifest, query_log_entry
from monte_carlo_push_provider.utils import push_state
from monte_carlo_push_provider.utils.errors import MonteCarloPushError
from monte_carlo_push_provider.utils.push_result import PushResult
from monte_carlo_push_provider.utils.push_state import MonteCarloStateError
from tests.operators.test_push import metadata_manifest, push

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


class Clock:
    """The push's wall clock, set by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, now: datetime):
        self.now = now
        monkeypatch.setattr(push_state, "utcnow", lambda: self.now)


def names(sandbox, kind="metadata"):
    key = {"metadata": lambda e: e["event"]["relational_asset"]["metadata"]["name"],
           "query_logs": lambda e: e["event"]["query_id"]}[kind]
    return [key(e) for e in sandbox.events(kind)]


def hourly(**kw):
    kw.setdefault("push_bucket", timedelta(hours=1))
    kw.setdefault("skip_when_nothing_pushed", False)
    return kw


# -- item 1: cadence by clock hour ----------------------------------------------------------


def test_jittered_hourly_runs_push_every_hour(mc_conn, monkeypatch):
    # The measurement: 48 hourly runs with 5-120 s of scheduler/collection jitter lost 19
    # hours under "now >= last + 1 h". With clock buckets every hour gets its push.
    clock = Clock(monkeypatch, T0)
    rng = random.Random(48)
    pushed_hours = 0
    for hour in range(48):
        clock.now = T0 + timedelta(hours=hour, seconds=rng.uniform(5, 120))
        result = push(metadata_manifest(2, prefix=f"h{hour}"), **hourly(context={"run_id": f"scheduled__{hour}"}))
        pushed_hours += bool(result["batches"])
    assert pushed_hours == 48
    assert len(mc_conn.pushes("metadata")) == 48


def test_second_push_in_the_same_hour_is_skipped_and_a_new_hour_is_not(mc_conn, monkeypatch):
    clock = Clock(monkeypatch, T0.replace(minute=59, second=50))
    first = push(metadata_manifest(2), **hourly(context={"run_id": "a"}))
    clock.now = T0.replace(minute=59, second=58)
    same_hour = push(metadata_manifest(2), **hourly(context={"run_id": "b"}))
    clock.now = T0 + timedelta(hours=1, seconds=1)  # 11:00:01, three seconds after the last try
    new_hour = push(metadata_manifest(2), **hourly(context={"run_id": "c"}))
    assert len(first["batches"]) == 1 and len(new_hour["batches"]) == 1
    assert same_hour["batches"] == [] and same_hour["skipped"][0]["next_allowed_at"] == "2026-11-25T11:00:00Z"
    assert same_hour["totals"]["requests"] == 0 and same_hour["totals"]["skipped_events"] == 2
    assert len(mc_conn.pushes("metadata")) == 2


def test_configurable_bucket(mc_conn, monkeypatch):
    clock = Clock(monkeypatch, T0 + timedelta(minutes=1))
    push(metadata_manifest(1), **hourly(push_bucket=timedelta(minutes=15), context={"run_id": "a"}))
    clock.now = T0 + timedelta(minutes=14)
    skipped = push(metadata_manifest(1), **hourly(push_bucket=timedelta(minutes=15), context={"run_id": "b"}))
    clock.now = T0 + timedelta(minutes=15)
    pushed = push(metadata_manifest(1), **hourly(push_bucket=timedelta(minutes=15), context={"run_id": "c"}))
    assert skipped["batches"] == [] and len(pushed["batches"]) == 1


def test_ledger_entry_from_the_future_is_ignored_with_a_warning(mc_conn, monkeypatch, state_path, capfd):
    clock = Clock(monkeypatch, T0 + timedelta(hours=3))
    push(metadata_manifest(1), **hourly(context={"run_id": "skewed"}))  # a worker whose clock is 3 h ahead
    clock.now = T0 + timedelta(minutes=5)
    result = push(metadata_manifest(1), **hourly(context={"run_id": "ontime"}))
    assert len(result["batches"]) == 1
    out = capfd.readouterr().out
    assert "clock running ahead" in out and "Ignored" in out
    # ...and the skewed entry no longer blocks 13:00 (real time) when it comes
    clock.now = T0 + timedelta(hours=3, minutes=1)
    assert len(push(metadata_manifest(1), **hourly(context={"run_id": "later"}))["batches"]) == 1


def test_everything_skipped_ends_as_a_skipped_task(mc_conn):
    push(metadata_manifest(1), push_bucket=timedelta(hours=1), context={"run_id": "a"})
    with pytest.raises(AirflowSkipException, match="nothing pushed: .*already pushed in the UTC clock bucket"):
        push(metadata_manifest(1), push_bucket=timedelta(hours=1), context={"run_id": "b"})


def test_retry_in_the_same_hour_is_not_skipped(mc_conn):
    mc_conn.set_faults(fail_503_after=1)
    manifests = [metadata_manifest(60, columns=8)]
    with pytest.raises(MonteCarloPushError):
        push(manifests, **hourly(max_compressed_bytes=2_000, max_attempts=1, context={"try_number": 1}))
    mc_conn.set_faults(fail_503_after=None)
    result = push(manifests, **hourly(max_compressed_bytes=2_000, context={"try_number": 2}))
    assert result["skipped"] == [] and sorted(names(mc_conn)) == sorted(f"t_{i}" for i in range(60))


# -- item 2: checkpoints ---------------------------------------------------------------------


def _fail_after(mc_conn, n):
    mc_conn.set_faults(fail_503_after=n)


def test_retry_that_dies_mid_walk_keeps_every_earlier_record(mc_conn, state_path):
    # Try 1 gets 3 batches accepted; try 2 walks those 3, gets 1 more accepted and dies; try 3 must
    # still know all 4 (the old checkpoint kept only try 2's own batch: 268 duplicates measured).
    manifests = [metadata_manifest(300, columns=8)]
    kw = dict(max_compressed_bytes=1_500, max_attempts=1)
    _fail_after(mc_conn, 3)
    with pytest.raises(MonteCarloPushError):
        push(manifests, **kw, context={"try_number": 1})
    _fail_after(mc_conn, 4)
    with pytest.raises(MonteCarloPushError):
        push(manifests, **kw, context={"try_number": 2})
    checkpoint = json.loads(next(state_path.rglob("checkpoints/**/*.json")).read_text())
    assert [b["try_number"] for b in checkpoint["rounds"][0]["batches"]] == [1, 1, 1, 2]
    mc_conn.set_faults(fail_503_after=None)
    result = push(manifests, max_compressed_bytes=1_500, context={"try_number": 3})
    sent = names(mc_conn)
    assert len(sent) == 300 and len(set(sent)) == 300  # nothing twice, nothing lost
    assert result["totals"]["resumed_batches"] == 4
    assert result["invocation_ids"] == [p["invocation_id"] for p in mc_conn.pushes("metadata")]


@pytest.mark.parametrize("damage", ["truncated", "wrong_shape", "not_json", "deleted"])
def test_damaged_checkpoint_fails_loudly_and_pushes_nothing(mc_conn, state_path, damage):
    manifests = [metadata_manifest(100, columns=8)]
    _fail_after(mc_conn, 2)
    with pytest.raises(MonteCarloPushError):
        push(manifests, max_compressed_bytes=1_500, max_attempts=1, context={"try_number": 1})
    mc_conn.set_faults(fail_503_after=None)
    path = next(state_path.rglob("checkpoints/**/*.json"))
    text = path.read_text()
    if damage == "truncated":
        path.write_text(text[: len(text) // 2])
    elif damage == "wrong_shape":
        path.write_text(json.dumps({"checkpoint_version": 2, "rounds": {"1": "x"}}))
    elif damage == "not_json":
        path.write_bytes(b"\x00\xff garbage")
    else:
        path.unlink()
    before = len(mc_conn.pushes("metadata"))
    with pytest.raises(MonteCarloStateError) as err:
        push(manifests, max_compressed_bytes=1_500, context={"try_number": 2})
    assert isinstance(err.value, AirflowFailException)  # a retry would find the same file
    assert str(path) in str(err.value) and "force=True" in str(err.value)
    assert len(mc_conn.pushes("metadata")) == before  # refused to guess: nothing sent
    # the documented way out: force pushes everything again (and says so)
    forced = push(manifests, max_compressed_bytes=1_500, force=True, context={"try_number": 3})
    assert forced["status"] == "success" and set(names(mc_conn)) == {f"t_{i}" for i in range(100)}


def test_cleared_successful_task_pushes_again(mc_conn, capfd):
    first = push(metadata_manifest(5), context={"try_number": 1})
    again = push(metadata_manifest(5), context={"try_number": 2})  # the user cleared the task
    assert again["round"] == 2 and again["totals"]["resumed_batches"] == 0
    assert again["invocation_ids"] != first["invocation_ids"]
    assert len(names(mc_conn)) == 10
    assert "task cleared" in capfd.readouterr().out


def test_force_pushes_again_even_within_the_hour(mc_conn):
    push(metadata_manifest(3), push_bucket=timedelta(hours=1), context={"run_id": "a"})
    forced = push(metadata_manifest(3), push_bucket=timedelta(hours=1), force=True, context={"run_id": "b"})
    assert len(forced["batches"]) == 1 and len(names(mc_conn)) == 6


def test_push_result_files_are_never_overwritten(mc_conn, tmp_path):
    out = str(tmp_path / "results" / "20261125T100000.json")  # a rendered {{ ts_nodash }}.json
    a = push(metadata_manifest(2), output_path=out, context={"try_number": 1})
    b = push(metadata_manifest(2), output_path=out, context={"try_number": 2})  # cleared and re-run
    c = push(metadata_manifest(2), output_path=out, context={"run_id": "manual__2", "try_number": 1})
    files = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert files == ["20261125T100000.json", "20261125T100000.try1.json", "20261125T100000.try2.json"]
    written = {p.name: json.loads(p.read_text()) for p in (tmp_path / "results").iterdir()}
    assert written["20261125T100000.json"]["invocation_ids"] == a["invocation_ids"]
    assert written["20261125T100000.try2.json"]["invocation_ids"] == b["invocation_ids"]
    assert written["20261125T100000.try1.json"]["run_id"] == "manual__2" == c["run_id"]
    assert b["output_path"].endswith("20261125T100000.try2.json")


# -- item 2: query logs and lineage pushed once per resource ---------------------------------


def qlogs(ids, start_hour=10, first=None):
    # query q starts 5 min after query `first` (default: the first id): a query seen by two
    # overlapping runs has the same times in both, as a warehouse's finished query does
    ids = list(ids)
    first = ids[0] if first is None else first
    entries = [
        query_log_entry(start_time=T0.replace(hour=start_hour) + timedelta(minutes=5 * (q - first)),
                        end_time=T0.replace(hour=start_hour) + timedelta(minutes=5 * (q - first), seconds=3),
                        query_text=f"select {q}", query_id=f"q{q}")
        for q in ids
    ]
    return new_manifest("query_logs", entries, log_type="snowflake")


def test_overlapping_manual_run_does_not_push_the_same_queries_again(mc_conn):
    scheduled = push(qlogs(range(1, 13), first=1), context={"run_id": "scheduled__10"})
    manual = push(qlogs(range(7, 19), first=1), context={"run_id": "manual__1"})  # overlaps q7..q12
    again = push(qlogs(range(1, 19), first=1), skip_when_nothing_pushed=False, context={"run_id": "manual__2"})
    pushed = names(mc_conn, "query_logs")
    assert sorted(pushed) == sorted(f"q{i}" for i in range(1, 19))  # 18 distinct, none twice
    assert scheduled["totals"]["events"] == 12 and manual["totals"]["events"] == 6
    skip = manual["skipped"][0]
    assert skip["code"] == "already_pushed" and skip["events"] == 6 and "scheduled__10" in skip["reason"]
    assert again["status"] == "skipped" and again["nothing_pushed"]


def test_backfill_of_a_never_pushed_window_is_pushed(mc_conn):
    push(qlogs(range(1, 7), start_hour=10), context={"run_id": "scheduled__10"})
    backfill = push(qlogs(range(100, 106), start_hour=3), context={"run_id": "backfill__03"})
    assert backfill["totals"]["events"] == 6 and backfill["skipped"] == []
    assert backfill["assets"]["query_logs"]["window"]["start"] == "2026-11-25T03:00:00Z"


def test_lineage_window_already_pushed_is_not_pushed_again(mc_conn):
    a = lineage_asset_ref(name="a", database="D", schema="S", asset_id="a")
    b = lineage_asset_ref(name="b", database="D", schema="S", asset_id="b")

    def manifest(start, end):
        return new_manifest("lineage", [lineage_event(b, [a])], resource_type="snowflake",
                            window=(T0.replace(hour=start), T0.replace(hour=end)))

    push(manifest(10, 11), context={"run_id": "r10"})
    push(manifest(11, 12), context={"run_id": "r11"})
    covered = push(manifest(10, 12), skip_when_nothing_pushed=False, context={"run_id": "manual"})
    new = push(manifest(12, 13), context={"run_id": "r12"})
    assert covered["batches"] == [] and covered["skipped"][0]["code"] == "already_pushed"
    assert len(new["batches"]) == 1 and len(mc_conn.pushes("lineage")) == 3


def test_query_log_retry_resumes_without_duplicates(mc_conn):
    manifest = qlogs(range(200))
    _fail_after(mc_conn, 2)
    with pytest.raises(MonteCarloPushError):
        push(manifest, max_compressed_bytes=1_200, max_attempts=1, context={"try_number": 1})
    mc_conn.set_faults(fail_503_after=None)
    result = push(manifest, max_compressed_bytes=1_200, context={"try_number": 2})
    pushed = names(mc_conn, "query_logs")
    assert len(pushed) == 200 and len(set(pushed)) == 200
    assert result["totals"]["resumed_batches"] == 2 and result["invocation_ids"][:2] == [
        p["invocation_id"] for p in mc_conn.pushes("query_logs")[:2]
    ]


# -- the result shape and the logs -----------------------------------------------------------


def test_push_result_round_trips_and_keeps_the_sensor_keys(mc_conn):
    result = push([metadata_manifest(3), qlogs(range(3))])
    for key in ("push_result_version", "dag_id", "run_id", "task_id", "map_index", "try_number", "status",
                "invocation_ids", "batches", "skipped", "assets", "totals", "started_at", "nothing_pushed",
                "invocation_ids_by_kind"):
        assert key in result, key
    for key in ("kind", "resource_uuid", "invocation_id", "event_type", "event_count"):
        assert key in result["batches"][0]
    assert PushResult.from_dict(result).to_dict() == result
    assert set(result["invocation_ids_by_kind"]) == {"metadata", "query_logs"}


def test_log_lines_name_flow_and_resource_and_say_what_was_resumed(mc_conn, capfd):
    manifests = [metadata_manifest(200, columns=8)]
    _fail_after(mc_conn, 2)
    with pytest.raises(MonteCarloPushError):
        push(manifests, max_compressed_bytes=1_500, max_attempts=1, context={"try_number": 1})
    mc_conn.set_faults(fail_503_after=None)
    capfd.readouterr()
    push(manifests, max_compressed_bytes=1_500, context={"try_number": 2})
    out = capfd.readouterr().out
    resource = mc_conn.pushes("metadata")[0]["resource_uuid"]
    assert f"metadata (snowflake {resource[:8]}…) batch 1/" in out
    assert "accepted by try 1; not sent again" in out
    assert "resuming round 1 of this task instance: 2 batch(es)" in out
    assert "resumed 2 batch(es)" in out
    assert re.search(r"invocation_id=\S+ \(sent in \d+(\.\d)? (ms|s)\)", out)  # human durations


def test_state_path_from_airflow_config(mc_conn, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__MONTE_CARLO__STATE_PATH", str(tmp_path / "from-config"))
    push(metadata_manifest(1))
    assert list((tmp_path / "from-config" / "checkpoints").rglob("*.json"))
