/*
** test_topn.c: TAP unit tests of the rows a window Top-N keeps
** (engine/topn.c).
**
** Rows are stepped in from real batches (column 0 the order value, the
** others the kept values; the first kept value is the row's id) and the
** kept set is read back with sl_topn_rank and sl_topn_fill into a batch,
** then rendered as "id:rank id:rank ..." and compared with the expected
** text. Covered: ROW_NUMBER / RANK / DENSE_RANK with ties inside and at the
** boundary, later rows evicting worse ones, ASC and DESC, DOUBLE order
** values with NaN (the largest value), NULL order values (last either
** way), kept BIGINT / DOUBLE / TEXT / NULL values (text copied out of the
** source batch), several sets stepped in one call, merge (checked against
** stepping the same rows), a brute-force oracle over pseudo-random
** sequences, save / load round trips and every truncation of a saved set.
*/
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "engine/topn.h"

#define NUL INT64_MIN           /* a NULL order value in int test arrays */
#define DNUL (-7.25e300)        /* a NULL order value in double arrays */

/* Where a set lives: at an offset inside a state block, as in the
** aggregate operator. */
typedef struct holder {
    char pad[24];
    sl_topn *t;
} holder;
#define OFF offsetof(holder, t)

static const sl_type id_type[] = {SL_BIGINT};

static sl_topn_spec spec(sl_rank_kind kind, int desc, int64_t n,
                         sl_type order_type)
{
    sl_topn_spec sp = {kind, desc, n, order_type, 1, id_type};
    return sp;
}

/* Order value and id columns: keys[i] (NUL: NULL), id id0 + i. */
static sl_batch *ints(const int64_t *keys, int n, int64_t id0)
{
    sl_type types[] = {SL_BIGINT, SL_BIGINT};
    sl_batch *b = sl_batch_new(2, types, 4);
    for (int i = 0; i < n; i++) {
        int r = sl_batch_add_row(b);
        if (keys[i] != NUL)
            sl_batch_set_int(b, r, 0, keys[i]);
        sl_batch_set_int(b, r, 1, id0 + i);
    }
    return b;
}

static sl_batch *dbls(const double *keys, int n, int64_t id0)
{
    sl_type types[] = {SL_DOUBLE, SL_BIGINT};
    sl_batch *b = sl_batch_new(2, types, 4);
    for (int i = 0; i < n; i++) {
        int r = sl_batch_add_row(b);
        if (keys[i] != DNUL)
            sl_batch_set_double(b, r, 0, keys[i]);
        sl_batch_set_int(b, r, 1, id0 + i);
    }
    return b;
}

/* Arrival numbers: each batch stepped takes the next nrows of them, so
** rows arrive in the order the tests step them. */
static uint64_t next_seq = 1;

static uint64_t seq_for(const sl_batch *b)
{
    uint64_t s = next_seq;
    next_seq += (uint64_t)b->nrows;
    return s;
}

/* Changes of a set whose reported byte change disagreed with
** sl_topn_bytes before and after (checked in feed, feed1, merges, loads). */
static int bytes_bad;

static void check_bytes(const sl_topn_spec *sp, size_t before, int64_t delta,
                        const sl_topn *after)
{
    if ((int64_t)before + delta != (int64_t)sl_topn_bytes(sp, after))
        bytes_bad++;
}

/* Steps every row of b into *t in one call (every state the same set). */
static void feed(const sl_topn_spec *sp, sl_topn **t, const sl_batch *b)
{
    holder h;
    memset(&h, 0, sizeof h);
    h.t = *t;
    char **states = malloc(sizeof *states * (size_t)(b->nrows + 1));
    int *rows = malloc(sizeof *rows * (size_t)(b->nrows + 1));
    for (int i = 0; i < b->nrows; i++) {
        states[i] = (char *)&h;
        rows[i] = i;
    }
    size_t before = sl_topn_bytes(sp, *t);
    int64_t delta = 0;
    sl_topn_step(sp, states, OFF, b->cols, rows, b->nrows, seq_for(b), &delta);
    *t = h.t;
    check_bytes(sp, before, delta, *t);
    free(states);
    free(rows);
}

/* Steps rows of b one call each. */
static void feed1(const sl_topn_spec *sp, sl_topn **t, const sl_batch *b)
{
    holder h;
    memset(&h, 0, sizeof h);
    h.t = *t;
    char *states[1] = {(char *)&h};
    size_t before = sl_topn_bytes(sp, *t);
    int64_t delta = 0;
    uint64_t seq0 = seq_for(b);
    for (int i = 0; i < b->nrows; i++)
        sl_topn_step(sp, states, OFF, b->cols, &i, 1, seq0, &delta);
    *t = h.t;
    check_bytes(sp, before, delta, *t);
}

static void render_val(char *out, size_t cap, const sl_column *c, int r)
{
    if (c->null[r]) {
        snprintf(out, cap, "NULL");
        return;
    }
    switch (c->type) {
    case SL_DOUBLE:
        if (isnan(c->v.d[r]))
            snprintf(out, cap, "NaN");
        else
            snprintf(out, cap, "%g", c->v.d[r]);
        break;
    case SL_TEXT:
        snprintf(out, cap, "'%.*s'", (int)c->v.s[r].n, c->v.s[r].z);
        break;
    default:
        snprintf(out, cap, "%lld", (long long)c->v.i[r]);
        break;
    }
}

