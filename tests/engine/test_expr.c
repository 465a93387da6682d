/*
** test_expr.c: TAP unit tests of expression typing, compilation and
** vectorised evaluation (engine/expr.c, engine/functions.c, engine/like.c).
**
** Expressions are parsed from `SELECT <expr> FROM t` with the real parser,
** their column references are bound by hand to a test batch that has a
** column of every type and NULLs, then typed, compiled and evaluated; each
** row of the result is rendered as text and compared with the expected
** rows ("7|NULL|..."). Also covered: three-valued logic truth tables, type
** errors with their offsets, failed casts, DATE_TRUNC / EXTRACT around leap
** years and negative epochs, constant folding, column aliasing, and large
** batches evaluated again at other sizes (buffers regrow correctly).
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "grammar/parser.h"
#include "engine/expr.h"
#include "connectors/decoder.h"

/* ---- the test batch ------------------------------------------------------ */

typedef struct colspec {
    const char *name;
    sl_type type;
} colspec;

static const colspec schema[] = {
    {"i", SL_BIGINT}, {"j", SL_BIGINT}, {"d", SL_DOUBLE}, {"s", SL_TEXT},
    {"p", SL_TEXT}, {"b", SL_BOOL}, {"q", SL_BOOL}, {"ts", SL_TIMESTAMP},
    {"iv", SL_INTERVAL},
};
#define NCOLS ((int)(sizeof schema / sizeof schema[0]))
enum { C_I, C_J, C_D, C_S, C_P, C_B, C_Q, C_TS, C_IV };

static int64_t ts(const char *text)
{
    int64_t ms = 0;
    if (sl_ts_parse(text, strlen(text), &ms) != 0) {
        printf("# bad test timestamp %s\n", text);
        exit(2);
    }
    return ms;
}

