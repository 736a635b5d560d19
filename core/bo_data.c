/* bo_data.c: the observations of a BO step and how they reach the GP (see bo.h and
 * bo_internal.h): encoding, Ax's output transforms (winsorization, standardization,
 * output warping) and the refit schedule with its append and refresh paths.
 *
 * Per-step cost (reference/bo-numerics.md §1.5). Each BO step encodes the trials, then
 * takes one of three paths to the model of the observations (hone_bo_stats_t.path):
 *
 * - refit: the hyperparameters are fitted (MAP, warm-started), after a full encoding in
 *   trial order with fresh transform constants (output warp, winsorization cut-off,
 *   standardization). At every step while n < 300 observations, then once n has grown
 *   by 10% since the last fit (also on the first step, and when n shrank).
 *   hone_bo_fit_model always takes this path.
 * - append: between refits, when the observations are exactly those the GP holds plus
 *   new ones (matched by trial index, since trials complete out of order), with the same
 *   values, SEMs, features, noise mode, metric, direction and warping. A RUNNING trial
 *   marked EARLY_STOPPED is a new observation just like one marked COMPLETED (and leaves
 *   the pending points, which every step recomputes from the statuses). The
 *   hyperparameters and the transform constants of the last full encoding stay frozen,
 *   so the factor L stays valid: the new observations are transformed with the frozen
 *   constants (s_transform) and added by rank-1 Cholesky appends, O(n²) each. They go
 *   after the held ones, so the GP's order, which self->x, y, yvar, obs_raw, obs_sem and
 *   obs_trial always follow, is no longer trial order.
 * - refresh: between refits when the data cannot be appended (a value changed, an
 *   observation disappeared or its trial failed, the noise mode changed, ...): a full
 *   encoding in trial order with fresh constants, and one refactorization with the
 *   hyperparameters kept, O(n³/3). A failed refresh or append becomes a refit.
 *
 * The kriging-believer fantasies of the LogEI path (s_believe_pending in bo.c) follow the
 * n_obs observations in the GP; the next step drops them before it appends
 * (hone_gp_truncate keeps the factor), or replaces all data on the other paths. */
#include "bo_internal.h"

#include "alloc.h"
#include "clock.h"
#include "gp_internal.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Refit schedule: always below this many observations, then after this much growth. */
#define S_REFIT_ALWAYS_BELOW 300
#define S_REFIT_GROWTH 0.10
#define S_NONE UINT32_MAX

static void s_reserve(hone_bo_t *self, size_t n)
{
    if (n <= self->cap)
        return;
    size_t cap = self->cap ? self->cap : 64;
    while (cap < n)
        cap *= 2;
    size_t d = self->dim ? self->dim : 1;
    self->x = hone_realloc_array(self->x, cap * d, sizeof(double));
    self->y = hone_realloc_array(self->y, cap, sizeof(double));
    self->yvar = hone_realloc_array(self->yvar, cap, sizeof(double));
    self->mean = hone_realloc_array(self->mean, cap, sizeof(double));
    self->var = hone_realloc_array(self->var, cap, sizeof(double));
    self->excluded = hone_realloc_array(self->excluded, cap * d, sizeof(double));
    self->pending = hone_realloc_array(self->pending, cap * d, sizeof(double));
    self->obs_trial = hone_realloc_array(self->obs_trial, cap, sizeof(uint32_t));
    self->obs_raw = hone_realloc_array(self->obs_raw, cap, sizeof(double));
    self->obs_sem = hone_realloc_array(self->obs_sem, cap, sizeof(double));
    self->cur_trial = hone_realloc_array(self->cur_trial, cap, sizeof(uint32_t));
    self->cur_arm = hone_realloc_array(self->cur_arm, cap, sizeof(size_t));
    self->cur_new = hone_realloc_array(self->cur_new, cap, sizeof(size_t));
    self->cur_raw = hone_realloc_array(self->cur_raw, cap, sizeof(double));
    self->cur_sem = hone_realloc_array(self->cur_sem, cap, sizeof(double));
    self->pos = hone_realloc_array(self->pos, cap, sizeof(uint32_t));
    self->cap = cap;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* Ax's Winsorize transform for a maximized objective: clip below the Tukey fence
 * q1 − 1.5·(q3 − q1), with q1 and q3 from numpy's percentile methods "lower" and
 * "higher"; the good side is left alone. Returns the fence (−inf: no clipping). */
static double s_winsorize(double *y, size_t n, double *sorted)
{
    if (n < 4)
        return -INFINITY;
    for (size_t i = 0; i < n; i++)
        sorted[i] = y[i];
    qsort(sorted, n, sizeof *sorted, s_cmp_double);
    double q1 = sorted[(size_t) floor(0.25 * (double) (n - 1))];
    double q3 = sorted[(size_t) ceil(0.75 * (double) (n - 1))];
    double fence = q1 - 1.5 * (q3 - q1);
    for (size_t i = 0; i < n; i++)
        if (y[i] < fence)
            y[i] = fence;
    return fence;
}

/* Ax's StandardizeY: mean and std with ddof = 1 (1 for a single point or a std below
 * 1e-8); variances scale by 1/s². Writes the constants to *m_out and *s_out. */
static void s_standardize(double *y, double *yvar, bool fixed_noise, size_t n, double *m_out,
                          double *s_out)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m += y[i];
    m /= (double) n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (y[i] - m) * (y[i] - m);
    double s = n > 1 ? sqrt(ss / (double) (n - 1)) : 1.0;
    if (!(s >= 1e-8))
        s = 1.0;
    for (size_t i = 0; i < n; i++) {
        y[i] = (y[i] - m) / s;
        if (fixed_noise)
            yvar[i] /= s * s;
    }
    *m_out = m;
    *s_out = s;
}

