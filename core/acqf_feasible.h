/* acqf_feasible.h: what the Monte-Carlo acquisitions over several models share
 * (acqf_qlognei.c, acqf_qlognehvi.c, acqf_parego.c, acqf_feasible.c): the checks of a
 * hone_acqf_mo_context_t, its baseline points, its outcome constraints evaluated on
 * joint draws with BoTorch's smoothed feasibility indicator (reference/bo-numerics.md
 * §2.3), and the entry of the qLogNEI implementation that qLogNParEGO builds on.
 * Internal to those files: not for the callers of acqf.h or acqf_mo.h.
 *
 * Outputs. An acquisition draws output j = objective j's model for j < m, then the
 * constraint models (output m + i = con_models[i]); draws are stored output-major,
 * y[j·stride], so that one sample of a k×N draw matrix is y + s with stride N. */
#ifndef HONE_ACQF_FEASIBLE_H
#define HONE_ACQF_FEASIBLE_H

#include <math.h>

#include "acqf_mo.h"

#define HONE_ACQF_ETA 1e-3   /* BoTorch's eta: the fatmoid's temperature */

/* The outcome constraints of a context: g_k(y) = Σ_j a[k·n_out + j]·y_j − b[k]. */
typedef struct hone_acqf_feasible {
    size_t n_con;     /* constraints (0: the other fields are unused) */
    size_t n_out;     /* outputs: m + n_con_models */
    double *a;        /* n_con × n_out, row-major (owned) */
    double *b;        /* n_con (owned) */
    bool *used;       /* n_out: a constraint reads output j (owned) */
} hone_acqf_feasible_t;

/* Checks the fields every multi-output acquisition reads: models[0..m) non-NULL,
 * factorized, with data and of one dimension (written to *d; m = 0 leaves the dimension
 * to the constraint models); pending and baseline points present and finite. With
 * constraints (n_con > 0) also the constraint models (same checks, same dimension),
 * con_bounds present and finite, con_weights finite or NULL with n_con == n_con_models,
 * and m + n_con_models <= HONE_ACQF_MO_MAX_OUTPUTS. False when anything is wrong or no
 * model gives the dimension. */
bool hone_acqf_feasible_check_context(const hone_acqf_mo_context_t *ctx, size_t *d);

/* Copies the constraints of a checked context (nothing to free when n_con = 0). */
void hone_acqf_feasible_init(hone_acqf_feasible_t *self, const hone_acqf_mo_context_t *ctx);
/* Frees the copies; the struct may be initialized again. */
void hone_acqf_feasible_release(hone_acqf_feasible_t *self);

/* The output models of a context for hone_mc_joint_set_new: k = m + n_con_models entries;
 * objectives always (unless objectives is false: then only when a constraint reads them),
 * constraint models when a constraint reads them, NULL otherwise. */
void hone_acqf_feasible_outputs(const hone_acqf_feasible_t *self,
                                const hone_acqf_mo_context_t *ctx, bool objectives,
                                const hone_gp_t **out);

/* The points the baseline starts from: the context's observed points (ctx->baseline, or
 * the training inputs of model_for_inputs), then the pending points. Returns an array of
 * *n_points rows of d (at least one row allocated; free with hone_free); *n_observed
 * receives the number of observed rows. */
double *hone_acqf_feasible_baseline_points(const hone_acqf_mo_context_t *ctx,
                                           const hone_gp_t *model_for_inputs, size_t d,
                                           size_t *n_points, size_t *n_observed);

/* Posterior means and standard deviations of model at n points (rows of d), written with
 * stride (mu[i·stride], sd[i·stride]), in chunks. HONE_ENUMERIC or HONE_ESTATE from
 * hone_gp_predict. */
int hone_acqf_feasible_predict(const hone_gp_t *model, size_t n, const double *x,
                               size_t stride, double *mu, double *sd);
/* The same for the k outputs (NULL ones skipped): output j into mu + j and sd + j, rows
 * of k (mu[i·k + j]). */
int hone_acqf_feasible_predict_outputs(const hone_gp_t *const *outputs, size_t k, size_t n,
                                       const double *x, double *mu, double *sd);

/* True when every constraint holds (g_k <= 0) at the outputs y[j·stride]: BoTorch's
 * compute_feasibility_indicator. True without constraints. */
bool hone_acqf_feasible_ok(const hone_acqf_feasible_t *self, const double *y, size_t stride);

