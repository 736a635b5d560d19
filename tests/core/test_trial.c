/* Unit tests for core/trial: statuses, Ax's transition table and messages, the
 * "latest" view of data, and data replacement and reasons through the experiment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "experiment.h"
#include "trial.h"

static const hone_trial_status_t s_all[] = {
    HONE_TRIAL_CANDIDATE, HONE_TRIAL_STAGED, HONE_TRIAL_FAILED, HONE_TRIAL_COMPLETED,
    HONE_TRIAL_RUNNING, HONE_TRIAL_ABANDONED, HONE_TRIAL_EARLY_STOPPED, HONE_TRIAL_STALE,
};

/* allowed[from][to], rows and columns in s_all's order (C St F Co R A E Sl); the
 * diagonal is Ax's no-op. EARLY_STOPPED from RUNNING assumes the trial has data.
 * hone's additions to Ax: RUNNING -> STALE (lease expiry), STALE -> RUNNING (the
 * re-queued trial handed out again), and STALE is not terminal (it can be abandoned). */
static const bool s_allowed[8][8] = {
    /* CANDIDATE     */ { 1, 1, 0, 0, 1, 1, 0, 1 },
    /* STAGED        */ { 0, 1, 0, 0, 0, 1, 0, 0 },
    /* FAILED        */ { 0, 0, 1, 0, 0, 0, 0, 0 },
    /* COMPLETED     */ { 0, 0, 0, 1, 0, 0, 0, 0 },
    /* RUNNING       */ { 0, 0, 1, 1, 1, 1, 1, 1 },
    /* ABANDONED     */ { 0, 0, 0, 0, 0, 1, 0, 0 },
    /* EARLY_STOPPED */ { 0, 0, 0, 0, 0, 0, 1, 0 },
    /* STALE         */ { 0, 0, 0, 0, 1, 1, 0, 1 },
};

static void s_assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("'%s' does not contain '%s'", haystack, needle);
}

static void test_status_names(void **state)
{
    (void) state;
    for (size_t i = 0; i < HONE_ARRAY_LEN(s_all); i++) {
        const char *name = hone_trial_status_name((int) s_all[i]);
        assert_non_null(name);
        hone_trial_status_t back;
        assert_int_equal(hone_trial_status_parse(name, &back), HONE_OK);
        assert_int_equal(back, s_all[i]);
    }
    assert_string_equal(hone_trial_status_name(HONE_TRIAL_EARLY_STOPPED), "EARLY_STOPPED");
    assert_int_equal(HONE_TRIAL_RUNNING, 4);   /* Ax's stored codes */
    assert_null(hone_trial_status_name(6));
    assert_null(hone_trial_status_name(-1));
    assert_null(hone_trial_status_name(9));
    hone_trial_status_t s;
    assert_int_equal(hone_trial_status_parse("completed", &s), HONE_OK);
    assert_int_equal(s, HONE_TRIAL_COMPLETED);
    assert_int_equal(hone_trial_status_parse("DISPATCHED", &s), HONE_EINVAL);
    assert_true(hone_trial_status_is_terminal(HONE_TRIAL_COMPLETED));
    assert_true(hone_trial_status_is_terminal(HONE_TRIAL_FAILED));
    assert_true(hone_trial_status_is_terminal(HONE_TRIAL_ABANDONED));
    assert_true(hone_trial_status_is_terminal(HONE_TRIAL_EARLY_STOPPED));
    assert_false(hone_trial_status_is_terminal(HONE_TRIAL_STALE));   /* re-queued, not ended */
    assert_true(hone_trial_status_is_pending(HONE_TRIAL_STALE));
    assert_true(hone_trial_status_is_pending(HONE_TRIAL_RUNNING));
    assert_true(hone_trial_status_is_pending(HONE_TRIAL_CANDIDATE));
    assert_false(hone_trial_status_is_pending(HONE_TRIAL_FAILED));
    assert_false(hone_trial_status_is_pending(HONE_TRIAL_COMPLETED));
    assert_false(hone_trial_status_is_terminal(HONE_TRIAL_RUNNING));
    assert_false(hone_trial_status_is_terminal(HONE_TRIAL_CANDIDATE));
    assert_false(hone_trial_status_is_terminal(HONE_TRIAL_STAGED));
}

