"""Size and time caps of extract_lineage, and the watchdog behind the time cap."""

from __future__ import annotations

import threading
import time

import pytest

from monte_carlo_push_provider.lineage import (
    LineageTimeoutError,
    QueryTooLargeError,
    UnparseableSQLError,
    extract_lineage,
)
from monte_carlo_push_provider.lineage.timeout import ParseTimeout, call_with_timeout

SLOW_SQL = "SELECT CASE " + " ".join(f"WHEN x = {i} THEN y{i}" for i in range(6000)) + " END AS c FROM d.s.t"


def test_size_cap() -> None:
    with pytest.raises(QueryTooLargeError):
        extract_lineage("SELECT 1 FROM d.s.t" + " " * 100, "snowflake", max_chars=50)


def test_unparseable_raises_typed_error() -> None:
    with pytest.raises(UnparseableSQLError):
        extract_lineage("SELECT * FROM (SELECT", "snowflake")


def test_deep_nesting_is_unparseable_not_a_crash() -> None:
    sql = "SELECT * FROM " + "(SELECT * FROM " * 400 + "t" + ")" * 400
    with pytest.raises(UnparseableSQLError):
        extract_lineage(sql, "postgres")


def test_pathological_statement_times_out_on_main_thread() -> None:
    start = time.perf_counter()
    with pytest.raises(LineageTimeoutError):
        extract_lineage(SLOW_SQL, "snowflake", timeout_s=0.05)
    assert time.perf_counter() - start < 0.5


def test_pathological_statement_times_out_on_worker_thread() -> None:
    outcome: list[object] = []

    def work() -> None:
        try:
            extract_lineage(SLOW_SQL, "snowflake", timeout_s=0.05)
            outcome.append("finished")
        except LineageTimeoutError as e:
            outcome.append(e)

    start = time.perf_counter()
    worker = threading.Thread(target=work)
    worker.start()
    worker.join(5)
    assert isinstance(outcome[0], LineageTimeoutError)
    assert time.perf_counter() - start < 0.5


def test_timer_does_not_fire_after_the_call_returns() -> None:
    assert call_with_timeout(lambda: 42, 0.01) == 42
    time.sleep(0.05)  # a stray exception would surface here


def test_call_with_timeout_interrupts_pure_python_loop() -> None:
    def spin() -> None:
        while True:
            pass

    with pytest.raises(ParseTimeout):
        call_with_timeout(spin, 0.02)


def test_engine_still_works_after_a_timeout() -> None:
    with pytest.raises(LineageTimeoutError):
        extract_lineage(SLOW_SQL, "snowflake", timeout_s=0.01)
    assert extract_lineage("SELECT a FROM d.s.t", "snowflake").in_tables == ["d.s.t"]
