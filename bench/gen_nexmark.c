/* gen_nexmark.c: a Nexmark event generator in C, following the model of the
 * reference Java generator as summarised in ../shared/nexmark/GENERATOR.md:
 * Person / Auction / Bid in the 1:3:46 mix decided by event id % 50, ids from
 * 1000, event time 100 us per event (10 000 events/s) from 2026-03-17 UTC in
 * order, hot sellers / auctions / bidders, log-uniform prices, the string,
 * channel, URL and `extra` padding rules and the +2000 bidder offset quirk.
 * Values come from a seeded xoshiro256** (bench/prng.h) instead of Java's
 * unseeded SplittableRandom, so the same seed gives byte-identical files.
 *
 * sluice sources have flat typed columns, so each kind goes to its own file:
 * DIR/persons.EXT, DIR/auctions.EXT, DIR/bids.EXT (EXT csv with a header, or
 * ndjson), with the column names of the Nexmark DDL (dateTime, itemName...).
 *
 *   gen_nexmark --events N [--format csv|ndjson] [--seed S] --dir DIR
 */
#include "fmt.h"
#include "prng.h"

#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>

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

static bench_rng rng;
static char *extra_pool;
static char hot_urls[4][96];
static char *channel_urls; /* CHANNELS entries of 128 bytes, NUL-terminated */
static int ndjson;

static uint64_t rnd(uint64_t n)
{
    return n ? bench_rng_below(&rng, n) : 0;
}

/* nextString(maxLength): 3 + rand(max - 3) chars of a..z, space with p 1/13,
 * trimmed. Returns the length written into out. */
static int next_string(char *out, int max_len, char space)
{
    int n = 3 + (int)rnd((uint64_t)(max_len - 3));
    for (int i = 0; i < n; i++)
        out[i] = rnd(13) == 0 ? space : (char)('a' + rnd(26));
    int s = 0, e = n;
    while (s < e && out[s] == space)
        s++;
    while (e > s && out[e - 1] == space)
        e--;
    memmove(out, out + s, (size_t)(e - s));
    return e - s;
}

/* nextExtra(current, average): a random slice of the pool. */
static void next_extra(int current, int average, const char **p, int *len)
{
    *len = 0;
    *p = extra_pool;
    if (current > average)
        return;
    int d = average - current;
    int delta = (int)lround(0.2 * d);
    int n = d - delta + (int)rnd((uint64_t)(2 * delta + 1));
    if (n <= 0)
        return;
    *p = extra_pool + rnd(EXTRA_POOL - (uint64_t)n);
    *len = n;
}

