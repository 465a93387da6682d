/*
** main.c: the `sluice` command (DESIGN §4, docs/cli.md).
**
**   sluice [DB] [-f FILE] [-c SQL] [--serve] [--read-only]
**          [--mode table|csv|json|line] [--help] [--version]
**
** Parses the command line, opens the session on DB (./sluice.db by default),
** then runs, in order, every -f file and -c argument (each text handed to
** sl_session_exec once), or standard input when it is not a terminal and no
** -f/-c was given, or the REPL on a terminal. After the statements (and with
** --serve) it keeps the database's continuous queries running until all are
** finished or SIGINT/SIGTERM asks them to commit and stop.
** A session that does not own its database (another sluice process does,
** it cannot be written, or --read-only) says so once on stderr and only
** reads; --serve on it is an error.
** Owns the session, the output formatter and the SIGINT/SIGTERM handlers.
** Exit status: 0 success, 1 SQL or runtime error, 2 bad usage.
*/
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/output.h"
#include "cli/repl.h"
#include "engine/session.h"

#ifndef SL_VERSION
#define SL_VERSION "unknown"
#endif

#define EXIT_SQL 1
#define EXIT_USAGE 2

static const char usage_line[] =
    "usage: sluice [DB] [-f FILE] [-c SQL] [--serve] [--read-only] "
    "[--mode table|csv|json|line] [--help] [--version]\n";

static const char usage_text[] =
    "\n"
    "Runs streaming SQL on the SQLite database DB (default ./sluice.db).\n"
    "\n"
    "  DB                 database file, created if missing\n"
    "  -f FILE            run the statements in FILE\n"
    "  -c SQL             run the statements in SQL\n"
    "                     (-f and -c may be repeated; they run in order)\n"
    "  --serve            run the database's continuous queries, no statements\n"
    "  --read-only        only read DB: never own it, run no continuous query\n"
    "  --mode MODE        result format: table, csv, json or line\n"
    "                     (default: table on a terminal, csv otherwise)\n"
    "  -h, --help         show this help\n"
    "  --version          show the version\n"
    "\n"
    "With no -f/-c: statements are read from standard input when it is not a\n"
    "terminal, otherwise an interactive shell starts (\\help inside it).\n"
    "After the statements, sluice keeps running while continuous queries over\n"
    "unbounded sources run; SIGINT or SIGTERM commits them and exits.\n"
    "One sluice process owns a database (the lock file DB-owner names it);\n"
    "any other only reads it: pull queries, SHOW, DESCRIBE and EXPLAIN.\n"
    "Exit status: 0 success, 1 SQL error, 2 bad usage.\n";

/* One -f or -c, in command-line order. */
typedef struct job {
    int is_file;
    const char *arg;        /* file name or SQL text */
} job;

static sl_session *volatile g_session;
static volatile sig_atomic_t g_signals;

/* SIGINT/SIGTERM: ask the queries to commit and stop; a second signal while
** they do so ends the process at once (the database stays consistent: every
** commit is one SQLite transaction). */
static void on_signal(int sig)
{
    g_signals++;
    sl_session *s = g_session;
    if (s)
        sl_session_interrupt(s);
    if (g_signals >= 2) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* a file-size limit reached is a write error sluice waits out (like a
    ** full disk), not the end of the process */
    signal(SIGXFSZ, SIG_IGN);
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("sluice: ", stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    fputs(usage_line, stderr);
    return EXIT_USAGE;
}

/* Reads all of f into a NUL-terminated buffer (caller frees); NULL on a read
** error with errno set. */
static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return NULL;
    for (;;) {
        if (n + 1 >= cap) {
            char *b = realloc(buf, cap * 2);
            if (b == NULL) {
                free(buf);
                errno = ENOMEM;
                return NULL;
            }
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                int e = errno;
                free(buf);
                errno = e;
                return NULL;
            }
            break;
        }
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Runs text through the session. `label` names where it came from in error
** reports ("job.sql", "stdin", or NULL for -c). Returns 0 or EXIT_SQL. */
static int run_text(sl_session *s, const char *text, size_t len,
                    const char *label)
{
    sl_error err;
    int failed = 0;
    sl_error_clear(&err);
    if (len > (size_t)0x7fffffff) {
        fprintf(stderr, "error: %s is too large (2 GB at most)\n",
                label ? label : "-c argument");
        return EXIT_SQL;
    }
    int rc = sl_session_exec(s, text, (int)len, &err, &failed);
    fflush(stdout);
    if (rc == 0)
        return 0;
    /* error: <message>
    ** job.sql: statement 3, line 12, column 8
    ** <source line>
    **        ^                                  */
    char where[1024];
    if (label)
        snprintf(where, sizeof where, "%s: statement %d, ", label, failed);
    else
        snprintf(where, sizeof where, "statement %d, ", failed);
    sl_error_render(stderr, &err, text, where);
    if (err.offset < 0) {
        if (label)
            fprintf(stderr, "%s: statement %d\n", label, failed);
        else
            fprintf(stderr, "statement %d\n", failed);
    }
    fflush(stderr);
    return EXIT_SQL;
}

static int run_file(sl_session *s, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "error: cannot open %s: %s\n", path, strerror(errno));
        return EXIT_SQL;
    }
    size_t len;
    char *text = read_all(f, &len);
    int e = errno;
    fclose(f);
    if (text == NULL) {
        fprintf(stderr, "error: cannot read %s: %s\n", path, strerror(e));
        return EXIT_SQL;
    }
    int rc = run_text(s, text, len, path);
    free(text);
    return rc;
}

static int run_stdin(sl_session *s)
{
    size_t len;
    char *text = read_all(stdin, &len);
    if (text == NULL) {
        fprintf(stderr, "error: cannot read standard input: %s\n",
                strerror(errno));
        return EXIT_SQL;
    }
    int rc = run_text(s, text, len, "stdin");
    free(text);
    return rc;
}

