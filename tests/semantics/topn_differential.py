#!/usr/bin/env python3
"""topn_differential.py: random differential test of window Top-N (QUALIFY,
docs/dialect.md "Window Top-N: QUALIFY") against SQLite's own window
functions.

For each random case (seeded) it generates a small, disorderly event stream
(sluicerun.gen_events: out-of-order arrival, duplicated timestamps, very
late events, NULL event times, NULLs in n and v, sometimes NULL keys and
event times before the epoch; sometimes n folded to a few values so that
ranks tie), writes it as CSV and runs one query on a fresh database:

- row mode, into a CREATE STREAMING TABLE:
    SELECT window_start, id, k, n, v, FN() OVER (P ORDER BY x [ASC|DESC]) AS r
    FROM src [WHERE ...] WINDOW TUMBLING|HOPPING (...) [WATERMARK ts DELAY d]
    QUALIFY FN() OVER (P ORDER BY x [ASC|DESC]) <= N | < N+1 | = 1 (or the
    same turned around) EMIT ON WINDOW CLOSE
  FN in ROW_NUMBER, RANK, DENSE_RANK; x in n (BIGINT), v (DOUBLE); P empty
  or PARTITION BY window_start / k / window_start, k / k, window_end ...;
- group mode, into a CREATE MATERIALIZED VIEW or STREAMING TABLE:
    SELECT k, window_start, COUNT(*) AS c, SUM(n) AS s, MAX(v) AS m,
           FN() OVER (...) AS r
    FROM src ... GROUP BY k [HAVING COUNT(*) > 1]
    QUALIFY FN() OVER ([PARTITION BY window_start[, window_end]]
                       ORDER BY COUNT(*) | SUM(n) | MAX(v) [ASC|DESC]) <= N
    EMIT ON WINDOW CLOSE
  FN in ROW_NUMBER, RANK, DENSE_RANK; groups that tie under ROW_NUMBER
  keep the order the window's groups were created in, the arrival of each
  group's first accepted event in the window (docs/dialect.md), whether
  the windows are kept whole or as panes (hopping, size a multiple of the
  advance).

The reference: a python model of the event-time rules (DESIGN.md section
2) decides which (event, window) pairs are accepted -- events in file
order, W from -inf, an event checked against W as it stood before it, then
W = max(W, t - delay); NULL event time = dead letter, W unchanged; an event
counts in window [s, e) iff W_before < e and is recorded as late if it
misses any of its windows; rows the WHERE drops still move W; the end of
the file closes every window. The accepted pairs are loaded into an
in-memory SQLite table with their arrival index, and the expected rows are
computed by SQLite's ROW_NUMBER/RANK/DENSE_RANK with `ORDER BY (x IS NULL),
x [DESC]` (NULLs last both ways) plus the arrival index as the last key for
ROW_NUMBER (ties keep arrival order; in group mode the arrival index of
the group's first event in the window), partitioned by the window (always)
and k when asked. Sluice's rows, late events (id, event time, watermark)
and dead letters must equal the reference (rows sorted; doubles to 1e-9
relative). SLUICE_BATCH_ROWS and SLUICE_COMMIT_ROWS vary per case: results
must not depend on them.

Output is TAP, one test point per case. A failing case prints its seed,
env, SQL, input CSV and the differences, and is saved as JSON under
--failures DIR; replay it with `topn_differential.py SLUICE --replay
FILE.json` (add --shrink to reduce the input to a minimal failing one).

Usage: topn_differential.py SLUICE [--cases N] [--seed S] [--failures DIR]
                                    [--replay FILE [--shrink]]
"""

import math
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle                                   # noqa: E402
import sluicerun as sr                          # noqa: E402

NEG_INF = -math.inf

TUMBLE_SIZES = [1000, 1500, 2000, 5000, 10000]
HOPS = [(10000, 5000), (6000, 2000), (4000, 2000), (10000, 2000),    # dividing: panes
        (10000, 3000), (5000, 1500), (7000, 2000), (3000, 2000)]     # not dividing

