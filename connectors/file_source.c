/*
** file_source.c: the file source, CSV or NDJSON files matching a glob.
**
** It owns the list of matched files (sorted at open; in follow mode new
** matches are appended, so a file's index, the rowloc part, never changes),
** the one open descriptor of the file being read, and a growable read
** buffer (1 MiB, doubled when a single record is larger) filled with
** read(2). A record that is one whole line is cut and decoded in one step
** (sl_decoder_decode_line); others are cut with sl_decoder_split and then
** decoded; either way straight into the caller's batch. Each row gets
** {file index, 1-based line of the record's start, byte offset of the
** record's start}. A CSV header is read
** from the first record of every file. A record that does not decode goes
** to the reject callback with its file, line, offset and text (without the
** line terminator), and reading goes on. A UTF-8 byte-order mark at the
** start of a file is skipped. Splitting keeps its state across calls
** (sl_split_state), so a record arriving in many appends is examined once;
** a CSV quoted field still open max_record_bytes into its record (or at
** the end of the input) cuts the record after its first line, a dead
** letter, and reading resumes at the next line.
**
** Bounded mode reads every file to its end (a last line without newline is
** a record) and then reports done. Follow mode never ends: at the end of
** the last file it re-globs for new files and, on the next call, reads
** again from the same offset, so appended lines are picked up; a partial
** last line is held back until its newline arrives. A file is left for the
** next one only once a later file exists (its partial last line, if any,
** then counts as a record).
**
** Position text (for checkpoints): `v1|<index>|<offset>|<line>|<path>`:
** the file holding the end of the last consumed record, the byte offset and
** line just after it; every file before it in the list is finished. Seek
** finds the file by path (the index is a hint), re-reads its CSV header if
** the offset is past it, and continues from the offset.
*/
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "engine/error.h"
#include "connectors/file_source.h"

#define READ_CHUNK (1u << 20)

typedef struct fs_file {
    char *path;
    int64_t size;          /* at the time it was globbed (for progress) */
} fs_file;

struct sl_file_source {
    char *pattern;
    int follow;
    int csv_header;
    int ndjson;
    sl_decoder *dec;

    fs_file *files;
    int nfiles, filecap;

    int cur;               /* file being read; nfiles when none */
    int fd;                /* -1 when cur is not open */
    int eof;               /* the last read of cur returned 0 */
    int header_pending;    /* the next record of cur is its header */
    int bom_pending;       /* cur is read from its start: skip a BOM */
    sl_split_state split;  /* how far the record at buf[start] was examined */
    size_t max_record_bytes;
    int64_t scanned_bytes; /* sl_file_source_scanned_bytes */
    int64_t resume_off;    /* where to start cur when it is opened (seek) */
    int64_t resume_line;

    char *buf;
    size_t cap, start, end;   /* unconsumed bytes are buf[start..end) */
    int64_t buf_off;          /* file offset of buf[0] */
    int64_t line;             /* line of the record at buf[start] */

    int pos_file;             /* position after the last consumed record */
    int64_t pos_off, pos_line;

    char *pos_text;           /* a restored position naming a vanished
                                 file, kept until something is read */
    int64_t done_bytes;       /* bytes of the files before cur */
    int finished;
    char reason[512];
};

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(sl_xmalloc(n), s, n);
}

static int known(const sl_file_source *fs, const char *path)
{
    for (int i = 0; i < fs->nfiles; i++)
        if (strcmp(fs->files[i].path, path) == 0)
            return i;
    return -1;
}

/* Adds the regular files matching the glob that are not yet known, in
** name order. Returns the number added, or -1 with err set. */
static int reglob(sl_file_source *fs, sl_error *err)
{
    glob_t g;
    int rc = glob(fs->pattern, 0, NULL, &g);
    if (rc == GLOB_NOMATCH)
        return 0;
    if (rc != 0) {
        globfree(&g);
        return sl_error_set(err, -1, "cannot list files matching '%s'",
                            fs->pattern);
    }
    int added = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *p = g.gl_pathv[i];
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode) || known(fs, p) >= 0)
            continue;
        if (fs->nfiles == fs->filecap) {
            fs->filecap = fs->filecap ? fs->filecap * 2 : 8;
            fs->files = realloc(fs->files, sizeof(fs_file) * (size_t)fs->filecap);
            if (fs->files == NULL)
                abort();
        }
        fs->files[fs->nfiles].path = xstrdup(p);
        fs->files[fs->nfiles].size = (int64_t)st.st_size;
        fs->nfiles++;
        added++;
    }
    globfree(&g);
    return added;
}

