/* Tests of the command line tools `hone` and `hone-worker`, run as processes against a
 * real hone-broker on an ipc:// endpoint: a worker that finishes a budget, failing
 * programs, argument injection, trials driven by hand, usage errors and --help. The
 * results are read back through `hone --json` and through the SDK. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hone.h"
#include "proc.h"
#include "test_support.h"

#define S_TIMEOUT_MS 60000

typedef struct {
    hone_test_broker_t *broker; /* the hone-broker child, on ipc://DIR/broker.sock */
    char *nobody;       /* an endpoint nothing listens on */
    char *hone;         /* path of the hone program */
    char *worker;       /* path of the hone-worker program */
} s_group_t;

static s_group_t s_group;

static char *s_path(const char *name)
{
    size_t n = strlen(s_group.broker->dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", s_group.broker->dir, name);
    return p;
}

static int s_group_setup(void **state)
{
    (void) state;
    s_group.broker = hone_test_broker_new("cli", HONE_TEST_IPC);
    char *nobody = s_path("nobody.sock");
    s_group.nobody = malloc(strlen(nobody) + 8);
    sprintf(s_group.nobody, "ipc://%s", nobody);
    free(nobody);
    s_group.hone = hone_test_program("hone");
    s_group.worker = hone_test_program("hone-worker");
    /* The tools read the endpoint from the environment; --broker is tested separately. */
    setenv("HONE_BROKER", s_group.broker->endpoint, 1);
    return hone_test_broker_start(s_group.broker, NULL);
}

static int s_group_teardown(void **state)
{
    (void) state;
    hone_test_broker_destroy(&s_group.broker);
    free(s_group.nobody);
    free(s_group.hone);
    free(s_group.worker);
    return 0;
}

/* Runs argv (argv[0] a full path) with a bounded wait; stdout and stderr are captured. */
static hone_test_output_t s_run(char *const argv[])
{
    return hone_test_run(s_group.broker->dir, argv, S_TIMEOUT_MS);
}

#define S_HONE(...) s_run((char *const[]) { s_group.hone, __VA_ARGS__, NULL })

static int s_count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Creates an experiment from config text with `hone create FILE`. */
static void s_create(const char *name, const char *config)
{
    char file[128];
    snprintf(file, sizeof file, "%s.json", name);
    char *path = s_path(file);
    s_write(path, config);
    hone_test_output_t r = S_HONE("create", path);
    assert_int_equal(r.status, 0);
    char expected[256];
    snprintf(expected, sizeof expected, "created experiment '%s'\n", name);
    assert_string_equal(r.out, expected);
    assert_string_equal(r.err, "");
    hone_test_output_free(&r);
    free(path);
}

/* One line on stderr, nothing on stdout, and the given exit status. */
static void s_expect_one_error_line(hone_test_output_t *r, int status, const char *prefix)
{
    assert_int_equal(r->status, status);
    assert_string_equal(r->out, "");
    assert_int_equal(s_count(r->err, "\n"), 1);
    assert_true(r->err[strlen(r->err) - 1] == '\n');
    assert_true(strncmp(r->err, prefix, strlen(prefix)) == 0);
}

static hone_trial_list_t *s_list(const char *experiment)
{
    hone_client_t *c = NULL;
    assert_int_equal(hone_client_open(&c, s_group.broker->endpoint, NULL), HONE_OK);
    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_list(c, experiment, &list), HONE_OK);
    hone_client_destroy(&c);
    return list;
}

static void test_help(void **state)
{
    (void) state;
    hone_test_output_t r = S_HONE("--help");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "usage: hone"));
    assert_string_equal(r.err, "");
    hone_test_output_free(&r);
    const char *commands[] = { "create", "status", "trials", "best", "pareto", "predict", "baseline", "next",
                               "attach", "complete", "fail", "abandon", "early-stop" };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        r = S_HONE((char *) commands[i], "--help");
        assert_int_equal(r.status, 0);
        char usage[64];
        snprintf(usage, sizeof usage, "usage: hone [GLOBAL OPTIONS] %s", commands[i]);
        assert_non_null(strstr(r.out, usage));
        assert_string_equal(r.err, "");
        hone_test_output_free(&r);
    }
    /* --help wins over missing or bad arguments. */
    r = S_HONE("attach", "not-a-number", "-h");
    assert_int_equal(r.status, 0);
    hone_test_output_free(&r);
    r = s_run((char *const[]) { s_group.worker, "--help", NULL });
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "usage: hone-worker"));
    assert_string_equal(r.err, "");
    hone_test_output_free(&r);
}

