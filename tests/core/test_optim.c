/* Unit tests for core/optim: L-BFGS on Rosenbrock with bounds, an active bound, SLSQP
 * with a linear constraint, clamping of the start, non-finite objectives, bad arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "optim.h"
#include "test_support.h"

typedef struct {
    int calls;            /* evaluations seen by the objective */
    int nan_after;        /* return NaN from this call on (0 = never) */
} counter_t;

static double s_rosenbrock(const double *x, double *grad, void *arg)
{
    counter_t *c = arg;
    if (c) {
        c->calls++;
        if (c->nan_after > 0 && c->calls >= c->nan_after)
            return NAN;
    }
    double a = 1.0 - x[0], b = x[1] - x[0] * x[0];
    if (grad) {
        grad[0] = -2.0 * a - 400.0 * x[0] * b;
        grad[1] = 200.0 * b;
    }
    return a * a + 100.0 * b * b;
}

/* f = Σ (x_j − t_j)², t = (3, −2, 0.5): the bounds [−1, 1]^3 make the first two active. */
static double s_shifted_sphere(const double *x, double *grad, void *arg)
{
    (void) arg;
    static const double t[3] = { 3.0, -2.0, 0.5 };
    double f = 0.0;
    for (int j = 0; j < 3; j++) {
        f += (x[j] - t[j]) * (x[j] - t[j]);
        if (grad)
            grad[j] = 2.0 * (x[j] - t[j]);
    }
    return f;
}

static double s_shifted_sphere_2d(const double *x, double *grad, void *arg)
{
    (void) arg;
    double u = x[0] - 2.0, v = x[1] - 2.0;
    if (grad) {
        grad[0] = 2.0 * u;
        grad[1] = 2.0 * v;
    }
    return u * u + v * v;
}

static void test_rosenbrock_lbfgs(void **state)
{
    (void) state;
    double lo[2] = { -2.0, -1.0 }, hi[2] = { 2.0, 3.0 };
    double x[2] = { -1.2, 1.0 };
    hone_optim_options_t opts;
    hone_optim_options_init(&opts);
    assert_int_equal(opts.method, HONE_OPTIM_LBFGS);
    assert_int_equal(opts.max_eval, 1000);
    double f = -1.0;
    int n_eval = 0;
    counter_t c = { 0, 0 };
    int rc = hone_optim_minimize(s_rosenbrock, &c, 2, lo, hi, x, &f, &opts, &n_eval);
    assert_int_equal(rc, HONE_OK);
    assert_true(fabs(x[0] - 1.0) < 1e-4);
    assert_true(fabs(x[1] - 1.0) < 1e-4);
    assert_true(f < 1e-8);
    assert_int_equal(n_eval, c.calls);
    assert_true(n_eval > 5 && n_eval <= 1000);
}

static void test_bound_active(void **state)
{
    (void) state;
    double lo[3] = { -1, -1, -1 }, hi[3] = { 1, 1, 1 };
    double x[3] = { 0, 0, 0 };
    double f;
    int rc = hone_optim_minimize(s_shifted_sphere, NULL, 3, lo, hi, x, &f, NULL, NULL);
    assert_int_equal(rc, HONE_OK);
    assert_true(fabs(x[0] - 1.0) < 1e-8);
    assert_true(fabs(x[1] + 1.0) < 1e-8);
    assert_true(fabs(x[2] - 0.5) < 1e-5);
    assert_true(fabs(f - (4.0 + 1.0)) < 1e-8);
}

