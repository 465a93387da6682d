/*
** watermark.c: event-time watermarks per source and partition (see
** watermark.h).
*/
#include <string.h>
#include "engine/watermark.h"
#include "engine/batch.h"

void sl_watermark_init(sl_watermark *w, int64_t delay_ms)
{
    memset(w, 0, sizeof *w);
    w->delay_ms = delay_ms;
    w->wm = INT64_MIN;
}

static int64_t minus_delay(int64_t t, int64_t delay)
{
    int64_t r;
    return __builtin_sub_overflow(t, delay, &r) ? INT64_MIN : r;
}

static int find_part(sl_watermark *w, int32_t part, int create)
{
    for (int i = 0; i < w->nparts; i++)
        if (w->part_id[i] == part)
            return i;
    if (!create || w->nparts == SL_WM_MAX_PARTS)
        return -1;
    int i = w->nparts++;
    w->part_id[i] = part;
    w->part_max[i] = INT64_MIN;
    w->part_active[i] = 1;
    return i;
}

static void recompute(sl_watermark *w)
{
    int64_t lo = INT64_MAX;
    int any = 0;
    for (int i = 0; i < w->nparts; i++) {
        if (!w->part_active[i])
            continue;
        any = 1;
        int64_t m = minus_delay(w->part_max[i], w->delay_ms);
        if (w->part_max[i] == INT64_MIN)
            m = INT64_MIN;
        if (m < lo)
            lo = m;
    }
    if (any && lo > w->wm)
        w->wm = lo;
}

void sl_watermark_observe(sl_watermark *w, int32_t part, int64_t t_ms)
{
    if (!w->multi) {
        int64_t c = minus_delay(t_ms, w->delay_ms);
        if (c > w->wm)
            w->wm = c;
        return;
    }
    int i = find_part(w, part, 1);
    if (i < 0)
        return;
    if (t_ms > w->part_max[i]) {
        w->part_max[i] = t_ms;
        recompute(w);
    }
}

void sl_watermark_set_active(sl_watermark *w, const int32_t *parts, int n)
{
    w->multi = 1;
    for (int i = 0; i < w->nparts; i++)
        w->part_active[i] = 0;
    for (int k = 0; k < n; k++) {
        int i = find_part(w, parts[k], 1);
        if (i >= 0)
            w->part_active[i] = 1;
    }
    recompute(w);
}

void sl_watermark_end(sl_watermark *w)
{
    w->wm = INT64_MAX;
}

void sl_watermark_save(const sl_watermark *w, sl_buf *out)
{
    sl_buf_put(out, &w->wm, sizeof w->wm);
    sl_buf_put(out, &w->multi, sizeof w->multi);
    sl_buf_put(out, &w->nparts, sizeof w->nparts);
    sl_buf_put(out, w->part_id, sizeof w->part_id[0] * (size_t)w->nparts);
    sl_buf_put(out, w->part_max, sizeof w->part_max[0] * (size_t)w->nparts);
    sl_buf_put(out, w->part_active, sizeof w->part_active[0] * (size_t)w->nparts);
}

int sl_watermark_load(sl_watermark *w, const unsigned char **p,
                      const unsigned char *end)
{
    if (sl_buf_get(p, end, &w->wm, sizeof w->wm) ||
        sl_buf_get(p, end, &w->multi, sizeof w->multi) ||
        sl_buf_get(p, end, &w->nparts, sizeof w->nparts) ||
        w->nparts < 0 || w->nparts > SL_WM_MAX_PARTS ||
        sl_buf_get(p, end, w->part_id, sizeof w->part_id[0] * (size_t)w->nparts) ||
        sl_buf_get(p, end, w->part_max, sizeof w->part_max[0] * (size_t)w->nparts) ||
        sl_buf_get(p, end, w->part_active, sizeof w->part_active[0] * (size_t)w->nparts))
        return -1;
    return 0;
}
