/* Unit tests for core/acqf_qlognei.c: MC qLogNEI with a cached root decomposition.
 *
 * The reference is independent of the implementation: a small GP with known
 * hyperparameters whose joint posterior over (baseline, x) is built with explicit
 * matrices and a textbook Cholesky (mc_check.h), sampled with 200 000 pseudo-random
 * draws, and
 * E[max(f_x − max f_b, 0)] estimated directly. Also: the gradient against central
 * differences (with and without pending points, both kernels), the pending-point effect,
 * agreement with LogEI when the baseline is certain, batches, reproducibility and the
 * optimizer on it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acqf.h"
#include "gp.h"
#include "rng.h"
#include "sobol.h"
#include "special.h"
#include "test_support.h"
#include "acqf_check.h"
#include "mc_check.h"

#define S_MAXD 8

/* A GP on n points of a smooth function in [0,1]^d; hyperparameters fitted (fit true)
 * or set to ls/noise (fit false). Targets are standardized. */
typedef struct {
    hone_gp_t *gp;
    size_t d, n;
    double x[64 * S_MAXD];
    double y[64];
} s_model_t;

static double s_truth(const double *x, size_t d)
{
    double f = 0.0;
    for (size_t a = 0; a < d; a++)
        f += sin(3.0 * x[a] + 0.5 * (double) a) * (1.0 + 0.3 * x[(a + 1) % d]);
    return f;
}

static void s_model(s_model_t *m, size_t d, size_t n, uint64_t seed, hone_kernel_kind_t kernel,
                    bool fit, double ls, double noise)
{
    assert_true(d <= S_MAXD && n <= 64);
    m->d = d;
    m->n = n;
    hone_rng_t rng;
    hone_rng_seed(&rng, seed);
    double mean = 0.0, ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        for (size_t a = 0; a < d; a++)
            m->x[i * d + a] = hone_rng_uniform(&rng);
        m->y[i] = s_truth(m->x + i * d, d);
        mean += m->y[i] / (double) n;
    }
    for (size_t i = 0; i < n; i++)
        ss += (m->y[i] - mean) * (m->y[i] - mean);
    for (size_t i = 0; i < n; i++)
        m->y[i] = (m->y[i] - mean) / sqrt(ss / (double) (n - 1));
    m->gp = hone_gp_new(d, kernel);
    assert_int_equal(hone_gp_set_data(m->gp, n, m->x, m->y, NULL), HONE_OK);
    if (fit) {
        assert_int_equal(hone_gp_fit(m->gp, NULL, &rng), HONE_OK);
    }
    else {
        double lengthscales[S_MAXD];
        for (size_t a = 0; a < d; a++)
            lengthscales[a] = ls;
        hone_gp_set_params(m->gp, lengthscales, noise, 0.0);
        assert_int_equal(hone_gp_refresh(m->gp), HONE_OK);
    }
}

static hone_acqf_t *s_qlognei(const s_model_t *m, size_t n_pending, const double *pending,
                              uint64_t seed)
{
    hone_acqf_context_t ctx = {.model = m->gp, .n_pending = n_pending, .pending = pending,
                               .seed = seed};
    hone_acqf_t *acqf = hone_acqf_new(&hone_acqf_qlognei, &ctx);
    assert_non_null(acqf);
    assert_true(hone_acqf_type_of(acqf) == &hone_acqf_qlognei);
    assert_true(hone_acqf_dim(acqf) == m->d);
    return acqf;
}

/* ---- the reference: explicit joint posterior and plain Monte Carlo (mc_check.h) ---- */

/* log E[max(f_x − max_i f_b,i, 0)] under the GP posterior (RBF, lengthscale ls, noise
 * variance noise, mean 0) with baseline = training points + pending points. */
