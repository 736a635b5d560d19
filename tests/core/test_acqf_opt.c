/* Unit tests for core/acqf's optimizer (hone_acqf_optimize) on fake acquisitions with
 * known maxima (sums of Gaussian bumps in log space, quadratics, discrete grids): the
 * continuous box, linear constraints, ordinal and one-hot dimensions, enumeration of
 * small grids, exclusion, reproducibility and argument checks.
 *
 * The fake acquisitions are acquisition objects of a test type (acqf_impl.h): they test
 * the optimizer, not the GP. The analytic acquisitions are tested in test_acqf.c. */
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
#include "err.h"
#include "rng.h"
#include "sobol.h"
#include "special.h"
#include "test_support.h"
#include "acqf_box_check.h"

/* ---- a fake acquisition: f(x) and ∇f from a C function ---- */

typedef double (s_fn_t)(const double *x, double *grad, const void *arg);

typedef struct {
    hone_acqf_t base;      /* common head */
    s_fn_t *fn;            /* the surface */
    const void *arg;       /* its parameters */
    size_t eval_calls;     /* batched eval calls */
    size_t first_batch;    /* m of the first eval call */
    size_t points;         /* points evaluated by eval */
    size_t grads;          /* eval_grad calls */
    const hone_acqf_space_t *space;   /* when set: count infeasible points of the first batch */
    size_t first_infeasible;          /* points of the first batch with A·x > b + 1e-12 */
} s_fake_t;

static int s_fake_eval(hone_acqf_t *base, size_t m, const double *x, double *value)
{
    s_fake_t *self = (s_fake_t *) base;
    if (self->eval_calls++ == 0) {
        self->first_batch = m;
        for (size_t i = 0; self->space && i < m; i++)
            for (size_t r = 0; r < self->space->n_ineq; r++) {
                double s = 0.0;
                for (size_t a = 0; a < base->d; a++)
                    s += self->space->ineq_a[r * base->d + a] * x[i * base->d + a];
                if (s > self->space->ineq_b[r] + 1e-12) {
                    self->first_infeasible++;
                    break;
                }
            }
    }
    self->points += m;
    for (size_t i = 0; i < m; i++)
        value[i] = self->fn(x + i * base->d, NULL, self->arg);
    return HONE_OK;
}

static int s_fake_eval_grad(hone_acqf_t *base, const double *x, double *value, double *grad)
{
    s_fake_t *self = (s_fake_t *) base;
    self->grads++;
    *value = self->fn(x, grad, self->arg);
    return HONE_OK;
}

static hone_acqf_t *s_fake_create(const hone_acqf_context_t *ctx)
{
    (void) ctx;
    return NULL;   /* fakes are made by s_fake() */
}

static void s_fake_destroy(hone_acqf_t **self_p)
{
    (void) self_p;
}

static const hone_acqf_type_t s_fake_type = {
    .name = "fake", .create = s_fake_create, .destroy = s_fake_destroy,
    .eval = s_fake_eval, .eval_grad = s_fake_eval_grad,
};

static s_fake_t s_fake(size_t d, s_fn_t *fn, const void *arg)
{
    s_fake_t f = {.base = {.type = &s_fake_type, .d = d}, .fn = fn, .arg = arg};
    return f;
}

/* ---- surfaces ---- */

#define S_MAXB 8
#define S_MAXD 8

/* log Σ_k w_k exp(−‖x − c_k‖²/(2s²)): local maxima near each c_k, gradients informative
 * everywhere, as for LogEI. */
typedef struct {
    size_t d, k;
    double s;
    double w[S_MAXB];
    double c[S_MAXB][S_MAXD];
} s_bumps_t;

