#define _GNU_SOURCE
/* Tests of early stopping in the broker's handlers (PROTOCOL.md 4.6.4, 6.8), in process,
 * on a store in a temporary directory with a fake clock:
 *  - a reading whose curve is hopeless stops its trial: EARLY_STOPPED with the reason,
 *    in the reading's transaction, and the reply says stop;
 *  - the stop is repeated to the holder on every progress and heartbeat (also after a
 *    restart) until `complete` or `fail` acknowledges it, which keeps the status and
 *    stores the final readings; other leases get HONE_ELEASE;
 *  - an unacknowledged stop's lease expires without re-queueing or failing the trial;
 *  - experiments without an early_stopping block are never stopped by the broker, and
 *    `should_stop` never changes a status;
 *  - `list` with curves;
 *  - the incremental curves give the decisions of hone_experiment_should_stop;
 *  - with check_safe the decision runs on the generator and reaches the worker in the
 *    reply to its next heartbeat. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_harness.h"
#include "err.h"
#include "experiment.h"
#include "stopping.h"
#include "wire.h"

/* ---- requests ---- */

static bool s_stop(const hone_msg_t *reply)
{
    bool stop = false;
    return hone_msg_get_bool(reply, "stop", &stop, NULL) == HONE_OK && stop;
}

static void s_create(hone_harness_t *h, const char *name, const char *early_stopping)
{
    char config[2048];
    snprintf(config, sizeof config,
             "{\"name\": \"%s\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0.0, 1.0]}],"
             " \"objective\": \"-y\","
             " \"generation_strategy\": {\"method\": \"random_search\", \"initialization_random_seed\": 3},"
             " \"leases\": {\"heartbeat_ms\": 100, \"liveness\": 3, \"max_retries\": 3}%s%s}",
             name, early_stopping ? ", \"early_stopping\": " : "", early_stopping ? early_stopping : "");
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", config), HONE_OK);
    hone_msg_t *reply = hone_test_expect(hone_harness_call(h, "client", msg), HONE_MSG_OK);
    hone_msg_destroy(&reply);
}

/* A reading {y: value} at step (step < 0: none) of trial, from peer `from` (`progress`
 * with lease, lease -1: without) or from the client (`attach`, from NULL). */
static hone_msg_t *s_reading(hone_harness_t *h, const char *from, const char *experiment, int64_t trial, int64_t lease,
                             double y, int64_t step)
{
    hone_msg_t *msg = hone_test_req(&h->seq, from ? HONE_MSG_PROGRESS : HONE_MSG_ATTACH, experiment);
    assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    if (from && lease != -1)
        assert_int_equal(hone_msg_set_int(msg, "lease", lease), HONE_OK);
    if (step >= 0)
        assert_int_equal(hone_msg_set_int(msg, "progression", step), HONE_OK);
    hone_node_t *metrics = hone_node_add_map(hone_msg_body(msg), "metrics");
    assert_non_null(hone_node_add_float(metrics, "y", y));
    return hone_harness_call(h, from ? from : "client", msg);
}

static hone_msg_t *s_heartbeat(hone_harness_t *h, const char *from, const char *experiment, int64_t trial,
                               int64_t lease)
{
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_HEARTBEAT, experiment);
    assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    if (lease != -1)
        assert_int_equal(hone_msg_set_int(msg, "lease", lease), HONE_OK);
    return hone_harness_call(h, from, msg);
}

/* `complete` (y not NAN: with {y}) or `fail` (y NAN) of trial under lease. */
static hone_msg_t *s_finish(hone_harness_t *h, const char *from, const char *experiment, int64_t trial, int64_t lease,
                            hone_msg_id_t id, double y)
{
    hone_msg_t *msg = hone_test_req(&h->seq, id, experiment);
    assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    if (lease != -1)
        assert_int_equal(hone_msg_set_int(msg, "lease", lease), HONE_OK);
    if (id == HONE_MSG_FAIL)
        assert_int_equal(hone_msg_set_str(msg, "reason", "killed by SIGTERM"), HONE_OK);
    else if (!isnan(y))
        assert_non_null(hone_node_add_float(hone_node_add_map(hone_msg_body(msg), "metrics"), "y", y));
    return hone_harness_call(h, from, msg);
}

