/*
** test_parser.c: TAP unit tests of the parser (grammar/parse.y,
** grammar/parser.c) and the AST text forms (grammar/ast.c).
**
** Each statement is parsed with sl_parse_next and compared through
** sl_stmt_dump (the S-expression form described in docs/dialect.md):
** every example of DESIGN §2, every clause and expression form, operator
** precedence, QUALIFY and ranking window functions (OVER), non-reserved
** keywords used as names, node offsets, error
** messages with their offsets, the height bound on long operator chains,
** statement splitting, sl_statement_complete,
** sl_expr_to_sql round trips and sl_expr_dup.
*/
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "grammar/parser.h"

/* Parses the one statement in sql; returns it or NULL (printing the error). */
static sl_stmt *parse1(const char *sql)
{
    int pos = 0;
    sl_stmt *s = NULL;
    sl_error err;
    int rc = sl_parse_next(sql, (int)strlen(sql), &pos, &s, &err);
    if (rc != 1) {
        printf("#   parse failed (%d): %s at %d\n", rc, err.msg, err.offset);
        return NULL;
    }
    return s;
}

static void dump_is(const char *sql, const char *want, const char *name)
{
    sl_stmt *s = parse1(sql);
    char *d = s ? sl_stmt_dump(s) : NULL;
    is_str(d, want, name);
    free(d);
    sl_stmt_free(s);
}

/* The dump of `SELECT <expr> FROM t` must be (select (items <want>) (from t)). */
static void expr_is(const char *expr, const char *want, const char *name)
{
    char sql[1024], full[1024];
    snprintf(sql, sizeof sql, "SELECT %s FROM t", expr);
    snprintf(full, sizeof full, "(select (items %s) (from t))", want);
    dump_is(sql, full, name);
}

/* The canonical text got, put back at its place (prefix), parses to the
** same tree as s. */
static void parses_back(const sl_stmt *s, const char *prefix, const char *got)
{
    if (got == NULL)
        return;
    char again[1024];
    snprintf(again, sizeof again, "%s%s", prefix, got);
    sl_stmt *s2 = parse1(again);
    char *d1 = sl_stmt_dump(s), *d2 = s2 ? sl_stmt_dump(s2) : NULL;
    is_str(d2, d1, "  ... and parses back to the same tree");
    free(d1);
    free(d2);
    sl_stmt_free(s2);
}

/* sl_expr_to_sql of the first select item of `SELECT <expr>`. */
static void sql_is(const char *expr, const char *want, const char *name)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT %s", expr);
    sl_stmt *s = parse1(sql);
    char *got = s ? sl_expr_to_sql(s->select->items[0].expr) : NULL;
    is_str(got, want, name);
    parses_back(s, "SELECT ", got);
    free(got);
    sl_stmt_free(s);
}

/* The error of the first statement of sql: message and offset (the offset
** of the first occurrence of `at` in sql, or the end when at is NULL). */
static void err_is(const char *sql, const char *msg, const char *at,
                   const char *name)
{
    int pos = 0;
    sl_stmt *s = NULL;
    sl_error err;
    int len = (int)strlen(sql);
    int rc = sl_parse_next(sql, len, &pos, &s, &err);
    int want_off = at ? (int)(strstr(sql, at) - sql) : len;
    ok(rc == -1 && s == NULL, "%s: fails", name);
    is_str(rc == -1 ? err.msg : NULL, msg, name);
    is_int(err.offset, want_off, "  ... at its offset");
    sl_stmt_free(s);
}

static void design_examples(void)
{
    dump_is("CREATE SOURCE orders (\n"
            "    order_id   BIGINT,\n"
            "    store_id   TEXT,\n"
            "    amount     DOUBLE,\n"
            "    event_time TIMESTAMP,\n"
            "    WATERMARK FOR event_time AS event_time - INTERVAL '10' SECOND\n"
            ") WITH (connector = 'file', path = 'data/orders*.csv', format = 'csv',\n"
            "        header = true, follow = false);",
            "(create-source orders (cols (order_id BIGINT) (store_id TEXT) "
            "(amount DOUBLE) (event_time TIMESTAMP)) (watermark event_time "
            "(- event_time (interval 10000))) (with (connector 'file') "
            "(path 'data/orders*.csv') (format 'csv') (header true) (follow false)))",
            "design: CREATE SOURCE orders (file)");
    dump_is("CREATE SOURCE payments (card_id TEXT, amount DOUBLE) WITH (\n"
            "    connector = 'kafka', brokers = '127.0.0.1:9092', topic = 'payments.v1',\n"
            "    format = 'json', group_id = 'sluice-payments', start = 'earliest');",
            "(create-source payments (cols (card_id TEXT) (amount DOUBLE)) "
            "(with (connector 'kafka') (brokers '127.0.0.1:9092') "
            "(topic 'payments.v1') (format 'json') (group_id 'sluice-payments') "
            "(start 'earliest')))",
            "design: CREATE SOURCE payments (kafka)");
    dump_is("CREATE TABLE stores (store_id TEXT PRIMARY KEY, region TEXT);   -- plain SQLite table",
            "(create-table stores (cols (store_id TEXT primary-key) (region TEXT)))",
            "design: CREATE TABLE stores");
    dump_is("COPY stores FROM 'stores.csv' WITH (format = 'csv', header = true);",
            "(copy stores 'stores.csv' (with (format 'csv') (header true)))",
            "design: COPY");
    dump_is("INSERT INTO stores VALUES ('store-0001', 'north');",
            "(insert stores (values ('store-0001' 'north')))",
            "design: INSERT VALUES");
    dump_is("CREATE VIEW big_orders AS SELECT * FROM revenue WHERE revenue > 1000; -- SQLite view",
            "(create-view big_orders (select (items *) (from revenue) "
            "(where (> revenue 1000))))",
            "design: CREATE VIEW");
    dump_is("CREATE MATERIALIZED VIEW revenue AS            -- incrementally maintained table\n"
            "SELECT store_id, window_start, window_end,\n"
            "       COUNT(*) AS orders, SUM(amount) AS revenue, MAX(amount) AS biggest\n"
            "FROM orders\n"
            "WINDOW TUMBLING (SIZE 1 MINUTE)\n"
            "GROUP BY store_id\n"
            "EMIT ON WINDOW CLOSE;",
            "(create-mview revenue (select (items store_id window_start window_end "
            "(as (call COUNT *) orders) (as (call SUM amount) revenue) "
            "(as (call MAX amount) biggest)) (from orders) (window tumbling 60000) "
            "(group-by store_id) (emit on-window-close)))",
            "design: CREATE MATERIALIZED VIEW");
    dump_is("CREATE STREAMING TABLE clean_orders AS        -- append-only table\n"
            "SELECT order_id, store_id, amount * 1.1 AS gross, event_time\n"
            "FROM orders WHERE amount > 0;",
            "(create-stable clean_orders (select (items order_id store_id "
            "(as (* amount 1.1) gross) event_time) (from orders) (where (> amount 0))))",
            "design: CREATE STREAMING TABLE");
    dump_is("CREATE SINK alerts AS\n"
            "SELECT card_id, COUNT(*) AS n FROM payments WINDOW TUMBLING (SIZE 1 MINUTE)"
            " GROUP BY card_id EMIT CHANGES\n"
            "WITH (connector = 'kafka', brokers = '...', topic = 'alerts', "
            "format = 'json', key = 'card_id');",
            "(create-sink alerts (select (items card_id (as (call COUNT *) n)) "
            "(from payments) (window tumbling 60000) (group-by card_id) "
            "(emit changes)) (with (connector 'kafka') (brokers '...') "
            "(topic 'alerts') (format 'json') (key 'card_id')))",
            "design: CREATE SINK");
    dump_is("SELECT * FROM orders WINDOW HOPPING (SIZE 10 MINUTES, ADVANCE BY 1 MINUTE) "
            "GROUP BY store_id",
            "(select (items *) (from orders) (window hopping 600000 60000) "
            "(group-by store_id))",
            "design: WINDOW HOPPING");
    dump_is("SELECT * FROM orders WINDOW SESSION (GAP 30 SECONDS) GROUP BY store_id",
            "(select (items *) (from orders) (window session 30000) (group-by store_id))",
            "design: WINDOW SESSION");
    dump_is("SELECT * FROM orders WATERMARK event_time DELAY 30 SECONDS",
            "(select (items *) (from orders) (watermark event_time 30000))",
            "design: WATERMARK override");
    dump_is("SELECT * FROM orders EMIT CHANGES EVERY 30 SECONDS",
            "(select (items *) (from orders) (emit changes 30000))",
            "design: EMIT CHANGES EVERY");
    dump_is("SELECT * FROM orders EMIT FINAL",
            "(select (items *) (from orders) (emit on-window-close))",
            "design: EMIT FINAL");
    dump_is("SELECT * FROM orders EMIT CHANGES LIMIT 10",
            "(select (items *) (from orders) (emit changes) (limit 10))",
            "design: push query with LIMIT");
}

