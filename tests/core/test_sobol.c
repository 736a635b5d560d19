/* Unit tests for core/sobol: unscrambled points against SciPy, scrambled reproducibility,
 * the net property, skipping and exhaustion.
 *
 * tests/fixtures/sobol_unscrambled.txt holds scipy.stats.qmc.Sobol(d, scramble=False)
 * points; tools/gen_sobol_fixtures.py generated it and documents its format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sobol.h"
#include "test_support.h"

#define MAXN (UINT64_C(1) << 30)

/* u * 2^30 as an integer, failing if u is not a multiple of 2^-30 in [0, 1). */
static uint64_t s_int30(double u)
{
    assert_true(u >= 0.0 && u < 1.0);
    double scaled = u * 0x1.0p30;
    uint64_t x = (uint64_t) scaled;
    assert_true((double) x == scaled);
    return x;
}

static double *s_draw(uint32_t dim, bool scramble, uint64_t seed, size_t n)
{
    hone_sobol_t *sobol = hone_sobol_new(dim, scramble, seed);
    assert_non_null(sobol);
    double *out = malloc(n * dim * sizeof *out);
    assert_non_null(out);
    assert_int_equal(hone_sobol_next(sobol, n, out), HONE_OK);
    assert_true(hone_sobol_count(sobol) == n);
    hone_sobol_destroy(&sobol);
    return out;
}

/* Reads the next unsigned integer after *cursor, skipping blanks and '#' comment lines. */
static uint64_t s_read_uint(char **cursor)
{
    char *p = *cursor;
    for (;;) {
        while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
            p++;
        if (*p != '#')
            break;
        while (*p && *p != '\n')
            p++;
    }
    char *end = NULL;
    unsigned long long value = strtoull(p, &end, 10);
    assert_true(end != p);
    *cursor = end;
    return (uint64_t) value;
}

/* Skips blanks and comments; true if the word "case" follows (and consumes it). */
static bool s_read_case(char **cursor)
{
    char *p = *cursor;
    for (;;) {
        while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
            p++;
        if (*p != '#')
            break;
        while (*p && *p != '\n')
            p++;
    }
    *cursor = p;
    if (*p == '\0')
        return false;
    assert_true(strncmp(p, "case ", 5) == 0);
    *cursor = p + 5;
    return true;
}

static void test_unscrambled_matches_scipy(void **state)
{
    (void) state;
    char *path = hone_test_source_path("tests/fixtures/sobol_unscrambled.txt");
    char *text = hone_test_read_file(path, NULL);
    assert_non_null(text);
    char *cursor = text;
    int ncases = 0;
    while (s_read_case(&cursor)) {
        uint32_t dim = (uint32_t) s_read_uint(&cursor);
        uint64_t skip = s_read_uint(&cursor);
        size_t npoints = (size_t) s_read_uint(&cursor);
        size_t ncols = (size_t) s_read_uint(&cursor);
        uint32_t *cols = malloc(ncols * sizeof *cols);
        assert_non_null(cols);
        for (size_t c = 0; c < ncols; c++) {
            cols[c] = (uint32_t) s_read_uint(&cursor);
            assert_true(cols[c] < dim);
        }

        hone_sobol_t *sobol = hone_sobol_new(dim, false, 0);
        assert_non_null(sobol);
        assert_int_equal(hone_sobol_dim(sobol), dim);
        assert_int_equal(hone_sobol_skip(sobol, skip), HONE_OK);
        double *out = malloc(npoints * dim * sizeof *out);
        assert_non_null(out);
        /* draw in two uneven pieces to exercise resuming */
        size_t first = npoints / 3;
        assert_int_equal(hone_sobol_next(sobol, first, out), HONE_OK);
        assert_int_equal(hone_sobol_next(sobol, npoints - first, out + first * dim), HONE_OK);
        assert_true(hone_sobol_count(sobol) == skip + npoints);

        for (size_t i = 0; i < npoints; i++) {
            const double *row = out + i * dim;
            for (size_t c = 0; c < ncols; c++) {
                uint64_t expected = s_read_uint(&cursor);
                uint64_t got = s_int30(row[cols[c]]);
                if (got != expected)
                    fail_msg("dim %u skip %llu point %zu coordinate %u: %llu, scipy %llu",
                             (unsigned) dim, (unsigned long long) skip, i, (unsigned) cols[c],
                             (unsigned long long) got, (unsigned long long) expected);
            }
            uint64_t expected_sum = s_read_uint(&cursor);
            uint64_t sum = 0;
            for (uint32_t j = 0; j < dim; j++)
                sum += s_int30(row[j]);
            if (sum != expected_sum)
                fail_msg("dim %u skip %llu point %zu: coordinate sum %llu, scipy %llu",
                         (unsigned) dim, (unsigned long long) skip, i,
                         (unsigned long long) sum, (unsigned long long) expected_sum);
        }
        free(out);
        free(cols);
        hone_sobol_destroy(&sobol);
        ncases++;
    }
    assert_true(ncases >= 13);
    free(text);
    free(path);
}

