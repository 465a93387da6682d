/* kafka_latency.c: end-to-end latency of sluice on a Kafka source: from
 * producing an event to a topic to the event's result row being visible
 * (committed) in the SQLite database. The Kafka counterpart of latency.c
 * (the follow = true file source); bench/run.py runs both.
 *
 * It starts sluice as a child on a fresh database with an unbounded Kafka
 * source (JSON: {"id":N,"sent_us":T}) and a stateless STREAMING TABLE over
 * it, waits until sluice's consumer is live on every partition (warm-up
 * events with negative ids go to each partition in turn until one from
 * every partition is visible: a partition not yet read from when the
 * events start would skip them, as the source starts at 'latest'), then
 * produces events at a steady
 * rate, each as its own message sent at once (linger.ms = 0), recording the
 * time it handed each to the producer. It polls the result table through
 * its own read-only SQLite connection and, for each id that became
 * visible, records (time seen - time produced). At the end it stops sluice
 * with SIGINT and prints count, p50, p99 and max in milliseconds.
 *
 *   kafka_latency --sluice PATH --brokers HOST:PORT --topic T --dir WORKDIR
 *                 [--seconds S] [--rate EVENTS_PER_S] [--commit-ms MS]
 *                 [--props "'kafka.x' = 'v', ..."]
 *
 * The topic must exist (bench/run.py makes it with the test broker). The
 * commit interval goes to sluice as SLUICE_COMMIT_INTERVAL_MS; --props are
 * appended to the source's WITH clause (the consumer settings measured).
 * The poll loop wakes every 200 us, the resolution of the numbers. Owns
 * the child process, the producer and the database under WORKDIR. */
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>
#include "probe.h"

#define DEFAULT_PROPS "'kafka.fetch.wait.max.ms' = '1', 'kafka.session.timeout.ms' = '6000'"

static rd_kafka_t *producer(const char *brokers)
{
    static const char *const conf[][2] = {
        {"linger.ms", "0"},            /* every event sent at once */
        {"acks", "1"},
        {"max.in.flight", "1"},        /* the mock answers pipelined requests late */
        {"log_level", "3"},
    };
    char errstr[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, errstr, sizeof errstr)) {
        fprintf(stderr, "kafka_latency: %s\n", errstr);
        return NULL;
    }
    for (size_t i = 0; i < sizeof conf / sizeof conf[0]; i++)
        if (rd_kafka_conf_set(c, conf[i][0], conf[i][1], errstr, sizeof errstr)) {
            fprintf(stderr, "kafka_latency: %s: %s\n", conf[i][0], errstr);
            return NULL;
        }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof errstr);
    if (rk == NULL)
        fprintf(stderr, "kafka_latency: %s\n", errstr);
    return rk;
}

