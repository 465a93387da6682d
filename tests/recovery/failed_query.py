#!/usr/bin/env python3
"""failed_query.py: a query failing at run time takes nothing from the others.

The queries of a session publish their changes in one SQLite transaction at
each commit point; when one of them fails there, that transaction is rolled
back. The other queries must then lose nothing and count nothing twice
(DESIGN §5).

Four continuous queries follow one CSV file of 1000 orders (follow = true,
so they run side by side in the background, in this order): per_minute (a
tumbling window ON WINDOW CLOSE, committing every 300 rows), kept (every
order), refused, per_store (a materialised view). The user put a unique
index on refused's table and a row for order 700 into it, so refused fails
with a constraint violation at the first commit point after it reached
order 700 (every 250 rows: at 750). By then per_minute has published windows
and kept its rows in that transaction: the rollback takes them back.

A second job fails a query at a commit point that another query's
interval called: per_store's changes, published at the commit point, break
a unique index on its counts when kept (committing every 100 rows) commits.
per_store is the one to fail, not kept.

For each job:
1. The first run ends with exit 1 and the failing query `failed: <its
   error>`. Every survivor's committed output must be exactly what its
   committed position says it has read: no commit may record a position
   whose results were rolled back.
2. 200 more orders are appended; `--serve` (commits every 100 rows unless
   the query says otherwise) resumes the survivors until each has read all
   1200, then SIGTERM: every output equals the one computed here from the
   file, every order counted exactly once; the failed query stays failed
   and is not resumed.

usage: failed_query.py SLUICE
Prints TAP.
"""
import argparse
import datetime
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

from kill_harness import ok   # the TAP lines, counted in kill_harness
import kill_harness

N = 1000        # in the first run; 200 more in the second
MORE = 200
DELAY_S = 5
BASE = datetime.datetime(2026, 3, 17, 10, 0, 0)

JOB = """
CREATE SOURCE orders (order_id BIGINT, store_id TEXT, amount DOUBLE,
    event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '%d' SECONDS)
WITH (connector = 'file', path = 'orders.csv', format = 'csv', header = true,
      follow = true);
CREATE STREAMING TABLE per_minute AS
SELECT window_start, COUNT(*) AS n, SUM(amount) AS total
FROM orders WINDOW TUMBLING (SIZE 1 MINUTE) EMIT ON WINDOW CLOSE
WITH (commit_interval = '300 rows');
CREATE STREAMING TABLE kept AS SELECT order_id, amount FROM orders;
CREATE STREAMING TABLE refused AS SELECT order_id FROM orders;
INSERT INTO refused (order_id) VALUES (700);
CREATE UNIQUE INDEX refused_once ON refused (order_id);
CREATE MATERIALIZED VIEW per_store AS
SELECT store_id, COUNT(*) AS n, SUM(amount) AS total FROM orders
GROUP BY store_id;
""" % DELAY_S

SOURCE = JOB[:JOB.index("CREATE STREAMING TABLE")]
COMMIT_JOB = SOURCE + """
CREATE MATERIALIZED VIEW per_store AS
SELECT store_id, COUNT(*) AS n, SUM(amount) AS total FROM orders
GROUP BY store_id;
CREATE UNIQUE INDEX one_store_per_count ON per_store (n);
CREATE STREAMING TABLE kept AS SELECT order_id, amount FROM orders
WITH (commit_interval = '100 rows');
"""

SURVIVORS = {
    "kept": "SELECT order_id, round(amount, 6) FROM kept",
    "per_minute": "SELECT window_start, n, round(total, 6) FROM per_minute",
    "per_store": "SELECT store_id, n, round(total, 6) FROM per_store",
}

def events():
    """(order_id, store_id, amount, event_time), one a second, in order."""
    return [(i, f"s{i % 7}", (i * 37) % 1000 / 10, BASE + datetime.timedelta(seconds=i))
            for i in range(N + MORE)]


def write_csv(path, evs, mode="w"):
    with open(path, mode) as f:
        if mode == "w":
            f.write("order_id,store_id,amount,event_time\n")
        for i, store, amount, t in evs:
            f.write(f"{i},{store},{amount},{t:%Y-%m-%d %H:%M:%S}\n")


def expected(name, evs):
    """What survivor `name` has published after reading evs (sorted rows)."""
    if name == "kept":
        return sorted((i, round(a, 6)) for i, _, a, _ in evs)
    if name == "per_store":
        groups = {}
        for _, store, a, _ in evs:
            n, total = groups.get(store, (0, 0.0))
            groups[store] = (n + 1, total + a)
        return sorted((k, n, round(t, 6)) for k, (n, t) in groups.items())
    # per_minute: a window is published once the watermark (the largest
    # event time minus the delay) has reached its end
    if not evs:
        return []
    wm = max(t for *_, t in evs) - datetime.timedelta(seconds=DELAY_S)
    windows = {}
    for _, _, a, t in evs:
        start = t.replace(second=0)
        n, total = windows.get(start, (0, 0.0))
        windows[start] = (n + 1, total + a)
    return sorted((f"{s:%Y-%m-%d %H:%M:%S}.000", n, round(tot, 6))
                  for s, (n, tot) in windows.items()
                  if s + datetime.timedelta(minutes=1) <= wm)


def table(db, name):
    con = sqlite3.connect(db)
    try:
        return sorted(tuple(r) for r in con.execute(SURVIVORS[name]))
    finally:
        con.close()


def committed_rows_in(db):
    con = sqlite3.connect(db)
    try:
        return {q: int(v) for q, v in con.execute(
            "SELECT query, value FROM sluice_metrics WHERE name = 'rows_in'")}
    finally:
        con.close()


