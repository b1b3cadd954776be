"""A small push of all three kinds (tests/sensors/sample_manifests.py), pushed to the sandbox for
the sensor and trigger tests."""

from __future__ import annotations

from typing import Any

from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from tests.conftest import make_context
from tests.sensors.sample_manifests import DAILY, ORDERS, manifests

__all__ = ["DAILY", "EXACT", "ORDERS", "manifests", "push_all"]

def push_all(run_id: str = "manual__test", *, force: bool = False) -> dict[str, Any]:
    """One push of the sample; another ``run_id`` is another task instance (no resumed batches).
    ``force=True`` re-sends query logs an earlier run already pushed (the pushed ledger would
    otherwise skip them: exactly once)."""
    op = MonteCarloPushOperator(task_id="push", manifests=manifests(), min_push_interval=None,
                                retry_base_delay_s=0.01, retry_max_delay_s=0.05, force=force)
    return op.execute(make_context(task_id="push", run_id=run_id))


#: Everything the push above sent, spelled out (fields, row counts, exact edges and columns).
EXACT = {
    "tables": [
        {"full_table_id": ORDERS, "fields": ["id", "amount"], "row_count": 42},
        {"full_table_id": DAILY, "fields": ["day", "total"], "row_count": 7},
    ],
    "lineage_edges": [{"destination": DAILY, "sources": [ORDERS], "columns": {"total": [(ORDERS, "amount")]}}],
    "query_tables": [DAILY],
}
