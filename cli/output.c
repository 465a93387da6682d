/*
** output.c: result formatting for the four output modes (see output.h).
**
** Owns an sl_output: the destination FILE (borrowed), the current mode, the
** copied column names and types of the result being printed and, in table
** mode, the rows buffered to size the columns. Conventions, the same in every
** mode (docs/cli.md):
**   - SQL NULL prints as `NULL` in table and line mode, as an empty unquoted
**     field in csv (an empty string is `""`, so the two stay apart), and as
**     `null` in json.
**   - A column is numeric when its type is BIGINT or DOUBLE; a column of
**     unknown type (SL_NULL, e.g. an expression SQLite could not type) is
**     treated value by value: a value that reads as a number is a number.
**     Numbers are right-aligned in table mode and unquoted in json.
**   - Table mode shows control characters as escapes (\n, \r, \t, \xNN) so
**     the box stays intact; widths count UTF-8 characters, not bytes.
**   - csv ends lines with "\n" and quotes a field (RFC 4180) when it holds a
**     comma, a quote, CR or LF, or is an empty string.
** Table mode buffers rows in one growing byte buffer (offsets, no allocation
** per cell); after sl_output_flush() has printed the header, column widths
** are fixed and a wider value later just widens its own line.
*/
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "engine/error.h"
#include "cli/output.h"

struct sl_output {
    FILE *out;
    sl_output_mode mode;

    int in_result;          /* between begin and end */
    int ncols;
    char **names;           /* ncols copies */
    sl_type *types;
    long nrows;             /* rows given since begin */

    /* table mode */
    int header_done;        /* header printed, widths fixed */
    int *width;             /* display width of each column */
    char *cells;            /* cell texts, NUL-terminated, back to back */
    size_t cells_len, cells_cap;
    long *cell_off;         /* per buffered cell: offset in cells, -1 = NULL */
    long nbuf;              /* buffered rows */
    long buf_cap;           /* rows of room in cell_off */
    int name_width;         /* line mode: widest column name */
};

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = sl_xrealloc(NULL, n);
    memcpy(c, s, n);
    return c;
}

sl_output *sl_output_new(FILE *out, sl_output_mode mode)
{
    sl_output *o = sl_xrealloc(NULL, sizeof *o);
    memset(o, 0, sizeof *o);
    o->out = out;
    o->mode = mode;
    return o;
}

static void clear_result(sl_output *o)
{
    for (int i = 0; i < o->ncols; i++)
        free(o->names[i]);
    free(o->names);
    free(o->types);
    free(o->width);
    o->names = NULL;
    o->types = NULL;
    o->width = NULL;
    o->ncols = 0;
    o->nrows = 0;
    o->nbuf = 0;
    o->cells_len = 0;
    o->header_done = 0;
    o->in_result = 0;
}

void sl_output_free(sl_output *o)
{
    if (o == NULL)
        return;
    clear_result(o);
    free(o->cells);
    free(o->cell_off);
    free(o);
}

void sl_output_set_mode(sl_output *o, sl_output_mode mode)
{
    if (o->in_result)
        sl_output_end(o);
    o->mode = mode;
}

sl_output_mode sl_output_get_mode(const sl_output *o)
{
    return o->mode;
}

int sl_output_mode_parse(const char *name, sl_output_mode *mode)
{
    static const struct { const char *name; sl_output_mode mode; } modes[] = {
        {"table", SL_MODE_TABLE}, {"csv", SL_MODE_CSV},
        {"json", SL_MODE_JSON}, {"line", SL_MODE_LINE},
    };
    if (name == NULL)
        return -1;
    for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(name, modes[i].name) == 0) {
            *mode = modes[i].mode;
            return 0;
        }
    return -1;
}

/* ---- value classification ---------------------------------------------- */

/* 1 when s is a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int is_json_number(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return 0;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == 0;
}

/* 1 when value v of column c is shown as a number (right-aligned, unquoted). */
static int is_number(const sl_output *o, int c, const char *v)
{
    if (v == NULL)
        return 0;
    sl_type t = o->types[c];
    if (sl_type_is_numeric(t) || t == SL_NULL)
        return is_json_number(v);
    return 0;
}

/* ---- table mode --------------------------------------------------------- */

