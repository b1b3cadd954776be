"""Shared collector helpers: type normalisation, quoting, filters, windows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from monte_carlo_push_provider.collectors.common import (
    NameFilter,
    normalize_table_type,
    query_window,
    quote_identifier,
    quote_literal,
    quote_qualified,
)

UTC = timezone.utc


@pytest.mark.parametrize(
    ("native", "expected"),
    [("BASE TABLE", "TABLE"), ("MANAGED", "TABLE"), ("EXTERNAL", "TABLE"), ("DYNAMIC TABLE", "TABLE"),
     ("EXTERNAL_TABLE", "TABLE"), ("STREAMING_TABLE", "TABLE"), ("CLONE", "TABLE"), ("SNAPSHOT", "TABLE"),
     ("VIEW", "VIEW"), ("MATERIALIZED VIEW", "VIEW"), ("MATERIALIZED_VIEW", "VIEW"), ("VIRTUAL_VIEW", "VIEW"),
     ("secure view", "VIEW"), (None, "TABLE")],
)
def test_normalize_table_type(native, expected):
    assert normalize_table_type(native) == expected


def test_quoting_never_lets_a_name_escape():
    assert quote_identifier('a"; DROP TABLE x; --') == '"a""; DROP TABLE x; --"'
    assert quote_identifier("we`ird", "`") == "`we``ird`"
    assert quote_qualified("My DB", "ünï", 'T"1') == '"My DB"."ünï"."T""1"'
    with pytest.raises(ValueError, match="non-empty"):
        quote_identifier("")
    with pytest.raises(ValueError, match="NUL"):
        quote_identifier("a\x00b")
    assert quote_literal("it's") == "'it''s'"


def test_name_filter_globs_and_regexes():
    f = NameFilter(include=["ANALYTICS_*", "re:^raw_\\d+$"], exclude=["*_TMP"])
    assert f.select(["ANALYTICS_CORE", "analytics_tmp", "raw_12", "raw_x", "OTHER"]) == ["ANALYTICS_CORE", "raw_12"]
    assert NameFilter().select(["a", "b"]) == ["a", "b"]


def test_query_window_tiles_consecutive_runs_with_lag():
    lag = timedelta(minutes=45)
    first = query_window({"data_interval_start": datetime(2026, 11, 25, 9, tzinfo=UTC),
                          "data_interval_end": datetime(2026, 11, 25, 10, tzinfo=UTC)}, lag=lag)
    second = query_window({"data_interval_start": datetime(2026, 11, 25, 10, tzinfo=UTC),
                           "data_interval_end": datetime(2026, 11, 25, 11, tzinfo=UTC)}, lag=lag)
    assert first == (datetime(2026, 11, 25, 8, 15, tzinfo=UTC), datetime(2026, 11, 25, 9, 15, tzinfo=UTC))
    assert first[1] == second[0]  # no gap, no overlap


def test_query_window_without_interval_falls_back_to_the_hour_before():
    end = datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert query_window({"logical_date": end}) == (end - timedelta(hours=1), end)
    with pytest.raises(ValueError, match="empty"):
        query_window({}, start=end, end=end)


def test_access_errors_are_told_apart_and_others_propagate() -> None:
    from monte_carlo_push_provider.collectors.base import (
        AccessHints,
        WarehouseAccessError,
        explain_access_error,
    )

    hints = AccessHints(warehouse="W", missing="fix-missing", grant="fix-grant", tls="fix-tls", doc="docs/w.md")
    missing = explain_access_error(RuntimeError('database "x" does not exist'), hints, "database x")
    assert isinstance(missing, WarehouseAccessError)
    assert "while reading database x" in str(missing) and "fix-missing" in str(missing)
    assert "fix-grant" in str(explain_access_error(RuntimeError("permission denied for schema s"), hints, ""))
    assert "fix-tls" in str(explain_access_error(OSError("[SSL: WRONG_VERSION_NUMBER] wrong version number"), hints, ""))
    # a timeout or a reset is not the warehouse refusing: it stays as it is (retryable)
    assert explain_access_error(TimeoutError("timed out"), hints, "database x") is None
