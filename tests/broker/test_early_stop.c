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

#include "err.h"
#include "experiment.h"
#include "generator.h"
#include "handlers.h"
#include "log.h"
#include "msg.h"
#include "registry.h"
#include "stopping.h"
#include "store.h"
#include "test_support.h"

typedef struct {
    char *dir;                  /* temporary directory, the store */
    hone_store_t *store;
    hone_registry_t *registry;
    hone_handlers_t *handlers;
    hone_generator_t *generator; /* NULL unless a test starts one */
    hone_msg_t *deferred;       /* the last deferred reply */
    uint64_t seq;               /* last seq used */
    int64_t now;                /* the fake monotonic clock */
} fixture_t;

static void s_open(fixture_t *f)
{
    hone_error_t err;
    assert_int_equal(hone_store_open(&f->store, f->dir, NULL, &err), HONE_OK);
    assert_int_equal(hone_registry_open(&f->registry, f->store, &err), HONE_OK);
    f->handlers = hone_handlers_new(f->registry);
}

static void s_close(fixture_t *f)
{
    if (f->generator)
        hone_handlers_finish(f->handlers);
    hone_handlers_destroy(&f->handlers);
    hone_generator_destroy(&f->generator);
    hone_msg_destroy(&f->deferred);
    hone_registry_destroy(&f->registry);
    hone_store_destroy(&f->store);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->dir = hone_test_tmpdir("early_stop");
    f->now = 1000000;
    hone_log_set_sink(hone_log_sink_null, NULL);
    s_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    s_close(f);
    hone_log_set_sink(NULL, NULL);
    hone_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* ---- requests ---- */

static hone_handlers_peer_t s_peer(const char *id)
{
    hone_handlers_peer_t peer = { .id_len = strlen(id) };
    memcpy(peer.identity, id, peer.id_len);
    return peer;
}

static hone_msg_t *s_req(fixture_t *f, hone_msg_id_t id, const char *experiment)
{
    hone_msg_t *msg = hone_msg_new(id);
    assert_non_null(msg);
    hone_msg_set_seq(msg, ++f->seq);
    if (experiment)
        assert_int_equal(hone_msg_set_str(msg, "experiment", experiment), HONE_OK);
    return msg;
}

static hone_msg_t *s_call(fixture_t *f, const char *from, hone_msg_t *msg)
{
    hone_handlers_peer_t peer = s_peer(from);
    hone_msg_t *reply = hone_handlers_dispatch(f->handlers, &peer, &msg, f->now);
    assert_null(msg);
    assert_non_null(reply);
    return reply;
}

static hone_msg_t *s_expect(hone_msg_t *reply, hone_msg_id_t id)
{
    if (hone_msg_id(reply) != id) {
        char *text = hone_msg_to_text(reply);
        fail_msg("expected %s, got: %s", hone_msg_name(id), text);
    }
    return reply;
}

static void s_expect_error(hone_msg_t *reply, int code)
{
    int64_t got = 0;
    if (hone_msg_id(reply) != HONE_MSG_ERROR || hone_msg_get_int(reply, "code", &got, NULL) != HONE_OK
        || got != code) {
        char *text = hone_msg_to_text(reply);
        fail_msg("expected error %s, got: %s", hone_err_name(code), text);
    }
    hone_msg_destroy(&reply);
}

static bool s_stop(const hone_msg_t *reply)
{
    bool stop = false;
    return hone_msg_get_bool(reply, "stop", &stop, NULL) == HONE_OK && stop;
}

static const char *s_str(const hone_msg_t *msg, const char *key)
{
    const char *v = NULL;
    return hone_msg_get_str(msg, key, &v, NULL) == HONE_OK ? v : "";
}

static void s_create(fixture_t *f, const char *name, const char *early_stopping)
{
    char config[2048];
    snprintf(config, sizeof config,
             "{\"name\": \"%s\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0.0, 1.0]}],"
             " \"objective\": \"-y\","
             " \"generation_strategy\": {\"method\": \"random_search\", \"initialization_random_seed\": 3},"
             " \"leases\": {\"heartbeat_ms\": 100, \"liveness\": 3, \"max_retries\": 3}%s%s}",
             name, early_stopping ? ", \"early_stopping\": " : "", early_stopping ? early_stopping : "");
    hone_msg_t *msg = s_req(f, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", config), HONE_OK);
    hone_msg_t *reply = s_expect(s_call(f, "client", msg), HONE_MSG_OK);
    hone_msg_destroy(&reply);
}

/* A reading {y: value} at step (step < 0: none) of trial, from peer `from` (`progress`
 * with lease, lease -1: without) or from the client (`attach`, from NULL). */
static hone_msg_t *s_reading(fixture_t *f, const char *from, const char *experiment, int64_t trial, int64_t lease,
                             double y, int64_t step)
{
    hone_msg_t *msg = s_req(f, from ? HONE_MSG_PROGRESS : HONE_MSG_ATTACH, experiment);
    assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    if (from && lease != -1)
        assert_int_equal(hone_msg_set_int(msg, "lease", lease), HONE_OK);
    if (step >= 0)
        assert_int_equal(hone_msg_set_int(msg, "progression", step), HONE_OK);
    hone_node_t *metrics = hone_node_add_map(hone_msg_body(msg), "metrics");
    assert_non_null(hone_node_add_float(metrics, "y", y));
    return s_call(f, from ? from : "client", msg);
}

static hone_msg_t *s_heartbeat(fixture_t *f, const char *from, const char *experiment, int64_t trial, int64_t lease)
{
    hone_msg_t *msg = s_req(f, HONE_MSG_HEARTBEAT, experiment);
    assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    if (lease != -1)
        assert_int_equal(hone_msg_set_int(msg, "lease", lease), HONE_OK);
    return s_call(f, from, msg);
}

/* `complete` (y not NAN: with {y}) or `fail` (y NAN) of trial under lease. */
static hone_msg_t *s_finish(fixture_t *f, const char *from, const char *experiment, int64_t trial, int64_t lease,
                            hone_msg_id_t id, double y)
{
    hone_msg_t *msg = s_req(f, id, experiment);
    assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    if (lease != -1)
        assert_int_equal(hone_msg_set_int(msg, "lease", lease), HONE_OK);
    if (id == HONE_MSG_FAIL)
        assert_int_equal(hone_msg_set_str(msg, "reason", "killed by SIGTERM"), HONE_OK);
    else if (!isnan(y))
        assert_non_null(hone_node_add_float(hone_node_add_map(hone_msg_body(msg), "metrics"), "y", y));
    return s_call(f, from, msg);
}

/* `ready` from worker `name` (peer id = name): returns the trial index, *lease its token. */
static uint32_t s_take(fixture_t *f, const char *experiment, const char *name, int64_t *lease)
{
    hone_msg_t *msg = s_req(f, HONE_MSG_READY, experiment);
    assert_int_equal(hone_msg_set_str(msg, "worker", name), HONE_OK);
    hone_msg_t *reply = s_expect(s_call(f, name, msg), HONE_MSG_TRIAL);
    int64_t trial = -1;
    assert_int_equal(hone_msg_get_int(reply, "trial", &trial, NULL), HONE_OK);
    assert_int_equal(hone_msg_get_int(reply, "lease", lease, NULL), HONE_OK);
    hone_msg_destroy(&reply);
    return (uint32_t) trial;
}

/* Client trials 0..n-1 with the curve y = good at steps 1..steps, COMPLETED. */
static void s_good_curves(fixture_t *f, const char *experiment, int n, int steps, double good)
{
    hone_msg_t *msg = s_req(f, HONE_MSG_NEXT, experiment);
    assert_int_equal(hone_msg_set_int(msg, "count", n), HONE_OK);
    hone_msg_t *reply = s_expect(s_call(f, "client", msg), HONE_MSG_OK);
    hone_msg_destroy(&reply);
    for (int t = 0; t < n; t++) {
        for (int s = 1; s <= steps; s++) {
            reply = s_expect(s_reading(f, NULL, experiment, t, -1, good + 0.01 * t, s), HONE_MSG_OK);
            hone_msg_destroy(&reply);
        }
        msg = s_req(f, HONE_MSG_MARK, experiment);
        assert_int_equal(hone_msg_set_int(msg, "trial", t), HONE_OK);
        assert_int_equal(hone_msg_set_str(msg, "status", "COMPLETED"), HONE_OK);
        reply = s_expect(s_call(f, "client", msg), HONE_MSG_OK);
        hone_msg_destroy(&reply);
    }
}

/* The `list` reply (with curves, of one trial when trial >= 0). */
static hone_msg_t *s_list(fixture_t *f, const char *experiment, int64_t trial, bool curves)
{
    hone_msg_t *msg = s_req(f, HONE_MSG_LIST, experiment);
    if (trial >= 0)
        assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    if (curves)
        assert_int_equal(hone_msg_set_bool(msg, "curves", true), HONE_OK);
    return s_expect(s_call(f, "client", msg), HONE_MSG_OK);
}

static const hone_node_t *s_trial_node(const hone_msg_t *list, uint32_t index)
{
    const hone_node_t *trials = hone_msg_get(list, "trials");
    assert_true(trials && index < hone_node_len(trials));
    return hone_node_at(trials, index);
}

static const char *s_node_str(const hone_node_t *obj, const char *key)
{
    const hone_node_t *n = hone_node_get(obj, key);
    return n && hone_node_type(n) == HONE_NODE_STR ? hone_node_str(n, NULL) : "";
}

/* Status of trial index. */
static char *s_status_of(fixture_t *f, const char *experiment, uint32_t index)
{
    hone_msg_t *list = s_list(f, experiment, -1, false);
    char *status = strdup(s_node_str(s_trial_node(list, index), "status"));
    hone_msg_destroy(&list);
    return status;
}

static void s_expect_status(fixture_t *f, const char *experiment, uint32_t index, const char *want)
{
    char *got = s_status_of(f, experiment, index);
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
    fixture_t *f = *state;
    s_create(f, "es", S_PERCENTILE);
    s_good_curves(f, "es", 3, 5, 0.1);
    int64_t lease_a, lease_b;
    uint32_t a = s_take(f, "es", "wa", &lease_a);
    uint32_t b = s_take(f, "es", "wb", &lease_b);
    assert_int_equal(a, 3);
    assert_int_equal(b, 4);
    size_t leases = hone_handlers_lease_count(f->handlers);

    /* a good curve goes on: no stop field at all */
    hone_msg_t *reply = s_expect(s_reading(f, "wb", "es", b, lease_b, 0.05, 1), HONE_MSG_OK);
    assert_null(hone_msg_get(reply, "stop"));
    hone_msg_destroy(&reply);
    s_expect_status(f, "es", b, "RUNNING");

    /* a hopeless one stops */
    reply = s_expect(s_reading(f, "wa", "es", a, lease_a, 5.0, 1), HONE_MSG_OK);
    assert_true(s_stop(reply));
    const char *reason = s_str(reply, "reason");
    if (!strstr(reason, "percentile strategy: ") || !strstr(reason, "worse than the 50.0-th percentile"))
        fail_msg("unexpected reason: %s", reason);
    char *told = strdup(reason);
    hone_msg_destroy(&reply);

    hone_msg_t *list = s_list(f, "es", a, true);
    const hone_node_t *t = s_trial_node(list, 0);
    assert_string_equal(s_node_str(t, "status"), "EARLY_STOPPED");
    assert_string_equal(s_node_str(t, "reason"), told);
    const hone_node_t *attempts = hone_node_get(t, "attempts");
    assert_int_equal(hone_node_len(attempts), 1);
    assert_string_equal(s_node_str(hone_node_at(attempts, 0), "outcome"), "early stopped");
    assert_non_null(hone_node_get(hone_node_at(attempts, 0), "end"));
    const hone_node_t *curve = hone_node_get(hone_node_get(t, "curves"), "y");
    assert_int_equal(hone_node_len(curve), 1);      /* the reading is kept */
    assert_int_equal(hone_node_int(hone_node_at(hone_node_at(curve, 0), 0)), 1);
    assert_true(hone_node_float(hone_node_at(hone_node_at(curve, 0), 1)) == 5.0);
    hone_msg_destroy(&list);
    /* the lease entry stays: the stop is pending */
    assert_int_equal(hone_handlers_lease_count(f->handlers), leases);

    /* stored: a restart shows the same status and reason */
    s_close(f);
    s_open(f);
    list = s_list(f, "es", a, false);
    t = s_trial_node(list, 0);
    assert_string_equal(s_node_str(t, "status"), "EARLY_STOPPED");
    assert_string_equal(s_node_str(t, "reason"), told);
    hone_msg_destroy(&list);
    free(told);
}

/* The stop is repeated to its holder until acknowledged; a lost reply loses nothing. */
static void test_stop_repeated_until_acknowledged(void **state)
{
    fixture_t *f = *state;
    s_create(f, "rep", S_PERCENTILE);
    s_good_curves(f, "rep", 3, 5, 0.1);
    int64_t lease;
    uint32_t a = s_take(f, "rep", "wa", &lease);
    hone_msg_t *reply = s_expect(s_reading(f, "wa", "rep", a, lease, 5.0, 1), HONE_MSG_OK);
    assert_true(s_stop(reply));
    char *reason = strdup(s_str(reply, "reason"));
    hone_msg_destroy(&reply);     /* "lost" */

    /* heartbeat: stop again, and the lease is refreshed, not gone */
    f->now += 50;
    reply = s_expect(s_heartbeat(f, "wa", "rep", a, lease), HONE_MSG_HEARTBEAT);
    assert_true(s_stop(reply));
    assert_string_equal(s_str(reply, "reason"), reason);
    hone_msg_destroy(&reply);

    /* another reading: stored, and stop again */
    reply = s_expect(s_reading(f, "wa", "rep", a, lease, 6.0, 2), HONE_MSG_OK);
    assert_true(s_stop(reply));
    hone_msg_destroy(&reply);
    hone_msg_t *list = s_list(f, "rep", a, true);
    assert_int_equal(hone_node_len(hone_node_get(hone_node_get(s_trial_node(list, 0), "curves"), "y")), 2);
    hone_msg_destroy(&list);

    /* a lease this worker does not hold is refused, as always */
    s_expect_error(s_heartbeat(f, "wa", "rep", a, lease + 1), HONE_ELEASE);
    s_expect_error(s_reading(f, "wa", "rep", a, lease + 1, 1.0, 3), HONE_ELEASE);
    /* an older peer without `lease`, on the holder's connection: stop; on another: refused */
    reply = s_expect(s_heartbeat(f, "wa", "rep", a, -1), HONE_MSG_HEARTBEAT);
    assert_null(hone_msg_get(reply, "stop"));   /* no lease named: an idle heartbeat */
    hone_msg_destroy(&reply);
    reply = s_expect(s_reading(f, "wa", "rep", a, -1, 6.5, 3), HONE_MSG_OK);
    assert_true(s_stop(reply));
    hone_msg_destroy(&reply);
    s_expect_error(s_reading(f, "other", "rep", a, -1, 6.5, 4), HONE_ESTATE);

    /* a broker restart: the stop is state, so it survives */
    s_close(f);
    s_open(f);
    reply = s_expect(s_heartbeat(f, "wa", "rep", a, lease), HONE_MSG_HEARTBEAT);
    assert_true(s_stop(reply));
    assert_string_equal(s_str(reply, "reason"), reason);
    hone_msg_destroy(&reply);

    /* `complete` acknowledges: its metrics are stored, the status stays */
    reply = s_expect(s_finish(f, "wa", "rep", a, lease, HONE_MSG_COMPLETE, 4.5), HONE_MSG_OK);
    assert_string_equal(s_str(reply, "status"), "EARLY_STOPPED");
    assert_string_equal(s_str(reply, "reason"), reason);
    hone_msg_destroy(&reply);
    s_expect_status(f, "rep", a, "EARLY_STOPPED");
    list = s_list(f, "rep", a, false);
    const hone_node_t *y = hone_node_get(hone_node_get(s_trial_node(list, 0), "metrics"), "y");
    assert_true(hone_node_float(hone_node_at(y, 0)) == 4.5);    /* the final reading (no step) is the latest */
    hone_msg_destroy(&list);
    /* a repeated acknowledgement gets the same answer */
    reply = s_expect(s_finish(f, "wa", "rep", a, lease, HONE_MSG_COMPLETE, 4.5), HONE_MSG_OK);
    assert_string_equal(s_str(reply, "status"), "EARLY_STOPPED");
    hone_msg_destroy(&reply);
    s_expect_status(f, "rep", a, "EARLY_STOPPED");

    /* `fail` acknowledges too, and never makes the trial FAILED */
    int64_t lease_b;
    uint32_t b = s_take(f, "rep", "wb", &lease_b);
    size_t leases = hone_handlers_lease_count(f->handlers);
    reply = s_expect(s_reading(f, "wb", "rep", b, lease_b, 7.0, 2), HONE_MSG_OK);
    assert_true(s_stop(reply));
    hone_msg_destroy(&reply);
    assert_int_equal(hone_handlers_lease_count(f->handlers), leases);
    reply = s_expect(s_finish(f, "wb", "rep", b, lease_b, HONE_MSG_FAIL, NAN), HONE_MSG_OK);
    assert_string_equal(s_str(reply, "status"), "EARLY_STOPPED");
    hone_msg_destroy(&reply);
    assert_int_equal(hone_handlers_lease_count(f->handlers), leases - 1);     /* released */
    s_expect_status(f, "rep", b, "EARLY_STOPPED");
    free(reason);
}

/* A stop never acknowledged: the lease expires and is dropped; the trial is neither
 * re-queued nor failed, and no other worker gets it. */
static void test_unacknowledged_stop_expires(void **state)
{
    fixture_t *f = *state;
    s_create(f, "exp", S_PERCENTILE);
    s_good_curves(f, "exp", 3, 5, 0.1);
    int64_t lease;
    uint32_t a = s_take(f, "exp", "wa", &lease);
    hone_msg_t *reply = s_expect(s_reading(f, "wa", "exp", a, lease, 5.0, 1), HONE_MSG_OK);
    assert_true(s_stop(reply));
    hone_msg_destroy(&reply);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 1);
    f->now += 3 * 100 + 1;      /* heartbeat 100 ms x liveness 3 */
    assert_int_equal(hone_handlers_tick(f->handlers, f->now), 1);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 0);
    s_expect_status(f, "exp", a, "EARLY_STOPPED");
    hone_msg_t *list = s_list(f, "exp", a, false);
    const hone_node_t *t = s_trial_node(list, 0);
    assert_null(hone_node_get(t, "retries"));
    assert_string_equal(s_node_str(hone_node_at(hone_node_get(t, "attempts"), 0), "outcome"), "early stopped");
    hone_msg_destroy(&list);
    /* the next worker gets a new trial */
    int64_t lease_b;
    uint32_t b = s_take(f, "exp", "wb", &lease_b);
    assert_true(b != a);
    hone_msg_t *status = s_expect(s_call(f, "client", s_req(f, HONE_MSG_STATUS, "exp")), HONE_MSG_OK);
    int64_t expired = -1;
    assert_int_equal(hone_msg_get_int(status, "leases_expired", &expired, NULL), HONE_OK);
    assert_int_equal(expired, 0);
    hone_msg_destroy(&status);
    /* the holder coming back late is still told to stop */
    reply = s_expect(s_heartbeat(f, "wa", "exp", a, lease), HONE_MSG_HEARTBEAT);
    assert_true(s_stop(reply));
    hone_msg_destroy(&reply);
}

