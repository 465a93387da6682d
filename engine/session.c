/*
** session.c: executing statement text against one database (see session.h).
**
** For each statement: the sluice parser first. sluice's own statements go to
** their handlers (ddl.c for CREATE/DROP, query.c for continuous and push
** queries, here for SHOW and DESCRIBE). A SELECT that reads no source, an
** INSERT, and anything sluice's grammar does not know but SQLite does
** (UPDATE, DELETE, CREATE INDEX, PRAGMA, CTEs, window functions...) is
** handed to SQLite untouched, so sluice never limits what can be asked of
** the materialised tables.
*/
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "engine/session_int.h"
#include "engine/ddl.h"
#include "engine/query.h"
#include "engine/source.h"
#include "engine/functions.h"
#include "grammar/parser.h"
#include "grammar/lexer.h"
#include "storage/db.h"
#include "storage/guard.h"
#include "storage/secrets.h"

/* Opens path as its owner (*owner set), or read-only with *read_only set
** to a malloc'd sentence saying why: another process owns it, it cannot be
** written, or the caller asked. Returns the handle, or NULL with err set. */
static sqlite3 *open_db(const char *path, const sl_session_options *opt,
                        sl_owner **owner, char **read_only, sl_error *err)
{
    *owner = NULL;
    *read_only = NULL;
    if (opt && opt->read_only) {
        if (asprintf(read_only, "database %s was opened read-only on request",
                     path) < 0)
            abort();
    } else {
        /* take the lock before the first write: a process that is not the
        ** owner must not so much as set a PRAGMA on the owner's database */
        *owner = sl_owner_acquire(path, read_only);
        if (*owner != NULL) {
            int cannot_write = 0;
            sl_private_db_create(path);   /* 0600: it holds what sources read */
            sqlite3 *db = sl_db_open(path, &cannot_write, err);
            if (db != NULL)
                return db;
            sl_owner_release(*owner);
            *owner = NULL;
            if (!cannot_write)
                return NULL;
            /* a read-only file: nobody may own it; read it */
            *read_only = strdup(err->msg);
            sl_error_clear(err);
        }
    }
    sqlite3 *db = sl_db_open_read_only(path, err);
    if (db == NULL) {
        char cause[SL_ERROR_MAX];
        snprintf(cause, sizeof cause, "%s", err->msg);
        sl_error_reset(err, -1, "%s (read-only because %s)", cause, *read_only);
        free(*read_only);
        *read_only = NULL;
    }
    return db;
}

sl_session *sl_session_open(const char *path, const sl_session_options *opt,
                            sl_error *err)
{
    sl_owner *owner;
    char *read_only;
    sqlite3 *db = open_db(path, opt, &owner, &read_only, err);
    if (db == NULL)
        return NULL;
    sl_catalog *cat = sl_catalog_load(db, err);
    if (cat == NULL) {
        sl_db_close(db);
        sl_owner_release(owner);
        free(read_only);
        return NULL;
    }
    sl_session *s = calloc(1, sizeof *s);
    if (s == NULL)
        abort();
    s->db = db;
    s->path = strdup(path);
    s->cat = cat;
    s->owner = owner;
    s->read_only = read_only;
    s->out = opt ? opt->out : NULL;
    s->msg = opt && opt->msg ? opt->msg : stderr;
    s->progress = opt ? opt->progress : 0;
    s->settings.batch_rows = 4096;
    s->settings.commit_interval_ms = 1000;
    s->settings.commit_rows = 0;
    s->settings.dedup_within_ms = SL_DEDUP_WITHIN_DEFAULT_MS;
    const char *env;
    if ((env = getenv("SLUICE_BATCH_ROWS")) != NULL && atoi(env) > 0)
        s->settings.batch_rows = atoi(env);
    if ((env = getenv("SLUICE_COMMIT_ROWS")) != NULL && atoll(env) > 0)
        s->settings.commit_rows = atoll(env);
    if ((env = getenv("SLUICE_COMMIT_INTERVAL_MS")) != NULL && atoll(env) > 0)
        s->settings.commit_interval_ms = atoll(env);
    /* only the owner runs the continuous queries */
    if (s->read_only == NULL && sl_query_resume_all(s, err) != 0) {
        sl_session_close(s);
        return NULL;
    }
    return s;
}

const char *sl_session_read_only(const sl_session *s)
{
    return s->read_only;
}

