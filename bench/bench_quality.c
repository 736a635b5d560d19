/* hone-bench-quality: the optimization-quality benchmark, hone's side.
 *
 *   hone-bench-quality --problem P --method fast|random_search --seed S [--budget N]
 *       runs hone in-process through the core API, sequentially (generate one trial,
 *       evaluate it, attach its reading and complete it) until the budget is spent,
 *       and prints one JSON line: the best value after each trial and the time taken
 *       by each generation.
 *   hone-bench-quality --describe P     the problem as JSON: Ax parameters, budget,
 *                                        optimum, constraints (read by optuna_quality.py)
 *   hone-bench-quality --config P [--method M] [--seed S] [--budget N]
 *                                        the experiment config (for `hone create`)
 *   hone-bench-quality --serve P        evaluates parameterizations read from stdin,
 *                                        one JSON object a line, and prints
 *                                        {"value": V, "feasible": B, "violation": C}
 *                                        for each (C: constraint lhs - rhs, <= 0 when
 *                                        feasible), so that every optimizer is scored
 *                                        by this same code
 *   hone-bench-quality --list           the problem names, one a line
 *
 * bench/quality.py drives it; bench/README.md explains the output. The several-goals
 * problems (branincurrin, dtlz2, branin_disc), which bench/moo.py drives, take
 * --problem and --config and are run by bench_goals.c. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_goals.h"
#include "clock.h"
#include "experiment.h"
#include "functions.h"

#define S_MAX_DIM 16

typedef enum { S_FLOAT, S_INT, S_CHOICE } s_kind_t;

/* One parameter of a problem, in the order the function takes its coordinates. */
typedef struct {
    char name[32];
    s_kind_t kind;
    double lower, upper;        /* S_FLOAT, S_INT */
    bool log_scale;             /* S_FLOAT */
    const char *const *choices; /* S_CHOICE: the values; a coordinate is the index */
    size_t n_choices;
} s_param_t;

/* A benchmark problem: a function of functions.c in some dimension, with a budget. */
typedef struct {
    const char *name;           /* also the experiment and metric name */
    const char *function;       /* hone_bench_find name */
    size_t dim;
    uint32_t budget;
    double lower, upper;        /* box replacing the function's, when lower < upper */
} s_problem_t;

/* Ackley's usual box [-32.768, 32.768]^d is centred on its optimum, which every
 * strategy that starts at the center (hone's and Ax's) would find with its first trial;
 * the box is shifted so that the first trial tells nothing. */
static const s_problem_t s_problems[] = {
    { "branin", "branin", 2, 40, 0, 0 },
    { "hartmann6", "hartmann6", 6, 50, 0, 0 },
    { "rosenbrock10", "rosenbrock", 10, 50, 0, 0 },
    { "ackley5", "ackley", 5, 50, -10.0, 30.0 },
    { "training", "training", 4, 40, 0, 0 },
    { "branin_constrained", "branin_constrained", 2, 40, 0, 0 },
};

typedef struct {
    const s_problem_t *problem;
    const hone_bench_problem_t *fn;
    s_param_t params[S_MAX_DIM];
} s_bench_t;

static int s_setup(s_bench_t *b, const char *name)
{
    memset(b, 0, sizeof *b);
    for (size_t i = 0; i < HONE_ARRAY_LEN(s_problems); i++)
        if (streq(s_problems[i].name, name))
            b->problem = &s_problems[i];
    if (!b->problem) {
        fprintf(stderr, "hone-bench-quality: unknown problem '%s' (see --list)\n", name);
        return -1;
    }
    b->fn = hone_bench_find(b->problem->function);
    HONE_ASSERT(b->fn && b->problem->dim <= S_MAX_DIM);
    for (size_t i = 0; i < b->problem->dim; i++) {
        s_param_t *p = &b->params[i];
        snprintf(p->name, sizeof p->name, "x%u", (unsigned) (i + 1));
        p->kind = S_FLOAT;
        bool own_box = b->problem->lower < b->problem->upper;
        p->lower = own_box ? b->problem->lower : b->fn->lower;
        p->upper = own_box ? b->problem->upper : b->fn->upper;
    }
    if (streq(b->fn->name, "branin") || streq(b->fn->name, "branin_constrained")) {
        b->params[0].lower = -5.0, b->params[0].upper = 10.0;
        b->params[1].lower = 0.0, b->params[1].upper = 15.0;
    } else if (streq(b->fn->name, "training")) {
        b->params[0] = (s_param_t) { .name = "learning_rate", .kind = S_FLOAT, .lower = 1e-5, .upper = 1e-1,
                                     .log_scale = true };
        b->params[1] = (s_param_t) { .name = "layers", .kind = S_INT, .lower = 1, .upper = 8 };
        b->params[2] = (s_param_t) { .name = "dropout", .kind = S_FLOAT, .lower = 0.0, .upper = 0.5 };
        b->params[3] = (s_param_t) { .name = "optimizer", .kind = S_CHOICE,
                                     .choices = hone_bench_training_optimizer_names,
                                     .n_choices = HONE_BENCH_TRAINING_OPTIMIZERS };
    }
    return 0;
}

