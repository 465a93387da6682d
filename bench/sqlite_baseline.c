/* sqlite_baseline.c: the do-it-yourself peer of the benchmarks: what a
 * programmer would write instead of sluice with only SQLite at hand. It reads
 * the orders file that gen_orders wrote (CSV with header, or NDJSON), parses
 * each record by hand, and maintains the result of one workload in a SQLite
 * database (WAL, synchronous=NORMAL, as sluice runs it) with prepared
 * statements: batched INSERTs for B1 and one UPSERT per (window, key) an
 * event touches for B2..B6, in transactions of 10 000 input rows.
 *
 *   sqlite_baseline --workload b1..b6 --input FILE [--format csv|ndjson]
 *                   --db OUT.db [--stores stores.csv]
 *
 * Semantics are simpler than sluice's: no watermark, so late events are
 * counted into their windows instead of being set aside; window keys are
 * integer milliseconds; session windows (B4) extend the one open session of
 * the user that the event touches and never merge two sessions. The
 * comparison is of throughput for the same work, not of identical output.
 * It owns nothing beyond its run: one input buffer and one database. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TXN_ROWS 10000
#define MINUTE_MS INT64_C(60000)
#define GAP_MS INT64_C(30000)

typedef struct {
    int64_t order_id;
    const char *store_id;
    int store_len;
    const char *user_id;
    int user_len;
    double amount;
    const char *ts_text;
    int ts_len;
    int64_t ts_ms;
} order_rec;

static sqlite3 *db;

static void die_db(const char *what)
{
    fprintf(stderr, "sqlite_baseline: %s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
}

static void exec(const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "sqlite_baseline: %s: %s\n", sql, msg ? msg : "?");
        exit(1);
    }
}

static sqlite3_stmt *prep(const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        die_db(sql);
    return st;
}

static void step_reset(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        die_db("step");
    sqlite3_reset(st);
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

/* `YYYY-MM-DD HH:MM:SS.mmm` (the generator's only form) to epoch ms. */
static int64_t parse_ts(const char *p, int n)
{
    if (n < 19)
        return 0;
    int64_t days = days_from_civil(digits(p, 4), digits(p + 5, 2), digits(p + 8, 2));
    int64_t ms = days * 86400000 + digits(p + 11, 2) * INT64_C(3600000) +
                 digits(p + 14, 2) * INT64_C(60000) + digits(p + 17, 2) * INT64_C(1000);
    if (n >= 23)
        ms += digits(p + 20, 3);
    return ms;
}

/* One CSV line (no quotes in generated data): order_id,store,user,amount,ts */
static int parse_csv(char *line, char *end, order_rec *r)
{
    char *f[5];
    int len[5];
    char *p = line;
    for (int i = 0; i < 5; i++) {
        f[i] = p;
        while (p < end && *p != ',')
            p++;
        len[i] = (int)(p - f[i]);
        if (i < 4) {
            if (p >= end)
                return -1;
            p++;
        }
    }
    r->order_id = strtoll(f[0], NULL, 10);
    r->store_id = f[1];
    r->store_len = len[1];
    r->user_id = f[2];
    r->user_len = len[2];
    r->amount = strtod(f[3], NULL);
    r->ts_text = f[4];
    r->ts_len = len[4];
    r->ts_ms = parse_ts(f[4], len[4]);
    return 0;
}

/* One flat NDJSON object: "key":value pairs, string values without escapes
 * (what the generator writes). */
static int parse_json(char *line, char *end, order_rec *r)
{
    int seen = 0;
    char *p = line;
    while (p < end) {
        while (p < end && *p != '"')
            p++;
        if (p >= end)
            break;
        char *k = ++p;
        while (p < end && *p != '"')
            p++;
        int klen = (int)(p - k);
        p++;
        while (p < end && (*p == ':' || *p == ' '))
            p++;
        char *v;
        int vlen;
        if (p < end && *p == '"') {
            v = ++p;
            while (p < end && *p != '"')
                p++;
            vlen = (int)(p - v);
            p++;
        } else {
            v = p;
            while (p < end && *p != ',' && *p != '}')
                p++;
            vlen = (int)(p - v);
        }
        if (klen == 8 && !memcmp(k, "order_id", 8)) {
            r->order_id = strtoll(v, NULL, 10);
            seen |= 1;
        } else if (klen == 8 && !memcmp(k, "store_id", 8)) {
            r->store_id = v;
            r->store_len = vlen;
            seen |= 2;
        } else if (klen == 7 && !memcmp(k, "user_id", 7)) {
            r->user_id = v;
            r->user_len = vlen;
            seen |= 4;
        } else if (klen == 6 && !memcmp(k, "amount", 6)) {
            r->amount = strtod(v, NULL);
            seen |= 8;
        } else if (klen == 10 && !memcmp(k, "event_time", 10)) {
            r->ts_text = v;
            r->ts_len = vlen;
            r->ts_ms = parse_ts(v, vlen);
            seen |= 16;
        }
    }
    return seen == 31 ? 0 : -1;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "sqlite_baseline: cannot read %s\n", path);
        exit(1);
    }
    buf[n] = '\n';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void load_stores(const char *path)
{
    exec("CREATE TABLE stores (store_id TEXT PRIMARY KEY, region TEXT)");
    sqlite3_stmt *ins = prep("INSERT INTO stores VALUES (?1, ?2)");
    size_t len;
    char *buf = read_file(path, &len);
    char *p = memchr(buf, '\n', len) + 1; /* header */
    char *end = buf + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p) + 1);
        char *comma = memchr(p, ',', (size_t)(nl - p));
        if (comma) {
            sqlite3_bind_text(ins, 1, p, (int)(comma - p), SQLITE_STATIC);
            sqlite3_bind_text(ins, 2, comma + 1, (int)(nl - comma - 1), SQLITE_STATIC);
            step_reset(ins);
        }
        p = nl + 1;
    }
    sqlite3_finalize(ins);
    free(buf);
}

