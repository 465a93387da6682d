/*
** op_join.c: a lookup join of a stream with a table.
**
** When the query starts, the table is read once into memory (a snapshot)
** and indexed by its join column in an open-addressing hash table. Each
** row of a batch looks up its key and gets the table row's columns (or
** NULLs): an inner join marks rows without a match as filtered out in the
** batch's selection vector (they still move the watermark downstream), a
** LEFT join keeps them. Keys are compared by their text form, so a BIGINT 7
** on one side matches a TEXT '7' on the other, as in SQLite.
*/
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "engine/op.h"
#include "engine/plan.h"
#include "connectors/decoder.h"

typedef struct join_op {
    sl_operator base;
    const sl_plan_join *pj;
    int base_col;          /* first input column of the table side */
    int nrows;
    sl_value *cells;       /* nrows * ncols; text points into `text` */
    char *text;            /* table text and key text */
    const char **key_z;    /* per row: key as text (NULL: NULL key) */
    int *key_n;
    uint64_t *hash;
    int *buckets;          /* row indexes, -1 empty */
    size_t nbuckets;
    uint8_t *mask;
    int cap;
} join_op;

/* The text form of one value, as sl_column_text gives it for a column. */
static const char *value_key(const sl_value *v, char *buf, int *len)
{
    uint8_t isnull = (uint8_t)v->is_null;
    sl_value copy = *v;
    sl_column col = {v->type, &isnull, {.i = &copy.u.i}};
    if (v->type == SL_DOUBLE)
        col.v.d = &copy.u.d;
    else if (v->type == SL_TEXT)
        col.v.s = &copy.u.s;
    return sl_column_text(&col, 0, buf, len);
}

static int join_push(sl_operator *op, sl_batch *b, sl_error *err)
{
    join_op *j = (join_op *)op;
    const sl_plan_join *pj = j->pj;
    if (b->nrows > j->cap) {
        j->cap = b->nrows * 2;
        j->mask = realloc(j->mask, (size_t)j->cap);
        if (j->mask == NULL)
            abort();
    }
    const sl_column *key = &b->cols[pj->left_key];
    const uint8_t *upstream = b->selected;
    int kept = 0;
    for (int r = 0; r < b->nrows; r++) {
        int match = -1;
        char buf[64];
        int n = 0;
        const char *z = sl_column_text(key, r, buf, &n);
        if (z != NULL) {
            uint64_t h = sl_hash_bytes(z, (size_t)n);
            for (size_t bk = h & (j->nbuckets - 1); j->buckets[bk] >= 0;
                 bk = (bk + 1) & (j->nbuckets - 1)) {
                int tr = j->buckets[bk];
                if (j->hash[tr] == h && j->key_n[tr] == n &&
                    memcmp(j->key_z[tr], z, (size_t)n) == 0) {
                    match = tr;
                    break;
                }
            }
        }
        for (int c = 0; c < pj->ncols; c++) {
            int dc = j->base_col + c;
            const sl_value *v = match >= 0
                ? &j->cells[(size_t)match * (size_t)pj->ncols + (size_t)c] : NULL;
            if (v == NULL || v->is_null) {
                sl_batch_set_null(b, r, dc);
            } else if (v->type == SL_TEXT) {
                b->cols[dc].v.s[r] = v->u.s;     /* lives as long as the op */
                b->cols[dc].null[r] = 0;
            } else if (v->type == SL_DOUBLE) {
                sl_batch_set_double(b, r, dc, v->u.d);
            } else {
                sl_batch_set_int(b, r, dc, v->u.i);
            }
        }
        uint8_t pass = (match >= 0 || pj->kind == SL_JOIN_LEFT) &&
                       (!upstream || upstream[r]);
        j->mask[r] = pass;
        kept += pass;
    }
    if (kept != b->nrows)
        b->selected = j->mask;
    return op->next->vt->push(op->next, b, err);
}

static void join_close(sl_operator *op)
{
    join_op *j = (join_op *)op;
    free(j->cells);
    free(j->text);
    free(j->key_z);
    free(j->key_n);
    free(j->hash);
    free(j->buckets);
    free(j->mask);
    free(j);
}

static const sl_operator_vtab join_vtab = {
    "join", join_push, sl_op_forward_advance, sl_op_forward_flush, join_close
};

/* Appends n bytes to the text buffer; returns their offset. */
static size_t text_add(join_op *j, size_t *len, size_t *cap, const char *z,
                       size_t n)
{
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        j->text = realloc(j->text, *cap);
        if (j->text == NULL)
            abort();
    }
    memcpy(j->text + *len, z, n);
    j->text[*len + n] = 0;
    size_t at = *len;
    *len += n + 1;
    return at;
}

