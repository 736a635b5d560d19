#define _GNU_SOURCE
/* Tests of the hone-broker program: a real broker process on a temporary directory
 * and an ipc endpoint, driven by a raw DEALER socket speaking the protocol through the
 * proto codec. Every wait is bounded (zpoller with timeouts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker_harness.h"
#include "err.h"
#include "log.h"
#include "proc.h"
#include "test_support.h"
#include "wire.h"

#include "peer.h"   /* after the hone headers: czmq defines a streq macro */

#define S_REPLY_TIMEOUT_MS 5000

typedef struct {
    hone_test_broker_t *broker; /* the hone-broker process, on an ipc endpoint */
    zsock_t *client;            /* DEALER connected to the broker */
    uint64_t seq;               /* last seq used */
} fixture_t;

static void s_start(fixture_t *f)
{
    assert_int_equal(hone_test_broker_start(f->broker, NULL), 0);
    f->client = hone_peer_connect(f->broker->endpoint);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->broker = hone_test_broker_new("broker", HONE_TEST_IPC);
    f->seq = 100;
    s_start(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    zsock_destroy(&f->client);
    if (f->broker->pid > 0) {
        /* a clean stop on SIGTERM exits with status 0 */
        int status = hone_test_broker_wait(f->broker, SIGTERM, 5000);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    hone_test_broker_show_log(f->broker);
    char *log = hone_test_read_file(f->broker->log, NULL);
    assert_non_null(log);
    assert_null(strstr(log, "ERROR"));    /* nothing in these tests is a broker failure */
    free(log);
    hone_test_broker_destroy(&f->broker);
    free(f);
    return 0;
}

/* ---- talking to the broker ---- */

/* Sends the request (taken) on the client and returns its reply. */
static hone_msg_t *s_call(fixture_t *f, hone_msg_t *msg)
{
    return hone_peer_call(f->client, msg, S_REPLY_TIMEOUT_MS);
}

/* ---- requests ---- */

static const char *s_config(char *buf, size_t size, const char *name, long seed, int max_trials)
{
    /* Random search: these tests are about the broker, and its restart test compares a
     * restored experiment with an uninterrupted twin that has no data. */
    char seed_part[128] = ", \"generation_strategy\": {\"method\": \"random_search\"}";
    if (seed >= 0)
        snprintf(seed_part, sizeof seed_part,
                 ", \"generation_strategy\": {\"method\": \"random_search\", \"initialization_random_seed\": %ld}",
                 seed);
    snprintf(buf, size,
             "{\"name\": \"%s\", \"parameters\": ["
             "{\"name\": \"x1\", \"bounds\": [-5.0, 10.0], \"parameter_type\": \"float\"},"
             "{\"name\": \"x2\", \"bounds\": [0, 15], \"parameter_type\": \"int\"},"
             "{\"name\": \"opt\", \"values\": [\"adam\", \"sgd\"], \"parameter_type\": \"str\"}],"
             " \"objective\": \"-obj\"%s, \"max_trials\": %d}",
             name, seed_part, max_trials);
    return buf;
}

static hone_msg_t *s_create(fixture_t *f, const char *config)
{
    hone_msg_t *msg = hone_test_req(&f->seq, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", config), HONE_OK);
    return s_call(f, msg);
}

static void s_create_ok(fixture_t *f, const char *name, long seed, int max_trials)
{
    char config[1024];
    hone_msg_t *reply = hone_test_expect(s_create(f, s_config(config, sizeof config, name, seed, max_trials)),
                                         HONE_MSG_OK);
    assert_string_equal(hone_test_str(reply, "experiment"), name);
    if (seed >= 0)
        assert_int_equal(hone_test_int(reply, "seed"), seed);
    hone_msg_destroy(&reply);
}

static hone_msg_t *s_next(fixture_t *f, const char *name, int count)
{
    hone_msg_t *msg = hone_test_req(&f->seq, HONE_MSG_NEXT, name);
    if (count > 0)
        assert_int_equal(hone_msg_set_int(msg, "count", count), HONE_OK);
    return s_call(f, msg);
}

/* Adds metrics {name: mean} or {name: [mean, sem]} (sem < 0: nil) to a request. */
static void s_metric(hone_msg_t *msg, const char *metric, double mean, double sem, bool pair)
{
    hone_node_t *metrics = (hone_node_t *) hone_msg_get(msg, "metrics");
    if (!metrics)
        metrics = hone_node_add_map(hone_msg_body(msg), "metrics");
    assert_non_null(metrics);
    if (!pair) {
        assert_non_null(hone_node_add_float(metrics, metric, mean));
        return;
    }
    hone_node_t *arr = hone_node_add_array(metrics, metric);
    assert_non_null(hone_node_add_float(arr, NULL, mean));
    if (sem < 0)
        assert_non_null(hone_node_add_nil(arr, NULL));
    else
        assert_non_null(hone_node_add_float(arr, NULL, sem));
}

static hone_msg_t *s_trial_req(fixture_t *f, hone_msg_id_t id, const char *name, int64_t trial)
{
    hone_msg_t *msg = hone_test_req(&f->seq, id, name);
    assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    return msg;
}

static hone_msg_t *s_mark_req(fixture_t *f, const char *name, int64_t trial, const char *status)
{
    hone_msg_t *msg = s_trial_req(f, HONE_MSG_MARK, name, trial);
    assert_int_equal(hone_msg_set_str(msg, "status", status), HONE_OK);
    return msg;
}

/* The `list` reply of an experiment, as text with seq 0 (for before/after comparisons). */
static char *s_list_text(fixture_t *f, const char *name)
{
    hone_msg_t *reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_LIST, name)), HONE_MSG_OK);
    return hone_test_reply_text(&reply);
}

