/* Unit tests for core/stopping's percentile strategy (Ax's percentile early-stopping rule)
 * against hand-computed cases: the quantile, the default rule in both directions and
 * percentile_threshold, patience, n_best_trials_to_complete, the check_safe replay, and
 * decide_running over the running trials. Each parameter is switched on and off to show
 * the decision flip; the numbers in the comments are the hand computation (quantiles are
 * numpy's linear ones: sorted v, h = (n - 1) q, v[floor h] + frac(h) * (next - v)). The
 * configuration, the gates shared by both strategies, the curves and the threshold
 * strategy are tested in test_stopping.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stopping.h"
#include "stopping_check.h"

static void test_quantile(void **state)
{
    (void) state;
    double v[] = { 4, 1, 3, 2 };
    assert_true(hone_stopping_quantile(v, 4, 0.5) == 2.5);
    assert_true(hone_stopping_quantile(v, 4, 0.0) == 1.0);
    assert_true(hone_stopping_quantile(v, 4, 1.0) == 4.0);
    assert_true(hone_stopping_quantile(v, 4, 0.25) == 1.75);   /* h = 0.75 */
    assert_true(v[0] == 1 && v[3] == 4);                         /* sorted in place */
    double one[] = { 7.5 };
    assert_true(hone_stopping_quantile(one, 1, 0.3) == 7.5);
    double ties[] = { 2, 2, 2 };
    assert_true(hone_stopping_quantile(ties, 3, 0.7) == 2.0);
}

/* The default percentile rule, both directions, and percentile_threshold. */
static void test_percentile_basic_and_direction(void **state)
{
    (void) state;
    hone_curves_t *c = s_build(s_five, HONE_ARRAY_LEN(s_five));
    hone_stopping_config_t cfg;
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);

    hone_stop_decision_t d = s_decide(&cfg, c, false, 3);
    assert_true(d.should_stop);
    assert_false(d.record_check);
    assert_string_equal(d.reason, "Trial objective value 0.2 at progression 10 is worse than the 50.0-th "
                                  "percentile (0.4) across 5 comparable trials (higher is better).");
    d = s_decide(&cfg, c, false, 4);
    assert_false(d.should_stop);
    assert_string_equal(d.reason, "Trial objective value 0.6 at progression 10 is not worse than the 50.0-th "
                                  "percentile (0.4) across 5 comparable trials (higher is better).");

    /* minimizing: the median is still .4, now .6 is the bad one */
    d = s_decide(&cfg, c, true, 3);
    assert_false(d.should_stop);
    d = s_decide(&cfg, c, true, 4);
    assert_true(d.should_stop);
    s_assert_contains(d.reason, "(lower is better)");

    /* percentile_threshold 0 (maximize): threshold = min = .2, .2 < .2 is false */
    cfg.percentile_threshold = 0.0;
    assert_false(s_decide(&cfg, c, false, 3).should_stop);
    /* 10: h = 0.4, threshold .2 + .4 * .1 = .24 > .2 */
    cfg.percentile_threshold = 10.0;
    d = s_decide(&cfg, c, false, 3);
    assert_true(d.should_stop);
    s_assert_contains(d.reason, "worse than the 10.0-th percentile (0.24)");
    /* minimizing with 70: the 30th percentile of the values, h = 1.2: .3 + .2 * .1 = .32 */
    cfg.percentile_threshold = 70.0;
    d = s_decide(&cfg, c, true, 3);
    assert_false(d.should_stop);
    s_assert_contains(d.reason, "0.2 at progression 10 is not worse than the 30.0-th percentile (0.32)");
    d = s_decide(&cfg, c, true, 4);
    assert_true(d.should_stop);
    /* a value on the threshold is not worse: 0.4 is the median exactly */
    cfg.percentile_threshold = 50.0;
    hone_curves_set_trial(c, 5, HONE_TRIAL_RUNNING);
    hone_error_t err;
    assert_int_equal(hone_curves_add_point(c, 5, 10, 0.4, &err), HONE_OK);
    /* row 10 now .2 .3 .4 .4 .5 .6: h = 2.5, median .4 */
    assert_false(s_decide(&cfg, c, false, 5).should_stop);
    assert_false(s_decide(&cfg, c, true, 5).should_stop);
    hone_curves_destroy(&c);
}

