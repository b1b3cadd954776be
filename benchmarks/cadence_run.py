"""Cadence run: N hourly pushes whose wall-clock start jitters by 5-120 s (scheduler delay plus
collection time), through the real push operator and the sandbox, with the push's clock set per
run. Prints how many clock hours got their metadata push under the clock-bucket rule, next to
what the old rule (``now >= last push + 1 h``) would have pushed for the same times.

    .venv/bin/python benchmarks/cadence_run.py                # 48 hours, seed 48
    .venv/bin/python benchmarks/cadence_run.py --hours 168 --seed 7

``tests/operators/test_push_exactly_once.py::test_jittered_hourly_runs_push_every_hour`` runs the
same scenario; ``tests/reliability/test_cadence_faketime.py`` runs real DAGs under libfaketime.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

T0 = datetime(2026, 11, 25, 0, 0, tzinfo=timezone.utc)


def run(sandbox, *, hours: int = 48, seed: int = 48, jitter=(5.0, 120.0), state_dir: str) -> dict:
    from monte_carlo_push_provider.manifest import new_manifest, relational_asset
    from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
    from monte_carlo_push_provider.utils import push_state

    sandbox.reset()
    os.environ["AIRFLOW_CONN_MONTE_CARLO_DEFAULT"] = sandbox.connection_uri_json("snowflake")
    os.environ["MONTE_CARLO_PUSH_STATE_PATH"] = state_dir
    rng = random.Random(seed)
    times = [T0 + timedelta(hours=h, seconds=rng.uniform(*jitter)) for h in range(hours)]
    clock = {"now": T0}
    real = push_state.utcnow
    push_state.utcnow = lambda: clock["now"]
    started = time.perf_counter()
    pushed = 0
    try:
        for hour, at in enumerate(times):
            clock["now"] = at
            events = [relational_asset(type="TABLE", name="orders", database="D", schema="S", row_count=hour,
                                       last_update_time=at)]
            op = MonteCarloPushOperator(task_id="push", manifests=new_manifest("metadata", events, resource_type="snowflake"),
                                        skip_when_nothing_pushed=False)
            ti = SimpleNamespace(dag_id="cadence", run_id=f"scheduled__{hour}", task_id="push", map_index=-1, try_number=1)
            pushed += bool(op.execute({"ti": ti})["batches"])
    finally:
        push_state.utcnow = real
    old_rule, last = 0, None
    for at in times:
        if last is None or at >= last + timedelta(hours=1):
            old_rule, last = old_rule + 1, at
    return {
        "hours": hours, "jitter_s": list(jitter), "seed": seed,
        "hours_with_a_push": pushed, "hours_lost": hours - pushed,
        "old_rule_hours_with_a_push": old_rule, "old_rule_hours_lost": hours - old_rule,
        "metadata_requests_in_sandbox": len(sandbox.pushes("metadata")),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=int, default=48)
    parser.add_argument("--seed", type=int, default=48)
    args = parser.parse_args()
    from monte_carlo_sandbox.testing import SandboxProcess

    with tempfile.TemporaryDirectory() as tmp, SandboxProcess(workdir=tmp) as sandbox:
        figures = run(sandbox, hours=args.hours, seed=args.seed, state_dir=str(Path(tmp) / "state"))
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
