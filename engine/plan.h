/*
** plan.h: the logical plan of a continuous or push query.
**
** The binder (binder.c) builds it from a SELECT and the catalog; EXPLAIN
** prints it (plan.c); the runtime (query.c) turns it into operators. The
** plan owns everything it points to.
**
** Row layouts the bound expressions refer to:
**   input row: the source's columns (declared, then pseudo-columns), then
**              the joined table's columns when there is a JOIN; for a
**              window join of two sources, the first source's columns, the
**              second's, then window_start and window_end (sl_plan_wjoin).
**   group row: for aggregate queries, [group keys..., window_start,
**              window_end, aggregate results...]; the select list and
**              HAVING are bound to it. A window Top-N (QUALIFY) has
**              [partition keys..., window_start, window_end, rank, kept
**              input columns...] instead (sl_plan_topn).
** Non-aggregate queries bind the select list to the input row.
*/
#ifndef SL_PLAN_H
#define SL_PLAN_H

#include "grammar/ast.h"
#include "engine/agg.h"
#include "engine/source.h"
#include "engine/topn.h"

typedef struct sl_plan_agg {
    const sl_agg_func *fn;
    sl_expr *arg;          /* bound to the input row; NULL for COUNT(*) */
    int distinct;
    sl_type result_type;
    char *sql;             /* "SUM(amount)", for EXPLAIN */
} sl_plan_agg;

typedef struct sl_plan_join {
    char *table;           /* the SQLite table joined */
    char *alias;
    int ncols;
    char **col_names;
    sl_type *col_types;
    int left_key;          /* input-row column of the stream side */
    int right_key;         /* column of the table */
    sl_join_kind kind;
} sl_plan_join;

/* A window join of two sources (FROM a JOIN b ON a.x = b.y ... WINDOW
** TUMBLING): the rows of both that fall in the same window and have equal
** keys are paired when the window closes (engine/op_wjoin.c). Side 0 is the
** FROM source (plan->src), side 1 the joined one. */
typedef struct sl_plan_wjoin {
    sl_source_def *right;  /* the joined source */
    char *right_alias;
    int col0[2];           /* each side's first input-row column */
    int nkeys;
    int *keys[2];          /* per side: its key columns, in its own layout */
    int time_col[2];       /* per side: its event-time column, own layout */
    int64_t delay_ms[2];   /* per side: its watermark delay */
    int window_col;        /* input-row window_start; window_end follows */
    sl_join_kind kind;     /* INNER, or LEFT: side 0's rows without a match
                              too, with NULLs for side 1's columns */
    /* the conjuncts of WHERE that read one side only, bound to that side's
    ** own layout: rows failing them are not kept (they still move their
    ** source's watermark). Under LEFT JOIN only side 0's (a side-1 test
    ** after the join also removes the NULL-extended rows). WHERE itself
    ** still runs after the join. */
    int nfilters[2];
    sl_expr **filters[2];
} sl_plan_wjoin;

/* A window Top-N (QUALIFY): the plan is an aggregate plan whose group keys
** are the PARTITION BY expressions and whose group row is [keys...,
** window_start, window_end, rank, kept input columns...], one row per kept
** input row. */
typedef struct sl_plan_topn {
    sl_topn_spec spec;     /* spec.carry_types points at carry_types */
    /* over groups (the query aggregates): each window's group rows are
    ** ranked when it closes; the group row is [keys..., window_start,
    ** window_end, rank, aggregates...], order and part are bound to it,
    ** and nothing is kept per row (carry is empty) */
    int of_groups;
    int npart;
    sl_expr **part;        /* PARTITION BY besides the window (over groups) */
    sl_expr *order;        /* ORDER BY of the window function, on the input
                              row (over groups: on the group row) */
    char *over_sql;        /* the window function as written (canonical) */
    char *sql;             /* QUALIFY as written, for EXPLAIN */
    int *carry;            /* input columns kept per row */
    sl_type *carry_types;
} sl_plan_topn;