/* Without an early_stopping block the broker never stops a trial; `should_stop` (Ax's
 * default strategy) answers and changes nothing. */
static void test_no_block_never_stops(void **state)
{
    fixture_t *f = *state;
    s_create(f, "plain", NULL);
    s_good_curves(f, "plain", 5, 12, 0.1);
    int64_t lease;
    uint32_t a = s_take(f, "plain", "wa", &lease);
    for (int step = 1; step <= 12; step++) {
        hone_msg_t *reply = s_expect(s_reading(f, "wa", "plain", a, lease, 50.0, step), HONE_MSG_OK);
        assert_null(hone_msg_get(reply, "stop"));
        hone_msg_destroy(&reply);
        reply = s_expect(s_heartbeat(f, "wa", "plain", a, lease), HONE_MSG_HEARTBEAT);
        assert_null(hone_msg_get(reply, "stop"));
        hone_msg_destroy(&reply);
    }
    s_expect_status(f, "plain", a, "RUNNING");

    /* should_stop: Ax's default percentile strategy (min_curves 5, min_progression 10) */
    hone_msg_t *msg = s_req(f, HONE_MSG_SHOULD_STOP, "plain");
    assert_int_equal(hone_msg_set_int(msg, "trial", a), HONE_OK);
    hone_msg_t *reply = s_expect(s_call(f, "client", msg), HONE_MSG_OK);
    assert_true(s_stop(reply));
    assert_non_null(strstr(s_str(reply, "reason"), "percentile"));
    hone_msg_destroy(&reply);
    s_expect_status(f, "plain", a, "RUNNING");       /* never changes the status */
    msg = s_req(f, HONE_MSG_SHOULD_STOP, "plain");
    assert_int_equal(hone_msg_set_int(msg, "trial", 0), HONE_OK);
    reply = s_expect(s_call(f, "client", msg), HONE_MSG_OK);
    bool stop = true;
    assert_int_equal(hone_msg_get_bool(reply, "stop", &stop, NULL), HONE_OK);
    assert_false(stop);
    hone_msg_destroy(&reply);
    msg = s_req(f, HONE_MSG_SHOULD_STOP, "plain");
    assert_int_equal(hone_msg_set_int(msg, "trial", 99), HONE_OK);
    s_expect_error(s_call(f, "client", msg), HONE_ENOTFOUND);
    msg = s_req(f, HONE_MSG_SHOULD_STOP, "nope");
    assert_int_equal(hone_msg_set_int(msg, "trial", 0), HONE_OK);
    s_expect_error(s_call(f, "client", msg), HONE_ENOTFOUND);
    s_expect_error(s_call(f, "client", s_req(f, HONE_MSG_SHOULD_STOP, "plain")), HONE_EPROTO);

    /* the worker completes as usual */
    reply = s_expect(s_finish(f, "wa", "plain", a, lease, HONE_MSG_COMPLETE, 50.0), HONE_MSG_OK);
    assert_string_equal(s_str(reply, "status"), "COMPLETED");
    hone_msg_destroy(&reply);
}

