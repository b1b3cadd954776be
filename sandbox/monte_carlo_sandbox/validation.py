"""The integration gateway's strictness: turn a raw push body into a validated push or a 400.

Independent of the provider on purpose (value sets, timestamps and the size rule are the
sandbox's own, in :mod:`monte_carlo_sandbox.contract`): the sandbox is the second opinion that
catches a manifest or push operator bug, so it must not share the checking code it is supposed
to check.

Shapes follow pycarlo 0.15.500's payload builders (``build_metadata_payload``,
``build_lineage_payload``, ``build_query_log_payload``) and dataclasses: a key pycarlo would never
send is rejected, like the real gateway's schema validation does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from monte_carlo_sandbox.contract import (
    ASSET_TYPES,
    LINEAGE_ASSET_TYPES,
    MAX_COMPRESSED_BYTES,
    QUERY_LOG_TYPES,
    TimestampError,
    gzip_size,
    parse_utc,
)

#: URL path -> flow (``kind``).
INGEST_PATHS: dict[str, str] = {
    "/ingest/v1/metadata": "metadata",
    "/ingest/v1/lineage": "lineage",
    "/ingest/v1/querylogs": "query_logs",
}
#: flow -> accepted ``event_type`` values.
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "metadata": ("METADATA",),
    "lineage": ("LINEAGE", "COLUMN_LINEAGE"),
    "query_logs": ("QUERY_LOG",),
}
#: warehouse resource_type -> query-log ``log_type`` values its normaliser takes. Types with no
#: warehouse here (teradata, clickhouse) are known log types but no sandbox warehouse takes them.
COMPATIBLE_LOG_TYPES: dict[str, frozenset[str]] = {
    "snowflake": frozenset({"snowflake"}),
    "bigquery": frozenset({"bigquery"}),
    "databricks": frozenset({"databricks", "databricks-metastore-sql-warehouse"}),
    "redshift": frozenset({"redshift"}),
    "data-lake": frozenset({"hive-s3", "athena", "s3", "presto-s3"}),
    "postgres": frozenset(),
}


class IngestRejected(Exception):
    """The push breaks the contract; ``message`` is the answer body's ``message``, ``status``
    the HTTP status (400 unless a subclass says otherwise)."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IngestForbidden(IngestRejected):
    """A resource UUID the key may not push to. The real gateway answers 403 both for a key of
    the wrong scope and for a key not authorised for the warehouse UUID (keys can be scoped to
    warehouses; a UUID unknown to the account is, to the key, one it is not authorised for)."""

    status = 403


@dataclass(frozen=True)
class ValidatedPush:
    kind: str
    event_type: str
    resource_uuid: str | None  # None for cross-warehouse lineage
    resource_type: str | None  # metadata / lineage
    log_type: str | None  # query logs
    events: list[dict[str, Any]]
    raw_bytes: int
    gzip_bytes: int


def _reject(where: str, message: str) -> None:
    raise IngestRejected(f"{where}: {message}" if where else message)


# --------------------------------------------------------------------------------------------
# Tiny checkers: each takes (value, where) and raises IngestRejected naming `where`.
# --------------------------------------------------------------------------------------------

Check = Callable[[Any, str], None]


def _string(value: Any, where: str) -> None:
    if not isinstance(value, str):
        _reject(where, f"must be a string, got {type(value).__name__}")
    if not value:
        _reject(where, "must not be empty")


def _optional_string(value: Any, where: str) -> None:
    if not isinstance(value, str):
        _reject(where, f"must be a string, got {type(value).__name__}")


