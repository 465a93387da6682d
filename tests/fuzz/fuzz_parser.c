/*
** fuzz_parser.c: libFuzzer target for the front end (lexer + parser + AST).
**
** Parses the input as a text of statements with sl_parse_next until the end,
** and for every statement exercises the AST text forms (sl_stmt_dump,
** sl_expr_to_sql of each select item, sl_expr_dup) before freeing it. Also
** asks sl_statement_complete. Invariants checked with abort(): the position
** always moves forward and stays within the text, statement spans lie inside
** the text, and errors carry an offset within it. It must never crash or
** leak (run under ASan/UBSan).
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "grammar/parser.h"

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_parser: invariant broken: %s\n", what);
        abort();
    }
}

static void exercise_select(const sl_select *sel)
{
    if (sel == NULL)
        return;
    for (int i = 0; i < sel->nitems; i++) {
        char *sql = sl_expr_to_sql(sel->items[i].expr);
        sl_expr *d = sl_expr_dup(sel->items[i].expr);
        char *again = sl_expr_to_sql(d);
        check(strcmp(sql, again) == 0, "sl_expr_dup changes the SQL text");
        free(sql);
        free(again);
        sl_expr_free(d);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    const char *text = (const char *)data;
    int len = (int)size;
    int pos = 0;
    (void)sl_statement_complete(text, len);
    for (;;) {
        sl_stmt *s = NULL;
        sl_error err;
        int before = pos;
        int rc = sl_parse_next(text, len, &pos, &s, &err);
        check(pos >= before && pos <= len, "position moved backwards or past the end");
        if (rc == 0) {
            check(s == NULL, "statement returned at end");
            break;
        }
        if (rc < 0) {
            check(s == NULL, "statement returned with an error");
            check(err.set && err.offset >= 0 && err.offset <= len, "error offset");
            check(pos > before, "no progress after an error");
            continue;
        }
        check(s != NULL, "no statement");
        check(s->offset >= before && s->offset <= s->end && s->end <= pos,
              "statement span");
        char *d = sl_stmt_dump(s);
        free(d);
        exercise_select(s->select);
        if (s->inner != NULL)
            exercise_select(s->inner->select);
        sl_stmt_free(s);
    }
    return 0;
}