/* The kept rows as "v,v,...:rank v,...:rank", read back with sl_topn_rank
** and sl_topn_fill (values written from column 1 on; column 0 holds the
** rank). */
static char rendered[8192];
static const char *render(const sl_topn_spec *sp, const sl_topn *t)
{
    sl_type types[16];
    types[0] = SL_BIGINT;
    for (int c = 0; c < sp->ncarry; c++)
        types[1 + c] = sp->carry_types[c];
    sl_batch *out = sl_batch_new(1 + sp->ncarry, types, 2);
    int64_t rank = 0;
    for (uint32_t i = 0; i < sl_topn_count(t); i++) {
        int r = sl_batch_add_row(out);
        rank = sl_topn_rank(sp, t, i, rank);
        sl_batch_set_int(out, r, 0, rank);
        sl_topn_fill(sp, t, i, out, r, 1);
    }
    size_t n = 0;
    rendered[0] = 0;
    for (int r = 0; r < out->nrows; r++) {
        char v[512];
        for (int c = 1; c <= sp->ncarry; c++) {
            render_val(v, sizeof v, &out->cols[c], r);
            n += (size_t)snprintf(rendered + n, sizeof rendered - n, "%s%s",
                                  c > 1 ? "," : (r > 0 ? " " : ""), v);
        }
        n += (size_t)snprintf(rendered + n, sizeof rendered - n, ":%lld",
                              (long long)out->cols[0].v.i[r]);
    }
    sl_batch_free(out);
    return rendered;
}

/* Steps keys into a new set (both in one call and one row per call; the
** two must agree), checks the result, frees the set. */
static void check_ints(const sl_topn_spec *sp, const int64_t *keys, int n,
                       const char *want, const char *name)
{
    sl_batch *b = ints(keys, n, 0);
    sl_topn *t = NULL, *t1 = NULL;
    feed(sp, &t, b);
    feed1(sp, &t1, b);
    is_str(render(sp, t), want, name);
    char one[8192];
    snprintf(one, sizeof one, "%s", render(sp, t1));
    char nm[256];
    snprintf(nm, sizeof nm, "%s (one row per step)", name);
    is_str(one, want, nm);
    sl_topn_free(t);
    sl_topn_free(t1);
    sl_batch_free(b);
}

static void check_dbls(const sl_topn_spec *sp, const double *keys, int n,
                       const char *want, const char *name)
{
    sl_batch *b = dbls(keys, n, 0);
    sl_topn *t = NULL;
    feed(sp, &t, b);
    is_str(render(sp, t), want, name);
    sl_topn_free(t);
    sl_batch_free(b);
}

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Steps more int rows (ids from id0) into an existing set. */
static void more(const sl_topn_spec *sp, sl_topn **t, const int64_t *keys,
                 int n, int64_t id0)
{
    sl_batch *b = ints(keys, n, id0);
    feed(sp, t, b);
    sl_batch_free(b);
}

/* ---- ranks ---------------------------------------------------------------- */

static void test_row_number(void)
{
    sl_topn_spec d2 = spec(SL_RANK_ROW_NUMBER, 1, 2, SL_BIGINT);
    sl_topn_spec a2 = spec(SL_RANK_ROW_NUMBER, 0, 2, SL_BIGINT);
    int64_t k[] = {5, 7, 7, 3, 7};
    check_ints(&d2, k, N(k), "1:1 2:2",
               "ROW_NUMBER<=2 DESC: the first two 7s, in arrival order");
    check_ints(&a2, k, N(k), "3:1 0:2", "ROW_NUMBER<=2 ASC: 3 then 5");
    int64_t t4[] = {4, 4, 4, 2};
    check_ints(&a2, t4, N(t4), "3:1 0:2",
               "ROW_NUMBER ASC: a better row pushes out the later tie");
    int64_t t3[] = {1, 2, 2, 2};
    sl_topn_spec d3 = spec(SL_RANK_ROW_NUMBER, 1, 3, SL_BIGINT);
    check_ints(&d3, t3, N(t3), "1:1 2:2 3:3",
               "ROW_NUMBER<=3: tied rows get 1,2,3 by arrival");
    int64_t one[] = {3};
    check_ints(&d3, one, 1, "0:1", "ROW_NUMBER: fewer rows than N all kept");

    /* a later better row evicts the last one */
    sl_topn *t = NULL;
    more(&d2, &t, k, N(k), 0);
    int64_t later[] = {8};
    more(&d2, &t, later, 1, 10);
    is_str(render(&d2, t), "10:1 1:2", "ROW_NUMBER: a later 8 evicts the second 7");
    int64_t tie[] = {7};
    more(&d2, &t, tie, 1, 20);
    is_str(render(&d2, t), "10:1 1:2", "ROW_NUMBER: a later tie with the last is dropped");
    is_int(sl_topn_count(t), 2, "ROW_NUMBER: count 2");
    sl_topn_free(t);
}

