/*
** kafka_source.c: the Kafka source connector, over librdkafka's consumer.
**
** It owns one rd_kafka_t consumer, the decoder of the message values (CSV or
** NDJSON, one record per message; a CSV header is never used) and a table
** of the partitions it knows: for each one its next offset (the offset after
** the last message handed to the engine), its end offset when the source is
** bounded, and when it last saw a message (for idleness).
**
** Three ways of reading:
** - unbounded continuous queries (no `until`): the high-level consumer
**   (rd_kafka_subscribe) in the consumer group `group_id` (default
**   `sluice-<query>`), so several sluice processes can share a topic's
**   partitions. A rebalance callback
**   assigns each partition from the position this source holds for it (a
**   restored checkpoint or what it has read), else from `start`; revoked
**   partitions keep their position, so a partition that comes back resumes
**   exactly where it stopped: nothing lost, nothing read twice.
** - bounded (`until = 'end'`): every partition of the topics is assigned
**   by hand, and the end is the high watermark of each partition queried at
**   open; a partition is done once its next offset reaches that end (or
**   librdkafka reports end of partition past it). When all are done, next()
**   reports done.
** - a push query (an ad-hoc SELECT) without a group_id also assigns every
**   partition by hand, unbounded: it must see the whole topic, not the
**   share a consumer group would give it.
**
** Offsets are committed to the consumer group only when the engine says the
** results they produced are committed in SQLite (committed(): commit after
** write, asynchronous; close() waits a bounded time for the last one).
**
** Every row carries {part = topic_index * 65536 + partition, pos = offset,
** ts_ms = Kafka record time}; the pseudo-columns _key, _partition, _offset,
** _timestamp follow the declared columns. A value that does not decode goes
** to the reject callback as "<topic>/<partition>" with its offset as line.
**
** Errors: at open the source waits (at most 10 s) for the metadata of its
** topics, so an unreachable broker, an unknown topic or an authentication
** failure is a clear error naming the brokers or the topic. While running,
** transient errors (a broker down for a while) are retried by librdkafka
** and reported once as a warning; fatal ones (librdkafka's fatal error,
** authentication, a topic that vanished) make next() fail. A deleted topic
** is looked for in the cluster's metadata every 2 s (check_topics), since
** librdkafka reports it late or never. close() is bounded in time
** (kafka_shutdown.c).
*/
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <librdkafka/rdkafka.h>
#include "engine/error.h"
#include "connectors/kafka_conf.h"
#include "connectors/kafka_shutdown.h"
#include "connectors/kafka_source.h"
#include "connectors/source.h"
#include "engine/functions.h"

#define OPEN_WAIT_MS 10000       /* metadata wait at open */
#define POLL_BUDGET_MS 100       /* longest next() waits for a message */
#define TAKE_BATCH 1024           /* messages taken from the queue at once */
#define CLOSE_COMMIT_WAIT_MS 2000
#define CLOSE_SHUTDOWN_WAIT_MS 3000  /* leaving the group, destroying */
#define PART_SHIFT 16            /* part id = topic index << 16 | partition */
#define DEFAULT_IDLE_MS 30000
#define TOPIC_CHECK_MS 2000      /* how often a deleted topic is looked for */
#define TOPIC_CHECK_WAIT_MS 1000 /* the longest one look waits */

enum { START_EARLIEST, START_LATEST, START_COMMITTED, START_BEGINNING };

typedef struct kpart {
    int topic;               /* index into ks->topics */
    int32_t partition;
    int64_t next;            /* offset after the last message handled; -1 */
    int64_t low, end;        /* bounded: watermarks queried at open */
    int64_t last_ms;         /* monotonic time of assignment / last message */
    int assigned;
    int done;                /* bounded: nothing more to read */
    int64_t done_call;       /* the next() call that finished it */
    int64_t committed;       /* offset last sent to the group; -1 */
} kpart;

typedef struct kafka_src {
    sl_source base;
    rd_kafka_t *rk;
    char *brokers;
    char **topics;
    int ntopics;
    rd_kafka_topic_t **rkts; /* manual: a handle per topic, held open */
    rd_kafka_queue_t *queue; /* the consumer queue, read in batches */
    rd_kafka_message_t *msgs[TAKE_BATCH]; /* taken from the queue, not yet read */
    int nmsgs, imsg;
    kpart *parts;
    int nparts, partcap;
    sl_decoder *dec;
    int ndeclared;
    int bounded;
    int manual;              /* partitions assigned by hand, not by a group */
    int start;
    int64_t idle_ms;
    int started;             /* manual: partitions assigned */
    int64_t calls;           /* next() calls so far */
    int user_debug;          /* kafka.debug given: print librdkafka's log */

    /* what the callbacks saw (they run on this thread, inside poll calls) */
    int hard_error;          /* an error that will not go away by retrying */
    char hard_msg[SL_ERROR_MAX];
    char last_msg[SL_ERROR_MAX];
    char conn_msg[SL_ERROR_MAX];  /* why the last connection failed */
    int all_down;            /* all brokers down, not yet back */
    int warned;
    int commit_inflight;
    int commit_warned;
    int64_t next_check_ms;   /* when check_topics next reads the metadata */
    int absent_checks;       /* checks in a row that missed a topic */
    char reason[512];
    char where[600];
} kafka_src;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(sl_xrealloc(NULL, n), s, n);
}

