/*
** topn.c: the kept rows of a window Top-N (see topn.h).
**
** A set is a sorted array of row pointers, best first; each row is one
** allocation holding its order value, its kept values and their text. The
** common case costs one comparison per event: a full set rejects a row
** that ranks after its last one before anything is copied.
*/
#include "engine/topn.h"
#include "engine/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct trow {
    union {
        int64_t i;
        double d;
    } key;
    uint64_t seq;            /* arrival: ties rank in seq order */
    int null;                /* the order value is NULL */
    sl_value vals[];         /* ncarry values; their text follows them */
} trow;

struct sl_topn {
    uint32_t n, cap;
    uint32_t full;           /* a row ranked after the last one is dropped */
    trow **rows;
};

int sl_topn_cmp(const sl_topn_spec *sp, int anull, int64_t ai, double ad,
                int bnull, int64_t bi, double bd)
{
    if (anull || bnull)
        return anull - bnull;
    int c;
    if (sp->order_type == SL_DOUBLE) {
        /* NaN sorts as the largest value, as in SQLite and DuckDB */
        int an = isnan(ad), bn = isnan(bd);
        c = an || bn ? an - bn : (ad > bd) - (ad < bd);
    } else {
        c = (ai > bi) - (ai < bi);
    }
    return sp->desc ? -c : c;
}

/* <0: a ranks before b; 0: tie; >0: a ranks after b. */
static int key_cmp(const sl_topn_spec *sp, int anull, int64_t ai, double ad,
                   const trow *b)
{
    return sl_topn_cmp(sp, anull, ai, ad, b->null, b->key.i, b->key.d);
}

static int row_cmp(const sl_topn_spec *sp, const trow *a, const trow *b)
{
    return key_cmp(sp, a->null, a->key.i, a->key.d, b);
}

/* row_cmp, ties broken by arrival: the order of a set's rows. */
static int row_order(const sl_topn_spec *sp, const trow *a, const trow *b)
{
    int c = row_cmp(sp, a, b);
    return c != 0 ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/* How many of t's rows have rank <= n; sets t->full. */
static uint32_t keep_count(const sl_topn_spec *sp, sl_topn *t)
{
    uint64_t n = (uint64_t)sp->n;
    if (sp->kind == SL_RANK_DENSE) {
        uint64_t d = t->n > 0;
        for (uint32_t i = 1; i < t->n; i++)
            if (row_cmp(sp, t->rows[i], t->rows[i - 1]) != 0 && ++d > n) {
                t->full = 1;
                return i;
            }
        t->full = d >= n;
        return t->n;
    }
    if (t->n < n) {
        t->full = 0;
        return t->n;
    }
    t->full = 1;
    uint32_t k = (uint32_t)n;
    if (sp->kind == SL_RANK_RANK)
        while (k < t->n && row_cmp(sp, t->rows[k], t->rows[n - 1]) == 0)
            k++;
    return k;
}

/* Whether a row with this order value and arrival would be kept. */
static int wanted(const sl_topn_spec *sp, const sl_topn *t, int null,
                  int64_t i, double d, uint64_t seq)
{
    if (t == NULL || !t->full)
        return 1;
    const trow *last = t->rows[t->n - 1];
    int c = key_cmp(sp, null, i, d, last);
    if (c == 0 && sp->kind == SL_RANK_ROW_NUMBER)
        return seq < last->seq;     /* a merged row may have arrived first */
    return c <= 0;
}

static size_t row_bytes(const sl_topn_spec *sp, const trow *r);

/* Inserts r (owned) in rank order (after the rows it ties with that
** arrived before it), then drops the rows ranked past n. *bytes (if not
** NULL) gets the change in bytes held. */
static void insert(const sl_topn_spec *sp, sl_topn **pt, trow *r,
                   int64_t *bytes)
{
    sl_topn *t = *pt;
    int64_t delta = (int64_t)row_bytes(sp, r);
    if (t == NULL) {
        t = *pt = sl_xcalloc(1, sizeof *t);
        delta += (int64_t)sizeof *t;
    }
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 2;
        delta += (int64_t)(sizeof *t->rows * (cap - t->cap));
        t->cap = cap;
        t->rows = sl_xrealloc(t->rows, sizeof *t->rows * t->cap);
    }
    uint32_t at = t->n;
    while (at > 0 && row_order(sp, r, t->rows[at - 1]) < 0)
        at--;
    memmove(t->rows + at + 1, t->rows + at, sizeof *t->rows * (t->n - at));
    t->rows[at] = r;
    t->n++;
    uint32_t keep = keep_count(sp, t);
    for (uint32_t k = keep; k < t->n; k++) {
        delta -= (int64_t)row_bytes(sp, t->rows[k]);
        free(t->rows[k]);
    }
    t->n = keep;
    if (bytes)
        *bytes += delta;
}

