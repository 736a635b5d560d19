#define _GNU_SOURCE
/* Leases end to end, with real processes on loopback and short heartbeats (tens of ms),
 * every wait bounded:
 *
 *  - a hone-worker killed with SIGKILL mid-trial: the trial goes to another worker,
 *    with the same parameters, within the lease window + one tick (+ that worker's poll);
 *    a live, busy worker's lease never expires;
 *  - a worker that reconnects under its name inside its lease resumes its trial;
 *  - a worker that comes back after expiry is told its lease is gone (HONE_ELEASE), its
 *    late report changes nothing, and a repeated completion gets the same answer;
 *  - the retry limit fails the trial with the reason;
 *  - a paused hone-worker (SIGSTOP) is told on its next heartbeat that its lease is gone
 *    and drops the trial;
 *  - `hone status` shows the workers, their leases, expiries and retries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "raw_peer.h"
#include "wire.h"
/* after the internal headers: hone.h repeats what they declare unless they come first */
#include "hone.h"
#include "proc.h"
#include "sdk_peers.h"
#include "test_support.h"

/* Scheduling slack allowed on top of the protocol's bounds (a loaded CI machine). */
#define S_SLACK_MS 120

/* A client with one attempt of 5 s. */
static hone_client_t *s_client(const hone_raw_fixture_t *f)
{
    return hone_test_client(f->broker->endpoint, 5000, 0);
}

/* A worker called name with 5 s per request. */
static hone_worker_t *s_worker(const hone_raw_fixture_t *f, const char *experiment, const char *name)
{
    return hone_test_worker(f->broker->endpoint, experiment, name, 5000);
}

static void s_create(const hone_raw_fixture_t *f, const char *name, int max_trials, int heartbeat_ms, int liveness,
                     int max_retries)
{
    char config[1024];
    snprintf(config, sizeof config,
             "{\"name\": \"%s\", \"objective\": \"-y\", \"max_trials\": %d,"
             " \"generation_strategy\": {\"method\": \"random_search\", \"initialization_random_seed\": 5},"
             " \"parameters\": [{\"name\": \"x\", \"bounds\": [0.0, 1.0]}, {\"name\": \"n\", \"bounds\": [1, 50],"
             " \"parameter_type\": \"int\"}],"
             " \"leases\": {\"heartbeat_ms\": %d, \"liveness\": %d, \"max_retries\": %d}}",
             name, max_trials, heartbeat_ms, liveness, max_retries);
    hone_client_t *client = s_client(f);
    hone_test_create(client, config, name);
    hone_client_destroy(&client);
}

/* A raw request on a DEALER (for fields the SDK does not expose: attempts); its reply
 * must be `ok`. */
static hone_msg_t *s_raw(hone_raw_fixture_t *f, hone_msg_id_t id, const char *experiment)
{
    hone_msg_t *reply = hone_raw_call(f, hone_test_req(&f->seq, id, experiment), 5000);
    return hone_test_expect(reply, HONE_MSG_OK);
}

/* The `list` reply as text with seq 0, for before/after comparisons. */
static char *s_list_text(hone_raw_fixture_t *f, const char *experiment)
{
    hone_msg_t *list = s_raw(f, HONE_MSG_LIST, experiment);
    return hone_test_reply_text(&list);
}

/* Node key is the string want. */
static bool s_is(const hone_node_t *obj, const char *key, const char *want)
{
    const hone_node_t *n = hone_node_get(obj, key);
    return n && hone_node_type(n) == HONE_NODE_STR && strcmp(hone_node_str(n, NULL), want) == 0;
}

/* What s_wait_status waits for, and the list that shows it. */
typedef struct {
    hone_raw_fixture_t *f;
    const char *experiment;
    uint32_t index;
    const char *status;
    const char *worker;         /* NULL: any */
    hone_msg_t *list;           /* the `list` reply that shows it */
} s_status_wait_t;

static bool s_has_status(void *arg)
{
    s_status_wait_t *w = arg;
    w->list = s_raw(w->f, HONE_MSG_LIST, w->experiment);
    const hone_node_t *trials = hone_msg_get(w->list, "trials");
    if (trials && w->index < hone_node_len(trials)) {
        const hone_node_t *t = hone_node_at(trials, w->index);
        if (s_is(t, "status", w->status) && (!w->worker || s_is(t, "worker", w->worker)))
            return true;
    }
    hone_msg_destroy(&w->list);
    return false;
}

