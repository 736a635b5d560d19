/* experiment_goals.c: what an experiment answers about its goals beyond one objective
 * (experiment.h, "several goals"): the baseline arm that relative bounds are measured
 * against, the absolute bounds of the outcome constraints and thresholds, each trial's
 * objective values and feasibility, and the Pareto frontier. Reaches the experiment's
 * fields through experiment_internal.h; the geometry is pareto.h's.
 *
 * Out-of-memory policy: abort (hone_alloc*), as everywhere in core. */
#include "experiment_internal.h"

#include "alloc.h"
#include "pareto.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------------------------
 * Baseline. */

int hone_experiment_attach_baseline(hone_experiment_t *self, hone_value_t *params, uint32_t *index_out,
                                    hone_error_t *err)
{
    HONE_ASSERT(self && params);
    if (self->baseline >= 0)
        return hone_error_set(err, HONE_EEXIST, "experiment '%s' already has a baseline: trial %lld", self->name,
                              (long long) self->baseline);
    hone_error_t why;
    hone_error_clear(&why);
    if (hone_space_intern(self->space, params, &why) != HONE_OK)
        return hone_error_set(err, HONE_EINVAL, "params: %s", why.message);
    uint32_t index = hone_experiment_add_trial(self, HONE_TRIAL_RUNNING, params, HONE_BASELINE_NOTE, NULL);
    HONE_ASSERT(self->baseline == index);   /* add_trial knows the baseline by its note */
    if (index_out)
        *index_out = index;
    return HONE_OK;
}

int64_t hone_experiment_baseline(const hone_experiment_t *self)
{
    HONE_ASSERT(self);
    return self->baseline;
}

/* ---------------------------------------------------------------------------------
 * Bounds, objective values, feasibility. */

/* The absolute value of bound b: itself, or derelativized against the baseline. */
static int s_absolute(const hone_experiment_t *self, const hone_goals_bound_t *b, double *out, hone_error_t *err)
{
    if (!b->relative) {
        *out = b->bound;
        return HONE_OK;
    }
    const char *name = b->metric >= 0 ? self->metrics[b->metric] : "?";
    if (self->baseline < 0)
        return hone_error_set(err, HONE_EDATA,
                              "%s[%zu] on '%s' is relative to the baseline, and the experiment has none: "
                              "attach one with attach_baseline", b->field, b->index, name);
    double sq, sem;
    if (b->metric < 0 || !hone_trial_latest(&self->trials[self->baseline], (uint32_t) b->metric, &sq, &sem))
        return hone_error_set(err, HONE_EDATA,
                              "%s[%zu] on '%s' is relative to the baseline, whose trial %lld has no reading of "
                              "'%s' yet", b->field, b->index, name, (long long) self->baseline, name);
    *out = sq + fabs(sq) * b->bound / 100.0;
    return HONE_OK;
}

int hone_experiment_goal_bounds(const hone_experiment_t *self, double *constraint_bounds,
                                double *threshold_bounds, hone_error_t *err)
{
    HONE_ASSERT(self);
    const hone_goals_t *g = self->goals;
    for (size_t i = 0; constraint_bounds && i < hone_goals_n_constraints(g); i++) {
        int rc = s_absolute(self, hone_goals_constraint(g, i), &constraint_bounds[i], err);
        if (rc != HONE_OK)
            return rc;
    }
    for (size_t k = 0; threshold_bounds && k < hone_goals_n_objectives(g); k++) {
        const hone_goals_bound_t *t = hone_goals_threshold(g, k);
        threshold_bounds[k] = NAN;
        int rc = t ? s_absolute(self, t, &threshold_bounds[k], err) : HONE_OK;
        if (rc != HONE_OK)
            return rc;
    }
    return HONE_OK;
}

