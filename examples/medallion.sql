-- medallion.sql: a bronze -> silver -> gold pipeline over the bundled orders,
-- the lecture notes' retail example, as one file that runs exactly once.
--
-- Run it:   build/sluice shop.db -f examples/medallion.sql
-- Then:     sqlite3 shop.db 'SELECT * FROM gold_store_minute LIMIT 5'
--
-- Each stage reads the one before it (a query over a streaming table: read
-- from its first row, then what is appended; its position commits with its
-- own results, so the chain is exactly-once as a whole; docs/dialect.md).
-- Not yet: a roll-up of the per-minute materialised view itself (reading a
-- materialised view is issue 15's next stage), so the hourly top stores
-- read silver.

CREATE SOURCE IF NOT EXISTS orders (
    order_id   BIGINT,
    store_id   TEXT,
    user_id    TEXT,
    amount     DOUBLE,
    status     TEXT,
    event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '5' MINUTES
) WITH (connector = 'file', path = 'examples/data/orders.csv',
        format = 'csv', header = true);

-- Bronze: every order as it arrived (records that cannot be decoded are in
-- sluice_dead_letters with file:line and the reason).
CREATE STREAMING TABLE IF NOT EXISTS bronze_orders AS
SELECT order_id, store_id, user_id, amount, status, event_time
FROM orders;

-- Silver: valid orders, each order once (the first by event time; a
-- replayed order arriving within the day is dropped and counted in
-- sluice_metrics as dedup_dropped). An order that arrives when the
-- watermark has passed its time (more than 5 minutes behind the latest)
-- is late: it goes to sluice_late_events, not to silver.
CREATE STREAMING TABLE IF NOT EXISTS silver_orders AS
SELECT order_id, store_id, user_id, amount, status, event_time
FROM bronze_orders
WHERE amount > 0 AND store_id IS NOT NULL
QUALIFY ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY event_time) = 1;

-- Gold: per store and minute, for dashboards.
CREATE MATERIALIZED VIEW IF NOT EXISTS gold_store_minute AS
SELECT store_id, window_start, window_end,
       COUNT(*) AS orders, ROUND(SUM(amount), 2) AS revenue
FROM silver_orders
WHERE status = 'placed'
WINDOW TUMBLING (SIZE 1 MINUTE)
GROUP BY store_id
EMIT ON WINDOW CLOSE;

-- Gold: each hour's three best stores.
CREATE MATERIALIZED VIEW IF NOT EXISTS gold_top_stores AS
SELECT store_id, window_start, COUNT(*) AS orders,
       ROUND(SUM(amount), 2) AS revenue
FROM silver_orders
WHERE status = 'placed'
WINDOW TUMBLING (SIZE 1 HOUR)
GROUP BY store_id
QUALIFY ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY SUM(amount) DESC) <= 3
EMIT ON WINDOW CLOSE;

SELECT window_start, store_id, orders, revenue
FROM gold_top_stores ORDER BY window_start, revenue DESC LIMIT 6;
