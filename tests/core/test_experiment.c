#define _GNU_SOURCE
/* Unit tests for core/experiment: center then Sobol, de-duplication and exhaustion,
 * budget and failure limits, data and the raw best point, restore, reproducibility. */
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

static void s_assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("'%s' does not contain '%s'", haystack, needle);
}

static bool s_same_arm(const hone_experiment_t *e, uint32_t a, uint32_t b)
{
    return hone_space_points_equal(hone_experiment_space(e), hone_experiment_trial(e, a)->params,
                                   hone_experiment_trial(e, b)->params);
}

static const char s_branin[] =
    "{\"name\":\"branin\",\"generation_strategy\":{\"method\":\"random_search\"},\"objective\":\"-y\",\"parameters\":["
    "{\"name\":\"x1\",\"bounds\":[-5,10]},{\"name\":\"x2\",\"bounds\":[0,15]}]}";

/* 3 strings x 2 bools: six points; no center so that every point comes from Sobol. */
static const char s_small[] =
    "{\"name\":\"small\",\"objective\":\"y\",\"parameters\":["
    "{\"name\":\"opt\",\"values\":[\"adam\",\"sgd\",\"rmsprop\"]},{\"name\":\"flag\",\"values\":[true,false]}],"
    "\"generation_strategy\":{\"method\":\"random_search\",\"initialize_with_center\":%s}}";

static void test_center_then_sobol(void **state)
{
    (void) state;
    hone_experiment_t *e = exp_check_new(s_branin, 11);
    hone_error_t err;
    uint32_t idx[4], n = 0;
    assert_int_equal(hone_experiment_sobol_drawn(e), 0);
    assert_int_equal(hone_experiment_generate(e, 0, idx, &n, &err), HONE_EINVAL);
    assert_int_equal(hone_experiment_generate(e, 4, idx, &n, &err), HONE_OK);
    assert_int_equal(n, 4);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(idx[i], i);
    const hone_trial_t *c = hone_experiment_trial(e, 0);
    assert_string_equal(c->note, "center");
    assert_int_equal(c->status, HONE_TRIAL_RUNNING);
    assert_true(c->params[0].u.f == 2.5 && c->params[1].u.f == 7.5);
    for (uint32_t i = 1; i < 4; i++) {
        const hone_trial_t *t = hone_experiment_trial(e, i);
        assert_string_equal(t->note, "sobol");
        assert_int_equal(t->status, HONE_TRIAL_RUNNING);
        assert_int_equal(hone_space_check(hone_experiment_space(e), t->params, &err), HONE_OK);
        assert_false(s_same_arm(e, 0, i));
    }
    assert_int_equal(hone_experiment_sobol_drawn(e), 3);
    assert_int_equal(hone_experiment_trial_count(e), 4);
    assert_int_equal(hone_experiment_count_status(e, HONE_TRIAL_RUNNING), 4);
    assert_null(hone_experiment_trial(e, 4));
    /* no second center, even once every trial is over */
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(hone_experiment_mark(e, i, HONE_TRIAL_ABANDONED, NULL, &err), HONE_OK);
    assert_string_equal(hone_experiment_trial(e, exp_check_one(e))->note, "sobol");
    hone_experiment_destroy(&e);
}

static void test_no_duplicates_until_exhausted(void **state)
{
    (void) state;
    char json[512];
    for (int center = 0; center < 2; center++) {
        snprintf(json, sizeof json, s_small, center ? "true" : "false");
        hone_experiment_t *e = exp_check_new(json, 3);
        for (uint32_t i = 0; i < 6; i++)
            exp_check_one(e);
        for (uint32_t a = 0; a < 6; a++)
            for (uint32_t b = a + 1; b < 6; b++)
                assert_false(s_same_arm(e, a, b));
        assert_string_equal(hone_experiment_trial(e, 0)->note, center ? "center" : "sobol");
        uint32_t idx[4], n = 7;
        hone_error_t err;
        hone_error_clear(&err);
        assert_int_equal(hone_experiment_generate(e, 4, idx, &n, &err), HONE_EEXHAUSTED);
        assert_int_equal(n, 0);
        assert_int_equal(err.code, HONE_EEXHAUSTED);
        s_assert_contains(err.message, "6 points");
        hone_experiment_destroy(&e);
    }
    /* a batch stops short at exhaustion and still succeeds */
    snprintf(json, sizeof json, s_small, "true");
    hone_experiment_t *e = exp_check_new(json, 3);
    uint32_t idx[10], n = 0;
    hone_error_t err;
    assert_int_equal(hone_experiment_generate(e, 10, idx, &n, &err), HONE_OK);
    assert_int_equal(n, 6);
    hone_experiment_destroy(&e);
}

