/* Unit tests for core/warp.c: the Yeo-Johnson output warp. Checks the transform against
 * its closed forms, the maximum-likelihood λ against a brute-force grid, that lognormal
 * data is pulled towards symmetry and normal data left almost alone, monotonicity, and
 * the derivative against central differences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "rng.h"
#include "special.h"
#include "warp.h"

static double s_normal(hone_rng_t *rng)
{
    return hone_special_normal_from_uniform(hone_rng_uniform(rng));
}

/* The profile log-likelihood, written out independently of warp.c. */
static double s_loglik(const double *y, size_t n, double lambda)
{
    double mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        mean += y[i] / (double) n;
    for (size_t i = 0; i < n; i++)
        ss += (y[i] - mean) * (y[i] - mean);
    double sd = sqrt(ss / (double) (n - 1));
    hone_warp_t w = {.mean = mean, .sd = sd, .lambda = lambda};
    double m = 0, v = 0, jac = 0;
    for (size_t i = 0; i < n; i++)
        m += hone_warp_apply(&w, y[i], NULL) / (double) n;
    for (size_t i = 0; i < n; i++) {
        double t = hone_warp_apply(&w, y[i], NULL) - m, z = (y[i] - mean) / sd;
        v += t * t / (double) n;
        jac += (z >= 0 ? 1.0 : -1.0) * log(1.0 + fabs(z));
    }
    return -0.5 * (double) n * log(v) + (lambda - 1.0) * jac;
}

static double s_skewness(const double *y, size_t n)
{
    double m = 0, m2 = 0, m3 = 0;
    for (size_t i = 0; i < n; i++)
        m += y[i] / (double) n;
    for (size_t i = 0; i < n; i++) {
        m2 += pow(y[i] - m, 2) / (double) n;
        m3 += pow(y[i] - m, 3) / (double) n;
    }
    return m3 / pow(m2, 1.5);
}

static void test_closed_forms(void **state)
{
    (void) state;
    hone_warp_t w = {.mean = 0.0, .sd = 1.0, .lambda = 0.0};
    assert_true(fabs(hone_warp_apply(&w, 3.0, NULL) - log(4.0)) < 1e-15);
    assert_true(fabs(hone_warp_apply(&w, -3.0, NULL) - (-(16.0 - 1.0) / 2.0)) < 1e-13);
    w.lambda = 2.0;
    assert_true(fabs(hone_warp_apply(&w, -3.0, NULL) + log(4.0)) < 1e-15);
    assert_true(fabs(hone_warp_apply(&w, 3.0, NULL) - (16.0 - 1.0) / 2.0) < 1e-13);
    hone_warp_t id = hone_warp_identity();
    for (double y = -5.0; y <= 5.0; y += 0.5)
        assert_true(fabs(hone_warp_apply(&id, y, NULL) - y) < 1e-14);
    /* too few points, or constant values: the identity */
    double few[3] = {1, 2, 100}, flat[5] = {2, 2, 2, 2, 2};
    assert_true(hone_warp_fit(few, 3).lambda == 1.0);
    hone_warp_t f = hone_warp_fit(flat, 5);
    assert_true(f.lambda == 1.0 && f.mean == 0.0 && f.sd == 1.0);
}

/* λ from the golden-section search is the grid maximum of an independent likelihood. */
static void test_lambda_is_mle(void **state)
{
    (void) state;
    hone_rng_t rng;
    hone_rng_seed(&rng, 1);
    double y[200];
    for (int trial = 0; trial < 4; trial++) {
        for (size_t i = 0; i < 200; i++) {
            double z = s_normal(&rng);
            y[i] = trial == 0 ? exp(1.5 * z) : trial == 1 ? -exp(z) : trial == 2 ? z : z * z * z;
        }
        hone_warp_t w = hone_warp_fit(y, 200);
        double best = -INFINITY, at = 0.0;
        for (double l = HONE_WARP_LAMBDA_MIN; l <= HONE_WARP_LAMBDA_MAX + 1e-9; l += 0.001) {
            double v = s_loglik(y, 200, l);
            if (v > best) {
                best = v;
                at = l;
            }
        }
        assert_true(fabs(w.lambda - at) < 2e-3);
        assert_true(s_loglik(y, 200, w.lambda) >= best - 1e-6);
    }
}

/* Right-skewed (lognormal) data gets λ < 1 and loses most of its skewness; left-skewed
 * data (a maximized cost) gets λ > 1; Gaussian data keeps λ near 1. */
static void test_symmetrizes(void **state)
{
    (void) state;
    hone_rng_t rng;
    hone_rng_seed(&rng, 2);
    double y[500], t[500];
    for (size_t i = 0; i < 500; i++)
        y[i] = exp(s_normal(&rng));
    hone_warp_t w = hone_warp_fit(y, 500);
    for (size_t i = 0; i < 500; i++)
        t[i] = hone_warp_apply(&w, y[i], NULL);
    assert_true(w.lambda < 1.0);
    assert_true(s_skewness(y, 500) > 3.0 && fabs(s_skewness(t, 500)) < 0.5);
    for (size_t i = 0; i < 500; i++)
        y[i] = -y[i];
    assert_true(hone_warp_fit(y, 500).lambda > 1.0);
    for (size_t i = 0; i < 500; i++)
        y[i] = 3.0 + 2.0 * s_normal(&rng);
    assert_true(fabs(hone_warp_fit(y, 500).lambda - 1.0) < 0.3);
}

/* Increasing, with the derivative of central differences, for every λ in the range. */
static void test_monotone_and_derivative(void **state)
{
    (void) state;
    for (double l = HONE_WARP_LAMBDA_MIN; l <= HONE_WARP_LAMBDA_MAX; l += 0.25) {
        hone_warp_t w = {.mean = 1.0, .sd = 2.0, .lambda = l};
        double prev = -INFINITY;
        for (double y = -20.0; y <= 20.0; y += 0.37) {
            double d, v = hone_warp_apply(&w, y, &d);
            assert_true(v > prev && d > 0.0);
            prev = v;
            double h = 1e-6;
            double fd = (hone_warp_apply(&w, y + h, NULL) - hone_warp_apply(&w, y - h, NULL)) / (2 * h);
            assert_true(fabs(fd - d) <= 1e-6 * fmax(1.0, fabs(d)));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_forms),
        cmocka_unit_test(test_lambda_is_mle),
        cmocka_unit_test(test_symmetrizes),
        cmocka_unit_test(test_monotone_and_derivative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
