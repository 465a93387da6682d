/*
** binder.c: from a parsed SELECT and the catalog to a logical plan.
**
** Resolves names (source and joined-table columns, window_start and
** window_end, select aliases in GROUP BY), splits an aggregate query into
** its group keys, its aggregate calls and the expressions over them, checks
** the streaming rules (a WINDOW needs event time, EMIT ON WINDOW CLOSE needs
** a WINDOW, every selected column must be grouped) and types everything.
** Every error points at the place in the statement it is about. The plan
** owns copies of the expressions; the statement is left untouched.
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sqlite3.h>
#include "engine/error.h"
#include "engine/plan.h"
#include "engine/expr.h"
#include "engine/session_int.h"
#include "storage/db.h"

typedef struct binder {
    sl_session *s;
    sl_plan *p;
    sl_error *err;
    const sl_expr *qualify_fn; /* QUALIFY's window function (in the stmt) */
} binder;

void sl_plan_free(sl_plan *p)
{
    if (p == NULL)
        return;
    free(p->name);
    free(p->src_alias);
    sl_source_def_free(p->src);
    for (int i = 0; i < p->ninput; i++)
        free(p->input_names[i]);
    free(p->input_names);
    free(p->input_types);
    if (p->wjoin) {
        sl_source_def_free(p->wjoin->right);
        free(p->wjoin->right_alias);
        for (int s = 0; s < 2; s++) {
            free(p->wjoin->keys[s]);
            for (int i = 0; i < p->wjoin->nfilters[s]; i++)
                sl_expr_free(p->wjoin->filters[s][i]);
            free(p->wjoin->filters[s]);
        }
        free(p->wjoin);
    }
    if (p->join) {
        free(p->join->table);
        free(p->join->alias);
        for (int i = 0; i < p->join->ncols; i++)
            free(p->join->col_names[i]);
        free(p->join->col_names);
        free(p->join->col_types);
        free(p->join);
    }
    sl_expr_free(p->where);
    for (int i = 0; i < p->ngroup; i++)
        sl_expr_free(p->group[i]);
    free(p->group);
    for (int i = 0; i < p->nagg; i++) {
        sl_expr_free(p->aggs[i].arg);
        free(p->aggs[i].sql);
    }
    free(p->aggs);
    for (int i = 0; i < p->nout; i++) {
        free(p->out_names[i]);
        sl_expr_free(p->out[i]);
    }
    free(p->out_names);
    free(p->out_types);
    free(p->out);
    free(p->key_cols);
    sl_expr_free(p->having);
    free(p->having_sql);
    if (p->topn) {
        sl_expr_free(p->topn->order);
        for (int i = 0; i < p->topn->npart; i++)
            sl_expr_free(p->topn->part[i]);
        free(p->topn->part);
        free(p->topn->over_sql);
        free(p->topn->sql);
        free(p->topn->carry);
        free(p->topn->carry_types);
        free(p->topn);
    }
    if (p->dedup) {
        for (int i = 0; i < p->dedup->nkeys; i++)
            sl_expr_free(p->dedup->keys[i]);
        free(p->dedup->keys);
        free(p->dedup->sql);
        free(p->dedup->over_sql);
        free(p->dedup);
    }
    free(p);
}

static void add_input(sl_plan *p, const char *name, sl_type t)
{
    p->input_names = realloc(p->input_names,
                             sizeof(char *) * (size_t)(p->ninput + 1));
    p->input_types = realloc(p->input_types,
                             sizeof(sl_type) * (size_t)(p->ninput + 1));
    if (!p->input_names || !p->input_types)
        abort();
    p->input_names[p->ninput] = strdup(name);
    p->input_types[p->ninput] = t;
    p->ninput++;
}

static int is_window_col(const char *name)
{
    return strcasecmp(name, "window_start") == 0 ||
           strcasecmp(name, "window_end") == 0;
}

/* 1 when the input row has a column called name (a source may have its
** own window_start column; it wins unless the query has a WINDOW). */
static int has_input_column(const sl_plan *p, const char *name)
{
    for (int i = 0; i < p->ninput; i++)
        if (strcasecmp(p->input_names[i], name) == 0)
            return 1;
    return 0;
}

/* The input-row columns [*lo, *hi) of the relation e->qualifier names (the
** source, the joined table or source), or -1 with err set. */
static int relation_columns(binder *b, const sl_expr *e, int *lo, int *hi)
{
    sl_plan *p = b->p;
    int nsrc = p->src->ncols;
    *lo = 0;
    *hi = p->ninput;
    if (e->qualifier) {
        int is_src = strcasecmp(e->qualifier, p->src->name) == 0 ||
                     (p->src_alias && strcasecmp(e->qualifier,
                                                 p->src_alias) == 0);
        int is_join = p->join && (strcasecmp(e->qualifier, p->join->table) == 0 ||
                                  (p->join->alias &&
                                   strcasecmp(e->qualifier, p->join->alias) == 0));
        const sl_plan_wjoin *wj = p->wjoin;
        int is_right = wj && (strcasecmp(e->qualifier, wj->right->name) == 0 ||
                              (wj->right_alias &&
                               strcasecmp(e->qualifier, wj->right_alias) == 0));
        if (is_src && !is_right) {
            *hi = nsrc;
        } else if (is_join) {
            *lo = nsrc;
        } else if (is_right && !is_src) {
            *lo = wj->col0[1];
            *hi = *lo + wj->right->ncols;
        } else if (is_src) {
            return sl_error_set(b->err, e->offset, "\"%s\" names both "
                                "sources: give them different aliases",
                                e->qualifier);
        } else if (e->kind == SL_EX_STAR) {
            return sl_error_set(b->err, e->offset, "unknown relation \"%s\" "
                                "in %s.*", e->qualifier, e->qualifier);
        } else {
            return sl_error_set(b->err, e->offset, "unknown relation \"%s\" "
                                "in column reference %s.%s", e->qualifier,
                                e->qualifier, e->name);
        }
    }
    return 0;
}

/* Resolves a column reference against the input row: returns its index, or
** -1 with err set (with a suggestion when a name is close). */
static int resolve_input(binder *b, const sl_expr *e)
{
    sl_plan *p = b->p;
    int lo, hi;
    if (relation_columns(b, e, &lo, &hi) != 0)
        return -1;
    int found = -1;
    for (int i = lo; i < hi; i++) {
        if (strcasecmp(p->input_names[i], e->name) == 0) {
            if (found >= 0)
                return sl_error_set(b->err, e->offset, "column reference "
                                    "\"%s\" is ambiguous (qualify it with "
                                    "the relation name)", e->name);
            found = i;
        }
    }
    if (found >= 0)
        return found;
    const char *close = NULL;
    int best = 3;
    for (int i = lo; i < hi; i++) {
        int d = sl_edit_distance(e->name, p->input_names[i], 2);
        if (d < best) {
            best = d;
            close = p->input_names[i];
        }
    }
    if (close)
        return sl_error_set(b->err, e->offset, "unknown column \"%s\" (did "
                            "you mean \"%s\"?)", e->name, close);
    return sl_error_set(b->err, e->offset, "unknown column \"%s\" in %s",
                        e->name, p->src->name);
}