/* Σ weights·latest over the metrics with a weight; false when one has no reading. */
static bool s_weighted(const hone_experiment_t *self, const hone_trial_t *t, const double *weights, double *mean,
                       double *sem)
{
    double sum = 0.0, var = 0.0;
    size_t n = hone_goals_n_metrics(self->goals);
    for (size_t i = 0; i < n; i++) {
        if (weights[i] == 0.0)
            continue;
        double m, s;
        if (!hone_trial_latest(t, (uint32_t) i, &m, &s))
            return false;
        sum += weights[i] * m;
        var += weights[i] * weights[i] * s * s;   /* NAN stays NAN: unknown */
    }
    if (mean)
        *mean = sum;
    if (sem)
        *sem = sqrt(var);
    return true;
}

bool hone_experiment_objective_value(const hone_experiment_t *self, const hone_trial_t *trial, size_t k,
                                     double *mean, double *sem)
{
    HONE_ASSERT(self && trial && k < hone_goals_n_objectives(self->goals));
    const hone_goals_objective_t *o = hone_goals_objective(self->goals, k);
    if (o->metric >= 0)   /* the metric itself, not −metric: its direction is `minimize` */
        return hone_trial_latest(trial, (uint32_t) o->metric, mean, sem);
    return s_weighted(self, trial, o->weights, mean, sem);
}

bool hone_experiment_trial_feasible(const hone_experiment_t *self, const hone_trial_t *trial,
                                    const double *constraint_bounds)
{
    HONE_ASSERT(self && trial);
    for (size_t i = 0; i < hone_goals_n_constraints(self->goals); i++) {
        const hone_goals_bound_t *c = hone_goals_constraint(self->goals, i);
        double v;
        if (!s_weighted(self, trial, c->weights, &v, NULL))
            return false;
        if (c->op == HONE_GOALS_LEQ ? !(v <= constraint_bounds[i]) : !(v >= constraint_bounds[i]))
            return false;
    }
    return true;
}

const char *hone_experiment_objective_label(const hone_experiment_t *self, size_t k)
{
    HONE_ASSERT(self && k < self->n_objective_labels);
    return self->objective_labels[k];
}

/* "ne1 + 2*ne2" for a scalarized objective, the metric for a single one. */
char *hone_experiment_label_objective(const hone_goals_t *goals, size_t k)
{
    const hone_goals_objective_t *o = hone_goals_objective(goals, k);
    if (o->metric >= 0)
        return hone_strdup(hone_goals_metric(goals, (size_t) o->metric));
    char *text = hone_strdup("");
    for (size_t i = 0; i < hone_goals_n_metrics(goals); i++) {
        double w = o->weights[i];
        if (w == 0.0)
            continue;
        const char *sign = text[0] ? (w < 0 ? " - " : " + ") : (w < 0 ? "-" : "");
        char coef[40] = "";
        if (fabs(w) != 1.0)
            snprintf(coef, sizeof coef, "%.17g*", fabs(w));
        char *next = hone_sprintf("%s%s%s%s", text, sign, coef, hone_goals_metric(goals, i));
        hone_strfree(text);
        text = next;
    }
    return text;
}

/* ---------------------------------------------------------------------------------
 * The Pareto frontier. */

void hone_frontier_clear(hone_frontier_t *f)
{
    if (!f)
        return;
    hone_free(f->trials);
    hone_free(f->values);
    hone_free(f->sems);
    hone_free(f->contributions);
    hone_free(f->ref);
    memset(f, 0, sizeof *f);
}

/* Models of the objective metrics for the model path: one generator per metric that
 * some objective reads, fitted to all current data as the model-based best point's. */
typedef struct {
    size_t n;             /* metrics */
    hone_bo_t **bo;       /* per metric, NULL when no objective reads it */
} s_models_t;

static void s_models_free(s_models_t *m)
{
    for (size_t i = 0; i < m->n; i++)
        hone_bo_destroy(&m->bo[i]);
    hone_free(m->bo);
}

