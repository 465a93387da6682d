/*
** expr.h: typing and compiling scalar expressions.
**
** The binder resolves names: every SL_EX_COLUMN node gets `col` (its index
** in the input batch) and `type` (that column's type), and every aggregate
** call has already been replaced by such a column reference. Then:
**
**   sl_expr_type()      infers and checks the type of every other node, in
**                       place, and reports type errors at their position;
**   sl_cexpr_compile()  turns the typed tree into an evaluator, once per
**                       query, so no AST is walked per record;
**   sl_cexpr_eval()     evaluates it over a whole batch (vectorised: one
**                       pass per node over all rows), with SQL NULL
**                       semantics and three-valued logic.
**
** Type rules: BIGINT op BIGINT -> BIGINT (/ is integer division, x/0 is NULL),
** mixed with DOUBLE -> DOUBLE; TIMESTAMP +/- INTERVAL -> TIMESTAMP;
** TIMESTAMP - TIMESTAMP -> INTERVAL; INTERVAL +/- INTERVAL -> INTERVAL;
** INTERVAL * BIGINT -> INTERVAL; comparisons need comparable types (numbers
** with numbers, TEXT with TEXT, TIMESTAMP with TIMESTAMP, where a TEXT literal
** compared with a TIMESTAMP is converted once at compile time); || takes any
** types and yields TEXT; AND/OR/NOT take BOOLEAN; LIKE takes TEXT (% and _
** wildcards, case-sensitive, as in PostgreSQL); CASE/COALESCE branches unify
** to one type (BIGINT with DOUBLE -> DOUBLE, NULL with anything).
** Functions (case-insensitive names): COALESCE, NULLIF, LOWER, UPPER, LENGTH,
** SUBSTR/SUBSTRING (1-based, like SQLite), TRIM, LTRIM, RTRIM, REPLACE, ABS,
** ROUND(x[, digits]), FLOOR, CEIL/CEILING, POWER, SQRT, MOD, GREATEST, LEAST,
** DATE_TRUNC('second'|'minute'|'hour'|'day'|'week'|'month'|'year', ts),
** EXTRACT(field FROM ts) (parsed as extract('FIELD', ts): YEAR, MONTH, DAY,
** HOUR, MINUTE, SECOND, MILLISECOND, DOW, DOY, EPOCH) -> BIGINT (EPOCH: seconds),
** TO_TIMESTAMP(epoch seconds) and TO_TIMESTAMP_MS(epoch ms) -> TIMESTAMP,
** NOW() is not offered (results must not depend on wall-clock time).
** CAST between every pair of types where it makes sense; a failed CAST
** of TEXT (CAST('abc' AS BIGINT)) yields NULL.
*/
#ifndef SL_EXPR_H
#define SL_EXPR_H

#include "grammar/ast.h"
#include "engine/batch.h"
#include "engine/error.h"

/* Infers e->type for every node under e whose type is not yet set by the
** binder (COLUMN nodes keep theirs). Returns 0, or -1 with err at the
** offending node ("cannot compare TEXT with BIGINT", "unknown function
** foo", "function round takes 1 or 2 arguments", "aggregate function count
** is not allowed here"). May rewrite literal nodes in place (TEXT literal
** compared with TIMESTAMP becomes a TIMESTAMP literal; a bad timestamp text is
** an error at the literal). Aggregate calls (COUNT, SUM, AVG, MIN, MAX)
** still present are an error: the binder removes those it allows. */
int sl_expr_type(sl_expr *e, sl_error *err);

/* 1 when name (case-insensitive) is an aggregate function: count, sum, avg,
** min, max. */
int sl_is_aggregate_name(const char *name);

typedef struct sl_cexpr sl_cexpr;

/* Compiles a typed expression. The result does not point into e (literals
** are copied), so e may be freed afterwards. Returns NULL and sets err on a
** compile-time error (a bad DATE_TRUNC unit given as a literal, ...). */
sl_cexpr *sl_cexpr_compile(const sl_expr *e, sl_error *err);
void sl_cexpr_free(sl_cexpr *ce);
sl_type sl_cexpr_type(const sl_cexpr *ce);

/* Evaluates ce over rows [0, in->nrows) of in. *out receives a column view
** of ce's type: its arrays belong to ce (or alias in's arrays for a bare
** column reference) and stay valid until the next eval of ce or until in
** changes. Text results live in ce's own arena, reset at each eval.
** Never fails: runtime errors (division by zero, overflow, a bad cast) give
** NULL for that row, as in SQLite. */
void sl_cexpr_eval(sl_cexpr *ce, const sl_batch *in, sl_column *out);

/* Evaluates a constant expression (no column references) to one value.
** Text results point into ce. Returns 0, or -1 when ce is not constant. */
int sl_cexpr_eval_const(sl_cexpr *ce, sl_value *out);

#endif
