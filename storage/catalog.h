/*
** catalog.h: every object sluice knows of, persisted in sluice_catalog.
**
** An object is a name, a kind (source, table, view, materialized view,
** streaming table, sink), the SQL that created it and that SQL parsed again
** (so a restart rebuilds everything from the text alone). The catalog owns
** its objects; lookups return borrowed pointers valid until the object is
** removed or the catalog closed.
**
** Secrets (storage/secrets.h) never reach sluice_catalog: an object's text
** holds '${secret:...}' or '${env:...}' references in their place, and its
** parsed statement holds the resolved values, so the engine and the
** connectors see the real ones.
*/
#ifndef SL_CATALOG_H
#define SL_CATALOG_H

#include <sqlite3.h>
#include "grammar/ast.h"
#include "engine/error.h"
#include "storage/secrets.h"

typedef struct sl_catalog_obj {
    char *name;
    sl_object_kind kind;
    char *sql;           /* the CREATE statement as the user wrote it, each
                            secret replaced by a reference */
    sl_stmt *stmt;       /* sql parsed (offsets relative to sql), references
                            resolved where they could be */
    char *status;        /* created | running | done | failed: <why> */
} sl_catalog_obj;

typedef struct sl_catalog {
    sqlite3 *db;         /* not owned */
    sl_secrets *secrets; /* DB.secrets */
    sl_catalog_obj **objs;
    int n, cap;
} sl_catalog;

/* Loads every object of sluice_catalog and resolves the references of
** their secrets (one that cannot be resolved stays as written, for
** sl_secrets_check_resolved to report when a connector opens). Returns
** NULL with err set if a stored statement no longer parses (the message
** names the object). */
sl_catalog *sl_catalog_load(sqlite3 *db, sl_error *err);
void sl_catalog_free(sl_catalog *c);

/* Finds an object by name (case-insensitive), or NULL. */
sl_catalog_obj *sl_catalog_find(const sl_catalog *c, const char *name);

/* The continuous query (materialized view, streaming table or sink) that
** reads relation name in its FROM or JOIN, or NULL. Borrowed. */
const sl_catalog_obj *sl_catalog_reader(const sl_catalog *c, const char *name);

/* Adds an object and inserts its row. Takes ownership of stmt, which must
** have been parsed from sql. A literal secret of stmt is moved to
** DB.secrets and replaced by a reference in the stored text; references
** are resolved (an unset environment variable is an error naming it).
** Returns the new object, or NULL with err set (stmt is freed). Runs
** inside the caller's transaction if there is one. */
sl_catalog_obj *sl_catalog_add(sl_catalog *c, const char *name,
                               sl_object_kind kind, const char *sql,
                               sl_stmt *stmt, sl_error *err);

/* Removes an object and its row. Returns 0 or -1 with err set. */
int sl_catalog_remove(sl_catalog *c, const char *name, sl_error *err);

/* Updates an object's status text (memory and row). */
int sl_catalog_set_status(sl_catalog *c, sl_catalog_obj *o,
                          const char *status, sl_error *err);

/* "source", "table", "view", "materialized view", "streaming table", "sink". */
const char *sl_object_kind_name(sl_object_kind k);
/* The inverse of sl_object_kind_name; SL_OBJ_ANY when unknown. */
sl_object_kind sl_object_kind_from_name(const char *name);

/* The name within edit distance 2 of name that is closest, among the
** catalog's objects and SQLite's tables and views, or NULL. Returned
** string is owned by the catalog/SQLite (copy it if kept). */
const char *sl_catalog_suggest(const sl_catalog *c, const char *name,
                               char *buf, size_t bufsz);

/* Levenshtein distance of two strings, case-insensitive, capped at limit+1. */
int sl_edit_distance(const char *a, const char *b, int limit);

#endif