static void test_rank(void)
{
    sl_topn_spec r2 = spec(SL_RANK_RANK, 1, 2, SL_BIGINT);
    int64_t a[] = {9, 9, 5};
    check_ints(&r2, a, N(a), "0:1 1:1", "RANK<=2: tie at rank 1 kept, the 5 (rank 3) dropped");
    int64_t b[] = {9, 7, 7};
    check_ints(&r2, b, N(b), "0:1 1:2 2:2", "RANK<=2: 1,2,2 all kept");
    int64_t c[] = {9, 7, 7, 3};
    check_ints(&r2, c, N(c), "0:1 1:2 2:2", "RANK<=2: 1,2,2,4: the 4 dropped");
    int64_t c2[] = {3, 7, 9, 7};
    check_ints(&r2, c2, N(c2), "2:1 1:2 3:2", "RANK<=2: same rows, other arrival order");
    int64_t d[] = {9, 9, 9, 5};
    check_ints(&r2, d, N(d), "0:1 1:1 2:1", "RANK<=2: three rows tied at 1 all kept");

    sl_topn *t = NULL;
    more(&r2, &t, c, N(c), 0);
    int64_t tie[] = {7, 6};
    more(&r2, &t, tie, N(tie), 10);
    is_str(render(&r2, t), "0:1 1:2 2:2 10:2",
           "RANK: a later tie at the boundary is kept, a worse row dropped");
    int64_t best[] = {10};
    more(&r2, &t, best, 1, 20);
    is_str(render(&r2, t), "20:1 0:2", "RANK: a better row makes the 7s rank 3: dropped");
    int64_t nine[] = {9};
    more(&r2, &t, nine, 1, 30);
    is_str(render(&r2, t), "20:1 0:2 30:2", "RANK: a tie with the 9 is kept");
    sl_topn_free(t);

    sl_topn_spec r1 = spec(SL_RANK_RANK, 0, 1, SL_BIGINT);
    int64_t e[] = {4, 2, 2, 3, 2};
    check_ints(&r1, e, N(e), "1:1 2:1 4:1", "RANK<=1 ASC keeps every tied best row");
}

static void test_dense(void)
{
    sl_topn_spec d2 = spec(SL_RANK_DENSE, 1, 2, SL_BIGINT);
    int64_t a[] = {9, 8, 8, 7};
    check_ints(&d2, a, N(a), "0:1 1:2 2:2", "DENSE_RANK<=2: 1,2,2,3: the 3 dropped");
    int64_t b[] = {9, 9, 8, 8, 7};
    check_ints(&d2, b, N(b), "0:1 1:1 2:2 3:2", "DENSE_RANK<=2: 1,1,2,2 kept");
    int64_t c[] = {7, 8, 9, 8, 9, 7};
    check_ints(&d2, c, N(c), "2:1 4:1 1:2 3:2", "DENSE_RANK<=2: arrival order inside ties");

    sl_topn *t = NULL;
    more(&d2, &t, a, N(a), 0);
    int64_t tie[] = {8, 7};
    more(&d2, &t, tie, N(tie), 10);
    is_str(render(&d2, t), "0:1 1:2 2:2 10:2", "DENSE_RANK: later 8 kept, later 7 dropped");
    int64_t best[] = {10};
    more(&d2, &t, best, 1, 20);
    is_str(render(&d2, t), "20:1 0:2",
           "DENSE_RANK: a later 10 evicts every 8 (the worst distinct value)");
    int64_t mid[] = {9, 9};
    more(&d2, &t, mid, N(mid), 30);
    is_str(render(&d2, t), "20:1 0:2 30:2 31:2", "DENSE_RANK: ties with rank 2 kept");
    is_int(sl_topn_count(t), 4, "DENSE_RANK: count 4");
    sl_topn_free(t);

    sl_topn_spec a1 = spec(SL_RANK_DENSE, 0, 3, SL_BIGINT);
    int64_t e[] = {5, 1, 4, 1, 3, 2, 6};
    check_ints(&a1, e, N(e), "1:1 3:1 5:2 4:3", "DENSE_RANK<=3 ASC");
}

