/* Unit tests for core/constraint: Ax's parameter-constraint strings (every grammar rule
 * and every message, reference/ax-client-behaviour.md §1.4), the feasibility tolerance,
 * and the constrained center. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "constraint.h"
#include "space.h"

/* x1 in [-5, 10], x2 in [0, 15] (Branin's box), n int in [0, 10], layer.width in [0, 1],
 * k an ordered int choice {1, 2, 3}. */
static hone_space_t *s_space(void)
{
    hone_space_t *space = hone_space_new();
    hone_error_t err;
    assert_int_equal(hone_space_add_range(space, "x1", HONE_TYPE_FLOAT, -5, 10, NULL, NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "x2", HONE_TYPE_FLOAT, 0, 15, NULL, NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "n", HONE_TYPE_INT, 0, 10, NULL, NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "layer.width", HONE_TYPE_FLOAT, 0, 1, "linear", NAN, &err),
                     HONE_OK);
    hone_value_t k[] = { hone_value_int(3), hone_value_int(1), hone_value_int(2) };
    assert_int_equal(hone_space_add_choice(space, "k", HONE_TYPE_INT, k, 3, -1, -1, &err), HONE_OK);
    return space;
}

enum { X1, X2, N, LW, K, NP };

/* Parses text as the only constraint of a fresh set and checks weights and bound. */
static void s_expect(const char *text, const double weights[NP], double bound)
{
    hone_space_t *space = s_space();
    hone_constraint_set_t *set = hone_constraint_set_new(NP);
    hone_error_t err;
    hone_error_clear(&err);
    if (hone_constraint_set_add(set, space, text, &err) != HONE_OK)
        fail_msg("'%s' refused: %s", text, err.message);
    assert_int_equal(hone_constraint_set_size(set), 1);
    assert_string_equal(hone_constraint_set_text(set, 0), text);
    const double *w = hone_constraint_set_weights(set, 0);
    for (int j = 0; j < NP; j++)
        if (fabs(w[j] - weights[j]) > 1e-12)
            fail_msg("'%s': weight %d is %.17g, expected %.17g", text, j, w[j], weights[j]);
    if (fabs(hone_constraint_set_bound(set, 0) - bound) > 1e-12)
        fail_msg("'%s': bound %.17g, expected %.17g", text, hone_constraint_set_bound(set, 0), bound);
    for (int j = 0; j < NP; j++)
        assert_int_equal(hone_constraint_set_involves(set, (size_t) j), weights[j] != 0.0);
    hone_constraint_set_destroy(&set);
    assert_null(set);
    hone_constraint_set_destroy(&set);
    hone_space_destroy(&space);
}

static void test_ax_examples(void **state)
{
    (void) state;
    /* reference/ax-client-behaviour.md §1.4 */
    s_expect("x1 + x2 <= 1", (double[NP]) { [X1] = 1, [X2] = 1 }, 1);
    s_expect("x1 <= x2", (double[NP]) { [X1] = 1, [X2] = -1 }, 0);
    s_expect("2*x1 >= x2 + 3", (double[NP]) { [X1] = -2, [X2] = 1 }, -3);
}

static void test_linear_forms(void **state)
{
    (void) state;
    s_expect("x1 * 2 <= 4", (double[NP]) { [X1] = 2 }, 4);
    s_expect("-x1 - 0.5*x2 >= -1e-3", (double[NP]) { [X1] = 1, [X2] = 0.5 }, 1e-3);
    s_expect("x1 + 1 <= 3 - x2", (double[NP]) { [X1] = 1, [X2] = 1 }, 2);
    s_expect("1 >= x1", (double[NP]) { [X1] = 1 }, 1);
    s_expect("+x1 <= +1", (double[NP]) { [X1] = 1 }, 1);
    s_expect("- -x1 <= 1", (double[NP]) { [X1] = 1 }, 1);
    s_expect(".5*x1 + 1.*x2 <= 2.5E+1", (double[NP]) { [X1] = 0.5, [X2] = 1 }, 25);
    s_expect("3*(x1 + x2) - n/2 <= 6", (double[NP]) { [X1] = 3, [X2] = 3, [N] = -0.5 }, 6);
    s_expect("(x1 - 2) * -4 >= 0", (double[NP]) { [X1] = 4 }, 8);
    s_expect("2**3*x1 + x2**1 + n^0 <= 9", (double[NP]) { [X1] = 8, [X2] = 1 }, 8);   /* n^0 is 1 */
    s_expect("-2**2*x1 <= 1", (double[NP]) { [X1] = -4 }, 1);   /* -(2**2), as in Python */
    s_expect("0*x2 + x1 <= 1", (double[NP]) { [X1] = 1 }, 1);   /* a zero weight is dropped */
    s_expect("n + 10*layer.width <= 9.5", (double[NP]) { [N] = 1, [LW] = 10 }, 9.5);
    s_expect("k - n >= -2", (double[NP]) { [N] = 1, [K] = -1 }, 2);
    s_expect("\tx1\n<=\r1e0 ", (double[NP]) { [X1] = 1 }, 1);
    s_expect("x1 >= 0", (double[NP]) { [X1] = -1 }, 0);
}

