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
from typing import TYPE_CHECKING, Any

from monte_carlo_push_provider.collectors.bigquery import (
    DEFAULT_REGION,
    FIELD_PATH_SOURCES,
    JOB_SOURCES,
    JOBS_LATENCY,
    LOG_TYPE,
    RESOURCE_TYPE,
)
from monte_carlo_push_provider.operators.base import BaseCollectorOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

DEFAULT_CONN_ID = "google_cloud_default"


class _BigQueryCollector(BaseCollectorOperator):
    """Shared settings: the Google Cloud connection, the projects, and query limits.

    :param gcp_conn_id: the Google Cloud connection (``BigQueryHook``).
    :param project_ids: projects to read (templated); default: the connection's project.
    :param location: job location passed to the client (default: the client's).
    :param fetch_size: rows per result page.
    :param query_timeout: seconds one catalog query (and its retries) may take.
    :param impersonation_chain: passed to ``BigQueryHook``.
    """

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
        if fetch_size < 1:
            raise ValueError(f"fetch_size must be >= 1, got {fetch_size}")
        if query_timeout <= 0:
            raise ValueError(f"query_timeout must be > 0, got {query_timeout}")
        self.gcp_conn_id = gcp_conn_id
        self.project_ids = project_ids
        self.location = location
        self.fetch_size = fetch_size
        self.query_timeout = query_timeout
        self.impersonation_chain = impersonation_chain

    def _client(self) -> tuple[Any, str]:
        """A ``google.cloud.bigquery.Client`` from the hook, and the connection's project."""
        from airflow.providers.google.cloud.hooks.bigquery import BigQueryHook

        hook = BigQueryHook(gcp_conn_id=self.gcp_conn_id, impersonation_chain=self.impersonation_chain)
        project = hook.project_id
        return hook.get_client(project_id=project, location=self.location), project

    def _projects(self, default: str) -> list[str]:
        value = self.project_ids
        if isinstance(value, str):
            value = [value]
        return list(value) if value else [default]