static sl_batch *new_batch(void)
{
    sl_type types[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        types[c] = schema[c].type;
    return sl_batch_new(NCOLS, types, 4);
}

/* Four rows:
**   0: i=7  j=2  d=2.5  s='hello' p='he%'   b=true  q=NULL  ts=2024-02-29 13:45:30.250 iv=10s
**   1: i=-3 j=0  d=-0.5 s='World' p='W_rld' b=false q=true  ts=1969-12-31 23:59:59.999 iv=-1500ms
**   2: everything NULL
**   3: i=INT64_MAX j=-1 d=1e300 s='' p='%' b=true q=false ts=1900-03-01 00:00 iv=1 day */
static sl_batch *std_batch(void)
{
    sl_batch *b = new_batch();
    int r = sl_batch_add_row(b);
    sl_batch_set_int(b, r, C_I, 7);
    sl_batch_set_int(b, r, C_J, 2);
    sl_batch_set_double(b, r, C_D, 2.5);
    sl_batch_set_text(b, r, C_S, "hello", 5);
    sl_batch_set_text(b, r, C_P, "he%", 3);
    sl_batch_set_int(b, r, C_B, 1);
    sl_batch_set_int(b, r, C_TS, ts("2024-02-29 13:45:30.250"));
    sl_batch_set_int(b, r, C_IV, 10000);
    r = sl_batch_add_row(b);
    sl_batch_set_int(b, r, C_I, -3);
    sl_batch_set_int(b, r, C_J, 0);
    sl_batch_set_double(b, r, C_D, -0.5);
    sl_batch_set_text(b, r, C_S, "World", 5);
    sl_batch_set_text(b, r, C_P, "W_rld", 5);
    sl_batch_set_int(b, r, C_B, 0);
    sl_batch_set_int(b, r, C_Q, 1);
    sl_batch_set_int(b, r, C_TS, -1);
    sl_batch_set_int(b, r, C_IV, -1500);
    sl_batch_add_row(b);
    r = sl_batch_add_row(b);
    sl_batch_set_int(b, r, C_I, INT64_MAX);
    sl_batch_set_int(b, r, C_J, -1);
    sl_batch_set_double(b, r, C_D, 1e300);
    sl_batch_set_text(b, r, C_S, "", 0);
    sl_batch_set_text(b, r, C_P, "%", 1);
    sl_batch_set_int(b, r, C_B, 1);
    sl_batch_set_int(b, r, C_Q, 0);
    sl_batch_set_int(b, r, C_TS, ts("1900-03-01 00:00:00"));
    sl_batch_set_int(b, r, C_IV, 86400000);
    return b;
}

/* ---- parsing, binding, rendering ---------------------------------------- */

#define PREFIX "SELECT "

static void bind(sl_expr *e)
{
    if (e->kind == SL_EX_COLUMN) {
        for (int c = 0; c < NCOLS; c++)
            if (strcmp(e->name, schema[c].name) == 0) {
                e->col = c;
                e->type = schema[c].type;
            }
    }
    for (int i = 0; i < e->nargs; i++)
        bind(e->args[i]);
}

/* Parses `SELECT <text> FROM t` and returns the bound expression. */
static sl_expr *parse_expr(const char *text)
{
    char sql[4096];
    snprintf(sql, sizeof sql, PREFIX "%s FROM t", text);
    int pos = 0;
    sl_stmt *st = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (sl_parse_next(sql, (int)strlen(sql), &pos, &st, &err) != 1) {
        printf("# parse error in %s: %s\n", text, err.msg);
        return NULL;
    }
    sl_expr *e = st->select->items[0].expr;
    st->select->items[0].expr = NULL;
    sl_stmt_free(st);
    bind(e);
    return e;
}

static void render_value(char *out, size_t cap, const sl_column *c, int r)
{
    if (c->null[r]) {
        snprintf(out, cap, "NULL");
        return;
    }
    char buf[32];
    switch (c->type) {
    case SL_BOOL:
        snprintf(out, cap, "%s", c->v.i[r] ? "true" : "false");
        break;
    case SL_BIGINT:
        snprintf(out, cap, "%lld", (long long)c->v.i[r]);
        break;
    case SL_INTERVAL:
        snprintf(out, cap, "%lldms", (long long)c->v.i[r]);
        break;
    case SL_DOUBLE:
        snprintf(out, cap, "%.15g", c->v.d[r]);
        break;
    case SL_TEXT:
        snprintf(out, cap, "'%.*s'", (int)c->v.s[r].n, c->v.s[r].z);
        break;
    case SL_TIMESTAMP:
        sl_ts_format(c->v.i[r], buf);
        snprintf(out, cap, "%s", buf);
        break;
    default:
        snprintf(out, cap, "?%d", (int)c->type);
        break;
    }
}

static char result[8192];

/* Types, compiles and evaluates text over b; returns the rows joined by
** '|', or "ERROR: msg @offset-in-expr". */
static const char *run(const char *text, const sl_batch *b)
{
    sl_expr *e = parse_expr(text);
    if (e == NULL)
        return "PARSE ERROR";
    sl_error err;
    sl_error_clear(&err);
    if (sl_expr_type(e, &err) != 0) {
        snprintf(result, sizeof result, "ERROR: %s @%d", err.msg,
                 err.offset - (int)strlen(PREFIX));
        sl_expr_free(e);
        return result;
    }
    sl_cexpr *ce = sl_cexpr_compile(e, &err);
    sl_type want = e->type;
    sl_expr_free(e);
    if (ce == NULL) {
        snprintf(result, sizeof result, "ERROR: %s @%d", err.msg,
                 err.offset - (int)strlen(PREFIX));
        return result;
    }
    sl_column out;
    sl_cexpr_eval(ce, b, &out);
    result[0] = 0;
    if (out.type != want || sl_cexpr_type(ce) != want)
        snprintf(result, sizeof result, "TYPE MISMATCH %d %d|", out.type, want);
    for (int r = 0; r < b->nrows; r++) {
        char v[1024];
        render_value(v, sizeof v, &out, r);
        size_t len = strlen(result);
        snprintf(result + len, sizeof result - len, "%s%s", r ? "|" : "", v);
    }
    sl_cexpr_free(ce);
    return result;
}

static sl_batch *g_std;
static sl_batch *g_one;   /* one row, no useful columns: for constants */

/* The expression over the standard batch. */
static void rows_is(const char *text, const char *want)
{
    char name[512];
    snprintf(name, sizeof name, "rows of %s", text);
    is_str(run(text, g_std), want, name);
}

/* A constant expression: evaluated on one row. */
static void const_is(const char *text, const char *want)
{
    char name[512];
    snprintf(name, sizeof name, "%s = %s", text, want);
    is_str(run(text, g_one), want, name);
}

/* A type or compile error and its offset within the expression text. */
static void error_is(const char *text, const char *want)
{
    char name[512];
    snprintf(name, sizeof name, "error of %s", text);
    is_str(run(text, g_std), want, name);
}

/* ---- tests -------------------------------------------------------------- */

static void test_columns_alias_input(void)
{
    sl_expr *e = parse_expr("d");
    sl_error err;
    sl_error_clear(&err);
    ok(sl_expr_type(e, &err) == 0, "bare column types");
    sl_cexpr *ce = sl_cexpr_compile(e, &err);
    sl_expr_free(e);
    sl_column out;
    sl_cexpr_eval(ce, g_std, &out);
    ok(out.v.d == g_std->cols[C_D].v.d && out.null == g_std->cols[C_D].null,
       "a column reference aliases the input arrays");
    sl_value v;
    ok(sl_cexpr_eval_const(ce, &v) == -1, "a column is not constant");
    sl_cexpr_free(ce);
    rows_is("s", "'hello'|'World'|NULL|''");
    rows_is("ts", "2024-02-29 13:45:30.250|1969-12-31 23:59:59.999|NULL|"
                  "1900-03-01 00:00:00.000");
}

static void test_arithmetic(void)
{
    rows_is("i + j", "9|-3|NULL|9223372036854775806");
    rows_is("i - j", "5|-3|NULL|NULL");            /* MAX - (-1) overflows */
    rows_is("i * j", "14|0|NULL|-9223372036854775807");
    rows_is("i / j", "3|NULL|NULL|-9223372036854775807");
    rows_is("i % j", "1|NULL|NULL|0");
    rows_is("i + 1", "8|-2|NULL|NULL");
    rows_is("1 - i", "-6|4|NULL|-9223372036854775806");
    rows_is("i * 2", "14|-6|NULL|NULL");
    rows_is("100 / i", "14|-33|NULL|0");
    rows_is("i / 0", "NULL|NULL|NULL|NULL");
    rows_is("i % 0", "NULL|NULL|NULL|NULL");
    rows_is("-7 % i", "0|-1|NULL|-7");
    rows_is("-i", "-7|3|NULL|-9223372036854775807");
    rows_is("+i", "7|-3|NULL|9223372036854775807");
    rows_is("-(i - i - 9223372036854775807 - 1)", "NULL|NULL|NULL|NULL");
    rows_is("d * 2", "5|-1|NULL|2e+300");
    rows_is("d / 0", "NULL|NULL|NULL|NULL");
    rows_is("d / 0.0", "NULL|NULL|NULL|NULL");
    rows_is("1 / d", "0.4|-2|NULL|1e-300");
    rows_is("d % 2", "0.5|-0.5|NULL|0");
    rows_is("i + d", "9.5|-3.5|NULL|1e+300");
    rows_is("j - d", "-0.5|0.5|NULL|-1e+300");
    rows_is("-d", "-2.5|0.5|NULL|-1e+300");
    rows_is("i * j + 1 - j", "13|1|NULL|-9223372036854775805");
    const_is("7 / 2", "3");
    const_is("-7 / 2", "-3");
    const_is("7.0 / 2", "3.5");
    const_is("2 + 3 * 4", "14");
    const_is("1 + NULL", "NULL");
    const_is("NULL * 2.5", "NULL");
    const_is("9223372036854775807 + 1", "NULL");
}

static void test_time_arithmetic(void)
{
    rows_is("ts + iv", "2024-02-29 13:45:40.250|1969-12-31 23:59:58.499|NULL|"
                       "1900-03-02 00:00:00.000");
    rows_is("iv + ts", "2024-02-29 13:45:40.250|1969-12-31 23:59:58.499|NULL|"
                       "1900-03-02 00:00:00.000");
    rows_is("ts - INTERVAL '1' DAY", "2024-02-28 13:45:30.250|"
            "1969-12-30 23:59:59.999|NULL|1900-02-28 00:00:00.000");
    rows_is("ts - TIMESTAMP '1970-01-01 00:00:00'",
            "1709214330250ms|-1ms|NULL|-2203891200000ms");
    rows_is("iv * 3", "30000ms|-4500ms|NULL|259200000ms");
    rows_is("2 * iv", "20000ms|-3000ms|NULL|172800000ms");
    rows_is("iv + iv", "20000ms|-3000ms|NULL|172800000ms");
    rows_is("iv - INTERVAL '1' SECOND", "9000ms|-2500ms|NULL|86399000ms");
    rows_is("iv / 2", "5000ms|-750ms|NULL|43200000ms");
    rows_is("-iv", "-10000ms|1500ms|NULL|-86400000ms");
    const_is("TIMESTAMP '2024-03-01' - TIMESTAMP '2024-02-28'", "172800000ms");
}

static void test_comparisons(void)
{
    rows_is("i = 7", "true|false|NULL|false");
    rows_is("i <> 7", "false|true|NULL|true");
    rows_is("i < 7", "false|true|NULL|false");
    rows_is("i <= 7", "true|true|NULL|false");
    rows_is("i > 7", "false|false|NULL|true");
    rows_is("i >= 7", "true|false|NULL|true");
    rows_is("7 > i", "false|true|NULL|false");          /* constant on the left */
    rows_is("7 <= i", "true|false|NULL|true");
    rows_is("i > j", "true|false|NULL|true");
    rows_is("i = j", "false|false|NULL|false");
    rows_is("j <= i", "true|false|NULL|true");
    rows_is("d > 0", "true|false|NULL|true");
    rows_is("d < i", "true|false|NULL|false");          /* DOUBLE with BIGINT */
    rows_is("i = 7.0", "true|false|NULL|false");
    rows_is("2.5 = d", "true|false|NULL|false");
    rows_is("s = 'hello'", "true|false|NULL|false");
    rows_is("s < 'b'", "false|true|NULL|true");          /* byte order: 'W' < 'b' */
    rows_is("s >= 'hello'", "true|false|NULL|false");
    rows_is("s <> p", "true|true|NULL|true");
    rows_is("s > p", "true|true|NULL|false");
    rows_is("b = true", "true|false|NULL|true");
    rows_is("b <> q", "NULL|true|NULL|true");
    rows_is("ts > '2000-01-01'", "true|false|NULL|false");  /* text converted */
    rows_is("'1970-01-01 00:00:00' > ts", "false|true|NULL|true");
    rows_is("ts = TIMESTAMP '2024-02-29 13:45:30.250'", "true|false|NULL|false");
    rows_is("iv < INTERVAL '1' MINUTE", "true|true|NULL|false");
    rows_is("i = NULL", "NULL|NULL|NULL|NULL");
    rows_is("NULL <> s", "NULL|NULL|NULL|NULL");
    const_is("'abc' < 'abd'", "true");
    const_is("'ab' < 'abc'", "true");
    const_is("'' = ''", "true");
    const_is("1 = 1.0", "true");
}

static void test_three_valued_logic(void)
{
    /* p, q over {true, false, NULL}^2 as a 9-row batch */
    sl_batch *bt = new_batch();
    const int vals[3] = {1, 0, -1};
    for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++) {
            int r = sl_batch_add_row(bt);
            if (vals[x] >= 0)
                sl_batch_set_int(bt, r, C_B, vals[x]);
            if (vals[y] >= 0)
                sl_batch_set_int(bt, r, C_Q, vals[y]);
        }
    /* rows: TT TF TN FT FF FN NT NF NN */
    is_str(run("b AND q", bt),
           "true|false|NULL|false|false|false|NULL|false|NULL", "AND truth table");
    is_str(run("b OR q", bt),
           "true|true|true|true|false|NULL|true|NULL|NULL", "OR truth table");
    is_str(run("NOT b", bt),
           "false|false|false|true|true|true|NULL|NULL|NULL", "NOT truth table");
    is_str(run("NOT (b AND q)", bt),
           "false|true|NULL|true|true|true|NULL|true|NULL", "NOT AND");
    is_str(run("b AND NULL", bt),
           "NULL|NULL|NULL|false|false|false|NULL|NULL|NULL", "AND NULL literal");
    is_str(run("NULL OR q", bt),
           "true|NULL|NULL|true|NULL|NULL|true|NULL|NULL", "NULL OR");
    is_str(run("b IS NULL", bt),
           "false|false|false|false|false|false|true|true|true", "IS NULL");
    is_str(run("q IS NOT NULL", bt),
           "true|true|false|true|true|false|true|true|false", "IS NOT NULL");
    is_str(run("b AND q OR NOT b", bt),
           "true|false|NULL|true|true|true|NULL|NULL|NULL", "precedence");
    sl_batch_free(bt);
    const_is("FALSE AND NULL", "false");
    const_is("TRUE OR NULL", "true");
    const_is("TRUE AND NULL", "NULL");
    const_is("FALSE OR NULL", "NULL");
    const_is("NOT NULL", "NULL");
    const_is("NULL IS NULL", "true");
    rows_is("s IS NULL", "false|false|true|false");
    rows_is("(i > 0) AND (d > 0)", "true|false|NULL|true");
    rows_is("(i > 0) OR (j = 0)", "true|true|NULL|true");
}