/* `ready` from worker `name` (peer id = name): returns the trial index, *lease its token. */
static uint32_t s_take(hone_harness_t *h, const char *experiment, const char *name, int64_t *lease)
{
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_READY, experiment);
    assert_int_equal(hone_msg_set_str(msg, "worker", name), HONE_OK);
    hone_msg_t *reply = hone_test_expect(hone_harness_call(h, name, msg), HONE_MSG_TRIAL);
    int64_t trial = -1;
    assert_int_equal(hone_msg_get_int(reply, "trial", &trial, NULL), HONE_OK);
    assert_int_equal(hone_msg_get_int(reply, "lease", lease, NULL), HONE_OK);
    hone_msg_destroy(&reply);
    return (uint32_t) trial;
}

/* Client trials 0..n-1 with the curve y = good at steps 1..steps, COMPLETED. */
static void s_good_curves(hone_harness_t *h, const char *experiment, int n, int steps, double good)
{
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_NEXT, experiment);
    assert_int_equal(hone_msg_set_int(msg, "count", n), HONE_OK);
    hone_msg_t *reply = hone_test_expect(hone_harness_call(h, "client", msg), HONE_MSG_OK);
    hone_msg_destroy(&reply);
    for (int t = 0; t < n; t++) {
        for (int s = 1; s <= steps; s++) {
            reply = hone_test_expect(s_reading(h, NULL, experiment, t, -1, good + 0.01 * t, s), HONE_MSG_OK);
            hone_msg_destroy(&reply);
        }
        msg = hone_test_req(&h->seq, HONE_MSG_MARK, experiment);
        assert_int_equal(hone_msg_set_int(msg, "trial", t), HONE_OK);
        assert_int_equal(hone_msg_set_str(msg, "status", "COMPLETED"), HONE_OK);
        reply = hone_test_expect(hone_harness_call(h, "client", msg), HONE_MSG_OK);
        hone_msg_destroy(&reply);
    }
}

/* The `list` reply (with curves, of one trial when trial >= 0). */
static hone_msg_t *s_list(hone_harness_t *h, const char *experiment, int64_t trial, bool curves)
{
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_LIST, experiment);
    if (trial >= 0)
        assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    if (curves)
        assert_int_equal(hone_msg_set_bool(msg, "curves", true), HONE_OK);
    return hone_test_expect(hone_harness_call(h, "client", msg), HONE_MSG_OK);
}

/* Status of trial index. */
static char *s_status_of(hone_harness_t *h, const char *experiment, uint32_t index)
{
    hone_msg_t *list = s_list(h, experiment, -1, false);
    char *status = strdup(hone_test_node_str(hone_test_trial_node(list, index), "status"));
    hone_msg_destroy(&list);
    return status;
}

static void s_expect_status(hone_harness_t *h, const char *experiment, uint32_t index, const char *want)
{
    char *got = s_status_of(h, experiment, index);
    if (strcmp(got, want) != 0)
        fail_msg("trial %s#%u is %s, not %s", experiment, index, got, want);
    free(got);
}

#define S_PERCENTILE "{\"type\": \"percentile\", \"percentile_threshold\": 50, \"min_curves\": 3, " \
                     "\"min_progression\": 1}"

/* ---- tests ---- */

/* A hopeless reading stops its trial at once, with the reason stored and shown; a good
 * one does not. The reading is kept. */
