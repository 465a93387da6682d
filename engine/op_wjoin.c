/*
** op_wjoin.c: a window join of two sources (FROM a JOIN b ON a.x = b.y
** WINDOW TUMBLING (SIZE d)), as Flink SQL's window join: the rows of both
** sides that fall in the same window and have equal keys are paired when
** the window closes (and, for a LEFT JOIN, the rows of the first without a
** match, with NULLs for the second's columns).
**
** Each side keeps its own watermark (its source's delay; per partition for
** Kafka); the join's watermark W is the smaller of the two, so a window
** closes once neither side can still add to it (DESIGN §2 rule 3), and an
** event is late when W, as it stood before the event, has passed its
** window's end (rule 4): it is recorded as late with its own source's name
** and is in no pair.
**
** The conjuncts of WHERE that read one side only (the plan's filters) are
** evaluated on each batch as it is read (sl_op_wjoin_select): the rows they
** reject only move their side's watermark, as filtered rows do in the
** aggregate (not late, not kept).
**
** State: per open window, per side, the rows in arrival order, each
** serialised into the side's buffer (its key as text, its location, and of
** its columns those the operators after the join read: sl_plan_input_used;
** the others are kept as NULL). Keys compare by their text form, as the join with a table
** does (engine/op_join.c); a row with a NULL key can match nothing and is
** not kept. When W passes a window's end its pairs go downstream in the
** plan's input-row layout [side 0 columns, side 1 columns, window_start,
** window_end], side 0's rows in arrival order and, for each, its matches in
** side 1's arrival order; then W is passed on, so a downstream aggregate
** over the same window closes it at once.
**
** Checkpoints (ids from INT64_MIN up in sluice_state: checkpoint.h): the
** rows buffered since the last commit point are one state row per
** (window, side), so a checkpoint costs what arrived; a
** closed window's rows are deleted; the watermarks are in the first row.
** The runtime reads each source a batch at a time and merges the two by
** event time, so at a commit point some rows may have been read (the
** source's position is past them) but not merged yet: they are saved too,
** and a restart merges them first.
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "engine/op.h"
#include "engine/plan.h"
#include "engine/expr.h"
#include "engine/watermark.h"
#include "engine/checkpoint.h"

#define META_ID INT64_MIN      /* the operator's own row */
#define PENDING_ID(s) (INT64_MIN + 1 + (s))  /* rows read, not merged yet */
#define CHUNK_ID(n) (INT64_MIN + 3 + (n))    /* window rows, in save order */

typedef struct side_rows {
    sl_buf buf;            /* serialised rows (see row_put) */
    size_t nrows;
    size_t saved;          /* bytes of buf already in a checkpoint */
} side_rows;

typedef struct wwindow {
    int64_t ws;
    side_rows side[2];
    int64_t *ids;          /* its rows' checkpoint chunks */
    size_t nids, ids_cap;
} wwindow;

typedef struct wjoin_op {
    sl_operator base;
    const sl_plan *p;
    const sl_plan_wjoin *wj;
    int ncols[2];
    int left;              /* LEFT JOIN: side 0's rows without a match too */
    uint8_t *keep[2];      /* per side: the columns the pairs need */
    sl_cexpr **filter[2];  /* per side: WHERE's conjuncts on it alone */
    uint8_t *pass[2];      /* per side: the rows of its batch passing them */
    int pass_cap[2];
    uint8_t *int_key;      /* per key column: both sides' are BIGINT (or
                              both TIMESTAMP...): compared as 8 bytes */
    int64_t size_ms;
    sl_watermark wmk[2];
    int64_t wm;            /* the join's: min of the two, never back */
    wwindow *win;          /* open windows, ascending start */
    size_t nwin, win_cap;
    int64_t *deleted;      /* chunks of closed windows, to delete */
    size_t ndeleted, deleted_cap;
    int64_t next_id;
    int64_t open_rows;
    sl_batch *out;         /* pairs, in the input-row layout */
    int out_cap;
    sl_buf key;            /* one row's key text */
    sl_buf ckpt;
    sl_buf pending[2];     /* loaded: rows read but not merged at the save */
    int pending_saved[2];  /* sluice_state has a PENDING_ID(s) row */
} wjoin_op;

