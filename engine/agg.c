/*
** agg.c: the aggregate functions COUNT(*), COUNT(x), COUNT(DISTINCT x),
** SUM, AVG, MIN and MAX, each one sl_agg_func (see agg.h).
**
** States are small fixed-size structs living inside a group's state block;
** only MIN/MAX of TEXT (a copy of the current extreme) and COUNT DISTINCT
** (a hash set of the values seen) own heap memory, freed by destroy.
** SQL semantics: NULL inputs are ignored; SUM/AVG/MIN/MAX of no non-NULL
** input are NULL; COUNT of nothing is 0.
*/
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "engine/agg.h"
#include "engine/error.h"

/* ---- COUNT -------------------------------------------------------------- */

static void count_init(void *st) { *(int64_t *)st = 0; }

static void count_star_step(char *const *states, size_t off,
                            const sl_column *arg, const int *rows, int n)
{
    (void)arg;
    (void)rows;
    for (int k = 0; k < n; k++)
        (*(int64_t *)(states[k] + off))++;
}

static void count_step(char *const *states, size_t off, const sl_column *arg,
                       const int *rows, int n)
{
    for (int k = 0; k < n; k++)
        *(int64_t *)(states[k] + off) += !arg->null[rows[k]];
}

static void count_merge(void *dst, const void *src)
{
    *(int64_t *)dst += *(const int64_t *)src;
}

static void count_final(const void *st, sl_batch *out, int r, int c)
{
    sl_batch_set_int(out, r, c, *(const int64_t *)st);
}

/* ---- SUM / AVG ---------------------------------------------------------- */

/* SUM/AVG of BIGINT: an exact sum and the count of values, whose top bit
** records an overflow (the result is then NULL): 16 bytes */
typedef struct { int64_t sum; uint64_t n; } isum_state;
typedef struct { double sum; int64_t n; } dsum_state;
#define ISUM_OVERFLOW (UINT64_C(1) << 63)

static void isum_init(void *st) { memset(st, 0, sizeof(isum_state)); }
static void dsum_init(void *st) { memset(st, 0, sizeof(dsum_state)); }

static void isum_step(char *const *states, size_t off, const sl_column *arg,
                      const int *rows, int n)
{
    for (int k = 0; k < n; k++) {
        int r = rows[k];
        if (arg->null[r])
            continue;
        isum_state *s = (isum_state *)(states[k] + off);
        if (__builtin_add_overflow(s->sum, arg->v.i[r], &s->sum))
            s->n |= ISUM_OVERFLOW;
        s->n++;
    }
}

static void isum_merge(void *dst, const void *src)
{
    isum_state *d = dst;
    const isum_state *s = src;
    if (__builtin_add_overflow(d->sum, s->sum, &d->sum))
        d->n |= ISUM_OVERFLOW;
    d->n = ((d->n | s->n) & ISUM_OVERFLOW) |
           ((d->n & ~ISUM_OVERFLOW) + (s->n & ~ISUM_OVERFLOW));
}

static void isum_final(const void *st, sl_batch *out, int r, int c)
{
    const isum_state *s = st;
    if (s->n == 0 || (s->n & ISUM_OVERFLOW))
        sl_batch_set_null(out, r, c);
    else
        sl_batch_set_int(out, r, c, s->sum);
}

/* AVG of BIGINT keeps an exact integer sum */
static void iavg_final(const void *st, sl_batch *out, int r, int c)
{
    const isum_state *s = st;
    if (s->n == 0 || (s->n & ISUM_OVERFLOW))
        sl_batch_set_null(out, r, c);
    else
        sl_batch_set_double(out, r, c, (double)s->sum / (double)s->n);
}

static void dsum_step(char *const *states, size_t off, const sl_column *arg,
                      const int *rows, int n)
{
    for (int k = 0; k < n; k++) {
        int r = rows[k];
        if (arg->null[r])
            continue;
        dsum_state *s = (dsum_state *)(states[k] + off);
        s->sum += arg->v.d[r];
        s->n++;
    }
}

static void dsum_merge(void *dst, const void *src)
{
    dsum_state *d = dst;
    const dsum_state *s = src;
    d->sum += s->sum;
    d->n += s->n;
}