static double s_bumps(const double *x, double *grad, const void *arg)
{
    const s_bumps_t *b = arg;
    double t[S_MAXB];
    for (size_t k = 0; k < b->k; k++) {
        double r2 = 0.0;
        for (size_t a = 0; a < b->d; a++)
            r2 += (x[a] - b->c[k][a]) * (x[a] - b->c[k][a]);
        t[k] = log(b->w[k]) - 0.5 * r2 / (b->s * b->s);
    }
    double f = hone_special_logsumexp(b->k, t);
    if (grad) {
        for (size_t a = 0; a < b->d; a++)
            grad[a] = 0.0;
        for (size_t k = 0; k < b->k; k++) {
            double r = exp(t[k] - f);
            for (size_t a = 0; a < b->d; a++)
                grad[a] -= r * (x[a] - b->c[k][a]) / (b->s * b->s);
        }
    }
    return f;
}

/* The local maximum next to bump k: the mean-shift fixed point x = Σ r_j(x) c_j (equal
 * widths), iterated from c_k — independent of the optimizer under test. */
static void s_bumps_argmax(const s_bumps_t *b, size_t k, double *x)
{
    for (size_t a = 0; a < b->d; a++)
        x[a] = b->c[k][a];
    for (int it = 0; it < 10000; it++) {
        double t[S_MAXB], y[S_MAXD] = {0};
        for (size_t j = 0; j < b->k; j++) {
            double r2 = 0.0;
            for (size_t a = 0; a < b->d; a++)
                r2 += (x[a] - b->c[j][a]) * (x[a] - b->c[j][a]);
            t[j] = log(b->w[j]) - 0.5 * r2 / (b->s * b->s);
        }
        double f = hone_special_logsumexp(b->k, t);
        for (size_t j = 0; j < b->k; j++)
            for (size_t a = 0; a < b->d; a++)
                y[a] += exp(t[j] - f) * b->c[j][a];
        memcpy(x, y, b->d * sizeof(double));
    }
}

static double s_maxdist(const double *x, const double *y, size_t d)
{
    double m = 0.0;
    for (size_t a = 0; a < d; a++)
        m = fmax(m, fabs(x[a] - y[a]));
    return m;
}

static hone_acqf_space_t s_box(size_t d)
{
    hone_acqf_space_t sp = {.d = d};
    return sp;
}

/* ---- continuous box ---- */

static void s_check_bumps(size_t d, uint64_t seed)
{
    /* three bumps: the global one (w = 1) in the interior, two decoys (w = 0.6, 0.5) */
    s_bumps_t b = {.d = d, .k = 3, .s = 0.15, .w = {1.0, 0.6, 0.5}};
    for (size_t a = 0; a < d; a++) {
        b.c[0][a] = 0.62 - 0.03 * (double) a;
        b.c[1][a] = 0.15 + 0.02 * (double) a;
        b.c[2][a] = a % 2 ? 0.9 : 0.2;
    }
    double want[S_MAXD];
    s_bumps_argmax(&b, 0, want);
    s_fake_t f = s_fake(d, s_bumps, &b);
    hone_acqf_space_t sp = s_box(d);
    hone_acqf_opt_options_t opts;
    hone_acqf_opt_options_init(&opts);
    opts.seed = seed;
    double x[S_MAXD], value = NAN;
    hone_error_t err;
    assert_int_equal(hone_acqf_optimize(&f.base, &sp, NULL, 0, &opts, x, &value, &err), HONE_OK);
    s_assert_in_box(x, d);
    assert_true(s_maxdist(x, want, d) < 1e-3);
    assert_true(fabs(value - s_bumps(x, NULL, &b)) == 0.0);
    assert_true(value >= s_bumps(want, NULL, &b) - 1e-7);
    /* the raw samples went in one batched call */
    assert_true(f.first_batch == 1024);
    assert_true(f.grads > 20);
}

static void test_bumps_2d(void **state)
{
    (void) state;
    s_check_bumps(2, 1);
    s_check_bumps(2, 99);
}

static void test_bumps_6d(void **state)
{
    (void) state;
    s_check_bumps(6, 7);
    s_check_bumps(6, 12345);
}