static void test_usage_errors_exit_2_with_one_line(void **state)
{
    (void) state;
    hone_test_output_t r = s_run((char *const[]) { s_group.hone, NULL });
    s_expect_one_error_line(&r, 2, "hone: ");
    hone_test_output_free(&r);
    r = S_HONE("frobnicate");
    s_expect_one_error_line(&r, 2, "hone: unknown command 'frobnicate'");
    hone_test_output_free(&r);
    r = S_HONE("status");
    s_expect_one_error_line(&r, 2, "hone: status: ");
    hone_test_output_free(&r);
    r = S_HONE("status", "a", "b");
    s_expect_one_error_line(&r, 2, "hone: status: ");
    hone_test_output_free(&r);
    r = S_HONE("status", "x", "--bogus");
    s_expect_one_error_line(&r, 2, "hone: status: unknown option '--bogus'");
    hone_test_output_free(&r);
    r = S_HONE("attach", "x", "seven", "{\"loss\": 1}");
    s_expect_one_error_line(&r, 2, "hone: attach: ");
    hone_test_output_free(&r);
    r = S_HONE("attach", "x", "0", "loss=1");
    s_expect_one_error_line(&r, 2, "hone: attach: ");
    hone_test_output_free(&r);
    r = S_HONE("attach", "x", "0", "{\"loss\": \"high\"}");
    s_expect_one_error_line(&r, 2, "hone: attach: ");
    hone_test_output_free(&r);
    r = S_HONE("next", "x", "-n", "0");
    s_expect_one_error_line(&r, 2, "hone: next: ");
    hone_test_output_free(&r);
    r = S_HONE("--timeout", "soon", "status", "x");
    s_expect_one_error_line(&r, 2, "hone: ");
    hone_test_output_free(&r);
    r = S_HONE("fail", "x", "0", "--progression", "3");
    s_expect_one_error_line(&r, 2, "hone: fail: unknown option");
    hone_test_output_free(&r);
    r = S_HONE("predict", "x");
    s_expect_one_error_line(&r, 2, "hone: predict: give the points with --params");
    hone_test_output_free(&r);
    r = S_HONE("predict", "x", "--params", "x=0.5");
    s_expect_one_error_line(&r, 2, "hone: predict: invalid --params: not JSON");
    hone_test_output_free(&r);
    r = S_HONE("predict", "x", "--params", "[{\"x\": 0.5}, 7]");
    s_expect_one_error_line(&r, 2, "hone: predict: invalid --params: point 1 must be a JSON object");
    hone_test_output_free(&r);
    r = S_HONE("predict", "x", "--params", "{\"x\": [0.5]}");
    s_expect_one_error_line(&r, 2, "hone: predict: invalid --params: point 0: \"x\"");
    hone_test_output_free(&r);
    r = S_HONE("predict", "x", "--params", "[]");
    s_expect_one_error_line(&r, 2, "hone: predict: invalid --params: an empty array");
    hone_test_output_free(&r);
    r = S_HONE("predict", "x", "--params", "@/no/such/file.json");
    s_expect_one_error_line(&r, 1, "hone: predict: cannot read '/no/such/file.json'");
    hone_test_output_free(&r);

    r = s_run((char *const[]) { s_group.worker, "--", "/bin/true", NULL });
    s_expect_one_error_line(&r, 2, "hone-worker: ");
    hone_test_output_free(&r);
    r = s_run((char *const[]) { s_group.worker, "--experiment", "x", NULL });
    s_expect_one_error_line(&r, 2, "hone-worker: ");
    hone_test_output_free(&r);
    r = s_run((char *const[]) { s_group.worker, "--experiment", "x", "--max-trials", "0", "--", "/bin/true", NULL });
    s_expect_one_error_line(&r, 2, "hone-worker: ");
    hone_test_output_free(&r);
}

static void test_errors_are_one_line_with_the_code(void **state)
{
    (void) state;
    hone_test_output_t r = S_HONE("status", "no_such_experiment");
    s_expect_one_error_line(&r, 1, "hone: status: ");
    assert_non_null(strstr(r.err, "no_such_experiment"));
    assert_non_null(strstr(r.err, "(HONE_ENOTFOUND)\n"));
    hone_test_output_free(&r);
    r = S_HONE("--json", "attach", "no_such_experiment", "0", "{\"loss\": 0.3}");
    s_expect_one_error_line(&r, 1, "hone: attach: ");
    assert_non_null(strstr(r.err, "(HONE_ENOTFOUND)\n"));
    hone_test_output_free(&r);
    char *missing = s_path("missing.json");
    r = S_HONE("create", missing);
    s_expect_one_error_line(&r, 1, "hone: create: cannot read");
    hone_test_output_free(&r);
    char *bad = s_path("bad.json");
    s_write(bad, "{\"name\": \"bad\", \"parameters\": []}");
    r = S_HONE("create", bad);
    s_expect_one_error_line(&r, 1, "hone: create: ");
    assert_non_null(strstr(r.err, "(HONE_EINVAL)\n"));
    hone_test_output_free(&r);
    free(missing);
    free(bad);
    /* Nothing listens: a timeout, reported in time. */
    r = S_HONE("--broker", s_group.nobody, "--timeout", "200", "status", "x");
    s_expect_one_error_line(&r, 1, "hone: status: ");
    assert_non_null(strstr(r.err, "(HONE_ETIMEDOUT)\n"));
    hone_test_output_free(&r);
}

