SELECT window, key, size, value, timestamp, source, sink, emit, watermark, tables FROM t WHERE key = 1;
