"""Metadata and view-lineage collectors for any database Airflow's common.sql ``DbApiHook`` reaches.

The catalog SQL and its policy live in :mod:`monte_carlo_push_provider.collectors.sql`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from monte_carlo_push_provider.collectors.base import check_choice
from monte_carlo_push_provider.collectors.sql import FAMILIES, SqlMetadataCollector, SqlViewLineageCollector
from monte_carlo_push_provider.operators.base import BaseCollectorOperator

if TYPE_CHECKING:
    from airflow.providers.common.sql.hooks.sql import DbApiHook


class SqlMetadataCollectorOperator(BaseCollectorOperator):
    """Collect tables and views (with columns, row and byte counts where the database knows them)
    through any common.sql hook, and return a metadata manifest.

    The hook is made the way common.sql's ``BaseSQLOperator`` makes it (``BaseSQLOperator.get_hook``:
    the connection's extras merged into ``hook_params``), and the catalog SQL is chosen from the
    hook's ``dialect_name``. The operator does not subclass ``BaseSQLOperator``: importing it at
    DAG-parse time loads common.sql's hook module and sqlparse (about 30 ms per DAG file), and
    this package keeps providers out of parse time (``tests/test_dag_parse_cost.py``).

    :param conn_id: an Airflow connection whose hook is a ``DbApiHook`` (sqlite, postgres, …). Templated.
    :param database: the database name Monte Carlo shows (SQLite has none of its own). Templated.
        This names the tables in Monte Carlo; it does not choose what the hook connects to (use
        ``hook_params``, e.g. ``{"database": "shop"}`` for PostgreSQL).
    :param resource_type: Monte Carlo connection type of the warehouse the push lands in.
    :param hook_params: keyword arguments for the hook (templated), as common.sql operators take them.
    :param schemas: include patterns for schema names (globs, or ``re:`` regexes). Templated.
    :param exclude_schemas: exclude patterns for schema names. Templated.
    :param only_freshness_and_volume: skip columns, view text and descriptions (hourly runs).
    :param catalog: force the catalog SQL family: ``sqlite``, ``postgres`` or ``information_schema``
        (default: from the hook's ``dialect_name``).
    :param fetch_size: rows per ``fetchmany``.
    :param resource_uuid: see :class:`~monte_carlo_push_provider.operators.base.BaseCollectorOperator`.
    """

    conn_id_field = "conn_id"
    template_fields: Sequence[str] = (
        "conn_id", "database", "hook_params", "resource_uuid", "schemas", "exclude_schemas",
    )

    def __init__(
        self,
        *,
        conn_id: str,
        database: str,
        resource_type: str,
        hook_params: dict[str, Any] | None = None,
        schemas: Sequence[str] | str | None = None,
        exclude_schemas: Sequence[str] | str | None = None,
        only_freshness_and_volume: bool = False,
        catalog: str | None = None,
        fetch_size: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_choice("catalog", catalog, (None, *FAMILIES))
        self.conn_id = conn_id
        self.database = database
        self.resource_type = resource_type
        self.hook_params = hook_params or {}
        self.schemas = schemas
        self.exclude_schemas = exclude_schemas
        self.only_freshness_and_volume = only_freshness_and_volume
        self.catalog = catalog
        self.fetch_size = fetch_size

    def get_source(self) -> DbApiHook:
        """The connection's ``DbApiHook``, made as ``BaseSQLOperator`` makes it."""
        from airflow.providers.common.sql.hooks.sql import DbApiHook
        from airflow.providers.common.sql.operators.sql import BaseSQLOperator

        hook = BaseSQLOperator.get_hook(self.conn_id, dict(self.hook_params))
        if not isinstance(hook, DbApiHook):
            raise TypeError(
                f"connection {self.conn_id!r} gives a {type(hook).__name__}, not a common.sql DbApiHook; "
                "use the warehouse's own collector operator, or a connection type with a common.sql hook"
            )
        return hook

    def make_collector(self) -> SqlMetadataCollector:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return SqlMetadataCollector(
            database=self.database,
            resource_type=self.resource_type,
            schema_filter=NameFilter(self.schemas, self.exclude_schemas),
            family=self.catalog,
            only_freshness_and_volume=self.only_freshness_and_volume,
            fetch_size=self.fetch_size,
        )


class SqlViewLineageCollectorOperator(SqlMetadataCollectorOperator):
    """Table and column lineage of every view, parsed from the view definitions in the catalog
    (SQLite ``sqlite_schema.sql``, PostgreSQL ``pg_get_viewdef``, elsewhere
    ``information_schema.views.view_definition``) by the SQL lineage engine, and return a
    lineage manifest: lineage with no query history, on any common.sql database.

    The catalog is read now (no window); the engine's dialect follows the hook's
    ``dialect_name``. A lineage manifest without a window is pushed every run (edges are
    idempotent, and re-sending keeps column lineage from expiring after 10 days in Monte Carlo):
    daily is enough for views.

    :param conn_id: see :class:`SqlMetadataCollectorOperator` (as are ``database``,
        ``resource_type``, ``hook_params``, ``schemas``, ``exclude_schemas``, ``catalog``,
        ``fetch_size`` and ``resource_uuid``).
    :param column_lineage: also send column mappings (default True; Monte Carlo keeps column
        lineage 10 days, table lineage for good).
    :param dialect: the lineage engine's SQL dialect (a sqlglot name), default from the hook's
        ``dialect_name``.
    """

    def __init__(self, *, column_lineage: bool = True, dialect: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.only_freshness_and_volume:
            raise ValueError("only_freshness_and_volume does not apply to view lineage; remove it")
        self.column_lineage = column_lineage
        self.dialect = dialect

    def make_collector(self) -> SqlViewLineageCollector:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return SqlViewLineageCollector(
            database=self.database,
            resource_type=self.resource_type,
            schema_filter=NameFilter(self.schemas, self.exclude_schemas),
            family=self.catalog,
            column_lineage=self.column_lineage,
            dialect=self.dialect,
            fetch_size=self.fetch_size,
        )
