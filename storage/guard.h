/*
** guard.h: what a user's SQL may do to sluice's own tables.
**
** User statements that sluice hands to SQLite (pull queries, INSERT,
** UPDATE, DELETE, ALTER, PRAGMA... anything sluice's grammar does not
** know) are compiled with SQLite's authorizer installed (sl_guard_prepare),
** and only then: sluice's own statements never pay for it. The guard
** refuses, with a message at the table's name:
**   - writes to sluice_* tables (INSERT, UPDATE, DELETE, also from a
**     trigger), and DROP, ALTER, CREATE INDEX / TRIGGER on them;
**   - creating a table, view or trigger named sluice_* (reserved);
**   - DROP of an object of sluice's catalog (use sluice's DROP, which also
**     forgets its query, state and catalog row) and ALTER of a table a
**     continuous query maintains;
**   - UPDATE or DELETE of a streaming table a continuous query reads (it
**     reads by rowid: the table may only grow);
**   - PRAGMA writable_schema (it would let a statement rewrite any schema).
** Reads stay allowed. Programs other than sluice that open the database
** file are not guarded: the file's mode is the protection there.
*/
#ifndef SL_GUARD_H
#define SL_GUARD_H

#include <sqlite3.h>
#include "engine/error.h"
#include "storage/catalog.h"

/* Compiles the first statement of user SQL text[0..len) (offset: where
** text starts in the user's input) with the guard installed. Returns
** SQLite's result code with *st set as sqlite3_prepare_v2 sets it. When
** the guard refused the statement: SQLITE_AUTH, *st NULL, and err set to
** the reason at the refused table's name; otherwise err is left alone and
** the caller reports SQLite's own error. */
int sl_guard_prepare(sqlite3 *db, const sl_catalog *cat, const char *text,
                     int len, int offset, sqlite3_stmt **st, sl_error *err);

/* 1 when name is reserved for sluice's own tables (sluice_*). */
int sl_guard_reserved(const char *name);

/* The guard's refusal for a statement sluice runs itself on a user's
** behalf (DROP, COPY): verb ("drop", "load") of sluice's own table name, at
** offset. Returns -1. */
int sl_guard_refuse(const char *verb, const char *name, int offset,
                    sl_error *err);

#endif