/* Waits (at most timeout_ms) until trial index of experiment has status, and, when
 * worker is not NULL, that worker. Returns the list holding it. */
static hone_msg_t *s_wait_status(hone_raw_fixture_t *f, const char *experiment, uint32_t index, const char *status,
                                 const char *worker, int timeout_ms)
{
    s_status_wait_t w = { f, experiment, index, status, worker, NULL };
    if (!hone_test_poll(s_has_status, &w, timeout_ms, 2))
        fail_msg("trial %s#%u did not become %s within %d ms", experiment, index, status, timeout_ms);
    return w.list;
}

/* Starts hone-worker NAME running /bin/sh -c script for each trial. */
static pid_t s_start_hone_worker(const hone_raw_fixture_t *f, const char *experiment, const char *name,
                                 const char *script)
{
    return hone_test_spawn_worker(f->broker, experiment, name, NULL,
                                  (const char *[]) { "/bin/sh", "-c", script, NULL });
}

/* Integer key of a node, which must be there. */
static int64_t s_int(const hone_node_t *obj, const char *key)
{
    const hone_node_t *n = hone_node_get(obj, key);
    assert_non_null(n);
    return hone_node_int(n);
}

static double s_param_double(const hone_trial_t *t, const char *name)
{
    size_t i;
    double v = NAN;
    assert_int_equal(hone_trial_param_find(t, name, &i), HONE_OK);
    assert_int_equal(hone_trial_param_double(t, i, &v), HONE_OK);
    return v;
}

static int64_t s_param_int(const hone_trial_t *t, const char *name)
{
    size_t i;
    int64_t v = 0;
    assert_int_equal(hone_trial_param_find(t, name, &i), HONE_OK);
    assert_int_equal(hone_trial_param_int(t, i, &v), HONE_OK);
    return v;
}

/* ---- tests ---- */

