/*
** query.c: running continuous and push queries.
**
** A query is a plan turned into a pipeline: source -> [join] -> [filter] ->
** aggregate (windows, watermark, emit) or [dedup] -> project -> output.
** The output is a SQLite table (materialised view: upsert/delete by key;
** streaming table and ON WINDOW CLOSE: insert) or the terminal (push
** query).
**
** Commit points: between two of them a query touches no table: its result
** changes and dead letters wait in memory (pending.c), its late events in
** a buffer, so SQLite's write lock is free for other programs. Every
** commit_interval (and commit_rows, and at the end of a bounded input, and
** before returning to the user, and when a query's buffers are full) one
** write transaction takes the pending changes of every query, its late
** events and dead letters, its operator state, its source positions and
** its counters, and commits. Readers in WAL mode see only committed
** snapshots. A query that fails (fail_query) takes the transaction down
** with it: the others restart from their last commit.
*/
#include <assert.h>
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
#include "engine/table_writer.h"
#include "engine/pending.h"
#include "connectors/source.h"
#include "connectors/sink.h"
#include "storage/db.h"
#include "storage/secrets.h"
#include "grammar/parser.h"

/* One source a query reads: the FROM source, and for a window join the
** joined one (side 1). */
typedef struct query_input {
    sl_query *q;
    int side;
    const sl_source_def *def;
    sl_source *src;
    sl_batch *in;          /* its rows, in its own layout */
    int cur;               /* window join: rows of `in` merged so far */
    int finished;          /* a bounded input with no rows after `in`'s */
    int ended;             /* window join: finished and all merged */
} query_input;

struct sl_query {
    sl_session *s;
    char *name;            /* output name, or "(push)" */
    sl_catalog_obj *obj;   /* NULL for push queries */
    sl_plan *plan;
    query_input inputs[2];
    int ninputs;           /* 2 for a window join */
    int32_t parts[256];
    sl_settings settings;  /* the session's, overridden by the query's WITH */
    sl_operator *ops;      /* [join | window join] -> [filter] -> aggregate
                              | [dedup] -> project */
    sl_operator *agg;      /* the aggregate in ops, or NULL */
    sl_operator *dedup;    /* the dedup in ops, or NULL */
    sl_operator *wjoin;    /* the window join in ops, or NULL */
    int done;
    int commit_failed;     /* its part of the last commit point failed */
    int64_t rows_in, rows_out, late, dead;

    /* output */
    int push;              /* to the terminal */
    int64_t limit_left;    /* push: rows still wanted, -1 no limit */
    sl_table_writer *table;  /* the result table */
    sl_pending *pending;     /* its changes and dead letters since the last
                                commit point */
    int in_commit;           /* its commit point is writing: outputs go
                                straight into the transaction */
    int commit_wanted;       /* its buffers are full: commit at once */
    sqlite3_stmt *late_st, *dead_st;   /* prepared once */
    sqlite3_stmt *late_many;           /* LATE_ROWS late events at once */
    /* late events not yet inserted (flush_late, at each commit point):
    ** their JSON and times side by side in late_text, row i at
    ** late_off[i], lengths in late_len */
    sl_buf late_text;
    size_t *late_off;
    int *late_len;
    int *late_side;        /* the input each buffered late event came from */
    int nlate_buf, late_cap;
    int64_t last_commit_ms;    /* processing time of the last commit point */
    int64_t rows_since_commit; /* rows read since then */
    sl_sink *sink;         /* CREATE SINK: where results go instead */
    char **key_names;      /* names of the key columns, for retractions */
    char **cells;          /* push: text of one row */
    char *cellbuf;         /* push: the text of one row's cells */
    size_t cellbuf_cap;
};