static void test_failed_arm_returns_abandoned_never(void **state)
{
    (void) state;
    char json[512];
    snprintf(json, sizeof json, s_small, "false");
    hone_experiment_t *e = exp_check_new(json, 5);
    hone_error_t err;
    for (uint32_t i = 0; i < 6; i++)
        exp_check_one(e);
    assert_int_equal(hone_experiment_mark(e, 2, HONE_TRIAL_FAILED, "oom", &err), HONE_OK);
    assert_string_equal(hone_experiment_trial(e, 2)->reason, "oom");
    uint32_t again = exp_check_one(e);   /* the only free point is the failed arm */
    assert_int_equal(again, 6);
    assert_true(s_same_arm(e, 2, 6));
    /* abandoned arms are never suggested again */
    assert_int_equal(hone_experiment_mark(e, 6, HONE_TRIAL_ABANDONED, "user", &err), HONE_OK);
    assert_int_equal(hone_experiment_mark(e, 4, HONE_TRIAL_ABANDONED, NULL, &err), HONE_OK);
    uint32_t idx[1], n = 0;
    assert_int_equal(hone_experiment_generate(e, 1, idx, &n, &err), HONE_EEXHAUSTED);
    /* failing several trials with the same arm frees it only once all are failed */
    hone_experiment_destroy(&e);

    e = exp_check_new(json, 5);
    for (uint32_t i = 0; i < 6; i++)
        exp_check_one(e);
    assert_int_equal(hone_experiment_mark(e, 0, HONE_TRIAL_FAILED, NULL, &err), HONE_OK);
    assert_true(s_same_arm(e, 0, exp_check_one(e)));          /* trial 6 = arm of 0 */
    assert_int_equal(hone_experiment_generate(e, 1, idx, &n, &err), HONE_EEXHAUSTED);
    assert_int_equal(hone_experiment_mark(e, 6, HONE_TRIAL_FAILED, NULL, &err), HONE_OK);
    assert_true(s_same_arm(e, 0, exp_check_one(e)));          /* trial 7 = the same arm again */
    hone_experiment_destroy(&e);
}

