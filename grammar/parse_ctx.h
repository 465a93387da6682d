/*
** parse_ctx.h: what grammar/parser.c and the lemon grammar (parse.y) share,
** private to grammar/.
**
** sl_token is the minor value of every terminal: a view into the text
** (never owned, never copied until an action keeps it). sl_parse_ctx is
** lemon's %extra_argument: the text, where errors go, the statement once
** accepted, and the end of the last token fed before the current one (every
** reduction lemon performs while a token is being fed covers text that ends
** there, which is how selects and statements get their `end`).
** The lemon entry points (prefix sl_lemon) are declared here because lemon
** writes no prototypes into parse.h.
*/
#ifndef SL_PARSE_CTX_H
#define SL_PARSE_CTX_H

#include <stddef.h>
#include "grammar/ast.h"
#include "engine/error.h"

typedef struct sl_token {
    const char *z;     /* first byte, in the statement text */
    int n;             /* length in bytes */
    int offset;        /* absolute byte offset of z in the text */
} sl_token;

typedef struct sl_parse_ctx {
    const char *text;
    int len;
    sl_error *err;
    int failed;        /* a syntax or semantic error was recorded */
    int prev_end;      /* end of the token fed before the current one */
    int tok_offset;    /* offset of the token being fed */
    sl_stmt *result;   /* set when the statement is accepted */
} sl_parse_ctx;

void *sl_lemonAlloc(void *(*alloc)(size_t));
void sl_lemonFree(void *parser, void (*release)(void *));
void sl_lemon(void *parser, int major, sl_token minor, sl_parse_ctx *ctx);

#endif