/* A row of nval values with room for text bytes after them. */
static trow *row_new(const sl_topn_spec *sp, size_t text)
{
    return sl_xmalloc(sizeof(trow) + sizeof(sl_value) * (size_t)sp->ncarry +
                      text);
}

static char *row_text(const sl_topn_spec *sp, trow *r)
{
    return (char *)(r->vals + sp->ncarry);
}

void sl_topn_step(const sl_topn_spec *sp, char *const *states, size_t off,
                  const sl_column *cols, const int *rows, int n,
                  uint64_t seq0, int64_t *bytes)
{
    const sl_column *o = &cols[0];
    for (int k = 0; k < n; k++) {
        int r = rows[k];
        sl_topn **pt = (sl_topn **)(states[k] + off);
        int null = o->null[r] != 0;
        int64_t i = 0;
        double d = 0;
        if (!null) {
            if (sp->order_type == SL_DOUBLE)
                d = o->v.d[r];
            else
                i = o->v.i[r];
        }
        uint64_t seq = seq0 + (uint64_t)r;
        if (!wanted(sp, *pt, null, i, d, seq))
            continue;
        size_t text = 0;
        for (int c = 0; c < sp->ncarry; c++)
            if (sp->carry_types[c] == SL_TEXT && !cols[1 + c].null[r])
                text += (size_t)cols[1 + c].v.s[r].n;
        trow *row = row_new(sp, text);
        row->null = null;
        row->seq = seq;
        if (sp->order_type == SL_DOUBLE)
            row->key.d = d;
        else
            row->key.i = i;
        char *z = row_text(sp, row);
        for (int c = 0; c < sp->ncarry; c++) {
            const sl_column *col = &cols[1 + c];
            sl_value *v = &row->vals[c];
            v->type = sp->carry_types[c];
            v->is_null = col->null[r] != 0;
            if (v->is_null)
                continue;
            if (v->type == SL_TEXT) {
                sl_str s = col->v.s[r];
                memcpy(z, s.z, (size_t)s.n);
                v->u.s.z = z;
                v->u.s.n = s.n;
                z += s.n;
            } else if (v->type == SL_DOUBLE) {
                v->u.d = col->v.d[r];
            } else {
                v->u.i = col->v.i[r];
            }
        }
        insert(sp, pt, row, bytes);
    }
}

static size_t row_text_bytes(const sl_topn_spec *sp, const trow *r)
{
    size_t n = 0;
    for (int c = 0; c < sp->ncarry; c++)
        if (r->vals[c].type == SL_TEXT && !r->vals[c].is_null)
            n += (size_t)r->vals[c].u.s.n;
    return n;
}

static size_t row_bytes(const sl_topn_spec *sp, const trow *r)
{
    return sizeof(trow) + sizeof(sl_value) * (size_t)sp->ncarry +
           row_text_bytes(sp, r);
}

static trow *row_copy(const sl_topn_spec *sp, const trow *src)
{
    size_t text = row_text_bytes(sp, src);
    trow *r = row_new(sp, text);
    memcpy(r, src, sizeof(trow) + sizeof(sl_value) * (size_t)sp->ncarry);
    char *z = row_text(sp, r);
    for (int c = 0; c < sp->ncarry; c++) {
        sl_value *v = &r->vals[c];
        if (v->type == SL_TEXT && !v->is_null) {
            memcpy(z, v->u.s.z, (size_t)v->u.s.n);
            v->u.s.z = z;
            z += v->u.s.n;
        }
    }
    return r;
}

void sl_topn_merge(const sl_topn_spec *sp, sl_topn **dst, const sl_topn *src,
                   int64_t *bytes)
{
    if (src == NULL)
        return;
    for (uint32_t i = 0; i < src->n; i++) {
        const trow *r = src->rows[i];
        if (wanted(sp, *dst, r->null, r->key.i, r->key.d, r->seq))
            insert(sp, dst, row_copy(sp, r), bytes);
    }
}

uint32_t sl_topn_count(const sl_topn *t)
{
    return t ? t->n : 0;
}

uint64_t sl_topn_last_seq(const sl_topn *t)
{
    uint64_t m = 0;
    for (uint32_t i = 0; t != NULL && i < t->n; i++)
        if (t->rows[i]->seq > m)
            m = t->rows[i]->seq;
    return m;
}

int64_t sl_topn_rank(const sl_topn_spec *sp, const sl_topn *t, uint32_t i,
                     int64_t prev)
{
    if (i == 0)
        return 1;
    if (sp->kind == SL_RANK_ROW_NUMBER ||
        row_cmp(sp, t->rows[i], t->rows[i - 1]) != 0)
        return sp->kind == SL_RANK_DENSE ? prev + 1 : (int64_t)i + 1;
    return prev;
}

