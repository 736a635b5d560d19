/* Unit tests for core/linalg: Cholesky against a hand-computed factor, solves and
 * inverses on random SPD matrices (residuals), the jitter path on singular and
 * indefinite matrices, the rank-1 append against a full factorization, BLAS wrappers. */
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
#include "linalg.h"
#include "rng.h"
#include "test_support.h"

/* Column-major (i, j) with leading dimension ld. */
#define AT(a, ld, i, j) ((a)[(i) + (j) * (ld)])

static double *s_zeros(size_t count)
{
    double *p = calloc(count > 0 ? count : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

/* A = B·Bᵀ + shift·I, n×n, full (both triangles), ld n. */
static double *s_random_spd(size_t n, double shift, uint64_t seed)
{
    hone_rng_t rng;
    hone_rng_seed(&rng, seed);
    double *b = s_zeros(n * n), *a = s_zeros(n * n);
    for (size_t i = 0; i < n * n; i++)
        b[i] = 2.0 * hone_rng_uniform(&rng) - 1.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t k = 0; k < n; k++)
                s += AT(b, n, i, k) * AT(b, n, j, k);
            AT(a, n, i, j) = s + (i == j ? shift : 0.0);
        }
    free(b);
    return a;
}

/* max |L·Lᵀ − A| over the lower triangle, L from the lower triangle of l. */
static double s_factor_error(size_t n, const double *l, size_t ldl, const double *a, size_t lda)
{
    double err = 0.0;
    for (size_t j = 0; j < n; j++)
        for (size_t i = j; i < n; i++) {
            double s = 0.0;
            for (size_t k = 0; k <= j; k++)
                s += AT(l, ldl, i, k) * AT(l, ldl, j, k);
            err = fmax(err, fabs(s - AT(a, lda, i, j)));
        }
    return err;
}

static void test_chol_hand_computed(void **state)
{
    (void) state;
    /* The classic example: A = [4 12 −16; 12 37 −43; −16 −43 98] = L·Lᵀ with
     * L = [2 0 0; 6 1 0; −8 5 3]. Upper triangle set to a sentinel: never read. */
    double a[9] = { 4, 12, -16, 99, 37, -43, 99, 99, 98 };
    double jitter = -1.0;
    assert_int_equal(hone_linalg_chol_decomp(3, a, 3, &jitter), HONE_OK);
    assert_true(jitter == 0.0);
    const double l[9] = { 2, 6, -8, 99, 1, 5, 99, 99, 3 };
    for (int i = 0; i < 9; i++)
        assert_true(fabs(a[i] - l[i]) < 1e-14);
    assert_true(fabs(hone_linalg_chol_logdet(3, a, 3) - 2.0 * log(6.0)) < 1e-14);

    /* A·(1, 2, 3) = (−20, −43, 192). */
    double b[3] = { -20, -43, 192 };
    hone_linalg_chol_svx(3, a, 3, 1, b, 3);
    assert_true(fabs(b[0] - 1.0) < 1e-12);
    assert_true(fabs(b[1] - 2.0) < 1e-12);
    assert_true(fabs(b[2] - 3.0) < 1e-12);

    /* L·x = (2, 7, −3) gives x = (1, 1, 0). Lᵀ = [2 6 −8; 0 1 5; 0 0 3], so
     * Lᵀ·x = (2, 6, 3) gives x3 = 1, x2 = 6 − 5 = 1, x1 = (2 − 6 + 8)/2 = 2. */
    double v[3] = { 2, 7, -3 };
    hone_linalg_trsv(HONE_LINALG_NOTRANS, 3, a, 3, v, 1);
    assert_true(fabs(v[0] - 1.0) < 1e-14 && fabs(v[1] - 1.0) < 1e-14 && fabs(v[2]) < 1e-14);
    double w[3] = { 2, 6, 3 };
    hone_linalg_trsv(HONE_LINALG_TRANS, 3, a, 3, w, 1);
    assert_true(fabs(w[0] - 2.0) < 1e-14 && fabs(w[1] - 1.0) < 1e-14
                && fabs(w[2] - 1.0) < 1e-14);
}

