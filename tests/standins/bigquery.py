"""BigQuery stand-in: bqemulator (REST + gRPC, DuckDB inside), which ``BigQueryHook.get_client()``
really talks to through ``BIGQUERY_EMULATOR_HOST``.

The emulator pins sqlglot < 30.12 and DuckDB 1.5.5, which the project's own sqlglot (and the
other stand-ins' DuckDB) cannot share a virtualenv with, so it runs from its own environment:
``$BQEMULATOR_BIN``, else ``<repo>/.venv-standins/bqemulator/bin/bqemulator`` (made by ``make
install-test``: bqemulator pins sqlglot and DuckDB versions the rest of the suite cannot share), else
``bqemulator`` on PATH.
HOME points at a temp dir holding DuckDB's spatial extension (installed from the
``duckdb-extensions`` wheel; the emulator cannot download it).

Fixtures:

- ``bigquery_standin`` (session): the emulator on free 127.0.0.1 ports, seeded once (``seed``),
  stopped by PID at session end.
- ``bigquery_conn`` (test): ``BIGQUERY_EMULATOR_HOST`` and ``AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT``
  for one test only (monkeypatch), so other suites never see them.

What the emulator lacks, and the stand-in tables of the same shape the seed creates instead:

- ``<dataset>.__TABLES__``: an ordinary table of that name in ``sales`` (the name is creatable);
- ``INFORMATION_SCHEMA.COLUMN_FIELD_PATHS``, ``region-us.INFORMATION_SCHEMA.TABLE_STORAGE``,
  ``.JOBS_BY_PROJECT`` and ``.SCHEMATA_LINKS``: those names cannot be created (no ``region-us``
  or ``INFORMATION_SCHEMA`` qualifier is accepted), so tables with the views' columns live in the
  ``mc_standins`` dataset and tests point the collectors' ``*_table`` overrides at them.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from monte_carlo_sandbox.process import ManagedProcess
from tests.standins.net import free_port

READY_TIMEOUT_S = 60.0
PROJECT = "test-proj"
OTHER_PROJECT = "other-proj"
UTC = dt.timezone.utc
REPO = Path(__file__).resolve().parents[2]

SALES = "sales"
MIXED = "Mixed_CASE_ds"
MIXED_TABLE = "UPPER_lower"
HOSTILE_COLUMNS = ("naïve col", "a-b", "semi;colon")
EMPTY = "empty_ds"
LAKE = "lake"
LINKED = "shared_link"
SHARED = "shared"
STANDINS = "mc_standins"
ORDERS_LABELS = {"env": "prod", "team": "sales-eng", "pii": ""}
SHARD_LABELS = {"stage": "raw"}
SCRATCH = "scratch"  # tests that write tables write here, so no other test sees them

JOBS_TABLE = "{project}.mc_standins.JOBS_BY_PROJECT"
TABLE_STORAGE_TABLE = "{project}.mc_standins.TABLE_STORAGE"
SCHEMATA_LINKS_TABLE = "{project}.mc_standins.SCHEMATA_LINKS"
COLUMN_FIELD_PATHS_TABLE = "{project}.mc_standins.COLUMN_FIELD_PATHS"


def ts(hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> dt.datetime:
    """A UTC instant on the seed day, 2026-11-25."""
    return dt.datetime(2026, 11, 25, hour, minute, second, micro, tzinfo=UTC)


def ms(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)


ORDERS_NESTED = [
    ("id", "INT64"),
    ("amount", "NUMERIC"),
    ("customer", "STRUCT<name STRING, addr STRUCT<city STRING>>"),
    ("customer.name", "STRING"),
    ("customer.addr", "STRUCT<city STRING>"),
    ("customer.addr.city", "STRING"),
    ("tags", "ARRAY<STRING>"),
    ("items", "ARRAY<STRUCT<sku STRING, qty INT64>>"),
    ("items.sku", "STRING"),
    ("items.qty", "INT64"),
]

# __TABLES__ stand-in rows: (table_id, type, row_count, size_bytes, last_modified, created)
META_TABLES = [
    ("orders", 1, 3, 4096, ts(9, 30, 5, 123_000), ts(1)),
    ("orders_v", 2, 0, 0, ts(2), ts(2)),
    ("orders_snap", 1, 3, 4096, ts(3), ts(3)),
    ("orders_clone", 1, 3, 100, ts(4), ts(4)),
    ("ext", 3, 0, 0, ts(5), ts(5)),
    ("events_20240101", 1, 10, 1000, ts(6), ts(0, 30)),
    ("events_20240102", 1, 20, 2000, ts(7), ts(0, 40)),
]

# JOBS_BY_PROJECT stand-in. The tests read a data interval of [10:10, 11:10), i.e. [10:00, 11:00)
# after the default 10-minute lag.
_ORDERS = {"project_id": PROJECT, "dataset_id": SALES, "table_id": "orders"}


def _job(job_id: str, end: dt.datetime, query: str, statement_type: str, **kw: Any) -> dict[str, Any]:
    row = {
        "job_id": job_id, "project_id": PROJECT, "creation_time": kw.pop("created", end - dt.timedelta(seconds=5)),
        "start_time": kw.pop("start", end - dt.timedelta(seconds=4)), "end_time": end,
        "user_email": kw.pop("user", "analyst@example.com"), "job_type": kw.pop("job_type", "QUERY"),
        "statement_type": statement_type, "query": query, "state": "DONE",
        "total_bytes_billed": kw.pop("billed", 10_485_760), "total_bytes_processed": kw.pop("processed", 1234),
        "error_result": kw.pop("error", None), "destination_table": kw.pop("destination", None),
        "referenced_tables": kw.pop("referenced", []), "labels": kw.pop("labels", []),
        "parent_job_id": kw.pop("parent", None),
    }
    assert not kw, kw
    return row


JOBS = [
    _job("j-before", ts(9, 59, 59, 999_000), "SELECT 1", "SELECT"),
    _job("j-ctas", ts(10, 5), "CREATE TABLE sales.daily AS SELECT id, amount FROM sales.orders",
         "CREATE_TABLE_AS_SELECT", destination={"project_id": PROJECT, "dataset_id": SALES, "table_id": "daily"},
         referenced=[_ORDERS]),
    _job("j-mixed", ts(10, 10),
         f"INSERT INTO `{PROJECT}.{MIXED}.{MIXED_TABLE}` (`{HOSTILE_COLUMNS[0]}`) SELECT id FROM `{PROJECT}.sales.orders`",
         "INSERT", destination={"project_id": PROJECT, "dataset_id": MIXED, "table_id": MIXED_TABLE},
         referenced=[_ORDERS]),
    _job("j-failed", ts(10, 20), "SELECT nope FROM sales.orders", "SELECT", billed=0, processed=0,
         error={"reason": "invalidQuery", "location": "query", "debug_info": "", "message": "Unrecognized name: nope"}),
    _job("j-long", ts(10, 30), "INSERT INTO sales.events_20240102 (id) SELECT id FROM sales.orders", "INSERT",
         created=ts(5), start=ts(5, 0, 1), user="etl@example.com", referenced=[_ORDERS]),
    _job("j-own", ts(10, 40), "SELECT table_name FROM sales.INFORMATION_SCHEMA.TABLES", "SELECT",
         labels=[{"key": "monte_carlo_push", "value": "collector"}]),
    _job("j-load", ts(10, 45), "", None, job_type="LOAD"),
    _job("j-end", ts(11), "SELECT 2", "SELECT"),
]

# TABLE_STORAGE stand-in: (project, dataset, table, type, created, rows, bytes, modified, deleted)
TABLE_STORAGE = [
    (PROJECT, LAKE, "ice_orders", "BASE TABLE", ts(1), 1234, 56_789, ts(9, 45), False),
    (PROJECT, LAKE, "ice_dropped", "BASE TABLE", ts(1), 5, 50, ts(2), True),
    (PROJECT, LAKE, "tmp_scratch", "BASE TABLE", ts(1), 1, 10, ts(3), False),
    (PROJECT, SALES, "orders", "BASE TABLE", ts(1), 3, 4096, ts(9, 30), False),
    (OTHER_PROJECT, SHARED, "prices", "BASE TABLE", ts(1), 7, 70, ts(4), False),
]


@dataclass
class BigQueryStandIn:
    rest_port: int
    grpc_port: int
    pid: int
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    def connection_json(self, project: str = PROJECT) -> str:
        import json

        return json.dumps({"conn_type": "google_cloud_platform", "extra": {"project": project, "is_anonymous": True}})

    def use(self, monkeypatch: pytest.MonkeyPatch, conn_id: str = "google_cloud_default") -> None:
        monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", self.endpoint)
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", self.connection_json())

    def client(self, project: str = PROJECT) -> Any:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(project=project, credentials=AnonymousCredentials(),
                               client_options={"api_endpoint": self.endpoint})

    def query(self, sql: str, *, default_dataset: str | None = None, project: str = PROJECT) -> Any:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(default_dataset=default_dataset)
        job = self.client(project).query(sql, job_config=config, retry=None, job_retry=None, timeout=30)
        job.result(timeout=30, retry=None)
        return job


def _emulator_bin() -> str | None:
    candidates = [os.environ.get("BQEMULATOR_BIN"),
                  str(REPO / ".venv-standins" / "bqemulator" / "bin" / "bqemulator"),
                  str(REPO / ".venv-bqemulator" / "bin" / "bqemulator"),
                  shutil.which("bqemulator")]
    return next((c for c in candidates if c and os.path.exists(c)), None)


def _prepare_home(binary: str, home: Path) -> None:
    python = Path(binary).parent / "python"
    env = dict(os.environ, HOME=str(home))
    code = "from duckdb_extensions import import_extension; import_extension('spatial')"
    subprocess.run([str(python), "-c", code], check=True, env=env, capture_output=True, timeout=120)


def _answers(port: int) -> bool:
    import urllib.error
    import urllib.request

    url = f"http://127.0.0.1:{port}/bigquery/v2/projects/{PROJECT}/datasets"
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310 - fixed loopback URL
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False


def seed(bq: BigQueryStandIn) -> None:
    from google.cloud import bigquery
    from google.cloud.bigquery import SchemaField as F

    client = bq.client()
    for ds in (SALES, MIXED, EMPTY, LAKE, LINKED, STANDINS, SCRATCH):
        client.create_dataset(f"{PROJECT}.{ds}", timeout=30)
    client.create_dataset(f"{OTHER_PROJECT}.{SHARED}", timeout=30)

    orders = bigquery.Table(f"{PROJECT}.{SALES}.orders", schema=[
        F("id", "INT64", description="order id"), F("amount", "NUMERIC"),
        F("customer", "RECORD", fields=[F("name", "STRING"), F("addr", "RECORD", fields=[F("city", "STRING")])]),
        F("tags", "STRING", mode="REPEATED"),
        F("items", "RECORD", mode="REPEATED", fields=[F("sku", "STRING"), F("qty", "INT64")]),
    ])
    orders.description = "one row per order"
    # labels, which TABLE_OPTIONS reports as option 'labels' (a key-only label has value "")
    orders.labels = ORDERS_LABELS
    client.create_table(orders, timeout=30)
    bq.query(f"INSERT INTO `{PROJECT}.{SALES}.orders` (id, amount) VALUES (1, 10.5), (2, 20), (3, 7.25)")
    bq.query(f"CREATE VIEW `{PROJECT}.{SALES}.orders_v` AS SELECT id, amount FROM `{PROJECT}.{SALES}.orders`")
    bq.query(f"CREATE MATERIALIZED VIEW `{PROJECT}.{SALES}.orders_mv` AS "
             f"SELECT id, SUM(amount) AS total FROM `{PROJECT}.{SALES}.orders` GROUP BY id")
    bq.query(f"CREATE SNAPSHOT TABLE `{PROJECT}.{SALES}.orders_snap` CLONE `{PROJECT}.{SALES}.orders`")
    bq.query(f"CREATE TABLE `{PROJECT}.{SALES}.orders_clone` CLONE `{PROJECT}.{SALES}.orders`")
    bq.query(f"CREATE TABLE `{PROJECT}.{SALES}.events_20240101` (id INT64)")
    bq.query(f"CREATE TABLE `{PROJECT}.{SALES}.events_20240102` (id INT64, extra STRING)")
    for shard, labels in (("events_20240101", {"stage": "old"}), ("events_20240102", SHARD_LABELS)):
        table = client.get_table(f"{PROJECT}.{SALES}.{shard}", timeout=30)
        table.labels = labels
        client.update_table(table, ["labels"], timeout=30)
    ext = bigquery.Table(f"{PROJECT}.{SALES}.ext", schema=[F("line", "STRING")])
    config = bigquery.ExternalConfig("CSV")
    config.source_uris = ["gs://bucket/ext/*.csv"]
    ext.external_data_configuration = config
    client.create_table(ext, timeout=30)
    # Stand-in: __TABLES__ is missing from the emulator (404); an ordinary table of that name and
    # of __TABLES__' shape works, and the collector reads it by its real name.
    meta = bigquery.Table(f"{PROJECT}.{SALES}.__TABLES__", schema=[
        F("project_id", "STRING"), F("dataset_id", "STRING"), F("table_id", "STRING"),
        F("creation_time", "INT64"), F("last_modified_time", "INT64"), F("row_count", "INT64"),
        F("size_bytes", "INT64"), F("type", "INT64"),
    ])
    client.create_table(meta, timeout=30)
    _insert(client, meta, [
        {"project_id": PROJECT, "dataset_id": SALES, "table_id": t, "creation_time": ms(c),
         "last_modified_time": ms(m), "row_count": r, "size_bytes": b, "type": k}
        for t, k, r, b, m, c in META_TABLES
    ])

    # Hostile identifiers where the emulator accepts them: dataset and table names are plain
    # (the emulator refuses the unicode / spaces real BigQuery allows in table names), columns
    # carry unicode, spaces, dashes and semicolons.
    client.create_table(bigquery.Table(f"{PROJECT}.{MIXED}.{MIXED_TABLE}",
                                       schema=[F(HOSTILE_COLUMNS[0], "INT64"), F(HOSTILE_COLUMNS[1], "STRING"),
                                               F(HOSTILE_COLUMNS[2], "BOOL")]), timeout=30)

    client.create_table(bigquery.Table(f"{PROJECT}.{SCRATCH}.Mixed", schema=[F(HOSTILE_COLUMNS[0], "INT64")]),
                        timeout=30)
    client.create_table(bigquery.Table(f"{PROJECT}.{LAKE}.ice_orders",
                                       schema=[F("id", "INT64"), F("payload", "RECORD", fields=[F("k", "STRING")])]),
                        timeout=30)
    client.create_table(bigquery.Table(f"{OTHER_PROJECT}.{SHARED}.prices", schema=[F("x", "INT64")]), timeout=30)
    # What a linked dataset lists: the shared dataset's tables.
    client.create_table(bigquery.Table(f"{PROJECT}.{LINKED}.prices", schema=[F("x", "INT64")]), timeout=30)
    client.create_table(bigquery.Table(f"{PROJECT}.{LINKED}.rates_20240101", schema=[F("x", "INT64")]), timeout=30)

    _seed_standin_views(client)


def _insert(client: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    def plain(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    errors = client.insert_rows_json(table, [plain(r) for r in rows], timeout=30)
    assert not errors, errors


def _seed_standin_views(client: Any) -> None:
    from google.cloud import bigquery
    from google.cloud.bigquery import SchemaField as F

    ref = F("x", "RECORD", fields=[F("project_id", "STRING"), F("dataset_id", "STRING"), F("table_id", "STRING")])
    # Stand-in for region-us.INFORMATION_SCHEMA.JOBS_BY_PROJECT (the columns the collector reads,
    # with the view's types).
    jobs = bigquery.Table(f"{PROJECT}.{STANDINS}.JOBS_BY_PROJECT", schema=[
        F("job_id", "STRING"), F("project_id", "STRING"), F("creation_time", "TIMESTAMP"),
        F("start_time", "TIMESTAMP"), F("end_time", "TIMESTAMP"), F("user_email", "STRING"),
        F("job_type", "STRING"), F("statement_type", "STRING"), F("query", "STRING"), F("state", "STRING"),
        F("total_bytes_billed", "INT64"), F("total_bytes_processed", "INT64"),
        F("error_result", "RECORD", fields=[F("reason", "STRING"), F("location", "STRING"),
                                            F("debug_info", "STRING"), F("message", "STRING")]),
        F("destination_table", "RECORD", fields=ref.fields),
        F("referenced_tables", "RECORD", mode="REPEATED", fields=ref.fields),
        F("labels", "RECORD", mode="REPEATED", fields=[F("key", "STRING"), F("value", "STRING")]),
        F("parent_job_id", "STRING"),
    ])
    client.create_table(jobs, timeout=30)
    _insert(client, jobs, JOBS)

    # Stand-in for region-us.INFORMATION_SCHEMA.TABLE_STORAGE.
    storage = bigquery.Table(f"{PROJECT}.{STANDINS}.TABLE_STORAGE", schema=[
        F("project_id", "STRING"), F("table_schema", "STRING"), F("table_name", "STRING"),
        F("table_type", "STRING"), F("creation_time", "TIMESTAMP"), F("total_rows", "INT64"),
        F("total_logical_bytes", "INT64"), F("storage_last_modified_time", "TIMESTAMP"), F("deleted", "BOOL"),
    ])
    client.create_table(storage, timeout=30)
    keys = ("project_id", "table_schema", "table_name", "table_type", "creation_time", "total_rows",
            "total_logical_bytes", "storage_last_modified_time", "deleted")
    _insert(client, storage, [dict(zip(keys, row, strict=True)) for row in TABLE_STORAGE])

    # Stand-in for region-us.INFORMATION_SCHEMA.SCHEMATA_LINKS.
    links = bigquery.Table(f"{PROJECT}.{STANDINS}.SCHEMATA_LINKS", schema=[
        F("catalog_name", "STRING"), F("schema_name", "STRING"), F("linked_schema_catalog_number", "STRING"),
        F("linked_schema_catalog_name", "STRING"), F("linked_schema_name", "STRING"),
        F("linked_schema_creation_time", "TIMESTAMP"), F("linked_schema_org_display_name", "STRING"),
    ])
    client.create_table(links, timeout=30)
    _insert(client, links, [{
        "catalog_name": OTHER_PROJECT, "schema_name": SHARED, "linked_schema_catalog_number": "123",
        "linked_schema_catalog_name": PROJECT, "linked_schema_name": LINKED,
        "linked_schema_creation_time": ts(1), "linked_schema_org_display_name": "example.com",
    }])

    # Stand-in for <dataset>.INFORMATION_SCHEMA.COLUMN_FIELD_PATHS (one table for every dataset;
    # the collector filters on table_schema, as it does on the real view).
    paths = bigquery.Table(f"{PROJECT}.{STANDINS}.COLUMN_FIELD_PATHS", schema=[
        F("table_catalog", "STRING"), F("table_schema", "STRING"), F("table_name", "STRING"),
        F("column_name", "STRING"), F("field_path", "STRING"), F("data_type", "STRING"), F("description", "STRING"),
    ])
    client.create_table(paths, timeout=30)
    described = {"id": "order id", "customer.addr.city": "billing city"}
    # Real COLUMN_FIELD_PATHS rows come in no particular column order: seed them reversed.
    rows = [
        {"table_catalog": PROJECT, "table_schema": SALES, "table_name": "orders", "column_name": path.split(".")[0],
         "field_path": path, "data_type": data_type, "description": described.get(path)}
        for path, data_type in reversed(ORDERS_NESTED)
    ]
    rows.append({"table_catalog": PROJECT, "table_schema": LAKE, "table_name": "ice_orders", "column_name": "id",
                 "field_path": "id", "data_type": "INT64", "description": None})
    _insert(client, paths, rows)


@pytest.fixture(scope="session")
def bigquery_standin() -> Iterator[BigQueryStandIn]:
    binary = _emulator_bin()
    if binary is None:
        # Fail, not skip: a skipped stand-in would let the whole BigQuery suite pass unseen.
        pytest.fail("bqemulator not found: run `make install-test` (it builds .venv-standins/bqemulator) "
                    "or set BQEMULATOR_BIN (see docs/bigquery.md)")
    work = Path(tempfile.mkdtemp(prefix="mcpp-bqemulator-"))
    home = work / "home"
    home.mkdir()
    _prepare_home(binary, home)
    rest, grpc = free_port(), free_port()
    log_path = work / "bqemulator.log"
    proc = ManagedProcess("bqemulator", log_path, stop_timeout_s=10.0).start(
        [binary, "start", "--rest-host", "127.0.0.1", "--rest-port", str(rest), "--grpc-host", "127.0.0.1",
         "--grpc-port", str(grpc), "--project", PROJECT, "--log-level", "warning"],
        env=dict(os.environ, HOME=str(home)),
    )
    try:
        proc.wait_until(lambda: _answers(rest), timeout_s=READY_TIMEOUT_S, poll_s=0.2)
        assert proc.pid is not None
        standin = BigQueryStandIn(rest, grpc, proc.pid, log_path)
        seed(standin)
        yield standin
    finally:
        proc.stop()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def bigquery_conn(bigquery_standin: BigQueryStandIn, monkeypatch: pytest.MonkeyPatch) -> BigQueryStandIn:
    """The stand-in, with ``google_cloud_default`` and ``BIGQUERY_EMULATOR_HOST`` set for this test."""
    bigquery_standin.use(monkeypatch)
    return bigquery_standin
