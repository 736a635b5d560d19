/* Unit tests for core/acqf_feasible.c (outcome constraints on Monte-Carlo draws, qLogPF)
 * and the feasibility-weighted qLogNEI of core/acqf_qlognei.c (hone_acqf_mo_qlognei).
 *
 * References independent of the implementation: qLogPF against the closed form
 * log Π_k Φ(−μ_g/σ_g) of independent Gaussian constraints (single metrics, a ">=" bound,
 * a sum of two metrics); constrained qLogNEI against plain Monte Carlo over the exact
 * joint posteriors of the objective and constraint GPs (mc_check.h), where the best
 * baseline value of each draw is taken over the points feasible in that draw; a wrong
 * reference that ignores the baseline's feasibility must fail the same tolerance.
 * Also: the analytic gradients against central differences, the limits (a bound far away
 * gives the unconstrained qLogNEI value for value; a surely violated constraint a very
 * low value), BoTorch's infeasible value when no baseline point is feasible, qLogPF with
 * pending points, rejected contexts and the cost per evaluation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acqf.h"
#include "acqf_mo.h"
#include "gp.h"
#include "rng.h"
#include "sobol.h"
#include "special.h"
#include "test_support.h"
#include "acqf_check.h"
#include "mc_check.h"

#define S_MAXD 8
#define S_MAXN 64
#define S_NCON 2

/* An objective and two constraint metrics on the same n points of [0,1]^d, standardized,
 * each with its own GP (fixed RBF hyperparameters, or fitted). The objective grows with
 * x0 and the constraint metrics too, so the best observed points tend to be infeasible
 * for "c <= 0". */
typedef struct {
    size_t d, n;
    double x[S_MAXN * S_MAXD];
    double yf[S_MAXN], yc[S_NCON][S_MAXN];
    double ls_f, ls_c[S_NCON], noise_f, noise_c;
    hone_gp_t *f, *c[S_NCON];
} s_problem_t;

static double s_objective(const double *x, size_t d)
{
    double v = 1.5 * x[0] + 0.3 * sin(5.0 * x[1 % d]);
    for (size_t a = 2; a < d; a++)
        v += 0.2 * cos(3.0 * x[a]);
    return v;
}

static double s_constraint(size_t k, const double *x, size_t d)
{
    if (k == 0)
        return x[0] + 0.2 * sin(4.0 * x[1 % d]);
    return x[1 % d] - 0.5 * x[0] + 0.2 * cos(3.0 * x[0]);
}

/* n points; x0 drawn from [x0_lo, 1] (the rest from [0, 1]). */
static void s_problem(s_problem_t *p, size_t d, size_t n, uint64_t seed, double x0_lo,
                      hone_kernel_kind_t kernel, bool fit)
{
    assert_true(d <= S_MAXD && n <= S_MAXN);
    memset(p, 0, sizeof *p);
    p->d = d;
    p->n = n;
    p->ls_f = 0.35;
    p->ls_c[0] = 0.3;
    p->ls_c[1] = 0.4;
    p->noise_f = 0.05;
    p->noise_c = 0.01;
    hone_rng_t rng;
    hone_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) {
        for (size_t a = 0; a < d; a++)
            p->x[i * d + a] = hone_rng_uniform(&rng);
        p->x[i * d] = x0_lo + (1.0 - x0_lo) * p->x[i * d];
        p->yf[i] = s_objective(p->x + i * d, d);
        for (size_t k = 0; k < S_NCON; k++)
            p->yc[k][i] = s_constraint(k, p->x + i * d, d);
    }
    mc_standardize(p->yf, n);
    for (size_t k = 0; k < S_NCON; k++)
        mc_standardize(p->yc[k], n);
    p->f = mc_gp(d, n, p->x, p->yf, kernel, fit, p->ls_f, p->noise_f, &rng);
    for (size_t k = 0; k < S_NCON; k++)
        p->c[k] = mc_gp(d, n, p->x, p->yc[k], kernel, fit, p->ls_c[k], p->noise_c, &rng);
}

static void s_problem_free(s_problem_t *p)
{
    hone_gp_destroy(&p->f);
    for (size_t k = 0; k < S_NCON; k++)
        hone_gp_destroy(&p->c[k]);
}