static void test_start_clamped(void **state)
{
    (void) state;
    /* A start outside the box and a budget of one evaluation: x is the clamped start. */
    double lo[3] = { -1, -1, -1 }, hi[3] = { 1, 1, 1 };
    double x[3] = { 5, -7, 0.25 };
    hone_optim_options_t opts;
    hone_optim_options_init(&opts);
    opts.max_eval = 1;
    double f;
    int n_eval;
    int rc = hone_optim_minimize(s_shifted_sphere, NULL, 3, lo, hi, x, &f, &opts, &n_eval);
    assert_int_equal(rc, HONE_OK);
    assert_int_equal(n_eval, 1);
    assert_true(x[0] == 1.0 && x[1] == -1.0 && x[2] == 0.25);
    assert_true(fabs(f - (4.0 + 1.0 + 0.0625)) < 1e-12);
}

/* f = (x − 2)² + (y − 2)² + 0.5·x·y. */
static double s_quad2(const double *x, double *grad, void *arg)
{
    counter_t *c = arg;
    if (c)
        c->calls++;
    double u = x[0] - 2.0, v = x[1] - 2.0;
    if (grad) {
        grad[0] = 2.0 * u + 0.5 * x[1];
        grad[1] = 2.0 * v + 0.5 * x[0];
    }
    return u * u + v * v + 0.5 * x[0] * x[1];
}

static void test_slsqp_linear_constraint(void **state)
{
    (void) state;
    /* min s_quad2 subject to x + 2y <= 1 in [−3, 3]². The unconstrained minimum
     * (1.6, 1.6) is infeasible. Along the line (1 − 2t, t):
     * g'(t) = −2·∂f/∂x + ∂f/∂y = 8t + 0.5, so t = −1/16: (1.125, −0.0625), with
     * f = 0.875² + 2.0625² − 0.5·1.125·0.0625 = 4.984375. */
    double lo[2] = { -3, -3 }, hi[2] = { 3, 3 };
    double a[2] = { 1.0, 2.0 }, b[1] = { 1.0 };
    hone_optim_options_t opts;
    hone_optim_options_init(&opts);
    opts.method = HONE_OPTIM_SLSQP;
    opts.n_ineq = 1;
    opts.ineq_a = a;
    opts.ineq_b = b;
    double x[2] = { 0.1, 0.2 };
    double f;
    counter_t c = { 0, 0 };
    int n_eval;
    int rc = hone_optim_minimize(s_quad2, &c, 2, lo, hi, x, &f, &opts, &n_eval);
    assert_int_equal(rc, HONE_OK);
    assert_int_equal(n_eval, c.calls);
    assert_true(fabs(x[0] + 2.0 * x[1] - 1.0) < 1e-7);
    assert_true(fabs(x[0] - 1.125) < 1e-5);
    assert_true(fabs(x[1] + 0.0625) < 1e-5);
    assert_true(fabs(f - 4.984375) < 1e-8);
}

static void test_slsqp_interior_of_constraint(void **state)
{
    (void) state;
    /* min (x − 2)² + (y − 2)² subject to x + y <= 1 and −x + y <= 0.5 in [−3, 3]²:
     * the projection of (2, 2) on x + y = 1 is (0.5, 0.5), which satisfies the second. */
    double lo[2] = { -3, -3 }, hi[2] = { 3, 3 };
    double a[4] = { 1.0, 1.0, -1.0, 1.0 }, b[2] = { 1.0, 0.5 };
    hone_optim_options_t opts;
    hone_optim_options_init(&opts);
    opts.method = HONE_OPTIM_SLSQP;
    opts.n_ineq = 2;
    opts.ineq_a = a;
    opts.ineq_b = b;
    double x[2] = { -2.0, -2.5 };
    double f;
    int n_eval;
    int rc = hone_optim_minimize(s_shifted_sphere_2d, NULL, 2, lo, hi, x, &f, &opts, &n_eval);
    assert_int_equal(rc, HONE_OK);
    assert_true(fabs(x[0] - 0.5) < 1e-6);
    assert_true(fabs(x[1] - 0.5) < 1e-6);
    assert_true(fabs(f - 4.5) < 1e-6);
    assert_true(n_eval > 1);
}

