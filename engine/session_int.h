/*
** session_int.h: the inside of an sl_session, shared by the engine's
** statement handlers (session.c, ddl.c, query.c). Not for the CLI.
*/
#ifndef SL_SESSION_INT_H
#define SL_SESSION_INT_H

#include <signal.h>
#include <sqlite3.h>
#include "engine/session.h"
#include "storage/catalog.h"
#include "storage/owner.h"
#include "grammar/ast.h"

typedef struct sl_query sl_query;

typedef struct sl_settings {
    int batch_rows;              /* rows per batch read from a source */
    int64_t commit_interval_ms;  /* commit at least this often */
    int64_t commit_rows;         /* and after this many input rows (0: off) */
    int64_t dedup_within_ms;     /* a dedup remembers a key this long
                                    (event time) after its row */
} sl_settings;

/* dedup_within when a query does not say (DESIGN §2 rule 12). */
#define SL_DEDUP_WITHIN_DEFAULT_MS (24 * 3600 * 1000LL)

struct sl_session {
    sqlite3 *db;
    char *path;
    sl_catalog *cat;
    sl_owner *owner;             /* the lock held while this session owns db */
    char *read_only;             /* NULL when owner, else why it is not */
    sl_output *out;
    FILE *msg;
    int progress;
    sl_settings settings;
    sl_query **queries;          /* running continuous queries */
    int nqueries;
    /* queries stopped by a cause that passes (a lock, a full disk), to be
    ** started again from their last commit at retry_at_ms (query.c) */
    sl_catalog_obj **waiting;
    int nwaiting;
    int64_t retry_at_ms, backoff_ms;
    char wait_why[SL_ERROR_MAX];
    int lost;                    /* the database file was deleted or
                                    replaced: nothing more can be written */
    int64_t wal_checked_ms;      /* when the WAL's size was last looked at */
    int64_t wal_bytes;           /* its size then */
    int64_t wal_reported;        /* the size in sluice_metrics */
    volatile sig_atomic_t interrupted;
};

/* Applies one setting (SET name = value, or a query's WITH option) to set.
** Returns 0, or -1 with err at the option. */
int sl_settings_apply(sl_settings *set, const sl_option *o, sl_error *err);
/* 1 when key names a per-query setting (commit_interval, batch_rows,
** dedup_within). */
int sl_is_setting(const char *key);

/* Runs one SQLite statement (text[0..len)) and prints its rows, if any.
** offset is the absolute offset of text in the user's input, for errors.
** Returns 0, or -1 with err set. */
int sl_session_sqlite(sl_session *s, const char *text, int len, int offset,
                      sl_error *err);

/* Prints a result built by the engine (SHOW, DESCRIBE, EXPLAIN). */
void sl_session_print(sl_session *s, int ncols, const char *const *names,
                      const sl_type *types, int nrows,
                      const char *const *cells);

#endif
