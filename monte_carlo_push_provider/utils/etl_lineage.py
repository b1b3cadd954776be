"""A task's Airflow assets (``inlets`` / ``outlets``) as Monte Carlo ``AssetRef`` dicts.

Airflow 3 assets are the lineage every task can declare without any provider: an ``Asset`` URI
per input or output. They ride on the ETL task (declaration-time ``inputs``/``outputs`` in the
job's metadata) and on each finished attempt (run-time ``inputs``/``outputs``).

Warehouse URIs (Airflow's normalised forms, e.g. ``postgres://host:5432/db/schema/table``,
``snowflake://account/db/schema/table``, ``bigquery://project/dataset/table``) become ``TABLE``
refs named Monte Carlo's way, ``<database>:<schema>.<table>`` (its ``fullTableId``); object-store
and file URIs become ``FILE`` refs; anything else a ``DATASET`` ref named by its URI.
"""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import unquote, urlsplit

#: URI schemes whose path is ``[database/]schema/table``.
WAREHOUSE_SCHEMES = frozenset(
    {"postgres", "postgresql", "mysql", "redshift", "snowflake", "bigquery", "databricks", "trino", "sqlite",
     "mssql", "oracle", "hive", "athena", "awsathena", "clickhouse", "teradata"}
)
FILE_SCHEMES = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "abfss", "wasb", "file", "hdfs", "ftp", "sftp"})


def _uri(asset: Any) -> str | None:
    uri = getattr(asset, "uri", None)
    return uri if isinstance(uri, str) and uri else None


def asset_ref(asset: Any, role: str) -> dict[str, Any] | None:
    """``AssetRef.to_dict()`` for one Airflow asset, or None for what has no URI (an ``AssetAlias``)."""
    uri = _uri(asset)
    if uri is None:
        return None
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    path = [unquote(p) for p in parts.path.split("/") if p]
    if scheme in WAREHOUSE_SCHEMES and len(path) >= 2:
        if scheme == "bigquery" and parts.netloc:  # bigquery://project/dataset/table
            database, schema, table = parts.netloc, path[-2], path[-1]
        else:
            database = path[-3] if len(path) >= 3 else parts.netloc
            schema, table = path[-2], path[-1]
        return {"asset_type": "TABLE", "role": role, "fully_qualified_name": f"{database}:{schema}.{table}"}
    asset_type = "FILE" if scheme in FILE_SCHEMES else "DATASET"
    return {"asset_type": asset_type, "role": role, "fully_qualified_name": uri}