/* With an interval, a trial is decided only when it crosses a boundary; readings of
 * another metric or without a progression never decide. */
static void test_interval_and_other_readings(void **state)
{
    fixture_t *f = *state;
    s_create(f, "iv", "{\"type\": \"threshold\", \"metric_threshold\": 1.0, \"min_curves\": 1, "
                      "\"min_progression\": 2, \"interval\": 10}");
    int64_t lease;
    uint32_t a = s_take(f, "iv", "wa", &lease);
    /* below min_progression: not decided, even though hopeless */
    hone_msg_t *reply = s_expect(s_reading(f, "wa", "iv", a, lease, 0.5, 1), HONE_MSG_OK);
    assert_null(hone_msg_get(reply, "stop"));
    hone_msg_destroy(&reply);
    /* step 2: first check, fine (0.5 < 1) */
    reply = s_expect(s_reading(f, "wa", "iv", a, lease, 0.5, 2), HONE_MSG_OK);
    assert_null(hone_msg_get(reply, "stop"));
    hone_msg_destroy(&reply);
    /* no progression, or another metric: no decision */
    reply = s_expect(s_reading(f, "wa", "iv", a, lease, 9.0, -1), HONE_MSG_OK);
    assert_null(hone_msg_get(reply, "stop"));
    hone_msg_destroy(&reply);
    /* hopeless inside the same interval [2, 12): not checked */
    reply = s_expect(s_reading(f, "wa", "iv", a, lease, 9.0, 5), HONE_MSG_OK);
    assert_null(hone_msg_get(reply, "stop"));
    hone_msg_destroy(&reply);
    s_expect_status(f, "iv", a, "RUNNING");
    /* the boundary 12: checked, stopped */
    reply = s_expect(s_reading(f, "wa", "iv", a, lease, 9.0, 12), HONE_MSG_OK);
    assert_true(s_stop(reply));
    assert_non_null(strstr(s_str(reply, "reason"), "threshold strategy: "));
    hone_msg_destroy(&reply);
    s_expect_status(f, "iv", a, "EARLY_STOPPED");
}

