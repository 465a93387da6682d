/*
** op_aggregate.c: GROUP BY with and without windows (tumbling, hopping,
** session), the watermark, late events, and emission of results.
**
** State: a hash table from group key to a key slot; each key slot holds the
** list of its open windows (for a plain GROUP BY, one window that never
** closes). A window entry holds its bounds and the states of every
** aggregate. Tumbling and hopping windows end on a grid, so the windows
** of all keys that end together are one list, and the lists are kept in
** order of their end (close lists); session windows end anywhere and grow,
** so a radix heap on window end finds them (a session that grows is
** queued again at its new end only when its old end comes up). Hopping
** windows ON WINDOW CLOSE are kept as panes (see "panes" below). When a
** window closes its final row is emitted (ON WINDOW CLOSE) or its last
** change published (CHANGES), and its memory freed, so state is bounded by
** the watermark (DESIGN §2 rule 6).
**
** Event time (DESIGN §2 rules 2-4): the watermark W = max(event time) -
** delay, starting at -inf and never going back. Each event is checked
** against W as it stood before that event, then W advances. An event whose
** window (or, for sessions, whose own window [t, t + gap)) has end <= W is
** late for it: it is not counted there, and an event late for at least one
** window is reported once. Because W moves per event and windows are
** judged by W alone (not by whether their state was freed yet), results do
** not depend on batch boundaries.
**
** Processing a batch: key and argument expressions are evaluated for the
** whole batch (vectorised), rows are assigned to (window, key) entries, and
** each aggregate's step runs once over all assignments.
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "engine/error.h"
#include "engine/op.h"
#include "engine/plan.h"
#include "engine/expr.h"
#include "engine/agg.h"
#include "engine/watermark.h"
#include "engine/checkpoint.h"

typedef struct entry entry;
typedef struct keyslot keyslot;

struct keyslot {
    sl_value *keys;        /* ngroup values; text owned (malloc'd) */
    entry *windows;        /* open windows of this key; NULL: an empty
                              slot kept for reuse (see slots_sweep) */
};

/* An open (window, key): 32 bytes common to every query, then a tail laid
** out per query (offsets in agg_op), then the aggregate states:
**   sessions:            we                      (8 bytes)
**   EMIT CHANGES:        dirty_idx               (4 bytes)
**   sessions + CHANGES:  emitted_ws, emitted_we  (16 bytes)
** Tumbling and hopping windows derive their end from ws and live in the
** chunks of their end's close list (see close_list), closed and freed with
** it, so they need no link and no item in the session queue. */
struct entry {
    keyslot *slot;
    entry *next;           /* in slot->windows */
    int64_t ws;            /* window start (0 without a window) */
    uint64_t id : 56;      /* its row in sluice_state */
    uint64_t ckpt_dirty : 1; /* changed since the last checkpoint */
    uint64_t saved : 1;    /* has a row in sluice_state */
    uint64_t emitted : 1;  /* a row for this entry is in the output */
    uint64_t dirty : 1;    /* changed since last published */
    uint64_t dead : 1;     /* merged away or closed; freed when popped */
    uint64_t queued : 1;   /* a session with an item in the radix heap */
    uint64_t in_list : 1;  /* lives in a close list's chunks, not a pool */
};

/* Fixed-size blocks carved from 64 KiB chunks; released blocks are reused
** first. One pool for entries, one for key slots. */
typedef struct pool {
    size_t bytes;          /* block size, a multiple of 8 */
    void *free;            /* released blocks, linked through their start */
    void *chunks;          /* allocated chunks, linked through their start */
    size_t chunk_bytes;    /* their total size */
    char *cur, *end;       /* unused part of the newest chunk */
} pool;

typedef struct tbucket {
    uint64_t hash;
    keyslot *ks;           /* NULL: an empty bucket */
} tbucket;

typedef struct heap_item {
    uint64_t key;          /* the window end, order-preserving unsigned */
    entry *e;
} heap_item;

/* One bucket of the radix heap: a growable array. */
typedef struct rbucket {
    heap_item *v;
    size_t n, cap;
} rbucket;

#define RHEAP_BUCKETS 65

/* The tumbling or hopping windows (of every key) that end at `end` are
** allocated in their list's own chunks, in the order they opened: closing
** walks them in memory order and frees the chunks whole, so an entry needs
** no list link (8 bytes of every open window). A chunk's LCHUNK entries
** follow its header; freed chunks are kept for the next lists. */
#define LCHUNK 128

typedef struct lchunk {
    struct lchunk *next;
    size_t n;              /* entries made in it */
} lchunk;

typedef struct close_list {
    int64_t end;
    lchunk *head, *tail;
} close_list;

typedef struct agg_op {
    sl_operator base;
    const sl_plan *p;
    int ngroup, nagg;
    sl_window_kind wkind;
    int64_t size_ms, advance_ms, gap_ms;
    int event_col;
    int emit_final;        /* ON WINDOW CLOSE */
    int64_t every_ms;
    int64_t last_publish_ms;

    sl_cexpr **key_ce;
    sl_cexpr **arg_ce;     /* NULL for COUNT(*) */
    sl_column *key_cols, *arg_cols;
    size_t *state_off;     /* from the start of the states */

    /* group key -> key slot, open addressing, linear probing; each bucket
    ** holds the key's hash next to the slot pointer, so probing past other
    ** keys compares hashes in the table instead of following pointers */
    tbucket *table;
    size_t table_cap, table_n;

    /* sessions: a radix heap of window ends. Bucket 0 holds ends equal to
    ** rheap_last, bucket b > 0 ends whose highest bit differing from
    ** rheap_last is bit b - 1; rheap_last is the watermark of the last
    ** close (every end queued is above it). */
    rbucket rheap[RHEAP_BUCKETS];
    uint64_t rheap_last;
    size_t rheap_n;
    rbucket due, due_tmp;  /* the items a close takes, and sort space */
    close_list *lists;     /* tumbling, hopping: lists[first .. first + nlists),
                              ascending end */
    size_t lists_first, nlists, lists_cap;
    lchunk *lfree;         /* chunks of closed lists, for reuse */
    size_t list_bytes;     /* every chunk allocated */

    entry **dirty;         /* entries with dirty = 1 */
    size_t ndirty, dirty_cap;

    uint64_t *hashes;      /* the current batch's row hashes */
    int hashes_cap;

    /* assignments of the current batch */
    int *arows;
    char **astates;
    size_t nassign, assign_cap;

    sl_batch *group_rows;  /* group-row layout, for emission */
    sl_batch *retracts;    /* keys to delete, group-row layout prefix */
    sl_batch *out;         /* output layout */
    sl_cexpr *having;
    sl_cexpr **out_ce;
    int nout;

    sl_watermark wmk;      /* the source's watermark, as this query sees it */
    int64_t open_groups, peak_groups;
    pool entries, slots;
    size_t nempty;         /* key slots without windows, kept for reuse */
    /* the entry tail (see struct entry): byte offsets, 0 when absent */
    size_t off_we, off_didx, off_ews;
    size_t state_base;     /* where the aggregate states start */
    uint8_t *dup;          /* dup[i]: aggregate i shares an earlier state */
    int64_t next_id;       /* entry ids; 0 is the operator's metadata */
    int64_t *deleted;      /* saved entries gone since the last checkpoint */
    size_t ndeleted, deleted_cap;
    sl_buf ckpt_buf;
    entry **closing;
    size_t nclosing, closing_cap;
    /* hopping windows ON WINDOW CLOSE kept as panes (see pane_close) */
    int panes;
    int64_t pane_next;     /* the first window start not closed yet */
    int64_t pane_due;      /* a window ends here or later: check at W >= it */
    /* a window Top-N (QUALIFY): each entry's sl_topn pointer at topn_off */
    const sl_plan_topn *topn;
    size_t topn_off;       /* from the start of the states */
    sl_cexpr *topn_ce;     /* the ORDER BY value */
    int64_t topn_bytes, topn_peak;  /* held by the kept rows: now, at most */
    uint64_t topn_seq;     /* arrival of the current batch's first row */
    sl_column *topn_cols;  /* [order value, kept input columns...] */
    /* QUALIFY over groups: each window's group rows are ranked at close */
    const sl_plan_topn *grank;
    sl_cexpr *grank_order;
    sl_cexpr **grank_part;
    sl_column *grank_cols; /* their values over the group rows */
    uint8_t *pass;         /* per group row: emitted (HAVING, rank) */
    int *ranked;           /* sort space: group rows passing HAVING */
    size_t pass_cap;
    int agg_col0;          /* the first aggregate's group-row column */
} agg_op;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- hashing group keys --------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 32);
}