/* ---- rows ----------------------------------------------------------------- */

/* A row in a side's buffer: [u32 size of the rest][u32 key bytes][u64 key
** hash][sl_rowloc][key][per column: u8 null, then 8 bytes, or u32 length
** and the text]. */
typedef struct row_head {
    uint32_t len, klen;    /* klen NO_KEY: a NULL key (LEFT JOIN's side 0) */
    uint64_t hash;
    sl_rowloc loc;
} row_head;

#define NO_KEY UINT32_MAX
#define KEY_BYTES(h) ((h).klen == NO_KEY ? 0 : (h).klen)

/* Row r's key (its key columns' text, each length-prefixed) into j->key;
** returns -1 when one of them is NULL (no match is possible). */
static int row_key(wjoin_op *j, int side, const sl_batch *b, int r)
{
    j->key.n = 0;
    for (int k = 0; k < j->wj->nkeys; k++) {
        const sl_column *c = &b->cols[j->wj->keys[side][k]];
        if (c->null[r])
            return -1;
        if (j->int_key[k]) {    /* the same integer type on both sides */
            sl_buf_put(&j->key, &c->v.i[r], sizeof c->v.i[r]);
            continue;
        }
        char tmp[64];
        int n = 0;
        const char *z = sl_column_text(c, r, tmp, &n);
        uint32_t len = (uint32_t)n;
        sl_buf_put(&j->key, &len, sizeof len);
        sl_buf_put(&j->key, z, (size_t)n);
    }
    return 0;
}

/* Appends row r of b (side's layout; its key in j->key, or none when
** has_key is 0) to o, with the columns of keep (NULL: all), the others as
** NULL. */
static void row_put(wjoin_op *j, int side, sl_buf *o, const sl_batch *b,
                    int r, int has_key, const uint8_t *keep)
{
    size_t at = o->n;
    row_head h;
    memset(&h, 0, sizeof h);    /* no undefined padding in checkpoints */
    h.klen = has_key ? (uint32_t)j->key.n : NO_KEY;
    h.hash = has_key ? sl_hash_bytes(j->key.z, j->key.n) : 0;
    h.loc = b->loc[r];
    sl_buf_put(o, &h, sizeof h);
    if (has_key)
        sl_buf_put(o, j->key.z, j->key.n);
    sl_row_write(o, b->cols, j->ncols[side], r, keep);
    h.len = (uint32_t)(o->n - at - sizeof h.len);
    memcpy(o->z + at, &h.len, sizeof h.len);
}

/* The offsets of the rows in buf[0..n) into offs (nrows of them). */
static void row_offsets(const unsigned char *z, size_t n, size_t *offs)
{
    size_t k = 0;
    for (size_t at = 0; at < n; k++) {
        offs[k] = at;
        uint32_t len;
        memcpy(&len, z + at, sizeof len);
        at += sizeof len + len;
    }
}

/* Appends the rows [first, end) of b (side's) to o, whole and without a
** key (rows read but not merged, saved as they came). */
static void rows_put(wjoin_op *j, int side, sl_buf *o, const sl_batch *b,
                     int first, int end)
{
    for (int r = first; r < end; r++)
        row_put(j, side, o, b, r, 0, NULL);
}

/* Copies the columns of the row at z into out's row r from column c0 on. */
static void row_fill(const wjoin_op *j, int side, const unsigned char *z,
                     sl_batch *out, int r, int c0)
{
    row_head h;
    memcpy(&h, z, sizeof h);
    out->loc[r] = h.loc;
    sl_row_read(z + sizeof h + KEY_BYTES(h), out, r, c0, j->ncols[side]);
}

/* ---- windows -------------------------------------------------------------- */

static int64_t window_end(const wjoin_op *j, int64_t ws)
{
    return sl_sat_add(ws, j->size_ms);
}

