/* experiment_best.c: an experiment's best point (hone_experiment_best_ex): Ax's raw path
 * (the best observed mean among COMPLETED trials) and its model path (the best posterior
 * mean, trusted only when the leave-one-out ranks agree with the data), and predictions
 * of that model at given points (hone_experiment_predict). Separate from experiment.c
 * because it only reads the experiment, through experiment_internal.h, and fits a model
 * of its own so that the BO step's state is left alone.
 *
 * Out-of-memory policy: abort (hone_alloc*), as everywhere in core. */
#include "experiment_internal.h"

#include "alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Model-path constants (hone_experiment_best_ex): minimum observations and minimum
 * Spearman correlation of the leave-one-out means with the observations. */
#define S_BEST_MODEL_MIN_N 5
#define S_BEST_MODEL_MIN_RHO 0.3

const char *hone_best_source_name(hone_best_source_t source)
{
    return source == HONE_BEST_MODEL ? "model" : "raw";
}

/* Whether the objective value v beats best (strict: ties keep the lowest index). A
 * scalarized objective is maximized, its signs being in its weights (Ax). */
static bool s_better(const hone_experiment_t *self, double v, double best)
{
    return self->minimize ? v < best : v > best;
}

/* Ax's raw path, among the trials that satisfy the outcome constraints (bounds, made
 * absolute; hone_experiment_trial_feasible). */
static int s_best_raw(const hone_experiment_t *self, const double *bounds, hone_best_point_t *out,
                      hone_error_t *err)
{
    const hone_trial_t *best = NULL;
    double best_mean = 0, best_sem = NAN;
    size_t observed = 0;
    for (size_t i = 0; i < self->n_trials; i++) {
        const hone_trial_t *t = &self->trials[i];
        double mean, sem;
        /* Only COMPLETED trials, as Ax's raw path (reference §6.1; Ax's best_point.py:
         * "Only COMPLETED trials should be considered when identifying the best point").
         * An EARLY_STOPPED trial's latest reading is a partial value, not the arm's. */
        if (t->status != HONE_TRIAL_COMPLETED || !hone_experiment_objective_value(self, t, 0, &mean, &sem))
            continue;
        observed++;
        if (!hone_experiment_trial_feasible(self, t, bounds))
            continue;
        if (!best || s_better(self, mean, best_mean)) {
            best = t;
            best_mean = mean;
            best_sem = sem;
        }
    }
    if (!best && observed > 0)
        return hone_error_set(err, HONE_EDATA,
                              "experiment '%s': no point satisfied all outcome constraints: none of the %zu "
                              "COMPLETED trials with data for the objective is feasible", self->name, observed);
    if (!best)
        return hone_error_set(err, HONE_EDATA,
                              "experiment '%s': no COMPLETED trial has data for the objective metric '%s' yet",
                              self->name, self->objective_labels[0]);
    out->trial = best->index;
    out->mean = best_mean;
    out->sem = best_sem;
    out->source = HONE_BEST_RAW;
    return HONE_OK;
}

/* A generator of its own for the model of all current data, so that predictions leave
 * the BO step's warm start and refit schedule alone: of the objective (metric < 0; the
 * first one, a scalarized one as its weighted sum, as in the BO step) or of one metric,
 * winsorized on its bad side (a minimized objective, a metric bounded from above). */
static int s_model_fit(const hone_experiment_t *self, int metric, hone_bo_t **out, hone_error_t *err)
{
    hone_bo_t *bo = hone_bo_new(self->space, self->kernel);
    hone_bo_set_constraints(bo, self->constraints);
    const hone_goals_objective_t *o = hone_goals_objective(self->goals, 0);
    hone_bo_input_t in = {
        .trials = self->trials, .n_trials = self->n_trials, .metric = 0,
        .minimize = o->metric >= 0 && o->minimize, .seed = self->seed,
        .weights = o->metric >= 0 ? NULL : o->weights,
        .n_weights = o->metric >= 0 ? 0 : hone_goals_n_metrics(self->goals),
    };
    if (metric >= 0) {
        in = (hone_bo_input_t) { .trials = self->trials, .n_trials = self->n_trials,
                                 .metric = (uint32_t) metric, .seed = self->seed };
        for (size_t i = 0; i < hone_goals_n_constraints(self->goals); i++) {
            const hone_goals_bound_t *c = hone_goals_constraint(self->goals, i);
            if (c->metric == metric)
                in.minimize = c->op == HONE_GOALS_LEQ;
        }
        for (size_t k = 0; k < hone_goals_n_objectives(self->goals); k++)
            if (hone_goals_objective(self->goals, k)->metric == metric)
                in.minimize = hone_goals_objective(self->goals, k)->minimize;
    }
    int rc = hone_bo_fit_model(bo, &in, err);
    if (rc != HONE_OK)
        hone_bo_destroy(&bo);
    *out = bo;
    return rc;
}