static uint64_t load64(const char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

static uint64_t load32(const char *p)
{
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* A text key's hash, eight bytes a step (the last eight, or two
** overlapping four, read whole): a byte-at-a-time FNV-1a was a chain of
** one multiply per byte, 5 % of B2. Equal texts hash equal; collisions
** are settled by key_equal. */
static uint64_t hash_text(const char *z, size_t n)
{
    const uint64_t m = 0xc4ceb9fe1a85ec53ULL;
    uint64_t h = (uint64_t)n * 0x9e3779b97f4a7c15ULL, w;
    if (n >= 8) {
        const char *last = z + n - 8;
        for (; z < last; z += 8) {
            h = (h ^ load64(z)) * m;
            h ^= h >> 29;
        }
        w = load64(last);
    } else if (n >= 4) {
        w = load32(z) | load32(z + n - 4) << 32;
    } else if (n > 0) {
        w = (uint64_t)(unsigned char)z[0] |
            (uint64_t)(unsigned char)z[n / 2] << 8 |
            (uint64_t)(unsigned char)z[n - 1] << 16;
    } else {
        w = 0;
    }
    h = (h ^ w) * m;
    return h ^ (h >> 32);
}

static inline uint64_t hash_row(const agg_op *a, int r)
{
    uint64_t h = 0x12345678;
    for (int k = 0; k < a->ngroup; k++) {
        const sl_column *c = &a->key_cols[k];
        if (c->null[r]) {
            h = mix(h, 0xdeadbeef);
            continue;
        }
        switch (c->type) {
        case SL_TEXT: {
            sl_str s = c->v.s[r];
            h = mix(h, hash_text(s.z, (size_t)s.n));
            break;
        }
        case SL_DOUBLE: {
            double d = c->v.d[r];
            uint64_t bits;
            if (d == 0)
                d = 0;
            memcpy(&bits, &d, sizeof bits);
            h = mix(h, bits);
            break;
        }
        default:
            h = mix(h, (uint64_t)c->v.i[r]);
            break;
        }
    }
    return h;
}

/* Whether x and y (n bytes each) are equal: keys of 8 to 16 bytes, the
** common case, as two overlapping 8-byte loads instead of a memcmp call. */
static inline int text_equal(const char *x, const char *y, size_t n)
{
    if (n >= 8 && n <= 16)
        return load64(x) == load64(y) &&
               load64(x + n - 8) == load64(y + n - 8);
    return memcmp(x, y, n) == 0;
}

static int key_equal(const agg_op *a, const keyslot *ks, int r)
{
    for (int k = 0; k < a->ngroup; k++) {
        const sl_column *c = &a->key_cols[k];
        const sl_value *v = &ks->keys[k];
        if (c->null[r] || v->is_null) {
            if (c->null[r] != v->is_null)
                return 0;
            continue;
        }
        switch (c->type) {
        case SL_TEXT:
            if (c->v.s[r].n != v->u.s.n ||
                !text_equal(c->v.s[r].z, v->u.s.z, (size_t)v->u.s.n))
                return 0;
            break;
        case SL_DOUBLE:
            if (c->v.d[r] != v->u.d)
                return 0;
            break;
        default:
            if (c->v.i[r] != v->u.i)
                return 0;
            break;
        }
    }
    return 1;
}

static void table_grow(agg_op *a)
{
    size_t oldcap = a->table_cap;
    tbucket *old = a->table;
    a->table_cap = oldcap ? oldcap * 2 : 1024;
    a->table = sl_xcalloc(a->table_cap, sizeof *a->table);
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].ks == NULL)
            continue;
        size_t j = old[i].hash & (a->table_cap - 1);
        while (a->table[j].ks)
            j = (j + 1) & (a->table_cap - 1);
        a->table[j] = old[i];
    }
    free(old);
}

/* ---- memory: entries and key slots come from per-operator pools -------
** (every entry of an operator has one size, every key slot another), so a
** steady stream of windows opening and closing does not call malloc, and a
** block costs its bytes only (no allocator header). A key slot holds its
** key values and, inline, text keys shorter than KEY_INLINE bytes. */

#define KEY_INLINE 24
#define POOL_CHUNK 65536

static void *pool_alloc(pool *p)
{
    void *b = p->free;
    if (b != NULL) {
        p->free = *(void **)b;
        return b;
    }
    if ((size_t)(p->end - p->cur) < p->bytes) {
        size_t n = p->bytes + 8 > POOL_CHUNK ? p->bytes + 8 : POOL_CHUNK;
        char *c = sl_xmalloc(n);
        p->chunk_bytes += n;
        *(void **)c = p->chunks;
        p->chunks = c;
        p->cur = c + 8;
        p->end = c + n;
    }
    b = p->cur;
    p->cur += p->bytes;
    return b;
}

static void pool_release(pool *p, void *b)
{
    *(void **)b = p->free;
    p->free = b;
}

static void pool_destroy(pool *p)
{
    while (p->chunks != NULL) {
        void *next = *(void **)p->chunks;
        free(p->chunks);
        p->chunks = next;
    }
    p->free = NULL;
    p->cur = p->end = NULL;
    p->chunk_bytes = 0;
}

static keyslot *slot_alloc(agg_op *a)
{
    keyslot *ks = pool_alloc(&a->slots);
    memset(ks, 0, a->slots.bytes);
    ks->keys = (sl_value *)(ks + 1);
    return ks;
}

static char *slot_inline(agg_op *a, keyslot *ks, int k)
{
    return (char *)(ks->keys + a->ngroup) + (size_t)k * KEY_INLINE;
}

static void slot_release(agg_op *a, keyslot *ks)
{
    for (int k = 0; k < a->ngroup; k++) {
        const sl_value *v = &ks->keys[k];
        if (v->type == SL_TEXT && !v->is_null && v->u.s.z != slot_inline(a, ks, k))
            free((char *)v->u.s.z);
    }
    pool_release(&a->slots, ks);
}

/* the tail fields of an entry (see struct entry) */
#define TAIL(a, e, off, T) ((T *)((char *)(e) + (a)->off))

static char *entry_state(const agg_op *a, const entry *e)
{
    return (char *)e + a->state_base;
}

static int64_t entry_we(const agg_op *a, const entry *e)
{
    if (a->wkind == SL_WIN_SESSION)
        return *TAIL(a, e, off_we, int64_t);
    if (a->wkind == SL_WIN_NONE)
        return 0;
    return sl_sat_add(e->ws, a->size_ms);
}

/* the bounds last published for e (they move only for sessions) */
static void entry_emitted(const agg_op *a, const entry *e, int64_t *ws,
                          int64_t *we)
{
    if (a->off_ews) {
        *ws = TAIL(a, e, off_ews, int64_t)[0];
        *we = TAIL(a, e, off_ews, int64_t)[1];
    } else {
        *ws = e->ws;
        *we = entry_we(a, e);
    }
}

static entry *entry_alloc(agg_op *a)
{
    entry *e = pool_alloc(&a->entries);
    memset(e, 0, a->entries.bytes);
    return e;
}

static void entry_release(agg_op *a, entry *e)
{
    if (!e->in_list)            /* else freed with its list */
        pool_release(&a->entries, e);
}

static keyslot *slot_find(agg_op *a, int r, uint64_t h, int create)
{
    if ((a->table_n + 1) * 2 > a->table_cap)
        table_grow(a);
    size_t j = h & (a->table_cap - 1);
    while (a->table[j].ks) {
        if (a->table[j].hash == h && key_equal(a, a->table[j].ks, r))
            return a->table[j].ks;
        j = (j + 1) & (a->table_cap - 1);
    }
    if (!create)
        return NULL;
    keyslot *ks = slot_alloc(a);
    for (int k = 0; k < a->ngroup; k++) {
        const sl_column *c = &a->key_cols[k];
        sl_value *v = &ks->keys[k];
        v->type = c->type;
        v->is_null = c->null[r] != 0;
        if (v->is_null)
            continue;
        if (c->type == SL_TEXT) {
            sl_str s = c->v.s[r];
            char *z = s.n < KEY_INLINE ? slot_inline(a, ks, k)
                                       : malloc((size_t)s.n + 1);
            if (z == NULL)
                abort();
            memcpy(z, s.z, (size_t)s.n);
            z[s.n] = 0;
            v->u.s.z = z;
            v->u.s.n = s.n;
        } else if (c->type == SL_DOUBLE) {
            v->u.d = c->v.d[r];
        } else {
            v->u.i = c->v.i[r];
        }
    }
    a->table[j] = (tbucket){h, ks};
    a->table_n++;
    a->nempty++;           /* until its first window, made at once */
    return ks;
}

/* Frees the key slots left without windows once they outnumber twice the
** live ones (plus some slack): a key that comes back soon (a user's next
** session, a store's next minute) finds its slot, key copy and hash place
** still there, and memory stays within three times the live key slots. */
static void slots_sweep(agg_op *a)
{
    if (a->nempty <= 2 * (a->table_n - a->nempty) + 1024)
        return;
    tbucket *old = a->table;
    size_t cap = a->table_cap;
    a->table = sl_xcalloc(cap, sizeof *a->table);
    for (size_t i = 0; i < cap; i++) {
        keyslot *ks = old[i].ks;
        if (ks == NULL)
            continue;
        if (ks->windows == NULL) {
            slot_release(a, ks);
            a->table_n--;
            continue;
        }
        size_t j = old[i].hash & (cap - 1);
        while (a->table[j].ks)
            j = (j + 1) & (cap - 1);
        a->table[j] = old[i];
    }
    a->nempty = 0;
    free(old);
}

/* ---- entries and the heap ---------------------------------------------- */

/* Appends e to the windows being closed. */
static void closing_add(agg_op *a, entry *e)
{
    if (a->nclosing == a->closing_cap) {
        a->closing_cap = a->closing_cap ? a->closing_cap * 2 : 1024;
        a->closing = sl_xrealloc(a->closing, sizeof *a->closing * a->closing_cap);
    }
    a->closing[a->nclosing++] = e;
}

/* The session queue is a radix heap (Ahuja, Mehlhorn, Orlin and Tarjan):
** window ends only ever come out at or below the watermark and go in
** above it, so a queued end is bucketed by the highest bit in which it
** differs from the last watermark, and taking every end <= W empties the
** buckets below W's and re-buckets the one W falls in. Each item moves a
** few times, along arrays, where a binary heap's pop was a cache miss per
** level (about 10 % of B4 with ~30,000 open sessions). */
static uint64_t rheap_key(int64_t t)
{
    return (uint64_t)t ^ ((uint64_t)1 << 63);
}

static int rheap_bucket(uint64_t last, uint64_t key)
{
    uint64_t x = key ^ last;
    return x ? 64 - __builtin_clzll(x) : 0;
}

static void rbucket_add(rbucket *k, heap_item it)
{
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 256;
        k->v = sl_xrealloc(k->v, sizeof *k->v * k->cap);
    }
    k->v[k->n++] = it;
}

static void rheap_add(agg_op *a, int b, heap_item it)
{
    rbucket_add(&a->rheap[b], it);
}

