/* bo_goals.c: a BO step over several metrics (see bo_goals.h).
 *
 * The outputs of the acquisition (acqf_mo.h) are the objectives' models, then one model
 * per metric that only a constraint reads. A metric's model is one hone_bo_t, fitted by
 * hone_bo_fit_step, so each metric keeps bo.c's warm start and refit schedule. Every
 * bound is mapped into the models' units here (s_add_bound), once per step. */
#include "bo_goals.h"

#include "acqf_mo.h"
#include "alloc.h"
#include "clock.h"
#include "encode.h"
#include "gp.h"
#include "pareto.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct _hone_bo_goals_t {
    const hone_space_t *space;          /* borrowed */
    const hone_goals_t *goals;          /* borrowed */
    const hone_constraint_set_t *constraints; /* borrowed parameter constraints, or NULL */
    hone_encoding_t *enc;
    size_t dim;
    hone_kernel_kind_t kernel;
    size_t n_metrics;
    hone_bo_t **metric_bo;              /* per metric, made when first needed */
    bool *minimize;                     /* per metric: its model is of −metric */
    hone_bo_t **scalar_bo;              /* per objective: a scalarized one's model (else NULL) */
    size_t n_objectives;
    double *unit;                       /* scratch: weights reading one metric */
    double *excluded, *pending;         /* features of every arm in use / of pending trials */
    size_t cap;                         /* rows of excluded and pending */
};

const char *hone_bo_goals_acqf_name(hone_bo_goals_acqf_t acqf)
{
    static const char *const names[] = { "qlogpf", "qlognei", "qlognehvi", "qlognparego" };
    return (size_t) acqf < HONE_ARRAY_LEN(names) ? names[acqf] : "?";
}

hone_bo_goals_t *hone_bo_goals_new(const hone_space_t *space, const hone_goals_t *goals,
                                   hone_kernel_kind_t kernel)
{
    HONE_ASSERT(space && goals);
    hone_bo_goals_t *self = hone_alloc(sizeof *self);
    self->space = space;
    self->goals = goals;
    self->kernel = kernel;
    self->enc = hone_encoding_new(space);
    self->dim = hone_encoding_dim(self->enc);
    self->n_metrics = hone_goals_n_metrics(goals);
    self->metric_bo = hone_alloc_array(self->n_metrics, sizeof *self->metric_bo);
    self->minimize = hone_alloc_array(self->n_metrics, sizeof *self->minimize);
    self->n_objectives = hone_goals_n_objectives(goals);
    self->scalar_bo = hone_alloc_array(self->n_objectives, sizeof *self->scalar_bo);
    self->unit = hone_alloc_array(self->n_metrics, sizeof *self->unit);
    /* Each model is of the metric turned so that its bad side is low, which is the side
     * bo.c's winsorization clips: a minimized objective, a metric bounded from above. */
    for (size_t i = 0; i < hone_goals_n_constraints(goals); i++) {
        const hone_goals_bound_t *c = hone_goals_constraint(goals, i);
        if (c->metric >= 0)
            self->minimize[c->metric] = c->op == HONE_GOALS_LEQ;
    }
    for (size_t k = 0; k < hone_goals_n_objectives(goals); k++) {
        const hone_goals_objective_t *o = hone_goals_objective(goals, k);
        if (o->metric >= 0)
            self->minimize[o->metric] = o->minimize;
    }
    return self;
}

void hone_bo_goals_destroy(hone_bo_goals_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hone_bo_goals_t *self = *self_p;
    for (size_t i = 0; i < self->n_metrics; i++)
        hone_bo_destroy(&self->metric_bo[i]);
    hone_free(self->metric_bo);
    hone_free(self->minimize);
    hone_free(self->unit);
    for (size_t k = 0; k < self->n_objectives; k++)
        hone_bo_destroy(&self->scalar_bo[k]);
    hone_free(self->scalar_bo);
    hone_encoding_destroy(&self->enc);
    hone_free(self->excluded);
    hone_free(self->pending);
    hone_free(self);
    *self_p = NULL;
}

void hone_bo_goals_set_constraints(hone_bo_goals_t *self, const hone_constraint_set_t *constraints)
{
    HONE_ASSERT(self);
    self->constraints = constraints;
    (void) hone_encoding_set_constraints(self->enc, constraints);
    for (size_t i = 0; i < self->n_metrics; i++)
        if (self->metric_bo[i])
            hone_bo_set_constraints(self->metric_bo[i], constraints);
    for (size_t k = 0; k < self->n_objectives; k++)
        if (self->scalar_bo[k])
            hone_bo_set_constraints(self->scalar_bo[k], constraints);
}

