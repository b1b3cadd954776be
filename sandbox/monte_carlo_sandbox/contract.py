"""The push contract's value sets and size rule, as the sandbox enforces them.

Written from the push contract (the gateway's documented behaviour) and pycarlo 0.15.500's models,
not imported from the provider: the sandbox is the second opinion on what the provider sends, so
a value the provider gets wrong must not become right here too. The provider's test suite checks
that the two agree (``tests/sandbox/test_contract.py``); when they differ, this side follows the
contract and the provider is fixed.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timezone

#: ``RelationalAsset.type`` values a metadata push may carry: exactly these, upper-case. A
#: warehouse-native value (``BASE TABLE``, ``MATERIALIZED VIEW``, ``EXTERNAL``...) is a 400.
ASSET_TYPES = frozenset({"TABLE", "VIEW"})
#: ``LineageAssetRef.type`` values the gateway accepts (the four pycarlo documents).
LINEAGE_ASSET_TYPES = frozenset({"TABLE", "VIEW", "EXTERNAL", "WILDCARD_TABLE"})
#: ``resource.log_type`` values Monte Carlo's query-log normaliser knows (``hive-s3``, not
#: ``hive``); anything else fails there with ``Unsupported ingest query-log log_type``.
QUERY_LOG_TYPES = frozenset(
    {
        "snowflake",
        "bigquery",
        "databricks",
        "databricks-metastore-sql-warehouse",
        "redshift",
        "hive-s3",
        "athena",
        "teradata",
        "clickhouse",
        "s3",
        "presto-s3",
    }
)

#: The compressed-body limit: a Kinesis record behind the gateway, "1 MB" read as the stricter
#: decimal megabyte.
MAX_COMPRESSED_BYTES = 1_000_000
#: gzip level the size is measured at (zlib's and gzip(1)'s default).
GZIP_LEVEL = 6


def gzip_size(body: bytes) -> int:
    """Length of ``body`` gzip-compressed at :data:`GZIP_LEVEL` (header and trailer included)."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return len(compressor.compress(body)) + len(compressor.flush())


class TimestampError(ValueError):
    """A timestamp the gateway would not take (not ISO-8601, or not UTC)."""


def parse_utc(value: str, *, field: str) -> datetime:
    """Parse an ISO-8601 string that must carry UTC (``Z`` or ``+00:00``)."""
    if not isinstance(value, str):
        raise TimestampError(f"{field} must be an ISO-8601 string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise TimestampError(
            f"{field} must be an ISO-8601 timestamp like 2026-11-25T10:00:00Z, got {value!r}"
        ) from None
    if parsed.tzinfo is None:
        raise TimestampError(f"{field} has no time zone ({value!r}); send UTC with a trailing Z")
    if parsed.utcoffset() != timezone.utc.utcoffset(None):
        raise TimestampError(f"{field} must be in UTC, got offset {value!r}; convert with .astimezone(timezone.utc)")
    return parsed
