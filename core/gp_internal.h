/* gp_internal.h: what gp.c shares with gp_fit.c (and the tests): the prior and bound
 * constants of reference/bo-numerics.md §1.1 and §1.3, and access to φ. Not part of the
 * gp.h contract. */
#ifndef HONE_GP_INTERNAL_H
#define HONE_GP_INTERNAL_H

#include "gp.h"
#include "kernel.h"

#define HONE_GP_LS_SIGMA 1.73205080756887729353   /* √3 */
#define HONE_GP_NOISE_MU (-4.0)
#define HONE_GP_NOISE_SIGMA 1.0
#define HONE_GP_LS_MIN 0.025       /* ℓ >= 0.025 */
#define HONE_GP_LS_MAX 1e4
#define HONE_GP_NOISE_MIN 1e-4     /* MIN_INFERRED_NOISE_LEVEL */
#define HONE_GP_NOISE_MAX 10.0
#define HONE_GP_MEAN_MAX 10.0      /* |c| <= 10 on standardized targets */

/* μ of the lengthscale prior, √2 + ½·ln d. */
double hone_gp_prior_ls_mu(size_t d);
/* φ at the prior modes: log ℓ = μ − 3, log σ² = −5, c = 0 (d + 2 values). */
void hone_gp_prior_mode(const hone_gp_t *self, double *phi);
/* Box bounds on φ (d + 2 values each). With fixed noise the noise entry is pinned at its
 * current value. */
void hone_gp_bounds(const hone_gp_t *self, double *lower, double *upper);
/* Copies φ out / in (d + 2 values); set_phi invalidates the factorization. */
void hone_gp_get_phi(const hone_gp_t *self, double *phi);
void hone_gp_set_phi(hone_gp_t *self, const double *phi);
bool hone_gp_fixed_noise(const hone_gp_t *self);
/* hone_gp_log_posterior without restoring the prediction factor afterwards: the objective
 * builds K in the factor's buffer, so the model is not factorized after it (the fit ends
 * with a refresh). */
int hone_gp_log_posterior_scratch(hone_gp_t *self, const double *phi, double *value, double *grad);
/* Calls of hone_gp_log_posterior so far (fits included): for benchmarks and tests. */
uint64_t hone_gp_eval_count(const hone_gp_t *self);
/* Frees the MAP objective's workspace (reallocated by the next log_posterior). */
void hone_gp_release_workspace(hone_gp_t *self);

/* Read-only view of a factorized model, for acquisitions that need more than the
 * posterior mean and variance (qLogNEI's cached root works with L⁻¹k directly). The
 * pointers are borrowed and valid until the model next changes. */
typedef struct hone_gp_view {
    size_t n, d;
    const hone_kernel_type_t *kernel;
    const double *l;         /* Cholesky factor of K (noise and jitter included), ld ldl:
                              * its lower triangle (the strict upper one is unspecified) */
    size_t ldl;
    const double *alpha;     /* K⁻¹(y − c) */
    const double *u;         /* d×n scaled training points, (x − 0.5)/ℓ */
    const double *s;         /* n: |u_i|² */
    const double *inv_ls;    /* d: 1/ℓ */
    double mean;             /* the constant mean c */
} hone_gp_view_t;
/* HONE_ESTATE when the model is not factorized. */
int hone_gp_view(const hone_gp_t *self, hone_gp_view_t *view);

#endif
