-- Nexmark q5: hot items (flink/q5.sql): the auctions with the most bids in
-- each 10-second window sliding every 2 seconds. Flink joins the HOP count
-- per auction with each window's maximum count; sluice ranks each window's
-- counts when the window closes: QUALIFY RANK() = 1 keeps every auction
-- tied at the maximum, as the join's `num >= maxn` does.
-- The sources follow the Nexmark DDL (ddl_gen.sql) with one file per kind;
-- bench/run.py replaces @NEXMARK@, @EXT@ and @FORMAT@.
CREATE SOURCE bid (
    auction  BIGINT NOT NULL,
    bidder   BIGINT,
    price    BIGINT,
    channel  TEXT,
    url      TEXT,
    dateTime TIMESTAMP,
    extra    TEXT,
    WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECONDS
) WITH (connector = 'file', path = '@NEXMARK@/bids.@EXT@', @FORMAT@);

CREATE MATERIALIZED VIEW q5 AS
SELECT auction, window_start, window_end, COUNT(*) AS num
FROM bid
WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS)
GROUP BY auction
QUALIFY RANK() OVER (PARTITION BY window_start, window_end ORDER BY COUNT(*) DESC) = 1
EMIT ON WINDOW CLOSE;
