/* Unit tests for core/acqf_parego.c (qLogNParEGO, on the qLogNEI of core/acqf_qlognei.c).
 *
 * The value reference is independent of the implementation: qLogNEI on the augmented
 * Chebyshev scalarization computed by plain Monte Carlo, with the exact joint posteriors
 * of the objectives over (baseline, x) (mc_check.h) and h applied to every draw; a wrong
 * reference (the plain weighted sum, no max) must fail the same tolerance. Also: the
 * Dirichlet(1) weights (on the simplex, reproducible, uniform: means and P(w_0 > 1/2)),
 * the normalization bounds (posterior means at the observed points, pending points
 * excluded), exact properties (h is linear in the weights: value(3w) = value(w) + log 3;
 * a far constraint bound changes nothing), the subgradient against central differences,
 * 5 to 8 objectives under the optimizer, rejected contexts and the cost per evaluation. */
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
#define S_MAXM 8

/* m conflicting objectives (each peaks at its own centre) and one constraint metric on
 * the same n points of [0,1]^d, standardized, with fixed RBF hyperparameters (ls[j],
 * noise) or fitted. */
typedef struct {
    size_t d, n, m;
    double x[S_MAXN * S_MAXD];
    double y[S_MAXM][S_MAXN], yc[S_MAXN];
    double ls[S_MAXM], noise;
    hone_gp_t *gp[S_MAXM], *c;
} s_problem_t;

static double s_objective(size_t j, const double *x, size_t d)
{
    double f = 0.0;
    for (size_t a = 0; a < d; a++) {
        double centre = 0.15 + 0.7 * (double) ((j * 7 + a * 3) % 5) / 4.0;
        f -= (x[a] - centre) * (x[a] - centre);
        f += 0.1 * sin(5.0 * x[a] + (double) j);
    }
    return f;
}

static void s_problem(s_problem_t *p, size_t m, size_t d, size_t n, uint64_t seed,
                      hone_kernel_kind_t kernel, bool fit)
{
    assert_true(m <= S_MAXM && d <= S_MAXD && n <= S_MAXN);
    memset(p, 0, sizeof *p);
    p->m = m;
    p->d = d;
    p->n = n;
    p->noise = 0.05;
    hone_rng_t rng;
    hone_rng_seed(&rng, seed);
    for (size_t i = 0; i < n * d; i++)
        p->x[i] = hone_rng_uniform(&rng);
    for (size_t j = 0; j < m; j++) {
        p->ls[j] = 0.3 + 0.05 * (double) j;
        for (size_t i = 0; i < n; i++)
            p->y[j][i] = s_objective(j, p->x + i * d, d);
        mc_standardize(p->y[j], n);
        p->gp[j] = mc_gp(d, n, p->x, p->y[j], kernel, fit, p->ls[j], p->noise, &rng);
    }
    for (size_t i = 0; i < n; i++)
        p->yc[i] = p->x[i * d] + 0.3 * sin(4.0 * p->x[i * d + 1 % d]);
    mc_standardize(p->yc, n);
    p->c = mc_gp(d, n, p->x, p->yc, kernel, fit, 0.3, 0.01, &rng);
}

static void s_problem_free(s_problem_t *p)
{
    for (size_t j = 0; j < p->m; j++)
        hone_gp_destroy(&p->gp[j]);
    hone_gp_destroy(&p->c);
}

static hone_acqf_mo_context_t s_context(const s_problem_t *p, const double *weights,
                                        size_t n_pending, const double *pending, uint64_t seed)
{
    return (hone_acqf_mo_context_t) {.m = p->m, .models = (const hone_gp_t *const *) p->gp,
                                     .n_pending = n_pending, .pending = pending,
                                     .seed = seed, .weights = weights};
}

static hone_acqf_t *s_parego(const s_problem_t *p, const double *weights, size_t n_pending,
                             const double *pending, uint64_t seed)
{
    hone_acqf_mo_context_t ctx = s_context(p, weights, n_pending, pending, seed);
    hone_acqf_t *acqf = hone_acqf_mo_new(&hone_acqf_mo_qlognparego, &ctx);
    assert_non_null(acqf);
    assert_true(hone_acqf_type_of(acqf) == &hone_acqf_qlognei);
    assert_true(hone_acqf_dim(acqf) == p->d);
    return acqf;
}

