"""test_recovery.py: exactly-once over Kafka under kill -9 (issue 5).

The kill harness (tests/recovery/kill_harness.py) with a Kafka source: N
keyed JSON messages (default 200 000) are produced with kcat to a
16-partition topic of the mock broker; a bounded batch job (`until =
'end'`, `start = 'earliest'`) of CREATE ... IF NOT EXISTS statements reads
it into two materialised views (a tumbling EMIT ON WINDOW CLOSE window and
an EMIT CHANGES session window with COUNT DISTINCT), a streaming table and
a Kafka sink, with commits every few hundred rows. The job runs once
without interruption into ref.db; then, in a fresh database, it is run
again and again, killed with SIGKILL at random moments, until every query
is done; rounds go on until enough kills have happened.

Pins, per round:
- every query finishes (status 'done') after the kills;
- each view, the streaming table (no duplicates: the same rows, each
  order once), sluice_late_events and sluice_dead_letters are identical to
  the uninterrupted run (the engine saves Kafka positions per partition in
  sluice_offsets and operator state in sluice_state at each commit, and
  seeks back to them on restart);
- the Kafka sink is at-least-once: every message of the uninterrupted run
  is in the round's sink topic, nothing else is; the duplicates (messages
  of an interval produced before a kill and produced again after the
  restart) are counted and reported, not failed.

Determinism of the reference: the 16 partitions are read interleaved in
an order that differs from run to run (the mock serves one partition after
another: a partition may be read to its end before another one starts, so
the source's watermark, the minimum over its partitions, moves
differently). Which events are late therefore depends on the interleaving
in a multi-partition topic, and the data is made so that nothing depends
on it: in `orders` the out-of-order jitter (at most 3 s) is within the
watermark delay (5 s), so no event is ever late whatever the other
partitions did, and sums are compared rounded (float addition order). The
late events come from a second source over a one-partition topic,
`returns`, read in one order every time: 1 % of its events are 30 s to
3 h late, and a tumbling view over it must record exactly the same late
events, each with the same watermark, after the kills (the watermark is
restored from the checkpoint, not recomputed from nothing).

The sink sets `'kafka.max.in.flight' = '1'`: the mock answers pipelined
produce requests about 40 ms late (Nagle on its side), which made each
commit's flush cost 40 ms (see docs/connectors.md, the test broker).

usage: test_recovery.py MOCK_BROKER SLUICE [--rows N] [--kills K] [--seed S]
"""
import argparse
import collections
import datetime
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
sys.path.insert(0, os.path.dirname(__file__))
from kafkatest import (Tap, Broker, workdir, skip_without_kcat, check_sanitizers,
                       KCAT)

skip_without_kcat()
ap = argparse.ArgumentParser()
ap.add_argument("mock")
ap.add_argument("sluice")
ap.add_argument("--rows", type=int,
                default=int(os.environ.get("KAFKA_KILL_ROWS", "200000")))
ap.add_argument("--kills", type=int,
                default=int(os.environ.get("KAFKA_KILL_KILLS", "10")))
ap.add_argument("--seed", type=int,
                default=int(os.environ.get("KILL_SEED", "0")) or None)
ap.add_argument("--budget", type=float, default=45.0,
                help="seconds for the kill rounds")
args = ap.parse_args()
seed = args.seed or random.randrange(1, 1 << 30)
print("# seed %d (rerun with --seed %d)" % (seed, seed))
rng = random.Random(seed)
sluice = os.path.abspath(args.sluice)

MAX_ROUNDS = 12
t = Tap()
wd = workdir()
topics = {"orders": 16, "returns": 1, "sink_ref": 4}
topics.update({"sink_%d" % r: 4 for r in range(1, MAX_ROUNDS + 1)})
broker = Broker(args.mock, wd, topics)
B = broker.bootstrap

JOB = """
CREATE SOURCE IF NOT EXISTS orders (
    order_id BIGINT, store_id TEXT, user_id TEXT, amount DOUBLE,
    event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '5' SECONDS)
WITH (connector = 'kafka', brokers = '{B}', topic = 'orders', format = 'json',
      until = 'end', start = 'earliest', group_id = 'recovery',
      'kafka.session.timeout.ms' = '6000', 'kafka.fetch.wait.max.ms' = '10');
CREATE SOURCE IF NOT EXISTS returns (
    order_id BIGINT, store_id TEXT, amount DOUBLE, event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '5' SECONDS)
WITH (connector = 'kafka', brokers = '{B}', topic = 'returns', format = 'json',
      until = 'end', start = 'earliest', group_id = 'recovery',
      'kafka.session.timeout.ms' = '6000', 'kafka.fetch.wait.max.ms' = '10');
CREATE MATERIALIZED VIEW IF NOT EXISTS returns_per_minute AS
SELECT store_id, window_start, COUNT(*) AS n, SUM(amount) AS total
FROM returns WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY store_id
WITH (commit_interval = '300 rows', batch_rows = 100);
CREATE MATERIALIZED VIEW IF NOT EXISTS per_minute AS
SELECT store_id, window_start, COUNT(*) AS n, SUM(amount) AS total,
       MAX(user_id) AS top_user
FROM orders WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY store_id
EMIT ON WINDOW CLOSE
WITH (commit_interval = '500 rows', batch_rows = 250);
CREATE MATERIALIZED VIEW IF NOT EXISTS sessions AS
SELECT user_id, window_start, window_end, COUNT(*) AS n,
       COUNT(DISTINCT store_id) AS stores
FROM orders WINDOW SESSION (GAP 20 SECONDS) GROUP BY user_id EMIT CHANGES
WITH (commit_interval = '1000 rows', batch_rows = 300);
CREATE STREAMING TABLE IF NOT EXISTS big_orders AS
SELECT order_id, store_id, amount, _key AS k, _partition AS p, _offset AS o
FROM orders WHERE amount > 90
WITH (commit_interval = '700 rows', batch_rows = 256);
SET commit_interval = '600 rows';
SET batch_rows = 200;
CREATE SINK IF NOT EXISTS huge_orders AS
SELECT order_id, user_id, amount FROM orders WHERE amount > 95
WITH (connector = 'kafka', brokers = '{B}', topic = '{SINK}',
      key = 'order_id', 'kafka.max.in.flight' = '1');
"""
QUERY_NAMES = ("returns_per_minute", "per_minute", "sessions", "big_orders",
               "huge_orders")

