/*
** ast.c: constructors, destructors, copies and text forms of the AST nodes
** declared in grammar/ast.h.
**
** Owns the memory rules of the tree: a node owns its strings and children,
** and sl_stmt_free / sl_select_free / sl_expr_free release a whole subtree
** (all accept NULL). Out-of-memory aborts with a message (STYLE: no sane
** recovery in an engine). Also here: sl_expr_to_sql (canonical SQL text of an
** expression, used by EXPLAIN, default column names and tests) and
** sl_stmt_dump (the one-line S-expression form the parser tests compare
** against; docs/dialect.md describes it).
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "engine/error.h"
#include "grammar/ast.h"
#include "grammar/lexer.h"

static char *xstrdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *d = sl_xcalloc(1, n + 1);
    memcpy(d, s, n + 1);
    return d;
}

/* ---- expressions -------------------------------------------------------- */

sl_expr *sl_expr_new(sl_expr_kind kind, int offset)
{
    sl_expr *e = sl_xcalloc(1, sizeof *e);
    e->kind = kind;
    e->offset = offset;
    e->end = offset;
    e->lit_type = SL_NULL;
    e->type = SL_NULL;
    e->cast_type = SL_NULL;
    e->col = -1;
    e->height = 1;
    return e;
}

sl_expr *sl_expr_add_arg(sl_expr *e, sl_expr *child)
{
    if (child->height >= e->height)
        e->height = child->height + 1;
    /* Capacity is the next power of two at or above nargs. */
    int n = e->nargs;
    if (n == 0 || (n & (n - 1)) == 0)
        e->args = sl_xrealloc(e->args, (size_t)(n ? 2 * n : 2) * sizeof *e->args);
    e->args[e->nargs++] = child;
    return e;
}

void sl_expr_free(sl_expr *e)
{
    if (e == NULL)
        return;
    for (int i = 0; i < e->nargs; i++)
        sl_expr_free(e->args[i]);
    free(e->args);
    free(e->name);
    free(e->qualifier);
    free(e->lit_s);
    free(e);
}

sl_expr *sl_expr_dup(const sl_expr *e)
{
    if (e == NULL)
        return NULL;
    sl_expr *d = sl_xcalloc(1, sizeof *d);
    *d = *e;
    d->name = xstrdup(e->name);
    d->qualifier = xstrdup(e->qualifier);
    d->lit_s = xstrdup(e->lit_s);
    d->args = NULL;
    d->nargs = 0;
    for (int i = 0; i < e->nargs; i++)
        sl_expr_add_arg(d, sl_expr_dup(e->args[i]));
    return d;
}

/* ---- SELECT and statements ---------------------------------------------- */

sl_select *sl_select_new(int offset)
{
    sl_select *s = sl_xcalloc(1, sizeof *s);
    s->offset = offset;
    s->end = offset;
    return s;
}

void sl_select_free(sl_select *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->nitems; i++) {
        sl_expr_free(s->items[i].expr);
        free(s->items[i].alias);
    }
    free(s->items);
    free(s->from.name);
    free(s->from.alias);
    for (int i = 0; i < s->njoins; i++) {
        free(s->joins[i].table.name);
        free(s->joins[i].table.alias);
        sl_expr_free(s->joins[i].on);
    }
    free(s->joins);
    sl_expr_free(s->where);
    free(s->watermark.column);
    for (int i = 0; i < s->ngroup; i++)
        sl_expr_free(s->group_by[i]);
    free(s->group_by);
    sl_expr_free(s->having);
    sl_expr_free(s->qualify);
    for (int i = 0; i < s->norder; i++)
        sl_expr_free(s->order_by[i].expr);
    free(s->order_by);
    sl_expr_free(s->limit);
    free(s);
}

sl_stmt *sl_stmt_new(sl_stmt_kind kind, int offset)
{
    sl_stmt *s = sl_xcalloc(1, sizeof *s);
    s->kind = kind;
    s->offset = offset;
    s->end = offset;
    return s;
}

