"""Metadata collector for any database Airflow's common.sql ``DbApiHook`` reaches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from monte_carlo_push_provider.operators.base import BaseCollectorOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class SqlMetadataCollectorOperator(BaseCollectorOperator):
    """Collect tables and views (with columns, row and byte counts where the database knows them)
    through any common.sql hook, and return a metadata manifest.

    :param conn_id: an Airflow connection whose hook is a ``DbApiHook`` (sqlite, postgres, …).
    :param database: the database name Monte Carlo should show (SQLite has none of its own).
    :param resource_type: Monte Carlo connection type of the warehouse the push lands in.
    :param schemas: include patterns for schema names (globs, or ``re:`` regexes).
    :param exclude_schemas: exclude patterns for schema names.
    :param only_freshness_and_volume: skip columns, view text and descriptions (hourly runs).
    :param catalog: force the catalog SQL family: ``sqlite``, ``postgres`` or ``information_schema``.
    """

    template_fields: Sequence[str] = ("conn_id", "database", "resource_uuid", "schemas", "exclude_schemas")

    def __init__(
        self,
        *,
        conn_id: str,
        database: str,
        resource_type: str,
        schemas: Sequence[str] | str | None = None,
        exclude_schemas: Sequence[str] | str | None = None,
        only_freshness_and_volume: bool = False,
        catalog: str | None = None,
        fetch_size: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if catalog not in (None, "sqlite", "postgres", "information_schema"):
            raise ValueError(f"catalog must be sqlite, postgres or information_schema, got {catalog!r}")
        self.conn_id = conn_id
        self.database = database
        self.resource_type = resource_type
        self.schemas = schemas
        self.exclude_schemas = exclude_schemas
        self.only_freshness_and_volume = only_freshness_and_volume
        self.catalog = catalog
        self.fetch_size = fetch_size

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.sdk import BaseHook

        from monte_carlo_push_provider.collectors.common import NameFilter
        from monte_carlo_push_provider.collectors.sql import catalog_family, collect_sql_metadata
        from monte_carlo_push_provider.manifest import new_manifest

        self.start_timer()
        hook = BaseHook.get_connection(self.conn_id).get_hook()
        family = self.catalog or catalog_family(hook)
        self.log.info("reading the %s catalog of %s through %s", family, self.database, type(hook).__name__)
        events = list(
            collect_sql_metadata(
                hook,
                database=self.database,
                schema_filter=NameFilter(self.schemas, self.exclude_schemas),
                family=family,
                only_freshness_and_volume=self.only_freshness_and_volume,
                fetch_size=self.fetch_size,
            )
        )
        manifest = new_manifest(
            "metadata", events, resource_type=self.resource_type, resource_uuid=self.resource_uuid,
            database=self.database,
        )
        self.log_summary(manifest, f"{self.conn_id} ({self.database})")
        return manifest
