"""OpenLineage facets of this provider's own operators (``get_openlineage_facets_on_complete``).

Airflow's OpenLineage provider (and this provider's listener, which forwards what it extracts as
a task run's inputs/outputs) asks an operator what it read and wrote. Ours answer from the
manifests they built or pushed:

- inputs: the warehouse tables the manifests describe (a metadata manifest's tables, a lineage
  manifest's sources and destinations; a query-log manifest names none), as OpenLineage datasets
  ``<namespace>`` / ``<database>.<schema>.<table>``. The namespace is the warehouse's OpenLineage
  namespace when the collector's hook can say it (``get_openlineage_database_info``, e.g.
  ``postgres://host:5432``), else the manifest's resource type (``snowflake``, ``bigquery``:
  OpenLineage's own BigQuery namespace);
- outputs: the Monte Carlo resource the data is for, one dataset per (resource, kind):
  namespace ``montecarlo``, name ``<resource uuid>/<kind>`` (``default/<kind>`` for manifests
  that leave the UUID to the push operator's connection).

At most :data:`MAX_DATASETS` input datasets are reported (a metadata collector may read tens of
thousands of tables; an OpenLineage event listing them all helps no one). Nothing here imports
OpenLineage at module level: operator modules are imported by DAG files at parse time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

log = logging.getLogger(__name__)

MAX_DATASETS = 1000
MONTE_CARLO_NAMESPACE = "montecarlo"


def manifest_tables(manifest: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(database, schema, table) of every table a manifest describes, in first-seen order."""
    seen: dict[tuple[str, str, str], None] = {}

    def add(ref: Any) -> None:
        if isinstance(ref, Mapping) and all(isinstance(ref.get(k), str) for k in ("database", "schema", "name")):
            seen.setdefault((ref["database"], ref["schema"], ref["name"]), None)

    events = manifest.get("events")
    if not isinstance(events, list):
        # a manifest-parts index (``events`` is a count; the parts are XComs of their own):
        # reading every part back to name its tables would cost what the parts exist to avoid
        return []
    for event in events:
        if not isinstance(event, Mapping):
            continue
        if manifest.get("kind") == "metadata":
            add(event.get("metadata"))
        elif manifest.get("kind") == "lineage":
            for source in event.get("sources") or ():
                add(source)
            add(event.get("destination"))
    return list(seen)


class LineageSummary:
    """What the facets need from manifests seen one at a time (the push reads them in its plan
    pass, so nothing is read again for this), small enough to keep on the operator after
    ``execute``: input datasets (capped) and output datasets."""

    def __init__(self, namespace: str | None = None) -> None:
        self.namespace = namespace
        self.inputs: dict[tuple[str, str], None] = {}
        self.outputs: dict[tuple[str, str], None] = {}
        self.tables = 0

    def add(self, manifest: Any, default_resource_uuid: str | None = None) -> None:
        if not isinstance(manifest, Mapping):
            return
        kind = str(manifest.get("kind"))
        ns = self.namespace or str(manifest.get("resource_type") or manifest.get("log_type") or "warehouse")
        for database, schema, table in manifest_tables(manifest):
            self.tables += 1
            if len(self.inputs) < MAX_DATASETS:
                self.inputs.setdefault((ns, f"{database}.{schema}.{table}"), None)
        uuid = manifest.get("resource_uuid") or default_resource_uuid or "default"
        self.outputs.setdefault((MONTE_CARLO_NAMESPACE, f"{uuid}/{kind}"), None)

    def result(self) -> dict[str, Any]:
        if self.tables > MAX_DATASETS:
            log.info("OpenLineage inputs: the first %s of %s tables reported", MAX_DATASETS, f"{self.tables:,}")
        return {"inputs": list(self.inputs), "outputs": list(self.outputs)}


def summarize(manifests: Iterable[Mapping[str, Any]], namespace: str | None = None) -> dict[str, Any]:
    """:class:`LineageSummary` of ``manifests``."""
    summary = LineageSummary(namespace)
    for manifest in manifests:
        summary.add(manifest)
    return summary.result()


def hook_namespace(hook: Any) -> str | None:
    """``scheme://authority`` the way Airflow's OpenLineage SQL support names this hook's
    warehouse, or None when the hook cannot say (no OpenLineage support, no connection)."""
    try:
        conn_id = getattr(hook, str(getattr(hook, "conn_name_attr", "conn_id")))
        info = hook.get_openlineage_database_info(hook.get_connection(conn_id))
        scheme, authority = getattr(info, "scheme", None), getattr(info, "authority", None)
    except Exception as exc:  # ImportError without OpenLineage, AttributeError, a bad connection
        log.debug("no OpenLineage namespace for %s: %s", type(hook).__name__, exc)
        return None
    if not scheme:
        return None
    return f"{scheme}://{authority}" if authority else str(scheme)


def operator_lineage(summary: Mapping[str, Any] | None) -> Any:
    """An ``OperatorLineage`` for a :func:`summarize` result (None: nothing ran, nothing to say)."""
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import Dataset

    if not summary:
        return OperatorLineage()
    return OperatorLineage(
        inputs=[Dataset(namespace=ns, name=name) for ns, name in summary["inputs"]],
        outputs=[Dataset(namespace=ns, name=name) for ns, name in summary["outputs"]],
    )
