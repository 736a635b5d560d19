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

#include "broker_harness.h"
#include "experiment.h"
#include "log.h"
#include "wire.h"

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

/* Submits job (taken) to an idle generator and returns it once done. */
static hone_generator_job_t *s_run_job(hone_generator_t *gen, hone_generator_job_t **job)
{
    hone_generator_submit(gen, job);
    assert_true(hone_generator_wait(gen, S_WAIT_MS));
    hone_generator_job_t *done = hone_generator_collect(gen);
    assert_non_null(done);
    return done;
}

/* Completes trial index of exp with the reading y = value. */
static void s_complete(hone_experiment_t *exp, uint32_t index, double value)
{
    hone_error_t err;
    hone_reading_in_t r = { "y", value, NAN };
    assert_int_equal(hone_experiment_attach(exp, index, &r, 1, false, 0, false, &err), HONE_OK);
    assert_int_equal(hone_experiment_mark(exp, index, HONE_TRIAL_COMPLETED, NULL, &err), HONE_OK);
}

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
        job = s_run_job(gen, &job);
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
        if (round == 1)
            s_complete(b, 1, 0.25);
        job = hone_generator_job_new_best(b, &tag_b);
        assert_int_equal(job->kind, HONE_GENERATOR_BEST);
        job = s_run_job(gen, &job);
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
        if (round == 1)
            s_complete(b, 0, 0.75);
        job = hone_generator_job_new_predict(b, 2, points, NULL, &tag_b);
        assert_int_equal(job->kind, HONE_GENERATOR_PREDICT);
        assert_int_equal(job->n_points, 2);
        memset(points + 3, 0, 3 * sizeof *points);
        job = s_run_job(gen, &job);
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

static int setup(void **state)
{
    hone_log_set_level(HONE_LOG_WARN);
    hone_harness_t *h = hone_harness_new("generator");
    h->now = 0;
    h->seq = 1000;
    hone_harness_open(h, NULL);
    hone_harness_use_generator(h);
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    hone_harness_t *h = *state;
    hone_harness_destroy(&h);
    return 0;
}

/* Asserts reply is of type id and answers the request with seq. */
static void s_expect_reply(hone_msg_t *reply, hone_msg_id_t id, uint64_t seq)
{
    hone_test_expect(reply, id);
    assert_int_equal(hone_msg_seq(reply), seq);
}

/* A "fast" experiment with n completed Sobol trials (initialization budget n), so that
 * the next generation fits a model; prefetch candidates kept ahead. */
static void s_bo_experiment_ex(hone_harness_t *h, const char *name, int n, int prefetch)
{
    char config[4096];
    s_config(config, sizeof config - 32, name, "fast", 2, n);
    size_t len = strlen(config);
    snprintf(config + len - 2, sizeof config - len + 2, ", \"prefetch\": %d}}", prefetch);
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", config), HONE_OK);
    hone_msg_t *reply = hone_harness_dispatch(h, "client", msg);
    s_expect_reply(reply, HONE_MSG_OK, h->seq);
    hone_msg_destroy(&reply);
    /* `next` on a "fast" experiment goes through the generator too */
    msg = hone_test_req(&h->seq, HONE_MSG_NEXT, name);
    assert_int_equal(hone_msg_set_int(msg, "count", n), HONE_OK);
    assert_null(hone_harness_dispatch(h, "client", msg));
    hone_harness_collect_until(h, 1, S_WAIT_MS);
    s_expect_reply(h->replies[0], HONE_MSG_OK, h->seq);
    hone_harness_forget_replies(h);
    for (int t = 0; t < n; t++) {
        msg = hone_test_req(&h->seq, HONE_MSG_MARK, name);
        assert_int_equal(hone_msg_set_int(msg, "trial", t), HONE_OK);
        assert_int_equal(hone_msg_set_str(msg, "status", "COMPLETED"), HONE_OK);
        hone_node_t *metrics = hone_node_add_map(hone_msg_body(msg), "metrics");
        assert_non_null(hone_node_add_float(metrics, "y", (t * 7919) % 13 / 13.0));
        reply = hone_harness_dispatch(h, "client", msg);
        s_expect_reply(reply, HONE_MSG_OK, h->seq);
        hone_msg_destroy(&reply);
    }
}