/* patience: stop only when worse over the whole window, whose start is clamped to
 * min_progression. Maximize, min_curves 4. Rows (T0 T1 T2 | R):
 *   5: .5 .4 .3 | .9    10: .5 .4 .3 | .2    15: .5 .4 .3 | .6 (R noisy) or .25 (R2)
 *   20: .5 .4 .3 | .2 */
static void test_patience(void **state)
{
    (void) state;
    spec_t specs[] = {
        { 0, HONE_TRIAL_COMPLETED, 4, { 5, 10, 15, 20 }, { 0.5, 0.5, 0.5, 0.5 } },
        { 1, HONE_TRIAL_COMPLETED, 4, { 5, 10, 15, 20 }, { 0.4, 0.4, 0.4, 0.4 } },
        { 2, HONE_TRIAL_COMPLETED, 4, { 5, 10, 15, 20 }, { 0.3, 0.3, 0.3, 0.3 } },
        { 3, HONE_TRIAL_RUNNING, 4, { 5, 10, 15, 20 }, { 0.9, 0.2, 0.6, 0.2 } },
    };
    hone_curves_t *c = s_build(specs, HONE_ARRAY_LEN(specs));
    hone_stopping_config_t cfg;
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);
    cfg.min_curves = 4;
    /* patience 0: row 20 only, .2 .3 .4 .5 -> .35; .2 is worse */
    hone_stop_decision_t d = s_decide(&cfg, c, false, 3);
    assert_true(d.should_stop);
    s_assert_contains(d.reason, "0.2 at progression 20 is worse than the 50.0-th percentile (0.35)");
    /* patience 10: rows 10, 15, 20; at 15 (.3 .4 .5 .6 -> .45) it is better */
    cfg.patience = 10.0;
    d = s_decide(&cfg, c, false, 3);
    assert_false(d.should_stop);
    assert_string_equal(d.reason, "Trial objective value 0.6 at progression 15 of the window [10, 20] is not "
                                  "worse than the 50.0-th percentile (0.45) across 4 comparable trials (higher "
                                  "is better).");
    cfg.patience = 5.0;    /* rows 15, 20 */
    assert_false(s_decide(&cfg, c, false, 3).should_stop);
    hone_curves_destroy(&c);

    /* R2 = .9 .2 .25 at 5 10 15 (no 20): worse at 10 (.35) and 15 (.3 .25 .4 .5 -> .35).
     * patience 10 from 15 would reach back to 5, where R2 is the best; the window
     * starts at min_progression 10 instead */
    specs[3] = (spec_t) { 3, HONE_TRIAL_RUNNING, 3, { 5, 10, 15 }, { 0.9, 0.2, 0.25 } };
    c = s_build(specs, HONE_ARRAY_LEN(specs));
    cfg.patience = 10.0;
    d = s_decide(&cfg, c, false, 3);
    assert_true(d.should_stop);
    assert_string_equal(d.reason, "Trial objective values are worse than the 50.0-th percentile across "
                                  "comparable trials at all 2 progressions of the window [10, 15] (higher is "
                                  "better): 0.2 vs 0.35 at 10 (4 trials); 0.25 vs 0.35 at 15 (4 trials).");
    /* with min_progression 5 (patience 5 <= 5) the window [10, 15] is the same; with
     * min_progression None the window [5, 15] includes 5, where R2 is best */
    cfg.min_progression = NAN;
    d = s_decide(&cfg, c, false, 3);
    assert_false(d.should_stop);
    s_assert_contains(d.reason, "0.9 at progression 5 of the window [5, 15] is not worse");
    hone_curves_destroy(&c);

    /* a long window lists a few rows and counts the rest */
    hone_curves_t *many = hone_curves_new();
    hone_error_t err;
    for (uint32_t t = 0; t < 4; t++) {
        hone_curves_set_trial(many, t, t == 3 ? HONE_TRIAL_RUNNING : HONE_TRIAL_COMPLETED);
        for (int64_t p = 10; p <= 20; p++)
            assert_int_equal(hone_curves_add_point(many, t, p, t == 3 ? 0.1 : 0.5 + 0.1 * t, &err), HONE_OK);
    }
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);
    cfg.min_curves = 4;
    cfg.patience = 10.0;
    d = s_decide(&cfg, many, false, 3);
    assert_true(d.should_stop);
    s_assert_contains(d.reason, "at all 11 progressions of the window [10, 20]");
    s_assert_contains(d.reason, "at 12 (4 trials); ... 7 more ...; 0.1 vs");
    s_assert_contains(d.reason, "at 20 (4 trials).");
    hone_curves_destroy(&many);
}

