/* cli_output.c: what `hone` prints besides JSON lines: the one-line errors on stderr
 * and the human-readable formatting (parameter and metric values, the workers table of
 * `hone status`, the cells and curves of `hone trials`). */
#include "err.h"
#include "cli.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints "hone: CMD: message (NAME)" on one line and returns the exit status. */
int hone_cli_error(const char *cmd, int code, const char *message)
{
    char line[1024];
    snprintf(line, sizeof line, "%s", message && *message ? message : hone_strerror(code));
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "hone: %s%s%s (%s)\n", cmd ? cmd : "", cmd ? ": " : "", line, hone_err_name(code));
    return HONE_CLI_EXIT_FAILURE;
}

int hone_cli_usage_error(const char *cmd, const char *fmt, const char *arg)
{
    char text[512];
    snprintf(text, sizeof text, fmt, arg);
    if (cmd)
        fprintf(stderr, "hone: %s: %s (try 'hone %s --help')\n", cmd, text, cmd);
    else
        fprintf(stderr, "hone: %s (try 'hone --help')\n", text);
    return HONE_CLI_EXIT_USAGE;
}

int hone_cli_client_error(const char *cmd, int code, hone_client_t *c)
{
    return hone_cli_error(cmd, code, hone_client_last_error(c));
}

/* Prints a rendered JSON line and frees it. */
int hone_cli_print_json(const char *cmd, char *line)
{
    if (!line)
        return hone_cli_error(cmd, HONE_ENOMEM, NULL);
    puts(line);
    free(line);
    return 0;
}

void hone_cli_format_param(const hone_trial_t *t, size_t i, char *buf, size_t size)
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

void hone_cli_format_metric(double mean, double sem, char *buf, size_t size)
{
    if (isnan(sem))
        snprintf(buf, size, "%.6g", mean);
    else
        snprintf(buf, size, "%.6g±%.3g", mean, sem);
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
void hone_cli_print_workers(const hone_status_t *s)
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

/* The PARAMS or METRICS cell of a trial in the table. */
void hone_cli_trial_cell(const hone_trial_t *t, bool metrics, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    size_t n = metrics ? hone_trial_metric_count(t) : hone_trial_param_count(t);
    for (size_t i = 0; i < n && used + 1 < size; i++) {
        char value[128];
        if (metrics)
            hone_cli_format_metric(hone_trial_metric_mean(t, i), hone_trial_metric_sem(t, i), value, sizeof value);
        else
            hone_cli_format_param(t, i, value, sizeof value);
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
void hone_cli_print_curves(const hone_trial_t *t)
{
    for (size_t i = 0; i < hone_trial_curve_count(t); i++) {
        printf("  %s:", hone_trial_curve_metric(t, i));
        for (size_t j = 0; j < hone_trial_curve_length(t, i); j++) {
            int64_t progression = 0;
            double mean = NAN, sem = NAN;
            char value[96];
            hone_trial_curve_point(t, i, j, &progression, &mean, &sem);
            hone_cli_format_metric(mean, sem, value, sizeof value);
            printf(" %" PRId64 "=%s", progression, value);
        }
        printf("\n");
    }
}
