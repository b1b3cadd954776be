"""Operators for Monte Carlo's GraphQL mutations: custom lineage and deleting push tables.

All go through :meth:`MonteCarloHook.graphql` (the provider's one GraphQL transport, the
connection's GraphQL API key) with the documents in
:mod:`monte_carlo_push_provider.utils.graphql_documents`. What they return as XCom is Monte
Carlo's answer as is, with its camelCase field names (``displayName``, ``expireAt``).

Custom lineage nodes and edges **expire after 7 days** unless given ``expireAt``: these
operators default ``expire_at`` to ``9999-12-31`` (permanent). Pass ``expire_at=None`` to get
Monte Carlo's 7-day default on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
from monte_carlo_push_provider.utils.errors import MonteCarloConfigError

# The limits live with the one implementation of push-table deletion (re-exported here).
from monte_carlo_push_provider.utils.table_deletion import MAX_DELETE_MCONS, TABLES_PER_CALL  # noqa: F401

if TYPE_CHECKING:
    from airflow.sdk import Context

#: Permanent: without expireAt Monte Carlo deletes custom lineage after 7 days, silently.
PERMANENT = "9999-12-31"
EDGE_TYPES = ("IS_DOWNSTREAM", "MODIFIES", "IS_READ_BY")


def _expire_at(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise MonteCarloConfigError(f"expire_at must be a date, datetime, ISO string or None, got {value!r}")


class _MonteCarloGraphQLOperator(BaseOperator):
    """What the GraphQL operators share: the connection id (templated) and one hook per task."""

    template_fields: Sequence[str] = ("monte_carlo_conn_id",)

    def __init__(self, *, monte_carlo_conn_id: str = MonteCarloHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.monte_carlo_conn_id = monte_carlo_conn_id

    @cached_property
    def hook(self) -> MonteCarloHook:
        return MonteCarloHook(self.monte_carlo_conn_id)


def _node_input(value: Any, what: str, default_resource: str | None) -> dict[str, Any]:
    """A ``NodeInput`` from a fullTableId string or a dict with snake_case or camelCase keys."""
    if isinstance(value, str):
        value = {"object_type": "table", "object_id": value}
    if not isinstance(value, Mapping):
        raise MonteCarloConfigError(f"{what} must be a fullTableId or a dict with object_type / object_id, got {value!r}")

    def get(snake: str, camel: str) -> Any:
        return value.get(snake) if value.get(snake) is not None else value.get(camel)

    node = {
        "objectType": get("object_type", "objectType"),
        "objectId": get("object_id", "objectId"),
        "resourceId": get("resource_id", "resourceId"),
        "resourceName": get("resource_name", "resourceName"),
    }
    for key in ("objectType", "objectId"):
        if not isinstance(node[key], str) or not node[key]:
            raise MonteCarloConfigError(f"{what}: {key} is required (e.g. objectType 'table', objectId 'db:schema.table')")
    if not node["resourceId"] and not node["resourceName"]:
        node["resourceId"] = default_resource
        if not default_resource:
            raise MonteCarloConfigError(
                f"{what}: pass resource_id or resource_name (or set the connection's resource_uuid)"
            )
    return {k: v for k, v in node.items() if v is not None}


class MonteCarloCreateOrUpdateLineageNodeOperator(_MonteCarloGraphQLOperator):
    """Create or update a custom lineage node (``createOrUpdateLineageNode``).

    :param object_type: e.g. ``table``, ``view``, ``report``, ``job``.
    :param object_id: the node's id within its resource (for tables, the fullTableId).
    :param resource_id: warehouse / resource UUID (default: the connection's ``resource_uuid``
        unless ``resource_name`` is given).
    :param resource_name: the resource's name, instead of ``resource_id``.
    :param name: display name.
    :param properties: ``{name: value}`` or ``[{"propertyName", "propertyValue"}]``.
    :param expire_at: default ``9999-12-31`` (permanent); ``None`` = Monte Carlo's 7-day expiry.
    :return: the node (``mcon``, ``displayName``, ``objectType``, ``isCustom``, ``expireAt``).
    """

    template_fields: Sequence[str] = (
        "object_type", "object_id", "resource_id", "resource_name", "name", "properties", "expire_at", "monte_carlo_conn_id",
    )

    def __init__(
        self,
        *,
        object_type: str,
        object_id: str,
        resource_id: str | None = None,
        resource_name: str | None = None,
        name: str | None = None,
        properties: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        expire_at: str | date | datetime | None = PERMANENT,
        monte_carlo_conn_id: str = MonteCarloHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(monte_carlo_conn_id=monte_carlo_conn_id, **kwargs)
        self.object_type = object_type
        self.object_id = object_id
        self.resource_id = resource_id
        self.resource_name = resource_name
        self.name = name
        self.properties = properties
        self.expire_at = expire_at

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.utils.graphql_documents import CREATE_OR_UPDATE_LINEAGE_NODE

        hook = self.hook
        node = _node_input(
            {"object_type": self.object_type, "object_id": self.object_id, "resource_id": self.resource_id,
             "resource_name": self.resource_name},
            "node", hook.get_credentials().resource_uuid,
        )
        properties = self.properties
        if isinstance(properties, Mapping):
            properties = [{"propertyName": str(k), "propertyValue": None if v is None else str(v)} for k, v in properties.items()]
        variables = {**node, "name": self.name, "properties": properties, "expireAt": _expire_at(self.expire_at)}
        if variables["expireAt"] is None:
            self.log.warning("expire_at=None: Monte Carlo deletes this node after 7 days")
        data = hook.graphql(CREATE_OR_UPDATE_LINEAGE_NODE, variables)
        result = ((data.get("createOrUpdateLineageNode") or {}).get("node")) or {}
        self.log.info(
            "lineage node %s (%s) created/updated, expires %s",
            result.get("mcon"), result.get("objectType"), result.get("expireAt") or variables["expireAt"],
        )
        return result


class MonteCarloCreateOrUpdateLineageEdgeOperator(_MonteCarloGraphQLOperator):
    """Create or update a custom lineage edge (``createOrUpdateLineageEdge``).

    :param source: fullTableId string (a table in the connection's warehouse) or a dict
        ``{object_type, object_id, resource_id?, resource_name?}`` (camelCase keys work too).
    :param destination: same as ``source``.
    :param edge_type: ``IS_DOWNSTREAM`` (Monte Carlo's default), ``MODIFIES`` or ``IS_READ_BY``.
    :param expire_at: default ``9999-12-31`` (permanent); ``None`` = Monte Carlo's 7-day expiry.
    :return: the edge (``source``/``destination`` nodes, ``isCustom``, ``expireAt``).
    """

    template_fields: Sequence[str] = ("source", "destination", "edge_type", "expire_at", "monte_carlo_conn_id")

    def __init__(
        self,
        *,
        source: str | Mapping[str, Any],
        destination: str | Mapping[str, Any],
        edge_type: str | None = None,
        expire_at: str | date | datetime | None = PERMANENT,
        monte_carlo_conn_id: str = MonteCarloHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(monte_carlo_conn_id=monte_carlo_conn_id, **kwargs)
        if edge_type is not None and edge_type not in EDGE_TYPES:
            raise ValueError(f"edge_type must be one of {', '.join(EDGE_TYPES)}, got {edge_type!r}")
        self.source = source
        self.destination = destination
        self.edge_type = edge_type
        self.expire_at = expire_at

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.utils.graphql_documents import CREATE_OR_UPDATE_LINEAGE_EDGE

        hook = self.hook
        default_resource = hook.get_credentials().resource_uuid
        variables = {
            "source": _node_input(self.source, "source", default_resource),
            "destination": _node_input(self.destination, "destination", default_resource),
            "expireAt": _expire_at(self.expire_at),
            "edgeType": self.edge_type,
        }
        if variables["expireAt"] is None:
            self.log.warning("expire_at=None: Monte Carlo deletes this edge after 7 days")
        data = hook.graphql(CREATE_OR_UPDATE_LINEAGE_EDGE, variables)
        edge = ((data.get("createOrUpdateLineageEdge") or {}).get("edge")) or {}
        self.log.info(
            "lineage edge %s -> %s (%s) created/updated, expires %s",
            (edge.get("source") or {}).get("mcon"), (edge.get("destination") or {}).get("mcon"),
            self.edge_type or "IS_DOWNSTREAM", edge.get("expireAt") or variables["expireAt"],
        )
        return edge


class MonteCarloDeleteLineageNodeOperator(_MonteCarloGraphQLOperator):
    """Delete a lineage node and every edge touching it (``deleteLineageNode``). Irreversible.

    :param mcon: the node's MCON.
    :return: ``{"objectsDeleted", "nodesDeleted", "edgesDeleted"}``.
    """

    template_fields: Sequence[str] = ("mcon", "monte_carlo_conn_id")

    def __init__(self, *, mcon: str, monte_carlo_conn_id: str = MonteCarloHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(monte_carlo_conn_id=monte_carlo_conn_id, **kwargs)
        self.mcon = mcon

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.utils.graphql_documents import DELETE_LINEAGE_NODE

        if not isinstance(self.mcon, str) or not self.mcon.startswith("MCON++"):
            raise MonteCarloConfigError(f"mcon must be a Monte Carlo MCON (MCON++...), got {self.mcon!r}")
        data = self.hook.graphql(DELETE_LINEAGE_NODE, {"mcon": self.mcon})
        result = data.get("deleteLineageNode") or {}
        self.log.info(
            "deleted lineage node %s: %s node(s), %s edge(s)", self.mcon, result.get("nodesDeleted"), result.get("edgesDeleted")
        )
        return result


class MonteCarloDeletePushIngestedTablesOperator(_MonteCarloGraphQLOperator):
    """Delete push-ingested tables (``deletePushIngestedTables``), with their lineage nodes and
    every edge touching them. Irreversible; try ``dry_run=True`` first.

    :param full_table_ids: ``db:schema.table`` ids; their MCONs are resolved with
        ``getTables(mcons: [...])`` (100 a call, by the push-table MCON), the rest with
        ``getTable(fullTableId, dwId)``; ids Monte Carlo does not know are reported, not sent.
    :param mcons: MCONs to delete as they are (no lookup).
    :param resource_uuid: the warehouse of ``full_table_ids`` (default: the connection's).
    :param dry_run: resolve and list what would be deleted, delete nothing. Stored as
        ``dry_run_only`` (``dry_run`` is BaseOperator's dry-run method).
    :param chunk_size: MCONs per call, at most 1,000 (Monte Carlo's limit).
    :return: ``{"dry_run", "mcons", "not_found", "deleted_count", "calls"}``.
    """

    template_fields: Sequence[str] = ("full_table_ids", "mcons", "resource_uuid", "monte_carlo_conn_id")

    def __init__(
        self,
        *,
        full_table_ids: Sequence[str] | None = None,
        mcons: Sequence[str] | None = None,
        resource_uuid: str | None = None,
        dry_run: bool = False,
        chunk_size: int = MAX_DELETE_MCONS,
        monte_carlo_conn_id: str = MonteCarloHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(monte_carlo_conn_id=monte_carlo_conn_id, **kwargs)
        if not 1 <= chunk_size <= MAX_DELETE_MCONS:
            raise ValueError(f"chunk_size must be between 1 and {MAX_DELETE_MCONS} (Monte Carlo's limit per call), got {chunk_size}")
        if full_table_ids is None and mcons is None:
            raise ValueError("pass full_table_ids and/or mcons")
        self.full_table_ids = full_table_ids
        self.mcons = mcons
        self.resource_uuid = resource_uuid
        # Not ``self.dry_run``: that would shadow BaseOperator.dry_run(), the method
        # ``airflow tasks test --dry-run`` calls.
        self.dry_run_only = dry_run
        self.chunk_size = chunk_size

    def execute(self, context: Context) -> dict[str, Any]:
        from monte_carlo_push_provider.utils.table_deletion import delete_push_tables, resolve_push_tables

        hook = self.hook
        dw_id = self.resource_uuid or hook.get_credentials().resource_uuid
        targets: dict[str, str] = {}  # mcon -> what the user named (fullTableId or the mcon)
        for m in _strings(self.mcons, "mcons"):
            targets.setdefault(m, m)
        resolved, not_found = resolve_push_tables(hook, _strings(self.full_table_ids, "full_table_ids"), dw_id, log=self.log)
        for mcon, ftid in resolved.items():
            targets.setdefault(mcon, ftid)
        if not_found:
            self.log.warning(
                "%d fullTableId(s) not found in warehouse %s (nothing to delete): %s",
                len(not_found), dw_id, ", ".join(not_found[:50]) + (" ..." if len(not_found) > 50 else ""),
            )
        mcons = list(targets)
        result: dict[str, Any] = {"dry_run": self.dry_run_only, "mcons": mcons, "not_found": not_found, "deleted_count": 0, "calls": 0}
        if self.dry_run_only:
            self.log.info("dry run: would delete %d push-ingested table(s) (and their lineage):", len(mcons))
            for m in mcons:
                self.log.info("  would delete %s (%s)", targets[m], m)
            return result
        result["deleted_count"], result["calls"] = delete_push_tables(hook, mcons, log=self.log, chunk_size=self.chunk_size)
        self.log.info("deleted %d push-ingested table(s) in %d call(s)", result["deleted_count"], result["calls"])
        return result


def _strings(values: Any, what: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out = []
    for v in values:
        if not isinstance(v, str) or not v:
            raise MonteCarloConfigError(f"{what} must be non-empty strings, got {v!r}")
        out.append(v)
    return list(dict.fromkeys(out))
