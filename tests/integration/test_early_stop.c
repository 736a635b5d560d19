#define _GNU_SOURCE
/* Early stopping end to end (PROTOCOL.md 4.6.4, 6.8), with a real hone-broker,
 * hone-worker and `hone` on loopback, every wait bounded:
 *
 *  - hone-worker runs a program that prints a learning curve per epoch; the trials
 *    whose curves are hopeless are stopped by the broker's percentile strategy: the
 *    program gets SIGTERM (its trap writes a marker file), the trial ends EARLY_STOPPED
 *    with its readings and the strategy's reason, the good trials complete, and
 *    hone-worker exits 0 when the budget is spent; `hone trials` shows the reason and
 *    `hone curve` the curve;
 *  - a program that ignores SIGTERM is killed with SIGKILL after --stop-grace, and its
 *    trial still ends EARLY_STOPPED, never FAILED;
 *  - a lost stop is repeated: a raw DEALER peer whose reply to the hopeless reading is
 *    never read gets the stop again in its next heartbeat and progress replies, also
 *    after a broker restart, and acknowledges it with `complete`;
 *  - the C SDK's stop flag and callback, and the client's should_stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Seeded trials with good curves (client trials 0..S_GOOD-1) and their epochs. */
#define S_GOOD 3
#define S_EPOCHS 6

/* A client with one attempt of 5 s. */
static hone_client_t *s_client(const hone_raw_fixture_t *f)
{
    return hone_test_client(f->broker->endpoint, 5000, 0);
}

/* Creates experiment name (percentile strategy: stop the worse half from progression 2
 * on, once 3 curves exist) with a budget of S_GOOD + worker_trials, and gives it S_GOOD
 * completed client trials whose curves are good (loss 0.1 + 1/epoch). */
static void s_create(const hone_raw_fixture_t *f, const char *name, int worker_trials)
{
    char config[1024];
    snprintf(config, sizeof config,
             "{\"name\": \"%s\", \"objective\": \"-loss\", \"max_trials\": %d,"
             " \"generation_strategy\": {\"method\": \"random_search\", \"initialization_random_seed\": 11},"
             " \"parameters\": [{\"name\": \"x\", \"bounds\": [0.0, 1.0]}],"
             " \"leases\": {\"heartbeat_ms\": 100, \"liveness\": 5, \"max_retries\": 3},"
             " \"early_stopping\": {\"type\": \"percentile\", \"percentile_threshold\": 50, \"min_curves\": 3,"
             " \"min_progression\": 2}}",
             name, S_GOOD + worker_trials);
    hone_client_t *client = s_client(f);
    hone_test_create(client, config, name);
    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_next_trials(client, name, S_GOOD, &list), HONE_OK);
    assert_int_equal(hone_trial_list_count(list), S_GOOD);
    const char *names[] = { "loss" };
    for (size_t i = 0; i < S_GOOD; i++) {
        uint64_t index = hone_trial_index(hone_trial_list_at(list, i));
        for (int epoch = 1; epoch <= S_EPOCHS; epoch++) {
            double mean = 0.1 + 1.0 / epoch;
            assert_int_equal(hone_client_attach(client, name, index, 1, names, &mean, NULL, true, epoch), HONE_OK);
        }
        assert_int_equal(hone_client_complete(client, name, index, 0, NULL, NULL, NULL), HONE_OK);
    }
    hone_trial_list_destroy(&list);
    hone_client_destroy(&client);
}

/* Runs hone-worker on experiment with /bin/sh -c script (DIR in its environment is the
 * test's directory) and a stop grace in seconds; returns its pid. Its stdout and stderr
 * go to DIR/NAME.out and DIR/NAME.err. */
static pid_t s_start_hone_worker(const hone_raw_fixture_t *f, const char *experiment, const char *name,
                                 const char *grace, const char *script)
{
    setenv("DIR", f->broker->dir, 1);
    return hone_test_spawn_worker(f->broker, experiment, name, (const char *[]) { "--stop-grace", grace, NULL },
                                  (const char *[]) { "/bin/sh", "-c", script, NULL });
}

static bool s_marker(const hone_raw_fixture_t *f, const char *kind, uint64_t trial)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s.%" PRIu64, f->broker->dir, kind, trial) < 0)
        abort();
    struct stat st;
    bool exists = stat(path, &st) == 0;
    free(path);
    return exists;
}

/* ---- raw peers ---- */

