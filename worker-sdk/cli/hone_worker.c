/* hone_worker.c: hone-worker, which evaluates the trials of an experiment by running any
 * program once per trial (see usage below and worker-sdk/README.md).
 *
 * One thread: a poll loop over the program's stdout and stderr, a self-pipe written by
 * the SIGINT/SIGTERM handlers, and the heartbeat timer. The program is started with
 * posix_spawnp, never through a shell, in its own process group so that a stop or an
 * interruption reaches everything it started.
 *
 * This file: main, the options, the worker's own signals and the trial loop; see
 * runner.h for the other files. */
#include "err.h"
#include "log.h"
#include "args.h"
#include "runner.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_LOG HONE_RUNNER_LOG
#define S_STOP_GRACE_MS 10000           /* SIGTERM → SIGKILL when stopped early (--stop-grace) */
#define S_EXIT_USAGE 2
#define S_EXIT_FAILURE 1

typedef enum { S_RUN_DONE, S_RUN_FATAL, S_RUN_INTERRUPTED } s_outcome_t;

/* Written by the signal handlers, read by the loop (program state, not library state). */
static int s_signal_fd = -1;

static void s_on_signal(int sig)
{
    int saved = errno;
    unsigned char byte = (unsigned char) sig;
    if (s_signal_fd >= 0 && write(s_signal_fd, &byte, 1) < 0) {
        /* the pipe is full: a signal is already pending */
    }
    errno = saved;
}

static void s_sdk_log(int32_t level, const char *text, void *arg)
{
    (void) arg;
    HONE_LOG_AT((hone_log_level_t) level, "sdk", "%s", text);
}

/* Reads pending signal numbers; remembers SIGINT/SIGTERM. */
void hone_runner_read_signals(hone_runner_t *r)
{
    unsigned char bytes[16];
    ssize_t n;
    while ((n = read(r->signal_pipe[0], bytes, sizeof bytes)) > 0)
        for (ssize_t i = 0; i < n; i++)
            if (bytes[i] == SIGINT || bytes[i] == SIGTERM)
                r->interrupted = bytes[i];
}

static void s_fail(hone_runner_t *r, uint64_t index, const char *reason)
{
    int rc = hone_worker_fail(r->worker, index, reason);
    if (rc != HONE_OK)
        hone_log_err(S_LOG, "trial %" PRIu64 ": could not report the failure: %s (%s)", index,
                     hone_worker_last_error(r->worker), hone_err_name(rc));
}

