#!/usr/bin/env python3
"""Throughput and accuracy of the lineage engine vs a plain sqlglot baseline, in one run.

    .venv/bin/python benchmarks/lineage_throughput.py [--corpus PATH] [--passes N] [--cpu K]

Both extractors run on the same corpus, in the same process, pinned to one CPU core. Each gets
one untimed warm-up pass (sqlglot builds per-dialect tokenizer/parser tables lazily on first use;
this pass is also the one scored), then ``--rounds`` alternating rounds of ``--passes`` timed
passes; q/s = cases x passes / seconds spent inside the extractor, median over the rounds.
Tables + columns are always both extracted. F1 figures come from the shared scorer's own
functions (``score.py`` next to the corpus), so they match ``score.py`` exactly.

``plain_sqlglot_lineage`` is the baseline: what direct sqlglot use looks like (table nodes for
tables; ``sqlglot.lineage.lineage()`` per output column). It can also be scored on its own:
``python ../shared/eval/lineage/score.py benchmarks/lineage_throughput.py:plain_sqlglot_lineage``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.lineage import lineage as sqlglot_lineage
from sqlglot.optimizer.qualify import qualify

REPO = Path(__file__).resolve().parents[1]
DEFAULT_EVAL_DIR = REPO.parent / "shared" / "eval" / "lineage"
sys.path.insert(0, str(REPO))

from monte_carlo_push_provider.lineage import extract_lineage  # noqa: E402


# --------------------------------------------------------------------------------- baseline
def _plain_name(table: exp.Table, db: str | None, schema: str | None) -> str:
    parts = [p.name for p in table.parts]
    if len(parts) == 1 and schema:
        parts.insert(0, schema)
    if len(parts) == 2 and db:
        parts.insert(0, db)
    return ".".join(parts).lower()


def _nested_schema(schemas: dict | None) -> dict | None:
    """sqlglot wants {db: {schema: {table: cols}}} at one depth; keep the deepest keys."""
    if not schemas:
        return None
    depth = max(len(k.split(".")) for k in schemas)
    nested: dict = {}
    for key, columns in schemas.items():
        parts = key.split(".")
        if len(parts) != depth:
            continue
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = {c: (t or "unknown") for c, t in (columns or {}).items()}
    return nested


def plain_sqlglot_lineage(
    sql: str, dialect: str, default_db: str | None, default_schema: str | None, schemas: dict | None = None
) -> dict[str, Any]:
    """Straightforward sqlglot: parse, list Table nodes, call lineage() per output column."""
    tree = sqlglot.parse_one(sql, read=dialect or None)
    schemas = _nested_schema(schemas)
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    target = None
    if isinstance(tree, (exp.Create, exp.Insert, exp.Update, exp.Merge, exp.Delete, exp.Alter)):
        target = tree.this.find(exp.Table) if tree.this is not None else None
    out_tables = [_plain_name(target, default_db, default_schema)] if target is not None else []
    in_tables = sorted(
        {
            _plain_name(t, default_db, default_schema)
            for t in tree.find_all(exp.Table)
            if t is not target and t.name not in ctes and t.name
        }
    )
    query = tree if isinstance(tree, exp.Query) else tree.expression
    columns = []
    if isinstance(query, exp.Query):
        # Qualify once to learn the output names (stars expanded where the schema allows).
        try:
            names = qualify(query.copy(), dialect=dialect or None, schema=schemas or None,
                            validate_qualify_columns=False, identify=False).named_selects
        except Exception:  # noqa: BLE001 - mixed-depth schemas or unresolvable columns
            names = query.named_selects
        for name in names:
            if name == "*":
                continue
            try:
                node = sqlglot_lineage(name, query, schema=schemas or None, dialect=dialect or None)
            except Exception:  # noqa: BLE001 - the baseline skips columns sqlglot cannot trace
                continue
            upstreams = [
                {"table": _plain_name(n.source, default_db, default_schema), "column": n.name.split(".")[-1]}
                for n in node.walk()
                if not n.downstream and isinstance(n.source, exp.Table)
            ]
            columns.append({"downstream_table": out_tables[0] if out_tables else None,
                            "downstream_column": name, "upstreams": upstreams})
    return {"in_tables": in_tables, "out_tables": out_tables, "column_lineage": columns}


# --------------------------------------------------------------------------------- harness
def _load_scorer(eval_dir: Path) -> Any:
    spec = importlib.util.spec_from_file_location("lineage_score", eval_dir / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _caller(fn: Callable[..., Any]) -> Callable[[dict], tuple[dict, str | None, float]]:
    def call(case: dict) -> tuple[dict, str | None, float]:
        start = time.perf_counter()
        try:
            out = fn(case["sql"], case["dialect"], case.get("default_db"), case.get("default_schema"),
                     schemas=case.get("schemas"))
            err = None
        except Exception as e:  # noqa: BLE001 - a failure scores as empty output, like score.py
            out, err = {}, f"{type(e).__name__}: {e}"
        return out, err, time.perf_counter() - start

    return call


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_EVAL_DIR / "corpus.jsonl")
    ap.add_argument("--passes", type=int, default=5, help="timed passes over the corpus per round")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median q/s is reported")
    ap.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed)")
    a = ap.parse_args(argv)

    if hasattr(os, "sched_setaffinity"):
        cpu = a.cpu if a.cpu is not None else min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        pinned = f"pinned to CPU {cpu}"
    else:
        pinned = "not pinned (no sched_setaffinity)"
    scorer = _load_scorer(a.corpus.parent)
    cases = [json.loads(line) for line in a.corpus.read_text().splitlines() if line.strip()]
    extractors = {"plain sqlglot": plain_sqlglot_lineage, "monte_carlo lineage": extract_lineage}
    callers = {label: _caller(fn) for label, fn in extractors.items()}

    # Warm-up pass (untimed) doubles as the scored pass, exactly like score.py's first pass.
    rows = {}
    for label, call in callers.items():
        total = scorer.Acc()
        for case in cases:
            total.add(scorer.score_case(case, *call(case)))
        rows[label] = total.row()
    # Rounds alternate between extractors so background load hits both alike.
    qps: dict[str, list[float]] = {label: [] for label in callers}
    for _ in range(a.rounds):
        for label, call in callers.items():
            seconds = sum(call(case)[2] for _ in range(a.passes) for case in cases)
            qps[label].append(len(cases) * a.passes / seconds)

    print(f"corpus={a.corpus.name} cases={len(cases)} passes={a.passes} rounds={a.rounds} {pinned} "
          f"sqlglot={sqlglot.__version__}")
    print(f"{'extractor':<22}{'q/s':>9}{'q/s min-max':>16}{'table_F1':>10}{'col_F1':>8}{'exact':>7}{'fail':>6}")
    for label, row in rows.items():
        runs = qps[label]
        spread = f"{min(runs):.0f}-{max(runs):.0f}"
        print(f"{label:<22}{statistics.median(runs):>9.1f}{spread:>16}{100 * row['table_f1']:>10.1f}"
              f"{100 * (row['col_f1'] or 0):>8.1f}{100 * (row['exact'] or 0):>7.1f}{row['fail']:>6}")
    ours, base = statistics.median(qps["monte_carlo lineage"]), statistics.median(qps["plain sqlglot"])
    print(f"speed-up vs plain sqlglot: {ours / base:.2f}x")


if __name__ == "__main__":
    main()
