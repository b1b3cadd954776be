"""Databricks (Unity Catalog) collectors through Airflow's ``DatabricksSqlHook``.

- :class:`DatabricksMetadataCollectorOperator`: tables, views and columns of one or more catalogs
  (map it per catalog with ``.expand(catalogs=[...])``);
- :class:`DatabricksLineageCollectorOperator`: table and column lineage from
  ``system.access.*_lineage`` for the DAG run's data interval;
- :class:`DatabricksQueryLogCollectorOperator`: ``system.query.history`` for the data interval;
- :class:`DatabricksViewLineageCollectorOperator`: lineage of every view, parsed from its
  definition in ``information_schema.views``.

Each declares its parameters and returns a manifest v1 for
:class:`~monte_carlo_push_provider.operators.push.MonteCarloPushOperator`; the SQL and its policy
are the collectors' in :mod:`monte_carlo_push_provider.collectors.databricks` (stdlib only). The
Databricks provider and its connector are imported inside ``execute``: DAG files importing this
module stay cheap to parse. Grants each one needs: ``docs/databricks.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from monte_carlo_push_provider.collectors.base import check_choice
from monte_carlo_push_provider.collectors.databricks import (
    DEFAULT_CONN_ID,
    DEFAULT_EXCLUDED_CATALOGS,
    DEFAULT_SYSTEM_TABLE_LAG,
    LOG_TYPES,
    VOLUME_SOURCES,
    DatabricksLineageCollector,
    DatabricksMetadataCollector,
    DatabricksQueryLogCollector,
    DatabricksViewLineageCollector,
)
from monte_carlo_push_provider.operators.base import (
    BaseCollectorOperator,
    WindowedCollectorMixin,
    refuse_metadata_options,
)

if TYPE_CHECKING:
    from airflow.providers.databricks.hooks.databricks_sql import DatabricksSqlHook


class _DatabricksCollectorOperator(BaseCollectorOperator):
    """Connection handling shared by the Databricks collectors.

    :param databricks_conn_id: an Airflow ``databricks`` connection (templated).
    :param http_path: SQL warehouse HTTP path (default: the connection's ``http_path`` extra; templated).
    :param sql_warehouse_name: SQL warehouse name, looked up when no ``http_path`` is given (templated).
    :param fetch_size: rows per ``fetchmany``.
    """

    template_fields: Sequence[str] = (
        *BaseCollectorOperator.template_fields, "databricks_conn_id", "http_path", "sql_warehouse_name",
    )

    def __init__(
        self,
        *,
        databricks_conn_id: str = DEFAULT_CONN_ID,
        http_path: str | None = None,
        sql_warehouse_name: str | None = None,
        fetch_size: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.databricks_conn_id = databricks_conn_id
        self.http_path = http_path
        self.sql_warehouse_name = sql_warehouse_name
        self.fetch_size = fetch_size

    def get_source(self) -> DatabricksSqlHook:
        from airflow.providers.databricks.hooks.databricks_sql import DatabricksSqlHook

        return DatabricksSqlHook(
            databricks_conn_id=self.databricks_conn_id,
            http_path=self.http_path,
            sql_endpoint_name=self.sql_warehouse_name,
            caller=type(self).__name__,
        )

    # the public name the operator had before the template; kept for DAGs that call it
    get_hook = get_source


class _WindowedCollectorOperator(WindowedCollectorMixin, _DatabricksCollectorOperator):
    """Reads a system table over the data interval shifted back by ``lag``.

    :param lag: system-table latency (default 1 hour: Databricks documents query-history records
        as typically available within an hour). Consecutive runs still tile time exactly.
    :param start: explicit window start (ISO-8601 or datetime; templated), overrides the interval.
    :param end: explicit window end (templated).
    """

    template_fields: Sequence[str] = (*_DatabricksCollectorOperator.template_fields, "start", "end")
    default_lag: ClassVar[timedelta] = DEFAULT_SYSTEM_TABLE_LAG


class DatabricksMetadataCollectorOperator(_DatabricksCollectorOperator):
    """Collect tables, views and columns (with freshness, and bytes where selected) of Unity
    Catalog catalogs and return one metadata manifest (resource_type ``databricks``).

    :param catalogs: include patterns for catalog names (globs, or ``re:`` regexes), or one name;
        ``None`` means every catalog in ``system.information_schema.catalogs``. Plain names
        (no glob characters) skip that listing query; exclude patterns still apply to them. Templated.
    :param exclude_catalogs: exclude patterns (default: ``system``, ``__databricks_internal``,
        ``hive_metastore``, ``samples``). Templated.
    :param schemas: include patterns for schema names. Templated.
    :param exclude_schemas: exclude patterns for schema names. Templated.
    :param volume_source: ``"information_schema"`` (default; freshness from ``last_altered``, no
        extra statements), ``"describe_detail"`` (bytes and last data commit, one statement per
        Delta table — see docs/databricks.md for the cost) or ``None`` (schema only).
    :param describe_detail_max_tables: cap on DESCRIBE DETAIL statements per catalog.
    :param only_freshness_and_volume: skip columns, view text, descriptions (hourly runs).
    :param collect_tags: send Unity Catalog table tags as ``RelationalAsset.tags`` (one query per
        catalog on ``information_schema.table_tags``; full-schema runs only). A catalog whose
        ``table_tags`` cannot be read gets one warning and its tables without tags
        (``stats.tags.unavailable`` in the manifest). ``False`` skips the query.
    :param databricks_conn_id: see :class:`_DatabricksCollectorOperator`.
    """

    template_fields: Sequence[str] = (
        *_DatabricksCollectorOperator.template_fields, "catalogs", "exclude_catalogs", "schemas", "exclude_schemas",
    )

    def __init__(
        self,
        *,
        catalogs: Sequence[str] | str | None = None,
        exclude_catalogs: Sequence[str] | str | None = DEFAULT_EXCLUDED_CATALOGS,
        schemas: Sequence[str] | str | None = None,
        exclude_schemas: Sequence[str] | str | None = None,
        volume_source: str | None = "information_schema",
        describe_detail_max_tables: int | None = None,
        only_freshness_and_volume: bool = False,
        collect_tags: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_choice("volume_source", volume_source, VOLUME_SOURCES)
        self.catalogs = catalogs
        self.exclude_catalogs = exclude_catalogs
        self.schemas = schemas
        self.exclude_schemas = exclude_schemas
        self.volume_source = volume_source
        self.describe_detail_max_tables = describe_detail_max_tables
        self.only_freshness_and_volume = only_freshness_and_volume
        self.collect_tags = collect_tags

    def make_collector(self) -> DatabricksMetadataCollector:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return DatabricksMetadataCollector(
            catalogs=self.catalogs,
            exclude_catalogs=self.exclude_catalogs,
            schema_filter=NameFilter(self.schemas, self.exclude_schemas),
            volume_source=self.volume_source,
            describe_detail_max_tables=self.describe_detail_max_tables,
            only_freshness_and_volume=self.only_freshness_and_volume,
            collect_tags=self.collect_tags,
            fetch_size=self.fetch_size,
        )


class DatabricksLineageCollectorOperator(_WindowedCollectorOperator):
    """Table and column lineage from ``system.access.table_lineage`` / ``column_lineage`` for the
    run's data interval (minus ``lag``): one table-level event per target table and, with
    ``column_lineage``, one column-level event per target table. No SQL parsing: Unity Catalog
    records lineage itself.

    :param catalogs: include patterns on the *target* table's catalog (sources may be anywhere). Templated.
    :param exclude_catalogs: exclude patterns on the target's catalog (default: ``system``, …). Templated.
    :param column_lineage: also read ``column_lineage`` (column events expire in Monte Carlo
        after 10 days; table events never do).
    """

    template_fields: Sequence[str] = (*_WindowedCollectorOperator.template_fields, "catalogs", "exclude_catalogs")

    def __init__(
        self,
        *,
        catalogs: Sequence[str] | str | None = None,
        exclude_catalogs: Sequence[str] | str | None = DEFAULT_EXCLUDED_CATALOGS,
        column_lineage: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.catalogs = catalogs
        self.exclude_catalogs = exclude_catalogs
        self.column_lineage = column_lineage

    def make_collector(self) -> DatabricksLineageCollector:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return DatabricksLineageCollector(
            catalog_filter=NameFilter(self.catalogs, self.exclude_catalogs),
            column_lineage=self.column_lineage,
            fetch_size=self.fetch_size,
        )


class DatabricksQueryLogCollectorOperator(_WindowedCollectorOperator):
    """Statements from ``system.query.history`` that ended in the run's data interval (minus
    ``lag``), as a query-logs manifest. Statements with empty text or an end before their start
    are skipped and counted in ``manifest["stats"]["skipped"]``.

    :param log_type: ``"databricks"`` (default) or ``"databricks-metastore-sql-warehouse"`` —
        whichever your Monte Carlo Databricks connection's query-log type is. Templated.
    :param workspace_id: only this workspace's statements (the table is account-wide for the
        region); default: all workspaces the reader may see. Templated.
    """

    template_fields: Sequence[str] = (*_WindowedCollectorOperator.template_fields, "log_type", "workspace_id")

    def __init__(self, *, log_type: str = "databricks", workspace_id: str | int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_choice("log_type", log_type, LOG_TYPES)
        self.log_type = log_type
        self.workspace_id = workspace_id

    def make_collector(self) -> DatabricksQueryLogCollector:
        return DatabricksQueryLogCollector(
            log_type=self.log_type, workspace_id=self.workspace_id, fetch_size=self.fetch_size
        )


class DatabricksViewLineageCollectorOperator(DatabricksMetadataCollectorOperator):
    """Table and column lineage of every view (materialized views included), parsed from each
    catalog's ``information_schema.views.view_definition`` by the SQL lineage engine, and return a
    lineage manifest: lineage with no ``system.access`` lineage tables.

    Names are spelled as the metadata push spells them. The catalog is read now (no window); a
    lineage manifest without a window is pushed every run (edges are idempotent, and re-sending
    keeps column lineage from expiring after 10 days in Monte Carlo): daily is enough for views.
    Definitions that do not parse are skipped and counted in ``manifest["stats"]["skipped"]``.

    :param column_lineage: also send column mappings (default True).
    :param catalogs: see :class:`DatabricksMetadataCollectorOperator` (as are
        ``exclude_catalogs``, ``schemas``, ``exclude_schemas`` and ``databricks_conn_id`` …).
    """

    def __init__(self, *, column_lineage: bool = True, **kwargs: Any) -> None:
        refuse_metadata_options(kwargs, "only_freshness_and_volume", "collect_tags", "volume_source", "describe_detail_max_tables")
        super().__init__(collect_tags=False, volume_source=None, **kwargs)
        self.column_lineage = column_lineage

    def make_collector(self) -> DatabricksViewLineageCollector:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return DatabricksViewLineageCollector(
            catalogs=self.catalogs,
            exclude_catalogs=self.exclude_catalogs,
            schema_filter=NameFilter(self.schemas, self.exclude_schemas),
            column_lineage=self.column_lineage,
            fetch_size=self.fetch_size,
        )
