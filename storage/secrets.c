/*
** secrets.c: secret option values kept out of sluice_catalog (see
** secrets.h).
**
** DB.secrets is a text file beside the database, mode 0600: a comment
** line, then one secret a line, `name<TAB>value`, with backslash, tab,
** newline and carriage return escaped (\\ \t \n \r) so a PEM key fits on
** one line. It is rewritten whole (a temporary file, then rename) each
** time a secret is added; it is small (a few options per source or sink).
*/
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "storage/secrets.h"
#include "grammar/lexer.h"
#include "grammar/parse.h"

/* ---- which options are secrets ------------------------------------------ */

/* Word i of key (split at '.', '_', '-'), counted from the end (0: last);
** NULL when there are fewer words. *n gets its length. */
static const char *word_from_end(const char *key, int i, int *n)
{
    const char *end = key + strlen(key);
    for (;;) {
        const char *start = end;
        while (start > key && !strchr("._-", start[-1]))
            start--;
        if (i-- == 0) {
            *n = (int)(end - start);
            return start;
        }
        if (start == key)
            return NULL;
        end = start - 1;
    }
}

static int word_in(const char *w, int n, const char *const *list)
{
    for (int i = 0; w && list[i]; i++)
        if ((int)strlen(list[i]) == n && strncasecmp(w, list[i], (size_t)n) == 0)
            return 1;
    return 0;
}

int sl_option_is_secret(const char *key)
{
    static const char *const last_words[] = {
        "password", "passwd", "passphrase", "secret", "token", "credentials",
        "apikey", NULL};
    /* `<one of these>.key` / `_key` is a key's value, not a column */
    static const char *const key_kinds[] = {
        "api", "private", "secret", "access", "ssl", "signing", "encryption",
        "client", "master", NULL};
    static const char *const key_word[] = {"key", NULL};
    static const char *const pem_word[] = {"pem", NULL};
    int n1 = 0, n2 = 0;
    const char *last = word_from_end(key, 0, &n1);
    const char *before = word_from_end(key, 1, &n2);
    size_t kl = strlen(key);
    if (word_in(last, n1, last_words))
        return 1;
    if (word_in(last, n1, pem_word) && word_in(before, n2, key_word))
        return 1;                      /* ssl.key.pem: a private key */
    if (word_in(last, n1, key_word) && word_in(before, n2, key_kinds))
        return 1;
    /* librdkafka's unsecured-JWT configuration may carry a client secret */
    return kl >= 23 && strcasecmp(key + kl - 23, "sasl.oauthbearer.config") == 0;
}

int sl_secret_ref(const char *value, const char **kind, const char **name,
                  int *name_len)
{
    size_t n = strlen(value);
    if (n < 4 || value[0] != '$' || value[1] != '{' || value[n - 1] != '}')
        return 0;
    const char *k;
    if (strncmp(value + 2, "env:", 4) == 0)
        k = "env";
    else if (strncmp(value + 2, "secret:", 7) == 0)
        k = "secret";
    else
        return 0;
    const char *nm = value + 2 + strlen(k) + 1;
    int len = (int)(value + n - 1 - nm);
    if (len <= 0 || memchr(nm, '}', (size_t)len) != NULL)
        return 0;
    *kind = k;
    *name = nm;
    *name_len = len;
    return 1;
}

/* ---- the file ----------------------------------------------------------- */

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(sl_xmalloc(n), s, n);
}

void sl_secrets_set(sl_secrets *s, const char *name, const char *value)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0) {
            free(s->values[i]);
            s->values[i] = xstrdup(value);
            return;
        }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->names = sl_xrealloc(s->names, sizeof *s->names * (size_t)s->cap);
        s->values = sl_xrealloc(s->values, sizeof *s->values * (size_t)s->cap);
    }
    s->names[s->n] = xstrdup(name);
    s->values[s->n++] = xstrdup(value);
}

const char *sl_secrets_get(const sl_secrets *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0)
            return s->values[i];
    return NULL;
}

void sl_secrets_retain(sl_secrets *s, int (*keep)(void *ctx, const char *name),
                       void *ctx)
{
    int k = 0;
    for (int i = 0; i < s->n; i++) {
        if (keep(ctx, s->names[i])) {
            s->names[k] = s->names[i];
            s->values[k++] = s->values[i];
        } else {
            free(s->names[i]);
            free(s->values[i]);
        }
    }
    s->n = k;
}

/* Undoes the escapes of one field in place (up to n bytes); returns it. */
static char *unescape(char *z, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = z[i];
        if (c == '\\' && i + 1 < n) {
            c = z[++i];
            c = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
        }
        z[o++] = c;
    }
    z[o] = 0;
    return z;
}

