#define _GNU_SOURCE
/* Unit tests for broker/generator (jobs, generations and best points, run on the
 * thread and come back in order, the descriptor is readable exactly while jobs wait)
 * and, in process, for the handlers that use it: a request naming a busy experiment
 * waits behind its generation in arrival order, others are answered at once, and
 * shutdown answers what was handed over. No timing assumptions: every wait is on the
 * generator's descriptor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment.h"
#include "generator.h"
#include "handlers.h"
#include "log.h"
#include "msg.h"
#include "registry.h"
#include "store.h"
#include "test_support.h"

#define S_WAIT_MS 60000

static const char *s_config(char *buf, size_t size, const char *name, const char *method, int d,
                            int budget)
{
    size_t len = (size_t) snprintf(buf, size, "{\"name\": \"%s\", \"parameters\": [", name);
    for (int i = 0; i < d; i++)
        len += (size_t) snprintf(buf + len, size - len,
                                 "%s{\"name\": \"x%d\", \"bounds\": [0.0, 1.0], \"parameter_type\": \"float\"}",
                                 i ? ", " : "", i);
    snprintf(buf + len, size - len, "], \"objective\": \"-y\", \"generation_strategy\": {\"method\": \"%s\", "
             "\"initialization_random_seed\": 5, \"initialization_budget\": %d}}", method, budget);
    return buf;
}

static bool s_fd_readable(int fd)
{
    struct pollfd item = { .fd = fd, .events = POLLIN };
    return poll(&item, 1, 0) == 1;
}

/* ---- the generator alone ---- */

