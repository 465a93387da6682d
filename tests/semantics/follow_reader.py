#!/usr/bin/env python3
"""follow_reader.py: a query over a streaming table whose query follows a
file (DESIGN rule 8, docs/dataflow.md stage 1).

1. One -c run (kept running by the unbounded source): a source with
   follow = true over in.csv, a STREAMING TABLE `up` copying it (bronze),
   a second streaming table `down` reading `up` (silver, a filter) and a
   materialised view `per_k` reading `down` (counts and sums per key).
2. Lines appended while sluice runs must reach `down` and `per_k` (the
   readers poll `up`'s committed rows); the latency is printed.
3. SIGTERM: exit 0; `down` holds each kept line once, `per_k` equals the
   counts over the lines.
4. Restart with --serve (every query resumes from its last commit: the
   readers from the rowid they had read), append more lines, SIGTERM: still
   each line once, nothing doubled.

Usage: follow_reader.py SLUICE
"""

import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluicerun as sr                          # noqa: E402

# the helpers of follow.py: ok() records in follow.tests
from follow import TIMEOUT, ok, line_of, stop, tests  # noqa: E402


def kept(events):
    """The events `down` keeps (its WHERE)."""
    return [e for e in events if e["n"] is not None and e["n"] % 3 != 0]


def expected_per_k(events):
    out = {}
    for e in kept(events):
        c, s = out.get(e["k"], (0, 0))
        out[e["k"]] = (c + 1, s + e["n"])
    return sorted((k, c, s) for k, (c, s) in out.items())


def read(db):
    """(ids in down, rows of per_k), or None while they do not exist."""
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        try:
            ids = [r[0] for r in con.execute("SELECT id FROM down")]
            per_k = sorted(tuple(r) for r in con.execute("SELECT k, c, s FROM per_k"))
            return ids, per_k
        finally:
            con.close()
    except sqlite3.Error:
        return None


def wait_for(db, events, proc):
    """Polls until down and per_k reflect every event; returns the seconds
    it took, or None on timeout or if sluice died."""
    want_ids = sorted(e["id"] for e in kept(events))
    want_k = expected_per_k(events)
    t0 = time.time()
    while time.time() - t0 < TIMEOUT:
        got = read(db)
        if got is not None and sorted(got[0]) == want_ids and got[1] == want_k:
            return time.time() - t0
        if proc.poll() is not None:
            return None
        time.sleep(0.01)
    return None


def check_once(db, events, when):
    got = read(db)
    ids = got[0] if got else []
    want = sorted(e["id"] for e in kept(events))
    ok(sorted(ids) == want, "%s: down holds every kept line exactly once" % when,
       "expected %d ids, got %d (%d distinct)" % (len(want), len(ids), len(set(ids))))
    ok(got is not None and got[1] == expected_per_k(events),
       "%s: per_k equals the counts over the lines" % when,
       "expected %r\ngot %r" % (expected_per_k(events), got and got[1]))


def main():
    sluice = os.path.abspath(sys.argv[1])
    d = sr.scratch_dir()
    db = os.path.join(d, "t.db")
    rng = sr.rng_for(7)
    events = sr.gen_events(rng, 90, ts_null_rate=0)
    path = os.path.join(d, "in.csv")
    with open(path, "w") as f:
        f.write(sr.to_csv(events[:20]))
    sql = (sr.source_sql("in.csv", 2000, follow=True) +
           "CREATE STREAMING TABLE up AS SELECT * FROM src;"
           "CREATE STREAMING TABLE down AS SELECT id, k, n, ts FROM up "
           "WHERE n % 3 <> 0;"
           "CREATE MATERIALIZED VIEW per_k AS SELECT k, COUNT(*) AS c, SUM(n) AS s "
           "FROM down GROUP BY k;")
    env = dict(os.environ, SLUICE_COMMIT_INTERVAL_MS="100")
    print("1..9")
    proc = subprocess.Popen([sluice, db, "-c", sql], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=d)
    t = wait_for(db, events[:20], proc)
    ok(t is not None, "the readers read the upstream's first rows",
       "sluice exit %r" % proc.poll())
    lat = []
    with open(path, "a") as f:
        for chunk in (events[20:35], events[35:50]):
            f.write("".join(line_of(e) for e in chunk))
            f.flush()
            lat.append(wait_for(db, events[:events.index(chunk[-1]) + 1], proc))
    ok(all(x is not None for x in lat), "appended lines reach the readers of the "
       "readers (latency %s s)" % ", ".join("%.2f" % x for x in lat if x is not None))
    rc, err = stop(proc)
    ok(rc == 0, "SIGTERM: sluice commits and exits 0", "exit %r, stderr: %s" % (rc, err))
    check_once(db, events[:50], "first run")

    proc = subprocess.Popen([sluice, db, "--serve"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=d)
    with open(path, "a") as f:
        f.write("".join(line_of(e) for e in events[50:]))
    t = wait_for(db, events, proc)
    ok(t is not None, "after a restart, the readers catch up with new lines",
       "sluice exit %r" % proc.poll())
    rc, err = stop(proc)
    ok(rc == 0, "SIGTERM after --serve: exit 0", "exit %r, stderr: %s" % (rc, err))
    check_once(db, events, "both runs")
    return 0 if all(tests) else 1


if __name__ == "__main__":
    sys.exit(main())
