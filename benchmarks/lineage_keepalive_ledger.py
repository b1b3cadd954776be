"""Column-lineage keep-alive ledger cost: size on disk, load, save and refresh-selection time of
the ledger of one resource with N edges (each a column-lineage event of ``--columns`` mapped
columns from one source table), on local disk. The push saves the ledger after each accepted
lineage batch and loads it once per push.

    .venv/bin/python benchmarks/lineage_keepalive_ledger.py                  # 1,000 / 10,000 edges
    .venv/bin/python benchmarks/lineage_keepalive_ledger.py --edges 2000 --columns 40
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NOW = datetime(2026, 11, 25, tzinfo=timezone.utc)


def main() -> None:
    from monte_carlo_push_provider.manifest import lineage_asset_ref, lineage_event
    from monte_carlo_push_provider.utils.lineage_refresh import KeepAliveLedger, edge_key, ledger_path
    from monte_carlo_push_provider.utils.push_state import PushState

    parser = argparse.ArgumentParser()
    parser.add_argument("--edges", type=int, nargs="*", default=[1_000, 10_000])
    parser.add_argument("--columns", type=int, default=20)
    args = parser.parse_args()
    print(f"{'edges':>7} {'columns':>7} {'file':>9} {'load':>8} {'save':>8} {'select':>8}")
    for n in args.edges:
        with tempfile.TemporaryDirectory() as root:
            state = PushState(root)
            ledger = KeepAliveLedger(state, "uuid", "snowflake")
            for i in range(n):
                src = lineage_asset_ref(name=f"raw_table_{i}", database="ANALYTICS", schema="RAW", asset_id="s")
                dst = lineage_asset_ref(name=f"mart_table_{i}", database="ANALYTICS", schema="MART", asset_id="d")
                event = lineage_event(dst, [src], {f"column_{c}": [("s", f"column_{c}")] for c in range(args.columns)})
                key = edge_key(event)
                ledger.seen(key, event, NOW - timedelta(days=i % 20))
                ledger.pushed(key, event, "2026-11-15T00:00:00Z", "inv", refresh=False)
            started = time.perf_counter()
            ledger.save()
            save = time.perf_counter() - started
            size = os.path.getsize(ledger_path(state, "uuid", "snowflake").path)
            started = time.perf_counter()
            loaded = KeepAliveLedger(state, "uuid", "snowflake")
            load = time.perf_counter() - started
            started = time.perf_counter()
            due = loaded.due(NOW, timedelta(days=7), set())
            select = time.perf_counter() - started
            assert len(due) == n
            print(f"{n:>7,} {args.columns:>7} {size / 1e6:>7.1f}MB {load * 1000:>6.0f}ms {save * 1000:>6.0f}ms "
                  f"{select * 1000:>6.0f}ms")


if __name__ == "__main__":
    main()