/* The context of the objective and the first ncon constraint metrics, c_k <= bounds[k]. */
static hone_acqf_mo_context_t s_context(const s_problem_t *p, size_t ncon, const double *bounds,
                                        size_t n_pending, const double *pending, uint64_t seed)
{
    return (hone_acqf_mo_context_t) {.m = 1, .models = (const hone_gp_t *const *) &p->f,
                                     .n_pending = n_pending, .pending = pending,
                                     .seed = seed, .n_con_models = ncon,
                                     .con_models = (const hone_gp_t *const *) p->c,
                                     .n_con = ncon, .con_bounds = bounds};
}

static hone_acqf_t *s_cqlognei(const s_problem_t *p, size_t ncon, const double *bounds,
                               size_t n_pending, const double *pending, uint64_t seed)
{
    hone_acqf_mo_context_t ctx = s_context(p, ncon, bounds, n_pending, pending, seed);
    hone_acqf_t *acqf = hone_acqf_mo_new(&hone_acqf_mo_qlognei, &ctx);
    assert_non_null(acqf);
    assert_true(hone_acqf_type_of(acqf) == &hone_acqf_qlognei);
    assert_true(hone_acqf_dim(acqf) == p->d);
    return acqf;
}

static hone_acqf_t *s_plain_qlognei(const s_problem_t *p, size_t n_pending,
                                    const double *pending, uint64_t seed)
{
    hone_acqf_context_t ctx = {.model = p->f, .n_pending = n_pending, .pending = pending,
                               .seed = seed};
    hone_acqf_t *acqf = hone_acqf_new(&hone_acqf_qlognei, &ctx);
    assert_non_null(acqf);
    return acqf;
}

/* ---- the reference: plain Monte Carlo over the exact joint posteriors ---- */

#define S_REF_DRAWS 200000

/* E[max(f_x − f*, 0)·1{c_k(x) <= b_k for all k}] with X_b = training + pending points and
 * f* = max_i (point i feasible in the draw ? f_i : L) (−inf when no point counts), by
 * plain joint draws of the GPs with known hyperparameters (fixed models only). *wrong:
 * the same with f* over every baseline point (their feasibility ignored); *se, *se_wrong:
 * standard errors. */
static double s_reference(const s_problem_t *p, size_t ncon, const double *bounds,
                          size_t n_pending, const double *pending, const double *x, double L,
                          double *wrong, double *se, double *se_wrong)
{
    size_t n = p->n, d = p->d, nb = n + n_pending, q = nb + 1;
    double z[(S_MAXN + 4) * S_MAXD];
    assert_true(n_pending <= 4);
    memcpy(z, p->x, n * d * sizeof(double));
    if (n_pending > 0)
        memcpy(z + n * d, pending, n_pending * d * sizeof(double));
    memcpy(z + nb * d, x, d * sizeof(double));
    double *mu[1 + S_NCON], *chol[1 + S_NCON], *f[1 + S_NCON];
    for (size_t j = 0; j <= ncon; j++) {
        mu[j] = calloc(q, sizeof(double));
        chol[j] = calloc(q * q, sizeof(double));
        f[j] = calloc(q, sizeof(double));
        assert_true(mu[j] && chol[j] && f[j]);
        if (j == 0)
            mc_joint_posterior(n, d, p->x, p->yf, p->ls_f, p->noise_f, q, z, mu[0], chol[0]);
        else
            mc_joint_posterior(n, d, p->x, p->yc[j - 1], p->ls_c[j - 1], p->noise_c, q, z,
                               mu[j], chol[j]);
    }
    double *e = calloc(q, sizeof(double));
    assert_true(e);
    hone_rng_t rng;
    hone_rng_seed(&rng, 4242);
    double sum = 0.0, sum2 = 0.0, wsum = 0.0, wsum2 = 0.0;
    for (size_t s = 0; s < S_REF_DRAWS; s++) {
        for (size_t j = 0; j <= ncon; j++) {
            for (size_t a = 0; a < q; a++)
                e[a] = mc_normal(&rng);
            mc_draw(q, mu[j], chol[j], e, f[j]);
        }
        double best = -INFINITY, best_all = -INFINITY;
        for (size_t i = 0; i < nb; i++) {
            bool feasible = true;
            for (size_t k = 0; k < ncon; k++)
                feasible = feasible && f[1 + k][i] <= bounds[k];
            best = fmax(best, feasible ? f[0][i] : L);
            best_all = fmax(best_all, f[0][i]);
        }
        bool x_feasible = true;
        for (size_t k = 0; k < ncon; k++)
            x_feasible = x_feasible && f[1 + k][nb] <= bounds[k];
        double imp = x_feasible ? fmax(f[0][nb] - best, 0.0) : 0.0;
        double imp_wrong = x_feasible ? fmax(f[0][nb] - best_all, 0.0) : 0.0;
        sum += imp;
        sum2 += imp * imp;
        wsum += imp_wrong;
        wsum2 += imp_wrong * imp_wrong;
    }
    for (size_t j = 0; j <= ncon; j++) {
        free(mu[j]);
        free(chol[j]);
        free(f[j]);
    }
    free(e);
    double draws = (double) S_REF_DRAWS, mean = sum / draws, wmean = wsum / draws;
    *se = sqrt(fmax(sum2 / draws - mean * mean, 0.0) / draws);
    *se_wrong = sqrt(fmax(wsum2 / draws - wmean * wmean, 0.0) / draws);
    *wrong = wmean;
    return mean;
}

