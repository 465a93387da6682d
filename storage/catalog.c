/*
** catalog.c: the persisted list of sluice objects (see catalog.h).
**
** sluice_catalog is the source of truth; this module keeps it in memory,
** parsed, and writes every change through to the table. The secrets of a
** statement go to DB.secrets on their way in and come back when the text
** is parsed (storage/secrets.c).
*/
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "storage/catalog.h"
#include "grammar/parser.h"

static const char *const kind_names[] = {
    [SL_OBJ_ANY] = "object",
    [SL_OBJ_SOURCE] = "source",
    [SL_OBJ_TABLE] = "table",
    [SL_OBJ_VIEW] = "view",
    [SL_OBJ_MVIEW] = "materialized view",
    [SL_OBJ_STABLE] = "streaming table",
    [SL_OBJ_SINK] = "sink",
    [SL_OBJ_QUERY] = "query",
};

const char *sl_object_kind_name(sl_object_kind k)
{
    return (unsigned)k <= SL_OBJ_QUERY ? kind_names[k] : "object";
}

sl_object_kind sl_object_kind_from_name(const char *name)
{
    for (int k = SL_OBJ_SOURCE; k <= SL_OBJ_QUERY; k++)
        if (strcasecmp(kind_names[k], name) == 0)
            return (sl_object_kind)k;
    return SL_OBJ_ANY;
}

static void obj_free(sl_catalog_obj *o)
{
    if (o == NULL)
        return;
    free(o->name);
    free(o->sql);
    free(o->status);
    sl_stmt_free(o->stmt);
    free(o);
}

static sl_catalog_obj *obj_push(sl_catalog *c, const char *name,
                                sl_object_kind kind, const char *sql,
                                sl_stmt *stmt, const char *status)
{
    sl_catalog_obj *o = calloc(1, sizeof *o);
    if (o == NULL)
        abort();
    o->name = strdup(name);
    o->kind = kind;
    o->sql = strdup(sql);
    o->stmt = stmt;
    o->status = strdup(status ? status : "created");
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->objs = realloc(c->objs, sizeof *c->objs * (size_t)c->cap);
        if (c->objs == NULL)
            abort();
    }
    c->objs[c->n++] = o;
    return o;
}

/* Parses the one statement of a stored text. Returns it, or NULL with
** perr set. */
static sl_stmt *parse_stored(const char *sql, sl_error *perr)
{
    sl_stmt *stmt = NULL;
    int pos = 0;
    if (sl_parse_next(sql, (int)strlen(sql), &pos, &stmt, perr) != 1)
        return NULL;
    return stmt;
}

sl_catalog *sl_catalog_load(sqlite3 *db, sl_error *err)
{
    sl_catalog *c = calloc(1, sizeof *c);
    if (c == NULL)
        abort();
    c->db = db;
    c->secrets = sl_secrets_open(sqlite3_db_filename(db, "main"));
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT name, kind, sql, status FROM "
                           "sluice_catalog ORDER BY rowid", -1, &st,
                           NULL) != SQLITE_OK) {
        sl_error_set(err, -1, "cannot read sluice_catalog: %s",
                     sqlite3_errmsg(db));
        sl_catalog_free(c);
        return NULL;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        const char *sql = (const char *)sqlite3_column_text(st, 2);
        const char *status = (const char *)sqlite3_column_text(st, 3);
        sl_error perr;
        sl_error_clear(&perr);
        sl_stmt *stmt = parse_stored(sql, &perr);
        if (stmt == NULL) {
            sl_error_set(err, -1, "the stored definition of %s no longer "
                         "parses (%s); drop it with DROP %s %s", name,
                         perr.set ? perr.msg : "empty", kind, name);
            sqlite3_finalize(st);
            sl_catalog_free(c);
            return NULL;
        }
        /* an unresolved reference is reported when a connector opens */
        sl_error_clear(&perr);
        sl_secrets_resolve(c->secrets, stmt, &perr);
        obj_push(c, name, sl_object_kind_from_name(kind), sql, stmt, status);
    }
    sqlite3_finalize(st);
    return c;
}

void sl_catalog_free(sl_catalog *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < c->n; i++)
        obj_free(c->objs[i]);
    free(c->objs);
    sl_secrets_free(c->secrets);
    free(c);
}

sl_catalog_obj *sl_catalog_find(const sl_catalog *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (strcasecmp(c->objs[i]->name, name) == 0)
            return c->objs[i];
    return NULL;
}

/* keep() of sl_secrets_retain: a secret of an object in the catalog, or of
** the one being added (secrets are named <object>.<option>). */
typedef struct live_names {
    const sl_catalog *c;
    const char *adding;
} live_names;

static int has_object_prefix(const char *secret, const char *obj)
{
    size_t n = strlen(obj);
    return strncasecmp(secret, obj, n) == 0 && secret[n] == '.';
}

static int secret_is_live(void *ctx, const char *secret)
{
    const live_names *l = ctx;
    if (has_object_prefix(secret, l->adding))
        return 1;
    for (int i = 0; i < l->c->n; i++)
        if (has_object_prefix(secret, l->c->objs[i]->name))
            return 1;
    return 0;
}