static void test_chol_random_solves(void **state)
{
    (void) state;
    const size_t sizes[] = { 1, 2, 7, 50, 130 };
    for (size_t t = 0; t < HONE_ARRAY_LEN(sizes); t++) {
        size_t n = sizes[t], ld = n + 3, nrhs = 4;
        double *a = s_random_spd(n, 0.1, 100 + t);
        double *l = s_zeros(ld * n);
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++)
                AT(l, ld, i, j) = AT(a, n, i, j);
        double jitter;
        double *work = s_zeros(n * n);
        assert_int_equal(hone_linalg_chol_decomp_work(n, l, ld, work, &jitter), HONE_OK);
        assert_true(jitter == 0.0);
        assert_true(s_factor_error(n, l, ld, a, n) < 1e-10 * n);

        /* Solve A·X = B for random B and check the residual. */
        hone_rng_t rng;
        hone_rng_seed(&rng, 7 + t);
        double *b = s_zeros(n * nrhs), *x = s_zeros(n * nrhs);
        for (size_t i = 0; i < n * nrhs; i++)
            b[i] = x[i] = hone_rng_uniform(&rng) - 0.5;
        hone_linalg_chol_svx(n, l, ld, nrhs, x, n);
        double res = 0.0;
        for (size_t c = 0; c < nrhs; c++)
            for (size_t i = 0; i < n; i++) {
                double s = 0.0;
                for (size_t k = 0; k < n; k++)
                    s += AT(a, n, i, k) * x[k + c * n];
                res = fmax(res, fabs(s - b[i + c * n]));
            }
        assert_true(res < 1e-9);

        /* trsm: L·(Lᵀ·X) = B as two triangular solves equals the dpotrs solution. */
        double *y = s_zeros(n * nrhs);
        memcpy(y, b, n * nrhs * sizeof *y);
        hone_linalg_trsm(HONE_LINALG_NOTRANS, n, l, ld, nrhs, y, n);
        hone_linalg_trsm(HONE_LINALG_TRANS, n, l, ld, nrhs, y, n);
        for (size_t i = 0; i < n * nrhs; i++)
            assert_true(fabs(y[i] - x[i]) < 1e-9 * (1.0 + fabs(x[i])));

        /* Inverse: A·A⁻¹ = I, both triangles filled; the lower-only variant agrees. */
        double *inv = s_zeros(n * n);
        assert_int_equal(hone_linalg_chol_inverse(n, l, ld, inv, n), HONE_OK);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                double s = 0.0;
                for (size_t k = 0; k < n; k++)
                    s += AT(a, n, i, k) * AT(inv, n, k, j);
                assert_true(fabs(s - (i == j ? 1.0 : 0.0)) < 1e-8);
                assert_true(AT(inv, n, i, j) == AT(inv, n, j, i));
            }
        assert_int_equal(hone_linalg_chol_inverse_lower(n, l, ld), HONE_OK);
        for (size_t j = 0; j < n; j++)
            for (size_t i = j; i < n; i++)
                assert_true(fabs(AT(l, ld, i, j) - AT(inv, n, i, j))
                            <= 1e-12 * (1.0 + fabs(AT(inv, n, i, j))));
        free(a);
        free(l);
        free(work);
        free(b);
        free(x);
        free(y);
        free(inv);
    }
}

