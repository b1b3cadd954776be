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
