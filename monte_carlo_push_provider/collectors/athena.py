"""Athena and the Glue Data Catalog: the AWS API calls, and the normalisation of their answers.

Everything here goes through boto3 clients the operators make with Airflow's ``GlueCatalogHook``
and ``AthenaHook`` (``hook.get_conn()``); nothing here imports boto3 or the amazon provider.
There is no SQL: the catalog and the query history are AWS APIs, read with their paginators.

Metadata, from the Glue Data Catalog (the catalog Athena's ``AwsDataCatalog`` is)::

    glue:GetDatabases   (paginated)    the databases, filtered by name
    glue:GetTables      (paginated)    per database: tables, views, columns, partition keys,
                                       table parameters (statistics, Iceberg markers,
                                       the user's own: tags)

Names: database = the Athena catalog name (``awsdatacatalog``, lower case: Athena compares
catalog names case-insensitively and the lineage engine lower-cases), schema = the Glue
database, name = the Glue table. That is how Athena SQL spells a table
(``awsdatacatalog.sales.orders``), so lineage parsed from Athena queries names the same tables.

Volume and freshness are only what Glue keeps in table parameters; nothing reads S3:

- rows: ``numRows`` (Hive/Spark/``ANALYZE``), ``recordCount`` (Glue crawlers),
  ``spark.sql.statistics.numRows``; bytes: ``totalSize``, ``sizeKey`` (crawlers),
  ``spark.sql.statistics.totalSize``. ``-1`` (Hive's "unknown") counts as absent.
- freshness: Iceberg tables: the table's ``UpdateTime`` (every Iceberg commit swaps the table's
  ``metadata_location``, which updates the Glue table); other tables: ``transient_lastDdlTime``
  (epoch seconds; Hive and Spark update it on writes through the metastore). Writes straight
  to S3 (a file dropped under a Hive-style table's location) change neither: such tables have
  no freshness here.
- Iceberg snapshot summaries (``total-records``, ``total-files-size``) live in the metadata file
  on S3, not in Glue, and are not read.

Query logs, per workgroup (``athena:ListWorkGroups`` unless given)::

    athena:ListQueryExecutions   (paginated, newest first)   the ids of a workgroup's executions
    athena:BatchGetQueryExecution  (<= 50 ids a call)        text, state, times, statistics

Executions are kept when their ``CompletionDateTime`` falls in the window, so each finished query
belongs to exactly one window. Paging stops once a whole page was submitted before the window
start minus ``max_query_runtime`` (nothing submitted that early can complete in the window).
Athena keeps 45 days of history. Ids ``BatchGetQueryExecution`` returns as unprocessed are
fetched once more, then skipped and counted.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from monte_carlo_push_provider.collectors.base import (
    AccessHints,
    Collection,
    Collector,
    QueryRecord,
    TableRecord,
    as_count,
    engine_lineage,
    representable,
    table_events,
    to_utc,
    view_lineage,
)
from monte_carlo_push_provider.collectors.common import NameFilter, normalize_table_type

log = logging.getLogger(__name__)

#: Monte Carlo files Athena / Glue warehouses under its data-lake integration; the query-log
#: endpoint has its own ``athena`` log type (see the contract's log types per resource type).
RESOURCE_TYPE = "data-lake"
LOG_TYPE = "athena"
#: sqlglot's Athena dialect (Trino for DML, Hive for DDL).
LINEAGE_DIALECT = "athena"
DEFAULT_CATALOG = "awsdatacatalog"
DEFAULT_GLUE_CONN_ID = "aws_default"
#: Athena lists an execution as soon as it finishes; a few minutes of slack covers clock skew
#: between the worker and AWS and executions that finish while the window is read.
DEFAULT_LAG = timedelta(minutes=5)
#: Athena's default DML timeout is 30 minutes (a service quota, raisable); a query submitted
#: earlier than window start minus this cannot complete inside the window.
DEFAULT_MAX_QUERY_RUNTIME = timedelta(hours=1)
#: BatchGetQueryExecution takes at most 50 ids.
BATCH_SIZE = 50
#: ListQueryExecutions returns at most 50 ids a page.
PAGE_SIZE = 50
#: Athena's final states; running executions have no completion time and wait for a later window.
FINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")

_ROW_KEYS = ("numRows", "recordCount", "spark.sql.statistics.numRows")
_BYTE_KEYS = ("totalSize", "sizeKey", "spark.sql.statistics.totalSize")
_DDL_TIME = "transient_lastDdlTime"
_PRESTO_VIEW = "/* Presto View: "

#: Table parameters that engines, crawlers and the metastore write for themselves (statistics,
#: format markers, serde settings): never tags. Everything else in ``Parameters`` was set by a
#: person or a pipeline (``ALTER TABLE … SET TBLPROPERTIES``, ``TableInput.Parameters``) and is
#: sent as a tag when ``collect_tags`` is on.
INTERNAL_PARAMETERS = frozenset({
    # statistics (Hive, Spark, Glue crawlers); read as volume and freshness instead
    *_ROW_KEYS, *_BYTE_KEYS, _DDL_TIME, "rawDataSize", "numFiles", "numPartitions", "numFilesErasureCoded",
    "averageRecordSize", "objectCount", "COLUMN_STATS_ACCURATE", "last_modified_by", "last_modified_time",
    # Glue crawlers
    "UPDATED_BY_CRAWLER", "CrawlerSchemaDeserializerVersion", "CrawlerSchemaSerializerVersion",
    "compressionType", "typeOfData", "areColumnsQuoted", "columnsOrdered", "delimiter", "exclusions",
    "skip.header.line.count", "connectionName",
    # format and engine markers (classification and table_type are sent as their own tags)
    "classification", "table_type", "metadata_location", "previous_metadata_location", "presto_view",
    "comment", "EXTERNAL", "has_encrypted_data", "bucketing_version", "storage_handler", "transactional",
    "transactional_properties", "format-version", "auto.purge", "storage.location.template",
    "last_commit_time_sync", "last_commit_completion_time_sync",
})
INTERNAL_PARAMETER_PREFIXES = (
    "spark.sql.", "impala.", "presto_", "trino_", "hive.", "hoodie.", "iceberg.", "write.", "projection.",
    "serialization.", "parquet.", "orc.", "avro.", "transient_", "current-", "snapshot-", "lakeformation.",
)
#: A parameter value longer than this is configuration, not a label (Glue allows 512,000 bytes).
MAX_TAG_VALUE_CHARS = 256
#: Table parameters can hold credentials: storage handlers and SerDes configured through
#: TBLPROPERTIES read them there (``kafka.sasl.jaas.config``, ``es.net.http.auth.pass``,
#: ``mongo.uri`` with a user and password, ``jdbc.password``, ``fs.s3a.secret.key``). A key that
#: names a credential, or a value that carries one, is never a tag, whatever its prefix.
SECRET_PARAMETER_KEY = re.compile(
    r"pass(word|wd|phrase)?(\b|_|$)|pwd|secret|token|credential|jaas|auth(?!or)|api[._-]?key|access[._-]?key|"
    r"private[._-]?key|session[._-]?key|signature|\bsas\b|\bkey$|connection[._-]?string",
    re.IGNORECASE,
)
SECRET_PARAMETER_VALUE = re.compile(
    r"://[^/\s:@]*:[^/\s@]+@|(password|passwd|pwd|secret|token)\s*[=:]|-----BEGIN [A-Z ]*PRIVATE KEY",
    re.IGNORECASE,
)


def is_secret_parameter(key: str, value: str) -> bool:
    """True for a table parameter whose key names a credential or whose value carries one
    (``scheme://user:password@``, ``password=…``, a PEM private key)."""
    return bool(SECRET_PARAMETER_KEY.search(key) or SECRET_PARAMETER_VALUE.search(value))


def parameter_tags(params: Mapping[str, Any]) -> dict[str, str | None]:
    """The user-set table parameters of a Glue table as tags (internal keys left out, see
    :data:`INTERNAL_PARAMETERS`, and anything that looks like a credential, see
    :func:`is_secret_parameter`); an empty value is a key-only tag, an over-long one is dropped."""
    tags: dict[str, str | None] = {}
    for key in sorted(params):
        if key in INTERNAL_PARAMETERS or str(key).startswith(INTERNAL_PARAMETER_PREFIXES):
            continue
        value = params[key]
        text = "" if value is None else str(value)
        if len(text) > MAX_TAG_VALUE_CHARS or is_secret_parameter(str(key), text):
            continue
        tags[str(key)] = text or None
    return tags


# ---------------------------------------------------------------------------------------------
# Glue Data Catalog -> TableRecord
# ---------------------------------------------------------------------------------------------


def _count(params: Mapping[str, Any], keys: Sequence[str]) -> int | None:
    for key in keys:
        value = as_count(params.get(key))
        if value is not None:
            return value
    return None


def _epoch(value: Any) -> datetime | None:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc) if seconds > 0 else None


