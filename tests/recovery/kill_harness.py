#!/usr/bin/env python3
"""kill_harness.py: exactly-once under kill -9 (DESIGN §5, issue 5).

Runs a bounded batch job (a script of CREATE ... IF NOT EXISTS statements)
once without interruption, then again in a fresh database, killing sluice
with SIGKILL at random moments (while reading, inside commits, while
windows close) and rerunning the same script until every query is done.
Every output must equal the uninterrupted run: the same rows in each
materialised view, no lost or duplicated rows in the streaming tables (a
dedup among them: its pending rows and remembered keys are state), the
same late events and dead letters. Two queries read streaming tables of the
job (big_per_store over big_orders, mid_per_minute windowing on the
event_time that mid_orders copies): a chain is exactly-once as a whole.

usage: kill_harness.py SLUICE [--rows N] [--kills K] [--seed S]
Prints TAP.
"""
import argparse
import datetime
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

JOB = """
CREATE SOURCE IF NOT EXISTS orders (
    order_id BIGINT, store_id TEXT, user_id TEXT, amount DOUBLE, event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '5' SECONDS)
WITH (connector = 'file', path = 'orders.csv', format = 'csv');
CREATE SOURCE IF NOT EXISTS refunds (
    order_id BIGINT, refund DOUBLE, event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '3' SECONDS)
WITH (connector = 'file', path = 'refunds.csv', format = 'csv');
CREATE STREAMING TABLE IF NOT EXISTS first_orders AS
SELECT order_id, user_id, store_id, amount, event_time FROM orders
QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY event_time) = 1
WITH (dedup_within = '30 seconds', commit_interval = '1000 rows', batch_rows = 300);
CREATE STREAMING TABLE IF NOT EXISTS refunded AS
SELECT o.order_id, o.store_id, r.refund, window_start
FROM orders o JOIN refunds r ON o.order_id = r.order_id
WINDOW TUMBLING (SIZE 1 MINUTE)
WITH (commit_interval = '900 rows', batch_rows = 200);
CREATE MATERIALIZED VIEW IF NOT EXISTS refunds_per_store AS
SELECT o.store_id, window_start, COUNT(*) AS n, SUM(r.refund) AS total
FROM orders o LEFT JOIN refunds r ON o.order_id = r.order_id
WHERE o.amount > 20 AND (r.refund IS NULL OR r.refund > 5)
WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY o.store_id EMIT CHANGES
WITH (commit_interval = '1200 rows', batch_rows = 300);
CREATE STREAMING TABLE IF NOT EXISTS top_orders AS
SELECT store_id, window_start, order_id, amount, user_id,
       RANK() OVER (PARTITION BY store_id ORDER BY amount DESC) AS r
FROM orders WINDOW TUMBLING (SIZE 1 MINUTE)
QUALIFY RANK() OVER (PARTITION BY store_id ORDER BY amount DESC) <= 3
EMIT ON WINDOW CLOSE
WITH (commit_interval = '1100 rows', batch_rows = 300);
CREATE STREAMING TABLE IF NOT EXISTS session_low AS
SELECT user_id, window_start, window_end, order_id, amount
FROM orders WINDOW SESSION (GAP 20 SECONDS)
QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY amount) <= 2
EMIT ON WINDOW CLOSE
WITH (commit_interval = '800 rows', batch_rows = 250);
CREATE MATERIALIZED VIEW IF NOT EXISTS per_minute AS
SELECT store_id, window_start, COUNT(*) AS n, SUM(amount) AS total, MAX(user_id) AS top_user
FROM orders WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY store_id EMIT ON WINDOW CLOSE
WITH (commit_interval = '1500 rows', batch_rows = 500);
CREATE MATERIALIZED VIEW IF NOT EXISTS sessions AS
SELECT user_id, window_start, window_end, COUNT(*) AS n, COUNT(DISTINCT store_id) AS stores
FROM orders WINDOW SESSION (GAP 20 SECONDS) GROUP BY user_id EMIT CHANGES
WITH (commit_interval = '1000 rows', batch_rows = 300);
CREATE MATERIALIZED VIEW IF NOT EXISTS sliding AS
SELECT store_id, window_start, window_end, AVG(amount) AS avg_amount
FROM orders WHERE amount > 10 WINDOW HOPPING (SIZE 2 MINUTES, ADVANCE BY 30 SECONDS)
GROUP BY store_id
WITH (commit_interval = '2000 rows');
CREATE MATERIALIZED VIEW IF NOT EXISTS sliding_final AS
SELECT store_id, window_start, window_end, COUNT(*) AS n, MAX(amount) AS top
FROM orders WINDOW HOPPING (SIZE 2 MINUTES, ADVANCE BY 30 SECONDS)
GROUP BY store_id EMIT ON WINDOW CLOSE
WITH (commit_interval = '900 rows', batch_rows = 200);
CREATE STREAMING TABLE IF NOT EXISTS big_orders AS
SELECT order_id, store_id, amount FROM orders WHERE amount > 90
WITH (commit_interval = '700 rows', batch_rows = 256);
CREATE MATERIALIZED VIEW IF NOT EXISTS big_per_store AS
SELECT store_id, COUNT(*) AS n, SUM(amount) AS total FROM big_orders GROUP BY store_id
WITH (commit_interval = '300 rows', batch_rows = 64);
CREATE STREAMING TABLE IF NOT EXISTS mid_orders AS
SELECT order_id, store_id, amount, event_time FROM orders WHERE amount > 50
WITH (commit_interval = '600 rows', batch_rows = 128);
CREATE MATERIALIZED VIEW IF NOT EXISTS mid_per_minute AS
SELECT store_id, window_start, COUNT(*) AS n, SUM(amount) AS total
FROM mid_orders WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY store_id EMIT ON WINDOW CLOSE
WITH (commit_interval = '500 rows', batch_rows = 100);
CREATE SINK IF NOT EXISTS huge_orders AS
SELECT order_id, amount FROM orders WHERE amount > 95
WITH (connector = 'file', path = 'SINKPATH', format = 'ndjson');
"""
NQUERIES = 14

