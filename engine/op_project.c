/*
** op_project.c: the select list of a row-by-row query (streaming tables,
** push queries without aggregates). Drops the rows upstream operators
** filtered out, evaluates each compiled output expression over the batch
** and hands the output rows to the query (ctx->write).
*/
#include <stdlib.h>
#include <string.h>
#include "engine/op.h"
#include "engine/plan.h"
#include "engine/expr.h"

typedef struct project_op {
    sl_operator base;
    int nout;
    sl_cexpr **out_ce;
    sl_batch *out;
    int *rows;
    int cap;
} project_op;

static int project_push(sl_operator *op, sl_batch *b, sl_error *err)
{
    project_op *p = (project_op *)op;
    if (b->selected != NULL) {
        if (b->nrows > p->cap) {
            p->cap = b->nrows * 2;
            p->rows = realloc(p->rows, sizeof *p->rows * (size_t)p->cap);
            if (p->rows == NULL)
                abort();
        }
        int kept = 0;
        for (int r = 0; r < b->nrows; r++)
            if (b->selected[r])
                p->rows[kept++] = r;
        sl_batch_select(b, p->rows, kept);
        b->selected = NULL;
    }
    if (b->nrows == 0)
        return 0;
    sl_batch *out = p->out;
    sl_batch_reset(out);
    sl_batch_reserve(out, b->nrows);
    out->nrows = b->nrows;
    for (int c = 0; c < p->nout; c++) {
        sl_column v;
        sl_cexpr_eval(p->out_ce[c], b, &v);
        sl_column *dst = &out->cols[c];
        memcpy(dst->null, v.null, (size_t)b->nrows);
        size_t sz = v.type == SL_DOUBLE ? sizeof(double) :
                    v.type == SL_TEXT ? sizeof(sl_str) : sizeof(int64_t);
        /* text views point into b's arena or the expression's arena; both
        ** live until the next batch, after the write below */
        memcpy(dst->v.i, v.v.i, sz * (size_t)b->nrows);
    }
    memcpy(out->loc, b->loc, sizeof *b->loc * (size_t)b->nrows);
    return op->ctx.write(op->ctx.q, out, err);
}

static void project_close(sl_operator *op)
{
    project_op *p = (project_op *)op;
    for (int i = 0; i < p->nout; i++)
        sl_cexpr_free(p->out_ce[i]);
    free(p->out_ce);
    sl_batch_free(p->out);
    free(p->rows);
    free(p);
}

static const sl_operator_vtab project_vtab = {
    "project", project_push, sl_op_forward_advance, sl_op_forward_flush,
    project_close
};

sl_operator *sl_op_project_new(const sl_plan *pl, const sl_op_ctx *ctx,
                               sl_error *err)
{
    project_op *p = calloc(1, sizeof *p);
    if (p == NULL)
        abort();
    p->base.vt = &project_vtab;
    p->base.ctx = *ctx;
    p->nout = pl->nout;
    p->out_ce = calloc((size_t)pl->nout + 1, sizeof *p->out_ce);
    if (p->out_ce == NULL)
        abort();
    for (int i = 0; i < pl->nout; i++) {
        if ((p->out_ce[i] = sl_cexpr_compile(pl->out[i], err)) == NULL) {
            project_close(&p->base);
            return NULL;
        }
    }
    p->out = sl_batch_new(pl->nout, pl->out_types, 1024);
    return &p->base;
}