/* Ax's parameter configs. */
static json_t *s_parameters_json(const s_bench_t *b)
{
    json_t *list = json_array();
    for (size_t i = 0; i < b->problem->dim; i++) {
        const s_param_t *p = &b->params[i];
        json_t *o;
        if (p->kind == S_CHOICE) {
            json_t *values = json_array();
            for (size_t k = 0; k < p->n_choices; k++)
                json_array_append_new(values, json_string(p->choices[k]));
            o = json_pack("{s:s, s:o, s:s, s:b}", "name", p->name, "values", values, "parameter_type", "str",
                          "is_ordered", 0);
        } else if (p->kind == S_INT) {
            o = json_pack("{s:s, s:[I,I], s:s}", "name", p->name, "bounds", (json_int_t) p->lower,
                          (json_int_t) p->upper, "parameter_type", "int");
        } else {
            o = json_pack("{s:s, s:[f,f], s:s, s:s}", "name", p->name, "bounds", p->lower, p->upper,
                          "parameter_type", "float", "scaling", p->log_scale ? "log" : "linear");
        }
        json_array_append_new(list, o);
    }
    return list;
}

static char *s_config(const s_bench_t *b, const char *method, uint64_t seed, uint32_t budget,
                      bool with_constraint)
{
    char objective[64];
    snprintf(objective, sizeof objective, "-%s", b->problem->name);
    json_t *constraints = json_array();
    if (with_constraint && b->fn->constraint)
        json_array_append_new(constraints, json_string(b->fn->constraint));
    /* Variants of method fast, to compare with the default: "fast-rbf" with the RBF kernel
     * (Ax's), "fast-logei" and "fast-qlognei" with one acquisition throughout (bo.h),
     * "fast-nowarp" without output warping (warp.h), "fast-prefetch" with a prefetch queue of
     * 4 candidates (only the broker uses it: the async runs). */
    bool rbf = streq(method, "fast-rbf"), logei = streq(method, "fast-logei");
    bool qlognei = streq(method, "fast-qlognei"), nowarp = streq(method, "fast-nowarp");
    bool prefetch = streq(method, "fast-prefetch");
    json_t *config = json_pack("{s:s, s:o, s:s, s:o, s:{s:s, s:I}, s:I}", "name", b->problem->name,
                               "parameters", s_parameters_json(b), "objective", objective,
                               "parameter_constraints", constraints, "generation_strategy", "method",
                               rbf || logei || qlognei || nowarp || prefetch ? "fast" : method,
                               "initialization_random_seed", (json_int_t) seed,
                               "max_trials", (json_int_t) budget);
    HONE_ASSERT(config);
    if (rbf)
        json_object_set_new(json_object_get(config, "generation_strategy"), "kernel", json_string("rbf"));
    if (logei || qlognei)
        json_object_set_new(json_object_get(config, "generation_strategy"), "acquisition",
                            json_string(logei ? "logei" : "qlognei"));
    if (nowarp)
        json_object_set_new(json_object_get(config, "generation_strategy"), "output_warping",
                            json_false());
    if (prefetch)
        json_object_set_new(json_object_get(config, "generation_strategy"), "prefetch", json_integer(4));
    char *text = json_dumps(config, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(config);
    return text;
}

static json_t *s_describe(const s_bench_t *b)
{
    json_t *eval_args = json_array();
    for (size_t i = 0; i < b->problem->dim; i++) {
        char arg[80];
        snprintf(arg, sizeof arg, "{%s}", b->params[i].name);
        json_array_append_new(eval_args, json_string(arg));
    }
    json_t *constraints = json_array();
    if (b->fn->constraint)
        json_array_append_new(constraints, json_string(b->fn->constraint));
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:f, s:o, s:o, s:o}", "problem", b->problem->name,
                     "function", b->fn->name, "metric", b->problem->name, "dim", (json_int_t) b->problem->dim,
                     "budget", (json_int_t) b->problem->budget, "optimum", b->fn->optimum,
                     "parameters", s_parameters_json(b), "parameter_constraints", constraints,
                     "eval_args", eval_args);
}