/* ---- helpers ------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The time of day (UTC), for recorded_at columns. */
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *location(const sl_query *q, int side, const sl_rowloc *loc)
{
    const query_input *in = &q->inputs[side];
    return in->src->vt->location(in->src, loc);
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
    if (q->push || q->inputs[0].src == NULL)
        return 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->s->db, "INSERT OR REPLACE INTO "
                                "sluice_offsets(query, source, position, "
                                "updated_at) VALUES (?1, ?2, ?3, "
                                "strftime('%Y-%m-%d %H:%M:%f','now'))", -1,
                                &st, NULL);
    for (int i = 0; i < q->ninputs && rc == SQLITE_OK; i++) {
        const query_input *in = &q->inputs[i];
        char *pos = in->src->vt->position(in->src);
        sqlite3_bind_text(st, 1, q->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, in->def->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, pos ? pos : "", -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        free(pos);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_OK)
        return sl_db_error(err, q->s->db, "cannot record the position of %s",
                           q->name);
    /* NULL: no watermark yet (or none: the input has ended) */
    int64_t wm = q->agg ? sl_op_aggregate_watermark(q->agg)
               : q->wjoin ? sl_op_wjoin_watermark(q->wjoin)
               : q->dedup ? sl_op_dedup_watermark(q->dedup) : INT64_MIN;
    int has_wm = wm != INT64_MIN && wm != INT64_MAX;
    const char *metrics[12] = {"rows_in", "rows_out", "late_events",
                               "dead_letters", "watermark_ms"};
    double values[12] = {(double)q->rows_in, (double)q->rows_out,
                        (double)q->late, (double)q->dead, (double)wm};
    int nmetrics = 5;
    if (q->agg) {
        metrics[nmetrics] = "open_windows";
        values[nmetrics++] = (double)sl_op_aggregate_open_groups(q->agg);
        metrics[nmetrics] = "peak_open_windows";
        values[nmetrics++] = (double)sl_op_aggregate_peak_groups(q->agg);
        metrics[nmetrics] = "state_bytes";
        values[nmetrics++] = (double)sl_op_aggregate_state_bytes(q->agg);
    }
    if (q->wjoin) {
        metrics[nmetrics] = "join_rows_open";
        values[nmetrics++] = (double)sl_op_wjoin_open_rows(q->wjoin);
    }
    if (q->dedup) {
        metrics[nmetrics] = "dedup_dropped";
        values[nmetrics++] = (double)sl_op_dedup_dropped(q->dedup);
        metrics[nmetrics] = "dedup_keys";
        values[nmetrics++] = (double)sl_op_dedup_keys(q->dedup);
    }
    rc = sqlite3_prepare_v2(q->s->db, "INSERT OR REPLACE INTO sluice_metrics"
                            "(query, name, value, updated_at) VALUES (?1, ?2, "
                            "?3, strftime('%Y-%m-%d %H:%M:%f','now'))", -1,
                            &st, NULL);
    for (int i = 0; i < nmetrics && rc == SQLITE_OK; i++) {
        sqlite3_bind_text(st, 1, q->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, metrics[i], -1, SQLITE_STATIC);
        if (i == 4 && !has_wm)
            sqlite3_bind_null(st, 3);
        else
            sqlite3_bind_double(st, 3, values[i]);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return 0;
}

/* Makes q's sink output durable and saves the sink's position with the
** commit (a file sink's size: a restart truncates back to it). */
static int commit_sink(sl_query *q, sl_error *err)
{
    char *pos = NULL;
    if (q->sink->vt->commit(q->sink, &pos, err) != 0)
        return -1;
    if (pos == NULL)
        return 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->s->db, "INSERT OR REPLACE INTO "
                                "sluice_offsets(query, source, position) "
                                "VALUES (?1, '(sink)', ?2)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, q->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, pos, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    free(pos);
    if (rc != SQLITE_DONE && rc != SQLITE_OK)
        return sl_db_error(err, q->s->db, "cannot record the sink position "
                           "of %s", q->name);
    return 0;
}

/* Writes q's operator state changes into the open transaction. */
static int save_state(sl_query *q, sl_error *err)
{
    sl_ckpt_writer w;
    if (sl_ckpt_begin(&w, q->s->db, q->name, err) != 0)
        return -1;
    uint64_t fp = sl_ckpt_fingerprint(q->obj->sql);
    int rc = q->agg ? sl_op_aggregate_save(q->agg, &w, fp, err) : 0;
    if (rc == 0 && q->wjoin) {
        sl_batch *in[2] = {q->inputs[0].in, q->inputs[1].in};
        int cur[2] = {q->inputs[0].cur, q->inputs[1].cur};
        rc = sl_op_wjoin_save(q->wjoin, &w, fp, in, cur, err);
    }
    if (rc == 0 && q->dedup)
        rc = sl_op_dedup_save(q->dedup, &w, fp, err);
    sl_ckpt_end(&w);
    return rc;
}

static int flush_late(sl_query *q, sl_error *err);
static int drain_pending(sl_query *q, sl_error *err);

/* The WAL's size as last seen, in sluice_metrics as ('(database)',
** 'wal_bytes'): a reader that holds one snapshot for minutes keeps it from
** being checkpointed, and this shows it growing. */
static int write_wal_bytes(sl_session *s, sl_error *err)
{
    char *sql = sqlite3_mprintf("INSERT OR REPLACE INTO sluice_metrics(query, "
                                "name, value, updated_at) VALUES ('(database)'"
                                ", 'wal_bytes', %lld, strftime('%%Y-%%m-%%d "
                                "%%H:%%M:%%f','now'))",
                                (long long)s->wal_bytes);
    int rc = sl_db_exec(s->db, sql, err);
    sqlite3_free(sql);
    if (rc == 0)
        s->wal_reported = s->wal_bytes;
    return rc;
}

/* The database file sluice opened must still be the one at its path: a
** file deleted or replaced under a running sluice would take every later
** commit into a file nobody can open again. Checked before each commit
** (one stat); when it happened the session is lost: it stops, saying so. */
static int check_database(sl_session *s, sl_error *err)
{
    int moved = 0;
    if (s->lost ||
        (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED,
                              &moved) == SQLITE_OK && moved)) {
        s->lost = 1;
        return sl_error_reset(err, -1, "the database file %s was deleted or "
                              "replaced while sluice was running: stopping "
                              "(nothing more can be committed to it; start "
                              "sluice again on the database to use)", s->path);
    }
    return 0;
}

/* A commit point for every running query (and q, when it is not in the
** running list yet). When one query's part fails (its results cannot be
** written, its sink cannot commit), that query is marked commit_failed:
** the failure is its own, whichever query's interval called the commit. */
static int commit_point(sl_session *s, sl_query *q, int final, sl_error *err)
{
    for (int i = 0; i < s->nqueries; i++)
        s->queries[i]->commit_failed = 0;
    if (check_database(s, err) != 0 || txn_begin(s, err) != 0)
        return -1;
    for (int i = 0; i < s->nqueries; i++) {
        sl_query *r = s->queries[i];
        int rc = drain_pending(r, err);
        /* what the flush publishes follows what was pending, at once */
        r->in_commit = 1;
        if (rc == 0)
            rc = r->ops->vt->flush(r->ops, final && r == q, err);
        r->in_commit = 0;
        r->commit_wanted = 0;
        if (rc != 0 ||
            flush_late(r, err) != 0 ||
            ((r->agg || r->wjoin || r->dedup) && r->obj &&
             save_state(r, err) != 0) ||
            (r->sink && commit_sink(r, err) != 0) ||
            write_positions(r, err) != 0) {
            r->commit_failed = 1;
            return -1;
        }
    }
    if (s->wal_bytes != s->wal_reported && write_wal_bytes(s, err) != 0)
        return -1;
    if (sl_db_exec(s->db, "COMMIT", err) != 0)
        return -1;
    int64_t t = now_ms();
    if (t - s->wal_checked_ms >= 1000) {
        /* at most once a second: cut back a WAL a long reader let grow */
        s->wal_checked_ms = t;
        s->wal_bytes = sl_db_wal_tidy(s->db);
    }
    for (int i = 0; i < s->nqueries; i++) {
        sl_query *r = s->queries[i];
        r->last_commit_ms = t;
        r->rows_since_commit = 0;
        for (int k = 0; k < r->ninputs; k++) {
            sl_source *src = r->inputs[k].src;
            if (src && src->vt->committed)
                src->vt->committed(src);
        }
    }
    return 0;
}

