"""Make the sandbox fixtures available here even before tests/conftest.py registers the plugin.

Registering through the plugin manager (instead of importing the fixtures) keeps one session
sandbox when the root conftest registers the same plugin.
"""

from __future__ import annotations

import pytest

PLUGIN = "monte_carlo_sandbox.pytest_plugin"


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)
