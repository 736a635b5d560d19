/* acqf_mo.h: multi-objective acquisition functions (reference/bo-numerics.md §2.4, §2.5).
 *
 * A multi-objective acquisition is prepared from m models, one independent GP per
 * objective, instead of acqf.h's single model. hone_acqf_context_t has room for one
 * model only (and acqf.h is shared), so the multi-output context is defined here, with
 * a small constructor table of its own; the objects made are ordinary hone_acqf_t
 * acquisitions: hone_acqf_eval, hone_acqf_eval_grad, hone_acqf_destroy, hone_acqf_dim,
 * hone_acqf_type_of and hone_acqf_optimize work on them unchanged.
 *
 * Conventions (as pareto.h): everything is in MAXIMIZATION form. The caller negates the
 * models of minimized objectives (fits them on −y, standardized) and their thresholds
 * before building the context, so the reference point is in the same convention. */
#ifndef HONE_ACQF_MO_H
#define HONE_ACQF_MO_H

#include "acqf.h"

#define HONE_ACQF_MO_MAX_OBJECTIVES 4

/* What a multi-objective acquisition is prepared with. */
typedef struct hone_acqf_mo_context {
    size_t m;                        /* objectives, 2..HONE_ACQF_MO_MAX_OBJECTIVES */
    const hone_gp_t *const *models;  /* m fitted models over the same d inputs, borrowed:
                                      * they must not change while the acquisition lives */
    const double *ref;               /* m: the reference point (objective thresholds) */
    size_t n_pending;                /* points being evaluated (running trials) */
    const double *pending;           /* n_pending × d */
    /* The observed points X of the baseline (rows of d), or NULL for models[0]'s training
     * inputs (n_baseline is then ignored). The experiment observes all metrics on the
     * same trials, so the models share their training inputs and NULL is the usual
     * choice; a model fitted on other points (a metric missing on some trials) is still
     * sampled correctly at these points, its posterior being valid anywhere. */
    size_t n_baseline;
    const double *baseline;
    uint64_t seed;                   /* for the Monte-Carlo base samples and the pruning */
} hone_acqf_mo_context_t;

/* A multi-objective acquisition type: its name and its constructor. The objects made
 * dispatch through an ordinary hone_acqf_type_t (`type`). */
typedef struct hone_acqf_mo_type {
    const char *name;
    const hone_acqf_type_t *type;                                   /* the objects' table */
    hone_acqf_t *(*create)(const hone_acqf_mo_context_t *ctx);      /* NULL on failure */
} hone_acqf_mo_type_t;

/* type->create(ctx): NULL when the context is invalid (m out of range, a NULL or
 * unfactorized model or one without data, models of different dimensions, a
 * non-finite reference point, pending or baseline points missing or not finite) or
 * when a baseline covariance does not factorize. Aborts on out-of-memory. */
static inline hone_acqf_t *hone_acqf_mo_new(const hone_acqf_mo_type_t *type,
                                            const hone_acqf_mo_context_t *ctx)
{
    HONE_ASSERT(type && type->create);
    return type->create(ctx);
}

/* qLogNEHVI for one candidate (q = 1), BoTorch's qLogNoisyExpectedHypervolumeImprovement
 * with Ax's settings (acqf_qlognehvi.c; bo-numerics §2.4): the log of the expected
 * hypervolume improvement of f(x) over the Pareto front of the baseline f(X_b), both
 * drawn jointly from the posterior with N = 128 fixed scrambled-Sobol base samples, the
 * improvement smoothed with fatplus (τ = 1e-6) and fatmin (τ = 1e-3) as BoTorch's fat
 * variant. X_b is the observed points plus the pending points (incremental, as BoTorch
 * with incremental_nehvi=True), pruned to the points that are on the sampled Pareto
 * front (and better than ref) in at least one of 2048 joint draws. The value is
 * deterministic and smooth in x; eval_grad is analytic.
 * Cost per candidate (details in the .c): per model O(n·d + n² + n·nb + nb² + N·nb) of
 * batched BLAS, then per sample one log per distinct lower cell bound, a few flops per
 * distinct cell side and m multiplications per cell: measured about 0.03 ms (m = 2),
 * 0.16 ms (m = 3) and 0.5 ms (m = 4) per candidate at n = 50 (eval_grad about 1.3×).
 * Create: pruning draws and N box decompositions, 2 to 40 ms for n = 20..50.
 * Threads: an object is not synchronized (its scratch is inside); separate objects may
 * be used from separate threads while their models do not change.
 * Name "qlognehvi" (both tables). */
extern const hone_acqf_mo_type_t hone_acqf_mo_qlognehvi;
/* The table of the objects hone_acqf_mo_qlognehvi makes. Its create cannot build one
 * from a single-model hone_acqf_context_t and returns NULL: use hone_acqf_mo_new. */
extern const hone_acqf_type_t hone_acqf_qlognehvi;

/* Diagnostics of a qLogNEHVI object: the baseline size after pruning and the number of
 * cells summed over the N samples' decompositions (either pointer may be NULL).
 * HONE_EINVAL when acqf is not a qLogNEHVI object. */
int hone_acqf_qlognehvi_info(const hone_acqf_t *acqf, size_t *n_baseline, size_t *n_cells);

#endif
