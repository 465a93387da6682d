/*
** ddl.c: CREATE (sources, tables, views, materialised views, streaming
** tables), DROP and COPY.
**
** Owns the rules about names and dependencies: one namespace for every
** object; IF NOT EXISTS keeps an existing object and its progress; OR
** REPLACE drops the old object's state and reprocesses from the start; a
** source or table that a continuous query reads cannot be dropped.
*/
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sqlite3.h>
#include "engine/ddl.h"
#include "engine/query.h"
#include "engine/plan.h"
#include "engine/source.h"
#include "connectors/file_source.h"
#include "connectors/sink.h"
#include "grammar/parser.h"
#include "storage/db.h"
#include "storage/guard.h"

static sl_object_kind kind_of_stmt(sl_stmt_kind k)
{
    switch (k) {
    case SL_ST_CREATE_SOURCE: return SL_OBJ_SOURCE;
    case SL_ST_CREATE_TABLE: return SL_OBJ_TABLE;
    case SL_ST_CREATE_VIEW: return SL_OBJ_VIEW;
    case SL_ST_CREATE_MVIEW: return SL_OBJ_MVIEW;
    case SL_ST_CREATE_STABLE: return SL_OBJ_STABLE;
    case SL_ST_CREATE_SINK: return SL_OBJ_SINK;
    default: return SL_OBJ_ANY;
    }
}

/* ---- one transaction per statement ---------------------------------------- */

/* Opens the statement's transaction, unless one is open: everything a DDL
** statement writes (tables, sluice_catalog, a query's state, positions and
** first commit) commits at once, so a kill -9 leaves the old object or the
** new one, never a catalog row without its table or a table without its
** row. */
static int ddl_begin(sl_session *s, sl_error *err)
{
    if (!sqlite3_get_autocommit(s->db))
        return 0;
    return sl_db_exec(s->db, "BEGIN IMMEDIATE", err);
}

/* Ends the statement's transaction (the start of a continuous query may
** have committed it already). It commits even when the statement failed
** half-way, as its steps used to one by one: the catalog in memory has
** moved with them, and the database must agree with it. */
static int ddl_end(sl_session *s, int rc, sl_error *err)
{
    if (sqlite3_get_autocommit(s->db))
        return rc;
    sl_error e2;
    sl_error_clear(&e2);
    if (sl_db_exec(s->db, "COMMIT", rc == 0 ? err : &e2) != 0) {
        sl_db_exec(s->db, "ROLLBACK", &e2);
        return -1;
    }
    return rc;
}

/* Removes object o (or a plain SQLite relation when o is NULL) in the
** statement's transaction (opened here when none is). */
static int drop_object(sl_session *s, sl_catalog_obj *o, const char *name,
                       int is_view, sl_error *err)
{
    if (o != NULL) {
        sl_query *q = sl_query_find(s, o->name);
        if (q != NULL)
            sl_query_remove(s, q);
    }
    if (ddl_begin(s, err) != 0)
        return -1;
    char *sql;
    if (o == NULL || (o->kind != SL_OBJ_SOURCE && o->kind != SL_OBJ_SINK)) {
        int view = o ? o->kind == SL_OBJ_VIEW : is_view;
        sql = sqlite3_mprintf("DROP %s IF EXISTS \"%w\"", view ? "VIEW" : "TABLE",
                              name);
        int rc = sl_db_exec(s->db, sql, err);
        sqlite3_free(sql);
        if (rc != 0)
            return -1;
    }
    if (o != NULL) {
        if (sl_query_forget(s, name, err) != 0)
            return -1;
        return sl_catalog_remove(s->cat, name, err);
    }
    return 0;
}

static int sqlite_relation_is_view(sl_session *s, const char *name)
{
    sqlite3_stmt *st = NULL;
    int view = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT type FROM sqlite_schema WHERE name "
                           "= ?1 COLLATE NOCASE", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            view = strcmp((const char *)sqlite3_column_text(st, 0), "view") == 0;
    }
    sqlite3_finalize(st);
    return view;
}