sl_operator *sl_op_join_new(const sl_plan *p, sqlite3 *db,
                            const sl_op_ctx *ctx, sl_error *err)
{
    const sl_plan_join *pj = p->join;
    sqlite3_str *q = sqlite3_str_new(db);
    sqlite3_str_appendall(q, "SELECT ");
    for (int c = 0; c < pj->ncols; c++)
        sqlite3_str_appendf(q, "%s\"%w\"", c ? ", " : "", pj->col_names[c]);
    sqlite3_str_appendf(q, " FROM \"%w\"", pj->table);
    char *sql = sqlite3_str_finish(q);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK) {
        sl_error_set(err, -1, "cannot read table %s: %s", pj->table,
                     sqlite3_errmsg(db));
        return NULL;
    }
    join_op *j = calloc(1, sizeof *j);
    if (j == NULL)
        abort();
    j->base.vt = &join_vtab;
    j->base.ctx = *ctx;
    j->pj = pj;
    j->base_col = p->src->ncols;
    size_t cap = 0, tlen = 0, tcap = 0;
    size_t *toff = NULL;     /* text offsets until the buffer stops moving */
    size_t *koff = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if ((size_t)j->nrows == cap) {
            cap = cap ? cap * 2 : 256;
            j->cells = realloc(j->cells, sizeof *j->cells * cap * (size_t)pj->ncols);
            toff = realloc(toff, sizeof *toff * cap * (size_t)pj->ncols);
            koff = realloc(koff, sizeof *koff * cap);
            j->key_n = realloc(j->key_n, sizeof *j->key_n * cap);
            if (!j->cells || !toff || !koff || !j->key_n)
                abort();
        }
        for (int c = 0; c < pj->ncols; c++) {
            size_t i = (size_t)j->nrows * (size_t)pj->ncols + (size_t)c;
            sl_value *v = &j->cells[i];
            memset(v, 0, sizeof *v);
            v->type = pj->col_types[c];
            v->is_null = sqlite3_column_type(st, c) == SQLITE_NULL;
            if (v->is_null)
                continue;
            if (v->type == SL_DOUBLE) {
                v->u.d = sqlite3_column_double(st, c);
            } else if (v->type == SL_TEXT) {
                const char *z = (const char *)sqlite3_column_text(st, c);
                v->u.s.n = sqlite3_column_bytes(st, c);
                toff[i] = text_add(j, &tlen, &tcap, z, (size_t)v->u.s.n);
            } else if (v->type == SL_TIMESTAMP) {
                const char *z = (const char *)sqlite3_column_text(st, c);
                int64_t ms;
                if (sl_ts_parse(z, strlen(z), &ms) == 0)
                    v->u.i = ms;
                else
                    v->is_null = 1;
            } else {
                v->u.i = sqlite3_column_int64(st, c);
            }
        }
        /* the key's text form */
        const sl_value *kv = &j->cells[(size_t)j->nrows * (size_t)pj->ncols +
                                       (size_t)pj->right_key];
        char buf[64];
        int n = -1;
        if (!kv->is_null && kv->type == SL_TEXT) {
            /* the key is the cell's own text: share it */
            size_t i = (size_t)j->nrows * (size_t)pj->ncols + (size_t)pj->right_key;
            koff[j->nrows] = toff[i];
            n = kv->u.s.n;
        } else if (!kv->is_null) {
            const char *z = value_key(kv, buf, &n);     /* formatted into buf */
            koff[j->nrows] = text_add(j, &tlen, &tcap, z, (size_t)n);
        }
        j->key_n[j->nrows] = n;
        j->nrows++;
    }
    sqlite3_finalize(st);
    /* the text buffer has stopped moving: turn offsets into pointers */
    for (size_t i = 0; i < (size_t)j->nrows * (size_t)pj->ncols; i++)
        if (j->cells[i].type == SL_TEXT && !j->cells[i].is_null)
            j->cells[i].u.s.z = j->text + toff[i];
    j->key_z = calloc((size_t)j->nrows + 1, sizeof *j->key_z);
    j->hash = calloc((size_t)j->nrows + 1, sizeof *j->hash);
    j->nbuckets = 16;
    while (j->nbuckets < (size_t)j->nrows * 2)
        j->nbuckets *= 2;
    j->buckets = malloc(sizeof *j->buckets * j->nbuckets);
    if (!j->key_z || !j->hash || !j->buckets)
        abort();
    for (size_t b = 0; b < j->nbuckets; b++)
        j->buckets[b] = -1;
    for (int r = 0; r < j->nrows; r++) {
        if (j->key_n[r] < 0)
            continue;
        j->key_z[r] = j->text + koff[r];
        j->hash[r] = sl_hash_bytes(j->key_z[r], (size_t)j->key_n[r]);
        size_t b = j->hash[r] & (j->nbuckets - 1);
        while (j->buckets[b] >= 0)
            b = (b + 1) & (j->nbuckets - 1);
        j->buckets[b] = r;
    }
    free(toff);
    free(koff);
    return &j->base;
}
