/*
** ast.h: the abstract syntax tree of sluice's dialect (DESIGN §2).
**
** The parser (grammar/parse.y) builds these nodes; the binder
** (engine/binder.c) annotates expressions in place with their type and the
** column or aggregate they resolve to; the planner reads them. Nothing walks
** the AST per record.
**
** Ownership: every pointer in a node is owned by that node (strings are
** heap copies, children are owned) and freed by sl_stmt_free /
** sl_expr_free / sl_select_free. Builders take ownership of their arguments
** even when they fail, so grammar actions need no cleanup branches.
**
** Positions: every node carries `offset`, the byte offset in the statement
** text where it starts (absolute in the text given to the parser), so any
** error can point at it.
*/
#ifndef SL_AST_H
#define SL_AST_H

#include <stdint.h>
#include "engine/value.h"

/* ---- expressions -------------------------------------------------------- */

typedef enum sl_expr_kind {
    SL_EX_LITERAL,   /* lit_type + lit_i / lit_d / lit_s; NULL literal: lit_type SL_NULL */
    SL_EX_COLUMN,    /* [qualifier.]name */
    SL_EX_STAR,      /* `*` or `qualifier.*` in a select list */
    SL_EX_UNARY,     /* op in {SL_OP_NEG, SL_OP_NOT, SL_OP_PLUS}; args[0] */
    SL_EX_BINARY,    /* op; args[0] op args[1] */
    SL_EX_FUNC,      /* name(args...); flags SL_EXF_DISTINCT, SL_EXF_STAR (COUNT(*)) */
    SL_EX_CASE,      /* args: [operand if SL_EXF_OPERAND] (when, then)* [else if SL_EXF_ELSE] */
    SL_EX_CAST,      /* CAST(args[0] AS cast_type) */
    SL_EX_IN,        /* args[0] [NOT] IN (args[1..]) ; SL_EXF_NOT */
    SL_EX_BETWEEN,   /* args[0] [NOT] BETWEEN args[1] AND args[2]; SL_EXF_NOT */
    SL_EX_LIKE,      /* args[0] [NOT] LIKE args[1]; SL_EXF_NOT */
    SL_EX_ISNULL,    /* args[0] IS [NOT] NULL; SL_EXF_NOT */
    SL_EX_OVER       /* name() OVER (PARTITION BY args[1..] ORDER BY args[0]
                     ** [DESC: SL_EXF_DESC]): a ranking window function */
} sl_expr_kind;

typedef enum sl_op {
    SL_OP_NONE = 0,
    SL_OP_NEG, SL_OP_PLUS, SL_OP_NOT,
    SL_OP_ADD, SL_OP_SUB, SL_OP_MUL, SL_OP_DIV, SL_OP_MOD, SL_OP_CONCAT,
    SL_OP_EQ, SL_OP_NE, SL_OP_LT, SL_OP_LE, SL_OP_GT, SL_OP_GE,
    SL_OP_AND, SL_OP_OR
} sl_op;

#define SL_EXF_NOT      0x01
#define SL_EXF_DISTINCT 0x02
#define SL_EXF_STAR     0x04   /* COUNT(*) */
#define SL_EXF_OPERAND  0x08   /* CASE x WHEN ... */
#define SL_EXF_ELSE     0x10   /* CASE ... ELSE ... */
#define SL_EXF_DESC     0x20   /* OVER (... ORDER BY x DESC) */

typedef struct sl_expr sl_expr;
struct sl_expr {
    sl_expr_kind kind;
    sl_op op;
    int flags;
    int offset;            /* byte offset of the first character */
    int end;               /* byte offset just past the last character */

    char *name;            /* COLUMN: column name; FUNC: function name (as written) */
    char *qualifier;       /* COLUMN / STAR: relation name or alias, or NULL */

    sl_expr **args;        /* children, owned */
    int nargs;
    int height;            /* 1 for a leaf, else 1 + the tallest child's;
                           ** kept by sl_expr_add_arg */

    sl_type cast_type;     /* CAST target */

    /* LITERAL. TEXT literals have lit_s (unescaped, NUL-terminated). INTERVAL
    ** literals are lit_type SL_INTERVAL with lit_i in milliseconds.
    ** `TIMESTAMP '...'` literals are lit_type SL_TIMESTAMP with the text in
    ** lit_s (the binder converts it and reports a bad one). BOOLEAN: lit_i. */
    sl_type lit_type;
    int64_t lit_i;
    double lit_d;
    char *lit_s;

