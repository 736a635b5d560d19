#define _GNU_SOURCE
/* Early-stopped trials in the model (issue 5, "Modelling"), as Ax treats them
 * (reference/ax-client-behaviour.md §3.1, §3.3 "Training data", §4.1, §6.1):
 * - a COMPLETED or EARLY_STOPPED trial trains the model with its latest reading (the
 *   one at the largest progression, not the last one received); RUNNING trials are
 *   pending points, FAILED and ABANDONED ones contribute nothing;
 * - the Sobol → BO transition: EARLY_STOPPED trials count toward the initialization
 *   budget (Ax's MinTrials excludes only FAILED and ABANDONED) but not as "observed"
 *   (Ax's min_observed criterion counts COMPLETED trials with data only);
 * - between refits, a RUNNING trial marked EARLY_STOPPED is appended to the factor and
 *   leaves the pending points, and the appended model equals a fresh one;
 * - the best point (raw and model paths) is always a COMPLETED trial, while the model
 *   behind predict and the model path learns from the stopped ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo.h"
#include "experiment.h"
#include "experiment_driver.h"
#include "gp_internal.h"
#include "rng.h"
#include "warp.h"

/* Attaches one reading of metric at a progression. */
static void s_attach_at(hone_experiment_t *e, uint32_t t, const char *metric, double y, int64_t step)
{
    hone_error_t err;
    hone_reading_in_t r = { metric, y, NAN };
    if (hone_experiment_attach(e, t, &r, 1, true, step, false, &err) != HONE_OK)
        fail_msg("attach to trial %u: %s", t, err.message);
}

static void s_mark(hone_experiment_t *e, uint32_t t, hone_trial_status_t to)
{
    hone_error_t err;
    if (hone_experiment_mark(e, t, to, NULL, &err) != HONE_OK)
        fail_msg("mark trial %u %s: %s", t, hone_trial_status_name((int) to), err.message);
}

/* A learning curve received out of order: steps 10, 30, 20, so that the first reading
 * received (step 10), the last one (step 20) and the latest one (step 30, Ax's "latest
 * row") all differ. The step-30 value is `latest`. */
static void s_curve_out_of_order(hone_experiment_t *e, uint32_t t, const char *metric, double latest)
{
    s_attach_at(e, t, metric, latest + 0.5, 10);
    s_attach_at(e, t, metric, latest, 30);
    s_attach_at(e, t, metric, latest + 0.25, 20);
}

/* The experiment's trials as one array (how the experiment hands them to bo.c). */
static hone_bo_input_t s_input(const hone_experiment_t *e, bool minimize, uint64_t seed)
{
    size_t n = hone_experiment_trial_count(e);
    const hone_trial_t *trials = hone_experiment_trial(e, 0);
    for (uint32_t i = 0; i < n; i++)
        assert_ptr_equal(hone_experiment_trial(e, i), &trials[i]);
    return (hone_bo_input_t) { .trials = trials, .n_trials = n, .metric = 0, .minimize = minimize, .seed = seed };
}

/* (x1 - 0.3)² + (x2 - 0.6)² at trial t. */
static double s_bowl_at(const hone_experiment_t *e, uint32_t t)
{
    const hone_value_t *p = hone_experiment_trial(e, t)->params;
    return (p[0].u.f - 0.3) * (p[0].u.f - 0.3) + (p[1].u.f - 0.6) * (p[1].u.f - 0.6);
}

static const char s_bowl_config[] =
    "{\"name\":\"bowl\",\"objective\":\"-loss\","
    "\"generation_strategy\":{\"method\":\"random_search\",\"initialization_random_seed\":11},"
    "\"parameters\":[{\"name\":\"x1\",\"bounds\":[0,1]},{\"name\":\"x2\",\"bounds\":[0,1]}]}";

/* The training set of the model: COMPLETED and EARLY_STOPPED trials with their latest
 * reading; not RUNNING (pending), FAILED or ABANDONED ones, even with data. */
