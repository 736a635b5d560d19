/* experiment_generation.c: where an experiment's next trials come from: the budget
 * (max_trials, max_failures), Ax's generation strategy (center, then scrambled Sobol,
 * then BO once both transition criteria hold), hone_experiment_generate, and the
 * prefetch queue the broker serves from. Separate from experiment.c because it is the
 * policy over the object, not the object; reaches its fields through
 * experiment_internal.h.
 *
 * Parameter constraints (constraint.h) hold for every generated trial: a center that
 * violates them is replaced by the Chebyshev center (skipped when none is feasible),
 * Sobol points are drawn until one is feasible (rejection sampling, as Ax does), and a
 * BO candidate that violates them gives way to Sobol.
 *
 * Out-of-memory policy: abort (hone_alloc*), as everywhere in core. */
#include "experiment_internal.h"

#include "alloc.h"

#include <stdio.h>

/* Consecutive Sobol draws that are duplicates or violate a parameter constraint after
 * which the space counts as exhausted (Ax's rejection sampling gives up after 10,000). */
#define S_MAX_REJECTED_DRAWS 10000

/* ---------------------------------------------------------------------------------
 * Budget. */

static size_t s_pending(const hone_experiment_t *self)
{
    size_t n = 0;
    for (int status = 0; status < HONE_EXPERIMENT_STATUS_SLOTS; status++)
        if (hone_trial_status_name(status) && hone_trial_status_is_pending((hone_trial_status_t) status))
            n += self->status_count[status];
    return n;
}

/* HONE_OK when the budget allows one more trial. */
static int s_budget_check(const hone_experiment_t *self, hone_error_t *err)
{
    size_t failed = self->status_count[HONE_TRIAL_FAILED];
    if (failed >= self->max_failures)
        return hone_error_set(err, HONE_EDONE,
                              "experiment '%s': %zu trials failed, which reaches max_failures (%u); "
                              "no more trials will be generated", self->name, failed, self->max_failures);
    if (self->max_trials == 0)
        return HONE_OK;
    size_t active = self->n_trials - failed - self->status_count[HONE_TRIAL_ABANDONED];
    if (active < self->max_trials)
        return HONE_OK;
    size_t pending = s_pending(self);
    if (pending > 0)
        return hone_error_set(err, HONE_EAGAIN,
                              "experiment '%s': all %u trials of the budget are out and %zu are still "
                              "running; ask again when one of them fails or is abandoned",
                              self->name, self->max_trials, pending);
    return hone_error_set(err, HONE_EDONE, "experiment '%s': the budget of %u trials (max_trials) is spent",
                          self->name, self->max_trials);
}

bool hone_experiment_budget_left(const hone_experiment_t *self)
{
    HONE_ASSERT(self);
    return s_budget_check(self, NULL) == HONE_OK;
}

/* ---------------------------------------------------------------------------------
 * Phases and generation. */

/* Where Ax's generation strategy stands (reference/ax-client-behaviour.md §3.1). */
typedef enum {
    S_PHASE_SOBOL,        /* initialization: center and Sobol up to the budget */
    S_PHASE_WAITING,      /* budget reached, too few observed trials: Ax would pause */
    S_PHASE_BO,           /* both transition criteria met */
} s_phase_t;

static bool s_is_initialization_note(const char *note)
{
    return note && (strncmp(note, "center", 6) == 0 || strncmp(note, "sobol", 5) == 0);
}

/* Ax's two transition criteria of the Sobol node (ax/api/utils/generation_strategy_
 * dispatch.py, _get_sobol_node):
 * (a) MinTrials(budget, not_in_statuses=[FAILED, ABANDONED]): every other status counts,
 *     EARLY_STOPPED included (a stopped trial spent its share of the budget);
 * (b) MinTrials(min_observed, only_in_statuses=[COMPLETED], count_only_trials_with_data):
 *     only COMPLETED trials with data for the objective are "observed" (reference §3.1 (b)
 *     and §4.2). An EARLY_STOPPED trial does not count there, although its latest reading
 *     trains the model once BO runs (bo_data.c, hone_bo_observation): that is Ax's rule, and it
 *     keeps BO from starting on partial curves alone. */
