#!/usr/bin/env python3
"""wjoin_differential.py: random differential test of window joins of two
sources (`FROM l [LEFT] JOIN r ON l.k = r.k [AND l.k2 = r.k2] WINDOW
TUMBLING (SIZE S)`) against an independent python model, and of the pairs
it finds against SQLite's own join.

For each random case (seeded) it generates two small, disorderly CSV files
(sluicerun.gen_events, one per side, the right side shifted in event time
by a random lag: out-of-order rows, duplicated and very late timestamps,
NULL event times, NULL keys, NULL values, sometimes a malformed field such
as 'x' in the BIGINT v, a side that ends in dead letters, an empty side,
event times before the epoch). Each side's key is BIGINT or TEXT (a TEXT
side sometimes writes a key with a leading zero, or 'a', which no BIGINT
key equals; keys are sometimes negative or past 32 bits); each side has
its own watermark delay; windows of 1 to 10 s (1.5 s too); about a third
of the cases are LEFT joins (--join inner|left forces one kind), and half
have a random WHERE: 1 to 3 conditions ANDed (two of them sometimes in
parentheses of their own), each on l only, on r only or on both
(`l.v > 3`, `r.v IS NULL`, `(l.v < 7 OR l.v IS NULL)`, `NOT (r.v >= 9)`,
`l.k <> 4` or `r.k = '03'` as the key's type wants, `l.id % 3 <> 0`,
`l.v + r.v > 50`, `l.v <> r.v`, `(r.v > 5 OR l.v IS NULL)`, ...). Two
continuous queries run on a fresh database:

    CREATE STREAMING TABLE pairs AS SELECT l.k, l.id AS li, l.v AS lv,
        r.id AS ri, r.v AS rv, r.k AS rk, window_start, window_end
      FROM l [LEFT] JOIN r ON l.k = r.k [AND l.k2 = r.k2] [WHERE ...]
      WINDOW TUMBLING (...);
    CREATE MATERIALIZED VIEW | STREAMING TABLE agg AS SELECT l.k,
        window_start, COUNT(*) AS n, SUM(r.v) AS s, SUM(l.v) AS ls,
        COUNT(r.v) AS nv
      FROM l [LEFT] JOIN r ON ... [WHERE ...] WINDOW TUMBLING (...)
      GROUP BY l.k EMIT ON WINDOW CLOSE | EMIT CHANGES (view only);

(sometimes with table aliases, or the equalities written the other way
round). Each case runs four times, with batch_rows 1, 2, 7 and the default,
set by SET, by the query's WITH (...) or by SLUICE_BATCH_ROWS, sometimes
with a commit every few rows as well; every run must equal the model, and
the runs must equal each other exactly.

The model (written from the rules, not from the C):
- rows are merged by event time: repeatedly the side whose next row has
  the smaller event time (NULL = -inf) goes next, ties to l; malformed
  records are dead letters and take no part; a side whose last row was
  taken has ENDED (a side with no rows has ended from the start);
- W_side = max(event time seen on that side) - its delay, from -inf, +inf
  once the side has ended; the join's W = min(W_l, W_r), never back;
- WHERE before the join (dialect.md): of WHERE's ANDed conditions (nested
  ANDs flattened), those that read l only apply to l's rows as they are
  read, and under an INNER join those that read r only to r's rows (not
  under LEFT JOIN: r's are only applied after it). A row for which one
  of its side's is FALSE or NULL is rejected: not kept, never late, not a
  dead letter even with a NULL event time; its event time, if not NULL,
  still moves W_side (it takes its place in the merge as any row does);
- each row not rejected, in merge order: a NULL event time is a dead
  letter; else, with ws = floor(t / S) * S, the row is LATE if W (before
  it) >= ws + S -- recorded once in sluice_late_events (its source, event
  time, that W) and used nowhere; else a NULL key (any part of it) drops
  it silently -- except an l row under LEFT JOIN, which is kept; else it
  is kept in window ws on its side. Then W_side and W advance;
- when W reaches a window's end the window's pairs are emitted (windows in
  start order): l's rows in arrival order, each with every r row of that
  window with equal keys, in r's arrival order; under LEFT JOIN an l row
  with no such r row (a NULL key never has one) is emitted in its place,
  once, with NULL for every r column. A window with r rows only emits
  nothing. Keys compare by their text form (BIGINT 7 equals TEXT '7', not
  '07'). The end of both inputs emits everything;
- the whole WHERE then keeps the emitted rows for which it is TRUE (SQL's
  three-valued logic; an unmatched l row's r columns are NULL), and the
  aggregate groups those.
So the streaming table must hold exactly the model's pairs in the model's
order (rowid order), the aggregate the model's groups, and each query's
late events (in order) and dead letters (source, line, NULL event time or
not) the model's.

The SQLite check: the pairs (as a multiset) and the aggregate must also
equal `l [LEFT] JOIN r ON text(l.k) = text(r.k) AND window(l.ts) =
window(r.ts) [WHERE ...]` (the whole WHERE, as SQL text) computed by
SQLite over the rows that are neither dead letters nor late nor rejected
before the join (by the model), NULL keys included (the window condition
is in the ON clause, so under LEFT an l row whose window has no match
keeps NULLs for r).

Output is TAP, one test point per case. A failing case prints its seed,
SQL, both inputs and the differences, and is saved as JSON under --failures
DIR; replay it with `wjoin_differential.py SLUICE --replay FILE.json` (add
--shrink to reduce both inputs to a minimal failing pair).

Usage: wjoin_differential.py SLUICE [--cases N] [--seed S] [--failures DIR]
                                     [--join mix|inner|left]
                                     [--replay FILE [--shrink]]
"""

