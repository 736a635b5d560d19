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
#include "msg.h"
#include "hone.h"
#include "test_support.h"

/* Seeded trials with good curves (client trials 0..S_GOOD-1) and their epochs. */
#define S_GOOD 3
#define S_EPOCHS 6

typedef struct {
    char *dir;          /* temporary directory of the test */
    char *data;         /* the broker's store */
    char *log;          /* the broker's log */
    char endpoint[64];  /* tcp://127.0.0.1:PORT */
    pid_t broker;
    void *zctx;         /* for raw requests */
    uint64_t seq;       /* raw requests' seq */
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->dir = hone_test_tmpdir("early_stop");
    if (asprintf(&f->data, "%s/data", f->dir) < 0 || asprintf(&f->log, "%s/broker.log", f->dir) < 0)
        return -1;
    snprintf(f->endpoint, sizeof f->endpoint, "tcp://127.0.0.1:%d", hone_test_free_port());
    f->broker = hone_test_start_broker(f->data, f->endpoint, f->log);
    if (f->broker <= 0)
        return -1;
    f->zctx = zmq_ctx_new();
    f->seq = 5000;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    zmq_ctx_term(f->zctx);
    hone_test_stop(f->broker, SIGTERM);
    if (getenv("HONE_TEST_SHOW_LOG")) {
        char *log = hone_test_read_file(f->log, NULL);
        fprintf(stderr, "---- broker log ----\n%s", log ? log : "");
        free(log);
    }
    hone_test_rmtree(f->dir);
    free(f->dir);
    free(f->data);
    free(f->log);
    free(f);
    return 0;
}

static hone_client_t *s_client(const fixture_t *f)
{
    hone_options_t opts;
    hone_options_init(&opts);
    opts.timeout_ms = 5000;
    opts.retries = 0;
    hone_client_t *client = NULL;
    assert_int_equal(hone_client_open(&client, f->endpoint, &opts), HONE_OK);
    return client;
}

/* Creates experiment name (percentile strategy: stop the worse half from progression 2
 * on, once 3 curves exist) with a budget of S_GOOD + worker_trials, and gives it S_GOOD
 * completed client trials whose curves are good (loss 0.1 + 1/epoch). */
static void s_create(const fixture_t *f, const char *name, int worker_trials)
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
    char *created = NULL;
    if (hone_client_create(client, config, &created) != HONE_OK)
        fail_msg("create failed: %s", hone_client_last_error(client));
    hone_strfree(created);
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
 * test's directory) and extra options; returns its pid. Its stdout and stderr go to
 * DIR/NAME.out and DIR/NAME.err. */
static pid_t s_start_hone_worker(const fixture_t *f, const char *experiment, const char *name, const char *grace,
                                 const char *script)
{
    char *program = hone_test_program("hone-worker");
    char *out = NULL, *err = NULL;
    if (asprintf(&out, "%s/%s.out", f->dir, name) < 0 || asprintf(&err, "%s/%s.err", f->dir, name) < 0)
        abort();
    setenv("DIR", f->dir, 1);
    char *argv[] = { program, "--broker", (char *) f->endpoint, "--experiment", (char *) experiment,
                     "--name", (char *) name, "--stop-grace", (char *) grace, "--", "/bin/sh", "-c",
                     (char *) script, NULL };
    pid_t pid = hone_test_spawn(argv, out, err);
    free(program);
    free(out);
    free(err);
    assert_true(pid > 0);
    return pid;
}

static char *s_read(const fixture_t *f, const char *fmt, const char *arg)
{
    char *name = NULL, *path = NULL;
    if (asprintf(&name, fmt, arg) < 0 || asprintf(&path, "%s/%s", f->dir, name) < 0)
        abort();
    char *text = hone_test_read_file(path, NULL);
    free(name);
    free(path);
    return text;
}

static bool s_marker(const fixture_t *f, const char *kind, uint64_t trial)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s.%" PRIu64, f->dir, kind, trial) < 0)
        abort();
    struct stat st;
    bool exists = stat(path, &st) == 0;
    free(path);
    return exists;
}

