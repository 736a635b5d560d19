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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_harness.h"
#include "err.h"
#include "wire.h"

#include "broker_thread.h"  /* after the hone headers: czmq defines a streq macro */
#include "peer.h"

/* ---- requests ---- */

static void s_create(hone_harness_t *h, const char *name, int max_trials, int heartbeat_ms, int liveness, int retries)
{
    char config[1024];
    snprintf(config, sizeof config,
             "{\"name\": \"%s\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0.0, 1.0]},"
             " {\"name\": \"k\", \"bounds\": [1, 9], \"parameter_type\": \"int\"}], \"objective\": \"-y\","
             " \"generation_strategy\": {\"method\": \"random_search\", \"initialization_random_seed\": 3},"
             " \"max_trials\": %d, \"leases\": {\"heartbeat_ms\": %d, \"liveness\": %d, \"max_retries\": %d}}",
             name, max_trials, heartbeat_ms, liveness, retries);
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", config), HONE_OK);
    hone_msg_t *reply = hone_test_expect(hone_harness_call(h, "client", msg), HONE_MSG_OK);
    hone_msg_destroy(&reply);
}

/* A `ready` from peer `from` named worker; returns the reply (trial or no_work). */
static hone_msg_t *s_ready(hone_harness_t *h, const char *from, const char *experiment, const char *worker)
{
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_READY, experiment);
    if (worker)
        assert_int_equal(hone_msg_set_str(msg, "worker", worker), HONE_OK);
    return hone_harness_call(h, from, msg);
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

static hone_msg_t *s_report(hone_harness_t *h, const char *from, hone_msg_id_t id, const char *experiment,
                            int64_t trial, int64_t lease, double y)
{
    hone_msg_t *msg = hone_test_req(&h->seq, id, experiment);
    assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    if (lease != -1)    /* -1: no lease field */
        assert_int_equal(hone_msg_set_int(msg, "lease", lease), HONE_OK);
    if (id == HONE_MSG_FAIL) {
        assert_int_equal(hone_msg_set_str(msg, "reason", "boom"), HONE_OK);
    } else if (!isnan(y)) {
        hone_node_t *metrics = hone_node_add_map(hone_msg_body(msg), "metrics");
        assert_non_null(hone_node_add_float(metrics, "y", y));
    }
    return hone_harness_call(h, from, msg);
}

static hone_msg_t *s_heartbeat(hone_harness_t *h, const char *from, const char *experiment, int64_t trial,
                               int64_t lease)
{
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_HEARTBEAT, experiment);
    if (trial != -1)    /* -1: no trial field */
        assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    if (lease != -1)    /* -1: no lease field */
        assert_int_equal(hone_msg_set_int(msg, "lease", lease), HONE_OK);
    return hone_harness_call(h, from, msg);
}

static char *s_list_text(hone_harness_t *h, const char *experiment)
{
    hone_msg_t *reply = hone_test_req(&h->seq, HONE_MSG_LIST, experiment);
    reply = hone_test_expect(hone_harness_call(h, "client", reply), HONE_MSG_OK);
    return hone_test_reply_text(&reply);
}

static hone_msg_t *s_status(hone_harness_t *h, const char *experiment)
{
    return hone_test_expect(hone_harness_call(h, "client", hone_test_req(&h->seq, HONE_MSG_STATUS, experiment)),
                            HONE_MSG_OK);
}

static int64_t s_count(const hone_msg_t *status, const char *name)
{
    const hone_node_t *n = hone_node_get(hone_msg_get(status, "counts"), name);
    assert_non_null(n);
    return hone_node_int(n);
}

/* The row of `status`'s workers table for worker, or NULL. */
static const hone_node_t *s_worker_row(const hone_msg_t *status, const char *worker)
{
    const hone_node_t *workers = hone_msg_get(status, "workers");
    assert_non_null(workers);
    for (size_t i = 0; i < hone_node_len(workers); i++)
        if (strcmp(hone_test_node_str(hone_node_at(workers, i), "worker"), worker) == 0)
            return hone_node_at(workers, i);
    return NULL;
}