static void test_unscrambled_first_point_is_zero(void **state)
{
    (void) state;
    double *out = s_draw(50, false, 999, 2);
    for (int j = 0; j < 50; j++) {
        assert_true(out[j] == 0.0);
        assert_true(out[50 + j] == 0.5);
    }
    free(out);
}

static void test_scrambled_in_unit_interval(void **state)
{
    (void) state;
    const uint32_t dims[] = { 1, 6, 37, 1111 };
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
        double *out = s_draw(dims[d], true, 31 + d, 512);
        for (size_t i = 0; i < 512 * (size_t) dims[d]; i++)
            (void) s_int30(out[i]);   /* in [0, 1) and a multiple of 2^-30 */
        free(out);
    }
}

static void test_scrambled_reproducible(void **state)
{
    (void) state;
    const uint32_t dim = 13;
    const size_t n = 300;
    double *a = s_draw(dim, true, 424242, n);
    double *b = s_draw(dim, true, 424242, n);
    double *c = s_draw(dim, true, 424243, n);
    double *plain = s_draw(dim, false, 424242, n);
    assert_memory_equal(a, b, n * dim * sizeof *a);
    size_t differ = 0, differ_plain = 0;
    for (size_t i = 0; i < n * dim; i++) {
        differ += a[i] != c[i];
        differ_plain += a[i] != plain[i];
    }
    assert_true(differ > n * dim * 99 / 100);
    assert_true(differ_plain > n * dim * 99 / 100);
    free(a);
    free(b);
    free(c);
    free(plain);
}

/* Seed 12345, dim 6, first 8 points. Frozen: a change here breaks every experiment
 * replayed from a seed. Cross-checked against the pure-Python model in
 * tools/gen_sobol_fixtures.py (--golden 12345 6 8). */
static const double s_golden[8 * 6] = {
    0x1.7cd46c6800000p-1, 0x1.0a55502000000p-3, 0x1.ed3a2db800000p-1, 0x1.8c00918000000p-5, 0x1.1c40ed5800000p-1, 0x1.5de60e0000000p-7,
    0x1.8e31aee000000p-3, 0x1.6b5e514800000p-1, 0x1.0f3b2f2000000p-2, 0x1.497dfef800000p-1, 0x1.be254e2000000p-3, 0x1.1c00610800000p-1,
    0x1.31f2540000000p-2, 0x1.0baeb14000000p-2, 0x1.17e8020800000p-1, 0x1.56f7a94000000p-2, 0x1.0eb95b8000000p-2, 0x1.bb9cc58800000p-1,
    0x1.87a12dd000000p-1, 0x1.ac1c5de000000p-1, 0x1.f53ee08000000p-3, 0x1.fac6234000000p-1, 0x1.f495131000000p-1, 0x1.45d6797000000p-2,
    0x1.f605aee800000p-1, 0x1.f77290c000000p-2, 0x1.e946d31000000p-2, 0x1.8d4895f000000p-1, 0x1.848d524800000p-1, 0x1.a78b16e000000p-3,
    0x1.d2bb527000000p-2, 0x1.d2724d2000000p-1, 0x1.9e04d3a000000p-1, 0x1.b9eac42000000p-2, 0x1.ee89d93000000p-2, 0x1.70953c8800000p-1,
    0x1.228e880000000p-5, 0x1.e7da264000000p-4, 0x1.ce28c70000000p-6, 0x1.3ef3484800000p-1, 0x1.f9112d0000000p-5, 0x1.d709980800000p-1,
    0x1.0d70ef5000000p-1, 0x1.1530418800000p-1, 0x1.64d6fc1000000p-1, 0x1.bd3afea000000p-3, 0x1.6c58ac0000000p-1, 0x1.9cfcc27000000p-2,
};

static void test_scrambled_golden(void **state)
{
    (void) state;
    double *out = s_draw(6, true, 12345, 8);
    for (int i = 0; i < 8 * 6; i++)
        if (out[i] != s_golden[i])
            fail_msg("point %d coordinate %d: %a, expected %a", i / 6, i % 6, out[i], s_golden[i]);
    free(out);
}

