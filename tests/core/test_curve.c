/* Unit tests for core/curve: storage order, Ax's duplicate and NaN rules, interpolation
 * inside a curve only, min-max normalization and the rows of the aligned table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

/* cmocka 1.1 has no double comparison: |a - b| <= eps */
#define assert_near(a, b, eps) assert_true(fabs((double) (a) - (double) (b)) <= (eps))

#include "alloc.h"
#include "curve.h"

static void test_storage_and_order(void **state)
{
    (void) state;
    hone_curves_t *c = hone_curves_new();
    hone_error_t err;
    assert_int_equal(hone_curves_size(c), 0);
    assert_null(hone_curves_find(c, 0));
    /* trials kept in index order whatever the order they are added in */
    hone_curves_set_trial(c, 7, HONE_TRIAL_RUNNING);
    hone_curves_set_trial(c, 2, HONE_TRIAL_COMPLETED);
    hone_curves_set_trial(c, 5, HONE_TRIAL_RUNNING);
    assert_int_equal(hone_curves_size(c), 3);
    assert_int_equal(hone_curves_at(c, 0)->trial, 2);
    assert_int_equal(hone_curves_at(c, 1)->trial, 5);
    assert_int_equal(hone_curves_at(c, 2)->trial, 7);
    assert_int_equal(hone_curves_position(c, 7), 2);
    assert_int_equal(hone_curves_position(c, 3), -1);
    /* status update keeps the points */
    assert_int_equal(hone_curves_add_point(c, 7, 1, 0.5, &err), HONE_OK);
    hone_curves_set_trial(c, 7, HONE_TRIAL_EARLY_STOPPED);
    assert_int_equal(hone_curves_size(c), 3);
    assert_int_equal(hone_curves_find(c, 7)->status, HONE_TRIAL_EARLY_STOPPED);
    assert_int_equal(hone_curves_find(c, 7)->n_points, 1);

    /* points sorted by progression, out-of-order inserts included, growth past 8 */
    const int64_t steps[] = { 10, 20, 5, 30, 15, 0, 40, 50, 45, 60, 1 };
    for (size_t i = 0; i < HONE_ARRAY_LEN(steps); i++)
        assert_int_equal(hone_curves_add_point(c, 5, steps[i], (double) steps[i] / 10.0, &err), HONE_OK);
    const hone_curve_t *t5 = hone_curves_find(c, 5);
    assert_int_equal(t5->n_points, HONE_ARRAY_LEN(steps));
    for (size_t i = 1; i < t5->n_points; i++)
        assert_true(t5->points[i - 1].progression < t5->points[i].progression);
    for (size_t i = 0; i < t5->n_points; i++)
        assert_true(t5->points[i].value == (double) t5->points[i].progression / 10.0);
    assert_int_equal(hone_curve_last(t5)->progression, 60);
    assert_null(hone_curve_last(hone_curves_find(c, 2)));

    /* duplicates: the first value is kept (Ax), in order or not */
    assert_int_equal(hone_curves_add_point(c, 5, 20, 99.0, &err), HONE_OK);
    assert_int_equal(hone_curves_add_point(c, 5, 60, 99.0, &err), HONE_OK);
    assert_int_equal(t5->n_points, HONE_ARRAY_LEN(steps));
    double v;
    assert_true(hone_curve_value_at(t5, 20, &v));
    assert_true(v == 2.0);
    assert_true(hone_curve_value_at(t5, 60, &v));
    assert_true(v == 6.0);

    /* refused: NaN, infinities, unknown trials; nothing changes */
    assert_int_equal(hone_curves_add_point(c, 5, 70, NAN, &err), HONE_EINVAL);
    assert_string_equal(err.message, "curves: trial 5, progression 70: the value must be finite (got nan)");
    assert_int_equal(hone_curves_add_point(c, 5, 70, INFINITY, &err), HONE_EINVAL);
    assert_int_equal(hone_curves_add_point(c, 5, 70, -INFINITY, &err), HONE_EINVAL);
    assert_int_equal(hone_curves_add_point(c, 9, 70, 1.0, &err), HONE_ENOTFOUND);
    assert_string_equal(err.message, "curves: trial 9 is not known");
    assert_int_equal(t5->n_points, HONE_ARRAY_LEN(steps));

    /* interval state */
    assert_false(t5->has_last_check);
    assert_int_equal(hone_curves_set_last_check(c, 5, 20, &err), HONE_OK);
    assert_true(t5->has_last_check);
    assert_int_equal(t5->last_check, 20);
    assert_int_equal(hone_curves_set_last_check(c, 4, 20, &err), HONE_ENOTFOUND);

    assert_int_equal(hone_curves_with_data(c), 2);
    int64_t lo, hi;
    assert_true(hone_curves_range(c, &lo, &hi));
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 60);

    hone_curves_destroy(&c);
    assert_null(c);
    hone_curves_destroy(&c);   /* twice is safe */
    hone_curves_destroy(NULL);
}

