#define _GNU_SOURCE
/* Bayesian optimization through the experiment: Ax's transition rules (center → Sobol
 * → BO), reproducibility, valid candidates on mixed spaces, pending points, BO beating
 * random search on Branin, and the refit schedule with rank-1 appends between refits. */
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
#include "gp_internal.h"
#include "rng.h"
#include "experiment_driver.h"
#include "sobol.h"
#include "functions.h"

static char *s_branin_config(const char *method, int seed, const char *extra)
{
    char *json = NULL;
    if (asprintf(&json,
                 "{\"name\":\"b\",\"objective\":\"-branin\","
                 "\"generation_strategy\":{\"method\":\"%s\",\"initialization_random_seed\":%d%s},"
                 "\"parameters\":[{\"name\":\"x1\",\"bounds\":[-5,10]},{\"name\":\"x2\",\"bounds\":[0,15]}]}",
                 method, seed, extra ? extra : "") < 0)
        abort();
    return json;
}

static void test_transition_follows_ax(void **state)
{
    (void) state;
    char *json = s_branin_config("fast", 3, NULL);
    hone_experiment_t *e = s_new(json);
    free(json);
    /* Budget 5: the center, then 4 Sobol points. */
    const char *expected[] = { "center", "sobol", "sobol", "sobol", "sobol" };
    for (int i = 0; i < 5; i++)
        assert_string_equal(hone_experiment_trial(e, s_next(e))->note, expected[i]);
    /* Budget reached with no data: Ax would raise "need more data"; hone hands out Sobol
     * and says why. */
    uint32_t waiting = s_next(e);
    assert_string_equal(hone_experiment_trial(e, waiting)->note,
                        "sobol (initialization budget reached, waiting for data)");
    /* One observation is not enough (min_observed = max(1, 5 // 2) = 2)... */
    s_complete(e, 0, "branin", s_branin_at(e, 0));
    assert_string_equal(hone_experiment_trial(e, s_next(e))->note,
                        "sobol (initialization budget reached, waiting for data)");
    /* ...two are. */
    s_complete(e, 1, "branin", s_branin_at(e, 1));
    uint32_t bo = s_next(e);
    assert_string_equal(hone_experiment_trial(e, bo)->note, "bo");
    assert_int_equal(hone_space_check(hone_experiment_space(e), hone_experiment_trial(e, bo)->params, NULL),
                     HONE_OK);
    hone_experiment_destroy(&e);
}

static void test_transition_options(void **state)
{
    (void) state;
    /* allow_exceeding_initialization_budget: Sobol past the budget is plain Sobol. */
    char *json = s_branin_config("fast", 3, ",\"initialization_budget\":2,\"allow_exceeding_initialization_budget\":true");
    hone_experiment_t *e = s_new(json);
    free(json);
    s_next(e);
    s_next(e);
    assert_string_equal(hone_experiment_trial(e, s_next(e))->note, "sobol");
    hone_experiment_destroy(&e);

    /* min_observed_initialization_trials: 3 observations before BO. */
    json = s_branin_config("fast", 3, ",\"initialization_budget\":3,\"min_observed_initialization_trials\":3");
    e = s_new(json);
    free(json);
    for (uint32_t t = 0; t < 3; t++)
        s_next(e);
    s_complete(e, 0, "branin", s_branin_at(e, 0));
    s_complete(e, 1, "branin", s_branin_at(e, 1));
    assert_string_not_equal(hone_experiment_trial(e, s_next(e))->note, "bo");
    s_complete(e, 2, "branin", s_branin_at(e, 2));
    assert_string_equal(hone_experiment_trial(e, s_next(e))->note, "bo");
    hone_experiment_destroy(&e);

    /* random_search never leaves Sobol. */
    json = s_branin_config("random_search", 3, NULL);
    e = s_new(json);
    free(json);
    for (int i = 0; i < 12; i++) {
        uint32_t t = s_next(e);
        assert_string_not_equal(hone_experiment_trial(e, t)->note, "bo");
        s_complete(e, t, "branin", s_branin_at(e, t));
    }
    hone_experiment_destroy(&e);
}

/* Runs a sequential Branin optimization and returns the best value. */
static double s_run_branin(const char *method, int seed, int budget, hone_experiment_t **keep)
{
    char *json = s_branin_config(method, seed, NULL);
    hone_experiment_t *e = s_new(json);
    free(json);
    double best = INFINITY;
    for (int i = 0; i < budget; i++) {
        uint32_t t = s_next(e);
        double y = s_branin_at(e, t);
        best = fmin(best, y);
        s_complete(e, t, "branin", y);
    }
    if (keep)
        *keep = e;
    else
        hone_experiment_destroy(&e);
    return best;
}

