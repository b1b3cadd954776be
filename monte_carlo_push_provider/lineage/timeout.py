"""A wall-clock cap on pure-Python work (parsing and resolving one statement).

Why not SIGALRM: it only works on the main thread, and the caller (Airflow's task runner, a test
harness, the corpus scorer) may already own the process's one ITIMER_REAL. Instead one daemon
watchdog thread keeps the deadlines of guarded calls and, when one passes, raises
:class:`ParseTimeout` *inside* the guarded thread with ``PyThreadState_SetAsyncExc``. sqlglot is
pure Python, so the exception lands at the next bytecode boundary, on any thread. A pending
exception that would fire after the guarded call already ended is cleared on exit, so it can
never escape into unrelated code.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class ParseTimeout(BaseException):  # noqa: N818 - BaseException so library `except Exception` can't swallow it
    """Raised inside a guarded call when its deadline passes."""


# Two prototypes of the same C function: one passes an exception class, one passes NULL
# ("clear the pending exception"); a py_object argument cannot be NULL.
_PROTO_SET = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)
_PROTO_CLEAR = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)
_set_async_exc = _PROTO_SET(("PyThreadState_SetAsyncExc", ctypes.pythonapi))
_clear_async_exc = _PROTO_CLEAR(("PyThreadState_SetAsyncExc", ctypes.pythonapi))


class _Watchdog:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._live: dict[int, list] = {}  # token -> [thread_id, fired]
        self._counter = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> int:
        import time

        token = next(self._counter)
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="lineage-parse-watchdog", daemon=True)
                self._thread.start()
            self._live[token] = [threading.get_ident(), False]
            heapq.heappush(self._heap, (time.monotonic() + seconds, token))
            self._cond.notify()
        return token

    def disarm(self, token: int) -> bool:
        """Stop guarding; True when the deadline fired (any still-pending exception is cleared)."""
        with self._cond:
            thread_id, fired = self._live.pop(token, (0, False))
            if fired:
                _clear_async_exc(thread_id, None)  # NULL: drop the exception if not raised yet
        return fired

    def forget(self, token: int) -> None:
        with self._cond:
            self._live.pop(token, None)

    def _run(self) -> None:
        import time

        with self._cond:
            while True:
                while self._heap and self._heap[0][1] not in self._live:
                    heapq.heappop(self._heap)  # finished in time
                if not self._heap:
                    self._cond.wait()
                    continue
                deadline, token = self._heap[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
                entry = self._live[token]
                entry[1] = True
                _set_async_exc(entry[0], ParseTimeout)


_WATCHDOG = _Watchdog()


def call_with_timeout(fn: Callable[[], T], seconds: float | None) -> T:
    """Run ``fn()``; raise :class:`ParseTimeout` if it runs longer than ``seconds`` (None/0: no cap)."""
    if not seconds or seconds <= 0:
        return fn()
    token = _WATCHDOG.arm(seconds)
    try:
        try:
            result = fn()
        finally:
            fired = _WATCHDOG.disarm(token)
    except ParseTimeout:
        # The injected exception may surface inside disarm() itself; make sure the token is gone.
        _WATCHDOG.forget(token)
        raise
    if fired:
        # The deadline passed just as fn() finished (the pending exception was cleared): report it.
        raise ParseTimeout()
    return result
