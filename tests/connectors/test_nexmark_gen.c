/*
** test_nexmark_gen.c: the Nexmark generator model (connectors/nexmark_gen.c):
** the same values as bench/gen_nexmark wrote before the model moved into the
** library (records of its seed-42 files, kept below), determinism per seed,
** the 1:3:46 mix, readers of one kind seeing the same events as the full
** stream, seeking forward and back, and the event-time options.
*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "tests/tap.h"
#include "connectors/decoder.h"
#include "connectors/nexmark_gen.h"

/* Records of bench/gen_nexmark --events 1000000 --seed 42 (CSV), since
** every event draws from a stream of its own (seed and event number):
** persons.csv records 1 and 200, auctions.csv 1 and 600, bids.csv 1000. */
static const char person1[] =
    "1000,John Noris,bts@fxor.com,1329 6699 9866 7723,Phoenix,WA,2026-0"
    "3-17 00:00:00.000,tbgoiofmtamrsvbevptryltgyhvhgifmagfncqohlestrznv"
    "mlwisvauconzvcocnfytnseszbawyletwaowvhgbtobghmifwwwgagjegzatuiqcto"
    "ngpmrprzmaivvpcxjksrppjwmppagnxblqncqzumshrbuoqdenqkplngccjywvngrb"
    "hgus";
static const char person200[] =
    "1199,Deiter Shultz,mrqjja@yqj.com,8218 7035 9894 6635,San Francisc"
    "o,WA,2026-03-17 00:00:00.995,xzrtgwsbgtexjtmodhdfimgcrydtyuipuizez"
    "qjqqeiobaoepnzcwrlpicjnlajgmaluyeekdfuhrviyhzxshzkwyecudwepjcsnvao"
    "dfrwoaqqqadtlgkudbfiamzrkdvzbolnvzcilxvvezgctaqbeaoicqmqgohbbiqtmy"
    "javvaf";
static const char auction1[] =
    "1000,iotbudntmmmee vt,zrjieeeyez oz tluw bqycdffqsjqca vkxamwowhby"
    "xhhiuuih mn  guaaretzm nfetwhsjwwkghozvbkrgwcehv,2593266,2653459,2"
    "026-03-17 00:00:00.000,2026-03-17 00:00:00.007,1000,14,crxiqrvtuiz"
    "ioewhajssviadmirdtmsvnxmsxqunnqhgusiqllzgatrtrhqilvpfsnfvfwqisxadp"
    "ewutvofdohejskvbqlelbllalclomcpfwbmlevbdtoyzhmnypbthtrtsbtrxxyfspa"
    "nxbmxnppuopxzqumeqbfmdplackxqdxtjjivbmzbiujfpfoywosocusavpssxnpdot"
    "zrffjqwtvotybxtmlgnfgrxzvtgfuwbuisrwngqxzjbbdkdseutodffitxsvuwmrlh"
    "mmccxexwcvolwjiamdyincehrhlquruiwmchcaekaybkhjkcrtnqhxhrzazlcywzcq"
    "xjeqwbtifuknscsuh";
static const char auction600[] =
    "1599,xhcikwt ubbf,krzcaufagn yhrctsa onmtmwfnfizcdrkegyfeoqyyajquk"
    "epkqmyorwustubyb aznurftdskf cfqow xzlwxxxhrdji,2402526,2402769,20"
    "26-03-17 00:00:00.995,2026-03-17 00:00:00.999,1100,10,unpeityzrnhc"
    "omqcpvcidlwokopzbvnsoupjthliehhkpgpyuovogpfxmddyevtfcacjdfpjfkvqbz"
    "afkcpxxeggowquaxyofixroeutusshauizdbrdymwhtssikbgtrvacpkxdnntvuxjl"
    "vdynykobrvjrgaduozeadenotwyvnpbbaldpkgafedsdjeartvabufsjclgudinoli"
    "kebmxluculqahjikxpgnbukjwusmpcdozqesnuqwsmyesmpmhmewxnebcliphzhvww"
    "vtijjlbwtiwau";
static const char bid1000[] =
    "1072,2001,68110,Facebook,https://www.nexmark.com/ipi/mw/ljb/item.h"
    "tm?query=1,2026-03-17 00:00:00.108,neljftgndwdgycqtarlehcaewqjbmib"
    "drtnbdfsjijivcvnjncpmtvtnyyqyxjjxwkrhjojregqqamkbx";

