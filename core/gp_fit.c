/* gp_fit.c: MAP fit of the GP hyperparameters (reference/bo-numerics.md §1.3).
 *
 * L-BFGS (optim.h) on −log posterior / n over φ with box bounds, from (a) the current
 * hyperparameters (warm start) and (b) the prior modes; the better MAP wins. Above
 * S_LARGE_N points (b) runs only when (a) failed or there is nothing to warm-start
 * from, and each run is capped at 50 evaluations. If neither run succeeds, up to
 * max_attempts runs from draws of the priors, stopping at the first success, as
 * BoTorch's _fit_fallback does. The runs stop at scipy's pgtol = 1e-5 as well as at
 * ftol_rel = 2.2e-9. */
#include <math.h>

#include "alloc.h"
#include "gp_internal.h"
#include "optim.h"

#define S_MAX_EVAL_SMALL 200
#define S_MAX_EVAL_LARGE 50
#define S_LARGE_N 500
#define S_MAX_ATTEMPTS 5
#define S_PGTOL 1e-5                /* scipy L-BFGS-B's default, as BoTorch runs it */
#define S_DRAW_SEED 0x5eed6a0f17u   /* prior draws when the caller gives no rng */

typedef struct {
    hone_gp_t *gp;       /* model whose objective is minimized */
    double *grad;        /* d + 2: gradient of the log posterior */
} s_fit_ctx_t;

typedef struct {
    size_t np;           /* d + 2 */
    const double *lower; /* bounds on φ */
    const double *upper;
    hone_optim_options_t optim;
    double *best_phi;    /* best successful run */
    double best_f;       /* its value (minimized: −log posterior / n) */
    double *any_phi;     /* best finite point of any run, successful or not */
    double any_f;
} s_search_t;

static double s_neg_log_posterior(const double *phi, double *grad, void *arg)
{
    s_fit_ctx_t *ctx = arg;
    double value;
    if (hone_gp_log_posterior_scratch(ctx->gp, phi, &value, grad ? ctx->grad : NULL) != HONE_OK)
        return NAN;
    if (grad) {
        size_t np = hone_gp_n_phi(ctx->gp);
        for (size_t j = 0; j < np; j++)
            grad[j] = -ctx->grad[j];
    }
    return -value;
}

/* One L-BFGS run from phi (modified). True when the optimizer succeeded. */
static bool s_run(s_search_t *search, s_fit_ctx_t *ctx, double *phi)
{
    double f = HUGE_VAL;
    int rc = hone_optim_minimize(s_neg_log_posterior, ctx, search->np, search->lower,
                                 search->upper, phi, &f, &search->optim, NULL);
    if (!isfinite(f))
        return false;
    if (f < search->any_f) {
        search->any_f = f;
        memcpy(search->any_phi, phi, search->np * sizeof *phi);
    }
    if (rc != HONE_OK)
        return false;
    if (f < search->best_f) {
        search->best_f = f;
        memcpy(search->best_phi, phi, search->np * sizeof *phi);
    }
    return true;
}

static double s_normal(hone_rng_t *rng)
{
    /* Box-Muller; 1 − U is in (0, 1]. */
    double u1 = 1.0 - hone_rng_uniform(rng), u2 = hone_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586477 * u2);
}

static void s_clamp(size_t np, double *phi, const double *lower, const double *upper)
{
    for (size_t j = 0; j < np; j++)
        phi[j] = fmin(fmax(phi[j], lower[j]), upper[j]);
}

int hone_gp_fit(hone_gp_t *self, const hone_gp_fit_options_t *opts, hone_rng_t *rng)
{
    HONE_ASSERT(self);
    hone_gp_fit_options_t defaults;
    if (!opts) {
        hone_gp_fit_options_init(&defaults);
        opts = &defaults;
    }
    size_t n = hone_gp_size(self), d = hone_gp_dim(self), np = hone_gp_n_phi(self);
    if (n == 0)
        return hone_gp_refresh(self);

    double *buf = hone_alloc_array(7 * np, sizeof(double));
    double *lower = buf, *upper = buf + np, *phi = buf + 2 * np, *start = buf + 3 * np;
    double *mode = buf + 4 * np;
    s_fit_ctx_t ctx = { .gp = self, .grad = buf + 5 * np };
    s_search_t search = {
        .np = np, .lower = lower, .upper = upper,
        .best_phi = buf + 6 * np, .best_f = HUGE_VAL,
        .any_phi = hone_alloc_array(np, sizeof(double)), .any_f = HUGE_VAL,
    };
    hone_optim_options_init(&search.optim);
    search.optim.method = HONE_OPTIM_LBFGS;
    search.optim.pgtol = S_PGTOL;
    search.optim.max_eval = opts->max_eval > 0 ? opts->max_eval
                            : n > S_LARGE_N ? S_MAX_EVAL_LARGE : S_MAX_EVAL_SMALL;

    hone_gp_bounds(self, lower, upper);
    hone_gp_get_phi(self, start);
    s_clamp(np, start, lower, upper);
    hone_gp_prior_mode(self, mode);
    s_clamp(np, mode, lower, upper);

    bool ok = false, warm = false;
    if (opts->warm_start && memcmp(start, mode, np * sizeof *mode) != 0) {
        memcpy(phi, start, np * sizeof *phi);
        ok = warm = s_run(&search, &ctx, phi);
    }
    /* Above S_LARGE_N points one evaluation costs tens of ms (dpotrf + dpotri): the
     * prior-mode start is then only a fallback for a failed or missing warm start
     * (reference/bo-numerics.md §1.5, "warm start and few iterations"). */
    if (!(warm && n > S_LARGE_N)) {
        memcpy(phi, mode, np * sizeof *phi);
        ok |= s_run(&search, &ctx, phi);
    }

    if (!ok) {
        hone_rng_t local;
        if (!rng) {
            hone_rng_seed(&local, S_DRAW_SEED);
            rng = &local;
        }
        int attempts = opts->max_attempts > 0 ? opts->max_attempts : S_MAX_ATTEMPTS;
        double mu = hone_gp_prior_ls_mu(d);
        for (int t = 0; t < attempts && !ok; t++) {
            for (size_t a = 0; a < d; a++)
                phi[a] = mu + HONE_GP_LS_SIGMA * s_normal(rng);
            phi[d] = HONE_GP_NOISE_MU + HONE_GP_NOISE_SIGMA * s_normal(rng);
            phi[d + 1] = 0.0;
            s_clamp(np, phi, lower, upper);
            ok = s_run(&search, &ctx, phi);
        }
    }

    int status = HONE_OK;
    if (ok)
        hone_gp_set_phi(self, search.best_phi);
    else {
        /* Every run failed: keep the best point that factorized, if any. */
        status = HONE_ENUMERIC;
        if (search.any_f < HUGE_VAL)
            hone_gp_set_phi(self, search.any_phi);
    }
    int rc = hone_gp_refresh(self);
    if (rc != HONE_OK && search.any_f < HUGE_VAL && ok) {
        /* The best MAP point should factorize (the objective did); be safe anyway. */
        hone_gp_set_phi(self, search.any_phi);
        rc = hone_gp_refresh(self);
    }
    if (rc != HONE_OK)
        status = rc;
    hone_gp_release_workspace(self);
    hone_free(search.any_phi);
    hone_free(buf);
    return status;
}