static void test_worker_finishes_the_budget(void **state)
{
    (void) state;
    s_create("cli_budget",
             "{\"name\": \"cli_budget\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0, 1], "
             "\"parameter_type\": \"float\"}], \"objective\": \"-y\", \"max_trials\": 5}");
    hone_test_output_t r = s_run((char *const[]) {
        s_group.worker, "--experiment", "cli_budget", "--name", "cli-test", "--heartbeat-ms", "100", "--",
        "/bin/sh", "-c", "echo \"evaluating x=$1 trial $HONE_TRIAL of $HONE_EXPERIMENT\"; "
                         "echo \"{\\\"y\\\": $1, \\\"step\\\": 1}\"; echo \"{\\\"y\\\": $HONE_PARAM_x}\"",
        "sh", "{x}", NULL });
    assert_int_equal(r.status, 0);
    /* Ordinary lines pass through; readings do not. */
    assert_int_equal(s_count(r.out, "evaluating x="), 5);
    assert_int_equal(s_count(r.out, "of cli_budget\n"), 5);
    assert_null(strstr(r.out, "{"));
    assert_non_null(strstr(r.err, "trial 0 completed: y="));
    assert_int_equal(s_count(r.err, " completed: y="), 5);
    hone_test_output_free(&r);

    r = S_HONE("--json", "trials", "cli_budget");
    assert_int_equal(r.status, 0);
    assert_int_equal(s_count(r.out, "\n"), 5);
    assert_int_equal(s_count(r.out, "\"status\": \"COMPLETED\""), 5);
    assert_int_equal(s_count(r.out, "\"progression\": 1"), 5);
    hone_test_output_free(&r);

    /* The final reading is the parameter's value: substitution and the environment agree. */
    hone_trial_list_t *list = s_list("cli_budget");
    assert_int_equal(hone_trial_list_count(list), 5);
    for (size_t i = 0; i < 5; i++) {
        const hone_trial_t *t = hone_trial_list_at(list, i);
        double x = -1;
        assert_int_equal(hone_trial_param_double(t, 0, &x), HONE_OK);
        assert_int_equal(hone_trial_metric_count(t), 1);
        assert_string_equal(hone_trial_metric_name(t, 0), "y");
        assert_true(hone_trial_metric_mean(t, 0) == x);
    }
    hone_trial_list_destroy(&list);

    r = S_HONE("status", "cli_budget");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "trials      5 of 5"));
    hone_test_output_free(&r);
}

static void test_failing_programs_fail_their_trials(void **state)
{
    (void) state;
    s_create("cli_fail",
             "{\"name\": \"cli_fail\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0, 1], "
             "\"parameter_type\": \"float\"}], \"objective\": \"-y\", \"max_trials\": 5}");
    hone_test_output_t r = s_run((char *const[]) {
        s_group.worker, "--experiment", "cli_fail", "--max-trials", "1", "--",
        "/bin/sh", "-c", "echo '{\"y\": 1}'; echo 'warming up' >&2; echo 'disk on fire' >&2; exit 3", NULL });
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "disk on fire\n"));  /* forwarded */
    assert_non_null(strstr(r.err, "trial 0 failed"));
    hone_test_output_free(&r);

    r = s_run((char *const[]) { s_group.worker, "--experiment", "cli_fail", "--max-trials", "1", "--",
                                "/bin/sh", "-c", "echo just talking", NULL });
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "just talking\n");
    hone_test_output_free(&r);

    r = s_run((char *const[]) { s_group.worker, "--experiment", "cli_fail", "--max-trials", "1", "--",
                                "/bin/sh", "-c", "kill -9 $$", NULL });
    assert_int_equal(r.status, 0);
    hone_test_output_free(&r);

    r = S_HONE("--json", "trials", "cli_fail");
    assert_int_equal(r.status, 0);
    assert_int_equal(s_count(r.out, "\"status\": \"FAILED\""), 3);
    assert_non_null(strstr(r.out, "\"reason\": \"warming up\\ndisk on fire\""));
    assert_non_null(strstr(r.out, "\"reason\": \"program printed no reading\""));
    assert_non_null(strstr(r.out, "\"reason\": \"program killed by signal 9"));
    hone_test_output_free(&r);
}

