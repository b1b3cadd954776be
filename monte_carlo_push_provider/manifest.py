"""Manifest format v1: what collector operators hand to the push operator through XCom.

A manifest is a plain JSON-serialisable dict (so any XCom backend can carry it)::

    {"manifest_version": 1,
     "kind": "metadata" | "lineage" | "query_logs",
     "resource_type": "snowflake",     # metadata and lineage
     "log_type": "snowflake",          # query_logs only
     "resource_uuid": None,            # the connection's resource_uuid when None
     "collected_at": "2026-11-25T10:00:00Z",
     "window": {"start": "...Z", "end": "...Z"},   # optional
     "events": [...]}                  # pycarlo to_dict() of RelationalAsset / LineageEvent / QueryLogEntry

Events are kept as dicts, exactly as pycarlo's ``to_dict()`` renders them, so building a manifest
needs no pycarlo import (DAG parsing and collectors stay cheap). :func:`validate_manifest` checks
every event against the shape pycarlo's dataclasses define and the gateway enforces, and names the
manifest, the event index and the field in its error.

This module must stay import-light: stdlib only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

MANIFEST_VERSION = 1
KINDS = ("metadata", "lineage", "query_logs")

#: ``RelationalAsset.type`` values the gateway accepts.
ASSET_TYPES = frozenset({"TABLE", "VIEW"})
#: ``LineageAssetRef.type`` values the gateway accepts (pycarlo documents these four).
LINEAGE_ASSET_TYPES = frozenset({"TABLE", "VIEW", "EXTERNAL", "WILDCARD_TABLE"})
#: ``resource.log_type`` values Monte Carlo's query-log normaliser knows.
QUERY_LOG_TYPES = frozenset(
    {
        "snowflake",
        "bigquery",
        "databricks",
        "databricks-metastore-sql-warehouse",
        "redshift",
        "hive-s3",
        "athena",
        "teradata",
        "clickhouse",
        "s3",
        "presto-s3",
    }
)
#: ``resource.resource_type`` values a metadata / lineage push may name: the Monte Carlo warehouse
#: connection type, lower-case and hyphenated. pycarlo has no list (its docstrings say "e.g.
#: snowflake, bigquery"); this one is the contract's (snowflake, bigquery, databricks, redshift,
#: data-lake) plus the warehouse types of pycarlo's schema (enum ``WarehouseModelConnectionType``)
#: and the transactional databases Monte Carlo files under ``TRANSACTIONAL_DB``.
RESOURCE_TYPES = frozenset(
    {
        # the contract
        "snowflake",
        "bigquery",
        "databricks",
        "redshift",
        "data-lake",
        # WarehouseModelConnectionType (pycarlo/lib/schema.json), warehouse kinds only
        "clickhouse",
        "db2",
        "dremio",
        "microsoft-fabric",
        "mysql",
        "oracle",
        "salesforce-data-cloud",
        "starburst-enterprise",
        "starburst-galaxy",
        "teradata",
        "transactional-db",
        # transactional databases (TRANSACTIONAL_DB warehouses)
        "postgres",
        "sql-server",
        "azure-dedicated-sql-pool",
        "sap-hana",
        "motherduck",
    }
)
#: Values people write for ``resource_type`` that Monte Carlo spells otherwise.
RESOURCE_TYPE_HINTS = {
    "hive": "data-lake",
    "glue": "data-lake",
    "emr": "data-lake",
    "athena": "data-lake",
    "presto": "data-lake",
    "s3": "data-lake",
    "hive-s3": "data-lake",
    "datalake": "data-lake",
    "data_lake": "data-lake",
    "databricks-metastore-sql-warehouse": "databricks",
    "databricks-sql-warehouse": "databricks",
    "postgresql": "postgres",
    "mssql": "sql-server",
    "sqlserver": "sql-server",
    "transactional_db": "transactional-db",
}
#: resource_type -> the query-log ``log_type`` values that can go to a warehouse of that type.
#: Types missing here are not checked.
LOG_TYPES_BY_RESOURCE_TYPE: dict[str, frozenset[str]] = {
    "snowflake": frozenset({"snowflake"}),
    "bigquery": frozenset({"bigquery"}),
    "databricks": frozenset({"databricks", "databricks-metastore-sql-warehouse"}),
    "redshift": frozenset({"redshift"}),
    "data-lake": frozenset({"hive-s3", "athena", "s3", "presto-s3"}),
    "teradata": frozenset({"teradata"}),
    "clickhouse": frozenset({"clickhouse"}),
}
#: resource_type -> the Monte Carlo ``Warehouse.connectionType`` values (GraphQL ``getUser``) a
#: warehouse of that type can have. Databricks metastores are DATA_LAKE warehouses in Monte Carlo.
CONNECTION_TYPES_BY_RESOURCE_TYPE: dict[str, frozenset[str]] = {
    "snowflake": frozenset({"SNOWFLAKE"}),
    "bigquery": frozenset({"BIGQUERY"}),
    "databricks": frozenset({"DATA_LAKE"}),
    "redshift": frozenset({"REDSHIFT"}),
    "data-lake": frozenset({"DATA_LAKE"}),
    "clickhouse": frozenset({"CLICKHOUSE"}),
    "db2": frozenset({"DB2"}),
    "dremio": frozenset({"DREMIO"}),
    "microsoft-fabric": frozenset({"MICROSOFT_FABRIC"}),
    "salesforce-data-cloud": frozenset({"SALESFORCE_DATA_CLOUD"}),
    "starburst-enterprise": frozenset({"STARBURST_ENTERPRISE"}),
    "starburst-galaxy": frozenset({"STARBURST_GALAXY"}),
    "teradata": frozenset({"TERADATA"}),
    "mysql": frozenset({"MYSQL", "TRANSACTIONAL_DB"}),
    "oracle": frozenset({"ORACLE", "TRANSACTIONAL_DB"}),
    **{t: frozenset({"TRANSACTIONAL_DB"}) for t in (
        "transactional-db", "postgres", "sql-server", "azure-dedicated-sql-pool", "sap-hana", "motherduck",
    )},
}
#: The 64-bit signed range every integer in a push must fit: the gateway answers 400 beyond it,
#: while Python's ints (and ``json.dumps``) are unbounded.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def connection_types_for(label: str, value: str) -> frozenset[str]:
    """The Monte Carlo connection types a warehouse must have to take a push naming
    ``resource_type`` (``label="resource_type"``) or query-log ``log_type`` ``value``; empty
    when unknown (not checked)."""
    if label == "log_type":
        return frozenset().union(
            *(CONNECTION_TYPES_BY_RESOURCE_TYPE.get(rt, frozenset())
              for rt, logs in LOG_TYPES_BY_RESOURCE_TYPE.items() if value in logs)
        )
    return CONNECTION_TYPES_BY_RESOURCE_TYPE.get(value, frozenset())


class ManifestError(ValueError):
    """A manifest (or one of its events) does not follow format v1.

    The message names the manifest, the event index and the field, and says what was expected.
    """


# ---------------------------------------------------------------------------------------------
# Timestamps
# ---------------------------------------------------------------------------------------------


def utc_iso(value: datetime | str | None) -> str | None:
    """Render a timestamp as ISO-8601 UTC with a ``Z`` suffix (the form the gateway expects).

    Naive datetimes are refused: a warehouse timestamp without a zone is ambiguous, and guessing
    shifts freshness by hours. Collectors must attach the zone the warehouse reports in.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_utc(value, field="timestamp")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ManifestError(
            f"timestamp {value.isoformat()} has no time zone; attach one "
            "(e.g. value.replace(tzinfo=timezone.utc)) before building events"
        )
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_utc(value: object, *, field: str) -> datetime:
    """Parse an ISO-8601 string that must carry UTC (``Z`` or ``+00:00``); anything else is refused."""
    if not isinstance(value, str):
        raise ManifestError(f"{field} must be an ISO-8601 string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ManifestError(
            f"{field} must be an ISO-8601 timestamp like 2026-11-25T10:00:00Z, got {value!r}"
        ) from None
    if parsed.tzinfo is None:
        raise ManifestError(f"{field} has no time zone ({value!r}); send UTC with a trailing Z")
    if parsed.utcoffset() != timezone.utc.utcoffset(None):
        raise ManifestError(
            f"{field} must be in UTC, got offset {value!r}; convert with .astimezone(timezone.utc)"
        )
    return parsed


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------


