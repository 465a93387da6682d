/*
** test_binder.c: the binder and the logical plan (engine/binder.c,
** engine/plan.c) against a real catalog: name resolution, group rows,
** aggregate slots, output keys, the streaming rules and their errors with
** positions, and EXPLAIN text.
*/
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"
#include "engine/session_int.h"
#include "engine/plan.h"
#include "grammar/parser.h"

static sl_session *open_session(char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/t.db", dir);
    sl_error err;
    sl_error_clear(&err);
    sl_session_options opt = {.out = NULL, .msg = stderr};
    sl_session *s = sl_session_open(path, &opt, &err);
    if (s == NULL)
        printf("# open: %s\n", err.msg);
    return s;
}

static int exec(sl_session *s, const char *sql)
{
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_session_exec(s, sql, (int)strlen(sql), &err, NULL);
    if (rc != 0)
        printf("# exec: %s\n", err.msg);
    return rc;
}

/* Binds the single statement sql; returns the plan or NULL with err. */
static sl_plan *bind(sl_session *s, const char *sql, sl_error *err,
                     sl_stmt **keep)
{
    int pos = 0;
    sl_stmt *st = NULL;
    sl_error_clear(err);
    if (sl_parse_next(sql, (int)strlen(sql), &pos, &st, err) != 1)
        return NULL;
    sl_plan *p = sl_plan_bind(s, st, err);
    *keep = st;
    return p;
}

static void expect_error(sl_session *s, const char *sql, const char *msg,
                         const char *at)
{
    sl_error err;
    sl_stmt *st = NULL;
    sl_plan *p = bind(s, sql, &err, &st);
    ok(p == NULL, "rejected: %s", sql);
    is_str(err.msg, msg, "message");
    int want = at ? (int)(strstr(sql, at) - sql) : -1;
    is_int(err.offset, want, "position");
    sl_plan_free(p);
    sl_stmt_free(st);
}

/* The statement head, then `ops` times op, then tail (malloc'd); *at is
** where operator number at_op starts (its first non-blank). */
static char *repeat(const char *head, const char *op, int ops, const char *tail,
                    int at_op, int *at)
{
    size_t hl = strlen(head), ol = strlen(op), tl = strlen(tail);
    char *sql = malloc(hl + (size_t)ops * ol + tl + 1);
    memcpy(sql, head, hl);
    size_t n = hl;
    for (int i = 1; i <= ops; i++, n += ol) {
        memcpy(sql + n, op, ol);
        if (i == at_op)
            *at = (int)(n + strspn(op, " "));
    }
    memcpy(sql + n, tail, tl + 1);
    return sql;
}

/* Long flat chains of operators through the whole statement path (parse,
** bind, type, compile, run): refused with a message at the operator past
** SL_EXPR_HEIGHT_MAX, never a crash in a walk that recurses. A VALUES
** list is a list, not a chain: 100 000 rows are fine. */
static void long_chains(sl_session *s)
{
    static const struct {
        const char *head, *op, *tail;
        int ops, at_op;     /* the operator that makes the tree too tall */
    } shapes[] = {
        {"CREATE STREAMING TABLE c1 AS SELECT order_id", "+order_id",
         " FROM orders", 50000, 1000},
        {"CREATE STREAMING TABLE c2 AS SELECT order_id FROM orders WHERE "
         "order_id = 1", " OR order_id = 1", "", 100000, 999},
        {"CREATE STREAMING TABLE c3 AS SELECT store_id", " || store_id",
         " FROM orders", 10000, 1000},
        {"SELECT order_id", " - 1", " FROM orders", 1000, 1000},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int at = -1;
        char *sql = repeat(shapes[k].head, shapes[k].op, shapes[k].ops,
                           shapes[k].tail, shapes[k].at_op, &at);
        sl_error err;
        sl_error_clear(&err);
        int rc = sl_session_exec(s, sql, (int)strlen(sql), &err, NULL);
        ok(rc != 0, "%d x '%s': refused", shapes[k].ops, shapes[k].op);
        is_str(err.msg, "expression nested too deeply: more than 1000 levels "
               "of operators", "  ... saying so");
        is_int(err.offset, at, "  ... at the operator past the bound");
        free(sql);
    }
    int at = -1;
    ok(exec(s, "CREATE TABLE vals (a TEXT, b BIGINT)") == 0, "a table for VALUES");
    char *sql = repeat("INSERT INTO vals VALUES ('s', 0)", ", ('s', 1 + 1)",
                       100000, "", 0, &at);
    ok(exec(s, sql) == 0, "INSERT of 100 001 rows of VALUES");
    free(sql);
    sql = repeat("SELECT COUNT(*) FROM (VALUES (1)", ", (1)", 100000, ")", 0, &at);
    ok(exec(s, sql) == 0, "SELECT over 100 001 rows of VALUES");
    free(sql);
}