/* Dedup without a window (DESIGN §2 rule 12): QUALIFY ROW_NUMBER() OVER
** (PARTITION BY keys ORDER BY <event time>) = 1, or SELECT DISTINCT (keyed
** by every selected column). Keeps per key the row with the smallest event
** time (ties: the first to arrive), emitted once the watermark passes it;
** the key is remembered until the watermark passes its time + within_ms
** (engine/op_dedup.c). Append-only; the plan stays row-by-row (not is_agg):
** the select list is bound to the input row and runs after the dedup. */
typedef struct sl_plan_dedup {
    int nkeys;
    sl_expr **keys;        /* bound to the input row */
    int64_t within_ms;     /* the query's dedup_within */
    int distinct;          /* SELECT DISTINCT (else QUALIFY) */
    char *sql;             /* QUALIFY as written, for EXPLAIN (NULL: DISTINCT) */
    char *over_sql;        /* its window function (canonical), selectable */
} sl_plan_dedup;

typedef struct sl_plan {
    sl_stmt_kind kind;     /* CREATE_MVIEW, CREATE_STABLE, CREATE_SINK, SELECT */
    char *name;            /* output name (NULL for a push query) */
    sl_source_def *src;
    char *src_alias;

    int ninput;            /* columns of the input row */
    char **input_names;
    sl_type *input_types;
    sl_plan_join *join;    /* or NULL */
    sl_plan_wjoin *wjoin;  /* or NULL */

    sl_expr *where;        /* bound to the input row, or NULL */

    sl_window_spec window;
    int event_time_col;    /* input column, -1 without event time */
    int64_t delay_ms;
    int watermark_from_query; /* 1: WATERMARK clause overrides the source */

    int is_agg;
    int ngroup;
    sl_expr **group;       /* bound to the input row */
    int nagg;
    sl_plan_agg *aggs;

    int nout;
    char **out_names;
    sl_type *out_types;
    sl_expr **out;         /* bound to the group row (aggregate) or input row */
    int nkey;              /* primary key of a materialised view */
    int *key_cols;         /* output columns forming it */
    sl_expr *having;       /* bound to the group row, or NULL */
    char *having_sql;      /* HAVING as written, for EXPLAIN */
    sl_plan_topn *topn;    /* QUALIFY, or NULL */
    sl_plan_dedup *dedup;  /* QUALIFY or DISTINCT without a window, or NULL */

    sl_emit_kind emit;     /* CHANGES or ON_WINDOW_CLOSE (DEFAULT resolved) */
    int64_t emit_every_ms;
    int64_t limit;         /* push queries; -1 none */

    /* sinks */
    const sl_stmt *sink_stmt;
} sl_plan;

typedef struct sl_session sl_session;

/* Binds the SELECT of stmt (a CREATE MATERIALIZED VIEW / STREAMING TABLE /
** SINK, or a push SELECT) against the session's catalog. Offsets in errors
** are those of stmt. Returns NULL with err set. */
sl_plan *sl_plan_bind(sl_session *s, const sl_stmt *stmt, sl_error *err);
void sl_plan_free(sl_plan *p);

/* Marks in used[0..ninput) the input-row columns the operators after a
** join read: WHERE, the group keys and aggregate arguments (or the select
** list of a row-by-row plan), QUALIFY's order and kept columns, the event
** time. A window join keeps only those of the rows it holds. */
void sl_plan_input_used(const sl_plan *p, uint8_t *used);

/* The operator DAG as text lines (EXPLAIN). malloc'd; the caller frees. */
char *sl_plan_explain(const sl_plan *p);

/* 1 when no group key can be NULL: each is a source column declared NOT
** NULL (whose NULLs the decoder rejects); window bounds never are. */
int sl_plan_key_not_null(const sl_plan *p);

/* The SQLite CREATE TABLE for the plan's output (materialised view:
** primary key; streaming table: none). sqlite3_malloc'd. A materialised
** view whose key cannot be NULL is a WITHOUT ROWID table: the rows live in
** the primary key's b-tree alone instead of a rowid table plus an index
** (SQLite forbids NULL in such a key, hence the condition). */
char *sl_plan_output_ddl(const sl_plan *p);
/* The output column of the i-th column (0 <= i < nkey) of the output
** table's primary key: window_start, window_end first (session windows:
** window_end, window_start), then the group keys (the order of its index,
** which writers sort rows by). */
int sl_plan_pk_col(const sl_plan *p, int i);

#endif
