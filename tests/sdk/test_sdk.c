/* Tests of the C SDK (worker-sdk/c) through its public header only, against the real
 * hone-broker program started as a child on an ipc:// endpoint in a temporary directory:
 * client and worker round trips with their results checked, the broker's error codes
 * and messages, timeouts when nothing listens, trial accessors and ownership rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hone.h"
#include "proc.h"
#include "sdk_peers.h"
#include "test_support.h"

/* The group's hone-broker child, on ipc://DIR/broker.sock. */
static hone_test_broker_t *s_broker;

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *s_printf(const char *fmt, const char *arg)
{
    size_t n = strlen(fmt) + strlen(arg) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, fmt, arg);
    return s;
}

static int s_group_setup(void **state)
{
    (void) state;
    return hone_test_broker_open(&s_broker, "sdk", HONE_TEST_IPC);
}

static int s_group_teardown(void **state)
{
    (void) state;
    hone_test_broker_destroy(&s_broker);
    return 0;
}

/* A client with one attempt of 5 s. */
static hone_client_t *s_client(void)
{
    return hone_test_client(s_broker->endpoint, 5000, 0);
}

/* A worker on experiment with 5 s per request. */
static hone_worker_t *s_worker(const char *experiment)
{
    /* Names are identities (a name holding a running trial gets it back): one each. */
    static int serial;
    char name[32];
    snprintf(name, sizeof name, "test-worker-%d", ++serial);
    return hone_test_worker(s_broker->endpoint, experiment, name, 5000);
}

/* A config with one parameter of each type; name and budget vary. */
static void s_create(hone_client_t *c, const char *name, int max_trials)
{
    char config[1024];
    snprintf(config, sizeof config,
             "{\"name\": \"%s\", \"parameters\": ["
             "{\"name\": \"lr\", \"bounds\": [0.001, 0.1], \"parameter_type\": \"float\", \"scaling\": \"log\"},"
             "{\"name\": \"layers\", \"bounds\": [1, 4], \"parameter_type\": \"int\"},"
             "{\"name\": \"opt\", \"values\": [\"adam\", \"sgd\", \"rms\"], \"parameter_type\": \"str\"},"
             "{\"name\": \"bn\", \"values\": [true, false], \"parameter_type\": \"bool\"}],"
             " \"objective\": \"-loss\", \"max_trials\": %d}",
             name, max_trials);
    hone_test_create(c, config, name);
    assert_string_equal(hone_client_last_error(c), "");
}

/* Checks the four parameters of a trial from s_create, by index and by name. */
static void s_check_params(const hone_trial_t *t)
{
    assert_int_equal(hone_trial_param_count(t), 4);
    size_t i;
    double lr;
    assert_int_equal(hone_trial_param_find(t, "lr", &i), HONE_OK);
    assert_string_equal(hone_trial_param_name(t, i), "lr");
    assert_int_equal(hone_trial_param_type(t, i), HONE_TYPE_FLOAT);
    assert_int_equal(hone_trial_param_double(t, i, &lr), HONE_OK);
    assert_true(lr >= 0.001 && lr <= 0.1);
    int64_t layers = 0;
    assert_int_equal(hone_trial_param_find(t, "layers", &i), HONE_OK);
    assert_int_equal(hone_trial_param_type(t, i), HONE_TYPE_INT);
    assert_int_equal(hone_trial_param_int(t, i, &layers), HONE_OK);
    assert_true(layers >= 1 && layers <= 4);
    double as_double = 0;
    assert_int_equal(hone_trial_param_double(t, i, &as_double), HONE_OK);  /* ints convert */
    assert_true(as_double == (double) layers);
    const char *opt = NULL;
    assert_int_equal(hone_trial_param_find(t, "opt", &i), HONE_OK);
    assert_int_equal(hone_trial_param_type(t, i), HONE_TYPE_STR);
    assert_int_equal(hone_trial_param_str(t, i, &opt), HONE_OK);
    assert_true(strcmp(opt, "adam") == 0 || strcmp(opt, "sgd") == 0 || strcmp(opt, "rms") == 0);
    bool bn;
    assert_int_equal(hone_trial_param_find(t, "bn", &i), HONE_OK);
    assert_int_equal(hone_trial_param_type(t, i), HONE_TYPE_BOOL);
    assert_int_equal(hone_trial_param_bool(t, i, &bn), HONE_OK);
    /* Wrong types and ranges are refused, and *out is left alone. */
    double untouched = 42;
    assert_int_equal(hone_trial_param_double(t, i, &untouched), HONE_EINVAL);
    assert_true(untouched == 42);
    assert_int_equal(hone_trial_param_find(t, "lr", &i), HONE_OK);
    assert_int_equal(hone_trial_param_int(t, i, &layers), HONE_EINVAL);
    assert_int_equal(hone_trial_param_str(t, i, &opt), HONE_EINVAL);
    assert_int_equal(hone_trial_param_bool(t, i, &bn), HONE_EINVAL);
    assert_int_equal(hone_trial_param_find(t, "nope", &i), HONE_ENOTFOUND);
    assert_null(hone_trial_param_name(t, 4));
    assert_int_equal(hone_trial_param_type(t, 4), HONE_EINVAL);
    assert_int_equal(hone_trial_param_double(t, 4, &lr), HONE_EINVAL);
}

