/* hone-bench-hv: scores runs of the several-goals problems (functions.h: branincurrin,
 * dtlz2, branin_disc) with core/pareto.h, so that hone, random search and Optuna are
 * all measured by the same code (bench/moo.py drives it).
 *
 *   hone-bench-hv PROBLEM
 *       reads the trials of a run on stdin in trial order, one reading a line, as
 *       hone-eval prints it ({"branin": V, "currin": V}); an empty line ends the run
 *       and starts the next. A reading lacking one of the problem's metrics (a failed
 *       trial, or hone-eval --serve's {"error": ..}), with a value that is not a finite
 *       number, or with "feasible": false counts as an infeasible trial. A trial is
 *       feasible when it has every metric and each constraint metric is <= its bound.
 *       Prints one line per trial:
 *         several objectives: {"trial": K, "feasible": B, "hv": H, "front": N}
 *             H: the hypervolume of the feasible trials 1..K against the problem's
 *             reference point (all objectives minimized; a point adds volume only when
 *             strictly below the reference point in every objective); N: the size of
 *             their Pareto front among the points that add volume;
 *         one objective: {"trial": K, "feasible": B, "best": Y}
 *             Y: the smallest objective value among the feasible trials 1..K, null
 *             before the first.
 *   hone-bench-hv --describe PROBLEM
 *       the problem as JSON: Ax parameters, metrics, objective string, objective
 *       thresholds (the reference point as Ax's "metric <= r" strings), outcome
 *       constraints, reference point, max hypervolume or optimum, source.
 *   hone-bench-hv --list
 *       the problem names, one a line.
 *
 * Exit status 1 on input that is not a JSON object, 2 on usage errors. */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "functions.h"
#include "pareto.h"

static int s_usage(FILE *out, int code)
{
    fprintf(out, "usage: hone-bench-hv PROBLEM < readings   (an empty line between runs)\n"
                 "       hone-bench-hv --describe PROBLEM | --list\n");
    return code;
}

static void s_print(json_t *value)
{
    HONE_ASSERT(value);
    char *line = json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    puts(line);
    free(line);
    json_decref(value);
}

/* "18" for 18.0, "1.1" for 1.1: bounds as a user would write them in Ax's strings. */
static void s_number(char *buf, size_t len, double v)
{
    snprintf(buf, len, "%.15g", v);
}

static json_t *s_describe(const hone_bench_moo_t *p)
{
    json_t *params = json_array(), *metrics = json_array(), *objectives = json_array();
    json_t *thresholds = json_array(), *constraints = json_array(), *ref = json_array();
    char objective[256] = "", text[128], num[32];
    for (size_t k = 0; k < p->dim; k++) {
        char name[32];
        snprintf(name, sizeof name, "x%zu", k + 1);
        json_array_append_new(params, json_pack("{s:s, s:[f,f], s:s}", "name", name, "bounds", p->lower[k],
                                                p->upper[k], "parameter_type", "float"));
    }
    for (size_t j = 0; j < p->n_metrics; j++) {
        json_array_append_new(metrics, json_string(p->metrics[j]));
        if (j < p->n_obj) {
            json_array_append_new(objectives, json_string(p->metrics[j]));
            size_t used = strlen(objective);
            snprintf(objective + used, sizeof objective - used, "%s-%s", j ? ", " : "", p->metrics[j]);
            if (p->n_obj >= 2) {
                s_number(num, sizeof num, p->ref[j]);
                snprintf(text, sizeof text, "%s <= %s", p->metrics[j], num);
                json_array_append_new(thresholds, json_string(text));
                json_array_append_new(ref, json_real(p->ref[j]));
            }
        } else {
            s_number(num, sizeof num, p->bound[j]);
            snprintf(text, sizeof text, "%s <= %s", p->metrics[j], num);
            json_array_append_new(constraints, json_string(text));
        }
    }
    json_t *d = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:s, s:o, s:o}", "problem", p->name, "source", p->source,
                          "dim", (json_int_t) p->dim, "parameters", params, "metrics", metrics, "objectives",
                          objectives, "objective", objective, "objective_thresholds", thresholds,
                          "outcome_constraints", constraints);
    HONE_ASSERT(d);
    if (p->n_obj >= 2) {
        json_object_set_new(d, "ref_point", ref);
        json_object_set_new(d, "max_hv", json_real(p->max_hv));
    } else {
        json_decref(ref);
        json_object_set_new(d, "optimum", json_real(p->optimum));
    }
    return d;
}

