"""Parse distinct shapes in worker processes: more cores, and a wall-clock cap that always holds.

:func:`parse_shapes` hands one representative text per uncached shape to ``workers`` processes
and returns what each produced. A worker is a fresh interpreter running this module
(``python -m monte_carlo_push_provider.lineage.pool``) with two pipes, one statement in flight
at a time. Not ``multiprocessing``: ``fork`` would copy the Airflow task's threads and locks,
and ``spawn``/``forkserver`` re-import the parent's ``__main__`` (the Airflow CLI) in every
child. A worker still busy ``timeout_s`` plus
a grace period after it was given a statement is terminated and replaced, and that statement is
reported as timed out, so a statement that would hang inside a single sqlglot call cannot stall
the task. (Inside the worker the engine's own cooperative deadline normally stops it first.)

The workers see only the caller's schema, not the columns earlier statements of the batch
define; the batch re-checks those on use (:mod:`.shapes`) and re-parses the few shapes that
depend on them, so results are the same as in-process parsing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, cast

from .engine import LineageTimeoutError, QueryTooLargeError, UnparseableSQLError, analyze_statements
from .results import LineageResult

#: Below this many shapes to parse, starting processes costs more than it saves (a worker
#: starts in ~0.3 s; a shape parses in ~2-5 ms).
MIN_SHAPES_FOR_POOL = 200
#: How long past ``timeout_s`` a worker may stay busy before it is killed.
KILL_GRACE_S = 2.0

_ERRORS = {
    "QueryTooLargeError": QueryTooLargeError,
    "LineageTimeoutError": LineageTimeoutError,
    "UnparseableSQLError": UnparseableSQLError,
}


@dataclass(frozen=True)
class ShapeTask:
    text: str
    default_database: str | None
    default_schema: str | None


@dataclass
class ShapeOutcome:
    results: list[LineageResult] | None = None
    consulted: dict[str, Any] | None = None
    error: Exception | None = None


@dataclass
class PoolStats:
    workers: int = 0
    parsed: int = 0
    killed: int = 0


def parse_shapes(
    tasks: Sequence[ShapeTask],
    *,
    workers: int,
    dialect: str,
    schema: Mapping[str, Mapping[str, str]],
    timeout_s: float | None,
    max_tokens: int | None,
    kill_after_s: float | None = None,
) -> tuple[list[ShapeOutcome], PoolStats]:
    """One outcome per task, in task order.

    A worker busy for ``kill_after_s`` (default ``timeout_s`` + :data:`KILL_GRACE_S`) on one
    statement is killed and replaced; that statement's outcome is a :class:`LineageTimeoutError`.
    """
    stats = PoolStats(workers=min(workers, len(tasks)))
    outcomes: list[ShapeOutcome | None] = [None] * len(tasks)
    if not tasks:
        return [], stats
    settings = (dialect, {k: dict(v) for k, v in schema.items()}, timeout_s, max_tokens)
    idle: list[_Worker] = [_Worker(settings) for _ in range(stats.workers)]
    for worker in idle:
        worker.wait_ready()  # interpreter start and imports do not count against the cap
    busy: dict[Connection, _Worker] = {}
    pending = iter(range(len(tasks)))
    hard_limit = kill_after_s if kill_after_s is not None else (timeout_s or 60.0) + KILL_GRACE_S
    try:
        remaining = len(tasks)
        while remaining:
            while idle:
                index = next(pending, None)
                if index is None:
                    break
                worker = idle.pop()
                worker.send(index, tasks[index])
                busy[worker.conn] = worker
            if not busy:
                break
            now = time.monotonic()
            next_kill = min(w.started + hard_limit for w in busy.values())
            # wait() returns some of the objects it is given, here only Connections.
            ready = cast("list[Connection]", wait(list(busy), timeout=max(0.0, next_kill - now)))
            for conn in ready:
                worker = busy.pop(conn)
                try:
                    index, outcome = worker.receive()
                except (EOFError, OSError):
                    index, outcome = worker.index, ShapeOutcome(error=UnparseableSQLError("lineage worker died"))
                    worker.replace()
                outcomes[index] = outcome
                stats.parsed += outcome.results is not None
                remaining -= 1
                idle.append(worker)
            now = time.monotonic()
            for conn, worker in list(busy.items()):
                if now >= worker.started + hard_limit:
                    del busy[conn]
                    outcomes[worker.index] = ShapeOutcome(
                        error=LineageTimeoutError(f"lineage extraction ran over {hard_limit:.1f}s (worker killed)")
                    )
                    stats.killed += 1
                    remaining -= 1
                    worker.replace()
                    idle.append(worker)
    finally:
        for worker in [*idle, *busy.values()]:
            worker.stop()
    return [o or ShapeOutcome(error=UnparseableSQLError("not parsed")) for o in outcomes], stats


class _Worker:
    def __init__(self, settings: tuple) -> None:
        self._settings = settings
        self.index = -1
        self.started = 0.0
        self._start()

    def _start(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(to_child_r), str(from_child_w)],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            close_fds=True,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._to = Connection(to_child_w, readable=False)
        self.conn = Connection(from_child_r, writable=False)
        self._to.send(self._settings)

    def wait_ready(self) -> None:
        if not self.conn.poll(60):
            raise RuntimeError("lineage worker process did not start within 60s")
        self.conn.recv()  # "ready"

    def send(self, index: int, task: ShapeTask) -> None:
        self.index, self.started = index, time.monotonic()
        self._to.send((index, task))

    def receive(self) -> tuple[int, ShapeOutcome]:
        index, kind, payload = self.conn.recv()
        if kind == "ok":
            results, consulted = payload
            return index, ShapeOutcome(results=results, consulted=consulted)
        error_type, message = payload
        return index, ShapeOutcome(error=_ERRORS.get(error_type, UnparseableSQLError)(message))

    def replace(self) -> None:
        self.stop()
        self._start()
        self.wait_ready()

    def stop(self) -> None:
        for conn in (self._to, self.conn):
            try:
                conn.close()  # an idle worker exits on EOF
            except OSError:
                pass
        try:
            self.process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            self.process.kill()  # busy past the cap, or not exiting: by its PID
            self.process.wait(timeout=5)


def _serve(inbox: Connection, outbox: Connection) -> None:
    """Worker main loop: parse what arrives until the pipe closes."""
    from .shapes import RecordingSchema

    try:
        dialect, schema, timeout_s, max_tokens = inbox.recv()
        outbox.send("ready")
    except (EOFError, OSError):
        return
    while True:
        try:
            index, task = inbox.recv()
        except (EOFError, OSError):
            return
        lookup = RecordingSchema(schema, {})
        try:
            results = analyze_statements(
                task.text,
                dialect,
                task.default_database,
                task.default_schema,
                lookup,
                max_chars=None,
                timeout_s=timeout_s,
                max_tokens=max_tokens,
            )
            reply: tuple = (index, "ok", (results, lookup.consulted))
        except Exception as e:  # noqa: BLE001 - every failure goes back to the batch, typed
            reply = (index, "err", (type(e).__name__, str(e)[:500]))
        try:
            outbox.send(reply)
        except (EOFError, OSError):
            return


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
