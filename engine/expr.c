/*
** expr.c: typing and compiling scalar expressions (see expr.h).
**
** sl_expr_type() walks the AST once and fills in every node's type,
** reporting type errors at the node's offset. sl_cexpr_compile() then turns
** the typed tree into a tree of evaluator nodes (sl_xnode, functions.h):
** each node evaluates itself over all rows of a batch in one tight loop
** into buffers it owns and reuses, so the AST is never walked per record
** and nothing is allocated per batch once buffers reached the batch size.
**
** This file owns the node machinery (creation, buffers, constants,
** references, folding), the operators (arithmetic, comparison, AND/OR/NOT,
** ||, IS NULL, LIKE, IN, BETWEEN, CASE) and CAST. The named functions live
** in functions.c, the LIKE matcher in like.c.
**
** Compilation decisions:
**  - a subtree without column references is evaluated once at compile time
**    and becomes a constant node, whose arrays are filled once per size;
**  - column vs constant arithmetic and comparisons get their own kernels
**    that read the constant as a scalar;
**  - implicit conversions (NULL -> T, BIGINT -> DOUBLE, any -> TEXT for ||)
**    are explicit conversion nodes;
**  - an operand used several times (BETWEEN, IN, CASE x WHEN) is evaluated
**    once and read again through a reference node that aliases its output.
** Runtime errors (overflow, division by zero, a bad cast) give NULL.
*/
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "engine/error.h"
#include "engine/expr.h"
#include "engine/functions.h"
#include "connectors/decoder.h"

struct sl_cexpr {
    sl_xnode *root;
};

/* ------------------------------------------------------------------------ */
/* allocation and nodes                                                      */

static size_t elem_size(sl_type t)
{
    return t == SL_TEXT ? sizeof(sl_str) : sizeof(int64_t);
}

sl_xnode *sl_xnode_new(sl_xeval_fn fn, sl_type type, int nkids)
{
    sl_xnode *n = sl_xcalloc(1, sizeof *n);
    n->eval = fn;
    n->type = type;
    n->out.type = type;
    n->col = -1;
    if (nkids > 0)
        n->kids = sl_xcalloc((size_t)nkids, sizeof *n->kids);
    n->nkids = nkids;
    sl_arena_init(&n->arena);
    return n;
}

void sl_xnode_free(sl_xnode *n)
{
    if (n == NULL)
        return;
    for (int i = 0; i < n->nkids; i++)
        sl_xnode_free(n->kids[i]);
    free(n->kids);
    free(n->own_null);
    free(n->own_val);
    sl_arena_free(&n->arena);
    free(n->ctext);
    if (n->aux != NULL && n->aux_free != NULL)
        n->aux_free(n->aux);
    free(n->scratch);
    free(n);
}

void sl_xnode_reserve(sl_xnode *n, int nrows)
{
    if (nrows > n->cap || n->own_null == NULL) {
        int cap = n->cap > 0 ? n->cap : 16;
        while (cap < nrows)
            cap *= 2;
        n->own_null = sl_xrealloc(n->own_null, (size_t)cap);
        n->own_val = sl_xrealloc(n->own_val, elem_size(n->type) * (size_t)cap);
        n->cap = cap;
    }
    n->out.type = n->type;
    n->out.null = n->own_null;
    n->out.v.i = n->own_val;
}

void sl_xnode_scratch(sl_xnode *n, int nrows)
{
    if (nrows > n->scratch_cap || n->scratch == NULL) {
        int cap = n->scratch_cap > 0 ? n->scratch_cap : 16;
        while (cap < nrows)
            cap *= 2;
        n->scratch = sl_xrealloc(n->scratch, (size_t)cap);
        n->scratch_cap = cap;
    }
}

void sl_xnode_eval_kids(sl_xnode *n, const sl_batch *in, int nrows)
{
    for (int i = 0; i < n->nkids; i++)
        n->kids[i]->eval(n->kids[i], in, nrows);
}

#define KID(k) (&n->kids[k]->out)

/* ---- column references, references, constants -------------------------- */

static void eval_column(sl_xnode *n, const sl_batch *in, int nrows)
{
    (void)nrows;
    assert(n->col >= 0 && n->col < in->ncols);
    const sl_column *c = &in->cols[n->col];
    assert(sl_xclass(c->type) == sl_xclass(n->type));
    n->out.type = n->type;
    n->out.null = c->null;
    n->out.v = c->v;
}

/* A reference reads the output of a node evaluated before it. */
static void eval_ref(sl_xnode *n, const sl_batch *in, int nrows)
{
    (void)in;
    (void)nrows;
    n->out = n->target->out;
    n->out.type = n->type;
}

/* Same arrays as the child, another type of the same storage. */
static void eval_retype(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    n->out = n->kids[0]->out;
    n->out.type = n->type;
}

static void eval_const(sl_xnode *n, const sl_batch *in, int nrows)
{
    (void)in;
    if (n->own_null != NULL && nrows <= n->filled)
        return;
    sl_xnode_reserve(n, nrows);
    int from = n->filled;
    memset(n->out.null + from, n->cval.is_null ? 1 : 0, (size_t)(nrows - from));
    switch (sl_xclass(n->type)) {
    case 0:
        for (int i = from; i < nrows; i++)
            n->out.v.i[i] = n->cval.is_null ? 0 : n->cval.u.i;
        break;
    case 1:
        for (int i = from; i < nrows; i++)
            n->out.v.d[i] = n->cval.is_null ? 0 : n->cval.u.d;
        break;
    default:
        for (int i = from; i < nrows; i++)
            n->out.v.s[i] = n->cval.is_null ? (sl_str){"", 0} : n->cval.u.s;
        break;
    }
    n->filled = nrows;
}

static sl_xnode *make_const(sl_type t, const sl_value *v)
{
    sl_xnode *n = sl_xnode_new(eval_const, t, 0);
    n->is_const = 1;
    n->cval = *v;
    n->cval.type = t;
    if (v->is_null) {
        memset(&n->cval.u, 0, sizeof n->cval.u);
    } else if (t == SL_TEXT) {
        n->ctext = sl_xcalloc((size_t)v->u.s.n + 1, 1);
        if (v->u.s.n > 0)
            memcpy(n->ctext, v->u.s.z, (size_t)v->u.s.n);
        n->cval.u.s.z = n->ctext;
    }
    return n;
}

static sl_xnode *make_null(sl_type t)
{
    sl_value v;
    memset(&v, 0, sizeof v);
    v.type = t;
    v.is_null = 1;
    return make_const(t, &v);
}

static int is_null_const(const sl_xnode *n)
{
    return n->is_const && n->cval.is_null;
}

static int is_value_const(const sl_xnode *n)
{
    return n->is_const && !n->cval.is_null;
}

static sl_value value_at(const sl_column *c, sl_type t, int i)
{
    sl_value v;
    memset(&v, 0, sizeof v);
    v.type = t;
    v.is_null = c->null[i] != 0;
    if (v.is_null)
        return v;
    switch (sl_xclass(t)) {
    case 0:
        v.u.i = c->v.i[i];
        break;
    case 1:
        v.u.d = c->v.d[i];
        break;
    default:
        v.u.s = c->v.s[i];
        break;
    }
    return v;
}

/* Evaluates a node without column references once and replaces it by a
** constant. */
static sl_xnode *fold(sl_xnode *n)
{
    if (n->is_const)
        return n;
    sl_batch dummy;
    memset(&dummy, 0, sizeof dummy);
    dummy.nrows = 1;
    n->eval(n, &dummy, 1);
    sl_value v = value_at(&n->out, n->type, 0);
    sl_xnode *c = make_const(n->type, &v);   /* copies text before n goes */
    sl_xnode_free(n);
    return c;
}

/* A second reader of target's output. Constants are cloned instead, since
** kernels that read a constant as a scalar never fill its arrays. */
static sl_xnode *make_ref(sl_xnode *target)
{
    if (target->is_const)
        return make_const(target->type, &target->cval);
    sl_xnode *n = sl_xnode_new(eval_ref, target->type, 0);
    n->target = target;
    return n;
}

/* ------------------------------------------------------------------------ */
/* arithmetic                                                                */

