/* wire.h: conversions between core objects and protocol nodes, as the message table of
 * proto/PROTOCOL.md shapes them: params maps, metrics maps and trial objects.
 *
 * Output follows the spec exactly (float parameters as float64, ints as int, str,
 * bool); input is tolerant the way the spec allows (an int for a float parameter, an
 * integral float for an int parameter). Internal to the broker.
 * Memory: node builders abort on out-of-memory (broker policy). */
#ifndef HONE_WIRE_H
#define HONE_WIRE_H

#include "err.h"
#include "experiment.h"
#include "msg.h"

/* Adds every parameter (name → value) of a parameterization to an existing MAP. */
void hone_wire_fill_params(hone_node_t *map, const hone_space_t *space, const hone_value_t *values);

/* Reads a params MAP into values[hone_space_size(space)] and interns them
 * (hone_space_intern), so the strings point into the space afterwards.
 * Errors: HONE_EINVAL naming the parameter (missing, unknown, wrong type, out of the
 * space). */
int hone_wire_read_params(const hone_space_t *space, const hone_node_t *map, hone_value_t *values,
                          hone_error_t *err);

/* Parses a metrics MAP (name → number, or [mean, sem|nil]) into readings[0..*n_out).
 * readings must have room for hone_node_len(map) entries; the names are borrowed from
 * the node. Errors: HONE_EPROTO (not a map, an entry of the wrong shape), HONE_EINVAL
 * (a name that is empty or longer than HONE_STORE_METRIC_MAX). Numeric checks (finite
 * mean, sem >= 0) are left to the core. */
int hone_wire_read_metrics(const hone_node_t *map, hone_reading_in_t *readings, size_t *n_out,
                           hone_error_t *err);

/* Adds a trial object to parent (an ARRAY when key is NULL, else a MAP under key):
 * {trial, status, params, note} and, when full, reason (if any), worker (if any),
 * metrics (latest view {name: [mean, sem|nil]}), progression (the largest, if any
 * reading has one), retries (lease expiries, if any) and attempts (if any). */
void hone_wire_add_trial(hone_node_t *parent, const char *key, const hone_experiment_t *exp,
                         const hone_trial_t *trial, bool full);

/* An upper bound of the encoded size (bytes) and item count (array items plus map
 * pairs) of one short trial object ({trial, status, params, note}) of this space, so a
 * reply listing several can be kept within the protocol limits before anything is
 * generated. */
void hone_wire_trial_bound(const hone_space_t *space, size_t *bytes, size_t *items);

/* Adds the trial's attempts as an ARRAY under key in parent (a MAP), oldest first, each
 * {worker: str, start: int, end: int (absent while running), outcome: str} with
 * wall-clock milliseconds; nothing when the trial has none. The same shape is stored
 * (store.c trial records) and listed (PROTOCOL.md 4.4). */
void hone_wire_add_attempts(hone_node_t *parent, const char *key, const hone_trial_t *trial);

/* Reads such an ARRAY back into trial `index` of exp (hone_experiment_restore_attempt).
 * Errors: HONE_EINVAL naming the attempt and the field. */
int hone_wire_read_attempts(hone_experiment_t *exp, uint32_t index, const hone_node_t *attempts,
                            hone_error_t *err);

/* Adds a number or nil (for NAN) under key. */
void hone_wire_add_number_or_nil(hone_node_t *parent, const char *key, double value);

#endif
