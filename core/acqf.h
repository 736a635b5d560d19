/* acqf.h: acquisition functions and their optimizer (reference/bo-numerics.md §2, §3).
 *
 * An acquisition is maximized over the unit cube of the model's inputs. Every value is
 * in log space (LogEI, qLogNEI), so that it stays informative far into the tail.
 * Pluggable through a type table (CONVENTIONS.md §20). */
#ifndef HONE_ACQF_H
#define HONE_ACQF_H

#include "err.h"
#include "gp.h"
#include "rng.h"

typedef struct hone_acqf_type hone_acqf_type_t;
typedef struct _hone_acqf_t hone_acqf_t;

/* What an acquisition is prepared with. The model's targets are standardized and the
 * acquisition MAXIMIZES the model output (the caller flips the sign for minimization). */
typedef struct hone_acqf_context {
    const hone_gp_t *model;   /* fitted */
    double best_f;            /* incumbent for LogEI: best posterior mean at observed points */
    size_t n_pending;         /* points being evaluated (running trials), n_pending × d */
    const double *pending;
    uint64_t seed;            /* for Monte-Carlo base samples */
} hone_acqf_context_t;

struct hone_acqf_type {
    const char *name;                                         /* "logei", "qlognei" */
    hone_acqf_t *(*create)(const hone_acqf_context_t *ctx);   /* NULL on failure */
    void (*destroy)(hone_acqf_t **self_p);
    /* Values at m points (m × d), batched. */
    int (*eval)(hone_acqf_t *self, size_t m, const double *x, double *value);
    /* Value and gradient at one point. */
    int (*eval_grad)(hone_acqf_t *self, const double *x, double *value, double *grad);
};

extern const hone_acqf_type_t hone_acqf_logei;

/* type->create(ctx); NULL on failure. */
hone_acqf_t *hone_acqf_new(const hone_acqf_type_t *type, const hone_acqf_context_t *ctx);
/* Destroys through the object's own table; *self_p becomes NULL; NULL is a no-op. */
void hone_acqf_destroy(hone_acqf_t **self_p);
/* The type table and the input dimension of an acquisition. */
const hone_acqf_type_t *hone_acqf_type_of(const hone_acqf_t *self);
size_t hone_acqf_dim(const hone_acqf_t *self);
/* Forwarders to the object's table (same contract as hone_acqf_type's eval and
 * eval_grad). */
int hone_acqf_eval(hone_acqf_t *self, size_t m, const double *x, double *value);
int hone_acqf_eval_grad(hone_acqf_t *self, const double *x, double *value, double *grad);

/* LogEI with a local penalty around the pending points (a hone heuristic, not BoTorch):
 *     LogEI(x) + Σ_p log(1 − exp(−½·Σ_a ((x_a − p_a)/ℓ_a)²)),
 * with ℓ the model's lengthscales: −inf at a pending point, −0.93 one lengthscale away,
 * −0.01 at three. Identical to hone_acqf_logei without pending points. Name
 * "logei_penalized". */
extern const hone_acqf_type_t hone_acqf_logei_penalized;

/* Monte-Carlo qLogNEI for one candidate with fixed quasi-random base samples and a cached
 * root decomposition (acqf_qlognei.c, bo-numerics §2.2): the log of the expected
 * improvement over the best of the baseline, jointly sampled, where the baseline is the
 * model's training points plus the pending points (pruned to the ones that can be the
 * best). Noise-aware, and the principled treatment of pending points: the model is left
 * as it is (no fantasies). best_f is not used. Name "qlognei". */
extern const hone_acqf_type_t hone_acqf_qlognei;

/* The discrete structure of the inputs, so that the optimizer returns valid points:
 * kind[a] is 0 (continuous), 1 (ordinal with levels[a] equally spaced values in [0,1]:
 * 0, 1/(k-1), ..., 1), or 2 (one-hot group member: group[a] is the group id, all the
 * members of a group are one unordered choice). NULL kind: everything continuous. */
typedef struct hone_acqf_space {
    size_t d;
    const int *kind;
    const int *levels;
    const int *group;
    /* Linear inequalities A·x <= b in unit-cube coordinates (row-major n_ineq × d). */
    size_t n_ineq;
    const double *ineq_a;
    const double *ineq_b;
} hone_acqf_space_t;

typedef struct hone_acqf_opt_options {
    int raw_samples;     /* 0 = 1024 */
    int restarts;        /* 0 = 20 */
    int max_eval;        /* per local run; 0 = 200 */
    uint64_t seed;
} hone_acqf_opt_options_t;

void hone_acqf_opt_options_init(hone_acqf_opt_options_t *opts);

/* Maximizes the acquisition: raw Sobol samples evaluated in one batch, restarts chosen
 * by Boltzmann sampling (best forced in), L-BFGS (SLSQP with constraints) from each,
 * discrete dimensions handled by rounding/neighbour moves, then projection onto the
 * grid. Points within 1e-6 of an excluded point (n_excluded × d; existing arms) are not
 * returned. Writes the best point (d values) and its value.
 * Errors: HONE_EINVAL (bad space or options, or constraints that leave no feasible
 * point), HONE_EEXHAUSTED (every candidate is excluded or infeasible), HONE_ENUMERIC (the
 * acquisition is not finite at any raw sample), or the acquisition's own error. */
int hone_acqf_optimize(hone_acqf_t *acqf, const hone_acqf_space_t *space,
                       const double *excluded, size_t n_excluded,
                       const hone_acqf_opt_options_t *opts, double *x_out, double *value_out,
                       hone_error_t *err);

#endif
