"""Hive collectors: metadata through ``HiveMetastoreHook`` (or ``HiveServer2Hook``), query logs and
lineage from HiveServer2 log files. See ``docs/hive.md``.

Each operator declares its parameters; the Thrift calls, the ``DESCRIBE FORMATTED`` parsing, the
log parsing and their policy are the collectors' in :mod:`monte_carlo_push_provider.collectors.hive`
and :mod:`~monte_carlo_push_provider.collectors.hive_logs` (stdlib only). The hive provider,
hmsclient, pyhive and sqlglot are imported inside ``execute``: DAG files import this module at
parse time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from monte_carlo_push_provider.collectors.base import check_positive
from monte_carlo_push_provider.collectors.hive import (
    DEFAULT_BATCH_SIZE,
    HiveMetastoreMetadataCollector,
    HiveMetastoreViewLineageCollector,
    HiveServer2MetadataCollector,
    HiveServer2ViewLineageCollector,
)
from monte_carlo_push_provider.collectors.hive_logs import (
    DEFAULT_PATTERN,
    HiveLineageCollector,
    HiveQueryLogCollector,
)
from monte_carlo_push_provider.operators.base import (
    BaseCollectorOperator,
    WindowedCollectorMixin,
    refuse_metadata_options,
)

if TYPE_CHECKING:
    from airflow.providers.apache.hive.hooks.hive import HiveMetastoreHook, HiveServer2Hook
    from airflow.sdk import ObjectStoragePath


class _HiveMetadataOperator(BaseCollectorOperator):
    """What both metadata paths select.

    :param database_label: ``None`` (default): Monte Carlo's own Hive naming, the Hive database is
        both the Monte Carlo ``database`` and ``schema`` (``sales:sales.orders``). A string: the
        constant Monte Carlo "database" (catalog) every table is shown under, the Hive database
        being the ``schema`` (``database_label="hive"`` gives ``hive:sales.orders``, this
        provider's earlier default; Glue users often use ``awsdatacatalog``). Give the lineage
        collector the same value. Switching changes table ids and MCONs: see
        ``docs/hive.md#names-in-monte-carlo``. Templated.
    :param databases: include patterns for Hive database names (globs, or ``re:`` regexes). Templated.
    :param exclude_databases: exclude patterns for Hive database names. Templated.
    :param tables: include patterns for table names. Templated.
    :param exclude_tables: exclude patterns for table names. Templated.
    :param only_freshness_and_volume: skip columns, comments, view text and tags (hourly runs).
    """

    template_fields: Sequence[str] = (
        *BaseCollectorOperator.template_fields, "database_label", "databases", "exclude_databases", "tables",
        "exclude_tables",
    )

    def __init__(
        self,
        *,
        database_label: str | None = None,
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

    def _selection(self) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return {
            "database_label": self.database_label,
            "database_filter": NameFilter(self.databases, self.exclude_databases),
            "table_filter": NameFilter(self.tables, self.exclude_tables),
            "only_freshness_and_volume": self.only_freshness_and_volume,
        }


class HiveMetastoreMetadataCollectorOperator(_HiveMetadataOperator):
    """Collect Hive databases, tables and views from the Hive Metastore's Thrift API and return a
    metadata manifest (resource_type ``data-lake``).

    Monte Carlo names: ``database`` = the Hive database (or ``database_label`` when set),
    ``schema`` = the Hive database, ``name`` = the table. Tables come in batches of ``batch_size`` per
    ``get_table_objects_by_name`` call (see ``docs/hive.md`` for the call count).

    :param metastore_conn_id: a ``hive_metastore`` connection (extra ``auth_mechanism``:
        ``NOSASL`` for an unsecured metastore). Templated.
    :param partition_volume: sum ``numRows`` / ``totalSize`` / ``transient_lastDdlTime`` over the
        partitions of partitioned tables (one ``get_partitions`` call per partitioned table).
    :param max_partitions: partitioned tables with more partitions than this keep table-level
        volume only.
    :param batch_size: tables per ``get_table_objects_by_name`` call.
    :param database_label: see :class:`_HiveMetadataOperator` (also the name filters).
    """

    template_fields: Sequence[str] = (*_HiveMetadataOperator.template_fields, "metastore_conn_id")

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
        check_positive("batch_size", batch_size)
        self.metastore_conn_id = metastore_conn_id
        self.partition_volume = partition_volume
        self.max_partitions = max_partitions
        self.batch_size = batch_size

    def get_source(self) -> HiveMetastoreHook:
        from airflow.providers.apache.hive.hooks.hive import HiveMetastoreHook

        return HiveMetastoreHook(metastore_conn_id=self.metastore_conn_id)

    def make_collector(self) -> HiveMetastoreMetadataCollector:
        return HiveMetastoreMetadataCollector(
            partition_volume=self.partition_volume, max_partitions=self.max_partitions, batch_size=self.batch_size,
            **self._selection(),
        )


class HiveMetastoreViewLineageCollectorOperator(HiveMetastoreMetadataCollectorOperator):
    """Table and column lineage of every view (materialized views included), parsed from the view
    text the Hive Metastore keeps (``viewExpandedText``, else ``viewOriginalText``) by the SQL
    lineage engine (dialect ``hive``), and return a lineage manifest (resource_type
    ``data-lake``): lineage with no HiveServer2 logs.

    Tables are named as the metadata collectors name them: give this operator the same
    ``database_label`` as the metadata collector. The metastore is read now (no window); a
    lineage manifest without a window is pushed every run (edges are idempotent, and re-sending
    keeps column lineage from expiring after 10 days in Monte Carlo): daily is enough for views.
    Views whose text does not parse are skipped and counted in ``manifest["stats"]["skipped"]``.
    The table filters select the tables whose columns the engine knows too: filtering the source
    tables out leaves ``SELECT *`` over them unresolved.

    :param column_lineage: also send column mappings (default True).
    :param metastore_conn_id: see :class:`HiveMetastoreMetadataCollectorOperator` (as are
        ``batch_size``, ``database_label`` and the name filters).
    """

    def __init__(self, *, column_lineage: bool = True, **kwargs: Any) -> None:
        refuse_metadata_options(kwargs, "only_freshness_and_volume", "partition_volume", "max_partitions")
        super().__init__(partition_volume=False, **kwargs)
        self.column_lineage = column_lineage

    def make_collector(self) -> HiveMetastoreViewLineageCollector:
        selection = self._selection()
        selection.pop("only_freshness_and_volume")
        return HiveMetastoreViewLineageCollector(
            batch_size=self.batch_size, column_lineage=self.column_lineage, **selection,
        )


class HiveServer2MetadataCollectorOperator(_HiveMetadataOperator):
    """The same metadata through HiveServer2 (``SHOW`` + ``DESCRIBE FORMATTED`` per table) for
    clusters whose metastore is not reachable. Slower (one statement per table) and limited to what
    ``DESCRIBE FORMATTED`` prints; tables that cannot be described are skipped and counted in
    ``manifest["stats"]["skipped"]`` (one warning).

    :param hiveserver2_conn_id: a ``hiveserver2`` connection. Templated.
    :param fetch_size: rows per ``fetchmany``.
    :param database_label: see :class:`_HiveMetadataOperator` (also the name filters).
    """

    template_fields: Sequence[str] = (*_HiveMetadataOperator.template_fields, "hiveserver2_conn_id")

    def __init__(self, *, hiveserver2_conn_id: str = "hiveserver2_default", fetch_size: int = 10_000,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hiveserver2_conn_id = hiveserver2_conn_id
        self.fetch_size = fetch_size

    def get_source(self) -> HiveServer2Hook:
        from airflow.providers.apache.hive.hooks.hive import HiveServer2Hook

        return HiveServer2Hook(hiveserver2_conn_id=self.hiveserver2_conn_id)

    def make_collector(self) -> HiveServer2MetadataCollector:
        return HiveServer2MetadataCollector(fetch_size=self.fetch_size, **self._selection())


class HiveServer2ViewLineageCollectorOperator(HiveServer2MetadataCollectorOperator):
    """:class:`HiveMetastoreViewLineageCollectorOperator` through HiveServer2 (``SHOW`` +
    ``DESCRIBE FORMATTED`` per table) for clusters whose metastore is not reachable: the view text
    ``DESCRIBE FORMATTED`` prints (Hive's ``View Expanded Text``, else the text as written). Tables
    the server cannot describe are skipped and counted (``unreadable_object``), as the metadata
    collector skips them.

    :param column_lineage: also send column mappings (default True).
    :param hiveserver2_conn_id: see :class:`HiveServer2MetadataCollectorOperator` (as are
        ``fetch_size``, ``database_label`` and the name filters).
    """

    def __init__(self, *, column_lineage: bool = True, **kwargs: Any) -> None:
        refuse_metadata_options(kwargs, "only_freshness_and_volume")
        super().__init__(**kwargs)
        self.column_lineage = column_lineage

    def make_collector(self) -> HiveServer2ViewLineageCollector:
        selection = self._selection()
        selection.pop("only_freshness_and_volume")
        return HiveServer2ViewLineageCollector(
            fetch_size=self.fetch_size, column_lineage=self.column_lineage, **selection,
        )


class _HiveLogOperator(WindowedCollectorMixin, BaseCollectorOperator):
    """Shared by the query-log and lineage collectors: where the logs are and the window.

    :param log_path: a file or directory as an ``ObjectStoragePath`` URL (``file:///var/log/hive``,
        ``s3://bucket/emr/j-…/``). Templated.
    :param pattern: file-name glob under ``log_path`` (default ``*.log*``: ``hive.log``,
        ``hive.log.2026-11-25``, ``hive.log.1.gz``, ``hiveserver2.log``…).
    :param recursive: search sub-directories (EMR keeps one folder per node).
    :param log_timezone: the HiveServer2 host's time zone (its log stamps are local time);
        an IANA name such as ``Europe/Berlin``. Default ``UTC``. Templated.
    :param conn_id: the ObjectStoragePath connection (e.g. an ``aws`` connection for ``s3://``). Templated.
    :param lag: how far the window is shifted back (default 0: log lines are written at once).
    :param start: explicit window start (overrides the data interval). Templated.
    :param end: explicit window end. Templated.
    """

    template_fields: Sequence[str] = (
        *WindowedCollectorMixin.template_fields, "log_path", "log_timezone", "conn_id",
    )

    def __init__(
        self,
        *,
        log_path: str,
        pattern: str = DEFAULT_PATTERN,
        recursive: bool = True,
        log_timezone: str = "UTC",
        conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.log_path = log_path
        self.pattern = pattern
        self.recursive = recursive
        self.log_timezone = log_timezone
        self.conn_id = conn_id

    def get_source(self) -> ObjectStoragePath:
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(self.log_path, conn_id=self.conn_id) if self.conn_id else ObjectStoragePath(self.log_path)

    def _logs(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "recursive": self.recursive, "log_timezone": self.log_timezone}


class HiveQueryLogCollectorOperator(_HiveLogOperator):
    """Collect the statements HiveServer2 started in the run's data interval from its log files
    and return a query-log manifest (log_type ``hive-s3``, Monte Carlo's type for Hive logs).

    Parameters: see :class:`_HiveLogOperator`.
    """

    def make_collector(self) -> HiveQueryLogCollector:
        return HiveQueryLogCollector(**self._logs())


class HiveLineageCollectorOperator(_HiveLogOperator):
    """Parse the statements that succeeded in the run's window (from the HiveServer2 logs) with the
    lineage engine (dialect ``hive``) and return a lineage manifest (resource_type ``data-lake``).

    Takes the same log and window parameters as :class:`HiveQueryLogCollectorOperator`.

    :param database_label: as on the metadata collectors, and it must be the same value there and
        here, or lineage lands on other assets than the metadata: ``None`` (default) names each
        table ``<hive db>:<hive db>.<table>``, a string ``<label>:<hive db>.<table>``. Templated.
    :param default_database: the Hive database for unqualified table names (sessions start in
        ``default``; ``USE`` statements are not tracked across log lines). Templated.
    :param max_query_chars: statements longer than this are skipped (and counted).
    :param parse_timeout_s: per-statement parse time cap.
    """

    template_fields: Sequence[str] = (*_HiveLogOperator.template_fields, "database_label", "default_database")

    def __init__(
        self,
        *,
        database_label: str | None = None,
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

    def make_collector(self) -> HiveLineageCollector:
        return HiveLineageCollector(
            database_label=self.database_label, default_database=self.default_database,
            max_query_chars=self.max_query_chars, parse_timeout_s=self.parse_timeout_s, **self._logs(),
        )
