/* experiment_check.h: what the tests that drive an experiment through the core API share
 * (test_experiment.c, test_goals_run.c): making one from JSON and generating one trial,
 * failing the test with the core's message otherwise. Include after cmocka.h and
 * experiment.h. */
#ifndef HONE_TEST_EXPERIMENT_CHECK_H
#define HONE_TEST_EXPERIMENT_CHECK_H

#include <string.h>

/* The experiment of a config the test expects to be valid. */
static inline hone_experiment_t *exp_check_new(const char *json, uint64_t seed)
{
    hone_experiment_t *e = NULL;
    hone_error_t err;
    hone_error_clear(&err);
    if (hone_experiment_from_json(&e, json, strlen(json), seed, &err) != HONE_OK)
        fail_msg("config refused: %s", err.message);
    return e;
}

/* Generates exactly one trial and returns its index. */
static inline uint32_t exp_check_one(hone_experiment_t *e)
{
    uint32_t idx = UINT32_MAX, n = 0;
    hone_error_t err;
    hone_error_clear(&err);
    int rc = hone_experiment_generate(e, 1, &idx, &n, &err);
    if (rc != HONE_OK)
        fail_msg("generate gave %d: %s", rc, err.message);
    assert_int_equal(n, 1);
    return idx;
}

#endif
