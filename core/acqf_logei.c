/* acqf_logei.c: analytic LogEI (reference/bo-numerics.md §2.1):
 *     LogEI(x) = log h(z) + log σ,   z = (μ − f*)/σ,   h(z) = φ(z) + zΦ(z),
 * with μ, σ² the GP posterior at x and f* = best_f, for maximization.
 *
 * Pending points: hone_acqf_logei ignores them. Kriging-believer fantasies would need to
 * change the model, which the acquisition only borrows; MC qLogNEI will treat pending
 * points as BoTorch does (part of the baseline). Until then the caller either appends
 * fantasies to its model, or avoids re-proposing arms through hone_acqf_optimize's
 * exclusion list, or uses hone_acqf_logei_penalized (acqf_impl.h), which adds a soft
 * local penalty around each pending point.
 *
 * Memory: every buffer is allocated by create; eval works through batches of at most
 * S_BATCH points (fewer for large models, to bound the GP workspace), so evaluating
 * never allocates. */
#include "acqf_impl.h"

#include <math.h>

#include "alloc.h"
#include "special.h"

#define S_BATCH 1024                     /* points per hone_gp_predict call */
#define S_BATCH_CELLS (1024 * 4096)      /* cap on batch × n, the size of the GP's k block */
#define S_MIN_VAR 1e-10                  /* the GP's own clamp, repeated defensively */

typedef struct {
    hone_acqf_t base;          /* common head; must be first */
    const hone_gp_t *model;    /* borrowed; must outlive the acquisition */
    double best_f;             /* incumbent f* */
    hone_gp_work_t *work;      /* GP workspace for up to batch points */
    size_t batch;              /* points per predict call */
    double *mean;              /* batch posterior means */
    double *var;               /* batch posterior variances */
    double *dmean;             /* ∇μ at one point (d) */
    double *dvar;              /* ∇σ² at one point (d) */
    size_t n_pending;          /* pending points penalized (0 for plain LogEI) */
    double *pending;           /* their copy, n_pending × d */
    double *inv_ls2;           /* 1/ℓ_a² for the penalty (d) */
} s_logei_t;

static hone_acqf_t *s_create(const hone_acqf_type_t *type, const hone_acqf_context_t *ctx,
                             bool penalize)
{
    if (!ctx || !ctx->model || !isfinite(ctx->best_f))
        return NULL;
    if (penalize && ctx->n_pending > 0 && !ctx->pending)
        return NULL;
    size_t d = hone_gp_dim(ctx->model);
    size_t n = hone_gp_size(ctx->model);
    s_logei_t *self = hone_alloc(sizeof *self);
    self->base.type = type;
    self->base.d = d;
    self->model = ctx->model;
    self->best_f = ctx->best_f;
    size_t batch = S_BATCH;
    if (n > 0 && batch * n > S_BATCH_CELLS)
        batch = S_BATCH_CELLS / n > 16 ? S_BATCH_CELLS / n : 16;
    self->batch = batch;
    self->work = hone_gp_work_new(ctx->model, batch);
    if (!self->work) {
        hone_free(self);
        return NULL;
    }
    self->mean = hone_alloc_array(batch, sizeof(double));
    self->var = hone_alloc_array(batch, sizeof(double));
    self->dmean = hone_alloc_array(d, sizeof(double));
    self->dvar = hone_alloc_array(d, sizeof(double));
    if (penalize && ctx->n_pending > 0) {
        self->n_pending = ctx->n_pending;
        self->pending = hone_alloc_array(ctx->n_pending * d, sizeof(double));
        memcpy(self->pending, ctx->pending, ctx->n_pending * d * sizeof(double));
        self->inv_ls2 = hone_alloc_array(d, sizeof(double));
        double noise, mean;
        hone_gp_get_params(ctx->model, self->inv_ls2, &noise, &mean);
        for (size_t a = 0; a < d; a++)
            self->inv_ls2[a] = 1.0 / (self->inv_ls2[a] * self->inv_ls2[a]);
    }
    return &self->base;
}

static hone_acqf_t *s_logei_create(const hone_acqf_context_t *ctx)
{
    return s_create(&hone_acqf_logei, ctx, false);
}