static void test_reading_stops_a_hopeless_trial(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "es", S_PERCENTILE);
    s_good_curves(h, "es", 3, 5, 0.1);
    int64_t lease_a, lease_b;
    uint32_t a = s_take(h, "es", "wa", &lease_a);
    uint32_t b = s_take(h, "es", "wb", &lease_b);
    assert_int_equal(a, 3);
    assert_int_equal(b, 4);
    size_t leases = hone_handlers_lease_count(h->handlers);

    /* a good curve goes on: no stop field at all */
    hone_msg_t *reply = hone_test_expect(s_reading(h, "wb", "es", b, lease_b, 0.05, 1), HONE_MSG_OK);
    assert_null(hone_msg_get(reply, "stop"));
    hone_msg_destroy(&reply);
    s_expect_status(h, "es", b, "RUNNING");

    /* a hopeless one stops */
    reply = hone_test_expect(s_reading(h, "wa", "es", a, lease_a, 5.0, 1), HONE_MSG_OK);
    assert_true(s_stop(reply));
    const char *reason = hone_test_str(reply, "reason");
    if (!strstr(reason, "percentile strategy: ") || !strstr(reason, "worse than the 50.0-th percentile"))
        fail_msg("unexpected reason: %s", reason);
    char *told = strdup(reason);
    hone_msg_destroy(&reply);

    hone_msg_t *list = s_list(h, "es", a, true);
    const hone_node_t *t = hone_test_trial_node(list, 0);
    assert_string_equal(hone_test_node_str(t, "status"), "EARLY_STOPPED");
    assert_string_equal(hone_test_node_str(t, "reason"), told);
    const hone_node_t *attempts = hone_node_get(t, "attempts");
    assert_int_equal(hone_node_len(attempts), 1);
    assert_string_equal(hone_test_node_str(hone_node_at(attempts, 0), "outcome"), "early stopped");
    assert_non_null(hone_node_get(hone_node_at(attempts, 0), "end"));
    const hone_node_t *curve = hone_node_get(hone_node_get(t, "curves"), "y");
    assert_int_equal(hone_node_len(curve), 1);      /* the reading is kept */
    assert_int_equal(hone_node_int(hone_node_at(hone_node_at(curve, 0), 0)), 1);
    assert_true(hone_node_float(hone_node_at(hone_node_at(curve, 0), 1)) == 5.0);
    hone_msg_destroy(&list);
    /* the lease entry stays: the stop is pending */
    assert_int_equal(hone_handlers_lease_count(h->handlers), leases);

    /* stored: a restart shows the same status and reason */
    hone_harness_close(h);
    hone_harness_open(h, NULL);
    list = s_list(h, "es", a, false);
    t = hone_test_trial_node(list, 0);
    assert_string_equal(hone_test_node_str(t, "status"), "EARLY_STOPPED");
    assert_string_equal(hone_test_node_str(t, "reason"), told);
    hone_msg_destroy(&list);
    free(told);
}