/* Posterior means of objective j at n points. */
static void s_means(const s_problem_t *p, size_t j, size_t n, const double *x, double *mu)
{
    double var[S_MAXN];
    hone_gp_work_t *work = hone_gp_work_new(p->gp[j], n);
    assert_int_equal(hone_gp_predict(p->gp[j], n, x, mu, var, work), HONE_OK);
    hone_gp_work_destroy(&work);
}

/* Dirichlet(1) weights: on the simplex, the same for the same seed, and uniform: over
 * 400 seeds each weight's mean is 1/m (Beta(1, m − 1): variance (m − 1)/(m²(m + 1))) and
 * P(w_0 > t) = (1 − t)^(m−1) for t = 1/2 and 3/4, within four standard errors (normalized
 * uniforms, say, give 1/6 instead of 1/4 for m = 2, t = 3/4, and 1/120 instead of 1/16
 * for m = 5, t = 1/2). */
static void test_weights_simplex(void **state)
{
    (void) state;
    enum { DRAWS = 400 };
    for (size_t m = 2; m <= 5; m += 3) {
        s_problem_t p;
        s_problem(&p, m, 2, 8, 1 + m, HONE_KERNEL_RBF, false);
        double mean[S_MAXM] = {0}, above = 0.0, above3 = 0.0, first[S_MAXM];
        for (size_t t = 0; t < DRAWS; t++) {
            hone_acqf_t *acqf = s_parego(&p, NULL, 0, NULL, 100 + t);
            hone_acqf_qlognei_info_t info;
            assert_int_equal(hone_acqf_qlognei_info(acqf, &info), HONE_OK);
            assert_true(info.m == m && info.weights && info.lo && info.hi);
            double total = 0.0;
            for (size_t j = 0; j < m; j++) {
                assert_true(info.weights[j] >= 0.0);
                total += info.weights[j];
                mean[j] += info.weights[j] / DRAWS;
            }
            assert_true(fabs(total - 1.0) < 1e-12);
            above += info.weights[0] > 0.5 ? 1.0 / DRAWS : 0.0;
            above3 += info.weights[0] > 0.75 ? 1.0 / DRAWS : 0.0;
            if (t == 0)
                memcpy(first, info.weights, m * sizeof(double));
            hone_acqf_destroy(&acqf);
        }
        hone_acqf_t *again = s_parego(&p, NULL, 0, NULL, 100);
        hone_acqf_qlognei_info_t info;
        assert_int_equal(hone_acqf_qlognei_info(again, &info), HONE_OK);
        assert_memory_equal(first, info.weights, m * sizeof(double));
        hone_acqf_destroy(&again);
        double md = (double) m, sd = sqrt((md - 1.0) / (md * md * (md + 1.0)) / DRAWS);
        double pa = pow(0.5, md - 1.0), sda = sqrt(pa * (1.0 - pa) / DRAWS);
        double pa3 = pow(0.25, md - 1.0), sda3 = sqrt(pa3 * (1.0 - pa3) / DRAWS);
        print_message("m=%zu: mean w_0 %.3f (1/m = %.3f, se %.3f), P(w_0 > 1/2) %.3f (%.3f), "
                      "P(w_0 > 3/4) %.3f (%.3f)\n", m, mean[0], 1.0 / md, sd, above, pa, above3,
                      pa3);
        for (size_t j = 0; j < m; j++)
            assert_true(fabs(mean[j] - 1.0 / md) < 4.0 * sd);
        assert_true(fabs(above - pa) < 4.0 * sda);
        assert_true(fabs(above3 - pa3) < 4.0 * sda3 + 1.0 / DRAWS);
        s_problem_free(&p);
    }
}

/* The normalization: lo/hi are the minimum/maximum of each objective's posterior mean at
 * the observed points; pending points (here one far better than every observation) do
 * not enter; an explicit baseline is used instead of the training inputs. */