/* The open window starting at ws, made when new. */
static wwindow *window_of(wjoin_op *j, int64_t ws)
{
    size_t k = j->nwin;
    while (k > 0 && j->win[k - 1].ws > ws)
        k--;
    if (k > 0 && j->win[k - 1].ws == ws)
        return &j->win[k - 1];
    if (j->nwin == j->win_cap) {
        j->win_cap = j->win_cap ? j->win_cap * 2 : 8;
        j->win = sl_xrealloc(j->win, sizeof *j->win * j->win_cap);
    }
    memmove(&j->win[k + 1], &j->win[k], sizeof *j->win * (j->nwin - k));
    memset(&j->win[k], 0, sizeof j->win[k]);
    j->win[k].ws = ws;
    j->nwin++;
    return &j->win[k];
}

/* Notes that chunk id of sluice_state holds rows of window x. */
static void window_add_id(wwindow *x, int64_t id)
{
    if (x->nids == x->ids_cap) {
        x->ids_cap = x->ids_cap ? x->ids_cap * 2 : 4;
        x->ids = sl_xrealloc(x->ids, sizeof *x->ids * x->ids_cap);
    }
    x->ids[x->nids++] = id;
}

static void window_free(wjoin_op *j, wwindow *w)
{
    for (int s = 0; s < 2; s++) {
        j->open_rows -= (int64_t)w->side[s].nrows;
        sl_buf_free(&w->side[s].buf);
    }
    free(w->ids);
}

/* Sends the rows of out downstream and empties it. */
static int out_send(wjoin_op *j, sl_error *err)
{
    if (j->out->nrows == 0)
        return 0;
    int rc = j->base.next->vt->push(j->base.next, j->out, err);
    sl_batch_reset(j->out);
    return rc;
}

/* Appends the pair of rows lz and rz (NULL: a LEFT JOIN's row without a
** match, whose side 1 columns stay NULL) of window w to the output. */
static int pair_out(wjoin_op *j, const wwindow *w, const unsigned char *lz,
                    const unsigned char *rz, sl_error *err)
{
    const sl_plan_wjoin *wj = j->wj;
    int r = sl_batch_add_row(j->out);
    if (rz != NULL)
        row_fill(j, 1, rz, j->out, r, wj->col0[1]);
    row_fill(j, 0, lz, j->out, r, wj->col0[0]);   /* its origin is the row's */
    sl_batch_set_int(j->out, r, wj->window_col, w->ws);
    sl_batch_set_int(j->out, r, wj->window_col + 1, window_end(j, w->ws));
    return j->out->nrows >= j->out_cap ? out_send(j, err) : 0;
}

/* Emits the pairs of window w (and for a LEFT JOIN side 0's rows without
** a match). */
static int window_emit(wjoin_op *j, const wwindow *w, sl_error *err)
{
    const side_rows *L = &w->side[0], *R = &w->side[1];
    if (L->nrows == 0 || (R->nrows == 0 && !j->left))
        return 0;
    size_t *loff = sl_xmalloc(sizeof *loff * L->nrows);
    size_t *roff = sl_xmalloc(sizeof *roff * R->nrows);
    row_offsets(L->buf.z, L->buf.n, loff);
    row_offsets(R->buf.z, R->buf.n, roff);
    /* side 1's rows by key hash: chains in arrival order */
    size_t nb = 16;
    while (nb < R->nrows * 2)
        nb *= 2;
    int64_t *head = sl_xmalloc(sizeof *head * nb);
    int64_t *tail = sl_xmalloc(sizeof *tail * nb);
    int64_t *next = sl_xmalloc(sizeof *next * R->nrows);
    for (size_t b = 0; b < nb; b++)
        head[b] = tail[b] = -1;
    for (size_t i = 0; i < R->nrows; i++) {
        row_head h;
        memcpy(&h, R->buf.z + roff[i], sizeof h);
        size_t b = h.hash & (nb - 1);
        next[i] = -1;
        if (tail[b] >= 0)
            next[tail[b]] = (int64_t)i;
        else
            head[b] = (int64_t)i;
        tail[b] = (int64_t)i;
    }
    int rc = 0;
    for (size_t i = 0; i < L->nrows && rc == 0; i++) {
        const unsigned char *lz = L->buf.z + loff[i];
        row_head lh;
        memcpy(&lh, lz, sizeof lh);
        int matched = 0;
        for (int64_t k = lh.klen == NO_KEY ? -1 : head[lh.hash & (nb - 1)];
             k >= 0 && rc == 0; k = next[k]) {
            const unsigned char *rz = R->buf.z + roff[k];
            row_head rh;
            memcpy(&rh, rz, sizeof rh);
            if (rh.hash != lh.hash || rh.klen != lh.klen ||
                memcmp(lz + sizeof lh, rz + sizeof rh, lh.klen) != 0)
                continue;
            matched = 1;
            rc = pair_out(j, w, lz, rz, err);
        }
        if (!matched && j->left && rc == 0)
            rc = pair_out(j, w, lz, NULL, err);
    }
    free(loff);
    free(roff);
    free(head);
    free(tail);
    free(next);
    return rc;
}

