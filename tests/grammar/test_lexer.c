/*
** test_lexer.c: TAP unit tests of grammar/lexer.re (sl_get_token,
** sl_keyword_code, sl_keywords).
**
** Pins every token class and its length, case-insensitive keywords,
** comments, quoted identifiers and strings with doubled quotes, that
** unterminated strings/comments/identifiers are one ILLEGAL token running
** to the end, and that the lexer never reads past n.
*/
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "grammar/lexer.h"
#include "grammar/parser.h"
#include "parse.h"

/* The first token of s: its type and length. */
static void tok(const char *s, int want_type, int want_len, const char *name)
{
    int type = -1;
    int n = sl_get_token(s, (int)strlen(s), &type);
    int good = (type == want_type && n == want_len);
    ok(good, "%s", name);
    if (!good)
        printf("#   got type %d len %d, want type %d len %d\n", type, n,
               want_type, want_len);
}

/* Token types of s, skipping spaces and comments, into out; returns count. */
static int types(const char *s, int *out, int max)
{
    int i = 0, k = 0, len = (int)strlen(s);
    while (i < len && k < max) {
        int type;
        int n = sl_get_token(s + i, len - i, &type);
        if (n <= 0)
            return -1;
        if (type != SL_TK_SPACE && type != SL_TK_COMMENT)
            out[k++] = type;
        i += n;
    }
    return k;
}

