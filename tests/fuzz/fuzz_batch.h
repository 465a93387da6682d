/*
** fuzz_batch.h: what the decoder fuzz targets check of every decoded batch:
** each non-NULL value is readable (text bytes, a timestamp that formats to
** 23 characters), so ASan sees any bad pointer or length. Returns a sum of
** the bytes so the reads are not optimised away.
*/
#ifndef SL_FUZZ_BATCH_H
#define SL_FUZZ_BATCH_H

#include <assert.h>
#include <string.h>
#include "connectors/decoder.h"

static inline size_t fuzz_touch_batch(const sl_batch *b, const sl_type *types,
                                      int ncols)
{
    size_t sum = 0;
    char ts[32];
    for (int r = 0; r < b->nrows; r++) {
        for (int c = 0; c < ncols; c++) {
            if (b->cols[c].null[r])
                continue;
            if (types[c] == SL_TEXT) {
                sl_str s = b->cols[c].v.s[r];
                assert(s.n >= 0);
                for (int32_t k = 0; k < s.n; k++)
                    sum += (unsigned char)s.z[k];
            } else if (types[c] == SL_TIMESTAMP) {
                int n = sl_ts_format(b->cols[c].v.i[r], ts);
                assert(n == 23 && strlen(ts) == 23);
                (void)n;
            }
        }
    }
    return sum;
}

#endif
