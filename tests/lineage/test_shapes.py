"""Lineage by query shape: fingerprints that never merge different lineage, and the shape cache."""

from __future__ import annotations

from typing import Any

import pytest

from monte_carlo_push_provider.lineage import build_lineage_manifest
from monte_carlo_push_provider.lineage.fingerprint import fingerprint, literals_named
from monte_carlo_push_provider.lineage.shapes import ShapeCache


def _edges(manifest: dict[str, Any]) -> dict[str, set[str]]:
    return {e["destination"]["asset_id"]: {s["asset_id"] for s in e["sources"]} for e in manifest["events"]}


def _run(rows: list[dict[str, Any]], dialect: str = "snowflake", **kwargs: Any) -> tuple[dict[str, Any], Any]:
    kwargs.setdefault("shape_cache", ShapeCache())
    return build_lineage_manifest(rows, dialect=dialect, resource_type=dialect, **kwargs)


def _rows(*texts: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"query_id": str(i), "query_text": t, **extra} for i, t in enumerate(texts)]


# ------------------------------------------------------------------------------- fingerprints
@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "redshift", "postgres", "databricks", "hive", "mysql", ""])
def test_literals_and_comments_do_not_change_the_shape(dialect: str) -> None:
    a = fingerprint("SELECT a FROM t WHERE d > '2024-01-01' AND n = 10 -- run 1\n", dialect)
    b = fingerprint("/* dashboard 7 */ SELECT a FROM t WHERE d > '2025-12-31' AND n = 99999 -- run 2\n", dialect)
    assert a.key == b.key
    assert a.literals == ("2024-01-01", "10") and b.literals == ("2025-12-31", "99999")


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "redshift", "postgres", "databricks", "hive", "mysql", ""])
@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("SELECT a FROM orders", "SELECT a FROM orders2"),  # near-identical, other table
        ("SELECT a FROM t1", "SELECT a FROM t2"),  # a digit in a name is not a literal
        ('SELECT a FROM "Orders"', "SELECT a FROM Orders"),  # quoted vs unquoted
        ("SELECT a FROM Orders", "SELECT a FROM ORDERS"),  # case is kept (BigQuery: other table)
        ("SELECT a AS 'x' FROM t", "SELECT a AS 'y' FROM t"),  # string alias names a column
        ("SELECT a FROM IDENTIFIER('d.s.t1')", "SELECT a FROM IDENTIFIER('d.s.t2')"),
        ("SELECT * FROM 'file1.csv'", "SELECT * FROM 'file2.csv'"),  # string-literal table (DuckDB)
        ("SELECT $1 FROM t", "SELECT $2 FROM t"),  # positional columns
        ("SELECT a FROM `my-proj-2.d.t`", "SELECT a FROM `my-proj-3.d.t`"),
        ("SELECT a FROM my-proj-2.d.t", "SELECT a FROM my-proj-3.d.t"),  # BigQuery unquoted project
    ],
)
def test_different_names_never_share_a_shape(dialect: str, left: str, right: str) -> None:
    assert fingerprint(left, dialect).key != fingerprint(right, dialect).key


@pytest.mark.parametrize(
    ("dialect", "text"),
    [
        ("snowflake", r"SELECT a FROM t WHERE x = 'it\'s' -- ' FROM other"),  # backslash escape
        ("postgres", "SELECT $$ ' $$ FROM t"),  # dollar quoting
        ("bigquery", "SELECT a FROM t # it's a comment\n WHERE b = 'x'"),  # '#' comment
        ("bigquery", "SELECT '''a'b''' FROM t"),  # triple quotes
        ("postgres", "SELECT a /* outer /* inner */ ' */ FROM t"),  # nested comment
    ],
)
def test_texts_the_fast_path_does_not_model_use_the_tokenizer(dialect: str, text: str) -> None:
    shape = fingerprint(text, dialect)
    assert "\x01" in shape.key  # the tokenizer-based key joins typed tokens


@pytest.mark.parametrize("dialect", ["snowflake", "postgres", "bigquery", "mysql", "databricks", "tsql"])
def test_tokenizer_fingerprint_keeps_positional_and_bind_references(dialect: str) -> None:
    # The backslash sends these texts through the tokenizer path.
    a = fingerprint(r"SELECT $1, t.c FROM t WHERE x = 'a\b' AND y = :1", dialect)
    b = fingerprint(r"SELECT $2, t.c FROM t WHERE x = 'a\b' AND y = :2", dialect)
    assert a.key != b.key