static void test_transition_table(void **state)
{
    (void) state;
    hone_reading_t reading = { .metric = 0, .mean = 1.0, .sem = NAN };
    for (size_t f = 0; f < 8; f++) {
        for (size_t t = 0; t < 8; t++) {
            hone_trial_t trial = { .index = 3, .status = s_all[f], .readings = &reading, .n_readings = 1 };
            hone_error_t err;
            hone_error_clear(&err);
            int rc = hone_trial_check_transition(&trial, s_all[t], &err);
            if (s_allowed[f][t] && rc != HONE_OK)
                fail_msg("%s -> %s refused: %s", hone_trial_status_name((int) s_all[f]),
                         hone_trial_status_name((int) s_all[t]), err.message);
            if (!s_allowed[f][t] && rc != HONE_ESTATE)
                fail_msg("%s -> %s gave %d, expected HONE_ESTATE", hone_trial_status_name((int) s_all[f]),
                         hone_trial_status_name((int) s_all[t]), rc);
            if (!s_allowed[f][t])
                assert_true(strlen(err.message) > 0);
        }
    }
}

static void s_expect(hone_trial_status_t from, hone_trial_status_t to, size_t n_readings, int code,
                     const char *message)
{
    hone_reading_t reading = { .metric = 0, .mean = 1.0, .sem = NAN };
    hone_trial_t trial = { .index = 0, .status = from, .readings = &reading, .n_readings = n_readings };
    hone_error_t err;
    hone_error_clear(&err);
    assert_int_equal(hone_trial_check_transition(&trial, to, &err), code);
    if (message)
        assert_string_equal(err.message, message);
}

static void test_transition_messages(void **state)
{
    (void) state;
    s_expect(HONE_TRIAL_COMPLETED, HONE_TRIAL_RUNNING, 0, HONE_ESTATE,
             "Can only mark this trial as running when candidate.");
    s_expect(HONE_TRIAL_CANDIDATE, HONE_TRIAL_COMPLETED, 0, HONE_ESTATE,
             "Can only complete trial that is currently running.");
    s_expect(HONE_TRIAL_ABANDONED, HONE_TRIAL_COMPLETED, 1, HONE_ESTATE,
             "Can only complete trial that is currently running.");
    s_expect(HONE_TRIAL_COMPLETED, HONE_TRIAL_FAILED, 0, HONE_ESTATE,
             "Can only mark failed a trial that is currently running.");
    s_expect(HONE_TRIAL_COMPLETED, HONE_TRIAL_ABANDONED, 0, HONE_ESTATE, "Cannot abandon a trial in a terminal state.");
    s_expect(HONE_TRIAL_FAILED, HONE_TRIAL_ABANDONED, 0, HONE_ESTATE, "Cannot abandon a trial in a terminal state.");
    s_expect(HONE_TRIAL_RUNNING, HONE_TRIAL_EARLY_STOPPED, 0, HONE_ESTATE,
             "Cannot mark trial early stopped without data. Please mark trial abandoned instead.");
    s_expect(HONE_TRIAL_RUNNING, HONE_TRIAL_EARLY_STOPPED, 1, HONE_OK, NULL);
    s_expect(HONE_TRIAL_COMPLETED, HONE_TRIAL_EARLY_STOPPED, 1, HONE_ESTATE,
             "Can only early stop trial that is currently running.");
    /* the same status again is a no-op, even for terminal ones */
    s_expect(HONE_TRIAL_COMPLETED, HONE_TRIAL_COMPLETED, 0, HONE_OK, NULL);
    s_expect(HONE_TRIAL_EARLY_STOPPED, HONE_TRIAL_EARLY_STOPPED, 0, HONE_OK, NULL);
    s_expect(HONE_TRIAL_RUNNING, (hone_trial_status_t) 6, 0, HONE_EINVAL, NULL);
    s_expect(HONE_TRIAL_RUNNING, (hone_trial_status_t) 42, 0, HONE_EINVAL, NULL);
}

