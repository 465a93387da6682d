/*
** source.h: a source's definition, checked and resolved from CREATE SOURCE.
**
** Turns the statement's columns, WATERMARK line and WITH options into a
** definition the binder and the runtime use: the schema (declared columns,
** then the connector's pseudo-columns), the event-time column and delay, and
** the connector settings. Every mistake is reported at its place in the
** statement (unknown option, bad value, a watermark on a column that is not
** a TIMESTAMP, ...).
*/
#ifndef SL_SOURCE_H
#define SL_SOURCE_H

#include "grammar/ast.h"
#include "engine/error.h"
#include "connectors/decoder.h"
#include "connectors/nexmark_gen.h"

/* SL_CONN_TABLE: not a CREATE SOURCE but a streaming table of the same
** database that a continuous query reads (connectors/table_source.c). */
typedef enum sl_connector {
    SL_CONN_FILE, SL_CONN_KAFKA, SL_CONN_NEXMARK, SL_CONN_TABLE
} sl_connector;

struct sqlite3;

typedef struct sl_source_def {
    char *name;
    int ncols;                 /* declared + pseudo-columns */
    int ndeclared;             /* the first ndeclared columns come from records */
    char **col_names;
    sl_type *col_types;
    unsigned char *col_not_null; /* declared NOT NULL: a record with a NULL
                                 ** there is a dead letter (the decoder
                                 ** rejects it; decode.not_null points here) */
    int event_time_col;        /* -1: no event time */
    int64_t watermark_delay_ms;
    sl_connector connector;
    /* file */
    char *path;
    int follow;                /* also: an unbounded nexmark stream, a
                               ** streaming table whose query is not done */
    size_t max_record_bytes;   /* CSV: bound of an open quoted field (0:
                               ** the default, 1 MiB) */
    sl_decoder_options decode;
    /* nexmark (connectors/nexmark_source.h) */
    int nexmark_kind;          /* SL_NEXMARK_PERSON, _AUCTION, _BID */
    int64_t nexmark_events;    /* the stream's length, 0: unbounded */
    sl_nexmark_config nexmark;
    /* table: name is the streaming table (and its SQLite table); db the
    ** session's connection it is read through (borrowed); window_end_col,
    ** when >= 0, is the declared column whose value minus 1 ms fills the
    ** pseudo-column window_time (the rows of a windowed upstream) */
    struct sqlite3 *db;
    int window_end_col;
    /* the statement (borrowed from the catalog object) */
    const sl_stmt *stmt;
} sl_source_def;

/* Checks stmt (a CREATE SOURCE) and builds its definition. Returns NULL with
** err at the offending place. */
sl_source_def *sl_source_def_new(const sl_stmt *stmt, sl_error *err);
void sl_source_def_free(sl_source_def *d);

/* The definition of streaming table `name` read as a source through db:
** its columns names[0..n) with types, then, when window_end_col >= 0, the
** pseudo-column window_time (TIMESTAMP). No event time yet (the binder
** sets it); stmt is the streaming table's statement (borrowed). */
sl_source_def *sl_source_def_table(const char *name, struct sqlite3 *db,
                                   int n, char *const *names,
                                   const sl_type *types, int window_end_col,
                                   const sl_stmt *stmt);

/* Index of the column called name (case-insensitive), or -1. */
int sl_source_def_column(const sl_source_def *d, const char *name);

/* The one check of a statement's WITH options against a connector's table
** of known names (CREATE SOURCE, COPY, CREATE SINK): allowed is
** NULL-terminated; with kafka_props, 'kafka.<property>' options pass too
** (their values are the connector's to check). An unknown or repeated
** option is an error at its place, naming `what` ("connector 'file'",
** "COPY") and the close name or the accepted ones. */
int sl_options_check(const sl_stmt *s, const char *const *allowed,
                     int kafka_props, const char *what, sl_error *err);

/* Reads the decoding options (format, header, delimiter, timestamp_format)
** of s into *d, the format defaulting by path's extension (path may be
** NULL); a bad value is an error at the value with what is accepted. */
int sl_decode_options_check(const sl_stmt *s, const char *path,
                            sl_decoder_options *d, sl_error *err);

#endif
