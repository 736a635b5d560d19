/* hone_cli.c: `hone`, the command line client (create, status, trials, curve, best,
 * pareto, predict, baseline, next, attach, complete, fail, abandon, early-stop,
 * should-stop) and
 * `hone keygen`, which makes
 * CURVE key pairs. Errors are one plain line on stderr: "hone: COMMAND: message
 * (HONE_EXXX)"; exit status 2 for usage errors, 1 for others.
 *
 * This file: main, the global options, the command table, the help texts and the
 * dispatch; see cli.h for the other files. */
#include "err.h"
#include "args.h"
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Options a command accepts besides the global ones. */
enum { S_OPT_COUNT = 1, S_OPT_PROGRESSION = 2, S_OPT_REASON = 4, S_OPT_PARAMS = 8, S_OPT_KEYGEN = 16,
       S_OPT_OFFLINE = 32 /* runs without a broker: the client argument is NULL */, S_OPT_CURVES = 64,
       S_OPT_RAW = 128, S_OPT_METRIC = 256 };

static const char s_global_help[] =
    "global options (before or after COMMAND):\n"
    "  --broker ENDPOINT  the broker (default: $HONE_BROKER, else " HONE_DEFAULT_ENDPOINT ")\n"
    "  --key FILE         this client's secret key (NAME.key_secret from 'hone keygen'), for a\n"
    "                     broker started with --keys (default: $HONE_KEY)\n"
    "  --broker-key FILE  the broker's public key, KEYS/broker.key (default: $HONE_BROKER_KEY)\n"
    "  --json             print machine-readable JSON (one object, or one per line)\n"
    "  --timeout MS       wait for the broker's reply (default: 10000)\n"
    "  -h, --help         print help and exit\n";

