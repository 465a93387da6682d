/*
** functions.c: the scalar function library of sluice's SQL dialect.
**
** Owns the function table (name, arity, a type-check callback and a build
** callback that compiles the call into an evaluator node), the vectorised
** kernels of every function (COALESCE, NULLIF, LOWER, UPPER, LENGTH,
** SUBSTR, TRIM, LTRIM, RTRIM, REPLACE, ABS, ROUND, FLOOR, CEIL, POWER, SQRT,
** MOD, GREATEST, LEAST, DATE_TRUNC, EXTRACT, TO_TIMESTAMP, TO_TIMESTAMP_MS),
** the text conversions used by CAST and || (numbers printed as SQLite
** prints them, intervals, strict number parsing) and the civil-calendar
** arithmetic behind DATE_TRUNC and EXTRACT (UTC, proleptic Gregorian,
** valid for negative epochs; no timegm, no time zone).
**
** Every kernel follows the node contract of functions.h: evaluate the
** children, then one loop over all rows writing the node's own buffers;
** text results are views into an input (SUBSTR, TRIM) or live in the
** node's arena. NULL in gives NULL out, except where a function says
** otherwise (COALESCE, GREATEST and LEAST skip NULLs).
*/
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "engine/functions.h"

#define KID(k) (&n->kids[k]->out)
#define MS_PER_DAY INT64_C(86400000)

/* ------------------------------------------------------------------------ */
/* conversions                                                               */

int sl_xfmt_int(int64_t v, char *buf)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    int len = 0;
    if (v < 0)
        buf[len++] = '-';
    while (n > 0)
        buf[len++] = tmp[--n];
    buf[len] = 0;
    return len;
}