def test_tokenizer_fingerprint_keeps_quoting_and_name_literals() -> None:
    q = fingerprint('SELECT a FROM "T" WHERE x = \'a\\\'b\'', "snowflake")
    u = fingerprint("SELECT a FROM T WHERE x = 'a\\'b'", "snowflake")
    assert q.key != u.key
    i1 = fingerprint("SELECT a FROM IDENTIFIER('t1') WHERE x = 'a\\'b'", "snowflake")
    i2 = fingerprint("SELECT a FROM IDENTIFIER('t2') WHERE x = 'a\\'b'", "snowflake")
    assert i1.key != i2.key


COPY_FAMILIES = [
    ("redshift", "COPY s.t FROM 's3://bucket/load/part-{i}.csv.gz' IAM_ROLE 'arn:aws:iam::1:role/r{i}' CSV GZIP"),
    ("redshift", "COPY s.t (a, b) FROM 's3://b/{i}/' CREDENTIALS 'aws_access_key_id=K{i}' DELIMITER AS '|'"),
    ("redshift", "UNLOAD ('select a from s.t') TO 's3://b/out/{i}/' IAM_ROLE 'arn:aws:iam::1:role/r'"),
    ("snowflake", "COPY INTO d.s.t FROM '@stage/p/part-{i}.csv' FILE_FORMAT = (TYPE = CSV)"),
    ("snowflake", "COPY INTO '@stage/out/{i}/' FROM d.s.t"),
    ("postgres", "COPY s.t FROM '/data/in/{i}.csv'"),
    ("duckdb", "COPY t FROM 'f{i}.csv'"),
    ("duckdb", "COPY t TO 'out/{i}.parquet' (FORMAT PARQUET)"),
    ("sqlite", "/* loader */ copy t from 'f{i}.csv'"),
]


@pytest.mark.parametrize(("dialect", "template"), COPY_FAMILIES)
def test_copy_locations_vary_within_one_shape(dialect: str, template: str) -> None:
    shapes = {fingerprint(template.format(i=i), dialect).key for i in range(50)}
    assert len(shapes) == 1


@pytest.mark.parametrize("dialect", ["redshift", "snowflake", "postgres", "duckdb", "sqlite", ""])
@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("COPY s.t1 FROM 's3://b/p' IAM_ROLE 'r'", "COPY s.t2 FROM 's3://b/p' IAM_ROLE 'r'"),  # the target
        ("COPY INTO s.t1 FROM '@st/p'", "COPY INTO s.t2 FROM '@st/p'"),
        ("COPY INTO '@st/o' FROM s.t1", "COPY INTO '@st/o' FROM s.t2"),  # the source
        ("COPY (SELECT * FROM 'a.csv') TO 'o.csv'", "COPY (SELECT * FROM 'b.csv') TO 'o.csv'"),  # a query's FROM
        ("COPY t FROM 'x'; SELECT * FROM 'a.csv'", "COPY t FROM 'x'; SELECT * FROM 'b.csv'"),  # next statement
        ("SELECT * FROM 'a.csv'", "SELECT * FROM 'b.csv'"),
        ("SELECT * FROM x JOIN 'a.csv' ON TRUE", "SELECT * FROM x JOIN 'b.csv' ON TRUE"),
    ],
)
def test_string_tables_outside_copy_locations_keep_their_shape(dialect: str, left: str, right: str) -> None:
    assert fingerprint(left, dialect).key != fingerprint(right, dialect).key


def test_copy_shape_is_parsed_once_per_target_table() -> None:
    rows = _rows(*(f"COPY s.t{i % 2} FROM 's3://b/load/part-{i}' IAM_ROLE 'arn:aws:iam::1:role/r{i}'" for i in range(20)))
    _, stats = _run(rows, dialect="redshift")
    assert (stats.distinct_shapes, stats.shapes_parsed, stats.shape_cache_hits) == (2, 2, 18)
    assert stats.literal_sensitive_shapes == 0


