/* experiment_settings.h: the internal seam between the config*.c files (the JSON
 * configuration: parsing, validation, canonical form; the sole jansson users of the
 * experiment model) and experiment.c (the state). Not installed; nothing here is exported. */
#ifndef HONE_EXPERIMENT_SETTINGS_H
#define HONE_EXPERIMENT_SETTINGS_H

#include "constraint.h"
#include "goals.h"
#include "experiment.h"
#include "stopping.h"

/* A validated configuration, everything but the search space. */
typedef struct hone_experiment_settings {
    const char *name;                /* experiment name, already validated */
    const char *objective_metric;    /* the objective's (first) metric */
    bool minimize;                   /* its direction, when the objective is that one metric */
    bool single_metric;              /* the objective is one metric (not scalarized, not MOO) */
    const char *objective_text;      /* its canonical string ("-loss", "-a, b") */
    const char *method;              /* as configured: "random_search" or "fast" */
    uint64_t seed;                   /* initialization_random_seed actually used */
    bool initialize_with_center;     /* first trial is the center point */
    uint32_t initialization_budget;  /* trials from center + Sobol before BO (Ax's default 5) */
    uint32_t min_observed_trials;    /* COMPLETED trials with objective data needed before BO */
    bool use_existing_trials;        /* every trial counts toward the budget, not only Sobol's */
    bool allow_exceeding_budget;     /* keep Sobol going past the budget while data is missing */
    const char *kernel;              /* GP kernel for BO: "matern52" (default) or "rbf" */
    const char *acquisition;         /* "auto" (default), "qlognei" or "logei" (bo.h) */
    bool output_warping;             /* warp the objective in BO steps (warp.h; default true) */
    uint32_t prefetch;               /* candidates kept generated ahead (0: fresh, the default) */
    uint32_t max_trials;             /* 0: unlimited */
    uint32_t max_failures;           /* >= 1 */
    hone_lease_settings_t leases;    /* worker leases (experiment.h) */
    bool has_early_stopping;         /* an "early_stopping" block was given */
    hone_stopping_config_t early_stopping; /* its strategy, validated (when has_early_stopping) */
    const char *early_stopping_metric; /* its metric (when has_early_stopping) */
    bool early_stopping_minimize;    /* that metric's direction (when has_early_stopping) */
} hone_experiment_settings_t;

/* Builds an experiment from validated settings. Takes ownership of *space_p (which
 * must hold at least one and at most HONE_SOBOL_MAXDIM parameters), of *constraints_p
 * (the parameter constraints, validated against that space; *constraints_p may be NULL
 * for none), of *goals_p (the objective and outcome constraints, whose metrics become the
 * experiment's first ones) and of *config_json_p (the canonical config, allocated with hone_alloc),
 * setting all three to NULL. Strings in settings are copied. Cannot fail (aborts on
 * OOM). */
hone_experiment_t *hone_experiment_new(const hone_experiment_settings_t *settings,
                                       hone_space_t **space_p, hone_constraint_set_t **constraints_p,
                                       hone_goals_t **goals_p, char **config_json_p);

#endif