static s_outcome_t s_run_trial(hone_runner_t *r, const hone_trial_t *trial)
{
    hone_run_t run = { .runner = r, .trial = trial, .index = hone_trial_index(trial), .out_fd = -1, .err_fd = -1 };
    char why[1024];
    char **argv = NULL;
    char *params = hone_json_line_params(trial);
    hone_log_info(S_LOG, "trial %" PRIu64 " started: %s", run.index, params ? params : "");
    free(params);
    int rc = hone_command_argv(r, trial, &argv, why, sizeof why);
    char **env = rc == HONE_OK ? hone_command_env(trial) : NULL;
    if (rc == HONE_OK && !env) {
        snprintf(why, sizeof why, "out of memory");
        rc = HONE_ENOMEM;
    }
    int e = rc == HONE_OK ? hone_program_spawn(&run, argv, env) : 0;
    if (rc == HONE_OK && e != 0) {
        snprintf(why, sizeof why, "cannot run '%s': %s", argv[0], strerror(e));
        rc = HONE_EIO;
    }
    hone_command_free(argv);
    hone_command_free(env);
    if (rc != HONE_OK) {
        hone_log_err(S_LOG, "trial %" PRIu64 ": %s", run.index, why);
        s_fail(r, run.index, why);
        return S_RUN_FATAL;
    }

    hone_program_watch(&run);
    free(run.line);

    s_outcome_t outcome = S_RUN_DONE;
    char reason[HONE_RUNNER_TAIL_MAX + 1];
    if (r->interrupted) {
        s_fail(r, run.index, "worker interrupted");     /* acknowledges an early stop too */
        outcome = S_RUN_INTERRUPTED;
    } else if (run.stopped) {
        /* The broker already knows: nothing to report. */
    } else if (run.early) {
        /* Acknowledge the stop: every reading was sent as it came, so none is left to
         * carry; the trial stays EARLY_STOPPED (never COMPLETED or FAILED). */
        rc = hone_worker_complete(r->worker, run.index, 0, NULL, NULL, NULL);
        char how[96];
        if (WIFSIGNALED(run.status))
            snprintf(how, sizeof how, "the program ended by signal %d (%s)", WTERMSIG(run.status),
                     strsignal(WTERMSIG(run.status)));
        else
            snprintf(how, sizeof how, "the program exited with status %d", WEXITSTATUS(run.status));
        if (rc == HONE_OK)
            hone_log_info(S_LOG, "trial %" PRIu64 " ended EARLY_STOPPED (%s; the stop is acknowledged)", run.index,
                          how);
        else
            hone_log_err(S_LOG, "trial %" PRIu64 ": could not acknowledge its early stop: %s (%s)", run.index,
                         hone_worker_last_error(r->worker), hone_err_name(rc));
    } else if (WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) {
        if (run.last.n == 0) {
            hone_log_warn(S_LOG, "trial %" PRIu64 " failed: program printed no reading", run.index);
            s_fail(r, run.index, "program printed no reading");
        } else {
            rc = hone_worker_complete(r->worker, run.index, run.last.n, (const char *const *) run.last.names,
                                      run.last.means, run.last.sems);
            char text[512];
            hone_readings_format(&run.last, text, sizeof text);
            if (rc == HONE_OK && hone_worker_stop_requested(r->worker))
                hone_log_info(S_LOG, "trial %" PRIu64 " had been stopped early by the broker (it stays "
                              "EARLY_STOPPED): %s", run.index, hone_worker_stop_reason(r->worker));
            else if (rc == HONE_OK)
                hone_log_info(S_LOG, "trial %" PRIu64 " completed: %s", run.index, text);
            else
                hone_log_err(S_LOG, "trial %" PRIu64 ": could not complete it: %s (%s)", run.index,
                             hone_worker_last_error(r->worker), hone_err_name(rc));
        }
    } else {
        hone_program_failure_reason(&run, reason, sizeof reason);
        if (WIFSIGNALED(run.status))
            hone_log_warn(S_LOG, "trial %" PRIu64 " failed (signal %d): %s", run.index, WTERMSIG(run.status), reason);
        else
            hone_log_warn(S_LOG, "trial %" PRIu64 " failed (exit status %d): %s", run.index,
                          WEXITSTATUS(run.status), reason);
        s_fail(r, run.index, reason);
    }
    hone_json_line_reading_clear(&run.last);
    return outcome;
}

/* ---- command line ---- */

static void s_usage(FILE *f)
{
    fputs("usage: hone-worker [--broker ENDPOINT] [--key FILE --broker-key FILE] --experiment NAME\n"
          "                   [--name NAME] [--max-trials K] [--heartbeat-ms MS] [--timeout MS]\n"
          "                   [--stop-grace SECONDS]\n"
          "                   -- COMMAND [ARG...]\n"
          "\n"
          "Evaluates the trials of an experiment by running COMMAND once per trial, until the\n"
          "broker says the budget is spent (exit 0) or K trials were run.\n"
          "\n"
          "options:\n"
          "  --broker ENDPOINT   the broker (default: $HONE_BROKER, else " HONE_DEFAULT_ENDPOINT ")\n"
          "  --key FILE          this worker's secret key (NAME.key_secret from 'hone keygen NAME'),\n"
          "                      for a broker started with --keys (default: $HONE_KEY)\n"
          "  --broker-key FILE   the broker's public key, KEYS/broker.key (default: $HONE_BROKER_KEY)\n"
          "  --experiment NAME   the experiment to work on (required)\n"
          "  --name NAME         this worker's identity; a worker restarted under the same\n"
          "                      name gets its running trial back (default: HOST-PID-RANDOM)\n"
          "  --max-trials K      stop after K trials (default: no limit)\n"
          "  --heartbeat-ms MS   heartbeat period while COMMAND runs (default: the experiment's\n"
          "                      leases.heartbeat_ms, from the broker; 1000 for older brokers)\n"
          "  --timeout MS        wait for each reply of the broker (default: 10000)\n"
          "  --stop-grace SECONDS  when the broker stops a trial early, COMMAND's process group\n"
          "                      gets SIGTERM, and SIGKILL this long after (default: 10;\n"
          "                      decimals allowed, 0: at once)\n"
          "  -h, --help          print this help and exit\n"
          "\n"
          "COMMAND runs directly (never through a shell). In its arguments {name} becomes the\n"
          "value of parameter name; {{ and }} stand for { and }. Its environment also has\n"
          "HONE_PARAM_<name> for each parameter, HONE_PARAMS (a JSON object of them all),\n"
          "HONE_TRIAL (the trial index) and HONE_EXPERIMENT.\n"
          "\n"
          "COMMAND reports by printing lines on stdout. A line that is a JSON object is a\n"
          "reading: each key a metric with a number (the mean) or [mean, sem]; the key \"step\"\n"
          "(an integer) is the progression, e.g. {\"loss\": 0.31, \"step\": 10}. Each reading is\n"
          "sent as it arrives; other lines are copied to stdout. Exit status 0 completes the\n"
          "trial with the last reading (no reading: the trial fails); another status or a\n"
          "signal fails it, with the end of COMMAND's stderr as the reason.\n"
          "\n"
          "Early stopping: when the experiment has an early_stopping block, the broker may\n"
          "stop a trial whose learning curve is hopeless, in its reply to a reading or a\n"
          "heartbeat. COMMAND then gets SIGTERM (SIGKILL after --stop-grace); its readings so\n"
          "far are kept, the trial ends EARLY_STOPPED (never COMPLETED or FAILED), and the\n"
          "next trial starts.\n"
          "\n"
          "exit status: 0 budget spent or K trials run; 1 error; 2 usage error;\n"
          "130/143 interrupted by SIGINT/SIGTERM (the running trial is failed).\n",
          f);
}