@pytest.mark.parametrize(
    ("literals", "tables", "columns", "key", "named"),
    [
        (["30"], [], ["revenue_30d"], "SELECT coalesce(x, \x00n) AS revenue_30d", False),  # glued: not a name
        (["0"], [], ["revenue_30d", "n_10"], "", False),
        (["30"], [], ["revenue_30"], "", True),  # PIVOT (... AS revenue FOR m IN (30)): revenue_30
        (["30"], [], ["30_total"], "", True),
        (["JAN"], [], ["'jan'_total"], "", True),
        (["jan_2"], [], ["'jan_2'"], "", True),
        (["x"], [], ["a_x_b"], "", True),  # false positives only cost caching
        (["s3://b/load/part-1.csv.gz"], ["s.t"], [], "COPY s.t FROM \x00s CSV GZIP", False),  # a path, not a name
        (["d.s.csv"], [], [], "COPY s.t FROM \x00s CSV", True),  # a dotted name's part is a word of the key
        (['"a/b".cte'], [], [], "WITH cte AS (SELECT 1) SELECT \x00s", True),  # quoted parts: name-like
        (["src1"], ["d.s.src1"], [], "", True),
    ],
)
def test_literals_named_matches_whole_tokens(
    literals: list[str], tables: list[str], columns: list[str], key: str, named: bool
) -> None:
    assert literals_named(literals, tables, columns, key) is named


def test_a_literal_glued_into_a_column_name_does_not_make_the_shape_literal_sensitive() -> None:
    rows = _rows(*(
        f"INSERT INTO d.s.o SELECT coalesce(x, {i % 40}) AS revenue_30d, y AS y_out FROM d.s.t ORDER BY {i % 2 + 1}"
        for i in range(40)
    ))
    schema = {"d.s.t": {"x": "int", "y": "int"}}
    cached, stats = _run(rows, schema=schema)
    assert (stats.distinct_shapes, stats.shapes_parsed, stats.literal_sensitive_shapes) == (1, 1, 0)
    per_query, _ = _run(rows, schema=schema, shape_cache=ShapeCache(0))
    assert cached["events"] == per_query["events"] and cached["events"]


def test_a_numeric_pivot_value_that_names_a_column_stays_literal_sensitive() -> None:
    rows = _rows(
        "CREATE TABLE d.s.p AS SELECT * FROM d.s.t PIVOT (SUM(amount) AS total FOR month IN (30, 60))",
        "CREATE TABLE d.s.p AS SELECT * FROM d.s.t PIVOT (SUM(amount) AS total FOR month IN (90, 120))",
    )
    schema = {"d.s.t": {"id": "int", "amount": "int", "month": "int"}}
    manifest, stats = _run(rows, schema=schema)
    assert stats.literal_sensitive_shapes == 1 and stats.shape_cache_hits == 0
    fields = {f["name"] for e in manifest["events"] for f in e.get("fields", [])}
    assert {"30_total", "60_total", "90_total", "120_total"} <= fields


# ------------------------------------------------------------------------------- the batch
def test_each_shape_is_parsed_once_and_applied_to_every_query() -> None:
    rows = _rows(*(f"INSERT INTO d.s.b SELECT a FROM d.s.a WHERE day = '2024-01-{i:02d}' /* run {i} */" for i in range(1, 21)))
    manifest, stats = _run(rows)
    assert (stats.queries, stats.parsed, stats.distinct_shapes, stats.shapes_parsed, stats.shape_cache_hits) == (20, 20, 1, 1, 19)
    assert _edges(manifest) == {"d.s.b": {"d.s.a"}}
    assert manifest["stats"]["distinct_shapes"] == 1 and manifest["stats"]["seconds"] >= 0


def test_near_identical_queries_reading_different_tables_keep_their_own_lineage() -> None:
    rows = _rows(
        "INSERT INTO d.s.out1 SELECT a FROM d.s.src1 WHERE x = 1",
        "INSERT INTO d.s.out1 SELECT a FROM d.s.src2 WHERE x = 1",
        "INSERT INTO d.s.out2 SELECT a FROM d.s.src1 WHERE x = 2",
        'INSERT INTO d.s.out2 SELECT a FROM d.s."src1" WHERE x = 3',  # quoted: another table
    )
    manifest, stats = _run(rows)
    assert stats.distinct_shapes == 4 and stats.shape_cache_hits == 0
    # SRC1 and "src1" differ only in case: their asset ids are their exact names.
    assert _edges(manifest) == {"d.s.out1": {"d.s.src1", "d.s.src2"}, "d.s.out2": {"D.S.SRC1", "D.S.src1"}}
    sources = {s["name"] for e in manifest["events"] for s in e["sources"]}
    assert sources == {"SRC1", "SRC2", "src1"}


def test_session_defaults_are_part_of_the_shape() -> None:
    text = "INSERT INTO out_t SELECT a FROM in_t WHERE d = '2024-01-01'"
    rows = [
        {"query_text": text, "default_database": "DB1", "default_schema": "S"},
        {"query_text": text.replace("01-01", "01-02"), "default_database": "DB2", "default_schema": "S"},
        {"query_text": text, "default_database": "DB1", "default_schema": "T"},
    ]
    manifest, stats = _run(rows)
    assert stats.distinct_shapes == 3 and stats.shape_cache_hits == 0
    assert _edges(manifest) == {
        "db1.s.out_t": {"db1.s.in_t"}, "db2.s.out_t": {"db2.s.in_t"}, "db1.t.out_t": {"db1.t.in_t"},
    }


