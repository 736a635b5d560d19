#define _GNU_SOURCE
/* Tests of the hone-broker program's requests: a real broker process (broker_check.h)
 * answering each request of the client and worker roles (create, next, ready,
 * heartbeat, progress, complete, attach, mark, best, status, list, predict), over REQ
 * and DEALER peers; several experiments and their budgets; every error path, invalid
 * configuration and wire-level error leaving the state unchanged (byte-for-byte `list`
 * comparison), and a store that cannot grow (in process) doing the same; replies near
 * the frame limit; predictions of the model at observed and far points. */
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
#include "log.h"
#include "test_support.h"
#include "wire.h"

#include "broker_check.h"   /* after the hone headers: czmq defines a streq macro */

/* A `create` frame whose config string has str_len bytes, built by hand because the
 * codec refuses to encode anything over the limits:
 * [ "HONE", 1, "create", seq, { "config": str32 } ]. */
static uint8_t *s_oversized_create(uint64_t seq, size_t str_len, size_t *size)
{
    uint8_t *p = malloc(64 + str_len);
    size_t n = 0;
    p[n++] = 0x95;
    p[n++] = 0xa4;
    memcpy(p + n, "HONE", 4);
    n += 4;
    p[n++] = 0x01;
    p[n++] = 0xa6;
    memcpy(p + n, "create", 6);
    n += 6;
    p[n++] = 0xcf;                                  /* uint 64 */
    for (int i = 7; i >= 0; i--)
        p[n++] = (uint8_t) (seq >> (8 * i));
    p[n++] = 0x81;                                  /* fixmap of 1 */
    p[n++] = 0xa6;
    memcpy(p + n, "config", 6);
    n += 6;
    p[n++] = 0xdb;                                  /* str 32 */
    for (int i = 3; i >= 0; i--)
        p[n++] = (uint8_t) (str_len >> (8 * i));
    memset(p + n, 'a', str_len);
    n += str_len;
    *size = n;
    return p;
}

/* ---- tests ---- */

