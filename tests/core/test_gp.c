/* Unit tests for core/gp (with kernel, linalg and optim underneath): the MAP objective
 * against closed forms and finite differences, the posterior against closed forms for
 * n = 1 and 2, prediction gradients, interpolation, lengthscale recovery by the fit,
 * reproducibility, rank-1 appends, truncation and batching. Fixed seeds throughout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "gp.h"
#include "gp_internal.h"
#include "linalg.h"
#include "rng.h"
#include "test_support.h"

#define LOG_2PI 1.83787706640934548356

static double *s_alloc(size_t count)
{
    double *p = calloc(count > 0 ? count : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

static double s_normal(hone_rng_t *rng)
{
    double u1 = 1.0 - hone_rng_uniform(rng), u2 = hone_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void s_uniform(hone_rng_t *rng, size_t count, double *out)
{
    for (size_t i = 0; i < count; i++)
        out[i] = hone_rng_uniform(rng);
}

/* κ for either kernel at squared scaled distance r2. */
static double s_kappa(hone_kernel_kind_t kind, double r2)
{
    if (kind == HONE_KERNEL_RBF)
        return exp(-0.5 * r2);
    double r = sqrt(r2);
    return (1.0 + sqrt(5.0) * r + 5.0 / 3.0 * r2) * exp(-sqrt(5.0) * r);
}

static double s_r2(size_t d, const double *x, const double *z, const double *ls)
{
    double s = 0.0;
    for (size_t a = 0; a < d; a++)
        s += (x[a] - z[a]) * (x[a] - z[a]) / (ls[a] * ls[a]);
    return s;
}

/* The log prior of reference/bo-numerics.md §1.1, written out independently. */
static double s_log_prior(size_t d, const double *phi, bool fixed_noise)
{
    double mu = sqrt(2.0) + 0.5 * log((double) d), lp = 0.0;
    for (size_t a = 0; a < d; a++)
        lp += -phi[a] - log(sqrt(3.0)) - 0.5 * LOG_2PI
              - (phi[a] - mu) * (phi[a] - mu) / 6.0;
    if (!fixed_noise)
        lp += -phi[d] - 0.5 * LOG_2PI - 0.5 * (phi[d] + 4.0) * (phi[d] + 4.0);
    return lp;
}

static void test_lifecycle_and_errors(void **state)
{
    (void) state;
    assert_null(hone_gp_new(0, HONE_KERNEL_RBF));
    assert_null(hone_gp_new(2, (hone_kernel_kind_t) 7));
    hone_gp_t *gp = hone_gp_new(2, HONE_KERNEL_RBF);
    assert_non_null(gp);
    assert_int_equal(hone_gp_dim(gp), 2);
    assert_int_equal(hone_gp_size(gp), 0);
    assert_int_equal(hone_gp_n_phi(gp), 4);

    /* The fresh model sits at the prior modes: ℓ = exp(√2 + ½ ln 2 − 3), σ² = e^−5. */
    double ls[2], noise, mean;
    hone_gp_get_params(gp, ls, &noise, &mean);
    assert_true(fabs(ls[0] - exp(sqrt(2.0) + 0.5 * log(2.0) - 3.0)) < 1e-12);
    assert_true(fabs(ls[0] - 0.2048 * sqrt(2.0)) < 1e-3);
    assert_true(fabs(noise - exp(-5.0)) < 1e-15);
    assert_true(mean == 0.0);

    /* The empty model predicts its prior. */
    hone_gp_work_t *work = hone_gp_work_new(gp, 4);
    double x[4] = { 0.1, 0.2, 0.3, 0.4 }, m[2], v[2];
    assert_int_equal(hone_gp_predict(gp, 2, x, m, v, work), HONE_OK);
    assert_true(m[0] == 0.0 && v[0] == 1.0 && m[1] == 0.0 && v[1] == 1.0);

    double y[2] = { 1.0, NAN };
    assert_int_equal(hone_gp_set_data(gp, 2, x, y, NULL), HONE_EINVAL);
    y[1] = 0.5;
    double yvar[2] = { 0.1, -1.0 };
    assert_int_equal(hone_gp_set_data(gp, 2, x, y, yvar), HONE_EINVAL);
    assert_int_equal(hone_gp_set_data(gp, 2, x, y, NULL), HONE_OK);
    assert_int_equal(hone_gp_size(gp), 2);
    /* Not factorized yet. */
    assert_int_equal(hone_gp_predict(gp, 1, x, m, v, work), HONE_ESTATE);
    assert_int_equal(hone_gp_refresh(gp), HONE_OK);
    assert_int_equal(hone_gp_predict(gp, 1, x, m, v, work), HONE_OK);
    /* More points than the workspace takes. */
    double many[10] = { 0 };
    double mm[5], vv[5];
    assert_int_equal(hone_gp_predict(gp, 5, many, mm, vv, work), HONE_EINVAL);
    /* Fixed noise needs a variance on append. */
    assert_int_equal(hone_gp_set_data(gp, 2, x, y, (double[]) { 0.1, 0.1 }), HONE_OK);
    assert_int_equal(hone_gp_append(gp, x, 0.0, -1.0), HONE_EINVAL);

    hone_gp_work_destroy(&work);
    assert_null(work);
    hone_gp_work_destroy(&work);
    hone_gp_destroy(&gp);
    assert_null(gp);
    hone_gp_destroy(&gp);
}