/* ---- partitions --------------------------------------------------------- */

static int topic_index(const kafka_src *ks, const char *name)
{
    for (int i = 0; i < ks->ntopics; i++)
        if (strcmp(ks->topics[i], name) == 0)
            return i;
    return -1;
}

/* The entry of (topic, partition); created (next unknown) when create. */
static kpart *part_get(kafka_src *ks, int topic, int32_t partition, int create)
{
    for (int i = 0; i < ks->nparts; i++)
        if (ks->parts[i].topic == topic && ks->parts[i].partition == partition)
            return &ks->parts[i];
    if (!create)
        return NULL;
    if (ks->nparts == ks->partcap) {
        ks->partcap = ks->partcap ? ks->partcap * 2 : 16;
        ks->parts = sl_xrealloc(ks->parts, sizeof *ks->parts * (size_t)ks->partcap);
    }
    kpart *p = &ks->parts[ks->nparts++];
    memset(p, 0, sizeof *p);
    p->topic = topic;
    p->partition = partition;
    p->next = -1;
    p->low = p->end = -1;
    p->committed = -1;
    return p;
}

static int32_t part_id(const kpart *p)
{
    return (int32_t)((p->topic << PART_SHIFT) | (p->partition & 0xffff));
}

/* The offset to assign a partition at: where this source is (a restored
** checkpoint, or what it has read). Else, when the consumer group hands
** out the partitions, the group's committed offset: another sluice process
** of the group (with its own database) may have read the partition up to
** there, and starting over would count its messages twice; `start` applies
** where the group has no committed offset (auto.offset.reset), and only
** 'beginning' overrides the group. Else (partitions assigned by hand:
** bounded reads, push queries) `start`. */
static int64_t assign_offset(const kafka_src *ks, const kpart *p)
{
    if (p->next >= 0)
        return p->next;
    if (ks->start == START_BEGINNING)
        return RD_KAFKA_OFFSET_BEGINNING;
    if (ks->start == START_COMMITTED || !ks->manual)
        return RD_KAFKA_OFFSET_STORED;   /* else auto.offset.reset */
    return ks->start == START_LATEST ? RD_KAFKA_OFFSET_END
                                     : RD_KAFKA_OFFSET_BEGINNING;
}

/* The offsets to commit: every partition read since the last commit
** (assigned ones only when in a group, where others belong to others);
** only those of `only` when it is given. */
static rd_kafka_topic_partition_list_t *
to_commit(kafka_src *ks, const rd_kafka_topic_partition_list_t *only)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    for (int i = 0; i < ks->nparts; i++) {
        kpart *p = &ks->parts[i];
        if (p->next < 0 || p->next == p->committed)
            continue;
        if (!ks->manual && !p->assigned)
            continue;
        if (only && !rd_kafka_topic_partition_list_find(
                        only, ks->topics[p->topic], p->partition))
            continue;
        if (l == NULL)
            l = rd_kafka_topic_partition_list_new(4);
        rd_kafka_topic_partition_list_add(l, ks->topics[p->topic],
                                          p->partition)->offset = p->next;
        p->committed = p->next;
    }
    return l;
}

/* ---- librdkafka callbacks ---------------------------------------------- */

static void hard(kafka_src *ks, const char *fmt, const char *a, const char *b)
{
    if (ks->hard_error)
        return;
    ks->hard_error = 1;
    snprintf(ks->hard_msg, sizeof ks->hard_msg, fmt, a, b);
}

