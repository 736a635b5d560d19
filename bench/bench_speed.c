/* hone-bench-speed: milliseconds per BO candidate (GP fit + acquisition optimization)
 * against the number of observations, and the process's peak memory.
 *
 *   hone-bench-speed [--d D] [--n N] [--steps S] [--seed SEED] [--acquisition auto|qlognei|logei]
 *
 * Builds N completed trials at scrambled-Sobol points of [0,1]^D with a smooth synthetic
 * objective (a sum of two Hartmann-like bumps plus a slope, deterministic), then times S
 * sequential BO steps: each suggests a candidate, which is evaluated and added before the
 * next step (the model is warm-started, as in a running experiment). Prints one JSON line:
 *   {"d": D, "n": N, "steps": S, "ms": [...], "median_ms": M, "fit_ms": F, "acq_ms": A,
 *    "fit_ms_steps": [...], "paths": ["refit", "append", ...], "update_ms": U,
 *    "peak_rss_mib": R}
 * fit_ms and acq_ms are means over the steps; fit_ms_steps and paths give each step's
 * model update and how it was done (bo.h, hone_bo_path_t); update_ms is the median model
 * update of the steps after the first (between refits beyond n = 300: the appends).
 * Run one (d, n) per process so that peak_rss_mib belongs to that size alone. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "alloc.h"
#include "bo.h"
#include "clock.h"
#include "sobol.h"
#include "space.h"

static double s_objective(const double *x, size_t d)
{
    double a = 0, b = 0, slope = 0;
    for (size_t i = 0; i < d; i++) {
        double ca = x[i] - 0.3 - 0.02 * (double) i, cb = x[i] - 0.7;
        a += ca * ca;
        b += cb * cb;
        slope += 0.1 * x[i];
    }
    return -(exp(-4.0 * a) + 0.6 * exp(-6.0 * b)) + slope / (double) d;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    hone_bo_acquisition_t acquisition = HONE_BO_AUTO;
    size_t d = 6, n = 50, steps = 5;
    uint64_t seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--d"))
            d = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--n"))
            n = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--steps"))
            steps = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--acquisition") && !strcmp(argv[i + 1], "qlognei"))
            acquisition = HONE_BO_QLOGNEI;
        else if (!strcmp(argv[i], "--acquisition") && !strcmp(argv[i + 1], "logei"))
            acquisition = HONE_BO_LOGEI;
        else if (!strcmp(argv[i], "--acquisition") && !strcmp(argv[i + 1], "auto"))
            acquisition = HONE_BO_AUTO;
        else {
            fprintf(stderr, "usage: hone-bench-speed [--d D] [--n N] [--steps S] [--seed SEED] "
                    "[--acquisition auto|qlognei|logei]\n");
            return 2;
        }
    }
    if (d < 1 || n < 1 || steps < 1) {
        fprintf(stderr, "hone-bench-speed: d, n and steps must be positive\n");
        return 2;
    }
    hone_space_t *space = hone_space_new();
    for (size_t i = 0; i < d; i++) {
        char name[32];
        snprintf(name, sizeof name, "x%zu", i + 1);
        hone_error_t err;
        if (hone_space_add_range(space, name, HONE_TYPE_FLOAT, 0.0, 1.0, NULL, NAN, &err) != HONE_OK) {
            fprintf(stderr, "hone-bench-speed: %s\n", err.message);
            return 1;
        }
    }
    size_t total = n + steps;
    hone_trial_t *trials = hone_alloc_array(total, sizeof *trials);
    hone_reading_t *readings = hone_alloc_array(total, sizeof *readings);
    hone_value_t *values = hone_alloc_array(total * d, sizeof *values);
    double *u = hone_alloc_array(d, sizeof *u);
    hone_sobol_t *sobol = hone_sobol_new((uint32_t) d, true, seed);
    for (size_t t = 0; t < total; t++) {
        trials[t].index = (uint32_t) t;
        trials[t].params = &values[t * d];
        trials[t].readings = &readings[t];
    }
    for (size_t t = 0; t < n; t++) {
        hone_sobol_next(sobol, 1, u);
        hone_space_from_unit(space, u, trials[t].params);
        readings[t] = (hone_reading_t) { .metric = 0, .mean = s_objective(u, d), .sem = NAN };
        trials[t].status = HONE_TRIAL_COMPLETED;
        trials[t].n_readings = 1;
    }
    hone_bo_t *bo = hone_bo_new(space, HONE_KERNEL_MATERN52);
    hone_bo_set_acquisition(bo, acquisition);
    double *ms = hone_alloc_array(steps, sizeof *ms);
    double *fit_steps = hone_alloc_array(steps, sizeof *fit_steps);
    json_t *paths = json_array();
    static const char *const path_names[] = { "refit", "refresh", "append" };
    double fit_ms = 0, acq_ms = 0;
    for (size_t s = 0; s < steps; s++) {
        size_t have = n + s;
        hone_bo_input_t in = { .trials = trials, .n_trials = have, .metric = 0, .minimize = true, .seed = seed };
        hone_bo_stats_t stats;
        hone_error_t err;
        int64_t t0 = hone_clock_mono_us();
        int rc = hone_bo_suggest(bo, &in, trials[have].params, &stats, &err);
        ms[s] = (double) (hone_clock_mono_us() - t0) / 1000.0;
        if (rc != HONE_OK) {
            fprintf(stderr, "hone-bench-speed: step %zu: %s\n", s, err.message);
            return 1;
        }
        fit_ms += stats.fit_ms;
        acq_ms += stats.acq_ms;
        fit_steps[s] = stats.fit_ms;
        json_array_append_new(paths, json_string(path_names[stats.path]));
        for (size_t i = 0; i < d; i++)
            u[i] = trials[have].params[i].u.f;
        readings[have] = (hone_reading_t) { .metric = 0, .mean = s_objective(u, d), .sem = NAN };
        trials[have].status = HONE_TRIAL_COMPLETED;
        trials[have].n_readings = 1;
    }
    double *sorted = hone_alloc_array(steps, sizeof *sorted);
    memcpy(sorted, ms, steps * sizeof *ms);
    qsort(sorted, steps, sizeof *sorted, s_cmp);
    double median_ms = sorted[steps / 2];
    size_t later = steps > 1 ? steps - 1 : 1;
    memcpy(sorted, fit_steps + (steps - later), later * sizeof *sorted);
    qsort(sorted, later, sizeof *sorted, s_cmp);
    double update_ms = sorted[later / 2];
    json_t *fits = json_array();
    for (size_t s = 0; s < steps; s++)
        json_array_append_new(fits, json_real(round(fit_steps[s] * 1000.0) / 1000.0));
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    json_t *times = json_array();
    for (size_t s = 0; s < steps; s++)
        json_array_append_new(times, json_real(round(ms[s] * 1000.0) / 1000.0));
    json_t *line = json_pack("{s:I, s:I, s:I, s:o, s:f, s:f, s:f, s:o, s:o, s:f, s:f}", "d", (json_int_t) d, "n",
                             (json_int_t) n, "steps", (json_int_t) steps, "ms", times, "median_ms",
                             median_ms, "fit_ms", fit_ms / (double) steps, "acq_ms",
                             acq_ms / (double) steps, "fit_ms_steps", fits, "paths", paths, "update_ms",
                             update_ms, "peak_rss_mib", (double) ru.ru_maxrss / 1024.0);
    char *text = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(6));
    puts(text);
    free(text);
    json_decref(line);
    hone_bo_destroy(&bo);
    hone_sobol_destroy(&sobol);
    hone_space_destroy(&space);
    hone_free(trials);
    hone_free(readings);
    hone_free(values);
    hone_free(u);
    hone_free(ms);
    hone_free(fit_steps);
    hone_free(sorted);
    return 0;
}
