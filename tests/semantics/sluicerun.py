"""sluicerun.py: shared helpers for the semantics tests (tests/semantics/):
random event streams, turning a query spec into sluice SQL, running the
sluice binary on a fresh database, reading back a view, its late events and
dead letters with python's sqlite3 module, and comparing rows with a
relative tolerance for doubles; and the frame the differential scripts
share (command line, TAP points, failure reports, --replay and --shrink).
It owns no test of its own.

A "case" is a dict {"seed", "csv", "spec", "sql"} that is enough to replay a
run (a case with several inputs has "csv_NAME" for NAME.csv instead of
"csv"): the differential scripts write failing cases as JSON files.
"""

import argparse
import contextlib
import json
import math
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time

import oracle

BASE_MS = oracle.parse_ts("2026-03-17 00:00:00")


# ---- inputs ------------------------------------------------------------------------

def gen_events(rng, n, null_keys=False, ts_null_rate=0.03):
    """n events in arrival order over a small event-time range: mostly
    increasing with jitter, duplicated timestamps, a few very late events,
    NULLs in the aggregated columns, three keys (and NULL keys if asked)."""
    events = []
    clock = BASE_MS + rng.randrange(0, 4) * 250
    prev = clock
    for i in range(n):
        clock += rng.choice([0, 0, 250, 250, 500, 1000, 1500])
        r = rng.random()
        if r < 0.06:
            t = clock - rng.randint(8, 40) * 1000          # very late
        elif r < 0.16:
            t = prev                                         # duplicate time
        else:
            t = clock + rng.randrange(-12, 5) * 250           # out of order
        prev = t
        if rng.random() < ts_null_rate:
            t = None
        k = rng.choice(["k1", "k2", "k3"])
        if null_keys and rng.random() < 0.1:
            k = None
        nval = None if rng.random() < 0.15 else rng.randint(0, 60)
        if rng.random() < 0.15:
            v = None
        elif rng.random() < 0.8:
            v = rng.randint(0, 400) / 4              # exact in binary
        else:
            v = round(rng.uniform(0, 100), 1)
        events.append({"id": i + 1, "k": k, "n": nval, "v": v, "ts": t})
    return events


def to_csv(events):
    lines = [",".join(c for c, _ in oracle.COLUMNS)]
    for e in events:
        f = []
        for c, typ in oracle.COLUMNS:
            x = e[c]
            if x is None:
                f.append("")
            elif typ == "TIMESTAMP":
                f.append(oracle.fmt_ts(x))
            else:
                f.append(repr(x) if isinstance(x, float) else str(x))
        lines.append(",".join(f))
    return "\n".join(lines) + "\n"


# ---- SQL ---------------------------------------------------------------------------

