/*
** helpers.h: shared helpers of the connector tests: build a decoder from a
** compact schema, decode one record, and render a cell as text
** ("NULL", "42", "1.5", "true", "2026-01-01 00:00:00.000", or the TEXT).
*/
#ifndef SL_TEST_CONNECTORS_HELPERS_H
#define SL_TEST_CONNECTORS_HELPERS_H

#include <stdio.h>
#include <string.h>
#include "connectors/decoder.h"

/* Renders row r, column c of b into a static buffer. */
static inline const char *cell(const sl_batch *b, int r, int c)
{
    static char out[4096];
    sl_value v = sl_batch_get(b, r, c);
    if (v.is_null)
        return "NULL";
    switch (v.type) {
    case SL_BOOL:
        return v.u.i ? "true" : "false";
    case SL_BIGINT:
    case SL_INTERVAL:
        snprintf(out, sizeof out, "%lld", (long long)v.u.i);
        return out;
    case SL_DOUBLE:
        snprintf(out, sizeof out, "%.17g", v.u.d);
        return out;
    case SL_TEXT:
        snprintf(out, sizeof out, "%.*s", (int)v.u.s.n, v.u.s.z);
        return out;
    case SL_TIMESTAMP:
        sl_ts_format(v.u.i, out);
        return out;
    default:
        return "?";
    }
}

/* Decodes the NUL-terminated record with d into b; returns the result and
** leaves the reason in reason. */
static inline int dec(sl_decoder *d, sl_batch *b, const char *rec, char *reason,
               size_t cap)
{
    return sl_decoder_decode(d, rec, strlen(rec), b, reason, cap);
}

#endif
