-- quickstart.sql: hourly revenue per store, from a CSV of orders.
--
-- Run it:   build/sluice quickstart.db -f examples/quickstart.sql
-- Then read the result with any SQLite tool, while sluice runs or after:
--           sqlite3 quickstart.db 'SELECT * FROM hourly_revenue LIMIT 5'

-- 1. Declare the source: columns, event time and how late events may be.
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

-- 2. A continuous query, materialised as a table. Each hour's row appears
--    once, when the watermark passes the end of the hour.
CREATE MATERIALIZED VIEW IF NOT EXISTS hourly_revenue AS
SELECT store_id, window_start, window_end,
       COUNT(*) AS orders, ROUND(SUM(amount), 2) AS revenue,
       MAX(amount) AS biggest
FROM orders
WHERE status = 'placed'
WINDOW TUMBLING (SIZE 1 HOUR)
GROUP BY store_id
EMIT ON WINDOW CLOSE;

-- 3. Read it back: a pull query, answered by SQLite.
SELECT store_id, SUM(orders) AS orders, ROUND(SUM(revenue), 2) AS revenue
FROM hourly_revenue GROUP BY store_id ORDER BY revenue DESC LIMIT 5;

-- 4. A window Top-N: the three stores with the most revenue each hour.
--    QUALIFY ranks each hour's groups when the hour closes.
CREATE MATERIALIZED VIEW IF NOT EXISTS top_stores AS
SELECT store_id, window_start, ROUND(SUM(amount), 2) AS revenue,
       RANK() OVER (PARTITION BY window_start ORDER BY SUM(amount) DESC) AS place
FROM orders
WHERE status = 'placed'
WINDOW TUMBLING (SIZE 1 HOUR)
GROUP BY store_id
QUALIFY RANK() OVER (PARTITION BY window_start ORDER BY SUM(amount) DESC) <= 3
EMIT ON WINDOW CLOSE;

SELECT strftime('%H:%M', window_start) AS hour, place, store_id, revenue
FROM top_stores ORDER BY window_start, place LIMIT 6;

-- Late events and malformed records are kept, never dropped silently
-- (each query records the ones it met).
SELECT name AS query,
       (SELECT COUNT(*) FROM sluice_late_events l WHERE l.query = c.name) AS late_events,
       (SELECT COUNT(*) FROM sluice_dead_letters d WHERE d.query = c.name) AS dead_letters
FROM sluice_catalog c WHERE kind = 'materialized view';