static void test_jobs_come_back_in_order(void **state)
{
    (void) state;
    char config[4096];
    hone_error_t err;
    hone_experiment_t *a = NULL, *b = NULL;
    s_config(config, sizeof config, "a", "random_search", 2, 5);
    assert_int_equal(hone_experiment_from_json(&a, config, strlen(config), 1, &err), HONE_OK);
    s_config(config, sizeof config, "b", "fast", 3, 5);
    assert_int_equal(hone_experiment_from_json(&b, config, strlen(config), 1, &err), HONE_OK);

    hone_generator_t *gen = NULL;
    assert_int_equal(hone_generator_open(&gen, &err), HONE_OK);
    assert_false(s_fd_readable(hone_generator_fd(gen)));
    assert_null(hone_generator_collect(gen));
    assert_false(hone_generator_wait(gen, 0));

    int tag_a = 1, tag_b = 2;
    hone_generator_job_t *job = hone_generator_job_new(a, 3, &tag_a);
    hone_generator_submit(gen, &job);
    assert_null(job);
    job = hone_generator_job_new(b, 2, &tag_b);
    hone_generator_submit(gen, &job);
    assert_int_equal(hone_generator_outstanding(gen), 2);

    hone_generator_job_t *back[2] = { NULL, NULL };
    for (int got = 0; got < 2;) {
        assert_true(hone_generator_wait(gen, S_WAIT_MS));
        assert_true(s_fd_readable(hone_generator_fd(gen)));
        while ((job = hone_generator_collect(gen)))
            back[got++] = job;
    }
    assert_false(s_fd_readable(hone_generator_fd(gen)));    /* nothing left to collect */
    assert_int_equal(hone_generator_outstanding(gen), 0);

    assert_ptr_equal(back[0]->arg, &tag_a);
    assert_ptr_equal(back[0]->experiment, a);
    assert_int_equal(back[0]->rc, HONE_OK);
    assert_int_equal(back[0]->n, 3);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(back[0]->indices[i], i);
    assert_true(back[0]->started_ms >= back[0]->submitted_ms);
    assert_true(back[0]->finished_ms >= back[0]->started_ms);
    assert_ptr_equal(back[1]->arg, &tag_b);
    assert_int_equal(back[1]->n, 2);
    assert_int_equal(hone_experiment_trial_count(a), 3);
    assert_int_equal(hone_experiment_trial_count(b), 2);

    /* the core's refusal comes back as the job's code */
    hone_experiment_t *none = NULL;
    snprintf(config, sizeof config, "{\"name\": \"none\", \"parameters\": [{\"name\": \"x\", "
             "\"bounds\": [0.0, 1.0], \"parameter_type\": \"float\"}], \"objective\": \"y\", "
             "\"max_trials\": 1}");
    assert_int_equal(hone_experiment_from_json(&none, config, strlen(config), 1, &err), HONE_OK);
    for (int round = 0; round < 2; round++) {
        job = hone_generator_job_new(none, 1, NULL);
        hone_generator_submit(gen, &job);
        assert_true(hone_generator_wait(gen, S_WAIT_MS));
        job = hone_generator_collect(gen);
        assert_non_null(job);
        assert_int_equal(job->rc, round == 0 ? HONE_OK : HONE_EAGAIN);
        assert_int_equal(job->n, round == 0 ? 1 : 0);
        if (round == 1)
            assert_true(strlen(job->err.message) > 0);
        hone_generator_job_destroy(&job);
        assert_null(job);
    }

    /* a best job: HONE_EDATA before any result, then b's only completed trial (the
     * model path needs 5 points, so the raw one answers) */
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            hone_reading_in_t r = { "y", 0.25, NAN };
            assert_int_equal(hone_experiment_attach(b, 1, &r, 1, false, 0, false, &err), HONE_OK);
            assert_int_equal(hone_experiment_mark(b, 1, HONE_TRIAL_COMPLETED, NULL, &err), HONE_OK);
        }
        job = hone_generator_job_new_best(b, &tag_b);
        assert_int_equal(job->kind, HONE_GENERATOR_BEST);
        hone_generator_submit(gen, &job);
        assert_true(hone_generator_wait(gen, S_WAIT_MS));
        job = hone_generator_collect(gen);
        assert_non_null(job);
        assert_ptr_equal(job->arg, &tag_b);
        assert_int_equal(job->rc, round == 0 ? HONE_EDATA : HONE_OK);
        if (round == 1) {
            assert_int_equal(job->best.trial, 1);
            assert_int_equal(job->best.source, HONE_BEST_RAW);
            assert_true(job->best.mean == 0.25);
        }
        hone_generator_job_destroy(&job);
    }
    assert_int_equal(hone_experiment_trial_count(b), 2);    /* best makes no trial */

    /* a predict job at trial 1's point and at a corner: HONE_EDATA while one trial has
     * data, then a mean and a SEM per point, in order (copied: the caller's rows may go) */
    hone_value_t points[2 * 3];
    memcpy(points, hone_experiment_trial(b, 1)->params, 3 * sizeof *points);
    for (int k = 0; k < 3; k++)
        points[3 + k] = hone_value_float(1.0);
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            hone_reading_in_t r = { "y", 0.75, NAN };
            assert_int_equal(hone_experiment_attach(b, 0, &r, 1, false, 0, false, &err), HONE_OK);
            assert_int_equal(hone_experiment_mark(b, 0, HONE_TRIAL_COMPLETED, NULL, &err), HONE_OK);
        }
        job = hone_generator_job_new_predict(b, 2, points, &tag_b);
        assert_int_equal(job->kind, HONE_GENERATOR_PREDICT);
        assert_int_equal(job->n_points, 2);
        memset(points + 3, 0, 3 * sizeof *points);
        hone_generator_submit(gen, &job);
        assert_true(hone_generator_wait(gen, S_WAIT_MS));
        job = hone_generator_collect(gen);
        assert_non_null(job);
        assert_ptr_equal(job->arg, &tag_b);
        assert_int_equal(job->rc, round == 0 ? HONE_EDATA : HONE_OK);
        if (round == 1) {
            assert_true(fabs(job->mean[0] - 0.25) < 0.1);    /* near trial 1's reading */
            assert_true(isfinite(job->mean[1]));
            assert_true(job->sem[0] > 0 && job->sem[1] > job->sem[0]);
        } else {
            assert_non_null(strstr(job->err.message, "(1 so far)"));
        }
        hone_generator_job_destroy(&job);
        for (int k = 0; k < 3; k++)
            points[3 + k] = hone_value_float(1.0);
    }
    assert_int_equal(hone_experiment_trial_count(b), 2);    /* nor does predict */

    hone_generator_job_destroy(&back[0]);
    hone_generator_job_destroy(&back[1]);
    hone_generator_job_destroy(&back[1]);     /* safe twice */
    hone_generator_destroy(&gen);
    assert_null(gen);
    hone_generator_destroy(&gen);
    hone_experiment_destroy(&a);
    hone_experiment_destroy(&b);
    hone_experiment_destroy(&none);
}