# row-mode PARTITION BY lists: (SQL text, partition by k too?). The window
# is always part of the partition; window_start/window_end change nothing.
ROW_PARTITIONS = [
    ("", False),
    ("window_start", False), ("window_start", False),
    ("window_start, k", True), ("window_start, k", True),
    ("k", True),
    ("k, window_start, window_end", True),
    ("window_start, window_end", False),
]
GROUP_PARTITIONS = ["", "window_start", "window_start", "window_start, window_end"]
GROUP_ORDER = {"COUNT(*)": "c", "SUM(n)": "s", "MAX(v)": "m"}


# ---- random cases --------------------------------------------------------------------

def gen_spec(rng, mode):
    if rng.random() < 0.5:
        win = {"kind": "tumbling", "size_ms": rng.choice(TUMBLE_SIZES)}
    else:
        d, a = rng.choice(HOPS)
        win = {"kind": "hopping", "size_ms": d, "advance_ms": a}
    if mode == "row":
        fn = rng.choice(["ROW_NUMBER", "RANK", "DENSE_RANK"])
        part, by_k = rng.choice(ROW_PARTITIONS)
        order = rng.choice(["n", "v"])
        target = "stream"
    else:
        fn = rng.choice(["ROW_NUMBER", "ROW_NUMBER", "RANK", "DENSE_RANK"])
        part, by_k = rng.choice(GROUP_PARTITIONS), False
        order = rng.choice(sorted(GROUP_ORDER))
        target = rng.choice(["mv", "stream"])
    if fn == "ROW_NUMBER" and mode == "group" and rng.random() < 0.5:
        # groups tied on COUNT(*) in hopping windows kept as panes (size a
        # multiple of the advance): ties follow the groups' creation
        d, a = rng.choice(HOPS[:4])
        win = {"kind": "hopping", "size_ms": d, "advance_ms": a}
        order = "COUNT(*)"
    op = rng.choice(["<=", "<=", "<", "<", "=", "rev<=", "rev="])
    n = 1 if op in ("=", "rev=") else rng.randint(1, 4)
    return {
        "mode": mode,
        "window": win,
        "delay_ms": rng.choice([0, 0, 500, 1000, 2000, 3000, 5000]),
        "override_delay_ms": rng.choice([0, 1000, 4000]) if rng.random() < 0.15 else None,
        "where": rng.choice(sorted(oracle.WHERE)) if rng.random() < 0.2 else None,
        "having": mode == "group" and rng.random() < 0.35,
        "fn": fn,
        "partition": part,
        "by_k": by_k,
        "order": order,
        "desc": rng.random() < 0.5,
        "explicit_asc": rng.random() < 0.3,
        "op": op,
        "n": n,
        "target": target,
    }


def over_sql(spec):
    p = "PARTITION BY %s " % spec["partition"] if spec["partition"] else ""
    direction = " DESC" if spec["desc"] else (" ASC" if spec["explicit_asc"] else "")
    return "%s() OVER (%sORDER BY %s%s)" % (spec["fn"], p, spec["order"], direction)


def qualify_sql(spec):
    f, n, op = over_sql(spec), spec["n"], spec["op"]
    if op == "<=":
        return "%s <= %d" % (f, n)
    if op == "<":
        return "%s < %d" % (f, n + 1)
    if op == "=":
        return "%s = 1" % f
    if op == "rev<=":
        return "%d >= %s" % (n, f)
    return "1 = %s" % f


def query_sql(spec, name="t"):
    win = spec["window"]
    if spec["mode"] == "row":
        sel = "window_start, id, k, n, v, %s AS r" % over_sql(spec)
    else:
        sel = "k, window_start, COUNT(*) AS c, SUM(n) AS s, MAX(v) AS m, %s AS r" % over_sql(spec)
    create = "MATERIALIZED VIEW" if spec["target"] == "mv" else "STREAMING TABLE"
    q = "CREATE %s %s AS SELECT %s FROM src" % (create, name, sel)
    if spec["where"]:
        q += " WHERE " + oracle.WHERE[spec["where"]][0]
    if win["kind"] == "tumbling":
        q += " WINDOW TUMBLING (SIZE %s)" % sr.dur(win["size_ms"])
    else:
        q += " WINDOW HOPPING (SIZE %s, ADVANCE BY %s)" % (sr.dur(win["size_ms"]),
                                                           sr.dur(win["advance_ms"]))
    if spec["override_delay_ms"] is not None:
        q += " WATERMARK ts DELAY %s" % sr.dur(spec["override_delay_ms"])
    if spec["mode"] == "group":
        q += " GROUP BY k"
        if spec["having"]:
            q += " HAVING COUNT(*) > 1"
    q += " QUALIFY %s EMIT ON WINDOW CLOSE;" % qualify_sql(spec)
    return q


