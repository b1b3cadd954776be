"""Snowflake collectors: metadata, query logs and lineage through Airflow's ``SnowflakeHook``.

Each operator returns one manifest v1 for :class:`~monte_carlo_push_provider.operators.push.MonteCarloPushOperator`.
The Snowflake provider, the connector and sqlglot are imported inside ``execute`` only.

Typical DAGs (see ``example_dags/snowflake_*.py`` and ``docs/snowflake.md``):

- hourly ``SnowflakeMetadataCollectorOperator(only_freshness_and_volume=True)`` + a daily full one;
- hourly ``SnowflakeQueryLogCollectorOperator`` and ``SnowflakeLineageCollectorOperator``;
- one mapped collector per database: ``.partial(...).expand(database=[...])``, the push operator
  takes the list of manifests.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from monte_carlo_push_provider.collectors.snowflake import (
    ACCESS_HISTORY_LATENCY,
    DEFAULT_ACCOUNT_USAGE,
    LOG_TYPE,
    QUERY_HISTORY_LATENCY,
    RESOURCE_TYPE,
    account_usage_parts,
)
from monte_carlo_push_provider.operators.base import BaseCollectorOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

DEFAULT_CONN_ID = "snowflake_default"
LINEAGE_SOURCES = ("auto", "access_history", "query_history")


class _SnowflakeCollector(BaseCollectorOperator):
    """Shared settings: the Snowflake connection and where ACCOUNT_USAGE lives."""

    def __init__(
        self,
        *,
        snowflake_conn_id: str = DEFAULT_CONN_ID,
        account_usage_schema: str | Sequence[str] = ".".join(DEFAULT_ACCOUNT_USAGE),
        fetch_size: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if fetch_size < 1:
            raise ValueError(f"fetch_size must be >= 1, got {fetch_size}")
        self.snowflake_conn_id = snowflake_conn_id
        self.account_usage_schema = account_usage_schema
        self.fetch_size = fetch_size

    def _account_usage(self) -> tuple[str, str]:
        value = self.account_usage_schema
        return account_usage_parts(value if isinstance(value, str) else tuple(value))  # type: ignore[arg-type]

    def _connect(self) -> Any:
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        return SnowflakeHook(snowflake_conn_id=self.snowflake_conn_id).get_conn()


class SnowflakeMetadataCollectorOperator(_SnowflakeCollector):
    """Collect tables and views (columns, view text, row count, bytes, last altered, comments).

    Per database, one query on ``INFORMATION_SCHEMA.TABLES`` (views joined in) and one on
    ``INFORMATION_SCHEMA.COLUMNS``. With ``account_usage=True``, one query each on
    ``ACCOUNT_USAGE.TABLES`` / ``COLUMNS`` for the whole account instead (cheaper for many
    databases, but those views lag up to 90 minutes: new tables and fresh row counts show late).

    :param database: collect exactly this database (templated; use ``.expand(database=[...])`` for
        one mapped task per database). Without it, every database ``SHOW DATABASES`` lists that
        ``databases`` / ``exclude_databases`` let through (never the ``SNOWFLAKE`` system database).
    :param databases: include patterns for database names (globs, or ``re:`` regexes).
    :param exclude_databases: exclude patterns for database names.
    :param schemas: include patterns for schema names.
    :param exclude_schemas: exclude patterns for schema names.
    :param only_freshness_and_volume: skip columns, view text and comments (hourly runs; push the
        full schema from a daily DAG).
    :param account_usage: read ``ACCOUNT_USAGE.TABLES/COLUMNS`` (one query each) instead of each
        database's INFORMATION_SCHEMA.
    :param account_usage_schema: where ACCOUNT_USAGE is (``SNOWFLAKE.ACCOUNT_USAGE``, or your own
        copy / secure views over it).
    :param snowflake_conn_id: the Snowflake connection.
    :param fetch_size: rows per ``fetchmany``.
    """

    template_fields: Sequence[str] = (
        "database",
        "databases",
        "exclude_databases",
        "schemas",
        "exclude_schemas",
        "snowflake_conn_id",
        "resource_uuid",
    )

    def __init__(
        self,
        *,
        database: str | None = None,
        databases: Sequence[str] | str | None = None,
        exclude_databases: Sequence[str] | str | None = None,
        schemas: Sequence[str] | str | None = None,
        exclude_schemas: Sequence[str] | str | None = None,
        only_freshness_and_volume: bool = False,
        account_usage: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.database = database
        self.databases = databases
        self.exclude_databases = exclude_databases
        self.schemas = schemas
        self.exclude_schemas = exclude_schemas
        self.only_freshness_and_volume = only_freshness_and_volume
        self.account_usage = account_usage

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors.common import NameFilter
        from monte_carlo_push_provider.collectors.snowflake import (
            collect_account_metadata,
            collect_database_metadata,
            list_databases,
        )
        from monte_carlo_push_provider.manifest import new_manifest

        self.start_timer()
        schema_filter = NameFilter(self.schemas, self.exclude_schemas)
        database_filter = NameFilter(self.databases, self.exclude_databases)
        mode = "freshness and volume" if self.only_freshness_and_volume else "full schema"
        events: list[dict[str, Any]] = []
        conn = self._connect()
        try:
            if self.account_usage:
                au = self._account_usage()
                self.log.info("reading %s.%s TABLES/COLUMNS (%s)", *au, mode)
                events.extend(
                    collect_account_metadata(
                        conn,
                        account_usage=au,
                        database=self.database or None,
                        database_filter=database_filter,
                        schema_filter=schema_filter,
                        only_freshness_and_volume=self.only_freshness_and_volume,
                        fetch_size=self.fetch_size,
                    )
                )
                names = [self.database] if self.database else sorted({e["metadata"]["database"] for e in events})
            else:
                names = [self.database] if self.database else list_databases(conn, database_filter)
                self.log.info("reading the INFORMATION_SCHEMA of %d database(s) (%s): %s", len(names), mode, names)
                for name in names:
                    events.extend(
                        collect_database_metadata(
                            conn,
                            name,
                            schema_filter=schema_filter,
                            only_freshness_and_volume=self.only_freshness_and_volume,
                            fetch_size=self.fetch_size,
                            tables_so_far=len(events),
                        )
                    )
        finally:
            conn.close()
        info: dict[str, Any] = {"database": self.database} if self.database else {"databases": names}
        manifest = new_manifest(
            "metadata", events, resource_type=RESOURCE_TYPE, resource_uuid=self.resource_uuid,
            only_freshness_and_volume=self.only_freshness_and_volume, **info,
        )
        self.log_summary(manifest, f"{self.snowflake_conn_id} ({self.database or f'{len(names)} databases'})")
        return manifest


class SnowflakeQueryLogCollectorOperator(_SnowflakeCollector):
    """Collect ``ACCOUNT_USAGE.QUERY_HISTORY`` for the DAG run's data interval, shifted back by
    ``lag`` (the view's latency), as query logs with ``log_type`` ``snowflake``.

    Queries are assigned to the window they *finished* in, so consecutive runs (and backfills)
    leave no gap and no overlap. Warehouse details go in ``extra``; failed queries keep
    ``error_code`` / ``error_text``.

    :param lag: how far the window is shifted back (default 45 minutes, QUERY_HISTORY's latency).
    :param start: explicit window start (templated; overrides the data interval).
    :param end: explicit window end (templated).
    """

    template_fields: Sequence[str] = ("start", "end", "snowflake_conn_id", "resource_uuid")

    def __init__(
        self,
        *,
        lag: timedelta = QUERY_HISTORY_LATENCY,
        start: Any = None,
        end: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lag = lag
        self.start = start
        self.end = end

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors.common import query_window
        from monte_carlo_push_provider.collectors.snowflake import QueryLogStats, collect_query_logs
        from monte_carlo_push_provider.manifest import new_manifest

        self.start_timer()
        start, end = query_window(context, lag=self.lag, start=self.start or None, end=self.end or None)
        au = self._account_usage()
        self.log.info("reading %s.%s.QUERY_HISTORY for queries that ended in [%s, %s)", *au, start, end)
        stats = QueryLogStats()
        conn = self._connect()
        try:
            events = list(
                collect_query_logs(conn, start, end, account_usage=au, fetch_size=self.fetch_size, stats=stats)
            )
        finally:
            conn.close()
        if stats.skipped_empty:
            self.log.info("skipped %d quer(y/ies) without text or times", stats.skipped_empty)
        manifest = new_manifest(
            "query_logs", events, log_type=LOG_TYPE, resource_uuid=self.resource_uuid, window=(start, end)
        )
        self.log_summary(manifest, f"{self.snowflake_conn_id} ({stats.failed} failed)")
        return manifest


class SnowflakeLineageCollectorOperator(_SnowflakeCollector):
    """Collect table and column lineage for the DAG run's data interval, shifted back by ``lag``.

    ``source``:

    - ``access_history`` (Enterprise edition): ``ACCOUNT_USAGE.ACCESS_HISTORY.OBJECTS_MODIFIED``,
      ``columns[].directSources`` (``baseSources`` where Snowflake recorded no direct ones);
    - ``query_history`` (Standard edition): ``QUERY_HISTORY`` SQL parsed by the project's SQL
      lineage engine (:mod:`monte_carlo_push_provider.lineage`);
    - ``auto`` (default): ACCESS_HISTORY, falling back to QUERY_HISTORY when the view cannot be
      read (it does not exist for this role / edition).

    :param lag: how far the window is shifted back (default 3 hours, ACCESS_HISTORY's latency;
        QUERY_HISTORY is complete by then too).
    :param column_lineage: send column mappings (column lineage expires after 10 days in Monte
        Carlo; table lineage does not).
    :param start: explicit window start (templated).
    :param end: explicit window end (templated).
    """

    template_fields: Sequence[str] = ("start", "end", "snowflake_conn_id", "resource_uuid")

    def __init__(
        self,
        *,
        source: str = "auto",
        lag: timedelta = ACCESS_HISTORY_LATENCY,
        column_lineage: bool = True,
        start: Any = None,
        end: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if source not in LINEAGE_SOURCES:
            raise ValueError(f"source must be one of {', '.join(LINEAGE_SOURCES)}, got {source!r}")
        self.source = source
        self.lag = lag
        self.column_lineage = column_lineage
        self.start = start
        self.end = end

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors.common import query_window
        from monte_carlo_push_provider.collectors.snowflake import (
            LineageStats,
            collect_access_history_lineage,
            is_missing_object_error,
        )
        from monte_carlo_push_provider.manifest import new_manifest

        self.start_timer()
        start, end = query_window(context, lag=self.lag, start=self.start or None, end=self.end or None)
        au = self._account_usage()
        conn = self._connect()
        try:
            if self.source in ("auto", "access_history"):
                stats = LineageStats()
                self.log.info("reading %s.%s.ACCESS_HISTORY for [%s, %s)", *au, start, end)
                try:
                    events = collect_access_history_lineage(
                        conn, start, end, account_usage=au, fetch_size=self.fetch_size,
                        column_lineage=self.column_lineage, stats=stats,
                    )
                except Exception as exc:
                    if self.source == "access_history" or not is_missing_object_error(exc):
                        raise
                    self.log.warning(
                        "ACCESS_HISTORY cannot be read (%s); it needs Enterprise edition and "
                        "IMPORTED PRIVILEGES on the SNOWFLAKE database. Deriving lineage from "
                        "QUERY_HISTORY SQL instead", str(exc).splitlines()[0],
                    )
                else:
                    self.log.info("lineage from ACCESS_HISTORY: %s", stats)
                    manifest = new_manifest(
                        "lineage", events, resource_type=RESOURCE_TYPE, resource_uuid=self.resource_uuid,
                        window=(start, end), source="access_history",
                    )
                    self.log_summary(manifest, self.snowflake_conn_id)
                    return manifest
            manifest = self._from_query_history(conn, start, end, au)
        finally:
            conn.close()
        self.log_summary(manifest, self.snowflake_conn_id)
        return manifest

    def _from_query_history(self, conn: Any, start: Any, end: Any, au: tuple[str, str]) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors.snowflake import iter_queries_for_lineage

        try:
            from monte_carlo_push_provider.lineage import lineage_manifest_from_queries
        except ImportError as exc:
            raise RuntimeError(
                "lineage from QUERY_HISTORY is not available: the SQL lineage engine "
                f"(monte_carlo_push_provider.lineage, needs sqlglot) cannot be imported ({exc}). "
                "Use source='access_history' on Enterprise edition."
            ) from exc
        self.log.info("reading %s.%s.QUERY_HISTORY for lineage in [%s, %s)", *au, start, end)
        manifest = lineage_manifest_from_queries(
            iter_queries_for_lineage(conn, start, end, account_usage=au, fetch_size=self.fetch_size),
            dialect="snowflake",
            resource_type=RESOURCE_TYPE,
            resource_uuid=self.resource_uuid,
            window=(start, end),
        )
        if not self.column_lineage:
            for event in manifest["events"]:
                event.pop("fields", None)
        manifest["source"] = "query_history"
        self.log.info("lineage from QUERY_HISTORY: %s", manifest.get("stats"))
        return manifest  # the engine already spells names as Snowflake stores them
