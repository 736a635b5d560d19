/* mc_joint.c: joint posterior draws of one GP at a fixed baseline and at candidates, with
 * a cached root decomposition (mc_joint.h; reference/bo-numerics.md §2.2).
 *
 * The algebra of bo-numerics §2.2's cached root, for any number of draws and with the
 * draws' adjoints supplied by the caller. Reverse mode: with ȳ_s = ∂L/∂(draw s),
 *     μ̄ = Σ ȳ,  s̄ = Σ ȳ z_x,  c̄ = Zᵀȳ,  s̄² = s̄/(2s),  c̄ −= 2s̄²·c_x,
 *     Σ̄ = L_bb⁻ᵀc̄,  v̄ = −V_bΣ̄ − 2s̄²v,  k̄ = L⁻ᵀv̄ + μ̄α,  k̄_b = Σ̄,
 * chained to x through ∂k/∂x of the kernel (kernel.h: ∂k/∂x_a = −h·(x_a − z_a)/ℓ_a²). */
#include "mc_joint.h"

#include <math.h>
#include <string.h>

#include "alloc.h"
#include "gp_internal.h"
#include "kernel.h"
#include "linalg.h"
#include "rng.h"
#include "sobol.h"
#include "special.h"

#define S_MIN_VAR 1e-10   /* the GP's variance floor */

struct _hone_mc_joint_t {
    hone_gp_view_t gp;     /* the model's factorization (borrowed) */
    size_t nb;             /* baseline points */
    size_t batch;          /* candidates per eval at most */
    double *ub, *sb;       /* d×nb scaled baseline points and their norms */
    double *mu_b;          /* nb: posterior means at the baseline */
    double *vb;            /* n×nb: L⁻¹K(X, X_b) */
    double *lbb;           /* nb×nb: factor of the baseline covariance, strict upper zeroed */
    /* eval scratch */
    double *ux, *tx;       /* d×batch scaled candidates, their norms */
    double *kx;            /* n×batch: K(X, x), then L⁻¹K(X, x) */
    double *kb;            /* nb×batch: K(X_b, x), then Σ_bx, then c_x */
    double *s2;            /* 1: candidate 0's residual variance before the floor */
    /* backprop scratch */
    double *hx, *hb;       /* n, nb: −2κ′ at the training and baseline points */
    double *r2;            /* max(n, nb): squared distances */
    double *cbar;          /* nb */
    double *vbar;          /* n */
    double *coef;          /* n + nb: k̄∘h, k̄_b∘h_b */
    double *g;             /* 2d: U·(k̄∘h), U_b·(k̄_b∘h_b) */
};

void hone_mc_joint_destroy(hone_mc_joint_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hone_mc_joint_t *self = *self_p;
    double *buffers[] = { self->ub, self->sb, self->mu_b, self->vb, self->lbb, self->ux,
                          self->tx, self->kx, self->kb, self->s2, self->hx,
                          self->hb, self->r2, self->cbar, self->vbar, self->coef, self->g };
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        hone_free(buffers[i]);
    hone_free(self);
    *self_p = NULL;
}