def test_use_inside_the_text_is_part_of_the_shape() -> None:
    rows = _rows(
        "USE SCHEMA DB.A; INSERT INTO out_t SELECT x FROM in_t WHERE d = 1",
        "USE SCHEMA DB.B; INSERT INTO out_t SELECT x FROM in_t WHERE d = 2",
    )
    manifest, _ = _run(rows)
    assert _edges(manifest) == {"db.a.out_t": {"db.a.in_t"}, "db.b.out_t": {"db.b.in_t"}}


def test_identifier_literals_are_names_not_values() -> None:
    rows = _rows(
        "INSERT INTO IDENTIFIER('d.s.out') SELECT a FROM IDENTIFIER('d.s.src1') WHERE x = 1",
        "INSERT INTO IDENTIFIER('d.s.out') SELECT a FROM IDENTIFIER('d.s.src2') WHERE x = 2",
    )
    manifest, _ = _run(rows)
    assert _edges(manifest) == {"d.s.out": {"d.s.src1", "d.s.src2"}}


def test_a_literal_that_became_a_name_makes_the_shape_literal_sensitive() -> None:
    # PIVOT values become column names; the shape is then keyed by its literal values too.
    rows = _rows(
        "CREATE TABLE d.s.p AS SELECT * FROM d.s.t PIVOT (SUM(amount) FOR month IN ('JAN', 'FEB')) AS p",
        "CREATE TABLE d.s.p AS SELECT * FROM d.s.t PIVOT (SUM(amount) FOR month IN ('MAR', 'APR')) AS p",
    )
    schema = {"d.s.t": {"id": "int", "amount": "int", "month": "text"}}
    manifest, stats = _run(rows, schema=schema)
    assert stats.literal_sensitive_shapes == 1 and stats.shape_cache_hits == 0
    fields = {f["name"] for e in manifest["events"] for f in e.get("fields", [])}
    assert {"'JAN'", "'FEB'", "'MAR'", "'APR'"} <= fields


def test_columns_defined_earlier_in_the_batch_invalidate_a_cached_shape() -> None:
    # The same INSERT ... SELECT * expands differently once a CTAS defined the temp table.
    insert = "INSERT INTO d.s.out SELECT * FROM d.s.scratch WHERE k = {}"
    rows = [
        {"query_text": insert.format(1)},
        {"query_text": "CREATE TABLE d.s.scratch AS SELECT id, amount FROM d.s.src"},
        {"query_text": insert.format(2)},
    ]
    manifest, stats = _run(rows)
    assert stats.shapes_parsed == 3 and stats.shape_cache_hits == 0
    fields = {(e["destination"]["name"], f["name"]) for e in manifest["events"] for f in e.get("fields", [])}
    assert ("OUT", "ID") in fields and ("OUT", "AMOUNT") in fields


def test_cache_spans_windows_and_is_bounded() -> None:
    cache = ShapeCache(max_shapes=2)
    rows = _rows("INSERT INTO d.s.b SELECT a FROM d.s.a WHERE x = 1")
    _, first = _run(rows, shape_cache=cache)
    _, second = _run(_rows("INSERT INTO d.s.b SELECT a FROM d.s.a WHERE x = 2"), shape_cache=cache)
    assert (first.shapes_parsed, second.shapes_parsed, second.cross_window_hits) == (1, 0, 1)
    for i in range(5):
        _run(_rows(f"INSERT INTO d.s.b{i} SELECT a FROM d.s.a"), shape_cache=cache)
    assert len(cache) == 2
    # A different schema is a different key: no stale hit.
    _, third = _run(rows, shape_cache=cache, schema={"d.s.a": {"a": "int"}})
    assert third.shapes_parsed == 1


def test_cache_off_parses_every_query() -> None:
    rows = _rows(*(f"INSERT INTO d.s.b SELECT a FROM d.s.a WHERE x = {i}" for i in range(3)))
    _, stats = _run(rows, shape_cache=ShapeCache(0))
    assert stats.shapes_parsed == 3 and stats.shape_cache_hits == 0


