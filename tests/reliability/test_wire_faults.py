"""The wire fault run (benchmarks/fault_run.py --scenario wire): connections reset, answers
truncated or not JSON after the push was stored, and a 6 MB raw cap the operator's planned bodies
exceed. Every event arrives; duplicates only for pushes stored without a usable answer, each
counted by the operator as a possible duplicate; 413s are split, never fail the task."""

from __future__ import annotations

from benchmarks.fault_run import WIRE_GATEWAY_RAW_BYTES, delivered, run_wire


def test_wire_fault_run(mc_sandbox_clean, tmp_path):
    parts = run_wire(mc_sandbox_clean, assets=6_000, wide_assets=6_000, seed=11, state_dir=str(tmp_path))
    broken, raw_cap = parts["broken_answers"], parts["raw_cap"]
    for figures in (broken, raw_cap):
        assert delivered(figures), figures
        assert figures["missing"] == 0
    faults = broken["faults_injected"]
    assert faults.get("reset_after_accept", 0) > 0 and faults.get("truncate_after_accept", 0) > 0
    assert broken["broken_after_accept"] > 0
    # every push stored without a usable answer was counted, and explains the duplicates exactly
    assert broken["possible_duplicates_counted"] >= broken["accepted_but_unanswered"] > 0
    assert broken["duplicated_events"] == broken["events_in_unanswered_pushes"]
    # the raw cap: refused with 413, split, and what was accepted is under the cap
    assert raw_cap["answered_413"] > 0
    assert 0 < raw_cap["max_raw_bytes_accepted"] <= WIRE_GATEWAY_RAW_BYTES