static int s_choice_index(const s_param_t *p, const char *value)
{
    for (size_t k = 0; k < p->n_choices; k++)
        if (streq(p->choices[k], value))
            return (int) k;
    return -1;
}

/* A hone parameterization (in the space's order) as the function's coordinates. */
static int s_point_from_trial(const s_bench_t *b, const hone_space_t *space, const hone_value_t *values,
                              double *x)
{
    for (size_t i = 0; i < b->problem->dim; i++) {
        const s_param_t *p = &b->params[i];
        int at = hone_space_find(space, p->name);
        if (at < 0)
            return -1;
        const hone_value_t *v = &values[at];
        if (p->kind == S_CHOICE) {
            int k = v->type == HONE_TYPE_STR ? s_choice_index(p, v->u.s) : -1;
            if (k < 0)
                return -1;
            x[i] = k;
        } else {
            x[i] = hone_value_as_double(v);
        }
    }
    return 0;
}

/* A JSON parameterization ({"x1": 0.5, "optimizer": "sgd"}) as coordinates. */
static int s_point_from_json(const s_bench_t *b, const json_t *params, double *x)
{
    for (size_t i = 0; i < b->problem->dim; i++) {
        const s_param_t *p = &b->params[i];
        const json_t *v = json_object_get(params, p->name);
        if (p->kind == S_CHOICE) {
            int k = json_is_string(v) ? s_choice_index(p, json_string_value(v)) : -1;
            if (k < 0)
                return -1;
            x[i] = k;
        } else if (json_is_number(v)) {
            x[i] = json_number_value(v);
        } else {
            return -1;
        }
    }
    return 0;
}

/* How far x is from the problem's constraint (<= 0: satisfied; 0 when unconstrained). */
static double s_violation(const s_bench_t *b, const double *x)
{
    return b->fn->violation ? b->fn->violation(x, b->problem->dim) : 0.0;
}

static void s_print_line(json_t *line)
{
    HONE_ASSERT(line);   /* json_pack refuses NaN: every function here is finite */
    char *text = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(16));
    puts(text);
    fflush(stdout);
    free(text);
    json_decref(line);
}

static json_t *s_params_json(const s_bench_t *b, const double *x)
{
    json_t *o = json_object();
    for (size_t i = 0; i < b->problem->dim; i++) {
        const s_param_t *p = &b->params[i];
        if (p->kind == S_CHOICE)
            json_object_set_new(o, p->name, json_string(p->choices[(size_t) x[i]]));
        else if (p->kind == S_INT)
            json_object_set_new(o, p->name, json_integer((json_int_t) x[i]));
        else
            json_object_set_new(o, p->name, json_real(x[i]));
    }
    return o;
}

/* Constraints hone's config parser refuses for now ("not supported yet"). */
static bool s_unsupported(const hone_error_t *err)
{
    return strstr(err->message, "parameter_constraints") && strstr(err->message, "not supported");
}

