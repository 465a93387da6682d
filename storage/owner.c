/*
** owner.c: the lock that makes one sluice process the owner of a database
** (see owner.h).
**
** Taking ownership: open (creating) DB-owner, flock(LOCK_EX | LOCK_NB), then
** write "pid N\nhost H\nstarted YYYY-MM-DD HH:MM:SS UTC\n" into it. A
** process that finds the lock held reads those lines back for its message;
** the owner writes them just after locking, so a reader that finds the
** file still empty waits a few milliseconds for them. flock, not fcntl: an
** fcntl lock is dropped when the process closes any descriptor of the file,
** and it is the process, not the descriptor, that holds it, so a second
** session in the same process would take it too. The descriptor is
** close-on-exec so no child process inherits the lock.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include "storage/owner.h"

struct sl_owner {
    int fd;
};

static char *lock_path(const char *db_path)
{
    size_t n = strlen(db_path);
    char *p = malloc(n + sizeof "-owner");
    if (p == NULL)
        abort();
    memcpy(p, db_path, n);
    memcpy(p + n, "-owner", sizeof "-owner");
    return p;
}

static void host_name(char *buf, size_t size)
{
    if (gethostname(buf, size) != 0)
        snprintf(buf, size, "unknown");
    buf[size - 1] = 0;
}

/* Writes who owns the database into the locked file. An error here leaves
** the process the owner (it holds the lock); only the message others show
** is poorer, so it is not reported. */
static void write_identity(int fd)
{
    char host[256], started[32], text[400];
    host_name(host, sizeof host);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(started, sizeof started, "%Y-%m-%d %H:%M:%S", &tm);
    int n = snprintf(text, sizeof text, "pid %ld\nhost %s\nstarted %s UTC\n",
                     (long)getpid(), host, started);
    if (ftruncate(fd, 0) == 0 && n > 0 && (size_t)n < sizeof text &&
        pwrite(fd, text, (size_t)n, 0) == n)
        fsync(fd);
}

/* Copies the value of "key value\n" in text into out (empty if missing). */
static void field(const char *text, const char *key, char *out, size_t size)
{
    size_t k = strlen(key);
    out[0] = 0;
    for (const char *line = text; *line; ) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > k && strncmp(line, key, k) == 0 && line[k] == ' ') {
            size_t v = len - k - 1;
            if (v >= size)
                v = size - 1;
            memcpy(out, line + k + 1, v);
            out[v] = 0;
            return;
        }
        line += len + (end ? 1 : 0);
    }
}

/* The sentence naming the process that holds the lock on fd. */
static char *describe_owner(const char *db_path, int fd)
{
    char text[1024];
    ssize_t n = 0;
    /* the owner writes its identity just after it locks: wait up to 0.2 s */
    for (int tries = 0; tries < 20; tries++) {
        n = pread(fd, text, sizeof text - 1, 0);
        if (n > 0)
            break;
        usleep(10000);
    }
    text[n > 0 ? n : 0] = 0;
    char pid[32], host[256], started[64], mine[256];
    field(text, "pid", pid, sizeof pid);
    field(text, "host", host, sizeof host);
    field(text, "started", started, sizeof started);
    host_name(mine, sizeof mine);
    char *why = NULL;
    int rc;
    if (pid[0] == 0)
        rc = asprintf(&why, "database %s is owned by another sluice process "
                      "(its lock file %s-owner names none)", db_path, db_path);
    else
        rc = asprintf(&why, "database %s is owned by sluice process %s%s%s "
                      "(started %s)", db_path, pid,
                      host[0] && strcmp(host, mine) != 0 ? " on host " : "",
                      host[0] && strcmp(host, mine) != 0 ? host : "",
                      started[0] ? started : "at an unknown time");
    if (rc < 0)
        abort();
    return why;
}

sl_owner *sl_owner_acquire(const char *db_path, char **why)
{
    char *path = lock_path(db_path);
    *why = NULL;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (asprintf(why, "database %s cannot be written: cannot open its "
                     "lock file %s: %s", db_path, path, strerror(errno)) < 0)
            abort();
        free(path);
        return NULL;
    }
    free(path);
    int rc;
    while ((rc = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
        ;
    if (rc != 0) {
        if (errno == EWOULDBLOCK)
            *why = describe_owner(db_path, fd);
        else if (asprintf(why, "database %s cannot be written: cannot lock "
                          "its lock file %s-owner: %s", db_path, db_path,
                          strerror(errno)) < 0)
            abort();
        close(fd);
        return NULL;
    }
    write_identity(fd);
    sl_owner *o = malloc(sizeof *o);
    if (o == NULL)
        abort();
    o->fd = fd;
    return o;
}

void sl_owner_release(sl_owner *o)
{
    if (o == NULL)
        return;
    /* empty while still locked, so the file never names a finished owner */
    if (ftruncate(o->fd, 0) != 0) {
        /* the lock goes with the descriptor anyway */
    }
    close(o->fd);
    free(o);
}