/* The only bump is centered outside the cube: the maximum sits on the face x0 = 1. */
static void test_box_bounds_respected(void **state)
{
    (void) state;
    s_bumps_t b = {.d = 3, .k = 1, .s = 0.3, .w = {1.0}, .c = {{1.4, 0.3, -0.2}}};
    s_fake_t f = s_fake(3, s_bumps, &b);
    hone_acqf_space_t sp = s_box(3);
    double x[3];
    assert_int_equal(hone_acqf_optimize(&f.base, &sp, NULL, 0, NULL, x, NULL, NULL), HONE_OK);
    s_assert_in_box(x, 3);
    assert_true(x[0] == 1.0 && x[2] == 0.0);
    assert_true(fabs(x[1] - 0.3) < 1e-4);
}

static void test_reproducible(void **state)
{
    (void) state;
    s_bumps_t b = {.d = 4, .k = 2, .s = 0.2, .w = {1.0, 0.9},
                   .c = {{0.3, 0.3, 0.7, 0.5}, {0.8, 0.7, 0.2, 0.4}}};
    hone_acqf_space_t sp = s_box(4);
    hone_acqf_opt_options_t opts;
    hone_acqf_opt_options_init(&opts);
    opts.seed = 42;
    double x1[4], x2[4], v1, v2;
    s_fake_t f1 = s_fake(4, s_bumps, &b), f2 = s_fake(4, s_bumps, &b);
    assert_int_equal(hone_acqf_optimize(&f1.base, &sp, NULL, 0, &opts, x1, &v1, NULL), HONE_OK);
    assert_int_equal(hone_acqf_optimize(&f2.base, &sp, NULL, 0, &opts, x2, &v2, NULL), HONE_OK);
    assert_memory_equal(x1, x2, sizeof x1);
    assert_true(v1 == v2);
    assert_true(f1.grads == f2.grads && f1.points == f2.points);
}

/* One restart only: Boltzmann sampling alone would most likely start on the broad bump,
 * but the best raw sample, on the narrow and higher bump, is always among the starts. */
static void test_best_raw_sample_always_restarted(void **state)
{
    (void) state;
    s_bumps_t b = {.d = 2, .k = 2, .s = 0.02, .w = {1.0, 1e-30}, .c = {{0.71, 0.23}, {0.3, 0.6}}};
    hone_acqf_space_t sp = s_box(2);
    for (uint64_t seed = 0; seed < 8; seed++) {
        hone_acqf_opt_options_t opts;
        hone_acqf_opt_options_init(&opts);
        opts.restarts = 1;
        opts.seed = seed;
        s_fake_t f = s_fake(2, s_bumps, &b);
        double x[2];
        assert_int_equal(hone_acqf_optimize(&f.base, &sp, NULL, 0, &opts, x, NULL, NULL), HONE_OK);
        assert_true(fabs(x[0] - 0.71) < 1e-3 && fabs(x[1] - 0.23) < 1e-3);
    }
}

/* ---- linear constraints ---- */

/* −‖x − c‖²: the constrained maximum is the projection of c onto the feasible set. */
typedef struct {
    size_t d;
    double c[S_MAXD];
} s_quad_t;

static double s_quad(const double *x, double *grad, const void *arg)
{
    const s_quad_t *q = arg;
    double f = 0.0;
    for (size_t a = 0; a < q->d; a++) {
        f -= (x[a] - q->c[a]) * (x[a] - q->c[a]);
        if (grad)
            grad[a] = -2.0 * (x[a] - q->c[a]);
    }
    return f;
}

static double s_row_dot(const double *row, const double *x, size_t d)
{
    double s = 0.0;
    for (size_t a = 0; a < d; a++)
        s += row[a] * x[a];
    return s;
}

