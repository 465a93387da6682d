/*
** decoder.h: schema-driven decoding of CSV and NDJSON records into batches.
**
** A decoder is made for one schema (column names and types). It turns one
** record's bytes straight into typed values appended to an sl_batch: no
** intermediate document, no allocation per record (text goes into the batch
** arena). A record that cannot be decoded is rejected with a reason; the
** caller sends it to the dead-letter table. Decoders never crash on any
** input (they are fuzzed).
**
** CSV: RFC 4180 (quoted fields, "" escapes, quoted newlines), a configurable
** delimiter, optional header naming columns in any order (matched to the
** schema case-insensitively; extra header columns are ignored, a schema
** column missing from the header is always NULL). Without a header, fields
** are positional and a record with a different number of fields is rejected.
** An empty unquoted field is NULL.
** NDJSON: one JSON object per line; a schema column name with dots
** (`payload.user.id`) reaches into nested objects; a missing field is NULL;
** JSON null is NULL; unknown fields are skipped.
** Conversions: BIGINT from integer text/JSON numbers, DOUBLE from numbers,
** BOOLEAN from true/false (also 1/0, t/f, yes/no in CSV), TEXT from strings
** (JSON numbers/booleans read as their text), TIMESTAMP from ISO-8601 text or
** from numbers per timestamp_format. A value that does not convert rejects
** the record ("column amount: cannot convert 'abc' to DOUBLE"), and so does
** a NULL in a column the options declare NOT NULL.
*/
#ifndef SL_DECODER_H
#define SL_DECODER_H

#include <stddef.h>
#include "engine/batch.h"
#include "engine/error.h"

typedef enum sl_format { SL_FORMAT_CSV, SL_FORMAT_NDJSON } sl_format;

/* (An enum tag only: the name sl_ts_format is also the formatting function
** below, so the type is spelled `enum sl_ts_format`.) */
enum sl_ts_format {
    SL_TS_ISO = 0,      /* ISO-8601 text (numbers are rejected) */
    SL_TS_EPOCH_MS,     /* numbers (or numeric text) are epoch milliseconds */
    SL_TS_EPOCH_S       /* numbers are epoch seconds (fractions allowed) */
};

typedef struct sl_decoder_options {
    sl_format format;
    char delimiter;           /* CSV; default ',' */
    int header;               /* CSV: first record of each file is a header */
    enum sl_ts_format ts_format;
    /* ncols flags (borrowed; the decoder copies them), or NULL: a record
    ** whose value for a flagged column is NULL is rejected ("column
    ** user_id: NULL, and the column is declared NOT NULL") */
    const unsigned char *not_null;
} sl_decoder_options;

typedef struct sl_decoder sl_decoder;

/* Creates a decoder for ncols columns: names[i] (copied) and types[i].
** Batches given to it must have those columns first, in that order (they
** may have more columns after them, which the decoder leaves NULL).
** Returns NULL and sets err on bad options. */
sl_decoder *sl_decoder_new(const sl_decoder_options *opt, int ncols,
                           const char *const *names, const sl_type *types,
                           sl_error *err);
void sl_decoder_free(sl_decoder *d);

/* Finds the end of the first complete record in buf[0..len): sets *reclen to
** its length including the line terminator and returns 1; returns 0 when buf
** holds no complete record yet (CSV records may span lines inside quotes).
** When at_eof is 1, a final record without a newline is complete. */
int sl_decoder_split(const sl_decoder *d, const char *buf, size_t len,
                     int at_eof, size_t *reclen);

/* Where splitting stopped in a record that is not complete yet, so that a
** later call with more bytes goes on from there instead of rescanning the
** record from its start: a record costs time linear in its length however
** many pieces it arrives in. Zero it before the first call for a record. */
typedef struct sl_split_state {
    size_t scanned;     /* bytes of the record examined so far */
    size_t first_line;  /* CSV: length of the record's first line with its
                        ** newline (a newline inside quotes); 0: none yet */
    int in_quotes;      /* CSV: a quoted field is open at `scanned` */
    int in_field;       /* CSV: `scanned` is past the start of a field */
} sl_split_state;

/* sl_decoder_split for a record of which st says how much was examined by
** earlier calls (buf is the same record, at least st->scanned bytes).
** Returns as sl_decoder_split. On 0, st is where it stopped; on 1 at_eof
** with the whole buffer as the record, st->in_quotes says whether it ends
** inside a quoted field (the quote was never closed). */
int sl_decoder_split_more(const sl_decoder *d, const char *buf, size_t len,
                          int at_eof, sl_split_state *st, size_t *reclen);

/* CSV with header: reads a header record and maps its columns to the
** schema. Returns 0, or -1 with err set. A new file calls it again. */
int sl_decoder_header(sl_decoder *d, const char *rec, size_t len,
                      sl_error *err);

/* Decodes one record (without or with its line terminator) and appends a
** row to b. Returns 1 when a row was appended, 0 when the record is blank
** (nothing appended, nothing rejected), -1 when the record is rejected:
** nothing is appended and reason (NUL-terminated, at most reason_cap bytes)
** says why. */
int sl_decoder_decode(sl_decoder *d, const char *rec, size_t len,
                      sl_batch *b, char *reason, size_t reason_cap);

/* Splits and decodes in one step when the first record of buf[0..len) is
** one whole line: it ends at the first newline and (CSV) no field of it
** starts with a quote. Then sets *reclen (including the newline) and
** returns what sl_decoder_decode returns for that record. Otherwise returns
** -2 having appended nothing (a record spanning lines, or no newline yet):
** use sl_decoder_split and sl_decoder_decode. */
int sl_decoder_decode_line(sl_decoder *d, const char *buf, size_t len,
                           sl_batch *b, size_t *reclen, char *reason,
                           size_t reason_cap);

/* Whether z/n is valid UTF-8 (NUL bytes allowed): text that is not must
** be stored as a BLOB, e.g. the raw text of a dead letter. */
int sl_utf8_valid(const char *z, size_t n);

/* Timestamp helpers (engine-wide, in connectors/timestamp.c). */

/* Parses ISO-8601: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.fff]]`, `T` or space
** separator, optional `Z` or `+HH:MM` / `-HH:MM` / `+HHMM` offset; returns 0 and
** UTC epoch ms in *ms, or -1. */
int sl_ts_parse(const char *z, size_t n, int64_t *ms);
/* A one-entry cache of the last date parsed by sl_ts_parse_cached. Start it
** zeroed. */
typedef struct sl_ts_cache {
    int valid;
    char date[10];          /* `YYYY-MM-DD` text */
    int64_t day_ms;         /* its midnight, UTC epoch ms */
} sl_ts_cache;
/* sl_ts_parse with the same results, faster for the fixed shapes
** `YYYY-MM-DD[T ]HH:MM:SS[.mmm][Z]` and for runs of values sharing a date. */
int sl_ts_parse_cached(sl_ts_cache *c, const char *z, size_t n, int64_t *ms);
/* Formats ms as `YYYY-MM-DD HH:MM:SS.mmm` (UTC) into out (>= 24 bytes);
** returns the length (23). */
int sl_ts_format(int64_t ms, char *out);

#endif