static void test_pgtol_stops_early(void **state)
{
    (void) state;
    /* With pgtol the run stops, successfully, at a point whose projected gradient is
     * small, in fewer evaluations than the ftol test alone needs. The bound on x1 is
     * active at (1, −1) and does not count. */
    double lo[3] = { -1, -1, -1 }, hi[3] = { 1, 1, 1 };
    double x[3] = { 0.2, 0.3, -0.4 };
    hone_optim_options_t opts;
    hone_optim_options_init(&opts);
    opts.ftol_rel = 1e-15;
    int n_full, n_pg;
    double f;
    assert_int_equal(hone_optim_minimize(s_shifted_sphere, NULL, 3, lo, hi, x, &f, &opts,
                                         &n_full), HONE_OK);
    x[0] = 0.2, x[1] = 0.3, x[2] = -0.4;
    opts.pgtol = 1e-3;
    assert_int_equal(hone_optim_minimize(s_shifted_sphere, NULL, 3, lo, hi, x, &f, &opts,
                                         &n_pg), HONE_OK);
    assert_true(n_pg <= n_full);
    double g[3];
    s_shifted_sphere(x, g, NULL);
    assert_true(x[0] == 1.0 && x[1] == -1.0);
    assert_true(fabs(g[2]) <= 1e-3);
    opts.pgtol = -1.0;
    assert_int_equal(hone_optim_minimize(s_shifted_sphere, NULL, 3, lo, hi, x, &f, &opts, NULL),
                     HONE_EINVAL);
}

static void test_nonfinite_objective(void **state)
{
    (void) state;
    double lo[2] = { -2.0, -1.0 }, hi[2] = { 2.0, 3.0 };
    double x[2] = { -1.2, 1.0 };
    counter_t c = { 0, 4 };
    double f = 0.0;
    int n_eval;
    int rc = hone_optim_minimize(s_rosenbrock, &c, 2, lo, hi, x, &f, NULL, &n_eval);
    assert_int_equal(rc, HONE_ENUMERIC);
    assert_int_equal(n_eval, 4);
    /* x holds the best of the three finite evaluations, no worse than the start. */
    assert_true(isfinite(f));
    assert_true(f <= 24.2 + 1e-12);
    double g[2];
    assert_true(fabs(s_rosenbrock(x, g, NULL) - f) < 1e-12);
}

static void test_invalid_arguments(void **state)
{
    (void) state;
    double lo[2] = { 0, 0 }, hi[2] = { 1, -1 };
    double x[2] = { 0.5, 0.5 };
    assert_int_equal(hone_optim_minimize(s_quad2, NULL, 2, lo, hi, x, NULL, NULL, NULL),
                     HONE_EINVAL);
    hi[1] = 1.0;
    assert_int_equal(hone_optim_minimize(s_quad2, NULL, 0, lo, hi, x, NULL, NULL, NULL),
                     HONE_EINVAL);
    hone_optim_options_t opts;
    hone_optim_options_init(&opts);
    double a[2] = { 1, 1 }, b[1] = { 1 };
    opts.n_ineq = 1;   /* constraints need SLSQP */
    opts.ineq_a = a;
    opts.ineq_b = b;
    assert_int_equal(hone_optim_minimize(s_quad2, NULL, 2, lo, hi, x, NULL, &opts, NULL),
                     HONE_EINVAL);
    x[0] = NAN;
    assert_int_equal(hone_optim_minimize(s_quad2, NULL, 2, lo, hi, x, NULL, NULL, NULL),
                     HONE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rosenbrock_lbfgs),
        cmocka_unit_test(test_bound_active),
        cmocka_unit_test(test_start_clamped),
        cmocka_unit_test(test_slsqp_linear_constraint),
        cmocka_unit_test(test_slsqp_interior_of_constraint),
        cmocka_unit_test(test_pgtol_stops_early),
        cmocka_unit_test(test_nonfinite_objective),
        cmocka_unit_test(test_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
