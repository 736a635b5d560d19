/* Unit tests for early stopping on an experiment (experiment.h, experiment_stopping.c):
 * the "early_stopping" config block (defaults, nulls, canonical round trip), and
 * hone_experiment_should_stop on curves built from readings: the hopeless trial is
 * stopped with a reason, the good ones are kept, the interval memory holds across
 * calls, Ax's default strategy applies when none is configured, and Ax's "needs data"
 * rule for marking a trial early stopped. The config errors are in test_config.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment.h"

#define CFG(es) "{\"name\":\"es\",\"objective\":\"-loss\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]," \
                "\"generation_strategy\":{\"method\":\"random_search\"}" es "}"

static void s_assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("'%s' does not contain '%s'", haystack, needle);
}

static hone_experiment_t *s_load(const char *json)
{
    hone_experiment_t *e = NULL;
    hone_error_t err;
    hone_error_clear(&err);
    if (hone_experiment_from_json(&e, json, strlen(json), 7, &err) != HONE_OK)
        fail_msg("config refused: %s", err.message);
    return e;
}

/* n RUNNING trials, 0 .. n-1. */
static void s_trials(hone_experiment_t *e, uint32_t n)
{
    uint32_t idx[16], got = 0;
    hone_error_t err;
    assert_int_equal(hone_experiment_generate(e, n, idx, &got, &err), HONE_OK);
    assert_int_equal(got, n);
}

/* Readings of metric at progressions first..last: base + 10 / (p + 1), a decreasing loss. */
static void s_curve(hone_experiment_t *e, uint32_t trial, const char *metric, double base, int64_t first,
                    int64_t last)
{
    hone_error_t err;
    for (int64_t p = first; p <= last; p++) {
        hone_reading_in_t r = { metric, base + 10.0 / (double) (p + 1), NAN };
        assert_int_equal(hone_experiment_attach(e, trial, &r, 1, true, p, false, &err), HONE_OK);
    }
}

static void test_config_block(void **state)
{
    (void) state;
    /* absent: nothing configured; the metric is the objective */
    hone_experiment_t *e = s_load(CFG(""));
    const char *metric = NULL;
    bool minimize = false;
    assert_null(hone_experiment_stopping(e, &metric, &minimize));
    assert_string_equal(metric, "loss");
    assert_true(minimize);
    assert_null(strstr(hone_experiment_config_json(e), "early_stopping"));
    hone_experiment_destroy(&e);

    /* Ax's defaults, the objective's metric and direction, all persisted */
    e = s_load(CFG(",\"early_stopping\":{}"));
    const hone_stopping_config_t *cfg = hone_experiment_stopping(e, &metric, &minimize);
    assert_non_null(cfg);
    assert_int_equal(cfg->type, HONE_STOPPING_PERCENTILE);
    assert_true(cfg->percentile_threshold == 50 && cfg->min_progression == 10 && cfg->min_curves == 5);
    assert_true(isnan(cfg->max_progression) && isnan(cfg->interval) && cfg->patience == 0);
    assert_string_equal(metric, "loss");
    assert_true(minimize);
    s_assert_contains(hone_experiment_config_json(e),
                      "\"early_stopping\":{\"check_safe\":false,\"interval\":null,\"max_progression\":null,"
                      "\"metric\":\"-loss\",\"min_curves\":5,\"min_progression\":10.0,"
                      "\"n_best_trials_to_complete\":0,\"normalize_progressions\":false,\"patience\":0.0,"
                      "\"percentile_threshold\":50.0,\"type\":\"percentile\"}");
    hone_experiment_destroy(&e);

    /* every field; null is Ax's None for the optional ones, absent for the others */
    e = s_load(CFG(",\"early_stopping\":{\"type\":\"percentile\",\"metric\":\"acc\",\"percentile_threshold\":25,"
                   "\"min_progression\":4,\"max_progression\":100,\"min_curves\":null,\"normalize_progressions\":true,"
                   "\"n_best_trials_to_complete\":2,\"interval\":5,\"patience\":3,\"check_safe\":true}"));
    cfg = hone_experiment_stopping(e, &metric, &minimize);
    assert_string_equal(metric, "acc");
    assert_false(minimize);
    assert_true(cfg->percentile_threshold == 25 && cfg->min_progression == 4 && cfg->max_progression == 100);
    assert_true(cfg->min_curves == 0 && cfg->normalize_progressions && cfg->n_best_trials_to_complete == 2);
    assert_true(cfg->interval == 5 && cfg->patience == 3 && cfg->check_safe);
    /* the canonical form reloads to itself */
    char *canonical = strdup(hone_experiment_config_json(e));
    hone_experiment_destroy(&e);
    e = s_load(canonical);
    assert_string_equal(hone_experiment_config_json(e), canonical);
    cfg = hone_experiment_stopping(e, &metric, &minimize);
    assert_true(cfg->min_curves == 0 && cfg->patience == 3 && cfg->interval == 5 && !minimize);
    free(canonical);
    hone_experiment_destroy(&e);

    /* threshold, with min_progression None; its own metric */
    e = s_load(CFG(",\"early_stopping\":{\"type\":\"threshold\",\"metric_threshold\":1.5,"
                   "\"min_progression\":null,\"metric\":\"-val_loss\"}"));
    cfg = hone_experiment_stopping(e, &metric, &minimize);
    assert_int_equal(cfg->type, HONE_STOPPING_THRESHOLD);
    assert_true(cfg->metric_threshold == 1.5 && isnan(cfg->min_progression));
    assert_string_equal(metric, "val_loss");
    assert_true(minimize);
    canonical = strdup(hone_experiment_config_json(e));
    s_assert_contains(canonical, "\"metric_threshold\":1.5");
    assert_null(strstr(canonical, "patience"));
    hone_experiment_destroy(&e);
    e = s_load(canonical);
    assert_string_equal(hone_experiment_config_json(e), canonical);
    free(canonical);
    hone_experiment_destroy(&e);
}

