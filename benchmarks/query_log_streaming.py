"""Query logs at scale: peak memory of the Redshift query-log collector, lineage collector and push
task on one big window, with manifest parts vs one manifest for the whole window.

1. **seed** the Redshift stand-in (PostgreSQL behind pgbouncer, ``tests/standins/redshift.py``)
   with ``--rows`` finished queries spread over one hour (``generate_series``, server-side;
   ``--shapes`` distinct statement shapes);
2. for each mode (``--modes``): ``parts`` (``max_events_per_manifest=--part-events``, the
   operator's default, 25,000) and ``one`` (one manifest for the window, what every collector did before parts):
   - **collect** query logs, then lineage, each in **its own process**, through the real
     ``RedshiftSQLHook`` / ``redshift_connector`` (server-side cursor, ``FETCH FORWARD``); the
     task instance is a stand-in whose ``xcom_push`` writes each value as gzipped JSON to a
     directory, as the common-io object-storage XCom backend does;
   - **push** both outputs to a sandbox subprocess in a third process, whose ``xcom_pull`` reads
     those files back.
   Peak RSS of each process is its kernel high-water mark (``VmHWM``), printed with the RSS the
   process had before the task started (Python, Airflow and the provider imported).
3. print requests against the lower bound ``ceil(gzip bytes of each unit's events as one stream
   / 1 MB)`` summed over units, and the events the sandbox accepted (every query exactly once).

    .venv/bin/python benchmarks/query_log_streaming.py                        # 200,000 rows (~3 min)
    .venv/bin/python benchmarks/query_log_streaming.py --rows 1000000 --modes parts
    .venv/bin/python benchmarks/query_log_streaming.py --rows 200000 --part-events 50000 --rerun
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

START, END = datetime(2026, 3, 1, 10, 0), datetime(2026, 3, 1, 11, 0)  # naive UTC, as Redshift logs
WINDOW = {"start": "2026-03-01T10:00:00Z", "end": "2026-03-01T11:00:00Z"}
GOAL_RSS_MB = 600
GOAL_RATIO = 1.10


def _hwm_mb() -> tuple[float, float]:
    """(VmHWM, VmRSS) of this process in MB."""
    values = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmHWM:", "VmRSS:")):
                key, kb = line.split()[:2]
                values[key[:-1]] = int(kb) / 1024
    return values["VmHWM"], values["VmRSS"]


def _reset_hwm() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset the high-water mark to the current RSS
    except OSError:
        pass


class FileXCom:
    """The object-storage XCom backend's effect, without Airflow's database: each value is one
    gzipped JSON object; ``xcom_pull`` reads it back (the push side of the index)."""

    def __init__(self, root: Path, task_id: str, map_index: int = -1) -> None:
        self.root, self.task_id, self.map_index = root, task_id, map_index
        self.dag_id, self.run_id, self.try_number = "query_log_scale", "bench", 1

    def _path(self, task_id: str, key: str) -> Path:
        return self.root / f"{task_id}.{key}.json.gz"

    def xcom_push(self, key: str, value: Any) -> None:
        self._path(self.task_id, key).write_bytes(gzip.compress(json.dumps(value).encode(), 6))

    def xcom_pull(self, task_ids: str, key: str = "return_value", **_: Any) -> Any:
        path = self._path(task_ids, key)
        return json.loads(gzip.decompress(path.read_bytes())) if path.exists() else None


# -- child processes -------------------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    import monte_carlo_push_provider.operators.push  # noqa: F401 - imports counted in "before"
    from monte_carlo_push_provider.operators.redshift import (
        RedshiftLineageCollectorOperator,
        RedshiftQueryLogCollectorOperator,
    )

    xcom_dir = Path(args.xcom_dir)
    part_events = args.part_events if args.mode == "parts" else 10**9
    part_bytes = 32 * 2**20 if args.mode == "parts" else 2**62
    limits = {"max_events_per_manifest": part_events, "max_bytes_per_manifest": part_bytes}
    started = time.monotonic()
    _reset_hwm()
    before = _hwm_mb()[1]
    if args.child in ("query_logs", "lineage"):
        cls = RedshiftQueryLogCollectorOperator if args.child == "query_logs" else RedshiftLineageCollectorOperator
        ti = FileXCom(xcom_dir, args.child)
        op = cls(task_id=args.child, fetch_size=args.fetch_size, **WINDOW, **limits)
        result = op.execute({"ti": ti, "run_id": ti.run_id})
        ti.xcom_push("return_value", result)
        out = {"parts": len(result.get("manifest_parts", [])) or 1, "events": result["events"]
               if isinstance(result["events"], int) else len(result["events"])}
    else:
        from monte_carlo_push_provider.operators.push import MonteCarloPushOperator

        ti = FileXCom(xcom_dir, "push")
        if args.child == "rerun":  # another run over the same window: everything already pushed
            ti.run_id = "bench-rerun"
        manifests = [ti.xcom_pull("query_logs"), ti.xcom_pull("lineage")]
        raw: dict[str, Any] = {} if args.max_raw_bytes < 0 else {"max_raw_bytes": args.max_raw_bytes or None}
        op = MonteCarloPushOperator(task_id="push", manifests=manifests, push_bucket=None, verify_resources=False,
                                    skip_when_nothing_pushed=False, **raw)
        result = op.execute({"ti": ti, "run_id": ti.run_id})
        out = {"requests": result["totals"]["sent_requests"], "events": result["totals"]["events"]}
    hwm, _ = _hwm_mb()
    print(json.dumps({**out, "rss_before_mb": round(before, 1), "peak_mb": round(hwm, 1),
                      "seconds": round(time.monotonic() - started, 1)}))


# -- the parent ------------------------------------------------------------------------------------


def lower_bound(xcom_dir: Path, max_raw_bytes: int | None) -> tuple[int, int]:
    """Sum over push units (query logs; table and column lineage) of ceil(gzip of its events as
    one stream / 1 MB), and the same with the raw cap as well (the larger of the gzip and the raw
    bound per unit). One part in memory at a time; events encoded as the push encodes them."""
    import zlib

    from monte_carlo_push_provider.utils.push_plan import encoded, groups, iter_manifests
    from monte_carlo_push_provider.utils.wire import GZIP_LEVEL, MAX_COMPRESSED_BYTES

    xcom = FileXCom(xcom_dir, "push")
    units: dict[Any, list[Any]] = {}  # unit -> [compressor, gzip bytes, raw bytes]
    for task in ("query_logs", "lineage"):
        for manifest in iter_manifests(xcom.xcom_pull(task), lambda index, key, t=task: xcom.xcom_pull(t, key)):
            for key, indexed in groups(manifest, "uuid"):
                unit = units.setdefault(key, [zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31), 0, 0])
                for _, event in indexed:
                    body = encoded(manifest["kind"], event)
                    unit[1] += len(unit[0].compress(body)) + len(unit[0].compress(b", "))
                    unit[2] += len(body) + 2
    bound = with_raw = 0
    for compressor, gzip_bytes, raw in units.values():
        gzip_bound = max(1, -(-(gzip_bytes + len(compressor.flush())) // MAX_COMPRESSED_BYTES))
        bound += gzip_bound
        with_raw += max(gzip_bound, -(-raw // max_raw_bytes) if max_raw_bytes else 0)
    return bound, with_raw


def run_child(kind: str, mode: str, xcom_dir: Path, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", kind, "--mode", mode, "--xcom-dir", str(xcom_dir),
           "--part-events", str(args.part_events), "--fetch-size", str(args.fetch_size),
           "--max-raw-bytes", str(args.max_raw_bytes)]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    if run.returncode != 0:
        raise SystemExit(f"{kind} ({mode}) failed:\n{(run.stdout + run.stderr)[-5000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--shapes", type=int, default=200)
    parser.add_argument("--part-events", type=int, default=25_000)
    parser.add_argument("--fetch-size", type=int, default=10_000)
    parser.add_argument("--modes", default="parts,one")
    parser.add_argument("--max-raw-bytes", type=int, default=-1,
                        help="the push operator's max_raw_bytes (-1: its default, 0: None, no raw cap)")
    parser.add_argument("--rerun", action="store_true",
                        help="then push the same outputs again as another run (nothing may be sent)")
    parser.add_argument("--child", choices=["query_logs", "lineage", "push", "rerun"])
    parser.add_argument("--mode", default="parts")
    parser.add_argument("--xcom-dir")
    args = parser.parse_args()
    if args.child:
        return child(args)

    root = Path(tempfile.mkdtemp(prefix="mcpp-qlscale-"))
    try:
        run_modes(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_modes(args: argparse.Namespace, root: Path) -> None:
    from monte_carlo_push_provider.utils.wire import MAX_RAW_BYTES
    from monte_carlo_sandbox.testing import SandboxProcess
    from tests.standins.redshift import running_postgres, running_redshift

    with running_postgres() as server, running_redshift(server) as standin:
        t0 = time.monotonic()
        standin.log_many_queries(args.rows, start=START, end=END, shapes=args.shapes)
        print(f"seeded {args.rows:,} queries ({args.shapes} shapes) in {time.monotonic() - t0:.1f} s")
        rows: list[str] = []
        reruns: list[str] = []
        for mode in args.modes.split(","):
            xcom_dir = root / mode / "xcom"
            xcom_dir.mkdir(parents=True)
            (root / mode / "sandbox").mkdir()
            with SandboxProcess(workdir=root / mode / "sandbox") as sandbox:
                env = dict(
                    os.environ, PYTHONPATH=str(REPO),
                    AIRFLOW_CONN_REDSHIFT_DEFAULT=standin.connection_json(),
                    AIRFLOW_CONN_MONTE_CARLO_DEFAULT=sandbox.connection_uri_json("redshift", timeout_s=120),
                    MONTE_CARLO_PUSH_STATE_PATH=str(root / mode / "state"),
                )
                figures = {kind: run_child(kind, mode, xcom_dir, args, env) for kind in ("query_logs", "lineage", "push")}
                if args.rerun:
                    figures["rerun"] = run_child("rerun", mode, xcom_dir, args, env)
                accepted = sum(p["event_count"] for p in sandbox.pushes("query_logs"))
            raw_cap = MAX_RAW_BYTES if args.max_raw_bytes < 0 else (args.max_raw_bytes or None)
            bound, raw_bound = lower_bound(xcom_dir, raw_cap)
            ql, lin, push = figures["query_logs"], figures["lineage"], figures["push"]
            if "rerun" in figures:
                again = figures["rerun"]
                reruns.append(f"{mode}: re-run of the same window as another run: push peak {again['peak_mb']:.0f} MB "
                              f"({again['rss_before_mb']:.0f} before), {again['requests']} request(s) sent, "
                              f"{again['seconds']:.1f} s")
            ok = all(f["peak_mb"] <= GOAL_RSS_MB for f in figures.values())
            ratio_ok = push["requests"] <= GOAL_RATIO * bound + 1
            rows.append(
                f"{mode:>5} | {ql['parts']:>5} | {ql['peak_mb']:>8.0f} ({ql['rss_before_mb']:.0f}) {ql['seconds']:>6.1f}s"
                f" | {lin['peak_mb']:>8.0f} ({lin['rss_before_mb']:.0f}) {lin['seconds']:>6.1f}s"
                f" | {push['peak_mb']:>8.0f} ({push['rss_before_mb']:.0f}) {push['seconds']:>6.1f}s"
                f" | {push['requests']:>4} / {bound:<4} ({raw_bound}) | {accepted:,} of {args.rows:,}"
                f" | {'yes' if ok and ratio_ok and accepted == args.rows else 'NO'}"
            )
    print(f"\n{args.rows:,} queries in one hourly window; part size {args.part_events:,} events; peak RSS in MB"
          f" (RSS before the task in brackets); goal: every task <= {GOAL_RSS_MB} MB, requests <= "
          f"{GOAL_RATIO} x bound + 1, every query pushed once")
    print(" mode | parts | query-log collector    | lineage collector      | push                   "
          "| req / gzip bound (with the raw cap) | sandbox accepted | goal")
    for row in rows:
        print(row)
    for line in reruns:
        print(line)


if __name__ == "__main__":
    main()