/* An `attach` of 400 readings with long metric names: more than a 96 KiB map holds. */
static hone_msg_t *s_attach_too_large(hone_harness_t *h, const char *experiment, int64_t trial)
{
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_ATTACH, experiment);
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
    hone_harness_t *h = *state;
    s_create(h, "e", 1, 100, 3, 2);
    hone_msg_t *t1 = hone_test_expect(s_ready(h, "A", "e", "a"), HONE_MSG_TRIAL);
    assert_int_equal(hone_test_int(t1, "trial"), 0);
    assert_int_equal(hone_test_int(t1, "lease"), 1);
    assert_int_equal(hone_test_int(t1, "heartbeat_ms"), 100);
    char *params = s_params_text(t1);
    hone_msg_destroy(&t1);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 1);
    assert_int_equal(hone_handlers_tick_ms(h->handlers), 10);   /* a tenth of 100 ms */

    /* the budget is out: another worker is told to ask again within a heartbeat */
    hone_msg_t *nw = hone_test_expect(s_ready(h, "B", "e", "b"), HONE_MSG_NO_WORK);
    assert_int_equal(hone_test_int(nw, "retry_ms"), 100);
    hone_msg_destroy(&nw);

    /* heartbeats and readings keep the lease: window 300 ms from the last word */
    h->now += 250;
    hone_test_expect_destroy(s_heartbeat(h, "A", "e", 0, 1), HONE_MSG_HEARTBEAT);
    h->now += 299;
    assert_int_equal(hone_handlers_tick(h->handlers, h->now), 0);
    hone_msg_t *ok = hone_test_expect(s_report(h, "A", HONE_MSG_PROGRESS, "e", 0, 1, 0.5), HONE_MSG_OK);
    hone_msg_destroy(&ok);
    h->now += 299;
    assert_int_equal(hone_handlers_tick(h->handlers, h->now), 0);
    h->now += 1;
    assert_int_equal(hone_handlers_tick(h->handlers, h->now), 1);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 0);

    hone_msg_t *st = s_status(h, "e");
    assert_int_equal(s_count(st, "STALE"), 1);
    assert_int_equal(s_count(st, "RUNNING"), 0);
    assert_int_equal(s_count(st, "FAILED"), 0);
    assert_int_equal(hone_test_int(st, "leases_expired"), 1);
    assert_int_equal(hone_test_int(st, "retries"), 1);
    hone_msg_destroy(&st);
    char *before = s_list_text(h, "e");
    assert_non_null(strstr(before, "status: \"STALE\""));
    assert_non_null(strstr(before, "outcome: \"lease expired\""));

    /* the late reports of the lost worker change nothing */
    hone_test_expect_error(s_report(h, "A", HONE_MSG_COMPLETE, "e", 0, 1, 1.0), HONE_ELEASE,
                           "lease 1 of trial e#0 expired at");
    hone_test_expect_error(s_report(h, "A", HONE_MSG_PROGRESS, "e", 0, 1, 1.0), HONE_ELEASE, "re-queued");
    hone_test_expect_error(s_report(h, "A", HONE_MSG_FAIL, "e", 0, 1, NAN), HONE_ELEASE, NULL);
    hone_test_expect_error(s_heartbeat(h, "A", "e", 0, 1), HONE_ELEASE, "waits for a worker");
    /* no lease given */
    hone_test_expect_error(s_report(h, "A", HONE_MSG_COMPLETE, "e", 0, -1, 1.0), HONE_ELEASE, NULL);
    char *after = s_list_text(h, "e");
    assert_string_equal(before, after);
    free(after);
    free(before);

    /* the next `ready` gets the same trial, same parameters, under lease 2 */
    h->now += 5;
    hone_msg_t *t2 = hone_test_expect(s_ready(h, "B", "e", "b"), HONE_MSG_TRIAL);
    assert_int_equal(hone_test_int(t2, "trial"), 0);
    assert_int_equal(hone_test_int(t2, "lease"), 2);
    char *params2 = s_params_text(t2);
    assert_string_equal(params, params2);
    free(params2);
    free(params);
    hone_msg_destroy(&t2);
    hone_test_expect_error(s_report(h, "A", HONE_MSG_COMPLETE, "e", 0, 1, 1.0), HONE_ELEASE,
                           "runs again under lease 2");
    hone_test_expect_error(s_report(h, "A", HONE_MSG_COMPLETE, "e", 0, 3, 1.0), HONE_ELEASE, "never given");
    /* without its lease, a report from another connection is refused */
    hone_test_expect_error(s_report(h, "A", HONE_MSG_COMPLETE, "e", 0, -1, 1.0), HONE_ELEASE, "leased to worker 'b'");
    hone_test_expect_error(s_report(h, "B", HONE_MSG_COMPLETE, "e", 0, 0, 1.0), HONE_ELEASE, NULL);
    /* a negative lease is malformed */
    hone_test_expect_error(s_report(h, "B", HONE_MSG_COMPLETE, "e", 0, -2, NAN), HONE_EPROTO, "lease");

    /* the new holder completes; a duplicate gets the same reply and changes nothing */
    hone_msg_t *done = hone_test_expect(s_report(h, "B", HONE_MSG_COMPLETE, "e", 0, 2, 3.0), HONE_MSG_OK);
    hone_msg_set_seq(done, 0);
    char *first = hone_msg_to_text(done);
    hone_msg_destroy(&done);
    char *list1 = s_list_text(h, "e");
    done = hone_test_expect(s_report(h, "B", HONE_MSG_COMPLETE, "e", 0, 2, 3.0), HONE_MSG_OK);   /* resent */
    hone_msg_set_seq(done, 0);
    char *second = hone_msg_to_text(done);
    hone_msg_destroy(&done);
    assert_string_equal(first, second);
    /* also with other metrics (they are not applied), and from an older peer without lease */
    hone_test_expect_destroy(s_report(h, "B", HONE_MSG_COMPLETE, "e", 0, 2, 99.0), HONE_MSG_OK);
    hone_test_expect_destroy(s_report(h, "B", HONE_MSG_COMPLETE, "e", 0, -1, 99.0), HONE_MSG_OK);
    char *list2 = s_list_text(h, "e");
    assert_string_equal(list1, list2);
    assert_non_null(strstr(list2, "outcome: \"completed\""));
    free(first);
    free(second);
    free(list1);
    free(list2);
    /* a different report under the same lease follows the status rules */
    hone_test_expect_error(s_report(h, "B", HONE_MSG_FAIL, "e", 0, 2, NAN), HONE_ESTATE, "currently running");
    hone_test_expect_error(s_report(h, "B", HONE_MSG_PROGRESS, "e", 0, 2, 1.0), HONE_ESTATE, NULL);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 0);
    hone_msg_t *final = hone_test_expect(s_ready(h, "B", "e", "b"), HONE_MSG_NO_WORK);
    hone_msg_destroy(&final);
}

