/* acqf_feasible.c: outcome constraints on Monte-Carlo draws, and qLogPF (acqf_mo.h,
 * acqf_feasible.h; reference/bo-numerics.md §2.3).
 *
 * Constraints are BoTorch's callables in the linear form Ax builds (A·y − b per
 * constraint, y the model outputs): hard feasibility g_k <= 0 for the baseline's best
 * point and the pruning (compute_feasibility_indicator), and the smoothed indicator
 * Π_k fatmoid(−g_k/η), η = 1e-3, fat=True, for the candidate
 * (compute_smoothed_feasibility_indicator). With z_k = −g_k/η,
 *     ∂ log W/∂y_j = Σ_k (log fatmoid)′(z_k)·(−a_kj/η).
 *
 * qLogPF (BoTorch's qLogProbabilityOfFeasibility): logmeanexp over N = 512 fixed
 * scrambled-Sobol samples of log W at x (summed in linear space while it does not
 * underflow); with pending points, the per-sample q-reduction
 * fatmax(log W(x), log W(p_1), ...; τ = 1e-2) over the batch x ∪ pending, the pending
 * points' draws being joint with x's through a cached root that uses them as the
 * baseline (mc_joint.h), so their log W are fixed at create. fatmax is BoTorch's
 * (safe_math.py, alpha = 2): M + τ·log Σ_i p((M − a_i)/τ), p(z) = 2/(2 + 2z + z²),
 * M = max a_i; its derivative in a_x is [x is the max]·(1 + Σ_i p′(z_i)/S) − p′(z_x)/S,
 * S = Σ_i p(z_i), as autograd gives it.
 *
 * Memory: the qLogPF object allocates everything at create; eval never allocates. */
#include "acqf_feasible.h"
#include "acqf_impl.h"

#include <math.h>
#include <string.h>

#include "alloc.h"
#include "gp_internal.h"
#include "mc_joint.h"
#include "special.h"

#define S_SAMPLES 512        /* MC samples (BoTorch's single-objective default) */
#define S_TAU_MAX 1e-2       /* fatmax temperature over the q-batch (BoTorch TAU_MAX) */
#define S_BATCH 64           /* candidates per batch */

/* ---- context checks and constraints ------------------------------------------------ */

static bool s_finite(size_t n, const double *x)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return false;
    return true;
}

/* model usable (factorized, with data) and of dimension *d (set when *d is 0) */
static bool s_model_ok(const hone_gp_t *model, size_t *d)
{
    hone_gp_view_t view;
    if (!model || hone_gp_view(model, &view) != HONE_OK || view.n == 0)
        return false;
    if (*d == 0)
        *d = view.d;
    return view.d == *d;
}

bool hone_acqf_feasible_check_context(const hone_acqf_mo_context_t *ctx, size_t *d)
{
    HONE_ASSERT(d);
    *d = 0;
    if (!ctx || (ctx->m > 0 && !ctx->models))
        return false;
    for (size_t j = 0; j < ctx->m; j++)
        if (!s_model_ok(ctx->models[j], d))
            return false;
    if (ctx->n_con > 0) {
        if (ctx->m + ctx->n_con_models > HONE_ACQF_MO_MAX_OUTPUTS || !ctx->con_bounds ||
            !s_finite(ctx->n_con, ctx->con_bounds) || (ctx->n_con_models > 0 && !ctx->con_models))
            return false;
        if (ctx->con_weights ? !s_finite(ctx->n_con * (ctx->m + ctx->n_con_models),
                                         ctx->con_weights)
                             : ctx->n_con != ctx->n_con_models)
            return false;
        for (size_t i = 0; i < ctx->n_con_models; i++)
            if (!s_model_ok(ctx->con_models[i], d))
                return false;
    }
    if (*d == 0)
        return false;
    if ((ctx->n_pending > 0 && (!ctx->pending || !s_finite(ctx->n_pending * *d, ctx->pending))) ||
        (ctx->baseline && !s_finite(ctx->n_baseline * *d, ctx->baseline)))
        return false;
    return true;
}

void hone_acqf_feasible_init(hone_acqf_feasible_t *self, const hone_acqf_mo_context_t *ctx)
{
    HONE_ASSERT(self && ctx);
    memset(self, 0, sizeof *self);
    if (ctx->n_con == 0)
        return;
    size_t nc = ctx->n_con, no = ctx->m + ctx->n_con_models;
    self->n_con = nc;
    self->n_out = no;
    self->a = hone_alloc_array(nc * no, sizeof(double));
    self->b = hone_alloc_array(nc, sizeof(double));
    self->used = hone_alloc_array(no, sizeof(bool));
    for (size_t k = 0; k < nc; k++) {
        self->b[k] = ctx->con_bounds[k];
        for (size_t j = 0; j < no; j++) {
            double a = ctx->con_weights ? ctx->con_weights[k * no + j]
                                        : (j == ctx->m + k ? 1.0 : 0.0);
            self->a[k * no + j] = a;
            self->used[j] = self->used[j] || a != 0.0;
        }
    }
}

