/* kafka_load.c: loads an NDJSON file into a Kafka topic for the Kafka rows
 * of the benchmark (bench/run.py, docs/benchmarks.md): one message per line,
 * the line (without its newline) as the value, keyed by the text value of
 * one JSON field (the orders' "user_id" by default, uniform over 100 000
 * users, so the partitions fill evenly), partitioned by librdkafka's default
 * partitioner. It maps the file and produces without copying, in large
 * batches, then waits until every message is acknowledged; it exits 1 if any
 * delivery failed.
 *
 *   kafka_load --brokers HOST:PORT --topic T --input FILE [--rows N]
 *              [--key FIELD|none]
 *
 * --rows N loads the first N lines (default all). The message count and the
 * load rate go to stderr. Owns its producer handle and the file mapping. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>

static long failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err && failed++ == 0)
        fprintf(stderr, "kafka_load: delivery failed: %s\n", rd_kafka_err2str(m->err));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The text value of "FIELD":"..." in [line, end), or NULL. */
static const char *find_key(const char *line, const char *end, const char *pat,
                            size_t patlen, size_t *len)
{
    const char *p = memmem(line, (size_t)(end - line), pat, patlen);
    if (p == NULL)
        return NULL;
    p += patlen;
    const char *q = memchr(p, '"', (size_t)(end - p));
    if (q == NULL)
        return NULL;
    *len = (size_t)(q - p);
    return p;
}

static int conf(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char errstr[512];
    if (rd_kafka_conf_set(c, k, v, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_load: %s: %s\n", k, errstr);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *brokers = NULL, *topic = NULL, *input = NULL, *key = "user_id";
    long long rows = -1;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            brokers = NULL, i = argc;
        else if (!strcmp(argv[i], "--brokers"))
            brokers = argv[i + 1];
        else if (!strcmp(argv[i], "--topic"))
            topic = argv[i + 1];
        else if (!strcmp(argv[i], "--input"))
            input = argv[i + 1];
        else if (!strcmp(argv[i], "--rows"))
            rows = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--key"))
            key = argv[i + 1];
        else
            brokers = NULL, i = argc;
    }
    if (!brokers || !topic || !input || rows == 0) {
        fprintf(stderr, "usage: kafka_load --brokers HOST:PORT --topic T --input FILE "
                        "[--rows N] [--key FIELD|none]\n");
        return 2;
    }
    char pat[256];
    size_t patlen = 0;
    if (strcmp(key, "none") != 0) {
        if (strlen(key) > 200) {
            fprintf(stderr, "kafka_load: key field name too long\n");
            return 2;
        }
        patlen = (size_t)snprintf(pat, sizeof pat, "\"%s\":\"", key);
    }

    int fd = open(input, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(input);
        return 1;
    }
    const char *data = NULL;
    if (st.st_size > 0) {
        data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (data == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        madvise((void *)data, (size_t)st.st_size, MADV_SEQUENTIAL);
    }

    /* throughput, not latency: big batches, a deep queue, no compression */
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char errstr[512];
    if (conf(c, "bootstrap.servers", brokers) || conf(c, "linger.ms", "20") ||
        conf(c, "batch.num.messages", "10000") || conf(c, "batch.size", "1000000") ||
        conf(c, "queue.buffering.max.messages", "1000000") ||
        conf(c, "queue.buffering.max.kbytes", "1048576") ||
        conf(c, "compression.codec", "none") || conf(c, "acks", "1") ||
        conf(c, "log_level", "3"))
        return 1;
    rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof errstr);
    if (rk == NULL) {
        fprintf(stderr, "kafka_load: %s\n", errstr);
        return 1;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);

    double t0 = now_s();
    long long n = 0;
    const char *p = data, *end = data + st.st_size;
    while (p < end && (rows < 0 || n < rows)) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (le > p) {
            size_t klen = 0;
            const char *k = patlen ? find_key(p, le, pat, patlen, &klen) : NULL;
            /* flags 0: the payload stays in the mapping, neither copied nor freed */
            while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, 0, (void *)p,
                                    (size_t)(le - p), k, klen, NULL) != 0) {
                rd_kafka_resp_err_t e = rd_kafka_last_error();
                if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                    fprintf(stderr, "kafka_load: produce: %s\n", rd_kafka_err2str(e));
                    return 1;
                }
                rd_kafka_poll(rk, 10);
            }
            n++;
            if ((n & 1023) == 0)
                rd_kafka_poll(rk, 0);
        }
        p = le + 1;
    }
    while (rd_kafka_outq_len(rk) > 0 && !failed)
        rd_kafka_poll(rk, 50);
    double dt = now_s() - t0;
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    if (data)
        munmap((void *)data, (size_t)st.st_size);
    close(fd);
    if (failed) {
        fprintf(stderr, "kafka_load: %ld of %lld messages failed\n", failed, n);
        return 1;
    }
    fprintf(stderr, "kafka_load: %lld messages to %s in %.2f s (%.2f M/s)\n", n, topic, dt,
            dt > 0 ? (double)n / dt / 1e6 : 0.0);
    return 0;
}