/* Four trials reach progression 5; trial 3 is far worse than the others: the default
 * percentile rule (stop the worse half at the latest step) stops it and keeps the
 * best two. Nothing changes status. */
static void test_should_stop_hopeless(void **state)
{
    (void) state;
    hone_experiment_t *e = s_load(CFG(",\"early_stopping\":{\"min_curves\":3,\"min_progression\":2}"));
    s_trials(e, 5);
    s_curve(e, 0, "loss", 1.0, 0, 5);
    s_curve(e, 1, "loss", 1.1, 0, 5);
    s_curve(e, 2, "loss", 1.2, 0, 5);
    s_curve(e, 3, "loss", 9.0, 0, 5);
    /* another metric and readings without a progression are not curve points */
    s_curve(e, 4, "acc", 0.0, 0, 5);
    hone_error_t err;
    hone_reading_in_t r = { "loss", 0.5, NAN };
    assert_int_equal(hone_experiment_attach(e, 4, &r, 1, false, 0, false, &err), HONE_OK);

    hone_stop_decision_t d;
    assert_int_equal(hone_experiment_should_stop(e, 3, &d, &err), HONE_OK);
    assert_int_equal(d.trial, 3);
    assert_true(d.should_stop);
    assert_true(d.reason[0] != '\0');
    for (uint32_t t = 0; t < 2; t++) {
        assert_int_equal(hone_experiment_should_stop(e, t, &d, &err), HONE_OK);
        if (d.should_stop)
            fail_msg("trial %u stopped: %s", t, d.reason);
        assert_true(d.reason[0] != '\0');
    }
    /* trial 4 has no loss curve (only a reading without a progression): not stopped */
    assert_int_equal(hone_experiment_should_stop(e, 4, &d, &err), HONE_OK);
    assert_false(d.should_stop);
    assert_int_equal(hone_experiment_trial(e, 3)->status, HONE_TRIAL_RUNNING);
    assert_int_equal(hone_experiment_should_stop(e, 9, &d, &err), HONE_ENOTFOUND);

    /* the caller marks it, and the reason is kept */
    assert_int_equal(hone_experiment_should_stop(e, 3, &d, &err), HONE_OK);
    assert_int_equal(hone_experiment_mark(e, 3, HONE_TRIAL_EARLY_STOPPED, d.reason, &err), HONE_OK);
    assert_string_equal(hone_experiment_trial(e, 3)->reason, d.reason);
    hone_experiment_destroy(&e);
}

/* interval 2 from min_progression 2: boundaries 2, 4, 6, ... A trial checked at 3 is
 * not checked again until its latest progression crosses 4. */
