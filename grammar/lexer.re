/*
** lexer.re: sluice's tokenizer, a pure function over statement text
** (re2c 3.0 source; meson runs `re2c -W -Werror` to produce lexer.c).
**
** sl_get_token() looks at z[0..n), returns the length of the token there
** and stores its type: one of lemon's TK_* codes from the generated parse.h
** (the one token numbering of the front end), or SL_TK_SPACE /
** SL_TK_COMMENT / SL_TK_ILLEGAL from lexer.h. It never allocates and never
** reads z[n] or beyond: the generic re2c API peeks through a bounds check
** and the end of input is detected with re2c's "sentinel with bounds
** checks" method, so a NUL byte inside the text is an ordinary character.
**
** This file also owns the keyword table (the X-macro KEYWORDS below): it
** gives sl_keyword_code() and the sl_keywords[] array used for completion
** and docs. Which keywords are non-reserved (fall back to identifiers) is
** decided by `%fallback ID ...` in parse.y.
**
** Token classes: identifiers ([A-Za-z_] or any byte >= 0x80, then also
** digits and '$'), double-quoted identifiers ("" escapes a quote; returned
** as TK_ID, the parser unquotes), single-quoted strings ('' escape), numbers
** (TK_INTEGER: digits; TK_FLOAT: decimal point and/or exponent), `--` and
** C-style comments, and the operators || <> != <= >= = < > + - * / % ( ) , . ;
** An unterminated string, quoted identifier or comment is one SL_TK_ILLEGAL
** token running to the end of the text.
*/
#include <stdlib.h>
#include <string.h>
#include "grammar/lexer.h"
#include "grammar/parser.h"
#include "parse.h"

/* The one keyword table, kept in ASCII order (sl_keyword_code() does a
** binary search; tests/grammar/test_lexer.c checks every entry). */
#define KEYWORDS \
    X(ADVANCE) X(ALTER) X(AND) X(AS) X(ASC) X(BETWEEN) X(BY) X(CASE) X(CAST) \
    X(CHANGES) X(CLOSE) X(COPY) X(CREATE) X(DAY) X(DAYS) X(DELAY) X(DESC) \
    X(DESCRIBE) X(DISTINCT) X(DROP) X(ELSE) X(EMIT) X(END) X(EVERY) \
    X(EXISTS) X(EXPLAIN) X(EXTRACT) X(FALSE) X(FINAL) X(FOR) X(FROM) \
    X(GAP) X(GROUP) X(HAVING) X(HOPPING) X(HOUR) X(HOURS) X(IF) X(IN) \
    X(INNER) X(INSERT) X(INTERVAL) X(INTO) X(IS) X(JOIN) X(KEY) X(LEFT) \
    X(LIKE) X(LIMIT) X(MATERIALIZED) X(MILLISECOND) X(MILLISECONDS) \
    X(MINUTE) X(MINUTES) X(MONTH) X(MONTHS) X(NOT) X(NULL) X(ON) X(OR) \
    X(ORDER) X(OUTER) X(OVER) X(PARTITION) X(PRIMARY) X(QUALIFY) X(QUERIES) \
    X(REPLACE) X(RESUME) X(SECOND) \
    X(SECONDS) X(SELECT) X(SESSION) X(SET) X(SHOW) X(SINK) X(SINKS) X(SIZE) \
    X(SOURCE) X(SOURCES) X(STREAMING) X(TABLE) X(TABLES) X(THEN) \
    X(TIMESTAMP) X(TRUE) X(TUMBLING) X(VALUES) X(VIEW) X(VIEWS) \
    X(WATERMARK) X(WEEK) X(WEEKS) X(WHEN) X(WHERE) X(WINDOW) X(WITH) \
    X(YEAR) X(YEARS)

static const struct keyword {
    const char *name;
    int code;
} keyword_table[] = {
#define X(k) { #k, TK_##k },
    KEYWORDS
#undef X
};

const char *const sl_keywords[] = {
#define X(k) #k,
    KEYWORDS
#undef X
    NULL
};

