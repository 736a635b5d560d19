#define _GNU_SOURCE
/* predict and the model-based best point (hone_experiment_predict, hone_experiment_best_ex):
 * predictions at and away from the data, their errors, the model path beating the raw
 * path under noise, and the leave-one-out fallback to the raw path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment.h"
#include "experiment_driver.h"
#include "gp.h"
#include "functions.h"
#include "rng.h"

static double s_normal(hone_rng_t *rng)
{
    double u1 = hone_rng_uniform(rng), u2 = hone_rng_uniform(rng);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

/* A smooth noiseless function of (x1, x2) in [0, 1]². */
static double s_smooth(const hone_value_t *p)
{
    return sin(3.0 * p[0].u.f) + cos(2.0 * p[1].u.f);
}

static const char s_smooth_config[] =
    "{\"name\":\"smooth\",\"objective\":\"y\","
    "\"generation_strategy\":{\"method\":\"random_search\",\"initialization_random_seed\":4},"
    "\"parameters\":[{\"name\":\"x1\",\"bounds\":[0,1]},{\"name\":\"x2\",\"bounds\":[0,1]}],"
    "\"parameter_constraints\":[\"x1 + x2 <= 1.8\"]}";

/* At the training points of a noiseless function the posterior mean is the observation
 * and the SEM is small. */
static void test_predict_at_training_points(void **state)
{
    (void) state;
    hone_experiment_t *e = s_new(s_smooth_config);
    for (int i = 0; i < 16; i++) {
        uint32_t t = s_next(e);
        s_complete(e, t, "y", s_smooth(hone_experiment_trial(e, t)->params));
    }
    const hone_value_t *rows[16];
    for (uint32_t t = 0; t < 16; t++)
        rows[t] = hone_experiment_trial(e, t)->params;
    double mean[16], sem[16];
    hone_error_t err;
    assert_int_equal(hone_experiment_predict(e, 16, rows, mean, sem, &err), HONE_OK);
    for (uint32_t t = 0; t < 16; t++) {
        double y = s_smooth(rows[t]);
        assert_true(fabs(mean[t] - y) < 0.02);
        /* y spans about 2; the inferred noise keeps the SEM off zero */
        assert_true(sem[t] > 0.0 && sem[t] < 0.05);
    }
    /* A function of the data: the same answer twice. */
    double mean2[16], sem2[16];
    assert_int_equal(hone_experiment_predict(e, 16, rows, mean2, sem2, &err), HONE_OK);
    assert_memory_equal(mean, mean2, sizeof mean);
    assert_memory_equal(sem, sem2, sizeof sem);
    hone_experiment_destroy(&e);
}

/* Away from the data (1-D: the middle of the widest gap, and beyond the observed range)
 * the SEM is much larger than at the data. */
static void test_predict_sem_away_from_data(void **state)
{
    (void) state;
    const char *json =
        "{\"name\":\"line\",\"objective\":\"-y\","
        "\"generation_strategy\":{\"method\":\"random_search\",\"initialization_random_seed\":2},"
        "\"parameters\":[{\"name\":\"x\",\"bounds\":[0,10]}]}";
    hone_experiment_t *e = s_new(json);
    /* Observations only on [0, 4]: trials outside are abandoned. */
    int observed = 0;
    double xs[64];
    for (int i = 0; i < 64 && observed < 6; i++) {
        uint32_t t = s_next(e);
        double x = hone_experiment_trial(e, t)->params[0].u.f;
        hone_error_t err;
        if (x <= 4.0) {
            s_complete(e, t, "y", sin(x));
            xs[observed++] = x;
        } else {
            assert_int_equal(hone_experiment_mark(e, t, HONE_TRIAL_ABANDONED, NULL, &err), HONE_OK);
        }
    }
    assert_int_equal(observed, 6);
    hone_value_t at_data = hone_value_float(xs[0]), far = hone_value_float(9.5);
    const hone_value_t *rows[2] = { &at_data, &far };
    double mean[2], sem[2];
    hone_error_t err;
    assert_int_equal(hone_experiment_predict(e, 2, rows, mean, sem, &err), HONE_OK);
    assert_true(fabs(mean[0] - sin(xs[0])) < 0.02);   /* minimized metric: its own units and sign */
    assert_true(sem[0] > 0.0);
    assert_true(sem[1] > 0.1);
    assert_true(sem[1] > 10.0 * sem[0]);
    hone_experiment_destroy(&e);
}

