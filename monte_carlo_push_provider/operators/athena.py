"""Athena and Glue collectors: Glue Data Catalog metadata, and query logs and lineage from Athena
query executions, through Airflow's ``GlueCatalogHook`` and ``AthenaHook``.

Each operator declares its parameters; the AWS calls and their policy are the collectors' in
:mod:`monte_carlo_push_provider.collectors.athena` (stdlib only). The amazon provider, boto3 and
sqlglot are imported inside ``execute``: DAG files import this module at parse time. IAM
permissions are in ``docs/athena.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar

from monte_carlo_push_provider.collectors.athena import (
    BATCH_SIZE,
    DEFAULT_CATALOG,
    DEFAULT_GLUE_CONN_ID,
    DEFAULT_LAG,
    DEFAULT_MAX_QUERY_RUNTIME,
    AthenaGlueMetadataCollector,
    AthenaGlueViewLineageCollector,
    AthenaLineageCollector,
    AthenaQueryLogCollector,
)
from monte_carlo_push_provider.collectors.base import check_positive
from monte_carlo_push_provider.operators.base import (
    BaseCollectorOperator,
    WindowedCollectorMixin,
    refuse_metadata_options,
)


class _AwsOperator(BaseCollectorOperator):
    """The AWS connection.

    :param aws_conn_id: an ``aws`` connection (templated); its extra ``region_name`` picks the
        region (Glue databases and Athena workgroups are regional) and ``endpoint_url`` an
        alternative endpoint (VPC endpoints, local stand-ins).
    :param region_name: overrides the connection's region (templated).
    """

    template_fields: Sequence[str] = (*BaseCollectorOperator.template_fields, "aws_conn_id", "region_name")

    def __init__(
        self, *, aws_conn_id: str | None = DEFAULT_GLUE_CONN_ID, region_name: str | None = None, **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name


class AthenaGlueMetadataCollectorOperator(_AwsOperator):
    """Collect the tables, views and Iceberg tables of every (selected) database of the Glue Data
    Catalog and return one metadata manifest (resource_type ``data-lake``).

    Names follow Athena's: database = ``catalog`` (``awsdatacatalog``), schema = the Glue database,
    name = the table. Volume and freshness come from Glue table parameters where they exist
    (``numRows`` / ``recordCount``, ``totalSize`` / ``sizeKey``; Iceberg: the table's last update);
    see ``docs/athena.md`` for what Glue does and does not keep.

    :param databases: include patterns for Glue database names (globs, or ``re:`` regexes);
        default: every database. Templated.
    :param exclude_databases: exclude patterns for Glue database names. Templated.
    :param tables: include patterns for table names. Templated.
    :param exclude_tables: exclude patterns for table names. Templated.
    :param catalog: the Athena catalog name the Glue catalog is known by in queries (default
        ``awsdatacatalog``); Monte Carlo's database of every table. Templated.
    :param catalog_id: the AWS account id of the Glue catalog (default: the caller's own; set it
        for a catalog shared from another account). Templated.
    :param only_freshness_and_volume: skip columns, descriptions, view text and tags (the hourly
        push between daily full ones).
    :param include_volume: send row and byte counts.
    :param collect_tags: send the table parameters a person or pipeline set (``TBLPROPERTIES``,
        ``TableInput.Parameters``; not the statistics and engine keys) as ``RelationalAsset.tags``,
        beside the descriptive tags (``table_type``, ``location``, …) that are always sent.
    :param page_size: tables per ``GetTables`` page (at most 100).
    :param aws_conn_id: see :class:`_AwsOperator` (also ``region_name``).
    """

    template_fields: Sequence[str] = (
        *_AwsOperator.template_fields, "databases", "exclude_databases", "tables", "exclude_tables", "catalog",
        "catalog_id",
    )

    def __init__(
        self,
        *,
        databases: Sequence[str] | str | None = None,
        exclude_databases: Sequence[str] | str | None = None,
        tables: Sequence[str] | str | None = None,
        exclude_tables: Sequence[str] | str | None = None,
        catalog: str = DEFAULT_CATALOG,
        catalog_id: str | None = None,
        only_freshness_and_volume: bool = False,
        include_volume: bool = True,
        collect_tags: bool = True,
        page_size: int = 100,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if only_freshness_and_volume and not include_volume:
            raise ValueError("only_freshness_and_volume=True with include_volume=False would send nothing")
        check_positive("page_size", page_size)
        self.databases = databases
        self.exclude_databases = exclude_databases
        self.tables = tables
        self.exclude_tables = exclude_tables
        self.catalog = catalog
        self.catalog_id = catalog_id
        self.only_freshness_and_volume = only_freshness_and_volume
        self.include_volume = include_volume
        self.collect_tags = collect_tags
        self.page_size = page_size

    def get_source(self) -> Any:
        """The Glue client of Airflow's ``GlueCatalogHook``."""
        from airflow.providers.amazon.aws.hooks.glue_catalog import GlueCatalogHook

        return GlueCatalogHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name).get_conn()

    def make_collector(self) -> AthenaGlueMetadataCollector:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return AthenaGlueMetadataCollector(
            catalog=self.catalog or DEFAULT_CATALOG, catalog_id=self.catalog_id or None,
            database_filter=NameFilter(self.databases, self.exclude_databases),
            table_filter=NameFilter(self.tables, self.exclude_tables),
            only_freshness_and_volume=self.only_freshness_and_volume, include_volume=self.include_volume,
            collect_tags=self.collect_tags, fetch_size=self.page_size,
        )