hone_mc_joint_t *hone_mc_joint_new(const hone_gp_t *model, size_t nb, const double *xb,
                                   size_t max_batch)
{
    HONE_ASSERT(model && (nb == 0 || xb) && max_batch >= 1);
    hone_gp_view_t gp;
    if (hone_gp_view(model, &gp) != HONE_OK || gp.n == 0)
        return NULL;
    size_t n = gp.n, d = gp.d;
    hone_mc_joint_t *self = hone_alloc(sizeof *self);
    self->gp = gp;
    self->nb = nb;
    self->batch = max_batch;
    size_t nb1 = nb ? nb : 1;   /* never a zero-sized allocation */
    self->ub = hone_alloc_array(d * nb1, sizeof(double));
    self->sb = hone_alloc_array(nb1, sizeof(double));
    self->mu_b = hone_alloc_array(nb1, sizeof(double));
    self->vb = hone_alloc_array(n * nb1, sizeof(double));
    self->lbb = hone_alloc_array(nb1 * nb1, sizeof(double));
    if (nb > 0) {
        hone_kernel_scale(nb, d, xb, gp.inv_ls, self->ub, self->sb);
        hone_kernel_cross(gp.kernel, n, nb, d, gp.u, gp.s, self->ub, self->sb, self->vb, n);
        for (size_t i = 0; i < nb; i++)
            self->mu_b[i] = gp.mean;
        hone_linalg_gemv(HONE_LINALG_TRANS, n, nb, 1.0, self->vb, n, gp.alpha, 1.0, self->mu_b);
        hone_linalg_trsm(HONE_LINALG_NOTRANS, n, gp.l, gp.ldl, nb, self->vb, n);
        hone_kernel_gram(gp.kernel, nb, d, self->ub, self->sb, self->lbb, nb);
        hone_linalg_syrk(HONE_LINALG_TRANS, nb, n, -1.0, self->vb, n, 1.0, self->lbb, nb);
        if (hone_linalg_chol_decomp(nb, self->lbb, nb, NULL) != HONE_OK) {
            hone_mc_joint_destroy(&self);
            return NULL;
        }
        /* zero the strict upper triangle so that gemm can use the factor as it is */
        for (size_t j = 1; j < nb; j++)
            memset(self->lbb + j * nb, 0, j * sizeof(double));
    }
    self->ux = hone_alloc_array(d * max_batch, sizeof(double));
    self->tx = hone_alloc_array(max_batch, sizeof(double));
    self->kx = hone_alloc_array(n * max_batch, sizeof(double));
    self->kb = hone_alloc_array(nb1 * max_batch, sizeof(double));
    self->s2 = hone_alloc_array(1, sizeof(double));
    self->hx = hone_alloc_array(n, sizeof(double));
    self->hb = hone_alloc_array(nb1, sizeof(double));
    self->r2 = hone_alloc_array(n > nb ? n : nb, sizeof(double));
    self->cbar = hone_alloc_array(nb1, sizeof(double));
    self->vbar = hone_alloc_array(n, sizeof(double));
    self->coef = hone_alloc_array(n + nb, sizeof(double));
    self->g = hone_alloc_array(2 * d, sizeof(double));
    return self;
}

size_t hone_mc_joint_baseline_size(const hone_mc_joint_t *self)
{
    HONE_ASSERT(self);
    return self->nb;
}

const double *hone_mc_joint_baseline_mean(const hone_mc_joint_t *self)
{
    HONE_ASSERT(self);
    return self->mu_b;
}

void hone_mc_joint_sample_baseline(const hone_mc_joint_t *self, size_t ns, const double *z,
                                   size_t ldz, double *f, size_t ldf)
{
    HONE_ASSERT(self && (ns == 0 || self->nb == 0 || (z && f && ldz >= ns && ldf >= ns)));
    size_t nb = self->nb;
    if (nb == 0 || ns == 0)
        return;
    hone_linalg_gemm(HONE_LINALG_NOTRANS, HONE_LINALG_TRANS, ns, nb, nb, 1.0, z, ldz,
                     self->lbb, nb, 0.0, f, ldf);
    for (size_t i = 0; i < nb; i++) {
        double mu = self->mu_b[i];
        double *col = f + i * ldf;
        for (size_t s = 0; s < ns; s++)
            col[s] += mu;
    }
}

void hone_mc_joint_eval(hone_mc_joint_t *self, size_t count, const double *x, size_t ns,
                        const double *z, size_t ldz, double *mean, double *sd, double *f,
                        size_t ldf)
{
    HONE_ASSERT(self && count >= 1 && count <= self->batch && x && mean && sd && f &&
                ldf >= ns && (self->nb == 0 || (z && ldz >= ns)));
    const hone_gp_view_t *gp = &self->gp;
    size_t n = gp->n, d = gp->d, nb = self->nb;
    hone_kernel_scale(count, d, x, gp->inv_ls, self->ux, self->tx);
    hone_kernel_cross(gp->kernel, n, count, d, gp->u, gp->s, self->ux, self->tx, self->kx, n);
    for (size_t j = 0; j < count; j++)
        mean[j] = gp->mean;
    hone_linalg_gemv(HONE_LINALG_TRANS, n, count, 1.0, self->kx, n, gp->alpha, 1.0, mean);
    hone_linalg_trsm(HONE_LINALG_NOTRANS, n, gp->l, gp->ldl, count, self->kx, n);
    if (nb > 0) {
        hone_kernel_cross(gp->kernel, nb, count, d, self->ub, self->sb, self->ux, self->tx,
                          self->kb, nb);
        hone_linalg_gemm(HONE_LINALG_TRANS, HONE_LINALG_NOTRANS, nb, count, n, -1.0, self->vb,
                         n, self->kx, n, 1.0, self->kb, nb);
        hone_linalg_trsm(HONE_LINALG_NOTRANS, nb, self->lbb, nb, count, self->kb, nb);
        hone_linalg_gemm(HONE_LINALG_NOTRANS, HONE_LINALG_NOTRANS, ns, count, nb, 1.0, z, ldz,
                         self->kb, nb, 0.0, f, ldf);
    }
    else {
        for (size_t j = 0; j < count; j++)
            memset(f + j * ldf, 0, ns * sizeof(double));
    }
    for (size_t j = 0; j < count; j++) {
        const double *v = self->kx + j * n;
        double s2 = 1.0 - hone_linalg_dot(n, v, v);
        if (nb > 0) {
            const double *c = self->kb + j * nb;
            s2 -= hone_linalg_dot(nb, c, c);
        }
        if (j == 0)
            self->s2[0] = s2;
        sd[j] = sqrt(s2 > S_MIN_VAR ? s2 : S_MIN_VAR);
    }
}

