/*
** op_dedup.c: dedup without a window (DESIGN §2 rule 12): QUALIFY
** ROW_NUMBER() OVER (PARTITION BY k ORDER BY <event time>) = 1, and SELECT
** DISTINCT over a stream (keyed by every selected column).
**
** Per key it keeps the row with the smallest event time t (ties: the first
** to arrive) and emits it, once, when the watermark passes t (W >= t): the
** result is append-only, so a streaming table can hold it. Each row is
** checked against W as it stood before that row (rule 4), then W advances:
**   t <= W                 late: recorded, as for windows, and dropped;
**   key pending (t_p > W)  the earlier of the two is kept, the other dropped;
**   key emitted            dropped: its first row is out already;
**   key unknown            pending, until W >= t.
** An emitted key is remembered until W >= t + dedup_within, then
** forgotten: a later row of it starts the key again. Dropped duplicates
** are counted (dedup_dropped in sluice_metrics). Emission and forgetting
** happen as W moves, row by row, so results do not depend on batches
** (rule 5); rows go out in order of (t, arrival).
**
** State is bounded by the watermark: the pending rows (within the delay)
** and the remembered keys (within dedup_within). A key is one entry: its
** key bytes (sl_row_write of the key columns: equal keys, equal bytes;
** hashed with sl_hash_bytes), then while pending the row's columns the
** select list reads. Entries live in a chained hash table; the pending
** ones also in a min-heap on (t, arrival), the emitted ones in a FIFO:
** they are emitted in t order, so the oldest is forgotten first.
**
** Checkpoints (sluice_state ids [SL_CKPT_DEDUP_FIRST, 0), checkpoint.h):
** its own row (watermark, counters) at SL_CKPT_DEDUP_FIRST, and a row per
** key made or changed since the last commit point; a forgotten key's row
** is deleted. An emitted key's row is not rewritten: on load, a key whose
** t the saved watermark has passed was emitted (emission follows W at
** once), and its row bytes are dropped.
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "engine/op.h"
#include "engine/plan.h"
#include "engine/expr.h"
#include "engine/watermark.h"
#include "engine/checkpoint.h"

#define META_ID SL_CKPT_DEDUP_FIRST

typedef struct dentry dentry;
struct dentry {
    uint64_t hash;
    dentry *hnext;         /* in its hash bucket */
    dentry *fnext;         /* in the FIFO of emitted keys */
    int64_t t;             /* event time of the row kept */
    uint64_t seq;          /* its arrival (ties in emission order) */
    int64_t id;            /* its row in sluice_state */
    int heap_at;           /* its place in the pending heap, -1: emitted */
    int dirty_at;          /* its place in the dirty list, -1: clean */
    int saved;             /* has a row in sluice_state */
    uint32_t klen, rlen;   /* key bytes, then row bytes (0 once emitted) */
    unsigned char *data;
};

typedef struct dedup_op {
    sl_operator base;
    const sl_plan *p;
    int nkeys;
    sl_cexpr **key_ce;
    sl_column *key_cols;
    int event_col;
    int64_t within_ms;
    uint8_t *keep;         /* input columns the select list reads */
    sl_watermark wmk;
    uint64_t seq;          /* rows seen so far */
    int64_t dropped;       /* duplicates dropped */
    int64_t next_id;

    dentry **buckets;      /* power of two */
    size_t nbuckets, nentries;
    dentry **heap;         /* pending keys, min on (t, seq) */
    int nheap, heap_cap;
    dentry *fifo_head, *fifo_tail;   /* emitted keys, t ascending */
    dentry **dirty;        /* changed since the last checkpoint */
    int ndirty, dirty_cap;
    int64_t *deleted;      /* ids of forgotten saved keys */
    int ndeleted, deleted_cap;

    sl_buf key;            /* one row's key bytes */
    sl_buf row;            /* one row's bytes */
    sl_buf ckpt;
    sl_batch *out;         /* emitted rows, input-row layout */
    int batch_rows;
} dedup_op;

/* ---- the hash table -------------------------------------------------------- */

static dentry **bucket_of(dedup_op *d, uint64_t h)
{
    return &d->buckets[h & (d->nbuckets - 1)];
}

static dentry *find(dedup_op *d, uint64_t h, const sl_buf *key)
{
    for (dentry *e = *bucket_of(d, h); e != NULL; e = e->hnext)
        if (e->hash == h && e->klen == key->n &&
            memcmp(e->data, key->z, key->n) == 0)
            return e;
    return NULL;
}

