/*
** test_csv.c: the CSV decoder: record splitting (quoted newlines, CRLF,
** partial records), quoting and "" escapes, delimiters, headers in another
** order and with extra columns, NULLs, field count rules, every type
** conversion and the reason given when one fails. The fast paths (an
** unquoted field converted in place; a one-line record split and decoded
** at once) are checked against the general path (the same text quoted)
** and against strtod/strtoll/sl_ts_parse, bit for bit.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/tap.h"
#include "tests/connectors/helpers.h"

static const char *names5[] = {"id", "name", "amount", "ok", "ts"};
static const sl_type types5[] = {SL_BIGINT, SL_TEXT, SL_DOUBLE, SL_BOOL,
                                 SL_TIMESTAMP};

/* A decoder of the five columns; not_null: NULL or five NOT NULL flags. */
static sl_decoder *csv_nn(char delim, int header, enum sl_ts_format tf,
                          const unsigned char *not_null)
{
    sl_decoder_options o = {SL_FORMAT_CSV, delim, header, tf, not_null};
    sl_error err;
    sl_error_clear(&err);
    sl_decoder *d = sl_decoder_new(&o, 5, names5, types5, &err);
    if (d == NULL)
        printf("# decoder_new: %s\n", err.msg);
    return d;
}

static sl_decoder *csv(char delim, int header, enum sl_ts_format tf)
{
    return csv_nn(delim, header, tf, NULL);
}

static void test_split(void)
{
    sl_decoder *d = csv(',', 0, SL_TS_ISO);
    size_t n = 0;
    const char *s = "1,a\n2,b\n";
    ok(sl_decoder_split(d, s, strlen(s), 0, &n) == 1 && n == 4,
       "split: first record ends after its newline");
    s = "1,\"x\ny\",2\n3\n";
    ok(sl_decoder_split(d, s, strlen(s), 0, &n) == 1 && n == 10,
       "split: a newline inside quotes does not end the record");
    s = "1,\"x\"\"\ny\",2\r\nnext";
    ok(sl_decoder_split(d, s, strlen(s), 0, &n) == 1 && n == 13,
       "split: \"\" escapes inside quotes, CRLF terminator");
    s = "1,\"open\nmore";
    ok(sl_decoder_split(d, s, strlen(s), 0, &n) == 0,
       "split: an open quote needs more data");
    ok(sl_decoder_split(d, s, strlen(s), 1, &n) == 1 && n == strlen(s),
       "split: at end of input the rest is one record");
    s = "1,\"ab\"";
    ok(sl_decoder_split(d, s, strlen(s), 0, &n) == 0,
       "split: a quote at the end of the buffer waits for the next byte");
    s = "1,2";
    ok(sl_decoder_split(d, s, 3, 0, &n) == 0, "split: partial line held back");
    ok(sl_decoder_split(d, s, 3, 1, &n) == 1 && n == 3,
       "split: last line without newline at end of input");
    ok(sl_decoder_split(d, s, 0, 1, &n) == 0, "split: empty buffer has no record");
    s = "ab\"c,d\nx\n";
    ok(sl_decoder_split(d, s, strlen(s), 0, &n) == 1 && n == 7,
       "split: a quote inside an unquoted field is a plain character");
    sl_decoder_free(d);
}