/* The objective values of one reading (minimized), and whether it is feasible. */
static bool s_read_trial(const hone_bench_moo_t *p, const json_t *reading, double *obj)
{
    const json_t *flag = json_object_get(reading, "feasible");
    bool feasible = !(flag && json_is_false(flag));
    for (size_t j = 0; j < p->n_metrics; j++) {
        const json_t *v = json_object_get(reading, p->metrics[j]);
        double y = json_is_number(v) ? json_number_value(v) : NAN;
        if (!isfinite(y))
            feasible = false;
        else if (j < p->n_obj)
            obj[j] = y;
        else if (!(y <= p->bound[j]))
            feasible = false;
    }
    return feasible;
}

static bool s_blank(const char *line)
{
    for (; *line; line++)
        if (*line != ' ' && *line != '\t' && *line != '\r' && *line != '\n')
            return false;
    return true;
}

static int s_score(const hone_bench_moo_t *p)
{
    const size_t m = p->n_obj;
    size_t n = 0, cap = 64, trial = 0;
    double *y = malloc(cap * m * sizeof *y);            /* feasible points, maximization form */
    size_t *idx = malloc(cap * sizeof *idx);
    double ref[HONE_BENCH_MOO_MAX_METRICS], best = INFINITY;
    HONE_ASSERT(y && idx);
    for (size_t j = 0; j < m; j++)
        ref[j] = -p->ref[j];
    char *buf = NULL;
    size_t bufcap = 0;
    int rc = 0;
    while (getline(&buf, &bufcap, stdin) > 0) {
        if (s_blank(buf)) {
            n = 0, trial = 0, best = INFINITY;
            continue;
        }
        json_error_t jerr;
        json_t *reading = json_loads(buf, 0, &jerr);
        if (!json_is_object(reading)) {
            fprintf(stderr, "hone-bench-hv: trial %zu: not a JSON object: %s", trial + 1, buf);
            json_decref(reading);
            rc = 1;
            break;
        }
        double obj[HONE_BENCH_MOO_MAX_METRICS];
        bool feasible = s_read_trial(p, reading, obj);
        json_decref(reading);
        trial++;
        if (m == 1) {
            if (feasible && obj[0] < best)
                best = obj[0];
            s_print(json_pack("{s:I, s:b, s:o}", "trial", (json_int_t) trial, "feasible", feasible, "best",
                              isfinite(best) ? json_real(best) : json_null()));
            continue;
        }
        if (feasible) {
            if (n == cap) {
                cap *= 2;
                y = realloc(y, cap * m * sizeof *y);
                idx = realloc(idx, cap * sizeof *idx);
                HONE_ASSERT(y && idx);
            }
            for (size_t j = 0; j < m; j++)
                y[n * m + j] = -obj[j];
            n++;
        }
        double hv = hone_pareto_hypervolume(y, n, m, ref);
        size_t front = hone_pareto_front(y, n, m, ref, false, idx);
        s_print(json_pack("{s:I, s:b, s:f, s:I}", "trial", (json_int_t) trial, "feasible", feasible, "hv", hv,
                          "front", (json_int_t) front));
    }
    fflush(stdout);
    free(buf);
    free(y);
    free(idx);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h")))
        return s_usage(stdout, 0);
    if (argc == 2 && streq(argv[1], "--list")) {
        for (size_t i = 0; hone_bench_moo_at(i); i++)
            puts(hone_bench_moo_at(i)->name);
        return 0;
    }
    bool describe = argc == 3 && streq(argv[1], "--describe");
    if (!describe && argc != 2)
        return s_usage(stderr, 2);
    const char *name = argv[argc - 1];
    const hone_bench_moo_t *p = hone_bench_moo_find(name);
    if (!p) {
        fprintf(stderr, "hone-bench-hv: unknown problem '%s' (see --list)\n", name);
        return 2;
    }
    if (describe) {
        s_print(s_describe(p));
        return 0;
    }
    return s_score(p);
}
