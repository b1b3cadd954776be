"""GraphQL: pycarlo's own schema, graphql-core validation, resolvers over the read model.

Any document invalid against ``pycarlo/lib/schema.json`` is rejected with graphql-core's
validation messages (HTTP 400, ``{"errors": [...]}``; pycarlo raises ``GqlError`` whose message
is those messages joined, and does not retry it). Resolver errors (a missing table argument, too
many MCONs) come back HTTP 200 with ``errors`` and ``data``, as graphql servers answer them.

Only the operations listed in ``RESOLVED_OPERATIONS`` return data; any other valid operation
resolves to null (it is valid, the sandbox just knows nothing about it). A lookup of one node
that does not exist (``getTable`` of an unknown or deleted table, ``getWarehouse`` of an unknown
uuid) answers HTTP 200 with the field null and a field error saying it was not found, the way a
graphene server answers a resolver that raises; ``getTables`` is a filter and simply leaves
unknown MCONs out.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

import graphql

from monte_carlo_sandbox import SANDBOX_ACCOUNT_UUID, SANDBOX_USER_EMAIL, SANDBOX_WAREHOUSES
from monte_carlo_sandbox.store import Store
from monte_carlo_sandbox.views import (
    Lineage,
    ReadModel,
    Table,
    iso,
    make_mcon,
    parse_time,
    query_category,
    query_hash,
)

#: Custom lineage nodes and edges expire after 7 days unless given expireAt.
CUSTOM_LINEAGE_TTL_S = 7 * 24 * 3600
MAX_DELETE_MCONS = 1000
METRIC_NAMES = ("total_row_count", "total_byte_count", "total_row_count_last_changed_on")

#: getTables page size when the document gives no ``first``.
DEFAULT_PAGE_SIZE = 100

RESOLVED_OPERATIONS = (
    "getUser",
    "getWarehouse",
    "getTable",
    "getTables",
    "getTableLineage",
    "getDerivedTablesPartialLineage",
    "getMetricsV4",
    "getAggregatedQueries",
    "createOrUpdateLineageNode",
    "createOrUpdateLineageEdge",
    "deleteLineageNode",
    "deletePushIngestedTables",
)


@functools.lru_cache(maxsize=1)
def load_schema() -> graphql.GraphQLSchema:
    """The schema pycarlo ships (an introspection result), built once per process (~0.3 s).

    ``assume_valid=True`` because the introspection encodes enum default values as strings,
    which graphql-core's schema validation refuses although every document validates fine.
    """
    text = (resources.files("pycarlo") / "lib" / "schema.json").read_text(encoding="utf-8")
    data = json.loads(text)
    schema = graphql.build_client_schema(data["data"] if "data" in data else data, assume_valid=True)
    _repair_enum_defaults(schema)
    return schema


def _repair_enum_defaults(schema: graphql.GraphQLSchema) -> None:
    """Turn enum defaults the introspection encodes as strings (``"IS_DOWNSTREAM"``) into enum
    literals; otherwise executing a field that omits such an argument fails with "invalid default
    value" although Monte Carlo's server applies the default."""

    def repair(holder: Any, type_: Any) -> None:
        named = graphql.get_named_type(type_)
        default = getattr(holder, "default", None)
        literal = getattr(default, "literal", None)
        if (
            isinstance(named, graphql.GraphQLEnumType)
            and isinstance(literal, graphql.StringValueNode)
            and literal.value in named.values
        ):
            holder.default = type(default)(literal=graphql.EnumValueNode(value=literal.value))

    for type_ in schema.type_map.values():
        if isinstance(type_, (graphql.GraphQLObjectType, graphql.GraphQLInterfaceType)):
            for field_def in type_.fields.values():
                for arg in field_def.args.values():
                    repair(arg, arg.type)
        elif isinstance(type_, graphql.GraphQLInputObjectType):
            for input_field in type_.fields.values():
                repair(input_field, input_field.type)


