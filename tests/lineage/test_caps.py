"""Size and time caps of extract_lineage: characters, tokens, and the cooperative deadline."""

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
from monte_carlo_push_provider.lineage.timeout import Deadline, ParseTimeout

SLOW_SQL = "SELECT CASE " + " ".join(f"WHEN x = {i} THEN y{i}" for i in range(6000)) + " END AS c FROM d.s.t"


def test_size_cap() -> None:
    with pytest.raises(QueryTooLargeError):
        extract_lineage("SELECT 1 FROM d.s.t" + " " * 100, "snowflake", max_chars=50)


def test_token_cap() -> None:
    sql = "SELECT " + ", ".join(f"c{i}" for i in range(100)) + " FROM d.s.t"
    with pytest.raises(QueryTooLargeError, match="tokens"):
        extract_lineage(sql, "snowflake", max_tokens=150)
    assert extract_lineage(sql, "snowflake", max_tokens=250).in_tables == ["D.S.T"]


def test_default_token_cap_rejects_generated_monsters() -> None:
    monster = "SELECT CASE " + " ".join(f"WHEN x = {i} THEN y{i}" for i in range(9000)) + " END AS c FROM d.s.t"
    start = time.perf_counter()
    with pytest.raises(QueryTooLargeError):
        extract_lineage(monster, "snowflake", timeout_s=None)
    assert time.perf_counter() - start < 1.0  # tokenised, never parsed


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
        extract_lineage(SLOW_SQL, "snowflake", timeout_s=0.05, max_tokens=None)
    assert time.perf_counter() - start < 1.0  # vs ~1.5 s uncapped; tokenising is not interruptible


def test_pathological_statement_times_out_on_worker_thread() -> None:
    outcome: list[object] = []

    def work() -> None:
        try:
            extract_lineage(SLOW_SQL, "snowflake", timeout_s=0.05, max_tokens=None)
            outcome.append("finished")
        except LineageTimeoutError as e:
            outcome.append(e)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(30)
    # The cooperative deadline fires on a worker thread too (no thread injection); how fast is a
    # benchmark's question, not a test's, on a shared machine.
    assert not worker.is_alive() and isinstance(outcome[0], LineageTimeoutError)


def test_deadline_raises_only_once_passed() -> None:
    deadline = Deadline(0.02)
    deadline.check()  # not yet
    time.sleep(0.03)
    with pytest.raises(ParseTimeout):
        deadline.check()
    Deadline(None).check()  # no cap never raises
    Deadline(0).check()


def test_no_thread_injection_left_in_the_engine() -> None:
    import monte_carlo_push_provider.lineage.timeout as timeout

    source = open(timeout.__file__).read()
    assert "ctypes" not in source.replace("``PyThreadState_SetAsyncExc``", "")
    assert not hasattr(timeout, "call_with_timeout")


def test_engine_still_works_after_a_timeout() -> None:
    with pytest.raises(LineageTimeoutError):
        extract_lineage(SLOW_SQL, "snowflake", timeout_s=0.01, max_tokens=None)
    assert extract_lineage("SELECT a FROM d.s.t", "snowflake").in_tables == ["D.S.T"]
