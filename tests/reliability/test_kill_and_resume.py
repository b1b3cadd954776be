"""A push task SIGKILLed between batches, and its retry killed again, resumes after the last
accepted batch: every event arrives exactly once, and the last retry logs the earlier tries'
invocation_ids."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

from tests.conftest import REPO

# The child process runs the real operator; after the K-th checkpoint write (one per accepted
# batch) it SIGKILLs itself, as an OOM killer or a lost worker would: no cleanup, no except.
CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    from types import SimpleNamespace
    import monte_carlo_push_provider.utils.push_state as push_state
    from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
    from benchmarks.fault_run import build_manifest

    kill_after = int(os.environ.get("KILL_AFTER_CHECKPOINTS", "0"))
    real_write = push_state.write_json
    writes = 0

    def write_then_maybe_die(path, document):
        global writes
        real_write(path, document)
        if "checkpoints" in str(path):
            writes += 1
            if kill_after and writes == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)

    push_state.write_json = write_then_maybe_die
    op = MonteCarloPushOperator(task_id="push", manifests=build_manifest(600), min_push_interval=None,
                                max_compressed_bytes=4_000)
    ti = SimpleNamespace(dag_id="kill", run_id="r1", task_id="push", map_index=-1, try_number=int(sys.argv[1]))
    result = op.execute({"ti": ti})
    print("RESULT " + json.dumps({"invocation_ids": result["invocation_ids"],
                                  "resumed": [b["invocation_id"] for b in result["batches"] if b.get("resumed")]}))
    """
)


def run_child(env: dict[str, str], try_number: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, str(try_number)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_sigkill_between_batches_then_retry(mc_sandbox_clean, tmp_path):
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO),
        AIRFLOW_CONN_MONTE_CARLO_DEFAULT=mc_sandbox_clean.connection_uri_json("snowflake"),
        MONTE_CARLO_PUSH_STATE_PATH=str(tmp_path / "state"),
        KILL_AFTER_CHECKPOINTS="3",
    )
    first = run_child(env, 1)
    assert first.returncode == -signal.SIGKILL, first.stderr[-2000:]
    accepted_before_kill = [p["invocation_id"] for p in mc_sandbox_clean.pushes("metadata")]
    assert len(accepted_before_kill) == 3

    # Try 2 walks the 3 accepted batches, gets 2 more accepted and is killed too: before issue 14
    # its checkpoint then held only its own 2 batches and try 3 pushed the first 3 again.
    env["KILL_AFTER_CHECKPOINTS"] = "2"
    walked = run_child(env, 2)
    assert walked.returncode == -signal.SIGKILL, walked.stderr[-2000:]
    assert len(mc_sandbox_clean.pushes("metadata")) == 5

    env["KILL_AFTER_CHECKPOINTS"] = "0"
    second = run_child(env, 3)
    assert second.returncode == 0, second.stderr[-3000:]
    result = json.loads(second.stdout.split("RESULT ", 1)[1])
    accepted_before_kills = [p["invocation_id"] for p in mc_sandbox_clean.pushes("metadata")][:5]
    assert result["resumed"] == accepted_before_kills
    assert result["invocation_ids"][:5] == accepted_before_kills
    assert len(result["invocation_ids"]) > 3
    # the retry's log names the first try's invocation_ids
    for invocation_id in accepted_before_kill:
        assert invocation_id in second.stdout + second.stderr

    names = [e["event"]["relational_asset"]["metadata"]["name"] for e in mc_sandbox_clean.events("metadata")]
    assert len(names) == 600 and len(set(names)) == 600  # nothing lost, nothing twice
    assert len(mc_sandbox_clean.pushes("metadata")) == len(result["invocation_ids"])
