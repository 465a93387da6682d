/*
** source.c: CREATE SOURCE checked into an sl_source_def (see source.h).
**
** Owns the list of options each connector accepts, so an unknown or
** misspelt option is caught when the source is created, not when a query
** first reads it.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "engine/source.h"
#include "connectors/kafka_source.h"
#include "connectors/nexmark_source.h"
#include "storage/catalog.h"

static const char *const file_options[] = {
    "connector", "path", "format", "header", "delimiter", "follow",
    "timestamp_format", "max_record_bytes", NULL
};
static const char *const kafka_options[] = {
    "connector", "brokers", "topic", "group_id", "start", "until", "format",
    "header", "delimiter", "timestamp_format", "idle_timeout", NULL
};

static const char *const nexmark_options[] = {
    "connector", "kind", "events", "seed", "event_rate", "start_time", NULL
};

static const char *const kafka_pseudo[] = {"_key", "_partition", "_offset",
                                           "_timestamp"};
static const sl_type kafka_pseudo_types[] = {SL_TEXT, SL_BIGINT, SL_BIGINT,
                                             SL_TIMESTAMP};

void sl_source_def_free(sl_source_def *d)
{
    if (d == NULL)
        return;
    free(d->name);
    for (int i = 0; i < d->ncols; i++)
        free(d->col_names[i]);
    free(d->col_names);
    free(d->col_types);
    free(d->col_not_null);
    free(d->path);
    free(d);
}

int sl_source_def_column(const sl_source_def *d, const char *name)
{
    for (int i = 0; i < d->ncols; i++)
        if (strcasecmp(d->col_names[i], name) == 0)
            return i;
    return -1;
}

static void add_col(sl_source_def *d, const char *name, sl_type t,
                    int not_null)
{
    d->col_names = realloc(d->col_names, sizeof(char *) * (size_t)(d->ncols + 1));
    d->col_types = realloc(d->col_types, sizeof(sl_type) * (size_t)(d->ncols + 1));
    d->col_not_null = realloc(d->col_not_null, (size_t)(d->ncols + 1));
    if (d->col_names == NULL || d->col_types == NULL || d->col_not_null == NULL)
        abort();
    d->col_names[d->ncols] = strdup(name);
    d->col_types[d->ncols] = t;
    d->col_not_null[d->ncols] = (unsigned char)(not_null != 0);
    d->ncols++;
}

sl_source_def *sl_source_def_table(const char *name, struct sqlite3 *db,
                                   int n, char *const *names,
                                   const sl_type *types, int window_end_col,
                                   const sl_stmt *stmt)
{
    sl_source_def *d = sl_xcalloc(1, sizeof *d);
    d->name = strdup(name);
    d->connector = SL_CONN_TABLE;
    d->db = db;
    d->stmt = stmt;
    d->event_time_col = -1;
    d->window_end_col = window_end_col;
    for (int i = 0; i < n; i++)
        add_col(d, names[i], types[i], 0);
    d->ndeclared = n;
    if (window_end_col >= 0)
        add_col(d, "window_time", SL_TIMESTAMP, 0);
    return d;
}

/* Parses a boolean option value; returns 0/1, or -1 when it is not one. */
static int option_bool(const sl_option *o)
{
    if (strcasecmp(o->value, "true") == 0 || strcmp(o->value, "1") == 0)
        return 1;
    if (strcasecmp(o->value, "false") == 0 || strcmp(o->value, "0") == 0)
        return 0;
    return -1;
}

/* Parses a positive byte count (digits, or with a KiB/MiB/GiB suffix, 1
** KiB to 1 GiB); returns 0, or -1 with err at the value. */
static int option_bytes(const sl_option *o, size_t *out, sl_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(o->value, &end, 10);
    unsigned long long unit = 1;
    if (strcasecmp(end, "KiB") == 0)
        unit = 1ull << 10;
    else if (strcasecmp(end, "MiB") == 0)
        unit = 1ull << 20;
    else if (strcasecmp(end, "GiB") == 0)
        unit = 1ull << 30;
    else if (*end != 0)
        unit = 0;
    if (unit == 0 || end == o->value || o->value[0] == '-' || errno != 0 ||
        v > (1ull << 30) / unit || v * unit < 1024)
        return sl_error_set(err, o->value_offset, "%s must be a number of "
                            "bytes from 1024 to 1 GiB (such as '1048576' or "
                            "'4MiB'), not '%s'", o->key, o->value);
    *out = (size_t)(v * unit);
    return 0;
}

