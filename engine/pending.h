/*
** pending.h: what a continuous query has produced since its last commit
** point, held in memory until the next one.
**
** sluice takes SQLite's write lock only while it commits (DESIGN §1), so
** nothing a query produces between two commit points may touch the
** database: its result changes (rows written, keys retracted, in the order
** they were made) and its dead letters wait here, and the commit point
** replays them into its transaction. A query that fails, or whose commit
** cannot be made, drops its pending changes with it and starts again from
** its last commit: they were never visible.
**
** The memory is kept between commit points (reset, not freed), so a
** steady stream allocates nothing once the buffers have grown. The owner
** bounds it by committing when sl_pending_full() says so.
*/
#ifndef SL_PENDING_H
#define SL_PENDING_H

#include <stddef.h>
#include <stdint.h>
#include "engine/batch.h"
#include "engine/error.h"

typedef struct sl_pending sl_pending;

/* Where sl_pending_drain replays the changes; each returns 0 or -1 with
** err set. */
typedef struct sl_pending_target {
    int (*write)(void *ctx, const sl_batch *rows, sl_error *err);
    int (*retract)(void *ctx, const sl_batch *keys, sl_error *err);
    int (*dead)(void *ctx, int side, const char *location, const char *raw,
                int rawlen, const char *reason, sl_error *err);
} sl_pending_target;

sl_pending *sl_pending_new(int separate_writes);
void sl_pending_free(sl_pending *p);

/* Copies the rows of out (result rows) or keys (keys to delete): the
** caller's batches may be reused at once. Consecutive writes (and
** consecutive retractions) are held as one batch, unless p was made with
** separate_writes: for a table that each write replaces whole. */
void sl_pending_write(sl_pending *p, const sl_batch *out);
void sl_pending_retract(sl_pending *p, const sl_batch *keys);

/* Copies a dead letter: the input it came from, where (file:line,
** topic/partition/offset), the raw record (NULL: none) and why. */
void sl_pending_dead(sl_pending *p, int side, const char *location,
                     const char *raw, int rawlen, const char *reason);

/* 1 when what is held has grown past the bound of memory one query may
** hold between commit points: time for a commit point. */
int sl_pending_full(const sl_pending *p);

/* Replays everything held, in order, into target, then empties p. On a
** failure p is emptied all the same (the commit point it served is rolled
** back, and the query restarts from its last commit) and -1 returned. */
int sl_pending_drain(sl_pending *p, const sl_pending_target *target,
                     void *ctx, sl_error *err);

/* Empties p without replaying it. */
void sl_pending_reset(sl_pending *p);

#endif