static double s_reference(const s_model_t *m, double ls, double noise, size_t n_pending,
                          const double *pending, const double *x)
{
    size_t n = m->n, d = m->d, p = n + n_pending + 1;
    double z[80 * S_MAXD];
    memcpy(z, m->x, n * d * sizeof(double));
    memcpy(z + n * d, pending, n_pending * d * sizeof(double));
    memcpy(z + (p - 1) * d, x, d * sizeof(double));
    double *cov = calloc(p * p, sizeof(double)), *mu = calloc(p, sizeof(double));
    assert_true(cov && mu);
    mc_joint_posterior(n, d, m->x, m->y, ls, noise, p, z, mu, cov);
    hone_rng_t rng;
    hone_rng_seed(&rng, 4242);
    double sum = 0.0, e[80], f[80];
    const size_t draws = 200000;
    for (size_t s = 0; s < draws; s++) {
        for (size_t a = 0; a < p; a++)
            e[a] = mc_normal(&rng);
        mc_draw(p, mu, cov, e, f);
        double best = -INFINITY;
        for (size_t a = 0; a + 1 < p; a++)
            best = fmax(best, f[a]);
        sum += fmax(f[p - 1] - best, 0.0);
    }
    free(cov);
    free(mu);
    return log(sum / (double) draws);
}

/* qLogNEI against the reference, with and without pending points, where the expected
 * improvement is not vanishing (log > −4). One set of 512 QMC samples has an error of
 * several percent there (all points share it), so the improvement is averaged over 8
 * seeds of base samples, then compared with 200 000 plain draws of the exact joint
 * posterior. */
static void test_matches_joint_posterior(void **state)
{
    (void) state;
    const double ls = 0.3, noise = 0.05;
    enum { SEEDS = 8 };
    s_model_t m;
    s_model(&m, 2, 8, 1, HONE_KERNEL_RBF, false, ls, noise);
    double pending[4] = {0.15, 0.85, 0.7, 0.3};
    hone_rng_t rng;
    hone_rng_seed(&rng, 2);
    size_t compared = 0;
    for (size_t np = 0; np <= 2; np += 2) {
        hone_acqf_t *acqf[SEEDS];
        for (size_t k = 0; k < SEEDS; k++)
            acqf[k] = s_qlognei(&m, np, pending, 3 + k);
        for (int t = 0; t < 60 && compared < 15 + 8 * np; t++) {
            double x[2] = {hone_rng_uniform(&rng), hone_rng_uniform(&rng)}, v, ei = 0.0;
            for (size_t k = 0; k < SEEDS; k++) {
                assert_int_equal(hone_acqf_eval(acqf[k], 1, x, &v), HONE_OK);
                ei += exp(v) / SEEDS;
            }
            if (log(ei) < -4.0)
                continue;
            double ref = s_reference(&m, ls, noise, np, pending, x);
            if (!(fabs(log(ei) - ref) < 0.04)) {
                print_error("x = (%.3f, %.3f), pending %zu: qLogNEI %.4f, reference %.4f\n", x[0],
                            x[1], np, log(ei), ref);
                fail();
            }
            compared++;
        }
        for (size_t k = 0; k < SEEDS; k++)
            hone_acqf_destroy(&acqf[k]);
    }
    assert_true(compared >= 25);
    hone_gp_destroy(&m.gp);
}

static void test_gradient_fd(void **state)
{
    (void) state;
    double pending[3 * 6];
    hone_rng_t rng;
    hone_rng_seed(&rng, 5);
    for (size_t i = 0; i < 3 * 6; i++)
        pending[i] = hone_rng_uniform(&rng);
    for (int kernel = 0; kernel < 2; kernel++) {
        s_model_t m;
        s_model(&m, 6, 40, 4 + (uint64_t) kernel, (hone_kernel_kind_t) kernel, true, 0, 0);
        for (size_t np = 0; np <= 3; np += 3) {
            hone_acqf_t *acqf = s_qlognei(&m, np, pending, 6);
            acqf_check_gradient(acqf, 6, &rng, 60, 1e-6, 1e-4, 1e-7);
            hone_acqf_destroy(&acqf);
        }
        hone_gp_destroy(&m.gp);
    }
}

