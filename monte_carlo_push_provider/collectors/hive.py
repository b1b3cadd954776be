"""Hive metadata: the Hive Metastore's Thrift API (preferred) or HiveServer2 ``DESCRIBE FORMATTED``.

Monte Carlo names for Hive: by default those of Monte Carlo's own Hive scripts, ``database`` and
``schema`` both the Hive database and ``name`` the table (``sales:sales.orders``). With a
``database_label`` (the provider's earlier default was ``hive``; Glue users often use
``awsdatacatalog``) ``database`` is that constant label instead (``hive:sales.orders``). Lineage
(:mod:`~monte_carlo_push_provider.collectors.hive_logs`) names tables by the same rule, so both
line up; :func:`monte_carlo_database` is that rule.

Metastore calls per collection (``D`` databases, ``T`` tables, ``P`` partitioned tables)::

    1 get_all_databases + D get_all_tables + ceil(T_d / batch_size) get_table_objects_by_name
    (+ P get_partitions when partition_volume is on)

never one ``get_table`` per table. HiveServer2 has no bulk catalog: that path costs
``1 + D + T`` statements (``SHOW DATABASES``, ``SHOW TABLES IN``, ``DESCRIBE FORMATTED`` each).

Stdlib only at module level: operator modules import this at DAG-parse time.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar

from monte_carlo_push_provider.collectors.base import Collection, Collector, Skips, TableRecord, table_events
from monte_carlo_push_provider.collectors.common import (
    NameFilter,
    check_memory,
    chunked,
    iter_cursor,
    normalize_table_type,
    quote_qualified,
)

log = logging.getLogger(__name__)

RESOURCE_TYPE = "data-lake"


def monte_carlo_database(hive_database: str, database_label: str | None) -> str:
    """The Monte Carlo ``database`` of a table in ``hive_database``: the Hive database itself
    (Monte Carlo's Hive scripts, the default), or the constant ``database_label`` when one is set."""
    return database_label or hive_database


def name_like_metadata(events: list[dict[str, Any]], database_label: str | None) -> list[dict[str, Any]]:
    """Give lineage refs the metadata collectors' names (:func:`collectors.hive.monte_carlo_database`).

    The engine reads Hive's ``db.table`` as schema ``db`` under the "database" it was given; with
    no label the Monte Carlo database is the Hive database, so each ref's database becomes its
    schema. Asset ids are local references and stay as they are."""
    if database_label:
        return events

    def ref(r: dict[str, Any]) -> None:
        if isinstance(r.get("schema"), str):
            r["database"] = monte_carlo_database(r["schema"], database_label)

    for event in events:
        ref(event["destination"])
        for source in event["sources"]:
            ref(source)
    return events


DEFAULT_BATCH_SIZE = 100
#: Hive's own limit for one get_partitions call (a Java short).
MAX_PARTITIONS = 32_767

# Hive writes numRows/totalSize (-1 = unknown); Spark writes its own keys next to them.
_ROW_KEYS = ("numRows", "spark.sql.statistics.numRows")
_BYTE_KEYS = ("totalSize", "spark.sql.statistics.totalSize")
_DDL_TIME = "transient_lastDdlTime"
# Spark datasource tables keep their real schema here when it is not Hive-compatible (sd.cols then
# holds a placeholder ``col array<string>``).
_SPARK_SCHEMA = "spark.sql.sources.schema"
_SPARK_TYPES = {"long": "bigint", "integer": "int", "short": "smallint", "byte": "tinyint"}


@dataclass
class MetastoreStats:
    """Thrift call counts and skips, logged by the operator (and asserted on by tests)."""

    databases: int = 0
    database_names: list[str] = field(default_factory=list)  # the scopes of dropped-table cleanup
    tables: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    missing: int = 0  # listed by get_all_tables, gone by get_table_objects_by_name (dropped meanwhile)
    partitions_over_cap: int = 0

    def count(self, call: str) -> None:
        self.calls[call] = self.calls.get(call, 0) + 1


# ---------------------------------------------------------------------------------------------
# Shared value parsing
# ---------------------------------------------------------------------------------------------


def _count(params: Mapping[str, str] | None, keys: Iterable[str]) -> int | None:
    """First non-negative integer among ``keys`` (Hive uses -1 for never computed)."""
    for key in keys:
        raw = (params or {}).get(key)
        try:
            value = int(str(raw).strip())
        except (TypeError, ValueError):
            continue
        if value >= 0:
            return value
    return None


def _epoch(raw: Any) -> datetime | None:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(value, tz=timezone.utc) if value > 0 else None


def _spark_type(t: Any) -> str:
    """A Spark StructType JSON type rendered as Hive DDL type text."""
    if isinstance(t, str):
        return _SPARK_TYPES.get(t, t)
    kind = t.get("type")
    if kind == "array":
        return f"array<{_spark_type(t['elementType'])}>"
    if kind == "map":
        return f"map<{_spark_type(t['keyType'])},{_spark_type(t['valueType'])}>"
    if kind == "struct":
        return "struct<" + ",".join(f"{f['name']}:{_spark_type(f['type'])}" for f in t["fields"]) + ">"
    return str(kind)


def spark_schema_fields(params: Mapping[str, str]) -> list[tuple[str, str, str | None]] | None:
    """Columns from Spark's ``spark.sql.sources.schema`` (whole or split into numbered parts)."""
    text = params.get(_SPARK_SCHEMA)
    if text is None:
        try:
            parts = int(params.get(f"{_SPARK_SCHEMA}.numParts", ""))
        except ValueError:
            return None
        text = "".join(params.get(f"{_SPARK_SCHEMA}.part.{i}", "") for i in range(parts))
    try:
        schema = json.loads(text)
        return [
            (f["name"], _spark_type(f["type"]), (f.get("metadata") or {}).get("comment"))
            for f in schema["fields"]
        ]
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("unreadable Spark schema property; using the metastore columns")
        return None


# ---------------------------------------------------------------------------------------------
# Metastore (Thrift) path
# ---------------------------------------------------------------------------------------------


def table_record(
    table: Any, *, database_label: str | None = None, partitions: list[Any] | None = None,
    expanded_view_text: bool = False,
) -> TableRecord:
    """One metastore ``Table`` (+ its partitions, for partitioned tables). A view's text is the
    original (as written), or with ``expanded_view_text`` Hive's expanded text (every name
    qualified, what lineage parses best), each falling back to the other."""
    native = table.tableType or "MANAGED_TABLE"
    asset_type = normalize_table_type(native)
    params: dict[str, str] = dict(table.parameters or {})
    holds_data = native.upper() != "VIRTUAL_VIEW"  # materialized views hold data, virtual ones don't
    row_count = byte_count = None
    last_update = None
    if holds_data:
        row_count, byte_count = _count(params, _ROW_KEYS), _count(params, _BYTE_KEYS)
        last_update = _epoch(params.get(_DDL_TIME))
        if partitions is not None and table.partitionKeys:
            # Hive keeps stats of a partitioned table on its partitions, not on the table.
            rows = [_count(p.parameters, _ROW_KEYS) for p in partitions]
            sizes = [_count(p.parameters, _BYTE_KEYS) for p in partitions]
            row_count = sum(rows) if partitions and None not in rows else row_count  # type: ignore[arg-type]
            byte_count = sum(sizes) if partitions and None not in sizes else byte_count  # type: ignore[arg-type]
            times = [t for p in partitions if (t := _epoch((p.parameters or {}).get(_DDL_TIME)))]
            if times:
                last_update = max([*times, *([last_update] if last_update else [])])
    sd = table.sd
    columns = spark_schema_fields(params) if (_SPARK_SCHEMA in params or f"{_SPARK_SCHEMA}.numParts" in params) else None
    if columns is None:
        columns = [(c.name, c.type, c.comment) for c in (sd.cols if sd and sd.cols else [])]
    seen = {c[0] for c in columns}
    columns += [(c.name, c.type, c.comment) for c in table.partitionKeys or [] if c.name not in seen]
    tags = {"table_type": native}
    if table.partitionKeys:
        tags["partition_keys"] = ",".join(c.name for c in table.partitionKeys)
    if table.owner:
        tags["owner"] = table.owner
    return TableRecord(
        database=monte_carlo_database(table.dbName, database_label),
        schema=table.dbName,
        name=table.tableName,
        type=asset_type,
        description=params.get("comment"),
        view_query=(
            ((table.viewExpandedText or table.viewOriginalText) if expanded_view_text
             else (table.viewOriginalText or table.viewExpandedText)) if asset_type == "VIEW" else None
        ),
        created_on=_epoch(table.createTime),
        fields=list(columns),
        tags=tags,
        row_count=row_count,
        byte_count=byte_count,
        last_update_time=last_update,
        holds_data=holds_data,
    )


def collect_metastore_metadata(
    client: Any,
    *,
    only_freshness_and_volume: bool = False,
    skips: Skips | None = None,
    **selection: Any,
) -> Iterator[dict[str, Any]]:
    """Yield metadata events for every selected table of an open ``hmsclient.HMSClient``
    (:func:`iter_metastore_tables` takes the same keyword arguments)."""
    yield from table_events(
        iter_metastore_tables(client, **selection), skips if skips is not None else Skips(log),
        only_freshness_and_volume=only_freshness_and_volume,
    )


def iter_metastore_tables(
    client: Any,
    *,
    database_label: str | None = None,
    database_filter: NameFilter | None = None,
    table_filter: NameFilter | None = None,
    partition_volume: bool = True,
    max_partitions: int = 10_000,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stats: MetastoreStats | None = None,
    expanded_view_text: bool = False,
) -> Iterator[TableRecord]:
    """Every selected table and view of an open ``hmsclient.HMSClient``, in batches.

    ``partition_volume`` sums numRows/totalSize over the partitions of partitioned tables (one
    ``get_partitions`` call each; tables with more than ``max_partitions`` partitions keep the
    table-level values, which Hive usually leaves empty).
    """
    stats = stats if stats is not None else MetastoreStats()
    database_filter = database_filter or NameFilter()
    table_filter = table_filter or NameFilter()
    stats.count("get_all_databases")
    for db in sorted(database_filter.select(client.get_all_databases())):
        stats.databases += 1
        stats.database_names.append(db)
        stats.count("get_all_tables")
        names = sorted(table_filter.select(client.get_all_tables(db)))
        check_memory(len(names), what=f"Hive database {db}")
        for batch in chunked(names, batch_size):
            stats.count("get_table_objects_by_name")
            tables = client.get_table_objects_by_name(db, list(batch))
            stats.missing += len(batch) - len(tables)
            for table in tables:
                partitions = None
                if partition_volume and table.partitionKeys and normalize_table_type(table.tableType) == "TABLE":
                    stats.count("get_partitions")
                    # One more than the cap tells "over the cap" from "exactly at it".
                    partitions = client.get_partitions(db, table.tableName, min(max_partitions + 1, MAX_PARTITIONS))
                    if len(partitions) > max_partitions:
                        stats.partitions_over_cap += 1
                        log.info("%s.%s has over %d partitions; volume from table parameters only",
                                 db, table.tableName, max_partitions)
                        partitions = None
                stats.tables += 1
                yield table_record(table, database_label=database_label, partitions=partitions,
                                   expanded_view_text=expanded_view_text)


# ---------------------------------------------------------------------------------------------
# HiveServer2 path (clusters without metastore access): SHOW + DESCRIBE FORMATTED text
# ---------------------------------------------------------------------------------------------

# Spark's ``Statistics`` row: "1004 bytes, 3 rows" (rows only after ANALYZE).
_SPARK_STATISTICS = re.compile(r"(\d+)\s+bytes(?:,\s*(\d+)\s+rows)?")
# Spark's ``Table Properties`` row: "[k=v, k2=v2]".
_SPARK_PROPERTY = re.compile(r"(?:^\[|,\s)([^=\s,\[\]]+)=")
_TIME_FORMAT = "%a %b %d %H:%M:%S %Z %Y"
_SPARK_TYPE_TO_HIVE = {"MANAGED": "MANAGED_TABLE", "EXTERNAL": "EXTERNAL_TABLE", "VIEW": "VIRTUAL_VIEW"}


def _spark_properties(text: str) -> dict[str, str]:
    matches = list(_SPARK_PROPERTY.finditer(text))
    out = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text.rstrip("]"))
        out[m.group(1)] = text[m.end():end]
    return out


