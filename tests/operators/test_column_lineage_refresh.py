"""Column-lineage keep-alive (issue 19, item 4), in process: the real operator and pycarlo client
push to the sandbox over HTTP; days pass by replacing the one clock the push reads
(``push_state.utcnow``). tests/reliability/test_column_lineage_refresh_faketime.py moves a whole
Airflow process across the same days with libfaketime."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from monte_carlo_push_provider.manifest import lineage_asset_ref, lineage_event, new_manifest
from monte_carlo_push_provider.utils import push_state
from monte_carlo_push_provider.utils.errors import MonteCarloManifestError, MonteCarloPushError
from monte_carlo_push_provider.utils.push_result import PushResult
from monte_carlo_sandbox import SANDBOX_WAREHOUSES
from tests.operators.test_push import push

LAKE = SANDBOX_WAREHOUSES["snowflake"]
DAY0 = datetime(2026, 11, 2, 9, 0, 40, tzinfo=timezone.utc)


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, now: datetime):
        self.now = now
        monkeypatch.setattr(push_state, "utcnow", lambda: self.now)

    def day(self, n: float) -> None:
        self.now = DAY0 + timedelta(days=n)


def column_edge(destination: str, source: str = "raw", column: str = "id") -> dict[str, Any]:
    src = lineage_asset_ref(name=source, database="D", schema="S", asset_id="src")
    dst = lineage_asset_ref(name=destination, database="D", schema="S", asset_id="dst")
    return lineage_event(dst, [src], {column: [("src", column)]})


def table_edge(destination: str, source: str = "raw") -> dict[str, Any]:
    src = lineage_asset_ref(name=source, database="D", schema="S", asset_id="src")
    return lineage_event(lineage_asset_ref(name=destination, database="D", schema="S", asset_id="dst"), [src])


def lineage(*events: dict[str, Any]) -> dict[str, Any]:
    return new_manifest("lineage", list(events), resource_type="snowflake")


def pushed_since(sandbox: Any, seen: int) -> list[tuple[str, str, str]]:
    """(destination, event type, invocation_id) of every lineage event after the first ``seen``."""
    return [(e["event"]["destination"]["name"], e["event_type"], e["invocation_id"])
            for e in sandbox.events("lineage")[seen:]]


def read_ledger(state_path: Any) -> dict[str, Any]:
    [path] = Path(state_path, "lineage_keepalive").rglob("snowflake.json.gz")
    return json.loads(gzip.decompress(path.read_bytes()))


def run(day: int, *events: dict[str, Any], **kw: Any) -> dict[str, Any]:
    kw.setdefault("skip_when_nothing_pushed", False)
    return push(lineage(*events), context={"run_id": f"scheduled__day{day}"}, **kw)


def test_column_lineage_refresh_before_expiry_then_let_go(mc_conn, monkeypatch, state_path, capfd):
    clock = Clock(monkeypatch, DAY0)
    keep = {"column_lineage_keep_alive": timedelta(days=20)}  # configurable; the default is 30 days
    day0 = run(0, column_edge("orders_clean"), table_edge("orders_copy"), **keep)
    assert day0["lineage_refresh"] == [{"resource_uuid": LAKE, "resource_type": "snowflake",
                                        "refreshed": 0, "let_go": 0, "ledger_edges": 1, "invocation_ids": []}]
    seen = len(mc_conn.events("lineage"))
    assert seen == 2

    # day 8: the query behind orders_clean did not run again; another one did
    clock.day(8)
    day8 = run(8, column_edge("customers_clean", source="raw_customers"), **keep)
    new = pushed_since(mc_conn, seen)
    assert sorted((d, t) for d, t, _ in new) == [("customers_clean", "COLUMN_LINEAGE"), ("orders_clean", "COLUMN_LINEAGE")]
    refresh_id = next(i for d, _, i in new if d == "orders_clean")
    [refresh_batch] = [b for b in day8["batches"] if b["flow"] == "column_lineage_refresh"]
    assert refresh_batch["invocation_id"] == refresh_id and refresh_batch["event_count"] == 1
    assert refresh_id not in day0["invocation_ids"]  # its own invocation_id, recorded everywhere
    assert day8["lineage_refresh"][0]["refreshed"] == 1
    assert day8["lineage_refresh"][0]["invocation_ids"] == [refresh_id]
    assert refresh_id in day8["invocation_ids"]
    assert f"column lineage refresh (snowflake {LAKE[:8]}…): re-pushed 1 edge(s)" in capfd.readouterr().out
    seen = len(mc_conn.events("lineage"))

    # day 9, an empty lineage window: everything was pushed within 7 days
    clock.day(9)
    day9 = run(9, **keep)
    assert pushed_since(mc_conn, seen) == [] and day9["batches"] == []
    assert day9["lineage_refresh"][0]["refreshed"] == 0

    # day 16: both are due again (last pushed day 8), the table-only edge never (it does not expire)
    clock.day(16)
    run(16, **keep)
    assert sorted(d for d, _, _ in pushed_since(mc_conn, seen)) == ["customers_clean", "orders_clean"]
    seen = len(mc_conn.events("lineage"))

    # day 29: orders_clean was last seen on day 0, customers_clean on day 8: 29 and 21 days > 20
    clock.day(29)
    capfd.readouterr()
    day29 = run(29, **keep)
    log = capfd.readouterr().out
    assert pushed_since(mc_conn, seen) == []
    assert day29["lineage_refresh"][0] == {**day29["lineage_refresh"][0], "refreshed": 0, "let_go": 2,
                                           "ledger_edges": 0}
    assert "let go 2 edge(s) not seen for more than 20 days" in log
    assert "D:S.customers_clean, D:S.orders_clean" in log
    ledger = read_ledger(state_path)
    assert ledger["edges"] == {}


def test_column_lineage_seen_again_is_not_refreshed_but_kept(mc_conn, monkeypatch, state_path):
    clock = Clock(monkeypatch, DAY0)
    run(0, column_edge("orders_clean"))
    for day in (3, 6):  # collected again: pushed with the normal lineage, so never due
        clock.day(day)
        result = run(day, column_edge("orders_clean"))
        assert [b["flow"] for b in result["batches"]] == [None]
    clock.day(12)  # last pushed day 6: six days ago
    assert run(12)["batches"] == []
    clock.day(13)
    result = run(13)
    assert [b["flow"] for b in result["batches"]] == ["column_lineage_refresh"]
    ledger = read_ledger(state_path)
    [entry] = ledger["edges"].values()
    assert (entry["first_seen"][:10], entry["last_seen"][:10], entry["last_pushed"][:10], entry["refreshes"]) == (
        "2026-11-02", "2026-11-08", "2026-11-15", 1)


def test_column_lineage_in_an_old_backfill_is_pushed_once_not_also_refreshed(mc_conn, monkeypatch):
    clock = Clock(monkeypatch, DAY0)
    run(0, column_edge("orders_clean"))
    clock.day(8)
    old = (DAY0 - timedelta(days=60), DAY0 - timedelta(days=59))
    backfill = push(new_manifest("lineage", [column_edge("orders_clean")], resource_type="snowflake", window=old),
                    context={"run_id": "backfill__old"})
    assert [(b["flow"], b["event_count"]) for b in backfill["batches"]] == [(None, 1)]
    assert [d for d, _, _ in pushed_since(mc_conn, 1)] == ["orders_clean"]


def test_column_lineage_refresh_retry_after_failed_batch_pushes_each_edge_once(mc_conn, monkeypatch):
    clock = Clock(monkeypatch, DAY0)
    edges = [column_edge(f"mart_{i:02d}_{'x' * 40}", source=f"raw_{i:02d}", column=f"c{i}") for i in range(40)]
    run(0, *edges)
    seen = len(mc_conn.events("lineage"))
    clock.day(8)
    # two refresh batches accepted, then the gateway fails (the count is of all accepted pushes)
    mc_conn.set_faults(fail_503_after=len(mc_conn.pushes()) + 2)
    with pytest.raises(MonteCarloPushError):
        push(lineage(), context={"run_id": "scheduled__day8", "try_number": 1}, max_raw_bytes=2_000,
             max_attempts=1)
    first = pushed_since(mc_conn, seen)
    assert len({i for _, _, i in first}) == 2 and 0 < len(first) < 40
    mc_conn.set_faults(fail_503_after=None)
    clock.now += timedelta(minutes=5)  # the retry, a few minutes later
    result = push(lineage(), context={"run_id": "scheduled__day8", "try_number": 2}, max_raw_bytes=2_000)
    refreshed = pushed_since(mc_conn, seen)
    names = [d for d, _, _ in refreshed]
    assert len(names) == 40 and len(set(names)) == 40  # every edge once: nothing twice, nothing lost
    resumed = [b for b in result["batches"] if b["resumed"]]
    assert len(resumed) == 2 and all(b["flow"] == "column_lineage_refresh" for b in result["batches"])
    assert sorted(result["lineage_refresh"][0]["invocation_ids"]) == sorted({i for _, _, i in refreshed})
    assert PushResult.from_dict(result).lineage_refresh == result["lineage_refresh"]


def test_column_lineage_keep_alive_off(mc_conn, monkeypatch, state_path):
    clock = Clock(monkeypatch, DAY0)
    run(0, column_edge("orders_clean"), column_lineage_keep_alive=0)
    clock.day(8)
    result = run(8, column_lineage_keep_alive=None)
    assert result["batches"] == [] and result["lineage_refresh"] == []
    assert not Path(state_path, "lineage_keepalive").exists()


def test_column_lineage_keep_alive_settings_are_checked():
    from monte_carlo_push_provider.operators.push import MonteCarloPushOperator

    with pytest.raises(MonteCarloManifestError, match="less than Monte Carlo's 10-day column-lineage expiry"):
        MonteCarloPushOperator(task_id="p", manifests=[], column_lineage_refresh_after=timedelta(days=10))
    with pytest.raises(MonteCarloManifestError, match="no edge would ever be refreshed"):
        MonteCarloPushOperator(task_id="p", manifests=[], column_lineage_keep_alive=timedelta(days=3))
    op = MonteCarloPushOperator(task_id="p", manifests=[], column_lineage_refresh_after=3 * 86400)
    assert op.column_lineage_refresh_after == timedelta(days=3)


def test_column_lineage_ledger_is_bounded_and_keys_are_stable(monkeypatch, tmp_path):
    """The ledger alone (no push): the key ignores order and local asset ids; past MAX_EDGES the
    longest-unseen edges are let go first; an unreadable ledger is kept aside, not fatal."""
    from monte_carlo_push_provider.utils import lineage_refresh
    from monte_carlo_push_provider.utils.lineage_refresh import KeepAliveLedger, edge_key, ledger_path

    a = lineage_asset_ref(name="a", database="D", schema="S", asset_id="x1")
    b = lineage_asset_ref(name="b", database="D", schema="S", asset_id="x2")
    dst = lineage_asset_ref(name="t", database="D", schema="S", asset_id="t")
    one = lineage_event(dst, [a, b], {"c": [("x1", "c")], "d": [("x2", "d")]})
    renamed = json.loads(json.dumps(one).replace('"x1"', '"q"'))
    renamed["fields"].reverse()
    renamed["sources"].reverse()
    assert edge_key(one) == edge_key(renamed)
    assert edge_key(one) != edge_key(lineage_event(dst, [a, b], {"c": [("x2", "c")], "d": [("x2", "d")]}))

    monkeypatch.setattr(lineage_refresh, "MAX_EDGES", 3)
    state = push_state.PushState(tmp_path)
    ledger = KeepAliveLedger(state, "uuid", "snowflake")
    for i in range(5):
        ledger.seen(f"k{i}", column_edge(f"t{i}"), DAY0 + timedelta(hours=i))
    expired, over_cap = ledger.let_go(DAY0 + timedelta(days=1), timedelta(days=30))
    assert expired == [] and sorted(g["destination"] for g in over_cap) == ["D:S.t0", "D:S.t1"]
    assert sorted(ledger.edges) == ["k2", "k3", "k4"]
    # an edge let go over the cap and pushed with this push's lineage is pushed, not taken back in
    ledger.pushed("k0", column_edge("t0"), DAY0 + timedelta(days=1), "inv", refresh=False)
    assert sorted(ledger.edges) == ["k2", "k3", "k4"]
    ledger.save()

    path = Path(ledger_path(state, "uuid", "snowflake").path)
    assert sorted(KeepAliveLedger(state, "uuid", "snowflake").edges) == ["k2", "k3", "k4"]  # read back
    path.write_bytes(path.read_bytes()[:30])  # a torn gzip stream
    assert KeepAliveLedger(state, "uuid", "snowflake").edges == {}
    path.write_text('{"edges": {')  # torn by hand, not even gzip
    assert KeepAliveLedger(state, "uuid", "snowflake").edges == {}
    # kept aside for a person (both tears within one second: the second replaces the first copy)
    assert {p.name.split("-")[0] for p in path.parent.iterdir()} == {"snowflake.json.gz.unreadable"}


def test_column_lineage_only_in_a_backfill_older_than_keep_alive_is_not_kept_alive(mc_conn, monkeypatch, state_path):
    clock = Clock(monkeypatch, DAY0)
    run(0, column_edge("orders_clean"))
    old = (DAY0 - timedelta(days=60), DAY0 - timedelta(days=59))
    backfill = push(new_manifest("lineage", [column_edge("legacy_mart", source="legacy_raw")], resource_type="snowflake",
                                 window=old), context={"run_id": "backfill__old"})
    assert [(b["flow"], b["event_count"]) for b in backfill["batches"]] == [(None, 1)]  # pushed
    assert [e["destination"] for e in read_ledger(state_path)["edges"].values()] == ["D:S.orders_clean"]
    clock.day(8)
    assert [d for d, _, _ in pushed_since(mc_conn, 2)] == []
    run(8)  # only orders_clean is refreshed: legacy_mart expires in Monte Carlo as documented
    assert [d for d, _, _ in pushed_since(mc_conn, 2)] == ["orders_clean"]


def test_hourly_pushes_refresh_before_expiry_and_rewrite_the_ledger_about_daily(mc_conn, monkeypatch, state_path):
    """An hourly lineage DAG: the edge collected in the first hours only is re-pushed by the first
    hourly push 7 days after its last push (day 7, not day 10); pushes that see the same edge
    again within a day leave the ledger file as it was."""
    clock = Clock(monkeypatch, DAY0)
    for hour in range(4):  # the query runs for the first four hours
        clock.now = DAY0 + timedelta(hours=hour)
        run(hour, column_edge("orders_clean"))
        path = next(Path(state_path, "lineage_keepalive").rglob("snowflake.json.gz"))
        if hour == 0:
            written = (path.stat().st_mtime_ns, path.read_bytes())
    assert (path.stat().st_mtime_ns, path.read_bytes()) == written  # hours 1-3 changed nothing worth a rewrite
    seen = len(mc_conn.events("lineage"))
    assert seen == 4
    [entry] = read_ledger(state_path)["edges"].values()
    assert entry["last_pushed"].startswith("2026-11-02T09:00")
    clock.now = DAY0 + timedelta(days=6, hours=23)  # recorded push 6 d 23 h ago: not due yet
    assert run(100)["batches"] == []
    clock.now = DAY0 + timedelta(days=7)
    result = run(101)
    assert [b["flow"] for b in result["batches"]] == ["column_lineage_refresh"]
    assert [d for d, _, _ in pushed_since(mc_conn, seen)] == ["orders_clean"]
    clock.now += timedelta(hours=1)  # the next hour: refreshed an hour ago, nothing again
    assert run(102)["batches"] == []


def test_refresh_goes_out_when_the_metadata_of_the_same_push_is_cadence_skipped(mc_conn, monkeypatch, capfd):
    """A metadata + lineage push on day 8 whose metadata another run already pushed this clock
    hour: the metadata unit is skipped, the due refresh is still pushed and the task is not
    skipped (something was pushed), with the refresh's invocation_id in the log."""
    from tests.operators.test_push import metadata_manifest

    clock = Clock(monkeypatch, DAY0)
    run(0, column_edge("orders_clean"))
    clock.day(8)
    hourly = {"push_bucket": timedelta(hours=1)}
    push(metadata_manifest(2), context={"run_id": "scheduled__day8"}, **hourly)
    seen = len(mc_conn.events("lineage"))
    capfd.readouterr()
    clock.now += timedelta(minutes=10)
    manual = push([metadata_manifest(2), lineage()], context={"run_id": "manual__day8"}, **hourly)  # default: skip when nothing
    assert [s["code"] for s in manual["skipped"]] == ["hourly_bucket"] and manual["status"] == "success"
    [refresh] = [b for b in manual["batches"] if b["flow"] == "column_lineage_refresh"]
    assert [(d, i) for d, _, i in pushed_since(mc_conn, seen)] == [("orders_clean", refresh["invocation_id"])]
    assert f"invocation_ids: {refresh['invocation_id']}" in capfd.readouterr().out