/* Binds every column of e to the input row (no aggregates allowed).
** what names the clause for errors ("WHERE"). */
static int bind_input_expr(binder *b, sl_expr *e, const char *what)
{
    if (e == NULL)
        return 0;
    if (e->kind == SL_EX_COLUMN) {
        int c = resolve_input(b, e);
        if (c < 0)
            return -1;
        e->col = c;
        e->type = b->p->input_types[c];
        return 0;
    }
    if (e->kind == SL_EX_STAR)
        return sl_error_set(b->err, e->offset, "* is not allowed here");
    if (e->kind == SL_EX_FUNC && sl_is_aggregate_name(e->name))
        return sl_error_set(b->err, e->offset, "aggregate function %s is not "
                            "allowed in %s", e->name, what);
    if (e->kind == SL_EX_OVER)
        return sl_error_set(b->err, e->offset, "the window function %s() is "
                            "not allowed in %s (only in QUALIFY and the "
                            "select list of a query with QUALIFY)", e->name,
                            what);
    for (int i = 0; i < e->nargs; i++)
        if (bind_input_expr(b, e->args[i], what) != 0)
            return -1;
    return 0;
}

static int type_expr(binder *b, sl_expr *e)
{
    return sl_expr_type(e, b->err);
}

static char *canonical(const sl_expr *e)
{
    return sl_expr_to_sql(e);
}

static sl_expr *column_ref(int col, sl_type type, int offset, int end)
{
    sl_expr *c = sl_expr_new(SL_EX_COLUMN, offset);
    c->end = end;
    c->name = strdup("?");
    c->col = col;
    c->type = type;
    return c;
}

/* The group-row column of a window Top-N that keeps input column c (added
** to the kept columns the first time). */
static sl_expr *topn_carry_ref(sl_plan *p, int c, int offset, int end)
{
    sl_plan_topn *t = p->topn;
    int k = 0;
    while (k < t->spec.ncarry && t->carry[k] != c)
        k++;
    if (k == t->spec.ncarry) {
        t->carry = sl_xrealloc(t->carry, sizeof *t->carry * (size_t)(k + 1));
        t->carry_types = sl_xrealloc(t->carry_types,
                                     sizeof *t->carry_types * (size_t)(k + 1));
        t->carry[k] = c;
        t->carry_types[k] = p->input_types[c];
        t->spec.ncarry++;
        t->spec.carry_types = t->carry_types;
    }
    return column_ref(p->ngroup + 3 + k, p->input_types[c], offset, end);
}

/* The QUALIFY window function in a select item (either kind of Top-N):
** the rank column of the group row. Any other window function is an
** error. */
static int bind_rank_ref(binder *b, sl_expr **pe)
{
    sl_plan *p = b->p;
    sl_expr *e = *pe;
    char *sql = canonical(e);
    int same = strcasecmp(sql, p->topn->over_sql) == 0;
    free(sql);
    if (!same)
        return sl_error_set(b->err, e->offset, "only the window function of "
                            "QUALIFY can be selected: %s", p->topn->over_sql);
    *pe = column_ref(p->ngroup + 2, SL_BIGINT, e->offset, e->end);
    sl_expr_free(e);
    return 0;
}

/* An input column in a select item of a Top-N over rows: a kept column of
** the group row. */
static int bind_topn_column(binder *b, sl_expr **pe)
{
    sl_expr *e = *pe;
    int c = resolve_input(b, e);
    if (c < 0)
        return -1;
    *pe = topn_carry_ref(b->p, c, e->offset, e->end);
    sl_expr_free(e);
    return 0;
}

/* Rewrites *pe (a select item or HAVING) to be over the group row. */
static int bind_group_expr(binder *b, sl_expr **pe)
{
    sl_plan *p = b->p;
    sl_expr *e = *pe;
    /* a group key, by structure */
    if (e->kind != SL_EX_LITERAL) {
        char *sql = canonical(e);
        for (int i = 0; i < p->ngroup; i++) {
            char *k = canonical(p->group[i]);
            int same = strcasecmp(sql, k) == 0;
            free(k);
            if (same) {
                free(sql);
                *pe = column_ref(i, p->group[i]->type, e->offset, e->end);
                sl_expr_free(e);
                return 0;
            }
        }
        free(sql);
    }
    if (e->kind == SL_EX_COLUMN && e->qualifier == NULL &&
        is_window_col(e->name) &&
        (p->window.kind != SL_WIN_NONE || !has_input_column(p, e->name))) {
        if (p->window.kind == SL_WIN_NONE)
            return sl_error_set(b->err, e->offset, "%s needs a WINDOW clause",
                                e->name);
        int c = p->ngroup + (strcasecmp(e->name, "window_end") == 0);
        *pe = column_ref(c, SL_TIMESTAMP, e->offset, e->end);
        sl_expr_free(e);
        return 0;
    }
    if (p->topn && e->kind == SL_EX_OVER)
        return bind_rank_ref(b, pe);
    if (p->topn && !p->topn->of_groups && e->kind == SL_EX_COLUMN)
        return bind_topn_column(b, pe);
    if (e->kind == SL_EX_OVER)
        return sl_error_set(b->err, e->offset, "the window function %s() is "
                            "only allowed in QUALIFY and the select list of a "
                            "query with QUALIFY", e->name);
    if (e->kind == SL_EX_FUNC && sl_is_aggregate_name(e->name)) {
        sl_expr *arg = NULL;
        int distinct = (e->flags & SL_EXF_DISTINCT) != 0;
        if (e->flags & SL_EXF_STAR) {
            if (strcasecmp(e->name, "count") != 0)
                return sl_error_set(b->err, e->offset, "%s(*) is not allowed;"
                                    " only COUNT(*)", e->name);
        } else {
            if (e->nargs != 1)
                return sl_error_set(b->err, e->offset, "aggregate %s takes "
                                    "one argument", e->name);
            arg = sl_expr_dup(e->args[0]);
            if (bind_input_expr(b, arg, "an aggregate's argument") != 0 ||
                type_expr(b, arg) != 0) {
                sl_expr_free(arg);
                return -1;
            }
        }
        sl_type rt;
        const sl_agg_func *fn = sl_agg_lookup(e->name, arg ? arg->type : SL_NULL,
                                              distinct, &rt);
        if (fn == NULL) {
            int at = arg ? arg->offset : e->offset;
            sl_error_set(b->err, at, "%s%s cannot take %s", e->name,
                         distinct ? "(DISTINCT ...)" : "",
                         arg ? sl_type_name(arg->type) : "*");
            sl_expr_free(arg);
            return -1;
        }
        char *sql = canonical(e);
        int slot = -1;
        for (int i = 0; i < p->nagg; i++)
            if (strcasecmp(p->aggs[i].sql, sql) == 0)
                slot = i;
        if (slot < 0) {
            p->aggs = realloc(p->aggs, sizeof *p->aggs * (size_t)(p->nagg + 1));
            if (p->aggs == NULL)
                abort();
            slot = p->nagg++;
            p->aggs[slot] = (sl_plan_agg){fn, arg, distinct, rt, sql};
        } else {
            sl_expr_free(arg);
            free(sql);
        }
        /* after the rank, when QUALIFY ranks the groups */
        *pe = column_ref(p->ngroup + 2 + (p->topn != NULL) + slot, rt,
                         e->offset, e->end);
        sl_expr_free(e);
        return 0;
    }
    if (e->kind == SL_EX_COLUMN) {
        /* resolvable but not grouped, or unknown */
        if (resolve_input(b, e) < 0)
            return -1;
        return sl_error_set(b->err, e->offset, "column \"%s\" must appear in "
                            "GROUP BY or be used in an aggregate function",
                            e->name);
    }
    if (e->kind == SL_EX_STAR)
        return sl_error_set(b->err, e->offset, "SELECT * cannot be used with "
                            "GROUP BY or aggregates");
    for (int i = 0; i < e->nargs; i++)
        if (bind_group_expr(b, &e->args[i]) != 0)
            return -1;
    return 0;
}