/* Trial index of a `list` reply of all trials. */
static const hone_node_t *s_list_trial(const hone_msg_t *list, uint32_t index)
{
    const hone_node_t *t = hone_test_trial_node(list, index);
    assert_int_equal(hone_node_int(hone_node_get(t, "trial")), index);
    return t;
}

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


/* ---- restart ---- */

typedef enum { OP_ATTACH, OP_MARK, OP_NEXT } op_kind_t;

static const hone_node_t *s_param(const hone_node_t *trial, const char *name)
{
    const hone_node_t *v = hone_node_get(hone_node_get(trial, "params"), name);
    assert_non_null(v);
    return v;
}

static void test_restart_after_sigkill(void **state)
{
    fixture_t *f = *state;
    s_create_ok(f, "live", 42, 0);
    hone_msg_t *reply = hone_test_expect(s_next(f, "live", 10), HONE_MSG_OK);
    hone_msg_destroy(&reply);
    reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_READY, "live")), HONE_MSG_TRIAL);
    assert_int_equal(hone_test_int(reply, "trial"), 10);
    hone_msg_destroy(&reply);

    /* a burst of pipelined changes; the broker is killed after 9 acknowledgements */
    enum { N = 24, ACKED = 9 };
    op_kind_t kinds[N];
    uint64_t seqs[N];
    int args[N];
    for (int k = 0; k < N; k++) {
        hone_msg_t *msg;
        char metric[16];
        if (k % 8 == 7) {
            kinds[k] = OP_NEXT;
            msg = hone_test_req(&f->seq, HONE_MSG_NEXT, "live");
        } else if (k % 2 == 0) {
            kinds[k] = OP_ATTACH;
            args[k] = k;
            msg = s_trial_req(f, HONE_MSG_ATTACH, "live", 0);
            snprintf(metric, sizeof metric, "m%d", k);
            s_metric(msg, metric, k, -1, true);
            assert_int_equal(hone_msg_set_int(msg, "progression", k), HONE_OK);
        } else {
            kinds[k] = OP_MARK;
            args[k] = 1 + k / 2;                   /* trials 1 .. 12, but not 10: */
            if (args[k] >= 10)                     /* it must stay RUNNING, and with */
                args[k]++;                         /* group commit the whole burst may */
                                                   /* be stored before the kill */
            msg = s_mark_req(f, "live", args[k], "COMPLETED");
            s_metric(msg, "obj", k, 0, false);
        }
        seqs[k] = hone_msg_seq(msg);
        hone_peer_send(f->client, &msg);
    }
    bool acked[N] = { false };
    for (int got = 0; got < ACKED; got++) {
        reply = hone_peer_recv(f->client, S_REPLY_TIMEOUT_MS);
        int k = 0;
        while (k < N && seqs[k] != hone_msg_seq(reply))
            k++;
        assert_true(k < N);
        if (hone_msg_id(reply) == HONE_MSG_OK)
            acked[k] = true;
        else
            assert_true(kinds[k] == OP_MARK && args[k] > 10);   /* trials not yet made */
        hone_msg_destroy(&reply);
    }
    int status = hone_test_broker_wait(f->broker, SIGKILL, 5000);
    assert_true(WIFSIGNALED(status));
    zsock_destroy(&f->client);
    s_start(f);

    /* every acknowledged change is there */
    hone_msg_t *list = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_LIST, "live")), HONE_MSG_OK);
    size_t total = hone_node_len(hone_msg_get(list, "trials"));
    int max_prog = -1;
    size_t min_total = 11;
    for (int k = 0; k < N; k++) {
        if (!acked[k])
            continue;
        if (kinds[k] == OP_ATTACH) {
            char metric[16];
            snprintf(metric, sizeof metric, "m%d", k);
            const hone_node_t *m = hone_node_get(hone_node_get(s_list_trial(list, 0), "metrics"), metric);
            assert_non_null(m);
            assert_true(hone_node_float(hone_node_at(m, 0)) == k);
            max_prog = k;
        } else if (kinds[k] == OP_MARK) {
            const hone_node_t *t = s_list_trial(list, (uint32_t) args[k]);
            assert_string_equal(hone_test_node_str(t, "status"), "COMPLETED");
            const hone_node_t *obj = hone_node_get(hone_node_get(t, "metrics"), "obj");
            assert_true(hone_node_float(hone_node_at(obj, 0)) == k);
        } else {
            min_total++;
        }
    }
    assert_true(max_prog >= 0);
    assert_true(hone_node_int(hone_node_get(s_list_trial(list, 0), "progression")) >= max_prog);
    assert_true(total >= min_total);
    assert_string_equal(hone_test_node_str(s_list_trial(list, 10), "status"), "RUNNING");
    hone_msg_destroy(&list);

    /* the experiment continues: next index, the restored running trial, the Sobol sequence */
    reply = hone_test_expect(s_next(f, "live", 2), HONE_MSG_OK);
    assert_int_equal(hone_node_int(hone_node_get(hone_node_at(hone_msg_get(reply, "trials"), 0), "trial")),
                     total);
    hone_msg_destroy(&reply);
    hone_msg_t *msg = s_trial_req(f, HONE_MSG_COMPLETE, "live", 10);
    s_metric(msg, "obj", 0.5, 0, false);
    hone_test_expect_destroy(s_call(f, msg), HONE_MSG_OK);

    s_create_ok(f, "twin", 42, 0);
    reply = hone_test_expect(s_next(f, "twin", (int) total + 2), HONE_MSG_OK);
    hone_msg_destroy(&reply);
    list = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_LIST, "live")), HONE_MSG_OK);
    hone_msg_t *twin = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_LIST, "twin")), HONE_MSG_OK);
    assert_int_equal(hone_node_len(hone_msg_get(list, "trials")), total + 2);
    assert_int_equal(hone_node_len(hone_msg_get(twin, "trials")), total + 2);
    for (uint32_t i = 0; i < total + 2; i++) {
        const hone_node_t *a = s_list_trial(list, i), *b = s_list_trial(twin, i);
        assert_string_equal(hone_test_node_str(a, "note"), hone_test_node_str(b, "note"));
        double xa = hone_node_float(s_param(a, "x1")), xb = hone_node_float(s_param(b, "x1"));
        assert_memory_equal(&xa, &xb, sizeof xa);
        assert_int_equal(hone_node_int(s_param(a, "x2")), hone_node_int(s_param(b, "x2")));
        assert_string_equal(hone_node_str(s_param(a, "opt"), NULL), hone_node_str(s_param(b, "opt"), NULL));
    }
    hone_msg_destroy(&list);
    hone_msg_destroy(&twin);
}

