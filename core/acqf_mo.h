/* acqf_mo.h: acquisition functions over several models (reference/bo-numerics.md §2.2-§2.5):
 * the multi-objective ones, and every acquisition with outcome constraints.
 *
 * A multi-output acquisition is prepared from m objective models and optional constraint
 * models, one independent GP per metric, instead of acqf.h's single model.
 * hone_acqf_context_t has room for one model only (and acqf.h is shared), so the
 * multi-output context is defined here, with a small constructor table of its own; the
 * objects made are ordinary hone_acqf_t acquisitions: hone_acqf_eval,
 * hone_acqf_eval_grad, hone_acqf_destroy, hone_acqf_dim, hone_acqf_type_of and
 * hone_acqf_optimize work on them unchanged.
 *
 * Which acquisition (Ax's choose_botorch_acqf_class; the choice is the caller's):
 *   - hone_acqf_mo_qlogpf while no observed point satisfies every outcome constraint
 *     (and, in MOO, is better than the thresholds), judged on the observed data;
 *   - otherwise hone_acqf_mo_qlognei for one objective (hone_acqf_qlognei through acqf.h
 *     when there are no outcome constraints: the same object), hone_acqf_mo_qlognehvi
 *     for 2 to 4 objectives, hone_acqf_mo_qlognparego for 5 or more.
 *
 * Conventions (as pareto.h): everything is in MAXIMIZATION form. The caller negates the
 * models of minimized objectives (fits them on −y, standardized) and their thresholds
 * before building the context, so the reference point is in the same convention.
 * Outcome constraints are in the models' units (see the context). */
#ifndef HONE_ACQF_MO_H
#define HONE_ACQF_MO_H

#include "acqf.h"

#define HONE_ACQF_MO_MAX_OBJECTIVES 4   /* qLogNEHVI's objectives at most */
#define HONE_ACQF_MO_MAX_OUTPUTS 64      /* objectives plus constraint models, any type */

/* What a multi-output acquisition is prepared with. */
typedef struct hone_acqf_mo_context {
    size_t m;                        /* objectives: 1 (qLogNEI), 2..4 (qLogNEHVI), 2 or
                                      * more (qLogNParEGO), any (qLogPF) */
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
    /* Outcome constraints (bo-numerics §2.3; BoTorch's constraint callables A·y − b,
     * Ax's outcome_constraints). The outputs are the objectives' models (output j < m)
     * followed by the constraint metrics' models (output m + i is con_models[i]);
     * constraint k is satisfied when
     *     g_k = Σ_j con_weights[k·(m + n_con_models) + j]·y_j − con_bounds[k] <= 0,
     * y_j being output j in its model's units. con_weights NULL means one model per
     * constraint: n_con == n_con_models and g_k = c_k − b_k. The caller converts:
     *   - "metric <= b": weight +1 on the metric's model, bound b;
     *   - "metric >= b": weight −1, bound −b, i.e. g = b − metric;
     *   - bounds go into the model's units: for a model of (y − mean)/sd, b becomes
     *     (b − mean)/sd; "Σ_i w_i·metric_i <= b" (Ax's scalarized constraint) has the
     *     weights w_i·sd_i and the bound b − Σ_i w_i·mean_i;
     *   - a constraint on an objective's metric reads the objective's output (a
     *     minimized objective's model is of −metric: weight −1 for "metric <= b");
     *   - qLogPF in MOO: an objective threshold r_j is the constraint −y_j <= −r_j.
     * Feasibility is smoothed per sample with BoTorch's fatmoid(−g_k/η), η = 1e-3, in
     * these units (so standardized models make η 1e-3 standard deviations). */
    size_t n_con_models;              /* models of the constraint metrics */
    const hone_gp_t *const *con_models; /* n_con_models fitted models over the same d
                                      * inputs, borrowed like models */
    size_t n_con;                     /* outcome constraints (0: none) */
    const double *con_weights;        /* n_con rows of m + n_con_models, or NULL */
    const double *con_bounds;         /* n_con bounds */
    /* qLogNParEGO only: the m scalarization weights (>= 0, positive sum), or NULL to
     * draw them from the seed, uniformly on the simplex as BoTorch's sample_simplex. */
    const double *weights;
} hone_acqf_mo_context_t;

