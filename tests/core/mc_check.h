/* mc_check.h: the plain Monte-Carlo reference shared by the Monte-Carlo acquisition tests
 * (test_qlognei.c, test_qlognehvi.c, test_acqf_feasible.c, test_parego.c), and the
 * helpers those tests share to compare an acquisition with it; include after cmocka.h,
 * acqf.h, gp.h, rng.h and special.h.
 *
 * The reference is independent of the code under test: the exact joint posterior of a
 * GP with known hyperparameters (RBF kernel of unit variance, lengthscale ls, noise
 * variance noise, constant mean 0) at a set of points is built with explicit matrices and
 * a textbook Cholesky (no linalg.c, no kernel.c, no mc_joint.c), and drawn from with the
 * test's own pseudo-random normals. */
#ifndef HONE_TEST_MC_CHECK_H
#define HONE_TEST_MC_CHECK_H

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double mc_rbf(const double *a, const double *b, size_t d, double ls)
{
    double r2 = 0.0;
    for (size_t k = 0; k < d; k++)
        r2 += (a[k] - b[k]) * (a[k] - b[k]) / (ls * ls);
    return exp(-0.5 * r2);
}

/* In-place textbook Cholesky of the p×p row-major matrix a (lower); false if not PD. */
static inline bool mc_cholesky(size_t p, double *a)
{
    for (size_t j = 0; j < p; j++) {
        double s = a[j * p + j];
        for (size_t k = 0; k < j; k++)
            s -= a[j * p + k] * a[j * p + k];
        if (!(s > 0.0))
            return false;
        a[j * p + j] = sqrt(s);
        for (size_t i = j + 1; i < p; i++) {
            double t = a[i * p + j];
            for (size_t k = 0; k < j; k++)
                t -= a[i * p + k] * a[j * p + k];
            a[i * p + j] = t / a[j * p + j];
        }
        for (size_t k = j + 1; k < p; k++)
            a[j * p + k] = 0.0;
    }
    return true;
}

/* Solves (L·Lᵀ)·x = b for the row-major factor l (p×p). */
static inline void mc_chol_solve(size_t p, const double *l, double *b)
{
    for (size_t i = 0; i < p; i++) {
        for (size_t k = 0; k < i; k++)
            b[i] -= l[i * p + k] * b[k];
        b[i] /= l[i * p + i];
    }
    for (size_t i = p; i-- > 0;) {
        for (size_t k = i + 1; k < p; k++)
            b[i] -= l[k * p + i] * b[k];
        b[i] /= l[i * p + i];
    }
}

/* The joint posterior at the q points z (rows of d) of the GP fitted to the n points x
 * (rows of d) with targets y: mean mu (q) and the row-major lower Cholesky factor chol
 * (q×q) of the covariance + 1e-9·I. */
static inline void mc_joint_posterior(size_t n, size_t d, const double *x, const double *y,
                               double ls, double noise, size_t q, const double *z,
                               double *mu, double *chol)
{
    double *l = calloc(n * n, sizeof(double)), *alpha = calloc(n, sizeof(double));
    double *col = calloc(n, sizeof(double)), *kz = calloc(n * q, sizeof(double));
    assert_true(l && alpha && col && kz);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n; k++)
            l[i * n + k] = mc_rbf(x + i * d, x + k * d, d, ls) + (i == k ? noise : 0.0);
    assert_true(mc_cholesky(n, l));
    memcpy(alpha, y, n * sizeof(double));
    mc_chol_solve(n, l, alpha);
    for (size_t a = 0; a < q; a++)
        for (size_t i = 0; i < n; i++)
            kz[a * n + i] = mc_rbf(z + a * d, x + i * d, d, ls);
    for (size_t a = 0; a < q; a++) {
        mu[a] = 0.0;
        for (size_t i = 0; i < n; i++)
            mu[a] += kz[a * n + i] * alpha[i];
        memcpy(col, kz + a * n, n * sizeof(double));
        mc_chol_solve(n, l, col);
        for (size_t b = 0; b < q; b++) {
            double qf = 0.0;
            for (size_t i = 0; i < n; i++)
                qf += kz[b * n + i] * col[i];
            chol[a * q + b] = mc_rbf(z + a * d, z + b * d, d, ls) - qf;
        }
    }
    for (size_t a = 0; a < q; a++)
        chol[a * q + a] += 1e-9;
    assert_true(mc_cholesky(q, chol));
    free(l);
    free(alpha);
    free(col);
    free(kz);
}

