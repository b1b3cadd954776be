"""Start a local warehouse stand-in and print the Airflow connection that reaches it.

    .venv/bin/python scripts/standin.py snowflake|bigquery|databricks|redshift|hive \
        [--sandbox] [--env-file FILE]

The stand-in is the one the test suite uses (``tests/standins/<warehouse>.py``, imported here, not
copied): the same server, certificates and seeded catalog, bound to 127.0.0.1 and stopped by PID
when this script exits. It prints ``export`` lines — ``AIRFLOW_CONN_<ID>`` under the conn id the
operators use by default, plus whatever the client needs besides (``REQUESTS_CA_BUNDLE`` for
Snowflake, ``BIGQUERY_EMULATOR_HOST`` for BigQuery) — then waits until Ctrl-C.

``--sandbox`` also starts the local Monte Carlo sandbox and prints ``AIRFLOW_CONN_MONTE_CARLO_DEFAULT``
for it, so a DAG can collect from the stand-in and push for real. ``--env-file`` writes the same
lines to a file to ``source`` from another shell.

Needs the test install (``make install-test``: the warehouse extras, the stand-in servers' own venvs,
pgbouncer for Redshift, Java 17 for Hive). The docs page ``docs/local-<warehouse>.md`` walks through it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# tests/standins/*.py import each other as ``tests.standins.…``: the repository root goes on the path.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@dataclass
class Running:
    """What a started stand-in gives the user: the environment to export and what is in it."""

    env: dict[str, str]
    contents: list[str] = field(default_factory=list)
    resource_type: str = "snowflake"  # the sandbox warehouse a push from this stand-in belongs to


def _fixture(fixture: Any, *args: Any) -> contextlib.AbstractContextManager[Any]:
    """A session fixture of tests/standins as a context manager: its generator runs the same
    start, seed and stop-by-PID code the test session runs."""
    function = getattr(fixture, "__wrapped__", fixture)  # pytest keeps the plain function there
    return contextlib.contextmanager(function)(*args)


def snowflake(stack: contextlib.ExitStack) -> Running:
    from tests.standins import snowflake as sf

    standin = stack.enter_context(_fixture(sf.snowflake_standin))
    return Running(
        env=standin.env("snowflake_default"),
        contents=[
            f"databases {sf.DB} (schemas PUBLIC, STAGING), {sf.HOSTILE_DB!r}, {sf.EMPTY_DB}",
            "SNOWFLAKE.ACCOUNT_USAGE: TABLES, COLUMNS, VIEWS, QUERY_HISTORY, ACCESS_HISTORY "
            "(query history of 2026-11-25 09:15-10:15 UTC, access history 09:00-10:00 UTC)",
        ],
        resource_type="snowflake",
    )


def bigquery(stack: contextlib.ExitStack) -> Running:
    from tests.standins import bigquery as bq

    standin = stack.enter_context(_fixture(bq.bigquery_standin))
    return Running(
        env={"BIGQUERY_EMULATOR_HOST": standin.endpoint,
             "AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT": standin.connection_json()},
        contents=[
            f"project {bq.PROJECT}: datasets {bq.SALES}, {bq.MIXED}, {bq.EMPTY}, {bq.LAKE}, {bq.LINKED}",
            f"the views the emulator lacks (JOBS_BY_PROJECT, TABLE_STORAGE, ...) as tables in "
            f"{bq.PROJECT}.{bq.STANDINS}: point the collectors' *_table parameters at them",
        ],
        resource_type="bigquery",
    )


def databricks(stack: contextlib.ExitStack) -> Running:
    import airflow.providers.databricks  # noqa: F401 - a clear ImportError when the extra is missing

    from tests.standins import databricks as dbx

    standin = stack.enter_context(_fixture(dbx.databricks_standin))
    return Running(
        env={f"AIRFLOW_CONN_{dbx.CONN_ID.upper()}": standin.connection_json()},
        contents=[
            "catalogs sales, ops, empty_cat (information_schema tables seeded), system "
            "(access.table_lineage, access.column_lineage, query.history)",
            "seeded window: 2026-11-25 09:00-10:00 UTC",
        ],
        resource_type="databricks",
    )


REDSHIFT_HISTORY = [
    ("INSERT INTO analytics.big_orders (id, amount) SELECT id, amount FROM analytics.orders WHERE amount > 100",
     "INSERT"),
    ("SELECT count(*) FROM analytics.orders", "SELECT"),
]


def redshift(stack: contextlib.ExitStack) -> Running:
    from tests.standins import redshift as rs

    server = stack.enter_context(_fixture(rs.postgres_server))
    standin = stack.enter_context(_fixture(rs.redshift_standin, server))
    catalog = getattr(rs.redshift_catalog, "__wrapped__", rs.redshift_catalog)(standin)
    # The test suite logs its queries per test; log a few here so the query-log and lineage
    # collectors have history to read (naive UTC, as Redshift stores it).
    at = datetime(2026, 11, 25, 9, 0)
    for query_id, (text, query_type) in enumerate(REDSHIFT_HISTORY, start=1):
        standin.log_query(text, query_id=query_id, start=at + timedelta(minutes=query_id), query_type=query_type)
    return Running(
        env={"AIRFLOW_CONN_REDSHIFT_DEFAULT": standin.connection_json()},
        contents=[
            f"databases {', '.join(repr(d) for d in catalog.databases)} with schema analytics; "
            "Redshift's system views (svv_*, sys_*, stl_*) emulated in every database",
            f"query history (SYS and STL): {len(REDSHIFT_HISTORY)} queries on 2026-11-25 09:01-09:0"
            f"{len(REDSHIFT_HISTORY)} UTC",
        ],
        resource_type="redshift",
    )


HIVE_LOG = [
    "Executing command(queryId=local_1): INSERT OVERWRITE TABLE sales.big_orders_daily "
    "SELECT id, amount FROM sales.orders WHERE amount > 10",
    "Completed executing command(queryId=local_1); Time taken: 4.2 seconds",
    "Executing command(queryId=local_2): SELECT customer, count(*) FROM sales.orders GROUP BY customer",
    "Completed executing command(queryId=local_2); Time taken: 1.3 seconds",
]


def hive(stack: contextlib.ExitStack) -> Running:
    from tests.standins import hive as hv

    standin = stack.enter_context(_fixture(hv.hive_standin))
    # Spark's Thrift server does not write HiveServer2's query log; a short one in Hive's layout
    # gives the query-log and lineage collectors something to read.
    logs = standin.workdir / "hive-logs"
    logs.mkdir()
    (logs / "hive.log").write_text("".join(
        f"2026-11-25T10:0{i}:00,000  INFO [HiveServer2-Background-Pool: Thread-4{i}] ql.Driver: {message}\n"
        for i, message in enumerate(HIVE_LOG)
    ))
    return Running(
        env={"AIRFLOW_CONN_METASTORE_DEFAULT": standin.metastore_conn_json(),
             "AIRFLOW_CONN_HIVESERVER2_DEFAULT": standin.hiveserver2_conn_json(),
             # read by the DAG as {{ var.value.hive_log_path }}
             "AIRFLOW_VAR_HIVE_LOG_PATH": str(logs)},
        contents=["databases sales (orders, events partitioned by ds, raw_clicks, big_orders view, "
                  "order_totals_mv), empty_db",
                  f"a HiveServer2 log with {len(HIVE_LOG) // 2} statements of 2026-11-25 10:00-10:0"
                  f"{len(HIVE_LOG) - 1} UTC in {logs}"],
        resource_type="data-lake",
    )


WAREHOUSES: dict[str, Callable[[contextlib.ExitStack], Running]] = {
    "snowflake": snowflake,
    "bigquery": bigquery,
    "databricks": databricks,
    "redshift": redshift,
    "hive": hive,
}


def sandbox(stack: contextlib.ExitStack, resource_type: str) -> dict[str, str]:
    from monte_carlo_sandbox.testing import SandboxProcess

    mc = stack.enter_context(SandboxProcess())
    return {"AIRFLOW_CONN_MONTE_CARLO_DEFAULT": mc.connection_uri_json(resource_type)}


def export_lines(env: dict[str, str]) -> list[str]:
    return [f"export {name}={shlex.quote(value)}" for name, value in env.items()]


@contextlib.contextmanager
def _airflow_home() -> Iterator[None]:
    """Seeding goes through Airflow hooks, and importing Airflow writes an airflow.cfg: keep that
    out of the user's home unless they chose an AIRFLOW_HOME."""
    if "AIRFLOW_HOME" in os.environ:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="mcpp-standin-airflow-") as home:
        os.environ["AIRFLOW_HOME"] = home
        try:
            yield
        finally:
            os.environ.pop("AIRFLOW_HOME", None)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/standin.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse", choices=sorted(WAREHOUSES))
    parser.add_argument("--sandbox", action="store_true", help="also start the local Monte Carlo sandbox")
    parser.add_argument("--env-file", type=Path, help="also write the export lines to this file")
    args = parser.parse_args(argv)

    # While starting, Ctrl-C and SIGTERM interrupt: the fixtures' own clean-up stops whatever had
    # started by then. Once ready, both just end the wait below, and the same clean-up runs.
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"starting the {args.warehouse} stand-in (servers bind 127.0.0.1 only) ...", file=sys.stderr, flush=True)
    with _airflow_home(), contextlib.ExitStack() as stack:
        try:
            running = WAREHOUSES[args.warehouse](stack)
            env = dict(running.env)
            if args.sandbox:
                env.update(sandbox(stack, running.resource_type))
        except KeyboardInterrupt:
            print("interrupted; stopping what had started ...", file=sys.stderr, flush=True)
            return 130
        except BaseException as exc:  # noqa: BLE001 - pytest.fail() raises a BaseException
            if isinstance(exc, SystemExit):
                raise
            print(f"could not start the {args.warehouse} stand-in: {type(exc).__name__}: {exc}\n"
                  "It needs the test install: `make install-test` (see docs/local-"
                  f"{args.warehouse}.md).", file=sys.stderr)
            return 1
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        lines = export_lines(env)
        print(f"# {args.warehouse} stand-in ready; it holds:")
        for item in running.contents:
            print(f"#   {item}")
        print("# In the shell that runs Airflow:")
        print("\n".join(lines), flush=True)
        if args.env_file:
            args.env_file.parent.mkdir(parents=True, exist_ok=True)
            args.env_file.write_text("\n".join(lines) + "\n")
            args.env_file.chmod(0o600)  # it holds the stand-in's (throw-away) passwords
            print(f"# (also written to {args.env_file}: `source {args.env_file}`)")
        print("# Ctrl-C stops the stand-in.", flush=True)
        while not stop.wait(0.5):
            pass
        print(f"stopping the {args.warehouse} stand-in ...", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
