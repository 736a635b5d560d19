/* Unit tests for core/stopping outside the percentile rule's own parameters, against
 * hand-computed cases: the configuration (defaults, names, every validation message), the
 * gates both strategies share (min/max_progression, min_curves, interval), the curve
 * handling (interpolation between reported progressions, normalized progressions,
 * degenerate curves), the threshold strategy, and a quick test of bench/functions'
 * learning-curve family. Each parameter is switched on and off to show the decision flip;
 * the numbers in the comments are the hand computation (quantiles are numpy's linear
 * ones: sorted v, h = (n - 1) q, v[floor h] + frac(h) * (next - v)). The percentile
 * strategy's parameters are tested in test_stopping_percentile.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* cmocka 1.1 has no double comparison: |a - b| <= eps */
#define assert_near(a, b, eps) assert_true(fabs((double) (a) - (double) (b)) <= (eps))

#include "functions.h"
#include "stopping.h"
#include "stopping_check.h"

static void test_defaults_and_names(void **state)
{
    (void) state;
    hone_stopping_config_t cfg;
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);
    assert_int_equal(cfg.type, HONE_STOPPING_PERCENTILE);
    assert_true(cfg.percentile_threshold == 50.0);
    assert_true(cfg.min_progression == 10.0);
    assert_true(isnan(cfg.max_progression));
    assert_int_equal(cfg.min_curves, 5);
    assert_false(cfg.normalize_progressions);
    assert_int_equal(cfg.n_best_trials_to_complete, 0);
    assert_true(isnan(cfg.interval));
    assert_true(cfg.patience == 0.0);
    assert_false(cfg.check_safe);
    assert_int_equal(hone_stopping_config_validate(&cfg, NULL), HONE_OK);
    hone_stopping_config_init(&cfg, HONE_STOPPING_THRESHOLD);
    assert_true(cfg.metric_threshold == 0.2);
    assert_true(cfg.min_progression == 10.0);
    assert_int_equal(cfg.min_curves, 5);
    assert_int_equal(hone_stopping_config_validate(&cfg, NULL), HONE_OK);

    assert_string_equal(hone_stopping_type_name(HONE_STOPPING_PERCENTILE), "percentile");
    assert_string_equal(hone_stopping_type_name(HONE_STOPPING_THRESHOLD), "threshold");
    assert_null(hone_stopping_type_name(2));
    assert_null(hone_stopping_type_name(-1));
    hone_stopping_type_t t;
    hone_error_t err;
    assert_int_equal(hone_stopping_type_parse("Threshold", &t, &err), HONE_OK);
    assert_int_equal(t, HONE_STOPPING_THRESHOLD);
    assert_int_equal(hone_stopping_type_parse("median", &t, &err), HONE_EINVAL);
    assert_string_equal(err.message, "early_stopping.type: must be \"percentile\" or \"threshold\" (got \"median\")");
}

static void s_expect_invalid(const hone_stopping_config_t *cfg, const char *message)
{
    hone_error_t err = { 0 };
    assert_int_equal(hone_stopping_config_validate(cfg, &err), HONE_EINVAL);
    assert_int_equal(err.code, HONE_EINVAL);
    assert_string_equal(err.message, message);
}