/* Writes v as shown in a table cell (control characters escaped) and returns
** its display width; with out == NULL only measures. */
static int table_text(FILE *out, const char *v)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        unsigned char ch = *p;
        if (ch < 0x20 || ch == 0x7f) {
            char esc[8];
            if (ch == '\n')
                strcpy(esc, "\\n");
            else if (ch == '\r')
                strcpy(esc, "\\r");
            else if (ch == '\t')
                strcpy(esc, "\\t");
            else
                snprintf(esc, sizeof esc, "\\x%02x", ch);
            if (out)
                fputs(esc, out);
            w += (int)strlen(esc);
            continue;
        }
        if (out)
            fputc(ch, out);
        if ((ch & 0xC0) != 0x80)
            w++;
    }
    return w;
}

static const char *cell(const sl_output *o, long row, int c)
{
    long off = o->cell_off[row * o->ncols + c];
    return off < 0 ? NULL : o->cells + off;
}

static void pad(FILE *out, int n)
{
    for (int i = 0; i < n; i++)
        fputc(' ', out);
}

static void table_border(sl_output *o)
{
    fputc('+', o->out);
    for (int c = 0; c < o->ncols; c++) {
        for (int i = 0; i < o->width[c] + 2; i++)
            fputc('-', o->out);
        fputc('+', o->out);
    }
    fputc('\n', o->out);
}

static void table_header(sl_output *o)
{
    for (int c = 0; c < o->ncols; c++) {
        int w = table_text(NULL, o->names[c]);
        if (w > o->width[c])
            o->width[c] = w;
        for (long r = 0; r < o->nbuf; r++) {
            const char *v = cell(o, r, c);
            w = v ? table_text(NULL, v) : 4;
            if (w > o->width[c])
                o->width[c] = w;
        }
    }
    table_border(o);
    fputc('|', o->out);
    for (int c = 0; c < o->ncols; c++) {
        /* Headers are centred, as in the sqlite3 shell. */
        int w = table_text(NULL, o->names[c]);
        int left = (o->width[c] - w) / 2;
        pad(o->out, 1 + left);
        table_text(o->out, o->names[c]);
        pad(o->out, o->width[c] - w - left + 1);
        fputc('|', o->out);
    }
    fputc('\n', o->out);
    table_border(o);
    o->header_done = 1;
}

static void table_rows(sl_output *o)
{
    for (long r = 0; r < o->nbuf; r++) {
        fputc('|', o->out);
        for (int c = 0; c < o->ncols; c++) {
            const char *v = cell(o, r, c);
            const char *shown = v ? v : "NULL";
            int w = table_text(NULL, shown);
            int gap = o->width[c] > w ? o->width[c] - w : 0;
            fputc(' ', o->out);
            if (is_number(o, c, v)) {
                pad(o->out, gap);
                table_text(o->out, shown);
            } else {
                table_text(o->out, shown);
                pad(o->out, gap);
            }
            fputs(" |", o->out);
        }
        fputc('\n', o->out);
    }
    o->nbuf = 0;
    o->cells_len = 0;
}

static void table_buffer(sl_output *o, const char *const *values)
{
    if (o->nbuf == o->buf_cap) {
        o->buf_cap = o->buf_cap ? o->buf_cap * 2 : 64;
        o->cell_off = sl_xrealloc(o->cell_off,
                               (size_t)o->buf_cap * (size_t)o->ncols * sizeof(long));
    }
    long *offs = o->cell_off + o->nbuf * o->ncols;
    for (int c = 0; c < o->ncols; c++) {
        if (values[c] == NULL) {
            offs[c] = -1;
            continue;
        }
        size_t n = strlen(values[c]) + 1;
        if (o->cells_len + n > o->cells_cap) {
            while (o->cells_len + n > o->cells_cap)
                o->cells_cap = o->cells_cap ? o->cells_cap * 2 : 4096;
            o->cells = sl_xrealloc(o->cells, o->cells_cap);
        }
        memcpy(o->cells + o->cells_len, values[c], n);
        offs[c] = (long)o->cells_len;
        o->cells_len += n;
    }
    o->nbuf++;
}

/* ---- csv mode ----------------------------------------------------------- */

