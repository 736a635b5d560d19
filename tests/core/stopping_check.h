/* stopping_check.h: the curve fixtures shared by the early-stopping tests (test_stopping.c,
 * test_stopping_percentile.c): curves built from a table of trial specs, a decision that
 * must succeed, a substring assertion, and the five-trial table most cases start from;
 * include after cmocka.h and stopping.h. The helpers keep the s_ names the tests call
 * them by. */
#ifndef HONE_TEST_STOPPING_CHECK_H
#define HONE_TEST_STOPPING_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MAXP 8

typedef struct spec {
    uint32_t trial;
    hone_trial_status_t status;
    size_t n;
    int64_t p[MAXP];
    double v[MAXP];
} spec_t;

/* The curves of the n trials specs: each trial set to its status, then its points added. */
static inline hone_curves_t *s_build(const spec_t *specs, size_t n)
{
    hone_curves_t *c = hone_curves_new();
    hone_error_t err;
    for (size_t i = 0; i < n; i++) {
        hone_curves_set_trial(c, specs[i].trial, specs[i].status);
        for (size_t k = 0; k < specs[i].n; k++)
            assert_int_equal(hone_curves_add_point(c, specs[i].trial, specs[i].p[k], specs[i].v[k], &err), HONE_OK);
    }
    return c;
}

/* hone_stopping_decide for trial, which must succeed with a reason for that trial. */
static inline hone_stop_decision_t s_decide(const hone_stopping_config_t *cfg, const hone_curves_t *c,
                                            bool minimize, uint32_t trial)
{
    hone_stop_decision_t d;
    hone_error_t err = { 0 };
    int rc = hone_stopping_decide(cfg, c, minimize, trial, &d, &err);
    if (rc != HONE_OK)
        fail_msg("decide: %s", err.message);
    assert_int_equal(d.trial, trial);
    assert_true(d.reason[0] != '\0');
    return d;
}

/* Fails unless needle occurs in haystack. */
static inline void s_assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("'%s' does not contain '%s'", haystack, needle);
}

/* Five trials at progressions 0, 10, 20 (maximize, like an accuracy):
 *   row 10: T0 .5, T1 .4, T2 .3, T3 .2, T4 .6 -> sorted .2 .3 .4 .5 .6, median .4 */
static const spec_t s_five[] = {
    { 0, HONE_TRIAL_COMPLETED, 3, { 0, 10, 20 }, { 0.1, 0.5, 0.6 } },
    { 1, HONE_TRIAL_COMPLETED, 3, { 0, 10, 20 }, { 0.1, 0.4, 0.5 } },
    { 2, HONE_TRIAL_COMPLETED, 3, { 0, 10, 20 }, { 0.1, 0.3, 0.4 } },
    { 3, HONE_TRIAL_RUNNING, 2, { 0, 10 }, { 0.1, 0.2 } },
    { 4, HONE_TRIAL_RUNNING, 2, { 0, 10 }, { 0.1, 0.6 } },
};

#endif