def _created(text: str | None) -> datetime | None:
    """``Thu Nov 26 10:35:31 UTC 2026``; only UTC/GMT stamps (other zone abbreviations are
    ambiguous, and a wrong guess shifts the date)."""
    if not text or not re.search(r"\b(UTC|GMT)\b", text):
        return None
    try:
        return datetime.strptime(text.replace("GMT", "UTC"), _TIME_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def parse_describe_formatted(rows: Iterable[tuple[Any, ...]]) -> dict[str, Any]:
    """Parse ``DESCRIBE FORMATTED`` rows (col_name, data_type, comment) as Hive or Spark answers.

    Returns ``columns``, ``partition_columns``, ``table_type`` (Hive's names), ``params`` (table
    parameters), ``view_text``, ``created`` and ``comment``.
    """
    columns: list[tuple[str, str, str | None]] = []
    partition_columns: list[tuple[str, str, str | None]] = []
    details: dict[str, str] = {}
    params: dict[str, str] = {}
    section = "columns"
    in_params = False
    for row in rows:
        name, dtype, comment = ((list(row) + [None, None, None])[:3])
        n, d = str(name or "").strip(), str(dtype or "").strip()
        c = str(comment).strip() if comment not in (None, "") else None
        if n.startswith("#"):
            low = n.lower()
            if "partition information" in low:
                section = "partition"
            elif low != "# col_name":
                section, in_params = "detail", False
            continue
        if section in ("columns", "partition"):
            if not n:
                section = "none"
            elif section == "columns":
                columns.append((n, d, c or None))
            else:
                partition_columns.append((n, d, c or None))
            continue
        if section != "detail":
            continue
        if not n:
            if in_params and d:
                params[d] = (c or "")  # Hive: ('', key, value) rows under "Table Parameters:"
            continue
        key = n.rstrip(":").strip()
        in_params = key == "Table Parameters"
        details[key] = d
        if key == "Table Properties":
            params.update(_spark_properties(d))
        elif key == "Statistics" and (m := _SPARK_STATISTICS.search(d)):
            params.setdefault("spark.sql.statistics.totalSize", m.group(1))
            if m.group(2):
                params.setdefault("spark.sql.statistics.numRows", m.group(2))
    native = details.get("Table Type") or _SPARK_TYPE_TO_HIVE.get(details.get("Type", "").upper(), "")
    return {
        "columns": columns,
        "partition_columns": partition_columns,
        "table_type": native or "MANAGED_TABLE",
        "params": params,
        "view_text": details.get("View Original Text") or details.get("View Text") or None,
        # Hive prints the expanded text (every name qualified) too; Spark only the text as written
        "view_expanded_text": details.get("View Expanded Text") or None,
        "created": _created(details.get("CreateTime") or details.get("Created Time")),
        "comment": details.get("Comment") or params.get("comment") or None,
        "owner": details.get("Owner") or None,
    }


def describe_event(
    database: str, table: str, parsed: Mapping[str, Any], *, database_label: str | None = None,
    only_freshness_and_volume: bool = False,
) -> dict[str, Any]:
    return describe_record(database, table, parsed, database_label=database_label).to_event(
        only_freshness_and_volume=only_freshness_and_volume
    )


def describe_record(
    database: str, table: str, parsed: Mapping[str, Any], *, database_label: str | None = None,
    expanded_view_text: bool = False,
) -> TableRecord:
    """One table from its parsed ``DESCRIBE FORMATTED`` (a view's text as written, or with
    ``expanded_view_text`` Hive's expanded text where the server prints one)."""
    native = parsed["table_type"]
    asset_type = normalize_table_type(native)
    params = parsed["params"]
    holds_data = native.upper() != "VIRTUAL_VIEW"
    seen = {c[0] for c in parsed["columns"]}
    tags = {"table_type": native}
    if parsed["partition_columns"]:
        tags["partition_keys"] = ",".join(c[0] for c in parsed["partition_columns"])
    if parsed["owner"]:
        tags["owner"] = parsed["owner"]
    return TableRecord(
        database=monte_carlo_database(database, database_label),
        schema=database,
        name=table,
        type=asset_type,
        description=parsed["comment"],
        view_query=(
            ((expanded_view_text and parsed.get("view_expanded_text")) or parsed["view_text"])
            if asset_type == "VIEW" else None
        ),
        created_on=parsed["created"],
        fields=parsed["columns"] + [c for c in parsed["partition_columns"] if c[0] not in seen],
        tags=tags,
        row_count=_count(params, _ROW_KEYS),
        byte_count=_count(params, _BYTE_KEYS),
        last_update_time=_epoch(params.get(_DDL_TIME)),
        holds_data=holds_data,
    )


def _names(cursor: Any, preferred: tuple[str, ...], fetch_size: int) -> list[str]:
    """One column of a SHOW result: Hive answers ``database_name`` / ``tab_name``, Spark
    ``namespace`` / (``namespace``, ``tableName``, ``isTemporary``)."""
    columns = [d[0].lower() for d in cursor.description]
    index = next((columns.index(p) for p in preferred if p in columns), 0)
    temp = columns.index("istemporary") if "istemporary" in columns else None
    return [row[index] for row in iter_cursor(cursor, fetch_size) if temp is None or not row[temp]]


def collect_hiveserver2_metadata(
    conn: Any,
    *,
    only_freshness_and_volume: bool = False,
    skips: Skips | None = None,
    **selection: Any,
) -> Iterator[dict[str, Any]]:
    """Yield metadata events through a HiveServer2 DB-API connection (one DESCRIBE per table;
    :func:`iter_hiveserver2_tables` takes the same keyword arguments)."""
    skips = skips if skips is not None else Skips(log)
    yield from table_events(
        iter_hiveserver2_tables(conn, skips=skips, **selection), skips,
        only_freshness_and_volume=only_freshness_and_volume,
    )


def iter_hiveserver2_tables(
    conn: Any,
    *,
    database_label: str | None = None,
    database_filter: NameFilter | None = None,
    table_filter: NameFilter | None = None,
    fetch_size: int = 10_000,
    errors: list[str] | None = None,
    skips: Skips | None = None,
    expanded_view_text: bool = False,
    databases_read: list[str] | None = None,
) -> Iterator[TableRecord]:
    """Every selected table and view through a HiveServer2 DB-API connection (one DESCRIBE per
    table).

    A table the server cannot describe (e.g. a Hive materialized view on Spark's Thrift server)
    is counted in ``skips`` (``unreadable_object``), appended to ``errors`` and skipped, so one
    bad table does not stop the rest.
    """
    database_filter = database_filter or NameFilter()
    table_filter = table_filter or NameFilter()
    skips = skips if skips is not None else Skips(log)
    cur = conn.cursor()
    try:
        cur.execute("SHOW DATABASES")
        databases = sorted(database_filter.select(_names(cur, ("database_name", "namespace"), fetch_size)))
        if databases_read is not None:
            databases_read.extend(databases)
        for db in databases:
            cur.execute(f"SHOW TABLES IN {quote_qualified(db, quote='`')}")
            tables = sorted(table_filter.select(_names(cur, ("tablename", "tab_name"), fetch_size)))
            check_memory(len(tables), what=f"Hive database {db}")
            for table in tables:
                try:
                    cur.execute(f"DESCRIBE FORMATTED {quote_qualified(db, table, quote='`')}")
                    parsed = parse_describe_formatted(iter_cursor(cur, fetch_size))
                except Exception as e:  # noqa: BLE001 - the driver raises its own error types
                    first_line = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
                    skips.skip("unreadable_object", f"{db}.{table}: DESCRIBE FORMATTED failed: {first_line}")
                    if errors is not None:
                        errors.append(f"{db}.{table}")
                    continue
                yield describe_record(db, table, parsed, database_label=database_label,
                                      expanded_view_text=expanded_view_text)
    finally:
        cur.close()


# ---------------------------------------------------------------------------------------------
# Collectors: one per source of metadata
# ---------------------------------------------------------------------------------------------


class _HiveMetadataCollector(Collector):
    kind: ClassVar[str] = "metadata"
    flavour = RESOURCE_TYPE

    def __init__(
        self,
        *,
        database_label: str | None = None,
        database_filter: NameFilter | None = None,
        table_filter: NameFilter | None = None,
        only_freshness_and_volume: bool = False,
        fetch_size: int = 10_000,
    ) -> None:
        super().__init__(fetch_size=fetch_size)
        self.database_label = database_label or None
        self.database_filter = database_filter or NameFilter()
        self.table_filter = table_filter or NameFilter()
        self.only_freshness_and_volume = only_freshness_and_volume

    def info(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """The manifest's naming keys: the constant ``database`` label, or the Hive databases."""
        if self.database_label:
            return {"database": self.database_label, "naming": "label"}
        return {"databases": sorted({e["metadata"]["database"] for e in events}), "naming": "hive_database"}

    def scope(self, databases: list[str]) -> dict[str, Any] | list[dict[str, Any]]:
        """What dropped-table cleanup compares (docs/cleanup.md), through the table filter: with a
        ``database_label`` one scope, the label, whose schemas are the Hive databases (through the
        database filter); by default (database and schema both the Hive database) one per database."""
        tables = {"tables": self.table_filter.include or None, "exclude_tables": self.table_filter.exclude or None}
        if self.database_label:
            return {"database": self.database_label, "schemas": self.database_filter.include or None,
                    "exclude_schemas": self.database_filter.exclude or None, **tables}
        return [{"database": db, **tables} for db in databases]


class HiveMetastoreMetadataCollector(_HiveMetadataCollector):
    """Databases, tables and views from the Hive Metastore's Thrift API, in batches."""

    def __init__(
        self, *, partition_volume: bool = True, max_partitions: int = 10_000, batch_size: int = DEFAULT_BATCH_SIZE,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.partition_volume = partition_volume
        self.max_partitions = max_partitions
        self.batch_size = batch_size

    def collect(self, source: Any, window: tuple[datetime, datetime] | None = None) -> Collection:
        stats = MetastoreStats()
        # The hook's client opens its transport on enter and closes it on exit: one connection
        # for the whole collection.
        with source.metastore as client:
            events = list(collect_metastore_metadata(
                client, database_label=self.database_label, database_filter=self.database_filter,
                table_filter=self.table_filter, only_freshness_and_volume=self.only_freshness_and_volume,
                partition_volume=self.partition_volume, max_partitions=self.max_partitions,
                batch_size=self.batch_size, stats=stats, skips=self.skips,
            ))
        log.info(
            "metastore: %d database(s), %d table(s), calls %s", stats.databases, stats.tables,
            ", ".join(f"{k}={v}" for k, v in sorted(stats.calls.items())),
        )
        return Collection(events, info=self.info(events), what="Hive Metastore", scope=self.scope(stats.database_names))


class HiveMetastoreViewLineageCollector(HiveMetastoreMetadataCollector):
    """Table and column lineage of every view (materialized views included), parsed from the
    view text the metastore keeps (``viewExpandedText``: every name qualified; else
    ``viewOriginalText``) by the lineage engine (dialect ``hive``): lineage with no query logs.

    Tables and views are read as the metadata collector reads them (same calls, same filters; no
    partitions); their columns are the engine's schema. Names are named as the metadata collectors
    name them (:func:`monte_carlo_database`): unqualified names in the text resolve in the view's
    own Hive database.
    """

    kind: ClassVar[str] = "lineage"

    def __init__(self, *, column_lineage: bool = True, **kwargs: Any) -> None:
        super().__init__(partition_volume=False, **kwargs)
        self.column_lineage = column_lineage

    def collect(self, source: Any, window: tuple[datetime, datetime] | None = None) -> Collection:
        stats = MetastoreStats()
        with source.metastore as client:
            records = list(iter_metastore_tables(
                client, database_label=self.database_label, database_filter=self.database_filter,
                table_filter=self.table_filter, partition_volume=False, batch_size=self.batch_size, stats=stats,
                expanded_view_text=True,
            ))
        return hive_view_lineage(records, self.skips, database_label=self.database_label,
                                 column_lineage=self.column_lineage, what="Hive Metastore")


class HiveServer2MetadataCollector(_HiveMetadataCollector):
    """The same metadata through HiveServer2 (``SHOW`` + ``DESCRIBE FORMATTED`` per table)."""

    def collect(self, source: Any, window: tuple[datetime, datetime] | None = None) -> Collection:
        conn = source.get_conn()
        databases: list[str] = []
        try:
            events = list(collect_hiveserver2_metadata(
                conn, database_label=self.database_label, database_filter=self.database_filter,
                table_filter=self.table_filter, only_freshness_and_volume=self.only_freshness_and_volume,
                fetch_size=self.fetch_size, skips=self.skips, databases_read=databases,
            ))
        finally:
            conn.close()
        return Collection(events, info=self.info(events), what="HiveServer2", scope=self.scope(databases))


class HiveServer2ViewLineageCollector(HiveServer2MetadataCollector):
    """:class:`HiveMetastoreViewLineageCollector` through HiveServer2, for clusters whose
    metastore is not reachable: the view text ``DESCRIBE FORMATTED`` prints (Hive's
    ``View Expanded Text``, else the text as written), one statement per table."""

    kind: ClassVar[str] = "lineage"

    def __init__(self, *, column_lineage: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.column_lineage = column_lineage

    def collect(self, source: Any, window: tuple[datetime, datetime] | None = None) -> Collection:
        conn = source.get_conn()
        try:
            records = list(iter_hiveserver2_tables(
                conn, database_label=self.database_label, database_filter=self.database_filter,
                table_filter=self.table_filter, fetch_size=self.fetch_size, skips=self.skips,
                expanded_view_text=True,
            ))
        finally:
            conn.close()
        return hive_view_lineage(records, self.skips, database_label=self.database_label,
                                 column_lineage=self.column_lineage, what="HiveServer2")


def hive_view_lineage(
    records: list[TableRecord], skips: Skips, *, database_label: str | None, column_lineage: bool, what: str,
) -> Collection:
    """The view lineage of Hive ``records`` (either metadata path's), named as the metadata
    collectors name tables."""
    from dataclasses import replace

    from monte_carlo_push_provider.collectors.base import view_lineage

    # Hive names are database.table: the engine reads them as schema.table under one namespace
    # (the label, else "hive", which skip warnings show: hive.<db>.<view>), and
    # name_like_metadata gives each ref its Monte Carlo database back.
    namespace = database_label or "hive"
    events, stats = view_lineage(
        [replace(r, database=namespace) for r in records], skips, dialect="hive",
        resource_type=RESOURCE_TYPE, column_lineage=column_lineage,
    )
    name_like_metadata(events, database_label)
    info: dict[str, Any] = (
        {"database": database_label, "naming": "label"} if database_label
        else {"databases": sorted({r.schema for r in records}), "naming": "hive_database"}
    )
    info["source"] = "view_definitions"
    return Collection(events, info=info, stats=stats, what=f"{what}, {stats['views']:,} view definition(s)")