static void test_version_errors_options(void **state)
{
    (void) state;
    assert_int_equal(hone_version(), HONE_VERSION);
    assert_int_equal(HONE_VERSION, HONE_MAKE_VERSION(HONE_VERSION_MAJOR, HONE_VERSION_MINOR, HONE_VERSION_PATCH));
    assert_string_equal(hone_err_name(HONE_ENOTFOUND), "HONE_ENOTFOUND");
    assert_string_equal(hone_err_name(HONE_EINTR), "HONE_EINTR");
    assert_string_equal(hone_strerror(HONE_EDONE), "experiment budget spent");
    assert_int_equal(HONE_ETIMEDOUT, -12);
    hone_free(NULL);
    hone_strfree(NULL);
    hone_options_t opts;
    memset(&opts, 0x5a, sizeof opts);
    hone_options_init(&opts);
    assert_int_equal(opts.timeout_ms, 10000);
    assert_int_equal(opts.retries, 3);
    for (size_t i = 0; i < sizeof opts.reserved / sizeof opts.reserved[0]; i++)
        assert_int_equal(opts.reserved[i], 0);
}

static void test_open_validation_and_destroy(void **state)
{
    (void) state;
    hone_client_t *c = (hone_client_t *) 1;
    hone_options_t opts;
    hone_options_init(&opts);
    opts.timeout_ms = 0;
    assert_int_equal(hone_client_open(&c, s_broker->endpoint, &opts), HONE_EINVAL);
    assert_null(c);
    hone_options_init(&opts);
    opts.retries = -1;
    assert_int_equal(hone_client_open(&c, s_broker->endpoint, &opts), HONE_EINVAL);
    hone_options_init(&opts);
    opts.reserved[3] = 1;
    assert_int_equal(hone_client_open(&c, s_broker->endpoint, &opts), HONE_EINVAL);
    assert_int_equal(hone_client_open(&c, "nope://where", NULL), HONE_EINVAL);
    assert_int_equal(hone_client_open(NULL, s_broker->endpoint, NULL), HONE_EINVAL);
    hone_worker_t *w = NULL;
    assert_int_equal(hone_worker_open(&w, s_broker->endpoint, NULL, NULL, NULL), HONE_EINVAL);
    assert_int_equal(hone_worker_open(&w, s_broker->endpoint, "", NULL, NULL), HONE_EINVAL);
    assert_null(w);

    /* NULL handles: errors, never crashes; destroy is safe twice. */
    assert_string_equal(hone_client_last_error(NULL), "");
    assert_string_equal(hone_worker_last_error(NULL), "");
    assert_int_equal(hone_client_status(NULL, "x", NULL), HONE_EINVAL);
    assert_int_equal(hone_worker_heartbeat(NULL), HONE_EINVAL);
    hone_client_destroy(NULL);
    assert_int_equal(hone_client_open(&c, NULL, NULL), HONE_OK);  /* the default endpoint */
    hone_client_destroy(&c);
    assert_null(c);
    hone_client_destroy(&c);
    hone_trial_t *t = NULL;
    hone_trial_destroy(&t);
    hone_trial_destroy(NULL);
    hone_trial_list_destroy(NULL);
    hone_best_destroy(NULL);
    hone_status_destroy(NULL);
    assert_int_equal(hone_trial_param_count(NULL), 0);
    assert_string_equal(hone_trial_status(NULL), "");
    assert_null(hone_trial_list_at(NULL, 0));
}

