"""test_wjoin.py: a window join of two Kafka sources (dialect.md, "Window
joins of two sources").

Two topics of two partitions each (persons and auctions, JSON), read to
their end (until = 'end'). Each side's watermark is the minimum over its
own partitions and the join's the smaller of the two sides', so although
the partitions are read in bursts, in no fixed order, no event is late and
every window pairs all its rows: the result must equal the same join over
the same rows read from files, and name nothing late. The event times are
chosen so that a watermark taken over all partitions of a side, or over
one side alone, would make events late.

usage: test_wjoin.py MOCK_BROKER SLUICE
"""
import os
import sys
sys.path.insert(0, os.path.dirname(__file__))
from kafkatest import (Tap, Broker, Sluice, produce, csv_rows, workdir,
                       skip_without_kcat, MOCK_PROPS)

skip_without_kcat()
mock_exe, sluice_exe = sys.argv[1], sys.argv[2]
t = Tap()
wd = workdir()
broker = Broker(mock_exe, wd, {"persons": 2, "auctions": 2})
B = broker.bootstrap


def ts(sec):
    return "2026-03-01 00:%02d:%02d" % (sec // 60, sec % 60)


# partition 0 of each topic covers 0-59 s, partition 1 covers 100-159 s:
# one person and two auctions of his every 5 seconds
persons = {0: [], 1: []}
auctions = {0: [], 1: []}
for part, base in ((0, 0), (1, 100)):
    for k in range(12):
        sec = base + 5 * k
        pid = part * 100 + k
        persons[part].append('{"id":%d,"name":"n%d","ts":"%s"}' % (pid, pid, ts(sec)))
        for j in range(2):
            auctions[part].append('{"id":%d,"seller":%d,"ts":"%s"}'
                                  % (pid * 10 + j, pid, ts(sec + 1 + j)))

QUERY = ("CREATE STREAMING TABLE pairs AS SELECT p.id, a.id AS auction, "
         "window_start FROM person p JOIN auction a ON p.id = a.seller "
         "WINDOW TUMBLING (SIZE 10 SECONDS);"
         "SELECT id, auction, window_start FROM pairs ORDER BY auction;")

try:
    for part in (0, 1):
        produce(broker, "persons", persons[part], partition=part)
        produce(broker, "auctions", auctions[part], partition=part)
    s = Sluice(sluice_exe, wd, "k.db")
    src = ("CREATE SOURCE %s (%s, ts TIMESTAMP, WATERMARK FOR ts AS ts) WITH "
           "(connector='kafka', brokers='%s', topic='%s', format='json', "
           "until='end', %s);")
    rc, out, err = s.run(
        src % ("person", "id BIGINT, name TEXT", B, "persons", MOCK_PROPS) +
        src % ("auction", "id BIGINT, seller BIGINT", B, "auctions", MOCK_PROPS) +
        QUERY)
    t.is_(rc, 0, "window_join_over_kafka_runs")
    got = csv_rows(out)

    # the same rows from files, partition 0 then 1 (files are read in order)
    for name, rows in (("persons", persons), ("auctions", auctions)):
        with open(os.path.join(wd, name + ".ndjson"), "w") as f:
            f.write("\n".join(rows[0] + rows[1]) + "\n")
    f = Sluice(sluice_exe, wd, "f.db")
    fsrc = ("CREATE SOURCE %s (%s, ts TIMESTAMP, WATERMARK FOR ts AS ts) WITH "
            "(connector='file', path='%s', format='ndjson');")
    rc2, out2, err2 = f.run(
        fsrc % ("person", "id BIGINT, name TEXT",
                os.path.join(wd, "persons.ndjson")) +
        fsrc % ("auction", "id BIGINT, seller BIGINT",
                os.path.join(wd, "auctions.ndjson")) + QUERY)
    t.ok(rc2 == 0, "the_same_join_over_files_runs", err2)
    want = csv_rows(out2)
    t.is_(len(want), 48, "every_auction_pairs_with_its_seller")
    t.is_(got, want, "kafka_pairs_equal_file_pairs")
    t.is_(s.query("SELECT COUNT(*) FROM sluice_late_events"), [(0,)],
          "no_event_is_late_with_per_partition_watermarks_per_side")
    t.is_(s.query("SELECT source FROM sluice_offsets WHERE query = 'pairs' "
                  "ORDER BY source"), [("auction",), ("person",)],
          "both_topics_positions_are_committed")
finally:
    broker.stop()
t.done(wd)