static int s_usage_error(const char *fmt, const char *arg)
{
    fputs("hone-worker: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs(" (try 'hone-worker --help')\n", stderr);
    return S_EXIT_USAGE;
}

/* Returns -1 when the arguments are fine, else the exit status. */
static int s_parse_args(int argc, char **argv, hone_runner_args_t *a)
{
    a->broker = getenv("HONE_BROKER");
    if (a->broker && !*a->broker)
        a->broker = NULL;
    a->key = getenv("HONE_KEY");
    if (a->key && !*a->key)
        a->key = NULL;
    a->broker_key = getenv("HONE_BROKER_KEY");
    if (a->broker_key && !*a->broker_key)
        a->broker_key = NULL;
    a->heartbeat_ms = 0;
    a->timeout_ms = 10000;
    a->stop_grace_ms = S_STOP_GRACE_MS;
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (streq(arg, "--")) {
            i++;
            break;
        }
        if (streq(arg, "-h") || streq(arg, "--help")) {
            s_usage(stdout);
            return 0;
        }
        if (arg[0] != '-')
            break;  /* the command starts here */
        const char *value = NULL;
        const char *eq = strchr(arg, '=');
        char option[32];
        if (eq && eq - arg < (ptrdiff_t) sizeof option) {
            memcpy(option, arg, (size_t) (eq - arg));
            option[eq - arg] = '\0';
            value = eq + 1;
        } else {
            snprintf(option, sizeof option, "%s", arg);
        }
        static const char *const with_value[] = { "--broker", "--experiment", "--name", "--max-trials",
                                                  "--heartbeat-ms", "--timeout", "--key", "--broker-key",
                                                  "--stop-grace" };
        bool known = false;
        for (size_t k = 0; k < HONE_ARRAY_LEN(with_value); k++)
            known = known || streq(option, with_value[k]);
        if (!known)
            return s_usage_error("unknown option '%s'", arg);
        if (!value) {
            if (i + 1 >= argc)
                return s_usage_error("option '%s' needs a value", arg);
            value = argv[++i];
        }
        int64_t n;
        if (streq(option, "--broker"))
            a->broker = value;
        else if (streq(option, "--key"))
            a->key = value;
        else if (streq(option, "--broker-key"))
            a->broker_key = value;
        else if (streq(option, "--experiment"))
            a->experiment = value;
        else if (streq(option, "--name"))
            a->name = value;
        else if (streq(option, "--max-trials")) {
            if (!hone_args_int(value, 1, INT64_MAX, &n))
                return s_usage_error("--max-trials must be a positive integer, not '%s'", value);
            a->max_trials = (uint64_t) n;
        } else if (streq(option, "--stop-grace")) {
            char *end = NULL;
            double seconds = strtod(value, &end);
            if (!*value || *end || !(seconds >= 0.0 && seconds <= 3600.0))
                return s_usage_error("--stop-grace must be a number of seconds from 0 to 3600, not '%s'", value);
            a->stop_grace_ms = (int64_t) llround(seconds * 1000.0);
        } else if (streq(option, "--heartbeat-ms")) {
            if (!hone_args_int(value, 10, 3600000, &n))
                return s_usage_error("--heartbeat-ms must be between 10 and 3600000, not '%s'", value);
            a->heartbeat_ms = (int32_t) n;
        } else {
            if (!hone_args_int(value, 1, INT32_MAX, &n))
                return s_usage_error("--timeout must be a positive number of milliseconds, not '%s'", value);
            a->timeout_ms = (int32_t) n;
        }
    }
    if (!a->experiment || !*a->experiment)
        return s_usage_error("%s", "--experiment NAME is required");
    if (!a->key != !a->broker_key)
        return s_usage_error("%s", a->key ? "--key needs --broker-key (or $HONE_BROKER_KEY) too"
                                          : "--broker-key needs --key (or $HONE_KEY) too");
    if (i >= argc)
        return s_usage_error("%s", "no command given (hone-worker [OPTIONS] -- COMMAND [ARG...])");
    a->command = &argv[i];
    return -1;
}

