/*
** db.c: the SQLite database sluice writes (see db.h).
**
** Owns the schema of the system tables. Every table sluice creates for its
** own bookkeeping is here, so docs/storage.md has one place to check.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "storage/db.h"

static const char *const system_schema =
    "CREATE TABLE IF NOT EXISTS sluice_catalog ("
    "  name TEXT PRIMARY KEY COLLATE NOCASE,"
    "  kind TEXT NOT NULL,"
    "  sql TEXT NOT NULL,"
    "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),"
    "  status TEXT NOT NULL DEFAULT 'created'"
    ");"
    "CREATE TABLE IF NOT EXISTS sluice_late_events ("
    "  id INTEGER PRIMARY KEY,"
    "  query TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  event_time TEXT,"
    "  watermark TEXT,"
    "  recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now'))"
    ");"
    "CREATE TABLE IF NOT EXISTS sluice_dead_letters ("
    "  id INTEGER PRIMARY KEY,"
    "  query TEXT,"
    "  source TEXT NOT NULL,"
    "  location TEXT NOT NULL,"
    "  raw TEXT,"
    "  reason TEXT NOT NULL,"
    "  recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now'))"
    ");"
    "CREATE TABLE IF NOT EXISTS sluice_metrics ("
    "  query TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  value REAL,"
    "  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),"
    "  PRIMARY KEY (query, name)"
    ");"
    "CREATE TABLE IF NOT EXISTS sluice_state ("
    "  query TEXT NOT NULL,"
    "  id INTEGER NOT NULL,"
    "  state BLOB NOT NULL,"
    "  PRIMARY KEY (query, id)"
    ") WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS sluice_offsets ("
    "  query TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  position TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),"
    "  PRIMARY KEY (query, source)"
    ");";

sqlite3 *sl_db_open(const char *path, sl_error *err)
{
    sqlite3 *db = NULL;
    /* one connection per session, used by one thread: no mutexes */
    int rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        sl_error_set(err, -1, "cannot open database %s: %s", path,
                     db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    sqlite3_extended_result_codes(db, 1);
    /* 32 KiB pages for a new database (an existing one keeps its own):
    ** result tables are written in bulk, and larger pages mean fewer page
    ** splits, WAL frames and write calls per row (measured in
    ** docs/benchmarks.md: B1 -23 %, B4 -18 %, B2 EMIT CHANGES -12 % against
    ** 4 KiB pages). An 8 MiB page cache: SQLite's default of 2 MiB holds
    ** only 64 such pages, so a commit of many result rows spilled dirty
    ** pages into the WAL mid-transaction and read index pages back
    ** (B4 -20 %; larger caches gained nothing more) */
    if (sl_db_exec(db, "PRAGMA page_size=32768", err) != 0 ||
        sl_db_exec(db, "PRAGMA journal_mode=WAL", err) != 0 ||
        sl_db_exec(db, "PRAGMA synchronous=NORMAL", err) != 0 ||
        sl_db_exec(db, "PRAGMA temp_store=MEMORY", err) != 0 ||
        sl_db_exec(db, "PRAGMA cache_size=-8192", err) != 0 ||
        sl_db_exec(db, system_schema, err) != 0) {
        sl_error_reset(err, -1, "cannot initialise database %s: %s", path,
                       err->msg);
        sqlite3_close(db);
        return NULL;
    }
    /* checkpoint the WAL every 1 MiB whatever the page size. SQLite's
    ** default of 1000 pages is 32 MiB with 32 KiB pages, and copying that
    ** much back inside one commit held a follow source's p99 latency at
    ** 35 ms (6 ms with 4 KiB pages); 1 MiB gives 8.6 ms and costs B1 about
    ** 4 % (docs/benchmarks.md) */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK) {
        int page = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
        sqlite3_finalize(st);
        if (page > 0)
            sqlite3_wal_autocheckpoint(db, (1 << 20) / page > 0 ? (1 << 20) / page : 1);
    }
    return db;
}

void sl_db_close(sqlite3 *db)
{
    sqlite3_close(db);
}

int sl_db_exec(sqlite3 *db, const char *sql, sl_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        if (!err->set) {
            sl_error_set(err, -1, "%s", msg ? msg : sqlite3_errmsg(db));
            sl_db_note(err, db);
        }
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int sl_db_transient(int rc)
{
    if (rc == SQLITE_READONLY_DBMOVED)
        return 0;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
        return 1;
    default:
        return 0;
    }
}

void sl_db_note(sl_error *err, sqlite3 *db)
{
    if (err != NULL && sl_db_transient(sqlite3_extended_errcode(db)))
        err->transient = 1;
}

int sl_db_error(sl_error *err, sqlite3 *db, const char *fmt, ...)
{
    if (err == NULL || err->set)
        return -1;
    char what[SL_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    sl_error_set(err, -1, "%s: %s", what, sqlite3_errmsg(db));
    sl_db_note(err, db);
    return -1;
}

char *sl_db_quote_id(const char *name)
{
    return sqlite3_mprintf("\"%w\"", name);
}

int sl_db_relation_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(db,
            "SELECT 1 FROM sqlite_schema WHERE type IN ('table','view') "
            "AND name = ?1 COLLATE NOCASE", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}