static void dsum_final(const void *st, sl_batch *out, int r, int c)
{
    const dsum_state *s = st;
    if (s->n == 0)
        sl_batch_set_null(out, r, c);
    else
        sl_batch_set_double(out, r, c, s->sum);
}

static void davg_final(const void *st, sl_batch *out, int r, int c)
{
    const dsum_state *s = st;
    if (s->n == 0)
        sl_batch_set_null(out, r, c);
    else
        sl_batch_set_double(out, r, c, s->sum / (double)s->n);
}

/* ---- MIN / MAX ---------------------------------------------------------- */

typedef struct { int64_t v; int64_t has; } iext_state;
typedef struct { char *z; int32_t n; int32_t has; } text_state;

/* MIN/MAX of DOUBLE keep 8 bytes: a state without a value holds NONE, a
** NaN that no input keeps (an input with those bits, a NaN as well, is
** stored as the default NaN, which reads back the same in SQL) */
#define NONE_BITS 0x7ff4deadbeef5105ULL

static int dext_has(const double *st)
{
    uint64_t bits;
    memcpy(&bits, st, sizeof bits);
    return bits != NONE_BITS;
}

static void dext_set(double *st, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    *st = bits == NONE_BITS ? __builtin_nan("") : v;
}

static void iext_init(void *st) { memset(st, 0, sizeof(iext_state)); }
static void dext_init(void *st)
{
    uint64_t bits = NONE_BITS;
    memcpy(st, &bits, sizeof bits);
}
static void text_init(void *st) { memset(st, 0, sizeof(text_state)); }

#define EXT_STEP(fname, stype, field, cmp)                                    \
    static void fname(char *const *states, size_t off, const sl_column *arg, \
                      const int *rows, int n)                                 \
    {                                                                         \
        for (int k = 0; k < n; k++) {                                         \
            int r = rows[k];                                                  \
            if (arg->null[r])                                                 \
                continue;                                                     \
            stype *s = (stype *)(states[k] + off);                            \
            if (!s->has || arg->v.field[r] cmp s->v) {                        \
                s->v = arg->v.field[r];                                       \
                s->has = 1;                                                   \
            }                                                                 \
        }                                                                     \
    }

EXT_STEP(imin_step, iext_state, i, <)
EXT_STEP(imax_step, iext_state, i, >)

#define DEXT_STEP(fname, cmp)                                                 \
    static void fname(char *const *states, size_t off, const sl_column *arg, \
                      const int *rows, int n)                                 \
    {                                                                         \
        for (int k = 0; k < n; k++) {                                         \
            int r = rows[k];                                                  \
            if (arg->null[r])                                                 \
                continue;                                                     \
            double *s = (double *)(states[k] + off);                          \
            if (!dext_has(s) || arg->v.d[r] cmp *s)                           \
                dext_set(s, arg->v.d[r]);                                     \
        }                                                                     \
    }

DEXT_STEP(dmin_step, <)
DEXT_STEP(dmax_step, >)

#define EXT_MERGE(fname, stype, cmp)                                          \
    static void fname(void *dst, const void *src)                             \
    {                                                                         \
        stype *d = dst;                                                       \
        const stype *s = src;                                                 \
        if (s->has && (!d->has || s->v cmp d->v)) {                           \
            d->v = s->v;                                                      \
            d->has = 1;                                                       \
        }                                                                     \
    }

EXT_MERGE(imin_merge, iext_state, <)
EXT_MERGE(imax_merge, iext_state, >)

#define DEXT_MERGE(fname, cmp)                                                \
    static void fname(void *dst, const void *src)                             \
    {                                                                         \
        double *d = dst;                                                      \
        const double *s = src;                                                \
        if (dext_has(s) && (!dext_has(d) || *s cmp *d))                       \
            *d = *s;                                                          \
    }

DEXT_MERGE(dmin_merge, <)
DEXT_MERGE(dmax_merge, >)

static void iext_final(const void *st, sl_batch *out, int r, int c)
{
    const iext_state *s = st;
    if (s->has)
        sl_batch_set_int(out, r, c, s->v);
    else
        sl_batch_set_null(out, r, c);
}

static void dext_final(const void *st, sl_batch *out, int r, int c)
{
    const double *s = st;
    if (dext_has(s))
        sl_batch_set_double(out, r, c, *s);
    else
        sl_batch_set_null(out, r, c);
}