void hone_mc_joint_backprop(hone_mc_joint_t *self, size_t ns, const double *z, size_t ldz,
                            const double *zx, const double *ybar, double *grad)
{
    HONE_ASSERT(self && zx && ybar && grad && (self->nb == 0 || (z && ldz >= ns)));
    const hone_gp_view_t *gp = &self->gp;
    size_t n = gp->n, d = gp->d, nb = self->nb;
    /* The kernel's derivative factors at x (κ again, from the squared distances). */
    hone_kernel_cross_r2(n, 1, d, gp->u, gp->s, self->ux, self->tx, self->r2, n);
    gp->kernel->dfactor(n, self->r2, NULL, self->hx);
    if (nb > 0) {
        hone_kernel_cross_r2(nb, 1, d, self->ub, self->sb, self->ux, self->tx, self->r2, nb);
        gp->kernel->dfactor(nb, self->r2, NULL, self->hb);
    }

    double mubar = 0.0, sbar = 0.0;
    for (size_t s = 0; s < ns; s++) {
        mubar += ybar[s];
        sbar += ybar[s] * zx[s];
    }
    bool clamped = !(self->s2[0] > S_MIN_VAR);
    double s2bar = clamped ? 0.0 : sbar / (2.0 * sqrt(self->s2[0]));
    const double *v = self->kx;
    if (nb > 0) {
        const double *cx = self->kb;
        hone_linalg_gemv(HONE_LINALG_TRANS, ns, nb, 1.0, z, ldz, ybar, 0.0, self->cbar);
        for (size_t i = 0; i < nb; i++)
            self->cbar[i] -= 2.0 * s2bar * cx[i];
        /* Σ̄ = L_bb⁻ᵀc̄ = k̄_b */
        hone_linalg_trsv(HONE_LINALG_TRANS, nb, self->lbb, nb, self->cbar, 1);
    }
    /* v̄ = −V_bΣ̄ − 2s̄²v;  k̄ = L⁻ᵀv̄ + μ̄α */
    for (size_t i = 0; i < n; i++)
        self->vbar[i] = -2.0 * s2bar * v[i];
    if (nb > 0)
        hone_linalg_gemv(HONE_LINALG_NOTRANS, n, nb, -1.0, self->vb, n, self->cbar, 1.0,
                         self->vbar);
    hone_linalg_trsv(HONE_LINALG_TRANS, n, gp->l, gp->ldl, self->vbar, 1);

    /* coef ← k̄∘h, k̄_b∘h_b;  x̄_a = −(1/ℓ_a)·[u_xa·Σ coef − (U·coef)_a − (U_b·coef_b)_a] */
    double *cx = self->coef, *cb = self->coef + n;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        cx[i] = (self->vbar[i] + mubar * gp->alpha[i]) * self->hx[i];
        sum += cx[i];
    }
    for (size_t i = 0; i < nb; i++) {
        cb[i] = self->cbar[i] * self->hb[i];
        sum += cb[i];
    }
    hone_linalg_gemv(HONE_LINALG_NOTRANS, d, n, 1.0, gp->u, d, cx, 0.0, self->g);
    if (nb > 0)
        hone_linalg_gemv(HONE_LINALG_NOTRANS, d, nb, 1.0, self->ub, d, cb, 0.0, self->g + d);
    else
        memset(self->g + d, 0, d * sizeof(double));
    for (size_t a = 0; a < d; a++)
        grad[a] -= gp->inv_ls[a] * (self->ux[a] * sum - self->g[a] - self->g[d + a]);
}

