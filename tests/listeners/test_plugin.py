"""The plugin's registration and its cost when off: checked in fresh interpreters, through Airflow's
own plugin loading (the Task SDK's listener manager, which task processes use, and core's)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from monte_carlo_push_provider.get_provider_info import get_provider_info
from tests.listeners.conftest import airflow_env

# What the plugin entry point must not pull in while the setting is off (and, when on, not before
# the first event): pycarlo, and every provider module heavier than the plugin and its settings.
HEAVY = (
    "pycarlo",
    "sqlglot",
    "graphql",
    "monte_carlo_push_provider.listeners.airflow_push",
    "monte_carlo_push_provider.listeners.openlineage",
    "monte_carlo_push_provider.utils.etl_sender",
    "monte_carlo_push_provider.utils.etl_events",
    "monte_carlo_push_provider.utils.sender",
    "monte_carlo_push_provider.hooks",
    "monte_carlo_push_provider.operators",
    "monte_carlo_push_provider.manifest",
    "monte_carlo_push_provider.lineage",
)

PROBE = """
import json, sys
from airflow.sdk.listener import get_listener_manager as sdk_manager
from airflow.listeners.listener import get_listener_manager as core_manager
from airflow.sdk.plugins_manager import _get_plugins
names = sorted(p.name for p in _get_plugins()[0])
listeners = sorted(type(l).__name__ for l in sdk_manager().pm.get_plugins())
core = sorted(type(l).__name__ for l in core_manager().pm.get_plugins())
heavy = sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in HEAVY))
print(json.dumps({"plugins": names, "sdk_listeners": listeners, "core_listeners": core, "heavy": heavy}))
"""


def _probe(env: dict[str, str]) -> dict:
    code = f"HEAVY = {HEAVY!r}\n" + PROBE
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_off_by_default_registers_nothing_and_imports_nothing_heavy(plugin_entry_point):
    env = airflow_env(plugin_entry_point, push=False)
    del env["AIRFLOW__MONTE_CARLO__AIRFLOW_PUSH"]  # the default, not an explicit False
    seen = _probe(env)
    assert "monte_carlo_push_listener" in seen["plugins"]  # loaded from the entry point...
    assert "MonteCarloAirflowListener" not in seen["sdk_listeners"] + seen["core_listeners"]  # ...inert
    assert seen["heavy"] == []


def test_on_registers_the_listener_with_both_managers_still_light(plugin_entry_point):
    seen = _probe(airflow_env(plugin_entry_point, push=True))
    assert "MonteCarloAirflowListener" in seen["sdk_listeners"]
    assert "MonteCarloAirflowListener" in seen["core_listeners"]
    # Registered, but the sender, pycarlo and the builders load only on the first event.
    assert seen["heavy"] == ["monte_carlo_push_provider.listeners.airflow_push"]


def test_listener_imports_no_openlineage_until_a_task_finishes(plugin_entry_point):
    """Our entry point and listener module load nothing of OpenLineage (Airflow's own
    OpenLineage plugin may; that is not ours to count), whatever the settings say."""
    code = (
        "import json, sys\n"
        "import airflow.plugins_manager, airflow.listeners\n"  # Airflow's share, counted out
        "before = set(sys.modules)\n"
        "import monte_carlo_push_provider.plugins.listener\n"
        "import monte_carlo_push_provider.listeners.airflow_push\n"
        "print(json.dumps(sorted(m for m in set(sys.modules) - before if 'openlineage' in m)))\n"
    )
    env = airflow_env(plugin_entry_point, push=True)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("value", ["maybe", ""])
def test_unreadable_switch_counts_as_off(plugin_entry_point, value):
    env = airflow_env(plugin_entry_point, push=True)
    env["AIRFLOW__MONTE_CARLO__AIRFLOW_PUSH"] = value
    seen = _probe(env)
    assert "MonteCarloAirflowListener" not in seen["sdk_listeners"]


def test_provider_info_declares_plugin_and_config():
    info = get_provider_info()
    (plugin,) = info["plugins"]
    module, _, cls = plugin["plugin-class"].rpartition(".")
    assert getattr(__import__(module, fromlist=[cls]), cls).name == plugin["name"]
    options = info["config"]["monte_carlo"]["options"]
    for key in ("airflow_push", "airflow_resource_uuid", "conn_id", "state_path"):
        assert options[key]["description"], key
    assert options["airflow_push"]["default"] == "False"
    assert options["conn_id"]["default"] == "monte_carlo_default"


def test_airflow_reads_the_declared_config(plugin_entry_point):
    """`airflow config get-value` sees the provider's defaults (Airflow merges provider config)."""
    env = airflow_env(plugin_entry_point, push=False)
    for key in ("AIRFLOW__MONTE_CARLO__AIRFLOW_PUSH", "AIRFLOW__MONTE_CARLO__AIRFLOW_RESOURCE_UUID"):
        env.pop(key)
    out = subprocess.run([sys.executable, "-m", "airflow", "config", "get-value", "monte_carlo", "conn_id"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "monte_carlo_default"