static void statements(void)
{
    dump_is("CREATE OR REPLACE VIEW v AS SELECT a FROM t",
            "(create-view or-replace v (select (items a) (from t)))", "OR REPLACE");
    dump_is("CREATE MATERIALIZED VIEW IF NOT EXISTS m AS SELECT 1",
            "(create-mview if-not-exists m (select (items 1)))", "IF NOT EXISTS");
    dump_is("create streaming table if not exists s as select a from t",
            "(create-stable if-not-exists s (select (items a) (from t)))",
            "lower-case keywords");
    dump_is("CREATE TABLE t2 (a INT NOT NULL, b VARCHAR(20), c DECIMAL(10, 2), "
            "d FOO, PRIMARY KEY (a, b))",
            "(create-table t2 (cols (a INT not-null) (b VARCHAR) (c DECIMAL) (d FOO?)) "
            "(primary-key a b))",
            "CREATE TABLE: type arguments, NOT NULL, unknown type, table PRIMARY KEY");
    dump_is("CREATE SOURCE s (a INT NULL) WITH ('kafka.security.protocol' = 'SSL', "
            "kafka.acks = all, N = -5, r = 1.5, x = -2.5, header = false, Path = \"P\")",
            "(create-source s (cols (a INT)) (with (kafka.security.protocol 'SSL') "
            "(kafka.acks 'all') (n -5) (r 1.5) (x -2.5) (header false) (path 'P')))",
            "WITH: quoted keys, dotted keys, identifiers, numbers, booleans");
    dump_is("INSERT INTO t (a, b) VALUES (1, 'x'), (2, NULL)",
            "(insert t (cols a b) (values (1 'x') (2 NULL)))", "INSERT with columns");
    dump_is("INSERT INTO t SELECT * FROM u",
            "(insert t (select (items *) (from u)))", "INSERT SELECT");
    dump_is("COPY t FROM '/tmp/x.csv'", "(copy t '/tmp/x.csv')", "COPY without WITH");
    dump_is("SHOW SOURCES", "(show source)", "SHOW SOURCES");
    dump_is("SHOW TABLES", "(show table)", "SHOW TABLES");
    dump_is("SHOW VIEWS", "(show view)", "SHOW VIEWS");
    dump_is("SHOW MATERIALIZED VIEWS", "(show materialized-view)", "SHOW MATERIALIZED VIEWS");
    dump_is("SHOW STREAMING TABLES", "(show streaming-table)", "SHOW STREAMING TABLES");
    dump_is("SHOW QUERIES", "(show query)", "SHOW QUERIES");
    dump_is("SHOW SINKS", "(show sink)", "SHOW SINKS");
    dump_is("DESCRIBE orders", "(describe orders)", "DESCRIBE");
    dump_is("EXPLAIN SELECT a FROM t", "(explain (select (items a) (from t)))",
            "EXPLAIN SELECT");
    dump_is("EXPLAIN CREATE MATERIALIZED VIEW m AS SELECT a, count(*) FROM t GROUP BY a",
            "(explain (create-mview m (select (items a (call count *)) (from t) "
            "(group-by a))))", "EXPLAIN CREATE");
    dump_is("DROP SOURCE orders", "(drop source orders)", "DROP SOURCE");
    dump_is("DROP TABLE IF EXISTS t", "(drop table if-exists t)", "DROP TABLE IF EXISTS");
    dump_is("DROP VIEW v", "(drop view v)", "DROP VIEW");
    dump_is("DROP MATERIALIZED VIEW m", "(drop materialized-view m)", "DROP MATERIALIZED VIEW");
    dump_is("DROP STREAMING TABLE s", "(drop streaming-table s)", "DROP STREAMING TABLE");
    dump_is("DROP SINK k", "(drop sink k)", "DROP SINK");
    dump_is("SELECT 1", "(select (items 1))", "SELECT without FROM");
}

