/* load_timers.c: the multiplex driver's timers, a binary min-heap on the deadline with at
 * most one entry per worker (load_timers_t in bench_load.h). */
#define _GNU_SOURCE
#include "bench_load.h"

#include <stdio.h>
#include <stdlib.h>

void load_timers_init(load_timers_t *t, int workers)
{
    t->heap = malloc((size_t) workers * sizeof *t->heap);
    t->pos = malloc((size_t) workers * sizeof *t->pos);
    if (!t->heap || !t->pos) {
        fprintf(stderr, "bench_load: out of memory\n");
        exit(1);
    }
    t->n = 0;
    for (int i = 0; i < workers; i++)
        t->pos[i] = -1;
}

void load_timers_free(load_timers_t *t)
{
    free(t->heap);
    free(t->pos);
    t->heap = NULL;
    t->pos = NULL;
    t->n = 0;
}

static void s_timers_place(load_timers_t *t, int k, load_timer_t e)
{
    t->heap[k] = e;
    t->pos[e.id] = k;
}

/* Moves the entry at k up, or else down, until the heap order holds again. */
static void s_timers_fix(load_timers_t *t, int k)
{
    load_timer_t e = t->heap[k];
    while (k > 0 && t->heap[(k - 1) / 2].when_ns > e.when_ns) {
        s_timers_place(t, k, t->heap[(k - 1) / 2]);
        k = (k - 1) / 2;
    }
    for (;;) {
        int c = 2 * k + 1;
        if (c >= t->n)
            break;
        if (c + 1 < t->n && t->heap[c + 1].when_ns < t->heap[c].when_ns)
            c++;
        if (t->heap[c].when_ns >= e.when_ns)
            break;
        s_timers_place(t, k, t->heap[c]);
        k = c;
    }
    s_timers_place(t, k, e);
}

/* Worker id's timer becomes when_ns, replacing the one it had. */
void load_timers_set(load_timers_t *t, int id, int64_t when_ns)
{
    int k = t->pos[id];
    if (k < 0)
        k = t->n++;
    s_timers_place(t, k, (load_timer_t) { .when_ns = when_ns, .id = id });
    s_timers_fix(t, k);
}

/* Worker id has no timer any more (no-op if it had none). */
void load_timers_clear(load_timers_t *t, int id)
{
    int k = t->pos[id];
    if (k < 0)
        return;
    t->pos[id] = -1;
    load_timer_t last = t->heap[--t->n];
    if (k < t->n) {
        s_timers_place(t, k, last);
        s_timers_fix(t, k);
    }
}

/* The earliest deadline; INT64_MAX if no worker waits on a timer. */
int64_t load_timers_next(const load_timers_t *t)
{
    return t->n ? t->heap[0].when_ns : INT64_MAX;
}

/* Removes the earliest timer if it is due at `now` and returns its worker; -1 if none is. */
int load_timers_pop_due(load_timers_t *t, int64_t now)
{
    if (t->n == 0 || t->heap[0].when_ns > now)
        return -1;
    int id = t->heap[0].id;
    load_timers_clear(t, id);
    return id;
}