sl_file_source *sl_file_source_open(const sl_file_source_options *opt,
                                    int ncols, const char *const *names,
                                    const sl_type *types, sl_error *err)
{
    if (opt->path == NULL || opt->path[0] == 0)
        return sl_error_set(err, -1, "a file source needs a path"), NULL;
    sl_decoder *dec = sl_decoder_new(&opt->decode, ncols, names, types, err);
    if (dec == NULL)
        return NULL;
    sl_file_source *fs = sl_xmalloc(sizeof *fs);
    memset(fs, 0, sizeof *fs);
    fs->pattern = xstrdup(opt->path);
    fs->follow = opt->follow != 0;
    fs->csv_header = opt->decode.format == SL_FORMAT_CSV && opt->decode.header;
    fs->ndjson = opt->decode.format == SL_FORMAT_NDJSON;
    fs->dec = dec;
    fs->fd = -1;
    fs->max_record_bytes = opt->max_record_bytes ? opt->max_record_bytes
                                                 : SL_FILE_MAX_RECORD_BYTES_DEFAULT;
    fs->line = 1;
    fs->pos_line = 1;
    fs->resume_line = 1;
    fs->cap = READ_CHUNK;
    fs->buf = sl_xmalloc(fs->cap);
    if (reglob(fs, err) < 0) {
        sl_file_source_close(fs);
        return NULL;
    }
    if (fs->nfiles == 0 && !fs->follow) {
        sl_error_set(err, -1, "no file matches '%s'", opt->path);
        sl_file_source_close(fs);
        return NULL;
    }
    return fs;
}

void sl_file_source_close(sl_file_source *fs)
{
    if (fs == NULL)
        return;
    if (fs->fd >= 0)
        close(fs->fd);
    for (int i = 0; i < fs->nfiles; i++)
        free(fs->files[i].path);
    free(fs->files);
    free(fs->buf);
    free(fs->pattern);
    free(fs->pos_text);
    sl_decoder_free(fs->dec);
    free(fs);
}

const char *sl_file_source_file_name(const sl_file_source *fs, int part)
{
    if (part < 0 || part >= fs->nfiles)
        return NULL;
    return fs->files[part].path;
}

/* Reads more of cur into the buffer; returns bytes read (0 at end), -1. */
static ssize_t fill(sl_file_source *fs, sl_error *err)
{
    if (fs->start > 0) {
        memmove(fs->buf, fs->buf + fs->start, fs->end - fs->start);
        fs->buf_off += (int64_t)fs->start;
        fs->end -= fs->start;
        fs->start = 0;
    }
    if (fs->end == fs->cap) {
        fs->cap *= 2;
        fs->buf = realloc(fs->buf, fs->cap);
        if (fs->buf == NULL)
            abort();
    }
    for (;;) {
        ssize_t n = read(fs->fd, fs->buf + fs->end, fs->cap - fs->end);
        if (n >= 0) {
            fs->end += (size_t)n;
            return n;
        }
        if (errno != EINTR)
            return sl_error_set(err, -1, "cannot read '%s': %s",
                                fs->files[fs->cur].path, strerror(errno));
    }
}

/* Prefixes the current file's name to the message in err; returns -1. */
static int prefix_error(const sl_file_source *fs, sl_error *err)
{
    char msg[SL_ERROR_MAX];
    memcpy(msg, err->msg, sizeof msg);
    return sl_error_reset(err, -1, "file '%s': %s", fs->files[fs->cur].path,
                          msg);
}

static int is_blank(const char *z, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (z[i] != '\n' && z[i] != '\r' && z[i] != ' ' && z[i] != '\t')
            return 0;
    return 1;
}

