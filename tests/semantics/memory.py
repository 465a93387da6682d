#!/usr/bin/env python3
"""memory.py: DESIGN.md section 2 rule 6 -- state is bounded by the
watermark, not by the length of the stream.

It generates a long, steadily advancing event stream (100 keys, one event
every 6 ms of event time, so a 1-minute tumbling window holds 10,000 events
and about two windows are open at any time) of SMALL and LARGE events
(default 1M and 10M), runs a 1-minute tumbling aggregate over each, reads
the peak RSS of the sluice process (getrusage of the child), and requires
peak(LARGE) <= 1.5 * peak(SMALL) + 8 MiB (SQLite's page cache, which sluice
sets to 8 MiB: it is a fixed bound, but the small run's database is too
small to fill it and the large run's is not) + 32 MiB (the result changes a
query holds between commit points, engine/pending.c: 16 MiB of values in
batches that grow by doubling, a fixed bound too, which the small run's
output does not reach). It also checks the view is complete
(every event counted once) so a run that silently stops early cannot pass.

Cases: EMIT ON WINDOW CLOSE (default settings), EMIT CHANGES with a
commit every 100,000 rows, and EMIT CHANGES with the default settings
(a closed window's last change is written when it closes and its state is
freed at once, not at the next commit point, so memory is bounded by the
watermark in every mode).

A fifth test runs a window join of two sources (2M + 1M events against
500k + 250k, 5,000 keys, 10-second windows) and requires the same bound
on peak RSS and every pair counted.

A sixth test runs a dedup without a window (QUALIFY ROW_NUMBER() OVER
(PARTITION BY id / 3 ORDER BY ts) = 1, dedup_within 1 minute) over the
same SMALL and LARGE streams: its keys never stop coming (one per three
events), so only forgetting a key once the watermark passes its time +
dedup_within keeps the state bounded; same bound on peak RSS, and every
third event kept (count and sum of the ids).

A fourth test measures the state per open (window, key): 1M events over
50,000 keys (each key's events a minute apart, so about 50,000 1-minute
windows are open at once), COUNT(*) and SUM of a BIGINT; the query's
metrics give the bytes of window state it allocated (entries, close lists)
and the most groups it held, and their ratio must stay within --state-bytes
(58: a 56-byte entry -- a 32-byte header, COUNT's 8 and SUM's 16 bytes,
in the chunks of its close list -- plus allocation slack; see
docs/benchmarks.md for the issue's 64-byte target).

The 10M-event file is about 300 MB; it is written to a temporary directory
(TMPDIR) and removed at the end. Suite 'slow' in meson (about 20 s).

Skipped (TAP "1..0 # SKIP") with --skip REASON (meson passes it for
sanitizer builds: ASan's quarantine makes RSS meaningless) or when the
environment variable SLUICE_SKIP_SLOW is set.

Usage: memory.py SLUICE [--small N] [--large N] [--ratio R] [--cache-kb K]
                 [--state-bytes B]
                 [--skip REASON]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

BASE_MS = 1773705600000          # 2026-03-17 00:00:00 UTC
KEYS = 100
STEP_MS = 6


def generate(path, n):
    with open(path, "w", buffering=1 << 20) as out:
        out.write("id,k,v,ts\n")
        chunk = 100000
        for start in range(0, n, chunk):
            out.write("".join("%d,k%d,%d,%d\n" % (i, i % KEYS, i % 997, BASE_MS + i * STEP_MS)
                              for i in range(start, min(n, start + chunk))))


STATE_KEYS = 50000


def state_per_window(sluice, d, n, limit):
    """Runs the many-keys aggregate; returns (ok, description)."""
    csv = os.path.join(d, "keys.csv")
    with open(csv, "w", buffering=1 << 20) as out:
        out.write("k,v,ts\n")
        out.write("".join("k%d,%d,%d\n" % (i % STATE_KEYS, i % 997, BASE_MS + i)
                          for i in range(n)))
    db = os.path.join(d, "s.db")
    sql = ("CREATE SOURCE s (k TEXT, v BIGINT, ts TIMESTAMP, "
           "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (connector = 'file', "
           "path = '%s', format = 'csv', header = true, timestamp_format = 'epoch_ms');"
           "CREATE MATERIALIZED VIEW mv AS SELECT k, window_start, window_end, "
           "COUNT(*) AS c, SUM(v) AS s FROM s WINDOW TUMBLING (SIZE 1 MINUTE) "
           "GROUP BY k EMIT ON WINDOW CLOSE;"
           "SELECT (SELECT value FROM sluice_metrics WHERE query = 'mv' AND "
           "name = 'state_bytes'), (SELECT value FROM sluice_metrics WHERE query = 'mv' "
           "AND name = 'peak_open_windows'), (SELECT SUM(c) FROM mv);" % csv)
    p = subprocess.run([sluice, db, "--mode", "csv", "-c", sql], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, cwd=d)
    if p.returncode != 0:
        return False, "exit %d: %s" % (p.returncode, p.stderr.decode()[:300])
    state, peak, total = (float(x) for x in p.stdout.decode().split()[-1].split(","))
    per = state / peak if peak else float("inf")
    desc = ("state per open (window, key): %d bytes for %d groups at most = %.1f bytes "
            "(limit %g; %d of %d events counted)" % (state, peak, per, limit, total, n))
    return per <= limit and total == n and peak >= STATE_KEYS // 2, desc


def run(sluice, d, csv, emit, env):
    sql = ("CREATE SOURCE s (id BIGINT, k TEXT, v BIGINT, ts TIMESTAMP, "
           "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (connector = 'file', "
           "path = '%s', format = 'csv', header = true, timestamp_format = 'epoch_ms');"
           "CREATE MATERIALIZED VIEW mv AS SELECT k, window_start, window_end, "
           "COUNT(*) AS c, SUM(v) AS s FROM s WINDOW TUMBLING (SIZE 1 MINUTE) "
           "GROUP BY k EMIT %s; SELECT COUNT(*), SUM(c) FROM mv;" % (csv, emit))
    return measure(sluice, d, sql, env)


JOIN_KEYS = 5000


def run_dedup(sluice, d, csv):
    """A dedup of the stream by id / 3 (three events per key, 18 ms apart),
    keys forgotten a minute after their row."""
    sql = ("CREATE SOURCE s (id BIGINT, k TEXT, v BIGINT, ts TIMESTAMP, "
           "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (connector = 'file', "
           "path = '%s', format = 'csv', header = true, timestamp_format = 'epoch_ms');"
           "CREATE STREAMING TABLE dd AS SELECT id FROM s QUALIFY ROW_NUMBER() OVER "
           "(PARTITION BY id / 3 ORDER BY ts) = 1 WITH (dedup_within = '1 minute');"
           "SELECT COUNT(*), SUM(id) FROM dd;" % csv)
    return measure(sluice, d, sql, {})


def join_files(d, n):
    """Two sources for the window-join case: n events of `a` and n / 2 of
    `b`, each b event 1 ms after an a event of the same key."""
    paths = (os.path.join(d, "ja%d.csv" % n), os.path.join(d, "jb%d.csv" % n))
    with open(paths[0], "w", buffering=1 << 20) as fa, \
            open(paths[1], "w", buffering=1 << 20) as fb:
        fa.write("k,v,ts\n")
        fb.write("k,w,ts\n")
        for start in range(0, n, 100000):
            rows = range(start, min(n, start + 100000))
            fa.write("".join("%d,%d,%d\n" % (i % JOIN_KEYS, i, BASE_MS + 2 * i)
                             for i in rows))
            fb.write("".join("%d,%d,%d\n" % (i % JOIN_KEYS, i, BASE_MS + 2 * i + 1)
                             for i in rows if i % 2 == 0))
    return paths


def run_join(sluice, d, paths):
    """A window join of two sources (pairs grouped per key and window)."""
    src = ("CREATE SOURCE %s (k BIGINT, %s BIGINT, ts TIMESTAMP, WATERMARK FOR "
           "ts AS ts - INTERVAL '1' SECOND) WITH (connector = 'file', path = "
           "'%s', format = 'csv', header = true, timestamp_format = 'epoch_ms');")
    sql = (src % ("a", "v", paths[0]) + src % ("b", "w", paths[1]) +
           "CREATE MATERIALIZED VIEW mv AS SELECT a.k, window_start, COUNT(*) "
           "AS c FROM a JOIN b ON a.k = b.k WINDOW TUMBLING (SIZE 10 SECONDS) "
           "GROUP BY a.k EMIT ON WINDOW CLOSE; SELECT COUNT(*), SUM(c) FROM mv;")
    return measure(sluice, d, sql, {})


def measure(sluice, d, sql, env):
    """Runs sql in a fresh database; returns (exit status, peak RSS KB,
    seconds, the last output line's two numbers, stderr)."""
    db = os.path.join(d, "m.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    e = dict(os.environ)
    for k in ("SLUICE_BATCH_ROWS", "SLUICE_COMMIT_ROWS", "SLUICE_COMMIT_INTERVAL_MS"):
        e.pop(k, None)
    e.update(env)
    t0 = time.time()
    # The peak RSS of sluice itself: GNU time forks it from a small process
    # (a child forked from python would inherit python's high-water mark).
    # Without GNU time, poll VmHWM in /proc (a high-water mark, so polling
    # only loses what happens in the last few milliseconds).
    timef = os.path.join(d, "time.out")
    cmd = [sluice, db, "--mode", "csv", "-c", sql]
    if os.path.exists("/usr/bin/time"):
        cmd = ["/usr/bin/time", "-o", timef, "-f", "%M"] + cmd
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, cwd=d)
    hwm = 0
    if not cmd[0].endswith("time"):
        while p.poll() is None:
            try:
                with open("/proc/%d/status" % p.pid) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            hwm = max(hwm, int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.005)
    out, err = p.communicate()
    secs = time.time() - t0
    rss = hwm
    if os.path.exists(timef):
        with open(timef) as f:
            rss = int(f.read().split()[-1])
    lines = out.decode().split()
    count = total = None
    if p.returncode == 0 and len(lines) >= 2:
        count, total = (int(float(x)) for x in lines[-1].split(","))
    return p.returncode, rss, secs, count, total, err.decode()[:300]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sluice")
    ap.add_argument("--small", type=int, default=1000000)
    ap.add_argument("--large", type=int, default=10000000)
    ap.add_argument("--ratio", type=float, default=1.5)
    ap.add_argument("--cache-kb", type=int, default=8192)
    # pending.c counts 16 MiB of values; the batches holding them grow by
    # doubling, so up to twice that is allocated
    ap.add_argument("--pending-kb", type=int, default=32768)
    ap.add_argument("--state-bytes", type=float, default=58)
    ap.add_argument("--skip", help="print a TAP skip with this reason and exit")
    args = ap.parse_args()
    if not args.skip and os.environ.get("SLUICE_SKIP_SLOW"):
        args.skip = "SLUICE_SKIP_SLOW is set"
    if args.skip:
        print("1..0 # SKIP " + args.skip)
        return 0
    sluice = os.path.abspath(args.sluice)
    cases = [("ON WINDOW CLOSE", {}, False),
             ("CHANGES", {"SLUICE_COMMIT_ROWS": "100000"}, False),
             ("CHANGES", {}, False)]
    print("1..%d" % (sum(1 for c in cases if not c[2]) + 3))
    d = tempfile.mkdtemp(prefix="sluice-mem-")
    failed = 0
    try:
        files = {}
        for n in (args.small, args.large):
            t0 = time.time()
            files[n] = os.path.join(d, "e%d.csv" % n)
            generate(files[n], n)
            print("# generated %d events in %.1f s" % (n, time.time() - t0))
        for i, (emit, env, todo) in enumerate(cases, 1):
            res = {}
            problems = []
            for n in (args.small, args.large):
                rc, rss, secs, count, total, err = run(sluice, d, files[n], emit, env)
                res[n] = rss
                windows = -(-n * STEP_MS // 60000)
                print("# EMIT %s %s: %d events, exit %d, peak RSS %d KB, %.2f s"
                      % (emit, env or "(defaults)", n, rc, rss, secs))
                if rc != 0:
                    problems.append("exit %d at %d events: %s" % (rc, n, err))
                elif total != n or count < (windows - 1) * KEYS:
                    problems.append("view incomplete at %d events: %r rows, %r counted"
                                    % (n, count, total))
            ratio = res[args.large] / res[args.small]
            limit = args.ratio * res[args.small] + args.cache_kb + args.pending_kb
            desc = ("EMIT %s %s: peak RSS %d KB at %d events vs %d KB at %d (x%.2f; "
                    "limit x%.2f + %d KB of page cache + %d KB of pending "
                    "output = %d KB)"
                    % (emit, env or "(defaults)", res[args.large], args.large,
                       res[args.small], args.small, ratio, args.ratio,
                       args.cache_kb, args.pending_kb, limit))
            if res[args.large] > limit:
                problems.append("peak RSS grows with the stream")
            if todo:
                # informational only: with a commit every second of
                # processing time, a closed window lives until the next
                # commit publishes it, so memory follows the input rate
                print("# note (not a test): %s%s" % (desc, "; " + "; ".join(problems)
                                                     if problems else ""))
            elif problems:
                failed += 1
                print("not ok %d - %s" % (i, desc))
                for p in problems:
                    print("# " + p)
            else:
                print("ok %d - %s" % (i, desc))
        ok, desc = state_per_window(sluice, d, args.small, args.state_bytes)
        print("%s %d - %s" % ("ok" if ok else "not ok", len(cases) + 1, desc))
        failed += 0 if ok else 1
        # a window join holds each open window's rows of both sources, and
        # frees them when the window closes: bounded by the watermark too
        small, large = args.small // 2, args.small * 2
        rss = {}
        problems = []
        for n in (small, large):
            rc, rss[n], secs, count, total, err = run_join(sluice, d,
                                                           join_files(d, n))
            print("# window join: %d + %d events, exit %d, peak RSS %d KB, "
                  "%.2f s" % (n, n // 2, rc, rss[n], secs))
            if rc != 0:
                problems.append("exit %d at %d events: %s" % (rc, n, err))
            elif total != n // 2:
                problems.append("%r pairs at %d events, not %d" % (total, n, n // 2))
        limit = args.ratio * rss[small] + args.cache_kb
        desc = ("window join: peak RSS %d KB at %d events vs %d KB at %d "
                "(limit %d KB)" % (rss[large], large, rss[small], small, limit))
        if rss[large] > limit:
            problems.append("peak RSS grows with the stream")
        print("%s %d - %s" % ("not ok" if problems else "ok", len(cases) + 2, desc))
        for pr in problems:
            print("# " + pr)
        failed += 1 if problems else 0
        # a dedup remembers each key for dedup_within, then forgets it:
        # bounded by the watermark although its keys never repeat
        rss = {}
        problems = []
        for n in (args.small, args.large):
            rc, rss[n], secs, count, total, err = run_dedup(sluice, d, files[n])
            kept = -(-n // 3)
            print("# dedup: %d events, exit %d, peak RSS %d KB, %.2f s"
                  % (n, rc, rss[n], secs))
            if rc != 0:
                problems.append("exit %d at %d events: %s" % (rc, n, err))
            elif count != kept or total != 3 * kept * (kept - 1) // 2:
                problems.append("%r rows (sum of ids %r) at %d events, not %d"
                                % (count, total, n, kept))
        limit = args.ratio * rss[args.small] + args.cache_kb + args.pending_kb
        desc = ("dedup: peak RSS %d KB at %d events vs %d KB at %d (limit x%.2f "
                "+ %d KB of page cache + %d KB of pending output = %d KB)"
                % (rss[args.large], args.large, rss[args.small], args.small,
                   args.ratio, args.cache_kb, args.pending_kb, limit))
        if rss[args.large] > limit:
            problems.append("peak RSS grows with the stream")
        print("%s %d - %s" % ("not ok" if problems else "ok", len(cases) + 3, desc))
        for pr in problems:
            print("# " + pr)
        failed += 1 if problems else 0
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
