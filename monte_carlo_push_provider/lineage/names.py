"""Turning sqlglot table nodes into the qualified names lineage reports.

Names are lower-cased (Monte Carlo matches warehouse identifiers case-insensitively, and the
batch resolver must see ``Orders`` and ``"ORDERS"`` as one table) and only as qualified as the SQL
plus the session defaults allow: ``orders`` with ``default_database="db"`` and no default schema
is ``db.orders``, never a guessed ``db.public.orders``.
"""

from __future__ import annotations

import re

from sqlglot import exp

# BigQuery date-sharded tables (``events_20240101``, queried as ``events_2024*``) are one logical
# table; Monte Carlo and DataHub both name it ``events_yyyymmdd``.
_SHARD_RE = re.compile(r"^(?P<prefix>.+_)(?P<y>(?:19|20)\d\d)(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])$")
_SHARD_WILDCARD_RE = re.compile(r"^(?P<prefix>.+_)\d{0,8}\*$")
SHARD_SUFFIX = "yyyymmdd"


def normalize_bigquery_name(name: str) -> str:
    """Strip a partition decorator (``t$20240101``) and collapse date shards to ``_yyyymmdd``."""
    name = name.split("$", 1)[0]
    m = _SHARD_RE.match(name) or _SHARD_WILDCARD_RE.match(name)
    if m:
        return m.group("prefix") + SHARD_SUFFIX
    return name


def table_parts(table: exp.Table) -> list[str] | None:
    """The raw, lower-cased dotted parts of a table reference, or None for table functions."""
    if not isinstance(table.this, exp.Identifier):
        return None  # TABLE(FLATTEN(...)), a function call in FROM, a placeholder
    parts: list[str] = []
    for part in table.parts:
        if not isinstance(part, exp.Identifier):
            return None
        text = part.name
        if not text:
            return None
        parts.append(text.lower())
    return parts


def qualify_parts(
    parts: list[str], dialect: str, default_database: str | None, default_schema: str | None
) -> str:
    """Apply dialect naming rules and session defaults to dotted parts; return the dotted name."""
    if dialect == "bigquery":
        parts = [*parts[:-1], normalize_bigquery_name(parts[-1])]
    if len(parts) == 1:
        prefix = [p.lower() for p in (default_database, default_schema) if p]
        parts = [*prefix, *parts]
    elif len(parts) == 2 and default_database:
        parts = [default_database.lower(), *parts]
    return ".".join(parts)


def qualified_name(
    table: exp.Table, dialect: str, default_database: str | None, default_schema: str | None
) -> str | None:
    parts = table_parts(table)
    if parts is None:
        return None
    return qualify_parts(parts, dialect, default_database, default_schema)


def split_name(name: str) -> tuple[str, str, str] | None:
    """``db.schema.table`` -> (database, schema, name); None when the name has fewer than 3 parts.

    Names with more parts keep the rest in the table name (BigQuery
    ``project.dataset.INFORMATION_SCHEMA.COLUMNS``).
    """
    parts = name.split(".")
    if len(parts) < 3:
        return None
    return parts[0], parts[1], ".".join(parts[2:])


def is_temp_name(name: str) -> bool:
    """Redshift / SQL Server session-temporary names start with ``#``."""
    return name.rsplit(".", 1)[-1].startswith("#")
