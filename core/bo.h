/* bo.h: one Bayesian-optimization step for a single objective (Ax's MBM node with the
 * "fast" method): encode the observed trials, winsorize and standardize the objective,
 * fit a GP (warm-started from the previous step), maximize LogEI, decode.
 *
 * Pending points (trials still running) enter as "kriging believer" fantasies: each is
 * appended to the fitted model with its own posterior mean as observation, which
 * collapses the model's uncertainty there, so that asynchronous workers are not sent to
 * the same place (Ginsbourger, Le Riche & Carraro 2010) — and the incumbent takes the
 * believed values into account. Since an inferred noise keeps some uncertainty at a
 * fantasy, LogEI also gets a local penalty around each pending point, scaled by the
 * model's lengthscales (acqf_impl.h, hone_acqf_logei_penalized). This is hone's interim
 * answer until MC qLogNEI treats pending points as BoTorch does.
 *
 * Pure computation; results are a function of the inputs and the seed. */
#ifndef HONE_BO_H
#define HONE_BO_H

#include "constraint.h"
#include "err.h"
#include "gp.h"
#include "space.h"
#include "trial.h"

typedef struct _hone_bo_t hone_bo_t;

/* A step generator for space (borrowed: it must outlive the generator), with a GP of the
 * given kernel. */
hone_bo_t *hone_bo_new(const hone_space_t *space, hone_kernel_kind_t kernel);
void hone_bo_destroy(hone_bo_t **self_p);

/* Parameter constraints every suggestion must satisfy (borrowed: the set must outlive
 * the generator and keep its constraints; NULL for none). Those that are affine in the
 * model's features bound the acquisition optimizer (encode.h); every decoded candidate
 * is checked against all of them. */
void hone_bo_set_constraints(hone_bo_t *self, const hone_constraint_set_t *constraints);

/* Observations and pending points, as the experiment knows them. */
typedef struct hone_bo_input {
    const hone_trial_t *trials;   /* every trial of the experiment, by index */
    size_t n_trials;
    uint32_t metric;              /* the objective's metric index */
    bool minimize;                /* objective direction */
    uint64_t seed;                /* experiment seed; each step derives its own streams */
} hone_bo_input_t;

/* Statistics of the last step, for notes, logs and benchmarks. */
typedef struct hone_bo_stats {
    size_t n_observed;            /* COMPLETED trials with objective data used */
    size_t n_pending;             /* running trials used as fantasies */
    bool refit;                   /* the hyperparameters were fitted (else only refactorized) */
    double fit_ms;                /* GP fit, or refactorization */
    double acq_ms;                /* acquisition optimization */
    double log_ei;                /* acquisition value of the candidate */
} hone_bo_stats_t;

/* Writes the suggested parameterization to out. Errors: HONE_EDATA (no observation),
 * HONE_ENUMERIC (the model could not be fitted or the acquisition not optimized, or the
 * decoded candidate violates a parameter constraint: "the model's candidate violates a
 * parameter constraint"; the caller falls back to Sobol), HONE_EEXHAUSTED (nothing to
 * optimize, or no candidate left). Existing arms are excluded from the candidates. */
int hone_bo_suggest(hone_bo_t *self, const hone_bo_input_t *input, hone_value_t *out,
                    hone_bo_stats_t *stats, hone_error_t *err);

#endif