/* A model made on first use, bound to this generator's space and constraints. */
static hone_bo_t *s_model(hone_bo_goals_t *self, hone_bo_t **slot)
{
    if (!*slot) {
        *slot = hone_bo_new(self->space, self->kernel);
        hone_bo_set_constraints(*slot, self->constraints);
        hone_bo_set_warping(*slot, false);
    }
    return *slot;
}

void hone_bo_goals_swap_state(hone_bo_goals_t *a, hone_bo_goals_t *b)
{
    HONE_ASSERT(a && b && a->n_metrics == b->n_metrics && a->n_objectives == b->n_objectives);
    for (size_t i = 0; i < a->n_metrics; i++) {
        if (!a->metric_bo[i] && !b->metric_bo[i])
            continue;
        hone_bo_swap_state(s_model(a, &a->metric_bo[i]), s_model(b, &b->metric_bo[i]));
    }
    for (size_t k = 0; k < a->n_objectives; k++)
        if (a->scalar_bo[k] || b->scalar_bo[k])
            hone_bo_swap_state(s_model(a, &a->scalar_bo[k]), s_model(b, &b->scalar_bo[k]));
}

/* ---------------------------------------------------------------------------------
 * One step. */

/* What a step assembles: the outputs (models with their transforms) and the bounds in
 * the models' units, g = W·y − B <= 0. */
typedef struct {
    size_t m;                            /* objectives */
    size_t n_out;                        /* m + constraint-only models */
    const hone_gp_t *gp[HONE_ACQF_MO_MAX_OUTPUTS];
    double sign[HONE_ACQF_MO_MAX_OUTPUTS];   /* the model is of (sign·value − mean)/std */
    double mean[HONE_ACQF_MO_MAX_OUTPUTS], std[HONE_ACQF_MO_MAX_OUTPUTS];
    int out_of_metric[HONE_GOALS_MAX_METRICS]; /* the output reading metric i alone, or -1 */
    size_t n_con;                        /* outcome constraints, then thresholds (qLogPF) */
    double *w;                           /* n_con rows of n_out */
    double *b;                           /* n_con */
} s_outputs_t;

/* Fits the model of what `name` reads (a metric, or a scalarized objective's sum) and
 * makes it output o. Errors name it: bo.c's own messages speak of "the objective". */
static int s_fit_output(hone_bo_t *bo, const hone_bo_input_t *bin, const char *name, s_outputs_t *out, size_t o,
                        hone_bo_goals_stats_t *st, hone_error_t *err)
{
    hone_bo_stats_t bst;
    hone_error_t why;
    hone_error_clear(&why);
    int rc = hone_bo_fit_step(bo, bin, &bst, &why);
    if (rc != HONE_OK)
        return hone_error_set(err, rc, "the model of '%.100s': %.350s", name, why.message);
    hone_bo_state_t state;
    hone_bo_state(bo, &state);
    out->gp[o] = state.gp;
    out->sign[o] = state.sign;
    out->mean[o] = state.y_mean;
    out->std[o] = state.y_std;
    st->fit_ms += bst.fit_ms;
    st->n_models++;
    if (o == 0)
        st->n_observed = bst.n_observed;
    return HONE_OK;
}

/* Adds the bound Σ_i weights[i]·metric_i op bound, in the outputs' units: with metric_i
 * = sign·(mean + std·y_o), a "<=" row is W_o = w·sign·std and B = bound − Σ w·sign·mean,
 * a ">=" row the negation. */
static void s_add_bound(s_outputs_t *out, const double *weights, size_t n_metrics, hone_goals_op_t op,
                        double bound)
{
    double *row = &out->w[out->n_con * out->n_out];
    memset(row, 0, out->n_out * sizeof(double));
    double b = bound;
    for (size_t i = 0; i < n_metrics; i++) {
        if (weights[i] == 0.0)
            continue;
        int o = out->out_of_metric[i];
        HONE_ASSERT(o >= 0);
        row[o] += weights[i] * out->sign[o] * out->std[o];
        b -= weights[i] * out->sign[o] * out->mean[o];
    }
    if (op == HONE_GOALS_GEQ) {
        for (size_t o = 0; o < out->n_out; o++)
            row[o] = -row[o];
        b = -b;
    }
    out->b[out->n_con++] = b;
}

