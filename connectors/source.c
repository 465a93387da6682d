/*
** source.c: opening a source connector by its definition, and the file
** connector behind the common source interface (see source.h).
*/
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "connectors/source.h"
#include "connectors/nexmark_source.h"

typedef struct file_src {
    sl_source base;
    sl_file_source *fs;
} file_src;

static int f_next(sl_source *s, sl_batch *b, int max_rows, sl_reject_fn reject,
                  void *ctx, int *done, sl_error *err)
{
    return sl_file_source_next(((file_src *)s)->fs, b, max_rows, reject, ctx,
                               done, err);
}

static char *f_position(const sl_source *s)
{
    return sl_file_source_position(((const file_src *)s)->fs);
}

static int f_seek(sl_source *s, const char *pos, sl_error *err)
{
    return sl_file_source_seek(((file_src *)s)->fs, pos, err);
}

static double f_progress(const sl_source *s)
{
    return sl_file_source_progress(((const file_src *)s)->fs);
}

static char *f_location(const sl_source *s, const sl_rowloc *loc)
{
    const char *file = sl_file_source_file_name(((const file_src *)s)->fs,
                                                loc->part);
    char *m = sqlite3_mprintf("%s:%lld", file ? file : "?", (long long)loc->line);
    char *r = m ? strdup(m) : NULL;
    sqlite3_free(m);
    return r;
}

static void f_close(sl_source *s)
{
    sl_file_source_close(((file_src *)s)->fs);
    free(s);
}

static const sl_source_vtab file_vtab = {
    "file", f_next, f_position, f_seek, f_progress, f_location, NULL, NULL,
    f_close
};

static sl_source *file_open(const sl_source_def *def, sl_error *err)
{
    sl_file_source_options fo = {def->path, def->follow, def->decode,
                                  def->max_record_bytes};
    sl_file_source *fs = sl_file_source_open(&fo, def->ndeclared,
                                             (const char *const *)def->col_names,
                                             def->col_types, err);
    if (fs == NULL)
        return NULL;
    file_src *f = calloc(1, sizeof *f);
    if (f == NULL)
        abort();
    f->base.vt = &file_vtab;
    f->fs = fs;
    return &f->base;
}

sl_source *sl_source_open(const sl_source_def *def, const char *query,
                          sl_error *err)
{
    if (def->connector == SL_CONN_KAFKA)
        return sl_kafka_source_open(def, query, err);
    if (def->connector == SL_CONN_NEXMARK)
        return sl_nexmark_source_open(def, err);
    if (def->connector == SL_CONN_TABLE)
        return sl_table_source_open(def, err);
    return file_open(def, err);
}

void sl_source_close(sl_source *src)
{
    if (src != NULL)
        src->vt->close(src);
}