void sl_session_close(sl_session *s)
{
    if (s == NULL)
        return;
    sl_error err;
    sl_error_clear(&err);
    /* one last commit point for every running query, then free them */
    sl_query_commit_all(s, &err);
    while (s->nqueries > 0)
        sl_query_remove(s, s->queries[s->nqueries - 1]);
    free(s->queries);
    free(s->waiting);
    sl_catalog_free(s->cat);
    sl_db_close(s->db);
    /* the lock goes only once the last commit is in the database */
    sl_owner_release(s->owner);
    free(s->read_only);
    free(s->path);
    free(s);
}

void sl_session_interrupt(sl_session *s)
{
    s->interrupted = 1;
}

void sl_session_clear_interrupt(sl_session *s)
{
    s->interrupted = 0;
}

void sl_session_names(sl_session *s, void (*fn)(void *ctx, const char *name),
                      void *ctx)
{
    for (int i = 0; i < s->cat->n; i++)
        fn(ctx, s->cat->objs[i]->name);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT name FROM sqlite_schema WHERE type "
                           "IN ('table','view') ORDER BY name", -1, &st,
                           NULL) == SQLITE_OK)
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *n = (const char *)sqlite3_column_text(st, 0);
            if (sl_catalog_find(s->cat, n) == NULL)
                fn(ctx, n);
        }
    sqlite3_finalize(st);
}

void sl_session_print(sl_session *s, int ncols, const char *const *names,
                      const sl_type *types, int nrows,
                      const char *const *cells)
{
    if (s->out == NULL)
        return;
    sl_output_begin(s->out, ncols, names, types);
    for (int r = 0; r < nrows; r++)
        sl_output_row(s->out, cells + (size_t)r * (size_t)ncols);
    sl_output_end(s->out);
}

static sl_type sqlite_decl_type(sqlite3_stmt *st, int c)
{
    const char *decl = sqlite3_column_decltype(st, c);
    if (decl == NULL)
        return SL_NULL;
    int n = 0;
    while (decl[n] && (isalnum((unsigned char)decl[n]) || decl[n] == '_'))
        n++;
    return sl_type_from_name(decl, n);
}

int sl_session_sqlite(sl_session *s, const char *text, int len, int offset,
                      sl_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sl_guard_prepare(s->db, s->cat, text, len, offset, &st, err);
    if (rc == SQLITE_AUTH && err->set)
        return -1;          /* the guard refused it: sluice's own tables */
    if (rc != SQLITE_OK) {
        int at = sqlite3_error_offset(s->db);
        return sl_error_set(err, at >= 0 ? offset + at : offset, "%s",
                            sqlite3_errmsg(s->db));
    }
    if (st == NULL)
        return 0;   /* only whitespace or comments */
    int ncols = sqlite3_column_count(st);
    const char **names = NULL;
    sl_type *types = NULL;
    const char **cells = NULL;
    int begun = 0;
    if (ncols > 0) {
        names = calloc((size_t)ncols, sizeof *names);
        types = calloc((size_t)ncols, sizeof *types);
        cells = calloc((size_t)ncols, sizeof *cells);
        for (int c = 0; c < ncols; c++) {
            names[c] = sqlite3_column_name(st, c);
            types[c] = sqlite_decl_type(st, c);
        }
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!begun && s->out) {
            for (int c = 0; c < ncols; c++) {
                if (types[c] != SL_NULL)
                    continue;
                switch (sqlite3_column_type(st, c)) {
                case SQLITE_INTEGER: types[c] = SL_BIGINT; break;
                case SQLITE_FLOAT: types[c] = SL_DOUBLE; break;
                default: types[c] = SL_TEXT; break;
                }
            }
            sl_output_begin(s->out, ncols, names, types);
            begun = 1;
        }
        for (int c = 0; c < ncols; c++) {
            if (sqlite3_column_type(st, c) == SQLITE_NULL)
                cells[c] = NULL;
            else
                cells[c] = (const char *)sqlite3_column_text(st, c);
        }
        if (s->out)
            sl_output_row(s->out, cells);
    }
    if (rc == SQLITE_DONE && ncols > 0 && !begun && s->out) {
        for (int c = 0; c < ncols; c++)
            if (types[c] == SL_NULL)
                types[c] = SL_TEXT;
        sl_output_begin(s->out, ncols, names, types);
        begun = 1;
    }
    if (begun)
        sl_output_end(s->out);
    int ret = 0;
    if (rc != SQLITE_DONE) {
        int at = sqlite3_error_offset(s->db);
        ret = sl_error_set(err, at >= 0 ? offset + at : offset, "%s",
                           sqlite3_errmsg(s->db));
    }
    free(names);
    free(types);
    free(cells);
    sqlite3_finalize(st);
    return ret;
}

