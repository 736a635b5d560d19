/* bo.h: one Bayesian-optimization step for a single objective (Ax's MBM node with the
 * "fast" method): encode the observed trials, winsorize and standardize the objective,
 * fit a GP (warm-started from the previous step), maximize LogEI, decode.
 *
 * The observations are Ax's training data (reference/ax-client-behaviour.md §3.3): the
 * latest reading of the objective (largest progression, hone_trial_latest) of every
 * COMPLETED or EARLY_STOPPED trial. Unlike Ax, RUNNING trials' partial readings are not
 * trained on: a running trial is a pending point (bo_data.c, hone_bo_observation, says why).
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
#include "warp.h"

typedef struct _hone_bo_t hone_bo_t;

/* A step generator for space (borrowed: it must outlive the generator), with a GP of the
 * given kernel. */
hone_bo_t *hone_bo_new(const hone_space_t *space, hone_kernel_kind_t kernel);
void hone_bo_destroy(hone_bo_t **self_p);
/* Exchanges everything a generator learned between steps (the GP and its hyperparameters,
 * the refit schedule, the frozen transforms, the model of hone_bo_fit_model) between two
 * generators made for equal spaces (of two copies of one experiment), keeping each bound
 * to its own space: how an experiment's snapshot takes the warm start to the generator
 * thread and gives it back (hone_experiment_snapshot). */
void hone_bo_swap_state(hone_bo_t *a, hone_bo_t *b);

/* Parameter constraints every suggestion must satisfy (borrowed: the set must outlive
 * the generator and keep its constraints; NULL for none). Those that are affine in the
 * model's features bound the acquisition optimizer (encode.h); every decoded candidate
 * is checked against all of them. */
void hone_bo_set_constraints(hone_bo_t *self, const hone_constraint_set_t *constraints);

/* The acquisition of a step:
 * - HONE_BO_QLOGNEI (Ax's): MC qLogNEI, noise-aware, with the pending points in its
 *   baseline and the model left as fitted;
 * - HONE_BO_LOGEI: analytic LogEI on the best posterior mean, pending points as
 *   kriging-believer fantasies plus a local penalty (see above);
 * - HONE_BO_AUTO (the default): qLogNEI when trials are pending or the observations are
 *   noisy (noise variance above HONE_BO_AUTO_NOISE of the standardized targets: the
 *   inferred noise, or the mean of the given ones), LogEI otherwise. Where the data is
 *   (nearly) exact, the incumbent is known and LogEI refines it faster: qLogNEI keeps
 *   paying for the incumbent's residual uncertainty (bench/README.md: on Branin and
 *   Hartmann6 LogEI wins, on Rosenbrock and Ackley, whose fits infer noise, qLogNEI). */
typedef enum { HONE_BO_AUTO = 0, HONE_BO_QLOGNEI = 1, HONE_BO_LOGEI = 2 } hone_bo_acquisition_t;
#define HONE_BO_AUTO_NOISE 1e-3
/* Output warping (warp.h) of the objective before the fit of a BO step; on by default. The
 * model of hone_bo_fit_model (predictions, best point) is never warped. */
void hone_bo_set_warping(hone_bo_t *self, bool warping);
void hone_bo_set_acquisition(hone_bo_t *self, hone_bo_acquisition_t acquisition);

/* Observations and pending points, as the experiment knows them. */
typedef struct hone_bo_input {
    const hone_trial_t *trials;   /* every trial of the experiment, by index */
    size_t n_trials;
    uint32_t metric;              /* the objective's metric index */
    bool minimize;                /* objective direction */
    /* Or a scalarized objective (Ax's "a + 2*b"): Σ weights[i]·metric i over n_weights
     * metrics, modelled as one GP of the weighted sum (its SEM √Σ w²·sem²), observed
     * where every metric with a weight is; NULL for the single metric above. */
    const double *weights;
    size_t n_weights;
    uint64_t seed;                /* experiment seed; each step derives its own streams */
} hone_bo_input_t;

/* How a step brought the GP to the model of the observations (refit schedule, below). */
typedef enum {
    HONE_BO_PATH_REFIT = 0,       /* hyperparameters fitted, constants recomputed: O(evals·n³) */
    HONE_BO_PATH_REFRESH = 1,     /* hyperparameters kept, constants recomputed, one Cholesky: O(n³/3) */
    HONE_BO_PATH_APPEND = 2,      /* hyperparameters and constants frozen, rank-1 appends: O(n²) each */
} hone_bo_path_t;

/* Statistics of the last step, for notes, logs and benchmarks. */
typedef struct hone_bo_stats {
    size_t n_observed;            /* COMPLETED and EARLY_STOPPED trials with objective data used */
    size_t n_pending;             /* running trials used as fantasies */
    bool refit;                   /* the hyperparameters were fitted (path == HONE_BO_PATH_REFIT) */
    hone_bo_path_t path;          /* how the model was brought up to date */
    size_t appended;              /* observations added by rank-1 appends (APPEND path) */
    double fit_ms;                /* GP fit, refactorization or appends */
    double acq_ms;                /* acquisition optimization */
    double log_ei;                /* acquisition value of the candidate (log scale) */
    hone_bo_acquisition_t acquisition;   /* the one used (never AUTO after a step) */
} hone_bo_stats_t;