/* Whether trial t's latest readings satisfy bound (a missing reading does not). */
static bool s_satisfies(const hone_trial_t *t, const double *weights, size_t n_metrics, hone_goals_op_t op,
                        double bound)
{
    double v = 0.0;
    for (size_t i = 0; i < n_metrics; i++) {
        double m, sem;
        if (weights[i] == 0.0)
            continue;
        if (!hone_trial_latest(t, (uint32_t) i, &m, &sem))
            return false;
        v += weights[i] * m;
    }
    return op == HONE_GOALS_LEQ ? v <= bound : v >= bound;
}

static bool s_observed(const hone_trial_t *t)
{
    return t->status == HONE_TRIAL_COMPLETED || t->status == HONE_TRIAL_EARLY_STOPPED;
}

/* The threshold of objective k as a bound: metric <= t when minimized, >= t otherwise.
 * Thresholds bound single-metric objectives (goals.h), whose weight is ±1: the bound
 * reads the metric itself. */
static hone_goals_op_t s_threshold_op(const hone_goals_objective_t *o)
{
    return o->minimize ? HONE_GOALS_LEQ : HONE_GOALS_GEQ;
}

static const double *s_unit(const hone_bo_goals_t *self, int metric)
{
    HONE_ASSERT(metric >= 0 && (size_t) metric < self->n_metrics);
    memset(self->unit, 0, self->n_metrics * sizeof(double));
    self->unit[metric] = 1.0;
    return self->unit;
}

/* Whether an observed trial satisfies every outcome constraint and, when with_thresholds,
 * beats every given threshold: Ax's test for leaving qLogPF. */
static bool s_feasible(const hone_bo_goals_t *self, const hone_bo_goals_input_t *in, const hone_trial_t *t,
                       bool with_thresholds)
{
    const hone_goals_t *g = self->goals;
    for (size_t i = 0; i < hone_goals_n_constraints(g); i++) {
        const hone_goals_bound_t *c = hone_goals_constraint(g, i);
        if (!s_satisfies(t, c->weights, self->n_metrics, c->op, in->constraint_bounds[i]))
            return false;
    }
    for (size_t k = 0; with_thresholds && k < hone_goals_n_objectives(g); k++) {
        const hone_goals_objective_t *o = hone_goals_objective(g, k);
        if (!isnan(in->threshold_bounds[k])
            && !s_satisfies(t, s_unit(self, o->metric), self->n_metrics, s_threshold_op(o),
                            in->threshold_bounds[k]))
            return false;
    }
    return true;
}

/* The reference point in the objectives' model units: the given thresholds, the others
 * inferred (hone_pareto_infer_ref) from the posterior means at the observed points that
 * satisfy the outcome constraints. */
static int s_reference(hone_bo_goals_t *self, const hone_bo_goals_input_t *in, const s_outputs_t *out,
                       double *ref, hone_error_t *err)
{
    size_t m = out->m, d = self->dim;
    double given[HONE_ACQF_MO_MAX_OBJECTIVES];
    for (size_t k = 0; k < m; k++) {
        double t = in->threshold_bounds[k];
        given[k] = isnan(t) ? NAN : (out->sign[k] * t - out->mean[k]) / out->std[k];
    }
    double *x = hone_alloc_array((in->n_trials + 1) * d, sizeof(double));
    size_t n = 0;
    for (size_t i = 0; i < in->n_trials; i++) {
        const hone_trial_t *t = &in->trials[i];
        if (s_observed(t) && s_feasible(self, in, t, false))
            hone_encoding_encode(self->enc, t->params, &x[n++ * d]);
    }
    double *y = hone_alloc_array(n * m + 1, sizeof(double));
    double *mu = hone_alloc_array(n + 1, sizeof(double)), *var = hone_alloc_array(n + 1, sizeof(double));
    int rc = HONE_OK;
    for (size_t k = 0; rc == HONE_OK && k < m && n > 0; k++) {
        hone_gp_work_t *work = hone_gp_work_new(out->gp[k], n);
        rc = hone_gp_predict(out->gp[k], n, x, mu, var, work);
        hone_gp_work_destroy(&work);
        for (size_t j = 0; j < n; j++)
            y[j * m + k] = mu[j];
    }
    if (rc == HONE_OK)
        rc = hone_pareto_infer_ref(y, n, m, given, ref, err);
    else
        rc = hone_error_set(err, HONE_ENUMERIC, "the reference point could not be inferred (%s)",
                            hone_strerror(rc));
    hone_free(x);
    hone_free(y);
    hone_free(mu);
    hone_free(var);
    return rc;
}

