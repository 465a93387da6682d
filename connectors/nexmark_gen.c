/*
** nexmark_gen.c: the Nexmark event generator (see nexmark_gen.h).
**
** Every event draws its random numbers from a stream of its own, seeded by
** the seed and its number (see draw()), so an event of a kind the caller
** does not want costs nothing, and seeking is free.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench/prng.h"
#include "connectors/nexmark_gen.h"

#define PERSON_PROPORTION 1
#define AUCTION_PROPORTION 3
#define TOTAL_PROPORTION 50
#define FIRST_PERSON_ID 1000
#define FIRST_AUCTION_ID 1000
#define FIRST_CATEGORY_ID 10
#define NUM_CATEGORIES 5
#define ACTIVE_PEOPLE 1000
#define IN_FLIGHT_AUCTIONS 100
#define HOT_SELLER_RATIO 4
#define HOT_AUCTION_RATIO 2
#define HOT_BIDDER_RATIO 4
#define HOT_RANGE 100 /* ids rounded down to a multiple of this are "hot" */
#define AUCTION_ID_LEAD 10
#define PERSON_ID_LEAD 10
#define CHANNELS 10000
#define EXTRA_POOL (1u << 20)
#define URL_CAP 128
#define NAME_CAP 24
#define CHANNEL_CAP 16

static const char *const first_names[] = {"Peter", "Paul",  "Luke",   "John",   "Saul", "Vicky",
                                          "Kate",  "Julie", "Sarah",  "Deiter", "Walter"};
static const char *const last_names[] = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                         "Walton", "Smith",  "Jones",   "Noris"};
static const char *const cities[] = {"Phoenix", "Los Angeles", "San Francisco", "Boise",
                                     "Portland", "Bend",       "Redmond",       "Seattle",
                                     "Kent",     "Cheyenne"};
