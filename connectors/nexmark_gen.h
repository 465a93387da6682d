/*
** nexmark_gen.h: the Nexmark event generator (persons, auctions, bids).
**
** The model of the reference Java generator as summarised in
** shared/nexmark/GENERATOR.md: the 1:3:46 person/auction/bid mix decided by
** event number % 50, ids from 1000, event time advancing `rate` events per
** second from a base time, in order; hot sellers, auctions and bidders;
** log-uniform prices; the string, channel, URL and `extra` padding rules and
** the +2000 bidder offset quirk. Values come from splitmix64 (bench/prng.h),
** the generator of Java's SplittableRandom, but seeded, so one seed gives
** one stream of events on every machine.
**
** Each event draws from its own stream, seeded by the seed and the event
** number (as Beam's Nexmark generator seeds a Random with the event id):
** an event's values depend on nothing before it. A reader that wants only
** some kinds asks for them with a mask, and the other events cost nothing,
** so a bids-only reader sees exactly the bids of the full stream. Both
** bench/gen_nexmark (files) and the `nexmark` source connector
** (connectors/nexmark_source.c) use it.
**
** Text values point into the generator (names, cities, channels, URLs and
** the `extra` padding, a slice of a 1 MiB pool of random letters) or into
** the event itself (e-mail, credit card, item name, description): they stay
** valid until the next call, the generator-owned ones until it is freed.
** Self-contained (libc and libm only), so the CLI links it without the
** engine.
*/
#ifndef SL_NEXMARK_GEN_H
#define SL_NEXMARK_GEN_H

#include <stdint.h>

enum { SL_NEXMARK_PERSON, SL_NEXMARK_AUCTION, SL_NEXMARK_BID };
#define SL_NEXMARK_ALL 7u /* mask of every kind: 1u << kind */

/* 2026-03-17 00:00:00 UTC, the base time of the benchmark data */
#define SL_NEXMARK_BASE_MS INT64_C(1773705600000)
#define SL_NEXMARK_RATE 10000 /* events per second of event time */

typedef struct sl_nexmark_config {
    uint64_t seed;          /* 42 in the benchmark */
    int64_t base_time_ms;   /* event time of event 0 */
    int64_t rate;           /* events per second of event time, > 0 */
} sl_nexmark_config;

typedef struct sl_nexmark_person {
    int64_t id;
    const char *name, *city, *state;
    int name_len, city_len, state_len;
    char email[24];
    int email_len;
    char credit_card[20];
    int credit_card_len;
} sl_nexmark_person;

typedef struct sl_nexmark_auction {
    int64_t id, initial_bid, reserve, expires, seller, category;
    char item_name[24];
    int item_name_len;
    char description[104];
    int description_len;
} sl_nexmark_auction;

typedef struct sl_nexmark_bid {
    int64_t auction, bidder, price;
    const char *channel, *url;
    int channel_len, url_len;
} sl_nexmark_bid;

typedef struct sl_nexmark_event {
    int kind;               /* SL_NEXMARK_PERSON, _AUCTION or _BID */
    int64_t number;         /* 0-based event number in the stream */
    int64_t date_time;      /* event time, ms since the epoch */
    const char *extra;      /* padding to the kind's average size */
    int extra_len;
    union {
        sl_nexmark_person person;
        sl_nexmark_auction auction;
        sl_nexmark_bid bid;
    } u;
} sl_nexmark_event;

typedef struct sl_nexmark_gen sl_nexmark_gen;

/* The defaults: seed 42, base SL_NEXMARK_BASE_MS, rate SL_NEXMARK_RATE. */
void sl_nexmark_config_default(sl_nexmark_config *cfg);

/* A generator at event 0 (builds the extra pool and the URL tables from the
** seed: a few milliseconds). NULL when out of memory. */
sl_nexmark_gen *sl_nexmark_gen_new(const sl_nexmark_config *cfg);
void sl_nexmark_gen_free(sl_nexmark_gen *g);

/* Kind of event number n. */
int sl_nexmark_kind(int64_t n);
/* Event time of event number n. */
int64_t sl_nexmark_time(const sl_nexmark_gen *g, int64_t n);

/* Number of the next event sl_nexmark_gen_next will produce. */
int64_t sl_nexmark_gen_position(const sl_nexmark_gen *g);

/* Produces the next event and returns its kind. ev is filled only when
** want has the kind's bit (1u << kind); otherwise the event is passed over
** (nothing is drawn for it). */
int sl_nexmark_gen_next(sl_nexmark_gen *g, unsigned want, sl_nexmark_event *ev);

/* Moves to event number n (>= 0), forward or back, at no cost: every
** event's values depend only on the seed and its number. */
void sl_nexmark_gen_seek(sl_nexmark_gen *g, int64_t n);

#endif
