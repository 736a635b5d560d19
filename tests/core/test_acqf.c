/* Unit tests for core/acqf's analytic acquisitions on a fitted GP: LogEI against the
 * naive EI formula, its gradient against central finite differences, the far tail,
 * batching, refused contexts, the penalized variant with pending points, and the
 * optimizer on LogEI. The optimizer on fake surfaces is tested in test_acqf_opt.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acqf_impl.h"
#include "clock.h"
#include "err.h"
#include "gp.h"
#include "rng.h"
#include "sobol.h"
#include "test_support.h"
#include "acqf_check.h"
#include "acqf_box_check.h"

/* ---- LogEI on a fitted GP ---- */

typedef struct {
    hone_gp_t *gp;          /* fitted on n points of a smooth function in [0,1]^d */
    size_t d, n;
    double *x;              /* training inputs, n × d */
    double best_f;          /* best posterior mean at the training inputs */
} s_model_t;

/* A smooth test function, standardized by the caller. */
static double s_truth(const double *x, size_t d)
{
    double f = 0.0;
    for (size_t a = 0; a < d; a++)
        f += sin(3.0 * x[a] + 0.5 * (double) a) * (1.0 + 0.3 * x[(a + 1) % d]);
    return f;
}

static s_model_t s_model(size_t d, size_t n, uint64_t seed)
{
    s_model_t m = {.d = d, .n = n};
    hone_rng_t rng;
    hone_rng_seed(&rng, seed);
    m.x = calloc(n * d, sizeof(double));
    double *y = calloc(n, sizeof(double));
    double *mu = calloc(n, sizeof(double));
    double *var = calloc(n, sizeof(double));
    assert_true(m.x && y && mu && var);
    double mean = 0.0, ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        for (size_t a = 0; a < d; a++)
            m.x[i * d + a] = hone_rng_uniform(&rng);
        y[i] = s_truth(m.x + i * d, d);
        mean += y[i] / (double) n;
    }
    for (size_t i = 0; i < n; i++)
        ss += (y[i] - mean) * (y[i] - mean);
    for (size_t i = 0; i < n; i++)
        y[i] = (y[i] - mean) / sqrt(ss / (double) (n - 1));
    m.gp = hone_gp_new(d, HONE_KERNEL_RBF);
    assert_non_null(m.gp);
    assert_int_equal(hone_gp_set_data(m.gp, n, m.x, y, NULL), HONE_OK);
    assert_int_equal(hone_gp_fit(m.gp, NULL, &rng), HONE_OK);
    hone_gp_work_t *work = hone_gp_work_new(m.gp, n);
    assert_int_equal(hone_gp_predict(m.gp, n, m.x, mu, var, work), HONE_OK);
    hone_gp_work_destroy(&work);
    m.best_f = -INFINITY;
    for (size_t i = 0; i < n; i++)
        m.best_f = fmax(m.best_f, mu[i]);
    free(y);
    free(mu);
    free(var);
    return m;
}

static void s_model_free(s_model_t *m)
{
    hone_gp_destroy(&m->gp);
    free(m->x);
}

static hone_acqf_t *s_logei(const s_model_t *m, double shift)
{
    hone_acqf_context_t ctx = {.model = m->gp, .best_f = m->best_f + shift};
    hone_acqf_t *acqf = hone_acqf_new(&hone_acqf_logei, &ctx);
    assert_non_null(acqf);
    assert_true(hone_acqf_type_of(acqf) == &hone_acqf_logei);
    assert_true(hone_acqf_dim(acqf) == m->d);
    return acqf;
}

/* log(σ·(φ(z) + zΦ(z))) in long double from the GP's own mean and variance: fine while
 * EI does not underflow long double (z > −150) and the cancellation stays far below
 * its 64-bit mantissa (|z| < 100: a loss of 1e4 at most). */
