"""test_sink.py: CREATE SINK ... WITH (connector = 'kafka'), read back with
kcat (an independent client).

Pins:
- append_only_sink_*: a filter + project over a 3-partition keyed topic
  delivers every matching row exactly once in a clean run, as a JSON value
  keyed by the `key` option's column; rows of one key stay in order (one
  partition each).
- emit_changes_*: an aggregate whose HAVING turns false sends each change
  and then a tombstone (NULL value) under the same key; a session window
  merged by a late-arriving event retracts the sessions it merged with
  tombstones keyed like the records they delete, in the same partition.
- on_window_close_*: one message per closed window, the final counts, no
  tombstone.
- errors: an unknown option, missing brokers, a bad format are errors at
  their place in the statement; a key column that is not a result column,
  and under EMIT CHANGES a key column that is not a GROUP BY column, fail
  the query with a message naming it.
- delivery failures are reported, never ignored: brokers on a dead port
  with 'kafka.message.timeout.ms' = '2000' make the query fail with a
  message naming the topic, sluice exits 1 and sluice_catalog.status says
  failed (at a commit in the middle of the input, and at the final commit
  of a small input); the sink's broker taken down (mock fault injection)
  while an unbounded query has messages to flush: the query fails the same
  way within a bounded time.

usage: test_sink.py MOCK_BROKER SLUICE
"""
import collections
import datetime
import json
import os
import subprocess
import sys
import time
sys.path.insert(0, os.path.dirname(__file__))
from kafkatest import (Tap, Broker, Sluice, produce, workdir,
                       skip_without_kcat, MOCK_PROPS, KCAT)

skip_without_kcat()
mock_exe, sluice_exe = sys.argv[1], sys.argv[2]
t = Tap()
wd = workdir()
broker = Broker(mock_exe, wd, {"pay": 3, "sess": 1, "out": 2, "changes": 2,
                               "sessions": 2, "closed": 2, "fail": 1})
B = broker.bootstrap
# the mock answers pipelined produce requests ~40 ms late: one at a time
SINK_PROPS = "'kafka.max.in.flight'='1'"


def read_topic(topic, brokers=None):
    """[(partition, key, value or None)] in each partition's order."""
    p = subprocess.run([KCAT, "-C", "-b", brokers or B, "-t", topic, "-e",
                        "-q", "-Z", "-f", "%p|%k|%S|%s\n"],
                       capture_output=True, text=True, timeout=60)
    out = []
    for line in p.stdout.splitlines():
        if not line:
            continue
        part, key, size, value = line.split("|", 3)
        out.append((int(part), key, None if size == "-1" else value))
    return out


def source(name, topic, cols, extra=""):
    return ("CREATE SOURCE %s (%s) WITH (connector='kafka', brokers='%s', "
            "topic='%s', format='json', until='end', %s%s);"
            % (name, cols, B, topic, MOCK_PROPS, extra))


def status(s, name):
    r = s.query("SELECT status FROM sluice_catalog WHERE name = ?", (name,))
    return r[0][0] if r else None


PAY_COLS = ("card TEXT, amount DOUBLE, paid_at TIMESTAMP, "
            "WATERMARK FOR paid_at AS paid_at - INTERVAL '2' SECONDS")
base = datetime.datetime(2026, 3, 1, 12, 0, 0)
cards = ["card-%d" % c for c in range(12)]
payments = []
for i in range(3000):
    card = cards[(i * 7) % 12]
    at = base + datetime.timedelta(milliseconds=i * 100)
    payments.append((card, i % 100 + 0.5, at))
lines = ['%s:{"card":"%s","amount":%s,"paid_at":"%s"}'
         % (c, c, a, at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3])
         for c, a, at in payments]

