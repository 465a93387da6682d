#!/usr/bin/env python3
"""concurrent.py: readers see whole commits, never errors (DESIGN.md
section 3: WAL mode, results and metrics in one transaction per commit).

sluice runs a big bounded job (2M disorderly events by default, a commit
every 2,000 rows) while a separate python process reads the database in a
loop, each iteration one read transaction, and checks invariants that hold
at every commit point because sluice writes results, late events and
metrics in the same transaction:

- st, a STREAMING TABLE (every event):       COUNT(*) = rows_in - dead_letters
- tot, plain GROUP BY, EMIT CHANGES:         SUM(c)   = rows_in - dead_letters
- fv, tumbling, EMIT ON WINDOW CLOSE:        a row once seen never changes
                                             (append-only) and
                                             COUNT(sluice_late_events) = late_events
- wv, tumbling, EMIT CHANGES:                SUM(c)   = rows_in - late_events - dead_letters
                                             and COUNT(sluice_late_events) = late_events

The reader must never get an error or a lock timeout (busy timeout 2 s), and
must have observed the jobs mid-way (snapshots with 0 < rows_in < total),
otherwise the test proves nothing and fails. The final state is checked
against the whole input too.

Usage: concurrent.py SLUICE [--events N]
       concurrent.py --reader DB TOTAL      (the reader process; prints JSON)
"""

import json
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

BASE_MS = 1773705600000
QUERIES = ["st", "tot", "fv", "wv"]


def metrics(con, q):
    m = {name: val for name, val in con.execute(
        "SELECT name, value FROM sluice_metrics WHERE query = ?", (q,))}
    return m


