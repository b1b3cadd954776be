"""End-to-end scale benchmark: 100,000 tables x 30 columns in 20 databases, on real Airflow.

For each scale (default ``2x5000`` = 10k tables, then ``20x5000`` = 100k tables):

1. **generate** one SQLite file per database (``--tables-per-db`` tables of ``--columns`` columns,
   every 50th object a view), each in one ``executescript`` transaction;
2. **Airflow**: a fresh ``AIRFLOW_HOME`` (SQLite metadata DB), ``benchmarks/dags`` as the DAGs
   folder, one ``AIRFLOW_CONN_SCALE_DB_NN`` per SQLite file, the Monte Carlo connection pointing at
   a local sandbox subprocess, and the **object-storage XCom backend** of
   ``apache-airflow-providers-common-io`` (``file://`` under the temp dir, gzip, threshold below);
3. **run** ``monte_carlo_scale_100k``: ``SqlMetadataCollectorOperator.partial(...).expand(conn_id=...)``
   (one mapped task per database) -> ``MonteCarloPushOperator(manifests=collect.output)``.

Runners (``--runner``):

- ``tasks`` (default): ``airflow dags trigger`` creates the run, then every task instance runs
  with ``airflow tasks test <dag> <task> <run_id> [--map-index i]`` in **its own process**, the way
  a Celery / Kubernetes worker runs one task per process. Peak RSS per task is therefore a true
  per-task figure: the kernel's high-water mark (VmHWM) of that process, read by the task's own
  ``on_success_callback``, and cross-checked with the ``ru_maxrss`` the parent gets from
  ``wait4``. It includes the Airflow CLI's own start-up memory (printed separately as "before").
- ``dags-test``: one ``airflow dags test`` process runs every task in turn (how ``dags test``
  works). The DAG resets the high-water mark before each task (``/proc/self/clear_refs``), so each
  figure is that task's peak in a process that already holds Airflow and whatever earlier tasks
  left behind: an upper bound, not an isolated figure.

Printed: wall time per stage (generate, each collect task, push, total), requests vs the lower
bound ``ceil(total gzip bytes of all events as one stream / 1 MB)``, peak RSS per task, and the
collector-RSS comparison across scales (it should follow one database's size, not the
warehouse's). Generated data lives under a temp dir that is removed at the end (``--keep`` keeps
it).

    .venv/bin/python benchmarks/scale_100k.py                               # 10k then 100k (~15 min)
    .venv/bin/python benchmarks/scale_100k.py --scales 2x5000               # 10k only
    .venv/bin/python benchmarks/scale_100k.py --scales 20x500,20x5000       # per-database size
    .venv/bin/python benchmarks/scale_100k.py --runner dags-test --scales 2x5000
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DAGS_FOLDER = REPO / "benchmarks" / "dags"
DAG_ID = "monte_carlo_scale_100k"
RUN_ID = "scale_run"
RESOURCE_TYPE = "data-lake"
XCOM_BACKEND = "airflow.providers.common.io.xcom.backend.XComObjectStorageBackend"
GOAL_RSS_MB = 1024
GOAL_RATIO = 1.10

sys.path.insert(0, str(REPO))

TYPES = ["INTEGER", "BIGINT", "TEXT", "VARCHAR(255)", "REAL", "NUMERIC(12,2)", "TIMESTAMP", "DATE", "BOOLEAN", "BLOB"]
WORDS = ["customer", "order", "amount", "status", "created", "updated", "region", "product", "price", "id",
         "name", "email", "country", "discount", "quantity", "channel", "session", "device", "score", "flag"]


@dataclass
class Scale:
    databases: int
    tables_per_db: int

    @property
    def label(self) -> str:
        return f"{self.databases}x{self.tables_per_db}"

    @property
    def tables(self) -> int:
        return self.databases * self.tables_per_db


@dataclass
class Outcome:
    scale: Scale
    stages: dict[str, float] = field(default_factory=dict)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    lower_bound: int = 0
    total_gzip: int = 0
    events_pushed: int = 0
    sandbox_accepted: int = 0
    xcom_files: int = 0
    xcom_bytes: int = 0


# -- warehouse ------------------------------------------------------------------------------------


def generate_database(path: Path, database_index: int, tables: int, columns: int) -> None:
    """One SQLite file: ``tables`` objects of ``columns`` columns (every 50th a view)."""
    rng = random.Random(1000 + database_index)
    statements = ["PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF", "BEGIN"]
    last_table = None
    for i in range(tables):
        name = f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{database_index:02d}_{i:05d}"
        if i % 50 == 49 and last_table:
            statements.append(f'CREATE VIEW "v_{name}" AS SELECT * FROM "{last_table}" WHERE 1 = 1')
            continue
        cols = ", ".join(f'"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{j}" {rng.choice(TYPES)}' for j in range(columns))
        statements.append(f'CREATE TABLE "{name}" ({cols})')
        last_table = name
    statements.append("COMMIT")
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)  # the script manages its own transaction
    try:
        db.executescript(";\n".join(statements) + ";")
    finally:
        db.close()


def conn_id(index: int) -> str:
    return f"scale_db_{index:02d}"


# -- processes ------------------------------------------------------------------------------------


def run_process(cmd: list[str], env: dict[str, str], log: Path) -> tuple[int, float, float]:
    """Run ``cmd``; return (exit code, wall seconds, the child's ru_maxrss in MB from ``wait4``)."""
    t = time.perf_counter()
    with open(log, "ab") as fh:
        fh.write(f"\n$ {' '.join(cmd)}\n".encode())
        fh.flush()
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        # wait4 instead of proc.wait(): it also returns the child's resource usage.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, time.perf_counter() - t, usage.ru_maxrss / 1024


def airflow(*args: str, env: dict[str, str], log: Path, check: bool = True) -> tuple[int, float, float]:
    code, wall, rss = run_process([sys.executable, "-m", "airflow", *args], env, log)
    if check and code != 0:
        tail = log.read_text(errors="replace")[-4000:]
        raise RuntimeError(f"airflow {' '.join(args)} exited {code}; log {log}:\n{tail}")
    return code, wall, rss


# -- measurement ----------------------------------------------------------------------------------


def iter_xcom_manifests(xcom_dir: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The metadata manifests the collectors wrote through the object-storage XCom backend."""
    for path in sorted(p for p in xcom_dir.rglob("*") if p.is_file()):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            value = json.load(fh)
        if isinstance(value, dict) and value.get("kind") == "metadata" and "events" in value:
            yield path, value


def lower_bound(xcom_dir: Path, limit: int) -> tuple[int, int, int]:
    """(files, total gzip bytes of every event as one stream, ceil(total / limit)), one manifest
    in memory at a time. Events are encoded exactly as the push operator encodes them."""
    from monte_carlo_push_provider.utils.batching import lower_bound_requests

    files = 0

    def encoded() -> Iterator[bytes]:
        nonlocal files
        for _, manifest in iter_xcom_manifests(xcom_dir):
            files += 1
            for event in manifest["events"]:
                yield json.dumps({"relational_asset": event}).encode()

    total, bound = lower_bound_requests(encoded(), limit)
    return files, total, bound


def run_scale(scale: Scale, args: argparse.Namespace, root: Path) -> Outcome:
    from monte_carlo_push_provider.utils.wire import MAX_COMPRESSED_BYTES
    from monte_carlo_sandbox.testing import SandboxProcess

    out = Outcome(scale)
    work = root / scale.label
    (work / "warehouse").mkdir(parents=True)
    (work / "sandbox").mkdir()
    report_dir = work / "report"
    xcom_dir = work / "xcom"
    log = work / "airflow.log"
    started = time.perf_counter()

    t = time.perf_counter()
    files = []
    for i in range(scale.databases):
        path = work / "warehouse" / f"{conn_id(i)}.sqlite"
        generate_database(path, i, scale.tables_per_db, args.columns)
        files.append(path)
    out.stages["generate"] = time.perf_counter() - t
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    print(f"[{scale.label}] generated {scale.databases} SQLite files x {scale.tables_per_db:,} objects x "
          f"{args.columns} columns ({scale.tables:,} tables/views, {size_mb:,.0f} MB) in {out.stages['generate']:.1f} s")

    with SandboxProcess(workdir=work / "sandbox") as sandbox:
        env = dict(os.environ)
        env.update(
            AIRFLOW_HOME=str(work / "airflow_home"),
            AIRFLOW__CORE__DAGS_FOLDER=str(DAGS_FOLDER),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__UNIT_TEST_MODE="False",
            AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
            # The provider's object-storage XCom backend (apache-airflow-providers-common-io):
            # values over the threshold go to the path as gzip'd JSON, the DB keeps the path.
            AIRFLOW__CORE__XCOM_BACKEND=XCOM_BACKEND,
            AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_PATH=f"file://{xcom_dir}",
            AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_THRESHOLD=str(args.xcom_threshold),
            AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_COMPRESSION="gzip",
            AIRFLOW_CONN_MONTE_CARLO_DEFAULT=sandbox.connection_uri_json(RESOURCE_TYPE, timeout_s=120),
            MONTE_CARLO_PUSH_STATE_PATH=str(work / "push_state"),
            MCPP_SCALE_CONN_IDS=",".join(conn_id(i) for i in range(scale.databases)),
            MCPP_SCALE_REPORT_DIR=str(report_dir),
            MCPP_SCALE_RESULT_PATH=str(work / "push_result.json"),
            MCPP_SCALE_RESET_PEAK="1" if args.runner == "dags-test" else "0",
        )
        for i, path in enumerate(files):
            env[f"AIRFLOW_CONN_{conn_id(i).upper()}"] = json.dumps({"conn_type": "sqlite", "host": str(path)})

        t = time.perf_counter()
        airflow("db", "migrate", env=env, log=log)
        if args.runner == "tasks":
            airflow("dags", "reserialize", env=env, log=log)
            airflow("dags", "trigger", DAG_ID, "--run-id", RUN_ID, env=env, log=log)
        setup = "db migrate, dags reserialize, dags trigger" if args.runner == "tasks" else "db migrate"
        out.stages[f"airflow setup ({setup})"] = time.perf_counter() - t

        process_rss: dict[str, tuple[float, float]] = {}
        if args.runner == "tasks":
            t = time.perf_counter()

            def collect(i: int) -> None:
                task_log = work / f"collect_{i:02d}.log"  # one log per process: they may overlap
                _, wall, rss = airflow("tasks", "test", DAG_ID, "collect_metadata", RUN_ID, "--map-index", str(i),
                                       env=env, log=task_log)
                process_rss[f"collect_metadata-{i}"] = (wall, rss)

            # Like a worker pool with ``--parallel`` slots; each task is still its own process, so
            # its peak RSS is its own.
            with ThreadPoolExecutor(max_workers=args.parallel) as pool:
                list(pool.map(collect, range(scale.databases)))
            out.stages[f"collect (all mapped tasks, one process each, {args.parallel} at a time)"] = (
                time.perf_counter() - t
            )
            t = time.perf_counter()
            _, wall, rss = airflow("tasks", "test", DAG_ID, "push_to_monte_carlo", RUN_ID, env=env, log=log)
            process_rss["push_to_monte_carlo--1"] = (wall, rss)
            out.stages["push (one process)"] = time.perf_counter() - t
        else:
            t = time.perf_counter()
            _, wall, rss = airflow("dags", "test", DAG_ID, env=env, log=log)
            out.stages["airflow dags test (all tasks, one process)"] = wall
            print(f"[{scale.label}] airflow dags test: whole-process peak RSS {rss:,.0f} MB (ru_maxrss)")

        records = [json.loads(p.read_text()) for p in sorted(report_dir.glob("*.json"))]
        expected = scale.databases + 1
        if len(records) != expected:
            raise RuntimeError(f"{len(records)} task reports, expected {expected} (did a task fail?); log {log}")
        for rec in sorted(records, key=lambda r: (r["task_id"] != "collect_metadata", r["map_index"])):
            wall, rss = process_rss.get(f"{rec['task_id']}-{rec['map_index']}", (None, None))
            rec["process_wall_s"], rec["process_maxrss_mb"] = wall, rss
            out.tasks.append(rec)

        result = json.loads((work / "push_result.json").read_text())
        stats = sandbox.stats()
        out.requests = result["totals"]["requests"]
        out.events_pushed = result["totals"]["events"]
        out.sandbox_accepted = stats.get("accepted", 0)
        t = time.perf_counter()
        out.xcom_files, out.total_gzip, out.lower_bound = lower_bound(xcom_dir, MAX_COMPRESSED_BYTES)
        out.xcom_bytes = sum(p.stat().st_size for p in xcom_dir.rglob("*") if p.is_file())
        out.stages["(lower bound computed by this script)"] = time.perf_counter() - t
        if result["status"] != "success":
            raise RuntimeError(f"push status {result['status']}: {result}")
        if out.events_pushed != scale.tables:
            raise RuntimeError(f"pushed {out.events_pushed:,} events, expected {scale.tables:,}")
        out.stages["total"] = time.perf_counter() - started
    print_outcome(out, args)
    return out


def print_outcome(out: Outcome, args: argparse.Namespace) -> None:
    s = out.scale
    print(f"\n=== {s.label}: {s.tables:,} tables x {args.columns} columns in {s.databases} databases, runner {args.runner} ===")
    print("wall time per stage:")
    for stage, seconds in out.stages.items():
        print(f"  {stage:<52} {seconds:8.1f} s")
    print("per task (execute = on_execute_callback -> on_success_callback, incl. the XCom write; "
          "peak = VmHWM of the task's process" + (", reset before the task)" if args.runner == "dags-test" else ")"))
    print(f"  {'task':<24} {'map':>4} {'execute s':>10} {'process s':>10} {'before MB':>10} {'peak MB':>9} {'wait4 MB':>9}")
    for rec in out.tasks:
        wall = f"{rec['process_wall_s']:.1f}" if rec.get("process_wall_s") is not None else "-"
        w4 = f"{rec['process_maxrss_mb']:.0f}" if rec.get("process_maxrss_mb") is not None else "-"
        before = rec["rss_at_start_mb"] if rec["peak_reset"] else rec["peak_before_task_mb"]
        print(f"  {rec['task_id']:<24} {rec['map_index']:>4} {rec['execute_s']:>10.1f} {wall:>10} "
              f"{before:>10.0f} {rec['task_peak_rss_mb']:>9.0f} {w4:>9}")
    collectors = [r for r in out.tasks if r["task_id"] == "collect_metadata"]
    push = next(r for r in out.tasks if r["task_id"] == "push_to_monte_carlo")
    peak_all = max(r["task_peak_rss_mb"] for r in out.tasks)
    print(f"collector peak RSS: median {statistics.median(r['task_peak_rss_mb'] for r in collectors):,.0f} MB, "
          f"max {max(r['task_peak_rss_mb'] for r in collectors):,.0f} MB; push peak RSS {push['task_peak_rss_mb']:,.0f} MB; "
          f"goal < {GOAL_RSS_MB} MB per task: {'met' if peak_all < GOAL_RSS_MB else 'NOT met'}")
    ratio = out.requests / out.lower_bound if out.lower_bound else float("nan")
    print(f"requests: {out.requests} sent vs lower bound ceil({out.total_gzip:,} / 1,000,000) = {out.lower_bound} "
          f"-> ratio {ratio:.3f} (goal <= {GOAL_RATIO:.2f}: {'met' if ratio <= GOAL_RATIO else 'NOT met'})")
    print(f"events pushed: {out.events_pushed:,}; sandbox accepted {out.sandbox_accepted} request(s); "
          f"XCom object storage: {out.xcom_files} manifest file(s), {out.xcom_bytes / 1e6:,.1f} MB gzip")


def parse_scales(value: str) -> list[Scale]:
    scales = []
    for part in value.split(","):
        databases, _, tables = part.strip().partition("x")
        scales.append(Scale(int(databases), int(tables)))
    return scales


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=parse_scales, default=parse_scales("2x5000,20x5000"),
                        help="comma-separated DATABASESxTABLES_PER_DB (default 2x5000,20x5000)")
    parser.add_argument("--columns", type=int, default=30)
    parser.add_argument("--runner", choices=("tasks", "dags-test"), default="tasks")
    parser.add_argument("--xcom-threshold", type=int, default=64 * 1024,
                        help="XCom values at least this many bytes go to object storage (default 64 KiB)")
    parser.add_argument("--parallel", type=int, default=2,
                        help="collector task processes at a time with --runner tasks (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (warehouse, logs, XCom files)")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="mcpp-scale-"))
    outcomes = []
    try:
        for scale in args.scales:
            outcomes.append(run_scale(scale, args, root))
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    if len(outcomes) > 1:
        print("\ncollector peak RSS by scale (one mapped task per database):")
        print(f"  {'scale':<10} {'tables':>8} {'per db':>7} {'collector median MB':>20} {'collector max MB':>17} {'push MB':>8}")
        for o in outcomes:
            coll = [r["task_peak_rss_mb"] for r in o.tasks if r["task_id"] == "collect_metadata"]
            push = next(r["task_peak_rss_mb"] for r in o.tasks if r["task_id"] == "push_to_monte_carlo")
            print(f"  {o.scale.label:<10} {o.scale.tables:>8,} {o.scale.tables_per_db:>7,} {statistics.median(coll):>20,.0f} "
                  f"{max(coll):>17,.0f} {push:>8,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
