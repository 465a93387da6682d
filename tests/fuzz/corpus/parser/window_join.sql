CREATE MATERIALIZED VIEW new_sellers AS
SELECT p.id, p.name, window_start, COUNT(*) AS auctions
FROM person p JOIN auction a ON p.id = a.seller AND p.state = a.category
WHERE a.reserve > 10
WINDOW TUMBLING (SIZE 10 SECONDS)
GROUP BY p.id, p.name
EMIT ON WINDOW CLOSE;
SELECT a.*, p.name FROM person AS p INNER JOIN auction AS a ON a.seller = p.id WINDOW TUMBLING (SIZE 1 MINUTE) LIMIT 5;