import json
import math
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle                                   # noqa: E402
import sluicerun as sr                          # noqa: E402

NEG_INF = -math.inf
POS_INF = math.inf

SIDES = ("l", "r")
BATCHES = [1, 2, 7, None]           # None: the default batch_rows
PAIR_COLS = ["k", "li", "lv", "ri", "rv", "rk", "window_start", "window_end"]
AGG_COLS = ["k", "window_start", "window_end", "n", "s", "ls", "nv"]
LEFT_SHARE = 1 / 3                  # of the cases, under --join mix
WHERE_SHARE = 1 / 2                 # of the cases: a random WHERE


# ---- random cases ------------------------------------------------------------------

def gen_spec(rng):
    two = rng.random() < 0.25
    spec = {
        "size_ms": rng.choice([1000, 1000, 1500, 2000, 3000, 5000, 10000]),
        "delay_s": {s: rng.choice([0, 0, 1, 2, 3, 5]) for s in SIDES},
        "ktype": {s: rng.choice(["BIGINT", "TEXT"]) for s in SIDES},
        "k2type": ({s: rng.choice(["BIGINT", "TEXT"]) for s in SIDES} if two else None),
        "key_offset": rng.choice([0, 0, 0, -2, 10 ** 12]),     # keys k1..k3 -> 1..3 + this
        "alias": rng.choice([None, None, None, {"l": "a", "r": "b"}]),
        "swap_on": rng.random() < 0.3,
        "agg": rng.choice(["mv-close", "mv-close", "mv-changes", "stream-close"]),
    }
    return spec


def gen_side(rng, spec, side, lag_ms, epoch_shift):
    """One side's CSV text: gen_events' disorderly stream with integer keys,
    BIGINT values and sometimes a malformed field."""
    r = rng.random()
    n = 0 if r < 0.04 else (rng.randint(120, 250) if r < 0.1 else
                            rng.randint(1, 4) if r < 0.2 else rng.randint(5, 40))
    null_keys = rng.random() < 0.4
    events = sr.gen_events(rng, n, null_keys=null_keys)
    text_alias = (rng.choice([None, None, "0%d" % (3 + spec["key_offset"]), "a"])
                  if spec["ktype"][side] == "TEXT" else None)
    bad_rate = rng.choice([0, 0, 0.03, 0.08])
    cols = columns(spec, side)
    lines = [",".join(c for c, _ in cols)]
    for e in events:
        k = None if e["k"] is None else int(e["k"][1:]) + spec["key_offset"]
        if k == 3 + spec["key_offset"] and text_alias and rng.random() < 0.5:
            k = text_alias
        row = {"id": e["id"], "k": k, "v": e["n"],
               "ts": None if e["ts"] is None else e["ts"] + lag_ms - epoch_shift}
        if spec["k2type"]:
            row["k2"] = None if null_keys and rng.random() < 0.05 else rng.randint(0, 1)
        fields = {c: "" if row[c] is None else
                  (oracle.fmt_ts(row[c]) if t == "TIMESTAMP" else str(row[c]))
                  for c, t in cols}
        if row["ts"] is not None and rng.random() < bad_rate:
            malform(rng, fields, spec, side)
        lines.append(",".join(fields[c] for c, _ in cols))
    if events and rng.random() < 0.15:
        # the side ends in rows that are dead letters: it has ended after
        # its last good row (malformed) or after its NULL event times
        for _ in range(rng.randint(1, 3)):
            fields = dict(zip([c for c, _ in cols], lines[-1].split(",")))
            fields["id"] = str(int(fields["id"]) + 1)
            if rng.random() < 0.5:
                malform(rng, fields, spec, side)
            else:
                fields["ts"] = ""
            lines.append(",".join(fields[c] for c, _ in cols))
    return "\n".join(lines) + "\n"