class BigQueryMetadataCollectorOperator(_BigQueryCollector):
    """Collect tables and views of BigQuery datasets: columns (nested STRUCT/ARRAY fields
    flattened to their paths), descriptions, view SQL, and row count, bytes and last modified
    from ``__TABLES__``. ``MATERIALIZED VIEW`` -> VIEW; ``EXTERNAL``, ``SNAPSHOT``, ``CLONE`` ->
    TABLE. Date shards (``events_20240101`` …) become one asset ``events_yyyymmdd``.

    :param dataset: collect exactly this dataset (templated; ``.expand(dataset=[...])`` maps one
        task per dataset).
    :param datasets: include patterns for dataset names (globs or ``re:`` regexes).
    :param exclude_datasets: exclude patterns for dataset names.
    :param projects: include patterns for project ids; when set without ``project_ids``, every
        project the credentials can list is a candidate.
    :param exclude_projects: exclude patterns for project ids.
    :param only_freshness_and_volume: ``__TABLES__`` only (one query per dataset), for hourly
        runs; push the full schema from a daily DAG.
    :param field_paths: ``auto`` (``INFORMATION_SCHEMA.COLUMN_FIELD_PATHS``, falling back to
        ``COLUMNS`` with nested types parsed), ``column_field_paths`` or ``columns``.
    :param column_field_paths_table: replaces ``<project>.<dataset>.INFORMATION_SCHEMA.COLUMN_FIELD_PATHS``
        (dotted name; ``{project}`` / ``{dataset}`` filled in).
    :param collapse_date_shards: fold date shards into one ``<prefix>_yyyymmdd`` asset.
    """

    template_fields: Sequence[str] = (
        "dataset", "datasets", "exclude_datasets", "project_ids", "projects", "exclude_projects",
        "gcp_conn_id", "resource_uuid",
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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if field_paths not in FIELD_PATH_SOURCES:
            raise ValueError(f"field_paths must be one of {', '.join(FIELD_PATH_SOURCES)}, got {field_paths!r}")
        self.dataset = dataset
        self.datasets = datasets
        self.exclude_datasets = exclude_datasets
        self.projects = projects
        self.exclude_projects = exclude_projects
        self.only_freshness_and_volume = only_freshness_and_volume
        self.field_paths = field_paths
        self.column_field_paths_table = column_field_paths_table
        self.collapse_date_shards = collapse_date_shards

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors.bigquery import (
            MetadataStats,
            collect_dataset_metadata,
            list_datasets,
            list_projects,
        )
        from monte_carlo_push_provider.collectors.common import NameFilter
        from monte_carlo_push_provider.manifest import new_manifest

        self.start_timer()
        client, default_project = self._client()
        project_filter = NameFilter(self.projects, self.exclude_projects)
        explicit = self._projects(default_project) if (self.project_ids or not self.projects) else None
        projects = list_projects(client, explicit, project_filter)
        dataset_filter = NameFilter(self.datasets, self.exclude_datasets)
        mode = "freshness and volume" if self.only_freshness_and_volume else "full schema"
        stats = MetadataStats()
        events: list[dict[str, Any]] = []
        read: dict[str, list[str]] = {}
        for project in projects:
            names = [self.dataset] if self.dataset else list_datasets(client, project, dataset_filter)
            read[project] = names
            self.log.info("reading %d dataset(s) of %s (%s): %s", len(names), project, mode, names)
            for name in names:
                events.extend(
                    collect_dataset_metadata(
                        client, project, name,
                        only_freshness_and_volume=self.only_freshness_and_volume,
                        field_paths=self.field_paths,
                        column_field_paths_table=self.column_field_paths_table,
                        collapse_date_shards=self.collapse_date_shards,
                        fetch_size=self.fetch_size,
                        timeout_s=self.query_timeout,
                        stats=stats,
                        tables_so_far=len(events),
                    )
                )
        if stats.shards_collapsed:
            self.log.info("folded %d date shard(s) into <prefix>_yyyymmdd assets", stats.shards_collapsed)
        info: dict[str, Any] = {"datasets": read}
        if self.dataset:
            info["dataset"] = self.dataset
        if len(projects) == 1:
            info["project"] = projects[0]
        manifest = new_manifest(
            "metadata", events, resource_type=RESOURCE_TYPE, resource_uuid=self.resource_uuid,
            only_freshness_and_volume=self.only_freshness_and_volume, **info,
        )
        self.log_summary(manifest, f"{self.gcp_conn_id} ({', '.join(projects)})")
        return manifest


class BigQueryIcebergCollectorOperator(_BigQueryCollector):
    """Volume and freshness of BigLake tables for Apache Iceberg (and any table
    ``INFORMATION_SCHEMA.TABLE_STORAGE`` reports), which Monte Carlo's pull collector does not
    see because it reads ``__TABLES__``. One query per project and region.

    :param region: the BigQuery region of the tables (``us``, ``eu``, ``europe-west1`` …).
    :param datasets: include patterns for dataset names.
    :param exclude_datasets: exclude patterns for dataset names.
    :param tables: include patterns for table names (scope this to your Iceberg tables).
    :param exclude_tables: exclude patterns for table names.
    :param only_freshness_and_volume: default True (hourly). False adds columns per dataset.
    :param table_storage_table: replaces ``<project>.region-<r>.INFORMATION_SCHEMA.TABLE_STORAGE``
        (dotted name; ``{project}`` / ``{region}`` filled in).
    """

    template_fields: Sequence[str] = (
        "region", "datasets", "exclude_datasets", "tables", "exclude_tables", "project_ids",
        "gcp_conn_id", "resource_uuid",
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

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors.bigquery import collect_table_storage, region_dataset
        from monte_carlo_push_provider.collectors.common import NameFilter
        from monte_carlo_push_provider.manifest import new_manifest

        self.start_timer()
        region = region_dataset(self.region)
        client, default_project = self._client()
        projects = self._projects(default_project)
        events: list[dict[str, Any]] = []
        for project in projects:
            self.log.info("reading %s.%s.INFORMATION_SCHEMA.TABLE_STORAGE", project, region)
            events.extend(
                collect_table_storage(
                    client, project,
                    region=self.region,
                    dataset_filter=NameFilter(self.datasets, self.exclude_datasets),
                    table_filter=NameFilter(self.tables, self.exclude_tables),
                    table_storage_table=self.table_storage_table,
                    only_freshness_and_volume=self.only_freshness_and_volume,
                    field_paths=self.field_paths,
                    column_field_paths_table=self.column_field_paths_table,
                    fetch_size=self.fetch_size,
                    timeout_s=self.query_timeout,
                )
            )
        manifest = new_manifest(
            "metadata", events, resource_type=RESOURCE_TYPE, resource_uuid=self.resource_uuid,
            only_freshness_and_volume=self.only_freshness_and_volume, region=region, source="table_storage",
        )
        self.log_summary(manifest, f"{self.gcp_conn_id} TABLE_STORAGE ({', '.join(projects)}, {region})")
        return manifest


class _BigQueryJobsCollector(_BigQueryCollector):
    """Shared by query logs and lineage: where jobs come from and which window is read.

    :param jobs_source: ``auto`` (``region-<r>.INFORMATION_SCHEMA.JOBS_BY_PROJECT``, falling back
        to ``Client.list_jobs(all_users=True)`` when the view is missing), ``information_schema``
        or ``list_jobs``.
    :param region: the region whose JOBS_BY_PROJECT is read.
    :param jobs_table: replaces ``<project>.region-<r>.INFORMATION_SCHEMA.JOBS_BY_PROJECT``
        (dotted name; ``{project}`` / ``{region}`` filled in).
    :param lag: how far the data interval is shifted back (default 10 minutes).
    :param start: explicit window start (templated; overrides the data interval).
    :param end: explicit window end (templated).
    :param include_own_jobs: keep this provider's own catalog queries (labelled
        ``monte_carlo_push=collector``); default False.
    """

    def __init__(
        self,
        *,
        jobs_source: str = "auto",
        region: str = DEFAULT_REGION,
        jobs_table: str | None = None,
        lag: timedelta = JOBS_LATENCY,
        start: Any = None,
        end: Any = None,
        include_own_jobs: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if jobs_source not in JOB_SOURCES:
            raise ValueError(f"jobs_source must be one of {', '.join(JOB_SOURCES)}, got {jobs_source!r}")
        self.jobs_source = jobs_source
        self.region = region
        self.jobs_table = jobs_table
        self.lag = lag
        self.start = start
        self.end = end
        self.include_own_jobs = include_own_jobs

    def _jobs(self, client: Any, project: str, start: Any, end: Any, stats: Any) -> Any:
        from monte_carlo_push_provider.collectors.bigquery import iter_jobs

        return iter_jobs(
            client, project, start, end,
            source=self.jobs_source, region=self.region, jobs_table=self.jobs_table,
            fetch_size=self.fetch_size, timeout_s=self.query_timeout,
            include_own_jobs=self.include_own_jobs, stats=stats,
        )


class BigQueryQueryLogCollectorOperator(_BigQueryJobsCollector):
    """Collect the query jobs that ended in the DAG run's data interval (shifted back by ``lag``)
    as query logs with ``log_type`` ``bigquery``. ``extra`` carries ``total_bytes_billed``,
    ``total_bytes_processed``, ``statement_type``, ``job_type``, ``default_dataset``,
    ``destination_table``, ``project_id`` and ``parent_job_id``; failed jobs keep
    ``error_code`` (the error reason) and ``error_text``.
    """

    template_fields: Sequence[str] = ("start", "end", "region", "jobs_table", "project_ids", "gcp_conn_id", "resource_uuid")

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors.bigquery import JobStats, query_log_events
        from monte_carlo_push_provider.collectors.common import query_window
        from monte_carlo_push_provider.manifest import new_manifest

        self.start_timer()
        start, end = query_window(context, lag=self.lag, start=self.start or None, end=self.end or None)
        client, default_project = self._client()
        events: list[dict[str, Any]] = []
        stats = JobStats()
        for project in self._projects(default_project):
            self.log.info("reading the query jobs of %s that ended in [%s, %s)", project, start, end)
            events.extend(query_log_events(self._jobs(client, project, start, end, stats), stats))
        self.log.info(
            "jobs from %s: %d read, %d failed, %d without text skipped, %d of this collector's own skipped",
            stats.source, stats.jobs, stats.failed, stats.skipped_empty, stats.own_skipped,
        )
        manifest = new_manifest(
            "query_logs", events, log_type=LOG_TYPE, resource_uuid=self.resource_uuid, window=(start, end),
            source=stats.source,
        )
        self.log_summary(manifest, self.gcp_conn_id)
        return manifest


class BigQueryLineageCollectorOperator(_BigQueryJobsCollector):
    """Table and column lineage from the SQL of the query jobs that ended in the window (dialect
    ``bigquery``; each job's project and default dataset qualify its unqualified names), plus
    linked datasets from ``region-<r>.INFORMATION_SCHEMA.SCHEMATA_LINKS`` (Analytics Hub shares:
    each linked table reads from the shared table). Names get back the case the jobs recorded
    (BigQuery names are case-sensitive; the lineage engine lower-cases).

    :param schemata_links: read SCHEMATA_LINKS (missing view -> a warning, no link lineage).
    :param schemata_links_table: replaces ``<project>.region-<r>.INFORMATION_SCHEMA.SCHEMATA_LINKS``.
    :param column_lineage: send column mappings (Monte Carlo expires column lineage after 10 days).
    """

    template_fields: Sequence[str] = (
        "start", "end", "region", "jobs_table", "schemata_links_table", "project_ids", "gcp_conn_id",
        "resource_uuid",
    )

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

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors.bigquery import (
            JobStats,
            first_line,
            is_missing_source_error,
            lineage_queries,
            restore_case,
            schemata_link_events,
        )
        from monte_carlo_push_provider.collectors.common import query_window
        from monte_carlo_push_provider.lineage import build_lineage_manifest

        self.start_timer()
        start, end = query_window(context, lag=self.lag, start=self.start or None, end=self.end or None)
        client, default_project = self._client()
        projects = self._projects(default_project)
        stats = JobStats()
        names: dict[str, tuple[str, str, str]] = {}
        queries: list[dict[str, Any]] = []
        for project in projects:
            self.log.info("reading the query jobs of %s for lineage in [%s, %s)", project, start, end)
            queries.extend(lineage_queries(self._jobs(client, project, start, end, stats), names))
        manifest, lineage_stats = build_lineage_manifest(
            queries, dialect="bigquery", resource_type=RESOURCE_TYPE, resource_uuid=self.resource_uuid,
            window=(start, end),
        )
        self.log.info("lineage from %d job(s) (%s): %s", stats.jobs, stats.source, lineage_stats)
        restore_case(manifest, names)
        if not self.column_lineage:
            for event in manifest["events"]:
                event.pop("fields", None)
        if self.schemata_links:
            for project in projects:
                try:
                    links = schemata_link_events(
                        client, project, region=self.region, schemata_links_table=self.schemata_links_table,
                        fetch_size=self.fetch_size, timeout_s=self.query_timeout,
                    )
                except Exception as exc:
                    if not is_missing_source_error(exc):
                        raise
                    self.log.warning("SCHEMATA_LINKS of %s cannot be read (%s); no linked-dataset lineage",
                                     project, first_line(exc))
                    continue
                self.log.info("%d linked-dataset lineage event(s) from SCHEMATA_LINKS of %s", len(links), project)
                manifest["events"].extend(links)
        manifest["source"] = stats.source
        self.log_summary(manifest, self.gcp_conn_id)
        return manifest
