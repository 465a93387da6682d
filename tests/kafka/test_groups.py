"""test_groups.py: consumer groups, offsets, start positions, restarts.

Pins:
- offsets_are_committed_to_the_group_after_the_database: a bounded run in
  group g1 reads 100 messages; 50 more arrive; a new database reading with
  start = 'committed' in group g1 sees exactly the 50 new ones (sluice
  committed the offsets of what it wrote, and nothing else).
- start_latest_reads_nothing_old: start = 'latest' with until = 'end'
  finishes at once with no rows.
- several_topics_are_one_source: topic = 'a, b' reads both; rows keep their
  own topic's partition and offset; the position covers both topics.
- push_queries_each_see_the_whole_topic: two ad-hoc SELECTs over an
  unbounded source, run at the same time, both see every partition (they
  do not share the partitions as members of one consumer group would).
- restart_resumes_without_loss_or_doubling: an unbounded query is stopped
  with SIGTERM, more messages arrive, `sluice DB --serve` resumes it and
  the counts per key are exactly what was produced.
- second_process_in_a_group_counts_nothing_twice: process A (database
  a.db) reads all 4 partitions of a topic in group 'shared' and counts
  4000 events; process B (b.db) joins the group with the same statements
  and is assigned some of A's partitions: with the default start it
  continues from the group's committed offsets, so B never counts A's
  events again (it counted 1000-2000 of them before), and the two
  databases together hold every later event exactly once.

usage: test_groups.py MOCK_BROKER SLUICE
"""
import os
import subprocess
import sys
import time
sys.path.insert(0, os.path.dirname(__file__))
from kafkatest import (Tap, Broker, Sluice, produce, csv_rows, workdir,
                       skip_without_kcat, MOCK_PROPS)

skip_without_kcat()
mock_exe, sluice_exe = sys.argv[1], sys.argv[2]
t = Tap()
wd = workdir()
broker = Broker(mock_exe, wd, {"c": 2, "ta": 1, "tb": 2, "r": 2, "push": 2,
                                "shared": 4})
B = broker.bootstrap


def count_job(topic, extra):
    return ("CREATE SOURCE s (v BIGINT) WITH (connector='kafka', "
            "brokers='%s', topic='%s', format='json', until='end', %s%s);"
            "CREATE MATERIALIZED VIEW n AS SELECT COUNT(*) AS c, SUM(v) AS sv "
            "FROM s;"
            "SELECT c, sv FROM n;" % (B, topic, MOCK_PROPS, extra))


