#define _GNU_SOURCE
/* Tests of the broker's request handlers in process, on a store in a temporary
 * directory, with a fake clock (hone_handlers_dispatch and hone_handlers_tick take the
 * time): leases and their expiry, re-queueing, the retry limit, resumption by worker
 * name, reports under expired or foreign leases, duplicate reports, heartbeats, a
 * restart, the lease part of `status`, and the leases after a group-commit batch that
 * failed (also through the broker's reactor, in this process, for its batch function). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "broker.h"
#include "err.h"
#include "handlers.h"
#include "log.h"
#include "msg.h"
#include "registry.h"
#include "store.h"
#include "test_support.h"

#include <czmq.h>   /* after the hone headers: czmq defines a streq macro */

typedef struct {
    char *dir;                  /* temporary directory, the store */
    hone_store_t *store;
    hone_registry_t *registry;
    hone_handlers_t *handlers;
    uint64_t seq;               /* last seq used */
    int64_t now;                /* the fake monotonic clock */
    int batches_failed;         /* HONE_REGISTRY_BATCH_FAILED events seen */
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
    hone_handlers_destroy(&f->handlers);
    hone_registry_destroy(&f->registry);
    hone_store_destroy(&f->store);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->dir = hone_test_tmpdir("handlers");
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

/* Dispatches msg from peer `from` at the fake time and returns the reply. */
static hone_msg_t *s_call(fixture_t *f, const char *from, hone_msg_t *msg)
{
    hone_handlers_peer_t peer = s_peer(from);
    hone_msg_t *reply = hone_handlers_dispatch(f->handlers, &peer, &msg, f->now);
    assert_null(msg);
    assert_non_null(reply);     /* no generator: every reply is immediate */
    return reply;
}

static int64_t s_int(const hone_msg_t *msg, const char *key)
{
    int64_t v = 0;
    hone_error_t err;
    if (hone_msg_get_int(msg, key, &v, &err) != HONE_OK) {
        char *text = hone_msg_to_text(msg);
        fail_msg("no int '%s' in %s", key, text);
    }
    return v;
}

static hone_msg_t *s_expect(hone_msg_t *reply, hone_msg_id_t id)
{
    if (hone_msg_id(reply) != id) {
        char *text = hone_msg_to_text(reply);
        fail_msg("expected %s, got: %s", hone_msg_name(id), text);
    }
    return reply;
}

/* Asserts an `error` with code whose message contains part (NULL: any); destroys it. */
static void s_expect_error(hone_msg_t *reply, int code, const char *part)
{
    if (hone_msg_id(reply) != HONE_MSG_ERROR || s_int(reply, "code") != code) {
        char *text = hone_msg_to_text(reply);
        fail_msg("expected error %s, got: %s", hone_err_name(code), text);
    }
    const char *message = NULL;
    hone_error_t err;
    assert_int_equal(hone_msg_get_str(reply, "message", &message, &err), HONE_OK);
    if (part && !strstr(message, part))
        fail_msg("'%s' does not contain '%s'", message, part);
    hone_msg_destroy(&reply);
}

static void s_create(fixture_t *f, const char *name, int max_trials, int heartbeat_ms, int liveness, int retries)
{
    char config[1024];
    snprintf(config, sizeof config,
             "{\"name\": \"%s\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0.0, 1.0]},"
             " {\"name\": \"k\", \"bounds\": [1, 9], \"parameter_type\": \"int\"}], \"objective\": \"-y\","
             " \"generation_strategy\": {\"method\": \"random_search\", \"initialization_random_seed\": 3},"
             " \"max_trials\": %d, \"leases\": {\"heartbeat_ms\": %d, \"liveness\": %d, \"max_retries\": %d}}",
             name, max_trials, heartbeat_ms, liveness, retries);
    hone_msg_t *msg = s_req(f, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", config), HONE_OK);
    hone_msg_t *reply = s_expect(s_call(f, "client", msg), HONE_MSG_OK);
    hone_msg_destroy(&reply);
}

/* A `ready` from peer `from` named worker; returns the reply (trial or no_work). */
static hone_msg_t *s_ready(fixture_t *f, const char *from, const char *experiment, const char *worker)
{
    hone_msg_t *msg = s_req(f, HONE_MSG_READY, experiment);
    if (worker)
        assert_int_equal(hone_msg_set_str(msg, "worker", worker), HONE_OK);
    return s_call(f, from, msg);
}

/* The params of a trial reply as text, for comparing hand-outs. */
static char *s_params_text(const hone_msg_t *trial)
{
    hone_msg_t *copy = hone_msg_new(HONE_MSG_OK);
    const hone_node_t *params = hone_msg_get(trial, "params");
    assert_non_null(params);
    hone_node_t *dst = hone_node_add_map(hone_msg_body(copy), "params");
    for (size_t i = 0; i < hone_node_len(params); i++) {
        const hone_node_t *v = hone_node_at(params, i);
        if (hone_node_type(v) == HONE_NODE_FLOAT)
            hone_node_add_float(dst, hone_node_key_at(params, i), hone_node_float(v));
        else
            hone_node_add_int(dst, hone_node_key_at(params, i), hone_node_int(v));
    }
    char *text = hone_msg_to_text(copy);
    hone_msg_destroy(&copy);
    return text;
}

static hone_msg_t *s_report(fixture_t *f, const char *from, hone_msg_id_t id, const char *experiment,
                            int64_t trial, int64_t lease, double y)
{
    hone_msg_t *msg = s_req(f, id, experiment);
    assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    if (lease != -1)    /* -1: no lease field */
        assert_int_equal(hone_msg_set_int(msg, "lease", lease), HONE_OK);
    if (id == HONE_MSG_FAIL) {
        assert_int_equal(hone_msg_set_str(msg, "reason", "boom"), HONE_OK);
    } else if (!isnan(y)) {
        hone_node_t *metrics = hone_node_add_map(hone_msg_body(msg), "metrics");
        assert_non_null(hone_node_add_float(metrics, "y", y));
    }
    return s_call(f, from, msg);
}

static hone_msg_t *s_heartbeat(fixture_t *f, const char *from, const char *experiment, int64_t trial, int64_t lease)
{
    hone_msg_t *msg = s_req(f, HONE_MSG_HEARTBEAT, experiment);
    if (trial != -1)    /* -1: no trial field */
        assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    if (lease != -1)    /* -1: no lease field */
        assert_int_equal(hone_msg_set_int(msg, "lease", lease), HONE_OK);
    return s_call(f, from, msg);
}

static char *s_list_text(fixture_t *f, const char *experiment)
{
    hone_msg_t *reply = s_expect(s_call(f, "client", s_req(f, HONE_MSG_LIST, experiment)), HONE_MSG_OK);
    hone_msg_set_seq(reply, 0);
    char *text = hone_msg_to_text(reply);
    hone_msg_destroy(&reply);
    return text;
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
    assert_non_null(n);
    return hone_node_str(n, NULL);
}

static hone_msg_t *s_status(fixture_t *f, const char *experiment)
{
    return s_expect(s_call(f, "client", s_req(f, HONE_MSG_STATUS, experiment)), HONE_MSG_OK);
}

static int64_t s_count(const hone_msg_t *status, const char *name)
{
    const hone_node_t *n = hone_node_get(hone_msg_get(status, "counts"), name);
    assert_non_null(n);
    return hone_node_int(n);
}

/* The registry's batch function: tells the handlers of a failed batch, as hone-broker's
 * does. */
static void s_on_batch(void *arg, hone_registry_batch_event_t event, uint64_t batch, const hone_error_t *err)
{
    fixture_t *f = arg;
    (void) batch;
    (void) err;
    if (event == HONE_REGISTRY_BATCH_FAILED) {
        f->batches_failed++;
        hone_handlers_batch_failed(f->handlers);
    }
}

/* Reopens the store with a map that may not grow, in group commit as hone-broker runs. */
static void s_open_group_tight(fixture_t *f)
{
    s_close(f);
    hone_store_options_t tight = { .map_size = 96 << 10, .map_size_max = 96 << 10 };
    hone_error_t err;
    assert_int_equal(hone_store_open(&f->store, f->dir, &tight, &err), HONE_OK);
    assert_int_equal(hone_registry_open(&f->registry, f->store, &err), HONE_OK);
    hone_registry_on_batch(f->registry, s_on_batch, f);
    hone_registry_set_group_commit(f->registry, true);
    f->handlers = hone_handlers_new(f->registry);
}

static void s_commit(fixture_t *f)
{
    hone_error_t err;
    assert_int_equal(hone_registry_commit(f->registry, &err), HONE_OK);
}

/* The row of `status`'s workers table for worker, or NULL. */
static const hone_node_t *s_worker_row(const hone_msg_t *status, const char *worker)
{
    const hone_node_t *workers = hone_msg_get(status, "workers");
    assert_non_null(workers);
    for (size_t i = 0; i < hone_node_len(workers); i++)
        if (strcmp(s_node_str(hone_node_at(workers, i), "worker"), worker) == 0)
            return hone_node_at(workers, i);
    return NULL;
}

/* An `attach` of 400 readings with long metric names: more than a 96 KiB map holds. */
static hone_msg_t *s_attach_too_large(fixture_t *f, const char *experiment, int64_t trial)
{
    hone_msg_t *msg = s_req(f, HONE_MSG_ATTACH, experiment);
    assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    hone_node_t *metrics = hone_node_add_map(hone_msg_body(msg), "metrics");
    char metric[HONE_STORE_METRIC_MAX];
    for (int i = 0; i < 400; i++) {
        snprintf(metric, sizeof metric, "%0200d", i);
        assert_non_null(hone_node_add_float(metrics, metric, i));
    }
    return msg;
}

/* The trial a row of the workers table holds a lease on, or -1. */
static int64_t s_row_trial(const hone_node_t *row)
{
    assert_non_null(row);
    const hone_node_t *trial = hone_node_get(row, "trial");
    return trial ? hone_node_int(trial) : -1;
}

/* ---- tests ---- */

/* A silent worker's lease expires one window after its last word; the trial is
 * re-queued with the same parameters and goes to the next worker that asks, under a
 * new lease; the first worker's late report gets HONE_ELEASE and changes nothing. */
static void test_expiry_requeues(void **state)
{
    fixture_t *f = *state;
    s_create(f, "e", 1, 100, 3, 2);
    hone_msg_t *t1 = s_expect(s_ready(f, "A", "e", "a"), HONE_MSG_TRIAL);
    assert_int_equal(s_int(t1, "trial"), 0);
    assert_int_equal(s_int(t1, "lease"), 1);
    assert_int_equal(s_int(t1, "heartbeat_ms"), 100);
    char *params = s_params_text(t1);
    hone_msg_destroy(&t1);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 1);
    assert_int_equal(hone_handlers_tick_ms(f->handlers), 10);   /* a tenth of 100 ms */

    /* the budget is out: another worker is told to ask again within a heartbeat */
    hone_msg_t *nw = s_expect(s_ready(f, "B", "e", "b"), HONE_MSG_NO_WORK);
    assert_int_equal(s_int(nw, "retry_ms"), 100);
    hone_msg_destroy(&nw);

    /* heartbeats and readings keep the lease: window 300 ms from the last word */
    f->now += 250;
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_heartbeat(f, "A", "e", 0, 1), HONE_MSG_HEARTBEAT) });
    f->now += 299;
    assert_int_equal(hone_handlers_tick(f->handlers, f->now), 0);
    hone_msg_t *ok = s_expect(s_report(f, "A", HONE_MSG_PROGRESS, "e", 0, 1, 0.5), HONE_MSG_OK);
    hone_msg_destroy(&ok);
    f->now += 299;
    assert_int_equal(hone_handlers_tick(f->handlers, f->now), 0);
    f->now += 1;
    assert_int_equal(hone_handlers_tick(f->handlers, f->now), 1);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 0);

    hone_msg_t *st = s_status(f, "e");
    assert_int_equal(s_count(st, "STALE"), 1);
    assert_int_equal(s_count(st, "RUNNING"), 0);
    assert_int_equal(s_count(st, "FAILED"), 0);
    assert_int_equal(s_int(st, "leases_expired"), 1);
    assert_int_equal(s_int(st, "retries"), 1);
    hone_msg_destroy(&st);
    char *before = s_list_text(f, "e");
    assert_non_null(strstr(before, "status: \"STALE\""));
    assert_non_null(strstr(before, "outcome: \"lease expired\""));

    /* the late reports of the lost worker change nothing */
    s_expect_error(s_report(f, "A", HONE_MSG_COMPLETE, "e", 0, 1, 1.0), HONE_ELEASE, "lease 1 of trial e#0 expired at");
    s_expect_error(s_report(f, "A", HONE_MSG_PROGRESS, "e", 0, 1, 1.0), HONE_ELEASE, "re-queued");
    s_expect_error(s_report(f, "A", HONE_MSG_FAIL, "e", 0, 1, NAN), HONE_ELEASE, NULL);
    s_expect_error(s_heartbeat(f, "A", "e", 0, 1), HONE_ELEASE, "waits for a worker");
    s_expect_error(s_report(f, "A", HONE_MSG_COMPLETE, "e", 0, -1, 1.0), HONE_ELEASE, NULL);   /* no lease given */
    char *after = s_list_text(f, "e");
    assert_string_equal(before, after);
    free(after);
    free(before);

    /* the next `ready` gets the same trial, same parameters, under lease 2 */
    f->now += 5;
    hone_msg_t *t2 = s_expect(s_ready(f, "B", "e", "b"), HONE_MSG_TRIAL);
    assert_int_equal(s_int(t2, "trial"), 0);
    assert_int_equal(s_int(t2, "lease"), 2);
    char *params2 = s_params_text(t2);
    assert_string_equal(params, params2);
    free(params2);
    free(params);
    hone_msg_destroy(&t2);
    s_expect_error(s_report(f, "A", HONE_MSG_COMPLETE, "e", 0, 1, 1.0), HONE_ELEASE, "runs again under lease 2");
    s_expect_error(s_report(f, "A", HONE_MSG_COMPLETE, "e", 0, 3, 1.0), HONE_ELEASE, "never given");
    /* without its lease, a report from another connection is refused */
    s_expect_error(s_report(f, "A", HONE_MSG_COMPLETE, "e", 0, -1, 1.0), HONE_ELEASE, "leased to worker 'b'");
    s_expect_error(s_report(f, "B", HONE_MSG_COMPLETE, "e", 0, 0, 1.0), HONE_ELEASE, NULL);
    /* a negative lease is malformed */
    s_expect_error(s_report(f, "B", HONE_MSG_COMPLETE, "e", 0, -2, NAN), HONE_EPROTO, "lease");

    /* the new holder completes; a duplicate gets the same reply and changes nothing */
    hone_msg_t *done = s_expect(s_report(f, "B", HONE_MSG_COMPLETE, "e", 0, 2, 3.0), HONE_MSG_OK);
    hone_msg_set_seq(done, 0);
    char *first = hone_msg_to_text(done);
    hone_msg_destroy(&done);
    char *list1 = s_list_text(f, "e");
    done = s_expect(s_report(f, "B", HONE_MSG_COMPLETE, "e", 0, 2, 3.0), HONE_MSG_OK);   /* resent */
    hone_msg_set_seq(done, 0);
    char *second = hone_msg_to_text(done);
    hone_msg_destroy(&done);
    assert_string_equal(first, second);
    /* also with other metrics (they are not applied), and from an older peer without lease */
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_report(f, "B", HONE_MSG_COMPLETE, "e", 0, 2, 99.0), HONE_MSG_OK) });
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_report(f, "B", HONE_MSG_COMPLETE, "e", 0, -1, 99.0), HONE_MSG_OK) });
    char *list2 = s_list_text(f, "e");
    assert_string_equal(list1, list2);
    assert_non_null(strstr(list2, "outcome: \"completed\""));
    free(first);
    free(second);
    free(list1);
    free(list2);
    /* a different report under the same lease follows the status rules */
    s_expect_error(s_report(f, "B", HONE_MSG_FAIL, "e", 0, 2, NAN), HONE_ESTATE, "currently running");
    s_expect_error(s_report(f, "B", HONE_MSG_PROGRESS, "e", 0, 2, 1.0), HONE_ESTATE, NULL);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 0);
    hone_msg_t *final = s_expect(s_ready(f, "B", "e", "b"), HONE_MSG_NO_WORK);
    hone_msg_destroy(&final);
}

