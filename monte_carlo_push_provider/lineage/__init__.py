"""SQL lineage on sqlglot: tables and columns read/written by a statement, and lineage manifests.

    from monte_carlo_push_provider.lineage import extract_lineage
    r = extract_lineage(sql, "snowflake", default_database="db", default_schema="public")
    r.in_tables, r.out_tables, r.column_lineage

``build_lineage_manifest`` turns a batch of query-log rows into a lineage manifest, parsing each
query shape once (``ShapeCache``). Importing this package imports sqlglot and nothing else heavy.
"""

from __future__ import annotations

from .batch import LineageStats, QueryForLineage, build_lineage_manifest, lineage_manifest_from_queries
from .engine import (
    LineageError,
    LineageTimeoutError,
    QueryTooLargeError,
    UnparseableSQLError,
    extract_lineage,
)
from .results import ColumnLineage, ColumnRef, LineageResult
from .shapes import SHAPE_CACHE, ShapeCache

__all__ = [
    "ColumnLineage",
    "ColumnRef",
    "LineageError",
    "LineageResult",
    "LineageStats",
    "LineageTimeoutError",
    "QueryForLineage",
    "QueryTooLargeError",
    "SHAPE_CACHE",
    "ShapeCache",
    "UnparseableSQLError",
    "build_lineage_manifest",
    "extract_lineage",
    "lineage_manifest_from_queries",
]
