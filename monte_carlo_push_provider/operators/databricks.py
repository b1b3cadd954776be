"""Databricks (Unity Catalog) collectors through Airflow's ``DatabricksSqlHook``.

- :class:`DatabricksMetadataCollectorOperator`: tables, views and columns of one or more catalogs
  (map it per catalog with ``.expand(catalogs=[...])``);
- :class:`DatabricksLineageCollectorOperator`: table and column lineage from
  ``system.access.*_lineage`` for the DAG run's data interval;
- :class:`DatabricksQueryLogCollectorOperator`: ``system.query.history`` for the data interval.

Each returns a manifest v1 for :class:`~monte_carlo_push_provider.operators.push.MonteCarloPushOperator`.
The Databricks provider, its connector and the collector SQL are imported inside ``execute``:
DAG files importing this module stay cheap to parse. Grants each one needs: ``docs/databricks.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from monte_carlo_push_provider.operators.base import BaseCollectorOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

# Duplicated from collectors.databricks (not imported) so constructors validate without importing
# the collector module at DAG-parse time; tests check the two agree.
_VOLUME_SOURCES = ("information_schema", "describe_detail", None)
_LOG_TYPES = ("databricks", "databricks-metastore-sql-warehouse")
_DEFAULT_LAG = timedelta(hours=1)
_DEFAULT_EXCLUDED_CATALOGS = ("system", "__databricks_internal", "hive_metastore", "samples")


class _DatabricksCollectorOperator(BaseCollectorOperator):
    """Connection handling shared by the Databricks collectors.

    :param databricks_conn_id: an Airflow ``databricks`` connection.
    :param http_path: SQL warehouse HTTP path (default: the connection's ``http_path`` extra).
    :param sql_warehouse_name: SQL warehouse name, looked up when no ``http_path`` is given.
    :param fetch_size: rows per ``fetchmany``.
    """

    template_fields: Sequence[str] = ("databricks_conn_id", "http_path", "sql_warehouse_name", "resource_uuid")

    def __init__(
        self,
        *,
        databricks_conn_id: str = "databricks_default",
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

    def get_hook(self) -> Any:
        from airflow.providers.databricks.hooks.databricks_sql import DatabricksSqlHook

        return DatabricksSqlHook(
            databricks_conn_id=self.databricks_conn_id,
            http_path=self.http_path,
            sql_endpoint_name=self.sql_warehouse_name,
            caller=type(self).__name__,
        )


class _WindowedCollectorOperator(_DatabricksCollectorOperator):
    """Reads a system table over the data interval shifted back by ``lag``.

    :param lag: system-table latency (default 1 hour: Databricks documents query-history records
        as typically available within an hour). Consecutive runs still tile time exactly.
    :param start: explicit window start (ISO-8601 or datetime; templated), overrides the interval.
    :param end: explicit window end.
    """

    template_fields: Sequence[str] = (*_DatabricksCollectorOperator.template_fields, "start", "end")

    def __init__(
        self,
        *,
        lag: timedelta = _DEFAULT_LAG,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lag = lag
        self.start = start
        self.end = end

    def window(self, context: Context) -> tuple[datetime, datetime]:
        from monte_carlo_push_provider.collectors.common import query_window

        return query_window(context, lag=self.lag, start=self.start or None, end=self.end or None)


class DatabricksMetadataCollectorOperator(_DatabricksCollectorOperator):
    """Collect tables, views and columns (with freshness, and bytes where selected) of Unity
    Catalog catalogs and return one metadata manifest (resource_type ``databricks``).

    :param catalogs: include patterns for catalog names (globs, or ``re:`` regexes), or one name;
        ``None`` means every catalog in ``system.information_schema.catalogs``. Plain names
        (no glob characters) skip that listing query; exclude patterns still apply to them.
    :param exclude_catalogs: exclude patterns (default: ``system``, ``__databricks_internal``,
        ``hive_metastore``, ``samples``).
    :param schemas: include patterns for schema names.
    :param exclude_schemas: exclude patterns for schema names.
    :param volume_source: ``"information_schema"`` (default; freshness from ``last_altered``, no
        extra statements), ``"describe_detail"`` (bytes and last data commit, one statement per
        Delta table — see docs/databricks.md for the cost) or ``None`` (schema only).
    :param describe_detail_max_tables: cap on DESCRIBE DETAIL statements per catalog.
    :param only_freshness_and_volume: skip columns, view text, descriptions (hourly runs).
    """

    template_fields: Sequence[str] = (
        *_DatabricksCollectorOperator.template_fields, "catalogs", "exclude_catalogs", "schemas", "exclude_schemas",
    )

    def __init__(
        self,
        *,
        catalogs: Sequence[str] | str | None = None,
        exclude_catalogs: Sequence[str] | str | None = _DEFAULT_EXCLUDED_CATALOGS,
        schemas: Sequence[str] | str | None = None,
        exclude_schemas: Sequence[str] | str | None = None,
        volume_source: str | None = "information_schema",
        describe_detail_max_tables: int | None = None,
        only_freshness_and_volume: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if volume_source not in _VOLUME_SOURCES:
            raise ValueError(f"volume_source must be one of {_VOLUME_SOURCES}, got {volume_source!r}")
        self.catalogs = catalogs
        self.exclude_catalogs = exclude_catalogs
        self.schemas = schemas
        self.exclude_schemas = exclude_schemas
        self.volume_source = volume_source
        self.describe_detail_max_tables = describe_detail_max_tables
        self.only_freshness_and_volume = only_freshness_and_volume

    def _exact_catalogs(self) -> list[str] | None:
        """The catalogs when every include pattern is a plain name (no listing query needed)."""
        names = [self.catalogs] if isinstance(self.catalogs, str) else self.catalogs
        if not names or any(n.startswith("re:") or any(c in n for c in "*?[") for n in names):
            return None
        return list(dict.fromkeys(names))

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors import databricks as dbx
        from monte_carlo_push_provider.collectors.common import NameFilter
        from monte_carlo_push_provider.manifest import new_manifest

        self.start_timer()
        hook = self.get_hook()
        conn = hook.get_conn()
        try:
            catalog_filter = NameFilter(self.catalogs, self.exclude_catalogs)
            exact = self._exact_catalogs()
            if exact is not None:
                # Plain names skip the listing query (and its grant on system.information_schema);
                # exclude patterns still apply, so a name and an exclude never disagree silently.
                catalogs = catalog_filter.select(exact)
            else:
                catalogs = dbx.list_catalogs(conn, catalog_filter, fetch_size=self.fetch_size)
            self.log.info("collecting metadata of %d catalog(s): %s", len(catalogs), ", ".join(catalogs))
            events: list[dict[str, Any]] = []
            schema_filter = NameFilter(self.schemas, self.exclude_schemas)
            for catalog in catalogs:
                before = len(events)
                events.extend(
                    dbx.collect_metadata(
                        conn,
                        catalog,
                        schema_filter=schema_filter,
                        volume_source=self.volume_source,
                        only_freshness_and_volume=self.only_freshness_and_volume,
                        describe_detail_max_tables=self.describe_detail_max_tables,
                        fetch_size=self.fetch_size,
                    )
                )
                self.log.info("catalog %s: %d relation(s)", catalog, len(events) - before)
        finally:
            conn.close()
        info: dict[str, Any] = {"catalog": catalogs[0]} if len(catalogs) == 1 else {"catalogs": catalogs}
        manifest = new_manifest(
            "metadata", events, resource_type=dbx.RESOURCE_TYPE, resource_uuid=self.resource_uuid, **info
        )
        self.log_summary(manifest, f"{self.databricks_conn_id} ({', '.join(catalogs) or 'no catalogs'})")
        return manifest


class DatabricksLineageCollectorOperator(_WindowedCollectorOperator):
    """Table and column lineage from ``system.access.table_lineage`` / ``column_lineage`` for the
    run's data interval (minus ``lag``): one table-level event per target table and, with
    ``column_lineage``, one column-level event per target table. No SQL parsing: Unity Catalog
    records lineage itself.

    :param catalogs: include patterns on the *target* table's catalog (sources may be anywhere).
    :param exclude_catalogs: exclude patterns on the target's catalog (default: ``system``, …).
    :param column_lineage: also read ``column_lineage`` (column events expire in Monte Carlo
        after 10 days; table events never do).
    """

    template_fields: Sequence[str] = (*_WindowedCollectorOperator.template_fields, "catalogs", "exclude_catalogs")

    def __init__(
        self,
        *,
        catalogs: Sequence[str] | str | None = None,
        exclude_catalogs: Sequence[str] | str | None = _DEFAULT_EXCLUDED_CATALOGS,
        column_lineage: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.catalogs = catalogs
        self.exclude_catalogs = exclude_catalogs
        self.column_lineage = column_lineage

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors import databricks as dbx
        from monte_carlo_push_provider.collectors.common import NameFilter
        from monte_carlo_push_provider.manifest import new_manifest

        self.start_timer()
        start, end = self.window(context)
        self.log.info("reading Unity Catalog lineage recorded in [%s, %s)", start.isoformat(), end.isoformat())
        conn = self.get_hook().get_conn()
        try:
            events = dbx.collect_lineage(
                conn, start, end,
                catalog_filter=NameFilter(self.catalogs, self.exclude_catalogs),
                column_lineage=self.column_lineage,
                fetch_size=self.fetch_size,
            )
        finally:
            conn.close()
        manifest = new_manifest(
            "lineage", events, resource_type=dbx.RESOURCE_TYPE, resource_uuid=self.resource_uuid, window=(start, end)
        )
        self.log_summary(manifest, f"{self.databricks_conn_id} system.access lineage")
        return manifest


class DatabricksQueryLogCollectorOperator(_WindowedCollectorOperator):
    """Statements from ``system.query.history`` that ended in the run's data interval (minus
    ``lag``), as a query-logs manifest.

    :param log_type: ``"databricks"`` (default) or ``"databricks-metastore-sql-warehouse"`` —
        whichever your Monte Carlo Databricks connection's query-log type is.
    :param workspace_id: only this workspace's statements (the table is account-wide for the
        region); default: all workspaces the reader may see.
    """

    template_fields: Sequence[str] = (*_WindowedCollectorOperator.template_fields, "log_type", "workspace_id")

    def __init__(self, *, log_type: str = "databricks", workspace_id: str | int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if log_type not in _LOG_TYPES:
            raise ValueError(f"log_type must be one of {_LOG_TYPES}, got {log_type!r}")
        self.log_type = log_type
        self.workspace_id = workspace_id

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors import databricks as dbx
        from monte_carlo_push_provider.manifest import new_manifest

        self.start_timer()
        start, end = self.window(context)
        self.log.info("reading system.query.history for statements ended in [%s, %s)", start.isoformat(), end.isoformat())
        conn = self.get_hook().get_conn()
        try:
            events = list(
                dbx.collect_query_logs(
                    conn, start, end,
                    workspace_id=str(self.workspace_id) if self.workspace_id else None,
                    fetch_size=self.fetch_size,
                )
            )
        finally:
            conn.close()
        manifest = new_manifest(
            "query_logs", events, log_type=self.log_type, resource_uuid=self.resource_uuid, window=(start, end)
        )
        self.log_summary(manifest, f"{self.databricks_conn_id} system.query.history")
        return manifest
