"""The documentation a user reads stands alone and its code runs; the release artifacts are
what `make dist` promises.

- README, CONTRIBUTING, docs/ and example_dags/ name no path outside a clone (``../shared``, a
  developer machine's absolute paths): a user of a clone or of the docs site has neither.
- Every ``python`` block in README and docs/ compiles, its imports resolve against this package,
  and every block that declares a DAG builds it (parsing only: no metadata DB, no task runs).
- Every repository file and `make` target the docs name exists (docs go stale when code moves).
- mkdocs.yml's nav lists every page of docs/ and nothing else (``mkdocs --strict`` would fail on
  a missing page too, but only where mkdocs is installed; this runs everywhere).
- The version is written once; the provider info and the package metadata agree with it.
- A wheel built from this tree has ``py.typed`` and no tests (built with uv, ~5 s).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
DOC_FILES = sorted(
    [REPO / "README.md", REPO / "CONTRIBUTING.md", *(REPO / "docs").rglob("*.md"), *(REPO / "example_dags").rglob("*")]
)
DOC_FILES = [p for p in DOC_FILES if p.is_file() and "__pycache__" not in p.parts]
# Paths that exist only on some machine: the shared folder beside the repository, and absolute
# home / workspace paths. (/tmp/... defaults and placeholders are fine: every machine has /tmp.)
OUTSIDE_PATHS = re.compile(r"\.\./shared\b|(?<![\w.])/(?:work|home|Users|root|mnt|opt/[\w-]+/src)/[\w.-]")
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO))


def python_blocks() -> list[tuple[str, int, str]]:
    """(file, line, code) of every ```python block in README and docs/."""
    blocks = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = path.read_text()
        for m in FENCE.finditer(text):
            if m.group(1) in ("python", "py"):
                blocks.append((_rel(path), text.count("\n", 0, m.start()) + 1, m.group(2)))
    return blocks


BLOCKS = python_blocks()


def test_docs_name_no_path_outside_the_repository() -> None:
    hits = []
    for path in DOC_FILES:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE_PATHS.search(line):
                hits.append(f"{_rel(path)}:{number}: {line.strip()}")
    assert not hits, "paths a clone does not have (write what the user needs into docs/ instead):\n" + "\n".join(hits)


def test_the_path_check_catches_what_it_is_for() -> None:
    for bad in ("see ../shared/docs/x.md", "cd /work/main && make", "/home/alice/airflow", "/root/.venv/bin"):
        assert OUTSIDE_PATHS.search(bad), bad
    for fine in ("/tmp/monte_carlo_push_results", "docs/local-snowflake.md", "$PWD/.local/dags", "https://x.io/home/a"):
        assert not OUTSIDE_PATHS.search(fine), fine
    assert REPO_PATH.findall("run `scripts/standin.py`, then tests/standins/ and example_dags/x_*.py") == [
        "scripts/standin.py", "tests/standins", "example_dags/x_*.py"]
    assert MAKE_TARGET.findall("`make docs` and `make dist`") == ["docs", "dist"]


def test_docs_have_python_blocks() -> None:
    # The checks below would pass vacuously if the fence pattern stopped matching.
    assert len(BLOCKS) >= 10
    assert any("with DAG(" in code for _, _, code in BLOCKS)


@pytest.mark.parametrize(("path", "line", "code"), BLOCKS, ids=[f"{p}:{n}" for p, n, _ in BLOCKS])
def test_python_block_compiles_and_imports(path: str, line: int, code: str) -> None:
    tree = compile(code, f"{path}:{line}", "exec", flags=ast.PyCF_ONLY_AST)
    imports = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    namespace: dict[str, object] = {}
    for node in imports:
        statement = ast.Module(body=[node], type_ignores=[])
        exec(compile(statement, f"{path}:{line}", "exec"), namespace)  # noqa: S102 - the docs' own imports


DAG_BLOCKS = [b for b in BLOCKS if "with DAG(" in b[2]]


@pytest.mark.parametrize(("path", "line", "code"), DAG_BLOCKS, ids=[f"{p}:{n}" for p, n, _ in DAG_BLOCKS])
def test_dag_block_builds_its_dag(path: str, line: int, code: str) -> None:
    namespace: dict[str, object] = {"__name__": "docs_block"}
    exec(compile(code, f"{path}:{line}", "exec"), namespace)  # noqa: S102 - a documented DAG file
    # Operators and mapped operators (``.partial().expand()``) alike carry task_id and dag_id.
    tasks = [v for v in namespace.values() if hasattr(v, "task_id") and hasattr(v, "dag_id")]
    assert tasks, f"{path}:{line} declares a DAG but binds no task to a name to check"
    for task in tasks:
        assert task.dag_id, f"{path}:{line}: task {task.task_id} belongs to no DAG"


USER_DOCS = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]
REPO_PATH = re.compile(r"(?<![\w./$-])((?:scripts|benchmarks|tests|example_dags|monte_carlo_push_provider)/[\w./*<>-]*[\w*>])")
MAKE_TARGET = re.compile(r"`make ([a-z][\w-]*)")


