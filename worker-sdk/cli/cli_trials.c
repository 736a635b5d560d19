/* cli_trials.c: the `hone` commands about one trial: curve, should-stop, next (new
 * trials to run by hand), attach, complete, and fail, abandon and early-stop. */
#include "err.h"
#include "args.h"
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int s_parse_trial(const hone_cli_command_t *cmd, const char *text, uint64_t *out)
{
    int64_t v;
    if (!hone_args_int(text, 0, INT64_MAX, &v))
        return hone_cli_usage_error(cmd->name, "TRIAL must be a trial number, not '%s'", text);
    *out = (uint64_t) v;
    return 0;
}

/* Parses a METRICS argument; a usage error when it is not a valid reading. */
static int s_parse_metrics(const hone_cli_command_t *cmd, const char *text, bool allow_step, hone_json_reading_t *out)
{
    char why[256];
    int rc = hone_json_line_parse_reading(text, strlen(text), allow_step, out, why, sizeof why);
    if (rc == HONE_ENOTFOUND)
        return hone_cli_usage_error(cmd->name, "METRICS must be a JSON object such as '{\"loss\": 0.3}', not '%s'",
                                    text);
    if (rc == HONE_EINVAL)
        return hone_cli_usage_error(cmd->name, "invalid METRICS: %s", why);
    if (rc != HONE_OK)
        return hone_cli_error(cmd->name, rc, NULL);
    return 0;
}

int hone_cli_cmd_curve(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c)
{
    uint64_t index = 0;
    int status = s_parse_trial(cmd, o->pos[1], &index);
    if (status != 0)
        return status;
    hone_trial_t *t = NULL;
    int rc = hone_client_trial(c, o->pos[0], index, true, &t);
    if (rc != HONE_OK)
        return hone_cli_client_error(cmd->name, rc, c);
    if (o->json) {
        status = hone_cli_print_json(cmd->name, hone_json_line_trial(t, true));
    } else {
        printf("trial %" PRIu64 "  %s", hone_trial_index(t), hone_trial_status(t));
        if (*hone_trial_reason(t))
            printf("  (%s)", hone_trial_reason(t));
        printf("\n");
        if (hone_trial_curve_count(t) == 0)
            printf("  (no reading with a progression)\n");
        hone_cli_print_curves(t);
    }
    hone_trial_destroy(&t);
    return status;
}

int hone_cli_cmd_should_stop(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c)
{
    uint64_t index = 0;
    int status = s_parse_trial(cmd, o->pos[1], &index);
    if (status != 0)
        return status;
    bool stop = false;
    char *reason = NULL;
    int rc = hone_client_should_stop(c, o->pos[0], index, &stop, &reason);
    if (rc != HONE_OK)
        return hone_cli_client_error(cmd->name, rc, c);
    if (o->json)
        status = hone_cli_print_json(cmd->name, hone_json_line_should_stop(o->pos[0], index, stop, reason));
    else
        printf("%s: %s\n", stop ? "stop" : "continue", reason);
    hone_strfree(reason);
    return status;
}

int hone_cli_cmd_next(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c)
{
    int64_t count = 1;
    if (o->count && !hone_args_int(o->count, 1, 1000, &count))
        return hone_cli_usage_error(cmd->name, "-n must be a number from 1 to 1000, not '%s'", o->count);
    hone_trial_list_t *list = NULL;
    int rc = hone_client_next_trials(c, o->pos[0], (uint32_t) count, &list);
    if (rc != HONE_OK)
        return hone_cli_client_error(cmd->name, rc, c);
    int status = 0;
    for (size_t i = 0; i < hone_trial_list_count(list) && status == 0; i++)
        status = hone_cli_print_json(cmd->name, hone_json_line_trial(hone_trial_list_at(list, i), false));
    hone_trial_list_destroy(&list);
    return status;
}

int hone_cli_cmd_attach(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c)
{
    uint64_t trial = 0;
    int status = s_parse_trial(cmd, o->pos[1], &trial);
    int64_t progression = 0;
    if (status == 0 && o->progression && !hone_args_int(o->progression, INT64_MIN, INT64_MAX, &progression))
        status = hone_cli_usage_error(cmd->name, "--progression must be an integer, not '%s'", o->progression);
    hone_json_reading_t r;
    memset(&r, 0, sizeof r);
    if (status == 0)
        status = s_parse_metrics(cmd, o->pos[2], true, &r);
    if (status == 0 && r.n == 0)
        status = hone_cli_usage_error(cmd->name, "METRICS must name at least one metric, as in '%s'",
                                      "{\"loss\": 0.3}");
    if (status == 0 && r.has_step && o->progression)
        status = hone_cli_usage_error(cmd->name, "%s",
                                      "give the progression once: \"step\" in METRICS or --progression");
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
        status = hone_cli_client_error(cmd->name, rc, c);
    else if (o->json)
        status = hone_cli_print_json(cmd->name,
                                     hone_json_line_attached(o->pos[0], trial, &r, has_progression, progression));
    else
        printf("attached %zu reading%s to trial %" PRIu64 " of '%s'\n", r.n, r.n == 1 ? "" : "s", trial, o->pos[0]);
    hone_json_line_reading_clear(&r);
    return status;
}

static int s_print_marked(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, uint64_t trial,
                          const char *status_name)
{
    if (o->json)
        return hone_cli_print_json(cmd->name, hone_json_line_marked(o->pos[0], trial, status_name));
    printf("trial %" PRIu64 " of '%s' is %s\n", trial, o->pos[0], status_name);
    return 0;
}

int hone_cli_cmd_complete(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c)
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
        return hone_cli_client_error(cmd->name, rc, c);
    return s_print_marked(cmd, o, trial, "COMPLETED");
}

/* fail, abandon, early-stop */
int hone_cli_cmd_mark(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c)
{
    uint64_t trial = 0;
    int status = s_parse_trial(cmd, o->pos[1], &trial);
    if (status != 0)
        return status;
    const char *status_name = streq(cmd->name, "fail") ? "FAILED"
                              : streq(cmd->name, "abandon") ? "ABANDONED" : "EARLY_STOPPED";
    int rc = hone_client_mark(c, o->pos[0], trial, status_name, o->reason);
    if (rc != HONE_OK)
        return hone_cli_client_error(cmd->name, rc, c);
    return s_print_marked(cmd, o, trial, status_name);
}