/* A commit point when q's commit interval (time or rows) has passed. */
static int maybe_commit(sl_session *s, sl_query *q, sl_error *err)
{
    if (q->rows_since_commit == 0 && !q->agg && !q->wjoin)
        return 0;
    int64_t t = now_ms();
    if (q->commit_wanted ||
        (q->settings.commit_rows > 0 &&
         q->rows_since_commit >= q->settings.commit_rows) ||
        t - q->last_commit_ms >= q->settings.commit_interval_ms)
        return commit_point(s, q, 0, err);
    return 0;
}

/* ---- outputs ---------------------------------------------------------------- */

/* q's pending changes reached their bound: a commit point comes next. */
static void ask_commit_when_full(sl_query *q)
{
    if (sl_pending_full(q->pending))
        q->commit_wanted = 1;
}

static int out_write(void *qv, const sl_batch *out, sl_error *err)
{
    sl_query *q = qv;
    if (q->push) {
        int n = out->nrows;
        for (int r = 0; r < n; r++) {
            if (q->limit_left == 0)
                break;
            /* room for the row: its cells' text, each NUL-terminated, and
            ** the 64 bytes a number is formatted into at the last cell */
            size_t need = 64;
            for (int c = 0; c < out->ncols; c++) {
                char num[64];
                int len = 0;
                sl_column_text(&out->cols[c], r, num, &len);
                need += (size_t)len + 1;
            }
            if (need > q->cellbuf_cap) {
                q->cellbuf_cap = need * 2;
                q->cellbuf = sl_xrealloc(q->cellbuf, q->cellbuf_cap);
            }
            char *p = q->cellbuf;
            for (int c = 0; c < out->ncols; c++) {
                int len = 0;
                const char *v = sl_column_text(&out->cols[c], r, p, &len);
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
            }
            sl_output_row(q->s->out, (const char *const *)q->cells);
            q->rows_out++;
            if (q->limit_left > 0)
                q->limit_left--;
        }
        sl_output_flush(q->s->out);
        return 0;
    }
    if (q->sink) {
        q->rows_out += out->nrows;
        return q->sink->vt->write(q->sink, out, out->ncols, q->plan->out_names,
                                  0, err);
    }
    q->rows_out += out->nrows;
    if (q->in_commit)
        return sl_table_writer_write(q->table, out, err);
    sl_pending_write(q->pending, out);
    ask_commit_when_full(q);
    return 0;
}

static int out_retract(void *qv, const sl_batch *keys, sl_error *err)
{
    sl_query *q = qv;
    if (q->sink)
        return q->sink->vt->write(q->sink, keys, q->plan->nkey, q->key_names,
                                  1, err);
    if (q->in_commit)
        return sl_table_writer_retract(q->table, keys, err);
    sl_pending_retract(q->pending, keys);
    ask_commit_when_full(q);
    return 0;
}

/* Late events are inserted LATE_ROWS at a time, each buffered one as its
** event JSON followed by its two 23-character times (event, watermark);
** the rows share query, source and recorded_at (one processing time per
** flush). A statement per event, with SQLite's strftime default per row,
** was a tenth of an aggregation's time at 0.5 % late events. */
#define LATE_ROWS 64
#define TS_TEXT 23

static int late_bind_row(sl_query *q, sqlite3_stmt *st, int first, int i)
{
    const char *z = (const char *)q->late_text.z + q->late_off[i];
    int n = q->late_len[i];
    sqlite3_bind_text(st, first, z, n, SQLITE_STATIC);
    sqlite3_bind_text(st, first + 1, z + n, TS_TEXT, SQLITE_STATIC);
    sqlite3_bind_text(st, first + 2, z + n + TS_TEXT, TS_TEXT, SQLITE_STATIC);
    return first + 3;
}

/* Prepares (once) the INSERT of nrows late events into *st. */
static int late_stmt(sl_query *q, sqlite3_stmt **st, int nrows)
{
    if (*st != NULL)
        return 0;
    sqlite3_str *s = sqlite3_str_new(q->s->db);
    sqlite3_str_appendall(s, "INSERT INTO sluice_late_events(query, source, "
                          "event, event_time, watermark, recorded_at) VALUES ");
    for (int k = 0; k < nrows; k++)
        sqlite3_str_appendf(s, "%s(?1, ?2, ?%d, ?%d, ?%d, ?3)", k ? ", " : "",
                            4 + 3 * k, 5 + 3 * k, 6 + 3 * k);
    char *sql = sqlite3_str_finish(s);
    int rc = sql == NULL ||
             sqlite3_prepare_v3(q->s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                st, NULL) != SQLITE_OK;
    sqlite3_free(sql);
    return rc ? -1 : 0;
}