enum { SEEDS = 32 };

/* Constrained qLogNEI against the plain Monte Carlo reference, one and two constraints,
 * with and without pending points, at the candidates that matter. One set of 512 QMC
 * samples is off by up to 20% here (the feasibility of the baseline and of x adds
 * variance), so exp(value) is averaged over 32 seeds; the tolerance on the log is 0.03
 * (fatplus and fatmoid smoothing, far smaller) plus four standard errors of the two
 * estimates (512 seeds agree within 0.006 at every point). Ignoring the baseline's
 * feasibility (f* over every point) must fail that tolerance at a good share of them. */
static void test_qlognei_matches_joint_posterior(void **state)
{
    (void) state;
    s_problem_t p;
    s_problem(&p, 2, 10, 1, 0.0, HONE_KERNEL_RBF, false);
    double bounds[S_NCON] = {0.0, 0.8};
    double pending[4] = {0.15, 0.8, 0.3, 0.3};
    size_t compared = 0, caught = 0;
    for (size_t ncon = 1; ncon <= 2; ncon++) {
        for (size_t np = 0; np <= 2; np += 2) {
            hone_acqf_t *acqf[SEEDS];
            for (size_t k = 0; k < SEEDS; k++)
                acqf[k] = s_cqlognei(&p, ncon, bounds, np, pending, 3 + k);
            hone_acqf_qlognei_info_t info;
            assert_int_equal(hone_acqf_qlognei_info(acqf[0], &info), HONE_OK);
            assert_true(info.n_con == ncon && info.m == 1 && !info.weights);
            assert_true(info.infeasible_value == -INFINITY);   /* a feasible point per sample */
            double x[5 * 2];
            hone_rng_t rng;
            hone_rng_seed(&rng, 10 + ncon + np);
            size_t got = mc_pick(acqf[0], 2, &rng, 5, x);
            assert_int_equal(got, 5);
            for (size_t i = 0; i < got; i++) {
                double se_acq, se_ref, se_wrong, wrong;
                double mean = mc_seed_mean(acqf, SEEDS, x + 2 * i, &se_acq);
                double ref = s_reference(&p, ncon, bounds, np, pending, x + 2 * i, -INFINITY,
                                         &wrong, &se_ref, &se_wrong);
                double tol = 0.03 + 4.0 * sqrt(se_acq * se_acq + se_ref * se_ref) / ref;
                print_message("ncon=%zu pending=%zu x=(%.3f, %.3f): %.4f, reference %.4f, "
                              "tol %.3f; baseline feasibility ignored %.4f\n", ncon, np,
                              x[2 * i], x[2 * i + 1], log(mean), log(ref), tol, log(wrong));
                if (!(fabs(log(mean) - log(ref)) < tol)) {
                    print_error("constrained qLogNEI %.4f, reference %.4f\n", log(mean),
                                log(ref));
                    fail();
                }
                caught += !(fabs(log(mean) - log(wrong)) < tol);
                (void) se_wrong;
                compared++;
            }
            for (size_t k = 0; k < SEEDS; k++)
                hone_acqf_destroy(&acqf[k]);
        }
    }
    print_message("wrong reference rejected at %zu of %zu points\n", caught, compared);
    assert_true(3 * caught >= compared);
    s_problem_free(&p);
}