static int has_aggregate(const sl_expr *e)
{
    if (e == NULL)
        return 0;
    if (e->kind == SL_EX_FUNC && sl_is_aggregate_name(e->name))
        return 1;
    for (int i = 0; i < e->nargs; i++)
        if (has_aggregate(e->args[i]))
            return 1;
    return 0;
}

static void add_output(sl_plan *p, const char *name, sl_expr *e)
{
    p->out_names = realloc(p->out_names, sizeof(char *) * (size_t)(p->nout + 1));
    p->out_types = realloc(p->out_types, sizeof(sl_type) * (size_t)(p->nout + 1));
    p->out = realloc(p->out, sizeof(sl_expr *) * (size_t)(p->nout + 1));
    if (!p->out_names || !p->out_types || !p->out)
        abort();
    p->out_names[p->nout] = strdup(name);
    p->out_types[p->nout] = e->type == SL_NULL ? SL_TEXT : e->type;
    p->out[p->nout] = e;
    p->nout++;
}

static int output_index(const sl_plan *p, const char *name)
{
    for (int i = 0; i < p->nout; i++)
        if (strcasecmp(p->out_names[i], name) == 0)
            return i;
    return -1;
}

/* The name of a select item: its alias, a column's name, or its SQL text. */
static char *item_name(const sl_select_item *it)
{
    if (it->alias)
        return strdup(it->alias);
    if (it->expr->kind == SL_EX_COLUMN)
        return strdup(it->expr->name);
    if (it->expr->kind == SL_EX_FUNC) {
        /* count(*) -> count, sum(amount) -> sum_amount */
        char buf[128];
        if (it->expr->nargs == 1 && it->expr->args[0]->kind == SL_EX_COLUMN)
            snprintf(buf, sizeof buf, "%s_%s", it->expr->name,
                     it->expr->args[0]->name);
        else
            snprintf(buf, sizeof buf, "%s", it->expr->name);
        for (char *c = buf; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        return strdup(buf);
    }
    return sl_expr_to_sql(it->expr);
}

/* Adds column `name` of one side's key to the window join (ON a = b AND
** ...: each equality compares a column of each source). */
static int wjoin_key(binder *b, const sl_expr *eq)
{
    sl_plan *p = b->p;
    sl_plan_wjoin *wj = p->wjoin;
    if (eq->kind != SL_EX_BINARY || eq->op != SL_OP_EQ ||
        eq->args[0]->kind != SL_EX_COLUMN || eq->args[1]->kind != SL_EX_COLUMN)
        return sl_error_set(b->err, eq->offset, "a join of two sources needs "
                            "ON <column> = <column> [AND ...], each comparing "
                            "a column of %s with one of %s", p->src->name,
                            wj->right->name);
    int x = resolve_input(b, eq->args[0]);
    if (x < 0)
        return -1;
    int y = resolve_input(b, eq->args[1]);
    if (y < 0)
        return -1;
    int nl = p->src->ncols;
    if ((x < nl) == (y < nl) || x >= wj->window_col || y >= wj->window_col)
        return sl_error_set(b->err, eq->offset, "the JOIN condition must "
                            "compare a column of %s with a column of %s",
                            p->src->name, wj->right->name);
    int l = x < nl ? x : y, r = (x < nl ? y : x) - wj->col0[1];
    for (int s = 0; s < 2; s++)
        wj->keys[s] = sl_xrealloc(wj->keys[s],
                                  sizeof(int) * (size_t)(wj->nkeys + 1));
    wj->keys[0][wj->nkeys] = l;
    wj->keys[1][wj->nkeys] = r;
    wj->nkeys++;
    return 0;
}

static int wjoin_on(binder *b, const sl_expr *on)
{
    if (on->kind == SL_EX_BINARY && on->op == SL_OP_AND)
        return wjoin_on(b, on->args[0]) != 0 ? -1 : wjoin_on(b, on->args[1]);
    return wjoin_key(b, on);
}

/* FROM source JOIN source: a window join (sl_plan_wjoin). The input row is
** [the FROM source's columns, the joined source's, window_start,
** window_end]; each side keeps its source's event time and delay. */
static int bind_wjoin(binder *b, const sl_select *sel, sl_catalog_obj *o)
{
    sl_plan *p = b->p;
    const sl_join *j = &sel->joins[0];
    if (sel->window.kind != SL_WIN_TUMBLING)
        return sl_error_set(b->err, sel->window.kind == SL_WIN_NONE
                                        ? j->table.offset : sel->window.offset,
                            "a join of two sources needs WINDOW TUMBLING: "
                            "rows pair up within one window (join a table "
                            "for a lookup)");
    if (sel->watermark.present)
        return sl_error_set(b->err, sel->watermark.column_offset, "a join of "
                            "two sources takes each source's own WATERMARK; "
                            "declare it in CREATE SOURCE");
    if (sel->qualify)
        return sl_error_set(b->err, sel->qualify->offset, "QUALIFY over a "
                            "join of two sources is not supported");
    sl_error serr;
    sl_error_clear(&serr);
    sl_plan_wjoin *wj = sl_xcalloc(1, sizeof *wj);
    p->wjoin = wj;
    wj->right = sl_source_def_new(o->stmt, &serr);
    if (wj->right == NULL)
        return sl_error_set(b->err, j->table.offset, "source %s is invalid: "
                            "%s", j->table.name, serr.msg);
    wj->right_alias = j->table.alias ? strdup(j->table.alias) : NULL;
    wj->kind = j->kind;
    const sl_source_def *side[2] = {p->src, wj->right};
    for (int s = 0; s < 2; s++) {
        if (side[s]->event_time_col < 0)
            return sl_error_set(b->err, s ? j->table.offset : sel->from.offset,
                                "source %s has no event time: a join of two "
                                "sources needs WATERMARK FOR <column> in "
                                "both CREATE SOURCEs", side[s]->name);
        wj->time_col[s] = side[s]->event_time_col;
        wj->delay_ms[s] = side[s]->watermark_delay_ms;
    }
    wj->col0[0] = 0;
    wj->col0[1] = p->ninput;
    for (int i = 0; i < wj->right->ncols; i++)
        add_input(p, wj->right->col_names[i], wj->right->col_types[i]);
    wj->window_col = p->ninput;
    add_input(p, "window_start", SL_TIMESTAMP);
    add_input(p, "window_end", SL_TIMESTAMP);
    if (j->on == NULL)
        return sl_error_set(b->err, j->offset, "a join of two sources needs "
                            "ON <column> = <column>");
    return wjoin_on(b, j->on);
}

/* The input-row columns e reads: [*lo, *hi] (lo > hi: none). */
static void column_span(const sl_expr *e, int *lo, int *hi)
{
    if (e->kind == SL_EX_COLUMN && e->col >= 0) {
        if (e->col < *lo)
            *lo = e->col;
        if (e->col > *hi)
            *hi = e->col;
    }
    for (int i = 0; i < e->nargs; i++)
        column_span(e->args[i], lo, hi);
}

static void shift_columns(sl_expr *e, int by)
{
    if (e->kind == SL_EX_COLUMN && e->col >= 0)
        e->col -= by;
    for (int i = 0; i < e->nargs; i++)
        shift_columns(e->args[i], by);
}

/* Gives each side of a window join the conjuncts of WHERE that read only
** its columns (sl_plan_wjoin.filters). */
static void wjoin_filters(sl_plan *p, const sl_expr *e)
{
    if (e->kind == SL_EX_BINARY && e->op == SL_OP_AND) {
        wjoin_filters(p, e->args[0]);
        wjoin_filters(p, e->args[1]);
        return;
    }
    sl_plan_wjoin *wj = p->wjoin;
    int lo = INT_MAX, hi = -1;
    column_span(e, &lo, &hi);
    int side;
    if (lo > hi)
        return;                 /* no column: nothing to gain */
    if (hi < wj->col0[1])
        side = 0;
    else if (lo >= wj->col0[1] && hi < wj->window_col &&
             wj->kind == SL_JOIN_INNER)
        side = 1;
    else
        return;
    sl_expr *c = sl_expr_dup(e);
    shift_columns(c, wj->col0[side]);
    wj->filters[side] = sl_xrealloc(wj->filters[side], sizeof(sl_expr *) *
                                    (size_t)(wj->nfilters[side] + 1));
    wj->filters[side][wj->nfilters[side]++] = c;
}

static int bind_join(binder *b, const sl_select *sel)
{
    sl_plan *p = b->p;
    if (sel->njoins == 0)
        return 0;
    if (sel->njoins > 1)
        return sl_error_set(b->err, sel->joins[1].offset, "only one JOIN "
                            "(a source with a table) is supported");
    const sl_join *j = &sel->joins[0];
    sl_catalog_obj *o = sl_catalog_find(b->s->cat, j->table.name);
    if (o && o->kind == SL_OBJ_SOURCE)
        return bind_wjoin(b, sel, o);
    if (!sl_db_relation_exists(b->s->db, j->table.name))
        return sl_error_set(b->err, j->table.offset, "unknown relation \"%s\"",
                            j->table.name);
    sl_plan_join *pj = sl_xcalloc(1, sizeof *pj);
    p->join = pj;
    pj->table = strdup(j->table.name);
    pj->alias = j->table.alias ? strdup(j->table.alias) : NULL;
    pj->kind = j->kind;
    char *q = sqlite3_mprintf("SELECT name, type FROM pragma_table_info(%Q)",
                              j->table.name);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(b->s->db, q, -1, &st, NULL);
    sqlite3_free(q);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *type = (const char *)sqlite3_column_text(st, 1);
        int n = 0;
        while (type && type[n] && type[n] != '(' && type[n] != ' ')
            n++;
        sl_type t = type ? sl_type_from_name(type, n) : SL_NULL;
        if (t == SL_NULL || t == SL_INTERVAL)
            t = SL_TEXT;
        pj->col_names = realloc(pj->col_names, sizeof(char *) * (size_t)(pj->ncols + 1));
        pj->col_types = realloc(pj->col_types, sizeof(sl_type) * (size_t)(pj->ncols + 1));
        pj->col_names[pj->ncols] = strdup(name);
        pj->col_types[pj->ncols] = t;
        pj->ncols++;
        add_input(p, name, t);
    }
    sqlite3_finalize(st);
    /* ON must be stream_col = table_col */
    const sl_expr *on = j->on;
    if (on == NULL || on->kind != SL_EX_BINARY || on->op != SL_OP_EQ ||
        on->args[0]->kind != SL_EX_COLUMN || on->args[1]->kind != SL_EX_COLUMN)
        return sl_error_set(b->err, on ? on->offset : j->offset, "a JOIN with "
                            "a table needs ON <source column> = <table column>");
    int a = resolve_input(b, on->args[0]);
    if (a < 0)
        return -1;
    int c = resolve_input(b, on->args[1]);
    if (c < 0)
        return -1;
    int nsrc = p->src->ncols;
    if ((a < nsrc) == (c < nsrc))
        return sl_error_set(b->err, on->offset, "the JOIN condition must "
                            "compare a column of %s with a column of %s",
                            p->src->name, pj->table);
    pj->left_key = a < nsrc ? a : c;
    pj->right_key = (a < nsrc ? c : a) - nsrc;
    return 0;
}