/* text must be refused with exactly message. */
static void s_refuse(const char *text, const char *message)
{
    hone_space_t *space = s_space();
    hone_value_t opt[] = { hone_value_str("adam"), hone_value_str("sgd"), hone_value_str("rmsprop") };
    hone_value_t two[] = { hone_value_str("a"), hone_value_str("b") };
    hone_value_t flag[] = { hone_value_bool(false), hone_value_bool(true) };
    hone_value_t unordered[] = { hone_value_int(1), hone_value_int(2), hone_value_int(3) };
    hone_value_t fixed[] = { hone_value_float(0.5) };
    hone_value_t powers[] = { hone_value_int(1), hone_value_int(10), hone_value_int(100) };
    hone_error_t err;
    assert_int_equal(hone_space_add_range(space, "lr", HONE_TYPE_FLOAT, 1e-5, 1e-1, "log", NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "lrn", HONE_TYPE_INT, 1, 1000, "log", NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_choice(space, "opt", HONE_TYPE_STR, opt, 3, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_choice(space, "two", HONE_TYPE_STR, two, 2, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_choice(space, "flag", HONE_TYPE_BOOL, flag, 2, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_choice(space, "u", HONE_TYPE_INT, unordered, 3, 0, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_choice(space, "fixed", HONE_TYPE_FLOAT, fixed, 1, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_choice(space, "pw", HONE_TYPE_INT, powers, 3, -1, -1, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "st", HONE_TYPE_INT, 1, 100, NULL, 1, &err), HONE_OK);
    size_t np = hone_space_size(space);
    hone_constraint_set_t *set = hone_constraint_set_new(np);
    /* one good constraint first: the message numbers the failing one, the set keeps it */
    assert_int_equal(hone_constraint_set_add(set, space, "x1 <= 1", &err), HONE_OK);
    hone_error_clear(&err);
    if (hone_constraint_set_add(set, space, text, &err) != HONE_EINVAL)
        fail_msg("'%s' was accepted", text);
    char expected[600];
    snprintf(expected, sizeof expected, "parameter_constraints[1]: %s", message);
    if (strcmp(err.message, expected) != 0)
        fail_msg("'%s': got\n  %s\nexpected\n  %s", text, err.message, expected);
    assert_int_equal(err.code, HONE_EINVAL);
    assert_int_equal(hone_constraint_set_size(set), 1);
    hone_constraint_set_destroy(&set);
    hone_space_destroy(&space);
}

static void s_refuse_not_inequality(const char *text)
{
    char message[300];
    snprintf(message, sizeof message, "Expected an inequality, found %s", text);
    s_refuse(text, message);
}

static void s_refuse_nonlinear(const char *text)
{
    char message[300];
    snprintf(message, sizeof message, "Only linear inequality parameter constraints are supported, found %s", text);
    s_refuse(text, message);
}

static void test_not_an_inequality(void **state)
{
    (void) state;
    const char *cases[] = {
        "x1 < 1", "x1 > 1", "x1 == 1", "x1 = 1", "x1 != 1",    /* strict, equality */
        "x1 + x2", "", "   ", "<= 1", "x1 <=", "x1 <= 1 <= 2", /* no or several comparisons */
        "0 <= x1 <= 1", "x1 <= 1 2", "2x1 <= 1", "x1 <= (1", "x1 <= 1)", "x1 + * x2 <= 1",
        "log(x1) <= 1", "Le(x1, 1)", "x1 <= 1.2.3", "x1 # 2 <= 1", "x1 <= $", "x1 ≤ 1",
        "x1 % 2 <= 1", "x1 // 2 <= 1", "x1 <= 1e", "1 <= 2", "x1 - x1 <= 1", "x1 ** <= 1",
    };
    for (size_t i = 0; i < HONE_ARRAY_LEN(cases); i++)
        s_refuse_not_inequality(cases[i]);
}

static void test_nonlinear(void **state)
{
    (void) state;
    const char *cases[] = {
        "x1*x2 <= 1", "x1 * x2 + x1 <= 1", "x1**2 <= 1", "x1^2 <= 1", "x1/x2 <= 1",
        "1/x1 <= 1", "2**x1 <= 4", "(x1 + 1)*(x2 - 1) <= 0", "x1**x2 <= 1", "x1**-1 <= 1",
    };
    for (size_t i = 0; i < HONE_ARRAY_LEN(cases); i++)
        s_refuse_nonlinear(cases[i]);
}

static void test_other_expression_errors(void **state)
{
    (void) state;
    s_refuse("x1 <= 1; x2 <= 1", "'x1 <= 1; x2 <= 1' has forbidden control characters (; [ ' \\)");
    s_refuse("x1[0] <= 1", "'x1[0] <= 1' has forbidden control characters (; [ ' \\)");
    s_refuse("x1/0 <= 1", "division by zero in 'x1/0 <= 1'");
    s_refuse("1e400*x1 <= 1", "a coefficient of '1e400*x1 <= 1' is not finite");
    s_refuse("x1 <= 10**400", "a coefficient of 'x1 <= 10**400' is not finite");
    s_refuse("(-8)**0.5*x1 <= 1", "a coefficient of '(-8)**0.5*x1 <= 1' is not finite");
}

static void test_names(void **state)
{
    (void) state;
    s_refuse("x1 + z <= 1", "`z` does not exist in search space.");
    s_refuse("X1 <= 1", "`X1` does not exist in search space.");   /* names are case-sensitive */
    s_refuse("layer <= 1", "`layer` does not exist in search space.");
    s_refuse("x1 + x1 <= 1", "Duplicate parameter in constraint.");
    s_refuse("x1 <= x1 + x2", "Duplicate parameter in constraint.");
    /* unknown names are reported before duplicates, as Ax's search space does */
    s_refuse("x1 + x1 + z <= 1", "`z` does not exist in search space.");
}

static void test_parameter_kinds(void **state)
{
    (void) state;
    s_refuse("lr <= 0.01", "parameter 'lr': Parameter constraints are not allowed on log scale parameters.");
    s_refuse("x1 + lrn <= 10", "parameter 'lrn': Parameter constraints are not allowed on log scale parameters.");
    /* an ordered choice auto-detected as log scale (1, 10, 100), and a stepped range from
     * 1 to 100 (two decades: log scale, as in Ax) */
    s_refuse("pw <= 10", "parameter 'pw': Parameter constraints are not allowed on log scale parameters.");
    s_refuse("st <= 10", "parameter 'st': Parameter constraints are not allowed on log scale parameters.");
    s_refuse("opt <= 1", "Only numerical ChoiceParameters can be used in parameter constraints. Found opt with "
             "type STRING.");
    s_refuse("two <= 1", "Only numerical ChoiceParameters can be used in parameter constraints. Found two with "
             "type STRING.");
    s_refuse("flag <= 0", "Only numerical ChoiceParameters can be used in parameter constraints. Found flag with "
             "type BOOL.");
    s_refuse("u <= 2", "Only ordered ChoiceParameters can be used in parameter constraints. Found u with "
             "is_ordered=False.");
    s_refuse("x1 + fixed <= 1", "Parameters in constraints must be RangeParameters or numerical ordered "
             "ChoiceParameters. Found fixed, a fixed parameter (a choice with a single value).");
}

static void test_feasibility_tolerance(void **state)
{
    (void) state;
    hone_space_t *space = s_space();
    hone_constraint_set_t *set = hone_constraint_set_new(NP);
    hone_error_t err;
    assert_int_equal(hone_constraint_set_add(set, space, "x1 + x2 <= 1", &err), HONE_OK);
    assert_int_equal(hone_constraint_set_add(set, space, "n >= k", &err), HONE_OK);
    hone_value_t p[NP] = {
        [X1] = hone_value_float(0.5), [X2] = hone_value_float(0.5), [N] = hone_value_int(2),
        [LW] = hone_value_float(0), [K] = hone_value_int(2),
    };
    assert_true(hone_constraint_set_feasible(set, p));
    p[X2] = hone_value_float(0.5 + 0.9e-8);   /* within Ax's 1e-8 */
    assert_int_equal(hone_constraint_set_violated(set, p), -1);
    p[X2] = hone_value_float(0.5 + 1.1e-8);
    assert_int_equal(hone_constraint_set_violated(set, p), 0);
    assert_false(hone_constraint_set_feasible(set, p));
    p[X2] = hone_value_float(0.5);
    p[K] = hone_value_int(3);                  /* ints count as numbers */
    assert_int_equal(hone_constraint_set_violated(set, p), 1);
    /* an empty set accepts everything */
    hone_constraint_set_t *none = hone_constraint_set_new(NP);
    assert_true(hone_constraint_set_feasible(none, p));
    hone_constraint_set_destroy(&none);
    hone_constraint_set_destroy(&set);
    hone_space_destroy(&space);
}

static hone_constraint_set_t *s_set(const hone_space_t *space, const char *const *texts, size_t n)
{
    hone_constraint_set_t *set = hone_constraint_set_new(hone_space_size(space));
    for (size_t i = 0; i < n; i++) {
        hone_error_t err;
        if (hone_constraint_set_add(set, space, texts[i], &err) != HONE_OK)
            fail_msg("'%s': %s", texts[i], err.message);
    }
    return set;
}

static void test_center(void **state)
{
    (void) state;
    hone_space_t *space = s_space();
    hone_value_t point[NP], center[NP];
    hone_space_center(space, center);

    /* A feasible center stays as it is. */
    const char *loose[] = { "x1 + x2 <= 20" };
    hone_constraint_set_t *set = s_set(space, loose, 1);
    memcpy(point, center, sizeof point);
    assert_int_equal(hone_constraint_set_center(set, space, point), HONE_OK);
    assert_memory_equal(point, center, sizeof point);
    hone_constraint_set_destroy(&set);

    /* Branin's box cut by x1 + x2 <= 5: in unit coordinates u1 + u2 <= 2/3, a right
     * triangle whose incenter is at r = (2/3)(2 − √2)/2 on both axes. */
    const char *branin[] = { "x1 + x2 <= 5" };
    set = s_set(space, branin, 1);
    memcpy(point, center, sizeof point);
    assert_false(hone_constraint_set_feasible(set, point));
    assert_int_equal(hone_constraint_set_center(set, space, point), HONE_OK);
    double r = (2.0 / 3.0) * (2.0 - sqrt(2.0)) / 2.0;
    assert_true(fabs(point[X1].u.f - (-5 + 15 * r)) <= 1e-4);
    assert_true(fabs(point[X2].u.f - 15 * r) <= 1e-4);
    assert_true(hone_constraint_set_feasible(set, point));
    for (int j = N; j < NP; j++)   /* parameters outside the constraints keep their center */
        assert_true(hone_value_equal(&point[j], &center[j]));
    hone_constraint_set_destroy(&set);

    /* An int: n ∈ [0, 10] with n >= 7.2, lw ∈ [0, 1] with lw <= 0.1: the largest ball
     * has radius 0.05 (in unit coordinates), so lw = 0.05 and n lies in [7.7, 9.5]. */
    const char *with_int[] = { "n >= 7.2", "layer.width <= 0.1" };
    set = s_set(space, with_int, 2);
    memcpy(point, center, sizeof point);
    assert_int_equal(hone_constraint_set_center(set, space, point), HONE_OK);
    assert_int_equal(point[N].type, HONE_TYPE_INT);
    assert_true(point[N].u.i >= 8 && point[N].u.i <= 10);
    assert_true(fabs(point[LW].u.f - 0.05) <= 1e-4);
    hone_constraint_set_destroy(&set);

    /* No integer in [2.2, 2.8]: nothing feasible, the point is left alone. */
    const char *no_int[] = { "n >= 2.2", "n <= 2.8" };
    set = s_set(space, no_int, 2);
    memcpy(point, center, sizeof point);
    assert_int_equal(hone_constraint_set_center(set, space, point), HONE_ENOTFOUND);
    assert_memory_equal(point, center, sizeof point);
    hone_constraint_set_destroy(&set);

    /* An empty polytope. */
    const char *empty[] = { "x1 + x2 >= 26" };
    set = s_set(space, empty, 1);
    memcpy(point, center, sizeof point);
    assert_int_equal(hone_constraint_set_center(set, space, point), HONE_ENOTFOUND);
    hone_constraint_set_destroy(&set);
    hone_space_destroy(&space);
}

/* Rounding the Chebyshev center breaks a constraint; a neighbouring integer point is
 * taken. n, m ints in [0, 10]; the triangle m >= 0, 9m − 20n <= −12, 9m + 20n <= 48
 * (base from n = 0.6 to 2.4, apex (1.5, 2)) has its incenter at (1.5, 0.582), which
 * rounds to m = 1 where no integer n is feasible; (1, 0) and (2, 0) are. */
static void test_center_neighbours(void **state)
{
    (void) state;
    hone_space_t *space = hone_space_new();
    hone_error_t err;
    assert_int_equal(hone_space_add_range(space, "n", HONE_TYPE_INT, 0, 10, NULL, NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "m", HONE_TYPE_INT, 0, 10, NULL, NAN, &err), HONE_OK);
    const char *triangle[] = { "9*m - 20*n <= -12", "9*m + 20*n <= 48" };
    hone_constraint_set_t *set = s_set(space, triangle, 2);
    hone_value_t point[2];
    hone_space_center(space, point);
    assert_int_equal(point[0].u.i, 5);
    assert_int_equal(hone_constraint_set_center(set, space, point), HONE_OK);
    assert_int_equal(point[0].type, HONE_TYPE_INT);
    assert_int_equal(point[1].type, HONE_TYPE_INT);
    assert_int_equal(point[1].u.i, 0);
    assert_true(point[0].u.i == 1 || point[0].u.i == 2);
    assert_true(hone_constraint_set_feasible(set, point));
    /* the rounded incenter itself is infeasible (what makes this test bite) */
    hone_value_t rounded[2] = { hone_value_int(2), hone_value_int(1) };
    assert_false(hone_constraint_set_feasible(set, rounded));
    rounded[0] = hone_value_int(1);
    assert_false(hone_constraint_set_feasible(set, rounded));
    hone_constraint_set_destroy(&set);
    hone_space_destroy(&space);
}

/* Random mutations of valid constraints never crash the parser: each result is accepted
 * with finite weights or refused with HONE_EINVAL and a message naming the constraint. */
static void test_mutations(void **state)
{
    (void) state;
    static const char alphabet[] = "x12nk.+-*/^()<=>e 0;!";
    static const char *const seeds[] = {
        "x1 + x2 <= 1", "2*x1 >= x2 + 3", "-x1 - 0.5*x2 >= -1e-3", "3*(x1 + x2) - n/2 <= 6",
        "2**3*x1 <= 9", "k - n >= -2",
    };
    hone_space_t *space = s_space();
    uint64_t lcg = 12345;
    size_t accepted = 0, refused = 0;
    for (int round = 0; round < 20000; round++) {
        char text[64];
        lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
        snprintf(text, sizeof text, "%s", seeds[(lcg >> 33) % HONE_ARRAY_LEN(seeds)]);
        for (int m = 0; m < 1 + round % 3; m++) {
            lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t len = strlen(text), at = (size_t) (lcg >> 33) % (len + 1);
            char c = alphabet[(lcg >> 17) % (sizeof alphabet - 1)];
            switch ((lcg >> 60) % 3) {
            case 0:   /* delete */
                if (at < len)
                    memmove(text + at, text + at + 1, len - at);
                break;
            case 1:   /* insert */
                if (len + 1 < sizeof text) {
                    memmove(text + at + 1, text + at, len - at + 1);
                    text[at] = c;
                }
                break;
            default:  /* replace */
                if (at < len)
                    text[at] = c;
                break;
            }
        }
        hone_constraint_set_t *set = hone_constraint_set_new(NP);
        hone_error_t err;
        hone_error_clear(&err);
        int rc = hone_constraint_set_add(set, space, text, &err);
        if (rc == HONE_OK) {
            accepted++;
            assert_true(isfinite(hone_constraint_set_bound(set, 0)));
            for (int j = 0; j < NP; j++)
                assert_true(isfinite(hone_constraint_set_weights(set, 0)[j]));
        } else {
            refused++;
            assert_int_equal(rc, HONE_EINVAL);
            assert_int_equal(strncmp(err.message, "parameter_constraints[0]: ", 26), 0);
        }
        hone_constraint_set_destroy(&set);
    }
    assert_true(accepted > 1000 && refused > 1000);
    hone_space_destroy(&space);
}

/* Nesting is bounded (expr.h), so a hostile string cannot exhaust the stack: 100 000
 * '(' are refused at once, at the first token one level too deep. */
static void test_deep_nesting(void **state)
{
    (void) state;
    enum { DEEP = 100000 };
    char *text = malloc(DEEP + 16);
    memset(text, '(', DEEP);
    text[DEEP] = '\0';
    clock_t t0 = clock();
    s_refuse(text, "at column 100 ('('): parentheses, signs and powers nest deeper than 100 levels");
    assert_true((double) (clock() - t0) / CLOCKS_PER_SEC < 1.0);
    /* 99 parentheses around x1 are fine, 100 put x1 one level too deep */
    size_t n = 0;
    for (int i = 0; i < 99; i++)
        text[n++] = '(';
    strcpy(text + n, "x1");
    n += 2;
    for (int i = 0; i < 99; i++)
        text[n++] = ')';
    strcpy(text + n, " <= 1");
    s_expect(text, (double[NP]) { [X1] = 1 }, 1);
    memmove(text + 1, text, strlen(text) + 1);
    strcat(text, ")");
    s_refuse(text, "at column 100 ('x1'): parentheses, signs and powers nest deeper than 100 levels");
    s_refuse("---------------------------------------------------------------------------------------------------"
             "--x1 <= 1", "at column 100 ('-'): parentheses, signs and powers nest deeper than 100 levels");
    free(text);
}

/* A constraint names at most n_params + 1 distinct names (the work per operator grows
 * with them); past that, one of them is unknown, and that is the message. */
static void test_many_names(void **state)
{
    (void) state;
    char text[512] = "";
    for (int i = 0; i < 20; i++)   /* the space of s_refuse has 14 parameters: at most 15 names */
        snprintf(text + strlen(text), sizeof text - strlen(text), "%sz%d", i ? " + " : "", i);
    strcat(text, " <= 1");
    s_refuse(text, "`z0` does not exist in search space.");
    char late[600] = "x1 + x2 + ";   /* known names first: the first unknown one is named */
    strcat(late, text);
    s_refuse(late, "`z0` does not exist in search space.");
    char syntax[600] = ") + ";        /* a syntax error before the cap still comes first */
    strcat(syntax, text);
    s_refuse_not_inequality(syntax);
    char nonlinear[600] = "x1*x2 + ";    /* and so does a non-linear term */
    strcat(nonlinear, text);
    s_refuse_nonlinear(nonlinear);
    /* a hostile string of 64 KiB, all distinct names: refused at once */
    enum { L = 64 << 10 };
    char *big = malloc(L + 32);
    size_t n = 0;
    for (int i = 0; n < L; i++)
        n += (size_t) sprintf(big + n, "%sa%d", i ? "+" : "", i);
    strcpy(big + n, "<=1");
    hone_space_t *space = s_space();
    hone_constraint_set_t *set = hone_constraint_set_new(NP);
    hone_error_t err;
    clock_t t0 = clock();
    assert_int_equal(hone_constraint_set_add(set, space, big, &err), HONE_EINVAL);
    assert_true((double) (clock() - t0) / CLOCKS_PER_SEC < 1.0);
    assert_string_equal(err.message, "parameter_constraints[0]: `a0` does not exist in search space.");
    hone_constraint_set_destroy(&set);
    hone_space_destroy(&space);
    free(big);
}

/* Overflow is reported at the operation that overflows, as in goals. */
static void test_overflow(void **state)
{
    (void) state;
    s_refuse("1e300*1e300*x1 <= 1", "a coefficient of '1e300*1e300*x1 <= 1' is not finite");
    s_refuse("1e308*x1 + 1e308*x1 <= 1", "a coefficient of '1e308*x1 + 1e308*x1 <= 1' is not finite");
    s_refuse("1e308*x1 <= -1e308*x1", "a coefficient of '1e308*x1 <= -1e308*x1' is not finite");   /* the sides */
    s_expect("x1/3 + x2/7 <= 1", (double[NP]) { [X1] = 1.0 / 3.0, [X2] = 1.0 / 7.0 }, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ax_examples),
        cmocka_unit_test(test_linear_forms),
        cmocka_unit_test(test_not_an_inequality),
        cmocka_unit_test(test_nonlinear),
        cmocka_unit_test(test_other_expression_errors),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_parameter_kinds),
        cmocka_unit_test(test_feasibility_tolerance),
        cmocka_unit_test(test_center),
        cmocka_unit_test(test_center_neighbours),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_many_names),
        cmocka_unit_test(test_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
