"""Redshift collectors: metadata, query logs and lineage through Airflow's ``RedshiftSQLHook``.

The amazon provider, ``redshift_connector`` and sqlglot are imported inside ``execute``: DAG files
import this module at parse time. The SQL lives in
:mod:`monte_carlo_push_provider.collectors.redshift`; grants are in ``docs/redshift.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from monte_carlo_push_provider.collectors.redshift import DEFAULT_LAG  # stdlib-only module
from monte_carlo_push_provider.operators.base import BaseCollectorOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class _RedshiftOperator(BaseCollectorOperator):
    template_fields: Sequence[str] = ("redshift_conn_id", "resource_uuid")

    def __init__(
        self,
        *,
        redshift_conn_id: str = "redshift_default",
        aws_conn_id: str | None = "aws_default",
        fetch_size: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.redshift_conn_id = redshift_conn_id
        self.aws_conn_id = aws_conn_id  # used only by IAM connections (extra {"iam": true})
        self.fetch_size = fetch_size

    def get_hook(self) -> Any:
        from airflow.providers.amazon.aws.hooks.redshift_sql import RedshiftSQLHook

        return RedshiftSQLHook(redshift_conn_id=self.redshift_conn_id, aws_conn_id=self.aws_conn_id)


class RedshiftMetadataCollectorOperator(_RedshiftOperator):
    """Collect tables, views and Spectrum tables of every (selected) database of a Redshift
    cluster or workgroup, and return one metadata manifest (resource_type ``redshift``).

    One connection per database (a Redshift session sees one database), three catalog queries per
    database (``svv_table_info``, ``svv_tables``, ``svv_columns``) and two for Spectrum.

    :param redshift_conn_id: a ``redshift`` connection; its database is where the list of
        databases is read.
    :param databases: include patterns for database names (globs, or ``re:`` regexes); default:
        every local database the user can see.
    :param exclude_databases: exclude patterns for database names.
    :param schemas: include patterns for schema names.
    :param exclude_schemas: exclude patterns for schema names.
    :param only_freshness_and_volume: skip columns, comments, view text and Spectrum tables (the
        hourly push between daily full ones).
    :param include_external: collect Spectrum (external) tables.
    :param include_volume: send row and byte counts (``False`` for a daily schema push that runs
        next to an hourly volume push: one volume sample per hour is what the detectors expect).
    """

    template_fields: Sequence[str] = (
        "redshift_conn_id", "resource_uuid", "databases", "exclude_databases", "schemas", "exclude_schemas",
    )

    def __init__(
        self,
        *,
        databases: Sequence[str] | str | None = None,
        exclude_databases: Sequence[str] | str | None = None,
        schemas: Sequence[str] | str | None = None,
        exclude_schemas: Sequence[str] | str | None = None,
        only_freshness_and_volume: bool = False,
        include_external: bool = True,
        include_volume: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if only_freshness_and_volume and not include_volume:
            raise ValueError("only_freshness_and_volume=True with include_volume=False would send nothing")
        self.databases = databases
        self.exclude_databases = exclude_databases
        self.schemas = schemas
        self.exclude_schemas = exclude_schemas
        self.only_freshness_and_volume = only_freshness_and_volume
        self.include_external = include_external
        self.include_volume = include_volume

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors import redshift
        from monte_carlo_push_provider.collectors.common import NameFilter
        from monte_carlo_push_provider.manifest import new_manifest

        self.start_timer()
        hook = self.get_hook()
        entry = hook.get_conn()
        try:
            databases = redshift.list_databases(entry, NameFilter(self.databases, self.exclude_databases))
        finally:
            entry.close()
        self.log.info("reading the catalogs of %d Redshift database(s): %s", len(databases), ", ".join(databases))
        schema_filter = NameFilter(self.schemas, self.exclude_schemas)
        events: list[dict[str, Any]] = []
        for database in databases:
            conn = redshift.connect(hook, database)
            try:
                before = len(events)
                events.extend(
                    redshift.collect_database_metadata(
                        conn, database, schema_filter=schema_filter,
                        only_freshness_and_volume=self.only_freshness_and_volume,
                        include_external=self.include_external, include_volume=self.include_volume,
                        fetch_size=self.fetch_size,
                    )
                )
                self.log.info("%s: %d table(s) and view(s)", database, len(events) - before)
            finally:
                conn.close()
        info: dict[str, Any] = {"database": databases[0]} if len(databases) == 1 else {"databases": databases}
        manifest = new_manifest(
            "metadata", events, resource_type=redshift.RESOURCE_TYPE, resource_uuid=self.resource_uuid, **info,
        )
        self.log_summary(manifest, f"{self.redshift_conn_id} ({len(databases)} database(s))")
        return manifest


class _RedshiftHistoryOperator(_RedshiftOperator):
    """Shared by the query-log and lineage collectors: the window and the history source."""

    template_fields: Sequence[str] = ("redshift_conn_id", "resource_uuid", "start", "end")

    def __init__(
        self,
        *,
        source: str = "sys",
        lag: timedelta = DEFAULT_LAG,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        users: Sequence[str] | str | None = None,
        exclude_users: Sequence[str] | str | None = ("rdsdb",),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if source not in ("sys", "stl"):
            raise ValueError(
                f"source must be 'sys' (SYS_QUERY_HISTORY) or 'stl' (STL_QUERY, provisioned clusters), got {source!r}"
            )
        self.source = source
        self.lag = lag
        self.start = start
        self.end = end
        self.users = users
        self.exclude_users = exclude_users

    def read_queries(self, context: Context) -> tuple[tuple[datetime, datetime], list[Any], str | None]:
        """(window, finished statements in it, the connection's database)."""
        from monte_carlo_push_provider.collectors import redshift
        from monte_carlo_push_provider.collectors.common import NameFilter, query_window

        window = query_window(context, lag=self.lag, start=self.start or None, end=self.end or None)
        hook = self.get_hook()
        self.log.info(
            "reading %s query history for %s .. %s (lag %s)", self.source, window[0].isoformat(),
            window[1].isoformat(), self.lag,
        )
        conn = hook.get_conn()
        try:
            queries = list(
                redshift.iter_queries(
                    conn, start=window[0], end=window[1], source=self.source,
                    user_filter=NameFilter(self.users, self.exclude_users), fetch_size=self.fetch_size,
                )
            )
        finally:
            conn.close()
        return window, queries, hook.conn.schema


class RedshiftQueryLogCollectorOperator(_RedshiftHistoryOperator):
    """Collect the statements that finished in the run's data interval (shifted back by ``lag``)
    and return a query-log manifest (log_type ``redshift``).

    :param source: ``"sys"`` (``SYS_QUERY_HISTORY`` + ``SYS_QUERY_TEXT``; Serverless and current
        provisioned clusters; needs ``sys:monitor`` or superuser to see other users' queries) or
        ``"stl"`` (``STL_QUERY`` + ``STL_QUERYTEXT``; provisioned only, ~7 days retention).
    :param lag: how far the window is shifted back (default 10 minutes: the SYS views' latency).
    :param start: explicit window start (overrides the data interval). Templated.
    :param end: explicit window end. Templated.
    :param users: include patterns for user names; ``exclude_users`` excludes (default ``rdsdb``,
        Redshift's internal user).
    """

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors import redshift
        from monte_carlo_push_provider.manifest import new_manifest

        self.start_timer()
        window, queries, _ = self.read_queries(context)
        events = [redshift.query_log_event(q) for q in queries]
        manifest = new_manifest(
            "query_logs", events, log_type=redshift.LOG_TYPE, resource_uuid=self.resource_uuid, window=window,
        )
        self.log_summary(manifest, f"{self.redshift_conn_id} ({self.source} history)")
        return manifest


class RedshiftLineageCollectorOperator(_RedshiftHistoryOperator):
    """Parse the statements that succeeded in the run's window with the lineage engine (dialect
    ``redshift``) and return a lineage manifest (resource_type ``redshift``). ``#temp`` tables are
    resolved per session: ``a -> #t -> b`` in one session becomes ``a -> b``.

    Takes the same window and source parameters as :class:`RedshiftQueryLogCollectorOperator`.

    :param default_schema: schema for unqualified table names (Redshift's default search_path
        starts with ``public``).
    :param max_query_chars: statements longer than this are skipped (and counted).
    :param parse_timeout_s: per-statement parse time cap.
    """

    def __init__(
        self,
        *,
        default_schema: str = "public",
        max_query_chars: int = 200_000,
        parse_timeout_s: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.default_schema = default_schema
        self.max_query_chars = max_query_chars
        self.parse_timeout_s = parse_timeout_s

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors import redshift
        from monte_carlo_push_provider.lineage import build_lineage_manifest

        self.start_timer()
        window, queries, database = self.read_queries(context)
        manifest, stats = build_lineage_manifest(
            [redshift.lineage_row(q) for q in queries if q.succeeded],
            dialect=redshift.LINEAGE_DIALECT,
            resource_type=redshift.RESOURCE_TYPE,
            resource_uuid=self.resource_uuid,
            default_database=database,
            default_schema=self.default_schema,
            window=window,
            max_query_chars=self.max_query_chars,
            timeout_s=self.parse_timeout_s,
        )
        self.log.info("lineage: %s", ", ".join(f"{k}={v}" for k, v in stats.as_dict().items()))
        self.log_summary(manifest, f"{self.redshift_conn_id} ({self.source} history)")
        return manifest
