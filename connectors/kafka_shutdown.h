/*
** kafka_shutdown.h: shutting a librdkafka handle down in bounded time.
**
** rd_kafka_consumer_close() and rd_kafka_destroy() can block for a long
** time, or for good: with a topic deleted while it was read, librdkafka
** 2.0's broker threads wait for references that are never released (90 s
** and more), and SIGTERM then hangs. sl_kafka_shutdown() runs the close and
** the destroy on a thread of their own and waits at most a given time; a
** handle that does not finish by then is left to finish in the background
** (its owner freed when it does), so the caller never waits longer.
*/
#ifndef SL_KAFKA_SHUTDOWN_H
#define SL_KAFKA_SHUTDOWN_H

#include <stdint.h>
#include <librdkafka/rdkafka.h>

/* Closes the consumer group membership of rk (when consumer_close), then
** destroys rk, waiting at most wait_ms. owner (the struct librdkafka's
** callbacks point to, may be NULL) is freed with free_owner once rk is
** destroyed: at once when that happens in time, else later on the
** background thread, so callbacks never see freed memory. Returns 0 when
** rk was destroyed in time, -1 when it was left running in the
** background. rk and owner belong to this call either way. */
int sl_kafka_shutdown(rd_kafka_t *rk, int consumer_close, int64_t wait_ms,
                      void (*free_owner)(void *owner), void *owner);

#endif