static void test_restart_clean_keeps_everything(void **state)
{
    fixture_t *f = *state;
    s_create_ok(f, "keep", 9, 5);
    hone_msg_t *reply = hone_test_expect(s_next(f, "keep", 3), HONE_MSG_OK);
    hone_msg_destroy(&reply);
    hone_msg_t *msg = s_trial_req(f, HONE_MSG_PROGRESS, "keep", 1);
    s_metric(msg, "obj", 2.0, 0.25, true);
    assert_int_equal(hone_msg_set_int(msg, "progression", -4), HONE_OK);
    hone_test_expect_destroy(s_call(f, msg), HONE_MSG_OK);
    msg = s_trial_req(f, HONE_MSG_FAIL, "keep", 2);
    assert_int_equal(hone_msg_set_str(msg, "reason", "out of memory"), HONE_OK);
    hone_test_expect_destroy(s_call(f, msg), HONE_MSG_OK);
    char *before = s_list_text(f, "keep");

    zsock_destroy(&f->client);
    int status = hone_test_broker_wait(f->broker, SIGTERM, 5000);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    s_start(f);
    char *after = s_list_text(f, "keep");
    assert_string_equal(before, after);
    free(before);
    free(after);
    reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_STATUS, "keep")), HONE_MSG_OK);
    assert_int_equal(hone_test_int(reply, "max_trials"), 5);
    assert_int_equal(hone_node_int(hone_node_get(hone_msg_get(reply, "counts"), "FAILED")), 1);
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