/* After a seek into the middle of a CSV file with a header: reads the
** header from the start of the file, then goes to resume_off. */
static int reread_header(sl_file_source *fs, sl_error *err)
{
    if (lseek(fs->fd, 0, SEEK_SET) < 0)
        return sl_error_set(err, -1, "cannot seek in '%s': %s",
                            fs->files[fs->cur].path, strerror(errno));
    fs->start = fs->end = 0;
    fs->buf_off = 0;
    for (;;) {
        size_t reclen;
        size_t have = fs->end - fs->start;
        int got = sl_decoder_split(fs->dec, fs->buf + fs->start, have,
                                   fs->eof, &reclen);
        if (got) {
            const char *rec = fs->buf + fs->start;
            fs->start += reclen;
            if (is_blank(rec, reclen))
                continue;
            if (sl_decoder_header(fs->dec, rec, reclen, err) < 0)
                return prefix_error(fs, err);
            break;
        }
        if (fs->eof)
            break;  /* no header at all: positional */
        ssize_t n = fill(fs, err);
        if (n < 0)
            return -1;
        if (n == 0)
            fs->eof = 1;
    }
    fs->eof = 0;
    fs->start = fs->end = 0;
    return 0;
}

/* Opens file cur, at resume_off when a seek asked for it. Returns 0, 1 when
** the file vanished (follow mode skips it), or -1 with err set. */
static int open_current(sl_file_source *fs, sl_error *err)
{
    const char *path = fs->files[fs->cur].path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (fs->follow && errno == ENOENT)
            return 1;
        return sl_error_set(err, -1, "cannot open '%s': %s", path,
                            strerror(errno));
    }
    fs->fd = fd;
    fs->eof = 0;
    fs->start = fs->end = 0;
    fs->buf_off = fs->resume_off;
    fs->line = fs->resume_line;
    fs->header_pending = fs->csv_header && fs->resume_off == 0;
    fs->bom_pending = fs->resume_off == 0;
    memset(&fs->split, 0, sizeof fs->split);
    if (fs->resume_off > 0) {
        struct stat st;
        if (fstat(fd, &st) == 0 && (int64_t)st.st_size < fs->resume_off &&
            !fs->follow)
            return sl_error_set(err, -1,
                                "'%s' is shorter than the saved position "
                                "(byte %" PRId64 ")", path, fs->resume_off);
        if (fs->csv_header && reread_header(fs, err) < 0)
            return -1;
        if (lseek(fd, fs->resume_off, SEEK_SET) < 0)
            return sl_error_set(err, -1, "cannot seek in '%s': %s", path,
                                strerror(errno));
        fs->buf_off = fs->resume_off;
    }
    fs->resume_off = 0;
    fs->resume_line = 1;
    return 0;
}

/* Leaves cur (all of it consumed) for the next file. */
static void finish_file(sl_file_source *fs)
{
    int64_t end = fs->buf_off + (int64_t)fs->end;
    if (fs->fd >= 0)
        close(fs->fd);
    fs->fd = -1;
    free(fs->pos_text);
    fs->pos_text = NULL;
    fs->pos_file = fs->cur;
    fs->pos_off = end;
    fs->pos_line = fs->line;
    fs->done_bytes += end;
    fs->cur++;
    fs->eof = 0;
    fs->start = fs->end = 0;
    fs->buf_off = 0;
    fs->line = 1;
    memset(&fs->split, 0, sizeof fs->split);
}

/* Whether the first n (<= 3) unread bytes are the start of a UTF-8
** byte-order mark. */
static int bom_prefix(const sl_file_source *fs, size_t n)
{
    return memcmp(fs->buf + fs->start, "\xEF\xBB\xBF", n < 3 ? n : 3) == 0;
}

enum { CUT_NONE, CUT_AT_END, CUT_AT_BOUND };

/* Finds the end of the record at buf[start] (have bytes; last: no more
** will come), going on from where the last call stopped (fs->split).
** Returns 1 and sets *reclen when the record is complete. A CSV record
** whose quoted field is never closed -- at the end of the input, or still
** open max_record_bytes into the record -- is cut after its first line
** (*cut says which), so that one stray quote costs one dead letter and
** reading resumes at the next line; otherwise returns 0 (wait for more). */
static int split_record(sl_file_source *fs, size_t have, int last,
                        size_t *reclen, int *cut)
{
    sl_split_state *st = &fs->split;
    size_t before = st->scanned;
    int got = sl_decoder_split_more(fs->dec, fs->buf + fs->start, have, last,
                                    st, reclen);
    fs->scanned_bytes += (int64_t)((got ? *reclen : st->scanned) - before);
    if (!st->in_quotes || st->first_line == 0)
        return got;
    if (got) {
        *cut = CUT_AT_END;
    } else if (st->scanned >= fs->max_record_bytes) {
        *cut = CUT_AT_BOUND;
    } else {
        return 0;
    }
    *reclen = st->first_line;
    return 1;
}

