/*
** fuzz_batch.h: what the decoder fuzz targets check of every decoded batch:
** each non-NULL value is readable (text bytes, a timestamp that formats to
** 23 characters), so ASan sees any bad pointer or length; TEXT is valid
** UTF-8 without NUL; fuzz_check_split: splitting a record that arrives
** byte by byte finds the same end as splitting it whole. Returns a sum of
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
                /* TEXT is valid UTF-8 without NUL (docs/formats.md) */
                assert(sl_utf8_valid(s.z, (size_t)s.n) &&
                       memchr(s.z, 0, (size_t)s.n) == NULL);
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

/* The first record of p/left split in pieces of one byte more at a time
** (sl_decoder_split_more going on from its state) ends where reclen says
** (the split of the whole input without end of input, got0/r0). */
static inline void fuzz_check_split(const sl_decoder *d, const char *p,
                                    size_t left, int got0, size_t r0)
{
    sl_split_state st = {0, 0, 0, 0};
    size_t piece = 0;
    int got = 0;
    for (size_t have = 1; have <= left && !got; have++) {
        got = sl_decoder_split_more(d, p, have, 0, &st, &piece);
        assert(got || st.scanned <= have);
    }
    assert(got == got0 && (!got || piece == r0));
}

#endif
