#!/usr/bin/env python3
"""follow.py: a file source with follow = true, tailed by a running sluice.

1. Creates (with -c, in the background: a query over an unbounded source
   keeps the process running) a source with follow = true over in*.csv, a
   STREAMING TABLE copying every event and a tumbling EMIT ON WINDOW CLOSE
   view over it.
2. Appends lines to the file while sluice runs (whole lines, and one line
   written in two pieces with a pause, which must not be read as two rows),
   then adds a second file matching the glob (once a later file exists,
   the earlier one is finished, as docs/formats.md says); polls the streaming table
   with python's sqlite3 until the new rows appear (timeout), and reports
   the latency from append to visible.
3. SIGTERM: sluice must commit and exit 0; every line must be in the
   streaming table exactly once, and the view must hold exactly the windows
   the oracle says are closed (W = max event time - delay, input not ended).
4. Restarts with `sluice DB --serve` (the queries resume from their last
   commit), appends lines to the last file and adds a third, SIGTERM again, and checks exactly-once over
   both runs.

sluice runs with a commit every 100 ms of processing time
(FOLLOW_COMMIT_INTERVAL_MS overrides it), which bounds the latency printed.

Usage: follow.py SLUICE
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle                                   # noqa: E402
import sluicerun as sr                          # noqa: E402

TIMEOUT = 15.0
tests = []


def ok(cond, desc, detail=""):
    tests.append(cond)
    print("%s %d - %s" % ("ok" if cond else "not ok", len(tests), desc))
    if not cond and detail:
        for line in str(detail).splitlines():
            print("# " + line)
    sys.stdout.flush()
    return cond


def line_of(e):
    return sr.to_csv([e]).splitlines()[1] + "\n"


def ids_in(db):
    """(ids of the streaming table, or None while it does not exist)."""
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        try:
            return [r[0] for r in con.execute("SELECT id FROM st")]
        finally:
            con.close()
    except sqlite3.Error:
        return None


def wait_for(db, want, proc):
    """Polls until the streaming table holds every id in want; returns the
    seconds it took, or None on timeout or if sluice died."""
    t0 = time.time()
    while time.time() - t0 < TIMEOUT:
        got = ids_in(db)
        if got is not None and want <= set(got):
            return time.time() - t0
        if proc.poll() is not None:
            return None
        time.sleep(0.01)
    return None


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, err.decode(errors="replace")
    return proc.returncode, err.decode(errors="replace")


def main():
    sluice = os.path.abspath(sys.argv[1])
    d = sr.scratch_dir()
    db = os.path.join(d, "t.db")
    rng = sr.rng_for(42)
    events = sr.gen_events(rng, 60, ts_null_rate=0)
    f1 = os.path.join(d, "in1.csv")
    with open(f1, "w") as f:
        f.write(sr.to_csv(events[:10]))
    delay = 2000
    sql = (sr.source_sql("in*.csv", delay, follow=True) +
           "CREATE STREAMING TABLE st AS SELECT id, k, n, v, ts FROM src;"
           "CREATE MATERIALIZED VIEW mv AS SELECT k, window_start, window_end, "
           "COUNT(*) AS c, SUM(v) AS s FROM src WINDOW TUMBLING (SIZE 5 SECONDS) "
           "GROUP BY k EMIT ON WINDOW CLOSE;")
    env = dict(os.environ, SLUICE_COMMIT_INTERVAL_MS=os.environ.get(
        "FOLLOW_COMMIT_INTERVAL_MS", "100"))
    print("1..14")
    proc = subprocess.Popen([sluice, db, "-c", sql], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=d)
    lat = wait_for(db, {e["id"] for e in events[:10]}, proc)
    ok(lat is not None, "the initial lines appear in the streaming table",
       "sluice exit %r" % proc.poll())

    # whole lines appended while it runs
    latencies = []
    with open(f1, "a") as f:
        for chunk in (events[10:20], events[20:30]):
            f.write("".join(line_of(e) for e in chunk))
            f.flush()
            t = wait_for(db, {e["id"] for e in chunk}, proc)
            latencies.append(t)
    ok(all(t is not None for t in latencies),
       "appended lines appear (latency %s)" %
       ", ".join("%.0f ms" % (t * 1000) for t in latencies if t is not None))

    # one line written in two pieces: the first piece alone is not a row
    with open(f1, "a") as f:
        text = line_of(events[30])
        f.write(text[:7])
        f.flush()
        time.sleep(0.5)
        partial = ids_in(db) or []
        f.write(text[7:])
        f.flush()
    ok(events[30]["id"] not in partial, "half a line is not read as a row")
    ok(wait_for(db, {events[30]["id"]}, proc) is not None,
       "the completed line is read once it ends")

    # a new file matching the glob
    f2 = os.path.join(d, "in2.csv")
    with open(f2 + ".tmp", "w") as f:
        f.write(sr.to_csv(events[31:40]))
    os.rename(f2 + ".tmp", f2)
    ok(wait_for(db, {e["id"] for e in events[31:40]}, proc) is not None,
       "a new file matching the path glob is picked up")

    rc, err = stop(proc)
    ok(rc == 0, "SIGTERM: sluice commits and exits 0", "exit %r, stderr: %s" % (rc, err))
    got = ids_in(db) or []
    ok(sorted(got) == [e["id"] for e in events[:40]],
       "every line is in the streaming table exactly once",
       "ids: %r" % sorted(got))

    # the EMIT ON WINDOW CLOSE view holds exactly the windows closed so far
    # (files are read in name order: in1.csv, then in2.csv)
    seen = events[:40]
    spec = {"window": {"kind": "tumbling", "size_ms": 5000}, "delay_ms": delay,
            "group": ["k"], "aggs": [["COUNT", "*", False], ["SUM", "v", False]],
            "where": None, "having": None, "emit": "close"}
    erows, elate, _ = oracle.run(seen, spec, bounded=False)
    rows, late, _ = sr.read_results(db, "mv")
    diff = sr.diff_rows(erows, rows)
    ok(not diff and sorted(late) == sorted(elate),
       "the view holds exactly the closed windows (%d rows, %d late)" % (len(erows), len(elate)),
       diff + "\nlate: expected %r got %r" % (sorted(elate), sorted(late)))

    # restart with --serve: the queries resume from their last commit
    proc = subprocess.Popen([sluice, db, "--serve"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=d)
    time.sleep(0.3)
    ok(proc.poll() is None, "--serve keeps running over an unbounded source",
       "exit %r" % proc.poll())
    with open(f2, "a") as f:
        f.write("".join(line_of(e) for e in events[40:50]))
    time.sleep(0.3)
    # (once a later file exists the earlier one is finished: docs/formats.md)
    f3 = os.path.join(d, "in3.csv")
    with open(f3 + ".tmp", "w") as f:
        f.write(sr.to_csv(events[50:60]))
    os.rename(f3 + ".tmp", f3)
    t = wait_for(db, {e["id"] for e in events[40:60]}, proc)
    ok(t is not None, "after a restart, appended lines and a new file appear (%s)"
       % ("%.0f ms" % (t * 1000) if t is not None else "timeout"))
    rc, err = stop(proc)
    ok(rc == 0, "SIGTERM after --serve: exit 0", "exit %r, stderr: %s" % (rc, err))
    got = ids_in(db) or []
    ok(sorted(got) == [e["id"] for e in events],
       "over both runs every line is in the streaming table exactly once",
       "missing %r, duplicated %r" % (sorted({e["id"] for e in events} - set(got)),
                                      sorted({i for i in got if got.count(i) > 1})))
    con = sqlite3.connect(db)
    dup = con.execute("SELECT COUNT(*) FROM (SELECT k, window_start FROM mv "
                      "GROUP BY k, window_start HAVING COUNT(*) > 1)").fetchone()[0]
    con.close()
    ok(dup == 0, "no window was emitted twice across the restart")
    rows, late, _ = sr.read_results(db, "mv")
    ok(all(r[3] >= 1 for r in rows), "every emitted window counted at least one event")

    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    os.rmdir(d)
    return 0 if all(tests) else 1


if __name__ == "__main__":
    sys.exit(main())
