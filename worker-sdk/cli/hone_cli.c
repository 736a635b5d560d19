/* hone_cli.c: `hone`, the command line client (create, status, trials, curve, best,
 * predict, next, attach, complete, fail, abandon, early-stop, should-stop) and
 * `hone keygen`, which makes
 * CURVE key pairs. Errors are one plain line on stderr: "hone: COMMAND: message
 * (HONE_EXXX)"; exit status 2 for usage errors, 1 for others. */
#include "err.h"
#include "args.h"
#include "cert.h"
#include "json_line.h"

#include <errno.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_EXIT_FAILURE 1
#define S_EXIT_USAGE 2
#define S_MAX_POSITIONALS 3
#define S_CONFIG_MAX (16u << 20)

/* Options a command accepts besides the global ones. */
enum { S_OPT_COUNT = 1, S_OPT_PROGRESSION = 2, S_OPT_REASON = 4, S_OPT_PARAMS = 8, S_OPT_KEYGEN = 16,
       S_OPT_OFFLINE = 32 /* runs without a broker: the client argument is NULL */, S_OPT_CURVES = 64 };

typedef struct {
    const char *broker;         /* endpoint: --broker, else $HONE_BROKER, else the default */
    const char *key;            /* --key FILE, else $HONE_KEY: this peer's secret certificate */
    const char *broker_key;     /* --broker-key FILE, else $HONE_BROKER_KEY: the broker's public one */
    const char *role;           /* keygen --role */
    const char *dir;            /* keygen --dir */
    const char *keygen_broker;  /* keygen --broker DIR: the broker's key directory */
    bool json;                  /* --json: machine-readable output */
    bool curves;                /* trials --curves: the full learning curves too */
    int32_t timeout_ms;         /* --timeout: wait for the broker's reply */
    const char *count;          /* -n/--count K */
    const char *progression;    /* --progression P */
    const char *reason;         /* --reason TEXT */
    const char **params;        /* --params JSON|@FILE, in command-line order (room for argc) */
    int n_params;               /* number of --params */
    const char *pos[S_MAX_POSITIONALS];  /* positional arguments */
    int n_pos;                  /* number of positionals */
} s_opts_t;

typedef struct s_command s_command_t;
struct s_command {
    const char *name;           /* "attach" */
    int (*run)(const s_command_t *cmd, const s_opts_t *o, hone_client_t *c);
    const char *args;           /* the synopsis after the name */
    const char *summary;        /* one line */
    const char *details;        /* the rest of the help text */
    int min_pos;                /* positionals required */
    int max_pos;                /* positionals allowed */
    unsigned options;           /* S_OPT_* */
};

static const char s_global_help[] =
    "global options (before or after COMMAND):\n"
    "  --broker ENDPOINT  the broker (default: $HONE_BROKER, else " HONE_DEFAULT_ENDPOINT ")\n"
    "  --key FILE         this client's secret key (NAME.key_secret from 'hone keygen'), for a\n"
    "                     broker started with --keys (default: $HONE_KEY)\n"
    "  --broker-key FILE  the broker's public key, KEYS/broker.key (default: $HONE_BROKER_KEY)\n"
    "  --json             print machine-readable JSON (one object, or one per line)\n"
    "  --timeout MS       wait for the broker's reply (default: 10000)\n"
    "  -h, --help         print help and exit\n";

/* ---- output helpers ---- */

/* Prints "hone: CMD: message (NAME)" on one line and returns the exit status. */
static int s_error(const char *cmd, int code, const char *message)
{
    char line[1024];
    snprintf(line, sizeof line, "%s", message && *message ? message : hone_strerror(code));
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "hone: %s%s%s (%s)\n", cmd ? cmd : "", cmd ? ": " : "", line, hone_err_name(code));
    return S_EXIT_FAILURE;
}

static int s_usage_error(const char *cmd, const char *fmt, const char *arg)
{
    char text[512];
    snprintf(text, sizeof text, fmt, arg);
    if (cmd)
        fprintf(stderr, "hone: %s: %s (try 'hone %s --help')\n", cmd, text, cmd);
    else
        fprintf(stderr, "hone: %s (try 'hone --help')\n", text);
    return S_EXIT_USAGE;
}

static int s_client_error(const char *cmd, int code, hone_client_t *c)
{
    return s_error(cmd, code, hone_client_last_error(c));
}

/* Prints a rendered JSON line and frees it. */
static int s_print_json(const char *cmd, char *line)
{
    if (!line)
        return s_error(cmd, HONE_ENOMEM, NULL);
    puts(line);
    free(line);
    return 0;
}

static void s_format_param(const hone_trial_t *t, size_t i, char *buf, size_t size)
{
    double f;
    int64_t n;
    const char *s;
    bool b;
    switch (hone_trial_param_type(t, i)) {
    case HONE_TYPE_FLOAT:
        hone_trial_param_double(t, i, &f);
        snprintf(buf, size, "%.6g", f);
        break;
    case HONE_TYPE_INT:
        hone_trial_param_int(t, i, &n);
        snprintf(buf, size, "%" PRId64, n);
        break;
    case HONE_TYPE_STR:
        hone_trial_param_str(t, i, &s);
        snprintf(buf, size, "%s", s);
        break;
    case HONE_TYPE_BOOL:
        hone_trial_param_bool(t, i, &b);
        snprintf(buf, size, "%s", b ? "true" : "false");
        break;
    default:
        snprintf(buf, size, "?");
    }
}

