CREATE VIEW big_orders AS SELECT * FROM revenue WHERE revenue > 1000;