static void test_normalization(void **state)
{
    (void) state;
    s_problem_t p;
    s_problem(&p, 3, 2, 15, 10, HONE_KERNEL_RBF, false);
    double w[3] = {0.2, 0.3, 0.5}, pending[2] = {0.9, 0.9};
    hone_acqf_t *acqf = s_parego(&p, w, 1, pending, 11);
    hone_acqf_qlognei_info_t info;
    assert_int_equal(hone_acqf_qlognei_info(acqf, &info), HONE_OK);
    assert_memory_equal(info.weights, w, sizeof w);
    for (size_t j = 0; j < 3; j++) {
        double mu[S_MAXN], lo = INFINITY, hi = -INFINITY;
        s_means(&p, j, p.n, p.x, mu);
        for (size_t i = 0; i < p.n; i++) {
            lo = fmin(lo, mu[i]);
            hi = fmax(hi, mu[i]);
        }
        assert_true(fabs(info.lo[j] - lo) < 1e-9 && fabs(info.hi[j] - hi) < 1e-9);
    }
    hone_acqf_destroy(&acqf);
    /* an explicit baseline: the first 5 points */
    hone_acqf_mo_context_t ctx = s_context(&p, w, 0, NULL, 11);
    ctx.n_baseline = 5;
    ctx.baseline = p.x;
    acqf = hone_acqf_mo_new(&hone_acqf_mo_qlognparego, &ctx);
    assert_non_null(acqf);
    assert_int_equal(hone_acqf_qlognei_info(acqf, &info), HONE_OK);
    assert_true(info.n_baseline <= 5);
    for (size_t j = 0; j < 3; j++) {
        double mu[S_MAXN], lo = INFINITY, hi = -INFINITY;
        s_means(&p, j, 5, p.x, mu);
        for (size_t i = 0; i < 5; i++) {
            lo = fmin(lo, mu[i]);
            hi = fmax(hi, mu[i]);
        }
        assert_true(fabs(info.lo[j] - lo) < 1e-9 && fabs(info.hi[j] - hi) < 1e-9);
    }
    hone_acqf_destroy(&acqf);
    s_problem_free(&p);
}

/* ---- the reference: qLogNEI on the scalarization by plain Monte Carlo ---- */

#define S_REF_DRAWS 100000

/* h of get_chebyshev_scalarization (maximization form), or the plain weighted sum. */
static double s_h(size_t m, const double *w, const double *lo, const double *hi,
                  const double *y, bool chebyshev)
{
    double top = -INFINITY, sum = 0.0;
    for (size_t j = 0; j < m; j++) {
        double yb = (hi[j] - y[j]) / (hi[j] - lo[j]);
        top = fmax(top, w[j] * yb);
        sum += w[j] * yb;
    }
    return chebyshev ? -(top + 0.05 * sum) : -sum;
}

/* E[max(h(f_x) − max_i h(f_b,i), 0)] with X_b = training + pending points by plain joint
 * draws (fixed models); *wrong the same with the plain weighted sum; *se standard errors. */