void sl_stmt_free(sl_stmt *s)
{
    if (s == NULL)
        return;
    free(s->name);
    for (int i = 0; i < s->ncols; i++) {
        free(s->cols[i].name);
        free(s->cols[i].type_name);
    }
    free(s->cols);
    for (int i = 0; i < s->npk; i++)
        free(s->pk_cols[i]);
    free(s->pk_cols);
    free(s->watermark_col);
    sl_expr_free(s->watermark_expr);
    for (int i = 0; i < s->nopts; i++) {
        free(s->opts[i].key);
        free(s->opts[i].value);
    }
    free(s->opts);
    sl_select_free(s->select);
    for (int i = 0; i < s->ninsert_cols; i++)
        free(s->insert_cols[i]);
    free(s->insert_cols);
    for (int r = 0; r < s->nrows; r++) {
        for (int c = 0; c < s->row_lens[r]; c++)
            sl_expr_free(s->rows[r][c]);
        free(s->rows[r]);
    }
    free(s->rows);
    free(s->row_lens);
    free(s->path);
    sl_stmt_free(s->inner);
    free(s);
}

const sl_option *sl_stmt_option(const sl_stmt *s, const char *key)
{
    for (int i = 0; s != NULL && i < s->nopts; i++)
        if (strcasecmp(s->opts[i].key, key) == 0)
            return &s->opts[i];
    return NULL;
}

/* ---- a growable string -------------------------------------------------- */

typedef struct sbuf {
    char *z;
    size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const char *z, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->z = sl_xrealloc(b->z, b->cap);
    }
    memcpy(b->z + b->n, z, n);
    b->n += n;
    b->z[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof tmp) {
        sb_put(b, tmp, (size_t)n);
        return;
    }
    char *big = sl_xcalloc(1, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_put(b, big, (size_t)n);
    free(big);
}

static char *sb_done(sbuf *b)
{
    if (b->z == NULL)
        return xstrdup("");
    return b->z;
}

/* 'text' with quotes doubled. */
static void sb_quoted(sbuf *b, const char *s, char q)
{
    sb_put(b, &q, 1);
    for (const char *c = s; *c; c++) {
        sb_put(b, c, 1);
        if (*c == q)
            sb_put(b, c, 1);
    }
    sb_put(b, &q, 1);
}

/* An identifier, double-quoted when it is not a plain name or (unless
** it names a function, which never clashes with a keyword) is a keyword. */
static void sb_name(sbuf *b, const char *s, int is_function)
{
    int plain = (s[0] != '\0') &&
                !(s[0] >= '0' && s[0] <= '9') &&
                (is_function || sl_keyword_code(s, (int)strlen(s)) == 0);
    for (const char *c = s; plain && *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '_'))
            plain = 0;
    if (plain)
        sb_puts(b, s);
    else
        sb_quoted(b, s, '"');
}

static void sb_ident(sbuf *b, const char *s)
{
    sb_name(b, s, 0);
}

static void sb_double(sbuf *b, double d)
{
    char tmp[64];
    if (isinf(d)) {
        sb_puts(b, d > 0 ? "1e999" : "-1e999");
        return;
    }
    snprintf(tmp, sizeof tmp, "%.15g", d);
    if (strtod(tmp, NULL) != d)
        snprintf(tmp, sizeof tmp, "%.17g", d);
    if (strpbrk(tmp, ".eEn") == NULL)
        strcat(tmp, ".0");
    sb_puts(b, tmp);
}

/* INTERVAL '<n>' <largest unit dividing ms>. */
static void sb_interval(sbuf *b, int64_t ms)
{
    static const struct { int64_t ms; const char *name; } units[] = {
        {86400000, "DAY"}, {3600000, "HOUR"}, {60000, "MINUTE"},
        {1000, "SECOND"}, {1, "MILLISECOND"},
    };
    unsigned i = 0;
    while (i < 4 && (ms == 0 || ms % units[i].ms != 0))
        i++;
    sb_printf(b, "INTERVAL '%lld' %s", (long long)(ms / units[i].ms),
              units[i].name);
}

/* ---- sl_expr_to_sql ----------------------------------------------------- */