static void test_create_next_complete_best(void **state)
{
    fixture_t *f = *state;
    s_create_ok(f, "alpha", 1, 0);

    /* client: two trials at once, the center first */
    hone_msg_t *reply = hone_test_expect(s_next(f, "alpha", 2), HONE_MSG_OK);
    const hone_node_t *trials = hone_msg_get(reply, "trials");
    assert_int_equal(hone_node_len(trials), 2);
    const hone_node_t *t0 = hone_node_at(trials, 0);
    assert_int_equal(hone_node_int(hone_node_get(t0, "trial")), 0);
    assert_string_equal(hone_test_node_str(t0, "status"), "RUNNING");
    assert_string_equal(hone_test_node_str(t0, "note"), "center");
    const hone_node_t *params = hone_node_get(t0, "params");
    assert_int_equal(hone_node_type(hone_node_get(params, "x1")), HONE_NODE_FLOAT);
    assert_true(fabs(hone_node_float(hone_node_get(params, "x1")) - 2.5) < 1e-12);
    assert_int_equal(hone_node_type(hone_node_get(params, "x2")), HONE_NODE_INT);
    assert_int_equal(hone_node_type(hone_node_get(params, "opt")), HONE_NODE_STR);
    assert_null(hone_node_get(t0, "metrics"));
    assert_string_equal(hone_test_node_str(hone_node_at(trials, 1), "note"), "sobol");
    hone_msg_destroy(&reply);

    /* worker: ready, progress, complete */
    hone_msg_t *msg = hone_test_req(&f->seq, HONE_MSG_READY, "alpha");
    assert_int_equal(hone_msg_set_str(msg, "worker", "test-worker"), HONE_OK);
    reply = hone_test_expect(s_call(f, msg), HONE_MSG_TRIAL);
    assert_string_equal(hone_test_str(reply, "experiment"), "alpha");
    assert_int_equal(hone_test_int(reply, "trial"), 2);
    assert_string_equal(hone_test_str(reply, "note"), "sobol");
    assert_non_null(hone_msg_get(reply, "params"));
    hone_msg_destroy(&reply);

    msg = s_trial_req(f, HONE_MSG_HEARTBEAT, NULL, 2);
    uint64_t hb_seq = hone_msg_seq(msg);
    reply = hone_test_expect(s_call(f, msg), HONE_MSG_HEARTBEAT);
    assert_int_equal(hone_msg_seq(reply), hb_seq);
    hone_msg_destroy(&reply);

    msg = s_trial_req(f, HONE_MSG_PROGRESS, "alpha", 2);
    s_metric(msg, "obj", 3.0, 0.1, true);
    assert_int_equal(hone_msg_set_int(msg, "progression", 10), HONE_OK);
    hone_test_expect_destroy(s_call(f, msg), HONE_MSG_OK);
    msg = s_trial_req(f, HONE_MSG_COMPLETE, "alpha", 2);
    s_metric(msg, "obj", 1.5, 0, false);
    s_metric(msg, "aux", 7, -1, true);
    reply = hone_test_expect(s_call(f, msg), HONE_MSG_OK);
    assert_string_equal(hone_test_str(reply, "status"), "COMPLETED");
    hone_msg_destroy(&reply);

    /* client: attach + mark, mark with metrics, abandon */
    msg = s_trial_req(f, HONE_MSG_ATTACH, "alpha", 0);
    s_metric(msg, "obj", 9.0, 0.5, true);
    hone_test_expect_destroy(s_call(f, msg), HONE_MSG_OK);
    msg = s_mark_req(f, "alpha", 0, "COMPLETED");
    s_metric(msg, "obj", 4.0, 0, false);
    reply = hone_test_expect(s_call(f, msg), HONE_MSG_OK);
    assert_string_equal(hone_test_str(reply, "status"), "COMPLETED");
    hone_msg_destroy(&reply);
    msg = s_mark_req(f, "alpha", 1, "ABANDONED");
    assert_int_equal(hone_msg_set_str(msg, "reason", "node lost"), HONE_OK);
    hone_test_expect_destroy(s_call(f, msg), HONE_MSG_OK);
    /* marking the status a trial already has succeeds */
    hone_test_expect_destroy(s_call(f, s_mark_req(f, "alpha", 0, "COMPLETED")), HONE_MSG_OK);

    reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_BEST, "alpha")), HONE_MSG_OK);
    assert_int_equal(hone_test_int(reply, "trial"), 2);
    assert_string_equal(hone_test_str(reply, "metric"), "obj");
    double value = 0;
    assert_int_equal(hone_msg_get_float(reply, "value", &value, NULL), HONE_OK);
    assert_true(value == 1.5);
    assert_null(hone_msg_get(reply, "sem"));     /* nil: unknown */
    bool minimize = false;
    assert_int_equal(hone_msg_get_bool(reply, "minimize", &minimize, NULL), HONE_OK);
    assert_true(minimize);
    hone_msg_destroy(&reply);

    reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_STATUS, "alpha")), HONE_MSG_OK);
    assert_string_equal(hone_test_str(reply, "experiment"), "alpha");
    assert_string_equal(hone_test_str(reply, "objective"), "-obj");
    assert_string_equal(hone_test_str(reply, "method"), "random_search");
    assert_int_equal(hone_test_int(reply, "max_trials"), 0);
    assert_int_equal(hone_test_int(reply, "total"), 3);
    const hone_node_t *counts = hone_msg_get(reply, "counts");
    assert_int_equal(hone_node_int(hone_node_get(counts, "COMPLETED")), 2);
    assert_int_equal(hone_node_int(hone_node_get(counts, "ABANDONED")), 1);
    assert_int_equal(hone_node_int(hone_node_get(counts, "RUNNING")), 0);
    assert_int_equal(hone_node_int(hone_node_get(counts, "FAILED")), 0);
    assert_int_equal(hone_node_int(hone_node_get(counts, "EARLY_STOPPED")), 0);
    assert_int_equal(hone_node_int(hone_node_get(hone_msg_get(reply, "best"), "trial")), 2);
    hone_msg_destroy(&reply);

    reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_LIST, "alpha")), HONE_MSG_OK);
    const hone_node_t *t2 = s_list_trial(reply, 2);
    assert_string_equal(hone_test_node_str(t2, "status"), "COMPLETED");
    const hone_node_t *obj = hone_node_get(hone_node_get(t2, "metrics"), "obj");
    assert_int_equal(hone_node_len(obj), 2);
    assert_true(hone_node_float(hone_node_at(obj, 0)) == 1.5);   /* no step wins over step 10 */
    assert_int_equal(hone_node_type(hone_node_at(obj, 1)), HONE_NODE_NIL);
    assert_non_null(hone_node_get(hone_node_get(t2, "metrics"), "aux"));
    assert_int_equal(hone_node_int(hone_node_get(t2, "progression")), 10);
    const hone_node_t *t1 = s_list_trial(reply, 1);
    assert_string_equal(hone_test_node_str(t1, "status"), "ABANDONED");
    assert_string_equal(hone_test_node_str(t1, "reason"), "node lost");
    assert_null(hone_node_get(t1, "progression"));
    const hone_node_t *t0m = hone_node_get(hone_node_get(s_list_trial(reply, 0), "metrics"), "obj");
    assert_true(hone_node_float(hone_node_at(t0m, 0)) == 4.0);   /* replaced */
    hone_msg_destroy(&reply);

    /* a REQ peer (empty delimiter frame) is answered the same way */
    zsock_t *req = zsock_new(ZMQ_REQ);
    zsock_set_linger(req, 0);
    assert_int_equal(zsock_connect(req, "%s", f->broker->endpoint), 0);
    msg = hone_test_req(&f->seq, HONE_MSG_STATUS, "alpha");
    reply = hone_test_expect(hone_peer_call(req, msg, S_REPLY_TIMEOUT_MS), HONE_MSG_OK);
    assert_int_equal(hone_test_int(reply, "total"), 3);
    hone_msg_destroy(&reply);
    zsock_destroy(&req);

    /* a peer that leaves before its reply does not disturb the broker */
    zsock_t *gone = hone_peer_connect(f->broker->endpoint);
    msg = hone_test_req(&f->seq, HONE_MSG_LIST, "alpha");
    hone_peer_send(gone, &msg);
    zsock_destroy(&gone);

    /* a config without a seed gets one drawn by the broker, reported back */
    char config[1024];
    reply = hone_test_expect(s_create(f, s_config(config, sizeof config, "beta", -1, 0)), HONE_MSG_OK);
    assert_true(hone_test_int(reply, "seed") >= 0);
    hone_msg_destroy(&reply);
}

