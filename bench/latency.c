/* latency.c: end-to-end latency of sluice on a `follow = true` file source:
 * from appending an event to the input file to the event's result row being
 * visible (committed) in the SQLite database. It starts sluice as a child on
 * a fresh database with a stateless STREAMING TABLE (filter + project) over
 * a CSV file it then appends to at a steady rate, each event carrying its id
 * and append time; it polls the result table through its own read-only
 * SQLite connection and, for each id that became visible, records
 * (time seen - time appended). At the end it stops sluice with SIGINT and
 * prints count, p50, p99 and max in milliseconds.
 *
 *   latency --sluice PATH --dir WORKDIR [--seconds S] [--rate EVENTS_PER_S]
 *           [--commit-ms MS]
 *
 * The commit interval is passed to sluice as SLUICE_COMMIT_INTERVAL_MS. The
 * poll loop wakes every 200 us, so that is the resolution of the numbers.
 * Owns the child process, the input file and the database under WORKDIR. */
#include "fmt.h"
#include "probe.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            perror("write");
            exit(1);
        }
        s += w;
        n -= (size_t)w;
    }
}

int main(int argc, char **argv)
{
    const char *sluice = NULL, *dir = NULL;
    double seconds = 5;
    long rate = 1000, commit_ms = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--sluice"))
            sluice = argv[i + 1];
        else if (!strcmp(argv[i], "--dir"))
            dir = argv[i + 1];
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--rate"))
            rate = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--commit-ms"))
            commit_ms = atol(argv[i + 1]);
        else
            sluice = NULL, i = argc;
    }
    if (!sluice || !dir || rate <= 0 || seconds <= 0) {
        fprintf(stderr, "usage: latency --sluice PATH --dir WORKDIR [--seconds S] "
                        "[--rate EVENTS_PER_S] [--commit-ms MS]\n");
        return 2;
    }
    mkdir(dir, 0755);
    char input[2048], dbpath[2048], sql[8192];
    snprintf(input, sizeof input, "%s/latency_input.csv", dir);
    snprintf(dbpath, sizeof dbpath, "%s/latency.db", dir);
    probe_remove_db(dbpath);

    int in_fd = open(input, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (in_fd < 0) {
        perror(input);
        return 1;
    }
    write_all(in_fd, "id,sent_us,event_time\n", 22);

    snprintf(sql, sizeof sql,
             "CREATE SOURCE ev (id BIGINT, sent_us BIGINT, event_time TIMESTAMP, "
             "WATERMARK FOR event_time AS event_time - INTERVAL '1' SECOND) "
             "WITH (connector = 'file', path = '%s', format = 'csv', header = true, "
             "follow = true);\n"
             "CREATE STREAMING TABLE lat AS SELECT id, sent_us FROM ev WHERE id >= 0;\n",
             input);
    pid_t child = probe_start_sluice(sluice, dbpath, sql, commit_ms);
    if (child < 0)
        return 1;

    /* wait for the result table to exist */
    sqlite3 *db = NULL;
    int64_t deadline = probe_now_us() + 10000000;
    for (;;) {
        int status;
        if (waitpid(child, &status, WNOHANG) == child) {
            fprintf(stderr, "latency: sluice exited early (status %d)\n", status);
            return 1;
        }
        if (!db && sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
            sqlite3_close(db);
            db = NULL;
        }
        if (db) {
            sqlite3_stmt *st;
            if (sqlite3_prepare_v2(db, "SELECT max(id) FROM lat", -1, &st, NULL) == SQLITE_OK) {
                sqlite3_finalize(st);
                break;
            }
        }
        if (probe_now_us() > deadline) {
            fprintf(stderr, "latency: table lat did not appear within 10 s\n");
            kill(child, SIGKILL);
            return 1;
        }
        probe_nap_us(5000);
    }
    sqlite3_busy_timeout(db, 100);
    sqlite3_stmt *poll;
    if (sqlite3_prepare_v2(db, PROBE_POLL_SQL, -1, &poll, NULL) != SQLITE_OK) {
        fprintf(stderr, "latency: %s\n", sqlite3_errmsg(db));
        return 1;
    }

    long total = (long)(seconds * (double)rate);
    int64_t *sent = calloc((size_t)total, sizeof *sent);
    int64_t *lat = calloc((size_t)total, sizeof *lat);
    if (!sent || !lat)
        return 1;
    long appended = 0, seen = 0;
    int64_t cursor = 0;     /* rowid of the last row read */
    int64_t start = probe_now_us();
    int64_t end_by = start + (int64_t)(seconds * 1e6) + 5000000; /* 5 s to drain */
    bench_out o;
    bench_out_open(&o, in_fd);
    while (seen < total && probe_now_us() < end_by) {
        /* append every event whose time has come, one write per burst */
        int64_t t = probe_now_us();
        long due = (long)((double)(t - start) * (double)rate / 1e6);
        if (due > total)
            due = total;
        if (appended < due) {
            int64_t ts = probe_now_us();
            for (long id = appended; id < due; id++) {
                bench_put_u64(&o, (uint64_t)id);
                bench_putc(&o, ',');
                bench_put_u64(&o, (uint64_t)ts);
                bench_putc(&o, ',');
                bench_put_ts(&o, ts / 1000);
                bench_putc(&o, '\n');
                sent[id] = ts;
            }
            bench_out_flush(&o);
            appended = due;
        }
        /* what is committed now */
        long fresh = probe_collect(poll, &cursor, sent, lat, appended);
        if (fresh < 0) {
            fprintf(stderr, "latency: poll: %s\n", sqlite3_errmsg(db));
            break;
        }
        seen += fresh;
        probe_nap_us(200);
    }
    bench_out_close(&o);
    sqlite3_finalize(poll);
    sqlite3_close(db);
    kill(child, SIGINT);
    int status = 0;
    waitpid(child, &status, 0);
    close(in_fd);

    int rc = probe_report("latency: follow file source -> STREAMING TABLE",
                          commit_ms, rate, lat, total);
    free(sent);
    free(lat);
    return rc;
}
