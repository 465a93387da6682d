/*
** test_output.c: unit tests of cli/output.c, every mode, with escaping and
** NULLs. Each test formats into an in-memory FILE (open_memstream) and
** compares the exact text.
*/
#include <stdlib.h>
#include <string.h>
#include "cli/output.h"
#include "tap.h"

typedef struct capture {
    char *buf;
    size_t len;
    FILE *f;
    sl_output *o;
} capture;

static void cap_open(capture *c, sl_output_mode mode)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    c->o = sl_output_new(c->f, mode);
}

/* Closes the capture and returns its text (caller frees). */
static char *cap_close(capture *c)
{
    sl_output_free(c->o);
    fclose(c->f);
    return c->buf;
}

static void check(capture *c, const char *want, const char *name)
{
    char *got = cap_close(c);
    is_str(got, want, name);
    free(got);
}

static const char *const names2[] = {"id", "name"};
static const sl_type types2[] = {SL_BIGINT, SL_TEXT};

static void two_rows(sl_output *o)
{
    const char *r1[] = {"1", "alice"};
    const char *r2[] = {"42", NULL};
    sl_output_begin(o, 2, names2, types2);
    sl_output_row(o, r1);
    sl_output_row(o, r2);
    sl_output_end(o);
}

static void test_mode_parse(void)
{
    sl_output_mode m = SL_MODE_TABLE;
    is_int(sl_output_mode_parse("csv", &m), 0, "mode_parse_accepts_csv");
    is_int(m, SL_MODE_CSV, "mode_parse_sets_csv");
    is_int(sl_output_mode_parse("json", &m), 0, "mode_parse_accepts_json");
    is_int(m, SL_MODE_JSON, "mode_parse_sets_json");
    is_int(sl_output_mode_parse("line", &m), 0, "mode_parse_accepts_line");
    is_int(m, SL_MODE_LINE, "mode_parse_sets_line");
    is_int(sl_output_mode_parse("table", &m), 0, "mode_parse_accepts_table");
    is_int(m, SL_MODE_TABLE, "mode_parse_sets_table");
    is_int(sl_output_mode_parse("xml", &m), -1, "mode_parse_rejects_unknown");
    is_int(m, SL_MODE_TABLE, "mode_parse_failure_leaves_mode");
    is_int(sl_output_mode_parse(NULL, &m), -1, "mode_parse_rejects_null");

    capture c;
    cap_open(&c, SL_MODE_CSV);
    is_int(sl_output_get_mode(c.o), SL_MODE_CSV, "get_mode_after_new");
    sl_output_set_mode(c.o, SL_MODE_JSON);
    is_int(sl_output_get_mode(c.o), SL_MODE_JSON, "set_mode_changes_mode");
    free(cap_close(&c));
}