static void test_logei_matches_naive(void **state)
{
    (void) state;
    s_model_t m = s_model(6, 50, 3);
    hone_gp_work_t *work = hone_gp_work_new(m.gp, 1);
    hone_rng_t rng;
    hone_rng_seed(&rng, 77);
    static const double shifts[] = {0.0, 0.5, 2.0, 5.0};
    size_t checked = 0;
    for (size_t s = 0; s < sizeof shifts / sizeof shifts[0]; s++) {
        hone_acqf_t *acqf = s_logei(&m, shifts[s]);
        double x[500 * 6], value[500];
        for (size_t i = 0; i < 500 * 6; i++)
            x[i] = hone_rng_uniform(&rng);
        assert_int_equal(hone_acqf_eval(acqf, 500, x, value), HONE_OK);
        for (size_t i = 0; i < 500; i++) {
            double mu, var;
            assert_int_equal(hone_gp_predict(m.gp, 1, x + 6 * i, &mu, &var, work), HONE_OK);
            long double sigma = sqrtl((long double) var);
            long double z = ((long double) mu - (long double) (m.best_f + shifts[s])) / sigma;
            if (fabsl(z) > 100.0L)
                continue;
            long double h = expl(-0.5L * z * z) / sqrtl(2.0L * 3.14159265358979323846264L)
                            + z * 0.5L * erfcl(-z / sqrtl(2.0L));
            long double naive = logl(sigma * h);
            assert_true(fabsl((long double) value[i] - naive) <= 1e-10L * fmaxl(1.0L, fabsl(naive)));
            checked++;
        }
        hone_acqf_destroy(&acqf);
        assert_null(acqf);
    }
    if (checked < 1900) {
        print_error("only %zu points compared\n", checked);
        fail();
    }
    hone_gp_work_destroy(&work);
    s_model_free(&m);
}

static void test_logei_gradient_fd(void **state)
{
    (void) state;
    s_model_t m = s_model(6, 50, 4);
    hone_rng_t rng;
    hone_rng_seed(&rng, 5);
    static const double shifts[] = {0.0, 1.0, 8.0, 40.0};
    for (size_t s = 0; s < sizeof shifts / sizeof shifts[0]; s++) {
        hone_acqf_t *acqf = s_logei(&m, shifts[s]);
        acqf_check_gradient(acqf, 6, &rng, 100, 1e-5, 1e-5, 1e-8);
        hone_acqf_destroy(&acqf);
    }
    s_model_free(&m);
}

/* Finite and increasing in μ − f* however far the incumbent is (z down to −1e6). */
static void test_logei_far_tail(void **state)
{
    (void) state;
    s_model_t m = s_model(3, 20, 6);
    double x[3] = {0.3, 0.6, 0.9};
    double prev = INFINITY;
    for (double shift = 1.0; shift <= 1e4; shift *= 10.0) {
        hone_acqf_t *acqf = s_logei(&m, shift);
        double v, g[3];
        assert_int_equal(hone_acqf_eval_grad(acqf, x, &v, g), HONE_OK);
        assert_true(isfinite(v) && v < prev);
        for (size_t a = 0; a < 3; a++)
            assert_true(isfinite(g[a]));
        prev = v;
        hone_acqf_destroy(&acqf);
    }
    s_model_free(&m);
}

/* One batch of 2500 (more than the internal chunk) equals point-by-point evaluation. */
static void test_logei_batches(void **state)
{
    (void) state;
    s_model_t m = s_model(4, 30, 8);
    hone_acqf_t *acqf = s_logei(&m, 0.2);
    hone_rng_t rng;
    hone_rng_seed(&rng, 9);
    size_t n = 2500;
    double *x = calloc(n * 4, sizeof(double)), *v = calloc(n, sizeof(double));
    assert_true(x && v);
    for (size_t i = 0; i < n * 4; i++)
        x[i] = hone_rng_uniform(&rng);
    assert_int_equal(hone_acqf_eval(acqf, n, x, v), HONE_OK);
    for (size_t i = 0; i < n; i += 7) {
        double one;
        assert_int_equal(hone_acqf_eval(acqf, 1, x + 4 * i, &one), HONE_OK);
        assert_true(fabs(one - v[i]) <= 1e-12 * fmax(1.0, fabs(one)));
    }
    assert_int_equal(hone_acqf_eval(acqf, 0, NULL, NULL), HONE_OK);
    free(x);
    free(v);
    hone_acqf_destroy(&acqf);
    hone_acqf_destroy(&acqf);   /* safe twice */
    s_model_free(&m);
}

static void test_logei_create_rejects(void **state)
{
    (void) state;
    s_model_t m = s_model(2, 10, 10);
    hone_acqf_context_t ctx = {.model = m.gp, .best_f = NAN};
    assert_null(hone_acqf_logei.create(&ctx));
    ctx.best_f = INFINITY;
    assert_null(hone_acqf_logei.create(&ctx));
    ctx.model = NULL;
    ctx.best_f = 0.0;
    assert_null(hone_acqf_logei.create(&ctx));
    assert_null(hone_acqf_logei.create(NULL));
    s_model_free(&m);
}

/* The penalized variant: LogEI + Σ log(1 − exp(−½ Σ ((x − p)/ℓ)²)), −inf at a pending
 * point, equal to LogEI without pending points, and its gradient. */
