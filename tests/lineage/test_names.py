"""Names that match the metadata push: each warehouse's case rule, for tables and columns."""

from __future__ import annotations

from typing import Any

import pytest

from monte_carlo_push_provider.lineage import build_lineage_manifest, extract_lineage
from monte_carlo_push_provider.lineage.shapes import ShapeCache


def _exact(r: Any) -> set[tuple[Any, str, str, str]]:
    return {(c.downstream_table, c.downstream_column, u.table, u.column) for c in r.column_lineage for u in c.upstreams}


@pytest.mark.parametrize(
    ("dialect", "sql", "inputs", "output", "columns"),
    [
        # Snowflake: unquoted -> upper case, quoted kept.
        ("snowflake", 'INSERT INTO Db.Sch."MixedOut" SELECT "Amount", id FROM db.sch."Orders"',
         ["DB.SCH.Orders"], "DB.SCH.MixedOut", {("DB.SCH.MixedOut", "Amount", "DB.SCH.Orders", "Amount"),
                                                ("DB.SCH.MixedOut", "ID", "DB.SCH.Orders", "ID")}),
        # BigQuery: table and dataset names are case-sensitive, kept as written.
        ("bigquery", "CREATE TABLE `proj.DataSet.OutT` AS SELECT Amount FROM proj.DataSet.Orders",
         ["proj.DataSet.Orders"], "proj.DataSet.OutT", {("proj.DataSet.OutT", "Amount", "proj.DataSet.Orders", "Amount")}),
        # Postgres: unquoted -> lower case, quoted kept.
        ("postgres", 'INSERT INTO Db.Sch."MixedOut" SELECT "Amount", ID FROM db.sch."Orders"',
         ["db.sch.Orders"], "db.sch.MixedOut", {("db.sch.MixedOut", "Amount", "db.sch.Orders", "Amount"),
                                                ("db.sch.MixedOut", "id", "db.sch.Orders", "id")}),
        # Redshift folds quoted identifiers too (enable_case_sensitive_identifier is off by default).
        ("redshift", 'INSERT INTO Db.Sch."MixedOut" SELECT "Amount" FROM db.sch."Orders"',
         ["db.sch.orders"], "db.sch.mixedout", {("db.sch.mixedout", "amount", "db.sch.orders", "amount")}),
        # Databricks / Hive: case-insensitive, stored lower case.
        ("databricks", "INSERT INTO Cat.Sch.`MixedOut` SELECT `Amount` FROM cat.SCH.Orders",
         ["cat.sch.orders"], "cat.sch.mixedout", {("cat.sch.mixedout", "amount", "cat.sch.orders", "amount")}),
        ("hive", "INSERT INTO TABLE Sch.`MixedOut` SELECT `Amount` FROM SCH.Orders",
         ["sch.orders"], "sch.mixedout", {("sch.mixedout", "amount", "sch.orders", "amount")}),
    ],
)
def test_names_follow_the_warehouse_case_rule(
    dialect: str, sql: str, inputs: list[str], output: str, columns: set[tuple[str, str, str, str]]
) -> None:
    r = extract_lineage(sql, dialect)
    assert r.in_tables == inputs
    assert r.out_tables == [output]
    assert _exact(r) == columns


def test_snowflake_unquoted_and_quoted_upper_are_one_table_in_a_batch() -> None:
    rows = [
        {"query_text": "CREATE TABLE d.s.mid AS SELECT a FROM d.s.src"},
        {"query_text": 'INSERT INTO d.s.out SELECT a FROM "D"."S"."MID"'},
        {"query_text": "DROP TABLE D.S.Mid"},
    ]
    manifest, stats = build_lineage_manifest(rows, dialect="snowflake", resource_type="snowflake", shape_cache=ShapeCache())
    # MID was written, read and dropped under three spellings of one name: resolved through.
    assert stats.temp_tables_resolved == 1
    [event] = manifest["events"]
    assert (event["destination"]["name"], [s["name"] for s in event["sources"]]) == ("OUT", ["SRC"])


def test_manifest_refs_carry_the_exact_names() -> None:
    rows = [{"query_text": 'INSERT INTO an.pub."Daily Report" SELECT "Total" FROM an.pub.orders'}]
    manifest, _ = build_lineage_manifest(rows, dialect="snowflake", resource_type="snowflake", shape_cache=ShapeCache())
    [event] = manifest["events"]
    assert {k: event["destination"][k] for k in ("database", "schema", "name")} == {
        "database": "AN", "schema": "PUB", "name": "Daily Report"}
    assert {k: event["sources"][0][k] for k in ("database", "schema", "name")} == {
        "database": "AN", "schema": "PUB", "name": "ORDERS"}
    assert event["fields"] == [{"name": "Total", "source_fields": [
        {"asset_id": event["sources"][0]["asset_id"], "field_name": "Total"}]}]


def test_schema_lookup_ignores_case() -> None:
    # The caller's schema may be spelled as their metadata is (upper case here): still found.
    r = extract_lineage("SELECT * FROM db.s.t", "snowflake", schema={"DB.S.T": {"ID": "NUMBER", "Name": "TEXT"}})
    assert {c.downstream_column for c in r.column_lineage} == {"ID", "NAME"}