/* A trial whose lease expires more than max_retries times is FAILED with the reason;
 * STALE and FAILED are told apart in `status`. */
static void test_retry_limit(void **state)
{
    fixture_t *f = *state;
    s_create(f, "r", 0, 50, 2, 1);
    for (int round = 1; round <= 2; round++) {
        hone_msg_t *t = s_expect(s_ready(f, "W", "r", "w"), HONE_MSG_TRIAL);
        assert_int_equal(s_int(t, "trial"), 0);
        assert_int_equal(s_int(t, "lease"), round);
        hone_msg_destroy(&t);
        f->now += 100;
        assert_int_equal(hone_handlers_tick(f->handlers, f->now), 1);
    }
    hone_msg_t *list = s_expect(s_call(f, "client", s_req(f, HONE_MSG_LIST, "r")), HONE_MSG_OK);
    const hone_node_t *t0 = s_trial_node(list, 0);
    assert_string_equal(s_node_str(t0, "status"), "FAILED");
    assert_string_equal(s_node_str(t0, "reason"), "lease expired 2 times (max_retries 1)");
    assert_int_equal(hone_node_int(hone_node_get(t0, "retries")), 2);
    const hone_node_t *attempts = hone_node_get(t0, "attempts");
    assert_int_equal(hone_node_len(attempts), 2);
    assert_string_equal(s_node_str(hone_node_at(attempts, 0), "worker"), "w");
    assert_string_equal(s_node_str(hone_node_at(attempts, 1), "outcome"), "lease expired");
    assert_non_null(hone_node_get(hone_node_at(attempts, 1), "end"));
    hone_msg_destroy(&list);
    hone_msg_t *st = s_status(f, "r");
    assert_int_equal(s_count(st, "FAILED"), 1);
    assert_int_equal(s_count(st, "STALE"), 0);
    assert_int_equal(s_int(st, "leases_expired"), 2);
    assert_int_equal(s_int(st, "retries"), 1);
    hone_msg_destroy(&st);
    s_expect_error(s_report(f, "W", HONE_MSG_COMPLETE, "r", 0, 2, 1.0), HONE_ELEASE, "the trial is FAILED");
    /* the next worker gets a new trial */
    hone_msg_t *t = s_expect(s_ready(f, "W", "r", "w"), HONE_MSG_TRIAL);
    assert_int_equal(s_int(t, "trial"), 1);
    hone_msg_destroy(&t);
}

