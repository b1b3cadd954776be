"""Custom lineage and delete operators against the sandbox's GraphQL API, through the hook's one
GraphQL transport (httpx over real HTTP)."""

from __future__ import annotations

import pytest

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
from monte_carlo_push_provider.manifest import new_manifest, relational_asset
from monte_carlo_push_provider.operators.graphql import (
    MonteCarloCreateOrUpdateLineageEdgeOperator,
    MonteCarloCreateOrUpdateLineageNodeOperator,
    MonteCarloDeleteLineageNodeOperator,
    MonteCarloDeletePushIngestedTablesOperator,
)
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.utils.errors import MonteCarloConfigError
from monte_carlo_push_provider.utils.graphql_documents import GET_TABLE_LINEAGE_UPSTREAM, GET_TABLE_MCON
from tests.conftest import make_context


def run(op):
    return op.execute(make_context(task_id=op.task_id))


def push_tables(n: int) -> list[str]:
    events = [relational_asset(type="TABLE", name=f"t_{i}", database="DB", schema="S", fields=[("id", "NUMBER")])
              for i in range(n)]
    # verify_resources=False: the push's own getUser pre-flight would count among the GraphQL calls.
    run(MonteCarloPushOperator(task_id="push", manifests=new_manifest("metadata", events, resource_type="snowflake"),
                               min_push_interval=None, verify_resources=False))
    return [f"DB:S.t_{i}" for i in range(n)]


def known(full_table_id: str) -> bool:
    hook = MonteCarloHook()
    data = hook.graphql(GET_TABLE_MCON, {"fullTableId": full_table_id, "dwId": hook.resource_uuid}, not_found_ok=True)
    return bool(data.get("getTable"))


def test_node_is_permanent_by_default(mc_conn):
    node = run(MonteCarloCreateOrUpdateLineageNodeOperator(
        task_id="node", object_type="report", object_id="weekly_revenue", name="Weekly revenue",
        properties={"owner": "finance"},
    ))
    assert node["isCustom"] is True and node["displayName"] == "Weekly revenue"
    assert node["expireAt"].startswith("9999-12-31")  # not Monte Carlo's silent 7-day expiry
    assert node["mcon"].endswith("++report++weekly_revenue")


def test_node_expire_at_none_means_monte_carlo_default(mc_conn):
    node = run(MonteCarloCreateOrUpdateLineageNodeOperator(task_id="node", object_type="job", object_id="j1", expire_at=None))
    assert not node["expireAt"].startswith("9999")


def test_edge_between_tables_is_visible_in_lineage_and_node_delete_removes_it(mc_conn):
    edge = run(MonteCarloCreateOrUpdateLineageEdgeOperator(
        task_id="edge", source="DB:S.raw", destination={"objectType": "table", "objectId": "DB:S.clean"},
    ))
    assert edge["isCustom"] is True and edge["expireAt"].startswith("9999-12-31")
    dst, src = edge["destination"]["mcon"], edge["source"]["mcon"]
    hook = MonteCarloHook()
    graph = hook.graphql(GET_TABLE_LINEAGE_UPSTREAM, {"mcon": dst})["getTableLineage"]
    assert [n["mcon"] for n in graph["connectedNodes"]] == [src]

    deleted = run(MonteCarloDeleteLineageNodeOperator(task_id="del", mcon=src))
    assert deleted["edgesDeleted"] == 1
    graph = hook.graphql(GET_TABLE_LINEAGE_UPSTREAM, {"mcon": dst})["getTableLineage"]
    assert graph["connectedNodes"] == []


def test_edge_arguments_are_checked_before_any_call(mc_conn):
    with pytest.raises(ValueError, match="edge_type must be one of"):
        MonteCarloCreateOrUpdateLineageEdgeOperator(task_id="e", source="a:b.c", destination="a:b.d", edge_type="UPSTREAM")
    with pytest.raises(MonteCarloConfigError, match="objectId is required"):
        run(MonteCarloCreateOrUpdateLineageEdgeOperator(task_id="e", source={"object_type": "table"}, destination="a:b.d"))
    with pytest.raises(MonteCarloConfigError, match="MCON"):
        run(MonteCarloDeleteLineageNodeOperator(task_id="d", mcon="DB:S.raw"))


def test_delete_dry_run_lists_and_deletes_nothing(mc_conn, capfd):
    tables = push_tables(3)
    result = run(MonteCarloDeletePushIngestedTablesOperator(
        task_id="del", full_table_ids=[*tables, "DB:S.never_pushed"], dry_run=True,
    ))
    assert result["dry_run"] is True and result["calls"] == 0 and result["deleted_count"] == 0
    assert len(result["mcons"]) == 3 and result["not_found"] == ["DB:S.never_pushed"]
    out = capfd.readouterr().out
    assert "would delete DB:S.t_0 (MCON++" in out
    assert all(known(t) for t in tables)


def test_delete_dry_run_kwarg_keeps_baseoperator_dry_run_method(mc_conn, capfd):
    # dry_run= is stored as dry_run_only: BaseOperator.dry_run() (what `airflow tasks test
    # --dry-run` calls) must stay a method, not become a bool.
    op = MonteCarloDeletePushIngestedTablesOperator(task_id="del", mcons=["MCON++a++b++table++DB:S.t"], dry_run=True)
    assert op.dry_run_only is True
    op.dry_run()  # renders the template fields and logs them (the task SDK logs to stdout)
    assert "Dry run" in capfd.readouterr().out


def test_delete_resolves_mcons_and_chunks_calls(mc_conn):
    tables = push_tables(5)
    result = run(MonteCarloDeletePushIngestedTablesOperator(task_id="del", full_table_ids=tables, chunk_size=2))
    assert result["calls"] == 3 and result["deleted_count"] == 5  # 2 + 2 + 1
    assert not any(known(t) for t in tables)


def test_delete_chunk_size_is_capped_at_monte_carlos_limit():
    with pytest.raises(ValueError, match="between 1 and 1000"):
        MonteCarloDeletePushIngestedTablesOperator(task_id="del", mcons=["MCON++x"], chunk_size=1001)
    assert MonteCarloDeletePushIngestedTablesOperator(task_id="del2", mcons=["MCON++x"]).chunk_size == 1000


def test_more_than_1000_mcons_go_in_calls_monte_carlo_accepts(mc_conn):
    # The sandbox refuses > 1000 MCONs a call, as Monte Carlo does: 1,001 must take two calls.
    mcons = [f"MCON++acct++res++table++DB:S.gone_{i}" for i in range(1001)]
    result = run(MonteCarloDeletePushIngestedTablesOperator(task_id="del", mcons=mcons))
    assert result["calls"] == 2 and result["deleted_count"] == 0 and len(result["mcons"]) == 1001


def test_delete_resolves_fulltableids_in_batches(mc_conn):
    tables = push_tables(250)
    result = run(MonteCarloDeletePushIngestedTablesOperator(task_id="del", full_table_ids=[*tables, "DB:S.never_pushed"]))
    assert result["deleted_count"] == 250 and result["not_found"] == ["DB:S.never_pushed"]
    # getUser (account) + 3 getTables (100 a call) + 1 getTable for the unknown one + 1 delete,
    # instead of one getTable per table.
    assert mc_conn.stats()["requests"] == {"/graphql 200": 6, "/ingest/v1/metadata 202": 1}
