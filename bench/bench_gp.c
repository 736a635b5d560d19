/* bench_gp.c: hone-bench-gp, timings of the GP model (core/gp.h) for d = 6 and 20 and
 * n = 20 .. 1000: one fit from the prior (cold) and from the previous MAP (warm), one
 * evaluation of the log posterior with its gradient, and predicting 1024 points
 * (mean + variance, one batch). Medians of a few runs; prints a markdown table.
 *
 * Usage: hone-bench-gp [max_n]   (default 1000) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "gp.h"
#include "gp_internal.h"
#include "rng.h"

#define S_PREDICT_M 1024

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static double s_median(double *v, int count)
{
    qsort(v, (size_t) count, sizeof *v, s_cmp);
    return count % 2 ? v[count / 2] : 0.5 * (v[count / 2 - 1] + v[count / 2]);
}

static double s_ms_since(int64_t t0_us)
{
    return (double) (hone_clock_mono_us() - t0_us) / 1000.0;
}

static double s_normal(hone_rng_t *rng)
{
    double u1 = 1.0 - hone_rng_uniform(rng), u2 = hone_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* A smooth test function plus noise, standardized. */
static void s_data(size_t n, size_t d, uint64_t seed, double *x, double *y)
{
    hone_rng_t rng;
    hone_rng_seed(&rng, seed);
    for (size_t i = 0; i < n * d; i++)
        x[i] = hone_rng_uniform(&rng);
    double mean = 0.0, var = 0.0;
    for (size_t i = 0; i < n; i++) {
        double f = 0.0;
        for (size_t a = 0; a < d; a++)
            f += sin(3.0 * x[i * d + a] + (double) a) / (1.0 + (double) a);
        y[i] = f + 0.05 * s_normal(&rng);
        mean += y[i];
    }
    mean /= (double) n;
    for (size_t i = 0; i < n; i++)
        var += (y[i] - mean) * (y[i] - mean);
    double sd = sqrt(var / (double) (n - 1));
    for (size_t i = 0; i < n; i++)
        y[i] = (y[i] - mean) / sd;
}

static void s_bench(size_t d, size_t n, int runs)
{
    double *x = malloc(n * d * sizeof *x), *y = malloc(n * sizeof *y);
    double *xq = malloc(S_PREDICT_M * d * sizeof *xq);
    double *mean = malloc(S_PREDICT_M * sizeof *mean), *var = malloc(S_PREDICT_M * sizeof *var);
    double t_cold[16], t_warm[16], t_eval[64], t_pred[16], t_pgrad[16];
    if (!x || !y || !xq || !mean || !var) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    s_data(n, d, 1000 + n + d, x, y);
    hone_rng_t rng;
    hone_rng_seed(&rng, 5);
    for (size_t i = 0; i < S_PREDICT_M * d; i++)
        xq[i] = hone_rng_uniform(&rng);

    hone_gp_t *gp = NULL;
    int fit_rc = HONE_OK;
    uint64_t evals_cold = 0, evals_warm = 0;
    for (int r = 0; r < runs; r++) {
        hone_gp_destroy(&gp);
        gp = hone_gp_new(d, HONE_KERNEL_RBF);
        hone_gp_set_data(gp, n - 1, x, y, NULL);
        int64_t t0 = hone_clock_mono_us();
        fit_rc |= hone_gp_fit(gp, NULL, &rng);
        t_cold[r] = s_ms_since(t0);
        evals_cold = hone_gp_eval_count(gp);
    }
    /* Warm: the next step of a BO loop, one more point and the previous MAP. */
    hone_gp_set_data(gp, n, x, y, NULL);
    double phi0[22];
    hone_gp_get_phi(gp, phi0);
    for (int r = 0; r < runs; r++) {
        hone_gp_set_phi(gp, phi0);
        uint64_t e0 = hone_gp_eval_count(gp);
        int64_t t0 = hone_clock_mono_us();
        fit_rc |= hone_gp_fit(gp, NULL, &rng);
        t_warm[r] = s_ms_since(t0);
        evals_warm = hone_gp_eval_count(gp) - e0;
    }
    double ls[20], noise, c;
    hone_gp_get_params(gp, ls, &noise, &c);

    double phi[22], grad[22], value;
    for (size_t a = 0; a < d; a++)
        phi[a] = log(ls[a]);
    phi[d] = log(noise);
    phi[d + 1] = c;
    hone_gp_log_posterior(gp, phi, &value, grad);   /* allocates the workspace */
    int n_eval = runs * 3;
    for (int r = 0; r < n_eval; r++) {
        int64_t t0 = hone_clock_mono_us();
        hone_gp_log_posterior(gp, phi, &value, grad);
        t_eval[r] = s_ms_since(t0);
    }
    hone_gp_refresh(gp);

    hone_gp_work_t *work = hone_gp_work_new(gp, S_PREDICT_M);
    for (int r = 0; r < runs; r++) {
        int64_t t0 = hone_clock_mono_us();
        hone_gp_predict(gp, S_PREDICT_M, xq, mean, var, work);
        t_pred[r] = s_ms_since(t0);
    }
    double dm[20], dv[20], m1, v1;
    for (int r = 0; r < runs; r++) {
        int64_t t0 = hone_clock_mono_us();
        for (int j = 0; j < 100; j++)
            hone_gp_predict_grad(gp, xq + (size_t) j * d, &m1, &v1, dm, dv, work);
        t_pgrad[r] = s_ms_since(t0) * 10.0;   /* µs per call */
    }
    double cold = s_median(t_cold, runs), warm = s_median(t_warm, runs);
    double ev = s_median(t_eval, n_eval);
    printf("| %2zu | %4zu | %9.2f (%3u) | %9.2f (%3u) | %8.3f | %11.2f | %9.1f | %.3g%s |\n",
           d, n, cold, (unsigned) evals_cold, warm, (unsigned) evals_warm, ev,
           s_median(t_pred, runs), s_median(t_pgrad, runs), ls[0],
           fit_rc == HONE_OK ? "" : " (fit failed)");
    fflush(stdout);
    hone_gp_work_destroy(&work);
    hone_gp_destroy(&gp);
    free(x);
    free(y);
    free(xq);
    free(mean);
    free(var);
}

int main(int argc, char **argv)
{
    size_t max_n = argc > 1 ? (size_t) strtoul(argv[1], NULL, 10) : 1000;
    const size_t dims[] = { 6, 20 };
    const size_t sizes[] = { 20, 50, 100, 200, 500, 1000 };
    printf("| d | n | fit cold, ms (evals) | fit warm, ms (evals) | lp+grad (ms) | "
           "predict 1024 (ms) | predict_grad (µs) | ℓ_1 |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        for (size_t j = 0; j < sizeof sizes / sizeof sizes[0]; j++) {
            if (sizes[j] > max_n)
                continue;
            int runs = sizes[j] >= 1000 ? 3 : sizes[j] >= 500 ? 3 : 7;
            s_bench(dims[i], sizes[j], runs);
        }
    return 0;
}