def malform(rng, fields, spec, side):
    """Makes one field of a row's CSV fields unconvertible."""
    bad = rng.choice(["v", "v", "ts"] + (["k"] if spec["ktype"][side] == "BIGINT" else []))
    fields[bad] = "x" if bad != "ts" else "2026-03-17 xx"


def make_case(seed, rng, join="mix"):
    spec = gen_spec(rng)
    lag = rng.choice([0, 0, 0, 0, 500, -1000, 2000, -3000, 5000, -8000]
                     if rng.random() < 0.9 else [-30000, 60000])
    epoch_shift = sr.BASE_MS + 20000 if rng.random() < 0.12 else 0
    case = {"seed": seed, "spec": spec,
            "csv_l": gen_side(rng, spec, "l", 0, epoch_shift),
            "csv_r": gen_side(rng, spec, "r", lag, epoch_shift)}
    runs = []
    for b in BATCHES:
        runs.append({"batch": b, "how": rng.choice(["set", "with", "env"]),
                     "commit_rows": rng.choice([None, None, 1, 5])})
    case["runs"] = runs
    # drawn last, so that an inner case has the inputs and runs it had
    # before LEFT JOIN was drawn at all (--join inner replays those)
    left = rng.random() < LEFT_SHARE
    spec["left"] = left if join == "mix" else join == "left"
    # drawn after everything else, for the same reason (and drawn whatever
    # --join says, so that the inputs of a seed do not depend on it)
    spec["where"] = gen_where(rng, spec) if rng.random() < WHERE_SHARE else None
    case["sql"] = case_sql(spec, {"batch": None, "how": "set", "commit_rows": None})
    return case


# ---- random WHERE clauses ----------------------------------------------------------
# A condition is a JSON-able tree (saved cases replay it): ["col", side,
# name], ["lit", value], ["add", a, b], ["mod", a, m], ["cmp", op, a, b],
# ["isnull", a, negated], ["or", a, b], ["not", a], ["and", [c, ...]].

CMP_OPS = ["<", "<=", ">", ">=", "=", "<>"]


def gen_where(rng, spec):
    """A WHERE of 1 to 3 conditions ANDed, two of them sometimes in
    parentheses of their own (still conjuncts of the whole)."""
    conds = [gen_cond(rng, spec) for _ in range(rng.choice([1, 1, 2, 2, 3]))]
    if len(conds) >= 2 and rng.random() < 0.3:
        i = rng.randrange(len(conds) - 1)
        conds[i:i + 2] = [["and", conds[i:i + 2]]]
    return ["and", conds]


def gen_cond(rng, spec):
    """One condition: on l only, on r only, or on both."""
    what = rng.choice(["one", "one", "one", "both"])
    if what == "both":
        lv, rv = ["col", "l", "v"], ["col", "r", "v"]
        c = rng.choice(["sum", "sum", "cmp", "or", "not", "ids"])
        if c == "sum":
            return ["cmp", rng.choice([">", "<", ">="]), ["add", lv, rv],
                    ["lit", rng.randint(0, 120)]]
        if c == "cmp":
            return ["cmp", rng.choice(["<", "<>", ">=", "="]), lv, rv]
        if c == "or":
            a, b = rng.sample([lv, rv], 2)
            return ["or", ["cmp", rng.choice(CMP_OPS), a, ["lit", rng.randint(0, 60)]],
                    ["isnull", b, False]]
        if c == "not":
            return ["not", ["cmp", "=", lv, rv]]
        return ["cmp", "<", ["col", "l", "id"], ["add", ["col", "r", "id"],
                                                 ["lit", rng.randint(-5, 20)]]]
    side = rng.choice(SIDES)
    v, k = ["col", side, "v"], ["col", side, "k"]
    c = rng.choice(["v", "v", "v", "vnull", "k", "k", "knull", "or", "not", "id"])
    if c == "v":
        return ["cmp", rng.choice(CMP_OPS), v, ["lit", rng.randint(0, 60)]]
    if c == "vnull":
        return ["isnull", v, rng.random() < 0.6]
    if c == "k":
        key = rng.randint(1, 3) + spec["key_offset"]
        if spec["ktype"][side] == "TEXT":
            lit = rng.choice([str(key)] * 4 + ["0%d" % (3 + spec["key_offset"]), "a"])
            return ["cmp", rng.choice(["=", "<>", "<>"]), k, ["lit", lit]]
        return ["cmp", rng.choice(CMP_OPS + ["<>"]), k, ["lit", key]]
    if c == "knull":
        return ["isnull", k, rng.random() < 0.6]
    if c == "or":
        return ["or", ["cmp", rng.choice(CMP_OPS), v, ["lit", rng.randint(0, 60)]],
                ["isnull", v, False]]
    if c == "not":
        return ["not", ["cmp", rng.choice(CMP_OPS), v, ["lit", rng.randint(0, 60)]]]
    return ["cmp", rng.choice(["<>", "="]), ["mod", ["col", side, "id"], rng.randint(2, 4)],
            ["lit", 0]]