/* A worker that comes back under its name inside its lease resumes the same trial under
 * the same lease, on its new connection. */
static void test_resume_inside_lease(void **state)
{
    fixture_t *f = *state;
    s_create(f, "s", 0, 100, 3, 3);
    hone_msg_t *t = s_expect(s_ready(f, "C1", "s", "dev-7"), HONE_MSG_TRIAL);
    int64_t index = s_int(t, "trial");
    hone_msg_destroy(&t);
    f->now += 250;
    t = s_expect(s_ready(f, "C2", "s", "dev-7"), HONE_MSG_TRIAL);
    assert_int_equal(s_int(t, "trial"), index);
    assert_int_equal(s_int(t, "lease"), 1);
    hone_msg_destroy(&t);
    /* the resumption refreshed the lease */
    f->now += 299;
    assert_int_equal(hone_handlers_tick(f->handlers, f->now), 0);
    /* an older peer (no lease field) is accepted only on the connection holding it */
    s_expect_error(s_report(f, "C1", HONE_MSG_PROGRESS, "s", index, -1, 1.0), HONE_ELEASE, "dev-7");
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_report(f, "C2", HONE_MSG_PROGRESS, "s", index, -1, 1.0), HONE_MSG_OK) });
    /* the lease token is accepted from any connection (the worker reconnected) */
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_heartbeat(f, "C3", "s", index, 1), HONE_MSG_HEARTBEAT) });
    s_expect_error(s_report(f, "C2", HONE_MSG_PROGRESS, "s", index, -1, 1.0), HONE_ELEASE, NULL);
    hone_msg_t *done = s_expect(s_report(f, "C3", HONE_MSG_FAIL, "s", index, 1, NAN), HONE_MSG_OK);
    hone_msg_destroy(&done);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 0);
}

