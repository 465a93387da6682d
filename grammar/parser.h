/*
** parser.h: the front end's entry points (lexer + lemon parser).
**
** Text -> tokens (grammar/lexer.re, re2c) -> AST (grammar/parse.y, lemon).
** Offsets in every node and error are absolute byte offsets in `text`, so a
** file of many statements reports errors at their file position.
*/
#ifndef SL_PARSER_H
#define SL_PARSER_H

#include "grammar/ast.h"
#include "engine/error.h"

/* Parses the next statement of text[0..len) starting at *pos (leading
** whitespace and comments are skipped).
**   returns 1: *out is a new statement (caller frees with sl_stmt_free);
**              *pos is just past its terminating ';' (or at len when the
**              last statement has no ';').
**   returns 0: only whitespace/comments remain; *out = NULL.
**   returns -1: syntax error; err holds the message and offset; *out = NULL;
**              *pos is just past the next ';' at top level (or len), so a
**              caller can go on with the following statement.
** Statements are terminated by ';'. */
int sl_parse_next(const char *text, int len, int *pos, sl_stmt **out,
                  sl_error *err);

/* Returns 1 when text holds at least one statement and every statement is
** terminated by a ';' outside strings, quoted identifiers and comments, with
** only whitespace/comments after the last one (the REPL uses it to decide
** whether to ask for another line); 0 otherwise. Never allocates. */
int sl_statement_complete(const char *text, int len);

/* The keywords of the dialect, upper-case, NULL-terminated (tab completion,
** docs). */
extern const char *const sl_keywords[];

#endif