/* Sorts a->due by key (stable LSD radix sort, 11 bits a pass over the
** span of the keys: two passes for a few seconds of window ends), so that
** sessions close in order of their ends: rows reach the output in order,
** and a view's writer, which sorts by key, finds them nearly sorted. */
static void due_sort(agg_op *a)
{
    rbucket *d = &a->due;
    if (d->n < 2)
        return;
    uint64_t lo = d->v[0].key, hi = lo;
    for (size_t i = 1; i < d->n; i++) {
        if (d->v[i].key < lo)
            lo = d->v[i].key;
        if (d->v[i].key > hi)
            hi = d->v[i].key;
    }
    if (a->due_tmp.cap < d->n) {
        a->due_tmp.cap = d->cap;
        a->due_tmp.v = sl_xrealloc(a->due_tmp.v, sizeof *d->v * d->cap);
    }
    heap_item *src = d->v, *dst = a->due_tmp.v;
    for (int shift = 0; shift < 64 && ((hi - lo) >> shift) != 0; shift += 11) {
        size_t count[2048 + 1];
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < d->n; i++)
            count[(((src[i].key - lo) >> shift) & 2047) + 1]++;
        for (int b = 0; b < 2048; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < d->n; i++)
            dst[count[((src[i].key - lo) >> shift) & 2047]++] = src[i];
        heap_item *t = src;
        src = dst;
        dst = t;
    }
    if (src != d->v) {         /* the sorted keys are in the spare array */
        a->due_tmp.v = d->v;
        d->v = src;
        size_t c = a->due_tmp.cap;
        a->due_tmp.cap = d->cap;
        d->cap = c;
    }
}

/* Queues session e at its end (e is not queued). */
static void heap_push(agg_op *a, entry *e)
{
    heap_item it = {rheap_key(entry_we(a, e)), e};
    rheap_add(a, rheap_bucket(a->rheap_last, it.key), it);
    a->rheap_n++;
    e->queued = 1;
}

/* Appends to a->closing every queued session whose queued end is <= W
** (still queued: the caller clears `queued` when it looks at them). */
static void heap_take_due(agg_op *a, int64_t wm)
{
    uint64_t w = rheap_key(wm);
    if (w < a->rheap_last)
        return;
    if (a->rheap_n == 0) {
        a->rheap_last = w;
        return;
    }
    int top = rheap_bucket(a->rheap_last, w);
    a->due.n = 0;
    for (int b = 0; b < top; b++) {     /* wholly below W */
        rbucket *k = &a->rheap[b];
        for (size_t i = 0; i < k->n; i++)
            rbucket_add(&a->due, k->v[i]);
        a->rheap_n -= k->n;
        k->n = 0;
    }
    /* W's own bucket: due, or re-bucketed against W (always below top) */
    rbucket *k = &a->rheap[top];
    size_t n = k->n;
    k->n = 0;
    for (size_t i = 0; i < n; i++) {
        heap_item it = k->v[i];
        if (it.key <= w) {
            rbucket_add(&a->due, it);
            a->rheap_n--;
        } else {
            rheap_add(a, rheap_bucket(w, it.key), it);
        }
    }
    a->rheap_last = w;
    due_sort(a);
    for (size_t i = 0; i < a->due.n; i++)
        closing_add(a, a->due.v[i].e);
}

/* the i-th entry of chunk c */
static entry *lchunk_entry(const agg_op *a, lchunk *c, size_t i)
{
    return (entry *)((char *)(c + 1) + (size_t)i * a->entries.bytes);
}

/* Every entry of list l still linked to its key, in the order they opened:
** for (entry *e = list_first(a, l, &it); e; e = list_next(a, &it)) */
typedef struct list_iter {
    lchunk *c;
    size_t i;
} list_iter;

static entry *list_next(const agg_op *a, list_iter *it)
{
    for (; it->c != NULL; it->c = it->c->next, it->i = 0)
        while (it->i < it->c->n) {
            entry *e = lchunk_entry(a, it->c, it->i++);
            if (!e->dead)
                return e;
        }
    return NULL;
}

static entry *list_first(const agg_op *a, const close_list *l, list_iter *it)
{
    *it = (list_iter){l->head, 0};
    return list_next(a, it);
}

/* Frees list l's chunks: its entries are unlinked and off every list that
** pointed at them (closing, dirty). */
static void list_free(agg_op *a, close_list *l)
{
    if (l->tail != NULL) {
        l->tail->next = a->lfree;
        a->lfree = l->head;
    }
    l->head = l->tail = NULL;
}

/* The first of the n lists l (ascending end) whose end is >= end, or n. */
static size_t lists_lower_bound(const close_list *l, size_t n, int64_t end)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (l[mid].end < end)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The close list of windows ending at `end`, made when it is new: nearly
** always the newest end, so found at once; an end between others is found
** by binary search. */
static close_list *close_list_of(agg_op *a, int64_t end)
{
    close_list *l = a->lists + a->lists_first;
    size_t n = a->nlists, k = n;
    if (n == 0 || l[n - 1].end < end) {
        k = n;                      /* a new newest end */
    } else if (l[n - 1].end == end) {
        return &l[n - 1];
    } else {
        k = lists_lower_bound(l, n, end);
        if (k < n && l[k].end == end)
            return &l[k];
    }
    if (a->lists_first + n == a->lists_cap) {
        if (a->lists_first > 0) {   /* reuse the room of closed lists */
            memmove(a->lists, l, sizeof *l * n);
            a->lists_first = 0;
        } else {
            a->lists_cap = a->lists_cap ? a->lists_cap * 2 : 64;
            a->lists = sl_xrealloc(a->lists, sizeof *a->lists * a->lists_cap);
        }
        l = a->lists + a->lists_first;
    }
    memmove(l + k + 1, l + k, sizeof *l * (n - k));
    l[k] = (close_list){end, NULL, NULL};
    a->nlists++;
    return &l[k];
}

/* A new zeroed entry (tumbling or hopping) in the chunks of the close list
** of its end: a list leaves fewer than LCHUNK entries' room unused. */
static entry *list_entry_alloc(agg_op *a, int64_t end)
{
    close_list *l = close_list_of(a, end);
    lchunk *c = l->tail;
    if (c == NULL || c->n == LCHUNK) {
        if (a->lfree != NULL) {
            c = a->lfree;
            a->lfree = c->next;
        } else {
            size_t bytes = sizeof *c + LCHUNK * a->entries.bytes;
            c = sl_xmalloc(bytes);
            a->list_bytes += bytes;
        }
        c->next = NULL;
        c->n = 0;
        if (l->tail != NULL)
            l->tail->next = c;
        else
            l->head = c;
        l->tail = c;
    }
    entry *e = lchunk_entry(a, c, c->n++);
    memset(e, 0, a->entries.bytes);
    e->in_list = 1;
    return e;
}

/* Calls init (or destroy) of every aggregate state of e; aggregates that
** share an earlier one's state (dup) are skipped. */
static sl_topn **entry_topn(const agg_op *a, const entry *e)
{
    return (sl_topn **)(entry_state(a, e) + a->topn_off);
}

static void topn_peak(agg_op *a)
{
    if (a->topn_bytes > a->topn_peak)
        a->topn_peak = a->topn_bytes;
}

static void entry_init_states(agg_op *a, entry *e)
{
    for (int i = 0; i < a->nagg; i++)
        if (!a->dup[i])
            a->p->aggs[i].fn->init(entry_state(a, e) + a->state_off[i]);
    if (a->topn)
        *entry_topn(a, e) = NULL;
}

static void entry_destroy_states(agg_op *a, entry *e)
{
    for (int i = 0; i < a->nagg; i++)
        if (!a->dup[i] && a->p->aggs[i].fn->destroy)
            a->p->aggs[i].fn->destroy(entry_state(a, e) + a->state_off[i]);
    if (a->topn) {
        a->topn_bytes -= (int64_t)sl_topn_bytes(&a->topn->spec,
                                                *entry_topn(a, e));
        sl_topn_free(*entry_topn(a, e));
        *entry_topn(a, e) = NULL;
    }
}

/* Folds every aggregate state of src into dst's (src stays as it is). */
static void entry_merge_states(agg_op *a, entry *dst, const entry *src)
{
    char *d = entry_state(a, dst);
    const char *s = entry_state(a, src);
    for (int i = 0; i < a->nagg; i++)
        if (!a->dup[i])
            a->p->aggs[i].fn->merge(d + a->state_off[i], s + a->state_off[i]);
    if (a->topn) {
        sl_topn_merge(&a->topn->spec, entry_topn(a, dst), *entry_topn(a, src),
                      &a->topn_bytes);
        topn_peak(a);
    }
}

static entry *entry_new(agg_op *a, keyslot *ks, int64_t ws, int64_t we)
{
    int listed = a->wkind == SL_WIN_TUMBLING || a->wkind == SL_WIN_HOPPING;
    entry *e = listed ? list_entry_alloc(a, sl_sat_add(ws, a->size_ms))
                      : entry_alloc(a);
    e->slot = ks;
    e->ws = ws;
    if (a->off_we)
        *TAIL(a, e, off_we, int64_t) = we;
    e->id = (uint64_t)++a->next_id;
    e->ckpt_dirty = 1;
    entry_init_states(a, e);
    if (ks->windows == NULL)
        a->nempty--;
    /* tumbling and hopping windows of a key are kept newest first (the
    ** assignment walk relies on it); a new window is nearly always the
    ** newest, so this is O(1) in practice */
    entry **pp = &ks->windows;
    if (a->wkind == SL_WIN_TUMBLING || a->wkind == SL_WIN_HOPPING)
        while (*pp != NULL && (*pp)->ws > ws)
            pp = &(*pp)->next;
    e->next = *pp;
    *pp = e;
    if (a->wkind == SL_WIN_SESSION)
        heap_push(a, e);
    if (++a->open_groups > a->peak_groups)
        a->peak_groups = a->open_groups;
    return e;
}

/* Unlinks e from its key slot (an emptied slot stays for reuse until
** slots_sweep) and marks it dead; it is freed now, or, while the session
** heap or the list of changed windows still holds it, when they let go. */
static void entry_unlink(agg_op *a, entry *e)
{
    keyslot *ks = e->slot;
    entry **pp = &ks->windows;
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    if (e->saved) {
        if (a->ndeleted == a->deleted_cap) {
            a->deleted_cap = a->deleted_cap ? a->deleted_cap * 2 : 256;
            a->deleted = sl_xrealloc(a->deleted, sizeof *a->deleted * a->deleted_cap);
        }
        a->deleted[a->ndeleted++] = (int64_t)e->id;
    }
    e->dead = 1;
    e->slot = NULL;
    entry_destroy_states(a, e);
    a->open_groups--;
    if (ks->windows == NULL)
        a->nempty++;
    if (!e->queued && !e->dirty)
        entry_release(a, e);
}

/* the place of e in the dirty list (EMIT CHANGES only) */
static uint32_t *dirty_idx(agg_op *a, entry *e)
{
    return TAIL(a, e, off_didx, uint32_t);
}

