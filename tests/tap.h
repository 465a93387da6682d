/*
** tap.h: a minimal Test Anything Protocol emitter for the C unit tests.
**
**   ok(cond, "name %d", i);   is_str(got, want, "name");   is_int(got, want, "name");
**   return tap_done();        (prints the plan, exit status 1 if anything failed)
*/
#ifndef SL_TAP_H
#define SL_TAP_H

#include <stdio.h>
#include <string.h>
#include <stdarg.h>

static int tap_n, tap_failed;

static void tap_vok(int cond, const char *fmt, va_list ap)
{
    tap_n++;
    if (!cond)
        tap_failed++;
    printf("%sok %d - ", cond ? "" : "not ", tap_n);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
}

static inline int ok(int cond, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline int ok(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tap_vok(cond, fmt, ap);
    va_end(ap);
    return cond;
}

static inline int is_str(const char *got, const char *want, const char *name)
{
    int same = (got == NULL && want == NULL) ||
               (got != NULL && want != NULL && strcmp(got, want) == 0);
    ok(same, "%s", name);
    if (!same)
        printf("#   got:  %s\n#   want: %s\n", got ? got : "(null)",
               want ? want : "(null)");
    return same;
}

static inline int is_int(long long got, long long want, const char *name)
{
    ok(got == want, "%s", name);
    if (got != want)
        printf("#   got:  %lld\n#   want: %lld\n", got, want);
    return got == want;
}

static inline int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