def _count(value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        _reject(where, f"must be an integer, got {type(value).__name__} {value!r}")
    if value < 0:
        _reject(where, f"must be >= 0, got {value}")


def _timestamp(value: Any, where: str) -> None:
    if not isinstance(value, str):
        _reject(where, f"must be an ISO-8601 string like 2026-11-25T10:00:00Z, got {type(value).__name__}")
    try:
        parse_utc(value, field="timestamp")
    except TimestampError as exc:
        # parse_utc words its message for one field; keep its reason, name our field.
        _reject(where, f"not an ISO-8601 UTC timestamp ({value!r}): {exc}")


def _str_or_int(value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        _reject(where, f"must be a string or integer, got {type(value).__name__}")


def _json_object(value: Any, where: str) -> None:
    if not isinstance(value, Mapping):
        _reject(where, f"must be an object, got {type(value).__name__}")


def _one_of(allowed: frozenset[str], label: str) -> Check:
    def check(value: Any, where: str) -> None:
        if value not in allowed:
            _reject(where, f"must be {label}, got {value!r}")

    return check


def _obj(spec: Mapping[str, tuple[bool, Check]]) -> Check:
    """An object whose keys are exactly a subset of ``spec``; (required, check) per key."""

    def check(value: Any, where: str) -> None:
        if not isinstance(value, Mapping):
            _reject(where, f"must be an object, got {type(value).__name__}")
        for key in value:
            if key not in spec:
                _reject(
                    f"{where}.{key}",
                    f"unknown field (allowed: {', '.join(sorted(spec))})",
                )
        for key, (required, sub) in spec.items():
            if key not in value or value[key] is None:
                # pycarlo drops None fields (exclude=_is_none), so an explicit null is as good
                # as absent for optional keys.
                if required:
                    _reject(f"{where}.{key}", "is required")
                continue
            sub(value[key], f"{where}.{key}")

    return check


def _list_of(item: Check, *, non_empty: bool = False) -> Check:
    def check(value: Any, where: str) -> None:
        if not isinstance(value, list):
            _reject(where, f"must be a list, got {type(value).__name__}")
        if non_empty and not value:
            _reject(where, "must not be empty")
        for i, v in enumerate(value):
            item(v, f"{where}[{i}]")

    return check


# --------------------------------------------------------------------------------------------
# Event shapes (pycarlo dataclasses)
# --------------------------------------------------------------------------------------------

_ASSET_TYPE = _one_of(ASSET_TYPES, "TABLE or VIEW")
_RELATIONAL_ASSET = _obj(
    {
        "type": (True, _ASSET_TYPE),
        "metadata": (
            True,
            _obj(
                {
                    "name": (True, _string),
                    "database": (True, _string),
                    "schema": (True, _string),
                    "description": (False, _optional_string),
                    "view_query": (False, _optional_string),
                    "created_on": (False, _timestamp),
                }
            ),
        ),
        "tags": (False, _list_of(_obj({"key": (True, _string), "value": (False, _optional_string)}))),
        "fields": (
            False,
            _list_of(
                _obj({"name": (True, _string), "type": (True, _string), "description": (False, _optional_string)})
            ),
        ),
        "volume": (False, _obj({"row_count": (False, _count), "byte_count": (False, _count)})),
        "freshness": (False, _obj({"last_update_time": (False, _timestamp)})),
    }
)
_METADATA_EVENT = _obj({"relational_asset": (True, _RELATIONAL_ASSET)})

_LINEAGE_REF = _obj(
    {
        "type": (True, _one_of(LINEAGE_ASSET_TYPES, "one of " + ", ".join(sorted(LINEAGE_ASSET_TYPES)))),
        "name": (True, _string),
        "database": (True, _string),
        "schema": (True, _string),
        "asset_id": (False, _string),
        "resource_uuid": (False, _string),
        "resource_type": (False, _string),
    }
)
_COLUMN_FIELD = _obj(
    {
        "name": (True, _string),
        "source_fields": (
            True,
            _list_of(_obj({"asset_id": (True, _string), "field_name": (True, _string)})),
        ),
    }
)
_LINEAGE_EVENT = _obj(
    {
        "destination": (True, _LINEAGE_REF),
        "sources": (True, _list_of(_LINEAGE_REF, non_empty=True)),
        "fields": (False, _list_of(_COLUMN_FIELD)),
    }
)

_QUERY_LOG_EVENT = _obj(
    {
        "start_time": (True, _timestamp),
        "end_time": (True, _timestamp),
        "query_text": (True, _string),
        "query_id": (False, _optional_string),
        "user": (False, _optional_string),
        "error_code": (False, _str_or_int),
        "error_text": (False, _optional_string),
        "returned_rows": (False, _count),
        "extra": (False, _json_object),
    }
)


# --------------------------------------------------------------------------------------------
# Request-level rules
# --------------------------------------------------------------------------------------------


def validate_push(path: str, body: bytes, warehouses: Mapping[str, str]) -> ValidatedPush:
    """Validate one ``POST /ingest/v1/*`` body. ``warehouses`` maps resource uuid -> resource_type.

    Raises :class:`IngestRejected` with a message that names the field (and event index).
    """
    kind = INGEST_PATHS[path]
    # Size first: the real gateway refuses an oversized record before it looks inside.
    compressed = gzip_size(body)
    if compressed > MAX_COMPRESSED_BYTES:
        _reject(
            "",
            f"Request body is {compressed} bytes gzip-compressed ({len(body)} bytes raw); the limit "
            f"is 1 MB compressed ({MAX_COMPRESSED_BYTES} bytes). Split the events into smaller "
            "batches: each request gets its own invocation_id.",
        )
    out_of_range: list[str] = []

    def parse_int(text: str) -> int:
        value = int(text)
        if not INT64_MIN <= value <= INT64_MAX:
            out_of_range.append(text)
        return value

    try:
        payload = json.loads(body, parse_int=parse_int)
    except (UnicodeDecodeError, ValueError) as exc:
        raise IngestRejected(f"Request body is not valid JSON: {exc}") from None
    # Python's json takes what the gateway's decoder does not: integers beyond 64 bits and
    # "\udXXX" escapes that pair with nothing (lone surrogates are not Unicode text).
    if out_of_range or _SURROGATE_ESCAPE.search(body):
        _check_wire_values(payload, "", bool(out_of_range))
    if not isinstance(payload, dict):
        _reject("", f"Request body must be a JSON object, got {type(payload).__name__}")
    for key in payload:
        if key not in ("event_type", "resource", "events"):
            _reject(key, "unknown top-level field (allowed: event_type, events, resource)")

    event_type = payload.get("event_type")
    allowed_types = EVENT_TYPES[kind]
    if event_type not in allowed_types:
        _reject(
            "event_type",
            f"must be {' or '.join(repr(t) for t in allowed_types)} for {path}, got {event_type!r}",
        )

    events = payload.get("events")
    if not isinstance(events, list):
        _reject("events", f"must be a list, got {type(events).__name__}")
    if not events:
        _reject("events", "must contain at least one event")

    resource = payload.get("resource")
    resource_uuid: str | None = None
    resource_type: str | None = None
    log_type: str | None = None
    if kind == "query_logs":
        resource_uuid, log_type = _check_query_log_resource(resource, warehouses)
        check = _QUERY_LOG_EVENT
    elif kind == "metadata":
        resource_uuid, resource_type = _check_resource(resource, warehouses, required=True)
        check = _METADATA_EVENT
    else:
        resource_uuid, resource_type = _check_resource(resource, warehouses, required=False)
        check = _LINEAGE_EVENT

    for i, event in enumerate(events):
        check(event, f"events[{i}]")
        if kind == "query_logs":
            if parse_utc(event["end_time"], field="end_time") < parse_utc(event["start_time"], field="start_time"):
                _reject(f"events[{i}].end_time", "is before start_time")
        elif kind == "lineage":
            _check_lineage_refs(event, f"events[{i}]", cross_warehouse=resource is None, warehouses=warehouses)

    if kind == "lineage":
        with_fields = [i for i, e in enumerate(events) if e.get("fields")]
        if event_type == "LINEAGE" and with_fields:
            _reject(
                f"events[{with_fields[0]}].fields",
                "column mappings need event_type 'COLUMN_LINEAGE' (pycarlo picks it when any event has fields)",
            )
        if event_type == "COLUMN_LINEAGE" and not with_fields:
            _reject("event_type", "is 'COLUMN_LINEAGE' but no event has fields; send table lineage as 'LINEAGE'")

    return ValidatedPush(
        kind=kind,
        event_type=event_type,
        resource_uuid=resource_uuid,
        resource_type=resource_type,
        log_type=log_type,
        events=events,
        raw_bytes=len(body),
        gzip_bytes=compressed,
    )


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _check_wire_values(value: Any, where: str, ints: bool) -> None:
    """Find the field holding a lone surrogate or (``ints``) an integer beyond int64, and refuse."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            _reject(where, f"is not valid UTF-8 text: lone surrogate U+{ord(value[exc.start]):04X} at character {exc.start}")
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if ints and not INT64_MIN <= value <= INT64_MAX:
            _reject(where, f"integer {value} is outside the 64-bit range")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_wire_values(k, f"{where} (a key)", ints)
            _check_wire_values(v, f"{where}.{k}" if where else k, ints)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_wire_values(v, f"{where}[{i}]", ints)


def _lookup(uuid: Any, where: str, warehouses: Mapping[str, str]) -> str:
    _string(uuid, where)
    if uuid not in warehouses:
        raise IngestForbidden(
            f"Forbidden: this key is not authorized for resource {uuid} ({where}): it is not a "
            "warehouse of this account, or the key is scoped to other warehouses; use a warehouse "
            "uuid from getUser { account { warehouses { uuid connectionType } } }"
        )
    return warehouses[uuid]


def _check_resource(resource: Any, warehouses: Mapping[str, str], *, required: bool) -> tuple[str | None, str | None]:
    if resource is None:
        if required:
            _reject("resource", "is required ({'uuid': <warehouse uuid>, 'resource_type': ...})")
        return None, None
    if not isinstance(resource, Mapping):
        _reject("resource", f"must be an object, got {type(resource).__name__}")
    if "log_type" in resource:
        _reject(
            "resource.log_type",
            "only query-log pushes (/ingest/v1/querylogs) carry log_type; this endpoint takes "
            "resource.resource_type",
        )
    for key in resource:
        if key not in ("uuid", "resource_type"):
            _reject(f"resource.{key}", "unknown field (allowed: resource_type, uuid)")
    actual = _lookup(resource.get("uuid"), "resource.uuid", warehouses)
    rtype = resource.get("resource_type")
    _string(rtype, "resource.resource_type")
    if rtype != actual:
        _reject(
            "resource.resource_type",
            f"{rtype!r} does not match resource {resource['uuid']}, which is a {actual!r} warehouse",
        )
    return resource["uuid"], rtype


def _check_query_log_resource(resource: Any, warehouses: Mapping[str, str]) -> tuple[str, str]:
    if not isinstance(resource, Mapping):
        _reject("resource", "is required ({'uuid': <warehouse uuid>, 'log_type': ...})")
    if "resource_type" in resource:
        _reject(
            "resource.resource_type",
            "query-log pushes name the log type in resource.log_type, not resource.resource_type "
            "(e.g. {'uuid': ..., 'log_type': 'snowflake'}; Hive logs use 'hive-s3')",
        )
    for key in resource:
        if key not in ("uuid", "log_type"):
            _reject(f"resource.{key}", "unknown field (allowed: log_type, uuid)")
    log_type = resource.get("log_type")
    if log_type not in QUERY_LOG_TYPES:
        # Monte Carlo's normaliser wording, verbatim.
        _reject("", f"Unsupported ingest query-log log_type: {log_type}")
    actual = _lookup(resource.get("uuid"), "resource.uuid", warehouses)
    compatible = COMPATIBLE_LOG_TYPES.get(actual, frozenset())
    if log_type not in compatible:
        expected = ", ".join(sorted(compatible)) or "none (this warehouse takes no query logs)"
        _reject(
            "resource.log_type",
            f"{log_type!r} is not compatible with resource {resource['uuid']}, a {actual!r} "
            f"warehouse; expected one of: {expected}",
        )
    return resource["uuid"], log_type


def _check_lineage_refs(event: Mapping[str, Any], where: str, *, cross_warehouse: bool, warehouses: Mapping[str, str]) -> None:
    refs = [(f"{where}.destination", event["destination"])]
    refs += [(f"{where}.sources[{j}]", s) for j, s in enumerate(event["sources"])]
    for ref_where, ref in refs:
        has_uuid, has_type = ref.get("resource_uuid") is not None, ref.get("resource_type") is not None
        if has_uuid != has_type:
            _reject(ref_where, "must set resource_uuid and resource_type together (cross-warehouse lineage) or neither")
        if cross_warehouse and not has_uuid:
            _reject(
                ref_where,
                "needs resource_uuid and resource_type: the request has no top-level resource "
                "(cross-warehouse mode), so every asset ref must name its warehouse",
            )
        if not cross_warehouse and has_uuid:
            _reject(
                f"{ref_where}.resource_uuid",
                "is only allowed in cross-warehouse mode (no top-level resource); drop it or drop "
                "the top-level resource",
            )
        if has_uuid:
            actual = _lookup(ref["resource_uuid"], f"{ref_where}.resource_uuid", warehouses)
            if ref["resource_type"] != actual:
                _reject(
                    f"{ref_where}.resource_type",
                    f"{ref['resource_type']!r} does not match resource {ref['resource_uuid']}, "
                    f"which is a {actual!r} warehouse",
                )
    declared = {s.get("asset_id") for s in event["sources"] if s.get("asset_id") is not None}
    for j, f in enumerate(event.get("fields") or []):
        for k, sf in enumerate(f["source_fields"]):
            if sf["asset_id"] not in declared:
                _reject(
                    f"{where}.fields[{j}].source_fields[{k}].asset_id",
                    f"{sf['asset_id']!r} is not declared by any of this event's sources[].asset_id "
                    f"(declared: {', '.join(sorted(declared)) or 'none'})",
                )
