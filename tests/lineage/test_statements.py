"""Table and column lineage per statement kind, per dialect (SQL written for these tests)."""

from __future__ import annotations

import pytest

from monte_carlo_push_provider.lineage import extract_lineage

from .conftest import edges, tables


# ------------------------------------------------------------------------------- SELECT
@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "redshift", "databricks", "spark", "hive", "postgres", ""])
def test_select_join_every_dialect(dialect: str) -> None:
    r = extract_lineage(
        "SELECT o.id, c.name AS customer FROM sales.orders o JOIN sales.customers c ON o.cid = c.id",
        dialect,
    )
    assert tables(r) == ({"sales.orders", "sales.customers"}, set())
    assert edges(r) == {
        (None, "id", "sales.orders", "id"),
        (None, "customer", "sales.customers", "name"),
    }


def test_select_defaults_fill_missing_parts() -> None:
    # Defaults are used as the warehouse reported them; the SQL's own parts follow its case rule.
    r = extract_lineage("SELECT a FROM t1", "snowflake", default_database="db", default_schema="sch")
    assert r.in_tables == ["db.sch.T1"]
    r = extract_lineage("SELECT a FROM s.t1", "snowflake", default_database="DB", default_schema="SCH")
    assert r.in_tables == ["DB.S.T1"]
    # Only a default database: as qualified as the inputs allow, never a guessed schema.
    r = extract_lineage("SELECT a FROM t1", "redshift", default_database="db")
    assert r.in_tables == ["db.t1"]


def test_select_star_expands_with_schema() -> None:
    schema = {"db.s.t": {"a": "int", "b": "text"}}
    r = extract_lineage("SELECT * FROM db.s.t", "postgres", schema=schema)
    assert edges(r) == {(None, "a", "db.s.t", "a"), (None, "b", "db.s.t", "b")}


def test_select_star_without_schema_has_no_column_lineage() -> None:
    r = extract_lineage("SELECT * FROM db.s.t", "postgres")
    assert r.in_tables == ["db.s.t"]
    assert r.column_lineage == []


def test_unqualified_column_resolved_by_schema_across_join() -> None:
    schema = {"d.s.a": {"id": "int", "x": "int"}, "d.s.b": {"id": "int", "y": "int"}}
    r = extract_lineage("SELECT x, y FROM d.s.a JOIN d.s.b ON a.id = b.id", "snowflake", schema=schema)
    assert edges(r) == {(None, "x", "d.s.a", "x"), (None, "y", "d.s.b", "y")}


def test_ambiguous_unqualified_column_without_schema_is_not_guessed() -> None:
    r = extract_lineage("SELECT x FROM d.s.a JOIN d.s.b ON a.id = b.id", "snowflake")
    assert edges(r) == set()


def test_expression_column_combines_inputs_and_drops_literals() -> None:
    r = extract_lineage(
        "SELECT CASE WHEN o.flag THEN o.amount ELSE 0 END AS amt, 'x' AS lit, COUNT(*) AS n FROM d.s.o o",
        "snowflake",
    )
    assert edges(r) == {(None, "amt", "d.s.o", "flag"), (None, "amt", "d.s.o", "amount")}
    assert {c.downstream_column for c in r.column_lineage} == {"AMT", "LIT", "N"}


# ------------------------------------------------------------------------------- CTEs, subqueries
def test_cte_is_never_a_table_and_lineage_passes_through() -> None:
    sql = """
    WITH recent AS (SELECT id, amount FROM d.s.orders WHERE ts > '2024-01-01'),
         unused AS (SELECT z FROM d.s.other)
    SELECT r.id, r.amount * 2 AS doubled FROM recent r
    """
    r = extract_lineage(sql, "snowflake")
    assert tables(r) == ({"d.s.orders", "d.s.other"}, set())
    assert "recent" not in " ".join(r.in_tables)
    assert edges(r) == {(None, "id", "d.s.orders", "id"), (None, "doubled", "d.s.orders", "amount")}


def test_nested_cte_reference_and_shadowing_alias() -> None:
    sql = """
    WITH a AS (SELECT k, v FROM d.s.base), b AS (SELECT k, v + 1 AS w FROM a)
    SELECT b.w, a2.v FROM b JOIN d.s.real_table AS a2 ON a2.k = b.k
    """
    r = extract_lineage(sql, "bigquery")
    assert tables(r) == ({"d.s.base", "d.s.real_table"}, set())
    assert edges(r) == {(None, "w", "d.s.base", "v"), (None, "v", "d.s.real_table", "v")}


