/* bo.c: one Bayesian-optimization step (see bo.h): the generator object, the step
 * (hone_bo_suggest: the acquisition over the model, with the kriging-believer pending
 * points of the LogEI path; hone_bo_fit_step) and the model for predictions and LOO.
 * The observations, their transforms and the refit/append/refresh paths that bring them
 * to the GP are in bo_data.c; bo_internal.h is the seam between the two. */
#include "bo_internal.h"

#include "acqf.h"
#include "alloc.h"
#include "clock.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>

hone_bo_t *hone_bo_new(const hone_space_t *space, hone_kernel_kind_t kernel)
{
    HONE_ASSERT(space);
    hone_bo_t *self = hone_alloc(sizeof *self);
    self->space = space;
    self->kernel = kernel;
    self->enc = hone_encoding_new(space);
    self->dim = hone_encoding_dim(self->enc);
    self->warping = true;
    return self;
}

void hone_bo_destroy(hone_bo_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hone_bo_t *self = *self_p;
    hone_encoding_destroy(&self->enc);
    hone_gp_destroy(&self->gp);
    hone_free(self->x);
    hone_free(self->y);
    hone_free(self->yvar);
    hone_free(self->mean);
    hone_free(self->var);
    hone_free(self->excluded);
    hone_free(self->pending);
    hone_free(self->obs_trial);
    hone_free(self->obs_raw);
    hone_free(self->obs_sem);
    hone_free(self->cur_trial);
    hone_free(self->cur_arm);
    hone_free(self->cur_new);
    hone_free(self->cur_raw);
    hone_free(self->cur_sem);
    hone_free(self->pos);
    hone_free(self->weights);
    hone_free(self);
    *self_p = NULL;
}

void hone_bo_set_warping(hone_bo_t *self, bool warping)
{
    HONE_ASSERT(self);
    self->warping = warping;
}

void hone_bo_set_acquisition(hone_bo_t *self, hone_bo_acquisition_t acquisition)
{
    HONE_ASSERT(self);
    self->acquisition = acquisition;
}

void hone_bo_set_constraints(hone_bo_t *self, const hone_constraint_set_t *constraints)
{
    HONE_ASSERT(self);
    self->constraints = constraints;
    (void) hone_encoding_set_constraints(self->enc, constraints);
}

/* The model's noise variance on the standardized targets: the inferred one, or the mean
 * of the given ones (fixed noise). */
static double s_noise_level(const hone_bo_t *self)
{
    if (!self->fixed_noise) {
        double noise;
        hone_gp_get_params(self->gp, NULL, &noise, NULL);
        return noise;
    }
    double sum = 0.0;
    for (size_t i = 0; i < self->n_obs; i++)
        sum += self->yvar[i];
    return self->n_obs > 0 ? sum / (double) self->n_obs : 0.0;
}

/* The LogEI path's treatment of pending points (bo.h): the incumbent *best_f is the best
 * posterior mean at an observed point, then every pending point is appended to the model
 * as observed at its own posterior mean (kriging believer) and may become the incumbent.
 * The GP is then no longer the model of the data. */
static int s_believe_pending(hone_bo_t *self, size_t n_pend, double *best_f_out, hone_error_t *err)
{
    size_t d = self->dim, n_obs = self->n_obs;
    bool fixed_noise = self->fixed_noise;
    self->model_ready = false;
    hone_gp_work_t *work = hone_gp_work_new(self->gp, n_obs);
    int rc = hone_gp_predict(self->gp, n_obs, self->x, self->mean, self->var, work);
    double best_f = -INFINITY;
    for (size_t i = 0; rc == HONE_OK && i < n_obs; i++)
        if (self->mean[i] > best_f)
            best_f = self->mean[i];
    for (size_t p = 0; rc == HONE_OK && p < n_pend; p++) {
        const double *xp = &self->pending[p * d];
        double mu, var;
        rc = hone_gp_predict(self->gp, 1, xp, &mu, &var, work);
        if (rc == HONE_OK)
            rc = hone_gp_append(self->gp, xp, mu, fixed_noise ? HONE_BO_NOISELESS_VAR : -1.0);
        /* A believed observation is an observation: it can be the incumbent, which is what
         * keeps the acquisition from pointing at the pending point again. */
        if (mu > best_f)
            best_f = mu;
    }
    hone_gp_work_destroy(&work);
    if (rc != HONE_OK)
        return hone_error_set(err, HONE_ENUMERIC, "the Gaussian process could not take the pending points (%s)",
                              hone_strerror(rc));
    /* With points pending, LogEI also gets a local penalty around each of them (a hone
     * heuristic, acqf.h): the believed observation alone leaves the model's inferred
     * noise there, which can keep the acquisition's peak next to the pending point. */
    *best_f_out = best_f;
    return HONE_OK;
}