static double s_reference(const s_problem_t *p, const double *w, const double *lo,
                          const double *hi, size_t n_pending, const double *pending,
                          const double *x, double *wrong, double *se)
{
    size_t n = p->n, d = p->d, m = p->m, nb = n + n_pending, q = nb + 1;
    double z[(S_MAXN + 4) * S_MAXD];
    assert_true(n_pending <= 4);
    memcpy(z, p->x, n * d * sizeof(double));
    if (n_pending > 0)
        memcpy(z + n * d, pending, n_pending * d * sizeof(double));
    memcpy(z + nb * d, x, d * sizeof(double));
    double *mu[S_MAXM], *chol[S_MAXM], *f[S_MAXM];
    for (size_t j = 0; j < m; j++) {
        mu[j] = calloc(q, sizeof(double));
        chol[j] = calloc(q * q, sizeof(double));
        f[j] = calloc(q, sizeof(double));
        assert_true(mu[j] && chol[j] && f[j]);
        mc_joint_posterior(n, d, p->x, p->y[j], p->ls[j], p->noise, q, z, mu[j], chol[j]);
    }
    double *e = calloc(q, sizeof(double));
    assert_true(e);
    hone_rng_t rng;
    hone_rng_seed(&rng, 4242);
    double sum = 0.0, sum2 = 0.0, wsum = 0.0;
    for (size_t s = 0; s < S_REF_DRAWS; s++) {
        for (size_t j = 0; j < m; j++) {
            for (size_t a = 0; a < q; a++)
                e[a] = mc_normal(&rng);
            mc_draw(q, mu[j], chol[j], e, f[j]);
        }
        double best = -INFINITY, best_w = -INFINITY, y[S_MAXM];
        for (size_t i = 0; i <= nb; i++) {
            for (size_t j = 0; j < m; j++)
                y[j] = f[j][i];
            double h = s_h(m, w, lo, hi, y, true), hw = s_h(m, w, lo, hi, y, false);
            if (i < nb) {
                best = fmax(best, h);
                best_w = fmax(best_w, hw);
                continue;
            }
            double imp = fmax(h - best, 0.0);
            sum += imp;
            sum2 += imp * imp;
            wsum += fmax(hw - best_w, 0.0);
        }
    }
    for (size_t j = 0; j < m; j++) {
        free(mu[j]);
        free(chol[j]);
        free(f[j]);
    }
    free(e);
    double draws = (double) S_REF_DRAWS, mean = sum / draws;
    *se = sqrt(fmax(sum2 / draws - mean * mean, 0.0) / draws);
    *wrong = wsum / draws;
    return mean;
}

/* qLogNParEGO with fixed weights against the reference, m = 2 and 3, with and without
 * pending points, at the best of 400 random candidates (0.1 apart). exp(value) is
 * averaged over 32 seeds (N = 128 each); the tolerance on the log is 0.03 plus four
 * standard errors. The plain weighted sum must fail it at a good share of the points. */
static void test_matches_joint_posterior(void **state)
{
    (void) state;
    enum { SEEDS = 32, PICK = 5 };
    double pending[4] = {0.2, 0.7, 0.6, 0.4};
    double weights[2][3] = {{0.7, 0.3, 0.0}, {0.5, 0.2, 0.3}};
    size_t compared = 0, caught = 0;
    for (size_t m = 2; m <= 3; m++) {
        s_problem_t p;
        s_problem(&p, m, 2, 9, 20 + m, HONE_KERNEL_RBF, false);
        const double *w = weights[m - 2];
        for (size_t np = 0; np <= 2; np += 2) {
            hone_acqf_t *acqf[SEEDS];
            for (size_t k = 0; k < SEEDS; k++)
                acqf[k] = s_parego(&p, w, np, pending, 30 + k);
            hone_acqf_qlognei_info_t info;
            assert_int_equal(hone_acqf_qlognei_info(acqf[0], &info), HONE_OK);
            double picked[PICK * 2];
            hone_rng_t rng;
            hone_rng_seed(&rng, 40 + m + np);
            assert_int_equal(mc_pick(acqf[0], 2, &rng, PICK, picked), PICK);
            for (size_t i = 0; i < PICK; i++) {
                const double *x = picked + 2 * i;
                double se_acq, se_ref, wrong;
                double mean = mc_seed_mean(acqf, SEEDS, x, &se_acq);
                double ref = s_reference(&p, w, info.lo, info.hi, np, pending, x, &wrong,
                                         &se_ref);
                double tol = 0.03 + 4.0 * sqrt(se_acq * se_acq + se_ref * se_ref) / ref;
                print_message("m=%zu pending=%zu x=(%.3f, %.3f): qLogNParEGO %.4f, reference "
                              "%.4f, tol %.3f; weighted sum %.4f\n", m, np, x[0], x[1],
                              log(mean), log(ref), tol, log(wrong));
                if (!(fabs(log(mean) - log(ref)) < tol)) {
                    print_error("qLogNParEGO %.4f, reference %.4f\n", log(mean), log(ref));
                    fail();
                }
                caught += !(fabs(log(mean) - log(wrong)) < tol);
                compared++;
            }
            for (size_t k = 0; k < SEEDS; k++)
                hone_acqf_destroy(&acqf[k]);
        }
        s_problem_free(&p);
    }
    print_message("weighted sum rejected at %zu of %zu points\n", caught, compared);
    assert_true(3 * caught >= compared);
}

