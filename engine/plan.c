/*
** plan.c: printing a logical plan (EXPLAIN) and the DDL of its output.
**
** EXPLAIN shows the operator DAG the runtime will build, from the output
** down to the source, one operator per line, indented like PostgreSQL's:
** sink, emit, aggregate (keys and aggregates), window (spec, event-time
** column, watermark delay), dedup (keys and what bounds its state),
** filter, join, source.
*/
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "engine/plan.h"

typedef struct strbuf {
    char *z;
    size_t n, cap;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->z ? b->z + b->n : NULL, b->z ? b->cap - b->n : 0,
                          fmt, ap);
        va_end(ap);
        if (b->z && (size_t)n < b->cap - b->n) {
            b->n += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n + 1) * 2;
        b->z = realloc(b->z, b->cap);
        if (b->z == NULL)
            abort();
    }
}

static void duration(strbuf *b, int64_t ms)
{
    char buf[64];
    sb_printf(b, "%s", sl_interval_format(ms, buf, sizeof buf));
}

static void indent(strbuf *b, int depth)
{
    for (int i = 0; i < depth; i++)
        sb_printf(b, "  ");
}

static void expr_line(strbuf *b, const char *label, const sl_expr *e)
{
    char *sql = sl_expr_to_sql(e);
    sb_printf(b, "%s%s", label, sql);
    free(sql);
}

static void mark_columns(const sl_expr *e, uint8_t *used)
{
    if (e == NULL)
        return;
    if (e->kind == SL_EX_COLUMN && e->col >= 0)
        used[e->col] = 1;
    for (int i = 0; i < e->nargs; i++)
        mark_columns(e->args[i], used);
}

void sl_plan_input_used(const sl_plan *p, uint8_t *used)
{
    memset(used, 0, (size_t)p->ninput);
    mark_columns(p->where, used);
    if (p->event_time_col >= 0)
        used[p->event_time_col] = 1;
    if (!p->is_agg) {
        for (int i = 0; i < p->nout; i++)
            mark_columns(p->out[i], used);
        return;
    }
    for (int i = 0; i < p->ngroup; i++)
        mark_columns(p->group[i], used);
    for (int i = 0; i < p->nagg; i++)
        mark_columns(p->aggs[i].arg, used);
    if (p->topn && !p->topn->of_groups) {
        mark_columns(p->topn->order, used);
        for (int i = 0; i < p->topn->spec.ncarry; i++)
            used[p->topn->carry[i]] = 1;
    }
}

/* "source: name (connector ...)" of one source, without a newline. */
static void source_line(strbuf *b, const sl_source_def *s)
{
    if (s->connector == SL_CONN_FILE)
        sb_printf(b, "source: %s (file '%s', %s%s)", s->name, s->path,
                  s->decode.format == SL_FORMAT_CSV ? "csv" : "ndjson",
                  s->follow ? ", follow" : ", bounded");
    else if (s->connector == SL_CONN_NEXMARK)
        sb_printf(b, "source: %s (nexmark %s, %s)", s->name,
                  s->nexmark_kind == SL_NEXMARK_PERSON ? "person"
                  : s->nexmark_kind == SL_NEXMARK_AUCTION ? "auction" : "bid",
                  s->follow ? "unbounded" : "bounded");
    else if (s->connector == SL_CONN_TABLE)
        sb_printf(b, "source: streaming table %s (read by rowid, committed "
                  "rows, ends when its query is done)", s->name);
    else
        sb_printf(b, "source: %s (kafka)", s->name);
}

