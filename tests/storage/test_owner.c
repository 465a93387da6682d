/*
** test_owner.c: the owner lock of storage/owner.c, as a TAP unit test.
**
** Pins: the first taker owns the database and its pid is in DB-owner; a
** second taker (another process, or another session of this one) is told
** who owns it; a release empties the file and frees the lock; an owner
** killed with SIGKILL leaves no lock behind; a lock file that cannot be
** opened is reported, not ignored.
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "storage/owner.h"
#include "tap.h"

static char *read_file(const char *path)
{
    static char buf[1024];
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

int main(void)
{
    char dir[] = "/tmp/sluice-owner-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    char db[256], lock[256], pid[32];
    snprintf(db, sizeof db, "%s/t.db", dir);
    snprintf(lock, sizeof lock, "%s/t.db-owner", dir);

    char *why = NULL;
    sl_owner *o = sl_owner_acquire(db, &why);
    ok(o != NULL && why == NULL, "first_taker_owns_the_database");
    const char *text = read_file(lock);
    snprintf(pid, sizeof pid, "pid %ld\n", (long)getpid());
    ok(text != NULL && strncmp(text, pid, strlen(pid)) == 0 &&
       strstr(text, "\nhost ") != NULL && strstr(text, "\nstarted ") != NULL,
       "lock_file_names_pid_host_and_start");

    /* a second session of the same process is not a second owner */
    sl_owner *o2 = sl_owner_acquire(db, &why);
    snprintf(pid, sizeof pid, "sluice process %ld ", (long)getpid());
    ok(o2 == NULL && why != NULL && strstr(why, pid) != NULL &&
       strstr(why, "(started ") != NULL,
       "second_taker_is_told_the_owner: %s", why ? why : "(null)");
    free(why);
    why = NULL;

    sl_owner_release(o);
    text = read_file(lock);
    ok(text != NULL && text[0] == 0, "release_empties_the_lock_file");
    o = sl_owner_acquire(db, &why);
    ok(o != NULL, "released_lock_can_be_taken_again");
    sl_owner_release(o);

    /* an owner killed with SIGKILL leaves no lock behind */
    int ready[2];
    if (pipe(ready) != 0)
        return 1;
    pid_t child = fork();
    if (child == 0) {
        char *w = NULL;
        sl_owner *c = sl_owner_acquire(db, &w);
        char b = c != NULL ? 'y' : 'n';
        if (write(ready[1], &b, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    char b = 0;
    if (read(ready[0], &b, 1) != 1)
        b = 0;
    o = sl_owner_acquire(db, &why);
    snprintf(pid, sizeof pid, "sluice process %ld ", (long)child);
    ok(b == 'y' && o == NULL && why != NULL && strstr(why, pid) != NULL,
       "another_process_owning_is_named: %s", why ? why : "(null)");
    free(why);
    why = NULL;
    sl_owner_release(o);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    o = sl_owner_acquire(db, &why);
    ok(o != NULL, "a_killed_owner_leaves_no_lock: %s", why ? why : "");
    free(why);
    why = NULL;
    sl_owner_release(o);

    /* a lock file that cannot be opened */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/no-such-dir/t.db", dir);
    o = sl_owner_acquire(bad, &why);
    ok(o == NULL && why != NULL && strstr(why, "cannot be written") != NULL &&
       strstr(why, "t.db-owner") != NULL,
       "unopenable_lock_file_is_reported: %s", why ? why : "(null)");
    free(why);

    unlink(lock);
    rmdir(dir);
    return tap_done();
}