static void test_sigkill_requeues_to_another_worker(void **state)
{
    hone_raw_fixture_t *f = *state;
    enum { HEARTBEAT = 50, LIVENESS = 3, WINDOW = HEARTBEAT * LIVENESS, TICK = 5 };
    s_create(f, "k", 1, HEARTBEAT, LIVENESS, 3);
    pid_t w1 = s_start_hone_worker(f, "k", "w1", "exec sleep 3");
    hone_msg_t *list = s_wait_status(f, "k", 0, "RUNNING", "w1", 10000);
    hone_msg_destroy(&list);
    /* a busy worker that heartbeats keeps its lease well past the window */
    hone_test_sleep_ms(4 * WINDOW);
    list = s_raw(f, HONE_MSG_LIST, "k");
    const hone_node_t *t0 = hone_test_trial_node(list, 0);
    assert_string_equal(hone_test_node_str(t0, "status"), "RUNNING");
    assert_int_equal(hone_node_len(hone_node_get(t0, "attempts")), 1);
    double x = hone_node_float(hone_node_get(hone_node_get(t0, "params"), "x"));
    int64_t n = hone_node_int(hone_node_get(hone_node_get(t0, "params"), "n"));
    hone_msg_destroy(&list);

    /* SIGKILL: no goodbye, no failure report */
    int64_t kill_wall = hone_clock_wall_ms(), kill_mono = hone_clock_mono_ms();
    kill(w1, SIGKILL);
    int status;
    assert_int_equal(hone_test_wait(w1, 5000, &status), 0);

    /* another worker asks meanwhile and gets the same trial once the lease expires */
    hone_worker_t *w2 = s_worker(f, "k", "w2");
    hone_trial_t *trial = NULL;
    assert_int_equal(hone_worker_next(w2, &trial, 5000), HONE_OK);
    int64_t handed_ms = hone_clock_mono_ms() - kill_mono;
    assert_int_equal(hone_trial_index(trial), 0);
    assert_true(s_param_double(trial, "x") == x);
    assert_int_equal(s_param_int(trial, "n"), n);
    assert_int_equal(hone_worker_heartbeat_interval(w2), HEARTBEAT);

    /* the broker's record: when the lease expired, when the trial went out again */
    list = s_raw(f, HONE_MSG_LIST, "k");
    t0 = hone_test_trial_node(list, 0);
    const hone_node_t *attempts = hone_node_get(t0, "attempts");
    assert_int_equal(hone_node_len(attempts), 2);
    const hone_node_t *a1 = hone_node_at(attempts, 0), *a2 = hone_node_at(attempts, 1);
    assert_string_equal(hone_test_node_str(a1, "worker"), "w1");
    assert_string_equal(hone_test_node_str(a1, "outcome"), "lease expired");
    assert_string_equal(hone_test_node_str(a2, "worker"), "w2");
    assert_string_equal(hone_test_node_str(a2, "outcome"), "running");
    assert_string_equal(hone_test_node_str(t0, "worker"), "w2");
    assert_int_equal(s_int(t0, "retries"), 1);
    int64_t expired_ms = s_int(a1, "end") - kill_wall;
    int64_t requeued_ms = s_int(a2, "start") - kill_wall;
    print_message("SIGKILL -> lease expired after %lld ms, handed out again after %lld ms, received after %lld ms "
                  "(window %d ms, tick %d ms, poll <= %d ms)\n", (long long) expired_ms, (long long) requeued_ms,
                  (long long) handed_ms, WINDOW, TICK, HEARTBEAT + HEARTBEAT / 10);
    /* the last heartbeat came before the kill, so the expiry is at most window + tick after it */
    assert_true(expired_ms <= WINDOW + TICK + S_SLACK_MS);
    assert_true(expired_ms >= 0);
    /* the waiting worker polls within a heartbeat (the no_work retry hint) */
    assert_true(requeued_ms <= WINDOW + TICK + HEARTBEAT + HEARTBEAT / 10 + S_SLACK_MS);
    hone_msg_destroy(&list);

    /* `hone status` while w2 holds the lease */
    char *text = hone_test_hone(f->broker, (const char *[]) { "status", "k", NULL });
    if (!strstr(text, "1 expired: 1 re-queued, 0 failed") || !strstr(text, "w2") || !strstr(text, "w1")
        || !strstr(text, "LEASE AGE") || !strstr(text, "heartbeat 50 ms, liveness 3, max_retries 3"))
        fail_msg("unexpected `hone status` output:\n%s", text);
    print_message("hone status k:\n%s", text);
    free(text);

    const char *names[] = { "y" };
    double means[] = { 0.5 };
    assert_int_equal(hone_worker_complete(w2, 0, 1, names, means, NULL), HONE_OK);
    hone_trial_destroy(&trial);
    hone_worker_destroy(&w2);
    hone_client_t *client = s_client(f);
    hone_status_t *st = NULL;
    assert_int_equal(hone_client_status(client, "k", &st), HONE_OK);
    assert_int_equal(hone_status_count(st, "COMPLETED"), 1);
    assert_int_equal(hone_status_count(st, "STALE"), 0);
    assert_int_equal(hone_status_leases_expired(st), 1);
    assert_int_equal(hone_status_retries(st), 1);
    int32_t heartbeat = 0, liveness = 0, retries = 0;
    hone_status_leases(st, &heartbeat, &liveness, &retries);
    assert_true(heartbeat == HEARTBEAT && liveness == LIVENESS && retries == 3);
    assert_true(hone_status_worker_count(st) >= 2);
    hone_status_destroy(&st);
    hone_client_destroy(&client);
}

static void test_reconnect_inside_lease_resumes(void **state)
{
    hone_raw_fixture_t *f = *state;
    s_create(f, "resume", 2, 200, 3, 3);
    hone_worker_t *w = s_worker(f, "resume", "dev-1");
    hone_trial_t *first = NULL;
    assert_int_equal(hone_worker_next(w, &first, 5000), HONE_OK);
    uint64_t index = hone_trial_index(first);
    hone_worker_destroy(&w);     /* the device restarts: its socket is gone */
    hone_test_sleep_ms(100);     /* well inside the 600 ms lease */
    w = s_worker(f, "resume", "dev-1");
    hone_trial_t *again = NULL;
    assert_int_equal(hone_worker_next(w, &again, 5000), HONE_OK);
    assert_int_equal(hone_trial_index(again), index);
    assert_true(s_param_double(again, "x") == s_param_double(first, "x"));
    const char *names[] = { "y" };
    double means[] = { 1.5 };
    assert_int_equal(hone_worker_heartbeat(w), HONE_OK);
    assert_int_equal(hone_worker_report(w, index, 1, names, means, NULL, true, 1), HONE_OK);
    assert_int_equal(hone_worker_complete(w, index, 1, names, means, NULL), HONE_OK);
    hone_msg_t *list = s_raw(f, HONE_MSG_LIST, "resume");
    const hone_node_t *t = hone_test_trial_node(list, (uint32_t) index);
    assert_string_equal(hone_test_node_str(t, "status"), "COMPLETED");
    const hone_node_t *attempts = hone_node_get(t, "attempts");
    assert_int_equal(hone_node_len(attempts), 1);    /* one hand-out, resumed */
    assert_string_equal(hone_test_node_str(hone_node_at(attempts, 0), "outcome"), "completed");
    assert_null(hone_node_get(t, "retries"));
    hone_msg_destroy(&list);
    hone_trial_destroy(&first);
    hone_trial_destroy(&again);
    hone_worker_destroy(&w);
}

