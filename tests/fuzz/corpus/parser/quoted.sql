SELECT "my col", "a""b", 'it''s' AS "x y" FROM "odd table";