static void test_budget(void **state)
{
    (void) state;
    const char *json = "{\"name\":\"b\",\"generation_strategy\":{\"method\":\"random_search\"},\"objective\":\"y\",\"max_trials\":3,"
                       "\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}";
    hone_experiment_t *e = exp_check_new(json, 1);
    hone_error_t err;
    uint32_t idx[5], n = 0;
    assert_int_equal(hone_experiment_generate(e, 5, idx, &n, &err), HONE_OK);
    assert_int_equal(n, 3);   /* capped by the budget */
    hone_error_clear(&err);
    assert_int_equal(hone_experiment_generate(e, 1, idx, &n, &err), HONE_EAGAIN);
    assert_int_equal(n, 0);
    assert_int_equal(err.code, HONE_EAGAIN);
    s_assert_contains(err.message, "still running");
    hone_reading_in_t r = { "y", 1.0, NAN };
    for (uint32_t i = 0; i < 2; i++) {
        assert_int_equal(hone_experiment_attach(e, i, &r, 1, false, 0, true, &err), HONE_OK);
        assert_int_equal(hone_experiment_mark(e, i, HONE_TRIAL_COMPLETED, NULL, &err), HONE_OK);
    }
    assert_int_equal(hone_experiment_generate(e, 1, idx, &n, &err), HONE_EAGAIN);
    /* a failed trial gives its place back */
    assert_int_equal(hone_experiment_mark(e, 2, HONE_TRIAL_FAILED, NULL, &err), HONE_OK);
    assert_int_equal(hone_experiment_generate(e, 4, idx, &n, &err), HONE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(idx[0], 3);
    /* so does an abandoned one */
    assert_int_equal(hone_experiment_mark(e, 3, HONE_TRIAL_ABANDONED, NULL, &err), HONE_OK);
    assert_int_equal(exp_check_one(e), 4);
    assert_int_equal(hone_experiment_mark(e, 4, HONE_TRIAL_COMPLETED, NULL, &err), HONE_OK);
    hone_error_clear(&err);
    assert_int_equal(hone_experiment_generate(e, 1, idx, &n, &err), HONE_EDONE);
    assert_int_equal(n, 0);
    s_assert_contains(err.message, "budget of 3 trials");
    hone_experiment_destroy(&e);
}

static void test_max_failures(void **state)
{
    (void) state;
    const char *json = "{\"name\":\"f\",\"generation_strategy\":{\"method\":\"random_search\"},\"objective\":\"y\",\"max_failures\":2,"
                       "\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}";
    hone_experiment_t *e = exp_check_new(json, 1);
    hone_error_t err;
    uint32_t idx[3], n = 0;
    assert_int_equal(hone_experiment_generate(e, 3, idx, &n, &err), HONE_OK);
    assert_int_equal(hone_experiment_mark(e, 0, HONE_TRIAL_FAILED, NULL, &err), HONE_OK);
    assert_int_equal(hone_experiment_generate(e, 1, idx, &n, &err), HONE_OK);
    assert_int_equal(hone_experiment_mark(e, 1, HONE_TRIAL_FAILED, NULL, &err), HONE_OK);
    hone_error_clear(&err);
    assert_int_equal(hone_experiment_generate(e, 1, idx, &n, &err), HONE_EDONE);
    s_assert_contains(err.message, "2 trials failed");
    s_assert_contains(err.message, "max_failures");
    hone_experiment_destroy(&e);

    /* the default limit is max_trials: with 2 trials, 2 failures stop it */
    json = "{\"name\":\"f\",\"generation_strategy\":{\"method\":\"random_search\"},\"objective\":\"y\",\"max_trials\":2,\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}";
    e = exp_check_new(json, 1);
    for (uint32_t i = 0; i < 2; i++) {
        uint32_t t = exp_check_one(e);
        assert_int_equal(hone_experiment_mark(e, t, HONE_TRIAL_FAILED, NULL, &err), HONE_OK);
    }
    assert_int_equal(hone_experiment_generate(e, 1, idx, &n, &err), HONE_EDONE);
    s_assert_contains(err.message, "max_failures");
    hone_experiment_destroy(&e);
}

static void s_complete(hone_experiment_t *e, uint32_t t, const char *metric, double mean, double sem)
{
    hone_error_t err;
    hone_reading_in_t r = { metric, mean, sem };
    assert_int_equal(hone_experiment_attach(e, t, &r, 1, false, 0, true, &err), HONE_OK);
    assert_int_equal(hone_experiment_mark(e, t, HONE_TRIAL_COMPLETED, NULL, &err), HONE_OK);
}

static void test_best(void **state)
{
    (void) state;
    for (int minimize = 0; minimize < 2; minimize++) {
        const char *json = minimize ? "{\"name\":\"m\",\"generation_strategy\":{\"method\":\"random_search\"},\"objective\":\"-loss\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}"
                                    : "{\"name\":\"m\",\"generation_strategy\":{\"method\":\"random_search\"},\"objective\":\"loss\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}";
        hone_experiment_t *e = exp_check_new(json, 2);
        hone_error_t err;
        uint32_t idx[7], n = 0, best = 99;
        double mean = 0, sem = 0;
        hone_error_clear(&err);
        assert_int_equal(hone_experiment_best(e, &best, &mean, &sem, &err), HONE_EDATA);
        s_assert_contains(err.message, "objective metric 'loss'");
        assert_int_equal(hone_experiment_generate(e, 7, idx, &n, &err), HONE_OK);
        /* data on a running trial and on another metric does not count */
        hone_reading_in_t r = { "loss", minimize ? -100.0 : 100.0, 0.0 };
        assert_int_equal(hone_experiment_attach(e, 6, &r, 1, false, 0, true, &err), HONE_OK);
        s_complete(e, 5, "other", 1.0, NAN);
        assert_int_equal(hone_experiment_best(e, &best, &mean, &sem, &err), HONE_EDATA);
        s_complete(e, 0, "loss", 3.0, 0.1);
        s_complete(e, 1, "loss", 1.0, 0.2);
        s_complete(e, 2, "loss", 5.0, 0.3);
        s_complete(e, 3, "loss", 1.0, 0.4);   /* ties trial 1 */
        s_complete(e, 4, "loss", 5.0, NAN);   /* ties trial 2 */
        assert_int_equal(hone_experiment_best(e, &best, &mean, &sem, &err), HONE_OK);
        assert_int_equal(best, minimize ? 1 : 2);
        assert_true(mean == (minimize ? 1.0 : 5.0));
        assert_true(sem == (minimize ? 0.2 : 0.3));
        /* the latest reading counts: a later progression on trial 0 makes it best */
        hone_reading_in_t later = { "loss", minimize ? 0.5 : 6.0, 0.05 };
        assert_int_equal(hone_experiment_attach(e, 0, &later, 1, true, 10, false, &err), HONE_OK);
        assert_int_equal(hone_experiment_best(e, &best, &mean, NULL, &err), HONE_OK);
        assert_int_equal(best, minimize ? 1 : 2);   /* "no progression" still wins for trial 0 */
        assert_int_equal(hone_experiment_attach(e, 0, &later, 1, false, 0, false, &err), HONE_OK);
        assert_int_equal(hone_experiment_best(e, &best, &mean, NULL, &err), HONE_OK);
        assert_int_equal(best, 0);
        assert_true(mean == later.mean);
        /* metrics: objective first, then in order of first reading */
        assert_int_equal(hone_experiment_metric_count(e), 2);
        assert_string_equal(hone_experiment_metric_name(e, 0), "loss");
        assert_string_equal(hone_experiment_metric_name(e, 1), "other");
        assert_null(hone_experiment_metric_name(e, 2));
        hone_experiment_destroy(&e);
    }
}

static void test_attach_errors_all_or_nothing(void **state)
{
    (void) state;
    hone_experiment_t *e = exp_check_new(s_branin, 1);
    hone_error_t err;
    uint32_t idx[2], n = 0;
    assert_int_equal(hone_experiment_generate(e, 2, idx, &n, &err), HONE_OK);
    hone_reading_in_t good = { "y", 1.0, 0.1 };
    assert_int_equal(hone_experiment_attach(e, 7, &good, 1, false, 0, false, &err), HONE_ENOTFOUND);
    assert_int_equal(hone_experiment_attach(e, 0, &good, 0, false, 0, false, &err), HONE_EINVAL);
    hone_reading_in_t bad[][2] = {
        { { "new_metric", 1.0, 0.1 }, { "", 1.0, 0.1 } },
        { { "new_metric", 1.0, 0.1 }, { "y", NAN, 0.1 } },
        { { "new_metric", 1.0, 0.1 }, { "y", INFINITY, 0.1 } },
        { { "new_metric", 1.0, 0.1 }, { "y", 1.0, -0.1 } },
        { { "new_metric", 1.0, 0.1 }, { "y", 1.0, INFINITY } },
        { { "new_metric", 1.0, 0.1 }, { NULL, 1.0, 0.1 } },
    };
    for (size_t i = 0; i < HONE_ARRAY_LEN(bad); i++) {
        hone_error_clear(&err);
        assert_int_equal(hone_experiment_attach(e, 0, bad[i], 2, false, 0, false, &err), HONE_EINVAL);
        assert_true(strlen(err.message) > 0);
    }
    /* nothing was stored, no metric registered */
    assert_int_equal(hone_experiment_trial(e, 0)->n_readings, 0);
    assert_int_equal(hone_experiment_metric_find(e, "new_metric"), -1);
    /* the worker rule: data only while RUNNING; the client path has no status check */
    assert_int_equal(hone_experiment_attach(e, 0, &good, 1, false, 0, true, &err), HONE_OK);
    assert_int_equal(hone_experiment_mark(e, 0, HONE_TRIAL_COMPLETED, NULL, &err), HONE_OK);
    assert_int_equal(hone_experiment_attach(e, 0, &good, 1, false, 0, true, &err), HONE_ESTATE);
    s_assert_contains(err.message, "COMPLETED");
    assert_int_equal(hone_experiment_attach(e, 0, &good, 1, false, 0, false, &err), HONE_OK);
    assert_int_equal(hone_experiment_mark(e, 1, HONE_TRIAL_FAILED, NULL, &err), HONE_OK);
    assert_int_equal(hone_experiment_attach(e, 1, bad[0], 1, true, 3, false, &err), HONE_OK);
    assert_int_equal(hone_experiment_metric_find(e, "new_metric"), 1);
    hone_experiment_destroy(&e);
}

/* Copies the trials of src into a fresh experiment from the same canonical config,
 * the way the broker reloads from storage (strings owned by the caller). */
static hone_experiment_t *s_restore_copy(const hone_experiment_t *src)
{
    const char *canonical = hone_experiment_config_json(src);
    hone_experiment_t *dst = exp_check_new(canonical, 777);
    size_t dim = hone_space_size(hone_experiment_space(src));
    hone_error_t err;
    for (uint32_t i = 0; i < hone_experiment_trial_count(src); i++) {
        const hone_trial_t *t = hone_experiment_trial(src, i);
        hone_value_t *params = calloc(dim, sizeof(hone_value_t));
        char **owned = calloc(dim, sizeof(char *));
        for (size_t k = 0; k < dim; k++) {
            params[k] = t->params[k];
            if (params[k].type == HONE_TYPE_STR) {
                owned[k] = strdup(params[k].u.s);
                params[k].u.s = owned[k];
            }
        }
        assert_int_equal(hone_experiment_restore_trial(dst, i, t->status, params, t->note, t->reason, &err), HONE_OK);
        for (size_t k = 0; k < dim; k++)
            free(owned[k]);
        free(owned);
        free(params);
        for (size_t r = 0; r < t->n_readings; r++) {
            const hone_reading_t *rd = &t->readings[r];
            hone_reading_in_t in = { hone_experiment_metric_name(src, rd->metric), rd->mean, rd->sem };
            assert_int_equal(hone_experiment_attach(dst, i, &in, 1, rd->has_progression, rd->progression, false, &err),
                             HONE_OK);
        }
    }
    hone_experiment_restore_sobol(dst, hone_experiment_sobol_drawn(src));
    return dst;
}

static void s_assert_same_trials(const hone_experiment_t *a, const hone_experiment_t *b)
{
    assert_int_equal(hone_experiment_trial_count(a), hone_experiment_trial_count(b));
    size_t dim = hone_space_size(hone_experiment_space(a));
    for (uint32_t i = 0; i < hone_experiment_trial_count(a); i++) {
        const hone_trial_t *ta = hone_experiment_trial(a, i), *tb = hone_experiment_trial(b, i);
        assert_int_equal(ta->status, tb->status);
        assert_string_equal(ta->note, tb->note);
        for (size_t k = 0; k < dim; k++) {
            assert_int_equal(ta->params[k].type, tb->params[k].type);
            if (ta->params[k].type == HONE_TYPE_STR)
                assert_string_equal(ta->params[k].u.s, tb->params[k].u.s);
            else
                assert_memory_equal(&ta->params[k].u, &tb->params[k].u, sizeof ta->params[k].u);
        }
    }
}

static const char s_mixed[] =
    "{\"name\":\"mixed\",\"generation_strategy\":{\"method\":\"random_search\"},\"objective\":\"-loss\",\"parameters\":["
    "{\"name\":\"lr\",\"bounds\":[1e-5,0.1],\"scaling\":\"log\"},"
    "{\"name\":\"layers\",\"bounds\":[1,4],\"parameter_type\":\"int\"},"
    "{\"name\":\"opt\",\"values\":[\"adam\",\"sgd\",\"rmsprop\"]},"
    "{\"name\":\"ver\",\"values\":[\"v1\"]},"
    "{\"name\":\"flag\",\"values\":[false,true]}]}";

static void test_restore_continues_sequence(void **state)
{
    (void) state;
    hone_experiment_t *straight = exp_check_new(s_mixed, 31337);
    hone_experiment_t *a = exp_check_new(s_mixed, 31337);
    hone_error_t err;
    uint32_t idx[40], n = 0;
    assert_int_equal(hone_experiment_generate(a, 8, idx, &n, &err), HONE_OK);
    assert_int_equal(hone_experiment_mark(a, 1, HONE_TRIAL_FAILED, "crash", &err), HONE_OK);
    assert_int_equal(hone_experiment_mark(a, 2, HONE_TRIAL_ABANDONED, NULL, &err), HONE_OK);
    s_complete(a, 3, "loss", 0.5, NAN);
    hone_reading_in_t curve = { "acc", 0.9, 0.01 };
    assert_int_equal(hone_experiment_attach(a, 4, &curve, 1, true, 5, true, &err), HONE_OK);
    /* the uninterrupted twin goes through the same steps */
    assert_int_equal(hone_experiment_generate(straight, 8, idx, &n, &err), HONE_OK);
    assert_int_equal(hone_experiment_mark(straight, 1, HONE_TRIAL_FAILED, "crash", &err), HONE_OK);
    assert_int_equal(hone_experiment_mark(straight, 2, HONE_TRIAL_ABANDONED, NULL, &err), HONE_OK);
    s_complete(straight, 3, "loss", 0.5, NAN);

    hone_experiment_t *b = s_restore_copy(a);
    s_assert_same_trials(a, b);
    assert_int_equal(hone_experiment_sobol_drawn(b), hone_experiment_sobol_drawn(a));
    assert_int_equal(hone_experiment_count_status(b, HONE_TRIAL_FAILED), 1);
    assert_string_equal(hone_experiment_trial(b, 1)->reason, "crash");
    uint32_t best = 0;
    assert_int_equal(hone_experiment_best(b, &best, NULL, NULL, &err), HONE_OK);
    assert_int_equal(best, 3);
    assert_int_equal(hone_experiment_generate(a, 30, idx, &n, &err), HONE_OK);
    assert_int_equal(hone_experiment_generate(b, 30, idx, &n, &err), HONE_OK);
    assert_int_equal(hone_experiment_generate(straight, 30, idx, &n, &err), HONE_OK);
    s_assert_same_trials(a, b);
    s_assert_same_trials(a, straight);

    /* restore_sobol can also go back */
    hone_experiment_t *c = s_restore_copy(b);
    uint64_t drawn = hone_experiment_sobol_drawn(c);
    assert_int_equal(hone_experiment_generate(c, 3, idx, &n, &err), HONE_OK);
    hone_experiment_restore_sobol(c, 0);
    assert_int_equal(hone_experiment_sobol_drawn(c), 0);
    hone_experiment_restore_sobol(c, drawn);
    assert_int_equal(hone_experiment_sobol_drawn(c), drawn);

    /* restore_trial checks its input */
    hone_value_t params[5] = { hone_value_float(0.01), hone_value_int(2), hone_value_str("adam"),
                               hone_value_str("v1"), hone_value_bool(true) };
    size_t count = hone_experiment_trial_count(b);
    assert_int_equal(hone_experiment_restore_trial(b, (uint32_t) count + 1, HONE_TRIAL_RUNNING, params, NULL,
                                                   NULL, &err), HONE_EINVAL);
    assert_int_equal(hone_experiment_restore_trial(b, (uint32_t) count, (hone_trial_status_t) 6, params, NULL,
                                                   NULL, &err), HONE_EINVAL);
    params[2] = hone_value_str("momentum");
    assert_int_equal(hone_experiment_restore_trial(b, (uint32_t) count, HONE_TRIAL_RUNNING, params, "manual",
                                                   NULL, &err), HONE_EINVAL);
    s_assert_contains(err.message, "parameter 'opt'");
    params[2] = hone_value_str("sgd");
    params[1] = hone_value_float(3.0);   /* interned to the int 3 */
    assert_int_equal(hone_experiment_restore_trial(b, (uint32_t) count, HONE_TRIAL_RUNNING, params, "manual",
                                                   NULL, &err), HONE_OK);
    const hone_trial_t *t = hone_experiment_trial(b, (uint32_t) count);
    assert_int_equal(t->params[1].type, HONE_TYPE_INT);
    assert_int_equal(t->params[1].u.i, 3);
    assert_string_equal(t->note, "manual");
    assert_ptr_equal(t->params[2].u.s, hone_space_param(hone_experiment_space(b), 2)->values[1].u.s);

    hone_experiment_destroy(&a);
    hone_experiment_destroy(&b);
    hone_experiment_destroy(&c);
    hone_experiment_destroy(&straight);
}

static void test_reproducible_with_seed(void **state)
{
    (void) state;
    hone_experiment_t *a = exp_check_new(s_mixed, 9), *b = exp_check_new(s_mixed, 9), *c = exp_check_new(s_mixed, 10);
    hone_error_t err;
    uint32_t idx[50], n = 0;
    assert_int_equal(hone_experiment_generate(a, 50, idx, &n, &err), HONE_OK);
    /* batch size does not matter */
    for (int i = 0; i < 10; i++)
        assert_int_equal(hone_experiment_generate(b, 5, idx, &n, &err), HONE_OK);
    assert_int_equal(hone_experiment_generate(c, 50, idx, &n, &err), HONE_OK);
    s_assert_same_trials(a, b);
    /* another seed gives other Sobol points (the center is the same) */
    const hone_trial_t *ta = hone_experiment_trial(a, 1), *tc = hone_experiment_trial(c, 1);
    assert_true(ta->params[0].u.f != tc->params[0].u.f);
    assert_true(s_same_arm(a, 0, 0));
    hone_experiment_destroy(&a);
    hone_experiment_destroy(&b);
    hone_experiment_destroy(&c);
}

static void test_many_trials_6d(void **state)
{
    (void) state;
    const char *json = "{\"name\":\"h6\",\"generation_strategy\":{\"method\":\"random_search\"},\"objective\":\"-y\",\"max_failures\":100000,\"parameters\":["
                       "{\"name\":\"x1\",\"bounds\":[0,1]},{\"name\":\"x2\",\"bounds\":[0,1]},"
                       "{\"name\":\"x3\",\"bounds\":[0,1]},{\"name\":\"x4\",\"bounds\":[0,1]},"
                       "{\"name\":\"x5\",\"bounds\":[0,1]},{\"name\":\"x6\",\"bounds\":[0,1]}]}";
    hone_experiment_t *e = exp_check_new(json, 6);
    hone_error_t err;
    uint32_t idx[100], n = 0;
    for (int round = 0; round < 50; round++) {
        assert_int_equal(hone_experiment_generate(e, 100, idx, &n, &err), HONE_OK);
        assert_int_equal(n, 100);
        for (uint32_t i = 0; i < n; i += 7) {
            if (i % 2)
                assert_int_equal(hone_experiment_mark(e, idx[i], HONE_TRIAL_FAILED, NULL, &err), HONE_OK);
            else
                s_complete(e, idx[i], "y", (double) i, NAN);
        }
    }
    assert_int_equal(hone_experiment_trial_count(e), 5000);
    assert_int_equal(hone_experiment_sobol_drawn(e), 4999);   /* no duplicates in a continuous space */
    hone_experiment_destroy(&e);
}

/* ---- parameter constraints ---- */

static char *s_constrained(const char *method, int seed, const char *params, const char *constraints,
                           const char *extra)
{
    char *json = NULL;
    if (asprintf(&json,
                 "{\"name\":\"c\",\"objective\":\"-y\",\"parameters\":[%s],\"parameter_constraints\":[%s],"
                 "\"generation_strategy\":{\"method\":\"%s\",\"initialization_random_seed\":%d%s}}",
                 params, constraints, method, seed, extra ? extra : "") < 0)
        abort();
    return json;
}

#define S_BRANIN_PARAMS "{\"name\":\"x1\",\"bounds\":[-5,10]},{\"name\":\"x2\",\"bounds\":[0,15]}"

/* Random search on Branin with x1 + x2 <= 5 (about 22% of the box): hundreds of draws,
 * every trial feasible, none repeated, and the midpoint (2.5, 7.5) replaced. */
static void test_constrained_random_search(void **state)
{
    (void) state;
    char *json = s_constrained("random_search", 5, S_BRANIN_PARAMS, "\"x1 + x2 <= 5\"", NULL);
    hone_experiment_t *e = exp_check_new(json, 1);
    free(json);
    enum { N = 400 };
    uint32_t idx[N], n = 0;
    hone_error_t err;
    assert_int_equal(hone_experiment_generate(e, N, idx, &n, &err), HONE_OK);
    assert_int_equal(n, N);
    const hone_trial_t *c = hone_experiment_trial(e, 0);
    assert_string_equal(c->note, "center (Chebyshev center: the midpoint violates a parameter constraint)");
    double r = (2.0 / 3.0) * (2.0 - sqrt(2.0)) / 2.0;   /* incenter of the triangle, unit coordinates */
    assert_true(fabs(c->params[0].u.f - (-5 + 15 * r)) < 1e-4);
    assert_true(fabs(c->params[1].u.f - 15 * r) < 1e-4);
    double lo1 = INFINITY, hi2 = -INFINITY;
    for (uint32_t t = 0; t < N; t++) {
        const hone_trial_t *tr = hone_experiment_trial(e, t);
        double x1 = tr->params[0].u.f, x2 = tr->params[1].u.f;
        if (x1 + x2 > 5 + 1e-8)
            fail_msg("trial %u (%s) violates x1 + x2 <= 5: (%g, %g)", t, tr->note, x1, x2);
        if (t > 0)
            assert_string_equal(tr->note, "sobol");
        for (uint32_t u = 0; u < t; u++)
            assert_false(s_same_arm(e, t, u));
        lo1 = fmin(lo1, x1);
        hi2 = fmax(hi2, x2);
    }
    /* they cover the feasible triangle, not a corner of it */
    assert_true(lo1 < -4.5 && hi2 > 9);
    /* about 4.5 Sobol draws per feasible point */
    assert_true(hone_experiment_sobol_drawn(e) > 3 * N && hone_experiment_sobol_drawn(e) < 6 * N);
    hone_experiment_destroy(&e);
}

/* An int parameter in a constraint: the generated ints are ints, and feasible after
 * rounding; a feasible midpoint stays the center. */
static void test_constrained_int(void **state)
{
    (void) state;
    char *json = s_constrained("random_search", 9,
                               "{\"name\":\"n\",\"bounds\":[0,20],\"parameter_type\":\"int\"},"
                               "{\"name\":\"x\",\"bounds\":[0,1]},"
                               "{\"name\":\"k\",\"values\":[1,2,3]}",
                               "\"n + 10*x <= 12.5\", \"n - k >= 1\"", NULL);
    hone_experiment_t *e = exp_check_new(json, 1);
    free(json);
    uint32_t idx[150], n = 0;
    hone_error_t err;
    assert_int_equal(hone_experiment_generate(e, 150, idx, &n, &err), HONE_OK);
    assert_int_equal(n, 150);
    /* the midpoint (10, 0.5, 2) violates n + 10x <= 12.5... 10 + 5 = 15 */
    assert_string_equal(hone_experiment_trial(e, 0)->note,
                        "center (Chebyshev center: the midpoint violates a parameter constraint)");
    for (uint32_t t = 0; t < n; t++) {
        const hone_value_t *p = hone_experiment_trial(e, t)->params;
        assert_int_equal(p[0].type, HONE_TYPE_INT);
        assert_int_equal(p[2].type, HONE_TYPE_INT);
        assert_true((double) p[0].u.i + 10 * p[1].u.f <= 12.5 + 1e-8);
        assert_true(p[0].u.i - p[2].u.i >= 1);
    }
    hone_experiment_destroy(&e);

    /* a feasible midpoint is the plain center */
    json = s_constrained("random_search", 9, S_BRANIN_PARAMS, "\"x1 + x2 <= 20\"", NULL);
    e = exp_check_new(json, 1);
    free(json);
    uint32_t t = exp_check_one(e);
    assert_string_equal(hone_experiment_trial(e, t)->note, "center");
    assert_true(hone_experiment_trial(e, t)->params[0].u.f == 2.5);
    hone_experiment_destroy(&e);
}

/* A polytope of about 2e-7 of the box: the Chebyshev center is still found, then
 * rejection sampling gives up with a message that says why. */
static void test_constrained_exhaustion(void **state)
{
    (void) state;
    char *json = s_constrained("random_search", 3, S_BRANIN_PARAMS, "\"x1 + x2 >= 24.99\"", NULL);
    hone_experiment_t *e = exp_check_new(json, 1);
    free(json);
    uint32_t idx[5], n = 0;
    hone_error_t err;
    hone_error_clear(&err);
    assert_int_equal(hone_experiment_generate(e, 5, idx, &n, &err), HONE_OK);
    assert_int_equal(n, 1);   /* fewer than asked is a success */
    const hone_trial_t *c = hone_experiment_trial(e, 0);
    assert_true(c->params[0].u.f + c->params[1].u.f >= 24.99 - 1e-8);
    assert_int_equal(hone_experiment_generate(e, 1, idx, &n, &err), HONE_EEXHAUSTED);
    assert_int_equal(n, 0);
    s_assert_contains(err.message, "none of 10000 consecutive Sobol draws satisfied the parameter constraints; "
                      "they leave (almost) no feasible point in the search space");
    hone_experiment_destroy(&e);

    /* No feasible point at all: the center node is skipped, and Sobol says so. */
    json = s_constrained("random_search", 3,
                         "{\"name\":\"n\",\"bounds\":[0,10],\"parameter_type\":\"int\"}",
                         "\"n >= 2.2\", \"n <= 2.8\"", NULL);
    e = exp_check_new(json, 1);
    free(json);
    assert_int_equal(hone_experiment_generate(e, 1, idx, &n, &err), HONE_EEXHAUSTED);
    s_assert_contains(err.message, "leave (almost) no feasible point");
    assert_int_equal(hone_experiment_trial_count(e), 0);
    hone_experiment_destroy(&e);

    /* The center node skipped: 8n − m >= 2.6 and 10n − m <= 8.1 leave n = 1 and m in
     * 2..5 of the 11 × 11 integers, and the lattice points next to the Chebyshev center of
     * the wedge are all outside it; Sobol still finds the four. */
    json = s_constrained("random_search", 3,
                         "{\"name\":\"n\",\"bounds\":[0,10],\"parameter_type\":\"int\"},"
                         "{\"name\":\"m\",\"bounds\":[0,10],\"parameter_type\":\"int\"}",
                         "\"-8*n + m <= -2.6\", \"10*n - m <= 8.1\"", NULL);
    e = exp_check_new(json, 1);
    free(json);
    assert_int_equal(hone_experiment_generate(e, 10, idx, &n, &err), HONE_OK);
    assert_int_equal(n, 4);
    assert_string_equal(hone_experiment_trial(e, 0)->note,
                        "sobol (no feasible point found near the center: the center node is skipped)");
    for (uint32_t t = 0; t < 4; t++) {
        const hone_value_t *p = hone_experiment_trial(e, t)->params;
        assert_int_equal(p[0].u.i, 1);
        assert_true(p[1].u.i >= 2 && p[1].u.i <= 5);
    }
    hone_experiment_destroy(&e);

    /* A small feasible set used up: 3 feasible points of 11 × 3. */
    json = s_constrained("random_search", 3,
                         "{\"name\":\"n\",\"bounds\":[0,10],\"parameter_type\":\"int\"},"
                         "{\"name\":\"k\",\"values\":[1,2,3]}",
                         "\"n + k <= 2\"", ",\"initialize_with_center\":false");
    e = exp_check_new(json, 1);
    free(json);
    assert_int_equal(hone_experiment_generate(e, 5, idx, &n, &err), HONE_OK);
    assert_int_equal(n, 3);   /* (0, 1), (1, 1) and (0, 2) */
    hone_error_clear(&err);
    assert_int_equal(hone_experiment_generate(e, 1, idx, &n, &err), HONE_EEXHAUSTED);
    s_assert_contains(err.message, "violated the parameter constraints");
    s_assert_contains(err.message, "were already used by trials");
    hone_experiment_destroy(&e);
}

/* Trials restored from storage are kept even outside the constraints (Ax lets attached
 * trials lie outside them); generated ones never are. */
static void test_constrained_restore_allows_infeasible(void **state)
{
    (void) state;
    char *json = s_constrained("random_search", 4, S_BRANIN_PARAMS, "\"x1 + x2 <= 5\"", NULL);
    hone_experiment_t *e = exp_check_new(json, 1);
    free(json);
    hone_value_t params[2] = { hone_value_float(10), hone_value_float(15) };
    hone_error_t err;
    assert_int_equal(hone_experiment_restore_trial(e, 0, HONE_TRIAL_COMPLETED, params, "manual", NULL, &err),
                     HONE_OK);
    /* the experiment has trials, so no center; Sobol points are feasible */
    for (int i = 0; i < 20; i++) {
        const hone_trial_t *t = hone_experiment_trial(e, exp_check_one(e));
        assert_string_equal(t->note, "sobol");
        assert_true(t->params[0].u.f + t->params[1].u.f <= 5 + 1e-8);
    }
    hone_experiment_destroy(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_center_then_sobol),
        cmocka_unit_test(test_no_duplicates_until_exhausted),
        cmocka_unit_test(test_failed_arm_returns_abandoned_never),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_max_failures),
        cmocka_unit_test(test_best),
        cmocka_unit_test(test_attach_errors_all_or_nothing),
        cmocka_unit_test(test_restore_continues_sequence),
        cmocka_unit_test(test_reproducible_with_seed),
        cmocka_unit_test(test_many_trials_6d),
        cmocka_unit_test(test_constrained_random_search),
        cmocka_unit_test(test_constrained_int),
        cmocka_unit_test(test_constrained_exhaustion),
        cmocka_unit_test(test_constrained_restore_allows_infeasible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
