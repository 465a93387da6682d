/*
** table_source.c: a streaming table of the same database read as a source
** (DESIGN §2 rule 8, docs/dataflow.md §4.2, stage 1: polled, not fused).
**
** A streaming table is an SQLite rowid table that sluice only appends to
** (storage/guard.c refuses UPDATE and DELETE of one that a query reads, so
** a rowid is never reused), so its rows in rowid order are its stream. next()
** reads `SELECT rowid, cols FROM t WHERE rowid > pos ORDER BY rowid LIMIT n`
** through the session's connection. The upstream query writes its rows only
** at commit points, in the transaction that also records every reader's
** position, and next() never runs inside one: a reader sees committed rows
** only, and the rowid it has read commits with its own results (its
** position, `rowid:N`, in sluice_offsets), which makes the chain
** exactly-once. The reader lags its upstream by one commit.
**
** The input is bounded once the upstream query is `done` (its catalog
** status, written after its last commit) and the table is read to its end;
** otherwise an empty read means "nothing new now" and the query polls, as
** a followed file does. Each row's origin is its rowid (sl_rowloc.line), so
** a dead letter or late event says `table:rowid`. A windowed upstream's rows
** get the pseudo-column window_time = window_end - 1 ms (rule 9) when the
** binder asks for it (def->window_end_col).
*/
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "connectors/source.h"

typedef struct table_src {
    sl_source base;
    const sl_source_def *def;
    sqlite3 *db;                /* the session's, borrowed */
    sqlite3_stmt *read;         /* rowid > ?1 ORDER BY rowid LIMIT ?2 */
    sqlite3_stmt *status;       /* the upstream's catalog status */
    int64_t pos;                /* the last rowid returned */
} table_src;

/* 1 when the upstream query is done (every row it will write is
** committed), 0 otherwise, -1 with err set. */
static int upstream_done(table_src *t, sl_error *err)
{
    sqlite3_reset(t->status);
    int rc = sqlite3_step(t->status);
    int done = rc == SQLITE_ROW &&
               sqlite3_column_type(t->status, 0) == SQLITE_TEXT &&
               strcmp((const char *)sqlite3_column_text(t->status, 0),
                      "done") == 0;
    sqlite3_reset(t->status);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sl_error_set(err, -1, "cannot read the status of %s: %s",
                            t->def->name, sqlite3_errmsg(t->db));
    return done;
}

/* Column c of the current row into row r of b; 0, or 1 when a TIMESTAMP
** does not parse (the row is a dead letter). */
static int fill_cell(table_src *t, sl_batch *b, int r, int c)
{
    sqlite3_stmt *st = t->read;
    sl_column *col = &b->cols[c];
    int sc = c + 1;                     /* column 0 is the rowid */
    if (sqlite3_column_type(st, sc) == SQLITE_NULL) {
        col->null[r] = 1;
        return 0;
    }
    col->null[r] = 0;
    switch (col->type) {
    case SL_DOUBLE:
        col->v.d[r] = sqlite3_column_double(st, sc);
        return 0;
    case SL_TEXT: {
        const char *z = (const char *)sqlite3_column_text(st, sc);
        col->v.s[r] = sl_arena_strdup(&b->arena, z ? z : "",
                                      (size_t)sqlite3_column_bytes(st, sc));
        return 0;
    }
    case SL_TIMESTAMP:
        if (sqlite3_column_type(st, sc) == SQLITE_INTEGER) {
            col->v.i[r] = sqlite3_column_int64(st, sc);
            return 0;
        } else {
            const char *z = (const char *)sqlite3_column_text(st, sc);
            int n = sqlite3_column_bytes(st, sc);
            return z == NULL || sl_ts_parse(z, (size_t)n, &col->v.i[r]) != 0;
        }
    default:                            /* BIGINT, BOOLEAN, INTERVAL */
        col->v.i[r] = sqlite3_column_int64(st, sc);
        return 0;
    }
}

