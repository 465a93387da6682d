/*
** topn.h: the rows a window Top-N keeps for one (window, partition).
**
** `QUALIFY RANK() OVER (PARTITION BY k ORDER BY v DESC) <= N` over a
** WINDOW keeps, for each window and partition, the rows whose rank is at
** most N, and emits them when the window closes (docs/dialect.md). The
** aggregate operator holds one sl_topn per (window, partition) entry, in
** the place of aggregate states, and this module is what it does with one:
** fold in rows (step), merge two (session merges, hopping panes), read the
** kept rows back in rank order, save and load them.
**
** Rows are kept sorted best first. Ties keep arrival order (each row
** carries its arrival number; an earlier row ranks first under
** ROW_NUMBER), so the result depends only on the input order, as every
** result of a continuous query does. NULL order values
** rank after every other value, ascending or descending.
*/
#ifndef SL_TOPN_H
#define SL_TOPN_H

#include <stdint.h>
#include "engine/batch.h"

typedef enum sl_rank_kind {
    SL_RANK_ROW_NUMBER,    /* 1, 2, 3, 4: ties broken by arrival */
    SL_RANK_RANK,          /* 1, 2, 2, 4: ties share a rank, gaps follow */
    SL_RANK_DENSE          /* 1, 2, 2, 3: ties share a rank, no gaps */
} sl_rank_kind;

typedef struct sl_topn_spec {
    sl_rank_kind kind;
    int desc;              /* ORDER BY ... DESC */
    int64_t n;             /* keep rank <= n (n >= 1) */
    sl_type order_type;    /* BIGINT, TIMESTAMP, BOOLEAN or DOUBLE */
    int ncarry;            /* values kept per row */
    const sl_type *carry_types;
} sl_topn_spec;

typedef struct sl_topn sl_topn;

/* <0, 0, >0: order value a ranks before, with or after b (NULLs last in
** both directions, NaN the largest DOUBLE; i for the integer types, d for
** DOUBLE). QUALIFY over groups ranks with it too. */
int sl_topn_cmp(const sl_topn_spec *sp, int anull, int64_t ai, double ad,
                int bnull, int64_t bi, double bd);

/* Folds rows rows[0..n) into the sets at *(sl_topn **)(states[k] + off),
** creating them as needed. cols[0] holds the order values, cols[1..ncarry]
** the kept values. Row r's arrival is seq0 + r: rows that tie rank in
** arrival order, whichever set they came through (panes and sessions
** merge sets), so arrivals must grow with the stream. The functions that
** change sets add the change in the bytes they hold (sl_topn_bytes) to
** *bytes, unless bytes is NULL. */
void sl_topn_step(const sl_topn_spec *sp, char *const *states, size_t off,
                  const sl_column *cols, const int *rows, int n,
                  uint64_t seq0, int64_t *bytes);
/* Folds a copy of every row of src into *dst (src is unchanged). */
void sl_topn_merge(const sl_topn_spec *sp, sl_topn **dst, const sl_topn *src,
                   int64_t *bytes);
/* Rows kept (0 for NULL). */
uint32_t sl_topn_count(const sl_topn *t);
/* The latest arrival among t's rows (0 for none). */
uint64_t sl_topn_last_seq(const sl_topn *t);
/* The rank of row i given the rank of row i - 1 (ignored for i = 0). */
int64_t sl_topn_rank(const sl_topn_spec *sp, const sl_topn *t, uint32_t i,
                     int64_t prev);
/* Writes the kept values of row i into row r of out, columns c0.. */
void sl_topn_fill(const sl_topn_spec *sp, const sl_topn *t, uint32_t i,
                  sl_batch *out, int r, int c0);
void sl_topn_free(sl_topn *t);
/* Bytes held (for the state metrics). */
size_t sl_topn_bytes(const sl_topn_spec *sp, const sl_topn *t);

/* Checkpoints: save appends t to out; load rebuilds *t (NULL before) from
** *p, advancing it; returns -1 on bad data. */
void sl_topn_save(const sl_topn_spec *sp, const sl_topn *t, sl_buf *out);
int sl_topn_load(const sl_topn_spec *sp, sl_topn **t, const unsigned char **p,
                 const unsigned char *end, int64_t *bytes);

#endif
