/* bo.c: one Bayesian-optimization step (see bo.h).
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
 * The kriging-believer fantasies of the LogEI path (s_believe_pending) follow the n_obs
 * observations in the GP; the next step drops them before it appends (hone_gp_truncate
 * keeps the factor), or replaces all data on the other paths. */
#include "bo.h"

#include "acqf.h"
#include "alloc.h"
#include "clock.h"
#include "encode.h"
#include "gp.h"
#include "gp_internal.h"
#include "rng.h"
#include "warp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Refit schedule: always below this many observations, then after this much growth. */
#define S_REFIT_ALWAYS_BELOW 300
#define S_REFIT_GROWTH 0.10
/* Fixed noise stands for "noiseless" where a SEM is missing among known SEMs. */
#define S_NOISELESS_VAR 1e-6
#define S_NONE UINT32_MAX

struct _hone_bo_t {
    const hone_space_t *space;  /* borrowed */
    const hone_constraint_set_t *constraints; /* borrowed parameter constraints, or NULL */
    hone_encoding_t *enc;       /* parameters ↔ features (and the constraints in features) */
    size_t dim;                 /* features */
    hone_kernel_kind_t kernel;  /* of the GP */
    hone_bo_acquisition_t acquisition;
    bool warping;               /* output warping in BO steps (warp.h) */
    hone_gp_t *gp;              /* kept between steps: its hyperparameters warm-start the next fit */
    size_t fitted_n;            /* observations at the last hyperparameter fit (0: none yet) */
    double *x;                  /* observed features, n × dim, in the GP's order */
    double *y;                  /* observed standardized targets, in the GP's order */
    double *yvar;               /* observed standardized noise variances, or unused */
    double *obs_raw;            /* sign·metric of each observation as read (before winsorizing) */
    double *obs_sem;            /* SEM of each observation as read (NAN: unknown) */
    uint32_t *obs_trial;        /* trial index of each observation, in the GP's order */
    double *mean;               /* scratch: posterior means at observed points */
    double *var;                /* scratch: posterior variances */
    double *excluded;           /* features of every existing arm, n × dim */
    double *pending;            /* features of running trials */
    uint32_t *cur_trial;        /* scratch: this step's observations, in trial order */
    size_t *cur_arm;            /* scratch: their rows in excluded */
    size_t *cur_new;            /* scratch: indices in cur_* of the observations to append */
    double *cur_raw, *cur_sem;  /* scratch: their sign·metric and SEM */
    uint32_t *pos;              /* scratch, by trial index: position in the GP, or S_NONE */
    size_t cap;                 /* capacity of the per-trial buffers, in trials */
    size_t n_obs;               /* observations of the last encoding (the GP's leading points) */
    bool fixed_noise;           /* of the last encoding */
    double sign;                /* +1 maximize, −1 minimize: internal y = sign·metric */
    uint32_t metric;            /* objective metric of the last encoding */
    double *weights;            /* or its scalarization's weights (n_weights, owned) */
    size_t n_weights;           /* 0: the single metric above */
    double y_mean, y_std;       /* standardization: y = sign·metric = y_mean + y_std·ỹ */
    bool warped;                /* the last encoding warped the objective (warp below) */
    hone_warp_t warp;           /* output warping of the last encoding, if warped */
    double fence;               /* winsorization cut-off of the warped sign·metric (−inf: none) */
    bool held;                  /* the GP's first n_obs points are x, y, yvar, factorized with
                                 * the constants above (appends may continue from it) */
    bool model_ready;           /* the GP is the model of the last hone_bo_fit_model data */
};

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
    double v = isnan(sem) ? S_NOISELESS_VAR : sem * sem;
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
        self->yvar[k] = isnan(self->cur_sem[k]) ? S_NOISELESS_VAR : self->cur_sem[k] * self->cur_sem[k];
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
static bool s_observation(const hone_trial_t *t, const hone_bo_input_t *in, double *mean, double *sem)
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
static int s_encode_fit(hone_bo_t *self, const hone_bo_input_t *in, bool schedule,
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
        if (s_observation(t, in, &mean, &sem)) {
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
            rc = hone_gp_append(self->gp, xp, mu, fixed_noise ? S_NOISELESS_VAR : -1.0);
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
    int rc = s_encode_fit(self, in, true, &n_pend, &n_excl, &st, err);
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
    int rc = s_encode_fit(self, in, true, &n_pend, &n_excl, &st, err);
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
        n_obs += s_observation(&in->trials[i], in, NULL, NULL);
    if (n_obs < 2)
        return hone_error_set(err, HONE_EDATA,
                              "the model needs at least 2 COMPLETED or EARLY_STOPPED trials with data for the "
                              "objective (%zu so far)", n_obs);
    hone_bo_stats_t st = { 0 };
    size_t n_pend = 0, n_excl = 0;
    return s_encode_fit(self, in, false, &n_pend, &n_excl, &st, err);
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