/* One joint draw f = mu + chol·e (q values) for the q standard normals e. */
static inline void mc_draw(size_t q, const double *mu, const double *chol, const double *e,
                           double *f)
{
    for (size_t a = 0; a < q; a++) {
        f[a] = mu[a];
        for (size_t k = 0; k <= a; k++)
            f[a] += chol[a * q + k] * e[k];
    }
}

/* A standard normal by inversion of one uniform of rng. */
static inline double mc_normal(hone_rng_t *rng)
{
    return hone_special_normal_from_uniform(hone_rng_uniform(rng));
}

/* Two standard normals (Box–Muller) from rng. */
static inline void mc_normal_pair(hone_rng_t *rng, double *a, double *b)
{
    double u = 1.0 - hone_rng_uniform(rng), v = hone_rng_uniform(rng);
    double r = sqrt(-2.0 * log(u));
    *a = r * cos(6.283185307179586477 * v);
    *b = r * sin(6.283185307179586477 * v);
}

/* ---- models and comparisons shared by the tests ---- */

/* y ← (y − mean)/sd (ddof = 1), as the experiment standardizes targets. */
static inline void mc_standardize(double *y, size_t n)
{
    double mean = 0.0, ss = 0.0;
    for (size_t i = 0; i < n; i++)
        mean += y[i] / (double) n;
    for (size_t i = 0; i < n; i++)
        ss += (y[i] - mean) * (y[i] - mean);
    for (size_t i = 0; i < n; i++)
        y[i] = (y[i] - mean) / sqrt(ss / (double) (n - 1));
}

/* A GP on the n points x (rows of d) with targets y: fitted (fit, restarts from rng), or
 * with lengthscale ls in every dimension, noise variance noise and mean 0, as the
 * reference assumes. */
static inline hone_gp_t *mc_gp(size_t d, size_t n, const double *x, const double *y,
                               hone_kernel_kind_t kernel, bool fit, double ls, double noise,
                               hone_rng_t *rng)
{
    hone_gp_t *gp = hone_gp_new(d, kernel);
    assert_int_equal(hone_gp_set_data(gp, n, x, y, NULL), HONE_OK);
    if (fit) {
        assert_int_equal(hone_gp_fit(gp, NULL, rng), HONE_OK);
    }
    else {
        double lengthscales[16];
        assert_true(d <= 16);
        for (size_t a = 0; a < d; a++)
            lengthscales[a] = ls;
        hone_gp_set_params(gp, lengthscales, noise, 0.0);
        assert_int_equal(hone_gp_refresh(gp), HONE_OK);
    }
    return gp;
}

/* Posterior mean and standard deviation of gp at one point. */
static inline void mc_predict(const hone_gp_t *gp, const double *x, double *mu, double *sd)
{
    hone_gp_work_t *work = hone_gp_work_new(gp, 1);
    double var;
    assert_int_equal(hone_gp_predict(gp, 1, x, mu, &var, work), HONE_OK);
    hone_gp_work_destroy(&work);
    *sd = sqrt(var);
}

/* The candidates where the value matters: of 400 points of [0,1]^d drawn from rng, up to
 * count of the best by acqf, each at least 0.1 from the ones picked before. Returns how
 * many (fewer only when the values run out). d <= 16. */
