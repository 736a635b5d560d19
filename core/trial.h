/* trial.h: a trial, its status and its data (reference/ax-client-behaviour.md §4). */
#ifndef HONE_TRIAL_H
#define HONE_TRIAL_H

#include "err.h"
#include "value.h"

/* Ax's stored integer codes; also the wire names (hone_trial_status_name).
 *
 * STALE differs from Ax: Ax's STALE is a terminal status a CANDIDATE reaches when a TTL
 * expires; hone uses it for a trial whose worker was lost (its lease expired, see the
 * attempts below): it is re-queued with the same parameters and handed to the next
 * worker that asks (STALE → RUNNING), so it is pending, not terminal. A client may
 * abandon it. */
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
/* COMPLETED, FAILED, ABANDONED, EARLY_STOPPED. */
bool hone_trial_status_is_terminal(hone_trial_status_t status);
/* Will still be evaluated: RUNNING, CANDIDATE, STAGED, STALE (pending points of BO,
 * and counted against the budget). */
bool hone_trial_status_is_pending(hone_trial_status_t status);

/* How one attempt ended. An attempt is one hand-out of a trial to a worker under a
 * lease (the broker's worker role): it starts when the trial is handed out and ends
 * with the trial's next status, or when the lease expires. */
typedef enum {
    HONE_ATTEMPT_RUNNING = 0,       /* not ended yet */
    HONE_ATTEMPT_COMPLETED = 1,
    HONE_ATTEMPT_FAILED = 2,
    HONE_ATTEMPT_EXPIRED = 3,       /* the worker fell silent and its lease expired */
    HONE_ATTEMPT_ABANDONED = 4,
    HONE_ATTEMPT_EARLY_STOPPED = 5,
} hone_attempt_outcome_t;

/* "running", "completed", "failed", "lease expired", "abandoned", "early stopped";
 * NULL for a code that is not an outcome. */
const char *hone_attempt_outcome_name(int outcome);
/* Parses an outcome name; HONE_EINVAL if unknown. */
int hone_attempt_outcome_parse(const char *name, hone_attempt_outcome_t *out);
/* The outcome of an attempt that ends with the trial moving to status (RUNNING for a
 * status that does not end it). */
hone_attempt_outcome_t hone_attempt_outcome_for(hone_trial_status_t status);

typedef struct hone_attempt {
    char *worker;               /* the name the worker gave; "" when it gave none */
    int64_t start_ms;           /* wall-clock time of the hand-out */
    int64_t end_ms;             /* wall-clock time it ended; 0 while running */
    hone_attempt_outcome_t outcome; /* how it ended */
} hone_attempt_t;

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
    hone_attempt_t *attempts;   /* hand-outs to workers, oldest first; attempt k (1-based)
                                   is lease token k of this trial */
    uint32_t n_attempts;        /* number of attempts */
    uint32_t cap_attempts;      /* allocated slots */
} hone_trial_t;

/* The latest reading of a metric (largest progression; "no progression" wins). Returns
 * false when the trial has no reading of that metric. */
bool hone_trial_latest(const hone_trial_t *trial, uint32_t metric, double *mean, double *sem);

/* The open attempt (the last one, still running), or NULL. */
const hone_attempt_t *hone_trial_open_attempt(const hone_trial_t *trial);
/* Attempts that ended because their lease expired (the trial's retries). */
uint32_t hone_trial_expired_attempts(const hone_trial_t *trial);

/* Ax's transition rules for moving trial to status `to`. Returns HONE_OK (including the
 * no-op of marking the current status) or HONE_ESTATE with Ax's message, e.g. "Can only
 * complete trial that is currently running." hone adds RUNNING → STALE (lease expiry)
 * and STALE → RUNNING (the re-queued trial handed out again). */
int hone_trial_check_transition(const hone_trial_t *trial, hone_trial_status_t to, hone_error_t *err);

#endif
