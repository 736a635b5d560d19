/* Unit tests for core/encode: parameters ↔ model features. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>

#include "encode.h"
#include "space.h"

/* learning_rate (log float), layers (int), batch (ordered int choice), opt (unordered
 * str choice of 3), precision (fixed), dropout (stepped: ordered float choice), flag (bool). */
static hone_space_t *s_space(void)
{
    hone_space_t *space = hone_space_new();
    hone_error_t err;
    assert_int_equal(hone_space_add_range(space, "learning_rate", HONE_TYPE_FLOAT, 1e-5, 1e-1, "log", NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "layers", HONE_TYPE_INT, 1, 8, NULL, NAN, &err), HONE_OK);
    hone_value_t batch[] = { hone_value_int(16), hone_value_int(32), hone_value_int(64) };
    assert_int_equal(hone_space_add_choice(space, "batch", HONE_TYPE_INT, batch, 3, -1, -1, &err), HONE_OK);
    hone_value_t opt[] = { hone_value_str("adam"), hone_value_str("sgd"), hone_value_str("rmsprop") };
    assert_int_equal(hone_space_add_choice(space, "opt", HONE_TYPE_STR, opt, 3, 0, -1, &err), HONE_OK);
    hone_value_t fixed[] = { hone_value_str("bf16") };
    assert_int_equal(hone_space_add_choice(space, "precision", HONE_TYPE_STR, fixed, 1, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "dropout", HONE_TYPE_FLOAT, 0.0, 0.5, NULL, 0.1, &err), HONE_OK);
    hone_value_t flag[] = { hone_value_bool(false), hone_value_bool(true) };
    assert_int_equal(hone_space_add_choice(space, "flag", HONE_TYPE_BOOL, flag, 2, -1, -1, &err), HONE_OK);
    return space;
}

static void test_layout_of_features(void **state)
{
    (void) state;
    hone_space_t *space = s_space();
    hone_encoding_t *enc = hone_encoding_new(space);
    /* lr 1 + layers 1 + batch 1 + opt 3 + precision 0 + dropout 1 + flag 1 */
    assert_int_equal(hone_encoding_dim(enc), 8);
    const hone_acqf_space_t *a = hone_encoding_acqf_space(enc);
    assert_int_equal(a->d, 8);
    int kinds[] = { 0, 1, 1, 2, 2, 2, 1, 1 };
    int levels[] = { 0, 8, 3, 0, 0, 0, 6, 2 };
    for (int f = 0; f < 8; f++) {
        assert_int_equal(a->kind[f], kinds[f]);
        assert_int_equal(a->levels[f], levels[f]);
        assert_int_equal(a->group[f], kinds[f] == 2 ? 0 : -1);
    }
    hone_encoding_destroy(&enc);
    hone_encoding_destroy(&enc);
    hone_space_destroy(&space);
}

static void test_encode_decode_round_trip(void **state)
{
    (void) state;
    hone_space_t *space = s_space();
    hone_encoding_t *enc = hone_encoding_new(space);
    size_t n = hone_space_size(space);
    hone_value_t params[7], back[7];
    double x[8], unit[7];
    /* Many points of the space map to features in [0,1] and back to themselves. */
    for (int k = 0; k < 200; k++) {
        for (size_t i = 0; i < n; i++)
            unit[i] = fmod(0.137 * (k + 1) * (double) (i + 3), 1.0);
        hone_space_from_unit(space, unit, params);
        hone_encoding_encode(enc, params, x);
        for (int f = 0; f < 8; f++)
            assert_true(x[f] >= 0.0 && x[f] <= 1.0);
        hone_encoding_decode(enc, x, back);
        assert_true(hone_space_points_equal(space, params, back));
    }
    /* Known features: lr at the log midpoint, layers 8, adam one-hot. */
    params[0] = hone_value_float(sqrt(1e-5 * 1e-1));
    params[1] = hone_value_int(8);
    params[2] = hone_value_int(32);
    params[3] = hone_space_param(space, 3)->values[0];
    params[4] = hone_space_param(space, 4)->values[0];
    params[5] = hone_space_param(space, 5)->values[2];
    params[6] = hone_value_bool(true);
    hone_encoding_encode(enc, params, x);
    assert_true(fabs(x[0] - 0.5) < 1e-12);
    assert_true(x[1] == 1.0);
    assert_true(x[2] == 0.5);
    assert_true(x[3] == 1.0 && x[4] == 0.0 && x[5] == 0.0);
    assert_true(fabs(x[6] - 0.4) < 1e-12);
    assert_true(x[7] == 1.0);
    hone_encoding_destroy(&enc);
    hone_space_destroy(&space);
}

