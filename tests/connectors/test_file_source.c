/*
** test_file_source.c: the file source over real files in a mkdtemp
** directory: glob order, a CSV header per file, row locations (file, line,
** byte offset), rejects with file:line and raw text, CRLF, the last line
** without newline, the bounded done flag, progress, follow mode (appended
** lines, a held-back partial line, a new file), and position save/seek
** resuming exactly after the last returned record at every split point.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/tap.h"
#include "tests/connectors/helpers.h"
#include "connectors/file_source.h"

static char dir[256];

static void write_file(const char *name, const char *text, const char *mode)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, mode);
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static const char *names[] = {"id", "name"};
static const sl_type types[] = {SL_BIGINT, SL_TEXT};

typedef struct rejects {
    char text[4096];
    int n;
} rejects;

static void on_reject(void *ctx, const char *file, int64_t line, int64_t offset,
                      const char *raw, size_t rawlen, const char *reason)
{
    rejects *r = ctx;
    const char *base = strrchr(file, '/');
    size_t used = strlen(r->text);
    snprintf(r->text + used, sizeof r->text - used, "%s:%lld@%lld [%.*s] %s\n",
             base ? base + 1 : file, (long long)line, (long long)offset,
             (int)rawlen, raw, reason);
    r->n++;
}

/* max_record_bytes: 0 for the default. */
static sl_file_source *open_src_max(const char *glob, sl_format fmt,
                                    int header, int follow,
                                    size_t max_record_bytes, sl_error *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, glob);
    sl_file_source_options o = {path, follow,
                                {fmt, ',', header, SL_TS_ISO, NULL},
                                max_record_bytes};
    sl_error_clear(err);
    return sl_file_source_open(&o, 2, names, types, err);
}

static sl_file_source *open_src(const char *glob, sl_format fmt, int header,
                                int follow, sl_error *err)
{
    return open_src_max(glob, fmt, header, follow, 0, err);
}

/* Renders every row of b as "part:line@pos id name;" appended to out. */
static void render(const sl_batch *b, char *out, size_t cap)
{
    for (int r = 0; r < b->nrows; r++) {
        size_t used = strlen(out);
        char id[4096];
        snprintf(id, sizeof id, "%s", cell(b, r, 0));
        snprintf(out + used, cap - used, "%d:%lld@%lld %s %s;", b->loc[r].part,
                 (long long)b->loc[r].line, (long long)b->loc[r].pos, id,
                 cell(b, r, 1));
    }
}

static void test_bounded(void)
{
    write_file("a1.csv", "id,name\n1,ann\n2,\"bo\nb\"\n3,cy\n", "w");
    write_file("a2.csv", "name,id\r\ndee,4\r\nbad,x\r\neve,5", "w");
    write_file("a0.txt", "id,name\n99,not matched\n", "w");
    sl_error err;
    sl_file_source *fs = open_src("a*.csv", SL_FORMAT_CSV, 1, 0, &err);
    ok(fs != NULL, "open a*.csv");
    if (fs == NULL)
        return;
    ok(strstr(sl_file_source_file_name(fs, 0), "a1.csv") != NULL, "file 0 is a1.csv");
    ok(strstr(sl_file_source_file_name(fs, 1), "a2.csv") != NULL, "file 1 is a2.csv");
    ok(sl_file_source_file_name(fs, 2) == NULL, "no file 2");
    ok(sl_file_source_progress(fs) == 0.0, "progress 0 at start");
    sl_batch *b = sl_batch_new(2, types, 4);
    rejects rj = {{0}, 0};
    int done = -1;
    int n = sl_file_source_next(fs, b, 2, on_reject, &rj, &done, &err);
    is_int(n, 2, "max_rows respected");
    is_int(done, 0, "not done yet");
    double p = sl_file_source_progress(fs);
    ok(p > 0.0 && p < 1.0, "progress between 0 and 1 (%.3f)", p);
    n = sl_file_source_next(fs, b, 100, on_reject, &rj, &done, &err);
    is_int(n, 3, "the other rows");
    is_int(done, 1, "done after everything");
    char out[2048] = "";
    render(b, out, sizeof out);
    is_str(out,
           "0:2@8 1 ann;0:3@14 2 bo\nb;0:5@23 3 cy;1:2@9 4 dee;1:4@23 5 eve;",
           "rows in file order with file, line and offset, header per file");
    is_str(rj.text, "a2.csv:3@16 [bad,x] column id: cannot convert 'x' to BIGINT\n",
           "reject with file, line, offset and raw text without CRLF");
    ok(sl_file_source_progress(fs) == 1.0, "progress 1 at end");
    n = sl_file_source_next(fs, b, 100, on_reject, &rj, &done, &err);
    ok(n == 0 && done == 1, "stays done");
    sl_file_source_close(fs);
    sl_batch_free(b);

    fs = open_src("nothing*.csv", SL_FORMAT_CSV, 1, 0, &err);
    ok(fs == NULL, "a bounded glob matching nothing is an error");
    ok(strstr(err.msg, "no file matches") != NULL, "message: %s", err.msg);

    write_file("h1.csv", "x;y\n1\n", "w");
    fs = open_src("h1.csv", SL_FORMAT_CSV, 1, 0, &err);
    b = sl_batch_new(2, types, 4);
    n = sl_file_source_next(fs, b, 100, on_reject, &rj, &done, &err);
    ok(n == -1 && strstr(err.msg, "names none of the columns") != NULL,
       "a header naming no column is an error: %s", err.msg);
    sl_file_source_close(fs);
    sl_batch_free(b);
}

