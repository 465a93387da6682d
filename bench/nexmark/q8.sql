-- Nexmark q8: monitor new users (flink/q8.sql): the people who opened an
-- auction in the 10-second window they registered in. Flink joins two
-- windowed GROUP BYs (person per id, name; auction per seller); here one
-- continuous query: a window join of the two sources on id = seller, then
-- one row per person and window (the same rows: a person is in Flink's
-- result for a window exactly when some pair exists for it).
-- The sources follow the Nexmark DDL (ddl_gen.sql) with one file per kind;
-- bench/run.py replaces @NEXMARK@, @EXT@ and @FORMAT@.
CREATE SOURCE person (
    id           BIGINT NOT NULL,
    name         TEXT NOT NULL,
    emailAddress TEXT,
    creditCard   TEXT,
    city         TEXT,
    state        TEXT,
    dateTime     TIMESTAMP,
    extra        TEXT,
    WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECONDS
) WITH (connector = 'file', path = '@NEXMARK@/persons.@EXT@', @FORMAT@);

CREATE SOURCE auction (
    id          BIGINT,
    itemName    TEXT,
    description TEXT,
    initialBid  BIGINT,
    reserve     BIGINT,
    dateTime    TIMESTAMP,
    expires     TIMESTAMP,
    seller      BIGINT NOT NULL,
    category    BIGINT,
    extra       TEXT,
    WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECONDS
) WITH (connector = 'file', path = '@NEXMARK@/auctions.@EXT@', @FORMAT@);

CREATE MATERIALIZED VIEW q8 AS
SELECT p.id, p.name, window_start AS starttime
FROM person p JOIN auction a ON p.id = a.seller
WINDOW TUMBLING (SIZE 10 SECONDS)
GROUP BY p.id, p.name
EMIT ON WINDOW CLOSE;
