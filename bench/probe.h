/* probe.h: what the two latency probes (latency.c: a follow = true file
 * source; kafka_latency.c: a Kafka source) share: the clock, a fresh
 * database, starting sluice as a child with a commit interval, reading
 * the rows committed to its table `lat`, and the report of p50 / p99 /
 * max. Header-only (static inline); nothing here owns
 * memory beyond a call. */
#ifndef SL_BENCH_PROBE_H
#define SL_BENCH_PROBE_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* wall-clock microseconds (the time written into events and read back) */
static inline int64_t probe_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline void probe_nap_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Removes the database at path and its -wal and -shm files. */
static inline void probe_remove_db(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char side[4200];
    for (int i = 0; i < 3; i++) {
        snprintf(side, sizeof side, "%s%s", path, suffixes[i]);
        remove(side);
    }
}

/* Starts `sluice DB -c SQL` as a child with SLUICE_COMMIT_INTERVAL_MS set;
** returns its pid, or -1 (with a message) when fork fails. */
static inline pid_t probe_start_sluice(const char *sluice, const char *dbpath,
                                       const char *sql, long commit_ms)
{
    char env[32];
    snprintf(env, sizeof env, "%ld", commit_ms);
    setenv("SLUICE_COMMIT_INTERVAL_MS", env, 1);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return -1;
    }
    if (child == 0) {
        execl(sluice, sluice, dbpath, "-c", sql, (char *)NULL);
        perror(sluice);
        _exit(127);
    }
    return child;
}

/* The statement probe_collect steps: the rows of lat after a rowid (rows
** of several Kafka partitions commit out of id order; rowids follow the
** commits). */
#define PROBE_POLL_SQL "SELECT rowid, id FROM lat WHERE rowid > ?1"

/* Reads the rows committed since *cursor with poll (PROBE_POLL_SQL) and
** moves *cursor past them; each id in [0, limit) not seen before gets its
** latency, now - sent[id], in lat[id] (plus 1: 0 means unseen). Returns
** how many ids were new, or -1 when the read failed (SQLITE_BUSY is not a
** failure: the next call reads them). */
static inline long probe_collect(sqlite3_stmt *poll, int64_t *cursor,
                                 const int64_t *sent, int64_t *lat, long limit)
{
    long fresh = 0;
    int rc;
    sqlite3_bind_int64(poll, 1, *cursor);
    int64_t seen_at = probe_now_us();
    while ((rc = sqlite3_step(poll)) == SQLITE_ROW) {
        *cursor = sqlite3_column_int64(poll, 0);
        int64_t id = sqlite3_column_int64(poll, 1);
        if (id >= 0 && id < limit && lat[id] == 0) {
            lat[id] = seen_at - sent[id] + 1;
            fresh++;
        }
    }
    sqlite3_reset(poll);
    return rc == SQLITE_DONE || rc == SQLITE_BUSY ? fresh : -1;
}

static inline int probe_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Prints "<what>, commit interval C ms, R events/s: K of N seen; p50, p99,
** max" from lat[0..total) (latency in us plus 1; 0 = never seen). Returns
** the exit status: 0 when every event was seen, 1 otherwise. */
static inline int probe_report(const char *what, long commit_ms, long rate,
                               const int64_t *lat, long total)
{
    int64_t *v = malloc((size_t)(total ? total : 1) * sizeof *v);
    if (v == NULL)
        return 1;
    long k = 0;
    for (long i = 0; i < total; i++)
        if (lat[i])
            v[k++] = lat[i] - 1;
    if (k == 0) {
        printf("%s: no event became visible (%ld sent)\n", what, total);
        free(v);
        return 1;
    }
    qsort(v, (size_t)k, sizeof *v, probe_cmp_i64);
    long i99 = (k * 99) / 100 < k ? (k * 99) / 100 : k - 1;
    printf("%s, commit interval %ld ms, %ld events/s: %ld of %ld seen; "
           "p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", what, commit_ms, rate, k,
           total, (double)v[k / 2] / 1000.0, (double)v[i99] / 1000.0,
           (double)v[k - 1] / 1000.0);
    free(v);
    return k == total ? 0 : 1;
}

#endif