class GraphQLApi:
    def __init__(self, store: Store, model: ReadModel, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.model = model
        self.clock = clock
        self.schema = load_schema()
        self.root: dict[str, Any] = {name: getattr(self, name) for name in RESOLVED_OPERATIONS}
        # ETL reads (getEtlContainers, getEtlJobsV3, ...) live with the ETL endpoints.
        from monte_carlo_sandbox.etl import EtlGraphQL

        self.root.update(EtlGraphQL(store, clock).resolvers())

    def execute(self, body: Any) -> tuple[int, dict[str, Any]]:
        """(HTTP status, response JSON) for one ``POST /graphql`` JSON body."""
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return 400, {"errors": [{"message": "POST body must be JSON {\"query\": \"...\", \"variables\": {...}}"}]}
        variables = body.get("variables")
        if variables is not None and not isinstance(variables, dict):
            return 400, {"errors": [{"message": "variables must be a JSON object"}]}
        try:
            document = graphql.parse(body["query"])
        except graphql.GraphQLError as exc:
            return 400, {"errors": [exc.formatted]}
        errors = graphql.validate(self.schema, document)
        if errors:
            return 400, {"errors": [e.formatted for e in errors]}
        result = graphql.execute(
            self.schema,
            document,
            root_value=self.root,
            variable_values=variables,
            operation_name=body.get("operationName"),
            field_resolver=_resolve_field,
        )
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            out["errors"] = [e.formatted for e in result.errors]
            # Variable coercion errors mean nothing ran: a request error, not a field error.
            if result.data is None:
                return 400, out
        return 200, out

    # -- shaping ----------------------------------------------------------------------------

    def _warehouse(self, resource_uuid: str) -> dict[str, Any] | None:
        warehouse = self.model.warehouse(resource_uuid)
        if warehouse is None:
            return None
        # Resolved only when the document selects it (it reads every push of the warehouse).
        return {**warehouse, "pushEvents": lambda _info, **_: self.model.push_events(resource_uuid)}

    def _table(self, t: Table) -> dict[str, Any]:
        warehouse = self._warehouse(t.resource_uuid)

        def versions(_info: Any, first: int | None = None, **_: Any) -> dict[str, Any]:
            newest_first = list(reversed(t.versions))
            if first is not None:
                newest_first = newest_first[:first]
            edges = []
            for ts, invocation_id, fields in newest_first:
                field_edges = [
                    {
                        "cursor": str(i),
                        "node": {
                            "id": f"{t.mcon}+{invocation_id}+{f['name']}",
                            "name": f["name"],
                            "fieldType": f["type"],
                            "description": f.get("description"),
                            "mode": None,
                            "originalName": f["name"],
                            "dataMetricTimeField": False,
                            "fieldMcon": f"{t.mcon}+++{f['name']}",
                        },
                    }
                    for i, f in enumerate(fields)
                ]
                edges.append(
                    {
                        "cursor": invocation_id,
                        "node": {
                            "id": invocation_id,
                            "versionId": invocation_id,
                            "timestamp": iso(ts),
                            "fields": {"pageInfo": _page_info(), "edges": field_edges},
                        },
                    }
                )
            return {"pageInfo": _page_info(), "edges": edges}

        return {
            "id": t.mcon,
            "mcon": t.mcon,
            "fullTableId": t.full_table_id,
            "tableId": t.name,
            "dataset": t.schema,
            "projectName": t.database,
            "friendlyName": t.name,
            "tableType": t.table_type,
            "description": t.description,
            "viewQuery": t.view_query,
            "createdTime": t.created_on,
            "lastModified": t.last_update_time,
            "lastUpdatedOn": t.last_update_time,
            "discoveredTime": iso(t.first_seen),
            "lastObserved": iso(t.last_observed),
            "isDeleted": False,
            "isExcluded": False,
            "isMonitored": True,
            "tracked": True,
            "priority": 0,
            "dynamicTable": False,
            "dataProvider": "push",
            "ingestType": "push",
            "ingestInvocationId": t.invocation_id,
            "warehouse": warehouse,
            "versions": versions,
            "tags": {
                "pageInfo": _page_info(),
                "edges": [
                    {
                        "cursor": str(i),
                        "node": {
                            "id": f"{t.mcon}+tag+{i}",
                            "tag": tag["key"] if tag.get("value") is None else f"{tag['key']}:{tag['value']}",
                            "isActive": True,
                        },
                    }
                    for i, tag in enumerate(t.tags)
                ],
            },
        }

    # -- queries ----------------------------------------------------------------------------

    def getUser(self, _info: Any) -> dict[str, Any]:  # noqa: N802 - GraphQL field name
        return {
            "id": "sandbox-user",
            "email": SANDBOX_USER_EMAIL,
            "firstName": "Sandbox",
            "lastName": "User",
            "displayName": "Sandbox User",
            "isDeleted": False,
            "isSso": False,
            "account": {
                "id": SANDBOX_ACCOUNT_UUID,
                "uuid": SANDBOX_ACCOUNT_UUID,
                "name": "Monte Carlo sandbox",
                "isDeleted": False,
                "warehouses": [self._warehouse(w["uuid"]) for w in self.model.warehouses()],
                "hasWarehouses": True,
            },
        }

    def getTable(  # noqa: N802
        self, _info: Any, mcon: str | None = None, fullTableId: str | None = None, dwId: Any = None  # noqa: N803
    ) -> dict[str, Any] | None:
        table = self.model.find_table(mcon=mcon, full_id=fullTableId, dw_id=dwId)
        if table is None:
            raise LookupError(f"Table not found: {mcon or fullTableId}")
        return self._table(table)

    def getWarehouse(self, _info: Any, uuid: Any = None) -> dict[str, Any] | None:  # noqa: N802
        warehouse = self._warehouse(str(uuid)) if uuid else None
        if warehouse is None:
            raise LookupError(f"Warehouse not found: {uuid}")
        return warehouse

    def getTables(  # noqa: N802
        self,
        _info: Any,
        mcons: list[str] | None = None,
        dwId: Any = None,  # noqa: N803
        fullTableId: str | None = None,  # noqa: N803
        ingestInvocationId: str | None = None,  # noqa: N803
        isDeleted: bool | None = None,  # noqa: N803
        first: int | None = None,
        after: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """A filter over visible tables: MCONs it does not know are left out, not an error."""
        tables = list(self.model.tables().values())
        if mcons is not None:
            wanted = set(mcons)
            tables = [t for t in tables if t.mcon in wanted]
        if dwId is not None:
            tables = [t for t in tables if t.resource_uuid == str(dwId)]
        if fullTableId is not None:
            tables = [t for t in tables if t.full_table_id == fullTableId]
        if ingestInvocationId is not None:
            tables = [t for t in tables if t.invocation_id == ingestInvocationId]
        if isDeleted:
            tables = []  # deleted push tables are gone from the read model
        tables.sort(key=lambda t: t.mcon)
        offset = _offset(after)
        size = DEFAULT_PAGE_SIZE if first is None else first
        if size < 0:
            raise ValueError(f"first must be >= 0, got {first}")
        page = tables[offset : offset + size]
        has_next = offset + size < len(tables)
        return {
            "pageInfo": {
                "hasNextPage": has_next,
                "hasPreviousPage": offset > 0,
                "startCursor": str(offset) if page else None,
                "endCursor": str(offset + len(page)) if page else None,
            },
            "edges": [{"cursor": str(offset + i + 1), "node": self._table(t)} for i, t in enumerate(page)],
        }

    def getTableLineage(  # noqa: N802
        self,
        _info: Any,
        direction: str,
        mcon: str | None = None,
        mcons: list[str] | None = None,
        hops: int | None = None,
        **_: Any,
    ) -> dict[str, Any] | None:
        if direction not in ("upstream", "downstream"):
            raise ValueError(f"direction must be 'upstream' or 'downstream', got {direction!r}")
        starts = [m for m in ([mcon] if mcon else []) + list(mcons or []) if m]
        if not starts:
            raise ValueError("Pass mcon or mcons")
        graph = self.model.lineage()
        max_hops = 1 if hops is None else hops
        adjacency: dict[str, list[str]] = {}
        for src, dst in graph.edges:
            a, b = (src, dst) if direction == "downstream" else (dst, src)
            adjacency.setdefault(a, []).append(b)
        seen = dict.fromkeys(starts, 0)
        frontier = list(starts)
        flattened: dict[str, list[str]] = {}
        for depth in range(1, max_hops + 1):
            nxt = []
            for m in frontier:
                for n in sorted(adjacency.get(m, [])):
                    flattened.setdefault(m, []).append(n)
                    if n not in seen:
                        seen[n] = depth
                        nxt.append(n)
            frontier = nxt
        nodes = [self._node(graph, m) for m in seen]
        base = [n for n in nodes if n["mcon"] in starts]
        return {
            "baseNode": base[0] if base else None,
            "baseNodes": base,
            "connectedNodes": [n for n in nodes if n["mcon"] not in starts],
            "flattenedEdges": [
                {
                    "mcon": m,
                    "directlyConnectedMcons": targets,
                    "directlyConnectedNodes": [{"mcon": t, "jobs": []} for t in targets],
                }
                for m, targets in flattened.items()
            ],
        }

    def _node(self, graph: Lineage, mcon: str) -> dict[str, Any]:
        node = dict(graph.nodes.get(mcon) or self.model.default_node(mcon))
        node["hasUpstreamNodes"] = any(dst == mcon for _, dst in graph.edges)
        node["hasDownstreamNodes"] = any(src == mcon for src, _ in graph.edges)
        return node

    def getDerivedTablesPartialLineage(  # noqa: N802
        self,
        _info: Any,
        mcon: str | None = None,
        column: str | None = None,
        cursor: str | None = None,
        pageSize: int | None = None,  # noqa: N803
    ) -> dict[str, Any]:
        if not mcon or not column:
            raise ValueError("mcon and column are required")
        graph = self.model.lineage()
        tables = self.model.tables()
        by_dest: dict[str, list[str]] = {}
        for src, src_col, dst, dst_col in graph.columns:
            if src == mcon and src_col.lower() == column.lower() and dst_col not in by_dest.setdefault(dst, []):
                by_dest[dst].append(dst_col)
        offset = _offset(cursor)
        size = pageSize or 100
        dests = sorted(by_dest)
        page = dests[offset : offset + size]

        def column_type(dst: str, name: str) -> str | None:
            table = tables.get(dst)
            if table and table.versions:
                for f in table.versions[-1][2]:
                    if f["name"].lower() == name.lower():
                        return f["type"]
            return None

        last = offset + size >= len(dests)
        return {
            "mcon": mcon,
            "sourceColumn": column,
            "destinations": [
                {
                    "mcon": dst,
                    "displayName": self._node(graph, dst)["displayName"],
                    "columns": [{"columnName": c, "columnType": column_type(dst, c)} for c in by_dest[dst]],
                    "sourceColumnUsedAsNonSelected": False,
                }
                for dst in page
            ],
            "isLastPage": last,
            "cursor": None if last else str(offset + size),
        }

    def getMetricsV4(  # noqa: N802
        self,
        _info: Any,
        metricName: str,  # noqa: N803
        startTime: Any,  # noqa: N803
        metricsFilter: dict[str, Any],  # noqa: N803
        endTime: Any = None,  # noqa: N803
        first: int | None = None,
        deduplicateValues: bool | None = None,  # noqa: N803
    ) -> dict[str, Any]:
        if metricName not in METRIC_NAMES:
            raise ValueError(f"Unsupported metricName {metricName!r} in the sandbox (supported: {', '.join(METRIC_NAMES)})")
        mcon, full_id, dw_id = metricsFilter.get("mcon"), metricsFilter.get("fullTableId"), metricsFilter.get("dwId")
        if not mcon and not full_id:
            raise ValueError("metricsFilter needs mcon, or fullTableId and dwId")
        table = self.model.find_table(mcon=mcon, full_id=full_id, dw_id=dw_id)
        start = parse_time(startTime)
        end = parse_time(endTime) if endTime is not None else self.clock()
        points: list[tuple[float, float]] = []
        if table:
            previous: int | None = None
            for ts, rows, size in table.volume:
                if metricName == "total_row_count" and rows is not None:
                    points.append((ts, float(rows)))
                elif metricName == "total_byte_count" and size is not None:
                    points.append((ts, float(size)))
                elif metricName == "total_row_count_last_changed_on" and rows is not None:
                    # The value is the epoch time the row count last changed, sampled per push.
                    if previous is None or rows != previous:
                        points.append((ts, ts))
                    previous = rows
        points = [p for p in points if start <= p[0] <= end]
        if deduplicateValues:
            points = [p for i, p in enumerate(points) if i == 0 or p[1] != points[i - 1][1]]
        points.reverse()  # newest first
        if first is not None:
            points = points[:first]
        metrics = [
            {
                "fullTableId": table.full_table_id if table else full_id,
                "metric": metricName,
                "value": value,
                "timestamp": iso(ts),
                "measurementTimestamp": iso(ts),
                "field": None,
            }
            for ts, value in points
        ]
        return {"metrics": metrics, "metricsJson": json.dumps(metrics), "isPartialDateRange": False}

    def getAggregatedQueries(  # noqa: N802
        self,
        _info: Any,
        mcon: str,
        startTime: Any,  # noqa: N803
        endTime: Any,  # noqa: N803
        queryType: str,  # noqa: N803
        limit: int,
        endCursor: str | None = None,  # noqa: N803
        user: str | None = None,
        queryCharacters: int | None = None,  # noqa: N803
        **_: Any,
    ) -> dict[str, Any]:
        table = self.model.find_table(mcon=mcon)
        start, end = parse_time(startTime), parse_time(endTime)
        groups: dict[tuple[str, str | None], dict[str, Any]] = {}
        for row in self.model.query_logs(table.resource_uuid) if table else []:
            entry = row["event"]
            started = parse_time(entry["start_time"])
            if not start <= started <= end:
                continue
            if user is not None and entry.get("user") != user:
                continue
            if query_category(entry["query_text"], table) != queryType:
                continue
            qhash = query_hash(entry["query_text"])
            ended = parse_time(entry["end_time"])
            g = groups.setdefault(
                (qhash, entry.get("user")),
                {"queryHash": qhash, "groupId": qhash, "user": entry.get("user"), "count": 0, "_runtime": 0.0, "_latest": -1.0},
            )
            g["count"] += 1
            g["_runtime"] += (ended - started) * 1000
            if ended >= g["_latest"]:
                text = entry["query_text"]
                g.update(
                    _latest=ended,
                    latestQuery=text[:queryCharacters] if queryCharacters else text,
                    latestQueryId=entry.get("query_id"),
                    latestQueryTimestamp=iso(ended),
                    date=iso(ended)[:10],  # type: ignore[index]
                )
        ordered = sorted(groups.values(), key=lambda g: (-g["count"], -g["_latest"], g["queryHash"]))
        offset = _offset(endCursor)
        page = ordered[offset : offset + limit]
        has_next = offset + limit < len(ordered)
        for g in page:
            g["averageRunTime"] = int(g.pop("_runtime") / g["count"])
            g.pop("_latest")
            g["category"] = None
        return {
            "aggregatedQueries": page,
            "pageInfo": {"hasNextPage": has_next, "endCursor": str(offset + limit) if has_next else None},
        }

    # -- mutations --------------------------------------------------------------------------

    def _expire_at(self, value: Any) -> float:
        return parse_time(value) if value is not None else self.clock() + CUSTOM_LINEAGE_TTL_S

    def _resource(self, resource_id: Any, resource_name: str | None) -> str:
        if resource_id:
            if str(resource_id) not in SANDBOX_WAREHOUSES.values():
                raise ValueError(f"Resource {resource_id} not found in this account")
            return str(resource_id)
        if resource_name:
            if resource_name not in SANDBOX_WAREHOUSES:
                raise ValueError(f"Resource named {resource_name!r} not found (names: {', '.join(SANDBOX_WAREHOUSES)})")
            return SANDBOX_WAREHOUSES[resource_name]
        raise ValueError("Pass resourceId or resourceName")

    def createOrUpdateLineageNode(  # noqa: N802
        self,
        _info: Any,
        objectType: str,  # noqa: N803
        objectId: str,  # noqa: N803
        resourceId: Any = None,  # noqa: N803
        resourceName: str | None = None,  # noqa: N803
        name: str | None = None,
        properties: list[dict[str, str]] | None = None,
        expireAt: Any = None,  # noqa: N803
    ) -> dict[str, Any]:
        resource = self._resource(resourceId, resourceName)
        mcon = make_mcon(resource, objectId, objectType)
        expire_at = self._expire_at(expireAt)
        node = {
            "mcon": mcon,
            "displayName": name or objectId,
            "objectType": objectType,
            "isCustom": True,
            "properties": properties or [],
        }
        self.store.upsert_custom_node(mcon, {"node": node}, expire_at, self.clock())
        return {"node": {**node, "expireAt": iso(expire_at)}}

    def createOrUpdateLineageEdge(  # noqa: N802
        self,
        _info: Any,
        source: dict[str, Any],
        destination: dict[str, Any],
        expireAt: Any = None,  # noqa: N803
        edgeType: str | None = None,  # noqa: N803
    ) -> dict[str, Any]:
        src = make_mcon(self._resource(source.get("resourceId"), source.get("resourceName")), source["objectId"], source["objectType"])
        dst = make_mcon(
            self._resource(destination.get("resourceId"), destination.get("resourceName")),
            destination["objectId"],
            destination["objectType"],
        )
        expire_at = self._expire_at(expireAt)
        self.store.upsert_custom_edge(src, dst, edgeType or "IS_DOWNSTREAM", expire_at, self.clock())
        graph = self.model.lineage()
        return {
            "edge": {
                "source": self._node(graph, src),
                "destination": self._node(graph, dst),
                "isCustom": True,
                "expireAt": iso(expire_at),
                "jobTs": None,
            }
        }

    def deleteLineageNode(self, _info: Any, mcon: str) -> dict[str, Any]:  # noqa: N802
        graph = self.model.lineage()
        pushed_edges = sum(1 for edge, custom in graph.edges.items() if not custom and mcon in edge)
        pushed_node = 1 if mcon in graph.nodes and not graph.nodes[mcon]["isCustom"] else 0
        nodes, edges = self.store.delete_lineage_node(mcon, self.clock())
        self.store.add_deletion(mcon, "lineage", self.clock())
        total_nodes = nodes + pushed_node
        return {"objectsDeleted": total_nodes, "nodesDeleted": total_nodes, "edgesDeleted": edges + pushed_edges}

    def deletePushIngestedTables(self, _info: Any, mcons: list[str]) -> dict[str, Any]:  # noqa: N802
        if len(mcons) > MAX_DELETE_MCONS:
            raise ValueError(f"At most {MAX_DELETE_MCONS} MCONs can be deleted per call, got {len(mcons)}")
        bad = [m for m in mcons if not m.startswith("MCON++") or len(m.split("++")) != 5]
        if bad:
            raise ValueError(f"Invalid MCON {bad[0]!r}; expected MCON++<account>++<resource>++table++<db>:<schema>.<table>")
        # Deletion also applies to pushes not yet visible: they were accepted before the delete.
        existing = self.model.tables(ignore_visibility=True)
        now = self.clock()
        count = 0
        for m in dict.fromkeys(mcons):
            if m in existing:
                count += 1
            self.store.add_deletion(m, "table", now)
            self.store.delete_lineage_node(m, now)
        return {"success": True, "deletedCount": count}


def _resolve_field(*source_and_info: Any, **args: Any) -> Any:
    """graphql-core's default resolver, minus its ``source`` parameter name: createOrUpdateLineageEdge
    has an argument called ``source``, which would collide with it."""
    source, info = source_and_info
    value = source.get(info.field_name) if isinstance(source, dict) else getattr(source, info.field_name, None)
    return value(info, **args) if callable(value) else value


def _page_info() -> dict[str, Any]:
    return {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        value = int(cursor)
    except ValueError:
        raise ValueError(f"Invalid cursor {cursor!r}") from None
    if value < 0:
        raise ValueError(f"Invalid cursor {cursor!r}")
    return value
