/*
** csv.c: the CSV decoder (RFC 4180 with a configurable delimiter).
**
** It owns record splitting (a newline ends a record unless it is inside a
** quoted field), the header map (header field -> schema column, matched
** case-insensitively, extra header fields ignored, a leading UTF-8 BOM
** skipped) and the decoding of one record straight into typed batch
** columns. The common record (no quotes) is split with one memchr for the
** newline and one for quotes; fields are found with memchr on the
** delimiter and converted in place, with no copy except the TEXT value
** into the batch arena. Quoted fields with "" escapes are unescaped once,
** directly into the arena for TEXT columns.
**
** Rules: an empty unquoted field is NULL; an empty quoted field is an empty
** TEXT (NULL for other types); without a header a record must have exactly
** one field per column; with a header missing trailing fields are NULL and
** a record with more fields than the header is rejected; a quoted field
** must be followed by the delimiter or the end of the record; an
** unterminated quote rejects the record; a blank line is skipped; TEXT
** that is not valid UTF-8 or holds a NUL byte rejects the record (plain
** ASCII is recognised while the delimiter is looked for).
*/
#include <stdint.h>
#include <stdio.h>
#include <strings.h>
#include "connectors/decoder_impl.h"

int sl_csv_split(const sl_decoder *d, const char *buf, size_t len,
                 int at_eof, sl_split_state *st, size_t *reclen)
{
    size_t i = st->scanned;
    if (i == 0) {
        /* the common record: no quote before its newline */
        const char *nl = len ? memchr(buf, '\n', len) : NULL;
        size_t upto = nl ? (size_t)(nl - buf) : len;
        if (upto == 0 || memchr(buf, '"', upto) == NULL) {
            if (nl != NULL) {
                *reclen = upto + 1;
                return 1;
            }
            /* no newline yet, and no quote: resume at the end */
            st->scanned = len;
            st->in_field = len > 0 && buf[len - 1] != d->opt.delimiter;
            if (at_eof && len > 0) {
                *reclen = len;
                return 1;
            }
            return 0;
        }
    }
    /* follow the quoting, from where the last call stopped */
    const char delim = d->opt.delimiter;
    int field_start = !st->in_field, inq = st->in_quotes;
    for (; i < len; i++) {
        if (inq) {
            /* the closing quote, noting the first newline on the way */
            const char *q = memchr(buf + i, '"', len - i);
            size_t qi = q ? (size_t)(q - buf) : len;
            if (st->first_line == 0) {
                const char *nl = memchr(buf + i, '\n', qi - i);
                if (nl != NULL)
                    st->first_line = (size_t)(nl - buf) + 1;
            }
            i = qi;
            if (q == NULL)
                break;
            if (i + 1 == len && !at_eof)
                break;  /* "" escape or closing quote: need the next byte */
            if (i + 1 < len && buf[i + 1] == '"') {
                i++;
                continue;
            }
            inq = 0;
            continue;
        }
        char c = buf[i];
        if (c == '\n') {
            *reclen = i + 1;
            st->in_quotes = 0;
            return 1;
        }
        if (c == delim) {
            field_start = 1;
            continue;
        }
        if (c == '"' && field_start)
            inq = 1;
        field_start = 0;
    }
    st->scanned = i;
    st->in_quotes = inq;
    st->in_field = !field_start;
    if (at_eof && len > 0) {
        *reclen = len;
        return 1;
    }
    return 0;
}

typedef struct csv_field {
    const char *z;     /* content, quotes removed (escapes still doubled) */
    size_t n;
    int quoted;
    int escaped;       /* contains "" pairs */
} csv_field;

enum { FIELD_OK = 0, FIELD_UNTERMINATED = -1, FIELD_JUNK = -2 };

