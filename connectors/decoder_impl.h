/*
** decoder_impl.h: the inside of sl_decoder, shared by decoder.c (creation,
** dispatch, conversions), csv.c and ndjson.c. Private to connectors/.
**
** It owns the decoder struct (schema copy, CSV header map, NDJSON path trie,
** scratch buffer) and the hot scalar parsers, which are static inline so the
** per-field conversions of both formats compile into their loops: a
** hand-written int64 parser with overflow detection and a double parser that
** takes Clinger's exact fast path (at most 19 digits, power of ten within
** 10^±22, mantissa below 2^53) and otherwise falls back to strtod_l in the C
** locale, so results are always those of strtod.
*/
#ifndef SL_DECODER_IMPL_H
#define SL_DECODER_IMPL_H

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "connectors/decoder.h"

/* One segment of a (dotted) NDJSON column path. Node 0 is the root. */
typedef struct sl_dec_node {
    const char *name;   /* points into the decoder's names */
    int len;
    int col;            /* schema column ending here, or -1 */
    int child;          /* first child node, or -1 */
    int next;           /* next sibling, or -1 */
} sl_dec_node;

struct sl_decoder {
    sl_decoder_options opt;
    int ncols;
    char **names;
    sl_type *types;
    int *not_null;              /* the NOT NULL columns, nnot_null of them */
    int nnot_null;
    locale_t c_locale;          /* for the strtod_l fallback */

    /* CSV: header field index -> schema column (-1: ignored). */
    int has_header;
    int *field_col;
    int nheader;
    int header_cap;

    /* NDJSON path trie. */
    sl_dec_node *nodes;
    int nnodes;
    unsigned char *skip_stack;  /* container kinds while skipping values */
    /* Per node, the number of the last record in which a key matched it
    ** exactly: a key matching it only case-insensitively is then ignored. */
    uint64_t *node_exact;
    uint64_t record_no;

    /* The last date of a TIMESTAMP value parsed (sl_ts_parse_cached). */
    sl_ts_cache tsc;

    /* Unescaping space for values that are not stored as TEXT. */
    char *scratch;
    size_t scratch_cap;
};

/* Maximum nesting of JSON values the decoder skips through. */
#define SL_DEC_MAX_DEPTH 8192

/* Returns scratch space of at least n bytes (grows, never shrinks). */
char *sl_dec_scratch(sl_decoder *d, size_t n);

/* Writes "column <name>: <what>" style reasons. */
void sl_dec_reason(char *reason, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Renders z/n for a reason as valid UTF-8: control bytes become spaces,
** bytes that are not UTF-8 '?', long text is cut to 48 bytes (on a
** character boundary) and "..." added. out must hold 64 bytes. */
void sl_dec_show(char *out, const char *z, size_t n);

/* Converts text (a CSV field or a JSON string, already unquoted and
** unescaped) into row r, column col of b. quoted: it was a quoted CSV field
** or a JSON string (an empty one is then an empty TEXT rather than NULL).
** Returns 0, or -1 with reason set. */
int sl_dec_set_from_text(sl_decoder *d, sl_batch *b, int r, int col,
                         const char *z, size_t n, int quoted, char *reason,
                         size_t cap);

/* Epoch number text to ms per the decoder's ts_format; 0 or -1. */
int sl_dec_epoch_ms(const sl_decoder *d, const char *z, size_t n,
                    int64_t *ms);

/* Format entry points (csv.c, ndjson.c). */
int sl_csv_split(const sl_decoder *d, const char *buf, size_t len,
                 int at_eof, sl_split_state *st, size_t *reclen);
int sl_csv_header(sl_decoder *d, const char *rec, size_t len, sl_error *err);
int sl_csv_decode(sl_decoder *d, const char *rec, size_t len, sl_batch *b,
                  char *reason, size_t cap);
int sl_csv_decode_line(sl_decoder *d, const char *buf, size_t len,
                       sl_batch *b, size_t *reclen, char *reason, size_t cap);
int sl_ndjson_build(sl_decoder *d, sl_error *err);
int sl_ndjson_decode(sl_decoder *d, const char *rec, size_t len, sl_batch *b,
                     char *reason, size_t cap);

/* --- scalar parsers ------------------------------------------------------ */

/* Offset of the first byte c in z[0..n), or n. Reads 8 bytes at a time
** (fields are short: this beats a memchr call per field). */
static inline size_t sl_dec_find_byte(const char *z, size_t n, char c)
{
    size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = UINT64_C(0x0101010101010101);
    const uint64_t pat = ones * (unsigned char)c;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, z + i, 8);
        w ^= pat;
        /* high bit set in the bytes that were c (exact for the lowest) */
        uint64_t t = (w - ones) & ~w & (ones << 7);
        if (t != 0)
            return i + (size_t)(__builtin_ctzll(t) >> 3);
    }
#endif
    for (; i < n; i++)
        if (z[i] == c)
            return i;
    return n;
}