/* The stop is repeated to its holder until acknowledged; a lost reply loses nothing. */
static void test_stop_repeated_until_acknowledged(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "rep", S_PERCENTILE);
    s_good_curves(h, "rep", 3, 5, 0.1);
    int64_t lease;
    uint32_t a = s_take(h, "rep", "wa", &lease);
    hone_msg_t *reply = hone_test_expect(s_reading(h, "wa", "rep", a, lease, 5.0, 1), HONE_MSG_OK);
    assert_true(s_stop(reply));
    char *reason = strdup(hone_test_str(reply, "reason"));
    hone_msg_destroy(&reply);     /* "lost" */

    /* heartbeat: stop again, and the lease is refreshed, not gone */
    h->now += 50;
    reply = hone_test_expect(s_heartbeat(h, "wa", "rep", a, lease), HONE_MSG_HEARTBEAT);
    assert_true(s_stop(reply));
    assert_string_equal(hone_test_str(reply, "reason"), reason);
    hone_msg_destroy(&reply);

    /* another reading: stored, and stop again */
    reply = hone_test_expect(s_reading(h, "wa", "rep", a, lease, 6.0, 2), HONE_MSG_OK);
    assert_true(s_stop(reply));
    hone_msg_destroy(&reply);
    hone_msg_t *list = s_list(h, "rep", a, true);
    assert_int_equal(hone_node_len(hone_node_get(hone_node_get(hone_test_trial_node(list, 0), "curves"), "y")), 2);
    hone_msg_destroy(&list);

    /* a lease this worker does not hold is refused, as always */
    hone_test_expect_error(s_heartbeat(h, "wa", "rep", a, lease + 1), HONE_ELEASE, NULL);
    hone_test_expect_error(s_reading(h, "wa", "rep", a, lease + 1, 1.0, 3), HONE_ELEASE, NULL);
    /* an older peer without `lease`, on the holder's connection: stop; on another: refused */
    reply = hone_test_expect(s_heartbeat(h, "wa", "rep", a, -1), HONE_MSG_HEARTBEAT);
    assert_null(hone_msg_get(reply, "stop"));   /* no lease named: an idle heartbeat */
    hone_msg_destroy(&reply);
    reply = hone_test_expect(s_reading(h, "wa", "rep", a, -1, 6.5, 3), HONE_MSG_OK);
    assert_true(s_stop(reply));
    hone_msg_destroy(&reply);
    hone_test_expect_error(s_reading(h, "other", "rep", a, -1, 6.5, 4), HONE_ESTATE, NULL);

    /* a broker restart: the stop is state, so it survives */
    hone_harness_close(h);
    hone_harness_open(h, NULL);
    reply = hone_test_expect(s_heartbeat(h, "wa", "rep", a, lease), HONE_MSG_HEARTBEAT);
    assert_true(s_stop(reply));
    assert_string_equal(hone_test_str(reply, "reason"), reason);
    hone_msg_destroy(&reply);

    /* `complete` acknowledges: its metrics are stored, the status stays */
    reply = hone_test_expect(s_finish(h, "wa", "rep", a, lease, HONE_MSG_COMPLETE, 4.5), HONE_MSG_OK);
    assert_string_equal(hone_test_str(reply, "status"), "EARLY_STOPPED");
    assert_string_equal(hone_test_str(reply, "reason"), reason);
    hone_msg_destroy(&reply);
    s_expect_status(h, "rep", a, "EARLY_STOPPED");
    list = s_list(h, "rep", a, false);
    const hone_node_t *y = hone_node_get(hone_node_get(hone_test_trial_node(list, 0), "metrics"), "y");
    assert_true(hone_node_float(hone_node_at(y, 0)) == 4.5);    /* the final reading (no step) is the latest */
    hone_msg_destroy(&list);
    /* a repeated acknowledgement gets the same answer */
    reply = hone_test_expect(s_finish(h, "wa", "rep", a, lease, HONE_MSG_COMPLETE, 4.5), HONE_MSG_OK);
    assert_string_equal(hone_test_str(reply, "status"), "EARLY_STOPPED");
    hone_msg_destroy(&reply);
    s_expect_status(h, "rep", a, "EARLY_STOPPED");

    /* `fail` acknowledges too, and never makes the trial FAILED */
    int64_t lease_b;
    uint32_t b = s_take(h, "rep", "wb", &lease_b);
    size_t leases = hone_handlers_lease_count(h->handlers);
    reply = hone_test_expect(s_reading(h, "wb", "rep", b, lease_b, 7.0, 2), HONE_MSG_OK);
    assert_true(s_stop(reply));
    hone_msg_destroy(&reply);
    assert_int_equal(hone_handlers_lease_count(h->handlers), leases);
    reply = hone_test_expect(s_finish(h, "wb", "rep", b, lease_b, HONE_MSG_FAIL, NAN), HONE_MSG_OK);
    assert_string_equal(hone_test_str(reply, "status"), "EARLY_STOPPED");
    hone_msg_destroy(&reply);
    assert_int_equal(hone_handlers_lease_count(h->handlers), leases - 1);     /* released */
    s_expect_status(h, "rep", b, "EARLY_STOPPED");
    free(reason);
}

/* A stop never acknowledged: the lease expires and is dropped; the trial is neither
 * re-queued nor failed, and no other worker gets it. */
