"""The "Monte Carlo" extra link of push and sensor tasks, and the templated connection id of the
sensor and the GraphQL operators."""

from __future__ import annotations

from monte_carlo_push_provider.get_provider_info import get_provider_info
from monte_carlo_push_provider.operators import graphql as graphql_operators
from monte_carlo_push_provider.operators.links import MonteCarloTablesLink, monte_carlo_url
from monte_carlo_push_provider.operators.push import MonteCarloPushOperator
from monte_carlo_push_provider.sensors.monte_carlo import MonteCarloPushedDataSensor

MCON = "MCON++acct++res++table++DB:S.orders"


def test_link_is_registered_and_on_push_and_sensor_tasks():
    (path,) = get_provider_info()["extra-links"]
    module, _, name = path.rpartition(".")
    assert getattr(__import__(module, fromlist=[name]), name) is MonteCarloTablesLink
    for cls in (MonteCarloPushOperator, MonteCarloPushedDataSensor):
        assert [type(link) for link in cls.operator_extra_links] == [MonteCarloTablesLink]
    assert MonteCarloTablesLink().name == "Monte Carlo"


def test_link_opens_one_confirmed_table_or_searches_the_pushed_ones(monkeypatch):
    monkeypatch.delenv("MONTE_CARLO_UI_URL", raising=False)
    sensor_result = {"visibility": {"confirmed": [{"kind": "metadata", "item": "DB:S.orders", "mcon": MCON}]}}
    assert monte_carlo_url(sensor_result) == "https://getmontecarlo.com/assets/MCON%2B%2Bacct%2B%2Bres%2B%2Btable%2B%2BDB%3AS.orders"
    push_result = {"assets": {"metadata": {"sample": ["DB:S.orders", "DB:S.orders_daily"]}}}
    assert monte_carlo_url(push_result) == "https://getmontecarlo.com/assets?search=DB%3AS"
    mixed = {"assets": {"metadata": {"sample": ["DB:S.orders", "OTHER:X.t"]}}}
    assert monte_carlo_url(mixed) == "https://getmontecarlo.com/assets?search=DB%3AS.orders"
    monkeypatch.setenv("MONTE_CARLO_UI_URL", "https://eu.getmontecarlo.com/")
    assert monte_carlo_url(push_result).startswith("https://eu.getmontecarlo.com/assets?")
    assert monte_carlo_url({"assets": {}}) == "" and monte_carlo_url(None) == ""


def test_monte_carlo_conn_id_is_templated_everywhere():
    classes = [MonteCarloPushedDataSensor] + [
        getattr(graphql_operators, n) for n in dir(graphql_operators)
        if n.startswith("MonteCarlo") and n.endswith("Operator")
    ]
    assert len(classes) == 5
    for cls in classes:
        assert "monte_carlo_conn_id" in cls.template_fields, cls.__name__