#define DEF_ARITH(NAME, T, F, BODY)                                          \
static void NAME##_vv(sl_xnode *n, const sl_batch *in, int nrows)           \
{                                                                           \
    sl_xnode_eval_kids(n, in, nrows);                                       \
    sl_xnode_reserve(n, nrows);                                             \
    const T *a = KID(0)->v.F, *b = KID(1)->v.F;                             \
    const uint8_t *an = KID(0)->null, *bn = KID(1)->null;                   \
    T *o = n->out.v.F;                                                      \
    uint8_t *on = n->out.null;                                              \
    for (int i = 0; i < nrows; i++) {                                       \
        T x = a[i], y = b[i], r;                                            \
        int bad = 0;                                                        \
        BODY;                                                               \
        o[i] = r;                                                           \
        on[i] = (uint8_t)(an[i] | bn[i] | bad);                             \
    }                                                                       \
}                                                                           \
static void NAME##_vc(sl_xnode *n, const sl_batch *in, int nrows)           \
{                                                                           \
    n->kids[0]->eval(n->kids[0], in, nrows);                                \
    sl_xnode_reserve(n, nrows);                                             \
    const T *a = KID(0)->v.F;                                               \
    const uint8_t *an = KID(0)->null;                                       \
    const T y = (T)n->kids[1]->cval.u.F;                                    \
    T *o = n->out.v.F;                                                      \
    uint8_t *on = n->out.null;                                              \
    for (int i = 0; i < nrows; i++) {                                       \
        T x = a[i], r;                                                      \
        int bad = 0;                                                        \
        BODY;                                                               \
        o[i] = r;                                                           \
        on[i] = (uint8_t)(an[i] | bad);                                     \
    }                                                                       \
}                                                                           \
static void NAME##_cv(sl_xnode *n, const sl_batch *in, int nrows)           \
{                                                                           \
    n->kids[1]->eval(n->kids[1], in, nrows);                                \
    sl_xnode_reserve(n, nrows);                                             \
    const T *b = KID(1)->v.F;                                               \
    const uint8_t *bn = KID(1)->null;                                       \
    const T x = (T)n->kids[0]->cval.u.F;                                    \
    T *o = n->out.v.F;                                                      \
    uint8_t *on = n->out.null;                                              \
    for (int i = 0; i < nrows; i++) {                                       \
        T y = b[i], r;                                                      \
        int bad = 0;                                                        \
        BODY;                                                               \
        o[i] = r;                                                           \
        on[i] = (uint8_t)(bn[i] | bad);                                     \
    }                                                                       \
}

DEF_ARITH(iadd, int64_t, i, bad = __builtin_add_overflow(x, y, &r))
DEF_ARITH(isub, int64_t, i, bad = __builtin_sub_overflow(x, y, &r))
DEF_ARITH(imul, int64_t, i, bad = __builtin_mul_overflow(x, y, &r))
DEF_ARITH(idiv, int64_t, i,
          bad = (y == 0) | ((x == INT64_MIN) & (y == -1));
          r = bad ? 0 : x / (bad ? 1 : y))
DEF_ARITH(imod, int64_t, i,
          bad = (y == 0);
          r = (y == 0 || y == -1) ? 0 : x % ((y == 0 || y == -1) ? 1 : y))
DEF_ARITH(dadd, double, d, r = x + y)
DEF_ARITH(dsub, double, d, r = x - y)
DEF_ARITH(dmul, double, d, r = x * y)
DEF_ARITH(ddiv, double, d, bad = (y == 0); r = bad ? 0 : x / y)
DEF_ARITH(dmod, double, d, bad = (y == 0); r = bad ? 0 : fmod(x, y))

static const sl_xeval_fn arith_fn[2][5][3] = {
    {{iadd_vv, iadd_vc, iadd_cv}, {isub_vv, isub_vc, isub_cv},
     {imul_vv, imul_vc, imul_cv}, {idiv_vv, idiv_vc, idiv_cv},
     {imod_vv, imod_vc, imod_cv}},
    {{dadd_vv, dadd_vc, dadd_cv}, {dsub_vv, dsub_vc, dsub_cv},
     {dmul_vv, dmul_vc, dmul_cv}, {ddiv_vv, ddiv_vc, ddiv_cv},
     {dmod_vv, dmod_vc, dmod_cv}},
};

sl_xnode *sl_xarith(sl_op op, sl_xnode *a, sl_xnode *b, sl_type rt)
{
    assert(op >= SL_OP_ADD && op <= SL_OP_MOD);
    int cls = sl_xclass(rt);
    assert(cls < 2 && sl_xclass(a->type) == cls && sl_xclass(b->type) == cls);
    sl_xnode *n = sl_xnode_new(NULL, rt, 2);
    n->kids[0] = a;
    n->kids[1] = b;
    int variant = is_value_const(b) ? 1 : is_value_const(a) ? 2 : 0;
    n->eval = arith_fn[cls][op - SL_OP_ADD][variant];
    if (a->is_const && b->is_const)
        n = fold(n);
    return n;
}

static void ineg(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    sl_xnode_reserve(n, nrows);
    const int64_t *a = KID(0)->v.i;
    const uint8_t *an = KID(0)->null;
    for (int i = 0; i < nrows; i++) {
        int bad = a[i] == INT64_MIN;
        n->out.v.i[i] = bad ? 0 : -a[i];
        n->out.null[i] = (uint8_t)(an[i] | bad);
    }
}

static void dneg(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    sl_xnode_reserve(n, nrows);
    const double *a = KID(0)->v.d;
    for (int i = 0; i < nrows; i++)
        n->out.v.d[i] = -a[i];
    memcpy(n->out.null, KID(0)->null, (size_t)nrows);
}

/* ------------------------------------------------------------------------ */
/* comparisons                                                               */

#define DEF_CMP(NAME, T, F, OP)                                              \
static void NAME##_vv(sl_xnode *n, const sl_batch *in, int nrows)           \
{                                                                           \
    sl_xnode_eval_kids(n, in, nrows);                                       \
    sl_xnode_reserve(n, nrows);                                             \
    const T *a = KID(0)->v.F, *b = KID(1)->v.F;                             \
    const uint8_t *an = KID(0)->null, *bn = KID(1)->null;                   \
    int64_t *o = n->out.v.i;                                                \
    uint8_t *on = n->out.null;                                              \
    for (int i = 0; i < nrows; i++) {                                       \
        o[i] = a[i] OP b[i];                                                \
        on[i] = an[i] | bn[i];                                              \
    }                                                                       \
}                                                                           \
static void NAME##_vc(sl_xnode *n, const sl_batch *in, int nrows)           \
{                                                                           \
    n->kids[0]->eval(n->kids[0], in, nrows);                                \
    sl_xnode_reserve(n, nrows);                                             \
    const T *a = KID(0)->v.F;                                               \
    const T y = n->kids[1]->cval.u.F;                                       \
    int64_t *o = n->out.v.i;                                                \
    for (int i = 0; i < nrows; i++)                                         \
        o[i] = a[i] OP y;                                                   \
    memcpy(n->out.null, KID(0)->null, (size_t)nrows);                       \
}

#define DEF_TCMP(NAME, OP)                                                   \
static void NAME##_vv(sl_xnode *n, const sl_batch *in, int nrows)           \
{                                                                           \
    sl_xnode_eval_kids(n, in, nrows);                                       \
    sl_xnode_reserve(n, nrows);                                             \
    const sl_str *a = KID(0)->v.s, *b = KID(1)->v.s;                        \
    const uint8_t *an = KID(0)->null, *bn = KID(1)->null;                   \
    for (int i = 0; i < nrows; i++) {                                       \
        uint8_t nl = an[i] | bn[i];                                         \
        n->out.null[i] = nl;                                                \
        n->out.v.i[i] = nl ? 0 : (sl_xtxtcmp(a[i], b[i]) OP 0);             \
    }                                                                       \
}                                                                           \
static void NAME##_vc(sl_xnode *n, const sl_batch *in, int nrows)           \
{                                                                           \
    n->kids[0]->eval(n->kids[0], in, nrows);                                \
    sl_xnode_reserve(n, nrows);                                             \
    const sl_str *a = KID(0)->v.s;                                          \
    const uint8_t *an = KID(0)->null;                                       \
    const sl_str y = n->kids[1]->cval.u.s;                                  \
    for (int i = 0; i < nrows; i++) {                                       \
        uint8_t nl = an[i];                                                 \
        n->out.null[i] = nl;                                                \
        n->out.v.i[i] = nl ? 0 : (sl_xtxtcmp(a[i], y) OP 0);                \
    }                                                                       \
}

