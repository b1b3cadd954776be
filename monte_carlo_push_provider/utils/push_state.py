"""Durable push state: the per-task-run checkpoint (which batches the gateway accepted, so a
retry resumes after the last one) and the per-(resource, flow) ledger that keeps metadata pushes
to at most one an hour.

Both are small JSON documents under a state root that is an ``ObjectStoragePath``: a local
directory by default, or shared storage (``s3://…``, ``gs://…``) so a retry that lands on another
worker still sees what the first try pushed.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from typing import Any

STATE_PATH_ENV = "MONTE_CARLO_PUSH_STATE_PATH"


def default_state_root() -> str:
    """``$MONTE_CARLO_PUSH_STATE_PATH``, else ``$AIRFLOW_HOME/monte_carlo_push_state``."""
    if os.environ.get(STATE_PATH_ENV):
        return os.environ[STATE_PATH_ENV]
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    return os.path.join(home, "monte_carlo_push_state")


def as_path(value: Any) -> Any:
    """An ``ObjectStoragePath`` for a str/Path/ObjectStoragePath (local paths get ``file://``)."""
    from airflow.sdk import ObjectStoragePath

    if isinstance(value, ObjectStoragePath):
        return value
    text = os.fspath(value) if not isinstance(value, str) else value
    if "://" not in text:
        text = "file://" + os.path.abspath(text)
    return ObjectStoragePath(text)


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", part)[:200] or "_"


def read_json(path: Any) -> dict[str, Any] | None:
    try:
        if not path.exists():
            return None
        with path.open("r") as fh:
            return json.load(fh)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def write_json(path: Any, document: dict[str, Any]) -> None:
    """Write a JSON document; local files are replaced atomically so a SIGKILL mid-write never
    leaves a torn checkpoint."""
    text = json.dumps(document, indent=1, sort_keys=False, default=str)
    if getattr(path, "protocol", None) in ("file", "local") or str(path).startswith("file://"):
        local = path.path if hasattr(path, "path") else str(path)
        if not local.startswith("/"):
            local = "/" + local
        os.makedirs(os.path.dirname(local), exist_ok=True)
        tmp = f"{local}.tmp-{os.getpid()}"
        with open(tmp, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, local)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fh.write(text)


class PushState:
    """Checkpoint and ledger documents under one state root."""

    def __init__(self, root: Any | None = None):
        self.root = as_path(root or default_state_root())

    def checkpoint_path(self, dag_id: str, run_id: str, task_id: str, map_index: int | None) -> Any:
        name = _safe(task_id) + (f".{map_index}" if map_index is not None and map_index >= 0 else "") + ".json"
        return self.root / "checkpoints" / _safe(dag_id) / _safe(run_id) / name

    def ledger_path(self, resource_uuid: str, flow: str) -> Any:
        return self.root / "ledger" / _safe(resource_uuid) / f"{_safe(flow)}.json"

    def read_ledger(self, resource_uuid: str, flow: str) -> dict[str, Any] | None:
        return read_json(self.ledger_path(resource_uuid, flow))

    def record_push(self, resource_uuid: str, flow: str, *, owner: dict[str, Any], invocation_id: str) -> None:
        write_json(
            self.ledger_path(resource_uuid, flow),
            {
                "resource_uuid": resource_uuid,
                "flow": flow,
                "last_push_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
                "owner": owner,
                "invocation_id": invocation_id,
            },
        )
