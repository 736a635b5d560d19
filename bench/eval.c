/* hone-eval: evaluates a benchmark problem at one point and prints the reading as one
 * JSON line, in the format hone-worker reads:
 *
 *   hone-eval [--metric NAME] [--delay-ms MS] PROBLEM X1 X2 ...
 *   {"hartmann6": -1.2345}
 *
 * --delay-ms sleeps before answering, to stand in for an expensive evaluation. For
 * "training" the optimizer may be given by name (adam, sgd, rmsprop) or index; a point
 * outside the constraint of a constrained problem fails (exit 3, reason on stderr).
 *
 * The learning-curve family (functions.h, "curve"; the early-stopping benchmark):
 *
 *   hone-eval [--metric NAME] [--epoch-ms MS] [--seed S] curve X1 X2 ...
 *       trains: one reading a line, {"loss": V, "step": P} for P = 1 .. H, MS apart;
 *       the noise is drawn from S and $HONE_TRIAL together, so that each trial of each
 *       run (S) has its own;
 *   hone-eval --final curve X1 X2 ...
 *       prints the noise-free final value, {"final": V}, at once (for scoring).
 *
 * The several-goals problems (functions.h; the multi-objective benchmark, moo.py) print
 * every metric in one reading, objectives first (--metric does not apply):
 *
 *   hone-eval [--delay-ms MS] branincurrin X1 X2        {"branin": V, "currin": V}
 *   hone-eval [--delay-ms MS] dtlz2 X1 .. X6            {"f1": V, "f2": V, "f3": V}
 *   hone-eval [--delay-ms MS] branin_disc X1 X2         {"branin": V, "disc": C}
 *   hone-eval --serve PROBLEM
 *       one process for many points: reads one point a line on stdin, a JSON array of
 *       coordinates ([0.1, 0.9]) or an object of them ({"x1": 0.1, "x2": 0.9}), and
 *       answers each with its reading line, or {"error": REASON} for a point it cannot
 *       evaluate (it goes on with the next line).
 * A point outside the problem's box is refused (exit 2). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "functions.h"

static int s_usage(FILE *out, int code)
{
    fprintf(out, "usage: hone-eval [--metric NAME] [--delay-ms MS] PROBLEM X1 X2 ...\n"
                 "       hone-eval [--metric NAME] [--epoch-ms MS] [--seed S] curve X1 X2 ...\n"
                 "       hone-eval --final curve X1 X2 ...\n"
                 "       hone-eval --serve branincurrin|dtlz2|branin_disc   (points on stdin)\n"
                 "problems: branin (2), hartmann6 (6), ackley (any d), rosenbrock (any d),\n"
                 "          training (4: learning_rate layers dropout optimizer), branin_constrained (2),\n"
                 "          curve (any d: a learning curve, one reading per epoch),\n"
                 "          several goals: branincurrin (2), dtlz2 (6), branin_disc (2)\n");
    return code;
}

static void s_sleep_ms(long ms)
{
    if (ms > 0) {
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
}

/* Prints one JSON object line {name: value} or {name: value, "step": step}. */
static void s_print_reading(const char *name, double value, bool has_step, long long step)
{
    json_t *reading = json_pack("{s:f}", name, value);
    if (has_step)
        json_object_set_new(reading, "step", json_integer(step));
    char *line = json_dumps(reading, JSON_COMPACT | JSON_REAL_PRECISION(17));
    puts(line);
    fflush(stdout);             /* each epoch's reading leaves at once, as a trainer's would */
    free(line);
    json_decref(reading);
}

/* The "curve" problem: a training run of HONE_BENCH_CURVE_HORIZON epochs, or, with
 * final, the value it would end at. The default SIGTERM action ends it, as an early stop
 * should. */
static int s_curve(const double *x, size_t d, const char *metric, long epoch_ms, uint64_t seed, bool final)
{
    if (final) {
        s_print_reading("final", hone_bench_curve_final(x, d), false, 0);
        return 0;
    }
    for (int64_t p = 1; p <= HONE_BENCH_CURVE_HORIZON; p++) {
        s_sleep_ms(epoch_ms);
        s_print_reading(metric ? metric : "loss", hone_bench_curve(x, d, p, seed), true, (long long) p);
    }
    return 0;
}

