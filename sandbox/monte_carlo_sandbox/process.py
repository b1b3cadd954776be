"""One child process a test session started: start it with its output in a log file, wait until
it is ready, stop it by PID, show the log's tail when something goes wrong.

Shared by :class:`~monte_carlo_sandbox.testing.SandboxProcess` and the warehouse stand-ins of the
provider's tests, which all start servers the same way. Stdlib only, so importing it costs
nothing.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class ProcessError(RuntimeError):
    """A managed process exited early or did not get ready in time (the message has its log tail)."""


class ManagedProcess:
    """A subprocess whose stdout and stderr go to ``log_path``, stopped by its PID.

    ``error`` is the exception type raised on a failed start, so a caller keeps its own
    (``SandboxError``, ``BrickhouseError``...). Only the PID this object started is ever
    signalled: never a process group or a name.
    """

    def __init__(
        self,
        name: str,
        log_path: str | os.PathLike[str],
        *,
        stop_timeout_s: float = 5.0,
        tail_chars: int = 2000,
        error: type[Exception] = ProcessError,
    ) -> None:
        self.name = name
        self.log_path = Path(log_path)
        self.stop_timeout_s = stop_timeout_s
        self.tail_chars = tail_chars
        self.error = error
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, cmd: Sequence[str], **popen_kwargs: Any) -> ManagedProcess:
        """Start ``cmd`` (stdin closed, output appended to the log); ``popen_kwargs`` go to Popen
        (``env``, ``cwd``, ``start_new_session``...)."""
        if self._proc is not None:
            raise self.error(f"{self.name} already started")
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self._proc = subprocess.Popen(  # noqa: S603 - a command the caller built, no shell
                list(cmd), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **popen_kwargs
            )
        return self

    def wait_until(self, ready: Callable[[], T | None], *, timeout_s: float, poll_s: float = 0.05) -> T:
        """Poll ``ready()`` until it returns something truthy and return that; raise ``error``
        with the log tail if the process exits first or ``timeout_s`` passes (the process is
        left running then: the caller's ``stop()`` ends it)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = ready()
            if value:
                return value
            if self._proc is None or self._proc.poll() is not None:
                code = None if self._proc is None else self._proc.returncode
                raise self.error(f"{self.name} exited with {code}: {self.log_tail()}")
            time.sleep(poll_s)
        raise self.error(f"{self.name} not ready after {timeout_s:.0f} s: {self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Send ``sig`` (SIGTERM) to the PID, SIGKILL after ``stop_timeout_s``; returns the exit
        code (None if never started). Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            os.kill(proc.pid, sig)
            try:
                proc.wait(self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(self.stop_timeout_s)
        return proc.returncode

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-self.tail_chars :]
        except OSError:
            return "(no log)"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc else None


def accepts_connections(port: int, host: str = "127.0.0.1", timeout_s: float = 0.5) -> bool:
    """Whether a TCP connect to ``host:port`` succeeds now (a ``wait_until`` readiness check)."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False