/* Writes the suggested parameterization to out.
 *
 * Refit schedule (reference/bo-numerics.md §1.5; stats->path says which was taken):
 * the hyperparameters are fitted (warm-started) at every step while there are fewer
 * than 300 observations, and beyond that once their number has grown by 10% since the
 * last fit. A fit comes with a full encoding: the output warp, the Tukey winsorization
 * cut-off and the standardization (mean, std) are computed afresh. Between fits, the
 * hyperparameters and those transform constants stay frozen; when the observations are
 * those of the previous step plus new ones (trials matched by index, in any completion
 * order; a trial stopped early enters like a completed one and leaves the pending
 * points), the new ones are transformed with the frozen constants and added by rank-1
 * Cholesky appends, O(n²) each instead of O(n³/3). Anything else between fits (a
 * changed value or SEM, an observation gone, a failed trial, another noise mode or
 * warping setting) takes a full encoding with fresh constants and one refactorization
 * with the hyperparameters kept. So between fits the model can differ slightly from the
 * one a full encoding would give (the constants lag behind the data), as the reference
 * intends. The pending points' fantasies of the LogEI path never outlive their step.
 *
 * Errors: HONE_EDATA (no observation),
 * HONE_ENUMERIC (the model could not be fitted or the acquisition not optimized, or the
 * decoded candidate violates a parameter constraint: "the model's candidate violates a
 * parameter constraint"; the caller falls back to Sobol), HONE_EEXHAUSTED (nothing to
 * optimize, or no candidate left). Existing arms are excluded from the candidates. */
int hone_bo_suggest(hone_bo_t *self, const hone_bo_input_t *input, hone_value_t *out,
                    hone_bo_stats_t *stats, hone_error_t *err);

/* The model part of a BO step alone: the encoding, transforms, refit schedule, warm
 * start and appends of hone_bo_suggest, without the acquisition; what a step over
 * several metrics (bo_goals.h) does for each metric. hone_bo_state then gives the GP and
 * its transforms. Errors: HONE_EDATA (no observation), HONE_ENUMERIC (the fit failed),
 * HONE_EEXHAUSTED (no free parameter). */
int hone_bo_fit_step(hone_bo_t *self, const hone_bo_input_t *input, hone_bo_stats_t *stats, hone_error_t *err);

/* The model of all current data, for predictions and the model-based best point: the
 * same encoding, winsorization, standardization and GP as a BO step, with the
 * hyperparameters always fitted (no refit schedule; pending points play no part).
 * Intended for a generator of its own (a fresh one gives a result that is a function of
 * the data and the seed only). Errors: HONE_EDATA (fewer than 2 COMPLETED or
 * EARLY_STOPPED trials with objective data), HONE_ENUMERIC (no free parameter, or the
 * GP could not be fitted).
 * Using hone_bo_suggest on the same generator afterwards invalidates the model. */
int hone_bo_fit_model(hone_bo_t *self, const hone_bo_input_t *input, hone_error_t *err);
/* Observations in the fitted model (0 when there is none) and, through trials, the
 * trial index of each, in the order of hone_bo_loo. */
size_t hone_bo_model_size(const hone_bo_t *self, const uint32_t **trials);
/* Posterior mean and SEM (posterior standard deviation of f, without noise) of the
 * objective in its own units at m parameterizations, which must be members of the space
 * (hone_space_intern'ed). The model is trained on winsorized targets, so predictions near
 * outliers are clipped like the training data; the standardization is undone exactly.
 * HONE_ESTATE without a fitted model. */
int hone_bo_predict(const hone_bo_t *self, size_t m, const hone_value_t *const *params,
                    double *mean, double *sem);
/* Closed-form leave-one-out predictions (hone_gp_loo) at the model's observations, in
 * the objective's units: loo_mean and loo_sd (noise included); target (optional) gets the
 * targets the model was trained on, i.e. the winsorized observations. HONE_ESTATE without
 * a fitted model, HONE_ENUMERIC if K⁻¹ cannot be formed. */
int hone_bo_loo(const hone_bo_t *self, double *loo_mean, double *loo_sd, double *target);

/* For tests and diagnostics: the generator's GP and what it was conditioned on, valid
 * until the next call on self. After hone_bo_suggest the GP may also hold the kriging-
 * believer fantasies, after the n observations. */
typedef struct hone_bo_state {
    const hone_gp_t *gp;          /* borrowed; NULL before the first step */
    size_t n;                     /* observations: the GP's leading points */
    const double *x;              /* n × dim features, in the GP's order */
    const double *y;              /* n standardized targets, in the GP's order */
    const double *yvar;           /* n standardized noise variances, or NULL (inferred noise) */
    const uint32_t *trials;       /* n trial indices, in the GP's order */
    double sign;                  /* +1 maximize, −1 minimize: the model is of sign·metric */
    double y_mean, y_std;         /* standardization of the (warped) sign·metric: y_mean + y_std·ỹ */
    bool warped;                  /* the targets went through warp (BO steps with warping) */
    hone_warp_t warp;             /* output warp, applied to sign·metric before the fence */
    double fence;                 /* winsorization cut-off of the (warped) sign·metric, or −inf */
} hone_bo_state_t;
void hone_bo_state(const hone_bo_t *self, hone_bo_state_t *out);

#endif