static void test_two_experiments_and_budget(void **state)
{
    fixture_t *f = *state;
    s_create_ok(f, "one", 5, 0);
    s_create_ok(f, "two", 5, 2);

    hone_msg_t *r1 = hone_test_expect(s_next(f, "one", 1), HONE_MSG_OK);
    hone_msg_t *r2 = hone_test_expect(s_next(f, "two", 5), HONE_MSG_OK);    /* fewer than asked */
    assert_int_equal(hone_node_len(hone_msg_get(r1, "trials")), 1);
    assert_int_equal(hone_node_len(hone_msg_get(r2, "trials")), 2);
    hone_msg_destroy(&r1);
    hone_msg_destroy(&r2);
    r1 = hone_test_expect(s_next(f, "one", 3), HONE_MSG_OK);
    const hone_node_t *trials = hone_msg_get(r1, "trials");
    assert_int_equal(hone_node_int(hone_node_get(hone_node_at(trials, 0), "trial")), 1);
    hone_msg_destroy(&r1);

    /* two's budget is out while its trials run */
    hone_test_expect_error(s_next(f, "two", 1), HONE_EAGAIN, NULL);
    hone_msg_t *reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_READY, "two")), HONE_MSG_NO_WORK);
    assert_int_equal(hone_test_int(reply, "retry_ms"), 250);
    bool done = true;
    assert_int_equal(hone_msg_get_bool(reply, "done", &done, NULL), HONE_OK);
    assert_false(done);
    assert_true(strlen(hone_test_str(reply, "reason")) > 0);
    hone_msg_destroy(&reply);

    for (int i = 0; i < 2; i++) {
        hone_msg_t *msg = s_trial_req(f, HONE_MSG_COMPLETE, "two", i);
        s_metric(msg, "obj", i, 0, false);
        hone_test_expect_destroy(s_call(f, msg), HONE_MSG_OK);
    }
    reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_READY, "two")), HONE_MSG_NO_WORK);
    assert_int_equal(hone_test_int(reply, "retry_ms"), 0);
    assert_int_equal(hone_msg_get_bool(reply, "done", &done, NULL), HONE_OK);
    assert_true(done);
    hone_msg_destroy(&reply);
    hone_test_expect_error(s_next(f, "two", 1), HONE_EDONE, NULL);

    /* "one" is untouched by "two" */
    reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_STATUS, "one")), HONE_MSG_OK);
    assert_int_equal(hone_test_int(reply, "total"), 4);
    assert_int_equal(hone_node_int(hone_node_get(hone_msg_get(reply, "counts"), "RUNNING")), 4);
    assert_null(hone_msg_get(reply, "best"));
    hone_msg_destroy(&reply);
    reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_STATUS, "two")), HONE_MSG_OK);
    assert_int_equal(hone_test_int(reply, "total"), 2);
    assert_int_equal(hone_test_int(reply, "max_trials"), 2);
    assert_int_equal(hone_node_int(hone_node_get(hone_msg_get(reply, "best"), "trial")), 0);
    hone_msg_destroy(&reply);
}

