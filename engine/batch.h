/*
** batch.h: batches of rows, the unit of work of every operator.
**
** A batch is columnar: each column is one typed array plus a NULL flag array.
** Text values are sl_str views into the batch's arena (or into memory that
** outlives the batch, such as plan literals). A batch owns its arrays and its
** arena; sl_batch_reset() empties it for reuse without freeing, so the hot
** path allocates nothing per event once batches have reached their size.
**
** Each row also carries its origin (sl_rowloc): which file or partition, the
** line and the byte offset or Kafka offset. Dead letters, late events and
** checkpoints are built from it.
*/
#ifndef SL_BATCH_H
#define SL_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include "engine/value.h"

/* A bump allocator for text. Blocks are kept on reset and reused. */
typedef struct sl_arena_block sl_arena_block;
typedef struct sl_arena {
    sl_arena_block *head;    /* current block */
    sl_arena_block *first;   /* all blocks, for reuse after reset */
} sl_arena;

void sl_arena_init(sl_arena *a);
/* Returns n bytes (8-aligned) that live until the next reset; aborts on OOM. */
void *sl_arena_alloc(sl_arena *a, size_t n);
/* Copies n bytes of z into the arena and returns the copy as an sl_str. */
sl_str sl_arena_strdup(sl_arena *a, const char *z, size_t n);
void sl_arena_reset(sl_arena *a);
void sl_arena_free(sl_arena *a);

typedef struct sl_rowloc {
    int32_t part;     /* file index within the source, or Kafka partition */
    int64_t line;     /* 1-based line number (files), or 0 */
    int64_t pos;      /* byte offset of the record (files), or Kafka offset */
    int64_t ts_ms;    /* Kafka record timestamp, or 0 */
} sl_rowloc;

typedef struct sl_column {
    sl_type type;
    uint8_t *null;           /* null[i] != 0: row i is NULL */
    union {
        int64_t *i;          /* BOOL, BIGINT, TIMESTAMP, INTERVAL */
        double *d;           /* DOUBLE */
        sl_str *s;           /* TEXT */
    } v;
} sl_column;

typedef struct sl_batch {
    int nrows;
    int cap;                 /* rows allocated in every column */
    int ncols;
    sl_column *cols;
    sl_rowloc *loc;          /* one per row */
    sl_arena arena;          /* text of this batch */
    /* Optional selection vector (owned by whoever set it): when not NULL,
    ** rows with selected[r] == 0 were filtered out but are still part of
    ** the stream (they move watermarks). sl_batch_reset clears it. */
    const uint8_t *selected;
    /* which input of the query the rows come from: 0, or 1 for the second
    ** source of a window join (late events and dead letters name it) */
    int side;
} sl_batch;

/* Creates an empty batch with ncols columns of the given types and room for
** cap rows. Aborts on OOM. */
sl_batch *sl_batch_new(int ncols, const sl_type *types, int cap);
void sl_batch_free(sl_batch *b);
/* Empties b (nrows = 0, arena reset) keeping its memory. */
void sl_batch_reset(sl_batch *b);
/* Makes room for at least cap rows. */
void sl_batch_reserve(sl_batch *b, int cap);
/* Appends one row whose columns are all NULL and returns its index; grows the
** batch when full. The caller then sets the values it has. */
int sl_batch_add_row(sl_batch *b);

/* Setters for row r, column c: they clear the NULL flag. Text is copied into
** the batch arena. */
void sl_batch_set_int(sl_batch *b, int r, int c, int64_t v);
void sl_batch_set_double(sl_batch *b, int r, int c, double v);
void sl_batch_set_text(sl_batch *b, int r, int c, const char *z, size_t n);
void sl_batch_set_null(sl_batch *b, int r, int c);
/* Keeps only rows[0..n) (ascending indexes), in that order, moving them to
** the front; text views stay valid (the arena is untouched). */
void sl_batch_select(sl_batch *b, const int *rows, int n);

/* Appends every row of src to dst, which has the same column types:
** values, NULL flags and origins are copied, text into dst's arena, so dst
** does not depend on src afterwards. Returns the bytes of text copied. */
size_t sl_batch_append(sl_batch *dst, const sl_batch *src);

/* Row r of col as text: a pointer into the batch for TEXT (not
** NUL-terminated), else formatted into buf (at least 64 bytes): numbers as
** SQLite prints them, TIMESTAMP as `YYYY-MM-DD HH:MM:SS.mmm`, BOOLEAN as
** true/false. *len gets the length. Returns NULL for SQL NULL. */
const char *sl_column_text(const sl_column *col, int r, char *buf, int *len);

/* Reads row r, column c as a value (text points into the batch). */
sl_value sl_batch_get(const sl_batch *b, int r, int c);

/* A growable byte buffer (checkpoints, JSON rows). */
typedef struct sl_buf {
    unsigned char *z;
    size_t n, cap;
} sl_buf;

void sl_buf_put(sl_buf *b, const void *p, size_t n);
void sl_buf_free(sl_buf *b);
/* Reads n bytes at *p (advancing it) unless that passes end: returns 0,
** or -1 and leaves *p alone. */
int sl_buf_get(const unsigned char **p, const unsigned char *end, void *out,
               size_t n);

/* Rows as bytes (operator state, checkpoints): appends row r of
** cols[0..ncols) to out, per column a NULL flag byte, then 8 bytes (numbers,
** times, booleans) or a u32 length and the text; a column with keep[c] == 0
** (keep NULL: every column kept) is written as NULL. Equal rows give equal
** bytes, so the bytes of key columns serve as a key. */
void sl_row_write(sl_buf *out, const sl_column *cols, int ncols, int r,
                  const uint8_t *keep);
/* Reads a row sl_row_write wrote at p into out's row r, columns c0 ..
** c0 + ncols (which the caller left NULL: a new row); returns the byte after
** it. The bytes are trusted (checked for length by their owner). */
const unsigned char *sl_row_read(const unsigned char *p, sl_batch *out, int r,
                                 int c0, int ncols);

/* Appends row r of the first ncols columns of b to out as a JSON object
** {"name": value, ...}: numbers and booleans unquoted, TIMESTAMP and TEXT as
** strings, NULL as null. */
void sl_row_to_json(const sl_batch *b, int r, int ncols, char *const *names,
                    sl_buf *out);

#endif
