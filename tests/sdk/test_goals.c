/* Tests of several goals end to end: the C SDK against the real hone-broker program (a
 * child on an ipc:// endpoint in a temporary directory), through `pareto`,
 * `attach_baseline`, `best` and `status`:
 *  - the raw Pareto frontier is exactly the non-dominated feasible trials (an infeasible
 *    trial that would dominate them all and a dominated one are left out), by
 *    decreasing contribution, with the hypervolume and contributions of the staircase
 *    computed here from the data attached;
 *  - the model path runs (on the broker's generator thread for method "fast");
 *  - pareto on a single objective and best on several are HONE_EINVAL; status still
 *    answers, without a best point;
 *  - best names a scalarized objective by its label;
 *  - a relative constraint needs the baseline's data (HONE_EDATA), then best is the best
 *    feasible trial; the baseline survives a broker restart, and a second one is
 *    HONE_EEXIST. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hone.h"
#include "proc.h"
#include "sdk_peers.h"
#include "test_support.h"

/* The group's hone-broker child, on ipc://DIR/broker.sock. */
static hone_test_broker_t *s_broker;

static int s_group_setup(void **state)
{
    (void) state;
    return hone_test_broker_open(&s_broker, "goals", HONE_TEST_IPC);
}

static int s_group_teardown(void **state)
{
    (void) state;
    hone_test_broker_destroy(&s_broker);
    return 0;
}

/* A client with one attempt of 10 s (model fits included). */
static hone_client_t *s_client(void)
{
    return hone_test_client(s_broker->endpoint, 10000, 0);
}

/* Creates experiment name over x1, x2 in [0, 1] with the goals given as JSON members. */
static void s_create(hone_client_t *c, const char *name, const char *method, const char *goals)
{
    char config[1024];
    snprintf(config, sizeof config,
             "{\"name\": \"%s\", \"parameters\": ["
             "{\"name\": \"x1\", \"bounds\": [0, 1], \"parameter_type\": \"float\"},"
             "{\"name\": \"x2\", \"bounds\": [0, 1], \"parameter_type\": \"float\"}], %s,"
             " \"generation_strategy\": {\"method\": \"%s\", \"initialization_random_seed\": 7}}",
             name, goals, method);
    hone_test_create(c, config, name);
}

/* Asks for n trials, which must be indices first .. first + n - 1. */
static void s_next(hone_client_t *c, const char *name, uint32_t n, uint64_t first)
{
    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_next_trials(c, name, n, &list), HONE_OK);
    assert_int_equal(hone_trial_list_count(list), n);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(hone_trial_index(hone_trial_list_at(list, i)), first + i);
    hone_trial_list_destroy(&list);
}

/* ---- the frontier computed by hand: minimize a and b, c <= 5 ---- */

typedef struct {
    double a, b, c;
} s_reading_t;

static const s_reading_t s_data[] = {
    { 1.0, 5.0, 1.0 },      /* 0: on the frontier */
    { 2.0, 3.0, 2.0 },      /* 1: on the frontier */
    { 4.0, 1.0, 5.0 },      /* 2: on the frontier (c at the bound is feasible) */
    { 0.5, 0.5, 9.0 },      /* 3: would dominate every trial, but breaks c <= 5 */
    { 3.0, 4.0, 1.0 },      /* 4: dominated by trial 1 */
};
#define S_N_DATA (sizeof s_data / sizeof s_data[0])

static bool s_dominates(const s_reading_t *p, const s_reading_t *q)
{
    return p->a <= q->a && p->b <= q->b && (p->a < q->a || p->b < q->b);
}

/* The feasible non-dominated trials of s_data. */
static size_t s_front(size_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < S_N_DATA; i++) {
        if (s_data[i].c > 5.0)
            continue;
        bool dominated = false;
        for (size_t j = 0; j < S_N_DATA && !dominated; j++)
            dominated = s_data[j].c <= 5.0 && s_dominates(&s_data[j], &s_data[i]);
        if (!dominated)
            out[n++] = i;
    }
    return n;
}

/* The area the trials front[0..n) dominate below ref, as a staircase: sorted by a, each
 * point adds the strip from its a to the next point's a (ref_a for the last), from its
 * b up to ref_b. */
