/* acqf_qlognei.c: Monte-Carlo qLogNEI for q = 1 with a cached root decomposition
 * (reference/bo-numerics.md §2.2; BoTorch's qLogNoisyExpectedImprovement with
 * cache_root=True, prune_baseline=True, incremental=True):
 *
 *     qLogNEI(x) = log (1/N)·Σ_s fatplus(f_x^s − max_i f_b,i^s; τ = 1e-6),
 *
 * where (f_b^s, f_x^s) are N = 512 joint posterior samples of f at the baseline X_b and
 * at x, drawn from FIXED quasi-random base samples so that the value is a smooth,
 * deterministic function of x that L-BFGS can climb.
 *
 * Baseline: the model's training points plus the pending points (running trials), so a
 * candidate next to a pending point gains nothing over it: that is how asynchronous
 * workers are spread out. It is pruned at create: first a cheap filter drops points whose
 * upper bound μ + 4σ is below the best lower bound max(μ − 4σ) (a hone addition), then
 * 2048 joint draws keep only the points that are the maximum in at least one draw (as
 * BoTorch's prune_inferior_points). Past S_MAX_BASELINE points the filter keeps the
 * highest upper bounds (a cap for memory and time with many noisy points; documented
 * approximation).
 *
 * Cached root. With V_b = L⁻¹K(X, X_b) and L_bb = chol(K(X_b, X_b) − V_bᵀV_b), the
 * baseline samples f_b^s = μ_b + L_bb·z_b^s do not depend on x, so f*^s = max_i f_b,i^s is
 * computed once. Per candidate, with k = K(X, x), v = L⁻¹k:
 *     μ = c + kᵀα,   Σ_bx = K(X_b, x) − V_bᵀv,   c_x = L_bb⁻¹Σ_bx,   s² = 1 − vᵀv − c_xᵀc_x,
 *     f_x^s = μ + c_xᵀz_b^s + s·z_x^s,
 * i.e. for a batch of m candidates one trsm (n²m), one gemm (n_b·n·m), one trsm
 * (n_b²·m) and one gemm for every sample at once (N·n_b·m).
 *
 * Gradient (reverse mode, §2.2): with w_s = softmax(a)_s and g_s = ∂a_s/∂f_x^s,
 *     μ̄ = Σ w g,  s̄ = Σ w g z_x,  c̄ = Z_bᵀ(w∘g),  then s̄² = s̄/(2s),  c̄ −= 2s̄²·c_x,
 *     Σ̄ = L_bb⁻ᵀc̄,  v̄ = −V_bΣ̄ − 2s̄²v,  k̄ = L⁻ᵀv̄ + μ̄α,  k̄_b = Σ̄,
 * chained to x through ∂k/∂x of the kernel.
 *
 * Memory: every buffer is allocated by create; eval works through batches of at most
 * `batch` points and never allocates. */
#include "acqf_impl.h"

#include <math.h>

#include "alloc.h"
#include "gp_internal.h"
#include "kernel.h"
#include "linalg.h"
#include "sobol.h"
#include "special.h"

#define S_SAMPLES 512                 /* MC base samples N (BoTorch's default) */
#define S_PRUNE_DRAWS 2048            /* joint draws for pruning the baseline */
#define S_PRUNE_CHUNK 256             /* draws per gemm while pruning */
#define S_MAX_BASELINE 256            /* baseline points kept at most (see header) */
#define S_FILTER_SIGMAS 4.0           /* the pre-filter's μ ± 4σ */
#define S_TAU_RELU 1e-6               /* fatplus temperature (BoTorch TAU_RELU) */
#define S_MIN_VAR 1e-10               /* the GP's variance floor */
#define S_BATCH 256                   /* candidates per batch */
#define S_BATCH_CELLS (256 * 4096)    /* cap on batch × max(n, N) */

