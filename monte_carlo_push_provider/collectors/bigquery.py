"""BigQuery's SQL and the normalisation of its rows: metadata, BigLake/Iceberg storage, query logs
and lineage. Everything goes through a ``google.cloud.bigquery.Client`` (``BigQueryHook.get_client()``).

Monte Carlo names: database = project, schema = dataset.

==================  ========================================================  ==================
what                source                                                    queries
==================  ========================================================  ==================
tables, views       ``<project>.<dataset>.INFORMATION_SCHEMA.TABLES`` /       per dataset
                    ``VIEWS`` / ``TABLE_OPTIONS`` (descriptions, labels)
columns             ``INFORMATION_SCHEMA.COLUMN_FIELD_PATHS`` (nested          per dataset
                    STRUCT/ARRAY paths + descriptions), else ``COLUMNS`` with
                    the nested types parsed into the same paths
volume, freshness   ``<project>.<dataset>.__TABLES__``                         per dataset
BigLake / Iceberg   ``<project>.region-<r>.INFORMATION_SCHEMA.TABLE_STORAGE``  per project
query logs          ``<project>.region-<r>.INFORMATION_SCHEMA.JOBS_BY_PROJECT``  per project
                    or ``Client.list_jobs(all_users=True)``
lineage             the jobs' SQL through :mod:`monte_carlo_push_provider.lineage`, plus
                    ``region-<r>.INFORMATION_SCHEMA.SCHEMATA_LINKS`` (linked datasets)
==================  ========================================================  ==================

Every region- or dataset-qualified source can be replaced by a table of the same shape (``*_table``
arguments: a dotted name, ``{project}`` / ``{dataset}`` / ``{region}`` filled in per call), for
roles that only see copies or authorised views of INFORMATION_SCHEMA, and for emulators that lack
a view. Values are always query parameters; identifiers always go through ``quote_identifier``.

Module import is stdlib + this package only: google-cloud-bigquery and sqlglot are imported
inside the functions that need them.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, NamedTuple

from monte_carlo_push_provider.collectors.base import (
    AccessHints,
    Collection,
    Collector,
    QueryRecord,
    TableRecord,
    as_count,
    engine_lineage,
    representable,
    strip_column_lineage,
    table_events,
    to_utc,
    view_lineage,
)
from monte_carlo_push_provider.collectors.common import (
    NameFilter,
    check_memory,
    normalize_table_type,
    quote_identifier,
    quote_qualified,
)
from monte_carlo_push_provider.manifest import lineage_asset_ref, lineage_event

log = logging.getLogger(__name__)

RESOURCE_TYPE = "bigquery"
LOG_TYPE = "bigquery"
DEFAULT_REGION = "us"
#: JOBS_BY_PROJECT shows a job within seconds of its end; a few minutes of lag covers stragglers.
JOBS_LATENCY = timedelta(minutes=10)
#: A query job runs at most 6 hours, so a job that ended in the window was created at most this
#: long before it. Reading creation times from here keeps the scan on JOBS' partition column.
MAX_JOB_RUNTIME = timedelta(hours=6)
JOB_SOURCES = ("auto", "information_schema", "list_jobs")
FIELD_PATH_SOURCES = ("auto", "column_field_paths", "columns")
#: Labels put on this collector's own jobs, so query logs and lineage can leave them out.
COLLECTOR_LABELS = {"monte_carlo_push": "collector"}
#: BigQuery's dataset meta-tables; never assets (an emulator may hold a stand-in of that name).
_META_TABLES = frozenset({"__TABLES__", "__TABLES_SUMMARY__"})
#: ``__TABLES__.type``: 1 table, 2 view, 3 external.
_META_TABLE_TYPES = {1: "BASE TABLE", 2: "VIEW", 3: "EXTERNAL"}
#: Statement types that can write a table, i.e. can carry lineage. Reads are most of the history
#: and cannot produce lineage, so they are not parsed.
LINEAGE_STATEMENT_TYPES = frozenset(
    {
        "INSERT",
        "UPDATE",
        "DELETE",
        "MERGE",
        "CREATE_TABLE_AS_SELECT",
        "CREATE_VIEW",
        "CREATE_MATERIALIZED_VIEW",
        "CREATE_SNAPSHOT_TABLE",
        "SCRIPT",
    }
)
_REGION_RE = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
_PLAIN_PART_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# --- SQL ---------------------------------------------------------------------------------------
# {source} is always built by source_ref() from quoted identifiers; values are @parameters.

TABLES_SQL = "SELECT table_name, table_type, creation_time FROM {source}"
VIEWS_SQL = "SELECT table_name, view_definition FROM {source}"
# Descriptions and labels in one scan of TABLE_OPTIONS: labels (-> RelationalAsset.tags) cost no
# query of their own, and need no permission beyond the one descriptions already do.
TABLE_OPTIONS_SQL = (
    "SELECT table_name, option_name, option_value FROM {source} "
    "WHERE option_name IN ('description', 'labels')"
)
COLUMNS_SQL = (
    "SELECT table_name, column_name, data_type FROM {source} "
    "WHERE table_schema = @dataset ORDER BY table_name, ordinal_position"
)
# COLUMN_FIELD_PATHS lists each top-level column and every nested STRUCT/ARRAY field below it.
# Within a table, rows are grouped by top-level column in ordinal order (the view has no ordinal
# of its own, so the ORDER BY joins COLUMNS), which keeps fields in schema order.
COLUMN_FIELD_PATHS_SQL = (
    "SELECT table_name, column_name, field_path, data_type, description FROM {source} "
    "WHERE table_schema = @dataset"
)
META_TABLES_SQL = "SELECT table_id, type, row_count, size_bytes, last_modified_time, creation_time FROM {source}"
TABLE_STORAGE_SQL = (
    "SELECT project_id, table_schema, table_name, table_type, creation_time, total_rows, "
    "total_logical_bytes, storage_last_modified_time, deleted FROM {source} "
    "WHERE project_id = @project"
)
JOBS_SQL = (
    "SELECT job_id, project_id, creation_time, start_time, end_time, user_email, job_type, "
    "statement_type, query, state, total_bytes_billed, total_bytes_processed, error_result, "
    "destination_table, referenced_tables, labels, parent_job_id "
    "FROM {source} "
    "WHERE creation_time >= @created_after AND creation_time < @end "
    "AND end_time >= @start AND end_time < @end AND job_type = 'QUERY' AND state = 'DONE' "
    "ORDER BY end_time, job_id"
)
SCHEMATA_LINKS_SQL = (
    "SELECT catalog_name, schema_name, linked_schema_catalog_name, linked_schema_name FROM {source}"
)


# --- names and sources -------------------------------------------------------------------------


def region_dataset(region: str) -> str:
    """``us`` -> ``region-us`` (also accepts ``region-us``); refuses anything that is not a
    BigQuery location name, so the region can never change a query."""
    value = str(region or "").strip().lower()
    value = value.removeprefix("region-")
    if not _REGION_RE.match(value):
        raise ValueError(f"region must be a BigQuery location like 'us', 'eu' or 'europe-west1', got {region!r}")
    return f"region-{value}"


def source_ref(override: str | None, default: tuple[tuple[str, ...], str], **values: str) -> str:
    """The SQL reference of a catalog source.

    ``default`` is ``(parts, view)``: ``(("my-proj", "region-us"), "JOBS_BY_PROJECT")`` renders
    ```my-proj`.`region-us`.INFORMATION_SCHEMA.JOBS_BY_PROJECT``. ``override`` is a dotted name
    whose parts may hold ``{project}``, ``{dataset}`` and ``{region}`` (``region-<r>``); each part
    is filled in and quoted on its own, so a value cannot add a part. ``INFORMATION_SCHEMA`` and
    the view after it stay bare: BigQuery resolves them as keywords, not as quoted names.
    """
    if override:
        rendered: list[str] = []
        parts = str(override).strip().strip("`").split(".")
        for i, part in enumerate(parts):
            text = part.strip("`").format(**values)
            after_info = i > 0 and parts[i - 1].strip("`").upper() == "INFORMATION_SCHEMA"
            if (text.upper() == "INFORMATION_SCHEMA" or after_info) and _PLAIN_PART_RE.match(text):
                rendered.append(text)
            else:
                rendered.append(quote_identifier(text, "`"))
        return ".".join(rendered)
    default_parts, view = default
    return f"{quote_qualified(*default_parts, quote='`')}.INFORMATION_SCHEMA.{view}"


def dataset_meta_ref(project: str, dataset: str, meta: str = "__TABLES__") -> str:
    return quote_qualified(project, dataset, meta, quote="`")


# --- running queries ---------------------------------------------------------------------------


def run_query(
    client: Any,
    sql: str,
    params: Mapping[str, Any] | None = None,
    *,
    fetch_size: int = 10_000,
    timeout_s: float = 300.0,
    project: str | None = None,
    location: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Run ``sql`` with named query parameters and yield rows as dicts, a page at a time.

    google-cloud-bigquery's RowIterator fetches ``fetch_size`` rows per page, lazily: the same
    streaming :func:`~monte_carlo_push_provider.collectors.common.iter_dicts` gives DB-API hooks
    (BigQueryHook's DB-API path does not reach an emulator, so the client is used directly).
    """
    from google.api_core.retry import Retry
    from google.cloud import bigquery

    query_parameters = [_parameter(bigquery, name, value) for name, value in (params or {}).items()]
    config = bigquery.QueryJobConfig(query_parameters=query_parameters, labels=dict(COLLECTOR_LABELS))
    # The client's default retry keeps re-sending a query that fails with a 5xx for 10 minutes;
    # a catalog read that fails that way should fail the task well before the task timeout.
    retry = Retry(deadline=timeout_s)
    job = client.query(sql, job_config=config, project=project, location=location, retry=retry, timeout=timeout_s)
    rows = job.result(page_size=fetch_size, timeout=timeout_s, retry=retry)
    for row in rows:
        yield {k.lower(): v for k, v in row.items()}


