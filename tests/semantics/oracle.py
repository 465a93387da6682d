#!/usr/bin/env python3
"""oracle.py: an independent reference implementation of sluice's event-time
semantics (DESIGN.md section 2, rules 1-6) for one source and one aggregate
query, written to be obviously right rather than fast.

It owns nothing but itself: the differential, determinism and SQLite tests
in this directory import it (or run it on a saved case file) and compare
what sluice wrote into its SQLite database with what this module computes.

The model, straight from the design:
- events are processed one at a time in arrival (file) order;
- W = max(event time seen) - delay starts at -inf and never goes back; the
  end of a bounded input sets W = +inf (so every window closes);
- every event is first checked against W as it stood before it, then W
  advances;
- tumbling windows [k*d, (k+1)*d) and hopping windows [k*a, k*a + d) are
  aligned to the epoch; an event belongs to every window that contains it;
  a window [s, e) is closed once W >= e; an event that falls into a closed
  window is late for it and does not change it;
- session windows are per group key: an event's own window is [t, t + g);
  it is late when W >= t + g; otherwise it merges with every open session
  (end > W) it overlaps (half-open overlap) into one session
  [min start, max end); a closed session is final and never reopens;
- an event late for at least one window is recorded once in the late
  events, with its event time and the watermark (before it) that it missed;
- an event with a NULL event time belongs to no window: a windowed query
  sends it to the dead letters; a query without a window takes it as is;
- the WHERE filter decides which events the query sees. By default the
  watermark is the SOURCE's (rule 2: "the watermark of a source"): every
  event read with a non-NULL event time advances it, whether or not the
  WHERE keeps it. `watermark_after_filter=True` models the other reading
  (only the events the query keeps advance W), for comparison;
- results: for EMIT ON WINDOW CLOSE one row per closed window with at least
  one accepted event that passes HAVING; for EMIT CHANGES over a bounded
  input the same final rows (every window closes at the end); without a
  window, one row per group that passes HAVING.

Aggregates: COUNT(*), COUNT(x), SUM, AVG, MIN, MAX, COUNT(DISTINCT x), with
SQL NULL semantics (NULL inputs are ignored; SUM/AVG/MIN/MAX of no non-NULL
value is NULL; COUNT of nothing is 0). GROUP BY treats NULL keys as equal.

The query is described by a "spec" dict (see `run`), not parsed from SQL:
differential.py builds the SQL text and the spec from the same description.

Command line: `oracle.py CASE.json` prints the expected view rows and late
events of a saved case (as written by differential.py) as JSON.
"""

import datetime
import json
import math
import sys

NEG_INF = -math.inf
POS_INF = math.inf

# ---- the source's columns ------------------------------------------------------

# name -> type; the generated CSV has exactly these columns, in this order.
COLUMNS = [("id", "BIGINT"), ("k", "TEXT"), ("n", "BIGINT"), ("v", "DOUBLE"),
           ("ts", "TIMESTAMP")]
COLTYPE = dict(COLUMNS)

EPOCH = datetime.datetime(1970, 1, 1)


def fmt_ts(ms):
    """Event time in ms since the epoch -> sluice's TEXT form
    'YYYY-MM-DD HH:MM:SS.mmm' (UTC)."""
    d = EPOCH + datetime.timedelta(milliseconds=ms)
    return d.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (ms % 1000)


def parse_ts(text):
    """Inverse of fmt_ts (also accepts no fraction)."""
    if "." in text:
        main, frac = text.split(".")
        frac = (frac + "000")[:3]
    else:
        main, frac = text, "000"
    d = datetime.datetime.strptime(main, "%Y-%m-%d %H:%M:%S")
    return (d - EPOCH) // datetime.timedelta(milliseconds=1) + int(frac)


# ---- WHERE and HAVING templates ------------------------------------------------
# Each is (SQL text, python function). WHERE functions take an event dict and
# return True, False or None (SQL NULL: the row is dropped). HAVING functions
# take the list of accepted events of a group.

