"""Dropped-table cleanup (opt-in, ``MonteCarloPushOperator(cleanup=…)``): Monte Carlo never
deletes push-ingested tables, so a table dropped in the warehouse lives on in Monte Carlo until
someone calls ``deletePushIngestedTables``. This module compares this try's *complete* metadata
push of a scope with the previous complete one and deletes (or, dry run, lists) the tables that
disappeared.

Rules (docs/cleanup.md says why):

- a **scope** is what one metadata manifest says it read in full: ``scope`` (database, schema and
  table patterns, other collector options) with ``complete: true``; a manifest reading several
  databases declares a list, one scope per database, each compared on its own. Another filter is
  another scope: a table a filter leaves out is never "dropped". Manifests without a scope never
  take part;
- only a scope whose every manifest is complete (no skipped rows: those tables exist but were not
  pushed) and whose metadata was pushed in full in this round (not skipped for the clock hour,
  nothing oversized, no failed batch) is compared;
- the previous complete push of (resource, scope) is a **snapshot** in the push state
  (``snapshots/<resource>/<scope key>.json.gz``, the fullTableIds, gzip: ~0.5 MB for 100k
  tables). The first complete push only records one;
- more than ``cleanup_max_fraction`` of the previous snapshot gone, if that is more than
  ``cleanup_min_tables`` tables or every table of the scope, is **refused** (the task fails,
  nothing deleted) unless ``cleanup_force=True`` (:func:`cap_refusal`);
- deletes go in calls of at most 1,000 MCONs, each deleted table logged (fullTableId and MCON);
  the snapshot is replaced only after every call succeeded. A crash in between leaves the old
  snapshot, so the next complete push finds the same tables missing; those already deleted are
  no longer known to Monte Carlo and are not sent again (deleting one again would be harmless);
- a dry run deletes nothing and keeps the dropped tables in the snapshot, so every dry run lists
  everything a real run would delete.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from monte_carlo_push_provider.manifest import manifest_scopes
from monte_carlo_push_provider.utils.errors import MonteCarloPushError

CLEANUP_MODES = ("off", "dry_run", "delete")
SNAPSHOT_VERSION = 1
#: dropped tables listed per scope in the push result (all of them are in the task log)
LISTED = 1000


class MonteCarloCleanupRefusedError(MonteCarloPushError, AirflowFailException):
    """More of a scope disappeared than ``cleanup_max_fraction`` allows: nothing was deleted.
    Not retryable (a retry would see the same tables missing); the message names the fix."""


def full_table_id(event: Mapping[str, Any]) -> str:
    """Monte Carlo's fullTableId of a metadata event: ``<database>:<schema>.<table>``."""
    meta = event.get("metadata") or {}
    return f"{meta.get('database')}:{meta.get('schema')}.{meta.get('name')}"