def task_asset_refs(task: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(inputs, outputs) of a task from its ``inlets`` / ``outlets``; sorted and de-duplicated so
    the SDK task and its serialized twin give the same lists (the metadata fingerprint compares them)."""

    def refs(values: Any, role: str) -> list[dict[str, Any]]:
        out = {}
        for value in values or ():
            ref = asset_ref(value, role)
            if ref is not None:
                out[(ref["asset_type"], ref["fully_qualified_name"])] = ref
        return [out[k] for k in sorted(out)]

    return refs(getattr(task, "inlets", None), "INPUT"), refs(getattr(task, "outlets", None), "OUTPUT")


def _namespace(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme.lower()}://{parts.netloc}"


def parse_resource_map(text: str) -> dict[str, tuple[str, str]]:
    """``[monte_carlo] airflow_lineage_resources``: JSON ``{key: {"uuid", "resource_type"}}``, a
    key being a namespace — an asset URI's ``scheme://authority`` (``postgres://warehouse:5432``),
    which is also the OpenLineage dataset namespace (``bigquery`` for BigQuery) — or an Airflow
    connection id (matched against a task's ``conn_id`` when its namespace is not mapped).
    Raises ValueError naming the bad entry."""
    if not text.strip():
        return {}
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("airflow_lineage_resources must be a JSON object {namespace: {uuid, resource_type}}")
    out = {}
    for namespace, target in data.items():
        if not isinstance(target, dict) or not target.get("uuid") or not target.get("resource_type"):
            raise ValueError(
                f"airflow_lineage_resources[{namespace!r}] must be {{\"uuid\": ..., \"resource_type\": ...}}, "
                f"got {target!r}"
            )
        out[namespace.rstrip("/")] = (str(target["uuid"]), str(target["resource_type"]))
    return out


def table_lineage(dag: Any, resources: dict[str, tuple[str, str]]) -> list[tuple[tuple[str, str], dict[str, Any]]]:
    """Push-lineage events (``LineageEvent.to_dict()``) a DAG's assets declare, per warehouse:
    each task's output table in a mapped namespace, fed by that task's input tables of the same
    namespace. [(resource, event)]."""
    out = []
    for task in sorted(getattr(dag, "tasks", []) or [], key=lambda t: t.task_id):
        inlets = [a for a in getattr(task, "inlets", None) or () if _uri(a)]
        outlets = [a for a in getattr(task, "outlets", None) or () if _uri(a)]
        for outlet in outlets:
            resource = resources.get(_namespace(outlet.uri))
            destination = _lineage_ref(outlet)
            if resource is None or destination is None:
                continue
            sources = [
                ref for a in inlets if _namespace(a.uri) == _namespace(outlet.uri)
                for ref in [_lineage_ref(a)] if ref is not None
            ]
            if sources:
                out.append((resource, {"destination": destination, "sources": sources}))
    return out


def _lineage_ref(asset: Any) -> dict[str, Any] | None:
    ref = asset_ref(asset, "OUTPUT")
    if ref is None or ref["asset_type"] != "TABLE":
        return None
    database, _, rest = ref["fully_qualified_name"].partition(":")
    schema, _, table = rest.partition(".")
    return {"type": "TABLE", "name": table, "database": database, "schema": schema}


# --------------------------------------------------------------------------------------------
# OpenLineage datasets (what Airflow's OpenLineage provider extracts for a finished task)
# --------------------------------------------------------------------------------------------
# Read by attribute only (``namespace``, ``name``, ``facets``), so nothing here imports
# OpenLineage. Namespaces are OpenLineage's: ``postgres://host:5432``, ``snowflake://account``,
# ``bigquery``, ``s3://bucket``, ``file``; warehouse dataset names are ``db.schema.table``.

#: Most column-lineage source fields sent for one destination column (a SELECT * of a wide
#: table stays one event of bounded size).
MAX_SOURCE_FIELDS = 200
#: Most OpenLineage inputs (and, separately, outputs) one task run carries.
MAX_RUN_REFS = 100


def _scheme(namespace: str) -> str:
    return namespace.split(":", 1)[0].lower()


def _table_parts(namespace: str, name: str) -> tuple[str, str, str] | None:
    """(database, schema, table) of a warehouse dataset, or None for anything else (files, topics,
    names with fewer than three parts, which no Monte Carlo table name can be built from)."""
    if _scheme(namespace) not in WAREHOUSE_SCHEMES:
        return None
    parts = name.split(".")
    if len(parts) < 3 or not all(parts):
        return None
    return ".".join(parts[:-2]), parts[-2], parts[-1]


def dataset_ref(namespace: str, name: str, role: str) -> dict[str, Any]:
    """``AssetRef.to_dict()`` for one OpenLineage dataset: warehouse tables named Monte Carlo's
    way (``<database>:<schema>.<table>``, as :func:`asset_ref` names an Airflow asset of the same
    table), object-store and file datasets as ``FILE`` and anything else as ``DATASET`` refs
    named ``<namespace>/<name>`` (OpenLineage's own identifier)."""
    table = _table_parts(namespace, name)
    if table is not None:
        database, schema, tname = table
        return {"asset_type": "TABLE", "role": role, "fully_qualified_name": f"{database}:{schema}.{tname}"}
    asset_type = "FILE" if _scheme(namespace) in FILE_SCHEMES else "DATASET"
    if namespace in ("file", "file://"):  # local files: namespace "file", name the absolute path
        return {"asset_type": "FILE", "role": role, "fully_qualified_name": f"file://{name}"}
    return {"asset_type": asset_type, "role": role, "fully_qualified_name": f"{namespace.rstrip('/')}/{name.lstrip('/')}"}


def _datasets(values: Any) -> list[tuple[str, str, Any]]:
    out = []
    for dataset in values or ():
        namespace, name = getattr(dataset, "namespace", None), getattr(dataset, "name", None)
        if isinstance(namespace, str) and isinstance(name, str) and namespace and name:
            out.append((namespace, name, getattr(dataset, "facets", None) or {}))
    return out


def merge_refs(*ref_lists: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Refs of one role from several sources, de-duplicated and sorted (stable across processes)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for refs in ref_lists:
        for ref in refs:
            out.setdefault((ref["asset_type"], ref["fully_qualified_name"]), ref)
    return [out[k] for k in sorted(out)]


def openlineage_refs(lineage: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(inputs, outputs) ``AssetRef`` dicts of an ``OperatorLineage``, at most
    :data:`MAX_RUN_REFS` of each (the first in sorted order): a run event is one of up to 100 in
    an ETL request, which has no size-aware batching."""
    inputs = [dataset_ref(ns, name, "INPUT") for ns, name, _ in _datasets(getattr(lineage, "inputs", None))]
    outputs = [dataset_ref(ns, name, "OUTPUT") for ns, name, _ in _datasets(getattr(lineage, "outputs", None))]
    return merge_refs(inputs)[:MAX_RUN_REFS], merge_refs(outputs)[:MAX_RUN_REFS]


def _facet(facets: Any, key: str) -> Any:
    return facets.get(key) if isinstance(facets, dict) else getattr(facets, key, None)


def _column_inputs(facets: Any) -> dict[str, list[tuple[str, str, str]]]:
    """destination column -> [(namespace, dataset name, source column)] from a ``columnLineage``
    dataset facet (``fields: {column: {inputFields: [{namespace, name, field}]}}``)."""
    facet = _facet(facets, "columnLineage")
    fields = _facet(facet, "fields") if facet is not None else None
    out: dict[str, list[tuple[str, str, str]]] = {}
    for column, spec in (fields or {}).items():
        sources = []
        for source in _facet(spec, "inputFields") or ():
            values = tuple(_facet(source, k) for k in ("namespace", "name", "field"))
            if all(isinstance(v, str) and v for v in values):
                sources.append(values)
        if sources:
            out[str(column)] = sources
    return out


def _lineage_table(namespace: str, name: str) -> dict[str, Any] | None:
    table = _table_parts(namespace, name)
    if table is None:
        return None
    database, schema, tname = table
    return {"type": "TABLE", "name": tname, "database": database, "schema": schema}


def _source_id(
    sources: dict[tuple[str, str], dict[str, Any]], destination: tuple[str, str], namespace: str, name: str
) -> str | None:
    """The local ``asset_id`` of a source table of ``destination``, added to ``sources`` on first
    sight; None for a table of another warehouse or the destination itself (an ``UPDATE``)."""
    if namespace != destination[0] or name == destination[1]:
        return None
    if (namespace, name) not in sources:
        ref = _lineage_table(namespace, name)
        if ref is None:
            return None
        sources[(namespace, name)] = {**ref, "asset_id": f"s{len(sources)}"}
    return sources[(namespace, name)]["asset_id"]


def openlineage_table_lineage(
    lineage: Any, resources: dict[str, tuple[str, str]], *, conn_id: str | None = None
) -> list[tuple[tuple[str, str], dict[str, Any]]]:
    """Push-lineage events (``LineageEvent.to_dict()``) for one task's OpenLineage datasets:
    each output table whose namespace is mapped in ``resources`` (or, failing that, whose task's
    ``conn_id`` is), fed by the input tables of the same namespace, with column lineage from the
    output's ``columnLineage`` facet. [(resource, event)]."""
    inputs = _datasets(getattr(lineage, "inputs", None))
    out: list[tuple[tuple[str, str], dict[str, Any]]] = []
    for namespace, name, facets in _datasets(getattr(lineage, "outputs", None)):
        resource = resources.get(namespace.rstrip("/")) or (resources.get(conn_id) if conn_id else None)
        destination = _lineage_table(namespace, name)
        if resource is None or destination is None:
            continue
        sources: dict[tuple[str, str], dict[str, Any]] = {}
        source_id = functools.partial(_source_id, sources, (namespace, name))
        for ns, dataset, _ in inputs:
            source_id(ns, dataset)
        fields = []
        for column, column_sources in sorted(_column_inputs(facets).items()):
            refs: dict[tuple[str, str], dict[str, str]] = {}
            for ns, dataset, field in column_sources:
                asset_id = source_id(ns, dataset)
                if asset_id is not None:
                    refs.setdefault((asset_id, field), {"asset_id": asset_id, "field_name": field})
            if refs:
                fields.append({"name": column, "source_fields": [refs[k] for k in sorted(refs)][:MAX_SOURCE_FIELDS]})
        if not sources:
            continue
        if fields:
            event = {"destination": destination, "sources": list(sources.values()), "fields": fields}
        else:  # table lineage: no column mapping needs the local ids
            event = {"destination": destination,
                     "sources": [{k: v for k, v in s.items() if k != "asset_id"} for s in sources.values()]}
        out.append((resource, event))
    return out
