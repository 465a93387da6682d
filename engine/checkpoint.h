/*
** checkpoint.h: operator state in SQLite, for exactly-once restarts.
**
** At each commit point, in the same transaction as the results and the
** source positions (DESIGN §5), each stateful operator writes what changed
** since the last commit into sluice_state: one row per piece of state (a
** window entry, the operator's own metadata), keyed by (query, id), so a
** checkpoint costs what changed, not what exists. On restart the rows are
** read back and the source resumes from the position of the same commit.
*/
#ifndef SL_CHECKPOINT_H
#define SL_CHECKPOINT_H

#include <sqlite3.h>
#include "engine/agg.h"
#include "engine/error.h"

/* Bumped whenever the layout of saved state changes: state written by
** another layout is refused with a message saying how to replay. */
#define SL_STATE_FORMAT 3     /* 3: hopping ON WINDOW CLOSE saves panes */

/* The ids of a query's state rows are split between its operators so
** that they never collide: the aggregate's are >= 0 (counting up), the
** window join's start at INT64_MIN (counting up), the dedup's are
** [SL_CKPT_DEDUP_FIRST, 0): its own row at SL_CKPT_DEDUP_FIRST, read
** first, then its keys counting up. Each operator's load skips the
** others' rows. */
#define SL_CKPT_DEDUP_FIRST (INT64_MIN / 2)

typedef struct sl_ckpt_writer {
    sqlite3 *db;
    const char *query;
    sqlite3_stmt *put;
    sqlite3_stmt *del;
} sl_ckpt_writer;

/* Prepares a writer for query (statements live until _end). */
int sl_ckpt_begin(sl_ckpt_writer *w, sqlite3 *db, const char *query,
                  sl_error *err);
/* Inserts or replaces the row (query, id) with blob. */
int sl_ckpt_put(sl_ckpt_writer *w, int64_t id, const sl_buf *blob,
                sl_error *err);
/* Deletes the row (query, id). */
int sl_ckpt_delete(sl_ckpt_writer *w, int64_t id, sl_error *err);
void sl_ckpt_end(sl_ckpt_writer *w);

/* Calls fn for every saved row of query, in id order. Returns 0, -1 with
** err set (by fn or on a database error). */
typedef int (*sl_ckpt_row_fn)(void *ctx, int64_t id, const unsigned char *p,
                              size_t n, sl_error *err);
int sl_ckpt_load(sqlite3 *db, const char *query, sl_ckpt_row_fn fn, void *ctx,
                 sl_error *err);

/* An operator's metadata row opens with the state format and the
** fingerprint of the query's definition: _header appends them; _check
** reads them back, returning 0, 1 when the bytes are too few (damaged
** state: the caller says so), or -1 with err set when the state was
** written for another definition or version (replay). */
void sl_ckpt_header(sl_buf *out, uint64_t fingerprint);
int sl_ckpt_check_header(const unsigned char **p, const unsigned char *end,
                         uint64_t fingerprint, const char *query,
                         sl_error *err);

/* A 64-bit FNV-1a hash of text (fingerprints of query definitions). */
uint64_t sl_ckpt_fingerprint(const char *text);

#endif