def test_derived_table_and_scalar_subquery() -> None:
    sql = """
    SELECT q.total, (SELECT MAX(p.price) FROM d.s.prices p WHERE p.id = q.id) AS top_price
    FROM (SELECT id, SUM(amount) AS total FROM d.s.orders GROUP BY id) q
    """
    r = extract_lineage(sql, "postgres")
    assert tables(r) == ({"d.s.prices", "d.s.orders"}, set())
    assert edges(r) == {(None, "total", "d.s.orders", "amount"), (None, "top_price", "d.s.prices", "price")}


def test_star_through_derived_table_without_schema() -> None:
    sql = "SELECT user_id FROM (SELECT *, ROW_NUMBER() OVER (ORDER BY ts) AS rn FROM d.s.events) e WHERE rn = 1"
    r = extract_lineage(sql, "bigquery")
    assert edges(r) == {(None, "user_id", "d.s.events", "user_id")}


def test_union_merges_branches_by_position() -> None:
    sql = "SELECT a AS x, b FROM d.s.t1 UNION ALL SELECT c, d FROM d.s.t2 UNION SELECT e, f FROM d.s.t3"
    r = extract_lineage(sql, "redshift")
    assert tables(r) == ({"d.s.t1", "d.s.t2", "d.s.t3"}, set())
    assert edges(r) == {
        (None, "x", "d.s.t1", "a"), (None, "x", "d.s.t2", "c"), (None, "x", "d.s.t3", "e"),
        (None, "b", "d.s.t1", "b"), (None, "b", "d.s.t2", "d"), (None, "b", "d.s.t3", "f"),
    }


# ------------------------------------------------------------------------------- lateral / unnest
def test_bigquery_unnest() -> None:
    r = extract_lineage("SELECT t.id, tag FROM `p.d.t` AS t, UNNEST(t.tags) AS tag", "bigquery")
    assert tables(r) == ({"p.d.t"}, set())
    assert edges(r) == {(None, "id", "p.d.t", "id"), (None, "tag", "p.d.t", "tags")}


def test_snowflake_lateral_flatten() -> None:
    r = extract_lineage("SELECT t.id, f.value AS item FROM d.s.t, LATERAL FLATTEN(input => t.items) f", "snowflake")
    assert tables(r) == ({"d.s.t"}, set())
    assert edges(r) == {(None, "id", "d.s.t", "id"), (None, "item", "d.s.t", "items")}


def test_hive_lateral_view_explode() -> None:
    r = extract_lineage("SELECT t.id, c FROM db.t LATERAL VIEW explode(t.arr) x AS c", "hive")
    assert tables(r) == ({"db.t"}, set())
    assert edges(r) == {(None, "id", "db.t", "id"), (None, "c", "db.t", "arr")}


def test_postgres_lateral_subquery() -> None:
    sql = "SELECT a.id, l.v FROM d.s.a a, LATERAL (SELECT b.v FROM d.s.b b WHERE b.id = a.id LIMIT 1) l"
    r = extract_lineage(sql, "postgres")
    assert tables(r) == ({"d.s.a", "d.s.b"}, set())
    assert (None, "v", "d.s.b", "v") in edges(r)
    assert (None, "id", "d.s.a", "id") in edges(r)


# ------------------------------------------------------------------------------- identifiers
def test_snowflake_quoted_names_keep_their_case_and_unquoted_fold_upper() -> None:
    sql = 'SELECT "Amount" AS "Total", o.id FROM "Db"."Sales"."Orders" o'
    r = extract_lineage(sql, "snowflake")
    assert r.in_tables == ["Db.Sales.Orders"]
    exact = {(c.downstream_table, c.downstream_column, u.table, u.column) for c in r.column_lineage for u in c.upstreams}
    assert exact == {(None, "Total", "Db.Sales.Orders", "Amount"), (None, "ID", "Db.Sales.Orders", "ID")}


def test_column_referenced_by_full_table_path() -> None:
    r = extract_lineage("SELECT d.s.t.a AS x FROM d.s.t", "snowflake")
    assert edges(r) == {(None, "x", "d.s.t", "a")}


def test_bigquery_project_qualified_names_with_hyphens() -> None:
    r = extract_lineage("SELECT a FROM `my-proj.ds.tbl` JOIN `other-proj`.ds2.t2 USING (a)", "bigquery")
    assert tables(r) == ({"my-proj.ds.tbl", "other-proj.ds2.t2"}, set())


