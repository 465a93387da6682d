/*
** kafka_source.h: what CREATE SOURCE asks of the Kafka connector
** (connectors/kafka_source.c; the source itself opens through
** sl_kafka_source_open in source.h).
*/
#ifndef SL_KAFKA_SOURCE_H
#define SL_KAFKA_SOURCE_H

#include "engine/error.h"
#include "grammar/ast.h"

/* Checks the values of a Kafka source's own options (start, until,
** idle_timeout) and its 'kafka.<property>' options, as CREATE SOURCE is
** run: a bad value is an error at the value, saying what is accepted. The
** option names are checked by the caller (sl_options_check). */
int sl_kafka_source_check(const sl_stmt *s, sl_error *err);

#endif
