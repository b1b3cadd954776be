"""The background sender against the real sandbox over HTTP (and against a closed port for an
unreachable Monte Carlo): batches of at most 100, the push operator's retry policy, outages
bounded by the flush deadline, submit never blocking."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
from monte_carlo_push_provider.utils.etl_sender import EtlSender
from monte_carlo_push_provider.utils.sender import RetryPolicy
from tests.listeners.conftest import AIRFLOW_CONTAINER

FAST = RetryPolicy(max_attempts=4, base_delay_s=0.05, max_delay_s=0.2)


def run_event(i: int, status: str = "success") -> dict:
    return {"job_source_id": "dag", "run_source_id": f"dag/r{i}", "status": status,
            "event_time": "2026-11-30T10:00:00Z"}


def sender(conn_id: str = "monte_carlo_default", **kwargs) -> EtlSender:
    def factory():
        hook = MonteCarloHook(conn_id)
        return hook.get_ingestion_client(), hook.get_credentials()

    kwargs.setdefault("policy", FAST)
    return EtlSender(resource_uuid=AIRFLOW_CONTAINER, client_factory=factory, **kwargs)


def test_batches_of_at_most_100_in_order(mc_conn):
    s = sender()
    accepted = []
    s.submit("metadata", {"job_source_id": "dag", "name": "dag"}, on_accepted=accepted.append)
    for i in range(250):
        s.submit("runs", run_event(i))
    assert s.flush(60)
    pushes = mc_conn.pushes()
    # Batches fill with what is queued when the thread takes one: at most 100, never mixed.
    assert pushes[0]["kind"] == "etl_metadata"  # the job goes before the runs submitted after it
    assert max(p["event_count"] for p in pushes) <= 100
    assert sum(p["event_count"] for p in pushes if p["kind"] == "etl_runs") == 250
    assert accepted == [pushes[0]["invocation_id"]]
    assert s.stats.sent == 251 and s.stats.invocation_ids == [p["invocation_id"] for p in pushes]


def test_invalid_event_is_skipped_the_rest_sent(mc_conn):
    s = sender()
    s.submit("runs", run_event(1, status="running"))  # not a pycarlo status
    s.submit("runs", run_event(2))
    assert s.flush(30)
    assert [e["event"]["run_source_id"] for e in mc_conn.events("etl_runs")] == ["dag/r2"]
    assert s.stats.dropped_invalid == 1


def test_503s_are_retried_with_the_push_operators_policy(mc_conn):
    mc_conn.set_faults(fail_503=0.6, seed=3)
    s = sender(policy=RetryPolicy(max_attempts=8, base_delay_s=0.05, max_delay_s=0.2))
    for i in range(5):
        s.submit("runs", run_event(i))
    assert s.flush(60)
    assert len(mc_conn.events("etl_runs")) == 5
    assert mc_conn.stats()["faults_injected"]["503"] >= 1


def test_rejection_is_logged_and_dropped_not_retried(mc_conn, caplog):
    s = sender()
    s.resource_uuid = "00000000-0000-0000-0000-000000000000"  # not an ETL container: a 400
    failed = []
    s.submit("runs", run_event(1), on_failed=lambda: failed.append(1))
    assert s.flush(30)
    assert mc_conn.stats()["requests"] == {"/ingest/v1/etl/runs 400": 1}  # once: a 400 is not retried
    assert s.stats.dropped_failed == 1 and failed == []  # not worth re-sending
    assert "is not an ETL container" in caplog.text


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_monte_carlo_is_bounded_by_the_flush_deadline(mc_conn, tmp_path: Path, caplog):
    mc_conn.use(ingest_endpoint=f"http://127.0.0.1:{_closed_port()}")
    marker = tmp_path / "outage.json"
    s = sender(policy=RetryPolicy(), outage_marker=marker)  # the real policy: 8 attempts, up to 60 s apart
    failed = []
    start = time.monotonic()
    assert s.submit("runs", run_event(1), on_failed=lambda: failed.append(1))
    assert time.monotonic() - start < 0.05  # submit returns at once
    assert not s.flush(1.0)
    assert time.monotonic() - start < 3.0
    time.sleep(0.3)  # the cut-short retry loop reports back
    assert failed == [1] and s.stats.dropped_failed == 1
    assert marker.exists()  # the next processes try once, without back-off
    assert "still unsent after 1.0 s" in caplog.text

    # A process started during the outage: one attempt, no back-off sleeps, done quickly.
    s2 = sender(policy=RetryPolicy(), outage_marker=marker)
    start = time.monotonic()
    s2.submit("runs", run_event(2))
    assert s2.flush(5.0)
    assert time.monotonic() - start < 2.0
    assert s2.stats.dropped_failed == 1


def test_a_full_queue_drops_instead_of_blocking(mc_conn):
    mc_conn.set_faults(slow_ms=300)
    s = sender(max_queue=5)
    start = time.monotonic()
    results = [s.submit("runs", run_event(i)) for i in range(50)]
    assert time.monotonic() - start < 0.5
    assert results.count(False) >= 40 and s.stats.dropped_queue_full == results.count(False)
    assert s.flush(30)