/* Fits every model the goals read and fills out (bounds excluded). */
static int s_fit_all(hone_bo_goals_t *self, const hone_bo_goals_input_t *in, s_outputs_t *out,
                     hone_bo_goals_stats_t *st, hone_error_t *err)
{
    const hone_goals_t *g = self->goals;
    size_t m = hone_goals_n_objectives(g);
    out->m = m;
    out->n_out = m;
    for (size_t i = 0; i < self->n_metrics; i++)
        out->out_of_metric[i] = -1;
    for (size_t k = 0; k < m; k++) {
        const hone_goals_objective_t *o = hone_goals_objective(g, k);
        hone_bo_input_t bin = { .trials = in->trials, .n_trials = in->n_trials, .seed = in->seed ^ (k * 0x9e37u) };
        hone_bo_t *bo;
        if (o->metric >= 0) {
            bin.metric = (uint32_t) o->metric;
            bin.minimize = o->minimize;
            bo = s_model(self, &self->metric_bo[o->metric]);
            out->out_of_metric[o->metric] = (int) k;
        } else {
            bin.weights = o->weights;   /* maximized: the signs are in the weights */
            bin.n_weights = self->n_metrics;
            bo = s_model(self, &self->scalar_bo[k]);
        }
        const char *name = o->metric >= 0 ? hone_goals_metric(g, (size_t) o->metric) : "the scalarized objective";
        int rc = s_fit_output(bo, &bin, name, out, k, st, err);
        if (rc != HONE_OK)
            return rc;
    }
    /* the metrics only constraints read */
    for (size_t c = 0; c < hone_goals_n_constraints(g); c++) {
        const hone_goals_bound_t *b = hone_goals_constraint(g, c);
        for (size_t i = 0; i < self->n_metrics; i++) {
            if (b->weights[i] == 0.0 || out->out_of_metric[i] >= 0)
                continue;
            if (out->n_out == HONE_ACQF_MO_MAX_OUTPUTS)
                return hone_error_set(err, HONE_ENUMERIC, "more than %d metrics to model",
                                      HONE_ACQF_MO_MAX_OUTPUTS);
            hone_bo_input_t bin = { .trials = in->trials, .n_trials = in->n_trials, .metric = (uint32_t) i,
                                    .minimize = self->minimize[i], .seed = in->seed ^ (i * 0x51edu + 7) };
            size_t o = out->n_out++;
            out->out_of_metric[i] = (int) o;
            int rc = s_fit_output(s_model(self, &self->metric_bo[i]), &bin, hone_goals_metric(g, i), out, o, st,
                                  err);
            if (rc != HONE_OK)
                return rc;
        }
    }
    return HONE_OK;
}

/* Encodes the pending trials and every arm in use; their counts to *n_pend, *n_excl. */
static void s_encode_arms(hone_bo_goals_t *self, const hone_bo_goals_input_t *in, size_t *n_pend, size_t *n_excl)
{
    size_t d = self->dim ? self->dim : 1;
    if (in->n_trials + 1 > self->cap) {
        self->cap = in->n_trials + 64;
        self->excluded = hone_realloc_array(self->excluded, self->cap * d, sizeof(double));
        self->pending = hone_realloc_array(self->pending, self->cap * d, sizeof(double));
    }
    *n_pend = *n_excl = 0;
    for (size_t i = 0; i < in->n_trials; i++) {
        const hone_trial_t *t = &in->trials[i];
        if (t->status == HONE_TRIAL_FAILED)
            continue;
        hone_encoding_encode(self->enc, t->params, &self->excluded[(*n_excl)++ * self->dim]);
        if (hone_trial_status_is_pending(t->status))
            hone_encoding_encode(self->enc, t->params, &self->pending[(*n_pend)++ * self->dim]);
    }
}

