/* sqlite_floor.c: how fast SQLite alone can store a workload's result rows on
 * this machine, the floor under any engine that commits its results to
 * SQLite (docs/benchmarks.md, "What SQLite costs").
 *
 *   sqlite_floor --from RESULT.db --table T --db OUT.db [--rows-per-insert N]
 *                [--commit-rows N] [--page-size N] [--cache-kb N]
 *                [--checkpoint-kb N]
 *
 * It reads every row of table T of a database sluice wrote (a benchmark's
 * result) into memory, creates an empty table of the same schema (primary
 * key included) in a fresh database in WAL mode with synchronous = NORMAL,
 * as sluice runs it, and times only the inserts: multi-row INSERTs of
 * --rows-per-insert rows (64, as sluice's table writer) with every value
 * bound without a copy, a COMMIT every --commit-rows rows, then the closing
 * checkpoint. It prints rows, seconds of wall and CPU time, and rows/s.
 * Nothing is parsed, filtered or aggregated: what it measures is what
 * SQLite's own work would cost sluice if everything else were free. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int type;           /* SQLITE_INTEGER, _FLOAT, _TEXT or _NULL */
    int n;              /* text length */
    union {
        int64_t i;
        double d;
        char *z;
    } v;
} cell;

static void die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "sqlite_floor: %s: %s\n", what,
            db ? sqlite3_errmsg(db) : "?");
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (p == NULL) {
        fprintf(stderr, "sqlite_floor: out of memory\n");
        exit(1);
    }
    return p;
}

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_now(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static void exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die(db, sql);
}

/* Reads the rows of table into *cells (ncols per row); returns the count. */
static size_t load(sqlite3 *src, const char *table, int *ncols, cell **cells)
{
    char *sql = sqlite3_mprintf("SELECT * FROM \"%w\"", table);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(src, sql, -1, &st, NULL) != SQLITE_OK)
        die(src, sql);
    sqlite3_free(sql);
    int nc = sqlite3_column_count(st);
    size_t rows = 0, cap = 0;
    cell *c = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (rows == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            c = xrealloc(c, cap * (size_t)nc * sizeof *c);
        }
        for (int i = 0; i < nc; i++) {
            cell *x = &c[rows * (size_t)nc + (size_t)i];
            x->type = sqlite3_column_type(st, i);
            if (x->type == SQLITE_INTEGER) {
                x->v.i = sqlite3_column_int64(st, i);
            } else if (x->type == SQLITE_FLOAT) {
                x->v.d = sqlite3_column_double(st, i);
            } else if (x->type != SQLITE_NULL) {
                x->type = SQLITE_TEXT;
                const unsigned char *z = sqlite3_column_text(st, i);
                x->n = sqlite3_column_bytes(st, i);
                x->v.z = xrealloc(NULL, (size_t)x->n + 1);
                memcpy(x->v.z, z, (size_t)x->n + 1);
            }
        }
        rows++;
    }
    sqlite3_finalize(st);
    *ncols = nc;
    *cells = c;
    return rows;
}

static char *table_sql(sqlite3 *src, const char *table)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(src, "SELECT sql FROM sqlite_schema WHERE "
                           "type = 'table' AND name = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        die(src, "schema");
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        fprintf(stderr, "sqlite_floor: no table %s\n", table);
        exit(1);
    }
    char *sql = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return sql;
}

static void bind(sqlite3_stmt *st, int i, const cell *x)
{
    switch (x->type) {
    case SQLITE_INTEGER: sqlite3_bind_int64(st, i, x->v.i); break;
    case SQLITE_FLOAT: sqlite3_bind_double(st, i, x->v.d); break;
    case SQLITE_TEXT:
        sqlite3_bind_text(st, i, x->v.z, x->n, SQLITE_STATIC);
        break;
    default: sqlite3_bind_null(st, i); break;
    }
}