typedef struct {
    hone_acqf_t base;          /* common head; must be first */
    hone_gp_view_t gp;         /* the model's factorization (borrowed) */
    size_t nb;                 /* baseline points after pruning */
    double *ub, *sb;           /* d×nb scaled baseline points and their norms */
    double *vb;                /* n×nb: L⁻¹K(X, X_b) */
    double *lbb;               /* nb×nb: Cholesky factor of the baseline covariance */
    double *zb;                /* N×nb base samples of the baseline (column-major, ld N) */
    double *zx;                /* N base samples of the candidate */
    double *fstar;             /* N: max over the baseline in each sample */
    size_t batch;              /* candidates per batch */
    /* eval scratch */
    double *ux, *tx;           /* d×batch scaled candidates, their norms */
    double *kx;                /* n×batch: K(X, x), then L⁻¹K(X, x) */
    double *kb;                /* nb×batch: K(X_b, x), then Σ_bx, then c_x */
    double *mu, *s2;           /* batch means and residual variances */
    double *f;                 /* N×batch: c_xᵀz_b for every sample */
    double *a;                 /* N: per-sample log improvements (underflow fallback) */
    double *wg;                /* N: ∂value/∂f_x^s */
    /* gradient scratch */
    double *hx, *hb;           /* n, nb: −2κ′ at the training and baseline points */
    double *r2;                /* max(n, nb): squared distances */
    double *cbar;              /* nb */
    double *vbar;              /* n */
    double *coef;              /* n + nb: k̄∘h, k̄_b∘h_b */
    double *g;                 /* 2d: U·(k̄∘h), U_b·(k̄_b∘h_b) */
} s_qlognei_t;

static void s_destroy(hone_acqf_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_qlognei_t *self = (s_qlognei_t *) *self_p;
    double *buffers[] = { self->ub, self->sb, self->vb, self->lbb, self->zb, self->zx,
                          self->fstar, self->ux, self->tx, self->kx, self->kb, self->mu,
                          self->s2, self->f, self->a, self->wg, self->hx, self->hb, self->r2,
                          self->cbar, self->vbar, self->coef, self->g };
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        hone_free(buffers[i]);
    hone_free(self);
    *self_p = NULL;
}

/* Posterior mean and variance at m points (rows of d), in chunks so that the GP's
 * workspace stays small. */
static int s_predict_all(const hone_gp_t *model, size_t m, const double *x, double *mean,
                         double *var)
{
    size_t d = hone_gp_dim(model), chunk = 256;
    hone_gp_work_t *work = hone_gp_work_new(model, chunk);
    int rc = HONE_OK;
    for (size_t start = 0; rc == HONE_OK && start < m; start += chunk) {
        size_t count = m - start < chunk ? m - start : chunk;
        rc = hone_gp_predict(model, count, x + start * d, mean + start, var + start, work);
    }
    hone_gp_work_destroy(&work);
    return rc;
}

/* V_b = L⁻¹K(X, X_b) (n×nb) and the factor of K(X_b, X_b) − V_bᵀV_b (nb×nb, jittered)
 * for the nb scaled baseline points ub/sb. */
static int s_baseline_factor(const hone_gp_view_t *gp, size_t nb, const double *ub,
                             const double *sb, double *vb, double *lbb)
{
    size_t n = gp->n, d = gp->d;
    hone_kernel_cross(gp->kernel, n, nb, d, gp->u, gp->s, ub, sb, vb, n);
    hone_linalg_trsm(HONE_LINALG_NOTRANS, n, gp->l, gp->ldl, nb, vb, n);
    hone_kernel_gram(gp->kernel, nb, d, ub, sb, lbb, nb);
    hone_linalg_syrk(HONE_LINALG_TRANS, nb, n, -1.0, vb, n, 1.0, lbb, nb);
    return hone_linalg_chol_decomp(nb, lbb, nb, NULL);
}

/* Keeps the baseline points (columns of ub/sb, entries of mu) whose flag is set,
 * compacting in place; returns how many. */
static size_t s_compact(size_t d, size_t nb, const bool *keep, double *ub, double *sb,
                        double *mu)
{
    size_t k = 0;
    for (size_t i = 0; i < nb; i++) {
        if (!keep[i])
            continue;
        if (k != i) {
            memmove(ub + k * d, ub + i * d, d * sizeof *ub);
            sb[k] = sb[i];
            mu[k] = mu[i];
        }
        k++;
    }
    return k;
}

/* The pre-filter and the cap (see the header): marks keep[i]. */
static void s_prefilter(size_t m, const double *mu, const double *var, bool *keep)
{
    double best_lower = -INFINITY;
    for (size_t i = 0; i < m; i++)
        best_lower = fmax(best_lower, mu[i] - S_FILTER_SIGMAS * sqrt(var[i]));
    size_t kept = 0;
    for (size_t i = 0; i < m; i++) {
        keep[i] = mu[i] + S_FILTER_SIGMAS * sqrt(var[i]) >= best_lower;
        kept += keep[i];
    }
    /* Over the cap: raise the bar on the upper bound until at most S_MAX_BASELINE pass. */
    while (kept > S_MAX_BASELINE) {
        double lowest = INFINITY;
        size_t at = 0;
        for (size_t i = 0; i < m; i++) {
            double upper = mu[i] + S_FILTER_SIGMAS * sqrt(var[i]);
            if (keep[i] && upper < lowest) {
                lowest = upper;
                at = i;
            }
        }
        keep[at] = false;
        kept--;
    }
}

