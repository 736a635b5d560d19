/* trial.h: a trial, its status and its data (reference/ax-client-behaviour.md §4). */
#ifndef HONE_TRIAL_H
#define HONE_TRIAL_H

#include "err.h"
#include "value.h"

/* Ax's stored integer codes; also the wire names (hone_trial_status_name). */
typedef enum {
    HONE_TRIAL_CANDIDATE = 0,
    HONE_TRIAL_STAGED = 1,
    HONE_TRIAL_FAILED = 2,
    HONE_TRIAL_COMPLETED = 3,
    HONE_TRIAL_RUNNING = 4,
    HONE_TRIAL_ABANDONED = 5,
    HONE_TRIAL_EARLY_STOPPED = 7,
    HONE_TRIAL_STALE = 8,
} hone_trial_status_t;

/* "RUNNING", "COMPLETED", ...; NULL for a code that is not a status. */
const char *hone_trial_status_name(int status);
/* Parses a status name (case-insensitive); HONE_EINVAL if unknown. */
int hone_trial_status_parse(const char *name, hone_trial_status_t *out);
bool hone_trial_status_is_terminal(hone_trial_status_t status);

/* One stored reading: metric → (mean, sem) at an optional integer progression. */
typedef struct hone_reading {
    uint32_t metric;            /* index into the experiment's metric table */
    bool has_progression;       /* false: "no step", which Ax treats as +inf */
    int64_t progression;        /* step, when has_progression */
    double mean;                /* finite */
    double sem;                 /* >= 0, or NAN when the noise is unknown */
} hone_reading_t;

typedef struct hone_trial {
    uint32_t index;             /* 0, 1, 2, ... in creation order */
    hone_trial_status_t status;
    hone_value_t *params;       /* one value per search-space parameter */
    char *note;                 /* how it was generated: "center", "sobol", "manual" */
    char *reason;               /* why it failed or was abandoned; NULL otherwise */
    char *worker;               /* name of the worker evaluating it (worker role); NULL otherwise */
    hone_reading_t *readings;   /* every stored reading, in attach order */
    size_t n_readings;          /* number of readings */
    size_t cap_readings;        /* allocated slots */
} hone_trial_t;

/* The latest reading of a metric (largest progression; "no progression" wins). Returns
 * false when the trial has no reading of that metric. */
bool hone_trial_latest(const hone_trial_t *trial, uint32_t metric, double *mean, double *sem);

/* Ax's transition rules for moving trial to status `to`. Returns HONE_OK (including the
 * no-op of marking the current status) or HONE_ESTATE with Ax's message, e.g. "Can only
 * complete trial that is currently running." */
int hone_trial_check_transition(const hone_trial_t *trial, hone_trial_status_t to, hone_error_t *err);

#endif