static const char *const states[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
static const char *const hot_channels[] = {"Google", "Facebook", "Baidu", "Apple"};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define NFIRST NELEM(first_names)
#define NLAST NELEM(last_names)

struct sl_nexmark_gen {
    sl_nexmark_config cfg;
    uint64_t rs;            /* splitmix64 state: the tables', then the event's */
    int64_t next;
    int64_t delay_ns;       /* event time between two events */
    char *extra_pool;       /* EXTRA_POOL letters */
    char *urls;             /* 4 hot URLs, then CHANNELS, URL_CAP each */
    int *url_len;
    char *channels;         /* "channel-<i>", CHANNEL_CAP each */
    int *channel_len;
    char names[NFIRST * NLAST][NAME_CAP]; /* "First Last" */
    int name_len[NFIRST * NLAST];
};

/* Random numbers: splitmix64 (the generator of Java's SplittableRandom,
** which Flink's Nexmark generator uses). Every event draws from its own
** stream, seeded by the seed and the event number (as Beam's Nexmark
** generator seeds a Random with the event id), so an event does not depend
** on the ones before it: a source that wants one kind skips the others
** without drawing their numbers, and seeking is free. */
static uint64_t draw(sl_nexmark_gen *g)
{
    return bench_splitmix64(&g->rs);
}

static uint64_t rnd(sl_nexmark_gen *g, uint64_t n)
{
    return n ? bench_below(draw(g), n) : 0;
}

static void seed_event(sl_nexmark_gen *g, int64_t n)
{
    uint64_t x = g->cfg.seed ^ ((uint64_t)n * 0xd1b54a32d192ed03ULL);
    g->rs = bench_splitmix64(&x);
}

/* nextString(maxLength): 3 + rand(max - 3) chars of a..z, space with p 1/13,
** trimmed. Returns the length written into out. */
static int next_string(sl_nexmark_gen *g, char *out, int max_len, char space)
{
    int n = 3 + (int)rnd(g, (uint64_t)(max_len - 3));
    for (int i = 0; i < n; i++)
        out[i] = rnd(g, 13) == 0 ? space : (char)('a' + rnd(g, 26));
    int s = 0, e = n;
    while (s < e && out[s] == space)
        s++;
    while (e > s && out[e - 1] == space)
        e--;
    memmove(out, out + s, (size_t)(e - s));
    return e - s;
}

/* nextExtra(current, average): a random slice of the pool. */
static void next_extra(sl_nexmark_gen *g, int current, int average, sl_nexmark_event *ev)
{
    ev->extra_len = 0;
    ev->extra = g->extra_pool;
    if (current > average)
        return;
    int d = average - current;
    int delta = (int)lround(0.2 * d);
    int n = d - delta + (int)rnd(g, (uint64_t)(2 * delta + 1));
    if (n <= 0)
        return;
    ev->extra = g->extra_pool + rnd(g, EXTRA_POOL - (uint64_t)n);
    ev->extra_len = n;
}

static int64_t next_price(sl_nexmark_gen *g)
{
    return llround(pow(10.0, bench_unit(draw(g)) * 6.0) * 100.0);
}

static int64_t last_base0_person(int64_t event_id)
{
    int64_t epoch = event_id / TOTAL_PROPORTION, offset = event_id % TOTAL_PROPORTION;
    if (offset >= PERSON_PROPORTION)
        offset = PERSON_PROPORTION - 1;
    return epoch * PERSON_PROPORTION + offset;
}

static int64_t last_base0_auction(int64_t event_id)
{
    int64_t epoch = event_id / TOTAL_PROPORTION, offset = event_id % TOTAL_PROPORTION;
    if (offset < PERSON_PROPORTION) {
        epoch--;
        offset = AUCTION_PROPORTION - 1;
    } else if (offset >= PERSON_PROPORTION + AUCTION_PROPORTION) {
        offset = AUCTION_PROPORTION - 1;
    } else {
        offset -= PERSON_PROPORTION;
    }
    return epoch * AUCTION_PROPORTION + offset;
}

static int64_t next_base0_person(sl_nexmark_gen *g, int64_t event_id)
{
    int64_t num_people = last_base0_person(event_id) + 1;
    int64_t active = num_people < ACTIVE_PEOPLE ? num_people : ACTIVE_PEOPLE;
    return num_people - active + (int64_t)rnd(g, (uint64_t)(active + PERSON_ID_LEAD));
}

static int64_t next_base0_auction(sl_nexmark_gen *g, int64_t event_id)
{
    int64_t max_auction = last_base0_auction(event_id);
    int64_t min_auction = max_auction - IN_FLIGHT_AUCTIONS;
    if (min_auction < 0)
        min_auction = 0;
    return min_auction + (int64_t)rnd(g, (uint64_t)(max_auction - min_auction + 1 + AUCTION_ID_LEAD));
}

int64_t sl_nexmark_time(const sl_nexmark_gen *g, int64_t n)
{
    return g->cfg.base_time_ms + n * g->delay_ns / 1000000;
}

int sl_nexmark_kind(int64_t n)
{
    int64_t rem = n % TOTAL_PROPORTION; /* in order: outOfOrderGroupSize = 1 */
    if (rem < PERSON_PROPORTION)
        return SL_NEXMARK_PERSON;
    if (rem < PERSON_PROPORTION + AUCTION_PROPORTION)
        return SL_NEXMARK_AUCTION;
    return SL_NEXMARK_BID;
}

static void gen_person(sl_nexmark_gen *g, int64_t event_id, sl_nexmark_event *ev)
{
    sl_nexmark_person *p = &ev->u.person;
    int first = (int)rnd(g, NFIRST);
    int last = (int)rnd(g, NLAST);
    p->name = g->names[first * (int)NLAST + last];
    p->name_len = g->name_len[first * (int)NLAST + last];
    int el = next_string(g, p->email, 7, ' ');
    p->email[el++] = '@';
    el += next_string(g, p->email + el, 5, ' ');
    memcpy(p->email + el, ".com", 4);
    p->email_len = el + 4;
    int cl = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t v = rnd(g, 10000);
        if (i)
            p->credit_card[cl++] = ' ';
        for (int k = 3; k >= 0; k--) {
            p->credit_card[cl + k] = (char)('0' + v % 10);
            v /= 10;
        }
        cl += 4;
    }
    p->credit_card_len = cl;
    p->city = cities[rnd(g, NELEM(cities))];
    p->state = states[rnd(g, NELEM(states))];
    p->city_len = (int)strlen(p->city);
    p->state_len = (int)strlen(p->state);
    next_extra(g, 8 + p->name_len + p->email_len + p->city_len + p->state_len, 200, ev);
    p->id = last_base0_person(event_id) + FIRST_PERSON_ID;
}

