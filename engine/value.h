/*
** value.h: sluice's SQL types and single values.
**
** Types follow DESIGN §2: BOOLEAN, BIGINT, DOUBLE, TEXT, TIMESTAMP (UTC,
** int64 milliseconds since the epoch) and INTERVAL (int64 milliseconds).
** BOOLEAN, BIGINT, TIMESTAMP and INTERVAL are all stored as int64.
** Text is a view {z, n} into memory owned by someone else (a batch arena, an
** input buffer, a plan literal); whoever keeps a text beyond that owner's
** life copies it.
*/
#ifndef SL_VALUE_H
#define SL_VALUE_H

#include <stdint.h>

typedef enum sl_type {
    SL_NULL = 0,      /* the type of the NULL literal before binding */
    SL_BOOL,
    SL_BIGINT,
    SL_DOUBLE,
    SL_TEXT,
    SL_TIMESTAMP,
    SL_INTERVAL
} sl_type;

#define SL_TYPE_COUNT 7

typedef struct sl_str {
    const char *z;
    int32_t n;
} sl_str;

typedef struct sl_value {
    sl_type type;
    int is_null;
    union {
        int64_t i;     /* BOOL (0/1), BIGINT, TIMESTAMP ms, INTERVAL ms */
        double d;      /* DOUBLE */
        sl_str s;      /* TEXT */
    } u;
} sl_value;

/* "BIGINT", "TEXT", ... (the canonical name used in DESCRIBE and errors). */
const char *sl_type_name(sl_type t);

/* Maps a type name as written in SQL (INT, INTEGER, BIGINT, FLOAT, REAL,
** DOUBLE, VARCHAR, STRING, TEXT, BOOLEAN, BOOL, TIMESTAMP, INTERVAL;
** case-insensitive, n bytes) to its type. Returns SL_NULL when unknown. */
sl_type sl_type_from_name(const char *name, int n);

/* Writes an interval in words ("1 minute", "90 seconds", "0") into buf;
** returns buf. */
char *sl_interval_format(int64_t ms, char *buf, int bufsz);

/* Writes d as SQLite prints a REAL: the shortest text that reads back as
** the same double, always with a '.' or exponent ("10.0", "1.5", "1.0e+20"),
** "Inf", "-Inf", NaN as "NaN", into buf (at least 64 bytes). Returns the
** length. (engine/functions.c) */
int sl_format_double(double d, char *buf);

/* 1 for BIGINT and DOUBLE. */
int sl_type_is_numeric(sl_type t);

#endif
