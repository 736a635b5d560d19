/* cli_experiments.c: the `hone` commands about a whole experiment: create, status,
 * trials, best and predict. */
#include "err.h"
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_CONFIG_MAX (16u << 20)

/* Reads a whole file ('-': stdin) of at most S_CONFIG_MAX bytes into *out (malloc'd,
 * NUL-terminated; *len_out bytes). Returns 0, or the exit status after reporting why. */
static int s_read_text(const hone_cli_command_t *cmd, const char *path, char **out, size_t *len_out)
{
    *out = NULL;
    FILE *f = streq(path, "-") ? stdin : fopen(path, "rb");
    if (!f) {
        char text[600];
        snprintf(text, sizeof text, "cannot read '%s': %s", path, strerror(errno));
        return hone_cli_error(cmd->name, HONE_EIO, text);
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
        return hone_cli_error(cmd->name, HONE_ETOOBIG, text);
    }
    if (failed) {
        free(buf);
        char text[600];
        snprintf(text, sizeof text, "cannot read '%s'", path);
        return hone_cli_error(cmd->name, HONE_EIO, text);
    }
    buf[len] = '\0';
    *out = buf;
    if (len_out)
        *len_out = len;
    return 0;
}

int hone_cli_cmd_create(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c)
{
    char *config = NULL;
    int status = s_read_text(cmd, o->pos[0], &config, NULL);
    if (status != 0)
        return status;
    char *name = NULL;
    int rc = hone_client_create(c, config, &name);
    free(config);
    if (rc != HONE_OK)
        return hone_cli_client_error(cmd->name, rc, c);
    if (o->json)
        status = hone_cli_print_json(cmd->name, hone_json_line_created(name));
    else
        printf("created experiment '%s'\n", name);
    hone_strfree(name);
    return status;
}

int hone_cli_cmd_status(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c)
{
    hone_status_t *s = NULL;
    int rc = hone_client_status(c, o->pos[0], &s);
    if (rc != HONE_OK)
        return hone_cli_client_error(cmd->name, rc, c);
    int status = 0;
    if (o->json) {
        status = hone_cli_print_json(cmd->name, hone_json_line_status(s));
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
            /* several objectives (comma-separated) have a frontier, not a best point */
            printf(strchr(hone_status_objective(s), ',') ? "best        several objectives: see `hone pareto`\n"
                                                         : "best        none yet\n");
        hone_cli_print_workers(s);
    }
    hone_status_destroy(&s);
    return status;
}

int hone_cli_cmd_trials(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c)
{
    hone_trial_list_t *list = NULL;
    int rc = o->curves ? hone_client_list_curves(c, o->pos[0], &list) : hone_client_list(c, o->pos[0], &list);
    if (rc != HONE_OK)
        return hone_cli_client_error(cmd->name, rc, c);
    size_t n = hone_trial_list_count(list);
    int status = 0;
    if (o->json) {
        for (size_t i = 0; i < n && status == 0; i++)
            status = hone_cli_print_json(cmd->name, hone_json_line_trial(hone_trial_list_at(list, i), true));
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
        hone_cli_trial_cell(t, false, cell, sizeof cell);
        len = (int) strlen(cell);
        w_params = len > w_params ? len : w_params;
    }
    printf("%-5s  %-*s  %-*s  %-*s  %s\n", "TRIAL", w_status, "STATUS", w_note, "NOTE", w_params, "PARAMS",
           "METRICS");
    for (size_t i = 0; i < n; i++) {
        const hone_trial_t *t = hone_trial_list_at(list, i);
        char metrics[2048];
        hone_cli_trial_cell(t, false, cell, sizeof cell);
        hone_cli_trial_cell(t, true, metrics, sizeof metrics);
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
        hone_cli_print_curves(t);
    }
    hone_trial_list_destroy(&list);
    return status;
}

int hone_cli_cmd_best(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c)
{
    hone_best_t *best = NULL;
    int rc = hone_client_best(c, o->pos[0], &best);
    if (rc != HONE_OK)
        return hone_cli_client_error(cmd->name, rc, c);
    int status = 0;
    if (o->json) {
        status = hone_cli_print_json(cmd->name, hone_json_line_best(best));
    } else {
        char value[128];
        hone_cli_format_metric(hone_best_value(best), hone_best_sem(best), value, sizeof value);
        const char *source = hone_best_source(best);
        printf("best trial %" PRIu64 ": %s = %s (%s%s)\n", hone_best_trial_index(best), hone_best_metric(best),
               value, hone_best_minimize(best) ? "minimized" : "maximized",
               streq(source, "model") ? ", model prediction" : streq(source, "raw") ? ", observed" : "");
        const hone_trial_t *t = hone_best_trial(best);
        for (size_t i = 0; i < hone_trial_param_count(t); i++) {
            char v[1024];
            hone_cli_format_param(t, i, v, sizeof v);
            printf("  %s = %s\n", hone_trial_param_name(t, i), v);
        }
    }
    hone_best_destroy(&best);
    return status;
}

/* Gathers the points of every --params (JSON, or @FILE holding JSON) in order. */
int hone_cli_parse_points(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_json_points_t *points)
{
    if (o->n_params == 0)
        return hone_cli_usage_error(cmd->name, "%s", "give the points with --params '{\"x1\": 0.5, ...}'");
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
            return hone_cli_usage_error(cmd->name, "invalid --params: %s", why);
        if (rc != HONE_OK)
            return hone_cli_error(cmd->name, rc, NULL);
    }
    if (points->n > 1000) {
        char count[32];
        snprintf(count, sizeof count, "%zu", points->n);
        return hone_cli_usage_error(cmd->name, "give at most 1000 points, not %s", count);
    }
    return 0;
}

int hone_cli_cmd_predict(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c)
{
    hone_json_points_t points;
    memset(&points, 0, sizeof points);
    int status = hone_cli_parse_points(cmd, o, &points);
    hone_prediction_t *prediction = NULL;
    int rc = status == 0 ? hone_client_predict_metric(c, o->pos[0], o->metric, points.points, &prediction) : HONE_OK;
    if (status == 0 && rc != HONE_OK)
        status = hone_cli_client_error(cmd->name, rc, c);
    size_t n = hone_prediction_count(prediction);
    if (status == 0 && o->json) {
        for (size_t i = 0; i < n && status == 0; i++)
            status = hone_cli_print_json(cmd->name, hone_json_line_prediction(prediction, i, points.params[i]));
    } else if (status == 0) {
        int w_params = 6;
        for (size_t i = 0; i < n; i++) {
            int len = (int) strlen(points.cells[i]);
            w_params = len > w_params ? len : w_params;
        }
        printf("%-5s  %-*s  %s\n", "POINT", w_params, "PARAMS", "PREDICTION (mean±sem)");
        for (size_t i = 0; i < n; i++) {
            char value[128];
            hone_cli_format_metric(hone_prediction_mean(prediction, i), hone_prediction_sem(prediction, i), value,
                            sizeof value);
            printf("%-5zu  %-*s  %s=%s\n", i, w_params, points.cells[i], hone_prediction_metric(prediction), value);
        }
    }
    hone_prediction_destroy(&prediction);
    hone_json_line_points_clear(&points);
    return status;
}
