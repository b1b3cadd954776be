"""Every GraphQL document this provider sends, in one place.

Kept as plain module-level strings (no pycarlo ``Query`` objects) so that importing this module
costs nothing and one test (``tests/utils/test_graphql_documents.py``) can validate all of them
against the schema shipped inside pycarlo (``pycarlo/lib/schema.json``) with graphql-core.
Signatures follow that schema, not Monte Carlo's prose guide, which is wrong in several places
(``getMetricsV4`` takes ``mcon``/``dwId`` inside ``metricsFilter``; ``getAggregatedQueries``
takes ``limit``/``endCursor``/``queryType``; ``getDerivedTablesPartialLineage`` returns
``destinations { mcon columns }``).

Every document names its operation so that Monte Carlo's API logs (and the sandbox's) say which
part of the provider sent it.
"""

from __future__ import annotations

#: The account uuid, the first segment of every MCON (``MCON++<account>++<resource>++table++<id>``).
#: Used to name a lineage node that has no table behind it (lineage pushed without metadata).
GET_USER_ACCOUNT = """
query MonteCarloProviderGetUserAccount {
  getUser {
    account {
      uuid
    }
  }
}
"""

#: The account uuid (the first MCON segment) and, per warehouse and flow, the last push Monte
#: Carlo recorded (``lastInvocationId``, ``lastReceived``): one call per sensor poll ties
#: metadata, lineage and query logs to this push.
GET_PUSH_STATUS = """
query MonteCarloProviderGetPushStatus {
  getUser {
    account {
      uuid
      warehouses {
        uuid
        pushEvents {
          eventType
          status
          lastReceived
          lastInvocationId
        }
      }
    }
  }
}
"""

#: Many tables by MCON in one call (unknown MCONs are simply absent): which push each table's
#: state comes from (``ingestInvocationId``).
GET_TABLES = """
query MonteCarloProviderGetTables($mcons: [String], $first: Int) {
  getTables(mcons: $mcons, first: $first) {
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        mcon
        fullTableId
        isDeleted
        ingestType
        ingestInvocationId
        warehouse {
          uuid
        }
      }
    }
  }
}
"""

#: :data:`GET_TABLES` plus the newest schema version's field names (only when fields are expected).
GET_TABLES_WITH_FIELDS = """
query MonteCarloProviderGetTablesWithFields($mcons: [String], $first: Int, $maxFields: Int) {
  getTables(mcons: $mcons, first: $first) {
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        mcon
        fullTableId
        isDeleted
        ingestType
        ingestInvocationId
        warehouse {
          uuid
        }
        versions(first: 1) {
          edges {
            node {
              fields(first: $maxFields) {
                edges {
                  node {
                    name
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
"""

#: Direct upstream neighbours of many nodes at once (``hops: 1``): ``flattenedEdges`` per node.
GET_TABLES_LINEAGE_UPSTREAM = """
query MonteCarloProviderGetTablesLineageUpstream($mcons: [String]) {
  getTableLineage(mcons: $mcons, direction: "upstream", hops: 1) {
    flattenedEdges {
      mcon
      directlyConnectedMcons
    }
  }
}
"""

#: A table by fullTableId (``db:schema.table``) and warehouse, with the newest schema version's
#: field names. For a table Monte Carlo does not know, the field is null (with a "not found"
#: field error on the real API).
GET_TABLE = """
query MonteCarloProviderGetTable($fullTableId: String!, $dwId: UUID, $maxFields: Int) {
  getTable(fullTableId: $fullTableId, dwId: $dwId) {
    mcon
    fullTableId
    tableType
    isDeleted
    lastObserved
    ingestInvocationId
    versions(first: 1) {
      edges {
        node {
          versionId
          timestamp
          fields(first: $maxFields) {
            edges {
              node {
                name
                fieldType
              }
            }
          }
        }
      }
    }
  }
}
"""

#: Only the MCON of a table: what the delete operator needs (no schema versions to load).
GET_TABLE_MCON = """
query MonteCarloProviderGetTableMcon($fullTableId: String!, $dwId: UUID) {
  getTable(fullTableId: $fullTableId, dwId: $dwId) {
    mcon
    fullTableId
    isDeleted
  }
}
"""

#: Direct upstream neighbours of one node (``hops: 1``): the pushed table-lineage edges.
GET_TABLE_LINEAGE_UPSTREAM = """
query MonteCarloProviderGetTableLineageUpstream($mcon: String!) {
  getTableLineage(mcon: $mcon, direction: "upstream", hops: 1) {
    baseNode {
      mcon
    }
    connectedNodes {
      mcon
      displayName
      objectType
    }
    flattenedEdges {
      mcon
      directlyConnectedMcons
    }
  }
}
"""