/* A trial whose lease expires more than max_retries times is FAILED with the reason;
 * STALE and FAILED are told apart in `status`. */
static void test_retry_limit(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "r", 0, 50, 2, 1);
    for (int round = 1; round <= 2; round++) {
        hone_msg_t *t = hone_test_expect(s_ready(h, "W", "r", "w"), HONE_MSG_TRIAL);
        assert_int_equal(hone_test_int(t, "trial"), 0);
        assert_int_equal(hone_test_int(t, "lease"), round);
        hone_msg_destroy(&t);
        h->now += 100;
        assert_int_equal(hone_handlers_tick(h->handlers, h->now), 1);
    }
    hone_msg_t *list = hone_test_expect(hone_harness_call(h, "client", hone_test_req(&h->seq, HONE_MSG_LIST, "r")),
                                        HONE_MSG_OK);
    const hone_node_t *t0 = hone_test_trial_node(list, 0);
    assert_string_equal(hone_test_node_str(t0, "status"), "FAILED");
    assert_string_equal(hone_test_node_str(t0, "reason"), "lease expired 2 times (max_retries 1)");
    assert_int_equal(hone_node_int(hone_node_get(t0, "retries")), 2);
    const hone_node_t *attempts = hone_node_get(t0, "attempts");
    assert_int_equal(hone_node_len(attempts), 2);
    assert_string_equal(hone_test_node_str(hone_node_at(attempts, 0), "worker"), "w");
    assert_string_equal(hone_test_node_str(hone_node_at(attempts, 1), "outcome"), "lease expired");
    assert_non_null(hone_node_get(hone_node_at(attempts, 1), "end"));
    hone_msg_destroy(&list);
    hone_msg_t *st = s_status(h, "r");
    assert_int_equal(s_count(st, "FAILED"), 1);
    assert_int_equal(s_count(st, "STALE"), 0);
    assert_int_equal(hone_test_int(st, "leases_expired"), 2);
    assert_int_equal(hone_test_int(st, "retries"), 1);
    hone_msg_destroy(&st);
    hone_test_expect_error(s_report(h, "W", HONE_MSG_COMPLETE, "r", 0, 2, 1.0), HONE_ELEASE, "the trial is FAILED");
    /* the next worker gets a new trial */
    hone_msg_t *t = hone_test_expect(s_ready(h, "W", "r", "w"), HONE_MSG_TRIAL);
    assert_int_equal(hone_test_int(t, "trial"), 1);
    hone_msg_destroy(&t);
}