/* A request with the next seq, naming experiment, and trial and lease when >= 0. */
static hone_msg_t *s_req(hone_raw_fixture_t *f, hone_msg_id_t id, const char *experiment, int64_t trial, int64_t lease)
{
    hone_msg_t *msg = hone_test_req(&f->seq, id, experiment);
    if (trial >= 0)
        assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    if (lease >= 0)
        assert_int_equal(hone_msg_set_int(msg, "lease", lease), HONE_OK);
    return msg;
}

static hone_msg_t *s_progress(hone_raw_fixture_t *f, const char *experiment, int64_t trial, int64_t lease, double loss,
                              int64_t step)
{
    hone_msg_t *msg = s_req(f, HONE_MSG_PROGRESS, experiment, trial, lease);
    assert_int_equal(hone_msg_set_int(msg, "progression", step), HONE_OK);
    assert_non_null(hone_node_add_float(hone_node_add_map(hone_msg_body(msg), "metrics"), "loss", loss));
    return msg;
}

/* One request on a fresh socket and its reply. */
static hone_msg_t *s_call(hone_raw_fixture_t *f, hone_msg_t *msg)
{
    return hone_raw_call(f, msg, 10000);
}

static bool s_stop(const hone_msg_t *reply)
{
    bool stop = false;
    return hone_msg_get_bool(reply, "stop", &stop, NULL) == HONE_OK && stop;
}

static hone_trial_t *s_trial(const hone_raw_fixture_t *f, const char *experiment, uint64_t index)
{
    hone_client_t *client = s_client(f);
    hone_trial_t *t = NULL;
    assert_int_equal(hone_client_trial(client, experiment, index, true, &t), HONE_OK);
    hone_client_destroy(&client);
    return t;
}

/* A trial of an experiment, for hone_test_poll. */
typedef struct {
    const hone_raw_fixture_t *f;
    const char *experiment;
    uint64_t index;
} s_trial_ref_t;

static bool s_early_stopped(void *arg)
{
    const s_trial_ref_t *ref = arg;
    hone_trial_t *t = s_trial(ref->f, ref->experiment, ref->index);
    bool stopped = strcmp(hone_trial_status(t), "EARLY_STOPPED") == 0;
    hone_trial_destroy(&t);
    return stopped;
}

/* ---- tests ---- */

/* hopeless iff x > 0.5: loss 5 + epoch; otherwise 0.05 at every epoch */
static const char s_training[] =
    "trap 'echo stopped > \"$DIR/term.$HONE_TRIAL\"; exit 143' TERM\n"
    "bad=$(awk -v x=\"$HONE_PARAM_x\" 'BEGIN { print (x > 0.5) ? 1 : 0 }')\n"
    "i=1\n"
    "while [ $i -le 6 ]; do\n"
    "  if [ \"$bad\" = 1 ]; then loss=$((5 + i)); else loss=0.05; fi\n"
    "  echo \"{\\\"loss\\\": $loss, \\\"step\\\": $i}\"\n"
    "  sleep 0.05\n"
    "  i=$((i + 1))\n"
    "done\n";

