/*
** table_writer.h: writing a continuous query's results into its SQLite
** table (materialised view or streaming table).
*/
#ifndef SL_TABLE_WRITER_H
#define SL_TABLE_WRITER_H

#include <sqlite3.h>
#include "engine/plan.h"

typedef struct sl_table_writer sl_table_writer;

/* Prepares the statements for plan p's output table (which exists).
** Returns NULL with err set. */
sl_table_writer *sl_table_writer_new(sqlite3 *db, const sl_plan *p,
                                     sl_error *err);
void sl_table_writer_free(sl_table_writer *w);

/* Writes result rows (output layout): upserts for an EMIT CHANGES
** materialised view, inserts otherwise. Returns 0 or -1 with err set. */
int sl_table_writer_write(sl_table_writer *w, const sl_batch *out,
                          sl_error *err);
/* Deletes the rows whose keys are the first columns of keys (group-row
** order: group keys, window_start, window_end); a view without keys (a
** global aggregate) is emptied by any row of keys. */
int sl_table_writer_retract(sl_table_writer *w, const sl_batch *keys,
                            sl_error *err);

#endif
