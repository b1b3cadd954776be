"""A view-lineage operator refuses the metadata-only parameters of its metadata sibling, by name."""

from __future__ import annotations

import pytest

from monte_carlo_push_provider.operators.athena import AthenaGlueViewLineageCollectorOperator
from monte_carlo_push_provider.operators.bigquery import BigQueryViewLineageCollectorOperator
from monte_carlo_push_provider.operators.databricks import DatabricksViewLineageCollectorOperator
from monte_carlo_push_provider.operators.hive import (
    HiveMetastoreViewLineageCollectorOperator,
    HiveServer2ViewLineageCollectorOperator,
)
from monte_carlo_push_provider.operators.redshift import RedshiftViewLineageCollectorOperator
from monte_carlo_push_provider.operators.snowflake import SnowflakeViewLineageCollectorOperator

CASES = [
    (AthenaGlueViewLineageCollectorOperator, "include_volume"),
    (BigQueryViewLineageCollectorOperator, "collect_tags"),
    (DatabricksViewLineageCollectorOperator, "describe_detail_max_tables"),
    (HiveMetastoreViewLineageCollectorOperator, "max_partitions"),
    (HiveServer2ViewLineageCollectorOperator, "only_freshness_and_volume"),
    (RedshiftViewLineageCollectorOperator, "include_volume"),
    (SnowflakeViewLineageCollectorOperator, "collect_tags"),
]


@pytest.mark.parametrize(("operator", "option"), CASES, ids=[c[0].__name__ for c in CASES])
def test_metadata_only_option_is_refused_by_name(operator: type, option: str) -> None:
    with pytest.raises(ValueError, match=f"^{option} does not apply to view lineage; remove it$"):
        operator(task_id="views", **{option: True})
