from __future__ import annotations

from monte_carlo_push_provider.lineage import LineageResult


def edges(result: LineageResult) -> set[tuple[str | None, str, str, str]]:
    """Column lineage flattened to (downstream_table, downstream_column, upstream_table, upstream_column).

    Lower-cased: these tests are about structure; the case rules per dialect are asserted
    exactly in test_names.py.
    """
    return {
        (_lower(item.downstream_table), item.downstream_column.lower(), up.table.lower(), up.column.lower())
        for item in result.column_lineage
        for up in item.upstreams
    }


def tables(result: LineageResult) -> tuple[set[str], set[str]]:
    """(in_tables, out_tables), lower-cased (see :func:`edges`)."""
    return {t.lower() for t in result.in_tables}, {t.lower() for t in result.out_tables}


def _lower(name: str | None) -> str | None:
    return None if name is None else name.lower()