static void test_late_report_after_expiry(void **state)
{
    hone_raw_fixture_t *f = *state;
    s_create(f, "late", 1, 30, 2, 3);
    hone_worker_t *slow = s_worker(f, "late", "slow");
    hone_trial_t *trial = NULL;
    assert_int_equal(hone_worker_next(slow, &trial, 5000), HONE_OK);
    assert_int_equal(hone_trial_index(trial), 0);
    hone_trial_destroy(&trial);
    /* silent for longer than the 60 ms lease */
    hone_msg_t *list = s_wait_status(f, "late", 0, "STALE", NULL, 5000);
    hone_msg_destroy(&list);
    char *before = s_list_text(f, "late");
    const char *names[] = { "y" };
    double means[] = { 7.0 };
    assert_int_equal(hone_worker_report(slow, 0, 1, names, means, NULL, false, 0), HONE_ELEASE);
    assert_int_equal(hone_worker_complete(slow, 0, 1, names, means, NULL), HONE_ELEASE);
    if (!strstr(hone_worker_last_error(slow), "lease 1 of trial late#0 expired at"))
        fail_msg("unexpected message: %s", hone_worker_last_error(slow));
    assert_int_equal(hone_worker_fail(slow, 0, "late"), HONE_ELEASE);
    char *after = s_list_text(f, "late");
    assert_string_equal(before, after);     /* nothing changed */
    free(after);
    free(before);

    /* another worker takes it over and completes; a repeat of that completion gets the
     * same answer and changes nothing; the slow worker's report is still refused */
    hone_worker_t *fast = s_worker(f, "late", "fast");
    assert_int_equal(hone_worker_next(fast, &trial, 5000), HONE_OK);
    assert_int_equal(hone_trial_index(trial), 0);
    hone_trial_destroy(&trial);
    means[0] = 3.0;
    assert_int_equal(hone_worker_complete(fast, 0, 1, names, means, NULL), HONE_OK);
    before = s_list_text(f, "late");
    assert_int_equal(hone_worker_complete(fast, 0, 1, names, means, NULL), HONE_OK);
    assert_int_equal(hone_worker_complete(slow, 0, 1, names, means, NULL), HONE_ELEASE);
    after = s_list_text(f, "late");
    assert_string_equal(before, after);
    free(after);
    free(before);
    hone_client_t *client = s_client(f);
    hone_trial_list_t *trials = NULL;
    assert_int_equal(hone_client_list(client, "late", &trials), HONE_OK);
    const hone_trial_t *t = hone_trial_list_at(trials, 0);
    assert_string_equal(hone_trial_status(t), "COMPLETED");
    assert_true(hone_trial_metric_mean(t, 0) == 3.0);
    hone_trial_list_destroy(&trials);
    hone_client_destroy(&client);
    hone_worker_destroy(&slow);
    hone_worker_destroy(&fast);
}