typedef struct {
    double v;
    size_t i;
} s_ranked_t;

static int s_ranked_cmp(const void *a, const void *b)
{
    const s_ranked_t *x = a, *y = b;
    return (x->v > y->v) - (x->v < y->v);
}

/* Ranks (1-based, ties averaged) of v into rank. */
static void s_ranks(size_t n, const double *v, double *rank, s_ranked_t *tmp)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = (s_ranked_t) { v[i], i };
    qsort(tmp, n, sizeof *tmp, s_ranked_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && tmp[j + 1].v == tmp[i].v)
            j++;
        double r = 0.5 * (double) (i + j) + 1.0;
        for (size_t k = i; k <= j; k++)
            rank[tmp[k].i] = r;
        i = j + 1;
    }
}

/* Spearman's ρ (Pearson's correlation of the ranks); NAN when a side is constant. */
static double s_spearman(size_t n, const double *a, const double *b)
{
    double *ra = hone_alloc_array(n, sizeof(double)), *rb = hone_alloc_array(n, sizeof(double));
    s_ranked_t *tmp = hone_alloc_array(n, sizeof(s_ranked_t));
    s_ranks(n, a, ra, tmp);
    s_ranks(n, b, rb, tmp);
    double m = 0.5 * (double) (n + 1), sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        sab += (ra[i] - m) * (rb[i] - m);
        saa += (ra[i] - m) * (ra[i] - m);
        sbb += (rb[i] - m) * (rb[i] - m);
    }
    hone_free(ra);
    hone_free(rb);
    hone_free(tmp);
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

/* Ax's model path on a model of all current data; false (out untouched but loo_rho)
 * when the raw path must answer. */
static bool s_best_model(const hone_experiment_t *self, const double *bounds, hone_best_point_t *out)
{
    hone_bo_t *bo = NULL;
    if (s_model_fit(self, -1, &bo, NULL) != HONE_OK)
        return false;
    const uint32_t *trials = NULL;
    size_t n = hone_bo_model_size(bo, &trials);
    if (n < S_BEST_MODEL_MIN_N) {
        hone_bo_destroy(&bo);
        return false;
    }
    bool ok = false;
    double *loo_mean = hone_alloc_array(n, sizeof(double));
    double *loo_sd = hone_alloc_array(n, sizeof(double));
    double *target = hone_alloc_array(n, sizeof(double));
    if (hone_bo_loo(bo, loo_mean, loo_sd, target) == HONE_OK) {
        out->loo_rho = s_spearman(n, loo_mean, target);
        ok = out->loo_rho >= S_BEST_MODEL_MIN_RHO;   /* false for NAN */
    }
    const hone_trial_t *best = NULL;
    double best_mean = 0, best_sem = NAN;
    for (size_t k = 0; ok && k < n; k++) {
        const hone_trial_t *t = &self->trials[trials[k]];
        /* The model learned from the EARLY_STOPPED trials too, but only a COMPLETED one can
         * be the best point (hone_experiment_best_ex): hone's model has no progression
         * input, so its mean at a stopped arm is anchored on a partial reading. */
        if (t->status != HONE_TRIAL_COMPLETED || !hone_experiment_trial_feasible(self, t, bounds))
            continue;
        if (hone_space_check(self->space, t->params, NULL) != HONE_OK
            || !hone_constraint_set_feasible(self->constraints, t->params))
            continue;
        const hone_value_t *p = t->params;
        double mean, sem;
        if (hone_bo_predict(bo, 1, &p, &mean, &sem) != HONE_OK)
            continue;
        /* strict comparison, in index order: ties keep the lowest index */
        if (!best || s_better(self, mean, best_mean)) {
            best = t;
            best_mean = mean;
            best_sem = sem;
        }
    }
    if (ok && best) {
        out->trial = best->index;
        out->mean = best_mean;
        out->sem = best_sem;
        out->source = HONE_BEST_MODEL;
    }
    hone_free(loo_mean);
    hone_free(loo_sd);
    hone_free(target);
    hone_bo_destroy(&bo);
    return ok && best;
}