void hone_acqf_feasible_release(hone_acqf_feasible_t *self)
{
    if (!self)
        return;
    hone_free(self->a);
    hone_free(self->b);
    hone_free(self->used);
    memset(self, 0, sizeof *self);
}

void hone_acqf_feasible_outputs(const hone_acqf_feasible_t *self,
                                const hone_acqf_mo_context_t *ctx, bool objectives,
                                const hone_gp_t **out)
{
    HONE_ASSERT(self && ctx && out);
    for (size_t j = 0; j < ctx->m + ctx->n_con_models; j++) {
        bool used = self->n_con > 0 && self->used[j];
        if (j < ctx->m)
            out[j] = objectives || used ? ctx->models[j] : NULL;
        else
            out[j] = used ? ctx->con_models[j - ctx->m] : NULL;
    }
}

double *hone_acqf_feasible_baseline_points(const hone_acqf_mo_context_t *ctx,
                                           const hone_gp_t *model_for_inputs, size_t d,
                                           size_t *n_points, size_t *n_observed)
{
    HONE_ASSERT(ctx && n_points && n_observed);
    size_t n_obs = 0;
    hone_gp_view_t view = {0};
    if (ctx->baseline) {
        n_obs = ctx->n_baseline;
    }
    else if (model_for_inputs) {
        int rc = hone_gp_view(model_for_inputs, &view);
        HONE_ASSERT(rc == HONE_OK && view.d == d);   /* checked by the caller */
        n_obs = view.n;
    }
    size_t nc = n_obs + ctx->n_pending;
    double *x = hone_alloc_array((nc ? nc : 1) * d, sizeof(double));
    if (ctx->baseline)
        memcpy(x, ctx->baseline, n_obs * d * sizeof(double));
    else
        for (size_t i = 0; i < n_obs; i++)
            for (size_t a = 0; a < d; a++)
                x[i * d + a] = view.u[a + i * d] / view.inv_ls[a] + 0.5;
    if (ctx->n_pending > 0)
        memcpy(x + n_obs * d, ctx->pending, ctx->n_pending * d * sizeof(double));
    *n_points = nc;
    *n_observed = n_obs;
    return x;
}

int hone_acqf_feasible_predict(const hone_gp_t *model, size_t n, const double *x,
                               size_t stride, double *mu, double *sd)
{
    enum { CHUNK = 256 };
    size_t d = hone_gp_dim(model);
    hone_gp_work_t *work = hone_gp_work_new(model, CHUNK);
    double mean[CHUNK], var[CHUNK];
    int rc = HONE_OK;
    for (size_t start = 0; rc == HONE_OK && start < n; start += CHUNK) {
        size_t count = n - start < CHUNK ? n - start : CHUNK;
        rc = hone_gp_predict(model, count, x + start * d, mean, var, work);
        for (size_t i = 0; rc == HONE_OK && i < count; i++) {
            mu[(start + i) * stride] = mean[i];
            sd[(start + i) * stride] = sqrt(var[i]);
        }
    }
    hone_gp_work_destroy(&work);
    return rc;
}

int hone_acqf_feasible_predict_outputs(const hone_gp_t *const *outputs, size_t k, size_t n,
                                       const double *x, double *mu, double *sd)
{
    int rc = HONE_OK;
    for (size_t j = 0; rc == HONE_OK && j < k; j++)
        if (outputs[j])
            rc = hone_acqf_feasible_predict(outputs[j], n, x, k, mu + j, sd + j);
    return rc;
}

static inline double s_g(const hone_acqf_feasible_t *self, size_t k, const double *y,
                         size_t stride)
{
    const double *a = self->a + k * self->n_out;
    double g = -self->b[k];
    for (size_t j = 0; j < self->n_out; j++)
        if (a[j] != 0.0)
            g += a[j] * y[j * stride];
    return g;
}

bool hone_acqf_feasible_ok(const hone_acqf_feasible_t *self, const double *y, size_t stride)
{
    HONE_ASSERT(self);
    for (size_t k = 0; k < self->n_con; k++)
        if (!(s_g(self, k, y, stride) <= 0.0))
            return false;
    return true;
}

/* adds (log fatmoid)′(z_k)·(−a_kj/η) to dlog[j·dstride] */
static inline void s_chain(const hone_acqf_feasible_t *self, size_t k, double dz, double *dlog,
                           size_t dstride)
{
    const double *a = self->a + k * self->n_out;
    for (size_t j = 0; j < self->n_out; j++)
        dlog[j * dstride] -= dz * a[j] * (1.0 / HONE_ACQF_ETA);
}