void sl_topn_fill(const sl_topn_spec *sp, const sl_topn *t, uint32_t i,
                  sl_batch *out, int r, int c0)
{
    const trow *row = t->rows[i];
    for (int c = 0; c < sp->ncarry; c++) {
        const sl_value *v = &row->vals[c];
        if (v->is_null)
            continue;
        if (v->type == SL_TEXT)
            sl_batch_set_text(out, r, c0 + c, v->u.s.z, (size_t)v->u.s.n);
        else if (v->type == SL_DOUBLE)
            sl_batch_set_double(out, r, c0 + c, v->u.d);
        else
            sl_batch_set_int(out, r, c0 + c, v->u.i);
    }
}

void sl_topn_free(sl_topn *t)
{
    if (t == NULL)
        return;
    for (uint32_t i = 0; i < t->n; i++)
        free(t->rows[i]);
    free(t->rows);
    free(t);
}

size_t sl_topn_bytes(const sl_topn_spec *sp, const sl_topn *t)
{
    if (t == NULL)
        return 0;
    size_t n = sizeof *t + sizeof *t->rows * t->cap;
    for (uint32_t i = 0; i < t->n; i++)
        n += row_bytes(sp, t->rows[i]);
    return n;
}

/* ---- checkpoints ---------------------------------------------------------
** u32 rows; per row: u8 null, 8-byte order value, 8-byte arrival, then per
** kept value u8 null and, when not NULL, 8 bytes or (TEXT) u32 length and
** the bytes. */

void sl_topn_save(const sl_topn_spec *sp, const sl_topn *t, sl_buf *out)
{
    uint32_t n = sl_topn_count(t);
    sl_buf_put(out, &n, sizeof n);
    for (uint32_t i = 0; i < n; i++) {
        const trow *r = t->rows[i];
        uint8_t null = (uint8_t)r->null;
        sl_buf_put(out, &null, 1);
        sl_buf_put(out, &r->key, sizeof r->key);
        sl_buf_put(out, &r->seq, sizeof r->seq);
        for (int c = 0; c < sp->ncarry; c++) {
            const sl_value *v = &r->vals[c];
            null = (uint8_t)v->is_null;
            sl_buf_put(out, &null, 1);
            if (null)
                continue;
            if (v->type == SL_TEXT) {
                uint32_t len = (uint32_t)v->u.s.n;
                sl_buf_put(out, &len, sizeof len);
                sl_buf_put(out, v->u.s.z, len);
            } else {
                sl_buf_put(out, &v->u, 8);
            }
        }
    }
}

int sl_topn_load(const sl_topn_spec *sp, sl_topn **t, const unsigned char **p,
                 const unsigned char *end, int64_t *bytes)
{
    uint32_t n;
    if (sl_buf_get(p, end, &n, sizeof n) != 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        /* the text's size first, then the row in one allocation */
        const unsigned char *q = *p;
        size_t text = 0;
        uint8_t null;
        if (sl_buf_get(&q, end, &null, 1) != 0 || end - q < 16)
            return -1;
        q += 16;
        for (int c = 0; c < sp->ncarry; c++) {
            if (sl_buf_get(&q, end, &null, 1) != 0)
                return -1;
            if (null)
                continue;
            if (sp->carry_types[c] == SL_TEXT) {
                uint32_t len;
                if (sl_buf_get(&q, end, &len, sizeof len) != 0 ||
                    (size_t)(end - q) < len || len > INT32_MAX)
                    return -1;
                q += len;
                text += len;
            } else {
                if (end - q < 8)
                    return -1;
                q += 8;
            }
        }
        trow *r = row_new(sp, text);
        char *z = row_text(sp, r);
        sl_buf_get(p, end, &null, 1);
        r->null = null != 0;
        sl_buf_get(p, end, &r->key, sizeof r->key);
        sl_buf_get(p, end, &r->seq, sizeof r->seq);
        for (int c = 0; c < sp->ncarry; c++) {
            sl_value *v = &r->vals[c];
            v->type = sp->carry_types[c];
            sl_buf_get(p, end, &null, 1);
            v->is_null = null != 0;
            if (null)
                continue;
            if (v->type == SL_TEXT) {
                uint32_t len;
                sl_buf_get(p, end, &len, sizeof len);
                memcpy(z, *p, len);
                *p += len;
                v->u.s.z = z;
                v->u.s.n = (int32_t)len;
                z += len;
            } else {
                sl_buf_get(p, end, &v->u, 8);
            }
        }
        /* saved rows are in rank order, and keep their arrival */
        insert(sp, t, r, bytes);
    }
    return 0;
}
