"""Hive -> Monte Carlo: metadata from the Hive Metastore, query logs and lineage from the
HiveServer2 log files (here on S3, as EMR ships them), pushed every hour.

Connections used:
- ``hive_metastore``: ``hive_metastore`` connection to the metastore's Thrift port (9083), extra
  ``{"auth_mechanism": "NOSASL"}`` for an unsecured metastore;
- ``aws_default``: reads the log bucket (any ``ObjectStoragePath`` URL works; ``file:///var/log/hive``
  on the HiveServer2 host itself);
- ``monte_carlo_default``: the Monte Carlo connection; its ``resource_uuid`` is your data-lake
  warehouse.

See docs/hive.md for names, call counts and the log format.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from monte_carlo_push_provider.operators.hive import (
    HiveLineageCollectorOperator,
    HiveMetastoreMetadataCollectorOperator,
    HiveQueryLogCollectorOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

LOGS = "s3://my-emr-logs/j-CLUSTERID/node/"  # HiveServer2 logs of every node, rotated and gzipped
# None: Monte Carlo's own Hive naming (database and schema both the Hive database). "hive" keeps
# the provider's earlier names (hive:<db>.<table>); metadata and lineage must use the same value.
LABEL = None

with DAG(
    dag_id="monte_carlo_hive_hourly",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["monte_carlo", "hive", "example"],
    doc_md=__doc__,
):
    metadata = HiveMetastoreMetadataCollectorOperator(
        task_id="metadata",
        metastore_conn_id="hive_metastore",
        database_label=LABEL,
        exclude_databases=["information_schema", "sys"],
        # hourly freshness + volume pushes between daily full ones: add a second DAG with
        # only_freshness_and_volume=True, or set it here and run a full collection daily
    )
    query_logs = HiveQueryLogCollectorOperator(
        task_id="query_logs",
        log_path=LOGS,
        conn_id="aws_default",
        pattern="hive*.log*",
        log_timezone="UTC",  # EMR hosts log in UTC; set the host's zone otherwise
    )
    lineage = HiveLineageCollectorOperator(
        task_id="lineage",
        log_path=LOGS,
        conn_id="aws_default",
        pattern="hive*.log*",
        database_label=LABEL,
    )
    push = MonteCarloPushOperator(
        task_id="push",
        manifests=[metadata.output, query_logs.output, lineage.output],
    )
    # Confirms this push by its invocation_ids (deferrable: waits in the triggerer, no worker
    # slot); the default timeout is the slowest flow's (query logs: 75 min).
    MonteCarloPushedDataSensor(task_id="confirm_arrival", push_result=push.output)
