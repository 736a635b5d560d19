/* Unit tests for core/space: Ax's parameter validation rules, step_size expansion,
 * choice defaults, membership, the center and the unit-cube mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "space.h"

/* cmocka 1.1 has no double comparison */
#define assert_near(a, b, tol) assert_true(fabs((double) (a) - (double) (b)) <= (tol))

static void s_assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("'%s' does not contain '%s'", haystack, needle);
}

/* Expects add_range to fail with HONE_EINVAL and a message naming x and the rule. */
static void s_range_fails(hone_type_t type, double lo, double hi, const char *scaling, double step,
                          const char *rule)
{
    hone_space_t *space = hone_space_new();
    hone_error_t err;
    hone_error_clear(&err);
    assert_int_equal(hone_space_add_range(space, "x", type, lo, hi, scaling, step, &err), HONE_EINVAL);
    assert_int_equal(err.code, HONE_EINVAL);
    s_assert_contains(err.message, "parameter 'x'");
    s_assert_contains(err.message, rule);
    assert_int_equal(hone_space_size(space), 0);
    hone_space_destroy(&space);
    assert_null(space);
}

static void test_range_rules(void **state)
{
    (void) state;
    s_range_fails(HONE_TYPE_FLOAT, 1, 1, NULL, NAN, "upper bound must be strictly larger than lower (got [1, 1])");
    s_range_fails(HONE_TYPE_FLOAT, 2, 1, NULL, NAN, "strictly larger");
    s_range_fails(HONE_TYPE_FLOAT, 0, 1e-5, NULL, NAN, "very small");
    s_range_fails(HONE_TYPE_FLOAT, 0, 1, "log", NAN, "cannot take log");
    s_range_fails(HONE_TYPE_FLOAT, -1, 1, "log", NAN, "lower bound is <= 0");
    s_range_fails(HONE_TYPE_INT, 0.5, 3, NULL, NAN, "invalid range for an int parameter");
    s_range_fails(HONE_TYPE_INT, 0, 3.2, NULL, NAN, "bounds must be integers");
    s_range_fails(HONE_TYPE_STR, 0, 1, NULL, NAN, "must be of type float or int (got str)");
    s_range_fails(HONE_TYPE_BOOL, 0, 1, NULL, NAN, "must be of type float or int (got bool)");
    s_range_fails(HONE_TYPE_FLOAT, 0, 1, "logit", NAN, "scaling must be");
    s_range_fails(HONE_TYPE_FLOAT, 0, INFINITY, NULL, NAN, "finite");
    s_range_fails(HONE_TYPE_FLOAT, NAN, 1, NULL, NAN, "finite");
    s_range_fails(HONE_TYPE_INT, 0, 1e300, NULL, NAN, "2^53");
    /* with step_size */
    s_range_fails(HONE_TYPE_FLOAT, 1, 100, "log", 1, "non-linear parameter scaling is not supported");
    s_range_fails(HONE_TYPE_FLOAT, 0, 1, NULL, 0.3, "evenly divisible by the step");
    s_range_fails(HONE_TYPE_FLOAT, 0, 10000, NULL, 0.001, "limit of 1000");
    s_range_fails(HONE_TYPE_FLOAT, 0, 1, NULL, INFINITY, "step_size must be finite");

    /* a range just at the size limit is fine; names must be unique and non-empty */
    hone_space_t *space = hone_space_new();
    hone_error_t err;
    assert_int_equal(hone_space_add_range(space, "x", HONE_TYPE_FLOAT, 0, 1.5e-5, NULL, NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "x", HONE_TYPE_FLOAT, 0, 1, NULL, NAN, &err), HONE_EINVAL);
    s_assert_contains(err.message, "parameter 'x': duplicate");
    assert_int_equal(hone_space_add_range(space, "", HONE_TYPE_FLOAT, 0, 1, NULL, NAN, &err), HONE_EINVAL);
    s_assert_contains(err.message, "must not be empty");
    assert_int_equal(hone_space_add_range(space, "n", HONE_TYPE_INT, -3, 3, "linear", 0, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "lr", HONE_TYPE_FLOAT, 1e-5, 1e-1, "log", NAN, &err), HONE_OK);
    assert_int_equal(hone_space_size(space), 3);
    assert_int_equal(hone_space_find(space, "lr"), 2);
    assert_int_equal(hone_space_find(space, "nope"), -1);
    const hone_param_t *lr = hone_space_param(space, 2);
    assert_int_equal(lr->kind, HONE_PARAM_RANGE);
    assert_true(lr->log_scale);
    assert_null(hone_space_param(space, 3));
    hone_space_destroy(&space);
    hone_space_destroy(&space);   /* safe twice */
}