static void test_unacknowledged_stop_expires(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "exp", S_PERCENTILE);
    s_good_curves(h, "exp", 3, 5, 0.1);
    int64_t lease;
    uint32_t a = s_take(h, "exp", "wa", &lease);
    hone_msg_t *reply = hone_test_expect(s_reading(h, "wa", "exp", a, lease, 5.0, 1), HONE_MSG_OK);
    assert_true(s_stop(reply));
    hone_msg_destroy(&reply);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 1);
    h->now += 3 * 100 + 1;      /* heartbeat 100 ms x liveness 3 */
    assert_int_equal(hone_handlers_tick(h->handlers, h->now), 1);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 0);
    s_expect_status(h, "exp", a, "EARLY_STOPPED");
    hone_msg_t *list = s_list(h, "exp", a, false);
    const hone_node_t *t = hone_test_trial_node(list, 0);
    assert_null(hone_node_get(t, "retries"));
    assert_string_equal(hone_test_node_str(hone_node_at(hone_node_get(t, "attempts"), 0), "outcome"), "early stopped");
    hone_msg_destroy(&list);
    /* the next worker gets a new trial */
    int64_t lease_b;
    uint32_t b = s_take(h, "exp", "wb", &lease_b);
    assert_true(b != a);
    hone_msg_t *status = hone_test_req(&h->seq, HONE_MSG_STATUS, "exp");
    status = hone_test_expect(hone_harness_call(h, "client", status), HONE_MSG_OK);
    int64_t expired = -1;
    assert_int_equal(hone_msg_get_int(status, "leases_expired", &expired, NULL), HONE_OK);
    assert_int_equal(expired, 0);
    hone_msg_destroy(&status);
    /* the holder coming back late is still told to stop */
    reply = hone_test_expect(s_heartbeat(h, "wa", "exp", a, lease), HONE_MSG_HEARTBEAT);
    assert_true(s_stop(reply));
    hone_msg_destroy(&reply);
}

/* Without an early_stopping block the broker never stops a trial; `should_stop` (Ax's
 * default strategy) answers and changes nothing. */
static void test_no_block_never_stops(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "plain", NULL);
    s_good_curves(h, "plain", 5, 12, 0.1);
    int64_t lease;
    uint32_t a = s_take(h, "plain", "wa", &lease);
    for (int step = 1; step <= 12; step++) {
        hone_msg_t *reply = hone_test_expect(s_reading(h, "wa", "plain", a, lease, 50.0, step), HONE_MSG_OK);
        assert_null(hone_msg_get(reply, "stop"));
        hone_msg_destroy(&reply);
        reply = hone_test_expect(s_heartbeat(h, "wa", "plain", a, lease), HONE_MSG_HEARTBEAT);
        assert_null(hone_msg_get(reply, "stop"));
        hone_msg_destroy(&reply);
    }
    s_expect_status(h, "plain", a, "RUNNING");

    /* should_stop: Ax's default percentile strategy (min_curves 5, min_progression 10) */
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_SHOULD_STOP, "plain");
    assert_int_equal(hone_msg_set_int(msg, "trial", a), HONE_OK);
    hone_msg_t *reply = hone_test_expect(hone_harness_call(h, "client", msg), HONE_MSG_OK);
    assert_true(s_stop(reply));
    assert_non_null(strstr(hone_test_str(reply, "reason"), "percentile"));
    hone_msg_destroy(&reply);
    s_expect_status(h, "plain", a, "RUNNING");       /* never changes the status */
    msg = hone_test_req(&h->seq, HONE_MSG_SHOULD_STOP, "plain");
    assert_int_equal(hone_msg_set_int(msg, "trial", 0), HONE_OK);
    reply = hone_test_expect(hone_harness_call(h, "client", msg), HONE_MSG_OK);
    bool stop = true;
    assert_int_equal(hone_msg_get_bool(reply, "stop", &stop, NULL), HONE_OK);
    assert_false(stop);
    hone_msg_destroy(&reply);
    msg = hone_test_req(&h->seq, HONE_MSG_SHOULD_STOP, "plain");
    assert_int_equal(hone_msg_set_int(msg, "trial", 99), HONE_OK);
    hone_test_expect_error(hone_harness_call(h, "client", msg), HONE_ENOTFOUND, NULL);
    msg = hone_test_req(&h->seq, HONE_MSG_SHOULD_STOP, "nope");
    assert_int_equal(hone_msg_set_int(msg, "trial", 0), HONE_OK);
    hone_test_expect_error(hone_harness_call(h, "client", msg), HONE_ENOTFOUND, NULL);
    hone_test_expect_error(hone_harness_call(h, "client", hone_test_req(&h->seq, HONE_MSG_SHOULD_STOP, "plain")),
                           HONE_EPROTO, NULL);

    /* the worker completes as usual */
    reply = hone_test_expect(s_finish(h, "wa", "plain", a, lease, HONE_MSG_COMPLETE, 50.0), HONE_MSG_OK);
    assert_string_equal(hone_test_str(reply, "status"), "COMPLETED");
    hone_msg_destroy(&reply);
}