static void s_format_metric(double mean, double sem, char *buf, size_t size)
{
    if (isnan(sem))
        snprintf(buf, size, "%.6g", mean);
    else
        snprintf(buf, size, "%.6g±%.3g", mean, sem);
}

/* ---- argument helpers ---- */

static int s_parse_trial(const s_command_t *cmd, const char *text, uint64_t *out)
{
    int64_t v;
    if (!hone_args_int(text, 0, INT64_MAX, &v))
        return s_usage_error(cmd->name, "TRIAL must be a trial number, not '%s'", text);
    *out = (uint64_t) v;
    return 0;
}

/* Parses a METRICS argument; a usage error when it is not a valid reading. */
static int s_parse_metrics(const s_command_t *cmd, const char *text, bool allow_step, hone_json_reading_t *out)
{
    char why[256];
    int rc = hone_json_line_parse_reading(text, strlen(text), allow_step, out, why, sizeof why);
    if (rc == HONE_ENOTFOUND)
        return s_usage_error(cmd->name, "METRICS must be a JSON object such as '{\"loss\": 0.3}', not '%s'", text);
    if (rc == HONE_EINVAL)
        return s_usage_error(cmd->name, "invalid METRICS: %s", why);
    if (rc != HONE_OK)
        return s_error(cmd->name, rc, NULL);
    return 0;
}

/* ---- commands ---- */

/* Reads a whole file ('-': stdin) of at most S_CONFIG_MAX bytes into *out (malloc'd,
 * NUL-terminated; *len_out bytes). Returns 0, or the exit status after reporting why. */
static int s_read_text(const s_command_t *cmd, const char *path, char **out, size_t *len_out)
{
    *out = NULL;
    FILE *f = streq(path, "-") ? stdin : fopen(path, "rb");
    if (!f) {
        char text[600];
        snprintf(text, sizeof text, "cannot read '%s': %s", path, strerror(errno));
        return s_error(cmd->name, HONE_EIO, text);
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n = 0;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *bigger = cap < S_CONFIG_MAX ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    bool failed = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf) {
        char text[600];
        snprintf(text, sizeof text, "'%s' is too large", path);
        return s_error(cmd->name, HONE_ETOOBIG, text);
    }
    if (failed) {
        free(buf);
        char text[600];
        snprintf(text, sizeof text, "cannot read '%s'", path);
        return s_error(cmd->name, HONE_EIO, text);
    }
    buf[len] = '\0';
    *out = buf;
    if (len_out)
        *len_out = len;
    return 0;
}

static int s_cmd_create(const s_command_t *cmd, const s_opts_t *o, hone_client_t *c)
{
    char *config = NULL;
    int status = s_read_text(cmd, o->pos[0], &config, NULL);
    if (status != 0)
        return status;
    char *name = NULL;
    int rc = hone_client_create(c, config, &name);
    free(config);
    if (rc != HONE_OK)
        return s_client_error(cmd->name, rc, c);
    if (o->json)
        status = s_print_json(cmd->name, hone_json_line_created(name));
    else
        printf("created experiment '%s'\n", name);
    hone_strfree(name);
    return status;
}

/* "850 ms", "3.2 s", "4 min", "2.5 h": a duration for humans. */
static const char *s_ago(int64_t ms, char *buf, size_t size)
{
    if (ms < 0)
        snprintf(buf, size, "-");
    else if (ms < 1000)
        snprintf(buf, size, "%" PRId64 " ms", ms);
    else if (ms < 60000)
        snprintf(buf, size, "%.1f s", (double) ms / 1000.0);
    else if (ms < 3600000)
        snprintf(buf, size, "%.0f min", (double) ms / 60000.0);
    else
        snprintf(buf, size, "%.1f h", (double) ms / 3600000.0);
    return buf;
}