static void test_basic(void)
{
    sl_decoder *d = csv(',', 0, SL_TS_ISO);
    sl_batch *b = sl_batch_new(5, types5, 4);
    char why[256];
    is_int(dec(d, b, "1,apple,12.34,true,2026-03-17 23:58:00\n", why, sizeof why),
           1, "plain record decodes");
    is_str(cell(b, 0, 0), "1", "bigint");
    is_str(cell(b, 0, 1), "apple", "text");
    ok(b->cols[2].v.d[0] == 12.34, "double 12.34 exactly as strtod");
    is_str(cell(b, 0, 3), "true", "boolean");
    is_str(cell(b, 0, 4), "2026-03-17 23:58:00.000", "timestamp");

    is_int(dec(d, b, "2,\"a, \"\"quoted\"\"\nline\",-0.5,F,\"2026-03-17T23:58:00Z\"\r\n",
               why, sizeof why), 1, "quoted fields with escapes and a newline");
    is_str(cell(b, 1, 1), "a, \"quoted\"\nline", "quoted text unescaped");
    is_str(cell(b, 1, 2), "-0.5", "negative double");
    is_str(cell(b, 1, 3), "false", "F is false");

    is_int(dec(d, b, "3,,,,\n", why, sizeof why), 1, "empty fields");
    for (int c = 1; c < 5; c++)
        is_str(cell(b, 2, c), "NULL", "empty unquoted field is NULL");
    is_int(dec(d, b, "4,\"\",\"\",\"\",\"\"", why, sizeof why), 1,
           "empty quoted fields");
    is_str(cell(b, 3, 1), "", "empty quoted TEXT is an empty string");
    is_str(cell(b, 3, 0), "4", "no terminator at all");
    is_str(cell(b, 3, 2), "NULL", "empty quoted DOUBLE is NULL");
    is_int(dec(d, b, " 5 , spaced , 1.5 , yes , 2026-01-01 \n", why, sizeof why),
           1, "blanks around non-text values are ignored");
    is_str(cell(b, 4, 0), "5", "bigint with blanks");
    is_str(cell(b, 4, 1), " spaced ", "text keeps its blanks");
    is_int(b->nrows, 5, "five rows");
    is_int(dec(d, b, "\n", why, sizeof why), 0, "blank line: nothing");
    is_int(dec(d, b, "\r\n", why, sizeof why), 0, "blank CRLF line: nothing");
    is_int(b->nrows, 5, "blank lines add no row");

    /* field count without header */
    is_int(dec(d, b, "1,a,2\n", why, sizeof why), -1, "too few fields rejected");
    is_str(why, "expected 5 fields, got 3", "reason for too few fields");
    is_int(dec(d, b, "1,a,2,t,2026-01-01,extra\n", why, sizeof why), -1,
           "too many fields rejected");
    is_str(why, "expected 5 fields, got 6", "reason for too many fields");
    is_int(dec(d, b, "x,a,2,t\n", why, sizeof why), -1,
           "count mismatch wins over a conversion error");
    is_str(why, "expected 5 fields, got 4", "reason names the count");
    is_int(dec(d, b, "1,\"open,2,t,2026-01-01\n", why, sizeof why), -1,
           "unterminated quote rejected");
    is_str(why, "column name: unterminated quoted field", "reason for the quote");
    is_int(dec(d, b, "1,\"ab\"c,2,t,2026-01-01\n", why, sizeof why), -1,
           "text after a closing quote rejected");
    is_str(why, "column name: unexpected text after a closing quote",
           "reason for text after a quote");
    is_int(b->nrows, 5, "rejected records add no row");
    is_int(dec(d, b, "6,a\"b,1,1,2026-01-01\n", why, sizeof why), 1,
           "a quote inside an unquoted field is kept");
    is_str(cell(b, 5, 1), "a\"b", "inner quote kept");
    sl_batch_free(b);
    sl_decoder_free(d);
}

