/*
** checkpoint.c: saving and loading operator state rows in sluice_state
** (see checkpoint.h), and the byte buffer state is serialised into.
*/
#include <stdlib.h>
#include <string.h>
#include "engine/checkpoint.h"
#include "storage/db.h"

int sl_ckpt_begin(sl_ckpt_writer *w, sqlite3 *db, const char *query,
                  sl_error *err)
{
    memset(w, 0, sizeof *w);
    w->db = db;
    w->query = query;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO sluice_state(query, id, "
                           "state) VALUES (?1, ?2, ?3)", -1, &w->put,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "DELETE FROM sluice_state WHERE query = ?1 AND "
                           "id = ?2", -1, &w->del, NULL) != SQLITE_OK) {
        sl_error_set(err, -1, "cannot prepare the checkpoint of %s: %s", query,
                     sqlite3_errmsg(db));
        sl_ckpt_end(w);
        return -1;
    }
    sqlite3_bind_text(w->put, 1, query, -1, SQLITE_STATIC);
    sqlite3_bind_text(w->del, 1, query, -1, SQLITE_STATIC);
    return 0;
}

int sl_ckpt_put(sl_ckpt_writer *w, int64_t id, const sl_buf *blob,
                sl_error *err)
{
    sqlite3_bind_int64(w->put, 2, id);
    sqlite3_bind_blob(w->put, 3, blob->z, (int)blob->n, SQLITE_STATIC);
    int rc = sqlite3_step(w->put);
    sqlite3_reset(w->put);
    if (rc != SQLITE_DONE)
        return sl_db_error(err, w->db, "cannot save the state of %s",
                           w->query);
    return 0;
}

int sl_ckpt_delete(sl_ckpt_writer *w, int64_t id, sl_error *err)
{
    sqlite3_bind_int64(w->del, 2, id);
    int rc = sqlite3_step(w->del);
    sqlite3_reset(w->del);
    if (rc != SQLITE_DONE)
        return sl_db_error(err, w->db, "cannot save the state of %s",
                           w->query);
    return 0;
}

void sl_ckpt_end(sl_ckpt_writer *w)
{
    sqlite3_finalize(w->put);
    sqlite3_finalize(w->del);
    w->put = w->del = NULL;
}

int sl_ckpt_load(sqlite3 *db, const char *query, sl_ckpt_row_fn fn, void *ctx,
                 sl_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT id, state FROM sluice_state WHERE "
                           "query = ?1 ORDER BY id", -1, &st, NULL) != SQLITE_OK)
        return sl_db_error(err, db, "cannot read the state of %s", query);
    sqlite3_bind_text(st, 1, query, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *p = sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (fn(ctx, sqlite3_column_int64(st, 0), p, n, err) != 0) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return sl_db_error(err, db, "cannot read the state of %s", query);
    return 0;
}

uint64_t sl_ckpt_fingerprint(const char *text)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

void sl_ckpt_header(sl_buf *out, uint64_t fingerprint)
{
    int32_t format = SL_STATE_FORMAT;
    sl_buf_put(out, &format, sizeof format);
    sl_buf_put(out, &fingerprint, sizeof fingerprint);
}

int sl_ckpt_check_header(const unsigned char **p, const unsigned char *end,
                         uint64_t fingerprint, const char *query,
                         sl_error *err)
{
    int32_t format;
    uint64_t fp;
    if (sl_buf_get(p, end, &format, sizeof format) ||
        sl_buf_get(p, end, &fp, sizeof fp))
        return 1;
    if (format != SL_STATE_FORMAT || fp != fingerprint)
        return sl_error_set(err, -1, "the saved state of %s was written for "
                            "another definition or version of sluice; replay "
                            "the query from the start with CREATE OR REPLACE "
                            "(or drop it)", query);
    return 0;
}
