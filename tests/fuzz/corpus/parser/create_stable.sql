CREATE OR REPLACE STREAMING TABLE clean_orders AS SELECT order_id, store_id, amount * 1.1 AS gross, event_time FROM orders WHERE amount > 0;