static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    kafka_src *ks = opaque;
    if (code != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        snprintf(ks->last_msg, sizeof ks->last_msg, "%s", reason);
    switch (code) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
        snprintf(ks->conn_msg, sizeof ks->conn_msg, "%s", reason);
        break;
    case RD_KAFKA_RESP_ERR__FATAL: {
        char why[400];
        rd_kafka_fatal_error(rk, why, sizeof why);
        hard(ks, "Kafka brokers '%s': fatal error: %s", ks->brokers, why);
        break;
    }
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
        hard(ks, "Kafka brokers '%s': authentication failed: %s", ks->brokers,
             reason);
        break;
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
        ks->all_down = 1;
        break;
    default:
        break;
    }
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
    const kafka_src *ks = rd_kafka_opaque(rk);
    if (ks != NULL && ks->user_debug)
        fprintf(stderr, "rdkafka %d %s: %s\n", level, fac, buf);
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    kafka_src *ks = opaque;
    (void)rk;
    ks->commit_inflight = 0;
    /* offsets the group did not take are sent again with the next commit
    ** (or when their partition is revoked) */
    for (int i = 0; offsets && i < offsets->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &offsets->elems[i];
        if (!err && !tp->err)
            continue;
        int t = topic_index(ks, tp->topic);
        kpart *p = t < 0 ? NULL : part_get(ks, t, tp->partition, 0);
        if (p && p->committed == tp->offset)
            p->committed = -1;
    }
    if (!err || err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
        ks->commit_warned = 0;
    } else if (!ks->commit_warned && !ks->warned) {
        /* not fatal: the database holds the authoritative positions; said
        ** once until a commit succeeds again */
        fprintf(stderr, "warning: kafka source: cannot commit offsets to "
                "group: %s\n", rd_kafka_err2str(err));
        ks->commit_warned = 1;
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *list, void *opaque)
{
    kafka_src *ks = opaque;
    int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    int64_t now = mono_ms();
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < list->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &list->elems[i];
            int t = topic_index(ks, tp->topic);
            if (t < 0)
                continue;
            kpart *p = part_get(ks, t, tp->partition, 1);
            p->assigned = 1;
            p->last_ms = now;        /* idleness counts from assignment */
            tp->offset = assign_offset(ks, p);
        }
        if (coop) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, list);
            if (e) {
                hard(ks, "Kafka consumer group: cannot assign partitions: "
                     "%s%s", rd_kafka_error_string(e), "");
                rd_kafka_error_destroy(e);
            }
        } else if (rd_kafka_assign(rk, list) != 0) {
            hard(ks, "Kafka consumer group: cannot assign partitions%s%s", "",
                 "");
        }
    } else {
        /* Revoked: the group hands these partitions to another member,
        ** which starts at the group's committed offsets. Commit what this
        ** process has read of them first (synchronously: before the
        ** handover), or the new owner would read again the messages read
        ** since the last commit point, which this process still counts.
        ** (They reach this process's database at its next commit point; a
        ** crash before it loses them for both: docs/connectors.md.) Lost
        ** partitions are already someone else's: nothing to commit. */
        if (!rd_kafka_assignment_lost(rk)) {
            rd_kafka_topic_partition_list_t *l = to_commit(ks, list);
            if (l) {
                rd_kafka_commit(rk, l, 0);
                rd_kafka_topic_partition_list_destroy(l);
            }
        }
        /* keep the positions, stop counting them */
        for (int i = 0; i < list->cnt; i++) {
            int t = topic_index(ks, list->elems[i].topic);
            kpart *p = t < 0 ? NULL : part_get(ks, t, list->elems[i].partition, 0);
            if (p)
                p->assigned = 0;
        }
        if (coop) {
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, list);
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, NULL);
        }
    }
}

/* ---- options ---------------------------------------------------------- */

static const char *opt(const sl_source_def *def, const char *key)
{
    const sl_option *o = sl_stmt_option(def->stmt, key);
    return o ? o->value : NULL;
}

/* Splits a comma-separated topic list (spaces trimmed). */
static int split_topics(kafka_src *ks, const char *list, sl_error *err)
{
    const char *z = list;
    while (*z) {
        while (*z == ' ' || *z == ',')
            z++;
        const char *e = z;
        while (*e && *e != ',')
            e++;
        size_t n = (size_t)(e - z);
        while (n > 0 && z[n - 1] == ' ')
            n--;
        if (n > 0) {
            char *t = sl_xrealloc(NULL, n + 1);
            memcpy(t, z, n);
            t[n] = 0;
            if (topic_index(ks, t) >= 0) {
                free(t);
            } else {
                ks->topics = sl_xrealloc(ks->topics, sizeof(char *) *
                                      (size_t)(ks->ntopics + 1));
                ks->topics[ks->ntopics++] = t;
            }
        }
        z = e;
    }
    if (ks->ntopics == 0)
        return sl_error_set(err, -1, "kafka source: topic names no topic");
    if (ks->ntopics > 32767)
        return sl_error_set(err, -1, "kafka source: too many topics");
    return 0;
}

/* idle_timeout: an interval ('30 seconds', '500 ms') or a number of ms. */
static int parse_idle(const char *v, int64_t *ms)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (end != v && *end == 0 && errno == 0 && n >= 0) {
        *ms = n;
        return 0;
    }
    int64_t iv;
    if (sl_xparse_interval(v, (int)strlen(v), &iv) == 0 && iv >= 0) {
        *ms = iv;
        return 0;
    }
    return -1;
}

/* start: the START_* value, or -1. */
static int parse_start(const char *v)
{
    static const char *const names[] = {"earliest", "latest", "committed",
                                        "beginning"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(v, names[i]) == 0)
            return i;          /* the enum's order */
    return -1;
}

/* The values of the source's own options, each with its error at its
** place; *start, *bounded and *idle_ms get them (defaults when absent). */
static int read_options(const sl_stmt *st, int *start, int *bounded,
                        int64_t *idle_ms, sl_error *err)
{
    const sl_option *o;
    *start = START_EARLIEST;
    *bounded = 0;
    *idle_ms = DEFAULT_IDLE_MS;
    if ((o = sl_stmt_option(st, "start")) != NULL &&
        (*start = parse_start(o->value)) < 0)
        return sl_error_set(err, o->value_offset, "start must be 'earliest', "
                            "'latest', 'committed' or 'beginning', not '%s'",
                            o->value);
    if ((o = sl_stmt_option(st, "until")) != NULL) {
        if (strcasecmp(o->value, "end") != 0)
            return sl_error_set(err, o->value_offset, "until must be 'end' "
                                "(or left out for an unbounded source), not "
                                "'%s'", o->value);
        *bounded = 1;
    }
    if ((o = sl_stmt_option(st, "idle_timeout")) != NULL &&
        parse_idle(o->value, idle_ms) != 0)
        return sl_error_set(err, o->value_offset, "idle_timeout must be an "
                            "interval ('30 seconds') or milliseconds, not "
                            "'%s'", o->value);
    return 0;
}