static void test_in_between(void)
{
    rows_is("i IN (7, 2)", "true|false|NULL|false");
    rows_is("i NOT IN (7, 2)", "false|true|NULL|true");
    rows_is("i IN (1, NULL)", "NULL|NULL|NULL|NULL");
    rows_is("i IN (7, NULL)", "true|NULL|NULL|NULL");
    rows_is("i NOT IN (7, NULL)", "false|NULL|NULL|NULL");
    rows_is("i IN (j, 7)", "true|false|NULL|false");     /* not all constant */
    rows_is("i IN (j, -3, NULL)", "NULL|true|NULL|NULL");
    rows_is("i NOT IN (j, 9223372036854775807)", "true|true|NULL|false");
    rows_is("d IN (2.5, 1)", "true|false|NULL|false");
    rows_is("i IN (7.0, -3.5)", "true|false|NULL|false");
    rows_is("s IN ('World', 'x', '')", "false|true|NULL|true");
    rows_is("s NOT IN ('World', 'x')", "true|false|NULL|true");
    rows_is("ts IN ('2024-02-29 13:45:30.250', '1900-03-01')", "true|false|NULL|true");
    rows_is("NULL IN (1, 2)", "NULL|NULL|NULL|NULL");
    rows_is("i BETWEEN 0 AND 10", "true|false|NULL|false");
    rows_is("i NOT BETWEEN 0 AND 10", "false|true|NULL|true");
    rows_is("i BETWEEN j AND 7", "true|false|NULL|false");
    rows_is("d BETWEEN -1 AND 2.5", "true|true|NULL|false");
    rows_is("i BETWEEN NULL AND 10", "NULL|NULL|NULL|false");
    rows_is("i BETWEEN 0 AND NULL", "NULL|false|NULL|NULL");
    rows_is("s BETWEEN 'a' AND 'z'", "true|false|NULL|false");
    rows_is("ts BETWEEN '1969-01-01' AND '2000-01-01'", "false|true|NULL|false");
    const_is("5 BETWEEN 1 AND 5", "true");
    const_is("5 BETWEEN NULL AND 3", "false");
    const_is("5 BETWEEN NULL AND 10", "NULL");
    const_is("1 NOT IN (2, NULL)", "NULL");
    const_is("3 IN (1, 2, 3)", "true");
}