/* Reads everything from fs rendering rows; returns the row count. */
static int drain(sl_file_source *fs, int max_rows, char *out, size_t cap,
                 char **positions, int *npos)
{
    sl_batch *b = sl_batch_new(2, types, 4);
    sl_error err;
    sl_error_clear(&err);
    int total = 0, done = 0;
    while (!done) {
        sl_batch_reset(b);
        int n = sl_file_source_next(fs, b, max_rows, NULL, NULL, &done, &err);
        if (n < 0) {
            printf("# next: %s\n", err.msg);
            break;
        }
        render(b, out, cap);
        total += n;
        if (positions != NULL)
            positions[(*npos)++] = sl_file_source_position(fs);
    }
    sl_batch_free(b);
    return total;
}

static void test_position(void)
{
    write_file("p1.csv", "name,id\nx,1\ny,2\n\nz,3\n", "w");
    write_file("p2.csv", "id,name\n4,\"multi\nline\"\n5,w\nbad\n6,v\n", "w");
    write_file("p3.csv", "id,name\n7,u\n", "w");
    sl_error err;
    char full[4096] = "";
    sl_file_source *fs = open_src("p*.csv", SL_FORMAT_CSV, 1, 0, &err);
    int total = drain(fs, 1000, full, sizeof full, NULL, NULL);
    sl_file_source_close(fs);
    is_int(total, 7, "7 good rows in p*.csv");

    for (int step = 1; step <= 3; step++) {
        char *pos[64];
        int npos = 0;
        char first[4096] = "";
        fs = open_src("p*.csv", SL_FORMAT_CSV, 1, 0, &err);
        drain(fs, step, first, sizeof first, pos, &npos);
        sl_file_source_close(fs);
        is_str(first, full, "reading in small batches gives the same rows");
        int all_ok = 1;
        for (int i = 0; i < npos; i++) {
            /* rows up to position i, then a fresh source from it */
            char before[4096] = "", after[4096] = "";
            fs = open_src("p*.csv", SL_FORMAT_CSV, 1, 0, &err);
            sl_batch *b = sl_batch_new(2, types, 4);
            int done = 0;
            for (int k = 0; k <= i; k++) {
                sl_batch_reset(b);
                sl_file_source_next(fs, b, step, NULL, NULL, &done, &err);
                render(b, before, sizeof before);
            }
            sl_batch_free(b);
            sl_file_source_close(fs);
            fs = open_src("p*.csv", SL_FORMAT_CSV, 1, 0, &err);
            if (sl_file_source_seek(fs, pos[i], &err) < 0) {
                printf("# seek %s: %s\n", pos[i], err.msg);
                all_ok = 0;
            }
            drain(fs, 1000, after, sizeof after, NULL, NULL);
            sl_file_source_close(fs);
            char joined[8192];
            snprintf(joined, sizeof joined, "%s%s", before, after);
            if (strcmp(joined, full) != 0) {
                printf("# step %d pos %s\n#  got  %s\n#  want %s\n", step, pos[i],
                       joined, full);
                all_ok = 0;
            }
            free(pos[i]);
        }
        ok(all_ok, "seek at each of %d positions (batches of %d) continues "
                   "without loss or duplication", npos, step);
    }

    fs = open_src("p*.csv", SL_FORMAT_CSV, 1, 0, &err);
    const char *badpos[] = {"", "v2|0|0|1|x", "v1|a|0|1|x", "v1|0|0|0|x",
                            "v1|0|-5|1|x", "v1|0|0|1", "v1|1|5|1|", "garbage"};
    for (size_t i = 0; i < sizeof badpos / sizeof badpos[0]; i++) {
        sl_error_clear(&err);
        ok(sl_file_source_seek(fs, badpos[i], &err) == -1 &&
               strstr(err.msg, "malformed") != NULL,
           "malformed position '%s' refused", badpos[i]);
    }
    sl_error_clear(&err);
    ok(sl_file_source_seek(fs, "v1|0|3|1|/no/such/file.csv", &err) == -1 &&
           strstr(err.msg, "no longer matches") != NULL,
       "position naming another file refused: %s", err.msg);
    sl_file_source_close(fs);
}