    /* Filled in by the binder. */
    sl_type type;          /* result type (SL_NULL for the NULL literal) */
    int col;               /* COLUMN: index in the input row; aggregate FUNC: slot; else -1 */
    int is_agg;            /* FUNC: 1 when an aggregate function */
};

/* The tallest expression the parser accepts (SQLite's SQLITE_MAX_EXPR_DEPTH):
** a flat chain `a + b + ...` is a tree as tall as it has operators, and every
** walk over expressions (binding, typing, compiling, printing, freeing)
** recurses into it, so this bound is what keeps those walks off the end of
** the stack. Nesting by parentheses, NOT or CASE is bounded by the parser's
** own stack before it gets here. */
#define SL_EXPR_HEIGHT_MAX 1000

/* ---- SELECT ------------------------------------------------------------- */

typedef struct sl_select_item {
    sl_expr *expr;         /* SL_EX_STAR for `*` / `t.*` */
    char *alias;           /* AS alias, or NULL */
    int offset;
} sl_select_item;

typedef struct sl_table_ref {
    char *name;
    char *alias;           /* or NULL */
    int offset;
} sl_table_ref;

typedef enum sl_join_kind { SL_JOIN_INNER, SL_JOIN_LEFT } sl_join_kind;

typedef struct sl_join {
    sl_join_kind kind;
    sl_table_ref table;
    sl_expr *on;           /* ON condition, owned */
    int offset;
} sl_join;

typedef enum sl_window_kind {
    SL_WIN_NONE = 0, SL_WIN_TUMBLING, SL_WIN_HOPPING, SL_WIN_SESSION
} sl_window_kind;

typedef struct sl_window_spec {
    sl_window_kind kind;
    int64_t size_ms;       /* TUMBLING, HOPPING */
    int64_t advance_ms;    /* HOPPING */
    int64_t gap_ms;        /* SESSION */
    int offset;            /* of the WINDOW keyword */
} sl_window_spec;

typedef struct sl_watermark_clause {
    int present;
    char *column;          /* WATERMARK column DELAY interval */
    int64_t delay_ms;
    int offset;
    int column_offset;
} sl_watermark_clause;

typedef enum sl_emit_kind {
    SL_EMIT_DEFAULT = 0,   /* no EMIT clause: behaves as CHANGES */
    SL_EMIT_CHANGES,
    SL_EMIT_ON_WINDOW_CLOSE  /* also written EMIT FINAL */
} sl_emit_kind;

typedef struct sl_emit_clause {
    sl_emit_kind kind;
    int64_t every_ms;      /* EMIT CHANGES EVERY d; 0 when absent */
    int offset;
} sl_emit_clause;

typedef struct sl_order_item {
    sl_expr *expr;
    int desc;
} sl_order_item;

typedef struct sl_select {
    int distinct;
    sl_select_item *items;
    int nitems;

    int has_from;
    sl_table_ref from;
    sl_join *joins;
    int njoins;

    sl_expr *where;
    sl_window_spec window;
    sl_watermark_clause watermark;
    sl_expr **group_by;
    int ngroup;
    sl_expr *having;
    sl_expr *qualify;      /* QUALIFY condition, or NULL */
    sl_emit_clause emit;
    sl_order_item *order_by;
    int norder;
    sl_expr *limit;        /* or NULL */

    int offset;            /* of SELECT */
    int end;
} sl_select;

/* ---- statements --------------------------------------------------------- */

typedef enum sl_stmt_kind {
    SL_ST_CREATE_SOURCE,
    SL_ST_CREATE_TABLE,
    SL_ST_CREATE_VIEW,            /* plain SQLite view */
    SL_ST_CREATE_MVIEW,           /* MATERIALIZED VIEW */
    SL_ST_CREATE_STABLE,          /* STREAMING TABLE */
    SL_ST_CREATE_SINK,
    SL_ST_SELECT,
    SL_ST_INSERT,
    SL_ST_COPY,
    SL_ST_SHOW,
    SL_ST_DESCRIBE,
    SL_ST_EXPLAIN,
    SL_ST_DROP,
    SL_ST_ALTER_RESUME,           /* ALTER <kind> name RESUME */
    SL_ST_SET                     /* SET name = value (opts[0]) */
} sl_stmt_kind;