static void table_insert(dedup_op *d, dentry *e)
{
    if (d->nentries + 1 > d->nbuckets) {
        size_t cap = d->nbuckets * 2;
        dentry **nb = sl_xcalloc(cap, sizeof *nb);
        for (size_t i = 0; i < d->nbuckets; i++)
            for (dentry *x = d->buckets[i], *next; x != NULL; x = next) {
                next = x->hnext;
                x->hnext = nb[x->hash & (cap - 1)];
                nb[x->hash & (cap - 1)] = x;
            }
        free(d->buckets);
        d->buckets = nb;
        d->nbuckets = cap;
    }
    dentry **b = bucket_of(d, e->hash);
    e->hnext = *b;
    *b = e;
    d->nentries++;
}

static void table_remove(dedup_op *d, dentry *e)
{
    dentry **pp = bucket_of(d, e->hash);
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    d->nentries--;
}

/* ---- the pending heap ------------------------------------------------------ */

static int before(const dentry *x, const dentry *y)
{
    return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

static void heap_set(dedup_op *d, int i, dentry *e)
{
    d->heap[i] = e;
    e->heap_at = i;
}

static void sift_up(dedup_op *d, int i)
{
    dentry *e = d->heap[i];
    while (i > 0 && before(e, d->heap[(i - 1) / 2])) {
        heap_set(d, i, d->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(d, i, e);
}

static void sift_down(dedup_op *d, int i)
{
    dentry *e = d->heap[i];
    for (;;) {
        int c = 2 * i + 1;
        if (c >= d->nheap)
            break;
        if (c + 1 < d->nheap && before(d->heap[c + 1], d->heap[c]))
            c++;
        if (!before(d->heap[c], e))
            break;
        heap_set(d, i, d->heap[c]);
        i = c;
    }
    heap_set(d, i, e);
}

static void heap_push(dedup_op *d, dentry *e)
{
    if (d->nheap == d->heap_cap) {
        d->heap_cap = d->heap_cap ? d->heap_cap * 2 : 256;
        d->heap = sl_xrealloc(d->heap, sizeof *d->heap * (size_t)d->heap_cap);
    }
    heap_set(d, d->nheap++, e);
    sift_up(d, d->nheap - 1);
}

static dentry *heap_pop(dedup_op *d)
{
    dentry *top = d->heap[0];
    top->heap_at = -1;
    if (--d->nheap > 0) {
        heap_set(d, 0, d->heap[d->nheap]);
        sift_down(d, 0);
    }
    return top;
}

/* ---- entries ---------------------------------------------------------------- */

static void mark_dirty(dedup_op *d, dentry *e)
{
    if (e->dirty_at >= 0)
        return;
    if (d->ndirty == d->dirty_cap) {
        d->dirty_cap = d->dirty_cap ? d->dirty_cap * 2 : 256;
        d->dirty = sl_xrealloc(d->dirty, sizeof *d->dirty *
                               (size_t)d->dirty_cap);
    }
    e->dirty_at = d->ndirty;
    d->dirty[d->ndirty++] = e;
}

/* Sets e's row (t, arrival, the bytes in d->row) after its key bytes. */
static void entry_set_row(dentry *e, int64_t t, uint64_t seq,
                          const sl_buf *row)
{
    e->t = t;
    e->seq = seq;
    e->rlen = (uint32_t)row->n;
    e->data = sl_xrealloc(e->data, (size_t)e->klen + e->rlen + 1);
    memcpy(e->data + e->klen, row->z, row->n);
}

static dentry *entry_new(dedup_op *d, uint64_t h, const sl_buf *key)
{
    dentry *e = sl_xcalloc(1, sizeof *e);
    e->hash = h;
    e->klen = (uint32_t)key->n;
    e->data = sl_xmalloc((size_t)e->klen + 1);
    memcpy(e->data, key->z, key->n);
    e->heap_at = -1;
    e->dirty_at = -1;
    e->id = META_ID + 1 + d->next_id++;
    table_insert(d, e);
    return e;
}

/* Forgets the oldest emitted key: out of the table, its saved row to be
** deleted at the next checkpoint. */
static void forget_oldest(dedup_op *d)
{
    dentry *e = d->fifo_head;
    d->fifo_head = e->fnext;
    if (d->fifo_head == NULL)
        d->fifo_tail = NULL;
    table_remove(d, e);
    if (e->dirty_at >= 0) {
        dentry *last = d->dirty[--d->ndirty];
        d->dirty[e->dirty_at] = last;
        last->dirty_at = e->dirty_at;
    }
    if (e->saved) {
        if (d->ndeleted == d->deleted_cap) {
            d->deleted_cap = d->deleted_cap ? d->deleted_cap * 2 : 256;
            d->deleted = sl_xrealloc(d->deleted, sizeof *d->deleted *
                                     (size_t)d->deleted_cap);
        }
        d->deleted[d->ndeleted++] = e->id;
    }
    free(e->data);
    free(e);
}

static void fifo_append(dedup_op *d, dentry *e)
{
    e->fnext = NULL;
    if (d->fifo_tail)
        d->fifo_tail->fnext = e;
    else
        d->fifo_head = e;
    d->fifo_tail = e;
}

/* ---- emission ------------------------------------------------------------- */

static int send_out(dedup_op *d, sl_error *err)
{
    if (d->out->nrows == 0)
        return 0;
    int rc = d->base.next->vt->push(d->base.next, d->out, err);
    sl_batch_reset(d->out);
    return rc;
}

/* The watermark moved: emits the pending keys it passed, in (t, arrival)
** order, and forgets the emitted keys it passed by dedup_within. */
static int follow_watermark(dedup_op *d, sl_error *err)
{
    int64_t wm = d->wmk.wm;
    while (d->nheap > 0 && d->heap[0]->t <= wm) {
        dentry *e = heap_pop(d);
        int r = sl_batch_add_row(d->out);
        sl_row_read(e->data + e->klen, d->out, r, 0, d->p->ninput);
        e->rlen = 0;
        e->data = sl_xrealloc(e->data, (size_t)e->klen + 1);
        fifo_append(d, e);
        if (d->out->nrows >= d->batch_rows && send_out(d, err) != 0)
            return -1;
    }
    while (d->fifo_head != NULL &&
           wm >= sl_sat_add(d->fifo_head->t, d->within_ms))
        forget_oldest(d);
    return 0;
}

static int dedup_push(sl_operator *op, sl_batch *b, sl_error *err)
{
    dedup_op *d = (dedup_op *)op;
    int n = b->nrows;
    for (int k = 0; k < d->nkeys; k++)
        sl_cexpr_eval(d->key_ce[k], b, &d->key_cols[k]);
    const sl_column *et = &b->cols[d->event_col];
    const uint8_t *sel = b->selected;
    for (int r = 0; r < n; r++) {
        uint64_t seq = d->seq++;
        if (et->null[r]) {
            if (sel == NULL || sel[r])
                d->base.ctx.dead(d->base.ctx.q, b, r, "the event-time column "
                                 "is NULL, so the row has no place in the "
                                 "dedup's order");
            continue;
        }
        int64_t t = et->v.i[r], wm = d->wmk.wm;
        if (sel != NULL && !sel[r]) {
            /* filtered out: still moves the watermark (rule 2) */
        } else if (t <= wm) {
            d->base.ctx.late(d->base.ctx.q, b, r, t, wm);
        } else {
            d->key.n = 0;
            sl_row_write(&d->key, d->key_cols, d->nkeys, r, NULL);
            uint64_t h = sl_hash_bytes(d->key.z, d->key.n);
            dentry *e = find(d, h, &d->key);
            if (e != NULL && (e->heap_at < 0 || t >= e->t)) {
                d->dropped++;   /* emitted already, or a later one pends */
            } else {
                if (e != NULL)
                    d->dropped++;   /* the later row pending gives way */
                else
                    e = entry_new(d, h, &d->key);
                d->row.n = 0;
                sl_row_write(&d->row, b->cols, d->p->ninput, r, d->keep);
                entry_set_row(e, t, seq, &d->row);
                if (e->heap_at < 0)
                    heap_push(d, e);
                else
                    sift_up(d, e->heap_at);
                mark_dirty(d, e);
            }
        }
        sl_watermark_observe(&d->wmk, b->loc[r].part, t);
        if (d->wmk.wm != wm && follow_watermark(d, err) != 0)
            return -1;
    }
    return send_out(d, err);
}

static int dedup_advance(sl_operator *op, int64_t wm_ms, sl_error *err)
{
    dedup_op *d = (dedup_op *)op;
    if (wm_ms > d->wmk.wm) {
        if (wm_ms == INT64_MAX)
            sl_watermark_end(&d->wmk);
        else
            d->wmk.wm = wm_ms;
        if (follow_watermark(d, err) != 0 || send_out(d, err) != 0)
            return -1;
    }
    return sl_op_forward_advance(op, wm_ms, err);
}

static void dedup_close(sl_operator *op)
{
    dedup_op *d = (dedup_op *)op;
    for (size_t i = 0; i < d->nbuckets; i++)
        for (dentry *e = d->buckets[i], *next; e != NULL; e = next) {
            next = e->hnext;
            free(e->data);
            free(e);
        }
    free(d->buckets);
    free(d->heap);
    free(d->dirty);
    free(d->deleted);
    for (int k = 0; k < d->nkeys; k++)
        sl_cexpr_free(d->key_ce[k]);
    free(d->key_ce);
    free(d->key_cols);
    free(d->keep);
    sl_buf_free(&d->key);
    sl_buf_free(&d->row);
    sl_buf_free(&d->ckpt);
    sl_batch_free(d->out);
    free(d);
}

static const sl_operator_vtab dedup_vtab = {
    "dedup", dedup_push, dedup_advance, sl_op_forward_flush, dedup_close
};

sl_operator *sl_op_dedup_new(const sl_plan *p, const sl_op_ctx *ctx,
                             int batch_rows, sl_error *err)
{
    const sl_plan_dedup *pd = p->dedup;
    dedup_op *d = sl_xcalloc(1, sizeof *d);
    d->base.vt = &dedup_vtab;
    d->base.ctx = *ctx;
    d->p = p;
    d->nkeys = pd->nkeys;
    d->within_ms = pd->within_ms;
    d->event_col = p->event_time_col;
    d->batch_rows = batch_rows > 0 ? batch_rows : 1;
    d->key_ce = sl_xcalloc((size_t)pd->nkeys + 1, sizeof *d->key_ce);
    d->key_cols = sl_xcalloc((size_t)pd->nkeys + 1, sizeof *d->key_cols);
    for (int k = 0; k < pd->nkeys; k++)
        if ((d->key_ce[k] = sl_cexpr_compile(pd->keys[k], err)) == NULL) {
            d->out = NULL;
            dedup_close(&d->base);
            return NULL;
        }
    d->nbuckets = 1024;
    d->buckets = sl_xcalloc(d->nbuckets, sizeof *d->buckets);
    d->keep = sl_xcalloc((size_t)p->ninput + 1, 1);
    sl_plan_input_used(p, d->keep);
    sl_watermark_init(&d->wmk, p->delay_ms);
    d->out = sl_batch_new(p->ninput, p->input_types, d->batch_rows);
    return &d->base;
}

int64_t sl_op_dedup_watermark(const sl_operator *op)
{
    return ((const dedup_op *)op)->wmk.wm;
}

int sl_op_dedup_set_partitions(sl_operator *op, const int32_t *parts, int n,
                               sl_error *err)
{
    dedup_op *d = (dedup_op *)op;
    int64_t wm = d->wmk.wm;
    sl_watermark_set_active(&d->wmk, parts, n);
    if (d->wmk.wm == wm)
        return 0;
    return follow_watermark(d, err) != 0 ? -1 : send_out(d, err);
}

int64_t sl_op_dedup_dropped(const sl_operator *op)
{
    return ((const dedup_op *)op)->dropped;
}

int64_t sl_op_dedup_keys(const sl_operator *op)
{
    return (int64_t)((const dedup_op *)op)->nentries;
}

/* ---- checkpoints -------------------------------------------------------- */

/* A key's row: [t][seq][u32 klen][u32 rlen][key bytes][row bytes]. */
int sl_op_dedup_save(sl_operator *op, sl_ckpt_writer *w, uint64_t fingerprint,
                     sl_error *err)
{
    dedup_op *d = (dedup_op *)op;
    sl_buf *b = &d->ckpt;
    for (int i = 0; i < d->ndeleted; i++)
        if (sl_ckpt_delete(w, d->deleted[i], err) != 0)
            return -1;
    d->ndeleted = 0;
    for (int i = 0; i < d->ndirty; i++) {
        dentry *e = d->dirty[i];
        b->n = 0;
        sl_buf_put(b, &e->t, sizeof e->t);
        sl_buf_put(b, &e->seq, sizeof e->seq);
        sl_buf_put(b, &e->klen, sizeof e->klen);
        sl_buf_put(b, &e->rlen, sizeof e->rlen);
        sl_buf_put(b, e->data, (size_t)e->klen + e->rlen);
        if (sl_ckpt_put(w, e->id, b, err) != 0)
            return -1;
        e->saved = 1;
        e->dirty_at = -1;
    }
    d->ndirty = 0;
    b->n = 0;
    sl_ckpt_header(b, fingerprint);
    sl_buf_put(b, &d->next_id, sizeof d->next_id);
    sl_buf_put(b, &d->seq, sizeof d->seq);
    sl_buf_put(b, &d->dropped, sizeof d->dropped);
    sl_watermark_save(&d->wmk, b);
    return sl_ckpt_put(w, META_ID, b, err);
}

typedef struct dload_ctx {
    dedup_op *d;
    uint64_t fingerprint;
    const char *query;
    int have_meta;
    dentry **emitted;      /* loaded emitted keys, to order into the FIFO */
    size_t nemitted, cap;
} dload_ctx;

static int dload_bad(const dload_ctx *c, sl_error *err)
{
    return sl_error_set(err, -1, "the saved dedup state of %s is damaged; "
                        "replay the query from the start with CREATE OR "
                        "REPLACE", c->query);
}

/* One saved row, in id order: the operator's own first, then its keys. */
static int dload_row(void *ctx, int64_t id, const unsigned char *p, size_t n,
                     sl_error *err)
{
    dload_ctx *c = ctx;
    dedup_op *d = c->d;
    const unsigned char *end = p + n;
    if (id < META_ID || id >= 0)
        return 0;               /* another operator's */
    if (id == META_ID) {
        int rc = sl_ckpt_check_header(&p, end, c->fingerprint, c->query, err);
        if (rc != 0)
            return rc < 0 ? -1 : dload_bad(c, err);
        if (sl_buf_get(&p, end, &d->next_id, sizeof d->next_id) ||
            sl_buf_get(&p, end, &d->seq, sizeof d->seq) ||
            sl_buf_get(&p, end, &d->dropped, sizeof d->dropped) ||
            sl_watermark_load(&d->wmk, &p, end) != 0 || p != end)
            return dload_bad(c, err);
        c->have_meta = 1;
        return 0;
    }
    int64_t t;
    uint64_t seq;
    uint32_t klen, rlen;
    if (!c->have_meta || sl_buf_get(&p, end, &t, sizeof t) ||
        sl_buf_get(&p, end, &seq, sizeof seq) ||
        sl_buf_get(&p, end, &klen, sizeof klen) ||
        sl_buf_get(&p, end, &rlen, sizeof rlen) ||
        (size_t)(end - p) != (size_t)klen + rlen)
        return dload_bad(c, err);
    sl_buf key = {(unsigned char *)p, klen, klen};
    dentry *e = entry_new(d, sl_hash_bytes(p, klen), &key);
    d->next_id--;               /* entry_new counted it: keep the saved id */
    e->id = id;
    e->saved = 1;
    e->t = t;
    e->seq = seq;
    if (t > d->wmk.wm) {
        sl_buf row = {(unsigned char *)p + klen, rlen, rlen};
        entry_set_row(e, t, seq, &row);
        heap_push(d, e);
        return 0;
    }
    if (c->nemitted == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->emitted = sl_xrealloc(c->emitted, sizeof *c->emitted * c->cap);
    }
    c->emitted[c->nemitted++] = e;
    return 0;
}

static int by_time(const void *x, const void *y)
{
    const dentry *a = *(dentry *const *)x, *b = *(dentry *const *)y;
    return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

int sl_op_dedup_load(sl_operator *op, sqlite3 *db, const char *query,
                     uint64_t fingerprint, sl_error *err)
{
    dedup_op *d = (dedup_op *)op;
    dload_ctx c = {d, fingerprint, query, 0, NULL, 0, 0};
    int rc = sl_ckpt_load(db, query, dload_row, &c, err);
    if (rc == 0) {
        /* the emitted keys in the order they were emitted */
        qsort(c.emitted, c.nemitted, sizeof *c.emitted, by_time);
        for (size_t i = 0; i < c.nemitted; i++)
            fifo_append(d, c.emitted[i]);
    }
    free(c.emitted);
    return rc;
}
