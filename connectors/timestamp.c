/*
** timestamp.c: ISO-8601 timestamp parsing and formatting (engine-wide).
**
** sl_ts_parse() reads `YYYY-MM-DD` or `YYYY-MM-DD[T ]HH:MM[:SS[.f...]]`
** with 1 to 9 fractional digits (truncated to milliseconds) and an optional
** `Z`, `+HH:MM`, `-HH:MM`, `+HHMM` or `+HH` offset, validates every range,
** and converts to UTC epoch milliseconds with days-from-civil arithmetic
** (no mktime/timegm, no locale, no time zone database, no allocation).
** sl_ts_parse_cached() gives the same results; the decoders call it once
** per value: the fixed shapes `YYYY-MM-DD`, `YYYY-MM-DD[T ]HH:MM:SS` and
** `YYYY-MM-DD[T ]HH:MM:SS.mmm` (optionally ending in `Z`) are read with
** fixed offsets, and the date part is looked up in a one-entry cache (rows
** of a stream mostly share their date), so the days-from-civil arithmetic
** and date validation run once per date; any other shape goes to
** sl_ts_parse().
** sl_ts_format() writes `YYYY-MM-DD HH:MM:SS.mmm`, correct for negative
** epoch values (floor division); it clamps to years 0000..9999 so the output
** is always 23 characters. It keeps the text of the last day it formatted
** (per thread), so consecutive values of one day only format the time.
*/
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "connectors/decoder.h"

#define MS_PER_DAY INT64_C(86400000)

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30,
                                          31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly k digits at z[i..]; returns the value or -1. */
static int digits(const char *z, size_t n, size_t i, int k)
{
    if (i + (size_t)k > n)
        return -1;
    int v = 0;
    for (int j = 0; j < k; j++) {
        unsigned c = (unsigned char)z[i + (size_t)j] - '0';
        if (c > 9)
            return -1;
        v = v * 10 + (int)c;
    }
    return v;
}

int sl_ts_parse(const char *z, size_t n, int64_t *ms)
{
    int year = digits(z, n, 0, 4);
    if (year < 0 || n < 10 || z[4] != '-' || z[7] != '-')
        return -1;
    int mon = digits(z, n, 5, 2), day = digits(z, n, 8, 2);
    if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon))
        return -1;
    int64_t t = days_from_civil(year, (unsigned)mon, (unsigned)day) * MS_PER_DAY;
    size_t i = 10;
    if (i == n) {
        *ms = t;
        return 0;
    }
    if (z[i] != 'T' && z[i] != 't' && z[i] != ' ')
        return -1;
    i++;
    int hh = digits(z, n, i, 2);
    if (hh < 0 || hh > 23 || i + 2 >= n || z[i + 2] != ':')
        return -1;
    int mm = digits(z, n, i + 3, 2);
    if (mm < 0 || mm > 59)
        return -1;
    i += 5;
    int ss = 0, frac_ms = 0;
    if (i < n && z[i] == ':') {
        ss = digits(z, n, i + 1, 2);
        if (ss < 0 || ss > 59)
            return -1;
        i += 3;
        if (i < n && (z[i] == '.' || z[i] == ',')) {
            i++;
            int nd = 0, scale = 100;
            while (i < n && (unsigned)((unsigned char)z[i] - '0') <= 9) {
                if (nd < 3) {
                    frac_ms += (z[i] - '0') * scale;
                    scale /= 10;
                }
                nd++;
                i++;
            }
            if (nd < 1 || nd > 9)
                return -1;
        }
    }
    t += (int64_t)hh * 3600000 + (int64_t)mm * 60000 + (int64_t)ss * 1000 +
         frac_ms;
    if (i < n) {
        char c = z[i];
        if ((c == 'Z' || c == 'z') && i + 1 == n) {
            i++;
        } else if (c == '+' || c == '-') {
            int oh = digits(z, n, i + 1, 2), om = 0;
            if (oh < 0 || oh > 23)
                return -1;
            size_t j = i + 3;
            if (j < n) {
                if (z[j] == ':')
                    j++;
                om = digits(z, n, j, 2);
                if (om < 0 || om > 59 || j + 2 != n)
                    return -1;
                j += 2;
            }
            int64_t off = (int64_t)oh * 3600000 + (int64_t)om * 60000;
            t += c == '+' ? -off : off;
            i = j;
        } else {
            return -1;
        }
    }
    if (i != n)
        return -1;
    *ms = t;
    return 0;
}

