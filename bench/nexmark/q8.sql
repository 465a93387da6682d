-- Nexmark q8: monitor new users (flink/q8.sql). sluice joins a stream only
-- with a table, not two streams, so the window join is split: the two
-- windowed GROUP BYs run continuously, one per source, and the equi-join of
-- their results on (id = seller, window) is a SQLite view, computed when it
-- is read. Both sides are exactly the subqueries P and A of the Flink query.
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

CREATE MATERIALIZED VIEW q8_p AS
SELECT id, name, window_start, window_end
FROM person
WINDOW TUMBLING (SIZE 10 SECONDS)
GROUP BY id, name
EMIT ON WINDOW CLOSE;

CREATE MATERIALIZED VIEW q8_a AS
SELECT seller, window_start, window_end
FROM auction
WINDOW TUMBLING (SIZE 10 SECONDS)
GROUP BY seller
EMIT ON WINDOW CLOSE;

CREATE VIEW q8 AS
SELECT p.id, p.name, p.window_start AS starttime
FROM q8_p p JOIN q8_a a
  ON p.id = a.seller AND p.window_start = a.window_start AND p.window_end = a.window_end;