int hone_experiment_best_ex(const hone_experiment_t *self, bool use_model, hone_best_point_t *out,
                            hone_error_t *err)
{
    HONE_ASSERT(self && out);
    hone_best_point_t b = { .sem = NAN, .source = HONE_BEST_RAW, .loo_rho = NAN };
    if (hone_goals_is_multi_objective(self->goals))
        return hone_error_set(err, HONE_EINVAL, "experiment '%s' has %zu objectives: its answer is the Pareto "
                              "frontier (pareto), not one best point", self->name,
                              hone_goals_n_objectives(self->goals));
    size_t n_con = hone_goals_n_constraints(self->goals);
    double *bounds = hone_alloc_array(n_con + 1, sizeof(double));
    int rc = hone_experiment_goal_bounds(self, bounds, NULL, err);
    if (rc == HONE_OK)
        rc = s_best_raw(self, bounds, &b, err);
    /* The model's observations come from COMPLETED and EARLY_STOPPED trials (bo.c); this
     * bound on their number only spares a fit that s_best_model would reject. The model
     * path ranks the feasible trials by the objective's posterior mean: unlike Ax, which
     * weights by a modelled probability of feasibility, it never names a trial observed
     * to break a constraint. With several objectives there is no best point (above). */
    size_t modelled = hone_experiment_count_status(self, HONE_TRIAL_COMPLETED)
                      + hone_experiment_count_status(self, HONE_TRIAL_EARLY_STOPPED);
    if (rc == HONE_OK && use_model && self->bo && modelled >= S_BEST_MODEL_MIN_N)
        (void) s_best_model(self, bounds, &b);
    hone_free(bounds);
    if (rc != HONE_OK)
        return rc;
    *out = b;
    return HONE_OK;
}

int hone_experiment_best(const hone_experiment_t *self, uint32_t *trial_out,
                         double *mean_out, double *sem_out, hone_error_t *err)
{
    hone_best_point_t b;
    int rc = hone_experiment_best_ex(self, true, &b, err);
    if (rc != HONE_OK)
        return rc;
    if (trial_out)
        *trial_out = b.trial;
    if (mean_out)
        *mean_out = b.mean;
    if (sem_out)
        *sem_out = b.sem;
    return HONE_OK;
}

int hone_experiment_predict(hone_experiment_t *self, size_t n, const hone_value_t *const *params,
                            double *mean, double *sem, hone_error_t *err)
{
    return hone_experiment_predict_metric(self, NULL, n, params, mean, sem, err);
}

int hone_experiment_predict_metric(hone_experiment_t *self, const char *metric, size_t n,
                                   const hone_value_t *const *params, double *mean, double *sem, hone_error_t *err)
{
    HONE_ASSERT(self && (n == 0 || (params && mean && sem)));
    int index = metric ? hone_experiment_metric_find(self, metric) : -1;
    if (metric && index < 0)
        return hone_error_set(err, HONE_EINVAL, "metric: '%.100s' is not a metric of experiment '%s' (none of "
                              "its goals, no reading of it)", metric, self->name);
    size_t dim = hone_space_size(self->space);
    hone_value_t *points = hone_alloc_array(n * dim + 1, sizeof(hone_value_t));
    const hone_value_t **rows = hone_alloc_array(n + 1, sizeof(hone_value_t *));
    int rc = HONE_OK;
    for (size_t j = 0; rc == HONE_OK && j < n; j++) {
        hone_value_t *row = &points[j * dim];
        for (size_t a = 0; a < dim; a++)
            row[a] = params[j][a];
        hone_error_t perr;
        hone_error_clear(&perr);
        if (hone_space_intern(self->space, row, &perr) != HONE_OK) {
            rc = hone_error_set(err, HONE_EINVAL, "points[%zu]: %s", j, perr.message);
        } else {
            int c = hone_constraint_set_violated(self->constraints, row);
            if (c >= 0)
                rc = hone_error_set(err, HONE_EINVAL, "points[%zu]: violates the parameter constraint '%s'", j,
                                    hone_constraint_set_text(self->constraints, (size_t) c));
        }
        rows[j] = row;
    }
    hone_bo_t *bo = NULL;
    if (rc == HONE_OK)
        rc = s_model_fit(self, index, &bo, err);
    if (rc != HONE_OK && metric && err) {   /* bo.c's messages speak of "the objective" */
        char why[HONE_ERROR_MESSAGE_MAX];
        snprintf(why, sizeof why, "%s", err->message);
        rc = hone_error_set(err, rc, "metric '%.100s': %.380s", metric, why);
    }
    if (rc == HONE_OK) {
        rc = hone_bo_predict(bo, n, rows, mean, sem);
        if (rc != HONE_OK)
            rc = hone_error_set(err, HONE_ENUMERIC, "the model could not predict (%s)", hone_strerror(rc));
    }
    hone_bo_destroy(&bo);
    hone_free(rows);
    hone_free(points);
    return rc;
}