static void test_reproducible_with_a_seed(void **state)
{
    (void) state;
    hone_experiment_t *a = NULL, *b = NULL;
    s_run_branin("fast", 17, 15, &a);
    s_run_branin("fast", 17, 15, &b);
    for (uint32_t t = 0; t < 15; t++) {
        const hone_trial_t *ta = hone_experiment_trial(a, t), *tb = hone_experiment_trial(b, t);
        assert_string_equal(ta->note, tb->note);
        assert_memory_equal(&ta->params[0].u.f, &tb->params[0].u.f, sizeof(double));
        assert_memory_equal(&ta->params[1].u.f, &tb->params[1].u.f, sizeof(double));
    }
    assert_string_equal(hone_experiment_trial(a, 14)->note, "bo");
    hone_experiment_destroy(&a);
    hone_experiment_destroy(&b);
}

static int s_cmp(const void *x, const void *y)
{
    double a = *(const double *) x, b = *(const double *) y;
    return (a > b) - (a < b);
}

static void test_beats_random_search_on_branin(void **state)
{
    (void) state;
    enum { SEEDS = 5, BUDGET = 30 };
    double bo[SEEDS], rs[SEEDS];
    for (int s = 0; s < SEEDS; s++) {
        bo[s] = s_run_branin("fast", 100 + s, BUDGET, NULL);
        rs[s] = s_run_branin("random_search", 100 + s, BUDGET, NULL);
    }
    qsort(bo, SEEDS, sizeof(double), s_cmp);
    qsort(rs, SEEDS, sizeof(double), s_cmp);
    /* The optimum is 0.397887; random search's median after 30 trials is typically 1-2. */
    assert_true(bo[SEEDS / 2] < rs[SEEDS / 2]);
    assert_true(bo[SEEDS / 2] < 0.45);
    assert_true(bo[SEEDS - 1] < 1.0);   /* even the worst seed gets close */
}

/* int, log-scale float, ordered and unordered choices: BO candidates are members of the
 * space and never repeat an arm. */
static void test_mixed_space_candidates_are_valid(void **state)
{
    (void) state;
    const char *json =
        "{\"name\":\"mixed\",\"objective\":\"-loss\","
        "\"generation_strategy\":{\"initialization_random_seed\":5},"
        "\"parameters\":["
        "{\"name\":\"lr\",\"bounds\":[1e-5,1e-1],\"scaling\":\"log\"},"
        "{\"name\":\"layers\",\"bounds\":[1,8],\"parameter_type\":\"int\"},"
        "{\"name\":\"batch\",\"values\":[16,32,64,128]},"
        "{\"name\":\"opt\",\"values\":[\"adam\",\"sgd\",\"rmsprop\"],\"is_ordered\":false},"
        "{\"name\":\"precision\",\"values\":[\"bf16\"]}]}";
    hone_experiment_t *e = s_new(json);
    const hone_space_t *space = hone_experiment_space(e);
    int bo_count = 0;
    for (int i = 0; i < 25; i++) {
        uint32_t t = s_next(e);
        const hone_trial_t *trial = hone_experiment_trial(e, t);
        assert_int_equal(hone_space_check(space, trial->params, NULL), HONE_OK);
        for (uint32_t u = 0; u < t; u++)
            assert_false(hone_space_points_equal(space, trial->params, hone_experiment_trial(e, u)->params));
        bo_count += strcmp(trial->note, "bo") == 0;
        double lr = trial->params[0].u.f, layers = (double) trial->params[1].u.i;
        double loss = pow(log10(lr) + 2.5, 2) + 0.1 * pow(layers - 4, 2)
                      + (strcmp(trial->params[3].u.s, "adam") == 0 ? 0 : 0.5);
        s_complete(e, t, "loss", loss);
    }
    assert_true(bo_count >= 15);
    uint32_t best = 0;
    double value = 0;
    assert_int_equal(hone_experiment_best(e, &best, &value, NULL, NULL), HONE_OK);
    assert_true(value < 0.5);   /* found adam and a good learning rate */
    hone_experiment_destroy(&e);
}

