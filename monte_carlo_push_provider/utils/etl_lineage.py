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
    """``[monte_carlo] airflow_lineage_resources``: JSON ``{namespace: {"uuid", "resource_type"}}``,
    a namespace being an asset URI's ``scheme://authority`` (``postgres://warehouse:5432``).
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