#define NKEYWORDS ((int)(sizeof keyword_table / sizeof keyword_table[0]))
#define KEYWORD_MAX 16

int sl_keyword_code(const char *z, int n)
{
    char up[KEYWORD_MAX + 1];
    if (n <= 0 || n > KEYWORD_MAX)
        return 0;
    for (int i = 0; i < n; i++) {
        char c = z[i];
        up[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    up[n] = '\0';
    int lo = 0, hi = NKEYWORDS - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(up, keyword_table[mid].name);
        if (c == 0)
            return keyword_table[mid].code;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return 0;
}

int sl_get_token(const char *z, int n, int *type)
{
    const unsigned char *cur = (const unsigned char *)z;
    const unsigned char *lim = cur + (n > 0 ? n : 0);
    const unsigned char *mark = cur;
    const unsigned char *start = cur;

    if (n <= 0) {
        *type = SL_TK_ILLEGAL;
        return 0;
    }

#define LEN ((int)(cur - start))
#define REST ((int)(lim - start))

    /*!re2c
        re2c:api = custom;
        re2c:api:style = free-form;
        re2c:define:YYCTYPE = "unsigned char";
        re2c:define:YYPEEK = "(cur < lim ? *cur : 0)";
        re2c:define:YYSKIP = "++cur;";
        re2c:define:YYBACKUP = "mark = cur;";
        re2c:define:YYRESTORE = "cur = mark;";
        re2c:define:YYLESSTHAN = "(lim - cur) < @@{len}";
        re2c:yyfill:enable = 0;
        re2c:eof = 0;

        digit   = [0-9];
        idstart = [A-Za-z_\x80-\xff];
        idchar  = [A-Za-z0-9_$\x80-\xff];
        exp     = [eE] [+-]? digit+;

        $ { *type = SL_TK_ILLEGAL; return 0; }

        [ \t\r\n\f\v]+ { *type = SL_TK_SPACE; return LEN; }

        "--" [^\n]* { *type = SL_TK_COMMENT; return LEN; }
        "/*" ([^*] | "*"+ [^*/])* "*"+ "/" { *type = SL_TK_COMMENT; return LEN; }
        "/*" { *type = SL_TK_ILLEGAL; return REST; }

        "'" ([^'] | "''")* "'" { *type = TK_STRING; return LEN; }
        "'" { *type = SL_TK_ILLEGAL; return REST; }

        ["] ([^"] | ["]["])* ["] { *type = TK_ID; return LEN; }
        ["] { *type = SL_TK_ILLEGAL; return REST; }

        idstart idchar* {
            int kw = sl_keyword_code(z, LEN);
            *type = kw ? kw : TK_ID;
            return LEN;
        }

        digit+ { *type = TK_INTEGER; return LEN; }
        digit+ exp { *type = TK_FLOAT; return LEN; }
        digit+ "." digit* exp? { *type = TK_FLOAT; return LEN; }
        "." digit+ exp? { *type = TK_FLOAT; return LEN; }

        "||" { *type = TK_CONCAT; return LEN; }
        "<>" | "!=" { *type = TK_NE; return LEN; }
        "<=" { *type = TK_LE; return LEN; }
        ">=" { *type = TK_GE; return LEN; }
        "==" | "=" { *type = TK_EQ; return LEN; }
        "<" { *type = TK_LT; return LEN; }
        ">" { *type = TK_GT; return LEN; }
        "+" { *type = TK_PLUS; return LEN; }
        "-" { *type = TK_MINUS; return LEN; }
        "*" { *type = TK_STAR; return LEN; }
        "/" { *type = TK_SLASH; return LEN; }
        "%" { *type = TK_REM; return LEN; }
        "(" { *type = TK_LP; return LEN; }
        ")" { *type = TK_RP; return LEN; }
        "," { *type = TK_COMMA; return LEN; }
        "." { *type = TK_DOT; return LEN; }
        ";" { *type = TK_SEMI; return LEN; }

        * { *type = SL_TK_ILLEGAL; return 1; }
    */
#undef LEN
#undef REST
}