static double s_staircase(const size_t *front, size_t n, double ref_a, double ref_b)
{
    size_t order[S_N_DATA];
    memcpy(order, front, n * sizeof *order);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && s_data[order[j]].a < s_data[order[j - 1]].a; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    double area = 0;
    for (size_t i = 0; i < n; i++) {
        double next_a = i + 1 < n ? s_data[order[i + 1]].a : ref_a;
        area += (next_a - s_data[order[i]].a) * (ref_b - s_data[order[i]].b);
    }
    return area;
}

static void test_pareto_raw_is_the_feasible_staircase(void **state)
{
    (void) state;
    hone_client_t *c = s_client();
    s_create(c, "mo", "random_search",
             "\"objective\": \"-a, -b\", \"objective_thresholds\": [\"a <= 10\"], "
             "\"outcome_constraints\": [\"c <= 5\"]");
    hone_pareto_t *p = (hone_pareto_t *) 1;
    assert_int_equal(hone_client_pareto(c, "mo", false, &p), HONE_EDATA);   /* no data yet */
    assert_null(p);
    s_next(c, "mo", S_N_DATA, 0);
    const char *names[] = { "a", "b", "c" };
    for (size_t i = 0; i < S_N_DATA; i++) {
        double means[] = { s_data[i].a, s_data[i].b, s_data[i].c };
        assert_int_equal(hone_client_complete(c, "mo", i, 3, names, means, NULL), HONE_OK);
    }

    size_t front[S_N_DATA];
    size_t n = s_front(front);
    assert_int_equal(n, 3);     /* trials 0, 1, 2: not 3 (infeasible), not 4 (dominated) */
    /* The reference point: the threshold for a; b inferred as Ax does, the nadir pushed
     * out by a tenth of the front's range. */
    double b_min = INFINITY, b_max = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        b_min = fmin(b_min, s_data[front[i]].b);
        b_max = fmax(b_max, s_data[front[i]].b);
    }
    double ref_a = 10.0, ref_b = b_max + 0.1 * (b_max - b_min);
    double hv = s_staircase(front, n, ref_a, ref_b);

    assert_int_equal(hone_client_pareto(c, "mo", false, &p), HONE_OK);
    assert_string_equal(hone_pareto_source(p), "raw");
    assert_int_equal(hone_pareto_objective_count(p), 2);
    assert_string_equal(hone_pareto_objective(p, 0), "a");
    assert_string_equal(hone_pareto_objective(p, 1), "b");
    assert_null(hone_pareto_objective(p, 2));
    assert_true(hone_pareto_minimize(p, 0) && hone_pareto_minimize(p, 1));
    assert_true(hone_pareto_ref(p, 0) == ref_a);
    assert_true(fabs(hone_pareto_ref(p, 1) - ref_b) < 1e-9);
    assert_true(hone_pareto_ref_inferred(p));
    assert_true(hone_pareto_hypervolume(p) > 0);
    assert_true(fabs(hone_pareto_hypervolume(p) - hv) < 1e-9);
    assert_true(fabs(hv - 31.6) < 1e-9);   /* 0.4 + 2 × 2.4 + 6 × 4.4, as in the data's comment */

    assert_int_equal(hone_pareto_count(p), n);
    bool seen[S_N_DATA] = { false };
    for (size_t i = 0; i < hone_pareto_count(p); i++) {
        uint64_t t = hone_pareto_trial_index(p, i);
        assert_true(t < S_N_DATA && !seen[t]);
        seen[t] = true;
        bool expected = false;
        for (size_t j = 0; j < n; j++)
            expected = expected || front[j] == t;
        assert_true(expected);
        assert_true(hone_pareto_value(p, i, 0) == s_data[t].a);
        assert_true(hone_pareto_value(p, i, 1) == s_data[t].b);
        assert_true(isnan(hone_pareto_sem(p, i, 0)) && isnan(hone_pareto_sem(p, i, 1)));
        assert_int_equal(hone_trial_index(hone_pareto_trial(p, i)), t);
        assert_int_equal(hone_trial_param_count(hone_pareto_trial(p, i)), 2);
        /* Its exclusive contribution: what the frontier's staircase loses without it. */
        size_t rest[S_N_DATA], n_rest = 0;
        for (size_t j = 0; j < n; j++)
            if (front[j] != t)
                rest[n_rest++] = front[j];
        double contribution = hv - s_staircase(rest, n_rest, ref_a, ref_b);
        assert_true(fabs(hone_pareto_contribution(p, i) - contribution) < 1e-9);
        if (i > 0)
            assert_true(hone_pareto_contribution(p, i) <= hone_pareto_contribution(p, i - 1));
    }
    /* The order by hand: trial 2 (12), trial 1 (4), trial 0 (0.4). */
    assert_int_equal(hone_pareto_trial_index(p, 0), 2);
    assert_int_equal(hone_pareto_trial_index(p, 1), 1);
    assert_int_equal(hone_pareto_trial_index(p, 2), 0);
    assert_true(isnan(hone_pareto_value(p, 3, 0)));
    hone_pareto_destroy(&p);
    assert_null(p);

    /* random_search has no model: use_model answers from the raw means too */
    assert_int_equal(hone_client_pareto(c, "mo", true, &p), HONE_OK);
    assert_string_equal(hone_pareto_source(p), "raw");
    assert_int_equal(hone_pareto_count(p), n);
    hone_pareto_destroy(&p);

    /* several objectives: best refuses, status answers without a best point */
    hone_best_t *best = (hone_best_t *) 1;
    assert_int_equal(hone_client_best(c, "mo", &best), HONE_EINVAL);
    assert_null(best);
    assert_non_null(strstr(hone_client_last_error(c), "pareto"));
    hone_status_t *st = NULL;
    assert_int_equal(hone_client_status(c, "mo", &st), HONE_OK);
    assert_int_equal(hone_status_count(st, "COMPLETED"), S_N_DATA);
    assert_int_equal(hone_status_best(st, NULL, NULL), HONE_ENOTFOUND);
    assert_string_equal(hone_status_objective(st), "-a, -b");   /* the whole objective */
    hone_status_destroy(&st);
    hone_client_destroy(&c);
}

