"""BigQuery collectors: metadata, BigLake/Iceberg storage, query logs and lineage through
Airflow's ``BigQueryHook`` (``hook.get_client()``).

Each operator returns one manifest v1 for :class:`~monte_carlo_push_provider.operators.push.MonteCarloPushOperator`.
The Google provider, google-cloud-bigquery and sqlglot are imported inside ``execute`` only.
Monte Carlo names: database = project, schema = dataset. See ``docs/bigquery.md`` and
``example_dags/bigquery_*.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar

from monte_carlo_push_provider.collectors.base import check_choice, check_positive
from monte_carlo_push_provider.collectors.bigquery import (
    DEFAULT_REGION,
    FIELD_PATH_SOURCES,
    JOB_SOURCES,
    JOBS_LATENCY,
    BigQueryIcebergCollector,
    BigQueryLineageCollector,
    BigQueryMetadataCollector,
    BigQueryQueryLogCollector,
    BigQuerySource,
    BigQueryViewLineageCollector,
)
from monte_carlo_push_provider.operators.base import (
    BaseCollectorOperator,
    WindowedCollectorMixin,
    refuse_metadata_options,
)

DEFAULT_CONN_ID = "google_cloud_default"


class _BigQueryCollector(BaseCollectorOperator):
    """Shared settings: the Google Cloud connection, the projects, and query limits.

    :param gcp_conn_id: the Google Cloud connection (``BigQueryHook``; templated).
    :param project_ids: projects to read (templated); default: the connection's project.
    :param location: job location passed to the client (default: the client's; templated).
    :param fetch_size: rows per result page.
    :param query_timeout: seconds one catalog query (and its retries) may take.
    :param impersonation_chain: passed to ``BigQueryHook`` (templated).
    """

    template_fields: Sequence[str] = (
        *BaseCollectorOperator.template_fields, "gcp_conn_id", "project_ids", "location", "impersonation_chain",
    )

    def __init__(
        self,
        *,
        gcp_conn_id: str = DEFAULT_CONN_ID,
        project_ids: Sequence[str] | str | None = None,
        location: str | None = None,
        fetch_size: int = 10_000,
        query_timeout: float = 300.0,
        impersonation_chain: str | Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_positive("fetch_size", fetch_size)
        if query_timeout <= 0:
            raise ValueError(f"query_timeout must be > 0 seconds, got {query_timeout}")
        self.gcp_conn_id = gcp_conn_id
        self.project_ids = project_ids
        self.location = location
        self.fetch_size = fetch_size
        self.query_timeout = query_timeout
        self.impersonation_chain = impersonation_chain

    def get_source(self) -> BigQuerySource:
        """A ``google.cloud.bigquery.Client`` from the hook, and the connection's project."""
        from airflow.providers.google.cloud.hooks.bigquery import BigQueryHook

        hook = BigQueryHook(gcp_conn_id=self.gcp_conn_id, impersonation_chain=self.impersonation_chain)
        project = hook.project_id
        return BigQuerySource(hook.get_client(project_id=project, location=self.location), project)

    def _common(self) -> dict[str, Any]:
        return {"project_ids": self.project_ids, "fetch_size": self.fetch_size, "query_timeout": self.query_timeout}


class BigQueryMetadataCollectorOperator(_BigQueryCollector):
    """Collect tables and views of BigQuery datasets: columns (nested STRUCT/ARRAY fields
    flattened to their paths), descriptions, view SQL, and row count, bytes and last modified
    from ``__TABLES__``. ``MATERIALIZED VIEW`` -> VIEW; ``EXTERNAL``, ``SNAPSHOT``, ``CLONE`` ->
    TABLE. Date shards (``events_20240101`` …) become one asset ``events_yyyymmdd``.

    :param dataset: collect exactly this dataset (templated; ``.expand(dataset=[...])`` maps one
        task per dataset).
    :param datasets: include patterns for dataset names (globs or ``re:`` regexes). Templated.
    :param exclude_datasets: exclude patterns for dataset names. Templated.
    :param projects: include patterns for project ids; when set without ``project_ids``, every
        project the credentials can list is a candidate. Templated.
    :param exclude_projects: exclude patterns for project ids. Templated.
    :param only_freshness_and_volume: ``__TABLES__`` only (one query per dataset), for hourly
        runs; push the full schema from a daily DAG.
    :param field_paths: ``auto`` (``INFORMATION_SCHEMA.COLUMN_FIELD_PATHS``, falling back to
        ``COLUMNS`` with nested types parsed), ``column_field_paths`` or ``columns``.
    :param column_field_paths_table: replaces ``<project>.<dataset>.INFORMATION_SCHEMA.COLUMN_FIELD_PATHS``
        (dotted name; ``{project}`` / ``{dataset}`` filled in).
    :param collapse_date_shards: fold date shards into one ``<prefix>_yyyymmdd`` asset.
    :param collect_tags: send table labels as ``RelationalAsset.tags`` (read from the
        ``TABLE_OPTIONS`` query that also gives descriptions: no extra query; full-schema runs
        only; a date-shard asset carries its newest shard's labels). ``False`` sends none.
    :param gcp_conn_id: see :class:`_BigQueryCollector`.
    """

    template_fields: Sequence[str] = (
        *_BigQueryCollector.template_fields, "dataset", "datasets", "exclude_datasets", "projects", "exclude_projects",
    )

    def __init__(
        self,
        *,
        dataset: str | None = None,
        datasets: Sequence[str] | str | None = None,
        exclude_datasets: Sequence[str] | str | None = None,
        projects: Sequence[str] | str | None = None,
        exclude_projects: Sequence[str] | str | None = None,
        only_freshness_and_volume: bool = False,
        field_paths: str = "auto",
        column_field_paths_table: str | None = None,
        collapse_date_shards: bool = True,
        collect_tags: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_choice("field_paths", field_paths, FIELD_PATH_SOURCES)
        self.collect_tags = collect_tags
        self.dataset = dataset
        self.datasets = datasets
        self.exclude_datasets = exclude_datasets
        self.projects = projects
        self.exclude_projects = exclude_projects
        self.only_freshness_and_volume = only_freshness_and_volume
        self.field_paths = field_paths
        self.column_field_paths_table = column_field_paths_table
        self.collapse_date_shards = collapse_date_shards

    def make_collector(self) -> BigQueryMetadataCollector:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return BigQueryMetadataCollector(
            dataset=self.dataset,
            dataset_filter=NameFilter(self.datasets, self.exclude_datasets),
            project_filter=NameFilter(self.projects, self.exclude_projects),
            list_all_projects=bool(self.projects) and not self.project_ids,
            only_freshness_and_volume=self.only_freshness_and_volume,
            field_paths=self.field_paths,
            column_field_paths_table=self.column_field_paths_table,
            collapse_date_shards=self.collapse_date_shards,
            collect_tags=self.collect_tags,
            **self._common(),
        )


class BigQueryViewLineageCollectorOperator(BigQueryMetadataCollectorOperator):
    """Table and column lineage of every view, parsed from each dataset's
    ``INFORMATION_SCHEMA.VIEWS.view_definition`` by the SQL lineage engine, and return a lineage
    manifest: lineage with no jobs history (and no ``roles/bigquery.resourceViewer``).

    Names are spelled as the metadata push spells them (project and dataset and table names
    case-sensitive, date shards folded into ``<prefix>_yyyymmdd``). The catalog is read now (no
    window); a lineage manifest without a window is pushed every run (edges are idempotent, and
    re-sending keeps column lineage from expiring after 10 days in Monte Carlo): daily is enough
    for views. Definitions that do not parse are skipped and counted in
    ``manifest["stats"]["skipped"]``.

    :param column_lineage: also send column mappings (default True).
    :param dataset: see :class:`BigQueryMetadataCollectorOperator` (as are ``datasets``,
        ``exclude_datasets``, ``projects``, ``exclude_projects``, ``field_paths``,
        ``column_field_paths_table``, ``collapse_date_shards``, and ``gcp_conn_id`` …).
    """

    def __init__(self, *, column_lineage: bool = True, **kwargs: Any) -> None:
        refuse_metadata_options(kwargs, "only_freshness_and_volume", "collect_tags")
        super().__init__(collect_tags=False, **kwargs)
        self.column_lineage = column_lineage

    def make_collector(self) -> BigQueryViewLineageCollector:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return BigQueryViewLineageCollector(
            dataset=self.dataset,
            dataset_filter=NameFilter(self.datasets, self.exclude_datasets),
            project_filter=NameFilter(self.projects, self.exclude_projects),
            list_all_projects=bool(self.projects) and not self.project_ids,
            field_paths=self.field_paths,
            column_field_paths_table=self.column_field_paths_table,
            collapse_date_shards=self.collapse_date_shards,
            column_lineage=self.column_lineage,
            **self._common(),
        )


class BigQueryIcebergCollectorOperator(_BigQueryCollector):
    """Volume and freshness of BigLake tables for Apache Iceberg (and any table
    ``INFORMATION_SCHEMA.TABLE_STORAGE`` reports), which Monte Carlo's pull collector does not
    see because it reads ``__TABLES__``. One query per project and region.

    :param region: the BigQuery region of the tables (``us``, ``eu``, ``europe-west1`` …). Templated.
    :param datasets: include patterns for dataset names. Templated.
    :param exclude_datasets: exclude patterns for dataset names. Templated.
    :param tables: include patterns for table names (scope this to your Iceberg tables). Templated.
    :param exclude_tables: exclude patterns for table names. Templated.
    :param only_freshness_and_volume: default True (hourly). False adds columns per dataset.
    :param table_storage_table: replaces ``<project>.region-<r>.INFORMATION_SCHEMA.TABLE_STORAGE``
        (dotted name; ``{project}`` / ``{region}`` filled in).
    :param field_paths: as :class:`BigQueryMetadataCollectorOperator`'s (full mode only).
    :param column_field_paths_table: as :class:`BigQueryMetadataCollectorOperator`'s.
    :param gcp_conn_id: see :class:`_BigQueryCollector`.
    """

    template_fields: Sequence[str] = (
        *_BigQueryCollector.template_fields, "region", "datasets", "exclude_datasets", "tables", "exclude_tables",
    )

    def __init__(
        self,
        *,
        region: str = DEFAULT_REGION,
        datasets: Sequence[str] | str | None = None,
        exclude_datasets: Sequence[str] | str | None = None,
        tables: Sequence[str] | str | None = None,
        exclude_tables: Sequence[str] | str | None = None,
        only_freshness_and_volume: bool = True,
        table_storage_table: str | None = None,
        field_paths: str = "auto",
        column_field_paths_table: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.region = region
        self.datasets = datasets
        self.exclude_datasets = exclude_datasets
        self.tables = tables
        self.exclude_tables = exclude_tables
        self.only_freshness_and_volume = only_freshness_and_volume
        self.table_storage_table = table_storage_table
        self.field_paths = field_paths
        self.column_field_paths_table = column_field_paths_table

    def make_collector(self) -> BigQueryIcebergCollector:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return BigQueryIcebergCollector(
            region=self.region,
            dataset_filter=NameFilter(self.datasets, self.exclude_datasets),
            table_filter=NameFilter(self.tables, self.exclude_tables),
            only_freshness_and_volume=self.only_freshness_and_volume,
            table_storage_table=self.table_storage_table,
            field_paths=self.field_paths,
            column_field_paths_table=self.column_field_paths_table,
            **self._common(),
        )


class _BigQueryJobsCollector(WindowedCollectorMixin, _BigQueryCollector):
    """Shared by query logs and lineage: where jobs come from and which window is read.

    :param jobs_source: ``auto`` (``region-<r>.INFORMATION_SCHEMA.JOBS_BY_PROJECT``, falling back
        to ``Client.list_jobs(all_users=True)`` when the view is missing), ``information_schema``
        or ``list_jobs``.
    :param region: the region whose JOBS_BY_PROJECT is read (templated).
    :param jobs_table: replaces ``<project>.region-<r>.INFORMATION_SCHEMA.JOBS_BY_PROJECT``
        (dotted name; ``{project}`` / ``{region}`` filled in; templated).
    :param lag: how far the data interval is shifted back (default 10 minutes).
    :param start: explicit window start (templated; overrides the data interval).
    :param end: explicit window end (templated).
    :param include_own_jobs: keep this provider's own catalog queries (labelled
        ``monte_carlo_push=collector``); default False.
    """

    template_fields: Sequence[str] = (*_BigQueryCollector.template_fields, "start", "end", "region", "jobs_table")
    default_lag: ClassVar[timedelta] = JOBS_LATENCY

    def __init__(
        self,
        *,
        jobs_source: str = "auto",
        region: str = DEFAULT_REGION,
        jobs_table: str | None = None,
        include_own_jobs: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_choice("jobs_source", jobs_source, JOB_SOURCES)
        self.jobs_source = jobs_source
        self.region = region
        self.jobs_table = jobs_table
        self.include_own_jobs = include_own_jobs

    def _jobs(self) -> dict[str, Any]:
        return {
            "jobs_source": self.jobs_source, "region": self.region, "jobs_table": self.jobs_table,
            "include_own_jobs": self.include_own_jobs, **self._common(),
        }


class BigQueryQueryLogCollectorOperator(_BigQueryJobsCollector):
    """Collect the query jobs that ended in the DAG run's data interval (shifted back by ``lag``)
    as query logs with ``log_type`` ``bigquery``. ``extra`` carries ``total_bytes_billed``,
    ``total_bytes_processed``, ``statement_type``, ``job_type``, ``default_dataset``,
    ``destination_table``, ``project_id`` and ``parent_job_id``; failed jobs keep
    ``error_code`` (the error reason) and ``error_text``. Jobs without text or with an end
    before their start are skipped and counted in ``manifest["stats"]["skipped"]``.

    Parameters: see :class:`_BigQueryJobsCollector` and :class:`_BigQueryCollector`.
    """

    def make_collector(self) -> BigQueryQueryLogCollector:
        return BigQueryQueryLogCollector(**self._jobs())


class BigQueryLineageCollectorOperator(_BigQueryJobsCollector):
    """Table and column lineage from the SQL of the query jobs that ended in the window (dialect
    ``bigquery``; each job's project and default dataset qualify its unqualified names), plus
    linked datasets from ``region-<r>.INFORMATION_SCHEMA.SCHEMATA_LINKS`` (Analytics Hub shares:
    each linked table reads from the shared table). Names get back the case the jobs recorded
    (BigQuery names are case-sensitive; the lineage engine lower-cases).

    :param schemata_links: read SCHEMATA_LINKS (missing view -> a warning, no link lineage).
    :param schemata_links_table: replaces ``<project>.region-<r>.INFORMATION_SCHEMA.SCHEMATA_LINKS`` (templated).
    :param column_lineage: send column mappings (Monte Carlo expires column lineage after 10 days).
    """

    template_fields: Sequence[str] = (*_BigQueryJobsCollector.template_fields, "schemata_links_table")

    def __init__(
        self,
        *,
        schemata_links: bool = True,
        schemata_links_table: str | None = None,
        column_lineage: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.schemata_links = schemata_links
        self.schemata_links_table = schemata_links_table
        self.column_lineage = column_lineage

    def make_collector(self) -> BigQueryLineageCollector:
        return BigQueryLineageCollector(
            schemata_links=self.schemata_links, schemata_links_table=self.schemata_links_table,
            column_lineage=self.column_lineage, **self._jobs(),
        )