/* Reads the field at *pp (< end or == end for an empty last field) and
** leaves *pp on the delimiter after it or at end. */
static inline int next_field(const char **pp, const char *end, char delim,
                             csv_field *f)
{
    const char *p = *pp;
    if (p < end && *p == '"') {
        const char *q = p + 1;
        int esc = 0;
        for (;;) {
            const char *qq = memchr(q, '"', (size_t)(end - q));
            if (qq == NULL)
                return FIELD_UNTERMINATED;
            if (qq + 1 < end && qq[1] == '"') {
                esc = 1;
                q = qq + 2;
                continue;
            }
            q = qq;
            break;
        }
        f->z = p + 1;
        f->n = (size_t)(q - p - 1);
        f->quoted = 1;
        f->escaped = esc;
        p = q + 1;
        *pp = p;
        if (p < end && *p != delim)
            return FIELD_JUNK;
        return FIELD_OK;
    }
    const char *fe = p + sl_dec_find_byte(p, (size_t)(end - p), delim);
    f->z = p;
    f->n = (size_t)(fe - p);
    f->quoted = 0;
    f->escaped = 0;
    *pp = fe;
    return FIELD_OK;
}

/* Copies z/n to out turning "" into "; returns the new length. */
static size_t unescape_quotes(char *out, const char *z, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        out[o++] = z[i];
        if (z[i] == '"' && i + 1 < n && z[i + 1] == '"')
            i++;
    }
    return o;
}

static size_t strip_terminator(const char *rec, size_t len)
{
    if (len > 0 && rec[len - 1] == '\n')
        len--;
    if (len > 0 && rec[len - 1] == '\r')
        len--;
    return len;
}

/* Offset of the first delimiter in z[0..n) (or n) when every byte before
** it is plain ASCII other than NUL (so valid TEXT); SIZE_MAX otherwise.
** Looks for the three kinds of byte 8 at a time, so checking the text
** costs nothing beyond finding the delimiter. */
static inline size_t plain_text_field(const char *z, size_t n, char delim)
{
    size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = UINT64_C(0x0101010101010101), high = ones << 7;
    const uint64_t pat = ones * (unsigned char)delim;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, z + i, 8);
        uint64_t x = w ^ pat;
        /* high bit set in bytes that are the delimiter, >= 0x80 or NUL
        ** (exact for the lowest such byte) */
        uint64_t t = (((x - ones) & ~x) | w | (w - ones)) & high;
        if (t != 0) {
            size_t k = i + (size_t)(__builtin_ctzll(t) >> 3);
            return z[k] == delim ? k : SIZE_MAX;
        }
    }
#endif
    for (; i < n; i++) {
        if (z[i] == delim)
            return i;
        if ((unsigned char)z[i] - 1u >= 0x7Fu)
            return SIZE_MAX;
    }
    return n;
}