/* Trials handed out together (workers running in parallel) are spread out: each pending
 * one counts as observed at its predicted value. */
static void test_pending_points_spread_candidates(void **state)
{
    (void) state;
    hone_experiment_t *e = NULL;
    s_run_branin("fast", 9, 8, &e);
    uint32_t idx[4], n = 0;
    hone_error_t err;
    assert_int_equal(hone_experiment_generate(e, 4, idx, &n, &err), HONE_OK);
    assert_int_equal(n, 4);
    for (int i = 0; i < 4; i++) {
        const hone_trial_t *a = hone_experiment_trial(e, idx[i]);
        assert_string_equal(a->note, "bo");
        for (int j = 0; j < i; j++) {
            const hone_trial_t *b = hone_experiment_trial(e, idx[j]);
            double dx = (a->params[0].u.f - b->params[0].u.f) / 15.0;
            double dy = (a->params[1].u.f - b->params[1].u.f) / 15.0;
            assert_true(sqrt(dx * dx + dy * dy) > 1e-3);
        }
    }
    hone_experiment_destroy(&e);
}

/* ---- parameter constraints ---- */

/* Branin under x1 + x2 <= 5 (bench/functions.h): its constrained minimum
 * 0.569739742891345 lies on the constraint. Returns the best value after budget trials;
 * every trial must satisfy the constraint exactly (BO keeps a margin for rounding). */
static double s_run_constrained_branin(int seed, int budget, int *n_bo)
{
    char *json = NULL;
    if (asprintf(&json,
                 "{\"name\":\"b\",\"objective\":\"-branin\",\"parameter_constraints\":[\"x1 + x2 <= 5\"],"
                 "\"generation_strategy\":{\"method\":\"fast\",\"initialization_random_seed\":%d},"
                 "\"parameters\":[{\"name\":\"x1\",\"bounds\":[-5,10]},{\"name\":\"x2\",\"bounds\":[0,15]}]}",
                 seed) < 0)
        abort();
    hone_experiment_t *e = s_new(json);
    free(json);
    double best = INFINITY;
    *n_bo = 0;
    for (int i = 0; i < budget; i++) {
        uint32_t t = s_next(e);
        const hone_trial_t *trial = hone_experiment_trial(e, t);
        double x1 = trial->params[0].u.f, x2 = trial->params[1].u.f;
        if (!(x1 + x2 <= 5.0))
            fail_msg("seed %d, trial %u (%s): x1 + x2 = %.17g", seed, t, trial->note, x1 + x2);
        *n_bo += streq(trial->note, "bo");
        double y = s_branin_at(e, t);
        best = fmin(best, y);
        s_complete(e, t, "branin", y);
    }
    hone_experiment_destroy(&e);
    return best;
}

static void test_constrained_branin(void **state)
{
    (void) state;
    const double optimum = 0.569739742891345;
    int within = 0;
    for (int seed = 0; seed < 5; seed++) {
        int n_bo = 0;
        double best = s_run_constrained_branin(seed, 40, &n_bo);
        print_message("constrained Branin, seed %d: best %.9f after 40 trials (%d from BO)\n", seed, best, n_bo);
        assert_true(best >= optimum - 1e-9);   /* nothing beats the constrained optimum */
        assert_true(n_bo >= 30);
        within += best <= 1.05 * optimum;
    }
    assert_true(within >= 3);
}

/* A constraint on an ordered choice with unevenly spaced values (1, 2, 5) cannot bound
 * the optimizer (it is not affine in the feature); a candidate that violates it gives way
 * to Sobol, with a note. Here the model is drawn to p = 5, which no feasible point has. */
static void test_constrained_uneven_choice_falls_back(void **state)
{
    (void) state;
    const char *json =
        "{\"name\":\"u\",\"objective\":\"y\",\"generation_strategy\":{\"initialization_random_seed\":2},"
        "\"parameters\":[{\"name\":\"p\",\"values\":[1,2,5]},{\"name\":\"x\",\"bounds\":[0,1]}],"
        "\"parameter_constraints\":[\"p + 2*x <= 4\"]}";
    hone_experiment_t *e = s_new(json);
    int fallbacks = 0;
    for (int i = 0; i < 15; i++) {
        uint32_t t = s_next(e);
        const hone_trial_t *trial = hone_experiment_trial(e, t);
        int64_t p = trial->params[0].u.i;
        double x = trial->params[1].u.f;
        assert_int_equal(trial->params[0].type, HONE_TYPE_INT);
        if (!((double) p + 2 * x <= 4))
            fail_msg("trial %u (%s) violates p + 2x <= 4: p %lld, x %.17g", t, trial->note, (long long) p, x);
        fallbacks += streq(trial->note, "sobol (fallback: the model's candidate violates a parameter constraint)");
        s_complete(e, t, "y", 10.0 * (double) p + x);
    }
    assert_true(fallbacks >= 5);
    hone_experiment_destroy(&e);
}

