"""HiveServer2 log parsing against files written in Hive's real log4j2 layouts.

Layouts (HiveServer2's ``hive-log4j2.properties``):
- Apache default ``%d{ISO8601} %5p [%t] %c{2}: %m%n``
  -> ``2026-11-25T10:00:01,123  INFO [HiveServer2-Background-Pool: Thread-42] ql.Driver: …``
- HDP/Ambari ``%d{ISO8601} %-5p [%t]: %c{2} (%F:%M(%L)) - %m%n``
  -> ``2026-11-25T10:00:01,123 INFO  [HiveServer2-Background-Pool: Thread-42]: ql.Driver (:()) - …``
Rotation: daily ``hive.log.%d{yyyy-MM-dd}`` (Apache default) and numbered ``.N.gz``.
"""

from __future__ import annotations

import gzip
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from monte_carlo_push_provider.collectors import hive_logs
from monte_carlo_push_provider.collectors.hive_logs import iter_log_queries, list_log_files, query_log_event
from monte_carlo_push_provider.manifest import new_manifest, validate_manifest

UTC = timezone.utc
W0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
W1 = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
BG = "HiveServer2-Background-Pool: Thread-42"


def apache(ts: str, msg: str, level: str = "INFO", thread: str = BG, logger: str = "ql.Driver") -> str:
    return f"{ts} {level:>5} [{thread}] {logger}: {msg}\n"


def hdp(ts: str, msg: str, level: str = "INFO", thread: str = BG) -> str:
    return f"{ts} {level:<5} [{thread}]: ql.Driver (:()) - {msg}\n"


def executing(qid: str, sql: str) -> str:
    return f"Executing command(queryId={qid}): {sql}"


def completed(qid: str, seconds: str = "1.0") -> str:
    return f"Completed executing command(queryId={qid}); Time taken: {seconds} seconds"


def storage(path: Path):
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(f"file://{path}")


def parse(path: Path, start=W0, end=W1, zone="UTC"):
    stats = hive_logs.ParseStats()
    files = list_log_files(storage(path), window=(start, end), zone=hive_logs._zone(zone), stats=stats)
    return list(iter_log_queries(files, start=start, end=end, zone=zone, stats=stats)), stats


def test_multiline_statement_with_completion_and_failure(tmp_path):
    (tmp_path / "hive.log").write_text(
        apache("2026-11-25T10:00:00,500", "Compiling command(queryId=hive_1): INSERT INTO sales.daily")
        + apache("2026-11-25T10:00:01,123", executing("hive_1", "INSERT INTO sales.daily"))
        + "SELECT customer, SUM(amount)\n"
        + "FROM sales.orders\n"
        + "GROUP BY customer\n"
        + apache("2026-11-25T10:00:01,200", "Starting task [Stage-0:MAPRED] in serial mode", logger="ql.Driver")
        + apache("2026-11-25T10:00:04,456", completed("hive_1", "3.333"))
        + apache("2026-11-25T10:05:00,000", executing("hive_2", "INSERT INTO sales.broken SELECT * FROM sales.nope"),
                 thread="HiveServer2-Background-Pool: Thread-43")
        + apache("2026-11-25T10:05:02,000", "FAILED: Execution Error, return code 2 from "
                 "org.apache.hadoop.hive.ql.exec.mr.MapRedTask", level="ERROR",
                 thread="HiveServer2-Background-Pool: Thread-43")
        + apache("2026-11-25T10:05:02,001", completed("hive_2"), thread="HiveServer2-Background-Pool: Thread-43")
    )
    queries, stats = parse(tmp_path)
    events = [query_log_event(q) for q in queries]
    assert events == [
        {
            "start_time": "2026-11-25T10:00:01.123000Z",
            "end_time": "2026-11-25T10:00:04.456000Z",
            "query_text": "INSERT INTO sales.daily\nSELECT customer, SUM(amount)\nFROM sales.orders\nGROUP BY customer",
            "query_id": "hive_1",
            "extra": {"thread": BG, "log_file": "hive.log", "completed": True},
        },
        {
            "start_time": "2026-11-25T10:05:00Z",
            "end_time": "2026-11-25T10:05:02.001000Z",
            "query_text": "INSERT INTO sales.broken SELECT * FROM sales.nope",
            "query_id": "hive_2",
            "error_code": 2,
            "error_text": "Execution Error, return code 2 from org.apache.hadoop.hive.ql.exec.mr.MapRedTask",
            "extra": {"thread": "HiveServer2-Background-Pool: Thread-43", "log_file": "hive.log", "completed": True},
        },
    ]
    assert [q.succeeded for q in queries] == [True, False]
    validate_manifest(new_manifest("query_logs", events, log_type="hive-s3"))
    assert stats.statements == 2 and stats.in_window == 2 and stats.malformed == 0