static void test_n_best_trials_to_complete(void **state)
{
    (void) state;
    hone_curves_t *c = s_build(s_five, HONE_ARRAY_LEN(s_five));
    hone_stopping_config_t cfg;
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);
    /* trial 3 (.2) is 5th of 5 at row 10 */
    cfg.n_best_trials_to_complete = 5;
    hone_stop_decision_t d = s_decide(&cfg, c, false, 3);
    assert_false(d.should_stop);
    assert_string_equal(d.reason, "Trial is among the top-5 trials at progression 10 (dense rank 5 of 5 trials "
                                  "with data), so it will not be early-stopped.");
    cfg.n_best_trials_to_complete = 4;
    assert_true(s_decide(&cfg, c, false, 3).should_stop);
    /* minimizing, trial 4 (.6) is the worst: rank 5 */
    assert_true(s_decide(&cfg, c, true, 4).should_stop);
    cfg.n_best_trials_to_complete = 5;
    assert_false(s_decide(&cfg, c, true, 4).should_stop);
    hone_curves_destroy(&c);

    /* dense ranks: .6 .6 .5 .2 rank 1 1 2 3; median .55, so .2 is worse */
    const spec_t ties[] = {
        { 0, HONE_TRIAL_COMPLETED, 1, { 10 }, { 0.6 } },
        { 1, HONE_TRIAL_COMPLETED, 1, { 10 }, { 0.6 } },
        { 2, HONE_TRIAL_COMPLETED, 1, { 10 }, { 0.5 } },
        { 3, HONE_TRIAL_RUNNING, 1, { 10 }, { 0.2 } },
    };
    c = s_build(ties, HONE_ARRAY_LEN(ties));
    cfg.min_curves = 4;
    cfg.n_best_trials_to_complete = 2;
    assert_true(s_decide(&cfg, c, false, 3).should_stop);
    cfg.n_best_trials_to_complete = 3;   /* 4th by position, 3rd by dense rank */
    d = s_decide(&cfg, c, false, 3);
    assert_false(d.should_stop);
    s_assert_contains(d.reason, "dense rank 3 of 4");
    /* minimizing: .2 ranks first */
    cfg.n_best_trials_to_complete = 1;
    d = s_decide(&cfg, c, true, 3);
    s_assert_contains(d.reason, "top-1 trials at progression 10 (dense rank 1 of 4");
    hone_curves_destroy(&c);

    /* with patience, being top-n at any row of the window protects: R is 1st at 10 */
    const spec_t win[] = {
        { 0, HONE_TRIAL_COMPLETED, 2, { 10, 20 }, { 0.5, 0.5 } },
        { 1, HONE_TRIAL_COMPLETED, 2, { 10, 20 }, { 0.4, 0.4 } },
        { 2, HONE_TRIAL_COMPLETED, 2, { 10, 20 }, { 0.3, 0.3 } },
        { 3, HONE_TRIAL_RUNNING, 2, { 10, 20 }, { 0.9, 0.1 } },
    };
    c = s_build(win, HONE_ARRAY_LEN(win));
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);
    cfg.min_curves = 4;
    cfg.n_best_trials_to_complete = 1;
    assert_true(s_decide(&cfg, c, false, 3).should_stop);   /* row 20 only: rank 4 */
    cfg.patience = 10.0;                                     /* rows 10, 20 */
    d = s_decide(&cfg, c, false, 3);
    assert_false(d.should_stop);
    s_assert_contains(d.reason, "top-1 trials at progression 10 of the window [10, 20] (dense rank 1 of 4");
    hone_curves_destroy(&c);
}

/* check_safe: T2, the best completed trial (.9 at the end), dips at 2. Maximize,
 * min_progression 1, min_curves 2 (startup trials T0, T1).
 * Replay rows 1, 2, 3 with reference = startup + active:
 *   1: ref T0 .5 T1 .4 T3 .05 T4 .45 -> .425: T2 .6 fine; T3 stopped; T4 .45 fine
 *   2: ref T0 .5 T1 .4 T4 .45 -> .45: T2 .1 worse -> the replay stops the best: harmful */