/* ---- SHOW and DESCRIBE ---------------------------------------------------- */

static void show_objects(sl_session *s, sl_object_kind kind)
{
    /* name, kind, status, sql: for SHOW TABLES also SQLite's own tables */
    const char *names[] = {"name", "kind", "status"};
    sl_type types[] = {SL_TEXT, SL_TEXT, SL_TEXT};
    int cap = s->cat->n + 64, n = 0;
    const char **cells = calloc((size_t)cap * 3, sizeof *cells);
    char **owned = calloc((size_t)cap, sizeof *owned);
    int nowned = 0;
    for (int i = 0; i < s->cat->n; i++) {
        sl_catalog_obj *o = s->cat->objs[i];
        int match = o->kind == kind ||
                    (kind == SL_OBJ_QUERY && (o->kind == SL_OBJ_MVIEW ||
                                              o->kind == SL_OBJ_STABLE ||
                                              o->kind == SL_OBJ_SINK)) ||
                    (kind == SL_OBJ_VIEW && o->kind == SL_OBJ_MVIEW) ||
                    (kind == SL_OBJ_TABLE && o->kind == SL_OBJ_STABLE);
        if (!match)
            continue;
        cells[n * 3] = o->name;
        cells[n * 3 + 1] = sl_object_kind_name(o->kind);
        cells[n * 3 + 2] = o->status;
        n++;
    }
    if (kind == SL_OBJ_TABLE || kind == SL_OBJ_VIEW) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, "SELECT name FROM sqlite_schema WHERE "
                               "type = ?1 AND name NOT LIKE 'sqlite_%' AND "
                               "name NOT LIKE 'sluice_%' ORDER BY name", -1,
                               &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, kind == SL_OBJ_TABLE ? "table" : "view",
                              -1, SQLITE_STATIC);
            while (sqlite3_step(st) == SQLITE_ROW && n < cap) {
                const char *nm = (const char *)sqlite3_column_text(st, 0);
                if (sl_catalog_find(s->cat, nm) != NULL || nowned >= cap)
                    continue;
                owned[nowned] = strdup(nm);
                cells[n * 3] = owned[nowned++];
                cells[n * 3 + 1] = kind == SL_OBJ_TABLE ? "table" : "view";
                cells[n * 3 + 2] = "sqlite";
                n++;
            }
        }
        sqlite3_finalize(st);
    }
    sl_session_print(s, 3, names, types, n, cells);
    for (int i = 0; i < nowned; i++)
        free(owned[i]);
    free(owned);
    free(cells);
}

static int describe(sl_session *s, const sl_stmt *st, sl_error *err)
{
    sl_catalog_obj *o = sl_catalog_find(s->cat, st->name);
    const char *names[] = {"column", "type", "notes"};
    sl_type types[] = {SL_TEXT, SL_TEXT, SL_TEXT};
    if (o != NULL && o->kind == SL_OBJ_SOURCE) {
        sl_source_def *d = sl_source_def_new(o->stmt, err);
        if (d == NULL)
            return -1;
        const char **cells = calloc((size_t)d->ncols * 3, sizeof *cells);
        char note[128], delay[64];
        for (int i = 0; i < d->ncols; i++) {
            cells[i * 3] = d->col_names[i];
            cells[i * 3 + 1] = sl_type_name(d->col_types[i]);
            cells[i * 3 + 2] = NULL;
            if (i == d->event_time_col) {
                snprintf(note, sizeof note, "event time, watermark delay %s",
                         sl_interval_format(d->watermark_delay_ms, delay,
                                            sizeof delay));
                cells[i * 3 + 2] = note;
            } else if (i >= d->ndeclared) {
                cells[i * 3 + 2] = "metadata";
            }
        }
        sl_session_print(s, 3, names, types, d->ncols, cells);
        free(cells);
        sl_source_def_free(d);
        return 0;
    }
    if (!sl_db_relation_exists(s->db, st->name)) {
        char buf[256];
        const char *close = sl_catalog_suggest(s->cat, st->name, buf,
                                               sizeof buf);
        if (close)
            return sl_error_set(err, st->name_offset, "unknown relation "
                                "\"%s\" (did you mean \"%s\"?)", st->name,
                                close);
        return sl_error_set(err, st->name_offset, "unknown relation \"%s\"",
                            st->name);
    }
    char *q = sqlite3_mprintf("SELECT name, type, CASE WHEN pk > 0 THEN "
                              "'primary key' END FROM "
                              "pragma_table_info(%Q)", st->name);
    sqlite3_stmt *ps = NULL;
    int rc = sqlite3_prepare_v2(s->db, q, -1, &ps, NULL);
    sqlite3_free(q);
    if (rc != SQLITE_OK)
        return sl_error_set(err, st->name_offset, "%s", sqlite3_errmsg(s->db));
    int n = 0, cap = 16;
    char **cells = calloc((size_t)cap * 3, sizeof *cells);
    while (sqlite3_step(ps) == SQLITE_ROW) {
        if (n == cap) {
            cap *= 2;
            cells = realloc(cells, sizeof *cells * (size_t)cap * 3);
        }
        for (int c = 0; c < 3; c++) {
            const char *v = (const char *)sqlite3_column_text(ps, c);
            cells[n * 3 + c] = v ? strdup(v) : NULL;
        }
        n++;
    }
    sqlite3_finalize(ps);
    sl_session_print(s, 3, names, types, n, (const char *const *)cells);
    for (int i = 0; i < n * 3; i++)
        free(cells[i]);
    free(cells);
    return 0;
}