/* No baseline point is feasible (data only at x0 >= 0.45, the bound below every observed
 * constraint value by more than 6σ): every sample's best is BoTorch's infeasible value L,
 * which is <= 0 and below μ − 6σ of the objective at every baseline point, and the value
 * matches the reference that uses that L. */
static void test_qlognei_no_feasible_baseline(void **state)
{
    (void) state;
    s_problem_t p;
    s_problem(&p, 2, 10, 21, 0.45, HONE_KERNEL_RBF, false);
    double lowest = INFINITY, bound;
    for (size_t i = 0; i < p.n; i++) {
        double mu, sd;
        mc_predict(p.c[0], p.x + 2 * i, &mu, &sd);
        lowest = fmin(lowest, mu - 6.5 * sd);
    }
    bound = lowest;
    hone_acqf_t *acqf[SEEDS];
    for (size_t k = 0; k < SEEDS; k++)
        acqf[k] = s_cqlognei(&p, 1, &bound, 0, NULL, 30 + k);
    hone_acqf_qlognei_info_t info;
    assert_int_equal(hone_acqf_qlognei_info(acqf[0], &info), HONE_OK);
    print_message("bound %.3f: %zu baseline points kept, infeasible value %.3f\n", bound,
                  info.n_baseline, info.infeasible_value);
    assert_true(isfinite(info.infeasible_value) && info.infeasible_value <= 0.0);
    for (size_t i = 0; i < p.n; i++) {
        double mu, sd;
        mc_predict(p.f, p.x + 2 * i, &mu, &sd);
        assert_true(info.infeasible_value <= mu - 6.0 * sd + 1e-9);
    }
    double x[4 * 2];
    hone_rng_t rng;
    hone_rng_seed(&rng, 31);
    size_t got = mc_pick(acqf[0], 2, &rng, 4, x);
    assert_int_equal(got, 4);
    for (size_t i = 0; i < got; i++) {
        double se_acq, se_ref, se_wrong, wrong;
        double mean = mc_seed_mean(acqf, SEEDS, x + 2 * i, &se_acq);
        double ref = s_reference(&p, 1, &bound, 0, NULL, x + 2 * i, info.infeasible_value,
                                 &wrong, &se_ref, &se_wrong);
        double tol = 0.03 + 4.0 * sqrt(se_acq * se_acq + se_ref * se_ref) / ref;
        print_message("x=(%.3f, %.3f): %.4f, reference %.4f, tol %.3f\n", x[2 * i],
                      x[2 * i + 1], log(mean), log(ref), tol);
        assert_true(fabs(log(mean) - log(ref)) < tol);
    }
    for (size_t k = 0; k < SEEDS; k++)
        hone_acqf_destroy(&acqf[k]);
    s_problem_free(&p);
}

/* A bound far above every draw: the value and the gradient are the unconstrained
 * qLogNEI's (same seed: the objective's base samples and pruning draws are unchanged by
 * the constraint model's; log fatmoid(5e4) is −3e-10). */
static void test_qlognei_far_bound_is_unconstrained(void **state)
{
    (void) state;
    s_problem_t p;
    s_problem(&p, 3, 25, 40, 0.0, HONE_KERNEL_MATERN52, true);
    double bounds[S_NCON] = {50.0, 60.0}, pending[3] = {0.4, 0.6, 0.2};
    for (size_t np = 0; np <= 1; np++) {
        hone_acqf_t *plain = s_plain_qlognei(&p, np, pending, 41);
        hone_acqf_t *con = s_cqlognei(&p, 2, bounds, np, pending, 41);
        hone_rng_t rng;
        hone_rng_seed(&rng, 42);
        mc_check_same(plain, con, 3, &rng);
        hone_acqf_destroy(&plain);
        hone_acqf_destroy(&con);
    }
    s_problem_free(&p);
}

/* The objective observed at x0 <= 0.45 only, the constraint metric everywhere (its own
 * points) and the bound above every baseline point's constraint by more than 6σ: the best
 * feasible baseline value is the best value in every sample, so the constrained value
 * differs from the unconstrained one (same seed) only by the candidate's feasibility.
 * Where the constraint surely holds (b − μ_c > max(6σ_c, 0.05)) they agree within 1e-3;
 * where it is surely violated (μ_c − b > max(6σ_c, 0.05)) the value falls at least
 * −log fatmoid(−50) ≈ 8.3 below (the fat tail keeps a slope there, not −inf). */
