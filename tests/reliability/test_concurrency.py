"""Two pushes at once, as two real processes (two workers, or a zombie try and its retry).

Each child runs the real operator against the sandbox over HTTP and shares one state root on
local disk, where the leases and the hourly claims are conditional creates (``os.link``). Both
children wait for the same start instant, and the sandbox answers slowly, so their pushes really
overlap. Before issue 14 both passed the check-then-record guard (600 events duplicated).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

from tests.conftest import REPO

CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    from datetime import datetime, timedelta, timezone
    from types import SimpleNamespace
    from airflow.sdk.exceptions import AirflowSkipException
    from monte_carlo_push_provider.manifest import new_manifest, query_log_entry
    from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
    from benchmarks.fault_run import build_manifest

    spec = json.loads(sys.argv[1])
    if spec["what"] == "metadata":
        manifests = build_manifest(spec["n"])
    else:
        t0 = datetime(2026, 11, 25, 10, tzinfo=timezone.utc)
        manifests = new_manifest("query_logs", [
            query_log_entry(start_time=t0 + timedelta(minutes=q), end_time=t0 + timedelta(minutes=q, seconds=2),
                            query_text=f"select {q}", query_id=f"q{q}") for q in spec["ids"]
        ], log_type="snowflake")
    op = MonteCarloPushOperator(task_id="push", manifests=manifests, max_compressed_bytes=spec.get("batch", 4_000),
                                push_bucket=timedelta(hours=1) if spec.get("hourly") else None,
                                skip_when_nothing_pushed=False)
    ti = SimpleNamespace(dag_id="conc", run_id=spec["run_id"], task_id="push", map_index=-1,
                         try_number=spec.get("try", 1))
    print("READY", flush=True)
    if spec.get("go_file"):
        while not os.path.exists(spec["go_file"]):
            time.sleep(0.005)
    while time.time() < spec.get("start_at", 0):
        time.sleep(0.005)
    result = op.execute({"ti": ti})
    print("RESULT " + json.dumps({k: result[k] for k in ("status", "invocation_ids", "skipped", "totals")}))
    """
)


def start(env: dict[str, str], **spec) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(spec)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> dict:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, (out + err)[-3000:]
    return json.loads(out.split("RESULT ", 1)[1]) | {"log": out + err}


def child_env(sandbox, tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(REPO), AIRFLOW_CONN_MONTE_CARLO_DEFAULT=sandbox.connection_uri_json("snowflake"),
               MONTE_CARLO_PUSH_STATE_PATH=str(tmp_path / "state"))
    return env


def test_two_runs_in_the_same_hour_push_metadata_once(mc_sandbox_clean, tmp_path):
    mc_sandbox_clean.set_faults(slow_ms=150)
    env = child_env(mc_sandbox_clean, tmp_path)
    at = time.time() + 4  # both interpreters are up by then
    a = start(env, what="metadata", n=300, run_id="scheduled__10", hourly=True, start_at=at)
    b = start(env, what="metadata", n=300, run_id="manual__10", hourly=True, start_at=at)
    results = [finish(a), finish(b)]
    statuses = sorted(r["status"] for r in results)
    assert statuses == ["skipped", "success"], statuses
    names = [e["event"]["relational_asset"]["metadata"]["name"] for e in mc_sandbox_clean.events("metadata")]
    assert len(names) == 300 and len(set(names)) == 300  # one run's worth, nothing twice
    skipped = next(r for r in results if r["status"] == "skipped")
    assert skipped["skipped"][0]["code"] == "hourly_bucket"


def test_zombie_try_and_its_retry_never_push_the_same_batches(mc_sandbox_clean, tmp_path):
    # try 1 is still pushing (a zombie: its worker lost the heartbeat) when Airflow starts try 2.
    # Both interpreters are up (READY) before either starts; the retry starts once the zombie has a
    # batch accepted, so it really overlaps the zombie's push however loaded the machine is. (A
    # retry that starts only after its zombie *finished* cannot be told from a cleared task, and
    # pushes again: docs/reliability.md lists it among the limits.)
    mc_sandbox_clean.set_faults(slow_ms=200)
    env = child_env(mc_sandbox_clean, tmp_path)
    go_zombie, go_retry = tmp_path / "go-zombie", tmp_path / "go-retry"
    zombie = start(env, what="metadata", n=400, run_id="r1", **{"try": 1}, go_file=str(go_zombie))
    retry = start(env, what="metadata", n=400, run_id="r1", **{"try": 2}, go_file=str(go_retry))
    for proc in (zombie, retry):  # up and imported (log lines may come first)
        while (line := proc.stdout.readline()) and line.strip() != "READY":
            pass
        assert line, "a child exited before it was ready"
    go_zombie.touch()
    deadline = time.monotonic() + 60
    while not mc_sandbox_clean.events("metadata") and time.monotonic() < deadline:
        time.sleep(0.02)
    go_retry.touch()
    first, second = finish(zombie), finish(retry)
    names = [e["event"]["relational_asset"]["metadata"]["name"] for e in mc_sandbox_clean.events("metadata")]
    assert len(names) == 400 and len(set(names)) == 400
    # The zombie holds the lease and pushes everything; the retry waits for it, sends nothing and
    # still reports every invocation_id.
    pusher, waiter = first, second
    assert "waited for another try of this task instance" in waiter["log"]
    assert waiter["totals"]["sent_requests"] == 0 and pusher["totals"]["sent_requests"] > 5
    assert waiter["invocation_ids"] == pusher["invocation_ids"]


def test_overlapping_query_log_runs_at_once_push_each_query_once(mc_sandbox_clean, tmp_path):
    mc_sandbox_clean.set_faults(slow_ms=100)
    env = child_env(mc_sandbox_clean, tmp_path)
    at = time.time() + 4
    a = start(env, what="query_logs", ids=list(range(1, 61)), run_id="scheduled__10", batch=1_500, start_at=at)
    b = start(env, what="query_logs", ids=list(range(31, 91)), run_id="manual__1", batch=1_500, start_at=at)
    ra, rb = finish(a), finish(b)
    ids = [e["event"]["query_id"] for e in mc_sandbox_clean.events("query_logs")]
    assert len(ids) == 90 and len(set(ids)) == 90
    assert ra["totals"]["events"] + rb["totals"]["events"] == 90
    assert sum(s["events"] for r in (ra, rb) for s in r["skipped"]) == 30  # the overlap, skipped by one of them
