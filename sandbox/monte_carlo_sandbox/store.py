"""SQLite storage for the sandbox: accepted pushes, their events, custom lineage and deletions.

One connection shared by every handler thread behind a lock: SQLite serialises writers anyway,
and the sandbox's volumes are test-sized. WAL lets an outside reader (a developer poking the file
with ``sqlite3``) read while the sandbox writes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pushes (
    invocation_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    event_type TEXT NOT NULL,
    resource_uuid TEXT,
    resource_type TEXT,
    log_type TEXT,
    received_at REAL NOT NULL,
    event_count INTEGER NOT NULL,
    raw_bytes INTEGER NOT NULL,
    gzip_bytes INTEGER NOT NULL,
    dropped INTEGER NOT NULL DEFAULT 0,
    -- Held back by the admin API: accepted (it has an invocation_id) but not processed, so
    -- GraphQL does not show it (nor pushEvents) until released, whatever came before or after.
    held INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
    invocation_id TEXT NOT NULL REFERENCES pushes(invocation_id),
    kind TEXT NOT NULL,
    idx INTEGER NOT NULL,
    received_at REAL NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (invocation_id, idx)
);
CREATE INDEX IF NOT EXISTS events_kind ON events(kind, received_at);
CREATE TABLE IF NOT EXISTS custom_nodes (
    mcon TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    expire_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS custom_edges (
    source TEXT NOT NULL,
    destination TEXT NOT NULL,
    edge_type TEXT NOT NULL,
    expire_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (source, destination, edge_type)
);
-- A deletion hides every pushed record of that mcon received before deleted_at; a later push
-- brings the table back (Monte Carlo re-creates push tables on the next push too).
CREATE TABLE IF NOT EXISTS deletions (
    mcon TEXT NOT NULL,
    scope TEXT NOT NULL,  -- 'table' (deletePushIngestedTables) or 'lineage' (deleteLineageNode)
    deleted_at REAL NOT NULL
);
"""

PUSH_COLUMNS = (
    "invocation_id",
    "path",
    "kind",
    "event_type",
    "resource_uuid",
    "resource_type",
    "log_type",
    "received_at",
    "event_count",
    "raw_bytes",
    "gzip_bytes",
    "dropped",
    "held",
)