static void test_like(void)
{
    rows_is("s LIKE 'hello'", "true|false|NULL|false");
    rows_is("s LIKE 'he%'", "true|false|NULL|false");
    rows_is("s LIKE '%ld'", "false|true|NULL|false");
    rows_is("s LIKE '%l%'", "true|true|NULL|false");
    rows_is("s LIKE '%'", "true|true|NULL|true");
    rows_is("s LIKE ''", "false|false|NULL|true");
    rows_is("s LIKE 'h_llo'", "true|false|NULL|false");
    rows_is("s LIKE '_____'", "true|true|NULL|false");
    rows_is("s LIKE '%o%l%'", "false|true|NULL|false");
    rows_is("s LIKE 'HELLO'", "false|false|NULL|false");   /* case-sensitive */
    rows_is("s NOT LIKE 'he%'", "false|true|NULL|true");
    rows_is("s LIKE p", "true|true|NULL|true");             /* per-row patterns */
    rows_is("s NOT LIKE p", "false|false|NULL|false");
    rows_is("s LIKE NULL", "NULL|NULL|NULL|NULL");
    const_is("'héllo' LIKE 'h_llo'", "true");              /* _ is a character */
    const_is("'h€llo' LIKE 'h_llo'", "true");
    const_is("'hllo' LIKE 'h_llo'", "false");
    const_is("'abcabc' LIKE '%abc'", "true");
    const_is("'aXbXc' LIKE 'a%b%c'", "true");
    const_is("'aXbXd' LIKE 'a%b%c'", "false");
    const_is("'mississippi' LIKE '%iss%ppi'", "true");
    const_is("'abc' LIKE 'abc%%'", "true");
    const_is("'ab' LIKE 'a__'", "false");
}

static void test_case(void)
{
    rows_is("CASE WHEN i > 0 THEN 'pos' WHEN i < 0 THEN 'neg' END",
            "'pos'|'neg'|NULL|'pos'");
    rows_is("CASE WHEN i > 0 THEN 'pos' ELSE 'other' END",
            "'pos'|'other'|'other'|'pos'");
    rows_is("CASE WHEN b THEN i ELSE d END", "7|-0.5|NULL|9.22337203685478e+18");
    rows_is("CASE i WHEN 7 THEN 'seven' WHEN -3 THEN 'minus three' ELSE 'x' END",
            "'seven'|'minus three'|'x'|'x'");
    rows_is("CASE i WHEN j THEN 1 WHEN 7 THEN 2 END", "2|NULL|NULL|NULL");
    rows_is("CASE s WHEN 'hello' THEN i WHEN NULL THEN 0 END", "7|NULL|NULL|NULL");
    rows_is("CASE WHEN q THEN 'q' WHEN b THEN 'b' END", "'b'|'q'|NULL|'b'");
    rows_is("CASE WHEN NULL THEN 1 ELSE 2 END", "2|2|2|2");
    rows_is("CASE WHEN i > 0 THEN NULL ELSE s END", "NULL|'World'|NULL|NULL");
    rows_is("CASE i WHEN 7.0 THEN 'f' END", "'f'|NULL|NULL|NULL");
    rows_is("CASE WHEN i > 0 THEN ts END", "2024-02-29 13:45:30.250|NULL|NULL|"
                                          "1900-03-01 00:00:00.000");
    const_is("CASE 1 WHEN 2 THEN 'a' WHEN 1 THEN 'b' END", "'b'");
    const_is("CASE WHEN 1 > 2 THEN 1 END", "NULL");
}

static void test_cast(void)
{
    const_is("CAST('42' AS BIGINT)", "42");
    const_is("CAST('  -42 ' AS BIGINT)", "-42");
    const_is("CAST('abc' AS BIGINT)", "NULL");
    const_is("CAST('12abc' AS BIGINT)", "NULL");
    const_is("CAST('' AS BIGINT)", "NULL");
    const_is("CAST('1.9' AS BIGINT)", "1");
    const_is("CAST('9223372036854775807' AS BIGINT)", "9223372036854775807");
    const_is("CAST('-9223372036854775808' AS BIGINT)", "-9223372036854775808");
    const_is("CAST('9223372036854775808' AS BIGINT)", "NULL");
    const_is("CAST('1.5' AS DOUBLE)", "1.5");
    const_is("CAST('1e3' AS DOUBLE)", "1000");
    const_is("CAST('nan' AS DOUBLE)", "NULL");
    const_is("CAST('inf' AS DOUBLE)", "NULL");
    const_is("CAST('0x10' AS DOUBLE)", "NULL");
    const_is("CAST('x' AS DOUBLE)", "NULL");
    const_is("CAST(2.9 AS BIGINT)", "2");
    const_is("CAST(-2.9 AS BIGINT)", "-2");
    const_is("CAST(1e300 AS BIGINT)", "NULL");
    const_is("CAST(3 AS DOUBLE)", "3");
    const_is("CAST(TRUE AS BIGINT)", "1");
    const_is("CAST(5 AS BOOLEAN)", "true");
    const_is("CAST(0 AS BOOLEAN)", "false");
    const_is("CAST('yes' AS BOOLEAN)", "true");
    const_is("CAST('FALSE' AS BOOLEAN)", "false");
    const_is("CAST('maybe' AS BOOLEAN)", "NULL");
    const_is("CAST(42 AS TEXT)", "'42'");
    const_is("CAST(-9223372036854775807 - 1 AS TEXT)", "'-9223372036854775808'");
    const_is("CAST(10.0 AS TEXT)", "'10.0'");
    const_is("CAST(1.5 AS TEXT)", "'1.5'");
    const_is("CAST(0.1 AS TEXT)", "'0.1'");
    const_is("CAST(1e20 AS TEXT)", "'1.0e+20'");
    const_is("CAST(1.0 / 3 AS TEXT)", "'0.3333333333333333'");
    const_is("CAST(-0.25 AS TEXT)", "'-0.25'");
    const_is("CAST(TRUE AS TEXT)", "'true'");
    const_is("CAST(NULL AS TEXT)", "NULL");
    const_is("CAST(NULL AS BIGINT) IS NULL", "true");
    const_is("CAST('2024-02-29T10:00:00Z' AS TIMESTAMP)", "2024-02-29 10:00:00.000");
    const_is("CAST(' 2024-02-29 10:00 ' AS TIMESTAMP)", "2024-02-29 10:00:00.000");
    const_is("CAST('2024-02-30' AS TIMESTAMP)", "NULL");
    const_is("CAST('soon' AS TIMESTAMP)", "NULL");
    const_is("CAST(TIMESTAMP '1969-12-31 23:59:59.999' AS TEXT)",
             "'1969-12-31 23:59:59.999'");
    const_is("CAST(INTERVAL '90' MINUTE AS TEXT)", "'01:30:00'");
    const_is("CAST(INTERVAL '1' DAY + INTERVAL '1' SECOND AS TEXT)",
             "'1 day 00:00:01'");
    const_is("CAST(-(INTERVAL '2' DAY + INTERVAL '1' SECOND) / 2 AS TEXT)",
             "'-1 day 00:00:00.500'");
    const_is("CAST('10 seconds' AS INTERVAL)", "10000ms");
    const_is("CAST('1 hour 30 minutes' AS INTERVAL)", "5400000ms");
    const_is("CAST('01:30:00' AS INTERVAL)", "5400000ms");
    const_is("CAST('-1 day 00:00:00.500' AS INTERVAL)", "-86400500ms");
    const_is("CAST('2 days 01:00:00' AS INTERVAL)", "176400000ms");
    const_is("CAST('1.5 h' AS INTERVAL)", "5400000ms");
    const_is("CAST('15' AS INTERVAL)", "15000ms");
    const_is("CAST('5 fortnights' AS INTERVAL)", "NULL");
    rows_is("CAST(s AS BIGINT)", "NULL|NULL|NULL|NULL");
    rows_is("CAST(i AS TEXT)", "'7'|'-3'|NULL|'9223372036854775807'");
    rows_is("CAST(d AS TEXT)", "'2.5'|'-0.5'|NULL|'1.0e+300'");
    rows_is("CAST(b AS TEXT)", "'true'|'false'|NULL|'true'");
    rows_is("CAST(CAST(i AS TEXT) AS BIGINT) = i", "true|true|NULL|true");
    rows_is("CAST(CAST(d AS TEXT) AS DOUBLE) = d", "true|true|NULL|true");
    rows_is("CAST(CAST(ts AS TEXT) AS TIMESTAMP) = ts", "true|true|NULL|true");
    rows_is("CAST(CAST(iv AS TEXT) AS INTERVAL) = iv", "true|true|NULL|true");
    rows_is("CAST(d AS BIGINT)", "2|0|NULL|NULL");
}

