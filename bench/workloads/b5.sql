-- B5: COUNT(DISTINCT user_id) per 1-minute tumbling window.
-- The orders source; run.py replaces @ORDERS@ and @FORMAT@ (csv: header = true).
CREATE SOURCE orders (
    order_id   BIGINT,
    store_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    amount     DOUBLE,
    event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '5' SECONDS
) WITH (connector = 'file', path = '@ORDERS@', @FORMAT@);

CREATE MATERIALIZED VIEW b5 AS
SELECT window_start, window_end, COUNT(DISTINCT user_id) AS users
FROM orders
WINDOW TUMBLING (SIZE 1 MINUTE)
GROUP BY window_start
EMIT ON WINDOW CLOSE;