/* Heartbeats: with a lease they keep it (on any connection) and report a lost or
 * ended trial; without one they refresh every lease of the connection. */
static void test_heartbeats(void **state)
{
    fixture_t *f = *state;
    s_create(f, "h", 0, 100, 2, 3);
    hone_msg_t *t = s_expect(s_ready(f, "H", "h", "hb"), HONE_MSG_TRIAL);
    hone_msg_destroy(&t);
    t = s_expect(s_ready(f, "H2", "h", "hb2"), HONE_MSG_TRIAL);
    hone_msg_destroy(&t);
    for (int i = 0; i < 10; i++) {
        f->now += 150;
        /* an older peer's heartbeat: no experiment, only the trial, or nothing */
        hone_msg_destroy(&(hone_msg_t *) { s_expect(s_heartbeat(f, "H", NULL, i % 2 ? 0 : -1, -1), HONE_MSG_HEARTBEAT) });
        hone_msg_destroy(&(hone_msg_t *) { s_expect(s_heartbeat(f, "H2", "h", 1, 1), HONE_MSG_HEARTBEAT) });
        assert_int_equal(hone_handlers_tick(f->handlers, f->now), 0);
    }
    /* a client abandons trial 1: its worker's next heartbeat says stop */
    hone_msg_t *mark = s_req(f, HONE_MSG_MARK, "h");
    assert_int_equal(hone_msg_set_int(mark, "trial", 1), HONE_OK);
    assert_int_equal(hone_msg_set_str(mark, "status", "ABANDONED"), HONE_OK);
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_call(f, "client", mark), HONE_MSG_OK) });
    s_expect_error(s_heartbeat(f, "H2", "h", 1, 1), HONE_ESTATE, "ABANDONED");
    s_expect_error(s_heartbeat(f, "H2", "h", 1, 2), HONE_ELEASE, "never given");
    s_expect_error(s_heartbeat(f, "H2", "h", 7, 1), HONE_ENOTFOUND, NULL);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 1);
    /* H falls silent */
    f->now += 200;
    assert_int_equal(hone_handlers_tick(f->handlers, f->now), 1);
    /* a heartbeat of an unknown experiment or a malformed one */
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_heartbeat(f, "H", "nope", 0, 1), HONE_MSG_HEARTBEAT) });
    s_expect_error(s_heartbeat(f, "H", "h", -5, -1), HONE_EPROTO, NULL);
}

