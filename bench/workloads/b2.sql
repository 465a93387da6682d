-- B2: tumbling 1-minute windows per store: COUNT, SUM, AVG, MAX.
-- The orders source; run.py replaces @ORDERS@ and @FORMAT@ (csv: header = true).
CREATE SOURCE orders (
    order_id   BIGINT,
    store_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    amount     DOUBLE,
    event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '5' SECONDS
) WITH (connector = 'file', path = '@ORDERS@', @FORMAT@);

CREATE MATERIALIZED VIEW b2 AS
SELECT store_id, window_start, window_end,
       COUNT(*) AS n, SUM(amount) AS s, AVG(amount) AS a, MAX(amount) AS m
FROM orders
WINDOW TUMBLING (SIZE 1 MINUTE)
GROUP BY store_id
EMIT ON WINDOW CLOSE;