#: A manifest's time window: ``(start, end)`` or ``{"start": ..., "end": ...}``, each an aware
#: datetime or an ISO-8601 UTC string.
ManifestWindow = tuple[datetime | str, datetime | str] | Mapping[str, str]


def new_manifest(
    kind: str,
    events: list[dict[str, Any]],
    *,
    resource_type: str | None = None,
    log_type: str | None = None,
    resource_uuid: str | None = None,
    window: ManifestWindow | None = None,
    collected_at: datetime | str | None = None,
    **info: Any,
) -> dict[str, Any]:
    """Build a manifest v1 dict. ``info`` adds optional descriptive keys (e.g. ``database``)."""
    if kind not in KINDS:
        raise ManifestError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    manifest: dict[str, Any] = {"manifest_version": MANIFEST_VERSION, "kind": kind}
    if kind == "query_logs":
        manifest["log_type"] = log_type
    else:
        manifest["resource_type"] = resource_type
    manifest["resource_uuid"] = resource_uuid
    manifest["collected_at"] = utc_iso(collected_at or datetime.now(timezone.utc))
    if window is not None:
        start: datetime | str
        end: datetime | str
        if isinstance(window, Mapping):
            start, end = window["start"], window["end"]
        else:
            start, end = window
        manifest["window"] = {"start": utc_iso(start), "end": utc_iso(end)}
    manifest.update(info)
    manifest["events"] = events
    return manifest