/* Runs `hone ARGS...` (NULL-terminated, after --broker); returns its stdout. */
static char *s_hone(const fixture_t *f, const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *program = hone_test_program("hone");
    char *out = NULL;
    if (asprintf(&out, "%s/hone.out", f->dir) < 0)
        abort();
    unlink(out);
    char *argv[] = { program, "--broker", (char *) f->endpoint, (char *) a1, (char *) a2, (char *) a3, (char *) a4,
                     NULL };
    pid_t pid = hone_test_spawn(argv, out, NULL);
    int status = 0;
    assert_int_equal(hone_test_wait(pid, 10000, &status), 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *text = hone_test_read_file(out, NULL);
    free(out);
    free(program);
    assert_non_null(text);
    return text;
}

/* ---- raw peers ---- */

static void *s_socket(fixture_t *f)
{
    void *sock = zmq_socket(f->zctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_connect(sock, f->endpoint), 0);
    return sock;
}

static void s_send(fixture_t *f, void *sock, hone_msg_t **msg)
{
    hone_msg_set_seq(*msg, ++f->seq);
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal(hone_msg_encode(*msg, &data, &size), HONE_OK);
    hone_msg_destroy(msg);
    assert_true(zmq_send(sock, data, size, 0) == (int) size);
    free(data);
}

static hone_msg_t *s_recv(void *sock)
{
    zmq_pollitem_t item = { .socket = sock, .events = ZMQ_POLLIN };
    assert_int_equal(zmq_poll(&item, 1, 10000), 1);
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    assert_true(zmq_msg_recv(&frame, sock, 0) >= 0);
    hone_msg_t *reply = NULL;
    hone_error_t err;
    assert_int_equal(hone_msg_decode(zmq_msg_data(&frame), zmq_msg_size(&frame), &reply, NULL, &err), HONE_OK);
    zmq_msg_close(&frame);
    return reply;
}

/* One request on a fresh socket and its reply. */
static hone_msg_t *s_call(fixture_t *f, hone_msg_t *msg)
{
    void *sock = s_socket(f);
    s_send(f, sock, &msg);
    hone_msg_t *reply = s_recv(sock);
    zmq_close(sock);
    return reply;
}

static hone_msg_t *s_req(hone_msg_id_t id, const char *experiment, int64_t trial, int64_t lease)
{
    hone_msg_t *msg = hone_msg_new(id);
    assert_int_equal(hone_msg_set_str(msg, "experiment", experiment), HONE_OK);
    if (trial >= 0)
        assert_int_equal(hone_msg_set_int(msg, "trial", trial), HONE_OK);
    if (lease >= 0)
        assert_int_equal(hone_msg_set_int(msg, "lease", lease), HONE_OK);
    return msg;
}

static hone_msg_t *s_progress(const char *experiment, int64_t trial, int64_t lease, double loss, int64_t step)
{
    hone_msg_t *msg = s_req(HONE_MSG_PROGRESS, experiment, trial, lease);
    assert_int_equal(hone_msg_set_int(msg, "progression", step), HONE_OK);
    assert_non_null(hone_node_add_float(hone_node_add_map(hone_msg_body(msg), "metrics"), "loss", loss));
    return msg;
}

static bool s_stop(const hone_msg_t *reply)
{
    bool stop = false;
    return hone_msg_get_bool(reply, "stop", &stop, NULL) == HONE_OK && stop;
}

static const char *s_str(const hone_msg_t *msg, const char *key)
{
    const char *v = NULL;
    return hone_msg_get_str(msg, key, &v, NULL) == HONE_OK ? v : "";
}

static hone_trial_t *s_trial(const fixture_t *f, const char *experiment, uint64_t index)
{
    hone_client_t *client = s_client(f);
    hone_trial_t *t = NULL;
    assert_int_equal(hone_client_trial(client, experiment, index, true, &t), HONE_OK);
    hone_client_destroy(&client);
    return t;
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
    fixture_t *f = *state;
    enum { WORKER_TRIALS = 6 };
    s_create(f, "train", WORKER_TRIALS);
    pid_t worker = s_start_hone_worker(f, "train", "w1", "5", s_training);
    int status = 0;
    if (hone_test_wait(worker, 60000, &status) != 0) {
        hone_test_stop(worker, SIGKILL);
        fail_msg("hone-worker did not finish within 60 s");
    }
    char *log = s_read(f, "%s.err", "w1");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("hone-worker exited with %d:\n%s", status, log ? log : "");

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
                         log ? log : "");
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
                fail_msg("trial %" PRIu64 ": the program did not get SIGTERM\n%s", index, log ? log : "");
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
    char *text = s_hone(f, "trials", "train", NULL, NULL);
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
    fixture_t *f = *state;
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
    int status = 0;
    if (hone_test_wait(worker, 30000, &status) != 0) {
        hone_test_stop(worker, SIGKILL);
        fail_msg("hone-worker did not finish within 30 s");
    }
    int64_t took = hone_clock_mono_ms() - started;
    char *log = s_read(f, "%s.err", "w2");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("hone-worker exited with %d:\n%s", status, log ? log : "");
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
    fixture_t *f = *state;
    s_create(f, "lossy", 1);
    /* a raw worker takes the trial */
    hone_msg_t *msg = s_req(HONE_MSG_READY, "lossy", -1, -1);
    assert_int_equal(hone_msg_set_str(msg, "worker", "raw"), HONE_OK);
    hone_msg_t *reply = s_call(f, msg);
    assert_int_equal(hone_msg_id(reply), HONE_MSG_TRIAL);
    int64_t trial = -1, lease = -1;
    assert_int_equal(hone_msg_get_int(reply, "trial", &trial, NULL), HONE_OK);
    assert_int_equal(hone_msg_get_int(reply, "lease", &lease, NULL), HONE_OK);
    hone_msg_destroy(&reply);
    reply = s_call(f, s_progress("lossy", trial, lease, 6.0, 1));
    assert_false(s_stop(reply));        /* below min_progression */
    hone_msg_destroy(&reply);

    /* the hopeless reading; its reply (the stop) is never read */
    void *lost = s_socket(f);
    msg = s_progress("lossy", trial, lease, 7.0, 2);
    s_send(f, lost, &msg);
    int64_t deadline = hone_clock_mono_ms() + 10000;
    for (;;) {
        hone_trial_t *t = s_trial(f, "lossy", (uint64_t) trial);
        bool done = strcmp(hone_trial_status(t), "EARLY_STOPPED") == 0;
        hone_trial_destroy(&t);
        if (done)
            break;
        if (hone_clock_mono_ms() > deadline)
            fail_msg("trial %" PRId64 " was not stopped", trial);
        hone_test_sleep_ms(5);
    }
    zmq_close(lost);

    /* the next heartbeat says stop */
    reply = s_call(f, s_req(HONE_MSG_HEARTBEAT, "lossy", trial, lease));
    assert_int_equal(hone_msg_id(reply), HONE_MSG_HEARTBEAT);
    assert_true(s_stop(reply));
    char *reason = strdup(s_str(reply, "reason"));
    assert_non_null(strstr(reason, "percentile strategy: "));
    hone_msg_destroy(&reply);
    /* and so does a reading, which is stored */
    reply = s_call(f, s_progress("lossy", trial, lease, 8.0, 3));
    assert_int_equal(hone_msg_id(reply), HONE_MSG_OK);
    assert_true(s_stop(reply));
    assert_string_equal(s_str(reply, "reason"), reason);
    hone_msg_destroy(&reply);

    /* a broker restart: the stop is state */
    hone_test_stop(f->broker, SIGTERM);
    f->broker = hone_test_start_broker(f->data, f->endpoint, f->log);
    assert_true(f->broker > 0);
    reply = s_call(f, s_req(HONE_MSG_HEARTBEAT, "lossy", trial, lease));
    assert_int_equal(hone_msg_id(reply), HONE_MSG_HEARTBEAT);
    assert_true(s_stop(reply));
    assert_string_equal(s_str(reply, "reason"), reason);
    hone_msg_destroy(&reply);

    /* `complete` acknowledges */
    msg = s_req(HONE_MSG_COMPLETE, "lossy", trial, lease);
    reply = s_call(f, msg);
    assert_int_equal(hone_msg_id(reply), HONE_MSG_OK);
    assert_string_equal(s_str(reply, "status"), "EARLY_STOPPED");
    hone_msg_destroy(&reply);
    hone_trial_t *t = s_trial(f, "lossy", (uint64_t) trial);
    assert_string_equal(hone_trial_status(t), "EARLY_STOPPED");
    assert_string_equal(hone_trial_reason(t), reason);
    assert_int_equal(hone_trial_curve_length(t, 0), 3);     /* 1, 2 and 3: nothing lost */
    hone_trial_destroy(&t);

    /* `hone curve` and `hone should-stop` */
    char index[32];
    snprintf(index, sizeof index, "%" PRId64, trial);
    char *text = s_hone(f, "curve", "lossy", index, NULL);
    if (!strstr(text, "EARLY_STOPPED") || !strstr(text, "loss: 1=6 2=7 3=8"))
        fail_msg("unexpected `hone curve` output:\n%s", text);
    free(text);
    text = s_hone(f, "--json", "should-stop", "lossy", "0");
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
    fixture_t *f = *state;
    s_create(f, "sdk", 2);
    hone_options_t opts;
    hone_options_init(&opts);
    opts.timeout_ms = 5000;
    opts.retries = 0;
    hone_worker_t *w = NULL;
    assert_int_equal(hone_worker_open(&w, f->endpoint, "sdk", "sdk-1", &opts), HONE_OK);
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
        cmocka_unit_test_setup_teardown(test_hopeless_trials_are_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_ignored_then_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_stop_is_repeated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sdk_stop_flag_and_callback, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