static void test_doubles_and_nulls(void)
{
    double nan = NAN;
    double k[] = {1.5, nan, -2.0, 3.0, INFINITY};
    sl_topn_spec d2 = spec(SL_RANK_ROW_NUMBER, 1, 2, SL_DOUBLE);
    sl_topn_spec a2 = spec(SL_RANK_ROW_NUMBER, 0, 2, SL_DOUBLE);
    sl_topn_spec a9 = spec(SL_RANK_ROW_NUMBER, 0, 9, SL_DOUBLE);
    sl_topn_spec d9 = spec(SL_RANK_ROW_NUMBER, 1, 9, SL_DOUBLE);
    check_dbls(&d2, k, N(k), "1:1 4:2", "DOUBLE DESC: NaN first, then Inf");
    check_dbls(&a2, k, N(k), "2:1 0:2", "DOUBLE ASC: -2, 1.5");
    check_dbls(&a9, k, N(k), "2:1 0:2 3:3 4:4 1:5", "DOUBLE ASC: NaN last (largest)");
    double z[] = {0.0, -0.0, 0.5, -0.5};
    check_dbls(&a9, z, N(z), "3:1 0:2 1:3 2:4", "DOUBLE: -0.0 ties 0.0 (arrival order)");
    double nn[] = {nan, 1.0, nan};
    sl_topn_spec r1 = spec(SL_RANK_RANK, 1, 1, SL_DOUBLE);
    check_dbls(&r1, nn, N(nn), "0:1 2:1", "DOUBLE RANK: NaN ties NaN");

    /* NULL order values rank last either way */
    double dn[] = {DNUL, nan, 1.0, DNUL};
    check_dbls(&a9, dn, N(dn), "2:1 1:2 0:3 3:4", "DOUBLE ASC: NULLs after NaN");
    check_dbls(&d9, dn, N(dn), "1:1 2:2 0:3 3:4", "DOUBLE DESC: NULLs after 1.0");
    check_dbls(&d2, dn, N(dn), "1:1 2:2", "DOUBLE DESC <=2: NULLs dropped");

    int64_t in[] = {NUL, 5, NUL, 3};
    sl_topn_spec ia4 = spec(SL_RANK_ROW_NUMBER, 0, 4, SL_BIGINT);
    sl_topn_spec id4 = spec(SL_RANK_ROW_NUMBER, 1, 4, SL_BIGINT);
    sl_topn_spec ia2 = spec(SL_RANK_ROW_NUMBER, 0, 2, SL_BIGINT);
    sl_topn_spec id2 = spec(SL_RANK_ROW_NUMBER, 1, 2, SL_BIGINT);
    check_ints(&ia4, in, N(in), "3:1 1:2 0:3 2:4", "BIGINT ASC: NULLs last");
    check_ints(&id4, in, N(in), "1:1 3:2 0:3 2:4", "BIGINT DESC: NULLs last");
    check_ints(&ia2, in, N(in), "3:1 1:2", "BIGINT ASC <=2: NULLs dropped");
    check_ints(&id2, in, N(in), "1:1 3:2", "BIGINT DESC <=2: NULLs dropped");
    int64_t big[] = {NUL, INT64_MAX, INT64_MIN + 1, 0};
    check_ints(&ia4, big, N(big), "2:1 3:2 1:3 0:4", "BIGINT extremes ASC, NULL last");
    check_ints(&id4, big, N(big), "1:1 3:2 2:3 0:4", "BIGINT extremes DESC, NULL last");

    int64_t nulls[] = {NUL, NUL, NUL};
    check_ints(&id2, nulls, N(nulls), "0:1 1:2", "only NULLs: ROW_NUMBER by arrival");
    sl_topn_spec r = spec(SL_RANK_RANK, 1, 1, SL_BIGINT);
    check_ints(&r, nulls, N(nulls), "0:1 1:1 2:1", "only NULLs: RANK ties them");
    sl_topn_spec dr = spec(SL_RANK_DENSE, 0, 2, SL_BIGINT);
    int64_t dnl[] = {NUL, 4, NUL, 4, 5};
    check_ints(&dr, dnl, N(dnl), "1:1 3:1 4:2", "DENSE ASC <=2: NULL group dropped");
    int64_t dnl2[] = {NUL, 4, NUL, 4};
    check_ints(&dr, dnl2, N(dnl2), "1:1 3:1 0:2 2:2", "DENSE <=2: NULL group is rank 2");

    sl_topn *t = NULL;
    more(&r, &t, nulls, N(nulls), 0);
    int64_t v[] = {-100};
    more(&r, &t, v, 1, 10);
    is_str(render(&r, t), "10:1", "RANK<=1: any value evicts the NULLs");
    more(&r, &t, nulls, N(nulls), 20);
    is_str(render(&r, t), "10:1", "RANK<=1: later NULLs dropped");
    sl_topn_free(t);
}

/* ---- several sets in one step, rows out of order ---------------------- */

static void test_states(void)
{
    sl_topn_spec sp = spec(SL_RANK_ROW_NUMBER, 1, 2, SL_BIGINT);
    int64_t k[] = {1, 2, 3, 4, 5, 6};
    sl_batch *b = ints(k, N(k), 0);
    holder h[2];
    memset(h, 0, sizeof h);
    /* rows 5,0,3,2,1 (row 4 skipped): rows 5,3,1 to h[1], rows 0,2 to h[0] */
    int rows[] = {5, 0, 3, 2, 1};
    char *states[] = {(char *)&h[1], (char *)&h[0], (char *)&h[1],
                      (char *)&h[0], (char *)&h[1]};
    sl_topn_step(&sp, states, OFF, b->cols, rows, N(rows), seq_for(b), NULL);
    is_str(render(&sp, h[1].t), "5:1 3:2", "states[k] gets rows[k]: set 1");
    is_str(render(&sp, h[0].t), "2:1 0:2", "states[k] gets rows[k]: set 0");
    int none = 0;
    holder e;
    memset(&e, 0, sizeof e);
    char *es[] = {(char *)&e};
    sl_topn_step(&sp, es, OFF, b->cols, &none, 0, seq_for(b), NULL);
    ok(e.t == NULL, "no rows: no set created");
    sl_topn_free(h[0].t);
    sl_topn_free(h[1].t);
    sl_batch_free(b);
}

/* ---- kept values ------------------------------------------------------- */

static const sl_type carry5[] = {SL_BIGINT, SL_DOUBLE, SL_TEXT, SL_TEXT,
                                 SL_TIMESTAMP};

static sl_batch *vals_batch(void)
{
    sl_type types[] = {SL_BIGINT, SL_BIGINT, SL_DOUBLE, SL_TEXT, SL_TEXT,
                       SL_TIMESTAMP};
    sl_batch *b = sl_batch_new(6, types, 2);
    int r = sl_batch_add_row(b);
    sl_batch_set_int(b, r, 0, 10);
    sl_batch_set_int(b, r, 1, 1);
    sl_batch_set_double(b, r, 2, 2.5);
    sl_batch_set_text(b, r, 3, "alpha", 5);
    sl_batch_set_text(b, r, 4, "", 0);
    sl_batch_set_int(b, r, 5, 1700000000000);
    r = sl_batch_add_row(b);
    sl_batch_set_int(b, r, 0, 30);
    sl_batch_set_int(b, r, 1, 2);
    sl_batch_set_text(b, r, 3, "bravo charlie", 13);
    r = sl_batch_add_row(b);
    sl_batch_set_int(b, r, 0, 20);
    sl_batch_set_double(b, r, 2, -1e300);
    sl_batch_set_text(b, r, 4, "x\0y", 3);
    sl_batch_set_int(b, r, 5, -1);
    r = sl_batch_add_row(b);
    sl_batch_set_int(b, r, 0, 5);
    sl_batch_set_int(b, r, 1, 4);
    sl_batch_set_text(b, r, 3, "dropped", 7);
    return b;
}