static s_phase_t s_phase(const hone_experiment_t *self)
{
    size_t counted = 0, observed = 0;
    double mean, sem;
    for (size_t i = 0; i < self->n_trials; i++) {
        const hone_trial_t *t = &self->trials[i];
        if (t->status == HONE_TRIAL_FAILED || t->status == HONE_TRIAL_ABANDONED)
            continue;
        if (self->use_existing_trials || s_is_initialization_note(t->note))
            counted++;   /* (a) */
        if (t->status != HONE_TRIAL_COMPLETED)
            continue;
        bool all = true;   /* (b): data for every metric the goals read, as Ax's */
        for (size_t m = 0; m < hone_goals_n_metrics(self->goals) && all; m++)
            all = hone_trial_latest(t, (uint32_t) m, &mean, &sem);
        observed += all;
    }
    if (counted < self->initialization_budget)
        return S_PHASE_SOBOL;
    return observed >= self->min_observed ? S_PHASE_BO : S_PHASE_WAITING;
}

/* The single-objective step (bo.h): one metric, or a scalarized objective modelled as
 * its weighted sum. */
static int s_bo_step(hone_experiment_t *self, hone_value_t *out, hone_error_t *err)
{
    const hone_goals_objective_t *o = hone_goals_objective(self->goals, 0);
    hone_bo_input_t in = {
        .trials = self->trials, .n_trials = self->n_trials, .metric = 0,
        .minimize = self->minimize, .seed = self->seed,
        .weights = o->metric >= 0 ? NULL : o->weights,
        .n_weights = o->metric >= 0 ? 0 : hone_goals_n_metrics(self->goals),
    };
    return hone_bo_suggest(self->bo, &in, out, &self->bo_stats, err);
}

/* The step over several metrics (bo_goals.h), with the goals' bounds made absolute
 * (a relative one needs the baseline's data). */
static int s_bo_goals_step(hone_experiment_t *self, hone_value_t *out, hone_error_t *err)
{
    size_t n_con = hone_goals_n_constraints(self->goals), m = hone_goals_n_objectives(self->goals);
    double *bounds = hone_alloc_array(n_con + m, sizeof(double));
    int rc = hone_experiment_goal_bounds(self, bounds, bounds + n_con, err);
    if (rc == HONE_OK) {
        hone_bo_goals_input_t in = {
            .trials = self->trials, .n_trials = self->n_trials, .constraint_bounds = bounds,
            .threshold_bounds = bounds + n_con, .seed = self->seed,
        };
        rc = hone_bo_goals_suggest(self->bo_goals, &in, out, &self->bo_goals_stats, err);
    }
    hone_free(bounds);
    return rc;
}

/* A BO candidate, when the strategy has reached BO and the model gives a new arm.
 * Otherwise *fallback says why Sobol is used instead (NULL: the plain Sobol phase). */
static bool s_bo_arm(hone_experiment_t *self, hone_value_t *out, const char **fallback)
{
    *fallback = NULL;
    s_phase_t phase = s_phase(self);
    if (phase == S_PHASE_SOBOL)
        return false;
    if (phase == S_PHASE_WAITING) {
        /* Ax raises "need more data" here; idle workers get a Sobol trial instead. */
        if (!self->allow_exceeding_budget)
            *fallback = "sobol (initialization budget reached, waiting for data)";
        return false;
    }
    hone_error_t berr;
    hone_error_clear(&berr);
    int rc = self->bo_goals ? s_bo_goals_step(self, out, &berr) : s_bo_step(self, out, &berr);
    HONE_ASSERT(rc != HONE_OK || hone_constraint_set_feasible(self->constraints, out));
    if (rc == HONE_OK
        && hone_experiment_arms_find(self, out, hone_experiment_arm_hash(out, hone_space_size(self->space)))
               == SIZE_MAX)
        return true;
    snprintf(self->note_buf, sizeof self->note_buf, "sobol (fallback: %.150s)",
             rc == HONE_OK ? "the model proposed an existing arm" : berr.message);
    *fallback = self->note_buf;
    return false;
}

