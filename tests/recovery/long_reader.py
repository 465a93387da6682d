#!/usr/bin/env python3
"""long_reader.py: a reader holding one snapshot does not leave the WAL big
(issue 13, item 18; docs/operations.md "Long readers").

sluice follows a CSV file into a streaming table while this script appends
rows. A reader (another program) opens a read transaction and holds its
snapshot for a few seconds: no checkpoint can pass it, so the WAL grows
past 16 MiB, and sluice_metrics ('(database)', 'wal_bytes') shows it. Once
the reader lets go, sluice checkpoints and truncates the WAL within a few
seconds (to at most journal_size_limit, 4 MiB), and says so in the metric.
Before, the WAL stayed at its largest size for good.

usage: long_reader.py SLUICE
Prints TAP.
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

from kill_harness import ok   # the TAP lines, counted in kill_harness
import kill_harness

LIMIT = 4 << 20




JOB = """
CREATE SOURCE ev (id BIGINT, pad TEXT)
WITH (connector = 'file', path = 'ev.csv', format = 'csv', header = false,
      follow = true);
CREATE STREAMING TABLE kept AS SELECT id, pad FROM ev
WITH (commit_interval = '100 milliseconds');
"""


def main():
    sluice = os.path.abspath(sys.argv[1])
    d = tempfile.mkdtemp(prefix="sluice-long-reader-")
    csv = os.path.join(d, "ev.csv")
    db = os.path.join(d, "t.db")
    wal = db + "-wal"
    open(csv, "w").close()
    p = subprocess.Popen([sluice, "t.db", "-c", JOB], cwd=d,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    next_id = [0]

    def append(n):
        with open(csv, "a") as f:
            for _ in range(n):
                f.write(f"{next_id[0]},{'x' * 80}\n")
                next_id[0] += 1

    def metric():
        con = sqlite3.connect(db, timeout=30)
        try:
            r = con.execute("SELECT value FROM sluice_metrics WHERE query = "
                            "'(database)' AND name = 'wal_bytes'").fetchone()
            return r[0] if r else None
        finally:
            con.close()

    try:
        append(1000)
        time.sleep(1)
        # the long reader: one snapshot held while sluice writes ~40 MiB
        reader = sqlite3.connect(db, timeout=30, isolation_level=None)
        reader.execute("BEGIN")
        first = reader.execute("SELECT COUNT(*) FROM kept").fetchone()[0]
        for _ in range(8):
            append(50_000)
            time.sleep(0.4)
        time.sleep(1.5)
        grown = os.path.getsize(wal)
        seen = metric()
        still = reader.execute("SELECT COUNT(*) FROM kept").fetchone()[0]
        reader.execute("COMMIT")
        reader.close()
        ok(grown > 4 * LIMIT and still == first,
           "the_wal_grows_while_a_reader_holds_its_snapshot",
           f"wal {grown} bytes, reader saw {first} then {still}")
        ok(seen is not None and seen > 4 * LIMIT,
           "wal_bytes_metric_shows_it", f"metric {seen}, wal {grown}")
        # the reader is gone: a little more input, and sluice tidies up
        deadline = time.time() + 10
        size = os.path.getsize(wal)
        while time.time() < deadline and size > LIMIT:
            append(100)
            time.sleep(0.3)
            size = os.path.getsize(wal)
        ok(size <= LIMIT, "the_wal_is_truncated_once_the_reader_is_gone",
           f"wal {size} bytes (limit {LIMIT}), was {grown}")
        deadline = time.time() + 5
        m = metric()
        while time.time() < deadline and (m is None or m > LIMIT):
            append(10)
            time.sleep(0.3)
            m = metric()
        ok(m is not None and m <= LIMIT, "wal_bytes_metric_follows",
           f"metric {m}")
        ok(p.poll() is None, "sluice_keeps_running", p.poll())
    finally:
        p.terminate()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        shutil.rmtree(d, ignore_errors=True)
    print(f"1..{kill_harness.n_tests}")
    return 1 if kill_harness.failed else 0


if __name__ == "__main__":
    sys.exit(main())