/* The lease part of `hone status`: settings, expiries and the workers table. */
static void s_print_workers(const hone_status_t *s)
{
    int32_t heartbeat = 0, liveness = 0, retries = 0;
    hone_status_leases(s, &heartbeat, &liveness, &retries);
    if (heartbeat == 0)
        return;     /* a broker without leases */
    uint64_t expired = hone_status_leases_expired(s), requeued = hone_status_retries(s);
    printf("leases      heartbeat %" PRId32 " ms, liveness %" PRId32 ", max_retries %" PRId32 "\n", heartbeat,
           liveness, retries);
    printf("            %" PRIu64 " expired: %" PRIu64 " re-queued, %" PRIu64 " failed at the retry limit\n",
           expired, requeued, expired >= requeued ? expired - requeued : 0);
    size_t n = hone_status_worker_count(s);
    if (n == 0) {
        printf("workers     none seen lately\n");
        return;
    }
    printf("workers     %" PRIu64 "\n", hone_status_workers_total(s));
    int w = 6;
    for (size_t i = 0; i < n; i++) {
        int len = (int) strlen(hone_status_worker_name(s, i));
        w = len > w ? len : w;
    }
    w = w > 40 ? 40 : w;
    printf("  %-*s  %10s  %6s  %5s  %9s\n", w, "WORKER", "LAST SEEN", "TRIAL", "LEASE", "LEASE AGE");
    for (size_t i = 0; i < n; i++) {
        char seen[32], age[32], trial_text[24] = "-", lease_text[24] = "-";
        uint64_t trial = 0, lease = 0;
        int64_t lease_age = -1;
        if (hone_status_worker_lease(s, i, &trial, &lease, &lease_age) == HONE_OK) {
            snprintf(trial_text, sizeof trial_text, "%" PRIu64, trial);
            snprintf(lease_text, sizeof lease_text, "%" PRIu64, lease);
        }
        printf("  %-*.*s  %10s  %6s  %5s  %9s\n", w, w, hone_status_worker_name(s, i),
               s_ago(hone_status_worker_last_seen_ms(s, i), seen, sizeof seen), trial_text, lease_text,
               s_ago(lease_age, age, sizeof age));
    }
    if (hone_status_workers_total(s) > n)
        printf("  ... and %" PRIu64 " more\n", hone_status_workers_total(s) - n);
}

static int s_cmd_status(const s_command_t *cmd, const s_opts_t *o, hone_client_t *c)
{
    hone_status_t *s = NULL;
    int rc = hone_client_status(c, o->pos[0], &s);
    if (rc != HONE_OK)
        return s_client_error(cmd->name, rc, c);
    int status = 0;
    if (o->json) {
        status = s_print_json(cmd->name, hone_json_line_status(s));
    } else {
        printf("experiment  %s\n", *hone_status_experiment(s) ? hone_status_experiment(s) : o->pos[0]);
        printf("objective   %s\n", hone_status_objective(s));
        printf("method      %s\n", hone_status_method(s));
        if (hone_status_max_trials(s))
            printf("trials      %" PRIu64 " of %" PRIu64 "\n", hone_status_total(s), hone_status_max_trials(s));
        else
            printf("trials      %" PRIu64 " (no limit)\n", hone_status_total(s));
        for (size_t i = 0; i < hone_status_entry_count(s); i++)
            printf("  %-14s %" PRIu64 "\n", hone_status_entry_name(s, i), hone_status_entry_trials(s, i));
        uint64_t trial;
        double value;
        if (hone_status_best(s, &trial, &value) == HONE_OK)
            printf("best        trial %" PRIu64 ": %.6g\n", trial, value);
        else
            printf("best        none yet\n");
        s_print_workers(s);
    }
    hone_status_destroy(&s);
    return status;
}

/* The PARAMS or METRICS cell of a trial in the table. */
static void s_cell(const hone_trial_t *t, bool metrics, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    size_t n = metrics ? hone_trial_metric_count(t) : hone_trial_param_count(t);
    for (size_t i = 0; i < n && used + 1 < size; i++) {
        char value[128];
        if (metrics)
            s_format_metric(hone_trial_metric_mean(t, i), hone_trial_metric_sem(t, i), value, sizeof value);
        else
            s_format_param(t, i, value, sizeof value);
        int w = snprintf(buf + used, size - used, "%s%s=%s", i ? " " : "",
                         metrics ? hone_trial_metric_name(t, i) : hone_trial_param_name(t, i), value);
        if (w < 0)
            break;
        used += (size_t) w;
    }
    if (metrics && n == 0 && *hone_trial_reason(t))
        snprintf(buf, size, "(%s)", hone_trial_reason(t));
    else if (n == 0)
        snprintf(buf, size, "-");
    else if (metrics && *hone_trial_reason(t) && used + 1 < size)
        snprintf(buf + used, size - used, " (%s)", hone_trial_reason(t));  /* why it stopped early */
}

/* Prints a trial's learning curves, one line per metric: "  loss: 1=0.9 2=0.8±0.01 ...". */
static void s_print_curves(const hone_trial_t *t)
{
    for (size_t i = 0; i < hone_trial_curve_count(t); i++) {
        printf("  %s:", hone_trial_curve_metric(t, i));
        for (size_t j = 0; j < hone_trial_curve_length(t, i); j++) {
            int64_t progression = 0;
            double mean = NAN, sem = NAN;
            char value[96];
            hone_trial_curve_point(t, i, j, &progression, &mean, &sem);
            s_format_metric(mean, sem, value, sizeof value);
            printf(" %" PRId64 "=%s", progression, value);
        }
        printf("\n");
    }
}