/* W has moved to w: emits and frees every window it has passed, in order
** of start, then passes W on. */
static int close_due(wjoin_op *j, int64_t w, sl_error *err)
{
    size_t n = 0;
    int rc = 0;
    while (n < j->nwin && window_end(j, j->win[n].ws) <= w && rc == 0) {
        rc = window_emit(j, &j->win[n], err);
        n++;
    }
    if (rc == 0)
        rc = out_send(j, err);
    for (size_t i = 0; i < n; i++) {
        wwindow *x = &j->win[i];
        for (size_t k = 0; k < x->nids; k++) {
            if (j->ndeleted == j->deleted_cap) {
                j->deleted_cap = j->deleted_cap ? j->deleted_cap * 2 : 64;
                j->deleted = sl_xrealloc(j->deleted,
                                         sizeof *j->deleted * j->deleted_cap);
            }
            j->deleted[j->ndeleted++] = x->ids[k];
        }
        window_free(j, x);
    }
    memmove(j->win, j->win + n, sizeof *j->win * (j->nwin - n));
    j->nwin -= n;
    if (rc != 0)
        return -1;
    /* downstream windows are the join's: W matters there when one closed
    ** (passing every step of W made the aggregate look for windows to
    ** close once per event) */
    if (n == 0 && w != INT64_MAX)
        return 0;
    return j->base.next->vt->advance_watermark(j->base.next, w, err);
}

/* The smaller of the sides' watermarks: the join's, once above j->wm. */
static int64_t sides_wm(const wjoin_op *j)
{
    return j->wmk[0].wm < j->wmk[1].wm ? j->wmk[0].wm : j->wmk[1].wm;
}

/* Recomputes W from the sides' watermarks and closes what it passed. */
static int advance(wjoin_op *j, sl_error *err)
{
    int64_t w = sides_wm(j);
    if (w <= j->wm)
        return 0;
    j->wm = w;
    return close_due(j, w, err);
}

/* ---- the operator ------------------------------------------------------- */

int sl_op_wjoin_push_rows(sl_operator *op, sl_batch *b, int first, int end,
                          sl_error *err)
{
    wjoin_op *j = (wjoin_op *)op;
    int side = b->side;
    const sl_column *et = &b->cols[j->wj->time_col[side]];
    const uint8_t *sel = b->selected;
    for (int r = first; r < end; r++) {
        /* a row WHERE rejects before the join (sl_op_wjoin_select) is in
        ** no window and not late, but it still moves its watermark */
        int wanted = sel == NULL || sel[r];
        if (et->null[r]) {
            if (wanted)
                op->ctx.dead(op->ctx.q, b, r, "the event-time column is "
                             "NULL, so the event belongs to no window");
            continue;
        }
        int64_t t = et->v.i[r];
        int64_t ws = sl_floor_div(t, j->size_ms) * j->size_ms;
        if (!wanted) {
            /* nothing to keep */
        } else if (j->wm >= window_end(j, ws)) {
            op->ctx.late(op->ctx.q, b, r, t, j->wm);
        } else {
            /* a NULL key matches nothing: kept only as a LEFT JOIN's
            ** unmatched row */
            int has_key = row_key(j, side, b, r) == 0;
            if (has_key || (side == 0 && j->left)) {
                side_rows *rows = &window_of(j, ws)->side[side];
                row_put(j, side, &rows->buf, b, r, has_key, j->keep[side]);
                rows->nrows++;
                j->open_rows++;
            }
        }
        sl_watermark_observe(&j->wmk[side], b->loc[r].part, t);
        /* W moves per event: the next event is judged by it */
        int64_t w = sides_wm(j);
        if (w > j->wm) {
            j->wm = w;
            if (j->nwin > 0 && window_end(j, j->win[0].ws) <= w &&
                close_due(j, w, err) != 0)
                return -1;
        }
    }
    return 0;
}