static void test_concat(void)
{
    rows_is("s || '!'", "'hello!'|'World!'|NULL|'!'");
    rows_is("s || p", "'hellohe%'|'WorldW_rld'|NULL|'%'");
    rows_is("'i=' || i", "'i=7'|'i=-3'|NULL|'i=9223372036854775807'");
    rows_is("d || ''", "'2.5'|'-0.5'|NULL|'1.0e+300'");
    rows_is("b || '/' || q", "NULL|'false/true'|NULL|'true/false'");
    rows_is("'at ' || ts", "'at 2024-02-29 13:45:30.250'|"
                           "'at 1969-12-31 23:59:59.999'|NULL|"
                           "'at 1900-03-01 00:00:00.000'");
    rows_is("iv || ''", "'00:00:10'|'-00:00:01.500'|NULL|'1 day 00:00:00'");
    const_is("1 || 2", "'12'");
    const_is("10.0 || 'x'", "'10.0x'");
    const_is("'a' || NULL", "NULL");
    const_is("'' || ''", "''");
}

static void test_text_functions(void)
{
    rows_is("lower(s)", "'hello'|'world'|NULL|''");
    rows_is("UPPER(s)", "'HELLO'|'WORLD'|NULL|''");
    const_is("upper('héllo')", "'HéLLO'");
    rows_is("length(s)", "5|5|NULL|0");
    const_is("length('héllo€')", "6");
    rows_is("substr(s, 2)", "'ello'|'orld'|NULL|''");
    rows_is("substr(s, 2, 3)", "'ell'|'orl'|NULL|''");
    rows_is("substring(s, -3)", "'llo'|'rld'|NULL|''");
    rows_is("substr(s, j)", "'ello'|'World'|NULL|''");
    const_is("substr('hello', 0, 2)", "'h'");
    const_is("substr('hello', 1, 0)", "''");
    const_is("substr('hello', 4, -2)", "'el'");
    const_is("substr('hello', -10, 7)", "'he'");
    const_is("substr('hello', 10)", "''");
    const_is("substr('héllo', 2, 2)", "'él'");
    const_is("substr('hello', NULL)", "NULL");
    const_is("trim('  a b  ')", "'a b'");
    const_is("ltrim('  a b  ')", "'a b  '");
    const_is("rtrim('  a b  ')", "'  a b'");
    const_is("trim('xxaxx', 'x')", "'a'");
    const_is("trim('xyaxy', 'yx')", "'a'");
    const_is("ltrim('€€a€', '€')", "'a€'");
    const_is("trim('    ')", "''");
    const_is("replace('hello world', 'o', '0')", "'hell0 w0rld'");
    const_is("replace('aaa', 'a', 'bb')", "'bbbbbb'");
    const_is("replace('abc', '', 'x')", "'abc'");
    const_is("replace('abcabc', 'bc', '')", "'aa'");
    const_is("replace('abc', 'zz', 'y')", "'abc'");
    rows_is("replace(s, 'l', 'L')", "'heLLo'|'WorLd'|NULL|''");
    const_is("replace(NULL, 'a', 'b')", "NULL");
}

static void test_numeric_functions(void)
{
    rows_is("abs(i)", "7|3|NULL|9223372036854775807");
    rows_is("abs(d)", "2.5|0.5|NULL|1e+300");
    const_is("abs(-9223372036854775807 - 1)", "NULL");
    const_is("round(2.5)", "3");
    const_is("round(-2.5)", "-3");
    const_is("round(2.4)", "2");
    const_is("round(3.14159, 2)", "3.14");
    const_is("round(-3.14159, 3)", "-3.142");
    const_is("round(1234.5, -2)", "1200");
    const_is("round(1250, -2)", "1300");
    const_is("round(-1250, -2)", "-1300");
    const_is("round(1249, -2)", "1200");
    const_is("round(7)", "7");
    const_is("round(7, -20)", "0");
    const_is("round(2.5, NULL)", "NULL");
    rows_is("round(d)", "3|-1|NULL|1e+300");
    rows_is("floor(d)", "2|-1|NULL|1e+300");
    rows_is("ceil(d)", "3|-0|NULL|1e+300");
    rows_is("CEILING(i)", "7|-3|NULL|9223372036854775807");
    rows_is("floor(i)", "7|-3|NULL|9223372036854775807");
    const_is("power(2, 10)", "1024");
    const_is("power(2.0, 0.5)", "1.4142135623731");
    const_is("power(-8, 0.5)", "NULL");
    const_is("power(10, 400)", "NULL");
    const_is("sqrt(16)", "4");
    const_is("sqrt(-1)", "NULL");
    rows_is("sqrt(d)", "1.58113883008419|NULL|NULL|1e+150");
    rows_is("mod(i, j)", "1|NULL|NULL|0");
    const_is("mod(7.5, 2)", "1.5");
    const_is("mod(-7, 3)", "-1");
    const_is("mod(7, 0)", "NULL");
}