/* After a restart the leases of RUNNING trials are armed again when the experiment is
 * first named, with a whole window; the history survives. */
static void test_restart(void **state)
{
    fixture_t *f = *state;
    s_create(f, "p", 0, 100, 3, 3);
    hone_msg_t *t = s_expect(s_ready(f, "P", "p", "pw"), HONE_MSG_TRIAL);
    hone_msg_destroy(&t);
    f->now += 400;
    assert_int_equal(hone_handlers_tick(f->handlers, f->now), 1);    /* STALE, attempt 1 expired */
    t = s_expect(s_ready(f, "P", "p", "pw"), HONE_MSG_TRIAL);     /* attempt 2 */
    assert_int_equal(s_int(t, "lease"), 2);
    hone_msg_destroy(&t);
    char *before = s_list_text(f, "p");
    s_close(f);

    f->now += 10000;
    s_open(f);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 0);
    char *after = s_list_text(f, "p");     /* names the experiment: its lease is armed */
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 1);
    f->now += 299;
    assert_int_equal(hone_handlers_tick(f->handlers, f->now), 0);
    /* the worker heartbeats under its lease after the restart, on a new connection */
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_heartbeat(f, "P-new", "p", 0, 2), HONE_MSG_HEARTBEAT) });
    f->now += 299;
    assert_int_equal(hone_handlers_tick(f->handlers, f->now), 0);
    f->now += 1;
    assert_int_equal(hone_handlers_tick(f->handlers, f->now), 1);
    hone_msg_t *st = s_status(f, "p");
    assert_int_equal(s_int(st, "leases_expired"), 2);
    assert_int_equal(s_count(st, "STALE"), 1);
    hone_msg_destroy(&st);
}