/* Bitwise equality, so that a NAN SEM equals a NAN SEM. */
static bool s_same(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* An observation (sign·metric and SEM as read) through the frozen transforms of the last
 * full encoding (warp, winsorization, standardization): the same target and noise
 * variance, to the bit, that s_encode_all gives it with those constants. */
static void s_transform(const hone_bo_t *self, double raw, double sem, double *y, double *yvar)
{
    double v = isnan(sem) ? HONE_BO_NOISELESS_VAR : sem * sem;
    if (self->warped) {
        double dy;
        raw = hone_warp_apply(&self->warp, raw, &dy);
        v *= dy * dy;
    }
    *y = (fmax(raw, self->fence) - self->y_mean) / self->y_std;
    *yvar = v / (self->y_std * self->y_std);
}

/* Full encoding of this step's observations (cur_*, trial order) into x, y, yvar and the
 * observation arrays, with fresh transform constants: output warping (warp.h) when
 * `warp` (BO steps; predictions and the best point keep Ax's transforms, so that they
 * stay in the metric's own units), then Ax's winsorization and standardization. */
static void s_encode_all(hone_bo_t *self, size_t n_obs, bool fixed_noise, bool warp)
{
    size_t d = self->dim;
    for (size_t k = 0; k < n_obs; k++) {
        memcpy(&self->x[k * d], &self->excluded[self->cur_arm[k] * d], d * sizeof(double));
        self->obs_trial[k] = self->cur_trial[k];
        self->obs_raw[k] = self->y[k] = self->cur_raw[k];
        self->obs_sem[k] = self->cur_sem[k];
        self->yvar[k] = isnan(self->cur_sem[k]) ? HONE_BO_NOISELESS_VAR : self->cur_sem[k] * self->cur_sem[k];
    }
    self->warped = warp;
    self->warp = warp ? hone_warp_fit(self->y, n_obs) : hone_warp_identity();
    for (size_t i = 0; warp && i < n_obs; i++) {
        double dy;
        self->y[i] = hone_warp_apply(&self->warp, self->y[i], &dy);
        if (fixed_noise)
            self->yvar[i] *= dy * dy;
    }
    self->fence = s_winsorize(self->y, n_obs, self->mean);
    s_standardize(self->y, self->yvar, fixed_noise, n_obs, &self->y_mean, &self->y_std);
}

/* The reading trial t contributes to the model of metric, as Ax's training data
 * (reference/ax-client-behaviour.md §3.3 "Training data"): the latest reading
 * (hone_trial_latest: the one at the largest progression, "no progression" beating every
 * step) of a COMPLETED or EARLY_STOPPED trial. An early-stopped trial never reports a
 * final value: its latest reading is all the model will learn of that arm, and without
 * it the arm would be neither observed nor pending, leaving the hopeless region looking
 * unexplored. FAILED and ABANDONED trials contribute nothing, as in Ax.
 *
 * Ax also trains on RUNNING trials' partial data (its model has the progression as an
 * input, MapKeyToFloat); hone deliberately does not: a running trial is a pending point
 * of the acquisition (a fantasy, or qLogNEI's baseline), and hone's model has no
 * progression input, so its partial reading would be read as the arm's final value. */
bool hone_bo_observation(const hone_trial_t *t, const hone_bo_input_t *in, double *mean, double *sem)
{
    if (t->status != HONE_TRIAL_COMPLETED && t->status != HONE_TRIAL_EARLY_STOPPED)
        return false;
    if (!in->weights)
        return hone_trial_latest(t, in->metric, mean, sem);
    /* a scalarized objective: Σ w·y over its metrics, each of them observed */
    double sum = 0.0, var = 0.0;
    for (size_t i = 0; i < in->n_weights; i++) {
        double m, e;
        if (in->weights[i] == 0.0)
            continue;
        if (!hone_trial_latest(t, (uint32_t) i, &m, &e))
            return false;
        sum += in->weights[i] * m;
        var += in->weights[i] * in->weights[i] * e * e;   /* NAN (unknown) stays NAN */
    }
    if (mean)
        *mean = sum;
    if (sem)
        *sem = sqrt(var);
    return true;
}

/* Whether in reads the same objective as the last encoding (metric or weights). */
static bool s_same_objective(const hone_bo_t *self, const hone_bo_input_t *in)
{
    if (!in->weights)
        return self->n_weights == 0 && in->metric == self->metric;
    return in->n_weights == self->n_weights && memcmp(in->weights, self->weights, in->n_weights * sizeof(double)) == 0;
}

/* Remembers what in reads (s_same_objective). */
static void s_keep_objective(hone_bo_t *self, const hone_bo_input_t *in)
{
    self->metric = in->metric;
    self->n_weights = in->weights ? in->n_weights : 0;
    if (self->n_weights > 0) {
        self->weights = hone_realloc_array(self->weights, self->n_weights, sizeof(double));
        memcpy(self->weights, in->weights, self->n_weights * sizeof(double));
    }
}

/* Whether this step's observations are those the GP holds (same trials, values, SEMs and
 * features) plus new ones; if so, writes the new ones' indices in cur_* to new_idx
 * (trial order) and their count to *n_new. */
static bool s_can_append(hone_bo_t *self, const hone_bo_input_t *in, size_t n_obs, bool fixed_noise,
                         size_t *new_idx, size_t *n_new)
{
    size_t d = self->dim, n_held = self->n_obs;
    if (!self->held || !self->gp || n_obs < n_held || fixed_noise != self->fixed_noise
        || self->warping != self->warped || !s_same_objective(self, in)
        || (in->minimize ? -1.0 : 1.0) != self->sign || hone_gp_size(self->gp) < n_held)
        return false;
    for (size_t t = 0; t < in->n_trials; t++)
        self->pos[t] = S_NONE;
    for (size_t i = 0; i < n_held; i++) {
        if (self->obs_trial[i] >= in->n_trials)
            return false;
        self->pos[self->obs_trial[i]] = (uint32_t) i;
    }
    size_t matched = 0;
    *n_new = 0;
    for (size_t k = 0; k < n_obs; k++) {
        uint32_t p = self->pos[self->cur_trial[k]];
        if (p == S_NONE) {
            new_idx[(*n_new)++] = k;
            continue;
        }
        if (!s_same(self->obs_raw[p], self->cur_raw[k]) || !s_same(self->obs_sem[p], self->cur_sem[k])
            || memcmp(&self->x[p * d], &self->excluded[self->cur_arm[k] * d], d * sizeof(double)) != 0)
            return false;
        matched++;
    }
    return matched == n_held;
}

/* The append path: drops the previous step's fantasies, then appends the new
 * observations, transformed with the frozen constants. */
static int s_append(hone_bo_t *self, const size_t *new_idx, size_t n_new)
{
    size_t d = self->dim, n = self->n_obs;
    int rc = hone_gp_truncate(self->gp, n);
    if (rc != HONE_OK || !hone_gp_factorized(self->gp))
        return HONE_ENUMERIC;
    for (size_t j = 0; j < n_new; j++, n++) {
        size_t k = new_idx[j];
        double *x = &self->x[n * d];
        memcpy(x, &self->excluded[self->cur_arm[k] * d], d * sizeof(double));
        self->obs_trial[n] = self->cur_trial[k];
        self->obs_raw[n] = self->cur_raw[k];
        self->obs_sem[n] = self->cur_sem[k];
        s_transform(self, self->cur_raw[k], self->cur_sem[k], &self->y[n], &self->yvar[n]);
        self->n_obs = n + 1;   /* x, y, yvar stay the GP's leading points as it grows */
        rc = hone_gp_append(self->gp, x, self->y[n], self->fixed_noise ? self->yvar[n] : -1.0);
        if (rc != HONE_OK || !hone_gp_factorized(self->gp))
            return HONE_ENUMERIC;
    }
    return HONE_OK;
}

/* The shared part of a BO step and of the model for predictions: encodes the observed
 * trials (and the pending ones and every arm to exclude), winsorizes and standardizes
 * the objective (maximized internally: a minimized metric is negated), then brings the
 * GP to the model of the observations. With `schedule`, the refit schedule of the header
 * comment applies (refit, append or refresh) and the hyperparameters warm-start from the
 * previous fit; without, they are always fitted on a full encoding. Sets self->n_obs,
 * the trials observed, and the transform constants. Counts go to *n_pend_out,
 * *n_excl_out. */
int hone_bo_encode_fit(hone_bo_t *self, const hone_bo_input_t *in, bool schedule,
                       size_t *n_pend_out, size_t *n_excl_out, hone_bo_stats_t *st,
                       hone_error_t *err)
{
    size_t d = self->dim;
    self->model_ready = false;
    s_reserve(self, in->n_trials + 1);

    /* Observations (in cur_*, trial order), pending points and the arms to exclude. */
    size_t n_obs = 0, n_pend = 0, n_excl = 0, n_sem = 0;
    for (size_t i = 0; i < in->n_trials; i++) {
        const hone_trial_t *t = &in->trials[i];
        if (t->status == HONE_TRIAL_FAILED)
            continue;
        hone_encoding_encode(self->enc, t->params, &self->excluded[n_excl * d]);
        double mean, sem;
        if (hone_bo_observation(t, in, &mean, &sem)) {
            self->cur_trial[n_obs] = (uint32_t) i;
            self->cur_arm[n_obs] = n_excl;
            self->cur_raw[n_obs] = in->minimize ? -mean : mean;
            self->cur_sem[n_obs] = isnan(sem) ? NAN : sem;
            n_sem += !isnan(sem);
            n_obs++;
        } else if (hone_trial_status_is_pending(t->status)) {   /* re-queued STALE trials too */
            hone_encoding_encode(self->enc, t->params, &self->pending[n_pend++ * d]);
        }
        n_excl++;
    }
    *n_pend_out = n_pend;
    *n_excl_out = n_excl;
    st->n_observed = n_obs;
    st->n_pending = n_pend;
    if (n_obs == 0) {
        self->held = false;
        self->n_obs = 0;
        return hone_error_set(err, HONE_EDATA, "no completed or early-stopped trial has data for the objective yet");
    }
    /* Ax's rule: noise is inferred when every SEM is unknown, fixed otherwise. */
    bool fixed_noise = n_sem > 0;

    /* Refit schedule (bo-numerics §1.5): refit the hyperparameters at every step while
     * n < 300; beyond, only once the data has grown by 10% since the last fit. */
    bool refit = !schedule || !self->gp || self->fitted_n == 0 || n_obs < S_REFIT_ALWAYS_BELOW
                 || n_obs < self->fitted_n
                 || (double) n_obs >= (double) self->fitted_n * (1.0 + S_REFIT_GROWTH);
    int64_t t0 = hone_clock_mono_us();
    int rc = HONE_OK;
    hone_bo_path_t path = refit ? HONE_BO_PATH_REFIT : HONE_BO_PATH_REFRESH;
    size_t n_new = 0;
    /* Between refits: rank-1 appends when the data allows. */
    if (!refit && s_can_append(self, in, n_obs, fixed_noise, self->cur_new, &n_new)) {
        path = HONE_BO_PATH_APPEND;
        if (s_append(self, self->cur_new, n_new) != HONE_OK)
            path = HONE_BO_PATH_REFIT;   /* a failed append: start over with a fit */
    }
    self->held = false;
    self->fixed_noise = fixed_noise;
    self->sign = in->minimize ? -1.0 : 1.0;
    s_keep_objective(self, in);
    if (path != HONE_BO_PATH_APPEND) {
        self->n_obs = n_obs;
        s_encode_all(self, n_obs, fixed_noise, schedule && self->warping);
        if (!self->gp)
            self->gp = hone_gp_new(d, self->kernel);
        rc = hone_gp_set_data(self->gp, n_obs, self->x, self->y, fixed_noise ? self->yvar : NULL);
        if (rc == HONE_OK && path == HONE_BO_PATH_REFRESH && hone_gp_refresh(self->gp) != HONE_OK)
            path = HONE_BO_PATH_REFIT;
        if (rc == HONE_OK && path == HONE_BO_PATH_REFIT) {
            hone_rng_t rng;
            hone_rng_seed(&rng, hone_rng_derive(in->seed ^ (uint64_t) in->n_trials, HONE_RNG_GP_FIT));
            hone_gp_fit_options_t fit;
            hone_gp_fit_options_init(&fit);
            rc = hone_gp_fit(self->gp, &fit, &rng);
            if (rc == HONE_OK)
                self->fitted_n = n_obs;
        }
    }
    st->path = path;
    st->refit = path == HONE_BO_PATH_REFIT;
    st->appended = path == HONE_BO_PATH_APPEND ? n_new : 0;
    if (rc != HONE_OK)
        return hone_error_set(err, HONE_ENUMERIC, "the Gaussian process could not be fitted (%s)",
                              hone_strerror(rc));
    /* The fit's n×n workspace is not needed to predict: free it before the acquisition
     * allocates its own (8 MB at n = 1000). */
    hone_gp_release_workspace(self->gp);
    st->fit_ms = (double) (hone_clock_mono_us() - t0) / 1000.0;
    self->held = true;
    self->model_ready = true;
    return HONE_OK;
}
