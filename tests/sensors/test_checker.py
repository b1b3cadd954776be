"""VisibilityChecker against the sandbox over HTTP (through MonteCarloHook.graphql): what proves a
push, what does not, unknown tables, and the call budget per poll."""

from __future__ import annotations

import time

import pytest

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
from monte_carlo_push_provider.manifest import new_manifest, query_log_entry, relational_asset
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.sensors.checker import VisibilityChecker, run_sync
from monte_carlo_push_provider.sensors.expectations import Expectations, PushedFlow, build_expectations
from monte_carlo_push_provider.sensors.messages import NOT_KNOWN
from tests.conftest import make_context
from tests.sensors.pushes import DAILY, ORDERS, push_all


def poll(checker: VisibilityChecker):
    hook = MonteCarloHook()
    return run_sync(checker.check(), lambda r: hook.graphql(r.query, r.variables, retry=False, not_found_ok=r.not_found_ok))


def push(manifests) -> dict:
    op = MonteCarloPushOperator(task_id="push", manifests=manifests, min_push_interval=None)
    return op.execute(make_context(task_id="push", run_id=f"manual__{time.monotonic_ns()}"))


def metadata(names: list[str]) -> dict:
    events = [relational_asset(type="TABLE", name=n, database="DB", schema="S", fields=[("id", "NUMBER")]) for n in names]
    return new_manifest("metadata", events, resource_type="snowflake")


def test_an_earlier_push_of_identical_content_proves_nothing(mc_conn):
    first = push_all()
    mc_conn.hold()
    # Another run, re-sending identical content on purpose (force: the pushed ledger would skip
    # the query logs): nothing resumed from push 1.
    second = push_all(run_id="manual__second", force=True)
    assert not set(second["invocation_ids"]) & set(first["invocation_ids"])
    expect, _ = build_expectations(second)
    status = poll(VisibilityChecker(expect))
    assert not status.done
    assert status.counts() == {k: {"expected": n, "visible": 0} for k, n in (("metadata", 2), ("lineage", 1), ("query_logs", 1))}
    first_meta = next(b["invocation_id"] for b in first["batches"] if b["kind"] == "metadata")
    reasons = {str(m) for m in status.missing}
    assert f"metadata {ORDERS}: Monte Carlo shows it from another push (ingestInvocationId {first_meta}), not this one yet (typically a few minutes)" in reasons
    assert any(r.startswith("query_logs warehouse") and "Monte Carlo has not recorded this push yet" in r for r in reasons)
    # Push 1's own sensor is satisfied by push 1.
    assert poll(VisibilityChecker(build_expectations(first)[0])).done
    mc_conn.release()
    assert poll(VisibilityChecker(expect)).done


def test_a_later_push_proves_an_earlier_one_only_beyond_the_clock_skew(mc_conn):
    ours = push([metadata(["a", "b"])])
    time.sleep(1.1)
    later = push([metadata(["a"])])  # table a now carries the later push's id
    expect, _ = build_expectations(ours)
    strict = poll(VisibilityChecker(expect))  # default skew, 5 min: the later push could be an earlier one
    assert [str(m) for m in strict.missing] == [
        f"metadata DB:S.a: Monte Carlo shows it from another push (ingestInvocationId {later['invocation_ids'][0]}), "
        "not this one yet (typically a few minutes)"
    ]
    loose = poll(VisibilityChecker(expect, clock_skew_s=0.5))
    assert loose.done
    proofs = {c["item"]: c["proof"] for c in loose.confirmed}
    assert proofs["DB:S.b"] == "ingestInvocationId"
    assert proofs["DB:S.a"].startswith(f"pushEvents METADATA: a later push ({later['invocation_ids'][0]}")


