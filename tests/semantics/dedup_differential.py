#!/usr/bin/env python3
"""dedup_differential.py: random differential test of dedup without a
window (DESIGN.md section 2 rule 12; docs/dialect.md "Dedup") against a
python model of its watermark semantics.

For each random case (seeded) it generates a small, disorderly event stream
(sluicerun.gen_events: out-of-order arrival, duplicated timestamps, very
late events, NULL event times, NULLs in n and v, sometimes NULL keys and
event times before the epoch; sometimes n and v folded to a few values so
that keys repeat), writes it as CSV and runs one query into a CREATE
STREAMING TABLE:

- QUALIFY form:
    SELECT id, k, n, v, ts FROM src [WHERE ...] [WATERMARK ts DELAY d]
    QUALIFY ROW_NUMBER() OVER ([PARTITION BY keys] ORDER BY ts) = 1
    [WITH (dedup_within = '...')]
  keys among k, n, v, k and n, n % 3 (an expression);
- DISTINCT form:
    SELECT DISTINCT cols FROM src [WHERE ...] ... [WITH (...)]
  cols among k, n, (k, n), (k, v).

The model: events in file order, W from -inf; a row the WHERE drops only
moves W; a NULL event time is a dead letter (W unchanged); a row with
t <= W (W as it stood before it) is late; otherwise, per key: pending (not
yet emitted) with t_p: the row with the smaller t is kept (a tie keeps the
one that arrived first) and the other dropped; emitted and still
remembered: dropped; unknown: pending. Then W = max(W, t - delay); the
pending keys with t <= W are emitted in (t, arrival) order, and the
emitted keys with t + dedup_within <= W forgotten. The end of the file
emits the rest. Sluice's rows, in the order it wrote them (rowid), its
late events (id, event time, watermark), its dead letters and its
dedup_dropped count must equal the model's.

Each case runs at SLUICE_BATCH_ROWS 1, 7 and the default, with a random
SLUICE_COMMIT_ROWS (1, 5 or 100000: the state is checkpointed at each
commit): results must not depend on them.

Output is TAP, one test point per case. A failing case prints its seed,
SQL, input CSV and the differences, and is saved as JSON under
--failures DIR; replay it with `dedup_differential.py SLUICE --replay
FILE.json` (add --shrink to reduce the input to a minimal failing one).

Usage: dedup_differential.py SLUICE [--cases N] [--seed S] [--failures DIR]
                                    [--replay FILE [--shrink]]
"""

import os
import sqlite3
import sys

import oracle
import sluicerun as sr

NEG_INF = float("-inf")
DAY_MS = 24 * 3600 * 1000

# key expressions: SQL, and the model's value of an event
KEYS = {
    "k": ("k", lambda e: e["k"]),
    "n": ("n", lambda e: e["n"]),
    "v": ("v", lambda e: e["v"]),
    "n3": ("n % 3", lambda e: None if e["n"] is None else e["n"] % 3),
}
QUALIFY_KEYS = [[], ["k"], ["n"], ["k", "n"], ["n3"], ["k", "v"]]
DISTINCT_COLS = [["k"], ["n"], ["k", "n"], ["k", "v"]]
BATCHES = ["1", "7", None]          # None: the default


def gen_spec(rng):
    form = "distinct" if rng.random() < 0.35 else "qualify"
    keys = rng.choice(DISTINCT_COLS if form == "distinct" else QUALIFY_KEYS)
    return {
        "form": form,
        "keys": keys,
        "delay_ms": rng.choice([0, 500, 1000, 2000, 5000]),
        "override_delay_ms": rng.choice([None, None, None, 0, 1500]),
        "where": rng.choice([None, None] + sorted(oracle.WHERE)),
        "within_ms": rng.choice([None, 1000, 2500, 5000, 20000]),
    }


def query_sql(spec, name="t"):
    if spec["form"] == "distinct":
        q = "CREATE STREAMING TABLE %s AS SELECT DISTINCT %s FROM src" % (
            name, ", ".join(KEYS[c][0] for c in spec["keys"]))
    else:
        q = "CREATE STREAMING TABLE %s AS SELECT id, k, n, v, ts FROM src" % name
    if spec["where"]:
        q += " WHERE " + oracle.WHERE[spec["where"]][0]
    if spec["override_delay_ms"] is not None:
        q += " WATERMARK ts DELAY %s" % sr.dur(spec["override_delay_ms"])
    if spec["form"] == "qualify":
        part = ""
        if spec["keys"]:
            part = "PARTITION BY %s " % ", ".join(KEYS[c][0] for c in spec["keys"])
        q += " QUALIFY ROW_NUMBER() OVER (%sORDER BY ts) = 1" % part
    if spec["within_ms"] is not None:
        q += " WITH (dedup_within = '%d milliseconds')" % spec["within_ms"]
    return q + ";"


def make_case(seed, rng):
    spec = gen_spec(rng)
    n = rng.randint(150, 500) if rng.random() < 0.1 else rng.randint(5, 80)
    events = sr.gen_events(rng, n, null_keys=rng.random() < 0.3)
    if rng.random() < 0.4:
        for e in events:            # few distinct values: keys repeat
            if e["n"] is not None:
                e["n"] %= 4
            if e["v"] is not None:
                e["v"] = float(int(e["v"]) % 3) + 0.5
    if rng.random() < 0.15:
        for e in events:            # around the epoch: negative times
            if e["ts"] is not None:
                e["ts"] -= sr.BASE_MS + 20000
    return {"seed": seed, "csv": sr.to_csv(events), "spec": spec,
            "sql": sr.source_sql("in.csv", spec["delay_ms"]) + "\n" + query_sql(spec),
            "commit_rows": rng.choice(["1", "5", "100000"])}


