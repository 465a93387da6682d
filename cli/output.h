/*
** output.h: result formatting for every way sluice prints rows.
**
** Modes (DESIGN §4): table (aligned, boxed with +---+ borders, like the
** sqlite3 shell's table mode), csv (RFC 4180, header line), json (one JSON
** array of objects per result; with streaming, one object per line is
** allowed: see sl_output_flush), line (`column = value` per line, blank line
** between rows, like sqlite3's line mode).
**
** The engine and the pull-query path call begin / row* / end. Values are
** given as text (NULL pointer = SQL NULL) with the column's type so numbers
** are right-aligned in table mode and unquoted in json.
*/
#ifndef SL_OUTPUT_H
#define SL_OUTPUT_H

#include <stdio.h>
#include "engine/value.h"

typedef enum sl_output_mode {
    SL_MODE_TABLE, SL_MODE_CSV, SL_MODE_JSON, SL_MODE_LINE
} sl_output_mode;

typedef struct sl_output sl_output;

/* Creates a formatter writing to out (not owned). */
sl_output *sl_output_new(FILE *out, sl_output_mode mode);
void sl_output_free(sl_output *o);
void sl_output_set_mode(sl_output *o, sl_output_mode mode);
sl_output_mode sl_output_get_mode(const sl_output *o);
/* Parses "table", "csv", "json", "line"; returns 0 and sets *mode, or -1. */
int sl_output_mode_parse(const char *name, sl_output_mode *mode);

/* Starts a result of ncols columns (names and types are copied). */
void sl_output_begin(sl_output *o, int ncols, const char *const *names,
                     const sl_type *types);
/* One row: values[i] is the text of column i, or NULL for SQL NULL. */
void sl_output_row(sl_output *o, const char *const *values);
/* Writes what is buffered (table mode buffers rows to size its columns;
** a streaming push query calls this after each batch so rows appear as they
** come). */
void sl_output_flush(sl_output *o);
/* Ends the result (prints the table's bottom border, closes the json array). */
void sl_output_end(sl_output *o);

#endif