/* The event time of a streaming table's rows, from its upstream's plan
** (DESIGN rule 9): a column copying the upstream's event-time column, with
** the upstream's delay (its rows are written in the order they were read);
** else the selected window_end of a windowed aggregate (or window Top-N, or
** window join), whose rows are written as their windows close, in end
** order: the reader's event time is window_time = window_end - 1 ms, delay
** 0. Sets *time_col (-1: none), *window_end_col (-1: none), *delay_ms. */
static void stable_time(const sl_plan *up, int *time_col, int *window_end_col,
                        int64_t *delay_ms)
{
    *time_col = *window_end_col = -1;
    *delay_ms = 0;
    int copies_time = !up->is_agg && !up->wjoin && up->event_time_col >= 0;
    /* window_end in the row the select list reads */
    int end_col = up->window.kind == SL_WIN_NONE ? -1
                : up->wjoin ? up->wjoin->window_col + 1
                : up->is_agg ? up->ngroup + 1 : -1;
    for (int i = 0; i < up->nout && *time_col < 0; i++) {
        const sl_expr *e = up->out[i];
        if (e->kind != SL_EX_COLUMN)
            continue;
        if (copies_time && e->col == up->event_time_col) {
            *time_col = i;
            *delay_ms = up->delay_ms;
        } else if (end_col >= 0 && e->col == end_col && *window_end_col < 0) {
            *window_end_col = i;
        }
    }
    if (*time_col >= 0)
        *window_end_col = -1;
}

/* FROM a streaming table of this database (stage 1 of docs/dataflow.md:
** read by rowid as a source, connectors/table_source.c). Its columns and
** event time come from its query's plan, bound again from the catalog. */
static int bind_stable(binder *b, const sl_select *sel, sl_catalog_obj *o)
{
    if (b->p->name && strcasecmp(b->p->name, o->name) == 0)
        return sl_error_set(b->err, sel->from.offset, "streaming table %s "
                            "cannot read itself", o->name);
    sl_error uerr;
    sl_error_clear(&uerr);
    sl_plan *up = sl_plan_bind(b->s, o->stmt, &uerr);
    if (up == NULL)
        return sl_error_set(b->err, sel->from.offset, "the query of streaming "
                            "table %s no longer binds: %s", o->name, uerr.msg);
    int time_col, end_col;
    int64_t delay_ms;
    stable_time(up, &time_col, &end_col, &delay_ms);
    sl_source_def *d = sl_source_def_table(o->name, b->s->db, up->nout,
                                           up->out_names, up->out_types,
                                           end_col, o->stmt);
    sl_plan_free(up);
    /* an upstream still running (following its input, or waiting) is read
    ** like a followed file: the CREATE does not wait for its end */
    d->follow = o->status == NULL || strcmp(o->status, "done") != 0;
    d->event_time_col = end_col >= 0 ? d->ndeclared : time_col;
    d->watermark_delay_ms = delay_ms;
    b->p->src = d;
    return 0;
}