/* The fast path for one unquoted field at p (p < end, *p != '"') of
** column col (-1: not wanted): converts it in place and returns the
** delimiter or end after it. Returns NULL, having stored nothing, when the
** text is not in the plain shape it handles (blanks, '+', exponents, long
** numbers, other timestamp shapes or bad values); the general path then
** decides, so results and messages are those of sl_dec_set_from_text. */
static inline const char *fast_field(sl_decoder *d, sl_batch *b, int r,
                                     int col, const char *p,
                                     const char *end, char delim)
{
    if (*p == delim)
        return p;  /* empty: NULL */
    if (col < 0)
        return p + sl_dec_find_byte(p, (size_t)(end - p), delim);
    sl_column *c = &b->cols[col];
    switch (d->types[col]) {
    case SL_TEXT: {
        size_t n = plain_text_field(p, (size_t)(end - p), delim);
        if (n == SIZE_MAX) {
            /* not plain ASCII: UTF-8 is stored, anything else rejected by
            ** the general path */
            n = sl_dec_find_byte(p, (size_t)(end - p), delim);
            if (sl_dec_text_check(p, n) != SL_TEXT_OK)
                return NULL;
        }
        char *t = sl_arena_alloc(&b->arena, n + 1);
        memcpy(t, p, n);
        t[n] = 0;
        c->v.s[r] = (sl_str){t, (int32_t)n};
        c->null[r] = 0;
        return p + n;
    }
    case SL_BIGINT:
    case SL_INTERVAL:
    case SL_DOUBLE: {
        /* [-]digits (at most 18: no overflow possible), and for DOUBLE
        ** [-]digits[.digits] with Clinger's exact case (the result of
        ** sl_dec_parse_double and of strtod) */
        int neg, nd, fd;
        uint64_t m;
        const char *s = sl_dec_plain_decimal(p, end, &neg, &m, &nd, &fd);
        if (nd == 0 || (s < end && *s != delim))
            return NULL;
        if (d->types[col] == SL_DOUBLE) {
            if (sl_dec_plain_double(neg, m, fd, &c->v.d[r]) != 0)
                return NULL;
        } else {
            if (fd >= 0 || nd > 18)
                return NULL;
            c->v.i[r] = neg ? -(int64_t)m : (int64_t)m;
        }
        c->null[r] = 0;
        return s;
    }
    case SL_TIMESTAMP: {
        if (d->opt.ts_format != SL_TS_ISO)
            return NULL;
        size_t n = sl_dec_find_byte(p, (size_t)(end - p), delim);
        int64_t v;
        if (sl_ts_parse_cached(&d->tsc, p, n, &v) < 0)
            return NULL;
        c->v.i[r] = v;
        c->null[r] = 0;
        return p + n;
    }
    default:
        return NULL;
    }
}

static void field_name(const sl_decoder *d, int col, int fi, char *out,
                       size_t cap)
{
    if (col >= 0)
        snprintf(out, cap, "column %s", d->names[col]);
    else
        snprintf(out, cap, "field %d", fi + 1);
}

int sl_csv_header(sl_decoder *d, const char *rec, size_t len, sl_error *err)
{
    len = strip_terminator(rec, len);
    if (len >= 3 && memcmp(rec, "\xEF\xBB\xBF", 3) == 0) {
        rec += 3;
        len -= 3;
    }
    const char *p = rec, *end = rec + len;
    int fi = 0, matched = 0;
    d->nheader = 0;
    unsigned char *used = calloc((size_t)(d->ncols ? d->ncols : 1), 1);
    if (used == NULL)
        abort();
    for (;;) {
        csv_field f;
        int rc = next_field(&p, end, d->opt.delimiter, &f);
        if (rc != FIELD_OK) {
            free(used);
            return sl_error_set(err, -1, "bad CSV header: %s in field %d",
                                rc == FIELD_UNTERMINATED
                                    ? "unterminated quote"
                                    : "text after a closing quote",
                                fi + 1);
        }
        char *name = sl_dec_scratch(d, f.n + 1);
        size_t n = f.escaped ? unescape_quotes(name, f.z, f.n)
                             : (memcpy(name, f.z, f.n), f.n);
        const char *s = name;
        while (n > 0 && (*s == ' ' || *s == '\t'))
            s++, n--;
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        int col = -1;
        for (int c = 0; c < d->ncols; c++) {
            if (!used[c] && strlen(d->names[c]) == n &&
                strncasecmp(d->names[c], s, n) == 0) {
                col = c;
                used[c] = 1;
                matched++;
                break;
            }
        }
        if (fi == d->header_cap) {
            d->header_cap = d->header_cap ? d->header_cap * 2 : 16;
            int *m = realloc(d->field_col, sizeof(int) * (size_t)d->header_cap);
            if (m == NULL)
                abort();
            d->field_col = m;
        }
        d->field_col[fi++] = col;
        if (p >= end)
            break;
        p++;  /* delimiter */
    }
    free(used);
    d->nheader = fi;
    d->has_header = 1;
    if (matched == 0 && d->ncols > 0) {
        char show[64];
        sl_dec_show(show, rec, len);
        return sl_error_set(err, -1,
                            "the CSV header '%s' names none of the columns",
                            show);
    }
    return 0;
}

