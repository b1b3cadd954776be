"""Shared behaviour of collector operators: they read a warehouse through its official Airflow
hook and return a manifest v1 (see ``monte_carlo_push_provider.manifest``) through XCom.

Warehouse SDKs and sqlglot are imported inside ``execute`` (or in the collector module's
functions), never at module import: operator modules are imported by DAG files at parse time.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from airflow.sdk import BaseOperator


class BaseCollectorOperator(BaseOperator):
    """Base for collectors: holds the Monte Carlo-side settings every manifest needs.

    :param resource_uuid: Monte Carlo warehouse UUID to put in the manifest (default: null, which
        makes the push operator use its connection's ``resource_uuid``).
    """

    ui_color = "#fff4e5"
    template_fields: tuple[str, ...] = ("resource_uuid",)

    def __init__(self, *, resource_uuid: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resource_uuid = resource_uuid
        self._started = 0.0

    def start_timer(self) -> None:
        self._started = time.monotonic()

    def log_summary(self, manifest: dict[str, Any], what: str) -> None:
        """One line a user can read: how many events of which type, how long it took."""
        events = manifest["events"]
        types = Counter(e.get("type") for e in events) if manifest["kind"] == "metadata" else None
        detail = f" ({', '.join(f'{n:,} {t}' for t, n in sorted(types.items()))})" if types else ""
        self.log.info(
            "collected %s %s event(s)%s from %s in %.1f s",
            f"{len(events):,}", manifest["kind"], detail, what, time.monotonic() - self._started,
        )
