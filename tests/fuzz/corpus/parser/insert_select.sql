INSERT INTO archive SELECT * FROM stores WHERE region <> 'south';