def test_unparseable_shape_strikes_out_after_three_texts() -> None:
    rows = _rows(*(f"INSERT INTO d.s.x SELECT * FROM (SELECT a FROM t WHERE x = {i}" for i in range(10)))
    _, stats = _run(rows)
    assert stats.skipped_unparseable == 10 and stats.shapes_parsed == 0


def test_batch_logs_shapes_hits_and_time(caplog: pytest.LogCaptureFixture) -> None:
    rows = _rows(*(f"INSERT INTO d.s.b SELECT a FROM d.s.a WHERE x = {i}" for i in range(5)))
    with caplog.at_level("INFO", logger="monte_carlo_push_provider.lineage.batch"):
        _run(rows)
    [message] = [r.getMessage() for r in caplog.records if "distinct shapes" in r.getMessage()]
    assert "5 queries (0 read-only: nothing to parse) in 1 distinct shapes" in message and "4 queries answered from a parsed shape" in message


def test_a_failing_shape_is_logged_once_whatever_its_query_ids(caplog: pytest.LogCaptureFixture) -> None:
    import uuid

    marker = f"m{uuid.uuid4().hex}"  # a shape no other test has logged
    rows = [{"query_id": f"q{i}", "query_text": f"INSERT INTO d.s.x SELECT {marker} FROM (SELECT a FROM t WHERE x = {i}"} for i in range(20)]
    with caplog.at_level("WARNING", logger="monte_carlo_push_provider.lineage.batch"):
        _, stats = _run(rows)
    assert stats.skipped_unparseable == 20
    assert len([r for r in caplog.records if marker in r.getMessage()]) == 1


def test_shape_cached_manifest_equals_per_query_manifest_on_a_mixed_log() -> None:
    import random

    rng = random.Random(7)
    templates = [
        "INSERT INTO d.s.out_{a} SELECT x, y FROM d.s.src_{b} WHERE day = '{date}' AND n > {n}",
        "INSERT INTO IDENTIFIER('d.s.out_{a}') SELECT x FROM IDENTIFIER('d.s.src_{b}') WHERE n = {n}",
        'INSERT INTO d.s."Mixed_{a}" SELECT "X" FROM d.s.src_{b} WHERE n = {n}',
        "USE SCHEMA d.s{a}; INSERT INTO out_t SELECT x FROM src_{b} WHERE day = '{date}'",
        "CREATE TABLE d.s.tmp_{a} AS SELECT x, y FROM d.s.src_{b} WHERE n = {n}",
        "INSERT INTO d.s.out_{a} SELECT * FROM d.s.tmp_{b} WHERE n = {n}",
        "CREATE TABLE d.s.p_{a} AS SELECT * FROM d.s.src_{b} PIVOT (SUM(x) FOR y IN ('{word}', 'b')) AS p",
        "DROP TABLE d.s.tmp_{a}",
        "MERGE INTO d.s.out_{a} t USING d.s.src_{b} s ON t.x = s.x AND s.n > {n} WHEN MATCHED THEN UPDATE SET t.y = s.y",
        "INSERT INTO d.s.out_{a} SELECT * FROM (SELECT x FROM d.s.src_{a} WHERE n = {n}",  # unparseable
        "INSERT INTO d.s.out_{a} SELECT coalesce(x, {n}) AS x_{n}d, y FROM d.s.src_{b} ORDER BY {o}",
        "CREATE TABLE d.s.q_{a} AS SELECT * FROM d.s.src_{b} PIVOT (SUM(x) AS total FOR n IN ({n}, 7))",
        "COPY INTO d.s.out_{a} FROM '@stage/load/{n}/part-{o}.csv' FILE_FORMAT = (TYPE = CSV)",
    ]
    rows = []
    for i in range(400):
        text = rng.choice(templates).format(
            a=rng.randrange(4), b=rng.randrange(4), n=rng.randrange(100), word=rng.choice(["a", "c", "x", "y"]),
            date=f"2026-01-{rng.randrange(1, 29):02d}", o=rng.randrange(1, 3),
        )
        rows.append({"query_id": str(i), "query_text": f"/* {i} */ {text}", "session_id": str(i % 3)})
    schema = {f"d.s.src_{b}": {"x": "int", "y": "text", "n": "int"} for b in range(2)}
    per_query, plain = _run(rows, shape_cache=ShapeCache(0), schema=schema)
    cached, stats = _run(rows, schema=schema)
    assert cached["events"] == per_query["events"] and cached["events"]
    assert stats.shape_cache_hits > 150  # and it did share work
    assert (stats.skipped_unparseable, stats.parsed) == (plain.skipped_unparseable, plain.parsed)