/* h is linear in the weights: with 3w every improvement is 3 times larger, so the value
 * grows by log 3 wherever the improvements are far above fatplus's τ = 1e-6 (here: value
 * > −8; the pruning, the pre-filter and the infeasible value are unchanged by the
 * scale). */
static void test_weight_scale(void **state)
{
    (void) state;
    s_problem_t p;
    s_problem(&p, 3, 3, 20, 50, HONE_KERNEL_MATERN52, true);
    double w[3] = {0.2, 0.5, 0.3}, w3[3] = {0.6, 1.5, 0.9};
    hone_acqf_t *a = s_parego(&p, w, 0, NULL, 51), *b = s_parego(&p, w3, 0, NULL, 51);
    hone_rng_t rng;
    hone_rng_seed(&rng, 52);
    size_t compared = 0;
    for (int t = 0; t < 200; t++) {
        double x[3] = {hone_rng_uniform(&rng), hone_rng_uniform(&rng), hone_rng_uniform(&rng)};
        double va, vb;
        assert_int_equal(hone_acqf_eval(a, 1, x, &va), HONE_OK);
        assert_int_equal(hone_acqf_eval(b, 1, x, &vb), HONE_OK);
        if (va < -8.0)
            continue;
        assert_true(fabs(vb - va - log(3.0)) < 1e-6);
        compared++;
    }
    assert_true(compared >= 20);
    hone_acqf_destroy(&a);
    hone_acqf_destroy(&b);
    s_problem_free(&p);
}

/* A constraint bound far above every draw: the value and gradient are the unconstrained
 * ParEGO's (same seed and weights: the constraint model's samples come from their own
 * sequence and stream). */
static void test_far_bound(void **state)
{
    (void) state;
    s_problem_t p;
    s_problem(&p, 3, 3, 20, 60, HONE_KERNEL_RBF, true);
    double w[3] = {0.3, 0.3, 0.4}, bound = 50.0, pending[3] = {0.5, 0.2, 0.8};
    hone_acqf_t *plain = s_parego(&p, w, 1, pending, 61);
    hone_acqf_mo_context_t ctx = s_context(&p, w, 1, pending, 61);
    ctx.n_con_models = 1;
    ctx.con_models = (const hone_gp_t *const *) &p.c;
    ctx.n_con = 1;
    ctx.con_bounds = &bound;
    hone_acqf_t *con = hone_acqf_mo_new(&hone_acqf_mo_qlognparego, &ctx);
    assert_non_null(con);
    hone_rng_t rng;
    hone_rng_seed(&rng, 62);
    mc_check_same(plain, con, 3, &rng);
    hone_acqf_destroy(&plain);
    hone_acqf_destroy(&con);
    s_problem_free(&p);
}

/* The (sub)gradient against central differences: m = 2, 3, 5, fitted models, with and
 * without pending points, and with a constraint (c <= 0.3). A sample whose maximizing
 * objective switches within the step would show; at random points none does. */
static void test_gradient_fd(void **state)
{
    (void) state;
    double pending[2 * 4];
    hone_rng_t rng;
    hone_rng_seed(&rng, 70);
    for (size_t i = 0; i < 8; i++)
        pending[i] = hone_rng_uniform(&rng);
    for (size_t m = 2; m <= 5; m += (m == 3 ? 2 : 1)) {
        s_problem_t p;
        hone_kernel_kind_t kernel = m == 3 ? HONE_KERNEL_MATERN52 : HONE_KERNEL_RBF;
        s_problem(&p, m, 4, 25, 71 + m, kernel, true);
        for (int t = 0; t < 3; t++) {
            hone_acqf_mo_context_t ctx = s_context(&p, NULL, t == 1 ? 2 : 0, pending, 72 + m);
            double bound = 0.3;
            if (t == 2) {
                ctx.n_con_models = 1;
                ctx.con_models = (const hone_gp_t *const *) &p.c;
                ctx.n_con = 1;
                ctx.con_bounds = &bound;
            }
            hone_acqf_t *acqf = hone_acqf_mo_new(&hone_acqf_mo_qlognparego, &ctx);
            assert_non_null(acqf);
            acqf_check_gradient(acqf, 4, &rng, 25, 1e-6, 1e-4, 1e-7);
            hone_acqf_destroy(&acqf);
        }
        s_problem_free(&p);
    }
}