/* A worker that comes back under its name inside its lease resumes the same trial under
 * the same lease, on its new connection. */
static void test_resume_inside_lease(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "s", 0, 100, 3, 3);
    hone_msg_t *t = hone_test_expect(s_ready(h, "C1", "s", "dev-7"), HONE_MSG_TRIAL);
    int64_t index = hone_test_int(t, "trial");
    hone_msg_destroy(&t);
    h->now += 250;
    t = hone_test_expect(s_ready(h, "C2", "s", "dev-7"), HONE_MSG_TRIAL);
    assert_int_equal(hone_test_int(t, "trial"), index);
    assert_int_equal(hone_test_int(t, "lease"), 1);
    hone_msg_destroy(&t);
    /* the resumption refreshed the lease */
    h->now += 299;
    assert_int_equal(hone_handlers_tick(h->handlers, h->now), 0);
    /* an older peer (no lease field) is accepted only on the connection holding it */
    hone_test_expect_error(s_report(h, "C1", HONE_MSG_PROGRESS, "s", index, -1, 1.0), HONE_ELEASE, "dev-7");
    hone_test_expect_destroy(s_report(h, "C2", HONE_MSG_PROGRESS, "s", index, -1, 1.0), HONE_MSG_OK);
    /* the lease token is accepted from any connection (the worker reconnected) */
    hone_test_expect_destroy(s_heartbeat(h, "C3", "s", index, 1), HONE_MSG_HEARTBEAT);
    hone_test_expect_error(s_report(h, "C2", HONE_MSG_PROGRESS, "s", index, -1, 1.0), HONE_ELEASE, NULL);
    hone_msg_t *done = hone_test_expect(s_report(h, "C3", HONE_MSG_FAIL, "s", index, 1, NAN), HONE_MSG_OK);
    hone_msg_destroy(&done);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 0);
}

/* Heartbeats: with a lease they keep it (on any connection) and report a lost or
 * ended trial; without one they refresh every lease of the connection. */
static void test_heartbeats(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "h", 0, 100, 2, 3);
    hone_msg_t *t = hone_test_expect(s_ready(h, "H", "h", "hb"), HONE_MSG_TRIAL);
    hone_msg_destroy(&t);
    t = hone_test_expect(s_ready(h, "H2", "h", "hb2"), HONE_MSG_TRIAL);
    hone_msg_destroy(&t);
    for (int i = 0; i < 10; i++) {
        h->now += 150;
        /* an older peer's heartbeat: no experiment, only the trial, or nothing */
        hone_test_expect_destroy(s_heartbeat(h, "H", NULL, i % 2 ? 0 : -1, -1), HONE_MSG_HEARTBEAT);
        hone_test_expect_destroy(s_heartbeat(h, "H2", "h", 1, 1), HONE_MSG_HEARTBEAT);
        assert_int_equal(hone_handlers_tick(h->handlers, h->now), 0);
    }
    /* a client abandons trial 1: its worker's next heartbeat says stop */
    hone_msg_t *mark = hone_test_req(&h->seq, HONE_MSG_MARK, "h");
    assert_int_equal(hone_msg_set_int(mark, "trial", 1), HONE_OK);
    assert_int_equal(hone_msg_set_str(mark, "status", "ABANDONED"), HONE_OK);
    hone_test_expect_destroy(hone_harness_call(h, "client", mark), HONE_MSG_OK);
    hone_test_expect_error(s_heartbeat(h, "H2", "h", 1, 1), HONE_ESTATE, "ABANDONED");
    hone_test_expect_error(s_heartbeat(h, "H2", "h", 1, 2), HONE_ELEASE, "never given");
    hone_test_expect_error(s_heartbeat(h, "H2", "h", 7, 1), HONE_ENOTFOUND, NULL);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 1);
    /* H falls silent */
    h->now += 200;
    assert_int_equal(hone_handlers_tick(h->handlers, h->now), 1);
    /* a heartbeat of an unknown experiment or a malformed one */
    hone_test_expect_destroy(s_heartbeat(h, "H", "nope", 0, 1), HONE_MSG_HEARTBEAT);
    hone_test_expect_error(s_heartbeat(h, "H", "h", -5, -1), HONE_EPROTO, NULL);
}

