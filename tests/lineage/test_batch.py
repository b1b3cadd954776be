"""Query-log batches -> lineage manifests v1: temp resolution, dedup, skips, caps."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from monte_carlo_push_provider.lineage import (
    QueryForLineage,
    build_lineage_manifest,
    lineage_manifest_from_queries,
)
from monte_carlo_push_provider.manifest import ManifestError, validate_manifest


# Lower-cased: these tests are about resolution; case per dialect is asserted in test_names.py.
def _edges(manifest: dict[str, Any]) -> dict[str, set[str]]:
    return {
        e["destination"]["asset_id"].lower(): {s["asset_id"].lower() for s in e["sources"]} for e in manifest["events"]
    }


def _fields(manifest: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {
        (e["destination"]["asset_id"].lower(), f["name"].lower(), sf["asset_id"].lower(), sf["field_name"].lower())
        for e in manifest["events"]
        for f in e.get("fields", [])
        for sf in f["source_fields"]
    }


def _build(rows: list[Any], dialect: str = "redshift", **kwargs: Any) -> tuple[dict[str, Any], Any]:
    kwargs.setdefault("resource_type", dialect if dialect != "hive" else "data-lake")
    manifest, stats = build_lineage_manifest(rows, dialect=dialect, **kwargs)
    validate_manifest(manifest)
    return manifest, stats


def test_redshift_hash_temp_table_is_resolved_to_its_sources() -> None:
    rows = [
        {"query_id": "1", "session_id": "s", "query_text": "CREATE TABLE #t AS SELECT id, amt FROM raw.orders"},
        {"query_id": "2", "session_id": "s", "query_text": "INSERT INTO mart.facts SELECT * FROM #t"},
    ]
    manifest, stats = _build(rows, default_database="dev", default_schema="public")
    assert _edges(manifest) == {"dev.mart.facts": {"dev.raw.orders"}}
    assert _fields(manifest) == {
        ("dev.mart.facts", "id", "dev.raw.orders", "id"),
        ("dev.mart.facts", "amt", "dev.raw.orders", "amt"),
    }
    assert "#t" not in repr(manifest["events"])
    assert stats.temp_tables_resolved == 1
    event = manifest["events"][0]
    assert event["destination"] == {
        "type": "TABLE", "name": "facts", "database": "dev", "schema": "mart", "asset_id": "dev.mart.facts",
    }


def test_snowflake_temporary_table_chain_through_two_temps() -> None:
    rows = [
        QueryForLineage("CREATE TEMPORARY TABLE db.s.t1 AS SELECT a FROM db.s.src1", query_id="1", session_id="x"),
        QueryForLineage("CREATE TEMPORARY TABLE db.s.t2 AS SELECT t1.a, b FROM db.s.t1 JOIN db.s.src2 ON t1.a = src2.a", query_id="2", session_id="x"),
        QueryForLineage("INSERT INTO db.s.final (a, b) SELECT a, b FROM db.s.t2", query_id="3", session_id="x"),
    ]
    manifest, _ = _build(rows, dialect="snowflake", resource_type="snowflake")
    assert _edges(manifest) == {"db.s.final": {"db.s.src1", "db.s.src2"}}
    assert ("db.s.final", "a", "db.s.src1", "a") in _fields(manifest)
    assert "t1" not in repr(manifest["events"]) and "t2" not in repr(manifest["events"])


def test_table_written_read_then_dropped_is_treated_as_temporary() -> None:
    rows = [
        {"query_id": "1", "query_text": "CREATE TABLE d.scratch.work AS SELECT k FROM d.raw.a"},
        {"query_id": "2", "query_text": "INSERT INTO d.mart.b SELECT k FROM d.scratch.work"},
        {"query_id": "3", "query_text": "DROP TABLE d.scratch.work"},
    ]
    manifest, _ = _build(rows, dialect="snowflake", resource_type="snowflake")
    assert _edges(manifest) == {"d.mart.b": {"d.raw.a"}}


def test_table_that_is_not_dropped_stays_a_real_hop() -> None:
    rows = [
        {"query_text": "CREATE TABLE d.s.mid AS SELECT k FROM d.s.a"},
        {"query_text": "INSERT INTO d.s.b SELECT k FROM d.s.mid"},
    ]
    manifest, _ = _build(rows, dialect="snowflake", resource_type="snowflake")
    assert _edges(manifest) == {"d.s.mid": {"d.s.a"}, "d.s.b": {"d.s.mid"}}


def test_temp_tables_are_scoped_to_their_session() -> None:
    rows = [
        {"session_id": "A", "query_text": "CREATE TEMP TABLE d.s.tmp AS SELECT k FROM d.s.a"},
        {"session_id": "B", "query_text": "INSERT INTO d.s.out SELECT k FROM d.s.tmp"},
    ]
    manifest, _ = _build(rows)
    # Session B reads a real table that happens to share the name.
    assert _edges(manifest) == {"d.s.out": {"d.s.tmp"}}


def test_rows_are_ordered_by_start_time() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    rows = [
        {"start_time": t0 + timedelta(seconds=2), "session_id": "s", "query_text": "INSERT INTO d.s.out SELECT * FROM #t"},
        {"start_time": t0, "session_id": "s", "query_text": "CREATE TABLE #t AS SELECT k FROM d.s.a"},
    ]
    manifest, _ = _build(rows, default_database="d", default_schema="s")
    assert _fields(manifest) == {("d.s.out", "k", "d.s.a", "k")}


def test_edges_are_deduplicated_across_the_batch() -> None:
    row = {"query_text": "INSERT INTO d.s.b SELECT x FROM d.s.a"}
    more = {"query_text": "INSERT INTO d.s.b SELECT y AS x FROM d.s.c"}
    manifest, stats = _build([row, row, dict(row), more], dialect="postgres", resource_type="postgres")
    assert len(manifest["events"]) == 1
    assert _edges(manifest) == {"d.s.b": {"d.s.a", "d.s.c"}}
    assert _fields(manifest) == {("d.s.b", "x", "d.s.a", "x"), ("d.s.b", "x", "d.s.c", "y")}
    assert stats.edges == 2 and stats.column_edges == 2


def test_self_edges_are_not_emitted_but_other_sources_are() -> None:
    rows = [
        {"query_text": "UPDATE d.s.t SET x = x + 1"},
        {"query_text": "UPDATE d.s.u SET x = s.x + u.x FROM d.s.src s WHERE s.id = u.id"},
    ]
    manifest, _ = _build(rows, dialect="snowflake", resource_type="snowflake")
    assert _edges(manifest) == {"d.s.u": {"d.s.src"}}
    assert _fields(manifest) == {("d.s.u", "x", "d.s.src", "x")}


def test_unqualified_names_use_defaults_or_are_skipped_and_counted() -> None:
    rows = [{"query_text": "INSERT INTO out_t SELECT a FROM in_t"}]
    manifest, stats = _build(rows, dialect="snowflake", resource_type="snowflake")
    assert manifest["events"] == [] and stats.skipped_unqualified == 1
    manifest, stats = _build(rows, dialect="snowflake", resource_type="snowflake", default_database="db", default_schema="sc")
    assert _edges(manifest) == {"db.sc.out_t": {"db.sc.in_t"}} and stats.skipped_unqualified == 0
    # Row-level defaults (the session's current database/schema) win over the batch's.
    row = {"query_text": "INSERT INTO out_t SELECT a FROM in_t", "default_database": "r", "default_schema": "q"}
    manifest, _ = _build([row], dialect="snowflake", resource_type="snowflake", default_database="db", default_schema="sc")
    assert _edges(manifest) == {"r.q.out_t": {"r.q.in_t"}}


def test_bigquery_information_schema_four_part_names_keep_the_tail_as_name() -> None:
    rows = [{"query_text": "CREATE TABLE `p.d.cols` AS SELECT column_name FROM `p.d.INFORMATION_SCHEMA.COLUMNS`"}]
    manifest, _ = _build(rows, dialect="bigquery", resource_type="bigquery")
    source = manifest["events"][0]["sources"][0]
    assert (source["database"], source["schema"], source["name"]) == ("p", "d", "INFORMATION_SCHEMA.COLUMNS")


def test_views_are_typed_view() -> None:
    rows = [{"query_text": "CREATE VIEW d.s.v AS SELECT a FROM d.s.t"}]
    manifest, _ = _build(rows, dialect="snowflake", resource_type="snowflake")
    assert manifest["events"][0]["destination"]["type"] == "VIEW"


def test_bad_statement_is_counted_logged_once_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    # Warnings are deduplicated process-wide, so use an id no other test run has logged.
    query_id = f"bad-q-{uuid.uuid4()}"
    bad = {"query_id": query_id, "query_text": "INSERT INTO d.s.x SELECT * FROM (SELECT a FROM"}
    good = {"query_id": "ok", "query_text": "INSERT INTO d.s.b SELECT a FROM d.s.a"}
    with caplog.at_level(logging.WARNING, logger="monte_carlo_push_provider.lineage.batch"):
        manifest, stats = _build([bad, good, bad], dialect="snowflake", resource_type="snowflake")
    assert stats.skipped_unparseable == 2 and stats.parsed == 1
    assert _edges(manifest) == {"d.s.b": {"d.s.a"}}
    messages = [r.getMessage() for r in caplog.records if query_id in r.getMessage()]
    assert len(messages) == 1
    assert "INSERT INTO d.s.x SELECT * FROM (SELECT a FROM" in messages[0]


def test_oversized_statement_is_skipped_and_counted() -> None:
    big = {"query_id": "big", "query_text": "INSERT INTO d.s.o SELECT a FROM d.s.t WHERE a IN (" + ",".join(["1"] * 5000) + ")"}
    manifest, stats = _build([big], dialect="snowflake", resource_type="snowflake", max_query_chars=1000)
    assert stats.skipped_too_large == 1 and stats.parsed == 0 and manifest["events"] == []


def test_pathological_statement_times_out_and_batch_continues() -> None:
    # Thousands of CASE branches parse and qualify slowly (~1s); the cap cuts it off.
    slow = "INSERT INTO d.s.o SELECT CASE " + " ".join(f"WHEN x = {i} THEN y{i}" for i in range(6000)) + " END AS c FROM d.s.t"
    good = {"query_text": "INSERT INTO d.s.b SELECT a FROM d.s.a"}
    manifest, stats = _build(
        [{"query_id": "slow", "query_text": slow}, good],
        dialect="snowflake",
        resource_type="snowflake",
        timeout_s=0.05,
        max_query_tokens=None,
    )
    # The cap, not the clock, is asserted: timed_out counts it (wall time is benchmarks' business).
    assert stats.timed_out == 1 and stats.parsed == 1
    assert _edges(manifest) == {"d.s.b": {"d.s.a"}}


def test_manifest_envelope_and_stats_key() -> None:
    window = (datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 1, 2, tzinfo=timezone.utc))
    manifest = lineage_manifest_from_queries(
        [{"query_text": "INSERT INTO d.s.b SELECT a FROM d.s.a"}, {"query_text": "  "}],
        dialect="hive",
        resource_type="data-lake",
        resource_uuid="1234",
        window=window,
    )
    validate_manifest(manifest)
    assert manifest["kind"] == "lineage" and manifest["resource_type"] == "data-lake"
    assert manifest["resource_uuid"] == "1234"
    assert manifest["window"] == {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}
    assert manifest["stats"]["queries"] == 2 and manifest["stats"]["skipped_empty"] == 1
    assert manifest["stats"]["events"] == 1


def test_every_field_source_is_declared() -> None:
    rows = [
        {"query_text": "INSERT INTO d.s.b SELECT a.x, c.y FROM d.s.a a JOIN c2 c ON a.k = c.k"},
    ]
    manifest, stats = _build(rows, dialect="snowflake", resource_type="snowflake")
    # c2 is one-part and there are no defaults: that source (and its field edges) is dropped.
    assert _edges(manifest) == {"d.s.b": {"d.s.a"}}
    assert _fields(manifest) == {("d.s.b", "x", "d.s.a", "x")}
    assert stats.skipped_unqualified == 1


def test_validate_manifest_rejects_broken_events() -> None:
    manifest, _ = _build([{"query_text": "INSERT INTO d.s.b SELECT a FROM d.s.a"}], dialect="snowflake", resource_type="snowflake")
    manifest["events"][0]["fields"][0]["source_fields"][0]["asset_id"] = "nope"
    with pytest.raises(ManifestError):
        validate_manifest(manifest)


def test_temp_table_created_before_the_window_is_never_emitted():
    # '#stage' was created in an earlier batch (its session started before the window): it is
    # still session-temporary, so neither a source nor a destination named '#stage' is emitted.
    from monte_carlo_push_provider.lineage import build_lineage_manifest

    manifest, stats = build_lineage_manifest(
        [
            {"query_id": "1", "session_id": "s1", "query_text": "INSERT INTO dev.public.target SELECT id FROM #stage"},
            {"query_id": "2", "session_id": "s1", "query_text": "INSERT INTO #stage2 SELECT id FROM dev.public.src"},
        ],
        dialect="redshift", resource_type="redshift",
    )
    names = [
        ref["name"] for event in manifest["events"] for ref in [event["destination"], *event["sources"]]
    ]
    assert not any(n.startswith("#") for n in names)