/* ---- settings ------------------------------------------------------------- */

int sl_is_setting(const char *key)
{
    return strcasecmp(key, "commit_interval") == 0 ||
           strcasecmp(key, "batch_rows") == 0 ||
           strcasecmp(key, "dedup_within") == 0;
}

int sl_settings_apply(sl_settings *set, const sl_option *o, sl_error *err)
{
    const char *v = o->value;
    size_t n = strlen(v);
    if (strcasecmp(o->key, "commit_interval") == 0) {
        /* '500 milliseconds', '2 seconds', or 'N rows' (for tests) */
        if (n > 5 && strcasecmp(v + n - 4, "rows") == 0) {
            long long rows = atoll(v);
            if (rows <= 0)
                return sl_error_set(err, o->value_offset, "commit_interval "
                                    "in rows must be positive");
            set->commit_rows = rows;
            set->commit_interval_ms = INT64_MAX;
            return 0;
        }
        int64_t ms;
        if (sl_xparse_interval(v, (int)n, &ms) != 0 || ms <= 0)
            return sl_error_set(err, o->value_offset, "commit_interval must "
                                "be a positive interval such as '1 second' or "
                                "'500 milliseconds' (or 'N rows'), not '%s'", v);
        set->commit_interval_ms = ms;
        set->commit_rows = 0;
        return 0;
    }
    if (strcasecmp(o->key, "batch_rows") == 0) {
        long long rows = atoll(v);
        if (rows <= 0 || rows > 1000000)
            return sl_error_set(err, o->value_offset, "batch_rows must be "
                                "between 1 and 1000000");
        set->batch_rows = (int)rows;
        return 0;
    }
    if (strcasecmp(o->key, "dedup_within") == 0) {
        /* how long (in event time) a dedup remembers a key: it changes
        ** results, so it is a query's (its WITH), not a session's */
        int64_t ms;
        if (sl_xparse_interval(v, (int)n, &ms) != 0 || ms <= 0)
            return sl_error_set(err, o->value_offset, "dedup_within must be "
                                "a positive interval such as '1 day' or "
                                "'10 minutes', not '%s'", v);
        set->dedup_within_ms = ms;
        return 0;
    }
    return sl_error_set(err, o->offset, "unknown setting '%s' (commit_interval, "
                        "batch_rows, dedup_within, synchronous)", o->key);
}

/* ---- the statement loop ------------------------------------------------ */

/* 1 when the statement reads a source (so it is sluice's to run). */
int sl_select_reads_source(sl_session *s, const sl_select *sel)
{
    if (sel == NULL || !sel->has_from)
        return 0;
    sl_catalog_obj *o = sl_catalog_find(s->cat, sel->from.name);
    if (o && o->kind == SL_OBJ_SOURCE)
        return 1;
    for (int i = 0; i < sel->njoins; i++) {
        o = sl_catalog_find(s->cat, sel->joins[i].table.name);
        if (o && o->kind == SL_OBJ_SOURCE)
            return 1;
    }
    return 0;
}

