/*
** kafka_sink.c: CREATE SINK ... WITH (connector = 'kafka'): results as
** Kafka messages through librdkafka's idempotent producer.
**
** Each record is one message: the value is the row as JSON; the key is the
** `key` option's column(s) as text (several columns joined with ','). A
** retraction under EMIT CHANGES is a tombstone: the same key (the key
** option's columns, which must then be GROUP BY columns; without the
** option, the whole group key) with a NULL value.
** At each commit point the producer is flushed and every delivery report
** checked before the query's SQLite commit: a failed delivery fails the
** query with the broker's reason, never silently. Delivery is
** at-least-once: after a crash, the messages of the interval that did not
** commit are produced again (docs/operations.md says what exactly-once
** would need).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <librdkafka/rdkafka.h>
#include "connectors/kafka_conf.h"
#include "connectors/kafka_shutdown.h"
#include "connectors/sink.h"
#include "engine/source.h"

#define CLOSE_FLUSH_WAIT_MS 5000     /* delivering what is queued at close */
#define CLOSE_SHUTDOWN_WAIT_MS 3000  /* destroying the producer */

typedef struct kafka_sink {
    sl_sink base;
    rd_kafka_t *rk;
    char *topic;
    char *key_spec;        /* the key option, or NULL */
    int *key_cols;         /* resolved at the first write */
    int nkey;
    int resolved;
    int *del_cols;         /* the key columns among a retraction's columns */
    int ndel;
    int del_resolved;
    long failed;           /* deliveries that failed since the last commit */
    char first_error[256];
    char broker_error[256];  /* librdkafka's last client error, or "" */
    int user_debug;          /* 'kafka.debug' given: show librdkafka's log */
    sl_buf value, key;
} kafka_sink;

static const char *const kafka_sink_options[] = {
    "connector", "brokers", "topic", "key", "format", "commit_interval",
    "batch_rows", NULL
};

int sl_kafka_sink_check(const sl_stmt *st, sl_error *err)
{
    const sl_option *conn = sl_stmt_option(st, "connector");
    if (sl_options_check(st, kafka_sink_options, 1, "a kafka sink", err) != 0 ||
        sl_kafka_props_check(st, err) != 0)
        return -1;
    if (sl_stmt_option(st, "brokers") == NULL || sl_stmt_option(st, "topic") == NULL)
        return sl_error_set(err, conn->offset, "a kafka sink needs brokers = "
                            "'<host:port>' and topic = '<name>'");
    const sl_option *f = sl_stmt_option(st, "format");
    if (f != NULL && strcasecmp(f->value, "json") != 0 &&
        strcasecmp(f->value, "ndjson") != 0)
        return sl_error_set(err, f->value_offset, "a kafka sink writes "
                            "format = 'json', not '%s'", f->value);
    return 0;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    kafka_sink *s = opaque;
    if (m->err) {
        if (s->failed++ == 0)
            snprintf(s->first_error, sizeof s->first_error, "%s",
                     rd_kafka_err2str(m->err));
    }
}

/* librdkafka's client errors (a broker unreachable, ...): kept to explain
** a failed delivery; librdkafka retries them itself. */
static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    (void)rk;
    kafka_sink *s = opaque;
    if (code != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        snprintf(s->broker_error, sizeof s->broker_error, "%s", reason);
}

/* librdkafka's log lines only with 'kafka.debug': the errors that matter
** reach the user as the query's error. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
    const kafka_sink *s = rd_kafka_opaque(rk);
    if (s != NULL && s->user_debug)
        fprintf(stderr, "rdkafka %d %s: %s\n", level, fac, buf);
}

/* Finds the key option's columns among names[0..ncols): sets *cols (malloc'd)
** and *n. A missing column is an error saying `what` it must be. */
static int find_key_columns(const char *key_spec, int ncols, char *const *names,
                            int **cols, int *n, const char *what, sl_error *err)
{
    char *spec = strdup(key_spec);
    *n = 0;
    for (char *tok = strtok(spec, ", "); tok; tok = strtok(NULL, ", ")) {
        int found = -1;
        for (int c = 0; c < ncols; c++)
            if (strcasecmp(names[c], tok) == 0)
                found = c;
        if (found < 0) {
            sl_error_set(err, -1, "the kafka sink's key column \"%s\" is not "
                         "%s", tok, what);
            free(spec);
            return -1;
        }
        *cols = realloc(*cols, sizeof(int) * (size_t)(*n + 1));
        (*cols)[(*n)++] = found;
    }
    free(spec);
    return 0;
}