static int bind_source(binder *b, const sl_select *sel)
{
    if (!sel->has_from)
        return sl_error_set(b->err, sel->offset, "a continuous query needs "
                            "FROM <source>");
    sl_catalog_obj *o = sl_catalog_find(b->s->cat, sel->from.name);
    if (o != NULL && o->kind == SL_OBJ_STABLE) {
        if (sel->njoins > 0 && sl_catalog_find(b->s->cat,
                                               sel->joins[0].table.name) &&
            sl_catalog_find(b->s->cat, sel->joins[0].table.name)->kind ==
                SL_OBJ_SOURCE)
            return sl_error_set(b->err, sel->from.offset, "a join of a "
                                "streaming table with a source is not "
                                "supported yet (a table can be joined to it)");
        if (bind_stable(b, sel, o) != 0)
            return -1;
    } else if (o == NULL || o->kind != SL_OBJ_SOURCE) {
        if (o != NULL || sl_db_relation_exists(b->s->db, sel->from.name))
            return sl_error_set(b->err, sel->from.offset, "\"%s\" is a %s, "
                                "not a source: a continuous query reads a "
                                "source or a streaming table (a table can "
                                "be joined to it)",
                                sel->from.name, o ? sl_object_kind_name(o->kind)
                                                  : "table");
        char buf[256];
        const char *close = sl_catalog_suggest(b->s->cat, sel->from.name, buf,
                                               sizeof buf);
        if (close)
            return sl_error_set(b->err, sel->from.offset, "unknown source "
                                "\"%s\" (did you mean \"%s\"?)",
                                sel->from.name, close);
        return sl_error_set(b->err, sel->from.offset, "unknown source \"%s\"",
                            sel->from.name);
    }
    if (b->p->src == NULL) {
        sl_error serr;
        sl_error_clear(&serr);
        b->p->src = sl_source_def_new(o->stmt, &serr);
        if (b->p->src == NULL)
            return sl_error_set(b->err, sel->from.offset, "source %s is "
                                "invalid: %s", sel->from.name, serr.msg);
    }
    b->p->src_alias = sel->from.alias ? strdup(sel->from.alias) : NULL;
    for (int i = 0; i < b->p->src->ncols; i++)
        add_input(b->p, b->p->src->col_names[i], b->p->src->col_types[i]);
    return 0;
}

static int bind_time(binder *b, const sl_select *sel)
{
    sl_plan *p = b->p;
    p->event_time_col = p->src->event_time_col;
    p->delay_ms = p->src->watermark_delay_ms;
    if (sel->watermark.present) {
        sl_expr tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.kind = SL_EX_COLUMN;
        tmp.name = sel->watermark.column;
        tmp.offset = sel->watermark.column_offset;
        int c = resolve_input(b, &tmp);
        if (c < 0)
            return -1;
        if (p->input_types[c] != SL_TIMESTAMP)
            return sl_error_set(b->err, sel->watermark.column_offset, "the "
                                "watermark column \"%s\" must be a TIMESTAMP, "
                                "not %s", sel->watermark.column,
                                sl_type_name(p->input_types[c]));
        p->event_time_col = c;
        p->delay_ms = sel->watermark.delay_ms;
        p->watermark_from_query = 1;
    }
    p->window = sel->window;
    if (p->window.kind != SL_WIN_NONE && p->event_time_col < 0 &&
        p->src->connector == SL_CONN_TABLE)
        return sl_error_set(b->err, sel->window.offset, "a windowed query "
                            "needs event time, and streaming table %s has "
                            "none (its query copies neither its source's "
                            "event-time column nor window_end): add WATERMARK "
                            "<column> DELAY <interval> to the query",
                            p->src->name);
    if (p->window.kind != SL_WIN_NONE && p->event_time_col < 0)
        return sl_error_set(b->err, sel->window.offset, "a windowed query "
                            "needs event time, and source %s has none: declare "
                            "WATERMARK FOR <column> AS <column> - INTERVAL ... "
                            "in CREATE SOURCE, or add WATERMARK <column> DELAY "
                            "<interval> to the query", p->src->name);
    const sl_window_spec *w = &p->window;
    if ((w->kind == SL_WIN_TUMBLING || w->kind == SL_WIN_HOPPING) &&
        w->size_ms <= 0)
        return sl_error_set(b->err, w->offset, "window size must be positive");
    if (w->kind == SL_WIN_HOPPING && (w->advance_ms <= 0 ||
                                      w->advance_ms > w->size_ms))
        return sl_error_set(b->err, w->offset, "ADVANCE BY must be positive "
                            "and at most the window size");
    if (w->kind == SL_WIN_SESSION && w->gap_ms <= 0)
        return sl_error_set(b->err, w->offset, "session GAP must be positive");
    p->emit = sel->emit.kind == SL_EMIT_DEFAULT ? SL_EMIT_CHANGES
                                                 : sel->emit.kind;
    p->emit_every_ms = sel->emit.every_ms;
    if (p->emit == SL_EMIT_ON_WINDOW_CLOSE && w->kind == SL_WIN_NONE)
        return sl_error_set(b->err, sel->emit.offset, "EMIT ON WINDOW CLOSE "
                            "needs a WINDOW clause");
    return 0;
}

static int bind_group_by(binder *b, const sl_select *sel)
{
    sl_plan *p = b->p;
    for (int i = 0; i < sel->ngroup; i++) {
        const sl_expr *g = sel->group_by[i];
        if (g->kind == SL_EX_COLUMN && g->qualifier == NULL &&
            is_window_col(g->name) && p->window.kind != SL_WIN_NONE)
            continue;    /* Flink style: window bounds are implicit keys */
        sl_expr *e = NULL;
        if (g->kind == SL_EX_COLUMN && g->qualifier == NULL) {
            /* a select alias? (when not also an input column) */
            sl_expr tmp = *g;
            sl_error e2;
            sl_error_clear(&e2);
            binder b2 = {b->s, p, &e2, NULL};
            if (resolve_input(&b2, &tmp) < 0) {
                for (int k = 0; k < sel->nitems; k++)
                    if (sel->items[k].alias &&
                        strcasecmp(sel->items[k].alias, g->name) == 0 &&
                        !has_aggregate(sel->items[k].expr))
                        e = sl_expr_dup(sel->items[k].expr);
            }
        } else if (g->kind == SL_EX_LITERAL && g->lit_type == SL_BIGINT) {
            long long k = g->lit_i;
            if (k < 1 || k > sel->nitems)
                return sl_error_set(b->err, g->offset, "GROUP BY position %lld"
                                    " is not in the select list", k);
            if (has_aggregate(sel->items[k - 1].expr))
                return sl_error_set(b->err, g->offset, "GROUP BY position %lld"
                                    " refers to an aggregate", k);
            e = sl_expr_dup(sel->items[k - 1].expr);
        }
        if (e == NULL)
            e = sl_expr_dup(g);
        if (bind_input_expr(b, e, "GROUP BY") != 0 || type_expr(b, e) != 0) {
            sl_expr_free(e);
            return -1;
        }
        p->group = realloc(p->group, sizeof(sl_expr *) * (size_t)(p->ngroup + 1));
        if (p->group == NULL)
            abort();
        p->group[p->ngroup++] = e;
    }
    return 0;
}

/* The dedup's window function in the select list: always 1 (the row kept
** is the first of its key). Any other window function is an error. */
static int bind_dedup_rank(binder *b, sl_expr **pe)
{
    sl_expr *e = *pe;
    char *sql = canonical(e);
    int same = strcasecmp(sql, b->p->dedup->over_sql) == 0;
    free(sql);
    if (!same)
        return sl_error_set(b->err, e->offset, "only the window function of "
                            "QUALIFY can be selected: %s",
                            b->p->dedup->over_sql);
    sl_expr *one = sl_expr_new(SL_EX_LITERAL, e->offset);
    one->end = e->end;
    one->lit_type = SL_BIGINT;
    one->lit_i = 1;
    one->type = SL_BIGINT;
    *pe = one;
    sl_expr_free(e);
    return 0;
}