static void test_config_validation(void **state)
{
    (void) state;
    hone_stopping_config_t cfg;
#define RESET() hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE)
    RESET();
    cfg.percentile_threshold = 120.0;
    s_expect_invalid(&cfg, "early_stopping.percentile_threshold: must be in [0, 100] (got 120)");
    cfg.percentile_threshold = -1.0;
    s_expect_invalid(&cfg, "early_stopping.percentile_threshold: must be in [0, 100] (got -1)");
    cfg.percentile_threshold = NAN;
    s_expect_invalid(&cfg, "early_stopping.percentile_threshold: must be in [0, 100] (got nan)");
    cfg.percentile_threshold = 0.0;     /* both ends allowed */
    assert_int_equal(hone_stopping_config_validate(&cfg, NULL), HONE_OK);
    cfg.percentile_threshold = 100.0;
    assert_int_equal(hone_stopping_config_validate(&cfg, NULL), HONE_OK);

    RESET();
    cfg.min_progression = -1.0;
    s_expect_invalid(&cfg, "early_stopping.min_progression: must be nonnegative and finite (got -1)");
    cfg.min_progression = INFINITY;
    s_expect_invalid(&cfg, "early_stopping.min_progression: must be nonnegative and finite (got inf)");
    cfg.min_progression = NAN;          /* None */
    assert_int_equal(hone_stopping_config_validate(&cfg, NULL), HONE_OK);

    RESET();
    cfg.max_progression = 10.0;         /* not above min_progression = 10 */
    s_expect_invalid(&cfg, "early_stopping.max_progression: must be greater than min_progression "
                           "(got min_progression=10, max_progression=10)");
    cfg.max_progression = INFINITY;
    s_expect_invalid(&cfg, "early_stopping.max_progression: must be finite (got inf)");
    cfg.max_progression = 10.5;
    assert_int_equal(hone_stopping_config_validate(&cfg, NULL), HONE_OK);
    cfg.min_progression = NAN;
    cfg.max_progression = 3.0;
    assert_int_equal(hone_stopping_config_validate(&cfg, NULL), HONE_OK);

    RESET();
    cfg.interval = 0.0;
    s_expect_invalid(&cfg, "early_stopping.interval: must be positive and finite (got 0)");
    cfg.interval = -2.0;
    s_expect_invalid(&cfg, "early_stopping.interval: must be positive and finite (got -2)");
    cfg.interval = 0.5;
    assert_int_equal(hone_stopping_config_validate(&cfg, NULL), HONE_OK);

    RESET();
    cfg.patience = -1.0;
    s_expect_invalid(&cfg, "early_stopping.patience: must be nonnegative and finite (got -1)");
    cfg.patience = 11.0;
    s_expect_invalid(&cfg, "early_stopping.patience: must not exceed min_progression (got patience=11, "
                           "min_progression=10)");
    cfg.patience = 10.0;
    assert_int_equal(hone_stopping_config_validate(&cfg, NULL), HONE_OK);
    cfg.min_progression = NAN;          /* no bound without min_progression */
    cfg.patience = 1000.0;
    assert_int_equal(hone_stopping_config_validate(&cfg, NULL), HONE_OK);

    hone_stopping_config_init(&cfg, HONE_STOPPING_THRESHOLD);
    cfg.metric_threshold = NAN;
    s_expect_invalid(&cfg, "early_stopping.metric_threshold: must be a finite number (got nan)");
    hone_stopping_config_init(&cfg, HONE_STOPPING_THRESHOLD);
    cfg.patience = 1.0;
    s_expect_invalid(&cfg, "early_stopping.patience: not a parameter of the threshold strategy");
    hone_stopping_config_init(&cfg, HONE_STOPPING_THRESHOLD);
    cfg.n_best_trials_to_complete = 2;
    s_expect_invalid(&cfg, "early_stopping.n_best_trials_to_complete: not a parameter of the threshold strategy");
    hone_stopping_config_init(&cfg, HONE_STOPPING_THRESHOLD);
    cfg.percentile_threshold = 500.0;   /* not the threshold strategy's parameter: ignored */
    assert_int_equal(hone_stopping_config_validate(&cfg, NULL), HONE_OK);
    cfg.type = (hone_stopping_type_t) 7;
    s_expect_invalid(&cfg, "early_stopping.type: must be \"percentile\" or \"threshold\"");

    /* decide validates too */
    RESET();
    cfg.interval = 0.0;
    hone_curves_t *c = s_build(s_five, HONE_ARRAY_LEN(s_five));
    hone_stop_decision_t d;
    hone_error_t err;
    assert_int_equal(hone_stopping_decide(&cfg, c, false, 3, &d, &err), HONE_EINVAL);
    s_assert_contains(err.message, "early_stopping.interval");
    size_t n;
    assert_int_equal(hone_stopping_decide_running(&cfg, c, false, &d, 1, &n, &err), HONE_EINVAL);
    hone_curves_destroy(&c);
#undef RESET
}