/* The event as gen_nexmark's CSV record (no field needs quoting). */
static const char *csv(const sl_nexmark_event *ev)
{
    static char out[1024];
    char t1[32], t2[32];
    sl_ts_format(ev->date_time, t1);
    if (ev->kind == SL_NEXMARK_PERSON) {
        const sl_nexmark_person *p = &ev->u.person;
        snprintf(out, sizeof out, "%lld,%.*s,%.*s,%.*s,%.*s,%.*s,%s,%.*s",
                 (long long)p->id, p->name_len, p->name, p->email_len, p->email,
                 p->credit_card_len, p->credit_card, p->city_len, p->city,
                 p->state_len, p->state, t1, ev->extra_len, ev->extra);
    } else if (ev->kind == SL_NEXMARK_AUCTION) {
        const sl_nexmark_auction *a = &ev->u.auction;
        sl_ts_format(a->expires, t2);
        snprintf(out, sizeof out, "%lld,%.*s,%.*s,%lld,%lld,%s,%s,%lld,%lld,%.*s",
                 (long long)a->id, a->item_name_len, a->item_name,
                 a->description_len, a->description, (long long)a->initial_bid,
                 (long long)a->reserve, t1, t2, (long long)a->seller,
                 (long long)a->category, ev->extra_len, ev->extra);
    } else {
        const sl_nexmark_bid *b = &ev->u.bid;
        snprintf(out, sizeof out, "%lld,%lld,%lld,%.*s,%.*s,%s,%.*s",
                 (long long)b->auction, (long long)b->bidder, (long long)b->price,
                 b->channel_len, b->channel, b->url_len, b->url, t1,
                 ev->extra_len, ev->extra);
    }
    return out;
}

static uint64_t fnv(uint64_t h, const char *z)
{
    for (; *z; z++)
        h = (h ^ (unsigned char)*z) * 0x100000001b3ULL;
    return h;
}

/* Hash of the records of the kinds in want among the first n events. */
static uint64_t stream_hash(const sl_nexmark_config *cfg, unsigned want, int64_t n)
{
    sl_nexmark_gen *g = sl_nexmark_gen_new(cfg);
    sl_nexmark_event ev;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int64_t i = 0; i < n; i++)
        if (want & (1u << sl_nexmark_gen_next(g, want, &ev)))
            h = fnv(h, csv(&ev));
    sl_nexmark_gen_free(g);
    return h;
}

static void test_golden(void)
{
    sl_nexmark_config cfg;
    sl_nexmark_config_default(&cfg);
    sl_nexmark_gen *g = sl_nexmark_gen_new(&cfg);
    sl_nexmark_event ev;
    int persons = 0, auctions = 0, bids = 0;
    while (bids < 1000) {
        int k = sl_nexmark_gen_next(g, SL_NEXMARK_ALL, &ev);
        if (k == SL_NEXMARK_PERSON && ++persons == 1)
            is_str(csv(&ev), person1, "person 1 as gen_nexmark wrote it");
        if (k == SL_NEXMARK_PERSON && persons == 200)
            is_str(csv(&ev), person200, "person 200 as gen_nexmark wrote it");
        if (k == SL_NEXMARK_AUCTION && ++auctions == 1)
            is_str(csv(&ev), auction1, "auction 1 as gen_nexmark wrote it");
        if (k == SL_NEXMARK_AUCTION && auctions == 600)
            is_str(csv(&ev), auction600, "auction 600 as gen_nexmark wrote it");
        if (k == SL_NEXMARK_BID && ++bids == 1000)
            is_str(csv(&ev), bid1000, "bid 1000 as gen_nexmark wrote it");
    }
    sl_nexmark_gen_free(g);
}

static void test_mix(void)
{
    sl_nexmark_config cfg;
    sl_nexmark_config_default(&cfg);
    sl_nexmark_gen *g = sl_nexmark_gen_new(&cfg);
    sl_nexmark_event ev;
    int count[3] = {0, 0, 0}, pattern_ok = 1;
    for (int64_t n = 0; n < 50000; n++) {
        int k = sl_nexmark_gen_next(g, SL_NEXMARK_ALL, &ev);
        count[k]++;
        int want = n % 50 < 1 ? SL_NEXMARK_PERSON
                   : n % 50 < 4 ? SL_NEXMARK_AUCTION : SL_NEXMARK_BID;
        if (k != want || k != sl_nexmark_kind(n) || ev.number != n)
            pattern_ok = 0;
    }
    is_int(count[0], 1000, "50000 events hold 1000 persons");
    is_int(count[1], 3000, "3000 auctions");
    is_int(count[2], 46000, "46000 bids");
    ok(pattern_ok, "each 50 events: 1 person, 3 auctions, 46 bids, in that order");
    is_int(sl_nexmark_gen_position(g), 50000, "position is the next event number");
    sl_nexmark_gen_free(g);
}