/* Method "fast": the model path fits a GP per objective metric on the generator
 * thread; its frontier is made of feasible trials. */
static void test_pareto_model_path(void **state)
{
    (void) state;
    hone_client_t *c = s_client();
    s_create(c, "mo_fast", "fast",
             "\"objective\": \"-a, -b\", \"outcome_constraints\": [\"c <= 5\"]");
    s_next(c, "mo_fast", S_N_DATA, 0);
    const char *names[] = { "a", "b", "c" };
    for (size_t i = 0; i < S_N_DATA; i++) {
        double means[] = { s_data[i].a, s_data[i].b, s_data[i].c };
        double sems[] = { 0.1, 0.1, 0.1 };
        assert_int_equal(hone_client_complete(c, "mo_fast", i, 3, names, means, sems), HONE_OK);
    }
    hone_pareto_t *p = NULL;
    assert_int_equal(hone_client_pareto(c, "mo_fast", true, &p), HONE_OK);
    assert_string_equal(hone_pareto_source(p), "model");
    assert_true(hone_pareto_count(p) >= 1);
    for (size_t i = 0; i < hone_pareto_count(p); i++) {
        uint64_t t = hone_pareto_trial_index(p, i);
        assert_true(t < S_N_DATA && s_data[t].c <= 5.0);
        assert_true(isfinite(hone_pareto_value(p, i, 0)) && hone_pareto_sem(p, i, 0) >= 0);
    }
    assert_true(hone_pareto_hypervolume(p) >= 0);
    hone_pareto_destroy(&p);
    assert_int_equal(hone_client_pareto(c, "mo_fast", false, &p), HONE_OK);
    assert_string_equal(hone_pareto_source(p), "raw");
    assert_int_equal(hone_pareto_count(p), 3);
    assert_true(fabs(hone_pareto_sem(p, 0, 0) - 0.1) < 1e-12);
    hone_pareto_destroy(&p);
    hone_client_destroy(&c);
}