def relational_asset(
    *,
    type: str,  # noqa: A002 - mirrors pycarlo's field name
    name: str,
    database: str,
    schema: str,
    description: str | None = None,
    view_query: str | None = None,
    created_on: datetime | str | None = None,
    fields: Iterable[tuple[str, str] | tuple[str, str, str | None]] | None = None,
    tags: Mapping[str, str | None] | None = None,
    row_count: int | None = None,
    byte_count: int | None = None,
    last_update_time: datetime | str | None = None,
) -> dict[str, Any]:
    """One metadata event, exactly as ``RelationalAsset(...).to_dict()`` renders it.

    ``type`` must already be normalised to TABLE or VIEW (see
    :func:`monte_carlo_push_provider.collectors.common.normalize_table_type`).
    """
    metadata: dict[str, Any] = {"name": name, "database": database, "schema": schema}
    if description:
        metadata["description"] = description
    if view_query:
        metadata["view_query"] = view_query
    if created_on is not None:
        metadata["created_on"] = utc_iso(created_on)
    event: dict[str, Any] = {"type": type, "metadata": metadata}
    if tags:
        event["tags"] = [
            {"key": k} if v is None else {"key": k, "value": v} for k, v in tags.items()
        ]
    if fields:
        rendered = []
        for f in fields:
            item = {"name": f[0], "type": f[1]}
            if len(f) > 2 and f[2]:
                item["description"] = f[2]
            rendered.append(item)
        if rendered:
            event["fields"] = rendered
    volume = {}
    if row_count is not None:
        volume["row_count"] = int(row_count)
    if byte_count is not None:
        volume["byte_count"] = int(byte_count)
    if volume:
        event["volume"] = volume
    if last_update_time is not None:
        event["freshness"] = {"last_update_time": utc_iso(last_update_time)}
    return event


def lineage_asset_ref(
    *,
    name: str,
    database: str,
    schema: str,
    type: str = "TABLE",  # noqa: A002
    asset_id: str | None = None,
    resource_uuid: str | None = None,
    resource_type: str | None = None,
) -> dict[str, Any]:
    """A ``LineageAssetRef(...).to_dict()``."""
    ref: dict[str, Any] = {"type": type, "name": name, "database": database, "schema": schema}
    if asset_id is not None:
        ref["asset_id"] = asset_id
    if resource_uuid is not None:
        ref["resource_uuid"] = resource_uuid
    if resource_type is not None:
        ref["resource_type"] = resource_type
    return ref


def lineage_event(
    destination: dict[str, Any],
    sources: list[dict[str, Any]],
    fields: Mapping[str, Iterable[tuple[str, str]]] | None = None,
) -> dict[str, Any]:
    """A ``LineageEvent(...).to_dict()``.

    ``fields`` maps a destination column to ``(source asset_id, source column)`` pairs; every
    asset_id must be declared by one of ``sources``.
    """
    event: dict[str, Any] = {"destination": destination, "sources": sources}
    if fields:
        event["fields"] = [
            {
                "name": column,
                "source_fields": [{"asset_id": a, "field_name": c} for a, c in upstream],
            }
            for column, upstream in fields.items()
        ]
    return event