/* ---- generation off the reactor ---- */

static bool s_readable(zsock_t *sock)
{
    return (zsock_events(sock) & ZMQ_POLLIN) != 0;
}

/* A Bayesian-optimization experiment over [0,1]^d whose first n_sobol trials are Sobol
 * points (the initialization budget), of which the first n_done are completed with
 * the value of a smooth function: the next generation fits a GP on n_done points. */
static void s_bo_experiment(fixture_t *f, const char *name, int d, int n_sobol, int n_done)
{
    size_t cap = 4096, len = 0;
    char *config = malloc(cap);
    len += (size_t) snprintf(config + len, cap - len, "{\"name\": \"%s\", \"parameters\": [", name);
    for (int i = 0; i < d; i++)
        len += (size_t) snprintf(config + len, cap - len,
                                 "%s{\"name\": \"x%d\", \"bounds\": [0.0, 1.0], \"parameter_type\": \"float\"}",
                                 i ? ", " : "", i);
    snprintf(config + len, cap - len, "], \"objective\": \"-y\", \"generation_strategy\": {\"method\": \"fast\", "
             "\"initialization_random_seed\": 11, \"initialization_budget\": %d, "
             "\"min_observed_initialization_trials\": %d}}", n_sobol, n_done);
    hone_msg_t *reply = hone_test_expect(s_create(f, config), HONE_MSG_OK);
    hone_msg_destroy(&reply);
    free(config);

    reply = hone_test_expect(s_next(f, name, n_sobol), HONE_MSG_OK);
    const hone_node_t *trials = hone_msg_get(reply, "trials");
    assert_int_equal(hone_node_len(trials), n_sobol);
    /* pipelined marks, then their replies */
    uint64_t first = f->seq + 1;
    for (int t = 0; t < n_done; t++) {
        const hone_node_t *params = hone_node_get(hone_node_at(trials, (size_t) t), "params");
        double y = 0;
        for (int i = 0; i < d; i++) {
            char key[16];
            snprintf(key, sizeof key, "x%d", i);
            double x = hone_node_float(hone_node_get(params, key)) - 0.3 - 0.02 * i;
            y += x * x;
        }
        hone_msg_t *msg = s_mark_req(f, name, t, "COMPLETED");
        s_metric(msg, "y", y, 0, false);
        hone_peer_send(f->client, &msg);
    }
    hone_msg_destroy(&reply);
    for (int t = 0; t < n_done; t++) {
        hone_msg_t *ok = hone_test_expect(hone_peer_recv_seq(f->client, first + (uint64_t) t, S_REPLY_TIMEOUT_MS),
                                          HONE_MSG_OK);
        hone_msg_destroy(&ok);
    }
}

/* Sizes for a generation of a couple of hundred milliseconds (a cold GP fit plus the
 * acquisition: about 230-330 ms in the broker on the development VM). The tests assert
 * orderings only; they need the generation to outlast a few round trips. */
#define S_SLOW_D 20
#define S_SLOW_N 500

