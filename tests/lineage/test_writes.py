"""The read-only pre-check (lineage/writes.py) against the engine itself: a text it calls
read-only must be one the engine takes no lineage from, in every dialect, for every SQL text of
the lineage test suite; and a batch gives the same manifest with the pre-check as without."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from monte_carlo_push_provider.lineage import batch as batch_module
from monte_carlo_push_provider.lineage import build_lineage_manifest
from monte_carlo_push_provider.lineage.engine import LineageError, analyze_statements
from monte_carlo_push_provider.lineage.shapes import ShapeCache
from monte_carlo_push_provider.lineage.writes import may_write

DIALECTS = ("snowflake", "bigquery", "redshift", "postgres", "databricks", "hive", "athena", "mysql", "tsql", "")

WRITES = [
    "INSERT INTO a.b.t SELECT * FROM a.b.s",
    "insert overwrite table db.t select * from db.s",
    "WITH c AS (SELECT id FROM a.b.s) INSERT INTO a.b.t SELECT id FROM c",
    "SELECT id INTO a.b.t FROM a.b.s",
    "select * into #tmp from dbo.s",
    "CREATE TABLE a.b.t AS SELECT * FROM a.b.s",
    "create or replace view a.b.v as select * from a.b.s",
    "CREATE TEMP TABLE t AS SELECT 1 AS x",
    "MERGE INTO a.b.t USING a.b.s ON t.id = s.id WHEN MATCHED THEN UPDATE SET x = s.x",
    "UPDATE a.b.t SET x = s.x FROM a.b.s WHERE t.id = s.id",
    "DELETE FROM a.b.t USING a.b.s WHERE t.id = s.id",
    "DELETE t1, t2 FROM db.t1 JOIN db.t2 ON t1.id = t2.id",
    "ALTER TABLE a.b.t RENAME TO a.b.u",
    "ALTER TABLE a.b.t SWAP WITH a.b.u",
    "COPY INTO a.b.t FROM @stage/path",
    "COPY public.t FROM 's3://bucket/key' IAM_ROLE 'arn'",
    "DROP TABLE a.b.t",
    "USE db; INSERT INTO s.t SELECT * FROM s.u",
    "/* dashboard */ select 1; create table a.b.t as select 2 as x",
]

# Writes the engine takes no lineage from today; kept by the pre-check all the same, so the day
# the engine models them nothing else has to change.
NOT_MODELLED = [
    "FROM db.s INSERT OVERWRITE TABLE db.t SELECT id",
    "TRUNCATE TABLE a.b.t",
    "UNLOAD ('select * from public.t') TO 's3://bucket/'",
    "UPSERT INTO db.t (id) VALUES (1)",
    "RENAME TABLE db.t TO db.u",
    "REPLACE INTO db.t SELECT * FROM db.s",
    "REPLACE TABLE db.t AS SELECT * FROM db.s",
]

READS = [
    "SELECT * FROM a.b.t",
    "select d.x, sum(f.y) from a.b.f f join a.b.d d on f.k = d.k group by 1",
    "WITH base AS (SELECT id FROM a.b.t) SELECT id FROM base",
    "(SELECT 1) UNION ALL (SELECT 2)",
    "VALUES (1, 2)",
    "SET query_group TO 'dashboard'",
    "SHOW search_path",
    "SELECT updated_at, inserted_by, created_on, into_flag FROM a.b.t",
    "EXPLAIN SELECT * FROM a.b.t",
    "USE DATABASE db",
    "SELECT pg_catalog.version()",
]


def _lineage_of(text: str, dialect: str) -> list[Any]:
    """What the batch would record from ``text``: destinations, drops, temp tables, created columns."""
    try:
        results = analyze_statements(text, dialect, "db", "s", {}, max_chars=None, timeout_s=5.0)
    except LineageError:
        return []  # unparseable in this dialect: the batch records nothing either
    found: list[Any] = []
    for r in results:
        found += [*r.out_tables, *r.dropped_tables, *r.temp_tables, *r.defined_columns]
        found += [c for c in r.column_lineage if c.downstream_table is not None]
    return found


def _suite_sql() -> list[str]:
    """Every string constant of the lineage test modules that starts like a SQL statement."""
    start = re.compile(
        r"\s*(?:--[^\n]*\n|/\*.*?\*/|\()*\s*(?:SELECT|WITH|INSERT|CREATE|MERGE|UPDATE|DELETE|ALTER|COPY|DROP|USE|"
        r"REPLACE|FROM|UNLOAD|VALUES|TRUNCATE|RENAME|SET|SHOW)\b",
        re.IGNORECASE | re.DOTALL,
    )
    texts = []
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and start.match(node.value):
                texts.append(node.value)
    return sorted(set(texts))


@pytest.mark.parametrize("text", WRITES)
def test_every_kind_of_write_is_kept(text: str) -> None:
    assert may_write(text)
    assert any(_lineage_of(text, d) for d in DIALECTS), "the engine takes lineage from it in some dialect"


@pytest.mark.parametrize("text", NOT_MODELLED)
def test_writes_the_engine_does_not_model_yet_are_kept(text: str) -> None:
    assert may_write(text)


@pytest.mark.parametrize("text", READS)
def test_reads_are_read_only(text: str) -> None:
    assert not may_write(text)


def test_no_text_of_the_lineage_suite_called_read_only_has_lineage() -> None:
    texts = _suite_sql()
    assert len(texts) > 200, "the scan found the suite's SQL"
    read_only = [t for t in texts if not may_write(t)]
    assert len(read_only) > 20  # the suite has reads too: the check below is not vacuous
    wrong = [(d, t) for t in read_only for d in DIALECTS if _lineage_of(t, d)]
    assert wrong == []


def _rows() -> list[dict[str, Any]]:
    rows = []
    for i in range(40):
        rows += [
            {"query_id": f"r{i}", "session_id": "s1", "query_text": f"SELECT x, y FROM raw.orders WHERE id = {i}"},
            {"query_id": f"w{i}", "session_id": "s1",
             "query_text": f"INSERT INTO mart.daily SELECT x, y FROM raw.orders WHERE id > {i}"},
            {"query_id": f"t{i}", "session_id": "s2",
             "query_text": f"CREATE TEMP TABLE stage_{i % 3} AS SELECT x FROM raw.events WHERE d = '{i}'"},
            {"query_id": f"u{i}", "session_id": "s2",
             "query_text": f"INSERT INTO mart.events SELECT x FROM stage_{i % 3}"},
            {"query_id": f"d{i}", "session_id": "s2", "query_text": f"DROP TABLE stage_{i % 3}"},
            {"query_id": f"v{i}", "session_id": "s3",
             "query_text": "WITH c AS (SELECT * FROM mart.daily) SELECT count(*) FROM c -- kept fresh by the insert job"},
        ]
    return rows


def test_a_batch_gives_the_same_manifest_with_and_without_the_pre_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def build() -> tuple[dict[str, Any], Any]:
        return build_lineage_manifest(
            _rows(), dialect="redshift", resource_type="redshift", default_database="dev",
            default_schema="public", shape_cache=ShapeCache(),
        )

    checked, checked_stats = build()
    monkeypatch.setattr(batch_module, "may_write", lambda text: True)  # the pre-check off
    everything, everything_stats = build()
    assert checked["events"] == everything["events"]
    assert {e["destination"]["asset_id"] for e in checked["events"]} == {"dev.mart.daily", "dev.mart.events"}
    # 40 plain reads skipped; the CTE read whose comment says "inserted" is parsed as before
    assert checked_stats.read_only == 40 and everything_stats.read_only == 0
    assert checked_stats.distinct_shapes == everything_stats.distinct_shapes - 1
    assert checked_stats.queries == everything_stats.queries == 240
