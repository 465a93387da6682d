/*
** repl.c: the interactive shell (see repl.h), built on libedit's native
** API (histedit.h).
**
** Owns the EditLine and History objects, the statement buffer being typed,
** the history file path and the SIGINT handler installed while a statement
** runs. Input is accumulated line by line until sl_statement_complete() says
** every statement ends with ';' (the prompt turns into `   ...> ` meanwhile);
** a line starting with '\' or '.' on an empty buffer is a meta-command.
**
** Ctrl-C: during editing the terminal's ISIG is off (EL_SETTY -isig), so ^C
** reaches libedit as a key, bound to a function that discards the line and
** any unfinished statement. While a statement runs the terminal is in its
** normal mode and SIGINT calls sl_session_interrupt(). libedit prints the
** prompt before it switches the terminal to edit mode, so keys typed (or
** pasted) right after a result would meet the normal mode: ^C would raise
** SIGINT and ^D would be lost. So before each prompt the REPL itself puts
** the terminal in a raw mode (no ICANON, ECHO, ISIG); libedit ignores that
** state (it only learns from cooked settings) and restores its saved
** cooked mode after each line.
**
** Completion (TAB) matches the word before the cursor, case-insensitively,
** against sl_keywords (inserted in the case the user typed) and against
** sl_session_names() (inserted as stored). One match is completed with a
** trailing space; several are completed to their common prefix, or listed.
*/
#include <ctype.h>
#include <errno.h>
#include <histedit.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>
#include "cli/repl.h"
#include "grammar/parser.h"
#include "storage/secrets.h"

#define HISTORY_SIZE 2000

const char sl_repl_help[] =
    "Statements (end each with ';'; they may span lines):\n"
    "  CREATE SOURCE name (col TYPE, ..., WATERMARK FOR col AS col - INTERVAL '10' SECOND)\n"
    "      WITH (connector = 'file' | 'kafka', ...)\n"
    "  CREATE TABLE name (col TYPE [PRIMARY KEY], ...)      a plain SQLite table\n"
    "  CREATE VIEW name AS SELECT ...                        a SQLite view\n"
    "  CREATE MATERIALIZED VIEW name AS SELECT ... [WINDOW ...] [GROUP BY ...] [EMIT ...]\n"
    "  CREATE STREAMING TABLE name AS SELECT ...             append-only results\n"
    "  CREATE SINK name AS SELECT ... WITH (connector = 'kafka', ...)\n"
    "  INSERT INTO name VALUES (...)\n"
    "  COPY name FROM 'file.csv' WITH (format = 'csv', header = true)\n"
    "  SELECT ... FROM table | view                          pull query (SQLite)\n"
    "  SELECT ... FROM source ... [EMIT ...] [LIMIT n]       push query, Ctrl-C stops it\n"
    "  SHOW SOURCES | TABLES | VIEWS | QUERIES | SINKS\n"
    "  DESCRIBE name          EXPLAIN SELECT ...          DROP kind name\n"
    "Streaming clauses, in this order after WHERE:\n"
    "  WINDOW TUMBLING (SIZE 1 MINUTE) | HOPPING (SIZE d, ADVANCE BY a) | SESSION (GAP g)\n"
    "  WATERMARK col DELAY 30 SECONDS\n"
    "  EMIT CHANGES [EVERY d] | EMIT ON WINDOW CLOSE | EMIT FINAL\n"
    "Meta-commands:\n"
    "  \\help                     this text\n"
    "  \\mode [table|csv|json|line]  show or set the result format\n"
    "  \\q  (or .quit, .exit)     leave (Ctrl-D also leaves)\n"
    "Keys: TAB completes keywords and names; Ctrl-C clears the input;\n"
    "      Up/Down walk the history.\n";

/* The running REPL; one at a time (libedit callbacks and the signal handler
** reach it through this pointer). */
typedef struct repl {
    sl_session *s;
    sl_output *out;
    EditLine *el;
    History *hist;
    char *hist_path;
    char *buf;              /* statement being typed */
    size_t len, cap;
    int cancelled;          /* ^C pressed during el_gets */
    int quit;
} repl;

static repl *current;
static sl_session *volatile running_session;

static void on_sigint(int sig)
{
    (void)sig;
    sl_session *s = running_session;
    if (s)
        sl_session_interrupt(s);
}