const char *sl_op_name(sl_op op)
{
    switch (op) {
    case SL_OP_NEG: return "-";
    case SL_OP_PLUS: return "+";
    case SL_OP_NOT: return "NOT";
    case SL_OP_ADD: return "+";
    case SL_OP_SUB: return "-";
    case SL_OP_MUL: return "*";
    case SL_OP_DIV: return "/";
    case SL_OP_MOD: return "%";
    case SL_OP_CONCAT: return "||";
    case SL_OP_EQ: return "=";
    case SL_OP_NE: return "<>";
    case SL_OP_LT: return "<";
    case SL_OP_LE: return "<=";
    case SL_OP_GT: return ">";
    case SL_OP_GE: return ">=";
    case SL_OP_AND: return "AND";
    case SL_OP_OR: return "OR";
    case SL_OP_NONE: break;
    }
    return "?";
}

static int is_compound(const sl_expr *e)
{
    switch (e->kind) {
    case SL_EX_UNARY: case SL_EX_BINARY: case SL_EX_IN: case SL_EX_BETWEEN:
    case SL_EX_LIKE: case SL_EX_ISNULL:
        return 1;
    case SL_EX_LITERAL:   /* a negative number after an operator */
        return (e->lit_type == SL_BIGINT && e->lit_i < 0) ||
               (e->lit_type == SL_DOUBLE && signbit(e->lit_d));
    default:
        return 0;
    }
}

static void to_sql(sbuf *b, const sl_expr *e);

/* An operand: parenthesised when it is itself an operator expression. */
static void to_sql_operand(sbuf *b, const sl_expr *e)
{
    if (is_compound(e)) {
        sb_puts(b, "(");
        to_sql(b, e);
        sb_puts(b, ")");
    } else {
        to_sql(b, e);
    }
}

static void to_sql_list(sbuf *b, sl_expr *const *args, int n)
{
    for (int i = 0; i < n; i++) {
        if (i)
            sb_puts(b, ", ");
        to_sql(b, args[i]);
    }
}

static int is_extract(const sl_expr *e)
{
    return e->kind == SL_EX_FUNC && e->name != NULL &&
           strcasecmp(e->name, "extract") == 0 && e->nargs == 2 &&
           e->args[0]->kind == SL_EX_LITERAL &&
           e->args[0]->lit_type == SL_TEXT;
}