static void clauses(void)
{
    dump_is("SELECT a FROM t JOIN u ON t.id = u.id INNER JOIN v x ON x.id = t.id "
            "LEFT JOIN w AS y ON y.id = t.id LEFT OUTER JOIN z ON z.k = t.k",
            "(select (items a) (from t) (inner-join u (= t.id u.id)) "
            "(inner-join v x (= x.id t.id)) (left-join w y (= y.id t.id)) "
            "(left-join z (= z.k t.k)))", "joins");
    dump_is("SELECT DISTINCT t.*, a b, c AS \"D e\" FROM t AS tt",
            "(select distinct (items t.* (as a b) (as c \"D e\")) (from t tt))",
            "DISTINCT, qualified star, aliases, table alias");
    dump_is("SELECT a FROM t w WHERE x > 1 WINDOW HOPPING (SIZE 10 SECONDS, "
            "ADVANCE BY 500 MILLISECONDS) WATERMARK ts DELAY 2 MINUTES GROUP BY a, b "
            "HAVING count(*) > 1 EMIT CHANGES EVERY 2 HOURS ORDER BY a DESC, b ASC, c "
            "LIMIT 10",
            "(select (items a) (from t w) (where (> x 1)) (window hopping 10000 500) "
            "(watermark ts 120000) (group-by a b) (having (> (call count *) 1)) "
            "(emit changes 7200000) (order-by (desc a) b c) (limit 10))",
            "every clause in order");
    dump_is("SELECT a FROM t WINDOW TUMBLING (SIZE INTERVAL '5 minutes')",
            "(select (items a) (from t) (window tumbling 300000))",
            "window size as INTERVAL 'text'");
    dump_is("SELECT a FROM t WINDOW TUMBLING (SIZE INTERVAL '5' MINUTE)",
            "(select (items a) (from t) (window tumbling 300000))",
            "window size as INTERVAL 'n' unit");
    dump_is("SELECT a FROM t WINDOW SESSION (GAP 1.5 SECONDS)",
            "(select (items a) (from t) (window session 1500))",
            "fractional bare interval");
    dump_is("SELECT a FROM t WINDOW TUMBLING (SIZE 1 DAY) WATERMARK ts DELAY 0 SECONDS",
            "(select (items a) (from t) (window tumbling 86400000) (watermark ts 0))",
            "DAY and zero delay");
    dump_is("SELECT a FROM t WINDOW TUMBLING (SIZE 2 WEEKS) EMIT ON WINDOW CLOSE",
            "(select (items a) (from t) (window tumbling 1209600000) (emit on-window-close))",
            "WEEKS");
    dump_is("SELECT a FROM t WINDOW TUMBLING (SIZE 1 HOUR)",
            "(select (items a) (from t) (window tumbling 3600000))", "HOUR");
    dump_is("SELECT a FROM t WINDOW TUMBLING (SIZE 1 MILLISECOND)",
            "(select (items a) (from t) (window tumbling 1))", "MILLISECOND");
}

/* QUALIFY (after HAVING, before EMIT) and the ranking window functions
** name() OVER ([PARTITION BY list] ORDER BY e [ASC|DESC]): SL_EX_OVER with
** args[0] the ORDER BY expression and args[1..] the PARTITION BY ones. */
static void qualify_over(void)
{
    dump_is("SELECT a FROM s WINDOW TUMBLING (SIZE 10 SECONDS) QUALIFY RANK() OVER "
            "(PARTITION BY k ORDER BY v DESC) <= 3 EMIT ON WINDOW CLOSE",
            "(select (items a) (from s) (window tumbling 10000) (qualify (<= (over RANK "
            "(order-desc v) (partition k)) 3)) (emit on-window-close))",
            "QUALIFY RANK() with PARTITION BY and DESC between WINDOW and EMIT");
    dump_is("SELECT a FROM s WINDOW TUMBLING (SIZE 1 MINUTE) QUALIFY ROW_NUMBER() OVER "
            "(ORDER BY ts) = 1 EMIT FINAL",
            "(select (items a) (from s) (window tumbling 60000) (qualify (= (over "
            "ROW_NUMBER (order ts)) 1)) (emit on-window-close))",
            "QUALIFY ROW_NUMBER() without PARTITION BY, default order");
    dump_is("SELECT k, count(*) AS n FROM s WINDOW HOPPING (SIZE 10 MINUTES, ADVANCE BY "
            "1 MINUTE) WATERMARK ts DELAY 5 SECONDS GROUP BY k HAVING count(*) > 1 "
            "QUALIFY DENSE_RANK() OVER (PARTITION BY window_start, k ORDER BY count(*) ASC) "
            "< 2 EMIT ON WINDOW CLOSE ORDER BY k DESC LIMIT 5",
            "(select (items k (as (call count *) n)) (from s) (window hopping 600000 60000) "
            "(watermark ts 5000) (group-by k) (having (> (call count *) 1)) (qualify (< "
            "(over DENSE_RANK (order (call count *)) (partition window_start k)) 2)) "
            "(emit on-window-close) (order-by (desc k)) (limit 5))",
            "QUALIFY DENSE_RANK() with ASC among every clause, in order");
    dump_is("SELECT a FROM s WINDOW SESSION (GAP 30 SECONDS) GROUP BY a QUALIFY "
            "rank() OVER (ORDER BY sum(x) DESC) <= 10 EMIT CHANGES EVERY 1 MINUTE",
            "(select (items a) (from s) (window session 30000) (group-by a) (qualify (<= "
            "(over rank (order-desc (call sum x))) 10)) (emit changes 60000))",
            "QUALIFY rank() without PARTITION BY, DESC, session window, EMIT CHANGES");
    dump_is("select a from s qualify row_number() over (partition by a + 1, lower(b) "
            "order by v asc) = 1",
            "(select (items a) (from s) (qualify (= (over row_number (order v) "
            "(partition (+ a 1) (call lower b))) 1)))",
            "lower-case QUALIFY/OVER/PARTITION, expressions in PARTITION BY");
    dump_is("SELECT a FROM s QUALIFY RANK() OVER (ORDER BY v) <= 3 AND k <> 'x'",
            "(select (items a) (from s) (qualify (and (<= (over RANK (order v)) 3) "
            "(<> k 'x'))))",
            "QUALIFY condition with AND");
    dump_is("SELECT a FROM t x WHERE b > 0 QUALIFY x.a > 1",
            "(select (items a) (from t x) (where (> b 0)) (qualify (> x.a 1)))",
            "QUALIFY without a window function, after a table alias");
    dump_is("CREATE MATERIALIZED VIEW top3 AS SELECT k, v FROM s WINDOW TUMBLING "
            "(SIZE 1 MINUTE) QUALIFY ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) "
            "<= 3 EMIT ON WINDOW CLOSE",
            "(create-mview top3 (select (items k v) (from s) (window tumbling 60000) "
            "(qualify (<= (over ROW_NUMBER (order-desc v) (partition k)) 3)) "
            "(emit on-window-close)))",
            "QUALIFY in CREATE MATERIALIZED VIEW");
    dump_is("SELECT k, RANK() OVER (PARTITION BY k ORDER BY v DESC) AS r, "
            "DENSE_RANK() OVER (ORDER BY v) dr FROM s",
            "(select (items k (as (over RANK (order-desc v) (partition k)) r) "
            "(as (over DENSE_RANK (order v)) dr)) (from s))",
            "OVER expressions as select items with aliases");
    expr_is("RANK() OVER (ORDER BY a) + 1", "(+ (over RANK (order a)) 1)",
            "OVER expression is an operand");
    expr_is("(ROW_NUMBER() OVER (PARTITION BY a, b, c ORDER BY (d)))",
            "(over ROW_NUMBER (order d) (partition a b c))",
            "parenthesised OVER, three PARTITION BY expressions");
    expr_is("\"RANK\"() OVER (ORDER BY a)", "(over RANK (order a))",
            "quoted function name before OVER");

    /* the QUALIFY condition printed by sl_expr_to_sql parses back the same */
    const char *q = "SELECT a FROM s QUALIFY DENSE_RANK() OVER (PARTITION BY k, "
                    "\"my col\" ORDER BY v * 2 DESC) <= 3 OR a IS NULL";
    sl_stmt *s = parse1(q);
    char *sql = s ? sl_expr_to_sql(s->select->qualify) : NULL;
    is_str(sql, "(DENSE_RANK() OVER (PARTITION BY k, \"my col\" ORDER BY v * 2 DESC) "
                "<= 3) OR (a IS NULL)", "to_sql of a QUALIFY condition");
    parses_back(s, "SELECT a FROM s QUALIFY ", sql);
    free(sql);
    sl_stmt_free(s);
}

