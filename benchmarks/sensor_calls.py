"""GraphQL calls per sensor poke, counted by the sandbox, for pushes of N tables.

For each N: a real push (MonteCarloPushOperator to the sandbox over HTTP) of N tables (3 columns
each), optionally with N lineage edges and query logs (``--flows all``, one ``query_tables``
entry); then the sensor's checker polls through MonteCarloHook.graphql:

- ``waiting``: the push is held back by the sandbox (identical content pushed before is
  visible): what every poke costs while Monte Carlo has not processed this push;
- ``confirming``: released; the poke that confirms everything;
- ``after``: one more poke on the same checker (nothing left to ask but pushEvents).

Prints one markdown table (calls counted from the sandbox's request counters, wall time per
poke on this machine).

    .venv/bin/python benchmarks/sensor_calls.py                     # 10 and 1,000 tables, metadata
    .venv/bin/python benchmarks/sensor_calls.py --flows all         # + lineage edges + query logs
    .venv/bin/python benchmarks/sensor_calls.py --tables 10 100 1000 5000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monte_carlo_push_provider.manifest import (  # noqa: E402
    lineage_asset_ref,
    lineage_event,
    new_manifest,
    query_log_entry,
    relational_asset,
)


def manifests(n: int, flows: str) -> list[dict]:
    now = datetime.now(timezone.utc)
    tables = [
        relational_asset(type="TABLE", name=f"t_{i:05d}", database="BENCH", schema="PUBLIC",
                         fields=[("id", "NUMBER"), ("amount", "NUMBER"), ("day", "DATE")], row_count=i)
        for i in range(n)
    ]
    out = [new_manifest("metadata", tables, resource_type="snowflake")]
    if flows == "all":
        src = lineage_asset_ref(name="source", database="BENCH", schema="PUBLIC", asset_id="src")
        edges = [
            lineage_event(lineage_asset_ref(name=f"t_{i:05d}", database="BENCH", schema="PUBLIC", asset_id="dst"), [src])
            for i in range(n)
        ]
        out.append(new_manifest("lineage", edges, resource_type="snowflake"))
        logs = [query_log_entry(start_time=now - timedelta(minutes=5), end_time=now - timedelta(minutes=4),
                                query_text="insert into BENCH.PUBLIC.t_00000 select * from BENCH.PUBLIC.source",
                                query_id="q1", user="etl@example.com")]
        out.append(new_manifest("query_logs", logs, log_type="snowflake"))
    return out


def graphql_calls(sandbox) -> int:
    return sum(n for key, n in sandbox.stats()["requests"].items() if key.startswith("/graphql "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, nargs="+", default=[10, 1000])
    parser.add_argument("--flows", choices=["metadata", "all"], default="metadata")
    args = parser.parse_args()

    from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
    from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
    from monte_carlo_push_provider.sensors.checker import VisibilityChecker, run_sync
    from monte_carlo_push_provider.sensors.expectations import build_expectations
    from monte_carlo_sandbox.testing import SandboxProcess

    print("| tables | flows | poke | GraphQL calls | confirmed | wall time |")
    print("|---:|---|---|---:|---|---:|")
    with tempfile.TemporaryDirectory() as tmp, SandboxProcess(workdir=tmp) as sandbox:
        os.environ["AIRFLOW_CONN_MONTE_CARLO_DEFAULT"] = sandbox.connection_uri_json("snowflake")
        os.environ["MONTE_CARLO_PUSH_STATE_PATH"] = str(Path(tmp) / "state")
        for n in args.tables:
            sandbox.reset()
            results = []
            for run in ("earlier", "this"):
                if run == "this":
                    sandbox.hold()
                op = MonteCarloPushOperator(task_id="push", manifests=manifests(n, args.flows), min_push_interval=None)
                ti = SimpleNamespace(dag_id="bench", run_id=f"bench_{n}_{run}", task_id="push", map_index=-1, try_number=1)
                results.append(op.execute({"ti": ti}))
            query_tables = ["BENCH:PUBLIC.t_00000"] if args.flows == "all" else None
            expect, _ = build_expectations(results[1], query_tables=query_tables)
            checker = VisibilityChecker(expect)
            hook = MonteCarloHook()

            def call(request, hook=hook):
                return hook.graphql(request.query, request.variables, retry=False, not_found_ok=request.not_found_ok)

            for poke in ("waiting", "confirming", "after"):
                if poke == "confirming":
                    sandbox.release()
                before = graphql_calls(sandbox)
                started = time.perf_counter()
                status = run_sync(checker.check(), call)
                wall = time.perf_counter() - started
                calls = graphql_calls(sandbox) - before
                assert calls == status.calls, (calls, status.calls)
                counts = ", ".join(f"{k} {c['visible']:,}/{c['expected']:,}" for k, c in status.counts().items())
                print(f"| {n:,} | {args.flows} | {poke} | {calls} | {counts} | {wall:.2f} s |")
            hook.close()


if __name__ == "__main__":
    main()
