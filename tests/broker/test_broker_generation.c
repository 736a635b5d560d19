#define _GNU_SOURCE
/* Tests of model fits off the hone-broker's reactor, on a real broker process
 * (broker_check.h): while a `ready` or a `best` waits for a GP fit on 500 points,
 * readings of the same experiment, heartbeats and other experiments are answered at
 * once; two workers ready together get different trials (the first pending for the
 * second); SIGTERM during a generation finishes, stores and answers it before exiting,
 * and after a restart the trial runs for its worker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "err.h"
#include "proc.h"
#include "test_support.h"
#include "wire.h"

#include "broker_check.h"   /* after the hone headers: czmq defines a streq macro */

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_generation_off_the_reactor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_best_off_the_reactor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_workers_get_different_trials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_during_generation, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
