/*
** op.c: what every operator shares: passing the watermark and commit
** points down the chain, and closing a chain (see op.h).
*/
#include "engine/op.h"

int sl_op_forward_advance(sl_operator *op, int64_t wm_ms, sl_error *err)
{
    return op->next ? op->next->vt->advance_watermark(op->next, wm_ms, err) : 0;
}

int sl_op_forward_flush(sl_operator *op, int final, sl_error *err)
{
    return op->next ? op->next->vt->flush(op->next, final, err) : 0;
}

void sl_op_chain_close(sl_operator *op)
{
    while (op != NULL) {
        sl_operator *next = op->next;
        op->vt->close(op);
        op = next;
    }
}