static void expressions(void)
{
    /* precedence: OR < AND < NOT < comparison < || < +,- < *,/,% < unary */
    expr_is("1 + 2 * 3 - 4 / 2 % 3", "(- (+ 1 (* 2 3)) (% (/ 4 2) 3))", "arithmetic precedence");
    expr_is("(1 + 2) * 3", "(* (+ 1 2) 3)", "parentheses");
    expr_is("a = 1 OR b = 2 AND NOT c", "(or (= a 1) (and (= b 2) (not c)))", "OR < AND < NOT");
    expr_is("NOT a = b", "(not (= a b))", "NOT below comparison");
    expr_is("a || b = c", "(= (|| a b) c)", "|| above comparison");
    expr_is("a + b || c", "(|| (+ a b) c)", "+ above ||");
    expr_is("a < b = c", "(= (< a b) c)", "comparisons are left-associative");
    expr_is("a - b - c", "(- (- a b) c)", "- is left-associative");
    expr_is("-a * b", "(* (neg a) b)", "unary minus binds tightest");
    expr_is("- - 1", "1", "negated literal folds");
    expr_is("-2.5", "-2.5", "negative decimal literal");
    expr_is("+a", "(pos a)", "unary plus");
    expr_is("a <> b AND a != c AND a <= b AND a >= b AND a < b AND a > b",
            "(and (and (and (and (and (<> a b) (<> a c)) (<= a b)) (>= a b)) (< a b)) (> a b))",
            "comparison operators");
    expr_is("x BETWEEN 1 AND 2 AND y", "(and (between x 1 2) y)", "BETWEEN ... AND binds first");
    expr_is("x NOT BETWEEN a + 1 AND b", "(not-between x (+ a 1) b)", "NOT BETWEEN");
    expr_is("a IN (1, 2) OR a NOT IN ('x')", "(or (in a 1 2) (not-in a 'x'))", "IN and NOT IN");
    expr_is("b LIKE 'x%' AND b NOT LIKE '_'", "(and (like b 'x%') (not-like b '_'))", "LIKE");
    expr_is("c IS NULL OR c IS NOT NULL", "(or (is-null c) (is-not-null c))", "IS [NOT] NULL");
    expr_is("a + 1 IS NULL", "(is-null (+ a 1))", "IS NULL below +");
    expr_is("CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END",
            "(case (when a 1) (when b 2) (else 3))", "searched CASE");
    expr_is("CASE x WHEN 1 THEN 'a' END", "(case x (when 1 'a'))", "simple CASE");
    expr_is("CAST(x AS int)", "(cast x BIGINT)", "CAST to alias type");
    expr_is("CAST(x AS TIMESTAMP)", "(cast x TIMESTAMP)", "CAST to TIMESTAMP");
    expr_is("CAST(x AS VARCHAR(10))", "(cast x TEXT)", "CAST with type argument");
    expr_is("EXTRACT(hour FROM ts)", "(call extract 'HOUR' ts)", "EXTRACT");
    expr_is("EXTRACT(year FROM ts)", "(call extract 'YEAR' ts)", "EXTRACT(year ...)");
    expr_is("count(*)", "(call count *)", "COUNT(*)");
    expr_is("COUNT(DISTINCT x)", "(call COUNT distinct x)", "COUNT(DISTINCT x)");
    expr_is("now()", "(call now)", "call without arguments");
    expr_is("coalesce(a, b, 0)", "(call coalesce a b 0)", "call with arguments");
    expr_is("replace(a, 'x', 'y')", "(call replace a 'x' 'y')", "call named by a keyword");
    expr_is("TIMESTAMP '2026-03-17 23:58:00'", "(timestamp '2026-03-17 23:58:00')",
            "TIMESTAMP literal");
    expr_is("TRUE, FALSE, NULL", "TRUE FALSE NULL", "boolean and NULL literals");
    expr_is("'it''s'", "'it''s'", "string with escaped quote");
    expr_is("\"a\"\"b\"", "\"a\"\"b\"", "quoted identifier with escaped quote");
    expr_is("9223372036854775807", "9223372036854775807", "largest BIGINT");
    expr_is("9223372036854775808", "9.2233720368547758e+18", "too big for BIGINT: DOUBLE");
    expr_is("1.5e3, .5", "1500.0 0.5", "decimal literals");
    expr_is("t.a", "t.a", "qualified column");
    expr_is("INTERVAL '10' SECOND", "(interval 10000)", "INTERVAL 'n' SECOND");
    expr_is("INTERVAL '1.5' SECONDS", "(interval 1500)", "INTERVAL '1.5' SECONDS");
    expr_is("INTERVAL '5 minutes'", "(interval 300000)", "INTERVAL '5 minutes'");
    expr_is("INTERVAL '1 hour 30 minutes'", "(interval 5400000)", "INTERVAL with two parts");
    expr_is("INTERVAL '2' DAYS", "(interval 172800000)", "INTERVAL DAYS");
    expr_is("INTERVAL '500 ms'", "(interval 500)", "INTERVAL ms abbreviation");
    expr_is("ts - INTERVAL '10' SECOND", "(- ts (interval 10000))", "timestamp arithmetic");
    expr_is("-INTERVAL '1' MINUTE", "(interval -60000)", "negated interval");
}

