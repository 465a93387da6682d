/*
** ndjson.c: the NDJSON decoder (one JSON object per line).
**
** It owns the column path trie (a column `payload.user.id` is the path
** payload -> user -> id) and a single-pass scanner over each record: keys
** are matched against the trie as they are read (exact match first, then
** case-insensitive, then a dotted key such as "user.id" walked segment by
** segment; a case-insensitive match never takes a column whose exact key
** the record has, wherever it stands); a wanted value is converted straight into its typed column,
** an unwanted one is skipped by an iterative validating scanner (no
** recursion, so any nesting depth up to SL_DEC_MAX_DEPTH is safe). No DOM
** is built and nothing is allocated per record: TEXT goes into the batch
** arena, string escapes (\n \" \\ \/ \b \f \r \t \uXXXX with surrogate
** pairs -> UTF-8) are decoded only for wanted fields. A TEXT value must be
** valid UTF-8 without NUL (a lone surrogate or \u0000 escape rejects the
** record, naming the column).
** Fast paths, each falling back to the general code (so results and
** messages do not change): strings are scanned 8 bytes at a time; the key
** after the last matched one in schema order is tried first; plain numbers
** go straight into BIGINT/DOUBLE columns (exact, as strtod); ISO
** timestamps without escapes use the cached parser.
**
** Conversions: strings as text (see sl_dec_set_from_text), numbers to
** BIGINT/DOUBLE/TEXT (literal text) or TIMESTAMP with an epoch ts_format,
** true/false to BOOLEAN or TEXT, null and missing fields to NULL, objects
** and arrays to TEXT as their raw JSON. Bad JSON, a record that is not an
** object, trailing text, and values that do not convert reject the record
** with a reason ("invalid JSON at byte 17: expected ':'"; byte offsets are
** 0-based within the record).
*/
#include <stdio.h>
#include <strings.h>
#include "connectors/decoder_impl.h"

typedef struct jp {
    sl_decoder *d;
    const char *base, *p, *end;
    sl_batch *b;
    int r;
    char *reason;
    size_t cap;
    int str_ascii;          /* the string scan_string read last is plain
                               ASCII: valid TEXT without a check */
} jp;

static int bad(jp *j, const char *what)
{
    if (j->p >= j->end)
        sl_dec_reason(j->reason, j->cap,
                      "invalid JSON at byte %ld: unexpected end of record (%s)",
                      (long)(j->end - j->base), what);
    else
        sl_dec_reason(j->reason, j->cap, "invalid JSON at byte %ld: %s",
                      (long)(j->p - j->base), what);
    return -1;
}

static inline void ws(jp *j)
{
    const char *p = j->p, *end = j->end;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    j->p = p;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Length of the run of plain string bytes at z[0..n): up to the first
** '"', '\\' or control character (or n). Reads 8 bytes at a time. ORs the
** bytes it read into *seen (a few past the run too: *seen may only say
** "not plain ASCII" where the run was, never the reverse). */
static inline size_t plain_run(const char *z, size_t n, uint64_t *seen)
{
    size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = UINT64_C(0x0101010101010101), high = ones << 7;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, z + i, 8);
        *seen |= w;
        uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
        /* high bit set in bytes equal to '"' or '\\' or below 0x20 (exact
        ** for the lowest such byte of each kind, so of the union) */
        uint64_t t = ((q - ones) & ~q) | ((b - ones) & ~b) |
                     ((w - ones * 0x20) & ~w);
        t &= high;
        if (t != 0)
            return i + (size_t)(__builtin_ctzll(t) >> 3);
    }
#endif
    for (; i < n; i++) {
        unsigned char c = (unsigned char)z[i];
        if (c == '"' || c == '\\' || c < 0x20)
            break;
        *seen |= c;
    }
    return i;
}

