"""Fault run: push N assets through a misbehaving gateway and count what arrived.

The sandbox answers 20% of ingest requests with 503, 10% with 429 (Retry-After: 0) and, for 5%,
stores the push but never answers (the client times out: "accepted but the answer never
arrives"). The push operator must deliver every event; duplicates are allowed only for requests
the gateway had accepted without answering.

    .venv/bin/python benchmarks/fault_run.py                 # 10,000 assets
    .venv/bin/python benchmarks/fault_run.py --assets 2000 --seed 7
    .venv/bin/python benchmarks/fault_run.py --scenario wire # resets, truncated answers, 6 MB raw cap

The ``wire`` scenario breaks answers *after* the push was stored: 5% of connections reset, 5% of
answers truncated, 2% answered 202 with a body that is not JSON, 2% dropped; 10% 503, 5% 429; and
the sandbox answers 413 to bodies over 6 MB raw (``max_raw_bytes``) while the operator is allowed
11 MB (as if the gateway's real cap were lower than the default assumes): every first body of
wide, well-compressing tables is refused and split. Duplicates are allowed only for pushes the
sandbox stored without a usable answer; the operator counts those attempts as possible duplicates.

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
WIRE_RATES = {
    "fail_503": 0.10, "fail_429": 0.05, "drop_after_accept": 0.02,
    "reset_after_accept": 0.05, "truncate_after_accept": 0.05, "non_json_after_accept": 0.02,
}
#: The wire scenario's gateway raw cap (6 MB) and the operator's, set above it on purpose.
WIRE_GATEWAY_RAW_BYTES = 6_000_000
WIRE_OPERATOR_RAW_BYTES = 11_000_000


def build_manifest(assets: int, columns: int = 10, described: bool = False) -> dict[str, Any]:
    from monte_carlo_push_provider.manifest import new_manifest, relational_asset

    events = [
        relational_asset(
            type="TABLE", name=f"table_{i:06d}", database="FAULTS", schema=f"S{i % 17}",
            fields=[
                (f"c{j}_{(i * 31 + j) % 997}", "NUMBER", f"column {j} of a wide table, described at length" * described)
                for j in range(columns)
            ],
            row_count=i,
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
    columns: int = 10,
    described: bool = False,
    gateway_raw_bytes: int | None = None,
    operator_raw_bytes: int | None = None,
) -> dict[str, Any]:
    """Push ``assets`` tables through ``sandbox`` (a SandboxProcess) with faults on; return figures.

    ``gateway_raw_bytes``: the sandbox's raw cap (413 above it; None keeps its default);
    ``operator_raw_bytes``: the operator's ``max_raw_bytes`` (None keeps its default)."""
    from monte_carlo_push_provider.operators.push import MonteCarloPushOperator

    manifest = build_manifest(assets, columns=columns, described=described)
    sandbox.reset()
    limits = {} if gateway_raw_bytes is None else {"max_raw_bytes": gateway_raw_bytes}
    sandbox.set_faults(**(rates or DEFAULT_RATES), **limits, seed=seed, retry_after_s=0, drop_hold_s=timeout_s + 3)
    os.environ["AIRFLOW_CONN_MONTE_CARLO_DEFAULT"] = sandbox.connection_uri_json("snowflake", timeout_s=timeout_s)
    os.environ["MONTE_CARLO_PUSH_STATE_PATH"] = state_dir or tempfile.mkdtemp(prefix="fault-run-state-")
    sizes = {} if operator_raw_bytes is None else {"max_raw_bytes": operator_raw_bytes}
    op = MonteCarloPushOperator(
        task_id="push", manifests=manifest, min_push_interval=None, max_compressed_bytes=batch_bytes,
        max_attempts=30, retry_base_delay_s=0.01, retry_max_delay_s=0.1, **sizes,
    )
    ti = SimpleNamespace(dag_id="fault_run", run_id=f"seed{seed}", task_id="push", map_index=-1, try_number=1)
    started = time.perf_counter()
    result = op.execute({"ti": ti})
    elapsed = time.perf_counter() - started
    sandbox.set_faults(**dict.fromkeys(WIRE_RATES, 0))

    stored = sandbox.events("metadata")
    names = Counter(e["event"]["relational_asset"]["metadata"]["name"] for e in stored)
    stats = sandbox.stats()
    ingest_requests = sum(n for key, n in stats["requests"].items() if key.startswith("/ingest/"))
    accepted_pushes = sandbox.pushes("metadata")
    answered = set(result["invocation_ids"])
    unanswered = [p["invocation_id"] for p in accepted_pushes if p["invocation_id"] not in answered]
    totals = result["totals"]
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
        "events_in_unanswered_pushes": sum(p["event_count"] for p in accepted_pushes if p["invocation_id"] not in answered),
        "broken_after_accept": stats.get("broken_after_accept", 0),
        "possible_duplicates_counted": totals.get("possible_duplicates", client_possible(result)),
        "answered_413": sum(n for key, n in stats["requests"].items() if key.endswith(" 413")),
        "max_raw_bytes_accepted": max((p["raw_bytes"] for p in accepted_pushes), default=0),
        "seconds": round(elapsed, 1),
        "result": result,
    }


