/* gp.h: a Gaussian-process regression model for one metric, BoTorch's defaults
 * (reference/bo-numerics.md §1): inputs in the unit cube, outputs standardized by the
 * caller, RBF-ARD (or Matern-5/2) with unit signal variance, lengthscale prior
 * LogNormal(√2 + ½ ln d, √3) with ℓ >= 0.025, inferred noise with prior LogNormal(−4, 1)
 * and σ² >= 1e-4 (or fixed per-point noise when variances are given), constant mean.
 * MAP fit over φ = (log ℓ_1..d, log σ², c) with analytic gradients and L-BFGS.
 *
 * Storage: points are rows of d doubles (x[i*d + a]); matrices inside are column-major.
 * Memory: the model owns its buffers, grown by small steps (the n_cap×n_cap factor is the
 * largest: about n² doubles between fits, twice that during a fit); prediction takes a
 * caller workspace so that hot loops never allocate.
 * Threads: a fitted model may be read (predict) from several threads at once, each with
 * its own workspace; fit/set_data/append need exclusive access. */
#ifndef HONE_GP_H
#define HONE_GP_H

#include "err.h"
#include "rng.h"

typedef enum { HONE_KERNEL_RBF = 0, HONE_KERNEL_MATERN52 = 1 } hone_kernel_kind_t;

typedef struct _hone_gp_t hone_gp_t;
typedef struct _hone_gp_work_t hone_gp_work_t;

typedef struct hone_gp_fit_options {
    int max_eval;           /* per L-BFGS run; 0 = default (200, 50 when n > 500) */
    int max_attempts;       /* runs from prior draws after the warm and prior-mode starts fail; 0 = 5 */
    bool warm_start;        /* also start from the current hyperparameters (default true) */
} hone_gp_fit_options_t;

void hone_gp_fit_options_init(hone_gp_fit_options_t *opts);

/* A model over d >= 1 inputs. Aborts on OOM (core policy). */
hone_gp_t *hone_gp_new(size_t d, hone_kernel_kind_t kernel);
void hone_gp_destroy(hone_gp_t **self_p);
size_t hone_gp_dim(const hone_gp_t *self);
size_t hone_gp_size(const hone_gp_t *self);          /* training points */

/* Replaces the training data: n points x (n×d), standardized targets y, and either
 * yvar == NULL (noise inferred) or per-point noise variances (fixed noise, >= 0).
 * Keeps the hyperparameters (warm start). Does not factorize: call fit or refresh. */
int hone_gp_set_data(hone_gp_t *self, size_t n, const double *x, const double *y,
                     const double *yvar);

/* MAP fit of the hyperparameters, then factorization. HONE_ENUMERIC only when every
 * attempt failed (the model keeps the last hyperparameters that factorized). */
int hone_gp_fit(hone_gp_t *self, const hone_gp_fit_options_t *opts, hone_rng_t *rng);
/* Factorizes with the current hyperparameters (no fit), with growing jitter. */
int hone_gp_refresh(hone_gp_t *self);
/* Adds one point without refitting: rank-1 Cholesky append, O(n²); falls back to a
 * full refactorization when the new pivot is not safely positive. yvar < 0 with
 * inferred noise. Errors: HONE_EINVAL (x or y not finite, or a missing or invalid yvar
 * with fixed noise), HONE_ENUMERIC (the fallback refactorization failed: the model is
 * then not factorized). */
int hone_gp_append(hone_gp_t *self, const double *x, double y, double yvar);
/* Drops the points after the first n (n <= size), keeping the hyperparameters and the
 * factorization: the leading n×n block of L is the factor of the leading block of K, so
 * only α is solved again, O(n²). When the points dropped needed the jitter of the last
 * full factorization, the n points are refactorized instead (O(n³), as refresh). After
 * appends, truncating to the size before them restores that model's predictions
 * exactly. HONE_ENUMERIC only from that refactorization; an unfactorized model just
 * loses the points. */
int hone_gp_truncate(hone_gp_t *self, size_t n);
/* Whether the model is factorized (ready to predict) for its data and hyperparameters. */
bool hone_gp_factorized(const hone_gp_t *self);

/* Hyperparameters: lengthscales (d), noise variance (inferred case), mean constant. */
void hone_gp_get_params(const hone_gp_t *self, double *lengthscales, double *noise, double *mean);
void hone_gp_set_params(hone_gp_t *self, const double *lengthscales, double noise, double mean);
/* The MAP objective in φ coordinates (log posterior up to a constant, divided by n as
 * BoTorch does) and its gradient (d + 2 values, or d + 1 with fixed noise: the noise
 * entry is then 0). For tests and diagnostics. HONE_ENUMERIC if K does not factorize. */
int hone_gp_log_posterior(hone_gp_t *self, const double *phi, double *value, double *grad);
size_t hone_gp_n_phi(const hone_gp_t *self);          /* d + 2 */
double hone_gp_jitter(const hone_gp_t *self);         /* jitter used in the last factorization */

/* Workspace for prediction of up to max_batch points at once. */
hone_gp_work_t *hone_gp_work_new(const hone_gp_t *self, size_t max_batch);
void hone_gp_work_destroy(hone_gp_work_t **work_p);

/* Posterior mean and variance (of f, without noise; variance clamped at >= 1e-10) at m
 * points (m <= max_batch of work; one dtrsm per chunk of the batch: a chunk is as many
 * points as 2 MB of k block holds, 262 at n = 1000). The work must have been made for
 * this model; it is regrown on demand when the model has grown since (so a workspace is
 * not shared between threads while its model grows). */
int hone_gp_predict(const hone_gp_t *self, size_t m, const double *x, double *mean,
                    double *var, hone_gp_work_t *work);
/* Closed-form leave-one-out predictions at the n training points (Rasmussen & Williams
 * eq. 5.12): mean[i] = y_i − α_i/[K⁻¹]_ii and var[i] = 1/[K⁻¹]_ii, the predictive
 * variance of the held-out observation y_i (noise included) from the other n − 1 points
 * with the hyperparameters kept. K is the factorized matrix (noise and jitter included).
 * O(n³) once: the diagonal of K⁻¹ comes from one triangular inverse (allocated here).
 * HONE_ESTATE when the model is not factorized, HONE_EDATA with fewer than 2 points. */
int hone_gp_loo(const hone_gp_t *self, double *mean, double *var);
/* Mean and variance at one point with their gradients with respect to x (d values each). */
int hone_gp_predict_grad(const hone_gp_t *self, const double *x, double *mean, double *var,
                         double *dmean, double *dvar, hone_gp_work_t *work);

#endif