def scope_key(resource_type: str, scope: Mapping[str, Any]) -> str:
    """A short stable name for (resource_type, scope): the snapshot file's name."""
    canonical = {
        "resource_type": resource_type,
        **{k: (sorted(v) if isinstance(v, list) else v) for k, v in scope.items() if v is not None},
        "database": str(scope.get("database") or "").lower(),
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()[:20]


def describe_scope(scope: Mapping[str, Any]) -> str:
    """``database ANALYTICS, schemas public/sales, excluding tmp_*`` for messages."""
    parts = [f"database {scope.get('database')}"]
    for key, label in (("schemas", "schemas"), ("exclude_schemas", "excluding schemas"),
                       ("tables", "tables"), ("exclude_tables", "excluding tables")):
        if scope.get(key):
            parts.append(f"{label} {'/'.join(scope[key])}")
    for key, value in sorted((scope.get("options") or {}).items()):
        parts.append(f"{key}={value}")
    return ", ".join(parts)


# -- pass 1: what each scope pushed ------------------------------------------------------------


@dataclass
class ScopeSeen:
    """One (resource, scope) of this push: its tables and why it is not complete, if it is not."""

    resource_uuid: str
    resource_type: str
    scope: dict[str, Any]
    key: str
    tables: set[str] = field(default_factory=set)
    manifests: list[int] = field(default_factory=list)
    not_complete: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{describe_scope(self.scope)} ({self.resource_type} {self.resource_uuid})"


class ScopeTracker:
    """Fed every manifest in pass 1 (one set of fullTableIds per scope, no events kept)."""

    def __init__(self) -> None:
        self.scopes: dict[tuple[str, str], ScopeSeen] = {}
        self.unscoped: list[int] = []  # metadata manifests without a scope: never cleaned up

    def add(self, manifest: Mapping[str, Any], index: int, resource_uuid: str) -> None:
        if manifest.get("kind") != "metadata":
            return
        scopes = manifest_scopes(manifest)
        if not scopes:
            self.unscoped.append(index)
            return
        resource_type = str(manifest.get("resource_type"))
        # one manifest may declare one scope per database (validated: distinct, every event in one)
        by_database: dict[str, ScopeSeen] = {}
        for scope in scopes:
            key = scope_key(resource_type, scope)
            seen = self.scopes.get((resource_uuid, key))
            if seen is None:
                seen = self.scopes[(resource_uuid, key)] = ScopeSeen(resource_uuid, resource_type, dict(scope), key)
            seen.manifests.append(index)
            by_database[str(scope.get("database") or "").lower()] = seen
        for event in manifest["events"]:
            database = str((event.get("metadata") or {}).get("database") or "").lower()
            by_database[database].tables.add(full_table_id(event))
        reasons = []
        if manifest.get("complete") is not True:
            reasons.append(f"manifest[{index}] says complete={manifest.get('complete')!r}")
        skipped = {k: n for k, n in ((manifest.get("stats") or {}).get("skipped") or {}).items() if n}
        if skipped:
            listed = ", ".join(f"{n:,} {k}" for k, n in sorted(skipped.items()))
            reasons.append(
                f"manifest[{index}] skipped rows Monte Carlo cannot take ({listed}): those tables still exist "
                "but were not pushed"
            )
        # a skip is counted per manifest, not per database: every scope of the manifest is incomplete
        for seen in by_database.values():
            seen.not_complete.extend(reasons)


# -- the snapshot ------------------------------------------------------------------------------


def snapshot_path(state: Any, resource_uuid: str, key: str) -> Any:
    from monte_carlo_push_provider.utils.push_state import safe

    return state.root / "snapshots" / safe(resource_uuid) / f"{key}.json.gz"


def read_snapshot(path: Any) -> dict[str, Any] | None:
    from monte_carlo_push_provider.utils.push_state import MonteCarloStateError, Unreadable, read_json

    try:
        doc = read_json(path)
        if doc is None:
            return None
        if doc.get("snapshot_version") != SNAPSHOT_VERSION or not isinstance(doc.get("tables"), list):
            raise ValueError(f"unknown snapshot_version {doc.get('snapshot_version')!r} or no tables list")
    except (Unreadable, ValueError, AttributeError) as err:
        raise MonteCarloStateError(
            f"cleanup snapshot {path} is unreadable ({err}). It lists the tables of the last complete push of "
            "this scope; nothing is deleted without it. Delete the file: the next complete push records a new one."
        ) from None
    return doc


def write_snapshot(path: Any, document: dict[str, Any]) -> None:
    """Replace the snapshot atomically (local: temp file + rename; object storage: one PUT)."""
    from monte_carlo_push_provider.utils.push_state import write_json

    write_json(path, document, compressed=True, compresslevel=9)


# -- after the push: compare, refuse, delete ---------------------------------------------------


@dataclass(frozen=True)
class CleanupSettings:
    mode: str  # CLEANUP_MODES
    max_fraction: float
    force: bool
    #: the cap's floor: up to this many disappeared tables are deleted whatever their fraction
    #: (a small scope would hit any fraction with one table), unless the scope now reads empty
    min_tables: int = 10


def cap_refusal(previous: int, dropped: int, current: int, settings: CleanupSettings) -> str | None:
    """Why the safety cap refuses to delete ``dropped`` of ``previous`` tables (``current`` read
    now), or ``None``. The cap is a fraction with a floor: up to ``min_tables`` disappeared tables
    are deleted whatever their fraction (1 of 5 is 20%, and a small scope would hit any fraction
    with one table), except that a scope which now reads empty is refused at any size: that is the
    typical lost grant or wrong database. ``force`` lifts both."""
    if settings.force or not dropped:
        return None
    if dropped / max(previous, 1) <= settings.max_fraction:
        return None
    if dropped > settings.min_tables:
        return (f"more than cleanup_max_fraction={settings.max_fraction:g} allows (and more than "
                f"cleanup_min_tables={settings.min_tables})")
    if current == 0:
        return "every table of the scope disappeared (it reads empty now, whatever cleanup_min_tables)"
    return None


class Cleanup:
    """Runs once per try, after every batch was accepted, before the result is saved."""

    def __init__(self, *, settings: CleanupSettings, state: Any, hook: Any, lock: Callable[[str, str], None],
                 owner: dict[str, Any], log: Any, now: Callable[[], str]) -> None:
        self.settings = settings
        self.state = state
        self.hook = hook
        self.lock = lock
        self.owner = owner
        self.log = log
        self.now = now
        self._account: str | None = None

    def run(self, tracker: ScopeTracker, plan: Any, invocation_ids: dict[str, list[str]]) -> tuple[dict[str, Any], list[str]]:
        """``(result["cleanup"], refusals)``; raises only on a failed GraphQL call."""
        mode = self.settings.mode
        out: dict[str, Any] = {"mode": mode, "max_fraction": self.settings.max_fraction,
                               "min_tables": self.settings.min_tables, "force": self.settings.force,
                               "deleted_count": 0, "would_delete_count": 0, "scopes": []}
        if tracker.unscoped:
            self.log.info(
                "cleanup=%s: %d metadata manifest(s) declare no scope (manifest[%s]); their tables are never "
                "cleaned up (docs/cleanup.md: which collectors declare one)", mode, len(tracker.unscoped),
                ", ".join(map(str, tracker.unscoped[:20])),
            )
        refusals: list[str] = []
        for seen in tracker.scopes.values():
            entry = self._scope(seen, plan, invocation_ids.get(seen.resource_uuid, []), refusals)
            out["scopes"].append(entry)
            out["deleted_count"] += entry.get("deleted_count", 0)
            if entry["status"] == "would_delete":
                out["would_delete_count"] += entry["dropped_count"]
        return out, refusals

    def _scope(self, seen: ScopeSeen, plan: Any, invocation_ids: list[str], refusals: list[str]) -> dict[str, Any]:
        path = snapshot_path(self.state, seen.resource_uuid, seen.key)
        entry: dict[str, Any] = {
            "resource_uuid": seen.resource_uuid, "resource_type": seen.resource_type, "scope": seen.scope,
            "scope_key": seen.key, "snapshot": str(path), "current_tables": len(seen.tables),
            "previous_tables": None, "dropped_count": 0, "dropped": [], "deleted_count": 0, "calls": 0,
        }

        def done(status: str, reason: str, level: str = "info") -> dict[str, Any]:
            entry.update(status=status, reason=reason)
            getattr(self.log, level)("cleanup of %s: %s", seen.label, reason)
            return entry

        if seen.not_complete:
            return done("not_complete", "not a complete collection, nothing compared or deleted: "
                        + "; ".join(seen.not_complete[:5]), "warning")
        unit = plan.units.get(("metadata", seen.resource_uuid, seen.resource_type, "METADATA"))
        if seen.tables:
            if unit is None or unit.skip is not None:
                why = unit.skip.reason if unit is not None and unit.skip is not None else "no metadata unit"
                return done("not_pushed", f"its metadata was not pushed in this try ({why}); nothing compared or deleted")
            if unit.oversized:
                return done("not_pushed", "some of its tables were too large to push; nothing compared or deleted", "warning")
        self.lock(seen.resource_uuid, "cleanup")  # one run at a time reads and replaces the snapshot
        previous = read_snapshot(path)
        current = sorted(seen.tables)

        def save(tables: list[str]) -> None:
            write_snapshot(path, {
                "snapshot_version": SNAPSHOT_VERSION, "resource_uuid": seen.resource_uuid,
                "resource_type": seen.resource_type, "scope": seen.scope, "scope_key": seen.key,
                "updated_at": self.now(), "owner": self.owner, "invocation_ids": invocation_ids[:50],
                "tables": tables,
            })

        if previous is None:
            save(current)
            return done("recorded", f"first complete push of this scope: recorded {len(current):,} table(s) in {path}; "
                        "nothing is deleted on a first run")
        before = set(previous["tables"])
        entry["previous_tables"] = len(before)
        dropped = sorted(before - seen.tables)
        entry["dropped_count"] = len(dropped)
        entry["dropped"] = dropped[:LISTED]
        if not dropped:
            save(current)
            return done("unchanged", f"no table disappeared since the complete push at {previous.get('updated_at')}")
        fraction = len(dropped) / max(len(before), 1)
        why = cap_refusal(len(before), len(dropped), len(seen.tables), self.settings)
        over_cap = why is not None
        entry["over_cap"] = over_cap
        if over_cap:
            raise_it = "" if not seen.tables else " (or raise cleanup_max_fraction / cleanup_min_tables)"
            message = (
                f"cleanup refused for {seen.label}: {len(dropped):,} of {len(before):,} table(s) ({fraction:.0%}) "
                f"disappeared since the complete push at {previous.get('updated_at')}, {why}; nothing was deleted "
                f"(first: {', '.join(dropped[:5])}). If they really were dropped, run once with cleanup_force=True"
                f"{raise_it}; if the collector missed them (a lost grant, a wrong database), fix it. To forget them "
                f"instead, delete {path}: the next complete push records a new snapshot."
            )
            if self.settings.mode == "delete":
                save(sorted(before | seen.tables))  # new tables are tracked; the missing ones stay
                refusals.append(message)
                return done("refused", message, "error")
            # a dry run never fails on the cap: it lists the tables and says a real run would refuse
            self.log.warning("cleanup dry run: a real run would refuse: %s", message)
        targets, not_found = self._resolve(seen, dropped)
        entry["not_found_count"] = len(not_found)
        if not_found:
            self.log.info("cleanup of %s: %d disappeared table(s) are not in Monte Carlo (never pushed, or already "
                          "deleted: nothing to do): %s", seen.label, len(not_found), ", ".join(not_found[:20]))
        if self.settings.mode == "dry_run":
            for mcon, ftid in targets.items():
                self.log.info("cleanup dry run: would delete %s (%s)", ftid, mcon)
            # keep them (a later real run deletes them), except those Monte Carlo no longer has
            save(sorted((before - set(not_found)) | seen.tables))
            if over_cap:
                return done("would_delete", f"dry run: {len(dropped):,} table(s) disappeared, {why}: "
                            f"cleanup='delete' would refuse unless cleanup_force=True; "
                            f"{len(targets):,} would be deleted then (listed above); nothing deleted", "warning")
            return done("would_delete", f"dry run: {len(targets):,} of {len(dropped):,} disappeared table(s) would be "
                        "deleted (listed above); nothing deleted (cleanup='delete' deletes them)", "warning")
        from monte_carlo_push_provider.utils.table_deletion import delete_push_tables

        def deleted(chunk: list[str], count: int) -> None:
            for mcon in chunk:
                self.log.warning("cleanup: deleted %s (%s) from Monte Carlo: gone from %s", targets[mcon], mcon,
                                 describe_scope(seen.scope))

        mcons = list(targets)
        entry["deleted_count"], entry["calls"] = delete_push_tables(self.hook, mcons, log=self.log, on_deleted=deleted)
        entry["mcons"] = mcons[:LISTED]
        save(current)  # only after every call succeeded: a crash before this deletes them again, harmlessly
        return done("deleted", f"deleted {entry['deleted_count']:,} table(s) in {entry['calls']} call(s) "
                    f"({len(dropped):,} disappeared since {previous.get('updated_at')})", "warning")

    def _resolve(self, seen: ScopeSeen, dropped: list[str]) -> tuple[dict[str, str], list[str]]:
        from monte_carlo_push_provider.utils.table_deletion import account_uuid, resolve_push_tables

        if self._account is None:
            self._account = account_uuid(self.hook)
        return resolve_push_tables(self.hook, dropped, seen.resource_uuid, log=self.log, account=self._account)