/* BoTorch's prune_inferior_points: keep[i] when point i is the maximum of at least one of
 * S_PRUNE_DRAWS joint posterior draws μ_b + L_bb·z. */
static void s_prune(size_t nb, const double *mu, const double *lbb, uint64_t seed, bool *keep)
{
    hone_rng_t rng;
    hone_rng_seed(&rng, seed);
    double *z = hone_alloc_array(nb * S_PRUNE_CHUNK, sizeof(double));
    double *f = hone_alloc_array(nb * S_PRUNE_CHUNK, sizeof(double));
    /* L_bb with its strict upper triangle zeroed, for gemm. */
    double *l = hone_alloc_array(nb * nb, sizeof(double));
    for (size_t j = 0; j < nb; j++)
        for (size_t i = j; i < nb; i++)
            l[i + j * nb] = lbb[i + j * nb];
    for (size_t i = 0; i < nb; i++)
        keep[i] = false;
    for (size_t done = 0; done < S_PRUNE_DRAWS; done += S_PRUNE_CHUNK) {
        for (size_t i = 0; i < nb * S_PRUNE_CHUNK; i++)
            z[i] = hone_special_normal_from_uniform(hone_rng_uniform(&rng));
        hone_linalg_gemm(HONE_LINALG_NOTRANS, HONE_LINALG_NOTRANS, nb, S_PRUNE_CHUNK, nb, 1.0,
                         l, nb, z, nb, 0.0, f, nb);
        for (size_t s = 0; s < S_PRUNE_CHUNK; s++) {
            const double *fs = f + s * nb;
            size_t at = 0;
            for (size_t i = 1; i < nb; i++)
                if (mu[i] + fs[i] > mu[at] + fs[at])
                    at = i;
            keep[at] = true;
        }
    }
    hone_free(z);
    hone_free(f);
    hone_free(l);
}

/* The fixed base samples (Sobol, mapped to normals as BoTorch does) and f*^s. */
static void s_draw_base_samples(s_qlognei_t *self, const double *mu_b, uint64_t seed)
{
    size_t nb = self->nb, dim = nb + 1;
    hone_sobol_t *sobol = hone_sobol_new((uint32_t) dim, true, seed);
    HONE_ASSERT(sobol);   /* nb + 1 <= S_MAX_BASELINE + 1 is far below the table's size */
    double *u = hone_alloc_array(S_SAMPLES * dim, sizeof(double));
    hone_sobol_next(sobol, S_SAMPLES, u);
    hone_sobol_destroy(&sobol);
    for (size_t s = 0; s < S_SAMPLES; s++) {
        for (size_t i = 0; i < nb; i++)
            self->zb[s + i * S_SAMPLES] = hone_special_normal_from_uniform(u[s * dim + i]);
        self->zx[s] = hone_special_normal_from_uniform(u[s * dim + nb]);
    }
    hone_free(u);
    /* F_b = Z_b·L_bbᵀ (N×nb): sample s of the baseline is μ_b + row s. */
    double *l = hone_alloc_array(nb * nb, sizeof(double));
    for (size_t j = 0; j < nb; j++)
        for (size_t i = 0; i < nb; i++)
            l[i + j * nb] = i >= j ? self->lbb[i + j * nb] : 0.0;
    double *fb = hone_alloc_array(S_SAMPLES * nb, sizeof(double));
    hone_linalg_gemm(HONE_LINALG_NOTRANS, HONE_LINALG_TRANS, S_SAMPLES, nb, nb, 1.0, self->zb,
                     S_SAMPLES, l, nb, 0.0, fb, S_SAMPLES);
    for (size_t s = 0; s < S_SAMPLES; s++) {
        double best = -INFINITY;
        for (size_t i = 0; i < nb; i++)
            best = fmax(best, mu_b[i] + fb[s + i * S_SAMPLES]);
        self->fstar[s] = best;
    }
    hone_free(l);
    hone_free(fb);
}

