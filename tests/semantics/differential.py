#!/usr/bin/env python3
"""differential.py: random differential test of sluice's event-time
semantics against oracle.py (DESIGN.md section 2), plus a differential
against SQLite's own GROUP BY for tumbling windows.

For each random case (seeded) it generates a small, disorderly event stream
(out-of-order arrival, duplicated timestamps, a few very late events, NULLs
in aggregated columns, NULL event times, several keys), writes it as CSV,
runs `sluice db -c "CREATE SOURCE ...; CREATE MATERIALIZED VIEW ...;"`,
reads the view, sluice_late_events and sluice_dead_letters back with
sqlite3, and compares them exactly with the oracle (rows sorted; doubles to
1e-9 relative). Window kinds: tumbling, hopping (advance dividing the size
and not), session, none (plain GROUP BY); each with EMIT CHANGES and EMIT
ON WINDOW CLOSE (the latter is rejected without a window, which is checked
too); sometimes a WATERMARK override, a WHERE filter, a HAVING clause.

Two stages (DESIGN rule 8): a third of the window cases and half of the
HAVING cases run the view over a streaming table that copies the source
(`CREATE STREAMING TABLE s AS SELECT * FROM src WHERE ...`): the same
oracle and SQLite references must hold, at the same batch sizes (the
HAVING cases: 1, 7 and the default), the reader taking its event time and
delay from the copied ts column.

The SQLite differential: for tumbling + EMIT ON WINDOW CLOSE cases, the view
must equal `GROUP BY key, window` computed by SQLite over the accepted
events (all events minus the ones sluice lists in sluice_late_events, minus
NULL event times, with the same WHERE and HAVING).

HAVING without a window: global aggregates (no GROUP BY) and grouped ones,
always with a HAVING (some turn false as rows arrive, COUNT(*) = 0 holds
only over no rows), sometimes over an empty input; the view must be exactly
SQLite's `SELECT ... [GROUP BY] HAVING` over the whole input, at batch
sizes 1, 7 and the default, each with a random commit interval (DESIGN §2
rule 5: a group HAVING stops accepting is deleted, whenever commits fall).

Output is TAP, one test point per case. A failing case prints its seed, the
input CSV, the SQL and the differences, and is saved as JSON under
--failures DIR; replay it with `differential.py SLUICE --replay FILE.json`
(add --shrink to reduce the input to a minimal failing one).

Usage: differential.py SLUICE [--cases N] [--seed S] [--failures DIR]
                               [--replay FILE [--shrink]]
                               [--watermark-after-filter] [--no-null-keys]
"""

import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle                                   # noqa: E402
import sluicerun as sr                          # noqa: E402

AGG_CHOICES = [
    ("COUNT", "*", False), ("COUNT", "v", False), ("COUNT", "n", False),
    ("SUM", "n", False), ("SUM", "v", False), ("AVG", "v", False),
    ("AVG", "n", False), ("MIN", "n", False), ("MAX", "v", False),
    ("MIN", "v", False), ("MAX", "n", False), ("MIN", "k", False),
    ("MAX", "ts", False), ("COUNT", "n", True), ("COUNT", "k", True),
]

HOPS = [(10000, 5000), (10000, 2000), (6000, 2000), (4000, 4000),   # dividing
        (10000, 3000), (7000, 2000), (5000, 1500), (3000, 2000)]    # not dividing


def gen_spec(rng, kind, emit, null_keys):
    if kind == "tumbling":
        win = {"kind": kind, "size_ms": rng.choice([1000, 1500, 2000, 5000, 10000])}
    elif kind == "hopping":
        d, a = rng.choice(HOPS)
        win = {"kind": kind, "size_ms": d, "advance_ms": a}
    elif kind == "session":
        win = {"kind": kind, "gap_ms": rng.choice([500, 1000, 2000, 3000, 5000])}
    else:
        win = {"kind": "none"}
    aggs = [["COUNT", "*", False]]
    for a in rng.sample(AGG_CHOICES[1:], rng.randint(1, 5)):
        aggs.append(list(a))
    rng.shuffle(aggs)
    group = rng.choice([["k"], ["k"], ["k"], [], ["k", "n"]])
    if kind == "none" and not group:
        group = ["k"]
    spec = {
        "window": win,
        "delay_ms": rng.choice([0, 0, 1000, 2000, 3000, 5000]),
        "override_delay_ms": rng.choice([500, 1000, 4000]) if rng.random() < 0.25 else None,
        "group": group,
        "aggs": aggs,
        "where": rng.choice(sorted(oracle.WHERE)) if rng.random() < 0.3 else None,
        "having": rng.choice(sorted(oracle.HAVING)) if rng.random() < 0.25 else None,
        "emit": emit,
        "null_keys": null_keys,
    }
    return spec