static void test_conversions(void)
{
    sl_decoder *d = csv(',', 0, SL_TS_ISO);
    sl_batch *b = sl_batch_new(5, types5, 4);
    char why[256];
    struct {
        const char *rec, *want;
        int col;
    } good[] = {
        {"9223372036854775807,,,,", "9223372036854775807", 0},
        {"-9223372036854775808,,,,", "-9223372036854775808", 0},
        {"+42,,,,", "42", 0},
        {"007,,,,", "7", 0},
        {",,1e3,,", "1000", 2},
        {",,.5,,", "0.5", 2},
        {",,5.,,", "5", 2},
        {",,-1.25E-2,,", "-0.012500000000000001", 2},
        {",,0.1,,", "0.10000000000000001", 2},
        {",,123456789012345678901234567890,,", "1.2345678901234568e+29", 2},
        {",,2.2250738585072014e-308,,", "2.2250738585072014e-308", 2},
        {",,1.7976931348623157e308,,", "1.7976931348623157e+308", 2},
        {",,9007199254740993,,", "9007199254740992", 2},
        {",,0.000000000000000000000000000001,,", "1.0000000000000001e-30", 2},
        {",,,TRUE,", "true", 3},
        {",,,t,", "true", 3},
        {",,,1,", "true", 3},
        {",,,Yes,", "true", 3},
        {",,,no,", "false", 3},
        {",,,0,", "false", 3},
        {",,,False,", "false", 3},
        {",,,,2026-03-18T05:28:00.5+05:30", "2026-03-17 23:58:00.500", 4},
        {",,,,1969-12-31", "1969-12-31 00:00:00.000", 4},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int rc = dec(d, b, good[i].rec, why, sizeof why);
        ok(rc == 1, "'%s' decodes", good[i].rec);
        if (rc == 1)
            is_str(cell(b, b->nrows - 1, good[i].col), good[i].want, "  its value");
        else
            printf("#   %s\n", why);
    }
    /* exactness of the fast double path against strtod */
    const char *dbl[] = {"12.34", "0.3", "1234.5678", "3.14159265358979",
                         "-99.99", "100000000000000000000", "1e22", "1e23",
                         "4.9e-324", "123456.789e-3", "0.000123"};
    for (size_t i = 0; i < sizeof dbl / sizeof dbl[0]; i++) {
        char rec[64];
        snprintf(rec, sizeof rec, ",,%s,,", dbl[i]);
        dec(d, b, rec, why, sizeof why);
        ok(b->cols[2].v.d[b->nrows - 1] == strtod(dbl[i], NULL),
           "%s equals strtod", dbl[i]);
    }

    struct {
        const char *rec, *why;
    } badv[] = {
        {"abc,,,,", "column id: cannot convert 'abc' to BIGINT"},
        {"1.5,,,,", "column id: cannot convert '1.5' to BIGINT"},
        {"9223372036854775808,,,,",
         "column id: 9223372036854775808 is out of range for BIGINT"},
        {"-9223372036854775809,,,,",
         "column id: -9223372036854775809 is out of range for BIGINT"},
        {"99999999999999999999999,,,,",
         "column id: 99999999999999999999999 is out of range for BIGINT"},
        {"-,,,,", "column id: cannot convert '-' to BIGINT"},
        {",,abc,,", "column amount: cannot convert 'abc' to DOUBLE"},
        {",,1.2.3,,", "column amount: cannot convert '1.2.3' to DOUBLE"},
        {",,1e,,", "column amount: cannot convert '1e' to DOUBLE"},
        {",,nan,,", "column amount: cannot convert 'nan' to DOUBLE"},
        {",,.,,", "column amount: cannot convert '.' to DOUBLE"},
        {",,-1e400,,", "column amount: cannot convert '-1e400' to DOUBLE"},
        {",,,maybe,", "column ok: cannot convert 'maybe' to BOOLEAN"},
        {",,,2,", "column ok: cannot convert '2' to BOOLEAN"},
        {",,,,2026-02-30", "column ts: cannot convert '2026-02-30' to TIMESTAMP"},
        {",,,,1773791880000", "column ts: cannot convert '1773791880000' to TIMESTAMP"},
        {",,,,yesterday", "column ts: cannot convert 'yesterday' to TIMESTAMP"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,,,,",
         "column id: cannot convert 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' "
         "to BIGINT"},
    };
    int before = b->nrows;
    for (size_t i = 0; i < sizeof badv / sizeof badv[0]; i++) {
        int rc = dec(d, b, badv[i].rec, why, sizeof why);
        ok(rc == -1, "'%.30s' rejected", badv[i].rec);
        is_str(why, badv[i].why, "  with its reason");
    }
    is_int(b->nrows, before, "no rows from rejected records");
    sl_decoder_free(d);

    /* epoch timestamps from CSV text */
    d = csv(',', 0, SL_TS_EPOCH_MS);
    is_int(dec(d, b, ",,,,1773791880123", why, sizeof why), 1, "epoch_ms text");
    is_str(cell(b, b->nrows - 1, 4), "2026-03-17 23:58:00.123", "epoch_ms value");
    is_int(dec(d, b, ",,,,-1", why, sizeof why), 1, "negative epoch_ms");
    is_str(cell(b, b->nrows - 1, 4), "1969-12-31 23:59:59.999", "before 1970");
    is_int(dec(d, b, ",,,,2026-03-17 23:58:00", why, sizeof why), 1,
           "ISO text still read with epoch_ms");
    is_int(dec(d, b, ",,,,1.5", why, sizeof why), -1, "fractional epoch_ms rejected");
    sl_decoder_free(d);
    d = csv(',', 0, SL_TS_EPOCH_S);
    is_int(dec(d, b, ",,,,1773791880.123456", why, sizeof why), 1, "epoch_s text");
    is_str(cell(b, b->nrows - 1, 4), "2026-03-17 23:58:00.123",
           "fractional seconds exact");
    is_int(dec(d, b, ",,,,-0.5", why, sizeof why), 1, "negative fractional epoch_s");
    is_str(cell(b, b->nrows - 1, 4), "1969-12-31 23:59:59.500", "-0.5 s");
    is_int(dec(d, b, ",,,,1.7737918801e9", why, sizeof why), 1,
           "epoch_s with exponent");
    is_str(cell(b, b->nrows - 1, 4), "2026-03-17 23:58:00.100", "exponent value");
    is_int(dec(d, b, ",,,,99999999999999999", why, sizeof why), -1,
           "epoch_s overflow rejected");
    sl_decoder_free(d);
    sl_batch_free(b);
}