def make_case(seed, rng, mode, big):
    spec = gen_spec(rng, mode)
    null_keys = rng.random() < 0.25
    n = rng.randint(150, 400) if big else rng.randint(5, 60)
    events = sr.gen_events(rng, n, null_keys=null_keys)
    if rng.random() < 0.3:
        # few distinct order values: many ties
        for e in events:
            if e["n"] is not None:
                e["n"] %= 4
            if e["v"] is not None:
                e["v"] = float(int(e["v"]) % 3) + 0.5
    if rng.random() < 0.15:
        # around the epoch: negative event times, windows aligned below 0
        for e in events:
            if e["ts"] is not None:
                e["ts"] -= sr.BASE_MS + 20000
    return {"seed": seed, "csv": sr.to_csv(events), "spec": spec,
            "sql": sr.source_sql("in.csv", spec["delay_ms"]) + "\n" + query_sql(spec),
            "env": {"SLUICE_BATCH_ROWS": str(rng.choice([1, 3, 4096])),
                    "SLUICE_COMMIT_ROWS": str(rng.choice([1, 5, 100000]))}}


# ---- the model ---------------------------------------------------------------------------

def windows_of(t, win):
    """Every [s, s + d) containing t, s a multiple of the advance (floor
    division, also for negative t)."""
    d = win["size_ms"]
    a = win["advance_ms"] if win["kind"] == "hopping" else d
    out = []
    s = (t // a) * a
    while s + d > t:
        out.append((s, s + d))
        s -= a
    return out


def accept(events, spec):
    """(accepted (arrival index, event, ws, we) pairs, late, dead)."""
    delay = spec["override_delay_ms"]
    if delay is None:
        delay = spec["delay_ms"]
    where = oracle.WHERE[spec["where"]][1] if spec["where"] else None
    W = NEG_INF
    pairs, late, dead = [], [], []
    for ai, e in enumerate(events):
        t = e["ts"]
        if where is not None and where(e) is not True:
            if t is not None:
                W = max(W, t - delay)       # dropped rows still move W
            continue
        if t is None:
            dead.append(e["id"])
            continue
        missed = False
        for (s, end) in windows_of(t, spec["window"]):
            if W < end:
                pairs.append((ai, e, s, end))
            else:
                missed = True
        if missed:
            late.append((e["id"], oracle.fmt_ts(t), oracle.fmt_ts(W)))
        W = max(W, t - delay)
    return pairs, late, dead


def reference_rows(pairs, spec):
    """The expected rows, computed by SQLite's window functions."""
    con = sqlite3.connect(":memory:")
    con.create_function("fmt_ts", 1, oracle.fmt_ts, deterministic=True)
    con.execute("CREATE TABLE acc (ai INTEGER, id INTEGER, k TEXT, n INTEGER, v REAL, "
                "ws INTEGER, we INTEGER)")
    con.executemany("INSERT INTO acc VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(ai, e["id"], e["k"], e["n"], e["v"], s, end)
                     for ai, e, s, end in pairs])
    d = " DESC" if spec["desc"] else ""
    if spec["mode"] == "row":
        part = "ws, k" if spec["by_k"] else "ws"
        x = spec["order"]
        order = "(%s IS NULL), %s%s" % (x, x, d)
        if spec["fn"] == "ROW_NUMBER":
            order += ", ai"
        q = ("SELECT fmt_ts(ws), id, k, n, v, r FROM (SELECT *, %s() OVER "
             "(PARTITION BY %s ORDER BY %s) AS r FROM acc) WHERE r <= %d"
             % (spec["fn"], part, order, spec["n"]))
    else:
        x = GROUP_ORDER[spec["order"]]
        # fa: the arrival of the group's first event in the window, its
        # creation, which orders groups that tie under ROW_NUMBER
        q = ("WITH g AS (SELECT k, ws, COUNT(*) AS c, SUM(n) AS s, MAX(v) AS m, "
             "MIN(ai) AS fa FROM acc GROUP BY k, ws%s) "
             "SELECT k, fmt_ts(ws), c, s, m, r FROM (SELECT *, %s() OVER "
             "(PARTITION BY ws ORDER BY (%s IS NULL), %s%s%s) AS r FROM g) WHERE r <= %d"
             % (" HAVING COUNT(*) > 1" if spec["having"] else "",
                spec["fn"], x, x, d, ", fa" if spec["fn"] == "ROW_NUMBER" else "",
                spec["n"]))
    rows = [tuple(r) for r in con.execute(q)]
    con.close()
    return rows