static void test_retry_limit_fails_the_trial(void **state)
{
    hone_raw_fixture_t *f = *state;
    s_create(f, "limit", 1, 20, 2, 1);
    for (int round = 0; round < 2; round++) {
        hone_worker_t *w = s_worker(f, "limit", "flaky");
        hone_trial_t *trial = NULL;
        assert_int_equal(hone_worker_next(w, &trial, 5000), HONE_OK);
        assert_int_equal(hone_trial_index(trial), 0);
        hone_trial_destroy(&trial);
        hone_worker_destroy(&w);     /* gone without a word */
        hone_msg_t *list = s_wait_status(f, "limit", 0, round == 0 ? "STALE" : "FAILED", NULL, 5000);
        hone_msg_destroy(&list);
    }
    hone_msg_t *list = s_raw(f, HONE_MSG_LIST, "limit");
    const hone_node_t *t = hone_test_trial_node(list, 0);
    assert_string_equal(hone_test_node_str(t, "reason"), "lease expired 2 times (max_retries 1)");
    assert_int_equal(hone_node_len(hone_node_get(t, "attempts")), 2);
    hone_msg_destroy(&list);
    hone_client_t *client = s_client(f);
    hone_status_t *st = NULL;
    assert_int_equal(hone_client_status(client, "limit", &st), HONE_OK);
    assert_int_equal(hone_status_count(st, "FAILED"), 1);
    assert_int_equal(hone_status_count(st, "STALE"), 0);
    assert_int_equal(hone_status_leases_expired(st), 2);
    assert_int_equal(hone_status_retries(st), 1);
    hone_status_destroy(&st);
    hone_client_destroy(&client);
}

static void test_paused_hone_worker_drops_lost_trial(void **state)
{
    hone_raw_fixture_t *f = *state;
    s_create(f, "pause", 1, 50, 3, 3);
    pid_t w = s_start_hone_worker(f, "pause", "paused", "sleep 2; echo '{\"y\": 2.5}'");
    hone_msg_t *list = s_wait_status(f, "pause", 0, "RUNNING", "paused", 10000);
    hone_msg_destroy(&list);
    kill(w, SIGSTOP);
    list = s_wait_status(f, "pause", 0, "STALE", NULL, 5000);
    hone_msg_destroy(&list);
    kill(w, SIGCONT);
    /* it learns the lease is gone, stops that run, asks again and gets the trial back */
    hone_test_wait_worker(f->broker, w, "paused", 20000);
    char *log = hone_test_worker_log(f->broker, "paused");
    if (!strstr(log, "lost its lease"))
        fail_msg("hone-worker's log does not say it lost its lease:\n%s", log);
    free(log);
    list = s_raw(f, HONE_MSG_LIST, "pause");
    const hone_node_t *t = hone_test_trial_node(list, 0);
    assert_string_equal(hone_test_node_str(t, "status"), "COMPLETED");
    const hone_node_t *attempts = hone_node_get(t, "attempts");
    assert_int_equal(hone_node_len(attempts), 2);
    assert_string_equal(hone_test_node_str(hone_node_at(attempts, 0), "outcome"), "lease expired");
    assert_string_equal(hone_test_node_str(hone_node_at(attempts, 1), "outcome"), "completed");
    assert_string_equal(hone_test_node_str(hone_node_at(attempts, 1), "worker"), "paused");
    hone_msg_destroy(&list);
}

/* Promise 4: a long model fit causes no false lease expiry and leaves no heartbeat
 * unanswered. Worker A holds a trial under a 75 ms lease window (25 ms heartbeats) while
 * worker B's `ready` needs a GP fit on 800 points in 20 dimensions (about a second):
 * every one of A's heartbeats during the fit is answered at once, A's lease survives,
 * and its completion is accepted. */
typedef struct {
    const hone_raw_fixture_t *f;
    int rc;
    uint64_t trial;
    int64_t ms;
    atomic_bool done;   /* set last: the fields above are then final */
} s_slow_ready_t;

static void *s_slow_ready(void *arg)
{
    s_slow_ready_t *r = arg;
    hone_options_t opts = hone_test_options(60000, 0);
    hone_worker_t *w = NULL;
    r->rc = hone_worker_open(&w, r->f->broker->endpoint, "slowfit", "B", &opts);
    if (r->rc == HONE_OK) {
        hone_trial_t *t = NULL;
        int64_t t0 = hone_clock_mono_ms();
        r->rc = hone_worker_next(w, &t, 60000);
        r->ms = hone_clock_mono_ms() - t0;
        if (r->rc == HONE_OK && t) {
            r->trial = hone_trial_index(t);
            hone_trial_destroy(&t);
        }
    }
    hone_worker_destroy(&w);
    atomic_store(&r->done, true);
    return NULL;
}