static void test_parameters_are_never_interpreted_by_a_shell(void **state)
{
    (void) state;
    char *pwned = s_path("pwned");
    char *argv_file = s_path("argv.txt");
    char config[1024];
    snprintf(config, sizeof config,
             "{\"name\": \"cli_inject\", \"parameters\": [{\"name\": \"s\", \"values\": "
             "[\"$(touch %s); \\\"x\", \"`touch %s` {x} '; touch %s '\"], \"parameter_type\": \"str\"}], "
             "\"objective\": \"-y\", \"max_trials\": 2}",
             pwned, pwned, pwned);
    s_create("cli_inject", config);
    char script[512];
    snprintf(script, sizeof script,
             "for a in \"$@\"; do printf '[%%s]\\n' \"$a\"; done >> %s; "
             "printf '<%%s>\\n' \"$HONE_PARAM_s\" >> %s; echo '{\"y\": 1}'",
             argv_file, argv_file);
    hone_test_output_t r = s_run((char *const[]) { s_group.worker, "--experiment", "cli_inject", "--",
                                           "/bin/sh", "-c", script, "sh", "{s}", "--s={s}", "{{s}}", NULL });
    assert_int_equal(r.status, 0);
    hone_test_output_free(&r);

    struct stat st;
    assert_int_not_equal(stat(pwned, &st), 0);
    char *seen = hone_test_read_file(argv_file, NULL);
    assert_non_null(seen);
    char v1[512], v2[512];
    snprintf(v1, sizeof v1, "$(touch %s); \"x", pwned);
    snprintf(v2, sizeof v2, "`touch %s` {x} '; touch %s '", pwned, pwned);
    /* Per trial: the value as one argument, inside a longer one, the escape, the env. */
    char expect1[2048], expect2[2048];
    snprintf(expect1, sizeof expect1, "[%s]\n[--s=%s]\n[{s}]\n<%s>\n", v1, v1, v1);
    snprintf(expect2, sizeof expect2, "[%s]\n[--s=%s]\n[{s}]\n<%s>\n", v2, v2, v2);
    assert_int_equal(s_count(seen, expect1) + s_count(seen, expect2), 2);
    assert_int_equal(s_count(seen, "\n"), 8);
    free(seen);
    free(pwned);
    free(argv_file);

    hone_trial_list_t *list = s_list("cli_inject");
    assert_int_equal(hone_trial_list_count(list), 2);
    for (size_t i = 0; i < 2; i++)
        assert_string_equal(hone_trial_status(hone_trial_list_at(list, i)), "COMPLETED");
    hone_trial_list_destroy(&list);
}

/* Waits (bounded) until path exists. */
static void s_wait_for_file(const char *path)
{
    struct stat st;
    for (int waited = 0; stat(path, &st) != 0; waited += 10) {
        if (waited > 20000)
            fail_msg("%s did not appear", path);
        hone_test_sleep_ms(10);
    }
}

static void s_interrupt(const char *experiment, int sig, int expected_status)
{
    char mark_name[64];
    snprintf(mark_name, sizeof mark_name, "%s.started", experiment);
    char *mark = s_path(mark_name);
    char script[512];
    snprintf(script, sizeof script, "echo '{\"y\": 1}'; touch %s; exec sleep 30", mark);
    char *out = s_path("interrupt.out");
    char *err = s_path("interrupt.err");
    pid_t pid = hone_test_spawn((char *const[]) { s_group.worker, "--experiment", (char *) experiment,
                                                  "--heartbeat-ms", "100", "--", "/bin/sh", "-c", script, NULL },
                                out, err);
    assert_true(pid > 0);
    s_wait_for_file(mark);
    hone_test_sleep_ms(150);  /* let a heartbeat or two go by */
    kill(pid, sig);
    int status = 0;
    assert_int_equal(hone_test_wait(pid, 15000, &status), 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), expected_status);
    hone_trial_list_t *list = s_list(experiment);
    assert_int_equal(hone_trial_list_count(list), 1);
    assert_string_equal(hone_trial_status(hone_trial_list_at(list, 0)), "FAILED");
    assert_string_equal(hone_trial_reason(hone_trial_list_at(list, 0)), "worker interrupted");
    hone_trial_list_destroy(&list);
    free(mark);
    free(out);
    free(err);
}