static void test_linear_constraint_active(void **state)
{
    (void) state;
    /* max at (0.6, 0.6, 0.5) violates x0 + x1 <= 0.8: the answer is (0.4, 0.4, 0.5) */
    s_quad_t q = {.d = 3, .c = {0.6, 0.6, 0.5}};
    double a[3] = {1.0, 1.0, 0.0}, b[1] = {0.8};
    hone_acqf_space_t sp = {.d = 3, .n_ineq = 1, .ineq_a = a, .ineq_b = b};
    for (uint64_t seed = 0; seed < 8; seed++) {
        /* odd seeds: the same constraint scaled by 1e4; the promise A·x <= b + 1e-8 is
         * absolute, in the caller's units (the optimizer's own tolerance is relative) */
        double scale = seed % 2 ? 1e4 : 1.0;
        a[0] = a[1] = scale;
        b[0] = 0.8 * scale;
        s_fake_t f = s_fake(3, s_quad, &q);
        f.space = &sp;
        hone_acqf_opt_options_t opts;
        hone_acqf_opt_options_init(&opts);
        opts.seed = seed;
        double x[3];
        assert_int_equal(hone_acqf_optimize(&f.base, &sp, NULL, 0, &opts, x, NULL, NULL), HONE_OK);
        s_assert_in_box(x, 3);
        double lhs = s_row_dot(a, x, 3);
        assert_true(lhs <= b[0] + 1e-8);
        assert_true(lhs > b[0] - 1e-6 * scale);   /* active */
        double want[3] = {0.4, 0.4, 0.5};
        assert_true(s_maxdist(x, want, 3) < 1e-3);
        /* raw samples were filtered: the first batch holds only feasible points */
        assert_true(f.first_batch == 1024 && f.first_infeasible == 0);
    }
}

/* A thin polytope that almost no Sobol point hits (hit-and-run top-up), and one that
 * none hits (Chebyshev center first). */
static void test_linear_constraints_narrow(void **state)
{
    (void) state;
    s_quad_t q = {.d = 4, .c = {0.9, 0.9, 0.1, 0.5}};
    /* x0 + x1 <= 0.05, x2 − x3 <= −0.5 */
    double a1[8] = {1, 1, 0, 0, 0, 0, 1, -1}, b1[2] = {0.05, -0.5};
    /* 0.3001 <= x0 <= 0.3002 (as two rows), x1 + x2 + x3 <= 0.2 */
    double a2[12] = {-1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1}, b2[3] = {-0.3001, 0.3002, 0.2};
    struct {
        double *a, *b;
        size_t n;
    } cases[2] = {{a1, b1, 2}, {a2, b2, 3}};
    for (int c = 0; c < 2; c++) {
        hone_acqf_space_t sp = {.d = 4, .n_ineq = cases[c].n, .ineq_a = cases[c].a,
                                .ineq_b = cases[c].b};
        s_fake_t f = s_fake(4, s_quad, &q);
        f.space = &sp;
        double x[4], value;
        hone_error_t err;
        assert_int_equal(hone_acqf_optimize(&f.base, &sp, NULL, 0, NULL, x, &value, &err), HONE_OK);
        s_assert_in_box(x, 4);
        for (size_t i = 0; i < cases[c].n; i++)
            assert_true(s_row_dot(cases[c].a + 4 * i, x, 4) <= cases[c].b[i] + 1e-8);
        /* 1024 raw samples, all feasible (topped up by hit-and-run) */
        assert_true(f.first_batch == 1024);
        assert_true(f.first_infeasible == 0);
        if (c == 0) {
            /* projection of c: x0 + x1 = 0.05 → (0.025, 0.025); x2 − x3 = −0.5 from
             * (0.1, 0.5) → (0.05, 0.55) */
            double want[4] = {0.025, 0.025, 0.05, 0.55};
            assert_true(s_maxdist(x, want, 4) < 1e-3);
        }
        else {
            assert_true(x[0] >= 0.3001 - 1e-8 && x[0] <= 0.3002 + 1e-8);
            assert_true(fabs(x[0] - 0.3002) < 1e-6);
        }
    }
}