QUERIES = {
    "per_minute": "SELECT store_id, window_start, n, total, top_user FROM per_minute",
    "sessions": "SELECT user_id, window_start, window_end, n, stores FROM sessions",
    "sliding": "SELECT store_id, window_start, window_end, round(avg_amount, 9) FROM sliding",
    "sliding_final": "SELECT store_id, window_start, window_end, n, top FROM sliding_final",
    "big_orders": "SELECT order_id, store_id, amount FROM big_orders",
    "top_orders": "SELECT store_id, window_start, order_id, amount, user_id, r FROM top_orders",
    "session_low": "SELECT user_id, window_start, window_end, order_id, amount FROM session_low",
    "refunded": "SELECT order_id, store_id, refund, window_start FROM refunded",
    "refunds_per_store": "SELECT store_id, window_start, n, round(total, 9) FROM refunds_per_store",
    "first_orders": "SELECT order_id, user_id, store_id, amount, event_time FROM first_orders",
    "dedup_dropped": "SELECT value FROM sluice_metrics WHERE query = 'first_orders' "
                     "AND name = 'dedup_dropped'",
    "big_per_store": "SELECT store_id, n, round(total, 9) FROM big_per_store",
    "mid_per_minute": "SELECT store_id, window_start, n, round(total, 9) FROM mid_per_minute",
    "late": "SELECT query, source, event, event_time, watermark FROM sluice_late_events",
    "dead": "SELECT query, source, location, raw, reason FROM sluice_dead_letters",
}

n_tests = 0
failed = 0


def ok(cond, name, detail=""):
    global n_tests, failed
    n_tests += 1
    if not cond:
        failed += 1
    print(("ok" if cond else "not ok") + f" {n_tests} - {name}")
    if not cond and detail:
        for line in str(detail).splitlines():
            print("#   " + line)
    sys.stdout.flush()


def ts(t):
    return f"{t:%Y-%m-%d %H:%M:%S}.{t.microsecond // 1000:03d}"


def generate(path, rows, rng):
    """orders.csv, and beside it refunds.csv: about one order in ten
    refunded 0-20 s later (in its window or the next), in time order with
    some disorder, a few late and a few malformed."""
    base = datetime.datetime(2026, 3, 17, 10, 0, 0)
    refunds = []
    with open(path, "w") as f:
        f.write("order_id,store_id,user_id,amount,event_time\n")
        for i in range(rows):
            t = base + datetime.timedelta(milliseconds=i * 40 - rng.randint(0, 3000))
            if rng.random() < 0.01:
                t -= datetime.timedelta(seconds=rng.randint(30, 300))
            amount = rng.randint(100, 10000) / 100
            line = f"{i},s{rng.randint(1, 40):02d},u{rng.randint(1, 500)},{amount},{ts(t)}"
            if rng.random() < 0.001:
                line = f"{i},s01,u1,not-a-number,{t:%Y-%m-%d %H:%M:%S}"
            f.write(line + "\n")
            if rng.random() < 0.1:
                rt = t + datetime.timedelta(milliseconds=rng.randint(0, 20000))
                refunds.append((rt + datetime.timedelta(milliseconds=rng.randint(0, 2000)), i, rt))
    refunds.sort()
    with open(os.path.join(os.path.dirname(path), "refunds.csv"), "w") as f:
        f.write("order_id,refund,event_time\n")
        for _, i, rt in refunds:
            if rng.random() < 0.01:
                rt -= datetime.timedelta(seconds=rng.randint(30, 120))
            line = f"{i},{rng.randint(100, 5000) / 100},{ts(rt)}"
            if rng.random() < 0.002:
                line = f"{i},lots,{ts(rt)}"
            f.write(line + "\n")