/* Appends "a, b, c" (the allowed names) to out, bounded by cap. */
static void list_names(char *out, size_t cap, const char *const *names)
{
    size_t n = 0;
    out[0] = 0;
    for (int k = 0; names[k] && n + 1 < cap; k++) {
        int w = snprintf(out + n, cap - n, "%s%s", k ? ", " : "", names[k]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

int sl_options_check(const sl_stmt *s, const char *const *allowed,
                     int kafka_props, const char *what, sl_error *err)
{
    for (int i = 0; i < s->nopts; i++) {
        const sl_option *o = &s->opts[i];
        int ok = kafka_props && strncasecmp(o->key, "kafka.", 6) == 0;
        const char *close = NULL;
        for (int k = 0; allowed[k] && !ok; k++) {
            if (strcasecmp(allowed[k], o->key) == 0)
                ok = 1;
            else if (sl_edit_distance(allowed[k], o->key, 2) <= 2)
                close = allowed[k];
        }
        if (!ok) {
            if (close)
                return sl_error_set(err, o->offset, "unknown option '%s' for "
                                    "%s (did you mean '%s'?)", o->key, what,
                                    close);
            char names[512];
            list_names(names, sizeof names, allowed);
            return sl_error_set(err, o->offset, "unknown option '%s' for %s "
                                "(accepted: %s%s)", o->key, what, names,
                                kafka_props ? ", 'kafka.<property>'" : "");
        }
        for (int j = 0; j < i; j++)
            if (strcasecmp(s->opts[j].key, o->key) == 0)
                return sl_error_set(err, o->offset, "option '%s' is given "
                                    "twice", o->key);
    }
    return 0;
}

int sl_decode_options_check(const sl_stmt *s, const char *path,
                            sl_decoder_options *d, sl_error *err)
{
    const sl_option *o;
    d->delimiter = ',';
    d->header = 1;
    d->format = SL_FORMAT_CSV;
    d->ts_format = SL_TS_ISO;
    if (path) {
        size_t n = strlen(path);
        if ((n > 5 && strcasecmp(path + n - 5, ".json") == 0) ||
            (n > 7 && strcasecmp(path + n - 7, ".ndjson") == 0) ||
            (n > 6 && strcasecmp(path + n - 6, ".jsonl") == 0))
            d->format = SL_FORMAT_NDJSON;
    }
    if ((o = sl_stmt_option(s, "format")) != NULL) {
        if (strcasecmp(o->value, "csv") == 0)
            d->format = SL_FORMAT_CSV;
        else if (strcasecmp(o->value, "ndjson") == 0 ||
                 strcasecmp(o->value, "json") == 0)
            d->format = SL_FORMAT_NDJSON;
        else
            return sl_error_set(err, o->value_offset, "format must be 'csv' "
                                "or 'ndjson' (or 'json'), not '%s'", o->value);
    }
    if ((o = sl_stmt_option(s, "header")) != NULL) {
        int b = option_bool(o);
        if (b < 0)
            return sl_error_set(err, o->value_offset, "header must be true "
                                "or false");
        d->header = b;
    }
    if ((o = sl_stmt_option(s, "delimiter")) != NULL) {
        const char *v = o->value;
        if (strcmp(v, "\\t") == 0 || strcasecmp(v, "tab") == 0)
            d->delimiter = '\t';
        else if (strlen(v) == 1 && v[0] != '"' && v[0] != '\n' && v[0] != '\r')
            d->delimiter = v[0];
        else
            return sl_error_set(err, o->value_offset, "delimiter must be one "
                                "character (or '\\t'), not '%s'", v);
    }
    if ((o = sl_stmt_option(s, "timestamp_format")) != NULL) {
        if (strcasecmp(o->value, "iso") == 0 ||
            strcasecmp(o->value, "iso8601") == 0)
            d->ts_format = SL_TS_ISO;
        else if (strcasecmp(o->value, "epoch_ms") == 0)
            d->ts_format = SL_TS_EPOCH_MS;
        else if (strcasecmp(o->value, "epoch_s") == 0)
            d->ts_format = SL_TS_EPOCH_S;
        else
            return sl_error_set(err, o->value_offset, "timestamp_format must "
                                "be 'iso', 'epoch_ms' or 'epoch_s', not '%s'",
                                o->value);
    }
    return 0;
}

static int check_watermark(const sl_stmt *s, sl_source_def *d, sl_error *err)
{
    d->event_time_col = -1;
    if (s->watermark_col == NULL)
        return 0;
    int c = sl_source_def_column(d, s->watermark_col);
    if (c < 0)
        return sl_error_set(err, s->watermark_offset, "WATERMARK names "
                            "column \"%s\", which the source does not have",
                            s->watermark_col);
    if (d->col_types[c] != SL_TIMESTAMP)
        return sl_error_set(err, s->watermark_offset, "the event-time column "
                            "\"%s\" must be a TIMESTAMP, not %s",
                            s->watermark_col, sl_type_name(d->col_types[c]));
    const sl_expr *e = s->watermark_expr;
    int64_t delay = 0;
    if (e == NULL || (e->kind == SL_EX_COLUMN &&
                      strcasecmp(e->name, s->watermark_col) == 0)) {
        delay = 0;
    } else if (e->kind == SL_EX_BINARY && e->op == SL_OP_SUB &&
               e->args[0]->kind == SL_EX_COLUMN &&
               strcasecmp(e->args[0]->name, s->watermark_col) == 0 &&
               e->args[1]->kind == SL_EX_LITERAL &&
               e->args[1]->lit_type == SL_INTERVAL &&
               e->args[1]->lit_i >= 0) {
        delay = e->args[1]->lit_i;
    } else {
        return sl_error_set(err, e->offset, "the watermark must be written "
                            "%s - INTERVAL '<n>' <unit> (or just %s)",
                            s->watermark_col, s->watermark_col);
    }
    d->event_time_col = c;
    d->watermark_delay_ms = delay;
    return 0;
}

sl_source_def *sl_source_def_new(const sl_stmt *s, sl_error *err)
{
    sl_source_def *d = calloc(1, sizeof *d);
    if (d == NULL)
        abort();
    d->name = strdup(s->name);
    d->stmt = s;
    d->event_time_col = -1;
    if (s->ncols == 0) {
        sl_error_set(err, s->name_offset, "source %s has no columns", s->name);
        goto fail;
    }
    for (int i = 0; i < s->ncols; i++) {
        const sl_column_def *c = &s->cols[i];
        if (c->type == SL_NULL || c->type == SL_INTERVAL) {
            sl_error_set(err, c->type_offset, "unknown column type %s (use "
                         "BOOLEAN, BIGINT, DOUBLE, TEXT or TIMESTAMP)",
                         c->type_name ? c->type_name : "?");
            goto fail;
        }
        if (sl_source_def_column(d, c->name) >= 0) {
            sl_error_set(err, c->offset, "column \"%s\" is declared twice",
                         c->name);
            goto fail;
        }
        add_col(d, c->name, c->type, c->not_null);
    }
    d->ndeclared = d->ncols;

    const sl_option *conn = sl_stmt_option(s, "connector");
    if (conn == NULL) {
        sl_error_set(err, s->name_offset, "source %s needs WITH (connector = "
                     "'file', 'kafka' or 'nexmark', ...)", s->name);
        goto fail;
    }
    if (strcasecmp(conn->value, "file") == 0) {
        d->connector = SL_CONN_FILE;
        if (sl_options_check(s, file_options, 0, "connector 'file'", err) != 0)
            goto fail;
        const sl_option *p = sl_stmt_option(s, "path");
        if (p == NULL || p->value[0] == 0) {
            sl_error_set(err, conn->offset, "a file source needs path = "
                         "'<file or glob>'");
            goto fail;
        }
        d->path = strdup(p->value);
        const sl_option *f = sl_stmt_option(s, "follow");
        if (f != NULL) {
            int b = option_bool(f);
            if (b < 0) {
                sl_error_set(err, f->value_offset, "follow must be true or "
                             "false");
                goto fail;
            }
            d->follow = b;
        }
        if ((f = sl_stmt_option(s, "max_record_bytes")) != NULL &&
            option_bytes(f, &d->max_record_bytes, err) != 0)
            goto fail;
    } else if (strcasecmp(conn->value, "kafka") == 0) {
        d->connector = SL_CONN_KAFKA;
        if (sl_options_check(s, kafka_options, 1, "connector 'kafka'", err) != 0 ||
            sl_kafka_source_check(s, err) != 0)
            goto fail;
        for (int i = 0; i < 4; i++) {
            if (sl_source_def_column(d, kafka_pseudo[i]) >= 0) {
                sl_error_set(err, s->name_offset, "column name %s is "
                             "reserved for Kafka metadata", kafka_pseudo[i]);
                goto fail;
            }
            add_col(d, kafka_pseudo[i], kafka_pseudo_types[i], 0);
        }
        if (sl_stmt_option(s, "brokers") == NULL ||
            sl_stmt_option(s, "topic") == NULL) {
            sl_error_set(err, conn->offset, "a kafka source needs brokers = "
                         "'<host:port>' and topic = '<name>'");
            goto fail;
        }
    } else if (strcasecmp(conn->value, "nexmark") == 0) {
        d->connector = SL_CONN_NEXMARK;
        if (sl_options_check(s, nexmark_options, 0, "connector 'nexmark'", err) != 0 ||
            sl_nexmark_source_check(s, d, err) != 0)
            goto fail;
    } else {
        sl_error_set(err, conn->value_offset, "unknown connector '%s' (use "
                     "'file', 'kafka' or 'nexmark')", conn->value);
        goto fail;
    }
    if (sl_decode_options_check(s, d->path, &d->decode, err) != 0 ||
        check_watermark(s, d, err) != 0)
        goto fail;
    d->decode.not_null = d->col_not_null;
    return d;
fail:
    sl_source_def_free(d);
    return NULL;
}