def cond_sql(e, names):
    """SQL text of a condition tree, the sides named names[side]."""
    op = e[0]
    if op == "col":
        return "%s.%s" % (names[e[1]], e[2])
    if op == "lit":
        return "'%s'" % e[1] if isinstance(e[1], str) else str(e[1])
    if op == "add":
        return "%s + %s" % (cond_sql(e[1], names), cond_sql(e[2], names))
    if op == "mod":
        return "%s %% %d" % (cond_sql(e[1], names), e[2])
    if op == "cmp":
        return "%s %s %s" % (cond_sql(e[2], names), e[1], cond_sql(e[3], names))
    if op == "isnull":
        return "%s IS %sNULL" % (cond_sql(e[1], names), "NOT " if e[2] else "")
    if op == "or":
        return "(%s OR %s)" % (cond_sql(e[1], names), cond_sql(e[2], names))
    if op == "not":
        return "NOT (%s)" % cond_sql(e[1], names)
    assert op == "and", e
    return " AND ".join(("(%s)" % cond_sql(c, names)) if c[0] == "and" else
                        cond_sql(c, names) for c in e[1])


def cond_eval(e, rows):
    """SQL's value of a condition (True, False or None for NULL) over
    rows {side: row dict, or None for a side whose columns are NULL}."""
    op = e[0]
    if op == "col":
        row = rows[e[1]]
        return None if row is None else row[e[2]]
    if op == "lit":
        return e[1]
    if op in ("add", "mod"):
        a = cond_eval(e[1], rows)
        if op == "mod":
            return None if a is None else a % e[2]        # ids: positive
        b = cond_eval(e[2], rows)
        return None if a is None or b is None else a + b
    if op == "cmp":
        a, b = cond_eval(e[2], rows), cond_eval(e[3], rows)
        if a is None or b is None:
            return None
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b,
                "=": a == b, "<>": a != b}[e[1]]
    if op == "isnull":
        return (cond_eval(e[1], rows) is None) != e[2]
    if op == "not":
        a = cond_eval(e[1], rows)
        return None if a is None else not a
    vals = ([cond_eval(e[1], rows), cond_eval(e[2], rows)] if op == "or" else
            [cond_eval(c, rows) for c in e[1]])
    if op == "or":
        return True if True in vals else None if None in vals else False
    assert op == "and", e
    return False if False in vals else None if None in vals else True


def cond_sides(e):
    """The sides whose columns a condition reads."""
    if e[0] == "col":
        return {e[1]}
    if e[0] == "and":
        kids = e[1]
    else:
        kids = [x for x in e[1:] if isinstance(x, list)]
    out = set()
    for x in kids:
        out |= cond_sides(x)
    return out


def conjuncts(e):
    """The conditions a WHERE ANDs together (nested ANDs flattened)."""
    if e[0] != "and":
        return [e]
    return [c for x in e[1] for c in conjuncts(x)]


def prefilters(spec):
    """{side: [conjuncts of WHERE applied to that side's rows as they are
    read]}: the conjuncts that read l only, and under an INNER join those
    that read r only."""
    out = {s: [] for s in SIDES}
    if spec.get("where"):
        for c in conjuncts(spec["where"]):
            sides = cond_sides(c)
            if len(sides) == 1:
                (s,) = sides
                if s == "l" or not is_left(spec):
                    out[s].append(c)
    return out


# ---- SQL ---------------------------------------------------------------------------

def columns(spec, side):
    cols = [("id", "BIGINT"), ("k", spec["ktype"][side])]
    if spec["k2type"]:
        cols.append(("k2", spec["k2type"][side]))
    return cols + [("v", "BIGINT"), ("ts", "TIMESTAMP")]


def source_sql(spec, side):
    return ("CREATE SOURCE %s (%s, WATERMARK FOR ts AS ts - INTERVAL '%d' SECONDS) "
            "WITH (connector = 'file', path = '%s.csv', format = 'csv', header = true);"
            % (side, ", ".join("%s %s" % c for c in columns(spec, side)),
               spec["delay_s"][side], side))