class Store:
    def __init__(self, path: str = ":memory:") -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {r["name"] for r in self._db.execute("PRAGMA table_info(pushes)")}
        if "held" not in columns:  # a database file written before holds existed
            self._db.execute("ALTER TABLE pushes ADD COLUMN held INTEGER NOT NULL DEFAULT 0")
        #: kinds whose next pushes are held as they are accepted ("*": every kind)
        self._hold_new: set[str] = set()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- pushes -----------------------------------------------------------------------------

    def add_push(self, record: dict[str, Any], events: Iterable[dict[str, Any]]) -> None:
        """Store a push and its events atomically (a reader never sees half a push)."""
        with self._lock:
            if record.get("kind") in self._hold_new or "*" in self._hold_new:
                record = {**record, "held": 1}
            cols = [c for c in PUSH_COLUMNS if c in record]
            self._db.execute("BEGIN")
            try:
                self._db.execute(
                    f"INSERT INTO pushes ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",  # noqa: S608 - fixed column names
                    [record[c] for c in cols],
                )
                self._db.executemany(
                    "INSERT INTO events (invocation_id, kind, idx, received_at, body) VALUES (?, ?, ?, ?, ?)",
                    [
                        (record["invocation_id"], record["kind"], i, record["received_at"], json.dumps(e))
                        for i, e in enumerate(events)
                    ],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def mark_dropped(self, invocation_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE pushes SET dropped = 1 WHERE invocation_id = ?", (invocation_id,))

    def pushes(self, kind: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM pushes"
        params: tuple[Any, ...] = ()
        if kind:
            sql += " WHERE kind = ?"
            params = (kind,)
        rows = self._query(sql + " ORDER BY received_at, rowid", params)
        return [{**dict(r), "dropped": bool(r["dropped"]), "held": bool(r["held"])} for r in rows]

    def events(self, kind: str | None = None, *, visible_before: float | None = None) -> list[dict[str, Any]]:
        """Events in acceptance order, each with its push's resource fields.

        ``visible_before``: only events received at or before this time (visibility delays), and
        none of a held push.
        """
        sql = (
            "SELECT e.invocation_id, e.kind, e.idx, e.received_at, e.body, p.event_type, "
            "p.resource_uuid, p.resource_type, p.log_type FROM events e "
            "JOIN pushes p ON p.invocation_id = e.invocation_id"
        )
        where, params = [], []
        if kind:
            where.append("e.kind = ?")
            params.append(kind)
        if visible_before is not None:
            where.append("e.received_at <= ? AND p.held = 0")
            params.append(visible_before)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._query(sql + " ORDER BY e.received_at, e.rowid", params)
        out = []
        for r in rows:
            item = dict(r)
            item["index"] = item.pop("idx")
            item["event"] = json.loads(item.pop("body"))
            out.append(item)
        return out

    # -- holding pushes back (admin API) ----------------------------------------------------

    def hold(self, *, kind: str | None = None, invocation_ids: Iterable[str] | None = None) -> dict[str, Any]:
        """Hold back the listed pushes, or (no ids) every push of ``kind`` (all kinds if None)
        accepted from now on, until :meth:`release`."""
        with self._lock:
            ids = list(invocation_ids or [])
            if ids:
                marks = ", ".join("?" for _ in ids)
                found = self._db.execute(
                    f"UPDATE pushes SET held = 1 WHERE invocation_id IN ({marks})", ids  # noqa: S608 - placeholders only
                ).rowcount
                if found != len(set(ids)):
                    raise ValueError(f"{len(set(ids)) - found} of {len(set(ids))} invocation_ids are not pushes of this sandbox")
            else:
                self._hold_new.add(kind or "*")
            return self.holds()

    def release(self, *, invocation_ids: Iterable[str] | None = None) -> dict[str, Any]:
        """Release the listed pushes, or (no ids) every held push and stop holding new ones."""
        with self._lock:
            ids = list(invocation_ids or [])
            if ids:
                marks = ", ".join("?" for _ in ids)
                self._db.execute(f"UPDATE pushes SET held = 0 WHERE invocation_id IN ({marks})", ids)  # noqa: S608
            else:
                self._hold_new.clear()
                self._db.execute("UPDATE pushes SET held = 0")
            return self.holds()

    def holds(self) -> dict[str, Any]:
        rows = self._query("SELECT invocation_id FROM pushes WHERE held = 1 ORDER BY received_at, rowid")
        return {"holding_new": sorted(self._hold_new), "held": [r["invocation_id"] for r in rows]}

    # -- custom lineage ---------------------------------------------------------------------

    def upsert_custom_node(self, mcon: str, body: dict[str, Any], expire_at: float, now: float) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO custom_nodes (mcon, body, expire_at, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(mcon) DO UPDATE SET body = excluded.body, expire_at = excluded.expire_at, "
                "updated_at = excluded.updated_at",
                (mcon, json.dumps(body), expire_at, now),
            )

    def custom_nodes(self, now: float) -> dict[str, dict[str, Any]]:
        rows = self._query("SELECT mcon, body, expire_at FROM custom_nodes WHERE expire_at > ?", (now,))
        return {r["mcon"]: {**json.loads(r["body"]), "expire_at": r["expire_at"]} for r in rows}

    def upsert_custom_edge(self, source: str, destination: str, edge_type: str, expire_at: float, now: float) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO custom_edges (source, destination, edge_type, expire_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(source, destination, edge_type) DO UPDATE SET "
                "expire_at = excluded.expire_at, updated_at = excluded.updated_at",
                (source, destination, edge_type, expire_at, now),
            )

    def custom_edges(self, now: float) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT source, destination, edge_type, expire_at FROM custom_edges WHERE expire_at > ?", (now,)
        )
        return [dict(r) for r in rows]

    def delete_lineage_node(self, mcon: str, now: float) -> tuple[int, int]:
        """Remove a custom node and every custom edge touching it; (nodes, edges) deleted."""
        with self._lock:
            nodes = self._db.execute(
                "DELETE FROM custom_nodes WHERE mcon = ? AND expire_at > ?", (mcon, now)
            ).rowcount
            edges = self._db.execute(
                "DELETE FROM custom_edges WHERE (source = ? OR destination = ?) AND expire_at > ?",
                (mcon, mcon, now),
            ).rowcount
            return nodes, edges

    # -- deletions --------------------------------------------------------------------------

    def add_deletion(self, mcon: str, scope: str, now: float) -> None:
        with self._lock:
            self._db.execute("INSERT INTO deletions (mcon, scope, deleted_at) VALUES (?, ?, ?)", (mcon, scope, now))

    def deletions(self) -> dict[str, dict[str, float]]:
        """scope -> mcon -> latest deletion time."""
        out: dict[str, dict[str, float]] = {"table": {}, "lineage": {}}
        for r in self._query("SELECT mcon, scope, MAX(deleted_at) AS at FROM deletions GROUP BY mcon, scope"):
            out.setdefault(r["scope"], {})[r["mcon"]] = r["at"]
        return out

    # -- admin ------------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self._hold_new.clear()
            for table in ("events", "pushes", "custom_nodes", "custom_edges", "deletions"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
