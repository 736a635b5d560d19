/* acqf_parego.c: qLogNParEGO (acqf_mo.h; reference/bo-numerics.md §2.4; BoTorch's
 * acquisition/multi_objective/parego.py and utils/multi_objective/scalarization.py
 * get_chebyshev_scalarization), the acquisition Ax uses for 5 or more objectives.
 *
 * Only the scalarization is built here; the acquisition is qLogNEI on it
 * (acqf_qlognei.c), as BoTorch's qLogNParEGO is a qLogNoisyExpectedImprovement with a
 * composite objective:
 *   - weights: ctx->weights, or BoTorch's sample_simplex(m): m − 1 uniforms (from the
 *     seed) sorted, with 0 and 1 around them, and the gaps between consecutive values,
 *     a Dirichlet(1) draw (uniform on the simplex);
 *   - normalization: Y_b = the posterior means of the objectives at the observed
 *     baseline points (the context's observed points, not the pending ones), lo_j/hi_j
 *     their minimum/maximum; BoTorch normalizes −y with the bounds of −Y_b, which is
 *     ȳ_j = (hi_j − y_j)/(hi_j − lo_j). A degenerate range (below 1e-12, e.g. one observed
 *     point) is taken as 1, as BoTorch's reference-point variant does ([Y, Y + 1]); without
 *     observed points ȳ = −y (BoTorch: "no need to normalize");
 *   - h(y) = −[max_j w_j·ȳ_j + 0.05·Σ_j w_j·ȳ_j], maximized.
 * N = 128 base samples: qLogNParEGO inherits MultiObjectiveMCAcquisitionFunction's
 * default sample shape. Weights must be >= 0 (objectives are maximized here; BoTorch's
 * negative weights for minimization are the caller's negated models). */
#include "acqf_feasible.h"
#include "acqf_impl.h"

#include <math.h>
#include <string.h>

#include "alloc.h"

#define S_SAMPLES 128        /* MC samples (BoTorch's multi-objective default) */
#define S_ALPHA 0.05         /* get_chebyshev_scalarization's alpha */
#define S_MIN_RANGE 1e-12    /* a narrower normalization range is taken as 1 */
#define S_RNG_WEIGHTS 4      /* hone_rng_derive purpose of the weights (1-3: qLogNEI's) */

/* BoTorch's sample_simplex(m, n = 1, qmc = False): sorted uniforms' gaps. */
static void s_sample_simplex(size_t m, uint64_t seed, double *w)
{
    double u[HONE_ACQF_MO_MAX_OUTPUTS + 1];
    hone_rng_t rng;
    hone_rng_seed(&rng, seed);
    u[0] = 0.0;
    for (size_t i = 1; i < m; i++) {   /* insertion sort as they come */
        double v = hone_rng_uniform(&rng);
        size_t at = i;
        while (at > 1 && u[at - 1] > v) {
            u[at] = u[at - 1];
            at--;
        }
        u[at] = v;
    }
    u[m] = 1.0;
    for (size_t j = 0; j < m; j++)
        w[j] = u[j + 1] - u[j];
}

static hone_acqf_t *s_create_mo(const hone_acqf_mo_context_t *ctx)
{
    size_t d;
    if (!hone_acqf_feasible_check_context(ctx, &d) || ctx->m < 2 ||
        ctx->m + ctx->n_con_models > HONE_ACQF_MO_MAX_OUTPUTS)
        return NULL;
    size_t m = ctx->m;
    double w[HONE_ACQF_MO_MAX_OUTPUTS], lo[HONE_ACQF_MO_MAX_OUTPUTS];
    double hi[HONE_ACQF_MO_MAX_OUTPUTS], inv_range[HONE_ACQF_MO_MAX_OUTPUTS];
    if (ctx->weights) {
        double total = 0.0;
        for (size_t j = 0; j < m; j++) {
            if (!(ctx->weights[j] >= 0.0) || !isfinite(ctx->weights[j]))
                return NULL;
            total += w[j] = ctx->weights[j];
        }
        if (!(total > 0.0))
            return NULL;
    }
    else {
        s_sample_simplex(m, hone_rng_derive(ctx->seed, S_RNG_WEIGHTS), w);
    }

    size_t nc, n_obs;
    double *x = hone_acqf_feasible_baseline_points(ctx, ctx->models[0], d, &nc, &n_obs);
    double *mu = hone_alloc_array((n_obs ? n_obs : 1) * m, sizeof(double));
    double *sd = hone_alloc_array((n_obs ? n_obs : 1) * m, sizeof(double));
    bool ok = true;
    for (size_t j = 0; ok && j < m; j++)
        ok = hone_acqf_feasible_predict(ctx->models[j], n_obs, x, m, mu + j, sd + j) == HONE_OK;
    for (size_t j = 0; ok && j < m; j++) {
        if (n_obs == 0) {
            hi[j] = 0.0;
            lo[j] = -1.0;
            inv_range[j] = 1.0;
            continue;
        }
        lo[j] = INFINITY;
        hi[j] = -INFINITY;
        for (size_t i = 0; i < n_obs; i++) {
            lo[j] = fmin(lo[j], mu[i * m + j]);
            hi[j] = fmax(hi[j], mu[i * m + j]);
        }
        double range = hi[j] - lo[j];
        if (!(range >= S_MIN_RANGE)) {
            lo[j] = hi[j] - 1.0;
            range = 1.0;
        }
        inv_range[j] = 1.0 / range;
    }
    hone_free(x);
    hone_free(mu);
    hone_free(sd);
    if (!ok)
        return NULL;
    hone_acqf_chebyshev_t cheb = {.m = m, .w = w, .lo = lo, .hi = hi, .inv_range = inv_range,
                                  .alpha = S_ALPHA};
    return hone_acqf_qlognei_new_mc(ctx, &cheb, S_SAMPLES);
}

const hone_acqf_mo_type_t hone_acqf_mo_qlognparego = {
    .name = "qlognparego",
    .type = &hone_acqf_qlognei,
    .create = s_create_mo,
};