static int wjoin_push(sl_operator *op, sl_batch *b, sl_error *err)
{
    return sl_op_wjoin_push_rows(op, b, 0, b->nrows, err);
}

static int wjoin_advance(sl_operator *op, int64_t wm_ms, sl_error *err)
{
    /* the end of both inputs (the runtime ends each side on its own) */
    wjoin_op *j = (wjoin_op *)op;
    if (wm_ms == INT64_MAX) {
        sl_watermark_end(&j->wmk[0]);
        sl_watermark_end(&j->wmk[1]);
    }
    return advance(j, err);
}

static void wjoin_close(sl_operator *op)
{
    wjoin_op *j = (wjoin_op *)op;
    for (size_t i = 0; i < j->nwin; i++)
        window_free(j, &j->win[i]);
    free(j->win);
    free(j->deleted);
    for (int s = 0; s < 2; s++) {
        free(j->keep[s]);
        for (int i = 0; j->filter[s] && i < j->wj->nfilters[s]; i++)
            sl_cexpr_free(j->filter[s][i]);
        free(j->filter[s]);
        free(j->pass[s]);
    }
    free(j->int_key);
    sl_batch_free(j->out);
    sl_buf_free(&j->key);
    sl_buf_free(&j->ckpt);
    sl_buf_free(&j->pending[0]);
    sl_buf_free(&j->pending[1]);
    free(j);
}

static const sl_operator_vtab wjoin_vtab = {
    "window join", wjoin_push, wjoin_advance, sl_op_forward_flush, wjoin_close
};

sl_operator *sl_op_wjoin_new(const sl_plan *p, const sl_op_ctx *ctx,
                             int batch_rows, sl_error *err)
{
    wjoin_op *j = sl_xcalloc(1, sizeof *j);
    j->base.vt = &wjoin_vtab;
    j->base.ctx = *ctx;
    j->p = p;
    j->wj = p->wjoin;
    j->left = p->wjoin->kind == SL_JOIN_LEFT;
    j->ncols[0] = p->src->ncols;
    j->ncols[1] = p->wjoin->right->ncols;
    j->size_ms = p->window.size_ms;
    for (int s = 0; s < 2; s++)
        sl_watermark_init(&j->wmk[s], p->wjoin->delay_ms[s]);
    j->wm = INT64_MIN;
    uint8_t *used = sl_xcalloc((size_t)p->ninput + 1, 1);
    sl_plan_input_used(p, used);
    for (int s = 0; s < 2; s++)
        j->keep[s] = sl_xmalloc((size_t)j->ncols[s] + 1);
    memcpy(j->keep[0], used, (size_t)j->ncols[0]);
    memcpy(j->keep[1], used + p->wjoin->col0[1], (size_t)j->ncols[1]);
    free(used);
    j->int_key = sl_xcalloc((size_t)p->wjoin->nkeys + 1, 1);
    for (int k = 0; k < p->wjoin->nkeys; k++) {
        sl_type a = p->src->col_types[p->wjoin->keys[0][k]];
        sl_type b = p->wjoin->right->col_types[p->wjoin->keys[1][k]];
        j->int_key[k] = a == b && a != SL_TEXT && a != SL_DOUBLE;
    }
    for (int s = 0; s < 2; s++) {
        j->filter[s] = sl_xcalloc((size_t)p->wjoin->nfilters[s] + 1,
                                  sizeof *j->filter[s]);
        for (int i = 0; i < p->wjoin->nfilters[s]; i++)
            if ((j->filter[s][i] = sl_cexpr_compile(p->wjoin->filters[s][i],
                                                    err)) == NULL) {
                j->base.ctx = *ctx;
                j->base.vt = &wjoin_vtab;
                wjoin_close(&j->base);
                return NULL;
            }
    }
    j->out_cap = batch_rows > 0 ? batch_rows : 1024;
    j->out = sl_batch_new(p->ninput, p->input_types, j->out_cap);
    return &j->base;
}