int sl_kafka_source_check(const sl_stmt *s, sl_error *err)
{
    int start, bounded;
    int64_t idle_ms;
    return read_options(s, &start, &bounded, &idle_ms, err) != 0 ||
                   sl_kafka_props_check(s, err) != 0
               ? -1
               : 0;
}

static int set_conf(rd_kafka_conf_t *conf, const char *k, const char *v,
                    sl_error *err)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, k, v, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        return sl_error_set(err, -1, "kafka property '%s': %s", k, errstr);
    return 0;
}

static rd_kafka_conf_t *make_conf(kafka_src *ks, const sl_source_def *def,
                                  const char *query, sl_error *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char group[512];
    const char *g = opt(def, "group_id");
    if (g == NULL) {
        snprintf(group, sizeof group, "sluice-%s", query ? query : def->name);
        g = group;
    }
    if (set_conf(conf, "bootstrap.servers", ks->brokers, err) ||
        set_conf(conf, "group.id", g, err) ||
        set_conf(conf, "enable.auto.commit", "false", err) ||
        set_conf(conf, "enable.auto.offset.store", "false", err) ||
        set_conf(conf, "enable.partition.eof", "true", err) ||
        set_conf(conf, "auto.offset.reset",
                 ks->start == START_LATEST ? "latest" : "earliest", err) ||
        set_conf(conf, "client.id", "sluice", err))
        goto fail;
    /* the user's properties last, so they win */
    if (sl_kafka_props_apply(conf, def->stmt, &ks->user_debug, err) != 0)
        goto fail;
    rd_kafka_conf_set_opaque(conf, ks);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    if (!ks->manual)
        rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* ---- metadata at open ---------------------------------------------------- */

/* Waits (bounded) for the metadata of the cluster and records the
** partitions of every topic read; fails early on an error that retrying will
** not fix. The metadata of all topics is asked for, never of one by name: a
** request naming a topic may create it on a broker that auto-creates topics
** (the mock cluster does), and a misspelt topic must be an error. */
static const struct rd_kafka_metadata_topic *
md_topic(const struct rd_kafka_metadata *md, const char *name)
{
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, name) == 0)
            return &md->topics[i];
    return NULL;
}

/* The cluster does not know the topic (never made, or deleted). */
static int md_absent(const struct rd_kafka_metadata_topic *mt)
{
    return mt == NULL || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
}

static int load_metadata(kafka_src *ks, sl_error *err)
{
    int64_t deadline = mono_ms() + OPEN_WAIT_MS;
    char pending[256] = "";
    for (;;) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = rd_kafka_metadata(ks->rk, 1, NULL, &md, 250);
        rd_kafka_poll(ks->rk, 0);              /* error callbacks */
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            int ready = 0;
            for (int t = 0; t < ks->ntopics; t++) {
                const struct rd_kafka_metadata_topic *mt =
                    md_topic(md, ks->topics[t]);
                if (md_absent(mt)) {
                    sl_error_set(err, -1, "Kafka topic '%s' does not exist "
                                 "on brokers '%s'", ks->topics[t], ks->brokers);
                    rd_kafka_metadata_destroy(md);
                    return -1;
                }
                if (mt->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
                    sl_error_set(err, -1, "not authorized to read Kafka topic "
                                 "'%s' on brokers '%s'", ks->topics[t],
                                 ks->brokers);
                    rd_kafka_metadata_destroy(md);
                    return -1;
                }
                if (mt->err || mt->partition_cnt <= 0) {
                    snprintf(pending, sizeof pending, "topic '%s': %s",
                             ks->topics[t], rd_kafka_err2str(mt->err));
                    continue;
                }
                if (mt->partition_cnt > 65535) {
                    sl_error_set(err, -1, "Kafka topic '%s' has too many "
                                 "partitions", ks->topics[t]);
                    rd_kafka_metadata_destroy(md);
                    return -1;
                }
                for (int i = 0; i < mt->partition_cnt; i++)
                    part_get(ks, t, mt->partitions[i].id, 1);
                ready++;
            }
            rd_kafka_metadata_destroy(md);
            if (ready == ks->ntopics)
                return 0;
        }
        if (ks->hard_error)
            return sl_error_set(err, -1, "%s", ks->hard_msg);
        if (ks->all_down)
            return sl_error_set(err, -1, "cannot reach the Kafka brokers "
                                "'%s': %s", ks->brokers, ks->conn_msg[0] ?
                                ks->conn_msg : ks->last_msg);
        if (mono_ms() >= deadline) {
            if (pending[0])
                return sl_error_set(err, -1, "Kafka brokers '%s': %s is not "
                                    "available", ks->brokers, pending);
            return sl_error_set(err, -1, "cannot reach the Kafka brokers "
                                "'%s' within %d s%s%s", ks->brokers,
                                OPEN_WAIT_MS / 1000,
                                ks->last_msg[0] ? ": " : "", ks->last_msg);
        }
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            struct timespec ts = {0, 100 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
}