static void test_client_round_trip(void **state)
{
    (void) state;
    hone_client_t *c = s_client();
    s_create(c, "round_trip", 6);

    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_next_trials(c, "round_trip", 2, &list), HONE_OK);
    assert_int_equal(hone_trial_list_count(list), 2);
    for (size_t k = 0; k < 2; k++) {
        const hone_trial_t *t = hone_trial_list_at(list, k);
        assert_int_equal(hone_trial_index(t), k);
        assert_string_equal(hone_trial_status(t), "RUNNING");
        assert_string_equal(hone_trial_experiment(t), "round_trip");
        assert_string_equal(hone_trial_note(t), k == 0 ? "center" : "sobol");
        assert_int_equal(hone_trial_metric_count(t), 0);
        s_check_params(t);
    }
    assert_null(hone_trial_list_at(list, 2));
    /* A copy outlives its list. */
    hone_trial_t *copy = NULL;
    assert_int_equal(hone_trial_dup(hone_trial_list_at(list, 1), &copy), HONE_OK);
    hone_trial_list_destroy(&list);
    assert_null(list);
    assert_int_equal(hone_trial_index(copy), 1);
    s_check_params(copy);
    hone_trial_destroy(&copy);
    assert_null(copy);

    /* Trial 0: a learning-curve point, then the final reading. */
    const char *names[] = { "loss", "accuracy" };
    double means[] = { 0.8, 0.5 };
    double sems[] = { 0.05, NAN };
    assert_int_equal(hone_client_attach(c, "round_trip", 0, 2, names, means, sems, true, 5), HONE_OK);
    double final_loss = 0.25;
    assert_int_equal(hone_client_complete(c, "round_trip", 0, 1, names, &final_loss, NULL), HONE_OK);
    double loss1 = 0.5, sem1 = 0.01;
    assert_int_equal(hone_client_complete(c, "round_trip", 1, 1, names, &loss1, &sem1), HONE_OK);
    assert_string_equal(hone_client_last_error(c), "");

    hone_best_t *best = NULL;
    assert_int_equal(hone_client_best(c, "round_trip", &best), HONE_OK);
    assert_int_equal(hone_best_trial_index(best), 0);
    assert_string_equal(hone_best_metric(best), "loss");
    assert_true(hone_best_value(best) == 0.25);
    assert_true(isnan(hone_best_sem(best)));
    assert_true(hone_best_minimize(best));
    assert_string_equal(hone_best_source(best), "raw");   /* too few trials for the model */
    assert_int_equal(hone_trial_index(hone_best_trial(best)), 0);
    s_check_params(hone_best_trial(best));
    hone_best_destroy(&best);
    assert_null(best);

    hone_status_t *st = NULL;
    assert_int_equal(hone_client_status(c, "round_trip", &st), HONE_OK);
    assert_string_equal(hone_status_experiment(st), "round_trip");
    assert_string_equal(hone_status_objective(st), "-loss");
    assert_true(strlen(hone_status_method(st)) > 0);
    assert_int_equal(hone_status_max_trials(st), 6);
    assert_int_equal(hone_status_total(st), 2);
    assert_int_equal(hone_status_count(st, "COMPLETED"), 2);
    assert_int_equal(hone_status_count(st, "RUNNING"), 0);
    assert_int_equal(hone_status_count(st, "NO_SUCH_STATUS"), 0);
    assert_true(hone_status_entry_count(st) >= 5);
    uint64_t sum = 0;
    for (size_t i = 0; i < hone_status_entry_count(st); i++) {
        assert_non_null(hone_status_entry_name(st, i));
        sum += hone_status_entry_trials(st, i);
    }
    assert_int_equal(sum, 2);
    uint64_t best_trial = 99;
    double best_value = 0;
    assert_int_equal(hone_status_best(st, &best_trial, &best_value), HONE_OK);
    assert_int_equal(best_trial, 0);
    assert_true(best_value == 0.25);
    hone_status_destroy(&st);

    assert_int_equal(hone_client_list(c, "round_trip", &list), HONE_OK);
    assert_int_equal(hone_trial_list_count(list), 2);
    const hone_trial_t *t0 = hone_trial_list_at(list, 0);
    const hone_trial_t *t1 = hone_trial_list_at(list, 1);
    assert_string_equal(hone_trial_status(t0), "COMPLETED");
    assert_string_equal(hone_trial_status(t1), "COMPLETED");
    /* Latest view: the reading without a step wins over the one at step 5. */
    size_t found = 0;
    for (size_t i = 0; i < hone_trial_metric_count(t0); i++) {
        if (strcmp(hone_trial_metric_name(t0, i), "loss") == 0) {
            assert_true(hone_trial_metric_mean(t0, i) == 0.25);
            assert_true(isnan(hone_trial_metric_sem(t0, i)));
            found++;
        } else if (strcmp(hone_trial_metric_name(t0, i), "accuracy") == 0) {
            assert_true(hone_trial_metric_mean(t0, i) == 0.5);
            found++;
        }
    }
    assert_int_equal(found, 2);
    int64_t progression = 0;
    assert_int_equal(hone_trial_progression(t0, &progression), HONE_OK);
    assert_int_equal(progression, 5);
    assert_int_equal(hone_trial_progression(t1, &progression), HONE_ENOTFOUND);
    assert_int_equal(hone_trial_metric_count(t1), 1);
    assert_true(hone_trial_metric_mean(t1, 0) == 0.5);
    assert_true(hone_trial_metric_sem(t1, 0) == 0.01);
    assert_null(hone_trial_metric_name(t1, 1));
    assert_true(isnan(hone_trial_metric_mean(t1, 1)));
    hone_trial_list_destroy(&list);

    /* Abandon a new trial by hand. */
    assert_int_equal(hone_client_next_trials(c, "round_trip", 1, &list), HONE_OK);
    uint64_t third = hone_trial_index(hone_trial_list_at(list, 0));
    assert_int_equal(third, 2);
    hone_trial_list_destroy(&list);
    assert_int_equal(hone_client_mark(c, "round_trip", third, "ABANDONED", "node lost"), HONE_OK);
    assert_int_equal(hone_client_list(c, "round_trip", &list), HONE_OK);
    assert_string_equal(hone_trial_status(hone_trial_list_at(list, 2)), "ABANDONED");
    assert_string_equal(hone_trial_reason(hone_trial_list_at(list, 2)), "node lost");
    hone_trial_list_destroy(&list);
    hone_client_destroy(&c);
}