def dur(ms):
    """A window-spec duration: whole seconds when possible."""
    if ms % 1000 == 0:
        return "%d SECONDS" % (ms // 1000)
    return "%d MILLISECONDS" % ms


def source_sql(path, delay_ms, follow=False, name="src"):
    cols = ", ".join("%s %s" % c for c in oracle.COLUMNS)
    return ("CREATE SOURCE %s (%s, WATERMARK FOR ts AS ts - INTERVAL '%d' "
            "MILLISECOND) WITH (connector = 'file', path = '%s', format = 'csv', "
            "header = true, follow = %s);" %
            (name, cols, delay_ms, path, "true" if follow else "false"))


def view_sql(spec, name="mv", source="src"):
    win = spec["window"]
    sel = list(spec["group"])
    if win["kind"] != "none":
        sel += ["window_start", "window_end"]
    for i, (fn, col, distinct) in enumerate(spec["aggs"]):
        sel.append("%s AS a%d" % (oracle.agg_sql(fn, col, distinct), i))
    q = "CREATE MATERIALIZED VIEW %s AS SELECT %s FROM %s" % (name, ", ".join(sel), source)
    if spec.get("where"):
        q += " WHERE " + oracle.WHERE[spec["where"]][0]
    if win["kind"] == "tumbling":
        q += " WINDOW TUMBLING (SIZE %s)" % dur(win["size_ms"])
    elif win["kind"] == "hopping":
        q += " WINDOW HOPPING (SIZE %s, ADVANCE BY %s)" % (dur(win["size_ms"]),
                                                           dur(win["advance_ms"]))
    elif win["kind"] == "session":
        q += " WINDOW SESSION (GAP %s)" % dur(win["gap_ms"])
    if spec.get("override_delay_ms") is not None:
        q += " WATERMARK ts DELAY %s" % dur(spec["override_delay_ms"])
    if spec["group"]:
        q += " GROUP BY " + ", ".join(spec["group"])
    if spec.get("having"):
        q += " HAVING " + oracle.HAVING[spec["having"]][0]
    q += " EMIT ON WINDOW CLOSE;" if spec["emit"] == "close" else " EMIT CHANGES;"
    return q


def effective_spec(spec):
    """The spec as the oracle wants it (delay_ms = the delay in force)."""
    s = dict(spec)
    if spec.get("override_delay_ms") is not None:
        s["delay_ms"] = spec["override_delay_ms"]
    return s


# ---- running sluice ------------------------------------------------------------------

def scratch_dir():
    """A temporary directory, on tmpfs when there is one (fsync is cheap)."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    return tempfile.mkdtemp(prefix="sluice-sem-", dir=base)


@contextlib.contextmanager
def scratch(files=None):
    """A scratch directory (see scratch_dir) holding files {name: text},
    removed with what is in it afterwards."""
    d = scratch_dir()
    try:
        for name, text in (files or {}).items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        yield d
    finally:
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        os.rmdir(d)


def run_sluice(sluice, db, sql, env=None, cwd=None, timeout=120):
    e = dict(os.environ)
    for k in ("SLUICE_BATCH_ROWS", "SLUICE_COMMIT_ROWS", "SLUICE_COMMIT_INTERVAL_MS"):
        e.pop(k, None)
    if env:
        e.update(env)
    p = subprocess.run([sluice, db, "-c", sql], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=e, cwd=cwd, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def read_results(db, name="mv", cols="*"):
    """(view rows, late events, dead-letter ids) of query `name`."""
    con = sqlite3.connect(db)
    try:
        rows = [tuple(r) for r in con.execute('SELECT %s FROM "%s"' % (cols, name))]
        late = []
        for ev, et, wm in con.execute("SELECT event, event_time, watermark FROM "
                                      "sluice_late_events WHERE query = ?", (name,)):
            late.append((json.loads(ev)["id"], et, wm))
        dead = []
        for (raw,) in con.execute("SELECT raw FROM sluice_dead_letters WHERE query = ?",
                                  (name,)):
            try:
                dead.append(json.loads(raw)["id"])
            except (ValueError, KeyError, TypeError):
                dead.append(raw)
    finally:
        con.close()
    return rows, late, dead


# ---- comparing -------------------------------------------------------------------------

def sort_key(row):
    return tuple((x is None, type(x) is str, x if x is not None else 0) for x in row)


def values_equal(a, b, rel=1e-9):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, float) or isinstance(b, float):
        if a == b:
            return True
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-12)
    return a == b


def rows_equal(r1, r2):
    return len(r1) == len(r2) and all(values_equal(a, b) for a, b in zip(r1, r2))


def diff_rows(expected, actual):
    """Lines describing the difference of two row multisets ('' if none)."""
    exp = sorted(expected, key=sort_key)
    act = sorted(actual, key=sort_key)
    missing, extra = [], list(act)
    for r in exp:
        for i, a in enumerate(extra):
            if rows_equal(r, a):
                del extra[i]
                break
        else:
            missing.append(r)
    out = []
    for r in missing:
        out.append("  expected, missing: %r" % (r,))
    for r in extra:
        out.append("  unexpected:        %r" % (r,))
    return "\n".join(out)


def compare_case(case, sluice, env=None, watermark_after_filter=False):
    """Runs one case on sluice and the oracle. Returns (ok, report text)."""
    with scratch({"in.csv": case["csv"]}) as d:
        db = os.path.join(d, "t.db")
        rc, out, err = run_sluice(sluice, db, case["sql"], env=env, cwd=d)
        if rc != 0:
            return False, "sluice exited %d\nstderr: %s" % (rc, err.strip())
        rows, late, dead = read_results(db)
    events = oracle.parse_csv(case["csv"])
    erows, elate, edead = oracle.run(events, effective_spec(case["spec"]),
                                     watermark_after_filter=watermark_after_filter)
    parts = []
    dr = diff_rows(erows, rows)
    if dr:
        parts.append("view rows differ:\n" + dr)
    parts += late_dead_diffs(elate, late, edead, dead)
    return not parts, "\n".join(parts)


def late_dead_diffs(elate, late, edead, dead, what=""):
    """The report lines for late events and dead letters that differ from
    the model's (none when they agree); `what` prefixes each."""
    pre = what + ": " if what else ""
    parts = []
    if sorted(elate) != sorted(late):
        parts.append(pre + "late events differ (id, event_time, watermark):\n" +
                     diff_rows(elate, late))
    if sorted(edead, key=str) != sorted(dead, key=str):
        parts.append(pre + "dead letters differ: expected ids %r, got %r" %
                     (sorted(edead, key=str), sorted(dead, key=str)))
    return parts


def make_case(seed, events, spec):
    return {"seed": seed, "csv": to_csv(events), "spec": spec,
            "sql": source_sql("in.csv", spec["delay_ms"]) + "\n" + view_sql(spec)}


def shrink(case, sluice, still_fails, field="csv"):
    """Greedy delta-debugging of the input case[field]: drops events
    (halves, then one at a time) while still_fails(case) holds. Returns the
    smaller case."""
    lines = case[field].splitlines()
    header, body = lines[0], lines[1:]

    def with_body(b):
        c = dict(case)
        c[field] = "\n".join([header] + b) + "\n"
        return c

    chunk = max(1, len(body) // 2)
    while chunk >= 1:
        i = 0
        changed = False
        while i < len(body):
            trial = body[:i] + body[i + chunk:]
            if trial and still_fails(with_body(trial)):
                body = trial
                changed = True
            else:
                i += chunk
        if not changed:
            chunk //= 2
    return with_body(body)


def rng_for(seed):
    return random.Random(seed)


def arg_parser(cases, cases_help="random cases"):
    """The command line the differential scripts share: SLUICE [--cases N]
    [--seed S] [--failures DIR] [--replay FILE [--shrink]]."""
    ap = argparse.ArgumentParser()
    ap.add_argument("sluice")
    ap.add_argument("--cases", type=int, default=cases, help=cases_help)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("SEMANTICS_SEED", "1")))
    ap.add_argument("--failures", default=None)
    ap.add_argument("--replay")
    ap.add_argument("--shrink", action="store_true")
    return ap