static int s_models_fit(const hone_experiment_t *self, s_models_t *m, hone_error_t *err)
{
    const hone_goals_t *g = self->goals;
    m->n = hone_goals_n_metrics(g);
    m->bo = hone_alloc_array(m->n, sizeof *m->bo);
    for (size_t i = 0; i < m->n; i++) {
        double w = 0.0;
        for (size_t k = 0; k < hone_goals_n_objectives(g); k++)
            if (hone_goals_objective(g, k)->weights[i] != 0.0)
                w = hone_goals_objective(g, k)->weights[i];
        if (w == 0.0)
            continue;
        m->bo[i] = hone_bo_new(self->space, self->kernel);
        hone_bo_set_constraints(m->bo[i], self->constraints);
        /* winsorized on the bad side of the objective that reads it */
        hone_bo_input_t in = { .trials = self->trials, .n_trials = self->n_trials, .metric = (uint32_t) i,
                               .minimize = w < 0, .seed = self->seed };
        int rc = hone_bo_fit_model(m->bo[i], &in, err);
        if (rc != HONE_OK)
            return rc;
    }
    return HONE_OK;
}

/* Objective k's posterior at one trial's arm: Σ w·μ, √Σ w²·σ² (independent models). */
static int s_model_value(const hone_experiment_t *self, const s_models_t *m, const hone_trial_t *t, size_t k,
                         double *mean, double *sem)
{
    const hone_goals_objective_t *o = hone_goals_objective(self->goals, k);
    double sum = 0.0, var = 0.0;
    for (size_t i = 0; i < m->n; i++) {
        if (o->weights[i] == 0.0)
            continue;
        const hone_value_t *params = t->params;
        double mu, sd;
        int rc = hone_bo_predict(m->bo[i], 1, &params, &mu, &sd);
        if (rc != HONE_OK)
            return rc;
        /* a single minimized metric: the weight is −1 but the value is the metric's */
        double w = o->metric >= 0 ? 1.0 : o->weights[i];
        sum += w * mu;
        var += w * w * sd * sd;
    }
    *mean = sum;
    *sem = sqrt(var);
    return HONE_OK;
}