static const spec_t s_safe[] = {
    { 0, HONE_TRIAL_COMPLETED, 3, { 1, 2, 3 }, { 0.5, 0.5, 0.5 } },
    { 1, HONE_TRIAL_COMPLETED, 3, { 1, 2, 3 }, { 0.4, 0.4, 0.4 } },
    { 2, HONE_TRIAL_COMPLETED, 3, { 1, 2, 3 }, { 0.6, 0.1, 0.9 } },
    { 3, HONE_TRIAL_RUNNING, 2, { 1, 2 }, { 0.05, 0.05 } },
    { 4, HONE_TRIAL_RUNNING, 2, { 1, 2 }, { 0.45, 0.45 } },
};

static void test_check_safe(void **state)
{
    (void) state;
    hone_curves_t *c = s_build(s_safe, HONE_ARRAY_LEN(s_safe));
    hone_stopping_config_t cfg;
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);
    cfg.min_progression = 1.0;
    cfg.min_curves = 2;
    /* off: row 2 = .05 .1 .4 .45 .5 -> .4; stop */
    assert_true(s_decide(&cfg, c, false, 3).should_stop);
    /* on: harmful, nothing is stopped */
    cfg.check_safe = true;
    hone_stop_decision_t d = s_decide(&cfg, c, false, 3);
    assert_false(d.should_stop);
    assert_string_equal(d.reason, "The safety check (check_safe) blocks early stopping: replayed over the "
                                  "curves so far, this strategy would have stopped trial 2, the best completed "
                                  "trial (final objective value 0.9), at progression 2.");
    /* interval 2 replays only rows 1 and 3 (first of [1, 3) and [3, 5)): safe */
    cfg.interval = 2.0;
    assert_true(s_decide(&cfg, c, false, 3).should_stop);
    cfg.interval = NAN;
    /* n_best 4 protects T2 at row 2 (rank 4 of .5 .45 .4 .1): safe; live, T3 is 5th */
    cfg.n_best_trials_to_complete = 4;
    assert_true(s_decide(&cfg, c, false, 3).should_stop);
    cfg.n_best_trials_to_complete = 3;
    assert_false(s_decide(&cfg, c, false, 3).should_stop);
    cfg.n_best_trials_to_complete = 0;
    /* patience 1: at replay row 2 the window [1, 2] holds row 1, where T2 is fine: safe;
     * live, T3 is worse at 1 (.45) and at 2 (.4) */
    cfg.patience = 1.0;
    d = s_decide(&cfg, c, false, 3);
    assert_true(d.should_stop);
    s_assert_contains(d.reason, "at all 2 progressions of the window [1, 2]");
    cfg.patience = 0.0;
    /* max_progression 2 replays row 1 only ([1, 2)): safe */
    cfg.max_progression = 2.0;
    assert_true(s_decide(&cfg, c, false, 3).should_stop);
    cfg.max_progression = NAN;
    /* minimizing, the best completed trial is T1 (.4, the lowest end); startup T0, T2.
     * Replay row 2: ref T0 .5 T2 .1 T3 .05 T4 .45 -> .275, and T1's .4 is worse */
    d = s_decide(&cfg, c, true, 4);
    assert_false(d.should_stop);
    s_assert_contains(d.reason, "would have stopped trial 1, the best completed trial (final objective value "
                                "0.4), at progression 2.");
    cfg.check_safe = false;   /* live: row 2 = .05 .1 .4 .45 .5, median .4; .45 is worse */
    assert_true(s_decide(&cfg, c, true, 4).should_stop);
    cfg.check_safe = true;
    /* no completed trial: nothing to protect */
    hone_curves_destroy(&c);
    spec_t running[HONE_ARRAY_LEN(s_safe)];
    memcpy(running, s_safe, sizeof running);
    for (size_t i = 0; i < HONE_ARRAY_LEN(running); i++)
        running[i].status = HONE_TRIAL_RUNNING;
    c = s_build(running, HONE_ARRAY_LEN(running));
    assert_true(s_decide(&cfg, c, false, 3).should_stop);
    hone_curves_destroy(&c);
    /* startup trials: the min_curves lowest-index completed trials stay in the replay's
     * reference set. A (low) keeps the threshold down at 2 when it is one of them:
     *   min_curves 1: 1: ref A .1 B .5 R1 .4 R2 .35 -> .375, R2 stopped;
     *                 2: ref A .1 B .5 R1 .4 -> .4, best .42 fine; 3: .3, fine: safe
     *   min_curves 0: 1: A .1 stopped too; 2: ref B .5 R1 .4 -> .45, best .42 worse */
    const spec_t startup[] = {
        { 0, HONE_TRIAL_COMPLETED, 3, { 1, 2, 3 }, { 0.1, 0.1, 0.1 } },
        { 1, HONE_TRIAL_COMPLETED, 3, { 1, 2, 3 }, { 0.5, 0.5, 0.5 } },
        { 2, HONE_TRIAL_COMPLETED, 3, { 1, 2, 3 }, { 0.6, 0.42, 0.9 } },
        { 3, HONE_TRIAL_RUNNING, 2, { 1, 2 }, { 0.4, 0.4 } },
        { 4, HONE_TRIAL_RUNNING, 2, { 1, 2 }, { 0.35, 0.2 } },
    };
    c = s_build(startup, HONE_ARRAY_LEN(startup));
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);
    cfg.min_progression = 1.0;
    cfg.check_safe = true;
    cfg.min_curves = 1;   /* live, row 2: .1 .2 .4 .42 .5 -> .4 */
    assert_true(s_decide(&cfg, c, false, 4).should_stop);
    cfg.min_curves = 0;
    d = s_decide(&cfg, c, false, 4);
    assert_false(d.should_stop);
    s_assert_contains(d.reason, "would have stopped trial 2, the best completed trial (final objective value "
                                "0.9), at progression 2.");
    hone_curves_destroy(&c);
    /* the threshold strategy never finds stopping harmful */
    c = s_build(s_safe, HONE_ARRAY_LEN(s_safe));
    hone_stopping_config_init(&cfg, HONE_STOPPING_THRESHOLD);
    cfg.min_progression = 1.0;
    cfg.min_curves = 2;
    cfg.check_safe = true;
    assert_true(s_decide(&cfg, c, false, 3).should_stop);
    hone_curves_destroy(&c);
}