static void test_long_fit_keeps_leases(void **state)
{
    hone_raw_fixture_t *f = *state;
    enum { D = 20, DONE = 800 };
    char config[4096];
    size_t len = (size_t) snprintf(config, sizeof config, "{\"name\": \"slowfit\", \"parameters\": [");
    for (int i = 0; i < D; i++)
        len += (size_t) snprintf(config + len, sizeof config - len,
                                 "%s{\"name\": \"x%d\", \"bounds\": [0.0, 1.0]}", i ? ", " : "", i);
    snprintf(config + len, sizeof config - len,
             "], \"objective\": \"-y\", \"generation_strategy\": {\"method\": \"fast\","
             " \"initialization_random_seed\": 3, \"initialization_budget\": %d,"
             " \"min_observed_initialization_trials\": %d},"
             " \"leases\": {\"heartbeat_ms\": 25, \"liveness\": 3}}", DONE + 1, DONE);
    hone_client_t *client = s_client(f);
    char *created = NULL;
    assert_int_equal(hone_client_create(client, config, &created), HONE_OK);
    hone_strfree(created);
    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_next_trials(client, "slowfit", DONE, &list), HONE_OK);
    assert_int_equal(hone_trial_list_count(list), DONE);
    const char *names[] = { "y" };
    for (size_t i = 0; i < DONE; i++) {
        const hone_trial_t *t = hone_trial_list_at(list, i);
        double y = 0.0;
        for (int a = 0; a < D; a++) {
            char name[8];
            size_t at = 0;
            double x = 0.0;
            snprintf(name, sizeof name, "x%d", a);
            assert_int_equal(hone_trial_param_find(t, name, &at), HONE_OK);
            assert_int_equal(hone_trial_param_double(t, at, &x), HONE_OK);
            y += (x - 0.3) * (x - 0.3);
        }
        double mean[] = { y };
        assert_int_equal(hone_client_complete(client, "slowfit", hone_trial_index(t), 1, names, mean, NULL),
                         HONE_OK);
    }
    hone_trial_list_destroy(&list);

    /* A: the last Sobol trial, at once, under a 75 ms lease window */
    hone_worker_t *a = s_worker(f, "slowfit", "A");
    hone_trial_t *ta = NULL;
    assert_int_equal(hone_worker_next(a, &ta, 5000), HONE_OK);
    uint64_t trial_a = hone_trial_index(ta);
    assert_int_equal(trial_a, DONE);
    hone_trial_destroy(&ta);
    assert_int_equal(hone_worker_heartbeat_interval(a), 25);

    /* B's ready: a BO fit on DONE points, in another thread */
    s_slow_ready_t r = { .f = f };
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, s_slow_ready, &r), 0);
    int beats = 0;
    int64_t worst = 0, start = hone_clock_mono_ms();
    while (hone_clock_mono_ms() - start < 60000) {
        int64_t t0 = hone_clock_mono_ms();
        assert_int_equal(hone_worker_heartbeat(a), HONE_OK);
        int64_t rtt = hone_clock_mono_ms() - t0;
        worst = rtt > worst ? rtt : worst;
        beats++;
        if (atomic_load(&r.done))
            break;
        hone_test_sleep_ms(25);
    }
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(r.rc, HONE_OK);
    assert_int_equal(r.trial, DONE + 1);
    fprintf(stderr, "fit for B's trial: %" PRId64 " ms; A's %d heartbeats meanwhile, slowest %" PRId64
            " ms; lease window 75 ms\n", r.ms, beats, worst);
    assert_true(r.ms > 150);          /* the fit outlasted A's lease window at least twice */
    assert_true(worst < 75);          /* every heartbeat answered inside the window */

    /* A's lease held: its completion is accepted, and nothing expired */
    double mean[] = { 1.0 };
    assert_int_equal(hone_worker_complete(a, trial_a, 1, names, mean, NULL), HONE_OK);
    hone_status_t *st = NULL;
    assert_int_equal(hone_client_status(client, "slowfit", &st), HONE_OK);
    assert_int_equal(hone_status_leases_expired(st), 0);
    hone_status_destroy(&st);
    hone_worker_destroy(&a);
    hone_client_destroy(&client);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HONE_RAW_TEST(test_sigkill_requeues_to_another_worker),
        HONE_RAW_TEST(test_reconnect_inside_lease_resumes),
        HONE_RAW_TEST(test_late_report_after_expiry),
        HONE_RAW_TEST(test_retry_limit_fails_the_trial),
        HONE_RAW_TEST(test_paused_hone_worker_drops_lost_trial),
        HONE_RAW_TEST(test_long_fit_keeps_leases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