static void test_posterior_n1_closed_form(void **state)
{
    (void) state;
    const size_t d = 2;
    const double x0[2] = { 0.3, 0.7 }, y0 = 1.25;
    const double ls[2] = { 0.4, 0.9 }, s = 0.05, c = 0.2;
    for (int kind = 0; kind < 2; kind++) {
        hone_gp_t *gp = hone_gp_new(d, (hone_kernel_kind_t) kind);
        assert_int_equal(hone_gp_set_data(gp, 1, x0, &y0, NULL), HONE_OK);
        hone_gp_set_params(gp, ls, s, c);
        assert_int_equal(hone_gp_refresh(gp), HONE_OK);
        assert_true(hone_gp_jitter(gp) == 0.0);

        /* μ(x) = c + k·(y0 − c)/(1 + s), σ²(x) = 1 − k²/(1 + s). */
        const double xs[6] = { 0.3, 0.7, 0.0, 1.0, 0.55, 0.45 };
        double mean[3], var[3];
        hone_gp_work_t *work = hone_gp_work_new(gp, 3);
        assert_int_equal(hone_gp_predict(gp, 3, xs, mean, var, work), HONE_OK);
        for (int j = 0; j < 3; j++) {
            double k = s_kappa((hone_kernel_kind_t) kind, s_r2(d, xs + 2 * j, x0, ls));
            assert_true(fabs(mean[j] - (c + k * (y0 - c) / (1.0 + s))) < 1e-13);
            assert_true(fabs(var[j] - (1.0 - k * k / (1.0 + s))) < 1e-13);
        }

        /* log p = −½(y0 − c)²/(1 + s) − ½ log(1 + s) − ½ log 2π, plus the priors (n = 1). */
        double phi[4] = { log(ls[0]), log(ls[1]), log(s), c }, value;
        assert_int_equal(hone_gp_log_posterior(gp, phi, &value, NULL), HONE_OK);
        double expect = -0.5 * (y0 - c) * (y0 - c) / (1.0 + s) - 0.5 * log(1.0 + s)
                        - 0.5 * LOG_2PI + s_log_prior(d, phi, false);
        assert_true(fabs(value - expect) < 1e-13);
        hone_gp_work_destroy(&work);
        hone_gp_destroy(&gp);
    }
}

static void test_posterior_n2_closed_form(void **state)
{
    (void) state;
    /* d = 1, ℓ = 1, points 0 and 1 with y = (1, −1), σ² = 1, c = 0:
     * K = [2 q; q 2] with q = e^−½. At x = ½ both k are e^−⅛, so μ = 0 by symmetry and
     * σ² = 1 − 2e^−¼/(2 + q), since (1, 1) is an eigenvector of K with eigenvalue 2 + q. */
    const double x[2] = { 0.0, 1.0 }, y[2] = { 1.0, -1.0 }, ls = 1.0;
    hone_gp_t *gp = hone_gp_new(1, HONE_KERNEL_RBF);
    assert_int_equal(hone_gp_set_data(gp, 2, x, y, NULL), HONE_OK);
    hone_gp_set_params(gp, &ls, 1.0, 0.0);
    assert_int_equal(hone_gp_refresh(gp), HONE_OK);
    hone_gp_work_t *work = hone_gp_work_new(gp, 4);
    double q = exp(-0.5), xm = 0.5, mean, var;
    assert_int_equal(hone_gp_predict(gp, 1, &xm, &mean, &var, work), HONE_OK);
    assert_true(fabs(mean) < 1e-15);
    assert_true(fabs(var - (1.0 - 2.0 * exp(-0.25) / (2.0 + q))) < 1e-14);
    assert_true(fabs(var - 0.40242346) < 1e-8);

    /* Elsewhere: μ = c + k*ᵀK⁻¹r, σ² = 1 − k*ᵀK⁻¹k* with the explicit 2×2 inverse,
     * for a fixed-noise model with unequal variances and c ≠ 0. */
    const double yvar[2] = { 0.1, 0.3 }, c = 0.4, ls2 = 0.6;
    assert_int_equal(hone_gp_set_data(gp, 2, x, y, yvar), HONE_OK);
    hone_gp_set_params(gp, &ls2, 1.0, c);
    assert_int_equal(hone_gp_refresh(gp), HONE_OK);
    double k12 = exp(-0.5 / (ls2 * ls2));
    double a11 = 1.0 + yvar[0], a22 = 1.0 + yvar[1], det = a11 * a22 - k12 * k12;
    const double xq[4] = { -0.2, 0.3, 0.8, 1.4 };
    double mq[4], vq[4];
    assert_int_equal(hone_gp_predict(gp, 4, xq, mq, vq, work), HONE_OK);
    for (int j = 0; j < 4; j++) {
        double k1 = exp(-0.5 * xq[j] * xq[j] / (ls2 * ls2));
        double k2 = exp(-0.5 * (xq[j] - 1.0) * (xq[j] - 1.0) / (ls2 * ls2));
        double r1 = y[0] - c, r2 = y[1] - c;
        double b1 = (a22 * k1 - k12 * k2) / det, b2 = (a11 * k2 - k12 * k1) / det;
        assert_true(fabs(mq[j] - (c + b1 * r1 + b2 * r2)) < 1e-13);
        assert_true(fabs(vq[j] - (1.0 - b1 * k1 - b2 * k2)) < 1e-13);
    }
    /* And the log marginal likelihood (fixed noise: no noise prior), divided by n = 2. */
    double phi[3] = { log(ls2), 0.0, c }, value;
    assert_int_equal(hone_gp_log_posterior(gp, phi, &value, NULL), HONE_OK);
    double r1 = y[0] - c, r2 = y[1] - c;
    double quad = (a22 * r1 * r1 - 2.0 * k12 * r1 * r2 + a11 * r2 * r2) / det;
    double expect = (-0.5 * quad - 0.5 * log(det) - LOG_2PI + s_log_prior(1, phi, true)) / 2.0;
    assert_true(fabs(value - expect) < 1e-13);
    hone_gp_work_destroy(&work);
    hone_gp_destroy(&gp);
}