/* The lease part of `status`: settings and the workers table. */
static void test_status_workers(void **state)
{
    fixture_t *f = *state;
    s_create(f, "w", 2, 1000, 3, 3);
    hone_msg_t *t = s_expect(s_ready(f, "X", "w", "busy-1"), HONE_MSG_TRIAL);
    hone_msg_destroy(&t);
    f->now += 40;
    t = s_expect(s_ready(f, "Y", "w", "busy-2"), HONE_MSG_TRIAL);
    hone_msg_destroy(&t);
    f->now += 10;
    t = s_expect(s_ready(f, "Z", "w", "idle"), HONE_MSG_NO_WORK);
    hone_msg_destroy(&t);
    f->now += 100;
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_heartbeat(f, "X", "w", 0, 1), HONE_MSG_HEARTBEAT) });
    f->now += 50;
    hone_msg_t *st = s_status(f, "w");
    const hone_node_t *leases = hone_msg_get(st, "leases");
    assert_int_equal(hone_node_int(hone_node_get(leases, "heartbeat_ms")), 1000);
    assert_int_equal(hone_node_int(hone_node_get(leases, "liveness")), 3);
    assert_int_equal(hone_node_int(hone_node_get(leases, "max_retries")), 3);
    assert_int_equal(s_int(st, "workers_total"), 3);
    const hone_node_t *workers = hone_msg_get(st, "workers");
    assert_int_equal(hone_node_len(workers), 3);
    /* most recently seen first */
    const hone_node_t *w0 = hone_node_at(workers, 0), *w1 = hone_node_at(workers, 1), *w2 = hone_node_at(workers, 2);
    assert_string_equal(s_node_str(w0, "worker"), "busy-1");
    assert_int_equal(hone_node_int(hone_node_get(w0, "last_seen_ms")), 50);
    assert_int_equal(hone_node_int(hone_node_get(w0, "trial")), 0);
    assert_int_equal(hone_node_int(hone_node_get(w0, "lease")), 1);
    assert_int_equal(hone_node_int(hone_node_get(w0, "lease_age_ms")), 200);
    assert_string_equal(s_node_str(w1, "worker"), "idle");
    assert_int_equal(hone_node_int(hone_node_get(w1, "last_seen_ms")), 150);
    assert_null(hone_node_get(w1, "trial"));
    assert_string_equal(s_node_str(w2, "worker"), "busy-2");
    assert_int_equal(hone_node_int(hone_node_get(w2, "lease_age_ms")), 160);
    assert_int_equal(s_int(st, "leases_expired"), 0);
    assert_int_equal(s_count(st, "STALE"), 0);
    hone_msg_destroy(&st);
}

/* Client-driven trials (`next`) have no lease and never expire. */
static void test_client_trials_not_leased(void **state)
{
    fixture_t *f = *state;
    s_create(f, "c", 0, 10, 1, 0);
    hone_msg_t *msg = s_req(f, HONE_MSG_NEXT, "c");
    assert_int_equal(hone_msg_set_int(msg, "count", 2), HONE_OK);
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_call(f, "client", msg), HONE_MSG_OK) });
    assert_int_equal(hone_handlers_lease_count(f->handlers), 0);
    f->now += 100000;
    assert_int_equal(hone_handlers_tick(f->handlers, f->now), 0);
    hone_msg_t *st = s_status(f, "c");
    assert_int_equal(s_count(st, "RUNNING"), 2);
    hone_msg_destroy(&st);
    /* and a report on them without a lease still works, as before */
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_report(f, "client", HONE_MSG_COMPLETE, "c", 0, -1, 1.0), HONE_MSG_OK) });
}

/* A RUNNING trial stored before leases (a worker's name, no attempts) loads, and its
 * worker resumes it under lease 1. */
static void test_record_without_attempts(void **state)
{
    fixture_t *f = *state;
    s_create(f, "old", 0, 100, 3, 3);
    hone_msg_t *msg = s_req(f, HONE_MSG_NEXT, "old");
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_call(f, "client", msg), HONE_MSG_OK) });
    hone_msg_t *list = s_expect(s_call(f, "client", s_req(f, HONE_MSG_LIST, "old")), HONE_MSG_OK);
    const hone_node_t *t0 = s_trial_node(list, 0);
    assert_null(hone_node_get(t0, "attempts"));
    /* rewrite the record as an older broker wrote it: RUNNING for worker "legacy" */
    hone_store_trial_t rec = {
        .index = 0, .status = 4, .params = hone_node_get(t0, "params"), .note = "sobol",
        .worker = "legacy", .created_ms = 1, .updated_ms = 1,
    };
    hone_error_t err;
    assert_int_equal(hone_store_begin(f->store, &err), HONE_OK);
    assert_int_equal(hone_store_put_trial(f->store, "old", &rec, &err), HONE_OK);
    assert_int_equal(hone_store_commit(f->store, &err), HONE_OK);
    hone_msg_destroy(&list);
    s_close(f);
    s_open(f);
    hone_msg_t *t = s_expect(s_ready(f, "L", "old", "legacy"), HONE_MSG_TRIAL);
    assert_int_equal(s_int(t, "trial"), 0);
    assert_int_equal(s_int(t, "lease"), 1);
    hone_msg_destroy(&t);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 1);
    char *text = s_list_text(f, "old");
    assert_non_null(strstr(text, "attempts: [{worker: \"legacy\""));
    free(text);
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_report(f, "L", HONE_MSG_COMPLETE, "old", 0, 1, 2.0), HONE_MSG_OK) });
}

