/*
** sink.c: the file, stdout and blackhole sinks, and opening a sink by its
** connector (see sink.h).
**
** File sink: NDJSON (default) or CSV records appended to one file. At each
** commit point the file is flushed (and fsynced) and its size returned as
** the position saved with the query's commit; after a crash, resume()
** truncates the file back to that size, dropping records of the interval
** that did not commit, which the query then produces again: exactly-once.
** stdout sink: NDJSON or CSV lines on standard output (at-least-once).
** blackhole sink: discards the rows (the query still counts them in
** sluice_metrics), as Flink's Nexmark queries write to 'blackhole'.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "connectors/sink.h"
#include "engine/source.h"

typedef struct file_sink {
    sl_sink base;
    FILE *f;
    char *path;
    int csv;
    int header_done;
    int is_stdout;
    sl_buf line;
} file_sink;

static void csv_field(sl_buf *out, const char *z, int n)
{
    int quote = 0;
    for (int i = 0; i < n; i++)
        if (z[i] == ',' || z[i] == '"' || z[i] == '\n' || z[i] == '\r')
            quote = 1;
    if (!quote) {
        sl_buf_put(out, z, (size_t)n);
        return;
    }
    sl_buf_put(out, "\"", 1);
    for (int i = 0; i < n; i++) {
        if (z[i] == '"')
            sl_buf_put(out, "\"", 1);
        sl_buf_put(out, &z[i], 1);
    }
    sl_buf_put(out, "\"", 1);
}

static int fs_write(sl_sink *k, const sl_batch *rows, int ncols,
                    char *const *names, int is_delete, sl_error *err)
{
    file_sink *s = (file_sink *)k;
    sl_buf *l = &s->line;
    for (int r = 0; r < rows->nrows; r++) {
        l->n = 0;
        if (s->csv) {
            if (!s->header_done) {
                for (int c = 0; c < ncols; c++) {
                    if (c)
                        sl_buf_put(l, ",", 1);
                    csv_field(l, names[c], (int)strlen(names[c]));
                }
                sl_buf_put(l, "\n", 1);
                s->header_done = 1;
            }
            for (int c = 0; c < ncols; c++) {
                char buf[64];
                int len = 0;
                const char *v = sl_column_text(&rows->cols[c], r, buf, &len);
                if (c)
                    sl_buf_put(l, ",", 1);
                if (v)
                    csv_field(l, v, len);
            }
        } else {
            sl_row_to_json(rows, r, ncols, names, l);
            if (is_delete) {
                l->n--;     /* the closing brace */
                sl_buf_put(l, ",\"_deleted\":true}", 17);
            }
        }
        sl_buf_put(l, "\n", 1);
        if (fwrite(l->z, 1, l->n, s->f) != l->n)
            return sl_error_set(err, -1, "cannot write to %s: %s", s->path,
                                strerror(errno));
    }
    return 0;
}

static int fs_commit(sl_sink *k, char **position, sl_error *err)
{
    file_sink *s = (file_sink *)k;
    *position = NULL;
    if (fflush(s->f) != 0)
        return sl_error_set(err, -1, "cannot write to %s: %s", s->path,
                            strerror(errno));
    if (s->is_stdout)
        return 0;
    if (fsync(fileno(s->f)) != 0)
        return sl_error_set(err, -1, "cannot sync %s: %s", s->path,
                            strerror(errno));
    long size = ftell(s->f);
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", size);
    *position = strdup(buf);
    return 0;
}

static int fs_resume(sl_sink *k, const char *position, sl_error *err)
{
    file_sink *s = (file_sink *)k;
    if (s->is_stdout || position == NULL)
        return 0;
    char *end;
    long size = strtol(position, &end, 10);
    if (*end != 0 || size < 0)
        return sl_error_set(err, -1, "bad saved position '%s' for %s",
                            position, s->path);
    fflush(s->f);
    if (ftruncate(fileno(s->f), size) != 0 || fseek(s->f, size, SEEK_SET) != 0)
        return sl_error_set(err, -1, "cannot roll %s back to its last "
                            "commit: %s", s->path, strerror(errno));
    s->header_done = size > 0;
    return 0;
}

static void fs_close(sl_sink *k)
{
    file_sink *s = (file_sink *)k;
    if (s->f != NULL && !s->is_stdout)
        fclose(s->f);
    else if (s->f != NULL)
        fflush(s->f);
    sl_buf_free(&s->line);
    free(s->path);
    free(s);
}

static const sl_sink_vtab file_vtab = {
    "file", fs_write, fs_commit, fs_resume, fs_close
};

/* ---- blackhole: rows go nowhere ---- */

static int bh_write(sl_sink *k, const sl_batch *rows, int ncols,
                    char *const *names, int is_delete, sl_error *err)
{
    (void)k, (void)rows, (void)ncols, (void)names, (void)is_delete, (void)err;
    return 0;
}

