-- deliveries.sql: a window join of two sources. Orders and their
-- deliveries arrive as two streams; for each store and hour, how many of
-- the hour's orders were also delivered within that hour, and how long
-- those took. LEFT JOIN keeps the orders whose delivery has not come in the
-- same hour (COUNT(d.order_id) does not count them).
--
-- Run it:   build/sluice deliveries.db -f examples/deliveries.sql

CREATE SOURCE IF NOT EXISTS orders (
    order_id   BIGINT,
    store_id   TEXT,
    user_id    TEXT,
    amount     DOUBLE,
    status     TEXT,
    event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '10' SECONDS
) WITH (connector = 'file', path = 'examples/data/orders.csv',
        format = 'csv', header = true);

CREATE SOURCE IF NOT EXISTS deliveries (
    order_id     BIGINT,
    courier      TEXT,
    delivered_at TIMESTAMP,
    WATERMARK FOR delivered_at AS delivered_at - INTERVAL '30' SECONDS
) WITH (connector = 'file', path = 'examples/data/deliveries.csv',
        format = 'csv', header = true);

-- Each order pairs with its delivery when both fall in the same hour; the
-- hour's row is written when both sources' watermarks have passed its end.
CREATE MATERIALIZED VIEW IF NOT EXISTS same_hour_deliveries AS
SELECT o.store_id, window_start,
       COUNT(*) AS orders,
       COUNT(d.order_id) AS delivered,
       ROUND(AVG(EXTRACT(EPOCH FROM d.delivered_at)
                 - EXTRACT(EPOCH FROM o.event_time)) / 60, 1) AS avg_minutes
FROM orders o LEFT JOIN deliveries d ON o.order_id = d.order_id
WHERE o.status = 'placed'
WINDOW TUMBLING (SIZE 1 HOUR)
GROUP BY o.store_id
EMIT ON WINDOW CLOSE;

SELECT store_id, window_start, orders, delivered, avg_minutes
FROM same_hour_deliveries
WHERE store_id IN ('store-01', 'store-02')
ORDER BY store_id, window_start;
