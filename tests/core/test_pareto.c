/* Unit tests for core/pareto.c and core/pareto_cells.c: the Pareto filter against an
 * O(n²) brute force; the hypervolume against hand-computed cases, an exact grid
 * count, inclusion-exclusion and Monte Carlo; contributions against HV(all) − HV(all
 * but i); the box decomposition (disjoint cells whose union is the non-dominated
 * region, HVI from the cells = HV(P ∪ {y}) − HV(P), its gradient against central
 * differences); and the inferred reference point on the cases of
 * reference/bo-numerics.md §2.5 and BoTorch's threshold rules.
 *
 * The random sets mix points on a concave front (all non-dominated), uniform points
 * (mostly dominated) and points rounded to a coarse grid, so that ties in every
 * coordinate, duplicates and points equal to the reference in some coordinate occur. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "pareto.h"
#include "rng.h"

#define S_MAXM 6

/* ---- Independent brute forces ------------------------------------------------- */

static bool s_has_nan(const double *p, size_t m)
{
    for (size_t j = 0; j < m; j++) {
        if (isnan(p[j]))
            return true;
    }
    return false;
}

static bool s_weakly(const double *a, const double *b, size_t m)
{
    for (size_t j = 0; j < m; j++) {
        if (!(a[j] >= b[j]))
            return false;
    }
    return true;
}

static bool s_equal(const double *a, const double *b, size_t m)
{
    return memcmp(a, b, m * sizeof *a) == 0;
}

static bool s_candidate(const double *p, size_t m, const double *ref)
{
    if (s_has_nan(p, m))
        return false;
    for (size_t j = 0; ref && j < m; j++) {
        if (!(p[j] > ref[j]))
            return false;
    }
    return true;
}

/* The O(n²) definition over the candidates (no NaN, better than ref): no candidate
 * dominates i; with dedup, no earlier candidate equals i. */
static size_t s_brute_front(const double *y, size_t n, size_t m, const double *ref,
                            bool keep_dup, size_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const double *p = y + i * m;
        bool ok = s_candidate(p, m, ref);
        for (size_t q = 0; ok && q < n; q++) {
            const double *o = y + q * m;
            if (q == i || !s_candidate(o, m, ref))
                continue;
            if (s_weakly(o, p, m) && !s_equal(o, p, m))
                ok = false;
            if (!keep_dup && q < i && s_equal(o, p, m))
                ok = false;
        }
        if (ok)
            out[k++] = i;
    }
    return k;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, z = *(const double *) b;
    return (x > z) - (x < z);
}

/* Exact hypervolume by counting the cells of the grid of all coordinates: a grid cell
 * is dominated when its upper corner is weakly dominated by a point. If region_hi is
 * not NULL, returns instead the volume of the NON-dominated part of [ref, region_hi]. */
static double s_grid_volume(const double *y, size_t n, size_t m, const double *ref,
                            const double *region_hi)
{
    double *axis[S_MAXM];
    size_t len[S_MAXM];
    for (size_t j = 0; j < m; j++) {
        axis[j] = malloc((n + 2) * sizeof(double));
        size_t c = 0;
        axis[j][c++] = ref[j];
        for (size_t i = 0; i < n; i++) {
            if (!s_has_nan(y + i * m, m) && y[i * m + j] > ref[j])
                axis[j][c++] = y[i * m + j];
        }
        if (region_hi)
            axis[j][c++] = region_hi[j];
        qsort(axis[j], c, sizeof(double), s_cmp_double);
        size_t u = 1;
        for (size_t a = 1; a < c; a++) {
            if (axis[j][a] != axis[j][u - 1] && (!region_hi || axis[j][a] <= region_hi[j]))
                axis[j][u++] = axis[j][a];
        }
        len[j] = u;
    }
    size_t at[S_MAXM] = {0};
    double vol = 0.0;
    for (;;) {
        bool empty = false;
        for (size_t j = 0; j < m; j++)
            empty = empty || at[j] + 1 >= len[j];
        if (empty)
            break;
        double corner[S_MAXM], cell = 1.0;
        for (size_t j = 0; j < m; j++) {
            corner[j] = axis[j][at[j] + 1];
            cell *= axis[j][at[j] + 1] - axis[j][at[j]];
        }
        bool dom = false;
        for (size_t i = 0; i < n && !dom; i++) {
            const double *p = y + i * m;
            bool counts = !s_has_nan(p, m);
            for (size_t j = 0; counts && j < m; j++)
                counts = p[j] > ref[j];
            dom = counts && s_weakly(p, corner, m);
        }
        if (dom != (region_hi != NULL))
            vol += cell;
        size_t j = 0;
        while (j < m && ++at[j] + 1 >= len[j])
            at[j++] = 0;
        if (j == m)
            break;
    }
    for (size_t j = 0; j < m; j++)
        free(axis[j]);
    return vol;
}