static void test_delimiters_and_header(void)
{
    char why[256];
    sl_error err;
    sl_batch *b = sl_batch_new(5, types5, 4);
    sl_decoder *d = csv(';', 0, SL_TS_ISO);
    is_int(dec(d, b, "1;a,b;2.5;t;2026-01-01\n", why, sizeof why), 1,
           "';' delimiter");
    is_str(cell(b, 0, 1), "a,b", "comma is plain text with ';'");
    is_str(cell(b, 0, 2), "2.5", "double after a ';'");
    is_int(dec(d, b, "1;2;3\n", why, sizeof why), -1, "';' field count checked");
    sl_decoder_free(d);
    sl_batch_reset(b);

    d = csv('\t', 0, SL_TS_ISO);
    is_int(dec(d, b, "1\t\"x\ty\"\t2.5\tno\t2026-01-01\n", why, sizeof why), 1,
           "tab delimiter with a quoted tab");
    is_str(cell(b, 0, 1), "x\ty", "quoted tab kept");
    is_str(cell(b, 0, 2), "2.5", "tab-separated double");
    sl_decoder_free(d);
    sl_batch_reset(b);

    /* header in another order, extra columns, a missing schema column */
    d = csv(',', 1, SL_TS_ISO);
    sl_error_clear(&err);
    const char *hdr = "\xEF\xBB\xBF\"Amount\",extra, ID ,name\r\n";
    is_int(sl_decoder_header(d, hdr, strlen(hdr), &err), 0, "header accepted");
    is_int(dec(d, b, "2.5,zzz,7,bob\n", why, sizeof why), 1, "record by header");
    is_str(cell(b, 0, 0), "7", "id found by header (case, blanks)");
    is_str(cell(b, 0, 1), "bob", "name found");
    is_str(cell(b, 0, 2), "2.5", "amount found (quoted header, BOM)");
    is_str(cell(b, 0, 3), "NULL", "column missing from header is NULL");
    is_str(cell(b, 0, 4), "NULL", "ts missing from header is NULL");
    is_int(dec(d, b, "3.5,zzz\n", why, sizeof why), -1,
           "fewer fields than the header rejected");
    is_str(why, "record has 2 fields, the header has 4", "reason for missing fields");
    is_int(dec(d, b, "1,2,3,4,5\n", why, sizeof why), -1,
           "more fields than the header rejected");
    is_str(why, "record has 5 fields, the header has 4", "reason for extra fields");
    is_int(dec(d, b, "x,zzz,7,bob\n", why, sizeof why), -1, "conversion by header");
    is_str(why, "column amount: cannot convert 'x' to DOUBLE", "names the column");
    hdr = "a;b;c\n";
    sl_error_clear(&err);
    is_int(sl_decoder_header(d, hdr, strlen(hdr), &err), -1,
           "header naming no column is an error");
    is_str(err.msg, "the CSV header 'a;b;c' names none of the columns",
           "its message");
    hdr = "ts,ok\n";
    sl_error_clear(&err);
    is_int(sl_decoder_header(d, hdr, strlen(hdr), &err), 0, "a new file's header");
    is_int(dec(d, b, "2026-01-01,yes\n", why, sizeof why), 1, "decoded by new header");
    is_str(cell(b, 1, 3), "true", "ok by new header");
    is_str(cell(b, 1, 0), "NULL", "id not in new header");
    sl_decoder_free(d);
    sl_batch_free(b);

    sl_decoder_options o = {SL_FORMAT_CSV, '"', 0, SL_TS_ISO, NULL};
    sl_error_clear(&err);
    ok(sl_decoder_new(&o, 5, names5, types5, &err) == NULL && err.set,
       "a quote delimiter is refused");
}

/* Decodes v unquoted (fast path) and quoted (general path) into column col
** of the types5 schema; both must agree on the result, the reason and the
** value. Returns the result of the unquoted decode, or -9 when the two
** disagree; *got gets the row. quiet: report only a disagreement. */
static int compare_paths(sl_decoder *d, sl_batch *b, int col, const char *v,
                         int *got, int quiet)
{
    char rec[256], why1[256], why2[256];
    const char *fields[5] = {"1", "n", "2", "t", "2026-01-01"};
    int rc[2], row[2];
    for (int quoted = 0; quoted < 2; quoted++) {
        size_t o = 0;
        for (int c = 0; c < 5; c++) {
            const char *f = c == col ? v : fields[c];
            o += (size_t)snprintf(rec + o, sizeof rec - o, "%s%s%s%s",
                                  c ? "," : "", quoted && c == col ? "\"" : "",
                                  f, quoted && c == col ? "\"" : "");
        }
        snprintf(rec + o, sizeof rec - o, "\n");
        rc[quoted] = dec(d, b, rec, quoted ? why2 : why1, sizeof why1);
        row[quoted] = b->nrows - 1;
    }
    int same = rc[0] == rc[1] && strcmp(why1, why2) == 0;
    if (same && rc[0] == 1) {
        sl_value a = sl_batch_get(b, row[0], col),
                 q = sl_batch_get(b, row[1], col);
        same = a.is_null == q.is_null;
        if (same && !a.is_null && a.type == SL_TEXT)
            same = a.u.s.n == q.u.s.n && memcmp(a.u.s.z, q.u.s.z,
                                                (size_t)a.u.s.n) == 0;
        else if (same && !a.is_null)
            same = memcmp(&a.u, &q.u, sizeof a.u) == 0;
    }
    if (!quiet || !same)
        ok(same, "column %s '%s': fast path = general path", names5[col], v);
    if (!same)
        printf("#   rc %d/%d, '%s' / '%s'\n", rc[0], rc[1], why1, why2);
    *got = row[0];
    return same ? rc[0] : -9;
}