def status(db, name):
    con = sqlite3.connect(db)
    try:
        row = con.execute("SELECT status FROM sluice_catalog WHERE name = ?",
                          (name,)).fetchone()
        return row[0] if row else None
    finally:
        con.close()


def diff(want, got):
    missing = [r for r in want if r not in got]
    extra = [r for r in got if r not in want]
    return (f"want {len(want)} rows, got {len(got)}\n"
            f"missing (first 5): {missing[:5]}\nextra (first 5): {extra[:5]}")


def env(commit_rows=None):
    """Batches of 100 rows; commits every commit_rows rows, else none but
    the ones at a query's start and at the end of the run."""
    e = dict(os.environ)
    e["SLUICE_BATCH_ROWS"] = "100"
    e.pop("SLUICE_COMMIT_ROWS", None)
    if commit_rows:
        e["SLUICE_COMMIT_ROWS"] = str(commit_rows)
    e["SLUICE_COMMIT_INTERVAL_MS"] = "3600000"
    return e


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sluice")
    sluice = os.path.abspath(ap.parse_args().sluice)
    for job, failing, why, survivors in [
            (JOB, "refused", "cannot write to refused: UNIQUE constraint "
             "failed: refused.order_id", ["per_minute", "kept", "per_store"]),
            (COMMIT_JOB, "per_store", "cannot write to per_store: UNIQUE "
             "constraint failed: per_store.n", ["kept"])]:
        d = tempfile.mkdtemp(prefix="sluice-failed-query-")
        try:
            run(sluice, d, job, failing, why, survivors)
        finally:
            shutil.rmtree(d, ignore_errors=True)
    print(f"1..{kill_harness.n_tests}")
    return 1 if kill_harness.failed else 0


def run(sluice, d, job, failing, why, survivors):
    """Runs job, in which query failing fails with error why beside the
    survivors; then resumes the survivors over the whole file."""
    evs = events()
    write_csv(os.path.join(d, "orders.csv"), evs[:N])
    db = os.path.join(d, "t.db")

    # 1. the failing query fails while the others run beside it
    p = subprocess.run([sluice, "t.db", "-c", job], cwd=d, env=env(250),
                       capture_output=True, text=True, timeout=120)
    ok(p.returncode == 1 and why in p.stderr,
       f"{failing}_reports_its_error_and_exits_1",
       f"exit {p.returncode}\nstderr:\n{p.stderr}")
    ok("warning" not in p.stderr, f"the_others_restart_after_{failing}_fails",
       p.stderr)
    ok(status(db, failing) == "failed: " + why, f"{failing}_is_marked_failed",
       str(status(db, failing)))
    rows_in = committed_rows_in(db)
    for name in survivors:
        ok(status(db, name) == "running", f"{name}_keeps_running",
           str(status(db, name)))
        r = rows_in.get(name, 0)
        want = expected(name, evs[:r])
        got = table(db, name)
        ok(got == want, f"{name}_committed_output_matches_its_committed_position",
           f"committed rows_in = {r}\n" + diff(want, got))
    failed_rows_in = rows_in.get(failing)

    # 2. resumed, the survivors read everything: each order exactly once
    write_csv(os.path.join(d, "orders.csv"), evs[N:], "a")
    code, err = run_until(sluice, d, ["--serve"], db, survivors)
    rows_in = committed_rows_in(db)
    ok(all(rows_in.get(name) == N + MORE for name in survivors),
       "the_survivors_resume_and_read_every_order", str(rows_in))
    named = (f"warning: {'materialized view' if failing == 'per_store' else 'streaming table'}"
             f" {failing} is failed: {why}")
    ok(code == 0 and err.startswith(named) and err.count("\n") == 1,
       "serve_names_the_failed_query_and_stops_on_sigterm_with_exit_0",
       f"exit {code}\nstderr:\n{err}")
    for name in survivors:
        want = expected(name, evs)
        got = table(db, name)
        ok(got == want, f"{name}_counts_every_order_exactly_once", diff(want, got))
    ok(status(db, failing) == "failed: " + why and
       committed_rows_in(db).get(failing) == failed_rows_in,
       f"{failing}_is_not_resumed", str(status(db, failing)))
    if failing == "refused":
        resume_refused(sluice, d, db, evs)


def run_until(sluice, d, args, db, queries):
    """Runs sluice on t.db with args until every query in queries has
    committed all N + MORE orders (at most 20 s), then SIGTERM; returns
    its exit status and stderr."""
    p = subprocess.Popen([sluice, "t.db"] + args, cwd=d, env=env(100),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    while time.time() < deadline and p.poll() is None:
        rows_in = committed_rows_in(db)
        if all(rows_in.get(name) == N + MORE for name in queries):
            break
        time.sleep(0.05)
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        code = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        code = p.wait()
    err = p.stderr.read()
    p.stdout.close()
    p.stderr.close()
    return code, err


def resume_refused(sluice, d, db, evs):
    """3. The cause removed (the unique index dropped), ALTER ... RESUME
    continues refused from its last commit: every order once, beside the
    row the user added."""
    code, err = run_until(sluice, d, ["-c", "DROP INDEX refused_once; ALTER "
                                      "STREAMING TABLE refused RESUME;"],
                          db, ["refused"])
    ok(code == 0, "alter_resume_runs", f"exit {code}\n{err}")
    con = sqlite3.connect(db)
    try:
        got = sorted(r[0] for r in con.execute("SELECT order_id FROM refused"))
    finally:
        con.close()
    want = sorted([i for i, *_ in evs] + [700])
    ok(got == want and status(db, "refused") == "running",
       "alter_resume_continues_from_the_last_commit_exactly_once",
       f"status {status(db, 'refused')}\n" + diff(want, got))

if __name__ == "__main__":
    sys.exit(main())
