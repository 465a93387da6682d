CREATE MATERIALIZED VIEW IF NOT EXISTS revenue AS
SELECT store_id, window_start, window_end,
       COUNT(*) AS orders, SUM(amount) AS revenue, MAX(amount) AS biggest
FROM orders
WINDOW TUMBLING (SIZE 1 MINUTE)
GROUP BY store_id
EMIT ON WINDOW CLOSE;