static hone_msg_t *s_ready_req(fixture_t *f, const char *name, const char *worker)
{
    hone_msg_t *msg = hone_test_req(&f->seq, HONE_MSG_READY, name);
    assert_int_equal(hone_msg_set_str(msg, "worker", worker), HONE_OK);
    return msg;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

/* One heartbeat round trip on sock; returns its duration in microseconds. */
static int64_t s_beat(fixture_t *f, zsock_t *sock)
{
    hone_msg_t *msg = hone_test_req(&f->seq, HONE_MSG_HEARTBEAT, NULL);
    int64_t sent = zclock_usecs();
    hone_msg_t *reply = hone_test_expect(hone_peer_call(sock, msg, S_REPLY_TIMEOUT_MS), HONE_MSG_HEARTBEAT);
    int64_t rtt = zclock_usecs() - sent;
    hone_msg_destroy(&reply);
    return rtt;
}

enum { S_BEATS = 5 };   /* heartbeats measured idle, and during a model fit */

/* S_BEATS heartbeat round trips on beat, in microseconds, into rtt_us. */
static void s_beats(fixture_t *f, zsock_t *beat, int64_t rtt_us[S_BEATS])
{
    for (int i = 0; i < S_BEATS; i++)
        rtt_us[i] = s_beat(f, beat);
}

/* While a model fit owes busy its reply: heartbeats on beat, one after the other (their
 * round trips into rtt_us), and a status of experiment "other" are answered, and
 * nothing arrives on busy. */
static void s_answered_meanwhile(fixture_t *f, zsock_t *beat, zsock_t *busy, int64_t rtt_us[S_BEATS])
{
    for (int i = 0; i < S_BEATS; i++) {
        rtt_us[i] = s_beat(f, beat);
        assert_false(s_readable(busy));
    }
    hone_msg_t *msg = hone_test_req(&f->seq, HONE_MSG_STATUS, "other");
    hone_msg_t *reply = hone_test_expect(hone_peer_call(beat, msg, S_REPLY_TIMEOUT_MS), HONE_MSG_OK);
    assert_string_equal(hone_test_str(reply, "experiment"), "other");
    hone_msg_destroy(&reply);
    assert_false(s_readable(busy));
}

/* Logs how long what took and the heartbeat round trips meanwhile and before. */
static void s_log_beats(const char *what, int64_t took_us, int64_t idle_us[S_BEATS], int64_t rtt_us[S_BEATS])
{
    qsort(idle_us, S_BEATS, sizeof idle_us[0], cmp_i64);
    qsort(rtt_us, S_BEATS, sizeof rtt_us[0], cmp_i64);
    fprintf(stderr, "%s on n=%d, d=%d: %.1f ms; heartbeat round trips meanwhile: "
            "median %.3f ms, max %.3f ms (idle before: median %.3f ms)\n", what, S_SLOW_N, S_SLOW_D,
            took_us / 1000.0, rtt_us[S_BEATS / 2] / 1000.0, rtt_us[S_BEATS - 1] / 1000.0,
            idle_us[S_BEATS / 2] / 1000.0);
}

static void test_generation_off_the_reactor(void **state)
{
    fixture_t *f = *state;
    s_bo_experiment(f, "slow", S_SLOW_D, S_SLOW_N + 1, S_SLOW_N);  /* trial S_SLOW_N runs */
    s_create_ok(f, "other", 4, 0);
    zsock_t *worker = hone_peer_connect(f->broker->endpoint), *beat = hone_peer_connect(f->broker->endpoint);
    int64_t idle_us[S_BEATS], rtt_us[S_BEATS];
    s_beats(f, beat, idle_us);      /* for the log line below; connects the socket */

    /* a `ready` that needs a GP fit on S_SLOW_N points, then a `progress` of the same
     * experiment on the same socket: the generation runs on a snapshot, so the reading
     * is stored and acknowledged at once, before the trial */
    int64_t t0 = zclock_usecs();
    hone_msg_t *msg = s_ready_req(f, "slow", "w-slow");
    uint64_t ready_seq = hone_msg_seq(msg);
    hone_peer_send(worker, &msg);
    msg = s_trial_req(f, HONE_MSG_PROGRESS, "slow", S_SLOW_N);
    s_metric(msg, "y", 0.5, 0.01, true);
    assert_int_equal(hone_msg_set_int(msg, "progression", 3), HONE_OK);
    uint64_t progress_seq = hone_msg_seq(msg);
    hone_peer_send(worker, &msg);
    hone_msg_t *reply = hone_test_expect(hone_peer_recv(worker, S_REPLY_TIMEOUT_MS), HONE_MSG_OK);
    assert_int_equal(hone_msg_seq(reply), progress_seq);
    hone_msg_destroy(&reply);

    /* meanwhile heartbeats, one after the other, and a status of another experiment
     * are answered, and the trial has not arrived yet */
    s_answered_meanwhile(f, beat, worker, rtt_us);

    /* then the trial */
    reply = hone_test_expect(hone_peer_recv(worker, 60000), HONE_MSG_TRIAL);
    int64_t generation_us = zclock_usecs() - t0;
    assert_int_equal(hone_msg_seq(reply), ready_seq);
    int64_t index = hone_test_int(reply, "trial");
    assert_int_equal(index, S_SLOW_N + 1);
    assert_string_equal(hone_test_str(reply, "note"), "bo");
    hone_msg_destroy(&reply);

    s_log_beats("generation", generation_us, idle_us, rtt_us);

    /* the progress is stored, and the new trial runs for the worker */
    hone_msg_t *list = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_LIST, "slow")), HONE_MSG_OK);
    const hone_node_t *running = s_list_trial(list, S_SLOW_N);
    const hone_node_t *y = hone_node_get(hone_node_get(running, "metrics"), "y");
    assert_non_null(y);
    assert_true(hone_node_float(hone_node_at(y, 0)) == 0.5);
    assert_int_equal(hone_node_int(hone_node_get(running, "progression")), 3);
    assert_string_equal(hone_test_node_str(s_list_trial(list, (uint32_t) index), "status"), "RUNNING");
    hone_msg_destroy(&list);
    zsock_destroy(&worker);
    zsock_destroy(&beat);
}