#: Tables (and their columns) derived from one source column: the pushed column lineage.
GET_DERIVED_TABLES_PARTIAL_LINEAGE = """
query MonteCarloProviderGetDerivedTablesPartialLineage(
  $mcon: String!, $column: String!, $cursor: String, $pageSize: Int
) {
  getDerivedTablesPartialLineage(mcon: $mcon, column: $column, cursor: $cursor, pageSize: $pageSize) {
    mcon
    sourceColumn
    destinations {
      mcon
      displayName
      columns {
        columnName
      }
    }
    isLastPage
    cursor
  }
}
"""

#: One metric of one table (``total_row_count`` for pushed volume). ``mcon`` / ``dwId`` /
#: ``fullTableId`` go inside ``metricsFilter``; the points come back as a JSON string.
GET_METRICS_V4 = """
query MonteCarloProviderGetMetricsV4(
  $metricName: String!, $startTime: DateTime!, $endTime: DateTime, $metricsFilter: MetricsFilter!, $first: Int
) {
  getMetricsV4(
    metricName: $metricName, startTime: $startTime, endTime: $endTime, metricsFilter: $metricsFilter, first: $first
  ) {
    metricsJson
  }
}
"""

#: Queries Monte Carlo attributed to one table in a window (``queryType`` is ``read`` or ``write``).
GET_AGGREGATED_QUERIES = """
query MonteCarloProviderGetAggregatedQueries(
  $mcon: String!, $startTime: DateTime!, $endTime: DateTime!, $queryType: QueryType!, $limit: Int!,
  $endCursor: String
) {
  getAggregatedQueries(
    mcon: $mcon, startTime: $startTime, endTime: $endTime, queryType: $queryType, limit: $limit,
    endCursor: $endCursor
  ) {
    aggregatedQueries {
      queryHash
      user
      count
      latestQueryId
      latestQueryTimestamp
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""

CREATE_OR_UPDATE_LINEAGE_NODE = """
mutation MonteCarloProviderCreateOrUpdateLineageNode(
  $objectType: String!, $objectId: String!, $resourceId: UUID, $resourceName: String, $name: String,
  $properties: [ObjectPropertyInput], $expireAt: DateTime
) {
  createOrUpdateLineageNode(
    objectType: $objectType, objectId: $objectId, resourceId: $resourceId, resourceName: $resourceName,
    name: $name, properties: $properties, expireAt: $expireAt
  ) {
    node {
      mcon
      displayName
      objectType
      isCustom
      expireAt
    }
  }
}
"""

CREATE_OR_UPDATE_LINEAGE_EDGE = """
mutation MonteCarloProviderCreateOrUpdateLineageEdge(
  $source: NodeInput!, $destination: NodeInput!, $expireAt: DateTime, $edgeType: EdgeType
) {
  createOrUpdateLineageEdge(source: $source, destination: $destination, expireAt: $expireAt, edgeType: $edgeType) {
    edge {
      source {
        mcon
        displayName
        objectType
      }
      destination {
        mcon
        displayName
        objectType
      }
      isCustom
      expireAt
    }
  }
}
"""

#: Irreversible: removes the node and every edge touching it.
DELETE_LINEAGE_NODE = """
mutation MonteCarloProviderDeleteLineageNode($mcon: String!) {
  deleteLineageNode(mcon: $mcon) {
    objectsDeleted
    nodesDeleted
    edgesDeleted
  }
}
"""

#: At most 1,000 MCONs a call; also deletes their lineage nodes and every edge touching them.
DELETE_PUSH_INGESTED_TABLES = """
mutation MonteCarloProviderDeletePushIngestedTables($mcons: [String!]!) {
  deletePushIngestedTables(mcons: $mcons) {
    success
    deletedCount
  }
}
"""

#: name -> document, for the validation test (a document missing here is caught by that test).
ALL_DOCUMENTS: dict[str, str] = {
    "GET_USER_ACCOUNT": GET_USER_ACCOUNT,
    "GET_PUSH_STATUS": GET_PUSH_STATUS,
    "GET_TABLES": GET_TABLES,
    "GET_TABLES_WITH_FIELDS": GET_TABLES_WITH_FIELDS,
    "GET_TABLES_LINEAGE_UPSTREAM": GET_TABLES_LINEAGE_UPSTREAM,
    "GET_TABLE": GET_TABLE,
    "GET_TABLE_MCON": GET_TABLE_MCON,
    "GET_TABLE_LINEAGE_UPSTREAM": GET_TABLE_LINEAGE_UPSTREAM,
    "GET_DERIVED_TABLES_PARTIAL_LINEAGE": GET_DERIVED_TABLES_PARTIAL_LINEAGE,
    "GET_METRICS_V4": GET_METRICS_V4,
    "GET_AGGREGATED_QUERIES": GET_AGGREGATED_QUERIES,
    "CREATE_OR_UPDATE_LINEAGE_NODE": CREATE_OR_UPDATE_LINEAGE_NODE,
    "CREATE_OR_UPDATE_LINEAGE_EDGE": CREATE_OR_UPDATE_LINEAGE_EDGE,
    "DELETE_LINEAGE_NODE": DELETE_LINEAGE_NODE,
    "DELETE_PUSH_INGESTED_TABLES": DELETE_PUSH_INGESTED_TABLES,
}