double hone_acqf_feasible_weight(const hone_acqf_feasible_t *self, const double *y,
                                 size_t stride, double *dlog, size_t dstride)
{
    HONE_ASSERT(self);
    if (dlog)
        for (size_t j = 0; j < self->n_out; j++)
            dlog[j * dstride] = 0.0;
    double w = 1.0;
    for (size_t k = 0; k < self->n_con; k++) {
        double dz;
        w *= hone_acqf_feasible_fatmoid(-s_g(self, k, y, stride) * (1.0 / HONE_ACQF_ETA),
                                        dlog ? &dz : NULL);
        if (dlog)
            s_chain(self, k, dz, dlog, dstride);
    }
    return w;
}

double hone_acqf_feasible_log_weight(const hone_acqf_feasible_t *self, const double *y,
                                     size_t stride, double *dlog, size_t dstride)
{
    HONE_ASSERT(self);
    if (dlog)
        for (size_t j = 0; j < self->n_out; j++)
            dlog[j * dstride] = 0.0;
    double lw = 0.0;
    for (size_t k = 0; k < self->n_con; k++) {
        double dz;
        lw += hone_acqf_feasible_log_fatmoid(-s_g(self, k, y, stride) * (1.0 / HONE_ACQF_ETA),
                                             dlog ? &dz : NULL);
        if (dlog)
            s_chain(self, k, dz, dlog, dstride);
    }
    return lw;
}

bool hone_acqf_feasible_surely(const hone_acqf_feasible_t *self, const double *mu,
                               const double *sd, size_t stride, double z)
{
    HONE_ASSERT(self);
    for (size_t k = 0; k < self->n_con; k++) {
        const double *a = self->a + k * self->n_out;
        double mean = -self->b[k], var = 0.0;
        for (size_t j = 0; j < self->n_out; j++) {
            mean += a[j] * mu[j * stride];
            var += a[j] * a[j] * sd[j * stride] * sd[j * stride];
        }
        if (!(mean + z * sqrt(var) <= 0.0))
            return false;
    }
    return true;
}

/* ---- qLogPF ------------------------------------------------------------------------ */

typedef struct {
    hone_acqf_t base;             /* common head; must be first */
    size_t k;                     /* outputs (m + n_con_models; the unread ones not drawn) */
    size_t np;                    /* pending points: the q-batch's other members */
    hone_acqf_feasible_t feas;    /* the constraints */
    hone_mc_joint_set_t *set;     /* joint draws at the pending points and candidates */
    double *lwp;                  /* np×N: log W of the pending points, [p·N + s] */
    /* eval scratch (the draws y, k×N, are the set's) */
    double *a;                    /* N: per-sample W_s, or log values */
    double *dq;                   /* N: ∂value/∂log W_s(x) */
} s_qlogpf_t;

static void s_pf_destroy(hone_acqf_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_qlogpf_t *self = (s_qlogpf_t *) *self_p;
    hone_acqf_feasible_release(&self->feas);
    hone_mc_joint_set_destroy(&self->set);
    void *buffers[] = { self->lwp, self->a, self->dq };
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        hone_free(buffers[i]);
    hone_free(self);
    *self_p = NULL;
}

static hone_acqf_t *s_pf_create_mo(const hone_acqf_mo_context_t *ctx)
{
    size_t d;
    if (!hone_acqf_feasible_check_context(ctx, &d) || ctx->n_con == 0)
        return NULL;
    size_t k = ctx->m + ctx->n_con_models, np = ctx->n_pending, N = S_SAMPLES;
    s_qlogpf_t *self = hone_alloc(sizeof *self);
    self->base.type = &hone_acqf_qlogpf;
    self->base.d = d;
    self->k = k;
    self->np = np;
    hone_acqf_feasible_init(&self->feas, ctx);
    const hone_gp_t *outputs[HONE_ACQF_MO_MAX_OUTPUTS];
    hone_acqf_feasible_outputs(&self->feas, ctx, false, outputs);
    self->set = hone_mc_joint_set_new(k, outputs, np, ctx->pending, N, S_BATCH);
    if (!self->set ||
        hone_mc_joint_set_base_samples(self->set, k, hone_rng_derive(ctx->seed, HONE_RNG_MC_BASE))
            != HONE_OK) {
        hone_acqf_t *base = &self->base;
        s_pf_destroy(&base);
        return NULL;
    }
    /* the pending points' log W in every sample */
    self->lwp = hone_alloc_array((np ? np : 1) * N, sizeof(double));
    if (np > 0) {
        double *fb = hone_alloc_array(k * N * np, sizeof(double));   /* output j: N×np */
        for (size_t j = 0; j < k; j++)
            hone_mc_joint_set_sample_baseline(self->set, j, fb + j * N * np);
        for (size_t p = 0; p < np; p++)
            for (size_t s = 0; s < N; s++)
                self->lwp[p * N + s] = hone_acqf_feasible_log_weight(&self->feas,
                                                                     fb + p * N + s, N * np,
                                                                     NULL, 0);
        hone_free(fb);
    }
    self->a = hone_alloc_array(N, sizeof(double));
    self->dq = hone_alloc_array(N, sizeof(double));
    return &self->base;
}

