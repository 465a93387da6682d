/*
** db.h: opening sluice's SQLite database and its system tables.
**
** The database runs in WAL mode so that readers (the sqlite3 shell, BI
** tools) see consistent snapshots and never block sluice. The system tables
** (DESIGN §3), all prefixed sluice_, are created on open if missing.
*/
#ifndef SL_DB_H
#define SL_DB_H

#include <stdint.h>
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
** message (offset -1), marked transient as sl_db_transient says. */
int sl_db_exec(sqlite3 *db, const char *sql, sl_error *err);

/* How long the owner waits for SQLite's write lock before a commit point
** gives up for now (and waits, query.c). */
#define SL_DB_BUSY_TIMEOUT_MS 10000

/* The size a WAL file is cut back to when SQLite restarts it (PRAGMA
** journal_size_limit). */
#define SL_WAL_LIMIT_BYTES 4194304
#define SL_STR_(x) #x
#define SL_STR(x) SL_STR_(x)

/* The size of db's WAL file in bytes (0 when there is none). */
int64_t sl_db_wal_bytes(sqlite3 *db);

/* After a commit: a WAL grown past 4 x SL_WAL_LIMIT_BYTES (a reader kept an
** old snapshot, so no checkpoint could restart it) is checkpointed and
** truncated when no reader holds it back any more, without waiting for
** readers. Returns the WAL's size after. */
int64_t sl_db_wal_tidy(sqlite3 *db);

/* 1 when SQLite's result code rc is a cause that passes by waiting: the
** write lock held by another program (BUSY, LOCKED), a full disk, a
** database or directory made read-only, an I/O error. A database whose file
** was moved or deleted (READONLY_DBMOVED) does not pass. */
int sl_db_transient(int rc);

/* Marks err transient when the last call on db failed for such a cause
** (call it right after the failing call). */
void sl_db_note(sl_error *err, sqlite3 *db);

/* Records "<fmt...>: <SQLite's message>" for the call on db that just
** failed, marked transient as sl_db_transient says (only when err had no
** error yet: the first error wins). Returns -1. */
int sl_db_error(sl_error *err, sqlite3 *db, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Quotes an identifier for SQL text ("a""b"): returns a sqlite3_malloc'd
** string the caller frees with sqlite3_free. */
char *sl_db_quote_id(const char *name);

/* 1 when a table or view of that name exists in SQLite (any case). */
int sl_db_relation_exists(sqlite3 *db, const char *name);

#endif