static int topic_deleted(const kafka_src *ks, const char *topic, sl_error *err)
{
    return sl_error_set(err, -1, "Kafka topic '%s' was deleted from brokers "
                        "'%s' while it was read (the cluster no longer knows "
                        "it)", topic, ks->brokers);
}

/* While reading: a topic deleted from the cluster is a definition problem,
** not a passing one (a broker that goes away is retried by librdkafka),
** and librdkafka itself says nothing about it for a long time. Every
** TOPIC_CHECK_MS the cluster's metadata is read (a bounded wait; skipped
** while the brokers are unreachable); a topic absent from it twice in a row
** (a broker restarting may answer once with partial metadata) stops the
** source with an error naming it. */
static int check_topics(kafka_src *ks, sl_error *err)
{
    int64_t now = mono_ms();
    if (now < ks->next_check_ms || ks->all_down)
        return 0;
    ks->next_check_ms = now + TOPIC_CHECK_MS;
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(ks->rk, 1, NULL, &md, TOPIC_CHECK_WAIT_MS) !=
        RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;                      /* no answer: nothing learnt */
    int gone = -1;
    for (int t = 0; t < ks->ntopics && gone < 0; t++)
        if (md_absent(md_topic(md, ks->topics[t])))
            gone = t;
    rd_kafka_metadata_destroy(md);
    if (gone < 0) {
        ks->absent_checks = 0;
        return 0;
    }
    if (++ks->absent_checks < 2)
        return 0;
    return topic_deleted(ks, ks->topics[gone], err);
}

/* Bounded: the end of every partition is its high watermark now. */
static int load_ends(kafka_src *ks, sl_error *err)
{
    int64_t deadline = mono_ms() + OPEN_WAIT_MS;
    for (int i = 0; i < ks->nparts; i++) {
        kpart *p = &ks->parts[i];
        int64_t lo, hi;
        for (;;) {
            int left = (int)(deadline - mono_ms());
            rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
                ks->rk, ks->topics[p->topic], p->partition, &lo, &hi,
                left > 0 ? left : 1);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (mono_ms() >= deadline)
                return sl_error_set(err, -1, "cannot read the end offsets of "
                                    "Kafka topic '%s' partition %d on brokers "
                                    "'%s': %s", ks->topics[p->topic],
                                    (int)p->partition, ks->brokers,
                                    rd_kafka_err2str(e));
        }
        p->low = lo;
        p->end = hi;
    }
    return 0;
}

/* Manual mode: a topic handle for every topic, made once the topic is known
** to exist, so that its partitions' leaders are known (from the metadata
** just read) when they are assigned. Without it, librdkafka learns them only
** after the assignment and retries the start offset query after 500 ms,
** which every bounded read paid. */
static void hold_topics(kafka_src *ks)
{
    ks->rkts = sl_xcalloc((size_t)ks->ntopics, sizeof *ks->rkts);
    for (int t = 0; t < ks->ntopics; t++)
        ks->rkts[t] = rd_kafka_topic_new(ks->rk, ks->topics[t], NULL);
}

/* ---- the source interface ----------------------------------------------- */

static void kafka_close(sl_source *s);

/* Manual mode: assigns every (unfinished) partition, once, after any seek. */
static int manual_start(kafka_src *ks, sl_error *err)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new(ks->nparts);
    int64_t now = mono_ms();
    for (int i = 0; i < ks->nparts; i++) {
        kpart *p = &ks->parts[i];
        if (ks->bounded && p->next >= 0)
            p->done = p->next >= p->end;
        else if (ks->bounded)
            p->done = ks->start == START_LATEST ||
                      (ks->start != START_COMMITTED && p->end <= p->low);
        if (p->done)
            continue;
        p->assigned = 1;
        p->last_ms = now;
        rd_kafka_topic_partition_list_add(l, ks->topics[p->topic],
                                          p->partition)->offset =
            assign_offset(ks, p);
    }
    int rc = 0;
    if (l->cnt > 0) {
        rd_kafka_resp_err_t e = rd_kafka_assign(ks->rk, l);
        if (e)
            rc = sl_error_set(err, -1, "kafka source: cannot assign the "
                              "partitions of '%s': %s", ks->topics[0],
                              rd_kafka_err2str(e));
    }
    rd_kafka_topic_partition_list_destroy(l);
    ks->started = 1;
    return rc;
}