/* A group-commit batch that fails is undone in memory (the registry reloads the
 * experiment from the last commit); the leases follow: one armed in the batch for a trial
 * that is gone is dropped, so the next hand-out of that index is leased to its new
 * worker; one dropped in the batch (a `complete` not stored) is armed again for the trial
 * RUNNING again; a stop-pending lease stays. */
static void test_failed_batch_resyncs_leases(void **state)
{
    fixture_t *f = *state;
    s_open_group_tight(f);
    s_create(f, "g", 10, 1000, 3, 2);
    s_commit(f);
    const char *peers[] = { "A", "B", "C" }, *workers[] = { "w0", "w1", "w2" };
    for (int i = 0; i < 3; i++) {
        hone_msg_t *t = s_expect(s_ready(f, peers[i], "g", workers[i]), HONE_MSG_TRIAL);
        assert_int_equal(s_int(t, "trial"), i);
        hone_msg_destroy(&t);
    }
    /* a client stops w2's trial early (after a reading): its lease stays, the stop pending */
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_report(f, "C", HONE_MSG_PROGRESS, "g", 2, 1, 0.5), HONE_MSG_OK) });
    hone_msg_t *msg = s_req(f, HONE_MSG_MARK, "g");
    assert_int_equal(hone_msg_set_int(msg, "trial", 2), HONE_OK);
    assert_int_equal(hone_msg_set_str(msg, "status", "EARLY_STOPPED"), HONE_OK);
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_call(f, "client", msg), HONE_MSG_OK) });
    s_commit(f);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 3);

    /* the batch that fails: w1 completes trial 1, w3 gets trial 3, then an attach that
     * does not fit in the map */
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_report(f, "B", HONE_MSG_COMPLETE, "g", 1, 1, 1.0), HONE_MSG_OK) });
    hone_msg_t *t3 = s_expect(s_ready(f, "D", "g", "w3"), HONE_MSG_TRIAL);
    assert_int_equal(s_int(t3, "trial"), 3);
    hone_msg_destroy(&t3);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 3);
    hone_msg_t *reply = s_call(f, "client", s_attach_too_large(f, "g", 0));
    if (hone_msg_id(reply) == HONE_MSG_OK) {
        /* the map filled up at the commit rather than at a put */
        hone_error_t err;
        assert_int_equal(hone_registry_commit(f->registry, &err), HONE_ESTORE);
        hone_msg_destroy(&reply);
    } else {
        s_expect_error(reply, HONE_ESTORE, NULL);
    }
    assert_int_equal(f->batches_failed, 1);

    /* memory is the last commit again: trial 1 RUNNING, no trial 3; the next hand-out
     * makes trial 3 again, for w4, and the leases match the trials */
    hone_msg_t *t = s_expect(s_ready(f, "E", "g", "w4"), HONE_MSG_TRIAL);
    assert_int_equal(s_int(t, "trial"), 3);
    assert_int_equal(s_int(t, "lease"), 1);
    hone_msg_destroy(&t);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 4);
    assert_int_equal(hone_handlers_resync_leases(f->handlers, f->now), 0);   /* nothing left to do */
    hone_msg_t *st = s_status(f, "g");
    assert_int_equal(s_count(st, "RUNNING"), 3);
    assert_int_equal(s_count(st, "COMPLETED"), 0);
    assert_int_equal(s_int(st, "total"), 4);
    assert_int_equal(s_row_trial(s_worker_row(st, "w4")), 3);
    assert_int_equal(s_row_trial(s_worker_row(st, "w3")), -1);
    assert_int_equal(s_row_trial(s_worker_row(st, "w1")), 1);
    assert_int_equal(s_row_trial(s_worker_row(st, "w2")), 2);
    hone_msg_destroy(&st);

    /* w2's stop is still pending on its connection: a report without `lease` acknowledges it */
    hone_msg_t *ack = s_expect(s_report(f, "C", HONE_MSG_COMPLETE, "g", 2, -1, NAN), HONE_MSG_OK);
    const char *status = NULL;
    assert_int_equal(hone_msg_get_str(ack, "status", &status, NULL), HONE_OK);
    assert_string_equal(status, "EARLY_STOPPED");
    hone_msg_destroy(&ack);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 3);
    /* w1's trial runs under its lease again and expires when w1 stays silent */
    f->now += 3000;
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_heartbeat(f, "A", "g", 0, 1), HONE_MSG_HEARTBEAT) });
    hone_msg_destroy(&(hone_msg_t *) { s_expect(s_heartbeat(f, "E", "g", 3, 1), HONE_MSG_HEARTBEAT) });
    assert_int_equal(hone_handlers_tick(f->handlers, f->now), 1);
    s_commit(f);
    st = s_status(f, "g");
    assert_int_equal(s_count(st, "STALE"), 1);
    assert_int_equal(s_int(st, "leases_expired"), 1);
    hone_msg_destroy(&st);
}