/* After a restart the leases of RUNNING trials are armed again when the experiment is
 * first named, with a whole window; the history survives. */
static void test_restart(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "p", 0, 100, 3, 3);
    hone_msg_t *t = hone_test_expect(s_ready(h, "P", "p", "pw"), HONE_MSG_TRIAL);
    hone_msg_destroy(&t);
    h->now += 400;
    assert_int_equal(hone_handlers_tick(h->handlers, h->now), 1);    /* STALE, attempt 1 expired */
    t = hone_test_expect(s_ready(h, "P", "p", "pw"), HONE_MSG_TRIAL);     /* attempt 2 */
    assert_int_equal(hone_test_int(t, "lease"), 2);
    hone_msg_destroy(&t);
    char *before = s_list_text(h, "p");
    hone_harness_close(h);

    h->now += 10000;
    hone_harness_open(h, NULL);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 0);
    char *after = s_list_text(h, "p");     /* names the experiment: its lease is armed */
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 1);
    h->now += 299;
    assert_int_equal(hone_handlers_tick(h->handlers, h->now), 0);
    /* the worker heartbeats under its lease after the restart, on a new connection */
    hone_test_expect_destroy(s_heartbeat(h, "P-new", "p", 0, 2), HONE_MSG_HEARTBEAT);
    h->now += 299;
    assert_int_equal(hone_handlers_tick(h->handlers, h->now), 0);
    h->now += 1;
    assert_int_equal(hone_handlers_tick(h->handlers, h->now), 1);
    hone_msg_t *st = s_status(h, "p");
    assert_int_equal(hone_test_int(st, "leases_expired"), 2);
    assert_int_equal(s_count(st, "STALE"), 1);
    hone_msg_destroy(&st);
}

/* The lease part of `status`: settings and the workers table. */
static void test_status_workers(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "w", 2, 1000, 3, 3);
    hone_msg_t *t = hone_test_expect(s_ready(h, "X", "w", "busy-1"), HONE_MSG_TRIAL);
    hone_msg_destroy(&t);
    h->now += 40;
    t = hone_test_expect(s_ready(h, "Y", "w", "busy-2"), HONE_MSG_TRIAL);
    hone_msg_destroy(&t);
    h->now += 10;
    t = hone_test_expect(s_ready(h, "Z", "w", "idle"), HONE_MSG_NO_WORK);
    hone_msg_destroy(&t);
    h->now += 100;
    hone_test_expect_destroy(s_heartbeat(h, "X", "w", 0, 1), HONE_MSG_HEARTBEAT);
    h->now += 50;
    hone_msg_t *st = s_status(h, "w");
    const hone_node_t *leases = hone_msg_get(st, "leases");
    assert_int_equal(hone_node_int(hone_node_get(leases, "heartbeat_ms")), 1000);
    assert_int_equal(hone_node_int(hone_node_get(leases, "liveness")), 3);
    assert_int_equal(hone_node_int(hone_node_get(leases, "max_retries")), 3);
    assert_int_equal(hone_test_int(st, "workers_total"), 3);
    const hone_node_t *workers = hone_msg_get(st, "workers");
    assert_int_equal(hone_node_len(workers), 3);
    /* most recently seen first */
    const hone_node_t *w0 = hone_node_at(workers, 0), *w1 = hone_node_at(workers, 1), *w2 = hone_node_at(workers, 2);
    assert_string_equal(hone_test_node_str(w0, "worker"), "busy-1");
    assert_int_equal(hone_node_int(hone_node_get(w0, "last_seen_ms")), 50);
    assert_int_equal(hone_node_int(hone_node_get(w0, "trial")), 0);
    assert_int_equal(hone_node_int(hone_node_get(w0, "lease")), 1);
    assert_int_equal(hone_node_int(hone_node_get(w0, "lease_age_ms")), 200);
    assert_string_equal(hone_test_node_str(w1, "worker"), "idle");
    assert_int_equal(hone_node_int(hone_node_get(w1, "last_seen_ms")), 150);
    assert_null(hone_node_get(w1, "trial"));
    assert_string_equal(hone_test_node_str(w2, "worker"), "busy-2");
    assert_int_equal(hone_node_int(hone_node_get(w2, "lease_age_ms")), 160);
    assert_int_equal(hone_test_int(st, "leases_expired"), 0);
    assert_int_equal(s_count(st, "STALE"), 0);
    hone_msg_destroy(&st);
}

