/* gen_nexmark.c: writes the Nexmark event stream of connectors/nexmark_gen.c
 * (the model of the reference Java generator, see ../shared/nexmark/GENERATOR.md)
 * to files. The same seed gives byte-identical files, and the same events as
 * the in-process `nexmark` source connector with that seed.
 *
 * sluice sources have flat typed columns, so each kind goes to its own file:
 * DIR/persons.EXT, DIR/auctions.EXT, DIR/bids.EXT (EXT csv with a header, or
 * ndjson), with the column names of the Nexmark DDL (dateTime, itemName...).
 *
 *   gen_nexmark --events N [--format csv|ndjson] [--seed S] --dir DIR
 */
#include "fmt.h"
#include "connectors/nexmark_gen.h"

#include <fcntl.h>
#include <sys/stat.h>

static int ndjson;

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

static void write_person(bench_out *o, const sl_nexmark_event *ev)
{
    const sl_nexmark_person *p = &ev->u.person;
    put_int(o, "id", 1, p->id);
    put_str(o, "name", 0, p->name, (size_t)p->name_len);
    put_str(o, "emailAddress", 0, p->email, (size_t)p->email_len);
    put_str(o, "creditCard", 0, p->credit_card, (size_t)p->credit_card_len);
    put_str(o, "city", 0, p->city, (size_t)p->city_len);
    put_str(o, "state", 0, p->state, (size_t)p->state_len);
    put_ts(o, "dateTime", 0, ev->date_time);
    put_str(o, "extra", 0, ev->extra, (size_t)ev->extra_len);
    end_record(o);
}

static void write_auction(bench_out *o, const sl_nexmark_event *ev)
{
    const sl_nexmark_auction *a = &ev->u.auction;
    put_int(o, "id", 1, a->id);
    put_str(o, "itemName", 0, a->item_name, (size_t)a->item_name_len);
    put_str(o, "description", 0, a->description, (size_t)a->description_len);
    put_int(o, "initialBid", 0, a->initial_bid);
    put_int(o, "reserve", 0, a->reserve);
    put_ts(o, "dateTime", 0, ev->date_time);
    put_ts(o, "expires", 0, a->expires);
    put_int(o, "seller", 0, a->seller);
    put_int(o, "category", 0, a->category);
    put_str(o, "extra", 0, ev->extra, (size_t)ev->extra_len);
    end_record(o);
}

static void write_bid(bench_out *o, const sl_nexmark_event *ev)
{
    const sl_nexmark_bid *b = &ev->u.bid;
    put_int(o, "auction", 1, b->auction);
    put_int(o, "bidder", 0, b->bidder);
    put_int(o, "price", 0, b->price);
    put_str(o, "channel", 0, b->channel, (size_t)b->channel_len);
    put_str(o, "url", 0, b->url, (size_t)b->url_len);
    put_ts(o, "dateTime", 0, ev->date_time);
    put_str(o, "extra", 0, ev->extra, (size_t)ev->extra_len);
    end_record(o);
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
    sl_nexmark_config cfg;
    sl_nexmark_config_default(&cfg);
    cfg.seed = seed;
    sl_nexmark_gen *g = sl_nexmark_gen_new(&cfg);
    if (!g) {
        fprintf(stderr, "out of memory\n");
        return 1;
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
    bench_out *out[3] = {&persons, &auctions, &bids};
    static void (*const writers[3])(bench_out *, const sl_nexmark_event *) = {
        write_person, write_auction, write_bid};
    sl_nexmark_event ev;
    for (uint64_t n = 0; n < events; n++) {
        int kind = sl_nexmark_gen_next(g, SL_NEXMARK_ALL, &ev);
        writers[kind](out[kind], &ev);
    }
    bench_out_close(&persons);
    bench_out_close(&auctions);
    bench_out_close(&bids);
    for (int i = 0; i < 3; i++)
        if (close(fds[i]) != 0) {
            perror("close");
            return 1;
        }
    sl_nexmark_gen_free(g);
    return 0;
}