static int s_run(const s_bench_t *b, const char *method, uint64_t seed, uint32_t budget)
{
    char label[64];
    snprintf(label, sizeof label, "hone/%s", method);
    /* Constraint handling: "native" (hone's config carries it), "rejection" (hone
     * generates over the box, the benchmark abandons infeasible trials: they do not
     * count against the budget), or none. */
    const char *handling = b->fn->constraint ? "native" : NULL;
    hone_experiment_t *exp = NULL;
    hone_error_t err = { 0 };
    char *config = s_config(b, method, seed, budget, true);
    int rc = hone_experiment_from_json(&exp, config, strlen(config), seed, &err);
    free(config);
    if (rc != HONE_OK && b->fn->constraint && s_unsupported(&err)) {
        if (!streq(method, "random_search")) {
            s_print_line(json_pack("{s:s, s:s, s:I, s:I, s:s}", "problem", b->problem->name, "method", label,
                                   "seed", (json_int_t) seed, "budget", (json_int_t) budget, "unsupported",
                                   err.message));
            return 0;
        }
        handling = "rejection";
        config = s_config(b, method, seed, budget, false);
        rc = hone_experiment_from_json(&exp, config, strlen(config), seed, &err);
        free(config);
    }
    if (rc != HONE_OK) {
        fprintf(stderr, "hone-bench-quality: %s: config refused: %s\n", b->problem->name, err.message);
        return 1;
    }

    const hone_space_t *space = hone_experiment_space(exp);
    json_t *best = json_array(), *values = json_array(), *gen_ms = json_array();
    double x[S_MAX_DIM], best_x[S_MAX_DIM] = { 0 };
    double best_y = INFINITY, gen_total_ms = 0.0;
    int64_t gen_us = 0;
    uint64_t rejected = 0, violations = 0;
    const char *stopped = NULL;
    uint32_t done = 0;
    while (done < budget) {
        uint32_t index = 0, n = 0;
        int64_t t0 = hone_clock_mono_us();
        rc = hone_experiment_generate(exp, 1, &index, &n, &err);
        gen_us += hone_clock_mono_us() - t0;
        if (rc == HONE_EDONE || rc == HONE_EEXHAUSTED) {
            stopped = hone_err_name(rc);
            break;
        }
        if (rc != HONE_OK || n != 1) {
            fprintf(stderr, "hone-bench-quality: %s seed %llu: generate: %s (%s)\n", b->problem->name,
                    (unsigned long long) seed, err.message, hone_err_name(rc));
            goto fail;
        }
        const hone_trial_t *trial = hone_experiment_trial(exp, index);
        if (s_point_from_trial(b, space, trial->params, x) != 0) {
            fprintf(stderr, "hone-bench-quality: trial %u: unexpected parameterization\n", index);
            goto fail;
        }
        if (s_violation(b, x) > 0.0) {
            /* Rejection for random search; with native handling, a violation is a bug
             * in hone worth reporting, and the point is not scored either. */
            if (streq(handling, "native"))
                violations++;
            rejected++;
            if (hone_experiment_mark(exp, index, HONE_TRIAL_ABANDONED, "infeasible", &err) != HONE_OK) {
                fprintf(stderr, "hone-bench-quality: abandon: %s\n", err.message);
                goto fail;
            }
            if (rejected > 10000u * budget) {
                fprintf(stderr, "hone-bench-quality: %s: no feasible point in %llu tries\n", b->problem->name,
                        (unsigned long long) rejected);
                goto fail;
            }
            continue;
        }
        double y = b->fn->fn(x, b->problem->dim);
        hone_reading_in_t reading = { .metric = b->problem->name, .mean = y, .sem = NAN };
        rc = hone_experiment_attach(exp, index, &reading, 1, false, 0, true, &err);
        if (rc == HONE_OK)
            rc = hone_experiment_mark(exp, index, HONE_TRIAL_COMPLETED, NULL, &err);
        if (rc != HONE_OK) {
            fprintf(stderr, "hone-bench-quality: trial %u: %s\n", index, err.message);
            goto fail;
        }
        if (y < best_y) {
            best_y = y;
            memcpy(best_x, x, sizeof x);
        }
        json_array_append_new(values, json_real(y));
        json_array_append_new(best, json_real(best_y));
        json_array_append_new(gen_ms, json_real((double) gen_us / 1000.0));
        gen_total_ms += (double) gen_us / 1000.0;
        gen_us = 0;
        done++;
    }

    const char *note = hone_experiment_note(exp);
    json_t *line = json_pack("{s:s, s:s, s:I, s:I, s:f, s:s, s:o, s:o, s:o, s:f, s:o}", "problem",
                             b->problem->name, "method", label, "seed", (json_int_t) seed, "budget",
                             (json_int_t) budget, "optimum", b->fn->optimum, "hone_method",
                             hone_experiment_method(exp), "best", best, "values", values, "gen_ms", gen_ms,
                             "gen_ms_total", gen_total_ms, "note", note ? json_string(note) : json_null());
    if (done > 0)
        json_object_set_new(line, "best_params", s_params_json(b, best_x));
    if (handling) {
        json_object_set_new(line, "constraint_handling", json_string(handling));
        json_object_set_new(line, "rejected", json_integer((json_int_t) rejected));
        json_object_set_new(line, "violations", json_integer((json_int_t) violations));
    }
    if (stopped)
        json_object_set_new(line, "stopped", json_string(stopped));
    s_print_line(line);
    hone_experiment_destroy(&exp);
    return 0;

fail:
    json_decref(best);
    json_decref(values);
    json_decref(gen_ms);
    hone_experiment_destroy(&exp);
    return 1;
}

