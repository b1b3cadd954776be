"""MonteCarloPushOperator against the sandbox over real HTTP with the real pycarlo client.

Operators are run with ``execute(make_context(...))``: the TaskInstance in that context is a
stand-in carrying identity fields only (dag/run/task ids, try number). DAG-level behaviour runs
through ``dag.test()`` in tests/test_example_dags.py.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from monte_carlo_push_provider.manifest import (
    lineage_asset_ref,
    lineage_event,
    new_manifest,
    query_log_entry,
    relational_asset,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.utils.errors import (
    MonteCarloConfigError,
    MonteCarloManifestError,
    MonteCarloPushError,
    MonteCarloRejectedError,
)
from monte_carlo_push_provider.utils.wire import gzip_size
from tests.conftest import make_context

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


def metadata_manifest(n: int, *, columns: int = 3, database: str = "ANALYTICS", prefix: str = "t") -> dict:
    events = [
        relational_asset(
            type="TABLE" if i % 5 else "VIEW",
            name=f"{prefix}_{i}",
            database=database,
            schema="PUBLIC",
            fields=[(f"col_{j}_{i}", "NUMBER(38,0)") for j in range(columns)],
            row_count=i * 7 if i % 5 else None,
            last_update_time=T0 if i % 5 else None,
        )
        for i in range(n)
    ]
    return new_manifest("metadata", events, resource_type="snowflake", database=database)


def push(manifests, **kwargs):
    kwargs.setdefault("push_bucket", None)
    kwargs.setdefault("retry_base_delay_s", 0.01)
    kwargs.setdefault("retry_max_delay_s", 0.05)
    context = kwargs.pop("context", {})
    op = MonteCarloPushOperator(task_id=kwargs.pop("task_id", "push"), manifests=manifests, **kwargs)
    return op.execute(make_context(task_id=op.task_id, **context))


def test_metadata_push_lands_in_sandbox_with_invocation_ids(mc_conn, tmp_path, capfd):
    manifest = metadata_manifest(25)
    result = push(manifest, output_path=str(tmp_path / "result.json"))

    stored = mc_conn.events("metadata")
    assert len(stored) == 25
    assert sorted(e["event"]["relational_asset"]["metadata"]["name"] for e in stored) == sorted(
        f"t_{i}" for i in range(25)
    )
    by_name = {e["event"]["relational_asset"]["metadata"]["name"]: e["event"]["relational_asset"] for e in stored}
    assert by_name["t_1"] == manifest["events"][1]  # exactly the manifest event, wrapped by pycarlo
    pushes = mc_conn.pushes("metadata")
    assert [p["invocation_id"] for p in pushes] == result["invocation_ids"]
    assert result["status"] == "success" and result["totals"]["events"] == 25
    # in the task log, in XCom (the return value) and in the push-result manifest
    out = capfd.readouterr().out
    for inv in result["invocation_ids"]:
        assert f"invocation_id={inv}" in out
    written = json.loads((tmp_path / "result.json").read_text())
    assert written["invocation_ids"] == result["invocation_ids"]
    assert written["batches"][0]["event_count"] == 25
    assert "batch 1/1: 25 events" in out
    assert result["assets"]["metadata"]["count"] == 25
    assert "ANALYTICS:PUBLIC.t_0" in result["assets"]["metadata"]["sample"]


def test_each_kind_goes_to_its_endpoint(mc_conn):
    src = lineage_asset_ref(name="raw", database="D", schema="S", asset_id="raw")
    dst = lineage_asset_ref(name="clean", database="D", schema="S", asset_id="clean")
    lineage = new_manifest("lineage", [lineage_event(dst, [src], {"id": [("raw", "id")]})], resource_type="snowflake")
    logs = new_manifest(
        "query_logs",
        [query_log_entry(start_time=T0, end_time=T0 + timedelta(seconds=2), query_text="select 1", query_id="q1",
                         extra={"warehouse_name": "WH"})],
        log_type="snowflake",
    )
    result = push([metadata_manifest(2), lineage, logs])
    kinds = sorted(b["kind"] for b in result["batches"])
    assert kinds == ["lineage", "metadata", "query_logs"]
    assert mc_conn.events("lineage")[0]["event"]["fields"][0]["source_fields"] == [{"asset_id": "raw", "field_name": "id"}]
    assert mc_conn.pushes("lineage")[0]["event_type"] == "COLUMN_LINEAGE"
    assert mc_conn.events("query_logs")[0]["event"]["extra"] == {"warehouse_name": "WH"}


def test_batches_stay_under_limit_and_fill_it(mc_conn):
    limit = 20_000
    manifests = [metadata_manifest(1500, columns=12, database=f"DB{d}", prefix=f"d{d}") for d in range(3)]
    result = push(manifests, max_compressed_bytes=limit)
    batches = result["batches"]
    assert len(batches) > 3
    assert all(b["gzip_bytes"] <= limit for b in batches)
    # the sandbox measured the same bodies
    assert all(p["gzip_bytes"] <= limit for p in mc_conn.pushes("metadata"))
    assert len(mc_conn.events("metadata")) == 4500
    # size-aware: every batch but the last is nearly full
    assert min(b["gzip_bytes"] for b in batches[:-1]) > 0.9 * limit


def _huge_view_manifest():
    manifest = metadata_manifest(5)
    huge_view = relational_asset(
        type="VIEW", name="huge", database="ANALYTICS", schema="PUBLIC",
        view_query="".join(f"{i:x}{i * 7919 % 104729:x}" for i in range(400_000)),
    )
    manifest["events"].insert(3, huge_view)
    return manifest


def test_oversized_single_event_is_trimmed_with_a_warning(mc_conn, capfd):
    # Before issue 14 this event failed the task (after everything else was pushed). Now its
    # view_query is cut with a marker and the event is pushed; strict_size=True keeps failing.
    result = push(_huge_view_manifest())
    stored = {e["event"]["relational_asset"]["metadata"]["name"]: e for e in mc_conn.events("metadata")}
    assert len(stored) == 6 and result["totals"]["trimmed_events"] == 1
    assert "[truncated by monte-carlo-push-provider" in stored["huge"]["event"]["relational_asset"]["metadata"]["view_query"]
    assert "manifest[0].events[3] is too large for a request on its own: cut metadata.view_query" in capfd.readouterr().out


def test_oversized_single_event_fails_in_strict_mode_after_the_rest_was_pushed(mc_conn):
    with pytest.raises(MonteCarloRejectedError, match=r"1 event\(s\) are too large.*manifest\[0\]\.events\[3\]"):
        push(_huge_view_manifest(), strict_size=True)
    assert len(mc_conn.events("metadata")) == 5  # everything else was pushed


def test_invalid_manifest_fails_before_anything_is_sent(mc_conn):
    bad = metadata_manifest(3)
    bad["events"][2]["type"] = "BASE TABLE"
    with pytest.raises(MonteCarloManifestError, match=r"manifest\[1\] .*events\[2\]\.type must be TABLE or VIEW, got 'BASE TABLE'"):
        push([metadata_manifest(2), bad])
    assert mc_conn.pushes() == []


def test_retries_429_and_503_then_delivers(mc_conn, capfd):
    mc_conn.set_faults(fail_503=0.5, fail_429=0.3, seed=7, retry_after_s=0)
    result = push([metadata_manifest(40)], max_compressed_bytes=5_000, max_attempts=30)
    assert len(mc_conn.events("metadata")) == 40
    assert result["totals"]["retried_attempts"] > 0
    assert "retrying in" in capfd.readouterr().out


def test_unknown_resource_fails_before_anything_is_sent(mc_conn):
    # Pre-flight (one getUser call) now finds the unknown UUID before the first request.
    manifest = metadata_manifest(2)
    manifest["resource_uuid"] = "11111111-2222-4333-8444-555555555555"
    with pytest.raises(MonteCarloManifestError, match="checkpoint 2.*11111111-2222-4333-8444-555555555555"):
        push(manifest)
    assert not any(k.startswith("/ingest/") for k in mc_conn.stats()["requests"])


def test_4xx_fails_at_once_with_gateway_message(mc_conn):
    manifest = metadata_manifest(2)
    manifest["resource_uuid"] = "11111111-2222-4333-8444-555555555555"
    with pytest.raises(MonteCarloRejectedError) as err:  # an AirflowFailException: no task retries
        push(manifest, verify_resources=False)
    assert "checkpoint 2" in str(err.value) and "11111111-2222-4333-8444-555555555555" in str(err.value)
    # exactly one request, no blind retries of a 4xx (the sandbox answers 403 like the gateway)
    assert mc_conn.stats()["requests"] == {"/ingest/v1/metadata 403": 1}


def test_wrong_key_names_the_checkpoint(mc_conn, monkeypatch):
    conn = json.loads(mc_conn.connection_uri_json("snowflake"))
    conn["login"], conn["password"] = conn["extra"]["graphql_key_id"], conn["extra"]["graphql_key_secret"]
    monkeypatch.setenv("AIRFLOW_CONN_MONTE_CARLO_DEFAULT", json.dumps(conn))
    with pytest.raises(MonteCarloPushError, match="checkpoint 1"):
        push(metadata_manifest(1))


def test_missing_ingestion_key_says_how_to_create_one(mc_conn, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_MONTE_CARLO_DEFAULT", json.dumps({"conn_type": "monte_carlo"}))
    monkeypatch.delenv("MCD_INGEST_ID", raising=False)
    monkeypatch.delenv("MCD_INGEST_TOKEN", raising=False)
    with pytest.raises(MonteCarloConfigError, match="montecarlo integrations create-key --scope Ingestion"):
        push(metadata_manifest(1))


def test_env_fallbacks_are_used(mc_conn, monkeypatch):
    conn = json.loads(mc_conn.connection_uri_json("snowflake"))
    monkeypatch.setenv("MCD_INGEST_ID", conn.pop("login"))
    monkeypatch.setenv("MCD_INGEST_TOKEN", conn.pop("password"))
    monkeypatch.setenv("AIRFLOW_CONN_MONTE_CARLO_DEFAULT", json.dumps(conn))
    push(metadata_manifest(1))
    assert len(mc_conn.events("metadata")) == 1


def test_metadata_pushed_at_most_once_per_clock_hour(mc_conn, capfd):
    # Old behaviour (asserted before): a skipped push returned green with a warning. Now a task
    # whose every unit was skipped ends *skipped*, and the reason is in the exception and the log.
    first = push(metadata_manifest(3), push_bucket=timedelta(hours=1), context={"run_id": "r1"})
    with pytest.raises(AirflowSkipException, match="next push is allowed from"):
        push(metadata_manifest(3), push_bucket=timedelta(hours=1), context={"run_id": "r2"})
    kept_green = push(metadata_manifest(3), push_bucket=timedelta(hours=1), skip_when_nothing_pushed=False,
                      context={"run_id": "r2b"})
    assert len(first["batches"]) == 1 and kept_green["batches"] == [] and kept_green["nothing_pushed"]
    assert kept_green["status"] == "skipped"
    assert kept_green["skipped"][0]["code"] == "hourly_bucket"
    assert "next push is allowed from" in kept_green["skipped"][0]["reason"]
    assert "manual__test" not in kept_green["skipped"][0]["reason"]
    assert "test_dag/r1/push" in kept_green["skipped"][0]["reason"]  # names the run that pushed
    assert "next push is allowed from" in capfd.readouterr().out
    assert len(mc_conn.events("metadata")) == 3
    # another flow name is its own budget
    third = push(metadata_manifest(3), push_bucket=timedelta(hours=1), flow="daily-full-schema",
                 context={"run_id": "r3"})
    assert len(third["batches"]) == 1


def test_retry_resumes_after_last_accepted_batch(mc_conn):
    manifests = [metadata_manifest(300, columns=8)]
    limit = 1_500
    # First try: the gateway starts failing hard after a few batches.
    mc_conn.set_faults(fail_503_after=3)
    with pytest.raises(MonteCarloPushError, match="failed after 2 attempts"):
        push(manifests, max_compressed_bytes=limit, max_attempts=2, context={"try_number": 1})
    accepted_first = [p["invocation_id"] for p in mc_conn.pushes("metadata")]
    assert len(accepted_first) == 3
    assert len(result_batches := _planned(manifests, limit)) > 5, result_batches
    mc_conn.set_faults(fail_503_after=None)
    result = push(manifests, max_compressed_bytes=limit, context={"try_number": 2})
    resumed = [b for b in result["batches"] if b.get("resumed")]
    assert [b["invocation_id"] for b in resumed] == accepted_first
    events = mc_conn.events("metadata")
    names = [e["event"]["relational_asset"]["metadata"]["name"] for e in events]
    assert len(names) == 300 and len(set(names)) == 300  # nothing pushed twice, nothing lost
    assert result["invocation_ids"][:3] == accepted_first


def _planned(manifests, limit):
    import json as _json

    from monte_carlo_push_provider.utils.batching import plan_batches

    return plan_batches([_json.dumps({"relational_asset": e}).encode() for e in manifests[0]["events"]], limit=limit)


def test_gzip_size_matches_what_sandbox_measures(mc_conn):
    result = push(metadata_manifest(50))
    assert result["batches"][0]["gzip_bytes"] == mc_conn.pushes("metadata")[0]["gzip_bytes"]


def test_empty_manifests_push_nothing(mc_conn, capfd):
    result = push([new_manifest("metadata", [], resource_type="snowflake")])
    assert result["batches"] == [] and mc_conn.pushes() == []
    assert "no events" in capfd.readouterr().out


def test_max_compressed_bytes_cannot_exceed_gateway_limit():
    with pytest.raises(ValueError, match="over the gateway's 1,000,000-byte limit"):
        MonteCarloPushOperator(task_id="p", manifests=[], max_compressed_bytes=2_000_000)


def test_wire_gzip_size_is_gzip():
    import gzip

    body = b'{"a": 1}' * 1000
    assert gzip.decompress(gzip.compress(body)) == body
    assert abs(gzip_size(body) - len(gzip.compress(body, compresslevel=6))) <= 4


def test_timeout_after_accept_is_retried_and_counted(mc_conn, monkeypatch):
    # The gateway stores the push but never answers: the client times out, retries, and the
    # batch may land twice — the only duplicates allowed. Every event still arrives.
    conn = json.loads(mc_conn.connection_uri_json("snowflake", timeout_s=1))
    monkeypatch.setenv("AIRFLOW_CONN_MONTE_CARLO_DEFAULT", json.dumps(conn))
    mc_conn.set_faults(drop_after_accept=0.5, drop_hold_s=3, seed=3)
    result = push([metadata_manifest(60)], max_compressed_bytes=3_000, max_attempts=20)
    names = [e["event"]["relational_asset"]["metadata"]["name"] for e in mc_conn.events("metadata")]
    assert set(names) == {f"t_{i}" for i in range(60)}
    timeouts = sum(b["timeouts"] for b in result["batches"])
    dropped = mc_conn.stats()["dropped_after_accept"]
    assert timeouts >= 1 and dropped >= 1
    # duplicates exist only for requests the gateway accepted without answering
    duplicated_pushes = len(mc_conn.pushes("metadata")) - len(result["batches"])
    assert duplicated_pushes == dropped


def test_table_and_column_lineage_go_in_separate_requests(mc_conn):
    # Column lineage expires after 10 days, table lineage never: a table-only edge must not ride
    # in a COLUMN_LINEAGE request.
    a = lineage_asset_ref(name="a", database="D", schema="S", asset_id="a")
    b = lineage_asset_ref(name="b", database="D", schema="S", asset_id="b")
    c = lineage_asset_ref(name="c", database="D", schema="S", asset_id="c")
    manifest = new_manifest(
        "lineage", [lineage_event(b, [a]), lineage_event(c, [b], {"x": [("b", "y")]}), lineage_event(c, [a])],
        resource_type="snowflake",
    )
    push(manifest)
    by_type = {p["event_type"]: p["event_count"] for p in mc_conn.pushes("lineage")}
    assert by_type == {"LINEAGE": 2, "COLUMN_LINEAGE": 1}


def test_oversized_event_is_named_by_its_manifest_index_across_units(mc_conn):
    a = lineage_asset_ref(name="a", database="D", schema="S", asset_id="a")
    big = lineage_asset_ref(name="b" * 10, database="D", schema="S", asset_id="b")
    rng = random.Random(5)
    columns = {f"c{rng.getrandbits(96):x}": [("a", f"s{rng.getrandbits(96):x}")] for _ in range(40_000)}
    events = [lineage_event(big, [a], columns), lineage_event(a, [big])]
    manifest = new_manifest("lineage", events, resource_type="snowflake")
    with pytest.raises(MonteCarloPushError, match=r"manifest\[1\]\.events\[0\]: this event is 1,2\d\d,\d\d\d bytes gzip"):
        push([metadata_manifest(1), manifest])
    assert len(mc_conn.events("lineage")) == 1  # the table-only edge still went


def test_manifests_from_a_one_shot_iterator_are_read_twice_safely(mc_conn):
    # Pass 1 plans, pass 2 sends: a generator of manifests is materialised first.
    result = push(metadata_manifest(5, prefix=f"g{i}") for i in range(3))
    assert result["totals"]["events"] == 15 and len(mc_conn.events("metadata")) == 15


def test_batches_span_manifests_of_the_same_unit(mc_conn):
    # 20 small manifests (one per database, as mapped collectors give) share requests.
    manifests = [metadata_manifest(40, database=f"DB{d}", prefix=f"d{d}") for d in range(20)]
    result = push(manifests)
    assert len(result["batches"]) == 1 and result["batches"][0]["event_count"] == 800