DEF_CMP(ieq, int64_t, i, ==) DEF_CMP(ine, int64_t, i, !=)
DEF_CMP(ilt, int64_t, i, <)  DEF_CMP(ile, int64_t, i, <=)
DEF_CMP(igt, int64_t, i, >)  DEF_CMP(ige, int64_t, i, >=)
DEF_CMP(deq, double, d, ==)  DEF_CMP(dne, double, d, !=)
DEF_CMP(dlt, double, d, <)   DEF_CMP(dle, double, d, <=)
DEF_CMP(dgt, double, d, >)   DEF_CMP(dge, double, d, >=)
DEF_TCMP(teq, ==) DEF_TCMP(tne, !=) DEF_TCMP(tlt, <)
DEF_TCMP(tle, <=) DEF_TCMP(tgt, >)  DEF_TCMP(tge, >=)

/* [class][op - SL_OP_EQ][vv, vc] */
static const sl_xeval_fn cmp_fn[3][6][2] = {
    {{ieq_vv, ieq_vc}, {ine_vv, ine_vc}, {ilt_vv, ilt_vc},
     {ile_vv, ile_vc}, {igt_vv, igt_vc}, {ige_vv, ige_vc}},
    {{deq_vv, deq_vc}, {dne_vv, dne_vc}, {dlt_vv, dlt_vc},
     {dle_vv, dle_vc}, {dgt_vv, dgt_vc}, {dge_vv, dge_vc}},
    {{teq_vv, teq_vc}, {tne_vv, tne_vc}, {tlt_vv, tlt_vc},
     {tle_vv, tle_vc}, {tgt_vv, tgt_vc}, {tge_vv, tge_vc}},
};

static sl_op flip_cmp(sl_op op)
{
    switch (op) {
    case SL_OP_LT: return SL_OP_GT;
    case SL_OP_LE: return SL_OP_GE;
    case SL_OP_GT: return SL_OP_LT;
    case SL_OP_GE: return SL_OP_LE;
    default: return op;
    }
}

/* A comparison of a and b (consumed, same storage). Never frees a kid
** before the result is built, so references to a or b stay valid. */
static sl_xnode *build_cmp(sl_op op, sl_xnode *a, sl_xnode *b)
{
    assert(op >= SL_OP_EQ && op <= SL_OP_GE);
    if (is_value_const(a) && !b->is_const) {
        sl_xnode *t = a;
        a = b;
        b = t;
        op = flip_cmp(op);
    }
    int cls = sl_xclass(a->type);
    assert(cls == sl_xclass(b->type));
    sl_xnode *n = sl_xnode_new(NULL, SL_BOOL, 2);
    n->kids[0] = a;
    n->kids[1] = b;
    n->eval = cmp_fn[cls][op - SL_OP_EQ][is_value_const(b) ? 1 : 0];
    if (a->is_const && b->is_const)
        n = fold(n);
    return n;
}

/* ------------------------------------------------------------------------ */
/* logic                                                                     */

static void eval_and(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    sl_xnode_reserve(n, nrows);
    const int64_t *a = KID(0)->v.i, *b = KID(1)->v.i;
    const uint8_t *an = KID(0)->null, *bn = KID(1)->null;
    for (int i = 0; i < nrows; i++) {
        int af = (!an[i]) & (a[i] == 0), bf = (!bn[i]) & (b[i] == 0);
        int anyf = af | bf, anyn = an[i] | bn[i];
        n->out.v.i[i] = (!anyf) & (!anyn);
        n->out.null[i] = (uint8_t)((!anyf) & anyn);
    }
}

static void eval_or(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    sl_xnode_reserve(n, nrows);
    const int64_t *a = KID(0)->v.i, *b = KID(1)->v.i;
    const uint8_t *an = KID(0)->null, *bn = KID(1)->null;
    for (int i = 0; i < nrows; i++) {
        int at = (!an[i]) & (a[i] != 0), bt = (!bn[i]) & (b[i] != 0);
        int anyt = at | bt, anyn = an[i] | bn[i];
        n->out.v.i[i] = anyt;
        n->out.null[i] = (uint8_t)((!anyt) & anyn);
    }
}

static void eval_not(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    sl_xnode_reserve(n, nrows);
    const int64_t *a = KID(0)->v.i;
    for (int i = 0; i < nrows; i++)
        n->out.v.i[i] = a[i] == 0;
    memcpy(n->out.null, KID(0)->null, (size_t)nrows);
}

static sl_xnode *build_logic(sl_xeval_fn fn, sl_xnode *a, sl_xnode *b)
{
    sl_xnode *n = sl_xnode_new(fn, SL_BOOL, b ? 2 : 1);
    n->kids[0] = a;
    if (b)
        n->kids[1] = b;
    if (a->is_const && (b == NULL || b->is_const))
        n = fold(n);
    return n;
}

/* IS [NOT] NULL: op 1 for NOT. */
static void eval_isnull(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    sl_xnode_reserve(n, nrows);
    const uint8_t *an = KID(0)->null;
    int64_t neg = n->op;
    for (int i = 0; i < nrows; i++)
        n->out.v.i[i] = (an[i] != 0) ^ neg;
    memset(n->out.null, 0, (size_t)nrows);
}

/* ------------------------------------------------------------------------ */
/* text: ||, LIKE, conversions                                               */

static void eval_concat(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    sl_xnode_reserve(n, nrows);
    sl_arena_reset(&n->arena);
    const sl_str *a = KID(0)->v.s, *b = KID(1)->v.s;
    const uint8_t *an = KID(0)->null, *bn = KID(1)->null;
    for (int i = 0; i < nrows; i++) {
        uint8_t nl = an[i] | bn[i];
        n->out.null[i] = nl;
        if (nl) {
            n->out.v.s[i] = (sl_str){"", 0};
            continue;
        }
        int len = a[i].n + b[i].n;
        char *p = sl_arena_alloc(&n->arena, (size_t)len + 1);
        if (a[i].n > 0)
            memcpy(p, a[i].z, (size_t)a[i].n);
        if (b[i].n > 0)
            memcpy(p + a[i].n, b[i].z, (size_t)b[i].n);
        p[len] = 0;
        n->out.v.s[i] = (sl_str){p, len};
    }
}

/* LIKE with a constant pattern (aux: the compiled matcher); op 1 for NOT. */
static void eval_like_c(sl_xnode *n, const sl_batch *in, int nrows)
{
    n->kids[0]->eval(n->kids[0], in, nrows);
    sl_xnode_reserve(n, nrows);
    const sl_str *a = KID(0)->v.s;
    const uint8_t *an = KID(0)->null;
    const sl_like *lk = n->aux;
    int64_t neg = n->op;
    for (int i = 0; i < nrows; i++)
        n->out.v.i[i] = an[i] ? 0 : sl_like_match(lk, a[i].z, a[i].n) ^ neg;
    memcpy(n->out.null, an, (size_t)nrows);
}

static void eval_like_v(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    sl_xnode_reserve(n, nrows);
    const sl_str *a = KID(0)->v.s, *p = KID(1)->v.s;
    const uint8_t *an = KID(0)->null, *pn = KID(1)->null;
    int64_t neg = n->op;
    for (int i = 0; i < nrows; i++) {
        uint8_t nl = an[i] | pn[i];
        n->out.null[i] = nl;
        n->out.v.i[i] = nl ? 0 :
            sl_like_match_raw(p[i].z, p[i].n, a[i].z, a[i].n) ^ neg;
    }
}