static void test_client_errors_carry_the_broker_code_and_message(void **state)
{
    (void) state;
    hone_client_t *c = s_client();
    hone_status_t *st = (hone_status_t *) 1;
    assert_int_equal(hone_client_status(c, "no_such_experiment", &st), HONE_ENOTFOUND);
    assert_null(st);
    assert_non_null(strstr(hone_client_last_error(c), "no_such_experiment"));

    char *name = (char *) 1;
    assert_int_equal(hone_client_create(c, "{\"name\": \"broken\"}", &name), HONE_EINVAL);
    assert_null(name);
    assert_true(strlen(hone_client_last_error(c)) > 0);
    assert_int_equal(hone_client_create(c, "not json at all", NULL), HONE_EINVAL);

    s_create(c, "errors", 4);
    assert_int_equal(hone_client_create(c, "{\"name\": \"errors\", \"parameters\": [{\"name\": \"x\", "
                                           "\"bounds\": [0, 1], \"parameter_type\": \"float\"}], "
                                           "\"objective\": \"y\"}", NULL),
                     HONE_EEXIST);
    assert_non_null(strstr(hone_client_last_error(c), "errors"));

    hone_best_t *best = NULL;
    assert_int_equal(hone_client_best(c, "errors", &best), HONE_EDATA);
    assert_null(best);
    assert_int_equal(hone_client_mark(c, "errors", 0, "COMPLETED", NULL), HONE_ENOTFOUND);

    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_next_trials(c, "errors", 1, &list), HONE_OK);
    hone_trial_list_destroy(&list);
    assert_int_equal(hone_client_mark(c, "errors", 0, "NOT_A_STATUS", NULL), HONE_EINVAL);
    assert_int_equal(hone_client_mark(c, "errors", 0, "EARLY_STOPPED", NULL), HONE_ESTATE);
    assert_true(strlen(hone_client_last_error(c)) > 0);

    /* Checked before sending. */
    const char *names[] = { "loss", "loss" };
    double means[] = { 1.0, 2.0 };
    double bad_mean = NAN, bad_sem = -1;
    assert_int_equal(hone_client_attach(c, "errors", 0, 2, names, means, NULL, false, 0), HONE_EINVAL);
    assert_non_null(strstr(hone_client_last_error(c), "twice"));
    assert_int_equal(hone_client_attach(c, "errors", 0, 1, names, &bad_mean, NULL, false, 0), HONE_EINVAL);
    assert_int_equal(hone_client_attach(c, "errors", 0, 1, names, means, &bad_sem, false, 0), HONE_EINVAL);
    assert_int_equal(hone_client_attach(c, "errors", 0, 0, NULL, NULL, NULL, false, 0), HONE_EINVAL);
    assert_int_equal(hone_client_next_trials(c, "errors", 0, &list), HONE_EINVAL);
    assert_int_equal(hone_client_next_trials(c, "errors", 1001, &list), HONE_EINVAL);
    assert_int_equal(hone_client_next_trials(c, "", 1, &list), HONE_EINVAL);
    assert_int_equal(hone_client_next_trials(c, "errors", 1, NULL), HONE_EINVAL);
    assert_null(list);

    /* A success clears the last error. */
    assert_int_equal(hone_client_status(c, "errors", &st), HONE_OK);
    assert_string_equal(hone_client_last_error(c), "");
    hone_status_destroy(&st);
    hone_client_destroy(&c);
}