static void non_reserved(void)
{
    dump_is("SELECT window, key, size, value, timestamp FROM t",
            "(select (items \"window\" \"key\" \"size\" value \"timestamp\") (from t))",
            "keywords as column names");
    dump_is("SELECT source, sink, emit, watermark, tables, interval, delay, gap FROM t",
            "(select (items \"source\" \"sink\" \"emit\" \"watermark\" \"tables\" "
            "\"interval\" \"delay\" \"gap\") (from t))",
            "more keywords as column names");
    dump_is("select window from t window tumbling (size 1 day)",
            "(select (items \"window\") (from t) (window tumbling 86400000))",
            "column named window next to a WINDOW clause");
    dump_is("SELECT count(*) FROM t WHERE key = 1 AND size > 2 GROUP BY key, source "
            "HAVING value > 1 ORDER BY tables",
            "(select (items (call count *)) (from t) (where (and (= \"key\" 1) "
            "(> \"size\" 2))) (group-by \"key\" \"source\") (having (> value 1)) "
            "(order-by \"tables\"))",
            "keywords as names in every clause");
    dump_is("SELECT a window, b desc, c AS emit FROM t",
            "(select (items (as a \"window\") (as b \"desc\") (as c \"emit\")) (from t))",
            "keywords as aliases");
    dump_is("CREATE SOURCE key (window BIGINT, watermark TEXT, size INT, "
            "timestamp TIMESTAMP, WATERMARK FOR timestamp AS timestamp)",
            "(create-source \"key\" (cols (\"window\" BIGINT) (\"watermark\" TEXT) "
            "(\"size\" INT) (\"timestamp\" TIMESTAMP)) (watermark \"timestamp\" "
            "\"timestamp\"))",
            "keywords as object and column names in a definition");
    dump_is("SELECT s.key FROM sources s JOIN tables AS v ON s.key = v.key",
            "(select (items s.\"key\") (from \"sources\" s) (inner-join \"tables\" v "
            "(= s.\"key\" v.\"key\")))",
            "keywords as table names and qualified columns");
    dump_is("SELECT over, partition, qualify FROM t",
            "(select (items \"over\" \"partition\" \"qualify\") (from t))",
            "OVER, PARTITION, QUALIFY as column names");
    dump_is("SELECT a over, b partition, c qualify, d AS over, now() AS qualify, "
            "count(*) over, f(x) partition FROM t",
            "(select (items (as a \"over\") (as b \"partition\") (as c \"qualify\") "
            "(as d \"over\") (as (call now) \"qualify\") (as (call count *) \"over\") "
            "(as (call f x) \"partition\")) (from t))",
            "OVER, PARTITION, QUALIFY as aliases");
    dump_is("SELECT RANK() OVER (ORDER BY a) over FROM t",
            "(select (items (as (over RANK (order a)) \"over\")) (from t))",
            "alias named over after an OVER expression");
    dump_is("SELECT over FROM t WHERE partition = 1 GROUP BY over, partition "
            "HAVING qualify > 1 QUALIFY qualify > 2 ORDER BY over",
            "(select (items \"over\") (from t) (where (= \"partition\" 1)) "
            "(group-by \"over\" \"partition\") (having (> \"qualify\" 1)) "
            "(qualify (> \"qualify\" 2)) (order-by \"over\"))",
            "OVER, PARTITION, QUALIFY as names in every clause, next to QUALIFY");
    dump_is("SELECT partition() OVER (PARTITION BY partition ORDER BY over DESC) "
            "qualify FROM t QUALIFY qualify",
            "(select (items (as (over partition (order-desc \"over\") "
            "(partition \"partition\")) \"qualify\")) (from t) (qualify \"qualify\"))",
            "OVER, PARTITION, QUALIFY as names inside an OVER expression");
    dump_is("SELECT qualify(x), over(1), partition() FROM t",
            "(select (items (call qualify x) (call over 1) (call partition)) (from t))",
            "OVER, PARTITION, QUALIFY as function names");
    dump_is("SELECT q.over FROM qualify AS q JOIN partition p ON p.over = q.partition",
            "(select (items q.\"over\") (from \"qualify\" q) (inner-join \"partition\" p "
            "(= p.\"over\" q.\"partition\")))",
            "OVER, PARTITION, QUALIFY as table names and qualified columns");
    dump_is("SELECT a FROM t over", "(select (items a) (from t \"over\"))",
            "table alias named over (not a clause keyword)");
    dump_is("SELECT a FROM t AS qualify", "(select (items a) (from t \"qualify\"))",
            "table alias named qualify with AS");
    dump_is("SELECT 1 qualify", "(select (items (as 1 \"qualify\")))",
            "without FROM there is no QUALIFY clause: an alias");
    dump_is("CREATE SOURCE over (partition BIGINT, qualify TEXT)",
            "(create-source \"over\" (cols (\"partition\" BIGINT) (\"qualify\" TEXT)))",
            "OVER, PARTITION, QUALIFY as object and column names in a definition");
}

static void to_sql(void)
{
    sql_is("a+b*c", "a + (b * c)", "to_sql parenthesises operands");
    sql_is("(a+b)*c", "(a + b) * c", "to_sql keeps needed parentheses");
    sql_is("NOT a AND b", "(NOT a) AND b", "to_sql NOT");
    sql_is("-x - -1", "(-x) - (-1)", "to_sql negatives");
    sql_is("count(*)", "count(*)", "to_sql COUNT(*)");
    sql_is("COUNT(DISTINCT x)", "COUNT(DISTINCT x)", "to_sql COUNT(DISTINCT)");
    sql_is("CASE x WHEN 1 THEN 'a' ELSE 'b' END", "CASE x WHEN 1 THEN 'a' ELSE 'b' END",
           "to_sql CASE");
    sql_is("cast(x as int)", "CAST(x AS BIGINT)", "to_sql CAST");
    sql_is("x not between 1 and 2", "x NOT BETWEEN 1 AND 2", "to_sql BETWEEN");
    sql_is("x in (1, 2)", "x IN (1, 2)", "to_sql IN");
    sql_is("x not like 'a%'", "x NOT LIKE 'a%'", "to_sql LIKE");
    sql_is("x is not null", "x IS NOT NULL", "to_sql IS NOT NULL");
    sql_is("extract(day from ts)", "EXTRACT(DAY FROM ts)", "to_sql EXTRACT");
    sql_is("interval '90' second", "INTERVAL '90' SECOND", "to_sql interval");
    sql_is("interval '2 hours'", "INTERVAL '2' HOUR", "to_sql interval in hours");
    sql_is("timestamp '2026-01-01'", "TIMESTAMP '2026-01-01'", "to_sql timestamp");
    sql_is("'it''s' || \"my col\"", "'it''s' || \"my col\"", "to_sql quoting");
    sql_is("window + 1.5", "\"window\" + 1.5", "to_sql quotes keyword names");
    sql_is("2.0 * 0.1", "2.0 * 0.1", "to_sql keeps decimals decimal");
    sql_is("true or null", "TRUE OR NULL", "to_sql TRUE/NULL");
    sql_is("rank() over (partition by a, b order by c desc)",
           "rank() OVER (PARTITION BY a, b ORDER BY c DESC)", "to_sql OVER with PARTITION BY");
    sql_is("ROW_NUMBER() OVER (ORDER BY ts ASC)", "ROW_NUMBER() OVER (ORDER BY ts)",
           "to_sql OVER drops ASC");
    sql_is("DENSE_RANK() OVER (PARTITION BY k + 1 ORDER BY a + b) <= 3",
           "DENSE_RANK() OVER (PARTITION BY k + 1 ORDER BY a + b) <= 3",
           "to_sql OVER as an operand, expressions inside");
    sql_is("over() over (partition by partition order by qualify)",
           "over() OVER (PARTITION BY \"partition\" ORDER BY \"qualify\")",
           "to_sql OVER quotes keyword names");
}