/* An int and a float in one constraint: BO's candidates respect it (rounding the int
 * never breaks it: its level is fixed before the float moves) and find the best
 * boundary point, n = 5 and x = 0 for n + 2x under n + 4x <= 5. */
static void test_constrained_int_and_float(void **state)
{
    (void) state;
    const char *json =
        "{\"name\":\"i\",\"objective\":\"y\",\"generation_strategy\":{\"initialization_random_seed\":4},"
        "\"parameters\":[{\"name\":\"n\",\"bounds\":[0,6],\"parameter_type\":\"int\"},"
        "{\"name\":\"x\",\"bounds\":[0,1]}],"
        "\"parameter_constraints\":[\"n + 4*x <= 5\"]}";
    hone_experiment_t *e = s_new(json);
    int bo = 0;
    double best = -INFINITY;
    for (int i = 0; i < 25; i++) {
        uint32_t t = s_next(e);
        const hone_trial_t *trial = hone_experiment_trial(e, t);
        int64_t n = trial->params[0].u.i;
        double x = trial->params[1].u.f;
        assert_int_equal(trial->params[0].type, HONE_TYPE_INT);
        if (!((double) n + 4 * x <= 5))
            fail_msg("trial %u (%s) violates n + 4x <= 5: n %lld, x %.17g", t, trial->note, (long long) n, x);
        bo += streq(trial->note, "bo");
        double y = (double) n + 2 * x;
        best = fmax(best, y);
        s_complete(e, t, "y", y);
    }
    assert_true(bo >= 15);
    assert_true(best >= 4.99);
    hone_experiment_destroy(&e);
}

/* Trials at scrambled-Sobol points of Branin's domain, all COMPLETED with Branin's value
 * (SEM unknown); tests change statuses and readings from there. */
enum { S_BIG = 345 };
static hone_trial_t s_trials[S_BIG];
static hone_reading_t s_readings[S_BIG];
static hone_value_t s_values[S_BIG * 2];

static hone_space_t *s_branin_trials(void)
{
    hone_space_t *space = hone_space_new();
    hone_error_t err;
    assert_int_equal(hone_space_add_range(space, "x1", HONE_TYPE_FLOAT, -5, 10, NULL, NAN, &err), HONE_OK);
    assert_int_equal(hone_space_add_range(space, "x2", HONE_TYPE_FLOAT, 0, 15, NULL, NAN, &err), HONE_OK);
    hone_sobol_t *sobol = hone_sobol_new(2, true, 4);
    double u[2];
    for (int t = 0; t < S_BIG; t++) {
        hone_sobol_next(sobol, 1, u);
        s_trials[t] = (hone_trial_t) { .index = (uint32_t) t, .status = HONE_TRIAL_COMPLETED,
                                       .params = &s_values[t * 2], .readings = &s_readings[t], .n_readings = 1 };
        hone_space_from_unit(space, u, s_trials[t].params);
        double x[2] = { s_values[t * 2].u.f, s_values[t * 2 + 1].u.f };
        s_readings[t] = (hone_reading_t) { .metric = 0, .mean = hone_bench_branin(x, 2), .sem = NAN };
    }
    hone_sobol_destroy(&sobol);
    return space;
}

/* Beyond 300 observations the hyperparameters are refitted only after 10% growth; in
 * between, the new observations are appended to the factor. */