static void test_table(void)
{
    capture c;
    cap_open(&c, SL_MODE_TABLE);
    two_rows(c.o);
    check(&c,
          "+----+-------+\n"
          "| id | name  |\n"
          "+----+-------+\n"
          "|  1 | alice |\n"
          "| 42 | NULL  |\n"
          "+----+-------+\n",
          "table_right_aligns_numbers_and_shows_null");

    /* Wide header centred; control characters escaped; UTF-8 by character. */
    cap_open(&c, SL_MODE_TABLE);
    {
        const char *names[] = {"description", "n"};
        const sl_type types[] = {SL_TEXT, SL_DOUBLE};
        const char *r1[] = {"a\nb", "1.5"};
        const char *r2[] = {"h\xc3\xa9llo", "-20.25"};
        sl_output_begin(c.o, 2, names, types);
        sl_output_row(c.o, r1);
        sl_output_row(c.o, r2);
        sl_output_end(c.o);
    }
    check(&c,
          "+-------------+--------+\n"
          "| description |   n    |\n"
          "+-------------+--------+\n"
          "| a\\nb        |    1.5 |\n"
          "| h\xc3\xa9llo       | -20.25 |\n"
          "+-------------+--------+\n",
          "table_escapes_newline_and_counts_utf8_characters");

    cap_open(&c, SL_MODE_TABLE);
    sl_output_begin(c.o, 2, names2, types2);
    sl_output_end(c.o);
    check(&c,
          "+----+------+\n"
          "| id | name |\n"
          "+----+------+\n"
          "+----+------+\n",
          "table_empty_result_shows_header");

    /* A text column holding digits stays left-aligned; an untyped column
    ** holding a number is right-aligned. */
    cap_open(&c, SL_MODE_TABLE);
    {
        const char *names[] = {"code", "x"};
        const sl_type types[] = {SL_TEXT, SL_NULL};
        const char *r1[] = {"7", "3"};
        const char *r2[] = {"123", "abc"};
        sl_output_begin(c.o, 2, names, types);
        sl_output_row(c.o, r1);
        sl_output_row(c.o, r2);
        sl_output_end(c.o);
    }
    check(&c,
          "+------+-----+\n"
          "| code |  x  |\n"
          "+------+-----+\n"
          "| 7    |   3 |\n"
          "| 123  | abc |\n"
          "+------+-----+\n",
          "table_alignment_follows_type");

    /* Flush prints the rows so far; widths are then fixed. */
    cap_open(&c, SL_MODE_TABLE);
    {
        const char *r1[] = {"1", "ab"};
        const char *r2[] = {"2", "abcdef"};
        sl_output_begin(c.o, 2, names2, types2);
        sl_output_row(c.o, r1);
        sl_output_flush(c.o);
        fflush(c.f);
        is_str(c.buf,
               "+----+------+\n"
               "| id | name |\n"
               "+----+------+\n"
               "|  1 | ab   |\n",
               "table_flush_prints_rows_so_far");
        sl_output_row(c.o, r2);
        sl_output_end(c.o);
    }
    check(&c,
          "+----+------+\n"
          "| id | name |\n"
          "+----+------+\n"
          "|  1 | ab   |\n"
          "|  2 | abcdef |\n"
          "+----+------+\n",
          "table_after_flush_keeps_widths");

    /* Two results in a row each get their own box; many rows grow buffers. */
    cap_open(&c, SL_MODE_TABLE);
    two_rows(c.o);
    {
        const char *names[] = {"v"};
        const sl_type types[] = {SL_BIGINT};
        char buf[32];
        const char *row[] = {buf};
        sl_output_begin(c.o, 1, names, types);
        for (int i = 0; i < 1000; i++) {
            snprintf(buf, sizeof buf, "%d", i);
            sl_output_row(c.o, row);
        }
        sl_output_end(c.o);
    }
    {
        char *got = cap_close(&c);
        ok(strstr(got, "| 42 | NULL  |\n+----+-------+\n+-----+\n|  v  |\n") != NULL,
           "table_second_result_gets_own_box");
        ok(strstr(got, "|   0 |\n|   1 |\n") != NULL &&
           strstr(got, "| 999 |\n+-----+\n") != NULL,
           "table_buffers_many_rows");
        free(got);
    }
}

static void test_csv(void)
{
    capture c;
    cap_open(&c, SL_MODE_CSV);
    two_rows(c.o);
    check(&c, "id,name\n1,alice\n42,\n", "csv_header_rows_and_null_as_empty");

    cap_open(&c, SL_MODE_CSV);
    {
        const char *names[] = {"a,b", "q\"uote"};
        const sl_type types[] = {SL_TEXT, SL_TEXT};
        const char *r1[] = {"x,y", "say \"hi\""};
        const char *r2[] = {"line1\nline2", "cr\rhere"};
        const char *r3[] = {"", NULL};
        const char *r4[] = {" spaced ", "plain"};
        sl_output_begin(c.o, 2, names, types);
        sl_output_row(c.o, r1);
        sl_output_row(c.o, r2);
        sl_output_row(c.o, r3);
        sl_output_row(c.o, r4);
        sl_output_end(c.o);
    }
    check(&c,
          "\"a,b\",\"q\"\"uote\"\n"
          "\"x,y\",\"say \"\"hi\"\"\"\n"
          "\"line1\nline2\",\"cr\rhere\"\n"
          "\"\",\n"
          " spaced ,plain\n",
          "csv_quotes_delimiter_quote_crlf_and_empty_string");

    cap_open(&c, SL_MODE_CSV);
    sl_output_begin(c.o, 2, names2, types2);
    sl_output_end(c.o);
    check(&c, "id,name\n", "csv_empty_result_is_header_only");
}