try:
    produce(broker, "pay", lines, keyed=True)

    # ---- append-only: filter + project ------------------------------------
    s = Sluice(sluice_exe, wd, "append.db")
    rc, out, err = s.run(
        source("p", "pay", PAY_COLS) +
        "CREATE SINK big AS SELECT card, amount * 2 AS doubled, paid_at "
        "FROM p WHERE amount > 80 WITH (connector='kafka', brokers='%s', "
        "topic='out', key='card', %s);" % (B, SINK_PROPS))
    t.ok(rc == 0 and status(s, "big") == "done", "append_only_sink_runs",
         (rc, err, status(s, "big")))
    msgs = read_topic("out")
    want = sorted((c, json.dumps({"card": c, "doubled": a * 2,
                                  "paid_at": at.strftime(
                                      "%Y-%m-%d %H:%M:%S.%f")[:-3]},
                                 separators=(",", ":")))
                  for c, a, at in payments if a > 80)
    got = sorted((k, v) for _, k, v in msgs)
    t.is_(len(got), len(want), "append_only_sink_delivers_%d_messages"
          % len(want))
    t.ok(got == want, "append_only_sink_every_row_exactly_once_keyed_by_card",
         "missing %r\nextra %r" % (sorted(set(want) - set(got))[:3],
                                   sorted(set(got) - set(want))[:3]))
    by_key = collections.defaultdict(set)
    for part, k, _ in msgs:
        by_key[k].add(part)
    t.ok(all(len(p) == 1 for p in by_key.values()),
         "append_only_sink_one_partition_per_key", dict(by_key))
    order_ok = True
    for card in cards:
        times = [json.loads(v)["paid_at"] for _, k, v in msgs if k == card]
        order_ok &= times == sorted(times)
    t.ok(order_ok, "append_only_sink_keeps_each_keys_order")

    # ---- EMIT CHANGES: HAVING turns false -> tombstones --------------------
    s = Sluice(sluice_exe, wd, "changes.db")
    rc, out, err = s.run(
        "SET batch_rows = 1; SET commit_interval = '1 rows';" +
        source("p", "pay", PAY_COLS) +
        "CREATE SINK few AS SELECT card, COUNT(*) AS n FROM p "
        "WHERE paid_at < TIMESTAMP '2026-03-01 12:00:06' "
        "GROUP BY card HAVING COUNT(*) < 3 EMIT CHANGES "
        "WITH (connector='kafka', brokers='%s', topic='changes', key='card', "
        "%s);" % (B, SINK_PROPS), timeout=90)
    t.ok(rc == 0 and status(s, "few") == "done", "emit_changes_sink_runs",
         (rc, err))
    msgs = read_topic("changes")
    seqs = collections.defaultdict(list)
    for _, k, v in msgs:
        seqs[k].append(v)
    want = {c: ['{"card":"%s","n":1}' % c, '{"card":"%s","n":2}' % c, None]
            for c in cards}
    t.is_(dict(seqs), want,
          "emit_changes_sink_sends_each_change_then_a_tombstone_per_key")

    # ---- EMIT CHANGES: a session merge retracts sessions -------------------
    sess = ['x:{"card":"x","t":"2026-03-01 12:00:00"}',
            'x:{"card":"x","t":"2026-03-01 12:00:20"}',
            'x:{"card":"x","t":"2026-03-01 12:00:10"}',   # merges both
            'y:{"card":"y","t":"2026-03-01 12:00:01"}',
            'x:{"card":"x","t":"2026-03-01 12:05:00"}']
    produce(broker, "sess", sess, keyed=True)
    s = Sluice(sluice_exe, wd, "sess.db")
    rc, out, err = s.run(
        "SET batch_rows = 1; SET commit_interval = '1 rows';" +
        source("e", "sess", "card TEXT, t TIMESTAMP, WATERMARK FOR t AS "
               "t - INTERVAL '30' SECONDS") +
        "CREATE SINK ss AS SELECT card, window_start, window_end, "
        "COUNT(*) AS n FROM e WINDOW SESSION (GAP 15 SECONDS) GROUP BY card "
        "EMIT CHANGES WITH (connector='kafka', brokers='%s', "
        "topic='sessions', key='card', %s);" % (B, SINK_PROPS))
    t.ok(rc == 0, "session_sink_runs", (rc, err))
    msgs = read_topic("sessions")

    def sess_row(card, ws, we, n):
        return ('{"card":"%s","window_start":"2026-03-01 %s.000",'
                '"window_end":"2026-03-01 %s.000","n":%d}'
                % (card, ws, we, n))
    want_x = [sess_row("x", "12:00:00", "12:00:15", 1),
              sess_row("x", "12:00:20", "12:00:35", 1),
              None, None,                 # both merged sessions retracted
              sess_row("x", "12:00:00", "12:00:35", 3),
              sess_row("x", "12:05:00", "12:05:15", 1)]
    t.is_([v for _, k, v in msgs if k == "x"], want_x,
          "session_merge_sends_tombstones_then_the_merged_session")
    t.is_([v for _, k, v in msgs if k == "y"],
          [sess_row("y", "12:00:01", "12:00:16", 1)],
          "session_sink_other_key_untouched")
    t.ok(len({p for p, k, _ in msgs if k == "x"}) == 1,
         "tombstones_go_to_the_partition_of_the_records_they_delete",
         msgs)

    # ---- EMIT ON WINDOW CLOSE: one message per closed window ---------------
    s = Sluice(sluice_exe, wd, "closed.db")
    rc, out, err = s.run(
        source("p", "pay", PAY_COLS) +
        "CREATE SINK per10 AS SELECT card, window_start, COUNT(*) AS n, "
        "SUM(amount) AS total FROM p WINDOW TUMBLING (SIZE 10 SECONDS) "
        "GROUP BY card EMIT ON WINDOW CLOSE WITH (connector='kafka', "
        "brokers='%s', topic='closed', key='card', %s);" % (B, SINK_PROPS))
    t.ok(rc == 0 and status(s, "per10") == "done", "window_close_sink_runs",
         (rc, err))
    expect = collections.Counter()
    sums = collections.defaultdict(float)
    for c, a, at in payments:
        ws = at.replace(second=at.second // 10 * 10, microsecond=0)
        expect[(c, ws.strftime("%Y-%m-%d %H:%M:%S.000"))] += 1
        sums[(c, ws.strftime("%Y-%m-%d %H:%M:%S.000"))] += a
    msgs = read_topic("closed")
    got = collections.Counter()
    bad = []
    for _, k, v in msgs:
        if v is None:
            bad.append((k, v))
            continue
        r = json.loads(v)
        got[(r["card"], r["window_start"])] += 1
        kk = (r["card"], r["window_start"])
        if k != r["card"] or r["n"] != expect[kk] or \
                abs(r["total"] - sums[kk]) > 1e-6:
            bad.append((k, v))
    t.is_(len(msgs), len(expect),
          "window_close_sink_one_message_per_window (%d)" % len(expect))
    t.ok(set(got) == set(expect) and max(got.values()) == 1 and not bad,
         "window_close_sink_final_counts_no_tombstones_no_duplicates",
         bad[:3])

    # ---- errors at their place ---------------------------------------------
    s = Sluice(sluice_exe, wd, "errors.db")
    s.run(source("p", "pay", PAY_COLS))

    def fails_at(name, sql, msg, marker):
        rc, out, err = s.run(sql, timeout=30)
        col = sql.index(marker) + 1
        t.ok(rc == 1 and msg in err and ("column %d" % col) in err, name,
             "rc=%r want %r at column %d\n%s" % (rc, msg, col, err))

    sink = "CREATE SINK e1 AS SELECT card FROM p WITH (connector='kafka', "
    fails_at("unknown_option_is_an_error_at_its_place",
             sink + "brokers='%s', topic='o', keyy='card');" % B,
             "unknown option 'keyy' for a kafka sink", "keyy")
    fails_at("missing_brokers_is_an_error_at_the_connector",
             sink + "topic='o');",
             "a kafka sink needs brokers", "connector")
    fails_at("bad_format_is_an_error_at_its_value",
             sink + "brokers='%s', topic='o', format='csv');" % B,
             "a kafka sink writes format = 'json', not 'csv'", "'csv'")
    fails_at("bad_librdkafka_property_is_an_error_at_its_place",
             sink + "brokers='%s', topic='o', 'kafka.no.such'='1');" % B,
             "kafka property 'no.such'", "'kafka.no.such'")
    rc, out, err = s.run(sink + "brokers='%s', topic='o', key='nope', %s);"
                         % (B, SINK_PROPS), timeout=30)
    t.ok(rc == 1 and 'key column "nope" is not a column of the result' in err
         and status(s, "e1").startswith("failed"),
         "key_not_a_result_column_fails_the_query", (rc, err))
    rc, out, err = s.run(
        "SET batch_rows = 1; SET commit_interval = '1 rows';"
        "CREATE SINK e2 AS SELECT card, COUNT(*) AS n FROM p GROUP BY card "
        "HAVING COUNT(*) < 2 EMIT CHANGES WITH (connector='kafka', "
        "brokers='%s', topic='o', key='n', %s);" % (B, SINK_PROPS),
        timeout=60)
    t.ok(rc == 1 and 'key column "n" is not a GROUP BY column' in err and
         status(s, "e2").startswith("failed"),
         "emit_changes_key_not_a_group_column_fails_at_the_first_tombstone",
         (rc, err))

    # ---- delivery failures -------------------------------------------------
    dead = ("WITH (connector='kafka', brokers='127.0.0.1:1', topic='lost', "
            "'kafka.message.timeout.ms'='2000')")
    s = Sluice(sluice_exe, wd, "dead.db")
    t0 = time.time()
    rc, out, err = s.run(
        "SET batch_rows = 50; SET commit_interval = '50 rows';" +
        source("p", "pay", PAY_COLS) +
        "CREATE SINK lost AS SELECT card FROM p %s;" % dead, timeout=40)
    took = time.time() - t0
    t.ok(rc == 1 and "to topic lost failed" in err and took < 20,
         "dead_broker_fails_the_query_naming_the_topic (%.1f s)" % took,
         (rc, err))
    st = status(s, "lost") or ""
    t.ok(st.startswith("failed") and "topic lost" in st,
         "dead_broker_status_says_failed", st)

    # the same failure at the final commit of a small bounded input
    produce(broker, "fail", ['{"card":"c","amount":1,'
                             '"paid_at":"2026-03-01 12:00:00"}'] * 5)
    s = Sluice(sluice_exe, wd, "dead_final.db")
    rc, out, err = s.run(source("p", "fail", PAY_COLS) +
                         "CREATE SINK lost AS SELECT card FROM p %s;" % dead,
                         timeout=40)
    t.ok(rc == 1 and "to topic lost failed" in err,
         "dead_broker_at_the_final_commit_fails_the_statement", (rc, err))
    st = status(s, "lost") or ""
    t.ok(st.startswith("failed"),
         "dead_broker_at_the_final_commit_status_says_failed", st)

    # the sink's broker goes down while an unbounded query is producing
    sink_wd = os.path.join(wd, "sink_broker")
    os.makedirs(sink_wd)
    sink_broker = Broker(mock_exe, sink_wd, {"down": 2})
    try:
        s = Sluice(sluice_exe, wd, "down.db")
        s.start("SET commit_interval = '200 milliseconds';"
                "CREATE SOURCE u (card TEXT, amount DOUBLE) WITH "
                "(connector='kafka', brokers='%s', topic='pay', "
                "format='json', %s);"
                "CREATE SINK fwd AS SELECT card, amount FROM u WITH "
                "(connector='kafka', brokers='%s', topic='down', key='card', "
                "'kafka.message.timeout.ms'='2000', %s);"
                % (B, MOCK_PROPS, sink_broker.bootstrap, SINK_PROPS))
        t.ok(s.wait_for(lambda: len(read_topic("down", sink_broker.bootstrap))
                        == len(lines), 30),
             "unbounded_sink_forwards_every_message")
        sink_broker.down()
        time.sleep(0.5)
        produce(broker, "pay", lines[:100], keyed=True)
        exited = s.wait_for(lambda: s.proc.poll() is not None, 20)
        rc, err = s.stop()
        t.ok(exited and rc == 1 and "to topic down" in err,
             "sink_broker_down_fails_the_query_naming_the_topic",
             (exited, rc, err))
        st = status(s, "fwd") or ""
        t.ok(st.startswith("failed") and "topic down" in st,
             "sink_broker_down_status_says_failed", st)
    finally:
        sink_broker.stop()
finally:
    broker.stop()
t.done(wd)