def query_log_entry(
    *,
    start_time: datetime | str,
    end_time: datetime | str,
    query_text: str,
    query_id: str | None = None,
    user: str | None = None,
    error_code: str | int | None = None,
    error_text: str | None = None,
    returned_rows: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``QueryLogEntry(...).to_dict()`` (timestamps as ISO-8601 UTC strings)."""
    entry: dict[str, Any] = {
        "start_time": utc_iso(start_time),
        "end_time": utc_iso(end_time),
        "query_text": query_text,
    }
    if query_id is not None:
        entry["query_id"] = str(query_id)
    if user is not None:
        entry["user"] = user
    if error_code is not None:
        entry["error_code"] = error_code
    if error_text is not None:
        entry["error_text"] = error_text
    if returned_rows is not None:
        entry["returned_rows"] = int(returned_rows)
    if extra:
        entry["extra"] = {k: v for k, v in extra.items() if v is not None}
    return entry


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def describe(manifest: Mapping[str, Any], index: int | None = None) -> str:
    """A short human name for a manifest, used as the prefix of every validation error."""
    where = f"manifest[{index}]" if index is not None else "manifest"
    if not isinstance(manifest, Mapping):
        return where
    flavour = manifest.get("log_type") or manifest.get("resource_type") or "?"
    parts = [f"{flavour} {manifest.get('kind', '?')}"]
    for key in ("database", "dataset", "catalog", "project"):
        if isinstance(manifest.get(key), str):
            parts.append(f"{key} {manifest[key]}")
            break
    return f"{where} ({', '.join(parts)})"


def validate_manifest(manifest: Any, *, index: int | None = None) -> dict[str, Any]:
    """Check a manifest against format v1 and what the gateway accepts, and return it.

    Beyond the event shapes: ``resource_type`` from :data:`RESOURCE_TYPES`, ``log_type`` from
    :data:`QUERY_LOG_TYPES`, no per-asset resources in lineage (this operator always sends a
    top-level resource), text JSON/UTF-8 can carry (no lone surrogates), integers in 64-bit range.

    Raises :class:`~monte_carlo_push_provider.utils.errors.MonteCarloManifestError` (also a
    :class:`ManifestError`; an ``AirflowFailException``, so the task is not retried) naming the
    manifest, the event index, the field and the fix. Without Airflow installed (the sandbox on
    its own) it raises the plain :class:`ManifestError`.
    """
    try:
        return _validate_manifest(manifest, index)
    except ManifestError as err:
        raise as_task_error(err) from None


def as_task_error(err: ManifestError) -> ManifestError:
    """``err`` as a :class:`~monte_carlo_push_provider.utils.errors.MonteCarloManifestError`
    (imported lazily: this module stays stdlib-only)."""
    try:
        from monte_carlo_push_provider.utils.errors import MonteCarloManifestError
    except ImportError:  # pragma: no cover - no Airflow: the sandbox running alone
        return err
    return err if isinstance(err, MonteCarloManifestError) else MonteCarloManifestError(str(err))


def _validate_manifest(manifest: Any, index: int | None) -> dict[str, Any]:
    name = describe(manifest, index)
    if not isinstance(manifest, Mapping):
        raise ManifestError(
            f"{name} must be a dict (manifest format v1), got {type(manifest).__name__}; "
            "collector operators return one, and XComArgs resolve to it"
        )
    version = manifest.get("manifest_version")
    if version != MANIFEST_VERSION:
        raise ManifestError(
            f"{name}: manifest_version must be {MANIFEST_VERSION}, got {version!r}; "
            "this provider reads format v1 only"
        )
    kind = manifest.get("kind")
    if kind not in KINDS:
        raise ManifestError(f"{name}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "query_logs":
        log_type = manifest.get("log_type")
        if log_type not in QUERY_LOG_TYPES:
            log_hint = " (Hive query logs use 'hive-s3')" if log_type == "hive" else ""
            raise ManifestError(
                f"{name}: log_type must be one of {', '.join(sorted(QUERY_LOG_TYPES))}, "
                f"got {log_type!r}{log_hint}"
            )
        if "resource_type" in manifest and manifest["resource_type"] is not None:
            raise ManifestError(
                f"{name}: a query_logs manifest carries log_type, not resource_type; "
                "drop resource_type"
            )
    else:
        resource_type = manifest.get("resource_type")
        if not isinstance(resource_type, str) or not resource_type:
            raise ManifestError(
                f"{name}: resource_type is required for {kind} manifests "
                f"(e.g. 'snowflake', 'bigquery', 'data-lake'), got {resource_type!r}"
            )
        if resource_type not in RESOURCE_TYPES:
            hint = RESOURCE_TYPE_HINTS.get(resource_type.strip().lower().replace(" ", "-"))
            if hint is None and resource_type.strip().lower() in RESOURCE_TYPES:
                hint = resource_type.strip().lower()
            fix = f"use {hint!r}" if hint else (
                "use the Monte Carlo connection type of the warehouse, one of " + ", ".join(sorted(RESOURCE_TYPES))
            )
            raise ManifestError(
                f"{name}: resource_type {resource_type!r} is not a Monte Carlo warehouse type; {fix} "
                "(the gateway refuses the push with 400 otherwise)"
            )
    resource_uuid = manifest.get("resource_uuid")
    if resource_uuid is not None and (not isinstance(resource_uuid, str) or not resource_uuid):
        raise ManifestError(
            f"{name}: resource_uuid must be a UUID string or null, got {resource_uuid!r}"
        )
    parse_utc(manifest.get("collected_at"), field=f"{name}: collected_at")
    window = manifest.get("window")
    if window is not None:
        if not isinstance(window, Mapping) or set(window) != {"start", "end"}:
            raise ManifestError(f"{name}: window must be {{'start': ..., 'end': ...}}, got {window!r}")
        start = parse_utc(window["start"], field=f"{name}: window.start")
        end = parse_utc(window["end"], field=f"{name}: window.end")
        if end < start:
            raise ManifestError(f"{name}: window.end is before window.start")
    events = manifest.get("events")
    if not isinstance(events, list):
        raise ManifestError(f"{name}: events must be a list, got {type(events).__name__}")
    check = _EVENT_CHECKS[kind]
    for i, event in enumerate(events):
        check(event, f"{name}: events[{i}]")
    _check_scope(manifest, kind, name)
    return manifest  # type: ignore[return-value]


#: Keys of a metadata manifest's ``scope``; the list keys hold name patterns (or null: all);
#: ``options`` holds the other collector settings that change which tables are read or how they
#: are named (e.g. ``{"source": "account_usage"}``): part of the scope's identity too.
SCOPE_KEYS = ("database", "schemas", "exclude_schemas", "tables", "exclude_tables", "options")
_SCOPE_PATTERN_KEYS = ("schemas", "exclude_schemas", "tables", "exclude_tables")


def manifest_scopes(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The scopes a metadata manifest declares: ``scope`` is one object, or a list of them (one
    per database, for collectors that read several databases into one manifest); ``[]`` when none."""
    scope = manifest.get("scope")
    if scope is None:
        return []
    return list(scope) if isinstance(scope, list) else [scope]


def _check_scope(manifest: Mapping[str, Any], kind: str, name: str) -> None:
    """``scope`` / ``complete``: what a metadata manifest says it read in full (the push
    operator's dropped-table cleanup compares complete manifests of one scope, docs/cleanup.md)."""
    scope = manifest.get("scope")
    complete = manifest.get("complete")
    if scope is None and complete is None:
        return
    if kind != "metadata":
        raise ManifestError(f"{name}: scope and complete belong to metadata manifests; drop them from a {kind} manifest")
    if complete is not None and not isinstance(complete, bool):
        raise ManifestError(f"{name}: complete must be true, false or null, got {complete!r}")
    if scope is None:
        if complete:
            raise ManifestError(
                f"{name}: complete=true needs a scope naming what was read in full, e.g. "
                "scope={'database': 'ANALYTICS', 'schemas': None}; add it or drop complete"
            )
        return
    if isinstance(scope, list):
        if not scope:
            raise ManifestError(
                f"{name}: scope is an empty list; declare one scope per database read "
                "(e.g. [{'database': 'A'}, {'database': 'B'}]), or drop scope and complete"
            )
        scopes = [(s, f"scope[{i}]") for i, s in enumerate(scope)]
    else:
        scopes = [(scope, "scope")]
    databases: dict[str, str] = {}  # lower-case database -> where it is declared
    for one, label in scopes:
        database = _check_one_scope(one, f"{name}: {label}")
        if database.lower() in databases:
            raise ManifestError(
                f"{name}: {label}.database {database!r} is declared twice (also {databases[database.lower()]}); "
                "a manifest declares one scope per database: merge their patterns or use two manifests"
            )
        databases[database.lower()] = label
    for i, event in enumerate(manifest["events"]):
        event_db = str((event.get("metadata") or {}).get("database") or "")
        if event_db.lower() not in databases:
            declared = ", ".join(repr(s[0].get("database")) for s in scopes)
            raise ManifestError(
                f"{name}: events[{i}].metadata.database is {event_db!r}, outside scope.database {declared}; "
                "declare a scope for every database the manifest holds (scope may be a list, one per "
                "database), or fix the scope"
            )


def _check_one_scope(scope: Any, where: str) -> str:
    if not isinstance(scope, Mapping):
        raise ManifestError(f"{where} must be an object like {{'database': 'ANALYTICS', 'schemas': None}}, got {scope!r}")
    unknown = sorted(set(scope) - set(SCOPE_KEYS))
    if unknown:
        raise ManifestError(f"{where}.{unknown[0]} is not a scope key (allowed: {', '.join(SCOPE_KEYS)})")
    database = scope.get("database")
    if not isinstance(database, str) or not database:
        raise ManifestError(f"{where}.database is required (the database every event of the manifest is in), got {database!r}")
    for key in _SCOPE_PATTERN_KEYS:
        value = scope.get(key)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) and v for v in value)):
            raise ManifestError(f"{where}.{key} must be a list of name patterns or null (all), got {value!r}")
    options = scope.get("options")
    if options is not None:
        if not isinstance(options, Mapping):
            raise ManifestError(f"{where}.options must be an object of collector settings or null, got {options!r}")
        for key, value in options.items():
            if not isinstance(value, (str, int, float, bool, list)) and value is not None:
                raise ManifestError(f"{where}.options.{key} must be a JSON scalar or list, got {type(value).__name__}")
    return database


