"""Column-lineage keep-alive ledger cost: size on disk, load, save and refresh-selection time of
the ledger of one resource with N edges (each a column-lineage event of ``--columns`` mapped
columns from one source table), on local disk, as the push writes it (compact JSON, gzip level 1).
The push loads it once per push and saves it after an accepted lineage batch that changed it.

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
    print("wall-clock ms (CPU ms of this process in brackets: the machine is shared)")
    print(f"{'edges':>7} {'columns':>7} {'file':>9} {'load':>14} {'save':>14} {'select':>8}")
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
                ledger.pushed(key, event, NOW - timedelta(days=10), "inv", refresh=False)
            started, cpu = time.perf_counter(), time.process_time()
            ledger.save()
            save, save_cpu = time.perf_counter() - started, time.process_time() - cpu
            size = os.path.getsize(ledger_path(state, "uuid", "snowflake").path)
            started, cpu = time.perf_counter(), time.process_time()
            loaded = KeepAliveLedger(state, "uuid", "snowflake")
            load, load_cpu = time.perf_counter() - started, time.process_time() - cpu
            started = time.perf_counter()
            due = loaded.due(NOW, timedelta(days=7), set())
            select = time.perf_counter() - started
            assert len(due) == n
            print(f"{n:>7,} {args.columns:>7} {size / 1e6:>7.2f}MB {load * 1000:>6.0f} ({load_cpu * 1000:>5.0f}) "
                  f"{save * 1000:>6.0f} ({save_cpu * 1000:>5.0f}) {select * 1000:>8.0f}")


if __name__ == "__main__":
    main()