def test_bigquery_default_project_fills_dataset_names() -> None:
    r = extract_lineage("SELECT a FROM ds.tbl", "bigquery", default_database="proj")
    assert r.in_tables == ["proj.ds.tbl"]


@pytest.mark.parametrize(
    "reference",
    ["`p.d.events_20240131`", "`p.d.events_2024*`", "`p.d.events_*`", "`p.d.events$20240131`"],
)
def test_bigquery_date_shards_and_decorators(reference: str) -> None:
    r = extract_lineage(f"SELECT * FROM {reference}", "bigquery")
    expected = "p.d.events" if "$" in reference else "p.d.events_yyyymmdd"
    assert r.in_tables == [expected]


def test_bigquery_shard_schema_lookup_uses_normalized_name() -> None:
    r = extract_lineage(
        "SELECT * FROM `p.d.events_20240101`", "bigquery", schema={"p.d.events_yyyymmdd": {"id": "INT64"}}
    )
    assert edges(r) == {(None, "id", "p.d.events_yyyymmdd", "id")}


def test_bigquery_non_date_suffix_is_not_a_shard() -> None:
    r = extract_lineage("SELECT * FROM `p.d.events_99999999`", "bigquery")
    assert r.in_tables == ["p.d.events_99999999"]


def test_bigquery_struct_field_path_is_the_upstream_column() -> None:
    schema = {"p.d.t": {"id": "INT64", "info": "STRUCT<city STRING>"}}
    r = extract_lineage("SELECT id, info.city FROM p.d.t", "bigquery", schema=schema)
    assert edges(r) == {(None, "id", "p.d.t", "id"), (None, "city", "p.d.t", "info.city")}


# ------------------------------------------------------------------------------- CTAS / INSERT
@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "redshift", "databricks", "postgres"])
def test_ctas(dialect: str) -> None:
    r = extract_lineage("CREATE TABLE d.s.out AS SELECT id, amount * 2 AS amt FROM d.s.src", dialect)
    assert tables(r) == ({"d.s.src"}, {"d.s.out"})
    assert edges(r) == {("d.s.out", "id", "d.s.src", "id"), ("d.s.out", "amt", "d.s.src", "amount")}


def test_ctas_parenthesized_with_cte() -> None:
    sql = "CREATE OR REPLACE TABLE d.s.out AS (WITH c AS (SELECT k FROM d.s.src) SELECT k FROM c)"
    r = extract_lineage(sql, "snowflake")
    assert tables(r) == ({"d.s.src"}, {"d.s.out"})
    assert edges(r) == {("d.s.out", "k", "d.s.src", "k")}


@pytest.mark.parametrize("dialect", ["snowflake", "redshift", "postgres", "bigquery", "databricks", ""])
def test_insert_into_with_column_list_maps_by_position(dialect: str) -> None:
    r = extract_lineage("INSERT INTO d.s.tgt (x, y) SELECT a, b + c FROM d.s.src", dialect)
    assert tables(r) == ({"d.s.src"}, {"d.s.tgt"})
    assert edges(r) == {
        ("d.s.tgt", "x", "d.s.src", "a"),
        ("d.s.tgt", "y", "d.s.src", "b"),
        ("d.s.tgt", "y", "d.s.src", "c"),
    }


@pytest.mark.parametrize("dialect", ["hive", "spark", "databricks"])
def test_insert_overwrite(dialect: str) -> None:
    sql = "INSERT OVERWRITE TABLE db.tgt PARTITION (ds = '2024-01-01') SELECT a, b FROM db.src"
    r = extract_lineage(sql, dialect)
    assert tables(r) == ({"db.src"}, {"db.tgt"})
    assert edges(r) == {("db.tgt", "a", "db.src", "a"), ("db.tgt", "b", "db.src", "b")}


def test_with_before_insert() -> None:
    r = extract_lineage("WITH c AS (SELECT a FROM d.s.src) INSERT INTO d.s.tgt SELECT a FROM c", "postgres")
    assert tables(r) == ({"d.s.src"}, {"d.s.tgt"})
    assert edges(r) == {("d.s.tgt", "a", "d.s.src", "a")}