/* With an interval, a trial is decided only when it crosses a boundary; readings of
 * another metric or without a progression never decide. */
static void test_interval_and_other_readings(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "iv", "{\"type\": \"threshold\", \"metric_threshold\": 1.0, \"min_curves\": 1, "
                      "\"min_progression\": 2, \"interval\": 10}");
    int64_t lease;
    uint32_t a = s_take(h, "iv", "wa", &lease);
    /* below min_progression: not decided, even though hopeless */
    hone_msg_t *reply = hone_test_expect(s_reading(h, "wa", "iv", a, lease, 0.5, 1), HONE_MSG_OK);
    assert_null(hone_msg_get(reply, "stop"));
    hone_msg_destroy(&reply);
    /* step 2: first check, fine (0.5 < 1) */
    reply = hone_test_expect(s_reading(h, "wa", "iv", a, lease, 0.5, 2), HONE_MSG_OK);
    assert_null(hone_msg_get(reply, "stop"));
    hone_msg_destroy(&reply);
    /* no progression, or another metric: no decision */
    reply = hone_test_expect(s_reading(h, "wa", "iv", a, lease, 9.0, -1), HONE_MSG_OK);
    assert_null(hone_msg_get(reply, "stop"));
    hone_msg_destroy(&reply);
    /* hopeless inside the same interval [2, 12): not checked */
    reply = hone_test_expect(s_reading(h, "wa", "iv", a, lease, 9.0, 5), HONE_MSG_OK);
    assert_null(hone_msg_get(reply, "stop"));
    hone_msg_destroy(&reply);
    s_expect_status(h, "iv", a, "RUNNING");
    /* the boundary 12: checked, stopped */
    reply = hone_test_expect(s_reading(h, "wa", "iv", a, lease, 9.0, 12), HONE_MSG_OK);
    assert_true(s_stop(reply));
    assert_non_null(strstr(hone_test_str(reply, "reason"), "threshold strategy: "));
    hone_msg_destroy(&reply);
    s_expect_status(h, "iv", a, "EARLY_STOPPED");
}

/* `list` with curves: every metric's readings with a progression, in order; `trial`
 * selects one trial. */
static void test_list_curves(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "lc", NULL);
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_NEXT, "lc");
    assert_int_equal(hone_msg_set_int(msg, "count", 2), HONE_OK);
    hone_test_expect_destroy(hone_harness_call(h, "client", msg), HONE_MSG_OK);
    static const int64_t steps[] = { 3, 1, 2 };      /* out of order */
    for (int i = 0; i < 3; i++) {
        msg = hone_test_req(&h->seq, HONE_MSG_ATTACH, "lc");
        assert_int_equal(hone_msg_set_int(msg, "trial", 1), HONE_OK);
        assert_int_equal(hone_msg_set_int(msg, "progression", steps[i]), HONE_OK);
        hone_node_t *metrics = hone_node_add_map(hone_msg_body(msg), "metrics");
        hone_node_add_float(metrics, "y", (double) steps[i]);
        hone_node_t *pair = hone_node_add_array(metrics, "acc");
        hone_node_add_float(pair, NULL, 0.5);
        hone_node_add_float(pair, NULL, 0.125);
        hone_test_expect_destroy(hone_harness_call(h, "client", msg), HONE_MSG_OK);
    }
    hone_test_expect_destroy(s_reading(h, NULL, "lc", 1, -1, 0.25, -1), HONE_MSG_OK);

    hone_msg_t *list = s_list(h, "lc", -1, true);
    assert_int_equal(hone_node_len(hone_msg_get(list, "trials")), 2);
    assert_null(hone_node_get(hone_test_trial_node(list, 0), "curves"));      /* no readings */
    const hone_node_t *curves = hone_node_get(hone_test_trial_node(list, 1), "curves");
    assert_int_equal(hone_node_len(curves), 2);
    assert_string_equal(hone_node_key_at(curves, 0), "y");      /* objective first */
    assert_string_equal(hone_node_key_at(curves, 1), "acc");
    const hone_node_t *y = hone_node_get(curves, "y");
    assert_int_equal(hone_node_len(y), 3);      /* the reading without a step is not a point */
    for (int64_t k = 0; k < 3; k++) {
        const hone_node_t *point = hone_node_at(y, (size_t) k);
        assert_int_equal(hone_node_len(point), 3);
        assert_int_equal(hone_node_int(hone_node_at(point, 0)), k + 1);
        assert_true(hone_node_float(hone_node_at(point, 1)) == (double) (k + 1));
        assert_int_equal(hone_node_type(hone_node_at(point, 2)), HONE_NODE_NIL);
    }
    const hone_node_t *acc = hone_node_at(hone_node_get(curves, "acc"), 0);
    assert_true(hone_node_float(hone_node_at(acc, 2)) == 0.125);
    hone_msg_destroy(&list);
    /* without curves: no `curves` field; with trial: that one only */
    list = s_list(h, "lc", -1, false);
    assert_null(hone_node_get(hone_test_trial_node(list, 1), "curves"));
    hone_msg_destroy(&list);
    list = s_list(h, "lc", 1, false);
    assert_int_equal(hone_node_len(hone_msg_get(list, "trials")), 1);
    assert_int_equal(hone_node_int(hone_node_get(hone_test_trial_node(list, 0), "trial")), 1);
    hone_msg_destroy(&list);
    msg = hone_test_req(&h->seq, HONE_MSG_LIST, "lc");
    assert_int_equal(hone_msg_set_int(msg, "trial", 2), HONE_OK);
    hone_test_expect_error(hone_harness_call(h, "client", msg), HONE_ENOTFOUND, NULL);
    msg = hone_test_req(&h->seq, HONE_MSG_LIST, "lc");
    assert_int_equal(hone_msg_set_str(msg, "curves", "yes"), HONE_OK);
    hone_test_expect_error(hone_harness_call(h, "client", msg), HONE_EPROTO, NULL);
}