static void s_bo_experiment(hone_harness_t *h, const char *name, int n)
{
    s_bo_experiment_ex(h, name, n, 0);
}

static hone_msg_t *s_ready(hone_harness_t *h, const char *name, const char *worker)
{
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_READY, name);
    assert_int_equal(hone_msg_set_str(msg, "worker", worker), HONE_OK);
    return msg;
}

/* Experiments "bo" (6 completed Sobol trials: its next generation fits a model) and
 * "rs" (random search, no trial yet). */
static void s_bo_and_random(hone_harness_t *h)
{
    s_bo_experiment(h, "bo", 6);
    char config[4096];
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", s_config(config, sizeof config, "rs", "random_search", 2, 5)),
                     HONE_OK);
    hone_msg_t *reply = hone_harness_dispatch(h, "client", msg);
    hone_msg_destroy(&reply);
}

/* A generation runs on a snapshot: while it runs, `ready` and `next` of that experiment
 * wait (each trial is generated with the ones before it pending), everything else is
 * answered at once on the live experiment, and a reading that arrives meanwhile is kept
 * when the generated trial joins. */
static void test_generation_runs_on_a_snapshot(void **state)
{
    hone_harness_t *h = *state;
    s_bo_and_random(h);
    char config[4096];
    hone_msg_t *msg, *reply;

    /* ready: the generation starts on a snapshot */
    assert_null(hone_harness_dispatch(h, "w1", s_ready(h, "bo", "w1")));
    uint64_t ready1 = h->seq;
    /* status and list of the same experiment: at once, without the trial being made */
    reply = hone_harness_dispatch(h, "client", hone_test_req(&h->seq, HONE_MSG_STATUS, "bo"));
    s_expect_reply(reply, HONE_MSG_OK, h->seq);
    int64_t total = 0;
    assert_int_equal(hone_msg_get_int(reply, "total", &total, NULL), HONE_OK);
    assert_int_equal(total, 6);
    hone_msg_destroy(&reply);
    /* a second ready waits for the first generation */
    assert_null(hone_harness_dispatch(h, "w2", s_ready(h, "bo", "w2")));
    uint64_t ready2 = h->seq;
    /* a reading meanwhile: a client attaches to trial 0 */
    msg = hone_test_req(&h->seq, HONE_MSG_ATTACH, "bo");
    assert_int_equal(hone_msg_set_int(msg, "trial", 0), HONE_OK);
    assert_non_null(hone_node_add_float(hone_node_add_map(hone_msg_body(msg), "metrics"), "z", 4.5));
    reply = hone_harness_dispatch(h, "client", msg);
    s_expect_reply(reply, HONE_MSG_OK, h->seq);
    hone_msg_destroy(&reply);

    /* other experiments, heartbeats and creates are answered at once */
    reply = hone_harness_dispatch(h, "w3", s_ready(h, "rs", "w3"));
    s_expect_reply(reply, HONE_MSG_TRIAL, h->seq);
    hone_msg_destroy(&reply);
    reply = hone_harness_dispatch(h, "w1", hone_test_req(&h->seq, HONE_MSG_HEARTBEAT, NULL));
    s_expect_reply(reply, HONE_MSG_HEARTBEAT, h->seq);
    hone_msg_destroy(&reply);
    msg = hone_test_req(&h->seq, HONE_MSG_CREATE, NULL);      /* the name of an existing experiment: refused */
    assert_int_equal(hone_msg_set_str(msg, "config", s_config(config, sizeof config, "bo", "fast", 2, 6)),
                     HONE_OK);
    reply = hone_harness_dispatch(h, "client", msg);
    s_expect_reply(reply, HONE_MSG_ERROR, h->seq);
    hone_msg_destroy(&reply);
    assert_int_equal(h->n_replies, 0);

    /* first generation back: its trial; the waiting ready starts the next generation,
     * which sees trial 6 pending and makes trial 7 */
    hone_harness_collect_until(h, 2, S_WAIT_MS);
    assert_int_equal(h->n_replies, 2);
    s_expect_reply(h->replies[0], HONE_MSG_TRIAL, ready1);
    assert_string_equal(h->peers[0], "w1");
    int64_t t1 = 0;
    assert_int_equal(hone_msg_get_int(h->replies[0], "trial", &t1, NULL), HONE_OK);
    assert_int_equal(t1, 6);
    s_expect_reply(h->replies[1], HONE_MSG_TRIAL, ready2);
    assert_string_equal(h->peers[1], "w2");
    int64_t t2 = 0;
    assert_int_equal(hone_msg_get_int(h->replies[1], "trial", &t2, NULL), HONE_OK);
    assert_int_equal(t2, 7);
    reply = hone_harness_dispatch(h, "client", hone_test_req(&h->seq, HONE_MSG_LIST, "bo"));
    s_expect_reply(reply, HONE_MSG_OK, h->seq);
    assert_int_equal(hone_node_len(hone_msg_get(reply, "trials")), 8);
    hone_msg_destroy(&reply);
    assert_int_equal(hone_handlers_lease_count(h->handlers), 3);
    /* the reading attached during the generation is still there */
    hone_experiment_t *exp;
    assert_int_equal(hone_registry_find(h->registry, "bo", &exp, NULL), HONE_OK);
    int metric = hone_experiment_metric_find(exp, "z");
    assert_true(metric >= 0);
    double mean;
    assert_true(hone_trial_latest(hone_experiment_trial(exp, 0), (uint32_t) metric, &mean, NULL));
    assert_true(mean == 4.5);

    /* a worker asking again while holding its trial resumes it, without a generation */
    reply = hone_harness_dispatch(h, "w1", s_ready(h, "bo", "w1"));
    s_expect_reply(reply, HONE_MSG_TRIAL, h->seq);
    int64_t again = 0;
    assert_int_equal(hone_msg_get_int(reply, "trial", &again, NULL), HONE_OK);
    assert_int_equal(again, t1);
    hone_msg_destroy(&reply);
}

