/* mc_joint.c: joint posterior draws of one GP at a fixed baseline and at candidates, with
 * a cached root decomposition (mc_joint.h; reference/bo-numerics.md §2.2).
 *
 * The algebra is qLogNEI's (acqf_qlognei.c), for any number of draws and with the draws'
 * adjoints supplied by the caller. Reverse mode: with ȳ_s = ∂L/∂(draw s),
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