static void offsets(void)
{
    const char *text = "  -- lead\n  SELECT a + f(b), c AS d FROM t x WHERE e = 1 ;  ";
    int pos = 0;
    sl_stmt *s = NULL;
    sl_error err;
    int rc = sl_parse_next(text, (int)strlen(text), &pos, &s, &err);
    is_int(rc, 1, "offsets: parses");
    if (s == NULL)
        return;
    int sel = (int)(strstr(text, "SELECT") - text);
    is_int(s->offset, sel, "stmt offset is SELECT");
    is_int(s->end, (int)(strstr(text, " ;") - text), "stmt end is before ' ;'");
    is_int(pos, (int)(strchr(text, ';') - text) + 1, "pos is just past ';'");
    is_int(s->select->offset, sel, "select offset");
    is_int(s->select->end, s->end, "select end");
    sl_expr *plus = s->select->items[0].expr;
    is_int(plus->offset, (int)(strstr(text, "a +") - text), "binary offset");
    is_int(plus->end, (int)(strstr(text, "(b)") - text) + 3, "binary end");
    sl_expr *call = plus->args[1];
    is_int(call->offset, (int)(strstr(text, "f(") - text), "call offset");
    is_int(s->select->items[1].offset, (int)(strstr(text, "c AS") - text), "item offset");
    is_int(s->select->from.offset, (int)(strstr(text, "t x") - text), "table offset");
    is_int(s->select->where->offset, (int)(strstr(text, "e =") - text), "where offset");
    is_int(s->select->where->end, (int)(strstr(text, "1 ;") - text) + 1, "where end");
    sl_stmt_free(s);

    const char *ddl = "CREATE SOURCE s (a INT, WATERMARK FOR a AS a - INTERVAL '1' SECOND) "
                      "WITH (path = 'p')";
    s = parse1(ddl);
    if (s == NULL)
        return;
    is_int(s->name_offset, (int)(strstr(ddl, "s (") - ddl), "name offset");
    is_int(s->cols[0].offset, (int)(strstr(ddl, "a INT") - ddl), "column offset");
    is_int(s->cols[0].type_offset, (int)(strstr(ddl, "INT") - ddl), "type offset");
    is_int(s->watermark_offset, (int)(strstr(ddl, "WATERMARK") - ddl), "watermark offset");
    is_int(s->watermark_expr->offset, (int)(strstr(ddl, "a - ") - ddl), "watermark expr offset");
    is_int(s->watermark_expr->end, (int)(strstr(ddl, ") WITH") - ddl), "watermark expr end");
    is_int(s->opts[0].offset, (int)(strstr(ddl, "path") - ddl), "option offset");
    is_int(s->opts[0].value_offset, (int)(strstr(ddl, "'p'") - ddl), "option value offset");
    is_int(s->end, (int)strlen(ddl), "end without ';' is the end of the text");
    const sl_option *o = sl_stmt_option(s, "PATH");
    is_str(o ? o->value : NULL, "p", "sl_stmt_option is case-insensitive");
    ok(sl_stmt_option(s, "format") == NULL, "sl_stmt_option: absent key");
    sl_stmt_free(s);

    const char *win = "SELECT a FROM t WINDOW TUMBLING (SIZE 1 SECOND) "
                      "WATERMARK ts DELAY 1 SECOND EMIT FINAL";
    s = parse1(win);
    if (s == NULL)
        return;
    is_int(s->select->window.offset, (int)(strstr(win, "WINDOW") - win), "window offset");
    is_int(s->select->watermark.offset, (int)(strstr(win, "WATERMARK") - win), "watermark offset");
    is_int(s->select->watermark.column_offset, (int)(strstr(win, "ts ") - win),
           "watermark column offset");
    is_int(s->select->emit.offset, (int)(strstr(win, "EMIT") - win), "emit offset");
    sl_stmt_free(s);

    const char *ov = "SELECT k, RANK() OVER (PARTITION BY k, g ORDER BY v DESC) AS r FROM s "
                     "QUALIFY ROW_NUMBER()  OVER ( ORDER BY v ) <= 3 ;";
    s = parse1(ov);
    if (s == NULL)
        return;
    sl_expr *over = s->select->items[1].expr;
    is_int(over->kind, SL_EX_OVER, "OVER node kind");
    is_int(over->offset, (int)(strstr(ov, "RANK") - ov), "OVER offset is the name");
    is_int(over->end, (int)(strstr(ov, " AS r") - ov), "OVER end is past its ')'");
    is_int(s->select->items[1].offset, over->offset, "OVER item offset");
    is_int(over->nargs, 3, "OVER args: ORDER BY and two PARTITION BY");
    ok(over->flags & SL_EXF_DESC, "OVER ... DESC sets SL_EXF_DESC");
    if (over->nargs == 3) {
        is_int(over->args[0]->offset, (int)(strstr(ov, "v DESC") - ov), "ORDER BY expr offset");
        is_int(over->args[1]->offset, (int)(strstr(ov, "k, g") - ov), "PARTITION BY expr offset");
        is_int(over->args[2]->offset, (int)(strstr(ov, "g ORDER") - ov), "second PARTITION BY offset");
    }
    sl_expr *qual = s->select->qualify;
    ok(qual != NULL, "qualify is set");
    if (qual != NULL) {
        is_int(qual->offset, (int)(strstr(ov, "ROW_NUMBER") - ov), "qualify offset");
        is_int(qual->end, (int)(strstr(ov, " ;") - ov), "qualify end");
        sl_expr *rn = qual->args[0];
        is_int(rn->kind, SL_EX_OVER, "qualify: OVER node kind");
        is_int(rn->offset, (int)(strstr(ov, "ROW_NUMBER") - ov), "qualify: OVER offset");
        is_int(rn->end, (int)(strstr(ov, " <= 3") - ov), "qualify: OVER end");
        is_int(rn->nargs, 1, "OVER without PARTITION BY has one arg");
        ok(!(rn->flags & SL_EXF_DESC), "OVER without DESC: no SL_EXF_DESC");
    }
    is_int(s->end, (int)(strstr(ov, " ;") - ov), "stmt end after QUALIFY");
    sl_stmt_free(s);

    const char *ex = "EXPLAIN SELECT a FROM t;";
    s = parse1(ex);
    if (s == NULL)
        return;
    is_int(s->inner->offset, 8, "EXPLAIN inner statement offset");
    is_int(s->inner->end, (int)strlen(ex) - 1, "EXPLAIN inner statement end");
    sl_stmt_free(s);
}