/* Client-driven trials (`next`) have no lease and never expire. */
static void test_client_trials_not_leased(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "c", 0, 10, 1, 0);
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_NEXT, "c");
    assert_int_equal(hone_msg_set_int(msg, "count", 2), HONE_OK);
    hone_test_expect_destroy(hone_harness_call(h, "client", msg), HONE_MSG_OK);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 0);
    h->now += 100000;
    assert_int_equal(hone_handlers_tick(h->handlers, h->now), 0);
    hone_msg_t *st = s_status(h, "c");
    assert_int_equal(s_count(st, "RUNNING"), 2);
    hone_msg_destroy(&st);
    /* and a report on them without a lease still works, as before */
    hone_test_expect_destroy(s_report(h, "client", HONE_MSG_COMPLETE, "c", 0, -1, 1.0), HONE_MSG_OK);
}

/* A RUNNING trial stored before leases (a worker's name, no attempts) loads, and its
 * worker resumes it under lease 1. */
static void test_record_without_attempts(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "old", 0, 100, 3, 3);
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_NEXT, "old");
    hone_test_expect_destroy(hone_harness_call(h, "client", msg), HONE_MSG_OK);
    hone_msg_t *list = hone_test_expect(hone_harness_call(h, "client", hone_test_req(&h->seq, HONE_MSG_LIST, "old")),
                                        HONE_MSG_OK);
    const hone_node_t *t0 = hone_test_trial_node(list, 0);
    assert_null(hone_node_get(t0, "attempts"));
    /* rewrite the record as an older broker wrote it: RUNNING for worker "legacy" */
    hone_store_trial_t rec = {
        .index = 0, .status = 4, .params = hone_node_get(t0, "params"), .note = "sobol",
        .worker = "legacy", .created_ms = 1, .updated_ms = 1,
    };
    hone_error_t err;
    assert_int_equal(hone_store_begin(h->store, &err), HONE_OK);
    assert_int_equal(hone_store_put_trial(h->store, "old", &rec, &err), HONE_OK);
    assert_int_equal(hone_store_commit(h->store, &err), HONE_OK);
    hone_msg_destroy(&list);
    hone_harness_close(h);
    hone_harness_open(h, NULL);
    hone_msg_t *t = hone_test_expect(s_ready(h, "L", "old", "legacy"), HONE_MSG_TRIAL);
    assert_int_equal(hone_test_int(t, "trial"), 0);
    assert_int_equal(hone_test_int(t, "lease"), 1);
    hone_msg_destroy(&t);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 1);
    char *text = s_list_text(h, "old");
    assert_non_null(strstr(text, "attempts: [{worker: \"legacy\""));
    free(text);
    hone_test_expect_destroy(s_report(h, "L", HONE_MSG_COMPLETE, "old", 0, 1, 2.0), HONE_MSG_OK);
}

/* A group-commit batch that fails is undone in memory (the registry reloads the
 * experiment from the last commit); the leases follow: one armed in the batch for a trial
 * that is gone is dropped, so the next hand-out of that index is leased to its new
 * worker; one dropped in the batch (a `complete` not stored) is armed again for the trial
 * RUNNING again; a stop-pending lease stays. */