static void test_linear_constraints_infeasible(void **state)
{
    (void) state;
    s_quad_t q = {.d = 2, .c = {0.5, 0.5}};
    double a[4] = {1, 1, -1, -1}, b[2] = {0.5, -0.7};   /* x0 + x1 <= 0.5 and >= 0.7 */
    hone_acqf_space_t sp = {.d = 2, .n_ineq = 2, .ineq_a = a, .ineq_b = b};
    s_fake_t f = s_fake(2, s_quad, &q);
    double x[2];
    hone_error_t err;
    assert_int_equal(hone_acqf_optimize(&f.base, &sp, NULL, 0, NULL, x, NULL, &err), HONE_EINVAL);
    assert_int_equal(err.code, HONE_EINVAL);
}

/* ---- discrete dimensions ---- */

/* x0 ordinal (5 levels 0, .25, .5, .75, 1): −100(x0 − .6)² left of .6, −(x0 − .6)² right:
 * the relaxation peaks at .6, which rounds to .5, but .75 is better (−.0225 vs −1).
 * x1 continuous: −(x1 − (x0 − .35))²·10. */
static double s_lopsided(const double *x, double *grad, const void *arg)
{
    (void) arg;
    double u = x[0] - 0.6, k = u < 0 ? 100.0 : 1.0;
    double v = x[1] - (x[0] - 0.35);
    if (grad) {
        grad[0] = -2.0 * k * u + 20.0 * v;
        grad[1] = -20.0 * v;
    }
    return -k * u * u - 10.0 * v * v;
}

static void test_ordinal_best_level(void **state)
{
    (void) state;
    int kind[2] = {1, 0}, levels[2] = {5, 0}, group[2] = {-1, -1};
    hone_acqf_space_t sp = {.d = 2, .kind = kind, .levels = levels, .group = group};
    s_fake_t f = s_fake(2, s_lopsided, NULL);
    double x[2], value;
    assert_int_equal(hone_acqf_optimize(&f.base, &sp, NULL, 0, NULL, x, &value, NULL), HONE_OK);
    assert_true(x[0] == 0.75);   /* exactly on the grid, and the best level */
    assert_true(fabs(x[1] - 0.4) < 1e-4);
    assert_true(value == s_lopsided(x, NULL, NULL));
}

/* x0 continuous, −(x0 − .5)²; x1..x3 a one-hot group with
 * v·x + .5·x1·x2 − .5·Σ x_j²,  v = (.2, .2, .3). The relaxation peaks at x1 = x2 = .4,
 * x3 = .3, which argmax rounds to level 0 (value −.3), but level 2 is best (−.2): the
 * neighbour moves have to find it. */
static double s_onehot_fn(const double *x, double *grad, const void *arg)
{
    (void) arg;
    static const double v[3] = {0.2, 0.2, 0.3};
    double f = -(x[0] - 0.5) * (x[0] - 0.5) + 0.5 * x[1] * x[2];
    for (int j = 0; j < 3; j++)
        f += v[j] * x[1 + j] - 0.5 * x[1 + j] * x[1 + j];
    if (grad) {
        grad[0] = -2.0 * (x[0] - 0.5);
        for (int j = 0; j < 3; j++)
            grad[1 + j] = v[j] - x[1 + j];
        grad[1] += 0.5 * x[2];
        grad[2] += 0.5 * x[1];
    }
    return f;
}

static void test_onehot_best_level(void **state)
{
    (void) state;
    int kind[4] = {0, 2, 2, 2}, levels[4] = {0}, group[4] = {-1, 7, 7, 7};
    hone_acqf_space_t sp = {.d = 4, .kind = kind, .levels = levels, .group = group};
    s_fake_t f = s_fake(4, s_onehot_fn, NULL);
    double x[4], value;
    assert_int_equal(hone_acqf_optimize(&f.base, &sp, NULL, 0, NULL, x, &value, NULL), HONE_OK);
    assert_true(x[1] == 0.0 && x[2] == 0.0 && x[3] == 1.0);
    assert_true(fabs(x[0] - 0.5) < 1e-4);
    assert_true(fabs(value + 0.2) < 1e-7);
}