void sl_op_wjoin_select(sl_operator *op, sl_batch *b)
{
    wjoin_op *j = (wjoin_op *)op;
    int s = b->side;
    if (j->wj->nfilters[s] == 0 || b->nrows == 0)
        return;
    if (b->nrows > j->pass_cap[s]) {
        j->pass_cap[s] = b->nrows * 2;
        j->pass[s] = sl_xrealloc(j->pass[s], (size_t)j->pass_cap[s]);
    }
    memset(j->pass[s], 1, (size_t)b->nrows);
    for (int i = 0; i < j->wj->nfilters[s]; i++) {
        sl_column v;
        sl_cexpr_eval(j->filter[s][i], b, &v);
        for (int r = 0; r < b->nrows; r++)
            j->pass[s][r] &= !v.null[r] && v.v.i[r];
    }
    b->selected = j->pass[s];
}

int sl_op_wjoin_set_partitions(sl_operator *op, int side, const int32_t *parts,
                               int n, sl_error *err)
{
    wjoin_op *j = (wjoin_op *)op;
    sl_watermark_set_active(&j->wmk[side], parts, n);
    return advance(j, err);
}

int sl_op_wjoin_end(sl_operator *op, int side, sl_error *err)
{
    wjoin_op *j = (wjoin_op *)op;
    sl_watermark_end(&j->wmk[side]);
    return advance(j, err);
}

int64_t sl_op_wjoin_watermark(const sl_operator *op)
{
    return ((const wjoin_op *)op)->wm;
}

int64_t sl_op_wjoin_open_rows(const sl_operator *op)
{
    return ((const wjoin_op *)op)->open_rows;
}

/* ---- checkpoints -------------------------------------------------------- */

int sl_op_wjoin_save(sl_operator *op, sl_ckpt_writer *w, uint64_t fingerprint,
                     sl_batch *const in[2], const int cur[2], sl_error *err)
{
    wjoin_op *j = (wjoin_op *)op;
    sl_buf *b = &j->ckpt;
    for (int s = 0; s < 2; s++) {
        b->n = 0;
        rows_put(j, s, b, in[s], cur[s], in[s]->nrows);
        if (b->n > 0 ? sl_ckpt_put(w, PENDING_ID(s), b, err) != 0
                     : j->pending_saved[s] &&
                           sl_ckpt_delete(w, PENDING_ID(s), err) != 0)
            return -1;
        j->pending_saved[s] = b->n > 0;
    }
    for (size_t i = 0; i < j->nwin; i++) {
        wwindow *x = &j->win[i];
        for (uint8_t s = 0; s < 2; s++) {
            side_rows *rows = &x->side[s];
            if (rows->saved == rows->buf.n)
                continue;
            b->n = 0;
            sl_buf_put(b, &x->ws, sizeof x->ws);
            sl_buf_put(b, &s, 1);
            sl_buf_put(b, rows->buf.z + rows->saved, rows->buf.n - rows->saved);
            int64_t id = CHUNK_ID(j->next_id++);
            if (sl_ckpt_put(w, id, b, err) != 0)
                return -1;
            rows->saved = rows->buf.n;
            window_add_id(x, id);
        }
    }
    for (size_t i = 0; i < j->ndeleted; i++)
        if (sl_ckpt_delete(w, j->deleted[i], err) != 0)
            return -1;
    j->ndeleted = 0;
    b->n = 0;
    sl_ckpt_header(b, fingerprint);
    sl_buf_put(b, &j->next_id, sizeof j->next_id);
    sl_buf_put(b, &j->wm, sizeof j->wm);
    for (int s = 0; s < 2; s++)
        sl_watermark_save(&j->wmk[s], b);
    return sl_ckpt_put(w, META_ID, b, err);
}

