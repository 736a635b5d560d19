/* cli.h: what the files of `hone`, the command line client, share (internal, never
 * installed).
 *
 * hone_cli.c holds main, the global options, the command table, the help texts and the
 * dispatch; cli_output.c the error lines and the human-readable formatting (tables,
 * curves); cli_experiments.c the commands about a whole experiment (create, status,
 * trials, best, predict); cli_goals.c those about several goals (pareto, baseline);
 * cli_trials.c those about one trial (curve, should-stop, next, attach, complete, fail,
 * abandon, early-stop); cli_keygen.c `hone keygen`. */
#ifndef HONE_CLI_CLI_H
#define HONE_CLI_CLI_H

#include "json_line.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HONE_CLI_EXIT_FAILURE 1
#define HONE_CLI_EXIT_USAGE 2
#define HONE_CLI_MAX_POSITIONALS 3

typedef struct {
    const char *broker;         /* endpoint: --broker, else $HONE_BROKER, else the default */
    const char *key;            /* --key FILE, else $HONE_KEY: this peer's secret certificate */
    const char *broker_key;     /* --broker-key FILE, else $HONE_BROKER_KEY: the broker's public one */
    const char *role;           /* keygen --role */
    const char *dir;            /* keygen --dir */
    const char *keygen_broker;  /* keygen --broker DIR: the broker's key directory */
    bool json;                  /* --json: machine-readable output */
    bool curves;                /* trials --curves: the full learning curves too */
    bool raw;                   /* pareto --raw: the observed means, no model */
    int32_t timeout_ms;         /* --timeout: wait for the broker's reply */
    const char *count;          /* -n/--count K */
    const char *progression;    /* --progression P */
    const char *reason;         /* --reason TEXT */
    const char *metric;         /* predict --metric NAME (NULL: the objective) */
    const char **params;        /* --params JSON|@FILE, in command-line order (room for argc) */
    int n_params;               /* number of --params */
    const char *pos[HONE_CLI_MAX_POSITIONALS];  /* positional arguments */
    int n_pos;                  /* number of positionals */
} hone_cli_opts_t;

typedef struct hone_cli_command hone_cli_command_t;
struct hone_cli_command {
    const char *name;           /* "attach" */
    int (*run)(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c);
    const char *args;           /* the synopsis after the name */
    const char *summary;        /* one line */
    const char *details;        /* the rest of the help text */
    int min_pos;                /* positionals required */
    int max_pos;                /* positionals allowed */
    unsigned options;           /* S_OPT_* (hone_cli.c) */
};

/* ---- cli_output.c ---- */

/* Prints "hone: CMD: message (NAME)" on one line and returns the exit status. */
int hone_cli_error(const char *cmd, int code, const char *message);

/* Prints "hone: CMD: TEXT (try 'hone CMD --help')", TEXT being fmt with arg; returns
 * the exit status of a usage error. */
int hone_cli_usage_error(const char *cmd, const char *fmt, const char *arg);

/* hone_cli_error with the client's last error message. */
int hone_cli_client_error(const char *cmd, int code, hone_client_t *c);

/* Prints a rendered JSON line and frees it. */
int hone_cli_print_json(const char *cmd, char *line);

void hone_cli_format_param(const hone_trial_t *t, size_t i, char *buf, size_t size);
void hone_cli_format_metric(double mean, double sem, char *buf, size_t size);

/* The lease part of `hone status`: settings, expiries and the workers table. */
void hone_cli_print_workers(const hone_status_t *s);

/* The PARAMS or METRICS cell of a trial in the table. */
void hone_cli_trial_cell(const hone_trial_t *t, bool metrics, char *buf, size_t size);

/* Prints a trial's learning curves, one line per metric: "  loss: 1=0.9 2=0.8±0.01 ...". */
void hone_cli_print_curves(const hone_trial_t *t);

/* ---- the commands: each returns the exit status (c is NULL for an offline one) ---- */

/* cli_experiments.c */
int hone_cli_cmd_create(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c);
int hone_cli_cmd_status(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c);
int hone_cli_cmd_trials(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c);
int hone_cli_cmd_best(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c);
int hone_cli_cmd_predict(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c);
/* The points of every --params (JSON, or @FILE holding JSON), in order, into *points
 * (zeroed by the caller; clear it in any case). Returns 0, or the exit status after
 * reporting a usage error or a failure. */
int hone_cli_parse_points(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_json_points_t *points);

/* cli_goals.c */
int hone_cli_cmd_pareto(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c);
int hone_cli_cmd_baseline(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c);

/* cli_trials.c */
int hone_cli_cmd_curve(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c);
int hone_cli_cmd_should_stop(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c);
int hone_cli_cmd_next(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c);
int hone_cli_cmd_attach(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c);
int hone_cli_cmd_complete(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c);
/* fail, abandon, early-stop */
int hone_cli_cmd_mark(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c);

/* cli_keygen.c */
int hone_cli_cmd_keygen(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c);

#endif
