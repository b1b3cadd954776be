#!/usr/bin/env python3
"""Throughput and accuracy of the lineage engine vs a plain sqlglot baseline, in one run.

    .venv/bin/python benchmarks/lineage_throughput.py [--corpus PATH] [--passes N] [--cpu K]
        [--log-queries N] [--log-shapes N]

Part 1, the corpus.
Both extractors run on the same corpus, in the same process, pinned to one CPU core. Each gets
one untimed warm-up pass (sqlglot builds per-dialect tokenizer/parser tables lazily on first use;
this pass is also the one scored), then ``--rounds`` alternating rounds of ``--passes`` timed
passes; q/s = cases x passes / seconds spent inside the extractor, median over the rounds.
Tables + columns are always both extracted. F1 figures come from the shared scorer's own
functions (``score.py`` next to the corpus), so they match ``score.py`` exactly.

Part 2, a repetitive query log: ``--log-queries`` queries (default 40,000) drawn from
``--log-shapes`` shapes (default 2,000: eight statement kinds over 5,000 tables, every query with
its own literals and run-id comments) plus a 2 % tail of unique ad-hoc queries, Snowflake dialect.
``build_lineage_manifest`` runs on it three ways: parsing every query (no shape cache; timed on
a sample and reported as a rate), shape-cached with a cold cache (the first window of a process)
and with a warm cache (a later window). The cached manifest is checked to be identical to the
uncached one on the sample, so the speed is not bought with different lineage.

``plain_sqlglot_lineage`` is the baseline: what direct sqlglot use looks like (table nodes for
tables; ``sqlglot.lineage.lineage()`` per output column). It can also be scored on its own:
``python ../shared/eval/lineage/score.py benchmarks/lineage_throughput.py:plain_sqlglot_lineage``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
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

from monte_carlo_push_provider.lineage import build_lineage_manifest, extract_lineage  # noqa: E402
from monte_carlo_push_provider.lineage.shapes import ShapeCache  # noqa: E402


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


# --------------------------------------------------------------------------------- query log
_TEMPLATES = [
    "INSERT INTO {t0} SELECT a, b, SUM(c) AS c FROM {t1} WHERE d >= '{date}' AND k = {n} GROUP BY a, b",
    "MERGE INTO {t0} t USING (SELECT id, v FROM {t1} WHERE ts > '{date}') s ON t.id = s.id "
    "WHEN MATCHED THEN UPDATE SET t.v = s.v WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)",
    "CREATE OR REPLACE TABLE {t0} AS SELECT x.id, y.name, x.amt * {n} AS amt FROM {t1} x "
    "JOIN {t2} y ON x.id = y.id WHERE x.status = '{word}'",
    "UPDATE {t0} SET flag = '{word}' WHERE id IN (SELECT id FROM {t1} WHERE d < '{date}')",
    "SELECT a, COUNT(*) AS n FROM {t1} WHERE d BETWEEN '{date}' AND '{date}' GROUP BY a LIMIT {n}",
    "INSERT INTO {t0} (id, v) SELECT id, v FROM {t1} UNION ALL SELECT id, v FROM {t2} WHERE v > {n}",
    "DELETE FROM {t0} WHERE d < '{date}' AND id IN (SELECT id FROM {t1} WHERE k = {n})",
    "WITH c AS (SELECT id, amt FROM {t1} WHERE amt > {n}) INSERT INTO {t0} SELECT id, SUM(amt) AS amt FROM c GROUP BY id",
]
_WORDS = ["open", "closed", "pending", "void", "late", "new", "gold", "silver"]


def repetitive_log(queries: int, shapes: int, tables: int = 5_000, seed: int = 17) -> list[dict[str, Any]]:
    """``queries`` Snowflake query-log rows: ``shapes`` shapes (fixed; every one occurs, a few
    dominate) with fresh literals and comments per query (from ``seed``), plus a 2 % tail of
    one-off ad-hoc queries."""
    layout = random.Random(1)  # the same shapes whatever the seed: windows of one account
    names = [f"DB{i % 7}.SCH{i % 31}.TBL_{i}" for i in range(tables)]
    shape_list = [(layout.choice(_TEMPLATES), layout.sample(names, 3)) for _ in range(shapes)]
    rng = random.Random(seed)
    rows = []
    for i in range(queries):
        if rng.random() < 0.02:
            cols = ", ".join(f"col_{rng.randrange(10_000)}" for _ in range(rng.randrange(1, 5)))
            text = f"INSERT INTO {rng.choice(names)} SELECT {cols} FROM {rng.choice(names)} WHERE x = {i}"
        else:
            pick = i if i < shapes else int(shapes * rng.random() ** 3)  # all shapes, skewed
            template, (t0, t1, t2) = shape_list[pick]
            text = template.format(
                t0=t0, t1=t1, t2=t2, n=rng.randrange(1, 100_000), word=rng.choice(_WORDS),
                date=f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            )
            text = f"/* run_id={rng.getrandbits(40):x} */ {text} -- job {i}"
        rows.append({"query_id": str(i), "query_text": text})
    return rows


def _batch(rows: list[dict[str, Any]], cache: ShapeCache) -> tuple[dict[str, Any], Any, float]:
    start = time.perf_counter()
    manifest, stats = build_lineage_manifest(rows, dialect="snowflake", resource_type="snowflake", shape_cache=cache)
    return manifest, stats, time.perf_counter() - start


def log_figures(queries: int, shapes: int, sample: int) -> dict[str, Any]:
    rows = repetitive_log(queries, shapes)
    head = rows[:sample]
    uncached_manifest, _, uncached_s = _batch(head, ShapeCache(0))
    cached_manifest, _, _ = _batch(head, ShapeCache())
    if uncached_manifest["events"] != cached_manifest["events"]:
        raise SystemExit("shape-cached lineage differs from per-query lineage on the sample")
    cache = ShapeCache()
    _, cold, cold_s = _batch(rows, cache)
    _, warm, warm_s = _batch(repetitive_log(queries, shapes, seed=18), cache)  # the next window
    return {
        "queries": queries, "sample": sample, "uncached_qps": sample / uncached_s,
        "cold_qps": queries / cold_s, "warm_qps": queries / warm_s, "cold": cold, "warm": warm,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_EVAL_DIR / "corpus.jsonl")
    ap.add_argument("--passes", type=int, default=5, help="timed passes over the corpus per round")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median q/s is reported")
    ap.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed)")
    ap.add_argument("--log-queries", type=int, default=40_000, help="queries in the repetitive log")
    ap.add_argument("--log-shapes", type=int, default=2_000, help="distinct shapes in the repetitive log")
    ap.add_argument("--log-sample", type=int, default=2_000, help="queries parsed one by one for the uncached rate")
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

    log = log_figures(a.log_queries, a.log_shapes, min(a.log_sample, a.log_queries))
    cold, warm = log["cold"], log["warm"]
    print()
    print(f"repetitive log: {log['queries']:,} queries, {cold.distinct_shapes:,} distinct shapes "
          f"({a.log_shapes:,} templated + ad-hoc tail), snowflake, one core")
    print(f"{'mode':<34}{'q/s':>10}{'shapes parsed':>15}{'cache hits':>12}")
    print(f"{'every query parsed (sample)':<34}{log['uncached_qps']:>10.0f}{log['sample']:>15,}{0:>12,}")
    print(f"{'shape-cached, cold cache':<34}{log['cold_qps']:>10.0f}{cold.shapes_parsed:>15,}{cold.shape_cache_hits:>12,}")
    print(f"{'shape-cached, warm cache':<34}{log['warm_qps']:>10.0f}{warm.shapes_parsed:>15,}{warm.shape_cache_hits:>12,}")
    print(f"shape-cached (cold) vs every query parsed: {log['cold_qps'] / log['uncached_qps']:.1f}x; "
          f"cached manifest identical to per-query manifest on the {log['sample']:,}-query sample")
    print("RESULT " + json.dumps({
        "corpus_speedup_vs_sqlglot": round(ours / base, 2),
        "corpus_qps": round(ours, 1), "sqlglot_qps": round(base, 1),
        "corpus_table_f1": round(100 * rows["monte_carlo lineage"]["table_f1"], 1),
        "corpus_col_f1": round(100 * (rows["monte_carlo lineage"]["col_f1"] or 0), 1),
        "log_queries": log["queries"], "log_distinct_shapes": cold.distinct_shapes,
        "log_uncached_qps": round(log["uncached_qps"]), "log_cold_qps": round(log["cold_qps"]),
        "log_warm_qps": round(log["warm_qps"]),
    }))


if __name__ == "__main__":
    main()