/* libedit's character reader: waits for a key while letting background
** (unbounded) queries run, so a tailing query keeps committing while the
** user sits at the prompt. Reads one UTF-8 character from stdin.
** Returns 1 with *wc set, 0 at end of input, -1 on error. */
static int read_char(EditLine *el, wchar_t *wc)
{
    (void)el;
    char bytes[MB_LEN_MAX];
    int n = 0;
    mbstate_t mbs;
    memset(&mbs, 0, sizeof mbs);
    for (;;) {
        struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
        int rc = poll(&pfd, 1, n == 0 ? 50 : -1);
        if (rc < 0)
            return -1;          /* EINTR included: libedit handles it */
        if (rc == 0) {
            if (current != NULL && current->len == 0) {
                sl_error err;
                sl_error_clear(&err);
                sl_session_run(current->s, 20, &err);
                if (err.set) {
                    fputc('\n', stderr);
                    sl_error_render(stderr, &err, NULL, NULL);
                    fflush(stderr);
                }
            }
            continue;
        }
        ssize_t got = read(STDIN_FILENO, &bytes[n], 1);
        if (got == 0)
            return 0;
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        n++;
        memset(&mbs, 0, sizeof mbs);
        size_t k = mbrtowc(wc, bytes, (size_t)n, &mbs);
        if (k == (size_t)-2 && n < (int)sizeof bytes)
            continue;           /* an incomplete multibyte character */
        if (k == (size_t)-1 || k == (size_t)-2)
            *wc = (wchar_t)(unsigned char)bytes[0];
        return 1;
    }
}

static char *prompt_main(EditLine *el)
{
    (void)el;
    return "sluice> ";
}

static char *prompt_more(EditLine *el)
{
    (void)el;
    return "   ...> ";
}

static void buf_append(repl *r, const char *z, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 256;
        while (r->len + n + 1 > cap)
            cap *= 2;
        char *b = realloc(r->buf, cap);
        if (b == NULL) {
            fputs("sluice: out of memory\n", stderr);
            abort();
        }
        r->buf = b;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, z, n);
    r->len += n;
    r->buf[r->len] = 0;
}

