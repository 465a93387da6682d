/*
** table_writer.c: results into a SQLite table (see table_writer.h).
**
** Append-only outputs (streaming tables, EMIT ON WINDOW CLOSE views) are
** written with a multi-row INSERT of ROWS_PER_INSERT rows per statement
** execution, so SQLite's per-statement cost is paid once per many rows.
** EMIT CHANGES views upsert each row with an UPDATE ... WHERE key IS ? and,
** when no row changed, an INSERT: unlike ON CONFLICT this also matches NULL
** keys. A view without keys (a global aggregate) is replaced whole, and
** emptied when its row is retracted (HAVING turned false).
** Every value is bound without a copy: text points into the batch,
** timestamps are formatted into buffers owned by the writer that live
** until the statement has run.
**
** A materialised view's rows are written in the order of its primary key
** (window bounds, then group keys): sorted inserts touch neighbouring index
** pages instead of pages all over the index, which makes SQLite's share of
** a session-window query several times cheaper (docs/benchmarks.md).
*/
#include <stdlib.h>
#include <string.h>
#include "engine/table_writer.h"
#include "storage/db.h"
#include "connectors/decoder.h"

#define ROWS_PER_INSERT 64
#define TS_LEN 32

struct sl_table_writer {
    sqlite3 *db;
    const sl_plan *p;
    int ncols;
    sqlite3_stmt *insert_one;   /* INSERT ... VALUES (?, ...) */
    sqlite3_stmt *insert_many;  /* ... VALUES (...), (...) x ROWS_PER_INSERT */
    sqlite3_stmt *update;       /* upserts: UPDATE ... WHERE key IS ? */
    sqlite3_stmt *retract;      /* DELETE ... WHERE key IS ? */
    sqlite3_stmt *clear;        /* global aggregate: DELETE FROM t */
    char (*ts)[TS_LEN];         /* ROWS_PER_INSERT * ncols timestamp texts */
    int *pk;                    /* output columns of the primary key, or NULL */
    int *order;                 /* rows of the batch in key order */
    int order_cap;
};

static int is_key(const sl_plan *p, int c)
{
    for (int k = 0; k < p->nkey; k++)
        if (p->key_cols[k] == c)
            return 1;
    return 0;
}

