/*
** test_nexmark_source.c: the nexmark source connector over CREATE SOURCE
** statements: declared columns chosen by name (any case, any order, a
** subset) and filled with the generator's values, the bounded end of the
** stream (`events` counts all kinds), unbounded streams, position/seek
** resuming with the same events, progress, and the errors at their place
** (unknown kind, unknown column, wrong type, bad numbers, unknown option).
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/tap.h"
#include "tests/connectors/helpers.h"
#include "connectors/nexmark_source.h"
#include "grammar/parser.h"

static sl_stmt *stmts[64];
static int nstmts;

/* The definition of a CREATE SOURCE, or NULL with err set. */
static sl_source_def *define(const char *sql, sl_error *err)
{
    int pos = 0;
    sl_stmt *st = NULL;
    memset(err, 0, sizeof *err);
    if (sl_parse_next(sql, (int)strlen(sql), &pos, &st, err) != 1)
        return NULL;
    stmts[nstmts++] = st;
    return sl_source_def_new(st, err);
}

/* Reads the source in batches of step rows (at most max_batches of them)
** into out (its declared columns as text, one line per row). Returns the
** row count; *done as the source says. */
static int read_rows(sl_source *src, int ncols, const sl_type *types, int step,
                     int max_batches, char *out, size_t cap, int *done)
{
    sl_batch *b = sl_batch_new(ncols + 1, types, step); /* + a spare column */
    sl_error err;
    size_t len = strlen(out);
    int rows = 0;
    *done = 0;
    for (int i = 0; i < max_batches && !*done; i++) {
        sl_batch_reset(b);
        int n = src->vt->next(src, b, step, NULL, NULL, done, &err);
        if (n < 0 || n != b->nrows)
            break;
        for (int r = 0; r < n; r++) {
            for (int c = 0; c <= ncols; c++)
                len += (size_t)snprintf(out + len, cap - len, "%s%s", c ? "|" : "",
                                        cell(b, r, c));
            len += (size_t)snprintf(out + len, cap - len, "\n");
        }
        rows += n;
    }
    sl_batch_free(b);
    return rows;
}

static void test_columns(void)
{
    sl_error err;
    /* a subset, in another order, names in other cases */
    sl_source_def *d = define(
        "CREATE SOURCE b (Price BIGINT, DATETIME TIMESTAMP, auction BIGINT, "
        "channel TEXT, extra TEXT) WITH (connector = 'nexmark', kind = 'bid', "
        "events = 100);", &err);
    ok(d != NULL, "a bid source with a subset of the columns");
    if (d == NULL) {
        printf("# %s\n", err.msg);
        return;
    }
    ok(!d->follow, "events makes it bounded");
    sl_source *src = sl_source_open(d, "q", &err);
    is_str(src->vt->name, "nexmark", "vtab is nexmark");
    sl_type types[6];
    memcpy(types, d->col_types, sizeof(sl_type) * 5);
    types[5] = SL_BIGINT;
    static char got[1 << 16];
    got[0] = 0;
    int done;
    is_int(read_rows(src, 5, types, 1000, 10, got, sizeof got, &done), 92,
           "100 events of the stream hold 92 bids");
    is_int(done, 1, "then the source is done");

    /* the same bids straight from the generator */
    static char want[1 << 16];
    size_t len = 0;
    sl_nexmark_config cfg;
    sl_nexmark_config_default(&cfg);
    sl_nexmark_gen *g = sl_nexmark_gen_new(&cfg);
    sl_nexmark_event ev;
    for (int i = 0; i < 100; i++) {
        if (sl_nexmark_gen_next(g, SL_NEXMARK_ALL, &ev) != SL_NEXMARK_BID)
            continue;
        char ts[32];
        sl_ts_format(ev.date_time, ts);
        len += (size_t)snprintf(want + len, sizeof want - len,
                                "%lld|%s|%lld|%.*s|%.*s|NULL\n",
                                (long long)ev.u.bid.price, ts,
                                (long long)ev.u.bid.auction, ev.u.bid.channel_len,
                                ev.u.bid.channel, ev.extra_len, ev.extra);
    }
    sl_nexmark_gen_free(g);
    ok(strcmp(got, want) == 0, "columns by name hold the generator's bids; "
       "a column after the source's is NULL");
    if (strcmp(got, want) != 0)
        printf("# got:\n%.300s\n# want:\n%.300s\n", got, want);
    ok(src->vt->progress(src) == 1.0, "progress 1 at the end");
    char *pos = src->vt->position(src);
    is_str(pos, "100", "position: the next event number");
    free(pos);
    sl_rowloc loc = {0, 0, 42, 0};
    char *where = src->vt->location(src, &loc);
    is_str(where, "nexmark bid event 42", "location names the event");
    free(where);
    sl_source_close(src);
    sl_source_def_free(d);
}