static void test_min_max_progression(void **state)
{
    (void) state;
    hone_curves_t *c = s_build(s_five, HONE_ARRAY_LEN(s_five));
    hone_stopping_config_t cfg;
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);
    cfg.min_curves = 3;

    cfg.min_progression = 15.0;   /* trial 3 is at 10; T0-T2 reached 15, three curves */
    hone_stop_decision_t d = s_decide(&cfg, c, false, 3);
    assert_false(d.should_stop);
    assert_string_equal(d.reason, "Most recent progression (10) falls out of the min/max_progression range "
                                  "(15, None).");
    cfg.min_progression = 10.0;
    assert_true(s_decide(&cfg, c, false, 3).should_stop);
    cfg.min_progression = NAN;    /* None */
    assert_true(s_decide(&cfg, c, false, 3).should_stop);

    cfg.min_progression = 0.0;
    cfg.max_progression = 5.0;    /* past max_progression: never stopped */
    d = s_decide(&cfg, c, false, 3);
    assert_false(d.should_stop);
    assert_string_equal(d.reason, "Most recent progression (10) falls out of the min/max_progression range "
                                  "(0, 5).");
    cfg.max_progression = 10.0;   /* at max_progression is still inside */
    assert_true(s_decide(&cfg, c, false, 3).should_stop);
    hone_curves_destroy(&c);
}

static void test_min_curves(void **state)
{
    (void) state;
    hone_curves_t *c = s_build(s_five, HONE_ARRAY_LEN(s_five));
    hone_stopping_config_t cfg;
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);
    hone_error_t err;

    /* global gate: 5 curves reached min_progression 10 */
    cfg.min_curves = 6;
    hone_stop_decision_t d = s_decide(&cfg, c, false, 3);
    assert_false(d.should_stop);
    assert_string_equal(d.reason, "Only 5 trial(s) have data at or beyond min_progression (10), fewer than "
                                  "min_curves (6); not stopping any trial.");
    cfg.min_curves = 5;
    assert_true(s_decide(&cfg, c, false, 3).should_stop);
    /* a curve that has not reached min_progression does not count (Ax main), whatever
     * its status */
    hone_curves_set_trial(c, 6, HONE_TRIAL_COMPLETED);
    assert_int_equal(hone_curves_add_point(c, 6, 5, 0.9, &err), HONE_OK);
    cfg.min_curves = 6;
    assert_false(s_decide(&cfg, c, false, 3).should_stop);
    assert_int_equal(hone_curves_add_point(c, 6, 10, 0.9, &err), HONE_OK);
    assert_true(s_decide(&cfg, c, false, 3).should_stop);   /* row 10: .2 .3 .4 .5 .6 .9 -> .45 */
    cfg.min_progression = NAN;
    cfg.min_curves = 7;
    d = s_decide(&cfg, c, false, 3);
    assert_string_equal(d.reason, "Only 6 trial(s) have data, fewer than min_curves (7); not stopping any trial.");

    /* per-row count: trial 4 goes on to 30, where no other curve is (no extrapolation) */
    cfg.min_progression = 10.0;
    cfg.min_curves = 5;
    assert_int_equal(hone_curves_add_point(c, 4, 30, 0.1, &err), HONE_OK);
    d = s_decide(&cfg, c, false, 4);
    assert_false(d.should_stop);
    assert_string_equal(d.reason, "Only 1 trial(s) have data at progression 30, fewer than min_curves (5).");
    /* with min_curves 1 the row decides: alone, it is its own median */
    cfg.min_curves = 1;
    d = s_decide(&cfg, c, false, 4);
    assert_false(d.should_stop);
    s_assert_contains(d.reason, "0.1 at progression 30 is not worse than the 50.0-th percentile (0.1) across 1 "
                                "comparable trials");
    /* min_curves 0 (None) passes every gate */
    cfg.min_curves = 0;
    assert_false(s_decide(&cfg, c, false, 4).should_stop);
    hone_curves_destroy(&c);
}

