CREATE SOURCE payments (card_id TEXT, amount DOUBLE, ts TIMESTAMP,
  WATERMARK FOR ts AS ts - INTERVAL '5 seconds') WITH (
    connector = 'kafka', brokers = '127.0.0.1:9092', topic = 'payments.v1',
    format = 'json', group_id = 'sluice-payments', start = 'earliest',
    'kafka.security.protocol' = 'plaintext', until = 'end');