def _sum(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) if xs else None


def _gt(a, b):
    return None if a is None or b is None else a > b


def _lt(a, b):
    return None if a is None or b is None else a < b


WHERE = {
    "n_gt_20": ("n > 20", lambda e: _gt(e["n"], 20)),
    "k_ne_k1": ("k <> 'k1'", lambda e: None if e["k"] is None else e["k"] != "k1"),
    "v_not_null": ("v IS NOT NULL", lambda e: e["v"] is not None),
    "id_mod_3": ("id % 3 <> 0", lambda e: e["id"] % 3 != 0),
    "n_null_or_lt_40": ("n IS NULL OR n < 40",
                        lambda e: True if e["n"] is None else e["n"] < 40),
}

HAVING = {
    "count_ge_2": ("COUNT(*) >= 2", lambda evs: len(evs) >= 2),
    "sum_n_gt_30": ("SUM(n) > 30", lambda evs: _gt(_sum([e["n"] for e in evs]), 30)),
    "max_v_lt_50": ("MAX(v) < 50",
                    lambda evs: _lt(max([e["v"] for e in evs if e["v"] is not None],
                                        default=None), 50)),
    # true, then false as rows arrive (and again): a row that HAVING stops
    # accepting must be retracted
    "count_odd": ("COUNT(*) % 2 = 1", lambda evs: len(evs) % 2 == 1),
    "count_lt_3": ("COUNT(*) < 3", lambda evs: len(evs) < 3),
    # true of a global aggregate over no rows only
    "count_eq_0": ("COUNT(*) = 0", lambda evs: len(evs) == 0),
}


# ---- aggregates ------------------------------------------------------------------

def aggregate(fn, col, distinct, events):
    """The value of one aggregate over a group's accepted events."""
    if col == "*":
        assert fn == "COUNT"
        return len(events)
    vals = [e[col] for e in events if e[col] is not None]
    if distinct:
        vals = list(dict.fromkeys(vals))
    if fn == "COUNT":
        return len(vals)
    if not vals:
        return None
    if fn == "SUM":
        if COLTYPE[col] == "DOUBLE":
            return math.fsum(vals)
        return sum(vals)
    if fn == "AVG":
        return math.fsum(vals) / len(vals)
    if fn == "MIN":
        v = min(vals)
    elif fn == "MAX":
        v = max(vals)
    else:
        raise ValueError("unknown aggregate " + fn)
    if COLTYPE[col] == "TIMESTAMP":
        return fmt_ts(v)
    return v


def agg_sql(fn, col, distinct):
    return "%s(%s%s)" % (fn, "DISTINCT " if distinct else "", col)


# ---- windows ---------------------------------------------------------------------