int hone_experiment_pareto(const hone_experiment_t *self, bool use_model, hone_frontier_t *out,
                           hone_error_t *err)
{
    HONE_ASSERT(self && out);
    memset(out, 0, sizeof *out);
    const hone_goals_t *g = self->goals;
    if (!hone_goals_is_multi_objective(g))
        return hone_error_set(err, HONE_EINVAL, "experiment '%s' has a single objective: its answer is the best "
                              "point (best), not a Pareto frontier", self->name);
    size_t m = hone_goals_n_objectives(g), n_con = hone_goals_n_constraints(g);
    double *bounds = hone_alloc_array(n_con + 1, sizeof(double));
    double *thresholds = hone_alloc_array(m, sizeof(double));
    int rc = hone_experiment_goal_bounds(self, bounds, thresholds, err);
    /* Candidates: COMPLETED, every objective observed, feasible. */
    uint32_t *cand = hone_alloc_array(self->n_trials + 1, sizeof(uint32_t));
    size_t n = 0;
    for (size_t i = 0; rc == HONE_OK && i < self->n_trials; i++) {
        const hone_trial_t *t = &self->trials[i];
        if (t->status != HONE_TRIAL_COMPLETED || !hone_experiment_trial_feasible(self, t, bounds))
            continue;
        bool all = true;
        for (size_t k = 0; k < m && all; k++)
            all = hone_experiment_objective_value(self, t, k, NULL, NULL);
        if (all)
            cand[n++] = (uint32_t) i;
    }
    if (rc == HONE_OK && n == 0)
        rc = hone_error_set(err, HONE_EDATA, "experiment '%s': no COMPLETED trial has data for every objective "
                            "and satisfies the outcome constraints yet", self->name);
    double *values = hone_alloc_array(n * m + 1, sizeof(double));
    double *sems = hone_alloc_array(n * m + 1, sizeof(double));
    s_models_t models = { 0 };
    out->source = HONE_BEST_RAW;
    if (rc == HONE_OK && use_model && self->bo && n >= 2) {
        hone_error_t why;
        hone_error_clear(&why);
        int fit = s_models_fit(self, &models, &why);
        for (size_t j = 0; fit == HONE_OK && j < n; j++)
            for (size_t k = 0; fit == HONE_OK && k < m; k++)
                fit = s_model_value(self, &models, &self->trials[cand[j]], k, &values[j * m + k],
                                    &sems[j * m + k]);
        if (fit == HONE_OK)
            out->source = HONE_BEST_MODEL;
    }
    for (size_t j = 0; rc == HONE_OK && out->source == HONE_BEST_RAW && j < n; j++)
        for (size_t k = 0; k < m; k++)
            (void) hone_experiment_objective_value(self, &self->trials[cand[j]], k, &values[j * m + k],
                                                   &sems[j * m + k]);
    s_models_free(&models);

    if (rc == HONE_OK) {
        /* maximization form for pareto.h: minimized single-metric objectives negated */
        double *y = hone_alloc_array(n * m, sizeof(double));
        double *ref = hone_alloc_array(m, sizeof(double));
        double *given = hone_alloc_array(m, sizeof(double));
        double *contrib = hone_alloc_array(n, sizeof(double));
        size_t *front = hone_alloc_array(n, sizeof(size_t));
        for (size_t k = 0; k < m; k++) {
            double s = hone_goals_objective(g, k)->minimize ? -1.0 : 1.0;
            for (size_t j = 0; j < n; j++)
                y[j * m + k] = s * values[j * m + k];
            given[k] = s * thresholds[k];
            out->ref_inferred = out->ref_inferred || isnan(thresholds[k]);
        }
        rc = hone_pareto_infer_ref(y, n, m, given, ref, err);
        if (rc == HONE_OK) {
            size_t k_front = hone_pareto_front(y, n, m, NULL, false, front);
            /* A point that does not beat a threshold the user gave is outside the region
             * they asked about: it leaves the frontier (it would add no volume anyway).
             * Dropping it cannot promote a point it dominated, which is worse still. */
            size_t kept = 0;
            for (size_t j = 0; j < k_front; j++) {
                bool inside = true;
                for (size_t k = 0; k < m && inside; k++)
                    inside = isnan(given[k]) || y[front[j] * m + k] > given[k];
                if (inside)
                    front[kept++] = front[j];
            }
            k_front = kept;
            /* the front's rows, then their contributions among themselves */
            double *fy = hone_alloc_array(k_front * m + 1, sizeof(double));
            for (size_t j = 0; j < k_front; j++)
                memcpy(&fy[j * m], &y[front[j] * m], m * sizeof(double));
            hone_pareto_contributions(fy, k_front, m, ref, contrib);
            out->hypervolume = hone_pareto_hypervolume(fy, k_front, m, ref);
            /* decreasing contribution; ties keep trial order (insertion sort: k is small) */
            size_t *order = hone_alloc_array(k_front + 1, sizeof(size_t));
            for (size_t j = 0; j < k_front; j++) {
                size_t p = j;
                while (p > 0 && contrib[order[p - 1]] < contrib[j]) {
                    order[p] = order[p - 1];
                    p--;
                }
                order[p] = j;
            }
            out->n_objectives = m;
            out->n_points = k_front;
            out->trials = hone_alloc_array(k_front + 1, sizeof(uint32_t));
            out->values = hone_alloc_array(k_front * m + 1, sizeof(double));
            out->sems = hone_alloc_array(k_front * m + 1, sizeof(double));
            out->contributions = hone_alloc_array(k_front + 1, sizeof(double));
            out->ref = hone_alloc_array(m, sizeof(double));
            for (size_t k = 0; k < m; k++)
                out->ref[k] = hone_goals_objective(g, k)->minimize ? -ref[k] : ref[k];
            for (size_t j = 0; j < k_front; j++) {
                size_t row = front[order[j]];
                out->trials[j] = cand[row];
                memcpy(&out->values[j * m], &values[row * m], m * sizeof(double));
                memcpy(&out->sems[j * m], &sems[row * m], m * sizeof(double));
                out->contributions[j] = contrib[order[j]];
            }
            hone_free(order);
            hone_free(fy);
        }
        hone_free(y);
        hone_free(ref);
        hone_free(given);
        hone_free(contrib);
        hone_free(front);
    }
    hone_free(values);
    hone_free(sems);
    hone_free(cand);
    hone_free(bounds);
    hone_free(thresholds);
    if (rc != HONE_OK)
        hone_frontier_clear(out);
    return rc;
}
