/*
** functions.h: private interface between the expression compiler
** (engine/expr.c), the scalar function library (engine/functions.c) and the
** LIKE matcher (engine/like.c). Not for other modules: they use expr.h.
**
** It defines the compiled evaluator node (sl_xnode): one node per operator,
** function call, cast, column reference or folded constant. Each node has
** an eval function that evaluates the node over all rows of a batch into
** its own output buffers (or, for a column reference, aliases the input
** column). Buffers grow to the largest batch seen and are then reused, so
** evaluation allocates nothing per batch in steady state. Text results go
** into the node's arena, reset at each evaluation.
**
** It also declares the conversions shared by CAST, || and the functions
** (number and interval formatting, strict number parsing) and the civil
** calendar arithmetic used by DATE_TRUNC and EXTRACT.
*/
#ifndef SL_FUNCTIONS_H
#define SL_FUNCTIONS_H

#include <stdint.h>
#include <string.h>
#include "grammar/ast.h"
#include "engine/batch.h"
#include "engine/error.h"

typedef struct sl_xnode sl_xnode;
typedef void (*sl_xeval_fn)(sl_xnode *n, const sl_batch *in, int nrows);

struct sl_xnode {
    sl_xeval_fn eval;
    sl_type type;            /* output type */
    sl_column out;           /* output view, valid after eval */

    /* own output buffers (unused by column references and refs) */
    int cap;
    uint8_t *own_null;
    void *own_val;           /* int64_t / double / sl_str, cap entries */
    sl_arena arena;          /* text results, reset at each eval */

    sl_xnode **kids;         /* owned */
    int nkids;
    sl_xnode *target;        /* ref nodes: the node whose output is reused (not owned) */

    int col;                 /* column reference: index in the input batch */
    int op;                  /* operator / function-specific selector */

    /* folded constant: cval holds the value, text in ctext (owned) */
    int is_const;
    sl_value cval;
    char *ctext;
    int filled;              /* rows of own buffers already holding cval */

    /* compile-time data of some kernels */
    int64_t aux_i;
    double aux_d;
    void *aux;               /* owned, freed with aux_free */
    void (*aux_free)(void *);

    uint8_t *scratch;        /* per-row scratch flags (CASE, IN) */
    int scratch_cap;
};

/* ---- node helpers (engine/expr.c) --------------------------------------- */

/* A new node with room for nkids children (all NULL); aborts on OOM. */
sl_xnode *sl_xnode_new(sl_xeval_fn fn, sl_type type, int nkids);

/* Makes sure n's own buffers hold nrows rows and points n->out at them. */
void sl_xnode_reserve(sl_xnode *n, int nrows);
/* Same for n->scratch. */
void sl_xnode_scratch(sl_xnode *n, int nrows);
/* Evaluates every child of n, in order. */
void sl_xnode_eval_kids(sl_xnode *n, const sl_batch *in, int nrows);
/* Compiles the typed expression e into a node whose output type is want
** (inserting a conversion when e's type differs: NULL -> want, BIGINT ->
** DOUBLE, anything -> TEXT). Returns NULL with err set on failure. */
sl_xnode *sl_xcompile_as(const sl_expr *e, sl_type want, sl_error *err);
/* Wraps n into a conversion node to type want (n is consumed). */
sl_xnode *sl_xconvert(sl_xnode *n, sl_type want);
/* Frees a node tree. */
void sl_xnode_free(sl_xnode *n);
/* An arithmetic node (SL_OP_ADD .. SL_OP_MOD) over a and b (consumed),
** which already have the storage of rt (int64 for BIGINT, TIMESTAMP and
** INTERVAL, or DOUBLE). */
sl_xnode *sl_xarith(sl_op op, sl_xnode *a, sl_xnode *b, sl_type rt);

/* Typing helpers shared with the function library. sl_xunify() finds the
** one type of v[0..n) (NULL goes with anything, BIGINT with DOUBLE gives
** DOUBLE) or reports "<what> have incompatible types A and B".
** sl_xcoerce_ts() turns TEXT literals into TIMESTAMP literals when one of
** v[0..n) is a TIMESTAMP. sl_xcomparable(): the types can be compared. */
int sl_xunify(sl_expr **v, int n, const char *what, sl_type *out,
              sl_error *err);
int sl_xcoerce_ts(sl_expr **v, int n, sl_error *err);
int sl_xcomparable(sl_type a, sl_type b);