static int fast_vs_general(sl_decoder *d, sl_batch *b, int col, const char *v,
                           int *got)
{
    return compare_paths(d, b, col, v, got, 0);
}

static void test_fast_paths(void)
{
    sl_decoder *d = csv(',', 0, SL_TS_ISO);
    sl_batch *b = sl_batch_new(5, types5, 4);
    static const char *const nums[] = {
        "0", "-0", "007", "-007", "-12", "+5", "42", "123456789012345678",
        "-123456789012345678", "1234567890123456789", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808",
        "-9223372036854775809", "99999999999999999999", "1.5", "-0.25",
        "0.1", "495.91", ".5", "5.", "-.5", "0.000", "-0.0", "1e3", "1E-3",
        "2.5e+2", " 7", "7 ", "\t7", "1.2.3", "abc", "-", ".", "-.", "12a",
        "1-2", "--1", "0.000000000000000000001", "9007199254740992",
        "9007199254740993", "9007199254740993.0", "900719925474099.3",
        "123456789.123456789", "1234567890.123456789",
        "1234567890123456789012", "0.30000000000000004", "1e400", "0x10",
        "inf", "nan", "1_000"};
    int bad_d = 0, bad_i = 0;
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        int r;
        if (fast_vs_general(d, b, 0, nums[i], &r) == 1) {
            char *e;
            long long want = strtoll(nums[i], &e, 10);
            if (b->cols[0].v.i[r] != want)
                bad_i++;
        }
        if (fast_vs_general(d, b, 2, nums[i], &r) == 1) {
            double want = strtod(nums[i], NULL), got = b->cols[2].v.d[r];
            if (memcmp(&want, &got, sizeof want) != 0)
                bad_d++;
        }
    }
    ok(bad_i == 0, "accepted BIGINT text equals strtoll");
    ok(bad_d == 0, "accepted DOUBLE text equals strtod bit for bit");

    /* random decimal shapes: the fast DOUBLE path against strtod */
    uint64_t x = 88172645463325252u;
    bad_d = 0;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* [-] 0..12 digits [. 0..12 digits], at least one digit */
        char v[48];
        int idig = (int)(x % 13), fdig = (int)((x >> 8) % 13), o = 0;
        uint64_t y = x;
        if (idig + fdig == 0)
            idig = 1;
        if ((x >> 60) & 1)
            v[o++] = '-';
        for (int k = 0; k < idig + fdig; k++) {
            if (k == idig)
                v[o++] = '.';
            y = y * 6364136223846793005u + 1442695040888963407u;
            v[o++] = (char)('0' + (y >> 33) % 10);
        }
        v[o] = 0;
        int r;
        if (compare_paths(d, b, 2, v, &r, 1) != 1) {
            bad_d++;
            continue;
        }
        double want = strtod(v, NULL), got = b->cols[2].v.d[r];
        if (memcmp(&want, &got, sizeof want) != 0)
            bad_d++;
        if (b->nrows > 1000)
            sl_batch_reset(b);
    }
    ok(bad_d == 0, "20000 random decimals decode as strtod");

    static const char *const stamps[] = {
        "2026-03-16 23:59:58.105", "2026-03-16T23:59:58.105",
        "2026-03-16t23:59:58.105Z", "2026-03-16 23:59:58",
        "2026-03-16 23:59:58Z", "2026-03-16", "2026-03-16 23:59",
        "2026-03-16 23:59:58.1", "2026-03-16 23:59:58.10",
        "2026-03-16 23:59:58.1059", "2026-03-16 23:59:58.105123456",
        "2024-02-29 12:00:00.000",
        "2023-02-29 12:00:00.000", "1969-12-31 23:59:59.999",
        "1900-01-01 00:00:00.000", "0001-01-01 00:00:00.000",
        "2026-03-16 24:00:00.000", "2026-03-16 23:60:00.000",
        "2026-03-16 23:59:60.000", "2026-03-16 23:59:58.10a",
        "2026-03-16 23:59:58.105+02:00", "2026-03-16 23:59:58.105-0130",
        "2026-13-01 00:00:00.000", "2026-03-16x23:59:58.105",
        "2026-03-16 23:59:58.105 ", " 2026-03-16 23:59:58.105",
        "2026-03-17 00:00:00.000", "2026-03-16 23:59:58.105"};
    int bad_t = 0;
    for (size_t i = 0; i < sizeof stamps / sizeof stamps[0]; i++) {
        int r;
        for (int twice = 0; twice < 2; twice++) {  /* cold, then warm */
            if (fast_vs_general(d, b, 4, stamps[i], &r) != 1)
                continue;
            int64_t want;
            const char *z = stamps[i];
            size_t n = strlen(z);
            while (*z == ' ')
                z++, n--;
            while (n > 0 && z[n - 1] == ' ')
                n--;
            if (sl_ts_parse(z, n, &want) != 0 || b->cols[4].v.i[r] != want)
                bad_t++;
        }
    }
    ok(bad_t == 0, "accepted TIMESTAMP text equals sl_ts_parse");

    /* TEXT and BOOLEAN fields of many lengths (the word-at-a-time scan) */
    for (int len = 1; len <= 40; len++) {
        char v[48];
        for (int k = 0; k < len; k++)
            v[k] = (char)('a' + k % 26);
        v[len] = 0;
        int r;
        fast_vs_general(d, b, 1, v, &r);
        ok(strcmp(cell(b, r, 1), v) == 0, "text of length %d", len);
    }
    int r;
    fast_vs_general(d, b, 3, "yes", &r);
    fast_vs_general(d, b, 3, "maybe", &r);
    sl_batch_free(b);
    sl_decoder_free(d);
}