static int bh_commit(sl_sink *k, char **position, sl_error *err)
{
    (void)k, (void)err;
    *position = NULL;
    return 0;
}

static int bh_resume(sl_sink *k, const char *position, sl_error *err)
{
    (void)k, (void)position, (void)err;
    return 0;
}

static void bh_close(sl_sink *k)
{
    free(k);
}

static const sl_sink_vtab blackhole_vtab = {
    "blackhole", bh_write, bh_commit, bh_resume, bh_close
};

/* each sink also takes the query settings commit_interval and batch_rows */
static const char *const file_options[] = {"connector", "path", "format",
                                           "commit_interval", "batch_rows", NULL};
static const char *const stdout_options[] = {"connector", "format",
                                             "commit_interval", "batch_rows", NULL};
static const char *const blackhole_options[] = {"connector", "commit_interval",
                                                "batch_rows", NULL};

static int check_options(const sl_stmt *st, const char *const *allowed,
                         const char *connector, sl_error *err)
{
    char what[64];
    snprintf(what, sizeof what, "a %s sink", connector);
    return sl_options_check(st, allowed, 0, what, err);
}

static int check_format(const sl_stmt *st, int changelog, int *csv,
                        sl_error *err)
{
    const sl_option *f = sl_stmt_option(st, "format");
    *csv = 0;
    if (f == NULL || strcasecmp(f->value, "ndjson") == 0 ||
        strcasecmp(f->value, "json") == 0)
        return 0;
    if (strcasecmp(f->value, "csv") != 0)
        return sl_error_set(err, f->value_offset, "format must be 'ndjson' "
                            "(or 'json') or 'csv', not '%s'", f->value);
    if (changelog)
        return sl_error_set(err, f->value_offset, "a CSV sink cannot carry "
                            "retractions: use format = 'ndjson' or EMIT ON "
                            "WINDOW CLOSE");
    *csv = 1;
    return 0;
}

int sl_sink_check(const sl_stmt *st, int changelog, sl_error *err)
{
    const sl_option *conn = sl_stmt_option(st, "connector");
    int csv;
    if (conn == NULL)
        return sl_error_set(err, st->name_offset, "sink %s needs WITH "
                            "(connector = 'file', 'stdout', 'kafka' or "
                            "'blackhole', ...)", st->name);
    if (strcasecmp(conn->value, "kafka") == 0)
        return sl_kafka_sink_check(st, err);
    if (strcasecmp(conn->value, "file") == 0) {
        if (check_options(st, file_options, "file", err) != 0)
            return -1;
        const sl_option *p = sl_stmt_option(st, "path");
        if (p == NULL || p->value[0] == 0)
            return sl_error_set(err, conn->offset, "a file sink needs path = "
                                "'<file>'");
        return check_format(st, changelog, &csv, err);
    }
    if (strcasecmp(conn->value, "stdout") == 0) {
        if (check_options(st, stdout_options, "stdout", err) != 0)
            return -1;
        return check_format(st, changelog, &csv, err);
    }
    if (strcasecmp(conn->value, "blackhole") == 0)
        return check_options(st, blackhole_options, "blackhole", err);
    return sl_error_set(err, conn->value_offset, "unknown sink connector '%s' "
                        "(use 'file', 'stdout', 'kafka' or 'blackhole')",
                        conn->value);
}

sl_sink *sl_sink_open(const sl_stmt *st, int changelog, sl_error *err)
{
    if (sl_sink_check(st, changelog, err) != 0)
        return NULL;
    const sl_option *conn = sl_stmt_option(st, "connector");
    if (strcasecmp(conn->value, "kafka") == 0)
        return sl_kafka_sink_open(st, changelog, err);
    if (strcasecmp(conn->value, "blackhole") == 0) {
        sl_sink *k = sl_xcalloc(1, sizeof *k);
        k->vt = &blackhole_vtab;
        return k;
    }
    file_sink *s = calloc(1, sizeof *s);
    if (s == NULL)
        abort();
    s->base.vt = &file_vtab;
    check_format(st, changelog, &s->csv, err);
    if (strcasecmp(conn->value, "stdout") == 0) {
        s->is_stdout = 1;
        s->f = stdout;
        s->path = strdup("standard output");
        return &s->base;
    }
    s->path = strdup(sl_stmt_option(st, "path")->value);
    s->f = fopen(s->path, "a+");
    if (s->f == NULL) {
        sl_error_set(err, sl_stmt_option(st, "path")->value_offset, "cannot "
                     "open %s: %s", s->path, strerror(errno));
        fs_close(&s->base);
        return NULL;
    }
    fseek(s->f, 0, SEEK_END);
    s->header_done = ftell(s->f) > 0;
    return &s->base;
}

void sl_sink_close(sl_sink *k)
{
    if (k != NULL)
        k->vt->close(k);
}