/* ---- the handlers with a generator, in process ---- */

typedef struct {
    char *dir;                  /* temporary store directory */
    hone_store_t *store;
    hone_registry_t *registry;
    hone_generator_t *generator;
    hone_handlers_t *handlers;
    hone_msg_t *replies[64];    /* deferred replies, in the order they were sent */
    char peers[64][16];         /* the peer each was sent to */
    size_t n_replies;
    uint64_t seq;               /* last seq used */
} fixture_t;

static void s_capture(void *arg, const hone_handlers_peer_t *peer, hone_msg_t **reply)
{
    fixture_t *f = arg;
    assert_true(f->n_replies < 64);
    snprintf(f->peers[f->n_replies], sizeof f->peers[0], "%.*s", (int) peer->id_len,
             (const char *) peer->identity);
    f->replies[f->n_replies++] = *reply;
    *reply = NULL;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->dir = hone_test_tmpdir("generator");
    hone_log_set_level(HONE_LOG_WARN);
    hone_error_t err;
    assert_int_equal(hone_store_open(&f->store, f->dir, NULL, &err), HONE_OK);
    assert_int_equal(hone_registry_open(&f->registry, f->store, &err), HONE_OK);
    assert_int_equal(hone_generator_open(&f->generator, &err), HONE_OK);
    f->handlers = hone_handlers_new(f->registry);
    hone_handlers_use_generator(f->handlers, f->generator, s_capture, f);
    f->seq = 1000;
    *state = f;
    return 0;
}

