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
 * the next generation fits a model; prefetch candidates kept ahead. */
static void s_bo_experiment_ex(fixture_t *f, const char *name, int n, int prefetch)
{
    char config[4096];
    s_config(config, sizeof config - 32, name, "fast", 2, n);
    size_t len = strlen(config);
    snprintf(config + len - 2, sizeof config - len + 2, ", \"prefetch\": %d}}", prefetch);
    hone_msg_t *msg = s_req(f, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", config), HONE_OK);
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

static void s_bo_experiment(fixture_t *f, const char *name, int n)
{
    s_bo_experiment_ex(f, name, n, 0);
}

static hone_msg_t *s_ready(fixture_t *f, const char *name, const char *worker)
{
    hone_msg_t *msg = s_req(f, HONE_MSG_READY, name);
    assert_int_equal(hone_msg_set_str(msg, "worker", worker), HONE_OK);
    return msg;
}

/* A generation runs on a snapshot: while it runs, `ready` and `next` of that experiment
 * wait (each trial is generated with the ones before it pending), everything else is
 * answered at once on the live experiment, and a reading that arrives meanwhile is kept
 * when the generated trial joins. */
static void test_generation_runs_on_a_snapshot(void **state)
{
    fixture_t *f = *state;
    s_bo_experiment(f, "bo", 6);
    char config[4096];
    hone_msg_t *msg = s_req(f, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config", s_config(config, sizeof config, "rs", "random_search", 2, 5)),
                     HONE_OK);
    hone_msg_t *reply = s_dispatch(f, "client", msg);
    hone_msg_destroy(&reply);

    /* ready: the generation starts on a snapshot */
    assert_null(s_dispatch(f, "w1", s_ready(f, "bo", "w1")));
    uint64_t ready1 = f->seq;
    /* status and list of the same experiment: at once, without the trial being made */
    reply = s_dispatch(f, "client", s_req(f, HONE_MSG_STATUS, "bo"));
    s_expect_reply(reply, HONE_MSG_OK, f->seq);
    int64_t total = 0;
    assert_int_equal(hone_msg_get_int(reply, "total", &total, NULL), HONE_OK);
    assert_int_equal(total, 6);
    hone_msg_destroy(&reply);
    /* a second ready waits for the first generation */
    assert_null(s_dispatch(f, "w2", s_ready(f, "bo", "w2")));
    uint64_t ready2 = f->seq;
    /* a reading meanwhile: a client attaches to trial 0 */
    msg = s_req(f, HONE_MSG_ATTACH, "bo");
    assert_int_equal(hone_msg_set_int(msg, "trial", 0), HONE_OK);
    assert_non_null(hone_node_add_float(hone_node_add_map(hone_msg_body(msg), "metrics"), "z", 4.5));
    reply = s_dispatch(f, "client", msg);
    s_expect_reply(reply, HONE_MSG_OK, f->seq);
    hone_msg_destroy(&reply);

    /* other experiments, heartbeats and creates are answered at once */
    reply = s_dispatch(f, "w3", s_ready(f, "rs", "w3"));
    s_expect_reply(reply, HONE_MSG_TRIAL, f->seq);
    hone_msg_destroy(&reply);
    reply = s_dispatch(f, "w1", s_req(f, HONE_MSG_HEARTBEAT, NULL));
    s_expect_reply(reply, HONE_MSG_HEARTBEAT, f->seq);
    hone_msg_destroy(&reply);
    msg = s_req(f, HONE_MSG_CREATE, NULL);      /* the name of an existing experiment: refused */
    assert_int_equal(hone_msg_set_str(msg, "config", s_config(config, sizeof config, "bo", "fast", 2, 6)),
                     HONE_OK);
    reply = s_dispatch(f, "client", msg);
    s_expect_reply(reply, HONE_MSG_ERROR, f->seq);
    hone_msg_destroy(&reply);
    assert_int_equal(f->n_replies, 0);

    /* first generation back: its trial; the waiting ready starts the next generation,
     * which sees trial 6 pending and makes trial 7 */
    s_collect_until(f, 2);
    assert_int_equal(f->n_replies, 2);
    s_expect_reply(f->replies[0], HONE_MSG_TRIAL, ready1);
    assert_string_equal(f->peers[0], "w1");
    int64_t t1 = 0;
    assert_int_equal(hone_msg_get_int(f->replies[0], "trial", &t1, NULL), HONE_OK);
    assert_int_equal(t1, 6);
    s_expect_reply(f->replies[1], HONE_MSG_TRIAL, ready2);
    assert_string_equal(f->peers[1], "w2");
    int64_t t2 = 0;
    assert_int_equal(hone_msg_get_int(f->replies[1], "trial", &t2, NULL), HONE_OK);
    assert_int_equal(t2, 7);
    reply = s_dispatch(f, "client", s_req(f, HONE_MSG_LIST, "bo"));
    s_expect_reply(reply, HONE_MSG_OK, f->seq);
    assert_int_equal(hone_node_len(hone_msg_get(reply, "trials")), 8);
    hone_msg_destroy(&reply);
    assert_int_equal(hone_handlers_lease_count(f->handlers), 3);
    /* the reading attached during the generation is still there */
    hone_experiment_t *exp;
    assert_int_equal(hone_registry_find(f->registry, "bo", &exp, NULL), HONE_OK);
    int metric = hone_experiment_metric_find(exp, "z");
    assert_true(metric >= 0);
    double mean;
    assert_true(hone_trial_latest(hone_experiment_trial(exp, 0), (uint32_t) metric, &mean, NULL));
    assert_true(mean == 4.5);

    /* a worker asking again while holding its trial resumes it, without a generation */
    reply = s_dispatch(f, "w1", s_ready(f, "bo", "w1"));
    s_expect_reply(reply, HONE_MSG_TRIAL, f->seq);
    int64_t again = 0;
    assert_int_equal(hone_msg_get_int(reply, "trial", &again, NULL), HONE_OK);
    assert_int_equal(again, t1);
    hone_msg_destroy(&reply);
}

static size_t s_count(fixture_t *f, const char *name, hone_trial_status_t status)
{
    hone_experiment_t *exp;
    assert_int_equal(hone_registry_find(f->registry, name, &exp, NULL), HONE_OK);
    return hone_experiment_count_status(exp, status);
}

/* generation_strategy.prefetch: after the first fresh trial, candidates are generated
 * ahead in the background; a `ready` that finds one is answered at once, even while a
 * refill runs, and the queue survives a restart. */
static void test_prefetch_queue(void **state)
{
    fixture_t *f = *state;
    s_bo_experiment_ex(f, "pf", 6, 3);
    assert_null(s_dispatch(f, "w1", s_ready(f, "pf", "w1")));   /* no candidate yet: fresh */
    uint64_t ready1 = f->seq;
    s_collect_until(f, 1);
    s_expect_reply(f->replies[0], HONE_MSG_TRIAL, ready1);
    /* a refill of 3 candidates started when w1 was answered; w2 waits for it */
    assert_int_equal(hone_generator_outstanding(f->generator), 1);
    assert_null(s_dispatch(f, "w2", s_ready(f, "pf", "w2")));
    uint64_t ready2 = f->seq;
    s_collect_until(f, 2);
    s_expect_reply(f->replies[1], HONE_MSG_TRIAL, ready2);
    int64_t t2 = 0;
    assert_int_equal(hone_msg_get_int(f->replies[1], "trial", &t2, NULL), HONE_OK);
    assert_int_equal(t2, 7);   /* the oldest candidate */
    /* w2 took one: a refill of 1 runs (it may be back already: collect takes every
     * finished job), and w3 is answered at once from the queue */
    assert_true(hone_generator_outstanding(f->generator) <= 1);
    hone_msg_t *reply = s_dispatch(f, "w3", s_ready(f, "pf", "w3"));
    s_expect_reply(reply, HONE_MSG_TRIAL, f->seq);
    int64_t t3 = 0;
    assert_int_equal(hone_msg_get_int(reply, "trial", &t3, NULL), HONE_OK);
    assert_int_equal(t3, 8);
    hone_msg_destroy(&reply);
    while (hone_generator_outstanding(f->generator) > 0) {
        assert_true(hone_generator_wait(f->generator, S_WAIT_MS));
        hone_handlers_collect(f->handlers, 0);
    }
    assert_int_equal(s_count(f, "pf", HONE_TRIAL_CANDIDATE), 3);
    assert_int_equal(s_count(f, "pf", HONE_TRIAL_RUNNING), 3);
    /* every arm distinct: 6 Sobol + 3 running + 3 candidates */
    hone_experiment_t *exp;
    assert_int_equal(hone_registry_find(f->registry, "pf", &exp, NULL), HONE_OK);
    size_t n = hone_experiment_trial_count(exp);
    assert_int_equal(n, 12);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            assert_false(hone_space_points_equal(hone_experiment_space(exp), hone_experiment_trial(exp, (uint32_t) i)->params,
                                                 hone_experiment_trial(exp, (uint32_t) j)->params));

    /* restart: the candidates were stored, and the next worker gets one at once */
    s_forget_replies(f);
    hone_handlers_destroy(&f->handlers);
    hone_registry_destroy(&f->registry);
    hone_error_t err;
    assert_int_equal(hone_registry_open(&f->registry, f->store, &err), HONE_OK);
    f->handlers = hone_handlers_new(f->registry);
    assert_int_equal(s_count(f, "pf", HONE_TRIAL_CANDIDATE), 3);
    reply = s_dispatch(f, "w4", s_ready(f, "pf", "w4"));
    s_expect_reply(reply, HONE_MSG_TRIAL, f->seq);
    int64_t t4 = 0;
    assert_int_equal(hone_msg_get_int(reply, "trial", &t4, NULL), HONE_OK);
    assert_int_equal(t4, 9);
    hone_msg_destroy(&reply);
    assert_int_equal(s_count(f, "pf", HONE_TRIAL_CANDIDATE), 2);
}

/* Parked requests are capped: past HONE_HANDLERS_PARKED_MAX waiting behind fits, a
 * `ready` is told no_work (with a retry hint) and a `next` HONE_EAGAIN, at once; the
 * parked ones are all served when the fit comes back. */
static void test_parked_requests_are_capped(void **state)
{
    fixture_t *f = *state;
    s_bo_experiment(f, "cap", 6);
    assert_null(s_dispatch(f, "w0", s_ready(f, "cap", "w0")));   /* starts a generation */
    for (int i = 0; i < HONE_HANDLERS_PARKED_MAX; i++) {
        char worker[16];
        snprintf(worker, sizeof worker, "p%d", i);
        hone_msg_t *reply = s_dispatch(f, worker, s_ready(f, "cap", worker));
        assert_null(reply);
    }
    hone_msg_t *reply = s_dispatch(f, "late", s_ready(f, "cap", "late"));
    s_expect_reply(reply, HONE_MSG_NO_WORK, f->seq);
    int64_t retry = 0;
    assert_int_equal(hone_msg_get_int(reply, "retry_ms", &retry, NULL), HONE_OK);
    assert_true(retry > 0);
    hone_msg_destroy(&reply);
    hone_msg_t *msg = s_req(f, HONE_MSG_NEXT, "cap");
    reply = s_dispatch(f, "client", msg);
    s_expect_reply(reply, HONE_MSG_ERROR, f->seq);
    int64_t code = 0;
    assert_int_equal(hone_msg_get_int(reply, "code", &code, NULL), HONE_OK);
    assert_int_equal(code, HONE_EAGAIN);
    hone_msg_destroy(&reply);
    /* shutting down serves (or drops) every parked request: nothing is left behind */
    hone_handlers_finish(f->handlers);
    assert_int_equal(hone_generator_outstanding(f->generator), 0);
    s_forget_replies(f);
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

static void test_predict_runs_on_a_snapshot(void **state)
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

    /* predict runs on a snapshot: a status of the experiment is answered at once, as are
     * other experiments and heartbeats; random_search experiments predict on the
     * generator too */
    assert_null(s_dispatch(f, "client", s_predict(f, "bo", 0.5)));
    uint64_t predict = f->seq;
    reply = s_dispatch(f, "client", s_req(f, HONE_MSG_STATUS, "bo"));
    s_expect_reply(reply, HONE_MSG_OK, f->seq);
    hone_msg_destroy(&reply);
    reply = s_dispatch(f, "w1", s_req(f, HONE_MSG_HEARTBEAT, NULL));
    s_expect_reply(reply, HONE_MSG_HEARTBEAT, f->seq);
    hone_msg_destroy(&reply);
    reply = s_dispatch(f, "client", s_req(f, HONE_MSG_STATUS, "rs"));
    s_expect_reply(reply, HONE_MSG_OK, f->seq);
    hone_msg_destroy(&reply);
    assert_null(s_dispatch(f, "client", s_predict(f, "rs", 0.5)));
    uint64_t predict_rs = f->seq;
    assert_int_equal(f->n_replies, 0);

    s_collect_until(f, 2);
    assert_int_equal(f->n_replies, 2);
    s_expect_reply(f->replies[0], HONE_MSG_OK, predict);
    const hone_node_t *predictions = hone_msg_get(f->replies[0], "predictions");
    assert_int_equal(hone_node_len(predictions), 1);
    assert_int_equal(hone_node_type(hone_node_get(hone_node_at(predictions, 0), "mean")), HONE_NODE_FLOAT);
    assert_int_equal(hone_node_type(hone_node_get(hone_node_at(predictions, 0), "sem")), HONE_NODE_FLOAT);
    const char *metric = NULL;
    assert_int_equal(hone_msg_get_str(f->replies[0], "metric", &metric, NULL), HONE_OK);
    assert_string_equal(metric, "y");
    s_expect_reply(f->replies[1], HONE_MSG_ERROR, predict_rs);     /* no data yet */
    int64_t code = 0;
    assert_int_equal(hone_msg_get_int(f->replies[1], "code", &code, NULL), HONE_OK);
    assert_int_equal(code, HONE_EDATA);
}

static void test_finish_answers_what_was_handed_over(void **state)
{
    fixture_t *f = *state;
    s_bo_experiment(f, "bo", 6);
    assert_null(s_dispatch(f, "w1", s_ready(f, "bo", "w1")));
    uint64_t ready1 = f->seq;
    assert_null(s_dispatch(f, "w2", s_ready(f, "bo", "w2")));  /* would start another: dropped */
    assert_null(s_dispatch(f, "client", s_predict(f, "bo", 0.5)));   /* on a snapshot */
    uint64_t predict = f->seq;

    hone_handlers_finish(f->handlers);
    assert_int_equal(f->n_replies, 2);
    s_expect_reply(f->replies[0], HONE_MSG_TRIAL, ready1);
    s_expect_reply(f->replies[1], HONE_MSG_OK, predict);
    assert_int_equal(hone_node_len(hone_msg_get(f->replies[1], "predictions")), 1);
    int64_t total = 0;
    assert_int_equal(hone_generator_outstanding(f->generator), 0);
    hone_handlers_finish(f->handlers);     /* idempotent */
    assert_int_equal(f->n_replies, 2);

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
        cmocka_unit_test_setup_teardown(test_generation_runs_on_a_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefetch_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parked_requests_are_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_predict_runs_on_a_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finish_answers_what_was_handed_over, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
