SELECT o.*, s.region FROM orders o JOIN stores AS s ON o.store_id = s.store_id LEFT OUTER JOIN x ON x.id = o.id INNER JOIN y ON y.a = x.a;
