/* prng.h: the seeded pseudo-random generator shared by the benchmark
 * generators (bench/gen_orders.c, bench/gen_nexmark.c, bench/latency.c).
 * xoshiro256** (Blackman and Vigna) seeded through splitmix64, so one 64-bit
 * seed gives one stream of numbers on every machine: the same seed gives
 * byte-identical data files. Header-only, all functions static inline; it
 * owns nothing but the four words of state the caller holds. */
#ifndef SL_BENCH_PRNG_H
#define SL_BENCH_PRNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} bench_rng;

static inline uint64_t bench_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline void bench_rng_seed(bench_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = bench_splitmix64(&seed);
}

static inline uint64_t bench_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t bench_rng_next(bench_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = bench_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = bench_rotl(s[3], 45);
    return result;
}

/* A uniform 64-bit draw x as an integer in [0, n), n > 0 (Lemire's
 * multiply-shift; the bias is below 2^-32 for the n used here), and as a
 * double in [0, 1). Any generator's draws: xoshiro's below, splitmix64's
 * in connectors/nexmark_gen.c. */
static inline uint64_t bench_below(uint64_t x, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)x * n) >> 64);
}

static inline double bench_unit(uint64_t x)
{
    return (double)(x >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n), n > 0. */
static inline uint64_t bench_rng_below(bench_rng *r, uint64_t n)
{
    return bench_below(bench_rng_next(r), n);
}

/* Uniform double in [0, 1). */
static inline double bench_rng_unit(bench_rng *r)
{
    return bench_unit(bench_rng_next(r));
}

#endif