int hone_bo_suggest(hone_bo_t *self, const hone_bo_input_t *in, hone_value_t *out,
                    hone_bo_stats_t *stats, hone_error_t *err)
{
    HONE_ASSERT(self && in && out);
    hone_bo_stats_t st = { 0 };
    size_t d = self->dim;
    if (d == 0)
        return hone_error_set(err, HONE_EEXHAUSTED, "every parameter is fixed: there is nothing to optimize");
    size_t n_pend = 0, n_excl = 0;
    int rc = hone_bo_encode_fit(self, in, true, &n_pend, &n_excl, &st, err);
    if (rc != HONE_OK)
        return rc;
    int64_t t1 = hone_clock_mono_us();
    hone_acqf_context_t ctx = {
        .model = self->gp,
        .n_pending = n_pend,
        .pending = self->pending,
        .seed = hone_rng_derive(in->seed ^ (uint64_t) in->n_trials, HONE_RNG_ACQF),
    };
    const hone_acqf_type_t *type = &hone_acqf_qlognei;
    hone_bo_acquisition_t acquisition = self->acquisition;
    if (acquisition == HONE_BO_AUTO)
        acquisition = n_pend > 0 || s_noise_level(self) > HONE_BO_AUTO_NOISE ? HONE_BO_QLOGNEI
                                                                            : HONE_BO_LOGEI;
    st.acquisition = acquisition;
    if (acquisition == HONE_BO_LOGEI) {
        rc = s_believe_pending(self, n_pend, &ctx.best_f, err);
        if (rc != HONE_OK)
            return rc;
        type = n_pend > 0 ? &hone_acqf_logei_penalized : &hone_acqf_logei;
    }
    hone_acqf_t *acqf = type->create(&ctx);
    if (!acqf)
        return hone_error_set(err, HONE_ENUMERIC, "the acquisition function could not be prepared");
    hone_acqf_opt_options_t opt;
    hone_acqf_opt_options_init(&opt);
    opt.seed = ctx.seed;
    double *candidate = hone_alloc_array(d, sizeof(double));
    rc = hone_acqf_optimize(acqf, hone_encoding_acqf_space(self->enc), self->excluded, n_excl, &opt,
                            candidate, &st.log_ei, err);
    type->destroy(&acqf);
    if (rc == HONE_OK)
        hone_encoding_decode(self->enc, candidate, out);
    hone_free(candidate);
    st.acq_ms = (double) (hone_clock_mono_us() - t1) / 1000.0;
    if (stats)
        *stats = st;
    if (rc != HONE_OK && rc != HONE_EEXHAUSTED) {
        char why[HONE_ERROR_MESSAGE_MAX];
        snprintf(why, sizeof why, "%s", err && err->message[0] ? err->message : hone_strerror(rc));
        return hone_error_set(err, HONE_ENUMERIC, "the acquisition could not be optimized: %.400s", why);
    }
    /* The optimizer keeps the affine constraints up to 1e-8 in the features, which is the
     * same slack in the parameters (tightened here to exact feasibility where a float can
     * absorb it); the others (unevenly spaced choices) are only checked here. */
    if (rc == HONE_OK && self->constraints && !hone_constraint_set_tighten(self->constraints, self->space, out)
        && !hone_constraint_set_feasible(self->constraints, out))
        return hone_error_set(err, HONE_ENUMERIC, "the model's candidate violates a parameter constraint");
    return rc;
}

int hone_bo_fit_step(hone_bo_t *self, const hone_bo_input_t *in, hone_bo_stats_t *stats, hone_error_t *err)
{
    HONE_ASSERT(self && in);
    if (self->dim == 0)
        return hone_error_set(err, HONE_EEXHAUSTED, "every parameter is fixed: there is nothing to optimize");
    hone_bo_stats_t st = { 0 };
    size_t n_pend = 0, n_excl = 0;
    int rc = hone_bo_encode_fit(self, in, true, &n_pend, &n_excl, &st, err);
    if (stats)
        *stats = st;
    return rc;
}