def job(sink_path):
    return JOB.replace("SINKPATH", sink_path)


def run_job(sluice, cwd, db, sink_path, timeout=300):
    return subprocess.run([sluice, db, "-c", job(sink_path)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def sink_lines(path):
    with open(path) as f:
        return sorted(f.read().splitlines())


def statuses(path):
    try:
        con = sqlite3.connect(path, timeout=10)
        rows = con.execute("SELECT name, status FROM sluice_catalog WHERE kind <> 'source'").fetchall()
        con.close()
        return dict(rows)
    except sqlite3.Error:
        return {}


def snapshot(path):
    con = sqlite3.connect(path)
    out = {}
    for name, sql in QUERIES.items():
        out[name] = sorted(con.execute(sql).fetchall(), key=repr)
    con.close()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sluice")
    ap.add_argument("--rows", type=int, default=300000)
    ap.add_argument("--kills", type=int, default=12)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("KILL_SEED", "0")) or None)
    args = ap.parse_args()
    seed = args.seed or random.randrange(1, 1 << 30)
    print(f"# seed {seed} (rerun with --seed {seed})")
    rng = random.Random(seed)
    sluice = os.path.abspath(args.sluice)
    with tempfile.TemporaryDirectory(prefix="sluice-kill-") as tmp:
        generate(os.path.join(tmp, "orders.csv"), args.rows, rng)

        t0 = time.monotonic()
        ref = run_job(sluice, tmp, "ref.db", "ref.ndjson")
        full_s = time.monotonic() - t0
        ok(ref.returncode == 0, "uninterrupted run succeeds", ref.stderr)
        if ref.returncode != 0:
            print(f"1..{n_tests}")
            return 1
        expected = snapshot(os.path.join(tmp, "ref.db"))
        expected_sink = sink_lines(os.path.join(tmp, "ref.ndjson"))
        ok(len(expected["per_minute"]) > 0 and len(expected["late"]) > 0 and
           len(expected["dead"]) > 0, "the job produces windows, late events and dead letters")

        # Rounds: each starts from an empty database and kills sluice at
        # random moments until the job is done; rounds go on until enough
        # kills have happened in all (a kill late in a run leaves little
        # work, so a round may end after few kills).
        kills = 0
        rounds = 0
        deadline = time.monotonic() + 300
        while kills < args.kills and time.monotonic() < deadline:
            rounds += 1
            db = os.path.join(tmp, f"k{rounds}.db")
            sink_path = f"k{rounds}.ndjson"
            runs = 0
            round_kills = 0
            while time.monotonic() < deadline:
                runs += 1
                p = subprocess.Popen([sluice, db, "-c", job(sink_path)], cwd=tmp,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
                if kills < args.kills:
                    time.sleep(rng.uniform(0.01, max(0.03, full_s * 0.15)))
                    if p.poll() is None:
                        p.send_signal(signal.SIGKILL)
                        kills += 1
                        round_kills += 1
                _, err = p.communicate(timeout=300)
                if p.returncode not in (0, -signal.SIGKILL):
                    ok(False, f"round {rounds} run {runs} exits 0 or is killed", err)
                    break
                st = statuses(db)
                if len(st) == NQUERIES and all(v == "done" for v in st.values()):
                    break
            st = statuses(db)
            ok(len(st) == NQUERIES and all(v == "done" for v in st.values()),
               f"round {rounds}: every query finishes after {round_kills} kills in {runs} runs",
               repr(st))
            got = snapshot(db)
            for name in QUERIES:
                same = got[name] == expected[name]
                detail = ""
                if not same:
                    exp_set, got_set = set(expected[name]), set(got[name])
                    detail = (f"expected {len(expected[name])} rows, got {len(got[name])}\n"
                              f"missing: {sorted(exp_set - got_set, key=repr)[:5]}\n"
                              f"extra: {sorted(got_set - exp_set, key=repr)[:5]}")
                ok(same, f"round {rounds}: {name} identical to the uninterrupted run "
                         f"({len(expected[name])} rows)", detail)
            ids = [r[0] for r in got["big_orders"]]
            ok(len(ids) == len(set(ids)), f"round {rounds}: streaming table has no duplicates")
            got_sink = sink_lines(os.path.join(tmp, sink_path))
            ok(got_sink == expected_sink,
               f"round {rounds}: file sink has exactly the uninterrupted run's "
               f"{len(expected_sink)} records", f"got {len(got_sink)} records, "
               f"{len(got_sink) - len(set(got_sink))} duplicated")
            os.remove(db)
        ok(kills >= args.kills, f"killed sluice {kills} times in {rounds} rounds")
    print(f"1..{n_tests}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