static void test_determinism(void)
{
    sl_nexmark_config cfg;
    sl_nexmark_config_default(&cfg);
    uint64_t a = stream_hash(&cfg, SL_NEXMARK_ALL, 100000);
    ok(a == stream_hash(&cfg, SL_NEXMARK_ALL, 100000), "the same seed gives the same stream");
    cfg.seed = 43;
    ok(a != stream_hash(&cfg, SL_NEXMARK_ALL, 100000), "another seed gives another stream");
    /* a reader of one kind sees exactly that kind of the full stream */
    cfg.seed = 42;
    const char *what[] = {"persons", "auctions", "bids"};
    for (int k = 0; k < 3; k++) {
        sl_nexmark_gen *full = sl_nexmark_gen_new(&cfg);
        sl_nexmark_gen *one = sl_nexmark_gen_new(&cfg);
        sl_nexmark_event e1, e2;
        int same = 1, n = 0;
        for (int64_t i = 0; i < 200000; i++) {
            int k1 = sl_nexmark_gen_next(full, SL_NEXMARK_ALL, &e1);
            int k2 = sl_nexmark_gen_next(one, 1u << k, &e2);
            if (k1 != k2)
                same = 0;
            if (k1 == k) {
                char a1[1024];
                snprintf(a1, sizeof a1, "%s", csv(&e1));
                same &= strcmp(a1, csv(&e2)) == 0;
                n++;
            }
        }
        ok(same && n > 0, "a %s-only reader gets the %d %s of the full stream",
           what[k], n, what[k]);
        sl_nexmark_gen_free(full);
        sl_nexmark_gen_free(one);
    }
}

static void test_seek(void)
{
    sl_nexmark_config cfg;
    sl_nexmark_config_default(&cfg);
    sl_nexmark_gen *g = sl_nexmark_gen_new(&cfg);
    sl_nexmark_event ev;
    char at[3][1024];
    const int64_t marks[3] = {7, 12345, 12399};
    for (int64_t n = 0, m = 0; m < 3; n++) {
        sl_nexmark_gen_next(g, SL_NEXMARK_ALL, &ev);
        if (n == marks[m])
            snprintf(at[m++], sizeof at[0], "%s", csv(&ev));
    }
    sl_nexmark_gen_seek(g, 12345);     /* backward: from the seed */
    sl_nexmark_gen_next(g, SL_NEXMARK_ALL, &ev);
    is_str(csv(&ev), at[1], "seek back to event 12345");
    sl_nexmark_gen_seek(g, 12399);     /* forward */
    sl_nexmark_gen_next(g, SL_NEXMARK_ALL, &ev);
    is_str(csv(&ev), at[2], "seek forward to event 12399");
    sl_nexmark_gen_seek(g, 7);
    sl_nexmark_gen_next(g, SL_NEXMARK_ALL, &ev);
    is_str(csv(&ev), at[0], "seek back to event 7");
    is_int(ev.number, 7, "its number");
    sl_nexmark_gen_free(g);
}

static void test_time(void)
{
    sl_nexmark_config cfg;
    sl_nexmark_config_default(&cfg);
    sl_nexmark_gen *g = sl_nexmark_gen_new(&cfg);
    is_int(sl_nexmark_time(g, 0), SL_NEXMARK_BASE_MS, "event 0 at the base time");
    is_int(sl_nexmark_time(g, 12345), SL_NEXMARK_BASE_MS + 1234,
           "10000 events per second: 100 us each");
    sl_nexmark_gen_free(g);
    cfg.rate = 1000;
    cfg.base_time_ms = 0;
    g = sl_nexmark_gen_new(&cfg);
    is_int(sl_nexmark_time(g, 12345), 12345, "rate 1000 from the epoch: 1 ms each");
    sl_nexmark_event ev;
    int expires_ok = 1;
    for (int i = 0; i < 5000; i++)
        if (sl_nexmark_gen_next(g, SL_NEXMARK_ALL, &ev) == SL_NEXMARK_AUCTION)
            expires_ok &= ev.u.auction.expires > ev.date_time &&
                          ev.u.auction.expires <= ev.date_time + 2 * 1666;
    ok(expires_ok, "auctions expire within twice 1666 events of event time");
    sl_nexmark_gen_free(g);
}

int main(void)
{
    test_golden();
    test_mix();
    test_determinism();
    test_seek();
    test_time();
    return tap_done();
}