def _parameter(bigquery: Any, name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"query parameter @{name} is a naive datetime; pass it in UTC")
        return bigquery.ScalarQueryParameter(name, "TIMESTAMP", value)
    if isinstance(value, bool):
        return bigquery.ScalarQueryParameter(name, "BOOL", value)
    if isinstance(value, int):
        return bigquery.ScalarQueryParameter(name, "INT64", value)
    return bigquery.ScalarQueryParameter(name, "STRING", str(value))


def is_missing_source_error(exc: BaseException) -> bool:
    """NotFound / BadRequest: the view does not exist here (emulator, region, edition) or this
    role cannot see it. Anything else (permissions, quota, network) is a real failure."""
    try:
        from google.api_core.exceptions import BadRequest, NotFound
    except ImportError:  # pragma: no cover - google-api-core comes with google-cloud-bigquery
        return False
    return isinstance(exc, (BadRequest, NotFound))


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def as_utc(value: Any) -> datetime | None:
    """``__TABLES__`` times are epoch milliseconds; everything else goes through the template's
    one conversion (BigQuery TIMESTAMPs come back aware, and are UTC by definition when not)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000.0, tz=timezone.utc)
    return to_utc(value)


_int = as_count


# --- projects and datasets ---------------------------------------------------------------------


def list_projects(client: Any, project_ids: Iterable[str] | None, project_filter: NameFilter) -> list[str]:
    """The projects to collect: ``project_ids`` when given, else every project the credentials
    list; either way through ``project_filter``."""
    if project_ids:
        candidates = list(dict.fromkeys(project_ids))
    else:
        candidates = sorted(p.project_id for p in client.list_projects())
    return project_filter.select(candidates)


def list_datasets(client: Any, project: str, dataset_filter: NameFilter) -> list[str]:
    return dataset_filter.select(sorted(d.dataset_id for d in client.list_datasets(project=project)))


# --- nested column types -----------------------------------------------------------------------


def _split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside <>, () and backticks."""
    out: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for ch in text:
        if ch == "`":
            quoted = not quoted
        elif not quoted and ch in "<(":
            depth += 1
        elif not quoted and ch in ">)":
            depth -= 1
        if ch == sep and depth == 0 and not quoted:
            out.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        out.append("".join(current).strip())
    return out


def _struct_members(data_type: str) -> list[tuple[str, str]] | None:
    """``STRUCT<a INT64, b ARRAY<STRING>>`` (also inside ``ARRAY<...>``) -> [(a, INT64), (b, ...)]."""
    text = data_type.strip()
    upper = text.upper()
    if upper.startswith("ARRAY<") and text.endswith(">"):
        return _struct_members(text[6:-1])
    if not (upper.startswith("STRUCT<") and text.endswith(">")):
        return None
    members = []
    for member in _split_top_level(text[7:-1]):
        if member.startswith("`"):
            end = member.index("`", 1)
            name, rest = member[1:end].replace("``", "`"), member[end + 1 :]
        else:
            name, _, rest = member.partition(" ")
        rest = rest.strip()
        # INFORMATION_SCHEMA renders NOT NULL / OPTIONS after the type; keep the type only
        rest = re.split(r"\s+(?:NOT\s+NULL|OPTIONS\s*\()", rest, maxsplit=1, flags=re.IGNORECASE)[0]
        members.append((name, rest))
    return members