static void test_hopeless_trials_are_stopped(void **state)
{
    hone_raw_fixture_t *f = *state;
    enum { WORKER_TRIALS = 6 };
    s_create(f, "train", WORKER_TRIALS);
    pid_t worker = s_start_hone_worker(f, "train", "w1", "5", s_training);
    hone_test_wait_worker(f->broker, worker, "w1", 60000);
    char *log = hone_test_worker_log(f->broker, "w1");

    hone_client_t *client = s_client(f);
    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_list_curves(client, "train", &list), HONE_OK);
    assert_int_equal(hone_trial_list_count(list), S_GOOD + WORKER_TRIALS);
    int stopped = 0, completed = 0;
    for (size_t i = S_GOOD; i < hone_trial_list_count(list); i++) {
        const hone_trial_t *t = hone_trial_list_at(list, i);
        uint64_t index = hone_trial_index(t);
        size_t k;
        double x = NAN;
        assert_int_equal(hone_trial_param_find(t, "x", &k), HONE_OK);
        assert_int_equal(hone_trial_param_double(t, k, &x), HONE_OK);
        assert_int_equal(hone_trial_curve_count(t), 1);
        assert_string_equal(hone_trial_curve_metric(t, 0), "loss");
        size_t points = hone_trial_curve_length(t, 0);
        if (x > 0.5) {
            /* hopeless: stopped at min_progression (2), the readings kept, the program told */
            if (strcmp(hone_trial_status(t), "EARLY_STOPPED") != 0)
                fail_msg("trial %" PRIu64 " (x = %g) is %s, not EARLY_STOPPED\n%s", index, x, hone_trial_status(t),
                         log);
            if (!strstr(hone_trial_reason(t), "percentile strategy: ")
                || !strstr(hone_trial_reason(t), "worse than the 50.0-th percentile"))
                fail_msg("trial %" PRIu64 ": unexpected reason '%s'", index, hone_trial_reason(t));
            assert_true(points >= 2 && points < S_EPOCHS);
            for (size_t j = 0; j < points; j++) {
                int64_t step;
                double mean;
                assert_int_equal(hone_trial_curve_point(t, 0, j, &step, &mean, NULL), HONE_OK);
                assert_int_equal(step, (int64_t) j + 1);
                assert_true(mean == 5.0 + (double) step);
            }
            if (!s_marker(f, "term", index))
                fail_msg("trial %" PRIu64 ": the program did not get SIGTERM\n%s", index, log);
            stopped++;
        } else {
            assert_string_equal(hone_trial_status(t), "COMPLETED");
            assert_int_equal(points, S_EPOCHS);
            assert_false(s_marker(f, "term", index));
            completed++;
        }
    }
    print_message("%d trial(s) stopped early, %d completed\n", stopped, completed);
    assert_true(stopped >= 1 && completed >= 1);
    assert_non_null(strstr(log, "stopped early by the broker"));
    assert_null(strstr(log, "failed"));
    free(log);
    hone_trial_list_destroy(&list);

    /* `hone trials` shows why; `hone curve` the curve */
    char *text = hone_test_hone(f->broker, (const char *[]) { "trials", "train", NULL });
    if (!strstr(text, "EARLY_STOPPED") || !strstr(text, "(percentile strategy: "))
        fail_msg("unexpected `hone trials` output:\n%s", text);
    free(text);
    hone_status_t *st = NULL;
    assert_int_equal(hone_client_status(client, "train", &st), HONE_OK);
    assert_int_equal(hone_status_count(st, "EARLY_STOPPED"), (uint64_t) stopped);
    assert_int_equal(hone_status_count(st, "FAILED"), 0);
    hone_status_destroy(&st);
    hone_client_destroy(&client);
}

static void test_sigterm_ignored_then_sigkill(void **state)
{
    hone_raw_fixture_t *f = *state;
    s_create(f, "stubborn", 1);
    /* ignores SIGTERM (writes a marker and carries on) and would run for 10 s */
    static const char script[] =
        "trap 'echo ignored > \"$DIR/ignored.$HONE_TRIAL\"' TERM\n"
        "i=1\n"
        "while [ $i -le 200 ]; do\n"
        "  echo \"{\\\"loss\\\": $((5 + i)), \\\"step\\\": $i}\"\n"
        "  sleep 0.05\n"
        "  i=$((i + 1))\n"
        "done\n"
        "echo done > \"$DIR/finished.$HONE_TRIAL\"\n";
    int64_t started = hone_clock_mono_ms();
    pid_t worker = s_start_hone_worker(f, "stubborn", "w2", "1", script);
    hone_test_wait_worker(f->broker, worker, "w2", 30000);
    int64_t took = hone_clock_mono_ms() - started;
    char *log = hone_test_worker_log(f->broker, "w2");
    print_message("stubborn program stopped and killed; hone-worker done after %" PRId64 " ms\n", took);
    /* SIGTERM was received and ignored; SIGKILL ended it after the 1 s grace */
    assert_true(s_marker(f, "ignored", S_GOOD));
    assert_false(s_marker(f, "finished", S_GOOD));
    if (!strstr(log, "signal 9"))
        fail_msg("no SIGKILL in the worker's log:\n%s", log);
    assert_true(took >= 1000 && took < 10000);
    free(log);
    hone_trial_t *t = s_trial(f, "stubborn", S_GOOD);
    assert_string_equal(hone_trial_status(t), "EARLY_STOPPED");
    assert_true(hone_trial_curve_length(t, 0) >= 2);    /* also the readings sent during the grace */
    hone_trial_destroy(&t);
}

