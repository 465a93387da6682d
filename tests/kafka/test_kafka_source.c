/*
** test_kafka_source.c: the Kafka source through the sl_source interface.
**
** Runs librdkafka's mock cluster in-process, produces a few messages with a
** librdkafka producer, and drives the connector directly (no engine): rows
** and pseudo-columns, the reject callback's "topic/partition" and offset,
** location(), position() text, seek() to saved offsets (a bounded read
** then starts there and finishes at the end offsets), progress(), and bad
** positions. The engine-level behaviour (watermarks, groups, faults) is
** pinned by the Python integration tests next to this file.
*/
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include "tap.h"
#include "connectors/source.h"
#include "engine/source.h"
#include "grammar/parser.h"

static rd_kafka_t *producer(const char *bootstrap)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                      sizeof errstr);
    return rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
}

static void produce(rd_kafka_t *p, const char *topic, int part,
                    const char *key, const char *value)
{
    rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
                      RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                      RD_KAFKA_V_VALUE((void *)value, strlen(value)),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
}

typedef struct rejects {
    int n;
    char where[64];
    long long line;
    char raw[64];
} rejects;

static void on_reject(void *ctx, const char *file, int64_t line,
                      int64_t offset, const char *raw, size_t rawlen,
                      const char *reason)
{
    rejects *r = ctx;
    (void)offset;
    (void)reason;
    r->n++;
    snprintf(r->where, sizeof r->where, "%s", file);
    r->line = (long long)line;
    snprintf(r->raw, sizeof r->raw, "%.*s", (int)rawlen, raw);
}

/* Builds a source definition from a CREATE SOURCE statement. */
static sl_source_def *def_of(const char *sql, sl_stmt **st)
{
    sl_error err;
    sl_error_clear(&err);
    int pos = 0;
    if (sl_parse_next(sql, (int)strlen(sql), &pos, st, &err) != 1) {
        printf("# parse: %s\n", err.msg);
        return NULL;
    }
    sl_source_def *d = sl_source_def_new(*st, &err);
    if (d == NULL)
        printf("# def: %s\n", err.msg);
    return d;
}

/* Reads until done (bounded) or 5 s; returns the rows in b. */
static int read_all(sl_source *src, sl_batch *b, rejects *rj, int *done)
{
    sl_error err;
    sl_error_clear(&err);
    *done = 0;
    for (int i = 0; i < 50 && !*done; i++)
        if (src->vt->next(src, b, 1000, on_reject, rj, done, &err) < 0) {
            printf("# next: %s\n", err.msg);
            return -1;
        }
    return b->nrows;
}