/* Five to eight objectives (Ax's range for ParEGO) under hone_acqf_optimize: the answer
 * beats every raw sample and is a local maximum: no step of 1e-3 or 1e-4 along a
 * coordinate (inside the box) gains more than 1e-6. The gradient need not vanish there:
 * as with BoTorch's hard max, the optimum can sit on a kink where one sample's
 * maximizing objective changes. */
static void test_many_objectives(void **state)
{
    (void) state;
    for (size_t m = 5; m <= 8; m += 3) {
        s_problem_t p;
        s_problem(&p, m, 3, 30, 80 + m, HONE_KERNEL_MATERN52, true);
        double pending[3] = {0.3, 0.6, 0.5};
        hone_acqf_t *acqf = s_parego(&p, NULL, 1, pending, 81);
        hone_acqf_opt_options_t opts;
        hone_acqf_opt_options_init(&opts);
        opts.seed = 82;
        double x[3], value;
        hone_error_t err;
        assert_int_equal(hone_acqf_optimize(acqf, &(hone_acqf_space_t){.d = 3}, p.x, p.n, &opts,
                                            x, &value, &err), HONE_OK);
        double raw[1024 * 3], vals[1024];
        hone_sobol_t *sobol = hone_sobol_new(3, true, 83);
        assert_int_equal(hone_sobol_next(sobol, 1024, raw), HONE_OK);
        hone_sobol_destroy(&sobol);
        assert_int_equal(hone_acqf_eval(acqf, 1024, raw, vals), HONE_OK);
        for (size_t i = 0; i < 1024; i++)
            assert_true(vals[i] <= value + 1e-12);
        double g[3], v, gain = -INFINITY;
        assert_int_equal(hone_acqf_eval_grad(acqf, x, &v, g), HONE_OK);
        for (size_t a = 0; a < 3; a++)
            for (int k = 0; k < 4; k++) {
                double xs[3] = {x[0], x[1], x[2]}, vs;
                xs[a] += (k % 2 ? -1.0 : 1.0) * (k < 2 ? 1e-3 : 1e-4);
                if (xs[a] < 0.0 || xs[a] > 1.0)
                    continue;
                assert_int_equal(hone_acqf_eval(acqf, 1, xs, &vs), HONE_OK);
                gain = fmax(gain, vs - value);
            }
        print_message("m=%zu: best %.4f at (%.3f, %.3f, %.3f), gradient (%.2g, %.2g, %.2g), "
                      "best neighbour gains %.2g\n", m, value, x[0], x[1], x[2], g[0], g[1],
                      g[2], gain);
        assert_true(gain < 1e-6);
        hone_acqf_destroy(&acqf);
        s_problem_free(&p);
    }
}

/* Batches past the internal chunk equal point-by-point evaluation; the same seed gives
 * the same values, another one other weights; NaN input is refused. */
static void test_batches_and_seed(void **state)
{
    (void) state;
    s_problem_t p;
    s_problem(&p, 5, 3, 30, 90, HONE_KERNEL_MATERN52, true);
    hone_acqf_t *a = s_parego(&p, NULL, 0, NULL, 91), *b = s_parego(&p, NULL, 0, NULL, 91);
    hone_acqf_t *c = s_parego(&p, NULL, 0, NULL, 92);
    hone_acqf_qlognei_info_t ia, ic;
    assert_int_equal(hone_acqf_qlognei_info(a, &ia), HONE_OK);
    assert_int_equal(hone_acqf_qlognei_info(c, &ic), HONE_OK);
    assert_true(memcmp(ia.weights, ic.weights, 5 * sizeof(double)) != 0);
    hone_rng_t rng;
    hone_rng_seed(&rng, 93);
    mc_check_batches(a, b, 3, 700, &rng);
    hone_acqf_destroy(&a);
    hone_acqf_destroy(&b);
    hone_acqf_destroy(&c);
    s_problem_free(&p);
}

