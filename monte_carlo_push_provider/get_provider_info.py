"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

The connection form is declared here (``conn-fields`` / ``ui-field-behaviour``) rather than with
hook widget methods, which are deprecated since Airflow 3.2; Airflow renders it without importing
the hook.
"""

from __future__ import annotations

from typing import Any

from monte_carlo_push_provider import __version__

PACKAGE_NAME = "monte-carlo-push-provider"
# Equal to [project.urls] Documentation in pyproject.toml (Airflow's providers page reads that one).
DOCS_URL = "https://github.com/monte-carlo-push-provider/monte-carlo-push-provider/tree/main/docs"


def get_provider_info() -> dict[str, Any]:
    return {
        # Must equal the distribution name exactly, or `airflow providers list` breaks.
        "package-name": PACKAGE_NAME,
        "name": "Monte Carlo Push",
        "description": "Push warehouse metadata, lineage and query logs to Monte Carlo and confirm they arrived.",
        "versions": [__version__],
        "documentation-url": DOCS_URL,
        "integrations": [
            {
                "integration-name": "Monte Carlo",
                "external-doc-url": "https://docs.getmontecarlo.com/",
                "tags": ["service"],
            }
        ],
        "operators": [
            {
                "integration-name": "Monte Carlo",
                "python-modules": [
                    "monte_carlo_push_provider.operators.push",
                    "monte_carlo_push_provider.operators.sql",
                    "monte_carlo_push_provider.operators.graphql",
                ],
            },
            {"integration-name": "Snowflake", "python-modules": ["monte_carlo_push_provider.operators.snowflake"]},
            {"integration-name": "Google BigQuery", "python-modules": ["monte_carlo_push_provider.operators.bigquery"]},
            {"integration-name": "Databricks", "python-modules": ["monte_carlo_push_provider.operators.databricks"]},
            {"integration-name": "Amazon Redshift", "python-modules": ["monte_carlo_push_provider.operators.redshift"]},
            {"integration-name": "Apache Hive", "python-modules": ["monte_carlo_push_provider.operators.hive"]},
        ],
        "sensors": [
            {
                "integration-name": "Monte Carlo",
                "python-modules": ["monte_carlo_push_provider.sensors.monte_carlo"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Monte Carlo",
                "python-modules": ["monte_carlo_push_provider.triggers.monte_carlo"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Monte Carlo",
                "python-modules": ["monte_carlo_push_provider.hooks.monte_carlo"],
            }
        ],
        "extra-links": ["monte_carlo_push_provider.operators.links.MonteCarloTablesLink"],
        "connection-types": [
            {
                "connection-type": "monte_carlo",
                "hook-class-name": "monte_carlo_push_provider.hooks.monte_carlo.MonteCarloHook",
                "hook-name": "Monte Carlo",
                "conn-fields": {
                    "graphql_key_id": {
                        "label": "GraphQL API key id",
                        "description": "API key for the GraphQL API (sensor, custom lineage, deletes). Falls back to MCD_ID.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "graphql_key_secret": {
                        "label": "GraphQL API key secret",
                        "description": "Secret of the GraphQL API key. Falls back to MCD_TOKEN.",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                    "resource_uuid": {
                        "label": "Resource (warehouse) UUID",
                        "description": "Monte Carlo warehouse UUID pushes are attributed to. Falls back to MCD_RESOURCE_UUID.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "ingest_endpoint": {
                        "label": "Ingestion gateway endpoint",
                        "schema": {"type": ["string", "null"], "default": "https://integrations.getmontecarlo.com"},
                    },
                    "graphql_endpoint": {
                        "label": "GraphQL endpoint",
                        "schema": {"type": ["string", "null"], "default": "https://api.getmontecarlo.com/graphql"},
                    },
                    "timeout_s": {
                        "label": "Request timeout (seconds)",
                        "schema": {"type": ["number", "null"], "default": 60},
                    },
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["host", "schema", "port", "extra"],
                    "relabeling": {"login": "Ingestion key id", "password": "Ingestion key secret"},
                    "placeholders": {
                        "login": "id of a key created with: montecarlo integrations create-key --scope Ingestion",
                        "password": "secret of that ingestion key",
                    },
                },
            }
        ],
    }