int sl_format_double(double d, char *buf)
{
    if (isnan(d))
        return snprintf(buf, SL_XFMT_MAX, "NaN");
    if (isinf(d))
        return snprintf(buf, SL_XFMT_MAX, d < 0 ? "-Inf" : "Inf");
    /* Fast path for the common case (prices, ratios): d is the double
    ** nearest to m / 10^k for a small k. Both m and 10^k are exact doubles
    ** and IEEE division rounds correctly, so m/10^k == d means the decimal
    ** text of m with k fraction digits reads back as d; the first such k
    ** is the shortest. Limited to the range %.15g prints without exponent. */
    double ad = fabs(d);
    if (ad < 1e15 && (ad >= 1e-4 || ad == 0)) {
        static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
        for (int k = 0; k <= 8; k++) {
            double m = round(ad * p10[k]);
            if (m >= 9007199254740992.0)
                break;
            if (m / p10[k] != ad)
                continue;
            char digits[24];
            int nd = sl_xfmt_int((int64_t)m, digits);
            int len = 0;
            if (signbit(d))
                buf[len++] = '-';
            int ip = nd - k;                 /* digits before the point */
            if (ip <= 0) {
                buf[len++] = '0';
                buf[len++] = '.';
                for (int z = 0; z < -ip; z++)
                    buf[len++] = '0';
                memcpy(buf + len, digits, (size_t)nd);
                len += nd;
            } else {
                memcpy(buf + len, digits, (size_t)ip);
                len += ip;
                buf[len++] = '.';
                if (k == 0) {
                    buf[len++] = '0';
                } else {
                    memcpy(buf + len, digits + ip, (size_t)k);
                    len += k;
                }
            }
            buf[len] = 0;
            return len;
        }
    }
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(buf, SL_XFMT_MAX, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    /* a REAL always shows that it is one: 10 -> 10.0, 1e+20 -> 1.0e+20 */
    char *e = strchr(buf, 'e');
    if (strchr(buf, '.') == NULL) {
        if (e == NULL) {
            memcpy(buf + len, ".0", 3);
            len += 2;
        } else {
            memmove(e + 2, e, strlen(e) + 1);
            e[0] = '.';
            e[1] = '0';
            len += 2;
        }
    }
    return len;
}

int sl_xfmt_interval(int64_t ms, char *buf)
{
    uint64_t u = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    uint64_t days = u / 86400000u, rest = u % 86400000u;
    unsigned h = (unsigned)(rest / 3600000u), m = (unsigned)(rest / 60000u % 60u),
             s = (unsigned)(rest / 1000u % 60u), f = (unsigned)(rest % 1000u);
    int len = 0;
    if (ms < 0)
        buf[len++] = '-';
    if (days > 0)
        len += snprintf(buf + len, SL_XFMT_MAX - (size_t)len, "%llu day%s ",
                        (unsigned long long)days, days == 1 ? "" : "s");
    len += snprintf(buf + len, SL_XFMT_MAX - (size_t)len, "%02u:%02u:%02u", h,
                    m, s);
    if (f != 0)
        len += snprintf(buf + len, SL_XFMT_MAX - (size_t)len, ".%03u", f);
    return len;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void trim_spaces(const char **z, int *n)
{
    while (*n > 0 && is_space(**z)) {
        (*z)++;
        (*n)--;
    }
    while (*n > 0 && is_space((*z)[*n - 1]))
        (*n)--;
}

int sl_xparse_double(const char *z, int n, double *out)
{
    char buf[128];
    trim_spaces(&z, &n);
    if (n <= 0 || n >= (int)sizeof buf)
        return -1;
    int digits = 0;
    for (int i = 0; i < n; i++) {
        char c = z[i];
        if (c >= '0' && c <= '9')
            digits = 1;
        else if (c != '+' && c != '-' && c != '.' && c != 'e' && c != 'E')
            return -1;       /* no inf, nan, hex */
    }
    if (!digits)
        return -1;
    memcpy(buf, z, (size_t)n);
    buf[n] = 0;
    char *end;
    double d = strtod(buf, &end);
    if (end != buf + n || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

int sl_xparse_int(const char *z, int n, int64_t *out)
{
    trim_spaces(&z, &n);
    int i = 0, neg = 0;
    if (i < n && (z[i] == '+' || z[i] == '-'))
        neg = z[i++] == '-';
    if (i == n)
        return -1;
    uint64_t v = 0;
    int j = i;
    for (; j < n && z[j] >= '0' && z[j] <= '9'; j++) {
        if (v > (UINT64_MAX - 9) / 10)
            break;
        v = v * 10 + (uint64_t)(z[j] - '0');
    }
    if (j == n && v <= (uint64_t)INT64_MAX + (uint64_t)neg) {
        *out = neg ? (int64_t)((uint64_t)0 - v) : (int64_t)v;
        return 0;
    }
    /* other numeric text ('1.9', '1e3') truncates toward zero, as SQLite */
    double d;
    if (sl_xparse_double(z, n, &d) != 0 ||
        !(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return -1;
    *out = (int64_t)d;
    return 0;
}

int sl_xparse_bool(const char *z, int n, int64_t *out)
{
    static const struct { const char *s; int v; } words[] = {
        {"true", 1}, {"false", 0}, {"t", 1}, {"f", 0}, {"yes", 1}, {"no", 0},
        {"y", 1}, {"n", 0}, {"on", 1}, {"off", 0}, {"1", 1}, {"0", 0},
    };
    trim_spaces(&z, &n);
    for (unsigned i = 0; i < sizeof words / sizeof words[0]; i++)
        if ((int)strlen(words[i].s) == n && strncasecmp(z, words[i].s, (size_t)n) == 0) {
            *out = words[i].v;
            return 0;
        }
    return -1;
}

static int64_t unit_ms(const char *z, int n)
{
    static const struct { const char *s; int64_t ms; } units[] = {
        {"ms", 1}, {"msec", 1}, {"msecs", 1}, {"millisecond", 1},
        {"milliseconds", 1}, {"s", 1000}, {"sec", 1000}, {"secs", 1000},
        {"second", 1000}, {"seconds", 1000}, {"m", 60000}, {"min", 60000},
        {"mins", 60000}, {"minute", 60000}, {"minutes", 60000},
        {"h", 3600000}, {"hour", 3600000}, {"hours", 3600000},
        {"d", 86400000}, {"day", 86400000}, {"days", 86400000},
        {"w", 604800000}, {"week", 604800000}, {"weeks", 604800000},
    };
    for (unsigned i = 0; i < sizeof units / sizeof units[0]; i++)
        if ((int)strlen(units[i].s) == n && strncasecmp(z, units[i].s, (size_t)n) == 0)
            return units[i].ms;
    return 0;
}

/* Reads "HH:MM[:SS[.fff]]" at z[0..n); returns chars used, 0 if none. */
static int parse_clock(const char *z, int n, double *ms)
{
    int i = 0;
    double parts[3] = {0, 0, 0};
    int np = 0;
    while (np < 3) {
        int start = i;
        while (i < n && ((z[i] >= '0' && z[i] <= '9') || (np == 2 && z[i] == '.')))
            i++;
        if (i == start)
            return 0;
        char buf[32];
        if (i - start >= (int)sizeof buf)
            return 0;
        memcpy(buf, z + start, (size_t)(i - start));
        buf[i - start] = 0;
        parts[np++] = strtod(buf, NULL);
        if (i < n && z[i] == ':' && np < 3)
            i++;
        else
            break;
    }
    if (np < 2)
        return 0;
    *ms = parts[0] * 3600000.0 + parts[1] * 60000.0 + parts[2] * 1000.0;
    return i;
}

int sl_xparse_interval(const char *z, int n, int64_t *out)
{
    trim_spaces(&z, &n);
    int neg = 0;
    if (n > 0 && z[0] == '-') {
        neg = 1;
        z++;
        n--;
    }
    if (n <= 0)
        return -1;
    double total = 0;
    int i = 0, parts = 0;
    while (i < n) {
        while (i < n && is_space(z[i]))
            i++;
        if (i == n)
            break;
        double clk;
        int used = parse_clock(z + i, n - i, &clk);
        if (used > 0) {
            total += clk;
            i += used;
            parts++;
            continue;
        }
        int start = i;
        if (z[i] == '+' || z[i] == '-')
            i++;
        while (i < n && ((z[i] >= '0' && z[i] <= '9') || z[i] == '.'))
            i++;
        double num;
        if (sl_xparse_double(z + start, i - start, &num) != 0)
            return -1;
        while (i < n && is_space(z[i]))
            i++;
        int ustart = i;
        while (i < n && ((z[i] | 0x20) >= 'a' && (z[i] | 0x20) <= 'z'))
            i++;
        int64_t unit = 1000;      /* a bare number is seconds */
        if (i > ustart) {
            unit = unit_ms(z + ustart, i - ustart);
            if (unit == 0)
                return -1;
        } else if (parts > 0 || i < n) {
            return -1;
        }
        total += num * (double)unit;
        parts++;
    }
    if (parts == 0 || !(fabs(total) < 9.2e18))
        return -1;
    int64_t ms = (int64_t)llround(total);
    *out = neg ? -ms : ms;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* civil calendar (H. Hinnant's algorithms)                                 */

int64_t sl_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void sl_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int name_index(const char *const *names, const char *z, int n)
{
    for (int i = 0; names[i] != NULL; i++)
        if ((int)strlen(names[i]) == n && strncasecmp(z, names[i], (size_t)n) == 0)
            return i;
    return -1;
}

int sl_trunc_unit(const char *z, int n)
{
    static const char *const units[] = {"second", "minute", "hour", "day",
                                        "week", "month", "year", NULL};
    return name_index(units, z, n);
}

int sl_extract_field(const char *z, int n)
{
    static const char *const fields[] = {"year", "month", "day", "hour",
                                         "minute", "second", "millisecond",
                                         "dow", "doy", "epoch", NULL};
    return name_index(fields, z, n);
}

static int days_to_ms(int64_t days, int64_t *out)
{
    return __builtin_mul_overflow(days, MS_PER_DAY, out) ? -1 : 0;
}

int sl_ts_trunc(int unit, int64_t ms, int64_t *out)
{
    static const int64_t step[] = {1000, 60000, 3600000, 86400000};
    if (unit >= SL_TRUNC_SECOND && unit <= SL_TRUNC_DAY) {
        int64_t q = sl_floordiv(ms, step[unit]);
        return __builtin_mul_overflow(q, step[unit], out) ? -1 : 0;
    }
    int64_t days = sl_floordiv(ms, MS_PER_DAY);
    if (unit == SL_TRUNC_WEEK) {
        /* ISO weeks start on Monday; day 0 (1970-01-01) was a Thursday */
        int64_t since_monday = days + 3 - sl_floordiv(days + 3, 7) * 7;
        return days_to_ms(days - since_monday, out);
    }
    int64_t y;
    int m, d;
    sl_civil_from_days(days, &y, &m, &d);
    if (unit == SL_TRUNC_MONTH)
        return days_to_ms(sl_days_from_civil(y, m, 1), out);
    if (unit == SL_TRUNC_YEAR)
        return days_to_ms(sl_days_from_civil(y, 1, 1), out);
    return -1;
}

int64_t sl_ts_extract(int field, int64_t ms)
{
    int64_t days = sl_floordiv(ms, MS_PER_DAY);
    int64_t in_day = ms - days * MS_PER_DAY;
    int64_t y;
    int m, d;
    switch (field) {
    case SL_FIELD_HOUR:
        return in_day / 3600000;
    case SL_FIELD_MINUTE:
        return in_day / 60000 % 60;
    case SL_FIELD_SECOND:
        return in_day / 1000 % 60;
    case SL_FIELD_MILLISECOND:
        return in_day % 1000;
    case SL_FIELD_DOW:       /* 0 = Sunday, as PostgreSQL */
        return days + 4 - sl_floordiv(days + 4, 7) * 7;
    case SL_FIELD_EPOCH:
        return sl_floordiv(ms, 1000);
    default:
        break;
    }
    sl_civil_from_days(days, &y, &m, &d);
    switch (field) {
    case SL_FIELD_YEAR:
        return y;
    case SL_FIELD_MONTH:
        return m;
    case SL_FIELD_DAY:
        return d;
    case SL_FIELD_DOY:
        return days - sl_days_from_civil(y, 1, 1) + 1;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------------ */
/* type checks                                                               */

#define T_BOOL (1 << SL_BOOL)
#define T_INT (1 << SL_BIGINT)
#define T_DBL (1 << SL_DOUBLE)
#define T_NUM (T_INT | T_DBL)
#define T_TEXT (1 << SL_TEXT)
#define T_TS (1 << SL_TIMESTAMP)

static const char *fn_name(const sl_expr *e)
{
    const sl_fn_def *f = sl_fn_lookup(e->name);
    return f != NULL ? f->name : e->name;
}

/* Argument i must have one of the types in mask (NULL always fits). */
static int want_arg(sl_expr *e, int i, int mask, const char *what,
                    sl_error *err)
{
    sl_type t = e->args[i]->type;
    if (t == SL_NULL || (mask & (1 << t)))
        return 0;
    return sl_error_set(err, e->args[i]->offset,
                        "function %s cannot take %s (argument %d must be %s)",
                        fn_name(e), sl_type_name(t), i + 1, what);
}

static int check_text(sl_expr *e, sl_error *err)
{
    for (int i = 0; i < e->nargs; i++)
        if (want_arg(e, i, T_TEXT, "TEXT", err) != 0)
            return -1;
    e->type = SL_TEXT;
    return 0;
}

static int check_length(sl_expr *e, sl_error *err)
{
    if (want_arg(e, 0, T_TEXT, "TEXT", err) != 0)
        return -1;
    e->type = SL_BIGINT;
    return 0;
}

static int check_substr(sl_expr *e, sl_error *err)
{
    if (want_arg(e, 0, T_TEXT, "TEXT", err) != 0)
        return -1;
    for (int i = 1; i < e->nargs; i++)
        if (want_arg(e, i, T_INT, "BIGINT", err) != 0)
            return -1;
    e->type = SL_TEXT;
    return 0;
}

/* ABS, FLOOR, CEIL: the type of the number (NULL -> DOUBLE). */
static int check_num_same(sl_expr *e, sl_error *err)
{
    if (want_arg(e, 0, T_NUM, "a number", err) != 0)
        return -1;
    e->type = e->args[0]->type == SL_NULL ? SL_DOUBLE : e->args[0]->type;
    return 0;
}

static int check_round(sl_expr *e, sl_error *err)
{
    if (check_num_same(e, err) != 0)
        return -1;
    if (e->nargs == 2 && want_arg(e, 1, T_INT, "BIGINT", err) != 0)
        return -1;
    return 0;
}

static int check_double(sl_expr *e, sl_error *err)
{
    for (int i = 0; i < e->nargs; i++)
        if (want_arg(e, i, T_NUM, "a number", err) != 0)
            return -1;
    e->type = SL_DOUBLE;
    return 0;
}

static int check_mod(sl_expr *e, sl_error *err)
{
    for (int i = 0; i < 2; i++)
        if (want_arg(e, i, T_NUM, "a number", err) != 0)
            return -1;
    e->type = (e->args[0]->type == SL_DOUBLE || e->args[1]->type == SL_DOUBLE)
                  ? SL_DOUBLE : SL_BIGINT;
    return 0;
}

/* COALESCE, GREATEST, LEAST, NULLIF: the arguments' common type. */
static int check_unify(sl_expr *e, sl_error *err)
{
    char what[64];
    snprintf(what, sizeof what, "arguments of %s", fn_name(e));
    if (sl_xcoerce_ts(e->args, e->nargs, err) != 0)
        return -1;
    return sl_xunify(e->args, e->nargs, what, &e->type, err);
}

static int check_date_trunc(sl_expr *e, sl_error *err)
{
    sl_expr *u = e->args[0];
    if (want_arg(e, 0, T_TEXT, "TEXT", err) != 0)
        return -1;
    if (u->kind == SL_EX_LITERAL && u->type == SL_TEXT &&
        sl_trunc_unit(u->lit_s, (int)strlen(u->lit_s)) < 0)
        return sl_error_set(err, u->offset,
                            "unknown DATE_TRUNC unit '%s' (expected second, "
                            "minute, hour, day, week, month or year)",
                            u->lit_s);
    if (sl_xcoerce_ts(e->args + 1, 1, err) != 0)
        return -1;
    if (e->args[1]->kind == SL_EX_LITERAL && e->args[1]->type == SL_TEXT)
        return sl_error_set(err, e->args[1]->offset,
                            "function date_trunc cannot take TEXT (argument 2 "
                            "must be TIMESTAMP; write TIMESTAMP '...')");
    if (want_arg(e, 1, T_TS, "TIMESTAMP", err) != 0)
        return -1;
    e->type = SL_TIMESTAMP;
    return 0;
}

static int check_extract(sl_expr *e, sl_error *err)
{
    sl_expr *f = e->args[0];
    if (want_arg(e, 0, T_TEXT, "TEXT", err) != 0)
        return -1;
    if (f->kind == SL_EX_LITERAL && f->type == SL_TEXT &&
        sl_extract_field(f->lit_s, (int)strlen(f->lit_s)) < 0)
        return sl_error_set(err, f->offset,
                            "unknown EXTRACT field '%s' (expected YEAR, MONTH, "
                            "DAY, HOUR, MINUTE, SECOND, MILLISECOND, DOW, DOY "
                            "or EPOCH)", f->lit_s);
    if (want_arg(e, 1, T_TS, "TIMESTAMP", err) != 0)
        return -1;
    e->type = SL_BIGINT;
    return 0;
}

static int check_to_ts(sl_expr *e, sl_error *err)
{
    if (want_arg(e, 0, T_NUM, "a number", err) != 0)
        return -1;
    e->type = SL_TIMESTAMP;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* build helpers                                                             */

/* A node of e's type whose kids are e's arguments converted to want[i]. */
static sl_xnode *build_kids(const sl_expr *e, sl_xeval_fn fn,
                            const sl_type *want, sl_error *err)
{
    sl_xnode *n = sl_xnode_new(fn, e->type, e->nargs);
    for (int i = 0; i < e->nargs; i++) {
        sl_type w = want != NULL ? want[i] : e->type;
        n->kids[i] = sl_xcompile_as(e->args[i], w, err);
        if (n->kids[i] == NULL) {
            sl_xnode_free(n);
            return NULL;
        }
    }
    return n;
}

/* Sets the output NULL flags to the OR of every child's and returns them. */
static uint8_t *or_nulls(sl_xnode *n, int nrows)
{
    uint8_t *on = n->out.null;
    memcpy(on, KID(0)->null, (size_t)nrows);
    for (int k = 1; k < n->nkids; k++) {
        const uint8_t *kn = KID(k)->null;
        for (int i = 0; i < nrows; i++)
            on[i] |= kn[i];
    }
    return on;
}

static void begin(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    sl_xnode_reserve(n, nrows);
}

/* ------------------------------------------------------------------------ */
/* text functions                                                            */

/* op 0: LOWER, 1: UPPER (ASCII letters; other bytes unchanged). */
static void eval_case_map(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    sl_arena_reset(&n->arena);
    const sl_str *a = KID(0)->v.s;
    uint8_t *on = or_nulls(n, nrows);
    char lo = n->op ? 'a' : 'A', hi = n->op ? 'z' : 'Z';
    for (int i = 0; i < nrows; i++) {
        if (on[i]) {
            n->out.v.s[i] = (sl_str){"", 0};
            continue;
        }
        char *p = sl_arena_alloc(&n->arena, (size_t)a[i].n + 1);
        for (int j = 0; j < a[i].n; j++) {
            char c = a[i].z[j];
            p[j] = (c >= lo && c <= hi) ? (char)(c ^ 0x20) : c;
        }
        p[a[i].n] = 0;
        n->out.v.s[i] = (sl_str){p, a[i].n};
    }
}

static sl_xnode *build_lower(const sl_expr *e, sl_error *err)
{
    sl_xnode *n = build_kids(e, eval_case_map, NULL, err);
    if (n != NULL)
        n->op = 0;
    return n;
}

static sl_xnode *build_upper(const sl_expr *e, sl_error *err)
{
    sl_xnode *n = build_kids(e, eval_case_map, NULL, err);
    if (n != NULL)
        n->op = 1;
    return n;
}

static int is_cont(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

/* Characters (UTF-8 code points), as SQLite's length(). */
static void eval_length(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    const sl_str *a = KID(0)->v.s;
    uint8_t *on = or_nulls(n, nrows);
    for (int i = 0; i < nrows; i++) {
        int64_t c = 0;
        if (!on[i])
            for (int j = 0; j < a[i].n; j++)
                c += !is_cont(a[i].z[j]);
        n->out.v.i[i] = c;
    }
}

static sl_xnode *build_length(const sl_expr *e, sl_error *err)
{
    static const sl_type want[] = {SL_TEXT};
    return build_kids(e, eval_length, want, err);
}

/* Byte offset of character k (clamped to the end). */
static int skip_chars(const char *z, int n, int64_t k)
{
    int i = 0;
    while (i < n && k > 0) {
        i++;
        while (i < n && is_cont(z[i]))
            i++;
        k--;
    }
    return i;
}

/* SUBSTR(s, start[, len]) with SQLite's rules: 1-based, a negative start
** counts from the end, start 0 eats one character of len, a negative len
** takes the characters before start. The result is a view into s. */
static void eval_substr(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    const sl_str *a = KID(0)->v.s;
    const int64_t *st = KID(1)->v.i;
    const int64_t *ln = n->nkids > 2 ? KID(2)->v.i : NULL;
    uint8_t *on = or_nulls(n, nrows);
    const int64_t lim = INT64_C(1) << 40;
    for (int i = 0; i < nrows; i++) {
        if (on[i]) {
            n->out.v.s[i] = (sl_str){"", 0};
            continue;
        }
        int64_t len = 0;
        for (int j = 0; j < a[i].n; j++)
            len += !is_cont(a[i].z[j]);
        int64_t p1 = st[i], p2 = ln ? ln[i] : lim;
        int neg2 = 0;
        if (p1 > lim) p1 = lim;
        if (p1 < -lim) p1 = -lim;
        if (p2 > lim) p2 = lim;
        if (p2 < -lim) p2 = -lim;
        if (p2 < 0) {
            p2 = -p2;
            neg2 = 1;
        }
        if (p1 < 0) {
            p1 += len;
            if (p1 < 0) {
                p2 += p1;
                if (p2 < 0)
                    p2 = 0;
                p1 = 0;
            }
        } else if (p1 > 0) {
            p1--;
        } else if (p2 > 0) {
            p2--;
        }
        if (neg2) {
            p1 -= p2;
            if (p1 < 0) {
                p2 += p1;
                p1 = 0;
            }
        }
        int b = skip_chars(a[i].z, a[i].n, p1);
        int e = b + skip_chars(a[i].z + b, a[i].n - b, p2);
        n->out.v.s[i] = (sl_str){a[i].z + b, e - b};
    }
}

static sl_xnode *build_substr(const sl_expr *e, sl_error *err)
{
    static const sl_type want[] = {SL_TEXT, SL_BIGINT, SL_BIGINT};
    return build_kids(e, eval_substr, want, err);
}

/* Is the character at z (len bytes) one of set's characters? */
static int in_set(const char *set, int sn, const char *z, int len)
{
    for (int i = 0; i < sn;) {
        int l = 1;
        while (i + l < sn && is_cont(set[i + l]))
            l++;
        if (l == len && memcmp(set + i, z, (size_t)len) == 0)
            return 1;
        i += l;
    }
    return 0;
}

/* op bit 1: trim the start, bit 2: trim the end. A view into s. */
static void eval_trim(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    const sl_str *a = KID(0)->v.s;
    const sl_str *set = n->nkids > 1 ? KID(1)->v.s : NULL;
    uint8_t *on = or_nulls(n, nrows);
    for (int i = 0; i < nrows; i++) {
        if (on[i]) {
            n->out.v.s[i] = (sl_str){"", 0};
            continue;
        }
        const char *sz = set ? set[i].z : " ";
        int sn = set ? set[i].n : 1;
        const char *z = a[i].z;
        int b = 0, e = a[i].n;
        if (n->op & 1) {
            while (b < e) {
                int l = 1;
                while (b + l < e && is_cont(z[b + l]))
                    l++;
                if (!in_set(sz, sn, z + b, l))
                    break;
                b += l;
            }
        }
        if (n->op & 2) {
            while (e > b) {
                int s = e - 1;
                while (s > b && is_cont(z[s]))
                    s--;
                if (!in_set(sz, sn, z + s, e - s))
                    break;
                e = s;
            }
        }
        n->out.v.s[i] = (sl_str){z + b, e - b};
    }
}

static sl_xnode *build_trim_op(const sl_expr *e, int op, sl_error *err)
{
    sl_xnode *n = build_kids(e, eval_trim, NULL, err);
    if (n != NULL)
        n->op = op;
    return n;
}

static sl_xnode *build_trim(const sl_expr *e, sl_error *err)
{
    return build_trim_op(e, 3, err);
}

static sl_xnode *build_ltrim(const sl_expr *e, sl_error *err)
{
    return build_trim_op(e, 1, err);
}

static sl_xnode *build_rtrim(const sl_expr *e, sl_error *err)
{
    return build_trim_op(e, 2, err);
}

/* REPLACE(s, from, to): every occurrence; an empty `from` changes nothing. */
static void eval_replace(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    sl_arena_reset(&n->arena);
    const sl_str *a = KID(0)->v.s, *f = KID(1)->v.s, *t = KID(2)->v.s;
    uint8_t *on = or_nulls(n, nrows);
    for (int i = 0; i < nrows; i++) {
        if (on[i]) {
            n->out.v.s[i] = (sl_str){"", 0};
            continue;
        }
        if (f[i].n == 0 || f[i].n > a[i].n) {
            n->out.v.s[i] = a[i];
            continue;
        }
        const char *z = a[i].z, *end = z + a[i].n;
        int count = 0;
        for (const char *p = z; (p = memmem(p, (size_t)(end - p), f[i].z,
                                            (size_t)f[i].n)) != NULL;
             p += f[i].n)
            count++;
        if (count == 0) {
            n->out.v.s[i] = a[i];
            continue;
        }
        int64_t len = (int64_t)a[i].n + (int64_t)count * (t[i].n - f[i].n);
        if (len > INT32_MAX) {
            on[i] = 1;
            n->out.v.s[i] = (sl_str){"", 0};
            continue;
        }
        char *out = sl_arena_alloc(&n->arena, (size_t)len + 1), *o = out;
        const char *p = z, *q;
        while ((q = memmem(p, (size_t)(end - p), f[i].z, (size_t)f[i].n)) != NULL) {
            memcpy(o, p, (size_t)(q - p));
            o += q - p;
            if (t[i].n > 0)
                memcpy(o, t[i].z, (size_t)t[i].n);
            o += t[i].n;
            p = q + f[i].n;
        }
        memcpy(o, p, (size_t)(end - p));
        o += end - p;
        *o = 0;
        n->out.v.s[i] = (sl_str){out, (int32_t)(o - out)};
    }
}

static sl_xnode *build_replace(const sl_expr *e, sl_error *err)
{
    return build_kids(e, eval_replace, NULL, err);
}

/* ------------------------------------------------------------------------ */
/* numeric functions                                                         */

static void eval_iabs(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    const int64_t *a = KID(0)->v.i;
    uint8_t *on = or_nulls(n, nrows);
    for (int i = 0; i < nrows; i++) {
        int bad = a[i] == INT64_MIN;
        n->out.v.i[i] = bad ? 0 : a[i] < 0 ? -a[i] : a[i];
        on[i] |= (uint8_t)bad;
    }
}

/* op 0: fabs, 1: floor, 2: ceil, 3: sqrt. */
static void eval_dmath1(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    const double *a = KID(0)->v.d;
    double *o = n->out.v.d;
    uint8_t *on = or_nulls(n, nrows);
    switch (n->op) {
    case 0:
        for (int i = 0; i < nrows; i++)
            o[i] = fabs(a[i]);
        break;
    case 1:
        for (int i = 0; i < nrows; i++)
            o[i] = floor(a[i]);
        break;
    case 2:
        for (int i = 0; i < nrows; i++)
            o[i] = ceil(a[i]);
        break;
    default:
        for (int i = 0; i < nrows; i++) {
            int bad = !(a[i] >= 0);
            o[i] = bad ? 0 : sqrt(a[i]);
            on[i] |= (uint8_t)bad;
        }
        break;
    }
}

static sl_xnode *build_num_same(const sl_expr *e, int op, sl_error *err)
{
    sl_type want[1] = {e->type};
    if (e->type == SL_BIGINT && op != 0)     /* floor / ceil of an integer */
        return sl_xcompile_as(e->args[0], SL_BIGINT, err);
    sl_xnode *n = build_kids(e, e->type == SL_BIGINT ? eval_iabs : eval_dmath1,
                             want, err);
    if (n != NULL)
        n->op = op;
    return n;
}

static sl_xnode *build_abs(const sl_expr *e, sl_error *err)
{
    return build_num_same(e, 0, err);
}

static sl_xnode *build_floor(const sl_expr *e, sl_error *err)
{
    return build_num_same(e, 1, err);
}

static sl_xnode *build_ceil(const sl_expr *e, sl_error *err)
{
    return build_num_same(e, 2, err);
}

static sl_xnode *build_sqrt(const sl_expr *e, sl_error *err)
{
    static const sl_type want[] = {SL_DOUBLE};
    sl_xnode *n = build_kids(e, eval_dmath1, want, err);
    if (n != NULL)
        n->op = 3;
    return n;
}

static void eval_power(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    const double *a = KID(0)->v.d, *b = KID(1)->v.d;
    uint8_t *on = or_nulls(n, nrows);
    for (int i = 0; i < nrows; i++) {
        double r = on[i] ? 0 : pow(a[i], b[i]);
        int bad = !isfinite(r);
        n->out.v.d[i] = bad ? 0 : r;
        on[i] |= (uint8_t)bad;
    }
}

static sl_xnode *build_power(const sl_expr *e, sl_error *err)
{
    static const sl_type want[] = {SL_DOUBLE, SL_DOUBLE};
    return build_kids(e, eval_power, want, err);
}

static double pow10i(int64_t k)
{
    double p = 1;
    for (int64_t i = 0; i < k; i++)
        p *= 10;
    return p;
}

/* ROUND(x[, digits]), halves away from zero. */
static void eval_dround(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    const double *a = KID(0)->v.d;
    const int64_t *dg = n->nkids > 1 ? KID(1)->v.i : NULL;
    uint8_t *on = or_nulls(n, nrows);
    for (int i = 0; i < nrows; i++) {
        double x = a[i], r = x;
        int64_t d = dg ? dg[i] : 0;
        if (on[i]) {
            r = 0;
        } else if (!isfinite(x) || fabs(x) >= 4503599627370496.0 || d > 30) {
            r = x;                     /* already integral, or nothing to do */
        } else if (d >= 0) {
            double p = pow10i(d), y = x * p;
            r = isfinite(y) ? round(y) / p : x;
        } else {
            double p = d < -30 ? INFINITY : pow10i(-d);
            r = round(x / p) * p;
            if (!isfinite(r))
                r = 0;
        }
        n->out.v.d[i] = r;
    }
}

static void eval_iround(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    const int64_t *a = KID(0)->v.i;
    const int64_t *dg = n->nkids > 1 ? KID(1)->v.i : NULL;
    uint8_t *on = or_nulls(n, nrows);
    for (int i = 0; i < nrows; i++) {
        int64_t x = a[i], d = dg ? dg[i] : 0, r = x;
        if (!on[i] && d < 0) {
            if (d < -18) {
                r = 0;
            } else {
                int64_t p = 1;
                for (int64_t k = 0; k < -d; k++)
                    p *= 10;
                int64_t q = x / p, rem = x % p;
                if (rem >= p - rem)
                    q++;
                else if (-rem >= p + rem)
                    q--;
                if (__builtin_mul_overflow(q, p, &r)) {
                    on[i] = 1;
                    r = 0;
                }
            }
        }
        n->out.v.i[i] = on[i] ? 0 : r;
    }
}

static sl_xnode *build_round(const sl_expr *e, sl_error *err)
{
    sl_type want[2] = {e->type, SL_BIGINT};
    return build_kids(e, e->type == SL_BIGINT ? eval_iround : eval_dround,
                      want, err);
}

static sl_xnode *build_mod(const sl_expr *e, sl_error *err)
{
    sl_xnode *a = sl_xcompile_as(e->args[0], e->type, err);
    sl_xnode *b = a ? sl_xcompile_as(e->args[1], e->type, err) : NULL;
    if (b == NULL) {
        sl_xnode_free(a);
        return NULL;
    }
    return sl_xarith(SL_OP_MOD, a, b, e->type);
}

/* ------------------------------------------------------------------------ */
/* COALESCE, NULLIF, GREATEST, LEAST                                         */

static void set_row(sl_xnode *n, const sl_column *src, int cls, int i)
{
    n->out.null[i] = src->null[i];
    if (cls == 2)
        n->out.v.s[i] = src->null[i] ? (sl_str){"", 0} : src->v.s[i];
    else
        n->out.v.i[i] = src->v.i[i];
}

static void eval_coalesce(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    int cls = sl_xclass(n->type);
    for (int i = 0; i < nrows; i++)
        set_row(n, KID(0), cls, i);
    for (int k = 1; k < n->nkids; k++) {
        const sl_column *c = KID(k);
        for (int i = 0; i < nrows; i++)
            if (n->out.null[i])
                set_row(n, c, cls, i);
    }
}

static sl_xnode *build_coalesce(const sl_expr *e, sl_error *err)
{
    return build_kids(e, eval_coalesce, NULL, err);
}

/* Compares row i of a and b (same class, both not NULL). */
static int cmp_rows(const sl_column *a, const sl_column *b, int cls, int i)
{
    if (cls == 0)
        return (a->v.i[i] > b->v.i[i]) - (a->v.i[i] < b->v.i[i]);
    if (cls == 1)
        return (a->v.d[i] > b->v.d[i]) - (a->v.d[i] < b->v.d[i]);
    return sl_xtxtcmp(a->v.s[i], b->v.s[i]);
}

/* NULLIF(a, b): NULL when a = b, else a. */
static void eval_nullif(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    int cls = sl_xclass(n->type);
    const sl_column *a = KID(0), *b = KID(1);
    for (int i = 0; i < nrows; i++) {
        set_row(n, a, cls, i);
        if (!a->null[i] && !b->null[i] && cmp_rows(a, b, cls, i) == 0)
            n->out.null[i] = 1;
    }
}

static sl_xnode *build_nullif(const sl_expr *e, sl_error *err)
{
    return build_kids(e, eval_nullif, NULL, err);
}

/* op 1: GREATEST, -1: LEAST; NULL arguments are skipped (PostgreSQL). */
static void eval_minmax(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    int cls = sl_xclass(n->type);
    for (int i = 0; i < nrows; i++)
        set_row(n, KID(0), cls, i);
    for (int k = 1; k < n->nkids; k++) {
        const sl_column *c = KID(k);
        for (int i = 0; i < nrows; i++) {
            if (c->null[i])
                continue;
            if (n->out.null[i] || cmp_rows(c, &n->out, cls, i) * n->op > 0)
                set_row(n, c, cls, i);
        }
    }
}

static sl_xnode *build_greatest(const sl_expr *e, sl_error *err)
{
    sl_xnode *n = build_kids(e, eval_minmax, NULL, err);
    if (n != NULL)
        n->op = 1;
    return n;
}

static sl_xnode *build_least(const sl_expr *e, sl_error *err)
{
    sl_xnode *n = build_kids(e, eval_minmax, NULL, err);
    if (n != NULL)
        n->op = -1;
    return n;
}

/* ------------------------------------------------------------------------ */
/* time                                                                      */

/* DATE_TRUNC with a constant unit (aux_i); kid 0 is not evaluated. */
static void eval_trunc_c(sl_xnode *n, const sl_batch *in, int nrows)
{
    n->kids[1]->eval(n->kids[1], in, nrows);
    sl_xnode_reserve(n, nrows);
    const int64_t *t = KID(1)->v.i;
    const uint8_t *tn = KID(1)->null;
    int unit = (int)n->aux_i;
    for (int i = 0; i < nrows; i++) {
        int64_t r = 0;
        int bad = tn[i] || sl_ts_trunc(unit, t[i], &r) != 0;
        n->out.v.i[i] = bad ? 0 : r;
        n->out.null[i] = (uint8_t)bad;
    }
}

/* DATE_TRUNC with a unit per row: an unknown unit gives NULL. */
static void eval_trunc_v(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    const sl_str *u = KID(0)->v.s;
    const int64_t *t = KID(1)->v.i;
    uint8_t *on = or_nulls(n, nrows);
    for (int i = 0; i < nrows; i++) {
        int64_t r = 0;
        int unit = on[i] ? -1 : sl_trunc_unit(u[i].z, u[i].n);
        int bad = unit < 0 || sl_ts_trunc(unit, t[i], &r) != 0;
        n->out.v.i[i] = bad ? 0 : r;
        on[i] = (uint8_t)bad;
    }
}

static void eval_extract_c(sl_xnode *n, const sl_batch *in, int nrows)
{
    n->kids[1]->eval(n->kids[1], in, nrows);
    sl_xnode_reserve(n, nrows);
    const int64_t *t = KID(1)->v.i;
    const uint8_t *tn = KID(1)->null;
    int field = (int)n->aux_i;
    for (int i = 0; i < nrows; i++)
        n->out.v.i[i] = tn[i] ? 0 : sl_ts_extract(field, t[i]);
    memcpy(n->out.null, tn, (size_t)nrows);
}

static void eval_extract_v(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    const sl_str *f = KID(0)->v.s;
    const int64_t *t = KID(1)->v.i;
    uint8_t *on = or_nulls(n, nrows);
    for (int i = 0; i < nrows; i++) {
        int field = on[i] ? -1 : sl_extract_field(f[i].z, f[i].n);
        n->out.v.i[i] = field < 0 ? 0 : sl_ts_extract(field, t[i]);
        on[i] = field < 0;
    }
}

/* Shared by DATE_TRUNC and EXTRACT: a constant first argument is resolved
** once here. */
static sl_xnode *build_time(const sl_expr *e, sl_xeval_fn fc, sl_xeval_fn fv,
                            int (*lookup)(const char *, int), const char *what,
                            sl_error *err)
{
    static const sl_type want[] = {SL_TEXT, SL_TIMESTAMP};
    sl_xnode *n = build_kids(e, fv, want, err);
    if (n == NULL)
        return NULL;
    sl_xnode *u = n->kids[0];
    if (u->is_const && !u->cval.is_null) {
        int k = lookup(u->cval.u.s.z, u->cval.u.s.n);
        if (k < 0) {
            sl_error_set(err, e->args[0]->offset, "unknown %s '%.*s'", what,
                         (int)u->cval.u.s.n, u->cval.u.s.z);
            sl_xnode_free(n);
            return NULL;
        }
        n->aux_i = k;
        n->eval = fc;
    }
    return n;
}

static sl_xnode *build_date_trunc(const sl_expr *e, sl_error *err)
{
    return build_time(e, eval_trunc_c, eval_trunc_v, sl_trunc_unit,
                      "DATE_TRUNC unit", err);
}

static sl_xnode *build_extract(const sl_expr *e, sl_error *err)
{
    return build_time(e, eval_extract_c, eval_extract_v, sl_extract_field,
                      "EXTRACT field", err);
}

/* TO_TIMESTAMP (op 1000: seconds) and TO_TIMESTAMP_MS (op 1) from DOUBLE:
** rounded to the millisecond; out of range gives NULL. */
static void eval_to_ts_d(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    const double *a = KID(0)->v.d;
    uint8_t *on = or_nulls(n, nrows);
    double scale = (double)n->op;
    for (int i = 0; i < nrows; i++) {
        double ms = round(a[i] * scale);
        int ok = ms >= -9.2e18 && ms <= 9.2e18;
        n->out.v.i[i] = ok ? (int64_t)ms : 0;
        on[i] |= (uint8_t)!ok;
    }
}

static void eval_to_ts_i(sl_xnode *n, const sl_batch *in, int nrows)
{
    begin(n, in, nrows);
    const int64_t *a = KID(0)->v.i;
    uint8_t *on = or_nulls(n, nrows);
    for (int i = 0; i < nrows; i++) {
        int64_t r;
        int bad = __builtin_mul_overflow(a[i], (int64_t)1000, &r);
        n->out.v.i[i] = bad ? 0 : r;
        on[i] |= (uint8_t)bad;
    }
}

static void eval_retype_ts(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    n->out = n->kids[0]->out;
    n->out.type = n->type;
}

static sl_xnode *build_to_ts_scaled(const sl_expr *e, int scale, sl_error *err)
{
    sl_type at = e->args[0]->type == SL_DOUBLE ? SL_DOUBLE : SL_BIGINT;
    sl_type want[1] = {at};
    sl_xeval_fn fn = at == SL_DOUBLE ? eval_to_ts_d
                     : scale == 1 ? eval_retype_ts : eval_to_ts_i;
    sl_xnode *n = build_kids(e, fn, want, err);
    if (n != NULL)
        n->op = scale;
    return n;
}

static sl_xnode *build_to_ts(const sl_expr *e, sl_error *err)
{
    return build_to_ts_scaled(e, 1000, err);
}

static sl_xnode *build_to_ts_ms(const sl_expr *e, sl_error *err)
{
    return build_to_ts_scaled(e, 1, err);
}

/* ------------------------------------------------------------------------ */
/* the table                                                                 */

static const sl_fn_def fn_table[] = {
    {"abs", 1, 1, check_num_same, build_abs},
    {"ceil", 1, 1, check_num_same, build_ceil},
    {"ceiling", 1, 1, check_num_same, build_ceil},
    {"coalesce", 1, -1, check_unify, build_coalesce},
    {"date_trunc", 2, 2, check_date_trunc, build_date_trunc},
    {"extract", 2, 2, check_extract, build_extract},
    {"floor", 1, 1, check_num_same, build_floor},
    {"greatest", 1, -1, check_unify, build_greatest},
    {"least", 1, -1, check_unify, build_least},
    {"length", 1, 1, check_length, build_length},
    {"lower", 1, 1, check_text, build_lower},
    {"ltrim", 1, 2, check_text, build_ltrim},
    {"mod", 2, 2, check_mod, build_mod},
    {"nullif", 2, 2, check_unify, build_nullif},
    {"power", 2, 2, check_double, build_power},
    {"replace", 3, 3, check_text, build_replace},
    {"round", 1, 2, check_round, build_round},
    {"rtrim", 1, 2, check_text, build_rtrim},
    {"sqrt", 1, 1, check_double, build_sqrt},
    {"substr", 2, 3, check_substr, build_substr},
    {"substring", 2, 3, check_substr, build_substr},
    {"to_timestamp", 1, 1, check_to_ts, build_to_ts},
    {"to_timestamp_ms", 1, 1, check_to_ts, build_to_ts_ms},
    {"trim", 1, 2, check_text, build_trim},
    {"upper", 1, 1, check_text, build_upper},
};

const char *const sl_fn_all_names[] = {
    "abs", "ceil", "ceiling", "coalesce", "date_trunc", "extract", "floor",
    "greatest", "least", "length", "lower", "ltrim", "mod", "nullif", "power",
    "replace", "round", "rtrim", "sqrt", "substr", "substring", "to_timestamp",
    "to_timestamp_ms", "trim", "upper",
    "count", "sum", "avg", "min", "max", NULL
};

const sl_fn_def *sl_fn_lookup(const char *name)
{
    if (name == NULL)
        return NULL;
    for (unsigned i = 0; i < sizeof fn_table / sizeof fn_table[0]; i++)
        if (strcasecmp(name, fn_table[i].name) == 0)
            return &fn_table[i];
    return NULL;
}