static void test_interrupted_worker_fails_its_trial(void **state)
{
    (void) state;
    s_create("cli_sigint", "{\"name\": \"cli_sigint\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0, 1], "
                           "\"parameter_type\": \"float\"}], \"objective\": \"-y\", \"max_trials\": 3}");
    s_interrupt("cli_sigint", SIGINT, 130);
    s_create("cli_sigterm", "{\"name\": \"cli_sigterm\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0, 1], "
                            "\"parameter_type\": \"float\"}], \"objective\": \"-y\", \"max_trials\": 3}");
    s_interrupt("cli_sigterm", SIGTERM, 143);
}

/* A trial abandoned by hand while it runs: the next reading is refused, hone-worker
 * stops the program and reports nothing more about that trial. */
static void test_worker_stops_a_trial_the_broker_no_longer_runs(void **state)
{
    (void) state;
    s_create("cli_stop", "{\"name\": \"cli_stop\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0, 1], "
                         "\"parameter_type\": \"float\"}], \"objective\": \"-y\", \"max_trials\": 3}");
    char *first = s_path("stop.first");
    char *go = s_path("stop.go");
    char script[1024];
    snprintf(script, sizeof script,
             "echo '{\"y\": 1}'; touch %s; while [ ! -e %s ]; do sleep 0.02; done; "
             "echo '{\"y\": 2}'; exec sleep 30",
             first, go);
    char *out = s_path("stop.out");
    char *err = s_path("stop.err");
    pid_t pid = hone_test_spawn((char *const[]) { s_group.worker, "--experiment", "cli_stop", "--max-trials", "1",
                                                  "--", "/bin/sh", "-c", script, NULL },
                                out, err);
    assert_true(pid > 0);
    s_wait_for_file(first);
    hone_test_output_t r = S_HONE("abandon", "cli_stop", "0", "--reason", "changed my mind");
    assert_int_equal(r.status, 0);
    hone_test_output_free(&r);
    s_write(go, "");
    int status = 0;
    assert_int_equal(hone_test_wait(pid, 15000, &status), 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char *log = hone_test_read_file(err, NULL);
    assert_non_null(log);
    assert_non_null(strstr(log, "trial 0 stopped by the broker"));
    free(log);
    hone_trial_list_t *list = s_list("cli_stop");
    assert_string_equal(hone_trial_status(hone_trial_list_at(list, 0)), "ABANDONED");
    assert_string_equal(hone_trial_reason(hone_trial_list_at(list, 0)), "changed my mind");
    hone_trial_list_destroy(&list);
    free(first);
    free(go);
    free(out);
    free(err);
}

static void test_trials_by_hand(void **state)
{
    (void) state;
    s_create("cli_hand",
             "{\"name\": \"cli_hand\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0, 1], "
             "\"parameter_type\": \"float\"}, {\"name\": \"opt\", \"values\": [\"adam\", \"sgd\", \"rms\"], "
             "\"parameter_type\": \"str\"}], \"objective\": \"-loss\", \"max_trials\": 10}");
    hone_test_output_t r = S_HONE("next", "cli_hand", "-n", "3");
    assert_int_equal(r.status, 0);
    assert_int_equal(s_count(r.out, "\n"), 3);
    assert_true(strncmp(r.out, "{\"trial\": 0, \"params\": {\"x\": ", 29) == 0);
    assert_non_null(strstr(r.out, "\n{\"trial\": 1, \"params\": {"));
    assert_non_null(strstr(r.out, "\n{\"trial\": 2, \"params\": {"));
    assert_int_equal(s_count(r.out, "\"opt\": \""), 3);
    hone_test_output_free(&r);

    r = S_HONE("attach", "cli_hand", "0", "{\"loss\": [0.5, 0.1]}", "--progression", "2");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    hone_test_output_free(&r);
    r = S_HONE("--json", "attach", "cli_hand", "0", "{\"loss\": 0.4, \"step\": 3}");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "{\"experiment\": \"cli_hand\", \"trial\": 0, \"metrics\": {\"loss\": [0.4, null]}, "
                               "\"progression\": 3}\n");
    hone_test_output_free(&r);
    r = S_HONE("complete", "cli_hand", "0", "{\"loss\": 0.25}");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "trial 0 of 'cli_hand' is COMPLETED\n");
    hone_test_output_free(&r);
    r = S_HONE("fail", "cli_hand", "1", "--reason", "bad node");
    assert_int_equal(r.status, 0);
    hone_test_output_free(&r);
    r = S_HONE("abandon", "cli_hand", "2", "--json");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "{\"experiment\": \"cli_hand\", \"trial\": 2, \"status\": \"ABANDONED\"}\n");
    hone_test_output_free(&r);
    r = S_HONE("early-stop", "cli_hand", "0");
    s_expect_one_error_line(&r, 1, "hone: early-stop: ");
    assert_non_null(strstr(r.err, "(HONE_ESTATE)\n"));
    hone_test_output_free(&r);

    r = S_HONE("--json", "status", "cli_hand");
    assert_int_equal(r.status, 0);
    assert_int_equal(s_count(r.out, "\n"), 1);
    assert_non_null(strstr(r.out, "\"COMPLETED\": 1"));
    assert_non_null(strstr(r.out, "\"FAILED\": 1"));
    assert_non_null(strstr(r.out, "\"ABANDONED\": 1"));
    assert_non_null(strstr(r.out, "\"total\": 3"));
    assert_non_null(strstr(r.out, "\"best\": {\"trial\": 0, \"value\": 0.25}"));
    hone_test_output_free(&r);

    r = S_HONE("best", "cli_hand", "--json");
    assert_int_equal(r.status, 0);
    assert_true(strncmp(r.out, "{\"trial\": 0, \"params\": {", 24) == 0);
    assert_non_null(strstr(r.out, "\"metric\": \"loss\", \"value\": 0.25, \"sem\": null, \"minimize\": true, \"source\": \"raw\"}\n"));
    hone_test_output_free(&r);

    r = S_HONE("trials", "cli_hand");
    assert_int_equal(r.status, 0);
    assert_true(strncmp(r.out, "TRIAL", 5) == 0);
    assert_int_equal(s_count(r.out, "\n"), 4);
    assert_non_null(strstr(r.out, "loss=0.25"));
    assert_non_null(strstr(r.out, "(bad node)"));
    hone_test_output_free(&r);

    hone_trial_list_t *list = s_list("cli_hand");
    const hone_trial_t *t0 = hone_trial_list_at(list, 0);
    int64_t progression = 0;
    assert_int_equal(hone_trial_progression(t0, &progression), HONE_OK);
    assert_int_equal(progression, 3);
    assert_true(hone_trial_metric_mean(t0, 0) == 0.25);
    assert_string_equal(hone_trial_reason(hone_trial_list_at(list, 1)), "bad node");
    hone_trial_list_destroy(&list);

    /* --broker wins over HONE_BROKER. */
    setenv("HONE_BROKER", s_group.nobody, 1);
    r = S_HONE("--timeout", "200", "status", "cli_hand");
    s_expect_one_error_line(&r, 1, "hone: status: ");
    hone_test_output_free(&r);
    r = S_HONE("--broker", s_group.broker->endpoint, "status", "cli_hand");
    assert_int_equal(r.status, 0);
    hone_test_output_free(&r);
    setenv("HONE_BROKER", s_group.broker->endpoint, 1);
}