static void test_best_off_the_reactor(void **state)
{
    fixture_t *f = *state;
    s_bo_experiment(f, "slowbest", S_SLOW_D, S_SLOW_N, S_SLOW_N);   /* all completed */
    s_create_ok(f, "other", 4, 0);
    zsock_t *asker = hone_peer_connect(f->broker->endpoint), *beat = hone_peer_connect(f->broker->endpoint);
    int64_t idle_us[S_BEATS], rtt_us[S_BEATS];
    s_beats(f, beat, idle_us);

    /* a `best` that fits a GP on S_SLOW_N points, then a `status` of the same
     * experiment on the same socket: the fit runs on a snapshot, so the status is
     * answered at once, before the best point */
    int64_t t0 = zclock_usecs();
    hone_msg_t *msg = hone_test_req(&f->seq, HONE_MSG_BEST, "slowbest");
    uint64_t best_seq = hone_msg_seq(msg);
    hone_peer_send(asker, &msg);
    msg = hone_test_req(&f->seq, HONE_MSG_STATUS, "slowbest");
    uint64_t status_seq = hone_msg_seq(msg);
    hone_peer_send(asker, &msg);
    hone_msg_t *reply = hone_test_expect(hone_peer_recv(asker, S_REPLY_TIMEOUT_MS), HONE_MSG_OK);
    assert_int_equal(hone_msg_seq(reply), status_seq);
    assert_string_equal(hone_test_str(reply, "experiment"), "slowbest");
    hone_msg_destroy(&reply);

    /* meanwhile heartbeats and a status of another experiment are answered */
    s_answered_meanwhile(f, beat, asker, rtt_us);

    /* then the best point */
    reply = hone_test_expect(hone_peer_recv(asker, 60000), HONE_MSG_OK);
    int64_t best_us = zclock_usecs() - t0;
    assert_int_equal(hone_msg_seq(reply), best_seq);
    char source[16];
    snprintf(source, sizeof source, "%s", hone_test_str(reply, "source"));   /* outlives the reply */
    assert_true(strcmp(source, "model") == 0 || strcmp(source, "raw") == 0);
    int64_t index = hone_test_int(reply, "trial");
    assert_true(index >= 0 && index < S_SLOW_N);
    assert_string_equal(hone_test_str(reply, "metric"), "y");
    assert_non_null(hone_msg_get(reply, "value"));
    assert_non_null(hone_msg_get(reply, "sem"));
    assert_non_null(hone_msg_get(reply, "minimize"));
    assert_int_equal(hone_node_len(hone_msg_get(reply, "params")), S_SLOW_D);
    hone_msg_destroy(&reply);

    char what[32];
    snprintf(what, sizeof what, "best (%s)", source);
    s_log_beats(what, best_us, idle_us, rtt_us);
    zsock_destroy(&asker);
    zsock_destroy(&beat);
}