static int produce(rd_kafka_t *rk, rd_kafka_topic_t *rkt, int32_t part, long long id,
                   int64_t ts)
{
    char buf[96];
    int n = snprintf(buf, sizeof buf, "{\"id\":%lld,\"sent_us\":%" PRId64 "}", id, ts);
    if (rd_kafka_produce(rkt, part, RD_KAFKA_MSG_F_COPY, buf, (size_t)n,
                         NULL, 0, NULL) != 0) {
        fprintf(stderr, "kafka_latency: produce: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    rd_kafka_poll(rk, 0);
    return 0;
}

static long long scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

int main(int argc, char **argv)
{
    const char *sluice = NULL, *brokers = NULL, *topic = NULL, *dir = NULL;
    const char *props = DEFAULT_PROPS;
    double seconds = 5;
    long rate = 1000, commit_ms = 5;
    for (int i = 1; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            sluice = NULL, i = argc;
        else if (!strcmp(k, "--sluice"))
            sluice = v;
        else if (!strcmp(k, "--brokers"))
            brokers = v;
        else if (!strcmp(k, "--topic"))
            topic = v;
        else if (!strcmp(k, "--dir"))
            dir = v;
        else if (!strcmp(k, "--seconds"))
            seconds = atof(v);
        else if (!strcmp(k, "--rate"))
            rate = atol(v);
        else if (!strcmp(k, "--commit-ms"))
            commit_ms = atol(v);
        else if (!strcmp(k, "--props"))
            props = v;
        else
            sluice = NULL, i = argc;
    }
    if (!sluice || !brokers || !topic || !dir || rate <= 0 || seconds <= 0 ||
        commit_ms <= 0) {
        fprintf(stderr, "usage: kafka_latency --sluice PATH --brokers HOST:PORT --topic T "
                        "--dir WORKDIR [--seconds S] [--rate EVENTS_PER_S] [--commit-ms MS] "
                        "[--props \"'kafka.x' = 'v', ...\"]\n");
        return 2;
    }
    mkdir(dir, 0755);
    char dbpath[2048], sql[8192];
    snprintf(dbpath, sizeof dbpath, "%s/kafka_latency.db", dir);
    probe_remove_db(dbpath);
    int n = snprintf(sql, sizeof sql,
                     "CREATE SOURCE ev (id BIGINT, sent_us BIGINT) "
                     "WITH (connector = 'kafka', brokers = '%s', topic = '%s', "
                     "format = 'json', start = 'latest'%s%s);\n"
                     "CREATE STREAMING TABLE lat AS SELECT id, sent_us, _partition AS p FROM ev;\n",
                     brokers, topic, props[0] ? ", " : "", props);
    if (n >= (int)sizeof sql) {
        fprintf(stderr, "kafka_latency: --props too long\n");
        return 2;
    }

    rd_kafka_t *rk = producer(brokers);
    if (rk == NULL)
        return 1;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    if (e || md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt < 1) {
        fprintf(stderr, "kafka_latency: topic %s: %s\n", topic,
                rd_kafka_err2str(e ? e : md->topic_cnt == 1 ? md->topics[0].err
                                                            : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
        return 1;
    }
    int nparts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);

    pid_t child = probe_start_sluice(sluice, dbpath, sql, commit_ms);
    if (child < 0)
        return 1;

    /* warm-up: negative ids until one is committed (consumer assigned and
     * reading), for at most 30 s (a consumer group join on the mock takes
     * a few seconds) */
    sqlite3 *db = NULL;
    int64_t deadline = probe_now_us() + 30000000, next_warm = 0;
    long long warm = 0;
    for (;;) {
        int status;
        if (waitpid(child, &status, WNOHANG) == child) {
            fprintf(stderr, "kafka_latency: sluice exited early (status %d)\n", status);
            return 1;
        }
        if (probe_now_us() > deadline) {
            fprintf(stderr, "kafka_latency: no warm-up event reached table lat within 30 s\n");
            kill(child, SIGKILL);
            waitpid(child, &status, 0);
            return 1;
        }
        if (probe_now_us() >= next_warm) {
            if (produce(rk, rkt, (int32_t)(warm % nparts), -1 - warm, probe_now_us()) != 0)
                return 1;
            warm++;
            next_warm = probe_now_us() + 20000;
        }
        if (!db && sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
            sqlite3_close(db);
            db = NULL;
        }
        if (db && scalar(db, "SELECT count(DISTINCT p) FROM lat WHERE id < 0") >= nparts)
            break;
        probe_nap_us(5000);
    }
    sqlite3_busy_timeout(db, 100);
    sqlite3_stmt *poll;
    if (sqlite3_prepare_v2(db, PROBE_POLL_SQL, -1, &poll, NULL) != SQLITE_OK) {
        fprintf(stderr, "kafka_latency: %s\n", sqlite3_errmsg(db));
        return 1;
    }

    long total = (long)(seconds * (double)rate);
    int64_t *sent = calloc((size_t)total, sizeof *sent);
    int64_t *lat = calloc((size_t)total, sizeof *lat);
    if (!sent || !lat)
        return 1;
    long produced = 0, seen = 0;
    int64_t cursor = 0;       /* rowid of the last row read */
    int64_t start = probe_now_us();
    int64_t end_by = start + (int64_t)(seconds * 1e6) + 5000000; /* 5 s to drain */
    int failed = 0;
    while (seen < total && probe_now_us() < end_by && !failed) {
        /* produce every event whose time has come */
        long due = (long)((double)(probe_now_us() - start) * (double)rate / 1e6);
        if (due > total)
            due = total;
        for (; produced < due; produced++) {
            sent[produced] = probe_now_us();
            if (produce(rk, rkt, RD_KAFKA_PARTITION_UA, produced, sent[produced]) != 0) {
                failed = 1;
                break;
            }
        }
        rd_kafka_poll(rk, 0);
        /* what is committed now */
        long fresh = probe_collect(poll, &cursor, sent, lat, produced);
        if (fresh < 0) {
            fprintf(stderr, "kafka_latency: poll: %s\n", sqlite3_errmsg(db));
            break;
        }
        seen += fresh;
        probe_nap_us(200);
    }
    sqlite3_finalize(poll);
    sqlite3_close(db);
    kill(child, SIGINT);
    int status = 0;
    waitpid(child, &status, 0);
    rd_kafka_flush(rk, 2000);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);

    int rc = probe_report("kafka latency: Kafka source -> STREAMING TABLE", commit_ms,
                          rate, lat, total);
    free(sent);
    free(lat);
    return rc;
}
