/* parking.h: which experiments are busy (handed over to the generator thread) and the
 * requests that wait for each of them, first in, first out.
 *
 * An experiment is busy from the moment a generation of it is submitted until its
 * result has been stored and answered. Requests that would touch a busy experiment are
 * parked here and served in arrival order once it is free again, so each of them sees
 * every change made before it arrived (a `ready` parked behind a generation is
 * generated with the trial just handed out as a pending point). Invariant, outside the
 * serving loop: an experiment with parked requests is busy.
 *
 * Items are opaque to the parking (the handlers' requests); it frees the ones it still
 * holds with the function given at creation. Internal to the broker; one thread.
 * Memory: aborts on out-of-memory. */
#ifndef HONE_PARKING_H
#define HONE_PARKING_H

#include "hone_prelude.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct _hone_parking_t hone_parking_t;

/* Frees one item and sets *item to NULL. */
typedef void (hone_parking_free_fn)(void **item);

hone_parking_t *hone_parking_new(hone_parking_free_fn *free_fn);
/* Frees the items still parked. Safe on NULL. */
void hone_parking_destroy(hone_parking_t **self_p);

bool hone_parking_busy(const hone_parking_t *self, const char *experiment);
void hone_parking_set_busy(hone_parking_t *self, const char *experiment, bool busy);

/* Parks item (taken) behind the experiment, which must be busy. */
void hone_parking_push(hone_parking_t *self, const char *experiment, void *item);
/* The experiment's oldest parked item (the caller owns it), or NULL. */
void *hone_parking_pop(hone_parking_t *self, const char *experiment);

/* Items parked, all experiments together. */
size_t hone_parking_size(const hone_parking_t *self);
/* Experiments that are busy or have parked items. */
size_t hone_parking_count(const hone_parking_t *self);

#endif