def test_push_events_on_an_earlier_batch_of_this_push_is_not_enough(mc_conn):
    a = push([new_manifest("query_logs", [query_log_entry(start_time="2026-11-25T10:00:00Z", end_time="2026-11-25T10:00:01Z",
                                                          query_text="select 1", query_id="q1")], log_type="snowflake")])
    mc_conn.hold()
    b = push([new_manifest("query_logs", [query_log_entry(start_time="2026-11-25T10:00:02Z", end_time="2026-11-25T10:00:03Z",
                                                          query_text="select 2", query_id="q2")], log_type="snowflake")])
    resource = a["batches"][0]["resource_uuid"]
    flow = PushedFlow("query_logs", resource, (a["invocation_ids"][0], b["invocation_ids"][0]), b["batches"][0]["accepted_at"])
    expect = Expectations(flows=[flow], invocation_ids={"query_logs": list(flow.invocation_ids)})
    status = poll(VisibilityChecker(expect))
    assert [m.reason for m in status.missing] == [
        f"Monte Carlo recorded batch 1 of 2 of this push ({a['invocation_ids'][0]}), not its last one yet"
    ]
    assert status.calls == 1  # query logs without query_tables: pushEvents is the whole check
    mc_conn.release()
    done = poll(VisibilityChecker(expect))
    assert done.done and done.counts() == {"query_logs": {"expected": 1, "visible": 1}}


def test_a_query_table_monte_carlo_does_not_know_says_so(mc_conn):
    result = push_all()
    expect, _ = build_expectations(result, query_tables=[DAILY, "ANALYTICS:PUBLIC.never_pushed"])
    status = poll(VisibilityChecker(expect))
    assert [str(m) for m in status.missing] == [f"query_logs ANALYTICS:PUBLIC.never_pushed: {NOT_KNOWN}"]
    assert NOT_KNOWN == "not known to Monte Carlo: was metadata ever pushed for it?"


def test_tables_are_checked_in_batches_within_the_call_budget(mc_conn):
    names = [f"t_{i:03d}" for i in range(250)]
    result = push([metadata(names)])
    expect, _ = build_expectations(result)
    assert len(expect.tables) == 250
    checker = VisibilityChecker(expect, max_calls=2)  # pushEvents + one getTables (100 tables)
    seen = []
    for _ in range(3):
        status = poll(checker)
        seen.append((status.calls, status.counts()["metadata"]["visible"], status.unchecked))
    assert seen == [(2, 100, 150), (2, 200, 50), (2, 250, 0)]
    assert status.done
    # Unbounded: one poll, 1 + 3 calls.
    assert poll(VisibilityChecker(expect)).calls == 4


def test_explicit_tables_without_a_push_result_are_checked_for_presence_only(mc_conn):
    push([metadata(["a"])])
    expect, _ = build_expectations(tables=["DB:S.a", "DB:S.zzz"], default_resource_uuid=MonteCarloHook().resource_uuid)
    status = poll(VisibilityChecker(expect))
    assert [str(m) for m in status.missing] == [f"metadata DB:S.zzz: {NOT_KNOWN}"]
    assert status.confirmed[0]["proof"] == "present (not tied to a push)"


def test_budget_must_allow_a_check():
    with pytest.raises(ValueError, match="max_calls must be >= 2"):
        VisibilityChecker(Expectations(), max_calls=1)


def test_a_run_the_hourly_guard_skipped_entirely_confirms_nothing_at_once(mc_conn):
    # The cadence guard, for real: the second push of the same metadata in the hour sends nothing.
    from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

    def guarded(run_id: str) -> dict:
        # skip_when_nothing_pushed=False: the skipped run's result comes back instead of a skip.
        op = MonteCarloPushOperator(task_id="push", manifests=[metadata(["a"])], skip_when_nothing_pushed=False)
        return op.execute(make_context(task_id="push", run_id=run_id))

    assert guarded("manual__first")["batches"]
    skipped = guarded("manual__second")
    assert skipped["batches"] == [] and skipped["skipped"]
    mc_conn.set_visibility(metadata=600, query_logs=600)
    before = mc_conn.stats()["requests"]
    out = MonteCarloPushedDataSensor(
        task_id="confirm", push_result=skipped, query_tables=["DB:S.a"], deferrable=False, poke_interval=0.1,
    ).execute(make_context(task_id="confirm"))
    assert out["status"] == "nothing_pushed" and out["message"] == "nothing pushed in this run: nothing to confirm"
    assert mc_conn.stats()["requests"] == before  # not one GraphQL call