static size_t s_count(hone_harness_t *h, const char *name, hone_trial_status_t status)
{
    hone_experiment_t *exp;
    assert_int_equal(hone_registry_find(h->registry, name, &exp, NULL), HONE_OK);
    return hone_experiment_count_status(exp, status);
}

/* generation_strategy.prefetch: after the first fresh trial, candidates are generated
 * ahead in the background; a `ready` that finds one is answered at once, even while a
 * refill runs, and the queue survives a restart. */
static void test_prefetch_queue(void **state)
{
    hone_harness_t *h = *state;
    s_bo_experiment_ex(h, "pf", 6, 3);
    assert_null(hone_harness_dispatch(h, "w1", s_ready(h, "pf", "w1")));   /* no candidate yet: fresh */
    uint64_t ready1 = h->seq;
    hone_harness_collect_until(h, 1, S_WAIT_MS);
    s_expect_reply(h->replies[0], HONE_MSG_TRIAL, ready1);
    /* a refill of 3 candidates started when w1 was answered; w2 waits for it */
    assert_int_equal(hone_generator_outstanding(h->generator), 1);
    assert_null(hone_harness_dispatch(h, "w2", s_ready(h, "pf", "w2")));
    uint64_t ready2 = h->seq;
    hone_harness_collect_until(h, 2, S_WAIT_MS);
    s_expect_reply(h->replies[1], HONE_MSG_TRIAL, ready2);
    int64_t t2 = 0;
    assert_int_equal(hone_msg_get_int(h->replies[1], "trial", &t2, NULL), HONE_OK);
    assert_int_equal(t2, 7);   /* the oldest candidate */
    /* w2 took one: a refill of 1 runs (it may be back already: collect takes every
     * finished job), and w3 is answered at once from the queue */
    assert_true(hone_generator_outstanding(h->generator) <= 1);
    hone_msg_t *reply = hone_harness_dispatch(h, "w3", s_ready(h, "pf", "w3"));
    s_expect_reply(reply, HONE_MSG_TRIAL, h->seq);
    int64_t t3 = 0;
    assert_int_equal(hone_msg_get_int(reply, "trial", &t3, NULL), HONE_OK);
    assert_int_equal(t3, 8);
    hone_msg_destroy(&reply);
    hone_harness_collect_all(h, S_WAIT_MS);
    assert_int_equal(s_count(h, "pf", HONE_TRIAL_CANDIDATE), 3);
    assert_int_equal(s_count(h, "pf", HONE_TRIAL_RUNNING), 3);
    /* every arm distinct: 6 Sobol + 3 running + 3 candidates */
    hone_experiment_t *exp;
    assert_int_equal(hone_registry_find(h->registry, "pf", &exp, NULL), HONE_OK);
    size_t n = hone_experiment_trial_count(exp);
    assert_int_equal(n, 12);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            assert_false(hone_space_points_equal(hone_experiment_space(exp), hone_experiment_trial(exp, (uint32_t) i)->params,
                                                 hone_experiment_trial(exp, (uint32_t) j)->params));

    /* restart: the candidates were stored, and the next worker gets one at once */
    hone_harness_reload(h);
    assert_int_equal(s_count(h, "pf", HONE_TRIAL_CANDIDATE), 3);
    reply = hone_harness_dispatch(h, "w4", s_ready(h, "pf", "w4"));
    s_expect_reply(reply, HONE_MSG_TRIAL, h->seq);
    int64_t t4 = 0;
    assert_int_equal(hone_msg_get_int(reply, "trial", &t4, NULL), HONE_OK);
    assert_int_equal(t4, 9);
    hone_msg_destroy(&reply);
    assert_int_equal(s_count(h, "pf", HONE_TRIAL_CANDIDATE), 2);
}

