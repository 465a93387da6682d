/*
** decoder.c: the sl_decoder_* entry points and the value conversions shared
** by the CSV and NDJSON decoders.
**
** It owns the decoder's life cycle (schema copy, C locale for strtod_l,
** scratch space), dispatches split/header/decode to csv.c or ndjson.c, and
** converts one piece of text into a typed column value
** (sl_dec_set_from_text): BIGINT, DOUBLE, BOOLEAN (true/false, t/f, 1/0,
** yes/no), TEXT, TIMESTAMP (ISO-8601, or epoch numbers per ts_format) and
** INTERVAL (integer milliseconds). TEXT must be valid UTF-8 without NUL
** bytes (sl_dec_text_check; SQLite and its readers expect UTF-8 text).
** Rejection reasons name the column and show the offending text,
** truncated (and made valid UTF-8).
*/
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include "engine/error.h"
#include "connectors/decoder_impl.h"

sl_decoder *sl_decoder_new(const sl_decoder_options *opt, int ncols,
                           const char *const *names, const sl_type *types,
                           sl_error *err)
{
    if (ncols < 0)
        return sl_error_set(err, -1, "a decoder needs columns"), NULL;
    if (opt->format != SL_FORMAT_CSV && opt->format != SL_FORMAT_NDJSON)
        return sl_error_set(err, -1, "unknown input format"), NULL;
    char delim = opt->delimiter ? opt->delimiter : ',';
    if (opt->format == SL_FORMAT_CSV &&
        (delim == '"' || delim == '\n' || delim == '\r'))
        return sl_error_set(err, -1, "bad CSV delimiter"), NULL;
    if (opt->ts_format != SL_TS_ISO && opt->ts_format != SL_TS_EPOCH_MS &&
        opt->ts_format != SL_TS_EPOCH_S)
        return sl_error_set(err, -1, "unknown timestamp format"), NULL;
    for (int i = 0; i < ncols; i++) {
        if (types[i] <= SL_NULL || types[i] > SL_INTERVAL)
            return sl_error_set(err, -1, "column %s: type cannot be decoded",
                                names[i]), NULL;
    }

    sl_decoder *d = sl_xmalloc(sizeof *d);
    memset(d, 0, sizeof *d);
    d->opt = *opt;
    d->opt.delimiter = delim;
    d->ncols = ncols;
    d->opt.not_null = NULL;
    d->not_null = sl_xmalloc(sizeof(int) * (size_t)(ncols ? ncols : 1));
    for (int i = 0; i < ncols; i++)
        if (opt->not_null != NULL && opt->not_null[i])
            d->not_null[d->nnot_null++] = i;
    d->names = sl_xmalloc(sizeof(char *) * (size_t)(ncols ? ncols : 1));
    d->types = sl_xmalloc(sizeof(sl_type) * (size_t)(ncols ? ncols : 1));
    for (int i = 0; i < ncols; i++) {
        size_t n = strlen(names[i]);
        d->names[i] = sl_xmalloc(n + 1);
        memcpy(d->names[i], names[i], n + 1);
        d->types[i] = types[i];
    }
    d->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (d->c_locale == (locale_t)0) {
        sl_decoder_free(d);
        return sl_error_set(err, -1, "cannot create the C locale"), NULL;
    }
    if (opt->format == SL_FORMAT_NDJSON && sl_ndjson_build(d, err) < 0) {
        sl_decoder_free(d);
        return NULL;
    }
    return d;
}

void sl_decoder_free(sl_decoder *d)
{
    if (d == NULL)
        return;
    for (int i = 0; i < d->ncols; i++)
        free(d->names[i]);
    free(d->names);
    free(d->types);
    free(d->not_null);
    if (d->c_locale != (locale_t)0)
        freelocale(d->c_locale);
    free(d->field_col);
    free(d->nodes);
    free(d->skip_stack);
    free(d->node_exact);
    free(d->scratch);
    free(d);
}