static void test_follow(void)
{
    write_file("f1.ndjson", "{\"id\":1,\"name\":\"a\"}\n{\"id\":2}\n", "w");
    sl_error err;
    sl_file_source *fs = open_src("f*.ndjson", SL_FORMAT_NDJSON, 0, 1, &err);
    ok(fs != NULL, "open follow");
    sl_batch *b = sl_batch_new(2, types, 4);
    rejects rj = {{0}, 0};
    int done = -1;
    is_int(sl_file_source_next(fs, b, 100, on_reject, &rj, &done, &err), 2,
           "existing lines");
    is_int(done, 0, "follow is never done");
    is_int(sl_file_source_next(fs, b, 100, on_reject, &rj, &done, &err), 0,
           "nothing new");
    is_int(done, 0, "still not done");
    write_file("f1.ndjson", "{\"id\":3}\n{\"id\":", "a");
    is_int(sl_file_source_next(fs, b, 100, on_reject, &rj, &done, &err), 1,
           "appended line picked up, partial line held back");
    is_int(sl_file_source_next(fs, b, 100, on_reject, &rj, &done, &err), 0,
           "partial line still held back");
    write_file("f1.ndjson", "4}\r\nnot json\n", "a");
    is_int(sl_file_source_next(fs, b, 100, on_reject, &rj, &done, &err), 1,
           "completed line read");
    is_int(rj.n, 1, "bad appended line rejected");
    write_file("f2.ndjson", "{\"id\":5}\n", "w");
    is_int(sl_file_source_next(fs, b, 100, on_reject, &rj, &done, &err), 1,
           "new file picked up");
    char *pos = sl_file_source_position(fs);
    write_file("f2.ndjson", "{\"id\":6}\n", "a");
    is_int(sl_file_source_next(fs, b, 100, on_reject, &rj, &done, &err), 1,
           "lines appended to the new file");
    char out[2048] = "";
    render(b, out, sizeof out);
    is_str(out, "0:1@0 1 a;0:2@20 2 NULL;0:3@29 3 NULL;0:4@38 4 NULL;"
                "1:1@0 5 NULL;1:2@9 6 NULL;",
           "follow rows with their locations");
    ok(strstr(rj.text, "f1.ndjson:5@48 [not json] invalid JSON at byte 0") != NULL,
       "follow reject located: %s", rj.text);
    is_int(done, 0, "follow never done");
    sl_file_source_close(fs);

    /* resume in follow mode from the saved position */
    fs = open_src("f*.ndjson", SL_FORMAT_NDJSON, 0, 1, &err);
    ok(sl_file_source_seek(fs, pos, &err) == 0, "seek in follow mode");
    sl_batch_reset(b);
    is_int(sl_file_source_next(fs, b, 100, NULL, NULL, &done, &err), 1,
           "resumed follow source reads the line after the position");
    is_str(cell(b, 0, 0), "6", "and it is id 6");
    sl_file_source_close(fs);
    free(pos);

    /* follow over a glob with no file yet */
    fs = open_src("g*.ndjson", SL_FORMAT_NDJSON, 0, 1, &err);
    ok(fs != NULL, "follow with no file yet opens");
    sl_batch_reset(b);
    is_int(sl_file_source_next(fs, b, 100, NULL, NULL, &done, &err), 0,
           "no rows yet");
    write_file("g1.ndjson", "{\"id\":7}", "w");
    is_int(sl_file_source_next(fs, b, 100, NULL, NULL, &done, &err), 0,
           "a line without newline is held back");
    write_file("g2.ndjson", "{\"id\":8}\n", "w");
    is_int(sl_file_source_next(fs, b, 100, NULL, NULL, &done, &err), 2,
           "a later file completes the previous file's last line");
    sl_file_source_close(fs);
    sl_batch_free(b);
}

