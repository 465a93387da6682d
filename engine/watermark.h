/*
** watermark.h: a source's event-time watermark (DESIGN §2 rule 2).
**
** W = max(event time seen) - delay; it starts at -inf and never goes back.
** For a multi-partition source W is the minimum over the partitions that
** are active (assigned and not idle) of each one's max event time - delay;
** an active partition that has not produced an event yet holds W at -inf.
** A bounded source at its end sets W = +inf.
*/
#ifndef SL_WATERMARK_H
#define SL_WATERMARK_H

#include <stdint.h>

#define SL_WM_MAX_PARTS 1024

typedef struct sl_watermark {
    int64_t delay_ms;
    int64_t wm;                 /* current watermark */
    int multi;                  /* per-partition mode */
    int nparts;                 /* partitions seen (ids and maxima) */
    int32_t part_id[SL_WM_MAX_PARTS];
    int64_t part_max[SL_WM_MAX_PARTS];
    uint8_t part_active[SL_WM_MAX_PARTS];
} sl_watermark;

void sl_watermark_init(sl_watermark *w, int64_t delay_ms);
/* An event of partition part with event time t_ms arrived (after it was
** checked against the current watermark). */
void sl_watermark_observe(sl_watermark *w, int32_t part, int64_t t_ms);
/* Switches to per-partition mode with parts[0..n) the active partitions. */
void sl_watermark_set_active(sl_watermark *w, const int32_t *parts, int n);
/* End of a bounded input: W = +inf. */
void sl_watermark_end(sl_watermark *w);

/* Checkpoints: appends w (its watermark and partitions, not its delay) to
** out; reads it back from *p (advancing it), returning 0, or -1 when the
** bytes up to end do not hold one. */
struct sl_buf;
void sl_watermark_save(const sl_watermark *w, struct sl_buf *out);
int sl_watermark_load(sl_watermark *w, const unsigned char **p,
                      const unsigned char *end);

#endif