def client_possible(result: dict[str, Any]) -> int:
    """Possible duplicates the operator counted, from its batch records (older result shapes)."""
    return sum(b.get("possible_duplicates", b.get("timeouts", 0)) for b in result["batches"])


def run_wire(
    sandbox: Any, *, assets: int = 10_000, wide_assets: int = 8_000, seed: int = 11, state_dir: str | None = None,
) -> dict[str, dict[str, Any]]:
    """The wire scenario (see the module docstring), in two parts under the same faults and the
    6 MB gateway raw cap: ``broken_answers`` pushes ``assets`` small tables in small requests
    (many requests, so many broken answers); ``raw_cap`` pushes ``wide_assets`` wide, described
    tables with the operator allowed 11 MB raw, so planned bodies are refused with 413 and split."""
    common = dict(seed=seed, rates=WIRE_RATES, gateway_raw_bytes=WIRE_GATEWAY_RAW_BYTES)
    broken = run(sandbox, assets=assets, state_dir=f"{state_dir}/broken" if state_dir else None, **common)
    raw_cap = run(
        sandbox, assets=wide_assets, batch_bytes=1_000_000, timeout_s=5.0, columns=30, described=True,
        operator_raw_bytes=WIRE_OPERATOR_RAW_BYTES, state_dir=f"{state_dir}/raw_cap" if state_dir else None, **common,
    )
    return {"broken_answers": broken, "raw_cap": raw_cap}


def delivered(figures: dict[str, Any]) -> bool:
    """Every event arrived; duplicates only from pushes stored without a usable answer, and the
    operator counted at least that many attempts as possible duplicates."""
    return (
        figures["missing"] == 0
        and figures["duplicated_events"] <= figures["events_in_unanswered_pushes"]
        and figures["possible_duplicates_counted"] >= figures["accepted_but_unanswered"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=("default", "wire"), default="default")
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--batch-bytes", type=int, default=10_000,
                        help="gzip bytes per request (small, so the run makes enough requests to meet faults)")
    args = parser.parse_args()
    from monte_carlo_sandbox.testing import SandboxProcess

    with tempfile.TemporaryDirectory() as tmp, SandboxProcess(workdir=tmp) as sandbox:
        state = str(Path(tmp) / "state")
        if args.scenario == "wire":
            rates = WIRE_RATES
            parts = run_wire(sandbox, assets=args.assets, seed=args.seed, state_dir=state)
        else:
            rates = DEFAULT_RATES
            parts = {"default": run(sandbox, assets=args.assets, seed=args.seed, batch_bytes=args.batch_bytes,
                                    state_dir=state)}
    extra = (f", 413 above {WIRE_GATEWAY_RAW_BYTES:,} B raw" if args.scenario == "wire" else "")
    print(f"fault run ({args.scenario}): {', '.join(f'{k} {v:.0%}' for k, v in rates.items())}{extra}, seed {args.seed}")
    ok = True
    for name, figures in parts.items():
        figures.pop("result")
        print(f"{name}:" if len(parts) > 1 else "", json.dumps(figures, indent=1))
        ok = ok and delivered(figures)
    print("every event delivered; duplicates only from accepted-but-unanswered requests, all counted as possible "
          "duplicates" if ok else "FAILED")


if __name__ == "__main__":
    main()