/* Parked requests are capped: past HONE_HANDLERS_PARKED_MAX waiting behind fits, a
 * `ready` is told no_work (with a retry hint) and a `next` HONE_EAGAIN, at once; the
 * parked ones are all served when the fit comes back. */
static void test_parked_requests_are_capped(void **state)
{
    hone_harness_t *h = *state;
    s_bo_experiment(h, "cap", 6);
    assert_null(hone_harness_dispatch(h, "w0", s_ready(h, "cap", "w0")));   /* starts a generation */
    for (int i = 0; i < HONE_HANDLERS_PARKED_MAX; i++) {
        char worker[16];
        snprintf(worker, sizeof worker, "p%d", i);
        hone_msg_t *reply = hone_harness_dispatch(h, worker, s_ready(h, "cap", worker));
        assert_null(reply);
    }
    hone_msg_t *reply = hone_harness_dispatch(h, "late", s_ready(h, "cap", "late"));
    s_expect_reply(reply, HONE_MSG_NO_WORK, h->seq);
    int64_t retry = 0;
    assert_int_equal(hone_msg_get_int(reply, "retry_ms", &retry, NULL), HONE_OK);
    assert_true(retry > 0);
    hone_msg_destroy(&reply);
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_NEXT, "cap");
    reply = hone_harness_dispatch(h, "client", msg);
    s_expect_reply(reply, HONE_MSG_ERROR, h->seq);
    int64_t code = 0;
    assert_int_equal(hone_msg_get_int(reply, "code", &code, NULL), HONE_OK);
    assert_int_equal(code, HONE_EAGAIN);
    hone_msg_destroy(&reply);
    /* shutting down serves (or drops) every parked request: nothing is left behind */
    hone_handlers_finish(h->handlers);
    assert_int_equal(hone_generator_outstanding(h->generator), 0);
    hone_harness_forget_replies(h);
}

/* A `predict` request for the single point (x, x) of a 2-parameter experiment. */
static hone_msg_t *s_predict(hone_harness_t *h, const char *name, double x)
{
    hone_msg_t *msg = hone_test_req(&h->seq, HONE_MSG_PREDICT, name);
    hone_node_t *point = hone_node_add_map(hone_node_add_array(hone_msg_body(msg), "points"), NULL);
    assert_non_null(hone_node_add_float(point, "x0", x));
    assert_non_null(hone_node_add_float(point, "x1", x));
    return msg;
}