int main(void)
{
    /* identifiers and keywords */
    tok("orders x", TK_ID, 6, "identifier");
    tok("_a1$b+", TK_ID, 5, "identifier with digits, _ and $");
    tok("caf\xc3\xa9 ", TK_ID, 5, "UTF-8 identifier");
    tok("SELECT *", TK_SELECT, 6, "keyword upper");
    tok("select *", TK_SELECT, 6, "keyword lower");
    tok("SeLeCt *", TK_SELECT, 6, "keyword mixed case");
    tok("selection", TK_ID, 9, "keyword prefix is an identifier");
    tok("window", TK_WINDOW, 6, "non-reserved keyword still lexes as keyword");
    tok("QUALIFY a", TK_QUALIFY, 7, "QUALIFY keyword");
    tok("over (", TK_OVER, 4, "OVER keyword");
    tok("Partition by", TK_PARTITION, 9, "PARTITION keyword");
    tok("overs", TK_ID, 5, "OVER prefix is an identifier");
    tok("\"my col\" x", TK_ID, 8, "quoted identifier");
    tok("\"a\"\"b\" x", TK_ID, 6, "quoted identifier with \"\" escape");
    tok("\"select\"", TK_ID, 8, "quoted keyword is an identifier");

    /* strings */
    tok("'abc' x", TK_STRING, 5, "string");
    tok("'it''s' x", TK_STRING, 7, "string with '' escape");
    tok("'' x", TK_STRING, 2, "empty string");
    tok("'a\nb'", TK_STRING, 5, "string spanning lines");
    tok("'abc", SL_TK_ILLEGAL, 4, "unterminated string is ILLEGAL to the end");
    tok("'it''s", TK_STRING, 4, "'it' then a quote: the string ends at 'it'");
    tok("'it''' x", TK_STRING, 6, "string ending in an escaped quote");
    tok("\"abc", SL_TK_ILLEGAL, 4, "unterminated quoted identifier");

    /* numbers */
    tok("42 ", TK_INTEGER, 2, "integer");
    tok("0", TK_INTEGER, 1, "zero");
    tok("3.14 ", TK_FLOAT, 4, "decimal");
    tok("3. ", TK_FLOAT, 2, "decimal without fraction digits");
    tok(".5 ", TK_FLOAT, 2, "decimal without integer digits");
    tok("1e10 ", TK_FLOAT, 4, "exponent");
    tok("1.5E-3 ", TK_FLOAT, 6, "decimal with signed exponent");
    tok("2e+2 ", TK_FLOAT, 4, "exponent with plus");
    tok("1e ", TK_INTEGER, 1, "dangling e is not an exponent");

    /* comments and whitespace */
    tok("  \t\n x", SL_TK_SPACE, 5, "whitespace");
    tok("-- hi\nx", SL_TK_COMMENT, 5, "line comment stops before newline");
    tok("-- to the end", SL_TK_COMMENT, 13, "line comment at end of text");
    tok("/* a * b */x", SL_TK_COMMENT, 11, "block comment");
    tok("/* a **/x", SL_TK_COMMENT, 8, "block comment ending in **/");
    tok("/* a\n b */", SL_TK_COMMENT, 10, "block comment spanning lines");
    tok("/* open", SL_TK_ILLEGAL, 7, "unterminated comment");

    /* operators */
    tok("||", TK_CONCAT, 2, "concat");
    tok("<>", TK_NE, 2, "not equal <>");
    tok("!=", TK_NE, 2, "not equal !=");
    tok("<=", TK_LE, 2, "less or equal");
    tok(">=", TK_GE, 2, "greater or equal");
    tok("=", TK_EQ, 1, "equal");
    tok("< 1", TK_LT, 1, "less");
    tok("> 1", TK_GT, 1, "greater");
    tok("+", TK_PLUS, 1, "plus");
    tok("- 1", TK_MINUS, 1, "minus");
    tok("*", TK_STAR, 1, "star");
    tok("/ 2", TK_SLASH, 1, "slash");
    tok("%", TK_REM, 1, "percent");
    tok("(", TK_LP, 1, "left paren");
    tok(")", TK_RP, 1, "right paren");
    tok(",", TK_COMMA, 1, "comma");
    tok(".", TK_DOT, 1, "dot");
    tok(";", TK_SEMI, 1, "semicolon");
    tok("#", SL_TK_ILLEGAL, 1, "unexpected character");
    tok("!x", SL_TK_ILLEGAL, 1, "lone !");
    tok("|x", SL_TK_ILLEGAL, 1, "lone |");

    /* a whole statement */
    {
        int t[32];
        int n = types("SELECT a.b, 'x' || c FROM t -- c\nWHERE x <> 1.5;", t, 32);
        int want[] = {TK_SELECT, TK_ID, TK_DOT, TK_ID, TK_COMMA, TK_STRING,
                      TK_CONCAT, TK_ID, TK_FROM, TK_ID, TK_WHERE, TK_ID,
                      TK_NE, TK_FLOAT, TK_SEMI};
        int same = n == (int)(sizeof want / sizeof want[0]) &&
                   memcmp(t, want, sizeof want) == 0;
        ok(same, "token sequence of a statement (%d tokens)", n);
    }

    /* never reads past n: the text continues but n stops early */
    {
        int type;
        is_int(sl_get_token("abcdef", 3, &type), 3, "identifier cut at n");
        is_int(sl_get_token("'abc'", 3, &type), 3, "string cut at n is ...");
        is_int(type, SL_TK_ILLEGAL, "... unterminated");
        is_int(sl_get_token("12345", 2, &type), 2, "number cut at n");
        is_int(sl_get_token("<=", 1, &type), 1, "operator cut at n ...");
        is_int(type, TK_LT, "... is the shorter operator");
        char nul[] = {'\'', 'a', '\0', 'b', '\''};
        is_int(sl_get_token(nul, 5, &type), 5, "NUL byte inside a string");
        is_int(type, TK_STRING, "string with NUL is a string");
    }

    /* the keyword table */
    {
        int n = 0, all = 1, sorted = 1;
        for (; sl_keywords[n] != NULL; n++) {
            const char *k = sl_keywords[n];
            if (sl_keyword_code(k, (int)strlen(k)) == 0) {
                all = 0;
                printf("# keyword %s not found\n", k);
            }
            if (n > 0 && strcmp(sl_keywords[n - 1], k) >= 0)
                sorted = 0;
        }
        ok(n > 80, "sl_keywords lists the keywords (%d)", n);
        ok(all, "every listed keyword is found by sl_keyword_code");
        ok(sorted, "keyword table is sorted (binary search relies on it)");
        is_int(sl_keyword_code("emit", 4), TK_EMIT, "keyword lookup lower case");
        is_int(sl_keyword_code("Watermark", 9), TK_WATERMARK, "keyword lookup mixed case");
        is_int(sl_keyword_code("qualify", 7), TK_QUALIFY, "keyword lookup QUALIFY");
        is_int(sl_keyword_code("OVER", 4), TK_OVER, "keyword lookup OVER");
        is_int(sl_keyword_code("partition", 9), TK_PARTITION, "keyword lookup PARTITION");
        is_int(sl_keyword_code("partitions", 10), 0, "PARTITIONS is not a keyword");
        is_int(sl_keyword_code("SELECTX", 6), TK_SELECT, "lookup uses n, not NUL");
        is_int(sl_keyword_code("orders", 6), 0, "non-keyword");
        is_int(sl_keyword_code("", 0), 0, "empty");
        is_int(sl_keyword_code("MILLISECONDSXXXXXXX", 19), 0, "too long");
    }
    return tap_done();
}