/* The known loss of a trial of s_create's space. */
static double s_known_loss(const hone_trial_t *t)
{
    size_t i;
    double lr = 0;
    int64_t layers = 0;
    const char *opt = NULL;
    bool bn = false;
    assert_int_equal(hone_trial_param_find(t, "lr", &i), HONE_OK);
    hone_trial_param_double(t, i, &lr);
    assert_int_equal(hone_trial_param_find(t, "layers", &i), HONE_OK);
    hone_trial_param_int(t, i, &layers);
    assert_int_equal(hone_trial_param_find(t, "opt", &i), HONE_OK);
    hone_trial_param_str(t, i, &opt);
    assert_int_equal(hone_trial_param_find(t, "bn", &i), HONE_OK);
    hone_trial_param_bool(t, i, &bn);
    return fabs(log10(lr) + 2.0) + 0.1 * (double) layers + (strcmp(opt, "adam") == 0 ? 0.0 : 0.3) + (bn ? 0.0 : 0.1);
}

/* Adds the point {lr, layers, opt, bn} of s_create's space. */
static void s_add_point(hone_points_t *points, double lr, int64_t layers, const char *opt, bool bn)
{
    assert_int_equal(hone_points_add(points), HONE_OK);
    assert_int_equal(hone_points_set_double(points, "lr", lr), HONE_OK);
    assert_int_equal(hone_points_set_int(points, "layers", layers), HONE_OK);
    assert_int_equal(hone_points_set_str(points, "opt", opt), HONE_OK);
    assert_int_equal(hone_points_set_bool(points, "bn", bn), HONE_OK);
}

