-- kafka_fraud.sql: a velocity check over a Kafka topic of card payments.
-- A card that makes more than 5 payments within 10 seconds raises an alert:
-- a message on the Kafka topic `alerts`, keyed by the card. The same alerts
-- are also kept in a MATERIALIZED VIEW (the SQLite table `velocity_alerts`),
-- which any SQLite tool can query while sluice runs.
--
-- Try it locally with the project's test broker (librdkafka's mock cluster,
-- built with the tests; kcat is Debian's `kcat` package):
--
--   build/tests/kafka/mock_broker /tmp/bootstrap payments:4 alerts:2 &
--   B=$(cat /tmp/bootstrap)               # the port is random
--   # every card pays once a minute; card-7 then pays 8 times within 4
--   # seconds; at 13:00 every card pays once more, which moves every
--   # partition's event time on, so the burst's windows close
--   python3 -c '
--   import json
--   def pay(card, amount, at):
--       print("%s:%s" % (card, json.dumps({"card_id": card,
--             "amount": amount, "paid_at": "2026-03-01 " + at})))
--   for i in range(40):
--       pay("card-%d" % (i % 10), 10 + i, "12:%02d:00" % i)
--   for i in range(8):
--       pay("card-7", 99.5, "12:45:%02d" % (20 + i // 2))
--   for c in range(10):
--       pay("card-%d" % c, 1, "13:00:00")
--   ' | kcat -P -b "$B" -t payments -K:
--   sed "s/127.0.0.1:9092/$B/" examples/kafka_fraud.sql | build/sluice fraud.db &
--   # (runs until stopped; after a few seconds:)
--   kcat -C -b "$B" -t alerts -e -q -f '%k  %s\n'
--   sqlite3 fraud.db 'SELECT * FROM velocity_alerts'
--   kill %2; kill %1                      # sluice, then the broker
--
-- The burst (8 payments between 12:45:20 and 12:45:23) lies in four of the
-- overlapping windows, so four alerts keyed card-7 (and four rows in the
-- view), e.g.
--   card-7  {"card_id":"card-7","window_start":"2026-03-01 12:45:14.000",
--            "window_end":"2026-03-01 12:45:24.000","payments":8,"total":796.0}
--
-- The mock cluster needs the two 'kafka.' settings of the source (a short
-- session timeout for the consumer group, a short fetch wait), and the
-- sink's 'kafka.max.in.flight' = '1' keeps its commits fast (the mock
-- answers pipelined requests late); a real cluster needs none of them.
-- Add until = 'end' to the source to make the job bounded: it then reads
-- what the topic holds when it starts, sends the alerts and finishes.
--
-- Delivery: the view is exactly-once; the Kafka sink is at-least-once (after
-- a crash an alert of the last uncommitted second may be sent twice), see
-- docs/connectors.md#sinks.

CREATE SOURCE IF NOT EXISTS payments (
    card_id  TEXT,
    amount   DOUBLE,
    paid_at  TIMESTAMP,
    -- payments may arrive up to 5 seconds out of order
    WATERMARK FOR paid_at AS paid_at - INTERVAL '5' SECONDS
) WITH (connector = 'kafka', brokers = '127.0.0.1:9092', topic = 'payments',
        format = 'json', start = 'earliest',
        -- a partition without payments for 10 s stops holding time back
        idle_timeout = '10 seconds',
        'kafka.session.timeout.ms' = '6000', 'kafka.fetch.wait.max.ms' = '10');

-- Every 10-second window, starting every 2 seconds: a burst is caught
-- wherever it falls (and may be reported by several overlapping windows).
-- Each window's row appears once, when the window closes.
CREATE MATERIALIZED VIEW IF NOT EXISTS velocity_alerts AS
SELECT card_id, window_start, window_end,
       COUNT(*) AS payments, SUM(amount) AS total
FROM payments
WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS)
GROUP BY card_id
HAVING COUNT(*) > 5
EMIT ON WINDOW CLOSE;

-- The alerts leave sluice: one message per window that closes with more
-- than 5 payments, keyed by the card (so a card's alerts stay in order on
-- one partition). ON WINDOW CLOSE: each message is final, never retracted.
CREATE SINK IF NOT EXISTS alerts AS
SELECT card_id, window_start, window_end,
       COUNT(*) AS payments, SUM(amount) AS total
FROM payments
WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS)
GROUP BY card_id
HAVING COUNT(*) > 5
EMIT ON WINDOW CLOSE
WITH (connector = 'kafka', brokers = '127.0.0.1:9092', topic = 'alerts',
      format = 'json', key = 'card_id', 'kafka.max.in.flight' = '1');
