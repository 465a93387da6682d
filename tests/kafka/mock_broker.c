/*
** mock_broker.c: the test broker of the kafka suite.
**
** Starts librdkafka's in-process mock cluster (rd_kafka_mock_cluster_new on
** a producer handle), creates the topics named on the command line, writes
** the cluster's bootstrap address to a file and stays up until SIGTERM or
** SIGINT. It owns nothing but that cluster.
**
**     mock_broker [-n BROKERS] [-d TOPIC]... BOOTSTRAP_FILE TOPIC:PARTITIONS ...
**
** The bootstrap file is written atomically (a temporary file renamed into
** place), so a test can poll for it and read a complete address. Ports are
** random. Fault injection is driven by signals, so a test can take the
** cluster down and up while a consumer is reading:
**     SIGUSR1  every broker goes down (connections closed, none accepted)
**     SIGUSR2  every broker comes back up
**     SIGHUP   the topics named with -d are deleted: the cluster's metadata
**              answers "unknown topic or partition" for them, as a Kafka
**              cluster does once a topic is deleted
** Each change is reported on stderr. Exit status 0 after SIGTERM/SIGINT,
** 2 on bad usage, 1 when the cluster cannot be made.
*/
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static void usage(void)
{
    fprintf(stderr, "usage: mock_broker [-n BROKERS] [-d TOPIC]... "
            "BOOTSTRAP_FILE TOPIC:PARTITIONS ...\n");
    exit(2);
}

static int write_bootstrap(const char *path, const char *servers)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "%s\n", servers);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

int main(int argc, char **argv)
{
    int nbrokers = 1;
    int a = 1;
    const char *doomed[16];
    int ndoomed = 0;
    for (;;) {
        if (a + 1 < argc && strcmp(argv[a], "-n") == 0) {
            nbrokers = atoi(argv[a + 1]);
            a += 2;
        } else if (a + 1 < argc && strcmp(argv[a], "-d") == 0) {
            if (ndoomed == (int)(sizeof doomed / sizeof doomed[0]))
                usage();
            doomed[ndoomed++] = argv[a + 1];
            a += 2;
        } else {
            break;
        }
    }
    if (a >= argc || nbrokers < 1)
        usage();
    const char *bootstrap_file = argv[a++];

    /* signals are taken synchronously with sigwait, never in a handler */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);  /* librdkafka threads inherit it */

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
                                  sizeof errstr);
    if (rk == NULL) {
        fprintf(stderr, "mock_broker: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, nbrokers);
    if (mc == NULL) {
        fprintf(stderr, "mock_broker: cannot create the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (; a < argc; a++) {
        char name[512];
        const char *colon = strrchr(argv[a], ':');
        int parts = colon ? atoi(colon + 1) : 1;
        size_t n = colon ? (size_t)(colon - argv[a]) : strlen(argv[a]);
        if (n == 0 || n >= sizeof name || parts < 1)
            usage();
        memcpy(name, argv[a], n);
        name[n] = 0;
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, parts, 1);
        if (e) {
            fprintf(stderr, "mock_broker: topic %s: %s\n", name,
                    rd_kafka_err2str(e));
            rd_kafka_mock_cluster_destroy(mc);
            rd_kafka_destroy(rk);
            return 1;
        }
    }
    const char *servers = rd_kafka_mock_cluster_bootstraps(mc);
    if (write_bootstrap(bootstrap_file, servers) != 0) {
        fprintf(stderr, "mock_broker: cannot write %s: %s\n", bootstrap_file,
                strerror(errno));
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 1;
    }
    fprintf(stderr, "mock_broker: %d broker(s) at %s\n", nbrokers, servers);

    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGTERM || sig == SIGINT)
            break;
        if (sig == SIGUSR1) {
            rd_kafka_mock_broker_set_down(mc, -1);
            fprintf(stderr, "mock_broker: brokers down\n");
        } else if (sig == SIGUSR2) {
            rd_kafka_mock_broker_set_up(mc, -1);
            fprintf(stderr, "mock_broker: brokers up\n");
        } else if (sig == SIGHUP) {
            for (int i = 0; i < ndoomed; i++) {
                rd_kafka_mock_topic_set_error(
                    mc, doomed[i], RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
                fprintf(stderr, "mock_broker: topic %s deleted\n", doomed[i]);
            }
            /* and fetches fail as they do for a deleted topic's partitions */
            static rd_kafka_resp_err_t fetch_errs[1000];
            for (size_t i = 0; i < 1000; i++)
                fetch_errs[i] = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
            rd_kafka_mock_push_request_errors_array(mc, 1 /* Fetch */, 1000,
                                                    fetch_errs);
        }
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