static void test_step_size_expansion(void **state)
{
    (void) state;
    hone_space_t *space = hone_space_new();
    hone_error_t err;
    assert_int_equal(hone_space_add_range(space, "s", HONE_TYPE_FLOAT, 0, 1, NULL, 0.25, &err), HONE_OK);
    const hone_param_t *p = hone_space_param(space, 0);
    assert_int_equal(p->kind, HONE_PARAM_CHOICE);
    assert_true(p->is_ordered);
    assert_false(p->log_scale);
    assert_int_equal(p->n_values, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(p->values[i].type, HONE_TYPE_FLOAT);
        assert_true(p->values[i].u.f == 0.25 * (double) i);
    }
    /* lo + i*step, not accumulated sums: 0.1*3 is 0.30000000000000004 exactly as numpy */
    assert_int_equal(hone_space_add_range(space, "t", HONE_TYPE_FLOAT, 0, 1, NULL, 0.1, &err), HONE_OK);
    p = hone_space_param(space, 1);
    assert_int_equal(p->n_values, 11);
    assert_true(p->values[3].u.f == 3 * 0.1);
    assert_true(p->values[10].u.f == 10 * 0.1);
    /* int steps; 1..100 spans two decades, so log scale is detected (Ax main) */
    assert_int_equal(hone_space_add_range(space, "k", HONE_TYPE_INT, 1, 100, NULL, 1, &err), HONE_OK);
    p = hone_space_param(space, 2);
    assert_int_equal(p->type, HONE_TYPE_INT);
    assert_int_equal(p->n_values, 100);
    assert_int_equal(p->values[99].u.i, 100);
    assert_true(p->log_scale);
    /* int cast truncates and duplicates collapse: 0, 0.5, 1, 1.5, 2 -> 0, 1, 2 */
    assert_int_equal(hone_space_add_range(space, "h", HONE_TYPE_INT, 0, 2, NULL, 0.5, &err), HONE_OK);
    p = hone_space_param(space, 3);
    assert_int_equal(p->n_values, 3);
    assert_int_equal(p->values[2].u.i, 2);
    /* the remainder may be close to the step itself (numpy isclose) */
    assert_int_equal(hone_space_add_range(space, "r", HONE_TYPE_FLOAT, 0, 0.3, NULL, 0.1, &err), HONE_OK);
    assert_int_equal(hone_space_param(space, 4)->n_values, 4);
    hone_space_destroy(&space);
}

static void s_choice_fails(hone_type_t type, const hone_value_t *values, size_t n, int ordered, int log,
                           const char *rule)
{
    hone_space_t *space = hone_space_new();
    hone_error_t err;
    hone_error_clear(&err);
    assert_int_equal(hone_space_add_choice(space, "c", type, values, n, ordered, log, &err), HONE_EINVAL);
    s_assert_contains(err.message, "parameter 'c'");
    s_assert_contains(err.message, rule);
    assert_int_equal(hone_space_size(space), 0);
    hone_space_destroy(&space);
}

