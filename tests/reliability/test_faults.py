"""Faults: a 10,000-asset push through a gateway that answers 503 (20%), 429 (10%) and drops
5% of answers after accepting. Every event arrives; duplicates only for accepted-but-unanswered
requests; the XCom lists every invocation_id the client received."""

from __future__ import annotations

from benchmarks.fault_run import run


def test_fault_run_delivers_every_event(mc_sandbox_clean, tmp_path, capfd):
    figures = run(mc_sandbox_clean, assets=10_000, seed=11, state_dir=str(tmp_path / "state"))
    assert figures["missing"] == 0
    assert figures["distinct_received"] == 10_000
    # faults really happened
    assert figures["faults_injected"].get("503", 0) > 0 and figures["faults_injected"].get("429", 0) > 0
    assert figures["dropped_after_accept"] > 0 and figures["client_timeouts"] >= figures["dropped_after_accept"]
    # duplicates are exactly the events of pushes the gateway accepted but never answered
    answered = set(figures["result"]["invocation_ids"])
    unanswered = [p for p in mc_sandbox_clean.pushes("metadata") if p["invocation_id"] not in answered]
    assert len(unanswered) == figures["dropped_after_accept"]
    assert figures["duplicated_events"] == sum(p["event_count"] for p in unanswered)
    # every answered invocation_id is in XCom and in the task log
    log = capfd.readouterr().out
    assert figures["invocation_ids_in_xcom"] == figures["batches"]
    for invocation_id in answered:
        assert f"invocation_id={invocation_id}" in log
