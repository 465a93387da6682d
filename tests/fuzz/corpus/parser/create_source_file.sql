CREATE SOURCE orders (
    order_id   BIGINT,
    store_id   TEXT,
    amount     DOUBLE,
    event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '10' SECOND
) WITH (connector = 'file', path = 'data/orders*.csv', format = 'csv',
        header = true, follow = false);