static void test_interpolation(void **state)
{
    (void) state;
    /* maximize; at progression 5: A .5 (0..10), B .5 (4 -> 8), C .275 (2 -> 6), D .29
     * sorted .275 .29 .5 .5, h = 1.5: .5 - .21 * .5 = .395 */
    const spec_t specs[] = {
        { 0, HONE_TRIAL_COMPLETED, 2, { 0, 10 }, { 0.0, 1.0 } },
        { 1, HONE_TRIAL_COMPLETED, 3, { 0, 4, 8 }, { 0.0, 0.4, 0.8 } },
        { 2, HONE_TRIAL_COMPLETED, 2, { 2, 6 }, { 0.2, 0.3 } },
        { 3, HONE_TRIAL_RUNNING, 1, { 5 }, { 0.29 } },
        { 4, HONE_TRIAL_RUNNING, 1, { 12 }, { 0.9 } },
    };
    hone_curves_t *c = s_build(specs, HONE_ARRAY_LEN(specs));
    hone_stopping_config_t cfg;
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);
    cfg.min_progression = 5.0;
    cfg.min_curves = 4;
    hone_stop_decision_t d = s_decide(&cfg, c, false, 3);
    assert_true(d.should_stop);
    assert_string_equal(d.reason, "Trial objective value 0.29 at progression 5 is worse than the 50.0-th "
                                  "percentile (0.395) across 4 comparable trials (higher is better).");
    /* progression 12 is beyond every other curve: not extrapolated, so alone there */
    d = s_decide(&cfg, c, false, 4);
    assert_false(d.should_stop);
    assert_string_equal(d.reason, "Only 1 trial(s) have data at progression 12, fewer than min_curves (4).");
    hone_curves_destroy(&c);
}

static void test_interval(void **state)
{
    (void) state;
    hone_curves_t *c = s_build(s_five, HONE_ARRAY_LEN(s_five));
    hone_stopping_config_t cfg;
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);
    cfg.interval = 10.0;
    cfg.min_curves = 4;
    hone_error_t err;

    /* first check always passes, and is recorded */
    hone_stop_decision_t d = s_decide(&cfg, c, false, 3);
    assert_true(d.should_stop);
    assert_true(d.record_check);
    assert_int_equal(d.check_progression, 10);
    /* recorded at 10 and still at 10: same interval [10, 20) */
    assert_int_equal(hone_curves_set_last_check(c, 3, 10, &err), HONE_OK);
    d = s_decide(&cfg, c, false, 3);
    assert_false(d.should_stop);
    assert_false(d.record_check);
    assert_string_equal(d.reason, "Trial has not crossed an interval boundary. Progressed from 10 to 10; both "
                                  "are in the same interval [10, 20). Must reach progression 20 to be eligible "
                                  "for early stopping.");
    assert_int_equal(hone_curves_add_point(c, 3, 15, 0.25, &err), HONE_OK);
    assert_false(s_decide(&cfg, c, false, 3).should_stop);
    /* 20 crosses: row 20 = .6 .5 .4 .3 -> .45; .3 is worse */
    assert_int_equal(hone_curves_add_point(c, 3, 20, 0.3, &err), HONE_OK);
    d = s_decide(&cfg, c, false, 3);
    assert_true(d.should_stop);
    assert_true(d.record_check);
    assert_int_equal(d.check_progression, 20);
    /* without interval nothing is recorded */
    cfg.interval = NAN;
    d = s_decide(&cfg, c, false, 3);
    assert_true(d.should_stop);
    assert_false(d.record_check);
    hone_curves_destroy(&c);

    /* a trial reporting every step from 13 to 35, the caller storing each recorded
     * check: checks at 13 (first), 20, 30 only */
    hone_curves_t *one = hone_curves_new();
    hone_curves_set_trial(one, 0, HONE_TRIAL_RUNNING);
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);
    cfg.interval = 10.0;
    cfg.min_curves = 1;
    int64_t checked[8];
    size_t n_checked = 0;
    for (int64_t p = 13; p <= 35; p++) {
        assert_int_equal(hone_curves_add_point(one, 0, p, 1.0, &err), HONE_OK);
        d = s_decide(&cfg, one, false, 0);
        if (d.record_check) {
            assert_true(n_checked < 8);
            checked[n_checked++] = d.check_progression;
            assert_int_equal(hone_curves_set_last_check(one, 0, d.check_progression, &err), HONE_OK);
        }
    }
    assert_int_equal(n_checked, 3);
    assert_int_equal(checked[0], 13);
    assert_int_equal(checked[1], 20);
    assert_int_equal(checked[2], 30);
    /* boundaries start at min_progression: 5 + 10k */
    hone_curves_set_trial(one, 1, HONE_TRIAL_RUNNING);
    cfg.min_progression = 5.0;
    assert_int_equal(hone_curves_add_point(one, 1, 14, 1.0, &err), HONE_OK);
    assert_int_equal(hone_curves_set_last_check(one, 1, 6, &err), HONE_OK);
    d = s_decide(&cfg, one, false, 1);
    assert_false(d.record_check);
    s_assert_contains(d.reason, "same interval [5, 15)");
    assert_int_equal(hone_curves_add_point(one, 1, 15, 1.0, &err), HONE_OK);
    assert_true(s_decide(&cfg, one, false, 1).record_check);
    /* a gate that fails before the interval check records nothing */
    cfg.min_curves = 5;
    d = s_decide(&cfg, one, false, 1);
    assert_false(d.record_check);
    hone_curves_destroy(&one);
}

