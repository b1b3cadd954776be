"""Hive collectors: metadata through ``HiveMetastoreHook`` (or ``HiveServer2Hook``), query logs and
lineage from HiveServer2 log files. See ``docs/hive.md``.

The hive provider, hmsclient, pyhive and sqlglot are imported inside ``execute``: DAG files import
this module at parse time. The collector modules imported here are stdlib only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from monte_carlo_push_provider.collectors.hive import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_DATABASE_LABEL,
    RESOURCE_TYPE,
)
from monte_carlo_push_provider.collectors.hive_logs import DEFAULT_PATTERN, LINEAGE_DIALECT, LOG_TYPE
from monte_carlo_push_provider.operators.base import BaseCollectorOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class _HiveMetadataOperator(BaseCollectorOperator):
    template_fields: Sequence[str] = (
        "resource_uuid", "database_label", "databases", "exclude_databases", "tables", "exclude_tables",
    )

    def __init__(
        self,
        *,
        database_label: str = DEFAULT_DATABASE_LABEL,
        databases: Sequence[str] | str | None = None,
        exclude_databases: Sequence[str] | str | None = None,
        tables: Sequence[str] | str | None = None,
        exclude_tables: Sequence[str] | str | None = None,
        only_freshness_and_volume: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.database_label = database_label
        self.databases = databases
        self.exclude_databases = exclude_databases
        self.tables = tables
        self.exclude_tables = exclude_tables
        self.only_freshness_and_volume = only_freshness_and_volume

    def _manifest(self, events: list[dict[str, Any]], what: str) -> dict[str, Any]:
        from monte_carlo_push_provider.manifest import new_manifest

        manifest = new_manifest(
            "metadata", events, resource_type=RESOURCE_TYPE, resource_uuid=self.resource_uuid,
            database=self.database_label,
        )
        self.log_summary(manifest, what)
        return manifest


class HiveMetastoreMetadataCollectorOperator(_HiveMetadataOperator):
    """Collect Hive databases, tables and views from the Hive Metastore's Thrift API and return a
    metadata manifest (resource_type ``data-lake``).

    Monte Carlo names: ``database`` = ``database_label``, ``schema`` = the Hive database,
    ``name`` = the table. Tables come in batches of ``batch_size`` per
    ``get_table_objects_by_name`` call (see ``docs/hive.md`` for the call count).

    :param metastore_conn_id: a ``hive_metastore`` connection (extra ``auth_mechanism``:
        ``NOSASL`` for an unsecured metastore).
    :param database_label: the Monte Carlo "database" (catalog) these tables are shown under;
        use the name your Monte Carlo data-lake connection uses (e.g. ``awsdatacatalog``).
    :param databases: include patterns for Hive database names (globs, or ``re:`` regexes).
    :param exclude_databases: exclude patterns for Hive database names.
    :param tables: include patterns for table names; ``exclude_tables`` excludes.
    :param only_freshness_and_volume: skip columns, comments, view text and tags (hourly runs).
    :param partition_volume: sum ``numRows`` / ``totalSize`` / ``transient_lastDdlTime`` over the
        partitions of partitioned tables (one ``get_partitions`` call per partitioned table).
    :param max_partitions: partitioned tables with more partitions than this keep table-level
        volume only.
    :param batch_size: tables per ``get_table_objects_by_name`` call.
    """

    def __init__(
        self,
        *,
        metastore_conn_id: str = "metastore_default",
        partition_volume: bool = True,
        max_partitions: int = 10_000,
        batch_size: int = DEFAULT_BATCH_SIZE,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.metastore_conn_id = metastore_conn_id
        self.partition_volume = partition_volume
        self.max_partitions = max_partitions
        self.batch_size = batch_size

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.providers.apache.hive.hooks.hive import HiveMetastoreHook

        from monte_carlo_push_provider.collectors import hive
        from monte_carlo_push_provider.collectors.common import NameFilter

        self.start_timer()
        hook = HiveMetastoreHook(metastore_conn_id=self.metastore_conn_id)
        stats = hive.MetastoreStats()
        # The hook's client opens its transport on enter and closes it on exit: one connection
        # for the whole collection.
        with hook.metastore as client:
            events = list(
                hive.collect_metastore_metadata(
                    client,
                    database_label=self.database_label,
                    database_filter=NameFilter(self.databases, self.exclude_databases),
                    table_filter=NameFilter(self.tables, self.exclude_tables),
                    only_freshness_and_volume=self.only_freshness_and_volume,
                    partition_volume=self.partition_volume,
                    max_partitions=self.max_partitions,
                    batch_size=self.batch_size,
                    stats=stats,
                )
            )
        self.log.info(
            "metastore: %d database(s), %d table(s), calls %s", stats.databases, stats.tables,
            ", ".join(f"{k}={v}" for k, v in sorted(stats.calls.items())),
        )
        return self._manifest(events, f"{self.metastore_conn_id} (Hive Metastore)")


class HiveServer2MetadataCollectorOperator(_HiveMetadataOperator):
    """The same metadata through HiveServer2 (``SHOW`` + ``DESCRIBE FORMATTED`` per table) for
    clusters whose metastore is not reachable. Slower (one statement per table) and limited to what
    ``DESCRIBE FORMATTED`` prints; tables that cannot be described are logged and skipped.

    :param hiveserver2_conn_id: a ``hiveserver2`` connection.
    """

    def __init__(self, *, hiveserver2_conn_id: str = "hiveserver2_default", fetch_size: int = 10_000,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hiveserver2_conn_id = hiveserver2_conn_id
        self.fetch_size = fetch_size

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.providers.apache.hive.hooks.hive import HiveServer2Hook

        from monte_carlo_push_provider.collectors import hive
        from monte_carlo_push_provider.collectors.common import NameFilter

        self.start_timer()
        hook = HiveServer2Hook(hiveserver2_conn_id=self.hiveserver2_conn_id)
        conn = hook.get_conn()
        errors: list[str] = []
        try:
            events = list(
                hive.collect_hiveserver2_metadata(
                    conn,
                    database_label=self.database_label,
                    database_filter=NameFilter(self.databases, self.exclude_databases),
                    table_filter=NameFilter(self.tables, self.exclude_tables),
                    only_freshness_and_volume=self.only_freshness_and_volume,
                    fetch_size=self.fetch_size,
                    errors=errors,
                )
            )
        finally:
            conn.close()
        if errors:
            self.log.warning("%d table(s) could not be described: %s", len(errors), ", ".join(errors[:20]))
        return self._manifest(events, f"{self.hiveserver2_conn_id} (HiveServer2)")


class _HiveLogOperator(BaseCollectorOperator):
    """Shared by the query-log and lineage collectors: where the logs are and the window."""

    template_fields: Sequence[str] = ("resource_uuid", "log_path", "start", "end", "log_timezone")

    def __init__(
        self,
        *,
        log_path: str,
        pattern: str = DEFAULT_PATTERN,
        recursive: bool = True,
        log_timezone: str = "UTC",
        conn_id: str | None = None,
        lag: timedelta = timedelta(0),
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.log_path = log_path
        self.pattern = pattern
        self.recursive = recursive
        self.log_timezone = log_timezone
        self.conn_id = conn_id
        self.lag = lag
        self.start = start
        self.end = end

    def read_queries(self, context: Context) -> tuple[tuple[datetime, datetime], list[Any]]:
        from airflow.sdk import ObjectStoragePath

        from monte_carlo_push_provider.collectors import hive_logs
        from monte_carlo_push_provider.collectors.common import query_window

        window = query_window(context, lag=self.lag, start=self.start or None, end=self.end or None)
        zone = hive_logs._zone(self.log_timezone)
        root = ObjectStoragePath(self.log_path, conn_id=self.conn_id) if self.conn_id else ObjectStoragePath(self.log_path)
        stats = hive_logs.ParseStats()
        files = hive_logs.list_log_files(
            root, pattern=self.pattern, recursive=self.recursive, window=window, zone=zone, stats=stats,
        )
        self.log.info(
            "reading %d HiveServer2 log file(s) under %s for %s .. %s (log time zone %s); %d file(s) "
            "cannot hold the window and were not opened", len(files), self.log_path, window[0].isoformat(),
            window[1].isoformat(), self.log_timezone, stats.files_skipped,
        )
        queries = list(hive_logs.iter_log_queries(files, start=window[0], end=window[1], zone=zone, stats=stats))
        self.log.info("log parse: %s", ", ".join(f"{k}={v}" for k, v in stats.as_dict().items()))
        return window, queries


class HiveQueryLogCollectorOperator(_HiveLogOperator):
    """Collect the statements HiveServer2 started in the run's data interval from its log files
    and return a query-log manifest (log_type ``hive-s3``, Monte Carlo's type for Hive logs).

    :param log_path: a file or directory as an ``ObjectStoragePath`` URL (``file:///var/log/hive``,
        ``s3://bucket/emr/j-…/``). Templated.
    :param pattern: file-name glob under ``log_path`` (default ``*.log*``: ``hive.log``,
        ``hive.log.2026-11-25``, ``hive.log.1.gz``, ``hiveserver2.log``…).
    :param recursive: search sub-directories (EMR keeps one folder per node).
    :param log_timezone: the HiveServer2 host's time zone (its log stamps are local time);
        an IANA name such as ``Europe/Berlin``. Default ``UTC``.
    :param conn_id: the ObjectStoragePath connection (e.g. an ``aws`` connection for ``s3://``).
    :param lag: how far the window is shifted back (default 0: log lines are written at once).
    :param start: explicit window start (overrides the data interval). Templated.
    :param end: explicit window end. Templated.
    """

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors import hive_logs
        from monte_carlo_push_provider.manifest import new_manifest

        self.start_timer()
        window, queries = self.read_queries(context)
        events = [hive_logs.query_log_event(q) for q in queries]
        manifest = new_manifest(
            "query_logs", events, log_type=LOG_TYPE, resource_uuid=self.resource_uuid, window=window,
        )
        self.log_summary(manifest, f"HiveServer2 logs at {self.log_path}")
        return manifest


class HiveLineageCollectorOperator(_HiveLogOperator):
    """Parse the statements that succeeded in the run's window (from the HiveServer2 logs) with the
    lineage engine (dialect ``hive``) and return a lineage manifest (resource_type ``data-lake``).

    Takes the same log and window parameters as :class:`HiveQueryLogCollectorOperator`.

    :param database_label: Monte Carlo "database" of every table (same as the metadata collector's).
    :param default_database: the Hive database for unqualified table names (sessions start in
        ``default``; ``USE`` statements are not tracked across log lines).
    :param max_query_chars: statements longer than this are skipped (and counted).
    :param parse_timeout_s: per-statement parse time cap.
    """

    template_fields: Sequence[str] = (*_HiveLogOperator.template_fields, "database_label", "default_database")

    def __init__(
        self,
        *,
        database_label: str = DEFAULT_DATABASE_LABEL,
        default_database: str = "default",
        max_query_chars: int = 200_000,
        parse_timeout_s: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.database_label = database_label
        self.default_database = default_database
        self.max_query_chars = max_query_chars
        self.parse_timeout_s = parse_timeout_s

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors import hive_logs
        from monte_carlo_push_provider.lineage import build_lineage_manifest

        self.start_timer()
        window, queries = self.read_queries(context)
        # Hive names are database.table; Monte Carlo's are label.database.table, so the label is
        # the engine's "database" and the Hive database its "schema".
        manifest, stats = build_lineage_manifest(
            [hive_logs.lineage_row(q) for q in queries if q.succeeded],
            dialect=LINEAGE_DIALECT,
            resource_type=RESOURCE_TYPE,
            resource_uuid=self.resource_uuid,
            default_database=self.database_label,
            default_schema=self.default_database,
            window=window,
            max_query_chars=self.max_query_chars,
            timeout_s=self.parse_timeout_s,
        )
        self.log.info("lineage: %s", ", ".join(f"{k}={v}" for k, v in stats.as_dict().items()))
        self.log_summary(manifest, f"HiveServer2 logs at {self.log_path}")
        return manifest
