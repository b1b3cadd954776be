"""The ``[monte_carlo]`` Airflow config section, as the listener reads it.

Declared for Airflow in ``get_provider_info()["config"]`` (so ``airflow config list`` shows it
with descriptions); read here with explicit fallbacks because provider config defaults are only
merged into ``conf`` once providers are discovered, which a plugin cannot count on.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass

log = logging.getLogger("monte_carlo_push_provider.listener")

SECTION = "monte_carlo"
DEFAULT_CONN_ID = "monte_carlo_default"
DEFAULT_FLUSH_TIMEOUT_S = 5.0
DEFAULT_REQUEST_TIMEOUT_S = 10.0
DEFAULT_QUEUE_SIZE = 10_000
DEFAULT_BASE_URL = "http://localhost:8080"
DEFAULT_OPENLINEAGE_TIMEOUT_S = 10.0


def _conf():
    from airflow.configuration import conf

    return conf


def push_enabled() -> bool:
    """``[monte_carlo] airflow_push`` (default False). A value Airflow cannot read as a boolean
    counts as off, with a warning naming the fix, rather than breaking every Airflow process."""
    try:
        return _conf().getboolean(SECTION, "airflow_push", fallback=False)
    except Exception as exc:  # AirflowConfigException for e.g. "yes please"
        log.warning("[monte_carlo] airflow_push: %s; the Monte Carlo listener stays off (use True or False)", exc)
        return False


@dataclass(frozen=True)
class ListenerSettings:
    resource_uuid: str
    conn_id: str
    state_path: str
    base_url: str
    flush_timeout_s: float
    request_timeout_s: float
    queue_size: int
    lineage_resources: str  # JSON; parsed once per process by the listener's runtime
    openlineage: bool = True
    openlineage_timeout_s: float = DEFAULT_OPENLINEAGE_TIMEOUT_S


def _float(conf, key: str, default: float) -> float:
    try:
        return float(conf.get(SECTION, key, fallback=str(default)) or default)
    except ValueError:
        log.warning("[monte_carlo] %s must be a number of seconds; using %s", key, default)
        return default


def _bool(conf, key: str, default: bool) -> bool:
    try:
        return conf.getboolean(SECTION, key, fallback=default)
    except Exception as exc:  # AirflowConfigException: not a boolean
        log.warning("[monte_carlo] %s: %s; using %s (use True or False)", key, exc, default)
        return default


def load_settings() -> ListenerSettings | None:
    """The listener's settings, or None (with an error log naming the fix) if they are unusable."""
    conf = _conf()
    resource_uuid = (conf.get(SECTION, "airflow_resource_uuid", fallback="") or "").strip()
    try:
        uuid.UUID(resource_uuid)
    except ValueError:
        log.error(
            "[monte_carlo] airflow_push is on but airflow_resource_uuid is %s; set it to the UUID of the "
            "Monte Carlo ETL container for this Airflow (GraphQL: getEtlContainers { uuid name type }). "
            "Nothing is sent until then.",
            repr(resource_uuid) if resource_uuid else "not set",
        )
        return None
    from monte_carlo_push_provider.utils.push_state import default_state_root

    state_path = (conf.get(SECTION, "state_path", fallback="") or "").strip() or default_state_root()
    base_url = (conf.get("api", "base_url", fallback="") or "").strip() or DEFAULT_BASE_URL
    try:
        queue_size = int(conf.get(SECTION, "airflow_queue_size", fallback=str(DEFAULT_QUEUE_SIZE)))
    except ValueError:
        queue_size = DEFAULT_QUEUE_SIZE
    return ListenerSettings(
        resource_uuid=resource_uuid,
        conn_id=(conf.get(SECTION, "conn_id", fallback="") or "").strip() or DEFAULT_CONN_ID,
        state_path=state_path,
        base_url=base_url,
        flush_timeout_s=_float(conf, "airflow_flush_timeout_s", DEFAULT_FLUSH_TIMEOUT_S),
        request_timeout_s=_float(conf, "airflow_request_timeout_s", DEFAULT_REQUEST_TIMEOUT_S),
        queue_size=max(queue_size, 100),
        lineage_resources=conf.get(SECTION, "airflow_lineage_resources", fallback="") or "",
        openlineage=_bool(conf, "airflow_openlineage", True),
        openlineage_timeout_s=_float(conf, "airflow_openlineage_timeout_s", DEFAULT_OPENLINEAGE_TIMEOUT_S),
    )


def local_state_dir(state_path: str) -> str:
    """The listener's fingerprints and outage marker are per-host files: a local ``state_path``
    is used as is, a remote one (``s3://…``) falls back to ``$AIRFLOW_HOME/monte_carlo_push_state``
    (a stale fingerprint costs one repeated metadata push per host, nothing more)."""
    if "://" in state_path and not state_path.startswith("file://"):
        home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
        return os.path.join(home, "monte_carlo_push_state")
    return state_path.removeprefix("file://")
