#!/usr/bin/env python3
"""determinism.py: DESIGN.md section 2 rule 5 -- results do not depend on
batch sizes or commit intervals.

For every window kind (tumbling, hopping, session, none) and emit mode it
generates one larger disorderly stream (seeded), runs the same SQL with
SLUICE_BATCH_ROWS / SLUICE_COMMIT_ROWS of 1, 7 and 1024 rows, and requires
the view, the late events and the dead letters of the three runs to be
identical (exactly: same rows, same doubles). Each run is also compared with
oracle.py, so "identically wrong" does not pass either.

Output: TAP, one test point per (query, batch/commit size) run plus one per
query for the cross-run comparison.

Usage: determinism.py SLUICE [--events N] [--seed S] [--watermark-after-filter]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle                                   # noqa: E402
import sluicerun as sr                          # noqa: E402

SIZES = [1, 7, 1024]

QUERIES = [
    # (label, window, emit, where, having)
    ("tumbling/changes", {"kind": "tumbling", "size_ms": 2000}, "changes", None, None),
    ("tumbling/close", {"kind": "tumbling", "size_ms": 2000}, "close", None, None),
    ("hopping/changes", {"kind": "hopping", "size_ms": 5000, "advance_ms": 2000},
     "changes", None, "count_ge_2"),
    ("hopping/close", {"kind": "hopping", "size_ms": 6000, "advance_ms": 2000},
     "close", None, None),
    ("session/changes", {"kind": "session", "gap_ms": 1500}, "changes", None, None),
    ("session/close", {"kind": "session", "gap_ms": 1500}, "close", None, "count_ge_2"),
    ("none/changes", {"kind": "none"}, "changes", "v_not_null", None),
]


def run_once(sluice, case, size):
    d = sr.scratch_dir()
    try:
        with open(os.path.join(d, "in.csv"), "w") as f:
            f.write(case["csv"])
        db = os.path.join(d, "t.db")
        env = {"SLUICE_BATCH_ROWS": str(size), "SLUICE_COMMIT_ROWS": str(size)}
        rc, _, err = sr.run_sluice(sluice, db, case["sql"], env=env, cwd=d)
        if rc != 0:
            return None, "sluice exited %d: %s" % (rc, err.strip()[:300])
        rows, late, dead = sr.read_results(db)
        return (sorted(rows, key=sr.sort_key), sorted(late),
                sorted(dead, key=str)), ""
    finally:
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        os.rmdir(d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sluice")
    ap.add_argument("--events", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("SEMANTICS_SEED", "7")))
    ap.add_argument("--watermark-after-filter", action="store_true")
    args = ap.parse_args()
    sluice = os.path.abspath(args.sluice)
    print("1..%d" % (len(QUERIES) * (len(SIZES) + 1)))
    n = 0
    failed = 0
    for qi, (label, win, emit, where, having) in enumerate(QUERIES):
        rng = sr.rng_for(args.seed * 1000 + qi)
        events = sr.gen_events(rng, args.events, null_keys=False)
        spec = {"window": win, "delay_ms": 2000, "override_delay_ms": None,
                "group": ["k"],
                "aggs": [["COUNT", "*", False], ["SUM", "v", False], ["AVG", "n", False],
                         ["MIN", "v", False], ["MAX", "ts", False], ["COUNT", "n", True]],
                "where": where, "having": having, "emit": emit}
        case = sr.make_case(args.seed, events, spec)
        exp_rows, exp_late, exp_dead = oracle.run(
            oracle.parse_csv(case["csv"]), sr.effective_spec(spec),
            watermark_after_filter=args.watermark_after_filter)
        results = {}
        for size in SIZES:
            n += 1
            res, why = run_once(sluice, case, size)
            desc = "%s with batch/commit size %d" % (label, size)
            if res is None:
                failed += 1
                print("not ok %d - %s: %s" % (n, desc, why))
                continue
            results[size] = res
            rows, late, dead = res
            problems = []
            d = sr.diff_rows(exp_rows, rows)
            if d:
                problems.append("view differs from the oracle:\n" + d)
            if late != sorted(exp_late):
                problems.append("late events differ from the oracle:\n" +
                                sr.diff_rows(exp_late, late))
            if dead != sorted(exp_dead, key=str):
                problems.append("dead letters differ: %r vs %r" % (dead, exp_dead))
            if problems:
                failed += 1
                print("not ok %d - %s agrees with the oracle" % (n, desc))
                print("# SQL: " + case["sql"].replace("\n", "\n# SQL: "))
                for line in "\n".join(problems).splitlines()[:40]:
                    print("# " + line)
            else:
                print("ok %d - %s agrees with the oracle (%d rows, %d late)"
                      % (n, desc, len(rows), len(late)))
        n += 1
        sizes = sorted(results)
        same = len(sizes) == len(SIZES) and all(results[s] == results[sizes[0]] for s in sizes)
        if same:
            print("ok %d - %s: identical results for batch/commit sizes %s"
                  % (n, label, ", ".join(map(str, SIZES))))
        else:
            failed += 1
            print("not ok %d - %s: results differ across batch/commit sizes (or a run failed)"
                  % (n, label))
            for s in sizes[1:]:
                if results[s] != results[sizes[0]]:
                    d = sr.diff_rows(results[sizes[0]][0], results[s][0])
                    print("# size %d vs %d:" % (sizes[0], s))
                    for line in (d or "  (late events or dead letters differ)").splitlines()[:20]:
                        print("# " + line)
    print("# %d of %d failed" % (failed, n))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
