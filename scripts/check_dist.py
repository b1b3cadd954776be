"""Check what `make dist` built, beyond `twine check`: the wheel a user installs.

    python scripts/check_dist.py dist/

Fails (exit 1, one line per problem) when the wheel carries tests or other repository-only
trees, carries the Monte Carlo sandbox (its own distribution, ``sandbox/``) or a module that
imports pytest, lacks ``py.typed``, or reports a version other than
``monte_carlo_push_provider.__version__``;
prints a one-line summary of each artifact otherwise. Stdlib only, so it runs before anything
is installed.
"""

from __future__ import annotations

import ast
import sys
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "monte_carlo_push_provider"
# Trees that belong to the repository, never to an installed provider.
FORBIDDEN_TOP_LEVEL = ("tests", "benchmarks", "scripts", "example_dags", "docs", "sandbox", "monte_carlo_sandbox")
#: The sandbox ships as monte-carlo-sandbox; nothing of it belongs in the provider's wheel or sdist.
SANDBOX_MARKERS = ("monte_carlo_sandbox", f"{PACKAGE}/sandbox/")
#: Test-only modules no installed provider module may import (they are not dependencies).
TEST_ONLY_IMPORTS = ("pytest", "monte_carlo_sandbox")
DOCS_URL_PREFIX = "Documentation, "


def source_version() -> str:
    """``__version__`` as written in the package (read, not imported)."""
    tree = ast.parse((REPO / PACKAGE / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets):
            return str(ast.literal_eval(node.value))
    raise SystemExit(f"{PACKAGE}/__init__.py defines no __version__")


def forbidden_imports(source: str) -> list[str]:
    """Top-level names from :data:`TEST_ONLY_IMPORTS` that ``source`` imports (anywhere in it)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [n for n in names if n.split(".", 1)[0] in TEST_ONLY_IMPORTS]
    return found


def wheel_problems(wheel: Path, version: str) -> list[str]:
    problems: list[str] = []
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata_name = next((n for n in names if n.endswith(".dist-info/METADATA")), None)
        metadata = HeaderParser().parsestr(zf.read(metadata_name).decode()) if metadata_name else None
        entry_points = next((zf.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")), "")
        sources = {n: zf.read(n).decode() for n in names if n.startswith(f"{PACKAGE}/") and n.endswith(".py")}
    for name in names:
        top = name.split("/", 1)[0]
        if top in FORBIDDEN_TOP_LEVEL:
            problems.append(f"{wheel.name}: contains {name} (repository-only tree {top}/)")
        elif any(marker in name for marker in SANDBOX_MARKERS):
            problems.append(f"{wheel.name}: contains {name} (the sandbox is its own distribution, sandbox/)")
        elif "/tests/" in f"/{name}" or Path(name).name.startswith("test_"):
            problems.append(f"{wheel.name}: contains a test module {name}")
    for name, source in sorted(sources.items()):
        for module in forbidden_imports(source):
            problems.append(f"{wheel.name}: {name} imports {module} (test-only; not a provider dependency)")
    if f"{PACKAGE}/py.typed" not in names:
        problems.append(f"{wheel.name}: no {PACKAGE}/py.typed (type checkers would ignore the package's hints)")
    if metadata is None:
        problems.append(f"{wheel.name}: no METADATA")
    else:
        if metadata["Version"] != version:
            problems.append(f"{wheel.name}: METADATA version {metadata['Version']} != __version__ {version}")
        urls = metadata.get_all("Project-URL") or []
        if not any(u.startswith(DOCS_URL_PREFIX) for u in urls):
            problems.append(f"{wheel.name}: no 'Documentation' Project-URL (Airflow's providers page links it)")
    if "apache_airflow_provider" not in entry_points:
        problems.append(f"{wheel.name}: no apache_airflow_provider entry point (Airflow would not see the provider)")
    return problems


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "dist")
    version = source_version()
    wheels = sorted(out.glob("*.whl"))
    sdists = sorted(out.glob("*.tar.gz"))
    problems: list[str] = []
    if len(wheels) != 1 or len(sdists) != 1:
        problems.append(f"{out}: expected one wheel and one sdist, found {[p.name for p in wheels + sdists]}")
    for wheel in wheels:
        problems += wheel_problems(wheel, version)
        with zipfile.ZipFile(wheel) as zf:
            count = len(zf.namelist())
        print(f"{wheel.name}: {count} files, {wheel.stat().st_size / 1024:.0f} KiB")
    for sdist in sdists:
        if f"-{version}.tar.gz" not in sdist.name:
            problems.append(f"{sdist.name}: version is not {version}")
        with tarfile.open(sdist) as tf:
            count = len(tf.getnames())
            problems += [
                f"{sdist.name}: contains {n} (the sandbox is its own distribution, sandbox/)"
                for n in tf.getnames()
                if n.split("/", 1)[-1].startswith("sandbox/") or any(m in n for m in SANDBOX_MARKERS)
            ]
        print(f"{sdist.name}: {count} files, {sdist.stat().st_size / 1024:.0f} KiB")
    for problem in problems:
        print(f"check_dist: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