int sl_ddl_drop(sl_session *s, const sl_stmt *st, sl_error *err)
{
    sl_catalog_obj *o = sl_catalog_find(s->cat, st->name);
    int in_sqlite = sl_db_relation_exists(s->db, st->name);
    if (o == NULL && in_sqlite && sl_guard_reserved(st->name))
        return sl_guard_refuse("drop", st->name, st->name_offset, err);
    if (o == NULL && !in_sqlite) {
        if (st->if_exists)
            return 0;
        char buf[256];
        const char *close = sl_catalog_suggest(s->cat, st->name, buf, sizeof buf);
        if (close)
            return sl_error_set(err, st->name_offset, "unknown %s \"%s\" (did "
                                "you mean \"%s\"?)",
                                sl_object_kind_name(st->object), st->name, close);
        return sl_error_set(err, st->name_offset, "unknown %s \"%s\"",
                            sl_object_kind_name(st->object), st->name);
    }
    sl_object_kind actual = o ? o->kind
                              : sqlite_relation_is_view(s, st->name) ? SL_OBJ_VIEW
                                                                      : SL_OBJ_TABLE;
    if (st->object != SL_OBJ_ANY && st->object != actual) {
        static const char *const drop_words[] = {
            [SL_OBJ_SOURCE] = "SOURCE", [SL_OBJ_TABLE] = "TABLE",
            [SL_OBJ_VIEW] = "VIEW", [SL_OBJ_MVIEW] = "MATERIALIZED VIEW",
            [SL_OBJ_STABLE] = "STREAMING TABLE", [SL_OBJ_SINK] = "SINK"};
        return sl_error_set(err, st->name_offset, "\"%s\" is a %s, not a %s "
                            "(use DROP %s %s)", st->name,
                            sl_object_kind_name(actual),
                            sl_object_kind_name(st->object),
                            drop_words[actual], st->name);
    }
    const sl_catalog_obj *reader = sl_catalog_reader(s->cat, st->name);
    if (reader != NULL && reader != o)
        return sl_error_set(err, st->name_offset, "cannot drop %s %s: %s %s "
                            "reads it (drop %s first)",
                            sl_object_kind_name(actual), st->name,
                            sl_object_kind_name(reader->kind), reader->name,
                            reader->name);
    return ddl_end(s, drop_object(s, o, st->name, actual == SL_OBJ_VIEW, err),
                   err);
}

/* The statement's own text, re-parsed so its offsets are relative to it. */
static sl_stmt *reparse(const char *sql, sl_error *err)
{
    sl_stmt *copy = NULL;
    int pos = 0;
    sl_error perr;
    sl_error_clear(&perr);
    if (sl_parse_next(sql, (int)strlen(sql), &pos, &copy, &perr) != 1) {
        sl_error_set(err, -1, "internal error: a statement does not parse "
                     "again: %s", perr.msg);
        return NULL;
    }
    return copy;
}

/* Records a created object in the catalog with its own text. */
static int record(sl_session *s, const sl_stmt *st, sl_object_kind kind,
                  const char *sql, sl_error *err)
{
    sl_stmt *copy = reparse(sql, err);
    return copy && sl_catalog_add(s->cat, st->name, kind, sql, copy, err)
               ? 0 : -1;
}

static char *table_ddl(const sl_stmt *st)
{
    sqlite3_str *s = sqlite3_str_new(NULL);
    sqlite3_str_appendf(s, "CREATE TABLE \"%w\" (", st->name);
    for (int i = 0; i < st->ncols; i++) {
        const sl_column_def *c = &st->cols[i];
        sqlite3_str_appendf(s, "%s\"%w\" %s", i ? ", " : "", c->name,
                            c->type != SL_NULL ? sl_type_name(c->type)
                                               : (c->type_name ? c->type_name : ""));
        if (c->primary_key)
            sqlite3_str_appendall(s, " PRIMARY KEY");
        if (c->not_null)
            sqlite3_str_appendall(s, " NOT NULL");
    }
    if (st->npk > 0) {
        sqlite3_str_appendall(s, ", PRIMARY KEY (");
        for (int i = 0; i < st->npk; i++)
            sqlite3_str_appendf(s, "%s\"%w\"", i ? ", " : "", st->pk_cols[i]);
        sqlite3_str_appendall(s, ")");
    }
    sqlite3_str_appendall(s, ")");
    return sqlite3_str_finish(s);
}