static int resolve_key(kafka_sink *s, int ncols, char *const *names,
                       sl_error *err)
{
    s->resolved = 1;
    if (s->key_spec == NULL)
        return 0;
    return find_key_columns(s->key_spec, ncols, names, &s->key_cols, &s->nkey,
                            "a column of the result", err);
}

/* The key option's columns among the columns of a retraction (the group
** key), so that a tombstone has the same key as the records it deletes.
** Without a key option, a tombstone's key is the whole group key. */
static int resolve_delete_key(kafka_sink *s, int ncols, char *const *names,
                              sl_error *err)
{
    s->del_resolved = 1;
    if (s->key_spec == NULL)
        return 0;
    return find_key_columns(s->key_spec, ncols, names, &s->del_cols, &s->ndel,
                            "a GROUP BY column, so a retraction (tombstone) "
                            "cannot carry it: key an EMIT CHANGES sink by "
                            "group columns", err);
}

static int ks_write(sl_sink *k, const sl_batch *rows, int ncols,
                    char *const *names, int is_delete, sl_error *err)
{
    kafka_sink *s = (kafka_sink *)k;
    if (!s->resolved && !is_delete && resolve_key(s, ncols, names, err) != 0)
        return -1;
    if (!s->del_resolved && is_delete &&
        resolve_delete_key(s, ncols, names, err) != 0)
        return -1;
    for (int r = 0; r < rows->nrows; r++) {
        s->key.n = 0;
        if (is_delete) {
            /* the key option's columns, else the whole group key */
            int n = s->key_spec ? s->ndel : ncols;
            for (int i = 0; i < n; i++) {
                int c = s->key_spec ? s->del_cols[i] : i;
                char buf[64];
                int len = 0;
                const char *v = sl_column_text(&rows->cols[c], r, buf, &len);
                if (i)
                    sl_buf_put(&s->key, ",", 1);
                if (v)
                    sl_buf_put(&s->key, v, (size_t)len);
            }
        } else {
            for (int i = 0; i < s->nkey; i++) {
                char buf[64];
                int len = 0;
                const char *v = sl_column_text(&rows->cols[s->key_cols[i]], r,
                                               buf, &len);
                if (i)
                    sl_buf_put(&s->key, ",", 1);
                if (v)
                    sl_buf_put(&s->key, v, (size_t)len);
            }
            s->value.n = 0;
            sl_row_to_json(rows, r, ncols, names, &s->value);
        }
        /* rd_kafka_produceva: the producev macros cast ints to pointers,
        ** which clang warns about */
        rd_kafka_vu_t vu[4];
        memset(vu, 0, sizeof vu);
        vu[0].vtype = RD_KAFKA_VTYPE_TOPIC;
        vu[0].u.cstr = s->topic;
        vu[1].vtype = RD_KAFKA_VTYPE_KEY;
        vu[1].u.mem.ptr = s->key.n ? s->key.z : NULL;
        vu[1].u.mem.size = s->key.n;
        vu[2].vtype = RD_KAFKA_VTYPE_VALUE;
        vu[2].u.mem.ptr = is_delete ? NULL : s->value.z;
        vu[2].u.mem.size = is_delete ? 0 : s->value.n;
        vu[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
        vu[3].u.i = RD_KAFKA_MSG_F_COPY;
        for (;;) {
            rd_kafka_error_t *kerr = rd_kafka_produceva(s->rk, vu, 4);
            rd_kafka_resp_err_t e = kerr ? rd_kafka_error_code(kerr)
                                         : RD_KAFKA_RESP_ERR_NO_ERROR;
            if (kerr)
                rd_kafka_error_destroy(kerr);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                return sl_error_set(err, -1, "cannot produce to topic %s: %s",
                                    s->topic, rd_kafka_err2str(e));
            rd_kafka_poll(s->rk, 100);
        }
    }
    rd_kafka_poll(s->rk, 0);
    return 0;
}

static int ks_commit(sl_sink *k, char **position, sl_error *err)
{
    kafka_sink *s = (kafka_sink *)k;
    *position = NULL;
    rd_kafka_resp_err_t e = rd_kafka_flush(s->rk, 30000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return sl_error_set(err, -1, "messages to topic %s were not delivered "
                            "within 30 s (%s): is the broker reachable?",
                            s->topic, rd_kafka_err2str(e));
    if (s->failed > 0) {
        sl_error_set(err, -1, "%ld message%s to topic %s failed: %s%s%s%s",
                     s->failed, s->failed == 1 ? "" : "s", s->topic,
                     s->first_error, s->broker_error[0] ? " (" : "",
                     s->broker_error, s->broker_error[0] ? ")" : "");
        s->failed = 0;
        return -1;
    }
    return 0;
}

static int ks_resume(sl_sink *k, const char *position, sl_error *err)
{
    (void)k;
    (void)position;
    (void)err;
    return 0;       /* at-least-once: nothing to roll back */
}

/* Frees the sink once its producer is destroyed (librdkafka's callbacks
** point to it until then). */
static void ks_free(void *arg)
{
    kafka_sink *s = arg;
    free(s->topic);
    free(s->key_spec);
    free(s->key_cols);
    free(s->del_cols);
    sl_buf_free(&s->value);
    sl_buf_free(&s->key);
    free(s);
}

/* Bounded: what is still queued was produced after the last commit point,
** so it is produced again on resume (at-least-once) and may be dropped. */
static void ks_close(sl_sink *k)
{
    kafka_sink *s = (kafka_sink *)k;
    if (s->rk == NULL) {
        ks_free(s);
        return;
    }
    if (rd_kafka_flush(s->rk, CLOSE_FLUSH_WAIT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    if (sl_kafka_shutdown(s->rk, 0, CLOSE_SHUTDOWN_WAIT_MS, ks_free, s) != 0)
        fprintf(stderr, "warning: kafka sink: librdkafka did not shut down "
                "within %d s; left to finish in the background\n",
                CLOSE_SHUTDOWN_WAIT_MS / 1000);
}

static const sl_sink_vtab kafka_vtab = {
    "kafka", ks_write, ks_commit, ks_resume, ks_close
};

sl_sink *sl_kafka_sink_open(const sl_stmt *st, int changelog, sl_error *err)
{
    (void)changelog;
    char errstr[512];
    kafka_sink *s = calloc(1, sizeof *s);
    if (s == NULL)
        abort();
    s->base.vt = &kafka_vtab;
    s->topic = strdup(sl_stmt_option(st, "topic")->value);
    const sl_option *key = sl_stmt_option(st, "key");
    s->key_spec = key ? strdup(key->value) : NULL;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const sl_option *b = sl_stmt_option(st, "brokers");
    if (rd_kafka_conf_set(conf, "bootstrap.servers", b->value, errstr,
                          sizeof errstr) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr,
                          sizeof errstr) != RD_KAFKA_CONF_OK) {
        sl_error_set(err, b->value_offset, "%s", errstr);
        rd_kafka_conf_destroy(conf);
        ks_close(&s->base);
        return NULL;
    }
    if (sl_kafka_props_apply(conf, st, &s->user_debug, err) != 0) {
        rd_kafka_conf_destroy(conf);
        ks_close(&s->base);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_opaque(conf, s);
    s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (s->rk == NULL) {
        sl_error_set(err, -1, "cannot create a Kafka producer: %s", errstr);
        ks_close(&s->base);
        return NULL;
    }
    return &s->base;
}
