"""Wire limits benchmark: what one request may hold and how long it may take.

1. Raw size: plan N synthetic tables (benchmarks/push_batching.py's generator) with the gzip cap
   alone (before) and with the raw cap too (now); print requests and the largest raw body.
2. Slow answer: the sandbox drips every answer byte by byte (``drip_ms``); time one request
   through pycarlo's ``Client.make_request(timeout_in_seconds=1)`` (a per-read timeout) and through
   this provider's sender (``timeout_s=1``: a wall-clock deadline), one attempt each.

    .venv/bin/python benchmarks/wire_limits.py                 # 5,065 tables x 30, drip 250 ms
    .venv/bin/python benchmarks/wire_limits.py --tables 20000 --drip-ms 100
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def raw_size_figures(tables: int, columns: int) -> dict[str, object]:
    from benchmarks.push_batching import synthetic_events
    from monte_carlo_push_provider.utils.batching import plan_batches
    from monte_carlo_push_provider.utils.wire import MAX_RAW_BYTES

    encoded = [json.dumps({"relational_asset": e}).encode() for e in synthetic_events(tables, columns)]
    before = plan_batches(encoded, max_raw_bytes=None)
    now = plan_batches(encoded)
    return {
        "tables": tables,
        "columns": columns,
        "raw_bytes_total": sum(len(e) + 2 for e in encoded),
        "gzip_cap_only": {"requests": len(before), "largest_raw_body": max(p.raw_bytes for p in before)},
        "gzip_and_raw_cap": {"requests": len(now), "largest_raw_body": max(p.raw_bytes for p in now),
                             "raw_cap": MAX_RAW_BYTES},
    }


def slow_answer_figures(drip_ms: int, cap_s: float) -> dict[str, object]:
    from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
    from monte_carlo_push_provider.utils.errors import MonteCarloPushError
    from monte_carlo_push_provider.utils.sender import RetryPolicy, send_with_retries
    from monte_carlo_sandbox.testing import SandboxProcess
    from tests.sandbox.helpers import metadata_body

    figures: dict[str, object] = {"drip_ms": drip_ms, "timeout_s": 1}
    with tempfile.TemporaryDirectory() as tmp, SandboxProcess(workdir=tmp) as sandbox:
        os.environ["AIRFLOW_CONN_MONTE_CARLO_DEFAULT"] = sandbox.connection_uri_json("snowflake")
        hook = MonteCarloHook()
        client = hook.get_ingestion_client()
        sandbox.set_faults(drip_ms=drip_ms, drop_hold_s=cap_s)

        started = time.perf_counter()
        try:
            client.make_request("/ingest/v1/metadata", body=metadata_body(), timeout_in_seconds=1,
                                should_retry=lambda _err: False)
            outcome = "answered"
        except Exception as err:  # noqa: BLE001 - any outcome is a figure here
            outcome = type(err).__name__
        figures["pycarlo_make_request"] = {"seconds": round(time.perf_counter() - started, 2), "outcome": outcome}

        started = time.perf_counter()
        try:
            send_with_retries(client, "/ingest/v1/metadata", metadata_body(), creds=hook.get_credentials(),
                              timeout_s=1, policy=RetryPolicy(1), label="batch 1/1")
            outcome = "answered"
        except MonteCarloPushError as err:
            outcome = f"MonteCarloPushError (possible_duplicates={err.possible_duplicates})"
        figures["provider_sender"] = {"seconds": round(time.perf_counter() - started, 2), "outcome": outcome}
        figures["pushes_stored"] = len(sandbox.pushes())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=5065)
    parser.add_argument("--columns", type=int, default=30)
    parser.add_argument("--drip-ms", type=int, default=250)
    parser.add_argument("--cap-s", type=float, default=120.0, help="longest the sandbox keeps dripping")
    args = parser.parse_args()
    print("raw size:", json.dumps(raw_size_figures(args.tables, args.columns), indent=1))
    print("slow answer:", json.dumps(slow_answer_figures(args.drip_ms, args.cap_s), indent=1))


if __name__ == "__main__":
    main()