/* A pending point is part of the baseline: at it, and close to it, nothing is to be
 * gained any more, so the value collapses there and nowhere far from it. */
static void test_pending_point(void **state)
{
    (void) state;
    s_model_t m;
    s_model(&m, 2, 20, 7, HONE_KERNEL_RBF, false, 0.15, 1e-3);
    hone_acqf_t *plain = s_qlognei(&m, 0, NULL, 8);
    /* The plain acquisition's best raw sample as the pending point. */
    double raw[512 * 2], vals[512];
    hone_sobol_t *sobol = hone_sobol_new(2, true, 9);
    assert_int_equal(hone_sobol_next(sobol, 512, raw), HONE_OK);
    hone_sobol_destroy(&sobol);
    assert_int_equal(hone_acqf_eval(plain, 512, raw, vals), HONE_OK);
    size_t best = 0;
    for (size_t i = 1; i < 512; i++)
        if (vals[i] > vals[best])
            best = i;
    const double *p = raw + 2 * best;
    hone_acqf_t *pend = s_qlognei(&m, 1, p, 8);
    double at_plain, at_pend;
    assert_int_equal(hone_acqf_eval(plain, 1, p, &at_plain), HONE_OK);
    assert_int_equal(hone_acqf_eval(pend, 1, p, &at_pend), HONE_OK);
    assert_true(at_pend < at_plain - 5.0);
    /* Far from it (three lengthscales and more) the value drops much less: only through the
     * pending point's share of the best baseline value in each sample. */
    double ls[2];
    hone_gp_get_params(m.gp, ls, NULL, NULL);
    size_t far = 0;
    for (size_t i = 0; i < 512; i++) {
        double r2 = 0.0;
        for (size_t a = 0; a < 2; a++)
            r2 += pow((raw[2 * i + a] - p[a]) / ls[a], 2);
        if (r2 < 9.0 || vals[i] < -5.0)
            continue;
        double v;
        assert_int_equal(hone_acqf_eval(pend, 1, raw + 2 * i, &v), HONE_OK);
        assert_true(v < vals[i] + 0.05 && v > vals[i] - 1.0);   /* other base samples: ±QMC error */
        far++;
    }
    assert_true(far > 0);
    hone_acqf_destroy(&plain);
    hone_acqf_destroy(&pend);
    hone_gp_destroy(&m.gp);
}

/* Almost noiseless data: the baseline is almost certain, so qLogNEI is LogEI with the
 * best observed mean as the incumbent (up to the QMC error). */
static void test_agrees_with_logei_when_certain(void **state)
{
    (void) state;
    s_model_t m;
    s_model(&m, 2, 15, 10, HONE_KERNEL_RBF, false, 0.25, 1e-6);
    double mu[15], var[15];
    hone_gp_work_t *work = hone_gp_work_new(m.gp, 15);
    assert_int_equal(hone_gp_predict(m.gp, 15, m.x, mu, var, work), HONE_OK);
    hone_gp_work_destroy(&work);
    double best_f = -INFINITY;
    for (size_t i = 0; i < 15; i++)
        best_f = fmax(best_f, mu[i]);
    hone_acqf_context_t ctx = {.model = m.gp, .best_f = best_f};
    hone_acqf_t *logei = hone_acqf_new(&hone_acqf_logei, &ctx);
    hone_acqf_t *q = s_qlognei(&m, 0, NULL, 11);
    hone_rng_t rng;
    hone_rng_seed(&rng, 12);
    size_t compared = 0;
    for (int t = 0; t < 400; t++) {
        double x[2] = {hone_rng_uniform(&rng), hone_rng_uniform(&rng)}, a, b;
        assert_int_equal(hone_acqf_eval(logei, 1, x, &a), HONE_OK);
        assert_int_equal(hone_acqf_eval(q, 1, x, &b), HONE_OK);
        if (a < -4.0)
            continue;
        assert_true(fabs(a - b) < 0.05);
        compared++;
    }
    assert_true(compared >= 20);
    hone_acqf_destroy(&logei);
    hone_acqf_destroy(&q);
    hone_gp_destroy(&m.gp);
}