static const hone_cli_command_t s_commands[] = {
    { "create", hone_cli_cmd_create, "FILE.json", "create an experiment from a JSON configuration",
      "FILE.json holds the configuration (Ax's field names; '-' reads stdin). Prints the\n"
      "experiment's name; with --json: {\"experiment\": NAME}.\n",
      1, 1, 0 },
    { "status", hone_cli_cmd_status, "NAME", "show an experiment's trials by status and its best value",
      "With --json: {\"experiment\", \"objective\", \"method\", \"max_trials\", \"total\",\n"
      "\"counts\": {STATUS: N}, \"best\": {\"trial\", \"value\"} or null}.\n",
      1, 1, 0 },
    { "trials", hone_cli_cmd_trials, "NAME [--curves]", "list the trials: status, note, parameters, metrics",
      "  --curves           also print every trial's full learning curves\n"
      "Prints a table; a trial that failed, was abandoned or was stopped early shows why,\n"
      "in parentheses after its metrics. With --json: one object per line, {\"trial\",\n"
      "\"status\", \"note\", \"params\": {...}, \"metrics\": {NAME: [mean, sem or null]},\n"
      "\"progression\", \"reason\"} and, with --curves, \"curves\": {NAME: [[progression, mean,\n"
      "sem or null], ...]}.\n",
      1, 1, S_OPT_CURVES },
    { "curve", hone_cli_cmd_curve, "NAME TRIAL", "show a trial's full learning curves",
      "Prints the trial's status (and why it stopped, if it did) and, per metric, every\n"
      "reading that has a progression: PROGRESSION=MEAN[±SEM]. With --json: the trial\n"
      "object of 'trials --json --curves'.\n",
      2, 2, 0 },
    { "best", hone_cli_cmd_best, "NAME", "show the best trial so far",
      "With --json: {\"trial\", \"params\", \"metric\", \"value\", \"sem\", \"minimize\"}.\n", 1, 1, 0 },
    { "pareto", hone_cli_cmd_pareto, "NAME [--raw]",
      "show the Pareto frontier of a multi-objective experiment",
      "  --raw              the observed means, without the model (the default fits a GP per\n"
      "                     objective metric for method 'fast')\n"
      "The non-dominated completed trials that satisfy the outcome constraints, by decreasing\n"
      "hypervolume contribution: TRIAL, each objective's value±sem, CONTRIBUTION; then the\n"
      "reference point (the objective thresholds, or inferred) and the hypervolume. With\n"
      "--json: {\"experiment\", \"source\", \"objectives\", \"minimize\", \"ref\", \"ref_inferred\",\n"
      "\"hypervolume\", \"points\": [{\"trial\", \"params\", \"values\", \"sems\", \"contribution\"}]}.\n",
      1, 1, S_OPT_RAW },
    { "predict", hone_cli_cmd_predict, "NAME --params JSON [--params JSON ...] [--metric M]",
      "predict the objective (or a metric) at given parameters (the model's mean and SEM)",
      "  --params JSON      one point, {\"x1\": 0.5, \"opt\": \"adam\"} (every parameter), or a JSON\n"
      "                     array of such points; @FILE reads that JSON from FILE ('@-': stdin).\n"
      "                     Repeat it for more points (1 to 1000 in all).\n"
      "  --metric M         predict metric M (an outcome constraint's, another objective's, or any\n"
      "                     metric with readings) instead of the objective\n"
      "The model is a GP fitted to every completed trial with data (2 at least). Prints a\n"
      "table: POINT, PARAMS, PREDICTION (metric=mean±sem). With --json: one object per point,\n"
      "{\"point\", \"params\", \"metric\", \"mean\", \"sem\"}.\n",
      1, 1, S_OPT_PARAMS | S_OPT_METRIC },
    { "baseline", hone_cli_cmd_baseline, "NAME --params JSON",
      "attach the baseline (status quo) trial that relative constraints are measured against",
      "  --params JSON      its parameters, {\"x1\": 0.5, \"opt\": \"adam\"} (every parameter);\n"
      "                     @FILE reads that JSON from FILE ('@-': stdin)\n"
      "Adds a RUNNING trial (note \"baseline\"; one per experiment) and prints its index; report\n"
      "its readings with attach/complete. Constraints such as \"qps >= 0.9 * baseline\" need\n"
      "them. With --json: {\"experiment\", \"trial\"}.\n",
      1, 1, S_OPT_PARAMS },
    { "next", hone_cli_cmd_next, "NAME [-n K]", "ask for K new trials (default 1) to run by hand",
      "  -n, --count K      how many trials (1 to 1000)\n"
      "Prints one JSON line per trial: {\"trial\": INDEX, \"params\": {...}}. The trials are\n"
      "RUNNING: report them with attach/complete/fail.\n",
      1, 1, S_OPT_COUNT },
    { "attach", hone_cli_cmd_attach, "NAME TRIAL METRICS [--progression P]", "attach readings to a trial",
      "METRICS is a JSON object: {\"loss\": 0.3} or {\"loss\": [0.3, 0.01]} (mean and sem).\n"
      "  --progression P    the step these readings belong to (or \"step\": P in METRICS)\n",
      3, 3, S_OPT_PROGRESSION },
    { "complete", hone_cli_cmd_complete, "NAME TRIAL [METRICS]", "complete a trial, with its final readings",
      "METRICS, when given, is attached first: {\"loss\": 0.3} or {\"loss\": [0.3, 0.01]}.\n", 2, 3, 0 },
    { "fail", hone_cli_cmd_mark, "NAME TRIAL [--reason TEXT]", "mark a running trial FAILED",
      "  --reason TEXT      why it failed\n", 2, 2, S_OPT_REASON },
    { "abandon", hone_cli_cmd_mark, "NAME TRIAL [--reason TEXT]", "mark a trial ABANDONED (never suggested again)",
      "  --reason TEXT      why it was abandoned\n", 2, 2, S_OPT_REASON },
    { "early-stop", hone_cli_cmd_mark, "NAME TRIAL [--reason TEXT]",
      "mark a running trial EARLY_STOPPED (it needs data)",
      "  --reason TEXT      why it was stopped\n"
      "A worker evaluating the trial is told to stop on its next report or heartbeat.\n", 2, 2, S_OPT_REASON },
    { "should-stop", hone_cli_cmd_should_stop, "NAME TRIAL", "ask whether a trial should stop early (Ax's "
      "should_stop_trial_early)",
      "Applies the experiment's early-stopping strategy (its early_stopping block, else Ax's\n"
      "default: the percentile strategy with its defaults) to the trial's learning curve.\n"
      "Prints \"stop: REASON\" or \"continue: REASON\"; it never changes the trial (use\n"
      "early-stop). With --json: {\"experiment\", \"trial\", \"stop\", \"reason\"}.\n", 2, 2, 0 },
    { "keygen", hone_cli_cmd_keygen, "NAME [--role worker|client] [--dir DIR] | --broker DIR",
      "make a CURVE key pair for a peer, or the broker's key directory",
      "  NAME               writes DIR/NAME.key (public, with the role) and DIR/NAME.key_secret\n"
      "                     (secret, mode 0600); copy NAME.key into the broker's KEYS/clients/\n"
      "  --role ROLE        worker (default): may only run trials (ready, progress,\n"
      "                     complete, fail, heartbeat); client: every request (create, next, ...)\n"
      "  --dir DIR          where to write the files (default: the current directory)\n"
      "  --broker DIR       make the broker's key directory instead: DIR/broker.key (give it to\n"
      "                     every peer, for --broker-key), DIR/broker.key_secret and the empty\n"
      "                     allow-list DIR/clients/; then run 'hone-broker --keys DIR'\n"
      "Never overwrites a key. The keys come from libzmq (Curve25519); the files are in\n"
      "czmq's zcert format. With --json: {\"public\", \"secret\", \"key\", \"role\"}.\n",
      0, 1, S_OPT_KEYGEN | S_OPT_OFFLINE },
};