/* Invalid contexts are refused. */
static void test_create_rejects(void **state)
{
    (void) state;
    s_problem_t p;
    s_problem(&p, 3, 2, 10, 95, HONE_KERNEL_RBF, false);
    double w[3] = {0.2, 0.3, 0.5};
    hone_acqf_mo_context_t ctx = s_context(&p, w, 0, NULL, 96);
    hone_acqf_t *ok = hone_acqf_mo_new(&hone_acqf_mo_qlognparego, &ctx);
    assert_non_null(ok);
    hone_acqf_destroy(&ok);
    assert_null(hone_acqf_mo_qlognparego.create(NULL));
    ctx.m = 1;
    assert_null(hone_acqf_mo_new(&hone_acqf_mo_qlognparego, &ctx));
    ctx.m = 3;
    double negative[3] = {0.5, -0.1, 0.6}, zero[3] = {0, 0, 0}, nan[3] = {0.5, NAN, 0.5};
    ctx.weights = negative;
    assert_null(hone_acqf_mo_new(&hone_acqf_mo_qlognparego, &ctx));
    ctx.weights = zero;
    assert_null(hone_acqf_mo_new(&hone_acqf_mo_qlognparego, &ctx));
    ctx.weights = nan;
    assert_null(hone_acqf_mo_new(&hone_acqf_mo_qlognparego, &ctx));
    ctx.weights = w;
    ctx.n_baseline = 0;   /* an empty baseline */
    ctx.baseline = p.x;
    assert_null(hone_acqf_mo_new(&hone_acqf_mo_qlognparego, &ctx));
    ctx.baseline = NULL;
    double bound = 0.0;
    ctx.n_con_models = HONE_ACQF_MO_MAX_OUTPUTS - 2;   /* 65 outputs */
    ctx.n_con = 1;
    ctx.con_bounds = &bound;
    ctx.con_weights = w;
    assert_null(hone_acqf_mo_new(&hone_acqf_mo_qlognparego, &ctx));
    s_problem_free(&p);
}

/* The cost per evaluation (informational): m = 5 and 8, n = 20 and 50 fitted models on
 * d = 4, one pending point, with and without a constraint. */
static void test_cost(void **state)
{
    (void) state;
    double pending[4] = {0.5, 0.4, 0.6, 0.3}, bound = 0.5;
    for (size_t m = 5; m <= 8; m += 3) {
        for (size_t n = 20; n <= 50; n += 30) {
            s_problem_t p;
            s_problem(&p, m, 4, n, 100 + n + m, HONE_KERNEL_MATERN52, true);
            for (int con = 0; con <= 1; con++) {
                hone_acqf_mo_context_t ctx = s_context(&p, NULL, 1, pending, 101);
                if (con) {
                    ctx.n_con_models = 1;
                    ctx.con_models = (const hone_gp_t *const *) &p.c;
                    ctx.n_con = 1;
                    ctx.con_bounds = &bound;
                }
                double t0 = mc_now_ms();
                hone_acqf_t *acqf = hone_acqf_mo_new(&hone_acqf_mo_qlognparego, &ctx);
                assert_non_null(acqf);
                double t_create = mc_now_ms() - t0, t_batch, t_grad;
                hone_acqf_qlognei_info_t info;
                assert_int_equal(hone_acqf_qlognei_info(acqf, &info), HONE_OK);
                mc_cost(acqf, 4, &t_batch, &t_grad);
                print_message("m=%zu n=%zu%s: baseline %zu; create %.1f ms, eval %.3f ms/point "
                              "(batched), eval_grad %.3f ms\n", m, n,
                              con ? " + 1 constraint" : "", info.n_baseline, t_create, t_batch,
                              t_grad);
                hone_acqf_destroy(&acqf);
            }
            s_problem_free(&p);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_simplex),
        cmocka_unit_test(test_normalization),
        cmocka_unit_test(test_matches_joint_posterior),
        cmocka_unit_test(test_weight_scale),
        cmocka_unit_test(test_far_bound),
        cmocka_unit_test(test_gradient_fd),
        cmocka_unit_test(test_many_objectives),
        cmocka_unit_test(test_batches_and_seed),
        cmocka_unit_test(test_create_rejects),
        cmocka_unit_test(test_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