static void test_null_functions(void)
{
    rows_is("coalesce(q, b)", "true|true|NULL|false");
    rows_is("coalesce(s, 'none')", "'hello'|'World'|'none'|''");
    rows_is("coalesce(NULL, i, 0)", "7|-3|0|9223372036854775807");
    rows_is("coalesce(i, d)", "7|-3|NULL|9.22337203685478e+18");
    rows_is("coalesce(ts, '2000-01-01')", "2024-02-29 13:45:30.250|"
            "1969-12-31 23:59:59.999|2000-01-01 00:00:00.000|"
            "1900-03-01 00:00:00.000");
    const_is("coalesce(NULL, NULL)", "NULL");
    rows_is("nullif(i, 7)", "NULL|-3|NULL|9223372036854775807");
    rows_is("nullif(s, '')", "'hello'|'World'|NULL|NULL");
    rows_is("nullif(j, d)", "2|0|NULL|-1");
    const_is("nullif(1, NULL)", "1");
    rows_is("greatest(i, j, 0)", "7|0|0|9223372036854775807");
    rows_is("least(i, j, 0)", "0|-3|0|-1");
    rows_is("greatest(s, p)", "'hello'|'World'|NULL|'%'");
    rows_is("least(d, i)", "2.5|-3|NULL|9.22337203685478e+18");
    rows_is("greatest(ts, TIMESTAMP '2000-01-01')", "2024-02-29 13:45:30.250|"
            "2000-01-01 00:00:00.000|2000-01-01 00:00:00.000|"
            "2000-01-01 00:00:00.000");
    const_is("greatest(NULL, NULL)", "NULL");
}

static void test_date_trunc_extract(void)
{
    rows_is("date_trunc('second', ts)", "2024-02-29 13:45:30.000|"
            "1969-12-31 23:59:59.000|NULL|1900-03-01 00:00:00.000");
    rows_is("date_trunc('minute', ts)", "2024-02-29 13:45:00.000|"
            "1969-12-31 23:59:00.000|NULL|1900-03-01 00:00:00.000");
    rows_is("date_trunc('hour', ts)", "2024-02-29 13:00:00.000|"
            "1969-12-31 23:00:00.000|NULL|1900-03-01 00:00:00.000");
    rows_is("date_trunc('DAY', ts)", "2024-02-29 00:00:00.000|"
            "1969-12-31 00:00:00.000|NULL|1900-03-01 00:00:00.000");
    rows_is("date_trunc('week', ts)", "2024-02-26 00:00:00.000|"
            "1969-12-29 00:00:00.000|NULL|1900-02-26 00:00:00.000");
    rows_is("date_trunc('month', ts)", "2024-02-01 00:00:00.000|"
            "1969-12-01 00:00:00.000|NULL|1900-03-01 00:00:00.000");
    rows_is("date_trunc('year', ts)", "2024-01-01 00:00:00.000|"
            "1969-01-01 00:00:00.000|NULL|1900-01-01 00:00:00.000");
    rows_is("date_trunc(s, ts)", "NULL|NULL|NULL|NULL");  /* unit per row */
    rows_is("date_trunc(CASE WHEN b THEN 'day' ELSE 'month' END, ts)",
            "2024-02-29 00:00:00.000|1969-12-01 00:00:00.000|NULL|"
            "1900-03-01 00:00:00.000");
    const_is("date_trunc('week', TIMESTAMP '2024-01-01 10:00')", "2024-01-01 00:00:00.000");
    const_is("date_trunc('week', TIMESTAMP '2023-12-31 10:00')", "2023-12-25 00:00:00.000");
    const_is("date_trunc('month', TIMESTAMP '2000-02-29 23:59:59.999')",
             "2000-02-01 00:00:00.000");
    const_is("date_trunc('year', TIMESTAMP '1600-12-31 23:00')", "1600-01-01 00:00:00.000");
    rows_is("EXTRACT(YEAR FROM ts)", "2024|1969|NULL|1900");
    rows_is("EXTRACT(MONTH FROM ts)", "2|12|NULL|3");
    rows_is("EXTRACT(DAY FROM ts)", "29|31|NULL|1");
    rows_is("EXTRACT(HOUR FROM ts)", "13|23|NULL|0");
    rows_is("EXTRACT(MINUTE FROM ts)", "45|59|NULL|0");
    rows_is("EXTRACT(SECOND FROM ts)", "30|59|NULL|0");
    rows_is("EXTRACT(MILLISECOND FROM ts)", "250|999|NULL|0");
    rows_is("EXTRACT(DOW FROM ts)", "4|3|NULL|4");      /* Thu, Wed, Thu */
    rows_is("EXTRACT(DOY FROM ts)", "60|365|NULL|60");
    rows_is("EXTRACT(EPOCH FROM ts)", "1709214330|-1|NULL|-2203891200");
    const_is("EXTRACT(DOY FROM TIMESTAMP '2024-12-31')", "366");
    const_is("EXTRACT(DOY FROM TIMESTAMP '2023-12-31')", "365");
    const_is("EXTRACT(DAY FROM TIMESTAMP '2100-02-28' + INTERVAL '1' DAY)", "1");
    const_is("EXTRACT(DAY FROM TIMESTAMP '2000-02-28' + INTERVAL '1' DAY)", "29");
    const_is("EXTRACT(DOW FROM TIMESTAMP '1970-01-04')", "0");
    const_is("EXTRACT(EPOCH FROM TIMESTAMP '1969-12-31 23:59:58.500')", "-2");
    const_is("EXTRACT(YEAR FROM TIMESTAMP '0001-01-01')", "1");
    const_is("to_timestamp(0)", "1970-01-01 00:00:00.000");
    const_is("to_timestamp(1709214330)", "2024-02-29 13:45:30.000");
    const_is("to_timestamp(1.5)", "1970-01-01 00:00:01.500");
    const_is("to_timestamp(-1)", "1969-12-31 23:59:59.000");
    const_is("to_timestamp(9223372036854775807)", "NULL");
    const_is("to_timestamp_ms(1709214330250)", "2024-02-29 13:45:30.250");
    const_is("to_timestamp_ms(-1)", "1969-12-31 23:59:59.999");
    rows_is("to_timestamp_ms(EXTRACT(EPOCH FROM ts) * 1000) = date_trunc('second', ts)",
            "true|true|NULL|true");
}