def from_sql(spec):
    """(FROM ... WINDOW ... text, name of l in expressions, name of r)."""
    a = spec["alias"] or {}
    ln, rn = a.get("l", "l"), a.get("r", "r")
    keys = ["k", "k2"] if spec["k2type"] else ["k"]
    if spec["swap_on"]:
        eqs = ["%s.%s = %s.%s" % (rn, c, ln, c) for c in reversed(keys)]
    else:
        eqs = ["%s.%s = %s.%s" % (ln, c, rn, c) for c in keys]
    where = spec.get("where")
    text = "FROM l%s %sJOIN r%s ON %s%s WINDOW TUMBLING (SIZE %s)" % (
        " " + ln if a else "", "LEFT " if is_left(spec) else "",
        " AS " + rn if a else "", " AND ".join(eqs),
        " WHERE " + cond_sql(where, {"l": ln, "r": rn}) if where else "",
        sr.dur(spec["size_ms"]))
    return text, ln, rn


def is_left(spec):
    return spec.get("left", False)          # cases saved before LEFT: inner


def settings_with(run):
    s = []
    if run["how"] == "with" and run["batch"] is not None:
        s.append("batch_rows = %d" % run["batch"])
    if run["how"] == "with" and run["commit_rows"] is not None:
        s.append("commit_interval = '%d rows'" % run["commit_rows"])
    return " WITH (%s)" % ", ".join(s) if s else ""


def case_sql(spec, run):
    frm, ln, rn = from_sql(spec)
    out = [source_sql(spec, "l"), source_sql(spec, "r")]
    if run["how"] == "set":
        if run["batch"] is not None:
            out.append("SET batch_rows = %d;" % run["batch"])
        if run["commit_rows"] is not None:
            out.append("SET commit_interval = '%d rows';" % run["commit_rows"])
    w = settings_with(run)
    out.append("CREATE STREAMING TABLE pairs AS SELECT %s.k, %s.id AS li, %s.v AS lv, "
               "%s.id AS ri, %s.v AS rv, %s.k AS rk, window_start, window_end %s%s;"
               % (ln, ln, ln, rn, rn, rn, frm, w))
    kind, emit = spec["agg"].split("-")
    out.append("CREATE %s agg AS SELECT %s.k, window_start, COUNT(*) AS n, SUM(%s.v) AS s, "
               "SUM(%s.v) AS ls, COUNT(%s.v) AS nv %s GROUP BY %s.k %s%s;"
               % ("MATERIALIZED VIEW" if kind == "mv" else "STREAMING TABLE", ln, rn, ln, rn,
                  frm, ln, "EMIT CHANGES" if emit == "changes" else "EMIT ON WINDOW CLOSE", w))
    return "\n".join(out)


def run_env(run):
    if run["how"] != "env":
        return {}
    env = {}
    if run["batch"] is not None:
        env["SLUICE_BATCH_ROWS"] = str(run["batch"])
    if run["commit_rows"] is not None:
        env["SLUICE_COMMIT_ROWS"] = str(run["commit_rows"])
    return env


def run_desc(run):
    return "batch_rows=%s via %s%s" % (run["batch"] or "default", run["how"],
                                       ", commit every %d rows" % run["commit_rows"]
                                       if run["commit_rows"] else "")


# ---- the model -----------------------------------------------------------------------

def parse_side(text, cols):
    """(rows, malformed lines): rows are dicts with their line number; a
    field that does not convert makes the record malformed."""
    rows, bad = [], []
    for i, line in enumerate(text.splitlines()[1:]):
        f = line.split(",")
        row = {"line": i + 2}
        try:
            if len(f) != len(cols):
                raise ValueError(line)
            for (name, typ), x in zip(cols, f):
                row[name] = oracle.parse_value(x, typ)
        except ValueError:
            bad.append(i + 2)
            continue
        rows.append(row)
    return rows, bad


def key_text(row, spec):
    """The join key as text (None if any part is NULL)."""
    names = ["k", "k2"] if spec["k2type"] else ["k"]
    if any(row[c] is None for c in names):
        return None
    return tuple(str(row[c]) for c in names)