/* ---- sets -------------------------------------------------------------------- */

struct _hone_mc_joint_set_t {
    size_t k;                  /* outputs */
    size_t nb;                 /* baseline points */
    size_t ns;                 /* base samples */
    size_t d;                  /* input dimension */
    hone_mc_joint_t **post;    /* k: each output's cached root, NULL when not drawn */
    double **zb;               /* k: ns×nb baseline normals (ld ns) */
    double **zx;               /* k: ns candidate normals */
    double **mean, **sd;       /* k: per batch, μ_x and s_x */
    double **f;                /* k: ns×batch, c_xᵀz_b for every sample */
    size_t batch;              /* candidates per eval at most */
    double *y, *ybar;          /* k×ns: the draws at one candidate, their adjoints */
};

void hone_mc_joint_set_destroy(hone_mc_joint_set_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hone_mc_joint_set_t *self = *self_p;
    for (size_t j = 0; j < self->k; j++) {
        hone_mc_joint_destroy(&self->post[j]);
        hone_free(self->zb[j]);
        hone_free(self->zx[j]);
        hone_free(self->mean[j]);
        hone_free(self->sd[j]);
        hone_free(self->f[j]);
    }
    void *arrays[] = { self->post, self->zb, self->zx, self->mean, self->sd, self->f,
                       self->y, self->ybar };
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        hone_free(arrays[i]);
    hone_free(self);
    *self_p = NULL;
}

hone_mc_joint_set_t *hone_mc_joint_set_new(size_t k, const hone_gp_t *const *models, size_t nb,
                                           const double *xb, size_t ns, size_t max_batch)
{
    HONE_ASSERT(k >= 1 && models && ns >= 1 && max_batch >= 1 && (nb == 0 || xb));
    hone_mc_joint_set_t *self = hone_alloc(sizeof *self);
    self->k = k;
    self->nb = nb;
    self->ns = ns;
    self->post = hone_alloc_array(k, sizeof *self->post);
    self->zb = hone_alloc_array(k, sizeof *self->zb);
    self->zx = hone_alloc_array(k, sizeof *self->zx);
    self->mean = hone_alloc_array(k, sizeof *self->mean);
    self->sd = hone_alloc_array(k, sizeof *self->sd);
    self->f = hone_alloc_array(k, sizeof *self->f);
    self->batch = max_batch;
    self->y = hone_alloc_array(k * ns, sizeof(double));
    self->ybar = hone_alloc_array(k * ns, sizeof(double));
    bool ok = true, first = true;
    for (size_t j = 0; ok && j < k; j++) {
        if (!models[j])
            continue;
        size_t d = hone_gp_dim(models[j]);
        ok = first || d == self->d;
        self->d = d;
        first = false;
        self->post[j] = ok ? hone_mc_joint_new(models[j], nb, xb, max_batch) : NULL;
        ok = ok && self->post[j];
        self->zb[j] = hone_alloc_array(ns * nb, sizeof(double));
        self->zx[j] = hone_alloc_array(ns, sizeof(double));
        self->mean[j] = hone_alloc_array(max_batch, sizeof(double));
        self->sd[j] = hone_alloc_array(max_batch, sizeof(double));
        self->f[j] = hone_alloc_array(ns * max_batch, sizeof(double));
    }
    if (!ok)
        hone_mc_joint_set_destroy(&self);
    return self;
}

hone_mc_joint_t *hone_mc_joint_set_output(const hone_mc_joint_set_t *self, size_t j)
{
    HONE_ASSERT(self && j < self->k);
    return self->post[j];
}

/* One block of outputs [j0, j1) from one scrambled Sobol sequence (see the header). */
static void s_block_samples(hone_mc_joint_set_t *self, size_t j0, size_t j1, uint64_t seed)
{
    size_t nb = self->nb, ns = self->ns, dim = (j1 - j0) * (nb + 1);
    hone_sobol_t *sobol = hone_sobol_new((uint32_t) dim, true, seed);
    HONE_ASSERT(sobol);   /* dim was checked */
    double *u = hone_alloc_array(ns * dim, sizeof(double));
    int rc = hone_sobol_next(sobol, ns, u);
    HONE_ASSERT(rc == HONE_OK);   /* ns points of a fresh sequence */
    hone_sobol_destroy(&sobol);
    for (size_t j = j0; j < j1; j++) {
        if (!self->post[j])
            continue;
        for (size_t s = 0; s < ns; s++) {
            const double *row = u + s * dim + (j - j0) * (nb + 1);
            for (size_t i = 0; i < nb; i++)
                self->zb[j][s + i * ns] = hone_special_normal_from_uniform(row[i]);
            self->zx[j][s] = hone_special_normal_from_uniform(row[nb]);
        }
    }
    hone_free(u);
}