/* A trial's progressions in samples seen, 0..1000; min_progression as a fraction. */
static void test_normalize_progressions(void **state)
{
    (void) state;
    /* at 400 (0.4): A .42, B .38, C .34, D .30, R .2 -> median .34 */
    const spec_t specs[] = {
        { 0, HONE_TRIAL_COMPLETED, 2, { 0, 1000 }, { 0.1, 0.9 } },
        { 1, HONE_TRIAL_COMPLETED, 2, { 0, 1000 }, { 0.1, 0.8 } },
        { 2, HONE_TRIAL_COMPLETED, 2, { 0, 1000 }, { 0.1, 0.7 } },
        { 3, HONE_TRIAL_COMPLETED, 2, { 0, 1000 }, { 0.1, 0.6 } },
        { 4, HONE_TRIAL_RUNNING, 2, { 0, 400 }, { 0.1, 0.2 } },
    };
    hone_curves_t *c = s_build(specs, HONE_ARRAY_LEN(specs));
    hone_stopping_config_t cfg;
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);
    cfg.min_curves = 4;
    cfg.min_progression = 0.5;
    /* raw: 400 >= 0.5 */
    hone_stop_decision_t d = s_decide(&cfg, c, false, 4);
    assert_true(d.should_stop);
    s_assert_contains(d.reason, "0.2 at progression 400 is worse than the 50.0-th percentile (0.34)");
    /* normalized: 0.4 < 0.5 */
    cfg.normalize_progressions = true;
    d = s_decide(&cfg, c, false, 4);
    assert_false(d.should_stop);
    assert_string_equal(d.reason, "Most recent progression (0.4 (step 400)) falls out of the "
                                  "min/max_progression range (0.5, None).");
    cfg.min_progression = 0.3;
    d = s_decide(&cfg, c, false, 4);
    assert_true(d.should_stop);
    s_assert_contains(d.reason, "at progression 0.4 (step 400) is worse");
    /* the range grows with the data: a curve to 2000 makes 400 read 0.2 */
    hone_error_t err;
    assert_int_equal(hone_curves_add_point(c, 0, 2000, 0.95, &err), HONE_OK);
    d = s_decide(&cfg, c, false, 4);
    assert_false(d.should_stop);
    s_assert_contains(d.reason, "(0.2 (step 400))");
    /* normalized max_progression: beyond 0.15 of the range */
    cfg.min_progression = 0.0;
    cfg.max_progression = 0.15;
    d = s_decide(&cfg, c, false, 4);
    s_assert_contains(d.reason, "range (0, 0.15)");
    hone_curves_destroy(&c);
}