static int s_serve(const s_bench_t *b)
{
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&buf, &cap, stdin)) > 0) {
        json_error_t jerr;
        json_t *params = json_loadb(buf, (size_t) len, 0, &jerr);
        double x[S_MAX_DIM];
        if (!json_is_object(params) || s_point_from_json(b, params, x) != 0) {
            fprintf(stderr, "hone-bench-quality: --serve: not a parameterization of %s: %s", b->problem->name,
                    buf);
            json_decref(params);
            free(buf);
            return 1;
        }
        json_decref(params);
        double violation = s_violation(b, x);
        s_print_line(json_pack("{s:f, s:b, s:f}", "value", b->fn->fn(x, b->problem->dim), "feasible",
                               violation <= 0.0, "violation", violation));
    }
    free(buf);
    return 0;
}

static int s_usage(FILE *out, int code)
{
    fprintf(out,
            "usage: hone-bench-quality --problem P --method fast|random_search --seed S [--budget N]\n"
            "       hone-bench-quality --describe P | --serve P | --list\n"
            "       hone-bench-quality --config P [--method M] [--seed S] [--budget N]\n");
    return code;
}

static int s_parse_u64(const char *text, const char *what, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-') {
        fprintf(stderr, "hone-bench-quality: %s must be a non-negative integer, got '%s'\n", what, text);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    const char *problem = NULL, *method = "fast", *mode = "run";
    uint64_t seed = 0, budget = 0;
    bool have_seed = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (streq(a, "--help"))
            return s_usage(stdout, 0);
        if (streq(a, "--list")) {
            for (size_t k = 0; k < HONE_ARRAY_LEN(s_problems); k++)
                puts(s_problems[k].name);
            bench_goals_list();
            return 0;
        }
        if (!has_value) {
            fprintf(stderr, "hone-bench-quality: '%s' needs a value or is unknown\n", a);
            return s_usage(stderr, 2);
        }
        const char *v = argv[++i];
        if (streq(a, "--problem")) {
            problem = v;
        } else if (streq(a, "--describe") || streq(a, "--config") || streq(a, "--serve")) {
            problem = v;
            mode = a + 2;
        } else if (streq(a, "--method")) {
            method = v;
        } else if (streq(a, "--seed")) {
            if (s_parse_u64(v, "--seed", &seed) != 0)
                return 2;
            have_seed = true;
        } else if (streq(a, "--budget")) {
            if (s_parse_u64(v, "--budget", &budget) != 0 || budget > UINT32_MAX)
                return 2;
        } else {
            fprintf(stderr, "hone-bench-quality: unknown option '%s'\n", a);
            return s_usage(stderr, 2);
        }
    }
    if (!problem)
        return s_usage(stderr, 2);
    if (bench_goals_has(problem))
        return bench_goals_main(mode, problem, method, have_seed, seed, (uint32_t) budget);
    s_bench_t b;
    if (s_setup(&b, problem) != 0)
        return 2;
    if (budget == 0)
        budget = b.problem->budget;
    if (streq(mode, "describe")) {
        s_print_line(s_describe(&b));
        return 0;
    }
    if (streq(mode, "serve"))
        return s_serve(&b);
    if (streq(mode, "config")) {
        char *config = s_config(&b, method, seed, (uint32_t) budget, true);
        puts(config);
        free(config);
        return 0;
    }
    if (!have_seed) {
        fprintf(stderr, "hone-bench-quality: --seed is required for a run\n");
        return 2;
    }
    return s_run(&b, method, seed, (uint32_t) budget);
}