/* For every dimension and k = 1..8, the first 2^k points put exactly one point in each
 * interval [m/2^k, (m+1)/2^k). */
static void s_check_net(const double *out, uint32_t dim)
{
    for (uint32_t j = 0; j < dim; j++) {
        for (unsigned k = 1; k <= 8; k++) {
            unsigned char seen[256] = { 0 };
            size_t n = (size_t) 1 << k;
            for (size_t i = 0; i < n; i++) {
                size_t cell = (size_t) (out[i * dim + j] * (double) n);
                assert_true(cell < n);
                if (seen[cell]++)
                    fail_msg("dim %u: two of the first %zu points in cell %zu", (unsigned) j, n, cell);
            }
        }
    }
}

static void test_net_property(void **state)
{
    (void) state;
    double *out = s_draw(64, true, 7, 256);
    s_check_net(out, 64);
    free(out);
    out = s_draw(64, false, 0, 256);
    s_check_net(out, 64);
    free(out);
    /* the last dimensions of the table, scrambled with two seeds */
    for (uint64_t seed = 1; seed <= 2; seed++) {
        out = s_draw(HONE_SOBOL_MAXDIM, true, seed, 256);
        s_check_net(out, HONE_SOBOL_MAXDIM);
        free(out);
    }
}

static int s_cmp_int(const void *a, const void *b)
{
    int x = *(const int *) a, y = *(const int *) b;
    return (x > y) - (x < y);
}

/* Occupancy of the 2^a x 2^b grid on dims (j1, j2) of the first n points, sorted. */
static void s_grid_counts(const double *out, uint32_t dim, size_t n, uint32_t j1, uint32_t j2,
                          unsigned a, unsigned b, int *counts)
{
    size_t cells = (size_t) 1 << (a + b);
    memset(counts, 0, cells * sizeof *counts);
    for (size_t i = 0; i < n; i++) {
        size_t c1 = (size_t) (out[i * dim + j1] * (double) ((size_t) 1 << a));
        size_t c2 = (size_t) (out[i * dim + j2] * (double) ((size_t) 1 << b));
        counts[(c1 << b) | c2]++;
    }
    qsort(counts, cells, sizeof *counts, s_cmp_int);
}

/* LMS plus shift maps the top a digits of each coordinate through an invertible affine
 * map of the top a digits alone, so it only permutes the cells of every elementary
 * grid: the sorted occupancies match the unscrambled ones. An upper-triangular or
 * otherwise wrong scrambling mixes lower digits in and breaks this. The first two
 * dimensions form a (0, m, 2)-net: one point per cell whenever a + b = m. */
static void test_two_dim_nets_preserved(void **state)
{
    (void) state;
    const uint32_t dim = 8;
    const size_t n = 256;
    double *plain = s_draw(dim, false, 0, n);
    double *scrambled = s_draw(dim, true, 2718, n);
    int counts_plain[256], counts_scrambled[256];
    for (uint32_t j1 = 0; j1 < dim; j1++) {
        for (uint32_t j2 = j1 + 1; j2 < dim; j2++) {
            for (unsigned a = 1; a <= 7; a++) {
                for (unsigned b = 1; a + b <= 8; b++) {
                    s_grid_counts(plain, dim, n, j1, j2, a, b, counts_plain);
                    s_grid_counts(scrambled, dim, n, j1, j2, a, b, counts_scrambled);
                    size_t cells = (size_t) 1 << (a + b);
                    if (memcmp(counts_plain, counts_scrambled, cells * sizeof(int)) != 0)
                        fail_msg("dims %u,%u grid 2^%u x 2^%u: occupancy changed by scrambling",
                                 (unsigned) j1, (unsigned) j2, a, b);
                    if (j1 == 0 && j2 == 1 && a + b == 8)
                        for (size_t c = 0; c < cells; c++)
                            assert_int_equal(counts_scrambled[c], 1);
                }
            }
        }
    }
    free(plain);
    free(scrambled);
}