static int create_query(sl_session *s, const sl_stmt *st, const char *sql,
                        sl_error *err)
{
    /* check settings and bind against the user's text first, so errors
    ** point into it (a sink's WITH options are its connector's) */
    sl_settings check = s->settings;
    for (int i = 0; i < st->nopts; i++)
        if ((st->kind != SL_ST_CREATE_SINK || sl_is_setting(st->opts[i].key)) &&
            sl_settings_apply(&check, &st->opts[i], err) != 0)
            return -1;
    sl_plan *p = sl_plan_bind(s, st, err);
    if (p == NULL)
        return -1;
    char *ddl = NULL;
    if (st->kind == SL_ST_CREATE_SINK) {
        int changelog = p->is_agg && p->emit == SL_EMIT_CHANGES;
        if (sl_sink_check(st, changelog, err) != 0) {
            sl_plan_free(p);
            return -1;
        }
    } else {
        ddl = sl_plan_output_ddl(p);
    }
    sl_plan_free(p);
    sl_stmt *copy = reparse(sql, err);
    if (copy == NULL) {
        sqlite3_free(ddl);
        return -1;
    }
    int rc = ddl ? sl_db_exec(s->db, ddl, err) : 0;
    sqlite3_free(ddl);
    if (rc != 0) {
        sl_stmt_free(copy);
        return -1;
    }
    sl_catalog_obj *o = sl_catalog_add(s->cat, st->name, kind_of_stmt(st->kind),
                                       sql, copy, err);
    if (o == NULL)
        return -1;
    sl_query *q = sl_query_start(s, o, 1, err);
    if (q == NULL) {
        if (err->offset < 0 && st->select->has_from)
            err->offset = st->select->from.offset;
        sl_error e2;
        sl_error_clear(&e2);
        drop_object(s, o, st->name, 0, &e2);
        return -1;
    }
    return sl_query_finish(s, q, err);
}

static int create(sl_session *s, const sl_stmt *st, const char *text,
                  sl_error *err);

int sl_ddl_create(sl_session *s, const sl_stmt *st, const char *text,
                  sl_error *err)
{
    return ddl_end(s, create(s, st, text, err), err);
}

static int create(sl_session *s, const sl_stmt *st, const char *text,
                  sl_error *err)
{
    sl_object_kind kind = kind_of_stmt(st->kind);
    sl_catalog_obj *o = sl_catalog_find(s->cat, st->name);
    int exists = o != NULL || sl_db_relation_exists(s->db, st->name);
    if (strncasecmp(st->name, "sluice_", 7) == 0)
        return sl_error_set(err, st->name_offset, "names starting with "
                            "sluice_ are reserved for sluice's own tables");
    if (exists && st->if_not_exists) {
        sl_query *q = o ? sl_query_find(s, o->name) : NULL;
        if (q != NULL && sl_query_bounded(q))
            return sl_query_finish(s, q, err);
        return 0;
    }
    if (exists && st->or_replace) {
        sl_object_kind actual = o ? o->kind : sqlite_relation_is_view(s, st->name)
                                                  ? SL_OBJ_VIEW : SL_OBJ_TABLE;
        if (actual != kind)
            return sl_error_set(err, st->name_offset, "\"%s\" is a %s: OR "
                                "REPLACE cannot turn it into a %s", st->name,
                                sl_object_kind_name(actual),
                                sl_object_kind_name(kind));
        const sl_catalog_obj *reader = sl_catalog_reader(s->cat, st->name);
        if (reader != NULL && reader != o)
            return sl_error_set(err, st->name_offset, "cannot replace %s %s: "
                                "%s %s reads it", sl_object_kind_name(actual),
                                st->name, sl_object_kind_name(reader->kind),
                                reader->name);
        if (drop_object(s, o, st->name, actual == SL_OBJ_VIEW, err) != 0)
            return -1;
        o = NULL;
        exists = 0;
    }
    if (exists)
        return sl_error_set(err, st->name_offset, "%s \"%s\" already exists "
                            "(use CREATE OR REPLACE, or IF NOT EXISTS)",
                            o ? sl_object_kind_name(o->kind) : "relation",
                            st->name);
    if (ddl_begin(s, err) != 0)
        return -1;
    size_t len = (size_t)(st->end - st->offset);
    char *sql = malloc(len + 1);
    memcpy(sql, text + st->offset, len);
    sql[len] = 0;
    int rc = -1;
    switch (st->kind) {
    case SL_ST_CREATE_SOURCE: {
        sl_source_def *d = sl_source_def_new(st, err);
        if (d == NULL)
            break;
        sl_source_def_free(d);
        rc = record(s, st, kind, sql, err);
        break;
    }
    case SL_ST_CREATE_TABLE: {
        char *ddl = table_ddl(st);
        rc = sl_db_exec(s->db, ddl, err);
        sqlite3_free(ddl);
        if (rc == 0)
            rc = record(s, st, kind, sql, err);
        break;
    }
    case SL_ST_CREATE_VIEW: {
        if (sl_select_reads_source(s, st->select)) {
            sl_error_set(err, st->select->from.offset, "view %s reads a source:"
                         " a plain VIEW is a SQLite view over tables; use "
                         "CREATE MATERIALIZED VIEW or CREATE STREAMING TABLE "
                         "for a continuous query", st->name);
            break;
        }
        sqlite3_str *q = sqlite3_str_new(s->db);
        sqlite3_str_appendf(q, "CREATE VIEW \"%w\" AS ", st->name);
        sqlite3_str_append(q, text + st->select->offset,
                           st->select->end - st->select->offset);
        char *ddl = sqlite3_str_finish(q);
        rc = sl_session_sqlite(s, ddl, -1, st->select->offset, err);
        sqlite3_free(ddl);
        if (rc == 0)
            rc = record(s, st, kind, sql, err);
        break;
    }
    case SL_ST_CREATE_MVIEW:
    case SL_ST_CREATE_STABLE:
    case SL_ST_CREATE_SINK:
        rc = create_query(s, st, sql, err);
        break;
    default:
        sl_error_set(err, st->offset, "not a CREATE statement");
        break;
    }
    free(sql);
    return rc;
}