/* An ordinal inside a linear constraint: x0 in {0, .5, 1}, x1 continuous, x0 + x1 <= .7,
 * maximum of −‖x − (.6, .6)‖² at (.5, .2). The relaxation ends near (.35, .35), which
 * rounds to the infeasible (.5, .35): the continuous part has to be repaired first. */
static void test_ordinal_with_constraint(void **state)
{
    (void) state;
    s_quad_t q = {.d = 2, .c = {0.6, 0.6}};
    int kind[2] = {1, 0}, levels[2] = {3, 0}, group[2] = {-1, -1};
    double a[2] = {1.0, 1.0}, b[1] = {0.7};
    hone_acqf_space_t sp = {.d = 2, .kind = kind, .levels = levels, .group = group,
                            .n_ineq = 1, .ineq_a = a, .ineq_b = b};
    for (uint64_t seed = 0; seed < 4; seed++) {
        hone_acqf_opt_options_t opts;
        hone_acqf_opt_options_init(&opts);
        opts.seed = seed;
        s_fake_t f = s_fake(2, s_quad, &q);
        double x[2], value;
        assert_int_equal(hone_acqf_optimize(&f.base, &sp, NULL, 0, &opts, x, &value, NULL), HONE_OK);
        assert_true(x[0] == 0.5);
        assert_true(x[0] + x[1] <= 0.7 + 1e-8);
        assert_true(fabs(x[1] - 0.2) < 1e-6);
        assert_true(fabs(value + 0.17) < 1e-6);
    }
}

/* All discrete: two ordinals (5 and 7 levels) and a group of 3 = 105 points, enumerated. */
static double s_grid_fn(const double *x, double *grad, const void *arg)
{
    (void) arg;
    double f = -(x[0] - 0.3) * (x[0] - 0.3) - 2.0 * (x[1] - 0.62) * (x[1] - 0.62)
               + 0.05 * x[2] + 0.12 * x[3] + 0.02 * x[4] + 0.3 * x[0] * x[4];
    if (grad) {
        grad[0] = -2.0 * (x[0] - 0.3) + 0.3 * x[4];
        grad[1] = -4.0 * (x[1] - 0.62);
        grad[2] = 0.05;
        grad[3] = 0.12;
        grad[4] = 0.02 + 0.3 * x[0];
    }
    return f;
}

/* Best grid point by brute force, skipping excluded ones (max-norm 1e-6). */
static double s_grid_best(const int *levels, size_t n_ord, size_t group_size,
                          const double *excl, size_t n_excl, double *best)
{
    double best_v = -INFINITY;
    size_t total = group_size;
    for (size_t i = 0; i < n_ord; i++)
        total *= (size_t) levels[i];
    size_t d = n_ord + group_size;
    for (size_t c = 0; c < total; c++) {
        double x[S_MAXD];
        size_t rest = c;
        for (size_t i = 0; i < n_ord; i++) {
            x[i] = (double) (rest % (size_t) levels[i]) / (levels[i] - 1);
            rest /= (size_t) levels[i];
        }
        for (size_t j = 0; j < group_size; j++)
            x[n_ord + j] = j == rest ? 1.0 : 0.0;
        bool skip = false;
        for (size_t e = 0; e < n_excl; e++)
            skip = skip || s_maxdist(x, excl + e * d, d) <= 1e-6;
        double v = s_grid_fn(x, NULL, NULL);
        if (!skip && v > best_v) {
            best_v = v;
            memcpy(best, x, d * sizeof(double));
        }
    }
    return best_v;
}