/* Exact hypervolume by inclusion-exclusion over the 2^n subsets (n <= 14). */
static double s_incl_excl(const double *y, size_t n, size_t m, const double *ref)
{
    double vol = 0.0;
    for (uint32_t s = 1; s < (1u << n); s++) {
        double lo[S_MAXM], box = 1.0;
        int bits = 0;
        for (size_t j = 0; j < m; j++)
            lo[j] = INFINITY;
        for (size_t i = 0; i < n; i++) {
            if (s & (1u << i)) {
                bits++;
                for (size_t j = 0; j < m; j++)
                    lo[j] = fmin(lo[j], y[i * m + j]);
            }
        }
        for (size_t j = 0; j < m; j++)
            box *= fmax(0.0, lo[j] - ref[j]);
        vol += (bits % 2 ? 1.0 : -1.0) * box;
    }
    return vol;
}

/* ---- Random sets -------------------------------------------------------------- */

static double s_normal(hone_rng_t *rng)
{
    double u1 = 1.0 - hone_rng_uniform(rng), u2 = hone_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* n points in m objectives, reference 0: a mixture of points on the unit sphere's
 * positive part (non-dominated), uniform points in [0, 1]^m, and with `coarse` every
 * coordinate rounded to multiples of 1/4 (ties, duplicates, zeros = on the reference). */
static void s_random_set(hone_rng_t *rng, double *y, size_t n, size_t m, bool coarse)
{
    for (size_t i = 0; i < n; i++) {
        double *p = y + i * m;
        if (hone_rng_uniform(rng) < 0.6) {
            double norm = 0.0;
            for (size_t j = 0; j < m; j++) {
                p[j] = fabs(s_normal(rng)) + 1e-3;
                norm += p[j] * p[j];
            }
            for (size_t j = 0; j < m; j++)
                p[j] /= sqrt(norm);
        }
        else {
            for (size_t j = 0; j < m; j++)
                p[j] = hone_rng_uniform(rng);
        }
        if (coarse) {
            for (size_t j = 0; j < m; j++)
                p[j] = round(4.0 * p[j]) / 4.0;
        }
    }
}

static const double s_zero[S_MAXM] = {0};

/* ---- Filter ------------------------------------------------------------------- */

static void test_front_hand(void **state)
{
    (void) state;
    double a[3] = {1, 2, 3}, b[3] = {1, 2, 2}, nan3[3] = {NAN, 5, 5};
    assert_true(hone_pareto_dominates(a, b, 3));
    assert_false(hone_pareto_dominates(b, a, 3));
    assert_false(hone_pareto_dominates(a, a, 3));
    assert_false(hone_pareto_dominates(nan3, b, 3));
    assert_false(hone_pareto_dominates(b, nan3, 3));

    /* 2-D: (3,1) (2,2) (1,3) front; (1,1) dominated; (2,2) twice; (0,3) dominated by
     * (1,3); NaN row ignored. */
    double y2[] = {1, 1, 3, 1, 2, 2, 1, 3, 2, 2, 0, 3, NAN, 9};
    size_t idx[8];
    size_t k = hone_pareto_front(y2, 7, 2, NULL, false, idx);
    assert_int_equal(k, 3);
    assert_int_equal(idx[0], 1);
    assert_int_equal(idx[1], 2);
    assert_int_equal(idx[2], 3);
    k = hone_pareto_front(y2, 7, 2, NULL, true, idx);
    assert_int_equal(k, 4);
    assert_int_equal(idx[3], 4);
    /* with a reference point: (3,1) is not strictly better than (0.5, 1) */
    double ref2[2] = {0.5, 1.0};
    k = hone_pareto_front(y2, 7, 2, ref2, false, idx);
    assert_int_equal(k, 2);
    assert_int_equal(idx[0], 2);
    assert_int_equal(idx[1], 3);

    /* 3-D, with a tie in one coordinate and an exact copy that comes first */
    double y3[] = {1, 1, 1, 2, 0, 0, 1, 1, 1, 0, 2, 0, 1, 1, 0.5, 2, 0, 0};
    k = hone_pareto_front(y3, 6, 3, NULL, false, idx);
    assert_int_equal(k, 3);
    assert_int_equal(idx[0], 0);
    assert_int_equal(idx[1], 1);
    assert_int_equal(idx[2], 3);
    k = hone_pareto_front(y3, 6, 3, NULL, true, idx);
    assert_int_equal(k, 5);

    /* 1-D: the maximum, its copies with keep_duplicates */
    double y1[] = {1, 4, 2, 4};
    k = hone_pareto_front(y1, 4, 1, NULL, false, idx);
    assert_int_equal(k, 1);
    assert_int_equal(idx[0], 1);
    assert_int_equal(hone_pareto_front(y1, 4, 1, NULL, true, idx), 2);
    assert_int_equal(hone_pareto_front(y1, 0, 1, NULL, false, idx), 0);
}

static void test_front_random(void **state)
{
    (void) state;
    hone_rng_t rng;
    hone_rng_seed(&rng, 11);
    size_t sizes[] = {1, 2, 5, 30, 150};
    for (size_t m = 1; m <= 5; m++) {
        for (size_t s = 0; s < HONE_ARRAY_LEN(sizes); s++) {
            for (int rep = 0; rep < 6; rep++) {
                size_t n = sizes[s];
                double *y = malloc(n * m * sizeof *y);
                size_t *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
                s_random_set(&rng, y, n, m, rep % 2 == 1);
                if (rep == 5 && n > 3)
                    y[2 * m] = NAN;
                for (int flags = 0; flags < 4; flags++) {
                    bool keep = flags & 1;
                    const double *ref = (flags & 2) ? s_zero : NULL;
                    size_t k = hone_pareto_front(y, n, m, ref, keep, got);
                    size_t kw = s_brute_front(y, n, m, ref, keep, want);
                    assert_int_equal(k, kw);
                    for (size_t i = 0; i < k; i++)
                        assert_int_equal(got[i], want[i]);
                }
                free(y);
                free(got);
                free(want);
            }
        }
    }
}

/* ---- Hypervolume -------------------------------------------------------------- */

static void test_hv_hand(void **state)
{
    (void) state;
    double r2[2] = {0, 0};
    double y2[] = {1, 3, 2, 2, 3, 1, 1, 1, -1, 5};
    assert_true(fabs(hone_pareto_hypervolume(y2, 5, 2, r2) - 6.0) < 1e-15);
    assert_true(hone_pareto_hypervolume(y2, 0, 2, r2) == 0.0);
    assert_true(hone_pareto_hypervolume(y2 + 8, 1, 2, r2) == 0.0);   /* worse than ref */
    double r2b[2] = {1.5, 0.5};       /* (1,3) no longer counts: 1.5·0.5 + 0.5·1 */
    assert_true(fabs(hone_pareto_hypervolume(y2, 5, 2, r2b) - 1.25) < 1e-15);

    double r3[3] = {0, 0, 0};
    double one3[] = {1, 2, 3};
    assert_true(fabs(hone_pareto_hypervolume(one3, 1, 3, r3) - 6.0) < 1e-15);
    /* 2 + 4 − overlap 1 */
    double two3[] = {2, 1, 1, 1, 2, 2};
    assert_true(fabs(hone_pareto_hypervolume(two3, 2, 3, r3) - 5.0) < 1e-15);
    /* three boxes of volume 4, pairwise overlaps 2, common part 1: 3·4 − 3·2 + 1 */
    double three3[] = {2, 2, 1, 2, 1, 2, 1, 2, 2};
    assert_true(fabs(hone_pareto_hypervolume(three3, 3, 3, r3) - 7.0) < 1e-15);

    double r4[4] = {0, 0, 0, 0};
    double four[] = {2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 2};
    /* 4·2 − 6·1 + 4·1 − 1 = 5 */
    assert_true(fabs(hone_pareto_hypervolume(four, 4, 4, r4) - 5.0) < 1e-15);
    double r4b[4] = {0.5, 0, -1, 0};
    double one4[] = {1.5, 2, 1, 0.25};
    assert_true(fabs(hone_pareto_hypervolume(one4, 1, 4, r4b) - 1.0) < 1e-15);

    double r5[5] = {0, 0, 0, 0, 0};
    double five[] = {2, 1, 1, 1, 1, 1, 1, 1, 1, 3};
    assert_true(fabs(hone_pareto_hypervolume(five, 2, 5, r5) - 4.0) < 1e-15);
    double r1[1] = {-1};
    double y1[] = {0.5, 2, NAN};
    assert_true(fabs(hone_pareto_hypervolume(y1, 3, 1, r1) - 3.0) < 1e-15);
}

/* Against the grid count and inclusion-exclusion, m = 1..5. */
static void test_hv_exact_random(void **state)
{
    (void) state;
    hone_rng_t rng;
    hone_rng_seed(&rng, 5);
    for (size_t m = 1; m <= 5; m++) {
        size_t nmax = m <= 3 ? 40 : m == 4 ? 18 : 10;
        for (int rep = 0; rep < 12; rep++) {
            size_t n = 1 + hone_rng_below(&rng, nmax);
            double y[40 * 5];
            s_random_set(&rng, y, n, m, rep % 3 == 2);
            double hv = hone_pareto_hypervolume(y, n, m, s_zero);
            double grid = s_grid_volume(y, n, m, s_zero, NULL);
            assert_true(fabs(hv - grid) <= 1e-12 * fmax(1.0, grid));
            if (n <= 14) {
                double ie = s_incl_excl(y, n, m, s_zero);
                assert_true(fabs(hv - ie) <= 1e-10);
            }
        }
    }
}

/* Against Monte Carlo in [ref, max]: 10^6 uniform samples, within 5 standard errors. */
static void test_hv_monte_carlo(void **state)
{
    (void) state;
    hone_rng_t rng;
    hone_rng_seed(&rng, 99);
    for (size_t m = 2; m <= 4; m++) {
        size_t n = 20;
        double y[20 * 4], ref[4], hi[4];
        s_random_set(&rng, y, n, m, false);
        for (size_t j = 0; j < m; j++) {
            ref[j] = 0.1 - 0.05 * (double) j;   /* some points fall below it */
            hi[j] = ref[j];
            for (size_t i = 0; i < n; i++)
                hi[j] = fmax(hi[j], y[i * m + j]);
        }
        double box = 1.0;
        for (size_t j = 0; j < m; j++)
            box *= hi[j] - ref[j];
        const size_t samples = 1000000;
        size_t inside = 0;
        for (size_t s = 0; s < samples; s++) {
            double z[4];
            for (size_t j = 0; j < m; j++)
                z[j] = ref[j] + (hi[j] - ref[j]) * hone_rng_uniform(&rng);
            for (size_t i = 0; i < n; i++) {
                if (s_weakly(y + i * m, z, m)) {
                    inside++;
                    break;
                }
            }
        }
        double p = (double) inside / (double) samples;
        double mc = box * p, se = box * sqrt(p * (1.0 - p) / (double) samples);
        double hv = hone_pareto_hypervolume(y, n, m, ref);
        assert_true(se > 0.0);
        assert_true(fabs(hv - mc) <= 5.0 * se);
    }
}

static void test_contributions(void **state)
{
    (void) state;
    /* hand case: the 2-D staircase (3,1) (2,2) (1,3): 1·1 each */
    double y2[] = {3, 1, 2, 2, 1, 3, 1, 1};
    double c[64];
    hone_pareto_contributions(y2, 4, 2, s_zero, c);
    assert_true(fabs(c[0] - 1.0) < 1e-15 && fabs(c[1] - 1.0) < 1e-15);
    assert_true(fabs(c[2] - 1.0) < 1e-15 && c[3] == 0.0);

    hone_rng_t rng;
    hone_rng_seed(&rng, 3);
    for (size_t m = 1; m <= 5; m++) {
        for (int rep = 0; rep < 8; rep++) {
            size_t n = 1 + hone_rng_below(&rng, m <= 3 ? 40 : 16);
            double y[40 * 5], rest[40 * 5];
            s_random_set(&rng, y, n, m, rep % 2 == 1);
            if (n > 3)   /* an exact copy of a front candidate */
                memcpy(y + 3 * m, y, m * sizeof *y);
            hone_pareto_contributions(y, n, m, s_zero, c);
            double all = hone_pareto_hypervolume(y, n, m, s_zero);
            for (size_t i = 0; i < n; i++) {
                size_t nr = 0;
                for (size_t q = 0; q < n; q++) {
                    if (q != i)
                        memcpy(rest + nr++ * m, y + q * m, m * sizeof *y);
                }
                double want = all - hone_pareto_hypervolume(rest, nr, m, s_zero);
                assert_true(fabs(c[i] - want) <= 1e-12 * fmax(1.0, all));
                assert_true(c[i] >= 0.0);
            }
        }
    }
}

/* ---- Box decomposition -------------------------------------------------------- */

/* Every cell: r <= lo < hi, lo finite, hi finite or +inf; cells pairwise disjoint
 * (they are apart along some axis); their volumes clipped to [r, top] add up to want,
 * the non-dominated volume of [r, top], and so does HVI(top). */
static void s_check_cells(const hone_cells_t *cells, const double *ref, const double *top,
                          double want)
{
    size_t m = cells->m;
    double sum = 0.0;
    for (size_t c = 0; c < cells->ncell; c++) {
        const double *lo = cells->lo + c * m, *hi = cells->hi + c * m;
        double vol = 1.0;
        for (size_t j = 0; j < m; j++) {
            assert_true(isfinite(lo[j]) && lo[j] >= ref[j] && hi[j] > lo[j]);
            assert_true(isfinite(hi[j]) || hi[j] == INFINITY);
            vol *= fmin(hi[j], top[j]) - lo[j];
        }
        sum += vol;
        for (size_t d = c + 1; d < cells->ncell; d++) {
            const double *lo2 = cells->lo + d * m, *hi2 = cells->hi + d * m;
            bool apart = false;
            for (size_t j = 0; j < m && !apart; j++)
                apart = fmin(hi[j], hi2[j]) <= fmax(lo[j], lo2[j]);
            assert_true(apart);
        }
    }
    assert_true(fabs(sum - want) <= 1e-12 * fmax(1.0, want));
    assert_true(fabs(hone_cells_hvi(cells, top, NULL) - want) <= 1e-12 * fmax(1.0, want));
}

/* HVI(z) from the cells of the rows y[0..n) = HV(y ∪ {z}) − HV(y), hv = HV(y); y has
 * room for one more row. */
static void s_check_hvi(const hone_cells_t *cells, double *y, size_t n, const double *ref,
                        double hv, const double *z)
{
    size_t m = cells->m;
    memcpy(y + n * m, z, m * sizeof *z);
    double want = hone_pareto_hypervolume(y, n + 1, m, ref) - hv;
    assert_true(fabs(hone_cells_hvi(cells, z, NULL) - want) <= 1e-9 * fmax(1.0, hv));
}

static void test_cells_hand(void **state)
{
    (void) state;
    hone_cells_t *cells = hone_cells_new(2);
    double r[2] = {0, 0};
    hone_cells_decompose(cells, NULL, 0, r);      /* nothing: the whole orthant */
    assert_int_equal(cells->ncell, 1);
    assert_true(cells->lo[0] == 0 && cells->lo[1] == 0);
    assert_true(cells->hi[0] == INFINITY && cells->hi[1] == INFINITY);
    double y[] = {1, 3, 3, 1, 2, 2, 0, 5};          /* (0,5) is on the reference */
    hone_cells_decompose(cells, y, 4, r);
    assert_int_equal(cells->ncell, 4);
    /* by decreasing y0: [3,inf)x[0,inf), [2,3]x[1,inf), [1,2]x[2,inf), [0,1]x[3,inf) */
    double lo[] = {3, 0, 2, 1, 1, 2, 0, 3}, hi[] = {INFINITY, INFINITY, 3, INFINITY,
                                                  2, INFINITY, 1, INFINITY};
    assert_memory_equal(cells->lo, lo, sizeof lo);
    assert_memory_equal(cells->hi, hi, sizeof hi);
    double g[2], p[2] = {2.5, 2.5};
    /* improvement of (2.5, 2.5): [2,2.5]x[1,2.5] + [1,2]x[2,2.5] = 0.75 + 0.5; moving
     * it right adds the strip y in [1, 2.5], moving it up the strip x in [1, 2.5] */
    assert_true(fabs(hone_cells_hvi(cells, p, g) - 1.25) < 1e-15);
    assert_true(fabs(g[0] - 1.5) < 1e-15 && fabs(g[1] - 1.5) < 1e-15);
    double under[2] = {0.5, 2.5}, nan2[2] = {NAN, 9};
    assert_true(hone_cells_hvi(cells, under, NULL) == 0.0);
    assert_true(hone_cells_hvi(cells, nan2, g) == 0.0 && g[0] == 0.0 && g[1] == 0.0);
    hone_cells_destroy(&cells);
    hone_cells_destroy(&cells);
    assert_null(cells);

    /* 3-D: one point, the region above r minus the box [r, p]: 3 cells */
    hone_cells_t *c3 = hone_cells_new(3);
    double r3[3] = {0, 0, 0}, p3[3] = {1, 2, 3}, top3[3] = {2, 3, 4};
    hone_cells_decompose(c3, p3, 1, r3);
    assert_int_equal(c3->ncell, 3);
    s_check_cells(c3, r3, top3, s_grid_volume(p3, 1, 3, r3, top3));
    hone_cells_destroy(&c3);
}

/* HVI(y) from the cells = HV(P ∪ {y}) − HV(P); cells disjoint and complete; counts. */
static void test_cells_random(void **state)
{
    (void) state;
    hone_rng_t rng;
    hone_rng_seed(&rng, 21);
    for (size_t m = 1; m <= 5; m++) {
        hone_cells_t *cells = hone_cells_new(m);      /* refilled every round */
        size_t nmax = m <= 3 ? 60 : m == 4 ? 24 : 10;
        for (int rep = 0; rep < 10; rep++) {
            size_t n = rep == 0 ? 0 : 1 + hone_rng_below(&rng, nmax);
            double y[61 * 5], ref[5], top[5];
            s_random_set(&rng, y, n, m, rep % 3 == 1);
            for (size_t j = 0; j < m; j++) {
                ref[j] = rep % 2 ? 0.0 : -0.1;
                top[j] = 1.3;
            }
            hone_cells_decompose(cells, y, n, ref);
            size_t *front = malloc((n + 1) * sizeof *front);
            size_t k = hone_pareto_front(y, n, m, ref, false, front);
            free(front);
            if (m == 1)
                assert_int_equal(cells->ncell, 1);
            if (m == 2)
                assert_int_equal(cells->ncell, k + 1);
            if (m == 3)
                assert_true(cells->ncell <= 2 * k + 1);
            s_check_cells(cells, ref, top, s_grid_volume(y, n, m, ref, top));
            double hv = hone_pareto_hypervolume(y, n, m, ref), z[5];
            for (int t = 0; t < 60; t++) {
                for (size_t j = 0; j < m; j++)     /* every 5th on the grid: ties */
                    z[j] = t % 5 ? -0.2 + 1.4 * hone_rng_uniform(&rng)
                                 : (double) hone_rng_below(&rng, 6) / 4.0 - 0.25;
                s_check_hvi(cells, y, n, ref, hv, z);
            }
        }
        hone_cells_destroy(&cells);
    }
}

/* Heavy ties: every coordinate in {0, 1/4, .., 1}, so that the cross-sections of the
 * m >= 4 sweeps hold projections that share coordinates with, or are weakly dominated
 * by, the points above them. The grid stays small, so n can be large. */
static void test_cells_ties(void **state)
{
    (void) state;
    hone_rng_t rng;
    hone_rng_seed(&rng, 4);
    for (size_t m = 3; m <= 5; m++) {
        hone_cells_t *cells = hone_cells_new(m);
        for (int rep = 0; rep < 25; rep++) {
            size_t n = 10 + hone_rng_below(&rng, m == 5 ? 30 : 70);
            double y[81 * 5], ref[5], top[5];
            for (size_t i = 0; i < n * m; i++)
                y[i] = (double) hone_rng_below(&rng, 5) / 4.0;
            for (size_t j = 0; j < m; j++) {
                ref[j] = 0.0;
                top[j] = 1.25;
            }
            hone_cells_decompose(cells, y, n, ref);
            s_check_cells(cells, ref, top, s_grid_volume(y, n, m, ref, top));
            double hv = hone_pareto_hypervolume(y, n, m, ref), z[5];
            assert_true(fabs(hv - s_grid_volume(y, n, m, ref, NULL)) <= 1e-12);
            for (int t = 0; t < 20; t++) {
                for (size_t j = 0; j < m; j++)
                    z[j] = (double) hone_rng_below(&rng, 6) / 4.0;
                s_check_hvi(cells, y, n, ref, hv, z);
            }
        }
        hone_cells_destroy(&cells);
    }
}

/* Larger sets (n = 150, too many for the grid): the non-dominated volume of [r, top]
 * is vol[r, top] − HV. */
static void test_cells_large(void **state)
{
    (void) state;
    hone_rng_t rng;
    hone_rng_seed(&rng, 77);
    for (size_t m = 2; m <= 4; m++) {
        for (int rep = 0; rep < 2; rep++) {
            size_t n = 150;
            double y[151 * 4], ref[4], top[4], box = 1.0;
            s_random_set(&rng, y, n, m, rep == 1);
            for (size_t j = 0; j < m; j++) {
                ref[j] = 0.0;
                top[j] = 1.5;
                box *= top[j] - ref[j];
            }
            hone_cells_t *cells = hone_cells_new(m);
            hone_cells_decompose(cells, y, n, ref);
            double hv = hone_pareto_hypervolume(y, n, m, ref), z[4];
            s_check_cells(cells, ref, top, box - hv);
            for (int t = 0; t < 40; t++) {
                for (size_t j = 0; j < m; j++)
                    z[j] = 0.3 + 0.8 * hone_rng_uniform(&rng);
                s_check_hvi(cells, y, n, ref, hv, z);
            }
            hone_cells_destroy(&cells);
        }
    }
}

/* The gradient of HVI against central differences at random points. */
static void test_cells_gradient(void **state)
{
    (void) state;
    hone_rng_t rng;
    hone_rng_seed(&rng, 8);
    for (size_t m = 2; m <= 4; m++) {
        double y[30 * 4], r[4] = {0};
        s_random_set(&rng, y, 30, m, false);
        hone_cells_t *cells = hone_cells_new(m);
        hone_cells_decompose(cells, y, 30, r);
        int nonzero = 0;
        for (int t = 0; t < 200; t++) {
            double z[4], g[4];
            for (size_t j = 0; j < m; j++)
                z[j] = 0.2 + 0.9 * hone_rng_uniform(&rng);
            double v = hone_cells_hvi(cells, z, g);
            nonzero += v > 0.0;
            for (size_t j = 0; j < m; j++) {
                double h = 1e-7, zp[4], zm[4];
                memcpy(zp, z, sizeof zp);
                memcpy(zm, z, sizeof zm);
                zp[j] += h;
                zm[j] -= h;
                double fd = (hone_cells_hvi(cells, zp, NULL) - hone_cells_hvi(cells, zm, NULL))
                            / (2 * h);
                assert_true(fabs(fd - g[j]) <= 1e-6 * fmax(1.0, fabs(g[j])));
            }
        }
        assert_true(nonzero > 50);
        hone_cells_destroy(&cells);
    }
}

/* ---- Reference point ---------------------------------------------------------- */

static void s_assert_ref(const double *got, const double *want, size_t m)
{
    for (size_t j = 0; j < m; j++)
        assert_true(fabs(got[j] - want[j]) <= 1e-15 * fmax(1.0, fabs(want[j])));
}

static void test_infer_ref(void **state)
{
    (void) state;
    double ref[3];
    hone_error_t err;
    /* one Pareto point: p − 0.1·max(|p|, 1e-7) */
    double one[] = {1, -2, 0};
    assert_int_equal(hone_pareto_infer_ref(one, 1, 3, NULL, ref, NULL), HONE_OK);
    s_assert_ref(ref, (double[]) {0.9, -2.2, -1e-8}, 3);
    /* copies of it, dominated points and a NaN row change nothing: P = {p} */
    double copies[] = {1, -2, 0, 0, -3, 0, 1, -2, 0, NAN, 5, 5};
    assert_int_equal(hone_pareto_infer_ref(copies, 4, 3, NULL, ref, NULL), HONE_OK);
    s_assert_ref(ref, (double[]) {0.9, -2.2, -1e-8}, 3);
    /* several: nadir − 0.1·(ideal − nadir) over the Pareto set only */
    double two[] = {1, 5, 3, 2, 0, 0};
    assert_int_equal(hone_pareto_infer_ref(two, 3, 2, NULL, ref, NULL), HONE_OK);
    s_assert_ref(ref, (double[]) {0.8, 1.7}, 2);
    /* a range of 0 is clamped at 1e-7 */
    double flat[] = {1, 2, 0, 1, 0, 2};
    assert_int_equal(hone_pareto_infer_ref(flat, 2, 3, NULL, ref, NULL), HONE_OK);
    s_assert_ref(ref, (double[]) {1 - 1e-8, -0.2, -0.2}, 3);
    /* nothing to infer from */
    double nan_only[] = {NAN, 1};
    assert_int_equal(hone_pareto_infer_ref(nan_only, 1, 2, NULL, ref, &err), HONE_EINVAL);
    assert_int_equal(err.code, HONE_EINVAL);
    assert_int_equal(hone_pareto_infer_ref(NULL, 0, 2, NULL, ref, NULL), HONE_EINVAL);
    assert_int_equal(hone_pareto_infer_ref(NULL, 0, 2, (double[]) {1, NAN}, ref, NULL),
                     HONE_EINVAL);
    assert_int_equal(hone_pareto_infer_ref(NULL, 0, 2, (double[]) {1, 2}, ref, NULL), HONE_OK);
    s_assert_ref(ref, (double[]) {1, 2}, 2);

    /* thresholds (BoTorch max_ref_point), on P = {(1,5), (3,2)} */
    /* all given, a point better than all of them: the thresholds */
    assert_int_equal(hone_pareto_infer_ref(two, 3, 2, (double[]) {0.5, 1}, ref, NULL), HONE_OK);
    s_assert_ref(ref, (double[]) {0.5, 1}, 2);
    /* all given, no point better: inferred, with the nadir capped at them */
    assert_int_equal(hone_pareto_infer_ref(two, 3, 2, (double[]) {0.5, 6}, ref, NULL), HONE_OK);
    s_assert_ref(ref, (double[]) {0.25, 1.7}, 2);
    /* one given, a point better in it: inferred, then the given coordinate */
    assert_int_equal(hone_pareto_infer_ref(two, 3, 2, (double[]) {NAN, 3}, ref, NULL), HONE_OK);
    s_assert_ref(ref, (double[]) {0.8, 3}, 2);
    /* one given, no point better: inferred only */
    assert_int_equal(hone_pareto_infer_ref(two, 3, 2, (double[]) {NAN, 6}, ref, NULL), HONE_OK);
    s_assert_ref(ref, (double[]) {0.8, 1.7}, 2);
    /* none given: as without thresholds */
    assert_int_equal(hone_pareto_infer_ref(two, 3, 2, (double[]) {NAN, NAN}, ref, NULL), HONE_OK);
    s_assert_ref(ref, (double[]) {0.8, 1.7}, 2);
    /* single point with one threshold it beats */
    double p[] = {1, 5};
    assert_int_equal(hone_pareto_infer_ref(p, 1, 2, (double[]) {NAN, 4}, ref, NULL), HONE_OK);
    s_assert_ref(ref, (double[]) {0.9, 4}, 2);
    /* single point, thresholds not beaten: the single-point rule */
    assert_int_equal(hone_pareto_infer_ref(p, 1, 2, (double[]) {2, 4}, ref, NULL), HONE_OK);
    s_assert_ref(ref, (double[]) {0.9, 4.5}, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_front_hand),
        cmocka_unit_test(test_front_random),
        cmocka_unit_test(test_hv_hand),
        cmocka_unit_test(test_hv_exact_random),
        cmocka_unit_test(test_hv_monte_carlo),
        cmocka_unit_test(test_contributions),
        cmocka_unit_test(test_cells_hand),
        cmocka_unit_test(test_cells_random),
        cmocka_unit_test(test_cells_ties),
        cmocka_unit_test(test_cells_large),
        cmocka_unit_test(test_cells_gradient),
        cmocka_unit_test(test_infer_ref),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
