/*
** sink.h: where a CREATE SINK's results go (file, stdout, kafka).
**
** A sink receives the query's result rows as they are published: for an
** append-only query (no aggregate, or EMIT ON WINDOW CLOSE) each row is one
** record; for EMIT CHANGES each upsert is a record and each retraction a
** delete record of the key (NDJSON `{"key": ..., "_deleted": true}`, a
** Kafka tombstone). Records are made durable at commit points, before the
** SQLite transaction that records the query's progress commits:
** commit() returns the sink's own position (a file's size), saved in that
** transaction, and resume() rolls the sink back to it after a crash, so a
** file sink is exactly-once; kafka and stdout are at-least-once.
*/
#ifndef SL_SINK_H
#define SL_SINK_H

#include "engine/batch.h"
#include "engine/error.h"
#include "grammar/ast.h"

typedef struct sl_sink sl_sink;

typedef struct sl_sink_vtab {
    const char *name;
    /* rows[0..nrows) with column names; is_delete: the rows are keys whose
    ** results are retracted (their first ncols columns) */
    int (*write)(sl_sink *k, const sl_batch *rows, int ncols,
                 char *const *names, int is_delete, sl_error *err);
    /* makes what was written durable; *position (malloc'd, may be NULL)
    ** is saved with the query's commit */
    int (*commit)(sl_sink *k, char **position, sl_error *err);
    /* after a restart: forget what was written after position */
    int (*resume)(sl_sink *k, const char *position, sl_error *err);
    void (*close)(sl_sink *k);
} sl_sink_vtab;

struct sl_sink {
    const sl_sink_vtab *vt;
};

/* Checks the WITH options of a CREATE SINK statement (errors at their
** place). changelog: the query retracts rows (EMIT CHANGES aggregates). */
int sl_sink_check(const sl_stmt *st, int changelog, sl_error *err);
/* Opens the sink of st. Returns NULL with err set. */
sl_sink *sl_sink_open(const sl_stmt *st, int changelog, sl_error *err);
void sl_sink_close(sl_sink *k);

/* The Kafka sink (connectors/kafka_sink.c). */
sl_sink *sl_kafka_sink_open(const sl_stmt *st, int changelog, sl_error *err);
int sl_kafka_sink_check(const sl_stmt *st, sl_error *err);

#endif