/* sl_decoder_decode_line: one-line records split and decoded at once. */
static void test_decode_line(void)
{
    sl_decoder *d = csv(',', 0, SL_TS_ISO);
    sl_batch *b = sl_batch_new(5, types5, 4);
    char why[256];
    size_t n = 0;
    const char *s = "1,a,2.5,t,2026-03-16 23:59:58.105\n2,b,,f,\n";
    is_int(sl_decoder_decode_line(d, s, strlen(s), b, &n, why, sizeof why), 1,
           "decode_line: a plain line decodes");
    is_int((int)n, 34, "decode_line: the record ends after its newline");
    is_str(cell(b, 0, 4), "2026-03-16 23:59:58.105", "decode_line: timestamp");
    is_int(sl_decoder_decode_line(d, s + n, strlen(s + n), b, &n, why,
                                  sizeof why), 1, "decode_line: next line");
    is_str(cell(b, 1, 2), "NULL", "decode_line: an empty field is NULL");
    is_str(cell(b, 1, 4), "NULL", "decode_line: an empty last field is NULL");
    s = "3,c,1.5,t,2026-03-16 23:59:58.105\r\n";
    is_int(sl_decoder_decode_line(d, s, strlen(s), b, &n, why, sizeof why), 1,
           "decode_line: CRLF");
    is_int((int)n, (int)strlen(s), "decode_line: CRLF record length");
    is_str(cell(b, 2, 4), "2026-03-16 23:59:58.105", "decode_line: CR stripped");
    s = "3,c,1.5,t,\r\n";
    is_int(sl_decoder_decode_line(d, s, strlen(s), b, &n, why, sizeof why), 1,
           "decode_line: CRLF after an empty field");
    is_str(cell(b, 3, 4), "NULL", "decode_line: the empty field is NULL");
    int rows = b->nrows;
    s = "4,\"x\ny\",1,t,\n";
    is_int(sl_decoder_decode_line(d, s, strlen(s), b, &n, why, sizeof why), -2,
           "decode_line: a quoted field gives up");
    s = "4,x,1,t,\"2026-01-01\"\n";
    is_int(sl_decoder_decode_line(d, s, strlen(s), b, &n, why, sizeof why), -2,
           "decode_line: a quoted last field gives up");
    s = "4,x,1,t,2026-01-01";
    is_int(sl_decoder_decode_line(d, s, strlen(s), b, &n, why, sizeof why), -2,
           "decode_line: a line without newline gives up");
    is_int(b->nrows, rows, "decode_line: giving up appends nothing");
    s = "\r\n5,e,1,t,\n";
    is_int(sl_decoder_decode_line(d, s, strlen(s), b, &n, why, sizeof why), 0,
           "decode_line: a blank line is skipped");
    is_int((int)n, 2, "decode_line: the blank line's length");
    s = "5,e,abc,t,2026-01-01\n";
    is_int(sl_decoder_decode_line(d, s, strlen(s), b, &n, why, sizeof why), -1,
           "decode_line: a bad value rejects the record");
    is_str(why, "column amount: cannot convert 'abc' to DOUBLE",
           "decode_line: the reason of a rejected record");
    s = "5,e,1,t\n";
    is_int(sl_decoder_decode_line(d, s, strlen(s), b, &n, why, sizeof why), -1,
           "decode_line: too few fields");
    is_str(why, "expected 5 fields, got 4", "decode_line: field count reason");
    s = "5,e,1\"x,t,\n";
    is_int(sl_decoder_decode_line(d, s, strlen(s), b, &n, why, sizeof why), -1,
           "decode_line: a quote inside a field is text, then DOUBLE fails");
    is_int(b->nrows, rows, "decode_line: rejected records append nothing");
    sl_batch_free(b);
    sl_decoder_free(d);
}