static void test_qlognei_surely_violated(void **state)
{
    (void) state;
    enum { NF = 12, NC = 40 };
    double xf[NF * 2], yf[NF], xc[NC * 2], yc[NC];
    hone_rng_t rng;
    hone_rng_seed(&rng, 50);
    for (size_t i = 0; i < NF; i++) {
        xf[2 * i] = 0.45 * hone_rng_uniform(&rng);
        xf[2 * i + 1] = hone_rng_uniform(&rng);
        yf[i] = s_objective(xf + 2 * i, 2);
    }
    for (size_t i = 0; i < NC; i++) {
        xc[2 * i] = hone_rng_uniform(&rng);
        xc[2 * i + 1] = hone_rng_uniform(&rng);
        yc[i] = s_constraint(0, xc + 2 * i, 2);
    }
    mc_standardize(yf, NF);
    mc_standardize(yc, NC);
    hone_gp_t *f = mc_gp(2, NF, xf, yf, HONE_KERNEL_RBF, false, 0.35, 0.05, &rng);
    hone_gp_t *c = mc_gp(2, NC, xc, yc, HONE_KERNEL_RBF, false, 0.3, 0.01, &rng);
    double bound = -INFINITY;
    for (size_t i = 0; i < NF; i++) {
        double mu, sd;
        mc_predict(c, xf + 2 * i, &mu, &sd);
        bound = fmax(bound, mu + fmax(6.0 * sd, 0.05));
    }
    hone_acqf_context_t pctx = {.model = f, .seed = 51};
    hone_acqf_t *plain = hone_acqf_new(&hone_acqf_qlognei, &pctx);
    hone_acqf_mo_context_t ctx = {.m = 1, .models = (const hone_gp_t *const *) &f, .seed = 51,
                                  .n_con_models = 1, .con_models = (const hone_gp_t *const *) &c,
                                  .n_con = 1, .con_bounds = &bound};
    hone_acqf_t *con = hone_acqf_mo_new(&hone_acqf_mo_qlognei, &ctx);
    assert_non_null(plain);
    assert_non_null(con);
    mc_check_constraint_split(plain, con, c, bound, &rng);
    hone_acqf_destroy(&plain);
    hone_acqf_destroy(&con);
    hone_gp_destroy(&f);
    hone_gp_destroy(&c);
}

/* The analytic gradient against central differences: fitted models, both kernels, one
 * and two constraints (the second a weighted form that also reads the objective's
 * output: 0.5·f + c_1 <= 1), with and without pending points. */
static void test_qlognei_gradient_fd(void **state)
{
    (void) state;
    double pending[2 * 4];
    hone_rng_t rng;
    hone_rng_seed(&rng, 60);
    for (size_t i = 0; i < 8; i++)
        pending[i] = hone_rng_uniform(&rng);
    for (int kernel = 0; kernel < 2; kernel++) {
        s_problem_t p;
        s_problem(&p, 4, 30, 61 + (uint64_t) kernel, 0.0, (hone_kernel_kind_t) kernel, true);
        /* outputs: f, c0, c1; rows: c0 <= 0.3 and 0.5·f + c1 <= 1 */
        double weights[2 * 3] = {0.0, 1.0, 0.0, 0.5, 0.0, 1.0}, bounds[2] = {0.3, 1.0};
        for (size_t np = 0; np <= 2; np += 2) {
            hone_acqf_mo_context_t ctx = s_context(&p, 2, bounds, np, pending, 62);
            ctx.con_weights = weights;
            hone_acqf_t *acqf = hone_acqf_mo_new(&hone_acqf_mo_qlognei, &ctx);
            assert_non_null(acqf);
            acqf_check_gradient(acqf, 4, &rng, 30, 1e-6, 1e-4, 1e-7);
            hone_acqf_destroy(&acqf);
        }
        s_problem_free(&p);
    }
}

/* qLogPF = log Π_k Φ(−μ_g/σ_g) for independent constraints, within the QMC error (N = 512)
 * where the probability is not small: two single-metric constraints; a ">=" bound (weight
 * −1, bound −b: P(c >= b)); the sum of two metrics (P(c_0 + c_1 <= b), σ² summed). */