# ---- two stages: the query reads a streaming table copying the source ------------

# passes every row (NULLs too): the reader sees the source's stream, in its order
ALL_ROWS = "id IS NOT NULL OR id IS NULL"


def stage_case(case, upstream_where=None):
    """Makes case run in two stages (DESIGN rule 8): a streaming table s
    copies the source's rows (SELECT *, so the event time ts is copied and
    the reader windows on it with the source's delay), and the view reads s
    instead of src. upstream_where (a key of oracle.WHERE) moves the view's
    WHERE to the streaming table; else s keeps every row, so the reader's
    watermark, late events and dead letters are the one-stage query's."""
    spec = case["spec"]
    cond = ALL_ROWS
    view_spec = spec
    if upstream_where is not None:
        cond = oracle.WHERE[upstream_where][0]
        view_spec = dict(spec, where=None)
    case["sql"] = (sr.source_sql("in.csv", spec["delay_ms"]) + "\n"
                   "CREATE STREAMING TABLE s AS SELECT * FROM src WHERE %s;\n" % cond +
                   sr.view_sql(view_spec, source="s"))
    case["staged"] = True
    return case


def sqlite_source(case):
    """An in-memory SQLite database with the case's input as table src (ts
    in ms) and fmt_ts()."""
    con = sqlite3.connect(":memory:")
    con.create_function("fmt_ts", 1, oracle.fmt_ts, deterministic=True)
    con.execute("CREATE TABLE src (id INTEGER, k TEXT, n INTEGER, v REAL, ts INTEGER)")
    for e in oracle.parse_csv(case["csv"]):
        con.execute("INSERT INTO src VALUES (?, ?, ?, ?, ?)",
                    (e["id"], e["k"], e["n"], e["v"], e["ts"]))
    return con


def agg_select(spec):
    """The aggregates of spec as SQLite select-list terms."""
    out = []
    for fn, col, distinct in spec["aggs"]:
        if col == "ts" and fn in ("MIN", "MAX"):
            out.append("fmt_ts(%s(ts))" % fn)
        else:
            out.append(oracle.agg_sql(fn, col, distinct))
    return out


def sqlite_reference(case, late_ids):
    """The tumbling-window view computed by SQLite itself."""
    spec = sr.effective_spec(case["spec"])
    size = spec["window"]["size_ms"]
    con = sqlite_source(case)
    con.execute("CREATE TABLE late (id INTEGER)")
    con.executemany("INSERT INTO late VALUES (?)", [(i,) for i in late_ids])
    sel = list(spec["group"]) + ["fmt_ts(ws)", "fmt_ts(ws + %d)" % size] + agg_select(spec)
    # floor to the window start (SQLite's integer division truncates
    # toward zero, wrong for event times before the epoch)
    q = ("SELECT %s FROM (SELECT *, ts - (((ts %% %d) + %d) %% %d) AS ws FROM src "
         "WHERE ts IS NOT NULL AND id NOT IN (SELECT id FROM late)%s) "
         "GROUP BY %s" % (", ".join(sel), size, size, size,
                         " AND (%s)" % oracle.WHERE[spec["where"]][0] if spec.get("where") else "",
                         ", ".join(list(spec["group"]) + ["ws"])))
    if spec.get("having"):
        q += " HAVING " + oracle.HAVING[spec["having"]][0]
    rows = [tuple(r) for r in con.execute(q)]
    con.close()
    return rows


