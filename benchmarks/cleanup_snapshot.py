"""Dropped-table cleanup benchmark: the snapshot of a large scope and the comparison.

Builds N metadata events (realistic Snowflake-style names), feeds them to the cleanup's
``ScopeTracker`` as pass 1 does, writes and reads the gzip snapshot, and diffs it against a
second collection with ``--dropped`` tables gone. Prints JSON figures.

    .venv/bin/python benchmarks/cleanup_snapshot.py                   # 100,000 tables, 250 dropped
    .venv/bin/python benchmarks/cleanup_snapshot.py --tables 20000 --dropped 10
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from monte_carlo_push_provider.manifest import new_manifest, relational_asset
    from monte_carlo_push_provider.utils.push_cleanup import ScopeTracker, read_snapshot, write_snapshot

    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", type=int, default=100_000)
    parser.add_argument("--dropped", type=int, default=250)
    args = parser.parse_args()
    scope = {"database": "ANALYTICS_PROD", "schemas": None}
    events = [relational_asset(type="TABLE", name=f"FCT_ORDER_EVENTS_{i:06d}", database="ANALYTICS_PROD",
                               schema=f"MART_{i % 40:02d}") for i in range(args.tables)]
    manifest = new_manifest("metadata", events, resource_type="snowflake", scope=scope, complete=True)

    started = time.perf_counter()
    tracker = ScopeTracker()
    tracker.add(manifest, 0, "resource")
    (seen,) = tracker.scopes.values()
    track_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        from monte_carlo_push_provider.utils.push_state import as_path

        path = as_path(Path(tmp) / "snapshot.json.gz")
        started = time.perf_counter()
        write_snapshot(path, {"snapshot_version": 1, "tables": sorted(seen.tables)})
        write_s = time.perf_counter() - started
        size = Path(tmp, "snapshot.json.gz").stat().st_size
        started = time.perf_counter()
        previous = set(read_snapshot(path)["tables"])  # type: ignore[index]
        current = set(sorted(seen.tables)[args.dropped:])
        dropped = sorted(previous - current)
        diff_s = time.perf_counter() - started
    print(json.dumps({
        "tables": args.tables, "dropped": len(dropped),
        "snapshot_gzip_bytes": size, "bytes_per_table": round(size / args.tables, 1),
        "track_pass1_s": round(track_s, 3), "write_snapshot_s": round(write_s, 3),
        "read_and_diff_s": round(diff_s, 3),
        "delete_calls": -(-len(dropped) // 1000),
    }, indent=1))


if __name__ == "__main__":
    main()