static void test_discrete_enumeration_and_exclusion(void **state)
{
    (void) state;
    int kind[5] = {1, 1, 2, 2, 2}, levels[5] = {5, 7, 0, 0, 0}, group[5] = {-1, -1, 0, 0, 0};
    hone_acqf_space_t sp = {.d = 5, .kind = kind, .levels = levels, .group = group};
    double excl[105 * 5];
    size_t n_excl = 0;
    for (int round = 0; round < 3; round++) {
        double want[5];
        double want_v = s_grid_best(levels, 2, 3, excl, n_excl, want);
        s_fake_t f = s_fake(5, s_grid_fn, NULL);
        double x[5], value;
        assert_int_equal(hone_acqf_optimize(&f.base, &sp, excl, n_excl, NULL, x, &value, NULL),
                         HONE_OK);
        assert_memory_equal(x, want, sizeof x);
        assert_true(value == want_v);
        assert_true(f.eval_calls == 1 && f.points == 105 - n_excl && f.grads == 0);
        memcpy(excl + 5 * n_excl++, x, sizeof x);   /* next round: exclude it */
    }
    /* everything excluded */
    s_fake_t f = s_fake(5, s_grid_fn, NULL);
    n_excl = 0;
    for (size_t c = 0; c < 105; c++) {
        double *x = excl + 5 * n_excl++;
        x[0] = (double) (c % 5) / 4;
        x[1] = (double) (c / 5 % 7) / 6;
        for (size_t j = 0; j < 3; j++)
            x[2 + j] = j == c / 35 ? 1.0 : 0.0;
    }
    double x[5];
    hone_error_t err;
    assert_int_equal(hone_acqf_optimize(&f.base, &sp, excl, n_excl, NULL, x, NULL, &err),
                     HONE_EEXHAUSTED);
}

/* All discrete but too many points to enumerate (41 · 37 · 3 = 4551): relaxation, rounding
 * and neighbour moves still find the best grid point of this concave-ish surface. */
static void test_discrete_large_grid(void **state)
{
    (void) state;
    int kind[5] = {1, 1, 2, 2, 2}, levels[5] = {41, 37, 0, 0, 0}, group[5] = {-1, -1, 3, 3, 3};
    hone_acqf_space_t sp = {.d = 5, .kind = kind, .levels = levels, .group = group};
    double want[5];
    double want_v = s_grid_best(levels, 2, 3, NULL, 0, want);
    s_fake_t f = s_fake(5, s_grid_fn, NULL);
    double x[5], value;
    assert_int_equal(hone_acqf_optimize(&f.base, &sp, NULL, 0, NULL, x, &value, NULL), HONE_OK);
    assert_memory_equal(x, want, sizeof x);
    assert_true(value == want_v);
    assert_true(f.grads > 0);   /* not enumerated */
}

/* ---- exclusion ---- */

static void test_exclusion_continuous(void **state)
{
    (void) state;
    /* two bumps: excluding the global maximum returns the other local maximum */
    s_bumps_t b = {.d = 2, .k = 2, .s = 0.12, .w = {1.0, 0.7}, .c = {{0.3, 0.3}, {0.75, 0.8}}};
    hone_acqf_space_t sp = s_box(2);
    hone_acqf_opt_options_t opts;
    hone_acqf_opt_options_init(&opts);
    opts.seed = 5;
    double x1[2], x2[2], v1, v2;
    s_fake_t f = s_fake(2, s_bumps, &b);
    assert_int_equal(hone_acqf_optimize(&f.base, &sp, NULL, 0, &opts, x1, &v1, NULL), HONE_OK);
    double best[2], second[2];
    s_bumps_argmax(&b, 0, best);
    s_bumps_argmax(&b, 1, second);
    assert_true(s_maxdist(x1, best, 2) < 1e-3);
    /* exclude the global maximum as the optimizer found it, within 1e-6 */
    double excl[2] = {x1[0] + 5e-7, x1[1] - 5e-7};
    assert_int_equal(hone_acqf_optimize(&f.base, &sp, excl, 1, &opts, x2, &v2, NULL), HONE_OK);
    assert_true(s_maxdist(x2, excl, 2) > 1e-6);
    assert_true(v2 <= v1);
    assert_true(s_maxdist(x2, second, 2) < 1e-3 || s_maxdist(x2, best, 2) < 1e-3);
}

/* A single bump: every restart converges to the excluded point, so the answer is the best
 * raw sample, which the test recomputes from the same Sobol stream. */