static hone_acqf_t *s_create(const hone_acqf_context_t *ctx)
{
    if (!ctx || !ctx->model || (ctx->n_pending > 0 && !ctx->pending))
        return NULL;
    hone_gp_view_t gp;
    if (hone_gp_view(ctx->model, &gp) != HONE_OK || gp.n == 0)
        return NULL;
    size_t n = gp.n, d = gp.d, m = n + ctx->n_pending;

    /* Candidates for the baseline: training points, then pending points. */
    double *xb = hone_alloc_array(m * d, sizeof(double));
    double *mu = hone_alloc_array(m, sizeof(double));
    double *var = hone_alloc_array(m, sizeof(double));
    bool *keep = hone_alloc_array(m, sizeof(bool));
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < d; a++)
            xb[i * d + a] = gp.u[a + i * d] / gp.inv_ls[a] + 0.5;
    if (ctx->n_pending > 0)
        memcpy(xb + n * d, ctx->pending, ctx->n_pending * d * sizeof(double));
    s_qlognei_t *self = NULL;
    int rc = s_predict_all(ctx->model, m, xb, mu, var);
    if (rc != HONE_OK)
        goto done;

    self = hone_alloc(sizeof *self);
    self->base.type = &hone_acqf_qlognei;
    self->base.d = d;
    self->gp = gp;
    s_prefilter(m, mu, var, keep);
    size_t nb = 0;
    for (size_t i = 0; i < m; i++)
        nb += keep[i];
    self->ub = hone_alloc_array(d * nb, sizeof(double));
    self->sb = hone_alloc_array(nb, sizeof(double));
    double *mu_b = hone_alloc_array(nb, sizeof(double));
    for (size_t i = 0, k = 0; i < m; i++)
        if (keep[i]) {
            hone_kernel_scale(1, d, xb + i * d, gp.inv_ls, self->ub + k * d, self->sb + k);
            mu_b[k++] = mu[i];
        }
    self->vb = hone_alloc_array(n * nb, sizeof(double));
    self->lbb = hone_alloc_array(nb * nb, sizeof(double));
    rc = s_baseline_factor(&gp, nb, self->ub, self->sb, self->vb, self->lbb);
    if (rc == HONE_OK && nb > 1) {
        s_prune(nb, mu_b, self->lbb, hone_rng_derive(ctx->seed, 1), keep);
        size_t kept = s_compact(d, nb, keep, self->ub, self->sb, mu_b);
        if (kept < nb) {
            nb = kept;
            rc = s_baseline_factor(&gp, nb, self->ub, self->sb, self->vb, self->lbb);
        }
    }
    self->nb = nb;
    if (rc == HONE_OK) {
        self->zb = hone_alloc_array(S_SAMPLES * nb, sizeof(double));
        self->zx = hone_alloc_array(S_SAMPLES, sizeof(double));
        self->fstar = hone_alloc_array(S_SAMPLES, sizeof(double));
        s_draw_base_samples(self, mu_b, hone_rng_derive(ctx->seed, 2));
    }
    hone_free(mu_b);
    if (rc != HONE_OK)
        goto done;

    size_t batch = S_BATCH, widest = n > S_SAMPLES ? n : S_SAMPLES;
    if (batch * widest > S_BATCH_CELLS)
        batch = S_BATCH_CELLS / widest > 16 ? S_BATCH_CELLS / widest : 16;
    self->batch = batch;
    self->ux = hone_alloc_array(d * batch, sizeof(double));
    self->tx = hone_alloc_array(batch, sizeof(double));
    self->kx = hone_alloc_array(n * batch, sizeof(double));
    self->kb = hone_alloc_array(nb * batch, sizeof(double));
    self->mu = hone_alloc_array(batch, sizeof(double));
    self->s2 = hone_alloc_array(batch, sizeof(double));
    self->f = hone_alloc_array(S_SAMPLES * batch, sizeof(double));
    self->a = hone_alloc_array(S_SAMPLES, sizeof(double));
    self->wg = hone_alloc_array(S_SAMPLES, sizeof(double));
    self->hx = hone_alloc_array(n, sizeof(double));
    self->hb = hone_alloc_array(nb, sizeof(double));
    self->r2 = hone_alloc_array(n > nb ? n : nb, sizeof(double));
    self->cbar = hone_alloc_array(nb, sizeof(double));
    self->vbar = hone_alloc_array(n, sizeof(double));
    self->coef = hone_alloc_array(n + nb, sizeof(double));
    self->g = hone_alloc_array(2 * d, sizeof(double));

done:
    hone_free(xb);
    hone_free(mu);
    hone_free(var);
    hone_free(keep);
    if (rc != HONE_OK && self) {
        hone_acqf_t *base = &self->base;
        s_destroy(&base);
        self = NULL;
    }
    return self ? &self->base : NULL;
}