/* NOT NULL columns: a record with a NULL there is rejected, by both entry
** points, and takes no row; an empty quoted TEXT is a value, not NULL. */
static void test_not_null(void)
{
    static const unsigned char nn[5] = {0, 1, 0, 0, 1};
    sl_decoder *d = csv_nn(',', 0, SL_TS_ISO, nn);
    sl_batch *b = sl_batch_new(5, types5, 4);
    char why[256];
    size_t n = 0;
    const char *s = "1,a,,t,2026-03-16 23:59:58.105\n";
    is_int(sl_decoder_decode_line(d, s, strlen(s), b, &n, why, sizeof why), 1,
           "not null: NULL in a nullable column is fine");
    s = "2,,1,t,2026-03-16 23:59:58.105\n";
    is_int(sl_decoder_decode_line(d, s, strlen(s), b, &n, why, sizeof why), -1,
           "not null: NULL in a NOT NULL column rejects (one-line path)");
    is_str(why, "column name: NULL, and the column is declared NOT NULL",
           "not null: the reason names the column");
    is_int((int)n, (int)strlen(s), "not null: the rejected record's length");
    s = "3,\"\",1,t,2026-03-16 23:59:58.105\n";
    is_int(sl_decoder_decode(d, s, strlen(s), b, why, sizeof why), 1,
           "not null: an empty quoted field is empty TEXT, not NULL");
    s = "4,\"x\ny\",1,t,\n";
    is_int(sl_decoder_decode(d, s, strlen(s), b, why, sizeof why), -1,
           "not null: rejected by sl_decoder_decode too");
    is_str(why, "column ts: NULL, and the column is declared NOT NULL",
           "not null: the second NOT NULL column");
    is_int(b->nrows, 2, "not null: rejected records take no row");
    is_str(cell(b, 1, 0), "3", "not null: the rows kept are the good ones");
    sl_batch_free(b);
    sl_decoder_free(d);
}

/* Splitting a record that arrives one byte at a time, going on from the
** state of the last call, finds the same end as splitting it whole; and
** the state tells an open quote and the record's first line. */
static void test_split_more(void)
{
    sl_decoder *d = csv(';', 0, SL_TS_ISO);
    static const char *const recs[] = {
        "1;a\n", "1;\"x\ny\";2\n3\n", "1;\"x\"\"\ny\";2\r\nnext",
        "ab\"c;d\nx\n", "\"a\";\"b\"\"\";\"\n\n\";\"\"\n", ";\"\n\"\n",
        "x;\"\"\n", "\"\"\"\"\n",
    };
    for (size_t k = 0; k < sizeof recs / sizeof recs[0]; k++) {
        const char *s = recs[k];
        size_t len = strlen(s), whole = 0, piece = 0;
        int got_whole = sl_decoder_split(d, s, len, 0, &whole);
        sl_split_state st = {0, 0, 0, 0};
        int got = 0;
        size_t have;
        for (have = 1; have <= len && !got; have++)
            got = sl_decoder_split_more(d, s, have, 0, &st, &piece);
        ok(got == got_whole && piece == whole && st.scanned < len,
           "split in pieces as whole: record %zu (%zu, %zu)", k, piece, whole);
    }
    const char *s = "1;\"open\nline 2\nline 3";
    sl_split_state st = {0, 0, 0, 0};
    size_t n = 0;
    ok(sl_decoder_split_more(d, s, 10, 0, &st, &n) == 0 && st.in_quotes &&
       st.first_line == 8 && st.scanned == 10, "state: open quote, first "
       "line, scanned");
    ok(sl_decoder_split_more(d, s, strlen(s), 1, &st, &n) == 1 &&
       n == strlen(s) && st.in_quotes && st.first_line == 8,
       "at the end of input: the rest, and the quote still open");
    sl_decoder_free(d);
}

