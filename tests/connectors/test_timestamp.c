/*
** test_timestamp.c: sl_ts_parse and sl_ts_format: every accepted ISO-8601
** form, offsets, leap years, range checks, bad inputs rejected, formatting
** of negative epochs, and a parse/format round trip over many instants.
** Every parse is repeated with sl_ts_parse_cached (cold cache, the same
** date cached, another date cached), which must agree exactly; formatting
** is checked across day changes (its cache of the last date).
*/
#include <stdint.h>
#include <string.h>
#include "tests/tap.h"
#include "connectors/decoder.h"

/* Holds the date of the previous parse: a "warm" cache for another date. */
static sl_ts_cache warm;

static int64_t parse(const char *z, int *rc)
{
    int64_t ms = INT64_MIN, c[3] = {INT64_MIN, INT64_MIN, INT64_MIN};
    size_t n = strlen(z);
    *rc = sl_ts_parse(z, n, &ms);
    sl_ts_cache cold;
    memset(&cold, 0, sizeof cold);
    int r0 = sl_ts_parse_cached(&cold, z, n, &c[0]);
    int r1 = sl_ts_parse_cached(&cold, z, n, &c[1]);  /* its date cached */
    int r2 = sl_ts_parse_cached(&warm, z, n, &c[2]);
    int same = r0 == *rc && r1 == *rc && r2 == *rc;
    for (int i = 0; i < 3 && same && *rc == 0; i++)
        same = c[i] == ms;
    ok(same, "cached parse agrees on '%s'", z);
    return ms;
}

static void parses_to(const char *z, int64_t want)
{
    int rc;
    int64_t ms = parse(z, &rc);
    ok(rc == 0 && ms == want, "parse '%s' = %lld", z, (long long)want);
    if (rc != 0 || ms != want)
        printf("#   rc %d, got %lld\n", rc, (long long)ms);
}

static void rejects(const char *z)
{
    int rc;
    parse(z, &rc);
    ok(rc == -1, "reject '%s'", z);
}

static void formats_to(int64_t ms, const char *want)
{
    char out[32];
    int n = sl_ts_format(ms, out);
    char name[80];
    snprintf(name, sizeof name, "format %lld", (long long)ms);
    is_str(out, want, name);
    is_int(n, 23, "format length is 23");
}