static void mark_dirty(agg_op *a, entry *e)
{
    if (e->dirty)
        return;
    e->dirty = 1;
    if (a->ndirty == a->dirty_cap) {
        a->dirty_cap = a->dirty_cap ? a->dirty_cap * 2 : 1024;
        a->dirty = sl_xrealloc(a->dirty, sizeof *a->dirty * a->dirty_cap);
    }
    *dirty_idx(a, e) = (uint32_t)a->ndirty;
    a->dirty[a->ndirty++] = e;
}

/* Takes e off the dirty list (its last change is published or moot), so
** it can be freed at once: closed windows do not wait for the next commit
** point, and memory stays bounded by the watermark. */
static void unmark_dirty(agg_op *a, entry *e)
{
    if (!e->dirty)
        return;
    entry *last = a->dirty[--a->ndirty];
    a->dirty[*dirty_idx(a, e)] = last;
    *dirty_idx(a, last) = *dirty_idx(a, e);
    e->dirty = 0;
}

static void assign(agg_op *a, int r, entry *e)
{
    if (a->nassign == a->assign_cap) {
        a->assign_cap = a->assign_cap ? a->assign_cap * 2 : 4096;
        a->arows = sl_xrealloc(a->arows, sizeof *a->arows * a->assign_cap);
        a->astates = sl_xrealloc(a->astates, sizeof *a->astates * a->assign_cap);
    }
    a->arows[a->nassign] = r;
    a->astates[a->nassign] = entry_state(a, e);
    a->nassign++;
    e->ckpt_dirty = 1;
    if (!a->emit_final)
        mark_dirty(a, e);
}

/* Runs every aggregate's step over the pending assignments. */
static void step_assignments(agg_op *a)
{
    if (a->nassign == 0)
        return;
    for (int i = 0; i < a->nagg; i++)
        if (!a->dup[i])
            a->p->aggs[i].fn->step(a->astates, a->state_off[i],
                                   a->arg_ce[i] ? &a->arg_cols[i] : NULL,
                                   a->arows, (int)a->nassign);
    if (a->topn) {
        sl_topn_step(&a->topn->spec, a->astates, a->topn_off, a->topn_cols,
                     a->arows, (int)a->nassign, a->topn_seq, &a->topn_bytes);
        topn_peak(a);
    }
    a->nassign = 0;
}

/* ---- emission --------------------------------------------------------- */

/* Appends a row to b holding the key of ks and the window [ws, we): the
** first columns of the group-row layout. Returns the row. */
static int key_row(agg_op *a, sl_batch *b, const keyslot *ks, int64_t ws,
                   int64_t we)
{
    int r = sl_batch_add_row(b);
    for (int k = 0; k < a->ngroup; k++) {
        const sl_value *v = &ks->keys[k];
        if (v->is_null)
            continue;
        if (v->type == SL_TEXT)
            sl_batch_set_text(b, r, k, v->u.s.z, (size_t)v->u.s.n);
        else if (v->type == SL_DOUBLE)
            sl_batch_set_double(b, r, k, v->u.d);
        else
            sl_batch_set_int(b, r, k, v->u.i);
    }
    if (a->wkind != SL_WIN_NONE) {
        sl_batch_set_int(b, r, a->ngroup, ws);
        sl_batch_set_int(b, r, a->ngroup + 1, we);
    }
    return r;
}

/* Appends e's group row (keys, window bounds, final aggregates) to b; for
** a window Top-N, one row per kept row (keys, bounds, rank, its values). */
static void group_row(agg_op *a, sl_batch *b, const entry *e)
{
    if (a->topn) {
        const sl_topn *t = *entry_topn(a, e);
        int64_t rank = 0;
        for (uint32_t i = 0; i < sl_topn_count(t); i++) {
            int r = key_row(a, b, e->slot, e->ws, entry_we(a, e));
            rank = sl_topn_rank(&a->topn->spec, t, i, rank);
            sl_batch_set_int(b, r, a->ngroup + 2, rank);
            sl_topn_fill(&a->topn->spec, t, i, b, r, a->ngroup + 3);
        }
        return;
    }
    int r = key_row(a, b, e->slot, e->ws, entry_we(a, e));
    const char *st = entry_state(a, e);
    for (int i = 0; i < a->nagg; i++)
        a->p->aggs[i].fn->final(st + a->state_off[i], b, r, a->agg_col0 + i);
}

/* Queues the retraction of the row published for ks and [ws, we). */
static void retract_key(agg_op *a, const keyslot *ks, int64_t ws, int64_t we)
{
    key_row(a, a->retracts, ks, ws, we);
}

static int send_retracts(agg_op *a, sl_error *err)
{
    if (a->retracts->nrows == 0)
        return 0;
    int rc = a->base.ctx.retract(a->base.ctx.q, a->retracts, err);
    sl_batch_reset(a->retracts);
    return rc;
}

/* The group rows being ranked by QUALIFY over groups, for qsort_r. */
typedef struct grank_ctx {
    const agg_op *a;
    const sl_column *ws, *we, *order, *part;
    int npart;
} grank_ctx;

/* <0, 0, >0: x's partition (window bounds, PARTITION BY values; NULLs
** equal) before, with or after y's. */
static int part_cmp(const grank_ctx *c, int x, int y)
{
    int64_t d = c->ws->v.i[x] - c->ws->v.i[y];
    if (d == 0)
        d = c->we->v.i[x] - c->we->v.i[y];
    if (d != 0)
        return d < 0 ? -1 : 1;
    for (int j = 0; j < c->npart; j++) {
        const sl_column *p = &c->part[j];
        int xn = p->null[x] != 0, yn = p->null[y] != 0, r;
        if (xn || yn) {
            r = xn - yn;
        } else if (p->type == SL_TEXT) {
            sl_str a = p->v.s[x], b = p->v.s[y];
            r = memcmp(a.z, b.z, (size_t)(a.n < b.n ? a.n : b.n));
            if (r == 0)
                r = (a.n > b.n) - (a.n < b.n);
        } else if (p->type == SL_DOUBLE) {
            double a = p->v.d[x], b = p->v.d[y];
            r = (a > b) - (a < b);
        } else {
            r = (p->v.i[x] > p->v.i[y]) - (p->v.i[x] < p->v.i[y]);
        }
        if (r != 0)
            return r;
    }
    return 0;
}

/* <0, 0, >0: x ranks before, with or after y. */
static int order_cmp(const grank_ctx *c, int x, int y)
{
    const sl_column *o = c->order;
    int dbl = o->type == SL_DOUBLE;
    return sl_topn_cmp(&c->a->grank->spec, o->null[x] != 0,
                       dbl ? 0 : o->v.i[x], dbl ? o->v.d[x] : 0,
                       o->null[y] != 0, dbl ? 0 : o->v.i[y],
                       dbl ? o->v.d[y] : 0);
}

static int grank_cmp(const void *px, const void *py, void *ctx)
{
    const grank_ctx *c = ctx;
    int x = *(const int *)px, y = *(const int *)py;
    int r = part_cmp(c, x, y);
    if (r == 0)
        r = order_cmp(c, x, y);
    return r != 0 ? r : (x > y) - (x < y);    /* ties: closing order */
}

/* QUALIFY over groups: ranks the group rows that pass (pass[k]) within
** their window and partition, writes each one's rank into its row and
** clears pass[] for the rows ranked past n. */
static void grank_rows(agg_op *a, uint8_t *pass)
{
    sl_batch *g = a->group_rows;
    const sl_topn_spec *sp = &a->grank->spec;
    int npart = a->grank->npart;
    sl_column order, *part = a->grank_cols;
    for (int j = 0; j < npart; j++)
        sl_cexpr_eval(a->grank_part[j], g, &part[j]);
    sl_cexpr_eval(a->grank_order, g, &order);
    grank_ctx c = {a, &g->cols[a->ngroup], &g->cols[a->ngroup + 1], &order,
                   part, npart};
    int m = 0;
    for (int k = 0; k < g->nrows; k++)
        if (pass[k])
            a->ranked[m++] = k;
    qsort_r(a->ranked, (size_t)m, sizeof *a->ranked, grank_cmp, &c);
    int64_t rank = 0, pos = 0;
    for (int i = 0; i < m; i++) {
        int k = a->ranked[i];
        if (i == 0 || part_cmp(&c, a->ranked[i - 1], k) != 0) {
            pos = 1;
            rank = 1;
        } else {
            pos++;
            if (sp->kind == SL_RANK_ROW_NUMBER ||
                order_cmp(&c, a->ranked[i - 1], k) != 0)
                rank = sp->kind == SL_RANK_DENSE ? rank + 1 : pos;
        }
        sl_batch_set_int(g, k, a->ngroup + 2, rank);
        if (rank > sp->n)
            pass[k] = 0;
    }
}

