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
 *       prints the noise-free final value, {"final": V}, at once (for scoring). */
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
                 "problems: branin (2), hartmann6 (6), ackley (any d), rosenbrock (any d),\n"
                 "          training (4: learning_rate layers dropout optimizer), branin_constrained (2),\n"
                 "          curve (any d: a learning curve, one reading per epoch)\n");
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

int main(int argc, char **argv)
{
    const char *metric = NULL;
    long delay_ms = 0, epoch_ms = 0;
    bool final = false;
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
        else {
            fprintf(stderr, "hone-eval: unknown option '%s'\n", argv[i]);
            return s_usage(stderr, 2);
        }
    }
    if (i >= argc)
        return s_usage(stderr, 2);
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