static void test_training_set_includes_early_stopped(void **state)
{
    (void) state;
    hone_experiment_t *e = s_new(s_bowl_config);
    for (int i = 0; i < 11; i++)
        s_next(e);
    for (uint32_t t = 0; t < 6; t++)
        s_complete(e, t, "loss", s_bowl_at(e, t));
    /* 6 and 7: curves, stopped early; 8: a curve, still running; 9 failed and 10
     * abandoned after reporting. */
    for (uint32_t t = 6; t < 11; t++)
        s_curve_out_of_order(e, t, "loss", s_bowl_at(e, t) + 0.1);
    s_mark(e, 6, HONE_TRIAL_EARLY_STOPPED);
    s_mark(e, 7, HONE_TRIAL_EARLY_STOPPED);
    s_mark(e, 9, HONE_TRIAL_FAILED);
    s_mark(e, 10, HONE_TRIAL_ABANDONED);

    /* hone_trial_latest is the reading at the largest progression. */
    double mean = 0, sem = 0;
    assert_true(hone_trial_latest(hone_experiment_trial(e, 6), 0, &mean, &sem));
    assert_true(mean == s_bowl_at(e, 6) + 0.1);
    assert_true(isnan(sem));

    hone_bo_input_t in = s_input(e, true, 5);
    hone_bo_t *bo = hone_bo_new(hone_experiment_space(e), HONE_KERNEL_MATERN52);
    hone_error_t err;
    if (hone_bo_fit_model(bo, &in, &err) != HONE_OK)
        fail_msg("fit_model: %s", err.message);
    const uint32_t *trials = NULL;
    size_t n = hone_bo_model_size(bo, &trials);
    assert_int_equal(n, 8);
    for (uint32_t k = 0; k < 8; k++)
        assert_int_equal(trials[k], k);   /* a full encoding keeps trial order */

    /* Each target is the trial's latest reading (not winsorized here: the fence is below
     * every −loss). */
    hone_bo_state_t st;
    hone_bo_state(bo, &st);
    assert_false(st.warped);
    double loo_mean[8], loo_sd[8], target[8];
    assert_int_equal(hone_bo_loo(bo, loo_mean, loo_sd, target), HONE_OK);
    for (uint32_t k = 0; k < 8; k++) {
        double want = s_bowl_at(e, k) + (k >= 6 ? 0.1 : 0.0);
        assert_true(-want > st.fence);
        if (fabs(target[k] - want) > 1e-12)
            fail_msg("trial %u: target %.17g, expected its latest reading %.17g", k, target[k], want);
    }

    /* A BO step on the same data: 8 observations, the running trial 8 as the one pending
     * point. */
    hone_bo_t *step = hone_bo_new(hone_experiment_space(e), HONE_KERNEL_MATERN52);
    hone_value_t out[2];
    hone_bo_stats_t stats;
    if (hone_bo_suggest(step, &in, out, &stats, &err) != HONE_OK)
        fail_msg("suggest: %s", err.message);
    assert_int_equal(stats.n_observed, 8);
    assert_int_equal(stats.n_pending, 1);
    hone_bo_state(step, &st);
    assert_int_equal(st.n, 8);

    /* The predict path: at least 2 trials with data, early-stopped ones included. */
    hone_bo_destroy(&bo);
    hone_bo_destroy(&step);
    hone_experiment_destroy(&e);

    e = s_new(s_bowl_config);
    s_next(e);
    s_next(e);
    s_complete(e, 0, "loss", 0.5);
    s_curve_out_of_order(e, 1, "loss", 0.7);
    s_mark(e, 1, HONE_TRIAL_EARLY_STOPPED);
    const hone_value_t *rows[1] = { hone_experiment_trial(e, 1)->params };
    double pm, ps;
    if (hone_experiment_predict(e, 1, rows, &pm, &ps, &err) != HONE_OK)
        fail_msg("predict with one completed and one early-stopped trial: %s", err.message);
    hone_experiment_destroy(&e);
}

static char *s_branin_config(int seed)
{
    char *json = NULL;
    if (asprintf(&json,
                 "{\"name\":\"b\",\"objective\":\"-branin\","
                 "\"generation_strategy\":{\"method\":\"fast\",\"initialization_random_seed\":%d},"
                 "\"parameters\":[{\"name\":\"x1\",\"bounds\":[-5,10]},{\"name\":\"x2\",\"bounds\":[0,15]}]}",
                 seed) < 0)
        abort();
    return json;
}

static const char s_waiting[] = "sobol (initialization budget reached, waiting for data)";