static void test_choice_rules(void **state)
{
    (void) state;
    hone_value_t strs[] = { hone_value_str("a"), hone_value_str("b"), hone_value_str("c") };
    hone_value_t nums[] = { hone_value_float(-1), hone_value_float(2), hone_value_float(3) };
    hone_value_t mixed[] = { hone_value_str("x"), hone_value_int(1) };
    hone_value_t bools_bad[] = { hone_value_str("False"), hone_value_bool(true) };
    s_choice_fails(HONE_TYPE_STR, strs, 0, -1, -1, "at least one value");
    s_choice_fails(HONE_TYPE_STR, strs, 3, -1, 1, "log scale requires a numeric");
    s_choice_fails(HONE_TYPE_FLOAT, nums, 3, 0, 1, "log scale requires an ordered");
    s_choice_fails(HONE_TYPE_FLOAT, nums, 3, -1, 1, "log scale requires positive values");
    s_choice_fails(HONE_TYPE_FLOAT, mixed, 2, -1, -1, "value 'x' cannot be cast to float");
    s_choice_fails(HONE_TYPE_INT, mixed, 2, -1, -1, "cannot be cast to int");
    s_choice_fails(HONE_TYPE_BOOL, bools_bad, 2, -1, -1, "is not a boolean");
    hone_value_t nan_value[] = { hone_value_float(NAN), hone_value_float(1) };
    s_choice_fails(HONE_TYPE_FLOAT, nan_value, 2, -1, -1, "not a finite number");
    hone_value_t many[1001];
    for (int i = 0; i < 1001; i++)
        many[i] = hone_value_int(i);
    s_choice_fails(HONE_TYPE_INT, many, 1001, -1, -1, "limit of 1000");
    /* 1000 distinct values, or more before duplicates are dropped, are fine */
    hone_space_t *space = hone_space_new();
    hone_error_t err;
    assert_int_equal(hone_space_add_choice(space, "c", HONE_TYPE_INT, many, 1000, -1, -1, &err), HONE_OK);
    many[1000] = hone_value_int(0);
    assert_int_equal(hone_space_add_choice(space, "d", HONE_TYPE_INT, many + 1, 1000, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_param(space, 1)->n_values, 1000);
    assert_int_equal(hone_space_add_choice(space, "c", HONE_TYPE_INT, many, 3, -1, -1, &err), HONE_EINVAL);
    s_assert_contains(err.message, "duplicate");
    hone_space_destroy(&space);
}

static void test_choice_defaults_sorting_dedup(void **state)
{
    (void) state;
    hone_space_t *space = hone_space_new();
    hone_error_t err;
    /* numbers are sorted and deduplicated; 3 values in geometric progression: log */
    hone_value_t geo[] = { hone_value_float(4), hone_value_float(1), hone_value_float(2), hone_value_float(1) };
    assert_int_equal(hone_space_add_choice(space, "geo", HONE_TYPE_FLOAT, geo, 4, -1, -1, &err), HONE_OK);
    const hone_param_t *p = hone_space_param(space, 0);
    assert_int_equal(p->kind, HONE_PARAM_CHOICE);
    assert_int_equal(p->n_values, 3);
    assert_true(p->values[0].u.f == 1 && p->values[1].u.f == 2 && p->values[2].u.f == 4);
    assert_true(p->is_ordered);
    assert_true(p->log_scale);
    /* linear values: no log scale; explicit log_scale false is respected */
    hone_value_t lin[] = { hone_value_int(1), hone_value_int(2), hone_value_int(3) };
    assert_int_equal(hone_space_add_choice(space, "lin", HONE_TYPE_INT, lin, 3, -1, -1, &err), HONE_OK);
    assert_false(hone_space_param(space, 1)->log_scale);
    hone_value_t dec[] = { hone_value_int(1), hone_value_int(10), hone_value_int(100) };
    assert_int_equal(hone_space_add_choice(space, "dec", HONE_TYPE_INT, dec, 3, -1, 0, &err), HONE_OK);
    assert_false(hone_space_param(space, 2)->log_scale);
    /* strings keep their order; 3+ strings are unordered by default, 2 always ordered */
    hone_value_t opt[] = { hone_value_str("sgd"), hone_value_str("adam"), hone_value_str("sgd"),
                           hone_value_str("rmsprop") };
    assert_int_equal(hone_space_add_choice(space, "opt", HONE_TYPE_STR, opt, 4, -1, -1, &err), HONE_OK);
    p = hone_space_param(space, 3);
    assert_int_equal(p->n_values, 3);
    assert_string_equal(p->values[0].u.s, "sgd");
    assert_string_equal(p->values[1].u.s, "adam");
    assert_string_equal(p->values[2].u.s, "rmsprop");
    assert_false(p->is_ordered);
    assert_false(p->log_scale);
    assert_ptr_equal(p->values[0].u.s, p->strings[0]);   /* owned copy */
    assert_true(p->values[0].u.s != opt[0].u.s);
    hone_value_t two[] = { hone_value_str("b"), hone_value_str("a") };
    assert_int_equal(hone_space_add_choice(space, "two", HONE_TYPE_STR, two, 2, 0, -1, &err), HONE_OK);
    assert_true(hone_space_param(space, 4)->is_ordered);
    assert_string_equal(hone_space_param(space, 4)->values[0].u.s, "b");
    /* bools are sorted, ordered */
    hone_value_t bools[] = { hone_value_bool(true), hone_value_bool(false) };
    assert_int_equal(hone_space_add_choice(space, "flag", HONE_TYPE_BOOL, bools, 2, -1, -1, &err), HONE_OK);
    p = hone_space_param(space, 5);
    assert_false(p->values[0].u.b);
    assert_true(p->values[1].u.b);
    assert_true(p->is_ordered);
    /* one value, or one after dropping duplicates: fixed */
    hone_value_t one[] = { hone_value_int(7), hone_value_int(7) };
    assert_int_equal(hone_space_add_choice(space, "fixed", HONE_TYPE_INT, one, 2, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_param(space, 6)->kind, HONE_PARAM_FIXED);
    assert_int_equal(hone_space_param(space, 6)->n_values, 1);
    /* explicit unordered strings, and explicit ordered */
    hone_value_t three[] = { hone_value_str("x"), hone_value_str("y"), hone_value_str("z") };
    assert_int_equal(hone_space_add_choice(space, "ord", HONE_TYPE_STR, three, 3, 1, -1, &err), HONE_OK);
    assert_true(hone_space_param(space, 7)->is_ordered);
    hone_space_destroy(&space);
}

static void test_choice_casting(void **state)
{
    (void) state;
    hone_space_t *space = hone_space_new();
    hone_error_t err;
    /* Python constructors: int(2.7) == 2, int("3") == 3, int(True) == 1 */
    hone_value_t to_int[] = { hone_value_float(2.7), hone_value_str(" 3 "), hone_value_bool(true) };
    assert_int_equal(hone_space_add_choice(space, "i", HONE_TYPE_INT, to_int, 3, -1, -1, &err), HONE_OK);
    const hone_param_t *p = hone_space_param(space, 0);
    assert_int_equal(p->n_values, 3);
    assert_int_equal(p->values[0].u.i, 1);
    assert_int_equal(p->values[1].u.i, 2);
    assert_int_equal(p->values[2].u.i, 3);
    /* str(1.0) == "1.0", str(3) == "3", str(True) == "True", str(1e-05) == "1e-05" */
    hone_value_t to_str[] = { hone_value_float(1.0), hone_value_int(3), hone_value_bool(true),
                              hone_value_float(1e-5), hone_value_float(0.1), hone_value_float(1e16) };
    assert_int_equal(hone_space_add_choice(space, "s", HONE_TYPE_STR, to_str, 6, -1, -1, &err), HONE_OK);
    p = hone_space_param(space, 1);
    assert_string_equal(p->values[0].u.s, "1.0");
    assert_string_equal(p->values[1].u.s, "3");
    assert_string_equal(p->values[2].u.s, "True");
    assert_string_equal(p->values[3].u.s, "1e-05");
    assert_string_equal(p->values[4].u.s, "0.1");
    assert_string_equal(p->values[5].u.s, "1e+16");
    /* float("2.5") == 2.5, float(1) == 1.0 */
    hone_value_t to_float[] = { hone_value_str("2.5"), hone_value_int(1) };
    assert_int_equal(hone_space_add_choice(space, "f", HONE_TYPE_FLOAT, to_float, 2, -1, -1, &err), HONE_OK);
    p = hone_space_param(space, 2);
    assert_int_equal(p->values[0].type, HONE_TYPE_FLOAT);
    assert_true(p->values[0].u.f == 1.0 && p->values[1].u.f == 2.5);
    /* hone does not copy bool("False") == True: a bool parameter takes booleans only */
    hone_value_t one_as_bool[] = { hone_value_int(1), hone_value_bool(false) };
    assert_int_equal(hone_space_add_choice(space, "b", HONE_TYPE_BOOL, one_as_bool, 2, -1, -1, &err), HONE_EINVAL);
    s_assert_contains(err.message, "parameter 'b': value 1 is not a boolean");
    hone_space_destroy(&space);
}

/* A space with one parameter of every kind, for membership and mapping tests. */
static hone_space_t *s_mixed_space(void)
{
    hone_space_t *space = hone_space_new();
    hone_error_t err;
    hone_value_t opt[] = { hone_value_str("adam"), hone_value_str("sgd"), hone_value_str("rmsprop") };
    hone_value_t flag[] = { hone_value_bool(false), hone_value_bool(true) };
    hone_value_t fixed[] = { hone_value_str("v1") };
    hone_value_t fl[] = { hone_value_float(1.0), hone_value_float(1.5) };
    assert_int_equal(hone_space_add_range(space, "x", HONE_TYPE_FLOAT, 0, 1, NULL, NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "n", HONE_TYPE_INT, 1, 10, NULL, NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_choice(space, "opt", HONE_TYPE_STR, opt, 3, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_choice(space, "flag", HONE_TYPE_BOOL, flag, 2, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_choice(space, "ver", HONE_TYPE_STR, fixed, 1, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_choice(space, "fl", HONE_TYPE_FLOAT, fl, 2, -1, -1, &err), HONE_OK);
    return space;
}

static void s_check_fails(const hone_space_t *space, const hone_value_t *v, const char *rule)
{
    hone_error_t err;
    hone_error_clear(&err);
    assert_int_equal(hone_space_check(space, v, &err), HONE_EINVAL);
    s_assert_contains(err.message, rule);
}

static void test_membership(void **state)
{
    (void) state;
    hone_space_t *space = s_mixed_space();
    hone_error_t err;
    char name[] = "sgd";   /* a caller's string, to be interned */
    hone_value_t ok[] = { hone_value_float(1 + 1.5e-7), hone_value_float(3.0), hone_value_str(name),
                          hone_value_bool(true), hone_value_str("v1"), hone_value_int(1) };
    assert_int_equal(hone_space_check(space, ok, &err), HONE_OK);
    hone_value_t v[6];
    memcpy(v, ok, sizeof v);
    assert_int_equal(hone_space_intern(space, v, &err), HONE_OK);
    assert_int_equal(v[1].type, HONE_TYPE_INT);
    assert_int_equal(v[1].u.i, 3);
    assert_ptr_equal(v[2].u.s, hone_space_param(space, 2)->values[1].u.s);
    assert_int_equal(v[5].type, HONE_TYPE_FLOAT);   /* the int 1 is the float choice 1.0 */
    assert_true(v[5].u.f == 1.0);

    memcpy(v, ok, sizeof v);
    v[5] = hone_value_float(1.5);
    assert_int_equal(hone_space_intern(space, v, &err), HONE_OK);
    memcpy(v, ok, sizeof v);
    v[0] = hone_value_float(-1.5e-7);
    assert_int_equal(hone_space_check(space, v, &err), HONE_OK);
    v[0] = hone_value_float(1 + 1e-6);
    s_check_fails(space, v, "parameter 'x': value 1.000001 is outside the bounds [0, 1]");
    v[0] = hone_value_float(-1e-6);
    s_check_fails(space, v, "outside the bounds");
    v[0] = hone_value_int(1);   /* an int for a float range is a number */
    assert_int_equal(hone_space_check(space, v, &err), HONE_OK);
    v[0] = hone_value_bool(true);
    s_check_fails(space, v, "parameter 'x': expected a value of type float, got one of type bool");
    v[0] = hone_value_float(NAN);
    s_check_fails(space, v, "not a finite number");
    v[0] = hone_value_float(0.5);
    v[1] = hone_value_float(2.5);
    s_check_fails(space, v, "parameter 'n': value 2.5 is not an integer");
    v[1] = hone_value_int(11);
    s_check_fails(space, v, "parameter 'n': value 11 is outside the bounds [1, 10]");
    v[1] = hone_value_bool(true);
    s_check_fails(space, v, "parameter 'n': expected a value of type int, got one of type bool");
    v[1] = hone_value_str("3");
    s_check_fails(space, v, "expected a value of type int, got one of type str");
    v[1] = hone_value_int(10);
    v[2] = hone_value_str("momentum");
    s_check_fails(space, v, "parameter 'opt': value 'momentum' is not one of the 3 allowed values");
    v[2] = hone_value_int(0);
    s_check_fails(space, v, "parameter 'opt': expected a value of type str, got one of type int");
    v[2] = hone_value_str("adam");
    v[3] = hone_value_int(1);
    s_check_fails(space, v, "parameter 'flag': expected a value of type bool, got one of type int");
    v[3] = hone_value_bool(false);
    v[4] = hone_value_str("v2");
    s_check_fails(space, v, "parameter 'ver': value 'v2' differs from the fixed value 'v1'");
    v[4] = hone_value_str("v1");
    v[5] = hone_value_float(2.0);
    s_check_fails(space, v, "parameter 'fl': value 2 is not one of the 2 allowed values");
    /* a failing intern leaves the values untouched */
    hone_value_t before[6];
    memcpy(before, v, sizeof v);
    assert_int_equal(hone_space_intern(space, v, &err), HONE_EINVAL);
    assert_memory_equal(before, v, sizeof v);
    hone_space_destroy(&space);
}

static void test_center(void **state)
{
    (void) state;
    hone_space_t *space = hone_space_new();
    hone_error_t err;
    hone_value_t opt[] = { hone_value_str("a"), hone_value_str("b"), hone_value_str("c"), hone_value_str("d") };
    hone_value_t flag[] = { hone_value_bool(false), hone_value_bool(true) };
    hone_value_t fixed[] = { hone_value_int(9) };
    assert_int_equal(hone_space_add_range(space, "x", HONE_TYPE_FLOAT, -5, 10, NULL, NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "lr", HONE_TYPE_FLOAT, 1e-4, 1, "log", NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "even", HONE_TYPE_INT, 0, 5, NULL, NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "odd", HONE_TYPE_INT, 0, 3, NULL, NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "logint", HONE_TYPE_INT, 1, 100, "log", NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_choice(space, "opt", HONE_TYPE_STR, opt, 4, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_choice(space, "flag", HONE_TYPE_BOOL, flag, 2, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_choice(space, "fixed", HONE_TYPE_INT, fixed, 1, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "logint2", HONE_TYPE_INT, 1, 8, "log", NAN, &err), HONE_OK);
    hone_value_t c[9];
    hone_space_center(space, c);
    assert_true(c[0].u.f == 2.5);
    assert_near(c[1].u.f, 0.01, 1e-15);
    assert_int_equal(c[2].type, HONE_TYPE_INT);
    assert_int_equal(c[2].u.i, 2);    /* 2.5 rounds half to even */
    assert_int_equal(c[3].u.i, 2);    /* 1.5 rounds half to even */
    assert_int_equal(c[4].u.i, 10);   /* sqrt(1 * 100) */
    assert_string_equal(c[5].u.s, "c");   /* values[4 / 2] */
    assert_true(c[6].u.b);                /* values[2 / 2] */
    assert_int_equal(c[7].u.i, 9);
    assert_int_equal(c[8].u.i, 3);    /* sqrt(8) = 2.83 */
    assert_int_equal(hone_space_check(space, c, &err), HONE_OK);
    hone_space_destroy(&space);
}

static void test_from_unit(void **state)
{
    (void) state;
    hone_space_t *space = hone_space_new();
    hone_error_t err;
    hone_value_t opt[] = { hone_value_str("a"), hone_value_str("b"), hone_value_str("c") };
    hone_value_t fixed[] = { hone_value_str("only") };
    assert_int_equal(hone_space_add_range(space, "x", HONE_TYPE_FLOAT, -5, 10, NULL, NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "lr", HONE_TYPE_FLOAT, 1e-4, 1, "log", NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "n", HONE_TYPE_INT, 0, 4, NULL, NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_choice(space, "opt", HONE_TYPE_STR, opt, 3, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_choice(space, "fix", HONE_TYPE_STR, fixed, 1, -1, -1, &err), HONE_OK);
    hone_value_t v[5];
    double lo[] = { 0, 0, 0, 0, 0.7 };
    hone_space_from_unit(space, lo, v);
    assert_true(v[0].u.f == -5);
    assert_near(v[1].u.f, 1e-4, 1e-18);
    assert_int_equal(v[2].u.i, 0);
    assert_string_equal(v[3].u.s, "a");
    assert_string_equal(v[4].u.s, "only");
    double hi[] = { 1, 1, 1, 1, 0 };
    hone_space_from_unit(space, hi, v);
    assert_true(v[0].u.f == 10);
    assert_true(v[1].u.f <= 1.0);
    assert_near(v[1].u.f, 1.0, 1e-15);
    assert_int_equal(v[2].u.i, 4);
    assert_string_equal(v[3].u.s, "c");   /* min(n - 1, floor(u * n)) */
    double mid[] = { 0.5, 0.5, 0.625, 0.34, 0.1 };
    hone_space_from_unit(space, mid, v);
    assert_true(v[0].u.f == 2.5);
    assert_near(v[1].u.f, 1e-2, 1e-15);
    assert_int_equal(v[2].u.i, 2);   /* 2.5 -> 2, half to even */
    assert_string_equal(v[3].u.s, "b");
    double just[] = { 0.25, 0.999999, 0.875, 0.3333, 0.9 };
    hone_space_from_unit(space, just, v);
    assert_true(v[0].u.f == -1.25);
    assert_int_equal(v[2].u.i, 4);   /* 3.5 -> 4, half to even */
    assert_string_equal(v[3].u.s, "a");
    assert_int_equal(hone_space_check(space, v, &err), HONE_OK);
    hone_value_t w[5];
    hone_space_from_unit(space, just, w);
    assert_true(hone_space_points_equal(space, v, w));
    w[2] = hone_value_int(3);
    assert_false(hone_space_points_equal(space, v, w));
    hone_space_destroy(&space);
}

static void test_value_helpers(void **state)
{
    (void) state;
    char buf[64];
    hone_value_t f = hone_value_float(0.25), i = hone_value_int(-3), b = hone_value_bool(true), s = hone_value_str("adam");
    assert_string_equal(hone_value_format(&f, buf, sizeof buf), "0.25");
    hone_value_t tenth = hone_value_float(0.1);
    assert_string_equal(hone_value_format(&tenth, buf, sizeof buf), "0.1");
    assert_string_equal(hone_value_format(&i, buf, sizeof buf), "-3");
    assert_string_equal(hone_value_format(&b, buf, sizeof buf), "true");
    assert_string_equal(hone_value_format(&s, buf, sizeof buf), "adam");
    assert_true(hone_value_as_double(&b) == 1.0);
    assert_true(isnan(hone_value_as_double(&s)));
    char copy[] = "adam";
    hone_value_t s2 = hone_value_str(copy);
    assert_true(hone_value_equal(&s, &s2));
    hone_value_t one_f = hone_value_float(1), one_i = hone_value_int(1);
    assert_false(hone_value_equal(&one_f, &one_i));
    hone_type_t t;
    assert_int_equal(hone_type_parse("bool", &t), HONE_OK);
    assert_int_equal(t, HONE_TYPE_BOOL);
    assert_int_equal(hone_type_parse("double", &t), HONE_EINVAL);
    assert_string_equal(hone_type_name(HONE_TYPE_STR), "str");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_rules),
        cmocka_unit_test(test_step_size_expansion),
        cmocka_unit_test(test_choice_rules),
        cmocka_unit_test(test_choice_defaults_sorting_dedup),
        cmocka_unit_test(test_choice_casting),
        cmocka_unit_test(test_membership),
        cmocka_unit_test(test_center),
        cmocka_unit_test(test_from_unit),
        cmocka_unit_test(test_value_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