static void to_sql(sbuf *b, const sl_expr *e)
{
    switch (e->kind) {
    case SL_EX_LITERAL:
        switch (e->lit_type) {
        case SL_NULL: sb_puts(b, "NULL"); break;
        case SL_BOOL: sb_puts(b, e->lit_i ? "TRUE" : "FALSE"); break;
        case SL_BIGINT: sb_printf(b, "%lld", (long long)e->lit_i); break;
        case SL_DOUBLE: sb_double(b, e->lit_d); break;
        case SL_TEXT: sb_quoted(b, e->lit_s ? e->lit_s : "", '\''); break;
        case SL_TIMESTAMP:
            sb_puts(b, "TIMESTAMP ");
            sb_quoted(b, e->lit_s ? e->lit_s : "", '\'');
            break;
        case SL_INTERVAL: sb_interval(b, e->lit_i); break;
        }
        break;
    case SL_EX_COLUMN:
        if (e->qualifier) {
            sb_ident(b, e->qualifier);
            sb_puts(b, ".");
        }
        sb_ident(b, e->name ? e->name : "");
        break;
    case SL_EX_STAR:
        if (e->qualifier) {
            sb_ident(b, e->qualifier);
            sb_puts(b, ".");
        }
        sb_puts(b, "*");
        break;
    case SL_EX_UNARY:
        sb_puts(b, sl_op_name(e->op));
        if (e->op == SL_OP_NOT)
            sb_puts(b, " ");
        to_sql_operand(b, e->args[0]);
        break;
    case SL_EX_BINARY:
        to_sql_operand(b, e->args[0]);
        sb_printf(b, " %s ", sl_op_name(e->op));
        to_sql_operand(b, e->args[1]);
        break;
    case SL_EX_FUNC:
        if (is_extract(e)) {
            sb_printf(b, "EXTRACT(%s FROM ", e->args[0]->lit_s);
            to_sql(b, e->args[1]);
            sb_puts(b, ")");
            break;
        }
        sb_name(b, e->name ? e->name : "", 1);
        sb_puts(b, "(");
        if (e->flags & SL_EXF_STAR)
            sb_puts(b, "*");
        if (e->flags & SL_EXF_DISTINCT)
            sb_puts(b, "DISTINCT ");
        to_sql_list(b, e->args, e->nargs);
        sb_puts(b, ")");
        break;
    case SL_EX_CASE: {
        int i = 0;
        int n = e->nargs - ((e->flags & SL_EXF_ELSE) ? 1 : 0);
        sb_puts(b, "CASE");
        if (e->flags & SL_EXF_OPERAND) {
            sb_puts(b, " ");
            to_sql(b, e->args[i++]);
        }
        for (; i + 1 < n; i += 2) {
            sb_puts(b, " WHEN ");
            to_sql(b, e->args[i]);
            sb_puts(b, " THEN ");
            to_sql(b, e->args[i + 1]);
        }
        if (e->flags & SL_EXF_ELSE) {
            sb_puts(b, " ELSE ");
            to_sql(b, e->args[e->nargs - 1]);
        }
        sb_puts(b, " END");
        break;
    }
    case SL_EX_CAST:
        sb_puts(b, "CAST(");
        to_sql(b, e->args[0]);
        sb_printf(b, " AS %s)", sl_type_name(e->cast_type));
        break;
    case SL_EX_IN:
        to_sql_operand(b, e->args[0]);
        sb_puts(b, (e->flags & SL_EXF_NOT) ? " NOT IN (" : " IN (");
        to_sql_list(b, e->args + 1, e->nargs - 1);
        sb_puts(b, ")");
        break;
    case SL_EX_BETWEEN:
        to_sql_operand(b, e->args[0]);
        sb_puts(b, (e->flags & SL_EXF_NOT) ? " NOT BETWEEN " : " BETWEEN ");
        to_sql_operand(b, e->args[1]);
        sb_puts(b, " AND ");
        to_sql_operand(b, e->args[2]);
        break;
    case SL_EX_LIKE:
        to_sql_operand(b, e->args[0]);
        sb_puts(b, (e->flags & SL_EXF_NOT) ? " NOT LIKE " : " LIKE ");
        to_sql_operand(b, e->args[1]);
        break;
    case SL_EX_ISNULL:
        to_sql_operand(b, e->args[0]);
        sb_puts(b, (e->flags & SL_EXF_NOT) ? " IS NOT NULL" : " IS NULL");
        break;
    case SL_EX_OVER:
        sb_name(b, e->name ? e->name : "", 1);
        sb_puts(b, "() OVER (");
        if (e->nargs > 1) {
            sb_puts(b, "PARTITION BY ");
            to_sql_list(b, e->args + 1, e->nargs - 1);
            sb_puts(b, " ");
        }
        sb_puts(b, "ORDER BY ");
        to_sql(b, e->args[0]);
        sb_puts(b, (e->flags & SL_EXF_DESC) ? " DESC)" : ")");
        break;
    }
}

char *sl_expr_to_sql(const sl_expr *e)
{
    sbuf b = {0};
    if (e != NULL)
        to_sql(&b, e);
    return sb_done(&b);
}

/* ---- sl_stmt_dump ------------------------------------------------------- */

static const char *op_dump(sl_op op)
{
    switch (op) {
    case SL_OP_NEG: return "neg";
    case SL_OP_PLUS: return "pos";
    case SL_OP_NOT: return "not";
    case SL_OP_AND: return "and";
    case SL_OP_OR: return "or";
    default: return sl_op_name(op);
    }
}

static void dump_expr(sbuf *b, const sl_expr *e);

static void dump_args(sbuf *b, sl_expr *const *args, int n)
{
    for (int i = 0; i < n; i++) {
        sb_puts(b, " ");
        dump_expr(b, args[i]);
    }
}