static void test_latest_view(void **state)
{
    (void) state;
    hone_reading_t readings[] = {
        { .metric = 0, .has_progression = true, .progression = 1, .mean = 1.0, .sem = 0.1 },
        { .metric = 0, .has_progression = true, .progression = 5, .mean = 5.0, .sem = 0.5 },
        { .metric = 1, .has_progression = false, .mean = -7.0, .sem = NAN },
        { .metric = 0, .has_progression = true, .progression = 3, .mean = 3.0, .sem = 0.3 },
        { .metric = 0, .has_progression = true, .progression = -10, .mean = -10.0, .sem = 0 },
    };
    hone_trial_t trial = { .status = HONE_TRIAL_RUNNING, .readings = readings, .n_readings = 5 };
    double mean = 0, sem = 0;
    assert_true(hone_trial_latest(&trial, 0, &mean, &sem));
    assert_true(mean == 5.0 && sem == 0.5);   /* largest progression */
    assert_true(hone_trial_latest(&trial, 1, &mean, &sem));
    assert_true(mean == -7.0 && isnan(sem));
    assert_false(hone_trial_latest(&trial, 2, &mean, &sem));
    /* "no progression" counts as +inf, whatever the order */
    readings[2].metric = 0;
    assert_true(hone_trial_latest(&trial, 0, &mean, NULL));
    assert_true(mean == -7.0);
    readings[2] = readings[0];
    readings[0] = (hone_reading_t) { .metric = 0, .has_progression = false, .mean = 42.0, .sem = NAN };
    assert_true(hone_trial_latest(&trial, 0, &mean, NULL));
    assert_true(mean == 42.0);
    trial.n_readings = 0;
    assert_false(hone_trial_latest(&trial, 0, &mean, NULL));
}

static const char s_config[] =
    "{\"name\":\"t\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}],\"objective\":\"-loss\"}";

static hone_experiment_t *s_experiment_with_trials(uint32_t n)
{
    hone_experiment_t *e = NULL;
    hone_error_t err;
    assert_int_equal(hone_experiment_from_json(&e, s_config, strlen(s_config), 1, &err), HONE_OK);
    uint32_t idx[8], got = 0;
    assert_int_equal(hone_experiment_generate(e, n, idx, &got, &err), HONE_OK);
    assert_int_equal(got, n);
    return e;
}

static void test_attach_replaces_same_key(void **state)
{
    (void) state;
    hone_experiment_t *e = s_experiment_with_trials(1);
    hone_error_t err;
    hone_reading_in_t r = { "loss", 3.0, 0.1 };
    assert_int_equal(hone_experiment_attach(e, 0, &r, 1, true, 10, true, &err), HONE_OK);
    r.mean = 2.0;
    assert_int_equal(hone_experiment_attach(e, 0, &r, 1, true, 20, true, &err), HONE_OK);
    r.mean = 2.5;   /* same key (loss, 20): replaces */
    assert_int_equal(hone_experiment_attach(e, 0, &r, 1, true, 20, true, &err), HONE_OK);
    const hone_trial_t *t = hone_experiment_trial(e, 0);
    assert_int_equal(t->n_readings, 2);
    double mean;
    assert_true(hone_trial_latest(t, 0, &mean, NULL));
    assert_true(mean == 2.5);
    /* no progression: its own key, replaced by another no-progression reading */
    r.mean = 9.0;
    assert_int_equal(hone_experiment_attach(e, 0, &r, 1, false, 0, true, &err), HONE_OK);
    r.mean = 8.0;
    r.sem = NAN;
    assert_int_equal(hone_experiment_attach(e, 0, &r, 1, false, 77, true, &err), HONE_OK);
    t = hone_experiment_trial(e, 0);
    assert_int_equal(t->n_readings, 3);
    double sem = 0;
    assert_true(hone_trial_latest(t, 0, &mean, &sem));
    assert_true(mean == 8.0 && isnan(sem));
    hone_experiment_destroy(&e);
}