static void test_skip_equals_drawing(void **state)
{
    (void) state;
    const uint32_t dim = 7;
    const uint64_t skips[] = { 0, 1, 2, 3, 5, 100, 1023, 1024, 1025, 12345 };
    double *scratch = malloc(12345 * dim * sizeof *scratch);
    assert_non_null(scratch);
    for (int scramble = 0; scramble <= 1; scramble++) {
        for (size_t s = 0; s < sizeof skips / sizeof skips[0]; s++) {
            hone_sobol_t *drawn = hone_sobol_new(dim, scramble, 99);
            hone_sobol_t *skipped = hone_sobol_new(dim, scramble, 99);
            assert_int_equal(hone_sobol_next(drawn, (size_t) skips[s], scratch), HONE_OK);
            /* skip in two steps, the second one after a partial skip */
            assert_int_equal(hone_sobol_skip(skipped, skips[s] / 2), HONE_OK);
            assert_int_equal(hone_sobol_skip(skipped, skips[s] - skips[s] / 2), HONE_OK);
            assert_true(hone_sobol_count(drawn) == skips[s]);
            assert_true(hone_sobol_count(skipped) == skips[s]);
            double a[40 * 7], b[40 * 7];
            assert_int_equal(hone_sobol_next(drawn, 40, a), HONE_OK);
            assert_int_equal(hone_sobol_next(skipped, 40, b), HONE_OK);
            assert_memory_equal(a, b, sizeof a);
            hone_sobol_destroy(&drawn);
            hone_sobol_destroy(&skipped);
        }
    }
    free(scratch);
}

static void test_exhaustion(void **state)
{
    (void) state;
    hone_sobol_t *sobol = hone_sobol_new(3, true, 5);
    double out[2 * 3];
    assert_int_equal(hone_sobol_skip(sobol, MAXN + 1), HONE_EEXHAUSTED);
    assert_true(hone_sobol_count(sobol) == 0);
    assert_int_equal(hone_sobol_skip(sobol, MAXN - 1), HONE_OK);

    /* two points requested, one left: nothing written, nothing consumed */
    for (int i = 0; i < 6; i++)
        out[i] = -1.0;
    assert_int_equal(hone_sobol_next(sobol, 2, out), HONE_EEXHAUSTED);
    for (int i = 0; i < 6; i++)
        assert_true(out[i] == -1.0);
    assert_true(hone_sobol_count(sobol) == MAXN - 1);

    assert_int_equal(hone_sobol_next(sobol, 1, out), HONE_OK);
    for (int i = 0; i < 3; i++)
        (void) s_int30(out[i]);
    assert_true(hone_sobol_count(sobol) == MAXN);
    assert_int_equal(hone_sobol_next(sobol, 1, out), HONE_EEXHAUSTED);
    assert_int_equal(hone_sobol_skip(sobol, 1), HONE_EEXHAUSTED);
    assert_int_equal(hone_sobol_next(sobol, 0, NULL), HONE_OK);
    assert_int_equal(hone_sobol_skip(sobol, 0), HONE_OK);
    assert_true(hone_sobol_count(sobol) == MAXN);
    hone_sobol_destroy(&sobol);

    /* skipping straight to the end is allowed too */
    sobol = hone_sobol_new(2, false, 0);
    assert_int_equal(hone_sobol_skip(sobol, MAXN), HONE_OK);
    assert_int_equal(hone_sobol_next(sobol, 1, out), HONE_EEXHAUSTED);
    hone_sobol_destroy(&sobol);
}

static void test_invalid_dims_and_lifecycle(void **state)
{
    (void) state;
    assert_null(hone_sobol_new(0, false, 0));
    assert_null(hone_sobol_new(0, true, 1));
    assert_null(hone_sobol_new(HONE_SOBOL_MAXDIM + 1, false, 0));
    assert_null(hone_sobol_new(HONE_SOBOL_MAXDIM + 1, true, 1));
    assert_null(hone_sobol_new(UINT32_MAX, true, 1));

    hone_sobol_t *sobol = hone_sobol_new(HONE_SOBOL_MAXDIM, true, 3);
    assert_non_null(sobol);
    assert_int_equal(hone_sobol_dim(sobol), HONE_SOBOL_MAXDIM);
    assert_true(hone_sobol_count(sobol) == 0);
    hone_sobol_destroy(&sobol);
    assert_null(sobol);
    hone_sobol_destroy(&sobol);   /* safe twice */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unscrambled_matches_scipy),
        cmocka_unit_test(test_unscrambled_first_point_is_zero),
        cmocka_unit_test(test_scrambled_in_unit_interval),
        cmocka_unit_test(test_scrambled_reproducible),
        cmocka_unit_test(test_scrambled_golden),
        cmocka_unit_test(test_net_property),
        cmocka_unit_test(test_two_dim_nets_preserved),
        cmocka_unit_test(test_skip_equals_drawing),
        cmocka_unit_test(test_exhaustion),
        cmocka_unit_test(test_invalid_dims_and_lifecycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
