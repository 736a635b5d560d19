/* Unit tests, in process, of the broker's requests about several goals
 * (broker/client_goals.c): `attach_baseline` checks its fields, stores the trial (a
 * reload knows the baseline again by its note) and waits behind a generation of its
 * experiment like `next`; `pareto` on the model path goes to the generator thread and
 * comes back, the raw path is answered at once. The end-to-end checks of the values
 * are tests/sdk/test_goals.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_harness.h"
#include "experiment.h"
#include "log.h"
#include "wire.h"

#define S_WAIT_MS 60000

/* Creates name over x1, x2 in [0, 1], minimizing a and b. */
static void s_create(hone_harness_t *h, const char *name, const char *method)
{
    char config[1024];
    snprintf(config, sizeof config,
             "{\"name\": \"%s\", \"parameters\": ["
             "{\"name\": \"x1\", \"bounds\": [0, 1], \"parameter_type\": \"float\"},"
             "{\"name\": \"x2\", \"bounds\": [0, 1], \"parameter_type\": \"float\"}],"
             " \"objective\": \"-a, -b\", \"generation_strategy\": {\"method\": \"%s\","
             " \"initialization_random_seed\": 3, \"initialization_budget\": 4}}",
             name, method);
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", config), HONE_OK);
    hone_test_expect_destroy(hone_harness_call(h, "client", msg), HONE_MSG_OK);
}

static hone_msg_t *s_baseline_req(hone_harness_t *h, const char *name, double x1, double x2)
{
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_ATTACH_BASELINE, name);
    hone_node_t *params = hone_node_add_map(hone_msg_body(msg), "params");
    assert_non_null(params);
    assert_non_null(hone_node_add_float(params, "x1", x1));
    if (!isnan(x2))
        assert_non_null(hone_node_add_float(params, "x2", x2));
    return msg;
}

/* Marks trial COMPLETED with readings a and b. */
static void s_complete(hone_harness_t *h, const char *name, int64_t trial, double a, double b)
{
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_MARK, name);
    assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    assert_int_equal(hone_msg_set_str(msg, "status", "COMPLETED"), HONE_OK);
    hone_node_t *metrics = hone_node_add_map(hone_msg_body(msg), "metrics");
    assert_non_null(hone_node_add_float(metrics, "a", a));
    assert_non_null(hone_node_add_float(metrics, "b", b));
    hone_test_expect_destroy(hone_harness_call(h, "client", msg), HONE_MSG_OK);
}

static void test_attach_baseline_fields_and_store(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "base", "random_search");
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_ATTACH_BASELINE, "base");
    hone_test_expect_error(hone_harness_call(h, "client", msg), HONE_EPROTO, "missing field 'params'");
    msg = hone_test_req(&h->seq, HONE_MSG_ATTACH_BASELINE, "base");
    assert_int_equal(hone_msg_set_int(msg, "params", 3), HONE_OK);
    hone_test_expect_error(hone_harness_call(h, "client", msg), HONE_EPROTO, "field 'params' must be map");
    hone_test_expect_error(hone_harness_call(h, "client", s_baseline_req(h, "base", 0.5, NAN)), HONE_EINVAL,
                           "params: parameter 'x2' is missing");
    hone_test_expect_error(hone_harness_call(h, "client", s_baseline_req(h, "nope", 0.5, 0.5)), HONE_ENOTFOUND,
                           "nope");

    hone_msg_t *reply = hone_test_expect(hone_harness_call(h, "client", s_baseline_req(h, "base", 0.5, 0.25)),
                                         HONE_MSG_OK);
    assert_int_equal(hone_test_int(reply, "trial"), 0);
    hone_msg_destroy(&reply);

    /* stored: after a restart core knows the trial as the baseline again */
    hone_harness_reload(h);
    hone_experiment_t *exp = NULL;
    assert_int_equal(hone_registry_find(h->registry, "base", &exp, NULL), HONE_OK);
    assert_int_equal(hone_experiment_trial_count(exp), 1);
    assert_int_equal(hone_experiment_baseline(exp), 0);
    assert_string_equal(hone_experiment_trial(exp, 0)->note, HONE_BASELINE_NOTE);
    hone_test_expect_error(hone_harness_call(h, "client", s_baseline_req(h, "base", 0.5, 0.25)), HONE_EEXIST,
                           "already has a baseline: trial 0");

    /* a single objective: pareto refuses */
    msg = hone_test_req(&h->seq, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", "{\"name\": \"one\", \"parameters\": [{\"name\": \"x\", "
                                      "\"bounds\": [0, 1], \"parameter_type\": \"float\"}], \"objective\": \"-y\"}"),
                     HONE_OK);
    hone_test_expect_destroy(hone_harness_call(h, "client", msg), HONE_MSG_OK);
    hone_test_expect_error(hone_harness_call(h, "client", hone_test_req(&h->seq, HONE_MSG_PARETO, "one")),
                           HONE_EINVAL, "single objective");
    msg = hone_test_req(&h->seq, HONE_MSG_PARETO, "base");
    assert_int_equal(hone_msg_set_int(msg, "use_model", 1), HONE_OK);
    hone_test_expect_error(hone_harness_call(h, "client", msg), HONE_EPROTO, "use_model");
}

