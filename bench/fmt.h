/* fmt.h: fast hand-written output for the benchmark generators: a large
 * write buffer on a file descriptor, unsigned decimals, fixed two-decimal
 * money values and UTC timestamps `YYYY-MM-DD HH:MM:SS.mmm`, without printf
 * on the per-row path. Header-only (static inline); a bench_out owns its
 * buffer, created by bench_out_open and freed by bench_out_close, which
 * flushes. Write errors end the program with a message: a generator that
 * silently writes half a file would make every benchmark after it wrong. */
#ifndef SL_BENCH_FMT_H
#define SL_BENCH_FMT_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BENCH_OUT_CAP (1u << 20)

typedef struct {
    int fd;
    size_t len;
    char *buf; /* BENCH_OUT_CAP bytes + slack for one record */
    /* cached date prefix for timestamps */
    int64_t day;
    char date[11];
} bench_out;

static inline void bench_out_open(bench_out *o, int fd)
{
    o->fd = fd;
    o->len = 0;
    o->buf = malloc(BENCH_OUT_CAP + 65536);
    if (!o->buf) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    o->day = INT64_MIN;
}

static inline void bench_out_flush(bench_out *o)
{
    size_t off = 0;
    while (off < o->len) {
        ssize_t n = write(o->fd, o->buf + off, o->len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("write");
            exit(1);
        }
        off += (size_t)n;
    }
    o->len = 0;
}

/* Called once per record: records are far below the 64 KiB slack. */
static inline void bench_out_maybe_flush(bench_out *o)
{
    if (o->len >= BENCH_OUT_CAP)
        bench_out_flush(o);
}

static inline void bench_out_close(bench_out *o)
{
    bench_out_flush(o);
    free(o->buf);
    o->buf = NULL;
}

static inline void bench_put(bench_out *o, const char *s, size_t n)
{
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

#define BENCH_PUTS(o, lit) bench_put((o), (lit), sizeof(lit) - 1)

static inline void bench_putc(bench_out *o, char c)
{
    o->buf[o->len++] = c;
}

static inline void bench_put_u64(bench_out *o, uint64_t v)
{
    char tmp[24];
    int i = 24;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    bench_put(o, tmp + i, (size_t)(24 - i));
}

static inline void bench_put_i64(bench_out *o, int64_t v)
{
    if (v < 0) {
        bench_putc(o, '-');
        bench_put_u64(o, (uint64_t)0 - (uint64_t)v);
    } else {
        bench_put_u64(o, (uint64_t)v);
    }
}

/* v zero-padded to width digits (v < 10^width). */
static inline void bench_put_padded(bench_out *o, uint64_t v, int width)
{
    char *p = o->buf + o->len + width;
    for (int i = 0; i < width; i++) {
        *--p = (char)('0' + v % 10);
        v /= 10;
    }
    o->len += (size_t)width;
}

/* cents as a decimal with two fraction digits: 12345 -> 123.45 */
static inline void bench_put_cents(bench_out *o, uint64_t cents)
{
    bench_put_u64(o, cents / 100);
    bench_putc(o, '.');
    bench_put_padded(o, cents % 100, 2);
}

/* Days since 1970-01-01 to civil date (Howard Hinnant's algorithm). */
static inline void bench_civil(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

/* Milliseconds since the epoch (>= 0) as `YYYY-MM-DD HH:MM:SS.mmm`. */
static inline void bench_put_ts(bench_out *o, int64_t ms)
{
    int64_t day = ms / 86400000;
    int64_t in_day = ms % 86400000;
    if (day != o->day) {
        int y, m, d;
        bench_civil(day, &y, &m, &d);
        int v[3] = {y % 10000, m, d}, w[3] = {4, 2, 2}, at = 0;
        for (int f = 0; f < 3; f++) {
            for (int i = w[f] - 1; i >= 0; i--) {
                o->date[at + i] = (char)('0' + v[f] % 10);
                v[f] /= 10;
            }
            at += w[f];
            if (f < 2)
                o->date[at++] = '-';
        }
        o->day = day;
    }
    bench_put(o, o->date, 10);
    bench_putc(o, ' ');
    bench_put_padded(o, (uint64_t)(in_day / 3600000), 2);
    bench_putc(o, ':');
    bench_put_padded(o, (uint64_t)(in_day / 60000 % 60), 2);
    bench_putc(o, ':');
    bench_put_padded(o, (uint64_t)(in_day / 1000 % 60), 2);
    bench_putc(o, '.');
    bench_put_padded(o, (uint64_t)(in_day % 1000), 3);
}

/* 2026-03-17 00:00:00 UTC: the start of event time in every data set. */
#define BENCH_BASE_MS INT64_C(1773705600000)

#endif