static int64_t floor_to(int64_t t, int64_t unit)
{
    int64_t q = t / unit;
    if (t % unit < 0)
        q--;
    return q * unit;
}

/* Apply one parsed order to the workload's result tables. */
static void process(int w, const order_rec *rp, sqlite3_stmt *st, sqlite3_stmt *st2)
{
    order_rec r = *rp;
    int64_t ws = floor_to(r.ts_ms, MINUTE_MS);
    switch (w) {
    case 1:
        if (r.amount > 250) {
            sqlite3_bind_int64(st, 1, r.order_id);
            sqlite3_bind_text(st, 2, r.store_id, r.store_len, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, r.user_id, r.user_len, SQLITE_STATIC);
            sqlite3_bind_double(st, 4, r.amount * 1.1);
            sqlite3_bind_text(st, 5, r.ts_text, r.ts_len, SQLITE_STATIC);
            step_reset(st);
        }
        break;
    case 2:
    case 6:
        sqlite3_bind_text(st, 1, r.store_id, r.store_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, ws);
        sqlite3_bind_double(st, 3, r.amount);
        step_reset(st);
        break;
    case 3: /* 10-minute windows every minute: the 10 that hold t */
        sqlite3_bind_text(st, 1, r.store_id, r.store_len, SQLITE_STATIC);
        sqlite3_bind_double(st, 3, r.amount);
        for (int k = 0; k < 10; k++) {
            sqlite3_bind_int64(st, 2, ws - k * MINUTE_MS);
            step_reset(st);
        }
        break;
    case 4:
        sqlite3_bind_text(st, 1, r.user_id, r.user_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, r.ts_ms);
        step_reset(st);
        if (sqlite3_changes(db) == 0) {
            sqlite3_bind_text(st2, 1, r.user_id, r.user_len, SQLITE_STATIC);
            sqlite3_bind_int64(st2, 2, r.ts_ms);
            step_reset(st2);
        }
        break;
    case 5:
        sqlite3_bind_int64(st, 1, ws);
        sqlite3_bind_text(st, 2, r.user_id, r.user_len, SQLITE_STATIC);
        step_reset(st);
        if (sqlite3_changes(db) == 1) {
            sqlite3_bind_int64(st2, 1, ws);
            step_reset(st2);
        }
        break;
    }
}