/* A UTF-8 byte-order mark at the start of a file is not part of its first
** record: NDJSON, CSV without and with a header (the header's first name
** quoted), and in follow mode a mark written one byte at a time. */
static void test_byte_order_mark(void)
{
    write_file("bom1.ndjson", "\xEF\xBB\xBF{\"id\":1,\"name\":\"a\"}\n", "w");
    write_file("bom2.csv", "\xEF\xBB\xBF" "2,b\n", "w");
    write_file("bom3.csv", "\xEF\xBB\xBF\"id\",name\n3,c\n", "w");
    const char *globs[] = {"bom1.ndjson", "bom2.csv", "bom3.csv"};
    const sl_format fmts[] = {SL_FORMAT_NDJSON, SL_FORMAT_CSV, SL_FORMAT_CSV};
    const char *want[] = {"0:1@3 1 a;", "0:1@3 2 b;", "0:2@13 3 c;"};
    for (int i = 0; i < 3; i++) {
        sl_error err;
        sl_file_source *fs = open_src(globs[i], fmts[i], i == 2, 0, &err);
        sl_batch *b = sl_batch_new(2, types, 4);
        rejects rj = {{0}, 0};
        int done = 0;
        int n = sl_file_source_next(fs, b, 100, on_reject, &rj, &done, &err);
        char out[256] = "";
        render(b, out, sizeof out);
        ok(n == 1 && rj.n == 0, "%s: the first record after a BOM is read "
           "(%d rows, rejects: %s)", globs[i], n, rj.text);
        ok(strcmp(out, want[i]) == 0, "%s: the row, its line and offset: %s",
           globs[i], out);
        sl_file_source_close(fs);
        sl_batch_free(b);
    }

    sl_error err;
    sl_file_source *fs = open_src("bomf*.ndjson", SL_FORMAT_NDJSON, 0, 1, &err);
    sl_batch *b = sl_batch_new(2, types, 4);
    rejects rj = {{0}, 0};
    int done = 0;
    write_file("bomf.ndjson", "\xEF", "w");
    is_int(sl_file_source_next(fs, b, 100, on_reject, &rj, &done, &err), 0,
           "follow: one byte of a BOM, nothing yet");
    write_file("bomf.ndjson", "\xBB", "a");
    is_int(sl_file_source_next(fs, b, 100, on_reject, &rj, &done, &err), 0,
           "follow: two bytes of a BOM, nothing yet");
    write_file("bomf.ndjson", "\xBF{\"id\":4}\n", "a");
    is_int(sl_file_source_next(fs, b, 100, on_reject, &rj, &done, &err), 1,
           "follow: the BOM completed, the record is read");
    ok(rj.n == 0, "follow: no dead letter (%s)", rj.text);
    sl_file_source_close(fs);
    sl_batch_free(b);
}

