CREATE TABLE stores (store_id TEXT PRIMARY KEY, region VARCHAR(20) NOT NULL, price DECIMAL(10,2), PRIMARY KEY (store_id));
