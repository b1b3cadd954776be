"""`make demo`: the whole loop on one machine with no Monte Carlo account.

Seeds a SQLite "warehouse" (tables and views), starts the local Monte Carlo sandbox, runs the
example DAG ``monte_carlo_push_hourly`` with ``airflow dags test``: metadata and view lineage
collected, pushed (the invocation_ids printed), the deferrable sensor confirming Monte Carlo shows
the push (``airflow dags test`` runs its trigger inline), then prints what the sandbox stored
(tables, columns, lineage edges) and stops the sandbox.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# MONTE_CARLO_DEMO_DIR: where the run lives (tests point it at a temporary directory)
DEMO = Path(os.environ.get("MONTE_CARLO_DEMO_DIR") or REPO / ".demo")
VISIBLE_AFTER_S = 3.0
#: the log lines the demo shows: what was collected, each request's invocation_id, the sensor
LOG_LINES = ("invocation_id=", "collected ", "deferring", "Monte Carlo shows this push")


def seed(path: Path) -> None:
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, country TEXT, created_at TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
                             amount NUMERIC(12, 2), status TEXT, ordered_at TEXT);
        CREATE TABLE "Order Items" (order_id INTEGER, sku TEXT, quantity INTEGER, "Unit Price" REAL);
        CREATE VIEW revenue_by_country AS
            SELECT c.country, SUM(o.amount) AS revenue FROM orders o JOIN customers c ON c.id = o.customer_id
            GROUP BY c.country;
        CREATE VIEW order_totals AS
            SELECT order_id, SUM(quantity * "Unit Price") AS total FROM "Order Items" GROUP BY order_id;
        CREATE VIEW top_countries AS SELECT * FROM revenue_by_country WHERE revenue > 1000;
        """
    )
    db.executemany(
        "INSERT INTO customers (email, country, created_at) VALUES (?, ?, ?)",
        [(f"user{i}@example.com", ["NL", "FR", "US"][i % 3], "2026-11-01") for i in range(50)],
    )
    db.executemany(
        "INSERT INTO orders (customer_id, amount, status, ordered_at) VALUES (?, ?, ?, ?)",
        [(1 + i % 50, 10 + i, "paid", "2026-11-20") for i in range(200)],
    )
    db.execute("ANALYZE")  # so SQLite knows row counts (sqlite_stat1)
    db.commit()
    db.close()


def main() -> int:
    from monte_carlo_sandbox.testing import SandboxProcess

    started = time.monotonic()
    shutil.rmtree(DEMO, ignore_errors=True)
    (DEMO / "airflow").mkdir(parents=True)
    (DEMO / "sandbox").mkdir()
    warehouse = DEMO / "warehouse.db"
    seed(warehouse)
    print(f"seeded SQLite warehouse {warehouse}: tables customers, orders, \"Order Items\"; "
          "views revenue_by_country, order_totals, top_countries")

    with SandboxProcess(workdir=DEMO / "sandbox") as sandbox:
        print(f"Monte Carlo sandbox at {sandbox.url}")
        env = dict(os.environ)
        env.update(
            AIRFLOW_HOME=str(DEMO / "airflow"),
            AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "example_dags"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW_CONN_DEMO_WAREHOUSE=json.dumps({"conn_type": "sqlite", "host": str(warehouse)}),
            AIRFLOW_CONN_MONTE_CARLO_DEFAULT=sandbox.connection_uri_json("data-lake"),
            MONTE_CARLO_PUSH_RESULTS=str(DEMO / "results"),
            MONTE_CARLO_PUSH_STATE_PATH=str(DEMO / "push_state"),
            MONTE_CARLO_SENSOR_POKE_INTERVAL="1",
        )
        # Monte Carlo processes pushes asynchronously (metadata: minutes); the sandbox plays a
        # few seconds of it, so the sensor really defers and its trigger confirms the arrival.
        sandbox.set_visibility(metadata=VISIBLE_AFTER_S, lineage=VISIBLE_AFTER_S)
        airflow = [sys.executable, "-m", "airflow"]
        print("migrating the Airflow metadata DB (SQLite) ...")
        subprocess.run([*airflow, "db", "migrate"], env=env, check=True, capture_output=True)
        print("running: airflow dags test monte_carlo_push_hourly")
        run = subprocess.run(
            [*airflow, "dags", "test", "monte_carlo_push_hourly"], env=env, capture_output=True, text=True
        )
        (DEMO / "dags_test.log").write_text(run.stdout + run.stderr)
        lines = [ln for ln in (run.stdout + run.stderr).splitlines() if any(k in ln for k in LOG_LINES)]
        for line in lines:
            message = re.sub(r"^\S+\s+\[\w+\s*\]\s*", "", line)
            # drop structlog's trailing "[logger.name] loc=file.py:123"
            print("  log:", re.sub(r"\s+\[[\w.]+\](\s+loc=\S+)?\s*$", "", message)[:200])
        if run.returncode != 0:
            print(f"airflow dags test failed (exit {run.returncode}); full log in {DEMO / 'dags_test.log'}")
            return run.returncode
        confirmed = report(sandbox, run.stdout + run.stderr)
    print(f"sandbox stopped; demo took {time.monotonic() - started:.0f} s")
    return 0 if confirmed else 1


def report(sandbox: object, log: str) -> bool:
    """What the push sent (invocation_ids per flow), what the sensor saw, what the sandbox stored;
    True when the sensor confirmed the push."""
    pushes = sandbox.pushes()  # type: ignore[attr-defined]
    print("\ninvocation_ids received:")
    for p in pushes:
        print(f"  {p['kind']:9} {p['invocation_id']}")
    # the sensor's line after its trigger confirmed; or its own first check, if that saw it all
    confirmed = (re.search(r"Monte Carlo shows this push after \d+ check\(s\), \d+ s in the triggerer", log)
                 or re.search(r"Monte Carlo shows this push: [^\[\n]*[^\[\n ]", log))
    print(f"sensor confirmation: {confirmed.group(0) if confirmed else 'NOT CONFIRMED'}")
    events = sandbox.events("metadata")  # type: ignore[attr-defined]
    print(f"\nthe sandbox stored {len(pushes)} push(es): {len(events)} table(s) / view(s)")
    for e in events:
        asset = e["event"]["relational_asset"]
        meta, volume = asset["metadata"], asset.get("volume", {})
        columns = ", ".join(f["name"] for f in asset.get("fields", []))
        print(
            f"  {asset['type']:5} {meta['database']}.{meta['schema']}.{meta['name']:<20} "
            f"rows={volume.get('row_count', '-')}, bytes={volume.get('byte_count', '-')}, columns: {columns}"
        )
    lineage = [e["event"] for e in sandbox.events("lineage")]  # type: ignore[attr-defined]
    print(f"and {len(lineage)} lineage event(s) (view definitions -> table and column edges):")
    for event in lineage:
        sources = {s["asset_id"]: s["name"] for s in event["sources"]}
        print(f"  {', '.join(sorted(sources.values()))} -> {event['destination']['name']}")
        for f in event.get("fields") or []:
            origin = ", ".join(f"{sources.get(sf['asset_id'], sf['asset_id'])}.{sf['field_name']}" for sf in f["source_fields"])
            print(f"      {event['destination']['name']}.{f['name']} <- {origin}")
    results = sorted((DEMO / "results").rglob("*.json"))
    if results:
        print(f"push-result manifest: {results[-1]}")
    return confirmed is not None


if __name__ == "__main__":
    sys.exit(main())