/* Puts the terminal on stdin in raw mode until libedit takes over (see the
** file comment). Does nothing when stdin is not a terminal. */
static void hold_keys_raw(void)
{
    struct termios t;
    if (tcgetattr(STDIN_FILENO, &t) != 0)
        return;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

/* ---- history ------------------------------------------------------------ */

static char *history_path(void)
{
    const char *env = getenv("SLUICE_HISTORY");
    if (env && *env)
        return strdup(env);
    const char *home = getenv("HOME");
    if (home == NULL || *home == 0)
        return NULL;
    size_t n = strlen(home) + sizeof "/.sluice_history";
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/.sluice_history", home);
    return p;
}

/* Adds entry to the in-memory history and appends it to the history file,
** which is created 0600; there the value of a secret option ('kafka.sasl.
** password' = '...') is replaced by '***' (storage/secrets.h): the file
** outlives the session, this session's Up arrow still has what was typed. */
static void history_add(repl *r, const char *entry)
{
    HistEvent ev;
    if (*entry == 0)
        return;
    history(r->hist, &ev, H_ENTER, entry);
    if (r->hist_path == NULL || sl_private_file_create(r->hist_path) != 0)
        return;
    FILE *f = fopen(r->hist_path, "a");
    if (f == NULL)
        return;
    char *redacted = sl_secrets_redact_text(entry, (int)strlen(entry));
    if (redacted != NULL)
        entry = redacted;
    /* The file format H_LOAD reads: a "_HiStOrY_V2_" line, then one entry a
    ** line in strvis(3) encoding. We write it ourselves (rather than with
    ** H_NSAVE_FP, whose count differs between libedit versions): white
    ** space, backslashes and control characters as 3-digit octal escapes,
    ** which strunvis decodes. */
    fseek(f, 0, SEEK_END);
    if (ftell(f) == 0)
        fputs("_HiStOrY_V2_\n", f);
    for (const unsigned char *p = (const unsigned char *)entry; *p; p++) {
        if (*p <= ' ' || *p == '\\' || *p == 0x7f)
            fprintf(f, "\\%03o", *p);
        else
            fputc(*p, f);
    }
    fputc('\n', f);
    fclose(f);
    free(redacted);
}

/* ---- completion --------------------------------------------------------- */

typedef struct cands {
    char **v;
    int n, cap;
    const char *prefix;
    size_t plen;
    int lower;              /* user typed lower case: keywords in lower case */
} cands;

static void cands_add(cands *c, const char *word, int is_keyword)
{
    if (strncasecmp(word, c->prefix, c->plen) != 0)
        return;
    for (int i = 0; i < c->n; i++)
        if (strcasecmp(c->v[i], word) == 0)
            return;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        char **v = realloc(c->v, (size_t)c->cap * sizeof *v);
        if (v == NULL)
            abort();
        c->v = v;
    }
    char *w = strdup(word);
    if (w == NULL)
        abort();
    if (is_keyword && c->lower)
        for (char *p = w; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    c->v[c->n++] = w;
}

static void add_name(void *ctx, const char *name)
{
    cands_add(ctx, name, 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcasecmp(*(char *const *)a, *(char *const *)b);
}

static void list_candidates(EditLine *el, cands *c)
{
    FILE *out = stdout;
    (void)el;
    size_t w = 0;
    for (int i = 0; i < c->n; i++)
        if (strlen(c->v[i]) > w)
            w = strlen(c->v[i]);
    int per_line = (int)(78 / (w + 2));
    if (per_line < 1)
        per_line = 1;
    fputc('\n', out);
    for (int i = 0; i < c->n; i++) {
        fprintf(out, "%-*s", (int)(w + 2), c->v[i]);
        if ((i + 1) % per_line == 0 || i == c->n - 1)
            fputc('\n', out);
    }
    fflush(out);
}

static unsigned char complete(EditLine *el, int ch)
{
    (void)ch;
    repl *r = current;
    const LineInfo *li = el_line(el);
    const char *start = li->cursor;
    while (start > li->buffer &&
           (isalnum((unsigned char)start[-1]) || start[-1] == '_'))
        start--;
    size_t plen = (size_t)(li->cursor - start);
    if (plen == 0)
        return CC_ERROR;

    char prefix[256];
    if (plen >= sizeof prefix)
        return CC_ERROR;
    memcpy(prefix, start, plen);
    prefix[plen] = 0;

    cands c = {0};
    c.prefix = prefix;
    c.plen = plen;
    c.lower = 1;
    for (size_t i = 0; i < plen; i++)
        if (isupper((unsigned char)prefix[i]))
            c.lower = 0;
    for (int i = 0; sl_keywords[i]; i++)
        cands_add(&c, sl_keywords[i], 1);
    if (r && r->s)
        sl_session_names(r->s, add_name, &c);

    unsigned char rc = CC_ERROR;
    if (c.n == 1) {
        el_deletestr(el, (int)plen);
        el_insertstr(el, c.v[0]);
        el_insertstr(el, " ");
        rc = CC_REFRESH;
    } else if (c.n > 1) {
        qsort(c.v, (size_t)c.n, sizeof *c.v, cmp_str);
        size_t common = strlen(c.v[0]);
        for (int i = 1; i < c.n; i++) {
            size_t k = 0;
            while (k < common && c.v[i][k] &&
                   tolower((unsigned char)c.v[i][k]) ==
                   tolower((unsigned char)c.v[0][k]))
                k++;
            common = k;
        }
        if (common > plen) {
            char *ext = strndup(c.v[0], common);
            if (ext == NULL)
                abort();
            el_deletestr(el, (int)plen);
            el_insertstr(el, ext);
            free(ext);
            rc = CC_REFRESH;
        } else {
            list_candidates(el, &c);
            rc = CC_REDISPLAY;
        }
    }
    for (int i = 0; i < c.n; i++)
        free(c.v[i]);
    free(c.v);
    return rc;
}

/* ^C while editing: forget the line and the unfinished statement. */
static unsigned char cancel_input(EditLine *el, int ch)
{
    (void)ch;
    (void)el;
    if (current)
        current->cancelled = 1;
    fputs("^C", stdout);
    fflush(stdout);
    return CC_NEWLINE;
}

/* ---- statements and meta-commands --------------------------------------- */

static const char *mode_name(sl_output_mode m)
{
    switch (m) {
    case SL_MODE_TABLE: return "table";
    case SL_MODE_CSV:   return "csv";
    case SL_MODE_JSON:  return "json";
    case SL_MODE_LINE:  return "line";
    }
    return "?";
}

/* Runs a meta-command line (without its trailing newline). */
static void meta_command(repl *r, char *line)
{
    char *save = NULL;
    char *cmd = strtok_r(line, " \t", &save);
    char *arg = strtok_r(NULL, " \t", &save);
    if (strcmp(cmd, "\\q") == 0 || strcmp(cmd, "\\quit") == 0 ||
        strcmp(cmd, ".quit") == 0 || strcmp(cmd, ".exit") == 0 ||
        strcmp(cmd, ".q") == 0) {
        r->quit = 1;
    } else if (strcmp(cmd, "\\help") == 0 || strcmp(cmd, "\\h") == 0 ||
               strcmp(cmd, "\\?") == 0 || strcmp(cmd, ".help") == 0) {
        fputs(sl_repl_help, stdout);
    } else if (strcmp(cmd, "\\mode") == 0 || strcmp(cmd, ".mode") == 0) {
        sl_output_mode m;
        if (arg == NULL)
            printf("mode: %s\n", mode_name(sl_output_get_mode(r->out)));
        else if (sl_output_mode_parse(arg, &m) == 0)
            sl_output_set_mode(r->out, m);
        else
            fprintf(stderr, "error: unknown mode '%s' (table, csv, json or line)\n",
                    arg);
    } else {
        fprintf(stderr, "error: unknown command %s (\\help lists them)\n", cmd);
    }
    fflush(stdout);
}

static void run_statement(repl *r)
{
    sl_error err;
    int failed = 0;
    struct sigaction sa, old;

    sl_error_clear(&err);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    running_session = r->s;
    sigaction(SIGINT, &sa, &old);
    int rc = sl_session_exec(r->s, r->buf, (int)r->len, &err, &failed);
    sigaction(SIGINT, &old, NULL);
    running_session = NULL;
    /* a Ctrl-C cancelled this statement; background queries go on */
    sl_session_clear_interrupt(r->s);
    fflush(stdout);
    if (rc != 0) {
        char where[64];
        snprintf(where, sizeof where, "statement %d, ", failed);
        sl_error_render(stderr, &err, r->buf, failed > 1 ? where : NULL);
        fflush(stderr);
    }
}

/* Lets background queries progress and reports what went wrong there. */
static void run_background(repl *r)
{
    sl_error err;
    sl_error_clear(&err);
    sl_session_run(r->s, 0, &err);
    if (err.set) {
        sl_error_render(stderr, &err, NULL, NULL);
        fflush(stderr);
    }
}

/* Drops the trailing newline and whitespace of the statement buffer. */
static void trim_buffer(repl *r)
{
    while (r->len > 0 && isspace((unsigned char)r->buf[r->len - 1]))
        r->buf[--r->len] = 0;
}

static int only_space(const char *z, int n)
{
    for (int i = 0; i < n; i++)
        if (!isspace((unsigned char)z[i]))
            return 0;
    return 1;
}

int sl_repl_run(sl_session *s, sl_output *out)
{
    repl r;
    HistEvent ev;
    struct termios saved;
    int have_saved = tcgetattr(STDIN_FILENO, &saved) == 0;

    memset(&r, 0, sizeof r);
    r.s = s;
    r.out = out;
    current = &r;

    r.hist = history_init();
    history(r.hist, &ev, H_SETSIZE, HISTORY_SIZE);
    history(r.hist, &ev, H_SETUNIQUE, 1);
    r.hist_path = history_path();
    if (r.hist_path)
        history(r.hist, &ev, H_LOAD, r.hist_path);

    r.el = el_init("sluice", stdin, stdout, stderr);
    el_set(r.el, EL_EDITOR, "emacs");
    el_set(r.el, EL_HIST, history, r.hist);
    el_set(r.el, EL_PROMPT, prompt_main);
    el_set(r.el, EL_SETTY, "-d", "-isig", NULL);
    el_set(r.el, EL_GETCFN, read_char);
    /* el_wset: the narrow el_set copies these strings and never frees them. */
    el_wset(r.el, EL_ADDFN, L"sl-complete", L"complete a keyword or name", complete);
    el_set(r.el, EL_BIND, "^I", "sl-complete", NULL);
    el_wset(r.el, EL_ADDFN, L"sl-cancel", L"discard the input", cancel_input);
    el_set(r.el, EL_BIND, "^C", "sl-cancel", NULL);
    el_source(r.el, NULL);          /* ~/.editrc, as other libedit programs */

    while (!r.quit) {
        if (r.len == 0)
            run_background(&r);
        el_set(r.el, EL_PROMPT, r.len == 0 ? prompt_main : prompt_more);
        int count = 0;
        r.cancelled = 0;
        hold_keys_raw();
        const char *line = el_gets(r.el, &count);
        if (r.cancelled) {           /* ^C: its line has no newline */
            r.len = 0;
            if (r.buf)
                r.buf[0] = 0;
            continue;
        }
        if (line == NULL || count <= 0) {
            if (line == NULL && count == -1 && errno == EINTR)
                continue;
            fputc('\n', stdout);     /* Ctrl-D */
            break;
        }
        if (r.len == 0) {
            const char *p = line;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '\\' || (*p == '.' && isalpha((unsigned char)p[1]))) {
                char *cmd = strdup(p);
                if (cmd == NULL)
                    abort();
                cmd[strcspn(cmd, "\r\n")] = 0;
                history_add(&r, cmd);
                meta_command(&r, cmd);
                free(cmd);
                continue;
            }
            if (only_space(line, count))
                continue;
        }
        buf_append(&r, line, (size_t)count);
        if (!sl_statement_complete(r.buf, (int)r.len)) {
            if (only_space(r.buf, (int)r.len))
                r.len = 0;
            continue;
        }
        trim_buffer(&r);
        history_add(&r, r.buf);
        run_statement(&r);
        r.len = 0;
        r.buf[0] = 0;
    }

    el_end(r.el);
    if (have_saved)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    history_end(r.hist);
    free(r.hist_path);
    free(r.buf);
    current = NULL;
    return 0;
}