def flatten_column(column: str, data_type: str) -> list[tuple[str, str]]:
    """A column and every nested STRUCT / ARRAY<STRUCT> field below it, as COLUMN_FIELD_PATHS
    names them: ``customer``, ``customer.addr``, ``customer.addr.city``, ``items.sku``."""
    out = [(column, data_type)]
    for name, member_type in _struct_members(data_type) or ():
        out.extend(flatten_column(f"{column}.{name}", member_type))
    return out


# --- metadata ----------------------------------------------------------------------------------


@dataclass
class _Table:
    name: str
    native_type: str | None = None
    created: datetime | None = None
    description: str | None = None
    view_query: str | None = None
    fields: list[tuple[str, str, str | None]] = field(default_factory=list)
    labels: dict[str, str | None] | None = None
    row_count: int | None = None
    byte_count: int | None = None
    last_modified: datetime | None = None


@dataclass
class MetadataStats:
    datasets: int = 0
    tables: int = 0
    labelled_tables: int = 0
    shards_collapsed: int = 0
    column_source: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def _option_string(value: Any) -> str | None:
    """TABLE_OPTIONS renders strings as GoogleSQL literals (``"orders table"``)."""
    if value is None:
        return None
    text = str(value)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            return json.loads(text)
        except ValueError:
            return text[1:-1]
    return text


# TABLE_OPTIONS renders labels as a GoogleSQL array literal: ``[STRUCT("env", "prod"), …]`` in
# BigQuery, ``[("env", "prod")]`` in the emulator. Label keys and values are lower-case letters,
# digits, ``_`` and ``-`` (so never a quote), but the string literals are read with their escapes
# anyway.
_LABEL_RE = re.compile(r'\(\s*"((?:[^"\\]|\\.)*)"\s*,\s*"((?:[^"\\]|\\.)*)"\s*\)')


def parse_labels(value: Any) -> dict[str, str | None]:
    """``{key: value}`` from a ``labels`` option value; an empty value (a key-only label, which
    BigQuery's docs call a tag) gives None."""
    if value is None:
        return {}

    def text(literal: str) -> str:
        try:
            return str(json.loads(f'"{literal}"'))
        except ValueError:
            return literal

    return {text(k): (text(v) or None) for k, v in _LABEL_RE.findall(str(value))}


def collect_dataset_metadata(
    client: Any,
    project: str,
    dataset: str,
    *,
    only_freshness_and_volume: bool = False,
    field_paths: str = "auto",
    column_field_paths_table: str | None = None,
    collapse_date_shards: bool = True,
    fetch_size: int = 10_000,
    timeout_s: float = 300.0,
    stats: MetadataStats | None = None,
    tables_so_far: int = 0,
    collect_labels: bool = True,
) -> list[TableRecord]:
    """Tables and views of one dataset.

    Full mode: TABLES, VIEWS, TABLE_OPTIONS (descriptions, and labels as tags unless
    ``collect_labels`` is off), COLUMN_FIELD_PATHS or COLUMNS, and
    ``__TABLES__``. ``only_freshness_and_volume``: ``__TABLES__`` alone (one query), for hourly
    runs. Date shards (``events_20240101`` …) become one asset ``events_yyyymmdd``, as the lineage
    engine names them: fields of the newest shard, rows and bytes summed, newest modification.
    """
    stats = stats if stats is not None else MetadataStats()
    values = {"project": project, "dataset": dataset}
    run = _runner(client, fetch_size, timeout_s, project)
    tables: dict[str, _Table] = {}

    if not only_freshness_and_volume:
        info = (project, dataset)
        for row in run(TABLES_SQL.format(source=source_ref(None, (info, "TABLES")))):
            name = row["table_name"]
            if name not in _META_TABLES:
                tables[name] = _Table(name, row.get("table_type"), as_utc(row.get("creation_time")))
        check_memory(tables_so_far + len(tables), what=f"metadata of {project}.{dataset}")
        for row in run(VIEWS_SQL.format(source=source_ref(None, (info, "VIEWS")))):
            if row["table_name"] in tables:
                tables[row["table_name"]].view_query = row.get("view_definition")
        for row in run(TABLE_OPTIONS_SQL.format(source=source_ref(None, (info, "TABLE_OPTIONS")))):
            table = tables.get(row["table_name"])
            if table is None:
                continue
            if row.get("option_name") == "labels":
                if collect_labels:
                    table.labels = parse_labels(row.get("option_value")) or None
            else:
                table.description = _option_string(row.get("option_value"))
        source = _read_fields(run, tables, project, dataset, field_paths, column_field_paths_table, values, stats)
        stats.column_source[f"{project}.{dataset}"] = source

    try:
        for row in run(META_TABLES_SQL.format(source=dataset_meta_ref(project, dataset)), {}):
            name = row["table_id"]
            table = tables.get(name)
            if table is None:
                if not only_freshness_and_volume:
                    continue  # dropped between the two reads
                table = tables[name] = _Table(
                    name, _META_TABLE_TYPES.get(_int(row.get("type")) or 0), as_utc(row.get("creation_time"))
                )
            if normalize_table_type(table.native_type) == "TABLE":
                table.row_count = _int(row.get("row_count"))
                table.byte_count = _int(row.get("size_bytes"))
                table.last_modified = as_utc(_int(row.get("last_modified_time")))
    except Exception as exc:
        if not is_missing_source_error(exc):
            raise
        # __TABLES__ exists in every real dataset; an emulator may not have it. Keep the schema.
        log.warning("%s.%s.__TABLES__ cannot be read (%s); no volume or freshness for this dataset",
                    project, dataset, first_line(exc))
        stats.missing.append(f"{project}.{dataset}.__TABLES__")

    stats.datasets += 1
    if collapse_date_shards:
        tables = _collapse_shards(tables, stats)
    stats.tables += len(tables)
    stats.labelled_tables += sum(1 for t in tables.values() if t.labels)
    return [_record(t, project, dataset) for _, t in sorted(tables.items())]