/* TEXT is valid UTF-8 without NUL, whichever path decodes it: unquoted
** (the fast path), quoted, with "" escapes, or as a general field; the
** reason names the column. Values shown in reasons are valid UTF-8. */
static void test_text_validity(void)
{
    sl_decoder *d = csv(',', 0, SL_TS_ISO);
    sl_batch *b = sl_batch_new(5, types5, 4);
    char why[256];
    static const char *const bad_utf8[] = {
        "1,caf\xE9,1.5,t,2026-01-01\n",
        "1,\"caf\xE9\",1.5,t,2026-01-01\n",
        "1,\"c\"\"af\xE9\",1.5,t,2026-01-01\n",
        "1,abcdefghijk\xF0\x9F\x98,1.5,t,2026-01-01\n",
        "1,\xED\xA0\x80,1.5,t,2026-01-01\n",
        "1,\xC1\xBF,1.5,t,2026-01-01\n",
        "1,\xF5\x80\x80\x80,1.5,t,2026-01-01\n",
        "1,\xE2\x82\xAC\x80,1.5,t,2026-01-01\n",
    };
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
        int rc = dec(d, b, bad_utf8[i], why, sizeof why);
        ok(rc == -1 && strcmp(why, "column name: text is not valid UTF-8") == 0,
           "invalid UTF-8 %zu rejected (%d: %s)", i, rc, why);
    }
    static const char nul1[] = "1,a\0b,1.5,t,2026-01-01\n";
    static const char nul2[] = "1,\"abcdefgh\0\",1.5,t,2026-01-01\n";
    static const char nul3[] = "1,\"a\"\"\0\",1.5,t,2026-01-01\n";
    const char *nuls[] = {nul1, nul2, nul3};
    const size_t nul_len[] = {sizeof nul1 - 1, sizeof nul2 - 1, sizeof nul3 - 1};
    for (int i = 0; i < 3; i++) {
        int rc = sl_decoder_decode(d, nuls[i], nul_len[i], b, why, sizeof why);
        ok(rc == -1 && strcmp(why, "column name: text holds a NUL byte") == 0,
           "NUL in text %d rejected (%d: %s)", i, rc, why);
    }
    size_t n = 0;
    int rc = sl_decoder_decode_line(d, nul1, sizeof nul1 - 1, b, &n, why,
                                    sizeof why);
    ok(rc == -1 && strcmp(why, "column name: text holds a NUL byte") == 0,
       "the one-line path rejects it too (%d: %s)", rc, why);
    is_int(b->nrows, 0, "no rows");
    is_int(dec(d, b, "1,caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80,1.5,t,"
               "2026-01-01\n", why, sizeof why), 1, "valid UTF-8 is kept");
    is_str(cell(b, 0, 1), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",
           "as it is");
    is_int(dec(d, b, "1,\"\xC3\xA9\"\"\",1.5,t,2026-01-01\n", why, sizeof why),
           1, "quoted with escapes");
    is_str(cell(b, 1, 1), "\xC3\xA9\"", "unescaped");
    is_int(dec(d, b, "\xFF\xFE,a,1.5,t,2026-01-01\n", why, sizeof why), -1,
           "bad bytes in a BIGINT field");
    is_str(why, "column id: cannot convert '?" "?' to BIGINT",
           "the reason shows them as '?'");
    char rec[200];
    snprintf(rec, sizeof rec, "1,a,%s\xE2\x82\xAC%s,t,2026-01-01\n",
             "0123456789012345678901234567890123456789012345",
             "0123456789");
    is_int(dec(d, b, rec, why, sizeof why), -1, "a long bad DOUBLE");
    is_str(why, "column amount: cannot convert '0123456789012345678901234567"
           "890123456789012345...' to DOUBLE",
           "the cut does not split a character");
    sl_batch_free(b);
    sl_decoder_free(d);

    /* a column no TEXT column wants may hold anything */
    const char *nm[] = {"id"};
    sl_type ty[] = {SL_BIGINT};
    sl_decoder_options o = {SL_FORMAT_CSV, ',', 1, SL_TS_ISO, NULL};
    sl_error err;
    sl_error_clear(&err);
    d = sl_decoder_new(&o, 1, nm, ty, &err);
    b = sl_batch_new(1, ty, 4);
    sl_decoder_header(d, "id,junk\n", 8, &err);
    is_int(dec(d, b, "7,\xFF\n", why, sizeof why), 1,
           "bad bytes in a field no column wants are skipped");
    sl_batch_free(b);
    sl_decoder_free(d);
}

int main(void)
{
    test_split();
    test_split_more();
    test_text_validity();
    test_basic();
    test_conversions();
    test_delimiters_and_header();
    test_fast_paths();
    test_decode_line();
    test_not_null();
    return tap_done();
}