def model(case):
    """{"pairs": [(ws, lrow, rrow)] in emission order that pass WHERE
    (rrow None: an unmatched l row under LEFT JOIN), "joined": how many
    there were before WHERE, "late": [(source, id, event_time, watermark)]
    in merge order, "dead": {(source, line, null_ts)}, "kept": {(side,
    line)} rows that are neither late nor dead nor rejected before the
    join, "rows": {side: rows}, "rejected": rows WHERE rejected before the
    join, "spared": those of them that would otherwise have been late or
    dead letters}."""
    spec = case["spec"]
    size = spec["size_ms"]
    left = is_left(spec)
    rows, dead = {}, set()
    for s in SIDES:
        rows[s], bad = parse_side(case["csv_" + s], columns(spec, s))
        dead |= {(s, line, False) for line in bad}
    pos = {s: 0 for s in SIDES}
    maxt = {s: NEG_INF for s in SIDES}
    ws_side = {s: POS_INF if not rows[s] else NEG_INF for s in SIDES}
    W = min(ws_side.values())
    windows = {}                    # window start -> {side: [row]}
    pairs, late, kept = [], [], set()
    pre = prefilters(spec)
    rejected = spared = 0

    def emit_upto(w):
        for start in sorted(windows):
            if start + size <= w:
                for lr in windows[start]["l"]:
                    key = key_text(lr, spec)
                    match = [rr for rr in windows[start]["r"]
                             if key is not None and key == key_text(rr, spec)]
                    pairs.extend((start, lr, rr) for rr in match)
                    if left and not match:
                        pairs.append((start, lr, None))
                del windows[start]

    def next_time(s):
        t = rows[s][pos[s]]["ts"]
        return NEG_INF if t is None else t

    while pos["l"] < len(rows["l"]) or pos["r"] < len(rows["r"]):
        if pos["r"] >= len(rows["r"]) or (pos["l"] < len(rows["l"]) and
                                          next_time("l") <= next_time("r")):
            side = "l"
        else:
            side = "r"
        row = rows[side][pos[side]]
        pos[side] += 1
        t = row["ts"]
        if any(cond_eval(c, {side: row}) is not True for c in pre[side]):
            # rejected before the join: not kept, not late, no dead
            # letter; only its event time (if any) moves the watermark
            rejected += 1
            spared += t is None or W >= t - t % size + size
            if t is not None:
                maxt[side] = max(maxt[side], t)
                ws_side[side] = maxt[side] - spec["delay_s"][side] * 1000
        elif t is None:
            dead.add((side, row["line"], True))
        else:
            start = t - t % size
            if W >= start + size:
                late.append((side, row["id"], oracle.fmt_ts(t), oracle.fmt_ts(W)))
            else:
                kept.add((side, row["line"]))
                if key_text(row, spec) is not None or (left and side == "l"):
                    windows.setdefault(start, {"l": [], "r": []})[side].append(row)
            maxt[side] = max(maxt[side], t)
            ws_side[side] = maxt[side] - spec["delay_s"][side] * 1000
        if pos[side] == len(rows[side]):
            ws_side[side] = POS_INF
        W = max(W, min(ws_side.values()))
        emit_upto(W)
    emit_upto(POS_INF)
    joined = len(pairs)
    if spec.get("where"):
        pairs = [p for p in pairs
                 if cond_eval(spec["where"], {"l": p[1], "r": p[2]}) is True]
    return {"pairs": pairs, "joined": joined, "late": late, "dead": dead, "kept": kept,
            "rows": rows, "rejected": rejected, "spared": spared}


def expected(case, m):
    """(pair rows in order, aggregate rows) as sluice should write them."""
    size = case["spec"]["size_ms"]
    fmt = oracle.fmt_ts
    unmatched = {"id": None, "v": None, "k": None}      # r's columns: NULL
    pairs, groups = [], {}
    for start, lr, rr in m["pairs"]:
        rr = rr or unmatched
        pairs.append((lr["k"], lr["id"], lr["v"], rr["id"], rr["v"], rr["k"],
                      fmt(start), fmt(start + size)))
        g = groups.setdefault((lr["k"], start), [0, [], []])
        g[0] += 1
        g[1].append(rr["v"])
        g[2].append(lr["v"])
    agg = [(k, fmt(start), fmt(start + size), n, oracle._sum(rv), oracle._sum(lv),
            sum(x is not None for x in rv))
           for (k, start), (n, rv, lv) in groups.items()]
    return pairs, agg


# ---- SQLite ------------------------------------------------------------------------