static void s_help(void)
{
    printf("usage: hone [--broker ENDPOINT] [--key FILE --broker-key FILE] [--json] [--timeout MS]\n"
           "            COMMAND [ARGS...]\n"
           "\n"
           "The hone command line client: create experiments, run trials by hand, read results.\n"
           "\n"
           "commands:\n");
    for (size_t i = 0; i < HONE_ARRAY_LEN(s_commands); i++)
        printf("  %-11s %s\n", s_commands[i].name, s_commands[i].summary);
    printf("\n%s\nRun 'hone COMMAND --help' for a command's arguments. Errors are one line on stderr;\n"
           "exit status 0 success, 1 failure, 2 usage error.\n",
           s_global_help);
}

static void s_command_help(const hone_cli_command_t *cmd)
{
    printf("usage: hone [GLOBAL OPTIONS] %s %s\n\n%s.\n\n%s%s%s", cmd->name, cmd->args, cmd->summary, cmd->details,
           *cmd->details ? "\n" : "", s_global_help);
}

/* Takes the value of an option (--opt VALUE or --opt=VALUE). */
static int s_option_value(const char *cmd, int argc, char **argv, int *i, const char *inline_value,
                          const char **out)
{
    if (inline_value) {
        *out = inline_value;
        return 0;
    }
    if (*i + 1 >= argc)
        return hone_cli_usage_error(cmd, "option '%s' needs a value", argv[*i]);
    *out = argv[++*i];
    return 0;
}

/* Parses argv[start..] for cmd (NULL: the global options before the command). Stops at
 * the first positional when cmd is NULL and stores its index in *stop. Returns -1 when
 * all is well, else an exit status (0 after --help). */