/* ---- COPY table FROM 'file' ------------------------------------------------ */

typedef struct copy_ctx {
    sl_session *s;
    const char *table;
    int64_t rejected;
} copy_ctx;

static void copy_reject(void *ctx, const char *file, int64_t line,
                        int64_t offset, const char *raw, size_t rawlen,
                        const char *reason)
{
    copy_ctx *c = ctx;
    (void)offset;
    c->rejected++;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->s->db, "INSERT INTO sluice_dead_letters(query, "
                           "source, location, raw, reason) VALUES (?1, ?2, "
                           "?3, ?4, ?5)", -1, &st, NULL) == SQLITE_OK) {
        char *loc = sqlite3_mprintf("%s:%lld", file, (long long)line);
        sqlite3_bind_text(st, 1, c->table, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, file, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, loc, -1, SQLITE_STATIC);
        if (sl_utf8_valid(raw, rawlen))
            sqlite3_bind_text(st, 4, raw, (int)rawlen, SQLITE_STATIC);
        else    /* not UTF-8: kept as the bytes it is, a BLOB */
            sqlite3_bind_blob(st, 4, raw, (int)rawlen, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_free(loc);
    }
    sqlite3_finalize(st);
}

static const char *const copy_options[] = {
    "format", "header", "delimiter", "timestamp_format", NULL
};

