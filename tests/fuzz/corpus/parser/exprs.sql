SELECT a + b * c - d / e % f, -x, +y, NOT a = b AND c OR d, a || 'x' || b, x BETWEEN 1 AND 2, x NOT IN (1, 2, 3), s LIKE 'a%', s NOT LIKE '_', z IS NULL, z IS NOT NULL FROM t;