static void test_qlogpf_analytic(void **state)
{
    (void) state;
    s_problem_t p;
    s_problem(&p, 2, 12, 70, 0.0, HONE_KERNEL_RBF, false);
    /* outputs: c0, c1 (m = 0) */
    double w_upper[2 * 2] = {1.0, 0.0, 0.0, 1.0}, b_upper[2] = {0.3, 0.5};
    double w_lower[2] = {-1.0, 0.0}, b_lower[1] = {0.2};   /* c0 >= −0.2 */
    double w_sum[2] = {1.0, 1.0}, b_sum[1] = {0.4};
    struct { size_t n_con; const double *w, *b; } cases[3] = {
        {2, w_upper, b_upper}, {1, w_lower, b_lower}, {1, w_sum, b_sum}};
    hone_rng_t rng;
    hone_rng_seed(&rng, 71);
    for (int c = 0; c < 3; c++) {
        hone_acqf_mo_context_t ctx = {.m = 0, .seed = 72, .n_con_models = 2,
                                      .con_models = (const hone_gp_t *const *) p.c,
                                      .n_con = cases[c].n_con, .con_weights = cases[c].w,
                                      .con_bounds = cases[c].b};
        hone_acqf_t *acqf = hone_acqf_mo_new(&hone_acqf_mo_qlogpf, &ctx);
        assert_non_null(acqf);
        assert_true(hone_acqf_type_of(acqf) == &hone_acqf_qlogpf);
        size_t compared = 0;
        double worst = 0.0;
        for (int t = 0; t < 300; t++) {
            double x[2] = {hone_rng_uniform(&rng), hone_rng_uniform(&rng)}, mu[2], sd[2], v;
            for (size_t k = 0; k < 2; k++)
                mc_predict(p.c[k], x, &mu[k], &sd[k]);
            double pf;
            if (c == 0)
                pf = hone_special_ncdf((b_upper[0] - mu[0]) / sd[0]) *
                     hone_special_ncdf((b_upper[1] - mu[1]) / sd[1]);
            else if (c == 1)
                pf = hone_special_ncdf((mu[0] + b_lower[0]) / sd[0]);
            else
                pf = hone_special_ncdf((b_sum[0] - mu[0] - mu[1]) / hypot(sd[0], sd[1]));
            assert_int_equal(hone_acqf_eval(acqf, 1, x, &v), HONE_OK);
            if (pf < 0.05)
                continue;
            worst = fmax(worst, fabs(exp(v) - pf));
            if (!(fabs(exp(v) - pf) < 0.01 + 0.03 * pf)) {
                print_error("case %d x=(%.3f, %.3f): PF %.4f, closed form %.4f\n", c, x[0],
                            x[1], exp(v), pf);
                fail();
            }
            compared++;
        }
        print_message("case %d: %zu points, largest |PF − Φ| %.4f\n", c, compared, worst);
        assert_true(compared >= 40);
        hone_acqf_destroy(&acqf);
    }
    s_problem_free(&p);
}

/* qLogPF with a pending point that is feasible half the time: the batch {x, pending} is
 * feasible at least as often, so where x itself is surely infeasible the value stays near
 * log P(pending feasible) instead of far below; the gradient (through the q-batch's
 * fatmax) matches central differences, with and without pending points. */
static void test_qlogpf_pending(void **state)
{
    (void) state;
    s_problem_t p;
    s_problem(&p, 2, 12, 80, 0.0, HONE_KERNEL_RBF, false);
    /* a pending point, and the bound that makes it feasible with probability 1/2 */
    double pending[2] = {0.35, 0.5}, mu_p, sd_p;
    mc_predict(p.c[0], pending, &mu_p, &sd_p);
    double bound = mu_p;
    hone_acqf_mo_context_t ctx = {.m = 0, .seed = 81, .n_con_models = 1,
                                  .con_models = (const hone_gp_t *const *) p.c, .n_con = 1,
                                  .con_bounds = &bound};
    hone_acqf_t *alone = hone_acqf_mo_new(&hone_acqf_mo_qlogpf, &ctx);
    ctx.n_pending = 1;
    ctx.pending = pending;
    hone_acqf_t *batch = hone_acqf_mo_new(&hone_acqf_mo_qlogpf, &ctx);
    assert_non_null(alone);
    assert_non_null(batch);
    hone_rng_t rng;
    hone_rng_seed(&rng, 82);
    size_t far = 0;
    for (int t = 0; t < 1000; t++) {
        double x[2] = {hone_rng_uniform(&rng), hone_rng_uniform(&rng)}, mu, sd, a, b;
        mc_predict(p.c[0], x, &mu, &sd);
        if (!(mu - bound > 6.0 * sd))
            continue;
        assert_int_equal(hone_acqf_eval(alone, 1, x, &a), HONE_OK);
        assert_int_equal(hone_acqf_eval(batch, 1, x, &b), HONE_OK);
        assert_true(a < -6.0);
        assert_true(fabs(b - log(0.5)) < 0.1);
        far++;
    }
    print_message("%zu surely infeasible points\n", far);
    assert_true(far >= 20);
    acqf_check_gradient(alone, 2, &rng, 30, 1e-6, 1e-4, 1e-7);
    acqf_check_gradient(batch, 2, &rng, 30, 1e-6, 1e-4, 1e-7);
    hone_acqf_destroy(&alone);
    hone_acqf_destroy(&batch);
    s_problem_free(&p);
}

