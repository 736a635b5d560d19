/* Unit tests for core/rng: splitmix64, xoshiro256**, stream derivation, uniform doubles
 * and unbiased bounded integers.
 *
 * The expected numbers come from an independent Python implementation (the model in
 * tools/gen_sobol_fixtures.py plus the formulas of rng.h); splitmix64 from state 0
 * also matches Vigna's published first outputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "rng.h"

static void test_splitmix64_reference(void **state)
{
    (void) state;
    uint64_t s = 0;
    assert_true(hone_rng_splitmix64(&s) == UINT64_C(0xe220a8397b1dcdaf));
    assert_true(hone_rng_splitmix64(&s) == UINT64_C(0x6e789e6aa1b965f4));
    assert_true(hone_rng_splitmix64(&s) == UINT64_C(0x06c45d188009454f));
    assert_true(s == 3 * UINT64_C(0x9e3779b97f4a7c15));

    s = 1234567;
    assert_true(hone_rng_splitmix64(&s) == UINT64_C(0x599ed017fb08fc85));
    assert_true(hone_rng_splitmix64(&s) == UINT64_C(0x2c73f08458540fa5));
    assert_true(hone_rng_splitmix64(&s) == UINT64_C(0x883ebce5a3f27c77));
}

static void test_seed_and_xoshiro_reference(void **state)
{
    (void) state;
    hone_rng_t r;
    hone_rng_seed(&r, 42);
    const uint64_t seeded[4] = {
        UINT64_C(0xbdd732262feb6e95), UINT64_C(0x28efe333b266f103),
        UINT64_C(0x47526757130f9f52), UINT64_C(0x581ce1ff0e4ae394),
    };
    for (int i = 0; i < 4; i++)
        assert_true(r.s[i] == seeded[i]);
    const uint64_t expected[6] = {
        UINT64_C(0x15780b2e0c2ec716), UINT64_C(0x6104d9866d113a7e),
        UINT64_C(0xae17533239e499a1), UINT64_C(0xecb8ad4703b360a1),
        UINT64_C(0xfde6dc7fe2ec5e64), UINT64_C(0xc50da53101795238),
    };
    for (int i = 0; i < 6; i++)
        assert_true(hone_rng_next(&r) == expected[i]);

    hone_rng_seed(&r, 0);
    assert_true(hone_rng_next(&r) == UINT64_C(0x99ec5f36cb75f2b4));
    assert_true(hone_rng_next(&r) == UINT64_C(0xbf6e1f784956452a));
    assert_true(hone_rng_next(&r) == UINT64_C(0x1a5f849d4933e6e0));
}

static void test_same_seed_same_stream(void **state)
{
    (void) state;
    hone_rng_t a, b, c;
    hone_rng_seed(&a, 777);
    hone_rng_seed(&b, 777);
    hone_rng_seed(&c, 778);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = hone_rng_next(&a);
        assert_true(x == hone_rng_next(&b));
        differ += x != hone_rng_next(&c);
    }
    assert_true(differ > 990);
}

static void test_derive_reference_and_distinct(void **state)
{
    (void) state;
    const uint64_t expected[5] = {
        UINT64_C(0x2035ded731c54cf5), UINT64_C(0x2bf0735f0b540227),
        UINT64_C(0xf210445564069bfa), UINT64_C(0x2d77e9fcf8dc627e),
        UINT64_C(0xe364b1985464b9ef),
    };
    assert_true(hone_rng_derive(12345, HONE_RNG_SOBOL_INIT) == expected[0]);
    assert_true(hone_rng_derive(12345, HONE_RNG_SOBOL_RAW) == expected[1]);
    assert_true(hone_rng_derive(12345, HONE_RNG_MC_BASE) == expected[2]);
    assert_true(hone_rng_derive(12345, HONE_RNG_BOLTZMANN) == expected[3]);
    assert_true(hone_rng_derive(12345, HONE_RNG_POLYTOPE) == expected[4]);

    /* Small seeds times all purposes (and purpose 0): every derived seed distinct, and
     * the streams they start differ from the first draw on. */
    enum { NSEED = 16, NPURPOSE = 6 };
    uint64_t derived[NSEED * NPURPOSE];
    uint64_t first[NSEED * NPURPOSE];
    for (uint64_t s = 0; s < NSEED; s++) {
        for (uint64_t p = 0; p < NPURPOSE; p++) {
            uint64_t d = hone_rng_derive(s, p);
            hone_rng_t r;
            hone_rng_seed(&r, d);
            derived[s * NPURPOSE + p] = d;
            first[s * NPURPOSE + p] = hone_rng_next(&r);
        }
    }
    for (size_t i = 0; i < NSEED * NPURPOSE; i++) {
        for (size_t j = i + 1; j < NSEED * NPURPOSE; j++) {
            assert_true(derived[i] != derived[j]);
            assert_true(first[i] != first[j]);
        }
    }
    /* A derived stream is not the plain stream of the same seed. */
    hone_rng_t plain, sub;
    hone_rng_seed(&plain, 12345);
    hone_rng_seed(&sub, hone_rng_derive(12345, HONE_RNG_SOBOL_INIT));
    assert_true(hone_rng_next(&plain) != hone_rng_next(&sub));
}