static int text_cmp(const char *a, int an, const char *b, int bn)
{
    int m = memcmp(a, b, (size_t)(an < bn ? an : bn));
    return m ? m : (an > bn) - (an < bn);
}

static void text_set(text_state *s, const char *z, int n)
{
    char *copy = malloc((size_t)n + 1);
    if (copy == NULL)
        abort();
    memcpy(copy, z, (size_t)n);
    copy[n] = 0;
    free(s->z);
    s->z = copy;
    s->n = n;
    s->has = 1;
}

static void text_step(char *const *states, size_t off, const sl_column *arg,
                      const int *rows, int n, int sign)
{
    for (int k = 0; k < n; k++) {
        int r = rows[k];
        if (arg->null[r])
            continue;
        text_state *s = (text_state *)(states[k] + off);
        sl_str v = arg->v.s[r];
        if (!s->has || sign * text_cmp(v.z, v.n, s->z, s->n) < 0)
            text_set(s, v.z, v.n);
    }
}

static void tmin_step(char *const *states, size_t off, const sl_column *arg,
                      const int *rows, int n)
{
    text_step(states, off, arg, rows, n, 1);
}

static void tmax_step(char *const *states, size_t off, const sl_column *arg,
                      const int *rows, int n)
{
    text_step(states, off, arg, rows, n, -1);
}

static void tmin_merge(void *dst, const void *src)
{
    text_state *d = dst;
    const text_state *s = src;
    if (s->has && (!d->has || text_cmp(s->z, s->n, d->z, d->n) < 0))
        text_set(d, s->z, s->n);
}

static void tmax_merge(void *dst, const void *src)
{
    text_state *d = dst;
    const text_state *s = src;
    if (s->has && (!d->has || text_cmp(s->z, s->n, d->z, d->n) > 0))
        text_set(d, s->z, s->n);
}

static void text_final(const void *st, sl_batch *out, int r, int c)
{
    const text_state *s = st;
    if (s->has)
        sl_batch_set_text(out, r, c, s->z, (size_t)s->n);
    else
        sl_batch_set_null(out, r, c);
}

static void text_destroy(void *st)
{
    free(((text_state *)st)->z);
}

static void text_save(const void *st, sl_buf *out)
{
    const text_state *s = st;
    sl_buf_put(out, &s->has, sizeof s->has);
    sl_buf_put(out, &s->n, sizeof s->n);
    if (s->has)
        sl_buf_put(out, s->z, (size_t)s->n);
}

static int text_load(void *st, const unsigned char **p, const unsigned char *end)
{
    text_state *s = st;
    int32_t has, n;
    if (sl_buf_get(p, end, &has, sizeof has) || sl_buf_get(p, end, &n, sizeof n) ||
        n < 0 || (has && end - *p < n))
        return -1;
    if (has) {
        text_set(s, (const char *)*p, n);
        *p += n;
    }
    return 0;
}

/* ---- COUNT(DISTINCT x) ---------------------------------------------------
** An open-addressing set of 64-bit values (integers, timestamps, booleans,
** doubles by their bits) or of texts (keyed by their hash). One 32-byte
** slot per value: the probe touches one cache line; a text of up to 16
** bytes is kept in its slot, a longer one in the set's text arena (an
** sl_arena freed with the set: texts are never removed one by one, so no
** malloc per value). The state is a pointer to the set. */

#define DSET_INLINE 16

typedef struct dslot {
    uint64_t key;          /* value bits, or hash for text */
    int32_t n;             /* text length */
    int32_t used;
    union {
        char in[DSET_INLINE];  /* a text of up to DSET_INLINE bytes */
        char *z;               /* a longer one, in the arena */
    } t;
} dslot;

typedef struct dset {
    dslot *slots;
    size_t cap, n;
    int is_text;
    sl_arena texts;        /* the texts longer than DSET_INLINE */
} dset;

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_text(const char *z, int n)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < n; i++)
        h = (h ^ (unsigned char)z[i]) * 1099511628211ULL;
    return mix64(h);
}

static dset *dset_new(int is_text)
{
    dset *s = sl_xcalloc(1, sizeof *s);
    s->is_text = is_text;
    sl_arena_init(&s->texts);
    return s;
}

static const char *dslot_text(const dslot *sl)
{
    return sl->n <= DSET_INLINE ? sl->t.in : sl->t.z;
}