int main(int argc, char **argv)
{
    const char *workload = NULL, *input = NULL, *dbpath = NULL, *stores = NULL;
    int ndjson = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--workload"))
            workload = argv[i + 1];
        else if (!strcmp(argv[i], "--input"))
            input = argv[i + 1];
        else if (!strcmp(argv[i], "--db"))
            dbpath = argv[i + 1];
        else if (!strcmp(argv[i], "--stores"))
            stores = argv[i + 1];
        else if (!strcmp(argv[i], "--format"))
            ndjson = !strcmp(argv[i + 1], "ndjson") || !strcmp(argv[i + 1], "json");
        else
            workload = NULL, i = argc;
    }
    if (!workload || !input || !dbpath || strlen(workload) != 2 || workload[0] != 'b' ||
        workload[1] < '1' || workload[1] > '6' || (workload[1] == '6' && !stores)) {
        fprintf(stderr, "usage: sqlite_baseline --workload b1..b6 --input FILE "
                        "[--format csv|ndjson] --db OUT.db [--stores stores.csv]\n");
        return 2;
    }
    int w = workload[1] - '0';
    remove(dbpath);
    if (sqlite3_open(dbpath, &db) != SQLITE_OK)
        die_db(dbpath);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");

    sqlite3_stmt *st = NULL, *st2 = NULL;
    switch (w) {
    case 1:
        exec("CREATE TABLE b1 (order_id INTEGER, store_id TEXT, user_id TEXT, gross REAL, "
             "event_time TEXT)");
        st = prep("INSERT INTO b1 VALUES (?1, ?2, ?3, ?4, ?5)");
        break;
    case 2:
        exec("CREATE TABLE b2 (store_id TEXT, window_start INTEGER, n INTEGER, s REAL, a REAL, "
             "m REAL, PRIMARY KEY (store_id, window_start))");
        st = prep("INSERT INTO b2 (store_id, window_start, n, s, m) VALUES (?1, ?2, 1, ?3, ?3) "
                  "ON CONFLICT (store_id, window_start) DO UPDATE SET n = n + 1, "
                  "s = s + excluded.s, m = max(m, excluded.m)");
        break;
    case 3:
        exec("CREATE TABLE b3 (store_id TEXT, window_start INTEGER, s REAL, "
             "PRIMARY KEY (store_id, window_start))");
        st = prep("INSERT INTO b3 VALUES (?1, ?2, ?3) ON CONFLICT (store_id, window_start) "
                  "DO UPDATE SET s = s + excluded.s");
        break;
    case 4:
        exec("CREATE TABLE b4 (user_id TEXT, window_start INTEGER, window_end INTEGER, n INTEGER)");
        exec("CREATE INDEX b4_user ON b4 (user_id, window_end)");
        /* the event's window [t, t+gap) overlaps the session [s, e) */
        st = prep("UPDATE b4 SET window_start = min(window_start, ?2), "
                  "window_end = max(window_end, ?2 + 30000), n = n + 1 "
                  "WHERE rowid = (SELECT rowid FROM b4 WHERE user_id = ?1 AND window_end > ?2 "
                  "AND window_start < ?2 + 30000 LIMIT 1)");
        st2 = prep("INSERT INTO b4 VALUES (?1, ?2, ?2 + 30000, 1)");
        break;
    case 5:
        exec("CREATE TABLE b5_seen (window_start INTEGER, user_id TEXT, "
             "PRIMARY KEY (window_start, user_id)) WITHOUT ROWID");
        exec("CREATE TABLE b5 (window_start INTEGER PRIMARY KEY, users INTEGER)");
        st = prep("INSERT OR IGNORE INTO b5_seen VALUES (?1, ?2)");
        st2 = prep("INSERT INTO b5 VALUES (?1, 1) ON CONFLICT (window_start) "
                   "DO UPDATE SET users = users + 1");
        break;
    case 6:
        load_stores(stores);
        exec("CREATE TABLE b6 (region TEXT, window_start INTEGER, n INTEGER, s REAL, a REAL, "
             "m REAL, PRIMARY KEY (region, window_start))");
        st = prep("INSERT INTO b6 (region, window_start, n, s, m) "
                  "SELECT region, ?2, 1, ?3, ?3 FROM stores WHERE store_id = ?1 "
                  "ON CONFLICT (region, window_start) DO UPDATE SET n = n + 1, "
                  "s = s + excluded.s, m = max(m, excluded.m)");
        break;
    }

    FILE *in = fopen(input, "rb");
    if (!in) {
        perror(input);
        return 1;
    }
    size_t cap = 4u << 20, have = 0;
    char *buf = malloc(cap + 1);
    long rows = 0, bad = 0;
    int header = !ndjson, eof = 0;
    exec("BEGIN");
    while (!eof) {
        size_t n = fread(buf + have, 1, cap - have, in);
        have += n;
        if (n == 0) {
            eof = 1;
            if (have == 0)
                break;
            buf[have++] = '\n'; /* a last line without its newline */
        }
        char *p = buf, *end = buf + have;
        char *nl;
        while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            char *line = p;
            char *le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
            p = nl + 1;
            order_rec r;
            if (header) {
                header = 0;
                continue;
            }
            if (le == line)
                continue;
            if ((ndjson ? parse_json(line, le, &r) : parse_csv(line, le, &r)) != 0) {
                bad++;
                continue;
            }
            process(w, &r, st, st2);
            if (++rows % TXN_ROWS == 0) {
                exec("COMMIT");
                exec("BEGIN");
            }
        }
        have = (size_t)(end - p);
        memmove(buf, p, have);
        if (have == cap) {
            fprintf(stderr, "sqlite_baseline: line longer than %zu bytes\n", cap);
            return 1;
        }
    }
    fclose(in);
    if (w == 2)
        exec("UPDATE b2 SET a = s / n");
    if (w == 6)
        exec("UPDATE b6 SET a = s / n");
    exec("COMMIT");
    sqlite3_finalize(st);
    sqlite3_finalize(st2);
    free(buf);
    if (sqlite3_close(db) != SQLITE_OK)
        die_db("close");
    fprintf(stderr, "sqlite_baseline: %s: %ld rows, %ld unparsable\n", workload, rows, bad);
    return bad ? 1 : 0;
}