static void test_failed_batch_resyncs_leases(void **state)
{
    hone_harness_t *h = *state;
    hone_store_options_t tight = { .map_size = 96 << 10, .map_size_max = 96 << 10 };
    hone_harness_open_group(h, &tight);    /* a map that may not grow, as hone-broker runs */
    s_create(h, "g", 10, 1000, 3, 2);
    hone_harness_commit(h);
    const char *peers[] = { "A", "B", "C" }, *workers[] = { "w0", "w1", "w2" };
    for (int i = 0; i < 3; i++) {
        hone_msg_t *t = hone_test_expect(s_ready(h, peers[i], "g", workers[i]), HONE_MSG_TRIAL);
        assert_int_equal(hone_test_int(t, "trial"), i);
        hone_msg_destroy(&t);
    }
    /* a client stops w2's trial early (after a reading): its lease stays, the stop pending */
    hone_test_expect_destroy(s_report(h, "C", HONE_MSG_PROGRESS, "g", 2, 1, 0.5), HONE_MSG_OK);
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_MARK, "g");
    assert_int_equal(hone_msg_set_int(msg, "trial", 2), HONE_OK);
    assert_int_equal(hone_msg_set_str(msg, "status", "EARLY_STOPPED"), HONE_OK);
    hone_test_expect_destroy(hone_harness_call(h, "client", msg), HONE_MSG_OK);
    hone_harness_commit(h);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 3);

    /* the batch that fails: w1 completes trial 1, w3 gets trial 3, then an attach that
     * does not fit in the map */
    hone_test_expect_destroy(s_report(h, "B", HONE_MSG_COMPLETE, "g", 1, 1, 1.0), HONE_MSG_OK);
    hone_msg_t *t3 = hone_test_expect(s_ready(h, "D", "g", "w3"), HONE_MSG_TRIAL);
    assert_int_equal(hone_test_int(t3, "trial"), 3);
    hone_msg_destroy(&t3);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 3);
    hone_msg_t *reply = hone_harness_call(h, "client", s_attach_too_large(h, "g", 0));
    if (hone_msg_id(reply) == HONE_MSG_OK) {
        /* the map filled up at the commit rather than at a put */
        hone_error_t err;
        assert_int_equal(hone_registry_commit(h->registry, &err), HONE_ESTORE);
        hone_msg_destroy(&reply);
    } else {
        hone_test_expect_error(reply, HONE_ESTORE, NULL);
    }
    assert_int_equal(h->batches_failed, 1);

    /* memory is the last commit again: trial 1 RUNNING, no trial 3; the next hand-out
     * makes trial 3 again, for w4, and the leases match the trials */
    hone_msg_t *t = hone_test_expect(s_ready(h, "E", "g", "w4"), HONE_MSG_TRIAL);
    assert_int_equal(hone_test_int(t, "trial"), 3);
    assert_int_equal(hone_test_int(t, "lease"), 1);
    hone_msg_destroy(&t);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 4);
    assert_int_equal(hone_handlers_resync_leases(h->handlers, h->now), 0);   /* nothing left to do */
    hone_msg_t *st = s_status(h, "g");
    assert_int_equal(s_count(st, "RUNNING"), 3);
    assert_int_equal(s_count(st, "COMPLETED"), 0);
    assert_int_equal(hone_test_int(st, "total"), 4);
    assert_int_equal(s_row_trial(s_worker_row(st, "w4")), 3);
    assert_int_equal(s_row_trial(s_worker_row(st, "w3")), -1);
    assert_int_equal(s_row_trial(s_worker_row(st, "w1")), 1);
    assert_int_equal(s_row_trial(s_worker_row(st, "w2")), 2);
    hone_msg_destroy(&st);

    /* w2's stop is still pending on its connection: a report without `lease` acknowledges it */
    hone_msg_t *ack = hone_test_expect(s_report(h, "C", HONE_MSG_COMPLETE, "g", 2, -1, NAN), HONE_MSG_OK);
    const char *status = NULL;
    assert_int_equal(hone_msg_get_str(ack, "status", &status, NULL), HONE_OK);
    assert_string_equal(status, "EARLY_STOPPED");
    hone_msg_destroy(&ack);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 3);
    /* w1's trial runs under its lease again and expires when w1 stays silent */
    h->now += 3000;
    hone_test_expect_destroy(s_heartbeat(h, "A", "g", 0, 1), HONE_MSG_HEARTBEAT);
    hone_test_expect_destroy(s_heartbeat(h, "E", "g", 3, 1), HONE_MSG_HEARTBEAT);
    assert_int_equal(hone_handlers_tick(h->handlers, h->now), 1);
    hone_harness_commit(h);
    st = s_status(h, "g");
    assert_int_equal(s_count(st, "STALE"), 1);
    assert_int_equal(hone_test_int(st, "leases_expired"), 1);
    hone_msg_destroy(&st);
}