/* Overwrites every text byte of b's columns and frees it. */
static void scribble_free(sl_batch *b)
{
    for (int c = 0; c < b->ncols; c++)
        if (b->cols[c].type == SL_TEXT)
            for (int r = 0; r < b->nrows; r++)
                if (!b->cols[c].null[r])
                    memset((char *)b->cols[c].v.s[r].z, '#',
                           (size_t)b->cols[c].v.s[r].n);
    sl_batch_free(b);
}

static const char *vals_want = "2,NULL,'bravo charlie',NULL,NULL:1 "
                               "NULL,-1e+300,NULL,'x',-1:2 "
                               "1,2.5,'alpha','',1700000000000:3";

static void test_values(void)
{
    sl_topn_spec sp = {SL_RANK_ROW_NUMBER, 1, 3, SL_BIGINT, 5, carry5};
    sl_batch *b = vals_batch();
    sl_topn *t = NULL;
    feed(&sp, &t, b);
    scribble_free(b);
    /* "x\0y" renders as 'x' through %.*s; check its bytes separately */
    is_str(render(&sp, t), vals_want, "kept values survive the source batch");

    sl_type types[] = {SL_BIGINT, SL_DOUBLE, SL_TEXT, SL_TEXT, SL_TIMESTAMP};
    sl_batch *out = sl_batch_new(5, types, 1);
    int r0 = sl_batch_add_row(out), r1 = sl_batch_add_row(out),
        r2 = sl_batch_add_row(out);
    sl_topn_fill(&sp, t, 0, out, r0, 0);
    sl_topn_fill(&sp, t, 1, out, r1, 0);
    sl_topn_fill(&sp, t, 2, out, r2, 0);
    ok(out->cols[0].null[r1] && out->cols[2].null[r1] && !out->cols[1].null[r1],
       "NULL kept values stay NULL, others set");
    ok(out->cols[3].v.s[r1].n == 3 && memcmp(out->cols[3].v.s[r1].z, "x\0y", 3) == 0,
       "text with a NUL byte kept whole");
    ok(out->cols[3].v.s[r2].n == 0 && !out->cols[3].null[r2],
       "empty text kept as empty, not NULL");
    ok(out->cols[1].v.d[r1] == -1e300 && out->cols[4].null[r0] &&
           out->cols[4].v.i[r2] == 1700000000000,
       "DOUBLE and TIMESTAMP values exact; NULL TIMESTAMP NULL");
    sl_batch_free(out);

    /* texts of the set and of a copy are independent */
    sl_topn *m = NULL;
    sl_topn_merge(&sp, &m, t, NULL);
    sl_topn_free(t);
    is_str(render(&sp, m), vals_want, "merge into NULL copies the rows and text");
    sl_topn_free(m);

    /* bytes grow with text */
    sl_topn_spec ts = {SL_RANK_ROW_NUMBER, 1, 1, SL_BIGINT, 1,
                       (const sl_type[]){SL_TEXT}};
    sl_type tt[] = {SL_BIGINT, SL_TEXT};
    sl_batch *tb = sl_batch_new(2, tt, 2);
    int r = sl_batch_add_row(tb);
    sl_batch_set_int(tb, r, 0, 1);
    sl_batch_set_text(tb, r, 1, "a", 1);
    r = sl_batch_add_row(tb);
    sl_batch_set_int(tb, r, 0, 1);
    char big[1000];
    memset(big, 'z', sizeof big);
    sl_batch_set_text(tb, r, 1, big, sizeof big);
    sl_topn *small = NULL, *large = NULL;
    holder h;
    memset(&h, 0, sizeof h);
    char *st[] = {(char *)&h};
    int row = 0;
    sl_topn_step(&ts, st, OFF, tb->cols, &row, 1, seq_for(tb), NULL);
    small = h.t;
    h.t = NULL;
    row = 1;
    sl_topn_step(&ts, st, OFF, tb->cols, &row, 1, seq_for(tb), NULL);
    large = h.t;
    size_t bs = sl_topn_bytes(&ts, small), bl = sl_topn_bytes(&ts, large);
    ok(bs > 0 && bl >= bs + 999, "sl_topn_bytes grows with text (%zu, %zu)", bs, bl);
    is_int((long long)sl_topn_bytes(&ts, NULL), 0, "sl_topn_bytes(NULL) == 0");
    sl_topn_free(small);
    sl_topn_free(large);
    sl_batch_free(tb);

    is_int(sl_topn_count(NULL), 0, "sl_topn_count(NULL) == 0");
    sl_topn_free(NULL);
    ok(1, "sl_topn_free(NULL) is fine");
}

/* ---- pseudo-random sequences: oracle, merge, save / load ---------------- */

static uint32_t rng = 12345;
static uint32_t next_rand(void)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 16) & 0x7fff;
}

typedef struct seq {
    int n;
    int64_t k[64];
    double d[64];
    int null[64];
    char text[64][8];
} seq;