/* Publishes entries[0..n): applies HAVING (and QUALIFY over groups),
** evaluates the select list and writes the rows; under CHANGES also
** retracts rows that HAVING now rejects and rows whose window bounds moved
** (sessions). */
static int publish(agg_op *a, entry **entries, size_t n, sl_error *err)
{
    size_t i = 0;
    while (i < n) {
        /* QUALIFY ranks a window's groups together: one chunk */
        size_t chunk = n - i > 4096 && !a->grank ? 4096 : n - i;
        sl_batch_reset(a->group_rows);
        for (size_t k = 0; k < chunk; k++) {
            if (k + 8 < chunk)      /* the key slot, a cache miss apart */
                __builtin_prefetch(entries[i + k + 8]->slot);
            group_row(a, a->group_rows, entries[i + k]);
        }
        sl_column hv;
        if (a->having)
            sl_cexpr_eval(a->having, a->group_rows, &hv);
        /* pass[k]: group row k is emitted (NULL: all are) */
        uint8_t *pass = NULL;
        size_t ngr = (size_t)a->group_rows->nrows;
        if (a->having || a->grank) {
            if (ngr > a->pass_cap) {
                a->pass_cap = ngr;
                a->pass = sl_xrealloc(a->pass, ngr);
                a->ranked = sl_xrealloc(a->ranked, sizeof *a->ranked * ngr);
            }
            pass = a->pass;
            for (size_t k = 0; k < ngr; k++)
                pass[k] = !a->having || (!hv.null[k] && hv.v.i[k]);
            if (a->grank)
                grank_rows(a, pass);
        }
        for (size_t k = 0; k < chunk; k++) {
            entry *e = entries[i + k];
            int pass = !a->having || (!hv.null[k] && hv.v.i[k]);
            if (!a->emit_final && e->emitted) {
                int64_t ews, ewe;
                entry_emitted(a, e, &ews, &ewe);
                if (!pass || ews != e->ws || ewe != entry_we(a, e)) {
                    retract_key(a, e->slot, ews, ewe);
                    e->emitted = 0;
                }
            }
            if (pass) {
                e->emitted = 1;
                if (a->off_ews) {
                    TAIL(a, e, off_ews, int64_t)[0] = e->ws;
                    TAIL(a, e, off_ews, int64_t)[1] = entry_we(a, e);
                }
            }
            e->ckpt_dirty = 1;
        }
        if (send_retracts(a, err) != 0)
            return -1;
        /* evaluate the select list over the group rows (a Top-N has
        ** several per entry); keep passing rows */
        sl_batch_reset(a->out);
        for (int c = 0; c < a->nout; c++) {
            sl_column v;
            sl_cexpr_eval(a->out_ce[c], a->group_rows, &v);
            int r = 0;
            for (size_t k = 0; k < ngr; k++) {
                if (pass && !pass[k])
                    continue;
                if (c == 0)
                    sl_batch_add_row(a->out);
                if (v.null[k]) {
                    r++;
                    continue;
                }
                if (v.type == SL_TEXT)
                    sl_batch_set_text(a->out, r, c, v.v.s[k].z,
                                      (size_t)v.v.s[k].n);
                else if (v.type == SL_DOUBLE)
                    sl_batch_set_double(a->out, r, c, v.v.d[k]);
                else
                    sl_batch_set_int(a->out, r, c, v.v.i[k]);
                r++;
            }
        }
        if (a->out->nrows > 0 &&
            a->base.ctx.write(a->base.ctx.q, a->out, err) != 0)
            return -1;
        i += chunk;
    }
    return 0;
}

/* Publishes every dirty entry still open (CHANGES). */
static int publish_dirty(agg_op *a, sl_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < a->ndirty; i++) {
        entry *e = a->dirty[i];
        e->dirty = 0;
        if (e->dead) {
            if (!e->queued)
                entry_release(a, e);
            continue;
        }
        a->dirty[n++] = e;
    }
    int rc = publish(a, a->dirty, n, err);
    a->ndirty = 0;
    return rc;
}

/* ---- windows -------------------------------------------------------------- */

/* Session assignment of row r at time t (not late). */
static entry *session_for(agg_op *a, keyslot *ks, int64_t t)
{
    int64_t s = t, e = sl_sat_add(t, a->gap_ms);
    entry *target = NULL;
    int merges = 0;
    for (entry *w = ks->windows; w; w = w->next) {
        int64_t wwe = entry_we(a, w);
        if (wwe <= a->wmk.wm)
            continue;               /* closed: final, never reopens */
        if (w->ws < e && s < wwe) {
            if (target == NULL)
                target = w;
            else
                merges++;
        }
    }
    if (target == NULL)
        return entry_new(a, ks, s, e);
    int64_t *twe = TAIL(a, target, off_we, int64_t);
    if (merges > 0) {
        /* pending steps may point at sessions about to be merged away */
        step_assignments(a);
        entry *w = ks->windows;
        while (w) {
            entry *next = w->next;
            int64_t wwe = entry_we(a, w);
            if (w != target && wwe > a->wmk.wm && w->ws < e && s < wwe) {
                entry_merge_states(a, target, w);
                if (w->ws < target->ws)
                    target->ws = w->ws;
                if (wwe > *twe)
                    *twe = wwe;
                if (w->emitted && !a->emit_final) {
                    int64_t ews, ewe;
                    entry_emitted(a, w, &ews, &ewe);
                    retract_key(a, ks, ews, ewe);
                }
                w->emitted = 0;
                unmark_dirty(a, w);
                entry_unlink(a, w);
            }
            w = next;
        }
        if (!a->emit_final)
            mark_dirty(a, target);
    }
    target->ckpt_dirty = 1;
    if (s < target->ws)
        target->ws = s;
    if (e > *twe)
        *twe = e;
    /* a session that grew keeps its heap item at the old, earlier end:
    ** close_windows pushes it again at its real end when that item comes
    ** up (one push per time it comes up, not one per extension) */
    return target;
}

/* Frees the n oldest close lists (every entry in them unlinked). */
static void lists_drop(agg_op *a, size_t n)
{
    for (; n > 0; n--) {
        list_free(a, &a->lists[a->lists_first]);
        a->lists_first++;
        a->nlists--;
    }
    if (a->nlists == 0)
        a->lists_first = 0;
}

/* Closes every window whose end the watermark has passed. */
static int close_windows(agg_op *a, sl_error *err)
{
    a->nclosing = 0;
    /* the lists that end by W (taken off only once their rows are out) */
    size_t nlists = 0;
    while (nlists < a->nlists &&
           a->lists[a->lists_first + nlists].end <= a->wmk.wm) {
        list_iter it;
        for (entry *e = list_first(a, &a->lists[a->lists_first + nlists], &it);
             e; e = list_next(a, &it))
            closing_add(a, e);
        nlists++;
    }
    /* sessions: first take every queued end that is due (touching the
    ** queue only), then look at their entries, prefetched a few ahead so
    ** that the entries' cache misses overlap */
    size_t first = a->nclosing;
    if (a->wkind == SL_WIN_SESSION)
        heap_take_due(a, a->wmk.wm);
    size_t due = a->nclosing;
    a->nclosing = first;
    for (size_t i = first; i < due; i++) {
        if (i + 8 < due)
            __builtin_prefetch(a->closing[i + 8]);
        entry *e = a->closing[i];
        e->queued = 0;
        if (e->dead) {
            if (!e->dirty)
                entry_release(a, e);
            continue;
        }
        if (entry_we(a, e) > a->wmk.wm) {
            heap_push(a, e);            /* it grew: due later */
            continue;
        }
        a->closing[a->nclosing++] = e;
    }
    if (a->nclosing == 0) {
        lists_drop(a, nlists);
        return 0;
    }
    /* emit: ON WINDOW CLOSE the final row of every closing window;
    ** CHANGES the last change of those with unpublished changes (moved to
    ** the front; the others keep their places after them) */
    size_t n = a->nclosing;
    if (!a->emit_final) {
        n = 0;
        for (size_t i = 0; i < a->nclosing; i++) {
            if (a->closing[i]->dirty) {
                entry *t = a->closing[n];
                a->closing[n++] = a->closing[i];
                a->closing[i] = t;
            }
        }
    }
    if (publish(a, a->closing, n, err) != 0)
        return -1;
    for (size_t i = 0; i < a->nclosing; i++) {
        entry *e = a->closing[i];
        unmark_dirty(a, e);
        entry_unlink(a, e);
    }
    lists_drop(a, nlists);
    slots_sweep(a);
    return 0;
}

/* ---- panes ---------------------------------------------------------------
** Hopping windows ON WINDOW CLOSE whose size is a multiple of the advance
** are kept as panes: tumbling windows of the advance, one per event where a
** window entry per event and window would be size / advance of them (the
** "slicing" of Flink's window aggregation). A window's row is the merge of
** its panes' states, made when the watermark passes its end; a pane is
** freed when the last window holding it closes (at its start + size, which
** is what entry_we gives and the close lists are ordered by).
**
** The result is that of assigning every event to its windows: an event
** joins its pane only while some window holding the pane is open, and a
** window is emitted (in agg_push, before the event that finds the
** watermark past its end) from the panes as they are when it closes, so
** events late for it are not in it. The window is there when any of its
** panes has an event, as a window entry would have been made for it. */

/* Moves pane_next past the windows that ended by W. Called when no window
** that ended holds a pane still to emit (W < pane_due, or after emitting):
** those windows closed empty and stay closed, whatever panes come later. */
/* The start of the first window that ends after W (W > INT64_MIN). */
static int64_t pane_first_open(const agg_op *a)
{
    return sl_floor_div(a->wmk.wm - a->size_ms, a->advance_ms) * a->advance_ms +
           a->advance_ms;
}

/* When the watermark must be checked for the windows holding the pane
** starting at q: at the end of the first of them not closed yet. */
static int64_t pane_due_of(const agg_op *a, int64_t q)
{
    int64_t first = q - a->size_ms + a->advance_ms;     /* q's oldest window */
    if (first < a->pane_next)
        first = a->pane_next;
    return sl_sat_add(first, a->size_ms);
}

static void pane_skip_closed(agg_op *a)
{
    if (a->wmk.wm == INT64_MIN)
        return;
    int64_t open = pane_first_open(a);
    if (a->pane_next < open)
        a->pane_next = open;
}

static entry *pane_new(agg_op *a, keyslot *ks, int64_t p)
{
    pane_skip_closed(a);            /* agg_push checked W < pane_due */
    entry *e = entry_new(a, ks, p, sl_sat_add(p, a->size_ms));
    int64_t due = pane_due_of(a, p);
    if (due < a->pane_due)
        a->pane_due = due;
    return e;
}

/* A window [s, s + size) of key ks as a new entry (on no list) holding the
** merge of the key's panes inside it. Its id is the smallest of theirs:
** ids grow as entries are made, so it tells when the key's first event in
** the window arrived, which is when a window entry would have been made
** (see pane_creation_order). */
static entry *pane_window(agg_op *a, keyslot *ks, int64_t s)
{
    entry *t = entry_alloc(a);
    t->slot = ks;
    t->ws = s;
    t->id = UINT64_C(0xffffffffffffff);
    entry_init_states(a, t);
    int64_t e = sl_sat_add(s, a->size_ms);
    for (entry *w = ks->windows; w != NULL && w->ws >= s; w = w->next)
        if (w->ws < e) {
            entry_merge_states(a, t, w);
            if (w->id < t->id)
                t->id = w->id;
        }
    return t;
}