def check_sqlite(case, sluice):
    with sr.scratch({"in.csv": case["csv"]}) as d:
        db = os.path.join(d, "t.db")
        rc, _, err = sr.run_sluice(sluice, db, case["sql"], cwd=d)
        if rc != 0:
            return False, "sluice exited %d: %s" % (rc, err.strip())
        rows, late, _ = sr.read_results(db)
    ref = sqlite_reference(case, [x[0] for x in late])
    dr = sr.diff_rows(ref, rows)
    return not dr, ("view differs from SQLite's GROUP BY over the accepted events:\n" + dr
                    if dr else "")


# ---- HAVING without a window -------------------------------------------------------

PLAIN_BATCHES = ("1", "7", None)        # None: the default batch size


def plain_reference(case):
    """The view as SQLite computes it over the whole input."""
    spec = case["spec"]
    con = sqlite_source(case)
    q = "SELECT %s FROM src" % ", ".join(list(spec["group"]) + agg_select(spec))
    if spec.get("where"):
        q += " WHERE " + oracle.WHERE[spec["where"]][0]
    if spec["group"]:
        q += " GROUP BY " + ", ".join(spec["group"])
    q += " HAVING " + oracle.HAVING[spec["having"]][0]
    rows = [tuple(r) for r in con.execute(q)]
    con.close()
    return rows


def check_plain(case, sluice):
    """Runs the case once per entry of case["runs"] (an environment each);
    every run's view must be SQLite's rows."""
    ref = plain_reference(case)
    for env in case["runs"]:
        with sr.scratch({"in.csv": case["csv"]}) as d:
            db = os.path.join(d, "t.db")
            rc, _, err = sr.run_sluice(sluice, db, case["sql"], env=env, cwd=d)
            if rc != 0:
                return False, "sluice exited %d (%r): %s" % (rc, env, err.strip())
            rows, _, _ = sr.read_results(db)
        dr = sr.diff_rows(ref, rows)
        if dr:
            return False, ("view differs from SQLite's rows with %s:\n%s" %
                           (" ".join("%s=%s" % kv for kv in sorted(env.items())), dr))
    return True, ""


def plain_case(seed):
    rng = sr.rng_for(seed)
    spec = gen_spec(rng, "none", "changes", False)
    spec["group"] = rng.choice([[], [], ["k"], ["k", "n"]])
    spec["having"] = rng.choice(sorted(oracle.HAVING))
    events = sr.gen_events(rng, rng.choice([0, rng.randint(1, 8), rng.randint(5, 40)]))
    case = sr.make_case(seed, events, spec)
    if rng.random() < 0.5:
        stage_case(case, spec["where"])
    case["runs"] = []
    for batch in PLAIN_BATCHES:
        env = {"SLUICE_COMMIT_ROWS": str(rng.choice([1, 2, 3, 5, 100000]))}
        if batch is not None:
            env["SLUICE_BATCH_ROWS"] = batch
        case["runs"].append(env)
    return case


def replay(args):
    with open(args.replay) as f:
        case = json.load(f)
    if "runs" in case:
        return sr.replay_case(args, check_plain)
    ok, text = sr.compare_case(case, args.sluice, env=case.get("env"),
                               watermark_after_filter=args.watermark_after_filter)
    if ok and case["spec"]["window"]["kind"] == "tumbling" and case["spec"]["emit"] == "close":
        ok, text = check_sqlite(case, args.sluice)
    print("SQL:\n" + case["sql"])
    if ok:
        print("case passes")
        return 0
    if args.shrink:
        def fails(c):
            return not sr.compare_case(c, args.sluice, env=c.get("env"),
                                       watermark_after_filter=args.watermark_after_filter)[0]
        case = sr.shrink(case, args.sluice, fails)
        ok, text = sr.compare_case(case, args.sluice, env=case.get("env"),
                                   watermark_after_filter=args.watermark_after_filter)
        sr.save_minimal(case, args.replay)
    print(case["csv"])
    print(text)
    erows, elate, _ = oracle.run(oracle.parse_csv(case["csv"]), sr.effective_spec(case["spec"]),
                                 watermark_after_filter=args.watermark_after_filter)
    print("expected rows: %r" % sorted(erows, key=sr.sort_key))
    print("expected late: %r" % sorted(elate))
    return 1