/* μ, s² and C = c_x for `count` candidates (the batch's columns of kx, kb). */
static void s_posterior(s_qlognei_t *self, size_t count, const double *x)
{
    const hone_gp_view_t *gp = &self->gp;
    size_t n = gp->n, d = gp->d, nb = self->nb;
    hone_kernel_scale(count, d, x, gp->inv_ls, self->ux, self->tx);
    hone_kernel_cross(gp->kernel, n, count, d, gp->u, gp->s, self->ux, self->tx, self->kx, n);
    hone_kernel_cross(gp->kernel, nb, count, d, self->ub, self->sb, self->ux, self->tx, self->kb,
                      nb);
    for (size_t j = 0; j < count; j++)
        self->mu[j] = gp->mean;
    hone_linalg_gemv(HONE_LINALG_TRANS, n, count, 1.0, self->kx, n, gp->alpha, 1.0, self->mu);
    hone_linalg_trsm(HONE_LINALG_NOTRANS, n, gp->l, gp->ldl, count, self->kx, n);
    hone_linalg_gemm(HONE_LINALG_TRANS, HONE_LINALG_NOTRANS, nb, count, n, -1.0, self->vb, n,
                     self->kx, n, 1.0, self->kb, nb);
    hone_linalg_trsm(HONE_LINALG_NOTRANS, nb, self->lbb, nb, count, self->kb, nb);
    for (size_t j = 0; j < count; j++) {
        const double *v = self->kx + j * n, *c = self->kb + j * nb;
        self->s2[j] = 1.0 - hone_linalg_dot(n, v, v) - hone_linalg_dot(nb, c, c);
    }
}

/* log (1/N)·Σ_s fatplus(f_x^s − f*^s) for candidate j of the batch, summed in linear
 * space (a division per sample instead of two logarithms and an exponential: see
 * hone_special_fatplus). With g not NULL, g[s] receives ∂value/∂f_x^s. Falls back to
 * log space when the sum underflows (improvements below about −1e136). */
static double s_log_mean(s_qlognei_t *self, size_t j, double s, double *g)
{
    const double *fj = self->f + j * S_SAMPLES;
    double mu = self->mu[j], sum = 0.0;
    for (size_t k = 0; k < S_SAMPLES; k++) {
        double fx = mu + fj[k] + s * self->zx[k];
        sum += hone_special_fatplus(fx - self->fstar[k], S_TAU_RELU, g ? &g[k] : NULL);
    }
    if (sum > 0.0 && isfinite(sum)) {
        if (g)
            for (size_t k = 0; k < S_SAMPLES; k++)
                g[k] /= sum;
        return log(sum / (double) S_SAMPLES);
    }
    for (size_t k = 0; k < S_SAMPLES; k++) {
        double fx = mu + fj[k] + s * self->zx[k];
        self->a[k] = hone_special_log_fatplus(fx - self->fstar[k], S_TAU_RELU, g ? &g[k] : NULL);
    }
    double lse = hone_special_logsumexp(S_SAMPLES, self->a);
    if (g)   /* softmax weights times ∂a_s/∂f_x^s */
        for (size_t k = 0; k < S_SAMPLES; k++)
            g[k] *= exp(self->a[k] - lse);
    return lse - log((double) S_SAMPLES);
}

static int s_eval(hone_acqf_t *base, size_t m, const double *x, double *value)
{
    s_qlognei_t *self = (s_qlognei_t *) base;
    HONE_ASSERT(self && (m == 0 || (x && value)));
    size_t d = base->d;
    for (size_t i = 0; i < m * d; i++)
        if (!isfinite(x[i]))
            return HONE_EINVAL;
    for (size_t start = 0; start < m; start += self->batch) {
        size_t count = m - start < self->batch ? m - start : self->batch;
        s_posterior(self, count, x + start * d);
        hone_linalg_gemm(HONE_LINALG_NOTRANS, HONE_LINALG_NOTRANS, S_SAMPLES, count, self->nb,
                         1.0, self->zb, S_SAMPLES, self->kb, self->nb, 0.0, self->f, S_SAMPLES);
        for (size_t j = 0; j < count; j++)
            value[start + j] = s_log_mean(self, j, sqrt(fmax(self->s2[j], S_MIN_VAR)), NULL);
    }
    return HONE_OK;
}