static int id_cmp(const void *x, const void *y)
{
    uint64_t a = (*(entry *const *)x)->id, b = (*(entry *const *)y)->id;
    return (a > b) - (a < b);
}

/* Puts one window's groups, closing[first..), in the order a window entry
** per (window, key) would have been made in: the arrival of each key's
** first event in the window. The panes give them in the order of each
** key's oldest pane instead, and QUALIFY ROW_NUMBER() breaks ties by
** closing order (docs/dialect.md): a key whose first event arrived later
** with an earlier time would win the tie. */
static void pane_creation_order(agg_op *a, size_t first)
{
    if (a->grank != NULL && a->nclosing - first > 1)
        qsort(a->closing + first, a->nclosing - first, sizeof *a->closing,
              id_cmp);
}

/* Emits every window the watermark has passed, then frees the panes no
** open window holds. `sweep`: also free key slots left empty (not in the
** middle of a batch, whose rows may still hold slots). */
static int pane_close(agg_op *a, int sweep, sl_error *err)
{
    step_assignments(a);            /* pending steps belong in the panes */
    int64_t W = a->wmk.wm, size = a->size_ms, adv = a->advance_ms;
    close_list *l = a->lists + a->lists_first;
    size_t n = a->nlists;
    a->nclosing = 0;
    while (n > 0 && sl_sat_add(a->pane_next, size) <= W) {
        int64_t s = a->pane_next, e = sl_sat_add(s, size);
        size_t k = lists_lower_bound(l, n, e);  /* first pane from s on */
        if (k == n)
            break;                  /* no pane left for this or later windows */
        int64_t q = l[k].end - size;
        if (q >= e) {
            /* window s holds no pane: skip the closed windows before the
            ** first one holding q (not past W: later panes may still fill
            ** an open window) */
            int64_t open = pane_first_open(a);
            a->pane_next = q - size + adv < open ? q - size + adv : open;
            continue;
        }
        size_t first = a->nclosing;
        for (size_t j = k; j < n && l[j].end - size < e; j++)
        {
            list_iter it;
            for (entry *p = list_first(a, &l[j], &it); p; p = list_next(a, &it))
                /* once per key: at its oldest pane inside the window */
                if (p->next == NULL || p->next->ws < s)
                    closing_add(a, pane_window(a, p->slot, s));
        }
        pane_creation_order(a, first);
        a->pane_next = s + adv;
    }
    int rc = publish(a, a->closing, a->nclosing, err);
    for (size_t i = 0; i < a->nclosing; i++) {
        entry_destroy_states(a, a->closing[i]);
        entry_release(a, a->closing[i]);
    }
    a->nclosing = 0;
    if (rc != 0)
        return -1;
    pane_skip_closed(a);
    /* panes whose last window has closed */
    size_t done = 0;
    while (done < a->nlists && a->lists[a->lists_first + done].end <= W) {
        list_iter it;
        for (entry *p = list_first(a, &a->lists[a->lists_first + done], &it);
             p; p = list_next(a, &it))
            entry_unlink(a, p);
        done++;
    }
    lists_drop(a, done);
    if (a->nlists == 0) {
        a->pane_due = INT64_MAX;
    } else {
        /* the oldest pane left: its list ends at its start + size */
        a->pane_due = pane_due_of(a, a->lists[a->lists_first].end - size);
    }
    if (sweep)
        slots_sweep(a);
    return 0;
}

/* ---- the operator --------------------------------------------------------- */

/* Hashes every selected row of b into a->hashes and prefetches its table
** bucket: a batch's lookups are independent, so their cache misses can
** overlap instead of following one another (the bucket now, the key slot
** and its newest window a few rows ahead, in agg_push). */
static void hash_batch(agg_op *a, const sl_batch *b, int n)
{
    if (n > a->hashes_cap) {
        a->hashes_cap = n;
        a->hashes = sl_xrealloc(a->hashes, sizeof *a->hashes * (size_t)n);
    }
    const uint8_t *sel = b->selected;
    size_t mask = a->table_cap - 1;
    for (int r = 0; r < n; r++) {
        if (sel != NULL && !sel[r]) {
            a->hashes[r] = 0;
            continue;
        }
        uint64_t h = hash_row(a, r);
        a->hashes[r] = h;
        if (a->table != NULL)
            __builtin_prefetch(&a->table[h & mask]);
    }
}

#define PREFETCH_SLOT_AHEAD 8
#define PREFETCH_ENTRY_AHEAD 4

/* Prefetches the key slot of row r + PREFETCH_SLOT_AHEAD (its bucket is
** cached by now) and the newest window of row r + PREFETCH_ENTRY_AHEAD's
** key (its slot was prefetched four rows ago). */
/* The key slot of hash h if it is in its bucket or (a collision) the one
** just after, else NULL: a guess for prefetching, never for lookups (the
** hash alone does not make the key). */
static inline keyslot *slot_guess(const agg_op *a, uint64_t h)
{
    const tbucket *t = &a->table[h & (a->table_cap - 1)];
    for (int k = 0; k < 2 && t->ks != NULL; k++, t++) {
        if (t->hash == h)
            return t->ks;
        if (t + 1 == a->table + a->table_cap)
            break;
    }
    return NULL;
}

static inline void prefetch_ahead(const agg_op *a, int r, int n)
{
    if (a->table == NULL)
        return;
    if (r + PREFETCH_SLOT_AHEAD < n) {
        const keyslot *ks = slot_guess(a, a->hashes[r + PREFETCH_SLOT_AHEAD]);
        if (ks != NULL)
            __builtin_prefetch(ks);
    }
    if (r + PREFETCH_ENTRY_AHEAD < n) {
        const keyslot *ks = slot_guess(a, a->hashes[r + PREFETCH_ENTRY_AHEAD]);
        if (ks != NULL && ks->windows != NULL)
            __builtin_prefetch(ks->windows);
    }
}

static int agg_push(sl_operator *op, sl_batch *b, sl_error *err)
{
    agg_op *a = (agg_op *)op;
    int n = b->nrows;
    if (n == 0)
        return 0;
    for (int k = 0; k < a->ngroup; k++)
        sl_cexpr_eval(a->key_ce[k], b, &a->key_cols[k]);
    for (int i = 0; i < a->nagg; i++)
        if (a->arg_ce[i])
            sl_cexpr_eval(a->arg_ce[i], b, &a->arg_cols[i]);
    if (a->topn) {
        sl_cexpr_eval(a->topn_ce, b, &a->topn_cols[0]);
        for (int j = 0; j < a->topn->spec.ncarry; j++)
            a->topn_cols[1 + j] = b->cols[a->topn->carry[j]];
    }
    const sl_column *et = a->event_col >= 0 ? &b->cols[a->event_col] : NULL;
    a->nassign = 0;
    const uint8_t *sel = b->selected;
    hash_batch(a, b, n);
    for (int r = 0; r < n; r++) {
        prefetch_ahead(a, r, n);
        if (sel != NULL && !sel[r]) {
            /* filtered out (WHERE, an inner join without a match): in no
            ** window of this query, but seen by the source, so it still
            ** moves the source's watermark (DESIGN §2 rule 2) */
            if (et != NULL && !et->null[r])
                sl_watermark_observe(&a->wmk, b->loc[r].part, et->v.i[r]);
            continue;
        }
        uint64_t h = a->hashes[r];
        if (a->wkind == SL_WIN_NONE) {
            keyslot *ks = slot_find(a, r, h, 1);
            entry *e = ks->windows ? ks->windows : entry_new(a, ks, 0, 0);
            assign(a, r, e);
            continue;
        }
        if (et->null[r]) {
            a->base.ctx.dead(a->base.ctx.q, b, r, "the event-time column is "
                             "NULL, so the event belongs to no window");
            continue;
        }
        /* panes: a window the watermark has passed is emitted before the
        ** next event reaches its panes (the event is late for it) */
        if (a->panes && a->wmk.wm >= a->pane_due && pane_close(a, 0, err) != 0)
            return -1;
        int64_t t = et->v.i[r];
        int late = 0;
        if (a->wkind == SL_WIN_SESSION) {
            if (a->wmk.wm >= sl_sat_add(t, a->gap_ms)) {
                late = 1;
            } else {
                keyslot *ks = slot_find(a, r, h, 1);
                assign(a, r, session_for(a, ks, t));
            }
        } else if (a->panes) {
            /* one pane [p, p + advance) per event; the windows holding it
            ** start at p - size + advance .. p; it is late for the oldest
            ** one when W >= p + advance, and for all when W >= p + size */
            int64_t p = sl_floor_div(t, a->advance_ms) * a->advance_ms;
            late = a->wmk.wm >= sl_sat_add(p, a->advance_ms);
            if (a->wmk.wm < sl_sat_add(p, a->size_ms)) {
                keyslot *ks = slot_find(a, r, h, 1);
                entry *w = ks->windows;
                while (w != NULL && w->ws > p)
                    w = w->next;
                assign(a, r, w != NULL && w->ws == p ? w : pane_new(a, ks, p));
            }
        } else {
            int64_t adv = a->wkind == SL_WIN_HOPPING ? a->advance_ms : a->size_ms;
            int64_t last = sl_floor_div(t, adv) * adv;
            keyslot *ks = NULL;
            /* every window [s, s + size) with s <= t < s + size, newest
            ** first, found in one walk down the key's windows (newest
            ** first too) */
            int64_t first = last;
            while (first - adv + a->size_ms > t)
                first -= adv;
            entry *w = NULL;
            for (int64_t s = last; s >= first; s -= adv) {
                int64_t e = sl_sat_add(s, a->size_ms);
                if (a->wmk.wm >= e) {
                    late = 1;
                    break;          /* older windows end earlier: late too */
                }
                if (ks == NULL) {
                    ks = slot_find(a, r, h, 1);
                    w = ks->windows;
                }
                while (w != NULL && w->ws > s)
                    w = w->next;
                entry *hit = w != NULL && w->ws == s ? w : entry_new(a, ks, s, e);
                assign(a, r, hit);
            }
        }
        if (late)
            a->base.ctx.late(a->base.ctx.q, b, r, t, a->wmk.wm);
        sl_watermark_observe(&a->wmk, b->loc[r].part, t);
    }
    step_assignments(a);
    a->topn_seq += (uint64_t)n;     /* the next batch's rows arrive later */
    if (a->retracts->nrows > 0 && send_retracts(a, err) != 0)
        return -1;
    if (a->panes)
        return pane_close(a, 1, err);
    if (a->wkind != SL_WIN_NONE)
        return close_windows(a, err);
    return 0;
}