static void test_threshold(void **state)
{
    (void) state;
    hone_curves_t *c = s_build(s_five, HONE_ARRAY_LEN(s_five));
    hone_stopping_config_t cfg;
    hone_stopping_config_init(&cfg, HONE_STOPPING_THRESHOLD);
    cfg.metric_threshold = 0.35;
    hone_stop_decision_t d = s_decide(&cfg, c, false, 3);
    assert_true(d.should_stop);
    assert_string_equal(d.reason, "Trial objective value 0.2 at progression 10 is worse than the metric "
                                  "threshold 0.35 (higher is better).");
    d = s_decide(&cfg, c, false, 4);
    assert_false(d.should_stop);
    assert_string_equal(d.reason, "Trial objective value 0.6 at progression 10 is not worse than the metric "
                                  "threshold 0.35 (higher is better).");
    assert_false(s_decide(&cfg, c, true, 3).should_stop);
    assert_true(s_decide(&cfg, c, true, 4).should_stop);
    /* on the threshold: not worse; default threshold 0.2 */
    cfg.metric_threshold = 0.2;
    assert_false(s_decide(&cfg, c, false, 3).should_stop);
    assert_false(s_decide(&cfg, c, true, 3).should_stop);
    /* the shared gates apply */
    cfg.metric_threshold = 0.35;
    cfg.min_curves = 6;
    assert_false(s_decide(&cfg, c, false, 3).should_stop);
    cfg.min_curves = 5;
    cfg.min_progression = 15.0;
    cfg.min_curves = 3;
    d = s_decide(&cfg, c, false, 3);
    assert_false(d.should_stop);
    s_assert_contains(d.reason, "falls out of the min/max_progression range (15, None)");
    /* the raw last value, however the others look there */
    cfg.min_progression = 10.0;
    hone_error_t err;
    assert_int_equal(hone_curves_add_point(c, 3, 40, 0.36, &err), HONE_OK);
    assert_false(s_decide(&cfg, c, false, 3).should_stop);
    /* values that print alike get more digits */
    assert_int_equal(hone_curves_add_point(c, 3, 41, 0.3499999999, &err), HONE_OK);
    d = s_decide(&cfg, c, false, 3);
    assert_true(d.should_stop);
    s_assert_contains(d.reason, "value 0.3499999999 at progression 41 is worse than the metric threshold 0.35 ");
    /* interval applies too */
    cfg.interval = 10.0;
    assert_int_equal(hone_curves_set_last_check(c, 3, 40, &err), HONE_OK);
    assert_false(s_decide(&cfg, c, false, 3).should_stop);
    hone_curves_destroy(&c);
}

static void test_degenerate(void **state)
{
    (void) state;
    hone_stopping_config_t cfg;
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);
    hone_stop_decision_t d[4];
    hone_error_t err;
    size_t n = 99;

    /* no curves at all */
    hone_curves_t *c = hone_curves_new();
    assert_int_equal(hone_stopping_decide(&cfg, c, false, 0, d, &err), HONE_ENOTFOUND);
    assert_string_equal(err.message, "early stopping: trial 0 has no curve");
    assert_int_equal(hone_stopping_decide_running(&cfg, c, false, NULL, 0, &n, &err), HONE_OK);
    assert_int_equal(n, 0);

    /* trials without points */
    hone_curves_set_trial(c, 0, HONE_TRIAL_RUNNING);
    hone_curves_set_trial(c, 1, HONE_TRIAL_COMPLETED);
    d[0] = s_decide(&cfg, c, false, 0);
    assert_false(d[0].should_stop);
    assert_string_equal(d[0].reason, "No curve data for the early-stopping metric yet; not stopping any trial.");

    /* one point in one curve */
    assert_int_equal(hone_curves_add_point(c, 1, 3, 0.5, &err), HONE_OK);
    cfg.min_progression = 0.0;
    cfg.min_curves = 1;
    d[0] = s_decide(&cfg, c, false, 1);
    assert_false(d[0].should_stop);
    s_assert_contains(d[0].reason, "is not worse than the 50.0-th percentile (0.5) across 1 comparable trials");
    /* a trial without data among others */
    d[0] = s_decide(&cfg, c, false, 0);
    assert_false(d[0].should_stop);
    assert_string_equal(d[0].reason, "No data available to make an early stopping decision.");

    /* NaN is refused at the door */
    assert_int_equal(hone_curves_add_point(c, 0, 3, NAN, &err), HONE_EINVAL);
    assert_null(hone_curve_last(hone_curves_find(c, 0)));

    /* ties everywhere: every value is the threshold, nobody is worse */
    for (uint32_t t = 2; t < 6; t++) {
        hone_curves_set_trial(c, t, HONE_TRIAL_RUNNING);
        assert_int_equal(hone_curves_add_point(c, t, 3, 0.5, &err), HONE_OK);
    }
    cfg.min_curves = 5;
    for (uint32_t t = 2; t < 6; t++) {
        assert_false(s_decide(&cfg, c, false, t).should_stop);
        assert_false(s_decide(&cfg, c, true, t).should_stop);
    }
    hone_stopping_config_t th;
    hone_stopping_config_init(&th, HONE_STOPPING_THRESHOLD);
    th.min_progression = 0.0;
    th.metric_threshold = 0.5;
    assert_false(s_decide(&th, c, false, 2).should_stop);
    hone_curves_destroy(&c);
}