/* Runs the continuous queries until none is running, or until a signal asked
** them to stop (then gives them the chance to commit). Returns 0, or
** EXIT_SQL when a query reported an error. */
static int run_queries(sl_session *s)
{
    int rc = 0;
    for (;;) {
        sl_error err;
        sl_error_clear(&err);
        int stop = g_signals > 0;
        if (stop)
            sl_session_interrupt(s);
        int running = sl_session_run(s, stop ? 0 : 200, &err);
        if (err.set) {
            sl_error_render(stderr, &err, NULL, NULL);
            fflush(stderr);
            rc = EXIT_SQL;
        }
        fflush(stdout);
        if (running <= 0)
            break;
        if (stop) {
            /* Interrupted queries commit and stop within a few steps; give
            ** them time, then leave (the next start resumes from the last
            ** commit). */
            for (int i = 0; i < 50 && running > 0; i++) {
                sl_error_clear(&err);
                running = sl_session_run(s, 200, &err);
                if (err.set) {
                    sl_error_render(stderr, &err, NULL, NULL);
                    rc = EXIT_SQL;
                }
            }
            break;
        }
    }
    return rc;
}

/* Reports bad usage from main(), freeing what it holds. */
#define USAGE_ERROR(...) do { free(jobs); return usage_error(__VA_ARGS__); } while (0)

int main(int argc, char **argv)
{
    const char *db = NULL;
    int serve = 0;
    int read_only = 0;
    int mode_set = 0;
    sl_output_mode mode = SL_MODE_CSV;
    job *jobs = calloc((size_t)argc, sizeof *jobs);
    int njobs = 0;
    int only_args = 0;

    if (jobs == NULL)
        return EXIT_SQL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_args && strcmp(a, "--") == 0) {
            only_args = 1;
        } else if (!only_args && (strcmp(a, "-f") == 0 || strcmp(a, "-c") == 0)) {
            if (i + 1 >= argc)
                USAGE_ERROR("option %s needs an argument", a);
            jobs[njobs].is_file = a[1] == 'f';
            jobs[njobs].arg = argv[++i];
            njobs++;
        } else if (!only_args && (strcmp(a, "--mode") == 0 ||
                                  strncmp(a, "--mode=", 7) == 0)) {
            const char *m;
            if (a[6] == '=')
                m = a + 7;
            else if (i + 1 < argc)
                m = argv[++i];
            else
                USAGE_ERROR("option %s needs an argument", a);
            if (sl_output_mode_parse(m, &mode) != 0)
                USAGE_ERROR("unknown mode '%s' (table, csv, json or line)", m);
            mode_set = 1;
        } else if (!only_args && strcmp(a, "--serve") == 0) {
            serve = 1;
        } else if (!only_args && strcmp(a, "--read-only") == 0) {
            read_only = 1;
        } else if (!only_args && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            fputs(usage_line, stdout);
            fputs(usage_text, stdout);
            free(jobs);
            return 0;
        } else if (!only_args && (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0)) {
            printf("sluice %s\n", SL_VERSION);
            free(jobs);
            return 0;
        } else if (!only_args && a[0] == '-' && a[1] != 0) {
            USAGE_ERROR("unknown option %s", a);
        } else if (db == NULL) {
            db = a;
        } else {
            USAGE_ERROR("unexpected argument %s (one database only)", a);
        }
    }
    if (serve && njobs > 0)
        USAGE_ERROR("%s takes no -f or -c", "--serve");
    if (serve && read_only)
        USAGE_ERROR("%s runs the continuous queries: not with --read-only",
                    "--serve");
    if (db == NULL)
        db = "sluice.db";
    int out_tty = isatty(STDOUT_FILENO);
    if (!mode_set)
        mode = out_tty ? SL_MODE_TABLE : SL_MODE_CSV;

    sl_output *out = sl_output_new(stdout, mode);
    sl_session_options opt = {
        .out = out,
        .msg = stderr,
        .progress = isatty(STDERR_FILENO),
        .read_only = read_only,
    };
    sl_error err;
    sl_error_clear(&err);
    install_signals();
    sl_session *s = sl_session_open(db, &opt, &err);
    if (s == NULL) {
        sl_error_render(stderr, &err, NULL, NULL);
        sl_output_free(out);
        free(jobs);
        return EXIT_SQL;
    }
    g_session = s;

    int rc = 0;
    const char *why = sl_session_read_only(s);
    if (why != NULL && serve) {
        fprintf(stderr, "error: %s: --serve runs its continuous queries, "
                "which only the owner does\n", why);
        rc = EXIT_SQL;
    } else if (why != NULL && !read_only) {
        fprintf(stderr, "note: %s: this session is read-only (pull queries, "
                "SHOW, DESCRIBE and EXPLAIN)\n", why);
        fflush(stderr);
    }
    if (rc != 0) {
        /* nothing runs */
    } else if (serve) {
        rc = run_queries(s);
    } else if (njobs > 0) {
        for (int i = 0; i < njobs && rc == 0 && g_signals == 0; i++)
            rc = jobs[i].is_file ? run_file(s, jobs[i].arg)
                                 : run_text(s, jobs[i].arg,
                                            strlen(jobs[i].arg), NULL);
        if (rc == 0) {
            rc = run_queries(s);
        }
    } else if (!isatty(STDIN_FILENO)) {
        rc = run_stdin(s);
        if (rc == 0)
            rc = run_queries(s);
    } else {
        rc = sl_repl_run(s, out);
    }

    g_session = NULL;
    sl_session_close(s);
    sl_output_free(out);
    fflush(stdout);
    free(jobs);
    return rc;
}