char *sl_plan_explain(const sl_plan *p)
{
    strbuf b = {0};
    int d = 0;
    const char *what = p->kind == SL_ST_CREATE_MVIEW ? "materialized view" :
                       p->kind == SL_ST_CREATE_STABLE ? "streaming table" :
                       p->kind == SL_ST_CREATE_SINK ? "sink" : "push query";
    if (p->kind == SL_ST_SELECT) {
        sb_printf(&b, "output: push query to the terminal");
        if (p->limit >= 0)
            sb_printf(&b, ", limit %lld", (long long)p->limit);
    } else {
        sb_printf(&b, "output: %s %s", what, p->name);
        if (p->kind == SL_ST_CREATE_MVIEW)
            sb_printf(&b, p->emit == SL_EMIT_CHANGES ? " (upsert" : " (insert");
        else
            sb_printf(&b, " (append");
        if (p->nkey > 0) {
            sb_printf(&b, ", key:");
            for (int i = 0; i < p->nkey; i++)
                sb_printf(&b, "%s %s", i ? "," : "", p->out_names[p->key_cols[i]]);
        }
        sb_printf(&b, ")");
    }
    sb_printf(&b, "\n");
    d++;
    indent(&b, d);
    sb_printf(&b, "project:");
    for (int i = 0; i < p->nout; i++)
        sb_printf(&b, "%s %s %s", i ? "," : "", p->out_names[i],
                  sl_type_name(p->out_types[i]));
    sb_printf(&b, "\n");
    if (p->is_agg) {
        d++;
        indent(&b, d);
        if (p->emit == SL_EMIT_ON_WINDOW_CLOSE)
            sb_printf(&b, "emit: on window close (final rows, append)\n");
        else if (p->emit_every_ms > 0) {
            sb_printf(&b, "emit: changes every ");
            duration(&b, p->emit_every_ms);
            sb_printf(&b, "\n");
        } else
            sb_printf(&b, "emit: changes (upsert at each commit)\n");
        if (p->topn && p->topn->of_groups) {
            d++;
            indent(&b, d);
            sb_printf(&b, "qualify: %s (ranks each window's groups when it "
                      "closes)\n", p->topn->sql);
        }
        if (p->having) {
            d++;
            indent(&b, d);
            sb_printf(&b, "having: %s\n", p->having_sql);
        }
        d++;
        indent(&b, d);
        int rows = p->topn && !p->topn->of_groups;
        sb_printf(&b, rows ? "top-n: partition [" : "aggregate: keys [");
        for (int i = 0; i < p->ngroup; i++) {
            char *k = sl_expr_to_sql(p->group[i]);
            sb_printf(&b, "%s%s", i ? ", " : "", k);
            free(k);
        }
        if (rows) {
            sb_printf(&b, "] keep %s (%d column%s per row)\n", p->topn->sql,
                      p->topn->spec.ncarry,
                      p->topn->spec.ncarry == 1 ? "" : "s");
        } else {
            sb_printf(&b, "] aggregates [");
            for (int i = 0; i < p->nagg; i++)
                sb_printf(&b, "%s%s", i ? ", " : "", p->aggs[i].sql);
            sb_printf(&b, "]\n");
        }
        if (p->window.kind != SL_WIN_NONE) {
            d++;
            indent(&b, d);
            const sl_window_spec *w = &p->window;
            if (w->kind == SL_WIN_TUMBLING) {
                sb_printf(&b, "window: tumbling size ");
                duration(&b, w->size_ms);
            } else if (w->kind == SL_WIN_HOPPING) {
                sb_printf(&b, "window: hopping size ");
                duration(&b, w->size_ms);
                sb_printf(&b, " advance ");
                duration(&b, w->advance_ms);
            } else {
                sb_printf(&b, "window: session gap ");
                duration(&b, w->gap_ms);
            }
            sb_printf(&b, "; event time %s, watermark delay ",
                      p->input_names[p->event_time_col]);
            duration(&b, p->delay_ms);
            sb_printf(&b, " (%s)\n", p->watermark_from_query ? "from the query"
                      : p->src->connector == SL_CONN_TABLE
                      ? "from the streaming table's rows" : "from the source");
        }
    }
    if (p->dedup) {
        const sl_plan_dedup *dd = p->dedup;
        d++;
        indent(&b, d);
        sb_printf(&b, "dedup: %s keys [", dd->distinct ? "distinct"
                                                       : "keep first per key,");
        for (int i = 0; i < dd->nkeys; i++) {
            char *k = sl_expr_to_sql(dd->keys[i]);
            sb_printf(&b, "%s%s", i ? ", " : "", k);
            free(k);
        }
        sb_printf(&b, "] by event time %s (append); state bounded by the "
                  "watermark + dedup_within ", p->input_names[p->event_time_col]);
        duration(&b, dd->within_ms);
        sb_printf(&b, "\n");
    }
    if (p->where) {
        d++;
        indent(&b, d);
        expr_line(&b, "filter: ", p->where);
        sb_printf(&b, "\n");
    }
    if (p->join) {
        d++;
        indent(&b, d);
        sb_printf(&b, "join: %s lookup on %s = %s.%s (table snapshot)\n",
                  p->join->kind == SL_JOIN_LEFT ? "left" : "inner",
                  p->input_names[p->join->left_key], p->join->table,
                  p->join->col_names[p->join->right_key]);
    }
    if (p->wjoin) {
        const sl_plan_wjoin *wj = p->wjoin;
        d++;
        indent(&b, d);
        sb_printf(&b, "window join: %s on",
                  wj->kind == SL_JOIN_LEFT ? "left" : "inner");
        for (int k = 0; k < wj->nkeys; k++)
            sb_printf(&b, "%s %s.%s = %s.%s", k ? " and" : "", p->src->name,
                      p->src->col_names[wj->keys[0][k]], wj->right->name,
                      wj->right->col_names[wj->keys[1][k]]);
        sb_printf(&b, ", tumbling size ");
        duration(&b, p->window.size_ms);
        sb_printf(&b, " (a window's pairs when both watermarks pass its "
                  "end)\n");
        d++;
        for (int s = 0; s < 2; s++) {
            indent(&b, d);
            const sl_source_def *def = s ? wj->right : p->src;
            source_line(&b, def);
            sb_printf(&b, "; event time %s, watermark delay ",
                      def->col_names[wj->time_col[s]]);
            duration(&b, wj->delay_ms[s]);
            for (int i = 0; i < wj->nfilters[s]; i++)
                expr_line(&b, i ? " AND " : "; keeps rows where ",
                          wj->filters[s][i]);
            sb_printf(&b, "\n");
        }
        return b.z;
    }
    d++;
    indent(&b, d);
    const sl_source_def *s = p->src;
    source_line(&b, s);
    if (p->event_time_col >= 0 && p->window.kind == SL_WIN_NONE) {
        sb_printf(&b, "; event time %s, watermark delay ",
                  p->input_names[p->event_time_col]);
        duration(&b, p->delay_ms);
    }
    sb_printf(&b, "\n");
    return b.z;
}