/* `list` with curves: every metric's readings with a progression, in order; `trial`
 * selects one trial. */
static void test_list_curves(void **state)
{
    fixture_t *f = *state;
    s_create(f, "lc", NULL);
    hone_msg_t *msg = s_req(f, HONE_MSG_NEXT, "lc");
    assert_int_equal(hone_msg_set_int(msg, "count", 2), HONE_OK);
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_call(f, "client", msg), HONE_MSG_OK) });
    static const int64_t steps[] = { 3, 1, 2 };      /* out of order */
    for (int i = 0; i < 3; i++) {
        msg = s_req(f, HONE_MSG_ATTACH, "lc");
        assert_int_equal(hone_msg_set_int(msg, "trial", 1), HONE_OK);
        assert_int_equal(hone_msg_set_int(msg, "progression", steps[i]), HONE_OK);
        hone_node_t *metrics = hone_node_add_map(hone_msg_body(msg), "metrics");
        hone_node_add_float(metrics, "y", (double) steps[i]);
        hone_node_t *pair = hone_node_add_array(metrics, "acc");
        hone_node_add_float(pair, NULL, 0.5);
        hone_node_add_float(pair, NULL, 0.125);
        hone_msg_destroy(&(hone_msg_t *) { s_expect(s_call(f, "client", msg), HONE_MSG_OK) });
    }
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_reading(f, NULL, "lc", 1, -1, 0.25, -1), HONE_MSG_OK) });

    hone_msg_t *list = s_list(f, "lc", -1, true);
    assert_int_equal(hone_node_len(hone_msg_get(list, "trials")), 2);
    assert_null(hone_node_get(s_trial_node(list, 0), "curves"));      /* no readings */
    const hone_node_t *curves = hone_node_get(s_trial_node(list, 1), "curves");
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
    list = s_list(f, "lc", -1, false);
    assert_null(hone_node_get(s_trial_node(list, 1), "curves"));
    hone_msg_destroy(&list);
    list = s_list(f, "lc", 1, false);
    assert_int_equal(hone_node_len(hone_msg_get(list, "trials")), 1);
    assert_int_equal(hone_node_int(hone_node_get(s_trial_node(list, 0), "trial")), 1);
    hone_msg_destroy(&list);
    msg = s_req(f, HONE_MSG_LIST, "lc");
    assert_int_equal(hone_msg_set_int(msg, "trial", 2), HONE_OK);
    s_expect_error(s_call(f, "client", msg), HONE_ENOTFOUND);
    msg = s_req(f, HONE_MSG_LIST, "lc");
    assert_int_equal(hone_msg_set_str(msg, "curves", "yes"), HONE_OK);
    s_expect_error(s_call(f, "client", msg), HONE_EPROTO);
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

