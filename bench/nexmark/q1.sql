-- Nexmark q1: currency conversion (flink/q1.sql).
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

CREATE STREAMING TABLE q1 AS
SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid;