/* An unknown relation in a pull query: our message, with a suggestion. */
static int check_relations(sl_session *s, const sl_select *sel, sl_error *err)
{
    const sl_table_ref *refs[64];
    int n = 0;
    if (!sel->has_from)
        return 0;
    refs[n++] = &sel->from;
    for (int i = 0; i < sel->njoins && n < 64; i++)
        refs[n++] = &sel->joins[i].table;
    for (int i = 0; i < n; i++) {
        if (sl_catalog_find(s->cat, refs[i]->name) ||
            sl_db_relation_exists(s->db, refs[i]->name))
            continue;
        char buf[256];
        const char *close = sl_catalog_suggest(s->cat, refs[i]->name, buf,
                                               sizeof buf);
        if (close)
            return sl_error_set(err, refs[i]->offset, "unknown relation "
                                "\"%s\" (did you mean \"%s\"?)",
                                refs[i]->name, close);
        return sl_error_set(err, refs[i]->offset, "unknown relation \"%s\"",
                            refs[i]->name);
    }
    return 0;
}

/* SET synchronous = 'normal' | 'full': how hard each commit is made
** durable (SQLite's PRAGMA synchronous, WAL mode). */
static int set_synchronous(sl_session *s, const sl_option *o, sl_error *err)
{
    const char *v = o->value;
    if (strcasecmp(v, "normal") != 0 && strcasecmp(v, "full") != 0)
        return sl_error_set(err, o->value_offset, "synchronous must be "
                            "'normal' or 'full', not '%s'", v);
    char *sql = sqlite3_mprintf("PRAGMA synchronous = %s", v);
    int rc = sl_db_exec(s->db, sql, err);
    sqlite3_free(sql);
    return rc;
}

/* The first word of statement text z[0..n) after blanks and comments:
** returns it and sets *len to its length (0 when there is none). */
static const char *first_word(const char *z, int n, int *len)
{
    int type = SL_TK_SPACE, w = 0;
    while (n > 0 && (type == SL_TK_SPACE || type == SL_TK_COMMENT)) {
        z += w;
        n -= w;
        w = n > 0 ? sl_get_token(z, n, &type) : 0;
    }
    *len = w;
    return z;
}

/* 1 when text (a statement for SQLite) starts with BEGIN, COMMIT, END,
** ROLLBACK, SAVEPOINT or RELEASE, after blanks and comments. */
static int is_transaction_control(const char *z, int n)
{
    static const char *const words[] = {"BEGIN", "COMMIT", "END", "ROLLBACK",
                                        "SAVEPOINT", "RELEASE"};
    int w;
    z = first_word(z, n, &w);
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if ((int)strlen(words[i]) == w && strncasecmp(z, words[i], (size_t)w) == 0)
            return 1;
    return 0;
}

/* ---- read-only sessions ---------------------------------------------------- */

/* 1 when a statement of sluice's grammar only reads the database and runs
** nothing continuous: what a read-only session may run. SET changes this
** session's settings only. A push query is refused too: it would read the
** owner's sources (a Kafka consumer group's offsets included). */
static int stmt_only_reads(sl_session *s, const sl_stmt *st)
{
    switch (st->kind) {
    case SL_ST_SELECT:
        return !sl_select_reads_source(s, st->select);
    case SL_ST_SHOW:
    case SL_ST_DESCRIBE:
    case SL_ST_EXPLAIN:
    case SL_ST_SET:
        return 1;
    default:
        return 0;
    }
}

/* The error for a statement a read-only session does not run: why the
** session is read-only, and what is refused (the statement's first word). */
static int refuse_write(sl_session *s, const char *z, int n, int offset,
                        int push, sl_error *err)
{
    int w;
    const char *word = first_word(z, n, &w);
    if (push) {
        word = "a push query over a source";
        w = (int)strlen(word);
    }
    return sl_error_set(err, offset + (push ? 0 : (int)(word - z)), "%s: this "
                        "session is read-only, so %.*s is refused (pull "
                        "queries, SHOW, DESCRIBE and EXPLAIN work)",
                        s->read_only, w, word);
}