/* The reading of a several-goals problem at x, or NULL with the reason in why. */
static json_t *s_moo_reading(const hone_bench_moo_t *p, const double *x, char *why, size_t why_len)
{
    for (size_t k = 0; k < p->dim; k++)
        if (!(x[k] >= p->lower[k] && x[k] <= p->upper[k])) {
            snprintf(why, why_len, "%s: x%zu = %.17g is outside [%g, %g]", p->name, k + 1, x[k], p->lower[k],
                     p->upper[k]);
            return NULL;
        }
    double out[HONE_BENCH_MOO_MAX_METRICS];
    p->fn(x, p->dim, out);
    json_t *reading = json_object();
    for (size_t j = 0; j < p->n_metrics; j++) {
        if (!isfinite(out[j])) {
            snprintf(why, why_len, "%s: %s is not defined at this point", p->name, p->metrics[j]);
            json_decref(reading);
            return NULL;
        }
        json_object_set_new(reading, p->metrics[j], json_real(out[j]));
    }
    return reading;
}

static void s_print_json(json_t *value)
{
    char *line = json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    puts(line);
    free(line);
}

/* A point of p from a --serve line: an array of p->dim numbers or {"x1": .., ...}. */
static int s_moo_point(const hone_bench_moo_t *p, const json_t *in, double *x, char *why, size_t why_len)
{
    for (size_t k = 0; k < p->dim; k++) {
        char key[32];
        snprintf(key, sizeof key, "x%zu", k + 1);
        const json_t *v = json_is_array(in) ? json_array_get(in, k) : json_object_get(in, key);
        if (!json_is_number(v)) {
            snprintf(why, why_len, "%s takes %zu coordinates: an array of numbers or {\"x1\": .., ...}",
                     p->name, p->dim);
            return -1;
        }
        x[k] = json_number_value(v);
    }
    if (json_is_array(in) && json_array_size(in) != p->dim) {
        snprintf(why, why_len, "%s takes %zu coordinates, got %zu", p->name, p->dim, json_array_size(in));
        return -1;
    }
    return 0;
}

static int s_moo_serve(const hone_bench_moo_t *p, long delay_ms)
{
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&buf, &cap, stdin)) > 0) {
        char why[256] = "";
        double x[HONE_BENCH_MOO_MAX_DIM];
        json_error_t jerr;
        json_t *in = json_loadb(buf, (size_t) len, 0, &jerr);
        json_t *reading = NULL;
        if (!in)
            snprintf(why, sizeof why, "not JSON: %s", jerr.text);
        else if (s_moo_point(p, in, x, why, sizeof why) == 0) {
            s_sleep_ms(delay_ms);
            reading = s_moo_reading(p, x, why, sizeof why);
        }
        json_decref(in);
        if (!reading)
            reading = json_pack("{s:s}", "error", why);
        s_print_json(reading);
        json_decref(reading);
        fflush(stdout);
    }
    free(buf);
    return 0;
}

static int s_moo_once(const hone_bench_moo_t *p, char **args, size_t d, long delay_ms)
{
    double x[HONE_BENCH_MOO_MAX_DIM];
    char why[256];
    if (d != p->dim) {
        fprintf(stderr, "hone-eval: %s takes %zu coordinates, got %zu\n", p->name, p->dim, d);
        return 2;
    }
    for (size_t k = 0; k < d; k++) {
        char *end = NULL;
        errno = 0;
        x[k] = strtod(args[k], &end);
        if (errno || end == args[k] || *end) {
            fprintf(stderr, "hone-eval: coordinate %zu is not a number: '%s'\n", k + 1, args[k]);
            return 2;
        }
    }
    s_sleep_ms(delay_ms);
    json_t *reading = s_moo_reading(p, x, why, sizeof why);
    if (!reading) {
        fprintf(stderr, "hone-eval: %s\n", why);
        return 2;
    }
    s_print_json(reading);
    json_decref(reading);
    return 0;
}