/* Invalid contexts are refused by every constrained type. */
static void test_create_rejects(void **state)
{
    (void) state;
    s_problem_t p;
    s_problem(&p, 2, 10, 90, 0.0, HONE_KERNEL_RBF, false);
    double bounds[2] = {0.0, 0.5};
    hone_acqf_mo_context_t good = s_context(&p, 2, bounds, 0, NULL, 91), ctx;
    hone_acqf_t *ok = hone_acqf_mo_new(&hone_acqf_mo_qlognei, &good);
    assert_non_null(ok);
    hone_acqf_destroy(&ok);
    ok = hone_acqf_mo_new(&hone_acqf_mo_qlogpf, &good);
    assert_non_null(ok);
    hone_acqf_destroy(&ok);
    const hone_acqf_mo_type_t *types[2] = {&hone_acqf_mo_qlognei, &hone_acqf_mo_qlogpf};
    hone_gp_t *other_d = hone_gp_new(3, HONE_KERNEL_RBF);
    double x3[3 * 4] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.3, 0.1, 0.6};
    double y3[4] = {0.1, -0.5, 1.0, -0.6};
    assert_int_equal(hone_gp_set_data(other_d, 4, x3, y3, NULL), HONE_OK);
    assert_int_equal(hone_gp_refresh(other_d), HONE_OK);
    hone_gp_t *empty = hone_gp_new(2, HONE_KERNEL_RBF);
    for (int t = 0; t < 2; t++) {
        assert_null(types[t]->create(NULL));
        ctx = good;
        ctx.con_bounds = NULL;
        assert_null(hone_acqf_mo_new(types[t], &ctx));
        double nan_bounds[2] = {0.0, NAN};
        ctx = good;
        ctx.con_bounds = nan_bounds;
        assert_null(hone_acqf_mo_new(types[t], &ctx));
        ctx = good;
        ctx.n_con = 1;   /* no weights: one constraint per model */
        assert_null(hone_acqf_mo_new(types[t], &ctx));
        double nan_weights[2 * 3] = {0.0, 1.0, 0.0, 0.0, 0.0, NAN};
        ctx = good;
        ctx.con_weights = nan_weights;
        assert_null(hone_acqf_mo_new(types[t], &ctx));
        const hone_gp_t *bad[2] = {p.c[0], NULL};
        ctx = good;
        ctx.con_models = bad;
        assert_null(hone_acqf_mo_new(types[t], &ctx));
        bad[1] = other_d;
        assert_null(hone_acqf_mo_new(types[t], &ctx));
        bad[1] = empty;
        assert_null(hone_acqf_mo_new(types[t], &ctx));
        ctx = good;
        ctx.n_con_models = HONE_ACQF_MO_MAX_OUTPUTS;   /* too many outputs */
        ctx.con_weights = nan_weights;
        assert_null(hone_acqf_mo_new(types[t], &ctx));
        double nan_pending[2] = {0.5, NAN};
        ctx = good;
        ctx.n_pending = 1;
        ctx.pending = nan_pending;
        assert_null(hone_acqf_mo_new(types[t], &ctx));
    }
    ctx = good;
    ctx.n_con = 0;   /* qLogPF needs a constraint */
    assert_null(hone_acqf_mo_new(&hone_acqf_mo_qlogpf, &ctx));
    ctx = good;
    ctx.m = 2;   /* qLogNEI is for one objective */
    const hone_gp_t *two[2] = {p.f, p.f};
    ctx.models = two;
    assert_null(hone_acqf_mo_new(&hone_acqf_mo_qlognei, &ctx));
    hone_acqf_context_t single = {.model = p.f};
    assert_null(hone_acqf_new(&hone_acqf_qlogpf, &single));
    hone_acqf_qlognei_info_t info;
    assert_int_equal(hone_acqf_qlognei_info(NULL, &info), HONE_EINVAL);
    hone_gp_destroy(&other_d);
    hone_gp_destroy(&empty);
    s_problem_free(&p);
}