static void test_lost_stop_is_repeated(void **state)
{
    hone_raw_fixture_t *f = *state;
    s_create(f, "lossy", 1);
    /* a raw worker takes the trial */
    hone_msg_t *msg = s_req(f, HONE_MSG_READY, "lossy", -1, -1);
    assert_int_equal(hone_msg_set_str(msg, "worker", "raw"), HONE_OK);
    hone_msg_t *reply = s_call(f, msg);
    assert_int_equal(hone_msg_id(reply), HONE_MSG_TRIAL);
    int64_t trial = -1, lease = -1;
    assert_int_equal(hone_msg_get_int(reply, "trial", &trial, NULL), HONE_OK);
    assert_int_equal(hone_msg_get_int(reply, "lease", &lease, NULL), HONE_OK);
    hone_msg_destroy(&reply);
    reply = s_call(f, s_progress(f, "lossy", trial, lease, 6.0, 1));
    assert_false(s_stop(reply));        /* below min_progression */
    hone_msg_destroy(&reply);

    /* the hopeless reading; its reply (the stop) is never read */
    void *lost = hone_raw_connect(f);
    msg = s_progress(f, "lossy", trial, lease, 7.0, 2);
    hone_raw_send(lost, &msg);
    s_trial_ref_t stopped = { f, "lossy", (uint64_t) trial };
    if (!hone_test_poll(s_early_stopped, &stopped, 10000, 5))
        fail_msg("trial %" PRId64 " was not stopped", trial);
    zmq_close(lost);

    /* the next heartbeat says stop */
    reply = s_call(f, s_req(f, HONE_MSG_HEARTBEAT, "lossy", trial, lease));
    assert_int_equal(hone_msg_id(reply), HONE_MSG_HEARTBEAT);
    assert_true(s_stop(reply));
    char *reason = strdup(hone_test_str(reply, "reason"));
    assert_non_null(strstr(reason, "percentile strategy: "));
    hone_msg_destroy(&reply);
    /* and so does a reading, which is stored */
    reply = s_call(f, s_progress(f, "lossy", trial, lease, 8.0, 3));
    assert_int_equal(hone_msg_id(reply), HONE_MSG_OK);
    assert_true(s_stop(reply));
    assert_string_equal(hone_test_str(reply, "reason"), reason);
    hone_msg_destroy(&reply);

    /* a broker restart: the stop is state */
    hone_test_broker_stop(f->broker, SIGTERM);
    assert_int_equal(hone_test_broker_start(f->broker, NULL), 0);
    reply = s_call(f, s_req(f, HONE_MSG_HEARTBEAT, "lossy", trial, lease));
    assert_int_equal(hone_msg_id(reply), HONE_MSG_HEARTBEAT);
    assert_true(s_stop(reply));
    assert_string_equal(hone_test_str(reply, "reason"), reason);
    hone_msg_destroy(&reply);

    /* `complete` acknowledges */
    msg = s_req(f, HONE_MSG_COMPLETE, "lossy", trial, lease);
    reply = s_call(f, msg);
    assert_int_equal(hone_msg_id(reply), HONE_MSG_OK);
    assert_string_equal(hone_test_str(reply, "status"), "EARLY_STOPPED");
    hone_msg_destroy(&reply);
    hone_trial_t *t = s_trial(f, "lossy", (uint64_t) trial);
    assert_string_equal(hone_trial_status(t), "EARLY_STOPPED");
    assert_string_equal(hone_trial_reason(t), reason);
    assert_int_equal(hone_trial_curve_length(t, 0), 3);     /* 1, 2 and 3: nothing lost */
    hone_trial_destroy(&t);

    /* `hone curve` and `hone should-stop` */
    char index[32];
    snprintf(index, sizeof index, "%" PRId64, trial);
    char *text = hone_test_hone(f->broker, (const char *[]) { "curve", "lossy", index, NULL });
    if (!strstr(text, "EARLY_STOPPED") || !strstr(text, "loss: 1=6 2=7 3=8"))
        fail_msg("unexpected `hone curve` output:\n%s", text);
    free(text);
    text = hone_test_hone(f->broker, (const char *[]) { "--json", "should-stop", "lossy", "0", NULL });
    if (!strstr(text, "\"stop\": false"))
        fail_msg("unexpected `hone should-stop` output:\n%s", text);
    free(text);
    free(reason);
}

typedef struct {
    int calls;              /* how many times the callback ran */
    uint64_t trial;         /* its trial */
    char reason[512];       /* its reason */
} s_stop_seen_t;