static void gen(seq *s, int n)
{
    static const double dv[] = {-1.5, 0.0, 2.5, INFINITY, NAN, -INFINITY};
    s->n = n;
    for (int i = 0; i < n; i++) {
        s->null[i] = next_rand() % 7 == 0;
        s->k[i] = (int64_t)(next_rand() % 5) - 2;
        s->d[i] = dv[next_rand() % 6];
        int len = (int)(next_rand() % 6);
        for (int j = 0; j < len; j++)
            s->text[i][j] = (char)('a' + next_rand() % 26);
        s->text[i][len] = 0;
    }
}

static const sl_type carry_it[] = {SL_BIGINT, SL_TEXT};

/* The batch of s: order, id (id0 + i), text (NULL every fifth row). */
static sl_batch *seq_batch(const seq *s, sl_type ot, int64_t id0)
{
    sl_type types[] = {ot, SL_BIGINT, SL_TEXT};
    sl_batch *b = sl_batch_new(3, types, 8);
    for (int i = 0; i < s->n; i++) {
        int r = sl_batch_add_row(b);
        if (!s->null[i]) {
            if (ot == SL_DOUBLE)
                sl_batch_set_double(b, r, 0, s->d[i]);
            else
                sl_batch_set_int(b, r, 0, s->k[i]);
        }
        sl_batch_set_int(b, r, 1, id0 + i);
        if ((id0 + i) % 5 != 4)
            sl_batch_set_text(b, r, 2, s->text[i], strlen(s->text[i]));
    }
    return b;
}

/* Reference: <0 when row a ranks before row b, 0 on a tie. */
static int ref_cmp(const sl_topn_spec *sp, const seq *s, int a, int b)
{
    if (s->null[a] || s->null[b])
        return s->null[a] - s->null[b];
    int c;
    if (sp->order_type == SL_DOUBLE) {
        double x = s->d[a], y = s->d[b];
        if (isnan(x) || isnan(y))
            c = isnan(x) - isnan(y);
        else
            c = (x > y) - (x < y);
    } else {
        c = (s->k[a] > s->k[b]) - (s->k[a] < s->k[b]);
    }
    return sp->desc ? -c : c;
}

static int64_t ref_rank(const sl_topn_spec *sp, const seq *s, int a)
{
    int64_t rank = 1;
    for (int b = 0; b < s->n; b++) {
        int c = ref_cmp(sp, s, b, a);
        if (sp->kind == SL_RANK_ROW_NUMBER) {
            rank += c < 0 || (c == 0 && b < a);
        } else if (sp->kind == SL_RANK_RANK) {
            rank += c < 0;
        } else if (c < 0) {
            int first = 1; /* count each distinct better value once */
            for (int e = 0; e < b; e++)
                if (ref_cmp(sp, s, e, b) == 0)
                    first = 0;
            rank += first;
        }
    }
    return rank;
}

/* The expected rendering of the top-N of all of s (ids from 0). */
static void ref_render(const sl_topn_spec *sp, const seq *s, char *out,
                       size_t cap)
{
    int idx[64], m = 0;
    for (int i = 0; i < s->n; i++)
        if (ref_rank(sp, s, i) <= sp->n)
            idx[m++] = i;
    /* insertion sort by rank order, then arrival (stable) */
    for (int i = 1; i < m; i++)
        for (int j = i; j > 0 && ref_cmp(sp, s, idx[j], idx[j - 1]) < 0; j--) {
            int x = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = x;
        }
    size_t n = 0;
    out[0] = 0;
    for (int j = 0; j < m; j++) {
        int i = idx[j];
        char tx[32];
        if (i % 5 == 4)
            snprintf(tx, sizeof tx, "NULL");
        else
            snprintf(tx, sizeof tx, "'%s'", s->text[i]);
        n += (size_t)snprintf(out + n, cap - n, "%s%d,%s:%lld", j ? " " : "", i,
                              tx, (long long)ref_rank(sp, s, i));
    }
}

/* Saves t, loads it back, checks the copy renders the same; then loads
** every truncation of the saved bytes, each of which must fail. */
static int save_load(const sl_topn_spec *sp, const sl_topn *t, const char *name)
{
    char want[8192];
    snprintf(want, sizeof want, "%s", render(sp, t));
    sl_buf buf = {0};
    sl_topn_save(sp, t, &buf);
    sl_topn *u = NULL;
    const unsigned char *p = buf.z;
    int64_t ldelta = 0;
    int rc = sl_topn_load(sp, &u, &p, buf.z + buf.n, &ldelta);
    check_bytes(sp, 0, ldelta, u);
    int good = rc == 0 && p == buf.z + buf.n && strcmp(render(sp, u), want) == 0 &&
               sl_topn_count(u) == sl_topn_count(t);
    if (!good)
        printf("# %s: load rc %d, got %s, want %s\n", name, rc, render(sp, u), want);
    /* a second save of the loaded set is byte-identical */
    sl_buf again = {0};
    sl_topn_save(sp, u, &again);
    good = good && again.n == buf.n && memcmp(again.z, buf.z, buf.n) == 0;
    sl_buf_free(&again);
    sl_topn_free(u);

    int bad = 0;
    for (size_t len = 0; len < buf.n; len++) {
        unsigned char *cut = malloc(len ? len : 1);
        memcpy(cut, buf.z, len);
        sl_topn *v = NULL;
        const unsigned char *q = cut;
        if (sl_topn_load(sp, &v, &q, cut + len, NULL) != -1) {
            if (bad++ == 0)
                printf("# %s: truncation to %zu of %zu bytes loaded\n", name, len, buf.n);
        }
        sl_topn_free(v); /* a failed load may leave the rows it read */
        free(cut);
    }
    sl_buf_free(&buf);
    return good && bad == 0;
}