int sl_decoder_split_more(const sl_decoder *d, const char *buf, size_t len,
                          int at_eof, sl_split_state *st, size_t *reclen)
{
    if (d->opt.format == SL_FORMAT_CSV)
        return sl_csv_split(d, buf, len, at_eof, st, reclen);
    size_t from = st->scanned;
    const char *nl = len > from ? memchr(buf + from, '\n', len - from) : NULL;
    if (nl != NULL) {
        *reclen = (size_t)(nl - buf) + 1;
        return 1;
    }
    st->scanned = len;
    if (at_eof && len > 0) {
        *reclen = len;
        return 1;
    }
    return 0;
}

int sl_decoder_split(const sl_decoder *d, const char *buf, size_t len,
                     int at_eof, size_t *reclen)
{
    sl_split_state st = {0, 0, 0, 0};
    return sl_decoder_split_more(d, buf, len, at_eof, &st, reclen);
}

int sl_decoder_header(sl_decoder *d, const char *rec, size_t len,
                      sl_error *err)
{
    if (d->opt.format != SL_FORMAT_CSV)
        return 0;
    return sl_csv_header(d, rec, len, err);
}

/* Takes the last row of b back out and rejects its record: column c is
** NULL and declared NOT NULL. Out of line: it is the rare path. */
static __attribute__((noinline, cold)) int
reject_null(const sl_decoder *d, int c, sl_batch *b, char *reason,
            size_t reason_cap)
{
    b->nrows--;
    sl_dec_reason(reason, reason_cap, "column %s: NULL, and the column is "
                  "declared NOT NULL", d->names[c]);
    return -1;
}

/* A decoded row (rc 1, the last row of b) with a NULL in a NOT NULL column
** is taken back out and the record rejected. Inlined into both entry
** points: it runs for every record. */
static inline __attribute__((always_inline)) int
check_not_null(const sl_decoder *d, int rc, sl_batch *b, char *reason,
               size_t reason_cap)
{
    if (rc != 1 || d->nnot_null == 0)
        return rc;
    int r = b->nrows - 1;
    for (int i = 0; i < d->nnot_null; i++)
        if (b->cols[d->not_null[i]].null[r])
            return reject_null(d, d->not_null[i], b, reason, reason_cap);
    return 1;
}

int sl_decoder_decode(sl_decoder *d, const char *rec, size_t len,
                      sl_batch *b, char *reason, size_t reason_cap)
{
    if (reason_cap > 0)
        reason[0] = 0;
    int rc = d->opt.format == SL_FORMAT_CSV
        ? sl_csv_decode(d, rec, len, b, reason, reason_cap)
        : sl_ndjson_decode(d, rec, len, b, reason, reason_cap);
    return check_not_null(d, rc, b, reason, reason_cap);
}

int sl_decoder_decode_line(sl_decoder *d, const char *buf, size_t len,
                           sl_batch *b, size_t *reclen, char *reason,
                           size_t reason_cap)
{
    if (reason_cap > 0)
        reason[0] = 0;
    int rc;
    if (d->opt.format == SL_FORMAT_CSV) {
        rc = sl_csv_decode_line(d, buf, len, b, reclen, reason, reason_cap);
    } else {
        const char *nl = memchr(buf, '\n', len);
        if (nl == NULL)
            return -2;
        *reclen = (size_t)(nl - buf) + 1;
        rc = sl_ndjson_decode(d, buf, *reclen, b, reason, reason_cap);
    }
    return check_not_null(d, rc, b, reason, reason_cap);
}

char *sl_dec_scratch(sl_decoder *d, size_t n)
{
    if (n > d->scratch_cap) {
        size_t cap = d->scratch_cap ? d->scratch_cap : 256;
        while (cap < n)
            cap *= 2;
        free(d->scratch);
        d->scratch = sl_xmalloc(cap);
        d->scratch_cap = cap;
    }
    return d->scratch;
}

void sl_dec_reason(char *reason, size_t cap, const char *fmt, ...)
{
    if (cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, cap, fmt, ap);
    va_end(ap);
}

