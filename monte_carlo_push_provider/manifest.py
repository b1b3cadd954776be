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
#: Monte Carlo connection types a metadata / lineage push may name.
RESOURCE_TYPES = frozenset(
    {
        "snowflake",
        "bigquery",
        "databricks",
        "redshift",
        "data-lake",
        "postgres",
        "mysql",
        "sql-server",
        "oracle",
        "teradata",
        "athena",
        "presto",
        "clickhouse",
        "azure-dedicated-sql-pool",
        "sap-hana",
        "dremio",
        "motherduck",
        "transactional-db",
    }
)


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


def parse_utc(value: str, *, field: str) -> datetime:
    """Parse an ISO-8601 string that must carry UTC (``Z`` or ``+00:00``)."""
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


def new_manifest(
    kind: str,
    events: list[dict[str, Any]],
    *,
    resource_type: str | None = None,
    log_type: str | None = None,
    resource_uuid: str | None = None,
    window: tuple[datetime | str, datetime | str] | Mapping[str, str] | None = None,
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
    """Check a manifest against format v1 and return it.

    Raises :class:`ManifestError` naming the manifest, the event index and the field.
    """
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
            hint = " (Hive query logs use 'hive-s3')" if log_type == "hive" else ""
            raise ManifestError(
                f"{name}: log_type must be one of {', '.join(sorted(QUERY_LOG_TYPES))}, "
                f"got {log_type!r}{hint}"
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
        if resource_type != resource_type.lower() or " " in resource_type:
            raise ManifestError(
                f"{name}: resource_type must be lower-case like 'snowflake', got {resource_type!r}"
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
    return manifest  # type: ignore[return-value]


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


def _check_count(value: Any, where: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            _fail(where, f" must be a whole number, got {value!r} (NaN/inf are not JSON)")
        _fail(where, f" must be an integer, got {type(value).__name__} {value!r}")
    if value < 0:
        _fail(where, f" must be >= 0, got {value}")


def _check_json_value(value: Any, where: str, depth: int = 0) -> None:
    if depth > 20:
        _fail(where, " nests too deeply")
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            _fail(where, f" is {value!r}, which JSON cannot carry; send null or a number")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                _fail(where, f" has a non-string key {k!r}")
            _check_json_value(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_json_value(v, f"{where}[{i}]", depth + 1)
    elif not (value is None or isinstance(value, (str, int, bool))):
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
    if (ref.get("resource_uuid") is None) != (ref.get("resource_type") is None):
        _fail(where, " must set resource_uuid and resource_type together (cross-warehouse lineage) or neither")
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
