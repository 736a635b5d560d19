#define _GNU_SOURCE
/* Unit tests for broker/registry's commit modes: one commit per change (the default),
 * and group commit (what hone-broker runs): changes join one open batch, are durable
 * only once hone_registry_commit returns, a change the store refuses is undone alone,
 * and a batch that cannot be committed is undone as a whole in memory. The last test
 * runs the broker's reactor in this process to check what peers see of a failed batch:
 * every held acknowledgement becomes a HONE_ESTORE error. Each test uses its own
 * temporary directory. */
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
#include "log.h"
#include "wire.h"

#include "broker_thread.h"      /* after hone's headers: czmq defines streq as a macro */
#include "peer.h"

typedef struct {
    hone_registry_batch_event_t event;
    uint64_t batch;
    char message[HONE_ERROR_MESSAGE_MAX];
} event_t;

typedef struct {
    hone_harness_t *h;          /* the store and the registry, no handlers */
    event_t events[16];         /* what the batch function was told */
    size_t n_events;
} fixture_t;

static void s_on_batch(void *arg, hone_registry_batch_event_t event, uint64_t batch, const hone_error_t *err)
{
    fixture_t *f = arg;
    assert_true(f->n_events < 16);
    event_t *e = &f->events[f->n_events++];
    e->event = event;
    e->batch = batch;
    snprintf(e->message, sizeof e->message, "%s", err ? err->message : "");
}

static void s_open(fixture_t *f, const hone_store_options_t *options, bool group)
{
    hone_harness_open_registry(f->h, options);
    hone_registry_on_batch(f->h->registry, s_on_batch, f);
    hone_registry_set_group_commit(f->h->registry, group);
    f->n_events = 0;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->h = hone_harness_new("registry");
    hone_log_set_sink(hone_log_sink_null, NULL);    /* the store failures below are expected */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    hone_harness_destroy(&f->h);
    hone_log_set_sink(NULL, NULL);
    free(f);
    return 0;
}

static void s_create(fixture_t *f, const char *name)
{
    char config[512];
    snprintf(config, sizeof config,
             "{\"name\": \"%s\", \"objective\": \"y\", \"generation_strategy\": {\"method\": \"random_search\"},"
             " \"parameters\": [{\"name\": \"x\", \"bounds\": [0, 1]}]}", name);
    hone_experiment_t *exp = NULL;
    hone_error_t err;
    assert_int_equal(hone_experiment_from_json(&exp, config, strlen(config), 7, &err), HONE_OK);
    assert_int_equal(hone_registry_create(f->h->registry, &exp, &err), HONE_OK);
    assert_null(exp);
}

static hone_experiment_t *s_find(fixture_t *f, const char *name)
{
    hone_experiment_t *exp = NULL;
    assert_int_equal(hone_registry_find(f->h->registry, name, &exp, NULL), HONE_OK);
    return exp;
}

/* Generates one trial in memory and persists it; returns its index. */
static uint32_t s_new_trial(fixture_t *f, const char *name)
{
    hone_experiment_t *exp = s_find(f, name);
    hone_error_t err;
    size_t before = hone_experiment_trial_count(exp);
    uint32_t index = 0, n = 0;
    assert_int_equal(hone_experiment_generate(exp, 1, &index, &n, &err), HONE_OK);
    assert_int_equal(n, 1);
    hone_registry_change_t change = { .experiment = true, .trial_first = (uint32_t) before, .n_trials = 1 };
    assert_int_equal(hone_registry_persist(f->h->registry, exp, &change, &err), HONE_OK);
    return index;
}

/* Attaches one reading in memory and persists it; returns the persist's code. */
static int s_reading(fixture_t *f, const char *name, uint32_t trial, const char *metric, int64_t step,
                     double value, hone_error_t *err)
{
    hone_experiment_t *exp = s_find(f, name);
    hone_reading_in_t in = { .metric = metric, .mean = value, .sem = NAN };
    assert_int_equal(hone_experiment_attach(exp, trial, &in, 1, true, step, false, err), HONE_OK);
    hone_registry_change_t change = {
        .reading_trial = trial, .readings = &in, .n_readings = 1, .has_progression = true, .progression = step,
    };
    return hone_registry_persist(f->h->registry, exp, &change, err);
}