/* Object kinds, for DROP and SHOW. */
typedef enum sl_object_kind {
    SL_OBJ_ANY = 0,               /* DROP name (not used by the grammar) */
    SL_OBJ_SOURCE,
    SL_OBJ_TABLE,
    SL_OBJ_VIEW,
    SL_OBJ_MVIEW,
    SL_OBJ_STABLE,
    SL_OBJ_SINK,
    SL_OBJ_QUERY                  /* SHOW QUERIES */
} sl_object_kind;

typedef struct sl_option {
    char *key;             /* lower-cased unless it was quoted ('kafka.x') */
    char *value;           /* the value as text: 'x' -> x, true -> true, 10 -> 10 */
    sl_type value_type;    /* SL_TEXT, SL_BOOL, SL_BIGINT, SL_DOUBLE */
    int offset;            /* of the key */
    int value_offset;
} sl_option;

typedef struct sl_column_def {
    char *name;
    sl_type type;          /* SL_NULL when the type name is not one of sluice's */
    char *type_name;       /* as written, e.g. "VARCHAR(20)" -> "VARCHAR" */
    int primary_key;
    int not_null;
    int offset;
    int type_offset;
} sl_column_def;

typedef struct sl_stmt sl_stmt;
struct sl_stmt {
    sl_stmt_kind kind;
    int offset;            /* first byte of the statement */
    int end;               /* just past its last token, before the ';' */

    char *name;            /* object name (CREATE, DROP, DESCRIBE, INSERT, COPY) */
    int name_offset;
    int if_not_exists;
    int or_replace;
    int if_exists;         /* DROP ... IF EXISTS */
    sl_object_kind object; /* DROP and SHOW: which kind */

    /* CREATE SOURCE / CREATE TABLE */
    sl_column_def *cols;
    int ncols;
    char **pk_cols;        /* CREATE TABLE ... PRIMARY KEY (a, b) */
    int npk;
    char *watermark_col;   /* CREATE SOURCE: WATERMARK FOR col AS expr */
    sl_expr *watermark_expr;
    int watermark_offset;

    /* WITH (...) of CREATE SOURCE / CREATE SINK / COPY */
    sl_option *opts;
    int nopts;

    /* CREATE VIEW / MATERIALIZED VIEW / STREAMING TABLE / SINK, SELECT,
    ** INSERT ... SELECT */
    sl_select *select;

    /* INSERT INTO name [(cols)] VALUES (...), (...) */
    char **insert_cols;
    int ninsert_cols;
    sl_expr ***rows;       /* rows[r][c] */
    int *row_lens;
    int nrows;

    /* COPY name FROM 'path' */
    char *path;
    int path_offset;

    /* EXPLAIN <stmt> */
    sl_stmt *inner;
};

/* ---- builders and destructors (grammar/ast.c) --------------------------- */

sl_expr *sl_expr_new(sl_expr_kind kind, int offset);
/* Appends child to e->args (takes ownership of child). Returns e. */
sl_expr *sl_expr_add_arg(sl_expr *e, sl_expr *child);
void sl_expr_free(sl_expr *e);
/* Deep copy; aborts on OOM. */
sl_expr *sl_expr_dup(const sl_expr *e);

sl_select *sl_select_new(int offset);
void sl_select_free(sl_select *s);

sl_stmt *sl_stmt_new(sl_stmt_kind kind, int offset);
void sl_stmt_free(sl_stmt *s);

/* Returns the option's value for key (case-insensitive), or NULL. */
const sl_option *sl_stmt_option(const sl_stmt *s, const char *key);

/* The operator as written in SQL ("+", "<>", "NOT", "AND", "||"). */
const char *sl_op_name(sl_op op);

/* Writes e back as SQL text (canonical spelling, fully parenthesised where
** needed) into a malloc'd string the caller frees. Used for EXPLAIN, default
** column names and tests. */
char *sl_expr_to_sql(const sl_expr *e);

/* A one-line, S-expression dump of a statement for parser tests, e.g.
** (create-mview revenue (select (items ...) (from orders) (window tumbling 60000) ...)).
** malloc'd; the caller frees. */
char *sl_stmt_dump(const sl_stmt *s);

#endif