def test_insert_reading_its_own_target() -> None:
    r = extract_lineage("INSERT INTO d.s.t SELECT a FROM d.s.t WHERE a > 1", "snowflake")
    assert tables(r) == ({"d.s.t"}, {"d.s.t"})


def test_insert_values_has_no_inputs() -> None:
    r = extract_lineage("INSERT INTO d.s.t (a) VALUES (1), (2)", "postgres")
    assert tables(r) == (set(), {"d.s.t"})
    assert r.column_lineage == []


# ------------------------------------------------------------------------------- views
@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        ("snowflake", "CREATE OR REPLACE VIEW d.s.v AS SELECT a FROM d.s.t"),
        ("bigquery", "CREATE VIEW `d.s.v` AS SELECT a FROM `d.s.t`"),
        ("redshift", "CREATE VIEW d.s.v AS SELECT a FROM d.s.t WITH NO SCHEMA BINDING"),
        ("snowflake", "CREATE MATERIALIZED VIEW d.s.v AS SELECT a FROM d.s.t"),
        ("redshift", "CREATE MATERIALIZED VIEW d.s.v AUTO REFRESH YES AS SELECT a FROM d.s.t"),
        ("databricks", "CREATE OR REPLACE VIEW d.s.v AS SELECT a FROM d.s.t"),
    ],
)
def test_create_view(dialect: str, sql: str) -> None:
    r = extract_lineage(sql, dialect)
    assert tables(r) == ({"d.s.t"}, {"d.s.v"})
    assert edges(r) == {("d.s.v", "a", "d.s.t", "a")}


def test_view_column_list_renames_outputs() -> None:
    r = extract_lineage("CREATE VIEW d.s.v (x, y) AS SELECT a, b FROM d.s.t", "postgres")
    assert edges(r) == {("d.s.v", "x", "d.s.t", "a"), ("d.s.v", "y", "d.s.t", "b")}


# ------------------------------------------------------------------------------- UPDATE / MERGE / DELETE
def test_update_from_join_target_read_when_it_reads_itself() -> None:
    sql = "UPDATE d.s.t SET x = s.x + t.x FROM d.s.src s WHERE t.id = s.id"
    r = extract_lineage(sql, "snowflake")
    assert tables(r) == ({"d.s.t", "d.s.src"}, {"d.s.t"})
    assert edges(r) == {("d.s.t", "x", "d.s.src", "x"), ("d.s.t", "x", "d.s.t", "x")}


def test_update_not_reading_itself_does_not_list_target_as_input() -> None:
    r = extract_lineage("UPDATE d.s.t SET x = 1", "postgres")
    assert tables(r) == (set(), {"d.s.t"})


def test_update_where_reads_target() -> None:
    r = extract_lineage("UPDATE d.s.t SET x = 1 WHERE y = 2", "redshift")
    assert tables(r) == ({"d.s.t"}, {"d.s.t"})


def test_update_with_correlated_subquery() -> None:
    sql = "UPDATE d.s.acc SET owner = (SELECT e.name FROM d.s.emp e WHERE e.id = acc.owner_id)"
    r = extract_lineage(sql, "postgres")
    assert tables(r) == ({"d.s.acc", "d.s.emp"}, {"d.s.acc"})
    assert edges(r) == {("d.s.acc", "owner", "d.s.emp", "name")}


def test_bigquery_merge() -> None:
    sql = """
    MERGE `p.d.target` T USING (SELECT id, v FROM `p.d.staging`) S ON T.id = S.id
    WHEN MATCHED THEN UPDATE SET v = S.v
    WHEN NOT MATCHED THEN INSERT (id, v) VALUES (S.id, S.v)
    """
    r = extract_lineage(sql, "bigquery")
    assert tables(r) == ({"p.d.staging"}, {"p.d.target"})
    assert edges(r) == {("p.d.target", "id", "p.d.staging", "id"), ("p.d.target", "v", "p.d.staging", "v")}


def test_snowflake_merge_from_table() -> None:
    sql = """
    MERGE INTO d.s.tgt t USING d.s.src s ON t.k = s.k
    WHEN MATCHED AND s.del THEN DELETE
    WHEN MATCHED THEN UPDATE SET t.v = s.v
    """
    r = extract_lineage(sql, "snowflake")
    assert tables(r) == ({"d.s.src"}, {"d.s.tgt"})
    assert edges(r) == {("d.s.tgt", "v", "d.s.src", "v")}