static void s_deferred_reply(void *arg, const hone_handlers_peer_t *peer, hone_msg_t **reply)
{
    (void) peer;
    fixture_t *f = arg;
    hone_msg_destroy(&f->deferred);
    f->deferred = *reply;
    *reply = NULL;
}

/* Waits for the generator's jobs and collects them. */
static void s_collect(fixture_t *f)
{
    while (hone_generator_outstanding(f->generator) > 0) {
        assert_true(hone_generator_wait(f->generator, 30000));
        hone_handlers_collect(f->handlers, f->now);
    }
}

/* check_safe: the decision runs on the generator; the reading is answered at once, and
 * the stop reaches the worker on its next heartbeat. A client's should_stop is
 * answered when its job comes back. */
static void test_check_safe_decides_off_the_reactor(void **state)
{
    fixture_t *f = *state;
    hone_error_t err;
    assert_int_equal(hone_generator_open(&f->generator, &err), HONE_OK);
    hone_handlers_use_generator(f->handlers, f->generator, s_deferred_reply, f);
    s_create(f, "safe", "{\"type\": \"percentile\", \"min_curves\": 3, \"min_progression\": 1, "
                        "\"check_safe\": true}");
    s_good_curves(f, "safe", 3, 5, 0.1);
    int64_t lease;
    uint32_t a = s_take(f, "safe", "wa", &lease);
    hone_msg_t *reply = s_expect(s_reading(f, "wa", "safe", a, lease, 5.0, 1), HONE_MSG_OK);
    assert_null(hone_msg_get(reply, "stop"));       /* not decided yet */
    hone_msg_destroy(&reply);
    s_collect(f);
    s_expect_status(f, "safe", a, "EARLY_STOPPED");
    reply = s_expect(s_heartbeat(f, "wa", "safe", a, lease), HONE_MSG_HEARTBEAT);
    assert_true(s_stop(reply));
    assert_non_null(strstr(s_str(reply, "reason"), "percentile strategy: "));
    hone_msg_destroy(&reply);

    /* should_stop goes the same way: deferred, then answered */
    hone_msg_t *msg = s_req(f, HONE_MSG_SHOULD_STOP, "safe");
    assert_int_equal(hone_msg_set_int(msg, "trial", 0), HONE_OK);
    hone_handlers_peer_t peer = s_peer("client");
    assert_null(hone_handlers_dispatch(f->handlers, &peer, &msg, f->now));
    s_collect(f);
    assert_non_null(f->deferred);
    s_expect(f->deferred, HONE_MSG_OK);
    bool stop = true;
    assert_int_equal(hone_msg_get_bool(f->deferred, "stop", &stop, NULL), HONE_OK);
    assert_false(stop);
    s_expect_status(f, "safe", 0, "COMPLETED");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reading_stops_a_hopeless_trial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_repeated_until_acknowledged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unacknowledged_stop_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_block_never_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interval_and_other_readings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_curves, setup, teardown),
        cmocka_unit_test(test_cache_matches_full_rebuild),
        cmocka_unit_test_setup_teardown(test_check_safe_decides_off_the_reactor, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