static void s_forget_replies(fixture_t *f)
{
    for (size_t i = 0; i < f->n_replies; i++)
        hone_msg_destroy(&f->replies[i]);
    f->n_replies = 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    hone_handlers_finish(f->handlers);
    s_forget_replies(f);
    hone_handlers_destroy(&f->handlers);
    hone_generator_destroy(&f->generator);
    hone_registry_destroy(&f->registry);
    hone_store_destroy(&f->store);
    hone_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
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

/* Dispatches from the peer called `from`; returns the immediate reply or NULL. */
static hone_msg_t *s_dispatch(fixture_t *f, const char *from, hone_msg_t *msg)
{
    hone_handlers_peer_t peer = { .id_len = strlen(from) };
    memcpy(peer.identity, from, peer.id_len);
    hone_msg_t *reply = hone_handlers_dispatch(f->handlers, &peer, &msg, 0);
    assert_null(msg);
    return reply;
}

/* Collects generations until there are n deferred replies (a served request may start
 * a generation that finishes within the same collect, so more may come). */
static void s_collect_until(fixture_t *f, size_t n)
{
    while (f->n_replies < n) {
        assert_true(hone_generator_wait(f->generator, S_WAIT_MS));
        hone_handlers_collect(f->handlers, 0);
    }
}

static void s_expect_reply(const hone_msg_t *reply, hone_msg_id_t id, uint64_t seq)
{
    assert_non_null(reply);
    if (hone_msg_id(reply) != id) {
        char *text = hone_msg_to_text(reply);
        fprintf(stderr, "expected %s, got: %s\n", hone_msg_name(id), text);
        free(text);
    }
    assert_int_equal(hone_msg_id(reply), id);
    assert_int_equal(hone_msg_seq(reply), seq);
}

/* A "fast" experiment with n completed Sobol trials (initialization budget n), so that
 * the next generation fits a model. */
static void s_bo_experiment(fixture_t *f, const char *name, int n)
{
    char config[4096];
    hone_msg_t *msg = s_req(f, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", s_config(config, sizeof config, name, "fast", 2, n)),
                     HONE_OK);
    hone_msg_t *reply = s_dispatch(f, "client", msg);
    s_expect_reply(reply, HONE_MSG_OK, f->seq);
    hone_msg_destroy(&reply);
    /* `next` on a "fast" experiment goes through the generator too */
    msg = s_req(f, HONE_MSG_NEXT, name);
    assert_int_equal(hone_msg_set_int(msg, "count", n), HONE_OK);
    assert_null(s_dispatch(f, "client", msg));
    s_collect_until(f, 1);
    s_expect_reply(f->replies[0], HONE_MSG_OK, f->seq);
    s_forget_replies(f);
    for (int t = 0; t < n; t++) {
        msg = s_req(f, HONE_MSG_MARK, name);
        assert_int_equal(hone_msg_set_int(msg, "trial", t), HONE_OK);
        assert_int_equal(hone_msg_set_str(msg, "status", "COMPLETED"), HONE_OK);
        hone_node_t *metrics = hone_node_add_map(hone_msg_body(msg), "metrics");
        assert_non_null(hone_node_add_float(metrics, "y", (t * 7919) % 13 / 13.0));
        reply = s_dispatch(f, "client", msg);
        s_expect_reply(reply, HONE_MSG_OK, f->seq);
        hone_msg_destroy(&reply);
    }
}

static hone_msg_t *s_ready(fixture_t *f, const char *name, const char *worker)
{
    hone_msg_t *msg = s_req(f, HONE_MSG_READY, name);
    assert_int_equal(hone_msg_set_str(msg, "worker", worker), HONE_OK);
    return msg;
}

static void test_requests_wait_behind_their_experiment(void **state)
{
    fixture_t *f = *state;
    s_bo_experiment(f, "bo", 6);
    char config[4096];
    hone_msg_t *msg = s_req(f, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", s_config(config, sizeof config, "rs", "random_search", 2, 5)),
                     HONE_OK);
    hone_msg_t *reply = s_dispatch(f, "client", msg);
    hone_msg_destroy(&reply);

    /* ready (generation handed over), then requests that wait behind it */
    assert_null(s_dispatch(f, "w1", s_ready(f, "bo", "w1")));
    uint64_t ready1 = f->seq;
    msg = s_req(f, HONE_MSG_STATUS, "bo");
    assert_null(s_dispatch(f, "client", msg));
    uint64_t status = f->seq;
    assert_null(s_dispatch(f, "w2", s_ready(f, "bo", "w2")));
    uint64_t ready2 = f->seq;
    msg = s_req(f, HONE_MSG_LIST, "bo");
    assert_null(s_dispatch(f, "client", msg));
    uint64_t list = f->seq;

    /* other experiments, heartbeats and creates are answered at once */
    reply = s_dispatch(f, "w3", s_ready(f, "rs", "w3"));
    s_expect_reply(reply, HONE_MSG_TRIAL, f->seq);
    hone_msg_destroy(&reply);
    reply = s_dispatch(f, "w1", s_req(f, HONE_MSG_HEARTBEAT, NULL));
    s_expect_reply(reply, HONE_MSG_HEARTBEAT, f->seq);
    hone_msg_destroy(&reply);
    msg = s_req(f, HONE_MSG_CREATE, NULL);      /* the name of a busy experiment: refused */
    assert_int_equal(hone_msg_set_str(msg, "config", s_config(config, sizeof config, "bo", "fast", 2, 6)),
                     HONE_OK);
    reply = s_dispatch(f, "client", msg);
    s_expect_reply(reply, HONE_MSG_ERROR, f->seq);
    hone_msg_destroy(&reply);
    assert_int_equal(f->n_replies, 0);

    /* first generation back: its trial, then the status (which sees it), then the
     * second ready starts the next generation and the list waits behind that */
    s_collect_until(f, 4);
    assert_int_equal(f->n_replies, 4);
    s_expect_reply(f->replies[0], HONE_MSG_TRIAL, ready1);
    assert_string_equal(f->peers[0], "w1");
    int64_t t1 = 0;
    assert_int_equal(hone_msg_get_int(f->replies[0], "trial", &t1, NULL), HONE_OK);
    assert_int_equal(t1, 6);
    s_expect_reply(f->replies[1], HONE_MSG_OK, status);
    assert_string_equal(f->peers[1], "client");
    int64_t total = 0;
    assert_int_equal(hone_msg_get_int(f->replies[1], "total", &total, NULL), HONE_OK);
    assert_int_equal(total, 7);
    s_expect_reply(f->replies[2], HONE_MSG_TRIAL, ready2);
    assert_string_equal(f->peers[2], "w2");
    int64_t t2 = 0;
    assert_int_equal(hone_msg_get_int(f->replies[2], "trial", &t2, NULL), HONE_OK);
    assert_int_equal(t2, 7);
    s_expect_reply(f->replies[3], HONE_MSG_OK, list);
    assert_int_equal(hone_node_len(hone_msg_get(f->replies[3], "trials")), 8);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 3);

    /* a worker asking again while holding its trial resumes it, without a generation */
    reply = s_dispatch(f, "w1", s_ready(f, "bo", "w1"));
    s_expect_reply(reply, HONE_MSG_TRIAL, f->seq);
    int64_t again = 0;
    assert_int_equal(hone_msg_get_int(reply, "trial", &again, NULL), HONE_OK);
    assert_int_equal(again, t1);
    hone_msg_destroy(&reply);
}

