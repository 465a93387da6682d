/*
** db.c: the SQLite database sluice writes (see db.h).
**
** Owns the schema of the system tables. Every table sluice creates for its
** own bookkeeping is here, so docs/storage.md has one place to check.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Records why path could not be opened or initialised ("cannot <what>
** database X: <cause>"), or, for what == NULL, why it cannot be written
** ("database X cannot be written: <cause>"), keeping SQLite's cause ("file
** is not a database", "attempt to write a readonly database"). cause may
** be err->msg itself, so it is copied first. */
static void open_failed(sl_error *err, const char *what, const char *path,
                        const char *cause)
{
    char copy[SL_ERROR_MAX];
    snprintf(copy, sizeof copy, "%s", cause && cause[0] ? cause : "unknown error");
    if (what == NULL)
        sl_error_reset(err, -1, "database %s cannot be written: %s", path, copy);
    else
        sl_error_reset(err, -1, "cannot %s database %s: %s", what, path, copy);
}

/* 1 when SQLite's result code says the database cannot be written (a
** read-only file or mount, a -wal or -shm that cannot be created). */
static int is_read_only_code(int rc)
{
    return (rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_PERM;
}

sqlite3 *sl_db_open(const char *path, int *cannot_write, sl_error *err)
{
    sqlite3 *db = NULL;
    *cannot_write = 0;
    /* one connection per session, used by one thread: no mutexes */
    int rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        open_failed(err, "open", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    /* SQLite opens a file it may not write read-only without a word */
    if (sqlite3_db_readonly(db, "main") == 1) {
        *cannot_write = 1;
        open_failed(err, NULL, path, "the file is read-only");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, SL_DB_BUSY_TIMEOUT_MS);
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
        sl_db_exec(db, "PRAGMA journal_size_limit=" SL_STR(SL_WAL_LIMIT_BYTES),
                   err) != 0 ||
        sl_db_exec(db, system_schema, err) != 0) {
        *cannot_write = is_read_only_code(sqlite3_extended_errcode(db));
        open_failed(err, *cannot_write ? NULL : "initialise", path, err->msg);
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

/* Opens path read-only, as a URI with immutable=1 when asked: returns the
** handle after one read of its schema, or NULL with err set and *rc set to
** SQLite's (extended) result code. */
static sqlite3 *open_read_only(const char *path, int immutable, int *rc,
                               sl_error *err)
{
    sqlite3 *db = NULL;
    char *uri = NULL;
    if (immutable) {
        /* file:<path, percent-encoded>?immutable=1 */
        sqlite3_str *u = sqlite3_str_new(NULL);
        sqlite3_str_appendall(u, "file:");
        for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                (*p >= '0' && *p <= '9') || strchr("/-._~", *p) != NULL)
                sqlite3_str_appendchar(u, 1, (char)*p);
            else
                sqlite3_str_appendf(u, "%%%02X", *p);
        }
        sqlite3_str_appendall(u, "?immutable=1");
        uri = sqlite3_str_finish(u);
        if (uri == NULL)
            abort();
    }
    *rc = sqlite3_open_v2(uri ? uri : path, &db, SQLITE_OPEN_READONLY |
                          SQLITE_OPEN_NOMUTEX | (uri ? SQLITE_OPEN_URI : 0),
                          NULL);
    sqlite3_free(uri);
    if (*rc == SQLITE_OK) {
        sqlite3_extended_result_codes(db, 1);
        /* In WAL mode a reader never waits for the writer; SQLite's short
        ** busy moments (WAL recovery, a WAL restart) last milliseconds */
        sqlite3_busy_timeout(db, 2000);
        *rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", NULL,
                           NULL, NULL);
    }
    if (*rc != SQLITE_OK) {
        if (db != NULL)
            *rc = sqlite3_extended_errcode(db);
        open_failed(err, "open", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(*rc));
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* 1 when path-wal exists and is not empty (commits not yet copied back
** into the database file). */
static int wal_has_frames(const char *path)
{
    char *wal = sqlite3_mprintf("%s-wal", path);
    if (wal == NULL)
        abort();
    struct stat st;
    int frames = stat(wal, &st) == 0 && st.st_size > 0;
    sqlite3_free(wal);
    return frames;
}

sqlite3 *sl_db_open_read_only(const char *path, sl_error *err)
{
    int rc;
    sqlite3 *db = open_read_only(path, 0, &rc, err);
    /* A WAL database without a -wal file whose -shm cannot be created (a
    ** directory this process may not write, a read-only mount): no writer
    ** is at work there, and the database file alone holds every commit, so
    ** it is read as an immutable file */
    if (db == NULL && ((rc & 0xff) == SQLITE_CANTOPEN ||
                       (rc & 0xff) == SQLITE_READONLY) && !wal_has_frames(path)) {
        sl_error_clear(err);
        db = open_read_only(path, 1, &rc, err);
    }
    if (db == NULL)
        return NULL;
    /* a database sluice never initialised: an empty catalog, in memory */
    if (!sl_db_relation_exists(db, "sluice_catalog") &&
        sl_db_exec(db, "CREATE TEMP TABLE sluice_catalog (name TEXT PRIMARY "
                   "KEY COLLATE NOCASE, kind TEXT NOT NULL, sql TEXT NOT NULL, "
                   "status TEXT NOT NULL DEFAULT 'created')", err) != 0) {
        open_failed(err, "open", path, err->msg);
        sqlite3_close(db);
        return NULL;
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

int64_t sl_db_wal_bytes(sqlite3 *db)
{
    const char *db_file = sqlite3_db_filename(db, "main");
    const char *wal = db_file && db_file[0] ? sqlite3_filename_wal(db_file)
                                            : NULL;
    struct stat st;
    if (wal == NULL || stat(wal, &st) != 0)
        return 0;
    return (int64_t)st.st_size;
}

int64_t sl_db_wal_tidy(sqlite3 *db)
{
    int64_t size = sl_db_wal_bytes(db);
    if (size <= 4 * (int64_t)SL_WAL_LIMIT_BYTES)
        return size;
    /* no busy handler: a reader still on an old snapshot makes this fail
    ** at once (SQLITE_BUSY), and the next try comes after the next commit */
    sqlite3_busy_timeout(db, 0);
    sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL,
                              NULL);
    sqlite3_busy_timeout(db, SL_DB_BUSY_TIMEOUT_MS);
    return sl_db_wal_bytes(db);
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