static void test_errors_change_nothing(void **state)
{
    fixture_t *f = *state;
    s_create_ok(f, "base", 3, 10);
    hone_msg_t *reply = hone_test_expect(s_next(f, "base", 3), HONE_MSG_OK);
    hone_msg_destroy(&reply);
    hone_msg_t *msg = s_trial_req(f, HONE_MSG_COMPLETE, "base", 0);
    s_metric(msg, "obj", 1.0, 0, false);
    hone_test_expect_destroy(s_call(f, msg), HONE_MSG_OK);
    msg = s_trial_req(f, HONE_MSG_FAIL, "base", 1);
    assert_int_equal(hone_msg_set_str(msg, "reason", "crashed"), HONE_OK);
    reply = hone_test_expect(s_call(f, msg), HONE_MSG_OK);
    assert_string_equal(hone_test_str(reply, "status"), "FAILED");
    hone_msg_destroy(&reply);
    char *before = s_list_text(f, "base");

    /* invalid configurations, one rule each */
    static const char *const bad_configs[] = {
        "not json",
        "[1, 2]",
        "{\"parameters\": [{\"name\": \"x\", \"bounds\": [0, 1], \"parameter_type\": \"float\"}], \"objective\": \"y\"}",
        "{\"name\": \"bad name!\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0, 1], \"parameter_type\": \"float\"}], \"objective\": \"y\"}",
        "{\"name\": \"c\", \"parameters\": [], \"objective\": \"y\"}",
        "{\"name\": \"c\", \"parameters\": [{\"name\": \"x\", \"bounds\": [1, 0], \"parameter_type\": \"float\"}], \"objective\": \"y\"}",
        "{\"name\": \"c\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0, 1], \"parameter_type\": \"complex\"}], \"objective\": \"y\"}",
        "{\"name\": \"c\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0, 1], \"parameter_type\": \"float\", \"scaling\": \"log\"}], \"objective\": \"y\"}",
        "{\"name\": \"c\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0, 1], \"parameter_type\": \"float\"}]}",
        "{\"name\": \"c\", \"parameters\": [{\"name\": \"x\", \"values\": [], \"parameter_type\": \"str\"}], \"objective\": \"y\"}",
        "{\"name\": \"c\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0, 1], \"parameter_type\": \"float\"}], \"objective\": \"y\", \"max_trials\": -1}",
    };
    for (size_t i = 0; i < sizeof bad_configs / sizeof bad_configs[0]; i++)
        hone_test_expect_error(s_create(f, bad_configs[i]), HONE_EINVAL, NULL);
    /* no config */
    hone_test_expect_error(s_call(f, hone_test_req(&f->seq, HONE_MSG_CREATE, NULL)), HONE_EPROTO, NULL);
    msg = hone_test_req(&f->seq, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_int(msg, "config", 3), HONE_OK);
    hone_test_expect_error(s_call(f, msg), HONE_EPROTO, NULL);         /* wrong type */
    char config[1024];
    hone_test_expect_error(s_create(f, s_config(config, sizeof config, "base", 4, 0)), HONE_EEXIST, NULL);

    /* unknown experiment, unknown trial */
    hone_test_expect_error(s_next(f, "nope", 1), HONE_ENOTFOUND, NULL);
    hone_test_expect_error(s_call(f, hone_test_req(&f->seq, HONE_MSG_READY, "nope")), HONE_ENOTFOUND, NULL);
    hone_test_expect_error(s_call(f, hone_test_req(&f->seq, HONE_MSG_LIST, "nope")), HONE_ENOTFOUND, NULL);
    hone_test_expect_error(s_call(f, hone_test_req(&f->seq, HONE_MSG_BEST, "nope")), HONE_ENOTFOUND, NULL);
    hone_test_expect_error(s_call(f, s_mark_req(f, "base", 99, "COMPLETED")), HONE_ENOTFOUND, NULL);
    msg = s_trial_req(f, HONE_MSG_ATTACH, "base", 99);
    s_metric(msg, "obj", 1, 0, false);
    hone_test_expect_error(s_call(f, msg), HONE_ENOTFOUND, NULL);

    /* readings for trials that are not running (worker role) */
    msg = s_trial_req(f, HONE_MSG_PROGRESS, "base", 0);
    s_metric(msg, "obj", 2.0, 0, false);
    hone_test_expect_error(s_call(f, msg), HONE_ESTATE, NULL);
    msg = s_trial_req(f, HONE_MSG_COMPLETE, "base", 1);
    s_metric(msg, "obj", 2.0, 0, false);
    hone_test_expect_error(s_call(f, msg), HONE_ESTATE, NULL);

    /* illegal transitions */
    hone_test_expect_error(s_call(f, s_trial_req(f, HONE_MSG_COMPLETE, "base", 1)), HONE_ESTATE, NULL);
    hone_test_expect_error(s_call(f, s_mark_req(f, "base", 1, "COMPLETED")), HONE_ESTATE, NULL);
    hone_test_expect_error(s_call(f, s_mark_req(f, "base", 0, "FAILED")), HONE_ESTATE, NULL);
    hone_test_expect_error(s_call(f, s_mark_req(f, "base", 0, "ABANDONED")), HONE_ESTATE, NULL);
    hone_test_expect_error(s_call(f, s_mark_req(f, "base", 2, "EARLY_STOPPED")), HONE_ESTATE, NULL);  /* no data */
    msg = s_mark_req(f, "base", 1, "COMPLETED");       /* metrics must not stick on failure */
    s_metric(msg, "obj", -100, 0, false);
    hone_test_expect_error(s_call(f, msg), HONE_ESTATE, NULL);

    /* bad field values and types */
    hone_test_expect_error(s_call(f, s_mark_req(f, "base", 2, "DONE")), HONE_EINVAL, NULL);
    hone_test_expect_error(s_call(f, s_mark_req(f, "base", 2, "RUNNING")), HONE_EINVAL, NULL);
    msg = s_mark_req(f, "base", 2, "FAILED");
    s_metric(msg, "obj", 1, 0, false);
    hone_test_expect_error(s_call(f, msg), HONE_EINVAL, NULL);
    hone_test_expect_error(s_next(f, "base", 1001), HONE_EINVAL, NULL);
    msg = hone_test_req(&f->seq, HONE_MSG_NEXT, "base");
    assert_int_equal(hone_msg_set_int(msg, "count", 0), HONE_OK);
    hone_test_expect_error(s_call(f, msg), HONE_EINVAL, NULL);
    msg = hone_test_req(&f->seq, HONE_MSG_NEXT, "base");
    assert_int_equal(hone_msg_set_int(msg, "count", -1), HONE_OK);
    hone_test_expect_error(s_call(f, msg), HONE_EPROTO, NULL);
    msg = hone_test_req(&f->seq, HONE_MSG_NEXT, "base");
    assert_int_equal(hone_msg_set_str(msg, "count", "two"), HONE_OK);
    hone_test_expect_error(s_call(f, msg), HONE_EPROTO, NULL);
    /* no experiment */
    hone_test_expect_error(s_call(f, hone_test_req(&f->seq, HONE_MSG_NEXT, NULL)), HONE_EPROTO, NULL);
    /* no trial */
    hone_test_expect_error(s_call(f, hone_test_req(&f->seq, HONE_MSG_PROGRESS, "base")), HONE_EPROTO, NULL);
    /* no metrics */
    hone_test_expect_error(s_call(f, s_trial_req(f, HONE_MSG_PROGRESS, "base", 2)), HONE_EPROTO, NULL);
    msg = s_trial_req(f, HONE_MSG_ATTACH, "base", 2);
    assert_int_equal(hone_msg_set_str(msg, "metrics", "lots"), HONE_OK);
    hone_test_expect_error(s_call(f, msg), HONE_EPROTO, NULL);
    msg = s_trial_req(f, HONE_MSG_ATTACH, "base", 2);
    hone_node_t *metrics = hone_node_add_map(hone_msg_body(msg), "metrics");
    assert_non_null(hone_node_add_str(metrics, "obj", "high"));
    hone_test_expect_error(s_call(f, msg), HONE_EPROTO, NULL);
    msg = s_trial_req(f, HONE_MSG_ATTACH, "base", 2);
    metrics = hone_node_add_map(hone_msg_body(msg), "metrics");
    hone_node_t *pair = hone_node_add_array(metrics, "obj");
    assert_non_null(hone_node_add_float(pair, NULL, 1.0));
    assert_non_null(hone_node_add_float(pair, NULL, -0.5));      /* a negative sem */
    hone_test_expect_error(s_call(f, msg), HONE_EINVAL, NULL);
    msg = s_trial_req(f, HONE_MSG_ATTACH, "base", 2);
    s_metric(msg, "obj", NAN, 0, false);         /* a NaN mean */
    hone_test_expect_error(s_call(f, msg), HONE_EINVAL, NULL);
    msg = s_trial_req(f, HONE_MSG_ATTACH, "base", 2);
    s_metric(msg, "ok", 1.0, 0, false);
    s_metric(msg, "bad", INFINITY, 0, false);    /* all or nothing */
    hone_test_expect_error(s_call(f, msg), HONE_EINVAL, NULL);
    s_create_ok(f, "empty", 1, 0);
    hone_test_expect_error(s_call(f, hone_test_req(&f->seq, HONE_MSG_BEST, "empty")), HONE_EDATA, NULL);

    /* wire-level errors: each gets an error reply, seq when the header is readable */
    hone_peer_send_bytes(f->client, "\xc1garbage", 8);
    hone_test_expect_error(hone_peer_recv(f->client, S_REPLY_TIMEOUT_MS), HONE_EPROTO, NULL);
    hone_peer_send_bytes(f->client, "", 0);
    hone_test_expect_error(hone_peer_recv(f->client, S_REPLY_TIMEOUT_MS), HONE_EPROTO, NULL);

    size_t size = 0;
    msg = hone_test_req(&f->seq, HONE_MSG_LIST, "base");
    uint8_t *data = hone_test_encode(msg, &size);
    hone_peer_send_bytes(f->client, data, size - 3);                      /* truncated */
    hone_test_expect_error(hone_peer_recv(f->client, S_REPLY_TIMEOUT_MS), HONE_EPROTO, NULL);
    uint8_t *type = memmem(data, size, "list", 4);
    assert_non_null(type);
    type[3] = 'x';                                                 /* unknown type "lisx" */
    hone_peer_send_bytes(f->client, data, size);
    hone_msg_t *got = hone_peer_recv_seq(f->client, hone_msg_seq(msg), S_REPLY_TIMEOUT_MS);
    hone_test_expect_error(got, HONE_EPROTO, NULL);
    type[3] = 't';
    assert_int_equal(data[0], 0x95);
    assert_int_equal(data[6], 0x01);
    data[6] = 99;                                                  /* version 99 */
    hone_peer_send_bytes(f->client, data, size);
    got = hone_peer_recv_seq(f->client, hone_msg_seq(msg), S_REPLY_TIMEOUT_MS);
    hone_test_expect_error(got, HONE_EVERSION, NULL);
    free(data);
    hone_msg_destroy(&msg);

    /* a reply type */
    hone_test_expect_error(s_call(f, hone_test_req(&f->seq, HONE_MSG_OK, NULL)), HONE_EPROTO, NULL);
    hone_test_expect_error(s_call(f, hone_test_req(&f->seq, HONE_MSG_TRIAL, "base")), HONE_EPROTO, NULL);

    /* over a protocol limit (a 70 KiB string) but under the socket's frame limit */
    uint64_t big_seq = ++f->seq;
    data = s_oversized_create(big_seq, 70 << 10, &size);
    hone_peer_send_bytes(f->client, data, size);
    free(data);
    got = hone_peer_recv_seq(f->client, big_seq, S_REPLY_TIMEOUT_MS);
    hone_test_expect_error(got, HONE_ETOOBIG, NULL);

    /* several frames in one message */
    zmsg_t *multi = zmsg_new();
    zmsg_addstr(multi, "one");
    zmsg_addstr(multi, "two");
    assert_int_equal(zmsg_send(&multi, f->client), 0);
    hone_test_expect_error(hone_peer_recv(f->client, S_REPLY_TIMEOUT_MS), HONE_EPROTO, NULL);

    /* above the socket's frame limit: libzmq drops the connection, the broker lives on */
    zsock_t *rogue = hone_peer_connect(f->broker->endpoint);
    size = HONE_PROTO_MAX_BYTES + 1024;
    data = calloc(1, size);
    hone_peer_send_bytes(rogue, data, size);
    free(data);
    zpoller_t *poller = zpoller_new(rogue, NULL);
    assert_null(zpoller_wait(poller, 500));
    zpoller_destroy(&poller);
    zsock_destroy(&rogue);

    /* nothing changed, and the broker still answers */
    char *after = s_list_text(f, "base");
    assert_string_equal(before, after);
    free(before);
    free(after);
    reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_HEARTBEAT, NULL)), HONE_MSG_HEARTBEAT);
    hone_msg_destroy(&reply);
    reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_STATUS, "base")), HONE_MSG_OK);
    assert_int_equal(hone_test_int(reply, "total"), 3);
    hone_msg_destroy(&reply);
}