/* Expressions as S-expressions: literals and columns as SQL, operators as
** (op a b), calls as (call name args), etc. */
static void dump_expr(sbuf *b, const sl_expr *e)
{
    const char *not = (e->flags & SL_EXF_NOT) ? "not-" : "";
    switch (e->kind) {
    case SL_EX_LITERAL:
        if (e->lit_type == SL_INTERVAL)
            sb_printf(b, "(interval %lld)", (long long)e->lit_i);
        else if (e->lit_type == SL_TIMESTAMP) {
            sb_puts(b, "(timestamp ");
            sb_quoted(b, e->lit_s ? e->lit_s : "", '\'');
            sb_puts(b, ")");
        } else
            to_sql(b, e);
        break;
    case SL_EX_COLUMN:
    case SL_EX_STAR:
        to_sql(b, e);
        break;
    case SL_EX_UNARY:
    case SL_EX_BINARY:
        sb_printf(b, "(%s", op_dump(e->op));
        dump_args(b, e->args, e->nargs);
        sb_puts(b, ")");
        break;
    case SL_EX_FUNC:
        sb_puts(b, "(call ");
        sb_name(b, e->name ? e->name : "", 1);
        if (e->flags & SL_EXF_DISTINCT)
            sb_puts(b, " distinct");
        if (e->flags & SL_EXF_STAR)
            sb_puts(b, " *");
        dump_args(b, e->args, e->nargs);
        sb_puts(b, ")");
        break;
    case SL_EX_CASE: {
        int i = 0;
        int n = e->nargs - ((e->flags & SL_EXF_ELSE) ? 1 : 0);
        sb_puts(b, "(case");
        if (e->flags & SL_EXF_OPERAND) {
            sb_puts(b, " ");
            dump_expr(b, e->args[i++]);
        }
        for (; i + 1 < n; i += 2) {
            sb_puts(b, " (when");
            dump_args(b, e->args + i, 2);
            sb_puts(b, ")");
        }
        if (e->flags & SL_EXF_ELSE) {
            sb_puts(b, " (else");
            dump_args(b, e->args + e->nargs - 1, 1);
            sb_puts(b, ")");
        }
        sb_puts(b, ")");
        break;
    }
    case SL_EX_CAST:
        sb_puts(b, "(cast ");
        dump_expr(b, e->args[0]);
        sb_printf(b, " %s)", sl_type_name(e->cast_type));
        break;
    case SL_EX_IN:
        sb_printf(b, "(%sin", not);
        dump_args(b, e->args, e->nargs);
        sb_puts(b, ")");
        break;
    case SL_EX_BETWEEN:
        sb_printf(b, "(%sbetween", not);
        dump_args(b, e->args, e->nargs);
        sb_puts(b, ")");
        break;
    case SL_EX_LIKE:
        sb_printf(b, "(%slike", not);
        dump_args(b, e->args, e->nargs);
        sb_puts(b, ")");
        break;
    case SL_EX_ISNULL:
        sb_printf(b, "(is-%snull ", not);
        dump_expr(b, e->args[0]);
        sb_puts(b, ")");
        break;
    case SL_EX_OVER:
        sb_puts(b, "(over ");
        sb_name(b, e->name ? e->name : "", 1);
        sb_puts(b, (e->flags & SL_EXF_DESC) ? " (order-desc " : " (order ");
        dump_expr(b, e->args[0]);
        sb_puts(b, ")");
        if (e->nargs > 1) {
            sb_puts(b, " (partition");
            dump_args(b, e->args + 1, e->nargs - 1);
            sb_puts(b, ")");
        }
        sb_puts(b, ")");
        break;
    }
}

static void dump_table(sbuf *b, const sl_table_ref *t)
{
    sb_ident(b, t->name);
    if (t->alias) {
        sb_puts(b, " ");
        sb_ident(b, t->alias);
    }
}