static void errors(void)
{
    err_is("SELECT * FROM;", "syntax error at \";\"", ";", "missing table");
    err_is("SELECT a FROM t WHERE", "syntax error at end of input", NULL, "missing WHERE expr");
    err_is("SELECT a, FROM t;", "syntax error at \"FROM\"", "FROM", "trailing comma");
    err_is("CREATE SOURCE s (a INT) WITH (path = );", "syntax error at \")\"", ");",
           "missing option value");
    err_is("SELECT a FROM t WINDOW TUMBLING (SIZE 1 MONTH);",
           "interval unit MONTH has no fixed length", "MONTH", "month interval");
    err_is("SELECT INTERVAL '3 years' FROM t;",
           "interval unit YEAR has no fixed length", "years", "year interval in text");
    err_is("SELECT a FROM t WINDOW TUMBLING (SIZE 0 SECONDS);",
           "window size must be positive", "0 SECONDS", "zero window");
    err_is("SELECT a FROM t WINDOW TUMBLING (SIZE 1 FORTNIGHT);",
           "syntax error at \"FORTNIGHT\"", "FORTNIGHT", "unknown unit keyword");
    err_is("SELECT INTERVAL '3 fortnights' FROM t;",
           "unknown interval unit \"fortnights\"", "fortnights", "unknown unit in text");
    err_is("SELECT INTERVAL 'soon' FROM t;", "invalid interval 'soon'", "'soon'",
           "interval text without a number");
    err_is("SELECT CAST(a AS BLOB) FROM t;", "unknown type \"BLOB\"", "BLOB", "CAST to unknown type");
    err_is("CREATE TABLE t (a INT, WATERMARK FOR a AS a);",
           "WATERMARK is only allowed in CREATE SOURCE", "WATERMARK", "watermark in table");
    err_is("CREATE SOURCE s (a INT) WITH (x = 1, X = 2);", "duplicate option \"x\"", "X =",
           "duplicate option");
    err_is("CREATE SOURCE s (a INT, A TEXT);", "duplicate column \"A\"", "A TEXT",
           "duplicate column");
    err_is("INSERT INTO t VALUES (1, 2), (3);", "VALUES row 2 has 1 values, expected 2", "3)",
           "ragged VALUES");
    err_is("DROP THING x;", "syntax error at \"THING\"", "THING", "bad DROP kind");
    err_is("SELECT 'abc' 'def' FROM t;", "syntax error at \"'def'\"", "'def'", "two strings");
    err_is("SELECT @ FROM t;", "unexpected character '@'", "@", "bad character");
    err_is("SELECT 'abc FROM t;", "unterminated string", "'abc", "unterminated string");
    err_is("SELECT \"abc FROM t;", "unterminated quoted identifier", "\"abc",
           "unterminated quoted identifier");
    err_is("SELECT a /* FROM t;", "unterminated comment", "/*", "unterminated comment");
    err_is("SELECT (((a) FROM t;", "syntax error at \"FROM\"", "FROM", "unbalanced parentheses");
    err_is("CREATE OR REPLACE VIEW IF NOT EXISTS v AS SELECT 1;",
           "OR REPLACE and IF NOT EXISTS cannot be combined", "CREATE", "OR REPLACE + IF NOT EXISTS");
    err_is("SELECT a FROM t EMIT CHANGES EVERY;", "syntax error at \";\"", ";", "EVERY without interval");
    err_is("SELECT RANK() OVER (PARTITION BY a) FROM t;", "syntax error at \")\"",
           ") FROM", "OVER without ORDER BY");
    err_is("SELECT RANK() OVER () FROM t;", "syntax error at \")\"", ") FROM",
           "empty OVER ()");
    err_is("SELECT RANK() OVER (ORDER BY a, b) FROM t;", "syntax error at \",\"", ", b",
           "OVER with two ORDER BY expressions");
    err_is("SELECT RANK() OVER (ORDER BY a DESC, b) FROM t;", "syntax error at \",\"", ", b",
           "OVER with two ORDER BY expressions after DESC");
    err_is("SELECT RANK() OVER (PARTITION BY ORDER BY a) FROM t;",
           "syntax error at \"ORDER\"", "ORDER", "PARTITION BY without expressions");
    err_is("SELECT RANK() OVER (PARTITION a ORDER BY b) FROM t;",
           "syntax error at \"a\"", "a ORDER", "PARTITION without BY");
    err_is("SELECT RANK() OVER ORDER BY a FROM t;", "syntax error at \"ORDER\"", "ORDER",
           "OVER without parentheses");
    err_is("SELECT RANK() OVER (ORDER BY a FROM t;", "syntax error at \"FROM\"", "FROM",
           "OVER without its ')'");
    err_is("SELECT RANK(x) OVER (ORDER BY a) FROM t;", "syntax error at \"(\"", "(ORDER",
           "OVER after a call with arguments");
    err_is("SELECT RANK() OVER (ORDER BY a) OVER (ORDER BY b) FROM t;",
           "syntax error at \"(\"", "(ORDER BY b", "two OVERs");
    err_is("SELECT a FROM t QUALIFY;", "syntax error at \";\"", ";", "QUALIFY without condition");
    err_is("SELECT a FROM t QUALIFY a > 1 HAVING count(*) > 1;", "syntax error at \"HAVING\"",
           "HAVING", "QUALIFY before HAVING");
    err_is("SELECT a FROM t QUALIFY a > 1 WINDOW TUMBLING (SIZE 1 SECOND);",
           "syntax error at \"WINDOW\"", "WINDOW", "QUALIFY before WINDOW");
    err_is("SELECT a FROM t WINDOW TUMBLING (SIZE 1 SECOND) EMIT FINAL QUALIFY a > 1;",
           "syntax error at \"QUALIFY\"", "QUALIFY", "QUALIFY after EMIT");
    err_is("SELECT a FROM t qualify;", "syntax error at \";\"", ";",
           "table alias qualify right after the table starts a QUALIFY clause");

    /* deep nesting is an error, not a crash */
    {
        static char deep[20000];
        strcpy(deep, "SELECT ");
        size_t n = strlen(deep);
        for (int i = 0; i < 5000; i++)
            deep[n++] = '(';
        deep[n++] = '1';
        deep[n] = '\0';
        int pos = 0;
        sl_stmt *s = NULL;
        sl_error err;
        int rc = sl_parse_next(deep, (int)strlen(deep), &pos, &s, &err);
        is_int(rc, -1, "5000 nested parentheses fail cleanly");
        is_str(err.msg, "statement too deeply nested", "  ... saying so");
    }
}

/* "SELECT a<op>a<op>...a FROM t" with `ops` operators (a postfix op when
** postfix: "a<op><op>..."), malloc'd; *at is the offset of operator number
** `at_op` (1-based). */
static char *chain(const char *op, int ops, int postfix, int at_op, int *at)
{
    size_t oplen = strlen(op);
    char *sql = malloc(32 + (size_t)ops * (oplen + 1));
    size_t n = (size_t)sprintf(sql, "SELECT a");
    for (int i = 1; i <= ops; i++) {
        if (i == at_op)
            *at = (int)n + (op[0] == ' ');
        n += (size_t)sprintf(sql + n, "%s%s", op, postfix ? "" : "a");
    }
    strcpy(sql + n, " FROM t");
    return sql;
}