/* ---- storage failures, in process: handlers over a store that cannot grow ---- */

/* The `list` reply of the handlers in h, as text with seq 0. */
static char *s_local_list(hone_harness_t *h, const char *name)
{
    hone_msg_t *reply = hone_harness_call(h, "peer", hone_test_req(&h->seq, HONE_MSG_LIST, name));
    reply = hone_test_expect(reply, HONE_MSG_OK);
    return hone_test_reply_text(&reply);
}

static void test_store_full_changes_nothing(void **state)
{
    fixture_t *f = *state;
    hone_store_options_t options = { .map_size = 96 << 10, .map_size_max = 1 };   /* never grows */
    hone_log_set_sink(hone_log_sink_null, NULL);    /* the store failures below are expected */
    hone_harness_t *h = hone_harness_new("broker-small");
    h->now = 0;
    hone_harness_open(h, &options);

    char config[1024];
    hone_msg_t *msg = hone_test_req(&f->seq, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", s_config(config, sizeof config, "tight", 8, 0)), HONE_OK);
    hone_test_expect_destroy(hone_harness_call(h, "peer", msg), HONE_MSG_OK);
    msg = hone_test_req(&f->seq, HONE_MSG_NEXT, "tight");
    assert_int_equal(hone_msg_set_int(msg, "count", 3), HONE_OK);
    hone_test_expect_destroy(hone_harness_call(h, "peer", msg), HONE_MSG_OK);
    msg = s_trial_req(f, HONE_MSG_ATTACH, "tight", 0);
    s_metric(msg, "obj", 1.0, 0, false);
    hone_test_expect_destroy(hone_harness_call(h, "peer", msg), HONE_MSG_OK);
    char *before = s_local_list(h, "tight");

    /* one attach with 400 long metric names does not fit in the map */
    msg = s_trial_req(f, HONE_MSG_ATTACH, "tight", 1);
    char metric[HONE_STORE_METRIC_MAX + 1];
    memset(metric, 'm', 200);
    for (int i = 0; i < 400; i++) {
        snprintf(metric + 200, sizeof metric - 200, "%d", i);
        s_metric(msg, metric, i, 0, false);
    }
    hone_test_expect_error(hone_harness_call(h, "peer", msg), HONE_ESTORE, NULL);
    /* a mark with metrics: the status change is undone along with the readings */
    msg = s_mark_req(f, "tight", 2, "COMPLETED");
    for (int i = 0; i < 400; i++) {
        snprintf(metric + 200, sizeof metric - 200, "%d", i);
        s_metric(msg, metric, i, 0, false);
    }
    hone_test_expect_error(hone_harness_call(h, "peer", msg), HONE_ESTORE, NULL);
    char *after = s_local_list(h, "tight");
    assert_string_equal(before, after);
    free(after);

    /* small changes still work, and memory matches what a reload finds */
    msg = s_mark_req(f, "tight", 2, "ABANDONED");
    hone_test_expect_destroy(hone_harness_call(h, "peer", msg), HONE_MSG_OK);
    char *live = s_local_list(h, "tight");
    hone_harness_close(h);
    hone_harness_open(h, &options);
    char *reloaded = s_local_list(h, "tight");
    assert_string_equal(live, reloaded);
    assert_non_null(strstr(reloaded, "ABANDONED"));
    free(live);
    free(reloaded);
    free(before);
    hone_harness_destroy(&h);
    hone_log_set_sink(NULL, NULL);
}

/* ---- replies near the frame limit ---- */

static void test_reply_size_limits(void **state)
{
    fixture_t *f = *state;
    /* 40 parameters with 120-character names: about 5.3 KB per trial on the wire */
    size_t cap = 16384, len = 0;
    char *config = malloc(cap);
    len += (size_t) snprintf(config + len, cap - len, "{\"name\": \"wide\", \"parameters\": [");
    for (int i = 0; i < 40; i++) {
        char name[121];
        memset(name, 'p', 120);
        snprintf(name + 115, 6, "%05d", i);
        len += (size_t) snprintf(config + len, cap - len,
                                 "%s{\"name\": \"%s\", \"bounds\": [0, 1], \"parameter_type\": \"float\"}",
                                 i ? ", " : "", name);
    }
    snprintf(config + len, cap - len, "], \"objective\": \"y\", "
             "\"generation_strategy\": {\"initialization_random_seed\": 2}}");
    hone_msg_t *reply = hone_test_expect(s_create(f, config), HONE_MSG_OK);
    hone_msg_destroy(&reply);
    free(config);

    /* `next` makes only as many trials as one reply can carry */
    size_t made = 0;
    for (int round = 0; round < 2; round++) {
        reply = hone_test_expect(s_next(f, "wide", 1000), HONE_MSG_OK);
        size_t n = hone_node_len(hone_msg_get(reply, "trials"));
        assert_true(n >= 100 && n < 1000);
        assert_int_equal(hone_node_int(hone_node_get(hone_node_at(hone_msg_get(reply, "trials"), 0), "trial")),
                         made);
        made += n;
        hone_msg_destroy(&reply);
    }
    /* `list` of all of them exceeds the frame limit: HONE_ETOOBIG, and nothing breaks */
    hone_test_expect_error(s_call(f, hone_test_req(&f->seq, HONE_MSG_LIST, "wide")), HONE_ETOOBIG, NULL);
    reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_STATUS, "wide")), HONE_MSG_OK);
    assert_int_equal(hone_test_int(reply, "total"), made);
    hone_msg_destroy(&reply);
}