static void test_two_workers_get_different_trials(void **state)
{
    fixture_t *f = *state;
    s_bo_experiment(f, "pair", 3, 6, 6);
    zsock_t *w1 = hone_peer_connect(f->broker->endpoint), *w2 = hone_peer_connect(f->broker->endpoint);
    hone_msg_t *m1 = s_ready_req(f, "pair", "w1"), *m2 = s_ready_req(f, "pair", "w2");
    uint64_t seq1 = hone_msg_seq(m1), seq2 = hone_msg_seq(m2);
    hone_peer_send(w1, &m1);
    hone_peer_send(w2, &m2);
    hone_msg_t *r1 = hone_test_expect(hone_peer_recv_seq(w1, seq1, 60000), HONE_MSG_TRIAL);
    hone_msg_t *r2 = hone_test_expect(hone_peer_recv_seq(w2, seq2, 60000), HONE_MSG_TRIAL);
    int64_t t1 = hone_test_int(r1, "trial"), t2 = hone_test_int(r2, "trial");
    assert_true(t1 != t2);
    assert_true(t1 >= 6 && t1 <= 7 && t2 >= 6 && t2 <= 7);
    assert_string_equal(hone_test_str(r1, "note"), "bo");
    assert_string_equal(hone_test_str(r2, "note"), "bo");
    /* the second one was generated with the first as a pending point: another arm */
    const hone_node_t *p1 = hone_msg_get(r1, "params"), *p2 = hone_msg_get(r2, "params");
    bool same = true;
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "x%d", i);
        same = same && hone_node_float(hone_node_get(p1, key)) == hone_node_float(hone_node_get(p2, key));
    }
    assert_false(same);
    hone_msg_destroy(&r1);
    hone_msg_destroy(&r2);

    hone_msg_t *reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_STATUS, "pair")), HONE_MSG_OK);
    assert_int_equal(hone_test_int(reply, "total"), 8);
    assert_int_equal(hone_node_int(hone_node_get(hone_msg_get(reply, "counts"), "RUNNING")), 2);
    hone_msg_destroy(&reply);
    zsock_destroy(&w1);
    zsock_destroy(&w2);
}

static void test_sigterm_during_generation(void **state)
{
    fixture_t *f = *state;
    s_bo_experiment(f, "stop", S_SLOW_D, S_SLOW_N, S_SLOW_N);
    zsock_t *worker = hone_peer_connect(f->broker->endpoint);
    hone_msg_t *msg = s_ready_req(f, "stop", "w-stop");
    uint64_t ready_seq = hone_msg_seq(msg);
    hone_peer_send(worker, &msg);
    /* the heartbeat's reply, behind the ready on the same connection, says the broker
     * has read the ready and handed the generation over */
    msg = hone_test_req(&f->seq, HONE_MSG_HEARTBEAT, NULL);
    uint64_t beat_seq = hone_msg_seq(msg);
    hone_peer_send(worker, &msg);
    hone_msg_t *reply = hone_test_expect(hone_peer_recv(worker, S_REPLY_TIMEOUT_MS), HONE_MSG_HEARTBEAT);
    assert_int_equal(hone_msg_seq(reply), beat_seq);    /* not the trial: still generating */
    hone_msg_destroy(&reply);
    kill(f->broker->pid, SIGTERM);

    /* the generation is finished, stored and answered before the broker exits */
    reply = hone_test_expect(hone_peer_recv(worker, 60000), HONE_MSG_TRIAL);
    assert_int_equal(hone_msg_seq(reply), ready_seq);
    int64_t index = hone_test_int(reply, "trial");
    assert_int_equal(index, S_SLOW_N);
    double x0 = hone_node_float(hone_node_get(hone_msg_get(reply, "params"), "x0"));
    hone_msg_destroy(&reply);
    int status = hone_test_broker_wait(f->broker, 0, 60000);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char *log = hone_test_read_file(f->broker->log, NULL);
    assert_non_null(strstr(log, "waiting for 1 generation(s) in progress"));
    free(log);
    zsock_destroy(&worker);
    zsock_destroy(&f->client);

    /* after a restart the store has exactly that trial, running for that worker */
    s_start(f);
    hone_msg_t *list = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_LIST, "stop")), HONE_MSG_OK);
    assert_int_equal(hone_node_len(hone_msg_get(list, "trials")), S_SLOW_N + 1);
    const hone_node_t *t = s_list_trial(list, (uint32_t) index);
    assert_string_equal(hone_test_node_str(t, "status"), "RUNNING");
    assert_true(hone_node_float(hone_node_get(hone_node_get(t, "params"), "x0")) == x0);
    hone_msg_destroy(&list);
    reply = hone_test_expect(s_call(f, s_ready_req(f, "stop", "w-stop")), HONE_MSG_TRIAL);   /* resumes */
    assert_int_equal(hone_test_int(reply, "trial"), index);
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

/* ---- the command line ---- */

/* Runs hone-broker with args to its end; returns its exit status, and its stdout and
 * stderr in *out and *err_text (malloc'd). */