/* Scans the string at j->p ('"'): sets its raw content and whether it has
** escapes, and leaves j->p after the closing quote. Validates escapes and
** rejects raw control characters. */
static int scan_string(jp *j, const char **z, size_t *n, int *esc)
{
    const char *p = j->p + 1, *end = j->end;
    const char *s = p;
    int e = 0;
    uint64_t seen = 0;
    for (;;) {
        p += plain_run(p, (size_t)(end - p), &seen);
        if (p >= end) {
            j->p = p;
            return bad(j, "unterminated string");
        }
        if (*p == '"')
            break;
        if (*p != '\\') {
            j->p = p;
            return bad(j, "control character in a string");
        }
        e = 1;
        if (p + 1 >= end) {
            j->p = end;
            return bad(j, "unterminated string");
        }
        switch (p[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n':
        case 'r': case 't':
            p += 2;
            break;
        case 'u':
            for (int k = 2; k < 6; k++) {
                if (p + k >= end || hexval(p[k]) < 0) {
                    j->p = p;
                    return bad(j, "invalid \\u escape");
                }
            }
            p += 6;
            break;
        default:
            j->p = p;
            return bad(j, "invalid escape in a string");
        }
    }
    *z = s;
    *n = (size_t)(p - s);
    *esc = e;
    j->str_ascii = (seen & (UINT64_C(0x0101010101010101) << 7)) == 0;
    j->p = p + 1;
    return 0;
}

static unsigned hex4(const char *z)
{
    return (unsigned)(hexval(z[0]) << 12 | hexval(z[1]) << 8 |
                      hexval(z[2]) << 4 | hexval(z[3]));
}

/* Decodes the escapes of validated string content z/n into out (at least n
** bytes); returns the decoded length (never more than n). A lone surrogate
** is written as its three bytes (ED A0..BF xx), which are not valid UTF-8,
** so a TEXT value holding one is rejected as such (as is \u0000, a NUL). */
static size_t unescape(char *out, const char *z, size_t n)
{
    size_t o = 0, i = 0;
    while (i < n) {
        char c = z[i];
        if (c != '\\') {
            out[o++] = c;
            i++;
            continue;
        }
        c = z[i + 1];
        i += 2;
        switch (c) {
        case 'b': out[o++] = '\b'; continue;
        case 'f': out[o++] = '\f'; continue;
        case 'n': out[o++] = '\n'; continue;
        case 'r': out[o++] = '\r'; continue;
        case 't': out[o++] = '\t'; continue;
        case 'u': break;
        default: out[o++] = c; continue;   /* " \ / */
        }
        unsigned cp = hex4(z + i);
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i + 6 <= n && z[i] == '\\' && z[i + 1] == 'u') {
                unsigned lo = hex4(z + i + 2);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
        }
        if (cp < 0x80) {
            out[o++] = (char)cp;
        } else if (cp < 0x800) {
            out[o++] = (char)(0xC0 | cp >> 6);
            out[o++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out[o++] = (char)(0xE0 | cp >> 12);
            out[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | cp >> 18);
            out[o++] = (char)(0x80 | (cp >> 12 & 0x3F));
            out[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    return o;
}

/* Scans a JSON number at j->p; sets its text and whether it is an integer. */
static int scan_number(jp *j, const char **z, size_t *n, int *is_int)
{
    const char *p = j->p, *end = j->end, *s = p;
    int integer = 1;
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && (unsigned)(*p - '0') <= 9)
            p++;
    } else {
        j->p = p;
        return bad(j, "invalid number");
    }
    if (p < end && *p == '.') {
        integer = 0;
        p++;
        if (p >= end || (unsigned)(*p - '0') > 9) {
            j->p = p;
            return bad(j, "invalid number");
        }
        while (p < end && (unsigned)(*p - '0') <= 9)
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integer = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || (unsigned)(*p - '0') > 9) {
            j->p = p;
            return bad(j, "invalid number");
        }
        while (p < end && (unsigned)(*p - '0') <= 9)
            p++;
    }
    *z = s;
    *n = (size_t)(p - s);
    *is_int = integer;
    j->p = p;
    return 0;
}

/* Matches the literal word (true/false/null) at j->p. */
static int literal(jp *j, const char *word, size_t n)
{
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return bad(j, "invalid literal");
    j->p += n;
    return 0;
}

enum { IN_OBJECT = 1, IN_ARRAY = 2 };

/* Skips one value of any nesting, validating it; no recursion. */
static int skip_value(jp *j)
{
    unsigned char *stack = j->d->skip_stack;
    int depth = 0;
    const char *z;
    size_t n;
    int flag;
    for (;;) {
        /* a value starts here */
        ws(j);
        if (j->p >= j->end)
            return bad(j, "expected a value");
        switch (*j->p) {
        case '{':
            j->p++;
            ws(j);
            if (j->p < j->end && *j->p == '}') {
                j->p++;
                break;
            }
            if (depth == SL_DEC_MAX_DEPTH)
                return bad(j, "nesting too deep");
            stack[depth++] = IN_OBJECT;
            if (j->p >= j->end || *j->p != '"')
                return bad(j, "expected a string key");
            if (scan_string(j, &z, &n, &flag) < 0)
                return -1;
            ws(j);
            if (j->p >= j->end || *j->p != ':')
                return bad(j, "expected ':'");
            j->p++;
            continue;
        case '[':
            j->p++;
            ws(j);
            if (j->p < j->end && *j->p == ']') {
                j->p++;
                break;
            }
            if (depth == SL_DEC_MAX_DEPTH)
                return bad(j, "nesting too deep");
            stack[depth++] = IN_ARRAY;
            continue;
        case '"':
            if (scan_string(j, &z, &n, &flag) < 0)
                return -1;
            break;
        case 't':
            if (literal(j, "true", 4) < 0)
                return -1;
            break;
        case 'f':
            if (literal(j, "false", 5) < 0)
                return -1;
            break;
        case 'n':
            if (literal(j, "null", 4) < 0)
                return -1;
            break;
        default:
            if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
                if (scan_number(j, &z, &n, &flag) < 0)
                    return -1;
                break;
            }
            return bad(j, "unexpected character");
        }
        /* a value ended: close containers or move to the next element */
        for (;;) {
            if (depth == 0)
                return 0;
            ws(j);
            if (j->p >= j->end)
                return bad(j, stack[depth - 1] == IN_OBJECT
                                  ? "expected ',' or '}'"
                                  : "expected ',' or ']'");
            char c = *j->p;
            if (stack[depth - 1] == IN_OBJECT) {
                if (c == '}') {
                    j->p++;
                    depth--;
                    continue;
                }
                if (c != ',')
                    return bad(j, "expected ',' or '}'");
                j->p++;
                ws(j);
                if (j->p >= j->end || *j->p != '"')
                    return bad(j, "expected a string key");
                if (scan_string(j, &z, &n, &flag) < 0)
                    return -1;
                ws(j);
                if (j->p >= j->end || *j->p != ':')
                    return bad(j, "expected ':'");
                j->p++;
                break;
            }
            if (c == ']') {
                j->p++;
                depth--;
                continue;
            }
            if (c != ',')
                return bad(j, "expected ',' or ']'");
            j->p++;
            break;
        }
    }
}