def windows_of(t, win):
    """The [start, end) windows (tumbling or hopping) containing t."""
    if win["kind"] == "tumbling":
        d = win["size_ms"]
        s = (t // d) * d
        return [(s, s + d)]
    d, a = win["size_ms"], win["advance_ms"]
    out = []
    k = t // a                      # the latest start <= t
    while k * a + d > t:
        out.append((k * a, k * a + d))
        k -= 1
    out.reverse()
    return out


def run(events, spec, watermark_after_filter=False, bounded=True):
    """Runs the query described by spec over events (a list of dicts with
    the COLUMNS keys, ts in ms or None, in arrival order).

    spec keys:
      window: {"kind": "none"} | {"kind": "tumbling", "size_ms"}
              | {"kind": "hopping", "size_ms", "advance_ms"}
              | {"kind": "session", "gap_ms"}
      delay_ms: the effective watermark delay (source's or the override)
      group: list of column names (may be empty)
      aggs: list of [fn, col or "*", distinct]
      where, having: template names or None
      emit: "changes" | "close"
    bounded=False models an input that has not ended (follow = true): W
    stays where the events left it, and an EMIT ON WINDOW CLOSE view holds
    only the windows already closed (end <= W).
    Returns (rows, late, dead): rows as tuples in select order (group keys,
    then window_start, window_end as text for windowed queries, then the
    aggregates); late as (id, event time text, watermark text); dead as ids.
    """
    win = spec["window"]
    kind = win["kind"]
    delay = spec["delay_ms"]
    group = spec["group"]
    where = WHERE[spec["where"]][1] if spec.get("where") else None
    having = HAVING[spec["having"]][1] if spec.get("having") else None

    W = NEG_INF
    late, dead = [], []
    # fixed windows: (key, start, end) -> accepted events
    fixed = {}
    # sessions: key -> list of [start, end, events]
    sessions = {}
    plain = {}                      # no window: key -> events

    def advance(t):
        nonlocal W
        if t - delay > W:
            W = t - delay

    for e in events:
        t = e["ts"]
        keep = where is None or where(e) is True
        if not keep:
            if not watermark_after_filter and t is not None and kind != "none":
                advance(t)
            continue
        key = tuple(e[c] for c in group)
        if kind == "none":
            plain.setdefault(key, []).append(e)
            continue
        if t is None:
            dead.append(e["id"])
            continue
        is_late = False
        if kind == "session":
            g = win["gap_ms"]
            if W >= t + g:
                is_late = True
            else:
                lst = sessions.setdefault(key, [])
                s, end = t, t + g
                hit = [x for x in lst if x[1] > W and x[0] < end and s < x[1]]
                evs = [e]
                for x in hit:
                    s = min(s, x[0])
                    end = max(end, x[1])
                    evs = x[2] + evs
                    lst.remove(x)
                lst.append([s, end, evs])
        else:
            for (s, end) in windows_of(t, win):
                if W >= end:
                    is_late = True
                    continue
                fixed.setdefault((key, s, end), []).append(e)
        if is_late:
            late.append((e["id"], fmt_ts(t), fmt_ts(W)))
        advance(t)
    # the end of a bounded input: W = +inf, every window closes
    final_w = POS_INF if bounded else W

    groups = []                     # (key, bounds or None, events)
    if kind == "none":
        groups = [(k, None, evs) for k, evs in plain.items()]
    elif kind == "session":
        for k, lst in sessions.items():
            for (s, end, evs) in lst:
                groups.append((k, (s, end), evs))
    else:
        for (k, s, end), evs in fixed.items():
            groups.append((k, (s, end), evs))

    rows = []
    for k, bounds, evs in groups:
        if bounds is not None and spec["emit"] == "close" and bounds[1] > final_w:
            continue                # still open: not emitted yet
        if having is not None and having(evs) is not True:
            continue
        row = list(k)
        if bounds is not None:
            row += [fmt_ts(bounds[0]), fmt_ts(bounds[1])]
        for fn, col, distinct in spec["aggs"]:
            row.append(aggregate(fn, col, distinct, evs))
        rows.append(tuple(row))
    return rows, late, dead


# ---- CSV ---------------------------------------------------------------------------

def parse_csv(text):
    """Reads the generated CSV (header, no quoting, empty field = NULL)."""
    lines = text.splitlines()
    header = lines[0].split(",")
    assert header == [c for c, _ in COLUMNS], header
    out = []
    for line in lines[1:]:
        if not line:
            continue
        f = line.split(",")
        out.append({name: parse_value(val, typ) for (name, typ), val in zip(COLUMNS, f)})
    return out


def parse_value(val, typ):
    """One CSV field of a column of type typ ('' = NULL); ValueError if it
    does not convert."""
    if val == "":
        return None
    if typ == "BIGINT":
        return int(val)
    if typ == "DOUBLE":
        return float(val)
    if typ == "TIMESTAMP":
        return parse_ts(val)
    return val


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: oracle.py CASE.json\n")
        return 2
    with open(argv[1]) as f:
        case = json.load(f)
    rows, late, dead = run(parse_csv(case["csv"]), case["spec"])
    json.dump({"rows": sorted(rows, key=repr), "late": sorted(late),
               "dead": sorted(dead)}, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