static int s_parse(const hone_cli_command_t *cmd, int argc, char **argv, int start, hone_cli_opts_t *o, int *stop)
{
    const char *name = cmd ? cmd->name : NULL;
    bool options_done = false;
    for (int i = start; i < argc; i++) {
        const char *arg = argv[i];
        if (options_done || arg[0] != '-' || streq(arg, "-") || (arg[1] >= '0' && arg[1] <= '9')) {
            if (!cmd) {
                *stop = i;
                return -1;
            }
            if (o->n_pos >= cmd->max_pos)
                return hone_cli_usage_error(name, "unexpected argument '%s'", arg);
            o->pos[o->n_pos++] = arg;
            continue;
        }
        if (streq(arg, "--")) {
            options_done = true;
            continue;
        }
        char option[32];
        const char *value = NULL;
        const char *eq = strchr(arg, '=');
        if (eq && eq - arg < (ptrdiff_t) sizeof option) {
            memcpy(option, arg, (size_t) (eq - arg));
            option[eq - arg] = '\0';
            value = eq + 1;
        } else {
            snprintf(option, sizeof option, "%s", arg);
        }
        int status = -1;
        int64_t ms = 0;
        if (streq(option, "-h") || streq(option, "--help")) {
            if (cmd)
                s_command_help(cmd);
            else
                s_help();
            return 0;
        } else if (streq(option, "--json")) {
            o->json = true;
        } else if (cmd && (cmd->options & S_OPT_KEYGEN) && streq(option, "--broker")) {
            status = s_option_value(name, argc, argv, &i, value, &o->keygen_broker);
        } else if (cmd && (cmd->options & S_OPT_KEYGEN) && streq(option, "--role")) {
            status = s_option_value(name, argc, argv, &i, value, &o->role);
        } else if (cmd && (cmd->options & S_OPT_KEYGEN) && streq(option, "--dir")) {
            status = s_option_value(name, argc, argv, &i, value, &o->dir);
        } else if (streq(option, "--broker")) {
            status = s_option_value(name, argc, argv, &i, value, &o->broker);
        } else if (streq(option, "--key")) {
            status = s_option_value(name, argc, argv, &i, value, &o->key);
        } else if (streq(option, "--broker-key")) {
            status = s_option_value(name, argc, argv, &i, value, &o->broker_key);
        } else if (streq(option, "--timeout")) {
            const char *text = NULL;
            status = s_option_value(name, argc, argv, &i, value, &text);
            if (status == 0 && !hone_args_int(text, 1, INT32_MAX, &ms))
                return hone_cli_usage_error(name, "--timeout must be a positive number of milliseconds, not '%s'",
                                            text);
            o->timeout_ms = (int32_t) ms;
        } else if (cmd && (cmd->options & S_OPT_CURVES) && streq(option, "--curves")) {
            o->curves = true;
        } else if (cmd && (cmd->options & S_OPT_RAW) && streq(option, "--raw")) {
            o->raw = true;
        } else if (cmd && (cmd->options & S_OPT_COUNT) && (streq(option, "-n") || streq(option, "--count"))) {
            status = s_option_value(name, argc, argv, &i, value, &o->count);
        } else if (cmd && (cmd->options & S_OPT_PROGRESSION) && streq(option, "--progression")) {
            status = s_option_value(name, argc, argv, &i, value, &o->progression);
        } else if (cmd && (cmd->options & S_OPT_METRIC) && streq(option, "--metric")) {
            status = s_option_value(name, argc, argv, &i, value, &o->metric);
        } else if (cmd && (cmd->options & S_OPT_REASON) && streq(option, "--reason")) {
            status = s_option_value(name, argc, argv, &i, value, &o->reason);
        } else if (cmd && (cmd->options & S_OPT_PARAMS) && streq(option, "--params")) {
            status = s_option_value(name, argc, argv, &i, value, &o->params[o->n_params]);
            if (status == 0)
                o->n_params++;
        } else {
            return hone_cli_usage_error(name, "unknown option '%s'", arg);
        }
        if (status > 0)
            return status;
    }
    if (!cmd) {
        *stop = argc;
        return -1;
    }
    if (o->n_pos < cmd->min_pos)
        return hone_cli_usage_error(name, "missing arguments: expected %s", cmd->args);
    return -1;
}

