#!/usr/bin/env python3
"""transient.py: causes that pass never fail a query; the write lock is free
between commit points; a database deleted under sluice stops it (issue 13,
items 2, 5 and 6; DESIGN §1 and §5).

One job follows a CSV file (follow = true) into a streaming table (every
order) and a materialised view (orders per store), committing every 200 ms,
while this script appends orders and acts as another program would:

1. another_writer_gets_the_lock: a BEGIN IMMEDIATE with a 30 s timeout gets
   the write lock within 2 s while sluice runs (sluice holds it only while
   it commits), and the other program's own table is written.
2. lock_held_past_the_busy_timeout: the other program holds the write lock
   for 12 s (longer than sluice's 10 s busy timeout): sluice says it is
   waiting, keeps its queries running, and continues when the lock is free.
3. write_error: sluice's file-size limit is lowered under it (prlimit: its
   writes fail, as on a full disk), then raised: sluice waits, then
   continues.
   After all three, every order is counted exactly once and both queries
   are still running.
4. database_deleted: the database file is removed while sluice runs: sluice
   stops within seconds with exit 1 and a message naming the file.

usage: transient.py SLUICE
Prints TAP.
"""
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





JOB = """
CREATE SOURCE orders (order_id BIGINT, store_id TEXT, amount DOUBLE)
WITH (connector = 'file', path = 'orders.csv', format = 'csv', header = false,
      follow = true);
CREATE STREAMING TABLE kept AS SELECT order_id, amount FROM orders
WITH (commit_interval = '200 milliseconds');
CREATE MATERIALIZED VIEW per_store AS
SELECT store_id, COUNT(*) AS n FROM orders GROUP BY store_id
WITH (commit_interval = '200 milliseconds');
"""


class Job:
    def __init__(self, sluice, d):
        self.d = d
        self.csv = os.path.join(d, "orders.csv")
        self.db = os.path.join(d, "t.db")
        self.next_id = 0
        open(self.csv, "w").close()
        self.err = open(os.path.join(d, "stderr"), "w+")
        self.p = subprocess.Popen([sluice, "t.db", "-c", JOB], cwd=d,
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=self.err)

    def append(self, n):
        with open(self.csv, "a") as f:
            for _ in range(n):
                i = self.next_id
                f.write(f"{i},s{i % 5},{i % 100}\n")
                self.next_id += 1

    def stderr(self):
        self.err.flush()
        with open(self.err.name) as f:
            return f.read()

    def counted(self):
        """(rows in kept, distinct ids in kept, sum of per_store.n)."""
        con = sqlite3.connect(self.db, timeout=30)
        try:
            kept = con.execute("SELECT COUNT(*), COUNT(DISTINCT order_id) "
                               "FROM kept").fetchone()
            n = con.execute("SELECT COALESCE(SUM(n), 0) FROM per_store").fetchone()
            return kept[0], kept[1], n[0]
        finally:
            con.close()

    def wait_counted(self, want, timeout=30):
        deadline = time.time() + timeout
        got = None
        while time.time() < deadline:
            try:
                got = self.counted()
            except sqlite3.Error:
                got = None
            if got == (want, want, want):
                return got
            time.sleep(0.1)
        return got

    def statuses(self):
        con = sqlite3.connect(self.db, timeout=30)
        try:
            return dict(con.execute("SELECT name, status FROM sluice_catalog "
                                    "WHERE kind != 'source'"))
        finally:
            con.close()


def main():
    sluice = os.path.abspath(sys.argv[1])
    d = tempfile.mkdtemp(prefix="sluice-transient-")
    job = Job(sluice, d)
    try:
        run(job)
    finally:
        if job.p.poll() is None:
            job.p.kill()
            job.p.wait()
        shutil.rmtree(d, ignore_errors=True)
    print(f"1..{kill_harness.n_tests}")
    return 1 if kill_harness.failed else 0


def run(job):
    job.append(1000)
    got = job.wait_counted(1000)
    ok(got == (1000, 1000, 1000), "the_job_runs", got)

    # 1. another program gets the write lock between commit points
    con = sqlite3.connect(job.db, timeout=30, isolation_level=None)
    t = time.time()
    con.execute("BEGIN IMMEDIATE")
    waited = time.time() - t
    con.execute("CREATE TABLE IF NOT EXISTS dims (k TEXT PRIMARY KEY, v TEXT)")
    con.execute("INSERT INTO dims VALUES ('a', 'b')")
    con.execute("COMMIT")
    ok(waited < 2, "another_writer_gets_the_lock", f"waited {waited:.2f} s")

    # 2. the lock held longer than sluice's busy timeout
    job.append(500)
    con.execute("BEGIN IMMEDIATE")
    time.sleep(12)
    job.append(500)
    con.execute("COMMIT")
    con.close()
    got = job.wait_counted(2000)
    err = job.stderr()
    ok(got == (2000, 2000, 2000) and job.p.poll() is None,
       "lock_held_past_the_busy_timeout_is_waited_out",
       f"counted {got}, exit {job.p.poll()}\n{err}")
    ok("waiting: " in err and "database is locked" in err and "resumed" in err,
       "sluice_says_what_it_waits_for", err)

    if job.p.poll() is not None:
        ok(False, "sluice_still_runs", f"exit {job.p.poll()}\n{job.stderr()}")
        return
    # 3. writes fail (a file-size limit stands for a full disk), then pass
    # no write past the first 4 KiB of any file: every commit fails
    subprocess.run(["prlimit", "--pid", str(job.p.pid),
                    "--fsize=4096:unlimited"], check=True)
    job.append(3000)
    time.sleep(3)
    before = job.stderr().count("waiting: ")
    subprocess.run(["prlimit", "--pid", str(job.p.pid),
                    "--fsize=unlimited:unlimited"], check=True)
    got = job.wait_counted(5000)
    ok(got == (5000, 5000, 5000) and job.p.poll() is None and
       before >= 2, "write_error_is_waited_out_and_nothing_is_doubled",
       f"counted {got}, exit {job.p.poll()}\n{job.stderr()}")
    st = job.statuses()
    ok(st == {"kept": "running", "per_store": "running"},
       "no_query_failed", st)

    # 4. the database file deleted under sluice
    os.unlink(job.db)
    job.append(10)
    try:
        code = job.p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        code = None
    err = job.stderr()
    ok(code == 1 and "t.db was deleted or replaced" in err,
       "database_deleted_stops_sluice_naming_it", f"exit {code}\n{err}")


if __name__ == "__main__":
    sys.exit(main())