static int64_t next_price(void)
{
    return llround(pow(10.0, bench_rng_unit(&rng) * 6.0) * 100.0);
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

static int64_t next_base0_person(int64_t event_id)
{
    int64_t num_people = last_base0_person(event_id) + 1;
    int64_t active = num_people < ACTIVE_PEOPLE ? num_people : ACTIVE_PEOPLE;
    return num_people - active + (int64_t)rnd((uint64_t)(active + PERSON_ID_LEAD));
}

static int64_t next_base0_auction(int64_t event_id)
{
    int64_t max_auction = last_base0_auction(event_id);
    int64_t min_auction = max_auction - IN_FLIGHT_AUCTIONS;
    if (min_auction < 0)
        min_auction = 0;
    return min_auction + (int64_t)rnd((uint64_t)(max_auction - min_auction + 1 + AUCTION_ID_LEAD));
}

static int64_t event_ts(int64_t event_number)
{
    return BENCH_BASE_MS + event_number * 100 / 1000; /* 100 us per event */
}

/* ---- output helpers: one field at a time, CSV or NDJSON ---- */

static void field_name(bench_out *o, const char *name, int first)
{
    if (ndjson) {
        if (first)
            bench_putc(o, '{');
        else
            bench_putc(o, ',');
        bench_putc(o, '"');
        bench_put(o, name, strlen(name));
        BENCH_PUTS(o, "\":");
    } else if (!first) {
        bench_putc(o, ',');
    }
}

static void put_int(bench_out *o, const char *name, int first, int64_t v)
{
    field_name(o, name, first);
    bench_put_i64(o, v);
}

static void put_str(bench_out *o, const char *name, int first, const char *s, size_t n)
{
    field_name(o, name, first);
    if (ndjson)
        bench_putc(o, '"');
    bench_put(o, s, n);
    if (ndjson)
        bench_putc(o, '"');
}

static void put_ts(bench_out *o, const char *name, int first, int64_t ms)
{
    field_name(o, name, first);
    if (ndjson)
        bench_putc(o, '"');
    bench_put_ts(o, ms);
    if (ndjson)
        bench_putc(o, '"');
}

static void end_record(bench_out *o)
{
    if (ndjson)
        bench_putc(o, '}');
    bench_putc(o, '\n');
    bench_out_maybe_flush(o);
}

static void gen_person(bench_out *o, int64_t event_id, int64_t ts)
{
    char email[16], cc[24];
    const char *first = first_names[rnd(NELEM(first_names))];
    const char *last = last_names[rnd(NELEM(last_names))];
    char name[32];
    int nl = snprintf(name, sizeof name, "%s %s", first, last);
    int el = next_string(email, 7, ' ');
    email[el++] = '@';
    el += next_string(email + el, 5, ' ');
    memcpy(email + el, ".com", 4);
    el += 4;
    int cl = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t g = rnd(10000);
        if (i)
            cc[cl++] = ' ';
        for (int k = 3; k >= 0; k--) {
            cc[cl + k] = (char)('0' + g % 10);
            g /= 10;
        }
        cl += 4;
    }
    const char *city = cities[rnd(NELEM(cities))];
    const char *state = states[rnd(NELEM(states))];
    const char *extra;
    int xl;
    next_extra(8 + nl + el + (int)strlen(city) + (int)strlen(state), 200, &extra, &xl);
    put_int(o, "id", 1, last_base0_person(event_id) + FIRST_PERSON_ID);
    put_str(o, "name", 0, name, (size_t)nl);
    put_str(o, "emailAddress", 0, email, (size_t)el);
    put_str(o, "creditCard", 0, cc, (size_t)cl);
    put_str(o, "city", 0, city, strlen(city));
    put_str(o, "state", 0, state, strlen(state));
    put_ts(o, "dateTime", 0, ts);
    put_str(o, "extra", 0, extra, (size_t)xl);
    end_record(o);
}

static void gen_auction(bench_out *o, int64_t event_id, int64_t event_number, int64_t ts)
{
    char item[24], desc[104];
    int64_t id = last_base0_auction(event_id) + FIRST_AUCTION_ID;
    int64_t seller;
    if (rnd(HOT_SELLER_RATIO) > 0)
        seller = (last_base0_person(event_id) / HOT_RANGE) * HOT_RANGE;
    else
        seller = next_base0_person(event_id);
    seller += FIRST_PERSON_ID;
    int64_t category = FIRST_CATEGORY_ID + (int64_t)rnd(NUM_CATEGORIES);
    int il = next_string(item, 20, ' ');
    int dl = next_string(desc, 100, ' ');
    int64_t initial = next_price();
    int64_t reserve = initial + next_price();
    /* expires: 1 + rand(2 * horizon), horizon = the event time of the next
     * in-flight-auctions' worth of events */
    int64_t n_events = (int64_t)IN_FLIGHT_AUCTIONS * TOTAL_PROPORTION / AUCTION_PROPORTION;
    int64_t horizon = event_ts(event_number + n_events) - ts;
    int64_t expires = ts + 1 + (int64_t)rnd((uint64_t)(horizon * 2 > 1 ? horizon * 2 : 1));
    const char *extra;
    int xl;
    next_extra(8 + il + dl + 5 * 8, 500, &extra, &xl);
    put_int(o, "id", 1, id);
    put_str(o, "itemName", 0, item, (size_t)il);
    put_str(o, "description", 0, desc, (size_t)dl);
    put_int(o, "initialBid", 0, initial);
    put_int(o, "reserve", 0, reserve);
    put_ts(o, "dateTime", 0, ts);
    put_ts(o, "expires", 0, expires);
    put_int(o, "seller", 0, seller);
    put_int(o, "category", 0, category);
    put_str(o, "extra", 0, extra, (size_t)xl);
    end_record(o);
}