static void s_on_stop(hone_worker_t *w, uint64_t trial, const char *reason, void *arg)
{
    s_stop_seen_t *seen = arg;
    assert_non_null(w);
    seen->calls++;
    seen->trial = trial;
    snprintf(seen->reason, sizeof seen->reason, "%s", reason);
}

/* The C SDK: the stop comes as HONE_OK with the flag set and the callback called once;
 * the acknowledgement returns HONE_OK and leaves the trial EARLY_STOPPED; the next trial
 * clears the flag. */
static void test_sdk_stop_flag_and_callback(void **state)
{
    hone_raw_fixture_t *f = *state;
    s_create(f, "sdk", 2);
    hone_worker_t *w = hone_test_worker(f->broker->endpoint, "sdk", "sdk-1", 5000);
    s_stop_seen_t seen = { 0 };
    hone_worker_on_stop(w, s_on_stop, &seen);
    hone_trial_t *t = NULL;
    assert_int_equal(hone_worker_next(w, &t, 5000), HONE_OK);
    uint64_t index = hone_trial_index(t);
    hone_trial_destroy(&t);
    const char *names[] = { "loss" };
    double hopeless[] = { 6.0, 7.0, 8.0 };
    assert_int_equal(hone_worker_report(w, index, 1, names, &hopeless[0], NULL, true, 1), HONE_OK);
    assert_false(hone_worker_stop_requested(w));
    assert_string_equal(hone_worker_stop_reason(w), "");
    assert_int_equal(seen.calls, 0);
    assert_int_equal(hone_worker_report(w, index, 1, names, &hopeless[1], NULL, true, 2), HONE_OK);
    assert_true(hone_worker_stop_requested(w));
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.trial, index);
    assert_non_null(strstr(seen.reason, "percentile strategy: "));
    assert_string_equal(hone_worker_stop_reason(w), seen.reason);
    /* repeated by the broker, reported once */
    assert_int_equal(hone_worker_heartbeat(w), HONE_OK);
    assert_int_equal(hone_worker_report(w, index, 1, names, &hopeless[2], NULL, true, 3), HONE_OK);
    assert_int_equal(seen.calls, 1);
    assert_true(hone_worker_stop_requested(w));
    /* the acknowledgement, with a final reading */
    double final = 8.5;
    assert_int_equal(hone_worker_complete(w, index, 1, names, &final, NULL), HONE_OK);
    hone_trial_t *back = s_trial(f, "sdk", index);
    assert_string_equal(hone_trial_status(back), "EARLY_STOPPED");
    assert_string_equal(hone_trial_reason(back), seen.reason);
    assert_int_equal(hone_trial_curve_length(back, 0), 3);
    assert_true(hone_trial_metric_mean(back, 0) == 8.5);
    hone_trial_destroy(&back);
    /* a new trial clears the flag */
    assert_int_equal(hone_worker_next(w, &t, 5000), HONE_OK);
    assert_false(hone_worker_stop_requested(w));
    double good = 0.01;
    assert_int_equal(hone_worker_report(w, hone_trial_index(t), 1, names, &good, NULL, true, 2), HONE_OK);
    assert_false(hone_worker_stop_requested(w));
    assert_int_equal(hone_worker_complete(w, hone_trial_index(t), 1, names, &good, NULL), HONE_OK);
    assert_false(hone_worker_stop_requested(w));
    back = s_trial(f, "sdk", hone_trial_index(t));
    assert_string_equal(hone_trial_status(back), "COMPLETED");
    hone_trial_destroy(&back);
    hone_trial_destroy(&t);
    assert_int_equal(seen.calls, 1);
    /* should_stop through the client API: an answer, no change */
    hone_client_t *client = s_client(f);
    bool stop = false;
    char *reason = NULL;
    assert_int_equal(hone_client_should_stop(client, "sdk", index, &stop, &reason), HONE_OK);
    assert_true(stop);
    assert_non_null(reason);
    hone_strfree(reason);
    assert_int_equal(hone_client_should_stop(client, "sdk", 99, &stop, NULL), HONE_ENOTFOUND);
    hone_client_destroy(&client);
    hone_worker_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HONE_RAW_TEST(test_hopeless_trials_are_stopped),
        HONE_RAW_TEST(test_sigterm_ignored_then_sigkill),
        HONE_RAW_TEST(test_lost_stop_is_repeated),
        HONE_RAW_TEST(test_sdk_stop_flag_and_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
