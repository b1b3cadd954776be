"""Snowflake collector helpers that need no warehouse: name parsing, time zones, the folding of
ACCESS_HISTORY rows into lineage events, and cheap imports. The SQL itself is tested through the
real hook in tests/operators/test_snowflake.py; the scopes dropped-table cleanup compares, against
the fakesnow stand-in, at the end."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from monte_carlo_push_provider.collectors.snowflake import (
    LineageStats,
    _add_access_row,
    _lineage_events,
    account_usage_parts,
    as_utc,
    split_object_name,
)
from monte_carlo_push_provider.manifest import new_manifest, validate_manifest


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("DB.SCH.T", ("DB", "SCH", "T")),
        ('"My DB"."Sch ""q"";--".T', ("My DB", 'Sch "q";--', "T")),
        ('DB."a.b.c"."Tåble -- x"', ("DB", "a.b.c", "Tåble -- x")),
        ("DB.SCH", None),
        ("DB.SCH.T.X", None),
        ('DB."unterminated.T', None),
        ('DB."x"y.T', None),
        ("DB..T", None),
    ],
)
def test_split_object_name(name: str, expected: tuple[str, ...] | None) -> None:
    assert split_object_name(name) == expected


def test_account_usage_schema_follows_snowflake_identifier_rules() -> None:
    assert account_usage_parts("snowflake.account_usage") == ("SNOWFLAKE", "ACCOUNT_USAGE")
    assert account_usage_parts('"Ops Copy".usage') == ("Ops Copy", "USAGE")
    assert account_usage_parts(("ops", "Usage")) == ("ops", "Usage")
    with pytest.raises(ValueError, match="<database>.<schema>"):
        account_usage_parts("SNOWFLAKE")


def test_naive_timestamps_are_utc_and_aware_ones_are_converted() -> None:
    naive = datetime(2026, 11, 25, 9, 15)
    assert as_utc(naive) == datetime(2026, 11, 25, 9, 15, tzinfo=timezone.utc)
    pacific = datetime(2026, 11, 25, 1, 15, tzinfo=timezone(timedelta(hours=-8)))
    assert as_utc(pacific) == datetime(2026, 11, 25, 9, 15, tzinfo=timezone.utc)
    assert as_utc(None) is None


def _src(name: str, column: str, domain: str = "Table") -> dict[str, Any]:
    return {"objectName": name, "objectDomain": domain, "columnName": column}


def _events(*rows: tuple[list[Any], list[Any]]) -> tuple[list[dict[str, Any]], LineageStats]:
    graph: dict[Any, Any] = {}
    stats = LineageStats()
    for modified, accessed in rows:
        _add_access_row(graph, modified, accessed, stats)
    return _lineage_events(graph, True, stats), stats


def test_self_reads_stages_and_streams_make_no_edges() -> None:
    events, stats = _events(
        # UPDATE T SET A = B: reads itself
        ([{"objectName": "D.S.T", "objectDomain": "Table",
           "columns": [{"columnName": "A", "directSources": [_src("D.S.T", "B")]}]}], []),
        # COPY INTO from a stage, INSERT from a stream
        ([{"objectName": "D.S.T", "objectDomain": "Table"}],
         [{"objectName": "D.S.STG", "objectDomain": "Stage"}, {"objectName": "D.S.STR", "objectDomain": "Stream"}]),
        # writes into a stage are not lineage destinations
        ([{"objectName": "D.S.STG", "objectDomain": "Stage"}], [{"objectName": "D.S.T", "objectDomain": "Table"}]),
    )
    assert events == []
    assert stats.modified_objects == 3


def test_materialized_view_and_external_table_domains() -> None:
    events, stats = _events(
        ([{"objectName": "D.S.MV", "objectDomain": "Materialized view",
           "columns": [{"columnName": "C", "directSources": [_src("D.S.EXT", "V", "External table")]}]}], []),
    )
    manifest = new_manifest("lineage", events, resource_type="snowflake")
    validate_manifest(manifest)
    assert events[0]["destination"]["type"] == "VIEW"
    assert events[0]["sources"] == [
        {"type": "TABLE", "name": "EXT", "database": "D", "schema": "S", "asset_id": '"D"."S"."EXT"'}
    ]
    assert (stats.edges, stats.column_edges, stats.events) == (1, 1, 1)


def test_operator_module_imports_no_warehouse_sdk() -> None:
    # Airflow itself imports the ``airflow.providers.snowflake`` package (not its hook) at start-up
    code = (
        "import sys; import monte_carlo_push_provider.operators.snowflake; "
        "heavy = [m for m in ('snowflake.connector', 'airflow.providers.snowflake.hooks.snowflake', 'sqlglot', "
        "'pycarlo', 'monte_carlo_push_provider.lineage') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]"


# --- dropped-table cleanup: the scopes the metadata collector declares (fakesnow stand-in) ------


def test_scope_of_one_database_several_and_account_usage(snowflake_conn: Any) -> None:
    """One database: one scope through the schema filter. Several: one scope per database read,
    an empty one included (every table of it gone is a refusal, not a silent skip). ACCOUNT_USAGE:
    another source, so ``options.source`` makes it another scope; the databases it found tables in."""
    from monte_carlo_push_provider.operators.snowflake import SnowflakeMetadataCollectorOperator
    from tests.conftest import make_context
    from tests.standins.snowflake import DB, EMPTY_DB, HOSTILE_DB

    def collect(**kwargs: Any) -> dict[str, Any]:
        return validate_manifest(SnowflakeMetadataCollectorOperator(task_id="m", **kwargs).execute(make_context()))

    one = collect(database=DB, exclude_schemas="staging")
    assert one["scope"] == {"database": DB, "schemas": None, "exclude_schemas": ["staging"]} and one["complete"] is True
    several = collect(databases=[DB, "mixed_*", EMPTY_DB], schemas=["PUBLIC", "Sch*"])
    assert several["scope"] == [
        {"database": name, "schemas": ["PUBLIC", "Sch*"], "exclude_schemas": None}
        for name in (DB, EMPTY_DB, HOSTILE_DB)
    ]
    assert several["complete"] is True and {e["metadata"]["database"] for e in several["events"]} == {DB, HOSTILE_DB}
    account = collect(account_usage=True, exclude_databases="OTHER_DB")
    assert account["scope"] == [
        {"database": name, "schemas": None, "exclude_schemas": None, "options": {"source": "account_usage"}}
        for name in (DB, HOSTILE_DB)
    ]
    assert collect(account_usage=True, database=DB)["scope"] == {
        "database": DB, "schemas": None, "exclude_schemas": None, "options": {"source": "account_usage"}}