static int agg_advance(sl_operator *op, int64_t wm_ms, sl_error *err)
{
    agg_op *a = (agg_op *)op;
    if (wm_ms <= a->wmk.wm)
        return 0;
    if (wm_ms == INT64_MAX)
        sl_watermark_end(&a->wmk);
    else
        a->wmk.wm = wm_ms;
    if (a->wkind == SL_WIN_NONE)
        return 0;
    if (a->panes)
        return pane_close(a, 1, err);
    return close_windows(a, err);
}

static int agg_flush(sl_operator *op, int final, sl_error *err)
{
    agg_op *a = (agg_op *)op;
    if (a->emit_final)
        return 0;
    /* an aggregate without GROUP BY or window has one row even before any
    ** event (COUNT(*) = 0), as in SQL */
    if (a->ngroup == 0 && a->wkind == SL_WIN_NONE && a->table_n == 0) {
        keyslot *ks = slot_find(a, 0, hash_row(a, 0), 1);
        mark_dirty(a, entry_new(a, ks, 0, 0));
    }
    int64_t now = now_ms();
    if (!final && a->every_ms > 0 && now - a->last_publish_ms < a->every_ms)
        return 0;
    a->last_publish_ms = now;
    return publish_dirty(a, err);
}

static void agg_close(sl_operator *op)
{
    agg_op *a = (agg_op *)op;
    /* what open entries and key slots own; the blocks themselves go with
    ** their pools, whatever still points at them (heap, dirty list) */
    for (size_t i = 0; i < a->table_cap; i++) {
        keyslot *ks = a->table ? a->table[i].ks : NULL;
        if (ks == NULL)
            continue;
        for (entry *e = ks->windows; e; e = e->next)
            entry_destroy_states(a, e);
        slot_release(a, ks);
    }
    lists_drop(a, a->nlists);
    while (a->lfree != NULL) {
        lchunk *c = a->lfree;
        a->lfree = c->next;
        free(c);
    }
    pool_destroy(&a->entries);
    pool_destroy(&a->slots);
    free(a->table);
    for (int b = 0; b < RHEAP_BUCKETS; b++)
        free(a->rheap[b].v);
    free(a->due.v);
    free(a->due_tmp.v);
    free(a->lists);
    free(a->dirty);
    free(a->hashes);
    free(a->arows);
    free(a->astates);
    free(a->closing);
    free(a->deleted);
    free(a->dup);
    sl_buf_free(&a->ckpt_buf);
    for (int k = 0; k < a->ngroup; k++)
        sl_cexpr_free(a->key_ce[k]);
    for (int i = 0; i < a->nagg; i++)
        sl_cexpr_free(a->arg_ce[i]);
    for (int c = 0; c < a->nout; c++)
        sl_cexpr_free(a->out_ce[c]);
    sl_cexpr_free(a->having);
    sl_cexpr_free(a->topn_ce);
    free(a->topn_cols);
    sl_cexpr_free(a->grank_order);
    for (int j = 0; a->grank_part && j < a->grank->npart; j++)
        sl_cexpr_free(a->grank_part[j]);
    free(a->grank_part);
    free(a->grank_cols);
    free(a->pass);
    free(a->ranked);
    free(a->key_ce);
    free(a->arg_ce);
    free(a->key_cols);
    free(a->arg_cols);
    free(a->out_ce);
    free(a->state_off);
    sl_batch_free(a->group_rows);
    sl_batch_free(a->retracts);
    sl_batch_free(a->out);
    free(a);
}


/* ---- checkpoints ---------------------------------------------------------- */

static void save_meta(agg_op *a, uint64_t fingerprint, sl_buf *b)
{
    sl_ckpt_header(b, fingerprint);
    sl_buf_put(b, &a->next_id, sizeof a->next_id);
    sl_watermark_save(&a->wmk, b);
}

static void save_entry(agg_op *a, const entry *e, sl_buf *b)
{
    uint8_t flags = (uint8_t)(e->emitted | (e->dirty << 1));
    int64_t ws = e->ws, we = entry_we(a, e), ews, ewe;
    entry_emitted(a, e, &ews, &ewe);
    sl_buf_put(b, &ws, sizeof ws);
    sl_buf_put(b, &we, sizeof we);
    sl_buf_put(b, &ews, sizeof ews);
    sl_buf_put(b, &ewe, sizeof ewe);
    sl_buf_put(b, &flags, 1);
    for (int k = 0; k < a->ngroup; k++) {
        const sl_value *v = &e->slot->keys[k];
        uint8_t isnull = (uint8_t)v->is_null;
        sl_buf_put(b, &isnull, 1);
        if (v->is_null)
            continue;
        if (v->type == SL_TEXT) {
            sl_buf_put(b, &v->u.s.n, sizeof v->u.s.n);
            sl_buf_put(b, v->u.s.z, (size_t)v->u.s.n);
        } else if (v->type == SL_DOUBLE) {
            sl_buf_put(b, &v->u.d, sizeof v->u.d);
        } else {
            sl_buf_put(b, &v->u.i, sizeof v->u.i);
        }
    }
    for (int i = 0; i < a->nagg; i++) {
        const sl_agg_func *fn = a->p->aggs[i].fn;
        const char *st = entry_state(a, e) + a->state_off[i];
        if (a->dup[i])
            continue;
        if (fn->save)
            fn->save(st, b);
        else
            sl_buf_put(b, st, fn->state_bytes);
    }
    if (a->topn)
        sl_topn_save(&a->topn->spec, *entry_topn(a, e), b);
}

int sl_op_aggregate_save(sl_operator *op, sl_ckpt_writer *w,
                         uint64_t fingerprint, sl_error *err)
{
    agg_op *a = (agg_op *)op;
    sl_buf *b = &a->ckpt_buf;
    b->n = 0;
    save_meta(a, fingerprint, b);
    if (sl_ckpt_put(w, 0, b, err) != 0)
        return -1;
    for (size_t i = 0; i < a->table_cap; i++) {
        keyslot *ks = a->table ? a->table[i].ks : NULL;
        for (entry *e = ks ? ks->windows : NULL; e; e = e->next) {
            if (!e->ckpt_dirty)
                continue;
            b->n = 0;
            save_entry(a, e, b);
            if (sl_ckpt_put(w, (int64_t)e->id, b, err) != 0)
                return -1;
            e->ckpt_dirty = 0;
            e->saved = 1;
        }
    }
    for (size_t i = 0; i < a->ndeleted; i++)
        if (sl_ckpt_delete(w, a->deleted[i], err) != 0)
            return -1;
    a->ndeleted = 0;
    return 0;
}

typedef struct load_ctx {
    agg_op *a;
    uint64_t fingerprint;
    const char *query;
    sl_batch *keys;        /* one row: the key being loaded */
    int have_meta;
} load_ctx;

static int load_bad(load_ctx *c, sl_error *err)
{
    return sl_error_set(err, -1, "the saved state of %s is damaged; replay "
                        "the query from the start with CREATE OR REPLACE",
                        c->query);
}

static int load_row(void *ctx, int64_t id, const unsigned char *p, size_t n,
                    sl_error *err)
{
    load_ctx *c = ctx;
    agg_op *a = c->a;
    const unsigned char *end = p + n;
    if (id < 0)
        return 0;               /* a window join's (op_wjoin.c) */
    if (id == 0) {
        int rc = sl_ckpt_check_header(&p, end, c->fingerprint, c->query, err);
        if (rc != 0)
            return rc < 0 ? -1 : load_bad(c, err);
        if (sl_buf_get(&p, end, &a->next_id, sizeof a->next_id) ||
            sl_watermark_load(&a->wmk, &p, end) != 0)
            return load_bad(c, err);
        c->have_meta = 1;
        return 0;
    }
    if (!c->have_meta)
        return load_bad(c, err);
    int64_t ws, we, ews, ewe;
    uint8_t flags;
    if (sl_buf_get(&p, end, &ws, sizeof ws) || sl_buf_get(&p, end, &we, sizeof we) ||
        sl_buf_get(&p, end, &ews, sizeof ews) || sl_buf_get(&p, end, &ewe, sizeof ewe) ||
        sl_buf_get(&p, end, &flags, 1))
        return load_bad(c, err);
    sl_batch *kb = c->keys;
    sl_batch_reset(kb);
    sl_batch_add_row(kb);
    for (int k = 0; k < a->ngroup; k++) {
        uint8_t isnull;
        if (sl_buf_get(&p, end, &isnull, 1))
            return load_bad(c, err);
        if (isnull)
            continue;
        sl_type t = kb->cols[k].type;
        if (t == SL_TEXT) {
            int32_t len;
            if (sl_buf_get(&p, end, &len, sizeof len) || len < 0 || end - p < len)
                return load_bad(c, err);
            sl_batch_set_text(kb, 0, k, (const char *)p, (size_t)len);
            p += len;
        } else if (t == SL_DOUBLE) {
            double d;
            if (sl_buf_get(&p, end, &d, sizeof d))
                return load_bad(c, err);
            sl_batch_set_double(kb, 0, k, d);
        } else {
            int64_t v;
            if (sl_buf_get(&p, end, &v, sizeof v))
                return load_bad(c, err);
            sl_batch_set_int(kb, 0, k, v);
        }
    }
    for (int k = 0; k < a->ngroup; k++)
        a->key_cols[k] = kb->cols[k];
    keyslot *ks = slot_find(a, 0, hash_row(a, 0), 1);
    int64_t saved_next = a->next_id;
    entry *e = entry_new(a, ks, ws, we);
    a->next_id = saved_next;
    e->id = (uint64_t)id;
    if (a->off_ews) {
        TAIL(a, e, off_ews, int64_t)[0] = ews;
        TAIL(a, e, off_ews, int64_t)[1] = ewe;
    }
    e->emitted = flags & 1;
    e->ckpt_dirty = 0;
    e->saved = 1;
    if (flags & 2)
        mark_dirty(a, e);
    for (int i = 0; i < a->nagg; i++) {
        const sl_agg_func *fn = a->p->aggs[i].fn;
        char *st = entry_state(a, e) + a->state_off[i];
        if (a->dup[i])
            continue;
        if (fn->load) {
            if (fn->load(st, &p, end) != 0)
                return load_bad(c, err);
        } else if (sl_buf_get(&p, end, st, fn->state_bytes)) {
            return load_bad(c, err);
        }
    }
    if (a->topn) {
        int rc = sl_topn_load(&a->topn->spec, entry_topn(a, e), &p, end,
                              &a->topn_bytes);
        topn_peak(a);
        /* rows read after the restart arrived after every saved one */
        uint64_t last = sl_topn_last_seq(*entry_topn(a, e));
        if (last >= a->topn_seq)
            a->topn_seq = last + 1;
        if (rc != 0)
            return load_bad(c, err);
    }
    return p == end ? 0 : load_bad(c, err);
}

