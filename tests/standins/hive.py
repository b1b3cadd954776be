"""Hive stand-in: a Hive Metastore (Derby in a temp dir) and Spark's HiveServer2-compatible Thrift
server, both from the jars in the ``pyspark`` wheel, on Java 17.

Recipe: ``../shared/docs/warehouse-stand-ins.md`` (Hive).

- ``hive_standin`` (session, started on first use: ~10-25 s): both servers on free loopback ports,
  seeded with the databases and tables of :data:`SEED`, stopped by PID at session end.
- ``hive_conns`` (function): ``AIRFLOW_CONN_HIVE_METASTORE`` (extra ``auth_mechanism: NOSASL``)
  and ``AIRFLOW_CONN_HIVESERVER2`` (``auth_mechanism: NONE``) pointing at it.

The Hive 2.3 metastore has no bind-address option and listens on the wildcard address. An
``LD_PRELOAD`` shim (``hive_bind_shim.c``, compiled with gcc at fixture time) rewrites wildcard
``bind()`` calls of both JVMs to 127.0.0.1; the fixture then checks with ``ss -ltnp`` that every
listening socket of both PIDs is loopback and refuses to go on otherwise.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from monte_carlo_sandbox.process import ManagedProcess, accepts_connections
from tests.standins.net import free_port

SHIM_SOURCE = Path(__file__).with_name("hive_bind_shim.c")
READY_TIMEOUT_S = 120.0  # the Thrift server needs ~20 s on a busy 2-core machine
STOP_TIMEOUT_S = 15.0
METASTORE_HEAP = "-Xmx512m"
THRIFT_DRIVER_MEMORY = "768m"

HIVE_SITE = """<?xml version="1.0"?>
<configuration>
  <property><name>javax.jdo.option.ConnectionURL</name><value>jdbc:derby:;databaseName={dir}/metastore_db;create=true</value></property>
  <property><name>datanucleus.schema.autoCreateAll</name><value>true</value></property>
  <property><name>hive.metastore.schema.verification</name><value>false</value></property>
  <property><name>hive.metastore.warehouse.dir</name><value>file://{dir}/warehouse</value></property>
  <property><name>hive.async.log.enabled</name><value>false</value></property>