/* The smoothed feasibility W = Π_k fatmoid(−g_k/η) at the outputs y[j·stride], in linear
 * space (BoTorch's compute_smoothed_feasibility_indicator, fat=True, exponentiated). With
 * dlog not NULL, dlog[j·dstride] = ∂ log W/∂y_j for every output (0 for the unread
 * ones). 1 without constraints. May underflow to 0 (below about 1e-308): then use
 * hone_acqf_feasible_log_weight. */
double hone_acqf_feasible_weight(const hone_acqf_feasible_t *self, const double *y,
                                 size_t stride, double *dlog, size_t dstride);
/* log W, with the same dlog, without underflow (−inf only past |g/η| ≈ 1e154). */
double hone_acqf_feasible_log_weight(const hone_acqf_feasible_t *self, const double *y,
                                     size_t stride, double *dlog, size_t dstride);

/* The bounds of g_k at a point from the outputs' posterior means and standard deviations
 * (mu[j·stride], sd[j·stride]; independent outputs): true when μ_g + z·σ_g <= 0 for every
 * k (z = 4: "surely feasible" for the pre-filters). True without constraints. */
bool hone_acqf_feasible_surely(const hone_acqf_feasible_t *self, const double *mu,
                               const double *sd, size_t stride, double z);

/* BoTorch's fatmoid(x) = (2/3)/(1 + (x − 1/√3)²) for x < 0, 1 − (2/3)/(1 + (x + 1/√3)²)
 * otherwise (safe_math.py): a C² step with a fat left tail, 1/2 at 0. With dlog not
 * NULL it receives d log fatmoid/dx. */
static inline double hone_acqf_feasible_fatmoid(double x, double *dlog)
{
    const double m = 0.57735026918962576451;   /* 1/√3, the inflection point */
    if (x < 0.0) {
        double u = x - m, c = 1.0 / (1.0 + u * u);
        if (dlog)
            *dlog = -2.0 * u * c;
        return (2.0 / 3.0) * c;
    }
    double u = x + m, c = 1.0 / (1.0 + u * u), f = 1.0 - (2.0 / 3.0) * c;
    if (dlog)
        *dlog = (4.0 / 3.0) * u * c * c / f;
    return f;
}

/* log fatmoid(x) without underflow, and its derivative in dlog (nullable). */
static inline double hone_acqf_feasible_log_fatmoid(double x, double *dlog)
{
    const double m = 0.57735026918962576451;
    if (x < 0.0) {
        double u = x - m;
        if (dlog)
            *dlog = -2.0 * u / (1.0 + u * u);
        return -0.40546510810816438198 - log1p(u * u);   /* log(2/3) − log(1 + u²) */
    }
    double u = x + m, c = 1.0 / (1.0 + u * u);
    if (dlog)
        *dlog = (4.0 / 3.0) * u * c * c / (1.0 - (2.0 / 3.0) * c);
    return log1p(-(2.0 / 3.0) * c);
}

/* ---- the qLogNEI implementation (acqf_qlognei.c) -------------------------------- */

/* The augmented Chebyshev scalarization of qLogNParEGO (acqf_mo.h):
 * h(y) = −[max_j w_j·(hi_j − y_j)·inv_range_j + alpha·Σ_j w_j·(hi_j − y_j)·inv_range_j]. */
typedef struct hone_acqf_chebyshev {
    size_t m;                   /* objectives, >= 2 */
    const double *w;            /* m weights >= 0 */
    const double *lo, *hi;      /* m: normalization bounds (lo for the diagnostics) */
    const double *inv_range;    /* m: 1/(hi − lo), or 1 for a degenerate range */
    double alpha;               /* 0.05 */
} hone_acqf_chebyshev_t;

/* qLogNEI over a checked context: on objective output 0 when cheb is NULL (ctx->m must
 * then be 1), or on h(y) of the m objectives when given (copied); with the context's
 * constraints; n_samples base samples (512 for qLogNEI, 128 for qLogNParEGO). NULL when
 * the baseline is empty, a prediction fails or a baseline covariance does not factorize.
 * The object's table is hone_acqf_qlognei. */
hone_acqf_t *hone_acqf_qlognei_new_mc(const hone_acqf_mo_context_t *ctx,
                                      const hone_acqf_chebyshev_t *cheb, size_t n_samples);

#endif