static inline size_t mc_pick(hone_acqf_t *acqf, size_t d, hone_rng_t *rng, size_t count,
                             double *picked)
{
    enum { RAW = 400 };
    double *raw = calloc(RAW * d, sizeof(double)), rv[RAW];
    assert_true(raw && d <= 16);
    for (size_t i = 0; i < RAW * d; i++)
        raw[i] = hone_rng_uniform(rng);
    assert_int_equal(hone_acqf_eval(acqf, RAW, raw, rv), HONE_OK);
    size_t got = 0;
    while (got < count) {
        size_t at = 0;
        for (size_t i = 1; i < RAW; i++)
            if (rv[i] > rv[at])
                at = i;
        if (rv[at] == -INFINITY)
            break;
        rv[at] = -INFINITY;
        bool near = false;
        for (size_t k = 0; k < got; k++) {
            double r2 = 0.0;
            for (size_t a = 0; a < d; a++)
                r2 += (raw[at * d + a] - picked[k * d + a]) * (raw[at * d + a] - picked[k * d + a]);
            near = near || sqrt(r2) < 0.1;
        }
        if (!near)
            memcpy(picked + d * got++, raw + at * d, d * sizeof(double));
    }
    free(raw);
    return got;
}

/* exp(value) at x averaged over the count objects acqf (the same acquisition with other
 * base samples), and its standard error. */
static inline double mc_seed_mean(hone_acqf_t *const *acqf, size_t count, const double *x,
                                  double *se)
{
    double *vals = calloc(count, sizeof(double)), mean = 0.0, var = 0.0, v;
    assert_true(vals && count >= 2);
    for (size_t k = 0; k < count; k++) {
        assert_int_equal(hone_acqf_eval(acqf[k], 1, x, &v), HONE_OK);
        vals[k] = exp(v);
        mean += vals[k] / (double) count;
    }
    for (size_t k = 0; k < count; k++)
        var += (vals[k] - mean) * (vals[k] - mean) / (double) (count - 1);
    free(vals);
    *se = sqrt(var / (double) count);
    return mean;
}

/* Two acquisitions that must agree (a far constraint bound against none): at 50 points of
 * [0,1]^d drawn from rng, their values within 1e-8 and their gradients within 1e-6
 * relative to max(1, |g|). d <= 16. */
static inline void mc_check_same(hone_acqf_t *a, hone_acqf_t *b, size_t d, hone_rng_t *rng)
{
    double x[16], ga[16], gb[16], va, vb, worst = 0.0, worst_g = 0.0;
    assert_true(d <= 16);
    for (size_t t = 0; t < 50; t++) {
        for (size_t i = 0; i < d; i++)
            x[i] = hone_rng_uniform(rng);
        assert_int_equal(hone_acqf_eval_grad(a, x, &va, ga), HONE_OK);
        assert_int_equal(hone_acqf_eval_grad(b, x, &vb, gb), HONE_OK);
        worst = fmax(worst, fabs(va - vb));
        for (size_t i = 0; i < d; i++)
            worst_g = fmax(worst_g, fabs(ga[i] - gb[i]) / fmax(1.0, fabs(ga[i])));
    }
    print_message("largest difference %.2g (value), %.2g (gradient)\n", worst, worst_g);
    assert_true(worst < 1e-8 && worst_g < 1e-6);
}

/* An acquisition without (plain) and with (con) the constraint c(x) <= bound, where every
 * baseline point is surely feasible, at 2000 points of [0,1]^2 drawn from rng: where the
 * constraint surely holds or surely fails (margin max(6σ_c, 0.05)), at least 50 of each;
 * where it holds they agree within 1e-3, where it fails con is lower by more than 8
 * (−log fatmoid(−50) ≈ 8.3). */
