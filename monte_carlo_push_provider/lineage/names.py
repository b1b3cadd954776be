"""Turning sqlglot table nodes into the qualified names lineage reports.

Names are spelled the way the warehouse stores them, so a table's name in lineage equals its
name in the metadata push (:func:`fold`): Snowflake upper-cases unquoted identifiers and keeps
quoted ones; Postgres lower-cases unquoted ones and keeps quoted ones; Redshift (by default)
lower-cases both; BigQuery table and dataset names are case-sensitive and kept as written;
Databricks, Spark and Hive are case-insensitive and store lower case. The same rule makes the batch resolver see ``Orders`` and
``"ORDERS"`` as one Snowflake table. Names are only as qualified as the SQL plus the session
defaults allow: ``orders`` with ``default_database="db"`` and no default schema is ``db.orders``,
never a guessed ``db.public.orders``. Defaults are used as given (they come from the warehouse,
already spelled as it stores them).
"""

from __future__ import annotations

import functools
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


# How each dialect stores an identifier: "upper" / "lower" fold unquoted identifiers and keep
# quoted ones; "insensitive" lower-cases both; "keep" keeps both as written.
_CASE_RULES = {
    "snowflake": "upper",
    "oracle": "upper",
    # Redshift folds quoted identifiers too unless the cluster sets
    # enable_case_sensitive_identifier (off by default), so its catalog, and the metadata push,
    # spell every name lower-case.
    "redshift": "insensitive",
    "postgres": "lower",
    "": "lower",
    "bigquery": "keep",
    "databricks": "insensitive",
    "spark": "insensitive",
    "spark2": "insensitive",
    "hive": "insensitive",
}


@functools.cache
def case_rule(dialect: str) -> str:
    rule = _CASE_RULES.get(dialect)
    if rule is not None:
        return rule
    from sqlglot.dialects.dialect import Dialect, NormalizationStrategy

    strategy = Dialect.get_or_raise(dialect or None).NORMALIZATION_STRATEGY
    return {
        NormalizationStrategy.UPPERCASE: "upper",
        NormalizationStrategy.CASE_INSENSITIVE: "insensitive",
        NormalizationStrategy.CASE_SENSITIVE: "keep",
    }.get(strategy, "lower")


def fold(text: str, quoted: bool, dialect: str) -> str:
    """``text`` spelled as ``dialect`` stores an identifier written ``text`` (quoted or not)."""
    rule = case_rule(dialect)
    if rule == "keep" or (quoted and rule != "insensitive"):
        return text
    return text.upper() if rule == "upper" else text.lower()


def fold_identifier(identifier: exp.Identifier, dialect: str) -> str:
    return fold(identifier.name, bool(identifier.args.get("quoted")), dialect)


def table_parts(table: exp.Table, dialect: str = "") -> list[str] | None:
    """The dotted parts of a table reference spelled per :func:`fold`; None for table functions."""
    if not isinstance(table.this, exp.Identifier):
        return None  # TABLE(FLATTEN(...)), a function call in FROM, a placeholder
    parts: list[str] = []
    for part in table.parts:
        if not isinstance(part, exp.Identifier):
            return None
        if not part.name:
            return None
        parts.append(fold_identifier(part, dialect))
    return parts


def qualify_parts(
    parts: list[str], dialect: str, default_database: str | None, default_schema: str | None
) -> str:
    """Apply dialect naming rules and session defaults to dotted parts; return the dotted name."""
    if dialect == "bigquery":
        parts = [*parts[:-1], normalize_bigquery_name(parts[-1])]
    if len(parts) == 1:
        prefix = [p for p in (default_database, default_schema) if p]
        parts = [*prefix, *parts]
    elif len(parts) == 2 and default_database:
        parts = [default_database, *parts]
    return ".".join(parts)


def qualified_name(
    table: exp.Table, dialect: str, default_database: str | None, default_schema: str | None
) -> str | None:
    parts = table_parts(table, dialect)
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
