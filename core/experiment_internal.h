/* experiment_internal.h: the experiment's struct and what its files share. The object
 * is one noun split over several files (experiment.c: object, life cycle, trials and
 * data; experiment_arms.c, experiment_generation.c, experiment_best.c,
 * experiment_leases.c), and they all reach the same fields; this header is their only
 * seam. Not installed and not part of the experiment.h contract; nothing here is
 * exported. experiment_stopping.c and the config*.c files do not include it: they need
 * only experiment.h (and experiment_settings.h). */
#ifndef HONE_EXPERIMENT_INTERNAL_H
#define HONE_EXPERIMENT_INTERNAL_H

#include "experiment.h"

#include "bo.h"
#include "bo_goals.h"
#include "constraint.h"
#include "goals.h"
#include "sobol.h"
#include "stopping.h"

/* Status codes are 0..8 (6 is Ax's deprecated DISPATCHED). */
#define HONE_EXPERIMENT_STATUS_SLOTS 9

/* One slot of the open-addressing set of arms in use (arms of every trial that is
 * not FAILED). hash 0 marks a never-used slot; count 0 with a hash is a tombstone. */
typedef struct {
    uint64_t hash;      /* FNV-1a of the arm, never 0 when used */
    uint32_t trial;     /* a trial holding this arm: its params are what we compare */
    uint32_t count;     /* number of non-FAILED trials holding this arm */
} hone_experiment_arm_slot_t;

struct _hone_experiment_t {
    char *name;                     /* experiment name */
    char *config_json;              /* canonical configuration (config_canonical.c) */
    hone_space_t *space;            /* owned search space */
    hone_constraint_set_t *constraints; /* owned parameter constraints (possibly empty) */
    char *method;                   /* method as configured ("random_search" or "fast") */
    char *note;                     /* remark about the configuration, or NULL */
    bool minimize;                  /* objective direction (single-metric objective) */
    hone_goals_t *goals;            /* owned objective, outcome constraints, thresholds */
    bool single_metric;             /* the objective is one metric: metric 0 */
    char *objective_text;           /* the canonical objective string */
    int64_t baseline;               /* the baseline (status quo) trial, or -1 */
    char **objective_labels;        /* per objective (hone_experiment_objective_label) */
    size_t n_objective_labels;
    uint64_t seed;                  /* initialization_random_seed in use */
    bool initialize_with_center;    /* first trial is the center */
    uint32_t initialization_budget; /* center + Sobol trials before BO */
    uint32_t min_observed;          /* observed trials needed before BO */
    bool use_existing_trials;       /* every trial counts toward the initialization budget */
    bool allow_exceeding_budget;    /* Sobol past the budget is normal, not a wait for data */
    hone_bo_t *bo;                  /* Bayesian optimization (method "fast"), or NULL */
    hone_bo_goals_t *bo_goals;      /* its step over several metrics (constraints, MOO), or NULL */
    hone_kernel_kind_t kernel;      /* of the GP (BO, predict, model-based best) */
    hone_bo_stats_t bo_stats;       /* statistics of the last BO step */
    hone_bo_goals_stats_t bo_goals_stats; /* of the last step over several metrics */
    char note_buf[192];             /* the note of the last generated trial, when composed */
    uint32_t max_trials;            /* 0: unlimited */
    uint32_t prefetch;              /* candidates kept generated ahead (broker) */
    uint32_t max_failures;          /* generation stops once this many trials failed */
    hone_lease_settings_t leases;   /* worker leases: heartbeat, liveness, retries */
    bool has_stopping;              /* an early-stopping strategy is configured */
    hone_stopping_config_t stopping; /* that strategy (when has_stopping) */
    char *stop_metric;              /* the metric it reads (the objective by default) */
    bool stop_minimize;             /* that metric's direction */
    int64_t *stop_checks;           /* per trial: last interval check, INT64_MIN for none */
    size_t n_stop_checks;           /* entries in stop_checks (grown on demand) */
    char **metrics;                 /* metric names; [0] is the objective */
    size_t n_metrics;               /* number of metrics */
    size_t cap_metrics;             /* allocated slots in metrics */
    hone_trial_t *trials;           /* trials by index */
    size_t n_trials;                /* number of trials */
    size_t cap_trials;              /* allocated slots in trials */
    size_t status_count[HONE_EXPERIMENT_STATUS_SLOTS]; /* trials per status code */
    hone_sobol_t *sobol;            /* initialization Sobol sequence */
    double *unit;                   /* scratch: one Sobol point */
    hone_value_t *scratch;          /* scratch: one parameterization */
    hone_experiment_arm_slot_t *arms; /* set of arms in use */
    size_t cap_arms;                /* slots in arms (power of two) */
    size_t n_arm_used;              /* slots holding a live arm */
    size_t n_arm_tomb;              /* tombstone slots */
    double cardinality;             /* number of distinct points of the space, or INFINITY */
};

/* ---- experiment_arms.c: the set of arms in use ---- */

/* FNV-1a of an arm (n values); never 0. */
uint64_t hone_experiment_arm_hash(const hone_value_t *values, size_t n);
/* The slot holding an arm equal to values, or SIZE_MAX. */
size_t hone_experiment_arms_find(const hone_experiment_t *self, const hone_value_t *values, uint64_t hash);
/* Counts trial's arm as in use / no longer in use (the trial is added / has FAILED). */
void hone_experiment_arms_add(hone_experiment_t *self, uint32_t trial);
void hone_experiment_arms_remove(hone_experiment_t *self, uint32_t trial);

/* ---- experiment.c ---- */

/* Appends a trial with a copy of params (already interned in self->space) and returns
 * its index; note is copied, reason truncated as Ax does. May move self->trials. */
uint32_t hone_experiment_add_trial(hone_experiment_t *self, hone_trial_status_t status,
                                   const hone_value_t *params, const char *note, const char *reason);

/* ---- experiment_goals.c ---- */

/* Objective k's label (hone_experiment_objective_label), newly allocated. */
char *hone_experiment_label_objective(const hone_goals_t *goals, size_t k);

/* ---- experiment_leases.c ---- */

/* Appends a copy of a to t's attempts (the worker string is duplicated). */
void hone_experiment_push_attempt(hone_trial_t *t, const hone_attempt_t *a);

#endif
