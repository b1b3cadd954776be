"""Dropped-table cleanup (issue 19, item 3): a table that disappears from a complete metadata push
of a scope is deleted from Monte Carlo with ``deletePushIngestedTables``, never on a partial one.

Real operator, real pycarlo client and the provider's GraphQL transport against the sandbox over
HTTP (which enforces Monte Carlo's 1,000-MCON limit per delete call); one test runs a real DAG
(``tests/dags/push_dropped_tables.py``, SQLite catalog) with ``dag.test()``. Hours pass by
replacing the one clock the push reads (``push_state.utcnow``), as in test_push_exactly_once.py.
Whether a table is still in Monte Carlo is asked the way a user would: ``getTable`` over GraphQL.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from monte_carlo_push_provider.hooks.monte_carlo import MonteCarloHook
from monte_carlo_push_provider.manifest import new_manifest, relational_asset
from monte_carlo_push_provider.utils import push_cleanup, push_state
from monte_carlo_push_provider.utils.errors import MonteCarloPushError
from monte_carlo_push_provider.utils.graphql_documents import GET_TABLE_MCON
from monte_carlo_push_provider.utils.push_cleanup import MonteCarloCleanupRefusedError
from tests.conftest import DAGS_FOLDER
from tests.operators.test_push import push

T0 = datetime(2026, 11, 25, 10, 5, tzinfo=timezone.utc)
SCOPE = {"database": "ANALYTICS", "schemas": ["PUBLIC"]}


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, now: datetime):
        self.now = now
        monkeypatch.setattr(push_state, "utcnow", lambda: self.now)


def manifest(names, *, scope=SCOPE, complete=True, skipped=None, schema="PUBLIC"):
    events = [relational_asset(type="TABLE", name=n, database="ANALYTICS", schema=schema, row_count=1) for n in names]
    extra = {} if complete is None else {"complete": complete}
    return new_manifest("metadata", events, resource_type="snowflake", scope=scope,
                        stats={"skipped": skipped or {}}, **extra)


def run(names_or_manifest, hour, *, clock, cleanup="delete", **kwargs):
    clock.now = T0 + timedelta(hours=hour)
    kwargs.setdefault("cleanup_max_fraction", 0.5)
    kwargs.setdefault("push_bucket", timedelta(hours=1))
    kwargs.setdefault("context", {"run_id": f"scheduled__{hour}"})
    m = manifest(names_or_manifest) if isinstance(names_or_manifest, list) else names_or_manifest
    return push(m, cleanup=cleanup, **kwargs)


def known(table: str) -> bool:
    hook = MonteCarloHook()
    data = hook.graphql(GET_TABLE_MCON, {"fullTableId": f"ANALYTICS:PUBLIC.{table}", "dwId": hook.resource_uuid},
                        not_found_ok=True)
    return bool(data.get("getTable"))


def scope_entry(result):
    (entry,) = result["cleanup"]["scopes"]
    return entry


def test_dropped_tables_are_deleted_after_the_next_complete_push(mc_conn, monkeypatch, capfd):
    clock = Clock(monkeypatch, T0)
    first = run(["a", "b", "c"], 0, clock=clock)
    assert scope_entry(first)["status"] == "recorded" and known("c")  # a first run only records
    assert "nothing is deleted on a first run" in capfd.readouterr().out

    second = run(["a", "b"], 1, clock=clock)  # the next clock hour: c was dropped
    entry = scope_entry(second)
    assert entry["status"] == "deleted" and entry["dropped"] == ["ANALYTICS:PUBLIC.c"]
    assert entry["deleted_count"] == 1 and entry["calls"] == 1 and second["cleanup"]["deleted_count"] == 1
    assert not known("c") and known("a") and known("b")
    out = capfd.readouterr().out
    mcon = entry["mcons"][0]
    assert mcon.startswith("MCON++") and mcon.endswith("++table++ANALYTICS:PUBLIC.c")
    assert f"deleted ANALYTICS:PUBLIC.c ({mcon}) from Monte Carlo" in out  # every deleted table logged

    third = run(["a", "b"], 2, clock=clock)
    assert scope_entry(third)["status"] == "unchanged" and known("a")


def test_dropped_tables_dry_run_deletes_nothing_and_keeps_listing_them(mc_conn, monkeypatch, capfd):
    clock = Clock(monkeypatch, T0)
    run(["a", "b", "c"], 0, clock=clock, cleanup="dry_run")
    for hour in (1, 2):  # every dry run lists what a real run would delete
        result = run(["a", "b"], hour, clock=clock, cleanup="dry_run")
        entry = scope_entry(result)
        assert entry["status"] == "would_delete" and entry["dropped"] == ["ANALYTICS:PUBLIC.c"]
        assert entry["deleted_count"] == 0 and result["cleanup"]["would_delete_count"] == 1
        assert known("c")
        out = capfd.readouterr().out
        assert "cleanup dry run: would delete ANALYTICS:PUBLIC.c (MCON++" in out and "deleted ANALYTICS" not in out
    assert scope_entry(run(["a", "b"], 3, clock=clock))["status"] == "deleted"  # switched on: now it goes
    assert not known("c")


@pytest.mark.parametrize("case", ["skipped_rows", "skipped_rows_claimed_complete", "not_declared_complete",
                                  "another_filter", "cadence_skipped"])
def test_dropped_tables_partial_collection_deletes_nothing(mc_conn, monkeypatch, case):
    clock = Clock(monkeypatch, T0)
    run(["a", "b", "c"], 0, clock=clock)
    hour = 1
    if case == "skipped_rows":  # what the collector writes when it skipped a row: complete=false
        second = manifest(["a", "b"], complete=False, skipped={"bad_column_name": 1})
    elif case == "skipped_rows_claimed_complete":  # a hand-made manifest that says otherwise
        second = manifest(["a", "b"], skipped={"bad_column_name": 1})
    elif case == "not_declared_complete":
        second = manifest(["a", "b"], complete=None)
    elif case == "another_filter":  # an exclude pattern is another scope: c was excluded, not dropped
        second = manifest(["a", "b"], scope={**SCOPE, "exclude_tables": ["c"]})
    else:  # metadata already pushed in this clock hour: nothing pushed, nothing compared
        second, hour = manifest(["a", "b"]), 0
    result = run(second, hour, clock=clock, context={"run_id": "second"}, skip_when_nothing_pushed=False)
    entry = scope_entry(result)
    expected = {"another_filter": "recorded", "cadence_skipped": "not_pushed"}.get(case, "not_complete")
    assert entry["status"] == expected, entry
    assert entry["deleted_count"] == 0 and known("c")
    # and the old snapshot still stands: the next complete push finds c missing
    later = run(["a", "b"], 2, clock=clock)
    assert scope_entry(later)["status"] == "deleted" and not known("c")


def test_dropped_tables_failed_batch_deletes_nothing(mc_conn, monkeypatch):
    clock = Clock(monkeypatch, T0)
    run(["a", "b", "c"], 0, clock=clock)
    mc_conn.set_faults(fail_503=1.0)
    with pytest.raises(MonteCarloPushError):
        run(["a", "b"], 1, clock=clock, max_attempts=1)
    mc_conn.set_faults(fail_503=0.0)
    assert known("c")
    assert scope_entry(run(["a", "b"], 2, clock=clock))["status"] == "deleted"


def test_dropped_tables_safety_cap_refuses_unless_forced(mc_conn, monkeypatch, tmp_path):
    clock = Clock(monkeypatch, T0)
    tables = [f"t{i:02d}" for i in range(30)]
    run(tables, 0, clock=clock, cleanup_max_fraction=0.1)
    out = tmp_path / "result.json"
    with pytest.raises(MonteCarloCleanupRefusedError) as refused:
        run(tables[:15], 1, clock=clock, cleanup_max_fraction=0.1, output_path=str(out))
    message = str(refused.value)
    assert "15 of 30 table(s) (50%)" in message and "cleanup_max_fraction=0.1" in message
    assert "cleanup_min_tables=10" in message
    assert "cleanup_force=True" in message and "nothing was deleted" in message
    assert all(known(t) for t in tables)
    written = json.loads(out.read_text())
    assert written["cleanup"]["scopes"][0]["status"] == "refused" and written["status"] == "failed"
    assert len(written["invocation_ids"]) == 1  # the push itself is recorded

    forced = run(tables[:15], 2, clock=clock, cleanup_max_fraction=0.1, cleanup_force=True)
    assert scope_entry(forced)["deleted_count"] == 15
    assert [t for t in tables if known(t)] == tables[:15]


def test_more_than_1000_dropped_tables_are_deleted_in_calls_of_at_most_1000(mc_conn, monkeypatch, capfd):
    clock = Clock(monkeypatch, T0)
    tables = [f"t{i:04d}" for i in range(1040)]
    run(tables, 0, clock=clock)
    result = run(tables[:20], 1, clock=clock, cleanup_force=True)
    entry = scope_entry(result)
    # the sandbox refuses a call of more than 1,000 MCONs, as Monte Carlo does
    assert entry["calls"] == 2 and entry["deleted_count"] == 1020 and entry["dropped_count"] == 1020
    assert len(entry["dropped"]) == 1000  # the result lists 1,000; the log has every one
    out = capfd.readouterr().out
    assert "call 1: deleted 1000 of 1000" in out and "call 2: deleted 20 of 20" in out
    assert out.count("from Monte Carlo: gone from database ANALYTICS") == 1020
    assert not known("t1039") and known("t0019")


def test_dropped_tables_crash_between_delete_and_snapshot_is_resumed_harmlessly(mc_conn, monkeypatch):
    clock = Clock(monkeypatch, T0)
    run(["a", "b", "c"], 0, clock=clock)
    real_write = push_cleanup.write_snapshot

    def crash(path, document):  # a worker killed after the delete call, before the snapshot write
        raise OSError("killed")

    monkeypatch.setattr(push_cleanup, "write_snapshot", crash)
    with pytest.raises(OSError, match="killed"):
        run(["a", "b"], 1, clock=clock)
    assert not known("c")  # deleted, but the snapshot still lists it
    pushes = len(mc_conn.pushes("metadata"))
    monkeypatch.setattr(push_cleanup, "write_snapshot", real_write)
    retry = run(["a", "b"], 1, clock=clock, context={"run_id": "scheduled__1", "try_number": 2})
    entry = scope_entry(retry)
    assert len(mc_conn.pushes("metadata")) == pushes  # the retry resumed the round: nothing pushed again
    assert entry["dropped_count"] == 1 and entry["not_found_count"] == 1 and entry["deleted_count"] == 0
    assert known("a") and known("b")
    assert scope_entry(run(["a", "b"], 2, clock=clock))["status"] == "unchanged"


def test_dropped_tables_need_the_graphql_key_before_anything_is_pushed(mc_conn, monkeypatch):
    from monte_carlo_push_provider.utils.errors import MonteCarloConfigError

    mc_conn.use(graphql_key_id="", graphql_key_secret="")
    clock = Clock(monkeypatch, T0)
    with pytest.raises(MonteCarloConfigError, match="cleanup='delete' deletes through GraphQL"):
        run(["a"], 0, clock=clock)
    assert mc_conn.pushes("metadata") == []


def test_dropped_tables_parameters_are_checked_at_parse_time():
    from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
    from monte_carlo_push_provider.utils.errors import MonteCarloManifestError

    with pytest.raises(MonteCarloManifestError, match="cleanup must be 'off', 'dry_run' or 'delete'"):
        MonteCarloPushOperator(task_id="p", manifests=[], cleanup="yes")
    with pytest.raises(MonteCarloManifestError, match=r"cleanup_max_fraction must be a fraction in \(0, 1\]"):
        MonteCarloPushOperator(task_id="p", manifests=[], cleanup_max_fraction=10)


def test_dropped_tables_scope_is_validated():
    from monte_carlo_push_provider.manifest import validate_manifest
    from monte_carlo_push_provider.utils.errors import MonteCarloManifestError

    with pytest.raises(MonteCarloManifestError, match="outside scope.database 'OTHER'"):
        validate_manifest(manifest(["a"], scope={"database": "OTHER"}))
    with pytest.raises(MonteCarloManifestError, match="scope.schema is not a scope key"):
        validate_manifest(manifest(["a"], scope={"database": "ANALYTICS", "schema": ["x"]}))
    with pytest.raises(MonteCarloManifestError, match="complete=true needs a scope"):
        validate_manifest(manifest(["a"], scope=None))


def test_dropped_tables_sqlite_table_dropped_between_two_dag_runs(mc_conn, airflow_db, monkeypatch, tmp_path):
    """Real Airflow, a real SQLite catalog through the common.sql collector: drop a table, an hour
    later Monte Carlo no longer has it."""
    from airflow.dag_processing.dagbag import DagBag

    path = tmp_path / "wh.db"
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE orders (id INT); CREATE TABLE customers (id INT); CREATE TABLE legacy (id INT);")
    db.close()
    monkeypatch.setenv("AIRFLOW_CONN_WH", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    monkeypatch.setenv("MONTE_CARLO_PUSH_RESULTS", str(tmp_path / "results"))
    mc_conn.use("data-lake")
    clock = Clock(monkeypatch, T0)
    bag = DagBag(dag_folder=str(DAGS_FOLDER / "push_dropped_tables.py"))
    assert bag.import_errors == {}
    dag = bag.get_dag("push_dropped_tables")
    hook = MonteCarloHook()

    def in_monte_carlo(name: str) -> bool:
        data = hook.graphql(GET_TABLE_MCON, {"fullTableId": f"shop:main.{name}", "dwId": hook.resource_uuid},
                            not_found_ok=True)
        return bool(data.get("getTable"))

    assert dag.test(logical_date=datetime(2026, 11, 25, 10, tzinfo=timezone.utc)).state == "success"
    assert in_monte_carlo("legacy")
    db = sqlite3.connect(path)
    db.execute("DROP TABLE legacy")
    db.close()
    clock.now = T0 + timedelta(hours=1)
    assert dag.test(logical_date=datetime(2026, 11, 25, 11, tzinfo=timezone.utc)).state == "success"
    assert not in_monte_carlo("legacy") and in_monte_carlo("orders") and in_monte_carlo("customers")
    result = json.loads((tmp_path / "results" / "20261125T110000.json").read_text())
    (entry,) = result["cleanup"]["scopes"]
    assert entry["status"] == "deleted" and entry["dropped"] == ["shop:main.legacy"]
    assert entry["scope"] == {"database": "shop", "schemas": None, "exclude_schemas": None}


def test_dropped_tables_dry_run_over_the_cap_lists_and_does_not_fail(mc_conn, monkeypatch, capfd):
    clock = Clock(monkeypatch, T0)
    run(["a", "b", "c", "d"], 0, clock=clock, cleanup="dry_run", cleanup_max_fraction=0.1, cleanup_min_tables=0)
    result = run(["a"], 1, clock=clock, cleanup="dry_run", cleanup_max_fraction=0.1, cleanup_min_tables=0)
    entry = scope_entry(result)
    assert entry["status"] == "would_delete" and entry["over_cap"] is True and entry["dropped_count"] == 3
    assert "a real run would refuse" in capfd.readouterr().out
    assert known("b") and known("c") and known("d")


def test_dropped_tables_scope_declared_by_the_sql_collector(tmp_path, monkeypatch):
    """The common.sql collector declares its scope (its schema filter included) and says a
    collection with a skipped row is not complete."""
    from monte_carlo_push_provider.manifest import validate_manifest
    from monte_carlo_push_provider.operators.sql import SqlMetadataCollectorOperator
    from tests.conftest import make_context

    path = tmp_path / "wh.db"
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE orders (id INT);")
    db.close()
    monkeypatch.setenv("AIRFLOW_CONN_WH", json.dumps({"conn_type": "sqlite", "host": str(path)}))

    def collect(**kw):
        op = SqlMetadataCollectorOperator(task_id="m", conn_id="wh", database="shop", resource_type="data-lake", **kw)
        return validate_manifest(op.execute(make_context(task_id="m")))

    clean = collect(exclude_schemas=["tmp_*"])
    assert clean["scope"] == {"database": "shop", "schemas": None, "exclude_schemas": ["tmp_*"]}
    assert clean["complete"] is True
    db = sqlite3.connect(path)  # a stale view (its table dropped): skipped as unreadable_object
    db.executescript("CREATE TABLE gone (x INT); CREATE VIEW stale AS SELECT x FROM gone; DROP TABLE gone;")
    db.close()
    skipped = collect()
    assert skipped["stats"]["skipped"] == {"unreadable_object": 1} and skipped["complete"] is False


def test_dropped_tables_small_scope_below_the_floor_is_cleaned_up_without_force(mc_conn, monkeypatch):
    """The cap's floor: 1 of 5 tables is 20%, over the default cleanup_max_fraction=0.1, yet
    deleted (cleanup_min_tables=10); a scope that reads empty is refused whatever its size."""
    clock = Clock(monkeypatch, T0)
    run(["a", "b", "c", "d", "e"], 0, clock=clock, cleanup_max_fraction=0.1)
    entry = scope_entry(run(["a", "b", "c", "d"], 1, clock=clock, cleanup_max_fraction=0.1))
    assert entry["status"] == "deleted" and entry["dropped"] == ["ANALYTICS:PUBLIC.e"] and entry["over_cap"] is False
    assert not known("e") and known("d")
    with pytest.raises(MonteCarloCleanupRefusedError, match="reads empty now"):
        run([], 2, clock=clock, cleanup_max_fraction=0.1)
    assert all(known(t) for t in "abcd")
    with pytest.raises(MonteCarloCleanupRefusedError, match="1 of 4 table"):  # no floor: the fraction alone
        run(["a", "b", "c"], 3, clock=clock, cleanup_max_fraction=0.1, cleanup_min_tables=0)
    assert known("d")


def test_dropped_tables_cap_floor_semantics():
    """``cap_refusal`` on sizes no test pushes: 80% of 10,000 is refused, 10 of 10,000 is not over
    the fraction, 10 of 20 is under the floor, 11 of 20 is not."""
    from monte_carlo_push_provider.utils.push_cleanup import CleanupSettings, cap_refusal

    cap = CleanupSettings("delete", max_fraction=0.1, force=False, min_tables=10)
    assert "cleanup_max_fraction=0.1" in cap_refusal(10_000, 8_000, 2_000, cap)
    assert cap_refusal(10_000, 10, 9_990, cap) is None
    assert cap_refusal(20, 10, 10, cap) is None and cap_refusal(5, 1, 4, cap) is None
    assert cap_refusal(20, 11, 9, cap) is not None
    assert "reads empty" in cap_refusal(3, 3, 0, cap)
    assert cap_refusal(3, 3, 0, CleanupSettings("delete", 0.1, True, 10)) is None  # force lifts both
    assert cap_refusal(5, 1, 4, CleanupSettings("delete", 0.1, False, 0)) is not None


def test_dropped_tables_parameters_check_the_floor():
    from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
    from monte_carlo_push_provider.utils.errors import MonteCarloManifestError

    for bad in (-1, 2.5, True, "10"):
        with pytest.raises(MonteCarloManifestError, match="cleanup_min_tables must be a whole number >= 0"):
            MonteCarloPushOperator(task_id="p", manifests=[], cleanup_min_tables=bad)


def multi_database(tables_by_db, *, complete=True, skipped=None, scope_extra=None):
    events = [relational_asset(type="TABLE", name=n, database=db, schema="PUBLIC", row_count=1)
              for db, names in tables_by_db.items() for n in names]
    scopes = [{"database": db, "schemas": None, **(scope_extra or {})} for db in tables_by_db]
    return new_manifest("metadata", events, resource_type="snowflake", scope=scopes, complete=complete,
                        stats={"skipped": skipped or {}})


def test_dropped_tables_multi_database_manifest_is_cleaned_up_per_database_scope(mc_conn, monkeypatch):
    """One manifest, a list of scopes (one per database): each database is its own snapshot and
    its own cap; an emptied database is refused without touching the other's deletes."""
    clock = Clock(monkeypatch, T0)
    first = run(multi_database({"ANALYTICS": ["a", "b", "c"], "RAW": ["r1", "r2"]}), 0, clock=clock)
    assert sorted(e["scope"]["database"] for e in first["cleanup"]["scopes"]) == ["ANALYTICS", "RAW"]
    assert {e["status"] for e in first["cleanup"]["scopes"]} == {"recorded"}
    second = run(multi_database({"ANALYTICS": ["a", "b"], "RAW": ["r1", "r2"]}), 1, clock=clock)
    by_db = {e["scope"]["database"]: e for e in second["cleanup"]["scopes"]}
    assert by_db["ANALYTICS"]["status"] == "deleted" and by_db["ANALYTICS"]["dropped"] == ["ANALYTICS:PUBLIC.c"]
    assert by_db["RAW"]["status"] == "unchanged" and by_db["RAW"]["current_tables"] == 2
    assert by_db["ANALYTICS"]["scope_key"] != by_db["RAW"]["scope_key"]
    assert not known("c") and known("a")


