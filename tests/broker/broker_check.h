/* broker_check.h: the fixture and the requests shared by the tests of the hone-broker
 * program (test_broker_requests.c, test_broker_lifecycle.c, test_broker_generation.c): a
 * real broker process on a temporary directory and an ipc endpoint, driven by a raw
 * DEALER socket speaking the protocol through the proto codec, and the requests those
 * tests build. Every wait is bounded (zpoller with timeouts). Include after <cmocka.h>'s
 * prerequisites and after any other hone header (czmq defines a streq macro). */
#ifndef HONE_TEST_BROKER_CHECK_H
#define HONE_TEST_BROKER_CHECK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "err.h"
#include "msg.h"
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

static inline void s_start(fixture_t *f)
{
    assert_int_equal(hone_test_broker_start(f->broker, NULL), 0);
    f->client = hone_peer_connect(f->broker->endpoint);
}

static inline int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->broker = hone_test_broker_new("broker", HONE_TEST_IPC);
    f->seq = 100;
    s_start(f);
    *state = f;
    return 0;
}

static inline int teardown(void **state)
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
static inline hone_msg_t *s_call(fixture_t *f, hone_msg_t *msg)
{
    return hone_peer_call(f->client, msg, S_REPLY_TIMEOUT_MS);
}

/* ---- requests ---- */

static inline const char *s_config(char *buf, size_t size, const char *name, long seed, int max_trials)
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

static inline hone_msg_t *s_create(fixture_t *f, const char *config)
{
    hone_msg_t *msg = hone_test_req(&f->seq, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", config), HONE_OK);
    return s_call(f, msg);
}

static inline void s_create_ok(fixture_t *f, const char *name, long seed, int max_trials)
{
    char config[1024];
    hone_msg_t *reply = hone_test_expect(s_create(f, s_config(config, sizeof config, name, seed, max_trials)),
                                         HONE_MSG_OK);
    assert_string_equal(hone_test_str(reply, "experiment"), name);
    if (seed >= 0)
        assert_int_equal(hone_test_int(reply, "seed"), seed);
    hone_msg_destroy(&reply);
}

static inline hone_msg_t *s_next(fixture_t *f, const char *name, int count)
{
    hone_msg_t *msg = hone_test_req(&f->seq, HONE_MSG_NEXT, name);
    if (count > 0)
        assert_int_equal(hone_msg_set_int(msg, "count", count), HONE_OK);
    return s_call(f, msg);
}

/* Adds metrics {name: mean} or {name: [mean, sem]} (sem < 0: nil) to a request. */
static inline void s_metric(hone_msg_t *msg, const char *metric, double mean, double sem, bool pair)
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

static inline hone_msg_t *s_trial_req(fixture_t *f, hone_msg_id_t id, const char *name, int64_t trial)
{
    hone_msg_t *msg = hone_test_req(&f->seq, id, name);
    assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    return msg;
}

static inline hone_msg_t *s_mark_req(fixture_t *f, const char *name, int64_t trial, const char *status)
{
    hone_msg_t *msg = s_trial_req(f, HONE_MSG_MARK, name, trial);
    assert_int_equal(hone_msg_set_str(msg, "status", status), HONE_OK);
    return msg;
}

/* The `list` reply of an experiment, as text with seq 0 (for before/after comparisons). */
static inline char *s_list_text(fixture_t *f, const char *name)
{
    hone_msg_t *reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_LIST, name)), HONE_MSG_OK);
    return hone_test_reply_text(&reply);
}

/* Trial index of a `list` reply of all trials. */
static inline const hone_node_t *s_list_trial(const hone_msg_t *list, uint32_t index)
{
    const hone_node_t *t = hone_test_trial_node(list, index);
    assert_int_equal(hone_node_int(hone_node_get(t, "trial")), index);
    return t;
}

#endif