static void test_json(void)
{
    capture c;
    cap_open(&c, SL_MODE_JSON);
    two_rows(c.o);
    check(&c, "[{\"id\":1,\"name\":\"alice\"},\n{\"id\":42,\"name\":null}]\n",
          "json_array_of_objects_with_null");

    cap_open(&c, SL_MODE_JSON);
    sl_output_begin(c.o, 2, names2, types2);
    sl_output_end(c.o);
    check(&c, "[]\n", "json_empty_result_is_empty_array");

    cap_open(&c, SL_MODE_JSON);
    {
        const char *names[] = {"s", "b", "d", "t", "k\"ey"};
        const sl_type types[] = {SL_TEXT, SL_BOOL, SL_DOUBLE, SL_TIMESTAMP,
                                 SL_BIGINT};
        const char *r1[] = {"q\"b\\s/\n\t\x01", "1", "2.5e3",
                            "2026-03-17 23:58:00.000", "7"};
        const char *r2[] = {"\xc3\xa9", "false", "inf", NULL, "12abc"};
        const char *r3[] = {"123", "0", "-0.5", "x", "01"};
        sl_output_begin(c.o, 5, names, types);
        sl_output_row(c.o, r1);
        sl_output_row(c.o, r2);
        sl_output_row(c.o, r3);
        sl_output_end(c.o);
    }
    check(&c,
          "[{\"s\":\"q\\\"b\\\\s/\\n\\t\\u0001\",\"b\":true,\"d\":2.5e3,"
          "\"t\":\"2026-03-17 23:58:00.000\",\"k\\\"ey\":7},\n"
          "{\"s\":\"\xc3\xa9\",\"b\":false,\"d\":\"inf\",\"t\":null,"
          "\"k\\\"ey\":\"12abc\"},\n"
          "{\"s\":\"123\",\"b\":false,\"d\":-0.5,\"t\":\"x\","
          "\"k\\\"ey\":\"01\"}]\n",
          "json_escapes_strings_and_types_values");
}

static void test_line(void)
{
    capture c;
    cap_open(&c, SL_MODE_LINE);
    {
        const char *names[] = {"id", "long_name"};
        const sl_type types[] = {SL_BIGINT, SL_TEXT};
        const char *r1[] = {"1", "x"};
        const char *r2[] = {"2", NULL};
        sl_output_begin(c.o, 2, names, types);
        sl_output_row(c.o, r1);
        sl_output_row(c.o, r2);
        sl_output_end(c.o);
    }
    check(&c,
          "       id = 1\n"
          "long_name = x\n"
          "\n"
          "       id = 2\n"
          "long_name = NULL\n",
          "line_aligns_names_and_separates_rows");

    cap_open(&c, SL_MODE_LINE);
    sl_output_begin(c.o, 2, names2, types2);
    sl_output_end(c.o);
    check(&c, "", "line_empty_result_prints_nothing");
}

static void test_mode_switch_ends_result(void)
{
    capture c;
    cap_open(&c, SL_MODE_JSON);
    {
        const char *r1[] = {"1", "a"};
        sl_output_begin(c.o, 2, names2, types2);
        sl_output_row(c.o, r1);
        sl_output_set_mode(c.o, SL_MODE_CSV);
        two_rows(c.o);
    }
    check(&c, "[{\"id\":1,\"name\":\"a\"}]\nid,name\n1,alice\n42,\n",
          "set_mode_ends_open_result");
}

int main(void)
{
    test_mode_parse();
    test_table();
    test_csv();
    test_json();
    test_line();
    test_mode_switch_ends_result();
    return tap_done();
}
