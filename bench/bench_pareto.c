/* bench_pareto.c: hone-bench-pareto, timings of core/pareto.h for m = 2, 3, 4 and
 * n = 20 .. 200 points: the Pareto filter, the hypervolume, the exclusive
 * contributions, the box decomposition (and its number of cells) and one hypervolume
 * improvement from the cells. Two kinds of sets: "front", every point non-dominated
 * (uniform on the positive unit sphere: the worst case for the sweeps), and "mixed",
 * uniform in the unit cube (a small front). Medians of repeated runs; prints a
 * markdown table in microseconds (HVI in nanoseconds).
 *
 * Usage: hone-bench-pareto [max_n]   (default 200) */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime: sub-microsecond timings */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pareto.h"
#include "rng.h"

#define S_REPS 15

static double s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

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

static double s_normal(hone_rng_t *rng)
{
    double u1 = 1.0 - hone_rng_uniform(rng), u2 = hone_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void s_points(hone_rng_t *rng, double *y, size_t n, size_t m, bool front)
{
    for (size_t i = 0; i < n; i++) {
        double *p = y + i * m, norm = 0.0;
        for (size_t j = 0; j < m; j++) {
            p[j] = front ? fabs(s_normal(rng)) + 1e-3 : hone_rng_uniform(rng);
            norm += p[j] * p[j];
        }
        for (size_t j = 0; front && j < m; j++)
            p[j] /= sqrt(norm);
    }
}

int main(int argc, char **argv)
{
    size_t max_n = argc > 1 ? (size_t) atol(argv[1]) : 200;
    size_t sizes[] = {20, 50, 100, 200, 500};
    hone_rng_t rng;
    hone_rng_seed(&rng, 2024);
    double ref[4] = {0, 0, 0, 0};
    printf("| set | m | n | front k | filter µs | HV µs | contrib µs | cells µs | ncell | HVI ns |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    for (int kind = 0; kind < 2; kind++) {
        for (size_t m = 2; m <= 4; m++) {
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                size_t n = sizes[s];
                if (n > max_n)
                    continue;
                double *y = malloc(n * m * sizeof *y), *c = malloc(n * sizeof *c);
                size_t *idx = malloc(n * sizeof *idx);
                double t_f[S_REPS], t_hv[S_REPS], t_c[S_REPS], t_d[S_REPS], t_i[S_REPS];
                size_t k = 0, ncell = 0;
                hone_cells_t *cells = hone_cells_new(m);
                volatile double sink = 0.0;
                int reps = m == 4 && n >= 200 ? 5 : S_REPS;
                for (int r = 0; r < reps; r++) {
                    s_points(&rng, y, n, m, kind == 0);
                    double t0 = s_now_us();
                    k = hone_pareto_front(y, n, m, NULL, false, idx);
                    double t1 = s_now_us();
                    sink += hone_pareto_hypervolume(y, n, m, ref);
                    double t2 = s_now_us();
                    hone_pareto_contributions(y, n, m, ref, c);
                    double t3 = s_now_us();
                    hone_cells_decompose(cells, y, n, ref);
                    double t4 = s_now_us();
                    ncell = cells->ncell;
                    double z[4];
                    const int evals = 2000;
                    for (int e = 0; e < evals; e++) {
                        for (size_t j = 0; j < m; j++)
                            z[j] = 0.3 + 0.8 * hone_rng_uniform(&rng);
                        sink += hone_cells_hvi(cells, z, NULL);
                    }
                    double t5 = s_now_us();
                    t_f[r] = t1 - t0;
                    t_hv[r] = t2 - t1;
                    t_c[r] = t3 - t2;
                    t_d[r] = t4 - t3;
                    t_i[r] = (t5 - t4) * 1e3 / evals;
                }
                (void) sink;
                printf("| %s | %zu | %zu | %zu | %.1f | %.1f | %.1f | %.1f | %zu | %.0f |\n",
                       kind == 0 ? "front" : "mixed", m, n, k, s_median(t_f, reps),
                       s_median(t_hv, reps), s_median(t_c, reps), s_median(t_d, reps), ncell,
                       s_median(t_i, reps));
                fflush(stdout);
                hone_cells_destroy(&cells);
                free(y);
                free(c);
                free(idx);
            }
        }
    }
    return 0;
}