/* persons and auctions: every field, checked against the generator */
static void test_kinds(void)
{
    sl_error err;
    sl_source_def *p = define(
        "CREATE SOURCE p (id BIGINT, name TEXT, emailAddress TEXT, creditCard "
        "TEXT, city TEXT, state TEXT, dateTime TIMESTAMP, extra TEXT) WITH "
        "(connector = 'nexmark', kind = 'person', events = 1000, seed = 7);",
        &err);
    sl_source_def *a = define(
        "CREATE SOURCE a (id BIGINT, itemName TEXT, description TEXT, "
        "initialBid BIGINT, reserve BIGINT, dateTime TIMESTAMP, expires "
        "TIMESTAMP, seller BIGINT, category BIGINT, extra TEXT) WITH "
        "(connector = 'nexmark', kind = 'AUCTION', events = 1000, seed = 7);",
        &err);
    ok(p != NULL && a != NULL, "person and auction sources with every column");
    if (p == NULL || a == NULL)
        return;
    sl_nexmark_config cfg;
    sl_nexmark_config_default(&cfg);
    cfg.seed = 7;
    sl_nexmark_gen *g = sl_nexmark_gen_new(&cfg);
    sl_nexmark_event ev;
    static char wp[1 << 16], wa[1 << 17], gp[1 << 16], ga[1 << 17];
    size_t lp = 0, la = 0;
    for (int i = 0; i < 1000; i++) {
        int k = sl_nexmark_gen_next(g, SL_NEXMARK_ALL, &ev);
        char t1[32], t2[32];
        sl_ts_format(ev.date_time, t1);
        if (k == SL_NEXMARK_PERSON) {
            const sl_nexmark_person *x = &ev.u.person;
            lp += (size_t)snprintf(wp + lp, sizeof wp - lp,
                                   "%lld|%.*s|%.*s|%.*s|%.*s|%.*s|%s|%.*s|NULL\n",
                                   (long long)x->id, x->name_len, x->name,
                                   x->email_len, x->email, x->credit_card_len,
                                   x->credit_card, x->city_len, x->city,
                                   x->state_len, x->state, t1, ev.extra_len,
                                   ev.extra);
        } else if (k == SL_NEXMARK_AUCTION) {
            const sl_nexmark_auction *x = &ev.u.auction;
            sl_ts_format(x->expires, t2);
            la += (size_t)snprintf(wa + la, sizeof wa - la,
                                   "%lld|%.*s|%.*s|%lld|%lld|%s|%s|%lld|%lld|%.*s|NULL\n",
                                   (long long)x->id, x->item_name_len,
                                   x->item_name, x->description_len,
                                   x->description, (long long)x->initial_bid,
                                   (long long)x->reserve, t1, t2,
                                   (long long)x->seller, (long long)x->category,
                                   ev.extra_len, ev.extra);
        }
    }
    sl_nexmark_gen_free(g);
    sl_type tp[9], ta[11];
    memcpy(tp, p->col_types, sizeof(sl_type) * 8);
    tp[8] = SL_TEXT;
    memcpy(ta, a->col_types, sizeof(sl_type) * 10);
    ta[10] = SL_TEXT;
    int done;
    sl_source *src = sl_source_open(p, "q", &err);
    gp[0] = 0;
    is_int(read_rows(src, 8, tp, 7, 100, gp, sizeof gp, &done), 20,
           "1000 events hold 20 persons (read 7 at a time)");
    sl_source_close(src);
    ok(strcmp(gp, wp) == 0, "every person column holds the generator's value");
    src = sl_source_open(a, "q", &err);
    ga[0] = 0;
    is_int(read_rows(src, 10, ta, 64, 100, ga, sizeof ga, &done), 60,
           "1000 events hold 60 auctions");
    sl_source_close(src);
    ok(strcmp(ga, wa) == 0, "every auction column holds the generator's value");
    sl_source_def_free(p);
    sl_source_def_free(a);
}

/* Stopping after k batches, saving the position and seeking a new source
** there gives the rest of the stream. */
static void test_resume(void)
{
    sl_error err;
    sl_source_def *d = define(
        "CREATE SOURCE b (auction BIGINT, bidder BIGINT, price BIGINT, url TEXT,"
        " dateTime TIMESTAMP) WITH (connector = 'nexmark', kind = 'bid', "
        "events = 5000);", &err);
    if (!ok(d != NULL, "a bid source of 5000 events"))
        return;
    sl_type types[6];
    memcpy(types, d->col_types, sizeof(sl_type) * 5);
    types[5] = SL_TEXT;
    static char whole[1 << 20], parts[1 << 20];
    int done;
    sl_source *src = sl_source_open(d, "q", &err);
    whole[0] = 0;
    int n = read_rows(src, 5, types, 100, 1000, whole, sizeof whole, &done);
    is_int(n, 4600, "4600 bids");
    sl_source_close(src);
    int all_same = 1;
    for (int k = 1; k <= 40; k += 13) {
        parts[0] = 0;
        src = sl_source_open(d, "q", &err);
        int first = read_rows(src, 5, types, 100, k, parts, sizeof parts, &done);
        char *pos = src->vt->position(src);
        sl_source_close(src);
        src = sl_source_open(d, "q", &err);
        if (src->vt->seek(src, pos, &err) != 0)
            all_same = 0;
        int rest = read_rows(src, 5, types, 100, 1000, parts, sizeof parts, &done);
        all_same &= first + rest == 4600 && strcmp(parts, whole) == 0 && done;
        sl_source_close(src);
        free(pos);
    }
    ok(all_same, "position after 1, 14, 27, 40 batches and seek: the same bids");
    src = sl_source_open(d, "q", &err);
    ok(src->vt->seek(src, "2500", &err) == 0, "seek to event 2500");
    ok(src->vt->progress(src) == 0.5, "progress 0.5");
    ok(src->vt->seek(src, "5001", &err) != 0 && strstr(err.msg, "'5001'"),
       "a position past the end is refused");
    ok(src->vt->seek(src, "x", &err) != 0, "a position that is not a number");
    sl_source_close(src);
    sl_source_def_free(d);
}

