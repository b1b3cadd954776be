"""Redshift collectors: metadata, query logs and lineage through Airflow's ``RedshiftSQLHook``.

Each operator declares its parameters; the SQL and its policy are the collectors' in
:mod:`monte_carlo_push_provider.collectors.redshift` (stdlib only). The amazon provider,
``redshift_connector`` and sqlglot are imported inside ``execute``: DAG files import this module
at parse time. Grants are in ``docs/redshift.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from monte_carlo_push_provider.collectors.redshift import (
    DEFAULT_CONN_ID,
    DEFAULT_EXCLUDED_USERS,
    DEFAULT_LAG,
    DEFAULT_SCHEMA,
    SOURCES,
    RedshiftLineageCollector,
    RedshiftMetadataCollector,
    RedshiftQueryLogCollector,
    RedshiftViewLineageCollector,
)
from monte_carlo_push_provider.operators.base import (
    BaseCollectorOperator,
    WindowedCollectorMixin,
    refuse_metadata_options,
)

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.redshift_sql import RedshiftSQLHook


class _RedshiftOperator(BaseCollectorOperator):
    """The Redshift connection.

    :param redshift_conn_id: a ``redshift`` connection (templated); for the metadata collector,
        its database is where the list of databases is read.
    :param aws_conn_id: the AWS connection IAM connections (extra ``{"iam": true}``) use (templated).
    :param fetch_size: rows per ``fetchmany``.
    """

    template_fields: Sequence[str] = (*BaseCollectorOperator.template_fields, "redshift_conn_id", "aws_conn_id")

    def __init__(
        self,
        *,
        redshift_conn_id: str = DEFAULT_CONN_ID,
        aws_conn_id: str | None = "aws_default",
        fetch_size: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.redshift_conn_id = redshift_conn_id
        self.aws_conn_id = aws_conn_id
        self.fetch_size = fetch_size

    def get_source(self) -> RedshiftSQLHook:
        from airflow.providers.amazon.aws.hooks.redshift_sql import RedshiftSQLHook

        return RedshiftSQLHook(redshift_conn_id=self.redshift_conn_id, aws_conn_id=self.aws_conn_id)

    # the public name the operator had before the template; kept for DAGs that call it
    get_hook = get_source


class RedshiftMetadataCollectorOperator(_RedshiftOperator):
    """Collect tables, views and Spectrum tables of every (selected) database of a Redshift
    cluster or workgroup, and return one metadata manifest (resource_type ``redshift``).

    One connection per database (a Redshift session sees one database), three catalog queries per
    database (``svv_table_info``, ``svv_tables``, ``svv_columns``) and two for Spectrum.

    :param databases: include patterns for database names (globs, or ``re:`` regexes); default:
        every local database the user can see. Templated.
    :param exclude_databases: exclude patterns for database names. Templated.
    :param schemas: include patterns for schema names. Templated.
    :param exclude_schemas: exclude patterns for schema names. Templated.
    :param only_freshness_and_volume: skip columns, comments, view text and Spectrum tables (the
        hourly push between daily full ones).
    :param include_external: collect Spectrum (external) tables.
    :param include_volume: send row and byte counts (``False`` for a daily schema push that runs
        next to an hourly volume push: one volume sample per hour is what the detectors expect).
    :param redshift_conn_id: see :class:`_RedshiftOperator` (also ``aws_conn_id``, ``fetch_size``).
    """

    template_fields: Sequence[str] = (
        *_RedshiftOperator.template_fields, "databases", "exclude_databases", "schemas", "exclude_schemas",
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

    def make_collector(self) -> RedshiftMetadataCollector:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return RedshiftMetadataCollector(
            database_filter=NameFilter(self.databases, self.exclude_databases),
            schema_filter=NameFilter(self.schemas, self.exclude_schemas),
            only_freshness_and_volume=self.only_freshness_and_volume,
            include_external=self.include_external,
            include_volume=self.include_volume,
            fetch_size=self.fetch_size,
        )


class RedshiftViewLineageCollectorOperator(RedshiftMetadataCollectorOperator):
    """Table and column lineage of every view (late-binding and materialized views included),
    parsed from ``pg_views.definition`` of every (selected) database by the SQL lineage engine
    (dialect ``redshift``), and return a lineage manifest: lineage with no query history.

    Names are those of :class:`RedshiftMetadataCollectorOperator`. The catalogs are read now (no
    window); a lineage manifest without a window is pushed every run (edges are idempotent, and
    re-sending keeps column lineage from expiring after 10 days in Monte Carlo): daily is enough
    for views. Definitions that do not parse are skipped and counted in
    ``manifest["stats"]["skipped"]``.

    :param column_lineage: also send column mappings (default True).
    :param databases: see :class:`RedshiftMetadataCollectorOperator` (as are
        ``exclude_databases``, ``schemas``, ``exclude_schemas``, ``include_external`` and the
        connection parameters).
    """

    def __init__(self, *, column_lineage: bool = True, **kwargs: Any) -> None:
        refuse_metadata_options(kwargs, "only_freshness_and_volume", "include_volume")
        super().__init__(**kwargs)
        self.column_lineage = column_lineage

    def make_collector(self) -> RedshiftViewLineageCollector:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return RedshiftViewLineageCollector(
            database_filter=NameFilter(self.databases, self.exclude_databases),
            schema_filter=NameFilter(self.schemas, self.exclude_schemas),
            include_external=self.include_external,
            column_lineage=self.column_lineage,
            fetch_size=self.fetch_size,
        )


class _RedshiftHistoryOperator(WindowedCollectorMixin, _RedshiftOperator):
    """Shared by the query-log and lineage collectors: the window and the history source.

    :param source: ``"sys"`` (``SYS_QUERY_HISTORY`` + ``SYS_QUERY_TEXT``; Serverless and current
        provisioned clusters; needs ``sys:monitor`` or superuser to see other users' queries) or
        ``"stl"`` (``STL_QUERY`` + ``STL_QUERYTEXT``; provisioned only, ~7 days retention).
    :param lag: how far the window is shifted back (default 10 minutes: the SYS views' latency).
    :param start: explicit window start (overrides the data interval). Templated.
    :param end: explicit window end. Templated.
    :param users: include patterns for user names. Templated.
    :param exclude_users: exclude patterns for user names (default ``rdsdb``, Redshift's internal
        user). Templated.
    """

    template_fields: Sequence[str] = (*_RedshiftOperator.template_fields, "start", "end", "users", "exclude_users")
    default_lag: ClassVar[timedelta] = DEFAULT_LAG

    def __init__(
        self,
        *,
        source: str = "sys",
        users: Sequence[str] | str | None = None,
        exclude_users: Sequence[str] | str | None = DEFAULT_EXCLUDED_USERS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if source not in SOURCES:
            raise ValueError(
                f"source must be 'sys' (SYS_QUERY_HISTORY) or 'stl' (STL_QUERY, provisioned clusters), got {source!r}"
            )
        self.source = source
        self.users = users
        self.exclude_users = exclude_users

    def _history(self) -> dict[str, Any]:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return {
            "source": self.source, "user_filter": NameFilter(self.users, self.exclude_users),
            "fetch_size": self.fetch_size,
        }


class RedshiftQueryLogCollectorOperator(_RedshiftHistoryOperator):
    """Collect the statements that finished in the run's data interval (shifted back by ``lag``)
    and return a query-log manifest (log_type ``redshift``). Statements with empty text or an end
    before their start are skipped and counted in ``manifest["stats"]["skipped"]``.

    Parameters: see :class:`_RedshiftHistoryOperator` and :class:`_RedshiftOperator`.
    """

    def make_collector(self) -> RedshiftQueryLogCollector:
        return RedshiftQueryLogCollector(**self._history())


class RedshiftLineageCollectorOperator(_RedshiftHistoryOperator):
    """Parse the statements that succeeded in the run's window with the lineage engine (dialect
    ``redshift``) and return a lineage manifest (resource_type ``redshift``). ``#temp`` tables are
    resolved per session: ``a -> #t -> b`` in one session becomes ``a -> b``.

    Takes the same window and source parameters as :class:`RedshiftQueryLogCollectorOperator`.

    :param default_schema: schema for unqualified table names (Redshift's default search_path
        starts with ``public``).
    :param max_query_chars: statements longer than this are skipped (and counted).
    :param parse_timeout_s: per-statement parse time cap.
    :param parse_workers: parse the window's distinct statement shapes in this many worker
        processes (default 0: in the task). Pays on windows with thousands of distinct shapes and
        idle cores: ``cores available to the task - 1`` (docs/production.md, "Query logs at scale").
    """

    def __init__(
        self,
        *,
        default_schema: str = DEFAULT_SCHEMA,
        max_query_chars: int = 200_000,
        parse_timeout_s: float = 5.0,
        parse_workers: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(parse_workers, int) or parse_workers < 0:
            raise ValueError(f"parse_workers must be a whole number >= 0, got {parse_workers!r}")
        self.default_schema = default_schema
        self.max_query_chars = max_query_chars
        self.parse_timeout_s = parse_timeout_s
        self.parse_workers = parse_workers

    def make_collector(self) -> RedshiftLineageCollector:
        return RedshiftLineageCollector(
            default_schema=self.default_schema, max_query_chars=self.max_query_chars,
            parse_timeout_s=self.parse_timeout_s, parse_workers=self.parse_workers, **self._history(),
        )
