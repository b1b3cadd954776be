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
            {"integration-name": "Amazon Athena", "python-modules": ["monte_carlo_push_provider.operators.athena"]},
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
        # Loaded by Airflow only with [core] lazy_discover_providers = False; the airflow.plugins
        # entry point (pyproject.toml) loads the same class in every other setup.
        "plugins": [
            {
                "name": "monte_carlo_push_listener",
                "plugin-class": "monte_carlo_push_provider.plugins.listener.MonteCarloListenerPlugin",
            }
        ],
        "config": {
            "monte_carlo": {
                "description": "Monte Carlo push provider: the Airflow listener that pushes DAGs, tasks and "
                "runs as Monte Carlo ETL metadata and runs, and where push state lives.",
                "options": {
                    "airflow_push": {
                        "description": "Push this Airflow's DAGs (ETL metadata) and dag/task runs (ETL runs) "
                        "to Monte Carlo from a listener. Off by default; needs airflow_resource_uuid.",
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "True",
                        "default": "False",
                    },
                    "airflow_resource_uuid": {
                        "description": "UUID of the Monte Carlo ETL container (resource type airflow) the "
                        "DAGs and runs belong to. Find it with the GraphQL query "
                        "getEtlContainers { uuid name type }.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                        "default": "",
                    },
                    "conn_id": {
                        "description": "The monte_carlo connection (ingestion key, endpoint) the listener "
                        "pushes with.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": None,
                        "default": "monte_carlo_default",
                    },
                    "state_path": {
                        "description": "Root of the push state: the push operator's checkpoints and hourly "
                        "ledger, and the listener's per-DAG metadata fingerprints. A local path or an "
                        "ObjectStoragePath URL (s3://, gs://) for the operator; the listener keeps its "
                        "files local and falls back to $AIRFLOW_HOME/monte_carlo_push_state for a URL. "
                        "Empty: $MONTE_CARLO_PUSH_STATE_PATH, else $AIRFLOW_HOME/monte_carlo_push_state.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "s3://my-bucket/monte_carlo_push_state",
                        "default": "",
                    },
                    "airflow_flush_timeout_s": {
                        "description": "Longest a task process waits at exit for the listener's events to "
                        "be sent (after the task's outcome is recorded); the rest is logged and dropped.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": None,
                        "default": "5",
                    },
                    "airflow_request_timeout_s": {
                        "description": "Timeout of one listener request to the ingestion gateway.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": None,
                        "default": "10",
                    },
                    "airflow_queue_size": {
                        "description": "Events the listener holds per process while Monte Carlo is slow; "
                        "beyond this, new events are dropped and counted.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": None,
                        "default": "10000",
                    },
                    "airflow_lineage_resources": {
                        "description": "JSON object mapping a namespace (the scheme://authority of an "
                        "Airflow Asset URI, or an OpenLineage dataset namespace such as postgres://db:5432, "
                        "snowflake://account or bigquery) or an Airflow connection id (the conn_id of a SQL "
                        "task) to the Monte Carlo warehouse UUID and resource type that the tables of the "
                        "DAGs' assets and of the tasks' OpenLineage inputs/outputs are pushed as table and "
                        "column lineage for, e.g. "
                        '{"postgres://db:5432": {"uuid": "...", "resource_type": "postgres"}}.',
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": None,
                        "default": "",
                    },
                    "airflow_openlineage": {
                        "description": "With apache-airflow-providers-openlineage installed (the openlineage "
                        "extra), read each finished task's OpenLineage inputs/outputs in its task process "
                        "(SQL operators, transfers, operators with OpenLineage methods; works with "
                        "OpenLineage emission disabled) and send them as the task run's inputs/outputs, and "
                        "as lineage for warehouses mapped in airflow_lineage_resources.",
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "False",
                        "default": "True",
                    },
                    "airflow_openlineage_timeout_s": {
                        "description": "Longest the listener waits for one task's OpenLineage extraction "
                        "(after the task's outcome is recorded); past it the run is sent without "
                        "OpenLineage inputs/outputs and a warning is logged once per process.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": None,
                        "default": "10",
                    },
                },
            }
        },
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
