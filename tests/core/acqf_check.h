/* acqf_check.h: the finite-difference check of an acquisition's gradient, shared by
 * the acquisition tests (include after cmocka.h, acqf.h and rng.h). */
#ifndef HONE_TEST_ACQF_CHECK_H
#define HONE_TEST_ACQF_CHECK_H

#include <math.h>
#include <string.h>

#define ACQF_CHECK_MAXD 8

/* At `points` random points inside [0.05, 0.95]^d: eval_grad's value equals eval's, and
 * its gradient matches central differences of step h to |error| <= rel·|grad| + abs. */
static void acqf_check_gradient(hone_acqf_t *acqf, size_t d, hone_rng_t *rng, size_t points,
                                double h, double rel, double abs)
{
    double x[ACQF_CHECK_MAXD], g[ACQF_CHECK_MAXD], xp[ACQF_CHECK_MAXD];
    assert_true(d <= ACQF_CHECK_MAXD);
    for (size_t i = 0; i < points; i++) {
        for (size_t a = 0; a < d; a++)
            x[a] = 0.05 + 0.9 * hone_rng_uniform(rng);
        double v, v1;
        assert_int_equal(hone_acqf_eval_grad(acqf, x, &v, g), HONE_OK);
        assert_int_equal(hone_acqf_eval(acqf, 1, x, &v1), HONE_OK);
        assert_true(fabs(v - v1) <= 1e-12 * fmax(1.0, fabs(v)));
        double err2 = 0.0, norm2 = 0.0;
        for (size_t a = 0; a < d; a++) {
            double fp, fm;
            memcpy(xp, x, d * sizeof(double));
            xp[a] = x[a] + h;
            assert_int_equal(hone_acqf_eval(acqf, 1, xp, &fp), HONE_OK);
            xp[a] = x[a] - h;
            assert_int_equal(hone_acqf_eval(acqf, 1, xp, &fm), HONE_OK);
            double fd = (fp - fm) / (2.0 * h);
            err2 += (fd - g[a]) * (fd - g[a]);
            norm2 += g[a] * g[a];
        }
        if (!(sqrt(err2) <= rel * sqrt(norm2) + abs)) {
            print_error("gradient error %.3g, norm %.3g at point %zu (value %.3f)\n", sqrt(err2),
                        sqrt(norm2), i, v);
            fail();
        }
    }
}

#endif
