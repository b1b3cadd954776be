"""``example_dags/hive_to_monte_carlo.py`` run for real: metadata from the Hive stand-in's
metastore (``tests/standins/hive.py``), query logs and lineage from HiveServer2 log files in an
S3 bucket of the moto stand-in (``tests/standins/aws.py``, ``aws_default`` pointing at it): the
example's own ``s3://my-emr-logs/...`` path, laid out as EMR ships the logs. The log lines are
those ``tests/operators/test_hive.py`` writes."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.example_dags.runner import dags_test, lineage_edges, relational_assets
from tests.operators.test_hive import write_logs
from tests.standins.aws import AwsStandIn

BUCKET, PREFIX = "my-emr-logs", "j-CLUSTERID/node/i-0standin/applications/hive/"
LOGICAL = datetime(2026, 11, 25, 11, tzinfo=timezone.utc)  # reads [10:00, 11:00), the logs' hour


def test_hive_example(hive_conns: Any, aws: AwsStandIn, mc_conn: Any, airflow_db: Any, tmp_path: Path) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for path in write_logs(tmp_path / "logs").iterdir():
        s3.upload_file(str(path), BUCKET, PREFIX + path.name)
    mc_conn.use("data-lake")
    run = dags_test("hive_to_monte_carlo", tmp_path, logical_date=LOGICAL)
    print(f"hive: {run.seconds:.1f} s")

    assets = {(a["metadata"]["schema"], a["metadata"]["name"]): a for a in relational_assets(mc_conn)}
    assert {("sales", n) for n in ("big_orders", "events", "orders", "raw_clicks")} <= set(assets), sorted(assets)
    assert assets[("sales", "big_orders")]["type"] == "VIEW"
    assert [e["event"]["query_id"] for e in mc_conn.events("query_logs")] == ["hive_1", "hive_2", "hive_3", "hive_4"]
    assert lineage_edges(mc_conn) == [("sales.sales.order_report", ("sales.sales.stage",))]
    seen = run.confirmation()
    assert re.match(r"metadata (\d+)/\1 confirmed\. lineage (\d+)/\2 confirmed\. query_logs (\d+)/\3 confirmed$", seen)