static void test_interpolation_inside_only(void **state)
{
    (void) state;
    hone_curves_t *c = hone_curves_new();
    hone_error_t err;
    hone_curves_set_trial(c, 0, HONE_TRIAL_RUNNING);
    const hone_curve_t *t = hone_curves_find(c, 0);
    double v = -1.0;
    /* empty: nothing anywhere */
    assert_false(hone_curve_value_at(t, 0, &v));
    /* one point: only there */
    assert_int_equal(hone_curves_add_point(c, 0, 4, 0.4, &err), HONE_OK);
    t = hone_curves_find(c, 0);
    assert_true(hone_curve_value_at(t, 4, &v));
    assert_true(v == 0.4);
    assert_false(hone_curve_value_at(t, 3, &v));
    assert_false(hone_curve_value_at(t, 5, &v));
    /* (4, 0.4), (8, 0.8), (10, 0.2) */
    assert_int_equal(hone_curves_add_point(c, 0, 8, 0.8, &err), HONE_OK);
    assert_int_equal(hone_curves_add_point(c, 0, 10, 0.2, &err), HONE_OK);
    t = hone_curves_find(c, 0);
    assert_true(hone_curve_value_at(t, 5, &v));
    assert_near(v, 0.5, 1e-15);
    assert_true(hone_curve_value_at(t, 7, &v));
    assert_near(v, 0.7, 1e-15);
    assert_true(hone_curve_value_at(t, 9, &v));
    assert_near(v, 0.5, 1e-15);
    assert_true(hone_curve_value_at(t, 8, &v));
    assert_true(v == 0.8);
    /* no extrapolation on either side: v keeps its last value */
    v = 123.0;
    assert_false(hone_curve_value_at(t, 3, &v));
    assert_false(hone_curve_value_at(t, 11, &v));
    assert_false(hone_curve_value_at(t, INT64_MIN, &v));
    assert_false(hone_curve_value_at(t, INT64_MAX, &v));
    assert_true(v == 123.0);
    /* large steps interpolate in double */
    hone_curves_set_trial(c, 1, HONE_TRIAL_RUNNING);
    assert_int_equal(hone_curves_add_point(c, 1, 0, 0.0, &err), HONE_OK);
    assert_int_equal(hone_curves_add_point(c, 1, 1000000000000LL, 1.0, &err), HONE_OK);
    assert_true(hone_curve_value_at(hone_curves_find(c, 1), 250000000000LL, &v));
    assert_near(v, 0.25, 1e-15);
    hone_curves_destroy(&c);
}

static void test_scale_and_rows(void **state)
{
    (void) state;
    hone_curves_t *c = hone_curves_new();
    hone_error_t err;
    /* no points: identity even when normalizing */
    hone_progression_scale_t s = hone_curves_scale(c, true);
    assert_false(s.normalized);
    assert_true(hone_progression_scale_apply(&s, 7) == 7.0);

    hone_curves_set_trial(c, 0, HONE_TRIAL_COMPLETED);
    hone_curves_set_trial(c, 1, HONE_TRIAL_RUNNING);
    hone_curves_set_trial(c, 2, HONE_TRIAL_RUNNING);
    /* one progression everywhere: normalized to 1.0 (Ax) */
    assert_int_equal(hone_curves_add_point(c, 0, 50, 1.0, &err), HONE_OK);
    s = hone_curves_scale(c, true);
    assert_true(s.normalized);
    assert_true(hone_progression_scale_apply(&s, 50) == 1.0);

    /* trial 0: 0, 50, 100, 200; trial 1: 50, 150; trial 2: none */
    assert_int_equal(hone_curves_add_point(c, 0, 0, 1.0, &err), HONE_OK);
    assert_int_equal(hone_curves_add_point(c, 0, 100, 1.0, &err), HONE_OK);
    assert_int_equal(hone_curves_add_point(c, 0, 200, 1.0, &err), HONE_OK);
    assert_int_equal(hone_curves_add_point(c, 1, 150, 1.0, &err), HONE_OK);
    assert_int_equal(hone_curves_add_point(c, 1, 50, 1.0, &err), HONE_OK);
    s = hone_curves_scale(c, false);
    assert_false(s.normalized);
    assert_true(hone_progression_scale_apply(&s, 150) == 150.0);
    s = hone_curves_scale(c, true);
    assert_true(hone_progression_scale_apply(&s, 0) == 0.0);
    assert_true(hone_progression_scale_apply(&s, 50) == 0.25);
    assert_true(hone_progression_scale_apply(&s, 200) == 1.0);

    int64_t *buf = NULL;
    size_t cap = 0;
    hone_progression_scale_t id = hone_curves_scale(c, false);
    size_t n = hone_curves_rows(c, &id, -INFINITY, INFINITY, &buf, &cap);
    assert_int_equal(n, 5);   /* the union 0, 50, 100, 150, 200: 50 once */
    const int64_t all[] = { 0, 50, 100, 150, 200 };
    for (size_t i = 0; i < n; i++)
        assert_int_equal(buf[i], all[i]);
    n = hone_curves_rows(c, &id, 50, 150, &buf, &cap);   /* closed range */
    assert_int_equal(n, 3);
    assert_int_equal(buf[0], 50);
    assert_int_equal(buf[2], 150);
    n = hone_curves_rows(c, &id, 51, 99, &buf, &cap);
    assert_int_equal(n, 0);
    n = hone_curves_rows(c, &s, 0.5, 0.75, &buf, &cap);  /* normalized bounds */
    assert_int_equal(n, 2);
    assert_int_equal(buf[0], 100);
    assert_int_equal(buf[1], 150);
    hone_free(buf);
    hone_curves_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_storage_and_order),
        cmocka_unit_test(test_interpolation_inside_only),
        cmocka_unit_test(test_scale_and_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
