/* bo_goals.h: one Bayesian-optimization step over several metrics: outcome constraints
 * and several objectives (Ax's MBM node with the "fast" method, reference/
 * ax-client-behaviour.md §3.3; bo-numerics.md §2.2-§2.5). The single objective without
 * constraints is bo.h's step; this one fits one GP per metric the goals read (each a
 * hone_bo_t, so each keeps its warm start, refit schedule and rank-1 appends) and
 * chooses the acquisition as Ax's choose_botorch_acqf_class:
 *   - qLogPF while no observed point satisfies every outcome constraint (and, with
 *     several objectives, beats every given threshold);
 *   - feasibility-weighted qLogNEI for one objective;
 *   - qLogNEHVI for 2 to 4 objectives, the reference point being the given thresholds
 *     with the missing coordinates inferred as Ax does (hone_pareto_infer_ref on the
 *     posterior means at the feasible observed points);
 *   - qLogNParEGO for 5 or more.
 * A scalarized objective ("a + 2*b", alone or among several) is modelled as one GP of
 * its weighted sum, as bo.h does; its metrics get models of their own only when a
 * constraint reads them. Pending points (running and re-queued trials) join each acquisition's baseline as in
 * the single-objective case.
 *
 * Models are in their own units (acqf_mo.h): metric i's GP is of (s_i·y_i − μ_i)/σ_i,
 * s_i = −1 for a minimized objective and for a metric bounded from above by a
 * constraint (so that Ax's winsorization clips the bad side), the outcome constraints
 * are mapped into those units exactly. Output warping is off here: the bounds would have
 * to go through the warp as well.
 *
 * Pure computation; results are a function of the inputs and the seed. */
#ifndef HONE_BO_GOALS_H
#define HONE_BO_GOALS_H

#include "bo.h"
#include "goals.h"

typedef struct _hone_bo_goals_t hone_bo_goals_t;

/* A step generator for space and the goals (both borrowed: they must outlive it). */
hone_bo_goals_t *hone_bo_goals_new(const hone_space_t *space, const hone_goals_t *goals,
                                   hone_kernel_kind_t kernel);
void hone_bo_goals_destroy(hone_bo_goals_t **self_p);
/* Parameter constraints, as hone_bo_set_constraints (borrowed; NULL for none). */
void hone_bo_goals_set_constraints(hone_bo_goals_t *self, const hone_constraint_set_t *constraints);
/* Exchanges the learned state (every metric's generator) between two generators of
 * equal spaces and goals, as hone_bo_swap_state. */
void hone_bo_goals_swap_state(hone_bo_goals_t *a, hone_bo_goals_t *b);

typedef struct hone_bo_goals_input {
    const hone_trial_t *trials;         /* every trial, by index; metric i is the goals' i */
    size_t n_trials;
    const double *constraint_bounds;    /* absolute bound of each outcome constraint */
    const double *threshold_bounds;     /* per objective, absolute, NAN when not given */
    uint64_t seed;
} hone_bo_goals_input_t;

/* The acquisition a step used. */
typedef enum {
    HONE_BO_GOALS_QLOGPF = 0,
    HONE_BO_GOALS_QLOGNEI = 1,
    HONE_BO_GOALS_QLOGNEHVI = 2,
    HONE_BO_GOALS_QLOGNPAREGO = 3,
} hone_bo_goals_acqf_t;
/* "qlogpf", "qlognei", "qlognehvi", "qlognparego". */
const char *hone_bo_goals_acqf_name(hone_bo_goals_acqf_t acqf);

typedef struct hone_bo_goals_stats {
    size_t n_models;                    /* GPs fitted (metrics read) */
    size_t n_observed;                  /* observations of the first objective's model */
    size_t n_pending;
    double fit_ms, acq_ms;
    double value;                       /* acquisition value of the candidate (log scale) */
    hone_bo_goals_acqf_t acqf;
} hone_bo_goals_stats_t;

/* Writes the suggested parameterization to out. Errors: HONE_EDATA (a metric the goals
 * read has no observation yet), HONE_ENUMERIC (a model could not be fitted, the
 * acquisition not prepared or optimized, or the candidate breaks a parameter
 * constraint),
 * HONE_EEXHAUSTED (nothing to optimize, no candidate left). Existing arms are excluded. */
int hone_bo_goals_suggest(hone_bo_goals_t *self, const hone_bo_goals_input_t *input, hone_value_t *out,
                          hone_bo_goals_stats_t *stats, hone_error_t *err);

#endif
