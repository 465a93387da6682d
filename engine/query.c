/*
** query.c: running continuous and push queries.
**
** A query is a plan turned into a pipeline: source -> [join] -> [filter] ->
** aggregate (windows, watermark, emit) or project -> output. The output is
** a SQLite table (materialised view: upsert/delete by key; streaming table
** and ON WINDOW CLOSE: insert) or the terminal (push query).
**
** Commit points: the session keeps one SQLite write transaction open while
** queries run; every commit_interval (and commit_rows, and at the end of a
** bounded input, and before returning to the user) the pending changes of
** every query are published, each query's source position is written to
** sluice_offsets, and the transaction commits. Readers in WAL mode see only
** committed snapshots.
**
** Late events and dead letters are written into the same transaction as
** the results they belong with.
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include "engine/query.h"
#include "engine/op.h"
#include "engine/expr.h"
#include "engine/plan.h"
#include "engine/checkpoint.h"
#include "connectors/source.h"
#include "storage/db.h"
#include "grammar/parser.h"

typedef struct join_table {
    int nrows;
    sl_value *cells;       /* nrows * ncols; text owned by `text` */
    char *text;
    uint64_t *hash;        /* per row, of the key */
    int *buckets;          /* open addressing over row indexes, -1 empty */
    size_t nbuckets;
} join_table;

struct sl_query {
    sl_session *s;
    char *name;            /* output name, or "(push)" */
    sl_catalog_obj *obj;   /* NULL for push queries */
    sl_plan *plan;
    sl_source *src;
    int32_t parts[256];
    sl_batch *in;
    int *keep;             /* row indexes kept by the filter */
    uint8_t *selmask;      /* per row: kept (1) or filtered out (0) */
    int keep_cap;
    sl_settings settings;  /* the session's, overridden by the query's WITH */
    sl_cexpr *where;
    sl_cexpr **out_ce;     /* non-aggregate select list */
    sl_batch *out;
    sl_operator *agg;
    join_table *join;
    int done;
    int64_t rows_in, rows_out, late, dead;

    /* output */
    int push;              /* to the terminal */
    int64_t limit_left;    /* push: rows still wanted, -1 no limit */
    sqlite3_stmt *write_st, *update_st, *retract_st, *clear_st;
    char **cells;          /* push: text of one row */
    char *cellbuf;
};

/* ---- helpers ------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Formats value v of batch column as text into buf (>= 64 bytes) or
** returns a pointer into the batch for TEXT. *len gets the length. NULL
** for SQL NULL. */
static const char *value_text(const sl_column *col, int r, char *buf, int *len)
{
    if (col->null[r])
        return NULL;
    switch (col->type) {
    case SL_TEXT:
        *len = col->v.s[r].n;
        return col->v.s[r].z;
    case SL_DOUBLE:
        *len = sl_format_double(col->v.d[r], buf);
        return buf;
    case SL_TIMESTAMP:
        *len = sl_ts_format(col->v.i[r], buf);
        return buf;
    case SL_BOOL:
        *len = snprintf(buf, 64, "%s", col->v.i[r] ? "true" : "false");
        return buf;
    default:
        *len = snprintf(buf, 64, "%lld", (long long)col->v.i[r]);
        return buf;
    }
}

static void bind_value(sqlite3_stmt *st, int i, const sl_column *col, int r)
{
    if (col->null[r]) {
        sqlite3_bind_null(st, i);
        return;
    }
    char buf[64];
    switch (col->type) {
    case SL_TEXT:
        sqlite3_bind_text(st, i, col->v.s[r].z, col->v.s[r].n, SQLITE_STATIC);
        break;
    case SL_DOUBLE:
        sqlite3_bind_double(st, i, col->v.d[r]);
        break;
    case SL_TIMESTAMP: {
        int n = sl_ts_format(col->v.i[r], buf);
        sqlite3_bind_text(st, i, buf, n, SQLITE_TRANSIENT);
        break;
    }
    default:
        sqlite3_bind_int64(st, i, col->v.i[r]);
        break;
    }
}

/* Appends JSON for row r of the first ncols columns of b to str. */
static void row_json(sqlite3_str *str, const sl_batch *b, int r,
                     char *const *names, int ncols)
{
    sqlite3_str_appendchar(str, 1, '{');
    for (int c = 0; c < ncols; c++) {
        const sl_column *col = &b->cols[c];
        char buf[64];
        int len = 0;
        const char *v = value_text(col, r, buf, &len);
        sqlite3_str_appendf(str, "%s\"", c ? "," : "");
        for (const char *p = names[c]; *p; p++) {
            if (*p == '"' || *p == '\\')
                sqlite3_str_appendchar(str, 1, '\\');
            sqlite3_str_appendchar(str, 1, *p);
        }
        sqlite3_str_appendall(str, "\":");
        if (v == NULL) {
            sqlite3_str_appendall(str, "null");
        } else if (col->type == SL_BIGINT || col->type == SL_DOUBLE ||
                   col->type == SL_BOOL || col->type == SL_INTERVAL) {
            sqlite3_str_append(str, v, len);
        } else {
            sqlite3_str_appendchar(str, 1, '"');
            for (int i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)v[i];
                if (ch == '"' || ch == '\\')
                    sqlite3_str_appendf(str, "\\%c", ch);
                else if (ch < 0x20)
                    sqlite3_str_appendf(str, "\\u%04x", ch);
                else
                    sqlite3_str_appendchar(str, 1, (char)ch);
            }
            sqlite3_str_appendchar(str, 1, '"');
        }
    }
    sqlite3_str_appendchar(str, 1, '}');
}

