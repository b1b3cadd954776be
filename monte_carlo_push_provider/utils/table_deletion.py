"""Deleting push-ingested tables: the MCON Monte Carlo gives a push table, resolving fullTableIds
to MCONs, and ``deletePushIngestedTables`` in calls Monte Carlo accepts (at most 1,000 MCONs).

One implementation for everything that names or deletes push tables: the delete operator
(``operators/graphql.py``), the dropped-table cleanup of the push operator
(``utils/push_cleanup.py``) and the visibility checker (``sensors/checker.py``, which only builds
MCONs). Stdlib only at import: the checker is imported at DAG-parse time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

#: deletePushIngestedTables accepts at most this many MCONs per call.
MAX_DELETE_MCONS = 1000
#: MCONs per getTables call when resolving fullTableIds.
TABLES_PER_CALL = 100


def push_table_mcon(account_uuid: str, resource_uuid: str, full_table_id: str) -> str:
    """The MCON Monte Carlo gives a push table: ``MCON++<account>++<resource>++table++<id>``
    (``<id>`` is the fullTableId ``db:schema.table``)."""
    return f"MCON++{account_uuid}++{resource_uuid}++table++{full_table_id}"


def account_uuid(hook: Any) -> str | None:
    """The account of the connection's GraphQL key (``getUser``), the first MCON segment."""
    from monte_carlo_push_provider.utils.graphql_documents import GET_USER_ACCOUNT

    return ((hook.graphql(GET_USER_ACCOUNT).get("getUser") or {}).get("account") or {}).get("uuid")


def resolve_push_tables(
    hook: Any, full_table_ids: Sequence[str], resource_uuid: str | None, *, log: Any,
    account: str | None = None,
) -> tuple[dict[str, str], list[str]]:
    """``({mcon: fullTableId}, not_found)`` for the tables Monte Carlo knows and has not deleted.

    Batched first: ``getTables`` by the MCON Monte Carlo gives push tables (100 a call); what it
    does not return is looked up one by one with ``getTable(fullTableId, dwId)``. A table that is
    already deleted is *not found*: deleting it again is never needed.
    """
    from monte_carlo_push_provider.utils.graphql_documents import GET_TABLE_MCON, GET_TABLES

    targets: dict[str, str] = {}
    not_found: list[str] = []
    resolved: set[str] = set()
    ids = list(dict.fromkeys(full_table_ids))
    if ids and resource_uuid:
        account = account or account_uuid(hook)
        built = {push_table_mcon(account, resource_uuid, ftid): ftid for ftid in ids} if account else {}
        batch = list(built)
        for start in range(0, len(batch), TABLES_PER_CALL):
            chunk = batch[start : start + TABLES_PER_CALL]
            data = hook.graphql(GET_TABLES, {"mcons": chunk, "first": len(chunk)})
            for edge in (data.get("getTables") or {}).get("edges") or []:
                node = edge.get("node") or {}
                if node.get("mcon") in built and not node.get("isDeleted"):
                    targets.setdefault(node["mcon"], built[node["mcon"]])
                    resolved.add(built[node["mcon"]])
    for n, ftid in enumerate([f for f in ids if f not in resolved], 1):
        data = hook.graphql(GET_TABLE_MCON, {"fullTableId": ftid, "dwId": resource_uuid}, not_found_ok=True)
        table = data.get("getTable") or {}
        if table.get("mcon") and not table.get("isDeleted"):
            targets.setdefault(table["mcon"], ftid)
        else:
            not_found.append(ftid)
        if n % 500 == 0:
            log.info("looked up %d fullTableIds one by one", n)
    return targets, not_found


def delete_push_tables(
    hook: Any, mcons: Sequence[str], *, log: Any, chunk_size: int = MAX_DELETE_MCONS,
    on_deleted: Callable[[list[str], int], None] | None = None,
) -> tuple[int, int]:
    """``deletePushIngestedTables`` in calls of at most ``chunk_size`` MCONs; ``(deleted, calls)``.

    ``on_deleted(chunk, deleted_count)`` runs after each successful call (callers log each
    table). A call that does not report success raises a retryable ``MonteCarloPushError``
    naming how far it got; deleting an already deleted table again is harmless.
    """
    from monte_carlo_push_provider.utils.errors import MonteCarloPushError
    from monte_carlo_push_provider.utils.graphql_documents import DELETE_PUSH_INGESTED_TABLES

    if not 1 <= chunk_size <= MAX_DELETE_MCONS:
        raise ValueError(f"chunk_size must be between 1 and {MAX_DELETE_MCONS} (Monte Carlo's limit per call), got {chunk_size}")
    deleted = calls = 0
    for start in range(0, len(mcons), chunk_size):
        chunk = list(mcons[start : start + chunk_size])
        data = hook.graphql(DELETE_PUSH_INGESTED_TABLES, {"mcons": chunk})
        answer = data.get("deletePushIngestedTables") or {}
        if not answer.get("success"):
            raise MonteCarloPushError(
                f"deletePushIngestedTables reported success={answer.get('success')!r} for MCONs "
                f"{start + 1}-{start + len(chunk)} of {len(mcons)}; {deleted} deleted before"
            )
        calls += 1
        count = int(answer.get("deletedCount") or 0)
        deleted += count
        log.info("call %d: deleted %s of %d table(s)", calls, count, len(chunk))
        if on_deleted is not None:
            on_deleted(chunk, count)
    return deleted, calls
