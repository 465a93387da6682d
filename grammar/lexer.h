/*
** lexer.h: the tokenizer, a pure function over statement text.
**
** sl_get_token() returns the length of the token at z (never 0 for n > 0)
** and stores its type in *type: one of lemon's TK_* codes from the generated
** parse.h, or one of the pseudo-types below for things the parser never sees.
** It never allocates (like SQLite's sqlite3GetToken).
*/
#ifndef SL_LEXER_H
#define SL_LEXER_H

/* Pseudo token types, above every TK_* code. */
#define SL_TK_SPACE   1000   /* whitespace */
#define SL_TK_COMMENT 1001   /* -- ... or / * ... * / */
#define SL_TK_ILLEGAL 1002   /* a character that starts no token, or an
                                unterminated string/comment/quoted id */

int sl_get_token(const char *z, int n, int *type);

/* For identifiers that are keywords: returns the TK_* code of the keyword
** z[0..n) (case-insensitive), or 0 when it is not a keyword. */
int sl_keyword_code(const char *z, int n);

#endif