@pytest.mark.parametrize("dialect", ["postgres", "redshift", "snowflake"])
def test_delete_using(dialect: str) -> None:
    sql = "DELETE FROM d.s.t USING d.s.gone g WHERE t.id = g.id"
    r = extract_lineage(sql, dialect)
    assert tables(r) == ({"d.s.gone"}, {"d.s.t"})


def test_delete_with_subquery() -> None:
    r = extract_lineage("DELETE FROM d.s.t WHERE id IN (SELECT id FROM d.s.gone)", "bigquery")
    assert tables(r) == ({"d.s.gone"}, {"d.s.t"})


# ------------------------------------------------------------------------------- DDL
@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "redshift", "postgres", "databricks"])
def test_alter_table_target_is_written(dialect: str) -> None:
    r = extract_lineage("ALTER TABLE d.s.t ADD COLUMN c INT", dialect)
    assert tables(r) == (set(), {"d.s.t"})


def test_drop_has_no_lineage_but_is_reported() -> None:
    r = extract_lineage("DROP TABLE IF EXISTS d.s.t", "snowflake")
    assert tables(r) == (set(), set())
    assert r.dropped_tables == ["D.S.T"]
    assert tables(extract_lineage("DROP SCHEMA s", "snowflake")) == (set(), set())


def test_plain_create_table_ddl_has_no_inputs() -> None:
    r = extract_lineage("CREATE TABLE d.s.t (id INT REFERENCES d.s.other (id))", "postgres")
    assert tables(r) == (set(), {"d.s.t"})


def test_snowflake_clone_reads_its_source() -> None:
    r = extract_lineage("CREATE TABLE d.s.copy CLONE d.s.orig", "snowflake")
    assert tables(r) == ({"d.s.orig"}, {"d.s.copy"})


# ------------------------------------------------------------------------------- temp tables
def test_redshift_hash_temp_table_is_qualified_and_flagged() -> None:
    sql = "CREATE TABLE #stage DISTKEY(1) AS SELECT a FROM other.src"
    r = extract_lineage(sql, "redshift", default_database="dev", default_schema="public")
    assert tables(r) == ({"dev.other.src"}, {"dev.public.#stage"})
    assert r.temp_tables == ["dev.public.#stage"]
    assert edges(r) == {("dev.public.#stage", "a", "dev.other.src", "a")}


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        ("snowflake", "CREATE TEMPORARY TABLE d.s.tmp AS SELECT a FROM d.s.src"),
        ("redshift", "CREATE TEMP TABLE d.s.tmp AS SELECT a FROM d.s.src"),
        ("postgres", "SELECT a INTO TEMP d.s.tmp FROM d.s.src"),
        ("databricks", "CREATE TEMPORARY VIEW d.s.tmp AS SELECT a FROM d.s.src"),
    ],
)
def test_temporary_tables_are_flagged(dialect: str, sql: str) -> None:
    r = extract_lineage(sql, dialect)
    assert tables(r) == ({"d.s.src"}, {"d.s.tmp"})
    assert [t.lower() for t in r.temp_tables] == ["d.s.tmp"]


def test_select_into_writes_target() -> None:
    r = extract_lineage("SELECT a, b INTO #t FROM s.src", "redshift", default_database="dev", default_schema="pub")
    assert tables(r) == ({"dev.s.src"}, {"dev.pub.#t"})
    assert edges(r) == {("dev.pub.#t", "a", "dev.s.src", "a"), ("dev.pub.#t", "b", "dev.s.src", "b")}


# ------------------------------------------------------------------------------- multi-statement
def test_multiple_statements_are_merged() -> None:
    sql = "CREATE TABLE d.s.a AS SELECT x FROM d.s.src; INSERT INTO d.s.b SELECT x FROM d.s.a"
    r = extract_lineage(sql, "snowflake")
    assert tables(r) == ({"d.s.src", "d.s.a"}, {"d.s.a", "d.s.b"})
    assert edges(r) == {("d.s.a", "x", "d.s.src", "x"), ("d.s.b", "x", "d.s.a", "x")}


def test_result_is_a_dict_and_has_attributes() -> None:
    r = extract_lineage("SELECT a FROM d.s.t", "snowflake")
    assert isinstance(r, dict)
    assert r["in_tables"] == r.in_tables == ["D.S.T"]
    item = r.column_lineage[0]
    assert item["downstream_table"] is None and item.downstream_column == "A"
    assert item.upstreams[0].table == "D.S.T" and item.upstreams[0]["column"] == "A"