def test_hdp_layout_and_hive1_starting_command(tmp_path):
    (tmp_path / "hiveserver2.log").write_text(
        hdp("2026-11-25T10:10:00,001", executing("hive_a", "select origin, count(*) from air.delays group by origin"))
        + hdp("2026-11-25T10:10:09,000", completed("hive_a"))
        + apache("2026-11-25T10:20:00,000", "Starting command(queryId=hive_b): CREATE TABLE x AS SELECT 1 AS c")
    )
    queries, _ = parse(tmp_path)
    assert [(q.query_id, q.query_text, q.end_time) for q in queries] == [
        ("hive_a", "select origin, count(*) from air.delays group by origin", datetime(2026, 11, 25, 10, 10, 9, tzinfo=UTC)),
        ("hive_b", "CREATE TABLE x AS SELECT 1 AS c", None),  # never completed: end = start in the event
    ]
    assert query_log_event(queries[1])["end_time"] == "2026-11-25T10:20:00Z"


def test_only_the_window_and_rotated_gzipped_files_in_order(tmp_path):
    # daily rotation of the day before (outside the window), of the window's day, a numbered
    # gzip, and the live file; a statement that started in a rotated file completes in the live one
    (tmp_path / "hive.log.2026-11-20").write_text(apache("2026-11-20T10:30:00,000", executing("old", "SELECT 1")))
    (tmp_path / "hive.log.2026-11-25").write_text(
        apache("2026-11-25T09:59:59,999", executing("before", "SELECT 'before'"))
        + apache("2026-11-25T10:00:00,000", executing("edge_start", "SELECT 'at start'"))
    )
    with gzip.open(tmp_path / "hive.log.1.gz", "wt") as fh:
        fh.write(apache("2026-11-25T10:30:00,000", executing("gz", "INSERT INTO t1\nSELECT * FROM t0")))
    (tmp_path / "hive.log").write_text(
        apache("2026-11-25T10:30:05,000", completed("gz"))
        + apache("2026-11-25T10:59:59,999", executing("last", "SELECT 'last'"))
        + apache("2026-11-25T11:00:00,000", executing("edge_end", "SELECT 'at end'"))
    )
    old = datetime(2026, 11, 20, 12, tzinfo=UTC).timestamp()
    os.utime(tmp_path / "hive.log.2026-11-20", (old, old))
    queries, stats = parse(tmp_path)
    assert [(q.query_id, q.log_file) for q in queries] == [
        ("edge_start", "hive.log.2026-11-25"), ("gz", "hive.log.1.gz"), ("last", "hive.log"),
    ]
    assert queries[1].query_text == "INSERT INTO t1\nSELECT * FROM t0"
    assert queries[1].end_time == datetime(2026, 11, 25, 10, 30, 5, tzinfo=UTC)
    assert stats.skipped_files == ["hive.log.2026-11-20"] and stats.files == 3


def test_malformed_and_foreign_lines_are_skipped(tmp_path):
    (tmp_path / "hive.log").write_bytes(
        (
            apache("2026-11-25T10:00:01,000", "Executing command(queryId=): SELECT 'no id'")
            + apache("2026-11-25T10:00:02,000", executing("empty", ""))
            + apache("2026-11-25T10:00:02,100", "Error running hive query", level="ERROR", logger="operation.Operation")
            + "java.lang.RuntimeException: boom\n\tat org.apache.hive.Foo.bar(Foo.java:1)\n"
            + "2026-11-25T10:0\n"  # a line cut mid-stamp by a crash
            + apache("2026-13-45T10:00:03,000", executing("bad_stamp", "SELECT 1"))
            + apache("2026-11-25T10:00:04,000", executing("ok", "SELECT 'caf\u00e9'"))
        ).encode()
        + b"\xff\xfe broken bytes\n"
        + apache("2026-11-25T10:00:05,000", completed("ok")).encode()
    )
    queries, stats = parse(tmp_path)
    assert [(q.query_id, q.query_text) for q in queries] == [("ok", "SELECT 'caf\u00e9'\n\ufffd\ufffd broken bytes")]
    assert stats.malformed == 3  # no query id, no statement, impossible date


def test_statement_text_starting_on_the_next_line(tmp_path):
    # Clients often send text starting with a newline: the Executing line ends after "): ".
    (tmp_path / "hive.log").write_text(
        apache("2026-11-25T10:00:01,000", executing("nl", "")) + "  INSERT INTO t\n  SELECT * FROM s\n"
        + apache("2026-11-25T10:00:02,000", completed("nl"))
    )
    queries, stats = parse(tmp_path)
    assert [(q.query_id, q.query_text) for q in queries] == [("nl", "INSERT INTO t\n  SELECT * FROM s")]
    assert stats.malformed == 0