/* The next arm to try, written to out. */
static int s_next_arm(hone_experiment_t *self, hone_value_t *out, const char **note, hone_error_t *err)
{
    /* Ax's center node: only on an experiment without trials (hence without the arm) */
    const char *fallback = NULL;
    if (self->initialize_with_center && self->n_trials == 0) {
        hone_space_center(self->space, out);
        if (hone_constraint_set_feasible(self->constraints, out)) {
            *note = "center";
            return HONE_OK;
        }
        if (hone_constraint_set_center(self->constraints, self->space, out) == HONE_OK) {
            (void) hone_constraint_set_tighten(self->constraints, self->space, out);
            *note = "center (Chebyshev center: the midpoint violates a parameter constraint)";
            return HONE_OK;
        }
        /* Ax skips the node */
        fallback = "sobol (no feasible point found near the center: the center node is skipped)";
    }
    if ((double) self->n_arm_used >= self->cardinality)
        return hone_error_set(err, HONE_EEXHAUSTED,
                              "experiment '%s': every one of the %.0f points of the search space is already "
                              "used by a trial", self->name, self->cardinality);
    if (self->bo && !fallback && s_bo_arm(self, out, &fallback)) {
        /* which acquisition, when the goals leave a choice (bo_goals.h) */
        if (self->bo_goals) {
            snprintf(self->note_buf, sizeof self->note_buf, "bo (%s)",
                     hone_bo_goals_acqf_name(self->bo_goals_stats.acqf));
            *note = self->note_buf;
        } else {
            *note = "bo";
        }
        return HONE_OK;
    }
    /* Rejection sampling: ints are rounded by from_unit, and a rounded point that breaks
     * a constraint is one more rejected draw (Ax re-randomizes the rounding instead). */
    size_t dim = hone_space_size(self->space);
    int infeasible = 0;
    for (int draw = 0; draw < S_MAX_REJECTED_DRAWS; draw++) {
        if (hone_sobol_next(self->sobol, 1, self->unit) != HONE_OK)
            return hone_error_set(err, HONE_EEXHAUSTED, "experiment '%s': the Sobol sequence is exhausted",
                                  self->name);
        hone_space_from_unit(self->space, self->unit, out);
        if (!hone_constraint_set_feasible(self->constraints, out)) {
            infeasible++;
            continue;
        }
        (void) hone_constraint_set_tighten(self->constraints, self->space, out);   /* off a boundary */
        if (hone_experiment_arms_find(self, out, hone_experiment_arm_hash(out, dim)) == SIZE_MAX) {
            *note = fallback ? fallback : "sobol";
            return HONE_OK;
        }
    }
    if (infeasible == S_MAX_REJECTED_DRAWS)
        return hone_error_set(err, HONE_EEXHAUSTED,
                              "experiment '%s': none of %d consecutive Sobol draws satisfied the parameter "
                              "constraints; they leave (almost) no feasible point in the search space",
                              self->name, S_MAX_REJECTED_DRAWS);
    if (infeasible > 0)
        return hone_error_set(err, HONE_EEXHAUSTED,
                              "experiment '%s': %d consecutive Sobol draws gave no new point (%d violated the "
                              "parameter constraints, %d were already used by trials); the feasible part of the "
                              "search space looks exhausted", self->name, S_MAX_REJECTED_DRAWS, infeasible,
                              S_MAX_REJECTED_DRAWS - infeasible);
    return hone_error_set(err, HONE_EEXHAUSTED,
                          "experiment '%s': %d consecutive Sobol draws gave points already used by trials; "
                          "the search space looks exhausted", self->name, S_MAX_REJECTED_DRAWS);
}

int hone_experiment_generate(hone_experiment_t *self, uint32_t max_trials,
                             uint32_t *indices, uint32_t *n_out, hone_error_t *err)
{
    HONE_ASSERT(self && n_out);
    *n_out = 0;
    if (max_trials == 0)
        return hone_error_set(err, HONE_EINVAL, "max_trials must be at least 1");
    HONE_ASSERT(indices);
    int rc = HONE_OK;
    while (*n_out < max_trials) {
        rc = s_budget_check(self, err);
        if (rc != HONE_OK)
            break;
        const char *note = NULL;
        rc = s_next_arm(self, self->scratch, &note, err);
        if (rc != HONE_OK)
            break;
        indices[(*n_out)++] = hone_experiment_add_trial(self, HONE_TRIAL_RUNNING, self->scratch, note, NULL);
    }
    if (*n_out > 0) {
        hone_error_clear(err);   /* fewer than asked is still a success */
        return HONE_OK;
    }
    return rc;
}

/* ---------------------------------------------------------------------------------
 * The prefetch queue. */

uint32_t hone_experiment_prefetch(const hone_experiment_t *self)
{
    HONE_ASSERT(self);
    return self->prefetch;
}

int64_t hone_experiment_next_queued(const hone_experiment_t *self)
{
    HONE_ASSERT(self);
    if (self->status_count[HONE_TRIAL_STALE] > 0)
        for (size_t i = 0; i < self->n_trials; i++)
            if (self->trials[i].status == HONE_TRIAL_STALE)
                return (int64_t) i;
    return hone_experiment_next_candidate(self);
}

int64_t hone_experiment_next_candidate(const hone_experiment_t *self)
{
    HONE_ASSERT(self);
    if (self->status_count[HONE_TRIAL_CANDIDATE] == 0)
        return -1;
    for (size_t i = 0; i < self->n_trials; i++)
        if (self->trials[i].status == HONE_TRIAL_CANDIDATE)
            return (int64_t) i;
    return -1;
}
