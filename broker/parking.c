/* parking.c: experiment name → {busy, FIFO of items}; an entry lives while the
 * experiment is busy or has items. */
#include "parking.h"

#include "alloc.h"

#include <czmq.h>   /* after the hone headers: czmq defines a streq macro */

struct _hone_parking_t {
    zhashx_t *lots;             /* experiment name → s_lot_t (owned) */
    hone_parking_free_fn *free_fn; /* frees an item */
    size_t size;                /* items parked in all lots */
};

typedef struct {
    bool busy;                  /* a generation of the experiment is in flight */
    zlistx_t *items;            /* parked items, oldest first (owned) */
} s_lot_t;

static void s_lot_destroy(void **item)
{
    s_lot_t *lot = *item;
    if (lot) {
        zlistx_destroy(&lot->items);
        hone_free(lot);
    }
    *item = NULL;
}

hone_parking_t *hone_parking_new(hone_parking_free_fn *free_fn)
{
    HONE_ASSERT(free_fn);
    hone_parking_t *self = hone_alloc(sizeof *self);
    self->free_fn = free_fn;
    self->lots = zhashx_new();
    HONE_ASSERT(self->lots);
    zhashx_set_destructor(self->lots, s_lot_destroy);
    return self;
}

void hone_parking_destroy(hone_parking_t **self_p)
{
    HONE_ASSERT(self_p);
    hone_parking_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy(&self->lots);
    hone_free(self);
    *self_p = NULL;
}

static s_lot_t *s_lot(const hone_parking_t *self, const char *experiment)
{
    HONE_ASSERT(self && experiment);
    return zhashx_lookup(self->lots, experiment);
}

/* Drops the entry of a lot that is neither busy nor holding items. */
static void s_tidy(hone_parking_t *self, const char *experiment, s_lot_t *lot)
{
    if (!lot->busy && zlistx_size(lot->items) == 0)
        zhashx_delete(self->lots, experiment);
}

bool hone_parking_busy(const hone_parking_t *self, const char *experiment)
{
    s_lot_t *lot = s_lot(self, experiment);
    return lot && lot->busy;
}

void hone_parking_set_busy(hone_parking_t *self, const char *experiment, bool busy)
{
    s_lot_t *lot = s_lot(self, experiment);
    if (!lot) {
        if (!busy)
            return;
        lot = hone_alloc(sizeof *lot);
        lot->items = zlistx_new();
        HONE_ASSERT(lot->items);
        zlistx_set_destructor(lot->items, self->free_fn);
        HONE_ASSERT(zhashx_insert(self->lots, experiment, lot) == 0);
    }
    lot->busy = busy;
    s_tidy(self, experiment, lot);
}

void hone_parking_push(hone_parking_t *self, const char *experiment, void *item)
{
    s_lot_t *lot = s_lot(self, experiment);
    HONE_ASSERT(lot && lot->busy && item);
    HONE_ASSERT(zlistx_add_end(lot->items, item));
    self->size++;
}

void *hone_parking_pop(hone_parking_t *self, const char *experiment)
{
    s_lot_t *lot = s_lot(self, experiment);
    if (!lot)
        return NULL;
    void *item = zlistx_first(lot->items) ? zlistx_detach_cur(lot->items) : NULL;
    if (item) {
        HONE_ASSERT(self->size > 0);
        self->size--;
    }
    s_tidy(self, experiment, lot);
    return item;
}

size_t hone_parking_size(const hone_parking_t *self)
{
    HONE_ASSERT(self);
    return self->size;
}

size_t hone_parking_count(const hone_parking_t *self)
{
    HONE_ASSERT(self);
    return zhashx_size(self->lots);
}
