-- B3: hopping windows of 10 minutes advancing by 1 minute per store: SUM.
-- The orders source; run.py replaces @ORDERS@ and @FORMAT@ (csv: header = true).
CREATE SOURCE orders (
    order_id   BIGINT,
    store_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    amount     DOUBLE,
    event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '5' SECONDS
) WITH (connector = 'file', path = '@ORDERS@', @FORMAT@);

CREATE MATERIALIZED VIEW b3 AS
SELECT store_id, window_start, window_end, SUM(amount) AS s
FROM orders
WINDOW HOPPING (SIZE 10 MINUTES, ADVANCE BY 1 MINUTE)
GROUP BY store_id
EMIT ON WINDOW CLOSE;
