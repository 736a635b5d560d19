/* registry.h: the broker's experiments by name, kept equal to what the store holds.
 *
 * At open every stored experiment is rebuilt through the core (config, trials in index
 * order, readings, Sobol position). A change is made in memory by the caller through
 * the core, then written with hone_registry_persist; when the write or the commit fails,
 * the experiment is reloaded from the store so memory matches disk again. An experiment
 * that cannot be reloaded is kept as "unavailable" (its name stays taken, every request
 * on it gets HONE_ESTORE) rather than forgotten, so a later create can never overwrite
 * its stored records.
 *
 * Two commit modes (hone_registry_set_group_commit):
 *
 * - per change (the default): hone_registry_persist and hone_registry_create each run
 *   one store transaction and commit it; HONE_OK means durable.
 * - group commit (what hone-broker uses): the first change opens a *batch*, one store
 *   write transaction, and every change after it is written into the same transaction;
 *   HONE_OK from hone_registry_persist or hone_registry_create then means "written into
 *   the open batch", and the change is durable only once hone_registry_commit has
 *   returned HONE_OK. The caller (the broker's reactor) must hold every reply that was
 *   built while a batch is open until that batch ends, and learns the end through the
 *   batch function (hone_registry_on_batch): COMMITTED, or FAILED, in which case every
 *   experiment the batch changed has been reloaded from the store (memory is back to
 *   the last commit) and no held acknowledgement may be sent. A change refused
 *   half-way (a store put error) is rolled back alone (hone_store_rollback) and its
 *   experiment reloaded *through the batch*, so the batch's other changes survive; if
 *   even the rollback fails, the batch fails as a whole, at once.
 *   In memory the registry stays authoritative while a batch is open (every request is
 *   served from memory); the store is read (a reload) through the open transaction, so
 *   it sees the batch.
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
/* A batch still open is rolled back (nothing of it was acknowledged). Safe on NULL. */
void hone_registry_destroy(hone_registry_t **self_p);

size_t hone_registry_size(const hone_registry_t *self);

/* The experiment called name, borrowed until the next call that may replace it
 * (hone_registry_persist, hone_registry_reload). Errors: HONE_ENOTFOUND ("unknown
 * experiment"), HONE_ESTORE (unavailable after a store failure). */
int hone_registry_find(hone_registry_t *self, const char *name, hone_experiment_t **out,
                       hone_error_t *err);

/* Stores a new experiment (its record, Sobol position 0) and takes it over: *exp_p is
 * set to NULL on success. On error the caller keeps it. With group commit the record
 * joins the open batch, like a persist. Errors: HONE_EEXIST (the name is taken),
 * HONE_ESTORE, HONE_ETOOBIG (canonical config too large to store). */
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

/* Writes a change of exp (found through this registry). Per change: commits, and HONE_OK
 * means durable. Group commit: writes into the open batch (opening one if needed), and
 * HONE_OK means durable once the batch commits (see above). On failure the experiment
 * is reloaded from the store (exp is then invalid: find it again) and HONE_ESTORE is
 * returned with a message saying the change was not stored. */
int hone_registry_persist(hone_registry_t *self, hone_experiment_t *exp,
                          const hone_registry_change_t *change, hone_error_t *err);

/* ---- group commit ---- */

/* How a batch ended, or that one was opened. */
typedef enum {
    HONE_REGISTRY_BATCH_OPENED,     /* the first change of a batch was written */
    HONE_REGISTRY_BATCH_COMMITTED,  /* the batch is durable */
    HONE_REGISTRY_BATCH_FAILED,     /* nothing of the batch is stored; memory was reloaded */
} hone_registry_batch_event_t;

/* Told about batch batch; err is the failure for FAILED, else NULL. Runs on the
 * registry's thread, from inside hone_registry_persist, hone_registry_create or
 * hone_registry_commit; it must not call back into the registry. */
typedef void (hone_registry_batch_fn)(void *arg, hone_registry_batch_event_t event, uint64_t batch,
                                      const hone_error_t *err);

/* Switches group commit on (or off: back to one commit per change). Call before the
 * first change, with no batch open (an assertion). */
void hone_registry_set_group_commit(hone_registry_t *self, bool group);
/* Installs the batch function (fn NULL: none). */
void hone_registry_on_batch(hone_registry_t *self, hone_registry_batch_fn *fn, void *arg);

/* The number of the open batch, or of the next one when none is open. Batches are
 * numbered from 1 and end in order. */
uint64_t hone_registry_batch(const hone_registry_t *self);
/* Changes written into the open batch (0: none open). */
size_t hone_registry_pending(const hone_registry_t *self);
/* Changes written since the registry opened (both modes), for telling whether a request
 * changed anything. */
uint64_t hone_registry_changes(const hone_registry_t *self);

/* Commits the open batch; a no-op returning HONE_OK when none is open. When it returns
 * HONE_OK every change of the batch is durable (and the batch function was told
 * COMMITTED). On failure nothing of the batch is stored, every experiment it changed has
 * been reloaded from the store, the batch function was told FAILED, and HONE_ESTORE is
 * returned with a message saying the changes were not stored. */
int hone_registry_commit(hone_registry_t *self, hone_error_t *err);

/* Replaces the in-memory experiment by what the store holds (dropping it when the
 * store has none). Used to undo an in-memory change that could not be completed.
 * Errors: HONE_ESTORE (it is then kept as unavailable). */
int hone_registry_reload(hone_registry_t *self, const char *name, hone_error_t *err);

#endif
