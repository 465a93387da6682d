/*
** kafka_shutdown.c: shutting a librdkafka handle down in bounded time (see
** kafka_shutdown.h). Owns the shutdown thread and the small job record it
** shares with the caller: whichever of the two finishes last frees it.
*/
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "connectors/kafka_shutdown.h"
#include "engine/error.h"

typedef struct shutdown_job {
    rd_kafka_t *rk;
    int consumer_close;
    void (*free_owner)(void *owner);
    void *owner;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;           /* rk is destroyed */
    int abandoned;      /* the caller stopped waiting: the thread cleans up */
} shutdown_job;

static void job_free(shutdown_job *j)
{
    if (j->free_owner && j->owner)
        j->free_owner(j->owner);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}

static void *shutdown_main(void *arg)
{
    shutdown_job *j = arg;
    if (j->consumer_close)
        rd_kafka_consumer_close(j->rk);
    rd_kafka_destroy(j->rk);
    pthread_mutex_lock(&j->mu);
    j->done = 1;
    int abandoned = j->abandoned;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (abandoned)
        job_free(j);
    return NULL;
}

int sl_kafka_shutdown(rd_kafka_t *rk, int consumer_close, int64_t wait_ms,
                      void (*free_owner)(void *owner), void *owner)
{
    shutdown_job *j = sl_xcalloc(1, sizeof *j);
    j->rk = rk;
    j->consumer_close = consumer_close;
    j->free_owner = free_owner;
    j->owner = owner;
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_t th;
    if (pthread_create(&th, NULL, shutdown_main, j) != 0) {
        /* no thread: shut down here, unbounded, rather than leak */
        j->abandoned = 0;
        shutdown_main(j);
        job_free(j);
        return 0;
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(wait_ms / 1000);
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&j->mu);
    while (!j->done &&
           pthread_cond_timedwait(&j->cv, &j->mu, &until) != ETIMEDOUT)
        ;
    int done = j->done;
    if (!done)
        j->abandoned = 1;
    pthread_mutex_unlock(&j->mu);
    if (!done) {
        pthread_detach(th);
        return -1;
    }
    pthread_join(th, NULL);
    job_free(j);
    return 0;
}
