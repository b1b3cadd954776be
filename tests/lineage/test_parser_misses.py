"""Constructs found in real query logs that plain sqlglot use misses (issue 17, item 6)."""

from __future__ import annotations

from monte_carlo_push_provider.lineage import build_lineage_manifest, extract_lineage
from monte_carlo_push_provider.lineage.shapes import ShapeCache

from .conftest import edges, tables


def test_snowflake_identifier_literal_is_the_table_it_names() -> None:
    r = extract_lineage(
        "INSERT INTO IDENTIFIER('d.s.out') SELECT a FROM IDENTIFIER('\"Mixed\".s.src')", "snowflake"
    )
    assert r.in_tables == ["Mixed.S.SRC"] and r.out_tables == ["D.S.OUT"]
    assert edges(r) == {("d.s.out", "a", "mixed.s.src", "a")}
    # A session variable cannot be resolved here: no table rather than a wrong one.
    assert extract_lineage("SELECT a FROM IDENTIFIER($t)", "snowflake").in_tables == []


def test_use_applies_to_the_statements_after_it() -> None:
    sql = "USE DATABASE db1; INSERT INTO t SELECT a FROM u; USE SCHEMA s2; INSERT INTO t SELECT a FROM u"
    r = extract_lineage(sql, "snowflake", default_database="OTHER", default_schema="X")
    assert tables(r) == ({"db1.public.u", "db1.s2.u"}, {"db1.public.t", "db1.s2.t"})
    r = extract_lineage("USE db9.s9; DELETE FROM t WHERE id IN (SELECT id FROM u)", "snowflake")
    assert tables(r) == ({"db9.s9.u"}, {"db9.s9.t"})
    # Databricks / Hive: a one-part USE selects the schema.
    r = extract_lineage("USE sales; INSERT INTO t SELECT a FROM u", "databricks", default_database="main")
    assert tables(r) == ({"main.sales.u"}, {"main.sales.t"})
    # USE WAREHOUSE / ROLE change nothing.
    r = extract_lineage("USE WAREHOUSE wh; INSERT INTO t SELECT a FROM u", "snowflake", default_database="D", default_schema="S")
    assert tables(r) == ({"d.s.u"}, {"d.s.t"})


def test_copy_into_table_from_stage_url_or_query() -> None:
    r = extract_lineage("COPY INTO d.s.t FROM @stage/path FILE_FORMAT = (TYPE = CSV)", "snowflake")
    assert tables(r) == (set(), {"d.s.t"})
    r = extract_lineage("COPY INTO d.s.t FROM (SELECT $1, $2 FROM @stage)", "snowflake")
    assert tables(r) == (set(), {"d.s.t"})
    r = extract_lineage("COPY INTO @stage/out FROM (SELECT a FROM d.s.src JOIN d.s.dim USING (k))", "snowflake")
    assert tables(r) == ({"d.s.src", "d.s.dim"}, set())
    r = extract_lineage("COPY INTO 's3://bucket/p' FROM d.s.src", "snowflake")
    assert tables(r) == ({"d.s.src"}, set())


def test_alter_rename_and_swap_are_lineage() -> None:
    r = extract_lineage("ALTER TABLE d.s.staging RENAME TO d.s.final", "snowflake")
    assert tables(r) == ({"d.s.staging"}, {"d.s.final"})
    # Postgres / Redshift: the new name stays in the old one's schema.
    r = extract_lineage("ALTER TABLE s.old_t RENAME TO new_t", "redshift", default_database="dev")
    assert tables(r) == ({"dev.s.old_t"}, {"dev.s.new_t"})
    r = extract_lineage("ALTER TABLE d.s.a SWAP WITH d.s.b", "snowflake")
    assert tables(r) == ({"d.s.a", "d.s.b"}, {"d.s.a", "d.s.b"})
    # An ALTER that is not a rename still only writes its target.
    assert tables(extract_lineage("ALTER TABLE d.s.t ADD COLUMN c INT", "snowflake")) == (set(), {"d.s.t"})


def test_rename_is_a_manifest_edge() -> None:
    manifest, _ = build_lineage_manifest(
        [{"query_text": "ALTER TABLE d.s.staging RENAME TO d.s.final"}],
        dialect="snowflake", resource_type="snowflake", shape_cache=ShapeCache(),
    )
    [event] = manifest["events"]
    assert event["destination"]["name"] == "FINAL" and [s["name"] for s in event["sources"]] == ["STAGING"]


def test_delete_target_list() -> None:
    r = extract_lineage(
        "DELETE t1, t2 FROM db.orders AS t1 INNER JOIN db.items AS t2 ON t1.id = t2.oid "
        "JOIN db.bad b ON b.id = t1.id",
        "mysql",
    )
    assert tables(r) == ({"db.bad"}, {"db.orders", "db.items"})


def test_subquery_inside_values() -> None:
    r = extract_lineage(
        "INSERT INTO d.s.t (total, n) VALUES ((SELECT SUM(amount) FROM d.s.src), 1)", "snowflake"
    )
    assert tables(r) == ({"d.s.src"}, {"d.s.t"})
    assert edges(r) == {("d.s.t", "total", "d.s.src", "amount")}
    # Without a column list the table lineage still holds.
    r = extract_lineage("INSERT INTO d.s.t VALUES ((SELECT MAX(a) FROM d.s.u))", "snowflake")
    assert tables(r) == ({"d.s.u"}, {"d.s.t"})


def test_merge_reads_subqueries_in_on_and_when() -> None:
    r = extract_lineage(
        "MERGE INTO d.s.t USING d.s.u ON t.id = u.id AND u.k IN (SELECT k FROM d.s.w) "
        "WHEN MATCHED AND u.z IN (SELECT z FROM d.s.x) THEN UPDATE SET t.v = u.v",
        "snowflake",
    )
    assert tables(r) == ({"d.s.u", "d.s.w", "d.s.x"}, {"d.s.t"})
    assert ("d.s.t", "v", "d.s.u", "v") in edges(r)


def test_pivot_column_lineage() -> None:
    schema = {"d.s.t": {"id": "int", "amount": "int", "month": "text"}}
    r = extract_lineage(
        "CREATE TABLE d.s.p AS SELECT * FROM d.s.t PIVOT (SUM(amount) FOR month IN ('JAN', 'FEB')) AS p",
        "snowflake",
        schema=schema,
    )
    assert edges(r) == {
        ("d.s.p", "id", "d.s.t", "id"),
        ("d.s.p", "'jan'", "d.s.t", "amount"), ("d.s.p", "'jan'", "d.s.t", "month"),
        ("d.s.p", "'feb'", "d.s.t", "amount"), ("d.s.p", "'feb'", "d.s.t", "month"),
    }


def test_lateral_subquery_columns_include_its_correlation() -> None:
    r = extract_lineage(
        "SELECT u.id, l.total FROM d.s.users u, LATERAL (SELECT SUM(o.amount) AS total "
        "FROM d.s.orders o WHERE o.uid = u.id) l",
        "postgres",
    )
    assert edges(r) == {
        (None, "id", "d.s.users", "id"),
        (None, "total", "d.s.orders", "amount"), (None, "total", "d.s.orders", "uid"), (None, "total", "d.s.users", "id"),
    }
