"""What the Monte Carlo listener adds to a task's wall time.

The listener's hooks run on the task's own thread (``on_task_instance_running`` before
``execute``, ``on_task_instance_success`` / ``_failed`` after it, ``before_stopping`` — which
waits for the sender up to the flush deadline — before the process exits), so the time spent
inside them *is* the wall time the listener adds to a task; its sender thread does the rest in
parallel. This script measures exactly that: each sample is a fresh Python process running
``dag.test()`` of a chain of ``--tasks`` trivial ``@task`` tasks with the listener's hook methods
wrapped in a timer. The whole process's wall time is printed too, against the listener switched
off, but on a shared machine its noise is far larger than the listener's cost.

A fresh process per sample because that is what a task gets in production (one Task SDK process
per attempt): the first task of a sample pays the one-off costs every production task pays — the
sender thread starting, pycarlo loading on it (the flush waits for it), the first connection —
and the later tasks of the sample show the warm cost (``dag.test()`` runs every task in one
process).

Modes: ``reachable`` (a local sandbox; the DAG's metadata fingerprint is warm after a warm-up
sample, so samples send runs only, as every run after a DAG's first does), ``unreachable``
(connection refused on a closed port: the first sample pays retries up to the flush deadline,
later ones see the outage marker and try once), ``off`` (the process wall-time baseline);
``reachable_no_ol`` is ``reachable`` with ``[monte_carlo] airflow_openlineage = False``, so the
difference between the two is what reading each task's OpenLineage metadata costs (with the
``openlineage`` extra installed; ``@task`` tasks go through OpenLineage's PythonExtractor).

Run from the repository root::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/listener_overhead.py --samples 7 --tasks 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

DAG_TEMPLATE = """
from datetime import datetime, timezone
from airflow.sdk import DAG, task

with DAG("listener_bench", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc), catchup=False) as dag:
    @task
    def step(i: int) -> int:
        return i

    previous = None
    for i in range({tasks}):
        current = step.override(task_id=f"t{{i}}")(i)
        if previous is not None:
            previous >> current
        previous = current