/* Storage class of a type: 0 int64, 1 double, 2 text. */
static inline int sl_xclass(sl_type t)
{
    return t == SL_DOUBLE ? 1 : t == SL_TEXT ? 2 : 0;
}

/* Byte-wise text order (SQLite's BINARY collation). */
static inline int sl_xtxtcmp(sl_str a, sl_str b)
{
    int n = a.n < b.n ? a.n : b.n;
    int c = n > 0 ? memcmp(a.z, b.z, (size_t)n) : 0;
    return c != 0 ? c : (a.n > b.n) - (a.n < b.n);
}

/* ---- the scalar function library (engine/functions.c) ------------------- */

typedef struct sl_fn_def {
    const char *name;                 /* lower case */
    int min_args, max_args;           /* max_args -1: any number >= min_args */
    /* Types e (whose args are already typed): sets e->type, or returns -1
    ** with err at the offending argument. */
    int (*check)(sl_expr *e, sl_error *err);
    /* Compiles the typed call e into a new node (its arguments become
    ** the node's children). Returns NULL with err set on failure. */
    sl_xnode *(*build)(const sl_expr *e, sl_error *err);
} sl_fn_def;

/* Finds a scalar function by name (case-insensitive), or NULL. */
const sl_fn_def *sl_fn_lookup(const char *name);
/* The known names (scalar functions and aggregates), NULL-terminated, for
** "did you mean" suggestions. */
extern const char *const sl_fn_all_names[];

/* ---- conversions (engine/functions.c) ----------------------------------- */

#define SL_XFMT_MAX 64   /* room for any formatted number or interval */

/* sl_format_double (declared in engine/value.h) is defined in functions.c. */
int sl_xfmt_int(int64_t v, char *buf);
/* An interval as "[-][D day[s] ]HH:MM:SS[.mmm]" (the form CAST reads back). */
int sl_xfmt_interval(int64_t ms, char *buf);

/* Strict parsers for CAST from TEXT: surrounding spaces allowed, anything
** else that is not part of the number makes them fail (return -1). */
int sl_xparse_int(const char *z, int n, int64_t *out);
int sl_xparse_double(const char *z, int n, double *out);
int sl_xparse_bool(const char *z, int n, int64_t *out);
/* Interval text: "10 seconds", "5 minutes", "1 day 2 hours", "HH:MM:SS[.f]",
** "D days HH:MM:SS", or a bare number of seconds (as PostgreSQL); a
** leading '-' negates the whole interval. */
int sl_xparse_interval(const char *z, int n, int64_t *out);

/* Civil calendar (proleptic Gregorian, UTC). */
int64_t sl_days_from_civil(int64_t y, int m, int d);
void sl_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* floor(a / b) and the matching non-negative remainder, for b > 0. */
static inline int64_t sl_floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* DATE_TRUNC units and EXTRACT fields, by name (case-insensitive), or -1. */
enum { SL_TRUNC_SECOND, SL_TRUNC_MINUTE, SL_TRUNC_HOUR, SL_TRUNC_DAY,
       SL_TRUNC_WEEK, SL_TRUNC_MONTH, SL_TRUNC_YEAR };
int sl_trunc_unit(const char *z, int n);
/* 0 and *out on success, -1 when the result does not fit. */
int sl_ts_trunc(int unit, int64_t ms, int64_t *out);

enum { SL_FIELD_YEAR, SL_FIELD_MONTH, SL_FIELD_DAY, SL_FIELD_HOUR,
       SL_FIELD_MINUTE, SL_FIELD_SECOND, SL_FIELD_MILLISECOND, SL_FIELD_DOW,
       SL_FIELD_DOY, SL_FIELD_EPOCH };
int sl_extract_field(const char *z, int n);
int64_t sl_ts_extract(int field, int64_t ms);

/* ---- LIKE (engine/like.c) ----------------------------------------------- */

typedef struct sl_like sl_like;
/* Analyses a constant pattern once (exact, prefix, suffix, contains or
** general). Returns a new matcher; aborts on OOM. */
sl_like *sl_like_compile(const char *pat, int n);
void sl_like_free(void *lk);
int sl_like_match(const sl_like *lk, const char *z, int n);
/* Matches without compiling (pattern varies per row). */
int sl_like_match_raw(const char *pat, int pn, const char *z, int n);

#endif
