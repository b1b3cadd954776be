"""Packaging: the provider registers with Airflow, and importing its DAG-facing modules stays
cheap (no pycarlo, sqlglot or warehouse SDK at import time)."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys

import pytest

import monte_carlo_push_provider
from monte_carlo_push_provider.get_provider_info import PACKAGE_NAME, get_provider_info

# SDKs, and the warehouse providers' hooks (Airflow itself imports every provider's
# get_provider_info, which is cheap).
HEAVY = ("pycarlo", "sqlglot", "snowflake.connector", "google.cloud.bigquery", "databricks.sql", "redshift_connector",
         "pyhive", "hmsclient", "graphql", "boto3", "botocore", "pyspark", "fakesnow",
         *(f"airflow.providers.{p}.{part}" for p in ("snowflake", "google", "databricks", "amazon", "apache.hive")
           for part in ("hooks", "operators")))
# Modules a DAG file imports: every operator, sensor, trigger and hook module.
DAG_FACING = ("operators", "sensors", "hooks", "triggers")


def dag_facing_modules() -> list[str]:
    names = []
    for sub in DAG_FACING:
        package = __import__(f"monte_carlo_push_provider.{sub}", fromlist=["_"])
        for info in pkgutil.iter_modules(package.__path__):
            names.append(f"monte_carlo_push_provider.{sub}.{info.name}")
    return sorted(names)


def test_package_name_matches_distribution():
    from importlib.metadata import distribution

    assert get_provider_info()["package-name"] == PACKAGE_NAME == distribution(PACKAGE_NAME).metadata["Name"]


def test_provider_info_modules_exist():
    info = get_provider_info()
    for section in ("operators", "hooks", "sensors", "triggers"):
        for entry in info.get(section, []):
            for module in entry["python-modules"]:
                __import__(module)
    for conn in info["connection-types"]:
        module, _, cls = conn["hook-class-name"].rpartition(".")
        assert getattr(__import__(module, fromlist=[cls]), cls).conn_type == conn["connection-type"]


def test_importing_dag_facing_modules_imports_nothing_heavy():
    modules = dag_facing_modules()
    assert "monte_carlo_push_provider.operators.push" in modules
    # Athena/Glue: boto3, botocore and the amazon provider's hooks stay out (HEAVY names them).
    assert "monte_carlo_push_provider.operators.athena" in modules
    code = (
        "import sys, json\n"
        f"for m in {modules!r}: __import__(m)\n"
        f"heavy = [m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in {HEAVY!r})]\n"
        "print(json.dumps(sorted(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ.copy())
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize(("args", "expected"), [
    (["providers", "list", "--output", "json"], PACKAGE_NAME),
    (["providers", "hooks", "--output", "json"], "monte_carlo"),
])
def test_airflow_cli_lists_provider(args, expected):
    out = subprocess.run([sys.executable, "-m", "airflow", *args], capture_output=True, text=True,
                         env=os.environ.copy(), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert expected in out.stdout


def test_version():
    assert monte_carlo_push_provider.__version__ == get_provider_info()["versions"][0]
