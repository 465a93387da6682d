-- B6: join with the 1000-row stores table, then B2 per region.
-- The orders source; run.py replaces @ORDERS@ and @FORMAT@ (csv: header = true).
CREATE SOURCE orders (
    order_id   BIGINT,
    store_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    amount     DOUBLE,
    event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '5' SECONDS
) WITH (connector = 'file', path = '@ORDERS@', @FORMAT@);

CREATE TABLE stores (store_id TEXT PRIMARY KEY, region TEXT);
COPY stores FROM '@STORES@' WITH (format = 'csv', header = true);

CREATE MATERIALIZED VIEW b6 AS
SELECT s.region, window_start, window_end,
       COUNT(*) AS n, SUM(o.amount) AS s, AVG(o.amount) AS a, MAX(o.amount) AS m
FROM orders o JOIN stores s ON o.store_id = s.store_id
WINDOW TUMBLING (SIZE 1 MINUTE)
GROUP BY s.region
EMIT ON WINDOW CLOSE;