static int bind_select_list(binder *b, const sl_select *sel)
{
    sl_plan *p = b->p;
    for (int i = 0; i < sel->nitems; i++) {
        const sl_select_item *it = &sel->items[i];
        if (it->expr->kind == SL_EX_STAR) {
            if (p->is_agg && !p->topn)
                return sl_error_set(b->err, it->offset, "SELECT * cannot be "
                                    "used with GROUP BY or aggregates");
            int lo, hi;
            if (relation_columns(b, it->expr, &lo, &hi) != 0)
                return -1;
            for (int c = lo; c < hi; c++) {
                if (output_index(p, p->input_names[c]) >= 0)
                    continue;
                add_output(p, p->input_names[c],
                           p->topn ? topn_carry_ref(p, c, it->offset,
                                                    it->offset + 1)
                                   : column_ref(c, p->input_types[c],
                                                it->offset, it->offset + 1));
            }
            continue;
        }
        char *name = item_name(it);
        if (output_index(p, name) >= 0) {
            sl_error_set(b->err, it->offset, "the result has two columns "
                         "named \"%s\": give one an alias with AS", name);
            free(name);
            return -1;
        }
        sl_expr *e = sl_expr_dup(it->expr);
        int rc;
        if (p->is_agg) {
            rc = bind_group_expr(b, &e);
        } else if (p->dedup && e->kind == SL_EX_OVER) {
            rc = bind_dedup_rank(b, &e);
        } else if (e->kind == SL_EX_COLUMN && e->qualifier == NULL &&
                   is_window_col(e->name) && !has_input_column(p, e->name)) {
            rc = sl_error_set(b->err, e->offset, "%s needs a WINDOW with "
                              "GROUP BY or aggregates", e->name);
        } else {
            rc = bind_input_expr(b, e, "the select list");
        }
        if (rc != 0 || type_expr(b, e) != 0) {
            sl_expr_free(e);
            free(name);
            return -1;
        }
        add_output(p, name, e);
        free(name);
    }
    return 0;
}

/* A materialised view's key: its group keys and window bounds, each a
** column of the output; bounds that are not selected are added. */
static int bind_key(binder *b, const sl_select *sel)
{
    sl_plan *p = b->p;
    if (!p->is_agg || (p->topn && !p->topn->of_groups))
        return 0;
    int nkeys = p->ngroup + (p->window.kind != SL_WIN_NONE ? 2 : 0);
    p->key_cols = sl_xcalloc((size_t)nkeys + 1, sizeof(int));
    for (int k = 0; k < nkeys; k++) {
        int found = -1;
        for (int i = 0; i < p->nout; i++)
            if (p->out[i]->kind == SL_EX_COLUMN && p->out[i]->col == k)
                found = i;
        if (found < 0) {
            if (k < p->ngroup) {
                if (p->kind == SL_ST_SELECT)
                    continue;
                char *g = sl_expr_to_sql(p->group[k]);
                sl_error_set(b->err, sel->group_by ? sel->offset : -1,
                             "the GROUP BY key %s must be in the select "
                             "list: it is part of the result's key", g);
                free(g);
                return -1;
            }
            const char *name = k == p->ngroup ? "window_start" : "window_end";
            if (output_index(p, name) >= 0) {
                return sl_error_set(b->err, sel->offset, "a result column is "
                                    "named %s but is not the window bound",
                                    name);
            }
            add_output(p, name, column_ref(k, SL_TIMESTAMP, sel->offset,
                                           sel->offset));
            found = p->nout - 1;
        }
        p->key_cols[p->nkey++] = found;
    }
    return 0;
}

/* The window function of a QUALIFY condition `f() OVER (...) <= n` (or <,
** = 1, and the same turned around); *n gets the highest rank kept. */
static const sl_expr *qualify_over(binder *b, const sl_expr *q, int64_t *n)
{
    static const char usage[] = "QUALIFY needs a ranking window function "
        "compared to a constant: QUALIFY ROW_NUMBER() OVER (PARTITION BY ... "
        "ORDER BY ... DESC) <= N (or RANK(), DENSE_RANK(); < N, = 1)";
    if (q->kind != SL_EX_BINARY) {
        sl_error_set(b->err, q->offset, usage);
        return NULL;
    }
    sl_op op = q->op;
    const sl_expr *f = q->args[0], *k = q->args[1];
    if (k->kind == SL_EX_OVER) {     /* N >= f() ... */
        f = q->args[1];
        k = q->args[0];
        op = op == SL_OP_GE ? SL_OP_LE : op == SL_OP_GT ? SL_OP_LT :
             op == SL_OP_EQ ? SL_OP_EQ : SL_OP_NONE;
    }
    if (f->kind != SL_EX_OVER || k->kind != SL_EX_LITERAL ||
        k->lit_type != SL_BIGINT ||
        (op != SL_OP_LE && op != SL_OP_LT && op != SL_OP_EQ)) {
        sl_error_set(b->err, q->offset, usage);
        return NULL;
    }
    if (op == SL_OP_EQ && k->lit_i != 1) {
        sl_error_set(b->err, k->offset, "QUALIFY ... = %lld: only rank = 1 "
                     "or rank <= N is supported", (long long)k->lit_i);
        return NULL;
    }
    *n = op == SL_OP_LT ? k->lit_i - 1 : k->lit_i;
    if (*n < 1) {
        sl_error_set(b->err, k->offset, "QUALIFY keeps no row: no rank is "
                     "below 1");
        return NULL;
    }
    if (*n > 100000) {
        sl_error_set(b->err, k->offset, "QUALIFY keeps at most the first "
                     "100000 ranks, not %lld", (long long)*n);
        return NULL;
    }
    return f;
}

/* The type of a bound window function ORDER BY: numbers and timestamps. */
static int qualify_order_type(binder *b, sl_plan_topn *t)
{
    sl_type ot = t->order->type;
    if (ot == SL_NULL)
        ot = SL_BIGINT;
    if (ot != SL_BIGINT && ot != SL_TIMESTAMP && ot != SL_BOOL &&
        ot != SL_DOUBLE)
        return sl_error_set(b->err, t->order->offset, "a window function "
                            "orders by a number or a timestamp, not %s",
                            sl_type_name(ot));
    t->spec.order_type = ot;
    return 0;
}

/* 1 for window_start / window_end as a PARTITION BY expression: the window
** is always part of the partition. */
static int is_window_partition(const sl_plan *p, const sl_expr *g)
{
    return g->kind == SL_EX_COLUMN && g->qualifier == NULL &&
           is_window_col(g->name) && !has_input_column(p, g->name);
}

/* QUALIFY over an aggregate (a Top-N of each window's groups): binds the
** window function's ORDER BY and PARTITION BY over the group row, after
** GROUP BY. */
static int bind_qualify_groups(binder *b)
{
    sl_plan *p = b->p;
    sl_plan_topn *t = p->topn;
    const sl_expr *f = b->qualify_fn;
    t->order = sl_expr_dup(f->args[0]);
    if (bind_group_expr(b, &t->order) != 0 || type_expr(b, t->order) != 0 ||
        qualify_order_type(b, t) != 0)
        return -1;
    for (int i = 1; i < f->nargs; i++) {
        if (is_window_partition(p, f->args[i]))
            continue;
        sl_expr *e = sl_expr_dup(f->args[i]);
        if (bind_group_expr(b, &e) != 0 || type_expr(b, e) != 0) {
            sl_expr_free(e);
            return -1;
        }
        t->part = sl_xrealloc(t->part, sizeof *t->part * (size_t)(t->npart + 1));
        t->part[t->npart++] = e;
    }
    return 0;
}

