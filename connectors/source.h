/*
** source.h: the interface every source connector implements (file, kafka).
**
** The query runtime pulls batches of decoded rows through next(), saves and
** restores positions for checkpoints, and asks for the partitions that
** currently hold the watermark back (DESIGN §2 rule 2: a multi-partition
** source's watermark is the minimum over its partitions; a partition idle
** for idle_timeout stops holding it back). Each row's sl_rowloc.part names
** its partition (Kafka) or file (file source).
*/
#ifndef SL_SOURCE_CONN_H
#define SL_SOURCE_CONN_H

#include "connectors/file_source.h"
#include "engine/source.h"

typedef struct sl_source sl_source;

typedef struct sl_source_vtab {
    const char *name;                    /* "file", "kafka", "table" */
    /* as sl_file_source_next: appends up to max_rows rows to b; returns the
    ** count (0: nothing now), -1 with err set; *done = 1 once a bounded
    ** source is finished */
    int (*next)(sl_source *src, sl_batch *b, int max_rows, sl_reject_fn reject,
                void *ctx, int *done, sl_error *err);
    /* the position after the last row returned, as text (malloc'd) */
    char *(*position)(const sl_source *src);
    /* restores a position saved by position(); call right after open */
    int (*seek)(sl_source *src, const char *position, sl_error *err);
    /* fraction of a bounded input read, 0..1 (-1 unknown) */
    double (*progress)(const sl_source *src);
    /* where a row came from, for dead letters: "file:line",
    ** "topic/partition/offset" (malloc'd) */
    char *(*location)(const sl_source *src, const sl_rowloc *loc);
    /* NULL for a single-partition source (the watermark is the source's
    ** max event time minus delay). Otherwise fills parts[0..n) with the
    ** partitions that hold the watermark back now (assigned and not idle)
    ** and returns n (at most max). */
    int (*active_partitions)(sl_source *src, int32_t *parts, int max);
    /* the offsets it has read are committed in the database: a Kafka source
    ** may now commit them to its consumer group (may be NULL) */
    void (*committed)(sl_source *src);
    void (*close)(sl_source *src);
} sl_source_vtab;

struct sl_source {
    const sl_source_vtab *vt;
};

/* Opens the connector of def (file or kafka) for reading its declared
** columns (def->ndeclared) plus its pseudo-columns. query names the
** reader (consumer group defaults). Returns NULL with err set. */
sl_source *sl_source_open(const sl_source_def *def, const char *query,
                          sl_error *err);
void sl_source_close(sl_source *src);

/* A streaming table of the same database, read by rowid through def->db
** (connectors/table_source.c). */
sl_source *sl_table_source_open(const sl_source_def *def, sl_error *err);

/* The Kafka connector (connectors/kafka_source.c). */
sl_source *sl_kafka_source_open(const sl_source_def *def, const char *query,
                                sl_error *err);

#endif