/* Batches past the internal chunk equal point-by-point evaluation, seeds reproduce, NaN
 * input is refused (both types). */
static void test_batches_and_seed(void **state)
{
    (void) state;
    s_problem_t p;
    s_problem(&p, 3, 30, 100, 0.0, HONE_KERNEL_MATERN52, true);
    double bounds[2] = {0.2, 0.4}, pending[3] = {0.5, 0.5, 0.5};
    for (int t = 0; t < 2; t++) {
        hone_acqf_mo_context_t ctx = s_context(&p, 2, bounds, 1, pending, 101);
        const hone_acqf_mo_type_t *type = t == 0 ? &hone_acqf_mo_qlognei : &hone_acqf_mo_qlogpf;
        hone_acqf_t *a = hone_acqf_mo_new(type, &ctx), *b = hone_acqf_mo_new(type, &ctx);
        assert_non_null(a);
        assert_non_null(b);
        hone_rng_t rng;
        hone_rng_seed(&rng, 102);
        mc_check_batches(a, b, 3, 600, &rng);
        hone_acqf_destroy(&a);
        hone_acqf_destroy(&b);
    }
    s_problem_free(&p);
}

/* The cost per evaluation (informational): qLogNEI without and with one and two
 * constraint models, qLogPF; n = 20 and 50 fitted models on d = 4, one pending point
 * (and qLogPF without one). */
static void test_cost(void **state)
{
    (void) state;
    double pending[4] = {0.5, 0.4, 0.6, 0.3}, bounds[2] = {0.3, 0.5};
    for (size_t n = 20; n <= 50; n += 30) {
        s_problem_t p;
        s_problem(&p, 4, n, 110 + n, 0.0, HONE_KERNEL_MATERN52, true);
        for (int t = 0; t < 5; t++) {
            double t0 = mc_now_ms();
            hone_acqf_t *acqf;
            const char *what;
            if (t < 3) {
                hone_acqf_mo_context_t ctx = s_context(&p, (size_t) t, bounds, 1, pending, 111);
                acqf = hone_acqf_mo_new(&hone_acqf_mo_qlognei, &ctx);
                what = t == 0 ? "qLogNEI" : t == 1 ? "qLogNEI + 1 constraint"
                                                   : "qLogNEI + 2 constraints";
            }
            else {
                size_t np = t == 3 ? 1 : 0;
                hone_acqf_mo_context_t ctx = s_context(&p, 2, bounds, np, pending, 111);
                acqf = hone_acqf_mo_new(&hone_acqf_mo_qlogpf, &ctx);
                what = np ? "qLogPF, 2 constraints" : "qLogPF, 2 constraints, no pending point";
            }
            assert_non_null(acqf);
            double t_create = mc_now_ms() - t0, t_batch, t_grad;
            mc_cost(acqf, 4, &t_batch, &t_grad);
            print_message("n=%zu %s: create %.1f ms, eval %.3f ms/point (batched), "
                          "eval_grad %.3f ms\n", n, what, t_create, t_batch, t_grad);
            hone_acqf_destroy(&acqf);
        }
        s_problem_free(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qlognei_matches_joint_posterior),
        cmocka_unit_test(test_qlognei_no_feasible_baseline),
        cmocka_unit_test(test_qlognei_far_bound_is_unconstrained),
        cmocka_unit_test(test_qlognei_surely_violated),
        cmocka_unit_test(test_qlognei_gradient_fd),
        cmocka_unit_test(test_qlogpf_analytic),
        cmocka_unit_test(test_qlogpf_pending),
        cmocka_unit_test(test_create_rejects),
        cmocka_unit_test(test_batches_and_seed),
        cmocka_unit_test(test_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