int main(void)
{
    /* forms */
    parses_to("1970-01-01", 0);
    parses_to("1970-01-01 00:00:00", 0);
    parses_to("1970-01-01T00:00:01", 1000);
    parses_to("1970-01-01t00:00:01", 1000);
    parses_to("1970-01-01 00:01", 60000);
    parses_to("2026-03-17 23:58:00", INT64_C(1773791880000));
    parses_to("2026-03-17T23:58:00.123Z", INT64_C(1773791880123));
    parses_to("2026-03-17T23:58:00.1Z", INT64_C(1773791880100));
    parses_to("2026-03-17T23:58:00.12", INT64_C(1773791880120));
    parses_to("2026-03-17T23:58:00.123456789", INT64_C(1773791880123));
    parses_to("2026-03-17T23:58:00.999999", INT64_C(1773791880999));
    parses_to("2026-03-17T23:58:00z", INT64_C(1773791880000));
    /* offsets */
    parses_to("2026-03-18T05:28:00+05:30", INT64_C(1773791880000));
    parses_to("2026-03-18T05:28:00+0530", INT64_C(1773791880000));
    parses_to("2026-03-18T04:58:00+05", INT64_C(1773791880000));
    parses_to("2026-03-17T18:58:00-05:00", INT64_C(1773791880000));
    parses_to("2026-03-17T18:58-05:00", INT64_C(1773791880000));
    parses_to("2026-03-17T23:58:00.5+00:00", INT64_C(1773791880500));
    parses_to("1970-01-01T00:00:00+01:00", -3600000);
    /* leap years and calendar edges */
    parses_to("2024-02-29", INT64_C(1709164800000));
    parses_to("2000-02-29", INT64_C(951782400000));
    parses_to("2000-12-31 23:59:59.999", INT64_C(978307199999));
    parses_to("1969-12-31 23:59:59.999", -1);
    parses_to("1969-12-31 23:59:59", -1000);
    parses_to("1900-01-01", INT64_C(-2208988800000));
    parses_to("0001-01-01", INT64_C(-62135596800000));
    parses_to("9999-12-31 23:59:59.999", INT64_C(253402300799999));
    rejects("2023-02-29");
    rejects("1900-02-29");
    rejects("2026-04-31");
    rejects("2026-13-01");
    rejects("2026-00-10");
    rejects("2026-01-00");
    rejects("2026-01-32");
    rejects("2026-01-01 24:00:00");
    rejects("2026-01-01 23:60:00");
    rejects("2026-01-01 23:59:60");
    rejects("2026-01-01 23:59:59.");
    rejects("2026-01-01 23:59:59.1234567890");
    rejects("2026-01-01 23:59:59+24:00");
    rejects("2026-01-01 23:59:59+05:60");
    rejects("2026-01-01 23:59:59+5");
    rejects("2026-01-01 23:59:59+05:3");
    rejects("2026-01-01 23:59:59Zjunk");
    rejects("2026-01-01 23:59:59 ");
    rejects("2026-01-01 23");
    rejects("2026-01-01T");
    rejects("2026-01-01X10:00");
    rejects("2026-1-01");
    rejects("26-01-01");
    rejects("2026/01/01");
    rejects("");
    rejects("abc");
    rejects("1773791880000");
    rejects("2026-01-01 1:00");
    rejects("2026-01-01 10:0a");

    /* formatting, including before the epoch */
    formats_to(0, "1970-01-01 00:00:00.000");
    formats_to(1, "1970-01-01 00:00:00.001");
    formats_to(-1, "1969-12-31 23:59:59.999");
    formats_to(-1000, "1969-12-31 23:59:59.000");
    formats_to(-86400000, "1969-12-31 00:00:00.000");
    formats_to(-86400001, "1969-12-30 23:59:59.999");
    formats_to(INT64_C(1773791880123), "2026-03-17 23:58:00.123");
    formats_to(INT64_C(1709164800000), "2024-02-29 00:00:00.000");
    formats_to(INT64_C(-2208988800000), "1900-01-01 00:00:00.000");
    formats_to(INT64_MAX, "9999-12-31 23:59:59.999");
    formats_to(INT64_MIN, "0000-01-01 00:00:00.000");

    /* the fixed shapes of the cached parser, and their near misses */
    parses_to("2026-03-16 23:59:58.105", INT64_C(1773705598105));
    parses_to("2026-03-16T23:59:58.105", INT64_C(1773705598105));
    parses_to("2026-03-16T23:59:58.105Z", INT64_C(1773705598105));
    parses_to("2026-03-16 23:59:58,105", INT64_C(1773705598105));
    parses_to("2026-03-16 23:59:58.105z", INT64_C(1773705598105));
    parses_to("2026-03-16 23:59:58Z", INT64_C(1773705598000));
    parses_to("2026-03-16 00:00:00.000", INT64_C(1773619200000));
    parses_to("2026-03-16 23:59:58.1051", INT64_C(1773705598105));
    parses_to("2026-03-16 23:59:58.105+00:00", INT64_C(1773705598105));
    parses_to("2026-03-16 23:59:58.10", INT64_C(1773705598100));
    parses_to("1969-12-31 23:59:59.999", -1);
    parses_to("1960-02-29 12:00:00.000", INT64_C(-310478400000));
    rejects("2026-03-16 23:59:58.10a");
    rejects("2026-03-16 23:59:58.1a5");
    rejects("2026-03-16 23:59:5a.105");
    rejects("2026-03-16 23:59:58:105");
    rejects("2026-03-16_23:59:58.105");
    rejects("2026-03-16 23-59-58.105");
    rejects("2026-03-16 24:00:00.000");
    rejects("2026-03-16 23:59:58.105X");
    rejects("2026-03-16 23:59:58.105 ");
    rejects("2026-02-29 00:00:00.000");
    rejects("2026-03-1a 00:00:00.000");
    {
        /* a cache holding NUL bytes must not match a date of NULs */
        sl_ts_cache c;
        memset(&c, 0, sizeof c);
        int64_t ms;
        ok(sl_ts_parse_cached(&c, "\0\0\0\0\0\0\0\0\0\0", 10, &ms) == -1,
           "a cold cache matches no text");
    }
    /* formatting across day changes (the last date is cached) */
    formats_to(INT64_C(1773705598105), "2026-03-16 23:59:58.105");
    formats_to(INT64_C(1773705599999), "2026-03-16 23:59:59.999");
    formats_to(INT64_C(1773705600000), "2026-03-17 00:00:00.000");
    formats_to(INT64_C(1773705598105), "2026-03-16 23:59:58.105");
    formats_to(-1, "1969-12-31 23:59:59.999");
    formats_to(-86400001, "1969-12-30 23:59:59.999");
    formats_to(-1, "1969-12-31 23:59:59.999");

    /* round trip: every ~37 hours and a bit over 300 years */
    int bad = 0;
    for (int64_t ms = INT64_C(-5000000000000); ms < INT64_C(5000000000000);
         ms += INT64_C(133333333337)) {
        char out[32];
        int64_t back = 0;
        sl_ts_format(ms, out);
        if (sl_ts_parse(out, strlen(out), &back) != 0 || back != ms) {
            if (bad++ < 3)
                printf("# round trip %lld -> %s -> %lld\n", (long long)ms, out,
                       (long long)back);
        }
    }
    ok(bad == 0, "format then parse gives back the same instant");
    /* every day of 1999..2001: parse(format(day)) */
    bad = 0;
    for (int64_t day = 10592; day < 11688; day++) {
        char out[32];
        int64_t back = 0;
        sl_ts_format(day * 86400000, out);
        if (sl_ts_parse(out, 10, &back) != 0 || back != day * 86400000)
            bad++;
    }
    ok(bad == 0, "every date of 1999..2001 round trips");
    return tap_done();
}