int main(void)
{
    char errstr[256];
    rd_kafka_conf_t *mconf = rd_kafka_conf_new();
    rd_kafka_conf_set(mconf, "log_level", "2", errstr, sizeof errstr);
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, errstr,
                                   sizeof errstr);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
    rd_kafka_mock_topic_create(mc, "t", 2, 1);
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);

    rd_kafka_t *p = producer(boot);
    produce(p, "t", 0, "a", "{\"v\":1}");
    produce(p, "t", 0, NULL, "{\"v\":2}");
    produce(p, "t", 0, "c", "{\"v\":3}");
    produce(p, "t", 1, "d", "{\"v\":10}");
    produce(p, "t", 1, "e", "{\"v\":oops}");
    produce(p, "t", 1, "f", "{\"v\":11}");
    ok(rd_kafka_flush(p, 10000) == 0, "messages produced");

    char sql[1024];
    snprintf(sql, sizeof sql, "CREATE SOURCE s (v BIGINT) WITH (connector = "
             "'kafka', brokers = '%s', topic = 't', format = 'json', until = "
             "'end', 'kafka.session.timeout.ms' = '6000', "
             "'kafka.fetch.wait.max.ms' = '10');", boot);
    sl_stmt *st = NULL;
    sl_source_def *def = def_of(sql, &st);
    ok(def != NULL && def->ncols == 5, "definition has v and 4 pseudo-columns");
    if (def == NULL)
        return tap_done();

    sl_error err;
    sl_error_clear(&err);
    sl_source *src = sl_source_open(def, "q", &err);
    ok(src != NULL, "bounded source opens");
    if (src == NULL) {
        printf("# %s\n", err.msg);
        return tap_done();
    }
    is_str(src->vt->name, "kafka", "vtab is kafka");
    ok(src->vt->progress(src) == 0.0, "progress 0 before reading");
    sl_batch *b = sl_batch_new(def->ncols, def->col_types, 16);
    rejects rj = {0};
    int done;
    is_int(read_all(src, b, &rj, &done), 5, "five good messages read");
    is_int(done, 1, "done at the end offsets");
    ok(src->vt->progress(src) == 1.0, "progress 1 at the end");
    is_int(rj.n, 1, "one message rejected");
    is_str(rj.where, "t/1", "reject names topic/partition");
    is_int(rj.line, 1, "reject line is the offset");
    is_str(rj.raw, "{\"v\":oops}", "reject has the raw value");
    char *pos = src->vt->position(src);
    is_str(pos, "t:0=3,t:1=3", "position lists every partition's next offset");
    free(pos);

    long long sum = 0;
    int keys_null = 0, last_p1 = -1;
    for (int r = 0; r < b->nrows; r++) {
        sl_value v = sl_batch_get(b, r, 0);
        sum += v.u.i;
        keys_null += sl_batch_get(b, r, 1).is_null;
        sl_value part = sl_batch_get(b, r, 2);
        if (part.u.i == 1 && b->loc[r].pos == 2)
            last_p1 = r;
        ok(b->loc[r].part == part.u.i, "row %d: rowloc part is the partition",
           r);
        ok(sl_batch_get(b, r, 3).u.i == b->loc[r].pos,
           "row %d: _offset is rowloc pos", r);
        ok(!sl_batch_get(b, r, 4).is_null && b->loc[r].ts_ms > 0,
           "row %d: _timestamp and ts_ms are set", r);
    }
    is_int(sum, 27, "values decoded");
    is_int(keys_null, 1, "a message without key has NULL _key");
    ok(last_p1 >= 0, "offset 2 of partition 1 read");
    if (last_p1 >= 0) {
        sl_value k = sl_batch_get(b, last_p1, 1);
        ok(k.u.s.n == 1 && k.u.s.z[0] == 'f', "_key of t/1/2 is f");
        char *loc = src->vt->location(src, &b->loc[last_p1]);
        is_str(loc, "t/1/2", "location is topic/partition/offset");
        free(loc);
    }
    /* the rows of the call that finished a partition are still held back
    ** by it; from the next call on it holds nothing back */
    int32_t parts[8];
    int n_at_end = src->vt->active_partitions(src, parts, 8);
    ok(n_at_end >= 1, "a partition finished by the last call still counts");
    sl_error_clear(&err);
    is_int(src->vt->next(src, b, 10, on_reject, &rj, &done, &err), 0,
           "nothing more after the end");
    is_int(src->vt->active_partitions(src, parts, 8), 0,
           "finished partitions no longer hold the watermark back");
    src->vt->committed(src);
    sl_source_close(src);

    /* seek: a new reader resumes at saved offsets */
    sl_error_clear(&err);
    src = sl_source_open(def, "q2", &err);
    ok(src != NULL, "second source opens");
    ok(src->vt->seek(src, "t:0=2,t:1=3", &err) == 0, "seek to saved offsets");
    sl_batch_reset(b);
    memset(&rj, 0, sizeof rj);
    is_int(read_all(src, b, &rj, &done), 1, "one row after the seek");
    is_int(done, 1, "done after the seek");
    ok(b->nrows == 1 && sl_batch_get(b, 0, 0).u.i == 3 &&
       b->loc[0].part == 0 && b->loc[0].pos == 2, "the row is t/0/2");
    is_int(rj.n, 0, "nothing before the saved offsets is read again");
    pos = src->vt->position(src);
    is_str(pos, "t:0=3,t:1=3", "position after the seek");
    free(pos);
    sl_error_clear(&err);
    ok(src->vt->seek(src, "t:0", &err) == -1 && strstr(err.msg, "position"),
       "a bad position is an error");
    sl_error_clear(&err);
    ok(src->vt->seek(src, "other:0=5", &err) == 0,
       "a topic no longer read is ignored");
    sl_source_close(src);

    /* start = committed: the first reader committed t:0=3,t:1=3 in group
    ** sluice-q (close waits for the commit) */
    snprintf(sql, sizeof sql, "CREATE SOURCE s (v BIGINT) WITH (connector = "
             "'kafka', brokers = '%s', topic = 't', format = 'json', until = "
             "'end', start = 'committed', group_id = 'sluice-q');", boot);
    sl_stmt *st2 = NULL;
    sl_source_def *def2 = def_of(sql, &st2);
    produce(p, "t", 1, NULL, "{\"v\":12}");
    rd_kafka_flush(p, 10000);
    sl_error_clear(&err);
    src = def2 ? sl_source_open(def2, "q3", &err) : NULL;
    ok(src != NULL, "committed-start source opens");
    if (src) {
        sl_batch_free(b);
        b = sl_batch_new(def2->ncols, def2->col_types, 16);
        is_int(read_all(src, b, &rj, &done), 1,
               "start = committed reads only what came after the commit");
        ok(b->nrows == 1 && sl_batch_get(b, 0, 0).u.i == 12,
           "the new message");
        sl_source_close(src);
    }

    sl_batch_free(b);
    sl_source_def_free(def);
    sl_source_def_free(def2);
    sl_stmt_free(st);
    sl_stmt_free(st2);
    rd_kafka_destroy(p);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
    return tap_done();
}
