"""BigQuery collector functions that need no server: jobs -> lineage queries with the job's
default dataset and exact-case names, nested type flattening, option literals, timestamps; and,
against the bqemulator stand-in, the scopes dropped-table cleanup compares."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from monte_carlo_push_provider.collectors.bigquery import (
    Job,
    _option_string,
    as_utc,
    lineage_queries,
    restore_case,
    shard_name,
)
from monte_carlo_push_provider.lineage import build_lineage_manifest
from monte_carlo_push_provider.manifest import validate_manifest

T = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


def job(job_id: str, query: str, statement_type: str, **kw: object) -> Job:
    base: dict[str, object] = dict(
        job_id=job_id, project="Proj-1", created=T, started=T, ended=T, user="u@example.com", query=query,
        statement_type=statement_type, job_type="QUERY", total_bytes_billed=None, total_bytes_processed=None,
        error_reason=None, error_message=None, default_dataset=None, destination=None, referenced=[], labels={},
    )
    base.update(kw)
    return Job(**base)  # type: ignore[arg-type]


def test_default_dataset_qualifies_and_case_is_restored() -> None:
    names: dict[str, tuple[str, str, str]] = {}
    jobs = [
        job("a", "INSERT INTO Daily (id) SELECT id FROM Orders", "INSERT", default_dataset=("proj-1", "Sales"),
            destination=("proj-1", "Sales", "Daily"), referenced=[("proj-1", "Sales", "Orders")]),
        job("b", "SELECT * FROM Orders", "SELECT", default_dataset=("proj-1", "Sales")),  # a read: not parsed
        job("c", "INSERT INTO x.y SELECT 1", "INSERT", error_reason="invalidQuery"),  # failed: not parsed
    ]
    queries = list(lineage_queries(jobs, names))
    assert [q["query_id"] for q in queries] == ["a"]
    assert queries[0]["default_database"] == "proj-1" and queries[0]["default_schema"] == "Sales"
    manifest, _ = build_lineage_manifest(queries, dialect="bigquery", resource_type="bigquery")
    restore_case(manifest, names)
    validate_manifest(manifest)
    (event,) = manifest["events"]
    assert {k: event["destination"][k] for k in ("database", "schema", "name")} == {
        "database": "proj-1", "schema": "Sales", "name": "Daily"}
    assert [(s["schema"], s["name"]) for s in event["sources"]] == [("Sales", "Orders")]


def test_small_helpers() -> None:
    assert _option_string('"one \\"quoted\\" row"') == 'one "quoted" row'
    assert as_utc(1_764_064_800_000) == datetime(2025, 11, 25, 10, 0, tzinfo=timezone.utc)
    assert as_utc(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert shard_name("events_20240101") == "events_yyyymmdd"
    assert shard_name("events_2024") is None


# --- dropped-table cleanup: the scopes the metadata collectors declare (bqemulator stand-in) -----


def test_scope_per_project_through_the_dataset_filter(bigquery_conn: Any) -> None:
    """The dataset collector: one scope per project (Monte Carlo's database), its datasets the
    schemas, date-shard folding an option (it renames tables). TABLE_STORAGE (tables only) is
    another source: another scope, through both filters and its region."""
    from monte_carlo_push_provider.operators.bigquery import (
        BigQueryIcebergCollectorOperator,
        BigQueryMetadataCollectorOperator,
    )
    from tests.conftest import make_context
    from tests.standins.bigquery import PROJECT, TABLE_STORAGE_TABLE

    def collect(op: Any) -> dict[str, Any]:
        return validate_manifest(op.execute(make_context(task_id=op.task_id)))

    filtered = collect(BigQueryMetadataCollectorOperator(task_id="m", exclude_datasets=["mc_standins", "scratch"]))
    assert filtered["scope"] == [{"database": PROJECT, "schemas": None, "exclude_schemas": ["mc_standins", "scratch"],
                                  "options": {"collapse_date_shards": True}}]
    assert filtered["complete"] is True and {e["metadata"]["database"] for e in filtered["events"]} == {PROJECT}
    one = collect(BigQueryMetadataCollectorOperator(task_id="m", dataset="sales", collapse_date_shards=False))
    assert one["scope"] == [{"database": PROJECT, "schemas": ["sales"], "exclude_schemas": None,
                             "options": {"collapse_date_shards": False}}]
    empty = collect(BigQueryMetadataCollectorOperator(task_id="m", dataset="empty_ds"))
    assert empty["events"] == [] and empty["scope"][0]["schemas"] == ["empty_ds"]  # an empty dataset is declared
    storage = collect(BigQueryIcebergCollectorOperator(
        task_id="i", region="us", datasets=["lake"], exclude_tables=["tmp_*"], table_storage_table=TABLE_STORAGE_TABLE,
    ))
    assert storage["scope"] == [{"database": PROJECT, "schemas": ["lake"], "exclude_schemas": None, "tables": None,
                                 "exclude_tables": ["tmp_*"], "options": {"source": "table_storage", "region": "region-us"}}]
