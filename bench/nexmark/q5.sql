-- Nexmark q5: hot items (flink/q5.sql). The continuous part is the HOP
-- count per auction (10 s windows every 2 s); the join of each window's
-- counts with the window's maximum is a subquery join sluice's continuous
-- queries cannot express yet, so it is a plain SQLite view over the
-- materialised counts, computed when it is read.
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

CREATE MATERIALIZED VIEW q5_counts AS
SELECT auction, window_start, window_end, COUNT(*) AS num
FROM bid
WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS)
GROUP BY auction
EMIT ON WINDOW CLOSE;

CREATE VIEW q5 AS
SELECT c.auction, c.num
FROM q5_counts c
JOIN (SELECT window_start, window_end, MAX(num) AS maxn
      FROM q5_counts GROUP BY window_start, window_end) m
  ON c.window_start = m.window_start AND c.window_end = m.window_end
 AND c.num >= m.maxn;