def test_log_timezone_is_converted_to_utc(tmp_path):
    # 11:30 in Berlin (UTC+1 in November) is 10:30 UTC: inside the 10:00-11:00 UTC window
    (tmp_path / "hive.log").write_text(
        apache("2026-11-25T11:30:00,250", executing("berlin", "SELECT 1"))
        + apache("2026-11-25T12:30:00,000", executing("late", "SELECT 2"))
    )
    queries, _ = parse(tmp_path, zone="Europe/Berlin")
    assert [(q.query_id, q.start_time) for q in queries] == [
        ("berlin", datetime(2026, 11, 25, 10, 30, 0, 250000, tzinfo=UTC))
    ]
    assert query_log_event(queries[0])["start_time"] == "2026-11-25T10:30:00.250000Z"


def test_truncated_gzip_keeps_readable_part(tmp_path):
    body = gzip.compress(
        (apache("2026-11-25T10:00:01,000", executing("kept", "SELECT 1")) + "x" * 50_000).encode()
    )
    (tmp_path / "hive.log.2.gz").write_bytes(body[: len(body) - 20])
    queries, _ = parse(tmp_path)
    assert [q.query_id for q in queries] == ["kept"]


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["hive.log", "hive.log.2026-11-24", "hive.log.2026-11-23.gz", "hive.log.2026-11-25"],
         ["hive.log.2026-11-23.gz", "hive.log.2026-11-24", "hive.log.2026-11-25", "hive.log"]),
        (["hive.log", "hive.log.1.gz", "hive.log.10.gz", "hive.log.2"],
         ["hive.log.10.gz", "hive.log.2", "hive.log.1.gz", "hive.log"]),
    ],
)
def test_rotation_order_is_oldest_first(names, expected):
    assert sorted(names, key=hive_logs._order_key) == expected



def _busy_server(directory: Path, *, long_running: bool) -> None:
    """200 statements 15 s apart from 10:00:15, each running 20 s (so each overlaps the next),
    in two rotated files; optionally one more that runs from 10:00:00 to 10:59:59."""
    directory.mkdir()
    lines = []
    for i in range(200):
        t0 = W0 + (i + 1) * hive_logs.timedelta(seconds=15)
        t1 = t0 + hive_logs.timedelta(seconds=20)
        lines.append(apache(t0.strftime("%Y-%m-%dT%H:%M:%S,000"), executing(f"q{i:03d}", f"SELECT {i}"),
                            thread=f"T-{i % 2}"))
        lines.append(apache(t1.strftime("%Y-%m-%dT%H:%M:%S,000"), completed(f"q{i:03d}"), thread=f"T-{i % 2}"))
    if long_running:
        lines.append(apache("2026-11-25T10:00:00,000", executing("long", "INSERT INTO a.t SELECT * FROM a.s"),
                            thread="T-long"))
        lines.append(apache("2026-11-25T10:59:59,000", completed("long"), thread="T-long"))
    lines.sort()  # the log's own order: by stamp
    (directory / "hive.log.1").write_text("".join(lines[:200]))
    (directory / "hive.log").write_text("".join(lines[200:]))


def _stream(root: Path) -> tuple[list[str], list[int], int]:
    """Query ids in the order handed on, the lines read when each was, and the lines in all."""
    stats = hive_logs.ParseStats()
    files = list_log_files(storage(root), window=(W0, W1), stats=stats)
    ids, read = [], []
    for q in iter_log_queries(files, start=W0, end=W1, stats=stats):
        ids.append(q.query_id)
        read.append(stats.lines)
    return ids, read, stats.lines


def test_statements_are_handed_on_in_start_order_while_the_log_is_read(tmp_path):
    _busy_server(tmp_path / "server-a", long_running=False)
    (tmp_path / "server-b").mkdir()
    (tmp_path / "server-b" / "hive.log").write_text(
        apache("2026-11-25T10:30:05,000", executing("b1", "SELECT 'b'")) + apache("2026-11-25T10:30:06,000", completed("b1"))
    )
    ids, read, total = _stream(tmp_path)
    expected = [f"q{i:03d}" for i in range(200)]
    expected.insert(expected.index("q119") + 1, "b1")  # q119 starts 10:30:00, b1 10:30:05, q120 10:30:15
    assert ids == expected  # one order across both servers' logs
    # streamed: the first statement came out with a fraction of the log read (it is held until
    # the log is REORDER_MARGIN past its start), not after the last file
    assert read[0] < total / 4
    assert read[100] < total


def test_an_open_statement_holds_back_the_ones_that_started_after_it(tmp_path):
    _busy_server(tmp_path / "server-a", long_running=True)
    ids, read, total = _stream(tmp_path)
    assert ids == ["long"] + [f"q{i:03d}" for i in range(200)]
    assert read[0] >= total - 1  # handed on at its Completed line, the log's last
