/* registry.h: the broker's experiments by name, kept equal to what the store holds.
 *
 * At open every stored experiment is rebuilt through the core (config, trials in index
 * order, readings, Sobol position). A change is made in memory by the caller through
 * the core, then written with hone_registry_persist in one store transaction; when the
 * write or the commit fails, the experiment is reloaded from the store so memory
 * matches disk again. An experiment that cannot be reloaded is kept as "unavailable"
 * (its name stays taken, every request on it gets HONE_ESTORE) rather than forgotten,
 * so a later create can never overwrite its stored records.
 *
 * Internal to the broker; used by one thread. Memory: aborts on out-of-memory. */
#ifndef HONE_REGISTRY_H
#define HONE_REGISTRY_H

#include "err.h"
#include "experiment.h"
#include "store.h"

typedef struct _hone_registry_t hone_registry_t;

/* Loads every experiment of the store (borrowed; it must outlive the registry).
 * Errors: HONE_ESTORE (store failure, or a stored experiment the core refuses now;
 * err names it). */
int hone_registry_open(hone_registry_t **out, hone_store_t *store, hone_error_t *err);
void hone_registry_destroy(hone_registry_t **self_p);

size_t hone_registry_size(const hone_registry_t *self);

/* The experiment called name, borrowed until the next call that may replace it
 * (hone_registry_persist, hone_registry_reload). Errors: HONE_ENOTFOUND ("unknown
 * experiment"), HONE_ESTORE (unavailable after a store failure). */
int hone_registry_find(hone_registry_t *self, const char *name, hone_experiment_t **out,
                       hone_error_t *err);

/* Stores a new experiment (its record, Sobol position 0) and takes it over: *exp_p is
 * set to NULL on success. On error the caller keeps it. Errors: HONE_EEXIST (the name
 * is taken), HONE_ESTORE, HONE_ETOOBIG (canonical config too large to store). */
int hone_registry_create(hone_registry_t *self, hone_experiment_t **exp_p, hone_error_t *err);

/* What changed in an experiment, to be written in one transaction. */
typedef struct hone_registry_change {
    bool experiment;                    /* rewrite the experiment record (Sobol position) */
    uint32_t trial_first;               /* trial records [trial_first, trial_first + n_trials) */
    uint32_t n_trials;
    uint32_t reading_trial;             /* readings attached to this trial */
    const hone_reading_in_t *readings;  /* n_readings readings, as attached */
    size_t n_readings;
    bool has_progression;               /* their progression, if any */
    int64_t progression;
} hone_registry_change_t;

/* Writes a change of exp (found through this registry) and commits. When this returns
 * HONE_OK the change is durable. On failure the experiment is reloaded from the store
 * (exp is then invalid: find it again) and HONE_ESTORE is returned with a message
 * saying the change was not stored. */
int hone_registry_persist(hone_registry_t *self, hone_experiment_t *exp,
                          const hone_registry_change_t *change, hone_error_t *err);

/* Replaces the in-memory experiment by what the store holds (dropping it when the
 * store has none). Used to undo an in-memory change that could not be completed.
 * Errors: HONE_ESTORE (it is then kept as unavailable). */
int hone_registry_reload(hone_registry_t *self, const char *name, hone_error_t *err);

#endif