/* Ax's Sobol → BO transition (budget 5, min_observed 2): FAILED and ABANDONED trials
 * count toward neither criterion; EARLY_STOPPED ones count toward the budget but are not
 * "observed"; two COMPLETED trials with data start BO. */
static void test_transition_counts_like_ax(void **state)
{
    (void) state;
    char *json = s_branin_config(3);
    hone_experiment_t *e = s_new(json);
    free(json);
    for (int i = 0; i < 5; i++)
        s_next(e);
    /* Trials 0 and 1 fail and are abandoned after reporting: 3 of the budget's 5 count,
     * so plain Sobol goes on. */
    s_attach_at(e, 0, "branin", s_branin_at(e, 0), 5);
    s_attach_at(e, 1, "branin", s_branin_at(e, 1), 5);
    s_mark(e, 0, HONE_TRIAL_FAILED);
    s_mark(e, 1, HONE_TRIAL_ABANDONED);
    assert_string_equal(hone_experiment_trial(e, s_next(e))->note, "sobol");
    assert_string_equal(hone_experiment_trial(e, s_next(e))->note, "sobol");

    /* Trials 2 and 3 stopped early with data: still 5 of 5 toward the budget... */
    s_curve_out_of_order(e, 2, "branin", s_branin_at(e, 2));
    s_curve_out_of_order(e, 3, "branin", s_branin_at(e, 3));
    s_mark(e, 2, HONE_TRIAL_EARLY_STOPPED);
    s_mark(e, 3, HONE_TRIAL_EARLY_STOPPED);
    /* ...but not observed: two early-stopped trials do not reach min_observed = 2. */
    assert_string_equal(hone_experiment_trial(e, s_next(e))->note, s_waiting);
    s_complete(e, 4, "branin", s_branin_at(e, 4));
    assert_string_equal(hone_experiment_trial(e, s_next(e))->note, s_waiting);
    /* The second COMPLETED trial with data starts BO. */
    s_complete(e, 5, "branin", s_branin_at(e, 5));
    assert_string_equal(hone_experiment_trial(e, s_next(e))->note, "bo");
    hone_experiment_destroy(&e);
}

/* The generator's model after a step holds no fantasy and equals a fresh GP with the
 * same data and hyperparameters (the appended factor is the factor of that data). */
static void s_check_against_fresh(const hone_bo_t *bo)
{
    hone_bo_state_t st;
    hone_bo_state(bo, &st);
    assert_int_equal(hone_gp_size(st.gp), st.n);
    hone_gp_t *fresh = hone_gp_new(2, HONE_KERNEL_MATERN52);
    assert_int_equal(hone_gp_set_data(fresh, st.n, st.x, st.y, st.yvar), HONE_OK);
    double phi[4];
    hone_gp_get_phi(st.gp, phi);
    hone_gp_set_phi(fresh, phi);
    assert_int_equal(hone_gp_refresh(fresh), HONE_OK);
    enum { M = 64 };
    double xq[M * 2], m0[M], v0[M], m1[M], v1[M];
    hone_rng_t rng;
    hone_rng_seed(&rng, 5);
    for (size_t j = 0; j < M * 2; j++)
        xq[j] = hone_rng_uniform(&rng);
    memcpy(xq, &st.x[(st.n - 4) * 2], 8 * sizeof(double));   /* and the last 4 observations */
    hone_gp_work_t *w0 = hone_gp_work_new(st.gp, M), *w1 = hone_gp_work_new(fresh, M);
    assert_int_equal(hone_gp_predict(st.gp, M, xq, m0, v0, w0), HONE_OK);
    assert_int_equal(hone_gp_predict(fresh, M, xq, m1, v1, w1), HONE_OK);
    for (size_t j = 0; j < M; j++)
        if (fabs(m0[j] - m1[j]) > 1e-8 || fabs(v0[j] - v1[j]) > 1e-8)
            fail_msg("prediction %zu: %.17g ± %.17g, fresh model %.17g ± %.17g", j, m0[j], v0[j], m1[j], v1[j]);
    hone_gp_work_destroy(&w0);
    hone_gp_work_destroy(&w1);
    hone_gp_destroy(&fresh);
}

/* Between refits (n > 300), a RUNNING trial marked EARLY_STOPPED between two steps is
 * appended like a completed one: one more observation, its latest reading as target
 * (through the frozen transforms), one pending point fewer, and the same model as a
 * fresh factorization of that data; a running trial with a curve stays pending. */
