/*
** nexmark_source.h: the in-process Nexmark source (connector = 'nexmark').
**
** One source reads one kind of the generated stream (person, auction or
** bid; connectors/nexmark_gen.h), as Flink's Nexmark runs its queries from
** the `nexmark` datagen connector. Its declared columns are fields of that
** kind chosen by name (any subset, any order), filled straight into the
** batch: no text is formatted or parsed. The position is the number of the
** next event of the stream, so checkpoints and restarts replay exactly.
**
**   CREATE SOURCE bid (auction BIGINT, price BIGINT, dateTime TIMESTAMP,
**                      WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND)
**   WITH (connector = 'nexmark', kind = 'bid', events = '10000000');
*/
#ifndef SL_NEXMARK_SOURCE_H
#define SL_NEXMARK_SOURCE_H

#include "connectors/source.h"

/* The options of a nexmark source (kind, events, seed, event_rate,
** start_time) into d, and its declared columns checked against the kind's
** fields (unknown name, wrong type: errors at the column). */
int sl_nexmark_source_check(const sl_stmt *s, sl_source_def *d, sl_error *err);

/* Opens a source checked by sl_nexmark_source_check. */
sl_source *sl_nexmark_source_open(const sl_source_def *def, sl_error *err);

#endif
