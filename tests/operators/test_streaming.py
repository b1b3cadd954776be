"""A query-log window in manifest parts and in mapped sub-windows.

Real parts: the Redshift stand-in through the real RedshiftSQLHook / redshift_connector (server-
side cursor), ``airflow dags test`` in its own process with the common-io object-storage XCom
backend (one object per part), the sandbox counting what arrived. Memory is measured by
``benchmarks/query_log_streaming.py``, not here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from monte_carlo_push_provider.manifest import validate_manifest
from monte_carlo_push_provider.manifest_parts import PartWriter, is_parts_index, parse_window_part, sub_window
from monte_carlo_push_provider.utils.errors import MonteCarloManifestError
from monte_carlo_push_provider.utils.push_plan import iter_manifests
from tests.standins.redshift import RedshiftStandIn

UTC = timezone.utc
DAGS = Path(__file__).resolve().parents[1] / "dags"
XCOM_BACKEND = "airflow.providers.common.io.xcom.backend.XComObjectStorageBackend"
WINDOW = (datetime(2026, 3, 1, 10, 0, tzinfo=UTC), datetime(2026, 3, 1, 11, 0, tzinfo=UTC))


# -- sub-windows ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3, 7, 12, 1000])
@pytest.mark.parametrize("length", [timedelta(hours=1), timedelta(minutes=59, seconds=59, microseconds=7)])
def test_sub_windows_tile_the_window_with_no_gap_and_no_overlap(n: int, length: timedelta) -> None:
    start = datetime(2026, 3, 1, 9, 50, tzinfo=UTC)
    end = start + length
    parts = [sub_window(start, end, (i, n)) for i in range(n)]
    assert parts[0][0] == start and parts[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))
    assert all(s < e for s, e in parts)
    # every microsecond instant of the window falls in exactly one [s, e)
    probes = [start + length * k / 97 for k in range(97)] + [e - timedelta(microseconds=1) for _, e in parts]
    for t in probes:
        assert sum(s <= t < e for s, e in parts) == 1, t


def test_window_part_spellings_and_refusals() -> None:
    assert parse_window_part((3, 12)) == parse_window_part([3, 12]) == parse_window_part("3/12") == (3, 12)
    assert parse_window_part(None) is None
    for bad in [(12, 12), (-1, 4), (0, 0), "x/2", (1, 2, 3)]:
        with pytest.raises(ValueError, match="window_part"):
            parse_window_part(bad)
    from monte_carlo_push_provider.operators.redshift import RedshiftQueryLogCollectorOperator

    with pytest.raises(ValueError, match="window_part"):
        RedshiftQueryLogCollectorOperator(task_id="q", window_part=(4, 4))
    with pytest.raises(ValueError, match="max_events_per_manifest"):
        RedshiftQueryLogCollectorOperator(task_id="q", max_events_per_manifest=0)


# -- parts ---------------------------------------------------------------------------------------


def _events(n: int) -> list[dict[str, Any]]:
    at = "2026-03-01T10:00:00Z"
    return [{"start_time": at, "end_time": at, "query_text": f"SELECT {i}", "query_id": str(i)} for i in range(n)]


def _writer(store: dict[str, Any], **limits: Any) -> PartWriter:
    return PartWriter(
        kind="query_logs", header={"log_type": "redshift", "resource_uuid": None, "window": WINDOW},
        push=store.__setitem__, stats=lambda: {"rows": 1}, **limits,
    )


def test_a_small_collection_is_one_ordinary_manifest() -> None:
    store: dict[str, Any] = {}
    manifest = _writer(store, max_events=10).write(iter(_events(10)))
    assert store == {} and not is_parts_index(manifest) and "part" not in manifest
    assert len(validate_manifest(manifest)["events"]) == 10


def test_a_big_collection_is_cut_by_count_and_by_bytes_and_each_part_is_a_manifest() -> None:
    store: dict[str, Any] = {}
    index = _writer(store, max_events=10).write(iter(_events(25)))
    assert index["manifest_parts"] == ["manifest_part_0", "manifest_part_1", "manifest_part_2"] == list(store)
    assert [len(store[k]["events"]) for k in index["manifest_parts"]] == [10, 10, 5]
    assert index["events"] == 25 and index["window"] == {"start": "2026-03-01T10:00:00Z", "end": "2026-03-01T11:00:00Z"}
    for i, key in enumerate(index["manifest_parts"]):
        part = validate_manifest(store[key])
        assert part["part"] == {"index": i} and part["window"] == index["window"] and part["log_type"] == "redshift"
    store.clear()
    by_bytes = _writer(store, max_events=1000, max_bytes=2048).write(iter(_events(100)))
    sizes = [sum(len(json.dumps(e, separators=(",", ":"))) for e in store[k]["events"]) for k in by_bytes["manifest_parts"]]
    assert len(sizes) > 3 and max(sizes) <= 2048
    assert sum(len(store[k]["events"]) for k in by_bytes["manifest_parts"]) == 100


def test_the_push_reads_an_index_part_by_part_and_names_a_missing_part() -> None:
    store: dict[str, Any] = {}
    index = _writer(store, max_events=4).write(iter(_events(10)))
    index.update(task_id="collect", map_index=2, run_id="r", dag_id="d")
    pulled: list[str] = []

    def pull(idx: Any, key: str) -> Any:
        pulled.append(key)
        return store.get(key)

    manifests = list(iter_manifests([index, {"manifest_version": 1}], pull))
    assert [len(m.get("events", [])) for m in manifests] == [4, 4, 2, 0]
    assert pulled == ["manifest_part_0", "manifest_part_1", "manifest_part_2"]
    del store["manifest_part_1"]
    with pytest.raises(MonteCarloManifestError, match=r"manifest part manifest_part_1 of task collect\[2\].*missing"):
        list(iter_manifests(index, pull))
    with pytest.raises(MonteCarloManifestError, match="only a running Airflow task can read"):
        list(iter_manifests(index))


# -- real DAG runs -------------------------------------------------------------------------------


def _dags_test(dag_id: str, logical_date: str, tmp_path: Path, part_events: int) -> str:
    xcom_dir = tmp_path / "xcom"
    xcom_dir.mkdir(exist_ok=True)
    env = dict(
        os.environ,
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__XCOM_BACKEND=XCOM_BACKEND,
        AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_PATH=f"file://{xcom_dir}",
        AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_THRESHOLD="0",
        AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_COMPRESSION="gzip",
        MCPP_TEST_PART_EVENTS=str(part_events),
    )
    run = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", dag_id, logical_date],
                         capture_output=True, text=True, env=env, timeout=600)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-6000:]
    return log


def _seed(rs: RedshiftStandIn, count: int) -> None:
    rs.reset_logs()
    # inside the window, spread by end time; plus one just before and one at the end (excluded)
    rs.log_many_queries(count, start=datetime(2026, 3, 1, 10, 0), end=datetime(2026, 3, 1, 11, 0), shapes=7)
    rs.log_query("SELECT 'before'", query_id=1, start=datetime(2026, 3, 1, 9, 59, 58), seconds=1.999)
    rs.log_query("SELECT 'at the end'", query_id=2, start=datetime(2026, 3, 1, 10, 59, 59), seconds=1)


def test_a_window_in_parts_is_pushed_exactly_once_and_a_rerun_pushes_nothing(
    redshift: RedshiftStandIn, mc_conn: Any, airflow_db: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    _seed(redshift, 1000)
    redshift.use(monkeypatch)
    mc_conn.use("redshift")
    log = _dags_test("redshift_parts_test", "2026-03-01T11:00:00+00:00", tmp_path, part_events=150)
    # 1,000 queries in parts of 150: 7 parts, each its own object in the XCom store
    assert len(re.findall(r"manifest part \d+ written: ", log)) == 7
    assert re.search(r"collected 1,000 query_logs event\(s\) in 7 manifest parts", log)
    assert len([p for p in (tmp_path / "xcom").rglob("*") if p.is_file()]) >= 7
    ids = Counter(e["event"]["query_id"] for e in mc_conn.events("query_logs"))
    assert len(ids) == 1000 and set(ids.values()) == {1}
    assert "1" not in ids and "2" not in ids  # the window is [10:00, 11:00) by end time
    destinations = sorted(e["event"]["destination"]["name"] for e in mc_conn.events("lineage"))
    assert destinations == [f"t_{k}" for k in range(7)]
    pushes = len(mc_conn.pushes("query_logs"))

    # Another run (another logical date) over the same explicit window: nothing pushed twice.
    log = _dags_test("redshift_parts_test", "2026-03-01T12:00:00+00:00", tmp_path, part_events=150)
    assert len(mc_conn.pushes("query_logs")) == pushes
    assert len(mc_conn.events("query_logs")) == 1000
    assert re.search(r"1,000 of 1,000 query-log entries \(same query_id\) were already pushed", log)


def test_mapped_sub_windows_push_every_query_once(
    redshift: RedshiftStandIn, mc_conn: Any, airflow_db: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    _seed(redshift, 1000)
    redshift.use(monkeypatch)
    mc_conn.use("redshift")
    log = _dags_test("redshift_subwindows_test", "2026-03-01T11:00:00+00:00", tmp_path, part_events=100)
    windows = re.findall(r"window \[(\S+), (\S+)\): sub-window (\d) of 4", log)
    assert sorted(int(w[2]) for w in windows) == [0, 1, 2, 3]
    # 250 queries per sub-window in parts of 100: 3 parts each
    assert len(re.findall(r"manifest part \d+ written: ", log)) == 12
    ids = Counter(e["event"]["query_id"] for e in mc_conn.events("query_logs"))
    assert len(ids) == 1000 and set(ids.values()) == {1}


# -- the pushed ledger at a million queries an hour ------------------------------------------------


def test_the_ledger_reads_the_slots_of_the_window_and_still_honours_day_records(tmp_path: Path) -> None:
    from monte_carlo_push_provider.utils.push_plan import Ownership, PushedLedger
    from monte_carlo_push_provider.utils.push_state import PushState, ledger_slot, pushed_key, record_pushed

    state = PushState(tmp_path)

    def entry(query_id: str, start: str, end: str) -> dict[str, Any]:
        return {"start_time": start, "end_time": end, "query_text": "SELECT 1", "query_id": query_id}

    legacy = entry("legacy", "2026-03-01T10:00:00Z", "2026-03-01T10:00:01Z")
    slotted = entry("slotted", "2026-03-01T10:05:30Z", "2026-03-01T10:09:00Z")
    late = entry("late", "2026-03-01T23:02:00Z", "2026-03-01T23:03:00Z")
    fresh = entry("fresh", "2026-03-01T10:06:00Z", "2026-03-01T10:07:00Z")
    assert ledger_slot(slotted["start_time"]) == "2026-03-01/1005"
    other = {"owner": {"dag_id": "d", "run_id": "earlier", "task_id": "push", "map_index": -1}, "round": 1}
    record_pushed(state, "uuid", "query_logs", "redshift", "2026-03-01",  # as versions before slots filed it
                  {**other, "invocation_id": "inv-old", "keys": [pushed_key(legacy)]})
    for e, inv in ((slotted, "inv-1"), (late, "inv-2")):
        record_pushed(state, "uuid", "query_logs", "redshift", ledger_slot(e["start_time"]),
                      {**other, "invocation_id": inv, "keys": [pushed_key(e)]})
    ledger = PushedLedger(state, Ownership({"dag_id": "d", "run_id": "now", "task_id": "push", "map_index": -1}, 1))
    blocked = {e["query_id"]: ledger.query_log_block("uuid", "redshift", e)[1] for e in (legacy, slotted, fresh)}
    assert blocked == {"legacy": "d/earlier/push", "slotted": "d/earlier/push", "fresh": None}
    # the 23:00 slot of the same day was never read: a window's push loads its own slots only
    assert ledger.loaded_keys() == 2


def test_ledger_keys_are_found_among_many_and_unknown_ones_are_not() -> None:
    from monte_carlo_push_provider.utils.push_plan import FolderKeys
    from monte_carlo_push_provider.utils.push_state import pushed_key

    keys = [pushed_key({"query_id": str(i)}) for i in range(20_000)]
    records = [{"invocation_id": f"inv-{j}", "keys": keys[j::4]} for j in range(4)]
    folder = FolderKeys(records + [{"invocation_id": "odd", "keys": ["not-a-hex-key"]}])
    assert len(folder) == 20_001 and "keys" not in folder.records[0]
    assert all(folder.get(k)["invocation_id"] == f"inv-{i % 4}" for i, k in enumerate(keys))  # type: ignore[index]
    assert folder.get("not-a-hex-key")["invocation_id"] == "odd"  # type: ignore[index]
    assert folder.get(pushed_key({"query_id": "20000"})) is None
    # same 64 high bits, other low 16 bits: not a match
    near = f"{(int(keys[0], 16) ^ 1):020x}"
    assert folder.get(near) is None


def test_offset_runs_behave_as_a_set() -> None:
    import random

    from monte_carlo_push_provider.utils.push_plan import OffsetRuns

    runs, reference = OffsetRuns(), set()
    for offset in [*range(0, 1000), *range(2000, 2500), 5000]:  # pass 1: increasing
        runs.add(offset)
        reference.add(offset)
    rng = random.Random(7)
    for offset in rng.sample(range(6000), 300):  # and any order
        runs.add(offset)
        reference.add(offset)
    assert len(runs) == len(reference) and len(runs.starts) < 400
    assert all((n in runs) == (n in reference) for n in range(-5, 6100))