static hone_acqf_t *s_penalized_create(const hone_acqf_context_t *ctx)
{
    return s_create(&hone_acqf_logei_penalized, ctx, true);
}

static void s_destroy(hone_acqf_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_logei_t *self = (s_logei_t *) *self_p;
    hone_gp_work_destroy(&self->work);
    hone_free(self->mean);
    hone_free(self->var);
    hone_free(self->dmean);
    hone_free(self->dvar);
    hone_free(self->pending);
    hone_free(self->inv_ls2);
    hone_free(self);
    *self_p = NULL;
}

/* Σ_p log(1 − exp(−s_p²/2)), s_p² = Σ_a (x_a − p_a)²/ℓ_a²; adds its gradient to grad
 * when grad is not NULL. d/dx_a = (x_a − p_a)/ℓ_a² / expm1(s²/2). */
static double s_penalty(const s_logei_t *self, const double *x, double *grad)
{
    size_t d = self->base.d;
    double total = 0.0;
    for (size_t p = 0; p < self->n_pending; p++) {
        const double *xp = self->pending + p * d;
        double s2 = 0.0;
        for (size_t a = 0; a < d; a++) {
            double r = x[a] - xp[a];
            s2 += r * r * self->inv_ls2[a];
        }
        total += hone_special_log1mexp(-0.5 * s2);
        if (grad && s2 > 0.0) {
            double scale = 1.0 / expm1(0.5 * s2);
            for (size_t a = 0; a < d; a++)
                grad[a] += scale * (x[a] - xp[a]) * self->inv_ls2[a];
        }
    }
    return total;
}

static int s_eval(hone_acqf_t *base, size_t m, const double *x, double *value)
{
    s_logei_t *self = (s_logei_t *) base;
    HONE_ASSERT(self && (m == 0 || (x && value)));
    size_t d = base->d;
    for (size_t start = 0; start < m; start += self->batch) {
        size_t count = m - start < self->batch ? m - start : self->batch;
        const double *xs = x + start * d;
        int rc = hone_gp_predict(self->model, count, xs, self->mean, self->var, self->work);
        if (rc != HONE_OK)
            return rc;
        for (size_t i = 0; i < count; i++) {
            double sigma = sqrt(fmax(self->var[i], S_MIN_VAR));
            double z = (self->mean[i] - self->best_f) / sigma;
            double v = hone_special_log_h(z, NULL) + log(sigma);
            if (self->n_pending > 0)
                v += s_penalty(self, xs + i * d, NULL);
            value[start + i] = v;
        }
    }
    return HONE_OK;
}

static int s_eval_grad(hone_acqf_t *base, const double *x, double *value, double *grad)
{
    s_logei_t *self = (s_logei_t *) base;
    HONE_ASSERT(self && x && value && grad);
    size_t d = base->d;
    double mean, var;
    int rc = hone_gp_predict_grad(self->model, x, &mean, &var, self->dmean, self->dvar,
                                  self->work);
    if (rc != HONE_OK)
        return rc;
    bool clamped = !(var > S_MIN_VAR);
    double sigma = sqrt(clamped ? S_MIN_VAR : var);
    double z = (mean - self->best_f) / sigma;
    double dlogh;
    *value = hone_special_log_h(z, &dlogh) + log(sigma);
    /* ∂/∂μ = h'/σ; ∂/∂σ = (1 − z·h')/σ; ∂σ/∂x = ∇σ²/(2σ) (zero where σ² is clamped) */
    double d_mean = dlogh / sigma;
    double d_var = clamped ? 0.0 : (1.0 - z * dlogh) / sigma / (2.0 * sigma);
    for (size_t a = 0; a < d; a++)
        grad[a] = d_mean * self->dmean[a] + d_var * self->dvar[a];
    if (self->n_pending > 0)
        *value += s_penalty(self, x, grad);
    return HONE_OK;
}

const hone_acqf_type_t hone_acqf_logei = {
    .name = "logei",
    .create = s_logei_create,
    .destroy = s_destroy,
    .eval = s_eval,
    .eval_grad = s_eval_grad,
};

const hone_acqf_type_t hone_acqf_logei_penalized = {
    .name = "logei_penalized",
    .create = s_penalized_create,
    .destroy = s_destroy,
    .eval = s_eval,
    .eval_grad = s_eval_grad,
};
