/* hone-eval: evaluates a benchmark problem at one point and prints the reading as one
 * JSON line, in the format hone-worker reads:
 *
 *   hone-eval [--metric NAME] [--delay-ms MS] PROBLEM X1 X2 ...
 *   {"hartmann6": -1.2345}
 *
 * --delay-ms sleeps before answering, to stand in for an expensive evaluation. For
 * "training" the optimizer may be given by name (adam, sgd, rmsprop) or index; a point
 * outside the constraint of a constrained problem fails (exit 3, reason on stderr). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "functions.h"

static int s_usage(FILE *out, int code)
{
    fprintf(out, "usage: hone-eval [--metric NAME] [--delay-ms MS] PROBLEM X1 X2 ...\n"
                 "problems: branin (2), hartmann6 (6), ackley (any d), rosenbrock (any d),\n"
                 "          training (4: learning_rate layers dropout optimizer), branin_constrained (2)\n");
    return code;
}

int main(int argc, char **argv)
{
    const char *metric = NULL;
    long delay_ms = 0;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--help") == 0)
            return s_usage(stdout, 0);
        if (strcmp(argv[i], "--metric") == 0 && i + 1 < argc)
            metric = argv[++i];
        else if (strcmp(argv[i], "--delay-ms") == 0 && i + 1 < argc)
            delay_ms = strtol(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "hone-eval: unknown option '%s'\n", argv[i]);
            return s_usage(stderr, 2);
        }
    }
    if (i >= argc)
        return s_usage(stderr, 2);
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
    if (delay_ms > 0) {
        struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    double y = problem->fn(x, d);
    if (!isfinite(y)) {
        fprintf(stderr, "hone-eval: %s is not defined at this point\n", problem->name);
        free(x);
        return 3;
    }
    json_t *reading = json_pack("{s:f}", metric ? metric : problem->name, y);
    char *line = json_dumps(reading, JSON_COMPACT | JSON_REAL_PRECISION(17));
    puts(line);
    free(line);
    json_decref(reading);
    free(x);
    return 0;
}
