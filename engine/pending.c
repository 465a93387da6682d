/*
** pending.c: a query's changes between two commit points (see pending.h).
**
** Result changes are a list of entries, each a copy of one run of writes
** or of retractions the operators made: replayed in that order, they give
** the table the same rows as writing them at once would have (a run of
** upserts keeps its order, so a key's last row wins; a global aggregate's
** writer replaces its table at each write, so its writes stay apart).
** Entry batches are kept for reuse while their column types fit. Dead
** letters are serialised one after another into a buffer.
*/
#include <stdlib.h>
#include <string.h>
#include "engine/pending.h"

/* The bound of one query's pending memory: past either, it asks for a
** commit point. Not much less: each commit point also saves the operator
** state changed since the last one, and forcing them every 32 Ki result
** rows made B4 (session windows, a result row per 1.35 events) 2.3 times
** slower; 16 MiB is about 300 000 B4 rows, near a second's worth. */
#define PENDING_MAX_ROWS (1 << 20)
#define PENDING_MAX_BYTES ((size_t)16 << 20)

typedef struct entry {
    int retract;
    sl_batch *rows;
} entry;

struct sl_pending {
    int separate_writes;
    entry *entries;
    int n, cap;            /* entries in use; entries with a batch */
    int64_t rows;
    size_t bytes;
    sl_buf dead;           /* serialised dead letters */
};

sl_pending *sl_pending_new(int separate_writes)
{
    sl_pending *p = sl_xcalloc(1, sizeof(sl_pending));
    p->separate_writes = separate_writes;
    return p;
}

void sl_pending_free(sl_pending *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->cap; i++)
        sl_batch_free(p->entries[i].rows);
    free(p->entries);
    sl_buf_free(&p->dead);
    free(p);
}

static int same_types(const sl_batch *a, const sl_batch *b)
{
    if (a->ncols != b->ncols)
        return 0;
    for (int c = 0; c < a->ncols; c++)
        if (a->cols[c].type != b->cols[c].type)
            return 0;
    return 1;
}

static void add(sl_pending *p, int retract, const sl_batch *src)
{
    if (src->nrows == 0)
        return;
    entry *last = p->n > 0 ? &p->entries[p->n - 1] : NULL;
    if (last != NULL && last->retract == retract &&
        (retract || !p->separate_writes) && same_types(last->rows, src)) {
        p->bytes += sl_batch_append(last->rows, src) +
                    (size_t)src->nrows * (size_t)src->ncols * 9;
        p->rows += src->nrows;
        return;
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->entries = sl_xrealloc(p->entries, sizeof *p->entries * (size_t)p->cap);
        memset(p->entries + p->n, 0, sizeof *p->entries * (size_t)(p->cap - p->n));
    }
    entry *e = &p->entries[p->n++];
    if (e->rows != NULL && !same_types(e->rows, src)) {
        sl_batch_free(e->rows);
        e->rows = NULL;
    }
    if (e->rows == NULL) {
        sl_type types[src->ncols > 0 ? src->ncols : 1];
        for (int c = 0; c < src->ncols; c++)
            types[c] = src->cols[c].type;
        e->rows = sl_batch_new(src->ncols, types, src->nrows);
    }
    e->retract = retract;
    sl_batch_reset(e->rows);
    p->bytes += sl_batch_append(e->rows, src) +
                (size_t)src->nrows * (size_t)src->ncols * 9;
    p->rows += src->nrows;
}

void sl_pending_write(sl_pending *p, const sl_batch *out)
{
    add(p, 0, out);
}

void sl_pending_retract(sl_pending *p, const sl_batch *keys)
{
    add(p, 1, keys);
}

/* A length, then the bytes and a NUL (none for a missing text, n < 0):
** location and reason come back as the C strings they went in as. */
static void put_text(sl_buf *b, const char *z, int n)
{
    sl_buf_put(b, &n, sizeof n);
    if (n >= 0) {
        sl_buf_put(b, z, (size_t)n);
        sl_buf_put(b, "", 1);
    }
}

void sl_pending_dead(sl_pending *p, int side, const char *location,
                     const char *raw, int rawlen, const char *reason)
{
    size_t before = p->dead.n;
    sl_buf_put(&p->dead, &side, sizeof side);
    put_text(&p->dead, location, (int)strlen(location));
    put_text(&p->dead, raw, raw ? rawlen : -1);
    put_text(&p->dead, reason, (int)strlen(reason));
    p->bytes += p->dead.n - before;
    p->rows++;
}

int sl_pending_full(const sl_pending *p)
{
    return p->rows >= PENDING_MAX_ROWS || p->bytes >= PENDING_MAX_BYTES;
}

void sl_pending_reset(sl_pending *p)
{
    for (int i = 0; i < p->n; i++)
        sl_batch_reset(p->entries[i].rows);
    p->n = 0;
    p->rows = 0;
    p->bytes = 0;
    p->dead.n = 0;
}

/* Reads a text written by put_text at *at: NULL for a missing one. */
static const char *get_text(const sl_buf *b, size_t *at, int *n)
{
    memcpy(n, b->z + *at, sizeof *n);
    *at += sizeof *n;
    if (*n < 0)
        return NULL;
    const char *z = (const char *)b->z + *at;
    *at += (size_t)*n + 1;
    return z;
}

int sl_pending_drain(sl_pending *p, const sl_pending_target *target,
                     void *ctx, sl_error *err)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < p->n; i++) {
        const entry *e = &p->entries[i];
        rc = e->retract ? target->retract(ctx, e->rows, err)
                        : target->write(ctx, e->rows, err);
    }
    size_t at = 0;
    while (rc == 0 && at < p->dead.n) {
        int side, nloc, nraw, nreason;
        memcpy(&side, p->dead.z + at, sizeof side);
        at += sizeof side;
        const char *loc = get_text(&p->dead, &at, &nloc);
        const char *raw = get_text(&p->dead, &at, &nraw);
        const char *reason = get_text(&p->dead, &at, &nreason);
        rc = target->dead(ctx, side, loc, raw, nraw, reason, err);
    }
    sl_pending_reset(p);
    return rc;
}
