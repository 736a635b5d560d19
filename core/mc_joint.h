/* mc_joint.h: Monte-Carlo draws of one GP's posterior jointly at a fixed baseline X_b and
 * at candidate points, with a cached root decomposition (reference/bo-numerics.md §2.2,
 * "Cached root"; BoTorch's cache_root=True). Shared by the Monte-Carlo acquisitions that
 * need joint draws of f(X_b) and f(x) (qLogNEI and qLogNParEGO, qLogNEHVI, qLogPF with
 * pending points; one object per model, gathered in a set below); internal to core, not
 * installed.
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

/* ---- A set of outputs drawn together, with fixed base samples ------------------------
 *
 * The Monte-Carlo acquisitions draw several independent GPs (objectives, constraint
 * metrics) jointly at one baseline and a candidate, always with the same ns base samples.
 * A set holds one cached root per output, the outputs' base samples and the per-batch
 * candidate results, so that each acquisition only combines the draws.
 *
 * Base samples (hone_mc_joint_set_base_samples): the outputs are split into a primary
 * block [0, k_primary) (the objectives) and a secondary block [k_primary, k) (the
 * constraint metrics). Each block takes one scrambled Sobol sequence of dimension
 * (outputs in the block)·(nb + 1): output j of the block has coordinates j·(nb + 1) ..
 * j·(nb + 1) + nb − 1 for the baseline and j·(nb + 1) + nb for the candidate (BoTorch's
 * SobolQMCNormalSampler over the joint outputs, per block), mapped to normals with
 * hone_special_normal_from_uniform. The primary block is seeded with seed, the secondary
 * one with hone_rng_derive(seed, 1): adding constraint metrics leaves the objectives'
 * samples unchanged (the two blocks are independent randomized QMC point sets, so the
 * estimate stays unbiased; BoTorch uses one sequence for all outputs).
 *
 * Draws are stored output-major: y[j·ns + s] is draw s of output j. An output whose
 * model is NULL is not drawn (its draws are 0 and backprop skips it): outputs that no
 * term of the acquisition reads. hone_mc_joint_set_values and _value_grad run the
 * acquisition's per-candidate function over the draws (its eval and eval_grad). */
typedef struct _hone_mc_joint_set_t hone_mc_joint_set_t;

/* k >= 1 outputs, models[j] borrowed or NULL, at the nb baseline points xb (rows of d;
 * nb may be 0), for batches of up to max_batch candidates and ns base samples. NULL
 * when a model is not factorized or has no data, when the models' dimensions differ, or
 * when a baseline covariance does not factorize (as hone_mc_joint_new). Aborts on
 * out-of-memory. Allocates everything eval, draws and backprop need. */
hone_mc_joint_set_t *hone_mc_joint_set_new(size_t k, const hone_gp_t *const *models, size_t nb,
                                           const double *xb, size_t ns, size_t max_batch);
/* Frees self and sets *self_p to NULL; NULL and a NULL *self_p are no-ops. */
void hone_mc_joint_set_destroy(hone_mc_joint_set_t **self_p);

/* The cached root of output j (NULL when the output is not drawn), for draws with other
 * normals (the pruning draws). Borrowed: valid while the set lives. */
hone_mc_joint_t *hone_mc_joint_set_output(const hone_mc_joint_set_t *self, size_t j);

/* Draws the fixed base samples (see above). HONE_EINVAL, nothing drawn, when a block's
 * dimension exceeds HONE_SOBOL_MAXDIM (21201, BoTorch's limit too). */
int hone_mc_joint_set_base_samples(hone_mc_joint_set_t *self, size_t k_primary, uint64_t seed);

/* Draws of output j at the baseline with the base samples: f (ns×nb, ld ns). Zeros for
 * an output not drawn. Cannot fail; the base samples must have been drawn. */
void hone_mc_joint_set_sample_baseline(const hone_mc_joint_set_t *self, size_t j, double *f);

/* The candidate part for count (1..max_batch) candidates x (rows of d, finite): every
 * drawn output's hone_mc_joint_eval with its base samples. Never allocates. */
void hone_mc_joint_set_eval(hone_mc_joint_set_t *self, size_t count, const double *x);
/* The draws at candidate i (< count) of the last eval: y[j·ns + s] (k×ns values). */
void hone_mc_joint_set_draws(const hone_mc_joint_set_t *self, size_t i, double *y);
/* Reverse mode through the last eval's candidate 0: ybar[j·ns + s] = ∂L/∂y[j·ns + s];
 * WRITES ∂L/∂x (d values) to grad. Never allocates. */
void hone_mc_joint_set_backprop(hone_mc_joint_set_t *self, const double *ybar, double *grad);

/* What a Monte-Carlo acquisition computes from the draws at one candidate: its value from
 * y (k×ns, y[j·ns + s]) and, when ybar is not NULL, ∂value/∂y written to ybar (k×ns, all
 * of it). arg is the acquisition's. Called on the caller's thread, within the calls
 * below. */
typedef double (*hone_mc_joint_value_fn)(void *arg, const double *y, double *ybar);

/* The values at n candidates x (rows of d): batch by batch, the set's eval, then
 * out[i] = value(arg, draws at candidate i, NULL). HONE_EINVAL, nothing computed, when
 * an x is not finite. Never allocates (the draws live in the set). */
int hone_mc_joint_set_values(hone_mc_joint_set_t *self, size_t n, const double *x,
                             hone_mc_joint_value_fn value, void *arg, double *out);
/* The value (*out) and its gradient (grad, d values) at one candidate x: the draws,
 * value(arg, y, ybar), then backprop. HONE_EINVAL when x is not finite. Never
 * allocates. */
int hone_mc_joint_set_value_grad(hone_mc_joint_set_t *self, const double *x,
                                 hone_mc_joint_value_fn value, void *arg, double *out,
                                 double *grad);

#endif