static void test_type_errors(void)
{
    /* offsets are within the expression text */
    error_is("s + i", "ERROR: operator + cannot take TEXT and BIGINT @0");
    error_is("i * (s - 1)", "ERROR: operator - cannot take TEXT and BIGINT @4");
    error_is("ts = d", "ERROR: cannot compare TIMESTAMP with DOUBLE @0");
    error_is("i = 1 AND s = 2", "ERROR: cannot compare TEXT with BIGINT @10");
    error_is("i AND b", "ERROR: operator AND cannot take BIGINT and BOOLEAN @0");
    error_is("NOT i", "ERROR: operator NOT cannot take BIGINT @0");
    error_is("-s", "ERROR: operator - cannot take TEXT @0");
    error_is("ts + ts", "ERROR: operator + cannot take TIMESTAMP and TIMESTAMP @0");
    error_is("iv * 1.5", "ERROR: operator * cannot take INTERVAL and DOUBLE @0");
    error_is("lenght(s)", "ERROR: unknown function \"lenght\", did you mean \"length\"? @0");
    error_is("1 + fo0(i)", "ERROR: unknown function \"fo0\" @4");
    error_is("flor(d)", "ERROR: unknown function \"flor\", did you mean \"floor\"? @0");
    error_is("cuont(i)", "ERROR: unknown function \"cuont\", did you mean \"count\"? @0");
    error_is("round(d, 1, 2)", "ERROR: function round takes 1 or 2 arguments, got 3 @0");
    error_is("lower(s, s)", "ERROR: function lower takes 1 argument, got 2 @0");
    error_is("replace(s)", "ERROR: function replace takes 3 arguments, got 1 @0");
    error_is("coalesce()", "ERROR: function coalesce takes at least 1 argument, got 0 @0");
    error_is("upper(i)", "ERROR: function upper cannot take BIGINT (argument 1 must be TEXT) @6");
    error_is("sqrt(s)", "ERROR: function sqrt cannot take TEXT (argument 1 must be a number) @5");
    error_is("substr(s, 1.5)",
             "ERROR: function substr cannot take DOUBLE (argument 2 must be BIGINT) @10");
    error_is("count(i)", "ERROR: aggregate function count is not allowed here @0");
    error_is("1 + SUM(d)", "ERROR: aggregate function sum is not allowed here @4");
    error_is("coalesce(s, i)",
             "ERROR: arguments of coalesce have incompatible types TEXT and BIGINT @12");
    error_is("CASE WHEN b THEN 1 ELSE 'x' END",
             "ERROR: CASE branches have incompatible types BIGINT and TEXT @24");
    error_is("CASE WHEN i THEN 1 END",
             "ERROR: CASE WHEN condition must be BOOLEAN, not BIGINT @10");
    error_is("CASE s WHEN 1 THEN 1 END", "ERROR: cannot compare TEXT with BIGINT @12");
    error_is("i IN (1, 'a')", "ERROR: cannot compare BIGINT with TEXT @9");
    error_is("s BETWEEN 1 AND 2", "ERROR: cannot compare TEXT with BIGINT @10");
    error_is("s LIKE 1", "ERROR: operator LIKE cannot take TEXT and BIGINT @0");
    error_is("ts > 'not a time'", "ERROR: invalid timestamp 'not a time' @5");
    error_is("TIMESTAMP '2024-13-01'", "ERROR: invalid timestamp '2024-13-01' @0");
    error_is("date_trunc('fortnight', ts)",
             "ERROR: unknown DATE_TRUNC unit 'fortnight' (expected second, minute, "
             "hour, day, week, month or year) @11");
    error_is("date_trunc('fort' || 'night', ts)",
             "ERROR: unknown DATE_TRUNC unit 'fortnight' @11");
    error_is("EXTRACT(CENTURY FROM ts)",
             "ERROR: unknown EXTRACT field 'CENTURY' (expected YEAR, MONTH, DAY, "
             "HOUR, MINUTE, SECOND, MILLISECOND, DOW, DOY or EPOCH) @8");
    error_is("EXTRACT(YEAR FROM i)",
             "ERROR: function extract cannot take BIGINT (argument 2 must be TIMESTAMP) @18");
    error_is("CAST(ts AS BIGINT)",
             "ERROR: cannot cast TIMESTAMP to BIGINT (use EXTRACT(EPOCH FROM ...)) @0");
    error_is("CAST(i AS TIMESTAMP)",
             "ERROR: cannot cast BIGINT to TIMESTAMP (use TO_TIMESTAMP or TO_TIMESTAMP_MS) @0");
    error_is("CAST(d AS INTERVAL)", "ERROR: cannot cast DOUBLE to INTERVAL @0");
    error_is("lower(DISTINCT s)", "ERROR: DISTINCT is only allowed in aggregate functions @0");
    error_is("CAST(b AS DOUBLE)", "ERROR: cannot cast BOOLEAN to DOUBLE @0");
    error_is("date_trunc('day', '2024-01-01')",
             "ERROR: function date_trunc cannot take TEXT (argument 2 must be "
             "TIMESTAMP; write TIMESTAMP '...') @18");
    ok(sl_is_aggregate_name("COUNT") && sl_is_aggregate_name("avg") &&
       sl_is_aggregate_name("Max") && !sl_is_aggregate_name("round") &&
       !sl_is_aggregate_name("counts"), "sl_is_aggregate_name");
}

static void test_constants(void)
{
    sl_expr *e = parse_expr("upper('ab') || (1 + 2 * 3)");
    sl_error err;
    sl_error_clear(&err);
    sl_expr_type(e, &err);
    sl_cexpr *ce = sl_cexpr_compile(e, &err);
    sl_expr_free(e);             /* the compiled form does not point into e */
    sl_value v;
    ok(ce != NULL && sl_cexpr_eval_const(ce, &v) == 0, "constant folds");
    ok(v.type == SL_TEXT && !v.is_null && v.u.s.n == 3 &&
       memcmp(v.u.s.z, "AB7", 3) == 0, "constant value AB7");
    /* the constant fills any batch size, growing */
    sl_batch *big = new_batch();
    for (int r = 0; r < 1000; r++)
        sl_batch_add_row(big);
    sl_column out;
    sl_cexpr_eval(ce, big, &out);
    int good = 1;
    for (int r = 0; r < 1000; r++)
        good &= !out.null[r] && out.v.s[r].n == 3 && memcmp(out.v.s[r].z, "AB7", 3) == 0;
    ok(good, "constant over 1000 rows");
    sl_cexpr_free(ce);
    sl_batch_free(big);

    e = parse_expr("CAST(NULL AS DOUBLE) + 1");
    sl_error_clear(&err);
    sl_expr_type(e, &err);
    ce = sl_cexpr_compile(e, &err);
    sl_expr_free(e);
    ok(sl_cexpr_eval_const(ce, &v) == 0 && v.is_null && v.type == SL_DOUBLE,
       "NULL constant of type DOUBLE");
    sl_cexpr_free(ce);

    e = parse_expr("NULL");
    sl_error_clear(&err);
    ok(sl_expr_type(e, &err) == 0 && e->type == SL_NULL, "NULL literal types as NULL");
    ce = sl_cexpr_compile(e, &err);
    sl_expr_free(e);
    sl_cexpr_eval(ce, g_std, &out);
    ok(out.null[0] && out.null[3], "NULL expression evaluates to NULLs");
    sl_cexpr_free(ce);
}

/* ---- large batches ------------------------------------------------------ */

static void fill_big(sl_batch *b, int n)
{
    sl_batch_reset(b);
    for (int r = 0; r < n; r++) {
        int row = sl_batch_add_row(b);
        if (r % 7 != 3) {
            sl_batch_set_int(b, row, C_I, r);
            sl_batch_set_double(b, row, C_D, r * 0.5);
        }
        if (r % 11 != 5) {
            char t[32];
            int len = snprintf(t, sizeof t, "r%d", r);
            sl_batch_set_text(b, row, C_S, t, (size_t)len);
        }
        sl_batch_set_int(b, row, C_TS, (int64_t)r * 3600 * 1000 - 86400000LL * 365);
    }
}