def sqlite_reference(case, m):
    """(pair rows, aggregate rows) by SQLite's join over the rows the model
    neither dead-lettered nor found late."""
    spec = case["spec"]
    size = spec["size_ms"]
    con = sqlite3.connect(":memory:")
    con.create_function("fmt_ts", 1, oracle.fmt_ts, deterministic=True)
    for s in SIDES:
        con.execute("CREATE TABLE %s (id, k, k2, v, ts)" % s)
        con.executemany("INSERT INTO %s VALUES (?, ?, ?, ?, ?)" % s,
                        [(r["id"], r["k"], r.get("k2"), r["v"], r["ts"])
                         for r in m["rows"][s] if (s, r["line"]) in m["kept"]])
        con.execute("CREATE VIEW %sw AS SELECT *, ts - (((ts %% %d) + %d) %% %d) AS ws FROM %s"
                    % (s, size, size, size, s))
    on = "CAST(l.k AS TEXT) = CAST(r.k AS TEXT) AND l.ws = r.ws"
    if spec["k2type"]:
        on += " AND CAST(l.k2 AS TEXT) = CAST(r.k2 AS TEXT)"
    join = "FROM lw AS l %sJOIN rw AS r ON %s" % ("LEFT " if is_left(spec) else "", on)
    if spec.get("where"):
        join += " WHERE " + cond_sql(spec["where"], {"l": "l", "r": "r"})
    pairs = [tuple(x) for x in con.execute(
        "SELECT l.k, l.id, l.v, r.id, r.v, r.k, fmt_ts(l.ws), fmt_ts(l.ws + %d) %s"
        % (size, join))]
    agg = [tuple(x) for x in con.execute(
        "SELECT l.k, fmt_ts(l.ws), fmt_ts(l.ws + %d), COUNT(*), SUM(r.v), SUM(l.v), "
        "COUNT(r.v) %s "
        "GROUP BY l.k, l.ws" % (size, join))]
    con.close()
    return pairs, agg


# ---- running sluice --------------------------------------------------------------------

def read_query(con, name, cols, order):
    rows = [tuple(r) for r in con.execute('SELECT %s FROM "%s"%s' % (
        ", ".join(cols), name, " ORDER BY rowid" if order else ""))]
    late = []
    for src, ev, et, wm in con.execute(
            "SELECT source, event, event_time, watermark FROM sluice_late_events "
            "WHERE query = ? ORDER BY id", (name,)):
        late.append((src, json.loads(ev)["id"], et, wm))
    dead = set()
    for src, loc, reason in con.execute(
            "SELECT source, location, reason FROM sluice_dead_letters WHERE query = ?",
            (name,)):
        dead.add((src, int(loc.rsplit(":", 1)[1]),
                  "event-time" in reason and "NULL" in reason))
    return {"rows": rows, "late": late, "dead": dead}


def run_case(case, sluice, run):
    """{"pairs": ..., "agg": ...} as read back, or an error string."""
    with sr.scratch({s + ".csv": case["csv_" + s] for s in SIDES}) as d:
        db = os.path.join(d, "t.db")
        rc, _, err = sr.run_sluice(sluice, db, case_sql(case["spec"], run),
                                   env=run_env(run), cwd=d)
        if rc != 0:
            return "sluice exited %d\nstderr: %s" % (rc, err.strip())
        con = sqlite3.connect(db)
        try:
            return {"pairs": read_query(con, "pairs", PAIR_COLS, True),
                    "agg": read_query(con, "agg", AGG_COLS, False)}
        finally:
            con.close()


# ---- comparing ------------------------------------------------------------------------

STATS = {"pairs": 0, "late": 0, "dead": 0, "empty": 0, "left": 0, "unmatched": 0,
         "null_key": 0, "where": 0, "pre": 0, "rejected": 0, "spared": 0, "removed": 0}


def diff_list(what, exp, got):
    """Differences of two lists that must be equal in order."""
    if exp == got:
        return ""
    out = ["%s differ (%d expected, %d written):" % (what, len(exp), len(got))]
    d = sr.diff_rows(exp, got)
    if d:
        out.append(d)
    else:
        out.append("  same rows, in another order")
    if len(exp) + len(got) <= 60:
        for name, xs in (("expected", exp), ("written", got)):
            out.append("  %-9s %s" % (name + ":", "\n            ".join(repr(x) for x in xs)
                                     if xs else "(none)"))
    return "\n".join(out)


def check_run(got, epairs, eagg, m):
    parts = []
    p = got["pairs"]
    parts.append(diff_list("pairs (in rowid order)", epairs, p["rows"]))
    d = sr.diff_rows(eagg, got["agg"]["rows"])
    if d:
        parts.append("agg rows differ:\n" + d)
    for q in ("pairs", "agg"):
        parts.append(diff_list("%s: late events (source, id, event_time, watermark)" % q,
                               m["late"], got[q]["late"]))
        if got[q]["dead"] != m["dead"]:
            parts.append("%s: dead letters (source, line, null event time) differ:\n"
                         "  expected, missing: %r\n  unexpected: %r" %
                         (q, sorted(m["dead"] - got[q]["dead"]),
                          sorted(got[q]["dead"] - m["dead"])))
    return [x for x in parts if x]