/* Length of the valid UTF-8 character at z[0..n) (n > 0, z[0] >= 0x80),
** or 0 when the bytes there are not one: overlong forms, UTF-16 surrogates
** (U+D800..U+DFFF) and code points above U+10FFFF are invalid (RFC 3629). */
static size_t utf8_char(const unsigned char *z, size_t n)
{
    unsigned c = z[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;  /* the range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;              /* overlong */
        else if (c == 0xED)
            hi = 0x9F;              /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;              /* overlong */
        else if (c == 0xF4)
            hi = 0x8F;              /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || z[1] < lo || z[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((z[k] & 0xC0) != 0x80)
            return 0;
    return len;
}

int sl_dec_text_check_from(const char *z, size_t n, size_t i)
{
    const unsigned char *u = (const unsigned char *)z;
    while (i < n) {
        if (u[i] == 0)
            return SL_TEXT_NUL;
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_char(u + i, n - i);
        if (k == 0)
            return SL_TEXT_BAD_UTF8;
        i += k;
    }
    return SL_TEXT_OK;
}

int sl_utf8_valid(const char *z, size_t n)
{
    return sl_dec_text_check(z, n) != SL_TEXT_BAD_UTF8;
}

__attribute__((noinline, cold)) int
sl_dec_text_reject(const sl_decoder *d, int col, int what, char *reason,
                   size_t cap)
{
    sl_dec_reason(reason, cap, what == SL_TEXT_NUL
                  ? "column %s: text holds a NUL byte"
                  : "column %s: text is not valid UTF-8", d->names[col]);
    return -1;
}

void sl_dec_show(char *out, const char *z, size_t n)
{
    /* valid UTF-8 out (the reason is stored as TEXT): control bytes become
    ** spaces, a byte that starts no valid character '?'; the cut falls on
    ** a character boundary */
    const unsigned char *u = (const unsigned char *)z;
    size_t i = 0, o = 0;
    while (i < n && i < 48) {
        unsigned char c = u[i];
        if (c < 0x80) {
            out[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
            i++;
            continue;
        }
        size_t k = utf8_char(u + i, n - i);
        if (k == 0) {
            out[o++] = '?';
            i++;
        } else if (i + k > 48) {
            break;
        } else {
            memcpy(out + o, z + i, k);
            o += k;
            i += k;
        }
    }
    if (i < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Words accepted for BOOLEAN text (case-insensitive). */
static int parse_bool(const char *z, size_t n, int64_t *v)
{
    switch (n) {
    case 1:
        switch (z[0]) {
        case '1': case 't': case 'T': case 'y': case 'Y':
            *v = 1;
            return 0;
        case '0': case 'f': case 'F': case 'n': case 'N':
            *v = 0;
            return 0;
        }
        return -1;
    case 2:
        if (strncasecmp(z, "no", 2) == 0)
            return *v = 0, 0;
        return -1;
    case 3:
        if (strncasecmp(z, "yes", 3) == 0)
            return *v = 1, 0;
        return -1;
    case 4:
        if (strncasecmp(z, "true", 4) == 0)
            return *v = 1, 0;
        return -1;
    case 5:
        if (strncasecmp(z, "false", 5) == 0)
            return *v = 0, 0;
        return -1;
    }
    return -1;
}

int sl_dec_epoch_ms(const sl_decoder *d, const char *z, size_t n,
                    int64_t *ms)
{
    int64_t v;
    int rc = sl_dec_parse_int64(z, n, &v);
    if (d->opt.ts_format == SL_TS_EPOCH_MS) {
        if (rc == 0) {
            *ms = v;
            return 0;
        }
        return -1;
    }
    if (d->opt.ts_format != SL_TS_EPOCH_S)
        return -1;
    if (rc == 0) {
        if (v > INT64_MAX / 1000 || v < INT64_MIN / 1000)
            return -1;
        *ms = v * 1000;
        return 0;
    }
    /* fractional seconds: exact from the digits when there is no exponent */
    size_t i = 0;
    int neg = 0;
    if (i < n && (z[i] == '-' || z[i] == '+'))
        neg = z[i++] == '-';
    size_t dot = i;
    while (dot < n && (unsigned)((unsigned char)z[dot] - '0') <= 9)
        dot++;
    if (dot < n && z[dot] == '.' && memchr(z, 'e', n) == NULL &&
        memchr(z, 'E', n) == NULL) {
        int64_t secs = 0;
        if (dot > i && sl_dec_parse_int64(z + i, dot - i, &secs) < 0)
            return -1;
        size_t j = dot + 1;
        int64_t frac = 0;
        int k = 0;
        for (; j < n; j++) {
            unsigned c = (unsigned)((unsigned char)z[j] - '0');
            if (c > 9)
                return -1;
            if (k < 3) {
                frac = frac * 10 + c;
                k++;
            }
        }
        if (dot == i && j == dot + 1)
            return -1;  /* "." alone */
        for (; k < 3; k++)
            frac *= 10;
        if (secs > INT64_MAX / 1000 - 1)
            return -1;
        int64_t t = secs * 1000 + frac;
        *ms = neg ? -t : t;
        return 0;
    }
    double x;
    if (sl_dec_parse_double(d, z, n, 0, &x) < 0)
        return -1;
    x *= 1000.0;
    if (!(x > -9.2e18 && x < 9.2e18))
        return -1;
    *ms = (int64_t)(x < 0 ? x - 0.5 : x + 0.5);
    return 0;
}

int sl_dec_set_from_text(sl_decoder *d, sl_batch *b, int r, int col,
                         const char *z, size_t n, int quoted, char *reason,
                         size_t cap)
{
    sl_column *c = &b->cols[col];
    sl_type t = d->types[col];
    if (t == SL_TEXT) {
        if (n == 0 && !quoted)
            return 0;  /* NULL */
        int bad = sl_dec_text_check(z, n);
        if (bad != SL_TEXT_OK)
            return sl_dec_text_reject(d, col, bad, reason, cap);
        char *p = sl_arena_alloc(&b->arena, n + 1);
        memcpy(p, z, n);
        p[n] = 0;
        c->v.s[r] = (sl_str){p, (int32_t)n};
        c->null[r] = 0;
        return 0;
    }
    /* other types ignore surrounding blanks; nothing left is NULL */
    while (n > 0 && is_space(z[0]))
        z++, n--;
    while (n > 0 && is_space(z[n - 1]))
        n--;
    if (n == 0)
        return 0;
    int rc;
    switch (t) {
    case SL_BIGINT:
    case SL_INTERVAL: {
        int64_t v;
        rc = sl_dec_parse_int64(z, n, &v);
        if (rc == 0) {
            c->v.i[r] = v;
            c->null[r] = 0;
            return 0;
        }
        if (rc == -2) {
            char show[64];
            sl_dec_show(show, z, n);
            sl_dec_reason(reason, cap, "column %s: %s is out of range for %s",
                          d->names[col], show, sl_type_name(t));
            return -1;
        }
        break;
    }
    case SL_DOUBLE: {
        double v;
        if (sl_dec_parse_double(d, z, n, 0, &v) == 0) {
            c->v.d[r] = v;
            c->null[r] = 0;
            return 0;
        }
        break;
    }
    case SL_BOOL: {
        int64_t v;
        if (parse_bool(z, n, &v) == 0) {
            c->v.i[r] = v;
            c->null[r] = 0;
            return 0;
        }
        break;
    }
    case SL_TIMESTAMP: {
        int64_t v;
        if (d->opt.ts_format == SL_TS_ISO)
            rc = sl_ts_parse_cached(&d->tsc, z, n, &v);
        else if ((rc = sl_dec_epoch_ms(d, z, n, &v)) < 0)
            rc = sl_ts_parse_cached(&d->tsc, z, n, &v);  /* ISO text too */
        if (rc == 0) {
            c->v.i[r] = v;
            c->null[r] = 0;
            return 0;
        }
        break;
    }
    default:
        break;
    }
    char show[64];
    sl_dec_show(show, z, n);
    sl_dec_reason(reason, cap, "column %s: cannot convert '%s' to %s",
                  d->names[col], show, sl_type_name(t));
    return -1;
}
