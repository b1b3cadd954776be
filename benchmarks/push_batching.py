"""Push batching benchmark: synthetic N tables x C columns.

Prints: build throughput (events/s), encode + batch + gzip throughput, requests vs the 1 MB lower
bound (ceil(total gzip bytes / limit)), peak RSS, and then the wall time of a real push of the
same manifest to the local sandbox over HTTP through the push operator and pycarlo.

    .venv/bin/python benchmarks/push_batching.py                  # 100,000 x 30
    .venv/bin/python benchmarks/push_batching.py --tables 10000   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monte_carlo_push_provider.manifest import new_manifest, relational_asset, validate_manifest  # noqa: E402
from monte_carlo_push_provider.utils.batching import lower_bound_requests, plan_batches  # noqa: E402
from monte_carlo_push_provider.utils.wire import MAX_COMPRESSED_BYTES  # noqa: E402

TYPES = ["NUMBER(38,0)", "VARCHAR(16777216)", "TIMESTAMP_NTZ(9)", "BOOLEAN", "FLOAT", "DATE", "VARIANT"]
WORDS = ["customer", "order", "amount", "status", "created", "updated", "region", "product", "price", "id",
         "name", "email", "country", "discount", "quantity", "channel", "session", "device", "score", "flag"]


def synthetic_events(tables: int, columns: int, seed: int = 42) -> list[dict]:
    rng = random.Random(seed)
    now = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
    events = []
    for i in range(tables):
        fields = [(f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{j}", rng.choice(TYPES)) for j in range(columns)]
        events.append(
            relational_asset(
                type="TABLE" if i % 10 else "VIEW",
                name=f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{i}",
                database=f"ANALYTICS_{i % 20}",
                schema=f"{rng.choice(WORDS).upper()}_{i % 50}",
                fields=fields,
                row_count=rng.randint(0, 10**9) if i % 10 else None,
                byte_count=rng.randint(0, 10**12) if i % 10 else None,
                last_update_time=now if i % 10 else None,
            )
        )
    return events


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=100_000)
    parser.add_argument("--columns", type=int, default=30)
    parser.add_argument("--limit", type=int, default=MAX_COMPRESSED_BYTES)
    parser.add_argument("--no-push", action="store_true", help="skip the push to the sandbox")
    args = parser.parse_args()
    n = args.tables

    t = time.perf_counter()
    events = synthetic_events(n, args.columns)
    manifest = new_manifest("metadata", events, resource_type="snowflake")
    build_s = time.perf_counter() - t

    t = time.perf_counter()
    validate_manifest(manifest)
    validate_s = time.perf_counter() - t

    t = time.perf_counter()
    encoded = [json.dumps({"relational_asset": e}).encode() for e in events]
    plans = plan_batches(encoded, limit=args.limit)
    batch_s = time.perf_counter() - t

    total_gzip, bound = lower_bound_requests(encoded, args.limit)
    raw = sum(len(e) for e in encoded)
    print(f"synthetic metadata: {n:,} tables x {args.columns} columns, {raw / 1e6:,.1f} MB JSON, "
          f"{total_gzip / 1e6:,.2f} MB gzip as one stream")
    print(f"build events:            {build_s:6.2f} s  ({n / build_s:,.0f} assets/s)")
    print(f"validate manifest:       {validate_s:6.2f} s  ({n / validate_s:,.0f} assets/s)")
    print(f"encode + batch + gzip:   {batch_s:6.2f} s  ({n / batch_s:,.0f} assets/s, {raw / 1e6 / batch_s:,.0f} MB/s)")
    print(f"requests: {len(plans)} planned vs lower bound ceil({total_gzip:,} / {args.limit:,}) = {bound} "
          f"-> ratio {len(plans) / bound:.3f} (goal <= 1.10)")
    print(f"largest planned batch: {max(p.estimated_gzip for p in plans):,} B gzip (limit {args.limit:,})")
    print(f"peak RSS so far: {peak_rss_mb():,.0f} MB")
    del encoded

    if args.no_push:
        return
    from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
    from monte_carlo_sandbox.testing import SandboxProcess

    with tempfile.TemporaryDirectory() as tmp, SandboxProcess(workdir=tmp) as sandbox:
        os.environ["AIRFLOW_CONN_MONTE_CARLO_DEFAULT"] = sandbox.connection_uri_json("snowflake")
        os.environ["MONTE_CARLO_PUSH_STATE_PATH"] = str(Path(tmp) / "state")
        op = MonteCarloPushOperator(task_id="push", manifests=manifest, min_push_interval=None,
                                    max_compressed_bytes=args.limit)
        ti = SimpleNamespace(dag_id="bench", run_id="bench", task_id="push", map_index=-1, try_number=1)
        t = time.perf_counter()
        result = op.execute({"ti": ti})
        push_s = time.perf_counter() - t
        stored = sandbox.stats()
        sizes = [b["gzip_bytes"] for b in result["batches"]]
        print(f"push to sandbox:         {push_s:6.2f} s  ({n / push_s:,.0f} assets/s end to end, "
              f"{len(sizes)} requests, largest {max(sizes):,} B gzip, all accepted: {stored['accepted'] == len(sizes)})")
        print(f"requests sent vs lower bound: {len(sizes)} / {bound} = {len(sizes) / bound:.3f}")
        print(f"peak RSS (build + batch + push, one process): {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