static int s_cmd_trials(const s_command_t *cmd, const s_opts_t *o, hone_client_t *c)
{
    hone_trial_list_t *list = NULL;
    int rc = o->curves ? hone_client_list_curves(c, o->pos[0], &list) : hone_client_list(c, o->pos[0], &list);
    if (rc != HONE_OK)
        return s_client_error(cmd->name, rc, c);
    size_t n = hone_trial_list_count(list);
    int status = 0;
    if (o->json) {
        for (size_t i = 0; i < n && status == 0; i++)
            status = s_print_json(cmd->name, hone_json_line_trial(hone_trial_list_at(list, i), true));
        hone_trial_list_destroy(&list);
        return status;
    }
    int w_status = 6, w_note = 4, w_params = 6;
    char cell[2048];
    for (size_t i = 0; i < n; i++) {
        const hone_trial_t *t = hone_trial_list_at(list, i);
        int len = (int) strlen(hone_trial_status(t));
        w_status = len > w_status ? len : w_status;
        len = (int) strlen(hone_trial_note(t));
        w_note = len > w_note ? len : w_note;
        s_cell(t, false, cell, sizeof cell);
        len = (int) strlen(cell);
        w_params = len > w_params ? len : w_params;
    }
    printf("%-5s  %-*s  %-*s  %-*s  %s\n", "TRIAL", w_status, "STATUS", w_note, "NOTE", w_params, "PARAMS",
           "METRICS");
    for (size_t i = 0; i < n; i++) {
        const hone_trial_t *t = hone_trial_list_at(list, i);
        char metrics[2048];
        s_cell(t, false, cell, sizeof cell);
        s_cell(t, true, metrics, sizeof metrics);
        printf("%-5" PRIu64 "  %-*s  %-*s  %-*s  %s\n", hone_trial_index(t), w_status, hone_trial_status(t), w_note,
               hone_trial_note(t), w_params, cell, metrics);
    }
    if (n == 0)
        printf("(no trials yet)\n");
    for (size_t i = 0; o->curves && i < n; i++) {
        const hone_trial_t *t = hone_trial_list_at(list, i);
        if (hone_trial_curve_count(t) == 0)
            continue;
        printf("\ntrial %" PRIu64 " (%s) curves:\n", hone_trial_index(t), hone_trial_status(t));
        s_print_curves(t);
    }
    hone_trial_list_destroy(&list);
    return status;
}

static int s_cmd_curve(const s_command_t *cmd, const s_opts_t *o, hone_client_t *c)
{
    uint64_t index = 0;
    int status = s_parse_trial(cmd, o->pos[1], &index);
    if (status != 0)
        return status;
    hone_trial_t *t = NULL;
    int rc = hone_client_trial(c, o->pos[0], index, true, &t);
    if (rc != HONE_OK)
        return s_client_error(cmd->name, rc, c);
    if (o->json) {
        status = s_print_json(cmd->name, hone_json_line_trial(t, true));
    } else {
        printf("trial %" PRIu64 "  %s", hone_trial_index(t), hone_trial_status(t));
        if (*hone_trial_reason(t))
            printf("  (%s)", hone_trial_reason(t));
        printf("\n");
        if (hone_trial_curve_count(t) == 0)
            printf("  (no reading with a progression)\n");
        s_print_curves(t);
    }
    hone_trial_destroy(&t);
    return status;
}

static int s_cmd_should_stop(const s_command_t *cmd, const s_opts_t *o, hone_client_t *c)
{
    uint64_t index = 0;
    int status = s_parse_trial(cmd, o->pos[1], &index);
    if (status != 0)
        return status;
    bool stop = false;
    char *reason = NULL;
    int rc = hone_client_should_stop(c, o->pos[0], index, &stop, &reason);
    if (rc != HONE_OK)
        return s_client_error(cmd->name, rc, c);
    if (o->json)
        status = s_print_json(cmd->name, hone_json_line_should_stop(o->pos[0], index, stop, reason));
    else
        printf("%s: %s\n", stop ? "stop" : "continue", reason);
    hone_strfree(reason);
    return status;
}

static int s_cmd_best(const s_command_t *cmd, const s_opts_t *o, hone_client_t *c)
{
    hone_best_t *best = NULL;
    int rc = hone_client_best(c, o->pos[0], &best);
    if (rc != HONE_OK)
        return s_client_error(cmd->name, rc, c);
    int status = 0;
    if (o->json) {
        status = s_print_json(cmd->name, hone_json_line_best(best));
    } else {
        char value[128];
        s_format_metric(hone_best_value(best), hone_best_sem(best), value, sizeof value);
        const char *source = hone_best_source(best);
        printf("best trial %" PRIu64 ": %s = %s (%s%s)\n", hone_best_trial_index(best), hone_best_metric(best),
               value, hone_best_minimize(best) ? "minimized" : "maximized",
               streq(source, "model") ? ", model prediction" : streq(source, "raw") ? ", observed" : "");
        const hone_trial_t *t = hone_best_trial(best);
        for (size_t i = 0; i < hone_trial_param_count(t); i++) {
            char v[1024];
            s_format_param(t, i, v, sizeof v);
            printf("  %s = %s\n", hone_trial_param_name(t, i), v);
        }
    }
    hone_best_destroy(&best);
    return status;
}