"""

# Runs in the sample process. With --time-hooks the hook methods are wrapped before Airflow loads
# the plugin (pluggy keeps the bound methods it finds at registration; functools.wraps keeps the
# hookimpl marker).
RUN = """
import functools, importlib.util, json, sys, time
TIMINGS = []
if "--time-hooks" in sys.argv:
    from monte_carlo_push_provider.listeners import airflow_push

    def timed(name, fn):
        @functools.wraps(fn)
        def wrapper(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(self, *args, **kwargs)
            finally:
                # pluggy passes hook arguments positionally: (previous_state, task_instance, ...)
                ti = kwargs.get("task_instance") or (args[1] if len(args) > 1 else None)
                TIMINGS.append([name, getattr(ti, "task_id", None), time.perf_counter() - start])
        return wrapper

    cls = airflow_push.MonteCarloAirflowListener
    for name in [n for n in vars(cls) if n.startswith(("on_", "before_"))]:
        setattr(cls, name, timed(name, getattr(cls, name)))
spec = importlib.util.spec_from_file_location("listener_bench", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
run = module.dag.test()
with open(sys.argv[2], "w") as out:  # a file: log lines from other threads interleave with stdout
    json.dump({"state": str(run.state), "timings": TIMINGS}, out)
"""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def entry_point_dir(root: Path) -> Path:
    """The plugin's airflow.plugins entry point as pip installs it (see tests/listeners/conftest.py)."""
    import tomllib

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["airflow.plugins"]
    info = root / "ep" / "monte_carlo_push_provider_bench_entry_points-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mcpp-bench-entry-points\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[airflow.plugins]\n" + "".join(f"{k} = {v}\n" for k, v in declared.items()))
    return root / "ep"


def sample(env: dict[str, str], dag_file: Path, time_hooks: bool) -> tuple[float, list[float]]:
    """(process wall seconds, listener seconds per task attempt in run order)."""
    result_file = dag_file.parent.parent / "sample.json"
    result_file.unlink(missing_ok=True)
    start = time.perf_counter()
    cmd = [sys.executable, "-c", RUN, str(dag_file), str(result_file)] + (["--time-hooks"] if time_hooks else [])
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - start
    result = json.loads(result_file.read_text()) if result_file.exists() else {}
    if out.returncode != 0 or "success" not in result.get("state", ""):
        raise SystemExit(f"dag.test() failed:\n{(out.stdout + out.stderr)[-3000:]}")
    per_task: dict[str, float] = {}
    current = None
    for name, task_id, seconds in result["timings"]:
        if name.startswith("on_dag_run"):
            continue  # the scheduler's side in production: not on any task's path
        if name.startswith("on_task_instance"):
            current = task_id
        if current is not None:  # before_stopping belongs to the task that just ran
            per_task[current] = per_task.get(current, 0.0) + seconds
    return wall, list(per_task.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--modes", default="off,reachable,reachable_no_ol,unreachable",
                        help="comma-separated subset of the modes to sample")
    args = parser.parse_args()

    from monte_carlo_sandbox.etl import SANDBOX_ETL_CONTAINERS
    from monte_carlo_sandbox.testing import SandboxProcess

    root = Path(tempfile.mkdtemp(prefix="mcpp-listener-bench-"))
    try:
        dags = root / "dags"
        dags.mkdir()
        dag_file = dags / "listener_bench.py"
        dag_file.write_text(textwrap.dedent(DAG_TEMPLATE.format(tasks=args.tasks)))
        base = os.environ.copy()
        base.update(
            AIRFLOW_HOME=str(root / "home"),
            AIRFLOW__CORE__DAGS_FOLDER=str(dags),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
            PYTHONPATH=os.pathsep.join([str(REPO), str(entry_point_dir(root))]),
            AIRFLOW__MONTE_CARLO__AIRFLOW_RESOURCE_UUID=SANDBOX_ETL_CONTAINERS["airflow"],
            AIRFLOW__MONTE_CARLO__STATE_PATH=str(root / "state"),
        )
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=base, check=True,
                       capture_output=True, timeout=900)
        with SandboxProcess() as sandbox:
            modes = {
                "off": {"AIRFLOW__MONTE_CARLO__AIRFLOW_PUSH": "False"},
                "reachable": {"AIRFLOW__MONTE_CARLO__AIRFLOW_PUSH": "True",
                              "AIRFLOW_CONN_MONTE_CARLO_DEFAULT": sandbox.connection_uri_json(timeout_s=5)},
                # The same without reading the tasks' OpenLineage metadata (airflow_openlineage on
                # by default; it only costs anything with the openlineage extra installed).
                "reachable_no_ol": {"AIRFLOW__MONTE_CARLO__AIRFLOW_PUSH": "True",
                                    "AIRFLOW__MONTE_CARLO__AIRFLOW_OPENLINEAGE": "False",
                                    "AIRFLOW_CONN_MONTE_CARLO_DEFAULT": sandbox.connection_uri_json(timeout_s=5)},
                "unreachable": {"AIRFLOW__MONTE_CARLO__AIRFLOW_PUSH": "True",
                                "AIRFLOW_CONN_MONTE_CARLO_DEFAULT": sandbox.connection_uri_json(
                                    timeout_s=5, ingest_endpoint=f"http://127.0.0.1:{closed_port()}")},
            }
            modes = {m: extra for m, extra in modes.items() if m in args.modes.split(",")}
            walls: dict[str, list[float]] = {m: [] for m in modes}
            first: dict[str, list[float]] = {m: [] for m in modes}
            later: dict[str, list[float]] = {m: [] for m in modes}
            # Warm-up: the DAG serialised, its metadata pushed (the fingerprint warm for "reachable").
            for warm in [m for m in ("reachable", "reachable_no_ol") if m in modes]:
                sample({**base, **modes[warm], "AIRFLOW__MONTE_CARLO__STATE_PATH": str(root / "state" / warm)},
                       dag_file, False)
            for _ in range(args.samples):  # interleaved, so machine-load drift hits every mode alike
                for mode, extra in modes.items():
                    # A state root per mode: the reachable mode's accepted pushes would clear the
                    # unreachable mode's outage marker, a flip no real outage makes every few seconds.
                    state = {"AIRFLOW__MONTE_CARLO__STATE_PATH": str(root / "state" / mode)}
                    wall, per_task = sample({**base, **extra, **state}, dag_file, mode != "off")
                    walls[mode].append(wall)
                    if per_task:
                        first[mode].append(per_task[0])
                        later[mode].extend(per_task[1:])
            pushed = sandbox.stats()["requests"]
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.1f}" if values else "n/a"

    def p90(values: list[float]) -> str:
        return f"{statistics.quantiles(values, n=10)[-1] * 1000:.1f}" if len(values) >= 2 else "n/a"

    print(f"listener overhead: {args.samples} fresh processes per mode, dag.test() of {args.tasks} chained task(s)")
    print("time inside the listener's hooks per task attempt (= wall time added to that task), ms")
    print(f"{'mode':<16} {'1st task median':>16} {'1st task p90':>13} {'later median':>13} {'later p90':>10} "
          f"{'process wall median s':>22}")
    summary: dict = {"tasks": args.tasks, "samples": args.samples, "sandbox_requests": pushed, "modes": {}}
    for mode in modes:
        print(f"{mode:<16} {ms(first[mode]):>16} {p90(first[mode]):>13} {ms(later[mode]):>13} {p90(later[mode]):>10} "
              f"{statistics.median(walls[mode]):>22.2f}")
        summary["modes"][mode] = {
            "first_task_ms": [round(v * 1000, 1) for v in first[mode]],
            "later_task_ms": [round(v * 1000, 1) for v in later[mode]],
            "process_wall_s": [round(v, 2) for v in walls[mode]],
        }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