def test_dropped_tables_multi_database_manifest_with_a_skip_compares_no_scope(mc_conn, monkeypatch):
    clock = Clock(monkeypatch, T0)
    run(multi_database({"ANALYTICS": ["a", "b"], "RAW": ["r1"]}), 0, clock=clock)
    result = run(multi_database({"ANALYTICS": ["a"], "RAW": ["r1"]}, complete=False, skipped={"bad_name": 1}), 1,
                 clock=clock)
    assert {e["status"] for e in result["cleanup"]["scopes"]} == {"not_complete"}
    assert known("b")


def test_dropped_tables_scope_options_are_part_of_the_scope(mc_conn, monkeypatch):
    """Another source (options) is another scope: its first push only records."""
    clock = Clock(monkeypatch, T0)
    first = scope_entry(run(["a", "b"], 0, clock=clock))
    other = scope_entry(run(manifest(["a"], scope={**SCOPE, "options": {"source": "account_usage"}}), 1, clock=clock))
    assert other["status"] == "recorded" and known("b")
    assert other["scope"]["options"] == {"source": "account_usage"} and other["scope_key"] != first["scope_key"]


def test_dropped_tables_scope_list_is_validated():
    from monte_carlo_push_provider.manifest import validate_manifest
    from monte_carlo_push_provider.utils.errors import MonteCarloManifestError

    good = multi_database({"ANALYTICS": ["a"], "RAW": ["r"]})
    assert validate_manifest(good)["scope"][1]["database"] == "RAW"
    bad = multi_database({"ANALYTICS": ["a"], "RAW": ["r"]})
    bad["scope"] = bad["scope"][:1]
    with pytest.raises(MonteCarloManifestError, match=r"events\[1\].metadata.database is 'RAW', outside scope.database 'ANALYTICS'"):
        validate_manifest(bad)
    twice = multi_database({"ANALYTICS": ["a"]})
    twice["scope"] = [{"database": "ANALYTICS"}, {"database": "analytics", "schemas": ["X"]}]
    with pytest.raises(MonteCarloManifestError, match=r"scope\[1\].database 'analytics' is declared twice"):
        validate_manifest(twice)
    empty = multi_database({"ANALYTICS": []})
    empty["scope"] = []
    with pytest.raises(MonteCarloManifestError, match="scope is an empty list"):
        validate_manifest(empty)
    with pytest.raises(MonteCarloManifestError, match=r"scope\[0\].options must be an object"):
        validate_manifest(multi_database({"ANALYTICS": ["a"]}, scope_extra={"options": "account_usage"}))
    with pytest.raises(MonteCarloManifestError, match=r"scope\[0\].schema is not a scope key"):
        validate_manifest(multi_database({"ANALYTICS": ["a"]}, scope_extra={"schema": ["x"]}))