/* Child of node named k/n (exact, then case-insensitive, then dotted);
** *exact is cleared when the match is not exact. */
static int lookup(const sl_decoder *d, int node, const char *k, size_t n,
                  int *exact)
{
    const sl_dec_node *nodes = d->nodes;
    for (int c = nodes[node].child; c >= 0; c = nodes[c].next)
        if ((size_t)nodes[c].len == n && memcmp(nodes[c].name, k, n) == 0)
            return c;
    for (int c = nodes[node].child; c >= 0; c = nodes[c].next)
        if ((size_t)nodes[c].len == n && strncasecmp(nodes[c].name, k, n) == 0) {
            *exact = 0;
            return c;
        }
    const char *dot = memchr(k, '.', n);
    if (dot != NULL) {
        int c = lookup(d, node, k, (size_t)(dot - k), exact);
        if (c >= 0)
            return lookup(d, c, dot + 1, n - (size_t)(dot - k) - 1, exact);
    }
    return -1;
}

static int cannot(jp *j, int col, const char *what, int quote)
{
    sl_dec_reason(j->reason, j->cap, quote ? "column %s: cannot convert '%s' to %s"
                                          : "column %s: cannot convert %s to %s",
                  j->d->names[col], what, sl_type_name(j->d->types[col]));
    return -1;
}

static void set_text(jp *j, int col, const char *z, size_t n)
{
    char *p = sl_arena_alloc(&j->b->arena, n + 1);
    memcpy(p, z, n);
    p[n] = 0;
    j->b->cols[col].v.s[j->r] = (sl_str){p, (int32_t)n};
    j->b->cols[col].null[j->r] = 0;
}