/* A multi-objective acquisition type: its name and its constructor. The objects made
 * dispatch through an ordinary hone_acqf_type_t (`type`). */
typedef struct hone_acqf_mo_type {
    const char *name;
    const hone_acqf_type_t *type;                                   /* the objects' table */
    hone_acqf_t *(*create)(const hone_acqf_mo_context_t *ctx);      /* NULL on failure */
} hone_acqf_mo_type_t;

/* type->create(ctx): NULL when the context is invalid for the type (m out of range, a
 * NULL or unfactorized model or one without data, models of different dimensions, a
 * non-finite reference point, pending or baseline points missing or not finite, more
 * than HONE_ACQF_MO_MAX_OUTPUTS outputs, constraint weights or bounds missing or not
 * finite, con_weights NULL with n_con != n_con_models, ParEGO weights negative or
 * summing to 0) or when a baseline covariance does not factorize. Aborts on
 * out-of-memory. */
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
 * With outcome constraints (as BoTorch): each sample's front is made of the baseline
 * points feasible in that sample (g_k <= 0 for every k), the improvement of sample s is
 * weighted by Π_k fatmoid(−g_k(x)/η) (log HVI_s + Σ_k log fatmoid), and the pruning
 * counts a point only in the draws where it is feasible. Cost: one more cached root per
 * constraint model and O(N·n_con·(m + n_con_models)) per candidate.
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

/* Feasibility-weighted qLogNEI for one objective (m = 1) and n_con >= 0 outcome
 * constraints: BoTorch's qLogNoisyExpectedImprovement with constraints, fat=True,
 * η = 1e-3, cache_root, prune_baseline, incremental (acqf_qlognei.c; bo-numerics §2.2,
 * §2.3). With N = 512 joint draws (f_b, g_b) at the baseline and (f_x, g_x) at x,
 *     qLogNEI(x) = log (1/N)·Σ_s fatplus(f_x^s − f*^s; 1e-6)·Π_k fatmoid(−g_k,x^s/η),
 *     f*^s = max over the baseline points feasible in sample s (g_k,i^s <= 0 for all k)
 *            of f_b,i^s, every infeasible point counting as L,
 * where L = −inf when every sample has a feasible baseline point, and otherwise
 * BoTorch's infeasible value (_estimate_objective_lower_bound): min(0, min of μ − 6σ of
 * the objective over the pruned baseline and 32 convex combinations of it, drawn from
 * the seed). The baseline pruning keeps the points that are the best FEASIBLE point of
 * at least one of 2048 draws (a draw without a feasible point keeps the first point, as
 * BoTorch's argmax); the pre-filter bounds the best value only with points that are
 * surely feasible (μ_g + 4σ_g <= 0 for every constraint). Without constraints it is
 * hone_acqf_qlognei, value for value (same seeds). ref is ignored. Objects dispatch
 * through hone_acqf_qlognei. Cost per candidate: hone_acqf_qlognei's per model
 * (objective and each constraint model read by a constraint), plus
 * O(N·n_con·(1 + n_con_models)). Name "qlognei". */
extern const hone_acqf_mo_type_t hone_acqf_mo_qlognei;