/* Gathers the points of every --params (JSON, or @FILE holding JSON) in order. */
static int s_parse_points(const s_command_t *cmd, const s_opts_t *o, hone_json_points_t *points)
{
    if (o->n_params == 0)
        return s_usage_error(cmd->name, "%s", "give the points with --params '{\"x1\": 0.5, ...}'");
    for (int i = 0; i < o->n_params; i++) {
        const char *arg = o->params[i];
        char *file_text = NULL;
        size_t len = strlen(arg);
        if (arg[0] == '@') {
            int status = s_read_text(cmd, arg + 1, &file_text, &len);
            if (status != 0)
                return status;
        }
        char why[400];
        int rc = hone_json_line_parse_points(file_text ? file_text : arg, len, points, why, sizeof why);
        free(file_text);
        if (rc == HONE_EINVAL)
            return s_usage_error(cmd->name, "invalid --params: %s", why);
        if (rc != HONE_OK)
            return s_error(cmd->name, rc, NULL);
    }
    if (points->n > 1000) {
        char count[32];
        snprintf(count, sizeof count, "%zu", points->n);
        return s_usage_error(cmd->name, "give at most 1000 points, not %s", count);
    }
    return 0;
}

static int s_cmd_predict(const s_command_t *cmd, const s_opts_t *o, hone_client_t *c)
{
    hone_json_points_t points;
    memset(&points, 0, sizeof points);
    int status = s_parse_points(cmd, o, &points);
    hone_prediction_t *prediction = NULL;
    int rc = status == 0 ? hone_client_predict(c, o->pos[0], points.points, &prediction) : HONE_OK;
    if (status == 0 && rc != HONE_OK)
        status = s_client_error(cmd->name, rc, c);
    size_t n = hone_prediction_count(prediction);
    if (status == 0 && o->json) {
        for (size_t i = 0; i < n && status == 0; i++)
            status = s_print_json(cmd->name, hone_json_line_prediction(prediction, i, points.params[i]));
    } else if (status == 0) {
        int w_params = 6;
        for (size_t i = 0; i < n; i++) {
            int len = (int) strlen(points.cells[i]);
            w_params = len > w_params ? len : w_params;
        }
        printf("%-5s  %-*s  %s\n", "POINT", w_params, "PARAMS", "PREDICTION (mean±sem)");
        for (size_t i = 0; i < n; i++) {
            char value[128];
            s_format_metric(hone_prediction_mean(prediction, i), hone_prediction_sem(prediction, i), value,
                            sizeof value);
            printf("%-5zu  %-*s  %s=%s\n", i, w_params, points.cells[i], hone_prediction_metric(prediction), value);
        }
    }
    hone_prediction_destroy(&prediction);
    hone_json_line_points_clear(&points);
    return status;
}

static int s_cmd_next(const s_command_t *cmd, const s_opts_t *o, hone_client_t *c)
{
    int64_t count = 1;
    if (o->count && !hone_args_int(o->count, 1, 1000, &count))
        return s_usage_error(cmd->name, "-n must be a number from 1 to 1000, not '%s'", o->count);
    hone_trial_list_t *list = NULL;
    int rc = hone_client_next_trials(c, o->pos[0], (uint32_t) count, &list);
    if (rc != HONE_OK)
        return s_client_error(cmd->name, rc, c);
    int status = 0;
    for (size_t i = 0; i < hone_trial_list_count(list) && status == 0; i++)
        status = s_print_json(cmd->name, hone_json_line_trial(hone_trial_list_at(list, i), false));
    hone_trial_list_destroy(&list);
    return status;
}

static int s_cmd_attach(const s_command_t *cmd, const s_opts_t *o, hone_client_t *c)
{
    uint64_t trial = 0;
    int status = s_parse_trial(cmd, o->pos[1], &trial);
    int64_t progression = 0;
    if (status == 0 && o->progression && !hone_args_int(o->progression, INT64_MIN, INT64_MAX, &progression))
        status = s_usage_error(cmd->name, "--progression must be an integer, not '%s'", o->progression);
    hone_json_reading_t r;
    memset(&r, 0, sizeof r);
    if (status == 0)
        status = s_parse_metrics(cmd, o->pos[2], true, &r);
    if (status == 0 && r.n == 0)
        status = s_usage_error(cmd->name, "METRICS must name at least one metric, as in '%s'", "{\"loss\": 0.3}");
    if (status == 0 && r.has_step && o->progression)
        status = s_usage_error(cmd->name, "%s", "give the progression once: \"step\" in METRICS or --progression");
    if (status != 0) {
        hone_json_line_reading_clear(&r);
        return status;
    }
    bool has_progression = o->progression || r.has_step;
    if (r.has_step)
        progression = r.step;
    int rc = hone_client_attach(c, o->pos[0], trial, r.n, (const char *const *) r.names, r.means, r.sems,
                                has_progression, progression);
    if (rc != HONE_OK)
        status = s_client_error(cmd->name, rc, c);
    else if (o->json)
        status = s_print_json(cmd->name, hone_json_line_attached(o->pos[0], trial, &r, has_progression, progression));
    else
        printf("attached %zu reading%s to trial %" PRIu64 " of '%s'\n", r.n, r.n == 1 ? "" : "s", trial, o->pos[0]);
    hone_json_line_reading_clear(&r);
    return status;
}

