"""The parts of the Databricks collector the stand-in cannot exercise, and the pure helpers.

Everything that runs SQL is tested through the real hook in tests/operators/test_databricks.py,
except the scopes dropped-table cleanup compares (against brickhouse, at the end).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from dateutil.tz import tzlocal

from monte_carlo_push_provider.collectors import databricks as dbx
from monte_carlo_push_provider.operators import databricks as ops
from tests.conftest import REPO


def test_describe_detail_sql_quotes_every_part() -> None:
    assert dbx.describe_detail_sql("main", "Raw Data", "we`ird; DROP TABLE x; --") == (
        "DESCRIBE DETAIL `main`.`Raw Data`.`we``ird; DROP TABLE x; --`"
    )


def test_describe_detail_row_normalisation() -> None:
    """NOT a stand-in run: brickhouse cannot execute DESCRIBE DETAIL, so this one row is written
    by hand in the shape Databricks documents (keys lower-cased by ``iter_dicts``; the connector
    returns lastModified as a datetime). The only non-real input in the Databricks tests."""
    row = {
        "format": "delta", "name": "main.core.orders", "numfiles": 12, "sizeinbytes": 734003,
        "lastmodified": datetime(2026, 11, 25, 9, 15, 30),  # naive: the warehouse's UTC session zone
    }
    assert dbx.describe_detail_volume(row) == (734003, datetime(2026, 11, 25, 9, 15, 30, tzinfo=timezone.utc))
    assert dbx.describe_detail_volume({"sizeinbytes": None, "lastmodified": None}) == (None, None)


@pytest.mark.parametrize(
    ("builder", "relation"),
    [
        (dbx.tables_sql, "`we``ird cat`.`information_schema`.`tables`"),
        (dbx.views_sql, "`we``ird cat`.`information_schema`.`views`"),
        (dbx.columns_sql, "`we``ird cat`.`information_schema`.`columns`"),
    ],
)
def test_catalog_name_is_quoted_in_information_schema_sql(builder: object, relation: str) -> None:
    sql = builder("we`ird cat")  # type: ignore[operator]
    assert f"FROM {relation}\n" in sql
    assert "we" not in sql.replace(relation, "")  # the name appears nowhere else, quoted or not


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        (datetime(2026, 11, 25, 9, 0), datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)),
        (datetime(2026, 11, 25, 10, 0, tzinfo=timezone(timedelta(hours=1))), datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)),
        ("2026-11-25T09:00:00Z", datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)),
        ("2026-11-25 09:00:00.5", datetime(2026, 11, 25, 9, 0, 0, 500000, tzinfo=timezone.utc)),
    ],
)
def test_to_utc(value: object, expected: datetime | None) -> None:
    result = dbx.to_utc(value)
    assert result == expected
    if result is not None:
        assert result.tzinfo is timezone.utc


def test_to_utc_converts_the_connectors_tzlocal_values() -> None:
    # the SEA JSON path parses '...Z' with dateutil, which may attach tzlocal()
    local = datetime(2026, 11, 25, 9, 0, tzinfo=tzlocal())
    assert dbx.to_utc(local) == local.astimezone(timezone.utc)
    assert dbx.to_utc(local).tzinfo is timezone.utc  # type: ignore[union-attr]


def test_operator_constants_are_the_collectors() -> None:
    # one definition: the operator module imports the collector's (stdlib-only) constants
    assert ops.VOLUME_SOURCES is dbx.VOLUME_SOURCES
    assert ops.LOG_TYPES is dbx.LOG_TYPES
    assert ops.DatabricksQueryLogCollectorOperator.default_lag == dbx.DEFAULT_SYSTEM_TABLE_LAG
    assert ops.DEFAULT_EXCLUDED_CATALOGS is dbx.DEFAULT_EXCLUDED_CATALOGS


def test_operators_refuse_unknown_settings() -> None:
    with pytest.raises(ValueError, match="volume_source must be one of"):
        ops.DatabricksMetadataCollectorOperator(task_id="m", volume_source="analyze")
    with pytest.raises(ValueError, match="log_type must be one of"):
        ops.DatabricksQueryLogCollectorOperator(task_id="q", log_type="databricks-sql")


def test_operator_module_import_is_cheap() -> None:
    # (``airflow.providers.databricks`` itself is imported by Airflow's provider discovery for
    # its get_provider_info; the hook module and the connector must not be.)
    code = (
        "import sys; import monte_carlo_push_provider.operators.databricks\n"
        "heavy = [m for m in ('databricks', 'databricks.sql', 'airflow.providers.databricks.hooks.databricks_sql',"
        " 'pycarlo', 'sqlglot') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


# --- dropped-table cleanup: the scopes the metadata collector declares (brickhouse stand-in) ----


def test_scope_per_catalog_through_the_schema_filter(databricks_conn: str) -> None:
    """One scope per catalog read (Monte Carlo's database), an empty catalog included, through
    the schema filter; the catalog filter only chooses which scopes there are."""
    from monte_carlo_push_provider.manifest import validate_manifest
    from tests.conftest import make_context

    op = ops.DatabricksMetadataCollectorOperator(task_id="m", catalogs=["empty_cat", "ops", "sales"],
                                                 exclude_schemas=["tmp_*"])
    manifest = validate_manifest(op.execute(make_context(task_id="m")))
    assert manifest["scope"] == [{"database": c, "schemas": None, "exclude_schemas": ["tmp_*"]}
                                 for c in ("empty_cat", "ops", "sales")]
    assert manifest["complete"] is True
    assert {e["metadata"]["database"] for e in manifest["events"]} == {"ops", "sales"}
    one = ops.DatabricksMetadataCollectorOperator(task_id="m", catalogs="sales", schemas=["re:raw.*"])
    assert one.execute(make_context(task_id="m"))["scope"] == [
        {"database": "sales", "schemas": ["re:raw.*"], "exclude_schemas": None}]
