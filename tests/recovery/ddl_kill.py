#!/usr/bin/env python3
"""ddl_kill.py: kill -9 during DROP and CREATE OR REPLACE (issue 13, item 1).

A database holds a materialised view of 300 000 rows over a bounded CSV
source. Copies of it are given, one at a time, a DROP MATERIALIZED VIEW or
a CREATE OR REPLACE MATERIALIZED VIEW of it, and sluice is killed with
SIGKILL at a random moment of that statement (5 to 200 ms in: dropping a
table that size takes about 100 ms). After every kill:

- DROP: the view is there whole (its catalog row and its 300 000 rows) or
  gone whole (no catalog row, no table, no state, no positions); running
  the DROP again then leaves it gone.
- CREATE OR REPLACE: the catalog row and the table are there together;
  restarting sluice on the database finishes the new view, which then has
  the new definition's rows.

Before, the three steps of a DROP were three transactions: a kill between
them left a catalog row without its table (the view gone for good while
the catalog said done) or an empty table without a catalog row.

usage: ddl_kill.py SLUICE [--trials N] [--seed S]
Prints TAP.
"""
import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

from kill_harness import ok   # the TAP lines, counted in kill_harness
import kill_harness

ROWS = 300_000




SETUP = """
CREATE SOURCE orders (order_id BIGINT, store_id TEXT, amount DOUBLE)
WITH (connector = 'file', path = 'orders.csv', format = 'csv', header = false);
CREATE MATERIALIZED VIEW big AS
SELECT order_id, COUNT(*) AS n, SUM(amount) AS total FROM orders
GROUP BY order_id;
"""
DROP = "DROP MATERIALIZED VIEW big;"
REPLACE = """CREATE OR REPLACE MATERIALIZED VIEW big AS
SELECT order_id, COUNT(*) AS n, MAX(amount) AS biggest FROM orders
GROUP BY order_id;"""


def state(db):
    """(catalog sql or None, catalog status, table row count or None,
    rows of big in sluice_state/sluice_offsets)."""
    con = sqlite3.connect(db)
    try:
        row = con.execute("SELECT sql, status FROM sluice_catalog "
                          "WHERE name = 'big'").fetchone()
        has_table = con.execute("SELECT COUNT(*) FROM sqlite_schema WHERE "
                                "name = 'big'").fetchone()[0] > 0
        count = con.execute("SELECT COUNT(*) FROM big").fetchone()[0] \
            if has_table else None
        kept = con.execute("SELECT (SELECT COUNT(*) FROM sluice_offsets "
                           "WHERE query = 'big') + (SELECT COUNT(*) FROM "
                           "sluice_metrics WHERE query = 'big')").fetchone()[0]
        return (row[0] if row else None, row[1] if row else None, count, kept)
    finally:
        con.close()


def copy_db(src_dir, dst_dir):
    os.makedirs(dst_dir)
    for f in os.listdir(src_dir):
        if f.startswith("t.db"):
            shutil.copy(os.path.join(src_dir, f), dst_dir)
    os.symlink(os.path.join(src_dir, "orders.csv"),
               os.path.join(dst_dir, "orders.csv"))


def kill_during(sluice, d, sql, delay):
    p = subprocess.Popen([sluice, "t.db", "-c", sql], cwd=d,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sluice")
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    a = ap.parse_args()
    sluice = os.path.abspath(a.sluice)
    rnd = random.Random(a.seed)
    print(f"# seed {a.seed}")
    top = tempfile.mkdtemp(prefix="sluice-ddl-kill-")
    try:
        base = os.path.join(top, "base")
        os.makedirs(base)
        with open(os.path.join(base, "orders.csv"), "w") as f:
            for i in range(ROWS):
                f.write(f"{i},s{i % 13},{i % 1000}\n")
        p = subprocess.run([sluice, "t.db", "-c", SETUP], cwd=base,
                           capture_output=True, text=True)
        st = state(os.path.join(base, "t.db"))
        ok(p.returncode == 0 and st[1] == "done" and st[2] == ROWS,
           "setup_builds_the_view", f"{st}\n{p.stderr}")
        drops = replaces = 0
        for t in range(a.trials):
            delay = rnd.uniform(0.005, 0.2)
            d = os.path.join(top, f"drop{t}")
            copy_db(base, d)
            kill_during(sluice, d, DROP, delay)
            db = os.path.join(d, "t.db")
            sql, status, count, kept = state(db)
            whole = sql is not None and count == ROWS and status == "done"
            gone = sql is None and count is None and kept == 0
            drops += whole or gone
            ok(whole or gone, f"drop_killed_after_{delay * 1000:.0f}_ms_"
               "leaves_the_view_whole_or_gone",
               f"catalog {sql and sql[:40]!r} status {status}, table rows "
               f"{count}, offsets+metrics rows {kept}")
            subprocess.run([sluice, "t.db", "-c",
                            "DROP MATERIALIZED VIEW IF EXISTS big"], cwd=d,
                           capture_output=True)
            sql, status, count, kept = state(db)
            ok(sql is None and count is None and kept == 0,
               "drop_again_leaves_it_gone", (sql, status, count, kept))

            delay = rnd.uniform(0.005, 0.2)
            d = os.path.join(top, f"replace{t}")
            copy_db(base, d)
            kill_during(sluice, d, REPLACE, delay)
            db = os.path.join(d, "t.db")
            sql, status, count, kept = state(db)
            together = sql is not None and count is not None
            replaces += together
            ok(together, f"replace_killed_after_{delay * 1000:.0f}_ms_keeps_"
               "catalog_row_and_table_together",
               f"catalog {sql and sql[:40]!r} status {status}, table rows {count}")
            p = subprocess.run([sluice, "t.db", "-c", "SELECT 1"], cwd=d,
                               capture_output=True, text=True)
            sql, status, count, kept = state(db)
            if sql is not None and "MAX(amount)" in sql:
                good = status == "done" and count == ROWS
            else:
                good = status == "done" and count == ROWS
            ok(good, "restart_after_replace_kill_finishes_a_whole_view",
               f"catalog {sql and sql[:60]!r} status {status}, rows {count}"
               f"\n{p.stderr}")
            shutil.rmtree(os.path.join(top, f"drop{t}"), ignore_errors=True)
            shutil.rmtree(d, ignore_errors=True)
        print(f"# {drops} of {a.trials} drops and {replaces} of {a.trials} "
              "replaces consistent after the kill")
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print(f"1..{kill_harness.n_tests}")
    return 1 if kill_harness.failed else 0


if __name__ == "__main__":
    sys.exit(main())
