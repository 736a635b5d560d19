/* kernel.h: stationary ARD covariance functions with unit signal variance
 * (reference/bo-numerics.md §1.1), as a type table (CONVENTIONS.md §20).
 *
 * A kernel is κ(r²) with r² = Σ_a ((x_a − z_a)/ℓ_a)². Everything here works on SCALED
 * points u = (x − x0)/ℓ (any fixed x0; the GP uses 0.5 so that the norms stay small),
 * stored d×n column-major: point i at u + i*d. The squared distances come from the
 * norms and one dsyrk/dgemm: r²_ik = |u_i|² + |u_k|² − 2·u_iᵀu_k (clamped at 0), so no
 * n²·d storage and one BLAS-3 call per matrix.
 *
 * Derivatives use h = −2·dκ/dr², so that
 *     ∂k/∂log ℓ_a = h·r²_a        and        ∂k/∂x_a = −h·(x_a − z_a)/ℓ_a².
 * Pure functions of their arguments; thread-safe. */
#ifndef HONE_KERNEL_H
#define HONE_KERNEL_H

#include "hone_prelude.h"

typedef struct hone_kernel_type {
    const char *name;                  /* "rbf", "matern52" */
    /* k[i] = κ(r2[i]), i < n; k may equal r2 (in place). */
    void (*eval)(size_t n, const double *r2, double *k);
    /* h[i] = −2·κ′(r2[i]); k (nullable) holds κ(r2[i]) when the caller has it, which
     * saves an exp. h may equal r2 or k. */
    void (*dfactor)(size_t n, const double *r2, const double *k, double *h);
    bool dfactor_is_k;                 /* h == k (RBF): the lower triangle of K is h */
} hone_kernel_type_t;

extern const hone_kernel_type_t hone_kernel_rbf;
extern const hone_kernel_type_t hone_kernel_matern52;

/* u (d×n) = (x − 0.5)/ℓ for n points x (rows of d) given inv_ls = 1/ℓ; s[i] = |u_i|². */
void hone_kernel_scale(size_t n, size_t d, const double *x, const double *inv_ls, double *u,
                       double *s);

/* Lower triangle (with the diagonal) of K(X, X), n×n with ld ldk, from the scaled points
 * u and their norms s. The diagonal is κ(0) = 1 exactly. The strict upper triangle is
 * not touched. */
void hone_kernel_gram(const hone_kernel_type_t *type, size_t n, size_t d, const double *u,
                      const double *s, double *k, size_t ldk);
/* Squared scaled distances only (lower triangle, zero diagonal). */
void hone_kernel_gram_r2(size_t n, size_t d, const double *u, const double *s, double *r2,
                         size_t ldr);

/* r2 (n×m, ld ldr) = squared scaled distances between the n points u (norms s) and the m
 * points v (norms t). */
void hone_kernel_cross_r2(size_t n, size_t m, size_t d, const double *u, const double *s,
                          const double *v, const double *t, double *r2, size_t ldr);
/* K(U, V), n×m with ld ldk. */
void hone_kernel_cross(const hone_kernel_type_t *type, size_t n, size_t m, size_t d,
                       const double *u, const double *s, const double *v, const double *t,
                       double *k, size_t ldk);

/* Gradient of ½·tr(W·∂K/∂log ℓ_a), a < d, with W = ααᵀ − K⁻¹, written to grad (d):
 *     grad_a = ½ Σ_{i,k} W_ik·h_ik·r²_a,ik
 *            = Σ_i u_ai²·(M·1)_i − Σ_i u_ai·(U·M)_ai,   M_ik = W_ik·h_ik (i ≠ k),
 * i.e. one O(n²) pass over the lower triangle and one dsymm (no n²·d storage).
 * kf: the lower triangle of K(X, X) as made by hone_kernel_gram (its diagonal may include
 * noise); it is DESTROYED (it receives M). kinv: lower triangle of K⁻¹ (only the strict
 * lower part is read). Workspace: rowsum (n), um (d×n). */
void hone_kernel_lengthscale_grad(const hone_kernel_type_t *type, size_t n, size_t d,
                                  const double *u, const double *s, double *kf, size_t ldk,
                                  const double *alpha, const double *kinv, size_t ldkinv,
                                  double *rowsum, double *um, double *grad);

#endif