static void gen_bid(bench_out *o, int64_t event_id, int64_t ts)
{
    int64_t auction, bidder;
    if (rnd(HOT_AUCTION_RATIO) > 0)
        auction = (last_base0_auction(event_id) / HOT_RANGE) * HOT_RANGE;
    else
        auction = next_base0_auction(event_id);
    auction += FIRST_AUCTION_ID;
    if (rnd(HOT_BIDDER_RATIO) > 0)
        bidder = (last_base0_person(event_id) / HOT_RANGE) * HOT_RANGE + 1;
    else
        bidder = next_base0_person(event_id);
    bidder += 2 * FIRST_PERSON_ID; /* the reference generator's quirk */
    int64_t price = next_price();
    const char *channel, *url;
    char chan[16];
    if (rnd(2) == 0) {
        int h = (int)rnd(4);
        channel = hot_channels[h];
        url = hot_urls[h];
    } else {
        int c = (int)rnd(CHANNELS);
        snprintf(chan, sizeof chan, "channel-%d", c);
        channel = chan;
        url = channel_urls + (size_t)c * 128;
    }
    const char *extra;
    int xl;
    next_extra(32, 100, &extra, &xl);
    put_int(o, "auction", 1, auction);
    put_int(o, "bidder", 0, bidder);
    put_int(o, "price", 0, price);
    put_str(o, "channel", 0, channel, strlen(channel));
    put_str(o, "url", 0, url, strlen(url));
    put_ts(o, "dateTime", 0, ts);
    put_str(o, "extra", 0, extra, (size_t)xl);
    end_record(o);
}

static void make_url(char *out, size_t cap, const char *tail)
{
    char a[8], b[8], c[8];
    int al = next_string(a, 5, '_'), bl = next_string(b, 5, '_'), cl = next_string(c, 5, '_');
    snprintf(out, cap, "https://www.nexmark.com/%.*s/%.*s/%.*s/item.htm?query=1%s", al, a, bl, b,
             cl, c, tail);
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

static int open_out(bench_out *o, const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ndjson ? "ndjson" : "csv");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    bench_out_open(o, fd);
    return fd;
}

int main(int argc, char **argv)
{
    uint64_t events = 0, seed = 42;
    const char *dir = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--events"))
            events = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--dir"))
            dir = argv[i + 1];
        else if (!strcmp(argv[i], "--format"))
            ndjson = !strcmp(argv[i + 1], "ndjson") || !strcmp(argv[i + 1], "json");
        else
            dir = NULL, i = argc;
    }
    if (!dir || events == 0) {
        fprintf(stderr, "usage: gen_nexmark --events N [--format csv|ndjson] [--seed S] --dir DIR\n");
        return 2;
    }
    mkdir(dir, 0755);
    bench_rng_seed(&rng, seed);
    extra_pool = malloc(EXTRA_POOL);
    channel_urls = malloc((size_t)CHANNELS * 128);
    if (!extra_pool || !channel_urls)
        return 1;
    for (size_t i = 0; i < EXTRA_POOL; i++)
        extra_pool[i] = (char)('a' + rnd(26));
    for (int h = 0; h < 4; h++)
        make_url(hot_urls[h], sizeof hot_urls[h], "");
    for (int c = 0; c < CHANNELS; c++) {
        char tail[40] = "";
        if (rnd(10) > 0)
            snprintf(tail, sizeof tail, "&channel_id=%d",
                     abs((int32_t)reverse_bits((uint32_t)c)));
        make_url(channel_urls + (size_t)c * 128, 128, tail);
    }

    bench_out persons, auctions, bids;
    int fds[3] = {open_out(&persons, dir, "persons"), open_out(&auctions, dir, "auctions"),
                  open_out(&bids, dir, "bids")};
    if (!ndjson) {
        BENCH_PUTS(&persons, "id,name,emailAddress,creditCard,city,state,dateTime,extra\n");
        BENCH_PUTS(&auctions, "id,itemName,description,initialBid,reserve,dateTime,expires,"
                              "seller,category,extra\n");
        BENCH_PUTS(&bids, "auction,bidder,price,channel,url,dateTime,extra\n");
    }
    for (uint64_t n = 0; n < events; n++) {
        int64_t event_id = (int64_t)n; /* in order: outOfOrderGroupSize = 1 */
        int64_t ts = event_ts((int64_t)n);
        int64_t rem = event_id % TOTAL_PROPORTION;
        if (rem < PERSON_PROPORTION)
            gen_person(&persons, event_id, ts);
        else if (rem < PERSON_PROPORTION + AUCTION_PROPORTION)
            gen_auction(&auctions, event_id, (int64_t)n, ts);
        else
            gen_bid(&bids, event_id, ts);
    }
    bench_out_close(&persons);
    bench_out_close(&auctions);
    bench_out_close(&bids);
    for (int i = 0; i < 3; i++)
        if (close(fds[i]) != 0) {
            perror("close");
            return 1;
        }
    free(extra_pool);
    free(channel_urls);
    return 0;
}