static void *s_run_broker(void *arg)
{
    hone_error_t err;
    hone_error_clear(&err);
    hone_broker_run(arg, &err);
    return NULL;
}

static void s_send_msg(zsock_t *sock, hone_msg_t **msg)
{
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal(hone_msg_encode(*msg, &data, &size), HONE_OK);
    zframe_t *frame = zframe_new(data, size);
    assert_int_equal(zframe_send(&frame, sock, 0), 0);
    hone_free(data);
    hone_msg_destroy(msg);
}

/* The same through hone-broker's reactor and batch function: four pipelined requests
 * reach an idle broker together (inproc: queued before its reactor runs), so they are
 * served in one turn: worker wa's `ready` gets trial 0 in a new batch, an attach too large
 * for the map fails that batch (trial 0 is gone from memory), and wb's `ready` makes
 * trial 0 again: its lease must be wb's, not the one wa's hand-out left. */
static void test_failed_batch_through_the_reactor(void **state)
{
    fixture_t *f = *state;
    s_create(f, "r", 10, 1000, 3, 2);
    s_close(f);
    int stop[2];
    assert_int_equal(pipe(stop), 0);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://hone-test-handlers-%d", (int) getpid());
    hone_broker_options_t options = {
        .data_dir = f->dir, .endpoint = endpoint, .stop_fd = stop[0],
        .map_size = 96 << 10, .map_size_max = 96 << 10,
    };
    hone_broker_t *broker = NULL;
    hone_error_t err;
    assert_int_equal(hone_broker_open(&broker, &options, &err), HONE_OK);
    zsock_t *peer = zsock_new_dealer(endpoint);
    assert_non_null(peer);

    hone_msg_t *msg = s_req(f, HONE_MSG_READY, "r");
    assert_int_equal(hone_msg_set_str(msg, "worker", "wa"), HONE_OK);
    s_send_msg(peer, &msg);
    msg = s_attach_too_large(f, "r", 0);
    s_send_msg(peer, &msg);
    msg = s_req(f, HONE_MSG_READY, "r");
    assert_int_equal(hone_msg_set_str(msg, "worker", "wb"), HONE_OK);
    s_send_msg(peer, &msg);
    s_send_msg(peer, &(hone_msg_t *) { s_req(f, HONE_MSG_STATUS, "r") });

    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, s_run_broker, broker), 0);
    hone_msg_t *replies[5] = { NULL };
    zpoller_t *poller = zpoller_new(peer, NULL);
    for (int got = 0; got < 4; got++) {
        assert_non_null(zpoller_wait(poller, 10000));
        zframe_t *frame = zframe_recv(peer);
        assert_non_null(frame);
        hone_msg_t *reply = NULL;
        assert_int_equal(hone_msg_decode(zframe_data(frame), zframe_size(frame), &reply, NULL, &err), HONE_OK);
        zframe_destroy(&frame);
        uint64_t seq = hone_msg_seq(reply) - (f->seq - 4);
        assert_true(seq >= 1 && seq <= 4 && !replies[seq]);
        replies[seq] = reply;
    }
    zpoller_destroy(&poller);
    assert_int_equal(write(stop[1], "x", 1), 1);
    pthread_join(thread, NULL);
    zsock_destroy(&peer);
    hone_broker_destroy(&broker);
    close(stop[0]);
    close(stop[1]);
    s_open(f);      /* for the teardown */

    if (hone_msg_id(replies[1]) == HONE_MSG_TRIAL) {
        /* A slow run (valgrind, a loaded machine) committed wa's hand-out on its own
         * before the attach was read (broker.c commits a batch open for as long as a
         * commit takes): the failure this test is about did not happen. */
        for (int seq = 1; seq <= 4; seq++)
            hone_msg_destroy(&replies[seq]);
        skip();
    }
    s_expect_error(replies[1], HONE_ESTORE, "not stored");     /* wa's hand-out was undone */
    s_expect_error(replies[2], HONE_ESTORE, NULL);
    hone_msg_t *t = s_expect(replies[3], HONE_MSG_TRIAL);
    assert_int_equal(s_int(t, "trial"), 0);
    assert_int_equal(s_int(t, "lease"), 1);
    hone_msg_destroy(&t);
    hone_msg_t *st = s_expect(replies[4], HONE_MSG_OK);
    assert_int_equal(s_count(st, "RUNNING"), 1);
    assert_int_equal(s_row_trial(s_worker_row(st, "wb")), 0);
    assert_int_equal(s_row_trial(s_worker_row(st, "wa")), -1);
    hone_msg_destroy(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_expiry_requeues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_inside_lease, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_workers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_trials_not_leased, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_without_attempts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch_resyncs_leases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch_through_the_reactor, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
