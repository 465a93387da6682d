/*
** error.h: the one error value of sluice.
**
** A user error (bad SQL, bad input, an unreachable broker) travels up the
** call stack as an sl_error: a message and, where known, the byte offset in
** the statement text it is about. sl_error_render() is the only function
** that prints an error for a user: `error: <message>`, then
** `line L, column C`, the source line and a caret under the place.
** Internal invariants are assert()s, never sl_errors.
*/
#ifndef SL_ERROR_H
#define SL_ERROR_H

#include <stdio.h>

#define SL_ERROR_MAX 512

typedef struct sl_error {
    int set;              /* 0 when no error has been recorded */
    int offset;           /* byte offset into the text the error is about, -1 if none */
    int transient;        /* a cause that passes (a lock, a full disk, a read-only
                             file): wait and retry, never fail a query for it */
    char msg[SL_ERROR_MAX];
} sl_error;

/* Clears err so it can be reused. */
void sl_error_clear(sl_error *err);

/* Records a message at offset (-1: no position). Keeps the first error when
** one is already set, so the deepest, most precise report wins. Returns -1 so
** callers can write `return sl_error_set(...)`. */
int sl_error_set(sl_error *err, int offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Replaces whatever is recorded (used when a caller knows better). */
int sl_error_reset(sl_error *err, int offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Computes the 1-based line and column of byte offset in text. */
void sl_error_position(const char *text, int offset, int *line, int *column);

/* Prints err to out:
**     error: <message>
**     line L, column C            (only when offset >= 0 and text != NULL)
**     <the source line>
**     <spaces>^
** `where`, if not NULL, is prefixed to the position line ("job.sql: ").
*/
void sl_error_render(FILE *out, const sl_error *err, const char *text,
                     const char *where);

/* Allocation that cannot fail: out of memory prints a message and aborts
** (STYLE: there is no sane recovery from it in an engine like this). A
** size of 0 is treated as 1. sl_xcalloc zeroes. */
void *sl_xmalloc(size_t n);
void *sl_xcalloc(size_t n, size_t size);
void *sl_xrealloc(void *p, size_t n);

#endif