static void cast_i2d(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    sl_xnode_reserve(n, nrows);
    const int64_t *a = KID(0)->v.i;
    for (int i = 0; i < nrows; i++)
        n->out.v.d[i] = (double)a[i];
    memcpy(n->out.null, KID(0)->null, (size_t)nrows);
}

/* DOUBLE -> BIGINT truncates toward zero (as SQLite); NaN and values out of
** range give NULL. */
static void cast_d2i(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    sl_xnode_reserve(n, nrows);
    const double *a = KID(0)->v.d;
    const uint8_t *an = KID(0)->null;
    for (int i = 0; i < nrows; i++) {
        double x = a[i];
        int ok = x >= -9223372036854775808.0 && x < 9223372036854775808.0;
        n->out.v.i[i] = ok ? (int64_t)x : 0;
        n->out.null[i] = (uint8_t)(an[i] | !ok);
    }
}

static void cast_i2b(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    sl_xnode_reserve(n, nrows);
    const int64_t *a = KID(0)->v.i;
    for (int i = 0; i < nrows; i++)
        n->out.v.i[i] = a[i] != 0;
    memcpy(n->out.null, KID(0)->null, (size_t)nrows);
}

/* Anything -> TEXT; op is the source type. */
static void cast_to_text(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    sl_xnode_reserve(n, nrows);
    sl_arena_reset(&n->arena);
    const sl_column *a = KID(0);
    char buf[SL_XFMT_MAX];
    for (int i = 0; i < nrows; i++) {
        n->out.null[i] = a->null[i];
        if (a->null[i]) {
            n->out.v.s[i] = (sl_str){"", 0};
            continue;
        }
        int len;
        switch ((sl_type)n->op) {
        case SL_BOOL:
            n->out.v.s[i] = a->v.i[i] ? (sl_str){"true", 4}
                                      : (sl_str){"false", 5};
            continue;
        case SL_BIGINT:
            len = sl_xfmt_int(a->v.i[i], buf);
            break;
        case SL_DOUBLE:
            len = sl_format_double(a->v.d[i], buf);
            break;
        case SL_TIMESTAMP:
            len = sl_ts_format(a->v.i[i], buf);
            break;
        case SL_INTERVAL:
            len = sl_xfmt_interval(a->v.i[i], buf);
            break;
        default:
            len = 0;
            break;
        }
        n->out.v.s[i] = sl_arena_strdup(&n->arena, buf, (size_t)len);
    }
}

/* TEXT -> anything; a text that does not convert gives NULL. */
static void cast_from_text(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_eval_kids(n, in, nrows);
    sl_xnode_reserve(n, nrows);
    const sl_column *a = KID(0);
    for (int i = 0; i < nrows; i++) {
        if (a->null[i]) {
            n->out.null[i] = 1;
            n->out.v.i[i] = 0;
            continue;
        }
        const char *z = a->v.s[i].z;
        int len = a->v.s[i].n;
        int rc;
        switch (n->type) {
        case SL_BIGINT:
            rc = sl_xparse_int(z, len, &n->out.v.i[i]);
            break;
        case SL_DOUBLE:
            rc = sl_xparse_double(z, len, &n->out.v.d[i]);
            break;
        case SL_BOOL:
            rc = sl_xparse_bool(z, len, &n->out.v.i[i]);
            break;
        case SL_TIMESTAMP: {
            /* allow surrounding spaces, as the number casts do */
            while (len > 0 && (*z == ' ' || *z == '\t')) {
                z++;
                len--;
            }
            while (len > 0 && (z[len - 1] == ' ' || z[len - 1] == '\t'))
                len--;
            rc = sl_ts_parse(z, (size_t)len, &n->out.v.i[i]);
            break;
        }
        case SL_INTERVAL:
            rc = sl_xparse_interval(z, len, &n->out.v.i[i]);
            break;
        default:
            rc = -1;
            break;
        }
        n->out.null[i] = rc != 0;
        if (rc != 0)
            n->out.v.i[i] = 0;
    }
}

static sl_xeval_fn cast_fn(sl_type from, sl_type to)
{
    if (to == SL_TEXT)
        return cast_to_text;
    if (from == SL_TEXT)
        return cast_from_text;
    if (from == SL_BIGINT && to == SL_DOUBLE)
        return cast_i2d;
    if (from == SL_DOUBLE && to == SL_BIGINT)
        return cast_d2i;
    if (from == SL_BIGINT && to == SL_BOOL)
        return cast_i2b;
    if (from == SL_BOOL && to == SL_BIGINT)
        return eval_retype;
    return NULL;
}

static int castable(sl_type from, sl_type to)
{
    return from == to || from == SL_NULL || cast_fn(from, to) != NULL;
}

sl_xnode *sl_xconvert(sl_xnode *n, sl_type want)
{
    if (n->type == want)
        return n;
    if (n->type == SL_NULL || is_null_const(n)) {
        sl_xnode_free(n);
        return make_null(want);
    }
    sl_xeval_fn fn = cast_fn(n->type, want);
    assert(fn != NULL);
    sl_xnode *c = sl_xnode_new(fn, want, 1);
    c->kids[0] = n;
    c->op = (int)n->type;
    if (n->is_const)
        c = fold(c);
    return c;
}

/* ------------------------------------------------------------------------ */
/* IN, CASE                                                                  */

/* x IN (constants): a sorted set searched per row. */
typedef struct in_set {
    int n;
    int has_null;
    int64_t *iv;
    double *dv;
    sl_str *sv;
    char **texts;
} in_set;

static void in_set_free(void *p)
{
    in_set *s = p;
    if (s->texts != NULL)
        for (int i = 0; i < s->n; i++)
            free(s->texts[i]);
    free(s->texts);
    free(s->iv);
    free(s->dv);
    free(s->sv);
    free(s);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return sl_xtxtcmp(*(const sl_str *)a, *(const sl_str *)b);
}

static void eval_in_set(sl_xnode *n, const sl_batch *in, int nrows)
{
    n->kids[0]->eval(n->kids[0], in, nrows);
    sl_xnode_reserve(n, nrows);
    const sl_column *a = KID(0);
    const in_set *s = n->aux;
    int cls = sl_xclass(a->type);
    int64_t neg = n->op;
    for (int i = 0; i < nrows; i++) {
        if (a->null[i]) {
            n->out.null[i] = 1;
            n->out.v.i[i] = 0;
            continue;
        }
        int found;
        if (cls == 0)
            found = bsearch(&a->v.i[i], s->iv, (size_t)s->n, sizeof *s->iv,
                            cmp_i64) != NULL;
        else if (cls == 1)
            found = bsearch(&a->v.d[i], s->dv, (size_t)s->n, sizeof *s->dv,
                            cmp_dbl) != NULL;
        else
            found = bsearch(&a->v.s[i], s->sv, (size_t)s->n, sizeof *s->sv,
                            cmp_str) != NULL;
        /* not found and a NULL in the list: unknown */
        n->out.null[i] = (uint8_t)((!found) & s->has_null);
        n->out.v.i[i] = found ^ neg;
    }
}

static sl_xnode *build_in_set(sl_xnode *lhs, sl_xnode **items, int nitems,
                              int negate)
{
    in_set *s = sl_xcalloc(1, sizeof *s);
    int cls = sl_xclass(lhs->type);
    if (cls == 0)
        s->iv = sl_xcalloc((size_t)nitems, sizeof *s->iv);
    else if (cls == 1)
        s->dv = sl_xcalloc((size_t)nitems, sizeof *s->dv);
    else {
        s->sv = sl_xcalloc((size_t)nitems, sizeof *s->sv);
        s->texts = sl_xcalloc((size_t)nitems, sizeof *s->texts);
    }
    for (int k = 0; k < nitems; k++) {
        const sl_value *v = &items[k]->cval;
        if (v->is_null) {
            s->has_null = 1;
            continue;
        }
        if (cls == 0) {
            s->iv[s->n++] = v->u.i;
        } else if (cls == 1) {
            s->dv[s->n++] = v->u.d;
        } else {
            char *t = sl_xcalloc((size_t)v->u.s.n + 1, 1);
            if (v->u.s.n > 0)
                memcpy(t, v->u.s.z, (size_t)v->u.s.n);
            s->texts[s->n] = t;
            s->sv[s->n++] = (sl_str){t, v->u.s.n};
        }
        }
    if (cls == 0)
        qsort(s->iv, (size_t)s->n, sizeof *s->iv, cmp_i64);
    else if (cls == 1)
        qsort(s->dv, (size_t)s->n, sizeof *s->dv, cmp_dbl);
    else
        qsort(s->sv, (size_t)s->n, sizeof *s->sv, cmp_str);
    for (int k = 0; k < nitems; k++)
        sl_xnode_free(items[k]);
    sl_xnode *n = sl_xnode_new(eval_in_set, SL_BOOL, 1);
    n->kids[0] = lhs;
    n->aux = s;
    n->aux_free = in_set_free;
    n->op = negate;
    return n;
}