/* The value at the draws y (hone_mc_joint_value_fn). Without pending points
 * log (1/N)·Σ_s W_s, summed in linear space (divisions, no logarithm per sample), with
 * the log-space sum as the fallback when it underflows; with pending points logmeanexp
 * of the per-sample fatmax. With ybar, ∂value/∂y = ∂value/∂log W_s(x)·∂log W_s(x)/∂y. */
static double s_pf_value(void *arg, const double *y, double *ybar)
{
    s_qlogpf_t *self = arg;
    size_t N = S_SAMPLES, np = self->np;
    double *dlog = ybar, value = NAN;
    bool done = false;
    if (np == 0) {
        double sum = 0.0;
        for (size_t s = 0; s < N; s++)
            sum += self->a[s] = hone_acqf_feasible_weight(&self->feas, y + s, N,
                                                          dlog ? dlog + s : NULL, N);
        if (sum > 0.0 && isfinite(sum)) {
            if (dlog)
                for (size_t s = 0; s < N; s++)
                    self->dq[s] = self->a[s] / sum;
            value = log(sum / (double) N);
            done = true;
        }
    }
    if (!done) {
        for (size_t s = 0; s < N; s++) {
            double lw = hone_acqf_feasible_log_weight(&self->feas, y + s, N,
                                                      dlog ? dlog + s : NULL, N);
            if (np == 0) {
                self->a[s] = lw;
                self->dq[s] = 1.0;
                continue;
            }
            /* fatmax over {x, pending} (see the header comment) */
            double top = lw;
            for (size_t p = 0; p < np; p++)
                top = fmax(top, self->lwp[p * N + s]);
            double z = (top - lw) / S_TAU_MAX, sum = 2.0 / (2.0 + z * (2.0 + z));
            double dx = -(2.0 + 2.0 * z) * sum * sum / 2.0;   /* p′(z_x) */
            double dsum = dx;
            for (size_t p = 0; p < np; p++) {
                double zp = (top - self->lwp[p * N + s]) / S_TAU_MAX;
                double pp = 2.0 / (2.0 + zp * (2.0 + zp));
                sum += pp;
                dsum -= (2.0 + 2.0 * zp) * pp * pp / 2.0;
            }
            self->a[s] = top + S_TAU_MAX * log(sum);
            self->dq[s] = (lw >= top ? 1.0 + dsum / sum : 0.0) - dx / sum;
        }
        double lse = hone_special_logsumexp(N, self->a);
        if (dlog)   /* softmax weights times ∂a_s/∂log W_s(x) */
            for (size_t s = 0; s < N; s++)
                self->dq[s] *= exp(self->a[s] - lse);
        value = lse - log((double) N);
    }
    if (dlog)
        for (size_t s = 0; s < N; s++)
            for (size_t j = 0; j < self->k; j++)
                dlog[j * N + s] *= self->dq[s];
    return value;
}

static int s_pf_eval(hone_acqf_t *base, size_t n, const double *x, double *value)
{
    s_qlogpf_t *self = (s_qlogpf_t *) base;
    HONE_ASSERT(self && (n == 0 || (x && value)));
    return hone_mc_joint_set_values(self->set, n, x, s_pf_value, self, value);
}

static int s_pf_eval_grad(hone_acqf_t *base, const double *x, double *value, double *grad)
{
    s_qlogpf_t *self = (s_qlogpf_t *) base;
    HONE_ASSERT(self && x && value && grad);
    return hone_mc_joint_set_value_grad(self->set, x, s_pf_value, self, value, grad);
}

/* A single-model context has no constraints: see hone_acqf_mo_new. */
static hone_acqf_t *s_pf_create(const hone_acqf_context_t *ctx)
{
    (void) ctx;
    return NULL;
}

const hone_acqf_type_t hone_acqf_qlogpf = {
    .name = "qlogpf",
    .create = s_pf_create,
    .destroy = s_pf_destroy,
    .eval = s_pf_eval,
    .eval_grad = s_pf_eval_grad,
};

const hone_acqf_mo_type_t hone_acqf_mo_qlogpf = {
    .name = "qlogpf",
    .type = &hone_acqf_qlogpf,
    .create = s_pf_create_mo,
};