def test_dropped_tables_redshift_table_dropped_between_two_hourly_pushes(
    mc_conn, redshift_catalog, monkeypatch, capfd
):
    """End to end through a warehouse stand-in: the Redshift collector (real RedshiftSQLHook and
    redshift_connector against PostgreSQL behind pgbouncer) reads a schema of 3 tables, the push
    records them; one is dropped in the warehouse; the next clock hour's push deletes it from the
    sandbox, and only it."""
    from monte_carlo_push_provider.operators.redshift import RedshiftMetadataCollectorOperator
    from tests.conftest import make_context

    rs = redshift_catalog.standin
    rs.use(monkeypatch)
    mc_conn.use("redshift")
    schema = "cleanup_e2e"  # its own schema, dropped again: other tests read every schema of dev
    rs.execute(f"CREATE SCHEMA {schema}; CREATE TABLE {schema}.orders (id int); "
               f"CREATE TABLE {schema}.customers (id int); CREATE TABLE {schema}.legacy (id int)")
    clock = Clock(monkeypatch, T0)

    def hourly(hour):
        clock.now = T0 + timedelta(hours=hour)
        op = RedshiftMetadataCollectorOperator(task_id="metadata", databases=["dev"], schemas=[schema])
        manifest = op.execute(make_context(task_id="metadata"))
        return push(manifest, cleanup="delete", push_bucket=timedelta(hours=1), context={"run_id": f"scheduled__{hour}"})

    def in_monte_carlo(table):
        hook = MonteCarloHook()
        data = hook.graphql(GET_TABLE_MCON, {"fullTableId": f"dev:{schema}.{table}", "dwId": hook.resource_uuid},
                            not_found_ok=True)
        return bool(data.get("getTable"))

    try:
        first = scope_entry(hourly(0))
        assert first["status"] == "recorded" and first["current_tables"] == 3
        assert first["scope"] == {"database": "dev", "schemas": [schema], "exclude_schemas": None,
                                  "options": {"external_tables": True}}
        rs.execute(f"DROP TABLE {schema}.legacy")
        second = scope_entry(hourly(1))
    finally:
        rs.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    assert second["status"] == "deleted" and second["dropped"] == [f"dev:{schema}.legacy"]
    assert second["deleted_count"] == 1 and second["over_cap"] is False  # 1 of 3: under the floor
    assert not in_monte_carlo("legacy") and in_monte_carlo("orders") and in_monte_carlo("customers")
    assert f"deleted dev:{schema}.legacy" in capfd.readouterr().out
