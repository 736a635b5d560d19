/* bench_goals.c: hone-bench-quality's several-goals problems (bench_goals.h).
 *
 * The experiment is what `hone-bench-hv --describe P` prints: parameters x1..xd on the
 * problem's box, every objective minimized ("-branin, -currin"), the reference point as
 * objective thresholds ("branin <= 18"), the constraint metrics as outcome constraints
 * ("disc <= 50"). A run generates one trial at a time, evaluates it with the problem's
 * function, attaches every metric and completes it, until the budget is spent; it
 * prints each trial's point and readings, and bench/moo.py scores the points itself. */
#include "bench_goals.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "experiment.h"
#include "functions.h"

/* The problems this runner takes, with issue 6's budgets (bench/moo.py's BUDGETS). */
static const struct {
    const char *name;
    uint32_t budget;
} s_goals[] = {
    { "branincurrin", 30 },
    { "dtlz2", 50 },
    { "branin_disc", 30 },
};

bool bench_goals_has(const char *problem)
{
    for (size_t i = 0; i < HONE_ARRAY_LEN(s_goals); i++)
        if (streq(s_goals[i].name, problem))
            return true;
    return false;
}

void bench_goals_list(void)
{
    for (size_t i = 0; i < HONE_ARRAY_LEN(s_goals); i++)
        puts(s_goals[i].name);
}

static void s_print_line(json_t *line)
{
    HONE_ASSERT(line);   /* json_pack refuses NaN: the problems are finite on their box */
    /* 17 digits: moo.py evaluates the points again and compares the readings. */
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    puts(text);
    fflush(stdout);
    free(text);
    json_decref(line);
}

/* "metric <= bound", the bound as a user would write it ("18", "1.1"), as hone-bench-hv. */
static json_t *s_bound(const char *metric, double bound)
{
    char text[128];
    snprintf(text, sizeof text, "%s <= %.15g", metric, bound);
    return json_string(text);
}

