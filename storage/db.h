/*
** db.h: opening sluice's SQLite database and its system tables.
**
** The database runs in WAL mode so that readers (the sqlite3 shell, BI
** tools) see consistent snapshots and never block sluice. The system tables
** (DESIGN §3), all prefixed sluice_, are created on open if missing.
*/
#ifndef SL_DB_H
#define SL_DB_H

#include <sqlite3.h>
#include "engine/error.h"

/* Opens (creating if needed) the database at path for writing, sets WAL
** mode, synchronous=NORMAL and a busy timeout, and creates the system
** tables. Returns the handle, or NULL with err set to SQLite's cause
** ("cannot initialise database X: file is not a database"); *cannot_write
** is 1 when the cause is that the database cannot be written (a read-only
** file or mount), so it may still be opened with sl_db_open_read_only. */
sqlite3 *sl_db_open(const char *path, int *cannot_write, sl_error *err);

/* Opens an existing database read-only (SQLITE_OPEN_READONLY): nothing is
** created or changed, and the busy timeout is short (a reader never waits
** for the writer in WAL mode). A WAL database whose -wal and -shm cannot be
** created is read as immutable. A database without sluice_catalog gets an
** empty one in the temp schema. Returns the handle, or NULL with err set. */
sqlite3 *sl_db_open_read_only(const char *path, sl_error *err);
void sl_db_close(sqlite3 *db);

/* Runs SQL text without results. Returns 0, or -1 with err set to SQLite's
** message (offset -1). */
int sl_db_exec(sqlite3 *db, const char *sql, sl_error *err);

/* Quotes an identifier for SQL text ("a""b"): returns a sqlite3_malloc'd
** string the caller frees with sqlite3_free. */
char *sl_db_quote_id(const char *name);

/* 1 when a table or view of that name exists in SQLite (any case). */
int sl_db_relation_exists(sqlite3 *db, const char *name);

#endif