/* ---------------------------------------------------------------------------------
 * The model of all current data (predict, model-based best point). */

int hone_bo_fit_model(hone_bo_t *self, const hone_bo_input_t *in, hone_error_t *err)
{
    HONE_ASSERT(self && in);
    self->model_ready = false;
    if (self->dim == 0)
        return hone_error_set(err, HONE_ENUMERIC, "every parameter is fixed: there is no model to fit");
    size_t n_obs = 0;
    for (size_t i = 0; i < in->n_trials; i++)
        n_obs += hone_bo_observation(&in->trials[i], in, NULL, NULL);
    if (n_obs < 2)
        return hone_error_set(err, HONE_EDATA,
                              "the model needs at least 2 COMPLETED or EARLY_STOPPED trials with data for the "
                              "objective (%zu so far)", n_obs);
    hone_bo_stats_t st = { 0 };
    size_t n_pend = 0, n_excl = 0;
    return hone_bo_encode_fit(self, in, false, &n_pend, &n_excl, &st, err);
}

size_t hone_bo_model_size(const hone_bo_t *self, const uint32_t **trials)
{
    HONE_ASSERT(self);
    if (trials)
        *trials = self->model_ready ? self->obs_trial : NULL;
    return self->model_ready ? self->n_obs : 0;
}

int hone_bo_predict(const hone_bo_t *self, size_t m, const hone_value_t *const *params,
                    double *mean, double *sem)
{
    HONE_ASSERT(self && (m == 0 || (params && mean && sem)));
    if (!self->model_ready)
        return HONE_ESTATE;
    size_t d = self->dim;
    double *x = hone_alloc_array(d, sizeof(double));
    hone_gp_work_t *work = hone_gp_work_new(self->gp, 1);
    int rc = HONE_OK;
    for (size_t j = 0; rc == HONE_OK && j < m; j++) {
        hone_encoding_encode(self->enc, params[j], x);
        double mu, var;
        rc = hone_gp_predict(self->gp, 1, x, &mu, &var, work);
        if (rc == HONE_OK) {
            mean[j] = self->sign * (self->y_mean + self->y_std * mu);
            sem[j] = self->y_std * sqrt(var);
        }
    }
    hone_gp_work_destroy(&work);
    hone_free(x);
    return rc;
}

int hone_bo_loo(const hone_bo_t *self, double *loo_mean, double *loo_sd, double *target)
{
    HONE_ASSERT(self && loo_mean && loo_sd);
    if (!self->model_ready)
        return HONE_ESTATE;
    size_t n = self->n_obs;
    double *var = hone_alloc_array(n ? n : 1, sizeof(double));
    int rc = hone_gp_loo(self->gp, loo_mean, var);
    for (size_t i = 0; rc == HONE_OK && i < n; i++) {
        loo_mean[i] = self->sign * (self->y_mean + self->y_std * loo_mean[i]);
        loo_sd[i] = self->y_std * sqrt(var[i]);
        if (target)
            target[i] = self->sign * (self->y_mean + self->y_std * self->y[i]);
    }
    hone_free(var);
    return rc;
}

void hone_bo_state(const hone_bo_t *self, hone_bo_state_t *out)
{
    HONE_ASSERT(self && out);
    *out = (hone_bo_state_t) {
        .gp = self->gp,
        .n = self->held ? self->n_obs : 0,
        .x = self->x,
        .y = self->y,
        .yvar = self->fixed_noise ? self->yvar : NULL,
        .trials = self->obs_trial,
        .sign = self->sign,
        .y_mean = self->y_mean,
        .y_std = self->y_std,
        .warped = self->warped,
        .warp = self->warp,
        .fence = self->fence,
    };
}

void hone_bo_swap_state(hone_bo_t *a, hone_bo_t *b)
{
    HONE_ASSERT(a && b && a->dim == b->dim);
    hone_bo_t tmp = *a;
    *a = *b;
    *b = tmp;
    /* The bindings to the space stay with their owners: swap them back. */
    const hone_space_t *space = a->space;
    a->space = b->space;
    b->space = space;
    const hone_constraint_set_t *constraints = a->constraints;
    a->constraints = b->constraints;
    b->constraints = constraints;
    hone_encoding_t *enc = a->enc;
    a->enc = b->enc;
    b->enc = enc;
}
