-- B1: filter + project into an append-only streaming table.
-- The orders source; run.py replaces @ORDERS@ and @FORMAT@ (csv: header = true).
CREATE SOURCE orders (
    order_id   BIGINT,
    store_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    amount     DOUBLE,
    event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '5' SECONDS
) WITH (connector = 'file', path = '@ORDERS@', @FORMAT@);

CREATE STREAMING TABLE b1 AS
SELECT order_id, store_id, user_id, amount * 1.1 AS gross, event_time
FROM orders
WHERE amount > 250;
