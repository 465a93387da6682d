"""test_watermark.py: per-partition watermarks over Kafka (DESIGN §2 rule 2).

Pins:
- partition_ahead_does_not_make_another_late: two partitions whose event
  times are far apart, each in order. With one watermark for the whole
  source, whichever partition is read second would be late (its events lie
  behind the first one's); with the minimum over partitions nothing is late
  and every window gets all its events. The event times are chosen so that
  either reading order would expose a global watermark.
- idle_partition_stops_holding_watermark_back: an unbounded source (no
  `until`) over two partitions, read by two queries, one with
  idle_timeout = 1 second and one with 1 hour. Partition 0 runs to t=29 s,
  partition 1 stops at t=4 s (two sluice processes, so two consumer
  groups). Once both queries have read everything, we
  wait past one second and add one event (t=30 s) to partition 0. The
  1-second query now ignores the idle partition: W = 30 s closes the
  windows [0,10), [10,20), [20,30) (EMIT ON WINDOW CLOSE). The 1-hour query
  still holds W at 4 s: no window closes. Time is driven by the events and
  by waiting for the database to show what was read, not by guessing how
  long reading takes; the one sleep is the idle timeout itself. (Windows
  close when an event is pushed, which is why the extra event is needed.)

usage: test_watermark.py MOCK_BROKER SLUICE
"""
import sys
import time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from kafkatest import (Tap, Broker, Sluice, produce, csv_rows, workdir,
                       skip_without_kcat, MOCK_PROPS)

skip_without_kcat()
mock_exe, sluice_exe = sys.argv[1], sys.argv[2]
t = Tap()
wd = workdir()
broker = Broker(mock_exe, wd, {"wm": 2, "idle": 2})
B = broker.bootstrap


def ev(sec, tag):
    return '{"tag":"%s","ts":"2026-03-01 00:%02d:%02d"}' % (tag, sec // 60,
                                                           sec % 60)


try:
    # ---- per-partition watermark, bounded ------------------------------
    p0 = [ev(s, "a") for s in list(range(0, 10)) + list(range(200, 210))]
    p1 = [ev(s, "b") for s in list(range(100, 110)) + list(range(300, 310))]
    produce(broker, "wm", p0, partition=0)
    produce(broker, "wm", p1, partition=1)
    s = Sluice(sluice_exe, wd, "wm.db")
    rc, out, err = s.run(
        "CREATE SOURCE e (tag TEXT, ts TIMESTAMP, WATERMARK FOR ts AS ts) "
        "WITH (connector='kafka', brokers='%s', topic='wm', format='json', "
        "until='end', %s);" % (B, MOCK_PROPS) +
        "CREATE MATERIALIZED VIEW w AS SELECT tag, window_start, COUNT(*) AS n "
        "FROM e WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY tag "
        "EMIT ON WINDOW CLOSE;"
        "SELECT tag, window_start, n FROM w ORDER BY window_start;")
    t.is_(rc, 0, "bounded_multi_partition_query_runs")
    want = [["a", "2026-03-01 00:00:00.000", "10"],
            ["b", "2026-03-01 00:01:40.000", "10"],
            ["a", "2026-03-01 00:03:20.000", "10"],
            ["b", "2026-03-01 00:05:00.000", "10"]]
    t.is_(csv_rows(out), want, "every_window_has_all_its_events")
    late = s.query("SELECT COUNT(*) FROM sluice_late_events")
    t.is_(late, [(0,)], "partition_ahead_does_not_make_another_late")

    # ---- idle partition, unbounded -------------------------------------
    produce(broker, "idle", [ev(s, "a") for s in range(0, 30)], partition=0)
    produce(broker, "idle", [ev(s, "b") for s in range(0, 5)], partition=1)
    fast = Sluice(sluice_exe, wd, "fast.db")
    slow = Sluice(sluice_exe, wd, "slow.db")

    def job(idle, view):
        return ("CREATE SOURCE e (tag TEXT, ts TIMESTAMP, WATERMARK FOR ts "
                "AS ts) WITH (connector='kafka', brokers='%s', topic='idle', "
                "format='json', idle_timeout='%s', %s);"
                "CREATE MATERIALIZED VIEW %s AS SELECT window_start, "
                "COUNT(*) AS n FROM e WINDOW TUMBLING (SIZE 10 SECONDS) "
                "EMIT ON WINDOW CLOSE;" % (B, idle, MOCK_PROPS, view))

    # two processes (and two consumer groups: sluice-w_fast, sluice-w_slow)
    fast.start(job("1 second", "w_fast"))
    slow.start(job("1 hour", "w_slow"))
    read_all = fast.wait_for(lambda: fast.metric("w_fast", "rows_in") == 35
                             and slow.metric("w_slow", "rows_in") == 35, 30)
    t.ok(read_all, "unbounded_queries_read_both_partitions",
         (fast.metric("w_fast", "rows_in"), slow.metric("w_slow", "rows_in")))
    t.is_(fast.query("SELECT COUNT(*) FROM w_fast") +
          slow.query("SELECT COUNT(*) FROM w_slow"), [(0,), (0,)],
          "lagging_partition_holds_windows_open")
    time.sleep(1.5)                       # partition 1 is now idle for w_fast
    produce(broker, "idle", [ev(30, "a")], partition=0)
    closed = fast.wait_for(
        lambda: len(fast.query("SELECT * FROM w_fast")) == 3, 20)
    got = fast.query("SELECT window_start, n FROM w_fast "
                     "ORDER BY window_start")
    t.ok(closed, "idle_partition_stops_holding_watermark_back", got)
    t.is_(got, [("2026-03-01 00:00:00.000", 15),
                ("2026-03-01 00:00:10.000", 10),
                ("2026-03-01 00:00:20.000", 10)],
          "closed_windows_count_both_partitions")
    slow.wait_for(lambda: slow.metric("w_slow", "rows_in") == 36, 20)
    t.is_(slow.metric("w_slow", "rows_in"), 36,
          "slow_query_read_the_new_event")
    t.is_(slow.query("SELECT COUNT(*) FROM w_slow"), [(0,)],
          "partition_not_idle_yet_still_holds_watermark_back")
    t.is_(fast.query("SELECT COUNT(*) FROM sluice_late_events") +
          slow.query("SELECT COUNT(*) FROM sluice_late_events"),
          [(0,), (0,)], "no_late_events")
    for name, proc in (("fast", fast), ("slow", slow)):
        rc, err = proc.stop()
        t.ok(rc == 0, "sigterm_stops_unbounded_run_cleanly_" + name,
             (rc, err))
finally:
    broker.stop()
t.done(wd)