static int s_print_marked(const s_command_t *cmd, const s_opts_t *o, uint64_t trial, const char *status_name)
{
    if (o->json)
        return s_print_json(cmd->name, hone_json_line_marked(o->pos[0], trial, status_name));
    printf("trial %" PRIu64 " of '%s' is %s\n", trial, o->pos[0], status_name);
    return 0;
}

static int s_cmd_complete(const s_command_t *cmd, const s_opts_t *o, hone_client_t *c)
{
    uint64_t trial = 0;
    int status = s_parse_trial(cmd, o->pos[1], &trial);
    hone_json_reading_t r;
    memset(&r, 0, sizeof r);
    if (status == 0 && o->n_pos > 2)
        status = s_parse_metrics(cmd, o->pos[2], false, &r);
    if (status != 0)
        return status;
    int rc = hone_client_complete(c, o->pos[0], trial, r.n, (const char *const *) r.names, r.means, r.sems);
    hone_json_line_reading_clear(&r);
    if (rc != HONE_OK)
        return s_client_error(cmd->name, rc, c);
    return s_print_marked(cmd, o, trial, "COMPLETED");
}

/* fail, abandon, early-stop */
static int s_cmd_mark(const s_command_t *cmd, const s_opts_t *o, hone_client_t *c)
{
    uint64_t trial = 0;
    int status = s_parse_trial(cmd, o->pos[1], &trial);
    if (status != 0)
        return status;
    const char *status_name = streq(cmd->name, "fail") ? "FAILED"
                              : streq(cmd->name, "abandon") ? "ABANDONED" : "EARLY_STOPPED";
    int rc = hone_client_mark(c, o->pos[0], trial, status_name, o->reason);
    if (rc != HONE_OK)
        return s_client_error(cmd->name, rc, c);
    return s_print_marked(cmd, o, trial, status_name);
}

/* A keygen NAME: what becomes a file name and the certificate's `name`. */
static bool s_key_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= HONE_CERT_META_MAX || name[0] == '.' || name[0] == '-')
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.'
              || *p == '_' || *p == '-'))
            return false;
    return true;
}

/* "dir/name" + suffix in a malloc'd string; NULL when memory runs out. */
static char *s_join(const char *dir, const char *name, const char *suffix)
{
    size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/%s%s", dir, name, suffix);
    return path;
}

/* Makes dir (mode) unless it is a directory already. 0, or the exit status. */
static int s_make_dir(const s_command_t *cmd, const char *dir, mode_t mode)
{
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    if (mkdir(dir, mode) != 0) {
        char text[600];
        snprintf(text, sizeof text, "cannot create the directory %s: %s", dir, strerror(errno));
        return s_error(cmd->name, HONE_EIO, text);
    }
    return 0;
}

static int s_cmd_keygen(const s_command_t *cmd, const s_opts_t *o, hone_client_t *c)
{
    (void) c;
    const char *name = o->n_pos > 0 ? o->pos[0] : NULL;
    bool broker = o->keygen_broker != NULL;
    if (broker && (name || o->role || o->dir))
        return s_usage_error(cmd->name, "%s", "give either --broker DIR or NAME [--role R] [--dir DIR]");
    if (!broker && !name)
        return s_usage_error(cmd->name, "%s", "missing arguments: expected NAME or --broker DIR");
    if (broker && !*o->keygen_broker)
        return s_usage_error(cmd->name, "%s", "--broker needs a directory");
    if (name && !s_key_name_ok(name))
        return s_usage_error(cmd->name, "NAME must be 1 to 63 characters of [A-Za-z0-9._-], not starting "
                             "with '.' or '-', not '%s'", name);
    const char *role = broker ? NULL : o->role ? o->role : "worker";
    if (role && !streq(role, "worker") && !streq(role, "client"))
        return s_usage_error(cmd->name, "--role must be worker or client, not '%s'", role);
    const char *dir = broker ? o->keygen_broker : o->dir ? o->dir : ".";
    if (!*dir)
        return s_usage_error(cmd->name, "%s", "--dir must not be empty");

    int status = s_make_dir(cmd, dir, 0700);
    if (status == 0 && broker) {
        char *clients = s_join(dir, "clients", "");
        if (!clients)
            return s_error(cmd->name, HONE_ENOMEM, NULL);
        status = s_make_dir(cmd, clients, 0755);
        free(clients);
    }
    if (status != 0)
        return status;
    hone_cert_t cert;
    hone_error_t err;
    hone_error_clear(&err);
    int rc = hone_cert_new(&cert, role, broker ? "broker" : name, &err);
    char *public_path = s_join(dir, broker ? "broker" : name, ".key");
    char *secret_path = s_join(dir, broker ? "broker" : name, ".key_secret");
    if (rc == HONE_OK && (!public_path || !secret_path))
        rc = hone_error_set(&err, HONE_ENOMEM, "out of memory");
    if (rc == HONE_OK)
        rc = hone_cert_save(&cert, public_path, secret_path, &err);
    if (rc != HONE_OK) {
        status = s_error(cmd->name, rc, err.message);
    } else if (o->json) {
        status = s_print_json(cmd->name, hone_json_line_keygen(public_path, secret_path, cert.public_key, role));
    } else if (broker) {
        printf("wrote %s (the broker's public key: give it to every worker and client) and\n"
               "%s (its secret key, mode 0600)\n"
               "start the broker with: hone-broker --keys %s\n"
               "let a peer in: hone keygen NAME --role worker|client, then copy NAME.key into %s/clients/\n",
               public_path, secret_path, dir, dir);
    } else {
        printf("wrote %s (public key, role %s: copy it into the broker's KEYS/clients/) and\n"
               "%s (secret key, mode 0600: keep it here)\n"
               "use it with: %s --key %s --broker-key KEYS/broker.key\n",
               public_path, role, secret_path, streq(role, "worker") ? "hone-worker" : "hone", secret_path);
    }
    memset(&cert, 0, sizeof cert);
    free(public_path);
    free(secret_path);
    return status;
}

