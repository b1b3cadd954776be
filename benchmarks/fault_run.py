"""Fault run: push N assets through a misbehaving gateway and count what arrived.

The sandbox answers 20% of ingest requests with 503, 10% with 429 (Retry-After: 0) and, for 5%,
stores the push but never answers (the client times out: "accepted but the answer never
arrives"). The push operator must deliver every event; duplicates are allowed only for requests
the gateway had accepted without answering.

    .venv/bin/python benchmarks/fault_run.py                 # 10,000 assets
    .venv/bin/python benchmarks/fault_run.py --assets 2000 --seed 7

``tests/reliability/test_faults.py`` runs the same function and asserts on its figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_RATES = {"fail_503": 0.20, "fail_429": 0.10, "drop_after_accept": 0.05}


def build_manifest(assets: int, columns: int = 10) -> dict[str, Any]:
    from monte_carlo_push_provider.manifest import new_manifest, relational_asset

    events = [
        relational_asset(
            type="TABLE", name=f"table_{i:06d}", database="FAULTS", schema=f"S{i % 17}",
            fields=[(f"c{j}_{(i * 31 + j) % 997}", "NUMBER") for j in range(columns)], row_count=i,
        )
        for i in range(assets)
    ]
    return new_manifest("metadata", events, resource_type="snowflake", database="FAULTS")


def run(
    sandbox: Any,
    *,
    assets: int = 10_000,
    seed: int = 11,
    rates: dict[str, float] | None = None,
    batch_bytes: int = 10_000,
    timeout_s: float = 2.0,
    state_dir: str | None = None,
) -> dict[str, Any]:
    """Push ``assets`` tables through ``sandbox`` (a SandboxProcess) with faults on; return figures."""
    from monte_carlo_push_provider.operators.push import MonteCarloPushOperator

    manifest = build_manifest(assets)
    sandbox.reset()
    sandbox.set_faults(**(rates or DEFAULT_RATES), seed=seed, retry_after_s=0, drop_hold_s=timeout_s + 3)
    os.environ["AIRFLOW_CONN_MONTE_CARLO_DEFAULT"] = sandbox.connection_uri_json("snowflake", timeout_s=timeout_s)
    os.environ["MONTE_CARLO_PUSH_STATE_PATH"] = state_dir or tempfile.mkdtemp(prefix="fault-run-state-")
    op = MonteCarloPushOperator(
        task_id="push", manifests=manifest, min_push_interval=None, max_compressed_bytes=batch_bytes,
        max_attempts=30, retry_base_delay_s=0.01, retry_max_delay_s=0.1,
    )
    ti = SimpleNamespace(dag_id="fault_run", run_id=f"seed{seed}", task_id="push", map_index=-1, try_number=1)
    started = time.perf_counter()
    result = op.execute({"ti": ti})
    elapsed = time.perf_counter() - started
    sandbox.set_faults(fail_503=0, fail_429=0, drop_after_accept=0)

    stored = sandbox.events("metadata")
    names = Counter(e["event"]["relational_asset"]["metadata"]["name"] for e in stored)
    stats = sandbox.stats()
    ingest_requests = sum(n for key, n in stats["requests"].items() if key.startswith("/ingest/"))
    accepted_pushes = sandbox.pushes("metadata")
    answered = set(result["invocation_ids"])
    unanswered = [p["invocation_id"] for p in accepted_pushes if p["invocation_id"] not in answered]
    return {
        "assets": assets,
        "events_sent": result["totals"]["events"],
        "events_received": len(stored),
        "distinct_received": len(names),
        "missing": assets - len(names),
        "duplicated_events": sum(n - 1 for n in names.values()),
        "batches": len(result["batches"]),
        "ingest_requests": ingest_requests,
        "retried_attempts": result["totals"]["retried_attempts"],
        "client_timeouts": sum(b.get("timeouts", 0) for b in result["batches"]),
        "faults_injected": stats["faults_injected"],
        "dropped_after_accept": stats["dropped_after_accept"],
        "accepted_pushes": len(accepted_pushes),
        "invocation_ids_in_xcom": len(result["invocation_ids"]),
        "accepted_but_unanswered": len(unanswered),
        "seconds": round(elapsed, 1),
        "result": result,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--batch-bytes", type=int, default=10_000,
                        help="gzip bytes per request (small, so the run makes enough requests to meet faults)")
    args = parser.parse_args()
    from monte_carlo_push_provider.sandbox.testing import SandboxProcess

    with tempfile.TemporaryDirectory() as tmp, SandboxProcess(workdir=tmp) as sandbox:
        figures = run(sandbox, assets=args.assets, seed=args.seed, batch_bytes=args.batch_bytes,
                      state_dir=str(Path(tmp) / "state"))
    figures.pop("result")
    print(f"fault run: {', '.join(f'{k} {v:.0%}' for k, v in DEFAULT_RATES.items())}, seed {args.seed}")
    print(json.dumps(figures, indent=1))
    ok = figures["missing"] == 0 and figures["duplicated_events"] <= figures["dropped_after_accept"] * figures["assets"]
    print("every event delivered; duplicates only from accepted-but-unanswered requests" if ok else "FAILED")


if __name__ == "__main__":
    main()