static void test_single_objective_answers(void **state)
{
    (void) state;
    hone_client_t *c = s_client();
    s_create(c, "scalar", "random_search", "\"objective\": \"ne1 + 2*ne2\"");
    s_next(c, "scalar", 1, 0);
    const char *names[] = { "ne1", "ne2" };
    double means[] = { 1.0, 2.0 };
    assert_int_equal(hone_client_complete(c, "scalar", 0, 2, names, means, NULL), HONE_OK);
    hone_pareto_t *p = (hone_pareto_t *) 1;
    assert_int_equal(hone_client_pareto(c, "scalar", true, &p), HONE_EINVAL);
    assert_null(p);
    assert_non_null(strstr(hone_client_last_error(c), "single objective"));
    hone_best_t *best = NULL;
    assert_int_equal(hone_client_best(c, "scalar", &best), HONE_OK);
    assert_string_equal(hone_best_metric(best), "ne1 + 2*ne2");   /* the label, not metric 0 */
    assert_true(hone_best_value(best) == 5.0);
    assert_false(hone_best_minimize(best));
    hone_best_destroy(&best);
    assert_int_equal(hone_client_pareto(c, "no_such", false, &p), HONE_ENOTFOUND);
    assert_int_equal(hone_client_pareto(c, "scalar", false, NULL), HONE_EINVAL);
    hone_client_destroy(&c);
}

/* Best point of "rel": trial `want` with loss `value`, raw. */
static void s_expect_best(hone_client_t *c, uint64_t want, double value)
{
    hone_best_t *best = NULL;
    assert_int_equal(hone_client_best(c, "rel", &best), HONE_OK);
    assert_int_equal(hone_best_trial_index(best), want);
    assert_string_equal(hone_best_metric(best), "loss");
    assert_true(hone_best_value(best) == value);
    assert_true(hone_best_minimize(best));
    hone_best_destroy(&best);
}

static hone_points_t *s_point(double x1, double x2)
{
    hone_points_t *points = NULL;
    assert_int_equal(hone_points_new(&points), HONE_OK);
    assert_int_equal(hone_points_add(points), HONE_OK);
    assert_int_equal(hone_points_set_double(points, "x1", x1), HONE_OK);
    assert_int_equal(hone_points_set_double(points, "x2", x2), HONE_OK);
    return points;
}

/* Restarts the broker on its store and reconnects *c. */
static void s_restart(hone_client_t **c)
{
    hone_client_destroy(c);
    hone_test_broker_stop(s_broker, SIGTERM);
    assert_int_equal(hone_test_broker_start(s_broker, NULL), 0);
    *c = s_client();
}

