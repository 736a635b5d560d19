/* experiment_driver.h: driving a core experiment from a test, one trial at a time
 * (shared by test_bo.c and test_best.c). Include after <cmocka.h>. */
#ifndef HONE_TEST_EXPERIMENT_DRIVER_H
#define HONE_TEST_EXPERIMENT_DRIVER_H

#include <math.h>
#include <string.h>

#include "experiment.h"
#include "functions.h"

/* An experiment from a JSON config; fails the test with the config error. */
static inline hone_experiment_t *s_new(const char *json)
{
    hone_experiment_t *e = NULL;
    hone_error_t err;
    if (hone_experiment_from_json(&e, json, strlen(json), 1, &err) != HONE_OK)
        fail_msg("config: %s", err.message);
    return e;
}

/* One new trial's index. */
static inline uint32_t s_next(hone_experiment_t *e)
{
    uint32_t idx = 0, n = 0;
    hone_error_t err;
    if (hone_experiment_generate(e, 1, &idx, &n, &err) != HONE_OK)
        fail_msg("generate: %s", err.message);
    assert_int_equal(n, 1);
    return idx;
}

/* Attaches metric = y (SEM unknown) and completes trial t. */
static inline void s_complete(hone_experiment_t *e, uint32_t t, const char *metric, double y)
{
    hone_error_t err;
    hone_reading_in_t r = { metric, y, NAN };
    assert_int_equal(hone_experiment_attach(e, t, &r, 1, false, 0, false, &err), HONE_OK);
    assert_int_equal(hone_experiment_mark(e, t, HONE_TRIAL_COMPLETED, NULL, &err), HONE_OK);
}

/* Branin at trial t's (x1, x2). */
static inline double s_branin_at(const hone_experiment_t *e, uint32_t t)
{
    const hone_trial_t *trial = hone_experiment_trial(e, t);
    double x[2] = { trial->params[0].u.f, trial->params[1].u.f };
    return hone_bench_branin(x, 2);
}

#endif