def test_two_runs_on_the_same_day_refresh_once_and_never_read_the_ledger_while_the_other_holds_it(
    mc_conn, monkeypatch, state_path
):
    """Two runs pushing lineage of the same resource on day 8 (a scheduled and a manual one):
    while one holds the resource's lineage lease the other waits and fails to be retried without
    sending anything; after it, the other finds the edge freshly refreshed: one refresh in all."""
    from monte_carlo_push_provider.utils.push_state import MonteCarloLeaseBusyError

    clock = Clock(monkeypatch, DAY0)
    run(0, column_edge("orders_clean"))
    seen = len(mc_conn.events("lineage"))
    clock.day(8)
    other = push_state.PushState(state_path).resource_lease(LAKE, "lineage", {"run_id": "scheduled__day8"}, 600)
    other.acquire(0)
    before = read_ledger(state_path)
    with pytest.raises(MonteCarloLeaseBusyError):
        push(lineage(), context={"run_id": "manual__day8"}, lease_wait_s=0.5, skip_when_nothing_pushed=False)
    assert pushed_since(mc_conn, seen) == [] and read_ledger(state_path) == before
    other.release()
    first = run(8)
    second = push(lineage(), context={"run_id": "manual__day8b"}, skip_when_nothing_pushed=False)
    assert [b["flow"] for b in first["batches"]] == ["column_lineage_refresh"] and second["batches"] == []
    assert [d for d, _, _ in pushed_since(mc_conn, seen)] == ["orders_clean"]


def test_rerun_of_an_already_pushed_window_refreshes_the_due_edges_it_did_not_send(mc_conn, monkeypatch):
    """Day 8, a re-run of day 0's logical date: its lineage window was pushed on day 0, so its
    events are not sent again; the edge among them that is due is refreshed by this push instead
    of waiting for the next one."""
    clock = Clock(monkeypatch, DAY0)
    window = (DAY0 - timedelta(hours=1), DAY0)
    day0 = new_manifest("lineage", [column_edge("orders_clean")], resource_type="snowflake", window=window)
    push(day0, context={"run_id": "scheduled__day0"})
    seen = len(mc_conn.events("lineage"))
    clock.day(8)
    rerun = push(day0, context={"run_id": "manual__rerun_day0"})
    assert [s["code"] for s in rerun["skipped"]] == ["already_pushed"]
    assert [b["flow"] for b in rerun["batches"]] == ["column_lineage_refresh"]
    assert [d for d, _, _ in pushed_since(mc_conn, seen)] == ["orders_clean"]
