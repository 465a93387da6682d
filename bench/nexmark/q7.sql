-- Nexmark q7: highest bid (flink/q7.sql). sluice cannot join a stream with
-- an aggregate of itself; what it can run continuously is the 10-second
-- tumbling MAX(price) and an append-only copy of the bids. The join back
-- (bids whose price is their window's maximum) is a SQLite view over the
-- two tables, computed when it is read.
-- The sources follow the Nexmark DDL (ddl_gen.sql) with one file per kind;
-- bench/run.py replaces @NEXMARK@, @EXT@ and @FORMAT@.
CREATE SOURCE bid (
    auction  BIGINT,
    bidder   BIGINT,
    price    BIGINT,
    channel  TEXT,
    url      TEXT,
    dateTime TIMESTAMP,
    extra    TEXT,
    WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECONDS
) WITH (connector = 'file', path = '@NEXMARK@/bids.@EXT@', @FORMAT@);

CREATE MATERIALIZED VIEW q7_max AS
SELECT window_start, window_end, MAX(price) AS maxprice
FROM bid
WINDOW TUMBLING (SIZE 10 SECONDS)
GROUP BY window_start
EMIT ON WINDOW CLOSE;

CREATE STREAMING TABLE q7_bids AS
SELECT auction, price, bidder, dateTime, extra FROM bid;

CREATE VIEW q7 AS
SELECT b.auction, b.price, b.bidder, b.dateTime, b.extra
FROM q7_bids b JOIN q7_max m
  ON b.price = m.maxprice
 AND b.dateTime >= m.window_start AND b.dateTime < m.window_end;
