/*
** file_source.h: a source reading CSV or NDJSON files matching a glob.
**
** Bounded (follow = 0): reads every file matching the glob at open, in
** name order, to its end, then reports end of input. Following (follow = 1):
** also reads lines appended to those files and new files that appear
** matching the glob, and never ends. A partial last line is held back until
** its newline arrives (or, bounded, until end of file). A UTF-8 byte-order
** mark at the start of a file is skipped. A CSV quoted field never closed
** (at the end of the input, or after max_record_bytes bytes) makes the
** record's first line a dead letter; reading resumes at the next line.
**
** Every row carries its location (file index, line, byte offset); a record
** that does not decode is handed to the reject callback with file:line and
** its raw text, and reading goes on. The position (which file, which byte)
** can be saved and restored, for checkpoints.
*/
#ifndef SL_FILE_SOURCE_H
#define SL_FILE_SOURCE_H

#include "connectors/decoder.h"

typedef struct sl_file_source sl_file_source;

typedef struct sl_file_source_options {
    const char *path;          /* glob */
    int follow;
    sl_decoder_options decode;
    /* CSV: a quoted field still open this many bytes into its record ends
    ** the record at its first line, a dead letter (0: the default, 1 MiB) */
    size_t max_record_bytes;
} sl_file_source_options;

#define SL_FILE_MAX_RECORD_BYTES_DEFAULT ((size_t)1 << 20)

/* Called for a record that cannot be decoded. file is the path, line 1-based,
** raw/rawlen the record without its line terminator. */
typedef void (*sl_reject_fn)(void *ctx, const char *file, int64_t line,
                             int64_t offset, const char *raw, size_t rawlen,
                             const char *reason);

/* Opens the source. A bounded glob that matches no file is an error
** ("no file matches 'data/x*.csv'"); a following one waits for files.
** Returns NULL and sets err on failure. */
sl_file_source *sl_file_source_open(const sl_file_source_options *opt,
                                    int ncols, const char *const *names,
                                    const sl_type *types, sl_error *err);
void sl_file_source_close(sl_file_source *fs);

/* Appends up to max_rows decoded rows to b (which has the schema's columns).
** Returns the number of rows appended (0 when nothing is available now, or
** at end), or -1 with err set on an I/O error. Sets *done = 1 once a bounded
** source has read everything. */
int sl_file_source_next(sl_file_source *fs, sl_batch *b, int max_rows,
                        sl_reject_fn reject, void *ctx, int *done,
                        sl_error *err);

/* Bytes examined so far to find where records end (a record examined
** twice counts twice): for tests that the cost of a record is linear in
** its length, however many pieces it arrives in. */
int64_t sl_file_source_scanned_bytes(const sl_file_source *fs);

/* Path of the file with index part (rowloc.part), or NULL. */
const char *sl_file_source_file_name(const sl_file_source *fs, int part);

/* Fraction of the bounded input read so far (0..1), for progress bars. */
double sl_file_source_progress(const sl_file_source *fs);

/* Position for checkpoints: a NUL-terminated text (malloc'd) that
** sl_file_source_seek() understands, covering every file: which files are
** done and the byte offset and line reached in the current one. The position
** is that of the end of the last record returned by _next. */
char *sl_file_source_position(const sl_file_source *fs);
/* Restores a position saved by sl_file_source_position(). Returns 0, or -1
** with err set. Call right after open. */
int sl_file_source_seek(sl_file_source *fs, const char *position,
                        sl_error *err);

#endif
