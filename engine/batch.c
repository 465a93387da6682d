/*
** batch.c: columnar row batches and the text arena (see batch.h).
**
** Memory grows geometrically and is kept across resets, so a pipeline in
** steady state allocates nothing per event.
*/
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "engine/error.h"
#include "engine/batch.h"
#include "connectors/decoder.h"
#include "engine/functions.h"

struct sl_arena_block {
    sl_arena_block *next;
    size_t size, used;
    char data[];
};

void sl_arena_init(sl_arena *a)
{
    a->head = a->first = NULL;
}

void *sl_arena_alloc(sl_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    sl_arena_block *b = a->head;
    while (b != NULL && b->used + n > b->size) {
        /* try the next kept block (after a reset) */
        b = b->next;
        if (b != NULL) {
            b->used = 0;
            a->head = b;
        }
    }
    if (b == NULL) {
        size_t size = 64 * 1024;
        while (size < n)
            size *= 2;
        b = sl_xmalloc(sizeof *b + size);
        b->size = size;
        b->used = 0;
        b->next = NULL;
        if (a->head != NULL) {
            /* insert after head so kept blocks stay reachable */
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->first;
            a->first = b;
        }
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

sl_str sl_arena_strdup(sl_arena *a, const char *z, size_t n)
{
    char *p = sl_arena_alloc(a, n + 1);
    if (n)
        memcpy(p, z, n);
    p[n] = 0;
    return (sl_str){p, (int32_t)n};
}

void sl_arena_reset(sl_arena *a)
{
    a->head = a->first;
    if (a->head != NULL)
        a->head->used = 0;
}

void sl_arena_free(sl_arena *a)
{
    sl_arena_block *b = a->first;
    while (b != NULL) {
        sl_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = a->first = NULL;
}

static size_t value_size(sl_type t)
{
    switch (t) {
    case SL_DOUBLE:
        return sizeof(double);
    case SL_TEXT:
        return sizeof(sl_str);
    default:
        return sizeof(int64_t);
    }
}

sl_batch *sl_batch_new(int ncols, const sl_type *types, int cap)
{
    sl_batch *b = sl_xmalloc(sizeof *b);
    memset(b, 0, sizeof *b);
    b->ncols = ncols;
    b->cols = sl_xmalloc(sizeof(sl_column) * (ncols ? ncols : 1));
    memset(b->cols, 0, sizeof(sl_column) * (ncols ? ncols : 1));
    for (int c = 0; c < ncols; c++)
        b->cols[c].type = types[c];
    sl_arena_init(&b->arena);
    sl_batch_reserve(b, cap > 0 ? cap : 16);
    return b;
}

void sl_batch_free(sl_batch *b)
{
    if (b == NULL)
        return;
    for (int c = 0; c < b->ncols; c++) {
        free(b->cols[c].null);
        free(b->cols[c].v.i);
    }
    free(b->cols);
    free(b->loc);
    sl_arena_free(&b->arena);
    free(b);
}

void sl_batch_reset(sl_batch *b)
{
    b->nrows = 0;
    b->selected = NULL;
    sl_arena_reset(&b->arena);
}

void sl_batch_reserve(sl_batch *b, int cap)
{
    if (cap <= b->cap)
        return;
    for (int c = 0; c < b->ncols; c++) {
        sl_column *col = &b->cols[c];
        col->null = sl_xrealloc(col->null, (size_t)cap);
        col->v.i = sl_xrealloc(col->v.i, value_size(col->type) * (size_t)cap);
    }
    b->loc = sl_xrealloc(b->loc, sizeof(sl_rowloc) * (size_t)cap);
    b->cap = cap;
}

int sl_batch_add_row(sl_batch *b)
{
    if (b->nrows == b->cap)
        sl_batch_reserve(b, b->cap * 2);
    int r = b->nrows++;
    for (int c = 0; c < b->ncols; c++)
        b->cols[c].null[r] = 1;
    memset(&b->loc[r], 0, sizeof b->loc[r]);
    return r;
}

void sl_batch_set_int(sl_batch *b, int r, int c, int64_t v)
{
    b->cols[c].v.i[r] = v;
    b->cols[c].null[r] = 0;
}

void sl_batch_set_double(sl_batch *b, int r, int c, double v)
{
    b->cols[c].v.d[r] = v;
    b->cols[c].null[r] = 0;
}

void sl_batch_set_text(sl_batch *b, int r, int c, const char *z, size_t n)
{
    b->cols[c].v.s[r] = sl_arena_strdup(&b->arena, z, n);
    b->cols[c].null[r] = 0;
}

void sl_batch_set_null(sl_batch *b, int r, int c)
{
    b->cols[c].null[r] = 1;
}

sl_value sl_batch_get(const sl_batch *b, int r, int c)
{
    const sl_column *col = &b->cols[c];
    sl_value v;
    memset(&v, 0, sizeof v);
    v.type = col->type;
    v.is_null = col->null[r] != 0;
    if (v.is_null)
        return v;
    switch (col->type) {
    case SL_DOUBLE:
        v.u.d = col->v.d[r];
        break;
    case SL_TEXT:
        v.u.s = col->v.s[r];
        break;
    default:
        v.u.i = col->v.i[r];
        break;
    }
    return v;
}

void sl_batch_select(sl_batch *b, const int *rows, int n)
{
    for (int c = 0; c < b->ncols; c++) {
        sl_column *col = &b->cols[c];
        size_t sz = value_size(col->type);
        char *v = (char *)col->v.i;
        for (int k = 0; k < n; k++) {
            int r = rows[k];
            if (r == k)
                continue;
            col->null[k] = col->null[r];
            memcpy(v + (size_t)k * sz, v + (size_t)r * sz, sz);
        }
    }
    for (int k = 0; k < n; k++)
        if (rows[k] != k)
            b->loc[k] = b->loc[rows[k]];
    b->nrows = n;
}

size_t sl_batch_append(sl_batch *dst, const sl_batch *src)
{
    int n = src->nrows, at = dst->nrows;
    size_t text = 0;
    if (at + n > dst->cap) {
        int cap = dst->cap > 0 ? dst->cap : 16;
        while (cap < at + n)
            cap *= 2;
        sl_batch_reserve(dst, cap);
    }
    for (int c = 0; c < src->ncols; c++) {
        const sl_column *from = &src->cols[c];
        sl_column *to = &dst->cols[c];
        size_t sz = value_size(from->type);
        memcpy(to->null + at, from->null, (size_t)n);
        memcpy((char *)to->v.i + (size_t)at * sz, from->v.i, (size_t)n * sz);
        if (from->type != SL_TEXT)
            continue;
        /* the column's text in one block, each value NUL-terminated */
        size_t need = 0;
        for (int r = 0; r < n; r++)
            if (!from->null[r])
                need += (size_t)from->v.s[r].n + 1;
        char *p = need ? sl_arena_alloc(&dst->arena, need) : NULL;
        for (int r = 0; r < n; r++) {
            if (from->null[r])
                continue;
            size_t len = (size_t)from->v.s[r].n;
            memcpy(p, from->v.s[r].z, len);
            p[len] = 0;
            to->v.s[at + r] = (sl_str){p, (int32_t)len};
            p += len + 1;
        }
        text += need;
    }
    memcpy(dst->loc + at, src->loc, sizeof *src->loc * (size_t)n);
    dst->nrows = at + n;
    return text;
}

const char *sl_column_text(const sl_column *col, int r, char *buf, int *len)
{
    if (col->null[r])
        return NULL;
    switch (col->type) {
    case SL_TEXT:
        *len = col->v.s[r].n;
        return col->v.s[r].z;
    case SL_DOUBLE:
        *len = sl_format_double(col->v.d[r], buf);
        return buf;
    case SL_TIMESTAMP:
        *len = sl_ts_format(col->v.i[r], buf);
        return buf;
    case SL_BOOL:
        *len = snprintf(buf, 64, "%s", col->v.i[r] ? "true" : "false");
        return buf;
    default:
        *len = sl_xfmt_int(col->v.i[r], buf);
        return buf;
    }
}

void sl_buf_put(sl_buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n)
            cap *= 2;
        b->z = realloc(b->z, cap);
        if (b->z == NULL)
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->z + b->n, p, n);
    b->n += n;
}

void sl_buf_free(sl_buf *b)
{
    free(b->z);
    b->z = NULL;
    b->n = b->cap = 0;
}

int sl_buf_get(const unsigned char **p, const unsigned char *end, void *out,
               size_t n)
{
    if ((size_t)(end - *p) < n)
        return -1;
    memcpy(out, *p, n);
    *p += n;
    return 0;
}

void sl_row_write(sl_buf *out, const sl_column *cols, int ncols, int r,
                  const uint8_t *keep)
{
    for (int c = 0; c < ncols; c++) {
        const sl_column *col = &cols[c];
        uint8_t isnull = col->null[r] != 0 || (keep && !keep[c]);
        sl_buf_put(out, &isnull, 1);
        if (isnull)
            continue;
        if (col->type == SL_TEXT) {
            uint32_t n = (uint32_t)col->v.s[r].n;
            sl_buf_put(out, &n, sizeof n);
            sl_buf_put(out, col->v.s[r].z, n);
        } else if (col->type == SL_DOUBLE) {
            sl_buf_put(out, &col->v.d[r], 8);
        } else {
            sl_buf_put(out, &col->v.i[r], 8);
        }
    }
}

const unsigned char *sl_row_read(const unsigned char *p, sl_batch *out, int r,
                                 int c0, int ncols)
{
    for (int c = 0; c < ncols; c++) {
        uint8_t isnull = *p++;
        if (isnull)
            continue;           /* a new row is all NULL */
        sl_type t = out->cols[c0 + c].type;
        if (t == SL_TEXT) {
            uint32_t n;
            memcpy(&n, p, sizeof n);
            sl_batch_set_text(out, r, c0 + c, (const char *)p + sizeof n, n);
            p += sizeof n + n;
        } else if (t == SL_DOUBLE) {
            double d;
            memcpy(&d, p, 8);
            sl_batch_set_double(out, r, c0 + c, d);
            p += 8;
        } else {
            int64_t v;
            memcpy(&v, p, 8);
            sl_batch_set_int(out, r, c0 + c, v);
            p += 8;
        }
    }
    return p;
}

/* Appends one byte (JSON punctuation). */
static inline void put1(sl_buf *b, char c)
{
    if (b->n < b->cap)
        b->z[b->n++] = (unsigned char)c;
    else
        sl_buf_put(b, &c, 1);
}

static void json_string(sl_buf *out, const char *z, int n)
{
    static const char hex[] = "0123456789abcdef";
    /* the common case: nothing to escape, one copy */
    int plain = 0;
    while (plain < n && (unsigned char)z[plain] >= 0x20 && z[plain] != '"' &&
           z[plain] != '\\')
        plain++;
    if (plain == n) {
        put1(out, '"');
        sl_buf_put(out, z, (size_t)n);
        put1(out, '"');
        return;
    }
    put1(out, '"');
    int run = 0;                /* start of the plain characters not yet put */
    for (int i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)z[i];
        if (ch != '"' && ch != '\\' && ch >= 0x20)
            continue;
        sl_buf_put(out, z + run, (size_t)(i - run));
        run = i + 1;
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            sl_buf_put(out, esc, 2);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            sl_buf_put(out, esc, 6);
        }
    }
    sl_buf_put(out, z + run, (size_t)(n - run));
    sl_buf_put(out, "\"", 1);
}

void sl_row_to_json(const sl_batch *b, int r, int ncols, char *const *names,
                    sl_buf *out)
{
    put1(out, '{');
    for (int c = 0; c < ncols; c++) {
        const sl_column *col = &b->cols[c];
        if (c)
            put1(out, ',');
        json_string(out, names[c], (int)strlen(names[c]));
        put1(out, ':');
        char buf[64];
        int len = 0;
        const char *v = sl_column_text(col, r, buf, &len);
        if (v == NULL)
            sl_buf_put(out, "null", 4);
        else if (col->type == SL_BIGINT || col->type == SL_BOOL ||
                 col->type == SL_INTERVAL ||
                 (col->type == SL_DOUBLE && strpbrk(v, "IN") == NULL))
            sl_buf_put(out, v, (size_t)len);
        else
            json_string(out, v, len);
    }
    put1(out, '}');
}