/* The bench family (bench/functions.h): start and end points, optimum, noise. */
static void test_bench_curve(void **state)
{
    (void) state;
    const double center[3] = { 0.25, 0.5, 0.75 };
    const double corner[3] = { 1.0, 0.0, 0.0 };
    assert_near(hone_bench_curve_final(center, 3), 0.1, 1e-15);
    assert_near(hone_bench_curve_worst(3), 0.1 + 0.5625 + 0.25 + 0.5625, 1e-15);
    assert_near(hone_bench_curve_final(corner, 3), 0.1 + 0.5625 + 0.25 + 0.5625, 1e-15);
    assert_near(hone_bench_curve_tau(corner, 3), 12.0, 1e-15);
    for (int k = 0; k < 2; k++) {
        const double *x = k ? corner : center;
        double final = hone_bench_curve_final(x, 3);
        assert_near(hone_bench_curve_mean(x, 3, 0), HONE_BENCH_CURVE_START, 1e-12);
        assert_near(hone_bench_curve_mean(x, 3, HONE_BENCH_CURVE_HORIZON), final, 1e-12);
        assert_near(hone_bench_curve_mean(x, 3, 1000), final, 1e-12);   /* clamped */
        assert_near(hone_bench_curve_mean(x, 3, -5), HONE_BENCH_CURVE_START, 1e-12);
        for (int64_t p = 1; p <= HONE_BENCH_CURVE_HORIZON; p++)   /* decreasing */
            assert_true(hone_bench_curve_mean(x, 3, p) < hone_bench_curve_mean(x, 3, p - 1));
    }
    /* curves cross: a slow starter (tau 8, final .2225) is behind a fast one (tau 2,
     * final .465) at 5 and ahead at the end */
    const double slow[3] = { 0.6, 0.5, 0.75 }, fast[3] = { 0.0, 0.5, 0.2 };
    assert_true(hone_bench_curve_mean(slow, 3, 5) > hone_bench_curve_mean(fast, 3, 5));
    assert_true(hone_bench_curve_mean(slow, 3, HONE_BENCH_CURVE_HORIZON)
                < hone_bench_curve_mean(fast, 3, HONE_BENCH_CURVE_HORIZON));
    /* any d */
    const double x1[1] = { 0.5 };
    assert_near(hone_bench_curve_final(x1, 1), 0.1, 1e-15);

    /* noise: deterministic per (seed, progression), about N(0, sigma^2) over seeds */
    assert_true(hone_bench_curve(center, 3, 7, 42) == hone_bench_curve(center, 3, 7, 42));
    assert_true(hone_bench_curve(center, 3, 7, 42) != hone_bench_curve(center, 3, 7, 43));
    assert_true(hone_bench_curve(center, 3, 7, 42) != hone_bench_curve(center, 3, 8, 42));
    double sum = 0.0, sum2 = 0.0;
    const int n = 20000;
    for (int s = 0; s < n; s++) {
        double z = (hone_bench_curve(center, 3, 10, (uint64_t) s) - hone_bench_curve_mean(center, 3, 10))
                   / HONE_BENCH_CURVE_NOISE;
        sum += z;
        sum2 += z * z;
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    assert_true(fabs(mean) < 0.05);          /* 5 standard errors */
    assert_true(fabs(var - 1.0) < 0.05);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_names),
        cmocka_unit_test(test_config_validation),
        cmocka_unit_test(test_min_max_progression),
        cmocka_unit_test(test_min_curves),
        cmocka_unit_test(test_interpolation),
        cmocka_unit_test(test_interval),
        cmocka_unit_test(test_normalize_progressions),
        cmocka_unit_test(test_threshold),
        cmocka_unit_test(test_degenerate),
        cmocka_unit_test(test_bench_curve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
