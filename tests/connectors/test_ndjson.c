/*
** test_ndjson.c: the NDJSON decoder: nested (dotted) paths, missing fields
** and null, string escapes including \u and surrogate pairs, numbers and
** booleans as TEXT, objects as TEXT, deep unknown values skipped, every
** conversion, and the reasons given for bad JSON, trailing text, top-level
** non-objects and values that do not convert.
*/
#include <stdint.h>
#include <string.h>
#include "tests/tap.h"
#include "tests/connectors/helpers.h"

static const char *names[] = {"id", "user.name", "user.geo.lat", "ok", "ts",
                              "raw"};
static const sl_type types[] = {SL_BIGINT, SL_TEXT, SL_DOUBLE, SL_BOOL,
                                SL_TIMESTAMP, SL_TEXT};
#define NC 6

static sl_decoder *nd(enum sl_ts_format tf)
{
    sl_decoder_options o = {SL_FORMAT_NDJSON, 0, 0, tf, NULL};
    sl_error err;
    sl_error_clear(&err);
    sl_decoder *d = sl_decoder_new(&o, NC, names, types, &err);
    if (d == NULL)
        printf("# decoder_new: %s\n", err.msg);
    return d;
}

static int last(const sl_batch *b)
{
    return b->nrows - 1;
}

static void test_paths(void)
{
    sl_decoder *d = nd(SL_TS_ISO);
    sl_batch *b = sl_batch_new(NC, types, 4);
    char why[256];
    is_int(dec(d, b, "{\"id\": 7, \"user\": {\"name\": \"ann\", \"geo\": "
                     "{\"lat\": 51.5, \"lon\": -0.1}}, \"ok\": true, "
                     "\"ts\": \"2026-03-17T23:58:00Z\", \"raw\": \"r\"}\n",
               why, sizeof why), 1, "nested record decodes");
    is_str(cell(b, 0, 0), "7", "id");
    is_str(cell(b, 0, 1), "ann", "user.name");
    is_str(cell(b, 0, 2), "51.5", "user.geo.lat");
    is_str(cell(b, 0, 3), "true", "ok");
    is_str(cell(b, 0, 4), "2026-03-17 23:58:00.000", "ts");
    is_str(cell(b, 0, 5), "r", "raw");

    is_int(dec(d, b, "{\"user\":{\"geo\":null},\"ok\":null}", why, sizeof why),
           1, "missing and null fields");
    for (int c = 0; c < NC; c++)
        is_str(cell(b, 1, c), "NULL", "missing or null is NULL");

    is_int(dec(d, b, "{\"ID\":1,\"user.name\":\"dotted key\",\"User\":{\"Geo\":{\"LAT\":2}}}",
               why, sizeof why), 1, "case-insensitive and dotted keys");
    is_str(cell(b, 2, 0), "1", "ID matches id");
    is_str(cell(b, 2, 1), "dotted key", "a literal dotted key matches the path");
    is_str(cell(b, 2, 2), "2", "nested case-insensitive");

    is_int(dec(d, b, "{\"user\":\"not an object\",\"id\":3}", why, sizeof why), 1,
           "a scalar where an object was expected is skipped");
    is_str(cell(b, 3, 1), "NULL", "path through a scalar is NULL");
    is_str(cell(b, 3, 0), "3", "later fields still read");

    is_int(dec(d, b, "{\"id\":1,\"id\":2}", why, sizeof why), 1, "duplicate keys");
    is_str(cell(b, 4, 0), "2", "the last duplicate wins");
    is_int(dec(d, b, "{\"id\":1,\"id\":null}", why, sizeof why), 1,
           "duplicate key null");
    is_str(cell(b, 5, 0), "NULL", "null after a value makes it NULL");

    /* deep unknown nesting is skipped; raw objects kept as TEXT */
    char deep[20000];
    size_t n = 0;
    n += (size_t)sprintf(deep + n, "{\"skip\":");
    for (int i = 0; i < 4000; i++) {
        if (i % 2)
            deep[n++] = '[';
        else
            n += (size_t)sprintf(deep + n, "{\"k\":");
    }
    deep[n++] = '1';
    for (int i = 3999; i >= 0; i--)
        deep[n++] = i % 2 ? ']' : '}';
    n += (size_t)sprintf(deep + n, ",\"id\":9}");
    deep[n] = 0;
    is_int(dec(d, b, deep, why, sizeof why), 1, "4000 levels of unknown nesting");
    if (b->nrows == 7)
        is_str(cell(b, 6, 0), "9", "field after the deep value");
    else
        ok(0, "field after the deep value (%s)", why);
    is_int(dec(d, b, "{\"raw\": {\"a\": [1, {\"b\": \"}\"}]} , \"id\": 1}", why,
               sizeof why), 1, "object into TEXT");
    is_str(cell(b, last(b), 5), "{\"a\": [1, {\"b\": \"}\"}]}", "raw JSON text kept");
    is_int(dec(d, b, "{\"raw\": [1,2]}", why, sizeof why), 1, "array into TEXT");
    is_str(cell(b, last(b), 5), "[1,2]", "raw array");

    char deeper[40000];
    n = 0;
    n += (size_t)sprintf(deeper + n, "{\"skip\":");
    for (int i = 0; i < 10000; i++)
        deeper[n++] = '[';
    for (int i = 0; i < 10000; i++)
        deeper[n++] = ']';
    deeper[n++] = '}';
    deeper[n] = 0;
    is_int(dec(d, b, deeper, why, sizeof why), -1, "10000 levels rejected");
    ok(strstr(why, "nesting too deep") != NULL, "reason says too deep: %s", why);
    sl_batch_free(b);
    sl_decoder_free(d);
}

