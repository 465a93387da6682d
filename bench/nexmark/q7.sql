-- Nexmark q7: highest bid (flink/q7.sql): every bid at the highest price of
-- its 10-second tumbling window. Flink writes it as a join of the bids with
-- their windowed MAX(price); sluice writes the same result as a window
-- Top-N: RANK() = 1 keeps every bid tied at the maximum, and each window's
-- bids are emitted when it closes.
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

CREATE STREAMING TABLE q7 AS
SELECT auction, price, bidder, dateTime, extra
FROM bid
WINDOW TUMBLING (SIZE 10 SECONDS)
QUALIFY RANK() OVER (PARTITION BY window_start ORDER BY price DESC) = 1
EMIT ON WINDOW CLOSE;
