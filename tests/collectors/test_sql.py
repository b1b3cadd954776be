"""Generic common.sql collector: real SQLite through Airflow's SqliteHook."""

from __future__ import annotations

import json
import sqlite3

import pytest

from monte_carlo_push_provider.manifest import validate_manifest
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.operators.sql import SqlMetadataCollectorOperator
from tests.conftest import make_context


@pytest.fixture
def sqlite_wh(tmp_path, monkeypatch):
    path = tmp_path / "wh.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, amount NUMERIC(12,2), note TEXT);"
        'CREATE TABLE "Weird ""Name""; DROP TABLE orders; --" ("Col ""1""" TEXT, "ünïcode" INT);'
        "CREATE TABLE empty_table (x INT);"
        "CREATE VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > 10;"
    )
    db.executemany("INSERT INTO orders (amount, note) VALUES (?, ?)", [(i, "n") for i in range(30)])
    db.execute("ANALYZE")
    db.commit()
    db.close()
    monkeypatch.setenv("AIRFLOW_CONN_WH", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    return path


def collect(**kwargs):
    op = SqlMetadataCollectorOperator(task_id="collect", conn_id="wh", database="shop", resource_type="data-lake", **kwargs)
    return op.execute(make_context(task_id="collect"))


def test_sqlite_catalog(sqlite_wh):
    manifest = collect()
    validate_manifest(manifest)
    by_name = {e["metadata"]["name"]: e for e in manifest["events"]}
    assert set(by_name) == {"orders", 'Weird "Name"; DROP TABLE orders; --', "empty_table", "big_orders"}
    orders = by_name["orders"]
    assert orders["type"] == "TABLE"
    assert orders["metadata"] == {"name": "orders", "database": "shop", "schema": "main"}
    assert orders["fields"] == [
        {"name": "id", "type": "INTEGER"}, {"name": "amount", "type": "NUMERIC(12,2)"}, {"name": "note", "type": "TEXT"},
    ]
    assert orders["volume"]["row_count"] == 30
    assert orders["volume"]["byte_count"] > 0
    view = by_name["big_orders"]
    assert view["type"] == "VIEW" and "amount > 10" in view["metadata"]["view_query"]
    assert "volume" not in view
    hostile = by_name['Weird "Name"; DROP TABLE orders; --']
    assert [f["name"] for f in hostile["fields"]] == ['Col "1"', "ünïcode"]


def test_only_freshness_and_volume_skips_columns(sqlite_wh):
    manifest = collect(only_freshness_and_volume=True)
    assert all("fields" not in e for e in manifest["events"])
    assert all("view_query" not in e["metadata"] for e in manifest["events"])


def test_schema_filter_excludes(sqlite_wh):
    assert collect(exclude_schemas=["main"])["events"] == []


def test_collect_then_push(sqlite_wh, mc_conn):
    mc_conn.use("data-lake")
    manifest = collect()
    result = MonteCarloPushOperator(task_id="push", manifests=manifest, min_push_interval=None).execute(
        make_context(task_id="push")
    )
    stored = {e["event"]["relational_asset"]["metadata"]["name"] for e in mc_conn.events("metadata")}
    assert 'Weird "Name"; DROP TABLE orders; --' in stored and len(stored) == 4
    assert mc_conn.pushes("metadata")[0]["resource_type"] == "data-lake"
    assert len(result["invocation_ids"]) == 1


# --- One bad object does not take down the catalog (issue 14, item 6) -------------------------


def _two_hundred(path, defect: str) -> None:
    """199 good tables and one object of the given defect, in a real SQLite file."""
    db = sqlite3.connect(path)
    db.executescript("".join(f"CREATE TABLE t{i:03d} (id INT, v TEXT);" for i in range(199)))
    if defect == "empty_name":
        db.execute('CREATE TABLE "" (x INT)')
    elif defect == "unreadable_object":
        # a stale view: its table was dropped, so SQLite cannot say what its columns are
        db.executescript("CREATE TABLE gone (x INT); CREATE VIEW stale AS SELECT x FROM gone; DROP TABLE gone;")
    elif defect == "non_utf8_name":
        db.execute("CREATE TABLE zzmarkzz (x INT)")
    db.commit()
    db.close()
    if defect == "non_utf8_name":
        # SQL text cannot carry bytes that are not UTF-8; write them into the file, same length
        raw = path.read_bytes()
        assert raw.count(b"zzmarkzz") >= 2
        path.write_bytes(raw.replace(b"zzmarkzz", b"zz\xff\xfe\xfd\xfczz"))


@pytest.mark.parametrize("defect", ["empty_name", "unreadable_object", "non_utf8_name"])
def test_one_bad_object_is_skipped_and_counted(tmp_path, monkeypatch, caplog, defect):
    path = tmp_path / "bad.db"
    _two_hundred(path, defect)
    monkeypatch.setenv("AIRFLOW_CONN_WH", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    manifest = collect()
    validate_manifest(manifest)
    names = {e["metadata"]["name"] for e in manifest["events"]}
    assert names == {f"t{i:03d}" for i in range(199)}  # 199 of 200
    assert manifest["stats"]["skipped"] == {defect: 1}
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and defect.replace("_", " ") in r.getMessage()]
    assert len(warnings) == 1


def test_clean_catalog_reports_no_skips(sqlite_wh):
    assert collect()["stats"]["skipped"] == {}


def test_hook_params_reach_the_hook_and_dialect_picks_the_catalog(sqlite_wh):
    op = SqlMetadataCollectorOperator(
        task_id="collect", conn_id="wh", database="shop", resource_type="data-lake", hook_params={"log_sql": False}
    )
    hook = op.get_source()
    assert hook.log_sql is False and hook.dialect_name == "sqlite"
    from monte_carlo_push_provider.collectors.sql import catalog_family

    assert catalog_family(hook) == "sqlite"