class Preflight:
    """Validate every manifest of a push, and check them against each other, before anything is
    sent: one resource UUID pushed with two resource_types, or query logs whose ``log_type``
    cannot go to a warehouse of the resource_type another manifest names for the same UUID,
    would be refused by the gateway after earlier requests were accepted.

    Feed manifests one at a time (it keeps only a few strings per resource, not the events)::

        preflight = Preflight(default_resource_uuid=creds.resource_uuid)
        for i, manifest in enumerate(manifests):
            preflight.check(manifest, index=i)
        hook.verify_resources(preflight.resource_pairs(), log_types=preflight.log_type_pairs())

    ``default_resource_uuid`` is the UUID a manifest without ``resource_uuid`` is pushed to
    (the operator's, else the connection's).
    """

    def __init__(self, default_resource_uuid: str | None = None) -> None:
        self.default_resource_uuid = default_resource_uuid
        self._resource_types: dict[str, tuple[str, str]] = {}  # uuid -> (resource_type, manifest)
        self._log_types: dict[tuple[str, str], str] = {}  # (uuid, log_type) -> manifest

    def check(self, manifest: Any, *, index: int | None = None) -> dict[str, Any]:
        """:func:`validate_manifest`, then the cross-manifest rules. Returns the manifest."""
        validate_manifest(manifest, index=index)
        uuid = manifest.get("resource_uuid") or self.default_resource_uuid
        if not uuid or not manifest["events"]:
            return manifest
        name = describe(manifest, index)
        try:
            if manifest["kind"] == "query_logs":
                log_type = manifest["log_type"]
                known = self._resource_types.get(uuid)
                if known:
                    self._check_log_type(uuid, log_type, name, *known)
                self._log_types.setdefault((uuid, log_type), name)
            else:
                resource_type = manifest["resource_type"]
                known = self._resource_types.get(uuid)
                if known and known[0] != resource_type:
                    raise ManifestError(
                        f"{name}: resource_type {resource_type!r} for resource {uuid}, but {known[1]} pushes "
                        f"the same resource as {known[0]!r}; a warehouse has one connection type, so the "
                        "gateway refuses one of them. Fix the resource_type, or the resource_uuid of one manifest"
                    )
                self._resource_types.setdefault(uuid, (resource_type, name))
                for (log_uuid, log_type), log_name in self._log_types.items():
                    if log_uuid == uuid:
                        self._check_log_type(uuid, log_type, log_name, resource_type, name)
        except ManifestError as err:
            raise as_task_error(err) from None
        return manifest

    @staticmethod
    def _check_log_type(uuid: str, log_type: str, log_name: str, resource_type: str, resource_name: str) -> None:
        allowed = LOG_TYPES_BY_RESOURCE_TYPE.get(resource_type)
        if allowed is not None and log_type not in allowed:
            raise ManifestError(
                f"{log_name}: log_type {log_type!r} cannot go to resource {uuid}, which {resource_name} "
                f"pushes as a {resource_type!r} warehouse (its query logs are "
                f"{' or '.join(repr(t) for t in sorted(allowed))}); fix the log_type, or push the query "
                "logs to their own warehouse's resource_uuid"
            )

    def resource_pairs(self) -> list[tuple[str, str]]:
        """(resource UUID, resource_type) of every metadata / lineage manifest checked."""
        return [(uuid, rt) for uuid, (rt, _) in self._resource_types.items()]

    def log_type_pairs(self) -> list[tuple[str, str]]:
        """(resource UUID, log_type) of every query-log manifest checked."""
        return list(self._log_types)


