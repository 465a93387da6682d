INSERT INTO stores (store_id, region) VALUES ('store-0001', 'north'), ('s2', NULL);