/* qLogPF, the log probability of feasibility (BoTorch's qLogProbabilityOfFeasibility,
 * fat=True, η = 1e-3; acqf_feasible.c; bo-numerics §2.3), the acquisition Ax uses while
 * no observed point is feasible:
 *     qLogPF(x) = log (1/N)·Σ_s Π_k fatmoid(−g_k,x^s/η)
 * with N = 512 fixed scrambled-Sobol draws of the outputs that the constraints read
 * (n_con >= 1; m >= 0 objectives, drawn only if a constraint reads them; ref is
 * ignored). Pending points join the q-batch as BoTorch's concatenated X_pending: with
 * joint draws at x and the pending points (cached root, the pending points as the
 * baseline), sample s scores fatmax(log W_s(x), log W_s(p_1), ..., log W_s(p_P);
 * τ = 1e-2), BoTorch's q-reduction: the probability that some point of the batch is
 * feasible, so candidates gain little where a pending point is likely feasible (what an
 * MC acquisition without a baseline does with X_pending; qLogPF's own source was not at
 * hand to confirm it [unverified]). Smooth, analytic gradient. Cost per candidate: per output read, O(n·d + n² + P·n + P²) and
 * O(N·P); then O(N·n_con·outputs). Name "qlogpf". */
extern const hone_acqf_mo_type_t hone_acqf_mo_qlogpf;
/* The table of the objects hone_acqf_mo_qlogpf makes; its create returns NULL (a
 * single-model context has no constraints): use hone_acqf_mo_new. */
extern const hone_acqf_type_t hone_acqf_qlogpf;

/* qLogNParEGO for m >= 2 objectives (up to HONE_ACQF_MO_MAX_OUTPUTS outputs with the
 * constraint models), BoTorch's qLogNParEGO with Ax's settings (acqf_parego.c;
 * bo-numerics §2.4): weights w on the simplex (ctx->weights, or Dirichlet(1) drawn from
 * the seed as sample_simplex), the objectives normalized with the minimum lo_j and
 * maximum hi_j of the posterior means at the observed baseline points (not the pending
 * ones; a range below 1e-12 is taken as 1, as BoTorch does for a single point), and the
 * augmented Chebyshev scalarization of get_chebyshev_scalarization, in maximization form:
 *     h(y) = −[max_j(w_j·ȳ_j) + 0.05·Σ_j w_j·ȳ_j],   ȳ_j = (hi_j − y_j)/(hi_j − lo_j),
 * then the constrained qLogNEI above on h, per sample, with N = 128 base samples
 * (BoTorch's multi-objective default): the baseline's best per sample is the max of h
 * over its feasible points, the pruning and the pre-filter use h (monotone in every y_j,
 * so h(μ ± 4σ) bound it), and the infeasible value is min(0, h(μ − 6σ)). The max in h is
 * not smooth: as BoTorch (whose scalarization uses torch's max, not a fatmax), the
 * gradient is the subgradient that gives each sample's maximizing objective (the first
 * on ties) its w_j/(hi_j − lo_j); the value is continuous, and kinks only where two
 * objectives tie in a sample, which L-BFGS tolerates as BoTorch's does. ref is ignored.
 * Objects dispatch through hone_acqf_qlognei (qLogNParEGO is qLogNEI on a scalarized
 * objective, as BoTorch's class). Cost per candidate: m (+ constraint) models'
 * posteriors as hone_acqf_qlognei's, plus O(N·m) for h. Name "qlognparego". */
extern const hone_acqf_mo_type_t hone_acqf_mo_qlognparego;

/* What hone_acqf_qlognei_info reports. Pointers are borrowed from the object and valid
 * while it lives. */
typedef struct hone_acqf_qlognei_info {
    size_t n_baseline;        /* baseline points after pruning */
    size_t m;                 /* objectives: 1, or ParEGO's */
    size_t n_con;             /* outcome constraints */
    const double *weights;    /* m: ParEGO's scalarization weights (NULL when m = 1) */
    const double *lo, *hi;    /* m: ParEGO's normalization bounds (NULL when m = 1) */
    double infeasible_value;  /* L above: −inf unless a sample has no feasible baseline
                               * point */
} hone_acqf_qlognei_info_t;

/* Diagnostics of a qLogNEI or qLogNParEGO object (hone_acqf_qlognei, hone_acqf_mo_qlognei,
 * hone_acqf_mo_qlognparego). HONE_EINVAL when acqf is not one. */
int hone_acqf_qlognei_info(const hone_acqf_t *acqf, hone_acqf_qlognei_info_t *info);

#endif