static void test_relative_constraint_and_baseline(void **state)
{
    (void) state;
    hone_client_t *c = s_client();
    s_create(c, "rel", "random_search",
             "\"objective\": \"-loss\", \"outcome_constraints\": [\"qps >= 0.9 * baseline\"]");
    s_next(c, "rel", 3, 0);
    const char *names[] = { "loss", "qps" };
    static const double data[][2] = { { 1.0, 100.0 }, { 0.5, 80.0 }, { 0.8, 95.0 } };
    for (uint64_t i = 0; i < 3; i++)
        assert_int_equal(hone_client_complete(c, "rel", i, 2, names, data[i], NULL), HONE_OK);
    hone_best_t *best = (hone_best_t *) 1;
    assert_int_equal(hone_client_best(c, "rel", &best), HONE_EDATA);   /* no baseline */
    assert_null(best);
    assert_non_null(strstr(hone_client_last_error(c), "baseline"));

    /* refused before sending, then by the broker */
    uint64_t trial = 99;
    hone_points_t *none = NULL;
    assert_int_equal(hone_points_new(&none), HONE_OK);
    assert_int_equal(hone_client_attach_baseline(c, "rel", none, &trial), HONE_EINVAL);
    hone_points_destroy(&none);
    hone_points_t *outside = s_point(1.5, 0.5);
    assert_int_equal(hone_client_attach_baseline(c, "rel", outside, &trial), HONE_EINVAL);
    assert_true(strncmp(hone_client_last_error(c), "params: ", 8) == 0);
    assert_non_null(strstr(hone_client_last_error(c), "x1"));
    hone_points_destroy(&outside);
    hone_points_t *params = s_point(0.3, 0.7);
    assert_int_equal(hone_client_attach_baseline(c, "no_such", params, &trial), HONE_ENOTFOUND);

    assert_int_equal(hone_client_attach_baseline(c, "rel", params, &trial), HONE_OK);
    assert_int_equal(trial, 3);
    /* acknowledged means stored: a restart at once still has the trial, the baseline */
    s_restart(&c);
    assert_int_equal(hone_client_attach_baseline(c, "rel", params, &trial), HONE_EEXIST);
    assert_non_null(strstr(hone_client_last_error(c), "trial 3"));
    hone_trial_t *t = NULL;
    assert_int_equal(hone_client_trial(c, "rel", 3, false, &t), HONE_OK);
    assert_string_equal(hone_trial_note(t), "baseline");
    assert_string_equal(hone_trial_status(t), "RUNNING");
    hone_trial_destroy(&t);
    assert_int_equal(hone_client_best(c, "rel", &best), HONE_EDATA);   /* its data is missing */
    assert_non_null(strstr(hone_client_last_error(c), "trial 3"));

    /* qps >= 90: trial 1 (loss 0.5, qps 80) is better but infeasible; trial 2 wins */
    double baseline[] = { 2.0, 100.0 };
    assert_int_equal(hone_client_complete(c, "rel", 3, 2, names, baseline, NULL), HONE_OK);
    s_expect_best(c, 2, 0.8);
    hone_status_t *st = NULL;
    assert_int_equal(hone_client_status(c, "rel", &st), HONE_OK);
    uint64_t best_trial = 99;
    assert_int_equal(hone_status_best(st, &best_trial, NULL), HONE_OK);
    assert_int_equal(best_trial, 2);
    hone_status_destroy(&st);

    /* predict a constraint metric by name (Ax's predict covers every modelled metric): at
     * observed arms the noise-free GP gives back the readings; an unknown name is refused */
    hone_points_t *at = NULL;
    assert_int_equal(hone_points_new(&at), HONE_OK);
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(hone_client_trial(c, "rel", i, false, &t), HONE_OK);
        assert_int_equal(hone_points_add_trial(at, t), HONE_OK);
        hone_trial_destroy(&t);
    }
    hone_prediction_t *pred = NULL;
    assert_int_equal(hone_client_predict_metric(c, "rel", "qps", at, &pred), HONE_OK);
    assert_string_equal(hone_prediction_metric(pred), "qps");
    static const double qps[] = { 100.0, 80.0, 95.0, 100.0 };
    for (size_t i = 0; i < 4; i++)
        assert_true(fabs(hone_prediction_mean(pred, i) - qps[i]) < 2.0);
    hone_prediction_destroy(&pred);
    assert_int_equal(hone_client_predict_metric(c, "rel", NULL, at, &pred), HONE_OK);
    assert_string_equal(hone_prediction_metric(pred), "loss");   /* NULL: the objective */
    hone_prediction_destroy(&pred);
    assert_int_equal(hone_client_predict_metric(c, "rel", "nope", at, &pred), HONE_EINVAL);
    assert_true(strncmp(hone_client_last_error(c), "metric: 'nope'", 14) == 0);
    assert_null(pred);
    hone_points_destroy(&at);

    /* another restart: the completed baseline is known again by its note */
    s_restart(&c);
    s_expect_best(c, 2, 0.8);
    assert_int_equal(hone_client_attach_baseline(c, "rel", params, &trial), HONE_EEXIST);
    assert_non_null(strstr(hone_client_last_error(c), "trial 3"));
    hone_points_destroy(&params);
    /* and the frontier of the other experiment survived too */
    hone_pareto_t *p = NULL;
    assert_int_equal(hone_client_pareto(c, "mo", false, &p), HONE_OK);
    assert_int_equal(hone_pareto_count(p), 3);
    hone_pareto_destroy(&p);
    hone_client_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pareto_raw_is_the_feasible_staircase),
        cmocka_unit_test(test_pareto_model_path),
        cmocka_unit_test(test_single_objective_answers),
        cmocka_unit_test(test_relative_constraint_and_baseline),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
