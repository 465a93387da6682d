/*
** op_filter.c: WHERE. Evaluates the compiled condition over the whole
** batch and marks the rows it rejects (NULL counts as FALSE) in the batch's
** selection vector, combined with any selection made upstream (a join).
** Rows are not removed: the aggregate downstream still lets filtered-out
** events move the source's watermark (DESIGN §2 rule 2).
*/
#include <stdlib.h>
#include "engine/op.h"
#include "engine/plan.h"
#include "engine/expr.h"

typedef struct filter_op {
    sl_operator base;
    sl_cexpr *cond;
    uint8_t *mask;
    int cap;
} filter_op;

static int filter_push(sl_operator *op, sl_batch *b, sl_error *err)
{
    filter_op *f = (filter_op *)op;
    if (b->nrows > f->cap) {
        f->cap = b->nrows * 2;
        f->mask = realloc(f->mask, (size_t)f->cap);
        if (f->mask == NULL)
            abort();
    }
    sl_column v;
    sl_cexpr_eval(f->cond, b, &v);
    const uint8_t *upstream = b->selected;
    int kept = 0;
    for (int r = 0; r < b->nrows; r++) {
        uint8_t pass = !v.null[r] && v.v.i[r] && (!upstream || upstream[r]);
        f->mask[r] = pass;
        kept += pass;
    }
    if (kept != b->nrows)
        b->selected = f->mask;
    return op->next->vt->push(op->next, b, err);
}

static void filter_close(sl_operator *op)
{
    filter_op *f = (filter_op *)op;
    sl_cexpr_free(f->cond);
    free(f->mask);
    free(f);
}

static const sl_operator_vtab filter_vtab = {
    "filter", filter_push, sl_op_forward_advance, sl_op_forward_flush,
    filter_close
};

sl_operator *sl_op_filter_new(const sl_plan *p, const sl_op_ctx *ctx,
                              sl_error *err)
{
    sl_cexpr *cond = sl_cexpr_compile(p->where, err);
    if (cond == NULL)
        return NULL;
    filter_op *f = calloc(1, sizeof *f);
    if (f == NULL)
        abort();
    f->base.vt = &filter_vtab;
    f->base.ctx = *ctx;
    f->cond = cond;
    return &f->base;
}