static void test_chol_jitter_singular(void **state)
{
    (void) state;
    /* A = v·vᵀ with v = (1, 2, 3) has rank 1: dpotrf fails, jitter rescues it. */
    const double v[3] = { 1, 2, 3 };
    double a[9], orig[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            orig[i + 3 * j] = a[i + 3 * j] = v[i] * v[j];
    assert_int_equal(hone_linalg_chol_decomp_nojitter(3, a, 3), HONE_ENUMERIC);
    memcpy(a, orig, sizeof a);
    double jitter = 0.0;
    assert_int_equal(hone_linalg_chol_decomp(3, a, 3, &jitter), HONE_OK);
    assert_true(jitter >= 1e-8 && jitter <= 1e-3);
    /* One of the documented steps 1e-8·10^i. */
    double steps = log10(jitter / 1e-8);
    assert_true(fabs(steps - round(steps)) < 1e-9);
    double shifted[9];
    memcpy(shifted, orig, sizeof shifted);
    for (int i = 0; i < 3; i++)
        shifted[i + 3 * i] += jitter;
    assert_true(s_factor_error(3, a, 3, shifted, 3) < 1e-12);
}

static void test_chol_jitter_gives_up(void **state)
{
    (void) state;
    /* Eigenvalue −1: no jitter up to 1e-3 helps; the input is restored. */
    double a[4] = { 1, 2, 2, 1 };   /* eigenvalues 3 and −1 */
    double jitter = 0.0;
    assert_int_equal(hone_linalg_chol_decomp(2, a, 2, &jitter), HONE_ENUMERIC);
    assert_true(fabs(jitter - 1e-3) < 1e-15);
    assert_true(a[0] == 1 && a[1] == 2 && a[3] == 1);
    /* Empty matrices factorize trivially. */
    assert_int_equal(hone_linalg_chol_decomp(0, a, 1, &jitter), HONE_OK);
    assert_true(jitter == 0.0);
}

static void test_chol_append_equals_full(void **state)
{
    (void) state;
    const size_t n = 20, ld = 24;
    double *a = s_random_spd(n, 0.5, 42);
    double *full = s_zeros(n * n), *l = s_zeros(ld * ld);
    memcpy(full, a, n * n * sizeof *full);
    assert_int_equal(hone_linalg_chol_decomp(n, full, n, NULL), HONE_OK);

    /* Factor the leading (n−1)×(n−1) block with ld 24 and append the last point. */
    for (size_t j = 0; j + 1 < n; j++)
        for (size_t i = 0; i + 1 < n; i++)
            AT(l, ld, i, j) = AT(a, n, i, j);
    assert_int_equal(hone_linalg_chol_decomp(n - 1, l, ld, NULL), HONE_OK);
    double k[20];
    for (size_t i = 0; i + 1 < n; i++)
        k[i] = AT(a, n, n - 1, i);
    assert_int_equal(hone_linalg_chol_append(n - 1, l, ld, k, AT(a, n, n - 1, n - 1), 1e-12),
                     HONE_OK);
    for (size_t j = 0; j < n; j++)
        for (size_t i = j; i < n; i++)
            assert_true(fabs(AT(l, ld, i, j) - AT(full, n, i, j)) < 1e-12);
    /* Appending from scratch (n = 0) is a square root. */
    double one[1] = { 0 }, l0[4] = { 0 };
    assert_int_equal(hone_linalg_chol_append(0, l0, 2, one, 4.0, 0.0), HONE_OK);
    assert_true(l0[0] == 2.0);

    /* A point that duplicates row 0 of a noiseless matrix: the pivot is 0, refused. */
    for (size_t i = 0; i + 1 < n; i++)
        k[i] = AT(a, n, 0, i);
    assert_int_equal(hone_linalg_chol_append(n - 1, l, ld, k, AT(a, n, 0, 0), 1e-10),
                     HONE_ENUMERIC);
    free(a);
    free(full);
    free(l);
}

static void test_blas_wrappers(void **state)
{
    (void) state;
    /* A 3×2 = [1 4; 2 5; 3 6], x = (1, −1), z = (1, 0, 2). */
    const double a[6] = { 1, 2, 3, 4, 5, 6 };
    const double x[2] = { 1, -1 }, z[3] = { 1, 0, 2 };
    assert_true(hone_linalg_dot(3, z, z) == 5.0);
    double y[3] = { 1, 1, 1 };
    hone_linalg_gemv(HONE_LINALG_NOTRANS, 3, 2, 2.0, a, 3, x, 1.0, y);
    assert_true(y[0] == -5.0 && y[1] == -5.0 && y[2] == -5.0);
    double yt[2] = { 0, 0 };
    hone_linalg_gemv(HONE_LINALG_TRANS, 3, 2, 1.0, a, 3, z, 0.0, yt);
    assert_true(yt[0] == 7.0 && yt[1] == 16.0);

    /* AᵀA = [14 32; 32 77] through gemm and syrk. */
    double c[4] = { 9, 9, 9, 9 };
    hone_linalg_gemm(HONE_LINALG_TRANS, HONE_LINALG_NOTRANS, 2, 2, 3, 1.0, a, 3, a, 3, 0.0, c, 2);
    assert_true(c[0] == 14 && c[1] == 32 && c[2] == 32 && c[3] == 77);
    double s[4] = { 0, 0, -1, 0 };
    hone_linalg_syrk(HONE_LINALG_TRANS, 2, 3, 1.0, a, 3, 0.0, s, 2);
    assert_true(s[0] == 14 && s[1] == 32 && s[3] == 77);
    assert_true(s[2] == -1);   /* upper triangle untouched */
    hone_linalg_mirror_lower(2, s, 2);
    assert_true(s[2] == 32);

    /* symv and symm from the lower triangle only (upper holds garbage). */
    const double m[4] = { 2, 1, 1000, 3 };   /* [2 1; 1 3] */
    double w[2] = { 0, 0 };
    hone_linalg_symv(2, 1.0, m, 2, x, 0.0, w);
    assert_true(w[0] == 1.0 && w[1] == -2.0);
    /* B (1×2) = (1, −1): B·M = (1, −2). */
    double bm[2] = { 5, 5 };
    hone_linalg_symm_right(1, 2, 1.0, m, 2, x, 1, 0.0, bm, 1);
    assert_true(bm[0] == 1.0 && bm[1] == -2.0);

    /* A larger mirror crosses the 64-wide blocks. */
    size_t n = 150;
    double *big = s_zeros(n * n);
    for (size_t j = 0; j < n; j++)
        for (size_t i = j; i < n; i++)
            AT(big, n, i, j) = (double) (i * 1000 + j);
    hone_linalg_mirror_lower(n, big, n);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++)
            assert_true(AT(big, n, i, j) == AT(big, n, j, i));
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chol_hand_computed),
        cmocka_unit_test(test_chol_random_solves),
        cmocka_unit_test(test_chol_jitter_singular),
        cmocka_unit_test(test_chol_jitter_gives_up),
        cmocka_unit_test(test_chol_append_equals_full),
        cmocka_unit_test(test_blas_wrappers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