/* expires: 1 + rand(2 * horizon), horizon = the event time of the next
** in-flight-auctions' worth of events */
static uint64_t expires_range(const sl_nexmark_gen *g, int64_t event_number)
{
    int64_t n_events = (int64_t)IN_FLIGHT_AUCTIONS * TOTAL_PROPORTION / AUCTION_PROPORTION;
    int64_t horizon = sl_nexmark_time(g, event_number + n_events) -
                      sl_nexmark_time(g, event_number);
    return (uint64_t)(horizon * 2 > 1 ? horizon * 2 : 1);
}

static void gen_auction(sl_nexmark_gen *g, int64_t event_id, sl_nexmark_event *ev)
{
    sl_nexmark_auction *a = &ev->u.auction;
    a->id = last_base0_auction(event_id) + FIRST_AUCTION_ID;
    if (rnd(g, HOT_SELLER_RATIO) > 0)
        a->seller = (last_base0_person(event_id) / HOT_RANGE) * HOT_RANGE;
    else
        a->seller = next_base0_person(g, event_id);
    a->seller += FIRST_PERSON_ID;
    a->category = FIRST_CATEGORY_ID + (int64_t)rnd(g, NUM_CATEGORIES);
    a->item_name_len = next_string(g, a->item_name, 20, ' ');
    a->description_len = next_string(g, a->description, 100, ' ');
    a->initial_bid = next_price(g);
    a->reserve = a->initial_bid + next_price(g);
    a->expires = ev->date_time + 1 + (int64_t)rnd(g, expires_range(g, ev->number));
    next_extra(g, 8 + a->item_name_len + a->description_len + 5 * 8, 500, ev);
}

static void gen_bid(sl_nexmark_gen *g, int64_t event_id, sl_nexmark_event *ev)
{
    sl_nexmark_bid *b = &ev->u.bid;
    if (rnd(g, HOT_AUCTION_RATIO) > 0)
        b->auction = (last_base0_auction(event_id) / HOT_RANGE) * HOT_RANGE;
    else
        b->auction = next_base0_auction(g, event_id);
    b->auction += FIRST_AUCTION_ID;
    if (rnd(g, HOT_BIDDER_RATIO) > 0)
        b->bidder = (last_base0_person(event_id) / HOT_RANGE) * HOT_RANGE + 1;
    else
        b->bidder = next_base0_person(g, event_id);
    b->bidder += 2 * FIRST_PERSON_ID; /* the reference generator's quirk */
    b->price = next_price(g);
    int u;
    if (rnd(g, 2) == 0) {
        u = (int)rnd(g, 4);
        b->channel = hot_channels[u];
        b->channel_len = (int)strlen(b->channel);
    } else {
        int c = (int)rnd(g, CHANNELS);
        b->channel = g->channels + (size_t)c * CHANNEL_CAP;
        b->channel_len = g->channel_len[c];
        u = 4 + c;
    }
    b->url = g->urls + (size_t)u * URL_CAP;
    b->url_len = g->url_len[u];
    next_extra(g, 32, 100, ev);
}

int sl_nexmark_gen_next(sl_nexmark_gen *g, unsigned want, sl_nexmark_event *ev)
{
    int64_t n = g->next++;
    int kind = sl_nexmark_kind(n);
    if (!(want & (1u << kind)))
        return kind;                /* nothing to draw: see draw() */
    seed_event(g, n);
    ev->kind = kind;
    ev->number = n;
    ev->date_time = sl_nexmark_time(g, n);
    if (kind == SL_NEXMARK_BID)
        gen_bid(g, n, ev);
    else if (kind == SL_NEXMARK_AUCTION)
        gen_auction(g, n, ev);
    else
        gen_person(g, n, ev);
    return kind;
}