def parse_args(ap):
    args = ap.parse_args()
    args.sluice = os.path.abspath(args.sluice)
    return args


def with_tags(desc, tags):
    """desc, then the names of the (name, on) tags that are on in brackets."""
    on = [t for t, v in tags if v]
    return desc + (" [" + ",".join(on) + "]" if on else "")


def tap_case(n, ok, desc, case, text, failures, label, **report):
    """Prints TAP test point n for a case and, if it failed, the case
    (report_failure, with the keyword arguments given). Returns 1 if it
    failed, else 0."""
    print("%s %d - %s" % ("ok" if ok else "not ok", n, desc))
    if not ok:
        report_failure(case, text, failures, label, **report)
    sys.stdout.flush()
    return 0 if ok else 1


def run_cases(args, one_case, summary, **report):
    """The main loop of a differential script: the TAP plan, then one test
    point per case, one_case(seed) -> (ok, desc, case, text, label), a
    failing case reported (tap_case), summary() as a closing comment.
    Returns the exit status."""
    print("1..%d" % args.cases)
    t0 = time.time()
    failed = 0
    for i in range(args.cases):
        ok, desc, case, text, label = one_case(args.seed * 100000 + i)
        failed += tap_case(i + 1, ok, desc, case, text, args.failures, label, **report)
    print("# " + summary())
    print("# %d of %d failed, %.1f s" % (failed, args.cases, time.time() - t0))
    return 1 if failed else 0


def save_minimal(case, replay_path):
    """Saves a shrunk case beside the one replayed (--replay --shrink)."""
    with open(replay_path + ".min.json", "w") as f:
        json.dump(case, f, indent=1)
    print("minimal input (saved as %s.min.json):" % replay_path)


def replay_case(args, compare, fields=("csv",)):
    """--replay FILE [--shrink]: runs a saved case, compare(case, sluice) ->
    (ok, report text). With --shrink, reduces its inputs (each of fields,
    in turn, until none gets smaller) and saves the minimal case. Prints
    the inputs and the differences; returns the exit status."""
    with open(args.replay) as f:
        case = json.load(f)
    if "env" in case:
        print("env: %s" % " ".join("%s=%s" % kv for kv in sorted(case["env"].items())))
    print("SQL:\n" + case["sql"])
    ok, text = compare(case, args.sluice)
    if ok:
        print("case passes")
        return 0
    if args.shrink:
        def fails(c):
            return not compare(c, args.sluice)[0]
        while True:
            before = [case[f] for f in fields]
            for f in fields:
                case = shrink(case, args.sluice, fails, field=f)
            if len(fields) == 1 or [case[f] for f in fields] == before:
                break
        ok, text = compare(case, args.sluice)
        save_minimal(case, args.replay)
    for f in fields:
        if len(fields) > 1:
            print("%s:" % (f[4:] + ".csv" if f.startswith("csv_") else f))
        print(case[f])
    print(text)
    return 1


def report_failure(case, text, failures, label, prefix="", script="differential.py"):
    """Prints a failing case (seed, env, SQL, input(s), differences) as TAP
    comments and saves it as JSON under failures, for --replay."""
    print("# FAIL %s seed=%s" % (label, case["seed"]))
    print("# env: %s" % " ".join("%s=%s" % kv for kv in sorted(case.get("env", {}).items())))
    print("# SQL:")
    for line in case["sql"].splitlines():
        print("#   " + line)
    # one input "csv", or several "csv_NAME" (written as NAME.csv)
    for key in sorted(k for k in case if k == "csv" or k.startswith("csv_")):
        print("# input %s:" % ("CSV" if key == "csv" else key[4:] + ".csv"))
        for line in case[key].splitlines():
            print("#   " + line)
    for line in text.splitlines():
        print("# " + line)
    if failures:
        os.makedirs(failures, exist_ok=True)
        path = os.path.join(failures, "%s%s-%s.json" % (prefix, label.replace("/", "-"),
                                                         case["seed"]))
        with open(path, "w") as f:
            json.dump(case, f, indent=1)
        print("# saved: %s (replay: %s SLUICE --replay %s)" % (path, script, path))