static void dump_select(sbuf *b, const sl_select *s)
{
    sb_puts(b, "(select");
    if (s->distinct)
        sb_puts(b, " distinct");
    sb_puts(b, " (items");
    for (int i = 0; i < s->nitems; i++) {
        sb_puts(b, " ");
        if (s->items[i].alias) {
            sb_puts(b, "(as ");
            dump_expr(b, s->items[i].expr);
            sb_puts(b, " ");
            sb_ident(b, s->items[i].alias);
            sb_puts(b, ")");
        } else {
            dump_expr(b, s->items[i].expr);
        }
    }
    sb_puts(b, ")");
    if (s->has_from) {
        sb_puts(b, " (from ");
        dump_table(b, &s->from);
        sb_puts(b, ")");
    }
    for (int i = 0; i < s->njoins; i++) {
        sb_printf(b, " (%s-join ", s->joins[i].kind == SL_JOIN_LEFT ? "left" : "inner");
        dump_table(b, &s->joins[i].table);
        sb_puts(b, " ");
        dump_expr(b, s->joins[i].on);
        sb_puts(b, ")");
    }
    if (s->where) {
        sb_puts(b, " (where ");
        dump_expr(b, s->where);
        sb_puts(b, ")");
    }
    switch (s->window.kind) {
    case SL_WIN_TUMBLING:
        sb_printf(b, " (window tumbling %lld)", (long long)s->window.size_ms);
        break;
    case SL_WIN_HOPPING:
        sb_printf(b, " (window hopping %lld %lld)", (long long)s->window.size_ms,
                  (long long)s->window.advance_ms);
        break;
    case SL_WIN_SESSION:
        sb_printf(b, " (window session %lld)", (long long)s->window.gap_ms);
        break;
    case SL_WIN_NONE:
        break;
    }
    if (s->watermark.present) {
        sb_puts(b, " (watermark ");
        sb_ident(b, s->watermark.column);
        sb_printf(b, " %lld)", (long long)s->watermark.delay_ms);
    }
    if (s->ngroup) {
        sb_puts(b, " (group-by");
        dump_args(b, s->group_by, s->ngroup);
        sb_puts(b, ")");
    }
    if (s->having) {
        sb_puts(b, " (having ");
        dump_expr(b, s->having);
        sb_puts(b, ")");
    }
    if (s->qualify) {
        sb_puts(b, " (qualify ");
        dump_expr(b, s->qualify);
        sb_puts(b, ")");
    }
    if (s->emit.kind == SL_EMIT_CHANGES) {
        if (s->emit.every_ms)
            sb_printf(b, " (emit changes %lld)", (long long)s->emit.every_ms);
        else
            sb_puts(b, " (emit changes)");
    } else if (s->emit.kind == SL_EMIT_ON_WINDOW_CLOSE) {
        sb_puts(b, " (emit on-window-close)");
    }
    if (s->norder) {
        sb_puts(b, " (order-by");
        for (int i = 0; i < s->norder; i++) {
            sb_puts(b, s->order_by[i].desc ? " (desc " : " ");
            dump_expr(b, s->order_by[i].expr);
            if (s->order_by[i].desc)
                sb_puts(b, ")");
        }
        sb_puts(b, ")");
    }
    if (s->limit) {
        sb_puts(b, " (limit ");
        dump_expr(b, s->limit);
        sb_puts(b, ")");
    }
    sb_puts(b, ")");
}

static const char *object_name(sl_object_kind k)
{
    switch (k) {
    case SL_OBJ_SOURCE: return "source";
    case SL_OBJ_TABLE: return "table";
    case SL_OBJ_VIEW: return "view";
    case SL_OBJ_MVIEW: return "materialized-view";
    case SL_OBJ_STABLE: return "streaming-table";
    case SL_OBJ_SINK: return "sink";
    case SL_OBJ_QUERY: return "query";
    case SL_OBJ_ANY: break;
    }
    return "any";
}

static void dump_opts(sbuf *b, const sl_stmt *s)
{
    if (s->nopts == 0)
        return;
    sb_puts(b, " (with");
    for (int i = 0; i < s->nopts; i++) {
        sb_printf(b, " (%s ", s->opts[i].key);
        if (s->opts[i].value_type == SL_TEXT)
            sb_quoted(b, s->opts[i].value, '\'');
        else
            sb_puts(b, s->opts[i].value);
        sb_puts(b, ")");
    }
    sb_puts(b, ")");
}

static void dump_names(sbuf *b, const char *tag, char *const *v, int n)
{
    if (n == 0)
        return;
    sb_printf(b, " (%s", tag);
    for (int i = 0; i < n; i++) {
        sb_puts(b, " ");
        sb_ident(b, v[i]);
    }
    sb_puts(b, ")");
}

static void dump_stmt(sbuf *b, const sl_stmt *s);

static void dump_create_head(sbuf *b, const char *what, const sl_stmt *s)
{
    sb_printf(b, "(create-%s", what);
    if (s->or_replace)
        sb_puts(b, " or-replace");
    if (s->if_not_exists)
        sb_puts(b, " if-not-exists");
    sb_puts(b, " ");
    sb_ident(b, s->name);
}