/* Readings of trial in memory. */
static size_t s_count_readings(fixture_t *f, const char *name, uint32_t trial)
{
    const hone_trial_t *t = hone_experiment_trial(s_find(f, name), trial);
    assert_non_null(t);
    return t->n_readings;
}

static void s_stored(fixture_t *f, size_t experiments, size_t trials, size_t readings)
{
    size_t ne = 0, nt = 0, nr = 0;
    hone_error_t err;
    assert_int_equal(hone_store_count(f->h->store, &ne, &nt, &nr, &err), HONE_OK);
    assert_int_equal(ne, experiments);
    assert_int_equal(nt, trials);
    assert_int_equal(nr, readings);
}

static void test_per_change_commits_each(void **state)
{
    fixture_t *f = *state;
    hone_error_t err;
    s_open(f, NULL, false);
    s_create(f, "e");
    uint32_t t = s_new_trial(f, "e");
    assert_int_equal(s_reading(f, "e", t, "y", 1, 0.5, &err), HONE_OK);
    assert_int_equal(hone_registry_pending(f->h->registry), 0);
    assert_false(hone_store_in_txn(f->h->store));
    assert_int_equal(hone_registry_changes(f->h->registry), 3);
    assert_int_equal(f->n_events, 0);               /* no batches in this mode */
    assert_int_equal(hone_registry_commit(f->h->registry, &err), HONE_OK);   /* nothing to do */
    hone_harness_close(f->h);
    s_open(f, NULL, false);
    s_stored(f, 1, 1, 1);
    assert_int_equal(s_count_readings(f, "e", t), 1);
}

static void test_group_commit_batches(void **state)
{
    fixture_t *f = *state;
    hone_error_t err;
    s_open(f, NULL, true);
    assert_int_equal(hone_registry_batch(f->h->registry), 1);
    s_create(f, "g");
    assert_int_equal(f->n_events, 1);
    assert_int_equal(f->events[0].event, HONE_REGISTRY_BATCH_OPENED);
    assert_int_equal(f->events[0].batch, 1);
    uint32_t t = s_new_trial(f, "g");
    assert_int_equal(s_reading(f, "g", t, "y", 1, 0.25, &err), HONE_OK);
    assert_int_equal(hone_registry_pending(f->h->registry), 3);
    assert_int_equal(hone_registry_batch(f->h->registry), 1);
    assert_int_equal(f->n_events, 1);               /* one batch, opened once */
    assert_true(hone_store_in_txn(f->h->store));
    s_stored(f, 1, 1, 1);                           /* counted through the open batch */

    assert_int_equal(hone_registry_commit(f->h->registry, &err), HONE_OK);
    assert_int_equal(hone_registry_pending(f->h->registry), 0);
    assert_int_equal(hone_registry_batch(f->h->registry), 2);
    assert_false(hone_store_in_txn(f->h->store));
    assert_int_equal(f->n_events, 2);
    assert_int_equal(f->events[1].event, HONE_REGISTRY_BATCH_COMMITTED);
    assert_int_equal(f->events[1].batch, 1);

    /* batch 2 is never committed: closing rolls it back, and only batch 1 is durable */
    assert_int_equal(s_reading(f, "g", t, "y", 2, 0.125, &err), HONE_OK);
    assert_int_equal(f->events[2].event, HONE_REGISTRY_BATCH_OPENED);
    assert_int_equal(f->events[2].batch, 2);
    assert_int_equal(s_count_readings(f, "g", t), 2);
    hone_harness_close(f->h);
    s_open(f, NULL, true);
    s_stored(f, 1, 1, 1);
    assert_int_equal(s_count_readings(f, "g", t), 1);
}

/* A change the store refuses (a metric name longer than a key allows) is undone alone:
 * memory is reloaded through the open batch, whose other changes survive and commit. */
