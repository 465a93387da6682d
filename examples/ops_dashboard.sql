-- ops_dashboard.sql: the cancellation rate per store over the last 15
-- minutes, updated every 2 minutes (a hopping window), for an operations
-- dashboard that reads the SQLite table while sluice keeps it current.
--
-- Run it:   build/sluice ops.db -f examples/ops_dashboard.sql

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

CREATE TABLE IF NOT EXISTS stores (store_id TEXT PRIMARY KEY, region TEXT, city TEXT);
DELETE FROM stores;
COPY stores FROM 'examples/data/stores.csv' WITH (format = 'csv', header = true);

-- EMIT CHANGES: every open window's current value is upserted at each
-- commit, so the dashboard sees the last 15 minutes as they fill.
CREATE MATERIALIZED VIEW IF NOT EXISTS cancellation_rate AS
SELECT store_id, window_start, window_end,
       COUNT(*) AS orders,
       SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,
       ROUND(100.0 * SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END)
             / COUNT(*), 1) AS cancel_pct
FROM orders
WINDOW HOPPING (SIZE 15 MINUTES, ADVANCE BY 2 MINUTES)
GROUP BY store_id
EMIT CHANGES;

-- A plain view for the dashboard: windows with at least 20 orders where
-- more than 10 % were cancelled, with the store's region.
CREATE VIEW IF NOT EXISTS alerts AS
SELECT c.store_id, s.region, c.window_start, c.window_end, c.orders, c.cancel_pct
FROM cancellation_rate c JOIN stores s ON s.store_id = c.store_id
WHERE c.cancel_pct > 10 AND c.orders >= 20;

SELECT store_id, region, COUNT(*) AS windows_alerting, MAX(cancel_pct) AS worst_pct
FROM alerts GROUP BY store_id, region ORDER BY windows_alerting DESC LIMIT 5;
