"""Parsing shapes in worker processes: same lineage as in-process, and killable workers."""

from __future__ import annotations

import time

import pytest

from monte_carlo_push_provider.lineage import (
    LineageTimeoutError,
    UnparseableSQLError,
    build_lineage_manifest,
    pool,
)
from monte_carlo_push_provider.lineage.pool import ShapeTask, parse_shapes
from monte_carlo_push_provider.lineage.shapes import ShapeCache

SLOW_SQL = "SELECT CASE " + " ".join(f"WHEN x = {i} THEN y{i}" for i in range(6000)) + " END AS c FROM d.s.t"


def test_pool_gives_the_same_manifest_as_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "MIN_SHAPES_FOR_POOL", 1)
    rows = [
        {"query_id": "1", "query_text": "CREATE TABLE d.s.scratch AS SELECT id, amount FROM d.s.src WHERE x = 1"},
        {"query_id": "2", "query_text": "INSERT INTO d.s.out SELECT * FROM d.s.scratch WHERE k = 1"},
        {"query_id": "3", "query_text": "INSERT INTO d.s.out SELECT * FROM d.s.scratch WHERE k = 2"},
        {"query_id": "4", "query_text": "MERGE INTO d.s.t USING d.s.u ON t.id = u.id WHEN MATCHED THEN UPDATE SET t.v = u.v"},
        {"query_id": "5", "query_text": "INSERT INTO d.s.x SELECT * FROM (SELECT"},
        {"query_id": "6", "query_text": "DROP TABLE d.s.scratch"},
    ]
    kwargs = {"dialect": "snowflake", "resource_type": "snowflake"}
    serial, serial_stats = build_lineage_manifest(rows, shape_cache=ShapeCache(), **kwargs)
    pooled, pooled_stats = build_lineage_manifest(rows, shape_cache=ShapeCache(), parse_workers=2, **kwargs)
    assert pooled["events"] == serial["events"] and serial["events"]
    # The INSERT over the batch-defined scratch table was re-parsed in-process with its columns.
    assert {f["name"] for e in pooled["events"] for f in e.get("fields", [])} >= {"ID", "AMOUNT"}
    assert pooled_stats.parse_workers == 2 and pooled_stats.shapes_parsed_in_workers == 4
    assert pooled_stats.skipped_unparseable == serial_stats.skipped_unparseable == 1


def test_worker_over_the_cap_is_killed_and_replaced() -> None:
    tasks = [ShapeTask(SLOW_SQL, None, None), ShapeTask("INSERT INTO d.s.b SELECT a FROM d.s.a", None, None)]
    start = time.monotonic()
    outcomes, stats = parse_shapes(
        tasks, workers=1, dialect="snowflake", schema={}, timeout_s=None, max_tokens=None, kill_after_s=0.3
    )
    assert isinstance(outcomes[0].error, LineageTimeoutError)
    assert outcomes[1].results is not None and outcomes[1].results[0].in_tables == ["D.S.A"]
    assert stats.killed == 1
    assert time.monotonic() - start < 10


def test_worker_errors_come_back_typed() -> None:
    outcomes, _ = parse_shapes(
        [ShapeTask("SELECT * FROM (SELECT", None, None)], workers=1, dialect="snowflake", schema={},
        timeout_s=1.0, max_tokens=None,
    )
    assert isinstance(outcomes[0].error, UnparseableSQLError)