/* One stray quote in a followed CSV file: the record is cut after its
** first line once its quoted field is open max_record_bytes into it, that
** line is a dead letter at file:line, and every later line is read. At the
** end of a bounded file the same cut happens without waiting. */
static void test_stray_quote(void)
{
    write_file("q1.csv", "id,name\n1,a\n2,\"never closed\n", "w");
    sl_error err;
    sl_file_source *fs = open_src_max("q1.csv", SL_FORMAT_CSV, 1, 1, 4096,
                                      &err);
    sl_batch *b = sl_batch_new(2, types, 4);
    rejects rj = {{0}, 0};
    int done = 0;
    is_int(sl_file_source_next(fs, b, 1000, on_reject, &rj, &done, &err), 1,
           "follow: the line before the stray quote");
    char lines[8192] = "";
    for (int i = 3; i < 1000; i++) {
        size_t used = strlen(lines);
        snprintf(lines + used, sizeof lines - used, "%d,line %d\n", i, i);
        if (used > 4200)
            break;
    }
    write_file("q1.csv", lines, "a");
    int n = 0;
    for (int k = 0; k < 3; k++)
        n += sl_file_source_next(fs, b, 1000, on_reject, &rj, &done, &err);
    ok(n > 200, "follow: the lines after the stray quote arrive (%d rows)", n);
    is_str(cell(b, 1, 0), "3", "follow: the first of them is the line after "
           "the stray quote's line");
    is_int(rj.n, 1, "follow: one dead letter");
    ok(strncmp(rj.text, "q1.csv:3@12 [2,\"never closed] column name: "
                        "unterminated quoted field (no closing quote within "
                        "4096 bytes", 77) == 0,
       "follow: the dead letter is the quote's line at file:line: %s",
       rj.text);
    sl_file_source_close(fs);
    sl_batch_free(b);

    write_file("q2.csv", "1,a\n2,\"open\n3,c\n4,d\n", "w");
    fs = open_src("q2.csv", SL_FORMAT_CSV, 0, 0, &err);
    b = sl_batch_new(2, types, 4);
    rejects rj2 = {{0}, 0};
    n = sl_file_source_next(fs, b, 1000, on_reject, &rj2, &done, &err);
    char out[512] = "";
    render(b, out, sizeof out);
    is_str(out, "0:1@0 1 a;0:3@12 3 c;0:4@16 4 d;",
           "bounded: the lines after an unclosed quote are read");
    is_str(rj2.text, "q2.csv:2@4 [2,\"open] column name: unterminated quoted "
           "field\n", "bounded: the quote's line is the dead letter");
    is_int(done, 1, "bounded: done");
    sl_file_source_close(fs);
    sl_batch_free(b);
}

/* A 5 MiB quoted field arriving in 4 KiB appends, polled after each: the
** bytes examined to find the record's end stay linear in its length (the
** scan goes on where it stopped instead of starting over). */
static void test_linear_cost(void)
{
    write_file("big.csv", "1,\"", "w");
    sl_error err;
    sl_file_source *fs = open_src_max("big.csv", SL_FORMAT_CSV, 0, 1,
                                      (size_t)64 << 20, &err);
    sl_batch *b = sl_batch_new(2, types, 4);
    int done = 0;
    static char chunk[4096];
    memset(chunk, 'x', sizeof chunk);
    chunk[sizeof chunk - 1] = 0;
    int64_t total = 3;
    char path[512];
    snprintf(path, sizeof path, "%s/big.csv", dir);
    FILE *f = fopen(path, "a");
    for (int i = 0; i < 1280; i++) {
        fputs(chunk, f);
        fputc(i % 64 == 0 ? '\n' : 'y', f);
        fflush(f);
        total += (int64_t)sizeof chunk;
        sl_file_source_next(fs, b, 100, NULL, NULL, &done, &err);
    }
    fputs("\"\n2,z\n", f);
    fclose(f);
    total += 5;
    int n = sl_file_source_next(fs, b, 100, NULL, NULL, &done, &err);
    is_int(n, 2, "the 5 MiB record and the next are read");
    int64_t scanned = sl_file_source_scanned_bytes(fs);
    ok(scanned <= 2 * total, "bytes examined %lld for %lld bytes of input "
       "(at most twice)", (long long)scanned, (long long)total);
    sl_file_source_close(fs);
    sl_batch_free(b);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sl_fs_test_XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_bounded();
    test_position();
    test_follow();
    test_byte_order_mark();
    test_stray_quote();
    test_linear_cost();
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return tap_done();
}
