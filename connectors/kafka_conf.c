/*
** kafka_conf.c: the 'kafka.<property>' pass-through options (see
** kafka_conf.h). Owns nothing: the configurations belong to the callers.
*/
#include <string.h>
#include <strings.h>
#include "connectors/kafka_conf.h"

static int is_prop(const sl_option *o)
{
    return strncasecmp(o->key, "kafka.", 6) == 0;
}

int sl_kafka_props_apply(rd_kafka_conf_t *conf, const sl_stmt *st,
                         int *user_debug, sl_error *err)
{
    char errstr[512];
    for (int i = 0; i < st->nopts; i++) {
        const sl_option *o = &st->opts[i];
        if (!is_prop(o))
            continue;
        if (strcmp(o->key + 6, "debug") == 0 && user_debug)
            *user_debug = 1;
        rd_kafka_conf_res_t r = rd_kafka_conf_set(conf, o->key + 6, o->value,
                                                  errstr, sizeof errstr);
        if (r != RD_KAFKA_CONF_OK)
            return sl_error_set(err, r == RD_KAFKA_CONF_UNKNOWN ? o->offset
                                                                : o->value_offset,
                                "kafka property '%s': %s", o->key + 6, errstr);
    }
    return 0;
}

int sl_kafka_props_check(const sl_stmt *st, sl_error *err)
{
    rd_kafka_conf_t *scratch = rd_kafka_conf_new();
    int rc = sl_kafka_props_apply(scratch, st, NULL, err);
    rd_kafka_conf_destroy(scratch);
    return rc;
}