static void dset_grow(dset *s)
{
    size_t oldcap = s->cap;
    dslot *old = s->slots;
    s->cap = oldcap ? oldcap * 2 : 8;
    s->slots = sl_xcalloc(s->cap, sizeof *s->slots);
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].used)
            continue;
        size_t j = mix64(old[i].key) & (s->cap - 1);
        while (s->slots[j].used)
            j = (j + 1) & (s->cap - 1);
        s->slots[j] = old[i];
    }
    free(old);
}

static void dset_insert(dset *s, uint64_t key, const char *z, int n)
{
    if ((s->n + 1) * 4 > s->cap * 3)
        dset_grow(s);
    size_t j = mix64(key) & (s->cap - 1);
    dslot *sl;
    while ((sl = &s->slots[j])->used) {
        if (sl->key == key &&
            (!s->is_text || (sl->n == n &&
                             memcmp(dslot_text(sl), z, (size_t)n) == 0)))
            return;
        j = (j + 1) & (s->cap - 1);
    }
    sl->used = 1;
    sl->key = key;
    if (s->is_text) {
        sl->n = n;
        if (n <= DSET_INLINE)
            memcpy(sl->t.in, z, (size_t)n);
        else
            sl->t.z = memcpy(sl_arena_alloc(&s->texts, (size_t)n), z, (size_t)n);
    }
    s->n++;
}

static void dset_free(dset *s)
{
    if (s == NULL)
        return;
    sl_arena_free(&s->texts);
    free(s->slots);
    free(s);
}

static void distinct_init(void *st) { *(dset **)st = NULL; }

static void distinct_step(char *const *states, size_t off, const sl_column *arg,
                          const int *rows, int n)
{
    for (int k = 0; k < n; k++) {
        int r = rows[k];
        if (arg->null[r])
            continue;
        dset **ps = (dset **)(states[k] + off);
        if (*ps == NULL)
            *ps = dset_new(arg->type == SL_TEXT);
        if (arg->type == SL_TEXT) {
            sl_str v = arg->v.s[r];
            dset_insert(*ps, hash_text(v.z, v.n), v.z, v.n);
        } else if (arg->type == SL_DOUBLE) {
            double d = arg->v.d[r];
            if (d == 0)
                d = 0;     /* -0.0 and 0.0 are one value */
            uint64_t bits;
            memcpy(&bits, &d, sizeof bits);
            dset_insert(*ps, bits, NULL, 0);
        } else {
            dset_insert(*ps, (uint64_t)arg->v.i[r], NULL, 0);
        }
    }
}

static void distinct_merge(void *dst, const void *src)
{
    dset *s = *(dset *const *)src;
    if (s == NULL)
        return;
    dset **pd = (dset **)dst;
    if (*pd == NULL)
        *pd = dset_new(s->is_text);
    for (size_t i = 0; i < s->cap; i++) {
        const dslot *sl = &s->slots[i];
        if (sl->used)
            dset_insert(*pd, sl->key, s->is_text ? dslot_text(sl) : NULL,
                        s->is_text ? sl->n : 0);
    }
}

static void distinct_final(const void *st, sl_batch *out, int r, int c)
{
    const dset *s = *(dset *const *)st;
    sl_batch_set_int(out, r, c, s ? (int64_t)s->n : 0);
}

static void distinct_destroy(void *st)
{
    dset_free(*(dset **)st);
}

static void distinct_save(const void *st, sl_buf *out)
{
    const dset *s = *(dset *const *)st;
    int32_t is_text = s ? s->is_text : 0;
    uint64_t n = s ? s->n : 0;
    sl_buf_put(out, &is_text, sizeof is_text);
    sl_buf_put(out, &n, sizeof n);
    for (size_t i = 0; s && i < s->cap; i++) {
        const dslot *sl = &s->slots[i];
        if (!sl->used)
            continue;
        sl_buf_put(out, &sl->key, sizeof sl->key);
        if (s->is_text) {
            sl_buf_put(out, &sl->n, sizeof sl->n);
            sl_buf_put(out, dslot_text(sl), (size_t)sl->n);
        }
    }
}

