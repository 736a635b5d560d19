/* c_worker.c: a worker written against the C SDK (libhone), for newcomers to copy.
 *
 *   hone create examples/branin.json
 *   build/examples/c_worker [ENDPOINT]
 *
 * Asks for Branin trials until the budget is spent, evaluates them, reports a learning
 * curve of three readings, then completes each trial with its final value. */
#include <math.h>
#include <stdio.h>

#include "hone.h"

static double branin(double x1, double x2)
{
    const double b = 5.1 / (4.0 * M_PI * M_PI), c = 5.0 / M_PI, t = 1.0 / (8.0 * M_PI);
    double u = x2 - b * x1 * x1 + c * x1 - 6.0;
    return u * u + 10.0 * (1.0 - t) * cos(x1) + 10.0;
}

int main(int argc, char **argv)
{
    const char *endpoint = argc > 1 ? argv[1] : NULL;   /* NULL: tcp://127.0.0.1:5555 */
    hone_worker_t *worker = NULL;
    int rc = hone_worker_open(&worker, endpoint, "branin", NULL, NULL);
    if (rc != HONE_OK) {
        fprintf(stderr, "c_worker: %s\n", hone_strerror(rc));
        return 1;
    }
    const char *metric[] = { "branin" };
    for (;;) {
        hone_trial_t *trial = NULL;
        rc = hone_worker_next(worker, &trial, -1);      /* wait for work as long as needed */
        if (rc == HONE_EDONE || rc == HONE_EEXHAUSTED)
            break;
        if (rc != HONE_OK) {
            fprintf(stderr, "c_worker: %s\n", hone_worker_last_error(worker));
            hone_worker_destroy(&worker);
            return 1;
        }
        uint64_t index = hone_trial_index(trial);
        double x1 = NAN, x2 = NAN;
        size_t i;
        if (hone_trial_param_find(trial, "x1", &i) == HONE_OK)
            hone_trial_param_double(trial, i, &x1);
        if (hone_trial_param_find(trial, "x2", &i) == HONE_OK)
            hone_trial_param_double(trial, i, &x2);
        hone_trial_destroy(&trial);

        double value = branin(x1, x2);
        /* A learning curve: the reading approaches the value as the "epochs" go by. With an
         * early_stopping block in the experiment, the broker may stop a hopeless trial: the
         * report still returns HONE_OK and hone_worker_stop_requested() says so. */
        for (int64_t step = 1; step <= 3; step++) {
            double reading = value + 10.0 / (double) step;
            rc = hone_worker_report(worker, index, 1, metric, &reading, NULL, true, step);
            if (rc != HONE_OK || hone_worker_stop_requested(worker))
                break;   /* stopped early, abandoned or lost meanwhile: stop evaluating */
        }
        /* Completing a trial stopped early acknowledges the stop (it stays EARLY_STOPPED). */
        bool stopped = hone_worker_stop_requested(worker);
        rc = hone_worker_complete(worker, index, 1, metric, &value, NULL);
        printf("trial %llu: branin(%.4f, %.4f) = %.4f%s\n", (unsigned long long) index, x1, x2, value,
               rc != HONE_OK ? " (not accepted)" : stopped ? " (stopped early)" : "");
    }
    hone_worker_destroy(&worker);
    return 0;
}