static const s_command_t s_commands[] = {
    { "create", s_cmd_create, "FILE.json", "create an experiment from a JSON configuration",
      "FILE.json holds the configuration (Ax's field names; '-' reads stdin). Prints the\n"
      "experiment's name; with --json: {\"experiment\": NAME}.\n",
      1, 1, 0 },
    { "status", s_cmd_status, "NAME", "show an experiment's trials by status and its best value",
      "With --json: {\"experiment\", \"objective\", \"method\", \"max_trials\", \"total\",\n"
      "\"counts\": {STATUS: N}, \"best\": {\"trial\", \"value\"} or null}.\n",
      1, 1, 0 },
    { "trials", s_cmd_trials, "NAME [--curves]", "list the trials: status, note, parameters, metrics",
      "  --curves           also print every trial's full learning curves\n"
      "Prints a table; a trial that failed, was abandoned or was stopped early shows why,\n"
      "in parentheses after its metrics. With --json: one object per line, {\"trial\",\n"
      "\"status\", \"note\", \"params\": {...}, \"metrics\": {NAME: [mean, sem or null]},\n"
      "\"progression\", \"reason\"} and, with --curves, \"curves\": {NAME: [[progression, mean,\n"
      "sem or null], ...]}.\n",
      1, 1, S_OPT_CURVES },
    { "curve", s_cmd_curve, "NAME TRIAL", "show a trial's full learning curves",
      "Prints the trial's status (and why it stopped, if it did) and, per metric, every\n"
      "reading that has a progression: PROGRESSION=MEAN[±SEM]. With --json: the trial\n"
      "object of 'trials --json --curves'.\n",
      2, 2, 0 },
    { "best", s_cmd_best, "NAME", "show the best trial so far",
      "With --json: {\"trial\", \"params\", \"metric\", \"value\", \"sem\", \"minimize\"}.\n", 1, 1, 0 },
    { "predict", s_cmd_predict, "NAME --params JSON [--params JSON ...]",
      "predict the objective at given parameters (the model's mean and SEM)",
      "  --params JSON      one point, {\"x1\": 0.5, \"opt\": \"adam\"} (every parameter), or a JSON\n"
      "                     array of such points; @FILE reads that JSON from FILE ('@-': stdin).\n"
      "                     Repeat it for more points (1 to 1000 in all).\n"
      "The model is a GP fitted to every completed trial with data (2 at least). Prints a\n"
      "table: POINT, PARAMS, PREDICTION (metric=mean±sem). With --json: one object per point,\n"
      "{\"point\", \"params\", \"metric\", \"mean\", \"sem\"}.\n",
      1, 1, S_OPT_PARAMS },
    { "next", s_cmd_next, "NAME [-n K]", "ask for K new trials (default 1) to run by hand",
      "  -n, --count K      how many trials (1 to 1000)\n"
      "Prints one JSON line per trial: {\"trial\": INDEX, \"params\": {...}}. The trials are\n"
      "RUNNING: report them with attach/complete/fail.\n",
      1, 1, S_OPT_COUNT },
    { "attach", s_cmd_attach, "NAME TRIAL METRICS [--progression P]", "attach readings to a trial",
      "METRICS is a JSON object: {\"loss\": 0.3} or {\"loss\": [0.3, 0.01]} (mean and sem).\n"
      "  --progression P    the step these readings belong to (or \"step\": P in METRICS)\n",
      3, 3, S_OPT_PROGRESSION },
    { "complete", s_cmd_complete, "NAME TRIAL [METRICS]", "complete a trial, with its final readings",
      "METRICS, when given, is attached first: {\"loss\": 0.3} or {\"loss\": [0.3, 0.01]}.\n", 2, 3, 0 },
    { "fail", s_cmd_mark, "NAME TRIAL [--reason TEXT]", "mark a running trial FAILED",
      "  --reason TEXT      why it failed\n", 2, 2, S_OPT_REASON },
    { "abandon", s_cmd_mark, "NAME TRIAL [--reason TEXT]", "mark a trial ABANDONED (never suggested again)",
      "  --reason TEXT      why it was abandoned\n", 2, 2, S_OPT_REASON },
    { "early-stop", s_cmd_mark, "NAME TRIAL [--reason TEXT]", "mark a running trial EARLY_STOPPED (it needs data)",
      "  --reason TEXT      why it was stopped\n"
      "A worker evaluating the trial is told to stop on its next report or heartbeat.\n", 2, 2, S_OPT_REASON },
    { "should-stop", s_cmd_should_stop, "NAME TRIAL", "ask whether a trial should stop early (Ax's "
      "should_stop_trial_early)",
      "Applies the experiment's early-stopping strategy (its early_stopping block, else Ax's\n"
      "default: the percentile strategy with its defaults) to the trial's learning curve.\n"
      "Prints \"stop: REASON\" or \"continue: REASON\"; it never changes the trial (use\n"
      "early-stop). With --json: {\"experiment\", \"trial\", \"stop\", \"reason\"}.\n", 2, 2, 0 },
    { "keygen", s_cmd_keygen, "NAME [--role worker|client] [--dir DIR] | --broker DIR",
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

static void s_command_help(const s_command_t *cmd)
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
        return s_usage_error(cmd, "option '%s' needs a value", argv[*i]);
    *out = argv[++*i];
    return 0;
}

/* Parses argv[start..] for cmd (NULL: the global options before the command). Stops at
 * the first positional when cmd is NULL and stores its index in *stop. Returns -1 when
 * all is well, else an exit status (0 after --help). */
static int s_parse(const s_command_t *cmd, int argc, char **argv, int start, s_opts_t *o, int *stop)
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
                return s_usage_error(name, "unexpected argument '%s'", arg);
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
                return s_usage_error(name, "--timeout must be a positive number of milliseconds, not '%s'", text);
            o->timeout_ms = (int32_t) ms;
        } else if (cmd && (cmd->options & S_OPT_CURVES) && streq(option, "--curves")) {
            o->curves = true;
        } else if (cmd && (cmd->options & S_OPT_COUNT) && (streq(option, "-n") || streq(option, "--count"))) {
            status = s_option_value(name, argc, argv, &i, value, &o->count);
        } else if (cmd && (cmd->options & S_OPT_PROGRESSION) && streq(option, "--progression")) {
            status = s_option_value(name, argc, argv, &i, value, &o->progression);
        } else if (cmd && (cmd->options & S_OPT_REASON) && streq(option, "--reason")) {
            status = s_option_value(name, argc, argv, &i, value, &o->reason);
        } else if (cmd && (cmd->options & S_OPT_PARAMS) && streq(option, "--params")) {
            status = s_option_value(name, argc, argv, &i, value, &o->params[o->n_params]);
            if (status == 0)
                o->n_params++;
        } else {
            return s_usage_error(name, "unknown option '%s'", arg);
        }
        if (status > 0)
            return status;
    }
    if (!cmd) {
        *stop = argc;
        return -1;
    }
    if (o->n_pos < cmd->min_pos)
        return s_usage_error(name, "missing arguments: expected %s", cmd->args);
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