static void test_client_predict(void **state)
{
    (void) state;
    hone_client_t *c = s_client();
    s_create(c, "predict", 0);
    enum { N = 10 };
    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_next_trials(c, "predict", N, &list), HONE_OK);
    assert_int_equal(hone_trial_list_count(list), N);

    /* Before any data: the broker's HONE_EDATA, and no result. */
    hone_points_t *points = NULL;
    assert_int_equal(hone_points_new(&points), HONE_OK);
    assert_int_equal(hone_points_add_trial(points, hone_trial_list_at(list, 0)), HONE_OK);
    assert_int_equal(hone_points_add_trial(points, hone_trial_list_at(list, N - 1)), HONE_OK);
    s_add_point(points, 0.01, 2, "sgd", true);
    assert_int_equal(hone_points_count(points), 3);
    hone_prediction_t *prediction = (hone_prediction_t *) 1;
    assert_int_equal(hone_client_predict(c, "predict", points, &prediction), HONE_EDATA);
    assert_null(prediction);
    assert_non_null(strstr(hone_client_last_error(c), "at least 2 COMPLETED or EARLY_STOPPED trials"));

    /* Every trial completed with a known loss and a small SEM. */
    const char *names[] = { "loss" };
    double loss[N], sem = 0.001;
    for (size_t k = 0; k < N; k++) {
        loss[k] = s_known_loss(hone_trial_list_at(list, k));
        assert_int_equal(hone_client_complete(c, "predict", k, 1, names, &loss[k], &sem), HONE_OK);
    }
    assert_int_equal(hone_client_predict(c, "predict", points, &prediction), HONE_OK);
    assert_string_equal(hone_client_last_error(c), "");
    assert_int_equal(hone_prediction_count(prediction), 3);
    assert_string_equal(hone_prediction_metric(prediction), "loss");
    for (size_t i = 0; i < 2; i++) {       /* at observed trials: the reading, narrowly */
        double want = loss[i == 0 ? 0 : N - 1];
        assert_true(fabs(hone_prediction_mean(prediction, i) - want) < 0.01);
        assert_true(hone_prediction_sem(prediction, i) > 0 && hone_prediction_sem(prediction, i) < 0.0011);
    }
    assert_true(isfinite(hone_prediction_mean(prediction, 2)));
    assert_true(hone_prediction_sem(prediction, 2) > 0);
    assert_true(isnan(hone_prediction_mean(prediction, 3)));
    assert_true(isnan(hone_prediction_sem(prediction, 3)));
    hone_prediction_destroy(&prediction);
    assert_null(prediction);
    hone_prediction_destroy(&prediction);
    hone_points_destroy(&points);
    assert_null(points);
    hone_points_destroy(&points);
    hone_trial_list_destroy(&list);

    /* The broker's refusals name the point and the parameter. */
    assert_int_equal(hone_points_new(&points), HONE_OK);
    s_add_point(points, 0.01, 9, "adam", true);     /* layers is 1 to 4 */
    assert_int_equal(hone_client_predict(c, "predict", points, &prediction), HONE_EINVAL);
    assert_null(prediction);
    assert_true(strncmp(hone_client_last_error(c), "points[0]: parameter 'layers'", 29) == 0);
    assert_int_equal(hone_client_predict(c, "no_such_experiment", points, &prediction), HONE_ENOTFOUND);
    hone_points_destroy(&points);
    assert_int_equal(hone_points_new(&points), HONE_OK);
    s_add_point(points, 0.01, 2, "adam", true);
    s_add_point(points, 0.01, 2, "adam", true);
    assert_int_equal(hone_points_set_double(points, "momentum", 0.9), HONE_OK);
    assert_int_equal(hone_client_predict(c, "predict", points, &prediction), HONE_EINVAL);
    assert_non_null(strstr(hone_client_last_error(c), "points[1]: unknown parameter 'momentum'"));

    /* Checked before sending. */
    assert_int_equal(hone_points_set_double(points, "lr", NAN), HONE_EINVAL);
    assert_int_equal(hone_points_set_str(points, "opt", NULL), HONE_EINVAL);
    assert_int_equal(hone_points_set_int(points, "", 1), HONE_EINVAL);
    assert_int_equal(hone_points_set_bool(NULL, "bn", true), HONE_EINVAL);
    assert_int_equal(hone_points_add(NULL), HONE_EINVAL);
    assert_int_equal(hone_points_add_trial(points, NULL), HONE_EINVAL);
    assert_int_equal(hone_points_new(NULL), HONE_EINVAL);
    assert_int_equal(hone_points_count(NULL), 0);
    assert_int_equal(hone_client_predict(c, "predict", points, NULL), HONE_EINVAL);
    assert_int_equal(hone_client_predict(c, "", points, &prediction), HONE_EINVAL);
    assert_int_equal(hone_client_predict(c, "predict", NULL, &prediction), HONE_EINVAL);
    assert_int_equal(hone_client_predict(NULL, "predict", points, &prediction), HONE_EINVAL);
    hone_points_destroy(&points);
    assert_int_equal(hone_points_new(&points), HONE_OK);
    assert_int_equal(hone_points_set_double(points, "lr", 0.01), HONE_EINVAL);   /* no point yet */
    assert_int_equal(hone_client_predict(c, "predict", points, &prediction), HONE_EINVAL);
    assert_non_null(strstr(hone_client_last_error(c), "1 to 1000 points (got 0)"));
    for (int k = 0; k < 1001; k++)
        s_add_point(points, 0.01, 1 + k % 4, "adam", true);
    assert_int_equal(hone_client_predict(c, "predict", points, &prediction), HONE_EINVAL);
    assert_null(prediction);
    hone_points_destroy(&points);
    assert_int_equal(hone_prediction_count(NULL), 0);
    assert_string_equal(hone_prediction_metric(NULL), "");
    assert_true(isnan(hone_prediction_mean(NULL, 0)));
    hone_client_destroy(&c);
}