/* A `predict` request for the single point (x, x) of a 2-parameter experiment. */
static hone_msg_t *s_predict(fixture_t *f, const char *name, double x)
{
    hone_msg_t *msg = s_req(f, HONE_MSG_PREDICT, name);
    hone_node_t *point = hone_node_add_map(hone_node_add_array(hone_msg_body(msg), "points"), NULL);
    assert_non_null(hone_node_add_float(point, "x0", x));
    assert_non_null(hone_node_add_float(point, "x1", x));
    return msg;
}

static void test_predict_waits_like_best(void **state)
{
    fixture_t *f = *state;
    s_bo_experiment(f, "bo", 6);
    char config[4096];
    hone_msg_t *msg = s_req(f, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", s_config(config, sizeof config, "rs", "random_search", 2, 5)),
                     HONE_OK);
    hone_msg_t *reply = s_dispatch(f, "client", msg);
    hone_msg_destroy(&reply);

    /* a point outside the space is refused at once, without a model fit */
    reply = s_dispatch(f, "client", s_predict(f, "bo", 2.0));
    s_expect_reply(reply, HONE_MSG_ERROR, f->seq);
    hone_msg_destroy(&reply);

    /* predict hands the experiment over; a status of it waits, other experiments and
     * heartbeats do not; random_search experiments predict on the generator too */
    assert_null(s_dispatch(f, "client", s_predict(f, "bo", 0.5)));
    uint64_t predict = f->seq;
    assert_null(s_dispatch(f, "client", s_req(f, HONE_MSG_STATUS, "bo")));
    uint64_t status = f->seq;
    reply = s_dispatch(f, "w1", s_req(f, HONE_MSG_HEARTBEAT, NULL));
    s_expect_reply(reply, HONE_MSG_HEARTBEAT, f->seq);
    hone_msg_destroy(&reply);
    reply = s_dispatch(f, "client", s_req(f, HONE_MSG_STATUS, "rs"));
    s_expect_reply(reply, HONE_MSG_OK, f->seq);
    hone_msg_destroy(&reply);
    assert_null(s_dispatch(f, "client", s_predict(f, "rs", 0.5)));
    uint64_t predict_rs = f->seq;
    assert_int_equal(f->n_replies, 0);

    s_collect_until(f, 3);
    assert_int_equal(f->n_replies, 3);
    s_expect_reply(f->replies[0], HONE_MSG_OK, predict);
    const hone_node_t *predictions = hone_msg_get(f->replies[0], "predictions");
    assert_int_equal(hone_node_len(predictions), 1);
    assert_int_equal(hone_node_type(hone_node_get(hone_node_at(predictions, 0), "mean")), HONE_NODE_FLOAT);
    assert_int_equal(hone_node_type(hone_node_get(hone_node_at(predictions, 0), "sem")), HONE_NODE_FLOAT);
    const char *metric = NULL;
    assert_int_equal(hone_msg_get_str(f->replies[0], "metric", &metric, NULL), HONE_OK);
    assert_string_equal(metric, "y");
    s_expect_reply(f->replies[1], HONE_MSG_OK, status);
    s_expect_reply(f->replies[2], HONE_MSG_ERROR, predict_rs);     /* no data yet */
    int64_t code = 0;
    assert_int_equal(hone_msg_get_int(f->replies[2], "code", &code, NULL), HONE_OK);
    assert_int_equal(code, HONE_EDATA);
}