static void test_predict_runs_on_a_snapshot(void **state)
{
    hone_harness_t *h = *state;
    s_bo_and_random(h);

    /* a point outside the space is refused at once, without a model fit */
    hone_msg_t *reply = hone_harness_dispatch(h, "client", s_predict(h, "bo", 2.0));
    s_expect_reply(reply, HONE_MSG_ERROR, h->seq);
    hone_msg_destroy(&reply);

    /* predict runs on a snapshot: a status of the experiment is answered at once, as are
     * other experiments and heartbeats; random_search experiments predict on the
     * generator too */
    assert_null(hone_harness_dispatch(h, "client", s_predict(h, "bo", 0.5)));
    uint64_t predict = h->seq;
    reply = hone_harness_dispatch(h, "client", hone_test_req(&h->seq, HONE_MSG_STATUS, "bo"));
    s_expect_reply(reply, HONE_MSG_OK, h->seq);
    hone_msg_destroy(&reply);
    reply = hone_harness_dispatch(h, "w1", hone_test_req(&h->seq, HONE_MSG_HEARTBEAT, NULL));
    s_expect_reply(reply, HONE_MSG_HEARTBEAT, h->seq);
    hone_msg_destroy(&reply);
    reply = hone_harness_dispatch(h, "client", hone_test_req(&h->seq, HONE_MSG_STATUS, "rs"));
    s_expect_reply(reply, HONE_MSG_OK, h->seq);
    hone_msg_destroy(&reply);
    assert_null(hone_harness_dispatch(h, "client", s_predict(h, "rs", 0.5)));
    uint64_t predict_rs = h->seq;
    assert_int_equal(h->n_replies, 0);

    hone_harness_collect_until(h, 2, S_WAIT_MS);
    assert_int_equal(h->n_replies, 2);
    s_expect_reply(h->replies[0], HONE_MSG_OK, predict);
    const hone_node_t *predictions = hone_msg_get(h->replies[0], "predictions");
    assert_int_equal(hone_node_len(predictions), 1);
    assert_int_equal(hone_node_type(hone_node_get(hone_node_at(predictions, 0), "mean")), HONE_NODE_FLOAT);
    assert_int_equal(hone_node_type(hone_node_get(hone_node_at(predictions, 0), "sem")), HONE_NODE_FLOAT);
    const char *metric = NULL;
    assert_int_equal(hone_msg_get_str(h->replies[0], "metric", &metric, NULL), HONE_OK);
    assert_string_equal(metric, "y");
    s_expect_reply(h->replies[1], HONE_MSG_ERROR, predict_rs);     /* no data yet */
    int64_t code = 0;
    assert_int_equal(hone_msg_get_int(h->replies[1], "code", &code, NULL), HONE_OK);
    assert_int_equal(code, HONE_EDATA);
}

static void test_finish_answers_what_was_handed_over(void **state)
{
    hone_harness_t *h = *state;
    s_bo_experiment(h, "bo", 6);
    assert_null(hone_harness_dispatch(h, "w1", s_ready(h, "bo", "w1")));
    uint64_t ready1 = h->seq;
    assert_null(hone_harness_dispatch(h, "w2", s_ready(h, "bo", "w2")));  /* would start another: dropped */
    assert_null(hone_harness_dispatch(h, "client", s_predict(h, "bo", 0.5)));   /* on a snapshot */
    uint64_t predict = h->seq;

    hone_handlers_finish(h->handlers);
    assert_int_equal(h->n_replies, 2);
    s_expect_reply(h->replies[0], HONE_MSG_TRIAL, ready1);
    s_expect_reply(h->replies[1], HONE_MSG_OK, predict);
    assert_int_equal(hone_node_len(hone_msg_get(h->replies[1], "predictions")), 1);
    int64_t total = 0;
    assert_int_equal(hone_generator_outstanding(h->generator), 0);
    hone_handlers_finish(h->handlers);     /* idempotent */
    assert_int_equal(h->n_replies, 2);

    /* what was answered is stored: a fresh registry finds the trial */
    hone_harness_reload(h);     /* no generator: inline from here */
    hone_msg_t *reply = hone_harness_dispatch(h, "client", hone_test_req(&h->seq, HONE_MSG_STATUS, "bo"));
    s_expect_reply(reply, HONE_MSG_OK, h->seq);
    assert_int_equal(hone_msg_get_int(reply, "total", &total, NULL), HONE_OK);
    assert_int_equal(total, 7);
    hone_msg_destroy(&reply);
    reply = hone_harness_dispatch(h, "client", s_predict(h, "bo", 0.25));   /* inline without a generator */
    s_expect_reply(reply, HONE_MSG_OK, h->seq);
    assert_int_equal(hone_node_len(hone_msg_get(reply, "predictions")), 1);
    hone_msg_destroy(&reply);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_come_back_in_order),
        cmocka_unit_test_setup_teardown(test_generation_runs_on_a_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefetch_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parked_requests_are_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_predict_runs_on_a_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finish_answers_what_was_handed_over, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
