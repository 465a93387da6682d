/*
** op.h: the operator interface and the context operators report to.
**
** Operators are built at plan time and receive batches pushed from the
** source side. The interface is push(batch) / advance_watermark / flush /
** close, dispatched through a vtable; each operator's run-time state lives
** in its own struct behind sl_operator.
**
** Operators never write to SQLite themselves: they hand result rows, keys
** to retract, late events and dead letters to the query through
** sl_op_ctx, and the query writes them in the commit-point transaction.
*/
#ifndef SL_OP_H
#define SL_OP_H

#include "engine/batch.h"
#include "engine/error.h"
#include <sqlite3.h>

typedef struct sl_op_ctx {
    void *q;
    /* row r of in (the input row layout) missed the watermark wm_ms */
    void (*late)(void *q, const sl_batch *in, int r, int64_t event_ms,
                 int64_t wm_ms);
    /* row r of in cannot be used (reason) */
    void (*dead)(void *q, const sl_batch *in, int r, const char *reason);
    /* result rows (output layout) to insert or upsert */
    int (*write)(void *q, const sl_batch *out, sl_error *err);
    /* keys to delete: rows whose first columns are the key columns in the
    ** group-row order (group keys, window_start, window_end) */
    int (*retract)(void *q, const sl_batch *keys, sl_error *err);
} sl_op_ctx;

typedef struct sl_operator sl_operator;

typedef struct sl_operator_vtab {
    const char *name;
    /* consumes the rows of b (b may be modified) */
    int (*push)(sl_operator *op, sl_batch *b, sl_error *err);
    /* the watermark reached wm_ms (INT64_MAX at end of input) */
    int (*advance_watermark)(sl_operator *op, int64_t wm_ms, sl_error *err);
    /* a commit point: publish pending changes (final = 1 at the end) */
    int (*flush)(sl_operator *op, int final, sl_error *err);
    void (*close)(sl_operator *op);
} sl_operator_vtab;

struct sl_operator {
    const sl_operator_vtab *vt;
    sl_op_ctx ctx;
    sl_operator *next;     /* downstream, or NULL for the last operator */
};

/* Operators form a chain: source -> [join] -> [filter] -> aggregate |
** [dedup] -> project. A stateless operator passes the watermark and flushes on with
** these (usable as its vtab entries). Rows an operator filters out stay in
** the batch, marked in b->selected: the aggregate still lets them move the
** watermark; the projection drops them. */
int sl_op_forward_advance(sl_operator *op, int64_t wm_ms, sl_error *err);
int sl_op_forward_flush(sl_operator *op, int final, sl_error *err);
/* Closes op and every operator after it. */
void sl_op_chain_close(sl_operator *op);

