"""Snowflake collectors: metadata, query logs and lineage through Airflow's ``SnowflakeHook``.

Each operator declares its parameters and returns one manifest v1 for
:class:`~monte_carlo_push_provider.operators.push.MonteCarloPushOperator`; the SQL and the policy
(ACCESS_HISTORY -> QUERY_HISTORY fallback, upper-case folding, column stripping) are the
collectors' in :mod:`monte_carlo_push_provider.collectors.snowflake`. The Snowflake provider, the
connector and sqlglot are imported inside ``execute`` only.

Typical DAGs (see ``example_dags/snowflake_*.py`` and ``docs/snowflake.md``):

- hourly ``SnowflakeMetadataCollectorOperator(only_freshness_and_volume=True)`` + a daily full one;
- hourly ``SnowflakeQueryLogCollectorOperator`` and ``SnowflakeLineageCollectorOperator``;
- daily ``SnowflakeViewLineageCollectorOperator``: lineage of every view from its definition;
- one mapped collector per database: ``.partial(...).expand(database=[...])``, the push operator
  takes the list of manifests.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from monte_carlo_push_provider.collectors.base import check_choice, check_positive
from monte_carlo_push_provider.collectors.snowflake import (
    ACCESS_HISTORY_LATENCY,
    DEFAULT_ACCOUNT_USAGE,
    DEFAULT_CONN_ID,
    LINEAGE_SOURCES,
    QUERY_HISTORY_LATENCY,
    SnowflakeLineageCollector,
    SnowflakeMetadataCollector,
    SnowflakeQueryLogCollector,
    SnowflakeViewLineageCollector,
)
from monte_carlo_push_provider.operators.base import (
    BaseCollectorOperator,
    WindowedCollectorMixin,
    refuse_metadata_options,
)

if TYPE_CHECKING:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

__all__ = [
    "DEFAULT_CONN_ID",
    "LINEAGE_SOURCES",
    "SnowflakeLineageCollectorOperator",
    "SnowflakeMetadataCollectorOperator",
    "SnowflakeQueryLogCollectorOperator",
    "SnowflakeViewLineageCollectorOperator",
]


class _SnowflakeCollector(BaseCollectorOperator):
    """Shared settings: the Snowflake connection and where ACCOUNT_USAGE lives.

    :param snowflake_conn_id: the Snowflake connection (templated).
    :param account_usage_schema: where ACCOUNT_USAGE is (``SNOWFLAKE.ACCOUNT_USAGE``, or your own
        copy / secure views over it), as a dotted name or ``(database, schema)``.
    :param fetch_size: rows per ``fetchmany``.
    """

    template_fields: Sequence[str] = (*BaseCollectorOperator.template_fields, "snowflake_conn_id")

    def __init__(
        self,
        *,
        snowflake_conn_id: str = DEFAULT_CONN_ID,
        account_usage_schema: str | Sequence[str] = ".".join(DEFAULT_ACCOUNT_USAGE),
        fetch_size: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_positive("fetch_size", fetch_size)
        self.snowflake_conn_id = snowflake_conn_id
        self.account_usage_schema = account_usage_schema
        self.fetch_size = fetch_size

    def get_source(self) -> SnowflakeHook:
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        return SnowflakeHook(snowflake_conn_id=self.snowflake_conn_id)


class SnowflakeMetadataCollectorOperator(_SnowflakeCollector):
    """Collect tables and views (columns, view text, row count, bytes, last altered, comments).

    Per database, one query on ``INFORMATION_SCHEMA.TABLES`` (views joined in) and one on
    ``INFORMATION_SCHEMA.COLUMNS``. With ``account_usage=True``, one query each on
    ``ACCOUNT_USAGE.TABLES`` / ``COLUMNS`` for the whole account instead (cheaper for many
    databases, but those views lag up to 90 minutes: new tables and fresh row counts show late).

    :param database: collect exactly this database (templated; use ``.expand(database=[...])`` for
        one mapped task per database). Without it, every database ``SHOW DATABASES`` lists that
        ``databases`` / ``exclude_databases`` let through (never the ``SNOWFLAKE`` system database).
    :param databases: include patterns for database names (globs, or ``re:`` regexes). Templated.
    :param exclude_databases: exclude patterns for database names. Templated.
    :param schemas: include patterns for schema names. Templated.
    :param exclude_schemas: exclude patterns for schema names. Templated.
    :param only_freshness_and_volume: skip columns, view text and comments (hourly runs; push the
        full schema from a daily DAG).
    :param account_usage: read ``ACCOUNT_USAGE.TABLES/COLUMNS`` (one query each) instead of each
        database's INFORMATION_SCHEMA.
    :param collect_tags: send object tags set on tables and views as ``RelationalAsset.tags``
        (one query on ``ACCOUNT_USAGE.TAG_REFERENCES``, up to 2 hours behind; full-schema runs
        only). A role that cannot read the view gets one warning and the metadata without tags
        (``stats.tags.unavailable`` in the manifest). ``False`` skips the query.
    :param snowflake_conn_id: see :class:`_SnowflakeCollector` (also ``account_usage_schema``,
        ``fetch_size``, ``resource_uuid``).
    """

    template_fields: Sequence[str] = (
        *_SnowflakeCollector.template_fields, "database", "databases", "exclude_databases", "schemas",
        "exclude_schemas",
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
        collect_tags: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.collect_tags = collect_tags
        self.database = database
        self.databases = databases
        self.exclude_databases = exclude_databases
        self.schemas = schemas
        self.exclude_schemas = exclude_schemas
        self.only_freshness_and_volume = only_freshness_and_volume
        self.account_usage = account_usage

    def make_collector(self) -> SnowflakeMetadataCollector:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return SnowflakeMetadataCollector(
            database=self.database,
            database_filter=NameFilter(self.databases, self.exclude_databases),
            schema_filter=NameFilter(self.schemas, self.exclude_schemas),
            only_freshness_and_volume=self.only_freshness_and_volume,
            account_usage=self.account_usage,
            account_usage_schema=self.account_usage_schema,
            collect_tags=self.collect_tags,
            fetch_size=self.fetch_size,
        )


class SnowflakeQueryLogCollectorOperator(WindowedCollectorMixin, _SnowflakeCollector):
    """Collect ``ACCOUNT_USAGE.QUERY_HISTORY`` for the DAG run's data interval, shifted back by
    ``lag`` (the view's latency), as query logs with ``log_type`` ``snowflake``.

    Queries are assigned to the window they *finished* in, so consecutive runs (and backfills)
    leave no gap and no overlap. Warehouse details go in ``extra``; failed queries keep
    ``error_code`` / ``error_text``. Queries without text or with an end before their start are
    skipped and counted in ``manifest["stats"]["skipped"]``.

    :param lag: how far the window is shifted back (default 45 minutes, QUERY_HISTORY's latency).
    :param start: explicit window start (templated; overrides the data interval).
    :param end: explicit window end (templated).
    :param snowflake_conn_id: see :class:`_SnowflakeCollector`.
    """

    template_fields: Sequence[str] = (*_SnowflakeCollector.template_fields, "start", "end")
    default_lag: ClassVar[timedelta] = QUERY_HISTORY_LATENCY

    def make_collector(self) -> SnowflakeQueryLogCollector:
        return SnowflakeQueryLogCollector(account_usage_schema=self.account_usage_schema, fetch_size=self.fetch_size)


class SnowflakeLineageCollectorOperator(WindowedCollectorMixin, _SnowflakeCollector):
    """Collect table and column lineage for the DAG run's data interval, shifted back by ``lag``.

    :param source: ``access_history`` (Enterprise edition): ``ACCOUNT_USAGE.ACCESS_HISTORY.OBJECTS_MODIFIED``,
        ``columns[].directSources`` (``baseSources`` where Snowflake recorded no direct ones);
        ``query_history`` (Standard edition): ``QUERY_HISTORY`` SQL parsed by the project's SQL
        lineage engine (:mod:`monte_carlo_push_provider.lineage`); ``auto`` (default):
        ACCESS_HISTORY, falling back to QUERY_HISTORY when the view cannot be read (it does not
        exist for this role / edition).
    :param lag: how far the window is shifted back (default 3 hours, ACCESS_HISTORY's latency;
        QUERY_HISTORY is complete by then too).
    :param column_lineage: send column mappings (column lineage expires after 10 days in Monte
        Carlo; table lineage does not).
    :param start: explicit window start (templated).
    :param end: explicit window end (templated).
    :param snowflake_conn_id: see :class:`_SnowflakeCollector`.
    """

    template_fields: Sequence[str] = (*_SnowflakeCollector.template_fields, "start", "end")
    default_lag: ClassVar[timedelta] = ACCESS_HISTORY_LATENCY

    def __init__(self, *, source: str = "auto", column_lineage: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_choice("source", source, LINEAGE_SOURCES)
        self.source = source
        self.column_lineage = column_lineage

    def make_collector(self) -> SnowflakeLineageCollector:
        return SnowflakeLineageCollector(
            source=self.source, column_lineage=self.column_lineage,
            account_usage_schema=self.account_usage_schema, fetch_size=self.fetch_size,
        )


class SnowflakeViewLineageCollectorOperator(SnowflakeMetadataCollectorOperator):
    """Table and column lineage of every view, parsed from the view definitions in the catalog
    (``INFORMATION_SCHEMA.VIEWS.VIEW_DEFINITION`` per database, or ``ACCOUNT_USAGE.VIEWS`` with
    ``account_usage=True``) by the SQL lineage engine, and return a lineage manifest: lineage with
    no query history (no ACCESS_HISTORY, no Enterprise edition).

    Names are spelled as the metadata push spells them (unquoted upper-case, quoted kept). The
    catalog is read now (no window); a lineage manifest without a window is pushed every run
    (edges are idempotent, and re-sending keeps column lineage from expiring after 10 days in
    Monte Carlo): daily is enough for views. Views without a definition the role may see (secure
    views of another owner) and definitions that do not parse are skipped and counted in
    ``manifest["stats"]["skipped"]``.

    :param column_lineage: also send column mappings (default True).
    :param database: see :class:`SnowflakeMetadataCollectorOperator` (as are ``databases``,
        ``exclude_databases``, ``schemas``, ``exclude_schemas``, ``account_usage``,
        ``snowflake_conn_id``, ``account_usage_schema``, ``fetch_size``, ``resource_uuid``).
    """

    def __init__(self, *, column_lineage: bool = True, **kwargs: Any) -> None:
        refuse_metadata_options(kwargs, "only_freshness_and_volume", "collect_tags")
        super().__init__(collect_tags=False, **kwargs)
        self.column_lineage = column_lineage

    def make_collector(self) -> SnowflakeViewLineageCollector:
        from monte_carlo_push_provider.collectors.common import NameFilter

        return SnowflakeViewLineageCollector(
            database=self.database,
            database_filter=NameFilter(self.databases, self.exclude_databases),
            schema_filter=NameFilter(self.schemas, self.exclude_schemas),
            account_usage=self.account_usage,
            account_usage_schema=self.account_usage_schema,
            column_lineage=self.column_lineage,
            fetch_size=self.fetch_size,
        )