static void test_random(void)
{
    static const sl_rank_kind kinds[] = {SL_RANK_ROW_NUMBER, SL_RANK_RANK,
                                         SL_RANK_DENSE};
    static const char *kname[] = {"ROW_NUMBER", "RANK", "DENSE_RANK"};
    int oracle_bad = 0, merge_bad = 0, src_bad = 0, save_bad = 0, runs = 0;
    for (int kind = 0; kind < 3; kind++)
        for (int desc = 0; desc < 2; desc++)
            for (int dbl = 0; dbl < 2; dbl++)
                for (int64_t n = 1; n <= 4; n++)
                    for (int rep = 0; rep < 6; rep++) {
                        sl_type ot = dbl ? SL_DOUBLE : SL_BIGINT;
                        sl_topn_spec sp = {kinds[kind], desc, n, ot, 2, carry_it};
                        seq all;
                        int na = 1 + (int)(next_rand() % 20);
                        int nb = 1 + (int)(next_rand() % 20);
                        gen(&all, na + nb);
                        seq sa = all, sb = all;
                        sa.n = na;
                        sb.n = nb;
                        for (int i = 0; i < nb; i++) {
                            sb.k[i] = all.k[na + i];
                            sb.d[i] = all.d[na + i];
                            sb.null[i] = all.null[na + i];
                            memcpy(sb.text[i], all.text[na + i], 8);
                        }
                        sl_batch *ba = seq_batch(&sa, ot, 0);
                        sl_batch *bb = seq_batch(&sb, ot, na);
                        sl_batch *ball = seq_batch(&all, ot, 0);
                        sl_topn *a = NULL, *b = NULL, *c = NULL;
                        feed(&sp, &a, ba);
                        feed1(&sp, &b, bb);
                        feed(&sp, &c, ball);
                        scribble_free(ba);
                        scribble_free(bb);
                        scribble_free(ball);
                        runs++;

                        char want[8192], got[8192], bwas[8192];
                        ref_render(&sp, &all, want, sizeof want);
                        snprintf(got, sizeof got, "%s", render(&sp, c));
                        if (strcmp(got, want) != 0 && oracle_bad++ < 3)
                            printf("# oracle %s desc=%d dbl=%d n=%lld:\n#  got  %s\n#  want %s\n",
                                   kname[kind], desc, dbl, (long long)n, got, want);

                        snprintf(bwas, sizeof bwas, "%s", render(&sp, b));
                        size_t abytes = sl_topn_bytes(&sp, a);
                        int64_t mdelta = 0;
                        sl_topn_merge(&sp, &a, b, &mdelta);
                        check_bytes(&sp, abytes, mdelta, a);
                        snprintf(got, sizeof got, "%s", render(&sp, a));
                        if (strcmp(got, want) != 0 && merge_bad++ < 3)
                            printf("# merge %s desc=%d dbl=%d n=%lld:\n#  got  %s\n#  want %s\n",
                                   kname[kind], desc, dbl, (long long)n, got, want);
                        if (strcmp(render(&sp, b), bwas) != 0)
                            src_bad++;
                        sl_topn_free(b);
                        if (strcmp(render(&sp, a), got) != 0)
                            merge_bad++;

                        char nm[128];
                        snprintf(nm, sizeof nm, "%s desc=%d dbl=%d n=%lld",
                                 kname[kind], desc, dbl, (long long)n);
                        if (rep < 2 && !save_load(&sp, c, nm))
                            save_bad++;
                        sl_topn_free(a);
                        sl_topn_free(c);
                    }
    is_int(oracle_bad, 0, "stepped sets match a brute-force ranking");
    is_int(merge_bad, 0, "merge(A, B) equals stepping B's rows after A's");
    is_int(src_bad, 0, "merge leaves its source unchanged");
    is_int(save_bad, 0, "save/load round trips; every truncation fails");
    is_int(bytes_bad, 0, "every step, merge and load reports the change of "
           "sl_topn_bytes");
    ok(runs == 288, "%d random runs", runs);
}

static void test_merge_cases(void)
{
    sl_topn_spec sp = spec(SL_RANK_RANK, 1, 2, SL_BIGINT);
    sl_topn *a = NULL, *b = NULL;
    int64_t ka[] = {5, 3};
    int64_t kb[] = {5, 9, 1};
    more(&sp, &a, ka, N(ka), 0);
    more(&sp, &b, kb, N(kb), 10);
    sl_topn_merge(&sp, &a, NULL, NULL);
    is_str(render(&sp, a), "0:1 1:2", "merge of NULL changes nothing");
    sl_topn_merge(&sp, &a, b, NULL);
    is_str(render(&sp, a), "11:1 0:2 10:2", "RANK merge: 9, then 5s tied at 2 (dst first)");
    sl_topn_free(a);
    sl_topn_free(b);
}