int hone_bo_goals_suggest(hone_bo_goals_t *self, const hone_bo_goals_input_t *in, hone_value_t *out_params,
                          hone_bo_goals_stats_t *stats, hone_error_t *err)
{
    HONE_ASSERT(self && in && out_params);
    hone_bo_goals_stats_t st = { 0 };
    if (self->dim == 0)
        return hone_error_set(err, HONE_EEXHAUSTED, "every parameter is fixed: there is nothing to optimize");
    const hone_goals_t *g = self->goals;
    size_t m = hone_goals_n_objectives(g), n_goal_con = hone_goals_n_constraints(g);
    s_outputs_t out;
    memset(&out, 0, sizeof out);
    out.w = hone_alloc_array((n_goal_con + m + 1) * HONE_ACQF_MO_MAX_OUTPUTS, sizeof(double));
    out.b = hone_alloc_array(n_goal_con + m + 1, sizeof(double));
    double *candidate = hone_alloc_array(self->dim, sizeof(double));
    hone_acqf_t *acqf = NULL;
    int rc = s_fit_all(self, in, &out, &st, err);
    if (rc != HONE_OK)
        goto done;
    for (size_t c = 0; c < n_goal_con; c++) {
        const hone_goals_bound_t *b = hone_goals_constraint(g, c);
        s_add_bound(&out, b->weights, self->n_metrics, b->op, in->constraint_bounds[c]);
    }
    /* Ax's rule for qLogPF: no observed point is feasible (and beats the thresholds). */
    bool any_feasible = false;
    for (size_t i = 0; i < in->n_trials && !any_feasible; i++)
        any_feasible = s_observed(&in->trials[i]) && s_feasible(self, in, &in->trials[i], m > 1);
    size_t n_pend, n_excl;
    s_encode_arms(self, in, &n_pend, &n_excl);
    st.n_pending = n_pend;
    double ref[HONE_ACQF_MO_MAX_OBJECTIVES] = { 0 };
    const hone_acqf_mo_type_t *type;
    if (!any_feasible) {
        for (size_t k = 0; m > 1 && k < m; k++) {
            const hone_goals_objective_t *o = hone_goals_objective(g, k);
            if (!isnan(in->threshold_bounds[k]))
                s_add_bound(&out, s_unit(self, o->metric), self->n_metrics, s_threshold_op(o),
                            in->threshold_bounds[k]);
        }
        type = &hone_acqf_mo_qlogpf;
        st.acqf = HONE_BO_GOALS_QLOGPF;
    } else if (m == 1) {
        type = &hone_acqf_mo_qlognei;
        st.acqf = HONE_BO_GOALS_QLOGNEI;
    } else if (m <= HONE_ACQF_MO_MAX_OBJECTIVES) {
        type = &hone_acqf_mo_qlognehvi;
        st.acqf = HONE_BO_GOALS_QLOGNEHVI;
        rc = s_reference(self, in, &out, ref, err);
        if (rc != HONE_OK)
            goto done;
    } else {
        type = &hone_acqf_mo_qlognparego;
        st.acqf = HONE_BO_GOALS_QLOGNPAREGO;
    }
    int64_t t1 = hone_clock_mono_us();
    uint64_t seed = hone_rng_derive(in->seed ^ (uint64_t) in->n_trials, HONE_RNG_ACQF);
    hone_acqf_mo_context_t ctx = {
        .m = m,
        .models = out.gp,
        .ref = ref,
        .n_pending = n_pend,
        .pending = self->pending,
        .seed = seed,
        .n_con_models = out.n_out - m,
        .con_models = out.gp + m,
        .n_con = out.n_con,
        .con_weights = out.w,
        .con_bounds = out.b,
    };
    /* rows of s_add_bound are n_out wide, as the context wants (m + n_con_models) */
    acqf = hone_acqf_mo_new(type, &ctx);
    if (!acqf) {
        rc = hone_error_set(err, HONE_ENUMERIC, "the acquisition function (%s) could not be prepared",
                            hone_bo_goals_acqf_name(st.acqf));
        goto done;
    }
    hone_acqf_opt_options_t opt;
    hone_acqf_opt_options_init(&opt);
    opt.seed = seed;
    rc = hone_acqf_optimize(acqf, hone_encoding_acqf_space(self->enc), self->excluded, n_excl, &opt, candidate,
                            &st.value, err);
    st.acq_ms = (double) (hone_clock_mono_us() - t1) / 1000.0;
    if (rc != HONE_OK && rc != HONE_EEXHAUSTED) {
        char why[HONE_ERROR_MESSAGE_MAX];
        snprintf(why, sizeof why, "%s", err && err->message[0] ? err->message : hone_strerror(rc));
        rc = hone_error_set(err, HONE_ENUMERIC, "the acquisition could not be optimized: %.400s", why);
        goto done;
    }
    if (rc == HONE_OK) {
        hone_encoding_decode(self->enc, candidate, out_params);
        if (self->constraints && !hone_constraint_set_tighten(self->constraints, self->space, out_params)
            && !hone_constraint_set_feasible(self->constraints, out_params))
            rc = hone_error_set(err, HONE_ENUMERIC, "the model's candidate violates a parameter constraint");
    }
done:
    if (acqf)
        hone_acqf_destroy(&acqf);
    if (stats)
        *stats = st;
    hone_free(candidate);
    hone_free(out.w);
    hone_free(out.b);
    return rc;
}