/* Inserts buffered late events first..first+nrows with st (of nrows rows). */
static int late_insert(sl_query *q, sqlite3_stmt *st, int first, int nrows,
                       const char *now)
{
    sqlite3_bind_text(st, 1, q->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, q->inputs[q->late_side[first]].def->name, -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
    for (int k = 0, p = 4; k < nrows; k++)
        p = late_bind_row(q, st, p, first + k);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Inserts the buffered late events into the open transaction. */
static int flush_late(sl_query *q, sl_error *err)
{
    if (q->nlate_buf == 0)
        return 0;
    char now[32];
    sl_ts_format(wall_ms(), now);
    int i = 0, rc = 0;
    while (rc == 0 && i < q->nlate_buf) {
        /* LATE_ROWS at once when that many of one input follow */
        int same = 1;
        while (same < LATE_ROWS && i + same < q->nlate_buf &&
               q->late_side[i + same] == q->late_side[i])
            same++;
        int many = same == LATE_ROWS;
        sqlite3_stmt **st = many ? &q->late_many : &q->late_st;
        int nrows = many ? LATE_ROWS : 1;
        rc = late_stmt(q, st, nrows);
        if (rc == 0)
            rc = late_insert(q, *st, i, nrows, now);
        i += nrows;
    }
    q->nlate_buf = 0;
    q->late_text.n = 0;
    if (rc != 0)
        return sl_db_error(err, q->s->db, "cannot record the late events of "
                           "%s", q->name);
    return 0;
}

static void record_late(void *qv, const sl_batch *in, int r, int64_t event_ms,
                        int64_t wm_ms)
{
    sl_query *q = qv;
    q->late++;
    if (q->push)
        return;
    const sl_source_def *def = q->inputs[in->side].def;
    if (q->nlate_buf == q->late_cap) {
        q->late_cap = q->late_cap ? q->late_cap * 2 : LATE_ROWS;
        q->late_off = sl_xrealloc(q->late_off,
                                  sizeof *q->late_off * (size_t)q->late_cap);
        q->late_len = sl_xrealloc(q->late_len,
                                  sizeof *q->late_len * (size_t)q->late_cap);
        q->late_side = sl_xrealloc(q->late_side,
                                   sizeof *q->late_side * (size_t)q->late_cap);
    }
    q->late_side[q->nlate_buf] = in->side;
    size_t off = q->late_text.n;
    sl_row_to_json(in, r, def->ncols, def->col_names, &q->late_text);
    q->late_off[q->nlate_buf] = off;
    q->late_len[q->nlate_buf] = (int)(q->late_text.n - off);
    char t[32];
    sl_ts_format(event_ms, t);
    sl_buf_put(&q->late_text, t, TS_TEXT);
    sl_ts_format(wm_ms, t);
    sl_buf_put(&q->late_text, t, TS_TEXT);
    /* bounded memory between commit points: a full buffer asks for one */
    if (++q->nlate_buf >= 64 * LATE_ROWS)
        q->commit_wanted = 1;
}

static void insert_dead(sl_query *q, int side, const char *loc,
                        const char *raw, int rawlen, const char *reason)
{
    q->dead++;
    if (q->push) {
        fprintf(q->s->msg, "warning: %s: %s (record skipped)\n", loc, reason);
        return;
    }
    sl_pending_dead(q->pending, side, loc, raw, rawlen, reason);
    ask_commit_when_full(q);
}

/* A dead letter into the commit point's transaction (sl_pending_drain). */
static int write_dead(void *qv, int side, const char *loc, const char *raw,
                      int rawlen, const char *reason, sl_error *err)
{
    sl_query *q = qv;
    if (q->dead_st == NULL)
        sqlite3_prepare_v3(q->s->db, "INSERT INTO sluice_dead_letters(query, "
                           "source, location, raw, reason) VALUES (?1, ?2, "
                           "?3, ?4, ?5)", -1, SQLITE_PREPARE_PERSISTENT,
                           &q->dead_st, NULL);
    sqlite3_stmt *st = q->dead_st;      /* NULL when it could not be prepared */
    int rc = SQLITE_ERROR;
    if (st != NULL) {
        sqlite3_bind_text(st, 1, q->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, q->inputs[side].def->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, loc, -1, SQLITE_STATIC);
        if (raw && sl_utf8_valid(raw, (size_t)rawlen))
            sqlite3_bind_text(st, 4, raw, rawlen, SQLITE_STATIC);
        else if (raw)   /* not UTF-8: kept as the bytes it is, a BLOB */
            sqlite3_bind_blob(st, 4, raw, rawlen, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 4);
        sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    if (rc != SQLITE_DONE)
        return sl_db_error(err, q->s->db, "cannot record a dead letter of %s",
                           q->name);
    return 0;
}

static int table_write(void *qv, const sl_batch *rows, sl_error *err)
{
    sl_query *q = qv;
    return sl_table_writer_write(q->table, rows, err);
}

static int table_retract(void *qv, const sl_batch *keys, sl_error *err)
{
    sl_query *q = qv;
    return sl_table_writer_retract(q->table, keys, err);
}

static const sl_pending_target pending_target = {table_write, table_retract,
                                                 write_dead};

/* Replays q's pending changes and dead letters into the commit point's
** transaction. */
static int drain_pending(sl_query *q, sl_error *err)
{
    return sl_pending_drain(q->pending, &pending_target, q, err);
}

static void record_dead(void *qv, const sl_batch *in, int r, const char *reason)
{
    sl_query *q = qv;
    sl_buf json = {0};
    const sl_source_def *def = q->inputs[in->side].def;
    sl_row_to_json(in, r, def->ncols, def->col_names, &json);
    char *loc = location(q, in->side, &in->loc[r]);
    insert_dead(q, in->side, loc ? loc : "?", (const char *)json.z,
                (int)json.n, reason);
    free(loc);
    sl_buf_free(&json);
}

/* A record of input `iv` (a query_input) that cannot be decoded. */
static void on_reject(void *iv, const char *file, int64_t line, int64_t offset,
                      const char *raw, size_t rawlen, const char *reason)
{
    query_input *in = iv;
    (void)offset;
    /* file:line, or for Kafka topic/partition/offset (as location() says) */
    char *loc = sqlite3_mprintf(in->def->connector == SL_CONN_KAFKA
                                ? "%s/%lld" : "%s:%lld", file, (long long)line);
    insert_dead(in->q, in->side, loc, raw, (int)rawlen, reason);
    sqlite3_free(loc);
}


/* ---- building and running --------------------------------------------------- */

void sl_query_free(sl_query *q)
{
    if (q == NULL)
        return;
    sl_op_chain_close(q->ops);
    for (int i = 0; i < 2; i++) {
        sl_source_close(q->inputs[i].src);
        sl_batch_free(q->inputs[i].in);
    }
    sl_table_writer_free(q->table);
    sl_pending_free(q->pending);
    sqlite3_finalize(q->late_st);
    sqlite3_finalize(q->late_many);
    sl_buf_free(&q->late_text);
    free(q->late_off);
    free(q->late_len);
    free(q->late_side);
    sqlite3_finalize(q->dead_st);
    sl_sink_close(q->sink);
    free(q->key_names);
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
    /* a view without keys (a global aggregate) is replaced at each write */
    q->pending = sl_pending_new(plan->kind == SL_ST_CREATE_MVIEW &&
                                plan->nkey == 0);
    q->name = strdup(plan->name ? plan->name : "(push)");
    q->limit_left = plan->limit;
    q->ninputs = plan->wjoin ? 2 : 1;
    for (int i = 0; i < q->ninputs; i++) {
        query_input *in = &q->inputs[i];
        in->q = q;
        in->side = i;
        in->def = i ? plan->wjoin->right : plan->src;
        if (sl_secrets_check_resolved(in->def->stmt, err) != 0 ||
            (in->src = sl_source_open(in->def, q->name, err)) == NULL)
            goto fail;
        /* a window join's sides each have their own layout; otherwise the
        ** source fills the first columns of the input row */
        in->in = plan->wjoin ? sl_batch_new(in->def->ncols, in->def->col_types,
                                            s->settings.batch_rows)
                             : sl_batch_new(plan->ninput, plan->input_types,
                                            s->settings.batch_rows);
        in->in->side = i;
    }
    q->settings = s->settings;
    sl_op_ctx ctx = {q, record_late, record_dead, out_write, out_retract};
    sl_operator *chain[4];
    int n = 0;
    if (plan->join)
        chain[n++] = sl_op_join_new(plan, s->db, &ctx, err);
    else if (plan->wjoin)
        chain[n++] = q->wjoin = sl_op_wjoin_new(plan, &ctx,
                                                s->settings.batch_rows, err);
    if (plan->where && (n == 0 || chain[n - 1] != NULL))
        chain[n++] = sl_op_filter_new(plan, &ctx, err);
    if (n == 0 || chain[n - 1] != NULL) {
        if (plan->is_agg)
            chain[n++] = q->agg = sl_op_aggregate_new(plan, &ctx, err);
        else if (plan->dedup)
            chain[n++] = q->dedup = sl_op_dedup_new(plan, &ctx,
                                                    s->settings.batch_rows,
                                                    err);
    }
    if (!plan->is_agg && (n == 0 || chain[n - 1] != NULL))
        chain[n++] = sl_op_project_new(plan, &ctx, err);
    for (int i = 0; i + 1 < n; i++)
        chain[i]->next = chain[i + 1];
    if (chain[n - 1] == NULL) {
        /* close what was built before the failing operator */
        if (n > 1) {
            chain[n - 2]->next = NULL;
            sl_op_chain_close(chain[0]);
        }
        q->agg = q->wjoin = q->dedup = NULL;
        goto fail;
    }
    q->ops = chain[0];
    if (push) {
        q->cells = calloc((size_t)plan->nout + 1, sizeof *q->cells);
        if (q->cells == NULL)
            abort();
    } else if (plan->kind == SL_ST_CREATE_SINK) {
        int changelog = plan->is_agg && plan->emit == SL_EMIT_CHANGES;
        if (sl_secrets_check_resolved(plan->sink_stmt, err) != 0 ||
            (q->sink = sl_sink_open(plan->sink_stmt, changelog, err)) == NULL)
            goto fail;
        q->key_names = calloc((size_t)plan->nkey + 1, sizeof *q->key_names);
        for (int k = 0; k < plan->nkey; k++)
            q->key_names[k] = plan->out_names[plan->key_cols[k]];
    } else if ((q->table = sl_table_writer_new(s->db, plan, err)) == NULL) {
        goto fail;
    }
    return q;
fail:
    sl_query_free(q);
    return NULL;
}

static int input_bounded(const sl_source_def *def)
{
    if (def->connector == SL_CONN_KAFKA) {
        const sl_option *u = sl_stmt_option(def->stmt, "until");
        return u != NULL && strcasecmp(u->value, "end") == 0;
    }
    return !def->follow;
}

/* Reads input in's next batch into in->in (whose rows were all used).
** The partitions holding its watermark back go to the operator keeping
** it. Returns the rows read, or -1. */
static int input_read(sl_query *q, query_input *in, sl_error *err)
{
    sl_batch *b = in->in;
    sl_batch_reset(b);
    in->cur = 0;
    int done = 0;
    int n = in->src->vt->next(in->src, b, q->settings.batch_rows, on_reject,
                              in, &done, err);
    if (n < 0)
        return -1;
    in->finished |= done;
    if (q->wjoin)
        sl_op_wjoin_select(q->wjoin, b);
    if ((q->agg || q->wjoin || q->dedup) && in->src->vt->active_partitions) {
        int np = in->src->vt->active_partitions(in->src, q->parts, 256);
        if ((q->wjoin ? sl_op_wjoin_set_partitions(q->wjoin, in->side,
                                                   q->parts, np, err)
             : q->dedup ? sl_op_dedup_set_partitions(q->dedup, q->parts, np,
                                                     err)
             : sl_op_aggregate_set_partitions(q->agg, q->parts, np,
                                              err)) != 0)
            return -1;
    }
    q->rows_in += n;
    return n;
}

/* Every input of q has ended: W = +inf closes every window (a bounded
** source at its end sets W = +inf), and q is done. */
static int query_end(sl_query *q, sl_error *err)
{
    if (q->ops->vt->advance_watermark(q->ops, INT64_MAX, err) != 0)
        return -1;
    q->done = 1;
    return 0;
}

/* The event time of row r of in's batch, for the merge (a NULL one goes
** first: the join reports it). */
static int64_t row_time(const sl_query *q, const query_input *in, int r)
{
    const sl_column *c = &in->in->cols[q->plan->wjoin->time_col[in->side]];
    return c->null[r] ? INT64_MIN : c->v.i[r];
}

/* A window join's step. Both inputs' rows go to the join merged by event
** time, the earlier next row first (the FROM source's on a tie), so that
** both watermarks advance together and the rows buffered stay bounded by
** them. Over bounded inputs the merge is a function of the two inputs
** alone: an input is read again before the merge passes its last row, so
** results do not depend on batch sizes (DESIGN §2 rule 5). An unbounded
** input with nothing new now does not hold the other back; its own
** watermark still holds the join's. */
static int wjoin_step(sl_query *q, sl_error *err)
{
    int nread = 0;
    for (int i = 0; i < 2; i++) {
        query_input *in = &q->inputs[i];
        while (in->cur == in->in->nrows && !in->finished) {
            int n = input_read(q, in, err);
            if (n < 0)
                return -1;
            nread += n;
            if (n == 0 && !input_bounded(in->def))
                break;              /* nothing new now */
        }
    }
    for (;;) {
        int left[2];
        for (int i = 0; i < 2; i++) {
            query_input *in = &q->inputs[i];
            left[i] = in->in->nrows - in->cur;
            if (left[i] == 0 && in->finished && !in->ended) {
                in->ended = 1;      /* its watermark is +inf from here */
                if (sl_op_wjoin_end(q->wjoin, i, err) != 0)
                    return -1;
            }
        }
        /* the side to take from, while the other has rows to compare */
        int side;
        if (left[0] > 0 && left[1] > 0)
            side = row_time(q, &q->inputs[1], q->inputs[1].cur) <
                   row_time(q, &q->inputs[0], q->inputs[0].cur);
        else if (left[0] > 0 || left[1] > 0)
            side = left[1] > 0;
        else
            break;
        query_input *in = &q->inputs[side], *other = &q->inputs[!side];
        if (left[!side] == 0 && !other->finished &&
            input_bounded(other->def))
            break;                  /* read the other first */
        /* its rows [first, end): up to the other's next row in time */
        int first = in->cur, end = in->in->nrows;
        if (left[!side] > 0) {
            int64_t t = row_time(q, other, other->cur);
            for (end = first + 1; end < in->in->nrows; end++) {
                int64_t h = row_time(q, in, end);
                if (side == 0 ? h > t : h >= t)
                    break;
            }
        }
        in->cur = end;
        if (sl_op_wjoin_push_rows(q->wjoin, in->in, first, end, err) != 0)
            return -1;
    }
    if (q->inputs[0].ended && q->inputs[1].ended && query_end(q, err) != 0)
        return -1;
    return nread;
}

/* Reads and processes one batch. Returns rows read, 0 when nothing is
** available now; sets q->done at the end of a bounded input. */
static int query_step(sl_query *q, sl_error *err)
{
    if (q->wjoin)
        return wjoin_step(q, err);
    query_input *in = &q->inputs[0];
    int n = input_read(q, in, err);
    if (n < 0)
        return -1;
    sl_batch *b = in->in;
    if (b->nrows > 0 && q->ops->vt->push(q->ops, b, err) != 0)
        return -1;
    if (in->finished && query_end(q, err) != 0)
        return -1;
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
    double f = q->inputs[0].src->vt->progress(q->inputs[0].src);
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
    for (int i = 0; i < q->ninputs; i++)
        if (!input_bounded(q->inputs[i].def))
            return 0;
    return 1;
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

static void query_unwait(sl_session *s, const char *name);

int sl_query_forget(sl_session *s, const char *name, sl_error *err)
{
    query_unwait(s, name);
    char *sql = sqlite3_mprintf(
        "DELETE FROM sluice_late_events WHERE query = %Q;"
        "DELETE FROM sluice_dead_letters WHERE query = %Q;"
        "DELETE FROM sluice_offsets WHERE query = %Q;"
        "DELETE FROM sluice_metrics WHERE query = %Q;"
        "DELETE FROM sluice_state WHERE query = %Q;",
        name, name, name, name, name);
    int rc = sl_db_exec(s->db, sql, err);
    sqlite3_free(sql);
    return rc;
}

/* Empties what query o wrote, for a start from the beginning (a sink has
** no table: what it sent is outside sluice). */
static int clear_outputs(sl_session *s, const sl_catalog_obj *o, sl_error *err)
{
    if (o->kind != SL_OBJ_SINK) {
        char *del = sqlite3_mprintf("DELETE FROM \"%w\"", o->name);
        int rc = sl_db_exec(s->db, del, err);
        sqlite3_free(del);
        if (rc != 0)
            return -1;
    }
    return sl_query_forget(s, o->name, err);
}

/* The position saved at query's last commit for its source (which = the
** source name) or its sink (which = "(sink)"); malloc'd, or NULL. */
static char *saved_position(sl_session *s, const char *query, const char *which)
{
    sqlite3_stmt *st = NULL;
    char *pos = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT position FROM sluice_offsets WHERE "
                           "query = ?1 AND source = ?2", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, query, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, which, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            pos = strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return pos;
}

/* Loads q's checkpoint: counters, operator state and source positions. */
static int resume_from(sl_query *q, sl_error *err)
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
    uint64_t fp = sl_ckpt_fingerprint(q->obj->sql);
    if (q->agg && sl_op_aggregate_load(q->agg, q->s->db, q->name, fp,
                                       err) != 0)
        return -1;
    if (q->dedup && sl_op_dedup_load(q->dedup, q->s->db, q->name, fp,
                                     err) != 0)
        return -1;
    if (q->wjoin) {
        sl_batch *in[2] = {q->inputs[0].in, q->inputs[1].in};
        if (sl_op_wjoin_load(q->wjoin, q->s->db, q->name, fp, in, err) != 0)
            return -1;
        for (int i = 0; i < 2; i++)
            sl_op_wjoin_select(q->wjoin, in[i]);
    }
    char *sink_pos = q->sink ? saved_position(q->s, q->name, "(sink)") : NULL;
    int rc = q->sink ? q->sink->vt->resume(q->sink, sink_pos, err) : 0;
    free(sink_pos);
    if (rc != 0)
        return -1;
    for (int i = 0; i < q->ninputs; i++) {
        query_input *in = &q->inputs[i];
        char *pos = saved_position(q->s, q->name, in->def->name);
        rc = in->src->vt->seek(in->src, pos ? pos : "", err);
        free(pos);
        if (rc != 0) {
            char why[SL_ERROR_MAX];
            snprintf(why, sizeof why, "%s", err->msg);
            sl_error_reset(err, -1, "cannot resume %s where it stopped: %s; "
                           "replay it with CREATE OR REPLACE", q->name, why);
            return -1;
        }
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
    char *pos = replay ? NULL : saved_position(s, o->name, plan->src->name);
    if (txn_begin(s, err) != 0 ||
        (pos == NULL && clear_outputs(s, o, err) != 0)) {
        sl_plan_free(plan);
        free(pos);
        return NULL;
    }
    sl_query *q = query_build(s, plan, 0, err);
    for (int i = 0; q != NULL && i < o->stmt->nopts; i++) {
        /* a sink's WITH also holds its connector's options */
        if (o->kind == SL_OBJ_SINK && !sl_is_setting(o->stmt->opts[i].key))
            continue;
        if (sl_settings_apply(&q->settings, &o->stmt->opts[i], err) != 0) {
            sl_query_free(q);
            q = NULL;
        }
    }
    if (q != NULL) {
        q->obj = o;
        if (pos != NULL && resume_from(q, err) != 0) {
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
    int64_t last_progress = 0;
    while (!q->done && !s->interrupted) {
        int n = query_step(q, err);
        if (n < 0)
            return -1;
        q->rows_since_commit += n;
        progress(q, &last_progress, 0);
        if (maybe_commit(s, q, err) != 0)
            return -1;
        int64_t t = now_ms();
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

/* Records in the catalog that o's query failed, and why. */
static void mark_failed(sl_session *s, sl_catalog_obj *o, const char *why)
{
    sl_error e2;
    sl_error_clear(&e2);
    char status[SL_ERROR_MAX + 16];
    snprintf(status, sizeof status, "failed: %s", why);
    sl_catalog_set_status(s->cat, o, status, &e2);
}

/* ---- waiting for a cause that passes -------------------------------------- */

/* The first and the longest wait between two tries. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000

static int is_waiting(const sl_session *s, const sl_catalog_obj *o)
{
    for (int i = 0; i < s->nwaiting; i++)
        if (s->waiting[i] == o)
            return 1;
    return 0;
}

static void wait_add(sl_session *s, sl_catalog_obj *o)
{
    if (is_waiting(s, o))
        return;
    s->waiting = sl_xrealloc(s->waiting, sizeof *s->waiting *
                             (size_t)(s->nwaiting + 1));
    s->waiting[s->nwaiting++] = o;
}

/* Queries are waiting for why: tries again after the next backoff, and
** says what it waits for when the cause is new. */
static void wait_for(sl_session *s, const sl_error *why)
{
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_FIRST_MS;
    if (s->backoff_ms > BACKOFF_MAX_MS)
        s->backoff_ms = BACKOFF_MAX_MS;
    s->retry_at_ms = now_ms() + s->backoff_ms;
    if (strcmp(s->wait_why, why->msg) != 0) {
        fprintf(s->msg, "waiting: %s (a cause that passes: sluice keeps "
                "retrying, and the queries continue from their last commit)\n",
                why->msg);
        fflush(s->msg);
        snprintf(s->wait_why, sizeof s->wait_why, "%s", why->msg);
    }
}

/* Starts o's query from its last commit (a resume). When it cannot for a
** cause that passes, o waits to be tried again; otherwise says so on the
** session's messages and marks it failed. */
static void resume_or_fail(sl_session *s, sl_catalog_obj *o)
{
    sl_error err;
    sl_error_clear(&err);
    if (sl_query_start(s, o, 0, &err) != NULL)
        return;
    if (err.transient) {
        wait_add(s, o);
        wait_for(s, &err);
        return;
    }
    if (s->lost)
        return;
    fprintf(s->msg, "warning: cannot resume %s: %s\n", o->name, err.msg);
    mark_failed(s, o, err.msg);
}

/* Starts the waiting queries again once their time has come. */
static void retry_waiting(sl_session *s)
{
    if (s->nwaiting == 0 || now_ms() < s->retry_at_ms || s->lost)
        return;
    int n = s->nwaiting;
    sl_catalog_obj **objs = s->waiting;
    s->waiting = NULL;
    s->nwaiting = 0;
    for (int i = 0; i < n; i++)
        resume_or_fail(s, objs[i]);
    free(objs);
    if (s->nwaiting == 0 && s->wait_why[0]) {
        fprintf(s->msg, "resumed: the queries continue after: %s\n",
                s->wait_why);
        fflush(s->msg);
        s->wait_why[0] = 0;
        s->backoff_ms = 0;
    }
}

/* Sleeps until the waiting queries' next try (at most until deadline_ms,
** or a little while when nothing waits). */
static void nap_until_retry(sl_session *s, int64_t deadline_ms)
{
    int64_t until = s->nwaiting ? s->retry_at_ms : now_ms() + 20;
    if (deadline_ms >= 0 && until > deadline_ms)
        until = deadline_ms;
    int64_t ms = until - now_ms();
    if (ms > 0 && !s->interrupted)
        usleep((useconds_t)(ms > 200 ? 200 : ms) * 1000);
}

static void query_unwait(sl_session *s, const char *name)
{
    for (int i = 0; i < s->nwaiting; i++)
        if (strcasecmp(s->waiting[i]->name, name) == 0) {
            memmove(&s->waiting[i], &s->waiting[i + 1],
                    sizeof *s->waiting * (size_t)(s->nwaiting - i - 1));
            s->nwaiting--;
            return;
        }
}

/* The query whose part of a commit point failed, or else q (NULL when
** none is to blame: the COMMIT itself failed). */
static sl_query *at_fault(sl_session *s, sl_query *q)
{
    for (int i = 0; i < s->nqueries; i++)
        if (s->queries[i]->commit_failed)
            return s->queries[i];
    return q;
}

/* Query q failed at run time, or the query at fault in the commit point
** that failed while q ran (at_fault): the session's open transaction is
** rolled back, that query is marked failed and freed. The rollback (or a
** failed COMMIT) also takes back what every other running query published
** since the last commit point (rows, late events, dead letters, state),
** while their operators and sources have moved past those events: each of
** them is freed and started again from its last commit, as a restart does,
** so nothing is lost or counted twice. All are freed before any starts,
** since starting one is a commit point for those already running. */
static void fail_query(sl_session *s, sl_query *q, const sl_error *why)
{
    q = at_fault(s, q);
    sl_error e2;
    sl_error_clear(&e2);
    if (!sqlite3_get_autocommit(s->db))
        sl_db_exec(s->db, "ROLLBACK", &e2);
    if (why->transient || s->lost) {
        /* nobody's fault: every query stops where it last committed, and
        ** (unless the database is lost) waits for the cause to pass */
        while (s->nqueries > 0) {
            sl_query *r = s->queries[s->nqueries - 1];
            if (!s->lost)
                wait_add(s, r->obj);
            list_remove(s, r);
            sl_query_free(r);
        }
        if (!s->lost)
            wait_for(s, why);
        return;
    }
    assert(q != NULL);
    if (q->obj)
        mark_failed(s, q->obj, why->msg);
    list_remove(s, q);
    sl_query_free(q);
    int n = s->nqueries;
    sl_catalog_obj **others = sl_xmalloc(sizeof *others * (size_t)n);
    for (int i = 0; i < n; i++) {
        others[i] = s->queries[i]->obj;
        assert(others[i] != NULL);      /* push queries are not listed */
    }
    while (s->nqueries > 0) {
        sl_query *r = s->queries[s->nqueries - 1];
        list_remove(s, r);
        sl_query_free(r);
    }
    for (int i = 0; i < n; i++)
        resume_or_fail(s, others[i]);
    free(others);
}

/* Query q failed at run time (or its commit point did): fail_query. Returns
** 1 when the cause passes (every query now waits, err is cleared), 0 when
** it does not (err says why). */
static int failed_for_now(sl_session *s, sl_query *q, sl_error *err)
{
    int transient = err->transient && !s->lost;
    fail_query(s, q, err);
    if (transient)
        sl_error_clear(err);
    return transient;
}

static sl_query *query_of(sl_session *s, const sl_catalog_obj *o)
{
    for (int i = 0; i < s->nqueries; i++)
        if (s->queries[i]->obj == o)
            return s->queries[i];
    return NULL;
}

int sl_query_finish(sl_session *s, sl_query *q, sl_error *err)
{
    if (!sl_query_bounded(q))
        return 0;
    sl_catalog_obj *o = q->obj;
    for (;;) {
        if (q == NULL) {
            /* waiting for a cause to pass: the query continues from its
            ** last commit once it has */
            if (s->interrupted)
                return 0;
            nap_until_retry(s, -1);
            retry_waiting(s);
            if ((q = query_of(s, o)) != NULL || is_waiting(s, o))
                continue;
            if (s->lost)
                return check_database(s, err);
            return sl_error_set(err, -1, "%s %s", o->name, o->status);
        }
        if (q->done) {
            if (finish_done(s, q, err) == 0)
                return 0;
        } else if (query_run(s, q, -1, err) == 0) {
            if (!s->interrupted)
                continue;
            /* keep what was committed; the query resumes next time */
            if (commit_point(s, q, 0, err) == 0)
                return 0;
        }
        if (!failed_for_now(s, q, err))
            return -1;
        q = NULL;
    }
}

int sl_query_resume_failed(sl_session *s, const sl_stmt *st, sl_error *err)
{
    sl_catalog_obj *o = sl_catalog_find(s->cat, st->name);
    if (o == NULL || o->kind != st->object)
        return sl_error_set(err, st->name_offset, "%s is not a %s",
                            st->name, sl_object_kind_name(st->object));
    if (strncmp(o->status, "failed", 6) != 0)
        return sl_error_set(err, st->name_offset, "%s %s is %s, not failed: "
                            "RESUME starts a failed query again",
                            sl_object_kind_name(o->kind), o->name, o->status);
    sl_query *q = sl_query_start(s, o, 0, err);
    if (q == NULL) {
        if (err->transient) {
            wait_add(s, o);
            wait_for(s, err);
            sl_error_clear(err);
            return 0;
        }
        mark_failed(s, o, err->msg);
        return -1;
    }
    return sl_query_finish(s, q, err);
}

int sl_query_commit_all(sl_session *s, sl_error *err)
{
    if (s->nqueries == 0)
        return 0;
    if (commit_point(s, NULL, 0, err) == 0)
        return 0;
    if (err->transient && !s->lost) {
        failed_for_now(s, NULL, err);
        return 0;
    }
    if (at_fault(s, NULL) != NULL || s->lost)
        fail_query(s, NULL, err);   /* the query that could not commit */
    return -1;
}

int sl_query_resume_all(sl_session *s, sl_error *err)
{
    (void)err;      /* a query that cannot resume is marked failed instead */
    for (int i = 0; i < s->cat->n; i++) {
        sl_catalog_obj *o = s->cat->objs[i];
        if (o->kind != SL_OBJ_MVIEW && o->kind != SL_OBJ_STABLE &&
            o->kind != SL_OBJ_SINK)
            continue;
        if (strcmp(o->status, "done") == 0)
            continue;
        if (strncmp(o->status, "failed", 6) == 0) {
            /* every start says which queries are failed, and why */
            fprintf(s->msg, "warning: %s %s is %s (fix the cause, then ALTER "
                    "%s %s RESUME)\n", sl_object_kind_name(o->kind), o->name,
                    o->status, o->kind == SL_OBJ_MVIEW ? "MATERIALIZED VIEW"
                    : o->kind == SL_OBJ_STABLE ? "STREAMING TABLE" : "SINK",
                    o->name);
            continue;
        }
        resume_or_fail(s, o);
    }
    return 0;
}

int sl_query_run_background(sl_session *s, int timeout_ms, sl_error *err)
{
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int any_data = 0;
        retry_waiting(s);
        for (int i = 0; i < s->nqueries; i++) {
            sl_query *q = s->queries[i];
            int64_t before = q->rows_in;
            int rc = query_run(s, q, deadline, err);
            any_data |= q->rows_in != before;
            if (rc == 0 && q->done) {
                rc = finish_done(s, q, err);
                i--;
            }
            if (rc != 0) {
                if (!failed_for_now(s, q, err))
                    return -1;
                break;              /* every query waits now */
            }
        }
        if (s->interrupted || now_ms() >= deadline ||
            s->nqueries + s->nwaiting == 0)
            break;
        if (s->nqueries == 0) {
            nap_until_retry(s, deadline);
            continue;
        }
        if (!any_data) {
            /* poll again soon: a quarter of the shortest commit interval,
            ** between 1 and 20 ms, so a small interval means low latency */
            int64_t nap = 20;
            for (int i = 0; i < s->nqueries; i++)
                if (s->queries[i]->settings.commit_interval_ms / 4 < nap)
                    nap = s->queries[i]->settings.commit_interval_ms / 4;
            usleep((useconds_t)(nap < 1 ? 1 : nap) * 1000);
        }
    }
    /* interrupted (SIGINT/SIGTERM): commit what was done (what cannot be
    ** committed now is done again by the next start) */
    if (s->interrupted) {
        if (s->nqueries > 0 && commit_point(s, NULL, 0, err) != 0 &&
            !failed_for_now(s, NULL, err))
            return -1;
        return s->nqueries;
    }
    return s->nqueries + s->nwaiting;
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
        if (q->ops->vt->flush(q->ops, q->done, err) != 0) {
            rc = -1;
            break;
        }
        if (n == 0 && !q->done)
            usleep(20000);
    }
    if (rc == 0 && !q->done)
        rc = q->ops->vt->flush(q->ops, 1, err);
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