static void test_load_bad(void)
{
    sl_topn_spec sp = {SL_RANK_ROW_NUMBER, 1, 3, SL_BIGINT, 5, carry5};
    sl_batch *b = vals_batch();
    sl_topn *t = NULL;
    feed(&sp, &t, b);
    sl_batch_free(b);
    ok(save_load(&sp, t, "values"), "values set: round trip, truncations fail");

    sl_buf buf = {0};
    sl_topn_save(&sp, t, &buf);
    sl_topn_save(&sp, NULL, &buf);
    sl_topn_save(&sp, t, &buf);
    const unsigned char *p = buf.z, *end = buf.z + buf.n;
    sl_topn *x = NULL, *y = NULL, *z = NULL;
    int rc = sl_topn_load(&sp, &x, &p, end, NULL);
    rc |= sl_topn_load(&sp, &y, &p, end, NULL);
    rc |= sl_topn_load(&sp, &z, &p, end, NULL);
    ok(rc == 0 && p == end, "three sets back to back load, p advances to the end");
    ok(y == NULL && sl_topn_count(y) == 0, "an empty (NULL) set loads as empty");
    char want[8192];
    snprintf(want, sizeof want, "%s", render(&sp, t));
    ok(strcmp(render(&sp, x), want) == 0 && strcmp(render(&sp, z), want) == 0,
       "both copies equal the original");
    sl_topn_free(x);
    sl_topn_free(y);
    sl_topn_free(z);

    /* a huge row count with no rows */
    unsigned char huge[] = {0xff, 0xff, 0xff, 0xff};
    p = huge;
    x = NULL;
    is_int(sl_topn_load(&sp, &x, &p, huge + 4, NULL), -1, "row count past the data: -1");
    sl_topn_free(x);

    /* a text length past the data: the third kept value of row 0 */
    unsigned char *bad = malloc(buf.n);
    memcpy(bad, buf.z, buf.n);
    /* u32 n, u8 null, 8 key, 8 arrival, then id: u8 + 8, double: u8
    ** (NULL), text: u8 + u32 */
    size_t at = 4 + 1 + 8 + 8 + 9 + 1 + 1;
    uint32_t len = 0;
    memcpy(&len, bad + at, 4);
    ok(len == 13, "layout as documented (text length %u at %zu)", len, at);
    uint32_t big = 0x7fffff00u;
    memcpy(bad + at, &big, 4);
    p = bad;
    x = NULL;
    is_int(sl_topn_load(&sp, &x, &p, bad + buf.n, NULL), -1, "text length past the data: -1");
    sl_topn_free(x);
    big = 0xffffffffu;
    memcpy(bad + at, &big, 4);
    p = bad;
    x = NULL;
    is_int(sl_topn_load(&sp, &x, &p, bad + buf.n, NULL), -1, "text length 4G: -1");
    sl_topn_free(x);
    free(bad);
    sl_buf_free(&buf);
    sl_topn_free(t);
}

/* Rows that tie rank by arrival even when merged in another order: the
** sets of hopping panes are merged newest pane first, and merging
** sessions merge in either direction. */
static void test_merge_arrival(void)
{
    const int64_t five[] = {5};
    sl_batch *early = ints(five, 1, 1), *late = ints(five, 1, 2);
    const sl_rank_kind kinds[] = {SL_RANK_ROW_NUMBER, SL_RANK_RANK};
    const char *want[] = {"1:1", "1:1 2:1"};
    for (int k = 0; k < 2; k++) {
        sl_topn_spec sp = spec(kinds[k], 1, 1, SL_BIGINT);
        sl_topn *a = NULL, *b = NULL, *m = NULL, *m2 = NULL;
        feed(&sp, &a, early);           /* arrives first */
        feed(&sp, &b, late);
        sl_topn_merge(&sp, &m, b, NULL);
        sl_topn_merge(&sp, &m, a, NULL);
        sl_topn_merge(&sp, &m2, a, NULL);
        sl_topn_merge(&sp, &m2, b, NULL);
        char nm[96];
        snprintf(nm, sizeof nm, "%s: the later set merged first",
                 k ? "RANK" : "ROW_NUMBER");
        is_str(render(&sp, m), want[k], nm);
        snprintf(nm, sizeof nm, "%s: the earlier set merged first",
                 k ? "RANK" : "ROW_NUMBER");
        is_str(render(&sp, m2), want[k], nm);
        /* the arrival survives a checkpoint */
        sl_buf buf = {0};
        sl_topn_save(&sp, a, &buf);
        const unsigned char *p = buf.z;
        sl_topn *a2 = NULL;
        ok(sl_topn_load(&sp, &a2, &p, buf.z + buf.n, NULL) == 0 &&
           sl_topn_last_seq(a2) == sl_topn_last_seq(a) &&
           sl_topn_last_seq(a) < sl_topn_last_seq(b),
           "arrivals are saved and loaded");
        sl_topn *m3 = NULL;
        sl_topn_merge(&sp, &m3, b, NULL);
        sl_topn_merge(&sp, &m3, a2, NULL);
        is_str(render(&sp, m3), want[k], "a loaded row keeps its place");
        sl_buf_free(&buf);
        sl_topn_free(a);
        sl_topn_free(a2);
        sl_topn_free(b);
        sl_topn_free(m);
        sl_topn_free(m2);
        sl_topn_free(m3);
    }
    sl_batch_free(early);
    sl_batch_free(late);
}

int main(void)
{
    test_row_number();
    test_merge_arrival();
    test_rank();
    test_dense();
    test_doubles_and_nulls();
    test_states();
    test_values();
    test_merge_cases();
    test_random();
    test_load_bad();
    return tap_done();
}
