/* cli_goals.c: the `hone` commands about several goals: pareto (the Pareto frontier of a
 * multi-objective experiment) and baseline (the status quo trial that relative
 * constraints are measured against). */
#include "err.h"
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The frontier as a table: TRIAL, each objective's value ± sem, CONTRIBUTION; then the
 * reference point and the hypervolume. */
static void s_print_pareto(const hone_pareto_t *p)
{
    size_t m = hone_pareto_objective_count(p), n = hone_pareto_count(p);
    int *width = calloc(m ? m : 1, sizeof *width);
    if (!width)
        return;
    char cell[128];
    for (size_t k = 0; k < m; k++) {
        snprintf(cell, sizeof cell, "%s (%s)", hone_pareto_objective(p, k), hone_pareto_minimize(p, k) ? "min" : "max");
        width[k] = (int) strlen(cell);
        for (size_t i = 0; i < n; i++) {
            hone_cli_format_metric(hone_pareto_value(p, i, k), hone_pareto_sem(p, i, k), cell, sizeof cell);
            int len = (int) strlen(cell);
            width[k] = len > width[k] ? len : width[k];
        }
    }
    printf("%-5s", "TRIAL");
    for (size_t k = 0; k < m; k++) {
        snprintf(cell, sizeof cell, "%s (%s)", hone_pareto_objective(p, k), hone_pareto_minimize(p, k) ? "min" : "max");
        printf("  %-*s", width[k], cell);
    }
    printf("  CONTRIBUTION\n");
    for (size_t i = 0; i < n; i++) {
        printf("%-5" PRIu64, hone_pareto_trial_index(p, i));
        for (size_t k = 0; k < m; k++) {
            hone_cli_format_metric(hone_pareto_value(p, i, k), hone_pareto_sem(p, i, k), cell, sizeof cell);
            printf("  %-*s", width[k], cell);
        }
        printf("  %.6g\n", hone_pareto_contribution(p, i));
    }
    printf("reference point  (");
    for (size_t k = 0; k < m; k++)
        printf("%s%.6g", k ? ", " : "", hone_pareto_ref(p, k));
    printf(")%s\n", hone_pareto_ref_inferred(p) ? ", inferred from the data" : ", from the objective thresholds");
    const char *source = hone_pareto_source(p);
    printf("hypervolume      %.6g (%s)\n", hone_pareto_hypervolume(p),
           streq(source, "model") ? "model predictions" : streq(source, "raw") ? "observed means" : "?");
    free(width);
}

int hone_cli_cmd_pareto(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c)
{
    hone_pareto_t *pareto = NULL;
    int rc = hone_client_pareto(c, o->pos[0], !o->raw, &pareto);
    if (rc != HONE_OK)
        return hone_cli_client_error(cmd->name, rc, c);
    int status = 0;
    if (o->json)
        status = hone_cli_print_json(cmd->name, hone_json_line_pareto(o->pos[0], pareto));
    else
        s_print_pareto(pareto);
    hone_pareto_destroy(&pareto);
    return status;
}

int hone_cli_cmd_baseline(const hone_cli_command_t *cmd, const hone_cli_opts_t *o, hone_client_t *c)
{
    hone_json_points_t points;
    memset(&points, 0, sizeof points);
    int status = hone_cli_parse_points(cmd, o, &points);
    if (status == 0 && points.n != 1) {
        char count[32];
        snprintf(count, sizeof count, "%zu", points.n);
        status = hone_cli_usage_error(cmd->name, "give exactly one point with --params, not %s", count);
    }
    uint64_t trial = 0;
    int rc = status == 0 ? hone_client_attach_baseline(c, o->pos[0], points.points, &trial) : HONE_OK;
    if (status == 0 && rc != HONE_OK)
        status = hone_cli_client_error(cmd->name, rc, c);
    else if (status == 0 && o->json)
        status = hone_cli_print_json(cmd->name, hone_json_line_baseline(o->pos[0], trial));
    else if (status == 0)
        printf("baseline trial %" PRIu64 " (RUNNING): report its readings with 'hone complete %s %" PRIu64
               " METRICS'\n", trial, o->pos[0], trial);
    hone_json_line_points_clear(&points);
    return status;
}