static int exec_stmt(sl_session *s, sl_stmt *st, const char *text,
                     sl_error *err)
{
    if (s->read_only != NULL && !stmt_only_reads(s, st))
        return refuse_write(s, text + st->offset, st->end - st->offset,
                            st->offset, st->kind == SL_ST_SELECT, err);
    switch (st->kind) {
    case SL_ST_SELECT:
        if (sl_select_reads_source(s, st->select))
            return sl_query_push(s, st, text, err);
        if (sl_session_sqlite(s, text + st->offset, st->end - st->offset,
                              st->offset, err) != 0) {
            sl_error perr;
            sl_error_clear(&perr);
            if (check_relations(s, st->select, &perr) != 0)
                sl_error_reset(err, perr.offset, "%s", perr.msg);
            return -1;
        }
        return 0;
    case SL_ST_INSERT:
        return sl_session_sqlite(s, text + st->offset, st->end - st->offset,
                                 st->offset, err);
    case SL_ST_SHOW:
        show_objects(s, st->object);
        return 0;
    case SL_ST_DESCRIBE:
        return describe(s, st, err);
    case SL_ST_EXPLAIN:
        return sl_query_explain(s, st->inner, text, err);
    case SL_ST_COPY:
        return sl_ddl_copy(s, st, err);
    case SL_ST_DROP:
        return sl_ddl_drop(s, st, err);
    case SL_ST_ALTER_RESUME:
        return sl_query_resume_failed(s, st, err);
    case SL_ST_SET:
        if (strcasecmp(st->opts[0].key, "synchronous") == 0)
            return set_synchronous(s, &st->opts[0], err);
        if (strcasecmp(st->opts[0].key, "dedup_within") == 0)
            return sl_error_set(err, st->opts[0].offset, "dedup_within is a "
                                "setting of one query (it changes its "
                                "results): give it in the query's WITH "
                                "(dedup_within = '...')");
        return sl_settings_apply(&s->settings, &st->opts[0], err);
    case SL_ST_CREATE_SOURCE:
    case SL_ST_CREATE_TABLE:
    case SL_ST_CREATE_VIEW:
    case SL_ST_CREATE_MVIEW:
    case SL_ST_CREATE_STABLE:
    case SL_ST_CREATE_SINK:
        return sl_ddl_create(s, st, text, err);
    }
    return sl_error_set(err, st->offset, "unsupported statement");
}

int sl_session_exec(sl_session *s, const char *text, int len, sl_error *err,
                    int *failed_stmt)
{
    int pos = 0, index = 0;
    for (;;) {
        sl_stmt *st = NULL;
        int start = pos;
        sl_error perr;
        sl_error_clear(&perr);
        int rc = sl_parse_next(text, len, &pos, &st, &perr);
        if (rc == 0)
            return 0;
        index++;
        if (failed_stmt)
            *failed_stmt = index;
        if (rc < 0) {
            /* Not sluice's grammar: maybe SQLite's (CTE, window function,
            ** UPDATE, ...). Keep sluice's error if SQLite rejects it too. */
            int end = pos;
            while (end > start && (text[end - 1] == ';' ||
                                   isspace((unsigned char)text[end - 1])))
                end--;
            while (start < end && isspace((unsigned char)text[start]))
                start++;
            /* sluice owns the transaction: each statement commits when it
            ** ends, and continuous queries share one transaction between
            ** commit points, so a ROLLBACK would take back their results
            ** while their sources have moved on */
            if (is_transaction_control(text + start, end - start))
                return sl_error_set(err, start, "sluice commits for you (each "
                                    "statement when it ends, continuous "
                                    "queries at their commit points): "
                                    "BEGIN, COMMIT, ROLLBACK and SAVEPOINT "
                                    "are not accepted");
            sqlite3_stmt *probe = NULL;
            if (sl_guard_prepare(s->db, s->cat, text + start, end - start,
                                 start, &probe, err) == SQLITE_OK &&
                probe != NULL) {
                int writes = !sqlite3_stmt_readonly(probe);
                sqlite3_finalize(probe);
                if (writes && s->read_only != NULL)
                    return refuse_write(s, text + start, end - start, start,
                                        0, err);
                if (sl_session_sqlite(s, text + start, end - start, start,
                                      err) != 0)
                    return -1;
                continue;
            }
            sqlite3_finalize(probe);
            if (err->set)
                return -1;  /* the guard refused it: sluice's own tables */
            sl_error_reset(err, perr.offset, "%s", perr.msg);
            return -1;
        }
        rc = exec_stmt(s, st, text, err);
        sl_stmt_free(st);
        if (rc != 0) {
            sl_error e2;
            sl_error_clear(&e2);
            sl_query_commit_all(s, &e2);
            return -1;
        }
        if (sl_query_commit_all(s, err) != 0)
            return -1;
    }
}

int sl_session_run(sl_session *s, int timeout_ms, sl_error *err)
{
    return sl_query_run_background(s, timeout_ms, err);
}
