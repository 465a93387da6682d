/*
** like.c: the LIKE matcher.
**
** `%` matches any sequence of characters, `_` exactly one character (a UTF-8
** code point), every other byte itself, case-sensitively, as in PostgreSQL.
** There is no escape character. A constant pattern is analysed once by
** sl_like_compile() into the cheapest matcher that does the job (equality,
** prefix, suffix, substring, match-anything) and falls back to the general
** backtracking matcher only when it needs `_` or inner `%`. The general
** matcher is linear in the common case and never recurses.
*/
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "engine/functions.h"

enum like_kind { LIKE_EXACT, LIKE_PREFIX, LIKE_SUFFIX, LIKE_CONTAINS,
                 LIKE_ANY, LIKE_GENERAL };

struct sl_like {
    enum like_kind kind;
    int n;           /* literal (or whole pattern for GENERAL) length */
    char z[];        /* literal part, or the pattern */
};

/* Bytes of the UTF-8 character starting with byte c (1 for a stray byte). */
static int utf8_len(unsigned char c)
{
    if (c < 0xC0)
        return 1;
    if (c < 0xE0)
        return 2;
    if (c < 0xF0)
        return 3;
    return 4;
}

int sl_like_match_raw(const char *pat, int pn, const char *z, int n)
{
    int p = 0, t = 0, star_p = -1, star_t = 0;
    while (t < n) {
        if (p < pn && pat[p] == '%') {
            star_p = ++p;
            star_t = t;
        } else if (p < pn && pat[p] == '_') {
            p++;
            t += utf8_len((unsigned char)z[t]);
        } else if (p < pn && pat[p] == z[t]) {
            p++;
            t++;
        } else if (star_p >= 0) {
            /* let the last % swallow one more character and retry */
            star_t += utf8_len((unsigned char)z[star_t]);
            t = star_t;
            p = star_p;
        } else {
            return 0;
        }
    }
    if (t > n)      /* `_` ran past the end of a truncated character */
        return 0;
    while (p < pn && pat[p] == '%')
        p++;
    return p == pn;
}

sl_like *sl_like_compile(const char *pat, int n)
{
    sl_like *lk = malloc(sizeof *lk + (size_t)n + 1);
    if (lk == NULL) {
        fprintf(stderr, "sluice: out of memory\n");
        abort();
    }
    int lead = 0, trail = 0;
    while (lead < n && pat[lead] == '%')
        lead++;
    while (trail < n - lead && pat[n - 1 - trail] == '%')
        trail++;
    const char *mid = pat + lead;
    int mn = n - lead - trail;
    int inner_wild = memchr(mid, '%', (size_t)mn) != NULL ||
                     memchr(pat, '_', (size_t)n) != NULL;
    if (inner_wild) {
        lk->kind = LIKE_GENERAL;
        memcpy(lk->z, pat, (size_t)n);
        lk->n = n;
    } else {
        if (mn == 0 && lead + trail > 0)
            lk->kind = LIKE_ANY;
        else if (lead == 0 && trail == 0)
            lk->kind = LIKE_EXACT;
        else if (lead == 0)
            lk->kind = LIKE_PREFIX;
        else if (trail == 0)
            lk->kind = LIKE_SUFFIX;
        else
            lk->kind = LIKE_CONTAINS;
        memcpy(lk->z, mid, (size_t)mn);
        lk->n = mn;
    }
    lk->z[lk->n] = 0;
    return lk;
}

void sl_like_free(void *lk)
{
    free(lk);
}

int sl_like_match(const sl_like *lk, const char *z, int n)
{
    switch (lk->kind) {
    case LIKE_EXACT:
        return n == lk->n && memcmp(z, lk->z, (size_t)n) == 0;
    case LIKE_PREFIX:
        return n >= lk->n && memcmp(z, lk->z, (size_t)lk->n) == 0;
    case LIKE_SUFFIX:
        return n >= lk->n && memcmp(z + n - lk->n, lk->z, (size_t)lk->n) == 0;
    case LIKE_CONTAINS:
        return n >= lk->n &&
               memmem(z, (size_t)n, lk->z, (size_t)lk->n) != NULL;
    case LIKE_ANY:
        return 1;
    case LIKE_GENERAL:
        break;
    }
    return sl_like_match_raw(lk->z, lk->n, z, n);
}