static char *location(const sl_query *q, const sl_rowloc *loc)
{
    return q->src->vt->location(q->src, loc);
}

/* ---- transactions -------------------------------------------------------- */

static int txn_begin(sl_session *s, sl_error *err)
{
    if (!sqlite3_get_autocommit(s->db))
        return 0;
    return sl_db_exec(s->db, "BEGIN IMMEDIATE", err);
}

static int write_positions(sl_query *q, sl_error *err)
{
    if (q->push || q->src == NULL)
        return 0;
    char *pos = q->src->vt->position(q->src);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->s->db, "INSERT OR REPLACE INTO "
                                "sluice_offsets(query, source, position, "
                                "updated_at) VALUES (?1, ?2, ?3, "
                                "strftime('%Y-%m-%d %H:%M:%f','now'))", -1,
                                &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, q->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, q->plan->src->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, pos ? pos : "", -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    free(pos);
    if (rc != SQLITE_DONE && rc != SQLITE_OK)
        return sl_error_set(err, -1, "cannot record the position of %s: %s",
                            q->name, sqlite3_errmsg(q->s->db));
    const char *metrics[] = {"rows_in", "rows_out", "late_events",
                             "dead_letters", "watermark_ms"};
    double values[] = {(double)q->rows_in, (double)q->rows_out,
                       (double)q->late, (double)q->dead,
                       q->agg ? (double)sl_op_aggregate_watermark(q->agg) : 0};
    rc = sqlite3_prepare_v2(q->s->db, "INSERT OR REPLACE INTO sluice_metrics"
                            "(query, name, value, updated_at) VALUES (?1, ?2, "
                            "?3, strftime('%Y-%m-%d %H:%M:%f','now'))", -1,
                            &st, NULL);
    for (int i = 0; i < 5 && rc == SQLITE_OK; i++) {
        sqlite3_bind_text(st, 1, q->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, metrics[i], -1, SQLITE_STATIC);
        if (i == 4 && (!q->agg || sl_op_aggregate_watermark(q->agg) == INT64_MIN ||
                       sl_op_aggregate_watermark(q->agg) == INT64_MAX))
            sqlite3_bind_null(st, 3);
        else
            sqlite3_bind_double(st, 3, values[i]);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return 0;
}

/* Writes q's operator state changes into the open transaction. */
static int save_state(sl_query *q, sl_error *err)
{
    sl_ckpt_writer w;
    if (sl_ckpt_begin(&w, q->s->db, q->name, err) != 0)
        return -1;
    int rc = sl_op_aggregate_save(q->agg, &w, sl_ckpt_fingerprint(q->obj->sql),
                                  err);
    sl_ckpt_end(&w);
    return rc;
}

/* A commit point for every running query (and q, when it is not in the
** running list yet). */
static int commit_point(sl_session *s, sl_query *q, int final, sl_error *err)
{
    if (txn_begin(s, err) != 0)
        return -1;
    for (int i = 0; i < s->nqueries; i++) {
        sl_query *r = s->queries[i];
        if (r->agg && r->agg->vt->flush(r->agg, final && r == q, err) != 0)
            return -1;
        if (r->agg && r->obj && save_state(r, err) != 0)
            return -1;
        if (write_positions(r, err) != 0)
            return -1;
    }
    if (sl_db_exec(s->db, "COMMIT", err) != 0)
        return -1;
    for (int i = 0; i < s->nqueries; i++) {
        sl_query *r = s->queries[i];
        if (r->src && r->src->vt->committed)
            r->src->vt->committed(r->src);
    }
    return 0;
}

/* ---- outputs ---------------------------------------------------------------- */

static int out_write(void *qv, const sl_batch *out, sl_error *err)
{
    sl_query *q = qv;
    if (q->push) {
        int n = out->nrows;
        for (int r = 0; r < n; r++) {
            if (q->limit_left == 0)
                break;
            char *p = q->cellbuf;
            for (int c = 0; c < out->ncols; c++) {
                int len = 0;
                const char *v = value_text(&out->cols[c], r, p, &len);
                if (v == NULL) {
                    q->cells[c] = NULL;
                } else if (v == p) {
                    q->cells[c] = p;
                    p += len + 1;
                } else {
                    q->cells[c] = p;
                    memcpy(p, v, (size_t)len);
                    p[len] = 0;
                    p += len + 1;
                }
                (void)p;
            }
            sl_output_row(q->s->out, (const char *const *)q->cells);
            q->rows_out++;
            if (q->limit_left > 0)
                q->limit_left--;
        }
        sl_output_flush(q->s->out);
        return 0;
    }
    if (q->clear_st) {
        sqlite3_step(q->clear_st);
        sqlite3_reset(q->clear_st);
    }
    for (int r = 0; r < out->nrows; r++) {
        int rc;
        if (q->update_st) {
            for (int c = 0; c < out->ncols; c++)
                bind_value(q->update_st, c + 1, &out->cols[c], r);
            rc = sqlite3_step(q->update_st);
            sqlite3_reset(q->update_st);
            if (rc != SQLITE_DONE)
                return sl_error_set(err, -1, "cannot write to %s: %s", q->name,
                                    sqlite3_errmsg(q->s->db));
            if (sqlite3_changes(q->s->db) > 0) {
                q->rows_out++;
                continue;
            }
        }
        for (int c = 0; c < out->ncols; c++)
            bind_value(q->write_st, c + 1, &out->cols[c], r);
        rc = sqlite3_step(q->write_st);
        sqlite3_reset(q->write_st);
        if (rc != SQLITE_DONE)
            return sl_error_set(err, -1, "cannot write to %s: %s", q->name,
                                sqlite3_errmsg(q->s->db));
        q->rows_out++;
    }
    return 0;
}

static int out_retract(void *qv, const sl_batch *keys, sl_error *err)
{
    sl_query *q = qv;
    if (q->retract_st == NULL)
        return 0;
    for (int r = 0; r < keys->nrows; r++) {
        for (int k = 0; k < q->plan->nkey; k++)
            bind_value(q->retract_st, k + 1, &keys->cols[k], r);
        int rc = sqlite3_step(q->retract_st);
        sqlite3_reset(q->retract_st);
        if (rc != SQLITE_DONE)
            return sl_error_set(err, -1, "cannot update %s: %s", q->name,
                                sqlite3_errmsg(q->s->db));
    }
    return 0;
}

static void record_late(void *qv, const sl_batch *in, int r, int64_t event_ms,
                        int64_t wm_ms)
{
    sl_query *q = qv;
    q->late++;
    if (q->push)
        return;
    sqlite3_str *json = sqlite3_str_new(q->s->db);
    row_json(json, in, r, q->plan->src->col_names, q->plan->src->ncols);
    char *ev = sqlite3_str_finish(json);
    char et[32], wm[32];
    sl_ts_format(event_ms, et);
    sl_ts_format(wm_ms, wm);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(q->s->db, "INSERT INTO sluice_late_events(query, "
                           "source, event, event_time, watermark) VALUES "
                           "(?1, ?2, ?3, ?4, ?5)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, q->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, q->plan->src->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, ev, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, et, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, wm, -1, SQLITE_STATIC);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    sqlite3_free(ev);
}

static void insert_dead(sl_query *q, const char *loc, const char *raw,
                        int rawlen, const char *reason)
{
    q->dead++;
    if (q->push) {
        fprintf(q->s->msg, "warning: %s: %s (record skipped)\n", loc, reason);
        return;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(q->s->db, "INSERT INTO sluice_dead_letters(query, "
                           "source, location, raw, reason) VALUES (?1, ?2, "
                           "?3, ?4, ?5)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, q->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, q->plan->src->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, loc, -1, SQLITE_STATIC);
        if (raw)
            sqlite3_bind_text(st, 4, raw, rawlen, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
}

static void record_dead(void *qv, const sl_batch *in, int r, const char *reason)
{
    sl_query *q = qv;
    sqlite3_str *json = sqlite3_str_new(q->s->db);
    row_json(json, in, r, q->plan->src->col_names, q->plan->src->ncols);
    char *ev = sqlite3_str_finish(json);
    char *loc = location(q, &in->loc[r]);
    insert_dead(q, loc ? loc : "?", ev, -1, reason);
    free(loc);
    sqlite3_free(ev);
}

static void on_reject(void *qv, const char *file, int64_t line, int64_t offset,
                      const char *raw, size_t rawlen, const char *reason)
{
    sl_query *q = qv;
    (void)offset;
    char *loc = sqlite3_mprintf("%s:%lld", file, (long long)line);
    insert_dead(q, loc, raw, (int)rawlen, reason);
    sqlite3_free(loc);
}

static int prepare_output(sl_query *q, sl_error *err)
{
    const sl_plan *p = q->plan;
    sqlite3 *db = q->s->db;
    sqlite3_str *s = sqlite3_str_new(db);
    sqlite3_str_appendf(s, "INSERT INTO \"%w\"(", p->name);
    for (int i = 0; i < p->nout; i++)
        sqlite3_str_appendf(s, "%s\"%w\"", i ? ", " : "", p->out_names[i]);
    sqlite3_str_appendall(s, ") VALUES (");
    for (int i = 0; i < p->nout; i++)
        sqlite3_str_appendf(s, "%s?%d", i ? ", " : "", i + 1);
    sqlite3_str_appendall(s, ")");
    int upsert = p->kind == SL_ST_CREATE_MVIEW && p->emit == SL_EMIT_CHANGES;
    if (upsert && p->nkey > 0) {
        /* An upsert that matches NULL keys too (ON CONFLICT never does):
        ** UPDATE ... WHERE key IS ?, then INSERT when no row changed. The
        ** parameters are numbered by output column, as for the INSERT. */
        sqlite3_str *u = sqlite3_str_new(db);
        sqlite3_str_appendf(u, "UPDATE \"%w\" SET ", p->name);
        int nset = 0;
        for (int i = 0; i < p->nout; i++) {
            int is_key = 0;
            for (int k = 0; k < p->nkey; k++)
                is_key |= p->key_cols[k] == i;
            if (is_key)
                continue;
            sqlite3_str_appendf(u, "%s\"%w\" = ?%d", nset ? ", " : "",
                                p->out_names[i], i + 1);
            nset++;
        }
        if (nset == 0)      /* every column is key: a no-op update */
            sqlite3_str_appendf(u, "\"%w\" = \"%w\"",
                                p->out_names[p->key_cols[0]],
                                p->out_names[p->key_cols[0]]);
        sqlite3_str_appendall(u, " WHERE ");
        for (int k = 0; k < p->nkey; k++)
            sqlite3_str_appendf(u, "%s\"%w\" IS ?%d", k ? " AND " : "",
                                p->out_names[p->key_cols[k]],
                                p->key_cols[k] + 1);
        char *usql = sqlite3_str_finish(u);
        int urc = sqlite3_prepare_v3(db, usql, -1, SQLITE_PREPARE_PERSISTENT,
                                     &q->update_st, NULL);
        sqlite3_free(usql);
        if (urc != SQLITE_OK)
            return sl_error_set(err, -1, "cannot prepare the output of %s: %s",
                                p->name, sqlite3_errmsg(db));
    }
    char *sql = sqlite3_str_finish(s);
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &q->write_st, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return sl_error_set(err, -1, "cannot prepare the output of %s: %s",
                            p->name, sqlite3_errmsg(db));
    if (upsert && p->nkey == 0) {
        sql = sqlite3_mprintf("DELETE FROM \"%w\"", p->name);
        rc = sqlite3_prepare_v2(db, sql, -1, &q->clear_st, NULL);
        sqlite3_free(sql);
        if (rc != SQLITE_OK)
            return sl_error_set(err, -1, "%s", sqlite3_errmsg(db));
    }
    if (upsert && p->nkey > 0) {
        s = sqlite3_str_new(db);
        sqlite3_str_appendf(s, "DELETE FROM \"%w\" WHERE ", p->name);
        for (int k = 0; k < p->nkey; k++)
            sqlite3_str_appendf(s, "%s\"%w\" IS ?%d", k ? " AND " : "",
                                p->out_names[p->key_cols[k]], k + 1);
        sql = sqlite3_str_finish(s);
        rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &q->retract_st, NULL);
        sqlite3_free(sql);
        if (rc != SQLITE_OK)
            return sl_error_set(err, -1, "%s", sqlite3_errmsg(db));
    }
    return 0;
}

/* ---- the join with a table --------------------------------------------- */

static uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *z = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ z[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

/* The key of a value as bytes for hashing/equality: text as is, numbers as
** their decimal text (so a BIGINT 7 joins a TEXT '7' as SQLite would). */
static int key_bytes(const sl_column *col, int r, char *buf, const char **z)
{
    int len = 0;
    *z = value_text(col, r, buf, &len);
    return len;
}

static void join_free(join_table *j)
{
    if (j == NULL)
        return;
    free(j->cells);
    free(j->text);
    free(j->hash);
    free(j->buckets);
    free(j);
}

static join_table *join_load(sl_query *q, sl_error *err)
{
    const sl_plan_join *pj = q->plan->join;
    sqlite3_str *s = sqlite3_str_new(q->s->db);
    sqlite3_str_appendall(s, "SELECT ");
    for (int c = 0; c < pj->ncols; c++)
        sqlite3_str_appendf(s, "%s\"%w\"", c ? ", " : "", pj->col_names[c]);
    sqlite3_str_appendf(s, " FROM \"%w\"", pj->table);
    char *sql = sqlite3_str_finish(s);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->s->db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK) {
        sl_error_set(err, -1, "cannot read table %s: %s", pj->table,
                     sqlite3_errmsg(q->s->db));
        return NULL;
    }
    join_table *j = calloc(1, sizeof *j);
    size_t cap = 0, tlen = 0, tcap = 0;
    sl_value *cells = NULL;
    char *text = NULL;
    size_t *toff = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if ((size_t)j->nrows == cap) {
            cap = cap ? cap * 2 : 256;
            cells = realloc(cells, sizeof *cells * cap * (size_t)pj->ncols);
            toff = realloc(toff, sizeof *toff * cap * (size_t)pj->ncols);
        }
        for (int c = 0; c < pj->ncols; c++) {
            size_t i = (size_t)j->nrows * (size_t)pj->ncols + (size_t)c;
            sl_value *v = &cells[i];
            memset(v, 0, sizeof *v);
            v->type = pj->col_types[c];
            v->is_null = sqlite3_column_type(st, c) == SQLITE_NULL;
            if (v->is_null)
                continue;
            switch (v->type) {
            case SL_DOUBLE:
                v->u.d = sqlite3_column_double(st, c);
                break;
            case SL_TEXT: {
                const char *z = (const char *)sqlite3_column_text(st, c);
                int n = sqlite3_column_bytes(st, c);
                if (tlen + (size_t)n + 1 > tcap) {
                    tcap = (tlen + (size_t)n + 1) * 2;
                    text = realloc(text, tcap);
                }
                memcpy(text + tlen, z, (size_t)n);
                text[tlen + (size_t)n] = 0;
                toff[i] = tlen;
                v->u.s.n = n;
                tlen += (size_t)n + 1;
                break;
            }
            case SL_TIMESTAMP: {
                const char *z = (const char *)sqlite3_column_text(st, c);
                int64_t ms;
                if (sl_ts_parse(z, strlen(z), &ms) == 0)
                    v->u.i = ms;
                else
                    v->is_null = 1;
                break;
            }
            default:
                v->u.i = sqlite3_column_int64(st, c);
                break;
            }
        }
        j->nrows++;
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < (size_t)j->nrows * (size_t)pj->ncols; i++)
        if (cells[i].type == SL_TEXT && !cells[i].is_null)
            cells[i].u.s.z = text + toff[i];
    free(toff);
    j->cells = cells;
    j->text = text;
    j->nbuckets = 16;
    while (j->nbuckets < (size_t)j->nrows * 2)
        j->nbuckets *= 2;
    j->buckets = malloc(sizeof *j->buckets * j->nbuckets);
    j->hash = calloc((size_t)j->nrows + 1, sizeof *j->hash);
    for (size_t b = 0; b < j->nbuckets; b++)
        j->buckets[b] = -1;
    sl_batch *tmp = sl_batch_new(1, &pj->col_types[pj->right_key], 1);
    for (int r = 0; r < j->nrows; r++) {
        const sl_value *v = &cells[(size_t)r * (size_t)pj->ncols + (size_t)pj->right_key];
        if (v->is_null)
            continue;
        sl_batch_reset(tmp);
        sl_batch_add_row(tmp);
        if (v->type == SL_TEXT)
            sl_batch_set_text(tmp, 0, 0, v->u.s.z, (size_t)v->u.s.n);
        else if (v->type == SL_DOUBLE)
            sl_batch_set_double(tmp, 0, 0, v->u.d);
        else
            sl_batch_set_int(tmp, 0, 0, v->u.i);
        char buf[64];
        const char *z;
        int n = key_bytes(&tmp->cols[0], 0, buf, &z);
        j->hash[r] = hash_bytes(z, (size_t)n);
        size_t b = j->hash[r] & (j->nbuckets - 1);
        while (j->buckets[b] >= 0)
            b = (b + 1) & (j->nbuckets - 1);
        j->buckets[b] = r;
    }
    sl_batch_free(tmp);
    return j;
}

/* Fills the joined columns of every row; drops rows without a match
** (inner join). */
static void join_apply(sl_query *q, sl_batch *b)
{
    const sl_plan_join *pj = q->plan->join;
    join_table *j = q->join;
    int base = q->plan->src->ncols;
    const sl_column *key = &b->cols[pj->left_key];
    int kept = 0;
    sl_batch *tmp = sl_batch_new(1, &pj->col_types[pj->right_key], 1);
    for (int r = 0; r < b->nrows; r++) {
        int match = -1;
        if (!key->null[r]) {
            char buf[64], buf2[64];
            const char *z;
            int n = key_bytes(key, r, buf, &z);
            uint64_t h = hash_bytes(z, (size_t)n);
            size_t bk = h & (j->nbuckets - 1);
            while (j->buckets[bk] >= 0) {
                int tr = j->buckets[bk];
                if (j->hash[tr] == h) {
                    const sl_value *v = &j->cells[(size_t)tr * (size_t)pj->ncols +
                                                  (size_t)pj->right_key];
                    sl_batch_reset(tmp);
                    sl_batch_add_row(tmp);
                    if (v->type == SL_TEXT)
                        sl_batch_set_text(tmp, 0, 0, v->u.s.z, (size_t)v->u.s.n);
                    else if (v->type == SL_DOUBLE)
                        sl_batch_set_double(tmp, 0, 0, v->u.d);
                    else
                        sl_batch_set_int(tmp, 0, 0, v->u.i);
                    const char *z2;
                    int n2 = key_bytes(&tmp->cols[0], 0, buf2, &z2);
                    if (n2 == n && memcmp(z, z2, (size_t)n) == 0) {
                        match = tr;
                        break;
                    }
                }
                bk = (bk + 1) & (j->nbuckets - 1);
            }
        }
        for (int c = 0; c < pj->ncols; c++) {
            if (match < 0) {
                sl_batch_set_null(b, r, base + c);
                continue;
            }
            const sl_value *v = &j->cells[(size_t)match * (size_t)pj->ncols + (size_t)c];
            if (v->is_null)
                sl_batch_set_null(b, r, base + c);
            else if (v->type == SL_TEXT)
                b->cols[base + c].v.s[r] = v->u.s, b->cols[base + c].null[r] = 0;
            else if (v->type == SL_DOUBLE)
                sl_batch_set_double(b, r, base + c, v->u.d);
            else
                sl_batch_set_int(b, r, base + c, v->u.i);
        }
        int pass = match >= 0 || pj->kind == SL_JOIN_LEFT;
        q->selmask[r] = pass;
        if (pass)
            q->keep[kept++] = r;
    }
    sl_batch_free(tmp);
    if (kept != b->nrows) {
        if (q->agg)
            b->selected = q->selmask;     /* the aggregate still sees them */
        else
            sl_batch_select(b, q->keep, kept);
    }
}

/* ---- building and running --------------------------------------------------- */

void sl_query_free(sl_query *q)
{
    if (q == NULL)
        return;
    if (q->agg)
        q->agg->vt->close(q->agg);
    sl_source_close(q->src);
    sl_batch_free(q->in);
    sl_batch_free(q->out);
    free(q->keep);
    free(q->selmask);
    sl_cexpr_free(q->where);
    if (q->out_ce)
        for (int i = 0; i < q->plan->nout; i++)
            sl_cexpr_free(q->out_ce[i]);
    free(q->out_ce);
    join_free(q->join);
    sqlite3_finalize(q->write_st);
    sqlite3_finalize(q->update_st);
    sqlite3_finalize(q->retract_st);
    sqlite3_finalize(q->clear_st);
    free(q->cells);
    free(q->cellbuf);
    sl_plan_free(q->plan);
    free(q->name);
    free(q);
}

/* Builds the pipeline for a bound plan. Takes ownership of plan. */
static sl_query *query_build(sl_session *s, sl_plan *plan, int push,
                             sl_error *err)
{
    sl_query *q = calloc(1, sizeof *q);
    if (q == NULL)
        abort();
    q->s = s;
    q->plan = plan;
    q->push = push;
    q->name = strdup(plan->name ? plan->name : "(push)");
    q->limit_left = plan->limit;
    q->src = sl_source_open(plan->src, q->name, err);
    if (q->src == NULL)
        goto fail;
    q->in = sl_batch_new(plan->ninput, plan->input_types, s->settings.batch_rows);
    q->settings = s->settings;
    if (plan->join && (q->join = join_load(q, err)) == NULL)
        goto fail;
    if (plan->where && (q->where = sl_cexpr_compile(plan->where, err)) == NULL)
        goto fail;
    sl_op_ctx ctx = {q, record_late, record_dead, out_write, out_retract};
    if (plan->is_agg) {
        if ((q->agg = sl_op_aggregate_new(plan, &ctx, err)) == NULL)
            goto fail;
    } else {
        q->out_ce = calloc((size_t)plan->nout + 1, sizeof *q->out_ce);
        for (int i = 0; i < plan->nout; i++)
            if ((q->out_ce[i] = sl_cexpr_compile(plan->out[i], err)) == NULL)
                goto fail;
        q->out = sl_batch_new(plan->nout, plan->out_types, s->settings.batch_rows);
    }
    if (push) {
        q->cells = calloc((size_t)plan->nout + 1, sizeof *q->cells);
        q->cellbuf = malloc(1 << 20);
        if (q->cells == NULL || q->cellbuf == NULL)
            abort();
    } else if (prepare_output(q, err) != 0) {
        goto fail;
    }
    return q;
fail:
    sl_query_free(q);
    return NULL;
}

/* Runs the non-aggregate part on a batch: project and write. */
static int project_batch(sl_query *q, sl_batch *b, sl_error *err)
{
    sl_batch *out = q->out;
    sl_batch_reset(out);
    sl_batch_reserve(out, b->nrows);
    out->nrows = b->nrows;
    for (int c = 0; c < q->plan->nout; c++) {
        sl_column v;
        sl_cexpr_eval(q->out_ce[c], b, &v);
        sl_column *dst = &out->cols[c];
        memcpy(dst->null, v.null, (size_t)b->nrows);
        size_t sz = v.type == SL_DOUBLE ? sizeof(double) :
                    v.type == SL_TEXT ? sizeof(sl_str) : sizeof(int64_t);
        memcpy(dst->v.i, v.v.i, sz * (size_t)b->nrows);
        /* text views point into b's arena or the expression's arena; both
        ** live until the next batch, after the write below */
    }
    memcpy(out->loc, b->loc, sizeof *b->loc * (size_t)b->nrows);
    return out_write(q, out, err);
}

/* Reads and processes one batch. Returns rows read, 0 when nothing is
** available now; sets q->done at the end of a bounded input. */
static int query_step(sl_query *q, sl_error *err)
{
    sl_batch *b = q->in;
    sl_batch_reset(b);
    int done = 0;
    if (!q->push && txn_begin(q->s, err) != 0)
        return -1;
    int n = q->src->vt->next(q->src, b, q->settings.batch_rows, on_reject,
                             q, &done, err);
    if (n < 0)
        return -1;
    if (b->nrows > q->keep_cap) {
        q->keep_cap = b->nrows * 2;
        q->keep = realloc(q->keep, sizeof *q->keep * (size_t)q->keep_cap);
        q->selmask = realloc(q->selmask, (size_t)q->keep_cap);
        if (q->keep == NULL || q->selmask == NULL)
            abort();
    }
    if (q->agg && q->src->vt->active_partitions) {
        int np = q->src->vt->active_partitions(q->src, q->parts, 256);
        sl_op_aggregate_set_partitions(q->agg, q->parts, np);
    }
    q->rows_in += n;
    if (n > 0) {
        if (q->join)
            join_apply(q, b);
        if (q->where && b->nrows > 0) {
            sl_column v;
            sl_cexpr_eval(q->where, b, &v);
            const uint8_t *joined = b->selected;
            int kept = 0;
            for (int r = 0; r < b->nrows; r++) {
                int pass = !v.null[r] && v.v.i[r] && (!joined || joined[r]);
                q->selmask[r] = (uint8_t)pass;
                if (pass)
                    q->keep[kept++] = r;
            }
            if (kept != b->nrows) {
                if (q->agg)
                    b->selected = q->selmask;  /* rows still move W */
                else
                    sl_batch_select(b, q->keep, kept);
            }
        }
        if (b->nrows > 0) {
            if (q->agg) {
                if (q->agg->vt->push(q->agg, b, err) != 0)
                    return -1;
            } else if (project_batch(q, b, err) != 0) {
                return -1;
            }
        }
    }
    if (done) {
        /* a bounded source at its end sets W = +inf */
        if (q->agg && q->agg->vt->advance_watermark(q->agg, INT64_MAX, err) != 0)
            return -1;
        q->done = 1;
    }
    return n;
}

static void progress(sl_query *q, int64_t *last, int final)
{
    if (!q->s->progress || q->push)
        return;
    int64_t t = now_ms();
    if (!final && t - *last < 100)
        return;
    *last = t;
    if (final) {
        fprintf(q->s->msg, "\r\033[K");
        fflush(q->s->msg);
        return;
    }
    double f = q->src->vt->progress(q->src);
    if (f < 0)
        f = 0;
    int width = 30, filled = (int)(f * width);
    fprintf(q->s->msg, "\r%s [%.*s%*s] %3d%%  %lld rows", q->name, filled,
            "##############################", width - filled, "",
            (int)(f * 100), (long long)q->rows_in);
    fflush(q->s->msg);
}

sl_query *sl_query_find(sl_session *s, const char *name)
{
    for (int i = 0; i < s->nqueries; i++)
        if (strcasecmp(s->queries[i]->name, name) == 0)
            return s->queries[i];
    return NULL;
}

int sl_query_bounded(const sl_query *q)
{
    if (q->plan->src->connector == SL_CONN_KAFKA) {
        const sl_option *u = sl_stmt_option(q->plan->src->stmt, "until");
        return u != NULL && strcasecmp(u->value, "end") == 0;
    }
    return !q->plan->src->follow;
}

static void list_add(sl_session *s, sl_query *q)
{
    s->queries = realloc(s->queries, sizeof *s->queries * (size_t)(s->nqueries + 1));
    if (s->queries == NULL)
        abort();
    s->queries[s->nqueries++] = q;
}

static void list_remove(sl_session *s, sl_query *q)
{
    for (int i = 0; i < s->nqueries; i++)
        if (s->queries[i] == q) {
            memmove(&s->queries[i], &s->queries[i + 1],
                    sizeof *s->queries * (size_t)(s->nqueries - i - 1));
            s->nqueries--;
            return;
        }
}

void sl_query_remove(sl_session *s, sl_query *q)
{
    sl_error err;
    sl_error_clear(&err);
    commit_point(s, q, 0, &err);
    list_remove(s, q);
    sl_query_free(q);
}

static int clear_outputs(sl_session *s, const char *name, sl_error *err)
{
    char *sql = sqlite3_mprintf(
        "DELETE FROM \"%w\";"
        "DELETE FROM sluice_late_events WHERE query = %Q;"
        "DELETE FROM sluice_dead_letters WHERE query = %Q;"
        "DELETE FROM sluice_offsets WHERE query = %Q;"
        "DELETE FROM sluice_metrics WHERE query = %Q;"
        "DELETE FROM sluice_state WHERE query = %Q;",
        name, name, name, name, name, name);
    int rc = sl_db_exec(s->db, sql, err);
    sqlite3_free(sql);
    return rc;
}

/* The position saved for query q at its last commit (malloc'd), or NULL. */
static char *saved_position(sl_session *s, const char *query)
{
    sqlite3_stmt *st = NULL;
    char *pos = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT position FROM sluice_offsets WHERE "
                           "query = ?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, query, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            pos = strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return pos;
}

/* Loads q's checkpoint: counters, operator state and source position. */
static int resume_from(sl_query *q, const char *pos, sl_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(q->s->db, "SELECT name, value FROM sluice_metrics "
                           "WHERE query = ?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, q->name, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(st, 0);
            int64_t v = sqlite3_column_int64(st, 1);
            if (strcmp(name, "rows_in") == 0)
                q->rows_in = v;
            else if (strcmp(name, "rows_out") == 0)
                q->rows_out = v;
            else if (strcmp(name, "late_events") == 0)
                q->late = v;
            else if (strcmp(name, "dead_letters") == 0)
                q->dead = v;
        }
    }
    sqlite3_finalize(st);
    if (q->agg && sl_op_aggregate_load(q->agg, q->s->db, q->name,
                                       sl_ckpt_fingerprint(q->obj->sql),
                                       err) != 0)
        return -1;
    if (q->src->vt->seek(q->src, pos, err) != 0) {
        sl_error_reset(err, -1, "cannot resume %s where it stopped: %s; "
                       "replay it with CREATE OR REPLACE", q->name, err->msg);
        return -1;
    }
    return 0;
}

sl_query *sl_query_start(sl_session *s, sl_catalog_obj *o, int replay,
                         sl_error *err)
{
    sl_plan *plan = sl_plan_bind(s, o->stmt, err);
    if (plan == NULL)
        return NULL;
    /* Resume from the last commit: operator state, source position,
    ** outputs, late events and dead letters all come from the same
    ** transaction, so nothing is lost or counted twice. Without a commit
    ** (or with replay) start from the beginning into emptied outputs. */
    char *pos = replay ? NULL : saved_position(s, o->name);
    if (txn_begin(s, err) != 0 ||
        (pos == NULL && clear_outputs(s, o->name, err) != 0)) {
        sl_plan_free(plan);
        free(pos);
        return NULL;
    }
    sl_query *q = query_build(s, plan, 0, err);
    for (int i = 0; q != NULL && i < o->stmt->nopts; i++) {
        if (sl_settings_apply(&q->settings, &o->stmt->opts[i], err) != 0) {
            sl_query_free(q);
            q = NULL;
        }
    }
    if (q != NULL) {
        q->obj = o;
        if (pos != NULL && resume_from(q, pos, err) != 0) {
            sl_query_free(q);
            q = NULL;
        }
    }
    free(pos);
    if (q == NULL) {
        sl_error e2;
        sl_error_clear(&e2);
        sl_db_exec(s->db, "COMMIT", &e2);
        return NULL;
    }
    list_add(s, q);
    if (sl_catalog_set_status(s->cat, o, "running", err) != 0 ||
        commit_point(s, q, 0, err) != 0) {
        list_remove(s, q);
        sl_query_free(q);
        return NULL;
    }
    return q;
}

/* Runs q until it has nothing more to do now (follow) or is done. */
static int query_run(sl_session *s, sl_query *q, int64_t deadline_ms,
                     sl_error *err)
{
    int64_t last_commit = now_ms(), last_progress = 0;
    int64_t rows_since = 0;
    while (!q->done && !s->interrupted) {
        int n = query_step(q, err);
        if (n < 0)
            return -1;
        rows_since += n;
        progress(q, &last_progress, 0);
        int64_t t = now_ms();
        if ((q->settings.commit_rows > 0 && rows_since >= q->settings.commit_rows) ||
            t - last_commit >= q->settings.commit_interval_ms) {
            if (commit_point(s, q, 0, err) != 0)
                return -1;
            last_commit = t;
            rows_since = 0;
        }
        if (n == 0 && !q->done)
            break;          /* following: nothing new now */
        if (deadline_ms >= 0 && t >= deadline_ms)
            break;
        if (q->push && q->limit_left == 0)
            break;
    }
    progress(q, &last_progress, 1);
    return 0;
}

static int finish_done(sl_session *s, sl_query *q, sl_error *err)
{
    if (commit_point(s, q, 1, err) != 0)
        return -1;
    if (q->obj && sl_catalog_set_status(s->cat, q->obj, "done", err) != 0)
        return -1;
    list_remove(s, q);
    sl_query_free(q);
    return 0;
}

static void fail_query(sl_session *s, sl_query *q, const sl_error *why)
{
    sl_error e2;
    sl_error_clear(&e2);
    if (!sqlite3_get_autocommit(s->db))
        sl_db_exec(s->db, "ROLLBACK", &e2);
    if (q->obj) {
        char buf[SL_ERROR_MAX + 16];
        snprintf(buf, sizeof buf, "failed: %s", why->msg);
        sl_catalog_set_status(s->cat, q->obj, buf, &e2);
    }
    list_remove(s, q);
    sl_query_free(q);
}

int sl_query_finish(sl_session *s, sl_query *q, sl_error *err)
{
    if (!sl_query_bounded(q))
        return 0;
    while (!q->done) {
        if (query_run(s, q, -1, err) != 0) {
            fail_query(s, q, err);
            return -1;
        }
        if (s->interrupted) {
            /* keep what was committed; the query resumes next time */
            return commit_point(s, q, 0, err);
        }
    }
    return finish_done(s, q, err);
}

int sl_query_commit_all(sl_session *s, sl_error *err)
{
    if (sqlite3_get_autocommit(s->db))
        return 0;
    return commit_point(s, NULL, 0, err);
}

int sl_query_resume_all(sl_session *s, sl_error *err)
{
    for (int i = 0; i < s->cat->n; i++) {
        sl_catalog_obj *o = s->cat->objs[i];
        if (o->kind != SL_OBJ_MVIEW && o->kind != SL_OBJ_STABLE)
            continue;
        if (strcmp(o->status, "done") == 0 ||
            strncmp(o->status, "failed", 6) == 0)
            continue;
        sl_error qerr;
        sl_error_clear(&qerr);
        if (sl_query_start(s, o, 0, &qerr) == NULL) {
            fprintf(s->msg, "warning: cannot resume %s: %s\n", o->name,
                    qerr.msg);
            sl_catalog_set_status(s->cat, o, "failed", err);
        }
    }
    return 0;
}

int sl_query_run_background(sl_session *s, int timeout_ms, sl_error *err)
{
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int any_data = 0;
        for (int i = 0; i < s->nqueries; i++) {
            sl_query *q = s->queries[i];
            int64_t before = q->rows_in;
            if (query_run(s, q, deadline, err) != 0) {
                fail_query(s, q, err);
                return -1;
            }
            any_data |= q->rows_in != before;
            if (q->done) {
                if (finish_done(s, q, err) != 0)
                    return -1;
                i--;
            }
        }
        if (s->interrupted || now_ms() >= deadline || s->nqueries == 0)
            break;
        if (!any_data)
            usleep(20000);
    }
    if (s->nqueries > 0 && commit_point(s, NULL, 0, err) != 0)
        return -1;
    return s->nqueries;
}

int sl_query_push(sl_session *s, const sl_stmt *st, const char *text,
                  sl_error *err)
{
    (void)text;
    sl_plan *plan = sl_plan_bind(s, st, err);
    if (plan == NULL)
        return -1;
    sl_query *q = query_build(s, plan, 1, err);
    if (q == NULL)
        return -1;
    const sl_plan *p = q->plan;
    if (s->out)
        sl_output_begin(s->out, p->nout, (const char *const *)p->out_names,
                        p->out_types);
    int rc = 0;
    while (!q->done && !s->interrupted && q->limit_left != 0) {
        int n = query_step(q, err);
        if (n < 0) {
            rc = -1;
            break;
        }
        if (q->agg && q->agg->vt->flush(q->agg, q->done, err) != 0) {
            rc = -1;
            break;
        }
        if (n == 0 && !q->done)
            usleep(20000);
    }
    if (rc == 0 && q->agg && !q->done)
        rc = q->agg->vt->flush(q->agg, 1, err);
    if (s->out)
        sl_output_end(s->out);
    if (q->late > 0)
        fprintf(s->msg, "note: %lld late event%s not counted\n",
                (long long)q->late, q->late == 1 ? "" : "s");
    sl_query_free(q);
    return rc;
}

int sl_query_explain(sl_session *s, const sl_stmt *inner, const char *text,
                     sl_error *err)
{
    (void)text;
    if (inner == NULL)
        return sl_error_set(err, -1, "EXPLAIN needs a statement");
    if (inner->kind != SL_ST_SELECT && inner->kind != SL_ST_CREATE_MVIEW &&
        inner->kind != SL_ST_CREATE_STABLE && inner->kind != SL_ST_CREATE_SINK)
        return sl_error_set(err, inner->offset, "EXPLAIN shows the plan of a "
                            "SELECT or of CREATE MATERIALIZED VIEW / STREAMING "
                            "TABLE / SINK");
    if (inner->kind == SL_ST_SELECT && !sl_select_reads_source(s, inner->select)) {
        /* a pull query: SQLite's plan */
        sqlite3_str *q = sqlite3_str_new(s->db);
        sqlite3_str_appendall(q, "EXPLAIN QUERY PLAN ");
        sqlite3_str_append(q, text + inner->offset, inner->end - inner->offset);
        char *sql = sqlite3_str_finish(q);
        int rc = sl_session_sqlite(s, sql, -1, inner->offset, err);
        sqlite3_free(sql);
        return rc;
    }
    sl_plan *p = sl_plan_bind(s, inner, err);
    if (p == NULL)
        return -1;
    char *txt = sl_plan_explain(p);
    int n = 0;
    const char **lines = NULL;
    for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
        lines = realloc(lines, sizeof *lines * (size_t)(n + 1));
        lines[n++] = line;
    }
    const char *names[] = {"plan"};
    sl_type types[] = {SL_TEXT};
    sl_session_print(s, 1, names, types, n, lines);
    free(lines);
    free(txt);
    sl_plan_free(p);
    return 0;
}