static int s_main(int argc, char **argv, s_opts_t *options)
{
    s_opts_t o = *options;
    int first = argc;
    int status = s_parse(NULL, argc, argv, 1, &o, &first);
    if (status >= 0)
        return status;
    if (first >= argc) {
        fprintf(stderr, "hone: no command given (try 'hone --help')\n");
        return S_EXIT_USAGE;
    }
    const s_command_t *cmd = NULL;
    for (size_t i = 0; i < HONE_ARRAY_LEN(s_commands); i++)
        if (streq(argv[first], s_commands[i].name))
            cmd = &s_commands[i];
    if (!cmd)
        return s_usage_error(NULL, "unknown command '%s'", argv[first]);
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
        return s_usage_error(cmd->name, "%s", o.key ? "--key needs --broker-key (or $HONE_BROKER_KEY) too"
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
        s_error(cmd->name, rc, text);
        return rc == HONE_EINVAL ? S_EXIT_USAGE : S_EXIT_FAILURE;
    }
    if (o.key) {
        rc = hone_client_set_curve(client, o.key, o.broker_key);
        if (rc != HONE_OK) {
            status = s_client_error(cmd->name, rc, client);
            hone_client_destroy(&client);
            return status;
        }
    }
    status = cmd->run(cmd, &o, client);
    hone_client_destroy(&client);
    if (fflush(stdout) != 0 && status == 0) {
        fprintf(stderr, "hone: %s: cannot write the output: %s\n", cmd->name, strerror(errno));
        status = S_EXIT_FAILURE;
    }
    return status;
}

int main(int argc, char **argv)
{
    s_opts_t o;
    memset(&o, 0, sizeof o);
    o.timeout_ms = 10000;
    o.params = calloc(argc > 0 ? (size_t) argc : 1, sizeof *o.params);  /* no option is given more often */
    if (!o.params)
        return s_error(NULL, HONE_ENOMEM, NULL);
    int status = s_main(argc, argv, &o);
    free(o.params);
    return status;
}
