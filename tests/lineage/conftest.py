from __future__ import annotations

from monte_carlo_push_provider.lineage import LineageResult


def edges(result: LineageResult) -> set[tuple[str | None, str, str, str]]:
    """Column lineage flattened to (downstream_table, downstream_column, upstream_table, upstream_column)."""
    return {
        (item.downstream_table, item.downstream_column, up.table, up.column)
        for item in result.column_lineage
        for up in item.upstreams
    }


def tables(result: LineageResult) -> tuple[set[str], set[str]]:
    return set(result.in_tables), set(result.out_tables)
