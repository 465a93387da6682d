CREATE SOURCE s (a INT) WITH (kafka.acks = all, n = -5, r = 1.5, flag = false, Path = "P");