/* One batch larger than the internal chunk equals point-by-point evaluation; the same seed
 * gives the same values, another seed other (close) values. */
static void test_batches_and_seed(void **state)
{
    (void) state;
    s_model_t m;
    s_model(&m, 4, 30, 13, HONE_KERNEL_MATERN52, true, 0, 0);
    double pending[4] = {0.5, 0.5, 0.5, 0.5};
    hone_acqf_t *a = s_qlognei(&m, 1, pending, 14);
    hone_acqf_t *b = s_qlognei(&m, 1, pending, 14);
    hone_acqf_t *c = s_qlognei(&m, 1, pending, 15);
    hone_rng_t rng;
    hone_rng_seed(&rng, 16);
    mc_check_seeded(a, b, c, 4, 700, &rng);
    hone_acqf_destroy(&a);
    hone_acqf_destroy(&b);
    hone_acqf_destroy(&c);
    hone_gp_destroy(&m.gp);
}

/* Pending points without their array, or a model without data, are refused. */
static void test_create_rejects(void **state)
{
    (void) state;
    s_model_t m;
    s_model(&m, 2, 10, 17, HONE_KERNEL_RBF, true, 0, 0);
    hone_acqf_context_t ctx = {.model = m.gp, .n_pending = 1, .pending = NULL};
    assert_null(hone_acqf_qlognei.create(&ctx));
    assert_null(hone_acqf_qlognei.create(NULL));
    hone_gp_t *empty = hone_gp_new(2, HONE_KERNEL_RBF);
    ctx = (hone_acqf_context_t) {.model = empty};
    assert_null(hone_acqf_qlognei.create(&ctx));
    hone_gp_destroy(&empty);
    hone_gp_destroy(&m.gp);
}

/* The optimizer on qLogNEI (n = 40, d = 6, two pending points): the answer beats every
 * raw sample and is a stationary point inside the box. */
static void test_optimize(void **state)
{
    (void) state;
    s_model_t m;
    s_model(&m, 6, 40, 18, HONE_KERNEL_MATERN52, true, 0, 0);
    double pending[12] = {0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.9, 0.1, 0.5, 0.5, 0.2, 0.8};
    hone_acqf_t *acqf = s_qlognei(&m, 2, pending, 19);
    hone_acqf_opt_options_t opts;
    hone_acqf_opt_options_init(&opts);
    opts.seed = 20;
    double x[6], value;
    hone_error_t err;
    assert_int_equal(hone_acqf_optimize(acqf, &(hone_acqf_space_t){.d = 6}, m.x, m.n, &opts, x,
                                        &value, &err), HONE_OK);
    double raw[1024 * 6], vals[1024];
    hone_sobol_t *sobol = hone_sobol_new(6, true, 21);
    assert_int_equal(hone_sobol_next(sobol, 1024, raw), HONE_OK);
    hone_sobol_destroy(&sobol);
    assert_int_equal(hone_acqf_eval(acqf, 1024, raw, vals), HONE_OK);
    for (size_t i = 0; i < 1024; i++)
        assert_true(vals[i] <= value + 1e-12);
    double g[6], v;
    assert_int_equal(hone_acqf_eval_grad(acqf, x, &v, g), HONE_OK);
    for (size_t a = 0; a < 6; a++)
        if (x[a] > 1e-6 && x[a] < 1.0 - 1e-6)
            assert_true(fabs(g[a]) < 1e-2 * fmax(1.0, fabs(v)));
    hone_acqf_destroy(&acqf);
    hone_gp_destroy(&m.gp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_joint_posterior),
        cmocka_unit_test(test_gradient_fd),
        cmocka_unit_test(test_pending_point),
        cmocka_unit_test(test_agrees_with_logei_when_certain),
        cmocka_unit_test(test_batches_and_seed),
        cmocka_unit_test(test_create_rejects),
        cmocka_unit_test(test_optimize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