static void test_decode_projects_onto_the_grid(void **state)
{
    (void) state;
    hone_space_t *space = s_space();
    hone_encoding_t *enc = hone_encoding_new(space);
    hone_value_t out[7];
    /* Off-grid features: ordinals round to the nearest level, one-hot by argmax. */
    double x[8] = { 0.0, 0.49, 0.74, 0.2, 0.7, 0.3, 0.31, 0.6 };
    hone_encoding_decode(enc, x, out);
    assert_true(fabs(out[0].u.f - 1e-5) < 1e-15);
    assert_int_equal(out[1].u.i, 4);             /* 1 + 0.49·7 = 4.43 → 4 */
    assert_int_equal(out[2].u.i, 32);            /* 0.74·2 = 1.48 → index 1 */
    assert_string_equal(out[3].u.s, "sgd");      /* the largest of the group */
    assert_string_equal(out[4].u.s, "bf16");     /* fixed */
    assert_true(fabs(out[5].u.f - 0.2) < 1e-12); /* 0.31·5 = 1.55 → index 2 → 0.2 */
    assert_true(out[6].u.b);
    assert_int_equal(hone_space_check(space, out, NULL), HONE_OK);
    hone_encoding_destroy(&enc);
    hone_space_destroy(&space);
}

/* Parameter constraints in feature coordinates: for every point, A·u − b equals
 * Σ w·x − bound (the map is affine and unscaled); a constraint on an ordered choice
 * with unevenly spaced values is left out. */
static void test_constraints_in_features(void **state)
{
    (void) state;
    hone_space_t *space = hone_space_new();
    hone_error_t err;
    assert_int_equal(hone_space_add_range(space, "x", HONE_TYPE_FLOAT, -5, 10, NULL, NAN, &err), HONE_OK);
    hone_value_t opt[] = { hone_value_str("a"), hone_value_str("b"), hone_value_str("c") };
    assert_int_equal(hone_space_add_choice(space, "opt", HONE_TYPE_STR, opt, 3, 0, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "n", HONE_TYPE_INT, 0, 10, NULL, NAN, &err), HONE_OK);
    hone_value_t k[] = { hone_value_int(1), hone_value_int(2), hone_value_int(3) };
    assert_int_equal(hone_space_add_choice(space, "k", HONE_TYPE_INT, k, 3, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "r", HONE_TYPE_FLOAT, 0.0, 0.5, NULL, 0.1, &err), HONE_OK);
    hone_value_t p[] = { hone_value_int(1), hone_value_int(2), hone_value_int(5) };
    assert_int_equal(hone_space_add_choice(space, "p", HONE_TYPE_INT, p, 3, -1, -1, &err), HONE_OK);
    assert_false(hone_space_param(space, 5)->log_scale);
    hone_constraint_set_t *set = hone_constraint_set_new(6);
    const char *texts[] = { "x + 2*n - k <= 3", "n + p <= 4", "10*r - x >= -2.5" };
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(hone_constraint_set_add(set, space, texts[i], &err), HONE_OK);
    hone_encoding_t *enc = hone_encoding_new(space);
    /* features: x, opt ×3, n, k, r, p */
    assert_int_equal(hone_encoding_dim(enc), 8);
    assert_int_equal(hone_encoding_set_constraints(enc, set), 1);   /* "n + p <= 4" */
    const hone_acqf_space_t *a = hone_encoding_acqf_space(enc);
    assert_int_equal(a->n_ineq, 2);
    /* x = −5 + 15u, n = 10u, k = 1 + 2u: 15u_x + 20u_n − 2u_k <= 3 + 5 + 1 */
    double row0[8] = { 15, 0, 0, 0, 20, -2, 0, 0 };
    for (int f = 0; f < 8; f++)
        assert_true(fabs(a->ineq_a[f] - row0[f]) <= 1e-12);
    assert_true(fabs(a->ineq_b[0] - 9) <= 1e-12);
    double x[8], unit[6];
    hone_value_t params[6];
    for (int t = 0; t < 300; t++) {
        for (size_t i = 0; i < 6; i++)
            unit[i] = fmod(0.3183 * (t + 1) * (double) (i + 2), 1.0);
        hone_space_from_unit(space, unit, params);
        hone_encoding_encode(enc, params, x);
        for (size_t row = 0; row < 2; row++) {
            size_t c = row == 0 ? 0 : 2;   /* which constraint the row is */
            const double *w = hone_constraint_set_weights(set, c);
            double lhs = 0, feat = 0;
            for (size_t j = 0; j < 6; j++)
                if (w[j] != 0)
                    lhs += w[j] * hone_value_as_double(&params[j]);
            for (int f = 0; f < 8; f++)
                feat += a->ineq_a[row * 8 + f] * x[f];
            assert_true(fabs((feat - a->ineq_b[row]) - (lhs - hone_constraint_set_bound(set, c))) <= 1e-9);
        }
    }
    /* NULL removes them */
    assert_int_equal(hone_encoding_set_constraints(enc, NULL), 0);
    assert_int_equal(a->n_ineq, 0);
    hone_encoding_destroy(&enc);
    hone_constraint_set_destroy(&set);
    hone_space_destroy(&space);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_of_features),
        cmocka_unit_test(test_encode_decode_round_trip),
        cmocka_unit_test(test_decode_projects_onto_the_grid),
        cmocka_unit_test(test_constraints_in_features),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