/* --- TEXT values: valid UTF-8 without NUL ------------------------------- */

/* What sl_dec_text_check finds wrong with a TEXT value. */
enum { SL_TEXT_OK = 0, SL_TEXT_BAD_UTF8 = 1, SL_TEXT_NUL = 2 };

/* The general check of z[i..n) (out of line: text past the first byte
** that is not plain ASCII). */
int sl_dec_text_check_from(const char *z, size_t n, size_t i);

/* Whether z/n may be stored as TEXT: SL_TEXT_OK when it is valid UTF-8
** holding no NUL byte, else what is wrong. Plain ASCII is checked 8 bytes
** at a time; the first word holding a byte >= 0x80 or a NUL goes to the
** general check. */
static inline int sl_dec_text_check(const char *z, size_t n)
{
    size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = UINT64_C(0x0101010101010101), high = ones << 7;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, z + i, 8);
        if (((w | (w - ones)) & high) != 0)   /* a byte >= 0x80 or 0x00 */
            return sl_dec_text_check_from(z, n, i);
    }
#endif
    for (; i < n; i++)
        if ((unsigned char)z[i] - 1u >= 0x7Fu)  /* 0x00 or >= 0x80 */
            return sl_dec_text_check_from(z, n, i);
    return SL_TEXT_OK;
}

/* Writes "column <name>: text is not valid UTF-8" (or "... holds a NUL
** byte") for what sl_dec_text_check returned; returns -1. */
int sl_dec_text_reject(const sl_decoder *d, int col, int what, char *reason,
                       size_t cap);

/* 10^e for 0 <= e <= 22: the powers of ten that are exact doubles. */
static inline double sl_dec_pow10(int e)
{
    static const double p10[23] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    return p10[e];
}

/* The plain decimal at p: [-]digits[.digits], at most 19 digits in all,
** read as one integer: *m the digits, *nd how many, *fd how many after the
** point (-1: no point). Stops at the first byte that does not fit (or at a
** 20th digit) and returns where; what may follow, and which shapes are
** taken, is the caller's (CSV and JSON differ). The fast paths of both
** decoders read numbers with it. */
/* The number of decimal digits (0 to 8) that start the 8 bytes at p, and
** in *v their value: eight bytes tested and converted at once (SWAR; the
** conversion is Lemire's eight-digit parse), since a field's digits are
** usually fewer than eight and a byte-at-a-time loop branches per digit. */
static inline int sl_dec_digits8(const char *p, uint64_t *v)
{
    const uint64_t lo = UINT64_C(0x0F0F0F0F0F0F0F0F), hi = ~lo;
    uint64_t a;
    memcpy(&a, p, 8);
    a ^= UINT64_C(0x3030303030303030);      /* '0'..'9' -> 0..9 */
    /* a byte is not a digit when its high nibble is set now, or its low
    ** nibble is above 9 (adding 6 carries into the high nibble) */
    uint64_t bad = (a & hi) | (((a & lo) + UINT64_C(0x0606060606060606)) & hi);
    int n = bad ? __builtin_ctzll(bad) >> 3 : 8;
    if (n == 0) {
        *v = 0;
        return 0;
    }
    a <<= 8 * (8 - n);                      /* leading zeros, little-endian */
    a = (a * 2561) >> 8;
    a = ((a & UINT64_C(0x00FF00FF00FF00FF)) * 6553601) >> 16;
    *v = ((a & UINT64_C(0x0000FFFF0000FFFF)) * UINT64_C(42949672960001)) >> 32;
    return n;
}

static inline const char *sl_dec_plain_decimal(const char *p, const char *end,
                                               int *neg, uint64_t *m,
                                               int *nd, int *fd)
{
    static const uint32_t pow10[9] = {1, 10, 100, 1000, 10000, 100000,
                                      1000000, 10000000, 100000000};
    *neg = p < end && *p == '-';
    p += *neg;
    uint64_t v = 0;
    int n = 0, f = -1;
    if (end - p >= 8) {
        n = sl_dec_digits8(p, &v);
        p += n;
    }
    while (p < end && n < 19 && (unsigned)(*p - '0') <= 9) {
        v = v * 10 + (unsigned)(*p++ - '0');
        n++;
    }
    if (p < end && *p == '.') {
        const char *s = ++p;
        if (end - p >= 8 && n <= 11) {      /* stays within 19 digits */
            uint64_t w;
            int k = sl_dec_digits8(p, &w);
            v = v * pow10[k] + w;
            n += k;
            p += k;
        }
        while (p < end && n < 19 && (unsigned)(*p - '0') <= 9) {
            v = v * 10 + (unsigned)(*p++ - '0');
            n++;
        }
        f = (int)(p - s);
    }
    *m = v;
    *nd = n;
    *fd = f;
    return p;
}