/* Flat chains are as tall as they have operators: the parser takes
** SL_EXPR_HEIGHT_MAX levels and refuses the operator past it, at its
** place, whatever the shape (the walks after it recurse). */
static void long_chains(void)
{
    static const struct { const char *op; int postfix; } shapes[] = {
        {"+", 0}, {" OR ", 0}, {"||", 0}, {" AND ", 0}, {"*", 0}, {" = ", 0},
        {" LIKE ", 0}, {" NOT LIKE ", 0}, {" IS NULL", 1}, {" IS NOT NULL", 1},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const char *op = shapes[k].op;
        int at = -1, pos = 0;
        char *sql = chain(op, SL_EXPR_HEIGHT_MAX - 1, shapes[k].postfix, 0, &at);
        sl_stmt *s = NULL;
        sl_error err;
        int rc = sl_parse_next(sql, (int)strlen(sql), &pos, &s, &err);
        ok(rc == 1 && s->select->items[0].expr->height == SL_EXPR_HEIGHT_MAX,
           "'%s' x %d: parsed, height %d", op, SL_EXPR_HEIGHT_MAX - 1,
           SL_EXPR_HEIGHT_MAX);
        sl_stmt_free(s);
        free(sql);
        for (int ops = SL_EXPR_HEIGHT_MAX; ops <= 50000; ops += 49000) {
            sql = chain(op, ops, shapes[k].postfix, SL_EXPR_HEIGHT_MAX, &at);
            pos = 0;
            s = NULL;
            rc = sl_parse_next(sql, (int)strlen(sql), &pos, &s, &err);
            ok(rc == -1 && s == NULL, "'%s' x %d: refused", op, ops);
            is_str(rc == -1 ? err.msg : NULL, "expression nested too deeply: "
                   "more than 1000 levels of operators", "  ... saying so");
            is_int(err.offset, at, "  ... at the operator past the bound");
            free(sql);
        }
    }
    /* heights add up through every kind of node */
    dump_is("SELECT CASE WHEN a IN (b, -c) THEN CAST(f(x + 1) AS TEXT) END FROM t",
            "(select (items (case (when (in a b (neg c)) (cast (call f (+ x 1)) TEXT)))) (from t))",
            "a mixed tree");
    {
        int pos = 0;
        sl_stmt *s = NULL;
        const char *sql = "SELECT CASE WHEN a IN (b, -c) THEN CAST(f(x + 1) AS TEXT) END FROM t";
        sl_parse_next(sql, (int)strlen(sql), &pos, &s, NULL);
        is_int(s ? s->select->items[0].expr->height : -1, 5,
               "  ... is 5 tall (case, cast, f, +, x)");
        sl_stmt_free(s);
    }
}

static void splitting(void)
{
    const char *text = "SELECT 1; -- one\n"
                       "SELECT # FROM t; SELECT 'x;y';;\n"
                       "/* c; */ SHOW SOURCES;\n"
                       "DESCRIBE t";
    int len = (int)strlen(text), pos = 0, rc;
    sl_stmt *s;
    sl_error err;
    const char *want[] = {"(select (items 1))", "ERROR", "(select (items 'x;y'))",
                          "(show source)", "(describe t)"};
    for (int k = 0; k < 5; k++) {
        rc = sl_parse_next(text, len, &pos, &s, &err);
        if (k == 1) {
            is_int(rc, -1, "multi: second statement fails");
            is_int(err.offset, (int)(strchr(text, '#') - text), "  ... at '#'");
            is_int(pos, (int)(strstr(text, " SELECT 'x") - text), "  ... pos past its ';'");
            continue;
        }
        char *d = rc == 1 ? sl_stmt_dump(s) : NULL;
        is_str(d, want[k], "multi: next statement");
        if (rc == 1 && k == 2)
            is_str(text + s->offset, "SELECT 'x;y';;\n/* c; */ SHOW SOURCES;\nDESCRIBE t",
                   "  ... offset is at SELECT");
        if (rc == 1 && k == 2)
            is_int(s->end - s->offset, (int)strlen("SELECT 'x;y'"), "  ... span has no ';'");
        free(d);
        sl_stmt_free(s);
    }
    rc = sl_parse_next(text, len, &pos, &s, &err);
    is_int(rc, 0, "multi: nothing left");
    ok(s == NULL && pos == len, "multi: pos at end");
    pos = 0;
    is_int(sl_parse_next("  -- only a comment\n ; ", 23, &pos, &s, &err), 0,
           "only comments and empty statements");
}

static void completeness(void)
{
    struct { const char *text; int want; } cases[] = {
        {"SELECT 1;", 1}, {"SELECT 1", 0}, {"SELECT 1; SELECT 2", 0},
        {"SELECT 1; SELECT 2;", 1}, {"SELECT 1; -- done", 1},
        {"SELECT 1; /* done */ ", 1}, {"SELECT ';'", 0}, {"SELECT ';", 0},
        {"SELECT 'a'';'", 0}, {"SELECT 'a'';';", 1}, {"SELECT \"a;\" FROM t", 0},
        {"SELECT 1 /* ; */", 0}, {"SELECT 1; /* open", 0}, {"SELECT 1 -- ;", 0},
        {"SELECT 1 -- ;\n;", 1}, {"", 0}, {"   \n", 0}, {"-- c\n", 0},
        {";", 1}, {"SELECT # ;", 1}, {"SELECT '", 0},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[64];
        int k = snprintf(name, sizeof name, "complete(");
        for (const char *c = cases[i].text; *c && k < 60; c++)
            name[k++] = *c == '\n' ? '|' : *c;
        name[k++] = ')';
        name[k] = '\0';
        is_int(sl_statement_complete(cases[i].text, (int)strlen(cases[i].text)),
               cases[i].want, name);
    }
    is_int(sl_statement_complete("SELECT 1;", 8), 0, "complete honours len");
}

static void dup(void)
{
    sl_stmt *s = parse1("SELECT CASE x WHEN 1 THEN f(a, 'b') ELSE -c END FROM t");
    if (s == NULL)
        return;
    sl_expr *e = s->select->items[0].expr;
    sl_expr *d = sl_expr_dup(e);
    char *a = sl_expr_to_sql(e), *b = sl_expr_to_sql(d);
    is_str(b, a, "sl_expr_dup copies the tree");
    ok(d != e && d->args[1] != e->args[1], "sl_expr_dup copies nodes");
    free(a);
    free(b);
    sl_expr_free(d);
    sl_stmt_free(s);

    s = parse1("SELECT RANK() OVER (PARTITION BY k, g ORDER BY v DESC) FROM t");
    if (s == NULL)
        return;
    e = s->select->items[0].expr;
    d = sl_expr_dup(e);
    a = sl_expr_to_sql(e);
    b = sl_expr_to_sql(d);
    is_str(b, a, "sl_expr_dup copies an OVER expression");
    ok(d->kind == SL_EX_OVER && (d->flags & SL_EXF_DESC) && d->nargs == 3 &&
       d->args[0] != e->args[0], "  ... kind, DESC and its own args");
    free(a);
    free(b);
    sl_expr_free(d);
    sl_stmt_free(s);
}

int main(void)
{
    design_examples();
    statements();
    clauses();
    qualify_over();
    expressions();
    non_reserved();
    to_sql();
    offsets();
    errors();
    long_chains();
    splitting();
    completeness();
    dup();
    return tap_done();
}