static sqlite3_stmt *insert_stmt(sqlite3 *db, const char *table, int nc,
                                 int rows)
{
    sqlite3_str *s = sqlite3_str_new(db);
    sqlite3_str_appendf(s, "INSERT INTO \"%w\" VALUES ", table);
    for (int r = 0; r < rows; r++) {
        sqlite3_str_appendall(s, r ? ", (" : "(");
        for (int i = 0; i < nc; i++)
            sqlite3_str_appendall(s, i ? ", ?" : "?");
        sqlite3_str_appendall(s, ")");
    }
    char *sql = sqlite3_str_finish(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        die(db, "prepare insert");
    sqlite3_free(sql);
    return st;
}

static void run(sqlite3 *db, sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        die(db, "insert");
    sqlite3_reset(st);
}

int main(int argc, char **argv)
{
    const char *from = NULL, *table = NULL, *out = NULL;
    /* defaults: sluice's own settings (storage/db.c) */
    int per = 64, page = 32768, cache_kb = 8192, ckpt_kb = 1024;
    long commit_rows = 1000000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) {
            fprintf(stderr, "sqlite_floor: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--from") == 0) from = v;
        else if (strcmp(a, "--table") == 0) table = v;
        else if (strcmp(a, "--db") == 0) out = v;
        else if (strcmp(a, "--rows-per-insert") == 0) per = atoi(v);
        else if (strcmp(a, "--commit-rows") == 0) commit_rows = atol(v);
        else if (strcmp(a, "--page-size") == 0) page = atoi(v);
        else if (strcmp(a, "--cache-kb") == 0) cache_kb = atoi(v);
        else if (strcmp(a, "--checkpoint-kb") == 0) ckpt_kb = atoi(v);
        else {
            fprintf(stderr, "sqlite_floor: unknown option %s\n", a);
            return 2;
        }
        i++;
    }
    if (from == NULL || table == NULL || out == NULL || per < 1 ||
        commit_rows < 1) {
        fprintf(stderr, "usage: sqlite_floor --from RESULT.db --table T "
                "--db OUT.db [--rows-per-insert N] [--commit-rows N] "
                "[--page-size N] [--cache-kb N] [--checkpoint-kb N]\n");
        return 2;
    }
    sqlite3 *src, *db;
    if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die(src, from);
    int nc;
    cell *cells;
    size_t rows = load(src, table, &nc, &cells);
    char *ddl = table_sql(src, table);
    sqlite3_close(src);

    unlink(out);
    char *wal = sqlite3_mprintf("%s-wal", out);
    unlink(wal);
    sqlite3_free(wal);
    if (sqlite3_open(out, &db) != SQLITE_OK)
        die(db, out);
    if (page > 0) {
        char *p = sqlite3_mprintf("PRAGMA page_size = %d", page);
        exec(db, p);
        sqlite3_free(p);
    }
    exec(db, "PRAGMA journal_mode = WAL");
    exec(db, "PRAGMA synchronous = NORMAL");
    char *c = sqlite3_mprintf("PRAGMA cache_size = -%d", cache_kb);
    exec(db, c);
    sqlite3_free(c);
    if (page > 0 && ckpt_kb > 0)
        sqlite3_wal_autocheckpoint(db, ckpt_kb * 1024 / page > 0 ?
                                   ckpt_kb * 1024 / page : 1);
    exec(db, ddl);
    sqlite3_stmt *many = insert_stmt(db, table, nc, per);
    sqlite3_stmt *one = insert_stmt(db, table, nc, 1);

    double w0 = wall_now(), c0 = cpu_now();
    exec(db, "BEGIN");
    size_t r = 0, since = 0;
    while (r < rows) {
        sqlite3_stmt *st = r + (size_t)per <= rows ? many : one;
        int n = st == many ? per : 1;
        for (int k = 0; k < n; k++)
            for (int i = 0; i < nc; i++)
                bind(st, k * nc + i + 1, &cells[(r + (size_t)k) * (size_t)nc +
                                               (size_t)i]);
        run(db, st);
        r += (size_t)n;
        since += (size_t)n;
        if (since >= (size_t)commit_rows) {
            exec(db, "COMMIT; BEGIN");
            since = 0;
        }
    }
    exec(db, "COMMIT");
    sqlite3_finalize(many);
    sqlite3_finalize(one);
    sqlite3_close(db);      /* the last checkpoint, as sluice's exit */
    double wall = wall_now() - w0, cpu = cpu_now() - c0;
    printf("table %s: %zu rows, %d columns: %.3f s wall, %.3f s cpu, "
           "%.2f M rows/s (wall), %.2f M rows/s (cpu)\n", table, rows, nc,
           wall, cpu, (double)rows / wall / 1e6, (double)rows / cpu / 1e6);
    free(ddl);
    for (size_t i = 0; i < rows * (size_t)nc; i++)
        if (cells[i].type == SQLITE_TEXT)
            free(cells[i].v.z);
    free(cells);
    return 0;
}