def reader(db, total):
    """Reads snapshots until the file 'db.done' appears; prints stats."""
    stats = {"snapshots": 0, "errors": [], "violations": [], "midway": {q: 0 for q in QUERIES}}
    fv_seen = {}
    deadline = time.time() + 600
    con = None
    while time.time() < deadline:
        done = os.path.exists(db + ".done")
        if not os.path.exists(db):
            time.sleep(0.01)
            continue
        try:
            if con is None:
                con = sqlite3.connect(db, timeout=2.0, isolation_level=None)
            con.execute("BEGIN")
            try:
                tables = {r[0] for r in con.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
                for q in QUERIES:
                    if q not in tables:
                        continue
                    m = metrics(con, q)
                    if "rows_in" not in m:
                        continue
                    rows_in = int(m["rows_in"])
                    late = int(m.get("late_events") or 0)
                    dead = int(m.get("dead_letters") or 0)
                    if 0 < rows_in < total:
                        stats["midway"][q] += 1
                    nlate = con.execute("SELECT COUNT(*) FROM sluice_late_events "
                                        "WHERE query = ?", (q,)).fetchone()[0]
                    if q == "st":
                        have = con.execute("SELECT COUNT(*) FROM st").fetchone()[0]
                        want = rows_in - dead
                    elif q == "tot":
                        have = con.execute("SELECT COALESCE(SUM(c), 0) FROM tot").fetchone()[0]
                        want = rows_in - dead
                    elif q == "wv":
                        have = con.execute("SELECT COALESCE(SUM(c), 0) FROM wv").fetchone()[0]
                        want = rows_in - late - dead
                    else:
                        have = want = 0
                        for r in con.execute("SELECT * FROM fv"):
                            key = (r[0], r[1])
                            if key in fv_seen and fv_seen[key] != r:
                                stats["violations"].append("fv row changed: %r -> %r"
                                                           % (fv_seen[key], r))
                            fv_seen[key] = r
                    if have != want:
                        stats["violations"].append(
                            "%s: %r in the table but metrics say %r (rows_in %d, late %d, "
                            "dead %d)" % (q, have, want, rows_in, late, dead))
                    if nlate != late:
                        stats["violations"].append(
                            "%s: %d rows in sluice_late_events, metric late_events %d"
                            % (q, nlate, late))
            finally:
                con.execute("COMMIT")
            stats["snapshots"] += 1
        except sqlite3.Error as e:
            stats["errors"].append(str(e))
            if con is not None:
                try:
                    con.close()
                except sqlite3.Error:
                    pass
                con = None
            time.sleep(0.01)
        if done:
            break
        if len(stats["violations"]) > 20 or len(stats["errors"]) > 20:
            break
    json.dump(stats, sys.stdout)
    return 0


def generate(path, n):
    """n events, 50 keys, 4 ms apart in event time with a little disorder
    (every 997th event 30 s late), epoch-ms timestamps."""
    with open(path, "w", buffering=1 << 20) as out:
        out.write("id,k,v,ts\n")
        chunk = 100000
        for start in range(0, n, chunk):
            out.write("".join(
                "%d,k%d,%d,%d\n" % (i, i % 50, i % 13,
                                    BASE_MS + i * 4 - (30000 if i % 997 == 0 else 0))
                for i in range(start, min(n, start + chunk))))


def main():
    if sys.argv[1] == "--reader":
        return reader(sys.argv[2], int(sys.argv[3]))
    sluice = os.path.abspath(sys.argv[1])
    n = 2000000
    if len(sys.argv) > 3 and sys.argv[2] == "--events":
        n = int(sys.argv[3])
    import sluicerun as sr
    d = sr.scratch_dir() if n <= 2000000 else __import__("tempfile").mkdtemp()
    csv = os.path.join(d, "in.csv")
    db = os.path.join(d, "t.db")
    generate(csv, n)
    src = ("CREATE SOURCE src (id BIGINT, k TEXT, v BIGINT, ts TIMESTAMP, "
           "WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH (connector = 'file', "
           "path = 'in.csv', format = 'csv', header = true, timestamp_format = 'epoch_ms');")
    views = [
        "CREATE STREAMING TABLE st AS SELECT id, k, v FROM src;",
        "CREATE MATERIALIZED VIEW tot AS SELECT k, COUNT(*) AS c, SUM(v) AS s FROM src "
        "GROUP BY k EMIT CHANGES;",
        "CREATE MATERIALIZED VIEW fv AS SELECT k, window_start, window_end, COUNT(*) AS c, "
        "SUM(v) AS s FROM src WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY k "
        "EMIT ON WINDOW CLOSE;",
        "CREATE MATERIALIZED VIEW wv AS SELECT k, window_start, window_end, COUNT(*) AS c "
        "FROM src WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY k EMIT CHANGES;",
    ]
    print("1..%d" % (len(views) + 4))
    rd = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--reader", db, str(n)],
                          stdout=subprocess.PIPE)
    env = dict(os.environ, SLUICE_COMMIT_ROWS="2000", SLUICE_BATCH_ROWS="500")
    env.pop("SLUICE_COMMIT_INTERVAL_MS", None)
    t0 = time.time()
    results = []
    for i, v in enumerate(views):
        p = subprocess.run([sluice, db, "-c", (src if i == 0 else "") + v], env=env, cwd=d,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        results.append((p.returncode, p.stderr.decode(errors="replace")[:300]))
    secs = time.time() - t0
    open(db + ".done", "w").close()
    out, _ = rd.communicate(timeout=120)
    stats = json.loads(out)
    failed = 0
    t = 0
    for (rc, err), q in zip(results, QUERIES):
        t += 1
        if rc == 0:
            print("ok %d - job %s finished (exit 0)" % (t, q))
        else:
            failed += 1
            print("not ok %d - job %s: exit %d %s" % (t, q, rc, err.strip()))
    t += 1
    if stats["errors"]:
        failed += 1
        print("not ok %d - the reader got %d errors, e.g. %s"
              % (t, len(stats["errors"]), stats["errors"][0]))
    else:
        print("ok %d - %d read snapshots in %.1f s, no error or lock timeout"
              % (t, stats["snapshots"], secs))
    t += 1
    if stats["violations"]:
        failed += 1
        print("not ok %d - a snapshot showed a half-applied commit" % t)
        for v in stats["violations"][:10]:
            print("# " + v)
    else:
        print("ok %d - every snapshot satisfied the per-commit invariants" % t)
    t += 1
    mid = stats["midway"]
    if all(mid[q] >= 3 for q in QUERIES if results[QUERIES.index(q)][0] == 0):
        print("ok %d - the reader saw every job mid-way (%s)"
              % (t, ", ".join("%s: %d" % (q, mid[q]) for q in QUERIES)))
    else:
        failed += 1
        print("not ok %d - the reader did not see the jobs mid-way (%s)"
              % (t, ", ".join("%s: %d" % (q, mid[q]) for q in QUERIES)))
    t += 1
    con = sqlite3.connect(db)
    final = []
    for q in QUERIES:
        m = metrics(con, q)
        if m.get("rows_in") != n:
            final.append("%s: rows_in %r, want %d" % (q, m.get("rows_in"), n))
    total = con.execute("SELECT SUM(c) FROM tot").fetchone()[0] if "tot" not in str(final) else None
    if total != n:
        final.append("tot: SUM(c) = %r, want %d" % (total, n))
    con.close()
    if final:
        failed += 1
        print("not ok %d - the final state covers the whole input" % t)
        for f in final:
            print("# " + f)
    else:
        print("ok %d - the final state covers the whole input (%d events)" % (t, n))
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    os.rmdir(d)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