static void test_refused_change_is_undone_alone(void **state)
{
    fixture_t *f = *state;
    hone_error_t err;
    s_open(f, NULL, true);
    s_create(f, "r");
    uint32_t t = s_new_trial(f, "r");
    assert_int_equal(hone_registry_commit(f->h->registry, &err), HONE_OK);

    assert_int_equal(s_reading(f, "r", t, "y", 1, 1.0, &err), HONE_OK);
    char metric[HONE_STORE_METRIC_MAX + 40];
    memset(metric, 'm', sizeof metric - 1);
    metric[sizeof metric - 1] = '\0';
    hone_error_clear(&err);
    assert_int_equal(s_reading(f, "r", t, metric, 2, 2.0, &err), HONE_ESTORE);
    assert_non_null(strstr(err.message, "not stored"));
    /* the refused reading is gone from memory, the batch's earlier one is kept */
    assert_int_equal(s_count_readings(f, "r", t), 1);
    assert_int_equal(hone_registry_pending(f->h->registry), 1);
    assert_int_equal(s_reading(f, "r", t, "y", 3, 3.0, &err), HONE_OK);
    assert_int_equal(hone_registry_commit(f->h->registry, &err), HONE_OK);
    assert_int_equal(f->events[f->n_events - 1].event, HONE_REGISTRY_BATCH_COMMITTED);
    hone_harness_close(f->h);
    s_open(f, NULL, true);
    s_stored(f, 1, 1, 2);
    assert_int_equal(s_count_readings(f, "r", t), 2);

    /* refused as the first change of a batch: no batch is left open */
    hone_error_clear(&err);
    assert_int_equal(s_reading(f, "r", t, metric, 4, 4.0, &err), HONE_ESTORE);
    assert_int_equal(hone_registry_pending(f->h->registry), 0);
    assert_false(hone_store_in_txn(f->h->store));
    assert_int_equal(f->n_events, 0);
    assert_int_equal(s_count_readings(f, "r", t), 2);
}

/* A batch that does not fit in a map that may not grow fails as a whole: nothing of it
 * is stored, every experiment it touched is back to the last commit (an experiment
 * created in it is gone), and the batch function hears FAILED. */
static void test_failed_batch_is_undone(void **state)
{
    fixture_t *f = *state;
    hone_error_t err;
    hone_store_options_t tight = { .map_size = 96 << 10, .map_size_max = 1 };   /* never grows */
    s_open(f, &tight, true);
    s_create(f, "a");
    uint32_t t = s_new_trial(f, "a");
    assert_int_equal(s_reading(f, "a", t, "y", 1, 1.0, &err), HONE_OK);
    assert_int_equal(hone_registry_commit(f->h->registry, &err), HONE_OK);
    f->n_events = 0;

    /* batch 2: a new experiment, a reading, then readings until the map is full */
    s_create(f, "b");
    assert_int_equal(s_reading(f, "a", t, "y", 2, 2.0, &err), HONE_OK);
    char metric[200];
    int rc = HONE_OK, i = 0;
    for (; i < 2000 && rc == HONE_OK; i++) {
        snprintf(metric, sizeof metric, "%0150d", i);
        hone_error_clear(&err);
        rc = s_reading(f, "a", t, metric, 5, (double) i, &err);
    }
    /* the map fills up at a put (the batch fails at once) or else at the commit */
    if (rc == HONE_OK)
        rc = hone_registry_commit(f->h->registry, &err);
    assert_int_equal(rc, HONE_ESTORE);
    assert_non_null(strstr(err.message, "not stored"));
    assert_int_equal(hone_registry_pending(f->h->registry), 0);
    assert_false(hone_store_in_txn(f->h->store));
    event_t *last = &f->events[f->n_events - 1];
    assert_int_equal(last->event, HONE_REGISTRY_BATCH_FAILED);
    assert_int_equal(last->batch, 2);
    assert_non_null(strstr(last->message, "full"));
    assert_int_equal(hone_registry_batch(f->h->registry), 3);

    /* memory is the last commit: "b" is gone, "a" has its one reading */
    hone_experiment_t *exp = NULL;
    assert_int_equal(hone_registry_find(f->h->registry, "b", &exp, NULL), HONE_ENOTFOUND);
    assert_int_equal(s_count_readings(f, "a", t), 1);
    s_stored(f, 1, 1, 1);

    /* the registry carries on with small batches */
    assert_int_equal(s_reading(f, "a", t, "y", 3, 3.0, &err), HONE_OK);
    assert_int_equal(hone_registry_commit(f->h->registry, &err), HONE_OK);
    hone_harness_close(f->h);
    s_open(f, &tight, true);
    s_stored(f, 1, 1, 2);
    assert_int_equal(s_count_readings(f, "a", t), 2);
}

/* ---- through the broker's reactor ---- */