int sl_op_aggregate_load(sl_operator *op, sqlite3 *db, const char *query,
                         uint64_t fingerprint, sl_error *err)
{
    agg_op *a = (agg_op *)op;
    sl_type *kt = calloc((size_t)a->ngroup + 1, sizeof *kt);
    if (kt == NULL)
        abort();
    for (int k = 0; k < a->ngroup; k++)
        kt[k] = a->group_rows->cols[k].type;
    load_ctx c = {a, fingerprint, query, sl_batch_new(a->ngroup, kt, 1), 0};
    free(kt);
    int rc = sl_ckpt_load(db, query, load_row, &c, err);
    sl_batch_free(c.keys);
    if (rc == 0 && a->panes) {
        /* the windows that ended by the saved watermark were emitted: the
        ** first open one is the first ending after it */
        if (a->wmk.wm != INT64_MIN)
            a->pane_next = pane_first_open(a);
        a->pane_due = INT64_MIN;    /* recomputed by the first close */
    }
    /* the key columns pointed into the loading batch */
    memset(a->key_cols, 0, sizeof *a->key_cols * (size_t)a->ngroup);
    return rc;
}

static const sl_operator_vtab agg_vtab = {
    "aggregate", agg_push, agg_advance, agg_flush, agg_close
};

int64_t sl_op_aggregate_watermark(const sl_operator *op)
{
    return ((const agg_op *)op)->wmk.wm;
}

int sl_op_aggregate_set_partitions(sl_operator *op, const int32_t *parts,
                                   int n, sl_error *err)
{
    agg_op *a = (agg_op *)op;
    int64_t before = a->wmk.wm;
    sl_watermark_set_active(&a->wmk, parts, n);
    /* a partition that went idle may release the watermark: close what it
    ** held open now, not at the next event */
    if (a->wmk.wm != before && a->wkind != SL_WIN_NONE)
        return close_windows(a, err);
    return 0;
}

int64_t sl_op_aggregate_open_groups(const sl_operator *op)
{
    return ((const agg_op *)op)->open_groups;
}

int64_t sl_op_aggregate_peak_groups(const sl_operator *op)
{
    return ((const agg_op *)op)->peak_groups;
}

int64_t sl_op_aggregate_state_bytes(const sl_operator *op)
{
    const agg_op *a = (const agg_op *)op;
    size_t queue = 0;
    for (int b = 0; b < RHEAP_BUCKETS; b++)
        queue += a->rheap[b].cap * sizeof(heap_item);
    queue += (a->due.cap + a->due_tmp.cap) * sizeof(heap_item);
    return (int64_t)(a->entries.chunk_bytes + queue + a->list_bytes +
                     a->lists_cap * sizeof *a->lists +
                     a->dirty_cap * sizeof *a->dirty) + a->topn_peak;
}

sl_operator *sl_op_aggregate_new(const sl_plan *p, const sl_op_ctx *ctx,
                           sl_error *err)
{
    agg_op *a = calloc(1, sizeof *a);
    if (a == NULL)
        abort();
    a->base.vt = &agg_vtab;
    a->base.ctx = *ctx;
    a->p = p;
    a->ngroup = p->ngroup;
    a->nagg = p->nagg;
    a->wkind = p->window.kind;
    a->size_ms = p->window.size_ms;
    a->advance_ms = p->window.advance_ms;
    a->gap_ms = p->window.gap_ms;
    a->event_col = p->window.kind != SL_WIN_NONE ? p->event_time_col : -1;
    a->emit_final = p->emit == SL_EMIT_ON_WINDOW_CLOSE;
    a->panes = a->wkind == SL_WIN_HOPPING && a->emit_final &&
               a->advance_ms > 0 && a->size_ms % a->advance_ms == 0 &&
               a->size_ms / a->advance_ms > 1;
    a->pane_next = INT64_MIN;
    a->pane_due = INT64_MAX;
    a->every_ms = p->emit_every_ms;
    a->last_publish_ms = now_ms();
    sl_watermark_init(&a->wmk, p->delay_ms);
    a->key_ce = calloc((size_t)a->ngroup + 1, sizeof *a->key_ce);
    a->key_cols = calloc((size_t)a->ngroup + 1, sizeof *a->key_cols);
    a->arg_ce = calloc((size_t)a->nagg + 1, sizeof *a->arg_ce);
    a->arg_cols = calloc((size_t)a->nagg + 1, sizeof *a->arg_cols);
    a->state_off = calloc((size_t)a->nagg + 1, sizeof *a->state_off);
    a->nout = p->nout;
    a->out_ce = calloc((size_t)a->nout + 1, sizeof *a->out_ce);
    if (!a->key_ce || !a->key_cols || !a->arg_ce || !a->arg_cols ||
        !a->state_off || !a->out_ce)
        abort();
    for (int k = 0; k < a->ngroup; k++)
        if ((a->key_ce[k] = sl_cexpr_compile(p->group[k], err)) == NULL)
            goto fail;
    /* the entry tail (see struct entry), then the states */
    size_t off = sizeof(entry);
    if (a->wkind == SL_WIN_SESSION) {
        a->off_we = off;
        off += 8;
    }
    if (!a->emit_final) {
        a->off_didx = off;
        off += 4;
    }
    off = (off + 7) & ~(size_t)7;
    if (a->wkind == SL_WIN_SESSION && !a->emit_final) {
        a->off_ews = off;
        off += 16;
    }
    a->state_base = off;
    a->dup = sl_xcalloc((size_t)a->nagg + 1, 1);
    off = 0;
    for (int i = 0; i < a->nagg; i++) {
        /* SUM(x) and AVG(x) keep the same state: the second one shares
        ** the first one's (same step over the same argument, compared as
        ** text exactly: a literal's case is part of the argument) */
        for (int j = 0; j < i && !a->dup[i]; j++) {
            if (!a->dup[j] && p->aggs[j].fn->step == p->aggs[i].fn->step &&
                strcmp(strchr(p->aggs[j].sql, '('),
                       strchr(p->aggs[i].sql, '(')) == 0) {
                a->dup[i] = 1;
                a->state_off[i] = a->state_off[j];
            }
        }
        if (a->dup[i])
            continue;
        if (p->aggs[i].arg &&
            (a->arg_ce[i] = sl_cexpr_compile(p->aggs[i].arg, err)) == NULL)
            goto fail;
        a->state_off[i] = off;
        off += (p->aggs[i].fn->state_bytes + 7) & ~(size_t)7;
    }
    if (p->topn && p->topn->of_groups) {
        a->grank = p->topn;
        a->grank_part = sl_xcalloc((size_t)p->topn->npart + 1,
                                   sizeof *a->grank_part);
        a->grank_cols = sl_xcalloc((size_t)p->topn->npart + 1,
                                   sizeof *a->grank_cols);
        if ((a->grank_order = sl_cexpr_compile(p->topn->order, err)) == NULL)
            goto fail;
        for (int j = 0; j < p->topn->npart; j++)
            if ((a->grank_part[j] = sl_cexpr_compile(p->topn->part[j],
                                                     err)) == NULL)
                goto fail;
    } else if (p->topn) {
        a->topn = p->topn;
        a->topn_off = off;
        off += sizeof(sl_topn *);
        if ((a->topn_ce = sl_cexpr_compile(p->topn->order, err)) == NULL)
            goto fail;
        a->topn_cols = sl_xcalloc((size_t)p->topn->spec.ncarry + 1,
                                  sizeof *a->topn_cols);
    }
    a->entries.bytes = (a->state_base + off + 7) & ~(size_t)7;
    a->slots.bytes = sizeof(keyslot) + sizeof(sl_value) * (size_t)a->ngroup +
                     (size_t)KEY_INLINE * (size_t)a->ngroup;
    for (int c = 0; c < a->nout; c++)
        if ((a->out_ce[c] = sl_cexpr_compile(p->out[c], err)) == NULL)
            goto fail;
    if (p->having && (a->having = sl_cexpr_compile(p->having, err)) == NULL)
        goto fail;
    /* group-row layout: keys, window_start, window_end, aggregates (a
    ** Top-N: rank, kept columns) */
    int ncarry = p->topn ? p->topn->spec.ncarry : 0;
    a->agg_col0 = a->ngroup + 2 + (p->topn != NULL);   /* after the rank */
    int ng = a->agg_col0 + a->nagg + ncarry;
    sl_type *gt = calloc((size_t)ng, sizeof *gt);
    if (gt == NULL)
        abort();
    for (int k = 0; k < a->ngroup; k++)
        gt[k] = p->group[k]->type == SL_NULL ? SL_TEXT : p->group[k]->type;
    gt[a->ngroup] = gt[a->ngroup + 1] = SL_TIMESTAMP;
    for (int i = 0; i < a->nagg; i++)
        gt[a->agg_col0 + i] = p->aggs[i].result_type;
    if (p->topn) {
        gt[a->ngroup + 2] = SL_BIGINT;
        for (int j = 0; j < ncarry; j++)
            gt[a->ngroup + 3 + j] = p->topn->carry_types[j];
    }
    a->group_rows = sl_batch_new(ng, gt, 256);
    a->retracts = sl_batch_new(a->ngroup + 2, gt, 64);
    free(gt);
    a->out = sl_batch_new(p->nout, p->out_types, 256);
    return &a->base;
fail:
    agg_close(&a->base);
    return NULL;
}