static int distinct_load(void *st, const unsigned char **p,
                         const unsigned char *end)
{
    int32_t is_text;
    uint64_t n;
    if (sl_buf_get(p, end, &is_text, sizeof is_text) ||
        sl_buf_get(p, end, &n, sizeof n))
        return -1;
    if (n == 0)
        return 0;
    dset *s = dset_new(is_text);
    *(dset **)st = s;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t key;
        int32_t len = 0;
        if (sl_buf_get(p, end, &key, sizeof key))
            return -1;
        if (is_text) {
            if (sl_buf_get(p, end, &len, sizeof len) || len < 0 ||
                end - *p < len)
                return -1;
            dset_insert(s, key, (const char *)*p, len);
            *p += len;
        } else {
            dset_insert(s, key, NULL, 0);
        }
    }
    return 0;
}

/* ---- the table ---------------------------------------------------------- */

static const sl_agg_func f_count_star = {"count", 8, count_init,
    count_star_step, count_merge, count_final, NULL, NULL, NULL};
static const sl_agg_func f_count = {"count", 8, count_init, count_step,
    count_merge, count_final, NULL, NULL, NULL};
static const sl_agg_func f_count_distinct = {"count", sizeof(dset *),
    distinct_init, distinct_step, distinct_merge, distinct_final,
    distinct_destroy, distinct_save, distinct_load};
static const sl_agg_func f_isum = {"sum", sizeof(isum_state), isum_init,
    isum_step, isum_merge, isum_final, NULL, NULL, NULL};
static const sl_agg_func f_dsum = {"sum", sizeof(dsum_state), dsum_init,
    dsum_step, dsum_merge, dsum_final, NULL, NULL, NULL};
static const sl_agg_func f_iavg = {"avg", sizeof(isum_state), isum_init,
    isum_step, isum_merge, iavg_final, NULL, NULL, NULL};
static const sl_agg_func f_davg = {"avg", sizeof(dsum_state), dsum_init,
    dsum_step, dsum_merge, davg_final, NULL, NULL, NULL};
static const sl_agg_func f_imin = {"min", sizeof(iext_state), iext_init,
    imin_step, imin_merge, iext_final, NULL, NULL, NULL};
static const sl_agg_func f_imax = {"max", sizeof(iext_state), iext_init,
    imax_step, imax_merge, iext_final, NULL, NULL, NULL};
static const sl_agg_func f_dmin = {"min", sizeof(double), dext_init,
    dmin_step, dmin_merge, dext_final, NULL, NULL, NULL};
static const sl_agg_func f_dmax = {"max", sizeof(double), dext_init,
    dmax_step, dmax_merge, dext_final, NULL, NULL, NULL};
static const sl_agg_func f_tmin = {"min", sizeof(text_state), text_init,
    tmin_step, tmin_merge, text_final, text_destroy, text_save, text_load};
static const sl_agg_func f_tmax = {"max", sizeof(text_state), text_init,
    tmax_step, tmax_merge, text_final, text_destroy, text_save, text_load};

const sl_agg_func *sl_agg_lookup(const char *name, sl_type arg, int distinct,
                                 sl_type *result)
{
    if (strcasecmp(name, "count") == 0) {
        *result = SL_BIGINT;
        if (arg == SL_NULL)
            return distinct ? NULL : &f_count_star;
        return distinct ? &f_count_distinct : &f_count;
    }
    if (distinct)
        return NULL;
    int is_int = arg == SL_BIGINT || arg == SL_INTERVAL;
    if (strcasecmp(name, "sum") == 0) {
        *result = arg == SL_DOUBLE ? SL_DOUBLE : arg;
        return is_int ? &f_isum : arg == SL_DOUBLE ? &f_dsum : NULL;
    }
    if (strcasecmp(name, "avg") == 0) {
        *result = SL_DOUBLE;
        return arg == SL_BIGINT ? &f_iavg : arg == SL_DOUBLE ? &f_davg : NULL;
    }
    int is_min = strcasecmp(name, "min") == 0;
    if (is_min || strcasecmp(name, "max") == 0) {
        *result = arg;
        switch (arg) {
        case SL_BIGINT: case SL_TIMESTAMP: case SL_INTERVAL: case SL_BOOL:
            return is_min ? &f_imin : &f_imax;
        case SL_DOUBLE:
            return is_min ? &f_dmin : &f_dmax;
        case SL_TEXT:
            return is_min ? &f_tmin : &f_tmax;
        default:
            return NULL;
        }
    }
    return NULL;
}