/* Central differences of the log posterior against its analytic gradient. */
static void s_check_gradient(hone_kernel_kind_t kind, size_t d, size_t n, bool fixed,
                             uint64_t seed)
{
    hone_rng_t rng;
    hone_rng_seed(&rng, seed);
    double *x = s_alloc(n * d), *y = s_alloc(n), *yvar = s_alloc(n);
    s_uniform(&rng, n * d, x);
    for (size_t i = 0; i < n; i++) {
        y[i] = sin(6.0 * x[i * d]) + 0.3 * s_normal(&rng);
        yvar[i] = 0.01 + 0.05 * hone_rng_uniform(&rng);
    }
    hone_gp_t *gp = hone_gp_new(d, kind);
    assert_int_equal(hone_gp_set_data(gp, n, x, y, fixed ? yvar : NULL), HONE_OK);
    size_t np = hone_gp_n_phi(gp);
    double *phi = s_alloc(np), *grad = s_alloc(np), *p = s_alloc(np);
    for (size_t a = 0; a < d; a++)
        phi[a] = log(0.15 + 1.5 * hone_rng_uniform(&rng));
    phi[d] = -6.0 + 4.0 * hone_rng_uniform(&rng);
    phi[d + 1] = hone_rng_uniform(&rng) - 0.5;
    double value;
    assert_int_equal(hone_gp_log_posterior(gp, phi, &value, grad), HONE_OK);
    assert_true(isfinite(value));
    if (fixed)
        assert_true(grad[d] == 0.0);
    const double h = 1e-5;
    for (size_t j = 0; j < np; j++) {
        double fp, fm;
        memcpy(p, phi, np * sizeof *p);
        p[j] += h;
        assert_int_equal(hone_gp_log_posterior(gp, p, &fp, NULL), HONE_OK);
        p[j] -= 2.0 * h;
        assert_int_equal(hone_gp_log_posterior(gp, p, &fm, NULL), HONE_OK);
        double fd = (fp - fm) / (2.0 * h);
        double scale = fmax(fmax(fabs(fd), fabs(grad[j])), 1e-2);
        if (fabs(fd - grad[j]) / scale >= 1e-5)
            fprintf(stderr, "kind %d d %zu fixed %d: grad[%zu] = %.10g, fd %.10g\n",
                    (int) kind, d, (int) fixed, j, grad[j], fd);
        assert_true(fabs(fd - grad[j]) / scale < 1e-5);
    }
    free(x);
    free(y);
    free(yvar);
    free(phi);
    free(grad);
    free(p);
    hone_gp_destroy(&gp);
}

static void test_gradient_finite_differences(void **state)
{
    (void) state;
    const size_t dims[] = { 1, 3, 6 };
    for (int kind = 0; kind < 2; kind++)
        for (size_t t = 0; t < HONE_ARRAY_LEN(dims); t++)
            for (int fixed = 0; fixed < 2; fixed++)
                s_check_gradient((hone_kernel_kind_t) kind, dims[t], 9 + 4 * dims[t],
                                 fixed != 0, 1000 + 10 * (uint64_t) kind + t + 100 * fixed);
}

static void s_check_predict_grad(hone_kernel_kind_t kind, uint64_t seed)
{
    const size_t d = 3, n = 12;
    hone_rng_t rng;
    hone_rng_seed(&rng, seed);
    double x[36], y[12];
    s_uniform(&rng, n * d, x);
    for (size_t i = 0; i < n; i++)
        y[i] = cos(4.0 * x[i * d]) + x[i * d + 1] * x[i * d + 2];
    hone_gp_t *gp = hone_gp_new(d, kind);
    assert_int_equal(hone_gp_set_data(gp, n, x, y, NULL), HONE_OK);
    const double ls[3] = { 0.3, 0.5, 0.8 };
    hone_gp_set_params(gp, ls, 1e-3, 0.1);
    assert_int_equal(hone_gp_refresh(gp), HONE_OK);
    hone_gp_work_t *work = hone_gp_work_new(gp, 2);
    for (int trial = 0; trial < 5; trial++) {
        double xq[3], mean, var, dmean[3], dvar[3], m1, v1;
        s_uniform(&rng, d, xq);
        assert_int_equal(hone_gp_predict_grad(gp, xq, &mean, &var, dmean, dvar, work), HONE_OK);
        assert_int_equal(hone_gp_predict(gp, 1, xq, &m1, &v1, work), HONE_OK);
        assert_true(fabs(mean - m1) < 1e-13 && fabs(var - v1) < 1e-13);
        const double h = 1e-6;
        for (size_t a = 0; a < d; a++) {
            double xp[3], mp, vp, mm, vm;
            memcpy(xp, xq, sizeof xp);
            xp[a] += h;
            assert_int_equal(hone_gp_predict(gp, 1, xp, &mp, &vp, work), HONE_OK);
            xp[a] -= 2.0 * h;
            assert_int_equal(hone_gp_predict(gp, 1, xp, &mm, &vm, work), HONE_OK);
            double fdm = (mp - mm) / (2.0 * h), fdv = (vp - vm) / (2.0 * h);
            assert_true(fabs(fdm - dmean[a]) < 1e-6 * fmax(1.0, fabs(dmean[a])));
            assert_true(fabs(fdv - dvar[a]) < 1e-6 * fmax(1.0, fabs(dvar[a])));
        }
    }
    hone_gp_work_destroy(&work);
    hone_gp_destroy(&gp);
}