static void test_strings(void)
{
    sl_decoder *d = nd(SL_TS_ISO);
    sl_batch *b = sl_batch_new(NC, types, 4);
    char why[256];
    is_int(dec(d, b, "{\"raw\":\"a\\nb\\t\\\"q\\\" \\\\ \\/ \\b\\f\\r\"}", why,
               sizeof why), 1, "simple escapes");
    is_str(cell(b, 0, 5), "a\nb\t\"q\" \\ / \b\f\r", "escapes decoded");
    is_int(dec(d, b, "{\"raw\":\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00!\"}", why,
               sizeof why), 1, "\\u escapes");
    is_str(cell(b, 1, 5), "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80!",
           "BMP and surrogate pair to UTF-8");
    is_int(dec(d, b, "{\"raw\":\"\\ud83d x \\ude00\"}", why, sizeof why), -1,
           "lone surrogates reject the record");
    is_str(why, "column raw: text is not valid UTF-8", "the reason names the column");
    is_int(dec(d, b, "{\"raw\":\"surrogates \\uD83D\\uDE00 in a pair\"}", why,
               sizeof why), 1, "a surrogate pair in capitals");
    is_str(cell(b, 2, 5), "surrogates \xF0\x9F\x98\x80 in a pair", "one character");
    is_int(dec(d, b, "{\"r\\u0061w\":\"by escaped key\"}", why, sizeof why), 1,
           "escaped key");
    is_str(cell(b, 3, 5), "by escaped key", "escaped key matched");
    is_int(dec(d, b, "{\"raw\":\"caf\xC3\xA9\"}", why, sizeof why), 1, "raw UTF-8");
    is_str(cell(b, 4, 5), "caf\xC3\xA9", "raw UTF-8 kept");
    is_int(dec(d, b, "{\"raw\":\"\"}", why, sizeof why), 1, "empty string");
    is_str(cell(b, 5, 5), "", "empty string is not NULL");
    is_int(dec(d, b, "{\"id\":\"\\u0034\\u0032\"}", why, sizeof why), 1,
           "escaped digits as BIGINT text");
    is_str(cell(b, 6, 0), "42", "unescaped then converted");
    sl_batch_free(b);
    sl_decoder_free(d);
}