</configuration>
"""

#: What the stand-in holds. Spark answers the DDL; ANALYZE writes Spark's statistics keys, and the
#: metastore adds Hive's own totalSize/numFiles. Spark only accepts [A-Za-z0-9_] table names (and
#: the metastore refuses others too), so the hostile names are column names.
SEED = [
    "CREATE DATABASE sales COMMENT 'sales data'",
    "CREATE DATABASE empty_db",
    "CREATE TABLE sales.orders (id BIGINT COMMENT 'order id', amount DECIMAL(10,2), customer STRING) "
    "STORED AS PARQUET TBLPROPERTIES ('comment'='All orders')",
    "INSERT INTO sales.orders VALUES (1, 10.50, 'a'), (2, 20.00, 'b'), (3, 5.25, 'c')",
    "ANALYZE TABLE sales.orders COMPUTE STATISTICS",
    "CREATE TABLE sales.events (id BIGINT, payload STRING) PARTITIONED BY (ds STRING) STORED AS PARQUET",
    "INSERT INTO sales.events PARTITION (ds='2026-11-24') VALUES (1, 'x'), (2, 'y')",
    "INSERT INTO sales.events PARTITION (ds='2026-11-25') VALUES (3, 'z')",
    "ANALYZE TABLE sales.events PARTITION (ds) COMPUTE STATISTICS",
    "CREATE EXTERNAL TABLE sales.raw_clicks (user_id BIGINT, url STRING) STORED AS TEXTFILE "
    "LOCATION 'file://{dir}/external/raw_clicks'",
    "CREATE VIEW sales.big_orders AS SELECT id, amount FROM sales.orders WHERE amount > 10",
    "CREATE TABLE sales.hostile_cols (`col with space` INT, `ü_name` STRING, `semi;colon--x` STRING, "
    "`back``tick` INT) STORED AS PARQUET",
]
#: Created through the metastore API (Spark cannot create a Hive materialized view): Hive-native
#: statistics keys and a fixed last-DDL time.
MATERIALIZED_VIEW = {
    "name": "order_totals_mv",
    "text": "SELECT customer, SUM(amount) AS total FROM sales.orders GROUP BY customer",
    "parameters": {"numRows": "3", "totalSize": "4096", "transient_lastDdlTime": "1795600000"},
}


def _pyspark_home() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the Hive stand-in needs pyspark (pip install pyspark)")
    return Path(next(iter(spec.submodule_search_locations)))


def _compile_shim(workdir: Path) -> Path:
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        raise RuntimeError("the Hive stand-in needs gcc to build its loopback bind shim (apt-get install gcc)")
    out = workdir / "hive_bind_shim.so"
    subprocess.run([gcc, "-shared", "-fPIC", "-O2", "-o", str(out), str(SHIM_SOURCE), "-ldl"],
                   check=True, capture_output=True, timeout=60)
    return out


def listening_addresses(pid: int) -> list[str]:
    """Local addresses of the TCP sockets ``pid`` listens on: ``ss -ltnpH`` (iproute2), or
    ``/proc/net/tcp*`` where ``ss`` is not installed (slim containers)."""
    if shutil.which("ss"):
        out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True, timeout=30).stdout
        return [line.split()[3] for line in out.splitlines() if f"pid={pid}," in line]
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            cols = row.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A = LISTEN
                raw_ip, raw_port = cols[1].split(":")
                packed = bytes.fromhex(raw_ip)
                # /proc prints the address as 32-bit words in host (little-endian) order
                packed = b"".join(packed[i:i + 4][::-1] for i in range(0, len(packed), 4))
                found.append(f"[{ipaddress.ip_address(packed)}]:{int(raw_port, 16)}")
    return found


def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.rsplit(":", 1)[0].strip("[]").split("%")[0])
    except ValueError:  # ss prints a wildcard as "*"
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # a dual-stack socket bound to ::ffff:127.0.0.1
    return (mapped or ip).is_loopback


@dataclass
class HiveStandin:
    metastore_port: int
    thrift_port: int
    workdir: Path
    metastore_pid: int
    thrift_pid: int

    def connect(self, database: str = "default") -> Any:
        from pyhive import hive

        return hive.connect(host="127.0.0.1", port=self.thrift_port, auth="NONE", username="tester",
                            database=database)

    def execute(self, *statements: str) -> None:
        conn = self.connect()
        try:
            cur = conn.cursor()
            for sql in statements:
                cur.execute(sql.replace("{dir}", str(self.workdir)))
        finally:
            conn.close()

    def metastore_client(self) -> Any:
        import hmsclient
        from thrift.protocol import TBinaryProtocol
        from thrift.transport import TSocket, TTransport

        transport = TTransport.TBufferedTransport(TSocket.TSocket("127.0.0.1", self.metastore_port))
        return hmsclient.HMSClient(iprot=TBinaryProtocol.TBinaryProtocol(transport))

    def metastore_conn_json(self) -> str:
        return json.dumps({"conn_type": "hive_metastore", "host": "127.0.0.1", "port": self.metastore_port,
                           "extra": {"auth_mechanism": "NOSASL"}})

    def hiveserver2_conn_json(self) -> str:
        return json.dumps({"conn_type": "hiveserver2", "host": "127.0.0.1", "port": self.thrift_port,
                           "login": "tester", "schema": "default", "extra": {"auth_mechanism": "NONE"}})


def _seed(standin: HiveStandin) -> None:
    import copy

    standin.execute(*SEED)
    with standin.metastore_client() as client:
        table = copy.deepcopy(client.get_table("sales", "orders"))
        table.tableName = MATERIALIZED_VIEW["name"]
        table.tableType = "MATERIALIZED_VIEW"
        table.parameters = dict(MATERIALIZED_VIEW["parameters"])
        table.viewOriginalText = table.viewExpandedText = MATERIALIZED_VIEW["text"]
        table.sd.location = None
        client.create_table(table)


@pytest.fixture(scope="session")
def hive_standin() -> Iterator[HiveStandin]:
    if shutil.which("java") is None:
        # Fail, not skip: a CI machine without Java would otherwise drop the Hive tests silently.
        raise RuntimeError("the Hive stand-in needs Java 17 (apt-get install openjdk-17-jre-headless)")
    spark_home = _pyspark_home()
    workdir = Path(tempfile.mkdtemp(prefix="mcpp-hive-"))
    conf = workdir / "conf"
    conf.mkdir()
    (conf / "hive-site.xml").write_text(HIVE_SITE.format(dir=workdir))
    shim = _compile_shim(workdir)
    env = dict(os.environ, LD_PRELOAD=str(shim), HIVE_CONF_DIR=str(conf), SPARK_CONF_DIR=str(conf),
               SPARK_HOME=str(spark_home), SPARK_LOCAL_IP="127.0.0.1")
    env.pop("PYSPARK_SUBMIT_ARGS", None)
    metastore_port, thrift_port = free_port(), free_port()
    metastore = ManagedProcess("Hive Metastore", workdir / "metastore.log", stop_timeout_s=STOP_TIMEOUT_S, tail_chars=3000)
    thrift = ManagedProcess("Spark Thrift server", workdir / "thriftserver.log", stop_timeout_s=STOP_TIMEOUT_S,
                            tail_chars=3000)
    try:
        metastore.start(
            ["java", METASTORE_HEAP, "-Djava.net.preferIPv4Stack=true", f"-Dderby.system.home={workdir}",
             "-cp", f"{conf}:{spark_home / 'jars'}/*", "org.apache.hadoop.hive.metastore.HiveMetaStore",
             "-p", str(metastore_port)],
            cwd=workdir, env=env, start_new_session=True,
        )
        metastore.wait_until(lambda: accepts_connections(metastore_port, timeout_s=1), timeout_s=READY_TIMEOUT_S,
                             poll_s=0.3)
        # spark-submit execs the JVM (spark-class ends in ``exec``), so this PID is the server's.
        thrift.start(
            [str(spark_home / "bin" / "spark-submit"), "--driver-memory", THRIFT_DRIVER_MEMORY,
             "--class", "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2", "--master", "local[1]",
             "--conf", "spark.driver.bindAddress=127.0.0.1", "--conf", "spark.driver.host=127.0.0.1",
             "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.catalogImplementation=hive",
             "--conf", f"spark.hadoop.hive.metastore.uris=thrift://127.0.0.1:{metastore_port}",
             "--conf", f"spark.sql.warehouse.dir=file://{workdir}/warehouse",
             "--conf", "spark.sql.shuffle.partitions=1",
             "--conf", "spark.driver.extraJavaOptions=-Djava.net.preferIPv4Stack=true",
             "--hiveconf", f"hive.server2.thrift.port={thrift_port}",
             "--hiveconf", "hive.server2.thrift.bind.host=127.0.0.1", "spark-internal"],
            cwd=workdir, env=env, start_new_session=True,
        )
        thrift.wait_until(lambda: accepts_connections(thrift_port, timeout_s=1), timeout_s=READY_TIMEOUT_S, poll_s=0.3)
        pids = []
        for proc in (metastore, thrift):
            assert proc.pid is not None
            addresses = listening_addresses(proc.pid)
            exposed = [a for a in addresses if not _loopback(a)]
            if not addresses or exposed:
                raise RuntimeError(f"PID {proc.pid} listens beyond loopback: {addresses}")
            pids.append(proc.pid)
        standin = HiveStandin(metastore_port, thrift_port, workdir, *pids)
        _seed(standin)
        yield standin
    finally:
        thrift.stop()
        metastore.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def hive_conns(hive_standin: HiveStandin, monkeypatch: pytest.MonkeyPatch) -> HiveStandin:
    monkeypatch.setenv("AIRFLOW_CONN_HIVE_METASTORE", hive_standin.metastore_conn_json())
    monkeypatch.setenv("AIRFLOW_CONN_HIVESERVER2", hive_standin.hiveserver2_conn_json())
    return hive_standin