/* Reads the file if it exists; a file that exists but cannot be read is
** remembered in s->problem (then nothing is resolved from it and it is
** never overwritten). */
static void read_file(sl_secrets *s)
{
    FILE *f = fopen(s->path, "r");
    if (f == NULL) {
        if (errno != ENOENT)
            s->problem = xstrdup(strerror(errno));
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        char *tab = memchr(line, '\t', (size_t)n);
        if (line[0] == '#' || tab == NULL)
            continue;
        size_t vn = (size_t)(line + n - tab - 1);
        char *name = unescape(line, (size_t)(tab - line));
        sl_secrets_set(s, name, unescape(tab + 1, vn));
    }
    if (ferror(f))
        s->problem = xstrdup(strerror(errno));
    free(line);
    fclose(f);
}

sl_secrets *sl_secrets_open(const char *db_path)
{
    sl_secrets *s = sl_xcalloc(1, sizeof *s);
    if (db_path == NULL || db_path[0] == 0 || strcmp(db_path, ":memory:") == 0)
        return s;
    size_t n = strlen(db_path) + sizeof ".secrets";
    s->path = sl_xmalloc(n);
    snprintf(s->path, n, "%s.secrets", db_path);
    read_file(s);
    return s;
}

void sl_secrets_free(sl_secrets *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->n; i++) {
        free(s->names[i]);
        free(s->values[i]);
    }
    free(s->names);
    free(s->values);
    free(s->path);
    free(s->problem);
    free(s);
}

