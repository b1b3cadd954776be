"""OpenLineage datasets -> Monte Carlo refs and lineage events, on the OpenLineage client's own
classes (what Airflow's OpenLineage provider hands the listener), and our operators' facets."""

from __future__ import annotations

import pytest

pytest.importorskip("airflow.providers.openlineage", reason="the openlineage extra is not installed")

from airflow.providers.openlineage.extractors import OperatorLineage  # noqa: E402
from openlineage.client.event_v2 import Dataset  # noqa: E402
from openlineage.client.facet_v2 import column_lineage_dataset  # noqa: E402

from monte_carlo_push_provider.utils.etl_lineage import (  # noqa: E402
    MAX_RUN_REFS,
    dataset_ref,
    openlineage_refs,
    openlineage_table_lineage,
)
from monte_carlo_push_provider.utils.openlineage_facets import operator_lineage, summarize  # noqa: E402

PG = "postgres://db:5432"
RESOURCE = ("uuid-pg", "postgres")


def _column_facet(columns: dict[str, list[tuple[str, str, str]]]):
    return {"columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet(fields={
        column: column_lineage_dataset.Fields(
            inputFields=[column_lineage_dataset.InputField(namespace=ns, name=n, field=f) for ns, n, f in sources],
            transformationDescription="", transformationType="")
        for column, sources in columns.items()
    })}


@pytest.mark.parametrize(("namespace", "name", "expected"), [
    (PG, "shop.public.orders", ("TABLE", "shop:public.orders")),
    ("snowflake://acme-xy123", "SALES.PUBLIC.ORDERS", ("TABLE", "SALES:PUBLIC.ORDERS")),
    ("bigquery", "proj.dataset.events", ("TABLE", "proj:dataset.events")),
    ("hive://metastore:9083", "default.orders", ("DATASET", "hive://metastore:9083/default.orders")),
    ("s3://raw", "orders/2026.csv", ("FILE", "s3://raw/orders/2026.csv")),
    ("kafka://broker:9092", "orders", ("DATASET", "kafka://broker:9092/orders")),
    ("file", "/data/in.csv", ("FILE", "file:///data/in.csv")),
])
def test_dataset_refs(namespace, name, expected):
    ref = dataset_ref(namespace, name, "INPUT")
    assert (ref["asset_type"], ref["fully_qualified_name"]) == expected


def test_refs_are_sorted_deduplicated_and_capped():
    inputs = [Dataset(namespace=PG, name=f"shop.public.t{i:03}") for i in range(MAX_RUN_REFS + 5)]
    refs, outputs = openlineage_refs(OperatorLineage(inputs=inputs + inputs[:3], outputs=[]))
    assert len(refs) == MAX_RUN_REFS and refs[0]["fully_qualified_name"] == "shop:public.t000"
    assert outputs == []


def test_lineage_with_columns_same_namespace_only():
    lineage = OperatorLineage(
        inputs=[Dataset(namespace=PG, name="shop.public.a"), Dataset(namespace=PG, name="shop.public.b"),
                Dataset(namespace="s3://raw", name="x.csv"), Dataset(namespace="postgres://other:5432", name="o.p.q")],
        outputs=[Dataset(namespace=PG, name="shop.public.c", facets=_column_facet({
            "id": [(PG, "shop.public.a", "id"), (PG, "shop.public.b", "id")],
            "total": [(PG, "shop.public.b", "amount"), ("postgres://other:5432", "o.p.q", "z")],
        }))],
    )
    ((resource, event),) = openlineage_table_lineage(lineage, {PG: RESOURCE})
    assert resource == RESOURCE
    assert event["destination"] == {"type": "TABLE", "name": "c", "database": "shop", "schema": "public"}
    assert [(s["name"], s["asset_id"]) for s in event["sources"]] == [("a", "s0"), ("b", "s1")]
    assert event["fields"] == [
        {"name": "id", "source_fields": [{"asset_id": "s0", "field_name": "id"}, {"asset_id": "s1", "field_name": "id"}]},
        {"name": "total", "source_fields": [{"asset_id": "s1", "field_name": "amount"}]},
    ]


def test_table_lineage_without_facet_and_no_self_edge():
    lineage = OperatorLineage(inputs=[Dataset(namespace=PG, name="shop.public.a"), Dataset(namespace=PG, name="shop.public.c")],
                              outputs=[Dataset(namespace=PG, name="shop.public.c")])  # UPDATE c FROM a
    ((_, event),) = openlineage_table_lineage(lineage, {PG: RESOURCE})
    assert event == {"destination": {"type": "TABLE", "name": "c", "database": "shop", "schema": "public"},
                     "sources": [{"type": "TABLE", "name": "a", "database": "shop", "schema": "public"}]}


def test_unmapped_or_sourceless_outputs_push_nothing_and_conn_id_maps():
    lineage = OperatorLineage(inputs=[Dataset(namespace=PG, name="shop.public.a")],
                              outputs=[Dataset(namespace=PG, name="shop.public.c")])
    assert openlineage_table_lineage(lineage, {"postgres://elsewhere:5432": RESOURCE}) == []
    assert openlineage_table_lineage(lineage, {"my_pg": RESOURCE}, conn_id="other") == []
    assert len(openlineage_table_lineage(lineage, {"my_pg": RESOURCE}, conn_id="my_pg")) == 1
    created = OperatorLineage(inputs=[], outputs=[Dataset(namespace=PG, name="shop.public.c")])  # CREATE TABLE c (...)
    assert openlineage_table_lineage(created, {PG: RESOURCE}) == []


def test_operator_facets_from_manifests():
    metadata = {"kind": "metadata", "resource_type": "snowflake", "resource_uuid": "wh-1", "events": [
        {"type": "TABLE", "metadata": {"name": "ORDERS", "database": "SALES", "schema": "PUBLIC"}}]}
    lineage = {"kind": "lineage", "resource_type": "snowflake", "resource_uuid": None, "events": [
        {"destination": {"type": "TABLE", "name": "B", "database": "SALES", "schema": "PUBLIC"},
         "sources": [{"type": "TABLE", "name": "ORDERS", "database": "SALES", "schema": "PUBLIC"}]}]}
    logs = {"kind": "query_logs", "log_type": "snowflake", "resource_uuid": "wh-1", "events": [{"query_text": "x"}]}
    result = operator_lineage(summarize([metadata, lineage, logs]))
    assert [(d.namespace, d.name) for d in result.inputs] == [("snowflake", "SALES.PUBLIC.ORDERS"),
                                                              ("snowflake", "SALES.PUBLIC.B")]
    assert [(d.namespace, d.name) for d in result.outputs] == [
        ("montecarlo", "wh-1/metadata"), ("montecarlo", "default/lineage"), ("montecarlo", "wh-1/query_logs")]
    assert operator_lineage(None).inputs == []  # execute never ran (a failed try before the manifest)


def test_plain_tasks_are_not_worth_extracting():
    """A @task / Bash task: OpenLineage would only repeat its assets, so no import is paid."""
    from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.python import PythonOperator

    from monte_carlo_push_provider.listeners.openlineage import worth_extracting
    from monte_carlo_push_provider.operators.push import MonteCarloPushOperator

    assert not worth_extracting(PythonOperator(task_id="p", python_callable=print))
    assert not worth_extracting(BashOperator(task_id="b", bash_command="true"))
    assert worth_extracting(SQLExecuteQueryOperator(task_id="s", sql="SELECT 1", conn_id="c"))
    assert worth_extracting(MonteCarloPushOperator(task_id="m", manifests=[]))