def _fail(where: str, message: str) -> None:
    raise ManifestError(f"{where}{message}")


def _require_mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        _fail(where, f" must be an object, got {type(value).__name__}")
    return value


def _check_keys(obj: Mapping[str, Any], where: str, required: tuple[str, ...], allowed: frozenset[str]) -> None:
    for key in required:
        if obj.get(key) is None:
            _fail(f"{where}.{key}", " is required")
    for key in obj:
        if key not in allowed:
            _fail(
                f"{where}.{key}",
                f" is not a field of this event (allowed: {', '.join(sorted(allowed))}); "
                "warehouse-specific values go in 'extra' (query logs) or 'tags' (metadata)",
            )


def _check_str(value: Any, where: str, *, optional: bool = False, non_empty: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        _fail(where, f" must be a string, got {type(value).__name__}")
    if non_empty and not value:
        _fail(where, " must not be empty")
    if not value.isascii():
        _check_text(value, where)


def _check_text(value: str, where: str) -> None:
    """Text the gateway's UTF-8 JSON can carry: no lone surrogates (``\\udc80`` and friends,
    what Python makes of undecodable bytes with ``surrogateescape``). ``json.dumps`` escapes them
    happily, the gateway's decoder refuses the whole request."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        _fail(
            where,
            f" contains a lone surrogate (U+{ord(value[exc.start]):04X} at character {exc.start}), which "
            "UTF-8 JSON cannot carry; decode the warehouse's bytes with errors='replace' (or skip the "
            "row) in the collector",
        )


def _check_int64(value: int, where: str) -> None:
    if not INT64_MIN <= value <= INT64_MAX:
        _fail(
            where,
            f" is {value}, outside the 64-bit integer range the gateway takes "
            f"([{INT64_MIN}, {INT64_MAX}]); cap it, or send it as a string in 'extra'",
        )


def _check_count(value: Any, where: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            _fail(where, f" must be a whole number, got {value!r} (NaN/inf are not JSON)")
        _fail(where, f" must be an integer, got {type(value).__name__} {value!r}")
    if value < 0:
        _fail(where, f" must be >= 0, got {value}")
    _check_int64(value, where)


def _check_json_value(value: Any, where: str, depth: int = 0) -> None:
    if depth > 20:
        _fail(where, " nests too deeply")
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            _fail(where, f" is {value!r}, which JSON cannot carry; send null or a number")
    elif isinstance(value, str):
        if not value.isascii():
            _check_text(value, where)
    elif isinstance(value, int) and not isinstance(value, bool):
        _check_int64(value, where)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                _fail(where, f" has a non-string key {k!r}")
            if not k.isascii():
                _check_text(k, f"{where} key {k.encode('utf-8', 'backslashreplace').decode()!r}")
            _check_json_value(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_json_value(v, f"{where}[{i}]", depth + 1)
    elif not (value is None or isinstance(value, bool)):
        _fail(where, f" must be JSON (str, number, bool, null, list, object), got {type(value).__name__}")


_ASSET_KEYS = frozenset({"type", "metadata", "tags", "fields", "volume", "freshness"})
_ASSET_METADATA_KEYS = frozenset({"name", "database", "schema", "description", "view_query", "created_on"})
_FIELD_KEYS = frozenset({"name", "type", "description"})


def _check_metadata_event(event: Any, where: str) -> None:
    event = _require_mapping(event, where)
    if "relational_asset" in event:
        _fail(
            where,
            " is wrapped in 'relational_asset'; manifests hold RelationalAsset.to_dict() itself "
            "(the push operator wraps it)",
        )
    _check_keys(event, where, ("type", "metadata"), _ASSET_KEYS)
    asset_type = event["type"]
    if asset_type not in ASSET_TYPES:
        _fail(
            f"{where}.type",
            f" must be TABLE or VIEW, got {asset_type!r}; normalise warehouse types "
            "(views -> VIEW, everything else that holds data -> TABLE)",
        )
    metadata = _require_mapping(event["metadata"], f"{where}.metadata")
    _check_keys(metadata, f"{where}.metadata", ("name", "database", "schema"), _ASSET_METADATA_KEYS)
    for key in ("name", "database", "schema"):
        _check_str(metadata[key], f"{where}.metadata.{key}")
    for key in ("description", "view_query"):
        _check_str(metadata.get(key), f"{where}.metadata.{key}", optional=True, non_empty=False)
    if metadata.get("created_on") is not None:
        parse_utc(metadata["created_on"], field=f"{where}.metadata.created_on")
    fields = event.get("fields")
    if fields is not None:
        if not isinstance(fields, list):
            _fail(f"{where}.fields", f" must be a list, got {type(fields).__name__}")
        for j, f in enumerate(fields):
            fw = f"{where}.fields[{j}]"
            if not isinstance(f, Mapping):
                _fail(fw, f" must be an object, got {type(f).__name__}")
            _check_keys(f, fw, ("name", "type"), _FIELD_KEYS)
            _check_str(f["name"], f"{fw}.name")
            _check_str(f["type"], f"{fw}.type")
            if f.get("description") is not None:
                _check_str(f["description"], f"{fw}.description", non_empty=False)
    tags = event.get("tags")
    if tags is not None:
        if not isinstance(tags, list):
            _fail(f"{where}.tags", f" must be a list, got {type(tags).__name__}")
        for j, t in enumerate(tags):
            tw = f"{where}.tags[{j}]"
            t = _require_mapping(t, tw)
            _check_keys(t, tw, ("key",), frozenset({"key", "value"}))
            _check_str(t["key"], f"{tw}.key")
            _check_str(t.get("value"), f"{tw}.value", optional=True, non_empty=False)
    volume = event.get("volume")
    if volume is not None:
        volume = _require_mapping(volume, f"{where}.volume")
        _check_keys(volume, f"{where}.volume", (), frozenset({"row_count", "byte_count"}))
        _check_count(volume.get("row_count"), f"{where}.volume.row_count")
        _check_count(volume.get("byte_count"), f"{where}.volume.byte_count")
    freshness = event.get("freshness")
    if freshness is not None:
        freshness = _require_mapping(freshness, f"{where}.freshness")
        _check_keys(freshness, f"{where}.freshness", (), frozenset({"last_update_time"}))
        if freshness.get("last_update_time") is not None:
            parse_utc(freshness["last_update_time"], field=f"{where}.freshness.last_update_time")


_REF_KEYS = frozenset({"type", "name", "database", "schema", "asset_id", "resource_uuid", "resource_type"})


def _check_ref(ref: Any, where: str) -> str | None:
    ref = _require_mapping(ref, where)
    _check_keys(ref, where, ("type", "name", "database", "schema"), _REF_KEYS)
    if ref["type"] not in LINEAGE_ASSET_TYPES:
        _fail(f"{where}.type", f" must be one of {', '.join(sorted(LINEAGE_ASSET_TYPES))}, got {ref['type']!r}")
    for key in ("name", "database", "schema"):
        _check_str(ref[key], f"{where}.{key}")
    if ref.get("resource_uuid") is not None or ref.get("resource_type") is not None:
        _fail(
            f"{where}.{'resource_uuid' if ref.get('resource_uuid') is not None else 'resource_type'}",
            " is set, but per-asset resources are cross-warehouse lineage, which the gateway takes "
            "only without a top-level resource, and the push operator always sends one (the "
            "manifest's or the connection's resource_uuid): the gateway would refuse the request "
            "with 400. Drop resource_uuid/resource_type from the asset refs (same-warehouse "
            "lineage), or link assets across warehouses with "
            "MonteCarloCreateOrUpdateLineageEdgeOperator",
        )
    asset_id = ref.get("asset_id")
    _check_str(asset_id, f"{where}.asset_id", optional=True)
    return asset_id


def _check_lineage_event(event: Any, where: str) -> None:
    event = _require_mapping(event, where)
    _check_keys(event, where, ("destination", "sources"), frozenset({"destination", "sources", "fields"}))
    _check_ref(event["destination"], f"{where}.destination")
    sources = event["sources"]
    if not isinstance(sources, list) or not sources:
        _fail(f"{where}.sources", " must be a non-empty list of asset refs")
    declared = {_check_ref(s, f"{where}.sources[{j}]") for j, s in enumerate(sources)}
    fields = event.get("fields")
    if fields is None:
        return
    if not isinstance(fields, list):
        _fail(f"{where}.fields", f" must be a list, got {type(fields).__name__}")
    for j, f in enumerate(fields):
        fw = f"{where}.fields[{j}]"
        f = _require_mapping(f, fw)
        _check_keys(f, fw, ("name", "source_fields"), frozenset({"name", "source_fields"}))
        _check_str(f["name"], f"{fw}.name")
        if not isinstance(f["source_fields"], list):
            _fail(f"{fw}.source_fields", " must be a list")
        for k, sf in enumerate(f["source_fields"]):
            sw = f"{fw}.source_fields[{k}]"
            sf = _require_mapping(sf, sw)
            _check_keys(sf, sw, ("asset_id", "field_name"), frozenset({"asset_id", "field_name"}))
            _check_str(sf["field_name"], f"{sw}.field_name")
            if sf["asset_id"] not in declared:
                _fail(
                    f"{sw}.asset_id",
                    f" {sf['asset_id']!r} is not declared by any of this event's sources[].asset_id",
                )


_QUERY_LOG_KEYS = frozenset(
    {"start_time", "end_time", "query_text", "query_id", "user", "error_code", "error_text", "returned_rows", "extra"}
)


def _check_query_log_event(event: Any, where: str) -> None:
    event = _require_mapping(event, where)
    _check_keys(event, where, ("start_time", "end_time", "query_text"), _QUERY_LOG_KEYS)
    start = parse_utc(event["start_time"], field=f"{where}.start_time")
    end = parse_utc(event["end_time"], field=f"{where}.end_time")
    if end < start:
        _fail(f"{where}.end_time", f" ({event['end_time']}) is before start_time ({event['start_time']})")
    _check_str(event["query_text"], f"{where}.query_text")
    for key in ("query_id", "user", "error_text"):
        _check_str(event.get(key), f"{where}.{key}", optional=True, non_empty=False)
    code = event.get("error_code")
    if code is not None and (isinstance(code, bool) or not isinstance(code, (str, int))):
        _fail(f"{where}.error_code", f" must be a string or integer, got {type(code).__name__}")
    if isinstance(code, int):
        _check_int64(code, f"{where}.error_code")
    elif isinstance(code, str) and not code.isascii():
        _check_text(code, f"{where}.error_code")
    _check_count(event.get("returned_rows"), f"{where}.returned_rows")
    extra = event.get("extra")
    if extra is not None:
        if not isinstance(extra, Mapping):
            _fail(f"{where}.extra", f" must be an object, got {type(extra).__name__}")
        _check_json_value(extra, f"{where}.extra")


_EVENT_CHECKS = {
    "metadata": _check_metadata_event,
    "lineage": _check_lineage_event,
    "query_logs": _check_query_log_event,
}
