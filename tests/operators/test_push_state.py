"""The state primitives the exactly-once guarantees stand on: conditional create, leases with
fencing, on local disk and on object storage (an fsspec in-memory filesystem attached to
Airflow's ObjectStoragePath stands in for a bucket: no S3/GCS stand-in here)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from monte_carlo_push_provider.utils.errors import MonteCarloPushError
from monte_carlo_push_provider.utils.push_state import (
    Lease,
    MonteCarloLeaseBusyError,
    as_path,
    create_json,
    read_json,
)
from tests.operators.test_push import metadata_manifest, push


@pytest.fixture
def memory_root():
    from airflow.sdk.io import attach
    from fsspec.implementations.memory import MemoryFileSystem

    fs = MemoryFileSystem()
    fs.store.clear()
    attach("memory", fs=fs)
    return "memory://push-state"


@pytest.mark.parametrize("where", ["local", "object"])
def test_conditional_create_has_exactly_one_winner(where, tmp_path, memory_root):
    root = str(tmp_path) if where == "local" else memory_root
    path = as_path(root) / "claims" / "bucket.json"
    wins: list[int] = []
    start = threading.Barrier(16)

    def racer(n: int) -> None:
        start.wait()
        if create_json(path, {"owner": n}):
            wins.append(n)

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and read_json(path) == {"owner": wins[0]}  # the document is the winner's, whole


def test_push_with_state_on_object_storage(mc_conn, memory_root):
    push(metadata_manifest(2), push_bucket=timedelta(hours=1), state_path=memory_root, context={"run_id": "a"})
    with pytest.raises(AirflowSkipException):
        push(metadata_manifest(2), push_bucket=timedelta(hours=1), state_path=memory_root, context={"run_id": "b"})
    assert len(mc_conn.pushes("metadata")) == 1


def _lease(root, *, ttl_s=60.0, clock=None, who=1):
    kw = {"clock": clock} if clock else {}
    return Lease(as_path(root) / "lease", owner={"dag_id": "d", "run_id": "r", "task_id": "t", "try_number": who},
                 ttl_s=ttl_s, what="test lease", **kw)


def test_live_lease_blocks_then_expired_lease_is_taken_over_and_the_old_holder_is_fenced(tmp_path):
    now = {"t": datetime(2026, 11, 25, 10, tzinfo=timezone.utc)}
    clock = lambda: now["t"]  # noqa: E731
    first = _lease(tmp_path, ttl_s=30, clock=clock, who=1).acquire(0)
    with pytest.raises(MonteCarloLeaseBusyError, match="held by d/r/t try 1"):
        _lease(tmp_path, clock=clock, who=2).acquire(0.2, poll_s=0.05)
    now["t"] += timedelta(seconds=31)  # the holder stalled past its expiry
    second = _lease(tmp_path, clock=clock, who=2).acquire(0)
    assert second.generation == first.generation + 1
    with pytest.raises(MonteCarloPushError, match="lease lost"):
        first.renew()  # the zombie stops before its next request
    second.release()
    third = _lease(tmp_path, clock=clock, who=3).acquire(0)  # released: free at once
    assert third.previous["released"] is True


def test_lease_of_a_dead_process_on_this_host_is_free(tmp_path):
    code = (
        "import sys; from tests.operators.test_push_state import _lease; "
        f"_lease({str(tmp_path)!r}, ttl_s=3600).acquire(0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": os.getcwd()},
                   capture_output=True, timeout=120)
    lease = _lease(tmp_path, who=2).acquire(0)  # the holder exited without releasing
    assert lease.generation == 2 and not lease.waited