/* The number after `"key": ` in text, or NAN. */
static double s_json_number(const char *text, const char *key)
{
    char needle[64];
    snprintf(needle, sizeof needle, "\"%s\": ", key);
    const char *p = strstr(text, needle);
    return p ? strtod(p + strlen(needle), NULL) : NAN;
}

static void test_predict_by_hand(void **state)
{
    (void) state;
    s_create("cli_predict",
             "{\"name\": \"cli_predict\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0, 1], "
             "\"parameter_type\": \"float\"}, {\"name\": \"opt\", \"values\": [\"adam\", \"sgd\"], "
             "\"parameter_type\": \"str\"}], \"objective\": \"-loss\", "
             "\"generation_strategy\": {\"method\": \"random_search\", \"initialization_random_seed\": 1}}");
    hone_test_output_t r = S_HONE("predict", "cli_predict", "--params", "{\"x\": 0.5, \"opt\": \"adam\"}");
    s_expect_one_error_line(&r, 1, "hone: predict: ");
    assert_non_null(strstr(r.err, "(0 so far) (HONE_EDATA)\n"));
    hone_test_output_free(&r);

    /* 8 trials completed through the SDK: loss = x (+ 0.5 with sgd), SEM 0.001 */
    enum { N = 8 };
    hone_client_t *c = NULL;
    assert_int_equal(hone_client_open(&c, s_group.broker->endpoint, NULL), HONE_OK);
    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_next_trials(c, "cli_predict", N, &list), HONE_OK);
    double x[N], loss[N];
    const char *opt[N];
    for (size_t k = 0; k < N; k++) {
        const hone_trial_t *t = hone_trial_list_at(list, k);
        size_t i;
        assert_int_equal(hone_trial_param_find(t, "x", &i), HONE_OK);
        assert_int_equal(hone_trial_param_double(t, i, &x[k]), HONE_OK);
        assert_int_equal(hone_trial_param_find(t, "opt", &i), HONE_OK);
        assert_int_equal(hone_trial_param_str(t, i, &opt[k]), HONE_OK);
        loss[k] = x[k] + (strcmp(opt[k], "sgd") == 0 ? 0.5 : 0.0);
        const char *names[] = { "loss" };
        double sem = 0.001;
        assert_int_equal(hone_client_complete(c, "cli_predict", k, 1, names, &loss[k], &sem), HONE_OK);
    }

    /* --json: one line per point, in order; at an observed point, its reading */
    char observed[128], far[128];
    snprintf(observed, sizeof observed, "{\"x\": %.17g, \"opt\": \"%s\"}", x[3], opt[3]);
    snprintf(far, sizeof far, "[{\"x\": 0.5, \"opt\": \"sgd\"}, {\"opt\": \"adam\", \"x\": 1}]");
    r = S_HONE("--json", "predict", "cli_predict", "--params", observed, "--params", far);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    assert_int_equal(s_count(r.out, "\n"), 3);
    const char *first = "{\"point\": 0, \"params\": {\"x\": ";
    assert_true(strncmp(r.out, first, strlen(first)) == 0);
    assert_non_null(strstr(r.out, "\"metric\": \"loss\", \"mean\": "));
    assert_true(fabs(s_json_number(r.out, "mean") - loss[3]) < 0.01);
    assert_true(s_json_number(r.out, "sem") > 0 && s_json_number(r.out, "sem") < 0.0011);
    char *second = strstr(r.out, "\n{\"point\": 1, \"params\": {\"x\": 0.5, \"opt\": \"sgd\"}");
    assert_non_null(second);
    char *third = strstr(r.out, "\n{\"point\": 2, \"params\": {\"opt\": \"adam\", \"x\": 1}");
    assert_non_null(third);
    assert_true(s_json_number(third, "sem") > s_json_number(r.out, "sem"));
    hone_test_output_free(&r);

    /* a table, with points from a file */
    char *file = s_path("points.json");
    s_write(file, far);
    char arg[256];
    snprintf(arg, sizeof arg, "@%s", file);
    r = S_HONE("predict", "cli_predict", "--params", arg);
    assert_int_equal(r.status, 0);
    assert_true(strncmp(r.out, "POINT  PARAMS", 13) == 0);
    assert_int_equal(s_count(r.out, "\n"), 3);
    assert_non_null(strstr(r.out, "\n0      x=0.5 opt=sgd  loss="));
    assert_non_null(strstr(r.out, "\n1      opt=adam x=1   loss="));
    assert_int_equal(s_count(r.out, "±"), 3);     /* the header and each point */
    hone_test_output_free(&r);
    free(file);

    /* the broker's refusal names the point and the parameter */
    r = S_HONE("predict", "cli_predict", "--params", "{\"x\": 0.5, \"opt\": \"adam\"}", "--params",
               "{\"x\": 1.5, \"opt\": \"adam\"}");
    s_expect_one_error_line(&r, 1, "hone: predict: points[1]: parameter 'x'");
    assert_non_null(strstr(r.err, "(HONE_EINVAL)\n"));
    hone_test_output_free(&r);
    r = S_HONE("predict", "cli_predict", "--params", "{\"x\": 0.5, \"opt\": \"adam\", \"lr\": 1}");
    s_expect_one_error_line(&r, 1, "hone: predict: points[0]: unknown parameter 'lr'");
    hone_test_output_free(&r);
    hone_trial_list_destroy(&list);
    hone_client_destroy(&c);
}