static void test_predict_errors(void **state)
{
    (void) state;
    hone_experiment_t *e = s_new(s_smooth_config);
    hone_value_t p[2] = { hone_value_float(0.5), hone_value_float(0.5) };
    const hone_value_t *rows[1] = { p };
    double mean, sem;
    hone_error_t err;
    /* Not enough data: none, then one observation. */
    assert_int_equal(hone_experiment_predict(e, 1, rows, &mean, &sem, &err), HONE_EDATA);
    uint32_t t = s_next(e);
    s_complete(e, t, "y", 1.0);
    s_next(e);   /* RUNNING: not data */
    assert_int_equal(hone_experiment_predict(e, 1, rows, &mean, &sem, &err), HONE_EDATA);
    t = s_next(e);
    s_complete(e, t, "y", 2.0);
    assert_int_equal(hone_experiment_predict(e, 1, rows, &mean, &sem, &err), HONE_OK);

    /* Bad parameterizations: out of bounds, wrong type, a violated constraint. */
    hone_value_t bad[2] = { hone_value_float(0.5), hone_value_float(1.5) };
    const hone_value_t *two[2] = { p, bad };
    double mean2[2], sem2[2];
    assert_int_equal(hone_experiment_predict(e, 2, two, mean2, sem2, &err), HONE_EINVAL);
    assert_non_null(strstr(err.message, "points[1]"));
    assert_non_null(strstr(err.message, "x2"));
    hone_value_t str[2] = { hone_value_str("a"), hone_value_float(0.5) };
    rows[0] = str;
    assert_int_equal(hone_experiment_predict(e, 1, rows, &mean, &sem, &err), HONE_EINVAL);
    assert_non_null(strstr(err.message, "x1"));
    hone_value_t out[2] = { hone_value_float(0.95), hone_value_float(0.95) };
    rows[0] = out;
    assert_int_equal(hone_experiment_predict(e, 1, rows, &mean, &sem, &err), HONE_EINVAL);
    assert_non_null(strstr(err.message, "x1 + x2 <= 1.8"));
    hone_experiment_destroy(&e);
}

/* Branin + N(0, 5²) noise, 30 trials of "fast": the model path's pick is truly at least
 * as good as the raw path's (the raw best is biased toward lucky noise) in most seeds. */
static void test_model_best_under_noise(void **state)
{
    (void) state;
    int at_least_as_good = 0, model_source = 0;
    const int seeds = 5;
    for (int s = 0; s < seeds; s++) {
        char *json = NULL;
        if (asprintf(&json,
                     "{\"name\":\"b\",\"objective\":\"-branin\","
                     "\"generation_strategy\":{\"method\":\"fast\",\"initialization_random_seed\":%d},"
                     "\"parameters\":[{\"name\":\"x1\",\"bounds\":[-5,10]},{\"name\":\"x2\",\"bounds\":[0,15]}]}",
                     100 + s) < 0)
            abort();
        hone_experiment_t *e = s_new(json);
        free(json);
        hone_rng_t rng;
        hone_rng_seed(&rng, 1000 + (uint64_t) s);
        for (int i = 0; i < 30; i++) {
            uint32_t t = s_next(e);
            s_complete(e, t, "branin", s_branin_at(e, t) + 5.0 * s_normal(&rng));
        }
        hone_best_point_t raw, model;
        hone_error_t err;
        assert_int_equal(hone_experiment_best_ex(e, false, &raw, &err), HONE_OK);
        assert_int_equal(raw.source, HONE_BEST_RAW);
        assert_int_equal(hone_experiment_best_ex(e, true, &model, &err), HONE_OK);
        double raw_true = s_branin_at(e, raw.trial), model_true = s_branin_at(e, model.trial);
        print_message("seed %d: raw trial %u (true %.3f, observed %.3f), %s trial %u (true %.3f, "
                      "predicted %.3f ± %.3f), rho %.3f\n",
                      s, raw.trial, raw_true, raw.mean, hone_best_source_name(model.source), model.trial,
                      model_true, model.mean, model.sem, model.loo_rho);
        at_least_as_good += model_true <= raw_true;
        if (model.source == HONE_BEST_MODEL) {
            model_source++;
            assert_string_equal(hone_best_source_name(model.source), "model");
            assert_true(model.loo_rho >= 0.3);
            assert_true(model.sem > 0.0 && isfinite(model.mean));
        }
        /* The old entry point follows the model path too. */
        uint32_t trial;
        double mean;
        assert_int_equal(hone_experiment_best(e, &trial, &mean, NULL, &err), HONE_OK);
        assert_int_equal(trial, model.trial);
        assert_true(mean == model.mean);
        hone_experiment_destroy(&e);
    }
    /* The LOO check may send a seed to the raw path (ρ < 0.3), not most of them. */
    assert_true(model_source >= seeds - 1);
    assert_true(at_least_as_good >= 3);
}