def main():
    ap = sr.arg_parser(20, "random cases per window kind and emit mode")
    ap.add_argument("--watermark-after-filter", action="store_true",
                    help="model a watermark fed only by the events the WHERE keeps")
    ap.add_argument("--no-null-keys", action="store_true")
    args = sr.parse_args(ap)
    if args.replay:
        return replay(args)

    plan = []
    for kind in ("tumbling", "hopping", "session", "none"):
        for emit in ("changes", "close"):
            if kind == "none" and emit == "close":
                continue
            for i in range(args.cases):
                plan.append((kind, emit, args.seed * 100000 + len(plan)))
    print("1..%d" % (len(plan) + args.cases + 1))
    t0 = time.time()
    failed = 0
    n = 0
    for kind, emit, seed in plan:
        n += 1
        rng = sr.rng_for(seed)
        null_keys = not args.no_null_keys and rng.random() < 0.2
        spec = gen_spec(rng, kind, emit, null_keys)
        events = sr.gen_events(rng, rng.randint(5, 60), null_keys=null_keys)
        if rng.random() < 0.15:
            # around the epoch: negative event times, windows aligned below 0
            for e in events:
                if e["ts"] is not None:
                    e["ts"] -= sr.BASE_MS + 20000
        case = sr.make_case(seed, events, spec)
        # batch and commit sizes vary too: results must not depend on them
        case["env"] = {"SLUICE_BATCH_ROWS": str(rng.choice([1, 3, 4096])),
                       "SLUICE_COMMIT_ROWS": str(rng.choice([1, 5, 100000]))}
        if rng.random() < 1 / 3:
            stage_case(case)
        label = "%s/%s" % (kind, emit)
        ok, text = sr.compare_case(case, args.sluice, env=case["env"],
                                   watermark_after_filter=args.watermark_after_filter)
        if ok and kind == "tumbling" and emit == "close":
            ok, text = check_sqlite(case, args.sluice)
            label += "+sqlite"
        desc = sr.with_tags("%s seed=%d" % (label, seed),
                            (("staged", case.get("staged", False)),
                             ("where", spec["where"]), ("having", spec["having"]),
                             ("epoch", any(e["ts"] is not None and e["ts"] < 0
                                           for e in events)),
                             ("override", spec["override_delay_ms"] is not None),
                             ("nullkeys", null_keys)))
        failed += sr.tap_case(n, ok, desc, case, text, args.failures, label)
    # HAVING without a window, global and grouped, against SQLite
    for i in range(args.cases):
        n += 1
        case = plain_case(args.seed * 100000 + len(plan) + i)
        spec = case["spec"]
        ok, text = check_plain(case, args.sluice)
        desc = sr.with_tags("having/%s seed=%d %s" %
                            ("global" if not spec["group"] else "grouped",
                             case["seed"], spec["having"]),
                            (("staged", case.get("staged", False)),
                             ("where", spec["where"]),
                             ("empty", case["csv"].count("\n") <= 1)))
        failed += sr.tap_case(n, ok, desc, case, text, args.failures, "having-none")
    # EMIT ON WINDOW CLOSE without a window is an error (exit status 1)
    n += 1
    with sr.scratch({"in.csv": sr.to_csv(sr.gen_events(sr.rng_for(args.seed), 5))}) as d:
        rc, _, err = sr.run_sluice(args.sluice, os.path.join(d, "t.db"),
                                   sr.source_sql("in.csv", 0) + "CREATE MATERIALIZED VIEW mv AS "
                                   "SELECT k, COUNT(*) AS c FROM src GROUP BY k "
                                   "EMIT ON WINDOW CLOSE;", cwd=d)
    if rc == 1 and "WINDOW" in err:
        print("ok %d - EMIT ON WINDOW CLOSE without a window is rejected" % n)
    else:
        failed += 1
        print("not ok %d - EMIT ON WINDOW CLOSE without a window: exit %d, %s" % (n, rc, err))
    print("# %d of %d failed, %.1f s" % (failed, n, time.time() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