/* `hone pareto` and `hone baseline` against a multi-objective experiment with a
 * constraint relative to the baseline. */
static void test_pareto_and_baseline_by_hand(void **state)
{
    (void) state;
    s_create("cli_mo",
             "{\"name\": \"cli_mo\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0, 1], "
             "\"parameter_type\": \"float\"}], \"objective\": \"-a, -b\", \"objective_thresholds\": "
             "[\"a <= 10\", \"b <= 6\"], \"outcome_constraints\": [\"c <= 1.0 * baseline\"], "
             "\"generation_strategy\": {\"method\": \"random_search\", \"initialization_random_seed\": 1}}");
    hone_test_output_t r = S_HONE("baseline", "cli_mo");
    s_expect_one_error_line(&r, 2, "hone: baseline: give the points with --params");
    hone_test_output_free(&r);
    r = S_HONE("baseline", "cli_mo", "--params", "[{\"x\": 0.5}, {\"x\": 0.25}]");
    s_expect_one_error_line(&r, 2, "hone: baseline: give exactly one point with --params, not 2");
    hone_test_output_free(&r);

    /* trials 0-2 by hand; c must not exceed the baseline's */
    hone_client_t *c = NULL;
    assert_int_equal(hone_client_open(&c, s_group.broker->endpoint, NULL), HONE_OK);
    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_next_trials(c, "cli_mo", 3, &list), HONE_OK);
    hone_trial_list_destroy(&list);
    const char *names[] = { "a", "b", "c" };
    static const double data[][3] = { { 2, 4, 1 }, { 4, 2, 1 }, { 1, 1, 3 } };   /* trial 2 breaks c */
    for (uint64_t i = 0; i < 3; i++)
        assert_int_equal(hone_client_complete(c, "cli_mo", i, 3, names, data[i], NULL), HONE_OK);
    r = S_HONE("pareto", "cli_mo", "--raw");
    s_expect_one_error_line(&r, 1, "hone: pareto: ");
    assert_non_null(strstr(r.err, "baseline"));
    assert_non_null(strstr(r.err, "(HONE_EDATA)"));
    hone_test_output_free(&r);

    r = S_HONE("baseline", "cli_mo", "--params", "{\"x\": 0.5}");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    assert_true(strncmp(r.out, "baseline trial 3 (RUNNING)", 26) == 0);
    hone_test_output_free(&r);
    r = S_HONE("--json", "baseline", "cli_mo", "--params", "{\"x\": 0.5}");
    s_expect_one_error_line(&r, 1, "hone: baseline: experiment 'cli_mo' already has a baseline: trial 3");
    hone_test_output_free(&r);
    double baseline[] = { 5, 5, 2 };
    assert_int_equal(hone_client_complete(c, "cli_mo", 3, 3, names, baseline, NULL), HONE_OK);
    hone_client_destroy(&c);

    /* the frontier: trials 0 and 1 (2 breaks c <= 2; the baseline is dominated), against
     * the thresholds (10, 6): the staircase 2 × 2 + 6 × 4 = 28, contributions 2 × 2 and
     * 6 × 2 */
    r = S_HONE("pareto", "cli_mo", "--raw");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    assert_true(strncmp(r.out, "TRIAL  a (min)  b (min)  CONTRIBUTION\n", 38) == 0);
    assert_non_null(strstr(r.out, "\n1      4        2        12\n0      2        4        4\n"));
    assert_non_null(strstr(r.out, "reference point  (10, 6), from the objective thresholds\n"));
    assert_non_null(strstr(r.out, "hypervolume      28 (observed means)\n"));
    assert_int_equal(s_count(r.out, "\n"), 5);
    hone_test_output_free(&r);
    r = S_HONE("--json", "pareto", "cli_mo");
    assert_int_equal(r.status, 0);
    assert_int_equal(s_count(r.out, "\n"), 1);
    const char *head = "{\"experiment\": \"cli_mo\", \"source\": \"raw\", \"objectives\": [\"a\", \"b\"], "
                       "\"minimize\": [true, true], \"ref\": [10.0, 6.0], \"ref_inferred\": false, "
                       "\"hypervolume\": 28.0, ";
    assert_true(strncmp(r.out, head, strlen(head)) == 0);
    assert_non_null(strstr(r.out, "\"points\": [{\"trial\": 1, \"params\": {\"x\": "));
    assert_non_null(strstr(r.out, "\"values\": [4.0, 2.0], \"sems\": [null, null], \"contribution\": 12.0}"));
    hone_test_output_free(&r);
    r = S_HONE("best", "cli_mo");
    s_expect_one_error_line(&r, 1, "hone: best: ");
    assert_non_null(strstr(r.err, "(HONE_EINVAL)"));
    hone_test_output_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_usage_errors_exit_2_with_one_line),
        cmocka_unit_test(test_errors_are_one_line_with_the_code),
        cmocka_unit_test(test_worker_finishes_the_budget),
        cmocka_unit_test(test_failing_programs_fail_their_trials),
        cmocka_unit_test(test_parameters_are_never_interpreted_by_a_shell),
        cmocka_unit_test(test_trials_by_hand),
        cmocka_unit_test(test_predict_by_hand),
        cmocka_unit_test(test_pareto_and_baseline_by_hand),
        cmocka_unit_test(test_interrupted_worker_fails_its_trial),
        cmocka_unit_test(test_worker_stops_a_trial_the_broker_no_longer_runs),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