static void finish_part(kafka_src *ks, kpart *p)
{
    p->done = 1;
    p->done_call = ks->calls;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, ks->topics[p->topic], p->partition);
    rd_kafka_pause_partitions(ks->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

static int all_done(const kafka_src *ks)
{
    for (int i = 0; i < ks->nparts; i++)
        if (!ks->parts[i].done)
            return 0;
    return 1;
}

/* A message that carries an error rather than data. Returns -1 with err
** set when it is one that stops the source. */
static int message_error(kafka_src *ks, rd_kafka_message_t *m, sl_error *err)
{
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "?";
    int t = m->rkt ? topic_index(ks, topic) : -1;
    kpart *p = t >= 0 ? part_get(ks, t, m->partition, 0) : NULL;
    switch (m->err) {
    case RD_KAFKA_RESP_ERR__PARTITION_EOF:
        if (ks->bounded && p && !p->done && m->offset >= p->end)
            finish_part(ks, p);
        return 0;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return topic_deleted(ks, topic, err);
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
        return sl_error_set(err, -1, "Kafka brokers '%s': not authorized for "
                            "topic '%s': %s", ks->brokers, topic,
                            rd_kafka_message_errstr(m));
    case RD_KAFKA_RESP_ERR__FATAL:
        return sl_error_set(err, -1, "Kafka brokers '%s': fatal error: %s",
                            ks->brokers, rd_kafka_message_errstr(m));
    default:
        /* transient: librdkafka retries */
        snprintf(ks->last_msg, sizeof ks->last_msg, "%s",
                 rd_kafka_message_errstr(m));
        return 0;
    }
}

static int kafka_next(sl_source *s, sl_batch *b, int max_rows,
                      sl_reject_fn reject, void *ctx, int *done, sl_error *err)
{
    kafka_src *ks = (kafka_src *)s;
    *done = 0;
    ks->calls++;
    rd_kafka_poll(ks->rk, 0);           /* error and commit callbacks */
    if (ks->hard_error)
        return sl_error_set(err, -1, "%s", ks->hard_msg);
    if (check_topics(ks, err) != 0)
        return -1;
    if (ks->manual && !ks->started && manual_start(ks, err) != 0)
        return -1;
    if (ks->bounded && all_done(ks)) {
        *done = 1;
        return 0;
    }
    int nd = ks->ndeclared;
    int rows = 0, handled = 0;
    int64_t now = mono_ms();        /* refreshed after every wait */
    int64_t deadline = now + POLL_BUDGET_MS;
    while (rows < max_rows && handled < max_rows) {
        if (ks->imsg == ks->nmsgs) {
            /* take the next messages (one lock for many: consumer_poll per
            ** message cost a lock and a wake-up each) */
            int wait = 0;
            if (handled == 0) {
                int64_t left = deadline - mono_ms();
                if (left <= 0)
                    break;
                wait = (int)left;
            }
            size_t want = (size_t)(max_rows - handled);
            if (want > TAKE_BATCH)
                want = TAKE_BATCH;
            /* what is there now; when nothing is, wait for one message
            ** only (a batch call waits until its batch is full or the
            ** time is up: 50 ms of latency on a trickle), then take what
            ** came with it */
            ssize_t got = rd_kafka_consume_batch_queue(ks->queue, 0, ks->msgs, want);
            if (got == 0 && wait > 0) {
                got = rd_kafka_consume_batch_queue(ks->queue, wait, ks->msgs, 1);
                now = mono_ms();
                if (got == 1 && want > 1) {
                    ssize_t more = rd_kafka_consume_batch_queue(
                        ks->queue, 0, ks->msgs + 1, want - 1);
                    got += more > 0 ? more : 0;
                }
            }
            ks->imsg = 0;
            ks->nmsgs = got > 0 ? (int)got : 0;
            if (ks->nmsgs == 0) {
                if (handled > 0)
                    break;
                continue;
            }
        }
        rd_kafka_message_t *m = ks->msgs[ks->imsg++];
        if (m->err) {
            int rc = message_error(ks, m, err);
            rd_kafka_message_destroy(m);
            if (rc != 0)
                return -1;
            if (ks->bounded && all_done(ks))
                break;
            continue;
        }
        const char *topic = rd_kafka_topic_name(m->rkt);
        int t = topic_index(ks, topic);
        kpart *p = t >= 0 ? part_get(ks, t, m->partition, 0) : NULL;
        if (p == NULL || p->done || (ks->bounded && m->offset >= p->end)) {
            rd_kafka_message_destroy(m);       /* past the end, or stray */
            continue;
        }
        handled++;
        ks->all_down = 0;
        ks->warned = 0;
        const char *val = m->payload ? (const char *)m->payload : "";
        size_t len = m->payload ? m->len : 0;
        int got = sl_decoder_decode(ks->dec, val, len, b, ks->reason,
                                    sizeof ks->reason);
        if (got == 1) {
            int r = b->nrows - 1;
            if (m->key)
                sl_batch_set_text(b, r, nd, (const char *)m->key, m->key_len);
            sl_batch_set_int(b, r, nd + 1, m->partition);
            sl_batch_set_int(b, r, nd + 2, m->offset);
            rd_kafka_timestamp_type_t tt;
            int64_t ts = rd_kafka_message_timestamp(m, &tt);
            if (ts >= 0)
                sl_batch_set_int(b, r, nd + 3, ts);
            b->loc[r].part = part_id(p);
            b->loc[r].line = 0;
            b->loc[r].pos = m->offset;
            b->loc[r].ts_ms = ts >= 0 ? ts : 0;
            rows++;
        } else if (got < 0 && reject) {
            snprintf(ks->where, sizeof ks->where, "%s/%d", topic,
                     (int)m->partition);
            reject(ctx, ks->where, m->offset, m->offset, val, len, ks->reason);
        }
        /* got == 0: a message with no value (or blank): nothing to read */
        p->next = m->offset + 1;
        p->last_ms = now;
        if (ks->bounded && p->next >= p->end)
            finish_part(ks, p);
        rd_kafka_message_destroy(m);
        if (ks->bounded && all_done(ks))
            break;
    }
    if (ks->hard_error)
        return sl_error_set(err, -1, "%s", ks->hard_msg);
    if (ks->all_down && !ks->warned && handled == 0) {
        fprintf(stderr, "warning: kafka source: brokers '%s' unreachable, "
                "retrying: %s\n", ks->brokers, ks->last_msg);
        ks->warned = 1;
    }
    if (ks->bounded && all_done(ks))
        *done = 1;
    return rows;
}

static char *kafka_position(const sl_source *s)
{
    const kafka_src *ks = (const kafka_src *)s;
    size_t cap = 64, n = 0;
    char *out = sl_xrealloc(NULL, cap);
    out[0] = 0;
    for (int i = 0; i < ks->nparts; i++) {
        const kpart *p = &ks->parts[i];
        if (p->next < 0)
            continue;
        size_t need = strlen(ks->topics[p->topic]) + 48;
        if (n + need >= cap) {
            cap = (n + need) * 2;
            out = sl_xrealloc(out, cap);
        }
        n += (size_t)snprintf(out + n, cap - n, "%s%s:%d=%" PRId64,
                              n ? "," : "", ks->topics[p->topic],
                              (int)p->partition, p->next);
    }
    return out;
}

static int kafka_seek(sl_source *s, const char *pos, sl_error *err)
{
    kafka_src *ks = (kafka_src *)s;
    const char *z = pos ? pos : "";
    while (*z) {
        const char *e = strchr(z, ',');
        size_t n = e ? (size_t)(e - z) : strlen(z);
        char item[512];
        if (n >= sizeof item)
            return sl_error_set(err, -1, "bad kafka position '%s'", pos);
        memcpy(item, z, n);
        item[n] = 0;
        char *eq = strrchr(item, '=');
        char *colon = eq ? memrchr(item, ':', (size_t)(eq - item)) : NULL;
        char *end1, *end2;
        if (eq == NULL || colon == NULL)
            return sl_error_set(err, -1, "bad kafka position '%s'", pos);
        *colon = 0;
        long part = strtol(colon + 1, &end1, 10);
        long long off = strtoll(eq + 1, &end2, 10);
        if (end1 != eq || *end2 != 0 || part < 0 || part > 65535 || off < 0)
            return sl_error_set(err, -1, "bad kafka position '%s'", pos);
        int t = topic_index(ks, item);
        if (t >= 0) {          /* a topic no longer read is ignored */
            kpart *p = part_get(ks, t, (int32_t)part, 1);
            p->next = off;
        }
        z += n;
        if (*z == ',')
            z++;
    }
    return 0;
}

static double kafka_progress(const sl_source *s)
{
    const kafka_src *ks = (const kafka_src *)s;
    if (!ks->bounded)
        return -1;
    double total = 0, read = 0;
    for (int i = 0; i < ks->nparts; i++) {
        const kpart *p = &ks->parts[i];
        if (p->end <= p->low)
            continue;
        total += (double)(p->end - p->low);
        int64_t at = p->done ? p->end : p->next < 0 ? p->low : p->next;
        if (at > p->end)
            at = p->end;
        if (at > p->low)
            read += (double)(at - p->low);
    }
    return total > 0 ? read / total : 1.0;
}

static char *kafka_location(const sl_source *s, const sl_rowloc *loc)
{
    const kafka_src *ks = (const kafka_src *)s;
    int t = loc->part >> PART_SHIFT;
    const char *topic = t >= 0 && t < ks->ntopics ? ks->topics[t] : "?";
    size_t cap = strlen(topic) + 48;
    char *out = sl_xrealloc(NULL, cap);
    snprintf(out, cap, "%s/%d/%" PRId64, topic, (int)(loc->part & 0xffff),
             loc->pos);
    return out;
}

static int kafka_active(sl_source *s, int32_t *parts, int max)
{
    kafka_src *ks = (kafka_src *)s;
    int64_t now = mono_ms();
    int n = 0;
    for (int i = 0; i < ks->nparts && n < max; i++) {
        const kpart *p = &ks->parts[i];
        if (!p->assigned)
            continue;
        /* a finished partition holds W back only while the rows of the
        ** call that finished it are processed */
        if (p->done && p->done_call != ks->calls)
            continue;
        if (!p->done && now - p->last_ms >= ks->idle_ms)
            continue;                   /* idle: no longer holds W back */
        parts[n++] = part_id(p);
    }
    return n;
}

static void kafka_committed(sl_source *s)
{
    kafka_src *ks = (kafka_src *)s;
    rd_kafka_topic_partition_list_t *l = to_commit(ks, NULL);
    if (l == NULL)
        return;
    if (rd_kafka_commit(ks->rk, l, 1) == RD_KAFKA_RESP_ERR_NO_ERROR)
        ks->commit_inflight = 1;
    rd_kafka_topic_partition_list_destroy(l);
}

/* Frees what the source owns once its handle is destroyed (librdkafka's
** callbacks point to it until then). */
static void kafka_free(void *arg)
{
    kafka_src *ks = arg;
    for (int i = 0; i < ks->ntopics; i++)
        free(ks->topics[i]);
    free(ks->topics);
    free(ks->rkts);
    free(ks->parts);
    free(ks->brokers);
    sl_decoder_free(ks->dec);
    free(ks);
}

static void kafka_close(sl_source *s)
{
    kafka_src *ks = (kafka_src *)s;
    while (ks->imsg < ks->nmsgs)
        rd_kafka_message_destroy(ks->msgs[ks->imsg++]);
    if (ks->queue)
        rd_kafka_queue_destroy(ks->queue);
    if (ks->rk == NULL) {
        kafka_free(ks);
        return;
    }
    /* let an outstanding commit finish, for a bounded time */
    int64_t until = mono_ms() + CLOSE_COMMIT_WAIT_MS;
    while (ks->commit_inflight && mono_ms() < until)
        rd_kafka_poll(ks->rk, 50);
    for (int t = 0; ks->rkts && t < ks->ntopics; t++)
        if (ks->rkts[t])
            rd_kafka_topic_destroy(ks->rkts[t]);
    /* leaving the group and destroying the handle, bounded in time */
    if (sl_kafka_shutdown(ks->rk, !ks->manual, CLOSE_SHUTDOWN_WAIT_MS,
                          kafka_free, ks) != 0)
        fprintf(stderr, "warning: kafka source: librdkafka did not shut down "
                "within %d s; left to finish in the background\n",
                CLOSE_SHUTDOWN_WAIT_MS / 1000);
}

static const sl_source_vtab kafka_vtab = {
    "kafka", kafka_next, kafka_position, kafka_seek, kafka_progress,
    kafka_location, kafka_active, kafka_committed, kafka_close
};

sl_source *sl_kafka_source_open(const sl_source_def *def, const char *query,
                                sl_error *err)
{
    kafka_src *ks = calloc(1, sizeof *ks);
    if (ks == NULL)
        abort();
    ks->base.vt = &kafka_vtab;
    ks->ndeclared = def->ndeclared;
    ks->idle_ms = DEFAULT_IDLE_MS;
    const char *v;
    if ((v = opt(def, "brokers")) == NULL || v[0] == 0) {
        sl_error_set(err, -1, "kafka source %s needs brokers = '<host:port>'",
                     def->name);
        goto fail;
    }
    ks->brokers = xstrdup(v);
    if ((v = opt(def, "topic")) == NULL) {
        sl_error_set(err, -1, "kafka source %s needs topic = '<name>'",
                     def->name);
        goto fail;
    }
    if (split_topics(ks, v, err) != 0)
        goto fail;
    if (read_options(def->stmt, &ks->start, &ks->bounded, &ks->idle_ms,
                     err) != 0)
        goto fail;
    /* A push query (the engine names it "(push)") reads every partition
    ** by itself: joining a group would split the topic with every other
    ** terminal running the same SELECT. */
    ks->manual = ks->bounded || (opt(def, "group_id") == NULL &&
                                 (query == NULL || query[0] == '('));
    sl_decoder_options dopt = def->decode;
    dopt.header = 0;             /* one record per message, positional CSV */
    ks->dec = sl_decoder_new(&dopt, def->ndeclared,
                             (const char *const *)def->col_names,
                             def->col_types, err);
    if (ks->dec == NULL)
        goto fail;

    rd_kafka_conf_t *conf = make_conf(ks, def, query, err);
    if (conf == NULL)
        goto fail;
    char errstr[512];
    ks->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (ks->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        sl_error_set(err, -1, "kafka source %s: %s", def->name, errstr);
        goto fail;
    }
    ks->queue = rd_kafka_queue_get_consumer(ks->rk);  /* group.id is set */
    if (load_metadata(ks, err) != 0)
        goto fail;
    ks->next_check_ms = mono_ms() + TOPIC_CHECK_MS;
    if (ks->bounded && load_ends(ks, err) != 0)
        goto fail;
    if (ks->manual)
        hold_topics(ks);
    if (!ks->manual) {
        rd_kafka_topic_partition_list_t *l =
            rd_kafka_topic_partition_list_new(ks->ntopics);
        for (int t = 0; t < ks->ntopics; t++)
            rd_kafka_topic_partition_list_add(l, ks->topics[t],
                                              RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t e = rd_kafka_subscribe(ks->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (e) {
            sl_error_set(err, -1, "kafka source %s: cannot subscribe to "
                         "'%s': %s", def->name, ks->topics[0],
                         rd_kafka_err2str(e));
            goto fail;
        }
    }
    return &ks->base;
fail:
    kafka_close(&ks->base);
    return NULL;
}