/* Reads up to max_rows rows after pos into b; returns the count or -1. */
static int read_rows(table_src *t, sl_batch *b, int max_rows,
                     sl_reject_fn reject, void *ctx, sl_error *err)
{
    const sl_source_def *d = t->def;
    sqlite3_reset(t->read);
    sqlite3_bind_int64(t->read, 1, t->pos);
    sqlite3_bind_int64(t->read, 2, max_rows);
    if (b->nrows + max_rows > b->cap)
        sl_batch_reserve(b, b->nrows + max_rows);
    int got = 0, rc;
    while ((rc = sqlite3_step(t->read)) == SQLITE_ROW) {
        int64_t rowid = sqlite3_column_int64(t->read, 0);
        t->pos = rowid;
        int r = b->nrows, bad = -1;
        for (int c = 0; c < d->ndeclared; c++)
            if (fill_cell(t, b, r, c) != 0 && bad < 0)
                bad = c;
        if (bad >= 0) {
            const char *z = (const char *)sqlite3_column_text(t->read, bad + 1);
            char why[200];
            snprintf(why, sizeof why, "column %s: '%s' is not a TIMESTAMP",
                     d->col_names[bad], z ? z : "");
            reject(ctx, d->name, rowid, rowid, z ? z : "", z ? strlen(z) : 0,
                   why);
            continue;
        }
        if (d->window_end_col >= 0) {
            /* window_time: the window's last instant */
            const sl_column *we = &b->cols[d->window_end_col];
            sl_column *wt = &b->cols[d->ndeclared];
            wt->null[r] = we->null[r];
            wt->v.i[r] = we->null[r] ? 0 : we->v.i[r] - 1;
        }
        /* columns after the table's (a joined table's) start NULL */
        for (int c = d->ncols; c < b->ncols; c++)
            b->cols[c].null[r] = 1;
        sl_rowloc *loc = &b->loc[r];
        loc->part = 0;
        loc->line = rowid;
        loc->pos = rowid;
        loc->ts_ms = 0;
        b->nrows++;
        got++;
    }
    sqlite3_reset(t->read);
    if (rc != SQLITE_DONE)
        return sl_error_set(err, -1, "cannot read streaming table %s: %s",
                            d->name, sqlite3_errmsg(t->db));
    return got;
}

static int t_next(sl_source *s, sl_batch *b, int max_rows, sl_reject_fn reject,
                  void *ctx, int *done, sl_error *err)
{
    table_src *t = (table_src *)s;
    int n = read_rows(t, b, max_rows, reject, ctx, err);
    if (n != 0)
        return n;
    /* at the end for now: bounded when the upstream is done, read again
    ** after seeing it done (its last rows commit before its status) */
    int up = upstream_done(t, err);
    if (up <= 0)
        return up;
    n = read_rows(t, b, max_rows, reject, ctx, err);
    if (n == 0)
        *done = 1;
    return n;
}

static char *t_position(const sl_source *s)
{
    char buf[40];
    snprintf(buf, sizeof buf, "rowid:%" PRId64, ((const table_src *)s)->pos);
    return strdup(buf);
}

static int t_seek(sl_source *s, const char *pos, sl_error *err)
{
    table_src *t = (table_src *)s;
    if (pos[0] == 0) {
        t->pos = 0;
        return 0;
    }
    char *end;
    errno = 0;
    long long n = strncmp(pos, "rowid:", 6) == 0 ? strtoll(pos + 6, &end, 10)
                                                 : (end = (char *)pos, 0);
    if (end == pos + 6 || end == pos || *end != 0 || errno != 0 || n < 0)
        return sl_error_set(err, -1, "bad saved position '%s' for streaming "
                            "table %s", pos, t->def->name);
    t->pos = n;
    return 0;
}

static double t_progress(const sl_source *s)
{
    (void)s;
    return -1;
}

static char *t_location(const sl_source *s, const sl_rowloc *loc)
{
    char buf[200];
    snprintf(buf, sizeof buf, "%s:%" PRId64, ((const table_src *)s)->def->name,
             loc->line);
    return strdup(buf);
}

static void t_close(sl_source *s)
{
    table_src *t = (table_src *)s;
    sqlite3_finalize(t->read);
    sqlite3_finalize(t->status);
    free(t);
}

static const sl_source_vtab table_vtab = {
    "table", t_next, t_position, t_seek, t_progress, t_location, NULL, NULL,
    t_close
};

sl_source *sl_table_source_open(const sl_source_def *def, sl_error *err)
{
    table_src *t = sl_xcalloc(1, sizeof *t);
    t->base.vt = &table_vtab;
    t->def = def;
    t->db = def->db;
    sqlite3_str *q = sqlite3_str_new(NULL);
    sqlite3_str_appendf(q, "SELECT rowid");
    for (int c = 0; c < def->ndeclared; c++)
        sqlite3_str_appendf(q, ", \"%w\"", def->col_names[c]);
    sqlite3_str_appendf(q, " FROM \"%w\" WHERE rowid > ?1 ORDER BY rowid "
                        "LIMIT ?2", def->name);
    char *sql = sqlite3_str_finish(q);
    if (sql == NULL)
        abort();
    int rc = sqlite3_prepare_v2(t->db, sql, -1, &t->read, NULL);
    sqlite3_free(sql);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(t->db, "SELECT status FROM sluice_catalog "
                                "WHERE name = ?1 COLLATE NOCASE", -1,
                                &t->status, NULL);
    if (rc != SQLITE_OK) {
        sl_error_set(err, -1, "cannot read streaming table %s: %s", def->name,
                     sqlite3_errmsg(t->db));
        t_close(&t->base);
        return NULL;
    }
    sqlite3_bind_text(t->status, 1, def->name, -1, SQLITE_TRANSIENT);
    return &t->base;
}