static void test_early_stopped_appended_between_refits(void **state)
{
    (void) state;
    enum { N_DONE = 310, N_RUN = 6 };
    hone_experiment_t *e = s_new(
        "{\"name\":\"big\",\"objective\":\"-branin\","
        "\"generation_strategy\":{\"method\":\"random_search\",\"initialization_random_seed\":8},"
        "\"parameters\":[{\"name\":\"x1\",\"bounds\":[-5,10]},{\"name\":\"x2\",\"bounds\":[0,15]}]}");
    uint32_t idx[N_DONE + N_RUN], got = 0;
    hone_error_t err;
    assert_int_equal(hone_experiment_generate(e, N_DONE + N_RUN, idx, &got, &err), HONE_OK);
    assert_int_equal(got, N_DONE + N_RUN);
    for (uint32_t t = 0; t < N_DONE; t++)
        s_complete(e, t, "branin", s_branin_at(e, t));
    /* The running trials report curves. */
    for (uint32_t t = N_DONE; t < N_DONE + N_RUN; t++)
        s_curve_out_of_order(e, t, "branin", s_branin_at(e, t) + 2.0);

    hone_bo_t *bo = hone_bo_new(hone_experiment_space(e), HONE_KERNEL_MATERN52);
    hone_bo_set_acquisition(bo, HONE_BO_QLOGNEI);   /* no fantasies: the GP is the model */
    hone_value_t out[2];
    hone_bo_stats_t stats;
    hone_bo_input_t in = s_input(e, true, 3);
    if (hone_bo_suggest(bo, &in, out, &stats, &err) != HONE_OK)
        fail_msg("first step: %s", err.message);
    assert_int_equal(stats.path, HONE_BO_PATH_REFIT);
    assert_int_equal(stats.n_observed, N_DONE);
    assert_int_equal(stats.n_pending, N_RUN);

    /* Trial 312 is stopped early. */
    const uint32_t stopped = N_DONE + 2;
    s_mark(e, stopped, HONE_TRIAL_EARLY_STOPPED);
    in = s_input(e, true, 3);
    if (hone_bo_suggest(bo, &in, out, &stats, &err) != HONE_OK)
        fail_msg("second step: %s", err.message);
    if (stats.path != HONE_BO_PATH_APPEND || stats.appended != 1)
        fail_msg("path %d with %zu appended, expected the append path with 1", (int) stats.path, stats.appended);
    assert_int_equal(stats.n_observed, N_DONE + 1);
    assert_int_equal(stats.n_pending, N_RUN - 1);

    hone_bo_state_t st;
    hone_bo_state(bo, &st);
    assert_int_equal(st.n, N_DONE + 1);
    assert_int_equal(st.trials[st.n - 1], stopped);
    for (size_t i = 0; i + 1 < st.n; i++)
        assert_true(st.trials[i] < N_DONE);   /* no other running trial got in */
    /* Its target: the step-30 reading, through the transforms frozen at the refit. */
    double raw = -(s_branin_at(e, stopped) + 2.0), dy = 1.0;
    if (st.warped)
        raw = hone_warp_apply(&st.warp, raw, &dy);
    double y = (fmax(raw, st.fence) - st.y_mean) / st.y_std;
    if (fabs(st.y[st.n - 1] - y) > 1e-12)
        fail_msg("appended target %.17g, expected %.17g (the latest reading)", st.y[st.n - 1], y);
    s_check_against_fresh(bo);

    /* The same data from scratch: the same training set, in trial order. */
    hone_bo_t *scratch = hone_bo_new(hone_experiment_space(e), HONE_KERNEL_MATERN52);
    if (hone_bo_fit_model(scratch, &in, &err) != HONE_OK)
        fail_msg("fit_model: %s", err.message);
    const uint32_t *trials = NULL;
    size_t n = hone_bo_model_size(scratch, &trials);
    assert_int_equal(n, N_DONE + 1);
    assert_int_equal(trials[n - 1], stopped);
    hone_bo_destroy(&scratch);

    hone_bo_destroy(&bo);
    hone_experiment_destroy(&e);
}