static int64_t count_newlines(const char *z, size_t n)
{
    int64_t k = 0;
    const char *end = z + n;
    while (z < end && (z = memchr(z, '\n', (size_t)(end - z))) != NULL) {
        k++;
        z++;
    }
    return k;
}

int sl_file_source_next(sl_file_source *fs, sl_batch *b, int max_rows,
                        sl_reject_fn reject, void *ctx, int *done,
                        sl_error *err)
{
    *done = 0;
    if (fs->finished) {
        *done = 1;
        return 0;
    }
    int rows = 0, reglobbed = 0;
    while (rows < max_rows) {
        if (fs->cur >= fs->nfiles) {
            if (!fs->follow) {
                fs->finished = 1;
                *done = 1;
                break;
            }
            if (reglobbed)
                break;
            if (reglob(fs, err) < 0)
                return -1;
            reglobbed = 1;
            continue;
        }
        if (fs->fd < 0) {
            int rc = open_current(fs, err);
            if (rc < 0)
                return -1;
            if (rc > 0) {
                finish_file(fs);
                continue;
            }
        }
        size_t have = fs->end - fs->start, reclen = 0;
        int last = fs->eof && (!fs->follow || fs->cur + 1 < fs->nfiles);
        if (fs->bom_pending && (have >= 3 || last || !bom_prefix(fs, have))) {
            if (have >= 3 && bom_prefix(fs, 3)) {
                fs->start += 3;
                have -= 3;
            }
            fs->bom_pending = 0;
        }
        int rc = -2, got = 0, cut = 0;
        if (have > 0 && !fs->bom_pending) {
            /* the common case: a one-line record, split and decoded at
            ** once (not for a record already examined: no rescanning) */
            if (!fs->header_pending && fs->split.scanned == 0) {
                rc = sl_decoder_decode_line(fs->dec, fs->buf + fs->start, have,
                                            b, &reclen, fs->reason,
                                            sizeof fs->reason);
                fs->scanned_bytes += (int64_t)(rc == -2 ? have : reclen);
            }
            if (rc == -2)
                got = split_record(fs, have, last, &reclen, &cut);
        }
        if (rc != -2 || got) {
            const char *rec = fs->buf + fs->start;
            int64_t recpos = fs->buf_off + (int64_t)fs->start;
            int64_t recline = fs->line;
            fs->start += reclen;
            if (rc == -2)   /* (the one-line path leaves it zero) */
                memset(&fs->split, 0, sizeof fs->split);
            if (fs->ndjson || rc != -2)
                fs->line += rec[reclen - 1] == '\n';
            else
                fs->line += count_newlines(rec, reclen);
            if (fs->header_pending) {
                if (!is_blank(rec, reclen)) {
                    fs->header_pending = 0;
                    if (sl_decoder_header(fs->dec, rec, reclen, err) < 0)
                        return prefix_error(fs, err);
                }
            } else {
                if (rc == -2)
                    rc = sl_decoder_decode(fs->dec, rec, reclen, b, fs->reason,
                                           sizeof fs->reason);
                if (rc < 0 && cut == CUT_AT_BOUND) {
                    size_t used = strlen(fs->reason);
                    snprintf(fs->reason + used, sizeof fs->reason - used,
                             " (no closing quote within %zu bytes; reading "
                             "resumes at the next line)", fs->max_record_bytes);
                }
                if (rc > 0) {
                    sl_rowloc *loc = &b->loc[b->nrows - 1];
                    loc->part = fs->cur;
                    loc->line = recline;
                    loc->pos = recpos;
                    loc->ts_ms = 0;
                    rows++;
                } else if (rc < 0 && reject != NULL) {
                    size_t rawlen = reclen;
                    if (rawlen > 0 && rec[rawlen - 1] == '\n')
                        rawlen--;
                    if (rawlen > 0 && rec[rawlen - 1] == '\r')
                        rawlen--;
                    reject(ctx, fs->files[fs->cur].path, recline, recpos, rec,
                           rawlen, fs->reason);
                }
            }
            if (fs->pos_text != NULL) {
                free(fs->pos_text);
                fs->pos_text = NULL;
            }
            fs->pos_file = fs->cur;
            fs->pos_off = fs->buf_off + (int64_t)fs->start;
            fs->pos_line = fs->line;
            continue;
        }
        if (!fs->eof) {
            ssize_t n = fill(fs, err);
            if (n < 0)
                return -1;
            if (n == 0)
                fs->eof = 1;
            continue;
        }
        /* at the end of cur with no complete record left */
        if (!fs->follow || fs->cur + 1 < fs->nfiles) {
            finish_file(fs);
            continue;
        }
        /* following the last file: look for new files, then read again */
        fs->eof = 0;
        if (reglobbed)
            break;
        int added = reglob(fs, err);
        if (added < 0)
            return -1;
        reglobbed = 1;
    }
    return rows;
}