class AthenaGlueViewLineageCollectorOperator(AthenaGlueMetadataCollectorOperator):
    """Table and column lineage of every view in the Glue Data Catalog, parsed from the view's text
    (Athena views' ``/* Presto View */`` ``ViewOriginalText`` decoded; Hive and Spark views' plain
    text) by the SQL lineage engine (dialect ``athena``), and return a lineage manifest: lineage
    with no Athena query history.

    Names are those of :class:`AthenaGlueMetadataCollectorOperator` (give both the same
    ``catalog``). Glue is read now (no window); a lineage manifest without a window is pushed
    every run (edges are idempotent, and re-sending keeps column lineage from expiring after 10
    days in Monte Carlo): daily is enough for views. Views whose text does not parse, or cannot be
    decoded, are skipped and counted in ``manifest["stats"]["skipped"]``.

    :param column_lineage: also send column mappings (default True).
    :param databases: see :class:`AthenaGlueMetadataCollectorOperator` (as are
        ``exclude_databases``, ``tables``, ``exclude_tables``, ``catalog``, ``catalog_id``,
        ``page_size`` and ``aws_conn_id``).
    """

    def __init__(self, *, column_lineage: bool = True, **kwargs: Any) -> None:
        refuse_metadata_options(kwargs, "only_freshness_and_volume", "include_volume")
        super().__init__(**kwargs)
        self.column_lineage = column_lineage

    def make_collector(self) -> AthenaGlueViewLineageCollector:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return AthenaGlueViewLineageCollector(
            catalog=self.catalog or DEFAULT_CATALOG, catalog_id=self.catalog_id or None,
            database_filter=NameFilter(self.databases, self.exclude_databases),
            table_filter=NameFilter(self.tables, self.exclude_tables),
            column_lineage=self.column_lineage, fetch_size=self.page_size,
        )


class _AthenaHistoryOperator(WindowedCollectorMixin, _AwsOperator):
    """Shared by the query-log and lineage collectors: the window and the workgroups read.

    :param work_groups: the Athena workgroups to read (templated); default: every enabled
        workgroup ``ListWorkGroups`` returns.
    :param exclude_work_groups: exclude patterns for workgroup names (templated).
    :param max_query_runtime: the longest an Athena query can run (default 1 hour; Athena's
        default DML timeout is 30 minutes): paging through a workgroup's history stops at
        executions submitted this long before the window start.
    :param lag: how far the window is shifted back (default 5 minutes).
    :param start: explicit window start (overrides the data interval). Templated.
    :param end: explicit window end. Templated.
    """

    template_fields: Sequence[str] = (
        *_AwsOperator.template_fields, "start", "end", "work_groups", "exclude_work_groups",
    )
    default_lag: ClassVar[timedelta] = DEFAULT_LAG

    def __init__(
        self,
        *,
        work_groups: Sequence[str] | str | None = None,
        exclude_work_groups: Sequence[str] | str | None = None,
        max_query_runtime: timedelta = DEFAULT_MAX_QUERY_RUNTIME,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_query_runtime <= timedelta(0):
            raise ValueError(f"max_query_runtime must be positive, got {max_query_runtime}")
        self.work_groups = work_groups
        self.exclude_work_groups = exclude_work_groups
        self.max_query_runtime = max_query_runtime

    def get_source(self) -> Any:
        """The Athena client of Airflow's ``AthenaHook``."""
        from airflow.providers.amazon.aws.hooks.athena import AthenaHook

        return AthenaHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name).get_conn()

    def _history(self) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors.common import NameFilter

        groups = [self.work_groups] if isinstance(self.work_groups, str) else self.work_groups
        return {
            "work_groups": list(groups) if groups else None,
            "work_group_filter": NameFilter(None, self.exclude_work_groups),
            "max_query_runtime": self.max_query_runtime, "fetch_size": BATCH_SIZE,
        }


class AthenaQueryLogCollectorOperator(_AthenaHistoryOperator):
    """Collect the Athena query executions that completed in the run's data interval (shifted back
    by ``lag``) and return a query-log manifest (log_type ``athena``), with Athena's
    ``bytes_scanned``, ``catalog``, ``database``, ``output_location`` and ``state`` in each
    entry's extra. Executions with empty text are skipped and counted in
    ``manifest["stats"]["skipped"]``.

    Parameters: see :class:`_AthenaHistoryOperator` and :class:`_AwsOperator`.
    """

    def make_collector(self) -> AthenaQueryLogCollector:
        return AthenaQueryLogCollector(**self._history())


class AthenaLineageCollectorOperator(_AthenaHistoryOperator):
    """Parse the Athena executions that succeeded in the run's window with the lineage engine
    (dialect ``athena``) and return a lineage manifest (resource_type ``data-lake``). Unqualified
    names resolve against each execution's catalog and database.

    Takes the same window and workgroup parameters as :class:`AthenaQueryLogCollectorOperator`.

    :param column_lineage: send column mappings (``False``: tables only).
    :param max_query_chars: statements longer than this are skipped (and counted).
    :param parse_timeout_s: per-statement parse time cap.
    """

    def __init__(
        self, *, column_lineage: bool = True, max_query_chars: int = 200_000, parse_timeout_s: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.column_lineage = column_lineage
        self.max_query_chars = max_query_chars
        self.parse_timeout_s = parse_timeout_s

    def make_collector(self) -> AthenaLineageCollector:
        return AthenaLineageCollector(
            column_lineage=self.column_lineage, max_query_chars=self.max_query_chars,
            parse_timeout_s=self.parse_timeout_s, **self._history(),
        )