/* QUALIFY with a WINDOW: a window Top-N (without one, bind_dedup). Checks
** the streaming rules; over rows, binds the window function's PARTITION BY
** as the group keys and its ORDER BY (over groups, bind_qualify_groups
** does after GROUP BY). */
static int bind_qualify(binder *b, const sl_stmt *stmt, const sl_select *sel,
                        int any_agg)
{
    sl_plan *p = b->p;
    const sl_expr *q = sel->qualify;
    int of_groups = any_agg || sel->ngroup > 0 || sel->having;
    if (p->emit != SL_EMIT_ON_WINDOW_CLOSE)
        return sl_error_set(b->err, sel->emit.kind ? sel->emit.offset
                                                   : q->offset,
                            "QUALIFY needs EMIT ON WINDOW CLOSE: a window's "
                            "ranks are final only when it closes");
    if (stmt->kind == SL_ST_CREATE_MVIEW && !of_groups)
        return sl_error_set(b->err, stmt->offset, "QUALIFY keeps several rows "
                            "per window and partition, so its result has no "
                            "key: use CREATE STREAMING TABLE");
    int64_t n;
    const sl_expr *f = b->qualify_fn = qualify_over(b, q, &n);
    if (f == NULL)
        return -1;
    sl_rank_kind kind;
    if (strcasecmp(f->name, "row_number") == 0)
        kind = SL_RANK_ROW_NUMBER;
    else if (strcasecmp(f->name, "rank") == 0)
        kind = SL_RANK_RANK;
    else if (strcasecmp(f->name, "dense_rank") == 0)
        kind = SL_RANK_DENSE;
    else
        return sl_error_set(b->err, f->offset, "unknown ranking function "
                            "%s(): use ROW_NUMBER(), RANK() or DENSE_RANK()",
                            f->name);
    sl_plan_topn *t = p->topn = sl_xcalloc(1, sizeof *t);
    t->spec.kind = kind;
    t->spec.desc = (f->flags & SL_EXF_DESC) != 0;
    t->spec.n = n;
    t->over_sql = canonical(f);
    t->sql = sl_expr_to_sql(q);
    t->of_groups = of_groups;
    if (of_groups)
        return 0;       /* bound over the group row by bind_qualify_groups */
    t->order = sl_expr_dup(f->args[0]);
    if (bind_input_expr(b, t->order, "a window function's ORDER BY") != 0 ||
        type_expr(b, t->order) != 0 || qualify_order_type(b, t) != 0)
        return -1;
    for (int i = 1; i < f->nargs; i++) {
        const sl_expr *g = f->args[i];
        if (is_window_partition(p, g))
            continue;
        sl_expr *e = sl_expr_dup(g);
        if (bind_input_expr(b, e, "PARTITION BY") != 0 ||
            type_expr(b, e) != 0) {
            sl_expr_free(e);
            return -1;
        }
        p->group = sl_xrealloc(p->group,
                               sizeof(sl_expr *) * (size_t)(p->ngroup + 1));
        p->group[p->ngroup++] = e;
    }
    return 0;
}

/* The query's dedup_within (its WITH, else the default); the value was
** checked where it was written (CREATE, sl_settings_apply). */
static int dedup_within(binder *b, const sl_stmt *stmt, int64_t *ms)
{
    sl_settings set = {0};
    set.dedup_within_ms = SL_DEDUP_WITHIN_DEFAULT_MS;
    for (int i = 0; i < stmt->nopts; i++)
        if (strcasecmp(stmt->opts[i].key, "dedup_within") == 0 &&
            sl_settings_apply(&set, &stmt->opts[i], b->err) != 0)
            return -1;
    *ms = set.dedup_within_ms;
    return 0;
}

/* A dedup needs event time: its order, and the watermark that bounds it. */
static int dedup_needs_time(binder *b, int offset, const char *what)
{
    if (b->p->event_time_col >= 0)
        return 0;
    return sl_error_set(b->err, offset, "%s over a stream is a dedup by "
                        "event time, and source %s has none: declare "
                        "WATERMARK FOR <column> AS <column> - INTERVAL ... in "
                        "CREATE SOURCE, or add WATERMARK <column> DELAY "
                        "<interval> to the query", what, b->p->src->name);
}

/* QUALIFY without a WINDOW: a dedup (keep-first by event time), the only
** form built so far; the others are refused, saying so. */
static int bind_dedup(binder *b, const sl_stmt *stmt, const sl_select *sel,
                      int any_agg)
{
    sl_plan *p = b->p;
    const sl_expr *q = sel->qualify;
    static const char form[] = "QUALIFY ROW_NUMBER() OVER (PARTITION BY ... "
        "ORDER BY <event time>) = 1";
    if (any_agg || sel->ngroup > 0 || sel->having)
        return sl_error_set(b->err, q->offset, "QUALIFY over groups without a "
                            "WINDOW (a Top-N of a changing aggregate) is not "
                            "supported yet: rank within a WINDOW");
    int64_t n;
    const sl_expr *f = qualify_over(b, q, &n);
    if (f == NULL)
        return -1;
    if (strcasecmp(f->name, "row_number") != 0)
        return sl_error_set(b->err, f->offset, "QUALIFY %s() without a WINDOW "
                            "is not supported yet: without a WINDOW only the "
                            "dedup %s is (add a WINDOW for a Top-N)",
                            f->name, form);
    if (n != 1)
        return sl_error_set(b->err, q->offset, "QUALIFY keeping %lld rows per "
                            "key without a WINDOW (a Top-N, a changelog) is not "
                            "supported yet: without a WINDOW only the dedup %s "
                            "is (add a WINDOW for a Top-N)", (long long)n,
                            form);
    if (f->flags & SL_EXF_DESC)
        return sl_error_set(b->err, f->args[0]->offset, "keeping the latest "
                            "row per key (ORDER BY ... DESC, a changelog) is "
                            "not supported yet: the dedup keeps the first, "
                            "%s", form);
    if (dedup_needs_time(b, q->offset, "QUALIFY without a WINDOW") != 0)
        return -1;
    sl_expr *order = sl_expr_dup(f->args[0]);
    int rc = bind_input_expr(b, order, "a window function's ORDER BY");
    int is_time = rc == 0 && order->kind == SL_EX_COLUMN &&
                  order->col == p->event_time_col;
    sl_expr_free(order);
    if (rc != 0)
        return -1;
    if (!is_time)
        return sl_error_set(b->err, f->args[0]->offset, "a dedup orders by "
                            "the event-time column %s: %s (other orders are "
                            "not supported yet)",
                            p->input_names[p->event_time_col], form);
    if (stmt->kind == SL_ST_CREATE_MVIEW)
        return sl_error_set(b->err, stmt->offset, "a dedup is append-only: "
                            "use CREATE STREAMING TABLE");
    sl_plan_dedup *d = p->dedup = sl_xcalloc(1, sizeof *d);
    d->sql = sl_expr_to_sql(q);
    d->over_sql = canonical(f);
    for (int i = 1; i < f->nargs; i++) {
        sl_expr *e = sl_expr_dup(f->args[i]);
        if (bind_input_expr(b, e, "PARTITION BY") != 0 ||
            type_expr(b, e) != 0) {
            sl_expr_free(e);
            return -1;
        }
        d->keys = sl_xrealloc(d->keys, sizeof *d->keys * (size_t)(d->nkeys + 1));
        d->keys[d->nkeys++] = e;
    }
    return dedup_within(b, stmt, &d->within_ms);
}

