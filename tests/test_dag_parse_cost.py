"""DAG parse cost: importing the DAG-facing modules loads nothing but Airflow and this package.

``tests/test_provider.py::test_importing_dag_facing_modules_imports_nothing_heavy`` checks a
denylist (pycarlo, sqlglot, the SDKs it names). A warehouse SDK nobody thought to list there
(psycopg2 for Redshift, thrift for Hive, ``databricks.sdk``, ``google.cloud.storage``, pandas…)
would slip through it, so this test checks an allowlist instead, in a fresh interpreter: every
module that importing the operator, sensor, hook and trigger modules adds on top of
``import airflow.sdk`` must be this package, Airflow itself (not ``airflow.providers.*``: provider
hooks import their SDKs), the standard library, or a submodule of a package ``airflow.sdk`` had
already imported (e.g. a lazily loaded pydantic submodule).

Timing lives in ``benchmarks/dag_import.py``, not here: no timed assertions in tests.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

PACKAGE = "monte_carlo_push_provider"
DAG_FACING = ("operators", "sensors", "hooks", "triggers")
# Named in the issue; checked by name as well so a failure reads plainly.
NEVER = ("pycarlo", "sqlglot")

_CHILD = r"""
import importlib, json, sys
import airflow.sdk
before = set(sys.modules)
failed = {}
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except Exception as exc:  # report, the test fails on it
        failed[name] = f"{type(exc).__name__}: {exc}"
added = sorted(set(sys.modules) - before)
print("RESULT " + json.dumps({
    "added": added,
    "roots_before": sorted({m.split(".")[0] for m in before}),
    "stdlib": sorted(sys.stdlib_module_names),
    "failed": failed,
}))
"""


def dag_facing_modules() -> list[str]:
    """Found from the package directories, so a module added later is covered."""
    root = Path(__import__(PACKAGE).__file__).parent
    return sorted(
        f"{PACKAGE}.{sub}.{info.name}" for sub in DAG_FACING for info in pkgutil.iter_modules([str(root / sub)])
    )


def allowed(module: str, roots_before: set[str], stdlib: set[str]) -> bool:
    root = module.split(".")[0]
    if root == PACKAGE or root in stdlib or root.startswith("_"):
        return True
    if root == "airflow":
        return not module.startswith("airflow.providers.")
    return root in roots_before


def test_dag_facing_modules_load_only_airflow_and_this_package() -> None:
    modules = dag_facing_modules()
    assert f"{PACKAGE}.operators.push" in modules and f"{PACKAGE}.operators.sql" in modules
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(modules)],
        capture_output=True, text=True, env=os.environ.copy(), timeout=300, check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")).split(" ", 1)[1])
    assert result["failed"] == {}, f"DAG-facing modules that do not import: {result['failed']}"
    added = result["added"]
    named = [m for m in added if any(m == n or m.startswith(n + ".") for n in NEVER)]
    assert named == [], f"importing operator modules loaded {named}; import them inside execute()"
    roots_before, stdlib = set(result["roots_before"]), set(result["stdlib"])
    unexpected = [m for m in added if not allowed(m, roots_before, stdlib)]
    assert unexpected == [], (
        f"importing the DAG-facing modules loaded {unexpected}: third-party / provider modules belong "
        "inside execute() (or the function that uses them), not at module import"
    )