/* ---- predictions ---- */

/* The objective of the predict test: smooth and known everywhere. */
static double s_bowl(double x1, double x2)
{
    return 10.0 * ((x1 - 0.3) * (x1 - 0.3) + (x2 - 0.6) * (x2 - 0.6));
}

/* A `predict` request for the points (x1, x2). */
static hone_msg_t *s_predict_req(fixture_t *f, const char *name, size_t n, const double (*xs)[2])
{
    hone_msg_t *msg = hone_test_req(&f->seq, HONE_MSG_PREDICT, name);
    hone_node_t *points = hone_node_add_array(hone_msg_body(msg), "points");
    assert_non_null(points);
    for (size_t i = 0; i < n; i++) {
        hone_node_t *point = hone_node_add_map(points, NULL);
        assert_non_null(hone_node_add_float(point, "x1", xs[i][0]));
        assert_non_null(hone_node_add_float(point, "x2", xs[i][1]));
    }
    return msg;
}

/* Prediction i of an `ok` reply to predict. */
static void s_prediction(const hone_msg_t *reply, size_t i, double *mean, double *sem)
{
    const hone_node_t *p = hone_node_at(hone_msg_get(reply, "predictions"), i);
    assert_non_null(p);
    assert_int_equal(hone_node_len(p), 2);
    assert_int_equal(hone_node_type(hone_node_get(p, "mean")), HONE_NODE_FLOAT);
    assert_int_equal(hone_node_type(hone_node_get(p, "sem")), HONE_NODE_FLOAT);
    *mean = hone_node_float(hone_node_get(p, "mean"));
    *sem = hone_node_float(hone_node_get(p, "sem"));
}