/* The double of a plain decimal read by sl_dec_plain_decimal, when it is
** exact (Clinger's fast case: a mantissa up to 2^53, a power of ten that
** is an exact double: the result of strtod). Returns 0, or -1 when it is
** not that case. */
static inline int sl_dec_plain_double(int neg, uint64_t m, int fd, double *out)
{
    if (m > (UINT64_C(1) << 53))
        return -1;
    double v = (double)m / sl_dec_pow10(fd > 0 ? fd : 0);
    *out = neg ? -v : v;
    return 0;
}

/* Parses [+-]digits. Returns 0, -1 on bad syntax, -2 on overflow. */
static inline int sl_dec_parse_int64(const char *z, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (n == 0)
        return -1;
    if (z[0] == '-' || z[0] == '+') {
        neg = z[0] == '-';
        i = 1;
        if (n == 1)
            return -1;
    }
    uint64_t v = 0;
    int over = 0;
    for (; i < n; i++) {
        unsigned c = (unsigned)((unsigned char)z[i] - '0');
        if (c > 9)
            return -1;
        if (v > (UINT64_MAX - c) / 10)
            over = 1;
        v = v * 10 + c;
    }
    if (over)
        return -2;
    if (neg) {
        if (v > UINT64_C(9223372036854775808))
            return -2;
        *out = (int64_t)(0 - v);
    } else {
        if (v > INT64_MAX)
            return -2;
        *out = (int64_t)v;
    }
    return 0;
}

/* Checks number syntax: [+-]? (digits [. digits?] | . digits) ([eE] [+-]?
** digits)?  (json: the stricter JSON grammar). Fills the parts used by the
** fast path. Returns 0 or -1. */
static inline int sl_dec_scan_double(const char *z, size_t n, int json,
                                     uint64_t *mant, int *ndig, int *exp10,
                                     int *neg)
{
    size_t i = 0;
    *neg = 0;
    if (i < n && (z[i] == '-' || (z[i] == '+' && !json))) {
        *neg = z[i] == '-';
        i++;
    }
    uint64_t m = 0;
    int nd = 0, e = 0, idig = 0, fdig = 0;
    size_t istart = i;
    for (; i < n && (unsigned)((unsigned char)z[i] - '0') <= 9; i++) {
        idig++;
        if (nd == 0 && z[i] == '0')
            continue;
        if (nd < 19)
            m = m * 10 + (unsigned)(z[i] - '0');
        else
            e++;
        nd++;
    }
    if (json && (idig == 0 || (idig > 1 && z[istart] == '0')))
        return -1;
    if (i < n && z[i] == '.') {
        i++;
        for (; i < n && (unsigned)((unsigned char)z[i] - '0') <= 9; i++) {
            fdig++;
            if (nd == 0 && z[i] == '0') {
                e--;
                continue;
            }
            if (nd < 19) {
                m = m * 10 + (unsigned)(z[i] - '0');
                e--;
            }
            nd++;
        }
        if (json && fdig == 0)
            return -1;
    }
    if (idig + fdig == 0)
        return -1;
    if (i < n && (z[i] == 'e' || z[i] == 'E')) {
        i++;
        int eneg = 0, x = 0, xd = 0;
        if (i < n && (z[i] == '+' || z[i] == '-')) {
            eneg = z[i] == '-';
            i++;
        }
        for (; i < n && (unsigned)((unsigned char)z[i] - '0') <= 9; i++) {
            if (x < 100000)
                x = x * 10 + (z[i] - '0');
            xd++;
        }
        if (xd == 0)
            return -1;
        e += eneg ? -x : x;
    }
    if (i != n)
        return -1;
    *mant = m;
    *ndig = nd;
    *exp10 = e;
    return 0;
}

/* Parses a decimal number exactly as strtod would. json: JSON grammar.
** Returns 0, or -1 on bad syntax or a value beyond DOUBLE's range. */
static inline int sl_dec_parse_double(const sl_decoder *d, const char *z,
                                      size_t n, int json, double *out)
{
    uint64_t m;
    int nd, e, neg;
    if (sl_dec_scan_double(z, n, json, &m, &nd, &e, &neg) < 0)
        return -1;
    if (m == 0) {
        *out = neg ? -0.0 : 0.0;
        return 0;
    }
    if (nd <= 19 && m <= (UINT64_C(1) << 53) && e >= -22 && e <= 22) {
        double v = (double)m;
        v = e < 0 ? v / sl_dec_pow10(-e) : v * sl_dec_pow10(e);
        *out = neg ? -v : v;
        return 0;
    }
    char small[64];
    char *buf = n < sizeof small ? small : malloc(n + 1);
    if (buf == NULL)
        abort();
    memcpy(buf, z, n);
    buf[n] = 0;
    double v = strtod_l(buf, NULL, d->c_locale);
    if (buf != small)
        free(buf);
    if (v == HUGE_VAL || v == -HUGE_VAL)
        return -1;  /* beyond the range of DOUBLE */
    *out = v;
    return 0;
}

#endif