/* coef ← coef∘h over the n training and nb baseline points, and x̄ from them:
 *     x̄_a = −(1/ℓ_a)·[u_xa·Σ_i coef_i − (U·coef)_a − (U_b·coef_b)_a]   (kernel.h). */
static void s_chain_to_x(s_qlognei_t *self, double *grad)
{
    const hone_gp_view_t *gp = &self->gp;
    size_t n = gp->n, d = gp->d, nb = self->nb;
    double *cx = self->coef, *cb = self->coef + n;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        cx[i] *= self->hx[i];
        sum += cx[i];
    }
    for (size_t i = 0; i < nb; i++) {
        cb[i] *= self->hb[i];
        sum += cb[i];
    }
    hone_linalg_gemv(HONE_LINALG_NOTRANS, d, n, 1.0, gp->u, d, cx, 0.0, self->g);
    hone_linalg_gemv(HONE_LINALG_NOTRANS, d, nb, 1.0, self->ub, d, cb, 0.0, self->g + d);
    for (size_t a = 0; a < d; a++)
        grad[a] = -gp->inv_ls[a] * (self->ux[a] * sum - self->g[a] - self->g[d + a]);
}

static int s_eval_grad(hone_acqf_t *base, const double *x, double *value, double *grad)
{
    s_qlognei_t *self = (s_qlognei_t *) base;
    HONE_ASSERT(self && x && value && grad);
    const hone_gp_view_t *gp = &self->gp;
    size_t n = gp->n, d = gp->d, nb = self->nb;
    for (size_t a = 0; a < d; a++)
        if (!isfinite(x[a]))
            return HONE_EINVAL;
    s_posterior(self, 1, x);
    /* The kernel's derivative factors at x (κ again, from the squared distances). */
    hone_kernel_cross_r2(n, 1, d, gp->u, gp->s, self->ux, self->tx, self->r2, n);
    gp->kernel->dfactor(n, self->r2, NULL, self->hx);
    hone_kernel_cross_r2(nb, 1, d, self->ub, self->sb, self->ux, self->tx, self->r2, nb);
    gp->kernel->dfactor(nb, self->r2, NULL, self->hb);

    hone_linalg_gemv(HONE_LINALG_NOTRANS, S_SAMPLES, nb, 1.0, self->zb, S_SAMPLES, self->kb, 0.0,
                     self->f);
    bool clamped = !(self->s2[0] > S_MIN_VAR);
    double s = sqrt(clamped ? S_MIN_VAR : self->s2[0]);
    /* wg_s = ∂value/∂f_x^s (the softmax weight times ∂a_s/∂f_x^s) */
    double *wg = self->wg;
    *value = s_log_mean(self, 0, s, wg);
    double mubar = 0.0, sbar = 0.0;
    for (size_t k = 0; k < S_SAMPLES; k++) {
        mubar += wg[k];
        sbar += wg[k] * self->zx[k];
    }
    hone_linalg_gemv(HONE_LINALG_TRANS, S_SAMPLES, nb, 1.0, self->zb, S_SAMPLES, wg, 0.0,
                     self->cbar);
    double s2bar = clamped ? 0.0 : sbar / (2.0 * s);
    const double *cx = self->kb, *v = self->kx;
    for (size_t i = 0; i < nb; i++)
        self->cbar[i] -= 2.0 * s2bar * cx[i];
    /* Σ̄ = L_bb⁻ᵀc̄ = k̄_b */
    hone_linalg_trsv(HONE_LINALG_TRANS, nb, self->lbb, nb, self->cbar, 1);
    /* v̄ = −V_bΣ̄ − 2s̄²v;  k̄ = L⁻ᵀv̄ + μ̄α */
    for (size_t i = 0; i < n; i++)
        self->vbar[i] = -2.0 * s2bar * v[i];
    hone_linalg_gemv(HONE_LINALG_NOTRANS, n, nb, -1.0, self->vb, n, self->cbar, 1.0, self->vbar);
    hone_linalg_trsv(HONE_LINALG_TRANS, n, gp->l, gp->ldl, self->vbar, 1);
    for (size_t i = 0; i < n; i++)
        self->coef[i] = self->vbar[i] + mubar * gp->alpha[i];
    memcpy(self->coef + n, self->cbar, nb * sizeof(double));
    s_chain_to_x(self, grad);
    return HONE_OK;
}

const hone_acqf_type_t hone_acqf_qlognei = {
    .name = "qlognei",
    .create = s_create,
    .destroy = s_destroy,
    .eval = s_eval,
    .eval_grad = s_eval_grad,
};