static void test_predict(void **state)
{
    fixture_t *f = *state;
    hone_msg_t *reply = hone_test_expect(s_create(f, "{\"name\": \"bowl\", \"parameters\": ["
                                             "{\"name\": \"x1\", \"bounds\": [0.0, 1.0], \"parameter_type\": \"float\"},"
                                             "{\"name\": \"x2\", \"bounds\": [0.0, 1.0], \"parameter_type\": \"float\"}],"
                                             " \"parameter_constraints\": [\"x1 + x2 <= 1.8\"], \"objective\": \"-y\","
                                             " \"generation_strategy\": {\"method\": \"random_search\","
                                             " \"initialization_random_seed\": 3}}"),
                                 HONE_MSG_OK);
    hone_msg_destroy(&reply);
    static const double center[1][2] = { { 0.5, 0.5 } };
    hone_test_expect_error(s_call(f, s_predict_req(f, "bowl", 1, center)), HONE_EDATA, "(0 so far)");

    /* 24 trials; those with x1 <= 0.5 are completed with the bowl's value and the others
     * stay running, so the corner (1, 0) is far from every observation */
    enum { N = 24 };
    reply = hone_test_expect(s_next(f, "bowl", N), HONE_MSG_OK);
    const hone_node_t *trials = hone_msg_get(reply, "trials");
    assert_int_equal(hone_node_len(trials), N);
    double observed[N][3];
    int n_obs = 0;
    for (int t = 0; t < N; t++) {
        const hone_node_t *params = hone_node_get(hone_node_at(trials, (size_t) t), "params");
        double x1 = hone_node_float(hone_node_get(params, "x1")), x2 = hone_node_float(hone_node_get(params, "x2"));
        if (x1 > 0.5)
            continue;
        hone_msg_t *msg = s_mark_req(f, "bowl", t, "COMPLETED");
        s_metric(msg, "y", s_bowl(x1, x2), 0.01, true);     /* a known SEM: fixed noise */
        hone_test_expect_destroy(s_call(f, msg), HONE_MSG_OK);
        observed[n_obs][0] = x1;
        observed[n_obs][1] = x2;
        observed[n_obs][2] = s_bowl(x1, x2);
        if (++n_obs == 1)   /* one observation is not a model yet */
            hone_test_expect_error(s_call(f, s_predict_req(f, "bowl", 1, center)), HONE_EDATA, "(1 so far)");
    }
    hone_msg_destroy(&reply);
    assert_true(n_obs >= 8);
    double lo = observed[0][2], hi = lo;
    for (int i = 0; i < n_obs; i++) {
        lo = observed[i][2] < lo ? observed[i][2] : lo;
        hi = observed[i][2] > hi ? observed[i][2] : hi;
    }
    double spread = hi - lo;
    char *before = s_list_text(f, "bowl");

    /* two observed points and the far corner, answered in the order asked */
    const double points[3][2] = { { observed[0][0], observed[0][1] }, { 1.0, 0.0 },
                                  { observed[n_obs - 1][0], observed[n_obs - 1][1] } };
    reply = hone_test_expect(s_call(f, s_predict_req(f, "bowl", 3, points)), HONE_MSG_OK);
    assert_string_equal(hone_test_str(reply, "metric"), "y");
    assert_int_equal(hone_node_len(hone_msg_get(reply, "predictions")), 3);
    double mean[3], sem[3];
    for (size_t i = 0; i < 3; i++)
        s_prediction(reply, i, &mean[i], &sem[i]);
    hone_msg_destroy(&reply);
    fprintf(stderr, "predict on %d observations (spread %.3f): observed %.4f -> %.4f ± %.4f, %.4f -> %.4f ± %.4f; "
            "far corner %.4f ± %.4f (true %.4f)\n", n_obs, spread, observed[0][2], mean[0], sem[0],
            observed[n_obs - 1][2], mean[2], sem[2], mean[1], sem[1], s_bowl(1.0, 0.0));
    /* at an observation the posterior of f is no wider than the reading's SEM (0.01, up
     * to the Cholesky jitter) and its mean within a few SEMs of the reading; far from
     * the data it is much wider */
    for (size_t i = 0; i < 3; i += 2) {
        double y = i == 0 ? observed[0][2] : observed[n_obs - 1][2];
        assert_true(fabs(mean[i] - y) < 0.03 && fabs(mean[i] - y) < 0.02 * spread);
        assert_true(sem[i] > 0 && sem[i] < 0.0105);
    }
    assert_true(sem[1] > 10 * sem[0] && sem[1] > 10 * sem[2] && sem[1] > 0.05 * spread);

    /* errors, each naming the field and the rule */
    hone_test_expect_error(s_call(f, s_predict_req(f, "nope", 1, center)), HONE_ENOTFOUND, NULL);
    hone_test_expect_error(s_call(f, hone_test_req(&f->seq, HONE_MSG_PREDICT, "bowl")), HONE_EPROTO,
                           "missing field 'points'");
    hone_msg_t *msg = hone_test_req(&f->seq, HONE_MSG_PREDICT, "bowl");
    assert_int_equal(hone_msg_set_str(msg, "points", "all"), HONE_OK);
    hone_test_expect_error(s_call(f, msg), HONE_EPROTO, "field 'points' must be array");
    hone_test_expect_error(s_call(f, s_predict_req(f, "bowl", 0, center)), HONE_EINVAL, "1 to 1000 points, not 0");
    static double many[1001][2];
    for (int i = 0; i < 1001; i++) {
        many[i][0] = 0.001 * i;
        many[i][1] = 0.5;
    }
    hone_test_expect_error(s_call(f, s_predict_req(f, "bowl", 1001, many)), HONE_EINVAL, "not 1001");
    reply = hone_test_expect(s_call(f, s_predict_req(f, "bowl", 1000, many)), HONE_MSG_OK);   /* the limit */
    assert_int_equal(hone_node_len(hone_msg_get(reply, "predictions")), 1000);
    hone_msg_destroy(&reply);
    msg = s_predict_req(f, "bowl", 1, center);
    assert_non_null(hone_node_add_int((hone_node_t *) hone_msg_get(msg, "points"), NULL, 7));
    hone_test_expect_error(s_call(f, msg), HONE_EPROTO, "points[1] must be map, not int");
    msg = s_predict_req(f, "bowl", 2, points);
    hone_node_t *second = (hone_node_t *) hone_node_at(hone_msg_get(msg, "points"), 1);
    assert_non_null(hone_node_add_float(second, "x9", 0.5));
    hone_test_expect_error(s_call(f, msg), HONE_EINVAL, "points[1]: unknown parameter 'x9'");
    msg = hone_test_req(&f->seq, HONE_MSG_PREDICT, "bowl");
    hone_node_t *point = hone_node_add_map(hone_node_add_array(hone_msg_body(msg), "points"), NULL);
    assert_non_null(hone_node_add_float(point, "x1", 0.5));
    hone_test_expect_error(s_call(f, msg), HONE_EINVAL, "points[0]: parameter 'x2' is missing");
    msg = hone_test_req(&f->seq, HONE_MSG_PREDICT, "bowl");
    point = hone_node_add_map(hone_node_add_array(hone_msg_body(msg), "points"), NULL);
    assert_non_null(hone_node_add_float(point, "x1", 0.5));
    assert_non_null(hone_node_add_str(point, "x2", "high"));
    hone_test_expect_error(s_call(f, msg), HONE_EINVAL, "points[0]: parameter 'x2' must be float, not str");
    static const double outside[2][2] = { { 0.5, 0.5 }, { 1.5, 0.0 } };
    hone_test_expect_error(s_call(f, s_predict_req(f, "bowl", 2, outside)), HONE_EINVAL,
                           "points[1]: parameter 'x1': value 1.5 is outside the bounds");
    static const double infeasible[1][2] = { { 1.0, 1.0 } };
    hone_test_expect_error(s_call(f, s_predict_req(f, "bowl", 1, infeasible)), HONE_EINVAL,
                           "points[0]: violates the parameter constraint");

    /* a prediction changes nothing */
    char *after = s_list_text(f, "bowl");
    assert_string_equal(before, after);
    free(before);
    free(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_next_complete_best, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_experiments_and_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_full_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_size_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_predict, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