/* The incremental curves decide exactly as hone_experiment_should_stop, reasons and
 * interval memory included, through appended, out-of-order and replaced readings and
 * status changes. */
static void test_cache_matches_full_rebuild(void **state)
{
    (void) state;
    static const char *const blocks[] = {
        "{\"type\": \"percentile\", \"min_curves\": 3, \"min_progression\": 2, \"patience\": 1}",
        "{\"type\": \"percentile\", \"min_curves\": 2, \"min_progression\": 0, \"interval\": 3, "
        "\"check_safe\": true, \"n_best_trials_to_complete\": 1}",
        "{\"type\": \"threshold\", \"metric_threshold\": 0.6, \"min_curves\": 2, \"normalize_progressions\": true}",
    };
    for (size_t b = 0; b < HONE_ARRAY_LEN(blocks); b++) {
        char config[1024];
        snprintf(config, sizeof config, "{\"name\": \"eq\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0.0, 1.0]}],"
                 " \"objective\": \"-y\", \"generation_strategy\": {\"method\": \"random_search\"},"
                 " \"early_stopping\": %s}", blocks[b]);
        hone_error_t err;
        hone_experiment_t *full = NULL, *inc = NULL;
        assert_int_equal(hone_experiment_from_json(&full, config, strlen(config), 7, &err), HONE_OK);
        assert_int_equal(hone_experiment_from_json(&inc, config, strlen(config), 7, &err), HONE_OK);
        hone_stopping_cache_t *cache = hone_stopping_cache_new();
        uint64_t rng = 0x243F6A8885A308D3ull + b;
        uint32_t n_trials = 0;
        for (int round = 0; round < 400; round++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t r = (uint32_t) (rng >> 33);
            if (n_trials < 12 && (n_trials < 3 || r % 9 == 0)) {
                uint32_t idx[1], n = 0;
                assert_int_equal(hone_experiment_generate(full, 1, idx, &n, &err), HONE_OK);
                assert_int_equal(hone_experiment_generate(inc, 1, idx, &n, &err), HONE_OK);
                n_trials++;
                continue;
            }
            uint32_t trial = r % n_trials;
            const hone_trial_t *t = hone_experiment_trial(full, trial);
            if (t->status == HONE_TRIAL_RUNNING && r % 23 == 0) {
                hone_trial_status_t to = r % 2 ? HONE_TRIAL_COMPLETED : HONE_TRIAL_FAILED;
                hone_experiment_mark(full, trial, to, NULL, NULL);
                hone_experiment_mark(inc, trial, to, NULL, NULL);
                continue;
            }
            /* a reading: mostly the next step, sometimes an old step again (replaced) or
             * another metric */
            int64_t step = (int64_t) (r % 7 == 0 ? r % 4 : (t->n_readings + 1));
            hone_reading_in_t reading = { r % 11 == 0 ? "acc" : "y", (double) ((r >> 8) % 1000) / 1000.0, NAN };
            hone_experiment_attach(full, trial, &reading, 1, true, step, false, NULL);
            hone_experiment_attach(inc, trial, &reading, 1, true, step, false, NULL);
            if (step <= 3)
                hone_stopping_cache_touch(cache, trial);   /* perhaps replaced in place: the broker says so */
            uint32_t judged = (r >> 4) % n_trials;
            hone_stop_decision_t want, got;
            assert_int_equal(hone_experiment_should_stop(full, judged, &want, &err), HONE_OK);
            assert_int_equal(hone_stopping_cache_decide(cache, inc, judged, &got, &err), HONE_OK);
            if (want.should_stop != got.should_stop || strcmp(want.reason, got.reason) != 0
                || want.record_check != got.record_check)
                fail_msg("block %zu, round %d, trial %u: full says %d '%s', incremental %d '%s'", b, round, judged,
                         want.should_stop, want.reason, got.should_stop, got.reason);
        }
        hone_stopping_cache_destroy(&cache);
        hone_experiment_destroy(&full);
        hone_experiment_destroy(&inc);
    }
}

