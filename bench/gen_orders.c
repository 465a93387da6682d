/* gen_orders.c: the deterministic generator of the orders workload that
 * benchmarks B1..B6 read (issue 6). Columns order_id, store_id, user_id,
 * amount, event_time; 1000 events per second of event time starting at
 * 2026-03-17 00:00:00 UTC; every event up to 5 s behind its nominal time
 * (out of order); 0.5 % of events 30 to 600 s late; store_id drawn from a
 * bounded Pareto distribution (shape 0.1: about 80 % of orders go to the top
 * 20 % of the 1000 stores, store-0001 the busiest); user_id uniform over
 * 100 000 users; amount uniform 1.00 .. 499.99. Output is CSV with a header
 * or NDJSON, written by hand-formatting into a 1 MiB buffer. The same seed
 * gives byte-identical output (xoshiro256** in bench/prng.h).
 *
 *   gen_orders --rows N [--format csv|ndjson] [--seed S] [-o FILE]
 *   gen_orders --stores [--seed S] [-o FILE]     the stores dimension table:
 *                                                store_id,region (8 regions)
 */
#include "fmt.h"
#include "prng.h"

#include <fcntl.h>
#include <math.h>

#define N_STORES 1000
#define N_USERS 100000
#define PARETO_SHAPE 0.1
#define LOOKUP_BITS 12

static const char *const regions[8] = {
    "north", "south", "east", "west", "central", "northeast", "northwest", "southwest",
};

/* cdf[k] = P(store index <= k) scaled to 2^64 (saturating); lookup[b] is the
 * first k whose cdf exceeds the start of bucket b of the top LOOKUP_BITS. */
static uint64_t cdf[N_STORES];
static uint16_t lookup[1u << LOOKUP_BITS];

static void build_store_table(void)
{
    double h = pow((double)N_STORES + 1, -PARETO_SHAPE);
    for (int k = 0; k < N_STORES; k++) {
        /* bounded Pareto on [1, N+1): F(x) = (1 - x^-a) / (1 - (N+1)^-a) */
        double f = (1.0 - pow((double)k + 2, -PARETO_SHAPE)) / (1.0 - h);
        cdf[k] = f >= 1.0 ? UINT64_MAX : (uint64_t)(f * 18446744073709551616.0);
    }
    cdf[N_STORES - 1] = UINT64_MAX;
    int k = 0;
    for (uint64_t b = 0; b < (1u << LOOKUP_BITS); b++) {
        uint64_t lo = b << (64 - LOOKUP_BITS);
        while (k < N_STORES - 1 && cdf[k] <= lo)
            k++;
        lookup[b] = (uint16_t)k;
    }
}

static inline int draw_store(bench_rng *r)
{
    uint64_t u = bench_rng_next(r);
    int k = lookup[u >> (64 - LOOKUP_BITS)];
    while (k < N_STORES - 1 && u >= cdf[k])
        k++;
    return k + 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: gen_orders --rows N [--format csv|ndjson] [--seed S] [-o FILE]\n"
                    "       gen_orders --stores [--seed S] [-o FILE]\n");
    exit(2);
}

static void gen_stores(bench_out *o, uint64_t seed)
{
    bench_rng r;
    bench_rng_seed(&r, seed ^ 0x53544f5245535eULL);
    BENCH_PUTS(o, "store_id,region\n");
    for (int k = 1; k <= N_STORES; k++) {
        BENCH_PUTS(o, "store-");
        bench_put_padded(o, (uint64_t)k, 4);
        bench_putc(o, ',');
        const char *reg = regions[bench_rng_below(&r, 8)];
        bench_put(o, reg, strlen(reg));
        bench_putc(o, '\n');
    }
}

static void gen_orders(bench_out *o, uint64_t rows, int ndjson, uint64_t seed)
{
    bench_rng r;
    bench_rng_seed(&r, seed);
    build_store_table();
    if (!ndjson)
        BENCH_PUTS(o, "order_id,store_id,user_id,amount,event_time\n");
    for (uint64_t i = 0; i < rows; i++) {
        int64_t nominal = BENCH_BASE_MS + (int64_t)i; /* 1000 events/s */
        int64_t t;
        if (bench_rng_below(&r, 1000) < 5)
            t = nominal - 30000 - (int64_t)bench_rng_below(&r, 570001);
        else
            t = nominal - (int64_t)bench_rng_below(&r, 5001);
        int store = draw_store(&r);
        uint64_t user = bench_rng_below(&r, N_USERS);
        uint64_t cents = 100 + bench_rng_below(&r, 49900);
        if (ndjson) {
            BENCH_PUTS(o, "{\"order_id\":");
            bench_put_u64(o, i + 1);
            BENCH_PUTS(o, ",\"store_id\":\"store-");
            bench_put_padded(o, (uint64_t)store, 4);
            BENCH_PUTS(o, "\",\"user_id\":\"user-");
            bench_put_padded(o, user, 5);
            BENCH_PUTS(o, "\",\"amount\":");
            bench_put_cents(o, cents);
            BENCH_PUTS(o, ",\"event_time\":\"");
            bench_put_ts(o, t);
            BENCH_PUTS(o, "\"}\n");
        } else {
            bench_put_u64(o, i + 1);
            BENCH_PUTS(o, ",store-");
            bench_put_padded(o, (uint64_t)store, 4);
            BENCH_PUTS(o, ",user-");
            bench_put_padded(o, user, 5);
            bench_putc(o, ',');
            bench_put_cents(o, cents);
            bench_putc(o, ',');
            bench_put_ts(o, t);
            bench_putc(o, '\n');
        }
        bench_out_maybe_flush(o);
    }
}

int main(int argc, char **argv)
{
    uint64_t rows = 0, seed = 42;
    int have_rows = 0, ndjson = 0, stores = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--rows") && i + 1 < argc) {
            rows = strtoull(argv[++i], NULL, 10);
            have_rows = 1;
        } else if (!strcmp(a, "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--format") && i + 1 < argc) {
            const char *f = argv[++i];
            if (!strcmp(f, "ndjson") || !strcmp(f, "json"))
                ndjson = 1;
            else if (strcmp(f, "csv"))
                usage();
        } else if ((!strcmp(a, "-o") || !strcmp(a, "--out")) && i + 1 < argc) {
            path = argv[++i];
        } else if (!strcmp(a, "--stores")) {
            stores = 1;
        } else {
            usage();
        }
    }
    if (!stores && !have_rows)
        usage();
    int fd = 1;
    if (path) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            perror(path);
            return 1;
        }
    }
    bench_out o;
    bench_out_open(&o, fd);
    if (stores)
        gen_stores(&o, seed);
    else
        gen_orders(&o, rows, ndjson, seed);
    bench_out_close(&o);
    if (path && close(fd) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}