static void test_mark_through_experiment(void **state)
{
    (void) state;
    hone_experiment_t *e = s_experiment_with_trials(4);
    hone_error_t err;
    /* early stop needs data */
    assert_int_equal(hone_experiment_mark(e, 0, HONE_TRIAL_EARLY_STOPPED, NULL, &err), HONE_ESTATE);
    assert_string_equal(err.message,
                        "Cannot mark trial early stopped without data. Please mark trial abandoned instead.");
    hone_reading_in_t r = { "loss", 1.0, NAN };
    assert_int_equal(hone_experiment_attach(e, 0, &r, 1, true, 1, true, &err), HONE_OK);
    assert_int_equal(hone_experiment_mark(e, 0, HONE_TRIAL_EARLY_STOPPED, NULL, &err), HONE_OK);
    assert_int_equal(hone_experiment_trial(e, 0)->status, HONE_TRIAL_EARLY_STOPPED);
    /* reasons are kept for FAILED and ABANDONED, truncated to 1000 bytes */
    char long_reason[1500];
    memset(long_reason, 'r', sizeof long_reason - 1);
    long_reason[sizeof long_reason - 1] = '\0';
    assert_int_equal(hone_experiment_mark(e, 1, HONE_TRIAL_FAILED, long_reason, &err), HONE_OK);
    assert_int_equal(strlen(hone_experiment_trial(e, 1)->reason), 1000);
    /* a multi-byte character straddling byte 1000 is dropped whole */
    memset(long_reason, 'a', 999);
    memcpy(long_reason + 999, "\xc3\xa9tail", 7);
    assert_int_equal(hone_experiment_mark(e, 2, HONE_TRIAL_ABANDONED, long_reason, &err), HONE_OK);
    assert_int_equal(strlen(hone_experiment_trial(e, 2)->reason), 999);
    assert_int_equal(hone_experiment_mark(e, 2, HONE_TRIAL_ABANDONED, "again", &err), HONE_OK);   /* no-op */
    assert_int_equal(strlen(hone_experiment_trial(e, 2)->reason), 999);
    assert_int_equal(hone_experiment_mark(e, 2, HONE_TRIAL_COMPLETED, NULL, &err), HONE_ESTATE);
    assert_string_equal(err.message, "Can only complete trial that is currently running.");
    assert_int_equal(hone_experiment_mark(e, 1, HONE_TRIAL_FAILED, NULL, &err), HONE_OK);   /* no-op */
    assert_int_equal(hone_experiment_mark(e, 3, HONE_TRIAL_COMPLETED, "ignored", &err), HONE_OK);
    assert_null(hone_experiment_trial(e, 3)->reason);
    assert_int_equal(hone_experiment_mark(e, 3, HONE_TRIAL_FAILED, NULL, &err), HONE_ESTATE);
    assert_string_equal(err.message, "Can only mark failed a trial that is currently running.");
    assert_int_equal(hone_experiment_mark(e, 3, HONE_TRIAL_CANDIDATE, NULL, &err), HONE_EINVAL);
    assert_int_equal(hone_experiment_mark(e, 3, (hone_trial_status_t) 6, NULL, &err), HONE_EINVAL);
    assert_int_equal(hone_experiment_mark(e, 9, HONE_TRIAL_COMPLETED, NULL, &err), HONE_ENOTFOUND);
    s_assert_contains(err.message, "trial 9");
    assert_int_equal(hone_experiment_count_status(e, HONE_TRIAL_FAILED), 1);
    assert_int_equal(hone_experiment_count_status(e, HONE_TRIAL_ABANDONED), 1);
    assert_int_equal(hone_experiment_count_status(e, HONE_TRIAL_COMPLETED), 1);
    assert_int_equal(hone_experiment_count_status(e, HONE_TRIAL_EARLY_STOPPED), 1);
    assert_int_equal(hone_experiment_count_status(e, HONE_TRIAL_RUNNING), 0);
    hone_experiment_destroy(&e);
}

