"""ManagedProcess, the start / wait / stop-by-PID helper the sandbox and the stand-ins share,
on real child processes."""

from __future__ import annotations

import os
import signal
import sys

import pytest

from monte_carlo_sandbox.process import ManagedProcess, ProcessError, accepts_connections

PY = sys.executable


def test_waits_until_ready_and_stops_by_pid_with_sigterm(tmp_path):
    marker = tmp_path / "ready"
    code = f"import pathlib, time; print('hello', flush=True); pathlib.Path({str(marker)!r}).write_text('x'); time.sleep(60)"
    proc = ManagedProcess("sleeper", tmp_path / "log").start([PY, "-c", code])
    assert proc.wait_until(marker.exists, timeout_s=20) is True
    pid = proc.pid
    assert proc.running and pid is not None
    assert proc.stop() == -signal.SIGTERM
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert "hello" in proc.log_tail()
    assert proc.stop() is None and proc.pid is None  # a second stop is a no-op


def test_sigkill_after_the_bounded_wait_when_sigterm_is_ignored(tmp_path):
    marker = tmp_path / "ready"
    code = (
        "import pathlib, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(marker)!r}).write_text('x'); time.sleep(60)"
    )
    proc = ManagedProcess("stubborn", tmp_path / "log", stop_timeout_s=0.5).start([PY, "-c", code])
    proc.wait_until(marker.exists, timeout_s=20)
    assert proc.stop() == -signal.SIGKILL


def test_early_exit_raises_the_callers_error_with_the_log_tail(tmp_path):
    class StandInError(RuntimeError):
        pass

    proc = ManagedProcess("crasher", tmp_path / "log", error=StandInError)
    proc.start([PY, "-c", "import sys; print('bad config: port', flush=True); sys.exit(3)"])
    with pytest.raises(StandInError, match=r"crasher exited with 3: bad config: port"):
        proc.wait_until(lambda: False, timeout_s=20)
    proc.stop()


def test_not_ready_in_time_raises_and_leaves_stop_to_the_caller(tmp_path):
    proc = ManagedProcess("slow", tmp_path / "log").start([PY, "-c", "import time; time.sleep(60)"])
    try:
        with pytest.raises(ProcessError, match=r"slow not ready after 0 s"):
            proc.wait_until(lambda: accepts_connections(1), timeout_s=0.3)
        assert proc.running
    finally:
        proc.stop()
    assert not proc.running