def test_files_and_make_targets_the_docs_name_exist() -> None:
    targets = set(re.findall(r"^([a-z][\w-]*):", (REPO / "Makefile").read_text(), re.M))
    missing = []
    for path in USER_DOCS:
        text = path.read_text()
        for name in sorted(set(REPO_PATH.findall(text))):
            if "<" in name:  # a placeholder such as operators/<warehouse>.py
                continue
            if not ((REPO / name).exists() or ("*" in name and any(REPO.glob(name)))):
                missing.append(f"{_rel(path)}: {name}")
        missing += [f"{_rel(path)}: make {t}" for t in sorted(set(MAKE_TARGET.findall(text)) - targets)]
    assert not missing, "the docs name files or make targets this repository does not have:\n" + "\n".join(missing)


def test_mkdocs_nav_lists_every_page() -> None:
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())

    def pages(nav: object) -> list[str]:
        if isinstance(nav, str):
            return [nav]
        if isinstance(nav, list):
            return [p for item in nav for p in pages(item)]
        if isinstance(nav, dict):
            return [p for value in nav.values() for p in pages(value)]
        return []

    in_nav = pages(config["nav"])
    on_disk = sorted(str(p.relative_to(REPO / "docs")) for p in (REPO / "docs").rglob("*.md"))
    assert sorted(in_nav) == on_disk
    assert len(in_nav) == len(set(in_nav)), "a page is listed twice"
    for warehouse in ("snowflake", "bigquery", "databricks", "redshift", "hive"):
        assert f"local-{warehouse}.md" in in_nav


def test_version_and_links_are_written_once() -> None:
    import monte_carlo_push_provider
    from monte_carlo_push_provider.get_provider_info import DOCS_URL, get_provider_info

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "monte_carlo_push_provider.__version__"}
    info = get_provider_info()
    assert info["versions"] == [monte_carlo_push_provider.__version__]
    # Airflow's providers page shows [project.urls] Documentation; the provider info says the same.
    assert project["project"]["urls"]["Documentation"] == DOCS_URL == info["documentation-url"]
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert f"## [{monte_carlo_push_provider.__version__}]" in changelog


def test_wheel_has_py_typed_and_no_tests(tmp_path: Path) -> None:
    uv = Path(sys.executable).with_name("uv")
    if not uv.exists():
        pytest.fail(f"uv not found next to {sys.executable}: `make venv` installs it")
    build = subprocess.run(  # noqa: S603 - fixed arguments
        [str(uv), "build", "--quiet", "--out-dir", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    check = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, str(REPO / "scripts" / "check_dist.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert check.returncode == 0, check.stderr
    import zipfile

    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "monte_carlo_push_provider/py.typed" in names
    assert not [n for n in names if n.startswith("tests/") or "/tests/" in n]
    assert "monte_carlo_push_provider/get_provider_info.py" in names
    # The sandbox is its own distribution (sandbox/): no module of it, no pytest plugin.
    assert not [n for n in names if "sandbox" in n], [n for n in names if "sandbox" in n]


def test_sandbox_is_its_own_distribution_with_a_console_script(tmp_path: Path) -> None:
    """``sandbox/`` builds monte-carlo-sandbox: the package, the ``monte-carlo-sandbox`` command,
    pytest only in its ``test`` extra, and nothing of the provider in it."""
    import zipfile
    from email.parser import HeaderParser

    uv = Path(sys.executable).with_name("uv")
    build = subprocess.run(  # noqa: S603 - fixed arguments
        [str(uv), "build", "--quiet", "--wheel", "--out-dir", str(tmp_path), str(REPO / "sandbox")],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = tmp_path.glob("monte_carlo_sandbox-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        entry_points = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
        metadata = HeaderParser().parsestr(next(zf.read(n).decode() for n in names if n.endswith(".dist-info/METADATA")))
        sources = [zf.read(n).decode() for n in names if n.endswith(".py")]
    assert metadata["Name"] == "monte-carlo-sandbox"
    assert "monte-carlo-sandbox = monte_carlo_sandbox.__main__:main" in entry_points
    assert {"monte_carlo_sandbox/__main__.py", "monte_carlo_sandbox/pytest_plugin.py", "monte_carlo_sandbox/process.py"} <= set(names)
    requires = metadata.get_all("Requires-Dist") or []
    pytest_requires = [r for r in requires if r.startswith("pytest")]
    assert pytest_requires and all('extra == "test"' in r for r in pytest_requires), requires
    assert not [s for s in sources if "from monte_carlo_push_provider" in s or "import monte_carlo_push_provider" in s]