static int s_generator_setup(void **state)
{
    hone_log_set_level(HONE_LOG_WARN);
    hone_harness_t *h = hone_harness_new("goals");
    h->seq = 1000;
    hone_harness_open(h, NULL);
    hone_harness_use_generator(h);
    *state = h;
    return 0;
}

static int s_generator_teardown(void **state)
{
    hone_harness_t *h = *state;
    hone_harness_destroy(&h);
    hone_log_set_level(HONE_LOG_INFO);
    return 0;
}

static void test_model_path_on_the_generator(void **state)
{
    hone_harness_t *h = *state;
    s_create(h, "fast_mo", "fast");
    /* the generation is deferred; attach_baseline waits behind it, as `next` would */
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_NEXT, "fast_mo");
    assert_int_equal(hone_msg_set_int(msg, "count", 4), HONE_OK);
    uint64_t next_seq = h->seq;
    assert_null(hone_harness_dispatch(h, "client", msg));
    assert_null(hone_harness_dispatch(h, "client", s_baseline_req(h, "fast_mo", 0.5, 0.25)));
    uint64_t baseline_seq = h->seq;
    hone_harness_collect_until(h, 2, S_WAIT_MS);
    assert_int_equal(h->n_replies, 2);
    assert_int_equal(hone_msg_seq(h->replies[0]), next_seq);
    hone_test_expect(h->replies[0], HONE_MSG_OK);
    assert_int_equal(hone_msg_seq(h->replies[1]), baseline_seq);
    hone_test_expect(h->replies[1], HONE_MSG_OK);
    assert_int_equal(hone_test_int(h->replies[1], "trial"), 4);   /* after the generated ones */
    hone_harness_forget_replies(h);

    static const double ab[][2] = { { 1, 5 }, { 2, 3 }, { 4, 1 }, { 3, 4 }, { 6, 6 } };
    for (int t = 0; t < 5; t++)
        s_complete(h, "fast_mo", t, ab[t][0], ab[t][1]);
    /* the model path: answered once the generator's fit comes back */
    assert_null(hone_harness_dispatch(h, "client", hone_test_req(&h->seq, HONE_MSG_PARETO, "fast_mo")));
    uint64_t pareto_seq = h->seq;
    hone_harness_collect_until(h, 1, S_WAIT_MS);
    hone_msg_t *reply = hone_test_expect(h->replies[0], HONE_MSG_OK);
    assert_int_equal(hone_msg_seq(reply), pareto_seq);
    assert_string_equal(hone_test_str(reply, "source"), "model");
    const hone_node_t *points = hone_msg_get(reply, "points");
    assert_non_null(points);
    assert_true(hone_node_len(points) >= 1);
    const hone_node_t *labels = hone_msg_get(reply, "objectives");
    assert_int_equal(hone_node_len(labels), 2);
    assert_string_equal(hone_node_str(hone_node_at(labels, 1), NULL), "b");
    hone_harness_forget_replies(h);

    /* the raw path: at once */
    msg = hone_test_req(&h->seq, HONE_MSG_PARETO, "fast_mo");
    assert_int_equal(hone_msg_set_bool(msg, "use_model", false), HONE_OK);
    reply = hone_test_expect(hone_harness_call(h, "client", msg), HONE_MSG_OK);
    assert_string_equal(hone_test_str(reply, "source"), "raw");
    points = hone_msg_get(reply, "points");
    /* trials 0, 1, 2 against the inferred (4.3, 5.4): contributions 0.4, 4 and 0.6 */
    assert_int_equal(hone_node_len(points), 3);
    assert_int_equal(hone_node_int(hone_node_get(hone_node_at(points, 0), "trial")), 1);
    assert_int_equal(hone_node_int(hone_node_get(hone_node_at(points, 1), "trial")), 2);
    assert_int_equal(hone_node_int(hone_node_get(hone_node_at(points, 2), "trial")), 0);
    double hv = NAN;
    assert_int_equal(hone_msg_get_float(reply, "hypervolume", &hv, NULL), HONE_OK);
    assert_true(fabs(hv - (1 * 0.4 + 2 * 2.4 + 0.3 * 4.4)) < 1e-9);   /* the staircase */
    hone_msg_destroy(&reply);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HONE_HARNESS_TEST(test_attach_baseline_fields_and_store),
        cmocka_unit_test_setup_teardown(test_model_path_on_the_generator, s_generator_setup, s_generator_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