int main(void)
{
    char dir[] = "/tmp/sluice-binder-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    sl_session *s = open_session(dir);
    ok(s != NULL, "session opens");
    ok(exec(s, "CREATE SOURCE orders (order_id BIGINT, store_id TEXT, "
               "amount DOUBLE, ts TIMESTAMP, WATERMARK FOR ts AS ts - "
               "INTERVAL '10' SECONDS) WITH (connector = 'file', path = "
               "'x.csv'); CREATE SOURCE plain (a BIGINT, t TIMESTAMP) WITH "
               "(connector = 'file', path = 'y.csv'); CREATE TABLE stores "
               "(store_id TEXT PRIMARY KEY, region TEXT);") == 0,
       "catalog set up");

    sl_error err;
    sl_stmt *st = NULL;
    sl_plan *p = bind(s, "CREATE MATERIALIZED VIEW v AS SELECT store_id, "
                         "window_start, COUNT(*) AS n, SUM(amount) AS total, "
                         "SUM(amount) / COUNT(*) AS mean FROM orders WHERE "
                         "amount > 0 WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY "
                         "store_id EMIT ON WINDOW CLOSE", &err, &st);
    ok(p != NULL, "tumbling aggregate binds");
    if (p) {
        is_int(p->ninput, 4, "input row = source columns");
        is_int(p->is_agg, 1, "aggregate plan");
        is_int(p->ngroup, 1, "one group key");
        is_int(p->nagg, 2, "COUNT(*) and SUM(amount), each once");
        is_int(p->event_time_col, 3, "event time is ts");
        is_int(p->delay_ms, 10000, "delay from the source");
        is_int(p->window.size_ms, 60000, "window size");
        is_int(p->emit, SL_EMIT_ON_WINDOW_CLOSE, "emit mode");
        is_int(p->nout, 6, "five items + window_end added");
        is_str(p->out_names[5], "window_end", "window_end appended");
        is_int(p->nkey, 3, "key: store_id, window_start, window_end");
        is_int(p->key_cols[0], 0, "store_id is output 0");
        is_int(p->key_cols[1], 1, "window_start is output 1");
        is_int(p->key_cols[2], 5, "window_end is output 5");
        is_int(p->out[2]->kind, SL_EX_COLUMN, "COUNT(*) became a group-row column");
        is_int(p->out[2]->col, 1 + 2 + 0, "at slot keys+2+0");
        is_int(p->out_types[4], SL_DOUBLE, "mean is DOUBLE");
        ok(p->where != NULL && p->where->type == SL_BOOL, "WHERE bound and BOOLEAN");
        char *ddl = sl_plan_output_ddl(p);
        ok(strstr(ddl, "PRIMARY KEY (\"window_start\", \"window_end\", \"store_id\")") != NULL,
           "output DDL has the key");
        sqlite3_free(ddl);
        char *ex = sl_plan_explain(p);
        ok(strstr(ex, "window: tumbling size 1 minute; event time ts, watermark delay 10 seconds") != NULL,
           "EXPLAIN names window, event time and delay");
        ok(strstr(ex, "filter: amount > 0") != NULL, "EXPLAIN shows the filter");
        free(ex);
    }
    sl_plan_free(p);
    sl_stmt_free(st);

    p = bind(s, "CREATE STREAMING TABLE t AS SELECT o.order_id, s.region, "
                "amount * 2 AS double_amount FROM orders o JOIN stores s ON "
                "o.store_id = s.store_id", &err, &st);
    ok(p != NULL, "join with a table binds");
    if (p) {
        is_int(p->ninput, 6, "input row = source + table columns");
        ok(p->join != NULL && p->join->left_key == 1 && p->join->right_key == 0,
           "join keys resolved");
        is_int(p->is_agg, 0, "row-by-row plan");
        is_int(p->out[1]->col, 5, "s.region is input column 5");
    }
    sl_plan_free(p);
    sl_stmt_free(st);

    p = bind(s, "SELECT a, COUNT(*) AS n FROM plain WINDOW HOPPING (SIZE 10 "
                "SECONDS, ADVANCE BY 5 SECONDS) WATERMARK t DELAY 2 SECONDS "
                "GROUP BY a", &err, &st);
    ok(p != NULL, "query WATERMARK gives event time to a plain source");
    if (p) {
        is_int(p->event_time_col, 1, "event time from the query");
        is_int(p->delay_ms, 2000, "delay from the query");
        is_int(p->watermark_from_query, 1, "marked as the query's");
    }
    sl_plan_free(p);
    sl_stmt_free(st);

    p = bind(s, "SELECT store_id AS k, COUNT(*) AS n FROM orders GROUP BY k "
                "HAVING COUNT(*) > 1", &err, &st);
    ok(p != NULL, "GROUP BY a select alias");
    if (p) {
        is_int(p->ngroup, 1, "grouped by the aliased expression");
        ok(p->having != NULL && p->having->type == SL_BOOL, "HAVING typed");
        is_int(p->nagg, 1, "HAVING's COUNT(*) shares the select list's slot");
    }
    sl_plan_free(p);
    sl_stmt_free(st);

    expect_error(s, "SELECT store_idd FROM orders",
                 "unknown column \"store_idd\" (did you mean \"store_id\"?)",
                 "store_idd");
    expect_error(s, "SELECT x FROM ordrs",
                 "unknown source \"ordrs\" (did you mean \"orders\"?)", "ordrs");
    expect_error(s, "SELECT store_id, amount, COUNT(*) FROM orders GROUP BY store_id",
                 "column \"amount\" must appear in GROUP BY or be used in an "
                 "aggregate function", "amount");
    expect_error(s, "SELECT COUNT(*) FROM plain WINDOW TUMBLING (SIZE 1 MINUTE)",
                 "a windowed query needs event time, and source plain has "
                 "none: declare WATERMARK FOR <column> AS <column> - INTERVAL "
                 "... in CREATE SOURCE, or add WATERMARK <column> DELAY "
                 "<interval> to the query", "WINDOW");
    expect_error(s, "SELECT store_id FROM orders WHERE store_id + 1 > 2",
                 "operator + cannot take TEXT and BIGINT", "store_id +");
    expect_error(s, "SELECT * FROM stores",
                 "\"stores\" is a table, not a source: a continuous query "
                 "reads a source or a streaming table (a table can be joined "
                 "to it)", "stores");
    expect_error(s, "SELECT window_start FROM orders",
                 "window_start needs a WINDOW with GROUP BY or aggregates",
                 "window_start");
    expect_error(s, "SELECT COUNT(*) FROM orders WHERE COUNT(*) > 1",
                 "aggregate functions are not allowed in WHERE (use HAVING)",
                 "COUNT(*) >");
    expect_error(s, "CREATE MATERIALIZED VIEW v AS SELECT COUNT(*) AS n FROM "
                    "orders GROUP BY store_id",
                 "the GROUP BY key store_id must be in the select list: it is "
                 "part of the result's key", "SELECT");
    long_chains(s);

    sl_session_close(s);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return tap_done();
}
