#define _GNU_SOURCE
/* Experiments with several goals, run in-process through the core API: the acquisition
 * each step chooses (qLogPF, constrained qLogNEI, qLogNEHVI, qLogNParEGO), that a
 * constrained run never reports an infeasible best point, relative constraints against
 * a baseline, a scalarized objective, and the Pareto frontier's order and volume. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment.h"
#include "experiment_check.h"
#include "pareto.h"

#define S_PI 3.14159265358979323846

/* |a − b| <= tol, with both values in the message (cmocka 1.1 has no double assert). */
#define assert_double_equal(a, b, tol) s_assert_near((a), (b), (tol), __LINE__)
static void s_assert_near(double a, double b, double tol, int line)
{
    if (!(fabs(a - b) <= tol))
        fail_msg("line %d: %.17g and %.17g differ by more than %g", line, a, b, tol);
}

static double s_param(const hone_experiment_t *e, uint32_t trial, const char *name)
{
    const hone_space_t *space = hone_experiment_space(e);
    int at = hone_space_find(space, name);
    assert_true(at >= 0);
    return hone_value_as_double(&hone_experiment_trial(e, trial)->params[at]);
}

/* Attaches n readings (names[i] = values[i]) and completes the trial. */
static void s_complete(hone_experiment_t *e, uint32_t trial, size_t n, const char *const *names,
                       const double *values)
{
    hone_reading_in_t r[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        r[i] = (hone_reading_in_t) { .metric = names[i], .mean = values[i], .sem = NAN };
    hone_error_t err;
    hone_error_clear(&err);
    if (hone_experiment_attach(e, trial, r, n, false, 0, false, &err) != HONE_OK)
        fail_msg("attach: %s", err.message);
    if (hone_experiment_mark(e, trial, HONE_TRIAL_COMPLETED, NULL, &err) != HONE_OK)
        fail_msg("mark: %s", err.message);
}

static double s_branin(double x1, double x2)
{
    double b = 5.1 / (4 * S_PI * S_PI), c = 5 / S_PI, t = 1 / (8 * S_PI);
    double u = x2 - b * x1 * x1 + c * x1 - 6;
    return u * u + 10 * (1 - t) * cos(x1) + 10;
}

static double s_disc(double x1, double x2)
{
    return (x1 - 2.5) * (x1 - 2.5) + (x2 - 7.5) * (x2 - 7.5);
}

/* Branin subject to a disc (bench/functions.h's branin_disc): the steps after the
 * initialization use constrained qLogNEI, and after every trial the best point, from the
 * raw path and the model path alike, is a trial observed to satisfy the constraint. */
static void test_constrained_best_never_infeasible(void **state)
{
    (void) state;
    hone_experiment_t *e = exp_check_new("{\"name\":\"bd\",\"parameters\":[{\"name\":\"x1\",\"bounds\":[-5,10]},"
                                 "{\"name\":\"x2\",\"bounds\":[0,15]}],\"objective\":\"-branin\","
                                 "\"outcome_constraints\":[\"disc <= 50\"],\"max_trials\":22}", 3);
    const char *names[] = { "branin", "disc" };
    double best_feasible = INFINITY;
    size_t bo_steps = 0;
    for (int i = 0; i < 22; i++) {
        uint32_t t = exp_check_one(e);
        double x1 = s_param(e, t, "x1"), x2 = s_param(e, t, "x2");
        double v[2] = { s_branin(x1, x2), s_disc(x1, x2) };
        const char *note = hone_experiment_trial(e, t)->note;
        if (strncmp(note, "bo", 2) == 0) {
            assert_string_equal(note, "bo (qlognei)");
            bo_steps++;
        }
        s_complete(e, t, 2, names, v);
        if (v[1] <= 50 && v[0] < best_feasible)
            best_feasible = v[0];
        for (int use_model = 0; use_model < 2; use_model++) {
            hone_best_point_t b;
            hone_error_t err;
            hone_error_clear(&err);
            int rc = hone_experiment_best_ex(e, use_model, &b, &err);
            if (isinf(best_feasible)) {
                assert_int_equal(rc, HONE_EDATA);
                continue;
            }
            assert_int_equal(rc, HONE_OK);
            double bx1 = s_param(e, b.trial, "x1"), bx2 = s_param(e, b.trial, "x2");
            assert_true(s_disc(bx1, bx2) <= 50);
            if (!use_model)
                assert_double_equal(b.mean, best_feasible, 0);
        }
    }
    assert_int_equal(bo_steps, 22 - 5);
    /* The constraint is learned, not ignored: the unconstrained Branin minima outside
     * the disc are as good (0.398) but only the one inside counts. */
    assert_true(best_feasible < 0.6);
    hone_experiment_destroy(&e);
}

/* A feasible region of about 1% of the box, bounded from below (so the ">=" mapping into
 * the model's units is what finds it): the initialization misses it, the steps use
 * qLogPF until a feasible point is observed, then qLogNEI. */
static void test_probability_of_feasibility_first(void **state)
{
    (void) state;
    hone_experiment_t *e = exp_check_new("{\"name\":\"pf\",\"parameters\":[{\"name\":\"x1\",\"bounds\":[0,1]},"
                                 "{\"name\":\"x2\",\"bounds\":[0,1]}],\"objective\":\"y\","
                                 "\"outcome_constraints\":[\"c >= 1.9\"]}", 11);
    const char *names[] = { "y", "c" };
    bool feasible_seen = false, pf_used = false;
    int found_at = -1;
    for (int i = 0; i < 20 && !(feasible_seen && pf_used); i++) {
        uint32_t t = exp_check_one(e);
        double x1 = s_param(e, t, "x1"), x2 = s_param(e, t, "x2");
        double c = x1 * x1 + x2 * x2;
        const char *note = hone_experiment_trial(e, t)->note;
        if (strncmp(note, "bo", 2) == 0) {
            assert_string_equal(note, feasible_seen ? "bo (qlognei)" : "bo (qlogpf)");
            pf_used = pf_used || !feasible_seen;
        }
        double v[2] = { x1 + x2, c };
        s_complete(e, t, 2, names, v);
        if (!feasible_seen && c >= 1.9)
            found_at = i;
        feasible_seen = feasible_seen || c >= 1.9;
    }
    assert_true(pf_used);
    /* within 3 steps of qLogPF (it takes 1 here); random search needs about 100 */
    assert_true(feasible_seen && found_at >= 5 && found_at <= 7);
    hone_experiment_destroy(&e);
}

/* A constraint metric nobody reports: no trial counts as observed (Ax's rule: data for
 * every metric of the goals), so BO never starts and the Sobol trials say why. */
static void test_missing_constraint_metric(void **state)
{
    (void) state;
    hone_experiment_t *e = exp_check_new("{\"name\":\"miss\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}],"
                                         "\"objective\":\"y\",\"outcome_constraints\":[\"c <= 1\"]}", 5);
    const char *names[] = { "y" };
    for (int i = 0; i < 6; i++) {
        uint32_t t = exp_check_one(e);
        double v[1] = { s_param(e, t, "x") };
        s_complete(e, t, 1, names, v);
    }
    const char *note = hone_experiment_trial(e, 5)->note;
    assert_string_equal(note, "sobol (initialization budget reached, waiting for data)");
    hone_experiment_destroy(&e);
}

/* "qps >= 0.9 * baseline": no bound without the baseline's data (steps fall back to Sobol
 * and say why; best says what is missing), then sq + |sq|·(−10)/100 from its reading. */
static void test_relative_constraint_with_baseline(void **state)
{
    (void) state;
    hone_experiment_t *e = exp_check_new("{\"name\":\"rel\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}],"
                                 "\"objective\":\"-loss\",\"outcome_constraints\":[\"qps >= 0.9 * baseline\"],"
                                 "\"generation_strategy\":{\"initialization_budget\":2}}", 5);
    double bounds[1];
    hone_error_t err;
    hone_error_clear(&err);
    assert_int_equal(hone_experiment_goal_bounds(e, bounds, NULL, &err), HONE_EDATA);
    assert_non_null(strstr(err.message, "attach_baseline"));
    const char *names[] = { "loss", "qps" };
    /* loss falls with x, qps too: the constraint caps x */
    for (int i = 0; i < 3; i++) {
        uint32_t t = exp_check_one(e);
        double x = s_param(e, t, "x");
        double v[2] = { 1 - x, 100 * (1 - x) };
        s_complete(e, t, 2, names, v);
    }
    const char *note = hone_experiment_trial(e, 2)->note;
    assert_non_null(strstr(note, "sobol (fallback:"));
    assert_non_null(strstr(note, "baseline"));
    hone_best_point_t b;
    assert_int_equal(hone_experiment_best_ex(e, false, &b, &err), HONE_EDATA);

    hone_value_t params[1] = { hone_value_float(0.5) };
    uint32_t base = 0;
    assert_int_equal(hone_experiment_attach_baseline(e, params, &base, &err), HONE_OK);
    assert_int_equal(hone_experiment_baseline(e), base);
    assert_string_equal(hone_experiment_trial(e, base)->note, HONE_BASELINE_NOTE);
    hone_value_t again[1] = { hone_value_float(0.25) };
    assert_int_equal(hone_experiment_attach_baseline(e, again, NULL, &err), HONE_EEXIST);
    assert_int_equal(hone_experiment_goal_bounds(e, bounds, NULL, &err), HONE_EDATA);
    double v[2] = { 0.5, 50 };
    s_complete(e, base, 2, names, v);
    assert_int_equal(hone_experiment_goal_bounds(e, bounds, NULL, &err), HONE_OK);
    assert_double_equal(bounds[0], 45.0, 1e-12);
    /* the best point is the lowest loss among trials with qps >= 45, i.e. x <= 0.55 */
    for (int i = 0; i < 6; i++) {
        uint32_t t = exp_check_one(e);
        assert_non_null(strstr(hone_experiment_trial(e, t)->note, "bo (qlognei)"));
        double x = s_param(e, t, "x");
        double w[2] = { 1 - x, 100 * (1 - x) };
        s_complete(e, t, 2, names, w);
    }
    double best_x = -1;
    for (size_t i = 0; i < hone_experiment_trial_count(e); i++) {
        double x = s_param(e, (uint32_t) i, "x");
        if (100 * (1 - x) >= 45 && x > best_x)
            best_x = x;
    }
    for (int use_model = 0; use_model < 2; use_model++) {
        assert_int_equal(hone_experiment_best_ex(e, use_model, &b, &err), HONE_OK);
        assert_true(100 * (1 - s_param(e, b.trial, "x")) >= 45);
        if (!use_model)
            assert_double_equal(s_param(e, b.trial, "x"), best_x, 0);
    }
    assert_true(best_x > 0.5);   /* the steps went to the constraint's edge at 0.55 */

    /* a negative baseline: −100 and −10% give −110 */
    hone_experiment_t *n = exp_check_new("{\"name\":\"neg\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}],"
                                 "\"objective\":\"-loss\",\"outcome_constraints\":[\"qps >= 0.9 * baseline\"]}", 5);
    assert_int_equal(hone_experiment_attach_baseline(n, params, &base, &err), HONE_OK);
    double nv[2] = { 1, -100 };
    s_complete(n, base, 2, names, nv);
    assert_int_equal(hone_experiment_goal_bounds(n, bounds, NULL, &err), HONE_OK);
    assert_double_equal(bounds[0], -110.0, 1e-12);
    /* the baseline survives a snapshot (as it does a reload: it is known by its note) */
    hone_experiment_t *snap = hone_experiment_snapshot(n, false);
    assert_int_equal(hone_experiment_baseline(snap), base);
    hone_experiment_destroy(&snap);
    hone_experiment_destroy(&n);
    hone_experiment_destroy(&e);
}

/* "a + 2*b" with a = −(x − 0.3)², b = −(x − 0.7)²: the weighted optimum is x = 17/30. */
static void test_scalarized_objective(void **state)
{
    (void) state;
    hone_experiment_t *e = exp_check_new("{\"name\":\"sc\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}],"
                                 "\"objective\":\"a + 2*b\",\"max_trials\":14}", 2);
    assert_string_equal(hone_experiment_objective_label(e, 0), "a + 2*b");
    const char *names[] = { "a", "b" };
    for (int i = 0; i < 14; i++) {
        uint32_t t = exp_check_one(e);
        double x = s_param(e, t, "x");
        double v[2] = { -(x - 0.3) * (x - 0.3), -(x - 0.7) * (x - 0.7) };
        s_complete(e, t, 2, names, v);
    }
    hone_best_point_t b;
    hone_error_t err;
    assert_int_equal(hone_experiment_best_ex(e, false, &b, &err), HONE_OK);
    double x = s_param(e, b.trial, "x");
    assert_true(fabs(x - 17.0 / 30.0) < 0.02);
    double a = -(x - 0.3) * (x - 0.3), bb = -(x - 0.7) * (x - 0.7);
    assert_double_equal(b.mean, a + 2 * bb, 1e-12);
    /* the model path models the weighted sum: its mean there is the sum's */
    assert_int_equal(hone_experiment_best_ex(e, true, &b, &err), HONE_OK);
    assert_int_equal(b.source, HONE_BEST_MODEL);
    x = s_param(e, b.trial, "x");
    assert_true(fabs(x - 17.0 / 30.0) < 0.02);
    assert_double_equal(b.mean, -(x - 0.3) * (x - 0.3) - 2 * (x - 0.7) * (x - 0.7), 1e-3);
    hone_experiment_destroy(&e);
}

/* Two objectives: qLogNEHVI after the initialization, a frontier that is the
 * non-dominated set of the observed points ordered by contribution, and a run whose
 * front improves on its initialization's. Five objectives: qLogNParEGO. */
static void test_several_objectives(void **state)
{
    (void) state;
    /* a = x², b = (x − 1)² + y: the front is y = 0, x in [0, 1] */
    hone_experiment_t *e = exp_check_new("{\"name\":\"mo\",\"parameters\":[{\"name\":\"x\",\"bounds\":[-1,2]},"
                                 "{\"name\":\"y\",\"bounds\":[0,1]}],\"objective\":\"-a, -b\","
                                 "\"objective_thresholds\":[\"a <= 4\", \"b <= 4\"]}", 9);
    const char *names[] = { "a", "b" };
    double hv_init = 0;
    for (int i = 0; i < 16; i++) {
        uint32_t t = exp_check_one(e);
        if (i >= 5)
            assert_string_equal(hone_experiment_trial(e, t)->note, "bo (qlognehvi)");
        double x = s_param(e, t, "x"), y = s_param(e, t, "y");
        double v[2] = { x * x, (x - 1) * (x - 1) + y };
        s_complete(e, t, 2, names, v);
        if (i == 4) {
            hone_frontier_t f;
            hone_error_t err;
            assert_int_equal(hone_experiment_pareto(e, false, &f, &err), HONE_OK);
            hv_init = f.hypervolume;
            hone_frontier_clear(&f);
        }
    }
    hone_frontier_t f;
    hone_error_t err;
    assert_int_equal(hone_experiment_pareto(e, false, &f, &err), HONE_OK);
    assert_int_equal(f.source, HONE_BEST_RAW);
    assert_false(f.ref_inferred);
    assert_double_equal(f.ref[0], 4, 0);
    assert_double_equal(f.ref[1], 4, 0);
    /* the frontier is exactly the observed non-dominated set, by decreasing contribution */
    size_t n = hone_experiment_trial_count(e);
    double *y = calloc(n * 2, sizeof(double));
    size_t *idx = calloc(n, sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        double m;
        assert_true(hone_experiment_objective_value(e, hone_experiment_trial(e, (uint32_t) i), 0, &m, NULL));
        y[2 * i] = -m;
        assert_true(hone_experiment_objective_value(e, hone_experiment_trial(e, (uint32_t) i), 1, &m, NULL));
        y[2 * i + 1] = -m;
    }
    size_t k = hone_pareto_front(y, n, 2, NULL, false, idx);
    assert_int_equal(f.n_points, k);
    double ref[2] = { -4, -4 };
    assert_double_equal(f.hypervolume, hone_pareto_hypervolume(y, n, 2, ref), 1e-12);
    for (size_t j = 0; j < f.n_points; j++) {
        const hone_trial_t *t = hone_experiment_trial(e, f.trials[j]);
        double m;
        assert_true(hone_experiment_objective_value(e, t, 0, &m, NULL));
        assert_double_equal(f.values[2 * j], m, 0);
        if (j > 0)
            assert_true(f.contributions[j] <= f.contributions[j - 1]);
    }
    /* the front's volume within [0,4]²... grows well past the initialization's */
    assert_true(f.hypervolume > hv_init + 0.5);
    assert_true(f.hypervolume > 12.0);   /* the true front's volume is 13.33 */
    hone_frontier_clear(&f);
    /* the model path answers too, and best refuses a multi-objective experiment */
    assert_int_equal(hone_experiment_pareto(e, true, &f, &err), HONE_OK);
    assert_int_equal(f.source, HONE_BEST_MODEL);
    assert_true(f.n_points >= 1);
    hone_frontier_clear(&f);
    hone_best_point_t b;
    assert_int_equal(hone_experiment_best_ex(e, false, &b, &err), HONE_EINVAL);
    hone_experiment_destroy(&e);

    /* a front point beyond a given threshold leaves the frontier; beyond an inferred one
     * it stays, with no volume */
    e = exp_check_new("{\"name\":\"thr\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}],"
                      "\"objective\":\"-a, -b\",\"objective_thresholds\":[\"a <= 4\"],"
                      "\"generation_strategy\":{\"method\":\"random_search\"}}", 1);
    double pts[3][2] = { { 1, 1 }, { 5, 0.5 }, { 0.5, 9 } };
    for (int i = 0; i < 3; i++)
        s_complete(e, exp_check_one(e), 2, names, pts[i]);
    assert_int_equal(hone_experiment_pareto(e, false, &f, &err), HONE_OK);
    assert_int_equal(f.n_points, 2);   /* trial 1 (a = 5 > 4) is out */
    assert_true(f.trials[0] != 1 && f.trials[1] != 1);
    assert_true(f.ref_inferred);
    hone_frontier_clear(&f);
    hone_experiment_destroy(&e);

    /* the same front with the second objective scalarized, "-b - c" (b = (x − 1)², c = y):
     * modelled as one GP of the sum, the steps are qLogNEHVI steps, not fallbacks */
    e = exp_check_new("{\"name\":\"mos\",\"parameters\":[{\"name\":\"x\",\"bounds\":[-1,2]},"
                      "{\"name\":\"y\",\"bounds\":[0,1]}],\"objective\":\"-a, -b - c\"}", 9);
    assert_string_equal(hone_experiment_objective_label(e, 1), "-b - c");
    const char *three[] = { "a", "b", "c" };
    for (int i = 0; i < 12; i++) {
        uint32_t t = exp_check_one(e);
        if (i >= 5)
            assert_string_equal(hone_experiment_trial(e, t)->note, "bo (qlognehvi)");
        double x = s_param(e, t, "x"), yy = s_param(e, t, "y");
        double v[3] = { x * x, (x - 1) * (x - 1), yy };
        s_complete(e, t, 3, three, v);
    }
    assert_int_equal(hone_experiment_pareto(e, false, &f, &err), HONE_OK);
    assert_false(hone_goals_objective(hone_experiment_goals(e), 1)->minimize);   /* maximized sum */
    for (size_t j = 0; j < f.n_points; j++)
        assert_true(f.values[2 * j + 1] <= 0);   /* −b − c, in its own sign */
    hone_frontier_clear(&f);
    hone_experiment_destroy(&e);

    e = exp_check_new("{\"name\":\"five\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]},{\"name\":\"y\","
              "\"bounds\":[0,1]}],\"objective\":\"-f1, -f2, -f3, -f4, -f5\"}", 4);
    const char *five[] = { "f1", "f2", "f3", "f4", "f5" };
    for (int i = 0; i < 7; i++) {
        uint32_t t = exp_check_one(e);
        if (i >= 5)
            assert_string_equal(hone_experiment_trial(e, t)->note, "bo (qlognparego)");
        double x = s_param(e, t, "x"), yy = s_param(e, t, "y");
        double v[5] = { x, 1 - x, yy, 1 - yy, (x - 0.5) * (x - 0.5) };
        s_complete(e, t, 5, five, v);
    }
    assert_int_equal(hone_experiment_pareto(e, false, &f, &err), HONE_OK);
    assert_true(f.ref_inferred);
    hone_frontier_clear(&f);
    free(y);
    free(idx);
    hone_experiment_destroy(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constrained_best_never_infeasible),
        cmocka_unit_test(test_probability_of_feasibility_first),
        cmocka_unit_test(test_missing_constraint_metric),
        cmocka_unit_test(test_relative_constraint_with_baseline),
        cmocka_unit_test(test_scalarized_objective),
        cmocka_unit_test(test_several_objectives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