static double s_smooth_at(const hone_experiment_t *e, uint32_t t)
{
    const hone_value_t *p = hone_experiment_trial(e, t)->params;
    return sin(3.0 * p[0].u.f) + cos(2.0 * p[1].u.f);
}

/* The best point comes from COMPLETED trials only, on both paths, even when a stopped
 * trial's latest reading beats them all; the model behind the model path and predict
 * learns from the stopped trials. */
static void test_best_point_is_completed(void **state)
{
    (void) state;
    hone_experiment_t *e = s_new(
        "{\"name\":\"smooth\",\"objective\":\"y\","
        "\"generation_strategy\":{\"method\":\"fast\",\"initialization_random_seed\":4},"
        "\"parameters\":[{\"name\":\"x1\",\"bounds\":[0,1]},{\"name\":\"x2\",\"bounds\":[0,1]}]}");
    hone_best_point_t b;
    hone_error_t err;
    /* Only early-stopped trials: no best point (Ax: "Cannot identify best point if no
     * trials are completed."). */
    uint32_t t0 = s_next(e);
    s_curve_out_of_order(e, t0, "y", s_smooth_at(e, t0));
    s_mark(e, t0, HONE_TRIAL_EARLY_STOPPED);
    assert_int_equal(hone_experiment_best_ex(e, false, &b, &err), HONE_EDATA);
    assert_int_equal(hone_experiment_best_ex(e, true, &b, &err), HONE_EDATA);

    /* 4 COMPLETED trials and 5 EARLY_STOPPED ones (maximized y; a stopped trial's latest
     * reading is its value minus 0.1, but trial `lucky`'s beats everything). */
    uint32_t lucky = 0;
    double best_completed = -INFINITY;
    uint32_t best_completed_trial = 0;
    for (int i = 1; i < 10; i++) {
        uint32_t t = s_next(e);
        double y = s_smooth_at(e, t);
        if (i % 2 == 0) {
            s_complete(e, t, "y", y);
            if (y > best_completed) {
                best_completed = y;
                best_completed_trial = t;
            }
        } else {
            s_curve_out_of_order(e, t, "y", i == 9 ? 3.5 : y - 0.1);
            s_mark(e, t, HONE_TRIAL_EARLY_STOPPED);
            if (i == 9)
                lucky = t;
        }
    }
    assert_int_equal(hone_experiment_count_status(e, HONE_TRIAL_COMPLETED), 4);
    assert_int_equal(hone_experiment_count_status(e, HONE_TRIAL_EARLY_STOPPED), 6);

    /* Raw path: the best COMPLETED trial. */
    assert_int_equal(hone_experiment_best_ex(e, false, &b, &err), HONE_OK);
    assert_int_equal(b.source, HONE_BEST_RAW);
    assert_int_equal(b.trial, best_completed_trial);
    assert_true(b.mean == best_completed);

    /* Model path: 10 observations (4 COMPLETED would be too few alone), and the pick is a
     * COMPLETED trial although the model's best mean is at the lucky stopped one. */
    assert_int_equal(hone_experiment_best_ex(e, true, &b, &err), HONE_OK);
    print_message("model path: %s, trial %u, mean %.4f, rho %.3f\n", hone_best_source_name(b.source), b.trial,
                  b.mean, b.loo_rho);
    assert_int_equal(b.source, HONE_BEST_MODEL);
    assert_int_equal(hone_experiment_trial(e, b.trial)->status, HONE_TRIAL_COMPLETED);

    /* The model learned the lucky trial's latest reading: predict there is near 3.5,
     * far above anything else it saw (the completed best is below 2). */
    const hone_value_t *rows[1] = { hone_experiment_trial(e, lucky)->params };
    double mean, sem;
    assert_int_equal(hone_experiment_predict(e, 1, rows, &mean, &sem, &err), HONE_OK);
    print_message("predict at the lucky stopped trial %u: %.4f ± %.4f\n", lucky, mean, sem);
    assert_true(best_completed < 2.0);
    assert_true(mean > 3.0);
    assert_true(mean > b.mean);
    hone_experiment_destroy(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_training_set_includes_early_stopped),
        cmocka_unit_test(test_transition_counts_like_ax),
        cmocka_unit_test(test_early_stopped_appended_between_refits),
        cmocka_unit_test(test_best_point_is_completed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