try:
    # ---- commit after write, start = committed ----------------------------
    produce(broker, "c", ['{"v":%d}' % i for i in range(100)], partition=0)
    produce(broker, "c", ['{"v":%d}' % i for i in range(100, 120)],
            partition=1)
    s = Sluice(sluice_exe, wd, "c1.db")
    rc, out, err = s.run(count_job("c", ", group_id='g1'"))
    t.is_((rc, csv_rows(out)), (0, [["120", str(sum(range(120)))]]),
          "first_run_reads_everything")
    produce(broker, "c", ['{"v":%d}' % i for i in range(1000, 1030)],
            partition=0)
    produce(broker, "c", ['{"v":%d}' % i for i in range(2000, 2020)],
            partition=1)
    s = Sluice(sluice_exe, wd, "c2.db")
    rc, out, err = s.run(count_job("c", ", group_id='g1', start='committed'"))
    want = sum(range(1000, 1030)) + sum(range(2000, 2020))
    t.is_((rc, csv_rows(out)), (0, [["50", str(want)]]),
          "offsets_are_committed_to_the_group_after_the_database")
    s = Sluice(sluice_exe, wd, "c3.db")
    rc, out, err = s.run(count_job("c", ", group_id='g_new', "
                                   "start='committed'"))
    t.is_((rc, csv_rows(out)[0][0] if csv_rows(out) else None), (0, "170"),
          "committed_without_commits_starts_at_the_beginning")
    s = Sluice(sluice_exe, wd, "c4.db")
    rc, out, err = s.run(count_job("c", ", start='latest'"))
    t.ok(rc == 0 and csv_rows(out) in ([], [["0", ""]]),
         "start_latest_reads_nothing_old", (rc, out, err))

    # ---- several topics ------------------------------------------------------
    produce(broker, "ta", ['{"v":1}'] * 3, partition=0)
    produce(broker, "tb", ['{"v":10}'] * 4, partition=1)
    s = Sluice(sluice_exe, wd, "multi.db")
    rc, out, err = s.run(
        "CREATE SOURCE s (v BIGINT) WITH (connector='kafka', brokers='%s', "
        "topic='ta, tb', format='json', until='end', %s);"
        "CREATE MATERIALIZED VIEW per AS SELECT _partition AS p, "
        "COUNT(*) AS c, SUM(v) AS sv, MAX(_offset) AS o FROM s "
        "GROUP BY _partition;"
        "SELECT p, c, sv, o FROM per ORDER BY p;" % (B, MOCK_PROPS))
    t.is_((rc, csv_rows(out)), (0, [["0", "3", "3", "2"],
                                    ["1", "4", "40", "3"]]),
          "several_topics_are_one_source")
    pos = s.query("SELECT position FROM sluice_offsets WHERE query = 'per'")
    t.ok(pos and sorted(pos[0][0].split(",")) == ["ta:0=3", "tb:1=4"],
         "position_names_every_topic_partition", pos)

    # ---- concurrent push queries ------------------------------------------
    produce(broker, "push", ['{"v":%d}' % i for i in range(3)], partition=0)
    produce(broker, "push", ['{"v":%d}' % i for i in range(3, 6)],
            partition=1)
    push_sql = ("CREATE SOURCE IF NOT EXISTS s (v BIGINT) WITH (connector="
                "'kafka', brokers='%s', topic='push', format='json', %s);"
                "SELECT v FROM s LIMIT 6;" % (B, MOCK_PROPS))
    procs = [subprocess.Popen([sluice_exe, os.path.join(wd, "push%d.db" % i),
                               "--mode", "csv", "-c", push_sql],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i in range(2)]
    outs = []
    for pr in procs:
        try:
            out, err = pr.communicate(timeout=30)
            outs.append(sorted(int(r[0]) for r in csv_rows(out)))
        except subprocess.TimeoutExpired:
            pr.kill()
            pr.communicate()
            outs.append("timeout")
    t.is_(outs, [list(range(6))] * 2, "push_queries_each_see_the_whole_topic")

    # ---- restart ---------------------------------------------------------------
    keys = ["k%d" % k for k in range(5)]
    produce(broker, "r", ['%s:{"v":%d}' % (keys[i % 5], i)
                          for i in range(200)], keyed=True)
    s = Sluice(sluice_exe, wd, "r.db")
    s.start("CREATE SOURCE s (v BIGINT) WITH (connector='kafka', "
            "brokers='%s', topic='r', format='json', %s);"
            "CREATE MATERIALIZED VIEW per_key AS SELECT _key AS k, "
            "COUNT(*) AS c FROM s GROUP BY _key;" % (B, MOCK_PROPS))

    def total():
        r = s.query("SELECT SUM(c) FROM per_key")
        return r[0][0] if r else None

    t.ok(s.wait_for(lambda: total() == 200, 30), "unbounded_run_counts_200",
         total())
    rc, err = s.stop()
    t.is_(rc, 0, "unbounded_run_stops_on_sigterm")
    produce(broker, "r", ['%s:{"v":%d}' % (keys[i % 5], i)
                          for i in range(200, 300)], keyed=True)
    s.serve()
    t.ok(s.wait_for(lambda: total() == 300, 30),
         "restart_resumes_without_loss", total())
    time.sleep(1.5)                  # one more commit: nothing doubles later
    t.is_(s.query("SELECT k, c FROM per_key ORDER BY k"),
          [(k, 60) for k in keys], "restart_resumes_without_doubling")
    rc, err = s.stop()
    t.is_(rc, 0, "serve_stops_on_sigterm")

    # ---- two processes in one consumer group -------------------------------
    def produce_round(first, per_part):
        for p in range(4):
            produce(broker, "shared", ['{"v":%d}' % i for i in
                                       range(first + p * per_part,
                                             first + (p + 1) * per_part)],
                    partition=p)
        return 4 * per_part

    shared_sql = ("CREATE SOURCE s (v BIGINT) WITH (connector='kafka', "
                  "brokers='%s', topic='shared', format='json', "
                  "group_id='shared', %s);"
                  "CREATE MATERIALIZED VIEW n AS SELECT COUNT(*) AS c, "
                  "COUNT(DISTINCT v) AS d FROM s;" % (B, MOCK_PROPS))
    produced = produce_round(0, 1000)
    a = Sluice(sluice_exe, wd, "a.db")
    b = Sluice(sluice_exe, wd, "b.db")

    def count(q):
        r = q.query("SELECT c FROM n")
        return r[0][0] if r else 0

    a.start(shared_sql)
    t.ok(a.wait_for(lambda: count(a) == 4000, 30), "process_a_counts_4000",
         count(a))
    time.sleep(1.5)             # A's offsets reach the group after its commit
    b.start(shared_sql)
    # The mock refuses offset commits while the group rebalances (a real
    # broker takes A's commit when its partitions are revoked), so events
    # read by A during the rebalance would be read again by B: new events
    # are produced once it is over (it takes about 5 s here).
    time.sleep(12)
    # new events until B has read some of them
    deadline = time.time() + 40
    while count(b) == 0 and time.time() < deadline:
        produced += produce_round(produced, 25)
        b.wait_for(lambda: count(b) > 0, 2)
    both = lambda: count(a) + count(b)
    a.wait_for(lambda: both() >= produced, 30)
    time.sleep(1.5)                  # one more commit: nothing doubles later
    ca, cb = count(a), count(b)
    t.ok(cb > 0, "second_process_is_given_partitions", (ca, cb))
    t.ok(ca + cb == produced and cb <= produced - 4000,
         "second_process_in_a_group_counts_nothing_twice",
         "a=%d b=%d produced=%d" % (ca, cb, produced))
    distinct = sorted(a.query("SELECT d FROM n") + b.query("SELECT d FROM n"))
    t.ok(sum(d for (d,) in distinct) == produced,
         "each_database_holds_its_own_partitions", distinct)
    for q, name in ((a, "a"), (b, "b")):
        rc, err = q.stop()
        t.is_(rc, 0, "group_member_%s_stops_on_sigterm" % name)
finally:
    broker.stop()
t.done(wd)