static void test_unbounded(void)
{
    sl_error err;
    sl_source_def *d = define(
        "CREATE SOURCE b (dateTime TIMESTAMP, WATERMARK FOR dateTime AS "
        "dateTime - INTERVAL '4' SECOND) WITH (connector = 'nexmark', kind = "
        "'bid', event_rate = 1000, start_time = '2020-01-01 00:00:00');", &err);
    if (!ok(d != NULL, "an unbounded source with event_rate and start_time"))
        return;
    ok(d->follow && d->event_time_col == 0 && d->watermark_delay_ms == 4000,
       "unbounded, event time dateTime, watermark 4 s");
    sl_source *src = sl_source_open(d, "q", &err);
    sl_batch *b = sl_batch_new(1, d->col_types, 16);
    int done = 0, total = 0;
    for (int i = 0; i < 100; i++) {
        sl_batch_reset(b);
        total += src->vt->next(src, b, 1000, NULL, NULL, &done, &err);
    }
    is_int(total, 100000, "100 batches of 1000 rows");
    is_int(done, 0, "and no end");
    ok(src->vt->progress(src) < 0, "progress unknown");
    /* bid number 100000 is event 108695 (92 bids per 100 events, the first
    ** four of each 50 are not bids): at 1000 events/s, 108.695 s */
    is_str(cell(b, 999, 0), "2020-01-01 00:01:48.695",
           "event time: start_time + event number / event_rate");
    sl_batch_free(b);
    sl_source_close(src);
    sl_source_def_free(d);
}

static void check_error(const char *sql, const char *msg, const char *at,
                        const char *name)
{
    sl_error err;
    sl_source_def *d = define(sql, &err);
    int good = d == NULL && strstr(err.msg, msg) != NULL &&
               err.offset == (int)(strstr(sql, at) - sql);
    ok(good, "%s", name);
    if (!good)
        printf("# got: %s at %d\n", err.msg, err.offset);
    sl_source_def_free(d);
}

static void test_errors(void)
{
    check_error("CREATE SOURCE b (price BIGINT) WITH (connector = 'nexmark', "
                "kind = 'bids');", "kind must be 'person', 'auction' or 'bid', "
                "not 'bids'", "'bids'", "unknown kind");
    check_error("CREATE SOURCE b (price BIGINT) WITH (connector = 'nexmark');",
                "needs kind =", "connector", "missing kind");
    check_error("CREATE SOURCE b (price BIGINT, seller BIGINT) WITH (connector "
                "= 'nexmark', kind = 'bid');", "a nexmark bid has no column "
                "\"seller\" (its columns: auction, bidder, price, channel, url, "
                "dateTime, extra)", "seller", "unknown column, at the column");
    check_error("CREATE SOURCE b (price TEXT) WITH (connector = 'nexmark', kind "
                "= 'bid');", "column \"price\" of a nexmark bid is BIGINT, not "
                "TEXT", "TEXT", "wrong type, at the type");
    check_error("CREATE SOURCE b (price BIGINT) WITH (connector = 'nexmark', "
                "kind = 'bid', events = -5);", "events must be a whole number "
                "of at least 1", "-5", "negative events");
    check_error("CREATE SOURCE b (price BIGINT) WITH (connector = 'nexmark', "
                "kind = 'bid', seed = 'abc');", "seed must be a whole number",
                "'abc'", "a seed that is not a number");
    check_error("CREATE SOURCE b (price BIGINT) WITH (connector = 'nexmark', "
                "kind = 'bid', start_time = 'soon');", "start_time must be a "
                "timestamp", "'soon'", "a bad start_time");
    check_error("CREATE SOURCE b (price BIGINT) WITH (connector = 'nexmark', "
                "kind = 'bid', event = 5);", "unknown option 'event' for "
                "connector 'nexmark' (did you mean 'events'?)", "event =",
                "a misspelt option");
    check_error("CREATE SOURCE b (price BIGINT) WITH (connector = 'nexmarc');",
                "unknown connector 'nexmarc' (use 'file', 'kafka' or "
                "'nexmark')", "'nexmarc'", "an unknown connector lists nexmark");
}

int main(void)
{
    test_columns();
    test_kinds();
    test_resume();
    test_unbounded();
    test_errors();
    for (int i = 0; i < nstmts; i++)
        sl_stmt_free(stmts[i]);
    return tap_done();
}