static int prepare(sl_table_writer *w, sqlite3_str *s, sqlite3_stmt **out,
                   sl_error *err)
{
    char *sql = sqlite3_str_finish(s);
    int rc = sqlite3_prepare_v3(w->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out,
                                NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return sl_error_set(err, -1, "cannot prepare the output of %s: %s",
                            w->p->name, sqlite3_errmsg(w->db));
    return 0;
}

static sqlite3_str *insert_sql(sl_table_writer *w, int rows)
{
    const sl_plan *p = w->p;
    sqlite3_str *s = sqlite3_str_new(w->db);
    sqlite3_str_appendf(s, "INSERT INTO \"%w\"(", p->name);
    for (int i = 0; i < p->nout; i++)
        sqlite3_str_appendf(s, "%s\"%w\"", i ? ", " : "", p->out_names[i]);
    sqlite3_str_appendall(s, ") VALUES ");
    for (int r = 0; r < rows; r++) {
        sqlite3_str_appendall(s, r ? ", (" : "(");
        for (int i = 0; i < p->nout; i++)
            sqlite3_str_appendf(s, "%s?", i ? ", " : "");
        sqlite3_str_appendall(s, ")");
    }
    return s;
}

void sl_table_writer_free(sl_table_writer *w)
{
    if (w == NULL)
        return;
    sqlite3_finalize(w->insert_one);
    sqlite3_finalize(w->insert_many);
    sqlite3_finalize(w->update);
    sqlite3_finalize(w->retract);
    sqlite3_finalize(w->clear);
    free(w->ts);
    free(w->pk);
    free(w->order);
    free(w);
}

sl_table_writer *sl_table_writer_new(sqlite3 *db, const sl_plan *p,
                                     sl_error *err)
{
    sl_table_writer *w = calloc(1, sizeof *w);
    if (w == NULL)
        abort();
    w->db = db;
    w->p = p;
    w->ncols = p->nout;
    w->ts = calloc((size_t)ROWS_PER_INSERT * (size_t)p->nout + 1, TS_LEN);
    if (w->ts == NULL)
        abort();
    int upsert = p->kind == SL_ST_CREATE_MVIEW && p->emit == SL_EMIT_CHANGES;
    if (p->kind == SL_ST_CREATE_MVIEW && p->nkey > 0) {
        w->pk = sl_xcalloc((size_t)p->nkey, sizeof *w->pk);
        for (int i = 0; i < p->nkey; i++)
            w->pk[i] = sl_plan_pk_col(p, i);
    }
    if (prepare(w, insert_sql(w, 1), &w->insert_one, err) != 0 ||
        (!upsert && prepare(w, insert_sql(w, ROWS_PER_INSERT),
                            &w->insert_many, err) != 0))
        goto fail;
    if (upsert && p->nkey == 0) {
        sqlite3_str *s = sqlite3_str_new(db);
        sqlite3_str_appendf(s, "DELETE FROM \"%w\"", p->name);
        if (prepare(w, s, &w->clear, err) != 0)
            goto fail;
    }
    if (upsert && p->nkey > 0) {
        /* parameters numbered by output column, as for the INSERT */
        sqlite3_str *s = sqlite3_str_new(db);
        sqlite3_str_appendf(s, "UPDATE \"%w\" SET ", p->name);
        int nset = 0;
        for (int i = 0; i < p->nout; i++) {
            if (is_key(p, i))
                continue;
            sqlite3_str_appendf(s, "%s\"%w\" = ?%d", nset++ ? ", " : "",
                                p->out_names[i], i + 1);
        }
        if (nset == 0)      /* every column is key: a no-op update */
            sqlite3_str_appendf(s, "\"%w\" = \"%w\"",
                                p->out_names[p->key_cols[0]],
                                p->out_names[p->key_cols[0]]);
        sqlite3_str_appendall(s, " WHERE ");
        for (int k = 0; k < p->nkey; k++)
            sqlite3_str_appendf(s, "%s\"%w\" IS ?%d", k ? " AND " : "",
                                p->out_names[p->key_cols[k]], p->key_cols[k] + 1);
        if (prepare(w, s, &w->update, err) != 0)
            goto fail;
        s = sqlite3_str_new(db);
        sqlite3_str_appendf(s, "DELETE FROM \"%w\" WHERE ", p->name);
        for (int k = 0; k < p->nkey; k++)
            sqlite3_str_appendf(s, "%s\"%w\" IS ?%d", k ? " AND " : "",
                                p->out_names[p->key_cols[k]], k + 1);
        if (prepare(w, s, &w->retract, err) != 0)
            goto fail;
    }
    return w;
fail:
    sl_table_writer_free(w);
    return NULL;
}

/* Binds row r of col to parameter i; ts is where a timestamp's text lives
** until the statement has run. */
static void bind(sqlite3_stmt *st, int i, const sl_column *col, int r,
                 char *ts)
{
    if (col->null[r]) {
        sqlite3_bind_null(st, i);
        return;
    }
    switch (col->type) {
    case SL_TEXT:
        sqlite3_bind_text(st, i, col->v.s[r].z, col->v.s[r].n, SQLITE_STATIC);
        break;
    case SL_DOUBLE:
        sqlite3_bind_double(st, i, col->v.d[r]);
        break;
    case SL_TIMESTAMP:
        sqlite3_bind_text(st, i, ts, sl_ts_format(col->v.i[r], ts),
                          SQLITE_STATIC);
        break;
    default:
        sqlite3_bind_int64(st, i, col->v.i[r]);
        break;
    }
}

static int run(sl_table_writer *w, sqlite3_stmt *st, sl_error *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return sl_db_error(err, w->db, "cannot write to %s", w->p->name);
    return 0;
}

/* Compares rows a and b of a column as SQLite orders the stored values:
** NULL first, text byte-wise (BINARY), numbers by value. Timestamps are
** compared as numbers, which is the order of their ISO text. */
static int cmp_value(const sl_column *col, int a, int b)
{
    if (col->null[a] || col->null[b])
        return (int)!col->null[a] - (int)!col->null[b];
    switch (col->type) {
    case SL_TEXT: {
        const sl_str *x = &col->v.s[a], *y = &col->v.s[b];
        int n = x->n < y->n ? x->n : y->n;
        int c = n > 0 ? memcmp(x->z, y->z, (size_t)n) : 0;
        return c != 0 ? c : (x->n > y->n) - (x->n < y->n);
    }
    case SL_DOUBLE:
        return (col->v.d[a] > col->v.d[b]) - (col->v.d[a] < col->v.d[b]);
    default:
        return (col->v.i[a] > col->v.i[b]) - (col->v.i[a] < col->v.i[b]);
    }
}

typedef struct {
    const sl_table_writer *w;
    const sl_batch *b;
} order_ctx;

static int cmp_rows(const void *x, const void *y, void *arg)
{
    const order_ctx *c = arg;
    int a = *(const int *)x, b = *(const int *)y;
    for (int i = 0; i < c->w->p->nkey; i++) {
        int d = cmp_value(&c->b->cols[c->w->pk[i]], a, b);
        if (d != 0)
            return d;
    }
    return (a > b) - (a < b);
}

/* The rows of out in the order they are written: primary-key order for a
** materialised view, batch order otherwise (NULL). */
static const int *write_order(sl_table_writer *w, const sl_batch *out)
{
    if (w->pk == NULL || out->nrows < 2)
        return NULL;
    if (out->nrows > w->order_cap) {
        w->order_cap = out->nrows;
        w->order = sl_xrealloc(w->order, sizeof *w->order * (size_t)w->order_cap);
    }
    for (int r = 0; r < out->nrows; r++)
        w->order[r] = r;
    order_ctx c = {w, out};
    qsort_r(w->order, (size_t)out->nrows, sizeof *w->order, cmp_rows, &c);
    return w->order;
}

/* Binds row r of out (all columns) to st's parameters from first + 1 on. */
static void bind_row(sl_table_writer *w, sqlite3_stmt *st, int first,
                     const sl_batch *out, int r)
{
    for (int c = 0; c < w->ncols; c++)
        bind(st, first + c + 1, &out->cols[c], r, w->ts[first + c]);
}

int sl_table_writer_write(sl_table_writer *w, const sl_batch *out,
                          sl_error *err)
{
    int nc = w->ncols;
    int i = 0;
    const int *order = write_order(w, out);
    if (w->clear && run(w, w->clear, err) != 0)
        return -1;
    if (w->insert_many != NULL) {
        for (; i + ROWS_PER_INSERT <= out->nrows; i += ROWS_PER_INSERT) {
            for (int k = 0; k < ROWS_PER_INSERT; k++)
                bind_row(w, w->insert_many, k * nc, out,
                         order ? order[i + k] : i + k);
            if (run(w, w->insert_many, err) != 0)
                return -1;
        }
    }
    for (; i < out->nrows; i++) {
        int r = order ? order[i] : i;
        if (w->update) {
            bind_row(w, w->update, 0, out, r);
            if (run(w, w->update, err) != 0)
                return -1;
            if (sqlite3_changes(w->db) > 0)
                continue;
        }
        bind_row(w, w->insert_one, 0, out, r);
        if (run(w, w->insert_one, err) != 0)
            return -1;
    }
    return 0;
}

int sl_table_writer_retract(sl_table_writer *w, const sl_batch *keys,
                            sl_error *err)
{
    /* a view without keys (a global aggregate) has at most its one row:
    ** retracting it (HAVING turned false) empties the table */
    if (w->clear != NULL)
        return keys->nrows > 0 ? run(w, w->clear, err) : 0;
    if (w->retract == NULL)
        return 0;
    for (int r = 0; r < keys->nrows; r++) {
        for (int k = 0; k < w->p->nkey; k++)
            bind(w->retract, k + 1, &keys->cols[k], r, w->ts[k]);
        if (run(w, w->retract, err) != 0)
            return -1;
    }
    return 0;
}