static void test_logei_penalized(void **state)
{
    (void) state;
    s_model_t m = s_model(3, 25, 12);
    double pending[6] = {0.2, 0.4, 0.6, 0.8, 0.1, 0.5};
    hone_acqf_context_t ctx = {.model = m.gp, .best_f = m.best_f, .n_pending = 2,
                               .pending = pending};
    hone_acqf_t *pen = hone_acqf_new(&hone_acqf_logei_penalized, &ctx);
    hone_acqf_t *plain = hone_acqf_new(&hone_acqf_logei, &ctx);   /* ignores pending */
    ctx.n_pending = 0;
    hone_acqf_t *none = hone_acqf_new(&hone_acqf_logei_penalized, &ctx);
    assert_true(pen && plain && none);
    double ls[3];
    hone_gp_get_params(m.gp, ls, NULL, NULL);
    hone_rng_t rng;
    hone_rng_seed(&rng, 13);
    for (int i = 0; i < 200; i++) {
        double x[3], vp, vl, vn;
        for (size_t a = 0; a < 3; a++)
            x[a] = hone_rng_uniform(&rng);
        assert_int_equal(hone_acqf_eval(pen, 1, x, &vp), HONE_OK);
        assert_int_equal(hone_acqf_eval(plain, 1, x, &vl), HONE_OK);
        assert_int_equal(hone_acqf_eval(none, 1, x, &vn), HONE_OK);
        assert_true(vn == vl);
        double penalty = 0.0;
        for (size_t p = 0; p < 2; p++) {
            double s2 = 0.0;
            for (size_t a = 0; a < 3; a++)
                s2 += pow((x[a] - pending[3 * p + a]) / ls[a], 2);
            penalty += log(1.0 - exp(-0.5 * s2));
        }
        assert_true(fabs(vp - (vl + penalty)) <= 1e-9 * fmax(1.0, fabs(vp)));
    }
    double v;
    assert_int_equal(hone_acqf_eval(pen, 1, pending + 3, &v), HONE_OK);
    assert_true(v == -INFINITY);
    acqf_check_gradient(pen, 3, &rng, 100, 1e-5, 1e-5, 1e-8);
    hone_acqf_destroy(&pen);
    hone_acqf_destroy(&plain);
    hone_acqf_destroy(&none);
    s_model_free(&m);
}

/* The optimizer on LogEI (n = 50, d = 6): no raw sample and no training point is better
 * than the answer, and the answer is a local maximum (zero gradient inside the box). */
static void test_logei_optimize(void **state)
{
    (void) state;
    s_model_t m = s_model(6, 50, 14);
    hone_acqf_t *acqf = s_logei(&m, 0.0);
    hone_acqf_opt_options_t opts;
    hone_acqf_opt_options_init(&opts);
    opts.seed = 21;
    double x[6], value;
    hone_error_t err;
    int64_t t0 = hone_clock_mono_us();
    assert_int_equal(hone_acqf_optimize(acqf, &(hone_acqf_space_t){.d = 6}, m.x, m.n, &opts, x,
                                        &value, &err), HONE_OK);
    int64_t us = hone_clock_mono_us() - t0;
    assert_true(us < 5 * 1000 * 1000);   /* ~2 ms expected; catches a runaway */
    s_assert_in_box(x, 6);
    double *vals = calloc(1024, sizeof(double)), *raw = calloc(1024 * 6, sizeof(double));
    assert_true(vals && raw);
    hone_sobol_t *sobol = hone_sobol_new(6, true, hone_rng_derive(21, HONE_RNG_SOBOL_RAW));
    assert_int_equal(hone_sobol_next(sobol, 1024, raw), HONE_OK);
    hone_sobol_destroy(&sobol);
    assert_int_equal(hone_acqf_eval(acqf, 1024, raw, vals), HONE_OK);
    for (size_t i = 0; i < 1024; i++)
        assert_true(vals[i] <= value);
    assert_int_equal(hone_acqf_eval(acqf, m.n, m.x, vals), HONE_OK);
    for (size_t i = 0; i < m.n; i++)
        assert_true(vals[i] <= value);
    double g[6], v;
    assert_int_equal(hone_acqf_eval_grad(acqf, x, &v, g), HONE_OK);
    for (size_t a = 0; a < 6; a++)
        if (x[a] > 1e-6 && x[a] < 1.0 - 1e-6)
            assert_true(fabs(g[a]) < 1e-3 * fmax(1.0, fabs(v)));
    free(vals);
    free(raw);
    hone_acqf_destroy(&acqf);
    s_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logei_matches_naive),
        cmocka_unit_test(test_logei_gradient_fd),
        cmocka_unit_test(test_logei_far_tail),
        cmocka_unit_test(test_logei_batches),
        cmocka_unit_test(test_logei_create_rejects),
        cmocka_unit_test(test_logei_penalized),
        cmocka_unit_test(test_logei_optimize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