static void test_should_stop_interval_memory(void **state)
{
    (void) state;
    hone_experiment_t *e = s_load(CFG(",\"early_stopping\":{\"min_curves\":3,\"min_progression\":2,"
                                      "\"interval\":2}"));
    s_trials(e, 4);
    s_curve(e, 0, "loss", 1.0, 0, 8);
    s_curve(e, 1, "loss", 1.1, 0, 8);
    s_curve(e, 2, "loss", 1.2, 0, 8);
    s_curve(e, 3, "loss", 9.0, 0, 3);
    int64_t last = -1;
    assert_false(hone_experiment_stop_check(e, 3, &last));

    hone_stop_decision_t d;
    hone_error_t err;
    assert_int_equal(hone_experiment_should_stop(e, 3, &d, &err), HONE_OK);   /* first check passes */
    assert_true(d.should_stop);
    assert_true(d.record_check);
    assert_true(hone_experiment_stop_check(e, 3, &last));
    assert_int_equal(last, 3);

    assert_int_equal(hone_experiment_should_stop(e, 3, &d, &err), HONE_OK);   /* no boundary crossed */
    assert_false(d.should_stop);
    assert_true(d.reason[0] != '\0');

    s_curve(e, 3, "loss", 9.0, 4, 4);                                          /* crosses 4 */
    assert_int_equal(hone_experiment_should_stop(e, 3, &d, &err), HONE_OK);
    assert_true(d.should_stop);
    assert_true(hone_experiment_stop_check(e, 3, &last));
    assert_int_equal(last, 4);

    /* the memory can be restored (persistence is the caller's) */
    assert_int_equal(hone_experiment_set_stop_check(e, 3, 4, &err), HONE_OK);
    assert_int_equal(hone_experiment_should_stop(e, 3, &d, &err), HONE_OK);
    assert_false(d.should_stop);
    assert_int_equal(hone_experiment_set_stop_check(e, 9, 4, &err), HONE_ENOTFOUND);
    hone_experiment_destroy(&e);
}

/* No strategy configured: Ax's Client default, percentile with all defaults
 * (min_progression 10, min_curves 5). Four curves to progression 5 are not enough;
 * five curves to 12 are. */
static void test_should_stop_default_strategy(void **state)
{
    (void) state;
    hone_experiment_t *e = s_load(CFG(""));
    s_trials(e, 5);
    for (uint32_t t = 0; t < 4; t++)
        s_curve(e, t, "loss", t == 3 ? 9.0 : 1.0 + 0.1 * t, 0, 5);
    hone_stop_decision_t d;
    hone_error_t err;
    assert_int_equal(hone_experiment_should_stop(e, 3, &d, &err), HONE_OK);
    assert_false(d.should_stop);
    for (uint32_t t = 0; t < 4; t++)
        s_curve(e, t, "loss", t == 3 ? 9.0 : 1.0 + 0.1 * t, 6, 12);
    s_curve(e, 4, "loss", 1.05, 0, 12);
    assert_int_equal(hone_experiment_should_stop(e, 3, &d, &err), HONE_OK);
    assert_true(d.should_stop);
    assert_int_equal(hone_experiment_should_stop(e, 0, &d, &err), HONE_OK);
    assert_false(d.should_stop);
    hone_experiment_destroy(&e);
}

/* Ax's rule: a trial without data cannot be marked early stopped; should_stop does not
 * stop it either. */
static void test_mark_needs_data(void **state)
{
    (void) state;
    hone_experiment_t *e = s_load(CFG(",\"early_stopping\":{\"min_curves\":1,\"min_progression\":0}"));
    s_trials(e, 2);
    s_curve(e, 0, "loss", 1.0, 0, 3);
    hone_stop_decision_t d;
    hone_error_t err;
    assert_int_equal(hone_experiment_should_stop(e, 1, &d, &err), HONE_OK);
    assert_false(d.should_stop);
    assert_int_equal(hone_experiment_mark(e, 1, HONE_TRIAL_EARLY_STOPPED, "hopeless", &err), HONE_ESTATE);
    assert_string_equal(err.message,
                        "Cannot mark trial early stopped without data. Please mark trial abandoned instead.");
    assert_int_equal(hone_experiment_trial(e, 1)->status, HONE_TRIAL_RUNNING);
    assert_int_equal(hone_experiment_mark(e, 0, HONE_TRIAL_EARLY_STOPPED, NULL, &err), HONE_OK);
    assert_null(hone_experiment_trial(e, 0)->reason);
    hone_experiment_destroy(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_block),
        cmocka_unit_test(test_should_stop_hopeless),
        cmocka_unit_test(test_should_stop_interval_memory),
        cmocka_unit_test(test_should_stop_default_strategy),
        cmocka_unit_test(test_mark_needs_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
