"""`make demo`: the whole pipeline on one machine with no Monte Carlo account.

Seeds a SQLite "warehouse", starts the local Monte Carlo sandbox, runs the example DAG with
``airflow dags test`` (collect -> push), prints the invocation_ids the push received and what
the sandbox stored, and stops the sandbox.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / ".demo"


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

    shutil.rmtree(DEMO, ignore_errors=True)
    (DEMO / "airflow").mkdir(parents=True)
    (DEMO / "sandbox").mkdir()
    warehouse = DEMO / "warehouse.db"
    seed(warehouse)
    print(f"seeded SQLite warehouse {warehouse} (customers, orders, \"Order Items\", revenue_by_country)")

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
        )
        airflow = [sys.executable, "-m", "airflow"]
        print("migrating the Airflow metadata DB (SQLite) ...")
        subprocess.run([*airflow, "db", "migrate"], env=env, check=True, capture_output=True)
        print("running: airflow dags test monte_carlo_push_hourly")
        run = subprocess.run(
            [*airflow, "dags", "test", "monte_carlo_push_hourly"], env=env, capture_output=True, text=True
        )
        (DEMO / "dags_test.log").write_text(run.stdout + run.stderr)
        lines = [ln for ln in (run.stdout + run.stderr).splitlines() if "invocation_id=" in ln or "collected " in ln]
        for line in lines:
            message = re.sub(r"^\S+\s+\[\w+\s*\]\s*", "", line)
            print("  log:", re.sub(r"\s+\[airflow\.task.*$", "", message)[:200])
        if run.returncode != 0:
            print(f"airflow dags test failed (exit {run.returncode}); full log in {DEMO / 'dags_test.log'}")
            return run.returncode
        pushes = sandbox.pushes()
        events = sandbox.events("metadata")
        print(f"\ninvocation_ids received: {', '.join(p['invocation_id'] for p in pushes)}")
        print(f"the sandbox stored {len(pushes)} push(es) with {len(events)} metadata event(s):")
        for e in events:
            asset = e["event"]["relational_asset"]
            meta, volume = asset["metadata"], asset.get("volume", {})
            print(
                f"  {asset['type']:5} {meta['database']}.{meta['schema']}.{meta['name']:<20} "
                f"{len(asset.get('fields', []))} columns, rows={volume.get('row_count', '-')}, "
                f"bytes={volume.get('byte_count', '-')}"
            )
        results = sorted((DEMO / "results").rglob("*.json"))
        if results:
            print(f"push-result manifest: {results[-1]}")
    print("sandbox stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