/* set_text for text that may not be valid TEXT (strings, raw JSON): 0, or
** -1 with the reason set. */
static int set_text_checked(jp *j, int col, const char *z, size_t n)
{
    int bad = sl_dec_text_check(z, n);
    if (bad != SL_TEXT_OK)
        return sl_dec_text_reject(j->d, col, bad, j->reason, j->cap);
    set_text(j, col, z, n);
    return 0;
}

static int number_into(jp *j, int col, const char *z, size_t n, int is_int)
{
    sl_decoder *d = j->d;
    sl_column *c = &j->b->cols[col];
    int r = j->r;
    char show[64];
    switch (d->types[col]) {
    case SL_BIGINT:
    case SL_INTERVAL: {
        int64_t v;
        if (is_int) {
            int rc = sl_dec_parse_int64(z, n, &v);
            if (rc == 0) {
                c->v.i[r] = v;
                c->null[r] = 0;
                return 0;
            }
            sl_dec_show(show, z, n);
            sl_dec_reason(j->reason, j->cap,
                          "column %s: %s is out of range for %s",
                          d->names[col], show, sl_type_name(d->types[col]));
            return -1;
        }
        double x = 0.5;
        sl_dec_parse_double(d, z, n, 1, &x);
        if (x >= -9223372036854775808.0 && x < 9223372036854775808.0 &&
            x == (double)(int64_t)x) {
            c->v.i[r] = (int64_t)x;
            c->null[r] = 0;
            return 0;
        }
        break;
    }
    case SL_DOUBLE:
        if (sl_dec_parse_double(d, z, n, 1, &c->v.d[r]) < 0)
            break;
        c->null[r] = 0;
        return 0;
    case SL_TEXT:
        set_text(j, col, z, n);
        return 0;
    case SL_TIMESTAMP: {
        int64_t v;
        if (d->opt.ts_format != SL_TS_ISO && sl_dec_epoch_ms(d, z, n, &v) == 0) {
            c->v.i[r] = v;
            c->null[r] = 0;
            return 0;
        }
        break;
    }
    default:
        break;
    }
    sl_dec_show(show, z, n);
    return cannot(j, col, show, 0);
}

/* The fast path for a plain JSON number into a BIGINT, INTERVAL or DOUBLE
** column: -?(0|[1-9][0-9]*)(.[0-9]+)? with at most 18 digits (BIGINT) or
** 19 digits and a mantissa up to 2^53 (DOUBLE, Clinger's exact case: the
** result of strtod), not followed by more number text. Returns 1 when the
** value is stored and j->p is past it; 0, having stored nothing, sends it
** to the general path (which also gives the messages). */
static inline int fast_number(jp *j, int col)
{
    sl_type t = j->d->types[col];
    if (t != SL_DOUBLE && t != SL_BIGINT && t != SL_INTERVAL)
        return 0;
    const char *p = j->p, *end = j->end;
    const char *digits = p + (*p == '-');
    /* JSON: a digit first, and no leading zero */
    if (digits >= end || (unsigned)(*digits - '0') > 9 ||
        (*digits == '0' && digits + 1 < end && (unsigned)(digits[1] - '0') <= 9))
        return 0;
    int neg, nd, fd;
    uint64_t m;
    p = sl_dec_plain_decimal(p, end, &neg, &m, &nd, &fd);
    /* JSON: digits after a point; no more number text after the value */
    if (fd == 0 || (p < end && ((unsigned)(*p - '0') <= 9 || *p == '.' ||
                                *p == 'e' || *p == 'E')))
        return 0;
    sl_column *c = &j->b->cols[col];
    if (t == SL_DOUBLE) {
        if (sl_dec_plain_double(neg, m, fd, &c->v.d[j->r]) != 0)
            return 0;
    } else {
        if (fd >= 0 || nd > 18)
            return 0;
        c->v.i[j->r] = neg ? -(int64_t)m : (int64_t)m;
    }
    c->null[j->r] = 0;
    j->p = p;
    return 1;
}