def is_iceberg(table: Mapping[str, Any]) -> bool:
    """Iceberg tables registered in Glue (Athena, Spark, Flink, Trino) carry
    ``table_type=ICEBERG`` in their parameters; Glue's own ``TableType`` stays EXTERNAL_TABLE."""
    return str((table.get("Parameters") or {}).get("table_type", "")).upper() == "ICEBERG"


def view_text(table: Mapping[str, Any]) -> str | None:
    """A view's SQL. Athena stores ``/* Presto View: <base64 JSON> */`` in ViewOriginalText, the
    SQL being the JSON's ``originalSql``; Hive and Spark views keep plain SQL there."""
    original = table.get("ViewOriginalText")
    if isinstance(original, str) and original.startswith(_PRESTO_VIEW) and original.rstrip().endswith("*/"):
        encoded = original[len(_PRESTO_VIEW):].rstrip()[:-2].strip()
        try:
            decoded = json.loads(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            decoded = None
        if isinstance(decoded, dict) and isinstance(decoded.get("originalSql"), str):
            return decoded["originalSql"]
        return None  # an encoded view we cannot read: no text rather than the base64 blob
    if original:
        return str(original)
    expanded = table.get("ViewExpandedText")
    return str(expanded) if expanded and not str(expanded).startswith("/* Presto View") else None


def table_record(
    table: Mapping[str, Any], *, catalog: str = DEFAULT_CATALOG, schema: str | None = None,
    collect_tags: bool = True,
) -> TableRecord:
    """The template's record of one Glue ``Table`` (a ``GetTables`` item). ``collect_tags`` adds
    the user-set table parameters (:func:`parameter_tags`) to the descriptive tags."""
    params: Mapping[str, Any] = table.get("Parameters") or {}
    native = str(table.get("TableType") or "")
    record_type = normalize_table_type(native)
    iceberg = is_iceberg(table)
    sd = table.get("StorageDescriptor") or {}
    columns = [(c.get("Name"), c.get("Type"), c.get("Comment") or None) for c in sd.get("Columns") or []]
    partition_keys = [(c.get("Name"), c.get("Type"), c.get("Comment") or None) for c in table.get("PartitionKeys") or []]
    seen = {c[0] for c in columns}
    fields = columns + [c for c in partition_keys if c[0] not in seen]
    tags: dict[str, str | None] = {"table_type": native} if native else {}
    if iceberg:
        tags["table_format"] = "iceberg"
    if partition_keys:
        tags["partition_keys"] = ",".join(str(c[0]) for c in partition_keys)
    if sd.get("Location"):
        tags["location"] = str(sd["Location"])
    if params.get("classification"):
        tags["classification"] = str(params["classification"])
    if table.get("Owner"):
        tags["owner"] = str(table["Owner"])
    if collect_tags:
        # the descriptive tags above win over a parameter of the same name
        tags = {**parameter_tags(params), **tags}
    last_update = to_utc(table.get("UpdateTime")) if iceberg else None
    if last_update is None:
        last_update = _epoch(params.get(_DDL_TIME))
    return TableRecord(
        database=catalog,
        schema=schema if schema is not None else str(table.get("DatabaseName") or ""),
        name=str(table.get("Name") or ""),
        type=record_type,
        description=table.get("Description") or None,
        view_query=view_text(table) if record_type == "VIEW" else None,
        created_on=to_utc(table.get("CreateTime")),
        fields=[(str(n or ""), str(t or ""), d) for n, t, d in fields],
        tags=tags,
        row_count=_count(params, _ROW_KEYS),
        byte_count=_count(params, _BYTE_KEYS),
        last_update_time=last_update,
    )


def _catalog_args(catalog_id: str | None) -> dict[str, Any]:
    # CatalogId is the AWS account id of the catalog; omitted, Glue reads the caller's own.
    return {"CatalogId": catalog_id} if catalog_id else {}


def list_glue_databases(glue: Any, *, catalog_id: str | None = None, database_filter: NameFilter | None = None) -> list[str]:
    """The Glue databases the filter selects (glue:GetDatabases, every page)."""
    names: list[str] = []
    for page in glue.get_paginator("get_databases").paginate(**_catalog_args(catalog_id)):
        names.extend(d["Name"] for d in page.get("DatabaseList") or [])
    return [n for n in names if database_filter is None or database_filter(n)]


def iter_glue_tables(
    glue: Any, database: str, *, catalog_id: str | None = None, table_filter: NameFilter | None = None,
    page_size: int = 100,
) -> Iterator[dict[str, Any]]:
    """The Glue tables of one database (glue:GetTables, every page), streamed page by page."""
    pages = glue.get_paginator("get_tables").paginate(
        DatabaseName=database, PaginationConfig={"PageSize": page_size}, **_catalog_args(catalog_id),
    )
    for page in pages:
        for table in page.get("TableList") or []:
            if table_filter is None or table_filter(table.get("Name") or ""):
                yield table


# ---------------------------------------------------------------------------------------------
# Athena query executions -> QueryRecord
# ---------------------------------------------------------------------------------------------


def query_record(execution: Mapping[str, Any]) -> QueryRecord:
    """The template's record of one ``QueryExecution`` (a BatchGetQueryExecution item); Athena's
    own fields (bytes scanned, catalog, database, output location, state) in extra."""
    status = execution.get("Status") or {}
    stats = execution.get("Statistics") or {}
    context = execution.get("QueryExecutionContext") or {}
    result = execution.get("ResultConfiguration") or {}
    error = status.get("AthenaError") or {}
    state = status.get("State")
    succeeded = state == "SUCCEEDED"
    catalog = context.get("Catalog")
    database = context.get("Database")
    return QueryRecord(
        query_text=execution.get("Query"),
        start_time=to_utc(status.get("SubmissionDateTime")),
        end_time=to_utc(status.get("CompletionDateTime")),
        query_id=execution.get("QueryExecutionId"),
        # Athena records no principal on an execution (CloudTrail has it); the workgroup is the
        # closest thing to "who" Athena itself keeps.
        user=None,
        error_code=(error.get("ErrorType") or error.get("ErrorCategory")) if not succeeded else None,
        error_text=(error.get("ErrorMessage") or status.get("StateChangeReason")) if not succeeded else None,
        succeeded=succeeded,
        default_database=(catalog or DEFAULT_CATALOG).lower(),
        default_schema=database.lower() if isinstance(database, str) else None,
        extra={
            "bytes_scanned": as_count(stats.get("DataScannedInBytes")),
            "catalog": catalog,
            "database": database,
            "output_location": result.get("OutputLocation"),
            "state": state,
            "state_change_reason": status.get("StateChangeReason"),
            "statement_type": execution.get("StatementType"),
            "work_group": execution.get("WorkGroup"),
            "engine_execution_time_ms": as_count(stats.get("EngineExecutionTimeInMillis")),
            "total_execution_time_ms": as_count(stats.get("TotalExecutionTimeInMillis")),
            "queue_time_ms": as_count(stats.get("QueryQueueTimeInMillis")),
            "reused_previous_result": (stats.get("ResultReuseInformation") or {}).get("ReusedPreviousResult"),
        },
    )


def _in_window(execution: Mapping[str, Any], start: datetime, end: datetime) -> bool:
    status = execution.get("Status") or {}
    completed = to_utc(status.get("CompletionDateTime"))
    return status.get("State") in FINAL_STATES and completed is not None and start <= completed < end


def _submitted(execution: Mapping[str, Any]) -> datetime | None:
    return to_utc((execution.get("Status") or {}).get("SubmissionDateTime"))


def get_executions(athena: Any, ids: Sequence[str], skips: Any) -> list[dict[str, Any]]:
    """BatchGetQueryExecution in chunks of 50; unprocessed ids are asked for once more (throttled
    or transient on AWS's side), then skipped and counted."""
    found: list[dict[str, Any]] = []
    for i in range(0, len(ids), BATCH_SIZE):
        chunk = list(ids[i:i + BATCH_SIZE])
        for attempt in (1, 2):
            answer = athena.batch_get_query_execution(QueryExecutionIds=chunk)
            found.extend(answer.get("QueryExecutions") or [])
            chunk = [u["QueryExecutionId"] for u in answer.get("UnprocessedQueryExecutionIds") or []
                     if u.get("QueryExecutionId")]
            if not chunk:
                break
            if attempt == 2:
                for query_id in chunk:
                    skips.skip("unprocessed_query_execution", f"query {query_id}")
    return found


def iter_window_executions(
    athena: Any, work_group: str, start: datetime, end: datetime, *, skips: Any,
    max_query_runtime: timedelta = DEFAULT_MAX_QUERY_RUNTIME,
) -> Iterator[dict[str, Any]]:
    """The executions of one workgroup that completed in ``[start, end)``."""
    cutoff = start - max_query_runtime
    pages = athena.get_paginator("list_query_executions").paginate(
        WorkGroup=work_group, PaginationConfig={"PageSize": PAGE_SIZE},
    )
    for page in pages:
        executions = get_executions(athena, page.get("QueryExecutionIds") or [], skips)
        for execution in executions:
            if _in_window(execution, start, end):
                yield execution
        submitted = [_submitted(e) for e in executions]
        # Newest first: once a whole page predates the cutoff, so does everything after it.
        if executions and all(s is not None and s < cutoff for s in submitted):
            return


def list_work_groups(athena: Any) -> list[str]:
    """Every workgroup the caller can see (athena:ListWorkGroups, every page)."""
    # boto3 has no paginator for ListWorkGroups: NextToken by hand.
    names: list[str] = []
    token: str | None = None
    while True:
        page = athena.list_work_groups(**({"NextToken": token} if token else {}))
        names.extend(w["Name"] for w in page.get("WorkGroups") or [] if w.get("State", "ENABLED") == "ENABLED")
        token = page.get("NextToken")
        if not token:
            return sorted(names)


# ---------------------------------------------------------------------------------------------
# Collectors: one per kind
# ---------------------------------------------------------------------------------------------


#: What AWS's refusals mean (docs/athena.md#permissions).
ACCESS_HINTS = AccessHints(
    warehouse="AWS Glue / Athena",
    missing=(
        "Check the databases / work_groups patterns, the connection's region_name and catalog_id: "
        "Glue databases and Athena workgroups are per region and account."
    ),
    grant=(
        "The metadata collector needs glue:GetDatabases and glue:GetTables (and Lake Formation DESCRIBE "
        "where Lake Formation governs the catalog); the query-log and lineage collectors need "
        "athena:ListWorkGroups, athena:ListQueryExecutions and athena:BatchGetQueryExecution."
    ),
    tls="Check the connection's endpoint_url and verify settings (extra 'verify').",
    doc="docs/athena.md#permissions",
)


class AthenaGlueMetadataCollector(Collector):
    """Tables, views and Iceberg tables of every (selected) Glue database of one catalog."""

    access_hints = ACCESS_HINTS
    kind: ClassVar[str] = "metadata"
    flavour = RESOURCE_TYPE

    def __init__(
        self,
        *,
        catalog: str = DEFAULT_CATALOG,
        catalog_id: str | None = None,
        database_filter: NameFilter | None = None,
        table_filter: NameFilter | None = None,
        only_freshness_and_volume: bool = False,
        include_volume: bool = True,
        collect_tags: bool = True,
        fetch_size: int = 100,
    ) -> None:
        super().__init__(fetch_size=fetch_size)
        self.collect_tags = collect_tags
        self.catalog = catalog.lower()
        self.catalog_id = catalog_id
        self.database_filter = database_filter or NameFilter()
        self.table_filter = table_filter or NameFilter()
        self.only_freshness_and_volume = only_freshness_and_volume
        self.include_volume = include_volume
        self.databases_read: list[str] = []
        self.iceberg_tables = 0
        self.tagged_tables = 0

    def collect(self, source: Any, window: tuple[datetime, datetime] | None = None) -> Collection:
        events: list[dict[str, Any]] = []
        for database, records in self.iter_databases(source):
            before = len(events)
            events.extend(table_events(
                records, self.skips, only_freshness_and_volume=self.only_freshness_and_volume,
                include_volume=self.include_volume,
            ))
            log.info("%s: %d table(s) and view(s)", database, len(events) - before)
        databases = self.databases_read
        info = {"database": self.catalog, "schemas": databases}
        # One scope: the catalog (Monte Carlo's database) through the Glue database (schema) and
        # table filters; another catalog_id is another account's catalog (docs/cleanup.md).
        stats: dict[str, Any] = {"glue_databases": len(databases), "iceberg_tables": self.iceberg_tables}
        if self.collect_tags and not self.only_freshness_and_volume:
            # the same shape as the other warehouses' stats.tags; parameters come with GetTables,
            # so nothing can be unavailable on its own
            stats["tags"] = {"tagged_tables": self.tagged_tables, "sources": len(databases), "unavailable": []}
        scope: dict[str, Any] = {
            "database": self.catalog, "schemas": self.database_filter.include or None,
            "exclude_schemas": self.database_filter.exclude or None, "tables": self.table_filter.include or None,
            "exclude_tables": self.table_filter.exclude or None,
        }
        if self.catalog_id:
            scope["options"] = {"catalog_id": self.catalog_id}
        return Collection(
            events, info=info, stats=stats, what=f"{len(databases)} Glue database(s)", scope=scope,
        )

    def iter_databases(self, source: Any) -> Iterator[tuple[str, list[TableRecord]]]:
        """(Glue database, its tables and views) for each selected database; ``databases_read``
        lists them, ``iceberg_tables`` counts Iceberg tables, ``tagged_tables`` those with a
        parameter tag."""
        self.target = "the Glue Data Catalog's databases (glue:GetDatabases)"
        databases = list_glue_databases(source, catalog_id=self.catalog_id, database_filter=self.database_filter)
        self.databases_read = databases
        log.info("reading %d Glue database(s): %s", len(databases), ", ".join(databases))
        with_parameters = self.collect_tags and not self.only_freshness_and_volume
        for database in databases:
            self.target = f"Glue database {database} (glue:GetTables)"
            tables = iter_glue_tables(
                source, database, catalog_id=self.catalog_id, table_filter=self.table_filter,
                page_size=min(max(self.fetch_size, 1), 100),  # GetTables pages hold at most 100
            )
            records = []
            for table in tables:
                self.iceberg_tables += is_iceberg(table)
                records.append(table_record(table, catalog=self.catalog, schema=database, collect_tags=with_parameters))
                self.tagged_tables += with_parameters and bool(parameter_tags(table.get("Parameters") or {}))
            yield database, records


class AthenaGlueViewLineageCollector(AthenaGlueMetadataCollector):
    """Table and column lineage of every view in the Glue Data Catalog, parsed from its text
    (Athena's ``ViewOriginalText``, the base64 ``/* Presto View */`` decoded to its
    ``originalSql``; Hive and Spark views' plain text) by the lineage engine (dialect ``athena``):
    lineage with no Athena query history. Glue lower-cases names, as the engine does; unqualified
    names resolve in the view's own Glue database."""

    kind: ClassVar[str] = "lineage"

    def __init__(self, *, column_lineage: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.column_lineage = column_lineage

    def collect(self, source: Any, window: tuple[datetime, datetime] | None = None) -> Collection:
        records = [record for _, database in self.iter_databases(source) for record in database]
        events, stats = view_lineage(
            records, self.skips, dialect=LINEAGE_DIALECT, resource_type=RESOURCE_TYPE,
            column_lineage=self.column_lineage,
        )
        info = {"database": self.catalog, "schemas": self.databases_read, "source": "view_definitions"}
        return Collection(events, info=info, stats=stats,
                          what=f"{len(self.databases_read)} Glue database(s), {stats['views']:,} view definition(s)")


class _AthenaHistoryCollector(Collector):
    """The executions that completed in the window, from each (selected) workgroup."""

    def __init__(
        self, *, work_groups: Sequence[str] | None = None, work_group_filter: NameFilter | None = None,
        max_query_runtime: timedelta = DEFAULT_MAX_QUERY_RUNTIME, fetch_size: int = BATCH_SIZE,
    ) -> None:
        super().__init__(fetch_size=fetch_size)
        self.work_groups = list(work_groups) if work_groups else None
        self.work_group_filter = work_group_filter
        self.max_query_runtime = max_query_runtime
        self.read_work_groups: list[str] = []

    def stream(self, athena: Any, window: tuple[datetime, datetime] | None) -> Iterator[QueryRecord]:
        """The window's executions, workgroup by workgroup, newest first as Athena lists them
        (query logs: streamed into manifest parts without holding the window)."""
        assert window is not None
        start, end = window
        self.target = "Athena workgroups (athena:ListWorkGroups)"
        groups = self.work_groups or list_work_groups(athena)
        if self.work_group_filter is not None:
            groups = [g for g in groups if self.work_group_filter(g)]
        self.read_work_groups[:] = groups  # the manifest's work_groups (the list _info() gave out)
        log.info("reading Athena query executions of %d workgroup(s) for %s .. %s: %s",
                 len(groups), start.isoformat(), end.isoformat(), ", ".join(groups))
        for group in groups:
            self.target = f"Athena workgroup {group} (athena:ListQueryExecutions)"
            executions = iter_window_executions(
                athena, group, start, end, skips=self.skips, max_query_runtime=self.max_query_runtime,
            )
            yield from representable((query_record(e) for e in executions), self.skips)

    def _info(self) -> dict[str, Any]:
        return {"work_groups": self.read_work_groups}


class AthenaQueryLogCollector(_AthenaHistoryCollector):
    access_hints = ACCESS_HINTS
    kind: ClassVar[str] = "query_logs"
    flavour = LOG_TYPE

    def collect(self, source: Any, window: tuple[datetime, datetime] | None) -> Collection:
        collection = Collection([], info=self._info(), what="Athena workgroups")
        collection.events = self._events(source, window, collection)  # streamed into manifest parts
        return collection

    def _events(
        self, source: Any, window: tuple[datetime, datetime] | None, collection: Collection
    ) -> Iterator[dict[str, Any]]:
        for query in self.stream(source, window):
            yield query.to_event()
        collection.what = f"{len(self.read_work_groups)} workgroup(s)"


class AthenaLineageCollector(_AthenaHistoryCollector):
    """Lineage parsed from the executions that succeeded (dialect ``athena``), unqualified names
    resolved against each execution's catalog and database. Glue lower-cases names, as the engine
    does, so no folding is needed."""

    access_hints = ACCESS_HINTS
    kind: ClassVar[str] = "lineage"
    flavour = RESOURCE_TYPE

    def __init__(
        self, *, column_lineage: bool = True, max_query_chars: int = 200_000, parse_timeout_s: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.column_lineage = column_lineage
        self.max_query_chars = max_query_chars
        self.parse_timeout_s = parse_timeout_s

    def read(self, athena: Any, window: tuple[datetime, datetime] | None) -> list[QueryRecord]:
        """The window's executions that succeeded and may write, ordered by end time.

        Lineage needs the statements in order (a table written, then dropped, is scratch space)
        and Athena lists them newest first, so they are held and sorted: only the ones that can
        change lineage (:func:`~monte_carlo_push_provider.lineage.writes.may_write`; a read names
        no destination and the engine would skip it), about a quarter of a typical hour."""
        from monte_carlo_push_provider.lineage.writes import may_write

        records = [q for q in self.stream(athena, window) if q.succeeded and may_write(q.query_text or "")]
        records.sort(key=lambda q: (q.end_time, q.query_id or ""))  # type: ignore[arg-type,return-value]
        return records

    def collect(self, source: Any, window: tuple[datetime, datetime] | None) -> Collection:
        queries = self.read(source, window)
        events, stats = engine_lineage(
            [q.lineage_row() for q in queries], dialect=LINEAGE_DIALECT, resource_type=RESOURCE_TYPE,
            column_lineage=self.column_lineage, default_database=DEFAULT_CATALOG,
            max_query_chars=self.max_query_chars, timeout_s=self.parse_timeout_s,
        )
        log.info("lineage: %s", ", ".join(f"{k}={v}" for k, v in stats.items()))
        return Collection(events, info=self._info(), stats=stats, what=f"{len(self.read_work_groups)} workgroup(s)")

