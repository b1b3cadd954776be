"""Bounding the work one statement may cost: size caps plus a cooperative deadline.

No signal and no thread injection. SIGALRM only works on the main thread and the process's one
ITIMER_REAL may belong to the caller (Airflow's task runner, the corpus scorer); injecting an
exception into a thread (``PyThreadState_SetAsyncExc``) can land inside any library's cleanup code,
which a provider running inside someone else's worker must not risk. Instead:

* **Size caps** bound the input before any work: characters (checked on the raw text) and tokens
  (checked after tokenising, which is linear and cheap), plus sqlglot's own ``max_nodes`` limit on
  the tree the parser builds.
* **A cooperative deadline** (:class:`Deadline`) is checked by the parser every 256 tokens it
  advances (:func:`deadline_parser`) and by the engine between the phases of analysis, so an
  over-long statement stops at the next check and raises :class:`ParseTimeout`. The overrun is
  bounded by the longest single sqlglot optimizer call on a statement within the caps.

For a hard wall-clock bound whatever sqlglot does, the batch can parse in killable worker
processes (:mod:`.pool`), where an overrunning worker is terminated and replaced.
"""

from __future__ import annotations

import functools
import time
from typing import Any

# Every so many parser steps the clock is read (a monotonic() call costs ~50 ns; a parser step
# a few microseconds, so the check is noise).
_CHECK_EVERY = 256


class ParseTimeout(BaseException):  # noqa: N818 - BaseException so library `except Exception` can't swallow it
    """Raised by :meth:`Deadline.check` once the deadline has passed."""


class Deadline:
    """A point in (monotonic) time after which :meth:`check` raises :class:`ParseTimeout`."""

    __slots__ = ("_at", "seconds")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds if seconds and seconds > 0 else None
        self._at = time.monotonic() + self.seconds if self.seconds else None

    def check(self) -> None:
        if self._at is not None and time.monotonic() > self._at:
            raise ParseTimeout()


NO_DEADLINE = Deadline(None)


def deadline_parser(parser_class: type, deadline: Deadline, **options: Any) -> Any:
    """An instance of ``parser_class`` (a dialect's sqlglot parser) that honours ``deadline``."""
    if deadline.seconds is None:
        return parser_class(**options)
    parser = _checking_subclass(parser_class)(**options)
    parser._mc_deadline = deadline
    return parser


@functools.cache
def _checking_subclass(parser_class: type) -> type:
    class CheckingParser(parser_class):  # type: ignore[valid-type, misc]
        _mc_deadline: Deadline = NO_DEADLINE
        _mc_steps = 0

        def _advance(self, times: int = 1) -> None:
            self._mc_steps += 1
            if not self._mc_steps % _CHECK_EVERY:
                self._mc_deadline.check()
            super()._advance(times)

    CheckingParser.__name__ = CheckingParser.__qualname__ = f"Deadline{parser_class.__name__}"
    return CheckingParser
