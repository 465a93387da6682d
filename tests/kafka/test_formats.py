"""test_formats.py: reading Kafka topics with sluice, bounded (until='end').

Pins: JSON and CSV message values decode into the declared columns; the
pseudo-columns _key, _partition, _offset, _timestamp carry the record's
metadata; a keyed multi-partition topic is read whole (counts per key equal
what kcat produced); the record time can be the event time; a message that
does not decode becomes a dead letter naming topic/partition/offset and the
rest is read; bad connector options are clear errors.

usage: test_formats.py MOCK_BROKER SLUICE
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
broker = Broker(mock_exe, wd, {"pay_json": 1, "pay_csv": 1, "keyed": 3,
                               "meta": 2, "bad": 2})
B = broker.bootstrap


def source(name, cols, topic, fmt, extra=""):
    return ("CREATE SOURCE %s (%s) WITH (connector='kafka', brokers='%s', "
            "topic='%s', format='%s', until='end', %s%s);"
            % (name, cols, B, topic, fmt, MOCK_PROPS, extra))


try:
    # ---- JSON ----------------------------------------------------------
    produce(broker, "pay_json",
            ['{"card":"c%d","amount":%d.5,"ts":"2026-03-01 10:00:%02d"}'
             % (i % 4, i, i % 60) for i in range(200)])
    s = Sluice(sluice_exe, wd, "json.db")
    rc, out, err = s.run(
        source("pay", "card TEXT, amount DOUBLE, ts TIMESTAMP", "pay_json",
               "json") +
        "CREATE MATERIALIZED VIEW per_card AS SELECT card, COUNT(*) AS n, "
        "SUM(amount) AS total FROM pay GROUP BY card;"
        "SELECT card, n, total FROM per_card ORDER BY card;")
    t.is_(rc, 0, "json_source_reads_to_end")
    want = [["c%d" % c, "50",
             "%g" % sum(i + 0.5 for i in range(200) if i % 4 == c)]
            for c in range(4)]
    got = [[r[0], r[1], "%g" % float(r[2])] for r in csv_rows(out)]
    t.is_(got, want, "json_counts_and_sums_per_card")

    # ---- CSV (positional, no header) ------------------------------------
    produce(broker, "pay_csv",
            ["c%d,%d,2026-03-01 10:00:%02d" % (i % 3, i, i % 60)
             for i in range(90)])
    s = Sluice(sluice_exe, wd, "csv.db")
    rc, out, err = s.run(
        source("pay", "card TEXT, amount BIGINT, ts TIMESTAMP", "pay_csv",
               "csv") +
        "CREATE MATERIALIZED VIEW per_card AS SELECT card, COUNT(*) AS n, "
        "SUM(amount) AS total FROM pay GROUP BY card;"
        "SELECT card, n, total FROM per_card ORDER BY card;")
    t.is_(rc, 0, "csv_source_reads_to_end")
    want = [["c%d" % c, "30", str(sum(i for i in range(90) if i % 3 == c))]
            for c in range(3)]
    t.is_(csv_rows(out), want, "csv_counts_and_sums_per_card")

    # ---- keyed multi-partition topic --------------------------------------
    keys = ["user-%d" % k for k in range(10)]
    produce(broker, "keyed",
            ['%s:{"user":"%s","n":%d}' % (keys[i % 10], keys[i % 10], i)
             for i in range(300)], keyed=True)
    s = Sluice(sluice_exe, wd, "keyed.db")
    rc, out, err = s.run(
        source("ev", "user TEXT, n BIGINT", "keyed", "json") +
        "CREATE MATERIALIZED VIEW per_key AS SELECT _key AS k, user, "
        "COUNT(*) AS c, MIN(_partition) AS p_lo, MAX(_partition) AS p_hi "
        "FROM ev GROUP BY _key, user;"
        "SELECT k, user, c, p_lo, p_hi FROM per_key ORDER BY k;")
    t.is_(rc, 0, "keyed_topic_reads_to_end")
    rows = csv_rows(out)
    t.is_([(r[0], r[1], r[2]) for r in rows],
          [(k, k, "30") for k in sorted(keys)], "counts_per_key_match_produced")
    t.ok(all(r[3] == r[4] for r in rows),
         "each_key_lives_in_one_partition", rows)
    t.ok(len(set(r[3] for r in rows)) > 1, "keys_spread_over_partitions", rows)

    # ---- pseudo-columns ----------------------------------------------------
    before_ms = int(time.time() * 1000) - 5000
    produce(broker, "meta", ['k%d:{"v":%d}' % (i, i) for i in range(3)],
            partition=1, keyed=True)
    produce(broker, "meta", ['{"v":%d}' % (10 + i) for i in range(2)],
            partition=0)
    s = Sluice(sluice_exe, wd, "meta.db")
    rc, out, err = s.run(
        source("m", "v BIGINT", "meta", "json") +
        "CREATE STREAMING TABLE m_rows AS SELECT v, _key, _partition, "
        "_offset, _timestamp FROM m;"
        "SELECT v, _key, _partition, _offset FROM m_rows ORDER BY v;")
    t.is_(rc, 0, "pseudo_column_query_runs")
    t.is_(csv_rows(out),
          [["0", "k0", "1", "0"], ["1", "k1", "1", "1"], ["2", "k2", "1", "2"],
           ["10", "", "0", "0"], ["11", "", "0", "1"]],
          "key_partition_offset_pseudo_columns")
    nullkeys = s.query("SELECT COUNT(*) FROM m_rows WHERE _key IS NULL")
    t.is_(nullkeys, [(2,)], "missing_key_is_null")
    ts = s.query("SELECT CAST(strftime('%s', _timestamp) AS INTEGER) * 1000 "
                 "FROM m_rows")
    now_ms = int(time.time() * 1000) + 5000
    t.ok(len(ts) == 5 and all(before_ms <= r[0] <= now_ms for r in ts),
         "timestamp_pseudo_column_is_record_time", ts)

    # the record time as event time: a windowed count over _timestamp
    s = Sluice(sluice_exe, wd, "evtime.db")
    rc, out, err = s.run(
        "CREATE SOURCE m (v BIGINT, WATERMARK FOR _timestamp AS _timestamp - "
        "INTERVAL '1' SECOND) WITH (connector='kafka', brokers='%s', "
        "topic='meta', format='json', until='end', %s);" % (B, MOCK_PROPS) +
        "CREATE MATERIALIZED VIEW per_hour AS SELECT COUNT(*) AS n "
        "FROM m WINDOW TUMBLING (SIZE 1 HOUR) EMIT ON WINDOW CLOSE;"
        "SELECT SUM(n) FROM per_hour;")
    t.is_((rc, csv_rows(out)), (0, [["5"]]), "record_time_as_event_time")

    # ---- dead letters --------------------------------------------------------
    produce(broker, "bad", ['{"amount":1}', '{"amount":', '{"amount":3}',
                            '{"amount":"abc"}', '{"amount":5}'], partition=1)
    produce(broker, "bad", ['{"amount":7}'], partition=0)
    s = Sluice(sluice_exe, wd, "bad.db")
    rc, out, err = s.run(
        source("b", "amount BIGINT", "bad", "json") +
        "CREATE MATERIALIZED VIEW tot AS SELECT COUNT(*) AS n, SUM(amount) "
        "AS s FROM b;"
        "SELECT n, s FROM tot;")
    t.is_((rc, csv_rows(out)), (0, [["4", "16"]]),
          "good_messages_around_bad_ones_are_read")
    dead = s.query("SELECT location, raw, reason FROM sluice_dead_letters "
                   "ORDER BY location")
    t.is_([(d[0], d[1]) for d in dead],
          [("bad/1/1", '{"amount":'), ("bad/1/3", '{"amount":"abc"}')],
          "bad_messages_are_dead_letters_with_topic_partition_offset")
    t.ok(len(dead) == 2 and "abc" in dead[1][2] and dead[0][2],
         "dead_letters_have_reasons", dead)

    # ---- option errors -----------------------------------------------------------
    s = Sluice(sluice_exe, wd, "opts.db")
    rc, out, err = s.run(source("x", "v BIGINT", "meta", "json",
                                ", 'kafka.no.such.prop'='1'") +
                         "SELECT COUNT(*) FROM x;", timeout=30)
    t.ok(rc == 1 and "no.such.prop" in err, "invalid_kafka_property_is_named",
         (rc, err))
    rc, out, err = s.run(source("y", "v BIGINT", "meta", "json",
                                ", start='foo'") +
                         "SELECT COUNT(*) FROM y;", timeout=30)
    t.ok(rc == 1 and "start must be" in err, "bad_start_is_an_error",
         (rc, err))
    rc, out, err = s.run(source("z", "v BIGINT", "meta", "json",
                                ", idle_timeout='soon'") +
                         "SELECT COUNT(*) FROM z;", timeout=30)
    t.ok(rc == 1 and "idle_timeout" in err, "bad_idle_timeout_is_an_error",
         (rc, err))
finally:
    broker.stop()
t.done(wd)