static void test_worker_role(void **state)
{
    (void) state;
    hone_client_t *c = s_client();
    s_create(c, "worker_role", 3);
    hone_worker_t *w = s_worker("worker_role");

    /* Trial 0: two progress points, a heartbeat, then complete. */
    hone_trial_t *t = NULL;
    assert_int_equal(hone_worker_next(w, &t, 5000), HONE_OK);
    assert_int_equal(hone_trial_index(t), 0);
    assert_string_equal(hone_trial_experiment(t), "worker_role");
    s_check_params(t);
    const char *names[] = { "loss" };
    double m1 = 0.9, m2 = 0.7, final = 0.6, sem = 0.02;
    assert_int_equal(hone_worker_report(w, 0, 1, names, &m1, NULL, true, 1), HONE_OK);
    assert_int_equal(hone_worker_heartbeat(w), HONE_OK);
    assert_int_equal(hone_worker_report(w, 0, 1, names, &m2, &sem, true, 2), HONE_OK);
    assert_int_equal(hone_worker_heartbeat_interval(w), 1000);   /* the experiment's, from the broker */
    assert_int_equal(hone_worker_complete(w, 0, 1, names, &final, NULL), HONE_OK);
    /* A completion sent again (its reply lost) gets the same answer and changes nothing. */
    double other = 0.1;
    assert_int_equal(hone_worker_complete(w, 0, 1, names, &other, NULL), HONE_OK);
    /* Reports about a trial that is no longer running are refused. */
    assert_int_equal(hone_worker_report(w, 0, 1, names, &m1, NULL, false, 0), HONE_ESTATE);
    assert_true(strlen(hone_worker_last_error(w)) > 0);
    assert_int_equal(hone_worker_report(w, 0, 0, NULL, NULL, NULL, false, 0), HONE_EINVAL);
    hone_trial_destroy(&t);

    /* Trials 1 and 2 run on two workers: the budget of 3 is out, a third worker gets
     * no work, at once or after waiting. */
    assert_int_equal(hone_worker_next(w, &t, 5000), HONE_OK);
    assert_int_equal(hone_trial_index(t), 1);
    hone_worker_t *w2 = s_worker("worker_role");
    hone_trial_t *t2 = NULL;
    assert_int_equal(hone_worker_next(w2, &t2, 5000), HONE_OK);
    assert_int_equal(hone_trial_index(t2), 2);
    hone_worker_t *w3 = s_worker("worker_role");
    hone_trial_t *t3 = NULL;
    assert_int_equal(hone_worker_next(w3, &t3, 0), HONE_EAGAIN);
    int64_t start = s_now_ms();
    assert_int_equal(hone_worker_next(w3, &t3, 300), HONE_EAGAIN);
    int64_t elapsed = s_now_ms() - start;
    assert_true(elapsed >= 250 && elapsed < 3000);
    assert_null(t3);
    assert_true(strlen(hone_worker_last_error(w3)) > 0);

    /* Trial 1 fails, which frees a place in the budget (Ax: failed trials are retried). */
    assert_int_equal(hone_worker_heartbeat(w), HONE_OK);
    assert_int_equal(hone_worker_fail(w, 1, "boom: exit status 3"), HONE_OK);
    hone_trial_destroy(&t);
    assert_int_equal(hone_worker_next(w3, &t3, 5000), HONE_OK);
    assert_int_equal(hone_trial_index(t3), 3);

    /* Trial 3 completes with no reading (n = 0), trial 2 with one; the budget is spent. */
    assert_int_equal(hone_worker_complete(w3, 3, 0, NULL, NULL, NULL), HONE_OK);
    assert_int_equal(hone_worker_complete(w2, 2, 1, names, &m2, &sem), HONE_OK);
    hone_trial_destroy(&t2);
    hone_trial_destroy(&t3);
    assert_int_equal(hone_worker_next(w, &t, 5000), HONE_EDONE);
    assert_null(t);
    assert_true(strlen(hone_worker_last_error(w)) > 0);
    assert_int_equal(hone_worker_next(w3, &t3, 5000), HONE_EDONE);
    hone_worker_destroy(&w3);
    hone_worker_destroy(&w2);
    hone_worker_destroy(&w);
    assert_null(w);
    hone_worker_destroy(&w);

    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_list(c, "worker_role", &list), HONE_OK);
    assert_int_equal(hone_trial_list_count(list), 4);
    const hone_trial_t *t0 = hone_trial_list_at(list, 0);
    assert_string_equal(hone_trial_status(t0), "COMPLETED");
    assert_int_equal(hone_trial_metric_count(t0), 1);
    assert_true(hone_trial_metric_mean(t0, 0) == 0.6);
    assert_string_equal(hone_trial_status(hone_trial_list_at(list, 1)), "FAILED");
    assert_string_equal(hone_trial_reason(hone_trial_list_at(list, 1)), "boom: exit status 3");
    assert_string_equal(hone_trial_status(hone_trial_list_at(list, 2)), "COMPLETED");
    assert_true(hone_trial_metric_sem(hone_trial_list_at(list, 2), 0) == 0.02);
    assert_string_equal(hone_trial_status(hone_trial_list_at(list, 3)), "COMPLETED");
    assert_int_equal(hone_trial_metric_count(hone_trial_list_at(list, 3)), 0);
    hone_trial_list_destroy(&list);

    /* The status lists the workers and the lease settings. */
    hone_status_t *st = NULL;
    assert_int_equal(hone_client_status(c, "worker_role", &st), HONE_OK);
    int32_t heartbeat = 0, liveness = 0, retries = -1;
    hone_status_leases(st, &heartbeat, &liveness, &retries);
    assert_true(heartbeat == 1000 && liveness == 3 && retries == 3);
    assert_int_equal(hone_status_leases_expired(st), 0);
    assert_int_equal(hone_status_retries(st), 0);
    assert_int_equal(hone_status_count(st, "STALE"), 0);
    assert_int_equal(hone_status_worker_count(st), 3);
    assert_int_equal(hone_status_workers_total(st), 3);
    for (size_t i = 0; i < hone_status_worker_count(st); i++) {
        assert_true(strlen(hone_status_worker_name(st, i)) > 0);
        assert_true(hone_status_worker_last_seen_ms(st, i) >= 0);
        assert_int_equal(hone_status_worker_lease(st, i, NULL, NULL, NULL), HONE_ENOTFOUND);   /* all idle */
    }
    assert_null(hone_status_worker_name(st, 3));
    assert_int_equal(hone_status_worker_last_seen_ms(st, 3), -1);
    assert_int_equal(hone_status_worker_lease(st, 3, NULL, NULL, NULL), HONE_EINVAL);
    hone_status_destroy(&st);

    /* A worker for an unknown experiment learns it from the broker. */
    w = s_worker("no_such_experiment");
    assert_int_equal(hone_worker_next(w, &t, 1000), HONE_ENOTFOUND);
    assert_non_null(strstr(hone_worker_last_error(w), "no_such_experiment"));
    hone_worker_destroy(&w);
    hone_client_destroy(&c);
}