# ---- the model ---------------------------------------------------------------------------

def model(events, spec):
    """(rows in emission order, late, dead, dropped)."""
    delay = spec["override_delay_ms"]
    if delay is None:
        delay = spec["delay_ms"]
    within = spec["within_ms"] if spec["within_ms"] is not None else DAY_MS
    where = oracle.WHERE[spec["where"]][1] if spec["where"] else None
    fns = [KEYS[c][1] for c in spec["keys"]]
    W = NEG_INF
    pending = {}        # key -> (t, arrival, event)
    emitted = {}        # key -> t, in emission order (dicts keep it)
    out, late, dead = [], [], []
    dropped = 0

    def follow():
        due = sorted((v[0], v[1], key) for key, v in pending.items() if v[0] <= W)
        for t, _, key in due:
            out.append(pending.pop(key)[2])
            emitted[key] = t
        for key in [key for key, t in emitted.items() if t + within <= W]:
            del emitted[key]

    for ai, e in enumerate(events):
        t = e["ts"]
        if where is not None and where(e) is not True:
            if t is not None and t - delay > W:
                W = t - delay
                follow()
            continue
        if t is None:
            dead.append(e["id"])
            continue
        if t <= W:
            late.append((e["id"], oracle.fmt_ts(t), oracle.fmt_ts(W)))
        else:
            key = tuple(f(e) for f in fns)
            if key in pending:
                dropped += 1
                if t < pending[key][0]:
                    pending[key] = (t, ai, e)
            elif key in emitted:
                dropped += 1
            else:
                pending[key] = (t, ai, e)
        if t - delay > W:
            W = t - delay
            follow()
    W = float("inf")
    follow()
    if spec["form"] == "distinct":
        rows = [tuple(f(e) for f in fns) for e in out]
    else:
        rows = [(e["id"], e["k"], e["n"], e["v"], oracle.fmt_ts(e["ts"])) for e in out]
    return rows, late, dead, dropped


# ---- running and comparing ----------------------------------------------------------------

STATS = {"rows": 0, "late": 0, "dropped": 0, "runs": 0}


def run_case(case, sluice, batch):
    """(rows in rowid order, late, dead, dropped) as sluice wrote them, or a
    string on error."""
    env = {"SLUICE_COMMIT_ROWS": case["commit_rows"]}
    if batch is not None:
        env["SLUICE_BATCH_ROWS"] = batch
    with sr.scratch({"in.csv": case["csv"]}) as d:
        db = os.path.join(d, "t.db")
        rc, _, err = sr.run_sluice(sluice, db, case["sql"], env=env, cwd=d)
        if rc != 0:
            return "sluice exited %d\nstderr: %s" % (rc, err.strip())
        _, late, dead = sr.read_results(db, "t")
        con = sqlite3.connect(db)
        try:
            rows = [tuple(r) for r in con.execute("SELECT * FROM t ORDER BY rowid")]
            got = con.execute("SELECT value FROM sluice_metrics WHERE query = 't' "
                              "AND name = 'dedup_dropped'").fetchone()
        finally:
            con.close()
        return rows, late, dead, None if got is None else int(got[0])


def compare(case, sluice):
    """(ok, report text) over the three batch sizes."""
    erows, elate, edead, edropped = model(oracle.parse_csv(case["csv"]), case["spec"])
    STATS["rows"] += len(erows)
    STATS["late"] += len(elate)
    STATS["dropped"] += edropped
    parts = []
    for batch in BATCHES:
        STATS["runs"] += 1
        got = run_case(case, sluice, batch)
        what = "batch_rows %s" % (batch or "default")
        if isinstance(got, str):
            parts.append("%s: %s" % (what, got))
            continue
        rows, late, dead, dropped = got
        if len(rows) != len(erows) or not all(sr.rows_equal(a, b)
                                              for a, b in zip(erows, rows)):
            parts.append("%s: rows differ (in order; %d expected, %d written):\n"
                         "%s\nexpected:\n%s\nsluice:\n%s" % (
                             what, len(erows), len(rows), sr.diff_rows(erows, rows),
                             "\n".join("  %r" % (r,) for r in erows),
                             "\n".join("  %r" % (r,) for r in rows)))
        parts += sr.late_dead_diffs(elate, late, edead, dead, what)
        if dropped != edropped:
            parts.append("%s: dedup_dropped %r, expected %d" % (what, dropped, edropped))
    return not parts, "\n".join(parts)


def main():
    args = sr.parse_args(sr.arg_parser(100))
    if args.replay:
        return sr.replay_case(args, compare)

    def one_case(seed):
        rng = sr.rng_for(seed)
        case = make_case(seed, rng)
        spec = case["spec"]
        label = "%s/%s" % (spec["form"], "+".join(spec["keys"]) or "all")
        ok, text = compare(case, args.sluice)
        desc = "%s seed=%d within=%s events=%d" % (
            label, seed, spec["within_ms"], len(case["csv"].splitlines()) - 1)
        desc = sr.with_tags(desc, (("where", spec["where"]),
                                   ("override", spec["override_delay_ms"] is not None)))
        return ok, desc, case, text, label

    return sr.run_cases(
        args, one_case,
        lambda: "%d expected rows, %d late events, %d duplicates dropped, %d runs" %
                (STATS["rows"], STATS["late"], STATS["dropped"], STATS["runs"]),
        prefix="dedup-", script="dedup_differential.py")


if __name__ == "__main__":
    sys.exit(main())