/* --help anywhere before "--" wins over every other argument. */
static bool s_wants_help(int argc, char **argv, int start)
{
    for (int i = start; i < argc && !streq(argv[i], "--"); i++)
        if (streq(argv[i], "-h") || streq(argv[i], "--help"))
            return true;
    return false;
}

static int s_main(int argc, char **argv, hone_cli_opts_t *options)
{
    hone_cli_opts_t o = *options;
    int first = argc;
    int status = s_parse(NULL, argc, argv, 1, &o, &first);
    if (status >= 0)
        return status;
    if (first >= argc) {
        fprintf(stderr, "hone: no command given (try 'hone --help')\n");
        return HONE_CLI_EXIT_USAGE;
    }
    const hone_cli_command_t *cmd = NULL;
    for (size_t i = 0; i < HONE_ARRAY_LEN(s_commands); i++)
        if (streq(argv[first], s_commands[i].name))
            cmd = &s_commands[i];
    if (!cmd)
        return hone_cli_usage_error(NULL, "unknown command '%s'", argv[first]);
    if (s_wants_help(argc, argv, first + 1)) {
        s_command_help(cmd);
        return 0;
    }
    status = s_parse(cmd, argc, argv, first + 1, &o, NULL);
    if (status >= 0)
        return status;
    if (cmd->options & S_OPT_OFFLINE)
        return cmd->run(cmd, &o, NULL);
    if (!o.broker) {
        const char *env = getenv("HONE_BROKER");
        o.broker = env && *env ? env : NULL;
    }
    if (!o.key) {
        const char *env = getenv("HONE_KEY");
        o.key = env && *env ? env : NULL;
    }
    if (!o.broker_key) {
        const char *env = getenv("HONE_BROKER_KEY");
        o.broker_key = env && *env ? env : NULL;
    }
    if (!o.key != !o.broker_key)
        return hone_cli_usage_error(cmd->name, "%s", o.key ? "--key needs --broker-key (or $HONE_BROKER_KEY) too"
                                                    : "--broker-key needs --key (or $HONE_KEY) too");
    /* One attempt: `next` is not idempotent, and a person at a terminal prefers a prompt
     * answer to silent retries. */
    hone_options_t opts;
    hone_options_init(&opts);
    opts.timeout_ms = o.timeout_ms;
    opts.retries = 0;
    hone_client_t *client = NULL;
    int rc = hone_client_open(&client, o.broker, &opts);
    if (rc != HONE_OK) {
        char text[600];
        snprintf(text, sizeof text, "cannot use broker endpoint '%s'", o.broker ? o.broker : HONE_DEFAULT_ENDPOINT);
        hone_cli_error(cmd->name, rc, text);
        return rc == HONE_EINVAL ? HONE_CLI_EXIT_USAGE : HONE_CLI_EXIT_FAILURE;
    }
    if (o.key) {
        rc = hone_client_set_curve(client, o.key, o.broker_key);
        if (rc != HONE_OK) {
            status = hone_cli_client_error(cmd->name, rc, client);
            hone_client_destroy(&client);
            return status;
        }
    }
    status = cmd->run(cmd, &o, client);
    hone_client_destroy(&client);
    if (fflush(stdout) != 0 && status == 0) {
        fprintf(stderr, "hone: %s: cannot write the output: %s\n", cmd->name, strerror(errno));
        status = HONE_CLI_EXIT_FAILURE;
    }
    return status;
}

int main(int argc, char **argv)
{
    hone_cli_opts_t o;
    memset(&o, 0, sizeof o);
    o.timeout_ms = 10000;
    o.params = calloc(argc > 0 ? (size_t) argc : 1, sizeof *o.params);  /* no option is given more often */
    if (!o.params)
        return hone_cli_error(NULL, HONE_ENOMEM, NULL);
    int status = s_main(argc, argv, &o);
    free(o.params);
    return status;
}