static void test_predict_grad_finite_differences(void **state)
{
    (void) state;
    s_check_predict_grad(HONE_KERNEL_RBF, 31);
    s_check_predict_grad(HONE_KERNEL_MATERN52, 32);
}

static void test_interpolation(void **state)
{
    (void) state;
    const size_t d = 2, n = 10;
    hone_rng_t rng;
    hone_rng_seed(&rng, 5);
    double x[20], y[10], yvar[10];
    s_uniform(&rng, n * d, x);
    for (size_t i = 0; i < n; i++) {
        y[i] = sin(5.0 * x[2 * i]) * cos(3.0 * x[2 * i + 1]);
        yvar[i] = 1e-8;
    }
    for (int kind = 0; kind < 2; kind++) {
        hone_gp_t *gp = hone_gp_new(d, (hone_kernel_kind_t) kind);
        assert_int_equal(hone_gp_set_data(gp, n, x, y, yvar), HONE_OK);
        const double ls[2] = { 0.3, 0.3 };
        hone_gp_set_params(gp, ls, 1.0, 0.0);
        assert_int_equal(hone_gp_refresh(gp), HONE_OK);
        hone_gp_work_t *work = hone_gp_work_new(gp, n);
        double mean[10], var[10];
        assert_int_equal(hone_gp_predict(gp, n, x, mean, var, work), HONE_OK);
        for (size_t i = 0; i < n; i++) {
            assert_true(fabs(mean[i] - y[i]) < 1e-5);
            assert_true(var[i] >= 1e-10 && var[i] < 1e-6);
        }
        hone_gp_work_destroy(&work);
        hone_gp_destroy(&gp);
    }
}

