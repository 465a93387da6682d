/*
** error.c: recording and rendering user errors (see error.h).
**
** sl_error_render() is the single place that turns an error into text for a
** user, so every error of sluice looks the same.
*/
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "engine/error.h"

void sl_error_clear(sl_error *err)
{
    err->set = 0;
    err->offset = -1;
    err->transient = 0;
    err->msg[0] = 0;
}

static void verror(sl_error *err, int offset, const char *fmt, va_list ap)
{
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    err->offset = offset;
    err->set = 1;
}

int sl_error_set(sl_error *err, int offset, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || err->set)
        return -1;
    va_start(ap, fmt);
    verror(err, offset, fmt, ap);
    va_end(ap);
    return -1;
}

int sl_error_reset(sl_error *err, int offset, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL)
        return -1;
    va_start(ap, fmt);
    verror(err, offset, fmt, ap);
    va_end(ap);
    return -1;
}

void sl_error_position(const char *text, int offset, int *line, int *column)
{
    int l = 1, c = 1;
    for (int i = 0; i < offset && text[i]; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            c++;     /* count characters, not UTF-8 continuation bytes */
        }
    }
    *line = l;
    *column = c;
}

void sl_error_render(FILE *out, const sl_error *err, const char *text,
                     const char *where)
{
    fprintf(out, "error: %s\n", err->msg);
    if (err->offset < 0 || text == NULL)
        return;
    int len = (int)strlen(text);
    int off = err->offset > len ? len : err->offset;
    int line, column;
    sl_error_position(text, off, &line, &column);
    fprintf(out, "%sline %d, column %d\n", where ? where : "", line, column);
    int start = off;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    int end = off;
    while (end < len && text[end] != '\n')
        end++;
    fprintf(out, "%.*s\n", end - start, text + start);
    for (int i = start; i < off; i++) {
        if (((unsigned char)text[i] & 0xC0) == 0x80)
            continue;
        fputc(text[i] == '\t' ? '\t' : ' ', out);
    }
    fputs("^\n", out);
}

static void *checked(void *p)
{
    if (p == NULL) {
        fputs("sluice: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *sl_xmalloc(size_t n)
{
    return checked(malloc(n ? n : 1));
}

void *sl_xcalloc(size_t n, size_t size)
{
    return checked(calloc(n ? n : 1, size ? size : 1));
}

void *sl_xrealloc(void *p, size_t n)
{
    return checked(realloc(p, n ? n : 1));
}
