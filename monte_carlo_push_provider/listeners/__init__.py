"""Airflow listeners shipped by this provider (loaded through
:mod:`monte_carlo_push_provider.plugins.listener`). Import-light: nothing here imports pycarlo."""