static int s_run(fixture_t *f, char **args, char **out, char **err_text)
{
    char *program = hone_test_program("hone-broker");
    char *argv[16] = { program };
    int n = 1;
    for (; args[n - 1]; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    hone_test_output_t r = hone_test_run(f->broker->dir, argv, 10000);
    free(program);
    assert_true(r.status >= 0);     /* it exited */
    *out = r.out;
    *err_text = r.err;
    return r.status;
}

static int s_lines(const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

static void test_command_line(void **state)
{
    fixture_t *f = *state;
    char *out, *err_text;

    assert_int_equal(s_run(f, (char *[]) { "--help", NULL }, &out, &err_text), 0);
    assert_non_null(strstr(out, "usage: hone-broker"));
    assert_non_null(strstr(out, "--data DIR"));
    free(out);
    free(err_text);

    assert_int_equal(s_run(f, (char *[]) { "--bogus", NULL }, &out, &err_text), 2);
    assert_string_equal(err_text, "hone-broker: unknown option '--bogus' (see --help)\n");
    free(out);
    free(err_text);
    assert_int_equal(s_run(f, (char *[]) { "--log-level", "loud", NULL }, &out, &err_text), 2);
    assert_int_equal(s_lines(err_text), 1);
    free(out);
    free(err_text);
    assert_int_equal(s_run(f, (char *[]) { "--bind", NULL }, &out, &err_text), 2);
    assert_int_equal(s_lines(err_text), 1);
    free(out);
    free(err_text);

    /* the data directory is locked by the running broker */
    char *other = NULL;
    assert_true(asprintf(&other, "ipc://%s/other.sock", f->broker->dir) > 0);
    assert_int_equal(s_run(f, (char *[]) { "--data", f->broker->data, "--bind", other, "--log-level", "error", NULL },
                           &out, &err_text), 1);
    assert_int_equal(s_lines(err_text), 1);
    assert_non_null(strstr(err_text, "in use"));
    free(out);
    free(err_text);

    /* a data path that is a file */
    char *file = NULL;
    assert_true(asprintf(&file, "%s/broker.log", f->broker->dir) > 0);
    assert_int_equal(s_run(f, (char *[]) { "--data", file, "--bind", other, "--log-level", "error", NULL },
                           &out, &err_text), 1);
    assert_int_equal(s_lines(err_text), 1);
    assert_true(strncmp(err_text, "hone-broker: ", 13) == 0);
    free(out);
    free(err_text);
    free(file);
    free(other);

    /* the address is taken */
    zsock_t *blocker = zsock_new(ZMQ_ROUTER);
    int port = zsock_bind(blocker, "tcp://127.0.0.1:*");
    assert_true(port > 0);
    char *endpoint = NULL, *data2 = NULL;
    assert_true(asprintf(&endpoint, "tcp://127.0.0.1:%d", port) > 0);
    assert_true(asprintf(&data2, "%s/data2", f->broker->dir) > 0);
    assert_int_equal(s_run(f, (char *[]) { "--data", data2, "--bind", endpoint, "--log-level", "error", NULL },
                           &out, &err_text), 1);
    assert_int_equal(s_lines(err_text), 1);
    assert_non_null(strstr(err_text, "hone-broker: cannot bind tcp://127.0.0.1:"));
    assert_non_null(strstr(err_text, "Address already in use"));
    free(out);
    free(err_text);
    zsock_destroy(&blocker);

    /* on loopback TCP the broker says it is reachable from this host only */
    char *log2 = NULL;
    assert_true(asprintf(&log2, "%s/broker2.log", f->broker->dir) > 0);
    pid_t pid = -1;
    for (int attempt = 0; attempt < 5 && pid < 0; attempt++) {
        blocker = zsock_new(ZMQ_ROUTER);
        port = zsock_bind(blocker, "tcp://127.0.0.1:*");
        zsock_destroy(&blocker);    /* frees the port for the broker (retried if raced) */
        free(endpoint);
        assert_true(asprintf(&endpoint, "tcp://127.0.0.1:%d", port) > 0);
        pid = hone_test_start_broker(data2, endpoint, log2);
    }
    assert_true(pid > 0);
    char *log = hone_test_read_file(log2, NULL);
    assert_non_null(strstr(log, "loopback only"));
    assert_non_null(strstr(log, "listening on tcp://127.0.0.1:"));
    free(log);
    kill(pid, SIGINT);
    int status;
    assert_int_equal(hone_test_wait(pid, 5000, &status), 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free(log2);
    free(endpoint);
    free(data2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_next_complete_best, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_experiments_and_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_after_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_clean_keeps_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_full_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_size_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generation_off_the_reactor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_best_off_the_reactor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_workers_get_different_trials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_during_generation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_predict, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