/* SELECT DISTINCT over a stream: a dedup keyed by every selected column
** (bound after the select list). */
static int bind_distinct(binder *b, const sl_stmt *stmt, const sl_select *sel,
                         int any_agg)
{
    sl_plan *p = b->p;
    if (any_agg || sel->ngroup > 0 || sel->having)
        return sl_error_set(b->err, sel->offset, "SELECT DISTINCT with GROUP "
                            "BY or aggregates is not supported yet: the "
                            "groups are distinct already");
    if (sel->qualify)
        return sl_error_set(b->err, sel->offset, "SELECT DISTINCT with "
                            "QUALIFY is not supported yet");
    if (p->wjoin)
        return sl_error_set(b->err, sel->offset, "SELECT DISTINCT over a join "
                            "of two sources is not supported yet");
    if (dedup_needs_time(b, sel->offset, "SELECT DISTINCT") != 0)
        return -1;
    if (stmt->kind == SL_ST_CREATE_MVIEW)
        return sl_error_set(b->err, stmt->offset, "SELECT DISTINCT over a "
                            "stream is append-only: use CREATE STREAMING TABLE");
    sl_plan_dedup *d = p->dedup = sl_xcalloc(1, sizeof *d);
    d->distinct = 1;
    return dedup_within(b, stmt, &d->within_ms);
}

sl_plan *sl_plan_bind(sl_session *s, const sl_stmt *stmt, sl_error *err)
{
    const sl_select *sel = stmt->select;
    sl_plan *p = sl_xcalloc(1, sizeof *p);
    binder b = {s, p, err, NULL};
    p->kind = stmt->kind;
    p->name = stmt->kind == SL_ST_SELECT ? NULL : strdup(stmt->name);
    p->limit = -1;
    p->event_time_col = -1;
    p->sink_stmt = stmt->kind == SL_ST_CREATE_SINK ? stmt : NULL;
    if (bind_source(&b, sel) != 0 || bind_join(&b, sel) != 0 ||
        bind_time(&b, sel) != 0)
        goto fail;
    if (sel->where) {
        if (has_aggregate(sel->where)) {
            sl_error_set(err, sel->where->offset, "aggregate functions are "
                         "not allowed in WHERE (use HAVING)");
            goto fail;
        }
        p->where = sl_expr_dup(sel->where);
        if (bind_input_expr(&b, p->where, "WHERE") != 0 ||
            type_expr(&b, p->where) != 0)
            goto fail;
        if (p->where->type != SL_BOOL && p->where->type != SL_NULL) {
            sl_error_set(err, p->where->offset, "WHERE needs a BOOLEAN "
                         "condition, not %s", sl_type_name(p->where->type));
            goto fail;
        }
        if (p->wjoin)
            wjoin_filters(p, p->where);
    }
    int any_agg = 0;
    for (int i = 0; i < sel->nitems; i++)
        any_agg |= has_aggregate(sel->items[i].expr);
    /* QUALIFY without a WINDOW is a dedup: row-by-row, not an aggregate */
    int dedup = sel->qualify != NULL && p->window.kind == SL_WIN_NONE;
    p->is_agg = sel->ngroup > 0 || any_agg || sel->having != NULL ||
                (sel->qualify != NULL && !dedup);
    if (sel->distinct && bind_distinct(&b, stmt, sel, any_agg) != 0)
        goto fail;
    if (dedup && bind_dedup(&b, stmt, sel, any_agg) != 0)
        goto fail;
    if (sel->qualify && !dedup && bind_qualify(&b, stmt, sel, any_agg) != 0)
        goto fail;
    /* a window join's rows are its pairs, each in one window */
    if (!p->is_agg && p->window.kind != SL_WIN_NONE && !p->wjoin) {
        sl_error_set(err, sel->window.offset, "a WINDOW needs GROUP BY or "
                     "aggregate functions");
        goto fail;
    }
    if (!p->is_agg && p->emit == SL_EMIT_ON_WINDOW_CLOSE && !p->wjoin) {
        sl_error_set(err, sel->emit.offset, "EMIT ON WINDOW CLOSE needs an "
                     "aggregate over a WINDOW");
        goto fail;
    }
    if (p->window.kind == SL_WIN_NONE && p->is_agg && sel->emit.every_ms == 0 &&
        stmt->kind == SL_ST_CREATE_STABLE) {
        sl_error_set(err, stmt->offset, "a streaming table is append-only: an "
                     "aggregate without a window changes its rows; use CREATE "
                     "MATERIALIZED VIEW");
        goto fail;
    }
    if (p->is_agg && stmt->kind == SL_ST_CREATE_STABLE &&
        p->emit != SL_EMIT_ON_WINDOW_CLOSE) {
        sl_error_set(err, stmt->offset, "a streaming table is append-only: "
                     "an aggregate needs EMIT ON WINDOW CLOSE (or use CREATE "
                     "MATERIALIZED VIEW)");
        goto fail;
    }
    if (!p->is_agg && stmt->kind == SL_ST_CREATE_MVIEW) {
        sl_error_set(err, stmt->offset, "a materialized view needs GROUP BY "
                     "or aggregates; use CREATE STREAMING TABLE for "
                     "row-by-row results");
        goto fail;
    }
    if (bind_group_by(&b, sel) != 0 ||
        (p->topn && p->topn->of_groups && bind_qualify_groups(&b) != 0) ||
        bind_select_list(&b, sel) != 0)
        goto fail;
    if (p->dedup && p->dedup->distinct) {
        /* DISTINCT: keyed by every selected column */
        sl_plan_dedup *d = p->dedup;
        d->keys = sl_xcalloc((size_t)p->nout + 1, sizeof *d->keys);
        for (int i = 0; i < p->nout; i++)
            d->keys[d->nkeys++] = sl_expr_dup(p->out[i]);
    }
    if (sel->having) {
        p->having_sql = sl_expr_to_sql(sel->having);
        p->having = sl_expr_dup(sel->having);
        if (bind_group_expr(&b, &p->having) != 0 ||
            type_expr(&b, p->having) != 0)
            goto fail;
        if (p->having->type != SL_BOOL && p->having->type != SL_NULL) {
            sl_error_set(err, p->having->offset, "HAVING needs a BOOLEAN "
                         "condition, not %s", sl_type_name(p->having->type));
            goto fail;
        }
    }
    if (bind_key(&b, sel) != 0)
        goto fail;
    if (sel->order_by && stmt->kind != SL_ST_SELECT) {
        sl_error_set(err, sel->order_by[0].expr->offset, "ORDER BY has no "
                     "meaning in a continuous query; order when you read the "
                     "result");
        goto fail;
    }
    if (sel->limit) {
        if (stmt->kind != SL_ST_SELECT) {
            sl_error_set(err, sel->limit->offset, "LIMIT is only for push "
                         "queries");
            goto fail;
        }
        if (sel->limit->kind != SL_EX_LITERAL ||
            sel->limit->lit_type != SL_BIGINT || sel->limit->lit_i < 0) {
            sl_error_set(err, sel->limit->offset, "LIMIT needs a "
                         "non-negative integer");
            goto fail;
        }
        p->limit = sel->limit->lit_i;
    }
    return p;
fail:
    sl_plan_free(p);
    return NULL;
}