/* Moves the literal secrets of stmt to DB.secrets (dropping those of
** objects no longer in the catalog) and reparses the text that refers to
** them. Returns the text to store (sql itself, or a malloc'd redacted copy
** in *owned) with *stmt replaced; NULL with err set and *stmt freed. */
static const char *store_secrets(sl_catalog *c, const char *name,
                                 const char *sql, sl_stmt **stmt,
                                 char **owned, sl_error *err)
{
    *owned = sl_secrets_extract(c->secrets, name, sql, *stmt);
    if (*owned == NULL)
        return sql;
    live_names live = {c, name};
    sl_secrets_retain(c->secrets, secret_is_live, &live);
    sl_stmt_free(*stmt);
    *stmt = NULL;
    sl_error perr;
    sl_error_clear(&perr);
    if (sl_secrets_save(c->secrets, err) != 0)
        return NULL;
    if ((*stmt = parse_stored(*owned, &perr)) == NULL) {
        sl_error_set(err, -1, "internal error: %s does not parse with its "
                     "secrets replaced: %s", name, perr.msg);
        return NULL;
    }
    return *owned;
}

sl_catalog_obj *sl_catalog_add(sl_catalog *c, const char *name,
                               sl_object_kind kind, const char *sql,
                               sl_stmt *stmt, sl_error *err)
{
    char *redacted = NULL;
    sql = store_secrets(c, name, sql, &stmt, &redacted, err);
    if (sql == NULL || sl_secrets_resolve(c->secrets, stmt, err) != 0) {
        sl_stmt_free(stmt);
        free(redacted);
        return NULL;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "INSERT INTO sluice_catalog(name, "
                                "kind, sql) VALUES (?1, ?2, ?3)", -1, &st,
                                NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, sl_object_kind_name(kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, sql, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_OK) {
        sl_error_set(err, -1, "cannot record %s in sluice_catalog: %s", name,
                     sqlite3_errmsg(c->db));
        sl_stmt_free(stmt);
        free(redacted);
        return NULL;
    }
    sl_catalog_obj *o = obj_push(c, name, kind, sql, stmt, "created");
    free(redacted);
    return o;
}

int sl_catalog_remove(sl_catalog *c, const char *name, sl_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "DELETE FROM sluice_catalog WHERE "
                                "name = ?1 COLLATE NOCASE", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_OK)
        return sl_error_set(err, -1, "cannot remove %s from sluice_catalog: "
                            "%s", name, sqlite3_errmsg(c->db));
    for (int i = 0; i < c->n; i++) {
        if (strcasecmp(c->objs[i]->name, name) == 0) {
            obj_free(c->objs[i]);
            memmove(&c->objs[i], &c->objs[i + 1],
                    sizeof *c->objs * (size_t)(c->n - i - 1));
            c->n--;
            break;
        }
    }
    return 0;
}

const sl_catalog_obj *sl_catalog_reader(const sl_catalog *c, const char *name)
{
    for (int i = 0; i < c->n; i++) {
        const sl_catalog_obj *o = c->objs[i];
        const sl_select *sel = o->stmt ? o->stmt->select : NULL;
        if (sel == NULL || o->kind == SL_OBJ_VIEW || !sel->has_from)
            continue;
        if (strcasecmp(sel->from.name, name) == 0)
            return o;
        for (int j = 0; j < sel->njoins; j++)
            if (strcasecmp(sel->joins[j].table.name, name) == 0)
                return o;
    }
    return NULL;
}

int sl_catalog_set_status(sl_catalog *c, sl_catalog_obj *o,
                          const char *status, sl_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "UPDATE sluice_catalog SET status = "
                                "?1 WHERE name = ?2 COLLATE NOCASE", -1, &st,
                                NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, o->name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_OK)
        return sl_error_set(err, -1, "cannot update sluice_catalog: %s",
                            sqlite3_errmsg(c->db));
    free(o->status);
    o->status = strdup(status);
    return 0;
}

int sl_edit_distance(const char *a, const char *b, int limit)
{
    size_t la = strlen(a), lb = strlen(b);
    if ((la > lb ? la - lb : lb - la) > (size_t)limit)
        return limit + 1;
    if (lb > 63)
        return limit + 1;
    int prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        int best = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            int cost = tolower((unsigned char)a[i - 1]) !=
                       tolower((unsigned char)b[j - 1]);
            int v = prev[j - 1] + cost;
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            cur[j] = v;
            if (v < best)
                best = v;
        }
        if (best > limit)
            return limit + 1;
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

const char *sl_catalog_suggest(const sl_catalog *c, const char *name,
                               char *buf, size_t bufsz)
{
    int best = 3;
    buf[0] = 0;
    for (int i = 0; i < c->n; i++) {
        int d = sl_edit_distance(name, c->objs[i]->name, 2);
        if (d < best) {
            best = d;
            snprintf(buf, bufsz, "%s", c->objs[i]->name);
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, "SELECT name FROM sqlite_schema WHERE "
                           "type IN ('table','view') AND name NOT LIKE "
                           "'sqlite_%'", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *n = (const char *)sqlite3_column_text(st, 0);
            int d = sl_edit_distance(name, n, 2);
            if (d < best) {
                best = d;
                snprintf(buf, bufsz, "%s", n);
            }
        }
    }
    sqlite3_finalize(st);
    return buf[0] ? buf : NULL;
}