def normal(got):
    """A run's results with the parts whose order is free sorted."""
    return {q: (g["rows"] if q == "pairs" else sorted(g["rows"], key=sr.sort_key),
                g["late"], sorted(g["dead"])) for q, g in got.items()}


def compare(case, sluice):
    """(ok, report text)."""
    m = model(case)
    epairs, eagg = expected(case, m)
    STATS["pairs"] += len(epairs)
    STATS["late"] += bool(m["late"])
    STATS["dead"] += bool(m["dead"])
    STATS["empty"] += not epairs
    if is_left(case["spec"]):
        STATS["left"] += 1
        STATS["unmatched"] += sum(rr is None for _, _, rr in m["pairs"])
        STATS["null_key"] += any(key_text(lr, case["spec"]) is None for _, lr, _ in m["pairs"])
    if case["spec"].get("where"):
        STATS["where"] += 1
        STATS["pre"] += any(prefilters(case["spec"]).values())
        STATS["rejected"] += m["rejected"]
        STATS["spared"] += m["spared"]
        STATS["removed"] += m["joined"] - len(m["pairs"])
    found = {}                      # difference text -> the runs that show it
    first = None
    for run in case["runs"]:
        got = run_case(case, sluice, run)
        if isinstance(got, str):
            found.setdefault(got, []).append(run_desc(run))
            continue
        for x in check_run(got, epairs, eagg, m):
            found.setdefault(x, []).append(run_desc(run))
        if first is None:
            first = (run, got)
        elif normal(got) != normal(first[1]):
            found.setdefault("results differ from the run with %s" % run_desc(first[0]),
                             []).append(run_desc(run))
    parts = ["[%s] %s" % ("; ".join(runs) if len(runs) < len(case["runs"]) else "every run",
                          text) for text, runs in found.items()]
    sp, sa = sqlite_reference(case, m)
    if first is not None:
        got = first[1]
        d = sr.diff_rows(sp, got["pairs"]["rows"])
        if d:
            parts.append("pairs differ from SQLite's join over the kept rows:\n" + d)
        d = sr.diff_rows(sa, got["agg"]["rows"])
        if d:
            parts.append("agg differs from SQLite's GROUP BY over the join:\n" + d)
    return not parts, "\n".join(parts)


def label_of(case):
    spec = case["spec"]
    return "%s%s%s%s/%s" % ("left/" if is_left(spec) else "",
                            "where/" if spec.get("where") else "",
                            "k2" if spec["k2type"] else "k",
                            "".join(t[0] for t in (spec["ktype"]["l"], spec["ktype"]["r"])),
                            spec["agg"])


def main():
    ap = sr.arg_parser(120)
    ap.add_argument("--join", choices=["mix", "inner", "left"], default="mix",
                    help="the kind of join of every case (mix: a third LEFT)")
    args = sr.parse_args(ap)
    if args.replay:
        return sr.replay_case(args, compare, fields=("csv_l", "csv_r"))

    def one_case(seed):
        case = make_case(seed, sr.rng_for(seed), args.join)
        spec = case["spec"]
        ok, text = compare(case, args.sluice)
        nrows = [len(case["csv_" + s].splitlines()) - 1 for s in SIDES]
        desc = "%s seed=%d size=%dms delays=%d/%d rows=%d/%d" % (
            label_of(case), seed, spec["size_ms"], spec["delay_s"]["l"],
            spec["delay_s"]["r"], nrows[0], nrows[1])
        desc = sr.with_tags(desc, (("alias", spec["alias"]), ("swapped", spec["swap_on"])))
        return ok, desc, case, text, label_of(case)

    return sr.run_cases(
        args, one_case,
        lambda: "%d expected rows (unmatched included); cases with late rows %d, "
                "with dead letters %d, with no pair %d; LEFT cases %d (unmatched rows %d, "
                "cases with an l row of NULL key emitted %d); WHERE cases %d (with a "
                "condition before the join %d, rows it rejected %d, of them otherwise late "
                "or dead letters %d, joined rows WHERE removed after %d)" % (
                    STATS["pairs"], STATS["late"], STATS["dead"], STATS["empty"],
                    STATS["left"], STATS["unmatched"], STATS["null_key"], STATS["where"],
                    STATS["pre"], STATS["rejected"], STATS["spared"], STATS["removed"]),
        prefix="wjoin-", script="wjoin_differential.py")


if __name__ == "__main__":
    sys.exit(main())