/* Two digits at z, or -1. */
static inline int two_digits(const char *z)
{
    unsigned a = (unsigned)((unsigned char)z[0] - '0');
    unsigned b = (unsigned)((unsigned char)z[1] - '0');
    return a > 9 || b > 9 ? -1 : (int)(a * 10 + b);
}

int sl_ts_parse_cached(sl_ts_cache *c, const char *z, size_t n, int64_t *ms)
{
    size_t m = n;
    if ((m == 20 || m == 24) && (z[m - 1] == 'Z' || z[m - 1] == 'z'))
        m--;
    if (m != 10 && m != 19 && m != 23)
        return sl_ts_parse(z, n, ms);
    int64_t day;
    if (c->valid && memcmp(z, c->date, 10) == 0) {
        day = c->day_ms;
    } else {
        if (sl_ts_parse(z, 10, &day) < 0)
            return -1;  /* a bad date: no shape of z can be valid */
        memcpy(c->date, z, 10);
        c->day_ms = day;
        c->valid = 1;
    }
    if (n == 10) {
        *ms = day;
        return 0;
    }
    if ((z[10] != ' ' && z[10] != 'T' && z[10] != 't') ||
        z[13] != ':' || z[16] != ':')
        return sl_ts_parse(z, n, ms);
    int hh = two_digits(z + 11), mi = two_digits(z + 14),
        ss = two_digits(z + 17), frac = 0;
    if (hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59)
        return sl_ts_parse(z, n, ms);
    if (m == 23) {
        int f1 = two_digits(z + 20), f2 = two_digits(z + 21);
        if ((z[19] != '.' && z[19] != ',') || f1 < 0 || f2 < 0)
            return sl_ts_parse(z, n, ms);
        frac = f1 * 10 + (z[22] - '0');
    }
    *ms = day + (int64_t)hh * 3600000 + (int64_t)mi * 60000 +
          (int64_t)ss * 1000 + frac;
    return 0;
}

static void put2(char *o, unsigned v)
{
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
}

int sl_ts_format(int64_t ms, char *out)
{
    /* 0000-01-01 00:00:00.000 .. 9999-12-31 23:59:59.999 */
    const int64_t lo = INT64_C(-62167219200000), hi = INT64_C(253402300799999);
    if (ms < lo)
        ms = lo;
    if (ms > hi)
        ms = hi;
    int64_t days = ms / MS_PER_DAY, rem = ms % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    /* the text of the last day formatted (days cannot be INT64_MIN) */
    static _Thread_local int64_t last_days = INT64_MIN;
    static _Thread_local char last_date[11];
    if (days != last_days) {
        int64_t y;
        unsigned m, d;
        civil_from_days(days, &y, &m, &d);
        unsigned yy = (unsigned)y;
        last_date[0] = (char)('0' + yy / 1000);
        last_date[1] = (char)('0' + yy / 100 % 10);
        last_date[2] = (char)('0' + yy / 10 % 10);
        last_date[3] = (char)('0' + yy % 10);
        last_date[4] = '-';
        put2(last_date + 5, m);
        last_date[7] = '-';
        put2(last_date + 8, d);
        last_date[10] = ' ';
        last_days = days;
    }
    memcpy(out, last_date, 11);
    unsigned r = (unsigned)rem;
    put2(out + 11, r / 3600000);
    out[13] = ':';
    put2(out + 14, r / 60000 % 60);
    out[16] = ':';
    put2(out + 17, r / 1000 % 60);
    out[19] = '.';
    unsigned f = r % 1000;
    out[20] = (char)('0' + f / 100);
    out[21] = (char)('0' + f / 10 % 10);
    out[22] = (char)('0' + f % 10);
    out[23] = 0;
    return 23;
}
