/*
** nexmark_source.c: the in-process Nexmark source (see nexmark_source.h).
**
** Each call of next() runs the generator until max_rows events of the
** source's kind are out (or the stream's `events` are all generated),
** writing their fields into the batch's typed columns. Text that lives in
** the generator (names, channels, URLs, the `extra` padding pool) is
** pointed to, not copied; per-event text (e-mail, credit card, item name,
** description) is copied into the batch arena.
*/
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "connectors/nexmark_source.h"
#include "engine/error.h"

/* The fields of the three kinds, with the column names of the Nexmark DDL. */
typedef enum nx_field {
    F_P_ID, F_P_NAME, F_P_EMAIL, F_P_CARD, F_P_CITY, F_P_STATE,
    F_A_ID, F_A_ITEM, F_A_DESC, F_A_INITIAL, F_A_RESERVE, F_A_EXPIRES,
    F_A_SELLER, F_A_CATEGORY,
    F_B_AUCTION, F_B_BIDDER, F_B_PRICE, F_B_CHANNEL, F_B_URL,
    F_DATETIME, F_EXTRA
} nx_field;

typedef struct nx_column {
    const char *name;
    sl_type type;
    nx_field field;
} nx_column;

#define NX_END {NULL, SL_NULL, F_EXTRA}
static const nx_column person_cols[] = {
    {"id", SL_BIGINT, F_P_ID}, {"name", SL_TEXT, F_P_NAME},
    {"emailAddress", SL_TEXT, F_P_EMAIL}, {"creditCard", SL_TEXT, F_P_CARD},
    {"city", SL_TEXT, F_P_CITY}, {"state", SL_TEXT, F_P_STATE},
    {"dateTime", SL_TIMESTAMP, F_DATETIME}, {"extra", SL_TEXT, F_EXTRA}, NX_END
};
static const nx_column auction_cols[] = {
    {"id", SL_BIGINT, F_A_ID}, {"itemName", SL_TEXT, F_A_ITEM},
    {"description", SL_TEXT, F_A_DESC}, {"initialBid", SL_BIGINT, F_A_INITIAL},
    {"reserve", SL_BIGINT, F_A_RESERVE}, {"dateTime", SL_TIMESTAMP, F_DATETIME},
    {"expires", SL_TIMESTAMP, F_A_EXPIRES}, {"seller", SL_BIGINT, F_A_SELLER},
    {"category", SL_BIGINT, F_A_CATEGORY}, {"extra", SL_TEXT, F_EXTRA}, NX_END
};
static const nx_column bid_cols[] = {
    {"auction", SL_BIGINT, F_B_AUCTION}, {"bidder", SL_BIGINT, F_B_BIDDER},
    {"price", SL_BIGINT, F_B_PRICE}, {"channel", SL_TEXT, F_B_CHANNEL},
    {"url", SL_TEXT, F_B_URL}, {"dateTime", SL_TIMESTAMP, F_DATETIME},
    {"extra", SL_TEXT, F_EXTRA}, NX_END
};
static const nx_column *const kind_cols[] = {person_cols, auction_cols, bid_cols};
static const char *const kind_names[] = {"person", "auction", "bid"};