static void test_refit_schedule(void **state)
{
    (void) state;
    hone_space_t *space = s_branin_trials();
    hone_error_t err;
    hone_bo_t *bo = hone_bo_new(space, HONE_KERNEL_MATERN52);
    hone_value_t out[2];
    hone_bo_stats_t stats;
    const struct { size_t n; hone_bo_path_t path; size_t appended; } steps[] = {
        { 250, HONE_BO_PATH_REFIT, 0 }, { 251, HONE_BO_PATH_REFIT, 0 }, { 310, HONE_BO_PATH_REFIT, 0 },
        { 311, HONE_BO_PATH_APPEND, 1 }, { 340, HONE_BO_PATH_APPEND, 29 }, { 341, HONE_BO_PATH_REFIT, 0 },
        { 342, HONE_BO_PATH_APPEND, 1 },
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        hone_bo_input_t in = { .trials = s_trials, .n_trials = steps[i].n, .metric = 0, .minimize = true, .seed = 1 };
        assert_int_equal(hone_bo_suggest(bo, &in, out, &stats, &err), HONE_OK);
        assert_int_equal(stats.n_observed, steps[i].n);
        if (stats.path != steps[i].path || stats.appended != steps[i].appended)
            fail_msg("at n = %zu: path %d with %zu appended, expected %d with %zu", steps[i].n, (int) stats.path,
                     stats.appended, (int) steps[i].path, steps[i].appended);
        assert_int_equal(stats.refit, steps[i].path == HONE_BO_PATH_REFIT);
        assert_int_equal(hone_space_check(space, out, NULL), HONE_OK);
    }
    hone_bo_destroy(&bo);
    hone_space_destroy(&space);
}

/* The generator's model after a step: every target is its trial's reading through the
 * transforms of the state (frozen between refits), and, when the GP holds no fantasy,
 * its predictions are those of a fresh GP with the same data and hyperparameters. */
