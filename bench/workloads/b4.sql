-- B4: session windows with a 30-second gap per user: COUNT.
-- The orders source; run.py replaces @ORDERS@ and @FORMAT@ (csv: header = true).
CREATE SOURCE orders (
    order_id   BIGINT,
    store_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    amount     DOUBLE,
    event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '5' SECONDS
) WITH (connector = 'file', path = '@ORDERS@', @FORMAT@);

CREATE MATERIALIZED VIEW b4 AS
SELECT user_id, window_start, window_end, COUNT(*) AS n
FROM orders
WINDOW SESSION (GAP 30 SECONDS)
GROUP BY user_id
EMIT ON WINDOW CLOSE;