static void put_escaped(FILE *f, const char *z)
{
    for (; *z; z++) {
        switch (*z) {
        case '\\': fputs("\\\\", f); break;
        case '\t': fputs("\\t", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        default: fputc(*z, f); break;
        }
    }
}

/* fsync of the directory holding path, so a rename in it is durable. */
static void sync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path + 1)) : strdup(".");
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int sl_secrets_save(const sl_secrets *s, sl_error *err)
{
    if (s->path == NULL)
        return 0;
    if (s->problem != NULL)
        return sl_error_set(err, -1, "cannot update %s: it could not be read "
                            "(%s)", s->path, s->problem);
    size_t n = strlen(s->path) + sizeof ".tmp";
    char *tmp = sl_xmalloc(n);
    snprintf(tmp, n, "%s.tmp", s->path);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        sl_error_set(err, -1, "cannot write %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(tmp);
        return -1;
    }
    fputs("# sluice secrets (name<TAB>value): only the owner of the database "
          "may read this file\n", f);
    for (int i = 0; i < s->n; i++) {
        put_escaped(f, s->names[i]);
        fputc('\t', f);
        put_escaped(f, s->values[i]);
        fputc('\n', f);
    }
    int bad = fflush(f) != 0 || fsync(fd) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, s->path) != 0) {
        sl_error_set(err, -1, "cannot write %s: %s", s->path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    sync_dir_of(s->path);
    free(tmp);
    return 0;
}

/* ---- references --------------------------------------------------------- */

static int unresolved(sl_error *err, const sl_stmt *st, const sl_option *o,
                      const char *kind, const char *name, int n)
{
    if (strcmp(kind, "env") == 0)
        return sl_error_set(err, -1, "environment variable %.*s is not set "
                            "(option '%s' of %s refers to it)", n, name,
                            o->key, st->name);
    return sl_error_set(err, -1, "secret %.*s is not in the database's "
                        "secrets file DB.secrets, or that file cannot be read "
                        "(option '%s' of %s refers to it)", n, name, o->key,
                        st->name);
}

int sl_secrets_resolve(const sl_secrets *s, sl_stmt *st, sl_error *err)
{
    for (int i = 0; i < st->nopts; i++) {
        sl_option *o = &st->opts[i];
        const char *kind, *name;
        int n;
        if (!sl_option_is_secret(o->key) ||
            !sl_secret_ref(o->value, &kind, &name, &n))
            continue;
        char *key = strndup(name, (size_t)n);
        if (key == NULL)
            abort();
        const char *v = strcmp(kind, "env") == 0 ? getenv(key)
                                                 : sl_secrets_get(s, key);
        free(key);
        if (v == NULL)
            return unresolved(err, st, o, kind, name, n);
        free(o->value);
        o->value = xstrdup(v);
        o->value_type = SL_TEXT;
    }
    return 0;
}

int sl_secrets_check_resolved(const sl_stmt *st, sl_error *err)
{
    for (int i = 0; st && i < st->nopts; i++) {
        const sl_option *o = &st->opts[i];
        const char *kind, *name;
        int n;
        if (sl_option_is_secret(o->key) &&
            sl_secret_ref(o->value, &kind, &name, &n))
            return unresolved(err, st, o, kind, name, n);
    }
    return 0;
}

/* ---- redaction ---------------------------------------------------------- */

typedef struct span {
    int start, end;      /* bytes of the text replaced */
    char *with;          /* malloc'd replacement */
} span;

/* text with each span (in increasing order, not overlapping) replaced;
** frees the replacements. */
static char *replace_spans(const char *text, int len, span *sp, int n)
{
    size_t size = (size_t)len + 1;
    for (int i = 0; i < n; i++)
        size += strlen(sp[i].with);
    char *out = sl_xmalloc(size), *p = out;
    int at = 0;
    for (int i = 0; i < n; i++) {
        memcpy(p, text + at, (size_t)(sp[i].start - at));
        p += sp[i].start - at;
        size_t w = strlen(sp[i].with);
        memcpy(p, sp[i].with, w);
        p += w;
        at = sp[i].end;
        free(sp[i].with);
    }
    memcpy(p, text + at, (size_t)(len - at));
    p[len - at] = 0;
    return out;
}

/* A SQL string literal holding "${secret:name}", quotes doubled. */
static char *secret_literal(const char *name)
{
    char *out = sl_xmalloc(2 * strlen(name) + sizeof "'${secret:}'");
    char *p = out;
    p += sprintf(p, "'${secret:");
    for (const char *z = name; *z; z++) {
        if (*z == '\'')
            *p++ = '\'';
        *p++ = *z;
    }
    strcpy(p, "}'");
    return out;
}

char *sl_secrets_extract(sl_secrets *s, const char *obj, const char *sql,
                         const sl_stmt *st)
{
    int len = (int)strlen(sql), n = 0;
    span *sp = sl_xcalloc((size_t)st->nopts + 1, sizeof *sp);
    for (int i = 0; i < st->nopts; i++) {
        const sl_option *o = &st->opts[i];
        const char *kind, *name;
        int nn, type;
        if (!sl_option_is_secret(o->key) ||
            sl_secret_ref(o->value, &kind, &name, &nn) ||
            o->value_offset < 0 || o->value_offset >= len)
            continue;
        assert(n == 0 || o->value_offset >= sp[n - 1].end);
        size_t kn = strlen(obj) + strlen(o->key) + 2;
        char *key = sl_xmalloc(kn);
        snprintf(key, kn, "%s.%s", obj, o->key);
        sl_secrets_set(s, key, o->value);
        sp[n].start = o->value_offset;
        sp[n].end = o->value_offset + sl_get_token(sql + o->value_offset,
                                                   len - o->value_offset, &type);
        sp[n++].with = secret_literal(key);
        free(key);
    }
    char *out = n ? replace_spans(sql, len, sp, n) : NULL;
    free(sp);
    return out;
}

/* The next token at or after *at that is not blank or a comment: its type
** and length, *at moved to it; 0 at the end of the text. */
static int next_token(const char *text, int len, int *at, int *type)
{
    while (*at < len) {
        int w = sl_get_token(text + *at, len - *at, type);
        if (*type != SL_TK_SPACE && *type != SL_TK_COMMENT)
            return w;
        *at += w;
    }
    return 0;
}

/* 1 when the token z[0..n) (an identifier, maybe quoted, or a string)
** names a secret option. */
static int token_names_secret(const char *z, int n)
{
    if (n >= 2 && (z[0] == '\'' || z[0] == '"' || z[0] == '`') &&
        z[n - 1] == z[0]) {
        z++;
        n -= 2;
    }
    char buf[128];
    if (n <= 0 || n >= (int)sizeof buf)
        return 0;
    memcpy(buf, z, (size_t)n);
    buf[n] = 0;
    return sl_option_is_secret(buf);
}

/* 1 when the string token z[0..n) is a whole '${env:...}' / '${secret:...}'. */
static int token_is_ref(const char *z, int n)
{
    const char *kind, *name;
    int nn;
    if (n < 2 || z[0] != '\'')
        return 0;
    char *inner = strndup(z + 1, (size_t)(n - 2));
    if (inner == NULL)
        abort();
    int ref = sl_secret_ref(inner, &kind, &name, &nn);
    free(inner);
    return ref;
}

char *sl_secrets_redact_text(const char *text, int len)
{
    int n = 0, cap = 0, at = 0, type, w;
    span *sp = NULL;
    while ((w = next_token(text, len, &at, &type)) > 0) {
        int name_at = at, name_w = w;
        at += w;
        if (type == SL_TK_ILLEGAL || !token_names_secret(text + name_at, name_w))
            continue;
        int eq = at, vtype;
        if (next_token(text, len, &eq, &type) == 0 || type != TK_EQ)
            continue;
        int vat = eq + 1;
        int vw = next_token(text, len, &vat, &vtype);
        if (vw == 0 || (vtype != TK_STRING && vtype != SL_TK_ILLEGAL &&
                        vtype != TK_INTEGER && vtype != TK_FLOAT &&
                        vtype != TK_ID) ||
            token_is_ref(text + vat, vw))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            sp = sl_xrealloc(sp, sizeof *sp * (size_t)cap);
        }
        sp[n].start = vat;
        sp[n].end = vat + vw;
        sp[n++].with = xstrdup("'***'");
        at = vat + vw;
    }
    char *out = n ? replace_spans(text, len, sp, n) : NULL;
    free(sp);
    return out;
}

/* ---- private files ------------------------------------------------------ */

int sl_private_file_create(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        return close(fd);
    return errno == EEXIST ? 0 : -1;
}

int sl_private_db_create(const char *path)
{
    if (path[0] == 0 || strcmp(path, ":memory:") == 0 ||
        strncmp(path, "file:", 5) == 0)
        return 0;
    return sl_private_file_create(path);
}