static int s_install_signals(hone_runner_t *r)
{
    if (hone_program_pipe(r->signal_pipe) != 0)
        return -1;
    hone_program_set_nonblocking(r->signal_pipe[0]);
    hone_program_set_nonblocking(r->signal_pipe[1]);
    s_signal_fd = r->signal_pipe[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  /* no SA_RESTART: a blocking wait must end on a signal */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static int s_exit_interrupted(hone_runner_t *r)
{
    hone_log_warn(S_LOG, "interrupted by %s", r->interrupted == SIGINT ? "SIGINT" : "SIGTERM");
    return 128 + r->interrupted;
}

int main(int argc, char **argv)
{
    hone_runner_t r;
    memset(&r, 0, sizeof r);
    int status = s_parse_args(argc, argv, &r.args);
    if (status >= 0)
        return status;
    if (s_install_signals(&r) != 0) {
        fprintf(stderr, "hone-worker: cannot create a pipe: %s\n", strerror(errno));
        return S_EXIT_FAILURE;
    }
    hone_options_t opts;
    hone_options_init(&opts);
    opts.timeout_ms = r.args.timeout_ms;
    int rc = hone_worker_open(&r.worker, r.args.broker, r.args.experiment, r.args.name, &opts);
    if (rc != HONE_OK) {
        fprintf(stderr, "hone-worker: cannot connect to '%s' (%s)\n",
                r.args.broker ? r.args.broker : HONE_DEFAULT_ENDPOINT, hone_err_name(rc));
        return rc == HONE_EINVAL ? S_EXIT_USAGE : S_EXIT_FAILURE;
    }
    hone_worker_set_log(r.worker, s_sdk_log, NULL);
    if (r.args.key && (rc = hone_worker_set_curve(r.worker, r.args.key, r.args.broker_key)) != HONE_OK) {
        fprintf(stderr, "hone-worker: %s (%s)\n", hone_worker_last_error(r.worker), hone_err_name(rc));
        hone_worker_destroy(&r.worker);
        return S_EXIT_FAILURE;
    }
    uint64_t done = 0;
    status = 0;
    while (!r.args.max_trials || done < r.args.max_trials) {
        hone_runner_read_signals(&r);
        if (r.interrupted) {
            status = s_exit_interrupted(&r);
            break;
        }
        hone_trial_t *trial = NULL;
        rc = hone_worker_next(r.worker, &trial, -1);
        if (rc == HONE_EINTR || rc == HONE_EAGAIN)
            continue;
        if (rc == HONE_EDONE || rc == HONE_EEXHAUSTED) {
            hone_log_info(S_LOG, "no more trials for '%s': %s", r.args.experiment, hone_worker_last_error(r.worker));
            break;
        }
        if (rc != HONE_OK) {
            fprintf(stderr, "hone-worker: %s (%s)\n", hone_worker_last_error(r.worker), hone_err_name(rc));
            status = S_EXIT_FAILURE;
            break;
        }
        s_outcome_t outcome = s_run_trial(&r, trial);
        hone_trial_destroy(&trial);
        done++;
        if (outcome == S_RUN_INTERRUPTED) {
            status = s_exit_interrupted(&r);
            break;
        }
        if (outcome == S_RUN_FATAL) {
            status = S_EXIT_FAILURE;
            break;
        }
    }
    if (status == 0 && r.args.max_trials && done >= r.args.max_trials)
        hone_log_info(S_LOG, "ran %" PRIu64 " trial%s: done", done, done == 1 ? "" : "s");
    hone_worker_destroy(&r.worker);
    s_signal_fd = -1;
    close(r.signal_pipe[0]);
    close(r.signal_pipe[1]);
    return status;
}
