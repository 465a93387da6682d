/*
** fuzz_ndjson.c: libFuzzer target for the NDJSON decoder.
**
** The input is split into records with sl_decoder_split (checking that a
** split without end of input agrees with one at end of input) and every
** record is decoded into a batch over a schema holding every type, nested
** paths, and a column that is both a value and a prefix of other paths
** ("o" and "o.x"). The timestamp format cycles with the input size. Checks:
** a rejected record adds no row and has a reason, every TEXT value is
** readable, every timestamp formats.
*/
/* the checks are the point of a fuzz target: never compiled out */
#undef NDEBUG
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "connectors/decoder.h"
#include "fuzz_batch.h"

static const char *names[] = {"b", "i", "d", "s", "t", "o.x", "o.y.z", "o",
                              "v"};
static const sl_type types[] = {SL_BOOL, SL_BIGINT, SL_DOUBLE, SL_TEXT,
                                SL_TIMESTAMP, SL_BIGINT, SL_TEXT, SL_TEXT,
                                SL_INTERVAL};
#define NC 9

static size_t touch(const sl_batch *b)
{
    return fuzz_touch_batch(b, types, NC);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char not_null[NC] = {1, 0, 1};
    sl_decoder_options o = {SL_FORMAT_NDJSON, 0, 0,
                            (enum sl_ts_format)(size % 3),
                            (size / 3) & 1 ? not_null : NULL};
    sl_error err;
    sl_error_clear(&err);
    sl_decoder *d = sl_decoder_new(&o, NC, names, types, &err);
    assert(d != NULL);
    sl_batch *b = sl_batch_new(NC, types, 8);
    const char *p = (const char *)data;
    size_t left = size;
    volatile size_t sink = 0;
    while (left > 0) {
        size_t reclen = 0, r0 = 0;
        int got = sl_decoder_split(d, p, left, 1, &reclen);
        assert(got == 1 && reclen > 0 && reclen <= left);
        int got0 = sl_decoder_split(d, p, left, 0, &r0);
        if (got0)
            assert(r0 == reclen);
        if (left <= 4096)
            fuzz_check_split(d, p, left, got0, r0);
        char reason[256];
        int before = b->nrows;
        int rc = sl_decoder_decode(d, p, reclen, b, reason, sizeof reason);
        if (rc < 0)
            assert(b->nrows == before && reason[0] != 0 &&
                   sl_utf8_valid(reason, strlen(reason)));
        else
            assert(b->nrows == before + rc);
        if (b->nrows >= 8) {
            sink += touch(b);
            sl_batch_reset(b);
        }
        p += reclen;
        left -= reclen;
    }
    sink += touch(b);
    (void)sink;
    sl_batch_free(b);
    sl_decoder_free(d);
    return 0;
}