/* TEXT is valid UTF-8 without NUL: a value that is not rejects the record
** naming the column; other values, and fields no column wants, may hold
** such bytes. */
static void test_text_validity(void)
{
    sl_decoder *d = nd(SL_TS_ISO);
    sl_batch *b = sl_batch_new(NC, types, 4);
    char why[256];
    static const struct {
        const char *rec, *why;
    } bad[] = {
        {"{\"raw\":\"a\\u0000b\"}", "column raw: text holds a NUL byte"},
        {"{\"raw\":\"\\ud800\"}", "column raw: text is not valid UTF-8"},
        {"{\"raw\":\"\\udc00x\"}", "column raw: text is not valid UTF-8"},
        {"{\"raw\":\"caf\xE9\"}", "column raw: text is not valid UTF-8"},
        {"{\"raw\":\"\xC0\xAF\"}", "column raw: text is not valid UTF-8"},
        {"{\"raw\":\"\xED\xA0\x80\"}", "column raw: text is not valid UTF-8"},
        {"{\"raw\":\"\xF4\x90\x80\x80\"}", "column raw: text is not valid UTF-8"},
        {"{\"raw\":\"abcdefgh\xE2\x82\"}", "column raw: text is not valid UTF-8"},
        {"{\"user\":{\"name\":\"x\\n\xFF\"}}",
         "column user.name: text is not valid UTF-8"},
        {"{\"raw\":[\"\xFF\"]}", "column raw: text is not valid UTF-8"},
        {"{\"id\":\"\xFF\"}", "column id: cannot convert '?' to BIGINT"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = dec(d, b, bad[i].rec, why, sizeof why);
        ok(rc == -1 && strcmp(why, bad[i].why) == 0, "rejected: %s (%d: %s)",
           bad[i].why, rc, why);
    }
    is_int(b->nrows, 0, "no rows");
    is_int(dec(d, b, "{\"skip\":\"\xFF \\u0000 \\ud800\",\"raw\":\"ok "
               "\xE2\x82\xAC \xF0\x9F\x98\x80\"}", why, sizeof why), 1,
           "bad text in a field no column wants is skipped");
    is_str(cell(b, 0, 5), "ok \xE2\x82\xAC \xF0\x9F\x98\x80", "valid UTF-8 kept");
    sl_batch_free(b);
    sl_decoder_free(d);
}

/* Keys match exactly; a key matching only case-insensitively is taken when
** the record has no exact key for that column, wherever it stands. */
static void test_exact_keys(void)
{
    sl_decoder *d = nd(SL_TS_ISO);
    sl_batch *b = sl_batch_new(NC, types, 4);
    char why[256];
    static const struct {
        const char *rec, *want;
    } cases[] = {
        {"{\"id\":44,\"ID\":45}", "44"},
        {"{\"ID\":45,\"id\":44}", "44"},
        {"{\"ID\":45}", "45"},
        {"{\"Id\":1,\"ID\":2}", "2"},
        {"{\"id\":1,\"id\":2}", "2"},
        {"{\"id\":3,\"Id\":4,\"id\":5,\"ID\":6}", "5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = dec(d, b, cases[i].rec, why, sizeof why);
        ok(rc == 1 && strcmp(cell(b, last(b), 0), cases[i].want) == 0,
           "%s gives id %s (got %s)", cases[i].rec, cases[i].want,
           cell(b, last(b), 0));
    }
    is_int(dec(d, b, "{\"user\":{\"name\":\"exact\",\"NAME\":\"other\"}}", why,
               sizeof why), 1, "nested keys");
    is_str(cell(b, last(b), 1), "exact", "a nested exact key wins");
    is_int(dec(d, b, "{\"ID\":7}", why, sizeof why), 1, "a later record");
    is_str(cell(b, last(b), 0), "7", "an exact key of an earlier record does "
           "not hide this one's");
    sl_batch_free(b);
    sl_decoder_free(d);
}

static void test_conversions(void)
{
    sl_decoder *d = nd(SL_TS_ISO);
    sl_batch *b = sl_batch_new(NC, types, 4);
    char why[256];
    struct {
        const char *rec, *want;
        int col;
    } good[] = {
        {"{\"raw\": 12.50}", "12.50", 5},
        {"{\"raw\": -1e5}", "-1e5", 5},
        {"{\"raw\": true}", "true", 5},
        {"{\"raw\": false}", "false", 5},
        {"{\"id\": 9223372036854775807}", "9223372036854775807", 0},
        {"{\"id\": -9223372036854775808}", "-9223372036854775808", 0},
        {"{\"id\": 1e3}", "1000", 0},
        {"{\"id\": 2.0}", "2", 0},
        {"{\"id\": \"17\"}", "17", 0},
        {"{\"id\": \" 17 \"}", "17", 0},
        {"{\"user\":{\"geo\":{\"lat\": 12.34}}}", "12.34", 2},
        {"{\"user\":{\"geo\":{\"lat\": -0}}}", "-0", 2},
        {"{\"user\":{\"geo\":{\"lat\": 5}}}", "5", 2},
        {"{\"user\":{\"geo\":{\"lat\": \"2.5\"}}}", "2.5", 2},
        {"{\"ok\": false}", "false", 3},
        {"{\"ok\": \"yes\"}", "true", 3},
        {"{\"ts\": \"2026-03-17 23:58:00.250\"}", "2026-03-17 23:58:00.250", 4},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int rc = dec(d, b, good[i].rec, why, sizeof why);
        ok(rc == 1, "%s decodes", good[i].rec);
        if (rc == 1)
            is_str(cell(b, last(b), good[i].col), good[i].want, "  its value");
        else
            printf("#   %s\n", why);
    }
    dec(d, b, "{\"user\":{\"geo\":{\"lat\": 12.34}}}", why, sizeof why);
    ok(b->cols[2].v.d[last(b)] == 12.34, "12.34 exactly as strtod");

    struct {
        const char *rec, *why;
    } badv[] = {
        {"{\"id\": \"abc\"}", "column id: cannot convert 'abc' to BIGINT"},
        {"{\"id\": 1.5}", "column id: cannot convert 1.5 to BIGINT"},
        {"{\"id\": 9223372036854775808}",
         "column id: 9223372036854775808 is out of range for BIGINT"},
        {"{\"id\": 1e30}", "column id: cannot convert 1e30 to BIGINT"},
        {"{\"id\": true}", "column id: cannot convert true to BIGINT"},
        {"{\"id\": {\"a\":1}}", "column id: cannot convert an object to BIGINT"},
        {"{\"id\": [1]}", "column id: cannot convert an array to BIGINT"},
        {"{\"ok\": 1}", "column ok: cannot convert 1 to BOOLEAN"},
        {"{\"user\":{\"geo\":{\"lat\": 1e999}}}",
         "column user.geo.lat: cannot convert 1e999 to DOUBLE"},
        {"{\"ok\": \"perhaps\"}", "column ok: cannot convert 'perhaps' to BOOLEAN"},
        {"{\"user\":{\"geo\":{\"lat\": \"north\"}}}",
         "column user.geo.lat: cannot convert 'north' to DOUBLE"},
        {"{\"ts\": 1773791880000}", "column ts: cannot convert 1773791880000 to TIMESTAMP"},
        {"{\"ts\": \"2026-02-30\"}", "column ts: cannot convert '2026-02-30' to TIMESTAMP"},
        {"{\"user\": {\"name\": \"x\", \"geo\": {\"lat\": \"bad\"}}}",
         "column user.geo.lat: cannot convert 'bad' to DOUBLE"},
    };
    int before = b->nrows;
    for (size_t i = 0; i < sizeof badv / sizeof badv[0]; i++) {
        int rc = dec(d, b, badv[i].rec, why, sizeof why);
        ok(rc == -1, "%s rejected", badv[i].rec);
        is_str(why, badv[i].why, "  with its reason");
    }
    is_int(b->nrows, before, "rejected records add no row");
    sl_decoder_free(d);

    d = nd(SL_TS_EPOCH_MS);
    is_int(dec(d, b, "{\"ts\": 1773791880123}", why, sizeof why), 1, "epoch_ms number");
    is_str(cell(b, last(b), 4), "2026-03-17 23:58:00.123", "epoch_ms value");
    is_int(dec(d, b, "{\"ts\": \"1773791880123\"}", why, sizeof why), 1,
           "epoch_ms numeric text");
    is_str(cell(b, last(b), 4), "2026-03-17 23:58:00.123", "epoch_ms text value");
    is_int(dec(d, b, "{\"ts\": 1.5}", why, sizeof why), -1,
           "fractional epoch_ms rejected");
    sl_decoder_free(d);
    d = nd(SL_TS_EPOCH_S);
    is_int(dec(d, b, "{\"ts\": 1773791880.5}", why, sizeof why), 1,
           "epoch_s fractional number");
    is_str(cell(b, last(b), 4), "2026-03-17 23:58:00.500", "epoch_s value");
    is_int(dec(d, b, "{\"ts\": -86400}", why, sizeof why), 1, "negative epoch_s");
    is_str(cell(b, last(b), 4), "1969-12-31 00:00:00.000", "a day before");
    is_int(dec(d, b, "{\"ts\": 1e400}", why, sizeof why), -1, "huge epoch_s rejected");
    sl_decoder_free(d);
    sl_batch_free(b);
}

static void test_bad_json(void)
{
    sl_decoder *d = nd(SL_TS_ISO);
    sl_batch *b = sl_batch_new(NC, types, 4);
    char why[256];
    struct {
        const char *rec, *why;
    } bad[] = {
        {"{\"id\": 1,}", "invalid JSON at byte 9: expected a string key"},
        {"{\"id\" 1}", "invalid JSON at byte 6: expected ':'"},
        {"{\"id\": 1", "invalid JSON at byte 8: unexpected end of record (expected ',' or '}')"},
        {"{\"id\": 1} x", "invalid JSON at byte 10: unexpected text after the object"},
        {"{\"id\": 1}{}", "invalid JSON at byte 9: unexpected text after the object"},
        {"{\"x\": tru}", "invalid JSON at byte 6: invalid literal"},
        {"{\"x\": 01}", "invalid JSON at byte 7: expected ',' or '}'"},
        {"{\"x\": 1.}", "invalid JSON at byte 8: invalid number"},
        {"{\"x\": -}", "invalid JSON at byte 7: invalid number"},
        {"{\"x\": +1}", "invalid JSON at byte 6: unexpected character"},
        {"{\"x\": \"a\\q\"}", "invalid JSON at byte 8: invalid escape in a string"},
        {"{\"x\": \"\\u12G4\"}", "invalid JSON at byte 7: invalid \\u escape"},
        {"{\"x\": \"a\tb\"}", "invalid JSON at byte 8: control character in a string"},
        {"{\"x\": \"abc", "invalid JSON at byte 10: unexpected end of record (unterminated string)"},
        {"{\"x\": [1 2]}", "invalid JSON at byte 9: expected ',' or ']'"},
        {"{\"x\": {\"a\" 1}}", "invalid JSON at byte 11: expected ':'"},
        {"{\"id\": \"a\nb\"}", "invalid JSON at byte 9: control character in a string"},
        {"{\"user\": {\"name\": 1,}}", "invalid JSON at byte 20: expected a string key"},
        {"[1, 2]", "the record is not a JSON object"},
        {"\"text\"", "the record is not a JSON object"},
        {"42", "the record is not a JSON object"},
        {"null", "the record is not a JSON object"},
        {"hello", "invalid JSON at byte 0: expected '{'"},
        {"{", "invalid JSON at byte 1: unexpected end of record (expected a string key)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = dec(d, b, bad[i].rec, why, sizeof why);
        ok(rc == -1, "bad JSON %zu rejected", i + 1);
        is_str(why, bad[i].why, "  with its reason");
    }
    is_int(b->nrows, 0, "no rows from bad JSON");
    is_int(dec(d, b, "  \r\n", why, sizeof why), 0, "blank line: nothing");
    is_int(dec(d, b, "{}\r\n", why, sizeof why), 1, "empty object with CRLF");
    is_int(dec(d, b, " { \"id\" : 5 } \n", why, sizeof why), 1, "spaces everywhere");
    is_str(cell(b, 1, 0), "5", "value read");

    size_t n = 0;
    const char *s = "{\"a\":1}\n{\"a\":2}";
    ok(sl_decoder_split(d, s, strlen(s), 0, &n) == 1 && n == 8, "split at newline");
    ok(sl_decoder_split(d, s + 8, strlen(s + 8), 0, &n) == 0, "partial held back");
    ok(sl_decoder_split(d, s + 8, strlen(s + 8), 1, &n) == 1 && n == 7,
       "last line at end of input");
    sl_error err;
    sl_error_clear(&err);
    is_int(sl_decoder_header(d, "a,b", 3, &err), 0, "header is a no-op for NDJSON");
    sl_batch_free(b);
    sl_decoder_free(d);

    const char *badnames[] = {"a..b"};
    sl_type t = SL_BIGINT;
    sl_decoder_options o = {SL_FORMAT_NDJSON, 0, 0, SL_TS_ISO, NULL};
    sl_error_clear(&err);
    ok(sl_decoder_new(&o, 1, badnames, &t, &err) == NULL &&
           strstr(err.msg, "empty segment") != NULL,
       "an empty path segment is refused");
}

int main(void)
{
    test_paths();
    test_strings();
    test_text_validity();
    test_exact_keys();
    test_conversions();
    test_bad_json();
    return tap_done();
}