int64_t sl_file_source_scanned_bytes(const sl_file_source *fs)
{
    return fs->scanned_bytes;
}

double sl_file_source_progress(const sl_file_source *fs)
{
    if (fs->finished)
        return 1.0;
    int64_t total = 0;
    for (int i = 0; i < fs->nfiles; i++)
        total += fs->files[i].size;
    if (total <= 0)
        return 0.0;
    int64_t done = fs->done_bytes;
    if (fs->cur < fs->nfiles)
        done += fs->buf_off + (int64_t)fs->start;
    double f = (double)done / (double)total;
    return f < 0 ? 0 : f > 1 ? 1 : f;
}

char *sl_file_source_position(const sl_file_source *fs)
{
    if (fs->pos_text != NULL)
        return xstrdup(fs->pos_text);
    const char *path = fs->pos_file < fs->nfiles ? fs->files[fs->pos_file].path
                                                 : "";
    size_t n = strlen(path) + 80;
    char *s = sl_xmalloc(n);
    snprintf(s, n, "v1|%d|%" PRId64 "|%" PRId64 "|%s", fs->pos_file,
             fs->pos_off, fs->pos_line, path);
    return s;
}

/* Parses a non-negative decimal up to '|'; advances *pp past the '|'. */
static int field_i64(const char **pp, int64_t *v)
{
    const char *p = *pp;
    int64_t x = 0;
    int nd = 0;
    while (*p >= '0' && *p <= '9') {
        if (x > (INT64_MAX - 9) / 10)
            return -1;
        x = x * 10 + (*p++ - '0');
        nd++;
    }
    if (nd == 0 || *p != '|')
        return -1;
    *v = x;
    *pp = p + 1;
    return 0;
}

int sl_file_source_seek(sl_file_source *fs, const char *position,
                        sl_error *err)
{
    const char *p = position;
    int64_t idx, off, line;
    if (p == NULL || strncmp(p, "v1|", 3) != 0)
        goto malformed;
    p += 3;
    if (field_i64(&p, &idx) < 0 || field_i64(&p, &off) < 0 ||
        field_i64(&p, &line) < 0 || line < 1 || idx > INT32_MAX)
        goto malformed;
    if (*p == 0) {
        /* nothing had been read yet */
        if (idx != 0 || off != 0)
            goto malformed;
        return 0;
    }
    int k = idx < fs->nfiles && strcmp(fs->files[idx].path, p) == 0
                ? (int)idx
                : known(fs, p);
    if (k < 0) {
        if (!fs->follow)
            return sl_error_set(err, -1,
                                "the saved position names '%s', which no "
                                "longer matches '%s'", p, fs->pattern);
        /* follow: the file is gone; files sorting after it are new */
        for (k = 0; k < fs->nfiles && strcmp(fs->files[k].path, p) <= 0; k++)
            ;
        off = 0;
        line = 1;
        free(fs->pos_text);
        fs->pos_text = xstrdup(position);
    }
    if (fs->fd >= 0) {
        close(fs->fd);
        fs->fd = -1;
    }
    fs->done_bytes = 0;
    for (int i = 0; i < k; i++)
        fs->done_bytes += fs->files[i].size;
    fs->cur = k;
    fs->resume_off = off;
    fs->resume_line = line;
    fs->start = fs->end = 0;
    fs->buf_off = off;
    fs->line = line;
    fs->eof = 0;
    fs->finished = 0;
    memset(&fs->split, 0, sizeof fs->split);
    fs->pos_file = k;
    fs->pos_off = off;
    fs->pos_line = line;
    return 0;
malformed:
    return sl_error_set(err, -1, "malformed file source position '%.60s'",
                        position ? position : "(null)");
}