static void copy_row(sl_column *dst, const sl_column *src, int cls, int i)
{
    dst->null[i] = src->null[i];
    if (cls == 2)
        dst->v.s[i] = src->null[i] ? (sl_str){"", 0} : src->v.s[i];
    else
        dst->v.i[i] = src->v.i[i];   /* doubles copied bit for bit */
}

/* kids: [operand if op] (cond, then)* [else if aux_i]; the conditions of
** CASE x WHEN v compare a reference to the operand with v. */
static void eval_case(sl_xnode *n, const sl_batch *in, int nrows)
{
    sl_xnode_reserve(n, nrows);
    sl_xnode_scratch(n, nrows);
    uint8_t *done = n->scratch;
    memset(done, 0, (size_t)nrows);
    int cls = sl_xclass(n->type);
    int k = 0;
    if (n->op) {
        n->kids[0]->eval(n->kids[0], in, nrows);
        k = 1;
    }
    int has_else = (int)n->aux_i;
    int end = n->nkids - has_else;
    for (; k < end; k += 2) {
        sl_xnode *c = n->kids[k], *t = n->kids[k + 1];
        c->eval(c, in, nrows);
        t->eval(t, in, nrows);
        const int64_t *cv = c->out.v.i;
        const uint8_t *cn = c->out.null;
        for (int i = 0; i < nrows; i++) {
            if (!done[i] && !cn[i] && cv[i]) {
                copy_row(&n->out, &t->out, cls, i);
                done[i] = 1;
            }
        }
    }
    if (has_else) {
        sl_xnode *e = n->kids[n->nkids - 1];
        e->eval(e, in, nrows);
        for (int i = 0; i < nrows; i++)
            if (!done[i])
                copy_row(&n->out, &e->out, cls, i);
    } else {
        for (int i = 0; i < nrows; i++) {
            if (!done[i]) {
                n->out.null[i] = 1;
                if (cls == 2)
                    n->out.v.s[i] = (sl_str){"", 0};
                else
                    n->out.v.i[i] = 0;
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* typing                                                                    */


int sl_is_aggregate_name(const char *name)
{
    static const char *const aggs[] = {"count", "sum", "avg", "min", "max"};
    if (name == NULL)
        return 0;
    for (unsigned i = 0; i < sizeof aggs / sizeof aggs[0]; i++)
        if (strcasecmp(name, aggs[i]) == 0)
            return 1;
    return 0;
}

int sl_xcomparable(sl_type a, sl_type b)
{
    if (a == SL_NULL || b == SL_NULL)
        return 1;
    if (sl_type_is_numeric(a) && sl_type_is_numeric(b))
        return 1;
    return a == b;
}

/* The type both sides of a comparison are converted to. */
static sl_type cmp_common(sl_type c, sl_type t)
{
    if (c == SL_NULL)
        return t;
    if (t == SL_NULL || t == c)
        return c;
    return SL_DOUBLE;   /* BIGINT with DOUBLE */
}

int sl_xunify(sl_expr **v, int n, const char *what, sl_type *out,
              sl_error *err)
{
    sl_type c = SL_NULL;
    for (int i = 0; i < n; i++) {
        sl_type t = v[i]->type;
        if (t == SL_NULL || t == c)
            continue;
        if (c == SL_NULL) {
            c = t;
        } else if (sl_type_is_numeric(c) && sl_type_is_numeric(t)) {
            c = SL_DOUBLE;
        } else {
            return sl_error_set(err, v[i]->offset,
                                "%s have incompatible types %s and %s", what,
                                sl_type_name(c), sl_type_name(t));
        }
    }
    *out = c;
    return 0;
}

static int is_text_literal(const sl_expr *e)
{
    return e->kind == SL_EX_LITERAL && e->type == SL_TEXT && e->lit_s != NULL;
}

static int parse_ts_literal(sl_expr *e, sl_error *err)
{
    int64_t ms;
    if (sl_ts_parse(e->lit_s, strlen(e->lit_s), &ms) != 0)
        return sl_error_set(err, e->offset, "invalid timestamp '%s'",
                            e->lit_s);
    e->lit_type = SL_TIMESTAMP;
    e->lit_i = ms;
    e->type = SL_TIMESTAMP;
    return 0;
}

int sl_xcoerce_ts(sl_expr **v, int n, sl_error *err)
{
    int has_ts = 0;
    for (int i = 0; i < n; i++)
        has_ts |= v[i]->type == SL_TIMESTAMP;
    if (!has_ts)
        return 0;
    for (int i = 0; i < n; i++)
        if (is_text_literal(v[i]) && parse_ts_literal(v[i], err) != 0)
            return -1;
    return 0;
}

/* Result type of an arithmetic operator on two non-NULL types, or SL_NULL
** when the operator cannot take them. */
static sl_type arith2(sl_op op, sl_type a, sl_type b)
{
    if (sl_type_is_numeric(a) && sl_type_is_numeric(b))
        return (a == SL_DOUBLE || b == SL_DOUBLE) ? SL_DOUBLE : SL_BIGINT;
    switch (op) {
    case SL_OP_ADD:
        if ((a == SL_TIMESTAMP && b == SL_INTERVAL) ||
            (a == SL_INTERVAL && b == SL_TIMESTAMP))
            return SL_TIMESTAMP;
        if (a == SL_INTERVAL && b == SL_INTERVAL)
            return SL_INTERVAL;
        break;
    case SL_OP_SUB:
        if (a == SL_TIMESTAMP && b == SL_INTERVAL)
            return SL_TIMESTAMP;
        if (a == SL_TIMESTAMP && b == SL_TIMESTAMP)
            return SL_INTERVAL;
        if (a == SL_INTERVAL && b == SL_INTERVAL)
            return SL_INTERVAL;
        break;
    case SL_OP_MUL:
        if ((a == SL_INTERVAL && b == SL_BIGINT) ||
            (a == SL_BIGINT && b == SL_INTERVAL))
            return SL_INTERVAL;
        break;
    case SL_OP_DIV:
        if (a == SL_INTERVAL && b == SL_BIGINT)
            return SL_INTERVAL;
        break;
    default:
        break;
    }
    return SL_NULL;
}

/* Returns 0 and the result type, or -1 when the operator cannot take the
** types. A NULL operand takes the first type that makes the operator valid. */
static int arith_type(sl_op op, sl_type a, sl_type b, sl_type *out)
{
    static const sl_type guesses[] = {SL_NULL, SL_INTERVAL, SL_BIGINT};
    if (a == SL_NULL && b == SL_NULL) {
        *out = SL_NULL;
        return 0;
    }
    for (int g = 0; g < 3; g++) {
        sl_type x = a, y = b;
        if (x == SL_NULL)
            x = g == 0 ? y : guesses[g];
        if (y == SL_NULL)
            y = g == 0 ? x : guesses[g];
        sl_type r = arith2(op, x, y);
        if (r != SL_NULL) {
            *out = r;
            return 0;
        }
        if (a != SL_NULL && b != SL_NULL)
            break;
    }
    return -1;
}

static int type_expr(sl_expr *e, sl_error *err);

static int type_args(sl_expr *e, int from, sl_error *err)
{
    for (int i = from; i < e->nargs; i++)
        if (type_expr(e->args[i], err) != 0)
            return -1;
    return 0;
}

/* Smallest edit distance (with transpositions) between a and b, capped. */
static int edit_distance(const char *a, const char *b)
{
    int n = (int)strlen(a), m = (int)strlen(b);
    if (n > 40 || m > 40)
        return 99;
    int d[41][41];
    for (int i = 0; i <= n; i++)
        d[i][0] = i;
    for (int j = 0; j <= m; j++)
        d[0][j] = j;
    for (int i = 1; i <= n; i++) {
        for (int j = 1; j <= m; j++) {
            int ca = a[i - 1] | 0x20, cb = b[j - 1] | 0x20;
            int cost = ca != cb;
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && ca == (b[j - 2] | 0x20) &&
                (a[i - 2] | 0x20) == cb && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[n][m];
}

static int unknown_function(const sl_expr *e, sl_error *err)
{
    /* within 2 edits (1 for names of up to 3 letters) */
    const char *best = NULL;
    int best_d = strlen(e->name) <= 3 ? 2 : 3;
    for (int i = 0; sl_fn_all_names[i] != NULL; i++) {
        int d = edit_distance(e->name, sl_fn_all_names[i]);
        if (d < best_d) {
            best_d = d;
            best = sl_fn_all_names[i];
        }
    }
    if (best != NULL)
        return sl_error_set(err, e->offset,
                            "unknown function \"%s\", did you mean \"%s\"?",
                            e->name, best);
    return sl_error_set(err, e->offset, "unknown function \"%s\"", e->name);
}

static int type_func(sl_expr *e, sl_error *err)
{
    if (e->is_agg || sl_is_aggregate_name(e->name)) {
        char lower[32];
        snprintf(lower, sizeof lower, "%s", e->name);
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
        return sl_error_set(err, e->offset,
                            "aggregate function %s is not allowed here", lower);
    }
    const sl_fn_def *f = sl_fn_lookup(e->name);
    if (f == NULL)
        return unknown_function(e, err);
    if (e->flags & (SL_EXF_DISTINCT | SL_EXF_STAR))
        return sl_error_set(err, e->offset,
                            "%s is only allowed in aggregate functions",
                            (e->flags & SL_EXF_STAR) ? "*" : "DISTINCT");
    if (e->nargs < f->min_args || (f->max_args >= 0 && e->nargs > f->max_args)) {
        const char *s = "s";
        if (f->max_args < 0) {
            return sl_error_set(err, e->offset,
                                "function %s takes at least %d argument%s, got %d",
                                f->name, f->min_args, f->min_args == 1 ? "" : s,
                                e->nargs);
        }
        if (f->min_args == f->max_args)
            return sl_error_set(err, e->offset,
                                "function %s takes %d argument%s, got %d",
                                f->name, f->min_args, f->min_args == 1 ? "" : s,
                                e->nargs);
        return sl_error_set(err, e->offset,
                            "function %s takes %d %s %d arguments, got %d",
                            f->name, f->min_args,
                            f->max_args == f->min_args + 1 ? "or" : "to",
                            f->max_args, e->nargs);
    }
    if (type_args(e, 0, err) != 0)
        return -1;
    return f->check(e, err);
}

static int type_case(sl_expr *e, sl_error *err)
{
    if (type_args(e, 0, err) != 0)
        return -1;
    int has_op = (e->flags & SL_EXF_OPERAND) != 0;
    int has_else = (e->flags & SL_EXF_ELSE) != 0;
    int first = has_op ? 1 : 0;
    int npairs = (e->nargs - first - has_else) / 2;
    if (npairs < 1 || first + 2 * npairs + has_else != e->nargs)
        return sl_error_set(err, e->offset, "CASE needs at least one WHEN");
    sl_expr **tmp = sl_xcalloc((size_t)npairs + 1, sizeof *tmp);
    int rc = 0;
    if (has_op) {
        tmp[0] = e->args[0];
        for (int k = 0; k < npairs; k++)
            tmp[k + 1] = e->args[first + 2 * k];
        rc = sl_xcoerce_ts(tmp, npairs + 1, err);
        for (int k = 0; rc == 0 && k < npairs; k++) {
            sl_expr *w = e->args[first + 2 * k];
            if (!sl_xcomparable(e->args[0]->type, w->type))
                rc = sl_error_set(err, w->offset, "cannot compare %s with %s",
                                  sl_type_name(e->args[0]->type),
                                  sl_type_name(w->type));
        }
    } else {
        for (int k = 0; rc == 0 && k < npairs; k++) {
            sl_expr *w = e->args[2 * k];
            if (w->type != SL_BOOL && w->type != SL_NULL)
                rc = sl_error_set(err, w->offset,
                                  "CASE WHEN condition must be BOOLEAN, not %s",
                                  sl_type_name(w->type));
        }
    }
    if (rc == 0) {
        int nb = 0;
        for (int k = 0; k < npairs; k++)
            tmp[nb++] = e->args[first + 2 * k + 1];
        if (has_else)
            tmp[nb++] = e->args[e->nargs - 1];
        rc = sl_xcoerce_ts(tmp, nb, err);
        if (rc == 0)
            rc = sl_xunify(tmp, nb, "CASE branches", &e->type, err);
    }
    free(tmp);
    return rc;
}

static int type_expr(sl_expr *e, sl_error *err)
{
    switch (e->kind) {
    case SL_EX_LITERAL:
        if (e->lit_type == SL_TIMESTAMP && e->lit_s != NULL)
            return parse_ts_literal(e, err);
        if (e->lit_type == SL_TEXT && e->lit_s == NULL)
            return sl_error_set(err, e->offset, "text literal without text");
        e->type = e->lit_type;
        return 0;
    case SL_EX_COLUMN:
        return 0;
    case SL_EX_STAR:
        return sl_error_set(err, e->offset, "* is not allowed here");
    case SL_EX_OVER:
        return sl_error_set(err, e->offset, "the window function %s() is "
                            "only allowed in QUALIFY and in the select list "
                            "of a query with QUALIFY", e->name);
    case SL_EX_UNARY: {
        if (type_args(e, 0, err) != 0)
            return -1;
        sl_type t = e->args[0]->type;
        if (e->op == SL_OP_NOT) {
            if (t != SL_BOOL && t != SL_NULL)
                return sl_error_set(err, e->offset,
                                    "operator NOT cannot take %s",
                                    sl_type_name(t));
            e->type = SL_BOOL;
            return 0;
        }
        if (t != SL_NULL && !sl_type_is_numeric(t) && t != SL_INTERVAL)
            return sl_error_set(err, e->offset, "operator %s cannot take %s",
                                sl_op_name(e->op), sl_type_name(t));
        e->type = t;
        return 0;
    }
    case SL_EX_BINARY: {
        if (type_args(e, 0, err) != 0)
            return -1;
        sl_expr *a = e->args[0], *b = e->args[1];
        switch (e->op) {
        case SL_OP_ADD: case SL_OP_SUB: case SL_OP_MUL: case SL_OP_DIV:
        case SL_OP_MOD:
            if (arith_type(e->op, a->type, b->type, &e->type) != 0)
                return sl_error_set(err, e->offset,
                                    "operator %s cannot take %s and %s",
                                    sl_op_name(e->op), sl_type_name(a->type),
                                    sl_type_name(b->type));
            return 0;
        case SL_OP_CONCAT:
            e->type = SL_TEXT;
            return 0;
        case SL_OP_EQ: case SL_OP_NE: case SL_OP_LT: case SL_OP_LE:
        case SL_OP_GT: case SL_OP_GE:
            if (sl_xcoerce_ts(e->args, 2, err) != 0)
                return -1;
            if (!sl_xcomparable(a->type, b->type))
                return sl_error_set(err, e->offset, "cannot compare %s with %s",
                                    sl_type_name(a->type),
                                    sl_type_name(b->type));
            e->type = SL_BOOL;
            return 0;
        case SL_OP_AND: case SL_OP_OR:
            if ((a->type != SL_BOOL && a->type != SL_NULL) ||
                (b->type != SL_BOOL && b->type != SL_NULL))
                return sl_error_set(err, e->offset,
                                    "operator %s cannot take %s and %s",
                                    sl_op_name(e->op), sl_type_name(a->type),
                                    sl_type_name(b->type));
            e->type = SL_BOOL;
            return 0;
        default:
            return sl_error_set(err, e->offset, "unknown operator");
        }
    }
    case SL_EX_FUNC:
        return type_func(e, err);
    case SL_EX_CASE:
        return type_case(e, err);
    case SL_EX_CAST: {
        if (type_args(e, 0, err) != 0)
            return -1;
        sl_type from = e->args[0]->type, to = e->cast_type;
        if (to == SL_NULL)
            return sl_error_set(err, e->offset, "unknown type in CAST");
        if (!castable(from, to)) {
            const char *hint = "";
            if (from == SL_TIMESTAMP && sl_type_is_numeric(to))
                hint = " (use EXTRACT(EPOCH FROM ...))";
            else if (sl_type_is_numeric(from) && to == SL_TIMESTAMP)
                hint = " (use TO_TIMESTAMP or TO_TIMESTAMP_MS)";
            return sl_error_set(err, e->offset, "cannot cast %s to %s%s",
                                sl_type_name(from), sl_type_name(to), hint);
        }
        e->type = to;
        return 0;
    }
    case SL_EX_IN:
    case SL_EX_BETWEEN: {
        if (type_args(e, 0, err) != 0)
            return -1;
        if (sl_xcoerce_ts(e->args, e->nargs, err) != 0)
            return -1;
        for (int i = 1; i < e->nargs; i++)
            if (!sl_xcomparable(e->args[0]->type, e->args[i]->type))
                return sl_error_set(err, e->args[i]->offset,
                                    "cannot compare %s with %s",
                                    sl_type_name(e->args[0]->type),
                                    sl_type_name(e->args[i]->type));
        if (e->kind == SL_EX_BETWEEN &&
            !sl_xcomparable(e->args[1]->type, e->args[2]->type))
            return sl_error_set(err, e->args[2]->offset,
                                "cannot compare %s with %s",
                                sl_type_name(e->args[1]->type),
                                sl_type_name(e->args[2]->type));
        e->type = SL_BOOL;
        return 0;
    }
    case SL_EX_LIKE: {
        if (type_args(e, 0, err) != 0)
            return -1;
        sl_type a = e->args[0]->type, b = e->args[1]->type;
        if ((a != SL_TEXT && a != SL_NULL) || (b != SL_TEXT && b != SL_NULL))
            return sl_error_set(err, e->offset,
                                "operator LIKE cannot take %s and %s",
                                sl_type_name(a), sl_type_name(b));
        e->type = SL_BOOL;
        return 0;
    }
    case SL_EX_ISNULL:
        if (type_args(e, 0, err) != 0)
            return -1;
        e->type = SL_BOOL;
        return 0;
    }
    return sl_error_set(err, e->offset, "unknown expression");
}

int sl_expr_type(sl_expr *e, sl_error *err)
{
    return type_expr(e, err);
}

/* ------------------------------------------------------------------------ */
/* compiling                                                                 */

static sl_xnode *compile(const sl_expr *e, sl_error *err);

sl_xnode *sl_xcompile_as(const sl_expr *e, sl_type want, sl_error *err)
{
    sl_xnode *n = compile(e, err);
    return n != NULL ? sl_xconvert(n, want) : NULL;
}

static int has_column(const sl_expr *e)
{
    if (e->kind == SL_EX_COLUMN || (e->kind == SL_EX_FUNC && e->is_agg))
        return 1;
    for (int i = 0; i < e->nargs; i++)
        if (has_column(e->args[i]))
            return 1;
    return 0;
}

static sl_xnode *compile_literal(const sl_expr *e, sl_error *err)
{
    sl_value v;
    memset(&v, 0, sizeof v);
    v.type = e->type;
    switch (e->type) {
    case SL_NULL:
        return make_null(SL_NULL);
    case SL_DOUBLE:
        v.u.d = e->lit_d;
        break;
    case SL_TEXT:
        v.u.s = (sl_str){e->lit_s, (int32_t)strlen(e->lit_s)};
        break;
    case SL_TIMESTAMP:
        if (e->lit_s != NULL &&
            sl_ts_parse(e->lit_s, strlen(e->lit_s), &v.u.i) != 0) {
            sl_error_set(err, e->offset, "invalid timestamp '%s'", e->lit_s);
            return NULL;
        }
        if (e->lit_s == NULL)
            v.u.i = e->lit_i;
        break;
    default:
        v.u.i = e->lit_i;
        break;
    }
    return make_const(e->type, &v);
}

static sl_xnode *compile_binary(const sl_expr *e, sl_error *err)
{
    const sl_expr *a = e->args[0], *b = e->args[1];
    sl_xnode *x, *y;
    switch (e->op) {
    case SL_OP_ADD: case SL_OP_SUB: case SL_OP_MUL: case SL_OP_DIV:
    case SL_OP_MOD: {
        if (e->type == SL_NULL || a->type == SL_NULL || b->type == SL_NULL)
            return make_null(e->type);
        sl_type want_a = a->type, want_b = b->type;
        if (e->type == SL_DOUBLE)
            want_a = want_b = SL_DOUBLE;
        x = sl_xcompile_as(a, want_a, err);
        y = x ? sl_xcompile_as(b, want_b, err) : NULL;
        if (y == NULL) {
            sl_xnode_free(x);
            return NULL;
        }
        return sl_xarith(e->op, x, y, e->type);
    }
    case SL_OP_CONCAT:
        x = sl_xcompile_as(a, SL_TEXT, err);
        y = x ? sl_xcompile_as(b, SL_TEXT, err) : NULL;
        if (y == NULL) {
            sl_xnode_free(x);
            return NULL;
        }
        {
            sl_xnode *n = sl_xnode_new(eval_concat, SL_TEXT, 2);
            n->kids[0] = x;
            n->kids[1] = y;
            return n;
        }
    case SL_OP_EQ: case SL_OP_NE: case SL_OP_LT: case SL_OP_LE:
    case SL_OP_GT: case SL_OP_GE: {
        sl_type ct = cmp_common(a->type, b->type);
        if (a->type == SL_NULL || b->type == SL_NULL)
            return make_null(SL_BOOL);
        x = sl_xcompile_as(a, ct, err);
        y = x ? sl_xcompile_as(b, ct, err) : NULL;
        if (y == NULL) {
            sl_xnode_free(x);
            return NULL;
        }
        return build_cmp(e->op, x, y);
    }
    case SL_OP_AND: case SL_OP_OR:
        x = sl_xcompile_as(a, SL_BOOL, err);
        y = x ? sl_xcompile_as(b, SL_BOOL, err) : NULL;
        if (y == NULL) {
            sl_xnode_free(x);
            return NULL;
        }
        return build_logic(e->op == SL_OP_AND ? eval_and : eval_or, x, y);
    default:
        sl_error_set(err, e->offset, "unknown operator");
        return NULL;
    }
}

static sl_xnode *compile_in(const sl_expr *e, sl_error *err)
{
    int negate = (e->flags & SL_EXF_NOT) != 0;
    sl_type ct = SL_NULL;
    for (int i = 0; i < e->nargs; i++)
        ct = cmp_common(ct, e->args[i]->type);
    if (e->args[0]->type == SL_NULL || ct == SL_NULL)
        return make_null(SL_BOOL);
    int nitems = e->nargs - 1;
    sl_xnode *lhs = sl_xcompile_as(e->args[0], ct, err);
    if (lhs == NULL)
        return NULL;
    sl_xnode **items = sl_xcalloc((size_t)nitems, sizeof *items);
    int all_const = 1;
    for (int k = 0; k < nitems; k++) {
        items[k] = sl_xcompile_as(e->args[k + 1], ct, err);
        if (items[k] == NULL) {
            for (int j = 0; j < k; j++)
                sl_xnode_free(items[j]);
            free(items);
            sl_xnode_free(lhs);
            return NULL;
        }
        all_const &= items[k]->is_const;
    }
    sl_xnode *n;
    if (all_const) {
        n = build_in_set(lhs, items, nitems, negate);
    } else {
        /* x IN (a, b, ...) is x = a OR x = b OR ...; x is evaluated once */
        n = NULL;
        for (int k = 0; k < nitems; k++) {
            sl_xnode *lk = k == 0 ? lhs : make_ref(lhs);
            sl_xnode *eq = build_cmp(SL_OP_EQ, lk, items[k]);
            n = n == NULL ? eq : build_logic(eval_or, n, eq);
        }
        if (negate)
            n = build_logic(eval_not, n, NULL);
    }
    free(items);
    return n;
}

static sl_xnode *compile_between(const sl_expr *e, sl_error *err)
{
    sl_type ct = SL_NULL;
    for (int i = 0; i < 3; i++)
        ct = cmp_common(ct, e->args[i]->type);
    if (e->args[0]->type == SL_NULL || ct == SL_NULL)
        return make_null(SL_BOOL);
    sl_xnode *x = sl_xcompile_as(e->args[0], ct, err);
    sl_xnode *lo = x ? sl_xcompile_as(e->args[1], ct, err) : NULL;
    sl_xnode *hi = lo ? sl_xcompile_as(e->args[2], ct, err) : NULL;
    if (hi == NULL) {
        sl_xnode_free(x);
        sl_xnode_free(lo);
        return NULL;
    }
    sl_xnode *xr = make_ref(x);
    sl_xnode *ge = build_cmp(SL_OP_GE, x, lo);
    sl_xnode *le = build_cmp(SL_OP_LE, xr, hi);
    sl_xnode *n = build_logic(eval_and, ge, le);
    if (e->flags & SL_EXF_NOT)
        n = build_logic(eval_not, n, NULL);
    return n;
}

static sl_xnode *compile_like(const sl_expr *e, sl_error *err)
{
    if (e->args[0]->type == SL_NULL || e->args[1]->type == SL_NULL)
        return make_null(SL_BOOL);
    sl_xnode *x = sl_xcompile_as(e->args[0], SL_TEXT, err);
    sl_xnode *p = x ? sl_xcompile_as(e->args[1], SL_TEXT, err) : NULL;
    if (p == NULL) {
        sl_xnode_free(x);
        return NULL;
    }
    sl_xnode *n = sl_xnode_new(eval_like_v, SL_BOOL, 2);
    n->kids[0] = x;
    n->kids[1] = p;
    n->op = (e->flags & SL_EXF_NOT) != 0;
    if (is_value_const(p)) {
        n->aux = sl_like_compile(p->cval.u.s.z, p->cval.u.s.n);
        n->aux_free = sl_like_free;
        n->eval = eval_like_c;
    }
    return n;
}

static sl_xnode *compile_case(const sl_expr *e, sl_error *err)
{
    int has_op = (e->flags & SL_EXF_OPERAND) != 0;
    int has_else = (e->flags & SL_EXF_ELSE) != 0;
    int first = has_op ? 1 : 0;
    int npairs = (e->nargs - first - has_else) / 2;
    sl_type rt = e->type;
    sl_type ct = SL_NULL;
    if (has_op) {
        ct = e->args[0]->type;
        for (int k = 0; k < npairs; k++)
            ct = cmp_common(ct, e->args[first + 2 * k]->type);
    }
    sl_xnode *n = sl_xnode_new(eval_case, rt, first + 2 * npairs + has_else);
    n->op = has_op;
    n->aux_i = has_else;
    int j = 0;
    if (has_op) {
        n->kids[j] = ct == SL_NULL ? make_null(SL_NULL)
                                   : sl_xcompile_as(e->args[0], ct, err);
        if (n->kids[j++] == NULL)
            goto fail;
    }
    for (int k = 0; k < npairs; k++) {
        const sl_expr *w = e->args[first + 2 * k];
        const sl_expr *t = e->args[first + 2 * k + 1];
        if (has_op) {
            if (ct == SL_NULL || w->type == SL_NULL ||
                e->args[0]->type == SL_NULL) {
                n->kids[j] = make_null(SL_BOOL);
            } else {
                sl_xnode *wv = sl_xcompile_as(w, ct, err);
                if (wv == NULL)
                    goto fail;
                n->kids[j] = build_cmp(SL_OP_EQ, make_ref(n->kids[0]), wv);
            }
        } else {
            n->kids[j] = sl_xcompile_as(w, SL_BOOL, err);
        }
        if (n->kids[j++] == NULL)
            goto fail;
        n->kids[j] = sl_xcompile_as(t, rt, err);
        if (n->kids[j++] == NULL)
            goto fail;
    }
    if (has_else) {
        n->kids[j] = sl_xcompile_as(e->args[e->nargs - 1], rt, err);
        if (n->kids[j++] == NULL)
            goto fail;
    }
    return n;
fail:
    sl_xnode_free(n);
    return NULL;
}

static sl_xnode *compile_node(const sl_expr *e, sl_error *err)
{
    sl_xnode *n, *x;
    switch (e->kind) {
    case SL_EX_LITERAL:
        return compile_literal(e, err);
    case SL_EX_COLUMN:
        if (e->col < 0) {
            sl_error_set(err, e->offset, "column %s is not bound",
                         e->name ? e->name : "?");
            return NULL;
        }
        n = sl_xnode_new(eval_column, e->type, 0);
        n->col = e->col;
        return n;
    case SL_EX_UNARY:
        if (e->op == SL_OP_NOT) {
            x = sl_xcompile_as(e->args[0], SL_BOOL, err);
            return x ? build_logic(eval_not, x, NULL) : NULL;
        }
        x = sl_xcompile_as(e->args[0], e->type, err);
        if (x == NULL || e->op == SL_OP_PLUS || e->type == SL_NULL)
            return x;
        n = sl_xnode_new(e->type == SL_DOUBLE ? dneg : ineg, e->type, 1);
        n->kids[0] = x;
        return n;
    case SL_EX_BINARY:
        return compile_binary(e, err);
    case SL_EX_FUNC: {
        const sl_fn_def *f = sl_fn_lookup(e->name);
        if (f == NULL || e->is_agg) {
            sl_error_set(err, e->offset, "function %s cannot be compiled here",
                         e->name);
            return NULL;
        }
        return f->build(e, err);
    }
    case SL_EX_CASE:
        return compile_case(e, err);
    case SL_EX_CAST:
        return sl_xcompile_as(e->args[0], e->cast_type, err);
    case SL_EX_IN:
        return compile_in(e, err);
    case SL_EX_BETWEEN:
        return compile_between(e, err);
    case SL_EX_LIKE:
        return compile_like(e, err);
    case SL_EX_ISNULL:
        x = compile(e->args[0], err);
        if (x == NULL)
            return NULL;
        n = sl_xnode_new(eval_isnull, SL_BOOL, 1);
        n->kids[0] = x;
        n->op = (e->flags & SL_EXF_NOT) != 0;
        return n;
    case SL_EX_STAR:
    case SL_EX_OVER:
        break;
    }
    sl_error_set(err, e->offset, "expression cannot be compiled");
    return NULL;
}

static sl_xnode *compile(const sl_expr *e, sl_error *err)
{
    sl_xnode *n = compile_node(e, err);
    if (n != NULL && !n->is_const && !has_column(e))
        n = fold(n);
    return n;
}

sl_cexpr *sl_cexpr_compile(const sl_expr *e, sl_error *err)
{
    sl_xnode *root = compile(e, err);
    if (root == NULL)
        return NULL;
    sl_cexpr *ce = sl_xcalloc(1, sizeof *ce);
    ce->root = root;
    return ce;
}

void sl_cexpr_free(sl_cexpr *ce)
{
    if (ce == NULL)
        return;
    sl_xnode_free(ce->root);
    free(ce);
}

sl_type sl_cexpr_type(const sl_cexpr *ce)
{
    return ce->root->type;
}

void sl_cexpr_eval(sl_cexpr *ce, const sl_batch *in, sl_column *out)
{
    ce->root->eval(ce->root, in, in->nrows);
    *out = ce->root->out;
    out->type = ce->root->type;
}

int sl_cexpr_eval_const(sl_cexpr *ce, sl_value *out)
{
    if (!ce->root->is_const)
        return -1;
    *out = ce->root->cval;
    out->type = ce->root->type;
    return 0;
}
