/*
** guard.c: SQLite's authorizer over user statements (see guard.h).
**
** The authorizer is called while SQLite compiles a statement, once per
** action (insert into a table, read a column, drop an index...). The first
** refused action is remembered with its reason and the compilation fails
** with SQLITE_AUTH; sl_guard_prepare then turns the reason into an
** sl_error at the place where the statement names the table.
*/
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include "storage/guard.h"
#include "grammar/lexer.h"

typedef struct guard {
    const sl_catalog *cat;
    int refused;
    char table[128];        /* the table named in the message */
    sl_error why;           /* the message, offset -1 */
} guard;

int sl_guard_reserved(const char *name)
{
    return name != NULL && strncasecmp(name, "sluice_", 7) == 0;
}

int sl_guard_refuse(const char *verb, const char *name, int offset,
                    sl_error *err)
{
    return sl_error_set(err, offset, "cannot %s %s: sluice_* tables are "
                        "sluice's own; statements may read them but not "
                        "change them", verb, name);
}

/* Records the first refusal; returns SQLITE_DENY. */
static int refuse(guard *g, const char *table)
{
    g->refused = 1;
    snprintf(g->table, sizeof g->table, "%s", table ? table : "");
    return SQLITE_DENY;
}

/* A catalog object's table may not be dropped or altered behind sluice's
** back: the catalog, its query and its state would no longer match. */
static int check_catalog_object(guard *g, const char *table, int alter)
{
    const sl_catalog_obj *o = g->cat ? sl_catalog_find(g->cat, table) : NULL;
    if (o == NULL)
        return SQLITE_OK;
    const char *kind = sl_object_kind_name(o->kind);
    if (!alter) {
        char upper[32];
        size_t i = 0;
        for (; kind[i] && i + 1 < sizeof upper; i++)
            upper[i] = (char)toupper((unsigned char)kind[i]);
        upper[i] = 0;
        sl_error_set(&g->why, -1, "%s is a %s of sluice's catalog: drop it "
                     "with DROP %s %s", o->name, kind, upper, o->name);
        return refuse(g, table);
    }
    if (o->kind != SL_OBJ_MVIEW && o->kind != SL_OBJ_STABLE)
        return SQLITE_OK;
    sl_error_set(&g->why, -1, "cannot alter %s: the %s %s maintains it (use "
                 "CREATE OR REPLACE to change its definition)", o->name, kind,
                 o->name);
    return refuse(g, table);
}

/* A streaming table that a query reads by rowid may only grow: an UPDATE
** would change rows the reader may have read already, a DELETE of its
** last rows would let SQLite give their rowids to new rows, which the
** reader would never read (connectors/table_source.c). */
static int check_read_stable(guard *g, const char *verb, const char *table)
{
    const sl_catalog_obj *o = g->cat ? sl_catalog_find(g->cat, table) : NULL;
    if (o == NULL || o->kind != SL_OBJ_STABLE)
        return SQLITE_OK;
    const sl_catalog_obj *r = sl_catalog_reader(g->cat, o->name);
    if (r == NULL)
        return SQLITE_OK;
    sl_error_set(&g->why, -1, "cannot %s %s: %s %s reads this streaming "
                 "table, which may only grow (drop %s first)", verb, o->name,
                 sl_object_kind_name(r->kind), r->name, r->name);
    return refuse(g, table);
}

static int authorize(void *ctx, int action, const char *a1, const char *a2,
                     const char *dbname, const char *inner)
{
    (void)dbname;
    (void)inner;
    guard *g = ctx;
    const char *verb = NULL, *table = NULL;
    if (g->refused)
        return SQLITE_DENY;
    switch (action) {
    case SQLITE_INSERT: verb = "insert into"; table = a1; break;
    case SQLITE_UPDATE: verb = "update"; table = a1; break;
    case SQLITE_DELETE: verb = "delete from"; table = a1; break;
    case SQLITE_DROP_TABLE: case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_DROP_VIEW: case SQLITE_DROP_TEMP_VIEW:
    case SQLITE_DROP_VTABLE:
        verb = "drop";
        table = a1;
        if (!sl_guard_reserved(table))
            return check_catalog_object(g, table, 0);
        break;
    case SQLITE_ALTER_TABLE:
        verb = "alter";
        table = a2;
        if (!sl_guard_reserved(table))
            return check_catalog_object(g, table, 1);
        break;
    case SQLITE_CREATE_INDEX: case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TRIGGER: case SQLITE_CREATE_TEMP_TRIGGER:
        verb = "add an index or trigger to";
        table = a2;
        break;
    case SQLITE_DROP_INDEX: case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TRIGGER: case SQLITE_DROP_TEMP_TRIGGER:
        verb = "drop an index or trigger of";
        table = a2;
        break;
    case SQLITE_CREATE_TABLE: case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_VIEW: case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_CREATE_VTABLE:
        if (!sl_guard_reserved(a1))
            return SQLITE_OK;
        sl_error_set(&g->why, -1, "names starting with sluice_ are reserved "
                     "for sluice's own tables");
        return refuse(g, a1);
    case SQLITE_PRAGMA:
        if (a2 == NULL || strcasecmp(a1, "writable_schema") != 0)
            return SQLITE_OK;
        sl_error_set(&g->why, -1, "PRAGMA writable_schema is not accepted: it "
                     "would let a statement rewrite sluice's own tables");
        return refuse(g, "writable_schema");
    default:
        return SQLITE_OK;
    }
    if (!sl_guard_reserved(table))
        return action == SQLITE_INSERT ? SQLITE_OK
                                       : check_read_stable(g, verb, table);
    sl_guard_refuse(verb, table, -1, &g->why);
    return refuse(g, table);
}

/* The offset in text[0..len) of the first token naming table (quoted or
** not, maybe after a schema name), else of the first token. */
static int name_offset(const char *text, int len, const char *table)
{
    int at = 0, first = -1, type;
    size_t tn = strlen(table);
    while (at < len) {
        int w = sl_get_token(text + at, len - at, &type);
        if (type != SL_TK_SPACE && type != SL_TK_COMMENT) {
            const char *z = text + at;
            int n = w;
            if (first < 0)
                first = at;
            if (n >= 2 && (z[0] == '"' || z[0] == '`' || z[0] == '[')) {
                z++;
                n -= 2;
            }
            if (tn > 0 && (size_t)n == tn && strncasecmp(z, table, tn) == 0)
                return at;
        }
        at += w;
    }
    return first < 0 ? 0 : first;
}

int sl_guard_prepare(sqlite3 *db, const sl_catalog *cat, const char *text,
                     int len, int offset, sqlite3_stmt **st, sl_error *err)
{
    guard g;
    memset(&g, 0, sizeof g);
    g.cat = cat;
    sl_error_clear(&g.why);
    sqlite3_set_authorizer(db, authorize, &g);
    int rc = sqlite3_prepare_v2(db, text, len, st, NULL);
    sqlite3_set_authorizer(db, NULL, NULL);
    if (!g.refused)
        return rc;
    sqlite3_finalize(*st);
    *st = NULL;
    int at = name_offset(text, len < 0 ? (int)strlen(text) : len, g.table);
    sl_error_set(err, offset + at, "%s", g.why.msg);
    return SQLITE_AUTH;
}
