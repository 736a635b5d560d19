/* mc_joint.h: Monte-Carlo draws of one GP's posterior jointly at a fixed baseline X_b and
 * at candidate points, with a cached root decomposition (reference/bo-numerics.md §2.2,
 * "Cached root"; BoTorch's cache_root=True). Shared by the Monte-Carlo acquisitions that
 * need joint draws of f(X_b) and f(x) for several models (qLogNEHVI, one object per
 * objective); internal to core, not installed.
 *
 * With L the factor of the model's K (noise included), V_b = L⁻¹K(X, X_b) and
 * L_bb = chol(K(X_b, X_b) − V_bᵀV_b) (jittered when needed), a draw with standard normals
 * (z_b, z_x) is
 *     f_b = μ_b + L_bb·z_b,        f_x = μ_x + c_xᵀz_b + s_x·z_x,
 *     c_x = L_bb⁻¹Σ_bx,  Σ_bx = K(X_b, x) − V_bᵀL⁻¹k(x),  s_x² = 1 − |L⁻¹k(x)|² − |c_x|²,
 * which is exactly the joint posterior of (f(X_b), f(x)) (the kernel has unit signal
 * variance). The baseline part does not depend on x, so it is drawn once; per batch of
 * candidates the cost is one trsm (n²·count), one gemm (n·nb·count), one trsm
 * (nb²·count) and one gemm for all the draws at once (ns·nb·count), plus the kernel
 * rows (n·d·count). s_x² is floored at 1e-10 (the GP's variance floor); below it the
 * gradient through s_x is zero.
 *
 * Storage: points are rows of d doubles in the unit cube; matrices column-major.
 * Memory: everything is allocated by hone_mc_joint_new (about n·nb + nb² + (n + nb)·batch
 * doubles); eval and backprop never allocate.
 * Threads: an object is not synchronized (eval keeps its scratch inside); the model is
 * borrowed and must not change while the object lives. */
#ifndef HONE_MC_JOINT_H
#define HONE_MC_JOINT_H

#include "err.h"
#include "gp.h"

typedef struct _hone_mc_joint_t hone_mc_joint_t;

/* Prepares joint draws of model at the nb baseline points xb (rows of d; nb may be 0),
 * for batches of up to max_batch >= 1 candidates. Returns NULL when the model is not
 * factorized or has no data, or when the baseline covariance does not factorize even
 * with the largest jitter (HONE_ENUMERIC in linalg; duplicated baseline points are fine:
 * the jitter absorbs them). Aborts on out-of-memory (core policy). */
hone_mc_joint_t *hone_mc_joint_new(const hone_gp_t *model, size_t nb, const double *xb,
                                   size_t max_batch);
/* Frees self and sets *self_p to NULL; NULL and a NULL *self_p are no-ops. */
void hone_mc_joint_destroy(hone_mc_joint_t **self_p);

/* The number of baseline points, and their posterior means μ_b (nb values, valid while
 * the object lives). */
size_t hone_mc_joint_baseline_size(const hone_mc_joint_t *self);
const double *hone_mc_joint_baseline_mean(const hone_mc_joint_t *self);

/* Draws at the baseline: f (ns×nb, ld ldf >= ns) = 1·μ_bᵀ + Z·L_bbᵀ for the ns rows of z
 * (ns×nb, ld ldz >= ns), i.e. row s of f is the draw of f(X_b) for the normals in row s
 * of z. Nothing to do when nb = 0. Cannot fail. */
void hone_mc_joint_sample_baseline(const hone_mc_joint_t *self, size_t ns, const double *z,
                                   size_t ldz, double *f, size_t ldf);

/* The candidate part of the draws at count (1..max_batch) points x (rows of d): mean[i]
 * = μ_x, sd[i] = s_x (floored as above) and f (ns×count, ld ldf >= ns) = Z·C with
 * C = [c_x1 .. c_xcount], so that with the same baseline normals z (as in
 * sample_baseline) and candidate normals z_x, draw s at candidate i is
 *     mean[i] + f[s + i·ldf] + sd[i]·z_x[s].
 * Keeps what backprop needs about candidate 0. x must be finite (the caller checks).
 * Never allocates; cannot fail. */
void hone_mc_joint_eval(hone_mc_joint_t *self, size_t count, const double *x, size_t ns,
                        const double *z, size_t ldz, double *mean, double *sd, double *f,
                        size_t ldf);

/* Reverse mode through the last eval's candidate 0: given ybar[s] = ∂L/∂(draw s at the
 * candidate) for the ns draws made with z (ns×nb, ld ldz) and zx (ns), ADDS ∂L/∂x (d
 * values) to grad. O(n² + n·nb + nb² + ns·nb + (n + nb)·d). Never allocates; cannot
 * fail. */
void hone_mc_joint_backprop(hone_mc_joint_t *self, size_t ns, const double *z, size_t ldz,
                            const double *zx, const double *ybar, double *grad);

#endif