static hone_msg_t *s_attach(uint64_t seq, uint32_t trial)
{
    hone_msg_t *msg = hone_msg_new(HONE_MSG_ATTACH);
    assert_non_null(msg);
    hone_msg_set_seq(msg, seq);
    assert_int_equal(hone_msg_set_str(msg, "experiment", "full"), HONE_OK);
    assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    assert_non_null(hone_node_add_map(hone_msg_body(msg), "metrics"));
    return msg;
}

static void s_add_metric(hone_msg_t *msg, const char *metric, double value)
{
    assert_non_null(hone_node_add_float((hone_node_t *) hone_msg_get(msg, "metrics"), metric, value));
}

static int64_t s_code(const hone_msg_t *reply)
{
    int64_t code = 0;
    if (hone_msg_id(reply) != HONE_MSG_ERROR)
        return HONE_OK;
    assert_int_equal(hone_msg_get_int(reply, "code", &code, NULL), HONE_OK);
    return code;
}

/* Five pipelined requests reach an idle broker together (inproc: queued before its
 * reactor runs), so the first four share one batch: two small attaches, one too large
 * for a map that may not grow (the store refuses it: the batch fails at once), then a
 * small one, which opens the next batch, and a `list`. The two attaches before the large
 * one were acknowledged by the handlers but held; they must come back as HONE_ESTORE
 * errors, and nothing of them may be stored. */
static void test_broker_refuses_a_failed_batch(void **state)
{
    fixture_t *f = *state;
    hone_store_options_t tight = { .map_size = 96 << 10, .map_size_max = 96 << 10 };
    s_open(f, &tight, false);
    s_create(f, "full");
    uint32_t t0 = s_new_trial(f, "full");
    uint32_t t1 = s_new_trial(f, "full");
    hone_harness_close(f->h);

    hone_broker_thread_t *broker = hone_broker_thread_open("registry", f->h->dir, tight.map_size, tight.map_size_max);
    hone_msg_t *msg = s_attach(1, t0);
    s_add_metric(msg, "a", 1.0);
    hone_peer_send(broker->peer, &msg);
    msg = s_attach(2, t0);
    s_add_metric(msg, "b", 2.0);
    hone_peer_send(broker->peer, &msg);
    msg = s_attach(3, t1);
    char metric[HONE_STORE_METRIC_MAX];
    for (int i = 0; i < 400; i++) {
        snprintf(metric, sizeof metric, "%0200d", i);
        s_add_metric(msg, metric, i);
    }
    hone_peer_send(broker->peer, &msg);
    msg = s_attach(4, t0);
    s_add_metric(msg, "c", 3.0);
    hone_peer_send(broker->peer, &msg);
    msg = hone_msg_new(HONE_MSG_LIST);
    hone_msg_set_seq(msg, 5);
    assert_int_equal(hone_msg_set_str(msg, "experiment", "full"), HONE_OK);
    hone_peer_send(broker->peer, &msg);

    hone_broker_thread_start(broker);
    hone_msg_t *replies[6] = { NULL };     /* by seq, 1 to 5 */
    hone_broker_thread_replies(broker, replies + 1, 5, 1, 10000);
    hone_broker_thread_destroy(&broker);

    for (int seq = 1; seq <= 3; seq++) {
        assert_int_equal(s_code(replies[seq]), HONE_ESTORE);
        const char *message = NULL;
        assert_int_equal(hone_msg_get_str(replies[seq], "message", &message, NULL), HONE_OK);
        assert_non_null(strstr(message, "not stored"));
    }
    assert_int_equal(s_code(replies[4]), HONE_OK);
    assert_int_equal(s_code(replies[5]), HONE_OK);
    /* the list was served after the failure: trial t0 has c only */
    const hone_node_t *trials = hone_msg_get(replies[5], "trials");
    assert_non_null(trials);
    const hone_node_t *metrics = hone_node_get(hone_node_at(trials, t0), "metrics");
    assert_non_null(metrics);
    assert_null(hone_node_get(metrics, "a"));
    assert_null(hone_node_get(metrics, "b"));
    assert_non_null(hone_node_get(metrics, "c"));
    for (int seq = 1; seq <= 5; seq++)
        hone_msg_destroy(&replies[seq]);

    /* and the store agrees */
    s_open(f, &tight, false);
    s_stored(f, 1, 2, 1);
    assert_int_equal(s_count_readings(f, "full", t0), 1);
    assert_int_equal(s_count_readings(f, "full", t1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_per_change_commits_each, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_change_is_undone_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch_is_undone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broker_refuses_a_failed_batch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