def _runner(client: Any, fetch_size: int, timeout_s: float, project: str | None) -> Any:
    def run(sql: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        return run_query(client, sql, params, fetch_size=fetch_size, timeout_s=timeout_s, project=project)

    return run


def _read_fields(
    run: Any,
    tables: dict[str, _Table],
    project: str,
    dataset: str,
    field_paths: str,
    override: str | None,
    values: Mapping[str, str],
    stats: MetadataStats,
) -> str:
    if field_paths not in FIELD_PATH_SOURCES:
        raise ValueError(f"field_paths must be one of {', '.join(FIELD_PATH_SOURCES)}, got {field_paths!r}")
    params = {"dataset": dataset}
    if field_paths in ("auto", "column_field_paths"):
        sql = COLUMN_FIELD_PATHS_SQL.format(
            source=source_ref(override, ((project, dataset), "COLUMN_FIELD_PATHS"), **values)
        )
        try:
            rows: dict[str, dict[str, list[tuple[str, str, str | None]]]] = {}
            for row in run(sql, params):
                by_column = rows.setdefault(row["table_name"], {})
                by_column.setdefault(row["column_name"], []).append(
                    (row["field_path"], row["data_type"], row.get("description") or None)
                )
        except Exception as exc:
            if field_paths == "column_field_paths" or not is_missing_source_error(exc):
                raise
            log.info("COLUMN_FIELD_PATHS of %s.%s cannot be read (%s); parsing COLUMNS' nested types",
                     project, dataset, first_line(exc))
        else:
            # Column order comes from COLUMNS (COLUMN_FIELD_PATHS has no ordinal position).
            order = _column_order(run, project, dataset, params)
            for name, by_column in rows.items():
                if name not in tables:
                    continue
                ranked = sorted(by_column, key=lambda c: (order.get((name, c), 1 << 30), c))
                for column in ranked:
                    tables[name].fields.extend(_schema_order(column, by_column[column]))
            return "column_field_paths"
    sql = COLUMNS_SQL.format(source=source_ref(None, ((project, dataset), "COLUMNS")))
    for row in run(sql, params):
        table = tables.get(row["table_name"])
        if table is not None:
            table.fields.extend((p, t, None) for p, t in flatten_column(row["column_name"], row["data_type"]))
    return "columns"


def _schema_order(
    column: str, paths: list[tuple[str, str, str | None]]
) -> list[tuple[str, str, str | None]]:
    """One column's field paths in schema (depth-first) order: the view promises no row order,
    and the top-level column's type spells out the nesting."""
    top = next((p for p in paths if p[0] == column), None)
    if top is None:
        return sorted(paths)
    rank = {path: i for i, (path, _) in enumerate(flatten_column(column, top[1]))}
    return sorted(paths, key=lambda p: (rank.get(p[0], len(rank)), p[0]))


def _column_order(run: Any, project: str, dataset: str, params: Mapping[str, Any]) -> dict[tuple[str, str], int]:
    sql = COLUMNS_SQL.format(source=source_ref(None, ((project, dataset), "COLUMNS")))
    order: dict[tuple[str, str], int] = {}
    for i, row in enumerate(run(sql, params)):
        order[(row["table_name"], row["column_name"])] = i
    return order


def shard_name(name: str) -> str | None:
    """``events_20240101`` -> ``events_yyyymmdd`` (the lineage engine's name for the logical
    table); None when ``name`` is not a date shard."""
    from monte_carlo_push_provider.lineage.names import normalize_bigquery_name  # imports sqlglot

    collapsed = normalize_bigquery_name(name)
    return collapsed if collapsed != name else None


def _collapse_shards(tables: dict[str, _Table], stats: MetadataStats) -> dict[str, _Table]:
    groups: dict[str, list[_Table]] = {}
    out: dict[str, _Table] = {}
    for name, table in tables.items():
        logical = shard_name(name) if normalize_table_type(table.native_type) == "TABLE" else None
        if logical is None:
            out[name] = table
        else:
            groups.setdefault(logical, []).append(table)
    for logical, shards in groups.items():
        shards.sort(key=lambda t: t.name)
        newest = shards[-1]
        rows = [t.row_count for t in shards if t.row_count is not None]
        sizes = [t.byte_count for t in shards if t.byte_count is not None]
        modified = [t.last_modified for t in shards if t.last_modified is not None]
        created = [t.created for t in shards if t.created is not None]
        out[logical] = _Table(
            name=logical,
            native_type=newest.native_type,
            created=min(created) if created else None,
            description=newest.description,
            fields=newest.fields,
            labels=newest.labels,
            row_count=sum(rows) if rows else None,
            byte_count=sum(sizes) if sizes else None,
            last_modified=max(modified) if modified else None,
        )
        stats.shards_collapsed += len(shards)
    return out


def _record(table: _Table, project: str, dataset: str) -> TableRecord:
    return TableRecord(
        database=project,
        schema=dataset,
        name=table.name,
        type=normalize_table_type(table.native_type),
        description=table.description,
        view_query=table.view_query,
        created_on=table.created,
        fields=list(table.fields),
        tags=table.labels,
        row_count=table.row_count,
        byte_count=table.byte_count,
        last_update_time=table.last_modified,
    )


# --- BigLake / Iceberg: TABLE_STORAGE ----------------------------------------------------------


def collect_table_storage(
    client: Any,
    project: str,
    *,
    region: str = DEFAULT_REGION,
    dataset_filter: NameFilter,
    table_filter: NameFilter,
    table_storage_table: str | None = None,
    only_freshness_and_volume: bool = True,
    field_paths: str = "auto",
    column_field_paths_table: str | None = None,
    fetch_size: int = 10_000,
    timeout_s: float = 300.0,
) -> list[TableRecord]:
    """Volume and freshness of the tables ``TABLE_STORAGE`` reports for ``project`` in ``region``:
    one query per project and region. BigLake tables for Apache Iceberg are there, not in
    ``__TABLES__``. Full mode adds each table's columns (per dataset, as the metadata collector).
    """
    region_ds = region_dataset(region)
    values = {"project": project, "region": region_ds}
    source = source_ref(table_storage_table, ((project, region_ds), "TABLE_STORAGE"), **values)
    run = _runner(client, fetch_size, timeout_s, project)
    by_dataset: dict[str, dict[str, _Table]] = {}
    for row in run(TABLE_STORAGE_SQL.format(source=source), {"project": project}):
        if row.get("deleted"):
            continue
        dataset, name = row["table_schema"], row["table_name"]
        if not dataset_filter(dataset) or not table_filter(name):
            continue
        by_dataset.setdefault(dataset, {})[name] = _Table(
            name,
            row.get("table_type") or "BASE TABLE",
            as_utc(row.get("creation_time")),
            row_count=_int(row.get("total_rows")),
            byte_count=_int(row.get("total_logical_bytes")),
            last_modified=as_utc(row.get("storage_last_modified_time")),
        )
    events: list[TableRecord] = []
    stats = MetadataStats()
    for dataset, tables in sorted(by_dataset.items()):
        if not only_freshness_and_volume:
            ds_run = _runner(client, fetch_size, timeout_s, project)
            _read_fields(ds_run, tables, project, dataset, field_paths, column_field_paths_table,
                         {"project": project, "dataset": dataset}, stats)
        events.extend(_record(t, project, dataset) for _, t in sorted(tables.items()))
    return events


# --- jobs: query logs and lineage --------------------------------------------------------------


@dataclass
class Job:
    """One finished query job, from JOBS_BY_PROJECT or ``list_jobs`` alike."""

    job_id: str
    project: str
    created: datetime | None
    started: datetime | None
    ended: datetime | None
    user: str | None
    query: str | None
    statement_type: str | None
    job_type: str | None
    total_bytes_billed: int | None
    total_bytes_processed: int | None
    error_reason: str | None
    error_message: str | None
    default_dataset: tuple[str, str] | None
    destination: tuple[str, str, str] | None
    referenced: list[tuple[str, str, str]]
    labels: dict[str, str]
    parent_job_id: str | None = None

    @property
    def is_own(self) -> bool:
        return all(self.labels.get(k) == v for k, v in COLLECTOR_LABELS.items())


@dataclass
class JobStats:
    source: str = ""
    jobs: int = 0
    own_skipped: int = 0
    failed: int = 0


def _table_tuple(value: Any) -> tuple[str, str, str] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        parts = (value.get("project_id"), value.get("dataset_id"), value.get("table_id"))
    else:  # google.cloud.bigquery.TableReference
        parts = (getattr(value, "project", None), getattr(value, "dataset_id", None), getattr(value, "table_id", None))
    return parts if all(parts) else None  # type: ignore[return-value]


def _labels(value: Any) -> dict[str, str]:
    if not value:
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    return {str(item.get("key")): str(item.get("value")) for item in value if isinstance(item, Mapping)}


def _job_from_row(row: Mapping[str, Any]) -> Job:
    error = row.get("error_result") or {}
    return Job(
        job_id=row["job_id"],
        project=row["project_id"],
        created=as_utc(row.get("creation_time")),
        started=as_utc(row.get("start_time")),
        ended=as_utc(row.get("end_time")),
        user=row.get("user_email"),
        query=row.get("query"),
        statement_type=row.get("statement_type"),
        job_type=row.get("job_type"),
        total_bytes_billed=_int(row.get("total_bytes_billed")),
        total_bytes_processed=_int(row.get("total_bytes_processed")),
        error_reason=error.get("reason") if isinstance(error, Mapping) else None,
        error_message=error.get("message") if isinstance(error, Mapping) else None,
        # JOBS_BY_PROJECT has no default dataset column: unqualified names in such jobs stay
        # unqualified (the lineage engine skips and counts them rather than guessing).
        default_dataset=None,
        destination=_table_tuple(row.get("destination_table")),
        referenced=[t for t in (_table_tuple(r) for r in row.get("referenced_tables") or ()) if t],
        labels=_labels(row.get("labels")),
        parent_job_id=row.get("parent_job_id"),
    )


def _job_from_api(job: Any, project: str) -> Job:
    error = job.error_result or {}
    default = getattr(job, "default_dataset", None)
    return Job(
        job_id=job.job_id,
        project=getattr(job, "project", None) or project,
        created=as_utc(job.created),
        started=as_utc(job.started),
        ended=as_utc(job.ended),
        user=job.user_email,
        query=getattr(job, "query", None),
        statement_type=getattr(job, "statement_type", None),
        job_type=(job.job_type or "").upper() or None,
        total_bytes_billed=_int(getattr(job, "total_bytes_billed", None)),
        total_bytes_processed=_int(getattr(job, "total_bytes_processed", None)),
        error_reason=error.get("reason"),
        error_message=error.get("message"),
        default_dataset=(default.project, default.dataset_id) if default is not None else None,
        destination=_table_tuple(getattr(job, "destination", None)),
        referenced=[t for t in (_table_tuple(r) for r in getattr(job, "referenced_tables", None) or ()) if t],
        labels=_labels(getattr(job, "labels", None)),
        parent_job_id=getattr(job, "parent_job_id", None),
    )


def iter_jobs(
    client: Any,
    project: str,
    start: datetime,
    end: datetime,
    *,
    source: str = "auto",
    region: str = DEFAULT_REGION,
    jobs_table: str | None = None,
    fetch_size: int = 10_000,
    timeout_s: float = 300.0,
    include_own_jobs: bool = False,
    stats: JobStats | None = None,
    ordered: bool = True,
) -> Iterator[Job]:
    """Finished query jobs of ``project`` that ended in ``[start, end)``, oldest first.

    ``source``: ``information_schema`` (``region-<r>.INFORMATION_SCHEMA.JOBS_BY_PROJECT``, or
    ``jobs_table``), ``list_jobs`` (``Client.list_jobs(all_users=True)``), or ``auto``: the view,
    falling back to ``list_jobs`` when the view is missing (NotFound / BadRequest).
    ``ordered=False`` (query logs, which need no order): ``list_jobs`` jobs come as the API lists
    them, newest first, streamed; ordering them means holding the window's jobs.
    """
    if source not in JOB_SOURCES:
        raise ValueError(f"jobs source must be one of {', '.join(JOB_SOURCES)}, got {source!r}")
    stats = stats if stats is not None else JobStats()
    jobs: Iterable[Job]
    if source in ("auto", "information_schema"):
        region_ds = region_dataset(region)
        ref = source_ref(jobs_table, ((project, region_ds), "JOBS_BY_PROJECT"), project=project, region=region_ds)
        params = {"start": start, "end": end, "created_after": start - MAX_JOB_RUNTIME}
        try:
            # Materialised per page by the iterator; the first page proves the view exists, so
            # a fallback never follows a half-read view.
            rows = run_query(client, JOBS_SQL.format(source=ref), params, fetch_size=fetch_size,
                             timeout_s=timeout_s, project=project)
            first = next(rows, None)
        except Exception as exc:
            if source == "information_schema" or not is_missing_source_error(exc):
                raise
            log.warning("%s cannot be read (%s); listing jobs with Client.list_jobs(all_users=True) instead",
                        ref, first_line(exc))
            jobs = _list_jobs(client, project, start, end, ordered=ordered)
            stats.source = "list_jobs"
        else:
            stats.source = "information_schema"
            jobs = (_job_from_row(r) for r in itertools.chain([first] if first else [], rows))
    else:
        jobs = _list_jobs(client, project, start, end, ordered=ordered)
        stats.source = "list_jobs"
    for job in jobs:
        if job.is_own and not include_own_jobs:
            stats.own_skipped += 1
            continue
        stats.jobs += 1
        yield job


def _list_jobs(client: Any, project: str, start: datetime, end: datetime, *, ordered: bool = True) -> Iterator[Job]:
    jobs = _listed_jobs(client, project, start, end)
    if ordered:
        yield from sorted(jobs, key=lambda j: (j.ended, j.job_id))  # type: ignore[arg-type,return-value]
    else:
        yield from jobs


def _listed_jobs(client: Any, project: str, start: datetime, end: datetime) -> Iterator[Job]:
    for api_job in client.list_jobs(
        project=project,
        all_users=True,
        min_creation_time=start - MAX_JOB_RUNTIME,
        max_creation_time=end,
        state_filter="done",
    ):
        job = _job_from_api(api_job, project)
        # list_jobs filters on creation time only; keep the jobs that *ended* in the window, so
        # consecutive runs tile time like the view's end_time filter does.
        if job.job_type != "QUERY" or job.ended is None or not (start <= job.ended < end):
            continue
        yield job


def query_record(job: Job) -> QueryRecord:
    """The template's record of one job (its defects, e.g. no text, are the collector's to skip)."""
    return QueryRecord(
        query_text=job.query,
        start_time=job.started or job.created or job.ended,
        end_time=job.ended,
        query_id=job.job_id,
        user=job.user,
        error_code=job.error_reason,
        error_text=job.error_message,
        succeeded=not (job.error_reason or job.error_message),
        extra={
            "total_bytes_billed": job.total_bytes_billed,
            "total_bytes_processed": job.total_bytes_processed,
            "statement_type": job.statement_type,
            "job_type": job.job_type,
            "default_dataset": ".".join(job.default_dataset) if job.default_dataset else None,
            "destination_table": ".".join(job.destination) if job.destination else None,
            "project_id": job.project,
            "parent_job_id": job.parent_job_id,
        },
    )


def lineage_queries(jobs: Iterable[Job], names: dict[str, tuple[str, str, str]]) -> Iterator[dict[str, Any]]:
    """Successful jobs that can write, shaped for ``build_lineage_manifest``; records the exact
    case of every table the jobs name (BigQuery names are case-sensitive, the engine lower-cases)."""
    for job in jobs:
        for table in [*job.referenced, *([job.destination] if job.destination else [])]:
            names.setdefault(".".join(table).lower(), table)
        if job.error_reason or not job.query:
            continue
        if (job.statement_type or "").upper() not in LINEAGE_STATEMENT_TYPES:
            continue
        if job.default_dataset:
            names.setdefault(".".join(job.default_dataset).lower() + ".", (*job.default_dataset, ""))
        yield {
            "query_text": job.query,
            "query_id": job.job_id,
            "start_time": job.started or job.created,
            "user": job.user,
            "default_database": job.default_dataset[0] if job.default_dataset else job.project,
            "default_schema": job.default_dataset[1] if job.default_dataset else None,
        }


def restore_case(manifest: dict[str, Any], names: Mapping[str, tuple[str, str, str]]) -> dict[str, Any]:
    """Put back the exact case of the tables the jobs referenced (and of their datasets) on the
    lineage engine's lower-cased refs. ``asset_id`` stays as the engine made it (it only links
    ``fields`` to ``sources``)."""
    datasets = {".".join(t[:2]).lower(): t[:2] for t in names.values()}

    def fix(ref: dict[str, Any]) -> None:
        key = f"{ref['database']}.{ref['schema']}.{ref['name']}".lower()
        exact = names.get(key)
        if exact and exact[2]:
            ref["database"], ref["schema"], ref["name"] = exact
            return
        ds = datasets.get(f"{ref['database']}.{ref['schema']}".lower())
        if ds:
            ref["database"], ref["schema"] = ds

    for event in manifest["events"]:
        fix(event["destination"])
        for source in event["sources"]:
            fix(source)
    return manifest


def schemata_link_events(
    client: Any,
    project: str,
    *,
    region: str = DEFAULT_REGION,
    schemata_links_table: str | None = None,
    dataset_filter: NameFilter | None = None,
    fetch_size: int = 10_000,
    timeout_s: float = 300.0,
) -> list[dict[str, Any]]:
    """Table lineage for linked datasets (Analytics Hub shares): every table of a linked dataset
    reads from the table of the same name in the shared source dataset."""
    region_ds = region_dataset(region)
    ref = source_ref(schemata_links_table, ((project, region_ds), "SCHEMATA_LINKS"), project=project, region=region_ds)
    run = _runner(client, fetch_size, timeout_s, project)
    events = []
    for row in run(SCHEMATA_LINKS_SQL.format(source=ref)):
        src_project, src_dataset = row["catalog_name"], row["schema_name"]
        dst_project, dst_dataset = row["linked_schema_catalog_name"] or project, row["linked_schema_name"]
        if not (src_project and src_dataset and dst_dataset):
            continue
        if dataset_filter is not None and not dataset_filter(dst_dataset):
            continue
        # The linked dataset lists exactly the shared tables (it is a read-only link to them).
        for table in sorted(t.table_id for t in client.list_tables(f"{dst_project}.{dst_dataset}")):
            logical = shard_name(table) or table
            source = lineage_asset_ref(name=logical, database=src_project, schema=src_dataset)
            destination = lineage_asset_ref(name=logical, database=dst_project, schema=dst_dataset)
            event = lineage_event(destination, [source])
            if event not in events:
                events.append(event)
    return events


# --- collectors: one per kind --------------------------------------------------------------------


class BigQuerySource(NamedTuple):
    """What the collectors read through: a ``google.cloud.bigquery.Client`` and the connection's
    project (the default of ``project_ids``)."""

    client: Any
    project: str


def _projects(project_ids: Sequence[str] | str | None, default: str) -> list[str]:
    if isinstance(project_ids, str):
        project_ids = [project_ids]
    return list(project_ids) if project_ids else [default]


#: What BigQuery's refusals mean (docs/bigquery.md#roles).
ACCESS_HINTS = AccessHints(
    warehouse="BigQuery",
    missing=(
        "Check the project and dataset names (case-sensitive) and the region (region-<r> views exist "
        "only where the project has data); the credentials need roles/bigquery.metadataViewer on each "
        "project read, or the *_table arguments can point at a copy they may read."
    ),
    grant=(
        "Grant roles/bigquery.metadataViewer (catalog), roles/bigquery.resourceViewer (every user's jobs) "
        "on each project read, and roles/bigquery.jobUser on the connection's project."
    ),
    tls="Check the proxy and its CA bundle (REQUESTS_CA_BUNDLE) between the worker and googleapis.com.",
    doc="docs/bigquery.md#roles",
)


class _BigQueryCollector(Collector):
    access_hints = ACCESS_HINTS

    def __init__(
        self, *, project_ids: Sequence[str] | str | None = None, fetch_size: int = 10_000,
        query_timeout: float = 300.0,
    ) -> None:
        super().__init__(fetch_size=fetch_size)
        self.project_ids = project_ids
        self.query_timeout = query_timeout


class BigQueryMetadataCollector(_BigQueryCollector):
    """Tables and views of the selected datasets of the selected projects (date shards folded
    into ``<prefix>_yyyymmdd`` assets)."""

    kind: ClassVar[str] = "metadata"
    flavour = RESOURCE_TYPE

    def __init__(
        self,
        *,
        dataset: str | None = None,
        dataset_filter: NameFilter | None = None,
        project_filter: NameFilter | None = None,
        list_all_projects: bool = False,
        only_freshness_and_volume: bool = False,
        field_paths: str = "auto",
        column_field_paths_table: str | None = None,
        collapse_date_shards: bool = True,
        collect_tags: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.collect_tags = collect_tags
        self.dataset = dataset
        self.dataset_filter = dataset_filter or NameFilter()
        self.project_filter = project_filter or NameFilter()
        self.list_all_projects = list_all_projects
        self.only_freshness_and_volume = only_freshness_and_volume
        self.field_paths = field_paths
        self.column_field_paths_table = column_field_paths_table
        self.collapse_date_shards = collapse_date_shards
        self.projects_read: list[str] = []
        self.datasets_read: dict[str, list[str]] = {}

    def iter_datasets(
        self, source: BigQuerySource, stats: MetadataStats, tables_so_far: Callable[[], int] = lambda: 0,
    ) -> Iterator[list[TableRecord]]:
        """The tables and views of each selected dataset, one dataset at a time; ``projects_read``
        and ``datasets_read`` say what was listed."""
        client = source.client
        explicit = None if self.list_all_projects else _projects(self.project_ids, source.project)
        self.projects_read = list_projects(client, explicit, self.project_filter)
        mode = "freshness and volume" if self.only_freshness_and_volume else "full schema"
        for project in self.projects_read:
            names = [self.dataset] if self.dataset else list_datasets(client, project, self.dataset_filter)
            self.datasets_read[project] = names
            log.info("reading %d dataset(s) of %s (%s): %s", len(names), project, mode, names)
            for name in names:
                self.target = f"dataset {project}.{name}"
                yield collect_dataset_metadata(
                    client, project, name,
                    only_freshness_and_volume=self.only_freshness_and_volume,
                    field_paths=self.field_paths,
                    column_field_paths_table=self.column_field_paths_table,
                    collapse_date_shards=self.collapse_date_shards,
                    fetch_size=self.fetch_size,
                    timeout_s=self.query_timeout,
                    stats=stats,
                    tables_so_far=tables_so_far(),
                    collect_labels=self.collect_tags,
                )

    def collect(self, source: BigQuerySource, window: tuple[datetime, datetime] | None = None) -> Collection:
        stats = MetadataStats()
        events: list[dict[str, Any]] = []
        for records in self.iter_datasets(source, stats, tables_so_far=lambda: len(events)):
            events.extend(table_events(records, self.skips, only_freshness_and_volume=self.only_freshness_and_volume))
        projects, read = self.projects_read, self.datasets_read
        if stats.shards_collapsed:
            log.info("folded %d date shard(s) into <prefix>_yyyymmdd assets", stats.shards_collapsed)
        info: dict[str, Any] = {"datasets": read}
        if self.dataset:
            info["dataset"] = self.dataset
        if len(projects) == 1:
            info["project"] = projects[0]
        info["only_freshness_and_volume"] = self.only_freshness_and_volume
        out: dict[str, Any] = {"shards_collapsed": stats.shards_collapsed}
        if self.collect_tags and not self.only_freshness_and_volume:
            # Labels come with the descriptions' TABLE_OPTIONS query: no source of their own to
            # be refused (a role that cannot read it cannot read the metadata either).
            out["tags"] = {"tagged_tables": stats.labelled_tables, "sources": stats.datasets, "unavailable": []}
        # One scope per project (Monte Carlo's database) through the dataset filter (its schemas);
        # folding date shards renames tables, so it is part of the scope (docs/cleanup.md).
        datasets = NameFilter([self.dataset]) if self.dataset else self.dataset_filter
        scope = [{"database": project, "schemas": datasets.include or None, "exclude_schemas": datasets.exclude or None,
                  "options": {"collapse_date_shards": self.collapse_date_shards}} for project in projects]
        return Collection(events, info=info, stats=out, what=", ".join(projects), scope=scope)


class BigQueryViewLineageCollector(BigQueryMetadataCollector):
    """Table and column lineage of every view, parsed from ``INFORMATION_SCHEMA.VIEWS.view_definition``
    of each dataset by the lineage engine: lineage with no jobs history.

    The catalog is read as the metadata collector reads it (same queries, date shards folded the
    same way; no labels). ``view_definition`` is the query alone; it is parsed with BigQuery's
    rules (dataset and table names case-sensitive, kept as written; columns matched to the
    catalog's case), unqualified projects resolved in the view's own project.
    """

    kind: ClassVar[str] = "lineage"

    def __init__(self, *, column_lineage: bool = True, **kwargs: Any) -> None:
        super().__init__(collect_tags=False, **kwargs)
        self.column_lineage = column_lineage

    def collect(self, source: BigQuerySource, window: tuple[datetime, datetime] | None = None) -> Collection:
        stats = MetadataStats()
        records = [record for dataset in self.iter_datasets(source, stats) for record in dataset]
        events, out = view_lineage(
            records, self.skips, dialect="bigquery", resource_type=RESOURCE_TYPE, column_lineage=self.column_lineage,
        )
        info: dict[str, Any] = {"datasets": self.datasets_read, "source": "view_definitions"}
        if self.dataset:
            info["dataset"] = self.dataset
        if len(self.projects_read) == 1:
            info["project"] = self.projects_read[0]
        return Collection(events, info=info, stats=out,
                          what=f"{', '.join(self.projects_read)}, {out['views']:,} view definition(s)")


class BigQueryIcebergCollector(_BigQueryCollector):
    """Volume and freshness (and, unless ``only_freshness_and_volume``, columns) of the tables
    ``INFORMATION_SCHEMA.TABLE_STORAGE`` reports: BigLake tables for Apache Iceberg among them."""

    kind: ClassVar[str] = "metadata"
    flavour = RESOURCE_TYPE

    def __init__(
        self,
        *,
        region: str = DEFAULT_REGION,
        dataset_filter: NameFilter | None = None,
        table_filter: NameFilter | None = None,
        only_freshness_and_volume: bool = True,
        table_storage_table: str | None = None,
        field_paths: str = "auto",
        column_field_paths_table: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.region = region
        self.dataset_filter = dataset_filter or NameFilter()
        self.table_filter = table_filter or NameFilter()
        self.only_freshness_and_volume = only_freshness_and_volume
        self.table_storage_table = table_storage_table
        self.field_paths = field_paths
        self.column_field_paths_table = column_field_paths_table

    def collect(self, source: BigQuerySource, window: tuple[datetime, datetime] | None = None) -> Collection:
        region = region_dataset(self.region)
        projects = _projects(self.project_ids, source.project)
        events: list[dict[str, Any]] = []
        for project in projects:
            self.target = f"{project}.{region}.INFORMATION_SCHEMA.TABLE_STORAGE"
            log.info("reading %s.%s.INFORMATION_SCHEMA.TABLE_STORAGE", project, region)
            records = collect_table_storage(
                source.client, project,
                region=self.region,
                dataset_filter=self.dataset_filter,
                table_filter=self.table_filter,
                table_storage_table=self.table_storage_table,
                only_freshness_and_volume=self.only_freshness_and_volume,
                field_paths=self.field_paths,
                column_field_paths_table=self.column_field_paths_table,
                fetch_size=self.fetch_size,
                timeout_s=self.query_timeout,
            )
            events.extend(table_events(records, self.skips, only_freshness_and_volume=self.only_freshness_and_volume))
        info = {"only_freshness_and_volume": self.only_freshness_and_volume, "region": region, "source": "table_storage"}
        # TABLE_STORAGE (tables only, no views) is another source than the datasets' own views:
        # another scope per project, through both filters (docs/cleanup.md).
        scope = [{"database": project, "schemas": self.dataset_filter.include or None,
                  "exclude_schemas": self.dataset_filter.exclude or None, "tables": self.table_filter.include or None,
                  "exclude_tables": self.table_filter.exclude or None,
                  "options": {"source": "table_storage", "region": region}} for project in projects]
        return Collection(events, info=info, what=f"TABLE_STORAGE ({', '.join(projects)}, {region})", scope=scope)


class _BigQueryJobsCollector(_BigQueryCollector):
    """Where jobs come from: JOBS_BY_PROJECT, or ``Client.list_jobs`` when the view is missing."""

    def __init__(
        self,
        *,
        jobs_source: str = "auto",
        region: str = DEFAULT_REGION,
        jobs_table: str | None = None,
        include_own_jobs: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.jobs_source = jobs_source
        self.region = region
        self.jobs_table = jobs_table
        self.include_own_jobs = include_own_jobs

    def jobs(self, source: BigQuerySource, project: str, window: tuple[datetime, datetime], stats: JobStats) -> Iterator[Job]:
        self.target = f"the query jobs of {project}"
        return iter_jobs(
            source.client, project, *window,
            source=self.jobs_source, region=self.region, jobs_table=self.jobs_table,
            fetch_size=self.fetch_size, timeout_s=self.query_timeout,
            include_own_jobs=self.include_own_jobs, stats=stats, ordered=self.kind == "lineage",
        )


class BigQueryQueryLogCollector(_BigQueryJobsCollector):
    """The query jobs that ended in the window, as query logs (``log_type`` bigquery)."""

    kind: ClassVar[str] = "query_logs"
    flavour = LOG_TYPE

    def collect(self, source: BigQuerySource, window: tuple[datetime, datetime] | None) -> Collection:
        assert window is not None
        collection = Collection([], what="jobs")
        collection.events = self._events(source, window, collection)  # streamed into manifest parts
        return collection

    def _events(
        self, source: BigQuerySource, window: tuple[datetime, datetime], collection: Collection
    ) -> Iterator[dict[str, Any]]:
        stats = JobStats()
        for project in _projects(self.project_ids, source.project):
            log.info("reading the query jobs of %s that ended in [%s, %s)", project, *window)
            for query in representable((query_record(j) for j in self.jobs(source, project, window, stats)), self.skips):
                stats.failed += not query.succeeded
                collection.info["source"] = stats.source  # known once the first job is read
                yield query.to_event()
        log.info("jobs from %s: %d read, %d failed, %d of this collector's own skipped",
                 stats.source, stats.jobs, stats.failed, stats.own_skipped)
        collection.info["source"] = stats.source
        collection.stats.update(asdict(stats))
        collection.what = f"jobs ({stats.source})"


class BigQueryLineageCollector(_BigQueryJobsCollector):
    """Table and column lineage from the SQL of the query jobs that ended in the window (dialect
    ``bigquery``), names given back the case the jobs recorded (BigQuery names are
    case-sensitive; the engine lower-cases), plus linked datasets from SCHEMATA_LINKS."""

    kind: ClassVar[str] = "lineage"
    flavour = RESOURCE_TYPE

    def __init__(
        self, *, schemata_links: bool = True, schemata_links_table: str | None = None, column_lineage: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.schemata_links = schemata_links
        self.schemata_links_table = schemata_links_table
        self.column_lineage = column_lineage

    def collect(self, source: BigQuerySource, window: tuple[datetime, datetime] | None) -> Collection:
        assert window is not None
        projects = _projects(self.project_ids, source.project)
        stats = JobStats()
        names: dict[str, tuple[str, str, str]] = {}

        def queries() -> Iterator[dict[str, Any]]:  # streamed: the engine keeps shapes and edges
            for project in projects:
                log.info("reading the query jobs of %s for lineage in [%s, %s)", project, *window)
                yield from lineage_queries(self.jobs(source, project, window, stats), names)

        events, engine_stats = engine_lineage(queries(), dialect="bigquery", resource_type=RESOURCE_TYPE)
        log.info("lineage from %d job(s) (%s): %s", stats.jobs, stats.source, engine_stats)
        # BigQuery's case rule: the exact names the jobs recorded, not a fold
        restore_case({"events": events}, names)
        if not self.column_lineage:
            strip_column_lineage(events)
        if self.schemata_links:
            for project in projects:
                try:
                    links = schemata_link_events(
                        source.client, project, region=self.region, schemata_links_table=self.schemata_links_table,
                        fetch_size=self.fetch_size, timeout_s=self.query_timeout,
                    )
                except Exception as exc:
                    if not is_missing_source_error(exc):
                        raise
                    log.warning("SCHEMATA_LINKS of %s cannot be read (%s); no linked-dataset lineage",
                                project, first_line(exc))
                    continue
                log.info("%d linked-dataset lineage event(s) from SCHEMATA_LINKS of %s", len(links), project)
                events.extend(links)
        return Collection(events, info={"source": stats.source}, stats=engine_stats, what=f"jobs ({stats.source})")
