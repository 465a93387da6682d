"""test_faults.py: Kafka faults give clear errors or are ridden out.

Pins:
- unknown_topic / unreachable_broker / unresolvable_broker /
  authentication_failure: the statement fails quickly (bounded by a
  timeout, so a hang fails the test) with a message naming the topic or the
  brokers, and sluice exits 1.
- broker_down_and_up_loses_nothing: an unbounded query has counted 600
  keyed messages; the broker goes down (the mock's fault injection,
  SIGUSR1); 600 more are produced while it is down (kcat keeps retrying);
  the broker comes back (SIGUSR2) after 7 s, longer than the group's
  session timeout (6 s), so the group also rebalances and the partitions
  are assigned again from the positions sluice holds. The query ends with exactly 1200, and
  exactly 120 per key: nothing lost, nothing counted twice. sluice does not
  exit or crash while the broker is away.
- deleted_topic_fails_the_query_naming_it: a topic deleted while an
  unbounded query reads it (the mock's SIGHUP: the cluster's metadata no
  longer knows it, fetches fail) fails the query within seconds with a
  message naming the topic, in stderr and in the catalog's status; the run
  exits 1 (it waited over a minute, silent, before).
- sigterm_after_topic_deleted_is_bounded: SIGTERM half a second after the
  topic of a running query is deleted ends sluice within 8 s (librdkafka's
  shutdown hung for 90 s).

usage: test_faults.py MOCK_BROKER SLUICE
"""
import sys
import time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from kafkatest import (Tap, Broker, Sluice, produce, workdir,
                       skip_without_kcat, MOCK_PROPS)

skip_without_kcat()
mock_exe, sluice_exe = sys.argv[1], sys.argv[2]
t = Tap()
wd = workdir()
broker = Broker(mock_exe, wd, {"present": 1, "flaky": 3, "gone": 2,
                                "gone2": 2}, deletable=["gone", "gone2"])
B = broker.bootstrap


def bounded(brokers, topic, extra=""):
    return ("CREATE SOURCE s (v BIGINT) WITH (connector='kafka', "
            "brokers='%s', topic='%s', format='json', until='end', %s%s);"
            "SELECT COUNT(*) FROM s;" % (brokers, topic, MOCK_PROPS, extra))


def fails_fast(name, sql, must_name, limit_s):
    s = Sluice(sluice_exe, wd, name + ".db")
    t0 = time.time()
    rc, out, err = s.run(sql, timeout=30)
    took = time.time() - t0
    t.ok(rc == 1 and must_name in err and took < limit_s, name,
         "rc=%r took=%.1fs stderr=%s" % (rc, took, err))


try:
    fails_fast("unknown_topic_is_a_clear_error",
               bounded(B, "no_such_topic"),
               "topic 'no_such_topic' does not exist", 8)
    fails_fast("unknown_topic_in_a_list_is_named",
               bounded(B, "present, missing_one"),
               "topic 'missing_one' does not exist", 8)
    fails_fast("unreachable_broker_is_a_clear_error",
               bounded("127.0.0.1:1", "present"),
               "cannot reach the Kafka brokers '127.0.0.1:1'", 8)
    fails_fast("unresolvable_broker_is_a_clear_error",
               bounded("no-such-host.invalid:9092", "present"),
               "no-such-host.invalid:9092", 15)
    fails_fast("authentication_failure_is_a_clear_error",
               bounded(B, "present",
                       ", 'kafka.security.protocol'='sasl_plaintext', "
                       "'kafka.sasl.mechanism'='SCRAM-SHA-256', "
                       "'kafka.sasl.username'='u', "
                       "'kafka.sasl.password'='p'"),
               "authentication failed", 8)

    # ---- broker down and up during an unbounded read ----------------------
    keys = ["card-%d" % k for k in range(10)]

    def batch(start):
        return ['%s:{"v":%d}' % (keys[i % 10], i)
                for i in range(start, start + 600)]

    produce(broker, "flaky", batch(0), keyed=True)
    s = Sluice(sluice_exe, wd, "flaky.db")
    s.start("CREATE SOURCE f (v BIGINT) WITH (connector='kafka', "
            "brokers='%s', topic='flaky', format='json', %s);"
            "CREATE MATERIALIZED VIEW per_key AS SELECT _key AS k, "
            "COUNT(*) AS n FROM f GROUP BY _key;" % (B, MOCK_PROPS))

    def total():
        r = s.query("SELECT SUM(n) FROM per_key")
        return r[0][0] if r else None

    t.ok(s.wait_for(lambda: total() == 600, 30), "first_600_counted",
         total())
    broker.down()
    time.sleep(1.0)
    kcat = produce(broker, "flaky", batch(600), keyed=True, tolerant=True,
                   wait=False)
    time.sleep(6.0)                  # past session.timeout.ms: a rebalance
    t.ok(s.proc.poll() is None, "sluice_keeps_running_while_broker_is_down")
    broker.up()
    t.ok(kcat.wait(60) == 0, "producer_delivered_after_broker_came_back")
    t.ok(s.wait_for(lambda: total() == 1200, 40),
         "broker_down_and_up_loses_nothing", total())
    time.sleep(1.5)                  # one more commit: nothing doubles later
    per_key = s.query("SELECT k, n FROM per_key ORDER BY k")
    t.is_(per_key, [(k, 120) for k in sorted(keys)],
          "every_key_counted_exactly_once")
    rc, err = s.stop()
    t.ok(rc == 0, "sigterm_after_outage_exits_cleanly", (rc, err))

    # ---- a topic deleted while it is read ----------------------------------
    def counting(name, topic):
        produce(broker, topic, ['{"v":%d}' % i for i in range(50)])
        q = Sluice(sluice_exe, wd, name + ".db")
        q.start("CREATE SOURCE g (v BIGINT) WITH (connector='kafka', "
                "brokers='%s', topic='%s', format='json', %s);"
                "CREATE MATERIALIZED VIEW n AS SELECT COUNT(*) AS c FROM g;"
                % (B, topic, MOCK_PROPS))
        t.ok(q.wait_for(lambda: q.query("SELECT c FROM n") == [(50,)], 30),
             name + "_counts_before_the_deletion", q.query("SELECT c FROM n"))
        return q

    failing = counting("deleted", "gone")
    stopped = counting("deleted_stop", "gone2")
    broker.delete_topics()
    time.sleep(0.5)
    t0 = time.time()
    rc, err = stopped.stop()
    took = time.time() - t0
    t.ok(rc != "killed" and took < 8, "sigterm_after_topic_deleted_is_bounded",
         "rc=%r took=%.1fs stderr=%s" % (rc, took, err))
    exited = failing.wait_for(lambda: failing.proc.poll() is not None, 15)
    rc, err = failing.stop()
    status = failing.query("SELECT status FROM sluice_catalog WHERE name='n'")
    t.ok(exited and rc == 1 and "Kafka topic 'gone' was deleted" in err and
         status and "topic 'gone' was deleted" in status[0][0],
         "deleted_topic_fails_the_query_naming_it",
         "exited=%r rc=%r status=%r stderr=%s" % (exited, rc, status, err))
finally:
    broker.stop()
t.done(wd)