static void test_uniform_reference_and_range(void **state)
{
    (void) state;
    hone_rng_t r;
    hone_rng_seed(&r, 7);
    assert_true(hone_rng_uniform(&r) == 0x1.66b1f5ee9df2ep-1);
    assert_true(hone_rng_uniform(&r) == 0x1.1d70f6593d20ap-2);
    assert_true(hone_rng_uniform(&r) == 0x1.ade3a6932a58fp-1);
    assert_true(hone_rng_uniform(&r) == 0x1.f65270e63d00ep-1);

    hone_rng_seed(&r, 2024);
    enum { N = 1000000 };
    double sum = 0.0, lo = 1.0, hi = 0.0;
    for (int i = 0; i < N; i++) {
        double u = hone_rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        /* 53 bits: u * 2^53 is an integer */
        double scaled = u * 0x1.0p53;
        assert_true(scaled == (double) (uint64_t) scaled);
        sum += u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    /* mean of 10^6 uniforms: standard error 2.9e-4; 6 sigma */
    assert_true(sum / N > 0.5 - 1.8e-3 && sum / N < 0.5 + 1.8e-3);
    assert_true(lo < 1e-4 && hi > 1.0 - 1e-4);
}

static void test_below_reference_and_bounds(void **state)
{
    (void) state;
    hone_rng_t r;
    hone_rng_seed(&r, 99);
    assert_true(hone_rng_below(&r, 1) == 0);
    assert_true(hone_rng_below(&r, 2) == 0);
    assert_true(hone_rng_below(&r, 3) == 0);
    assert_true(hone_rng_below(&r, 10) == 6);
    assert_true(hone_rng_below(&r, 1000) == 540);
    assert_true(hone_rng_below(&r, (UINT64_C(1) << 63) + 12345) == UINT64_C(6383841353677951302));
    assert_true(hone_rng_below(&r, UINT64_MAX) == UINT64_C(10775598612689148909));

    const uint64_t ns[] = { 1, 2, 3, 5, 7, 10, 64, 1000, 1000003, UINT64_C(1) << 40,
                            (UINT64_C(1) << 63) + 1, UINT64_MAX };
    hone_rng_seed(&r, 5);
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        for (int k = 0; k < 2000; k++)
            assert_true(hone_rng_below(&r, ns[i]) < ns[i]);
}

/* Pearson chi-square of below(n) counts against the uniform law. */
static double s_chi_square(uint64_t seed, uint64_t n, int draws)
{
    int counts[64] = { 0 };
    assert_true(n <= 64);
    hone_rng_t r;
    hone_rng_seed(&r, seed);
    for (int i = 0; i < draws; i++)
        counts[hone_rng_below(&r, n)]++;
    double expected = (double) draws / (double) n;
    double chi2 = 0.0;
    for (uint64_t k = 0; k < n; k++) {
        double d = counts[k] - expected;
        chi2 += d * d / expected;
    }
    return chi2;
}

static void test_below_roughly_uniform(void **state)
{
    (void) state;
    /* Bounds are the 0.9999 quantiles of chi-square with n - 1 degrees of freedom;
     * the seeds are fixed, so the test is deterministic. */
    assert_true(s_chi_square(11, 10, 200000) < 33.72);   /* 9 dof */
    assert_true(s_chi_square(12, 7, 200000) < 27.86);    /* 6 dof */
    assert_true(s_chi_square(13, 64, 640000) < 113.5);   /* 63 dof */

    /* Unbiased for large n: with n = 3 * 2^62 a plain r % n would return values below
     * 2^62 half of the time instead of a third. */
    hone_rng_t r;
    hone_rng_seed(&r, 14);
    const uint64_t n = 3 * (UINT64_C(1) << 62);
    enum { N = 300000 };
    int low = 0;
    for (int i = 0; i < N; i++)
        low += hone_rng_below(&r, n) < (UINT64_C(1) << 62);
    double frac = (double) low / N;
    /* standard error 8.6e-4; 6 sigma */
    assert_true(frac > 1.0 / 3.0 - 5.2e-3 && frac < 1.0 / 3.0 + 5.2e-3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splitmix64_reference),
        cmocka_unit_test(test_seed_and_xoshiro_reference),
        cmocka_unit_test(test_same_seed_same_stream),
        cmocka_unit_test(test_derive_reference_and_distinct),
        cmocka_unit_test(test_uniform_reference_and_range),
        cmocka_unit_test(test_below_reference_and_bounds),
        cmocka_unit_test(test_below_roughly_uniform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