typedef struct wload_ctx {
    wjoin_op *j;
    uint64_t fingerprint;
    const char *query;
    int have_meta;
} wload_ctx;

static int wload_bad(const wload_ctx *c, sl_error *err)
{
    return sl_error_set(err, -1, "the saved window-join state of %s is "
                        "damaged; replay the query from the start with CREATE "
                        "OR REPLACE", c->query);
}

/* One saved row, in id order: the operator's own first, then the chunks
** in the order they were saved. */
static int wload_row(void *ctx, int64_t id, const unsigned char *p, size_t n,
                     sl_error *err)
{
    wload_ctx *c = ctx;
    wjoin_op *j = c->j;
    const unsigned char *end = p + n;
    if (id >= SL_CKPT_DEDUP_FIRST)
        return 0;               /* the dedup's or the aggregate's */
    if (id == META_ID) {
        int rc = sl_ckpt_check_header(&p, end, c->fingerprint, c->query, err);
        if (rc != 0)
            return rc < 0 ? -1 : wload_bad(c, err);
        if (sl_buf_get(&p, end, &j->next_id, sizeof j->next_id) ||
            sl_buf_get(&p, end, &j->wm, sizeof j->wm))
            return wload_bad(c, err);
        for (int s = 0; s < 2; s++)
            if (sl_watermark_load(&j->wmk[s], &p, end) != 0)
                return wload_bad(c, err);
        c->have_meta = 1;
        return p == end ? 0 : wload_bad(c, err);
    }
    if (id == PENDING_ID(0) || id == PENDING_ID(1)) {
        sl_buf *o = &j->pending[id - PENDING_ID(0)];
        j->pending_saved[id - PENDING_ID(0)] = 1;
        o->n = 0;
        sl_buf_put(o, p, n);
        return 0;
    }
    int64_t ws;
    uint8_t s;
    if (!c->have_meta || sl_buf_get(&p, end, &ws, sizeof ws) ||
        sl_buf_get(&p, end, &s, 1) || s > 1)
        return wload_bad(c, err);
    wwindow *x = window_of(j, ws);
    side_rows *rows = &x->side[s];
    /* count the rows, checking they are whole */
    for (const unsigned char *q = p; q < end;) {
        uint32_t len;
        if (end - q < (ptrdiff_t)sizeof(row_head))
            return wload_bad(c, err);
        memcpy(&len, q, sizeof len);
        if ((size_t)(end - q) - sizeof len < len)
            return wload_bad(c, err);
        q += sizeof len + len;
        rows->nrows++;
        j->open_rows++;
    }
    sl_buf_put(&rows->buf, p, (size_t)(end - p));
    rows->saved = rows->buf.n;
    window_add_id(x, id);
    return 0;
}

int sl_op_wjoin_load(sl_operator *op, sqlite3 *db, const char *query,
                     uint64_t fingerprint, sl_batch *in[2], sl_error *err)
{
    wjoin_op *j = (wjoin_op *)op;
    wload_ctx c = {j, fingerprint, query, 0};
    if (sl_ckpt_load(db, query, wload_row, &c, err) != 0)
        return -1;
    /* the rows read but not merged at the save, back in the inputs */
    for (int s = 0; s < 2; s++) {
        const sl_buf *o = &j->pending[s];
        sl_batch_reset(in[s]);
        for (size_t at = 0; at < o->n;) {
            uint32_t len;
            if (o->n - at < sizeof(row_head))
                return wload_bad(&c, err);
            memcpy(&len, o->z + at, sizeof len);
            if (o->n - at - sizeof len < len)
                return wload_bad(&c, err);
            int r = sl_batch_add_row(in[s]);
            row_fill(j, s, o->z + at, in[s], r, 0);
            at += sizeof len + len;
        }
        sl_buf_free(&j->pending[s]);
    }
    return 0;
}
