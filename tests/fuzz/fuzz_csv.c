/*
** fuzz_csv.c: libFuzzer target for the CSV decoder.
**
** The first input byte picks the options (bits 0-1: delimiter , ; TAB |;
** bit 2: header; bits 3-4: timestamp format), the rest is the input. It is
** split with sl_decoder_split exactly as the file source does (checking
** that a split without end of input agrees with one at end of input), the
** first record is the header when asked, and every other record is decoded
** into a batch over a schema holding every type. Checks: records are never
** empty or longer than the input, a rejected record adds no row and has a
** reason, every TEXT value is readable, every timestamp formats.
*/
/* the checks are the point of a fuzz target: never compiled out */
#undef NDEBUG
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "connectors/decoder.h"
#include "fuzz_batch.h"

static const char *names[] = {"b", "i", "d", "s", "t", "v"};
static const sl_type types[] = {SL_BOOL, SL_BIGINT, SL_DOUBLE, SL_TEXT,
                                SL_TIMESTAMP, SL_INTERVAL};
#define NC 6

static size_t touch(const sl_batch *b)
{
    return fuzz_touch_batch(b, types, NC);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const char delims[4] = {',', ';', '\t', '|'};
    static const unsigned char not_null[NC] = {1, 0, 1};
    sl_decoder_options o = {SL_FORMAT_CSV, delims[data[0] & 3],
                            (data[0] >> 2) & 1,
                            (enum sl_ts_format)(((data[0] >> 3) & 3) % 3),
                            (data[0] >> 5) & 1 ? not_null : NULL};
    const char *p = (const char *)data + 1;
    size_t left = size - 1;
    sl_error err;
    sl_error_clear(&err);
    sl_decoder *d = sl_decoder_new(&o, NC, names, types, &err);
    assert(d != NULL);
    sl_batch *b = sl_batch_new(NC, types, 8);
    int first = 1;
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
        if (first && o.header) {
            sl_error_clear(&err);
            if (sl_decoder_header(d, p, reclen, &err) < 0)
                assert(err.set && err.msg[0]);
        } else {
            char reason[256];
            int before = b->nrows;
            int rc = sl_decoder_decode(d, p, reclen, b, reason, sizeof reason);
            if (rc < 0)
                assert(b->nrows == before && reason[0] != 0 &&
                       strlen(reason) < sizeof reason &&
                       sl_utf8_valid(reason, strlen(reason)));
            else
                assert(b->nrows == before + rc);
        }
        first = 0;
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
