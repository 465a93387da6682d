/*
** session.h: one open sluice database and the statements run against it.
**
** The session is what the CLI talks to: it opens (or creates) the database,
** loads the catalog, resumes persisted continuous queries, and executes
** statement text: sluice's own statements through the parser, binder and
** engine; pull queries and plain SQLite statements through SQLite.
*/
#ifndef SL_SESSION_H
#define SL_SESSION_H

#include <stdio.h>
#include "engine/error.h"
#include "cli/output.h"

typedef struct sl_session sl_session;

typedef struct sl_session_options {
    sl_output *out;        /* where result rows go (not owned) */
    FILE *msg;             /* progress and notices (stderr) */
    int progress;          /* 1: draw a progress bar on msg (a terminal) */
    int read_only;         /* 1: never own the database, only read it */
} sl_session_options;

/* Opens path (created if missing) in WAL mode and loads its catalog.
** The first process to open a database owns it (storage/owner.h): it
** resumes its continuous queries and is the only one to write. Any other
** session is read-only: another process owns the database, it cannot be
** written (a read-only file or directory), or opt->read_only asked so; it
** resumes nothing and runs only statements that read (pull queries, SHOW,
** DESCRIBE, EXPLAIN, SET), refusing the rest with an error that says why.
** Returns NULL and sets err on failure. */
sl_session *sl_session_open(const char *path, const sl_session_options *opt,
                            sl_error *err);
void sl_session_close(sl_session *s);

/* NULL when the session owns its database; otherwise the sentence saying
** why it is read-only ("database shop.db is owned by sluice process 4242
** (started ...)"), valid until the session is closed. */
const char *sl_session_read_only(const sl_session *s);

/* Executes every statement of text[0..len). Stops at the first error and
** returns -1 with err set (err->offset absolute in text) and *failed_stmt
** (if not NULL) set to the 1-based index of the failing statement; returns
** 0 when all succeeded. */
int sl_session_exec(sl_session *s, const char *text, int len, sl_error *err,
                    int *failed_stmt);

/* Runs background (unbounded) continuous queries for at most timeout_ms
** (0: one step); returns the number still running. */
int sl_session_run(sl_session *s, int timeout_ms, sl_error *err);

/* Asks running queries to commit and stop (safe from a signal handler). */
void sl_session_interrupt(sl_session *s);
/* Forgets an interrupt once it has been handled (the REPL: Ctrl-C cancels
** the statement, not the background queries). */
void sl_session_clear_interrupt(sl_session *s);

/* Calls fn for the name of every object in the catalog (completion). */
void sl_session_names(sl_session *s, void (*fn)(void *ctx, const char *name),
                      void *ctx);

#endif
