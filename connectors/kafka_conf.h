/*
** kafka_conf.h: the 'kafka.<property>' options of a Kafka source or sink,
** librdkafka properties passed through as they are written.
**
** Checked once where they are written (CREATE SOURCE, CREATE SINK) by
** librdkafka itself on a scratch configuration, so a misspelt property or
** a bad value is an error at its place; applied to the real configuration
** when the connector opens.
*/
#ifndef SL_KAFKA_CONF_H
#define SL_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>
#include "engine/error.h"
#include "grammar/ast.h"

/* Checks every 'kafka.<property>' option of st with librdkafka: an unknown
** property is an error at the option's name, a bad value at its value. */
int sl_kafka_props_check(const sl_stmt *st, sl_error *err);

/* Sets every 'kafka.<property>' option of st on conf (after sluice's own
** settings, so the user's win); *user_debug = 1 when 'kafka.debug' is
** given. Returns -1 with err set (conf unchanged beyond what was set). */
int sl_kafka_props_apply(rd_kafka_conf_t *conf, const sl_stmt *st,
                         int *user_debug, sl_error *err);

#endif