typedef struct {
    int calls;          /* log lines received */
    int warnings;       /* of which at HONE_LOG_WARN */
} s_log_count_t;

static void s_count_log(int32_t level, const char *text, void *arg)
{
    s_log_count_t *count = arg;
    assert_non_null(text);
    count->calls++;
    if (level == HONE_LOG_WARN)
        count->warnings++;
}

static void test_timeout_when_no_broker_listens(void **state)
{
    (void) state;
    char *nobody = s_printf("ipc://%s/nobody.sock", s_broker->dir);
    hone_options_t opts;
    hone_options_init(&opts);
    opts.timeout_ms = 200;
    opts.retries = 1;
    hone_client_t *c = NULL;
    assert_int_equal(hone_client_open(&c, nobody, &opts), HONE_OK);
    s_log_count_t count = { 0, 0 };
    hone_client_set_log(c, s_count_log, &count);
    hone_status_t *st = NULL;
    int64_t start = s_now_ms();
    assert_int_equal(hone_client_status(c, "x", &st), HONE_ETIMEDOUT);
    int64_t elapsed = s_now_ms() - start;
    /* Two attempts of 200 ms and a 200 ms back-off between them. */
    assert_true(elapsed >= 550);
    assert_true(elapsed < 600 + 2000);
    assert_null(st);
    assert_non_null(strstr(hone_client_last_error(c), "nobody.sock"));
    assert_int_equal(count.warnings, 2);

    /* Without a log function the SDK stays silent (nothing to count, nothing printed). */
    hone_client_set_log(c, NULL, NULL);
    assert_int_equal(hone_client_status(c, "x", &st), HONE_ETIMEDOUT);
    assert_int_equal(count.calls, 2);
    hone_client_destroy(&c);

    opts.retries = 0;
    hone_worker_t *w = NULL;
    assert_int_equal(hone_worker_open(&w, nobody, "x", NULL, &opts), HONE_OK);
    hone_trial_t *t = NULL;
    start = s_now_ms();
    assert_int_equal(hone_worker_next(w, &t, 5000), HONE_ETIMEDOUT);
    elapsed = s_now_ms() - start;
    assert_true(elapsed >= 190 && elapsed < 200 + 2000);
    hone_worker_destroy(&w);
    free(nobody);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_errors_options),
        cmocka_unit_test(test_open_validation_and_destroy),
        cmocka_unit_test(test_client_round_trip),
        cmocka_unit_test(test_client_errors_carry_the_broker_code_and_message),
        cmocka_unit_test(test_client_predict),
        cmocka_unit_test(test_worker_role),
        cmocka_unit_test(test_timeout_when_no_broker_listens),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