/* n draws of a GP with lengthscales ls and noise variance s at uniform points. */
static void s_sample_gp(size_t n, size_t d, const double *ls, double s, uint64_t seed,
                        double *x, double *y)
{
    hone_rng_t rng;
    hone_rng_seed(&rng, seed);
    s_uniform(&rng, n * d, x);
    double *k = s_alloc(n * n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            k[i + j * n] = exp(-0.5 * s_r2(d, x + i * d, x + j * d, ls)) + (i == j ? s : 0.0);
    assert_int_equal(hone_linalg_chol_decomp(n, k, n, NULL), HONE_OK);
    double *z = s_alloc(n);
    for (size_t i = 0; i < n; i++)
        z[i] = s_normal(&rng);
    for (size_t i = 0; i < n; i++) {
        double v = 0.0;
        for (size_t j = 0; j <= i; j++)
            v += k[i + j * n] * z[j];
        y[i] = v;
    }
    free(k);
    free(z);
}

static void test_fit_recovers_lengthscale(void **state)
{
    (void) state;
    struct { size_t d; double ls[2]; uint64_t seed; } cases[] = {
        { 1, { 0.2, 0 }, 11 },
        { 2, { 0.25, 0.5 }, 12 },
    };
    const size_t n = 60;
    for (size_t t = 0; t < HONE_ARRAY_LEN(cases); t++) {
        size_t d = cases[t].d;
        double *x = s_alloc(n * d), *y = s_alloc(n);
        s_sample_gp(n, d, cases[t].ls, 1e-3, cases[t].seed, x, y);
        hone_gp_t *gp = hone_gp_new(d, HONE_KERNEL_RBF);
        assert_int_equal(hone_gp_set_data(gp, n, x, y, NULL), HONE_OK);
        hone_rng_t rng;
        hone_rng_seed(&rng, 99);
        hone_gp_fit_options_t opts;
        hone_gp_fit_options_init(&opts);
        assert_true(opts.warm_start);
        assert_int_equal(hone_gp_fit(gp, &opts, &rng), HONE_OK);
        double ls[2], noise, mean;
        hone_gp_get_params(gp, ls, &noise, &mean);
        for (size_t a = 0; a < d; a++) {
            double ratio = ls[a] / cases[t].ls[a];
            if (!(ratio > 0.5 && ratio < 2.0))
                fprintf(stderr, "d %zu: fitted lengthscale %zu = %g, true %g\n", d, a,
                        ls[a], cases[t].ls[a]);
            assert_true(ratio > 0.5 && ratio < 2.0);
        }
        assert_true(noise >= 1e-4 && noise < 0.1);
        /* The fitted model is factorized and the MAP is a stationary point in the
         * interior: the gradient there is small. */
        size_t np = hone_gp_n_phi(gp);
        double phi[4], grad[4], value;
        hone_gp_get_phi(gp, phi);
        assert_int_equal(hone_gp_log_posterior(gp, phi, &value, grad), HONE_OK);
        for (size_t j = 0; j < np; j++)
            if (phi[j] > log(1e-4) + 1e-6)
                assert_true(fabs(grad[j]) < 1e-3);
        hone_gp_work_t *work = hone_gp_work_new(gp, 1);
        double m, v;
        assert_int_equal(hone_gp_predict(gp, 1, x, &m, &v, work), HONE_OK);
        assert_true(fabs(m - y[0]) < 0.2);
        hone_gp_work_destroy(&work);
        hone_gp_destroy(&gp);
        free(x);
        free(y);
    }
}

static void test_fit_small_and_degenerate(void **state)
{
    (void) state;
    /* n = 1, n = 2, duplicated inputs and constant targets all fit and factorize. */
    const double x[8] = { 0.5, 0.5, 0.2, 0.9, 0.5, 0.5, 0.2, 0.9 };
    const double y[4] = { 0.0, 1.0, 0.3, 1.0 }, zeros[4] = { 0, 0, 0, 0 };
    hone_rng_t rng;
    hone_rng_seed(&rng, 4);
    for (size_t n = 1; n <= 4; n++) {
        for (int constant = 0; constant < 2; constant++) {
            hone_gp_t *gp = hone_gp_new(2, HONE_KERNEL_RBF);
            assert_int_equal(hone_gp_set_data(gp, n, x, constant ? zeros : y, NULL), HONE_OK);
            assert_int_equal(hone_gp_fit(gp, NULL, &rng), HONE_OK);
            double ls[2], noise, mean;
            hone_gp_get_params(gp, ls, &noise, &mean);
            assert_true(ls[0] >= 0.025 && ls[0] <= 1e4 && ls[1] >= 0.025 && ls[1] <= 1e4);
            assert_true(noise >= 1e-4 * (1 - 1e-12) && noise <= 10.0);
            assert_true(fabs(mean) <= 10.0);
            hone_gp_work_t *work = hone_gp_work_new(gp, 1);
            double m, v;
            assert_int_equal(hone_gp_predict(gp, 1, x + 2, &m, &v, work), HONE_OK);
            assert_true(isfinite(m) && v > 0.0 && v <= 1.0);
            hone_gp_work_destroy(&work);
            hone_gp_destroy(&gp);
        }
    }
    /* Fixed noise: the noise parameter is not fitted (its gradient entry is 0). */
    hone_gp_t *gp = hone_gp_new(2, HONE_KERNEL_MATERN52);
    assert_int_equal(hone_gp_set_data(gp, 4, x, y, (double[]) { 1e-6, 1e-6, 1e-6, 1e-6 }),
                     HONE_OK);
    double before, after;
    hone_gp_get_params(gp, NULL, &before, NULL);
    assert_int_equal(hone_gp_fit(gp, NULL, &rng), HONE_OK);
    hone_gp_get_params(gp, NULL, &after, NULL);
    assert_true(before == after);
    hone_gp_destroy(&gp);
}

static void test_fit_large_n_warm(void **state)
{
    (void) state;
    /* Above 500 points a warm refit is one run of at most ~50 evaluations and stays at
     * the MAP; the cold fit runs once from the prior mode. */
    const size_t n = 560, d = 2;
    const double ls_true[2] = { 0.3, 0.6 };
    double *x = s_alloc(n * d), *y = s_alloc(n);
    s_sample_gp(n, d, ls_true, 1e-2, 91, x, y);
    hone_gp_t *gp = hone_gp_new(d, HONE_KERNEL_RBF);
    assert_int_equal(hone_gp_set_data(gp, n, x, y, NULL), HONE_OK);
    uint64_t e0 = hone_gp_eval_count(gp);
    assert_int_equal(hone_gp_fit(gp, NULL, NULL), HONE_OK);
    uint64_t cold = hone_gp_eval_count(gp) - e0;
    assert_true(cold > 3 && cold <= 55);
    double p1[4], p2[4];
    hone_gp_get_phi(gp, p1);
    for (size_t a = 0; a < d; a++)
        assert_true(exp(p1[a]) > 0.5 * ls_true[a] && exp(p1[a]) < 2.0 * ls_true[a]);
    e0 = hone_gp_eval_count(gp);
    assert_int_equal(hone_gp_fit(gp, NULL, NULL), HONE_OK);
    uint64_t warm = hone_gp_eval_count(gp) - e0;
    assert_true(warm >= 1 && warm < cold);
    hone_gp_get_phi(gp, p2);
    for (size_t j = 0; j < 4; j++)
        assert_true(fabs(p1[j] - p2[j]) < 1e-2);
    hone_gp_destroy(&gp);
    free(x);
    free(y);
}

static void test_fit_reproducible(void **state)
{
    (void) state;
    const size_t n = 25, d = 3;
    double x[75], y[25];
    const double ls[3] = { 0.3, 0.6, 1.0 };
    s_sample_gp(n, d, ls, 1e-2, 77, x, y);
    double p1[5], p2[5];
    for (int rep = 0; rep < 2; rep++) {
        hone_gp_t *gp = hone_gp_new(d, HONE_KERNEL_MATERN52);
        assert_int_equal(hone_gp_set_data(gp, n, x, y, NULL), HONE_OK);
        hone_rng_t rng;
        hone_rng_seed(&rng, 1234);
        assert_int_equal(hone_gp_fit(gp, NULL, &rng), HONE_OK);
        hone_gp_get_phi(gp, rep == 0 ? p1 : p2);
        hone_gp_destroy(&gp);
    }
    assert_memory_equal(p1, p2, sizeof p1);
    /* A warm refit from the MAP stays there. */
    hone_gp_t *gp = hone_gp_new(d, HONE_KERNEL_MATERN52);
    assert_int_equal(hone_gp_set_data(gp, n, x, y, NULL), HONE_OK);
    hone_gp_set_phi(gp, p1);
    assert_int_equal(hone_gp_fit(gp, NULL, NULL), HONE_OK);
    hone_gp_get_phi(gp, p2);
    for (int j = 0; j < 5; j++)
        assert_true(fabs(p1[j] - p2[j]) < 1e-3);
    hone_gp_destroy(&gp);
}

static void s_check_append(hone_kernel_kind_t kind, bool fixed)
{
    /* 40 points: the appends cross a capacity growth (L re-laid out in place). */
    const size_t d = 3, n = 40, m = 20;
    hone_rng_t rng;
    hone_rng_seed(&rng, 21 + (uint64_t) kind + (fixed ? 10 : 0));
    double *x = s_alloc(n * d), *y = s_alloc(n), *yvar = s_alloc(n), *xq = s_alloc(m * d);
    s_uniform(&rng, n * d, x);
    s_uniform(&rng, m * d, xq);
    for (size_t i = 0; i < n; i++) {
        y[i] = s_normal(&rng);
        yvar[i] = 0.02 * hone_rng_uniform(&rng);
    }
    const double ls[3] = { 0.4, 0.7, 0.3 };
    hone_gp_t *a = hone_gp_new(d, kind), *b = hone_gp_new(d, kind);
    /* a: 1 point, then appends up to n; b: all at once. */
    assert_int_equal(hone_gp_set_data(a, 1, x, y, fixed ? yvar : NULL), HONE_OK);
    hone_gp_set_params(a, ls, 0.01, -0.2);
    assert_int_equal(hone_gp_refresh(a), HONE_OK);
    for (size_t i = 1; i < n; i++)
        assert_int_equal(hone_gp_append(a, x + i * d, y[i], fixed ? yvar[i] : -1.0), HONE_OK);
    assert_int_equal(hone_gp_size(a), n);
    assert_int_equal(hone_gp_set_data(b, n, x, y, fixed ? yvar : NULL), HONE_OK);
    hone_gp_set_params(b, ls, 0.01, -0.2);
    assert_int_equal(hone_gp_refresh(b), HONE_OK);
    hone_gp_work_t *wa = hone_gp_work_new(a, m), *wb = hone_gp_work_new(b, m);
    double ma[20], va[20], mb[20], vb[20];
    assert_int_equal(hone_gp_predict(a, m, xq, ma, va, wa), HONE_OK);
    assert_int_equal(hone_gp_predict(b, m, xq, mb, vb, wb), HONE_OK);
    for (size_t j = 0; j < m; j++) {
        assert_true(fabs(ma[j] - mb[j]) < 1e-10);
        assert_true(fabs(va[j] - vb[j]) < 1e-10);
    }
    hone_gp_work_destroy(&wa);
    hone_gp_work_destroy(&wb);
    hone_gp_destroy(&a);
    hone_gp_destroy(&b);
    free(x);
    free(y);
    free(yvar);
    free(xq);
}

static void test_append_equals_refresh(void **state)
{
    (void) state;
    s_check_append(HONE_KERNEL_RBF, false);
    s_check_append(HONE_KERNEL_RBF, true);
    s_check_append(HONE_KERNEL_MATERN52, false);
    s_check_append(HONE_KERNEL_MATERN52, true);
}

static void test_append_falls_back_to_refresh(void **state)
{
    (void) state;
    /* Noiseless duplicate: the new pivot is 0, so append refactorizes with jitter. */
    const double x[4] = { 0.1, 0.2, 0.7, 0.9 }, y[2] = { 0.5, -0.5 }, yvar[2] = { 0, 0 };
    hone_gp_t *gp = hone_gp_new(2, HONE_KERNEL_RBF);
    assert_int_equal(hone_gp_set_data(gp, 2, x, y, yvar), HONE_OK);
    const double ls[2] = { 0.5, 0.5 };
    hone_gp_set_params(gp, ls, 1.0, 0.0);
    assert_int_equal(hone_gp_refresh(gp), HONE_OK);
    assert_true(hone_gp_jitter(gp) == 0.0);
    assert_int_equal(hone_gp_append(gp, x, y[0], 0.0), HONE_OK);
    assert_int_equal(hone_gp_size(gp), 3);
    assert_true(hone_gp_jitter(gp) > 0.0);
    hone_gp_work_t *work = hone_gp_work_new(gp, 1);
    double m, v;
    assert_int_equal(hone_gp_predict(gp, 1, x, &m, &v, work), HONE_OK);
    assert_true(fabs(m - y[0]) < 1e-3);
    hone_gp_work_destroy(&work);
    hone_gp_destroy(&gp);
}

/* Truncation after appends gives back the model before them, bit for bit: the leading
 * block of L is kept and α is solved again. Crosses a capacity growth, and reuses a
 * prediction workspace made before the model grew. */
static void s_check_truncate(hone_kernel_kind_t kind, bool fixed)
{
    const size_t d = 3, n = 25, extra = 12, m = 16;
    hone_rng_t rng;
    hone_rng_seed(&rng, 77 + (uint64_t) kind + (fixed ? 10 : 0));
    double *x = s_alloc((n + extra) * d), *y = s_alloc(n + extra), *yvar = s_alloc(n + extra);
    double *xq = s_alloc((m + n) * d);
    s_uniform(&rng, (n + extra) * d, x);
    s_uniform(&rng, m * d, xq);
    memcpy(xq + m * d, x, n * d * sizeof *x);   /* and the training points */
    for (size_t i = 0; i < n + extra; i++) {
        y[i] = s_normal(&rng);
        yvar[i] = 0.01 + 0.02 * hone_rng_uniform(&rng);
    }
    const double ls[3] = { 0.3, 0.5, 0.4 };
    hone_gp_t *gp = hone_gp_new(d, kind);
    assert_int_equal(hone_gp_set_data(gp, n, x, y, fixed ? yvar : NULL), HONE_OK);
    hone_gp_set_params(gp, ls, 0.02, 0.1);
    assert_int_equal(hone_gp_refresh(gp), HONE_OK);
    hone_gp_work_t *work = hone_gp_work_new(gp, m + n);
    double mean0[41], var0[41], mean1[41], var1[41];
    assert_int_equal(hone_gp_predict(gp, m + n, xq, mean0, var0, work), HONE_OK);
    for (size_t i = n; i < n + extra; i++)
        assert_int_equal(hone_gp_append(gp, x + i * d, y[i], fixed ? yvar[i] : -1.0), HONE_OK);
    assert_int_equal(hone_gp_size(gp), n + extra);
    /* The workspace was made for n points: it regrows for the larger model. */
    assert_int_equal(hone_gp_predict(gp, m + n, xq, mean1, var1, work), HONE_OK);
    bool moved = false;
    for (size_t j = 0; j < m; j++)
        moved |= fabs(mean1[j] - mean0[j]) > 1e-6;
    assert_true(moved);
    assert_int_equal(hone_gp_truncate(gp, n), HONE_OK);
    assert_int_equal(hone_gp_size(gp), n);
    assert_true(hone_gp_factorized(gp));
    assert_int_equal(hone_gp_predict(gp, m + n, xq, mean1, var1, work), HONE_OK);
    assert_memory_equal(mean0, mean1, (m + n) * sizeof(double));
    assert_memory_equal(var0, var1, (m + n) * sizeof(double));
    /* Appending the same points again gives the same model as the first time. */
    for (size_t i = n; i < n + extra; i++)
        assert_int_equal(hone_gp_append(gp, x + i * d, y[i], fixed ? yvar[i] : -1.0), HONE_OK);
    hone_gp_t *fresh = hone_gp_new(d, kind);
    assert_int_equal(hone_gp_set_data(fresh, n + extra, x, y, fixed ? yvar : NULL), HONE_OK);
    hone_gp_set_params(fresh, ls, 0.02, 0.1);
    assert_int_equal(hone_gp_refresh(fresh), HONE_OK);
    hone_gp_work_t *wf = hone_gp_work_new(fresh, m + n);
    assert_int_equal(hone_gp_predict(gp, m + n, xq, mean0, var0, work), HONE_OK);
    assert_int_equal(hone_gp_predict(fresh, m + n, xq, mean1, var1, wf), HONE_OK);
    for (size_t j = 0; j < m + n; j++) {
        assert_true(fabs(mean0[j] - mean1[j]) < 1e-10);
        assert_true(fabs(var0[j] - var1[j]) < 1e-10);
    }
    /* Truncating to 0 leaves the prior. */
    assert_int_equal(hone_gp_truncate(gp, 0), HONE_OK);
    assert_int_equal(hone_gp_predict(gp, 1, xq, mean0, var0, work), HONE_OK);
    assert_true(fabs(mean0[0] - 0.1) < 1e-15 && var0[0] == 1.0);
    hone_gp_work_destroy(&wf);
    hone_gp_work_destroy(&work);
    hone_gp_destroy(&fresh);
    hone_gp_destroy(&gp);
    free(x);
    free(y);
    free(yvar);
    free(xq);
}

static void test_truncate_restores_model(void **state)
{
    (void) state;
    s_check_truncate(HONE_KERNEL_RBF, false);
    s_check_truncate(HONE_KERNEL_RBF, true);
    s_check_truncate(HONE_KERNEL_MATERN52, false);
    s_check_truncate(HONE_KERNEL_MATERN52, true);
}

static void test_truncate_after_jittered_append(void **state)
{
    (void) state;
    /* A noiseless duplicate makes the append refactorize with jitter; truncating it away
     * refactorizes the remaining points without it, as before the append. */
    const double x[6] = { 0.1, 0.2, 0.7, 0.9, 0.4, 0.5 }, y[3] = { 0.5, -0.5, 0.2 }, yvar[3] = { 0, 0, 0 };
    const double xq[4] = { 0.3, 0.3, 0.8, 0.1 };
    hone_gp_t *gp = hone_gp_new(2, HONE_KERNEL_RBF);
    assert_int_equal(hone_gp_set_data(gp, 3, x, y, yvar), HONE_OK);
    const double ls[2] = { 0.5, 0.5 };
    hone_gp_set_params(gp, ls, 1.0, 0.0);
    assert_int_equal(hone_gp_refresh(gp), HONE_OK);
    assert_true(hone_gp_jitter(gp) == 0.0);
    hone_gp_work_t *work = hone_gp_work_new(gp, 2);
    double m0[2], v0[2], m1[2], v1[2];
    assert_int_equal(hone_gp_predict(gp, 2, xq, m0, v0, work), HONE_OK);
    assert_int_equal(hone_gp_append(gp, x, y[0], 0.0), HONE_OK);
    assert_true(hone_gp_jitter(gp) > 0.0);
    assert_int_equal(hone_gp_truncate(gp, 3), HONE_OK);
    assert_true(hone_gp_jitter(gp) == 0.0);
    assert_int_equal(hone_gp_predict(gp, 2, xq, m1, v1, work), HONE_OK);
    assert_memory_equal(m0, m1, sizeof m0);
    assert_memory_equal(v0, v1, sizeof v0);
    /* An unfactorized model just loses the points. */
    hone_gp_set_params(gp, ls, 1.0, 0.0);
    assert_false(hone_gp_factorized(gp));
    assert_int_equal(hone_gp_truncate(gp, 2), HONE_OK);
    assert_int_equal(hone_gp_size(gp), 2);
    assert_false(hone_gp_factorized(gp));
    hone_gp_work_destroy(&work);
    hone_gp_destroy(&gp);
}

static void test_batch_equals_single(void **state)
{
    (void) state;
    const size_t d = 4, n = 30, m = 37;
    hone_rng_t rng;
    hone_rng_seed(&rng, 8);
    double *x = s_alloc(n * d), *y = s_alloc(n), *xq = s_alloc(m * d);
    s_uniform(&rng, n * d, x);
    s_uniform(&rng, m * d, xq);
    for (size_t i = 0; i < n; i++)
        y[i] = s_normal(&rng);
    for (int kind = 0; kind < 2; kind++) {
        hone_gp_t *gp = hone_gp_new(d, (hone_kernel_kind_t) kind);
        assert_int_equal(hone_gp_set_data(gp, n, x, y, NULL), HONE_OK);
        assert_int_equal(hone_gp_fit(gp, NULL, NULL), HONE_OK);
        hone_gp_work_t *work = hone_gp_work_new(gp, m);
        double mean[37], var[37];
        assert_int_equal(hone_gp_predict(gp, m, xq, mean, var, work), HONE_OK);
        for (size_t j = 0; j < m; j++) {
            double m1, v1;
            assert_int_equal(hone_gp_predict(gp, 1, xq + j * d, &m1, &v1, work), HONE_OK);
            assert_true(fabs(m1 - mean[j]) < 1e-12);
            assert_true(fabs(v1 - var[j]) < 1e-12);
            assert_true(var[j] >= 1e-10 && var[j] <= 1.0);
        }
        /* Mean only, variance only. */
        double mean2[37], var2[37];
        assert_int_equal(hone_gp_predict(gp, m, xq, mean2, NULL, work), HONE_OK);
        assert_int_equal(hone_gp_predict(gp, m, xq, NULL, var2, work), HONE_OK);
        assert_memory_equal(mean, mean2, sizeof mean);
        assert_memory_equal(var, var2, sizeof var);
        hone_gp_work_destroy(&work);
        hone_gp_destroy(&gp);
    }
    free(x);
    free(y);
    free(xq);
}

static void test_work_regrows(void **state)
{
    (void) state;
    /* A workspace made for a small model serves it after it grew. */
    const size_t d = 2;
    double x[200], y[100];
    hone_rng_t rng;
    hone_rng_seed(&rng, 3);
    s_uniform(&rng, 200, x);
    for (int i = 0; i < 100; i++)
        y[i] = x[2 * i] - x[2 * i + 1];
    hone_gp_t *gp = hone_gp_new(d, HONE_KERNEL_RBF);
    assert_int_equal(hone_gp_set_data(gp, 3, x, y, NULL), HONE_OK);
    assert_int_equal(hone_gp_refresh(gp), HONE_OK);
    hone_gp_work_t *work = hone_gp_work_new(gp, 2);
    assert_int_equal(hone_gp_set_data(gp, 100, x, y, NULL), HONE_OK);
    assert_int_equal(hone_gp_refresh(gp), HONE_OK);
    double m[2], v[2], g[2], gv[2];
    assert_int_equal(hone_gp_predict(gp, 2, x, m, v, work), HONE_OK);
    assert_true(fabs(m[0] - y[0]) < 0.05 && fabs(m[1] - y[1]) < 0.05);
    assert_int_equal(hone_gp_predict_grad(gp, x, m, v, g, gv, work), HONE_OK);
    hone_gp_work_destroy(&work);
    hone_gp_destroy(&gp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle_and_errors),
        cmocka_unit_test(test_posterior_n1_closed_form),
        cmocka_unit_test(test_posterior_n2_closed_form),
        cmocka_unit_test(test_gradient_finite_differences),
        cmocka_unit_test(test_predict_grad_finite_differences),
        cmocka_unit_test(test_interpolation),
        cmocka_unit_test(test_fit_recovers_lengthscale),
        cmocka_unit_test(test_fit_small_and_degenerate),
        cmocka_unit_test(test_fit_large_n_warm),
        cmocka_unit_test(test_fit_reproducible),
        cmocka_unit_test(test_append_equals_refresh),
        cmocka_unit_test(test_append_falls_back_to_refresh),
        cmocka_unit_test(test_truncate_restores_model),
        cmocka_unit_test(test_truncate_after_jittered_append),
        cmocka_unit_test(test_batch_equals_single),
        cmocka_unit_test(test_work_regrows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