static void test_decide_running(void **state)
{
    (void) state;
    hone_curves_t *c = s_build(s_five, HONE_ARRAY_LEN(s_five));
    hone_stopping_config_t cfg;
    hone_stopping_config_init(&cfg, HONE_STOPPING_PERCENTILE);
    hone_stop_decision_t d[5];
    size_t n = 0;
    hone_error_t err;
    assert_int_equal(hone_stopping_decide_running(&cfg, c, false, d, 1, &n, &err), HONE_ETOOBIG);
    assert_int_equal(n, 0);
    assert_string_equal(err.message, "early stopping: 2 running trials, room for 1 decisions");
    assert_int_equal(hone_stopping_decide_running(&cfg, c, false, d, HONE_ARRAY_LEN(d), &n, &err), HONE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(d[0].trial, 3);
    assert_true(d[0].should_stop);
    assert_int_equal(d[1].trial, 4);
    assert_false(d[1].should_stop);
    /* same decisions one by one, with and without the safety replay */
    for (int safe = 0; safe < 2; safe++) {
        cfg.check_safe = safe;
        assert_int_equal(hone_stopping_decide_running(&cfg, c, false, d, HONE_ARRAY_LEN(d), &n, &err), HONE_OK);
        for (size_t i = 0; i < n; i++) {
            hone_stop_decision_t one = s_decide(&cfg, c, false, d[i].trial);
            assert_int_equal(one.should_stop, d[i].should_stop);
            assert_string_equal(one.reason, d[i].reason);
        }
    }
    hone_curves_destroy(&c);
    /* the safety check blocks them all at once */
    c = s_build(s_safe, HONE_ARRAY_LEN(s_safe));
    cfg.min_progression = 1.0;
    cfg.min_curves = 2;
    cfg.check_safe = true;
    assert_int_equal(hone_stopping_decide_running(&cfg, c, false, d, HONE_ARRAY_LEN(d), &n, &err), HONE_OK);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_false(d[i].should_stop);
        s_assert_contains(d[i].reason, "The safety check (check_safe) blocks early stopping");
    }
    hone_curves_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantile),
        cmocka_unit_test(test_percentile_basic_and_direction),
        cmocka_unit_test(test_patience),
        cmocka_unit_test(test_n_best_trials_to_complete),
        cmocka_unit_test(test_check_safe),
        cmocka_unit_test(test_decide_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