/* Evaluates three expressions over n rows and checks every row against C. */
static int check_big(sl_cexpr *filter, sl_cexpr *proj, sl_cexpr *text,
                     sl_batch *b, int n)
{
    fill_big(b, n);
    sl_column f, p, t;
    sl_cexpr_eval(filter, b, &f);
    sl_cexpr_eval(proj, b, &p);
    sl_cexpr_eval(text, b, &t);
    int bad = 0;
    for (int r = 0; r < n && bad < 5; r++) {
        int inull = r % 7 == 3, snull = r % 11 == 5;
        char want_s[64];
        snprintf(want_s, sizeof want_s, "r%d", r);
        int starts1 = !snull && want_s[1] == '1';
        /* i * 3 + 1 > 100 AND s LIKE 'r1%' */
        int fnull, fval;
        int cmp = !inull && (int64_t)r * 3 + 1 > 100;
        if ((!inull && !cmp) || (!snull && !starts1)) {
            fnull = 0;
            fval = 0;
        } else if (inull || snull) {
            fnull = 1;
            fval = 0;
        } else {
            fnull = 0;
            fval = 1;
        }
        if (f.null[r] != fnull || (!fnull && f.v.i[r] != fval))
            bad++, printf("# filter row %d: got %d/%lld\n", r, f.null[r], (long long)f.v.i[r]);
        /* d * 2 + i */
        if (p.null[r] != inull || (!inull && p.v.d[r] != r * 0.5 * 2 + r))
            bad++, printf("# proj row %d\n", r);
        /* s || '-' || i */
        char want_t[80];
        snprintf(want_t, sizeof want_t, "r%d-%d", r, r);
        int tnull = inull || snull;
        if (t.null[r] != tnull ||
            (!tnull && (t.v.s[r].n != (int)strlen(want_t) ||
                        memcmp(t.v.s[r].z, want_t, strlen(want_t)) != 0)))
            bad++, printf("# text row %d\n", r);
    }
    return bad == 0;
}

static sl_cexpr *compile_text(const char *text)
{
    sl_expr *e = parse_expr(text);
    sl_error err;
    sl_error_clear(&err);
    if (e == NULL || sl_expr_type(e, &err) != 0) {
        printf("# %s: %s\n", text, err.msg);
        sl_expr_free(e);
        return NULL;
    }
    sl_cexpr *ce = sl_cexpr_compile(e, &err);
    sl_expr_free(e);
    return ce;
}

static void test_large_batches(void)
{
    sl_cexpr *f = compile_text("i * 3 + 1 > 100 AND s LIKE 'r1%'");
    sl_cexpr *p = compile_text("d * 2 + i");
    sl_cexpr *t = compile_text("s || '-' || i");
    sl_batch *b = new_batch();
    ok(check_big(f, p, t, b, 10000), "10000 rows");
    ok(check_big(f, p, t, b, 100), "then 100 rows");
    ok(check_big(f, p, t, b, 30000), "then 30000 rows (buffers regrow)");
    ok(check_big(f, p, t, b, 1), "then 1 row");
    ok(check_big(f, p, t, b, 0), "then 0 rows");
    ok(check_big(f, p, t, b, 10000), "then 10000 rows again");

    /* DATE_TRUNC and EXTRACT over many hours, checked against each other */
    sl_cexpr *h = compile_text("EXTRACT(HOUR FROM ts) * 3600000 + "
                               "EXTRACT(EPOCH FROM date_trunc('day', ts)) * 1000");
    sl_cexpr *e = compile_text("EXTRACT(EPOCH FROM ts) * 1000");
    fill_big(b, 20000);
    sl_column ho, eo;
    sl_cexpr_eval(h, b, &ho);
    sl_cexpr_eval(e, b, &eo);
    int good = 1;
    for (int r = 0; r < 20000; r++)
        good &= !ho.null[r] && !eo.null[r] && ho.v.i[r] == eo.v.i[r];
    ok(good, "hour + day truncation equals the epoch over 20000 hours");

    /* IN over a constant set, many rows */
    sl_cexpr *in = compile_text("i IN (3, 10, 17, 9999, NULL)");
    sl_cexpr_eval(in, b, &ho);
    good = 1;
    for (int r = 0; r < 20000; r++) {
        int inull = r % 7 == 3;
        int hit = !inull && (r == 10 || r == 17 || r == 9999);
        if (hit)
            good &= !ho.null[r] && ho.v.i[r] == 1;
        else
            good &= ho.null[r] == 1;
    }
    ok(good, "IN with NULL in the list over 20000 rows");
    sl_cexpr_free(in);
    sl_cexpr_free(h);
    sl_cexpr_free(e);
    sl_cexpr_free(f);
    sl_cexpr_free(p);
    sl_cexpr_free(t);
    sl_batch_free(b);
}

/* sl_row_to_json (late events, dead letters): text escaped per JSON, runs
** of plain characters kept as they are, NULL as null. */
static void test_row_to_json(void)
{
    sl_type t[3] = {SL_TEXT, SL_BIGINT, SL_TEXT};
    sl_batch *b = sl_batch_new(3, t, 2);
    int r = sl_batch_add_row(b);
    const char text[] = "a\"b\\c\n\x01" "end";
    sl_batch_set_text(b, r, 0, text, sizeof text - 1);
    sl_batch_set_int(b, r, 1, -7);
    char *names[3] = {"s", "n", "z"};
    sl_buf out = {0};
    sl_row_to_json(b, r, 3, names, &out);
    sl_buf_put(&out, "", 1);
    is_str((const char *)out.z, "{\"s\":\"a\\\"b\\\\c\\u000a\\u0001end\",\"n\":-7,\"z\":null}",
           "row_to_json: quotes, backslashes and control characters escaped");
    out.n = 0;
    sl_batch_set_text(b, r, 0, "plain", 5);
    sl_row_to_json(b, r, 1, names, &out);
    sl_buf_put(&out, "", 1);
    is_str((const char *)out.z, "{\"s\":\"plain\"}", "row_to_json: plain text as it is");
    sl_buf_free(&out);
    sl_batch_free(b);
}

int main(void)
{
    g_std = std_batch();
    g_one = new_batch();
    sl_batch_add_row(g_one);

    test_columns_alias_input();
    test_arithmetic();
    test_time_arithmetic();
    test_comparisons();
    test_three_valued_logic();
    test_in_between();
    test_like();
    test_case();
    test_cast();
    test_concat();
    test_text_functions();
    test_numeric_functions();
    test_null_functions();
    test_date_trunc_extract();
    test_type_errors();
    test_constants();
    test_large_batches();
    test_row_to_json();

    sl_batch_free(g_std);
    sl_batch_free(g_one);
    return tap_done();
}