/* Converts the value at j->p into column col. */
static int value_into(jp *j, int col)
{
    sl_decoder *d = j->d;
    sl_type t = d->types[col];
    const char *z;
    size_t n;
    int flag;
    switch (*j->p) {
    case '"':
        if (scan_string(j, &z, &n, &flag) < 0)
            return -1;
        if (t == SL_TIMESTAMP && !flag && d->opt.ts_format == SL_TS_ISO) {
            int64_t v;
            if (sl_ts_parse_cached(&d->tsc, z, n, &v) == 0) {
                j->b->cols[col].v.i[j->r] = v;
                j->b->cols[col].null[j->r] = 0;
                return 0;
            }
        }
        if (t == SL_TEXT) {
            if (!flag) {
                if (!j->str_ascii)
                    return set_text_checked(j, col, z, n);
                set_text(j, col, z, n);     /* plain ASCII, no NUL */
                return 0;
            } else {
                char *u = sl_arena_alloc(&j->b->arena, n + 1);
                size_t m = unescape(u, z, n);
                int bad = sl_dec_text_check(u, m);
                if (bad != SL_TEXT_OK)
                    return sl_dec_text_reject(d, col, bad, j->reason, j->cap);
                u[m] = 0;
                j->b->cols[col].v.s[j->r] = (sl_str){u, (int32_t)m};
                j->b->cols[col].null[j->r] = 0;
            }
            return 0;
        }
        if (flag) {
            char *u = sl_dec_scratch(d, n + 1);
            n = unescape(u, z, n);
            z = u;
        }
        return sl_dec_set_from_text(d, j->b, j->r, col, z, n, 1, j->reason,
                                    j->cap);
    case 't':
    case 'f': {
        int v = *j->p == 't';
        if (literal(j, v ? "true" : "false", v ? 4 : 5) < 0)
            return -1;
        if (t == SL_BOOL) {
            j->b->cols[col].v.i[j->r] = v;
            j->b->cols[col].null[j->r] = 0;
            return 0;
        }
        if (t == SL_TEXT) {
            set_text(j, col, v ? "true" : "false", v ? 4 : 5);
            return 0;
        }
        return cannot(j, col, v ? "true" : "false", 0);
    }
    case 'n':
        if (literal(j, "null", 4) < 0)
            return -1;
        j->b->cols[col].null[j->r] = 1;
        return 0;
    case '{':
    case '[': {
        const char *s = j->p;
        int obj = *s == '{';
        if (skip_value(j) < 0)
            return -1;
        if (t == SL_TEXT)
            return set_text_checked(j, col, s, (size_t)(j->p - s));
        return cannot(j, col, obj ? "an object" : "an array", 0);
    }
    default:
        if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
            if (fast_number(j, col))
                return 0;
            if (scan_number(j, &z, &n, &flag) < 0)
                return -1;
            return number_into(j, col, z, n, flag);
        }
        return bad(j, "unexpected character");
    }
}

/* a/n equals b (at least n bytes)? Keys are short: no memcmp call. */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
    for (; n >= 8; a += 8, b += 8, n -= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return 0;
    }
    for (; n > 0; n--)
        if (*a++ != *b++)
            return 0;
    return 1;
}