/* check_safe: the decision runs on the generator; the reading is answered at once, and
 * the stop reaches the worker on its next heartbeat. A client's should_stop is
 * answered when its job comes back. */
static void test_check_safe_decides_off_the_reactor(void **state)
{
    hone_harness_t *h = *state;
    hone_harness_use_generator(h);
    s_create(h, "safe", "{\"type\": \"percentile\", \"min_curves\": 3, \"min_progression\": 1, "
                        "\"check_safe\": true}");
    s_good_curves(h, "safe", 3, 5, 0.1);
    int64_t lease;
    uint32_t a = s_take(h, "safe", "wa", &lease);
    hone_msg_t *reply = hone_test_expect(s_reading(h, "wa", "safe", a, lease, 5.0, 1), HONE_MSG_OK);
    assert_null(hone_msg_get(reply, "stop"));       /* not decided yet */
    hone_msg_destroy(&reply);
    hone_harness_collect_all(h, 30000);
    s_expect_status(h, "safe", a, "EARLY_STOPPED");
    reply = hone_test_expect(s_heartbeat(h, "wa", "safe", a, lease), HONE_MSG_HEARTBEAT);
    assert_true(s_stop(reply));
    assert_non_null(strstr(hone_test_str(reply, "reason"), "percentile strategy: "));
    hone_msg_destroy(&reply);

    /* should_stop goes the same way: deferred, then answered */
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_SHOULD_STOP, "safe");
    assert_int_equal(hone_msg_set_int(msg, "trial", 0), HONE_OK);
    assert_null(hone_harness_dispatch(h, "client", msg));
    hone_harness_collect_all(h, 30000);
    assert_true(h->n_replies > 0);
    hone_msg_t *deferred = hone_test_expect(h->replies[h->n_replies - 1], HONE_MSG_OK);
    bool stop = true;
    assert_int_equal(hone_msg_get_bool(deferred, "stop", &stop, NULL), HONE_OK);
    assert_false(stop);
    s_expect_status(h, "safe", 0, "COMPLETED");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HONE_HARNESS_TEST(test_reading_stops_a_hopeless_trial),
        HONE_HARNESS_TEST(test_stop_repeated_until_acknowledged),
        HONE_HARNESS_TEST(test_unacknowledged_stop_expires),
        HONE_HARNESS_TEST(test_no_block_never_stops),
        HONE_HARNESS_TEST(test_interval_and_other_readings),
        HONE_HARNESS_TEST(test_list_curves),
        cmocka_unit_test(test_cache_matches_full_rebuild),
        HONE_HARNESS_TEST(test_check_safe_decides_off_the_reactor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
