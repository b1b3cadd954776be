"""A local stand-in for Monte Carlo's integration gateway and GraphQL API, for tests and demos.

``monte-carlo-sandbox --port 0`` (or ``python -m monte_carlo_sandbox``) serves
``/ingest/v1/{metadata,lineage,querylogs}`` and ``/graphql`` on 127.0.0.1, validates every push
as strictly as the contract in ``docs/sandbox.md`` says, stores what it accepts in SQLite and
answers GraphQL from the schema shipped inside pycarlo.
:class:`~monte_carlo_sandbox.testing.SandboxProcess` runs it as a subprocess;
``monte_carlo_sandbox.pytest_plugin`` provides fixtures (the ``test`` extra: pytest).

This module is import-light (stdlib only): the constants below are what tests and connection
builders need without starting anything. Nothing here imports the provider.
"""

from __future__ import annotations

import uuid

__version__ = "0.1.0"

#: Namespace for every deterministic id the sandbox hands out (so restarts keep the same ids).
SANDBOX_NAMESPACE = uuid.UUID("6d6f6e74-6563-6172-6c6f-73616e64626f")
#: The single account every key belongs to.
SANDBOX_ACCOUNT_UUID = str(uuid.uuid5(SANDBOX_NAMESPACE, "account"))
#: The user ``getUser`` returns.
SANDBOX_USER_EMAIL = "sandbox@example.com"

#: resource_type -> Monte Carlo's ``WarehouseModelConnectionType`` (the schema's enum has no
#: DATABRICKS or POSTGRES: Databricks metastores are data-lake warehouses and Postgres is a
#: transactional database in Monte Carlo).
WAREHOUSE_CONNECTION_TYPES: dict[str, str] = {
    "snowflake": "SNOWFLAKE",
    "bigquery": "BIGQUERY",
    "databricks": "DATA_LAKE",
    "redshift": "REDSHIFT",
    "data-lake": "DATA_LAKE",
    "postgres": "TRANSACTIONAL_DB",
}
#: resource_type -> warehouse (resource) uuid; one warehouse per resource type.
SANDBOX_WAREHOUSES: dict[str, str] = {
    rtype: str(uuid.uuid5(SANDBOX_NAMESPACE, f"warehouse:{rtype}")) for rtype in WAREHOUSE_CONNECTION_TYPES
}
#: The snowflake warehouse: what a connection gets when it names no resource type.
DEFAULT_RESOURCE_UUID = SANDBOX_WAREHOUSES["snowflake"]

#: Default credentials (override with CLI flags, ``SANDBOX_*`` env vars or constructor args).
DEFAULT_INGEST_KEY_ID = "sandbox-ingest-id"
DEFAULT_INGEST_KEY_SECRET = "sandbox-ingest-secret"
DEFAULT_GRAPHQL_KEY_ID = "sandbox-graphql-id"
DEFAULT_GRAPHQL_KEY_SECRET = "sandbox-graphql-secret"

#: The three push flows; used as ``kind`` everywhere (admin API, store, visibility delays).
FLOWS = ("metadata", "lineage", "query_logs")

__all__ = [
    "DEFAULT_GRAPHQL_KEY_ID",
    "DEFAULT_GRAPHQL_KEY_SECRET",
    "DEFAULT_INGEST_KEY_ID",
    "DEFAULT_INGEST_KEY_SECRET",
    "DEFAULT_RESOURCE_UUID",
    "FLOWS",
    "SANDBOX_ACCOUNT_UUID",
    "SANDBOX_NAMESPACE",
    "SANDBOX_USER_EMAIL",
    "SANDBOX_WAREHOUSES",
    "WAREHOUSE_CONNECTION_TYPES",
]