/* The same through hone-broker's reactor and batch function: four pipelined requests
 * reach an idle broker together (inproc: queued before its reactor runs), so they are
 * served in one turn: worker wa's `ready` gets trial 0 in a new batch, an attach too large
 * for the map fails that batch (trial 0 is gone from memory), and wb's `ready` makes
 * trial 0 again: its lease must be wb's, not the one wa's hand-out left. */
static void test_failed_batch_through_the_reactor(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "r", 10, 1000, 3, 2);
    hone_harness_close(h);
    hone_broker_thread_t *broker = hone_broker_thread_open("handlers", h->dir, 96 << 10, 96 << 10);
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_READY, "r");
    assert_int_equal(hone_msg_set_str(msg, "worker", "wa"), HONE_OK);
    hone_peer_send(broker->peer, &msg);
    msg = s_attach_too_large(h, "r", 0);
    hone_peer_send(broker->peer, &msg);
    msg = hone_test_req(&h->seq, HONE_MSG_READY, "r");
    assert_int_equal(hone_msg_set_str(msg, "worker", "wb"), HONE_OK);
    hone_peer_send(broker->peer, &msg);
    hone_peer_send(broker->peer, &(hone_msg_t *) { hone_test_req(&h->seq, HONE_MSG_STATUS, "r") });

    hone_broker_thread_start(broker);
    hone_msg_t *replies[5] = { NULL };     /* by seq, 1 to 4 */
    hone_broker_thread_replies(broker, replies + 1, 4, h->seq - 3, 10000);
    hone_broker_thread_destroy(&broker);

    if (hone_msg_id(replies[1]) == HONE_MSG_TRIAL) {
        /* A slow run (valgrind, a loaded machine) committed wa's hand-out on its own
         * before the attach was read (broker.c commits a batch open for as long as a
         * commit takes): the failure this test is about did not happen. */
        for (int seq = 1; seq <= 4; seq++)
            hone_msg_destroy(&replies[seq]);
        skip();
    }
    hone_test_expect_error(replies[1], HONE_ESTORE, "not stored");     /* wa's hand-out was undone */
    hone_test_expect_error(replies[2], HONE_ESTORE, NULL);
    hone_msg_t *t = hone_test_expect(replies[3], HONE_MSG_TRIAL);
    assert_int_equal(hone_test_int(t, "trial"), 0);
    assert_int_equal(hone_test_int(t, "lease"), 1);
    hone_msg_destroy(&t);
    hone_msg_t *st = hone_test_expect(replies[4], HONE_MSG_OK);
    assert_int_equal(s_count(st, "RUNNING"), 1);
    assert_int_equal(s_row_trial(s_worker_row(st, "wb")), 0);
    assert_int_equal(s_row_trial(s_worker_row(st, "wa")), -1);
    hone_msg_destroy(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HONE_HARNESS_TEST(test_expiry_requeues),
        HONE_HARNESS_TEST(test_retry_limit),
        HONE_HARNESS_TEST(test_resume_inside_lease),
        HONE_HARNESS_TEST(test_heartbeats),
        HONE_HARNESS_TEST(test_restart),
        HONE_HARNESS_TEST(test_status_workers),
        HONE_HARNESS_TEST(test_client_trials_not_leased),
        HONE_HARNESS_TEST(test_record_without_attempts),
        HONE_HARNESS_TEST(test_failed_batch_resyncs_leases),
        HONE_HARNESS_TEST(test_failed_batch_through_the_reactor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