/* Decodes the record rec/len (see sl_csv_decode). line: the record was cut
** at its first newline without following quotes, so a field starting with
** a quote gives up (-2, nothing appended). */
static inline int decode_record(sl_decoder *d, const char *rec, size_t len,
                                sl_batch *b, char *reason, size_t cap,
                                int line)
{
    len = strip_terminator(rec, len);
    if (len == 0)
        return 0;
    const char delim = d->opt.delimiter;
    const int has_header = d->has_header;
    const int nexpect = has_header ? d->nheader : d->ncols;
    const int *map = d->field_col;
    int r = sl_batch_add_row(b);
    const char *p = rec, *end = rec + len;
    int fi = 0, failed = 0;
    for (;;) {
        csv_field f;
        int col = fi < nexpect ? (has_header ? map[fi] : fi) : -1;
        if (p < end && *p != '"') {
            const char *q = fast_field(d, b, r, failed ? -1 : col, p, end,
                                       delim);
            if (q != NULL) {
                p = q;
                goto next;
            }
        } else if (line && p < end) {
            b->nrows--;
            return -2;  /* a quoted field may hold newlines */
        }
        int rc = next_field(&p, end, delim, &f);
        if (rc != FIELD_OK) {
            char where[160];
            field_name(d, col, fi, where, sizeof where);
            if (rc == FIELD_UNTERMINATED) {
                sl_dec_reason(reason, cap, "%s: unterminated quoted field",
                              where);
                b->nrows--;
                return -1;
            }
            if (!failed) {
                sl_dec_reason(reason, cap,
                              "%s: unexpected text after a closing quote",
                              where);
                failed = 1;
            }
            /* resynchronise on the next delimiter */
            const char *dl = memchr(p, delim, (size_t)(end - p));
            p = dl ? dl : end;
        } else if (col >= 0 && !failed) {
            const char *z = f.z;
            size_t n = f.n;
            if (f.escaped) {
                if (d->types[col] == SL_TEXT) {
                    int bad = sl_dec_text_check(z, n);
                    if (bad != SL_TEXT_OK) {
                        sl_dec_text_reject(d, col, bad, reason, cap);
                        failed = 1;
                        goto next;
                    }
                }
                char *u = d->types[col] == SL_TEXT
                              ? sl_arena_alloc(&b->arena, n + 1)
                              : sl_dec_scratch(d, n + 1);
                n = unescape_quotes(u, z, n);
                if (d->types[col] == SL_TEXT) {
                    u[n] = 0;
                    b->cols[col].v.s[r] = (sl_str){u, (int32_t)n};
                    b->cols[col].null[r] = 0;
                    goto next;
                }
                z = u;
            }
            if (sl_dec_set_from_text(d, b, r, col, z, n, f.quoted, reason,
                                     cap) < 0)
                failed = 1;
        }
    next:
        fi++;
        if (p >= end)
            break;
        p++;  /* the delimiter */
    }
    if (!has_header && fi != nexpect) {
        sl_dec_reason(reason, cap, "expected %d fields, got %d", nexpect, fi);
        failed = 1;
    } else if (has_header && fi != nexpect) {
        sl_dec_reason(reason, cap, "record has %d fields, the header has %d",
                      fi, nexpect);
        failed = 1;
    }
    if (failed) {
        b->nrows--;
        return -1;
    }
    return 1;
}

int sl_csv_decode(sl_decoder *d, const char *rec, size_t len, sl_batch *b,
                  char *reason, size_t cap)
{
    return decode_record(d, rec, len, b, reason, cap, 0);
}

int sl_csv_decode_line(sl_decoder *d, const char *buf, size_t len,
                       sl_batch *b, size_t *reclen, char *reason, size_t cap)
{
    const char *nl = memchr(buf, '\n', len);
    if (nl == NULL)
        return -2;
    *reclen = (size_t)(nl - buf) + 1;
    return decode_record(d, buf, *reclen, b, reason, cap, 1);
}