int main(int argc, char **argv)
{
    const char *metric = NULL;
    long delay_ms = 0, epoch_ms = 0;
    bool final = false, serve = false;
    const char *trial = getenv("HONE_TRIAL");
    uint64_t seed = 0;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--help") == 0)
            return s_usage(stdout, 0);
        if (strcmp(argv[i], "--metric") == 0 && i + 1 < argc)
            metric = argv[++i];
        else if (strcmp(argv[i], "--delay-ms") == 0 && i + 1 < argc)
            delay_ms = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--epoch-ms") == 0 && i + 1 < argc)
            epoch_ms = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--final") == 0)
            final = true;
        else if (strcmp(argv[i], "--serve") == 0)
            serve = true;
        else {
            fprintf(stderr, "hone-eval: unknown option '%s'\n", argv[i]);
            return s_usage(stderr, 2);
        }
    }
    if (i >= argc)
        return s_usage(stderr, 2);
    const hone_bench_moo_t *moo = hone_bench_moo_find(argv[i]);
    if (moo && serve) {
        if (i + 1 != argc) {
            fprintf(stderr, "hone-eval: --serve %s reads its points from stdin\n", moo->name);
            return 2;
        }
        return s_moo_serve(moo, delay_ms);
    }
    if (serve) {
        fprintf(stderr, "hone-eval: --serve: only branincurrin, dtlz2 and branin_disc (got '%s')\n", argv[i]);
        return 2;
    }
    if (moo)
        return s_moo_once(moo, argv + i + 1, (size_t) (argc - i - 1), delay_ms);
    if (strcmp(argv[i], "curve") == 0) {
        size_t d = (size_t) (argc - i - 1);
        double x[16];
        if (d == 0 || d > 16) {
            fprintf(stderr, "hone-eval: curve takes 1 to 16 coordinates, got %zu\n", d);
            return 2;
        }
        for (size_t k = 0; k < d; k++) {
            char *end = NULL;
            errno = 0;
            x[k] = strtod(argv[i + 1 + k], &end);
            if (errno || end == argv[i + 1 + k] || *end || !(x[k] >= 0.0 && x[k] <= 1.0)) {
                fprintf(stderr, "hone-eval: coordinate %zu must be a number in [0, 1]: '%s'\n", k + 1,
                        argv[i + 1 + k]);
                return 2;
            }
        }
        uint64_t noise_seed = seed * 1000003u + (trial ? strtoull(trial, NULL, 10) : 0);
        return s_curve(x, d, metric, epoch_ms, noise_seed, final);
    }
    const hone_bench_problem_t *problem = hone_bench_find(argv[i]);
    if (!problem) {
        fprintf(stderr, "hone-eval: unknown problem '%s'\n", argv[i]);
        return 2;
    }
    size_t d = (size_t) (argc - i - 1);
    if (d == 0 || (problem->dim && d != problem->dim)) {
        fprintf(stderr, "hone-eval: %s takes %zu coordinates, got %zu\n", problem->name, problem->dim, d);
        return 2;
    }
    double *x = calloc(d, sizeof *x);
    for (size_t k = 0; k < d; k++) {
        char *end = NULL;
        errno = 0;
        x[k] = strtod(argv[i + 1 + k], &end);
        if (problem->fn == hone_bench_training && k == 3 && hone_bench_training_optimizer(argv[i + 1 + k]) >= 0)
            x[k] = hone_bench_training_optimizer(argv[i + 1 + k]);
        else if (errno || end == argv[i + 1 + k] || *end) {
            fprintf(stderr, "hone-eval: coordinate %zu is not a number: '%s'\n", k + 1, argv[i + 1 + k]);
            free(x);
            return 2;
        }
    }
    if (problem->violation && problem->violation(x, d) > 0.0) {
        fprintf(stderr, "hone-eval: %s: the point violates %s\n", problem->name, problem->constraint);
        free(x);
        return 3;
    }
    s_sleep_ms(delay_ms);
    double y = problem->fn(x, d);
    if (!isfinite(y)) {
        fprintf(stderr, "hone-eval: %s is not defined at this point\n", problem->name);
        free(x);
        return 3;
    }
    s_print_reading(metric ? metric : problem->name, y, false, 0);
    free(x);
    return 0;
}