int sl_ddl_copy(sl_session *s, const sl_stmt *st, sl_error *err)
{
    sl_catalog_obj *o = sl_catalog_find(s->cat, st->name);
    if (sl_guard_reserved(st->name))
        return sl_guard_refuse("copy into", st->name, st->name_offset, err);
    if ((o && o->kind != SL_OBJ_TABLE) || !sl_db_relation_exists(s->db, st->name))
        return sl_error_set(err, st->name_offset, "COPY loads a table; \"%s\" "
                            "is %s", st->name,
                            o ? sl_object_kind_name(o->kind) : "not a table");
    /* the table's columns are the schema */
    char *q = sqlite3_mprintf("SELECT name, type FROM pragma_table_info(%Q)",
                              st->name);
    sqlite3_stmt *ps = NULL;
    sqlite3_prepare_v2(s->db, q, -1, &ps, NULL);
    sqlite3_free(q);
    int n = 0;
    char *names[256];
    sl_type types[256];
    while (ps && sqlite3_step(ps) == SQLITE_ROW && n < 256) {
        const char *type = (const char *)sqlite3_column_text(ps, 1);
        int tn = 0;
        while (type && type[tn] && type[tn] != '(' && type[tn] != ' ')
            tn++;
        sl_type t = type ? sl_type_from_name(type, tn) : SL_NULL;
        names[n] = strdup((const char *)sqlite3_column_text(ps, 0));
        types[n] = t == SL_NULL || t == SL_INTERVAL ? SL_TEXT : t;
        n++;
    }
    sqlite3_finalize(ps);
    /* the options of a file source that say how to decode, checked by
    ** the same functions as CREATE SOURCE's */
    sl_decoder_options dopt;
    memset(&dopt, 0, sizeof dopt);
    if (sl_options_check(st, copy_options, 0, "COPY", err) != 0 ||
        sl_decode_options_check(st, st->path, &dopt, err) != 0) {
        for (int k = 0; k < n; k++)
            free(names[k]);
        return -1;
    }
    sl_file_source_options fo = {st->path, 0, dopt, 0};
    sl_file_source *fs = sl_file_source_open(&fo, n, (const char *const *)names,
                                             types, err);
    int rc = -1;
    sl_batch *b = NULL;
    sqlite3_stmt *ins = NULL;
    if (fs == NULL) {
        err->offset = st->path_offset;
        goto done;
    }
    sqlite3_str *is = sqlite3_str_new(s->db);
    sqlite3_str_appendf(is, "INSERT INTO \"%w\" VALUES (", st->name);
    for (int c = 0; c < n; c++)
        sqlite3_str_appendf(is, "%s?", c ? ", " : "");
    sqlite3_str_appendall(is, ")");
    char *isql = sqlite3_str_finish(is);
    sqlite3_prepare_v2(s->db, isql, -1, &ins, NULL);
    sqlite3_free(isql);
    b = sl_batch_new(n, types, 4096);
    copy_ctx cc = {s, st->name, 0};
    int64_t rows = 0;
    int in_txn = !sqlite3_get_autocommit(s->db);
    if (!in_txn && sl_db_exec(s->db, "BEGIN", err) != 0)
        goto done;
    for (int isdone = 0; !isdone;) {
        sl_batch_reset(b);
        if (sl_file_source_next(fs, b, 4096, copy_reject, &cc, &isdone, err) < 0)
            goto done;
        for (int r = 0; r < b->nrows; r++) {
            for (int c = 0; c < n; c++) {
                const sl_column *col = &b->cols[c];
                if (col->null[r]) {
                    sqlite3_bind_null(ins, c + 1);
                } else if (col->type == SL_TEXT) {
                    sqlite3_bind_text(ins, c + 1, col->v.s[r].z, col->v.s[r].n,
                                      SQLITE_STATIC);
                } else if (col->type == SL_DOUBLE) {
                    sqlite3_bind_double(ins, c + 1, col->v.d[r]);
                } else if (col->type == SL_TIMESTAMP) {
                    char buf[32];
                    int len = sl_ts_format(col->v.i[r], buf);
                    sqlite3_bind_text(ins, c + 1, buf, len, SQLITE_TRANSIENT);
                } else {
                    sqlite3_bind_int64(ins, c + 1, col->v.i[r]);
                }
            }
            if (sqlite3_step(ins) != SQLITE_DONE) {
                sl_error_set(err, st->offset, "COPY into %s failed at row "
                             "%lld: %s", st->name, (long long)rows + 1,
                             sqlite3_errmsg(s->db));
                sqlite3_reset(ins);
                if (!in_txn) {
                    sl_error e2;
                    sl_error_clear(&e2);
                    sl_db_exec(s->db, "ROLLBACK", &e2);
                }
                goto done;
            }
            sqlite3_reset(ins);
            rows++;
        }
    }
    if (!in_txn && sl_db_exec(s->db, "COMMIT", err) != 0)
        goto done;
    if (cc.rejected > 0)
        fprintf(s->msg, "COPY %s: %lld rows loaded, %lld rejected (see "
                "sluice_dead_letters)\n", st->name, (long long)rows,
                (long long)cc.rejected);
    rc = 0;
done:
    sqlite3_finalize(ins);
    sl_batch_free(b);
    sl_file_source_close(fs);
    for (int k = 0; k < n; k++)
        free(names[k]);
    return rc;
}