static void test_exclusion_falls_back_to_raw(void **state)
{
    (void) state;
    s_bumps_t b = {.d = 2, .k = 1, .s = 0.2, .w = {1.0}, .c = {{0.4, 0.55}}};
    hone_acqf_space_t sp = s_box(2);
    hone_acqf_opt_options_t opts;
    hone_acqf_opt_options_init(&opts);
    opts.seed = 11;
    double excl[2] = {0.4, 0.55};
    s_fake_t f = s_fake(2, s_bumps, &b);
    double x[2], value;
    assert_int_equal(hone_acqf_optimize(&f.base, &sp, excl, 1, &opts, x, &value, NULL), HONE_OK);
    assert_true(s_maxdist(x, excl, 2) > 1e-6);

    hone_sobol_t *sobol = hone_sobol_new(2, true, hone_rng_derive(11, HONE_RNG_SOBOL_RAW));
    double raw[1024 * 2];
    assert_int_equal(hone_sobol_next(sobol, 1024, raw), HONE_OK);
    hone_sobol_destroy(&sobol);
    double best_v = -INFINITY;
    size_t best = 0;
    for (size_t i = 0; i < 1024; i++) {
        double v = s_bumps(raw + 2 * i, NULL, &b);
        if (v > best_v && s_maxdist(raw + 2 * i, excl, 2) > 1e-6) {
            best_v = v;
            best = i;
        }
    }
    assert_memory_equal(x, raw + 2 * best, sizeof x);
    assert_true(value == best_v);
}

/* ---- arguments ---- */

static void test_bad_arguments(void **state)
{
    (void) state;
    s_quad_t q = {.d = 2, .c = {0.5, 0.5}};
    s_fake_t f = s_fake(2, s_quad, &q);
    double x[3];
    hone_error_t err;
    hone_acqf_space_t sp3 = s_box(3);
    assert_int_equal(hone_acqf_optimize(&f.base, &sp3, NULL, 0, NULL, x, NULL, &err), HONE_EINVAL);
    hone_acqf_space_t sp = s_box(2);
    hone_acqf_opt_options_t opts;
    hone_acqf_opt_options_init(&opts);
    opts.restarts = -1;
    assert_int_equal(hone_acqf_optimize(&f.base, &sp, NULL, 0, &opts, x, NULL, &err), HONE_EINVAL);
    assert_int_equal(hone_acqf_optimize(&f.base, &sp, NULL, 1, NULL, x, NULL, &err), HONE_EINVAL);
    int kind[2] = {1, 0}, levels[2] = {0, 0};
    hone_acqf_space_t bad = {.d = 2, .kind = kind, .levels = levels};
    assert_int_equal(hone_acqf_optimize(&f.base, &bad, NULL, 0, NULL, x, NULL, &err), HONE_EINVAL);
    int kind2[2] = {2, 0};
    hone_acqf_space_t nogroup = {.d = 2, .kind = kind2, .levels = levels};
    assert_int_equal(hone_acqf_optimize(&f.base, &nogroup, NULL, 0, NULL, x, NULL, &err), HONE_EINVAL);
    hone_acqf_opt_options_init(&opts);
    assert_int_equal(opts.raw_samples, 1024);
    assert_int_equal(opts.restarts, 20);
    assert_int_equal(opts.max_eval, 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bumps_2d),
        cmocka_unit_test(test_bumps_6d),
        cmocka_unit_test(test_box_bounds_respected),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_best_raw_sample_always_restarted),
        cmocka_unit_test(test_linear_constraint_active),
        cmocka_unit_test(test_linear_constraints_narrow),
        cmocka_unit_test(test_linear_constraints_infeasible),
        cmocka_unit_test(test_ordinal_best_level),
        cmocka_unit_test(test_onehot_best_level),
        cmocka_unit_test(test_ordinal_with_constraint),
        cmocka_unit_test(test_discrete_enumeration_and_exclusion),
        cmocka_unit_test(test_discrete_large_grid),
        cmocka_unit_test(test_exclusion_continuous),
        cmocka_unit_test(test_exclusion_falls_back_to_raw),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