/* Data a GP cannot explain (pure noise), or too little of it: the raw path answers. */
static void test_loo_fallback(void **state)
{
    (void) state;
    const char *json =
        "{\"name\":\"noise\",\"objective\":\"y\","
        "\"generation_strategy\":{\"method\":\"fast\",\"initialization_random_seed\":9},"
        "\"parameters\":[{\"name\":\"x1\",\"bounds\":[0,1]},{\"name\":\"x2\",\"bounds\":[0,1]}]}";
    hone_experiment_t *e = s_new(json);
    hone_rng_t rng;
    hone_rng_seed(&rng, 77);
    hone_best_point_t b;
    hone_error_t err;
    for (int i = 0; i < 3; i++) {
        uint32_t t = s_next(e);
        s_complete(e, t, "y", s_normal(&rng));
    }
    /* n = 3 */
    assert_int_equal(hone_experiment_best_ex(e, true, &b, &err), HONE_OK);
    assert_int_equal(b.source, HONE_BEST_RAW);
    assert_true(isnan(b.loo_rho));
    for (int i = 3; i < 25; i++) {
        uint32_t t = s_next(e);
        s_complete(e, t, "y", s_normal(&rng));
    }
    /* pure noise */
    assert_int_equal(hone_experiment_best_ex(e, true, &b, &err), HONE_OK);
    print_message("pure noise: rho %.3f\n", b.loo_rho);
    assert_int_equal(b.source, HONE_BEST_RAW);
    assert_string_equal(hone_best_source_name(b.source), "raw");
    hone_best_point_t raw;
    assert_int_equal(hone_experiment_best_ex(e, false, &raw, &err), HONE_OK);
    assert_int_equal(b.trial, raw.trial);
    assert_true(b.mean == raw.mean);
    hone_experiment_destroy(&e);
}

/* random_search keeps the raw path, even on data a model fits well. */
static void test_random_search_is_raw(void **state)
{
    (void) state;
    hone_experiment_t *e = s_new(s_smooth_config);
    double best = -INFINITY;
    uint32_t best_trial = 0;
    for (int i = 0; i < 16; i++) {
        uint32_t t = s_next(e);
        double y = s_smooth(hone_experiment_trial(e, t)->params);
        s_complete(e, t, "y", y);
        if (y > best) {
            best = y;
            best_trial = t;
        }
    }
    hone_best_point_t b;
    hone_error_t err;
    assert_int_equal(hone_experiment_best_ex(e, true, &b, &err), HONE_OK);
    assert_int_equal(b.source, HONE_BEST_RAW);
    assert_int_equal(b.trial, best_trial);
    assert_true(b.mean == best);
    hone_experiment_destroy(&e);
}

/* hone_gp_loo's closed form against refitting-free brute force: the model on the other
 * n − 1 points with the same hyperparameters, its predictive mean and variance (noise
 * included) at the held-out point. */
static void test_gp_loo_closed_form(void **state)
{
    (void) state;
    enum { N = 9, D = 2 };
    double x[N * D], y[N];
    hone_rng_t rng;
    hone_rng_seed(&rng, 5);
    for (int i = 0; i < N; i++) {
        x[i * D] = hone_rng_uniform(&rng);
        x[i * D + 1] = hone_rng_uniform(&rng);
        y[i] = sin(4.0 * x[i * D]) - x[i * D + 1] + 0.1 * s_normal(&rng);
    }
    const double ls[D] = { 0.4, 0.7 }, noise = 0.05, c = 0.2;
    hone_gp_t *gp = hone_gp_new(D, HONE_KERNEL_MATERN52);
    assert_int_equal(hone_gp_set_data(gp, N, x, y, NULL), HONE_OK);
    hone_gp_set_params(gp, ls, noise, c);
    assert_int_equal(hone_gp_refresh(gp), HONE_OK);
    double mean[N], var[N];
    assert_int_equal(hone_gp_loo(gp, mean, var), HONE_OK);
    hone_gp_t *sub = hone_gp_new(D, HONE_KERNEL_MATERN52);
    hone_gp_work_t *work = hone_gp_work_new(sub, 1);
    for (int i = 0; i < N; i++) {
        double xs[(N - 1) * D], ys[N - 1];
        for (int j = 0, k = 0; j < N; j++) {
            if (j == i)
                continue;
            xs[k * D] = x[j * D];
            xs[k * D + 1] = x[j * D + 1];
            ys[k++] = y[j];
        }
        assert_int_equal(hone_gp_set_data(sub, N - 1, xs, ys, NULL), HONE_OK);
        hone_gp_set_params(sub, ls, noise, c);
        assert_int_equal(hone_gp_refresh(sub), HONE_OK);
        double mu, v;
        assert_int_equal(hone_gp_predict(sub, 1, &x[i * D], &mu, &v, work), HONE_OK);
        assert_true(fabs(mean[i] - mu) < 1e-8);
        assert_true(fabs(var[i] - (v + noise)) < 1e-8);
    }
    hone_gp_work_destroy(&work);
    hone_gp_destroy(&sub);
    /* Fewer than 2 points: no leave-one-out. */
    assert_int_equal(hone_gp_set_data(gp, 1, x, y, NULL), HONE_OK);
    assert_int_equal(hone_gp_refresh(gp), HONE_OK);
    assert_int_equal(hone_gp_loo(gp, mean, var), HONE_EDATA);
    hone_gp_destroy(&gp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gp_loo_closed_form),
        cmocka_unit_test(test_predict_at_training_points),
        cmocka_unit_test(test_predict_sem_away_from_data),
        cmocka_unit_test(test_predict_errors),
        cmocka_unit_test(test_model_best_under_noise),
        cmocka_unit_test(test_loo_fallback),
        cmocka_unit_test(test_random_search_is_raw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
