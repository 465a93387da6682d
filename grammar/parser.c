/*
** parser.c: the front end's entry points (grammar/parser.h): split a text
** into statements, run the lexer over one statement and feed its tokens to
** the lemon parser (parse.y), and decide whether a text is complete.
**
** Owns the statement boundary rules: a statement ends at a ';' token (never
** one inside a string, quoted identifier or comment, since those are single
** tokens), or at the end of the text. Empty statements (a lone ';') are
** skipped. On an error, the position moves past the next ';' so a caller
** can report it and go on with the following statement. The parser itself
** is reentrant: all state lives in the lemon parser object and the
** sl_parse_ctx on this stack frame.
*/
#include <stdlib.h>
#include <string.h>
#include "grammar/parser.h"
#include "grammar/lexer.h"
#include "grammar/parse_ctx.h"
#include "parse.h"

/* Records the error for a token the lexer rejects. */
static void illegal_token(sl_parse_ctx *p, const char *z, int n, int offset)
{
    unsigned char c = (unsigned char)z[0];
    if (c == '\'')
        sl_error_set(p->err, offset, "unterminated string");
    else if (c == '"')
        sl_error_set(p->err, offset, "unterminated quoted identifier");
    else if (c == '/' && n >= 2 && z[1] == '*')
        sl_error_set(p->err, offset, "unterminated comment");
    else if (c >= 0x20 && c < 0x7f)
        sl_error_set(p->err, offset, "unexpected character '%c'", c);
    else
        sl_error_set(p->err, offset, "unexpected character '\\x%02x'", c);
    p->failed = 1;
}

/* From i, moves past the next ';' token (or to len). */
static int skip_statement(const char *text, int len, int i)
{
    while (i < len) {
        int type;
        int n = sl_get_token(text + i, len - i, &type);
        i += n;
        if (type == TK_SEMI)
            break;
    }
    return i;
}

static void feed(void *parser, sl_parse_ctx *p, int type, sl_token tok)
{
    p->tok_offset = tok.offset;
    sl_lemon(parser, type, tok, p);
}

int sl_parse_next(const char *text, int len, int *pos, sl_stmt **out,
                  sl_error *err)
{
    sl_error local;
    int i = *pos, type, n;

    *out = NULL;
    if (err == NULL)
        err = &local;
    sl_error_clear(err);

    /* Skip whitespace, comments and empty statements. */
    for (;;) {
        if (i >= len) {
            *pos = len;
            return 0;
        }
        n = sl_get_token(text + i, len - i, &type);
        if (type != SL_TK_SPACE && type != SL_TK_COMMENT && type != TK_SEMI)
            break;
        i += n;
    }

    sl_parse_ctx p;
    memset(&p, 0, sizeof p);
    p.text = text;
    p.len = len;
    p.err = err;
    p.prev_end = i;
    int start = i, last_end = i;
    void *parser = sl_lemonAlloc(malloc);
    if (parser == NULL)
        abort();

    for (;;) {
        sl_token tok;
        if (i >= len) {                      /* end of input, no ';' */
            tok.z = text + len;
            tok.n = 0;
            tok.offset = last_end;
            p.prev_end = last_end;
            feed(parser, &p, 0, tok);
            break;
        }
        n = sl_get_token(text + i, len - i, &type);
        if (type == SL_TK_SPACE || type == SL_TK_COMMENT) {
            i += n;
            continue;
        }
        if (type == SL_TK_ILLEGAL) {
            illegal_token(&p, text + i, n, i);
            i = skip_statement(text, len, i + n);
            break;
        }
        tok.z = text + i;
        tok.n = n;
        tok.offset = i;
        p.prev_end = last_end;
        feed(parser, &p, type, tok);
        if (type == TK_SEMI) {
            i += n;
            if (!p.failed) {
                tok.z = text + i;
                tok.n = 0;
                tok.offset = i;
                p.prev_end = i;
                feed(parser, &p, 0, tok);
            }
            break;
        }
        i += n;
        if (p.failed) {
            i = skip_statement(text, len, i);
            break;
        }
        last_end = i;
    }
    sl_lemonFree(parser, free);

    if (p.failed || p.result == NULL) {
        if (!err->set)
            sl_error_set(err, last_end, "syntax error at end of input");
        sl_stmt_free(p.result);
        *pos = i;
        return -1;
    }
    p.result->offset = start;
    p.result->end = last_end;
    if (p.result->inner != NULL)
        p.result->inner->end = last_end;
    *out = p.result;
    *pos = i;
    return 1;
}

int sl_statement_complete(const char *text, int len)
{
    int i = 0, complete = 0;
    while (i < len) {
        int type;
        int n = sl_get_token(text + i, len - i, &type);
        if (type == SL_TK_ILLEGAL &&
            (text[i] == '\'' || text[i] == '"' || text[i] == '/'))
            return 0;                        /* unterminated string/comment */
        if (type == TK_SEMI)
            complete = 1;
        else if (type != SL_TK_SPACE && type != SL_TK_COMMENT)
            complete = 0;
        i += n;
    }
    return complete;
}
