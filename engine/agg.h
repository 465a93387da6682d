/*
** agg.h: aggregate functions as one struct of callbacks each.
**
** Each aggregate keeps a fixed-size state (state_bytes) inside its group's
** state block. step is batch-at-a-time: for k = 0..n-1 it folds row rows[k]
** of arg into the state at states[k] + off (arg is NULL for COUNT(*)).
** merge folds one state into another (session windows merge). final writes
** the result for one state into row r of out. destroy frees what a state
** owns (text copies of MIN/MAX, COUNT DISTINCT sets).
*/
#ifndef SL_AGG_H
#define SL_AGG_H

#include <stddef.h>
#include "engine/batch.h"

typedef struct sl_agg_func {
    const char *name;             /* "count", "sum", ... */
    size_t state_bytes;
    void (*init)(void *state);
    void (*step)(char *const *states, size_t off, const sl_column *arg,
                 const int *rows, int n);
    void (*merge)(void *dst, const void *src);
    void (*final)(const void *state, sl_batch *out, int r, int c);
    void (*destroy)(void *state);
    /* checkpoints: save appends the state to out; load rebuilds a state
    ** (initialised by init) from *p, advancing it; returns -1 on bad data.
    ** NULL for states without pointers: their bytes are saved as they are */
    void (*save)(const void *state, sl_buf *out);
    int (*load)(void *state, const unsigned char **p, const unsigned char *end);
} sl_agg_func;

/* Finds the aggregate for name (case-insensitive) over arguments of type
** arg (SL_NULL for COUNT(*)), distinct or not. Returns NULL when there is
** none (SUM of TEXT, DISTINCT on anything but COUNT). *result gets the
** result type. */
const sl_agg_func *sl_agg_lookup(const char *name, sl_type arg, int distinct,
                                 sl_type *result);

#endif
