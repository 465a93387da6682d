/*
** value.c: type names and type-name parsing (see value.h).
*/
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "engine/value.h"

static const char *const type_names[SL_TYPE_COUNT] = {
    "NULL", "BOOLEAN", "BIGINT", "DOUBLE", "TEXT", "TIMESTAMP", "INTERVAL"
};

const char *sl_type_name(sl_type t)
{
    return (unsigned)t < SL_TYPE_COUNT ? type_names[t] : "?";
}

static const struct { const char *name; sl_type type; } aliases[] = {
    {"BOOLEAN", SL_BOOL}, {"BOOL", SL_BOOL},
    {"BIGINT", SL_BIGINT}, {"INT", SL_BIGINT}, {"INTEGER", SL_BIGINT},
    {"SMALLINT", SL_BIGINT}, {"TINYINT", SL_BIGINT},
    {"DOUBLE", SL_DOUBLE}, {"FLOAT", SL_DOUBLE}, {"REAL", SL_DOUBLE},
    {"DECIMAL", SL_DOUBLE}, {"NUMERIC", SL_DOUBLE},
    {"TEXT", SL_TEXT}, {"VARCHAR", SL_TEXT}, {"STRING", SL_TEXT},
    {"CHAR", SL_TEXT},
    {"TIMESTAMP", SL_TIMESTAMP}, {"INTERVAL", SL_INTERVAL},
};

sl_type sl_type_from_name(const char *name, int n)
{
    for (unsigned i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if ((int)strlen(aliases[i].name) == n &&
            strncasecmp(aliases[i].name, name, n) == 0)
            return aliases[i].type;
    return SL_NULL;
}

int sl_type_is_numeric(sl_type t)
{
    return t == SL_BIGINT || t == SL_DOUBLE;
}

char *sl_interval_format(int64_t ms, char *buf, int bufsz)
{
    static const struct { int64_t ms; const char *unit; } units[] = {
        {86400000, "day"}, {3600000, "hour"}, {60000, "minute"},
        {1000, "second"}, {1, "millisecond"}};
    if (ms == 0) {
        snprintf(buf, (size_t)bufsz, "0");
        return buf;
    }
    for (int i = 0; i < 5; i++) {
        if (ms % units[i].ms == 0) {
            long long n = ms / units[i].ms;
            snprintf(buf, (size_t)bufsz, "%lld %s%s", n, units[i].unit,
                     n == 1 || n == -1 ? "" : "s");
            return buf;
        }
    }
    return buf;
}