static char *s_config(const hone_bench_moo_t *p, const char *method, uint64_t seed, uint32_t budget)
{
    json_t *params = json_array(), *thresholds = json_array(), *constraints = json_array();
    char objective[256] = "";
    for (size_t k = 0; k < p->dim; k++) {
        char name[32];
        snprintf(name, sizeof name, "x%zu", k + 1);
        json_array_append_new(params, json_pack("{s:s, s:[f,f], s:s}", "name", name, "bounds", p->lower[k],
                                                p->upper[k], "parameter_type", "float"));
    }
    for (size_t j = 0; j < p->n_metrics; j++) {
        if (j < p->n_obj) {
            size_t used = strlen(objective);
            snprintf(objective + used, sizeof objective - used, "%s-%s", j ? ", " : "", p->metrics[j]);
            if (p->n_obj >= 2)
                json_array_append_new(thresholds, s_bound(p->metrics[j], p->ref[j]));
        } else {
            json_array_append_new(constraints, s_bound(p->metrics[j], p->bound[j]));
        }
    }
    json_t *config = json_pack("{s:s, s:o, s:s, s:{s:s, s:I}, s:I}", "name", p->name, "parameters", params,
                               "objective", objective, "generation_strategy", "method", method,
                               "initialization_random_seed", (json_int_t) seed, "max_trials", (json_int_t) budget);
    HONE_ASSERT(config);
    /* Only the goals the problem has: a single objective takes no thresholds. */
    if (json_array_size(thresholds))
        json_object_set(config, "objective_thresholds", thresholds);
    if (json_array_size(constraints))
        json_object_set(config, "outcome_constraints", constraints);
    json_decref(thresholds);
    json_decref(constraints);
    char *text = json_dumps(config, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    HONE_ASSERT(text);
    json_decref(config);
    return text;
}

/* The trial's coordinates x1..xd, from its parameterization in the space's order. */
static int s_point(const hone_bench_moo_t *p, const hone_space_t *space, const hone_trial_t *trial, double *x)
{
    for (size_t k = 0; k < p->dim; k++) {
        char name[32];
        snprintf(name, sizeof name, "x%zu", k + 1);
        int at = hone_space_find(space, name);
        if (at < 0)
            return -1;
        x[k] = hone_value_as_double(&trial->params[at]);
    }
    return 0;
}

static int s_run(const hone_bench_moo_t *p, const char *method, uint64_t seed, uint32_t budget)
{
    char label[64];
    snprintf(label, sizeof label, "hone/%s", method);
    hone_experiment_t *exp = NULL;
    hone_error_t err = { 0 };
    char *config = s_config(p, method, seed, budget);
    int rc = hone_experiment_from_json(&exp, config, strlen(config), seed, &err);
    free(config);
    if (rc != HONE_OK) {
        /* A goal the core does not take yet is a row of the table, not a failed run. */
        if (strstr(err.message, "not supported")) {
            s_print_line(json_pack("{s:s, s:s, s:I, s:I, s:s}", "problem", p->name, "method", label, "seed",
                                   (json_int_t) seed, "budget", (json_int_t) budget, "unsupported", err.message));
            return 0;
        }
        fprintf(stderr, "hone-bench-quality: %s: config refused: %s\n", p->name, err.message);
        return 1;
    }

    const hone_space_t *space = hone_experiment_space(exp);
    json_t *params = json_array(), *readings = json_array(), *generated = json_array(), *gen_ms = json_array();
    const char *stopped = NULL;
    for (uint32_t done = 0; done < budget; done++) {
        uint32_t index = 0, n = 0;
        int64_t t0 = hone_clock_mono_us();
        rc = hone_experiment_generate(exp, 1, &index, &n, &err);
        int64_t gen_us = hone_clock_mono_us() - t0;
        if (rc == HONE_EDONE || rc == HONE_EEXHAUSTED) {
            stopped = hone_err_name(rc);
            break;
        }
        if (rc != HONE_OK || n != 1) {
            fprintf(stderr, "hone-bench-quality: %s seed %llu: generate: %s (%s)\n", p->name,
                    (unsigned long long) seed, err.message, hone_err_name(rc));
            goto fail;
        }
        const hone_trial_t *trial = hone_experiment_trial(exp, index);
        double x[HONE_BENCH_MOO_MAX_DIM], y[HONE_BENCH_MOO_MAX_METRICS];
        if (s_point(p, space, trial, x) != 0) {
            fprintf(stderr, "hone-bench-quality: trial %u: unexpected parameterization\n", index);
            goto fail;
        }
        /* Kept before attach and mark: they may move the trial (a borrowed pointer). */
        json_array_append_new(generated, trial->note ? json_string(trial->note) : json_null());
        p->fn(x, p->dim, y);
        hone_reading_in_t in[HONE_BENCH_MOO_MAX_METRICS];
        json_t *point = json_object(), *reading = json_object();
        for (size_t k = 0; k < p->dim; k++) {
            char name[32];
            snprintf(name, sizeof name, "x%zu", k + 1);
            json_object_set_new(point, name, json_real(x[k]));
        }
        for (size_t j = 0; j < p->n_metrics; j++) {
            in[j] = (hone_reading_in_t) { .metric = p->metrics[j], .mean = y[j], .sem = NAN };
            json_object_set_new(reading, p->metrics[j], json_real(y[j]));
        }
        json_array_append_new(params, point);
        json_array_append_new(readings, reading);
        json_array_append_new(gen_ms, json_real((double) gen_us / 1000.0));
        rc = hone_experiment_attach(exp, index, in, p->n_metrics, false, 0, true, &err);
        if (rc == HONE_OK)
            rc = hone_experiment_mark(exp, index, HONE_TRIAL_COMPLETED, NULL, &err);
        if (rc != HONE_OK) {
            fprintf(stderr, "hone-bench-quality: trial %u: %s\n", index, err.message);
            goto fail;
        }
    }

    const char *note = hone_experiment_note(exp);
    json_t *line = json_pack("{s:s, s:s, s:I, s:I, s:s, s:o, s:o, s:o, s:o, s:o}", "problem", p->name, "method",
                             label, "seed", (json_int_t) seed, "budget", (json_int_t) budget, "hone_method",
                             hone_experiment_method(exp), "params", params, "readings", readings, "gen_ms", gen_ms,
                             "generated", generated, "note", note ? json_string(note) : json_null());
    if (stopped)
        json_object_set_new(line, "stopped", json_string(stopped));
    s_print_line(line);
    hone_experiment_destroy(&exp);
    return 0;

fail:
    json_decref(params);
    json_decref(readings);
    json_decref(generated);
    json_decref(gen_ms);
    hone_experiment_destroy(&exp);
    return 1;
}

int bench_goals_main(const char *mode, const char *problem, const char *method, bool have_seed, uint64_t seed,
                     uint32_t budget)
{
    const hone_bench_moo_t *p = hone_bench_moo_find(problem);
    HONE_ASSERT(p && bench_goals_has(problem) && p->dim <= HONE_BENCH_MOO_MAX_DIM);
    if (budget == 0) {
        for (size_t i = 0; i < HONE_ARRAY_LEN(s_goals); i++)
            if (streq(s_goals[i].name, problem))
                budget = s_goals[i].budget;
    }
    if (streq(mode, "config")) {
        char *config = s_config(p, method, seed, budget);
        puts(config);
        free(config);
        return 0;
    }
    if (!streq(mode, "run")) {
        fprintf(stderr, "hone-bench-quality: --%s %s: see hone-bench-hv --describe and hone-eval --serve\n", mode,
                problem);
        return 2;
    }
    if (!have_seed) {
        fprintf(stderr, "hone-bench-quality: --seed is required for a run\n");
        return 2;
    }
    return s_run(p, method, seed, budget);
}