static void dump_stmt(sbuf *b, const sl_stmt *s)
{
    switch (s->kind) {
    case SL_ST_CREATE_SOURCE:
    case SL_ST_CREATE_TABLE:
        dump_create_head(b, s->kind == SL_ST_CREATE_SOURCE ? "source" : "table", s);
        sb_puts(b, " (cols");
        for (int i = 0; i < s->ncols; i++) {
            sb_puts(b, " (");
            sb_ident(b, s->cols[i].name);
            sb_printf(b, " %s", s->cols[i].type_name);
            if (s->cols[i].type == SL_NULL)
                sb_puts(b, "?");
            if (s->cols[i].primary_key)
                sb_puts(b, " primary-key");
            if (s->cols[i].not_null)
                sb_puts(b, " not-null");
            sb_puts(b, ")");
        }
        sb_puts(b, ")");
        dump_names(b, "primary-key", s->pk_cols, s->npk);
        if (s->watermark_col) {
            sb_puts(b, " (watermark ");
            sb_ident(b, s->watermark_col);
            sb_puts(b, " ");
            dump_expr(b, s->watermark_expr);
            sb_puts(b, ")");
        }
        dump_opts(b, s);
        sb_puts(b, ")");
        break;
    case SL_ST_CREATE_VIEW:
    case SL_ST_CREATE_MVIEW:
    case SL_ST_CREATE_STABLE:
    case SL_ST_CREATE_SINK:
        dump_create_head(b, s->kind == SL_ST_CREATE_VIEW ? "view" :
                            s->kind == SL_ST_CREATE_MVIEW ? "mview" :
                            s->kind == SL_ST_CREATE_STABLE ? "stable" : "sink", s);
        sb_puts(b, " ");
        dump_select(b, s->select);
        dump_opts(b, s);
        sb_puts(b, ")");
        break;
    case SL_ST_SELECT:
        dump_select(b, s->select);
        break;
    case SL_ST_INSERT:
        sb_puts(b, "(insert ");
        sb_ident(b, s->name);
        dump_names(b, "cols", s->insert_cols, s->ninsert_cols);
        if (s->select) {
            sb_puts(b, " ");
            dump_select(b, s->select);
        } else {
            sb_puts(b, " (values");
            for (int r = 0; r < s->nrows; r++) {
                sb_puts(b, " (");
                for (int c = 0; c < s->row_lens[r]; c++) {
                    if (c)
                        sb_puts(b, " ");
                    dump_expr(b, s->rows[r][c]);
                }
                sb_puts(b, ")");
            }
            sb_puts(b, ")");
        }
        sb_puts(b, ")");
        break;
    case SL_ST_COPY:
        sb_puts(b, "(copy ");
        sb_ident(b, s->name);
        sb_puts(b, " ");
        sb_quoted(b, s->path, '\'');
        dump_opts(b, s);
        sb_puts(b, ")");
        break;
    case SL_ST_SHOW:
        sb_printf(b, "(show %s)", object_name(s->object));
        break;
    case SL_ST_DESCRIBE:
        sb_puts(b, "(describe ");
        sb_ident(b, s->name);
        sb_puts(b, ")");
        break;
    case SL_ST_EXPLAIN:
        sb_puts(b, "(explain ");
        dump_stmt(b, s->inner);
        sb_puts(b, ")");
        break;
    case SL_ST_DROP:
        sb_printf(b, "(drop %s%s ", object_name(s->object),
                  s->if_exists ? " if-exists" : "");
        sb_ident(b, s->name);
        sb_puts(b, ")");
        break;
    case SL_ST_ALTER_RESUME:
        sb_printf(b, "(alter %s ", object_name(s->object));
        sb_ident(b, s->name);
        sb_puts(b, " resume)");
        break;
    case SL_ST_SET:
        sb_puts(b, "(set");
        dump_opts(b, s);
        sb_puts(b, ")");
        break;
    }
}

char *sl_stmt_dump(const sl_stmt *s)
{
    sbuf b = {0};
    if (s != NULL)
        dump_stmt(&b, s);
    return sb_done(&b);
}