static const nx_column *find_column(int kind, const char *name)
{
    for (const nx_column *c = kind_cols[kind]; c->name; c++)
        if (strcasecmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* "id, name, ..." for error messages */
static void column_list(int kind, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (const nx_column *c = kind_cols[kind]; c->name && n < cap; c++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", c->name);
}

/* An integer option in [lo, hi]; 0 when absent (*v untouched). */
static int int_option(const sl_stmt *s, const char *key, int64_t lo,
                      int64_t hi, int64_t *v, sl_error *err)
{
    const sl_option *o = sl_stmt_option(s, key);
    if (o == NULL)
        return 0;
    char *end;
    errno = 0;
    long long x = strtoll(o->value, &end, 10);
    if (end == o->value || *end != 0 || errno != 0 || x < lo || x > hi) {
        if (hi >= INT64_MAX / 2)
            return sl_error_set(err, o->value_offset, "%s must be a whole "
                                "number of at least %" PRId64 ", not '%s'",
                                key, lo, o->value);
        return sl_error_set(err, o->value_offset, "%s must be a whole number "
                            "from %" PRId64 " to %" PRId64 ", not '%s'", key,
                            lo, hi, o->value);
    }
    *v = x;
    return 0;
}

int sl_nexmark_source_check(const sl_stmt *s, sl_source_def *d, sl_error *err)
{
    const sl_option *k = sl_stmt_option(s, "kind");
    if (k == NULL)
        return sl_error_set(err, sl_stmt_option(s, "connector")->offset,
                            "a nexmark source needs kind = 'person', "
                            "'auction' or 'bid'");
    d->nexmark_kind = -1;
    for (int i = 0; i < 3; i++)
        if (strcasecmp(k->value, kind_names[i]) == 0)
            d->nexmark_kind = i;
    if (d->nexmark_kind < 0)
        return sl_error_set(err, k->value_offset, "kind must be 'person', "
                            "'auction' or 'bid', not '%s'", k->value);
    sl_nexmark_config_default(&d->nexmark);
    int64_t seed = 42, rate = d->nexmark.rate;
    d->nexmark_events = 0;
    if (int_option(s, "events", 1, INT64_MAX / 2, &d->nexmark_events, err) ||
        int_option(s, "seed", 0, INT64_MAX, &seed, err) ||
        int_option(s, "event_rate", 1, 1000000000, &rate, err))
        return -1;
    d->nexmark.seed = (uint64_t)seed;
    d->nexmark.rate = rate;
    const sl_option *t = sl_stmt_option(s, "start_time");
    if (t != NULL && (sl_ts_parse(t->value, strlen(t->value),
                                  &d->nexmark.base_time_ms) != 0 ||
                      d->nexmark.base_time_ms < 0))
        return sl_error_set(err, t->value_offset, "start_time must be a "
                            "timestamp from 1970 on such as '2026-03-17 "
                            "00:00:00', not '%s'", t->value);
    /* a stream without an end is read like a followed file */
    d->follow = d->nexmark_events == 0;
    for (int i = 0; i < d->ndeclared; i++) {
        const sl_column_def *cd = &s->cols[i];
        const nx_column *c = find_column(d->nexmark_kind, d->col_names[i]);
        if (c == NULL) {
            char list[256];
            column_list(d->nexmark_kind, list, sizeof list);
            return sl_error_set(err, cd->offset, "a nexmark %s has no column "
                                "\"%s\" (its columns: %s)",
                                kind_names[d->nexmark_kind], cd->name, list);
        }
        if (c->type != d->col_types[i])
            return sl_error_set(err, cd->type_offset, "column \"%s\" of a "
                                "nexmark %s is %s, not %s", cd->name,
                                kind_names[d->nexmark_kind],
                                sl_type_name(c->type),
                                sl_type_name(d->col_types[i]));
    }
    return 0;
}

typedef struct nx_src {
    sl_source base;
    sl_nexmark_gen *g;
    int kind;
    int64_t events;         /* the stream's end, 0: none */
    int ncols;              /* declared columns */
    nx_field *field;        /* per declared column */
} nx_src;

static sl_str view(const char *z, int n)
{
    sl_str s = {z, n};
    return s;
}

static void fill_row(const nx_src *x, sl_batch *b, int r,
                     const sl_nexmark_event *ev)
{
    const sl_nexmark_person *p = &ev->u.person;
    const sl_nexmark_auction *a = &ev->u.auction;
    const sl_nexmark_bid *bid = &ev->u.bid;
    for (int c = 0; c < x->ncols; c++) {
        sl_column *col = &b->cols[c];
        col->null[r] = 0;
        switch (x->field[c]) {
        case F_P_ID: col->v.i[r] = p->id; break;
        case F_P_NAME: col->v.s[r] = view(p->name, p->name_len); break;
        case F_P_EMAIL:
            col->v.s[r] = sl_arena_strdup(&b->arena, p->email,
                                          (size_t)p->email_len);
            break;
        case F_P_CARD:
            col->v.s[r] = sl_arena_strdup(&b->arena, p->credit_card,
                                          (size_t)p->credit_card_len);
            break;
        case F_P_CITY: col->v.s[r] = view(p->city, p->city_len); break;
        case F_P_STATE: col->v.s[r] = view(p->state, p->state_len); break;
        case F_A_ID: col->v.i[r] = a->id; break;
        case F_A_ITEM:
            col->v.s[r] = sl_arena_strdup(&b->arena, a->item_name,
                                          (size_t)a->item_name_len);
            break;
        case F_A_DESC:
            col->v.s[r] = sl_arena_strdup(&b->arena, a->description,
                                          (size_t)a->description_len);
            break;
        case F_A_INITIAL: col->v.i[r] = a->initial_bid; break;
        case F_A_RESERVE: col->v.i[r] = a->reserve; break;
        case F_A_EXPIRES: col->v.i[r] = a->expires; break;
        case F_A_SELLER: col->v.i[r] = a->seller; break;
        case F_A_CATEGORY: col->v.i[r] = a->category; break;
        case F_B_AUCTION: col->v.i[r] = bid->auction; break;
        case F_B_BIDDER: col->v.i[r] = bid->bidder; break;
        case F_B_PRICE: col->v.i[r] = bid->price; break;
        case F_B_CHANNEL:
            col->v.s[r] = view(bid->channel, bid->channel_len);
            break;
        case F_B_URL: col->v.s[r] = view(bid->url, bid->url_len); break;
        case F_DATETIME: col->v.i[r] = ev->date_time; break;
        case F_EXTRA: col->v.s[r] = view(ev->extra, ev->extra_len); break;
        }
    }
    /* columns after the source's (a join's, window bounds) start NULL */
    for (int c = x->ncols; c < b->ncols; c++)
        b->cols[c].null[r] = 1;
    sl_rowloc *loc = &b->loc[r];
    loc->part = 0;
    loc->line = 0;
    loc->pos = ev->number;
    loc->ts_ms = 0;
}

static int nx_next(sl_source *s, sl_batch *b, int max_rows, sl_reject_fn reject,
                   void *ctx, int *done, sl_error *err)
{
    nx_src *x = (nx_src *)s;
    (void)reject;
    (void)ctx;
    (void)err;
    int64_t n = sl_nexmark_gen_position(x->g);
    int64_t end = x->events > 0 ? x->events : INT64_MAX;
    if (b->nrows + max_rows > b->cap)
        sl_batch_reserve(b, b->nrows + max_rows);
    int r = b->nrows, stop = b->nrows + max_rows;
    unsigned want = 1u << x->kind;
    sl_nexmark_event ev;
    for (; r < stop && n < end; n++)
        if (sl_nexmark_gen_next(x->g, want, &ev) == x->kind)
            fill_row(x, b, r++, &ev);
    int got = r - b->nrows;
    b->nrows = r;
    if (n >= end)
        *done = 1;
    return got;
}

static char *dup_text(const char *z)
{
    size_t n = strlen(z) + 1;
    return memcpy(sl_xmalloc(n), z, n);
}

static char *nx_position(const sl_source *s)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64,
             sl_nexmark_gen_position(((const nx_src *)s)->g));
    return dup_text(buf);
}

static int nx_seek(sl_source *s, const char *pos, sl_error *err)
{
    nx_src *x = (nx_src *)s;
    char *end;
    errno = 0;
    long long n = strtoll(pos, &end, 10);
    if (end == pos || *end != 0 || errno != 0 || n < 0 ||
        (x->events > 0 && n > x->events))
        return sl_error_set(err, -1, "bad saved position '%s' for a nexmark "
                            "source", pos);
    sl_nexmark_gen_seek(x->g, n);
    return 0;
}

static double nx_progress(const sl_source *s)
{
    const nx_src *x = (const nx_src *)s;
    if (x->events <= 0)
        return -1;
    return (double)sl_nexmark_gen_position(x->g) / (double)x->events;
}

static char *nx_location(const sl_source *s, const sl_rowloc *loc)
{
    char buf[48];
    snprintf(buf, sizeof buf, "nexmark %s event %" PRId64,
             kind_names[((const nx_src *)s)->kind], loc->pos);
    return dup_text(buf);
}

static void nx_close(sl_source *s)
{
    nx_src *x = (nx_src *)s;
    sl_nexmark_gen_free(x->g);
    free(x->field);
    free(x);
}

static const sl_source_vtab nexmark_vtab = {
    "nexmark", nx_next, nx_position, nx_seek, nx_progress, nx_location, NULL,
    NULL, nx_close
};

sl_source *sl_nexmark_source_open(const sl_source_def *def, sl_error *err)
{
    nx_src *x = sl_xcalloc(1, sizeof *x);
    x->base.vt = &nexmark_vtab;
    x->kind = def->nexmark_kind;
    x->events = def->nexmark_events;
    x->ncols = def->ndeclared;
    x->field = sl_xcalloc((size_t)(x->ncols > 0 ? x->ncols : 1), sizeof *x->field);
    for (int i = 0; i < x->ncols; i++) {
        const nx_column *c = find_column(x->kind, def->col_names[i]);
        if (c == NULL || c->type != def->col_types[i]) {
            nx_close(&x->base);
            sl_error_set(err, -1, "column \"%s\" does not fit a nexmark %s",
                         def->col_names[i], kind_names[def->nexmark_kind]);
            return NULL;
        }
        x->field[i] = c->field;
    }
    x->g = sl_nexmark_gen_new(&def->nexmark);
    if (x->g == NULL) {
        nx_close(&x->base);
        sl_error_set(err, -1, "out of memory for the nexmark generator");
        return NULL;
    }
    return &x->base;
}