# ---- running and comparing ----------------------------------------------------------------

STATS = {"rows": 0, "late": 0, "late_but_counted": 0, "empty": 0}


def run_case(case, sluice):
    """(rows, late, dead) as sluice wrote them, or a string on error."""
    with sr.scratch({"in.csv": case["csv"]}) as d:
        db = os.path.join(d, "t.db")
        rc, _, err = sr.run_sluice(sluice, db, case["sql"], env=case.get("env"), cwd=d)
        if rc != 0:
            return "sluice exited %d\nstderr: %s" % (rc, err.strip())
        cols = ("window_start, id, k, n, v, r" if case["spec"]["mode"] == "row"
                else "k, window_start, c, s, m, r")
        rows, late, dead = sr.read_results(db, "t", cols)
        return rows, late, dead


def expected(case):
    pairs, late, dead = accept(oracle.parse_csv(case["csv"]), case["spec"])
    rows = reference_rows(pairs, case["spec"])
    STATS["rows"] += len(rows)
    STATS["late"] += bool(late)
    STATS["late_but_counted"] += bool({i for i, _, _ in late} &
                                      {e["id"] for _, e, _, _ in pairs})
    STATS["empty"] += not rows
    return rows, late, dead


def compare(case, sluice):
    """(ok, report text)."""
    got = run_case(case, sluice)
    if isinstance(got, str):
        return False, got
    rows, late, dead = got
    erows, elate, edead = expected(case)
    parts = []
    dr = sr.diff_rows(erows, rows)
    if dr:
        parts.append("rows differ (%d expected, %d written):\n%s" % (len(erows), len(rows), dr))
        if len(erows) + len(rows) <= 80:
            parts.append("expected rows:\n" + "\n".join(
                "  %r" % (r,) for r in sorted(erows, key=sr.sort_key)))
            parts.append("sluice rows:\n" + "\n".join(
                "  %r" % (r,) for r in sorted(rows, key=sr.sort_key)))
    parts += sr.late_dead_diffs(elate, late, edead, dead)
    return not parts, "\n".join(parts)


def main():
    args = sr.parse_args(sr.arg_parser(100))
    if args.replay:
        return sr.replay_case(args, compare)

    def one_case(seed):
        rng = sr.rng_for(seed)
        mode = "row" if rng.random() < 0.6 else "group"
        big = rng.random() < 0.08
        case = make_case(seed, rng, mode, big)
        spec = case["spec"]
        label = "%s/%s" % (mode, spec["window"]["kind"])
        ok, text = compare(case, args.sluice)
        desc = "%s seed=%d %s events=%d" % (label, seed, qualify_sql(spec),
                                             len(case["csv"].splitlines()) - 1)
        desc = sr.with_tags(desc, (("where", spec["where"]), ("having", spec["having"]),
                                   ("override", spec["override_delay_ms"] is not None),
                                   ("mv", spec["target"] == "mv")))
        return ok, desc, case, text, label

    return sr.run_cases(
        args, one_case,
        lambda: "%d expected rows; cases with late events %d, with an event late for one "
                "window but counted in another %d, with no row %d" %
                (STATS["rows"], STATS["late"], STATS["late_but_counted"], STATS["empty"]),
        prefix="topn-", script="topn_differential.py")


if __name__ == "__main__":
    sys.exit(main())