int hone_mc_joint_set_base_samples(hone_mc_joint_set_t *self, size_t k_primary, uint64_t seed)
{
    HONE_ASSERT(self && k_primary <= self->k);
    size_t k2 = self->k - k_primary, width = self->nb + 1;
    if (k_primary > HONE_SOBOL_MAXDIM / width || k2 > HONE_SOBOL_MAXDIM / width)
        return HONE_EINVAL;
    if (k_primary > 0)
        s_block_samples(self, 0, k_primary, seed);
    if (k2 > 0)
        s_block_samples(self, k_primary, self->k, hone_rng_derive(seed, 1));
    return HONE_OK;
}

void hone_mc_joint_set_sample_baseline(const hone_mc_joint_set_t *self, size_t j, double *f)
{
    HONE_ASSERT(self && j < self->k && (self->nb == 0 || f));
    size_t ns = self->ns;
    if (!self->post[j]) {
        memset(f, 0, ns * self->nb * sizeof(double));
        return;
    }
    hone_mc_joint_sample_baseline(self->post[j], ns, self->zb[j], ns, f, ns);
}

void hone_mc_joint_set_eval(hone_mc_joint_set_t *self, size_t count, const double *x)
{
    HONE_ASSERT(self && x);
    size_t ns = self->ns;
    for (size_t j = 0; j < self->k; j++)
        if (self->post[j])
            hone_mc_joint_eval(self->post[j], count, x, ns, self->zb[j], ns, self->mean[j],
                               self->sd[j], self->f[j], ns);
}

void hone_mc_joint_set_draws(const hone_mc_joint_set_t *self, size_t i, double *y)
{
    HONE_ASSERT(self && y);
    size_t ns = self->ns;
    for (size_t j = 0; j < self->k; j++) {
        double *yj = y + j * ns;
        if (!self->post[j]) {
            memset(yj, 0, ns * sizeof(double));
            continue;
        }
        double mu = self->mean[j][i], sd = self->sd[j][i];
        const double *f = self->f[j] + i * ns, *zx = self->zx[j];
        for (size_t s = 0; s < ns; s++)
            yj[s] = mu + f[s] + sd * zx[s];
    }
}

void hone_mc_joint_set_backprop(hone_mc_joint_set_t *self, const double *ybar, double *grad)
{
    HONE_ASSERT(self && ybar && grad);
    size_t ns = self->ns;
    memset(grad, 0, self->d * sizeof(double));
    for (size_t j = 0; j < self->k; j++)
        if (self->post[j])
            hone_mc_joint_backprop(self->post[j], ns, self->zb[j], ns, self->zx[j],
                                   ybar + j * ns, grad);
}

static bool s_finite(size_t n, const double *x)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return false;
    return true;
}

int hone_mc_joint_set_values(hone_mc_joint_set_t *self, size_t n, const double *x,
                             hone_mc_joint_value_fn value, void *arg, double *out)
{
    HONE_ASSERT(self && value && (n == 0 || (x && out)));
    size_t d = self->d;
    if (!s_finite(n * d, x))
        return HONE_EINVAL;
    for (size_t start = 0; start < n; start += self->batch) {
        size_t count = n - start < self->batch ? n - start : self->batch;
        hone_mc_joint_set_eval(self, count, x + start * d);
        for (size_t i = 0; i < count; i++) {
            hone_mc_joint_set_draws(self, i, self->y);
            out[start + i] = value(arg, self->y, NULL);
        }
    }
    return HONE_OK;
}

int hone_mc_joint_set_value_grad(hone_mc_joint_set_t *self, const double *x,
                                 hone_mc_joint_value_fn value, void *arg, double *out,
                                 double *grad)
{
    HONE_ASSERT(self && x && value && out && grad);
    if (!s_finite(self->d, x))
        return HONE_EINVAL;
    hone_mc_joint_set_eval(self, 1, x);
    hone_mc_joint_set_draws(self, 0, self->y);
    *out = value(arg, self->y, self->ybar);
    hone_mc_joint_set_backprop(self, self->ybar, grad);
    return HONE_OK;
}