static const char *sqlite_type(sl_type t)
{
    switch (t) {
    case SL_BOOL: return "BOOLEAN";
    case SL_BIGINT: return "BIGINT";
    case SL_DOUBLE: return "DOUBLE";
    case SL_TIMESTAMP: return "TIMESTAMP";
    case SL_INTERVAL: return "BIGINT";
    default: return "TEXT";
    }
}

/* The window bounds lead the key: results arrive roughly in time order, so
** the key's index grows at its end instead of taking inserts all over (and
** time-range queries use it). Tumbling and hopping windows lead with
** window_start (the same order as window_end for one size). Session
** windows lead with window_end: a session closes when the watermark
** passes its end, so final rows arrive in window_end order and every
** insert appends to the last page, where window_start order (sessions
** of any length closing together) inserted into the middle of recent
** pages and split them (B4 -20 %). key_cols holds the group keys first. */
int sl_plan_pk_col(const sl_plan *p, int i)
{
    int nwin = p->window.kind != SL_WIN_NONE ? 2 : 0;
    int ngroup = p->nkey - nwin;
    if (p->window.kind == SL_WIN_SESSION && i < nwin)
        return p->key_cols[ngroup + 1 - i];     /* window_end first */
    return p->key_cols[i < nwin ? ngroup + i : i - nwin];
}

int sl_plan_key_not_null(const sl_plan *p)
{
    for (int k = 0; k < p->ngroup; k++) {
        const sl_expr *g = p->group[k];
        if (g->kind != SL_EX_COLUMN || g->col < 0 || g->col >= p->src->ncols ||
            !p->src->col_not_null[g->col])
            return 0;
    }
    return 1;
}

char *sl_plan_output_ddl(const sl_plan *p)
{
    sqlite3_str *s = sqlite3_str_new(NULL);
    sqlite3_str_appendf(s, "CREATE TABLE \"%w\" (", p->name);
    for (int i = 0; i < p->nout; i++)
        sqlite3_str_appendf(s, "%s\"%w\" %s", i ? ", " : "", p->out_names[i],
                            sqlite_type(p->out_types[i]));
    if (p->kind == SL_ST_CREATE_MVIEW && p->nkey > 0) {
        sqlite3_str_appendf(s, ", PRIMARY KEY (");
        for (int i = 0; i < p->nkey; i++)
            sqlite3_str_appendf(s, "%s\"%w\"", i ? ", " : "",
                                p->out_names[sl_plan_pk_col(p, i)]);
        sqlite3_str_appendf(s, ")");
    }
    sqlite3_str_appendf(s, ")");
    if (p->kind == SL_ST_CREATE_MVIEW && p->nkey > 0 && sl_plan_key_not_null(p))
        sqlite3_str_appendf(s, " WITHOUT ROWID");
    return sqlite3_str_finish(s);
}