static void csv_field(FILE *out, const char *v)
{
    if (v == NULL)
        return;
    if (v[0] != 0 && strpbrk(v, ",\"\r\n") == NULL) {
        fputs(v, out);
        return;
    }
    fputc('"', out);
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

static void csv_line(sl_output *o, const char *const *values, int nulls_ok)
{
    for (int c = 0; c < o->ncols; c++) {
        if (c)
            fputc(',', o->out);
        csv_field(o->out, values[c] || nulls_ok ? values[c] : "");
    }
    fputc('\n', o->out);
}

/* ---- json mode ---------------------------------------------------------- */

static void json_string(FILE *out, const char *v)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        switch (*p) {
        case '"':  fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        case '\b': fputs("\\b", out); break;
        case '\f': fputs("\\f", out); break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

static void json_value(sl_output *o, int c, const char *v)
{
    if (v == NULL) {
        fputs("null", o->out);
        return;
    }
    if (o->types[c] == SL_BOOL) {
        if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
            fputs("true", o->out);
            return;
        }
        if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0) {
            fputs("false", o->out);
            return;
        }
    }
    if (is_number(o, c, v))
        fputs(v, o->out);
    else
        json_string(o->out, v);
}

static void json_row(sl_output *o, const char *const *values)
{
    fputs(o->nrows == 0 ? "[{" : ",\n{", o->out);
    for (int c = 0; c < o->ncols; c++) {
        if (c)
            fputc(',', o->out);
        json_string(o->out, o->names[c]);
        fputc(':', o->out);
        json_value(o, c, values[c]);
    }
    fputc('}', o->out);
}

/* ---- line mode ---------------------------------------------------------- */

static void line_row(sl_output *o, const char *const *values)
{
    if (o->nrows > 0)
        fputc('\n', o->out);
    for (int c = 0; c < o->ncols; c++)
        fprintf(o->out, "%*s = %s\n", o->name_width, o->names[c],
                values[c] ? values[c] : "NULL");
}

/* ---- begin / row / flush / end ------------------------------------------ */

void sl_output_begin(sl_output *o, int ncols, const char *const *names,
                     const sl_type *types)
{
    if (o->in_result)
        sl_output_end(o);
    clear_result(o);
    assert(ncols >= 0);
    o->in_result = 1;
    o->ncols = ncols;
    o->names = sl_xrealloc(NULL, (size_t)ncols * sizeof *o->names);
    o->types = sl_xrealloc(NULL, (size_t)ncols * sizeof *o->types);
    o->width = sl_xrealloc(NULL, (size_t)ncols * sizeof *o->width);
    o->name_width = 0;
    for (int c = 0; c < ncols; c++) {
        o->names[c] = xstrdup(names && names[c] ? names[c] : "");
        o->types[c] = types ? types[c] : SL_NULL;
        o->width[c] = 0;
        int w = (int)strlen(o->names[c]);
        if (w > o->name_width)
            o->name_width = w;
    }
    if (o->mode == SL_MODE_CSV && ncols > 0)
        csv_line(o, (const char *const *)o->names, 0);
}

void sl_output_row(sl_output *o, const char *const *values)
{
    assert(o->in_result);
    if (o->ncols == 0)
        return;
    switch (o->mode) {
    case SL_MODE_TABLE: table_buffer(o, values); break;
    case SL_MODE_CSV:   csv_line(o, values, 1); break;
    case SL_MODE_JSON:  json_row(o, values); break;
    case SL_MODE_LINE:  line_row(o, values); break;
    }
    o->nrows++;
}

void sl_output_flush(sl_output *o)
{
    if (o->in_result && o->mode == SL_MODE_TABLE && o->nbuf > 0) {
        if (!o->header_done)
            table_header(o);
        table_rows(o);
    }
    fflush(o->out);
}

void sl_output_end(sl_output *o)
{
    if (!o->in_result)
        return;
    if (o->ncols > 0) {
        switch (o->mode) {
        case SL_MODE_TABLE:
            if (!o->header_done)
                table_header(o);
            table_rows(o);
            table_border(o);
            break;
        case SL_MODE_JSON:
            fputs(o->nrows == 0 ? "[]\n" : "]\n", o->out);
            break;
        case SL_MODE_CSV:
        case SL_MODE_LINE:
            break;
        }
    }
    fflush(o->out);
    clear_result(o);
}