int64_t sl_nexmark_gen_position(const sl_nexmark_gen *g)
{
    return g->next;
}

void sl_nexmark_gen_seek(sl_nexmark_gen *g, int64_t n)
{
    g->next = n;
}

static void make_url(sl_nexmark_gen *g, int u, const char *tail)
{
    char a[8], b[8], c[8];
    int al = next_string(g, a, 5, '_'), bl = next_string(g, b, 5, '_');
    int cl = next_string(g, c, 5, '_');
    g->url_len[u] = snprintf(g->urls + (size_t)u * URL_CAP, URL_CAP,
                             "https://www.nexmark.com/%.*s/%.*s/%.*s/item.htm?query=1%s",
                             al, a, bl, b, cl, c, tail);
}

static uint32_t reverse_bits(uint32_t x)
{
    uint32_t r = 0;
    for (int i = 0; i < 32; i++) {
        r = (r << 1) | (x & 1);
        x >>= 1;
    }
    return r;
}

/* Java's Math.abs: INT32_MIN stays itself (abs() would be undefined) */
static int32_t java_abs(int32_t v)
{
    return v < 0 && v != INT32_MIN ? -v : v;
}

void sl_nexmark_config_default(sl_nexmark_config *cfg)
{
    cfg->seed = 42;
    cfg->base_time_ms = SL_NEXMARK_BASE_MS;
    cfg->rate = SL_NEXMARK_RATE;
}

sl_nexmark_gen *sl_nexmark_gen_new(const sl_nexmark_config *cfg)
{
    sl_nexmark_gen *g = calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    g->cfg = *cfg;
    g->delay_ns = 1000000000 / (cfg->rate > 0 ? cfg->rate : SL_NEXMARK_RATE);
    g->extra_pool = malloc(EXTRA_POOL);
    g->urls = malloc((size_t)(4 + CHANNELS) * URL_CAP);
    g->url_len = malloc(sizeof(int) * (4 + CHANNELS));
    g->channels = malloc((size_t)CHANNELS * CHANNEL_CAP);
    g->channel_len = malloc(sizeof(int) * CHANNELS);
    if (!g->extra_pool || !g->urls || !g->url_len || !g->channels || !g->channel_len) {
        sl_nexmark_gen_free(g);
        return NULL;
    }
    for (int f = 0; f < (int)NFIRST; f++)
        for (int l = 0; l < (int)NLAST; l++)
            g->name_len[f * (int)NLAST + l] = snprintf(g->names[f * (int)NLAST + l], NAME_CAP,
                                                       "%s %s", first_names[f], last_names[l]);
    for (int c = 0; c < CHANNELS; c++)
        g->channel_len[c] = snprintf(g->channels + (size_t)c * CHANNEL_CAP, CHANNEL_CAP,
                                     "channel-%d", c);
    /* the random tables, in the order the file generator has always drawn
    ** them: the pool, the hot URLs, the channel URLs */
    g->rs = cfg->seed;
    for (size_t i = 0; i < EXTRA_POOL; i++)
        g->extra_pool[i] = (char)('a' + rnd(g, 26));
    for (int h = 0; h < 4; h++)
        make_url(g, h, "");
    for (int c = 0; c < CHANNELS; c++) {
        char tail[40] = "";
        if (rnd(g, 10) > 0)
            snprintf(tail, sizeof tail, "&channel_id=%d",
                     java_abs((int32_t)reverse_bits((uint32_t)c)));
        make_url(g, 4 + c, tail);
    }
    return g;
}

void sl_nexmark_gen_free(sl_nexmark_gen *g)
{
    if (g == NULL)
        return;
    free(g->extra_pool);
    free(g->urls);
    free(g->url_len);
    free(g->channels);
    free(g->channel_len);
    free(g);
}