static void s_check_model(const hone_bo_t *bo, bool expect_fantasies)
{
    hone_bo_state_t st;
    hone_bo_state(bo, &st);
    assert_non_null(st.gp);
    assert_true(st.n > 0);
    size_t size = hone_gp_size(st.gp);
    assert_true(expect_fantasies ? size > st.n : size == st.n);
    bool seen[S_BIG] = { false };
    for (size_t i = 0; i < st.n; i++) {
        const hone_trial_t *t = &s_trials[st.trials[i]];
        assert_int_equal(t->status, HONE_TRIAL_COMPLETED);
        assert_false(seen[st.trials[i]]);
        seen[st.trials[i]] = true;
        double v = -t->readings[0].mean, sem = t->readings[0].sem, var = isnan(sem) ? 1e-6 : sem * sem, dy = 1.0;
        if (st.warped)
            v = hone_warp_apply(&st.warp, v, &dy);
        double y = (fmax(v, st.fence) - st.y_mean) / st.y_std;
        if (fabs(st.y[i] - y) > 1e-12)
            fail_msg("observation %zu (trial %u): target %.17g, expected %.17g", i, st.trials[i], st.y[i], y);
        if (st.yvar && fabs(st.yvar[i] - var * dy * dy / (st.y_std * st.y_std)) > 1e-15)
            fail_msg("observation %zu (trial %u): noise variance %.17g", i, st.trials[i], st.yvar[i]);
    }
    if (expect_fantasies)
        return;
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
    memcpy(xq, st.x, 16 * sizeof(double));   /* and 8 training points */
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

static void s_step(hone_bo_t *bo, size_t n_trials, hone_bo_path_t path, size_t appended)
{
    hone_bo_input_t in = { .trials = s_trials, .n_trials = n_trials, .metric = 0, .minimize = true, .seed = 3 };
    hone_value_t out[2];
    hone_bo_stats_t stats;
    hone_error_t err;
    if (hone_bo_suggest(bo, &in, out, &stats, &err) != HONE_OK)
        fail_msg("suggest over %zu trials: %s", n_trials, err.message);
    if (stats.path != path || stats.appended != appended)
        fail_msg("over %zu trials: path %d with %zu appended, expected %d with %zu", n_trials, (int) stats.path,
                 stats.appended, (int) path, appended);
}

/* Between refits: trials completing out of order are appended in the GP's order, the
 * kriging believers of a step never reach the next, and whatever cannot be appended (a
 * changed value, a failed trial, another noise mode or warping) is refreshed. */
static void test_append_between_refits(void **state)
{
    (void) state;
    hone_space_t *space = s_branin_trials();
    hone_bo_t *bo = hone_bo_new(space, HONE_KERNEL_MATERN52);
    hone_bo_set_acquisition(bo, HONE_BO_LOGEI);   /* pending points become fantasies */
    for (int t = 300; t < S_BIG; t++)
        s_trials[t].status = HONE_TRIAL_RUNNING;
    /* 302 observations, trials 300 and 302 pending: the first step fits. */
    s_trials[301].status = s_trials[303].status = HONE_TRIAL_COMPLETED;
    s_step(bo, 304, HONE_BO_PATH_REFIT, 0);
    s_check_model(bo, true);

    /* 300 completes after 301 and 303, with 304 and 305; 302 still runs. */
    s_trials[300].status = s_trials[304].status = s_trials[305].status = HONE_TRIAL_COMPLETED;
    s_step(bo, 306, HONE_BO_PATH_APPEND, 3);
    s_check_model(bo, true);
    hone_bo_state_t st;
    hone_bo_state(bo, &st);
    assert_int_equal(st.n, 305);
    const uint32_t tail[] = { 299, 301, 303, 300, 304, 305 };
    assert_memory_equal(st.trials + st.n - 6, tail, sizeof tail);

    /* 302 and 306 complete, nothing pends: the fantasies are gone. */
    s_trials[302].status = s_trials[306].status = HONE_TRIAL_COMPLETED;
    s_step(bo, 307, HONE_BO_PATH_APPEND, 2);
    s_check_model(bo, false);
    s_step(bo, 307, HONE_BO_PATH_APPEND, 0);
    s_check_model(bo, false);

    /* A changed value: a full encoding, in trial order again. */
    s_readings[10].mean += 1.0;
    s_step(bo, 307, HONE_BO_PATH_REFRESH, 0);
    s_check_model(bo, false);
    hone_bo_state(bo, &st);
    for (size_t i = 1; i < st.n; i++)
        assert_true(st.trials[i - 1] < st.trials[i]);
    s_trials[307].status = HONE_TRIAL_COMPLETED;
    s_step(bo, 308, HONE_BO_PATH_APPEND, 1);
    s_check_model(bo, false);

    /* A failed trial leaves the data. */
    s_trials[20].status = HONE_TRIAL_FAILED;
    s_step(bo, 308, HONE_BO_PATH_REFRESH, 0);
    s_check_model(bo, false);

    /* A first SEM: fixed noise from now on, refreshed; then a SEM-less observation is
     * appended in that mode (noiseless). */
    s_trials[308].status = HONE_TRIAL_COMPLETED;
    s_readings[308].sem = 0.5;
    s_step(bo, 309, HONE_BO_PATH_REFRESH, 0);
    s_check_model(bo, false);
    s_trials[309].status = s_trials[310].status = HONE_TRIAL_COMPLETED;
    s_readings[310].sem = 0.25;
    s_step(bo, 311, HONE_BO_PATH_APPEND, 2);
    s_check_model(bo, false);
    hone_bo_state(bo, &st);
    assert_non_null(st.yvar);

    /* Another warping setting. */
    hone_bo_set_warping(bo, false);
    s_trials[311].status = HONE_TRIAL_COMPLETED;
    s_step(bo, 312, HONE_BO_PATH_REFRESH, 0);
    s_check_model(bo, false);
    hone_bo_state(bo, &st);
    assert_false(st.warped);

    /* The model for predictions always refits, on all data in trial order; a step after
     * it can append to it. */
    hone_bo_input_t in = { .trials = s_trials, .n_trials = 312, .metric = 0, .minimize = true, .seed = 3 };
    hone_error_t err;
    assert_int_equal(hone_bo_fit_model(bo, &in, &err), HONE_OK);
    const uint32_t *trials = NULL;
    size_t n = hone_bo_model_size(bo, &trials);
    assert_int_equal(n, 311);   /* trials 0-311 but 20 */
    for (size_t i = 1; i < n; i++)
        assert_true(trials[i - 1] < trials[i]);
    s_check_model(bo, false);
    s_trials[312].status = HONE_TRIAL_COMPLETED;
    s_step(bo, 313, HONE_BO_PATH_APPEND, 1);
    s_check_model(bo, false);

    hone_bo_destroy(&bo);
    hone_space_destroy(&space);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transition_follows_ax),
        cmocka_unit_test(test_transition_options),
        cmocka_unit_test(test_reproducible_with_a_seed),
        cmocka_unit_test(test_beats_random_search_on_branin),
        cmocka_unit_test(test_mixed_space_candidates_are_valid),
        cmocka_unit_test(test_pending_points_spread_candidates),
        cmocka_unit_test(test_refit_schedule),
        cmocka_unit_test(test_append_between_refits),
        cmocka_unit_test(test_constrained_branin),
        cmocka_unit_test(test_constrained_uneven_choice_falls_back),
        cmocka_unit_test(test_constrained_int_and_float),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
