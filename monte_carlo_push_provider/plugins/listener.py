"""The Airflow plugin that registers the Monte Carlo listener — only when it is switched on.

Airflow imports this module in every process that loads plugins (scheduler, API server, DAG
processor, triggerer, every task process), so with ``[monte_carlo] airflow_push`` off (the
default) it costs one config lookup: it imports nothing from pycarlo or the provider's operators,
hooks or sender, and registers no listener (tests/listeners/test_plugin.py checks this in a fresh
interpreter). Switched on, it registers
:data:`monte_carlo_push_provider.listeners.airflow_push.listener`, which is itself import-light:
the sender and pycarlo load on the first event, on the sender's thread.

Airflow finds it two ways (Airflow 3.3's plugins manager): the ``airflow.plugins`` entry point
(always loaded) and the provider info's ``plugins`` list (loaded only with
``[core] lazy_discover_providers = False``); both name this class and Airflow keeps one plugin
per name.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from monte_carlo_push_provider.listeners.settings import push_enabled


class MonteCarloListenerPlugin(AirflowPlugin):
    name = "monte_carlo_push_listener"
    listeners: list = []


if push_enabled():
    from monte_carlo_push_provider.listeners.airflow_push import listener

    MonteCarloListenerPlugin.listeners = [listener]