/* Leases through the experiment: attempts, expiry, re-queue, retry limit, budget. */
static void test_attempts_expire_requeue(void **state)
{
    (void) state;
    const char *json = "{\"name\":\"l\",\"generation_strategy\":{\"method\":\"random_search\"},"
                       "\"objective\":\"y\",\"max_trials\":1,\"leases\":{\"max_retries\":1},"
                       "\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}";
    hone_experiment_t *e = NULL;
    hone_error_t err;
    assert_int_equal(hone_experiment_from_json(&e, json, strlen(json), 1, &err), HONE_OK);
    assert_int_equal(hone_experiment_leases(e)->max_retries, 1);
    assert_int_equal(hone_experiment_leases(e)->heartbeat_ms, HONE_LEASE_HEARTBEAT_MS_DEFAULT);
    uint32_t idx, got;
    assert_int_equal(hone_experiment_generate(e, 1, &idx, &got, &err), HONE_OK);
    double x = hone_experiment_trial(e, idx)->params[0].u.f;
    assert_null(hone_trial_open_attempt(hone_experiment_trial(e, idx)));
    assert_int_equal(hone_experiment_next_queued(e), -1);
    hone_experiment_set_worker(e, idx, "w1");
    assert_int_equal(hone_experiment_start_attempt(e, idx, "w1", 1000), 1);
    const hone_trial_t *t = hone_experiment_trial(e, idx);
    assert_non_null(hone_trial_open_attempt(t));
    assert_string_equal(hone_trial_open_attempt(t)->worker, "w1");

    /* first expiry: re-queued as STALE, same parameters, worker cleared, still pending */
    hone_trial_status_t to;
    assert_int_equal(hone_experiment_expire(e, idx, 4000, &to, &err), HONE_OK);
    assert_int_equal(to, HONE_TRIAL_STALE);
    t = hone_experiment_trial(e, idx);
    assert_int_equal(t->status, HONE_TRIAL_STALE);
    assert_null(t->worker);
    assert_null(hone_trial_open_attempt(t));
    assert_int_equal(t->n_attempts, 1);
    assert_int_equal(t->attempts[0].outcome, HONE_ATTEMPT_EXPIRED);
    assert_int_equal(t->attempts[0].end_ms, 4000);
    assert_int_equal(hone_trial_expired_attempts(t), 1);
    assert_int_equal(hone_experiment_next_queued(e), idx);
    /* the budget counts it: no new trial while it waits */
    assert_int_equal(hone_experiment_generate(e, 1, &idx, &got, &err), HONE_EAGAIN);
    /* nothing to expire now */
    assert_int_equal(hone_experiment_expire(e, idx, 4001, &to, &err), HONE_ESTATE);

    /* handed out again: attempt 2 */
    assert_int_equal(hone_experiment_mark(e, idx, HONE_TRIAL_RUNNING, NULL, &err), HONE_OK);
    assert_int_equal(hone_experiment_start_attempt(e, idx, "w2", 5000), 2);
    assert_true(hone_experiment_trial(e, idx)->params[0].u.f == x);
    /* second expiry: past max_retries 1, FAILED with the reason */
    assert_int_equal(hone_experiment_expire(e, idx, 9000, &to, &err), HONE_OK);
    assert_int_equal(to, HONE_TRIAL_FAILED);
    t = hone_experiment_trial(e, idx);
    assert_string_equal(t->reason, "lease expired 2 times (max_retries 1)");
    assert_int_equal(hone_trial_expired_attempts(t), 2);
    assert_int_equal(hone_experiment_next_queued(e), -1);

    /* attempts end with the trial's status */
    assert_int_equal(hone_attempt_outcome_for(HONE_TRIAL_COMPLETED), HONE_ATTEMPT_COMPLETED);
    assert_int_equal(hone_attempt_outcome_for(HONE_TRIAL_RUNNING), HONE_ATTEMPT_RUNNING);
    hone_attempt_outcome_t o;
    assert_int_equal(hone_attempt_outcome_parse("lease expired", &o), HONE_OK);
    assert_int_equal(o, HONE_ATTEMPT_EXPIRED);
    assert_int_equal(hone_attempt_outcome_parse("lost", &o), HONE_EINVAL);

    /* a snapshot keeps the history */
    hone_experiment_t *snap = hone_experiment_snapshot(e, false);
    assert_int_equal(hone_experiment_trial(snap, idx)->n_attempts, 2);
    assert_string_equal(hone_experiment_trial(snap, idx)->attempts[1].worker, "w2");
    hone_experiment_destroy(&snap);

    /* restoring: an open attempt of a trial that is not RUNNING is closed */
    hone_attempt_t a = { .worker = "w3", .start_ms = 7, .outcome = HONE_ATTEMPT_RUNNING };
    assert_int_equal(hone_experiment_restore_attempt(e, idx, &a, &err), HONE_OK);
    t = hone_experiment_trial(e, idx);
    assert_int_equal(t->attempts[2].outcome, HONE_ATTEMPT_FAILED);
    assert_int_equal(hone_experiment_restore_attempt(e, 5, &a, &err), HONE_ENOTFOUND);
    hone_experiment_destroy(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_transition_table),
        cmocka_unit_test(test_transition_messages),
        cmocka_unit_test(test_latest_view),
        cmocka_unit_test(test_attach_replaces_same_key),
        cmocka_unit_test(test_mark_through_experiment),
        cmocka_unit_test(test_attempts_expire_requeue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
