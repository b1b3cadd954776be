"""The "Monte Carlo" button on push and sensor tasks: opens the pushed tables in Monte Carlo.

The link is built from the task's XCom (the push result or the sensor result), so it needs no
connection lookup in the API server. One table (with its MCON, which the sensor result carries)
opens that table's asset page; several open Monte Carlo's asset search for their common
``database:schema`` (or the first table). Set ``MONTE_CARLO_UI_URL`` for another Monte Carlo
front end (a regional deployment).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

DEFAULT_UI_URL = "https://getmontecarlo.com"


def monte_carlo_url(result: Any, ui_url: str | None = None) -> str:
    """The Monte Carlo page for what a push or sensor result names ("" when it names nothing)."""
    ui = (ui_url or os.environ.get("MONTE_CARLO_UI_URL") or DEFAULT_UI_URL).rstrip("/")
    if not isinstance(result, Mapping):
        return ""
    mcons: list[str] = []
    tables: list[str] = []
    for c in result.get("confirmed") or (result.get("visibility") or {}).get("confirmed") or []:
        if isinstance(c, Mapping) and c.get("kind") == "metadata":
            tables.append(str(c.get("item")))
            if c.get("mcon"):
                mcons.append(str(c["mcon"]))
    if not tables:
        assets = result.get("assets") or {}
        for kind in ("metadata", "lineage"):
            tables.extend(str(t) for t in (assets.get(kind) or {}).get("sample") or [])
    if len(mcons) == 1 and len(tables) == 1:
        return f"{ui}/assets/{quote(mcons[0], safe='')}"
    if not tables:
        return ""
    prefixes = {t.split(".", 1)[0] for t in tables}
    search = prefixes.pop() if len(prefixes) == 1 else tables[0]
    return f"{ui}/assets?search={quote(search, safe='')}"


class MonteCarloTablesLink(BaseOperatorLink):
    """Opens the tables a push (or a confirming sensor) names in Monte Carlo."""

    name = "Monte Carlo"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        return monte_carlo_url(XCom.get_value(ti_key=ti_key, key="return_value"))
