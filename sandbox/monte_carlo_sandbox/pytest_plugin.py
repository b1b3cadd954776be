"""pytest fixtures for the sandbox. Register with
``pytest_plugins = ["monte_carlo_sandbox.pytest_plugin"]``.

- ``mc_sandbox``: one sandbox subprocess for the whole session (stopped, by pid, at the end).
- ``mc_sandbox_clean``: the same sandbox, reset (data, stats, faults, visibility) before the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from monte_carlo_sandbox.testing import SandboxProcess


@pytest.fixture(scope="session")
def mc_sandbox() -> Iterator[SandboxProcess]:
    sandbox = SandboxProcess()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def mc_sandbox_clean(mc_sandbox: SandboxProcess) -> Iterator[SandboxProcess]:
    mc_sandbox.reset()
    yield mc_sandbox