/* Reads the object at j->p ('{') whose keys are matched under trie node.
** Keys usually come in the order of the schema: the sibling after the last
** key matched is tried first (an exact match, as lookup would find). */
static int object_into(jp *j, int node)
{
    sl_decoder *d = j->d;
    int expect = d->nodes[node].child;
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return 0;
    }
    for (;;) {
        const char *k;
        size_t kn;
        int kesc;
        ws(j);
        if (j->p >= j->end || *j->p != '"')
            return bad(j, "expected a string key");
        if (scan_string(j, &k, &kn, &kesc) < 0)
            return -1;
        ws(j);
        if (j->p >= j->end || *j->p != ':')
            return bad(j, "expected ':'");
        j->p++;
        ws(j);
        if (j->p >= j->end)
            return bad(j, "expected a value");
        int child = -1;
        if (d->nodes[node].child >= 0) {
            if (kesc) {
                char *u = sl_dec_scratch(d, kn + 1);
                kn = unescape(u, k, kn);
                k = u;
            }
            int exact = 1;
            if (expect >= 0 && (size_t)d->nodes[expect].len == kn &&
                same_bytes(d->nodes[expect].name, k, kn))
                child = expect;
            else
                child = lookup(d, node, k, kn, &exact);
            if (child >= 0) {
                if (exact)
                    d->node_exact[child] = d->record_no;
                else if (d->node_exact[child] == d->record_no)
                    child = -1;  /* this record has the exact key */
                if (child >= 0)
                    expect = d->nodes[child].next;
            }
        }
        int rc;
        if (child < 0) {
            rc = skip_value(j);
        } else if (*j->p == '{' && d->nodes[child].child >= 0) {
            const char *s = j->p;
            rc = object_into(j, child);
            int col = d->nodes[child].col;
            if (rc == 0 && col >= 0) {
                if (d->types[col] == SL_TEXT)
                    rc = set_text_checked(j, col, s, (size_t)(j->p - s));
                else
                    rc = cannot(j, col, "an object", 0);
            }
        } else if (d->nodes[child].col >= 0) {
            rc = value_into(j, d->nodes[child].col);
        } else {
            rc = skip_value(j);
        }
        if (rc < 0)
            return -1;
        ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return 0;
        }
        return bad(j, "expected ',' or '}'");
    }
}

int sl_ndjson_build(sl_decoder *d, sl_error *err)
{
    int cap = 1;
    for (int i = 0; i < d->ncols; i++) {
        cap++;
        for (const char *s = d->names[i]; *s; s++)
            cap += *s == '.';
    }
    d->nodes = malloc(sizeof(sl_dec_node) * (size_t)cap);
    d->skip_stack = malloc(SL_DEC_MAX_DEPTH);
    d->node_exact = calloc((size_t)cap, sizeof(uint64_t));
    if (d->nodes == NULL || d->skip_stack == NULL || d->node_exact == NULL)
        abort();
    d->nodes[0] = (sl_dec_node){"", 0, -1, -1, -1};
    d->nnodes = 1;
    for (int i = 0; i < d->ncols; i++) {
        const char *s = d->names[i];
        int node = 0;
        for (;;) {
            const char *dot = strchr(s, '.');
            int len = dot ? (int)(dot - s) : (int)strlen(s);
            if (len == 0)
                return sl_error_set(err, -1,
                                    "column '%s': empty segment in a JSON path",
                                    d->names[i]);
            int c;
            for (c = d->nodes[node].child; c >= 0; c = d->nodes[c].next)
                if (d->nodes[c].len == len && memcmp(d->nodes[c].name, s, (size_t)len) == 0)
                    break;
            if (c < 0) {
                c = d->nnodes++;
                d->nodes[c] = (sl_dec_node){s, len, -1, -1, -1};
                /* append, so siblings keep schema order */
                int *link = &d->nodes[node].child;
                while (*link >= 0)
                    link = &d->nodes[*link].next;
                *link = c;
            }
            node = c;
            if (dot == NULL)
                break;
            s = dot + 1;
        }
        if (d->nodes[node].col < 0)
            d->nodes[node].col = i;
    }
    return 0;
}

int sl_ndjson_decode(sl_decoder *d, const char *rec, size_t len, sl_batch *b,
                     char *reason, size_t cap)
{
    jp j = {d, rec, rec, rec + len, b, -1, reason, cap, 0};
    ws(&j);
    if (j.p == j.end)
        return 0;
    if (*j.p != '{') {
        char c = *j.p;
        size_t left = (size_t)(j.end - j.p);
        if (c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') ||
            (left >= 4 && memcmp(j.p, "true", 4) == 0) ||
            (left >= 5 && memcmp(j.p, "false", 5) == 0) ||
            (left >= 4 && memcmp(j.p, "null", 4) == 0)) {
            sl_dec_reason(reason, cap, "the record is not a JSON object");
            return -1;
        }
        return bad(&j, "expected '{'");
    }
    j.r = sl_batch_add_row(b);
    d->record_no++;
    if (object_into(&j, 0) < 0) {
        b->nrows--;
        return -1;
    }
    ws(&j);
    if (j.p != j.end) {
        bad(&j, "unexpected text after the object");
        b->nrows--;
        return -1;
    }
    return 1;
}