static inline void mc_check_constraint_split(hone_acqf_t *plain, hone_acqf_t *con,
                                             const hone_gp_t *c, double bound, hone_rng_t *rng)
{
    size_t violated = 0, holds = 0;
    double smallest_drop = INFINITY, largest_diff = 0.0;
    for (int t = 0; t < 2000; t++) {
        double x[2] = {hone_rng_uniform(rng), hone_rng_uniform(rng)}, mu, sd, a, b;
        mc_predict(c, x, &mu, &sd);
        double margin = fmax(6.0 * sd, 0.05);
        if (!(mu - bound > margin) && !(bound - mu > margin))
            continue;
        assert_int_equal(hone_acqf_eval(plain, 1, x, &a), HONE_OK);
        assert_int_equal(hone_acqf_eval(con, 1, x, &b), HONE_OK);
        if (mu - bound > margin) {
            smallest_drop = fmin(smallest_drop, a - b);
            violated++;
        }
        else {
            largest_diff = fmax(largest_diff, fabs(a - b));
            holds++;
        }
    }
    print_message("bound %.3f: %zu surely violated points, smallest drop %.2f; %zu surely "
                  "feasible ones, largest difference %.2g\n", bound, violated, smallest_drop,
                  holds, largest_diff);
    assert_true(violated >= 50 && holds >= 50);
    assert_true(smallest_drop > 8.0);
    assert_true(largest_diff < 1e-3);
}

/* One object a evaluated at n random points of [0,1]^d (rng) in one batch (past any
 * internal chunk) gives its one-by-one values (within 1e-12), b (made with the same
 * context and seed) gives the same values exactly, c (another seed; NULL: not checked)
 * differs somewhere, and NaN input is refused by eval and eval_grad. d <= 16. */
static inline void mc_check_seeded(hone_acqf_t *a, hone_acqf_t *b, hone_acqf_t *c, size_t d,
                                   size_t n, hone_rng_t *rng)
{
    double *x = calloc(n * d, sizeof(double)), *v = calloc(n, sizeof(double));
    assert_true(x && v && d <= 16);
    for (size_t i = 0; i < n * d; i++)
        x[i] = hone_rng_uniform(rng);
    assert_int_equal(hone_acqf_eval(a, n, x, v), HONE_OK);
    size_t differ = 0;
    for (size_t i = 0; i < n; i += 7) {
        double one, same, other;
        assert_int_equal(hone_acqf_eval(a, 1, x + d * i, &one), HONE_OK);
        assert_int_equal(hone_acqf_eval(b, 1, x + d * i, &same), HONE_OK);
        assert_true(fabs(one - v[i]) <= 1e-12 * fmax(1.0, fabs(one)));
        assert_true(one == same);
        if (c) {
            assert_int_equal(hone_acqf_eval(c, 1, x + d * i, &other), HONE_OK);
            differ += one != other;
        }
    }
    assert_true(!c || differ > 0);
    double bad[16] = {0}, out, g[16];
    bad[d - 1] = NAN;
    assert_int_equal(hone_acqf_eval(a, 1, bad, &out), HONE_EINVAL);
    assert_int_equal(hone_acqf_eval_grad(a, bad, &out, g), HONE_EINVAL);
    free(x);
    free(v);
}

/* mc_check_seeded without the other-seed check. */
static inline void mc_check_batches(hone_acqf_t *a, hone_acqf_t *b, size_t d, size_t n,
                                    hone_rng_t *rng)
{
    mc_check_seeded(a, b, NULL, d, n, rng);
}

static inline double mc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec * 1e-6;
}

/* The cost of an acquisition on [0,1]^d (informational): milliseconds per point of one
 * batched eval of 256 random points (*t_batch) and per eval_grad (*t_grad, 64 points). */
static inline void mc_cost(hone_acqf_t *acqf, size_t d, double *t_batch, double *t_grad)
{
    enum { POINTS = 256 };
    double x[POINTS * 16], v[POINTS], g[16];
    assert_true(d <= 16);
    hone_rng_t rng;
    hone_rng_seed(&rng, 62);
    for (size_t i = 0; i < POINTS * d; i++)
        x[i] = hone_rng_uniform(&rng);
    double t0 = mc_now_ms();
    assert_int_equal(hone_acqf_eval(acqf, POINTS, x, v), HONE_OK);
    *t_batch = (mc_now_ms() - t0) / POINTS;
    t0 = mc_now_ms();
    for (size_t i = 0; i < 64; i++)
        assert_int_equal(hone_acqf_eval_grad(acqf, x + d * i, &v[i], g), HONE_OK);
    *t_grad = (mc_now_ms() - t0) / 64;
}

#endif