/* Small arithmetic the window operators share. */
/* a / b rounded toward -inf (window starts before the epoch) */
static inline int64_t sl_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* a + b, INT64_MAX when that overflows (a window's end near the maximum) */
static inline int64_t sl_sat_add(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

/* FNV-1a over n bytes, folded: the hash of a join key's bytes */
static inline uint64_t sl_hash_bytes(const void *z, size_t n)
{
    const unsigned char *p = z;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

typedef struct sl_plan sl_plan;
typedef struct sl_ckpt_writer sl_ckpt_writer;

/* A lookup join of each row with a snapshot of the plan's table, read from
** db now (engine/op_join.c). */
sl_operator *sl_op_join_new(const sl_plan *p, sqlite3 *db,
                            const sl_op_ctx *ctx, sl_error *err);
/* A window join of the plan's two sources (engine/op_wjoin.c), first in
** the chain. Each pushed batch holds one source's rows in that source's
** layout (b->side: 0 the FROM source, 1 the joined one); the pairs of a
** window go on in the input-row layout when the join's watermark (the
** smaller of the two sources') passes its end, batch_rows at a time. */
sl_operator *sl_op_wjoin_new(const sl_plan *p, const sl_op_ctx *ctx,
                             int batch_rows, sl_error *err);
/* Side's source has parts[0..n) active (multi-partition sources). */
int sl_op_wjoin_set_partitions(sl_operator *op, int side, const int32_t *parts,
                               int n, sl_error *err);
/* Side's bounded input has ended: its watermark is +inf. */
int sl_op_wjoin_end(sl_operator *op, int side, sl_error *err);
/* Marks in b->selected the rows of b (one side's, as read) that pass the
** WHERE conjuncts on that side alone; the others are not kept. */
void sl_op_wjoin_select(sl_operator *op, sl_batch *b);
/* Pushes rows [first, end) of b (one side's, b->side) into the join. */
int sl_op_wjoin_push_rows(sl_operator *op, sl_batch *b, int first, int end,
                          sl_error *err);
/* The join's watermark (INT64_MIN before one from each side). */
int64_t sl_op_wjoin_watermark(const sl_operator *op);
/* Rows buffered in open windows. */
int64_t sl_op_wjoin_open_rows(const sl_operator *op);
/* Checkpoints, as sl_op_aggregate_save/_load (ids below zero). The rows
** [cur[s], nrows) of in[s] were read from side s's source but not pushed
** yet: they are saved with the state, and _load puts them back in in[s]
** (emptied first), to be pushed before anything read after the restart. */
int sl_op_wjoin_save(sl_operator *op, sl_ckpt_writer *w, uint64_t fingerprint,
                     sl_batch *const in[2], const int cur[2], sl_error *err);
int sl_op_wjoin_load(sl_operator *op, sqlite3 *db, const char *query,
                     uint64_t fingerprint, sl_batch *in[2], sl_error *err);

/* WHERE (engine/op_filter.c). */
sl_operator *sl_op_filter_new(const sl_plan *p, const sl_op_ctx *ctx,
                              sl_error *err);
/* The select list of a row-by-row plan; writes through ctx->write
** (engine/op_project.c). */
sl_operator *sl_op_project_new(const sl_plan *p, const sl_op_ctx *ctx,
                               sl_error *err);

/* Dedup without a window (QUALIFY ROW_NUMBER() ... = 1, SELECT DISTINCT;
** engine/op_dedup.c): between the filter and the projection, it passes on
** the first row of each key, in the input-row layout, batch_rows at a time,
** once the watermark passes its event time. */
sl_operator *sl_op_dedup_new(const sl_plan *p, const sl_op_ctx *ctx,
                             int batch_rows, sl_error *err);
/* Its watermark (INT64_MIN before any event). */
int64_t sl_op_dedup_watermark(const sl_operator *op);
/* As sl_op_aggregate_set_partitions. */
int sl_op_dedup_set_partitions(sl_operator *op, const int32_t *parts, int n,
                               sl_error *err);
/* Rows dropped as duplicates so far; keys held (pending or remembered). */
int64_t sl_op_dedup_dropped(const sl_operator *op);
int64_t sl_op_dedup_keys(const sl_operator *op);
/* Checkpoints, as sl_op_aggregate_save/_load (ids: checkpoint.h). */
int sl_op_dedup_save(sl_operator *op, sl_ckpt_writer *w, uint64_t fingerprint,
                     sl_error *err);
int sl_op_dedup_load(sl_operator *op, sqlite3 *db, const char *query,
                     uint64_t fingerprint, sl_error *err);

/* The windowed or plain aggregate of an aggregate plan. Returns NULL with
** err set. */
sl_operator *sl_op_aggregate_new(const sl_plan *p, const sl_op_ctx *ctx,
                           sl_error *err);
/* The aggregate's current watermark (INT64_MIN before any event). */
int64_t sl_op_aggregate_watermark(const sl_operator *op);
/* A multi-partition source: parts[0..n) are the partitions that hold the
** watermark back now (assigned and not idle). Closes the windows a
** watermark released this way. Returns 0, or -1 with err set. */
int sl_op_aggregate_set_partitions(sl_operator *op, const int32_t *parts,
                                   int n, sl_error *err);
/* Writes what changed since the last checkpoint (window entries, the
** watermark) through w. fingerprint identifies the query's definition. */
int sl_op_aggregate_save(sl_operator *op, sl_ckpt_writer *w,
                         uint64_t fingerprint, sl_error *err);
/* Rebuilds the state saved for query (right after creation). Refuses state
** saved for another fingerprint or format, naming how to replay. */
int sl_op_aggregate_load(sl_operator *op, sqlite3 *db, const char *query,
                         uint64_t fingerprint, sl_error *err);

/* Number of open (window, key) groups: memory is bounded by the watermark. */
int64_t sl_op_aggregate_open_groups(const sl_operator *op);

/* The most (window, key) groups open at once so far. */
int64_t sl_op_aggregate_peak_groups(const sl_operator *op);

/* Bytes the operator holds for its open windows, besides the group keys
** (key slots, their text, the key hash table): the blocks of window entries
** (headers and aggregate states, free ones included: the close lists' chunks
** or the pool's blocks), the close lists or heap and
** the list of changed windows, at their allocated sizes. None of these
** shrink, so this is also the peak; divided by the peak number of groups it
** is the state per open (window, key) (docs/benchmarks.md). */
int64_t sl_op_aggregate_state_bytes(const sl_operator *op);

#endif