static void test_finish_answers_what_was_handed_over(void **state)
{
    fixture_t *f = *state;
    s_bo_experiment(f, "bo", 6);
    assert_null(s_dispatch(f, "w1", s_ready(f, "bo", "w1")));
    uint64_t ready1 = f->seq;
    assert_null(s_dispatch(f, "w2", s_ready(f, "bo", "w2")));  /* would start another: dropped */
    hone_msg_t *msg = s_req(f, HONE_MSG_STATUS, "bo");
    assert_null(s_dispatch(f, "client", msg));
    uint64_t status = f->seq;
    assert_null(s_dispatch(f, "client", s_predict(f, "bo", 0.5)));   /* answered inline */
    uint64_t predict = f->seq;

    hone_handlers_finish(f->handlers);
    assert_int_equal(f->n_replies, 3);
    s_expect_reply(f->replies[0], HONE_MSG_TRIAL, ready1);
    s_expect_reply(f->replies[1], HONE_MSG_OK, status);
    s_expect_reply(f->replies[2], HONE_MSG_OK, predict);
    assert_int_equal(hone_node_len(hone_msg_get(f->replies[2], "predictions")), 1);
    int64_t total = 0;
    assert_int_equal(hone_msg_get_int(f->replies[1], "total", &total, NULL), HONE_OK);
    assert_int_equal(total, 7);     /* w2's trial was never made */
    assert_int_equal(hone_generator_outstanding(f->generator), 0);
    hone_handlers_finish(f->handlers);     /* idempotent */
    assert_int_equal(f->n_replies, 3);

    /* what was answered is stored: a fresh registry finds the trial */
    s_forget_replies(f);
    hone_handlers_destroy(&f->handlers);
    hone_registry_destroy(&f->registry);
    hone_error_t err;
    assert_int_equal(hone_registry_open(&f->registry, f->store, &err), HONE_OK);
    f->handlers = hone_handlers_new(f->registry);   /* no generator: inline from here */
    hone_msg_t *reply = s_dispatch(f, "client", s_req(f, HONE_MSG_STATUS, "bo"));
    s_expect_reply(reply, HONE_MSG_OK, f->seq);
    assert_int_equal(hone_msg_get_int(reply, "total", &total, NULL), HONE_OK);
    assert_int_equal(total, 7);
    hone_msg_destroy(&reply);
    reply = s_dispatch(f, "client", s_predict(f, "bo", 0.25));   /* inline without a generator */
    s_expect_reply(reply, HONE_MSG_OK, f->seq);
    assert_int_equal(hone_node_len(hone_msg_get(reply, "predictions")), 1);
    hone_msg_destroy(&reply);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_come_back_in_order),
        cmocka_unit_test_setup_teardown(test_requests_wait_behind_their_experiment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_predict_waits_like_best, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finish_answers_what_was_handed_over, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