QUERIES = {
    "returns_per_minute": "SELECT store_id, window_start, n, round(total, 6) "
                          "FROM returns_per_minute",
    "per_minute": "SELECT store_id, window_start, n, round(total, 6), top_user "
                  "FROM per_minute",
    "sessions": "SELECT user_id, window_start, window_end, n, stores "
                "FROM sessions",
    "big_orders": "SELECT order_id, store_id, amount, k, p, o FROM big_orders",
    "late": "SELECT query, source, event, event_time, watermark "
            "FROM sluice_late_events",
    "dead": "SELECT query, source, location, raw, reason "
            "FROM sluice_dead_letters",
}


COUNTS = collections.Counter()
BASE = datetime.datetime(2026, 3, 17, 10, 0, 0)


def ts_text(ts):
    return "%s.%03d" % (ts.strftime("%Y-%m-%d %H:%M:%S"), ts.microsecond // 1000)


def generate(n):
    """Keyed (user id) JSON orders, one line 'key<TAB>value' each, never
    late; 0.1 % do not decode. Counts the bad ones and those over 95 (the
    sink's) in COUNTS."""
    lines = []
    for i in range(n):
        ts = BASE + datetime.timedelta(milliseconds=i * 40 -
                                       rng.randint(0, 3000))
        user = "u%d" % rng.randint(1, 500)
        amount = "%.2f" % (rng.randint(100, 10000) / 100)
        if rng.random() < 0.001:
            amount = '"not-a-number"'                  # a dead letter
            COUNTS["bad"] += 1
        elif float(amount) > 95:
            COUNTS["over95"] += 1
        lines.append('%s\t{"order_id":%d,"store_id":"s%02d","user_id":"%s",'
                     '"amount":%s,"event_time":"%s"}'
                     % (user, i, rng.randint(1, 40), user, amount,
                        ts_text(ts)))
    return lines


def generate_returns(n):
    """Unkeyed JSON returns for the one-partition topic: 1 % late."""
    lines = []
    for i in range(n):
        ts = BASE + datetime.timedelta(milliseconds=i * 400 -
                                       rng.randint(0, 3000))
        if rng.random() < 0.01:
            ts -= datetime.timedelta(seconds=rng.choice((30, 300, 10800)))
        lines.append('{"order_id":%d,"store_id":"s%02d","amount":%.2f,'
                     '"event_time":"%s"}' % (i, rng.randint(1, 10),
                                             rng.randint(100, 10000) / 100,
                                             ts_text(ts)))
    return lines


def job(sink_topic):
    return JOB.replace("{B}", B).replace("{SINK}", sink_topic)


def statuses(db):
    try:
        con = sqlite3.connect(db, timeout=10)
        rows = con.execute("SELECT name, status FROM sluice_catalog "
                           "WHERE kind <> 'source'").fetchall()
        con.close()
        return dict(rows)
    except sqlite3.Error:
        return {}


def all_done(st):
    return (sorted(st) == sorted(QUERY_NAMES) and
            all(v == "done" for v in st.values()))


def snapshot(db):
    con = sqlite3.connect(db)
    out = {name: sorted(con.execute(sql).fetchall(), key=repr)
           for name, sql in QUERIES.items()}
    con.close()
    return out


def read_topic(topic):
    p = subprocess.run([KCAT, "-C", "-b", B, "-t", topic, "-e", "-q",
                        "-f", "%k|%s\n"], capture_output=True, text=True,
                       timeout=60)
    return [l for l in p.stdout.splitlines() if l]


def diff(want, got):
    ws, gs = set(want), set(got)
    return ("expected %d rows, got %d\nmissing: %s\nextra: %s"
            % (len(want), len(got), sorted(ws - gs, key=repr)[:5],
               sorted(gs - ws, key=repr)[:5]))


try:
    lines = generate(args.rows)
    t0 = time.monotonic()
    p = subprocess.run([KCAT, "-P", "-q", "-b", B, "-t", "orders", "-K",
                        "\t"], input="\n".join(lines) + "\n", text=True,
                       capture_output=True, timeout=120)
    produce_s = time.monotonic() - t0
    t.ok(p.returncode == 0, "produced %d messages with kcat in %.2f s"
         % (len(lines), produce_s), p.stderr)
    returns = generate_returns(max(1000, args.rows // 10))
    p = subprocess.run([KCAT, "-P", "-q", "-b", B, "-t", "returns"],
                       input="\n".join(returns) + "\n", text=True,
                       capture_output=True, timeout=120)
    t.ok(p.returncode == 0, "produced %d returns" % len(returns), p.stderr)

    t0 = time.monotonic()
    ref = subprocess.run([sluice, "ref.db", "-c", job("sink_ref")], cwd=wd,
                         capture_output=True, text=True, timeout=300)
    full_s = time.monotonic() - t0
    check_sanitizers(ref.stderr)
    print("# uninterrupted run: %.2f s" % full_s)
    ok_ref = t.ok(ref.returncode == 0 and
                  all_done(statuses(os.path.join(wd, "ref.db"))),
                  "uninterrupted run succeeds", ref.stderr)
    if not ok_ref:
        raise SystemExit
    expected = snapshot(os.path.join(wd, "ref.db"))
    expected_sink = read_topic("sink_ref")
    con = sqlite3.connect(os.path.join(wd, "ref.db"))
    rows_in = [r[0] for r in con.execute(
        "SELECT DISTINCT value FROM sluice_metrics WHERE name = 'rows_in' "
        "ORDER BY value")]
    con.close()
    good = float(args.rows - COUNTS["bad"])
    t.is_(rows_in, [float(len(returns)), good],
          "every query read every message of its topic that decodes")
    t.ok(len(expected["per_minute"]) > 0 and len(expected["late"]) > 0 and
         len(expected["dead"]) > 0 and len(expected["big_orders"]) > 0,
         "the job produces windows, late events and dead letters (%d, %d, %d)"
         % (len(expected["per_minute"]), len(expected["late"]),
            len(expected["dead"])))
    t.is_(len(expected_sink), len(set(expected_sink)),
          "uninterrupted kafka sink: no duplicates")
    t.is_(len(expected_sink), COUNTS["over95"],
          "uninterrupted kafka sink: one message per order over 95")

    kills = rounds = 0
    dups_total = 0
    deadline = time.monotonic() + args.budget
    while (kills < args.kills and rounds < MAX_ROUNDS and
           time.monotonic() < deadline):
        rounds += 1
        db = "k%d.db" % rounds
        sink_topic = "sink_%d" % rounds
        runs = round_kills = 0
        bad_exit = None
        while time.monotonic() < deadline + 60:
            runs += 1
            pr = subprocess.Popen([sluice, db, "-c", job(sink_topic)], cwd=wd,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
            if kills < args.kills and time.monotonic() < deadline:
                time.sleep(rng.uniform(0.05, max(0.1, full_s * 0.3)))
                if pr.poll() is None:
                    pr.send_signal(signal.SIGKILL)
                    kills += 1
                    round_kills += 1
            _, err = pr.communicate(timeout=300)
            if pr.returncode != -signal.SIGKILL:
                check_sanitizers(err)
            if pr.returncode not in (0, -signal.SIGKILL):
                bad_exit = "run %d exited %r: %s" % (runs, pr.returncode, err)
                break
            if all_done(statuses(os.path.join(wd, db))):
                break
        st = statuses(os.path.join(wd, db))
        t.ok(bad_exit is None and all_done(st),
             "round %d: every query finishes after %d kills in %d runs"
             % (rounds, round_kills, runs), bad_exit or repr(st))
        got = snapshot(os.path.join(wd, db))
        for name in QUERIES:
            t.ok(got[name] == expected[name],
                 "round %d: %s identical to the uninterrupted run (%d rows)"
                 % (rounds, name, len(expected[name])),
                 diff(expected[name], got[name]))
        ids = [r[0] for r in got["big_orders"]]
        t.ok(len(ids) == len(set(ids)),
             "round %d: streaming table has no duplicates" % rounds)
        got_sink = read_topic(sink_topic)
        counts = collections.Counter(got_sink)
        dups = len(got_sink) - len(counts)
        dups_total += dups
        t.ok(set(counts) == set(expected_sink),
             "round %d: kafka sink has every message of the uninterrupted "
             "run and nothing else (%d messages, %d duplicates)"
             % (rounds, len(got_sink), dups),
             diff(expected_sink, list(counts)))
        print("# round %d: %d kills, %d runs, sink %d messages, %d duplicates"
              % (rounds, round_kills, runs, len(got_sink), dups))
    t.ok(kills >= min(args.kills, 3),
         "killed sluice %d times in %d rounds (asked %d); kafka sink "
         "duplicates in all: %d" % (kills, rounds, args.kills, dups_total))
except SystemExit:
    pass
finally:
    broker.stop()
t.done(wd)
